//! A thin layer over SQLite's own `unix` file system layer that writes each write-ahead-log
//! frame with one system call instead of two.
//!
//! SQLite writes a frame of the log as its 24-byte header and then, at the next offset, the
//! page: two `pwrite`s per page, 18 system calls per hold, most of a hold's time in the kernel
//! (BENCHMARKS.md). This layer keeps a 24-byte write to a log file back until the next call on
//! that file: when it is the write that continues it, header and page go out in one `pwrite`;
//! anything else (another write, a read, a sync, a lock, the shared-memory index) writes the
//! header first, so every other call sees the file exactly as SQLite wrote it. SQLite writes a
//! frame's header and page back to back and publishes frames (in the shared-memory index) only
//! after both, so nothing reads a frame whose header is held back; a crash between the two
//! loses the header with the frame, as a crash between SQLite's own two writes would. Files
//! other than logs, and the file format, are untouched: other programs open the database with
//! the plain `unix` layer.

use rusqlite::ffi;
use std::ffi::{c_int, c_void};
use std::sync::OnceLock;

/// The name connections open the database with.
pub const VFS_NAME: &str = "boxoffice";
const VFS_NAME_C: &std::ffi::CStr = c"boxoffice";

/// A log frame's header: SQLite's `WAL_FRAME_HDRSIZE`.
const FRAME_HEADER: usize = 24;

#[repr(C)]
struct ShimFile {
    /// What SQLite sees: `pMethods` points at [`METHODS`].
    base: ffi::sqlite3_file,
    /// The `unix` layer's file, in the same allocation right after this struct.
    real: *mut ffi::sqlite3_file,
    /// A log file (only those hold a header back).
    wal: bool,
    /// Where the held-back header goes, if one is held back.
    held_at: Option<i64>,
    /// The held-back header, then room for the page that follows it.
    buf: Vec<u8>,
}

/// The layer's description, owned by SQLite once registered (it links layers through `pNext`),
/// so Rust never reads it again: an `UnsafeCell`.
struct Vfs(std::cell::UnsafeCell<ffi::sqlite3_vfs>);
// SAFETY: written once, before it is registered; afterwards only SQLite touches it, under its
// own mutex.
unsafe impl Send for Vfs {}
unsafe impl Sync for Vfs {}

static VFS: OnceLock<Option<Box<Vfs>>> = OnceLock::new();
/// SQLite's `unix` layer, which does the work.
static BASE: OnceLock<usize> = OnceLock::new();
/// Frames written with one system call, since the process started.
static JOINED: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// How many log frames this process wrote with one system call instead of two.
pub fn frames_joined() -> u64 {
    JOINED.load(std::sync::atomic::Ordering::Relaxed)
}

/// Registers the layer once per process (not as the default); returns whether it is there.
/// Without the `unix` layer (not a Unix system) connections use SQLite's default.
pub fn register() -> bool {
    VFS.get_or_init(|| {
        // SAFETY: sqlite3_vfs_find only reads SQLite's list of registered layers.
        let base = unsafe { ffi::sqlite3_vfs_find(c"unix".as_ptr()) };
        if base.is_null() {
            return None;
        }
        let _ = BASE.set(base as usize);
        // SAFETY: `base` is SQLite's static `unix` layer; copying its fields (functions and
        // settings) is how a layer over it is built: only the name, the file size and xOpen
        // change.
        let mut vfs = unsafe { std::ptr::read(base) };
        vfs.pNext = std::ptr::null_mut();
        vfs.zName = VFS_NAME_C.as_ptr();
        vfs.szOsFile += std::mem::size_of::<ShimFile>() as c_int;
        vfs.xOpen = Some(shim_open);
        let vfs = Box::new(Vfs(std::cell::UnsafeCell::new(vfs)));
        // SAFETY: the box lives for the rest of the process (it is never dropped: it is kept
        // in a static), as SQLite requires of a registered layer.
        let rc = unsafe { ffi::sqlite3_vfs_register(vfs.0.get(), 0) };
        (rc == ffi::SQLITE_OK).then_some(vfs)
    })
    .is_some()
}

fn base() -> *mut ffi::sqlite3_vfs {
    *BASE.get().expect("registered before use") as *mut ffi::sqlite3_vfs
}

unsafe extern "C" fn shim_open(
    _vfs: *mut ffi::sqlite3_vfs,
    name: ffi::sqlite3_filename,
    file: *mut ffi::sqlite3_file,
    flags: c_int,
    out_flags: *mut c_int,
) -> c_int {
    let shim = file as *mut ShimFile;
    // SAFETY: SQLite gives `szOsFile` bytes at `file`: this struct, then the real file.
    unsafe {
        let real = (file as *mut u8).add(std::mem::size_of::<ShimFile>()) as *mut ffi::sqlite3_file;
        let base = base();
        // Set before the real open: if it fails, SQLite looks at pMethods to decide whether
        // to call xClose.
        (*shim).base.pMethods = std::ptr::null();
        let rc = ((*base).xOpen.expect("unix xOpen"))(base, name, real, flags, out_flags);
        if rc != ffi::SQLITE_OK && (*real).pMethods.is_null() {
            // Nothing to close.
            return rc;
        }
        // Opened (or failed with something to close: SQLite then calls xClose, which hands
        // it on to the real file).
        std::ptr::write(
            shim,
            ShimFile {
                base: ffi::sqlite3_file { pMethods: &METHODS },
                real,
                wal: flags & ffi::SQLITE_OPEN_WAL != 0,
                held_at: None,
                buf: Vec::new(),
            },
        );
        rc
    }
}

/// The real file and its methods.
unsafe fn real(
    f: *mut ffi::sqlite3_file,
) -> (*mut ffi::sqlite3_file, &'static ffi::sqlite3_io_methods) {
    // SAFETY: `f` is a file this layer opened (SQLite calls these methods on nothing else),
    // and the real file's methods are SQLite's static tables.
    unsafe {
        let real = (*(f as *mut ShimFile)).real;
        (real, &*(*real).pMethods)
    }
}

/// Writes a held-back header, if any. Called before every other operation on the file.
unsafe fn flush(f: *mut ffi::sqlite3_file) -> c_int {
    // SAFETY: see `real`.
    unsafe { flush_held(&mut *(f as *mut ShimFile)) }
}

unsafe fn flush_held(shim: &mut ShimFile) -> c_int {
    let Some(at) = shim.held_at.take() else {
        return ffi::SQLITE_OK;
    };
    // SAFETY: `real` is the open real file (see `real`).
    unsafe {
        let m = &*(*shim.real).pMethods;
        (m.xWrite.expect("xWrite"))(
            shim.real,
            shim.buf.as_ptr() as *const c_void,
            FRAME_HEADER as c_int,
            at,
        )
    }
}

// The methods below: SQLite calls them only on files this layer opened (see `real`), with
// the arguments its `sqlite3_io_methods` contract describes; each writes a held-back header
// first, then hands the call to the `unix` layer's file.

macro_rules! flushed {
    ($f:expr) => {{
        let rc = flush($f);
        if rc != ffi::SQLITE_OK {
            return rc;
        }
    }};
}

unsafe extern "C" fn shim_write(
    f: *mut ffi::sqlite3_file,
    data: *const c_void,
    amount: c_int,
    offset: ffi::sqlite3_int64,
) -> c_int {
    // SAFETY: see `real`; `data` holds `amount` bytes (SQLite's contract for xWrite).
    unsafe {
        let shim = &mut *(f as *mut ShimFile);
        let real = shim.real;
        let write = (*(*real).pMethods).xWrite.expect("xWrite");
        if shim.wal {
            if let Some(at) = shim.held_at
                && at + FRAME_HEADER as i64 == offset
            {
                // The page after the header: both in one write.
                JOINED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                shim.held_at = None;
                shim.buf.truncate(FRAME_HEADER);
                shim.buf.extend_from_slice(std::slice::from_raw_parts(
                    data as *const u8,
                    amount as usize,
                ));
                return write(
                    real,
                    shim.buf.as_ptr() as *const c_void,
                    shim.buf.len() as c_int,
                    at,
                );
            }
            let rc = flush_held(shim);
            if rc != ffi::SQLITE_OK {
                return rc;
            }
            if amount as usize == FRAME_HEADER {
                shim.buf.clear();
                shim.buf
                    .extend_from_slice(std::slice::from_raw_parts(data as *const u8, FRAME_HEADER));
                shim.held_at = Some(offset);
                return ffi::SQLITE_OK;
            }
        }
        write(real, data, amount, offset)
    }
}

unsafe extern "C" fn shim_close(f: *mut ffi::sqlite3_file) -> c_int {
    // SAFETY: see `real`; the struct was written in shim_open and is dropped once, here.
    unsafe {
        let flushed = flush(f);
        let (real, m) = real(f);
        let rc = (m.xClose.expect("xClose"))(real);
        std::ptr::drop_in_place(f as *mut ShimFile);
        if flushed != ffi::SQLITE_OK {
            flushed
        } else {
            rc
        }
    }
}

unsafe extern "C" fn shim_read(
    f: *mut ffi::sqlite3_file,
    data: *mut c_void,
    amount: c_int,
    offset: ffi::sqlite3_int64,
) -> c_int {
    unsafe {
        flushed!(f);
        let (real, m) = real(f);
        (m.xRead.expect("xRead"))(real, data, amount, offset)
    }
}

unsafe extern "C" fn shim_truncate(f: *mut ffi::sqlite3_file, size: ffi::sqlite3_int64) -> c_int {
    unsafe {
        flushed!(f);
        let (real, m) = real(f);
        (m.xTruncate.expect("xTruncate"))(real, size)
    }
}

unsafe extern "C" fn shim_sync(f: *mut ffi::sqlite3_file, flags: c_int) -> c_int {
    unsafe {
        flushed!(f);
        let (real, m) = real(f);
        (m.xSync.expect("xSync"))(real, flags)
    }
}

unsafe extern "C" fn shim_file_size(
    f: *mut ffi::sqlite3_file,
    size: *mut ffi::sqlite3_int64,
) -> c_int {
    unsafe {
        flushed!(f);
        let (real, m) = real(f);
        (m.xFileSize.expect("xFileSize"))(real, size)
    }
}

unsafe extern "C" fn shim_lock(f: *mut ffi::sqlite3_file, level: c_int) -> c_int {
    unsafe {
        flushed!(f);
        let (real, m) = real(f);
        (m.xLock.expect("xLock"))(real, level)
    }
}

unsafe extern "C" fn shim_unlock(f: *mut ffi::sqlite3_file, level: c_int) -> c_int {
    unsafe {
        flushed!(f);
        let (real, m) = real(f);
        (m.xUnlock.expect("xUnlock"))(real, level)
    }
}

unsafe extern "C" fn shim_check_reserved(f: *mut ffi::sqlite3_file, out: *mut c_int) -> c_int {
    unsafe {
        flushed!(f);
        let (real, m) = real(f);
        (m.xCheckReservedLock.expect("xCheckReservedLock"))(real, out)
    }
}

unsafe extern "C" fn shim_file_control(
    f: *mut ffi::sqlite3_file,
    op: c_int,
    arg: *mut c_void,
) -> c_int {
    unsafe {
        flushed!(f);
        let (real, m) = real(f);
        (m.xFileControl.expect("xFileControl"))(real, op, arg)
    }
}

unsafe extern "C" fn shim_sector_size(f: *mut ffi::sqlite3_file) -> c_int {
    unsafe {
        let (real, m) = real(f);
        (m.xSectorSize.expect("xSectorSize"))(real)
    }
}

unsafe extern "C" fn shim_device_characteristics(f: *mut ffi::sqlite3_file) -> c_int {
    unsafe {
        let (real, m) = real(f);
        (m.xDeviceCharacteristics.expect("xDeviceCharacteristics"))(real)
    }
}

unsafe extern "C" fn shim_shm_map(
    f: *mut ffi::sqlite3_file,
    region: c_int,
    size: c_int,
    extend: c_int,
    out: *mut *mut c_void,
) -> c_int {
    unsafe {
        flushed!(f);
        let (real, m) = real(f);
        match m.xShmMap {
            Some(map) if m.iVersion >= 2 => map(real, region, size, extend, out),
            _ => ffi::SQLITE_IOERR,
        }
    }
}

unsafe extern "C" fn shim_shm_lock(
    f: *mut ffi::sqlite3_file,
    offset: c_int,
    n: c_int,
    flags: c_int,
) -> c_int {
    unsafe {
        flushed!(f);
        let (real, m) = real(f);
        match m.xShmLock {
            Some(lock) if m.iVersion >= 2 => lock(real, offset, n, flags),
            _ => ffi::SQLITE_IOERR,
        }
    }
}

unsafe extern "C" fn shim_shm_barrier(f: *mut ffi::sqlite3_file) {
    unsafe {
        let _ = flush(f);
        let (real, m) = real(f);
        if let Some(barrier) = m.xShmBarrier.filter(|_| m.iVersion >= 2) {
            barrier(real);
        }
    }
}

unsafe extern "C" fn shim_shm_unmap(f: *mut ffi::sqlite3_file, delete: c_int) -> c_int {
    unsafe {
        flushed!(f);
        let (real, m) = real(f);
        match m.xShmUnmap {
            Some(unmap) if m.iVersion >= 2 => unmap(real, delete),
            _ => ffi::SQLITE_OK,
        }
    }
}

unsafe extern "C" fn shim_fetch(
    f: *mut ffi::sqlite3_file,
    offset: ffi::sqlite3_int64,
    amount: c_int,
    out: *mut *mut c_void,
) -> c_int {
    unsafe {
        flushed!(f);
        let (real, m) = real(f);
        match m.xFetch {
            Some(fetch) if m.iVersion >= 3 => fetch(real, offset, amount, out),
            _ => {
                *out = std::ptr::null_mut();
                ffi::SQLITE_OK
            }
        }
    }
}

unsafe extern "C" fn shim_unfetch(
    f: *mut ffi::sqlite3_file,
    offset: ffi::sqlite3_int64,
    p: *mut c_void,
) -> c_int {
    unsafe {
        let (real, m) = real(f);
        match m.xUnfetch {
            Some(unfetch) if m.iVersion >= 3 => unfetch(real, offset, p),
            _ => ffi::SQLITE_OK,
        }
    }
}

static METHODS: ffi::sqlite3_io_methods = ffi::sqlite3_io_methods {
    iVersion: 3,
    xClose: Some(shim_close),
    xRead: Some(shim_read),
    xWrite: Some(shim_write),
    xTruncate: Some(shim_truncate),
    xSync: Some(shim_sync),
    xFileSize: Some(shim_file_size),
    xLock: Some(shim_lock),
    xUnlock: Some(shim_unlock),
    xCheckReservedLock: Some(shim_check_reserved),
    xFileControl: Some(shim_file_control),
    xSectorSize: Some(shim_sector_size),
    xDeviceCharacteristics: Some(shim_device_characteristics),
    xShmMap: Some(shim_shm_map),
    xShmLock: Some(shim_shm_lock),
    xShmBarrier: Some(shim_shm_barrier),
    xShmUnmap: Some(shim_shm_unmap),
    xFetch: Some(shim_fetch),
    xUnfetch: Some(shim_unfetch),
};

#[cfg(test)]
mod tests {
    use super::*;
    use rusqlite::{Connection, OpenFlags};

    #[test]
    fn log_frames_go_out_whole_and_other_programs_read_the_same_database() {
        assert!(register());
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let conn =
            Connection::open_with_flags_and_vfs(&path, OpenFlags::default(), VFS_NAME).unwrap();
        conn.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA wal_autocheckpoint = 0;
             CREATE TABLE t (id INTEGER PRIMARY KEY, body TEXT);",
        )
        .unwrap();
        let before = frames_joined();
        for i in 0..200 {
            conn.execute(
                "INSERT INTO t (body) VALUES (?1)",
                [format!("row {i} {}", "x".repeat(i * 7))],
            )
            .unwrap();
        }
        assert!(
            frames_joined() >= before + 200,
            "every commit writes at least one frame"
        );
        // A connection through SQLite's own layer (as the sqlite3 shell would) reads every row
        // from the log this layer wrote, and finds the file sound, before and after a checkpoint.
        let plain = Connection::open(&path).unwrap();
        let check = |c: &Connection| {
            let n: i64 = c
                .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
                .unwrap();
            let ok: String = c
                .query_row("PRAGMA integrity_check", [], |r| r.get(0))
                .unwrap();
            (n, ok)
        };
        assert_eq!(check(&plain), (200, "ok".to_string()));
        plain
            .execute("INSERT INTO t (body) VALUES ('from the plain layer')", [])
            .unwrap();
        assert_eq!(check(&conn), (201, "ok".to_string()));
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            .unwrap();
        drop(conn);
        assert_eq!(check(&plain), (201, "ok".to_string()));
    }
}

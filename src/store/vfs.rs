//! A thin layer over SQLite's own `unix` file system layer that writes each commit's
//! write-ahead-log frames with one system call.
//!
//! SQLite writes a frame of the log as its 24-byte header and then, at the next offset, the
//! page: two `pwrite`s per page, 18 system calls per hold, and most of a hold's time in the
//! kernel (BENCHMARKS.md). This layer gathers the writes that extend a log file, back to back,
//! and writes them with one `pwrite` when the frame that completes a commit is in (its header
//! carries the database size), or before anything else happens to the file: another write that
//! does not continue the run, a read, a sync, a lock, a truncation, closing it. SQLite makes a
//! commit visible to other connections only afterwards, through the shared-memory index it
//! reaches through the database file: that file's shared-memory calls write whatever the log
//! still holds first (the tail of a frame after a sync point, a transaction's spilled pages),
//! so no connection can find a frame that is not in the file. Writes that go back over what
//! the transaction already wrote (SQLite rewriting checksums or a spilled page) go straight
//! out, in order. A crash loses only writes SQLite had not committed yet, as a crash between
//! its own writes would. Files other than logs, and the file format, are untouched: other
//! programs open the database with the plain `unix` layer.

use rusqlite::ffi;
use std::ffi::{c_int, c_void};
use std::sync::{Mutex, OnceLock};

/// The name connections open the database with.
pub const VFS_NAME: &str = "boxoffice";
const VFS_NAME_C: &std::ffi::CStr = c"boxoffice";

/// A log frame's header: SQLite's `WAL_FRAME_HDRSIZE`.
const FRAME_HEADER: usize = 24;

/// The most the `unix` layer writes in one call (it masks a length to 17 bits): a run of
/// gathered writes that would grow past it is written out first (a large import's commit).
const MAX_WRITE: usize = 0x1ffff;

/// SQLite's lock slot for the one writer of a log (`WAL_WRITE_LOCK`).
const WAL_WRITE_LOCK: c_int = 0;

#[repr(C)]
struct ShimFile {
    /// What SQLite sees: `pMethods` points at [`METHODS`].
    base: ffi::sqlite3_file,
    /// The `unix` layer's file, in the same allocation right after this struct.
    real: *mut ffi::sqlite3_file,
    /// A log file (only those gather writes).
    wal: bool,
    /// A main database file (listed in [`MAINS`], by which its log finds it).
    main: bool,
    /// For a main database file: its open log, whose gathered writes its shared-memory calls
    /// write out first. For a log: its main database file.
    peer: *mut ShimFile,
    /// Where the gathered bytes go.
    at: i64,
    /// The gathered bytes, if any.
    buf: Vec<u8>,
    /// The end of the furthest write since the writer's lock was last taken: a write before
    /// it goes back over the transaction's own frames and is not gathered.
    end: i64,
    /// The last gathered frame header completes a commit: write out once its page is in.
    commit: bool,
    /// Writes handed to the `unix` layer (for tests).
    writes: u64,
    /// For a main database file: since when this connection holds its log's write lock.
    locked_at: Option<std::time::Instant>,
    /// For a main database file: how long this connection has held its log's write lock, in
    /// all (the contention benchmark prints the share of a run the lock was held).
    locked: std::time::Duration,
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
/// Open main database files by the name they were opened with (a pointer SQLite keeps for the
/// connection's life), so a log opened for one finds it: `(name, file)`.
static MAINS: Mutex<Vec<(usize, usize)>> = Mutex::new(Vec::new());
fn mains() -> std::sync::MutexGuard<'static, Vec<(usize, usize)>> {
    // The list stays consistent whatever panicked while it was held (each change is one push
    // or one swap_remove).
    MAINS.lock().unwrap_or_else(|e| e.into_inner())
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
        let wal = flags & ffi::SQLITE_OPEN_WAL != 0;
        let main = flags & ffi::SQLITE_OPEN_MAIN_DB != 0 && !name.is_null();
        std::ptr::write(
            shim,
            ShimFile {
                base: ffi::sqlite3_file { pMethods: &METHODS },
                real,
                wal,
                main,
                peer: std::ptr::null_mut(),
                at: 0,
                buf: Vec::new(),
                end: 0,
                commit: false,
                writes: 0,
                locked_at: None,
                locked: std::time::Duration::ZERO,
            },
        );
        if main {
            mains().push((name as usize, shim as usize));
        } else if wal && !name.is_null() {
            // SQLite names a log after its database, in the same allocation: this gives the
            // very pointer the database file was opened with.
            let main_name = ffi::sqlite3_filename_database(name) as usize;
            if let Some(&(_, m)) = mains().iter().find(|(n, _)| *n == main_name) {
                let m = m as *mut ShimFile;
                (*m).peer = shim;
                (*shim).peer = m;
            }
        }
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

/// Writes out what a file has gathered, if anything. Called before every other operation on
/// the file.
unsafe fn flush(f: *mut ffi::sqlite3_file) -> c_int {
    // SAFETY: see `real`.
    unsafe { flush_gathered(&mut *(f as *mut ShimFile)) }
}

unsafe fn flush_gathered(shim: &mut ShimFile) -> c_int {
    shim.commit = false;
    if shim.buf.is_empty() {
        return ffi::SQLITE_OK;
    }
    shim.writes += 1;
    // SAFETY: `real` is the open real file (see `real`).
    let rc = unsafe {
        let m = &*(*shim.real).pMethods;
        (m.xWrite.expect("xWrite"))(
            shim.real,
            shim.buf.as_ptr() as *const c_void,
            shim.buf.len() as c_int,
            shim.at,
        )
    };
    shim.buf.clear();
    rc
}

/// For a main database file: writes out what its log has gathered, before the shared-memory
/// index (which tells other connections what the log holds) is touched.
unsafe fn flush_log_of(f: *mut ffi::sqlite3_file) -> c_int {
    // SAFETY: see `real`; `peer` of a main database file is its open log or null (the log
    // unlinks itself when it closes).
    unsafe {
        let shim = &mut *(f as *mut ShimFile);
        if shim.wal || shim.peer.is_null() {
            return ffi::SQLITE_OK;
        }
        flush_gathered(&mut *shim.peer)
    }
}

// The methods below: SQLite calls them only on files this layer opened (see `real`), with
// the arguments its `sqlite3_io_methods` contract describes; each writes out what the file
// gathered first, then hands the call to the `unix` layer's file.

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
        if !shim.wal || amount <= 0 {
            return write(real, data, amount, offset);
        }
        let bytes = std::slice::from_raw_parts(data as *const u8, amount as usize);
        let continues = !shim.buf.is_empty()
            && shim.at + shim.buf.len() as i64 == offset
            && shim.buf.len() + bytes.len() <= MAX_WRITE;
        if !continues {
            let rc = flush_gathered(shim);
            if rc != ffi::SQLITE_OK {
                return rc;
            }
            if offset < shim.end || bytes.len() > MAX_WRITE {
                // Back over this transaction's own frames: straight out, in order.
                shim.writes += 1;
                return write(real, data, amount, offset);
            }
            shim.at = offset;
        }
        shim.buf.extend_from_slice(bytes);
        shim.end = shim.end.max(offset + amount as i64);
        // A frame header's second word is the database size for the frame that completes a
        // commit, zero otherwise.
        let completes = shim.commit && bytes.len() != FRAME_HEADER;
        shim.commit = bytes.len() == FRAME_HEADER && bytes[4..8] != [0; 4];
        if completes {
            return flush_gathered(shim);
        }
        ffi::SQLITE_OK
    }
}

unsafe extern "C" fn shim_close(f: *mut ffi::sqlite3_file) -> c_int {
    // SAFETY: see `real`; the struct was written in shim_open and is dropped once, here. A log
    // closes before its database file; each unlinks itself from the other.
    unsafe {
        let flushed = flush(f);
        let shim = &mut *(f as *mut ShimFile);
        if !shim.peer.is_null() {
            (*shim.peer).peer = std::ptr::null_mut();
        }
        if shim.main {
            let mut mains = mains();
            if let Some(i) = mains.iter().position(|&(_, m)| m == f as usize) {
                mains.swap_remove(i);
            }
        }
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
        let rc = flush_log_of(f);
        if rc != ffi::SQLITE_OK {
            return rc;
        }
        let shim = &mut *(f as *mut ShimFile);
        if offset == WAL_WRITE_LOCK
            && flags == ffi::SQLITE_SHM_LOCK | ffi::SQLITE_SHM_EXCLUSIVE
            && !shim.peer.is_null()
        {
            // A new write transaction: whatever the log holds now is committed (or was
            // given up), so every write from here on is new.
            (*shim.peer).end = 0;
        }
        let (real, m) = real(f);
        let rc = match m.xShmLock {
            Some(lock) if m.iVersion >= 2 => lock(real, offset, n, flags),
            _ => ffi::SQLITE_IOERR,
        };
        if offset == WAL_WRITE_LOCK {
            let shim = &mut *(f as *mut ShimFile);
            if flags == ffi::SQLITE_SHM_LOCK | ffi::SQLITE_SHM_EXCLUSIVE {
                if rc == ffi::SQLITE_OK {
                    shim.locked_at = Some(std::time::Instant::now());
                }
            } else if flags == ffi::SQLITE_SHM_UNLOCK | ffi::SQLITE_SHM_EXCLUSIVE
                && let Some(since) = shim.locked_at.take()
            {
                shim.locked += since.elapsed();
            }
        }
        rc
    }
}

/// The file SQLite's file control `op` gives for `conn`'s main database
/// (`SQLITE_FCNTL_FILE_POINTER`: the database file; `SQLITE_FCNTL_JOURNAL_POINTER`: its log),
/// if this layer opened it.
fn shim_file(conn: &rusqlite::Connection, op: c_int) -> Option<&ShimFile> {
    let mut file: *mut ffi::sqlite3_file = std::ptr::null_mut();
    // SAFETY: both controls write an open file of the connection (or null) to `file`; it is
    // this layer's only if its methods are this layer's, and then it is a ShimFile. The
    // connection is borrowed for as long as the reference, so nothing closes the file.
    unsafe {
        let rc = ffi::sqlite3_file_control(
            conn.handle(),
            c"main".as_ptr(),
            op,
            &mut file as *mut _ as *mut c_void,
        );
        if rc != ffi::SQLITE_OK || file.is_null() || !std::ptr::eq((*file).pMethods, &METHODS) {
            return None;
        }
        Some(&*(file as *const ShimFile))
    }
}

/// How long `conn` has held its main database's write lock since it opened, in all; zero for
/// a connection that did not open through this layer.
pub fn write_lock_held(conn: &rusqlite::Connection) -> std::time::Duration {
    shim_file(conn, ffi::SQLITE_FCNTL_FILE_POINTER).map_or(std::time::Duration::ZERO, |shim| {
        shim.locked
            + shim
                .locked_at
                .map_or(std::time::Duration::ZERO, |t| t.elapsed())
    })
}

unsafe extern "C" fn shim_shm_barrier(f: *mut ffi::sqlite3_file) {
    unsafe {
        // SQLite publishes a commit here, with no way to report a failure: the frame that
        // completed it was written out (and any failure reported) by its own write; what a
        // log can still hold here is the tail of a frame after a sync point, or spilled pages
        // nobody can see yet.
        let _ = flush(f);
        let _ = flush_log_of(f);
        let (real, m) = real(f);
        if let Some(barrier) = m.xShmBarrier.filter(|_| m.iVersion >= 2) {
            barrier(real);
        }
    }
}

unsafe extern "C" fn shim_shm_unmap(f: *mut ffi::sqlite3_file, delete: c_int) -> c_int {
    unsafe {
        flushed!(f);
        let rc = flush_log_of(f);
        if rc != ffi::SQLITE_OK {
            return rc;
        }
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

    fn open(path: &std::path::Path) -> Connection {
        assert!(register());
        let conn =
            Connection::open_with_flags_and_vfs(path, OpenFlags::default(), VFS_NAME).unwrap();
        conn.execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA wal_autocheckpoint = 0;
             CREATE TABLE IF NOT EXISTS t (id INTEGER PRIMARY KEY, body TEXT);",
        )
        .unwrap();
        conn
    }

    /// The writes this layer handed to the `unix` layer for the connection's log.
    fn log_writes(conn: &Connection) -> u64 {
        shim_file(conn, ffi::SQLITE_FCNTL_JOURNAL_POINTER)
            .expect("a log opened by this layer")
            .writes
    }

    fn check(c: &Connection) -> (i64, String) {
        let n: i64 = c
            .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
            .unwrap();
        let ok: String = c
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .unwrap();
        (n, ok)
    }

    #[test]
    fn the_time_a_connection_holds_the_write_lock_is_counted_and_only_while_it_holds_it() {
        use std::time::Duration;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let writer = open(&path);
        let reader = open(&path);
        let before = write_lock_held(&writer);
        writer.execute_batch("BEGIN IMMEDIATE").unwrap();
        // Counted while held: at least the time since the lock was taken (waiting for the
        // clock to move, however coarse it is).
        let begun = std::time::Instant::now();
        while begun.elapsed() == Duration::ZERO {}
        let since = begun.elapsed();
        let holding = write_lock_held(&writer);
        assert!(holding >= before + since);
        writer
            .execute_batch("INSERT INTO t (body) VALUES ('x'); COMMIT")
            .unwrap();
        let after = write_lock_held(&writer);
        assert!(after >= holding);
        // Not counted once let go, however much else the connection does.
        let n: i64 = writer
            .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 1);
        assert_eq!(write_lock_held(&writer), after);
        // Reading takes no write lock; a connection through SQLite's own layer has no count.
        let reader_before = write_lock_held(&reader);
        let n: i64 = reader
            .query_row("SELECT count(*) FROM t", [], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 1);
        assert_eq!(write_lock_held(&reader), reader_before);
        let plain = Connection::open(&path).unwrap();
        plain
            .execute_batch("INSERT INTO t (body) VALUES ('y')")
            .unwrap();
        assert_eq!(write_lock_held(&plain), Duration::ZERO);
    }

    #[test]
    fn a_commit_goes_to_the_log_in_one_write_and_other_programs_read_it() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let conn = open(&path);
        conn.execute("INSERT INTO t (body) VALUES ('first')", [])
            .unwrap();
        for i in 0..50 {
            // Several pages a commit (rows of 1 to 3 KiB), written with one system call.
            let before = log_writes(&conn);
            conn.execute_batch("BEGIN").unwrap();
            for j in 0..4 {
                conn.execute(
                    "INSERT INTO t (body) VALUES (?1)",
                    [format!(
                        "row {i}.{j} {}",
                        "x".repeat(1000 + (i * j * 37) % 2000)
                    )],
                )
                .unwrap();
            }
            conn.execute_batch("COMMIT").unwrap();
            assert_eq!(log_writes(&conn), before + 1, "commit {i}");
        }
        // A connection through SQLite's own layer (as the sqlite3 shell would) reads every row
        // from the log this layer wrote, and finds the file sound, before and after a checkpoint.
        let plain = Connection::open(&path).unwrap();
        assert_eq!(check(&plain), (201, "ok".to_string()));
        plain
            .execute("INSERT INTO t (body) VALUES ('from the plain layer')", [])
            .unwrap();
        assert_eq!(check(&conn), (202, "ok".to_string()));
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))
            .unwrap();
        conn.execute(
            "INSERT INTO t (body) VALUES ('after the log started over')",
            [],
        )
        .unwrap();
        drop(conn);
        assert_eq!(check(&plain), (203, "ok".to_string()));
    }

    #[test]
    fn a_commit_that_spilled_and_rewrote_its_frames_survives_a_crash_right_after() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let conn = open(&path);
        conn.execute_batch("PRAGMA cache_size = 10; PRAGMA cache_spill = 1;")
            .unwrap();
        // More pages than the cache holds: SQLite writes some to the log before the commit,
        // then writes over those frames when it changes the pages again, and rewrites the
        // frames' checksums when it commits.
        conn.execute_batch("BEGIN").unwrap();
        for i in 0..400 {
            conn.execute(
                "INSERT INTO t (id, body) VALUES (?1, ?2)",
                rusqlite::params![i, "y".repeat(900)],
            )
            .unwrap();
        }
        conn.execute("UPDATE t SET body = 'changed again' WHERE id % 3 = 0", [])
            .unwrap();
        conn.execute_batch("COMMIT").unwrap();
        // What a crash would leave right now (the connection still open, nothing closed or
        // checkpointed): the files as they are. SQLite's own layer recovers the commit from
        // the log alone, every frame checksum in order.
        let copy = tempfile::tempdir().unwrap();
        for name in ["t.db", "t.db-wal"] {
            std::fs::copy(dir.path().join(name), copy.path().join(name)).unwrap();
        }
        let recovered = Connection::open(copy.path().join("t.db")).unwrap();
        assert_eq!(check(&recovered), (400, "ok".to_string()));
        let changed: i64 = recovered
            .query_row(
                "SELECT count(*) FROM t WHERE body = 'changed again'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(changed, 134);
    }
}

//! The SQLite engine: how a box-office database file is opened (pragmas, permissions,
//! write-ahead logging), how the write lock is taken and waited for, how a commit is made
//! durable, the change counter live screens poll, and the checkpoint thread. The store
//! (`store/mod.rs`) calls only what is here for anything SQLite-specific; a second engine
//! provides the same functions.

use super::{Db, SCHEMA_VERSION, schema};
use crate::error::{Error, Result};
use rusqlite::{Connection, OpenFlags};
use std::path::Path;
use std::time::Duration;

/// Opens (creating if needed, readable by the owner only) the database at `path` with every
/// pragma set; returns the connection and the schema version found, refusing a newer one
/// before anything is written.
pub(crate) fn open(path: &Path) -> Result<(Connection, i64)> {
    create_private_file(path)?;
    let mut conn = open_connection(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    if conn.is_readonly(rusqlite::MAIN_DB)? {
        return Err(Error::ReadOnly(format!(
            "{} cannot be written; check its permissions",
            path.display()
        )));
    }
    conn.busy_handler(Some(busy_wait))?;
    // Statements stay compiled: with the planner's stability guarantee SQLite does not
    // re-prepare a statement because a bound value changed (that cost half of a hold's time).
    conn.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
        true,
    )?;
    // Read the version before anything writes, so a newer file is left untouched.
    let found: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    if found > SCHEMA_VERSION {
        return Err(Error::SchemaTooNew {
            found,
            supported: SCHEMA_VERSION,
        });
    }
    let mode = write_ahead_log(&conn)?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(Error::ReadOnly(format!(
            "{} cannot switch to WAL mode (got {mode})",
            path.display()
        )));
    }
    conn.execute_batch(
        "PRAGMA foreign_keys = ON;
         PRAGMA synchronous = NORMAL;",
    )?;
    Ok((conn, found))
}

/// Makes the next commits durable (synced to disk before they return) or not. Cached like
/// every hot statement: parsing the settings cost a payment more than its own updates.
pub(crate) fn durable(conn: &Db, on: bool) -> Result<()> {
    conn.prepare_cached(if on {
        "PRAGMA synchronous = FULL"
    } else {
        "PRAGMA synchronous = NORMAL"
    })?
    .execute(())?;
    Ok(())
}

/// A number that changes whenever another connection commits: a cheap "has anything changed?"
/// probe for live screens.
pub(crate) fn change_counter(conn: &Db) -> Result<i64> {
    Ok(conn.query_row("PRAGMA data_version", (), |r| r.get(0))?)
}

/// How long a writer waits for another terminal's transaction before saying "busy".
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Waits for another terminal's transaction: 1 ms, then 2 ms at a time, up to [`BUSY_TIMEOUT`]
/// in all. Both bounds were measured (see BENCHMARKS.md):
/// - shorter sleeps (50 µs steps) made terminals take turns transaction by transaction, so
///   each one re-read every page the other had just changed, waiters burnt the CPU the lock
///   holder needed, and readers kept every checkpoint from finishing: holds ran at half the rate;
/// - SQLite's own `busy_timeout` sleeps up to 100 ms a time: when eight terminals kept the lock
///   busy, one waiting terminal could wake up only to find it taken, again and again, until it
///   gave up after 5 s. At 2 ms a waiter looks 2,500 times before giving up.
pub fn busy_wait(attempt: i32) -> bool {
    let attempt = attempt.max(0) as u32;
    let waited = Duration::from_millis(if attempt == 0 {
        0
    } else {
        1 + 2 * (attempt as u64 - 1)
    });
    if waited >= BUSY_TIMEOUT {
        return false;
    }
    std::thread::sleep(Duration::from_millis(if attempt == 0 { 1 } else { 2 }));
    true
}

/// Opens a connection to a box-office database (the store's, the card gateway's, the
/// checkpoint thread's) through SQLite's own file layer: its error handling covers every path,
/// a full disk included, so a failed write is always reported and the database stays intact.
pub fn open_connection(path: &Path, flags: OpenFlags) -> rusqlite::Result<Connection> {
    Connection::open_with_flags(path, flags)
}

/// Switches a connection to write-ahead logging and returns the journal mode now in force.
/// Switching a new file takes an exclusive lock, and SQLite does not call the busy handler for
/// it: when several terminals start at once on a new box office, all but one would fail with
/// "busy". They wait here as for any other write ([`busy_wait`]).
pub(crate) fn write_ahead_log(conn: &Connection) -> rusqlite::Result<String> {
    let mut attempt = 0;
    loop {
        match conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get::<_, String>(0)) {
            Err(rusqlite::Error::SqliteFailure(f, _))
                if f.code == rusqlite::ErrorCode::DatabaseBusy && busy_wait(attempt) =>
            {
                attempt += 1;
            }
            out => return out,
        }
    }
}

/// Runs `f` in one `BEGIN IMMEDIATE` transaction on `conn` (the store's, or the card gateway's
/// ledger): commits only if `f` succeeds; an error or a panic rolls it back. `BEGIN`,
/// `COMMIT` and `ROLLBACK` come from the statement cache: parsing them on every hold cost more
/// than inserting a claim.
pub(crate) fn immediate<T, E: From<super::sql::Error>>(
    conn: &Db,
    f: impl FnOnce(&Db) -> std::result::Result<T, E>,
) -> std::result::Result<T, E> {
    struct Open<'a>(&'a Db);
    impl Drop for Open<'_> {
        fn drop(&mut self) {
            if self.0.sqlite().is_none_or(|c| c.is_autocommit()) {
                return;
            }
            // From the statement cache too: in an on-sale rush most holds end here.
            let cached = self
                .0
                .prepare_cached("ROLLBACK")
                .and_then(|mut rollback| rollback.execute(()));
            if cached.is_err() {
                let _ = self.0.execute_batch("ROLLBACK");
            }
        }
    }
    conn.prepare_cached("BEGIN IMMEDIATE")?.execute(())?;
    let open = Open(conn);
    let out = f(open.0)?;
    open.0.prepare_cached("COMMIT")?.execute(())?;
    Ok(out)
}

/// Every this many pages of write-ahead log, the pages are copied back into the database
/// (SQLite's own default).
pub const CHECKPOINT_PAGES: i32 = 1000;

/// How long the log may grow while commits never pause before the checkpoint thread holds
/// writers back to start it over (under one wal-index hash table of 4,096 pages).
pub const RESTART_PAGES: i64 = 4 * CHECKPOINT_PAGES as i64;

/// When a commit wakes the checkpoint thread: each time the log has grown by another
/// [`CHECKPOINT_PAGES`] since it started, not on every commit past the first thousand.
#[derive(Default)]
struct CheckpointSchedule {
    signalled: i32,
}

impl CheckpointSchedule {
    fn after_commit(&mut self, log_pages: i32) -> bool {
        let due = log_pages / CHECKPOINT_PAGES;
        // Back to 0 when the log has started over.
        let wake = due > self.signalled;
        self.signalled = due;
        wake
    }
}

/// Moves checkpoints off the connection's commits onto a thread of their own.
///
/// SQLite's automatic checkpoint runs inside the commit that crosses [`CHECKPOINT_PAGES`]:
/// that hold waited for two `fsync`s and the copying of every changed page, about 3 ms, once
/// every hundred holds (a third of all the time holds took). Here the commit only signals a
/// thread, started on the first signal, which copies the pages on its own connection while
/// terminals go on booking (a PASSIVE checkpoint, which blocks nobody). The log starts over by
/// itself when a commit finds it all copied; when commits never pause for that, the thread
/// holds writers back once the log passes [`RESTART_PAGES`], while it copies the last few pages
/// and syncs (a RESTART, 1-2 ms). Checkpoints are crash-safe wherever they run. The thread ends
/// when the connection is closed.
pub fn checkpoint_in_background(conn: &mut Connection, path: &Path) -> Result<()> {
    let path = path.to_path_buf();
    let mut signal: Option<std::sync::mpsc::SyncSender<()>> = None;
    let mut schedule = CheckpointSchedule::default();
    conn.wal_hook(Some(move |_: &mut rusqlite::hooks::Wal, pages: i32| {
        if !schedule.after_commit(pages) {
            return Ok(());
        }
        let sender = signal.get_or_insert_with(|| {
            let (sender, wake) = std::sync::mpsc::sync_channel::<()>(1);
            let path = path.clone();
            // If the thread cannot start, commits go on and the log is checkpointed when the
            // last connection closes.
            let _ = std::thread::Builder::new()
                .name("checkpoint".into())
                .spawn(move || {
                    let Ok(mut conn) = open_connection(
                        &path,
                        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
                    ) else {
                        return;
                    };
                    // Waits in short steps, 50 ms at most: a RESTART checkpoint holds the
                    // write lock while the transaction under way finishes (a tenth of a
                    // millisecond), and a long sleep there would hold every terminal back.
                    let _ = conn.busy_handler(Some(|attempt: i32| {
                        std::thread::sleep(Duration::from_micros(50));
                        attempt < 1000
                    }));
                    while wake.recv().is_ok() {
                        // The bulk, without blocking anyone. If the log is long (a busy box
                        // office never finds it fully copied, and it would grow without end),
                        // also the few pages committed meanwhile, holding writers back for that
                        // moment so the next commit starts the log from the beginning. Doing
                        // that at every wake-up stalled a terminal for 1-2 ms every hundred
                        // holds (BENCHMARKS.md). Failures (busy, I/O) only leave the log
                        // longer: the next wake-up tries again.
                        let log = conn
                            .query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| r.get::<_, i64>(1))
                            .unwrap_or(0);
                        if log >= RESTART_PAGES {
                            let _ =
                                conn.query_row("PRAGMA wal_checkpoint(RESTART)", [], |_| Ok(()));
                        }
                    }
                });
            sender
        });
        // Full: a checkpoint is already due.
        let _ = sender.try_send(());
        Ok(())
    }))?;
    Ok(())
}

/// Creates the database file readable by the owner only, before SQLite creates it with the
/// process umask. SQLite gives the -wal and -shm files the same permissions.
pub(crate) fn create_private_file(path: &Path) -> Result<()> {
    if path.exists() {
        return Ok(());
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(Error::io(format!("cannot create {}", path.display()), e)),
    }
}

#[doc(hidden)]
/// For upgrade tests: creates a database at an older schema version.
pub fn create_at_version(path: impl AsRef<Path>, version: i64) -> Result<()> {
    let mut conn = Connection::open(path)?;
    write_ahead_log(&conn)?;
    schema::migrate(&mut conn, version)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_checkpoint_thread_is_woken_once_per_thousand_pages_of_log() {
        let mut s = CheckpointSchedule::default();
        let woken: Vec<i32> = [5, 999, 1000, 1001, 1500, 1999, 2000, 2400]
            .into_iter()
            .filter(|p| s.after_commit(*p))
            .collect();
        assert_eq!(woken, vec![1000, 2000]);
        // The log started over: the next thousand wakes it again.
        assert!(!s.after_commit(3));
        assert!(s.after_commit(1003));
    }
}

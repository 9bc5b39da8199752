//! The SQLite store: one `Store::open` that sets every pragma and permission, migrations keyed on
//! `PRAGMA user_version`, and the write-transaction helpers every mutation goes through.

mod schema;

use crate::clock::Clock;
use crate::error::{Error, Result};
use chrono::{DateTime, TimeZone, Utc};
use rusqlite::{Connection, OpenFlags, Transaction, TransactionBehavior};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

pub use schema::SCHEMA_VERSION;

/// How long a writer waits for another terminal's transaction before saying "busy".
pub const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// A seat's status for one concert, computed in one place. Expects the claim row as `cl`
/// (LEFT JOINed, active claims only) and the current time as the named parameter `:now`.
pub(crate) const SEAT_STATUS_SQL: &str = "CASE \
    WHEN cl.id IS NULL THEN 'free' \
    WHEN cl.booking_id IS NOT NULL THEN 'booked' \
    WHEN cl.expires_at IS NOT NULL AND cl.expires_at <= :now THEN 'free' \
    WHEN cl.reserved = 1 THEN 'reserved' \
    ELSE 'held' END";

/// Waits for another terminal's transaction in short steps, up to [`BUSY_TIMEOUT`] in all.
/// SQLite's own `busy_timeout` sleeps whole milliseconds and more, while a hold takes a
/// fraction of one: under contention most of the time went to sleeping on a free lock.
pub(crate) fn busy_wait(attempt: i32) -> bool {
    const RAMP: i32 = 5; // 50 µs doubling to 1.6 ms
    let step = Duration::from_micros(50 << attempt.clamp(0, RAMP));
    let ramp_total = Duration::from_micros(50 * ((1 << (RAMP + 1)) - 1));
    let waited = if attempt <= RAMP {
        Duration::from_micros(50 * ((1 << attempt.max(0)) - 1))
    } else {
        ramp_total + step * (attempt - RAMP) as u32
    };
    if waited >= BUSY_TIMEOUT {
        return false;
    }
    std::thread::sleep(step);
    true
}

pub struct Store {
    conn: Connection,
    clock: Arc<dyn Clock>,
    path: PathBuf,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
    }
}

impl Store {
    /// Opens (creating if needed) the database at `path`, applies pending migrations and
    /// refuses a database written by a newer version. A new file is readable by the owner only.
    pub fn open(path: impl AsRef<Path>, clock: Arc<dyn Clock>) -> Result<Store> {
        let path = path.as_ref().to_path_buf();
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
            && !dir.is_dir()
        {
            return Err(Error::io(
                format!("cannot open {}", path.display()),
                std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    format!("the directory {} does not exist", dir.display()),
                ),
            ));
        }
        create_private_file(&path)?;
        let mut conn = Connection::open_with_flags(
            &path,
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
        // Every hot statement stays prepared (the default keeps only 16), and stays compiled:
        // with the planner's stability guarantee SQLite does not re-prepare a statement because
        // a bound value changed (that cost half of a hold's time).
        conn.set_prepared_statement_cache_capacity(256);
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
        let mode: String = conn.query_row("PRAGMA journal_mode=WAL", [], |r| r.get(0))?;
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
        let mut store = Store { conn, clock, path };
        schema::migrate(&mut store.conn, SCHEMA_VERSION)?;
        Ok(store)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    pub fn clock(&self) -> Arc<dyn Clock> {
        self.clock.clone()
    }

    pub(crate) fn conn(&self) -> &Connection {
        &self.conn
    }

    /// Changes whenever another connection commits: a cheap "has anything changed?" probe.
    pub fn data_version(&self) -> Result<i64> {
        Ok(self
            .conn
            .query_row("PRAGMA data_version", [], |r| r.get(0))?)
    }

    pub fn schema_version(&self) -> Result<i64> {
        Ok(self
            .conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))?)
    }

    /// Runs `f` in one `BEGIN IMMEDIATE` transaction: it waits for other writers up to the busy
    /// timeout instead of failing halfway, and commits only if `f` succeeds.
    pub(crate) fn write<T>(&mut self, f: impl FnOnce(&Transaction<'_>) -> Result<T>) -> Result<T> {
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let out = f(&tx)?;
        tx.commit()?;
        Ok(out)
    }

    /// Like [`Store::write`], but the commit is synced to disk before it returns
    /// (`synchronous=FULL`): for a captured payment or a confirmed booking, which must survive
    /// a power cut.
    pub(crate) fn write_durable<T>(
        &mut self,
        f: impl FnOnce(&Transaction<'_>) -> Result<T>,
    ) -> Result<T> {
        self.conn.execute_batch("PRAGMA synchronous = FULL")?;
        let out = self.write(f);
        let restore = self.conn.execute_batch("PRAGMA synchronous = NORMAL");
        let out = out?;
        restore?;
        Ok(out)
    }
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

/// Seconds since the epoch, as stored.
pub(crate) fn ts(t: DateTime<Utc>) -> i64 {
    t.timestamp()
}

pub(crate) fn from_ts(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(secs, 0).single().unwrap_or_default()
}

#[doc(hidden)]
/// For upgrade tests: creates a database at an older schema version.
pub fn create_at_version(path: impl AsRef<Path>, version: i64) -> Result<()> {
    let mut conn = Connection::open(path)?;
    conn.execute_batch("PRAGMA journal_mode=WAL;")?;
    schema::migrate(&mut conn, version)
}

//! The store: the one handle the rules work through. `Store::write` runs a use case in one
//! transaction under the write lock (`write_durable`: synced to disk before it returns), then
//! what the transaction asked for after its commit (`AfterCommit`); `conn()` reads. Statements
//! go through [`Db`].
//!
//! What is the engine's own sits behind this module, in `sqlite.rs` (opening, pragmas and
//! permissions, how the write lock is taken and waited for, durability, the change counter
//! live screens poll, the checkpoint thread), `schema.rs` with `migrations/` (the schema and
//! its upgrades) and `seat_index.rs` (a venue's seats read once per connection). See
//! ARCHITECTURE.md.

pub mod copy;
pub(crate) mod db;
pub mod engine;
pub(crate) mod hash;
pub mod postgres;
pub(crate) mod schema;
pub(crate) mod seat_index;
pub mod sql;
pub(crate) mod sqlite;
pub(crate) mod tls;

use crate::clock::Clock;
use crate::error::{Error, Result};
use chrono::{DateTime, TimeZone, Utc};

use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use db::{Db, Kind, Operator};
pub use schema::SCHEMA_VERSION;
pub use sqlite::{
    BUSY_TIMEOUT, CHECKPOINT_PAGES, RESTART_PAGES, busy_wait, checkpoint_in_background,
    create_at_version, open_connection,
};
pub(crate) use sqlite::{create_private_file, immediate, write_ahead_log};

/// A seat's status for one concert, computed in one place. Expects the seat's claim row as
/// `cl` (LEFT JOINed: every row of `claims` is a claim in force) and the current time as the
/// named parameter `:now`.
pub(crate) const SEAT_STATUS_SQL: &str = "CASE \
    WHEN cl.seat_id IS NULL THEN 'free' \
    WHEN cl.booking_id IS NOT NULL THEN 'booked' \
    WHEN cl.expires_at IS NOT NULL AND cl.expires_at <= :now THEN 'free' \
    WHEN cl.reserved = 1 THEN 'reserved' \
    ELSE 'held' END";

/// Whether the concert aliased `$c` is in the catalog: not one of an import still under way
/// (its rows carry the import's id until the import is done; see `import.rs`).
#[macro_export]
#[doc(hidden)]
macro_rules! in_catalog {
    ($c:literal) => {
        concat!(
            "(",
            $c,
            ".import_batch IS NULL OR ",
            $c,
            ".import_batch IN (SELECT id FROM imports WHERE done = 1))"
        )
    };
}

/// A box office's data: one connection to its SQLite file or PostgreSQL database, the clock it
/// reads, and what it does after a commit. Every operation of the core is a method on it.
pub struct Store {
    conn: Db,
    clock: Arc<dyn Clock>,
    path: PathBuf,
    /// Seats this connection has read (they never change once written).
    pub(crate) seat_index: std::cell::RefCell<seat_index::SeatIndex>,
    /// What runs once a transaction that asked for it commits (`chores.rs`: the outbox leaves).
    pub(crate) after_commit: Option<Box<dyn AfterCommit>>,
    /// Every change refused ([`Store::set_read_only`]).
    read_only: bool,
}

/// Work a higher layer wants done after a transaction that asked for it ([`Db::note_queued`])
/// commits: the outbox's delivery (`chores.rs`). The store only runs it; what it does and the
/// state it keeps are the higher layer's.
pub(crate) trait AfterCommit: Send {
    fn run(&mut self, store: &mut Store);
    /// The state behind it, for the layer that set it.
    fn as_any(&mut self) -> &mut dyn std::any::Any;
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store").field("path", &self.path).finish()
    }
}

impl Store {
    /// Opens (creating if needed) the database at `path`, applies pending migrations and
    /// refuses a database written by a newer version. A new file is readable by the owner only.
    /// A `postgres://` URL opens that PostgreSQL database instead (`engine.rs`), its schema
    /// created on first use.
    pub fn open(path: impl AsRef<Path>, clock: Arc<dyn Clock>) -> Result<Store> {
        let path = path.as_ref().to_path_buf();
        if let engine::Location::Postgres(url) = engine::Location::parse(&path.to_string_lossy())? {
            return Ok(Store {
                conn: Db::postgres(postgres::open(&url)?, url),
                clock,
                path,
                seat_index: Default::default(),
                after_commit: None,
                read_only: false,
            });
        }
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
        let (conn, found) = sqlite::open(&path)?;
        let mut store = Store {
            conn: Db::new(conn),
            clock,
            path,
            seat_index: Default::default(),
            after_commit: None,
            read_only: false,
        };
        // Only a database behind this build takes the write lock to migrate (and `migrate`
        // checks the version again under it); an up-to-date one opens without waiting for a
        // terminal that is writing.
        let conn = store.conn.sqlite_mut().expect("a SQLite store");
        if found < SCHEMA_VERSION {
            schema::migrate(conn, SCHEMA_VERSION)?;
        }
        sqlite::checkpoint_in_background(conn, &store.path)?;
        Ok(store)
    }

    /// Names the clerk and the terminal selling at this store: every sale and refund it makes
    /// records them. A name with control characters, or longer than 100 characters, is refused.
    pub fn set_operator(&mut self, operator: Operator) -> Result<()> {
        for (what, v) in [("clerk", &operator.clerk), ("terminal", &operator.terminal)] {
            if let Some(v) = v {
                crate::text::check_line(&format!("the {what}'s name"), v)
                    .map_err(Error::invalid)?;
                if v.chars().count() > 100 {
                    return Err(Error::invalid(format!(
                        "the {what}'s name is at most 100 characters"
                    )));
                }
            }
        }
        self.conn.set_operator(operator);
        self.conn.name_session()?;
        Ok(())
    }

    /// From now on this store changes nothing: every use case that would write (a hold, a sale,
    /// a refund, a check-in, the waiting list, the catalog, the chores) fails with
    /// [`Error::ReadOnlyTerminal`] before it begins, so nothing is half done. For a terminal
    /// opened to look (`--read-only`, a read-only clerk over SSH). There is no way back.
    pub fn set_read_only(&mut self) {
        self.read_only = true;
    }

    /// Whether [`Store::set_read_only`] was called.
    pub fn is_read_only(&self) -> bool {
        self.read_only
    }

    /// The clerk and terminal this store sells for ([`Store::set_operator`]).
    pub fn operator(&self) -> &Operator {
        self.conn.operator()
    }

    /// The engine this store sells from.
    pub fn kind(&self) -> Kind {
        self.conn.kind()
    }

    /// The file, or the PostgreSQL URL as given (it never holds a password).
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The current moment by the store's clock (UTC).
    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// The clock this store reads, shared.
    pub fn clock(&self) -> Arc<dyn Clock> {
        self.clock.clone()
    }

    pub(crate) fn conn(&self) -> &Db {
        &self.conn
    }

    /// SQL on this store's own connection, on either engine: for tools and tests that look
    /// underneath the rules (the rules themselves never need it).
    pub fn db(&self) -> &Db {
        &self.conn
    }

    /// Changes whenever another connection commits: a cheap "has anything changed?" probe.
    /// On PostgreSQL, a counter every write transaction adds one to, so a change made on
    /// another machine shows too.
    pub fn data_version(&self) -> Result<i64> {
        match self.conn.kind() {
            Kind::Sqlite => sqlite::change_counter(&self.conn),
            // A connection made again missed what happened meanwhile: a new number.
            Kind::Postgres => {
                Ok(postgres::change_counter(&self.conn)? + (self.conn.reconnects() << 40))
            }
        }
    }

    /// The version of the database's schema (what its migrations reached).
    pub fn schema_version(&self) -> Result<i64> {
        Ok(self.conn.query_row(
            self.conn.pick("PRAGMA user_version", postgres::VERSION_SQL),
            (),
            |r| r.get(0),
        )?)
    }

    /// Runs `f` in one `BEGIN IMMEDIATE` transaction: it waits for other writers up to the busy
    /// timeout instead of failing halfway, and commits only if `f` succeeds (an error or a
    /// panic rolls it back). `f` gets the time read once the write lock is held, so the times
    /// recorded follow the order in which terminals' changes happened, however long one waited
    /// for another (see [`immediate`]).
    pub(crate) fn write<T>(
        &mut self,
        f: impl FnOnce(&Db, DateTime<Utc>) -> Result<T>,
    ) -> Result<T> {
        let out = self.transaction(false, f);
        self.after_commit(out.is_ok());
        out
    }

    fn transaction<T>(
        &mut self,
        durable: bool,
        f: impl FnOnce(&Db, DateTime<Utc>) -> Result<T>,
    ) -> Result<T> {
        if self.read_only {
            return Err(Error::ReadOnlyTerminal);
        }
        let clock = &self.clock;
        match self.conn.kind() {
            Kind::Sqlite => sqlite::immediate(&self.conn, |tx| f(tx, clock.now())),
            // Every machine shares the server's clock: a sale, a refund or a check-in is
            // stamped with it, whatever this machine's clock says (a test's clock is kept).
            Kind::Postgres => postgres::write(&self.conn, durable, |tx, server_now| {
                f(
                    tx,
                    if clock.is_wall_clock() {
                        server_now
                    } else {
                        clock.now()
                    },
                )
            }),
        }
    }

    /// After a transaction: what it asked for runs now, if it committed ([`AfterCommit`]).
    fn after_commit(&mut self, committed: bool) {
        if self.conn.take_queued() && committed {
            self.run_after_commit();
        }
    }

    /// Runs the after-commit work now (also without a commit: the sweep's retries).
    pub(crate) fn run_after_commit(&mut self) {
        if let Some(mut work) = self.after_commit.take() {
            work.run(self);
            self.after_commit.get_or_insert(work);
        }
    }

    /// Like [`Store::write`], but the commit is synced to disk before it returns
    /// (`synchronous=FULL`): for a captured payment or a confirmed booking, which must survive
    /// a power cut.
    pub(crate) fn write_durable<T>(
        &mut self,
        f: impl FnOnce(&Db, DateTime<Utc>) -> Result<T>,
    ) -> Result<T> {
        if self.conn.kind() == Kind::Postgres {
            // The commit waits for the server's disk (`postgres::write`).
            let out = self.transaction(true, f);
            self.after_commit(out.is_ok());
            return out;
        }
        sqlite::durable(&self.conn, true)?;
        let out = self.transaction(true, f);
        let restore = sqlite::durable(&self.conn, false);
        self.after_commit(out.is_ok());
        let out = out?;
        restore?;
        Ok(out)
    }
}

/// Seconds since the epoch, as stored.
pub(crate) fn ts(t: DateTime<Utc>) -> i64 {
    t.timestamp()
}

pub(crate) fn from_ts(secs: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(secs, 0).single().unwrap_or_default()
}

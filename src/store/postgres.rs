//! PostgreSQL: connecting with errors a person can act on (one line: which server, which
//! database, what to do), the schema made on first use and upgraded in place step by step
//! (`pg_migrations/`), refused when a newer boxoffice wrote it, and what `db status` says.
//! The synchronous `postgres` client: the app has no async runtime. TLS through rustls, with
//! libpq's `sslmode` meanings (`tls.rs`).

use super::engine::{PgHost, PgUrl, SslMode};
use super::{Db, SCHEMA_VERSION};
use crate::error::{Error, Result};
use postgres::error::SqlState;
use std::time::Duration;

/// PostgreSQL's schema history: `(version, step)`, the first the schema a new database starts
/// from (the first version a PostgreSQL box office had), each later one taking a database from
/// the version before to its own. The last is [`SCHEMA_VERSION`], as SQLite's `migrations/`.
pub(crate) const PG_MIGRATIONS: &[(i64, &str)] = &[
    (21, include_str!("pg_migrations/21_base.sql")),
    (
        22,
        include_str!("pg_migrations/22_door_undos_and_who_holds.sql"),
    ),
    (23, include_str!("pg_migrations/23_customer_name_key.sql")),
];

/// The advisory lock under which a database gets its schema (any number: the schema's own).
const SCHEMA_LOCK: i64 = 0x0062_6f78_6f66_6669;

/// A connection's settings for `url`, the password from the environment or `~/.pgpass`.
fn config(url: &PgUrl) -> Result<postgres::Config> {
    let mut c = postgres::Config::new();
    c.user(&url.user)
        .dbname(&url.dbname)
        .port(url.port)
        .application_name("boxoffice")
        .connect_timeout(Duration::from_secs(5))
        // A server that vanished (a cut cable, a rebooted router) is noticed in about a
        // minute, not the two hours of the system's default.
        .keepalives(true)
        .keepalives_idle(Duration::from_secs(30))
        .keepalives_interval(Duration::from_secs(10))
        .keepalives_retries(3);
    match &url.host {
        PgHost::Tcp(h) => c.host(h),
        PgHost::Socket(dir) => c.host_path(dir),
    };
    match (url.sslmode, &url.host) {
        // A Unix socket is never TLS (as libpq).
        (SslMode::Disable, _) | (_, PgHost::Socket(_)) => {
            c.ssl_mode(postgres::config::SslMode::Disable)
        }
        (SslMode::Prefer, _) => c.ssl_mode(postgres::config::SslMode::Prefer),
        (SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull, _) => {
            c.ssl_mode(postgres::config::SslMode::Require)
        }
    };
    if let Some(p) = url.password() {
        c.password(p);
    }
    Ok(c)
}

/// What went wrong talking to the server, in one line that names it.
pub(crate) fn server_error(url: &PgUrl, e: &postgres::Error) -> Error {
    if let Some(db) = e.as_db_error() {
        let code = db.code();
        if *code == SqlState::INVALID_CATALOG_NAME {
            return Error::Server(format!(
                "PostgreSQL has no database {} (create it: createdb -O {} {})",
                url.dbname, url.user, url.dbname
            ));
        }
        if *code == SqlState::INVALID_PASSWORD
            || *code == SqlState::INVALID_AUTHORIZATION_SPECIFICATION
        {
            return Error::Server(format!(
                "PostgreSQL refused the login of {} to {}: {} (the password comes from \
                 PGPASSWORD or ~/.pgpass)",
                url.user,
                url.dbname,
                db.message()
            ));
        }
        if *code == SqlState::LOCK_NOT_AVAILABLE || *code == SqlState::QUERY_CANCELED {
            return Error::Busy;
        }
        return Error::Server(format!("PostgreSQL ({}): {}", url.shown(), db.message()));
    }
    let mut why = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        why = format!("{why}: {s}");
        source = s.source();
    }
    let why = why.replace('\n', " ");
    match super::tls::hint(url, &why) {
        Some(hint) => Error::Server(format!(
            "cannot reach PostgreSQL for {}: {hint} ({why})",
            url.shown()
        )),
        None => Error::Server(format!(
            "cannot reach PostgreSQL for {}: {why}",
            url.shown()
        )),
    }
}

/// A connection to the database `url` names. Any wait for a lock longer than
/// [`BUSY_TIMEOUT`](super::BUSY_TIMEOUT) gives up ("busy", as on SQLite). The box office's
/// statements are short: no JIT (compiling one took 25 ms of a search page's 26: the planner
/// guesses a page's cost from a list of ids it cannot see into) and no parallel workers
/// (starting them took half of a "has free seats" page's 11 ms).
pub fn connect(url: &PgUrl) -> Result<postgres::Client> {
    let config = config(url)?;
    let mut client = match super::tls::connector(url)? {
        Some(tls) => config.connect(tls),
        None => config.connect(postgres::NoTls),
    }
    .map_err(|e| server_error(url, &e))?;
    client
        .batch_execute(&format!(
            "SET lock_timeout = '{}ms'; SET jit = off; SET max_parallel_workers_per_gather = 0",
            super::BUSY_TIMEOUT.as_millis()
        ))
        .map_err(|e| server_error(url, &e))?;
    Ok(client)
}

/// The schema version recorded. A version table without a row reads as version 0: not one
/// this build can use.
pub(crate) const VERSION_SQL: &str = "SELECT coalesce(max(version), 0) FROM boxoffice_schema";

/// The schema version the database carries; `None` when it has no box office yet (no
/// `boxoffice_schema` table).
pub fn schema_version(
    client: &mut impl postgres::GenericClient,
    url: &PgUrl,
) -> Result<Option<i64>> {
    let fail = |e: postgres::Error| server_error(url, &e);
    let exists: bool = client
        .query_one("SELECT to_regclass('boxoffice_schema') IS NOT NULL", &[])
        .map_err(fail)?
        .get(0);
    if !exists {
        return Ok(None);
    }
    let version: i64 = client.query_one(VERSION_SQL, &[]).map_err(fail)?.get(0);
    Ok(Some(version))
}

/// Opens the box office in `url`: a new database gets the schema, an older one the steps it
/// lacks, one at a time; each step and its version in one transaction, under an advisory lock,
/// so two machines starting at once upgrade once (the second finds it done). A database a
/// newer boxoffice wrote is refused untouched.
pub fn open(url: &PgUrl) -> Result<postgres::Client> {
    let mut client = connect(url)?;
    let fail = |e: postgres::Error| server_error(url, &e);
    loop {
        let mut tx = client.transaction().map_err(fail)?;
        tx.batch_execute(&format!("SELECT pg_advisory_xact_lock({SCHEMA_LOCK})"))
            .map_err(fail)?;
        let step = match schema_version(&mut tx, url)? {
            Some(v) if v > SCHEMA_VERSION => {
                return Err(Error::SchemaTooNew {
                    found: v,
                    supported: SCHEMA_VERSION,
                });
            }
            Some(v) if v == SCHEMA_VERSION => None,
            Some(v) => Some(
                PG_MIGRATIONS
                    .iter()
                    .find(|(to, _)| *to == v + 1)
                    .ok_or_else(|| {
                        Error::Server(format!(
                            "{} has the box office schema {v}, which no build upgrades from \
                             (PostgreSQL box offices start at schema {})",
                            url.shown(),
                            PG_MIGRATIONS[0].0
                        ))
                    })?,
            ),
            None => Some(&PG_MIGRATIONS[0]),
        };
        let Some((version, sql)) = step else {
            tx.commit().map_err(fail)?;
            return Ok(client);
        };
        tx.batch_execute(sql).map_err(fail)?;
        if *version == 23 {
            // The names on record, folded as the writer folds new ones: one round trip there,
            // one back.
            let rows = tx
                .query("SELECT id, name FROM customers WHERE name IS NOT NULL", &[])
                .map_err(fail)?;
            let ids: Vec<i64> = rows.iter().map(|r| r.get(0)).collect();
            let keys: Vec<String> = rows
                .iter()
                .map(|r| crate::text::fold(r.get::<_, &str>(1)))
                .collect();
            tx.execute(
                "UPDATE customers c SET name_key = v.k \
                 FROM unnest($1::bigint[], $2::text[]) AS v(id, k) WHERE c.id = v.id",
                &[&ids, &keys],
            )
            .map_err(fail)?;
        }
        tx.execute(
            "INSERT INTO boxoffice_schema (version) VALUES ($1)",
            &[version],
        )
        .map_err(fail)?;
        tx.commit().map_err(fail)?;
    }
}

/// The advisory lock every write transaction takes first: the box offices sharing a database
/// write one at a time, as terminals on one SQLite file do, so every rule reads what the
/// previous writer committed (READ COMMITTED: each statement sees the commits made before it
/// started, and none can be made while the lock is held). The unique claim per concert and
/// seat stays the backstop.
macro_rules! write_lock {
    () => {
        "27707110908389748"
    };
}

/// A write's own settings, for this transaction only (so they hold through a pooler that
/// hands the connection to someone else between transactions): a lock not had in 5 s is
/// "busy" (`BUSY_TIMEOUT`, as on SQLite); a statement running 30 s is ended; and a box office
/// that stops talking inside its write (a network cut, a suspended laptop, a hung process)
/// has its transaction ended by the server after 10 s, and the lock with it, instead of
/// keeping every other box office waiting until TCP gives up on it hours later.
macro_rules! write_settings {
    () => {
        "SET LOCAL lock_timeout = '5000ms'; SET LOCAL statement_timeout = '30s'; \
         SET LOCAL idle_in_transaction_session_timeout = '10s'; "
    };
}

// The last statement reads the server's clock once the lock is held (`clock_timestamp`, not
// the batch's arrival): the moment the transaction's changes are stamped with.
const BEGIN: &str = concat!(
    "BEGIN ISOLATION LEVEL READ COMMITTED; SET LOCAL synchronous_commit = off; ",
    write_settings!(),
    "SELECT pg_advisory_xact_lock(",
    write_lock!(),
    "); SELECT extract(epoch FROM clock_timestamp())::text"
);
const BEGIN_DURABLE: &str = concat!(
    "BEGIN ISOLATION LEVEL READ COMMITTED; SET LOCAL synchronous_commit = on; ",
    write_settings!(),
    "SELECT pg_advisory_xact_lock(",
    write_lock!(),
    "); SELECT extract(epoch FROM clock_timestamp())::text"
);

/// Runs `f` in one write transaction: READ COMMITTED, the write lock taken first, waiting at
/// most [`BUSY_TIMEOUT`](super::BUSY_TIMEOUT) for any lock (then "busy", as on SQLite: the
/// connection's `lock_timeout`), the change counter moved on at the end; an error or a panic
/// rolls it back.
///
/// Durability as on SQLite: a `durable` commit (a payment, a confirmed booking) returns once
/// it is on the server's disk; another one (a hold, a release) once the server has it, its
/// write to disk following within moments (`synchronous_commit = off`: a server that loses
/// power may lose the last holds, never half of one, as a SQLite file in WAL mode with
/// `synchronous = NORMAL`). A commit that waits for the disk holds the write lock meanwhile:
/// for a hold, that wait was most of the time every other box office waited.
pub(crate) fn write<T, E: From<super::sql::Error>>(
    db: &Db,
    durable: bool,
    f: impl FnOnce(&Db, chrono::DateTime<chrono::Utc>) -> std::result::Result<T, E>,
) -> std::result::Result<T, E> {
    struct Open<'a>(&'a Db, bool);
    impl Drop for Open<'_> {
        fn drop(&mut self) {
            if !self.1 {
                // A broken connection has no transaction left to end.
                let _ = self.0.execute_batch("ROLLBACK");
            }
        }
    }
    // One round trip to begin and take the lock, one to count the change and commit. Rolled
    // back unless the commit went through: a lock not had in time, or a failed statement,
    // leaves the transaction begun and aborted (a ROLLBACK after a failed COMMIT is only a
    // warning).
    let mut open = Open(db, false);
    let server_now = db.batch_last_value(if durable { BEGIN_DURABLE } else { BEGIN })?;
    let server_now = server_now
        .as_deref()
        .and_then(|v| v.parse::<f64>().ok())
        .and_then(|secs| {
            chrono::DateTime::from_timestamp(secs.floor() as i64, (secs.fract() * 1e9) as u32)
        })
        .ok_or_else(|| super::sql::Error::Type("the server did not say the time".into()))?;
    let out = f(open.0, server_now)?;
    db.execute_batch("UPDATE boxoffice_changes SET n = n + 1; COMMIT")?;
    open.1 = true;
    Ok(out)
}

/// The change counter live screens poll ([`write`] moves it on).
pub(crate) fn change_counter(db: &Db) -> Result<i64> {
    Ok(db.query_row("SELECT n FROM boxoffice_changes", (), |r| r.get(0))?)
}

/// What `db status` says of a box office.
#[derive(Debug, Clone, serde::Serialize)]
pub struct DbStatus {
    /// `sqlite` or `postgresql`.
    pub engine: String,
    /// The schema version the data carries; `null` where there is no box office yet.
    pub schema_version: Option<i64>,
    /// The version this build writes.
    pub supported_version: i64,
    /// Where it lives: the file, or the database, server and user.
    pub location: String,
    /// The server's version, for PostgreSQL.
    pub server: Option<String>,
}

/// The status of the box office in `url`, without changing anything.
pub fn status(url: &PgUrl) -> Result<DbStatus> {
    let mut client = connect(url)?;
    let version = schema_version(&mut client, url)?;
    let server: String = client
        .query_one("SHOW server_version", &[])
        .map_err(|e| server_error(url, &e))?
        .get(0);
    Ok(DbStatus {
        engine: "postgresql".into(),
        schema_version: version,
        supported_version: SCHEMA_VERSION,
        location: url.shown(),
        server: Some(server),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// PostgreSQL's history is one step per version, without a gap, ending where SQLite's
    /// does; every step of SQLite's after PostgreSQL's start has its PostgreSQL twin, by name.
    #[test]
    fn the_postgres_history_has_a_step_for_every_version_and_ends_at_this_build() {
        let versions: Vec<i64> = PG_MIGRATIONS.iter().map(|(v, _)| *v).collect();
        let first = versions[0];
        assert_eq!(versions, (first..=SCHEMA_VERSION).collect::<Vec<_>>());
        let dir = |d: &str| -> Vec<String> {
            let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("src/store")
                .join(d);
            let mut names: Vec<String> = std::fs::read_dir(path)
                .unwrap()
                .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .filter(|n| n.ends_with(".sql"))
                .collect();
            names.sort();
            names
        };
        let pg = dir("pg_migrations");
        assert_eq!(
            pg.len(),
            PG_MIGRATIONS.len(),
            "every file is in the list: {pg:?}"
        );
        let sqlite_after_start: Vec<String> = dir("migrations")
            .into_iter()
            .filter(|n| n[..2].parse::<i64>().is_ok_and(|v| v > first))
            .collect();
        assert_eq!(pg[1..], sqlite_after_start[..], "the same steps, by name");
    }
}

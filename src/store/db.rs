//! A connection to either engine and the statements it keeps prepared.
//!
//! On SQLite, a thin wrapper over rusqlite's own statement cache (`prepare_cached`), so every
//! store statement is parsed once per connection. On PostgreSQL, each statement's text is
//! translated ([`sql::translate`]) and prepared on the server once per connection, and kept
//! here. The rules see one type with one set of methods ([`sql`]).

use super::sql::{self, Params, PgLink, Prepared, Row, Statement};
use rusqlite::Connection;
use std::cell::RefCell;
use std::collections::HashMap;

/// How many statements a connection keeps prepared: every hot statement of the store (the
/// default keeps only 16, and evicting one means parsing it again on the next hold). On
/// PostgreSQL, past this many the kept statements are let go at once (searches build their
/// text, and each one kept is kept by the server too).
const STATEMENT_CACHE: usize = 256;

/// A connection and its prepared statements.
pub struct Db {
    engine: Engine,
    /// A notice was queued in the transaction under way: the store delivers the outbox once it
    /// commits (`Store::write`).
    queued: std::cell::Cell<bool>,
    /// Who is selling at this connection: the clerk (if named) and the terminal. Recorded on
    /// the sales and refunds it makes (the day's takings by clerk).
    operator: Operator,
}

enum Engine {
    Sqlite(Connection),
    Postgres(Box<Pg>),
}

/// A PostgreSQL connection and what goes with it.
struct Pg {
    client: PgLink,
    prepared: RefCell<HashMap<String, Prepared>>,
    /// Where to connect again when the connection was lost.
    url: super::engine::PgUrl,
    /// How many times it was.
    reconnects: std::cell::Cell<i64>,
}

/// Which engine a connection talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A SQLite file, through rusqlite.
    Sqlite,
    /// A PostgreSQL server, through `postgres`.
    Postgres,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db").field("kind", &self.kind()).finish()
    }
}

/// The clerk and terminal a connection sells for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Operator {
    /// The clerk's name; `None` when no clerk is named.
    pub clerk: Option<String>,
    /// The terminal's name; `None` when it is not named.
    pub terminal: Option<String>,
}

impl Db {
    /// A SQLite connection, keeping its hot statements prepared.
    pub fn new(conn: Connection) -> Db {
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        Db::with(Engine::Sqlite(conn))
    }

    /// A PostgreSQL connection to the database `url` names (to connect again if it is lost).
    pub fn postgres(client: postgres::Client, url: super::engine::PgUrl) -> Db {
        Db::with(Engine::Postgres(Box::new(Pg {
            client: PgLink {
                client: RefCell::new(client),
                lost: Default::default(),
            },
            prepared: Default::default(),
            url,
            reconnects: Default::default(),
        })))
    }

    /// How many times the connection to the server was lost and made again (0 on SQLite):
    /// whatever changed meanwhile was not seen, so a screen reads everything again.
    pub fn reconnects(&self) -> i64 {
        match &self.engine {
            Engine::Sqlite(_) => 0,
            Engine::Postgres(pg) => pg.reconnects.get(),
        }
    }

    /// On PostgreSQL, a connection the server dropped (a restart, a network cut, an idle
    /// timeout) is made again before the next statement; the statements it had prepared are
    /// prepared again. The statement that met the drop failed, and said so; a transaction
    /// under way then was rolled back by the server.
    fn reconnect_if_lost(&self) -> sql::Result<()> {
        if let Engine::Postgres(pg) = &self.engine
            && let Pg {
                client,
                prepared,
                url,
                reconnects,
            } = &**pg
            && client.is_lost()
        {
            let fresh =
                super::postgres::connect(url).map_err(|e| sql::Error::Lost(e.to_string()))?;
            *client.client.borrow_mut() = fresh;
            client.lost.set(false);
            prepared.borrow_mut().clear();
            reconnects.set(reconnects.get() + 1);
            self.name_session()?;
        }
        Ok(())
    }

    /// On PostgreSQL, names the session after the terminal and the clerk at it
    /// (`boxoffice kiosk-2 anna`), so a DBA finds in `pg_stat_activity` which kiosk holds a
    /// lock. (SQLite has no sessions to name.)
    pub(crate) fn name_session(&self) -> sql::Result<()> {
        if let Engine::Postgres(_) = &self.engine {
            let name = format!(
                "boxoffice {} {}",
                self.operator.terminal.as_deref().unwrap_or("-"),
                self.operator.clerk.as_deref().unwrap_or("-")
            );
            // At most 63 bytes (PostgreSQL's limit), cut at a character.
            let mut end = name.len().min(63);
            while !name.is_char_boundary(end) {
                end -= 1;
            }
            self.query_row(
                "SELECT set_config('application_name', ?1, false)",
                [&name[..end]],
                |r| r.get::<String>(0),
            )?;
        }
        Ok(())
    }

    fn with(engine: Engine) -> Db {
        Db {
            engine,
            queued: Default::default(),
            operator: Operator::default(),
        }
    }

    /// Which engine this connection talks to.
    pub fn kind(&self) -> Kind {
        match self.engine {
            Engine::Sqlite(_) => Kind::Sqlite,
            Engine::Postgres(_) => Kind::Postgres,
        }
    }

    /// The statement text for this engine, where the two engines' SQL differs.
    pub fn pick<'a>(&self, sqlite: &'a str, postgres: &'a str) -> &'a str {
        match self.kind() {
            Kind::Sqlite => sqlite,
            Kind::Postgres => postgres,
        }
    }

    /// Who is selling at this connection.
    pub fn operator(&self) -> &Operator {
        &self.operator
    }

    /// Names who sells at this connection: recorded on the sales and refunds it makes.
    pub fn set_operator(&mut self, operator: Operator) {
        self.operator = operator;
    }

    /// Marks the transaction under way as one that queued a notice (`notify::queue`).
    pub fn note_queued(&self) {
        self.queued.set(true);
    }

    /// Whether the transaction just ended queued a notice; clears the mark.
    pub fn take_queued(&self) -> bool {
        self.queued.replace(false)
    }

    /// The SQLite connection, for what only SQLite has (pragmas, the schema's migrations, the
    /// checkpoint thread, `db copy`); `None` on PostgreSQL.
    pub fn sqlite(&self) -> Option<&Connection> {
        match &self.engine {
            Engine::Sqlite(c) => Some(c),
            Engine::Postgres(_) => None,
        }
    }

    /// The SQLite connection to change (migrations, hooks): the statements kept are finalized
    /// first, so a schema change never meets a statement prepared against the old schema.
    pub fn sqlite_mut(&mut self) -> Option<&mut Connection> {
        match &mut self.engine {
            Engine::Sqlite(c) => {
                c.flush_prepared_statement_cache();
                Some(c)
            }
            Engine::Postgres(_) => None,
        }
    }

    /// The statement for `sql`, prepared on first use and kept.
    pub fn prepare_cached(&self, sql: &str) -> sql::Result<Statement<'_>> {
        match &self.engine {
            Engine::Sqlite(c) => Ok(Statement::lite(c.prepare_cached(sql)?)),
            Engine::Postgres(pg) => {
                let Pg {
                    client, prepared, ..
                } = &**pg;
                self.reconnect_if_lost()?;
                if let Some(p) = prepared.borrow().get(sql) {
                    return Ok(Statement::pg(client, p.clone()));
                }
                let (text, names) = sql::translate(sql);
                let statement = client.run(|c| c.prepare(&text))?;
                let p = Prepared { statement, names };
                let mut kept = prepared.borrow_mut();
                if kept.len() >= STATEMENT_CACHE {
                    kept.clear();
                }
                kept.insert(sql.to_string(), p.clone());
                Ok(Statement::pg(client, p))
            }
        }
    }

    /// The same as [`Db::prepare_cached`]: every statement is kept.
    pub fn prepare(&self, sql: &str) -> sql::Result<Statement<'_>> {
        self.prepare_cached(sql)
    }

    /// Runs `sql` with `params`; returns how many rows it changed.
    pub fn execute(&self, sql: &str, params: impl Params) -> sql::Result<usize> {
        self.prepare_cached(sql)?.execute(params)
    }

    /// The first row `sql` returns with `params`, read by `f`; [`sql::Error::NoRows`] if none.
    pub fn query_row<T>(
        &self,
        sql: &str,
        params: impl Params,
        f: impl FnOnce(&Row<'_>) -> sql::Result<T>,
    ) -> sql::Result<T> {
        self.prepare_cached(sql)?.query_row(params, f)
    }

    /// Runs `sql` (several statements) in one round trip, as [`Db::execute_batch`], and gives
    /// the first column of the last row any of them returned, as text. On SQLite, `None`.
    pub(crate) fn batch_last_value(&self, sql: &str) -> sql::Result<Option<String>> {
        match &self.engine {
            Engine::Sqlite(c) => {
                c.execute_batch(sql)?;
                Ok(None)
            }
            Engine::Postgres(pg) => {
                let client = &pg.client;
                self.reconnect_if_lost()?;
                let messages = client.run(|c| c.simple_query(sql))?;
                Ok(messages.iter().rev().find_map(|m| match m {
                    postgres::SimpleQueryMessage::Row(row) => row.get(0).map(str::to_string),
                    _ => None,
                }))
            }
        }
    }

    /// Runs statements without parameters, separated by `;`.
    pub fn execute_batch(&self, sql: &str) -> sql::Result<()> {
        match &self.engine {
            Engine::Sqlite(c) => Ok(c.execute_batch(sql)?),
            Engine::Postgres(pg) => {
                let client = &pg.client;
                self.reconnect_if_lost()?;
                Ok(client.run(|c| c.batch_execute(sql))?)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn db() -> Db {
        let db = Db::new(Connection::open_in_memory().unwrap());
        db.execute_batch("CREATE TABLE t (x INTEGER)").unwrap();
        db
    }

    #[test]
    fn a_nested_use_of_the_same_text_gets_its_own_statement() {
        let db = db();
        db.execute_batch("INSERT INTO t VALUES (1), (2)").unwrap();
        const ALL: &str = "SELECT x FROM t ORDER BY x";
        let mut outer = db.prepare_cached(ALL).unwrap();
        let mut rows = outer.query(()).unwrap();
        let first: i64 = rows.next().unwrap().unwrap().get(0).unwrap();
        let inner: Vec<i64> = db
            .prepare_cached(ALL)
            .unwrap()
            .query_map((), |r| r.get(0))
            .unwrap()
            .collect::<crate::store::sql::Result<_>>()
            .unwrap();
        let second: i64 = rows.next().unwrap().unwrap().get(0).unwrap();
        assert_eq!((first, second, inner), (1, 2, vec![1, 2]));
    }

    #[test]
    fn changing_the_schema_through_conn_mut_never_meets_a_stale_statement() {
        let mut db = db();
        let n: i64 = db
            .prepare_cached("SELECT count(*) FROM t")
            .unwrap()
            .query_row((), |r| r.get(0))
            .unwrap();
        assert_eq!(n, 0);
        db.sqlite_mut()
            .unwrap()
            .execute_batch(
                "DROP TABLE t; CREATE TABLE t (x INTEGER, y INTEGER); INSERT INTO t VALUES (1, 2)",
            )
            .unwrap();
        let n: i64 = db
            .prepare_cached("SELECT count(*) FROM t")
            .unwrap()
            .query_row((), |r| r.get(0))
            .unwrap();
        assert_eq!(n, 1);
    }
}

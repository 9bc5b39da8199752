//! A connection and the statements it keeps prepared.
//!
//! A thin wrapper over rusqlite's own statement cache (`Connection::prepare_cached`), so every
//! store statement is parsed once per connection. It once kept statements by the address of
//! their SQL text, which saved about a microsecond a hold and needed `unsafe` to tie the
//! statements' lifetime to the connection; a box office cannot feel the difference, and the
//! crate has no `unsafe` now.

use rusqlite::{CachedStatement, Connection};
use std::ops::Deref;

/// How many statements a connection keeps prepared: every hot statement of the store (the
/// default keeps only 16, and evicting one means parsing it again on the next hold).
const STATEMENT_CACHE: usize = 256;

/// A connection and its prepared statements. Derefs to the connection for everything else.
#[derive(Debug)]
pub struct Db {
    conn: Connection,
    /// A notice was queued in the transaction under way: the store delivers the outbox once it
    /// commits (`Store::write`).
    queued: std::cell::Cell<bool>,
    /// Who is selling at this connection: the clerk (if named) and the terminal. Recorded on
    /// the sales and refunds it makes (the day's takings by clerk).
    operator: Operator,
}

/// The clerk and terminal a connection sells for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Operator {
    pub clerk: Option<String>,
    pub terminal: Option<String>,
}

impl Db {
    pub fn new(conn: Connection) -> Db {
        conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
        Db {
            conn,
            queued: Default::default(),
            operator: Operator::default(),
        }
    }

    pub fn operator(&self) -> &Operator {
        &self.operator
    }

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

    pub fn conn(&self) -> &Connection {
        &self.conn
    }

    /// The connection to change (migrations, hooks): the statements kept are finalized first,
    /// so a schema change never meets a statement prepared against the old schema.
    pub fn conn_mut(&mut self) -> &mut Connection {
        self.conn.flush_prepared_statement_cache();
        &mut self.conn
    }

    /// The statement for `sql`, prepared on first use and kept.
    pub fn prepare_cached(&self, sql: &str) -> rusqlite::Result<CachedStatement<'_>> {
        self.conn.prepare_cached(sql)
    }
}

impl Deref for Db {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        &self.conn
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
        let mut rows = outer.query([]).unwrap();
        let first: i64 = rows.next().unwrap().unwrap().get(0).unwrap();
        let inner: Vec<i64> = db
            .prepare_cached(ALL)
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
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
            .query_row([], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 0);
        db.conn_mut()
            .execute_batch(
                "DROP TABLE t; CREATE TABLE t (x INTEGER, y INTEGER); INSERT INTO t VALUES (1, 2)",
            )
            .unwrap();
        let n: i64 = db
            .prepare_cached("SELECT count(*) FROM t")
            .unwrap()
            .query_row([], |r| r.get(0))
            .unwrap();
        assert_eq!(n, 1);
    }
}

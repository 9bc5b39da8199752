//! A connection with the statements it keeps prepared, found by where their SQL text lives.
//!
//! rusqlite's own statement cache (`Connection::prepare_cached`) finds a statement by its SQL
//! text: at every use it trims, hashes and copies the text into a new key, and hashes it again
//! when the statement goes back. That cost about 1,100 instructions a statement, ten statements
//! a hold: a tenth of a refused hold's work and a twelfth of a hold's (BENCHMARKS.md). The
//! store's statements are `'static` text (literals, `concat!`, `LazyLock<String>`), so here a
//! statement is found by the text's address and length, which cannot change while the program
//! runs: two numbers hashed, no copy. SQL built at run time goes to rusqlite's cache as before
//! (`db.conn().prepare_cached`).

use rusqlite::{Connection, PrepFlags, Statement};
use std::cell::RefCell;
use std::ops::{Deref, DerefMut};
use std::ptr::NonNull;

/// A `'static` SQL text's address and length.
type Key = (usize, usize);

/// A connection and its prepared statements. Derefs to the connection for everything else.
pub struct Db {
    /// Finalized before the connection closes ([`Drop`]). The `'static` stands for "as long as
    /// `conn`": the statements refer to the connection, which lives on the heap at a fixed
    /// address and is freed only after them.
    statements: RefCell<super::hash::FastMap<Key, Statement<'static>>>,
    conn: NonNull<Connection>,
}

// SAFETY: the connection and every statement of it move between threads together (`Db` is not
// `Sync`: one thread at a time uses them), as rusqlite's own statement cache does.
unsafe impl Send for Db {}

impl Db {
    pub fn new(conn: Connection) -> Db {
        Db {
            statements: RefCell::default(),
            conn: NonNull::from(Box::leak(Box::new(conn))),
        }
    }

    pub fn conn(&self) -> &Connection {
        // SAFETY: allocated in `new`, freed only in `drop`; shared while `self` is.
        unsafe { self.conn.as_ref() }
    }

    /// The connection to change (migrations, hooks): the statements kept are finalized first,
    /// so nothing else refers to it meanwhile.
    pub fn conn_mut(&mut self) -> &mut Connection {
        self.statements.get_mut().clear();
        // SAFETY: as in `conn`, and no statement refers to it now.
        unsafe { self.conn.as_mut() }
    }

    /// The statement for `sql`, prepared on first use and kept. While one use is out, a nested
    /// use of the same text prepares another copy (only one is kept).
    pub fn prepare_cached(&self, sql: &'static str) -> rusqlite::Result<Prepared<'_>> {
        let key = (sql.as_ptr() as usize, sql.len());
        let kept = self.statements.borrow_mut().remove(&key);
        let stmt = match kept {
            Some(stmt) => stmt,
            None => {
                let stmt = self
                    .conn()
                    .prepare_with_flags(sql, PrepFlags::SQLITE_PREPARE_PERSISTENT)?;
                // SAFETY: the statement is kept in `self.statements` or dropped by the guard
                // (which borrows `self`), both before the connection is freed.
                unsafe { std::mem::transmute::<Statement<'_>, Statement<'static>>(stmt) }
            }
        };
        Ok(Prepared {
            stmt: Some(stmt),
            key,
            db: self,
        })
    }
}

impl Deref for Db {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        self.conn()
    }
}

impl Drop for Db {
    fn drop(&mut self) {
        self.statements.get_mut().clear();
        // SAFETY: allocated by `Box::leak` in `new`; no statement refers to it any more.
        drop(unsafe { Box::from_raw(self.conn.as_ptr()) });
    }
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db")
            .field("statements", &self.statements.borrow().len())
            .finish()
    }
}

/// A statement in use; it goes back to its [`Db`] when dropped, its parameters cleared.
///
/// Never move the statement out of the guard (`mem::swap` or `mem::replace` through
/// `DerefMut`): a statement of one connection put back into another's `Db` would outlive its
/// connection. That is why `Db` is not public.
pub struct Prepared<'db> {
    stmt: Option<Statement<'static>>,
    key: Key,
    db: &'db Db,
}

impl Deref for Prepared<'_> {
    type Target = Statement<'static>;
    fn deref(&self) -> &Statement<'static> {
        self.stmt.as_ref().expect("a statement in use")
    }
}

impl DerefMut for Prepared<'_> {
    fn deref_mut(&mut self) -> &mut Statement<'static> {
        self.stmt.as_mut().expect("a statement in use")
    }
}

impl Drop for Prepared<'_> {
    fn drop(&mut self) {
        if let Some(mut stmt) = self.stmt.take() {
            stmt.clear_bindings();
            self.db.statements.borrow_mut().insert(self.key, stmt);
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
    fn a_statement_is_prepared_once_and_reused() {
        let db = db();
        const INSERT: &str = "INSERT INTO t (x) VALUES (?1)";
        for x in 0..3 {
            db.prepare_cached(INSERT).unwrap().execute([x]).unwrap();
        }
        assert_eq!(db.statements.borrow().len(), 1);
        let sum: i64 = db
            .prepare_cached("SELECT sum(x) FROM t")
            .unwrap()
            .query_row([], |r| r.get(0))
            .unwrap();
        assert_eq!(sum, 3);
        assert_eq!(db.statements.borrow().len(), 2);
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
    fn an_error_in_the_sql_is_returned_and_nothing_is_kept() {
        let db = db();
        assert!(db.prepare_cached("SELEKT 1").is_err());
        assert_eq!(db.statements.borrow().len(), 0);
    }

    #[test]
    fn changing_the_connection_finalizes_the_statements_first() {
        let mut db = db();
        let n: i64 = db
            .prepare_cached("SELECT count(*) FROM t")
            .unwrap()
            .query_row([], |r| r.get(0))
            .unwrap();
        assert_eq!((n, db.statements.borrow().len()), (0, 1));
        // Nothing may refer to the connection while it is borrowed to be changed.
        db.conn_mut().execute_batch("DROP TABLE t").unwrap();
        assert_eq!(db.statements.borrow().len(), 0);
    }
}

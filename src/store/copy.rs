//! Moving a box office that grew: every table of a SQLite box office copied into an empty
//! PostgreSQL database in one transaction (read from one snapshot), then checked: rows and
//! money per table equal on both sides, or nothing is kept.

use super::Store;
use super::engine::PgUrl;
use super::postgres::{open, server_error};
use crate::error::{Error, Result};
use postgres::types::{ToSql, Type};
use std::path::{Path, PathBuf};

/// The tables, parents before children (the foreign keys hold at every insert).
pub const TABLES: &[&str] = &[
    "box_office",
    "venues",
    "categories",
    "seats",
    "seat_rows",
    "imports",
    "concerts",
    "prices",
    "customers",
    "holds",
    "bookings",
    "claims",
    "tickets",
    "door_undos",
    "payments",
    "waitlist",
    "outbox",
];

/// One table as copied: rows and money (the sum of its `*_cents` columns) on each side.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TableCheck {
    /// The table's name.
    pub table: String,
    /// Its rows in the box office copied from.
    pub rows_from: i64,
    /// Its rows in the copy.
    pub rows_to: i64,
    /// The sum of its money columns in the box office copied from, in cents.
    pub cents_from: i64,
    /// The sum of its money columns in the copy, in cents.
    pub cents_to: i64,
}

impl TableCheck {
    /// Whether the copy has the same rows and money as its source.
    pub fn equal(&self) -> bool {
        self.rows_from == self.rows_to && self.cents_from == self.cents_to
    }
}

/// What `db copy` did.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CopyReport {
    /// The box office copied from: a file's path, or a PostgreSQL database as shown (no password).
    pub from: String,
    /// The box office copied to, said the same way.
    pub to: String,
    /// Every table copied, parents first, each with its check.
    pub tables: Vec<TableCheck>,
}

type Param = Box<dyn ToSql + Sync>;

/// A SQLite value as the PostgreSQL column of type `ty` takes it.
fn param(table: &str, column: &str, v: rusqlite::types::Value, ty: &Type) -> Result<Param> {
    use rusqlite::types::Value as V;
    let wrong = |what: &str| {
        Error::Corrupt(format!(
            "{table}.{column} holds {what}, which PostgreSQL's {ty} column cannot take"
        ))
    };
    Ok(match (v, ty) {
        (V::Null, t) if *t == Type::INT8 => Box::new(None::<i64>),
        (V::Null, _) => Box::new(None::<String>),
        (V::Integer(i), t) if *t == Type::INT8 => Box::new(i),
        (V::Integer(i), t) if *t == Type::TEXT => Box::new(i.to_string()),
        (V::Text(s), t) if *t == Type::TEXT => Box::new(s),
        (V::Text(s), t) if *t == Type::INT8 => {
            Box::new(s.trim().parse::<i64>().map_err(|_| wrong("text"))?)
        }
        (V::Real(_), _) => return Err(wrong("a real number")),
        (V::Blob(_), _) => return Err(wrong("bytes")),
        _ => return Err(wrong("a value")),
    })
}

/// An INSERT of `n` rows of `width` values each into `table` (`list`: its columns).
fn insert_sql(table: &str, list: &str, width: usize, n: usize) -> String {
    let rows: Vec<String> = (0..n)
        .map(|r| {
            let marks: Vec<String> = (1..=width).map(|c| format!("${}", r * width + c)).collect();
            format!("({})", marks.join(", "))
        })
        .collect();
    format!("INSERT INTO {table} ({list}) VALUES {}", rows.join(", "))
}

/// The SQLite connection of a store being copied from.
fn lite(store: &Store) -> Result<&rusqlite::Connection> {
    store
        .conn()
        .sqlite()
        .ok_or_else(|| Error::invalid("this copies from a SQLite box office"))
}

/// The columns of a SQLite table, in order.
fn columns(src: &Store, table: &str) -> Result<Vec<String>> {
    let mut st = lite(src)?.prepare(&format!("PRAGMA table_info(\"{table}\")"))?;
    let cols = st
        .query_map([], |r| r.get::<_, String>(1))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(cols)
}

/// The rows and the sum of a table's money columns (`*_cents`), as SQL over its `columns`
/// (PostgreSQL sums integers as `numeric`: cast back).
fn money_sql(table: &str, columns: &[String]) -> String {
    let money: Vec<String> = columns
        .iter()
        .filter(|c| c.ends_with("_cents"))
        .map(|c| format!("CAST(coalesce(sum({c}), 0) AS BIGINT)"))
        .collect();
    let money = if money.is_empty() {
        "CAST(0 AS BIGINT)".to_string()
    } else {
        money.join(" + ")
    };
    format!("SELECT count(*), {money} FROM {table}")
}

impl Store {
    /// Copies this (SQLite) box office into the empty PostgreSQL database `url`, in one
    /// transaction; refuses a database that has any box office data. Returns the check.
    pub fn copy_to_postgres(&self, url: &PgUrl) -> Result<CopyReport> {
        let mut client = open(url)?;
        let fail = |e: postgres::Error| server_error(url, &e);
        let mut tx = client.transaction().map_err(fail)?;
        // A new database has its box office's id and nothing else: the copy brings the source's.
        for table in TABLES.iter().filter(|t| **t != "box_office") {
            let n: i64 = tx
                .query_one(&format!("SELECT count(*) FROM {table}"), &[])
                .map_err(fail)?
                .get(0);
            if n > 0 {
                return Err(Error::invalid(format!(
                    "{} already holds a box office ({n} rows in {table}): copy into an empty \
                     database",
                    url.shown()
                )));
            }
        }
        tx.batch_execute("DELETE FROM box_office").map_err(fail)?;
        // One snapshot of the source, however long the copy takes.
        lite(self)?.execute_batch("BEGIN")?;
        let copied = (|| -> Result<Vec<TableCheck>> {
            let mut checks = Vec::new();
            for table in TABLES {
                let cols = columns(self, table)?;
                let list = cols.join(", ");
                // Rows go in batches (one statement a batch, not a round trip a row): a
                // statement is at most 65,535 parameters.
                let per_batch = (60_000 / cols.len()).clamp(1, 500);
                let full = tx
                    .prepare(&insert_sql(table, &list, cols.len(), per_batch))
                    .map_err(fail)?;
                let types: Vec<Type> = full.params()[..cols.len()].to_vec();
                let mut st = lite(self)?.prepare(&format!("SELECT {list} FROM \"{table}\""))?;
                let mut rows = st.query([])?;
                let mut batch: Vec<Param> = Vec::with_capacity(per_batch * cols.len());
                loop {
                    let row = rows.next()?;
                    if let Some(r) = row {
                        for (i, ty) in types.iter().enumerate() {
                            batch.push(param(table, &cols[i], r.get(i)?, ty)?);
                        }
                    }
                    let n = batch.len() / cols.len();
                    if n > 0 && (n == per_batch || row.is_none()) {
                        let insert = if n == per_batch {
                            full.clone()
                        } else {
                            tx.prepare(&insert_sql(table, &list, cols.len(), n))
                                .map_err(fail)?
                        };
                        let refs: Vec<&(dyn ToSql + Sync)> =
                            batch.iter().map(|v| v.as_ref()).collect();
                        tx.execute(&insert, &refs).map_err(fail)?;
                        batch.clear();
                    }
                    if row.is_none() {
                        break;
                    }
                }
                let sql = money_sql(table, &cols);
                let (rows_from, cents_from): (i64, i64) = self
                    .conn()
                    .query_row(&sql, (), |r| Ok((r.get(0)?, r.get(1)?)))?;
                let to = tx.query_one(&sql, &[]).map_err(fail)?;
                let (rows_to, cents_to): (i64, i64) =
                    (to.try_get(0).map_err(fail)?, to.try_get(1).map_err(fail)?);
                checks.push(TableCheck {
                    table: table.to_string(),
                    rows_from,
                    rows_to,
                    cents_from,
                    cents_to,
                });
                if *table == "claims" {
                    crate::failpoint::hit("copy:half-way");
                }
                let numbered = cols
                    .iter()
                    .position(|c| c == "id")
                    .is_some_and(|i| types[i] == Type::INT8);
                if numbered {
                    // New rows continue after the copied ones.
                    tx.batch_execute(&format!(
                        "SELECT setval(pg_get_serial_sequence('{table}', 'id'), \
                         coalesce((SELECT max(id) FROM {table}), 0) + 1, false)"
                    ))
                    .map_err(fail)?;
                }
            }
            Ok(checks)
        })();
        let _ = lite(self)?.execute_batch("COMMIT");
        let checks = copied?;
        if let Some(bad) = checks.iter().find(|c| !c.equal()) {
            return Err(Error::Server(format!(
                "the copy of {} does not match ({} rows and {} cents here, {} and {} there); \
                 nothing was kept",
                bad.table, bad.rows_from, bad.cents_from, bad.rows_to, bad.cents_to
            )));
        }
        tx.commit().map_err(fail)?;
        // The planner's statistics for what was just loaded (autovacuum would get there
        // later): without them a search page took 80 ms instead of 5.
        client.batch_execute("ANALYZE").map_err(fail)?;
        Ok(CopyReport {
            from: self.path().display().to_string(),
            to: url.shown(),
            tables: checks,
        })
    }
}

/// Copies the box office in the PostgreSQL database `url` into a new SQLite file `path` (the
/// way back, or a snapshot to take along), in one transaction on each side, and checks it as
/// [`Store::copy_to_postgres`] does. Refuses a file that exists.
pub fn copy_to_sqlite(url: &PgUrl, path: &Path) -> Result<CopyReport> {
    if path.exists() {
        return Err(Error::invalid(format!(
            "{} exists: copy into a new file",
            path.display()
        )));
    }
    let mut client = open(url)?;
    let fail = |e: postgres::Error| server_error(url, &e);
    // One snapshot of the source, however long the copy takes.
    let mut source = client
        .build_transaction()
        .isolation_level(postgres::IsolationLevel::RepeatableRead)
        .read_only(true)
        .start()
        .map_err(fail)?;
    // Made under a name of its own and renamed into place once whole: a copy killed half way
    // leaves no file that looks like a box office (and none that blocks the next try).
    let partial = PathBuf::from(format!("{}.partial", path.display()));
    let remove = |p: &Path| {
        let name = p.display().to_string();
        for f in [name.clone(), format!("{name}-wal"), format!("{name}-shm")] {
            let _ = std::fs::remove_file(f);
        }
    };
    remove(&partial);
    let made = (|| -> Result<Vec<TableCheck>> {
        // A plain connection, no background upkeep, no write-ahead log: one file to move.
        // The box office opened there later takes up its usual settings.
        super::create_private_file(&partial)?;
        super::create_at_version(&partial, super::SCHEMA_VERSION)?;
        let mut conn = rusqlite::Connection::open(&partial)?;
        conn.execute_batch("PRAGMA journal_mode = DELETE; PRAGMA foreign_keys = ON")?;
        let mut checks = Vec::new();
        {
            let tx = conn.transaction()?;
            // The new file's own id goes: the box office keeps its id.
            tx.execute_batch("DELETE FROM box_office")?;
            for table in TABLES {
                let cols = {
                    let mut st = tx.prepare(&format!("PRAGMA table_info(\"{table}\")"))?;
                    st.query_map([], |r| r.get::<_, String>(1))?
                        .collect::<rusqlite::Result<Vec<_>>>()?
                };
                let list = cols.join(", ");
                let marks: Vec<String> = (1..=cols.len()).map(|i| format!("?{i}")).collect();
                let mut insert = tx.prepare(&format!(
                    "INSERT INTO \"{table}\" ({list}) VALUES ({})",
                    marks.join(", ")
                ))?;
                let rows = source
                    .query(&format!("SELECT {list} FROM {table}"), &[])
                    .map_err(fail)?;
                for row in &rows {
                    let mut values: Vec<rusqlite::types::Value> = Vec::with_capacity(cols.len());
                    for (i, column) in row.columns().iter().enumerate() {
                        use rusqlite::types::Value as V;
                        let v = if *column.type_() == Type::INT8 {
                            row.try_get::<_, Option<i64>>(i)
                                .map_err(fail)?
                                .map_or(V::Null, V::Integer)
                        } else {
                            row.try_get::<_, Option<String>>(i)
                                .map_err(fail)?
                                .map_or(V::Null, V::Text)
                        };
                        values.push(v);
                    }
                    insert.execute(rusqlite::params_from_iter(values))?;
                }
                let sql = money_sql(table, &cols);
                let to = source.query_one(&sql, &[]).map_err(fail)?;
                let (rows_from, cents_from): (i64, i64) =
                    (to.try_get(0).map_err(fail)?, to.try_get(1).map_err(fail)?);
                let (rows_to, cents_to): (i64, i64) =
                    tx.query_row(&sql, [], |r| Ok((r.get(0)?, r.get(1)?)))?;
                let check = TableCheck {
                    table: table.to_string(),
                    rows_from,
                    rows_to,
                    cents_from,
                    cents_to,
                };
                if !check.equal() {
                    return Err(Error::Server(format!(
                        "the copy of {table} does not match ({rows_from} rows and {cents_from} \
                         cents there, {rows_to} and {cents_to} here); nothing was kept"
                    )));
                }
                checks.push(check);
                if *table == "claims" {
                    crate::failpoint::hit("copy:half-way");
                }
            }
            tx.commit()?;
        }
        drop(conn);
        std::fs::rename(&partial, path).map_err(|source| Error::Io {
            context: format!("cannot move the copy into place at {}", path.display()),
            source,
        })?;
        remove(&partial);
        Ok(checks)
    })();
    let checks = match made {
        Ok(c) => c,
        Err(e) => {
            // Nothing half made is left behind.
            remove(&partial);
            return Err(e);
        }
    };
    Ok(CopyReport {
        from: url.shown(),
        to: path.display().to_string(),
        tables: checks,
    })
}

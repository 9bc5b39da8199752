//! Statements on either engine: the values bound and read, rows, and the errors, written once
//! for SQLite (through rusqlite) and PostgreSQL (through `postgres`).
//!
//! The rules write their SQL once, with SQLite's placeholders (`?1`, `?`, `:name`); on
//! PostgreSQL a statement's text is translated once (placeholders to `$N`) and kept prepared
//! per connection. Values are dynamically typed as SQLite's are, and bound to whatever type
//! PostgreSQL inferred for the parameter (an integer to `bigint`, `integer` or `text`; text to
//! `text` or `jsonb`); a column reads as the Rust type asked for whatever its PostgreSQL type
//! (a `boolean` as 0 or 1, a `numeric` sum as an integer). Where the engines' SQL differs, the
//! statement is written per engine ([`Db::pick`](super::Db::pick)).
//!
//! Over 800 lines: the value, row, statement and error types are one seam between the rules
//! and two engines, each type written for both engines side by side, and the placeholder
//! translation (with its tests) is what they share.

use postgres::types::{IsNull, Kind, Type};
use std::fmt;

/// A value bound to a statement or read from a row, borrowed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ValueRef<'a> {
    /// SQL `NULL`.
    Null,
    /// An integer.
    Int(i64),
    /// A floating-point number.
    Real(f64),
    /// Text (UTF-8).
    Text(&'a str),
    /// Bytes.
    Blob(&'a [u8]),
}

impl<'a> ValueRef<'a> {
    /// The value as text; an error for any other type.
    pub fn as_str(&self) -> Result<&'a str> {
        match *self {
            ValueRef::Text(s) => Ok(s),
            other => Err(Error::Type(format!("expected text, found {other:?}"))),
        }
    }

    fn from_lite(v: rusqlite::types::ValueRef<'a>) -> Result<Self> {
        use rusqlite::types::ValueRef as L;
        Ok(match v {
            L::Null => ValueRef::Null,
            L::Integer(i) => ValueRef::Int(i),
            L::Real(f) => ValueRef::Real(f),
            L::Text(t) => ValueRef::Text(
                std::str::from_utf8(t).map_err(|e| Error::Type(format!("text not UTF-8: {e}")))?,
            ),
            L::Blob(b) => ValueRef::Blob(b),
        })
    }
}

/// A value owned: for parameters built at run time (`search.rs`).
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// SQL `NULL`.
    Null,
    /// An integer.
    Int(i64),
    /// A floating-point number.
    Real(f64),
    /// Text (UTF-8).
    Text(String),
    /// Bytes.
    Blob(Vec<u8>),
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Int(v)
    }
}

impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::Text(v)
    }
}

impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::Text(v.to_string())
    }
}

/// What can be bound to a statement.
pub trait ToSql {
    /// The value to bind, borrowed from `self`.
    fn to_value(&self) -> ValueRef<'_>;
}

macro_rules! int_to_sql {
    ($($t:ty),*) => {$(
        impl ToSql for $t {
            fn to_value(&self) -> ValueRef<'_> {
                ValueRef::Int(*self as i64)
            }
        }
    )*};
}
int_to_sql!(i64, i32, i16, i8, u32, u16, u8, u64, usize);

impl ToSql for bool {
    fn to_value(&self) -> ValueRef<'_> {
        ValueRef::Int(*self as i64)
    }
}

impl ToSql for f64 {
    fn to_value(&self) -> ValueRef<'_> {
        ValueRef::Real(*self)
    }
}

impl ToSql for str {
    fn to_value(&self) -> ValueRef<'_> {
        ValueRef::Text(self)
    }
}

impl ToSql for String {
    fn to_value(&self) -> ValueRef<'_> {
        ValueRef::Text(self)
    }
}

impl ToSql for [u8] {
    fn to_value(&self) -> ValueRef<'_> {
        ValueRef::Blob(self)
    }
}

impl ToSql for Vec<u8> {
    fn to_value(&self) -> ValueRef<'_> {
        ValueRef::Blob(self)
    }
}

impl ToSql for Value {
    fn to_value(&self) -> ValueRef<'_> {
        match self {
            Value::Null => ValueRef::Null,
            Value::Int(i) => ValueRef::Int(*i),
            Value::Real(f) => ValueRef::Real(*f),
            Value::Text(t) => ValueRef::Text(t),
            Value::Blob(b) => ValueRef::Blob(b),
        }
    }
}

impl<T: ToSql> ToSql for Option<T> {
    fn to_value(&self) -> ValueRef<'_> {
        match self {
            Some(v) => v.to_value(),
            None => ValueRef::Null,
        }
    }
}

impl<T: ToSql + ?Sized> ToSql for &T {
    fn to_value(&self) -> ValueRef<'_> {
        (**self).to_value()
    }
}

/// What can be read from a column.
pub trait FromSql: Sized {
    /// Reads the value as `Self`; an error when its type does not fit.
    fn from_value(v: ValueRef<'_>) -> Result<Self>;
}

fn mismatch<T>(v: ValueRef<'_>) -> Error {
    Error::Type(format!(
        "cannot read {v:?} as {}",
        std::any::type_name::<T>()
    ))
}

macro_rules! int_from_sql {
    ($($t:ty),*) => {$(
        impl FromSql for $t {
            fn from_value(v: ValueRef<'_>) -> Result<Self> {
                match v {
                    ValueRef::Int(i) => <$t>::try_from(i).map_err(|_| mismatch::<$t>(v)),
                    _ => Err(mismatch::<$t>(v)),
                }
            }
        }
    )*};
}
int_from_sql!(i64, i32, u32, u16, u8, u64, usize);

impl FromSql for bool {
    fn from_value(v: ValueRef<'_>) -> Result<Self> {
        match v {
            ValueRef::Int(i) => Ok(i != 0),
            _ => Err(mismatch::<bool>(v)),
        }
    }
}

impl FromSql for f64 {
    fn from_value(v: ValueRef<'_>) -> Result<Self> {
        match v {
            ValueRef::Int(i) => Ok(i as f64),
            ValueRef::Real(f) => Ok(f),
            _ => Err(mismatch::<f64>(v)),
        }
    }
}

impl FromSql for String {
    fn from_value(v: ValueRef<'_>) -> Result<Self> {
        match v {
            ValueRef::Text(t) => Ok(t.to_string()),
            _ => Err(mismatch::<String>(v)),
        }
    }
}

impl FromSql for std::sync::Arc<str> {
    fn from_value(v: ValueRef<'_>) -> Result<Self> {
        match v {
            ValueRef::Text(t) => Ok(t.into()),
            _ => Err(mismatch::<std::sync::Arc<str>>(v)),
        }
    }
}

impl FromSql for Vec<u8> {
    fn from_value(v: ValueRef<'_>) -> Result<Self> {
        match v {
            ValueRef::Blob(b) => Ok(b.to_vec()),
            ValueRef::Text(t) => Ok(t.as_bytes().to_vec()),
            _ => Err(mismatch::<Vec<u8>>(v)),
        }
    }
}

impl FromSql for Value {
    fn from_value(v: ValueRef<'_>) -> Result<Self> {
        Ok(match v {
            ValueRef::Null => Value::Null,
            ValueRef::Int(i) => Value::Int(i),
            ValueRef::Real(f) => Value::Real(f),
            ValueRef::Text(t) => Value::Text(t.into()),
            ValueRef::Blob(b) => Value::Blob(b.into()),
        })
    }
}

impl<T: FromSql> FromSql for Option<T> {
    fn from_value(v: ValueRef<'_>) -> Result<Self> {
        match v {
            ValueRef::Null => Ok(None),
            v => T::from_value(v).map(Some),
        }
    }
}

/// The parameters of one execution: by position (`?1`, `?`) or by name (`:now`).
pub enum Bound<'a> {
    /// By position, in order: `?1` (or the first `?`) is the first.
    Positional(Vec<ValueRef<'a>>),
    /// By name, each with its value: (`:now`, value).
    Named(Vec<(&'a str, ValueRef<'a>)>),
}

/// What a statement can be given as its parameters: `()`, an array of one type, or
/// [`params!`](crate::params) / [`named_params!`](crate::named_params).
pub trait Params {
    /// The parameters' values, by position or by name.
    fn bind(&self) -> Bound<'_>;
}

impl Params for () {
    fn bind(&self) -> Bound<'_> {
        Bound::Positional(Vec::new())
    }
}

impl<T: ToSql, const N: usize> Params for [T; N] {
    fn bind(&self) -> Bound<'_> {
        Bound::Positional(self.iter().map(ToSql::to_value).collect())
    }
}

impl Params for &[&dyn ToSql] {
    fn bind(&self) -> Bound<'_> {
        Bound::Positional(self.iter().map(|v| v.to_value()).collect())
    }
}

impl Params for &[(&str, &dyn ToSql)] {
    fn bind(&self) -> Bound<'_> {
        Bound::Named(self.iter().map(|(n, v)| (*n, v.to_value())).collect())
    }
}

impl<const N: usize> Params for &[(&str, &dyn ToSql); N] {
    fn bind(&self) -> Bound<'_> {
        Bound::Named(self.iter().map(|(n, v)| (*n, v.to_value())).collect())
    }
}

/// Positional parameters of mixed types, as rusqlite's macro of the same name.
#[macro_export]
#[doc(hidden)]
macro_rules! params {
    () => { &[] as &[&dyn $crate::store::sql::ToSql] };
    ($($v:expr),+ $(,)?) => {
        &[$(&$v as &dyn $crate::store::sql::ToSql),+] as &[&dyn $crate::store::sql::ToSql]
    };
}

/// Named parameters (`":now": now`), as rusqlite's macro of the same name.
#[macro_export]
#[doc(hidden)]
macro_rules! named_params {
    ($($n:literal : $v:expr),* $(,)?) => {
        &[$(($n, &$v as &dyn $crate::store::sql::ToSql)),*]
            as &[(&str, &dyn $crate::store::sql::ToSql)]
    };
}

/// A statement failed, or a value could not be read as asked.
#[derive(Debug)]
pub enum Error {
    /// SQLite's error, through rusqlite.
    Sqlite(rusqlite::Error),
    /// PostgreSQL's error, through `postgres`.
    Postgres(postgres::Error),
    /// `query_row` found no row.
    NoRows,
    /// A column's value is not of the type asked for, or a parameter's of the one expected.
    Type(String),
    /// The connection to the server was lost and could not be made again (why, in one line).
    Lost(String),
}

/// The result of a statement, with this module's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::Sqlite(e) => e.fmt(f),
            Error::Postgres(e) => match e.as_db_error() {
                Some(db) => write!(f, "{}", db.message()),
                None => e.fmt(f),
            },
            Error::NoRows => f.write_str("query returned no rows"),
            Error::Type(m) | Error::Lost(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Sqlite(e) => Some(e),
            Error::Postgres(e) => Some(e),
            _ => None,
        }
    }
}

impl From<rusqlite::Error> for Error {
    fn from(e: rusqlite::Error) -> Self {
        match e {
            rusqlite::Error::QueryReturnedNoRows => Error::NoRows,
            e => Error::Sqlite(e),
        }
    }
}

impl From<postgres::Error> for Error {
    fn from(e: postgres::Error) -> Self {
        Error::Postgres(e)
    }
}

impl From<rusqlite::Error> for crate::error::Error {
    fn from(e: rusqlite::Error) -> Self {
        Error::from(e).into()
    }
}

impl From<Error> for crate::error::Error {
    fn from(e: crate::store::sql::Error) -> Self {
        use crate::error::Error as E;
        use Error as Sql;
        use rusqlite::ErrorCode::*;
        match e {
            Sql::Sqlite(rusqlite::Error::SqliteFailure(f, ref msg)) => {
                let detail = msg.clone().unwrap_or_else(|| f.to_string());
                match f.code {
                    DatabaseBusy | DatabaseLocked => return E::Busy,
                    DiskFull => return E::DiskFull(detail),
                    // The shared-memory file beside a WAL database could not grow: on a full
                    // disk this is how opening it fails.
                    SystemIoFailure if f.extended_code == rusqlite::ffi::SQLITE_IOERR_SHMSIZE => {
                        return E::DiskFull("cannot grow the database's shared-memory file".into());
                    }
                    ReadOnly => return E::ReadOnly(detail),
                    DatabaseCorrupt | NotADatabase => return E::Corrupt(detail),
                    _ => {}
                }
            }
            Sql::Lost(why) => return E::Server(why),
            Sql::Postgres(ref pg) => {
                use postgres::error::SqlState;
                if let Some(code) = pg.code() {
                    // A lock not had in time (`lock_timeout`), or given up to break a deadlock:
                    // the change was not made, and trying again is right, as for SQLite's busy.
                    if [
                        SqlState::LOCK_NOT_AVAILABLE,
                        SqlState::T_R_DEADLOCK_DETECTED,
                        SqlState::T_R_SERIALIZATION_FAILURE,
                        SqlState::QUERY_CANCELED,
                    ]
                    .contains(code)
                    {
                        return E::Busy;
                    }
                    if *code == SqlState::DISK_FULL {
                        return E::DiskFull(e.to_string());
                    }
                    if *code == SqlState::READ_ONLY_SQL_TRANSACTION {
                        return E::ReadOnly(e.to_string());
                    }
                }
                if ends_session(pg) {
                    return E::Server(format!(
                        "lost the connection to PostgreSQL ({pg}); the step under way was not \
                         confirmed: look before trying again"
                    ));
                }
            }
            _ => {}
        }
        E::Storage(Box::new(e))
    }
}

impl Error {
    /// A unique key or other constraint refused the change (on PostgreSQL this also ends the
    /// transaction: the change is given up, not retried in it).
    pub fn is_constraint(&self) -> bool {
        match self {
            Error::Sqlite(rusqlite::Error::SqliteFailure(f, _)) => {
                f.code == rusqlite::ErrorCode::ConstraintViolation
            }
            Error::Postgres(e) => e.code().is_some_and(|c| c.code().starts_with("23")),
            _ => false,
        }
    }
}

/// rusqlite's `optional()`: no row is `None`.
pub trait OptionalExtension<T> {
    /// `Ok(None)` for [`Error::NoRows`]; any other result as it is.
    fn optional(self) -> Result<Option<T>>;
}

impl<T> OptionalExtension<T> for Result<T> {
    fn optional(self) -> Result<Option<T>> {
        match self {
            Ok(v) => Ok(Some(v)),
            Err(Error::NoRows) => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// One row of a result.
pub struct Row<'a>(RowInner<'a>);

enum RowInner<'a> {
    Lite(&'a rusqlite::Row<'a>),
    Pg(&'a postgres::Row),
}

/// A column of a row: its position (`0`) or, where the statement names its columns, its name
/// (`"starts_at"`, what `AS` gave it). Both engines name a column the same way.
pub trait ColumnIndex: rusqlite::RowIndex + postgres::row::RowIndex + fmt::Display {}

impl ColumnIndex for usize {}

impl ColumnIndex for &str {}

impl<'a> Row<'a> {
    /// Column `col` as `T`.
    pub fn get<T: FromSql>(&self, col: impl ColumnIndex) -> Result<T> {
        T::from_value(self.get_ref(col)?)
    }

    /// Column `col` as stored, borrowed from the row.
    pub fn get_ref(&self, col: impl ColumnIndex) -> Result<ValueRef<'_>> {
        match &self.0 {
            RowInner::Lite(r) => ValueRef::from_lite(r.get_ref(col)?),
            RowInner::Pg(r) => Ok(r.try_get::<_, PgValue<'_>>(col)?.0),
        }
    }
}

/// Rows read one at a time, as rusqlite's `Rows`.
pub struct Rows<'s>(RowsInner<'s>);

enum RowsInner<'s> {
    Lite(rusqlite::Rows<'s>),
    Pg {
        rows: std::vec::IntoIter<postgres::Row>,
        current: Option<postgres::Row>,
    },
}

impl Rows<'_> {
    /// The next row, or `None` after the last.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> Result<Option<Row<'_>>> {
        match &mut self.0 {
            RowsInner::Lite(rows) => Ok(rows.next()?.map(|r| Row(RowInner::Lite(r)))),
            RowsInner::Pg { rows, current } => {
                *current = rows.next();
                Ok(current.as_ref().map(|r| Row(RowInner::Pg(r))))
            }
        }
    }
}

/// A connection to PostgreSQL that remembers when the server ended it: the next statement
/// connects again (`Db::reconnect_if_lost`).
pub(crate) struct PgLink {
    pub(crate) client: std::cell::RefCell<postgres::Client>,
    pub(crate) lost: std::cell::Cell<bool>,
}

impl PgLink {
    /// Runs `f` on the client, noting an error that ended the session.
    pub(crate) fn run<T>(
        &self,
        f: impl FnOnce(&mut postgres::Client) -> Result<T, postgres::Error>,
    ) -> Result<T, postgres::Error> {
        let out = f(&mut self.client.borrow_mut());
        if let Err(e) = &out
            && ends_session(e)
        {
            self.lost.set(true);
        }
        out
    }

    pub(crate) fn is_lost(&self) -> bool {
        self.lost.get() || self.client.borrow().is_closed()
    }
}

/// Whether the server ended the session (a shutdown, an administrator: class 57), the line
/// failed (class 08), or the client lost the socket: nothing more can be sent on it.
pub(crate) fn ends_session(e: &postgres::Error) -> bool {
    e.is_closed()
        || e.code()
            .is_some_and(|c| c.code().starts_with("57P") || c.code().starts_with("08"))
        || e.as_db_error().is_some_and(|d| d.severity() == "FATAL")
        || e.as_db_error().is_none()
}

/// A prepared statement on either engine.
pub struct Statement<'db>(StmtInner<'db>);

enum StmtInner<'db> {
    Lite(rusqlite::CachedStatement<'db>),
    Pg {
        client: &'db PgLink,
        prepared: Prepared,
    },
}

/// A statement prepared on PostgreSQL, and the names its `$N` stand for (for `:name`).
#[derive(Clone)]
pub(crate) struct Prepared {
    pub(crate) statement: postgres::Statement,
    pub(crate) names: Vec<String>,
}

impl<'db> Statement<'db> {
    pub(crate) fn lite(st: rusqlite::CachedStatement<'db>) -> Self {
        Statement(StmtInner::Lite(st))
    }

    pub(crate) fn pg(client: &'db PgLink, prepared: Prepared) -> Self {
        Statement(StmtInner::Pg { client, prepared })
    }

    /// Runs the statement; the rows it changed.
    pub fn execute(&mut self, params: impl Params) -> Result<usize> {
        match &mut self.0 {
            StmtInner::Lite(st) => {
                lite_bind(st, params.bind())?;
                Ok(st.raw_execute()?)
            }
            StmtInner::Pg { client, prepared } => {
                let values = pg_values(prepared, params.bind())?;
                let refs = pg_refs(&values);
                Ok(client.run(|c| c.execute(&prepared.statement, &refs))? as usize)
            }
        }
    }

    /// The rows, read one at a time.
    pub fn query(&mut self, params: impl Params) -> Result<Rows<'_>> {
        match &mut self.0 {
            StmtInner::Lite(st) => {
                lite_bind(st, params.bind())?;
                Ok(Rows(RowsInner::Lite(st.raw_query())))
            }
            StmtInner::Pg { client, prepared } => {
                let values = pg_values(prepared, params.bind())?;
                let refs = pg_refs(&values);
                let rows = client.run(|c| c.query(&prepared.statement, &refs))?;
                Ok(Rows(RowsInner::Pg {
                    rows: rows.into_iter(),
                    current: None,
                }))
            }
        }
    }

    /// The first row, as `f` reads it; [`Error::NoRows`] without one.
    pub fn query_row<T>(
        &mut self,
        params: impl Params,
        f: impl FnOnce(&Row<'_>) -> Result<T>,
    ) -> Result<T> {
        let mut rows = self.query(params)?;
        match rows.next()? {
            Some(r) => f(&r),
            None => Err(Error::NoRows),
        }
    }

    /// Every row, as `f` reads it.
    pub fn query_map<T>(
        &mut self,
        params: impl Params,
        mut f: impl FnMut(&Row<'_>) -> Result<T>,
    ) -> Result<std::vec::IntoIter<Result<T>>> {
        let mut rows = self.query(params)?;
        let mut out = Vec::new();
        while let Some(r) = rows.next()? {
            out.push(f(&r));
        }
        Ok(out.into_iter())
    }

    /// Whether there is a row.
    pub fn exists(&mut self, params: impl Params) -> Result<bool> {
        Ok(self.query(params)?.next()?.is_some())
    }
}

/// Binds every parameter of a SQLite statement (all of them, each run: a value left from an
/// earlier run is never used).
fn lite_bind(st: &mut rusqlite::Statement<'_>, bound: Bound<'_>) -> Result<()> {
    match bound {
        Bound::Positional(values) => {
            let expected = st.parameter_count();
            if values.len() != expected {
                return Err(rusqlite::Error::InvalidParameterCount(values.len(), expected).into());
            }
            for (i, v) in values.into_iter().enumerate() {
                st.raw_bind_parameter(i + 1, LiteValue(v))?;
            }
        }
        Bound::Named(values) => {
            let expected = st.parameter_count();
            if values.len() != expected {
                return Err(rusqlite::Error::InvalidParameterCount(values.len(), expected).into());
            }
            for (name, v) in values {
                let Some(i) = st.parameter_index(name)? else {
                    return Err(rusqlite::Error::InvalidParameterName(name.into()).into());
                };
                st.raw_bind_parameter(i, LiteValue(v))?;
            }
        }
    }
    Ok(())
}

/// A value bound on SQLite.
struct LiteValue<'a>(ValueRef<'a>);

impl rusqlite::ToSql for LiteValue<'_> {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef as L};
        Ok(ToSqlOutput::Borrowed(match self.0 {
            ValueRef::Null => L::Null,
            ValueRef::Int(i) => L::Integer(i),
            ValueRef::Real(f) => L::Real(f),
            ValueRef::Text(t) => L::Text(t.as_bytes()),
            ValueRef::Blob(b) => L::Blob(b),
        }))
    }
}

/// The values for a PostgreSQL statement's `$1..$N`, from positional or named parameters.
fn pg_values<'a>(prepared: &Prepared, bound: Bound<'a>) -> Result<Vec<PgValue<'a>>> {
    let wanted = prepared.statement.params().len();
    let values: Vec<PgValue<'a>> = match bound {
        Bound::Positional(v) => v.into_iter().map(PgValue).collect(),
        Bound::Named(v) => prepared
            .names
            .iter()
            .map(|name| {
                v.iter()
                    .find(|(n, _)| n == name)
                    .map(|(_, v)| PgValue(*v))
                    .ok_or_else(|| Error::Type(format!("no value for the parameter {name}")))
            })
            .collect::<Result<_>>()?,
    };
    if values.len() != wanted {
        return Err(Error::Type(format!(
            "the statement takes {wanted} parameters, {} given",
            values.len()
        )));
    }
    Ok(values)
}

fn pg_refs<'v>(values: &'v [PgValue<'_>]) -> Vec<&'v (dyn postgres::types::ToSql + Sync)> {
    values
        .iter()
        .map(|v| v as &(dyn postgres::types::ToSql + Sync))
        .collect()
}

/// A value bound or read on PostgreSQL, converted to and from the type the server has for it.
#[derive(Debug)]
struct PgValue<'a>(ValueRef<'a>);

type BoxError = Box<dyn std::error::Error + Sync + Send>;

impl postgres::types::ToSql for PgValue<'_> {
    fn to_sql(&self, ty: &Type, out: &mut bytes::BytesMut) -> Result<IsNull, BoxError> {
        use bytes::BufMut;
        let ty = match ty.kind() {
            Kind::Domain(inner) => inner,
            _ => ty,
        };
        let wrong = || -> BoxError {
            format!("cannot bind {:?} to a parameter of type {ty}", self.0).into()
        };
        match (self.0, ty) {
            (ValueRef::Null, _) => return Ok(IsNull::Yes),
            (ValueRef::Int(i), &Type::INT8) => out.put_i64(i),
            (ValueRef::Int(i), &Type::INT4) => out.put_i32(i32::try_from(i)?),
            (ValueRef::Int(i), &Type::INT2) => out.put_i16(i16::try_from(i)?),
            (ValueRef::Int(i), &Type::FLOAT8) => out.put_f64(i as f64),
            (ValueRef::Int(i), &Type::BOOL) => out.put_u8((i != 0) as u8),
            (ValueRef::Int(i), &Type::NUMERIC) => put_numeric(i, out),
            (ValueRef::Int(i), t) if is_text(t) => out.put_slice(i.to_string().as_bytes()),
            (ValueRef::Real(f), &Type::FLOAT8) => out.put_f64(f),
            (ValueRef::Real(f), &Type::FLOAT4) => out.put_f32(f as f32),
            (ValueRef::Real(f), t) if is_text(t) => out.put_slice(f.to_string().as_bytes()),
            (ValueRef::Text(s), t) if is_text(t) || *t == Type::JSON => out.put_slice(s.as_bytes()),
            (ValueRef::Text(s), &Type::JSONB) => {
                out.put_u8(1);
                out.put_slice(s.as_bytes());
            }
            (ValueRef::Text(s), &Type::INT8) => out.put_i64(s.trim().parse().map_err(|_| wrong())?),
            (ValueRef::Blob(b), &Type::BYTEA) => out.put_slice(b),
            _ => return Err(wrong()),
        }
        Ok(IsNull::No)
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    postgres::types::to_sql_checked!();
}

fn is_text(t: &Type) -> bool {
    matches!(
        *t,
        Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN
    )
}

/// An integer as PostgreSQL's binary `numeric`.
fn put_numeric(i: i64, out: &mut bytes::BytesMut) {
    use bytes::BufMut;
    let mut digits = Vec::new();
    let mut n = i.unsigned_abs();
    while n > 0 {
        digits.push((n % 10_000) as i16);
        n /= 10_000;
    }
    digits.reverse();
    out.put_i16(digits.len() as i16);
    out.put_i16(digits.len().saturating_sub(1) as i16);
    out.put_u16(if i < 0 { 0x4000 } else { 0 });
    out.put_i16(0);
    for d in digits {
        out.put_i16(d);
    }
}

/// PostgreSQL's binary `numeric`, as an integer when it has no fraction.
fn read_numeric(raw: &[u8]) -> Result<ValueRef<'static>, BoxError> {
    let word = |i: usize| -> Result<i16, BoxError> {
        raw.get(i * 2..i * 2 + 2)
            .map(|b| i16::from_be_bytes([b[0], b[1]]))
            .ok_or_else(|| "a short numeric".into())
    };
    let (n, weight, sign) = (word(0)?, word(1)?, word(2)? as u16);
    if sign == 0xC000 {
        return Err("NaN where a number was expected".into());
    }
    let mut value = 0f64;
    let mut int: Option<i64> = Some(0);
    for k in 0..n as usize {
        let d = word(4 + k)? as i64;
        let power = weight as i32 - k as i32;
        value += d as f64 * 10_000f64.powi(power);
        // Whole as long as every digit group after the point is zero and it fits.
        int = match int {
            Some(acc) if power >= 0 => 10_000i64
                .checked_pow(power as u32)
                .and_then(|m| d.checked_mul(m))
                .and_then(|x| acc.checked_add(x)),
            Some(acc) if d == 0 => Some(acc),
            _ => None,
        };
    }
    let negative = sign == 0x4000;
    Ok(match int {
        Some(i) => ValueRef::Int(if negative { -i } else { i }),
        None => ValueRef::Real(if negative { -value } else { value }),
    })
}

impl<'a> postgres::types::FromSql<'a> for PgValue<'a> {
    fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Self, BoxError> {
        let int = |n: usize| -> Result<i64, BoxError> {
            let b = raw.get(..n).ok_or("a short integer")?;
            Ok(match n {
                8 => i64::from_be_bytes(b.try_into()?),
                4 => i32::from_be_bytes(b.try_into()?) as i64,
                _ => i16::from_be_bytes(b.try_into()?) as i64,
            })
        };
        let ty = match ty.kind() {
            Kind::Domain(inner) => inner,
            _ => ty,
        };
        Ok(PgValue(match *ty {
            Type::INT8 => ValueRef::Int(int(8)?),
            Type::INT4 | Type::OID => ValueRef::Int(int(4)?),
            Type::INT2 => ValueRef::Int(int(2)?),
            Type::BOOL => ValueRef::Int((raw.first() == Some(&1)) as i64),
            Type::FLOAT8 => ValueRef::Real(f64::from_be_bytes(raw.try_into()?)),
            Type::FLOAT4 => ValueRef::Real(f32::from_be_bytes(raw.try_into()?) as f64),
            Type::NUMERIC => read_numeric(raw)?,
            Type::BYTEA => ValueRef::Blob(raw),
            Type::JSONB => ValueRef::Text(std::str::from_utf8(raw.get(1..).unwrap_or(&[]))?),
            ref t if is_text(t) || *t == Type::JSON => ValueRef::Text(std::str::from_utf8(raw)?),
            ref t => return Err(format!("a column of type {t} cannot be read").into()),
        }))
    }

    fn from_sql_null(_: &Type) -> Result<Self, BoxError> {
        Ok(PgValue(ValueRef::Null))
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}

/// SQLite's placeholders (`?1`, `?`, `:name`) as PostgreSQL's (`$1`): the text, and for named
/// parameters the name each `$N` stands for. String literals, quoted names and `::` casts are
/// left alone.
pub(crate) fn translate(sql: &str) -> (String, Vec<String>) {
    let mut out = String::with_capacity(sql.len() + 8);
    let mut names: Vec<String> = Vec::new();
    let mut next = 0;
    let mut chars = sql.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '\'' | '"' => {
                out.push(c);
                for (_, d) in chars.by_ref() {
                    out.push(d);
                    if d == c {
                        break;
                    }
                }
            }
            ':' if matches!(chars.peek(), Some((_, ':'))) => {
                out.push_str("::");
                chars.next();
            }
            ':' if chars
                .peek()
                .is_some_and(|(_, d)| d.is_ascii_alphabetic() || *d == '_') =>
            {
                let start = i;
                let mut end = i + 1;
                while let Some(&(j, d)) = chars.peek() {
                    if d.is_ascii_alphanumeric() || d == '_' {
                        end = j + d.len_utf8();
                        chars.next();
                    } else {
                        break;
                    }
                }
                let name = &sql[start..end];
                let n = match names.iter().position(|x| x == name) {
                    Some(k) => k + 1,
                    None => {
                        names.push(name.to_string());
                        names.len()
                    }
                };
                out.push_str(&format!("${n}"));
            }
            '?' => {
                let mut digits = String::new();
                while let Some(&(_, d)) = chars.peek() {
                    if d.is_ascii_digit() {
                        digits.push(d);
                        chars.next();
                    } else {
                        break;
                    }
                }
                if digits.is_empty() {
                    next += 1;
                    out.push_str(&format!("${next}"));
                } else {
                    next = next.max(digits.parse().unwrap_or(0));
                    out.push('$');
                    out.push_str(&digits);
                }
            }
            c => out.push(c),
        }
    }
    (out, names)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_become_dollar_numbers_and_literals_are_left_alone() {
        let (sql, names) =
            translate("SELECT '?1', x FROM t WHERE a = ?2 AND b = ?1 AND c::text = ?");
        assert_eq!(
            sql,
            "SELECT '?1', x FROM t WHERE a = $2 AND b = $1 AND c::text = $3"
        );
        assert!(names.is_empty());
        let (sql, names) =
            translate("SELECT 1 WHERE a = :now AND b = :id OR c = :now AND d = ':x'");
        assert_eq!(
            sql,
            "SELECT 1 WHERE a = $1 AND b = $2 OR c = $1 AND d = ':x'"
        );
        assert_eq!(names, [":now", ":id"]);
    }

    #[test]
    fn numerics_read_as_integers_or_reals() {
        let mut b = bytes::BytesMut::new();
        for i in [0i64, 7, 10_000, 123_456_789, -42, i64::MAX / 3] {
            b.clear();
            put_numeric(i, &mut b);
            assert_eq!(read_numeric(&b).unwrap(), ValueRef::Int(i), "{i}");
        }
        // 1.5: one digit group before the point, one after (5000), scale 1.
        let half = [0u8, 2, 0, 0, 0, 0, 0, 1, 0, 1, 0x13, 0x88];
        assert_eq!(read_numeric(&half).unwrap(), ValueRef::Real(1.5));
    }
}

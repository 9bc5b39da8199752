//! `db status` and `db copy`: which engine holds a box office, and moving one that grew from
//! its SQLite file into PostgreSQL.

use super::*;
use boxoffice::store::engine::Location;

/// `boxoffice db`.
#[derive(Debug, clap::Args)]
pub(super) struct DbArgs {
    #[command(subcommand)]
    pub(super) action: DbAction,
}

#[derive(Debug, clap::Subcommand)]
pub(super) enum DbAction {
    /// The engine, the schema version and where the data lives (changes nothing)
    Status {
        #[arg(long)]
        json: bool,
    },
    /// Copy this box office (its SQLite file, --db) into an empty PostgreSQL database, or the
    /// way back (--db URL, --to a new file), in one transaction, and print the check: rows and
    /// money per table on both sides
    Copy {
        /// The PostgreSQL database: postgres://USER@HOST[:PORT]/DBNAME (the password from
        /// PGPASSWORD or ~/.pgpass); or, from PostgreSQL, a new SQLite file
        #[arg(long, value_name = "URL|FILE")]
        to: String,
        #[arg(long)]
        json: bool,
    },
}

/// Where `--db` (or `BOXOFFICE_DB`, or the default) points.
pub(super) fn location(cli: &Cli) -> Result<Location, Failure> {
    match &cli.db {
        Some(p) => Ok(Location::parse(&p.to_string_lossy())?),
        None => Ok(Location::Sqlite(db_path(cli)?)),
    }
}

pub(super) fn db(cli: &Cli, args: &DbArgs, out: &mut String) -> Result<(), Failure> {
    match &args.action {
        DbAction::Status { json } => {
            let status = match location(cli)? {
                Location::Postgres(url) => boxoffice::store::postgres::status(&url)?,
                Location::Sqlite(path) => sqlite_status(&path)?,
            };
            show(out, *json, &status, |out| {
                outln!(out, "engine   {}", status.engine);
                outln!(
                    out,
                    "schema   {}",
                    match status.schema_version {
                        Some(v) if v == status.supported_version => format!("{v} (current)"),
                        Some(v) => format!("{v} (this build writes {})", status.supported_version),
                        None => "none yet: created on first use".to_string(),
                    }
                );
                outln!(out, "where    {}", printable(&status.location));
                if let Some(s) = &status.server {
                    outln!(out, "server   PostgreSQL {s}");
                }
                Ok(())
            })
        }
        DbAction::Copy { to, json } => {
            let report = match (location(cli)?, Location::parse(to)?) {
                (Location::Sqlite(path), Location::Postgres(url)) => {
                    if !path.exists() {
                        return Err(usage(format!(
                            "there is no box office at {}",
                            path.display()
                        )));
                    }
                    let store = Store::open(&path, super::ctx::clock(cli)?)?;
                    store.copy_to_postgres(&url)?
                }
                // The way back: a PostgreSQL box office into a new SQLite file.
                (Location::Postgres(url), Location::Sqlite(path)) => {
                    boxoffice::store::copy::copy_to_sqlite(&url, &path)?
                }
                _ => {
                    return Err(usage(
                        "db copy goes from a SQLite file (--db FILE) to PostgreSQL (--to URL), \
                         or from PostgreSQL (--db URL) to a new SQLite file (--to FILE)",
                    ));
                }
            };
            show(out, *json, &report, |out| {
                outln!(out, "copied {} into {}", report.from, printable(&report.to));
                outln!(
                    out,
                    "{:<12} {:>9} {:>9} {:>14} {:>14}",
                    "table",
                    "rows",
                    "copied",
                    "cents",
                    "copied"
                );
                for t in &report.tables {
                    outln!(
                        out,
                        "{:<12} {:>9} {:>9} {:>14} {:>14}  {}",
                        t.table,
                        t.rows_from,
                        t.rows_to,
                        t.cents_from,
                        t.cents_to,
                        if t.equal() { "ok" } else { "DIFFERS" }
                    );
                }
                Ok(())
            })
        }
    }
}

/// A SQLite box office's status, read without opening it for writing (nor creating it).
fn sqlite_status(path: &std::path::Path) -> Result<boxoffice::store::postgres::DbStatus, Failure> {
    let version = if path.exists() {
        let conn =
            rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
                .map_err(|e| Failure {
                    code: 1,
                    message: format!("cannot open {}: {e}", path.display()),
                })?;
        let v: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(|e| Failure {
                code: 1,
                message: format!("{} is not a boxoffice database: {e}", path.display()),
            })?;
        (v > 0).then_some(v)
    } else {
        None
    };
    Ok(boxoffice::store::postgres::DbStatus {
        engine: "sqlite".into(),
        schema_version: version,
        supported_version: boxoffice::store::SCHEMA_VERSION,
        location: path.display().to_string(),
        server: None,
    })
}

//! Opening databases: migrations, refusal of newer schemas, damaged and read-only files.

mod common;

use boxoffice::store::{SCHEMA_VERSION, create_at_version};
use boxoffice::{Error, ManualClock, Store};
use common::*;
use std::sync::Arc;

fn clock() -> Arc<ManualClock> {
    Arc::new(ManualClock::new(t("2026-12-01T10:00:00Z")))
}

#[test]
fn an_older_database_is_upgraded_in_place() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("old.db");
    create_at_version(&path, 1).unwrap();
    {
        // Data written by the old version: a venue and a concert, before the search index existed.
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(
            "INSERT INTO venues (id, slug, name, city, timezone, layout, capacity) VALUES (1, 'v', 'Old Hall', 'Linz', 'Europe/Vienna', '', 0);
             INSERT INTO concerts (artist, title, venue_id, starts_at, utc_offset, local_date, local_time, on_sale_at)
                 VALUES ('Legacy Band', 'Reunion', 1, 1893456000, 3600, '2030-01-01', '01:00', 0);",
        )
        .unwrap();
    }
    let store = Store::open(&path, clock()).unwrap();
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    let found = store
        .search_concerts(&boxoffice::ConcertQuery {
            artist: Some("legacy".into()),
            ..Default::default()
        })
        .unwrap();
    assert_eq!(found.len(), 1, "the upgrade indexed the old concert");
}

#[test]
fn a_newer_database_is_refused_and_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("new.db");
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(&format!(
            "CREATE TABLE future (x); PRAGMA user_version = {};",
            SCHEMA_VERSION + 1
        ))
        .unwrap();
    }
    let before = std::fs::read(&path).unwrap();
    match Store::open(&path, clock()) {
        Err(Error::SchemaTooNew { found, supported }) => {
            assert_eq!(found, SCHEMA_VERSION + 1);
            assert_eq!(supported, SCHEMA_VERSION);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(std::fs::read(&path).unwrap(), before);
}

#[test]
fn a_file_that_is_not_a_database_is_refused_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("junk.db");
    let junk = b"this is not a database, it is a shopping list\n".repeat(100);
    std::fs::write(&path, &junk).unwrap();
    let err = Store::open(&path, clock()).unwrap_err();
    assert!(matches!(err, Error::Corrupt(_)), "{err:?}");
    assert_eq!(std::fs::read(&path).unwrap(), junk);
}

#[test]
fn a_missing_directory_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let err = Store::open(dir.path().join("nope/box.db"), clock()).unwrap_err();
    assert!(err.to_string().contains("does not exist"), "{err}");
}

#[cfg(unix)]
#[test]
fn a_new_database_is_readable_by_its_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let f = fixture();
    let mode = std::fs::metadata(f.db_path()).unwrap().permissions().mode();
    assert_eq!(mode & 0o077, 0, "mode {mode:o}");
}

#[test]
fn the_demo_catalog_is_seeded_once() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("demo.db");
    let mut store = Store::open(&path, clock()).unwrap();
    assert!(store.seed_demo_if_empty().unwrap());
    assert!(!store.seed_demo_if_empty().unwrap());
    let concerts = store.search_concerts(&Default::default()).unwrap();
    assert!(concerts.len() >= 20);
    assert!(concerts.iter().any(|c| c.sold_out));
    let venues = store.venues().unwrap();
    assert_eq!(venues.len(), 3);
    assert!(venues.iter().any(|v| v.capacity >= 10_000));
}

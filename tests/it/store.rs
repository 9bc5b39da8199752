//! Opening databases: migrations, refusal of newer schemas, damaged and read-only files.

use crate::common;

use boxoffice::store::{SCHEMA_VERSION, create_at_version};
use boxoffice::{Error, ManualClock, Store};
use common::*;
use rusqlite::OptionalExtension;
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

#[test]
fn sales_in_an_older_database_survive_the_rebuilt_tables() {
    // Version 7 had the hold, payment and outbox tables with list CHECKs; version 8 rebuilds
    // them. Everything sold before must be there afterwards, with its links intact.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v7.db");
    create_at_version(&path, 7).unwrap();
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(
            "PRAGMA foreign_keys = ON;
             INSERT INTO venues (id, slug, name, city, timezone, layout, capacity, width)
                 VALUES (1, 'v', 'Old Hall', 'Linz', 'Europe/Vienna', 'A |SS|', 2, 2);
             INSERT INTO categories VALUES (1, 'S', 'Stalls');
             INSERT INTO seats (id, venue_id, label, section, row_label, number, category, grid_x, grid_y)
                 VALUES (1, 1, 'A-1', 'A', 'A', 1, 'S', 0, 0), (2, 1, 'A-2', 'A', 'A', 2, 'S', 1, 0);
             INSERT INTO concerts (id, external_id, artist, title, venue_id, starts_at, utc_offset, local_date, local_time, on_sale_at)
                 VALUES (1, 'old-1', 'Legacy Band', 'Reunion', 1, 1893456000, 3600, '2030-01-01', '01:00', 0);
             INSERT INTO prices VALUES (1, 'S', 4500);
             INSERT INTO customers (id, email, name) VALUES (1, 'old@example.com', 'Old Customer');
             INSERT INTO holds (id, concert_id, customer_id, created_at, expires_at, state, kind)
                 VALUES ('HOLDPAID1', 1, 1, 1000, 1300, 'paid', 'sale');
             INSERT INTO bookings (id, code, concert_id, customer_id, hold_id, total_cents, currency, method, state, created_at)
                 VALUES (1, 'OLD001', 1, 1, 'HOLDPAID1', 4500, 'EUR', 'cash', 'confirmed', 1100);
             INSERT INTO claims (concert_id, seat_id, hold_id, booking_id, price_cents, expires_at, active)
                 VALUES (1, 1, 'HOLDPAID1', 1, 4500, NULL, 1);
             INSERT INTO payments (kind, idempotency_key, hold_id, booking_id, processor, amount_cents, currency, state, created_at, updated_at)
                 VALUES ('charge', 'charge-HOLDPAID1-1', 'HOLDPAID1', 1, 'cash', 4500, 'EUR', 'captured', 1100, 1100);
             INSERT INTO outbox (kind, channel, recipient, customer_id, subject, body, booking_code, created_at, next_attempt_at)
                 VALUES ('confirmation', 'email', 'old@example.com', 1, 'Your tickets', 'Booking OLD001', 'OLD001', 1100, 1100);",
        )
        .unwrap();
    }
    let mut store = Store::open(&path, clock()).unwrap();
    assert_eq!(store.schema_version().unwrap(), SCHEMA_VERSION);
    let booking = store.booking("OLD001").unwrap();
    assert_eq!(booking.seats.len(), 1);
    assert_eq!(booking.total_cents, 4500);
    assert_eq!(booking.customer.email, "old@example.com");
    assert_eq!(store.seat_map(1).unwrap().counts.booked, 1);
    // The remaining seat sells as before, and the count of claimed seats stays right.
    let hold = store
        .hold_seats(1, &seats(&["A-2"]), &customer("new@example.com"))
        .unwrap();
    assert_eq!(hold.total_cents, 4500);
    drop(store);
    let conn = rusqlite::Connection::open(&path).unwrap();
    let one = |sql: &str| -> i64 { conn.query_row(sql, [], |r| r.get(0)).unwrap() };
    assert_eq!(
        one("SELECT count(*) FROM payments WHERE state = 'captured'"),
        1
    );
    assert_eq!(
        one("SELECT count(*) FROM outbox WHERE booking_code = 'OLD001'"),
        1
    );
    assert_eq!(one("SELECT claimed FROM concerts WHERE id = 1"), 2);
    assert_eq!(one("SELECT booked FROM concerts WHERE id = 1"), 1);
    assert_eq!(one("SELECT reserved FROM concerts WHERE id = 1"), 0);
    let dangling: Option<String> = conn
        .query_row("PRAGMA foreign_key_check", [], |r| r.get(0))
        .optional()
        .unwrap();
    assert_eq!(dangling, None);
    // The rebuilt tables keep their rules.
    let err = conn
        .execute("UPDATE holds SET state = 'lost' WHERE id = 'HOLDPAID1'", [])
        .unwrap_err();
    assert!(err.to_string().contains("CHECK"), "{err}");
    let err = conn
        .execute("UPDATE payments SET state = 'maybe'", [])
        .unwrap_err();
    assert!(err.to_string().contains("CHECK"), "{err}");
}

#[test]
fn the_log_is_copied_back_in_the_background_and_starts_over() {
    // The connection that commits never checkpoints; a thread of the store does, once the
    // write-ahead log passes CHECKPOINT_PAGES. Visible from outside: the database file takes
    // the pages while the store is still open, and the log file stops growing.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.db");
    let wal = dir.path().join("big.db-wal");
    let mut store = Store::open(&path, clock()).unwrap();
    let before = std::fs::metadata(&path).unwrap().len();
    // A 10,000-seat hall, three times: well over a thousand pages.
    let layout = format!(
        "venue Big\ncity Graz\ntimezone Europe/Vienna\ncategory S Standard\nsection B Block\n{}",
        (1..=100)
            .map(|r| format!("{r} |{}|\n", "S".repeat(100)))
            .collect::<String>()
    );
    for slug in ["big-1", "big-2", "big-3"] {
        store.add_venue(slug, &layout).unwrap();
    }
    // Waits for the thread (not for a time the test depends on): small commits keep coming,
    // as at a box office, and each one past the limit wakes it.
    let tiny = "venue Tiny\ncity Graz\ntimezone Europe/Vienna\ncategory S Standard\nsection B Block\n1 |S|\n";
    let mut copied = false;
    let mut steady = 0;
    let mut last = 0;
    for i in 0..2000 {
        store.add_venue(&format!("tiny-{i}"), tiny).unwrap();
        copied |= std::fs::metadata(&path).unwrap().len() > before;
        // Once copied back, the log starts from the beginning again: small commits no longer
        // make its file longer.
        let size = std::fs::metadata(&wal).unwrap().len();
        steady = if copied && size == last {
            steady + 1
        } else {
            0
        };
        last = size;
        if steady == 30 {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(2));
    }
    assert!(copied, "nothing was copied back while the store was open");
    assert_eq!(steady, 30, "the log kept growing");
}

#[test]
fn terminals_starting_together_on_a_new_box_office_all_open_it() {
    // Eight terminals opening a database that does not exist yet, at the same moment: one
    // creates the schema, the others wait for it instead of failing with "busy".
    open_together("box.db", |path| {
        Store::open(path, std::sync::Arc::new(boxoffice::SystemClock)).map(|_| ())
    });
}

#[test]
fn a_live_hold_from_before_version_11_is_still_its_persons() {
    // Version 11 writes each hold's person (email, name, phone) into the hold; a live hold made
    // before is still its person's, found by phone under another email.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("v10.db");
    create_at_version(&path, 10).unwrap();
    {
        let conn = rusqlite::Connection::open(&path).unwrap();
        conn.execute_batch(
            "PRAGMA foreign_keys = ON;
             INSERT INTO venues (id, slug, name, city, timezone, layout, capacity, width)
                 VALUES (1, 'v', 'Old Hall', 'Linz', 'Europe/Vienna', 'A |SSSSSSSS|', 8, 8);
             INSERT INTO categories VALUES (1, 'S', 'Stalls');
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 8)
             INSERT INTO seats (id, venue_id, label, section, row_label, number, category, grid_x, grid_y)
                 SELECT i, 1, 'A-' || i, 'A', 'A', i, 'S', i - 1, 0 FROM n;
             INSERT INTO concerts (id, external_id, artist, title, venue_id, starts_at, utc_offset, local_date, local_time, on_sale_at, claimed)
                 VALUES (1, 'old-1', 'Legacy Band', 'Reunion', 1, 1893456000, 3600, '2030-01-01', '01:00', 0, 5);
             INSERT INTO prices VALUES (1, 'S', 4500);
             INSERT INTO customers (id, email, name, phone) VALUES (1, 'old@example.com', 'Old Customer', '+436609912345');
             INSERT INTO holds (id, concert_id, customer_id, created_at, expires_at, state, kind)
                 VALUES ('HOLDLIVE1', 1, 1, 1796112000, 1896112000, 'live', 'sale');
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5)
             INSERT INTO claims (hold_id, seat_id, concert_id, price_cents, expires_at)
                 SELECT 'HOLDLIVE1', i, 1, 4500, 1896112000 FROM n;",
        )
        .unwrap();
    }
    let mut store = Store::open(&path, clock()).unwrap();
    let hold = store.hold("HOLDLIVE1").unwrap();
    assert_eq!(
        (hold.customer.as_str(), hold.seats.len()),
        ("old@example.com", 5)
    );
    let same_phone = boxoffice::CustomerInfo {
        email: "someone.else@example.com".into(),
        name: None,
        phone: Some("+43 660 99 12345".into()),
    };
    // Somebody else cannot take its seats; the same person (by phone, under another email)
    // replaces it, as one live hold per person per concert says.
    let err = store
        .hold_seats(1, &seats(&["A-1"]), &customer("stranger@example.com"))
        .unwrap_err();
    assert!(
        matches!(&err, Error::SeatsTaken(s) if s == &["A-1"]),
        "{err:?}"
    );
    let h = store
        .hold_seats(1, &seats(&["A-6", "A-7", "A-8"]), &same_phone)
        .unwrap();
    assert_eq!(h.replaced.map(|r| r.hold_id).as_deref(), Some("HOLDLIVE1"));
}

#[test]
fn payments_are_indexed_by_booking_only_once_they_have_one() {
    // Version 14: a pending charge (no booking yet) is not in the booking index, and a
    // booking's payments are still found through it, on an upgraded file as on a new one.
    let dir = tempfile::tempdir().unwrap();
    let old = dir.path().join("v13.db");
    create_at_version(&old, 13).unwrap();
    for path in [old, dir.path().join("new.db")] {
        let store = Store::open(&path, clock()).unwrap();
        drop(store);
        let conn = rusqlite::Connection::open(&path).unwrap();
        let sql: String = conn
            .query_row(
                "SELECT sql FROM sqlite_master WHERE name = 'payments_by_booking'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert!(sql.ends_with("WHERE booking_id IS NOT NULL"), "{sql}");
        let plan: String = conn
            .query_row(
                "EXPLAIN QUERY PLAN SELECT coalesce(sum(amount_cents), 0) FROM payments
                 WHERE booking_id = ?1 AND kind = 'refund'",
                [1],
                |r| r.get(3),
            )
            .unwrap();
        assert!(plan.contains("payments_by_booking"), "{plan}");
    }
}

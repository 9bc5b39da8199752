//! Schema migrations, applied in order on `PRAGMA user_version`: numbered SQL files in
//! `migrations/`, and `schema.sql`, the schema they build, for reading. Never edit a released
//! migration: add a new file, so an old database file upgrades in place.

use crate::error::Result;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior};

/// The migrations in order: `migrations/NN_name.sql` takes a database from version NN-1 to NN.
/// `schema.sql` beside them is what the last one leaves (checked by a test; regenerate it with
/// `BOXOFFICE_WRITE_SCHEMA=1 cargo test --lib schema`).
const MIGRATIONS: &[&str] = &[
    include_str!("migrations/01_catalog_customers_holds_bookings_payments.sql"),
    include_str!("migrations/02_concert_search.sql"),
    include_str!("migrations/03_outbox.sql"),
    include_str!("migrations/04_fairness_and_waiting_list.sql"),
    include_str!("migrations/05_catalog_changes.sql"),
    include_str!("migrations/06_customers_by_phone.sql"),
    include_str!("migrations/07_concert_counts.sql"),
    include_str!("migrations/08_check_as_or_chains.sql"),
    include_str!("migrations/09_listing_counts.sql"),
    include_str!("migrations/10_claims_by_hold.sql"),
    include_str!("migrations/11_holds_name_their_person.sql"),
    include_str!("migrations/12_seat_rows.sql"),
    include_str!("migrations/13_claims_in_force.sql"),
    include_str!("migrations/14_payments_by_booking.sql"),
    include_str!("migrations/15_unanswered_charges_and_box_office_id.sql"),
    include_str!("migrations/16_staged_imports.sql"),
    include_str!("migrations/17_sending_away.sql"),
    include_str!("migrations/18_venue_country.sql"),
    include_str!("migrations/19_tickets_doors_and_clerks.sql"),
    include_str!("migrations/20_own_catalog.sql"),
    include_str!("migrations/21_walk_ups.sql"),
    include_str!("migrations/22_door_undos_and_who_holds.sql"),
    include_str!("migrations/23_customer_name_key.sql"),
];

/// The schema version this build writes.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// Brings the database up to `target`, each step in one IMMEDIATE transaction so two processes
/// starting at once do not both migrate. Foreign keys are not enforced while a step runs (a
/// step may rebuild a table others refer to, SQLite's documented way to change a constraint);
/// each step is checked with `PRAGMA foreign_key_check` before it commits.
pub(crate) fn migrate(conn: &mut Connection, target: i64) -> Result<()> {
    let enforced: bool = conn.query_row("PRAGMA foreign_keys", [], |r| r.get(0))?;
    conn.execute_batch("PRAGMA foreign_keys = OFF")?;
    let out = migrate_steps(conn, target);
    if enforced {
        conn.execute_batch("PRAGMA foreign_keys = ON")?;
    }
    out
}

fn migrate_steps(conn: &mut Connection, target: i64) -> Result<()> {
    loop {
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let current: i64 = tx.query_row("PRAGMA user_version", [], |r| r.get(0))?;
        if current >= target {
            return Ok(());
        }
        tx.execute_batch(MIGRATIONS[current as usize])?;
        after_step(&tx, current + 1)?;
        let broken: Option<String> = tx
            .query_row("PRAGMA foreign_key_check", [], |r| r.get(0))
            .optional()?;
        if let Some(table) = broken {
            return Err(crate::error::Error::Corrupt(format!(
                "upgrading it to version {} would leave rows of {table} pointing nowhere; \
                 nothing was changed",
                current + 1
            )));
        }
        tx.execute_batch(&format!("PRAGMA user_version = {}", current + 1))?;
        tx.commit()?;
    }
}

/// What a migration needs beyond SQL, in the same transaction: version 19 gives every seat of
/// an existing booking its ticket, with a code from the system's random source (SQLite's
/// `random()` is not meant for secrets).
fn after_step(tx: &rusqlite::Transaction<'_>, version: i64) -> Result<()> {
    if version == 19 {
        let seats: Vec<(i64, i64, i64, String)> = {
            let mut st = tx.prepare(
                "SELECT b.id, b.concert_id, j.value ->> 0,
                        CASE b.state WHEN 'cancelled' THEN 'cancelled' ELSE 'valid' END
                 FROM bookings b JOIN holds h ON h.id = b.hold_id, json_each(h.seats) j
                 ORDER BY b.id, j.key",
            )?;
            st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
                .collect::<rusqlite::Result<_>>()?
        };
        let mut insert = tx.prepare(
            "INSERT INTO tickets (code, booking_id, concert_id, seat_id, state) VALUES (?1, ?2, ?3, ?4, ?5)",
        )?;
        // A cancelled booking's tickets are void from the start.
        for (booking, concert, seat, state) in seats {
            insert.execute(rusqlite::params![
                crate::codes::new_ticket_code(),
                booking,
                concert,
                seat,
                state
            ])?;
        }
    }
    if version == 23 {
        // The names on record, folded as the writer folds new ones.
        let names: Vec<(i64, String)> = {
            let mut st = tx.prepare("SELECT id, name FROM customers WHERE name IS NOT NULL")?;
            st.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<rusqlite::Result<_>>()?
        };
        let mut update = tx.prepare("UPDATE customers SET name_key = ?2 WHERE id = ?1")?;
        for (id, name) in names {
            update.execute(rusqlite::params![id, crate::text::fold(&name)])?;
        }
    }
    Ok(())
}

/// The schema as SQLite keeps it (`sqlite_master`): tables, then indexes, triggers and views,
/// each by name, without SQLite's own tables and the search index's internal ones. What
/// `schema.sql` holds for the current version.
#[cfg(test)]
fn dump(conn: &Connection) -> Result<String> {
    let mut st = conn.prepare(
        "SELECT m.sql FROM sqlite_master m
         WHERE m.sql IS NOT NULL AND m.name NOT LIKE 'sqlite_%'
           AND NOT EXISTS (SELECT 1 FROM sqlite_master v
                           WHERE v.type = 'table' AND v.sql LIKE 'CREATE VIRTUAL TABLE%'
                             AND m.type = 'table' AND m.name LIKE v.name || '_%')
         ORDER BY CASE m.type WHEN 'table' THEN 0 WHEN 'index' THEN 1 WHEN 'trigger' THEN 2 ELSE 3 END,
                  m.name",
    )?;
    let mut out = String::new();
    for sql in st.query_map([], |r| r.get::<_, String>(0))? {
        out.push_str(&sql?);
        out.push_str(";\n\n");
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCHEMA_SQL: &str = include_str!("schema.sql");

    fn head() -> String {
        format!(
            "-- The schema of version {SCHEMA_VERSION}, as `migrations/` leave it. Generated: \
             BOXOFFICE_WRITE_SCHEMA=1 cargo test --lib schema\n\n"
        )
    }

    /// A fresh database is the checked-in schema.
    #[test]
    fn a_fresh_database_has_the_checked_in_schema() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn, SCHEMA_VERSION).unwrap();
        let now = head() + &dump(&conn).unwrap();
        if std::env::var_os("BOXOFFICE_WRITE_SCHEMA").is_some() {
            std::fs::write(
                concat!(env!("CARGO_MANIFEST_DIR"), "/src/store/schema.sql"),
                &now,
            )
            .unwrap();
            return;
        }
        assert!(
            now == SCHEMA_SQL,
            "src/store/schema.sql is not what the migrations build: a migration was added or \
             edited without regenerating it (BOXOFFICE_WRITE_SCHEMA=1 cargo test --lib schema)"
        );
    }

    /// The checked-in schema is SQL that builds itself, and a database made at version 1 with
    /// rows in it, then upgraded step by step, ends with the same schema as a fresh one.
    #[test]
    fn a_migrated_old_database_has_the_same_schema_as_a_fresh_one() {
        let fresh = {
            let conn = Connection::open_in_memory().unwrap();
            conn.execute_batch(SCHEMA_SQL).unwrap();
            dump(&conn).unwrap()
        };
        assert_eq!(head() + &fresh, SCHEMA_SQL);

        let mut old = Connection::open_in_memory().unwrap();
        migrate(&mut old, 1).unwrap();
        hall(&old, 3);
        old.execute_batch(
            "INSERT INTO customers (id, email) VALUES (1, 'paid@example.com');
             INSERT INTO holds (id, concert_id, customer_id, created_at, expires_at, state)
                 VALUES ('PAID', 1, 1, 400, 700, 'paid');
             INSERT INTO bookings (id, code, concert_id, customer_id, hold_id, total_cents, currency, method, state, created_at)
                 VALUES (1, 'BOOK01', 1, 1, 'PAID', 200, 'EUR', 'cash', 'confirmed', 450);
             INSERT INTO claims (hold_id, seat_id, concert_id, booking_id, price_cents)
                 VALUES ('PAID', 2, 1, 1, 200);",
        )
        .unwrap();
        migrate(&mut old, SCHEMA_VERSION).unwrap();
        assert_eq!(dump(&old).unwrap(), fresh);
        // Version 19 gave the booking's seat its ticket, with a code of its own.
        let (seat, code): (i64, String) = old
            .query_row(
                "SELECT seat_id, code FROM tickets WHERE booking_id = 1",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!(seat, 2);
        assert_eq!(code.len(), crate::codes::TICKET_CODE_LEN);
        assert_no_dangling_rows(&old);
    }

    /// Venue 1 with seats A-1 to A-`seats` in one row, and concert 1 there.
    fn hall(conn: &Connection, seats: i64) {
        conn.execute(
            "INSERT INTO venues (id, slug, name, city, timezone, layout, capacity)
             VALUES (1, 'v', 'V', 'C', 'UTC', '', ?1)",
            [seats],
        )
        .unwrap();
        conn.execute(
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < ?1)
             INSERT INTO seats (id, venue_id, label, section, row_label, number, category, grid_x, grid_y)
             SELECT i, 1, 'A-' || i, 'A', 'A', i, 'S', i - 1, 0 FROM n",
            [seats],
        )
        .unwrap();
        conn.execute(
            "INSERT INTO concerts (id, artist, title, venue_id, starts_at, utc_offset, local_date, local_time, on_sale_at)
             VALUES (1, 'a', 't', 1, 0, 0, '2030-01-01', '20:00', 0)",
            [],
        )
        .unwrap();
    }

    fn assert_no_dangling_rows(conn: &Connection) {
        let dangling: Option<String> = conn
            .query_row("PRAGMA foreign_key_check", [], |r| r.get(0))
            .optional()
            .unwrap();
        assert_eq!(dangling, None);
    }

    #[test]
    fn version_13_keeps_the_claims_in_force_and_each_hold_lists_its_seats() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn, 12).unwrap();
        hall(&conn, 3);
        conn.execute_batch(
            "             INSERT INTO customers (id, email) VALUES (1, 'paid@example.com');
             -- An expired hold of seats 1 and 2 (its claims no longer in force), then a booking
             -- of seat 2 and a live hold of seat 3.
             INSERT INTO holds (id, concert_id, email, created_at, expires_at, state)
                 VALUES ('HOLD', 1, 'gone@example.com', 0, 300, 'expired'),
                        ('PAID', 1, 'paid@example.com', 400, 700, 'paid'),
                        ('LIVE', 1, 'live@example.com', 500, 800, 'live');
             INSERT INTO bookings (id, code, concert_id, customer_id, hold_id, total_cents, currency, method, state, created_at)
                 VALUES (1, 'BOOK01', 1, 1, 'PAID', 200, 'EUR', 'cash', 'confirmed', 450);
             INSERT INTO claims (hold_id, seat_id, concert_id, booking_id, price_cents, expires_at, active)
                 VALUES ('HOLD', 1, 1, NULL, 100, 300, 0), ('HOLD', 2, 1, NULL, 100, 300, 0),
                        ('PAID', 2, 1, 1, 200, NULL, 1), ('LIVE', 3, 1, NULL, 150, 800, 1);
             UPDATE concerts SET claimed = 2, booked = 1;",
        )
        .unwrap();
        migrate(&mut conn, 13).unwrap();
        let rows = |sql: &str| -> Vec<String> {
            conn.prepare(sql)
                .unwrap()
                .query_map([], |r| r.get(0))
                .unwrap()
                .collect::<rusqlite::Result<_>>()
                .unwrap()
        };
        assert_eq!(
            rows("SELECT id || ' ' || seats FROM holds ORDER BY id"),
            ["HOLD [[1,100],[2,100]]", "LIVE [[3,150]]", "PAID [[2,200]]"]
        );
        assert_eq!(
            rows("SELECT seat_id || ' ' || hold_id FROM claims ORDER BY seat_id"),
            ["2 PAID", "3 LIVE"]
        );
        // One claim per seat is the table's key now.
        let err = conn
            .execute(
                "INSERT INTO claims (concert_id, seat_id, hold_id, price_cents) VALUES (1, 3, 'HOLD', 0)",
                [],
            )
            .unwrap_err();
        assert!(err.to_string().contains("UNIQUE"), "{err}");
        // The counts follow what the claims do.
        conn.execute_batch(
            "DELETE FROM claims WHERE hold_id = 'LIVE';
             UPDATE claims SET booking_id = NULL WHERE hold_id = 'PAID';",
        )
        .unwrap();
        assert_eq!(
            rows("SELECT claimed || ' ' || booked FROM concerts"),
            ["1 0"]
        );
        assert_no_dangling_rows(&conn);
    }

    #[test]
    fn version_11_writes_each_holds_person_into_it_and_finds_them_by_email_and_phone() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn, 10).unwrap();
        hall(&conn, 2);
        conn.execute_batch(
            "             INSERT INTO customers (id, email, name, phone)
                 VALUES (1, 'ann@example.com', 'Ann', '+4366012345'), (2, 'bo@example.com', NULL, NULL);
             INSERT INTO holds (id, concert_id, customer_id, created_at, expires_at, state, kind)
                 VALUES ('H1', 1, 1, 0, 300, 'live', 'sale'), ('H2', 1, 2, 0, 300, 'paid', 'sale');
             INSERT INTO claims (hold_id, seat_id, concert_id, price_cents, expires_at)
                 VALUES ('H1', 1, 1, 100, 300), ('H2', 2, 1, 100, NULL);",
        )
        .unwrap();
        migrate(&mut conn, 11).unwrap();
        let holds: Vec<String> = conn
            .prepare(
                "SELECT id || ' ' || email || ' ' || coalesce(name, '-') || ' ' || coalesce(phone, '-')
                     || ' ' || state FROM holds ORDER BY id",
            )
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert_eq!(
            holds,
            [
                "H1 ann@example.com Ann +4366012345 live",
                "H2 bo@example.com - - paid"
            ]
        );
        // The person's holds come from the new indexes; the claims still point at their holds.
        let plan = |sql: &str| -> String {
            conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
                .unwrap()
                .query_map([], |r| r.get::<_, String>(3))
                .unwrap()
                .collect::<rusqlite::Result<Vec<_>>>()
                .unwrap()
                .join("; ")
        };
        assert!(
            plan("SELECT id FROM holds WHERE email = 'ann@example.com' AND concert_id = 1")
                .contains("holds_by_email"),
        );
        assert!(
            plan("SELECT id FROM holds WHERE phone = '+4366012345' AND concert_id = 1")
                .contains("holds_by_phone"),
        );
        assert_no_dangling_rows(&conn);
        let err = conn
            .execute(
                "INSERT INTO holds (id, concert_id, email, created_at, expires_at, state) VALUES ('H3', 1, 'c@example.com', 0, 0, 'lost')",
                [],
            )
            .unwrap_err();
        assert!(err.to_string().contains("CHECK"), "{err}");
    }

    #[test]
    fn version_10_keeps_one_claim_per_hold_and_seat_and_the_counts_follow() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn, 9).unwrap();
        hall(&conn, 2);
        conn.execute_batch(
            "             INSERT INTO customers (id, email) VALUES (1, 'pool@example.com');
             INSERT INTO holds (id, concert_id, customer_id, created_at, expires_at, state, kind)
                 VALUES ('POOL-1', 1, 1, 0, 9, 'live', 'pool');
             -- The pool kept seat 1 three times (kept now, in the middle) and seat 2 twice.
             INSERT INTO claims (id, concert_id, seat_id, hold_id, price_cents, active, reserved)
                 VALUES (1, 1, 1, 'POOL-1', 0, 0, 1), (2, 1, 1, 'POOL-1', 0, 1, 1),
                        (3, 1, 1, 'POOL-1', 0, 0, 1), (4, 1, 2, 'POOL-1', 0, 0, 1),
                        (5, 1, 2, 'POOL-1', 0, 0, 1);
             UPDATE concerts SET claimed = 1, reserved = 1;",
        )
        .unwrap();
        migrate(&mut conn, 10).unwrap();
        let rows: Vec<(i64, i64)> = conn
            .prepare("SELECT seat_id, active FROM claims ORDER BY seat_id")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert_eq!(rows, [(1, 1), (2, 0)]);
        // The rebuilt table keeps the counts: giving the kept seat up counts it out.
        conn.execute("DELETE FROM claims WHERE seat_id = 1", [])
            .unwrap();
        let counts: (i64, i64) = conn
            .query_row("SELECT claimed, reserved FROM concerts", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .unwrap();
        assert_eq!(counts, (0, 0));
    }
}

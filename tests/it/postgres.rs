//! PostgreSQL, against a real server: `.ci/run` starts a throwaway cluster and sets
//! BOXOFFICE_TEST_PG (see `.ci/with-postgres`); a plain `cargo test` skips these, saying so.
//! Each test works in a database of its own.

use crate::common;

use boxoffice::Clock;
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};

/// The server's URL for an administrator, or `None` (and a note) without one.
fn server() -> Option<String> {
    match std::env::var("BOXOFFICE_TEST_PG") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            eprintln!(
                "skipped: no PostgreSQL (set BOXOFFICE_TEST_PG, or run `.ci/with-postgres cargo test`)"
            );
            None
        }
    }
}

/// A fresh, empty database `name` on the server; its URL.
fn fresh_database(admin: &str, name: &str) -> String {
    let mut client = postgres::Client::connect(&admin_config(admin), postgres::NoTls).unwrap();
    client
        .batch_execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .unwrap();
    client
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .unwrap();
    admin.replace("/postgres?", &format!("/{name}?"))
}

/// The admin URL as the `postgres` crate's key=value settings (it takes URLs too, but a socket
/// directory in a query parameter is ours).
fn admin_config(url: &str) -> String {
    // `host=DIR&port=N` as the client's settings, `host=DIR port=N`.
    let socket = url.split('?').nth(1).unwrap().replace('&', " ");
    format!("{socket} user=postgres dbname=postgres")
}

/// A connection to the database `name` as the administrator.
fn client(admin: &str, name: &str) -> postgres::Client {
    postgres::Client::connect(
        &admin_config(admin).replace("dbname=postgres", &format!("dbname={name}")),
        postgres::NoTls,
    )
    .unwrap()
}

fn bin(db: &str) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_boxoffice"));
    cmd.env("BOXOFFICE_DB", db)
        .env_remove("BOXOFFICE_NOW")
        .env_remove("PGPASSWORD")
        .env_remove("BOXOFFICE_CONFIG");
    cmd
}

fn run(db: &str, args: &[&str]) -> Output {
    bin(db).args(args).output().unwrap()
}

fn json(db: &str, args: &[&str]) -> Value {
    let out = run(db, args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// A SQLite box office with the demo catalog and its sales, and some of today's work on top:
/// a walk-up's booking, a booking with a seat cancelled, a live hold.
fn demo_box_office(dir: &Path) -> String {
    let db = dir.join("box.db").display().to_string();
    let seats = json(&db, &["seats", "demo-13", "--json"]);
    let free: Vec<String> = seats
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["status"] == "free")
        .take(6)
        .map(|s| s["seat"].as_str().unwrap().to_string())
        .collect();
    let hold = json(
        &db,
        &[
            "hold",
            "demo-13",
            &free[0],
            &free[1],
            &free[2],
            "--customer",
            "ann@example.com",
            "--json",
        ],
    );
    let paid = json(
        &db,
        &[
            "pay",
            hold["hold_id"].as_str().unwrap(),
            "--cash",
            "20000",
            "--json",
        ],
    );
    let code = paid["booking_code"].as_str().unwrap();
    json(&db, &["cancel", code, "--seats", &free[2], "--json"]);
    let walk_up = json(
        &db,
        &[
            "hold",
            "demo-13",
            &free[5],
            "--walk-up",
            "--allow-gap",
            "--json",
        ],
    );
    json(
        &db,
        &[
            "pay",
            walk_up["hold_id"].as_str().unwrap(),
            "--cash",
            "5000",
            "--json",
        ],
    );
    json(
        &db,
        &[
            "hold",
            "demo-13",
            &free[3],
            &free[4],
            "--customer",
            "live@example.com",
            "--allow-gap",
            "--json",
        ],
    );
    db
}

#[test]
#[ignore = "needs BOXOFFICE_TEST_PG"]
fn a_sqlite_box_office_is_copied_into_postgres_in_one_go_and_checked() {
    let Some(admin) = server() else { return };
    let target = fresh_database(&admin, "bo_copy");
    let dir = tempfile::tempdir().unwrap();
    let db = demo_box_office(dir.path());

    // Before: an empty database has no box office yet.
    let status = json(&target, &["db", "status", "--json"]);
    assert_eq!(status["engine"], "postgresql");
    assert_eq!(status["schema_version"], Value::Null);

    let report = json(&db, &["db", "copy", "--to", &target, "--json"]);
    let tables = report["tables"].as_array().unwrap();
    assert_eq!(tables.len(), boxoffice::store::copy::TABLES.len());
    for t in tables {
        assert_eq!(t["rows_from"], t["rows_to"], "{t}");
        assert_eq!(t["cents_from"], t["cents_to"], "{t}");
    }
    let rows = |name: &str| {
        tables.iter().find(|t| t["table"] == name).unwrap()["rows_to"]
            .as_i64()
            .unwrap()
    };
    assert!(rows("seats") > 10_000 && rows("bookings") > 100 && rows("tickets") > 100);
    assert!(rows("holds") > 0 && rows("outbox") > 0 && rows("customers") > 0);

    // The data is there as it was: the same bookings and money, the counts the rules keep.
    let sqlite = rusqlite::Connection::open(&db).unwrap();
    let mut pg = client(&admin, "bo_copy");
    for sql in [
        "SELECT count(*) FROM bookings WHERE state = 'confirmed'",
        "SELECT CAST(coalesce(sum(total_cents), 0) AS BIGINT) FROM bookings WHERE state = 'confirmed'",
        "SELECT CAST(coalesce(sum(claimed + booked + reserved), 0) AS BIGINT) FROM concerts",
        "SELECT count(*) FROM customers WHERE email IS NULL",
        "SELECT count(*) FROM tickets WHERE state = 'cancelled'",
    ] {
        let here: i64 = sqlite.query_row(sql, [], |r| r.get(0)).unwrap();
        let there: i64 = pg.query_one(sql, &[]).unwrap().get(0);
        assert_eq!(here, there, "{sql}");
    }
    // New rows continue after the copied ids.
    let next: i64 = pg
        .query_one(
            "INSERT INTO customers (email) VALUES ('new@example.com') RETURNING id",
            &[],
        )
        .unwrap()
        .get(0);
    let max: i64 = sqlite
        .query_row("SELECT max(id) FROM customers", [], |r| r.get(0))
        .unwrap();
    assert!(next > max);
    pg.execute("DELETE FROM customers WHERE email = 'new@example.com'", &[])
        .unwrap();

    let status = json(&target, &["db", "status", "--json"]);
    assert_eq!(status["schema_version"], status["supported_version"]);
    assert!(
        status["location"]
            .as_str()
            .unwrap()
            .starts_with("bo_copy on ")
    );
    assert!(
        status["server"].as_str().unwrap().starts_with("15"),
        "{status}"
    );

    // A second copy is refused: the target is not empty; nothing changes.
    let again = run(&db, &["db", "copy", "--to", &target]);
    assert_eq!(again.status.code(), Some(2), "{}", stderr(&again));
    assert!(stderr(&again).contains("already holds a box office"));
    let seats_after: i64 = pg
        .query_one("SELECT count(*) FROM seats", &[])
        .unwrap()
        .get(0);
    assert_eq!(seats_after, rows("seats"));
}

#[test]
#[ignore = "needs BOXOFFICE_TEST_PG"]
fn a_database_a_newer_boxoffice_wrote_is_refused_untouched() {
    let Some(admin) = server() else { return };
    let target = fresh_database(&admin, "bo_newer");
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("box.db").display().to_string();
    json(&db, &["concerts", "--json"]);
    // Created on first use, then marked as written by a future version.
    json(&target, &["db", "status", "--json"]);
    let mut pg = client(&admin, "bo_newer");
    pg.batch_execute(
        "CREATE TABLE boxoffice_schema (version BIGINT NOT NULL); INSERT INTO boxoffice_schema VALUES (999)",
    )
    .unwrap();
    let out = run(&db, &["db", "copy", "--to", &target]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("newer boxoffice"), "{}", stderr(&out));
    let tables: i64 = pg
        .query_one(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'",
            &[],
        )
        .unwrap()
        .get(0);
    assert_eq!(tables, 1, "nothing was created beside the version table");
    let status = json(&target, &["db", "status", "--json"]);
    assert_eq!(status["schema_version"], 999);
}

#[test]
#[ignore = "needs BOXOFFICE_TEST_PG"]
fn a_wrong_url_an_unreachable_server_a_refused_login_and_a_missing_database_are_one_line() {
    let Some(admin) = server() else { return };
    let socket = admin.split("host=").nth(1).unwrap().to_string();
    let mut pg = postgres::Client::connect(&admin_config(&admin), postgres::NoTls).unwrap();
    pg.batch_execute("DROP ROLE IF EXISTS clerk; CREATE ROLE clerk LOGIN PASSWORD 'right-one'")
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("box.db").display().to_string();
    let check = |url: &str, password: Option<&str>, code: i32, says: &str| {
        let mut cmd = bin(url);
        cmd.args(["db", "status"]);
        if let Some(p) = password {
            cmd.env("PGPASSWORD", p);
        }
        let out = cmd.output().unwrap();
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(code), "{url}: {err}");
        assert!(err.contains(says), "{url}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
        assert!(
            !err.contains("right-one") && !err.contains("wrong-one"),
            "{err}"
        );
    };
    check(
        &format!("postgres://postgres@/no_such_db?host={socket}"),
        None,
        1,
        "has no database no_such_db",
    );
    check(
        &format!(
            "postgres://postgres@/postgres?host={}/nowhere",
            dir.path().display()
        ),
        None,
        1,
        "cannot reach PostgreSQL",
    );
    check(
        &format!("postgres://clerk@/postgres?host={socket}"),
        Some("wrong-one"),
        1,
        "refused the login of clerk",
    );
    check(
        &format!("postgres://clerk:right-one@/postgres?host={socket}"),
        None,
        1,
        "password in the database URL is refused",
    );
    check(
        &format!("postgres://clerk@/postgres?host={socket}&colour=red"),
        None,
        1,
        "unknown setting `colour`",
    );
    // The password from the environment is the one used.
    let ok = {
        let mut cmd = bin(&format!("postgres://clerk@/postgres?host={socket}"));
        cmd.args(["db", "status", "--json"])
            .env("PGPASSWORD", "right-one");
        cmd.output().unwrap()
    };
    assert!(ok.status.success(), "{}", stderr(&ok));
    // A selling command says the same one line, and no SQLite file is made instead.
    let out = {
        let mut cmd = bin(&format!("postgres://clerk@/postgres?host={socket}"));
        cmd.args(["concerts"]).env("PGPASSWORD", "wrong-one");
        cmd.output().unwrap()
    };
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("refused the login of clerk"),
        "{}",
        stderr(&out)
    );
    assert_eq!(stderr(&out).trim_end().lines().count(), 1);
    assert!(!Path::new(&file).exists());
}

/// Every row of every table, as text, in a fixed order: what a box office holds.
fn dump(db: &str, table: &str) -> Vec<String> {
    let conn = rusqlite::Connection::open(db).unwrap();
    let cols: Vec<String> = {
        let mut st = conn
            .prepare(&format!("PRAGMA table_info(\"{table}\")"))
            .unwrap();
        st.query_map([], |r| r.get::<_, String>(1))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    let select = cols
        .iter()
        .map(|c| format!("quote({c})"))
        .collect::<Vec<_>>()
        .join(" || '|' || ");
    let mut st = conn
        .prepare(&format!("SELECT {select} FROM \"{table}\" ORDER BY 1"))
        .unwrap();
    st.query_map([], |r| r.get::<_, String>(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
#[ignore = "needs BOXOFFICE_TEST_PG"]
fn a_box_office_goes_to_postgres_and_back_with_every_row_as_it_was() {
    let Some(admin) = server() else { return };
    let target = fresh_database(&admin, "bo_round");
    let dir = tempfile::tempdir().unwrap();
    let db = demo_box_office(dir.path());
    json(&db, &["db", "copy", "--to", &target, "--json"]);
    let back = dir.path().join("back.db").display().to_string();
    let report = json(&target, &["db", "copy", "--to", &back, "--json"]);
    assert!(
        report["tables"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["rows_from"] == t["rows_to"])
    );
    for table in boxoffice::store::copy::TABLES {
        assert_eq!(dump(&db, table), dump(&back, table), "{table}");
    }
    // The copy is a working box office: its search, its bookings.
    let found = json(&back, &["concerts", "--artist", "neon", "--json"]);
    assert_eq!(found.as_array().unwrap().len(), 1);
    // A file that exists is never written over.
    let again = run(&target, &["db", "copy", "--to", &back]);
    assert_eq!(again.status.code(), Some(2), "{}", stderr(&again));
    assert!(stderr(&again).contains("copy into a new file"));
}

/// A copy killed half way, either way, leaves nothing that looks like a box office, and the
/// next try goes through.
#[test]
#[ignore = "needs BOXOFFICE_TEST_PG"]
fn a_copy_killed_half_way_leaves_nothing_and_the_next_try_goes_through() {
    let Some(admin) = server() else { return };
    let target = fresh_database(&admin, "bo_killed");
    let dir = tempfile::tempdir().unwrap();
    let db = demo_box_office(dir.path());
    let killed = |source: &str, to: &str| {
        let out = bin(source)
            .args(["db", "copy", "--to", to])
            .env("BOXOFFICE_FAILPOINT", "copy:half-way")
            .output()
            .unwrap();
        assert!(
            !out.status.success() && out.status.code().is_none(),
            "{}",
            stderr(&out)
        );
    };
    killed(&db, &target);
    let mut pg = client(&admin, "bo_killed");
    for table in boxoffice::store::copy::TABLES {
        let n: i64 = pg
            .query_one(&format!("SELECT count(*) FROM {table}"), &[])
            .unwrap()
            .get(0);
        // A new database has its own box office id, nothing else.
        let new = usize::from(*table == "box_office") as i64;
        assert_eq!(n, new, "{table}: nothing of a killed copy is kept");
    }
    json(&db, &["db", "copy", "--to", &target, "--json"]);

    let back = dir.path().join("back.db");
    killed(&target, &back.display().to_string());
    assert!(
        !back.exists(),
        "no half-made box office under the name asked for"
    );
    let report = json(
        &target,
        &["db", "copy", "--to", &back.display().to_string(), "--json"],
    );
    assert!(
        report["tables"]
            .as_array()
            .unwrap()
            .iter()
            .all(|t| t["rows_from"] == t["rows_to"])
    );
    assert_eq!(
        dump(&db, "bookings"),
        dump(&back.display().to_string(), "bookings")
    );
    let leftovers: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.contains("partial"))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

/// The card gateway's ledger in PostgreSQL keeps the same contract as in its SQLite file.
#[test]
#[ignore = "needs BOXOFFICE_TEST_PG"]
fn the_card_gateway_keeps_its_contract_with_its_ledger_in_postgres() {
    let Some(admin) = server() else { return };
    let url = fresh_database(&admin, "bo_gateway");
    let clock = std::sync::Arc::new(boxoffice::ManualClock::new(common::t(
        "2026-12-01T10:00:00Z",
    )));
    let g = boxoffice::payment::gateway::Gateway::open(Path::new(&url), clock.clone()).unwrap();
    common::gateway_contract(&g, clock.now());
    // A second connection (another machine) sees the same ledger and answers the same key
    // the same way.
    let other = boxoffice::payment::gateway::Gateway::open(Path::new(&url), clock.clone()).unwrap();
    use boxoffice::payment::PaymentProcessor;
    assert_eq!(other.lookup("k1").unwrap(), g.lookup("k1").unwrap());
}

/// A box office selling by card through a gateway whose ledger is in PostgreSQL: a sale, a
/// payment killed after the card was charged and finished by `reconcile` from the shared
/// ledger, a cancellation refunded there; the day's audit adds up.
#[test]
#[ignore = "needs BOXOFFICE_TEST_PG"]
fn a_box_office_sells_by_card_through_a_gateway_in_postgres() {
    let Some(admin) = server() else { return };
    let gateway = fresh_database(&admin, "bo_gw_sales");
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("box.db").display().to_string();
    let with_gateway = |args: &[&str], failpoint: Option<&str>| {
        let mut cmd = bin(&db);
        cmd.env("BOXOFFICE_GATEWAY", &gateway).args(args);
        if let Some(fp) = failpoint {
            cmd.env("BOXOFFICE_FAILPOINT", fp);
        }
        cmd.stdin(std::process::Stdio::piped());
        let mut child = cmd
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        let _ = child
            .stdin
            .take()
            .unwrap()
            .write_all(b"4242424242424242\n12/30\n123\n");
        child.wait_with_output().unwrap()
    };
    let hold = |seat: &str| -> String {
        let out = with_gateway(
            &[
                "hold",
                "demo-13",
                seat,
                "--customer",
                "card@example.com",
                "--allow-gap",
                "--json",
            ],
            None,
        );
        assert!(out.status.success(), "{}", stderr(&out));
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        v["hold_id"].as_str().unwrap().to_string()
    };
    let first = hold("FLR-J-1");
    let paid = with_gateway(&["pay", &first, "--card", "-", "--json"], None);
    assert!(paid.status.success(), "{}", stderr(&paid));
    let code = serde_json::from_slice::<Value>(&paid.stdout).unwrap()["booking_code"]
        .as_str()
        .unwrap()
        .to_string();
    // Killed right after the gateway took the money: the next start settles it from the
    // ledger on the server.
    let second = hold("FLR-J-3");
    let killed = with_gateway(&["pay", &second, "--card", "-"], Some("pay:after-charge"));
    assert!(killed.status.code().is_none(), "{}", stderr(&killed));
    // Once the payment's lease has run out (it could still be under way for two minutes).
    let later = (chrono::Utc::now() + chrono::Duration::minutes(3)).to_rfc3339();
    let out = bin(&db)
        .env("BOXOFFICE_GATEWAY", &gateway)
        .env("BOXOFFICE_NOW", &later)
        .args(["reconcile", "--json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let settled: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        settled["confirmed"].as_array().unwrap().len(),
        1,
        "{settled}"
    );
    let out = with_gateway(&["cancel", &code, "--json"], None);
    assert!(out.status.success(), "{}", stderr(&out));
    let audit = with_gateway(&["audit", "--json"], None);
    assert!(
        audit.status.success(),
        "{}",
        String::from_utf8_lossy(&audit.stdout)
    );
    let audit: Value = serde_json::from_slice(&audit.stdout).unwrap();
    assert_eq!(audit["unmatched"], serde_json::json!([]));
    let mut pg = client(&admin, "bo_gw_sales");
    let charges: i64 = pg
        .query_one(
            "SELECT count(*) FROM charges WHERE outcome = 'approved'",
            &[],
        )
        .unwrap()
        .get(0);
    let refunds: i64 = pg
        .query_one("SELECT count(*) FROM refunds", &[])
        .unwrap()
        .get(0);
    assert_eq!((charges, refunds), (2, 1));
}

/// The PostgreSQL schema is the SQLite one in other words: every table with the same columns
/// in the same order, and every index by name (a column added to one and not the other
/// would break `db copy` and, later, the rules on one engine).
#[test]
#[ignore = "needs BOXOFFICE_TEST_PG"]
fn the_postgres_schema_has_every_table_column_and_index_of_the_sqlite_one() {
    let Some(admin) = server() else { return };
    let url = fresh_database(&admin, "bo_schema");
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("box.db").display().to_string();
    json(&db, &["concerts", "--json"]);
    // The schema is made on first use: here by a copy of a fresh demo.
    json(&db, &["db", "copy", "--to", &url, "--json"]);
    let sqlite = rusqlite::Connection::open(&db).unwrap();
    let mut pg = client(&admin, "bo_schema");
    for table in boxoffice::store::copy::TABLES {
        let here: Vec<String> = {
            let mut st = sqlite
                .prepare(&format!("PRAGMA table_info(\"{table}\")"))
                .unwrap();
            st.query_map([], |r| r.get(1))
                .unwrap()
                .collect::<Result<_, _>>()
                .unwrap()
        };
        let there: Vec<String> = pg
            .query(
                "SELECT column_name::text FROM information_schema.columns
                 WHERE table_schema = 'public' AND table_name = $1 ORDER BY ordinal_position",
                &[table],
            )
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
        assert_eq!(here, there, "{table}");
    }
    let sqlite_indexes: Vec<String> = {
        let mut st = sqlite
            .prepare(
                "SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL ORDER BY name",
            )
            .unwrap();
        st.query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    let pg_indexes: Vec<String> = pg
        .query(
            "SELECT indexname::text FROM pg_indexes WHERE schemaname = 'public'",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    for index in &sqlite_indexes {
        assert!(
            pg_indexes.contains(index),
            "PostgreSQL lacks the index {index}"
        );
    }
}

/// The name of the fixture's database on the server.
fn db_name(f: &common::Fixture) -> String {
    common::engine::name_of(&f.db.to_string_lossy()).to_string()
}

/// A box office on PostgreSQL with the test hall and its concert (the shared fixture, on the
/// server), or `None` without one.
fn pg_fixture() -> Option<(String, common::Fixture)> {
    let admin = server()?;
    common::engine::use_postgres();
    Some((admin, common::fixture()))
}

/// Another machine holding the box office's write lock past the busy timeout: the change
/// waiting for it is "busy" after 5 s, as on SQLite, and nothing of it is kept.
#[test]
#[ignore = "needs BOXOFFICE_TEST_PG"]
fn a_write_that_waits_past_five_seconds_for_the_lock_is_busy_and_changes_nothing() {
    let Some((admin, mut f)) = pg_fixture() else {
        return;
    };
    let name = db_name(&f);
    let mut other = client(&admin, &name);
    // The key every write transaction takes first (postgres.rs).
    other
        .batch_execute("SELECT pg_advisory_lock(27707110908389748)")
        .unwrap();
    let started = std::time::Instant::now();
    let err = f
        .store
        .hold_seats(
            f.concert,
            &common::seats(&["A-1-1"]),
            &common::customer("ann@example.com"),
        )
        .unwrap_err();
    let waited = started.elapsed();
    assert!(matches!(err, boxoffice::Error::Busy), "{err:?}");
    assert!(
        waited >= std::time::Duration::from_millis(4900)
            && waited < std::time::Duration::from_secs(15),
        "{waited:?}"
    );
    other
        .batch_execute("SELECT pg_advisory_unlock(27707110908389748)")
        .unwrap();
    assert_eq!(
        common::seat_status(&f.store, f.concert, "A-1-1"),
        boxoffice::SeatStatus::Free
    );
    // Once the lock is free, the same hold goes through.
    f.store
        .hold_seats(
            f.concert,
            &common::seats(&["A-1-1"]),
            &common::customer("ann@example.com"),
        )
        .unwrap();
}

/// The server drops the connection (a restart, a network cut): the step that meets it fails
/// in one line, the next one connects again, and the change counter moves so an open screen
/// reads everything again.
#[test]
#[ignore = "needs BOXOFFICE_TEST_PG"]
fn a_dropped_connection_is_made_again_and_screens_read_everything_again() {
    let Some((admin, mut f)) = pg_fixture() else {
        return;
    };
    let name = db_name(&f);
    let before = f.store.data_version().unwrap();
    let mut admin_client = client(&admin, "postgres");
    let dropped: i64 = admin_client
        .query_one(
            "SELECT count(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity
              WHERE datname = $1 AND pid != pg_backend_pid()) AS t",
            &[&name],
        )
        .unwrap()
        .get(0);
    assert!(dropped >= 1, "the store's connection was dropped");
    // The step under way when it happened: one line, nothing half done.
    let first = f.store.seat_map(f.concert);
    if let Err(e) = &first {
        assert!(matches!(e, boxoffice::Error::Server(_)), "{e:?}");
        assert_eq!(e.to_string().lines().count(), 1, "{e}");
        assert!(e.to_string().contains("lost the connection"), "{e}");
    }
    // The next one connects again and works.
    let hold = f
        .store
        .hold_seats(
            f.concert,
            &common::seats(&["A-1-1"]),
            &common::customer("bo@example.com"),
        )
        .unwrap();
    assert_eq!(
        common::seat_status(&f.store, f.concert, "A-1-1"),
        boxoffice::SeatStatus::Held
    );
    assert_ne!(f.store.data_version().unwrap(), before);
    f.store.release_hold(&hold.hold_id).unwrap();
}

/// Statements whose text is built (searches with their page written in) are kept prepared up
/// to a bound, on the server too: a clerk paging all day does not grow the session.
#[test]
#[ignore = "needs BOXOFFICE_TEST_PG"]
fn the_statements_a_connection_keeps_prepared_are_bounded() {
    let Some((_admin, f)) = pg_fixture() else {
        return;
    };
    for i in 0..600 {
        let n: i64 = f
            .store
            .db()
            .query_row(&format!("SELECT CAST({i} AS BIGINT)"), (), |r| r.get(0))
            .unwrap();
        assert_eq!(n, i);
    }
    let kept: i64 = f
        .store
        .db()
        .query_row("SELECT count(*) FROM pg_prepared_statements", (), |r| {
            r.get(0)
        })
        .unwrap();
    assert!((1..=300).contains(&kept), "{kept} statements kept");
}

/// A PostgreSQL box office the schema-21 build left (the committed fixture
/// `tests/fixtures/pg_schema21.sql`: three bookings, their tickets and payments) is upgraded
/// in place by its first command, each step and its version in one transaction: its bookings
/// are as they were, it sells on, and two machines starting on one at once upgrade it once.
#[test]
#[ignore = "needs BOXOFFICE_TEST_PG"]
fn a_postgres_box_office_of_schema_21_upgrades_in_place_with_its_bookings() {
    let Some(admin) = server() else { return };
    let fixture = include_str!("../fixtures/pg_schema21.sql");
    let load = |name: &str| -> String {
        let url = fresh_database(&admin, name);
        client(&admin, name).batch_execute(fixture).unwrap();
        url
    };
    let url = load("bo_upgrade21");
    let money = |name: &str| -> (i64, i64, i64, i64) {
        let row = client(&admin, name)
            .query_one(
                "SELECT (SELECT count(*) FROM bookings), (SELECT sum(total_cents)::bigint FROM bookings),
                        (SELECT count(*) FROM tickets), (SELECT count(*) FROM payments WHERE state = 'captured')",
                &[],
            )
            .unwrap();
        (row.get(0), row.get(1), row.get(2), row.get(3))
    };
    let before = money("bo_upgrade21");
    assert_eq!(before.0, 3, "the fixture's bookings");
    let versions = |name: &str| -> Vec<i64> {
        client(&admin, name)
            .query("SELECT version FROM boxoffice_schema ORDER BY version", &[])
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect()
    };
    assert_eq!(versions("bo_upgrade21"), [21]);
    // The first command upgrades it.
    let listed = json(&url, &["concerts", "--json"]);
    assert_eq!(listed[0]["artist"], "Fixture Band");
    let latest = boxoffice::store::SCHEMA_VERSION;
    assert_eq!(versions("bo_upgrade21"), (21..=latest).collect::<Vec<_>>());
    assert_eq!(
        money("bo_upgrade21"),
        before,
        "bookings, tickets, money as they were"
    );
    let code: String = client(&admin, "bo_upgrade21")
        .query_one("SELECT code FROM bookings ORDER BY id LIMIT 1", &[])
        .unwrap()
        .get(0);
    let booking = json(&url, &["booking", &code, "--json"]);
    assert_eq!(booking["concert"]["artist"], "Fixture Band", "{booking}");
    assert_eq!(booking["tickets"].as_array().unwrap().len(), 2, "{booking}");
    // It sells on, on the new schema: the hold names its terminal.
    let held = json(
        &url,
        &[
            "hold",
            "fx-1",
            "--best",
            "1",
            "--customer",
            "new@example.com",
            "--json",
        ],
    );
    let hold_id = held["hold_id"].as_str().unwrap();
    json(&url, &["pay", hold_id, "--cash", "20000", "--json"]);
    let terminal: Option<String> = client(&admin, "bo_upgrade21")
        .query_one("SELECT terminal FROM holds WHERE id = $1", &[&hold_id])
        .unwrap()
        .get(0);
    assert!(terminal.is_some(), "recorded on the new column");
    // Two machines starting at once on a schema-21 box office: one upgrades, the other waits
    // for it and finds it done.
    let url = load("bo_upgrade21_twice");
    let openers: Vec<_> = (0..4)
        .map(|_| {
            let url = url.clone();
            std::thread::spawn(move || run(&url, &["concerts", "--limit", "1"]))
        })
        .collect();
    for o in openers {
        let out = o.join().unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
    }
    assert_eq!(
        versions("bo_upgrade21_twice"),
        (21..=latest).collect::<Vec<_>>()
    );
}

/// The test server over TCP with TLS (`.ci/with-postgres`): its port and the folder of its CAs.
fn tls_server() -> Option<(u16, std::path::PathBuf)> {
    let spec = std::env::var("BOXOFFICE_TEST_PG_TLS").ok()?;
    let (port, dir) = spec.split_once(':')?;
    Some((port.parse().ok()?, dir.into()))
}

/// TLS to the server, as libpq means `sslmode`: `verify-full` with the CA in `sslrootcert`
/// sells; a certificate for another host name, or from an unknown CA, is refused with what is
/// wrong (naming `sslrootcert`); `require` without a CA encrypts without checking; no TLS at
/// all is refused by a server that allows only TLS over TCP. The password goes inside TLS.
#[test]
#[ignore = "needs BOXOFFICE_TEST_PG"]
fn tls_to_the_server_is_verified_as_sslmode_says() {
    let Some(admin) = server() else { return };
    let Some((port, tls)) = tls_server() else {
        eprintln!("skipped: no TLS side (BOXOFFICE_TEST_PG_TLS; `.ci/with-postgres` sets it)");
        return;
    };
    let mut pg = postgres::Client::connect(&admin_config(&admin), postgres::NoTls).unwrap();
    for sql in [
        "DROP DATABASE IF EXISTS bo_tls WITH (FORCE)",
        "DROP ROLE IF EXISTS seller",
        "CREATE ROLE seller LOGIN PASSWORD 'over-tls'",
        "CREATE DATABASE bo_tls OWNER seller",
    ] {
        pg.batch_execute(sql).unwrap();
    }
    let ca = tls.join("ca.crt").display().to_string();
    let other = tls.join("other-ca.crt").display().to_string();
    let url = |host: &str, mode: &str, root: Option<&str>| {
        let root = root
            .map(|r| format!("&sslrootcert={r}"))
            .unwrap_or_default();
        format!("postgres://seller@{host}:{port}/bo_tls?sslmode={mode}{root}")
    };
    let run_as = |url: &str, args: &[&str]| {
        bin(url)
            .env("PGPASSWORD", "over-tls")
            .env("HOME", tls.join("no-home"))
            .args(args)
            .output()
            .unwrap()
    };
    // verify-full, the certificate's own name and CA: the box office is made and sells.
    let full = url("localhost", "verify-full", Some(&ca));
    let init = run_as(&full, &["init"]);
    assert!(init.status.success(), "{}", stderr(&init));
    let status = run_as(&full, &["db", "status", "--json"]);
    assert!(status.status.success(), "{}", stderr(&status));
    // By an address the certificate does not name: verify-full refuses, verify-ca does not.
    let wrong_name = run_as(
        &url("127.0.0.1", "verify-full", Some(&ca)),
        &["db", "status"],
    );
    assert_eq!(wrong_name.status.code(), Some(1));
    assert!(
        stderr(&wrong_name).contains("not for the host name 127.0.0.1"),
        "{}",
        stderr(&wrong_name)
    );
    let ca_only = run_as(&url("127.0.0.1", "verify-ca", Some(&ca)), &["db", "status"]);
    assert!(ca_only.status.success(), "{}", stderr(&ca_only));
    // A CA that signed nothing of the server's: refused, naming sslrootcert.
    let unknown = run_as(
        &url("localhost", "verify-full", Some(&other)),
        &["db", "status"],
    );
    assert_eq!(unknown.status.code(), Some(1));
    let said = stderr(&unknown);
    assert!(said.contains("not from the CA in sslrootcert="), "{said}");
    assert_eq!(said.trim_end().lines().count(), 1, "one line: {said}");
    // verify-full without any CA: says what to give.
    let no_root = run_as(&url("localhost", "verify-full", None), &["db", "status"]);
    assert!(
        stderr(&no_root).contains("sslrootcert=FILE"),
        "{}",
        stderr(&no_root)
    );
    // require without a CA: encrypted, not checked (libpq's meaning).
    let require = run_as(&url("127.0.0.1", "require", None), &["db", "status"]);
    assert!(require.status.success(), "{}", stderr(&require));
    // Without TLS the server (TLS only over TCP) refuses, and says so in one line.
    let plain = run_as(&url("127.0.0.1", "disable", None), &["db", "status"]);
    assert_eq!(plain.status.code(), Some(1));
    assert!(!stderr(&plain).contains("over-tls"), "{}", stderr(&plain));
}

/// A box office that stops talking inside its write (hung, suspended, cut off: here a process
/// stalled right after it took the write lock) stops the others for seconds, not hours: the
/// server ends its transaction after 10 s idle, another box office sells, and the stalled one,
/// woken, says in one line that its change was not made; its next command sells.
#[test]
#[ignore = "needs BOXOFFICE_TEST_PG"]
fn a_box_office_stalled_inside_a_write_stops_the_others_for_seconds() {
    let Some(admin) = server() else { return };
    let url = fresh_database(&admin, "bo_stall");
    client(&admin, "bo_stall")
        .batch_execute(include_str!("../fixtures/pg_schema21.sql"))
        .unwrap();
    json(&url, &["concerts", "--json"]);
    let hold = |who: &str| {
        let mut cmd = bin(&url);
        cmd.args(["hold", "fx-1", "--best", "1", "--customer", who, "--json"])
            .env_remove("BOXOFFICE_FAILPOINT");
        cmd
    };
    let wake_dir = tempfile::tempdir().unwrap();
    let wake = wake_dir.path().join("wake");
    let stalled = hold("stalled@example.com")
        .env("BOXOFFICE_FAILPOINT", "hold:inside")
        .env("BOXOFFICE_FAILPOINT_UNTIL", &wake)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Inside its write, the lock held, saying nothing.
    let mut pg = client(&admin, "bo_stall");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        let idle: i64 = pg
            .query_one(
                "SELECT count(*) FROM pg_stat_activity
                 WHERE datname = 'bo_stall' AND state = 'idle in transaction'",
                &[],
            )
            .unwrap()
            .get(0);
        if idle > 0 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the stalled write never began"
        );
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    let inside = std::time::Instant::now();
    // Another box office: busy at first perhaps, then selling once the server ended the
    // stalled transaction.
    let sold = loop {
        let out = hold("next@example.com").output().unwrap();
        if out.status.success() {
            break inside.elapsed();
        }
        assert!(stderr(&out).contains("busy"), "{}", stderr(&out));
        assert!(
            inside.elapsed() < std::time::Duration::from_secs(40),
            "never sold"
        );
    };
    assert!(
        sold < std::time::Duration::from_secs(25),
        "sold {sold:?} after the other stalled"
    );
    // Woken (it stalls until told): its change was not made, and it says so.
    std::fs::write(&wake, "").unwrap();
    let woken = stalled.wait_with_output().unwrap();
    assert_eq!(woken.status.code(), Some(1), "{}", stderr(&woken));
    assert_eq!(
        stderr(&woken).trim_end().lines().count(),
        1,
        "{}",
        stderr(&woken)
    );
    let again = hold("stalled@example.com").output().unwrap();
    assert!(again.status.success(), "{}", stderr(&again));
}

/// Every box office's session is named after its terminal and clerk, so a DBA with 30 kiosks
/// sees in `pg_stat_activity` which one holds a lock (they were all `boxoffice`); the name
/// comes back after the server dropped the connection.
#[test]
#[ignore = "needs BOXOFFICE_TEST_PG"]
fn each_session_is_named_after_its_terminal_and_clerk() {
    let Some((admin, mut f)) = pg_fixture() else {
        return;
    };
    let name = db_name(&f);
    f.store
        .set_operator(boxoffice::store::Operator {
            clerk: Some("anna".into()),
            terminal: Some("kiosk-2".into()),
        })
        .unwrap();
    let mut pg = client(&admin, &name);
    let named = |pg: &mut postgres::Client| -> i64 {
        pg.query_one(
            "SELECT count(*) FROM pg_stat_activity
             WHERE datname = $1 AND application_name = 'boxoffice kiosk-2 anna'",
            &[&name],
        )
        .unwrap()
        .get(0)
    };
    assert_eq!(named(&mut pg), 1);
    // The server ends the session; the next statement makes a new one, named again.
    pg.batch_execute(&format!(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE datname = '{name}' AND application_name = 'boxoffice kiosk-2 anna'"
    ))
    .unwrap();
    let _ = f.store.concert(f.concert);
    f.store.concert(f.concert).unwrap();
    assert_eq!(named(&mut pg), 1);
}

/// A machine whose clock is wrong (here by 25 years) stamps nothing with it: on PostgreSQL a
/// sale and its payment are recorded at the server's time (and a hold ends by it), which every machine
/// shares. (A clock a test sets is kept on every engine: `Clock::is_wall_clock`.)
#[test]
#[ignore = "needs BOXOFFICE_TEST_PG"]
fn on_postgres_a_sale_is_stamped_with_the_servers_clock_not_the_machines() {
    let Some((_admin, mut f)) = pg_fixture() else {
        return;
    };
    struct Wrong;
    impl Clock for Wrong {
        fn now(&self) -> chrono::DateTime<chrono::Utc> {
            chrono::Utc::now() - chrono::Duration::days(25 * 365)
        }
        fn is_wall_clock(&self) -> bool {
            true
        }
    }
    let soon = (chrono::Utc::now() + chrono::Duration::days(10)).date_naive();
    let concert = f
        .store
        .add_concert(&common::concert("Right Now", "test-hall", soon, "20:00"))
        .unwrap();
    let mut store = boxoffice::Store::open(&f.db, std::sync::Arc::new(Wrong)).unwrap();
    let hold = store
        .hold_seats(
            concert,
            &common::seats(&["A-1-1"]),
            &common::customer("ann@example.com"),
        )
        .unwrap();
    let receipt = store
        .pay(
            &hold.hold_id,
            &boxoffice::Tender::Cash {
                tendered_cents: 10_000,
            },
            &boxoffice::payment::Processors::cash_only(),
        )
        .unwrap();
    let now = chrono::Utc::now().timestamp();
    let (booked, paid): (i64, i64) = store
        .db()
        .query_row(
            "SELECT b.created_at, (SELECT max(p.created_at) FROM payments p WHERE p.booking_id = b.id)
             FROM bookings b WHERE b.code = ?1",
            [receipt.booking_code.as_str()],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    for (what, at) in [("the booking", booked), ("its payment", paid)] {
        assert!(
            (at - now).abs() < 120,
            "{what} stamped {at}, the server's time is {now}"
        );
    }
    // A hold's end is reckoned from the server's clock too: five minutes from now, not from
    // 25 years ago.
    assert!(
        (hold.expires_at.timestamp() - now - 300).abs() < 120,
        "{:?}",
        hold.expires_at
    );
}

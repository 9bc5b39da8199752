//! Shared fixtures: a temporary database with a controlled clock and a small venue.
#![allow(dead_code)]

use boxoffice::catalog::NewConcert;
use boxoffice::{CustomerInfo, ManualClock, Store};
use chrono::{DateTime, NaiveDate, Utc};
use std::sync::Arc;

pub const HALL: &str = "# a small hall for tests\n\
venue    Test Hall\n\
city     Testville\n\
timezone Europe/Vienna\n\
category P Premium\n\
category S Standard\n\
section A Main\n\
 1 |PPP SSS|\n\
 2 |SSS SSS|\n";

pub fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub clock: Arc<ManualClock>,
    pub store: Store,
    pub concert: i64,
    /// Where the box office is: `box.db` in `dir`, or a PostgreSQL database of its own.
    pub db: std::path::PathBuf,
}

impl Fixture {
    /// The database: a file, or a `postgres://` URL (both open with `Store::open` and
    /// `--db`).
    pub fn db_path(&self) -> std::path::PathBuf {
        self.db.clone()
    }

    pub fn reopen(&self) -> Store {
        Store::open(self.db_path(), self.clock.clone()).unwrap()
    }
}

pub fn concert(artist: &str, venue: &str, day: NaiveDate, time: &str) -> NewConcert {
    NewConcert {
        external_id: None,
        artist: artist.into(),
        title: "Live".into(),
        venue_slug: venue.into(),
        local_start: day.and_time(chrono::NaiveTime::parse_from_str(time, "%H:%M").unwrap()),
        on_sale_at: t("2026-01-01T00:00:00Z"),
        prices: vec![("P".into(), 5000), ("S".into(), 3000)],
        currency: "EUR".into(),
        ticket_limit: 6,
        hold_minutes: 5,
    }
}

/// A store at 2026-12-01 10:00 UTC with Test Hall and one concert on 2026-12-20 20:00.
pub fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(t("2026-12-01T10:00:00Z")));
    let db = engine::fresh_db(dir.path());
    let mut store = Store::open(&db, clock.clone()).unwrap();
    store.add_venue("test-hall", HALL).unwrap();
    let concert = store
        .add_concert(&concert(
            "The Testers",
            "test-hall",
            NaiveDate::from_ymd_opt(2026, 12, 20).unwrap(),
            "20:00",
        ))
        .unwrap();
    Fixture {
        dir,
        clock,
        store,
        concert,
        db,
    }
}

/// Which engine a test's box offices are on. A test runs on SQLite; listed in
/// [`on_postgres_too!`](crate::on_postgres_too) it runs again, the same body, with every
/// [`fresh_db`](engine::fresh_db) a PostgreSQL database of its own on the server
/// `BOXOFFICE_TEST_PG` names (`.ci/run` starts one); without it, that run says it is skipped.
pub mod engine {
    use std::cell::Cell;
    use std::path::{Path, PathBuf};
    use std::sync::atomic::{AtomicUsize, Ordering};

    thread_local! {
        static ON_POSTGRES: Cell<bool> = const { Cell::new(false) };
    }

    /// The server's administrator URL, or `None`.
    pub fn server() -> Option<String> {
        std::env::var("BOXOFFICE_TEST_PG")
            .ok()
            .filter(|u| !u.is_empty())
    }

    /// Runs `test` with its box offices on PostgreSQL, or says it is skipped.
    pub fn on_postgres(name: &str, test: fn()) {
        if server().is_none() {
            eprintln!(
                "skipped on PostgreSQL: {name} (set BOXOFFICE_TEST_PG, or run `.ci/with-postgres cargo test`)"
            );
            return;
        }
        ON_POSTGRES.with(|p| p.set(true));
        test();
    }

    /// From here on this thread's box offices are on PostgreSQL (for tests only about it).
    pub fn use_postgres() {
        ON_POSTGRES.with(|p| p.set(true));
    }

    pub fn is_postgres() -> bool {
        ON_POSTGRES.with(Cell::get)
    }

    /// A new, empty box office's location: `dir/box.db`, or on PostgreSQL a new database.
    pub fn fresh_db(dir: &Path) -> PathBuf {
        if !is_postgres() {
            return dir.join("box.db");
        }
        PathBuf::from(fresh_database(&server().unwrap()))
    }

    /// A box office with the demo catalog and its sales as of 2026-11-25 12:00 UTC (the time
    /// the command-line tests run at), as the first command would fill it: a copy of one
    /// filled once per test process (filling one row by row took about a second on SQLite and
    /// seconds on PostgreSQL, in every test). On SQLite `dir/box.db` ([`demo_file`]); on
    /// PostgreSQL a database made from a template (a file copy on the server).
    pub fn fresh_demo_db(dir: &Path) -> PathBuf {
        if !is_postgres() {
            return demo_file(dir, "2026-11-25T12:00:00Z".parse().unwrap());
        }
        static TEMPLATE: std::sync::OnceLock<String> = std::sync::OnceLock::new();
        let admin = server().unwrap();
        let template = TEMPLATE.get_or_init(|| {
            let url = fresh_database(&admin);
            let clock = std::sync::Arc::new(boxoffice::ManualClock::new(
                "2026-11-25T12:00:00Z".parse().unwrap(),
            ));
            let mut store = boxoffice::Store::open(&url, clock).unwrap();
            store.seed_demo_if_empty().unwrap();
            drop(store);
            name_of(&url).to_string()
        });
        let name = new_name();
        admin_client(&admin)
            .batch_execute(&format!("CREATE DATABASE {name} TEMPLATE {template}"))
            .unwrap();
        PathBuf::from(admin.replace("/postgres?", &format!("/{name}?")))
    }

    /// `dir/box.db`: the demo as a box office filled in at `at` has it (the demo's concerts
    /// are counted from that day), copied from a template this test process filled once for
    /// that moment. The template is written whole (`VACUUM INTO`), so the copy is one file.
    /// Templates live under the target directory, one folder per test process; a folder whose
    /// process has ended is removed by the next process that makes one.
    pub fn demo_file(dir: &Path, at: chrono::DateTime<chrono::Utc>) -> PathBuf {
        use std::collections::HashMap;
        use std::sync::Mutex;
        static TEMPLATES: Mutex<Option<(PathBuf, HashMap<String, PathBuf>)>> = Mutex::new(None);
        let mut templates = TEMPLATES.lock().unwrap_or_else(|e| e.into_inner());
        let (home, made) = templates.get_or_insert_with(|| (template_home(), HashMap::new()));
        let n = made.len();
        let template = made.entry(at.to_rfc3339()).or_insert_with(|| {
            let seeded = home.join(format!("seeded-{n}.db"));
            let path = home.join(format!("demo-{n}.db"));
            let clock = std::sync::Arc::new(boxoffice::ManualClock::new(at));
            let mut store = boxoffice::Store::open(&seeded, clock).unwrap();
            store.seed_demo_if_empty().unwrap();
            // One whole file, whatever is still in the write-ahead log (a closed store's log
            // is folded in by its checkpoint thread, which may not have finished).
            let into = path.to_string_lossy().into_owned();
            store
                .db()
                .execute("VACUUM INTO ?1", [into.as_str()])
                .unwrap();
            path
        });
        let db = dir.join("box.db");
        std::fs::copy(template, &db).unwrap();
        // The owner's only, as a box office makes its own file.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&db, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        db
    }

    /// This process's folder for templates, made empty; the folders of processes that have
    /// ended are removed.
    fn template_home() -> PathBuf {
        let base = option_env!("CARGO_TARGET_TMPDIR")
            .map(PathBuf::from)
            .unwrap_or_else(std::env::temp_dir)
            .join("demo-templates");
        for entry in std::fs::read_dir(&base).into_iter().flatten().flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let ended = name
                .parse::<u32>()
                .is_ok_and(|pid| !Path::new("/proc").join(pid.to_string()).exists());
            if ended && Path::new("/proc/self").exists() {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
        let home = base.join(std::process::id().to_string());
        let _ = std::fs::remove_dir_all(&home);
        std::fs::create_dir_all(&home).unwrap();
        home
    }

    /// The database a `postgres://USER@/NAME?host=DIR` URL names.
    pub fn name_of(url: &str) -> &str {
        url.split('/').nth(3).unwrap().split('?').next().unwrap()
    }

    /// The administrator's connection to the database `url` names, on the test server's
    /// socket.
    pub fn admin_client_of(url: &str) -> postgres::Client {
        // `host=DIR&port=N` as the client's settings, `host=DIR port=N`.
        let socket = url.split('?').nth(1).unwrap().replace('&', " ");
        postgres::Client::connect(
            &format!("{socket} user=postgres dbname={}", name_of(url)),
            postgres::NoTls,
        )
        .unwrap()
    }

    fn new_name() -> String {
        static N: AtomicUsize = AtomicUsize::new(0);
        format!(
            "t{}_{}_{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .subsec_nanos()
        )
    }

    fn admin_client(admin: &str) -> postgres::Client {
        admin_client_of(admin)
    }

    /// A new, empty database on the server; its URL.
    pub fn fresh_database(admin: &str) -> String {
        let name = new_name();
        admin_client(admin)
            .batch_execute(&format!("CREATE DATABASE {name}"))
            .unwrap();
        admin.replace("/postgres?", &format!("/{name}?"))
    }
}

/// The tests named, run again with their box offices on PostgreSQL ([`engine`]).
#[macro_export]
macro_rules! on_postgres_too {
    ($($name:ident),* $(,)?) => {
        mod on_postgres {
            $(
                #[test]
                #[ignore = "needs BOXOFFICE_TEST_PG"]
                fn $name() {
                    $crate::common::engine::on_postgres(stringify!($name), super::$name)
                }
            )*
        }
    };
}

/// The box office at `db` (a file or a `postgres://` URL) opened again, for SQL underneath the
/// rules (`.db()`), on either engine.
pub fn sql(db: impl AsRef<std::path::Path>) -> Store {
    Store::open(db, Arc::new(boxoffice::SystemClock)).unwrap()
}

pub fn customer(email: &str) -> CustomerInfo {
    CustomerInfo {
        email: email.into(),
        name: Some("Test Customer".into()),
        phone: None,
    }
}

pub fn seats(labels: &[&str]) -> Vec<String> {
    labels.iter().map(|s| s.to_string()).collect()
}

/// A hold's listed seats in SQL, `[[seat, price], ...]` as rows `j` (`seats_of("h")`, to put
/// after FROM or CROSS JOIN) and the seat of a row (`seat`), on either engine.
pub fn listed_seats_sql(pg: bool) -> (&'static str, impl Fn(&str) -> String) {
    let seat = if pg {
        "CAST(j.value ->> 0 AS BIGINT)"
    } else {
        "j.value ->> 0"
    };
    let seats_of = move |h: &str| {
        if pg {
            format!("jsonb_array_elements(CAST({h}.seats AS jsonb)) j")
        } else {
            format!("json_each({h}.seats) j")
        }
    };
    (seat, seats_of)
}

/// The invariants no crash, race or retry may break, checked in SQL on our database and
/// against the gateway's ledger. Returns a list of violations (empty when all hold).
pub fn violations(db: &std::path::Path, gateway: &std::path::Path) -> Vec<String> {
    let conn = sql(db);
    let pg = conn.kind() == boxoffice::store::Kind::Postgres;
    let mut v = Vec::new();
    let count = |sql: &str| -> i64 { conn.db().query_row(sql, (), |r| r.get(0)).unwrap() };
    let (seat, seats_of) = listed_seats_sql(pg);
    let doubles = count(
        "SELECT count(*) FROM (SELECT 1 FROM claims GROUP BY concert_id, seat_id HAVING count(*) > 1) AS d",
    );
    if doubles > 0 {
        v.push(format!("{doubles} seats claimed twice"));
    }
    // A booking costs what was charged less the seats cancelled out of it (their refunds).
    let unpaid = count(
        "SELECT count(*) FROM bookings b WHERE b.total_cents !=
            (SELECT coalesce(sum(amount_cents), -1) FROM payments p WHERE p.booking_id = b.id AND p.kind = 'charge' AND p.state = 'captured')
            - (SELECT coalesce(sum(amount_cents), 0) FROM payments p WHERE p.booking_id = b.id AND p.kind = 'refund' AND instr(p.idempotency_key, '-part-') > 0)
         OR (SELECT count(*) FROM payments p WHERE p.booking_id = b.id AND p.kind = 'charge' AND p.state = 'captured') != 1",
    );
    if unpaid > 0 {
        v.push(format!(
            "{unpaid} bookings without exactly one captured charge of their total"
        ));
    }
    let unrefunded = count(
        "SELECT count(*) FROM payments c WHERE c.kind = 'charge' AND c.state = 'captured'
           AND (c.booking_id IS NULL OR (SELECT state FROM bookings b WHERE b.id = c.booking_id) = 'cancelled')
           AND c.amount_cents > (SELECT coalesce(sum(amount_cents), 0) FROM payments r WHERE r.kind = 'refund' AND r.state = 'captured'
                                 AND (r.idempotency_key = 'refund-' || c.idempotency_key
                                      OR substr(r.idempotency_key, 1, length(c.idempotency_key) + 13) = 'refund-' || c.idempotency_key || '-part-'))",
    );
    if unrefunded > 0 {
        v.push(format!(
            "{unrefunded} captured charges with no booking or a cancelled one, not refunded"
        ));
    }
    let miscounted = count(
        "SELECT count(*) FROM concerts c WHERE c.claimed != (SELECT count(*) FROM claims cl WHERE cl.concert_id = c.id)
            OR c.booked != (SELECT count(*) FROM claims cl WHERE cl.concert_id = c.id AND cl.booking_id IS NOT NULL)
            OR c.reserved != (SELECT count(*) FROM claims cl WHERE cl.concert_id = c.id AND cl.booking_id IS NULL AND cl.reserved = 1)",
    );
    if miscounted > 0 {
        v.push(format!(
            "{miscounted} concerts whose counts of claimed, booked or reserved seats are wrong"
        ));
    }
    // The listings find claims that ran out through their holds: a claim that can run out
    // does so with its live hold.
    let expiry_apart = count(
        "SELECT count(*) FROM claims cl JOIN holds h ON h.id = cl.hold_id
         WHERE cl.booking_id IS NULL AND cl.expires_at IS NOT NULL
           AND (h.state != 'live' OR h.expires_at != cl.expires_at)",
    );
    if expiry_apart > 0 {
        v.push(format!(
            "{expiry_apart} claims that run out at another time than their live hold"
        ));
    }
    // A hold's claims are found through the seats it lists: every claim is of a listed seat,
    // and a hold in force, or a confirmed booking, claims every seat it lists.
    let unlisted = count(&format!(
        "SELECT count(*) FROM claims cl JOIN holds h ON h.id = cl.hold_id
         WHERE h.kind != 'pool'
           AND NOT EXISTS (SELECT 1 FROM {} WHERE {seat} = cl.seat_id)",
        seats_of("h")
    ));
    if unlisted > 0 {
        v.push(format!(
            "{unlisted} claims of seats their hold does not list"
        ));
    }
    let unclaimed = count(&format!(
        "SELECT count(*) FROM holds h CROSS JOIN {}
         WHERE (h.state IN ('live', 'paying')
                OR EXISTS (SELECT 1 FROM bookings b WHERE b.hold_id = h.id AND b.state = 'confirmed'))
           AND NOT EXISTS (SELECT 1 FROM claims cl WHERE cl.concert_id = h.concert_id
                             AND cl.seat_id = {seat} AND cl.hold_id = h.id)",
        seats_of("h")
    ));
    if unclaimed > 0 {
        v.push(format!(
            "{unclaimed} seats listed by a hold in force or a confirmed booking but not claimed"
        ));
    }
    let pending = count("SELECT count(*) FROM payments WHERE state = 'pending'");
    if pending > 0 {
        v.push(format!("{pending} payments still pending"));
    }
    let booked_without_claims = count(
        "SELECT count(*) FROM bookings b WHERE b.state = 'confirmed' AND NOT EXISTS (SELECT 1 FROM claims c WHERE c.booking_id = b.id)",
    );
    if booked_without_claims > 0 {
        v.push(format!(
            "{booked_without_claims} confirmed bookings hold no seats"
        ));
    }
    let ours_captured = count(
        "SELECT CAST(coalesce(sum(amount_cents), 0) AS BIGINT) FROM payments WHERE processor = 'card' AND kind = 'charge' AND state = 'captured'",
    );
    let ours_refunded = count(
        "SELECT CAST(coalesce(sum(amount_cents), 0) AS BIGINT) FROM payments WHERE processor = 'card' AND kind = 'refund' AND state = 'captured'",
    );
    let ledger = gateway.to_string_lossy();
    if ledger.starts_with("postgres") || gateway.exists() {
        // Sums are numeric on PostgreSQL: read as integers on both.
        let mut gcount: Box<dyn FnMut(&str) -> i64> = if ledger.starts_with("postgres") {
            let mut g = engine::admin_client_of(&ledger);
            Box::new(move |sql: &str| g.query_one(sql, &[]).unwrap().get(0))
        } else {
            let g = rusqlite::Connection::open(gateway).unwrap();
            Box::new(move |sql: &str| g.query_row(sql, [], |r| r.get(0)).unwrap())
        };
        let captured = gcount(
            "SELECT CAST(coalesce(sum(amount_cents), 0) AS BIGINT) FROM charges WHERE outcome = 'approved'",
        );
        let refunded = gcount("SELECT CAST(coalesce(sum(amount_cents), 0) AS BIGINT) FROM refunds");
        if (captured, refunded) != (ours_captured, ours_refunded) {
            v.push(format!(
                "gateway says captured {captured} refunded {refunded}; we say captured {ours_captured} refunded {ours_refunded}"
            ));
        }
    }
    v
}

/// Counts every file under `dir` (recursively), skipping temporary ones.
pub fn spool_files(dir: &std::path::Path) -> usize {
    spool_names(dir).len()
}

/// The names of the message files under `dir` (a message's name is its box office and outbox
/// row: a copy in another spool has the same one), skipping temporary ones.
pub fn spool_names(dir: &std::path::Path) -> Vec<String> {
    let mut names = Vec::new();
    for sub in ["email/new", "email/cur", "sms"] {
        if let Ok(entries) = std::fs::read_dir(dir.join(sub)) {
            names.extend(
                entries
                    .flatten()
                    .filter(|e| e.path().is_file())
                    .map(|e| e.file_name().to_string_lossy().into_owned())
                    .filter(|n| !n.starts_with('.')),
            );
        }
    }
    names
}

/// Eight threads open a file that does not exist yet at the same moment, twenty times over
/// (a fresh file each round); every one must succeed.
pub fn open_together<E: std::fmt::Debug + Send + 'static>(
    name: &str,
    open: impl Fn(&std::path::Path) -> Result<(), E> + Send + Sync + 'static,
) {
    let open = Arc::new(open);
    for round in 0..20 {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(name);
        let start = Arc::new(std::sync::Barrier::new(8));
        let opened: Vec<_> = (0..8)
            .map(|_| {
                let (path, start, open) = (path.clone(), start.clone(), open.clone());
                std::thread::spawn(move || {
                    start.wait();
                    open(&path)
                })
            })
            .collect();
        for t in opened {
            let result = t.join().unwrap();
            assert!(result.is_ok(), "round {round}: {result:?}");
        }
    }
}

/// A customer with a name and an Austrian mobile number (so an SMS goes too).
pub fn with_phone(email: &str) -> CustomerInfo {
    CustomerInfo {
        email: email.into(),
        name: Some("Ann Lee".into()),
        phone: Some("+43 660 123 4567".into()),
    }
}

/// The status a concert's seat map shows for `label`.
pub fn seat_status(store: &Store, concert: i64, label: &str) -> boxoffice::SeatStatus {
    let map = store.seat_map(concert).unwrap();
    map.seats.iter().find(|s| s.seat == label).unwrap().status
}

/// The card gateway's ledger beside a fixture's database.
pub fn gateway(f: &Fixture) -> boxoffice::payment::gateway::SimulatedGateway {
    boxoffice::payment::gateway::SimulatedGateway::open(
        f.dir.path().join("gateway.db"),
        f.clock.clone(),
    )
    .unwrap()
}

/// What a card gateway must do, whichever engine keeps its ledger: one key never charges
/// twice, a fenced key is refused, a refund never passes what is left of its charge, and the
/// ledger says what happened. `now` is the time cards are checked against.
pub fn gateway_contract(g: &dyn boxoffice::payment::PaymentProcessor, now: DateTime<Utc>) {
    use boxoffice::payment::gateway::{CARD_APPROVE, CARD_DECLINE, FENCED};
    use boxoffice::payment::{ChargeOutcome, ChargeRequest, LedgerKind, RefundRequest};
    use boxoffice::{Card, Tender};
    let tender = Tender::Card(Card::parse(CARD_APPROVE, "12/28", "123", now).unwrap());
    let req = ChargeRequest {
        idempotency_key: "k1",
        amount_cents: 1_000,
        currency: "EUR",
        tender: &tender,
        description: "t",
    };
    let first = g.charge(&req).unwrap();
    let second = g
        .charge(&ChargeRequest {
            amount_cents: 9_999,
            ..req
        })
        .unwrap();
    assert_eq!(first, second, "the same key returns the first result");
    assert_eq!(g.lookup("k1").unwrap(), Some(first.clone()));
    assert_eq!(g.lookup("k2").unwrap(), None);
    // A fence on a key that charged says how it went; on a new key it refuses the charge.
    assert_eq!(g.fence("k1").unwrap(), Some(first.clone()));
    assert_eq!(g.fence("k3").unwrap(), None);
    assert_eq!(
        g.charge(&ChargeRequest {
            idempotency_key: "k3",
            ..req
        })
        .unwrap(),
        ChargeOutcome::Declined {
            reason: FENCED.to_string()
        }
    );
    let declined = Tender::Card(Card::parse(CARD_DECLINE, "12/28", "123", now).unwrap());
    assert!(matches!(
        g.charge(&ChargeRequest {
            idempotency_key: "k4",
            tender: &declined,
            ..req
        })
        .unwrap(),
        ChargeOutcome::Declined { .. }
    ));
    let ChargeOutcome::Approved { reference, .. } = first else {
        panic!("approved")
    };
    let refund = RefundRequest {
        idempotency_key: "r1",
        charge_reference: &reference,
        amount_cents: 600,
        currency: "EUR",
    };
    let r1 = g.refund(&refund).unwrap();
    assert_eq!(g.refund(&refund).unwrap(), r1, "the same key refunds once");
    // What is left of the charge, and not a cent more.
    assert!(
        g.refund(&RefundRequest {
            idempotency_key: "r2",
            amount_cents: 500,
            ..refund
        })
        .is_err()
    );
    g.refund(&RefundRequest {
        idempotency_key: "r3",
        amount_cents: 400,
        ..refund
    })
    .unwrap();
    let ledger = g.ledger().unwrap().unwrap();
    let sum = |kind: LedgerKind| -> (usize, i64) {
        let of: Vec<_> = ledger.iter().filter(|e| e.kind == kind).collect();
        (of.len(), of.iter().map(|e| e.amount_cents).sum())
    };
    assert_eq!(sum(LedgerKind::Charge), (1, 1_000), "only approved charges");
    assert_eq!(sum(LedgerKind::Refund), (2, 1_000));
}

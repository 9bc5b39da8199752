//! Contention: P processes (1, 2, 4, 8) holding 2 seats at a time on one 20,000-seat concert,
//! spread out and then all fighting over the same 200 seats; hold + pay + confirm with cash and
//! a test card; and the bare limit: the same number of minimal hold-shaped write transactions
//! (BEGIN IMMEDIATE; one conditional UPDATE; one INSERT; COMMIT) with the same pragmas,
//! through the same file layer (SQLite's own).
//!
//! `cargo bench --bench contention` (workers are this binary, re-run as child processes).
//! Prints figures; asserts only that no seat was claimed twice.
//!
//! `cargo bench --bench contention -- postgres` runs the same on PostgreSQL (a new database on
//! the server `BOXOFFICE_TEST_PG` names, as `.ci/with-postgres` sets it): 1, 8 and 32
//! processes on one concert, against the bare limit measured in the same run (BEGIN; one
//! conditional UPDATE; one INSERT; COMMIT, through the same client library, with the same
//! durability), and hold + pay + confirm with 8 processes.

// A benchmark, an example or a test: a failed unwrap is a failed run, with its reason.
#![allow(clippy::unwrap_used)]

use boxoffice::payment::gateway::CARD_APPROVE;
use boxoffice::{Card, CustomerInfo, Processors, Store, SystemClock, Tender};
use rusqlite::Connection;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Instant;

const ROWS: usize = 100;
const PER_ROW: usize = 200; // 20,000 seats, no aisles: every pair (2k-1, 2k) leaves no gap
/// Operations per process: 1,000, or `BENCH_OPS` (for profiling one worker over a longer run).
fn ops() -> usize {
    std::env::var("BENCH_OPS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000)
}

fn arena() -> String {
    let mut s = String::from(
        "venue Bench Arena\ncity Benchville\ntimezone Europe/Vienna\ncategory S Standard\nsection B Block\n",
    );
    for r in 1..=ROWS {
        s.push_str(&format!("{r} |{}|\n", "S".repeat(PER_ROW)));
    }
    s
}

/// The arena and its concert, in the box office at `db` (a file or a URL).
fn add_arena(db: &Path) {
    let mut store = Store::open(db, Arc::new(SystemClock)).unwrap();
    store.add_venue("bench-arena", &arena()).unwrap();
    let day = chrono::Utc::now().date_naive() + chrono::Duration::days(30);
    store
        .add_concert(&boxoffice::catalog::NewConcert {
            external_id: Some("bench".into()),
            artist: "Bench".into(),
            title: "Load".into(),
            venue_slug: "bench-arena".into(),
            local_start: day.and_hms_opt(20, 0, 0).unwrap(),
            on_sale_at: chrono::Utc::now() - chrono::Duration::days(1),
            prices: vec![("S".into(), 5000)],
            currency: "EUR".into(),
            ticket_limit: 6,
            hold_minutes: 60,
        })
        .unwrap();
}

fn setup(dir: &Path) -> PathBuf {
    let db = dir.join("bench.db");
    add_arena(&db);
    // The bare-limit tables, in the same file, with the same pragmas.
    let conn = Connection::open(&db).unwrap();
    conn.execute_batch(
        "CREATE TABLE bare_seats (id INTEGER PRIMARY KEY, taken INTEGER NOT NULL DEFAULT 0);
         CREATE TABLE bare_holds (id INTEGER PRIMARY KEY, seat INTEGER NOT NULL, at INTEGER NOT NULL);
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000)
         INSERT INTO bare_seats (id) SELECT i FROM n;",
    )
    .unwrap();
    if let Ok(sql) = std::env::var("BENCH_SQL") {
        conn.execute_batch(&sql).unwrap();
    }
    db
}

/// A pair of seats for operation `i` of worker `w`: spread over the hall, or among 200 seats.
fn pair(w: usize, i: usize, procs: usize, contended: bool) -> (usize, usize) {
    let k = if contended {
        (i * 7 + w * 13) % 100
    } else {
        (i * procs + w) % (ROWS * PER_ROW / 2)
    };
    let row = k / (PER_ROW / 2) + 1;
    let n = (k % (PER_ROW / 2)) * 2 + 1;
    (row, n)
}

/// Whether the run is on PostgreSQL (the database is a URL).
fn is_pg(db: &Path) -> bool {
    db.to_string_lossy().starts_with("postgres")
}

/// The card gateway's ledger for the workers: beside the file, or in the run's directory.
fn gateway_of(db: &Path) -> PathBuf {
    match std::env::var("BENCH_GATEWAY") {
        Ok(g) => PathBuf::from(g),
        Err(_) => db.with_extension("gateway.db"),
    }
}

/// An administrator's connection to the database of `url` (the socket directory in `host=`).
fn pg_client(url: &str) -> postgres::Client {
    let dir = url.split("host=").nth(1).unwrap().replace('&', " ");
    let name = url.split('/').nth(3).unwrap().split('?').next().unwrap();
    postgres::Client::connect(
        &format!("host={dir} user=postgres dbname={name}"),
        postgres::NoTls,
    )
    .unwrap()
}

/// The bare limit on PostgreSQL: the hold-shaped transaction through the `postgres` client,
/// as the store sends its statements (prepared once), with the store's durability: a hold's
/// commit does not wait for the disk (`synchronous_commit = off`), a payment's does
/// (`durable`).
fn bare_pg(
    db: &Path,
    w: usize,
    procs: usize,
    contended: bool,
    durable: bool,
    lat: &mut Vec<u64>,
) -> usize {
    let mut c = pg_client(&db.to_string_lossy());
    c.batch_execute(if durable {
        "SET synchronous_commit = on"
    } else {
        "SET synchronous_commit = off"
    })
    .unwrap();
    let update = c
        .prepare("UPDATE bare_seats SET taken = 1 WHERE id IN ($1, $2) AND taken = 0")
        .unwrap();
    let insert = c
        .prepare("INSERT INTO bare_holds (seat, at) VALUES ($1, $2)")
        .unwrap();
    let mut refused = 0;
    for i in 0..ops() {
        let (row, n) = pair(w, i, procs, contended);
        let seat = ((row - 1) * PER_ROW + n) as i64;
        let t = Instant::now();
        c.batch_execute("BEGIN").unwrap();
        let changed = c.execute(&update, &[&seat, &(seat + 1)]).unwrap();
        if changed == 2 {
            c.execute(&insert, &[&seat, &(i as i64)]).unwrap();
            c.batch_execute("COMMIT").unwrap();
        } else {
            c.batch_execute("ROLLBACK").unwrap();
            refused += 1;
        }
        lat.push(t.elapsed().as_micros() as u64);
    }
    refused
}

fn worker(args: &[String]) {
    let db = PathBuf::from(&args[0]);
    let mode = args[1].as_str();
    let w: usize = args[2].parse().unwrap();
    let procs: usize = args[3].parse().unwrap();
    let contended = args[4] == "contended";
    let run = &args[5];
    let clock = Arc::new(SystemClock);
    let ops = ops();
    let mut lat = Vec::with_capacity(ops);
    let mut refused = 0;
    let epoch_us = || {
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_micros()
    };
    let mut window = (0u128, 0u128);
    match mode {
        "hold" | "pay-cash" | "pay-card" => {
            let mut store = Store::open(&db, clock.clone()).unwrap();
            let concert = store.resolve_concert("bench").unwrap();
            let processors = Processors::with_gateway(gateway_of(&db), clock.clone()).unwrap();
            window.0 = epoch_us();
            for i in 0..ops {
                let (row, n) = pair(w, i, procs, contended);
                let seats = vec![format!("B-{row}-{n}"), format!("B-{row}-{}", n + 1)];
                let who = CustomerInfo {
                    email: format!("{run}-{w}-{i}@bench.test"),
                    ..Default::default()
                };
                let t = Instant::now();
                match store.hold_seats(concert, &seats, &who) {
                    Ok(hold) if mode != "hold" => {
                        let tender = if mode == "pay-cash" {
                            Tender::Cash {
                                tendered_cents: 10_000,
                            }
                        } else {
                            Tender::Card(
                                Card::parse(CARD_APPROVE, "12/30", "123", store.now()).unwrap(),
                            )
                        };
                        store.pay(&hold.hold_id, &tender, &processors).unwrap();
                    }
                    Ok(_) => {}
                    Err(_) => refused += 1,
                }
                lat.push(t.elapsed().as_micros() as u64);
            }
        }
        "bare" | "bare-durable" if is_pg(&db) => {
            window.0 = epoch_us();
            refused = bare_pg(&db, w, procs, contended, mode == "bare-durable", &mut lat);
        }
        _ => {
            // The bare limit: a minimal hold-shaped transaction, same pragmas (and for pay,
            // two more durable commits, plus one for the gateway with a card).
            // Opened as the store opens its connections (SQLite's own file layer).
            let mut conn =
                boxoffice::store::open_connection(&db, rusqlite::OpenFlags::default()).unwrap();
            // The same waiting for the write lock as the store's connection.
            conn.busy_handler(Some(boxoffice::store::busy_wait))
                .unwrap();
            conn.execute_batch(
                "PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON; PRAGMA synchronous=NORMAL;",
            )
            .unwrap();
            // The same checkpoint arrangement as the store's connection.
            boxoffice::store::checkpoint_in_background(&mut conn, &db).unwrap();
            // Statements prepared once, as the store keeps its own: the limit is SQLite's
            // work, not the parsing of SQL text on every call.
            let run = |sql: &str| {
                conn.prepare_cached(sql).unwrap().execute([]).unwrap();
            };
            window.0 = epoch_us();
            let extra = match mode {
                "bare-pay-cash" => 2,
                "bare-pay-card" => 3,
                _ => 0,
            };
            for i in 0..ops {
                let (row, n) = pair(w, i, procs, contended);
                let seat = ((row - 1) * PER_ROW + n) as i64;
                let t = Instant::now();
                run("BEGIN IMMEDIATE");
                let changed = conn
                    .prepare_cached(
                        "UPDATE bare_seats SET taken = 1 WHERE id IN (?1, ?2) AND taken = 0",
                    )
                    .unwrap()
                    .execute([seat, seat + 1])
                    .unwrap();
                let insert = |at: i64| {
                    conn.prepare_cached("INSERT INTO bare_holds (seat, at) VALUES (?1, ?2)")
                        .unwrap()
                        .execute([seat, at])
                        .unwrap();
                };
                if changed == 2 {
                    insert(i as i64);
                    run("COMMIT");
                    for _ in 0..extra {
                        // As the store's durable writes: the setting changed around them.
                        run("PRAGMA synchronous = FULL");
                        run("BEGIN IMMEDIATE");
                        insert(-1);
                        run("COMMIT");
                        run("PRAGMA synchronous = NORMAL");
                    }
                } else {
                    run("ROLLBACK");
                    refused += 1;
                }
                lat.push(t.elapsed().as_micros() as u64);
            }
        }
    }
    window.1 = epoch_us();
    println!(
        "{} {} {refused} {}",
        window.0,
        window.1,
        lat.iter()
            .map(|l| l.to_string())
            .collect::<Vec<_>>()
            .join(",")
    );
}

struct Figures {
    per_sec: f64,
    p50_ms: f64,
    p99_ms: f64,
    refused: f64,
}

fn run(db: &Path, mode: &str, procs: usize, contended: bool, tag: &str) -> Figures {
    let exe = std::env::current_exe().unwrap();
    let children: Vec<_> = (0..procs)
        .map(|w| {
            Command::new(&exe)
                .args([
                    "worker",
                    db.to_str().unwrap(),
                    mode,
                    &w.to_string(),
                    &procs.to_string(),
                    if contended { "contended" } else { "spread" },
                    tag,
                ])
                .stdout(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    let mut lat: Vec<u64> = Vec::new();
    let mut refused = 0usize;
    let (mut first, mut last) = (u128::MAX, 0u128);
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert!(out.status.success(), "worker failed");
        let text = String::from_utf8(out.stdout).unwrap();
        let f: Vec<&str> = text.trim().splitn(4, ' ').collect();
        first = first.min(f[0].parse().unwrap());
        last = last.max(f[1].parse().unwrap());
        refused += f[2].parse::<usize>().unwrap();
        lat.extend(f[3].split(',').map(|x| x.parse::<u64>().unwrap()));
    }
    // From the first worker's first operation to the last one's last: process start-up is not
    // part of the rate.
    let wall = (last - first) as f64 / 1e6;
    lat.sort_unstable();
    let pct = |p: f64| lat[((lat.len() as f64 * p) as usize).min(lat.len() - 1)] as f64 / 1000.0;
    Figures {
        per_sec: lat.len() as f64 / wall,
        p50_ms: pct(0.5),
        p99_ms: pct(0.99),
        refused: refused as f64 / lat.len() as f64,
    }
}

/// Runs of each kind per figure (see `main`).
const ROUNDS: usize = 5;

/// The bare limit and the real thing in turns, `rounds` times, and the median of each: this
/// machine's speed drifts by a quarter from one run to the next.
fn in_turns(
    db: &Path,
    tag: &mut usize,
    rounds: usize,
    bare: &str,
    real: &str,
    procs: usize,
    contended: bool,
) -> (Figures, Figures) {
    let mut runs: (Vec<Figures>, Vec<Figures>) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        for (mode, out) in [(bare, &mut runs.0), (real, &mut runs.1)] {
            *tag += 1;
            reset(db);
            out.push(run(db, mode, procs, contended, &format!("r{tag}")));
            check_no_double_claims(db);
        }
    }
    (median(runs.0), median(runs.1))
}

/// The run with the median rate.
fn median(mut runs: Vec<Figures>) -> Figures {
    runs.sort_by(|a, b| a.per_sec.total_cmp(&b.per_sec));
    runs.swap_remove(runs.len() / 2)
}

fn reset(db: &Path) {
    if is_pg(db) {
        pg_client(&db.to_string_lossy())
            .batch_execute(
                "DELETE FROM claims;
                 UPDATE concerts SET claimed = 0, booked = 0, reserved = 0;
                 UPDATE holds SET state = 'released' WHERE state = 'live';
                 UPDATE bare_seats SET taken = 0 WHERE taken = 1;",
            )
            .unwrap();
        return;
    }
    let conn = Connection::open(db).unwrap();
    conn.busy_timeout(std::time::Duration::from_secs(5))
        .unwrap();
    conn.execute_batch(
        "DELETE FROM claims;
         UPDATE holds SET state = 'released' WHERE state = 'live';
         UPDATE bare_seats SET taken = 0 WHERE taken = 1;",
    )
    .unwrap();
}

fn check_no_double_claims(db: &Path) {
    if is_pg(db) {
        let doubles: i64 = pg_client(&db.to_string_lossy())
            .query_one(
                "SELECT count(*) FROM (SELECT 1 FROM claims GROUP BY concert_id, seat_id HAVING count(*) > 1) AS d",
                &[],
            )
            .unwrap()
            .get(0);
        assert_eq!(doubles, 0, "a seat was claimed twice");
        return;
    }
    let conn = Connection::open(db).unwrap();
    let doubles: i64 = conn
        .query_row(
            "SELECT count(*) FROM (SELECT 1 FROM claims GROUP BY concert_id, seat_id HAVING count(*) > 1)",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(doubles, 0, "a seat was claimed twice");
}

fn line(label: &str, f: &Figures, bare: Option<&Figures>) {
    let ratio = bare
        .map(|b| format!("{:>5.0}%", 100.0 * f.per_sec / b.per_sec))
        .unwrap_or_default();
    println!(
        "{label:<34} {:>8.0}/s  p50 {:>6.2} ms  p99 {:>6.2} ms  refused {:>5.1}%  {ratio}",
        f.per_sec,
        f.p50_ms,
        f.p99_ms,
        100.0 * f.refused,
    );
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("worker") {
        return worker(&args[1..]);
    }
    if args.first().map(String::as_str) == Some("setup") {
        // For profiling one worker under callgrind: `setup DIR`, then `worker DIR/bench.db …`.
        setup(Path::new(&args[1]));
        return;
    }
    if args.iter().any(|a| a == "postgres") {
        return postgres_main();
    }
    // Optional filters, e.g. `cargo bench --bench contention -- 1 8 spread`: process counts
    // and the words `spread`, `same` (the 200 contended seats) or `pay`.
    let wanted_procs: Vec<usize> = args.iter().filter_map(|a| a.parse().ok()).collect();
    let words: Vec<&str> = args
        .iter()
        .map(String::as_str)
        .filter(|a| ["spread", "same", "pay"].contains(a))
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let db = setup(dir.path());
    // Like the terminals of a box office that is open all day, one connection stays open for
    // the whole run, so the WAL file is reused instead of deleted and regrown between runs.
    let _open = Connection::open(&db).unwrap();
    println!(
        "contention: {} seats, {} operations per process, holds of 2 seats; \
         each line the median of {ROUNDS} runs, bare and real taking turns",
        ROWS * PER_ROW,
        ops()
    );
    println!(
        "{:<34} {:>10}  {:>12}  {:>12}  {:>13}  vs bare",
        "run", "rate", "", "", ""
    );
    let mut tag = 0;
    for contended in [false, true] {
        for procs in [1, 2, 4, 8] {
            if !wanted_procs.is_empty() && !wanted_procs.contains(&procs) {
                continue;
            }
            let kind = if contended { "same" } else { "spread" };
            let holds_wanted = words.is_empty() || words.contains(&kind);
            let pay_wanted = words.is_empty() || words.contains(&"pay");
            let name = if contended {
                "same 200 seats"
            } else {
                "spread"
            };
            let mut figs = |bare: &str, real: &str| {
                in_turns(&db, &mut tag, ROUNDS, bare, real, procs, contended)
            };
            if holds_wanted {
                let (bare, hold) = figs("bare", "hold");
                line(&format!("bare  {name}, {procs} proc"), &bare, None);
                line(&format!("hold  {name}, {procs} proc"), &hold, Some(&bare));
            }
            if pay_wanted && !contended && (procs == 1 || procs == 4) {
                let (bare_cash, cash) = figs("bare-pay-cash", "pay-cash");
                let (bare_card, card) = figs("bare-pay-card", "pay-card");
                line(
                    &format!("bare  hold+pay (cash), {procs} proc"),
                    &bare_cash,
                    None,
                );
                line(
                    &format!("hold+pay+confirm cash, {procs} proc"),
                    &cash,
                    Some(&bare_cash),
                );
                line(
                    &format!("bare  hold+pay (card), {procs} proc"),
                    &bare_card,
                    None,
                );
                line(
                    &format!("hold+pay+confirm card, {procs} proc"),
                    &card,
                    Some(&bare_card),
                );
            }
        }
    }
    println!("no seat was claimed twice in any run");
}

/// The PostgreSQL run: a new database on the server, the arena and the bare tables in it.
fn postgres_main() {
    let Some(admin) = std::env::var("BOXOFFICE_TEST_PG")
        .ok()
        .filter(|u| !u.is_empty())
    else {
        println!(
            "contention on PostgreSQL: skipped (run it as `.ci/with-postgres cargo bench --bench contention -- postgres`)"
        );
        return;
    };
    let name = format!("bench_{}", std::process::id());
    pg_client(&admin)
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .unwrap();
    let url = admin.replace("/postgres?", &format!("/{name}?"));
    let db = PathBuf::from(&url);
    add_arena(&db);
    pg_client(&url)
        .batch_execute(
            "CREATE TABLE bare_seats (id BIGINT PRIMARY KEY, taken BIGINT NOT NULL DEFAULT 0);
             CREATE TABLE bare_holds (id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
                                      seat BIGINT NOT NULL, at BIGINT NOT NULL);
             INSERT INTO bare_seats (id) SELECT generate_series(1, 20000);",
        )
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    // SAFETY: no other thread runs yet; the workers, child processes, inherit it.
    unsafe { std::env::set_var("BENCH_GATEWAY", dir.path().join("gateway.db")) };
    const PG_ROUNDS: usize = 3;
    println!(
        "contention on PostgreSQL: {} seats, {} operations per process, holds of 2 seats; \
         each line the median of {PG_ROUNDS} runs, bare and real taking turns",
        ROWS * PER_ROW,
        ops()
    );
    let mut tag = 0;
    let mut figs = |bare: &str, real: &str, procs: usize, contended: bool| {
        in_turns(&db, &mut tag, PG_ROUNDS, bare, real, procs, contended)
    };
    for procs in [1, 8, 32] {
        let (bare, hold) = figs("bare", "hold", procs, false);
        line(&format!("bare  one concert, {procs} proc"), &bare, None);
        line(
            &format!("hold  one concert, {procs} proc"),
            &hold,
            Some(&bare),
        );
    }
    for (mode, label) in [("pay-cash", "cash"), ("pay-card", "card")] {
        let (bare, real) = figs("bare-durable", mode, 8, false);
        line("bare  durable, 8 proc", &bare, None);
        line(
            &format!("hold+pay+confirm {label}, 8 proc"),
            &real,
            Some(&bare),
        );
    }
    println!("no seat was claimed twice in any run");
}

//! Search on a season of 100,000 concerts over 1,000 venues: median and p99 for the first page
//! of an artist substring, a venue plus a date range, a time-of-day filter and "has free
//! seats", side by side with a hand-written indexed SQL query for the same page.
//! Also times the 100,000-row CSV import that builds the catalog.
//!
//! `cargo bench --bench search`. Prints figures; asserts nothing about time.
//!
//! With a PostgreSQL server (`BOXOFFICE_TEST_PG`, as `.ci/with-postgres cargo bench --bench
//! search` sets it) the same catalog is copied into a new database there (`db copy`) and the
//! same pages timed on it (its pg_trgm indexes where SQLite has FTS5).

// A benchmark, an example or a test: a failed unwrap is a failed run, with its reason.
#![allow(clippy::unwrap_used)]

use boxoffice::{ConcertQuery, ManualClock, Store};
use rusqlite::Connection;
use std::fmt::Write as _;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Concerts in the season searched (also the render benchmark's catalog).
pub const CONCERTS: usize = 100_000;
/// Venues the season's concerts are spread over.
pub const VENUES: usize = 1_000;
const RUNS: usize = 300;

const CITIES: [&str; 20] = [
    "Vienna",
    "Graz",
    "Linz",
    "Salzburg",
    "Innsbruck",
    "Klagenfurt",
    "Villach",
    "Wels",
    "Steyr",
    "Dornbirn",
    "Bregenz",
    "Leoben",
    "Krems",
    "Baden",
    "Wolfsberg",
    "Lustenau",
    "Kufstein",
    "Traun",
    "Amstetten",
    "Hallein",
];
const FIRST: [&str; 20] = [
    "Aurora", "Neon", "Paper", "Silver", "Velvet", "Rusty", "Golden", "Midnight", "Electric",
    "Quiet", "Wild", "Blue", "Crimson", "Northern", "Lunar", "Solar", "Hollow", "Iron", "Crystal",
    "Broken",
];
const SECOND: [&str; 25] = [
    "Lights",
    "Harbour",
    "Lanterns",
    "Anchors",
    "Choir",
    "Quartet",
    "Trio",
    "Collective",
    "Orchestra",
    "Brothers",
    "Sisters",
    "Foxes",
    "Wolves",
    "Kings",
    "Queens",
    "Rivers",
    "Mountains",
    "Echoes",
    "Machines",
    "Gardens",
    "Pilots",
    "Saints",
    "Ghosts",
    "Dreamers",
    "Engines",
];

/// Builds the benchmark catalog in `dir`; returns the store.
pub fn build(dir: &std::path::Path) -> (Store, Duration) {
    let clock = Arc::new(ManualClock::new("2026-11-25T12:00:00Z".parse().unwrap()));
    let mut store = Store::open(dir.join("season.db"), clock).unwrap();
    for v in 0..VENUES {
        let layout = format!(
            "venue Hall {v}\ncity {}\ntimezone Europe/Vienna\ncategory S Standard\ncategory P Premium\nsection M Main\nA |PPPPP PPPPP|\nB |SSSSS SSSSS|\nC |SSSSS SSSSS|\nD |SSSSS SSSSS|\nE |SSSSS SSSSS|\n",
            CITIES[v % CITIES.len()]
        );
        store.add_venue(&format!("hall-{v}"), &layout).unwrap();
    }
    let mut csv =
        String::from("external_id,artist,title,venue,starts_at,on_sale_at,price_S,price_P\n");
    let times = [
        "11:00", "14:30", "18:00", "19:00", "19:30", "20:00", "20:30", "21:00", "22:00", "23:00",
    ];
    for i in 0..CONCERTS {
        let artist = format!(
            "{} {}",
            FIRST[i % FIRST.len()],
            SECOND[(i / FIRST.len()) % SECOND.len()]
        );
        let day = chrono::NaiveDate::from_ymd_opt(2026, 11, 26).unwrap()
            + chrono::Duration::days((i * 365 / CONCERTS) as i64);
        let _ = writeln!(
            csv,
            "season-{i},{artist} {},Night {i},hall-{},{} {} Europe/Vienna,2026-10-01 09:00 Europe/Vienna,{}.00,{}.00",
            i % 97,
            (i * 7919) % VENUES,
            day.format("%Y-%m-%d"),
            times[(i * 31) % times.len()],
            20 + i % 30,
            40 + i % 30
        );
    }
    let t = Instant::now();
    let report = store.import_concerts(&csv, &mut |_, _, _| {}).unwrap();
    let import = t.elapsed();
    assert_eq!(report.added, CONCERTS);
    // Sell out the first 2,000 concerts (so "has free seats" must skip them) and a tenth of
    // the rest, directly in SQL: this is set-up, not what is measured. (The holds do not list
    // their seats, which only a view of one of these bookings would read.)
    let conn = Connection::open(dir.join("season.db")).unwrap();
    conn.execute_batch(
        "BEGIN;
         INSERT INTO customers (email) VALUES ('bench@example.com');
         INSERT INTO holds (id, concert_id, email, created_at, expires_at, state)
           SELECT 'B' || c.id, c.id, 'bench@example.com', 0, 0, 'paid' FROM concerts c WHERE c.id <= 2000 OR c.id % 10 = 0;
         INSERT INTO bookings (code, concert_id, customer_id, hold_id, total_cents, currency, method, state, created_at)
           SELECT 'B' || h.concert_id, h.concert_id, 1, h.id, 0, 'EUR', 'cash', 'confirmed', 0 FROM holds h WHERE h.id LIKE 'B%';
         INSERT INTO claims (concert_id, seat_id, hold_id, booking_id, price_cents, expires_at)
           SELECT b.concert_id, s.id, b.hold_id, b.id, 0, NULL FROM bookings b
           JOIN concerts c ON c.id = b.concert_id JOIN seats s ON s.venue_id = c.venue_id;
         UPDATE concerts SET claimed = (SELECT count(*) FROM claims WHERE concert_id = concerts.id),
                             booked = (SELECT count(*) FROM claims WHERE concert_id = concerts.id)
           WHERE id <= 2000 OR id % 10 = 0;
         COMMIT;",
    )
    .unwrap();
    (store, import)
}

fn stats(mut samples: Vec<Duration>) -> (f64, f64) {
    samples.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    (
        ms(samples[samples.len() / 2]),
        ms(samples[samples.len() * 99 / 100]),
    )
}

fn time(mut f: impl FnMut() -> usize) -> (f64, f64, usize) {
    let mut n = f();
    let samples: Vec<Duration> = (0..RUNS)
        .map(|_| {
            let t = Instant::now();
            n = f();
            t.elapsed()
        })
        .collect();
    let (p50, p99) = stats(samples);
    (p50, p99, n)
}

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    // BENCH_DIR keeps the catalog for a look with EXPLAIN QUERY PLAN.
    let kept = std::env::var_os("BENCH_DIR").map(std::path::PathBuf::from);
    let dir = kept.as_deref().unwrap_or(tmp.path());
    let _ = std::fs::remove_file(dir.join("season.db"));
    let t = Instant::now();
    let (store, import) = build(dir);
    println!(
        "search: {CONCERTS} concerts over {VENUES} venues (built in {:.1} s; the {CONCERTS}-row CSV import took {:.2} s)",
        t.elapsed().as_secs_f64(),
        import.as_secs_f64()
    );
    let raw = Connection::open(dir.join("season.db")).unwrap();
    let now = 1_795_608_000i64; // 2026-11-25T12:00:00Z, the store's clock
    let page = Some(20);
    // The same page the app shows, written by hand the plain way: the concert, its venue and
    // start, booked / held / kept-for-the-waiting-list seats (the concert's counts, less the
    // claims of live holds that ran out), the price range, people waiting. CROSS JOIN keeps
    // SQLite from starting at a concert's claims (2 s a page) instead of its run-out holds and
    // the seats they list.
    let held_by = "FROM holds h CROSS JOIN json_each(h.seats) j CROSS JOIN claims cl
        ON cl.concert_id = h.concert_id AND cl.seat_id = j.value ->> 0 AND cl.hold_id = h.id";
    let runout = |reserved: i64| {
        format!(
            "(SELECT count(*) {held_by} WHERE h.state = 'live'
               AND h.expires_at <= {now} AND h.concert_id = c.id AND cl.reserved = {reserved}
               AND cl.booking_id IS NULL AND cl.expires_at <= {now})"
        )
    };
    let cols = format!("c.id, c.artist, c.title, v.name, v.city, c.starts_at, v.capacity, c.booked,
        c.claimed - c.booked - c.reserved - {}, c.reserved - {},
        (SELECT min(price_cents) FROM prices p WHERE p.concert_id = c.id),
        (SELECT max(price_cents) FROM prices p WHERE p.concert_id = c.id),
        (SELECT count(*) FROM waitlist w WHERE w.concert_id = c.id AND w.state IN ('waiting', 'offered'))",
        runout(0), runout(1));
    let cases: Vec<(&str, ConcertQuery, String)> = vec![
        (
            "artist substring \"ghts\"",
            ConcertQuery { artist: Some("ghts".into()), limit: page, ..Default::default() },
            format!(
                "SELECT {cols} FROM concerts c JOIN venues v ON v.id = c.venue_id
                 WHERE c.id IN (SELECT rowid FROM concert_search WHERE concert_search MATCH 'artist : \"ghts\"')
                   AND c.starts_at >= {now} ORDER BY c.starts_at LIMIT 20"
            ),
        ),
        (
            "venue \"graz\" + date range",
            ConcertQuery {
                venue: Some("graz".into()),
                from: Some("2027-03-01".parse().unwrap()),
                to: Some("2027-03-31".parse().unwrap()),
                limit: page,
                ..Default::default()
            },
            format!(
                "SELECT {cols} FROM concerts c JOIN venues v ON v.id = c.venue_id
                 WHERE c.venue_id IN (SELECT id FROM venues WHERE name LIKE '%graz%' OR city LIKE '%graz%')
                   AND c.local_date BETWEEN '2027-03-01' AND '2027-03-31' ORDER BY c.starts_at LIMIT 20"
            ),
        ),
        (
            "time of day 19:00-20:00",
            ConcertQuery { after: Some("19:00".parse().unwrap()), before: Some("20:00".parse().unwrap()), limit: page, ..Default::default() },
            format!(
                "SELECT {cols} FROM concerts c JOIN venues v ON v.id = c.venue_id
                 WHERE c.starts_at >= {now} AND c.local_time BETWEEN '19:00' AND '20:00' ORDER BY c.starts_at LIMIT 20"
            ),
        ),
        (
            "has free seats",
            ConcertQuery { available: true, limit: page, ..Default::default() },
            format!(
                "SELECT {cols} FROM concerts c JOIN venues v ON v.id = c.venue_id
                 WHERE c.starts_at >= {now} AND c.status = 'scheduled'
                   AND (c.claimed < v.capacity OR EXISTS (SELECT 1 {held_by}
                        WHERE h.state = 'live' AND h.expires_at <= {now} AND h.concert_id = c.id
                        AND cl.booking_id IS NULL AND cl.expires_at <= {now}))
                 ORDER BY c.starts_at LIMIT 20"
            ),
        ),
    ];
    println!(
        "{:<30} {:>22} {:>26} {:>7}",
        "first page of 20", "boxoffice p50 / p99", "hand-written SQL p50 / p99", "ratio"
    );
    let queries: Vec<(&str, ConcertQuery)> =
        cases.iter().map(|(n, q, _)| (*n, q.clone())).collect();
    for (name, q, sql) in cases {
        let (p50, p99, n) = time(|| store.search_concerts(&q).unwrap().len());
        let mut st = raw.prepare(&sql).unwrap();
        let (h50, h99, hn) = time(|| st.query_map([], |r| r.get::<_, i64>(0)).unwrap().count());
        assert_eq!(n, hn, "{name}: both return the same page size");
        println!(
            "{name:<30} {:>9.3} / {:>7.3} ms {:>12.3} / {:>7.3} ms {:>6.2}x",
            p50,
            p99,
            h50,
            h99,
            p50 / h50
        );
    }
    on_postgres(&store, &queries);
}

/// The same pages on PostgreSQL, from a copy of the catalog.
fn on_postgres(store: &Store, queries: &[(&str, ConcertQuery)]) {
    let Some(admin) = std::env::var("BOXOFFICE_TEST_PG")
        .ok()
        .filter(|u| !u.is_empty())
    else {
        println!("on PostgreSQL: skipped (run `.ci/with-postgres cargo bench --bench search`)");
        return;
    };
    let dir = admin.split("host=").nth(1).unwrap().replace('&', " ");
    let name = format!("search_{}", std::process::id());
    postgres::Client::connect(
        &format!("host={dir} user=postgres dbname=postgres"),
        postgres::NoTls,
    )
    .unwrap()
    .batch_execute(&format!("CREATE DATABASE {name}"))
    .unwrap();
    let url = admin.replace("/postgres?", &format!("/{name}?"));
    let boxoffice::store::engine::Location::Postgres(pg) =
        boxoffice::store::engine::Location::parse(&url).unwrap()
    else {
        unreachable!()
    };
    let t = Instant::now();
    store.copy_to_postgres(&pg).unwrap();
    let copied = t.elapsed();
    let clock = Arc::new(ManualClock::new("2026-11-25T12:00:00Z".parse().unwrap()));
    let pg_store = Store::open(&url, clock).unwrap();
    println!(
        "on PostgreSQL (the catalog copied in {:.1} s; pg_trgm for text):",
        copied.as_secs_f64()
    );
    for (name, q) in queries {
        let want = store.search_concerts(q).unwrap().len();
        let (p50, p99, n) = time(|| pg_store.search_concerts(q).unwrap().len());
        assert_eq!(n, want, "{name}: the same page on both engines");
        println!("{name:<30} {p50:>9.3} / {p99:>7.3} ms");
    }
}

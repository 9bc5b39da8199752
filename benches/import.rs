//! A large import while the counter sells: one process imports a 100,000-row season (the CSV
//! import, all or nothing) while another terminal, a separate OS process on the same database
//! file, holds and releases seats as fast as it can. Prints how long the import took and what
//! the selling terminal felt meanwhile: holds done, their p50/p99/longest wait, and any refused
//! as "busy" (a wait past the 5 s busy timeout).
//!
//! `cargo bench --bench import` (the seller is this binary, re-run as a child process;
//! `-- 20000` imports that many rows instead). Prints figures; asserts only that the import
//! arrived whole.

// A benchmark, an example or a test: a failed unwrap is a failed run, with its reason.
#![allow(clippy::unwrap_used)]

use boxoffice::{CustomerInfo, Error, Store, SystemClock};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// `n` concerts at the demo's Velvet Room: ten a day between noon and 22:00 from 2028 on.
fn season(n: usize) -> String {
    let mut csv =
        String::from("external_id,artist,title,venue,starts_at,on_sale_at,price_S,price_P\n");
    let start = chrono::NaiveDate::from_ymd_opt(2028, 1, 3).unwrap();
    for i in 0..n {
        let day = start + chrono::Duration::days(i as i64 / 10);
        csv.push_str(&format!(
            "season-{i},Artist {i},Night {i},velvet-room,{} {}:00 Europe/Vienna,2027-06-01 09:00 Europe/Vienna,20,30\n",
            day.format("%Y-%m-%d"),
            12 + i % 10
        ));
    }
    csv
}

/// The selling terminal: hold a seat, give it back, again, until `stop` exists. Prints the
/// microseconds each hold took (`-1` for a refusal as busy), one a line.
fn seller(db: &Path, stop: &Path) {
    let mut store = Store::open(db, Arc::new(SystemClock)).unwrap();
    let concert = store.resolve_concert("demo-13").unwrap();
    let who = CustomerInfo {
        email: "walk-up@bench.test".into(),
        ..Default::default()
    };
    let seat = vec!["FLR-A-1".to_string()];
    let mut out = String::new();
    while !stop.exists() {
        let t = Instant::now();
        match store.hold_seats(concert, &seat, &who) {
            Ok(h) => {
                out.push_str(&format!("{}\n", t.elapsed().as_micros()));
                store.release_hold(&h.hold_id).unwrap();
            }
            Err(Error::Busy) => out.push_str("-1\n"),
            Err(e) => panic!("{e}"),
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    print!("{out}");
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("seller") {
        return seller(Path::new(&args[1]), Path::new(&args[2]));
    }
    let rows: usize = args.iter().find_map(|a| a.parse().ok()).unwrap_or(100_000);
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("box.db");
    let stop = dir.path().join("stop");
    let mut store = Store::open(&db, Arc::new(SystemClock)).unwrap();
    store.seed_demo_if_empty().unwrap();
    let csv = season(rows);
    let before = store.export_catalog().unwrap().len();

    let child = Command::new(std::env::current_exe().unwrap())
        .args(["seller", db.to_str().unwrap(), stop.to_str().unwrap()])
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    // The seller's first holds are before the import: its pace with nothing else going on.
    std::thread::sleep(Duration::from_millis(500));
    let t = Instant::now();
    let report = store.import_concerts(&csv, &mut |_, _, _| {}).unwrap();
    let took = t.elapsed();
    std::fs::write(&stop, b"").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "the seller failed");
    assert_eq!(report.added, rows);
    assert_eq!(store.export_catalog().unwrap().len(), before + rows);

    let lines: Vec<i64> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| l.parse().unwrap())
        .collect();
    let busy = lines.iter().filter(|l| **l < 0).count();
    let mut waits: Vec<i64> = lines.into_iter().filter(|l| *l >= 0).collect();
    waits.sort_unstable();
    let pct = |p: f64| {
        waits
            .get(((waits.len() as f64 * p) as usize).min(waits.len().saturating_sub(1)))
            .map(|us| *us as f64 / 1000.0)
            .unwrap_or(f64::NAN)
    };
    println!(
        "import: {rows} rows in {:.2} s while another process sold: {} holds, p50 {:.2} ms, p99 {:.2} ms, longest {:.1} ms, refused as busy {busy}",
        took.as_secs_f64(),
        waits.len(),
        pct(0.5),
        pct(0.99),
        waits
            .last()
            .map(|us| *us as f64 / 1000.0)
            .unwrap_or(f64::NAN),
    );
}

//! Rendering: one frame of the concerts screen on the 100,000-concert catalog and of the
//! seat map of a 20,000-seat arena, at 80x24 and 200x60; the time from launch to the first
//! frame; peak resident memory. Spawns the built binary with `BOXOFFICE_BENCH_UI` set.
//!
//! `cargo bench --bench render`. Prints figures; asserts nothing about time.

// A benchmark, an example or a test: a failed unwrap is a failed run, with its reason.
#![allow(clippy::unwrap_used)]

#[path = "search.rs"]
#[allow(dead_code)]
mod search;

use std::process::Command;
use std::time::Instant;

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (mut store, _) = search::build(dir.path());
    // A 20,000-seat arena (two blocks of 100 a row with an aisle, two categories), with a
    // concert in it.
    let mut layout = String::from(
        "venue Big Arena\ncity Vienna\ntimezone Europe/Vienna\ncategory S Standard\ncategory P Premium\nsection F Floor\n",
    );
    for r in 1..=40 {
        layout.push_str(&format!("{r} |{}  {}|\n", "P".repeat(100), "P".repeat(100)));
    }
    layout.push_str("section T Tier\n");
    for r in 1..=60 {
        layout.push_str(&format!("{r} |{}  {}|\n", "S".repeat(100), "S".repeat(100)));
    }
    store.add_venue("big-arena", &layout).unwrap();
    store
        .import_concerts(
            "external_id,artist,title,venue,starts_at,on_sale_at,price_S,price_P\nbig-1,Stadium Act,World Tour,big-arena,2026-12-12 20:00 Europe/Vienna,2026-10-01 09:00 Europe/Vienna,59.00,99.00\n",
            &mut |_, _, _| {},
        )
        .unwrap();
    drop(store);
    let db = dir.path().join("season.db");
    let bin = env!("CARGO_BIN_EXE_boxoffice");
    // The render timings are asked for by BOXOFFICE_BENCH_UI (not a command a clerk sees).
    let run = |bench: &str| {
        let out = Command::new(bin)
            .env("BOXOFFICE_DB", &db)
            .env("BOXOFFICE_NOW", "2026-11-25T12:00:00Z")
            .env("BOXOFFICE_BENCH_UI", bench)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    run("first-frame"); // warm the file cache, as on a box in use
    let mut launches: Vec<f64> = (0..20)
        .map(|_| {
            let t = Instant::now();
            run("first-frame");
            t.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    launches.sort_by(f64::total_cmp);
    println!("render: 100,000 concerts over 1,001 venues; seat map of a 20,000-seat arena");
    println!(
        "launch to first frame (whole process, spawn to exit): p50 {:.1} ms, max {:.1} ms",
        launches[10], launches[19]
    );
    print!("{}", run("concert=big-1,frames=300"));
}

//! The stress run for soak runs: `cargo run --release --example stress -- --long`
//! (8 processes x 5,000 operations, 40 kills). Without `--long`: the CI size.

// A benchmark, an example or a test: a failed unwrap is a failed run, with its reason.
#![allow(clippy::unwrap_used)]

#[path = "../tests/it/common/mod.rs"]
mod common;
#[path = "../tests/support/stress.rs"]
mod stress;

fn main() {
    if let Ok(spec) = std::env::var(stress::WORKER_ENV) {
        return stress::worker(&spec);
    }
    let long = std::env::args().any(|a| a == "--long");
    let cfg = if long {
        stress::Config {
            procs: 8,
            ops: 5_000,
            kills: 40,
            machines: 1,
            db: None,
            silent_relay: false,
        }
    } else {
        stress::Config {
            procs: 8,
            ops: 250,
            kills: 6,
            machines: 1,
            db: None,
            silent_relay: false,
        }
    };
    let t = std::time::Instant::now();
    let exe = std::env::current_exe().unwrap();
    let outcome = stress::run(cfg, &exe, &[]);
    println!("{outcome:?}");
    println!(
        "all invariants held after {:.1} s",
        t.elapsed().as_secs_f64()
    );
}

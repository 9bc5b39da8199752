//! Load: 8 processes doing random box-office work on one database, killed at random moments
//! and restarted; every invariant checked afterwards. The CI-sized run; for a soak run use
//! `cargo run --release --example stress -- --long`.

mod common;
#[path = "support/stress.rs"]
mod stress;

/// The worker process: the test binary run again with this test selected and the work in an
/// environment variable. Without it, this test does nothing.
#[test]
fn stress_worker() {
    if let Ok(spec) = std::env::var(stress::WORKER_ENV) {
        stress::worker(&spec);
    }
}

#[test]
fn eight_processes_random_work_and_kills_break_no_invariant() {
    let exe = std::env::current_exe().unwrap();
    let outcome = stress::run(
        stress::Config {
            procs: 8,
            ops: 250,
            kills: 6,
        },
        &exe,
        &[
            "stress_worker",
            "--exact",
            "--test-threads=1",
            "--quiet",
            "--nocapture",
        ],
    );
    println!("{outcome:?}");
    assert!(outcome.kills >= 1, "the run killed nobody: {outcome:?}");
    assert!(
        outcome.bookings > 0 && outcome.offers > 0,
        "the run did too little: {outcome:?}"
    );
}

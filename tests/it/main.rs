//! The integration tests, in one binary: the crate is linked once for all of them, not once per
//! file (nineteen links after every change in `src/`). Each file here is a module of this
//! binary; `architecture::every_test_file_is_in_the_one_binary` fails for a file left out, or
//! for a `tests/*.rs` that would build a binary of its own.
//!
//! Run one area with a filter on its module: `cargo test --test it crash::`.

// A benchmark, an example or a test: a failed unwrap is a failed run, with its reason.
#![allow(clippy::unwrap_used)]

#[macro_use]
mod common;

mod architecture;
mod booking;
mod catalog;
mod chores;
mod cli;
mod crash;
mod door;
mod fairness;
mod faults;
mod hostile;
mod late_charges;
mod payments;
mod postgres;
mod pty;
mod relay;
mod search;
mod serve;
mod store;
mod stress;
mod tui_e2e;
mod waitlist;

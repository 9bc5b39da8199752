//! `boxoffice`: the terminal app (no arguments) and the scriptable command line.

mod applog;
mod cli;
#[cfg(unix)]
mod serve;
mod settings;
mod tui;

use std::process::ExitCode;

fn main() -> ExitCode {
    cli::run()
}

//! `boxoffice`: the terminal app (no arguments) and the scriptable command line.

mod cli;

use std::process::ExitCode;

fn main() -> ExitCode {
    cli::run()
}

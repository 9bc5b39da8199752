//! The command line: subcommands that do what the terminal app does, headless and scriptable.
//!
//! Exit status: 0 success, 2 bad usage (including an unknown concert, seat, hold or booking),
//! 3 a seat or hold not available (taken, expired, not on sale), 1 anything else.

use crate::applog::Log;
use anyhow::Context;
use boxoffice::booking::BestRequest;
use boxoffice::notify::outbox::SpoolReport;
use boxoffice::{
    Card, Clock, ConcertQuery, ConcertSummary, CustomerInfo, Error, ErrorKind, ManualClock, Money,
    Processors, ReconcileReport, Remedy, Spool, Store, SystemClock, Tender, search,
};
use clap::{Parser, Subcommand};
use serde::Serialize;
use std::fmt::Write as _;
use std::io::{IsTerminal, Write as _};
use std::path::PathBuf;

/// Appends a line to the output buffer (writing to a String cannot fail).
macro_rules! outln {
    ($out:expr, $($arg:tt)*) => {{
        let _ = writeln!($out, $($arg)*);
    }};
}
mod app;
mod catalog;
mod concerts;
mod ctx;
mod db;
mod door;
mod money;
mod sales;
mod serve;
mod waitlist;

use app::*;
use concerts::*;
use ctx::*;
use std::process::ExitCode;
use std::sync::Arc;
use unicode_width::UnicodeWidthStr;

#[derive(Debug, Parser)]
#[command(
    name = "boxoffice",
    version,
    about = "A concert box office in the terminal"
)]
pub struct Cli {
    /// The database file [default: boxoffice.db in the user's data directory]
    #[arg(long, env = "BOXOFFICE_DB", global = true, value_name = "FILE")]
    db: Option<PathBuf>,

    /// The spool directory for outgoing email and SMS [default: spool/ beside the database]
    #[arg(long, env = "BOXOFFICE_SPOOL", global = true, value_name = "DIR")]
    spool: Option<PathBuf>,

    /// The simulated card gateway's ledger [default: gateway.db beside the database]
    #[arg(long, env = "BOXOFFICE_GATEWAY", global = true, value_name = "FILE")]
    gateway: Option<PathBuf>,

    /// The settings file [default: boxoffice.toml in the user's config directory]
    #[arg(long, env = "BOXOFFICE_CONFIG", global = true, value_name = "FILE")]
    config: Option<PathBuf>,

    /// Send email through this mail relay: smtp://USER@HOST:587 (STARTTLS),
    /// smtps://USER@HOST:465 or smtp://HOST:25; the password from BOXOFFICE_SMTP_PASSWORD
    #[arg(long, env = "BOXOFFICE_SMTP", global = true, value_name = "URL")]
    smtp: Option<String>,

    /// Send SMS through this HTTP gateway (a JSON POST); the token from BOXOFFICE_SMS_TOKEN
    #[arg(long, env = "BOXOFFICE_SMS_GATEWAY", global = true, value_name = "URL")]
    sms_gateway: Option<String>,

    /// The CA certificates (PEM) the mail relay's and the SMS gateway's certificates must come
    /// from, e.g. a company's own CA [default: SSL_CERT_FILE, else the public CAs]
    #[arg(long, env = "BOXOFFICE_CA_FILE", global = true, value_name = "FILE")]
    ca_file: Option<PathBuf>,

    /// The sender of every email, e.g. '"Odeon Box Office" <tickets@odeon.example>' (given
    /// before the command: `concerts --from` is a date)
    #[arg(
        long = "from",
        id = "sender",
        env = "BOXOFFICE_FROM",
        value_name = "ADDRESS"
    )]
    from: Option<String>,

    /// Run as if it were this moment (RFC 3339). For tests and rehearsals.
    #[arg(long, env = "BOXOFFICE_NOW", global = true, hide = true)]
    now: Option<String>,

    /// Open the app on a fresh throwaway copy of the demo catalog (with --db: share that copy)
    #[arg(long)]
    demo: bool,

    /// Counter-terminal mode: q does not quit (Ctrl-Q does); idle screens clear themselves
    #[arg(long)]
    kiosk: bool,

    /// The clerk at this terminal: recorded on every sale and refund (`report --clerk NAME`
    /// counts only theirs)
    #[arg(long, env = "BOXOFFICE_CLERK", global = true, value_name = "NAME")]
    clerk: Option<String>,

    /// This terminal's name, recorded on every sale and refund [default: the host name]
    #[arg(long, env = "BOXOFFICE_TERMINAL", global = true, value_name = "NAME")]
    terminal: Option<String>,

    /// A receipt printer (ESC/POS): a device such as /dev/usb/lp0, or a file
    #[arg(long, env = "BOXOFFICE_PRINTER", global = true, value_name = "PATH")]
    printer: Option<PathBuf>,

    /// The receipt printer's code page: pc858 (Western Europe with the euro sign) or wpc1252
    /// [default: pc858]
    #[arg(
        long,
        env = "BOXOFFICE_PRINTER_CODEPAGE",
        global = true,
        value_name = "PAGE"
    )]
    printer_codepage: Option<String>,

    /// Open the app as a door for this concert (number or external id): scan tickets, nothing
    /// else
    #[arg(long, value_name = "CONCERT")]
    door: Option<String>,

    /// Look, never change: concerts, seats and bookings are shown; holds, sales, refunds,
    /// check-ins and the waiting list are refused
    #[arg(long, global = true)]
    read_only: bool,

    /// Kiosk mode: seconds without a key before customer details are cleared [default: 120]
    #[arg(long, env = "BOXOFFICE_IDLE", global = true, value_name = "SECONDS")]
    idle: Option<u64>,

    #[command(subcommand)]
    command: Option<Command>,

    /// The secrets, from the environment or the settings file (never a flag).
    #[arg(skip)]
    smtp_password: Option<String>,
    #[arg(skip)]
    sms_token: Option<String>,
    /// Each setting in force: its name, its value (secrets masked) and where it came from.
    #[arg(skip)]
    in_force: Vec<(&'static str, Option<String>, crate::settings::Source)>,
    /// The settings file read, if any.
    #[arg(skip)]
    settings_file: Option<PathBuf>,
}

impl Cli {
    /// The receipt printer's code page (checked when the settings were read).
    fn codepage(&self) -> boxoffice::notify::codepage::CodePage {
        self.printer_codepage
            .as_deref()
            .and_then(|p| boxoffice::notify::codepage::CodePage::parse(p).ok())
            .unwrap_or_default()
    }
}

/// Fills what the flags and the environment left open from the settings file, then the
/// defaults, and notes where each setting came from.
fn apply_settings(cli: &mut Cli, matches: &clap::ArgMatches) -> Result<(), Failure> {
    use crate::settings::Source;
    let path = crate::settings::path(cli.config.as_deref()).map_err(usage)?;
    let file = match &path {
        Some(p) => crate::settings::read(p).map_err(usage)?,
        None => Default::default(),
    };
    let given = |id: &str, env: &'static str| match matches.value_source(id) {
        Some(clap::parser::ValueSource::CommandLine) => Some(Source::Flag),
        Some(clap::parser::ValueSource::EnvVariable) => Some(Source::Env(env)),
        _ => None,
    };
    let from_file = || Source::File(path.clone().unwrap_or_default());
    // `$id` is the flag's id where it differs from the key (`--from` is `sender`: `concerts
    // --from` is a date).
    macro_rules! setting {
        ($field:ident, $key:literal, $env:literal, $show:expr) => {
            setting!($field, $key, $key, $env, $show)
        };
        ($field:ident, $key:literal, $id:literal, $env:literal, $show:expr) => {{
            let source = match given($id, $env) {
                Some(s) => s,
                None if file.$field.is_some() => {
                    cli.$field = file.$field.clone();
                    from_file()
                }
                None => Source::Default,
            };
            let shown = cli.$field.as_ref().map($show);
            cli.in_force.push(($key, shown, source));
        }};
    }
    // A path or a URL as it may be shown: a password or token written into a URL is masked.
    let path_shown = |p: &PathBuf| boxoffice::text::without_password(&p.display().to_string());
    let url_shown = |u: &String| boxoffice::text::without_password(u);
    setting!(db, "db", "BOXOFFICE_DB", path_shown);
    setting!(spool, "spool", "BOXOFFICE_SPOOL", path_shown);
    setting!(gateway, "gateway", "BOXOFFICE_GATEWAY", path_shown);
    setting!(smtp, "smtp", "BOXOFFICE_SMTP", url_shown);
    setting!(
        sms_gateway,
        "sms_gateway",
        "BOXOFFICE_SMS_GATEWAY",
        url_shown
    );
    setting!(
        printer_codepage,
        "printer_codepage",
        "BOXOFFICE_PRINTER_CODEPAGE",
        String::clone
    );
    if let Some(page) = &cli.printer_codepage {
        boxoffice::notify::codepage::CodePage::parse(page).map_err(usage)?;
    }
    setting!(ca_file, "ca_file", "BOXOFFICE_CA_FILE", path_shown);
    if cli.ca_file.is_none()
        && let Some(file) = std::env::var_os("SSL_CERT_FILE").filter(|f| !f.is_empty())
    {
        cli.ca_file = Some(PathBuf::from(file));
        if let Some(last) = cli.in_force.last_mut() {
            last.1 = cli.ca_file.as_ref().map(path_shown);
            last.2 = Source::Env("SSL_CERT_FILE");
        }
    }
    setting!(from, "from", "sender", "BOXOFFICE_FROM", String::clone);
    setting!(idle, "idle", "BOXOFFICE_IDLE", u64::to_string);
    if cli.idle.is_none() {
        cli.idle = Some(120);
        if let Some(last) = cli.in_force.last_mut() {
            last.1 = Some("120".into());
        }
    }
    for (key, env, from_file, target) in [
        (
            "smtp_password",
            "BOXOFFICE_SMTP_PASSWORD",
            file.smtp_password.clone(),
            &mut cli.smtp_password,
        ),
        (
            "sms_token",
            "BOXOFFICE_SMS_TOKEN",
            file.sms_token.clone(),
            &mut cli.sms_token,
        ),
    ] {
        let source = match std::env::var(env).ok().filter(|v| !v.is_empty()) {
            Some(v) => {
                *target = Some(v);
                Source::Env(env)
            }
            None if from_file.is_some() => {
                *target = from_file;
                Source::File(path.clone().unwrap_or_default())
            }
            None => Source::Default,
        };
        let shown = crate::settings::masked(target);
        cli.in_force.push((key, shown, source));
    }
    serve::apply_settings(cli, matches, &file, path.as_deref());
    cli.settings_file = path.clone();
    if let Some(p) = &path {
        // The file may hold a password: readable by its owner only, as the database is.
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            if (file.smtp_password.is_some() || file.sms_token.is_some())
                && std::fs::metadata(p).is_ok_and(|m| m.permissions().mode() & 0o077 != 0)
            {
                eprintln!(
                    "boxoffice: warning: {} holds a secret and other users can read it (chmod 600 it)",
                    p.display()
                );
            }
        }
    }
    Ok(())
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create an empty box office for your own catalog (no demo concerts, no demo sales)
    Init(catalog::InitArgs),
    /// Search concerts (coming ones, in start order)
    Concerts(concerts::ConcertsArgs),
    /// Every seat of a concert with its category, price and status
    Seats(concerts::SeatsArgs),
    /// Hold seats for a customer while they pay
    Hold(sales::HoldArgs),
    /// The waiting list of a sold-out concert
    Waitlist(waitlist::WaitlistArgs),
    /// A concert's rules, a new date, or calling it off
    Concert(catalog::ConcertArgs),
    /// Venues and their seat layouts
    Venue(catalog::VenueArgs),
    /// Import concerts from a CSV file (all or nothing; re-importing changes nothing)
    Import(catalog::ImportArgs),
    /// The settings in force and where each came from (secrets masked)
    Config(app::ConfigArgs),
    /// Write the catalog in the import format (CSV unless --json)
    Export(catalog::ExportArgs),
    /// Give held seats back before they expire
    Release(sales::ReleaseArgs),
    /// Pay a hold (cash or card) and confirm the booking
    Pay(sales::PayArgs),
    /// Finish payments and refunds a crash interrupted
    Reconcile(money::ReconcileArgs),
    /// The day's money check: the processors' books against the bookings (exit 1 if anything
    /// does not match)
    Audit(money::AuditArgs),
    /// Outgoing email and SMS
    Spool(money::SpoolArgs),
    /// Show a booking by its code
    Booking(sales::BookingArgs),
    /// Cancel a booking: seats free again, payment refunded
    Cancel(sales::CancelArgs),
    /// A booking's tickets, each with its own code; --pdf writes them as a PDF
    Ticket(door::TicketArgs),
    /// A sale's receipt: to the receipt printer (--printer) with the tickets, else as text
    Receipt(sales::ReceiptArgs),
    /// Check a ticket in at the door (exit 0 admitted, 3 refused, 2 not a ticket's code)
    Checkin(door::CheckinArgs),
    /// The day's takings: sales and refunds by method, the cash in the drawer, tickets sold
    /// and checked in per concert
    Report(money::ReportArgs),
    /// Which engine holds this box office; copying one from SQLite into PostgreSQL
    Db(db::DbArgs),
    /// Serve the terminal app over SSH: clerks by their keys (--clerks), or anyone on a
    /// throwaway demo (--demo); no shell, no commands, no forwarding
    Serve(serve::ServeArgs),
}

/// An error with the exit status it maps to.
struct Failure {
    code: u8,
    message: String,
}

impl From<Error> for Failure {
    fn from(e: Error) -> Self {
        let code = match e.kind() {
            ErrorKind::Usage => 2,
            ErrorKind::Unavailable => 3,
            ErrorKind::Other => 1,
        };
        // The core says what happened; the command line adds what to type about it.
        let advice = match e.remedy() {
            Some(Remedy::ListConcerts) => "; `boxoffice concerts` lists them",
            Some(Remedy::ListSeats) => "; `boxoffice seats CONCERT` lists the seat labels",
            Some(Remedy::AllowGap) => " (or --allow-gap to override)",
            Some(Remedy::AllowSplit) => " (--allow-split to take it)",
            Some(Remedy::Reconcile) => " or run `boxoffice reconcile`",
            Some(Remedy::SettleNow) => " (`boxoffice reconcile` does it at once)",
            None => "",
        };
        Failure {
            code,
            message: format!("{e}{advice}"),
        }
    }
}

impl From<anyhow::Error> for Failure {
    fn from(e: anyhow::Error) -> Self {
        match e.downcast::<Error>() {
            Ok(e) => e.into(),
            Err(e) => Failure {
                code: 1,
                message: format!("{e:#}"),
            },
        }
    }
}

fn usage(msg: impl Into<String>) -> Failure {
    Failure {
        code: 2,
        message: msg.into(),
    }
}

/// A message for the terminal: whatever a person typed is echoed without its control
/// characters, so a crafted argument cannot drive the terminal.
fn printable(message: &str) -> String {
    message
        .chars()
        .map(|c| {
            if c.is_control() && c != '\n' {
                '\u{fffd}'
            } else {
                c
            }
        })
        .collect()
}

pub fn run() -> ExitCode {
    use clap::{CommandFactory, FromArgMatches};
    let parsed = Cli::command()
        .try_get_matches()
        .and_then(|m| Cli::from_arg_matches(&m).map(|cli| (cli, m)));
    let cli = match parsed {
        Ok((mut cli, matches)) => {
            if let Err(f) = apply_settings(&mut cli, &matches) {
                eprintln!("boxoffice: {}", printable(&f.message));
                return ExitCode::from(f.code);
            }
            cli
        }
        Err(e) => {
            let text = printable(&e.render().to_string());
            if e.use_stderr() {
                eprint!("{text}");
            } else {
                print!("{text}");
            }
            return ExitCode::from(e.exit_code().clamp(0, 255) as u8);
        }
    };
    let mut out = String::new();
    let result = execute(cli, &mut out);
    // A closed pipe (`boxoffice seats 5 | head`) is not an error worth a panic.
    let _ = std::io::stdout().lock().write_all(out.as_bytes());
    let _ = std::io::stdout().flush();
    // The output is out: messages still leaving get a moment, never more.
    ctx::finish_sending();
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            eprintln!("boxoffice: {}", printable(&f.message));
            ExitCode::from(f.code)
        }
    }
}

/// Every command's ending: `value` as JSON with `--json`, else as `text` writes it for a person.
fn show<T: Serialize + ?Sized>(
    out: &mut String,
    json: bool,
    value: &T,
    text: impl FnOnce(&mut String) -> Result<(), Failure>,
) -> Result<(), Failure> {
    if json {
        print_json(out, value)
    } else {
        text(out)
    }
}

fn print_json<T: Serialize + ?Sized>(out: &mut String, value: &T) -> Result<(), Failure> {
    let text = serde_json::to_string_pretty(value).map_err(|e| anyhow::anyhow!(e))?;
    out.push_str(&text);
    out.push('\n');
    Ok(())
}

fn execute(cli: Cli, out: &mut String) -> Result<(), Failure> {
    let Some(command) = &cli.command else {
        return match app::BenchUi::from_env() {
            Some(bench) => app::bench_ui(&cli, &bench?, out),
            None => run_app(&cli),
        };
    };
    match command {
        Command::Concerts(args) => concerts::concerts(&cli, args, out),
        Command::Seats(args) => concerts::seats(&cli, args, out),
        Command::Hold(args) => sales::hold(&cli, args, out),
        Command::Waitlist(args) => waitlist::waitlist(&cli, args, out),
        Command::Concert(args) => catalog::concert(&cli, args, out),
        Command::Venue(args) => catalog::venue(&cli, args, out),
        Command::Import(args) => catalog::import(&cli, args, out),
        Command::Config(args) => app::config(&cli, args, out),
        Command::Init(args) => catalog::init(&cli, args, out),
        Command::Export(args) => catalog::export(&cli, args, out),
        Command::Release(args) => sales::release(&cli, args, out),
        Command::Pay(args) => sales::pay(&cli, args, out),
        Command::Reconcile(args) => money::reconcile(&cli, args, out),
        Command::Audit(args) => money::audit(&cli, args, out),
        Command::Spool(args) => money::spool(&cli, args, out),
        Command::Booking(args) => sales::booking(&cli, args, out),
        Command::Cancel(args) => sales::cancel(&cli, args, out),
        Command::Ticket(args) => door::ticket(&cli, args, out),
        Command::Receipt(args) => sales::receipt(&cli, args, out),
        Command::Checkin(args) => door::checkin(&cli, args, out),
        Command::Report(args) => money::report(&cli, args, out),
        Command::Db(args) => db::db(&cli, args, out),
        Command::Serve(args) => serve::serve(&cli, args, out),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The core says what happened; the command line adds the flag or command that helps.
    #[test]
    fn a_refusal_names_the_flag_that_overrides_it() {
        let e = Error::WouldStrandSeat {
            stranded: vec!["A-1".into()],
            suggestion: vec!["A-2".into(), "A-3".into()],
        };
        assert!(!e.to_string().contains("--"), "the core names no flag");
        let f = Failure::from(e);
        assert_eq!(f.code, 3);
        assert!(
            f.message.ends_with("(or --allow-gap to override)"),
            "{}",
            f.message
        );
        let f = Failure::from(Error::ConcertNotFound("99".into()));
        assert_eq!(
            f.message,
            "there is no concert 99; `boxoffice concerts` lists them"
        );
    }

    #[test]
    fn render_timings_are_asked_for_by_the_environment_not_a_command() {
        assert!(Cli::try_parse_from(["boxoffice", "bench-ui"]).is_err());
        assert_eq!(
            app::BenchUi::parse("concert=big-1, frames=300").ok(),
            Some(app::BenchUi {
                concert: Some("big-1".into()),
                frames: 300,
                first_frame_only: false
            })
        );
        assert!(app::BenchUi::parse("first-frame").is_ok_and(|b| b.first_frame_only));
        assert_eq!(
            app::BenchUi::parse("frames=many").err().map(|f| f.code),
            Some(2)
        );
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 500, .. ProptestConfig::default() })]

        /// Any arguments: parsed, or refused with a message; never a panic.
        #[test]
        fn any_arguments_parse_or_are_refused(args in proptest::collection::vec(
            "concerts|seats|hold|pay|booking|cancel|waitlist|join|list|spool|flush|import|export|venue|concert|--json|--cash|--card|--best|--from|--to|--after|-|--|[0-9]{1,4}|\\PC{0,12}",
            0..8,
        )) {
            let mut argv = vec!["boxoffice".to_string()];
            argv.extend(args);
            match Cli::try_parse_from(&argv) {
                Ok(_) => {}
                Err(e) => prop_assert!(!e.render().to_string().is_empty()),
            }
        }
    }

    #[test]
    fn control_characters_never_reach_the_terminal() {
        assert_eq!(printable("a\u{1b}[2Jb\nc"), "a\u{fffd}[2Jb\nc");
    }
}

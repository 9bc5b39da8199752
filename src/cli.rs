//! The command line: subcommands that do what the terminal app does, headless and scriptable.
//!
//! Exit status: 0 success, 2 bad usage (including an unknown concert, seat, hold or booking),
//! 3 a seat or hold not available (taken, expired, not on sale), 1 anything else.

use crate::applog::Log;
use anyhow::Context;
use boxoffice::booking::BestRequest;
use boxoffice::notify::spool::SpoolReport;
use boxoffice::{
    Card, Clock, ConcertQuery, ConcertSummary, CustomerInfo, Error, ErrorKind, ManualClock, Money,
    Processors, ReconcileReport, Spool, Store, SystemClock, Tender, search,
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
    let path_shown = |p: &PathBuf| p.display().to_string();
    setting!(db, "db", "BOXOFFICE_DB", path_shown);
    setting!(spool, "spool", "BOXOFFICE_SPOOL", path_shown);
    setting!(gateway, "gateway", "BOXOFFICE_GATEWAY", path_shown);
    setting!(smtp, "smtp", "BOXOFFICE_SMTP", String::clone);
    setting!(
        sms_gateway,
        "sms_gateway",
        "BOXOFFICE_SMS_GATEWAY",
        String::clone
    );
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
    /// Search concerts (coming ones, in start order)
    Concerts {
        /// Artist name contains this (any case)
        #[arg(long)]
        artist: Option<String>,
        /// Venue name or city contains this (any case)
        #[arg(long)]
        venue: Option<String>,
        /// First day, inclusive (YYYY-MM-DD, at the venue)
        #[arg(long)]
        from: Option<String>,
        /// Last day, inclusive (YYYY-MM-DD, at the venue)
        #[arg(long)]
        to: Option<String>,
        /// Starting at or after this time of day (HH:MM)
        #[arg(long)]
        after: Option<String>,
        /// Starting at or before this time of day (HH:MM)
        #[arg(long)]
        before: Option<String>,
        /// Only concerts with free seats
        #[arg(long)]
        available: bool,
        /// At most this many
        #[arg(long)]
        limit: Option<usize>,
        /// Skip this many first
        #[arg(long, default_value_t = 0)]
        offset: usize,
        #[arg(long)]
        json: bool,
    },
    /// Every seat of a concert with its category, price and status
    Seats {
        /// Concert number (or external id)
        concert: String,
        #[arg(long)]
        json: bool,
    },
    /// Hold seats for a customer while they pay
    Hold {
        concert: String,
        /// Seat labels as `seats` prints them, e.g. FLR-C-4
        #[arg(required_unless_present = "best")]
        seats: Vec<String>,
        /// The customer's email
        #[arg(long)]
        customer: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        phone: Option<String>,
        /// Hold the best N available seats instead of naming them
        #[arg(long, value_name = "N", conflicts_with = "seats")]
        best: Option<usize>,
        /// With --best: only this seat category (e.g. P)
        #[arg(long, requires = "best")]
        category: Option<String>,
        /// With --best: at most this price per seat, in cents
        #[arg(long, value_name = "CENTS", requires = "best")]
        max_price: Option<i64>,
        /// With --best: take the best split when no row has N seats together
        #[arg(long, requires = "best")]
        allow_split: bool,
        /// The clerk's override: hold even if it leaves a single seat stranded (recorded)
        #[arg(long)]
        allow_gap: bool,
        #[arg(long)]
        json: bool,
    },
    /// The waiting list of a sold-out concert
    Waitlist {
        #[command(subcommand)]
        action: WaitlistAction,
    },
    /// A concert's rules, a new date, or calling it off
    Concert {
        #[command(subcommand)]
        action: ConcertAction,
    },
    /// Venues and their seat layouts
    Venue {
        #[command(subcommand)]
        action: VenueAction,
    },
    /// Import concerts from a CSV file (all or nothing; re-importing changes nothing)
    Import {
        file: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Render timings for benches/render.rs
    #[command(hide = true)]
    BenchUi {
        #[arg(long)]
        concert: Option<String>,
        #[arg(long, default_value_t = 200)]
        frames: usize,
        #[arg(long)]
        first_frame_only: bool,
    },
    /// The settings in force and where each came from (secrets masked)
    Config {
        #[arg(long)]
        json: bool,
    },
    /// Write the catalog in the import format (CSV unless --json)
    Export {
        #[arg(long, conflicts_with = "json")]
        csv: bool,
        #[arg(long)]
        json: bool,
        /// Start the CSV with a byte-order mark, so spreadsheets read it as UTF-8
        #[arg(long, conflicts_with = "json")]
        bom: bool,
    },
    /// Give held seats back before they expire
    Release {
        hold: String,
        #[arg(long)]
        json: bool,
    },
    /// Pay a hold (cash or card) and confirm the booking
    Pay {
        hold: String,
        /// Cash tendered, in whole cents (5000 for 50.00)
        #[arg(long, value_name = "CENTS", conflicts_with = "card")]
        cash: Option<String>,
        /// `-`: read the card number, then the expiry and the CVC (those not given as flags),
        /// one a line from standard input, or at a prompt that does not echo them. A number
        /// given here is visible to other users of the machine.
        #[arg(long, value_name = "-|NUMBER")]
        card: Option<String>,
        /// Card expiry, MM/YY
        #[arg(long, value_name = "MM/YY")]
        exp: Option<String>,
        /// Card security code (visible to other users of the machine: prefer --card -)
        #[arg(long, value_name = "CVC")]
        cvc: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Finish payments and refunds a crash interrupted
    Reconcile {
        #[arg(long)]
        json: bool,
    },
    /// The day's money check: the processors' books against the bookings (exit 1 if anything
    /// does not match)
    Audit {
        #[arg(long)]
        json: bool,
    },
    /// Outgoing email and SMS
    Spool {
        #[command(subcommand)]
        action: SpoolAction,
    },
    /// Show a booking by its code
    Booking {
        code: String,
        #[arg(long)]
        json: bool,
    },
    /// Cancel a booking: seats free again, payment refunded
    Cancel {
        code: String,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
enum WaitlistAction {
    /// Join the waiting list (the concert, or the category, must be sold out)
    Join {
        concert: String,
        #[arg(long)]
        customer: String,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        phone: Option<String>,
        /// How many seats they want together (1 up to the ticket limit)
        #[arg(long)]
        party: i64,
        /// Wait for this seat category only
        #[arg(long)]
        category: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// The queue: positions, states and offer deadlines
    List {
        concert: String,
        #[arg(long)]
        json: bool,
    },
    /// Leave the waiting list (an open offer goes to the next person)
    Leave {
        concert: String,
        #[arg(long)]
        customer: String,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
enum VenueAction {
    /// Add a venue from a layout file (the text grid of assets/venues/*.layout)
    Add {
        layout_file: PathBuf,
        #[arg(long)]
        name: Option<String>,
        #[arg(long)]
        city: Option<String>,
        /// Short name for commands and import files [default: from the name]
        #[arg(long)]
        slug: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Print a venue's layout back as a grid
    Show { venue: String },
    /// Every venue
    List {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
enum ConcertAction {
    /// Move a concert to a new date and time (at the venue); ticket holders are told
    Reschedule {
        concert: String,
        /// The new start, "YYYY-MM-DD HH:MM" at the venue
        #[arg(long, value_name = "YYYY-MM-DD HH:MM")]
        to: String,
        #[arg(long)]
        json: bool,
    },
    /// Call a concert off: every booking refunded, every holder told
    Cancel {
        concert: String,
        /// Told to every customer
        #[arg(long)]
        reason: String,
        /// Do not ask for confirmation
        #[arg(long)]
        yes: bool,
        #[arg(long)]
        json: bool,
    },
    /// Set the ticket limit, hold time and waiting-list offer time
    Rules {
        concert: String,
        /// Tickets per customer (default 6)
        #[arg(long)]
        ticket_limit: Option<i64>,
        /// Minutes a hold lasts (default 5)
        #[arg(long)]
        hold_minutes: Option<i64>,
        /// Minutes a waiting-list offer lasts (default 120)
        #[arg(long)]
        offer_minutes: Option<i64>,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
enum SpoolAction {
    /// What is waiting to be written to the spool, and why
    Status {
        #[arg(long)]
        json: bool,
    },
    /// Write every waiting message now, failed ones included
    Flush {
        #[arg(long)]
        json: bool,
    },
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
        Failure {
            code,
            message: e.to_string(),
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
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(f) => {
            eprintln!("boxoffice: {}", printable(&f.message));
            ExitCode::from(f.code)
        }
    }
}

fn clock(now: Option<&str>) -> Result<Arc<dyn Clock>, Failure> {
    match now {
        None => Ok(Arc::new(SystemClock)),
        Some(t) => {
            let t = chrono::DateTime::parse_from_rfc3339(t)
                .map_err(|_| usage(format!("BOXOFFICE_NOW `{t}` is not an RFC 3339 time")))?;
            Ok(Arc::new(ManualClock::new(t.with_timezone(&chrono::Utc))))
        }
    }
}

fn default_db_path() -> anyhow::Result<PathBuf> {
    let dirs = directories::ProjectDirs::from("", "", "boxoffice")
        .context("cannot find a data directory for this user; pass --db FILE")?;
    let dir = dirs.data_dir();
    // The data directory holds personal data: the owner's only.
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder
        .create(dir)
        .with_context(|| format!("cannot create {}", dir.display()))?;
    Ok(dir.join("boxoffice.db"))
}

/// Everything a command works with: the store, the payment processors, the spool, the log.
struct Ctx {
    store: Store,
    processors: Processors,
    /// The card gateway's ledger the processors use.
    gateway: PathBuf,
    spool: Spool,
    log: Log,
    /// What start-up's reconcile did (`reconcile` reports it with its own).
    started: ReconcileReport,
}

impl Ctx {
    /// What delivering messages did since the last call (the store delivers after each
    /// change; a message that could not leave was said as it happened, see `open_ctx`).
    fn delivered(&mut self) -> SpoolReport {
        self.store.take_delivery()
    }
}

/// Where the database is: --db, or a fresh throwaway directory for --demo, or the default.
fn db_path(cli: &Cli) -> Result<PathBuf, Failure> {
    Ok(match (&cli.db, cli.demo) {
        (Some(p), _) => p.clone(),
        (None, true) => {
            let dir = std::env::temp_dir().join(format!(
                "boxoffice-demo-{}-{}",
                std::process::id(),
                chrono::Utc::now().timestamp_millis()
            ));
            std::fs::create_dir_all(&dir)
                .map_err(|e| usage(format!("cannot create {}: {e}", dir.display())))?;
            dir.join("boxoffice.db")
        }
        (None, false) => default_db_path()?,
    })
}

fn open_ctx(cli: &Cli) -> Result<Ctx, Failure> {
    let path = db_path(cli)?;
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("."));
    let clock = clock(cli.now.as_deref())?;
    let mut store = Store::open(&path, clock.clone())?;
    store.seed_demo_if_empty()?;
    let gateway = cli
        .gateway
        .clone()
        .unwrap_or_else(|| dir.join("gateway.db"));
    let processors = Processors::with_gateway(&gateway, clock)?;
    let mut spool = Spool::new(cli.spool.clone().unwrap_or_else(|| dir.join("spool")))
        .with_from(cli.from.as_deref().unwrap_or(&default_sender()))?;
    if let Some(url) = &cli.smtp {
        spool = spool.with_mail_relay(
            boxoffice::notify::relay::MailRelay::new(url, cli.smtp_password.as_deref())
                .map_err(usage)?,
        );
    }
    if let Some(url) = &cli.sms_gateway {
        spool = spool.with_sms_gateway(
            boxoffice::notify::relay::SmsGateway::new(url, cli.sms_token.as_deref())
                .map_err(usage)?,
        );
    }
    let mut log = Log::open(&dir.join("boxoffice.log"));
    store.set_spool(spool.clone());
    let mut spool_log = Log::open(&dir.join("boxoffice.log"));
    store.on_delivery(move |report| {
        for e in &report.errors {
            spool_log.write(&format!("spool: {e}"));
            eprintln!("boxoffice: warning: {e}; the message waits (`boxoffice spool status`)");
        }
    });
    // Finish whatever a crash interrupted, and move the waiting list along, before anything new.
    let started = store.start_up(&processors);
    for p in &started.problems {
        log.write(&format!("at start: {p}"));
    }
    if started.expired > 0
        || started.reconciled
            != (ReconcileReport {
                in_flight: started.reconciled.in_flight,
                ..Default::default()
            })
    {
        log.write(&format!("at start: {started:?}"));
    }
    let ctx = Ctx {
        store,
        processors,
        gateway,
        spool,
        log,
        started: started.reconciled,
    };
    Ok(ctx)
}

/// A progress bar on standard error for long imports, only when it is a terminal.
struct Progress {
    on: bool,
    last: usize,
}

impl Progress {
    fn new() -> Progress {
        Progress {
            on: std::io::stderr().is_terminal(),
            last: usize::MAX,
        }
    }

    fn show(&mut self, phase: &str, done: usize, total: usize) {
        if !self.on || total < 2000 {
            return;
        }
        let pct = done * 100 / total.max(1);
        if pct == self.last {
            return;
        }
        self.last = pct;
        let filled = pct * 30 / 100;
        eprint!(
            "\r{phase:<9} [{}{}] {pct:>3}% {done}/{total}",
            "#".repeat(filled),
            ".".repeat(30 - filled)
        );
    }

    fn finish(&self) {
        if self.on && self.last != usize::MAX {
            eprintln!();
        }
    }
}

type Secret = zeroize::Zeroizing<String>;

/// The card's number, expiry and CVC for `pay`. With `--card -` whatever the flags do not give
/// comes from standard input, one a line (the number, the expiry, the CVC), or from a prompt
/// that does not echo the number or the CVC when standard input is a terminal: then neither
/// appears in the process's arguments, where other users of the machine can read them.
fn card_details(
    card: &str,
    exp: Option<&str>,
    cvc: Option<&str>,
) -> Result<(Secret, String, Secret), Failure> {
    let warn = |what: &str| {
        eprintln!(
            "boxoffice: warning: {what} on the command line is visible to other users of this \
             machine and stays in the shell's history; use --card - to type it"
        )
    };
    if cvc.is_some() {
        warn("a CVC");
    }
    if card != "-" {
        warn("a card number");
        let (Some(exp), Some(cvc)) = (exp, cvc) else {
            return Err(usage(
                "with --card NUMBER give --exp MM/YY and --cvc CVC too (or use --card -)",
            ));
        };
        return Ok((
            Secret::new(card.to_string()),
            exp.to_string(),
            Secret::new(cvc.to_string()),
        ));
    }
    let mut input = CardInput::new();
    let number = input.next("Card number", true)?;
    let exp = match exp {
        Some(e) => e.to_string(),
        None => input.next("Expiry (MM/YY)", false)?.to_string(),
    };
    let cvc = match cvc {
        Some(c) => Secret::new(c.to_string()),
        None => input.next("CVC", true)?,
    };
    Ok((number, exp, cvc))
}

/// Where `--card -` reads from: a prompt on a terminal, otherwise standard input's lines.
enum CardInput {
    Prompt,
    Lines(std::vec::IntoIter<Secret>),
}

impl CardInput {
    fn new() -> CardInput {
        if std::io::stdin().is_terminal() {
            return CardInput::Prompt;
        }
        // A card's details are a few dozen characters: read no more than a page.
        let mut text = Secret::new(String::new());
        let _ = std::io::Read::read_to_string(
            &mut std::io::Read::take(std::io::stdin().lock(), 4096),
            &mut text,
        );
        let lines: Vec<Secret> = text
            .lines()
            .map(|l| Secret::new(l.trim().to_string()))
            .filter(|l| !l.is_empty())
            .collect();
        CardInput::Lines(lines.into_iter())
    }

    fn next(&mut self, what: &str, hidden: bool) -> Result<Secret, Failure> {
        match self {
            CardInput::Lines(lines) => lines.next().ok_or_else(|| {
                usage(format!(
                    "--card -: standard input ended before the {} (one a line: number, expiry, CVC)",
                    what.to_lowercase()
                ))
            }),
            CardInput::Prompt if hidden => {
                crate::tui::prompt::read_hidden(&format!("{what} (not shown): ")).map_err(usage)
            }
            CardInput::Prompt => {
                eprint!("{what}: ");
                let mut line = Secret::new(String::new());
                std::io::stdin()
                    .read_line(&mut line)
                    .map_err(|e| usage(format!("cannot read the {what}: {e}")))?;
                Ok(Secret::new(line.trim().to_string()))
            }
        }
    }
}

fn print_json<T: Serialize + ?Sized>(out: &mut String, value: &T) -> Result<(), Failure> {
    let text = serde_json::to_string_pretty(value).map_err(|e| anyhow::anyhow!(e))?;
    out.push_str(&text);
    out.push('\n');
    Ok(())
}

/// The sender when none is set: the box office's machine, so a customer can tell which box
/// office wrote (`"Box office kiosk-2" <boxoffice@kiosk-2.localdomain>`).
fn default_sender() -> String {
    let host: String = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .unwrap_or_default()
        .trim()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '.')
        .collect();
    let host = if host.is_empty() {
        "localhost".to_string()
    } else {
        host
    };
    let domain = if host.contains('.') {
        host.clone()
    } else {
        format!("{host}.localdomain")
    };
    format!("\"Box office {host}\" <boxoffice@{domain}>")
}

fn execute(cli: Cli, out: &mut String) -> Result<(), Failure> {
    let Some(command) = &cli.command else {
        return run_app(&cli);
    };
    match command {
        Command::Config { json } => {
            #[derive(Serialize)]
            struct Shown<'a> {
                key: &'a str,
                value: Option<&'a str>,
                source: String,
            }
            let shown: Vec<Shown> = cli
                .in_force
                .iter()
                .map(|(key, value, source)| Shown {
                    key,
                    value: value.as_deref(),
                    source: source.to_string(),
                })
                .collect();
            if *json {
                return print_json(out, &shown);
            }
            for s in &shown {
                outln!(
                    out,
                    "{:<14} {:<44} {}",
                    s.key,
                    printable(s.value.unwrap_or("-")),
                    s.source
                );
            }
        }
        Command::Concerts {
            artist,
            venue,
            from,
            to,
            after,
            before,
            available,
            limit,
            offset,
            json,
        } => {
            let q = ConcertQuery {
                text: None,
                artist: artist.clone(),
                venue: venue.clone(),
                from: from.as_deref().map(search::parse_date).transpose()?,
                to: to.as_deref().map(search::parse_date).transpose()?,
                after: after.as_deref().map(search::parse_time).transpose()?,
                before: before.as_deref().map(search::parse_time).transpose()?,
                available: *available,
                limit: *limit,
                offset: *offset,
            };
            q.validate()?;
            let ctx = open_ctx(&cli)?;
            let store = &ctx.store;
            let found = store.search_concerts(&q)?;
            if *json {
                return print_json(out, &found);
            }
            print_concerts(out, &found);
        }
        Command::Seats { concert, json } => {
            let ctx = open_ctx(&cli)?;
            let store = &ctx.store;
            let id = store.resolve_concert(concert)?;
            let map = store.seat_map(id)?;
            if *json {
                return print_json(out, &map.seats);
            }
            outln!(out, "{}", concert_line(&map.concert));
            let rows: Vec<Vec<String>> = map
                .seats
                .iter()
                .map(|s| {
                    vec![
                        s.seat.clone(),
                        s.category.clone(),
                        Money::new(s.price_cents, &map.concert.currency).to_string(),
                        s.status.to_string(),
                    ]
                })
                .collect();
            print_table(out, &["SEAT", "CATEGORY", "PRICE", "STATUS"], &rows);
            outln!(
                out,
                "{} free, {} held, {} booked of {}",
                map.counts.free,
                map.counts.held,
                map.counts.booked,
                map.concert.capacity
            );
        }
        Command::Hold {
            concert,
            seats,
            customer,
            name,
            phone,
            best,
            category,
            max_price,
            allow_split,
            allow_gap,
            json,
        } => {
            let mut ctx = open_ctx(&cli)?;
            let id = ctx.store.resolve_concert(concert)?;
            let who = CustomerInfo {
                email: customer.clone(),
                name: name.clone(),
                phone: phone.clone(),
            };
            let hold = match best {
                Some(n) => ctx.store.hold_best(
                    id,
                    &BestRequest {
                        count: *n,
                        category: category.clone(),
                        max_price_cents: *max_price,
                        allow_split: *allow_split,
                    },
                    &who,
                )?,
                None if *allow_gap => ctx.store.hold_seats_allowing_gap(id, seats, &who)?,
                None => ctx.store.hold_seats(id, seats, &who)?,
            };
            if hold.gap_override {
                ctx.log.write(&format!(
                    "hold {}: single-seat gap allowed by the clerk",
                    hold.hold_id
                ));
            }
            if *json {
                return print_json(out, &hold);
            }
            if let Some(r) = &hold.replaced {
                outln!(
                    out,
                    "replaced the customer's earlier hold {} ({})",
                    r.hold_id,
                    r.seats.join(" ")
                );
            }
            outln!(out, "hold {}", hold.hold_id);
            outln!(out, "seats   {}", hold.seats.join(" "));
            outln!(
                out,
                "total   {}",
                Money::new(hold.total_cents, &hold.currency)
            );
            outln!(
                out,
                "expires {} (pay with `boxoffice pay {} --cash CENTS` or `--card -`)",
                hold.expires_at
                    .with_timezone(&chrono::Local)
                    .format("%H:%M:%S"),
                hold.hold_id
            );
        }
        Command::Waitlist { action } => {
            let mut ctx = open_ctx(&cli)?;
            match action {
                WaitlistAction::Join {
                    concert,
                    customer,
                    name,
                    phone,
                    party,
                    category,
                    json,
                } => {
                    let id = ctx.store.resolve_concert(concert)?;
                    let entry = ctx.store.join_waitlist(
                        id,
                        &CustomerInfo {
                            email: customer.clone(),
                            name: name.clone(),
                            phone: phone.clone(),
                        },
                        *party,
                        category.as_deref(),
                    )?;
                    if *json {
                        return print_json(out, &entry);
                    }
                    outln!(
                        out,
                        "{} is number {} on the waiting list (party of {})",
                        entry.customer,
                        entry.position.unwrap_or_default(),
                        entry.party
                    );
                }
                WaitlistAction::List { concert, json } => {
                    let id = ctx.store.resolve_concert(concert)?;
                    let list = ctx.store.waitlist(id)?;
                    if *json {
                        return print_json(out, &list);
                    }
                    let rows: Vec<Vec<String>> = list
                        .iter()
                        .map(|e| {
                            vec![
                                e.position.map(|p| p.to_string()).unwrap_or("-".into()),
                                e.customer.clone(),
                                e.party.to_string(),
                                e.state.clone(),
                                e.offer.clone().unwrap_or_default(),
                                e.offer_expires_at
                                    .map(|t| {
                                        t.with_timezone(&chrono::Local)
                                            .format("%a %H:%M")
                                            .to_string()
                                    })
                                    .unwrap_or_default(),
                            ]
                        })
                        .collect();
                    print_table(
                        out,
                        &["POS", "CUSTOMER", "PARTY", "STATE", "OFFER", "PAY BY"],
                        &rows,
                    );
                }
                WaitlistAction::Leave {
                    concert,
                    customer,
                    json,
                } => {
                    let id = ctx.store.resolve_concert(concert)?;
                    let entry = ctx.store.leave_waitlist(id, customer)?;
                    if *json {
                        return print_json(out, &entry);
                    }
                    outln!(out, "{} left the waiting list", entry.customer);
                }
            }
        }
        Command::Venue { action } => {
            let mut ctx = open_ctx(&cli)?;
            match action {
                VenueAction::Add {
                    layout_file,
                    name,
                    city,
                    slug,
                    json,
                } => {
                    let text = std::fs::read_to_string(layout_file).map_err(|e| {
                        usage(format!("cannot read {}: {e}", layout_file.display()))
                    })?;
                    let v = ctx.store.add_venue_from_layout(
                        &text,
                        name.as_deref(),
                        city.as_deref(),
                        slug.as_deref(),
                    )?;
                    ctx.log.write(&format!("venue added: {}", v.slug));
                    if *json {
                        return print_json(out, &v);
                    }
                    outln!(
                        out,
                        "added {} ({}, {}): {} seats; check it with `boxoffice venue show {}`",
                        v.name,
                        v.city,
                        v.slug,
                        v.capacity,
                        v.slug
                    );
                }
                VenueAction::Show { venue } => {
                    let (v, layout) = ctx.store.venue(venue)?;
                    outln!(out, "# {} seats, slug {}", v.capacity, v.slug);
                    out.push_str(&boxoffice::catalog::render_layout(&layout));
                }
                VenueAction::List { json } => {
                    let venues = ctx.store.venues()?;
                    if *json {
                        return print_json(out, &venues);
                    }
                    let rows: Vec<Vec<String>> = venues
                        .iter()
                        .map(|v| {
                            vec![
                                v.slug.clone(),
                                v.name.clone(),
                                v.city.clone(),
                                v.capacity.to_string(),
                            ]
                        })
                        .collect();
                    print_table(out, &["SLUG", "NAME", "CITY", "SEATS"], &rows);
                }
            }
        }
        Command::Import { file, json } => {
            let mut ctx = open_ctx(&cli)?;
            let text = std::fs::read_to_string(file)
                .map_err(|e| usage(format!("cannot read {}: {e}", file.display())))?;
            let mut bar = Progress::new();
            let report = ctx.store.import_concerts(&text, &mut |phase, done, total| {
                bar.show(phase, done, total)
            });
            bar.finish();
            let report = report?;
            ctx.log
                .write(&format!("import {}: {report:?}", file.display()));
            if *json {
                return print_json(out, &report);
            }
            outln!(
                out,
                "added {}, updated {}, unchanged {}{}",
                report.added,
                report.updated,
                report.unchanged,
                if report.rescheduled > 0 {
                    format!(" ({} rescheduled, ticket holders told)", report.rescheduled)
                } else {
                    String::new()
                }
            );
        }
        Command::BenchUi {
            concert,
            frames,
            first_frame_only,
        } => {
            let started = std::time::Instant::now();
            let ctx = open_ctx(&cli)?;
            let concert = concert
                .as_deref()
                .map(|c| ctx.store.resolve_concert(c))
                .transpose()?;
            let opts = app_options(&cli, &ctx);
            let app = crate::tui::app::App::new(
                ctx.store,
                ctx.processors,
                opts,
                crate::tui::theme::Theme::new(true),
            );
            out.push_str(&crate::tui::bench::run(
                app,
                started,
                concert,
                (*frames).max(10),
                *first_frame_only,
            ));
        }
        Command::Export { csv: _, json, bom } => {
            let ctx = open_ctx(&cli)?;
            if *json {
                return print_json(out, &ctx.store.export_catalog()?);
            }
            if *bom {
                out.push('\u{feff}');
            }
            out.push_str(&ctx.store.export_csv()?);
        }
        Command::Concert { action } => {
            let mut ctx = open_ctx(&cli)?;
            match action {
                ConcertAction::Reschedule { concert, to, json } => {
                    let id = ctx.store.resolve_concert(concert)?;
                    let when = chrono::NaiveDateTime::parse_from_str(to.trim(), "%Y-%m-%d %H:%M")
                        .map_err(|_| {
                        usage(format!(
                            "`{to}` is not a date and time: use \"YYYY-MM-DD HH:MM\" (at the venue)"
                        ))
                    })?;
                    let r = ctx.store.reschedule_concert(id, when)?;
                    ctx.log.write(&format!("rescheduled concert {id} to {to}"));
                    if *json {
                        return print_json(out, &r);
                    }
                    let c = ctx.store.concert(id)?;
                    outln!(out, "{}", concert_line(&c));
                    outln!(out, "{} ticket holder(s) told", r.notified);
                }
                ConcertAction::Cancel {
                    concert,
                    reason,
                    yes,
                    json,
                } => {
                    let id = ctx.store.resolve_concert(concert)?;
                    let c = ctx.store.concert(id)?;
                    if !*yes {
                        if !std::io::stdin().is_terminal() {
                            return Err(usage(
                                "cancelling a concert refunds every booking: add --yes to confirm",
                            ));
                        }
                        eprint!(
                            "Cancel {} ({} booked seats will be refunded)? Type yes: ",
                            concert_line(&c),
                            c.booked_seats
                        );
                        let mut answer = String::new();
                        let _ = std::io::stdin().read_line(&mut answer);
                        if answer.trim() != "yes" {
                            return Err(usage("not cancelled"));
                        }
                    }
                    let r = ctx.store.cancel_concert(id, reason, &ctx.processors)?;
                    ctx.log.write(&format!("cancelled concert {id}: {r:?}"));
                    if *json {
                        return print_json(out, &r);
                    }
                    outln!(
                        out,
                        "cancelled {}: {} bookings refunded ({}), {} holds released, {} on the waiting list told",
                        concert_line(&c),
                        r.bookings_cancelled,
                        Money::new(r.refunded_cents, &c.currency),
                        r.holds_released,
                        r.waitlist_told
                    );
                    if r.refunds_pending_cents > 0 {
                        outln!(
                            out,
                            "{} could not be refunded yet; `boxoffice reconcile` finishes it",
                            Money::new(r.refunds_pending_cents, &c.currency)
                        );
                    }
                }
                ConcertAction::Rules {
                    concert,
                    ticket_limit,
                    hold_minutes,
                    offer_minutes,
                    json,
                } => {
                    let id = ctx.store.resolve_concert(concert)?;
                    ctx.store.set_concert_rules(
                        id,
                        *ticket_limit,
                        *hold_minutes,
                        *offer_minutes,
                    )?;
                    let c = ctx.store.concert(id)?;
                    if *json {
                        return print_json(out, &c);
                    }
                    outln!(
                        out,
                        "{}: {} tickets per customer, holds last {} min, waiting-list offers {} min",
                        concert_line(&c),
                        c.ticket_limit,
                        c.hold_minutes,
                        c.offer_minutes
                    );
                }
            }
        }
        Command::Release { hold, json } => {
            let mut ctx = open_ctx(&cli)?;
            let store = &mut ctx.store;
            let hold = store.release_hold(hold)?;
            if *json {
                return print_json(out, &hold);
            }
            outln!(out, "released {} ({})", hold.hold_id, hold.seats.join(" "));
        }
        Command::Pay {
            hold,
            cash,
            card,
            exp,
            cvc,
            json,
        } => {
            let mut ctx = open_ctx(&cli)?;
            let tender = match (cash, card) {
                (Some(cash), None) => Tender::Cash {
                    tendered_cents: cash
                        .trim()
                        .parse()
                        .ok()
                        .filter(|c: &i64| *c >= 0)
                        .ok_or_else(|| {
                            // A card number typed here is never repeated back.
                            let digits = cash.chars().filter(char::is_ascii_digit).count();
                            let got = if digits > 10 || cash.chars().count() > 14 {
                                format!("{} characters", cash.chars().count())
                            } else {
                                format!("`{cash}`")
                            };
                            usage(format!(
                                "--cash takes whole cents, e.g. 5000 for 50.00 (got {got})"
                            ))
                        })?,
                },
                (None, Some(card)) => {
                    let (number, exp, cvc) = card_details(card, exp.as_deref(), cvc.as_deref())?;
                    Tender::Card(Card::parse(&number, &exp, &cvc, ctx.store.now())?)
                }
                _ => {
                    return Err(usage(
                        "say how the customer pays: --cash CENTS, or --card NUMBER --exp MM/YY --cvc CVC",
                    ));
                }
            };
            let receipt = match ctx.store.pay(hold, &tender, &ctx.processors) {
                Ok(r) => r,
                Err(Error::Declined {
                    reason,
                    concert_id,
                    seats,
                    customer,
                }) => {
                    ctx.log.write(&format!("declined: hold {hold}: {reason}"));
                    return Err(Failure {
                        code: 1,
                        message: format!(
                            "payment declined: {reason}. The seats were released; to hold them again:\n  boxoffice hold {concert_id} {} --customer {customer}",
                            seats.join(" ")
                        ),
                    });
                }
                Err(e) => return Err(e.into()),
            };
            ctx.log.write(&format!(
                "booked {} ({} {} by {})",
                receipt.booking_code, receipt.total_cents, receipt.currency, receipt.method
            ));
            let delivered = ctx.delivered();
            if *json {
                return print_json(out, &receipt);
            }
            outln!(out, "booked  {}", receipt.booking_code);
            outln!(out, "seats   {}", receipt.seats.join(" "));
            outln!(
                out,
                "total   {}",
                Money::new(receipt.total_cents, &receipt.currency)
            );
            if receipt.method == "cash" {
                outln!(
                    out,
                    "change  {}",
                    Money::new(receipt.change_cents, &receipt.currency)
                );
            }
            for f in delivered.delivered {
                outln!(
                    out,
                    "{:<7} {} ({})",
                    f.channel,
                    f.recipient,
                    f.path.display()
                );
            }
        }
        Command::Reconcile { json } => {
            let mut ctx = open_ctx(&cli)?;
            let again = ctx.store.reconcile(&ctx.processors)?;
            ctx.log.write(&format!("reconcile: {again:?}"));
            // Start-up has just done the work: what it did is this command's answer too.
            let mut report = std::mem::take(&mut ctx.started);
            report.absorb(again);
            if *json {
                return print_json(out, &report);
            }
            outln!(
                out,
                "confirmed {} ({}), released {}, refunded {}, refunds completed {}, in flight {}, processor unreachable {}",
                report.confirmed.len(),
                report.confirmed.join(" "),
                report.released,
                report.refunded,
                report.refunds_completed,
                report.in_flight,
                report.unreachable
            );
        }
        Command::Audit { json } => {
            let mut ctx = open_ctx(&cli)?;
            let audit = ctx.store.audit(&ctx.processors)?;
            ctx.log.write(&format!(
                "audit: {} unmatched, charges {} refunds {} bookings {}",
                audit.unmatched.len(),
                audit.charges_cents,
                audit.refunds_cents,
                audit.bookings_cents
            ));
            if *json {
                print_json(out, &audit)?;
            } else {
                let money = |c| Money::new(c, "EUR").plain();
                outln!(
                    out,
                    "{:<10} {:>14} {:>14} {:>14}",
                    "method",
                    "charges",
                    "refunds",
                    "bookings"
                );
                for m in &audit.by_method {
                    outln!(
                        out,
                        "{:<10} {:>14} {:>14} {:>14}",
                        m.method,
                        money(m.charges_cents),
                        money(m.refunds_cents),
                        money(m.bookings_cents)
                    );
                }
                outln!(
                    out,
                    "{:<10} {:>14} {:>14} {:>14}",
                    "total",
                    money(audit.charges_cents),
                    money(audit.refunds_cents),
                    money(audit.bookings_cents)
                );
                if audit.is_clean() {
                    outln!(out, "every charge has its booking or its refund");
                }
                for u in &audit.unmatched {
                    outln!(
                        out,
                        "unmatched {} {}: {}",
                        printable(&u.reference),
                        money(u.amount_cents),
                        u.why
                    );
                }
            }
            if !audit.is_clean() {
                return Err(Failure {
                    code: 1,
                    message: format!(
                        "{} {} not match",
                        audit.unmatched.len(),
                        if audit.unmatched.len() == 1 {
                            "entry does"
                        } else {
                            "entries do"
                        }
                    ),
                });
            }
        }
        Command::Spool { action } => {
            let mut ctx = open_ctx(&cli)?;
            let json = match action {
                SpoolAction::Status { json } => *json,
                SpoolAction::Flush { json } => {
                    let report = ctx.store.deliver_outbox(&ctx.spool, true)?;
                    if !*json {
                        outln!(out, "delivered {}", report.delivered.len());
                        for e in &report.errors {
                            outln!(out, "error     {e}");
                        }
                    }
                    *json
                }
            };
            let status = ctx.store.outbox_status()?;
            if json {
                return print_json(out, &status);
            }
            outln!(
                out,
                "spool {}: {} delivered, {} pending, {} failed",
                ctx.spool.root().display(),
                status.delivered,
                status.pending,
                status.failed
            );
            let (email_to, sms_to) = ctx.spool.routes();
            outln!(out, "email to {email_to}");
            outln!(out, "sms to   {sms_to}");
            for r in &status.by_route {
                outln!(out, "{:<12} {} delivered", r.via, r.delivered);
            }
            if status.missing > 0 {
                outln!(
                    out,
                    "{} delivered {} no longer in the spool (moved or deleted since)",
                    status.missing,
                    if status.missing == 1 {
                        "message is"
                    } else {
                        "messages are"
                    }
                );
            }
            for w in &status.waiting {
                outln!(
                    out,
                    "#{} {} {} to {}: {} after {} attempts{}",
                    w.id,
                    w.kind,
                    w.channel,
                    w.recipient,
                    w.state,
                    w.attempts,
                    w.last_error
                        .as_deref()
                        .map(|e| format!(" ({e})"))
                        .unwrap_or_default()
                );
            }
        }
        Command::Booking { code, json } => {
            let ctx = open_ctx(&cli)?;
            let store = &ctx.store;
            let b = store.booking(code)?;
            if *json {
                return print_json(out, &b);
            }
            outln!(out, "booking {} ({})", b.booking_code, b.state);
            outln!(out, "{}", concert_line(&b.concert));
            outln!(
                out,
                "for     {}{}",
                b.customer
                    .name
                    .as_deref()
                    .map(|n| format!("{n} "))
                    .unwrap_or_default(),
                b.customer.email
            );
            let seats: Vec<&str> = b.seats.iter().map(|s| s.seat.as_str()).collect();
            outln!(out, "seats   {}", seats.join(" "));
            outln!(
                out,
                "total   {} ({})",
                Money::new(b.total_cents, &b.currency),
                b.method
            );
            if b.refunded_cents > 0 {
                outln!(out, "refund  {}", Money::new(b.refunded_cents, &b.currency));
            }
        }
        Command::Cancel { code, json } => {
            let mut ctx = open_ctx(&cli)?;
            let c = ctx.store.cancel_booking(code, &ctx.processors)?;
            ctx.log.write(&format!(
                "cancelled {} (refunded {}, pending {})",
                c.booking_code, c.refunded_cents, c.refund_pending_cents
            ));
            if *json {
                return print_json(out, &c);
            }
            outln!(
                out,
                "cancelled {} ({} free again)",
                c.booking_code,
                c.seats.join(" ")
            );
            outln!(
                out,
                "refund    {} ({})",
                Money::new(c.refunded_cents, &c.currency),
                c.method
            );
            if c.refund_pending_cents > 0 {
                outln!(
                    out,
                    "pending   {} could not be refunded yet; `boxoffice reconcile` retries it",
                    Money::new(c.refund_pending_cents, &c.currency)
                );
            }
        }
    }
    Ok(())
}

/// What the terminal app is told about where things are and how it runs.
fn app_options(cli: &Cli, ctx: &Ctx) -> crate::tui::app::Options {
    crate::tui::app::Options {
        kiosk: cli.kiosk,
        idle: std::time::Duration::from_secs(cli.idle.unwrap_or(120).max(5)),
        gateway: ctx.gateway.clone(),
        spool: ctx.spool.clone(),
        db: ctx.store.path().to_path_buf(),
        utc_offset: *chrono::Local::now().offset(),
    }
}

/// `boxoffice` with no subcommand: the terminal app.
fn run_app(cli: &Cli) -> Result<(), Failure> {
    let ctx = open_ctx(cli)?;
    let db = ctx.store.path().to_path_buf();
    let dir = db.parent().map(PathBuf::from).unwrap_or_default();
    let opts = app_options(cli, &ctx);
    let Ctx {
        store,
        processors,
        mut log,
        ..
    } = ctx;
    log.write(&format!(
        "app started (kiosk: {}, demo: {})",
        cli.kiosk, cli.demo
    ));
    let app = crate::tui::app::App::new(
        store,
        processors,
        opts,
        crate::tui::theme::Theme::from_env(),
    );
    let result = crate::tui::run(app);
    if cli.demo && cli.db.is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    result.map_err(|e| Failure {
        code: 1,
        message: format!("{e:#}"),
    })
}

fn concert_line(c: &ConcertSummary) -> String {
    format!(
        "#{} {} - {}, {} {}, {}",
        c.id,
        c.artist,
        c.title,
        c.venue,
        c.city,
        c.local_start.format("%a %Y-%m-%d %H:%M")
    )
}

fn print_concerts(out: &mut String, found: &[ConcertSummary]) {
    if found.is_empty() {
        outln!(out, "no concerts match");
        return;
    }
    let rows: Vec<Vec<String>> = found
        .iter()
        .map(|c| {
            let free = if c.status == "cancelled" {
                "CANCELLED".to_string()
            } else if c.sold_out {
                "SOLD OUT".to_string()
            } else {
                format!("{}/{}", c.free_seats, c.capacity)
            };
            vec![
                c.id.to_string(),
                c.local_start.format("%a %Y-%m-%d").to_string(),
                c.local_start.format("%H:%M").to_string(),
                c.artist.clone(),
                c.venue.clone(),
                free,
                if c.min_price_cents == c.max_price_cents {
                    Money::new(c.min_price_cents, &c.currency).to_string()
                } else {
                    format!(
                        "{}-{}.{:02}",
                        Money::new(c.min_price_cents, &c.currency),
                        c.max_price_cents / 100,
                        c.max_price_cents % 100
                    )
                },
            ]
        })
        .collect();
    print_table(
        out,
        &["ID", "DATE", "TIME", "ARTIST", "VENUE", "FREE", "PRICE"],
        &rows,
    );
}

/// Aligned columns by display width (so CJK and emoji keep the table straight).
/// Control characters are shown escaped, never sent to the terminal.
fn print_table(out: &mut String, header: &[&str], rows: &[Vec<String>]) {
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|r| r.iter().map(|c| crate::tui::ui::safe(c)).collect())
        .collect();
    let mut widths: Vec<usize> = header.iter().map(|h| h.width()).collect();
    for r in &rows {
        for (i, cell) in r.iter().enumerate() {
            widths[i] = widths[i].max(cell.width().min(40));
        }
    }
    let line = |out: &mut String, cells: Vec<String>| {
        let mut text = String::new();
        for (i, cell) in cells.iter().enumerate() {
            let cell = truncate(cell, widths[i]);
            text.push_str(&cell);
            if i + 1 < cells.len() {
                text.push_str(&" ".repeat(widths[i] - cell.width() + 2));
            }
        }
        outln!(out, "{}", text.trim_end());
    };
    line(out, header.iter().map(|h| h.to_string()).collect());
    for r in rows {
        line(out, r);
    }
}

fn truncate(s: &str, width: usize) -> String {
    if s.width() <= width {
        return s.to_string();
    }
    let mut out = String::new();
    for c in s.chars() {
        if out.width() + c.to_string().width() + 1 > width {
            break;
        }
        out.push(c);
    }
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

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

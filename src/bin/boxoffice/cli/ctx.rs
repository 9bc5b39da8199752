//! What every command opens: the store (with the start-up chores done), the processors, the
//! spool and the log.

use super::*;

/// The box office's clock: the real one. `--now`/`BOXOFFICE_NOW` (a moment of a test's
/// choosing) is for test builds, and in a release build for a throwaway demo only (`--demo`
/// without `--db`): a real box office's holds, on-sale times, door and takings keep the real
/// time, whoever sets the variable.
pub(super) fn clock(cli: &Cli) -> Result<Arc<dyn Clock>, Failure> {
    chosen_clock(
        cli.now.as_deref(),
        cfg!(debug_assertions) || (cli.demo && cli.db.is_none()),
    )
}

/// [`clock`], with whether a chosen moment is allowed here.
fn chosen_clock(now: Option<&str>, allowed: bool) -> Result<Arc<dyn Clock>, Failure> {
    match now {
        None => Ok(Arc::new(SystemClock)),
        Some(_) if !allowed => Err(usage(
            "--now / BOXOFFICE_NOW is for tests and for a throwaway demo (`boxoffice --demo \
             --now ...`); a box office keeps the real time",
        )),
        Some(t) => {
            let t = chrono::DateTime::parse_from_rfc3339(t)
                .map_err(|_| usage(format!("BOXOFFICE_NOW `{t}` is not an RFC 3339 time")))?;
            Ok(Arc::new(ManualClock::new(t.with_timezone(&chrono::Utc))))
        }
    }
}

pub(super) fn default_db_path() -> anyhow::Result<PathBuf> {
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
pub(super) struct Ctx {
    pub(super) store: Store,
    pub(super) processors: Processors,
    /// The card gateway's ledger the processors use.
    pub(super) gateway: PathBuf,
    pub(super) spool: Spool,
    pub(super) log: Log,
    /// What start-up's reconcile did (`reconcile` reports it with its own).
    pub(super) started: ReconcileReport,
}

impl Ctx {
    /// What delivering messages did since the last call (the store delivers after each
    /// change; a message that could not leave was said as it happened, see `open_ctx`).
    pub(super) fn delivered(&mut self) -> SpoolReport {
        self.store.take_delivery()
    }
}

/// Where the database is: --db, or a fresh throwaway directory for --demo, or the default.
pub(super) fn db_path(cli: &Cli) -> Result<PathBuf, Failure> {
    Ok(match (&cli.db, cli.demo) {
        (Some(p), _) => match boxoffice::store::engine::Location::parse(&p.to_string_lossy())? {
            boxoffice::store::engine::Location::Sqlite(p) => p,
            // The URL as given: `Store::open` takes it (a password is never in it).
            boxoffice::store::engine::Location::Postgres(_) => p.clone(),
        },
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

/// Where this machine keeps what is its own (the spool, the log, the simulated card gateway
/// unless `--gateway` names another): beside a SQLite file; for a PostgreSQL box office, shared
/// by several machines, the user's data directory on this one.
pub(super) fn local_dir(db: &std::path::Path) -> Result<PathBuf, Failure> {
    if boxoffice::store::engine::Location::parse(&db.to_string_lossy())?.is_postgres() {
        return Ok(default_db_path()?
            .parent()
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(".")));
    }
    Ok(db
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(".")))
}

pub(super) fn open_ctx(cli: &Cli) -> Result<Ctx, Failure> {
    let path = db_path(cli)?;
    let dir = local_dir(&path)?;
    let clock = clock(cli)?;
    let mut store = Store::open(&path, clock.clone())?;
    // Row by row over the network the demo takes a while: say so before the wait.
    if store.kind() == boxoffice::store::Kind::Postgres && store.wants_demo()? {
        eprintln!("boxoffice: filling in the demo catalog (about 20 s; `init` makes an empty one)");
    }
    store.seed_demo_if_empty()?;
    let gateway = cli
        .gateway
        .clone()
        .unwrap_or_else(|| dir.join("gateway.db"));
    let processors = Processors::with_gateway(&gateway, clock)?;
    let mut spool = Spool::new(cli.spool.clone().unwrap_or_else(|| dir.join("spool")))
        .with_from(cli.from.as_deref().unwrap_or(&default_sender()))?;
    // The CAs the relay's and the gateway's certificates must come from, if not the public ones.
    let ca = match (
        &cli.ca_file,
        cli.smtp.is_some() || cli.sms_gateway.is_some(),
    ) {
        (Some(file), true) => Some(
            std::fs::read(file)
                .map_err(|e| usage(format!("cannot read the CA file {}: {e}", file.display())))?,
        ),
        _ => None,
    };
    if let Some(url) = &cli.smtp {
        spool = spool.with_mail_relay(
            boxoffice::notify::relay::MailRelay::new(
                url,
                cli.smtp_password.as_deref(),
                ca.as_deref(),
            )
            .map_err(usage)?,
        );
    }
    if let Some(url) = &cli.sms_gateway {
        spool = spool.with_sms_gateway(
            boxoffice::notify::relay::SmsGateway::new(url, cli.sms_token.as_deref(), ca.as_deref())
                .map_err(usage)?,
        );
    }
    let mut log = Log::open(&dir.join("boxoffice.log"));
    store.set_operator(boxoffice::store::Operator {
        clerk: cli.clerk.clone().filter(|c| !c.trim().is_empty()),
        terminal: Some(cli.terminal.clone().unwrap_or_else(host_name)),
    })?;
    store.set_spool(spool.clone());
    let mut spool_log = Log::open(&dir.join("boxoffice.log"));
    store.on_delivery(move |report| {
        for e in &report.errors {
            spool_log.write(&format!("spool: {e}"));
            eprintln!("boxoffice: warning: {e}; the message waits (`boxoffice spool status`)");
        }
    });
    // What leaves through the relay or the SMS gateway goes on its own thread: nothing this
    // command does waits on a server. It gets SEND_BUDGET after the command's output.
    if let Some(sender) = store.start_sender(std::time::Duration::from_secs(30)) {
        *SENDING.lock().unwrap_or_else(|e| e.into_inner()) = Some(sender);
    }
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
    // The start-up chores above are the box office's own; from here on this terminal looks only.
    if cli.read_only {
        store.set_read_only();
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

/// The sender of the messages this command's box office sends through a relay or gateway.
static SENDING: std::sync::Mutex<Option<boxoffice::chores::Sender>> = std::sync::Mutex::new(None);

/// How long a command waits, after its output, for messages still going out through the
/// mail relay or the SMS gateway. What is not sent by then waits in the outbox for the next
/// command, the app or `boxoffice spool send`.
pub(super) const SEND_BUDGET: std::time::Duration = std::time::Duration::from_secs(3);

/// The sender this process started, for the terminal app to keep (it sends all day).
pub(super) fn take_sender() -> Option<boxoffice::chores::Sender> {
    SENDING.lock().unwrap_or_else(|e| e.into_inner()).take()
}

/// After a command's output: gives the messages still going out [`SEND_BUDGET`] at most, and
/// says what went wrong and what still waits.
pub(super) fn finish_sending() {
    let Some(sender) = take_sender() else {
        return;
    };
    let (report, finished) = sender.finish(SEND_BUDGET);
    for e in &report.errors {
        eprintln!("boxoffice: warning: {e}; the message waits (`boxoffice spool status`)");
    }
    if !finished {
        eprintln!(
            "boxoffice: messages are still on their way to the mail relay or SMS gateway; they \
             wait in the outbox (`boxoffice spool send` sends them)"
        );
    }
}

/// The machine's host name (`localhost` if it has none): a terminal's name unless set.
pub(super) fn host_name() -> String {
    let host: String = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .unwrap_or_default()
        .trim()
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '.')
        .collect();
    if host.is_empty() {
        "localhost".to_string()
    } else {
        host
    }
}

/// The sender when none is set: the box office's machine, so a customer can tell which box
/// office wrote (`"Box office kiosk-2" <boxoffice@kiosk-2.localdomain>`).
pub(super) fn default_sender() -> String {
    let host = host_name();
    let domain = if host.contains('.') {
        host.clone()
    } else {
        format!("{host}.localdomain")
    };
    format!("\"Box office {host}\" <boxoffice@{domain}>")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Where a chosen moment is not allowed (a release build on a real box office), it is
    /// refused with a word on why, never used.
    #[test]
    fn a_chosen_moment_is_refused_where_the_real_time_must_rule() {
        let refused = chosen_clock(Some("2099-01-01T00:00:00Z"), false)
            .err()
            .unwrap();
        assert_eq!(refused.code, 2);
        assert!(
            refused.message.contains("keeps the real time"),
            "{}",
            refused.message
        );
        let real = chosen_clock(None, false).ok().unwrap();
        assert!((real.now() - chrono::Utc::now()).num_seconds().abs() < 5);
        let chosen = chosen_clock(Some("2099-01-01T00:00:00Z"), true)
            .ok()
            .unwrap();
        assert_eq!(chosen.now().to_rfc3339(), "2099-01-01T00:00:00+00:00");
    }
}

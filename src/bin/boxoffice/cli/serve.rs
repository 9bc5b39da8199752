//! `boxoffice serve`: what it was told (flags, environment, the settings file's `listen`,
//! `host_key`, `clerks`, `max_sessions`), turned into the server's settings; the server itself
//! is `crate::serve`.

use super::*;
use crate::settings::Source;

/// Where `serve` listens unless told: this machine only (`--listen 0.0.0.0:2222` for others).
const LISTEN: &str = "127.0.0.1:2222";
const MAX_SESSIONS: usize = 32;
/// A session with no key for this long ends, unless `idle` is set.
const SESSION_IDLE: u64 = 600;
const HOST_KEY: &str = "ssh_host_ed25519_key";

/// `boxoffice serve`.
#[derive(Debug, Default, clap::Args)]
pub(super) struct ServeArgs {
    /// Where to listen [default: 127.0.0.1:2222, this machine only]
    #[arg(long, env = "BOXOFFICE_LISTEN", value_name = "ADDR:PORT")]
    pub(super) listen: Option<String>,

    /// The server's private key (OpenSSH format), made on first start [default:
    /// ssh_host_ed25519_key in the data directory]
    #[arg(long, env = "BOXOFFICE_HOST_KEY", value_name = "FILE")]
    pub(super) host_key: Option<PathBuf>,

    /// The clerks who may come in: public keys in authorized_keys format, each with
    /// clerk="NAME" (and kiosk, door=CONCERT, read-only) in front
    #[arg(long, env = "BOXOFFICE_CLERKS", value_name = "FILE")]
    pub(super) clerks: Option<PathBuf>,

    /// Let anyone in (any key, or none), each on a throwaway demo removed when they leave
    #[arg(long)]
    pub(super) demo: bool,

    /// Sessions at once; more are told the box office is full [default: 32]
    #[arg(long, env = "BOXOFFICE_MAX_SESSIONS", value_name = "N")]
    pub(super) max_sessions: Option<usize>,
}

/// The settings file's serve keys, and where each value in force came from (shown by
/// `config` whatever the command).
pub(super) fn apply_settings(
    cli: &mut Cli,
    matches: &clap::ArgMatches,
    file: &crate::settings::File,
    file_path: Option<&std::path::Path>,
) {
    let sub = matches.subcommand_matches("serve");
    let given = |id: &str, env: &'static str| match sub.and_then(|m| m.value_source(id)) {
        Some(clap::parser::ValueSource::CommandLine) => Some(Source::Flag),
        Some(clap::parser::ValueSource::EnvVariable) => Some(Source::Env(env)),
        _ => None,
    };
    let from_file = || Source::File(file_path.map(PathBuf::from).unwrap_or_default());
    let mut args = match &mut cli.command {
        Some(Command::Serve(a)) => std::mem::take(a),
        _ => ServeArgs::default(),
    };
    macro_rules! key {
        ($field:ident, $key:literal, $env:literal, $default:expr, $show:expr) => {{
            let source = match given($key, $env) {
                Some(s) => s,
                None if file.$field.is_some() => {
                    args.$field = file.$field.clone();
                    from_file()
                }
                None => Source::Default,
            };
            let shown = args.$field.as_ref().map($show).or_else(|| $default);
            cli.in_force.push(($key, shown, source));
        }};
    }
    key!(
        listen,
        "listen",
        "BOXOFFICE_LISTEN",
        Some(LISTEN.to_string()),
        String::clone
    );
    key!(
        host_key,
        "host_key",
        "BOXOFFICE_HOST_KEY",
        Some(format!("{HOST_KEY} in the data directory")),
        |p: &PathBuf| p.display().to_string()
    );
    key!(clerks, "clerks", "BOXOFFICE_CLERKS", None, |p: &PathBuf| p
        .display()
        .to_string());
    key!(
        max_sessions,
        "max_sessions",
        "BOXOFFICE_MAX_SESSIONS",
        Some(MAX_SESSIONS.to_string()),
        usize::to_string
    );
    if let Some(Command::Serve(a)) = &mut cli.command {
        *a = args;
    }
}

pub(super) fn serve(cli: &Cli, args: &ServeArgs, _out: &mut String) -> Result<(), Failure> {
    #[cfg(not(unix))]
    {
        let _ = (cli, args);
        return Err(usage("serve runs on Unix only"));
    }
    #[cfg(unix)]
    {
        let demo = args.demo || cli.demo;
        // The box office the clerks sell from; a demo-only server has none of its own.
        let db = match &cli.db {
            Some(_) => db_path(cli)?,
            None => default_db_path()?,
        };
        let dir = local_dir(&db)?;
        let idle_set = cli
            .in_force
            .iter()
            .any(|(key, _, source)| *key == "idle" && *source != Source::Default);
        let idle = match cli.idle {
            Some(s) if idle_set => s.max(1),
            _ => SESSION_IDLE,
        };
        let settings = crate::serve::Settings {
            listen: args.listen.clone().unwrap_or_else(|| LISTEN.into()),
            host_key: args.host_key.clone().unwrap_or_else(|| dir.join(HOST_KEY)),
            clerks: args.clerks.clone(),
            demo,
            max_sessions: args.max_sessions.unwrap_or(MAX_SESSIONS).max(1),
            idle: std::time::Duration::from_secs(idle),
            exe: std::env::current_exe()
                .map_err(|e| anyhow::anyhow!("cannot find this program to run it: {e}"))?,
            clerk_args: clerk_args(cli, &db),
            clerk_env: clerk_env(cli),
            log: dir.join("boxoffice.log"),
        };
        let clerks = crate::serve::check(&settings).map_err(usage)?;
        if args.clerks.is_some() {
            // The box office the clerks sell from opens (and is made, and migrated) once, here:
            // a mistake in --db shows now, not in every clerk's session.
            let ctx = open_ctx(cli)?;
            drop(ctx);
        }
        crate::serve::run(settings, clerks, &mut |line| {
            println!("{line}");
            let _ = std::io::stdout().flush();
        })?;
        Ok(())
    }
}

/// What every clerk's session is started with: the box office and the settings `serve` runs
/// with. The relay's and the gateway's addresses go in the environment ([`clerk_env`]), and
/// the secrets stay where they were (the environment, the settings file): never in arguments,
/// which every user of the machine can read.
fn clerk_args(cli: &Cli, db: &std::path::Path) -> Vec<std::ffi::OsString> {
    let mut a: Vec<std::ffi::OsString> = vec!["--db".into(), db.into()];
    let mut flag = |name: &str, value: Option<std::ffi::OsString>| {
        if let Some(v) = value {
            a.push(name.into());
            a.push(v);
        }
    };
    flag("--config", cli.settings_file.clone().map(Into::into));
    flag("--spool", cli.spool.clone().map(Into::into));
    flag("--gateway", cli.gateway.clone().map(Into::into));
    flag("--ca-file", cli.ca_file.clone().map(Into::into));
    flag("--from", cli.from.clone().map(Into::into));
    flag("--now", cli.now.clone().map(Into::into));
    flag("--idle", cli.idle.map(|s| s.to_string().into()));
    a
}

/// The relay's and the SMS gateway's addresses for a clerk's session (a URL may carry a user
/// name, or a password someone wrote into it).
fn clerk_env(cli: &Cli) -> Vec<(&'static str, String)> {
    [
        ("BOXOFFICE_SMTP", cli.smtp.clone()),
        ("BOXOFFICE_SMS_GATEWAY", cli.sms_gateway.clone()),
    ]
    .into_iter()
    .filter_map(|(k, v)| Some((k, v?)))
    .collect()
}

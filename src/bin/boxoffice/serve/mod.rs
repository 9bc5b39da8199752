//! `boxoffice serve`: the box office as its own SSH server (russh). Every session gets the
//! terminal app and nothing else: the binary re-executed on a pseudo-terminal of its own
//! (`session.rs`), as the clerk its key names (`clerks.rs`) or on a throwaway demo. No shell,
//! no commands, no forwarding, no SFTP.
//!
//! What one session does cannot reach another: each is its own process; its output waits for
//! its own client's SSH window (a client that stops reading stalls only its own app, and
//! memory stays bounded); a panic ends one process. The server counts sessions, limits how
//! fast one address may connect, and ends a session idle past its time.

mod clerks;
mod session;

pub use clerks::Clerks;

use anyhow::Context as _;
use russh::keys::{HashAlg, PrivateKey};
use std::collections::{HashMap, VecDeque};
use std::ffi::OsString;
use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What `serve` was told, resolved by the command line.
#[derive(Debug)]
pub struct Settings {
    /// `ADDR:PORT`.
    pub listen: String,
    pub host_key: PathBuf,
    pub clerks: Option<PathBuf>,
    pub demo: bool,
    pub max_sessions: usize,
    /// A session with no key for this long ends.
    pub idle: Duration,
    /// The binary each session runs.
    pub exe: PathBuf,
    /// The arguments every clerk's session starts with: where the box office is and the
    /// settings it runs with (the same as `serve`'s own).
    pub clerk_args: Vec<OsString>,
    /// And the environment they get besides `serve`'s own.
    pub clerk_env: Vec<(&'static str, String)>,
    /// The log (sessions: who, from where, start, end; never what was typed).
    pub log: PathBuf,
}

/// New connections one address may open in [`RATE_WINDOW`].
const RATE_PER_ADDRESS: usize = 20;
const RATE_WINDOW: Duration = Duration::from_secs(60);
/// Connections still authenticating, beyond the sessions, before new ones are turned away at
/// once (a handshake costs the server work).
const HANDSHAKES: usize = 16;

/// What the connections share.
pub(crate) struct Shared {
    pub settings: Settings,
    pub clerks: Clerks,
    /// Apps running.
    pub sessions: AtomicUsize,
    /// Connections open (sessions and handshakes).
    pub connections: AtomicUsize,
    pub log: Mutex<crate::applog::Log>,
    /// The empty settings file a demo session runs with: no relay, no gateway of the box
    /// office's, whatever `serve` itself was given.
    pub demo_settings: PathBuf,
    /// Where demo sessions' throwaway box offices go (removed with `serve`).
    pub scratch: PathBuf,
    next_session: AtomicUsize,
}

impl Shared {
    pub fn log(&self, line: &str) {
        if let Ok(mut log) = self.log.lock() {
            log.write(line);
        }
    }

    /// A fresh directory for one demo session's box office, readable by this user only.
    pub fn demo_dir(&self) -> std::io::Result<PathBuf> {
        let n = self.next_session.fetch_add(1, Ordering::SeqCst);
        let dir = self.scratch.join(format!("session-{n}"));
        boxoffice::files::private_dir(&dir)?;
        Ok(dir)
    }
}

/// Why `serve` would not start, said before anything listens.
pub fn check(settings: &Settings) -> Result<Clerks, String> {
    if settings.clerks.is_none() && !settings.demo {
        return Err(
            "serve lets in nobody: give --clerks FILE (public keys in authorized_keys format, \
             each with clerk=\"NAME\") or --demo (anyone, on a throwaway demo each)"
                .into(),
        );
    }
    settings.listen.parse::<SocketAddr>().map_err(|_| {
        format!(
            "--listen {}: not ADDR:PORT (e.g. 127.0.0.1:2222)",
            settings.listen
        )
    })?;
    match &settings.clerks {
        Some(path) => Clerks::read(path),
        None => Ok(Clerks::default()),
    }
}

/// The host key: read from `path`, or made there (0600) on first start, so clients see the
/// same fingerprint every time.
pub fn host_key(path: &Path) -> anyhow::Result<(PrivateKey, bool)> {
    match std::fs::read_to_string(path) {
        Ok(text) => {
            let key = PrivateKey::from_openssh(&text)
                .with_context(|| format!("{} is not an OpenSSH private key", path.display()))?;
            if key.is_encrypted() {
                anyhow::bail!(
                    "the host key {} has a passphrase; serve needs one without",
                    path.display()
                );
            }
            Ok((key, false))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let mut seed = [0u8; 32];
            getrandom::fill(&mut seed).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
            let key = PrivateKey::from(russh::keys::ssh_key::private::Ed25519Keypair::from_seed(
                &seed,
            ));
            let text = key
                .to_openssh(russh::keys::ssh_key::LineEnding::LF)
                .context("cannot write the host key")?;
            if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                boxoffice::files::private_dir(dir)
                    .with_context(|| format!("cannot create {}", dir.display()))?;
            }
            boxoffice::files::write_private(
                path,
                text.as_bytes(),
                boxoffice::files::Existing::Keep,
            )
            .with_context(|| format!("cannot write the host key {}", path.display()))?;
            Ok((key, true))
        }
        Err(e) => Err(e).with_context(|| format!("cannot read the host key {}", path.display())),
    }
}

/// The fingerprint clients are shown (`SHA256:...`).
pub fn fingerprint(key: &PrivateKey) -> String {
    key.public_key().fingerprint(HashAlg::Sha256).to_string()
}

/// Listens until SIGINT or SIGTERM; every session's app is hung up on the way out. `said`
/// gets the lines to print as they happen (the address, the fingerprint).
pub fn run(settings: Settings, clerks: Clerks, said: &mut dyn FnMut(&str)) -> anyhow::Result<()> {
    let (key, made) = host_key(&settings.host_key)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the server's runtime")?;
    runtime.block_on(async move {
        let listener = tokio::net::TcpListener::bind(&settings.listen)
            .await
            .with_context(|| format!("cannot listen on {}", settings.listen))?;
        let address = listener.local_addr()?;
        let scratch = std::env::temp_dir().join(format!("boxoffice-serve-{}", std::process::id()));
        boxoffice::files::private_dir(&scratch)
            .with_context(|| format!("cannot create {}", scratch.display()))?;
        let demo_settings = scratch.join("demo.toml");
        boxoffice::files::write_private(&demo_settings, b"", boxoffice::files::Existing::Replace)?;
        said(&format!("boxoffice serve: listening on {address}"));
        said(&format!(
            "host key {} ({}{})",
            fingerprint(&key),
            settings.host_key.display(),
            if made { ", made now" } else { "" }
        ));
        said(&match (&settings.clerks, settings.demo) {
            (Some(f), demo) => format!(
                "clerks: {} keys from {}{}",
                clerks.len(),
                f.display(),
                if demo { "; anyone else: a demo" } else { "" }
            ),
            (None, _) => "demo: anyone may come in, each on a throwaway demo".into(),
        });
        let log = crate::applog::Log::open(&settings.log);
        let shared = Arc::new(Shared {
            settings,
            clerks,
            sessions: AtomicUsize::new(0),
            connections: AtomicUsize::new(0),
            log: Mutex::new(log),
            demo_settings,
            scratch: scratch.clone(),
            next_session: AtomicUsize::new(0),
        });
        shared.log(&format!("serve started on {address}"));
        let config = Arc::new(russh::server::Config {
            server_id: russh::SshId::Standard(
                concat!("SSH-2.0-boxoffice_", env!("CARGO_PKG_VERSION")).into(),
            ),
            methods: russh::MethodSet::from(
                &[
                    russh::MethodKind::PublicKey,
                    russh::MethodKind::KeyboardInteractive,
                ][..],
            ),
            keys: vec![key],
            auth_rejection_time: Duration::from_secs(1),
            auth_rejection_time_initial: Some(Duration::ZERO),
            // A client that is gone without a word is noticed within a minute and a half.
            keepalive_interval: Some(Duration::from_secs(30)),
            keepalive_max: 3,
            inactivity_timeout: None,
            nodelay: true,
            ..Default::default()
        });
        let mut terminate =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())?;
        let mut rate = Rate::default();
        let (done_tx, mut done_rx) = tokio::sync::watch::channel(false);
        loop {
            let (stream, peer) = tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok(a) => a,
                    Err(e) => {
                        shared.log(&format!("serve: accept failed: {e}"));
                        tokio::time::sleep(Duration::from_millis(100)).await;
                        continue;
                    }
                },
                _ = tokio::signal::ctrl_c() => break,
                _ = terminate.recv() => break,
            };
            if !rate.allow(peer.ip(), Instant::now()) {
                shared.log(&format!(
                    "serve: {peer} refused: too many connections a minute"
                ));
                continue;
            }
            let open = shared.connections.load(Ordering::SeqCst);
            if open >= shared.settings.max_sessions + HANDSHAKES {
                shared.log(&format!("serve: {peer} refused: {open} connections open"));
                continue;
            }
            shared.connections.fetch_add(1, Ordering::SeqCst);
            let handler = session::Connection::new(shared.clone(), peer, done_rx.clone());
            let shared = shared.clone();
            let config = config.clone();
            tokio::spawn(async move {
                let _ = stream.set_nodelay(true);
                match russh::server::run_stream(config, stream, handler).await {
                    Ok(running) => {
                        if let Err(e) = running.await {
                            shared.log(&format!("serve: {peer}: {e}"));
                        }
                    }
                    Err(e) => shared.log(&format!("serve: {peer}: {e}")),
                }
                shared.connections.fetch_sub(1, Ordering::SeqCst);
            });
        }
        // Every session's app is hung up (it gives back its open hold) and waited for.
        let _ = done_tx.send(true);
        let deadline = Instant::now() + Duration::from_secs(15);
        while shared.sessions.load(Ordering::SeqCst) > 0 && Instant::now() < deadline {
            let _ = tokio::time::timeout(Duration::from_millis(100), done_rx.changed()).await;
        }
        shared.log("serve stopped");
        let _ = std::fs::remove_dir_all(&scratch);
        Ok(())
    })
}

/// New connections per address over the last minute.
#[derive(Default)]
struct Rate(HashMap<IpAddr, VecDeque<Instant>>);

impl Rate {
    fn allow(&mut self, ip: IpAddr, now: Instant) -> bool {
        self.0.retain(|_, times| {
            while times
                .front()
                .is_some_and(|t| now.duration_since(*t) > RATE_WINDOW)
            {
                times.pop_front();
            }
            !times.is_empty()
        });
        let times = self.0.entry(ip).or_default();
        if times.len() >= RATE_PER_ADDRESS {
            return false;
        }
        times.push_back(now);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_address_may_connect_so_often_a_minute_others_still_may() {
        let mut rate = Rate::default();
        let t = Instant::now();
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        for _ in 0..RATE_PER_ADDRESS {
            assert!(rate.allow(a, t));
        }
        assert!(!rate.allow(a, t + Duration::from_secs(1)));
        assert!(rate.allow(b, t + Duration::from_secs(1)));
        assert!(rate.allow(a, t + RATE_WINDOW + Duration::from_secs(1)));
    }

    #[test]
    fn the_host_key_is_made_once_private_and_read_back_the_same() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys").join("host_key");
        let (made, new) = host_key(&path).unwrap();
        assert!(new);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let (read, new) = host_key(&path).unwrap();
        assert!(!new);
        assert_eq!(fingerprint(&made), fingerprint(&read));
        assert!(fingerprint(&read).starts_with("SHA256:"));
        std::fs::write(&path, "not a key").unwrap();
        let e = host_key(&path).unwrap_err().to_string();
        assert!(e.contains("is not an OpenSSH private key"), "{e}");
    }
}

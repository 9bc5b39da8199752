//! One SSH connection: who it is (a clerk's key, or anyone on a demo), and its one session,
//! the terminal app in a process of its own on a pseudo-terminal. Everything else a client may
//! ask for (a command, a subsystem such as SFTP, forwarding, an agent, X11) is refused.
//!
//! The bytes flow in four parts, so that none waits on another: a thread reads the
//! pseudo-terminal into a small bounded queue; a task writes that queue to the channel, waiting
//! for the client's SSH window; the connection's task takes what the client sends (keys,
//! resizes, the hang-up); a thread writes keys to the pseudo-terminal. A client that stops
//! reading fills its own window and queue, and then its own app waits to write: nothing is
//! buffered without limit and no other session notices.

use super::Shared;
use super::clerks::Clerk;
use portable_pty::{CommandBuilder, MasterPty, PtySize};
use russh::server::{Auth, ChannelOpenHandle, Msg, Session};
use russh::{Channel, ChannelId, ChannelMsg, ChannelOpenFailure};
use std::io::{Read, Write};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::io::AsyncWriteExt;
use tokio::sync::{mpsc, watch};

/// Who came in.
#[derive(Debug, Clone)]
enum Who {
    Clerk(Box<Clerk>),
    /// Anyone, on a throwaway demo of their own.
    Demo,
}

impl std::fmt::Display for Who {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Who::Clerk(c) => write!(f, "clerk {}", c.name),
            Who::Demo => f.write_str("demo"),
        }
    }
}

/// The terminal the client asked for.
#[derive(Debug, Clone)]
struct Terminal {
    term: String,
    size: PtySize,
}

/// Pieces of output read from the app at a time, and how many may wait for the client.
const CHUNK: usize = 16 * 1024;
const QUEUED: usize = 8;

/// One connection's state (russh calls it for every request the client makes).
pub(crate) struct Connection {
    shared: Arc<Shared>,
    peer: SocketAddr,
    who: Option<Who>,
    terminal: Option<Terminal>,
    /// The session channel, until its app starts.
    channel: Option<Channel<Msg>>,
    opened: bool,
    /// Becomes true when `serve` stops.
    stopping: watch::Receiver<bool>,
}

impl Connection {
    pub fn new(shared: Arc<Shared>, peer: SocketAddr, stopping: watch::Receiver<bool>) -> Self {
        Connection {
            shared,
            peer,
            who: None,
            terminal: None,
            channel: None,
            opened: false,
            stopping,
        }
    }

    /// A line for the client on its channel's error stream, then the channel closed.
    fn refuse(&self, channel: ChannelId, session: &mut Session, message: &str) {
        let _ = session.extended_data(channel, 1, format!("boxoffice: {message}\r\n").into_bytes());
        let _ = session.exit_status_request(channel, 1);
        let _ = session.eof(channel);
        let _ = session.close(channel);
    }

    fn refused(&self, what: &str) {
        let who = self.who.as_ref().map(|w| w.to_string()).unwrap_or_default();
        self.shared
            .log(&format!("ssh {}: {who}: refused {what}", self.peer));
    }
}

/// A terminal type as the client named it, if it is a plain name; else a common one.
fn term_name(term: &str) -> String {
    if !term.is_empty()
        && term.len() <= 64
        && term
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.+".contains(c))
    {
        term.to_string()
    } else {
        "xterm-256color".into()
    }
}

fn pty_size(cols: u32, rows: u32) -> PtySize {
    let clamp = |n: u32, default: u16| match n {
        0 => default,
        n => n.min(1000) as u16,
    };
    PtySize {
        rows: clamp(rows, 24),
        cols: clamp(cols, 80),
        pixel_width: 0,
        pixel_height: 0,
    }
}

impl russh::server::Handler for Connection {
    type Error = anyhow::Error;

    async fn auth_publickey_offered(
        &mut self,
        _user: &str,
        offer: russh::server::PublicKeyOffer<'_>,
    ) -> Result<Auth, Self::Error> {
        if self.shared.settings.demo || self.shared.clerks.find(offer.public_key).is_some() {
            return Ok(Auth::Accept);
        }
        let print = offer.public_key.fingerprint(russh::keys::HashAlg::Sha256);
        self.shared.log(&format!(
            "ssh {}: refused the key {print}: not in the clerks file",
            self.peer
        ));
        Ok(Auth::reject())
    }

    async fn auth_publickey(
        &mut self,
        _user: &str,
        key: russh::server::VerifiedPublicKey<'_>,
    ) -> Result<Auth, Self::Error> {
        self.who = match self.shared.clerks.find(key.public_key) {
            Some(clerk) => Some(Who::Clerk(Box::new(clerk.clone()))),
            None if self.shared.settings.demo => Some(Who::Demo),
            None => return Ok(Auth::reject()),
        };
        Ok(Auth::Accept)
    }

    async fn auth_keyboard_interactive<'a>(
        &'a mut self,
        _user: &str,
        _submethods: &str,
        _response: Option<russh::server::Response<'a>>,
    ) -> Result<Auth, Self::Error> {
        if self.shared.settings.demo {
            self.who = Some(Who::Demo);
            Ok(Auth::Accept)
        } else {
            Ok(Auth::reject())
        }
    }

    async fn channel_open_session(
        &mut self,
        channel: Channel<Msg>,
        reply: ChannelOpenHandle,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        if self.opened {
            self.refused("a second session on one connection");
            reply
                .reject(ChannelOpenFailure::AdministrativelyProhibited)
                .await;
            return Ok(());
        }
        self.opened = true;
        self.channel = Some(channel);
        reply.accept().await;
        Ok(())
    }

    async fn channel_open_direct_tcpip(
        &mut self,
        _channel: Channel<Msg>,
        host: &str,
        port: u32,
        _originator_address: &str,
        _originator_port: u32,
        reply: ChannelOpenHandle,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        self.refused(&format!("forwarding to {host}:{port}"));
        reply
            .reject(ChannelOpenFailure::AdministrativelyProhibited)
            .await;
        Ok(())
    }

    async fn channel_open_direct_streamlocal(
        &mut self,
        _channel: Channel<Msg>,
        _socket_path: &str,
        reply: ChannelOpenHandle,
        _session: &mut Session,
    ) -> Result<(), Self::Error> {
        self.refused("forwarding to a socket");
        reply
            .reject(ChannelOpenFailure::AdministrativelyProhibited)
            .await;
        Ok(())
    }

    async fn tcpip_forward(
        &mut self,
        address: &str,
        port: &mut u32,
        _session: &mut Session,
    ) -> Result<bool, Self::Error> {
        self.refused(&format!("forwarding from {address}:{port}"));
        Ok(false)
    }

    async fn agent_request(
        &mut self,
        _channel: ChannelId,
        _session: &mut Session,
    ) -> Result<bool, Self::Error> {
        Ok(false)
    }

    async fn x11_request(
        &mut self,
        channel: ChannelId,
        _single_connection: bool,
        _x11_auth_protocol: &str,
        _x11_auth_cookie: &str,
        _x11_screen_number: u32,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        session.channel_failure(channel)?;
        Ok(())
    }

    async fn env_request(
        &mut self,
        channel: ChannelId,
        _variable_name: &str,
        _variable_value: &str,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        // The app's environment is the server's, never the client's.
        session.channel_failure(channel)?;
        Ok(())
    }

    async fn subsystem_request(
        &mut self,
        channel: ChannelId,
        name: &str,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        self.refused(&format!("the subsystem {name}"));
        session.channel_failure(channel)?;
        Ok(())
    }

    async fn exec_request(
        &mut self,
        channel: ChannelId,
        _data: &[u8],
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        // Never the command itself in the log: it may be anything a client typed.
        self.refused("a command");
        session.channel_success(channel)?;
        self.refuse(
            channel,
            session,
            "this server runs the box office and nothing else; connect without a command \
             (ssh -t)",
        );
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    async fn pty_request(
        &mut self,
        channel: ChannelId,
        term: &str,
        col_width: u32,
        row_height: u32,
        _pix_width: u32,
        _pix_height: u32,
        _modes: &[(russh::Pty, u32)],
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        self.terminal = Some(Terminal {
            term: term_name(term),
            size: pty_size(col_width, row_height),
        });
        session.channel_success(channel)?;
        Ok(())
    }

    async fn shell_request(
        &mut self,
        channel: ChannelId,
        session: &mut Session,
    ) -> Result<(), Self::Error> {
        let (Some(who), Some(ch)) = (self.who.clone(), self.channel.take()) else {
            session.channel_failure(channel)?;
            return Ok(());
        };
        session.channel_success(channel)?;
        let Some(terminal) = self.terminal.clone() else {
            self.refuse(
                channel,
                session,
                "the box office needs a terminal: connect with ssh -t",
            );
            return Ok(());
        };
        let shared = &self.shared;
        let taken = shared.sessions.fetch_add(1, Ordering::SeqCst);
        if taken >= shared.settings.max_sessions {
            shared.sessions.fetch_sub(1, Ordering::SeqCst);
            self.refused("a session: the box office is full");
            self.refuse(
                channel,
                session,
                &format!(
                    "the box office is full ({} sessions); try again in a minute",
                    shared.settings.max_sessions
                ),
            );
            return Ok(());
        }
        match App::start(shared, self.peer, &who, &terminal) {
            Ok(app) => {
                shared.log(&format!("ssh {}: {who}: session started", self.peer));
                tokio::spawn(app.run(shared.clone(), self.peer, who, ch, self.stopping.clone()));
            }
            Err(e) => {
                shared.sessions.fetch_sub(1, Ordering::SeqCst);
                shared.log(&format!(
                    "ssh {}: {who}: the app did not start: {e:#}",
                    self.peer
                ));
                self.refuse(
                    channel,
                    session,
                    "the box office could not start; see its log",
                );
            }
        }
        Ok(())
    }
}

/// A session's app: its process on its pseudo-terminal.
struct App {
    master: Box<dyn MasterPty + Send>,
    child: Box<dyn portable_pty::Child + Send + Sync>,
    reader: Box<dyn Read + Send>,
    writer: Box<dyn Write + Send>,
    /// A demo session's own box office, removed when it ends.
    demo_dir: Option<PathBuf>,
}

/// Why a session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ended {
    /// The app quit (the clerk pressed q) or died.
    AppExited,
    /// The client closed the channel or the connection went.
    HungUp,
    Idle,
    Stopping,
}

impl App {
    fn start(
        shared: &Shared,
        peer: SocketAddr,
        who: &Who,
        terminal: &Terminal,
    ) -> anyhow::Result<App> {
        let settings = &shared.settings;
        let mut cmd = CommandBuilder::new(&settings.exe);
        let mut demo_dir = None;
        match who {
            Who::Clerk(clerk) => {
                cmd.args(&settings.clerk_args);
                for (k, v) in &settings.clerk_env {
                    cmd.env(k, v);
                }
                cmd.arg("--clerk");
                cmd.arg(&clerk.name);
                if clerk.kiosk {
                    cmd.arg("--kiosk");
                }
                if let Some(door) = &clerk.door {
                    cmd.arg("--door");
                    cmd.arg(door);
                }
                if clerk.read_only {
                    cmd.arg("--read-only");
                }
            }
            Who::Demo => {
                // Nothing of the box office's own: no settings (so no relay, no gateway),
                // none of its environment but what a terminal needs.
                cmd.env_clear();
                for name in [
                    "PATH",
                    "HOME",
                    "LANG",
                    "LC_ALL",
                    "LC_CTYPE",
                    "TZ",
                    "BOXOFFICE_NOW",
                ] {
                    if let Some(v) = std::env::var_os(name) {
                        cmd.env(name, v);
                    }
                }
                let dir = shared.demo_dir()?;
                cmd.arg("--config");
                cmd.arg(&shared.demo_settings);
                cmd.arg("--demo");
                cmd.arg("--db");
                cmd.arg(dir.join("boxoffice.db"));
                cmd.cwd(&dir);
                demo_dir = Some(dir);
            }
        }
        cmd.arg("--terminal");
        cmd.arg(format!("ssh {peer}"));
        cmd.env("TERM", &terminal.term);
        for name in [
            "COLUMNS",
            "LINES",
            "SSH_AUTH_SOCK",
            "SSH_CONNECTION",
            "SSH_CLIENT",
        ] {
            cmd.env_remove(name);
        }
        let started = (|| {
            let pair = portable_pty::native_pty_system().openpty(terminal.size)?;
            let child = pair.slave.spawn_command(cmd)?;
            drop(pair.slave);
            let reader = pair.master.try_clone_reader()?;
            let writer = pair.master.take_writer()?;
            anyhow::Ok((pair.master, child, reader, writer))
        })();
        match started {
            Ok((master, child, reader, writer)) => Ok(App {
                master,
                child,
                reader,
                writer,
                demo_dir,
            }),
            Err(e) => {
                if let Some(dir) = demo_dir {
                    let _ = std::fs::remove_dir_all(dir);
                }
                Err(e)
            }
        }
    }

    /// Carries the session until the app, the client or the server ends it; then the app is
    /// hung up (it gives back a hold it kept open) and waited for.
    async fn run(
        self,
        shared: Arc<Shared>,
        peer: SocketAddr,
        who: Who,
        channel: Channel<Msg>,
        mut stopping: watch::Receiver<bool>,
    ) {
        let App {
            master,
            mut child,
            mut reader,
            mut writer,
            demo_dir,
        } = self;
        let began = std::time::Instant::now();
        let (mut from_client, to_client) = channel.split();

        let (out_tx, mut out_rx) = mpsc::channel::<Vec<u8>>(QUEUED);
        std::thread::spawn(move || {
            let mut buf = vec![0u8; CHUNK];
            // Once the client is gone what the app still writes is read and dropped, so that
            // it never blocks on its way out.
            let mut to = Some(out_tx);
            loop {
                match reader.read(&mut buf) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        if let Some(tx) = &to
                            && tx.blocking_send(buf[..n].to_vec()).is_err()
                        {
                            to = None;
                        }
                    }
                }
            }
        });
        let mut out = to_client.make_writer();
        let mut output = tokio::spawn(async move {
            while let Some(bytes) = out_rx.recv().await {
                if out.write_all(&bytes).await.is_err() || out.flush().await.is_err() {
                    break;
                }
            }
            out
        });
        let (in_tx, mut in_rx) = mpsc::channel::<Vec<u8>>(QUEUED);
        std::thread::spawn(move || {
            while let Some(bytes) = in_rx.blocking_recv() {
                if writer
                    .write_all(&bytes)
                    .and_then(|_| writer.flush())
                    .is_err()
                {
                    break;
                }
            }
        });

        let idle = shared.settings.idle;
        let mut last_key = tokio::time::Instant::now();
        let mut out_done = None;
        let mut dropped = 0usize;
        let ended = loop {
            tokio::select! {
                msg = from_client.wait() => match msg {
                    Some(ChannelMsg::Data { data }) => {
                        last_key = tokio::time::Instant::now();
                        // An app that has stopped reading (its client stopped reading its
                        // screen) loses the keys beyond a few screens' worth, as a terminal
                        // would: waiting here would stop this connection hearing its hang-up.
                        match in_tx.try_send(data.to_vec()) {
                            Ok(()) => {}
                            Err(mpsc::error::TrySendError::Full(_)) => dropped += data.len(),
                            Err(mpsc::error::TrySendError::Closed(_)) => break Ended::AppExited,
                        }
                    }
                    Some(ChannelMsg::WindowChange { col_width, row_height, .. }) => {
                        let _ = master.resize(pty_size(col_width, row_height));
                    }
                    Some(ChannelMsg::Close) | None => break Ended::HungUp,
                    _ => {}
                },
                done = &mut output => {
                    out_done = done.ok();
                    break Ended::AppExited;
                }
                _ = tokio::time::sleep_until(last_key + idle) => break Ended::Idle,
                _ = stopping.changed() => break Ended::Stopping,
            }
        };
        drop(in_tx);
        if ended != Ended::AppExited {
            // As a closed terminal does: the app gives back its open hold and quits (the
            // killer portable-pty hands out for a child sends SIGHUP and only that).
            let _ = child.clone_killer().kill();
        }
        let status = tokio::task::spawn_blocking(move || {
            let deadline = std::time::Instant::now() + Duration::from_secs(10);
            loop {
                match child.try_wait() {
                    Ok(Some(status)) => return Some(status),
                    Ok(None) if std::time::Instant::now() < deadline => {
                        std::thread::sleep(Duration::from_millis(20))
                    }
                    Ok(None) => {
                        // SIGHUP again, then SIGKILL.
                        let _ = child.kill();
                        return child.wait().ok();
                    }
                    Err(_) => return None,
                }
            }
        })
        .await
        .ok()
        .flatten();
        drop(master);
        let mut out = match out_done {
            Some(out) => Some(out),
            // Nobody to show the rest to.
            None if ended == Ended::HungUp => {
                output.abort();
                None
            }
            None => match tokio::time::timeout(Duration::from_secs(2), &mut output).await {
                Ok(done) => done.ok(),
                Err(_) => {
                    output.abort();
                    None
                }
            },
        };
        let said = match ended {
            Ended::Idle => Some(format!(
                "the session ended after {} without a key",
                minutes(idle)
            )),
            Ended::Stopping => Some("the box office's server is stopping".to_string()),
            _ => None,
        };
        if let (Some(said), Some(out)) = (said, out.as_mut()) {
            let _ = out
                .write_all(format!("\r\nboxoffice: {said}.\r\n").as_bytes())
                .await;
            let _ = out.flush().await;
        }
        let code = status.map(|s| s.exit_code()).unwrap_or(1);
        let _ = to_client.exit_status(code).await;
        let _ = to_client.eof().await;
        let _ = to_client.close().await;
        if let Some(dir) = demo_dir {
            let _ = std::fs::remove_dir_all(dir);
        }
        shared.sessions.fetch_sub(1, Ordering::SeqCst);
        if dropped > 0 {
            shared.log(&format!(
                "ssh {peer}: {who}: {dropped} bytes typed while the app was not reading were dropped"
            ));
        }
        shared.log(&format!(
            "ssh {peer}: {who}: session ended ({}) after {} s",
            match ended {
                Ended::AppExited => "the app quit",
                Ended::HungUp => "hung up",
                Ended::Idle => "idle",
                Ended::Stopping => "server stopping",
            },
            began.elapsed().as_secs()
        ));
    }
}

fn minutes(d: Duration) -> String {
    match d.as_secs() {
        s if s % 60 == 0 && s >= 60 => format!("{} min", s / 60),
        s => format!("{s} s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_terminal_a_client_names_is_taken_only_if_it_is_a_plain_name() {
        assert_eq!(term_name("xterm-256color"), "xterm-256color");
        assert_eq!(term_name("screen.xterm+x"), "screen.xterm+x");
        assert_eq!(term_name("x\u{1b}]0;evil"), "xterm-256color");
        assert_eq!(term_name(""), "xterm-256color");
        let s = pty_size(0, 0);
        assert_eq!((s.cols, s.rows), (80, 24));
        let s = pty_size(100_000, 50);
        assert_eq!((s.cols, s.rows), (1000, 50));
    }
}

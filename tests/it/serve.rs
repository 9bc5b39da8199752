//! `boxoffice serve` against the real OpenSSH client (`ssh`, `sftp`, `ssh-keygen`,
//! `ssh-keyscan`): clerks by key, a demo for anyone, nothing but the app, one session unable
//! to hurt another.

use crate::common;
use crate::pty::PtyApp;
use portable_pty::CommandBuilder;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_boxoffice");

/// A running `serve`, stopped (SIGTERM) when dropped.
struct Server {
    child: Child,
    port: u16,
    /// What it printed on start.
    said: String,
    /// Its TMPDIR: where demo sessions' box offices go.
    tmp: PathBuf,
}

impl Server {
    fn start(dir: &Path, args: &[&str]) -> Server {
        let tmp = dir.join("tmp");
        std::fs::create_dir_all(&tmp).unwrap();
        let mut child = Command::new(BIN)
            .args(["serve", "--listen", "127.0.0.1:0", "--host-key"])
            .arg(dir.join("host_key"))
            .args(args)
            .env("BOXOFFICE_DB", dir.join("box.db"))
            .env("XDG_DATA_HOME", dir.join("data"))
            .env("TMPDIR", &tmp)
            .env_remove("BOXOFFICE_NOW")
            .env_remove("BOXOFFICE_IDLE")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut said = String::new();
        let mut port = None;
        for _ in 0..3 {
            let Some(Ok(line)) = lines.next() else {
                let _ = child.wait();
                let mut err = String::new();
                std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
                panic!("serve did not start: {said}{err}");
            };
            if let Some(addr) = line.strip_prefix("boxoffice serve: listening on ") {
                port = Some(addr.rsplit(':').next().unwrap().parse().unwrap());
            }
            said.push_str(&line);
            said.push('\n');
        }
        Server {
            child,
            port: port.unwrap(),
            said,
            tmp,
        }
    }

    /// The OpenSSH client on a terminal of its own, logging in with `key` (or with no key:
    /// keyboard-interactive).
    fn ssh(&self, key: Option<&Path>, rows: u16, cols: u16) -> PtyApp {
        let mut cmd = CommandBuilder::new("ssh");
        cmd.args(self.ssh_args(key));
        cmd.arg("-tt");
        cmd.arg("counter@127.0.0.1");
        cmd.env("TERM", "xterm-256color");
        PtyApp::spawn_command(cmd, rows, cols)
    }

    fn ssh_args(&self, key: Option<&Path>) -> Vec<String> {
        let mut a: Vec<String> = [
            "-F",
            "/dev/null",
            "-o",
            "StrictHostKeyChecking=no",
            "-o",
            "UserKnownHostsFile=/dev/null",
            "-o",
            "LogLevel=ERROR",
            "-o",
            "ConnectTimeout=10",
            "-p",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        a.push(self.port.to_string());
        match key {
            Some(k) => a.extend([
                "-o".into(),
                "BatchMode=yes".into(),
                "-o".into(),
                "IdentitiesOnly=yes".into(),
                "-i".into(),
                k.display().to_string(),
            ]),
            None => a.extend([
                "-o".into(),
                "PubkeyAuthentication=no".into(),
                "-o".into(),
                "PreferredAuthentications=keyboard-interactive".into(),
            ]),
        }
        a
    }

    /// `ssh` run to its end with `extra` arguments: its exit code and what it printed.
    fn run_ssh(&self, key: Option<&Path>, extra: &[&str]) -> (i32, String) {
        let out = Command::new("ssh")
            .args(self.ssh_args(key))
            .args(extra)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.code().unwrap_or(-1), text)
    }

    fn stop(mut self) -> std::process::ExitStatus {
        terminate(&self.child);
        let status = wait(&mut self.child, Duration::from_secs(20));
        std::mem::forget(self);
        status
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        terminate(&self.child);
        let _ = self.child.wait();
    }
}

fn terminate(child: &Child) {
    let _ = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
}

fn wait(child: &mut Child, within: Duration) -> std::process::ExitStatus {
    let deadline = Instant::now() + within;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(Instant::now() < deadline, "serve did not stop");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Waits (up to 20 s) for `check` to hold.
fn eventually(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !check() {
        assert!(Instant::now() < deadline, "{what} never happened");
        std::thread::sleep(Duration::from_millis(30));
    }
}

/// A new key pair made by ssh-keygen: the private key's path and the public key's line.
fn key(dir: &Path, name: &str) -> (PathBuf, String) {
    let path = dir.join(name);
    let status = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", name, "-f"])
        .arg(&path)
        .status()
        .unwrap();
    assert!(status.success());
    let public = std::fs::read_to_string(path.with_extension("pub")).unwrap();
    (path, public.trim().to_string())
}

/// `serve --clerks` on the demo at `dir`: a new key for each clerk, `options` written in front
/// of it (`clerk="Anna Gruber",kiosk`). The server, and each clerk's private key in order.
fn with_clerks(dir: &Path, options: &[&str]) -> (Server, Vec<PathBuf>) {
    demo(dir);
    let mut lines = String::new();
    let mut keys = Vec::new();
    for (i, o) in options.iter().enumerate() {
        let (private, public) = key(dir, &format!("clerk{i}"));
        lines.push_str(&format!("{o} {public}\n"));
        keys.push(private);
    }
    let clerks = dir.join("clerks");
    std::fs::write(&clerks, lines).unwrap();
    (
        Server::start(dir, &["--clerks", clerks.to_str().unwrap()]),
        keys,
    )
}

fn demo(dir: &Path) {
    static TODAY: std::sync::OnceLock<chrono::DateTime<chrono::Utc>> = std::sync::OnceLock::new();
    common::engine::demo_file(dir, *TODAY.get_or_init(chrono::Utc::now));
}

fn boxoffice(dir: &Path, args: &[&str]) -> std::process::Output {
    Command::new(BIN)
        .args(args)
        .env("BOXOFFICE_DB", dir.join("box.db"))
        .env("XDG_DATA_HOME", dir.join("data"))
        .env_remove("BOXOFFICE_NOW")
        .output()
        .unwrap()
}

/// Tickets sold today by `clerk`, by `report`.
fn tickets_by(dir: &Path, clerk: &str) -> i64 {
    let out = boxoffice(dir, &["report", "--clerk", clerk, "--json"]);
    assert!(out.status.success(), "{out:?}");
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    report["concerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["tickets_sold"].as_i64().unwrap())
        .sum()
}

/// Seats held (not sold) in the box office at `dir`.
fn held(dir: &Path) -> i64 {
    let conn = rusqlite::Connection::open(dir.join("box.db")).unwrap();
    conn.query_row(
        "SELECT count(*) FROM claims WHERE booking_id IS NULL AND reserved = 0",
        [],
        |r| r.get(0),
    )
    .unwrap()
}

#[test]
fn serve_lets_nobody_in_unless_told_who_and_says_how() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .env("XDG_DATA_HOME", dir.path().join("data"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(
        said.contains("--clerks FILE") && said.contains("--demo"),
        "{said}"
    );
    let clerks = dir.path().join("clerks");
    std::fs::write(&clerks, "# the counter\nssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIJgFB3dvhtzeZQ+pNVc4mCihETcZw0OkbcQj/oTTuQhK anna\n").unwrap();
    let out = Command::new(BIN)
        .args(["serve", "--listen", "127.0.0.1:0", "--clerks"])
        .arg(&clerks)
        .env("XDG_DATA_HOME", dir.path().join("data"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains("line 2: no clerk="), "{said}");
    // The serve keys are settings like the others.
    let out = boxoffice(dir.path(), &["config", "--json"]);
    let shown: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let keys: Vec<&str> = shown
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["key"].as_str().unwrap())
        .collect();
    for key in ["listen", "host_key", "clerks", "max_sessions"] {
        assert!(keys.contains(&key), "{key} not in {keys:?}");
    }
}

/// Two clerks, each by their own key, sell at once from one box office; `report` counts each
/// one's tickets under their name. The log has both sessions and not one key typed.
#[test]
fn two_clerks_sell_at_once_and_their_names_are_on_their_sales() {
    let dir = tempfile::tempdir().unwrap();
    let (server, keys) = with_clerks(
        dir.path(),
        &["clerk=\"Anna Gruber\"", "clerk=\"Ben Okafor\""],
    );
    let (anna, ben) = (&keys[0], &keys[1]);
    let (stranger, _) = key(dir.path(), "stranger");
    assert!(server.said.contains("clerks: 2 keys"), "{}", server.said);

    let mut a = server.ssh(Some(anna), 24, 80);
    let mut b = server.ssh(Some(ben), 24, 80);
    // Both hold (one after the other: the second's best seats are the next ones), then both
    // pay: Anna cash, Ben by card.
    for app in [&mut a, &mut b] {
        app.wait_for("24 concerts");
        app.send(b"\r");
        app.wait_for("Seat map");
        app.send(b"b2\r");
        app.wait_for("best 2 together");
        app.send(b"\r");
        app.wait_for("Hold expires in");
    }
    a.send(b"100");
    a.wait_for("Change due");
    a.send(b"\r");
    b.send(b"\x1b[C");
    b.send(b"4242424242424242\t12/28\t123\r");
    a.wait_for("Booking code");
    b.wait_for("Booking code");
    a.quit();
    b.quit();
    assert_eq!(tickets_by(dir.path(), "Anna Gruber"), 2);
    assert_eq!(tickets_by(dir.path(), "Ben Okafor"), 2);

    // A key not in the file gets nowhere.
    let (code, said) = server.run_ssh(Some(&stranger), &["-tt", "x@127.0.0.1"]);
    assert_eq!(code, 255, "{said}");
    assert!(said.contains("Permission denied"), "{said}");

    let log = std::fs::read_to_string(dir.path().join("boxoffice.log")).unwrap();
    assert!(log.contains("clerk Anna Gruber: session started"), "{log}");
    assert!(log.contains("clerk Ben Okafor: session ended"), "{log}");
    assert!(log.contains("refused the key SHA256:"), "{log}");
    for entry in walk(dir.path()) {
        let bytes = std::fs::read(&entry).unwrap_or_default();
        let text = String::from_utf8_lossy(&bytes);
        assert!(
            !text.contains("4242424242424242"),
            "the card number is in {}",
            entry.display()
        );
    }
    assert!(server.stop().success());
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out
}

/// Nothing but the app: no command, no forwarding either way, no SFTP, no session without a
/// terminal.
#[test]
fn commands_forwarding_and_sftp_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let (server, keys) = with_clerks(dir.path(), &["clerk=Anna"]);
    let anna = &keys[0];

    let (code, said) = server.run_ssh(Some(anna), &["x@127.0.0.1", "ls", "/"]);
    assert_ne!(code, 0, "{said}");
    assert!(
        said.contains("runs the box office and nothing else") && !said.contains("etc"),
        "{said}"
    );
    // -L and -W open a direct-tcpip channel: refused, and nothing reaches the target.
    let target = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    target.set_nonblocking(true).unwrap();
    let to = format!("127.0.0.1:{}", target.local_addr().unwrap().port());
    let (code, said) = server.run_ssh(Some(anna), &["-W", &to, "x@127.0.0.1"]);
    assert_eq!(code, 255, "{said}");
    assert!(said.contains("stdio forwarding failed"), "{said}");
    assert!(target.accept().is_err(), "a connection reached the target");
    let (code, said) = server.run_ssh(
        Some(anna),
        &[
            "-N",
            "-o",
            "ExitOnForwardFailure=yes",
            "-R",
            "0:127.0.0.1:22",
            "x@127.0.0.1",
        ],
    );
    assert_eq!(code, 255, "{said}");
    assert!(said.contains("forwarding failed"), "{said}");
    let (code, said) = server.run_ssh(Some(anna), &["-T", "x@127.0.0.1"]);
    assert_ne!(code, 0, "{said}");
    assert!(said.contains("needs a terminal"), "{said}");
    let out = Command::new("sftp")
        .args(["-b", "-", "-P", &server.port.to_string()])
        .args([
            "-F",
            "/dev/null",
            "-o",
            "StrictHostKeyChecking=no",
            "-o",
            "UserKnownHostsFile=/dev/null",
            "-o",
            "BatchMode=yes",
            "-i",
        ])
        .arg(anna)
        .arg("x@127.0.0.1")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let log = std::fs::read_to_string(dir.path().join("boxoffice.log")).unwrap();
    for refused in [
        "refused a command",
        "refused forwarding to 127.0.0.1",
        "refused forwarding from",
        "refused the subsystem sftp",
    ] {
        assert!(log.contains(refused), "{refused} not in:\n{log}");
    }
    assert!(!log.contains("ls /"), "the command typed is not logged");
}

/// Anyone comes in on a demo of their own (no key at all: keyboard-interactive), and a demo
/// leaves nothing behind when its session ends.
#[test]
fn a_demo_session_gets_its_own_demo_and_leaves_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &["--demo"]);
    assert!(server.said.contains("demo: anyone"), "{}", server.said);
    // One comes with a key nobody listed, one with no key at all.
    let (any, _) = key(dir.path(), "anyone");
    let mut a = server.ssh(Some(&any), 24, 80);
    let mut b = server.ssh(None, 24, 80);
    for app in [&mut a, &mut b] {
        app.wait_for("24 concerts");
        app.send(b"neon\r");
        app.wait_for("100 free 0 held 0 sold");
    }
    a.send(b"b3\r\r");
    a.wait_for("Hold expires in");
    // Not b's box office: its seat map stays as it was.
    b.send(b"\x1b");
    b.send(b"\r");
    b.wait_for("100 free 0 held 0 sold");
    let scratch: Vec<PathBuf> = std::fs::read_dir(&server.tmp)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .collect();
    assert_eq!(scratch.len(), 1, "{scratch:?}");
    let sessions = || {
        std::fs::read_dir(&scratch[0])
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with("session-"))
            .count()
    };
    assert_eq!(sessions(), 2);
    drop(a); // hung up mid-checkout
    b.quit();
    eventually("both demo box offices removed", || sessions() == 0);
    assert!(server.stop().success());
    assert_eq!(
        std::fs::read_dir(dir.path().join("tmp")).unwrap().count(),
        0,
        "serve left its scratch directory"
    );
    // The box office serve would sell from was never made for a demo.
    assert!(!dir.path().join("box.db").exists());
}

/// The client's connection dies in the middle of a checkout: the seats are free again at
/// once, not when the hold would have run out.
#[test]
fn a_session_killed_in_the_middle_of_a_checkout_releases_its_hold() {
    let dir = tempfile::tempdir().unwrap();
    let (server, keys) = with_clerks(dir.path(), &["clerk=Anna"]);
    let anna = &keys[0];
    let mut a = server.ssh(Some(anna), 24, 80);
    a.wait_for("24 concerts");
    a.send(b"neon\r");
    a.wait_for("100 free");
    a.send(b"b4\r\r");
    a.wait_for("Hold expires in");
    let before = held(dir.path());
    assert!(before >= 4, "{before}");
    // SIGKILL: the client says nothing, its connection just closes.
    let pid = a.child.process_id().unwrap();
    Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status()
        .unwrap();
    eventually("the hold given back", || held(dir.path()) == before - 4);
    eventually("the session's end logged", || {
        std::fs::read_to_string(dir.path().join("boxoffice.log"))
            .unwrap()
            .contains("session ended (hung up)")
    });
}

/// The window follows the client; a session idle past `idle` ends; more sessions than
/// `--max-sessions` are told the box office is full.
#[test]
fn a_resize_redraws_idle_sessions_end_and_a_full_server_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &["--demo", "--max-sessions", "1"]);
    let mut a = server.ssh(None, 24, 80);
    a.wait_for("24 concerts");
    a.resize(8, 30);
    a.wait_for("Terminal too small");
    a.resize(30, 100);
    a.wait_for("24 concerts");
    eventually("the top line drawn 100 wide", || {
        a.screen()
            .lines()
            .next()
            .is_some_and(|l| l.trim_end().chars().count() > 80)
    });
    let (code, said) = server.run_ssh(None, &["-tt", "x@127.0.0.1"]);
    assert_ne!(code, 0, "{said}");
    assert!(
        said.contains("the box office is full (1 sessions)"),
        "{said}"
    );
    a.quit();
    drop(server);

    let idle = Server::start(dir.path(), &["--demo", "--idle", "1"]);
    let a = idle.ssh(None, 24, 80);
    a.wait_for("session ended after 1 s without a key");
}

/// One client stops reading (its output piles up on its side): another client's screen still
/// answers each key at once, and the server's memory does not grow with what the stalled
/// one is not reading.
#[test]
fn a_client_that_stops_reading_does_not_slow_another() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path(), &["--demo"]);
    let mut stalled = Command::new("ssh")
        .args(server.ssh_args(None))
        .args(["-tt", "x@127.0.0.1"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Never read: its output waits in the pipe, then in its SSH window, then in the app.
    let _unread = stalled.stdout.take();
    let mut keys = stalled.stdin.take().unwrap();
    let typing = std::thread::spawn(move || {
        use std::io::Write;
        // Screen after screen (F3 bookings, F2 concerts, F4 sales), each a redraw.
        for _ in 0..20_000 {
            if keys.write_all(b"\x1bOR\x1bOQ\x1bOS").is_err() {
                break;
            }
        }
    });
    let rss = || {
        let status = std::fs::read_to_string(format!("/proc/{}/status", server.child.id()))
            .unwrap_or_default();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.split_whitespace().next()?.parse::<u64>().ok())
            .unwrap_or(0)
    };
    let before = rss();
    let mut other = server.ssh(None, 24, 80);
    other.wait_for("24 concerts");
    let mut slowest = Duration::ZERO;
    for (typed, shown) in [
        ("neon", "1 concert"),
        ("\x7f\x7f\x7f\x7f", "24 concerts"),
        ("aurora", "3 concerts"),
        ("\x7f\x7f\x7f\x7f\x7f\x7f", "24 concerts"),
    ] {
        let t = Instant::now();
        other.send(typed.as_bytes());
        other.wait_for(shown);
        slowest = slowest.max(t.elapsed());
    }
    let after = rss();
    eprintln!(
        "slowest answer beside a stalled client: {slowest:?}; serve's memory {before} kB -> {after} kB"
    );
    assert!(
        after.saturating_sub(before) < 64 * 1024,
        "serve grew from {before} kB to {after} kB"
    );
    other.quit();
    let _ = stalled.kill();
    let _ = stalled.wait();
    let _ = typing.join();
    // The stalled client's own app was held up (it stopped taking keys), and only it.
    eventually("the stalled session's end logged", || {
        let log = std::fs::read_to_string(dir.path().join("boxoffice.log")).unwrap();
        log.contains("were dropped") && log.matches("session ended").count() == 2
    });
}

/// The host key is made once (0600) and kept: the fingerprint `serve` prints is the one a
/// client sees, every start.
#[test]
fn the_host_key_persists_and_its_fingerprint_is_what_clients_see() {
    let dir = tempfile::tempdir().unwrap();
    let first = Server::start(dir.path(), &["--demo"]);
    let printed = |s: &Server| {
        s.said
            .lines()
            .find_map(|l| l.strip_prefix("host key "))
            .unwrap()
            .split_whitespace()
            .next()
            .unwrap()
            .to_string()
    };
    let fingerprint = printed(&first);
    assert!(first.said.contains("made now"), "{}", first.said);
    let scanned = Command::new("ssh-keyscan")
        .args(["-p", &first.port.to_string(), "-t", "ed25519", "127.0.0.1"])
        .output()
        .unwrap();
    let mut keygen = Command::new("ssh-keygen")
        .args(["-l", "-f", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    std::io::Write::write_all(keygen.stdin.as_mut().unwrap(), &scanned.stdout).unwrap();
    let seen = String::from_utf8(keygen.wait_with_output().unwrap().stdout).unwrap();
    assert!(seen.contains(&fingerprint), "{seen} vs {fingerprint}");
    drop(first);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("host_key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let second = Server::start(dir.path(), &["--demo"]);
    assert_eq!(printed(&second), fingerprint);
    assert!(!second.said.contains("made now"));
}

/// A clerk's line says what their session is: a read-only one looks and cannot hold; a door
/// one opens on the door.
#[test]
fn a_clerk_key_can_make_a_session_read_only_or_a_door() {
    let dir = tempfile::tempdir().unwrap();
    let (server, keys) = with_clerks(
        dir.path(),
        &["clerk=Vera,read-only", "clerk=Dora,door=demo-13"],
    );
    let (viewer, door) = (&keys[0], &keys[1]);
    let before = held(dir.path());
    let mut v = server.ssh(Some(viewer), 24, 80);
    v.wait_for("READ-ONLY");
    v.send(b"neon\r");
    v.wait_for("100 free");
    v.send(b"b2\r\r");
    v.wait_for("this terminal is read-only");
    assert_eq!(held(dir.path()), before);
    v.quit();
    let mut d = server.ssh(Some(door), 24, 80);
    d.wait_for("Door");
    d.quit();
    // The same from the command line: nothing held, the reason said, exit 3.
    let out = boxoffice(
        dir.path(),
        &[
            "--read-only",
            "hold",
            "demo-13",
            "FLR-C-1",
            "--customer",
            "a@example.com",
        ],
    );
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("this terminal is read-only"));
    assert_eq!(held(dir.path()), before);
}

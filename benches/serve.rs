//! `boxoffice serve`: a keypress's echo through the SSH server (the OpenSSH client, `serve`,
//! the app on its pseudo-terminal and back) against the same app on a local terminal; the
//! memory an idle session costs; 32 sessions at once.
//!
//! `cargo bench --bench serve`. Needs `ssh` (openssh-client). Prints figures; asserts nothing
//! about time.

// A benchmark, an example or a test: a failed unwrap is a failed run, with its reason.
#![allow(clippy::unwrap_used)]

#[path = "../tests/it/pty.rs"]
#[allow(dead_code)]
mod pty;

use portable_pty::CommandBuilder;
use pty::PtyApp;
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_boxoffice");

fn main() {
    if std::env::args().any(|a| a == "--list") {
        return;
    }
    if Command::new("ssh").arg("-V").output().is_err() {
        eprintln!("serve bench skipped: no ssh client (apt-get install openssh-client)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    // The demo, filled in once for the local terminal.
    let out = Command::new(BIN)
        .env("BOXOFFICE_DB", dir.path().join("box.db"))
        .arg("concerts")
        .output()
        .unwrap();
    assert!(out.status.success());

    let rounds = 200;
    let mut local = PtyApp::spawn(dir.path(), &[]);
    local.wait_for("24 concerts");
    let local_echo = echo(&mut local, rounds);
    local.quit();

    let (server, port) = serve(dir.path());
    let mut remote = ssh(port, 1);
    remote.wait_for("24 concerts");
    let remote_echo = echo(&mut remote, rounds);
    println!("keypress echo, {rounds} keys typed into the search field at 80x24:");
    println!("  {:<28} {}", "local terminal", figures(&local_echo));
    println!(
        "  {:<28} {}",
        "through serve (loopback)",
        figures(&remote_echo)
    );

    // Idle sessions: what each costs the server and what its app costs the machine.
    let pid = server.0.id();
    let base = rss_kb(pid);
    let started = Instant::now();
    let mut sessions = vec![remote];
    while sessions.len() < 32 {
        sessions.push(ssh(port, sessions.len() as u8 + 1));
    }
    for s in &sessions {
        s.wait_for("24 concerts");
    }
    let all_up = started.elapsed();
    // A moment for start-up's allocations to settle before counting.
    std::thread::sleep(Duration::from_millis(500));
    let serve_kb = rss_kb(pid);
    let apps = children(pid);
    let apps_kb: u64 = apps.iter().map(|p| rss_kb(*p)).sum();
    let mut one = sessions.pop().unwrap();
    let busy_echo = echo(&mut one, rounds);
    println!(
        "32 sessions at once: all on screen {:.1} s after the first of 31 more connected",
        all_up.as_secs_f64()
    );
    println!(
        "  the server: {} kB -> {} kB ({} kB a session); each app {} kB ({} processes)",
        base,
        serve_kb,
        serve_kb.saturating_sub(base) / 31,
        apps_kb / apps.len().max(1) as u64,
        apps.len()
    );
    println!(
        "  {:<28} {}",
        "echo beside 31 idle sessions",
        figures(&busy_echo)
    );
    one.quit();
    drop(sessions);
    drop(server);
}

/// Types a letter and deletes it, `rounds` times each, timing each key until the search field
/// shows it.
fn echo(app: &mut PtyApp, rounds: usize) -> Vec<Duration> {
    let field = |app: &PtyApp| -> String {
        let screen = app.parser.lock().unwrap().screen().contents();
        screen.lines().nth(2).unwrap_or_default().to_string()
    };
    let mut times = Vec::with_capacity(rounds * 2);
    for _ in 0..rounds {
        for (key, shown) in [(&b"x"[..], "│x_"), (&b"\x7f"[..], "│_")] {
            let t = Instant::now();
            app.send(key);
            let deadline = t + Duration::from_secs(10);
            while !field(app).starts_with(shown) {
                assert!(Instant::now() < deadline, "no echo: {}", field(app));
                std::thread::sleep(Duration::from_micros(100));
            }
            times.push(t.elapsed());
        }
    }
    times
}

fn figures(times: &[Duration]) -> String {
    let mut t = times.to_vec();
    t.sort();
    let at = |q: f64| t[((t.len() as f64 * q) as usize).min(t.len() - 1)];
    format!(
        "median {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        at(0.5).as_secs_f64() * 1e3,
        at(0.99).as_secs_f64() * 1e3,
        t[t.len() - 1].as_secs_f64() * 1e3
    )
}

/// `serve`, stopped when dropped (also when the benchmark fails).
struct Serve(Child);

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.0.id().to_string()])
            .status();
        let _ = self.0.wait();
    }
}

fn serve(dir: &Path) -> (Serve, u16) {
    let mut child = Command::new(BIN)
        .args(["serve", "--demo", "--listen", "127.0.0.1:0", "--host-key"])
        .arg(dir.join("host_key"))
        .env("BOXOFFICE_DB", dir.join("box.db"))
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let port = first.rsplit(':').next().unwrap().parse().unwrap();
    // Keep reading what it prints, so it never blocks on a full pipe.
    std::thread::spawn(move || for _ in lines {});
    (Serve(child), port)
}

/// A session from the loopback address 127.0.0.`from` (a new address for each: `serve` lets
/// one address open only so many connections a minute).
fn ssh(port: u16, from: u8) -> PtyApp {
    let mut cmd = CommandBuilder::new("ssh");
    cmd.arg("-b");
    cmd.arg(format!("127.0.0.{from}"));
    cmd.args([
        "-F",
        "/dev/null",
        "-o",
        "StrictHostKeyChecking=no",
        "-o",
        "UserKnownHostsFile=/dev/null",
        "-o",
        "LogLevel=ERROR",
        "-o",
        "PubkeyAuthentication=no",
        "-o",
        "PreferredAuthentications=keyboard-interactive",
        "-tt",
        "-p",
    ]);
    cmd.arg(port.to_string());
    cmd.arg("demo@127.0.0.1");
    cmd.env("TERM", "xterm-256color");
    PtyApp::spawn_command(cmd, 24, 80)
}

fn rss_kb(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0)
}

/// The processes whose parent is `pid`.
fn children(pid: u32) -> Vec<u32> {
    let mut out = Vec::new();
    for e in std::fs::read_dir("/proc").unwrap().flatten() {
        let Ok(p) = e.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let stat = std::fs::read_to_string(format!("/proc/{p}/stat")).unwrap_or_default();
        // The parent is the second field after the command's closing parenthesis.
        let parent = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.split_whitespace().nth(1)?.parse::<u32>().ok());
        if parent == Some(pid) {
            out.push(p);
        }
    }
    out
}

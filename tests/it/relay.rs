//! Sending for real: a day's confirmations through a real SMTP server and a real HTTP SMS
//! gateway on the loopback address (`tests/support/servers.py`: Python's aiosmtpd and
//! http.server), the sender killed half way, and every message arriving once (at most one
//! duplicate, with the same Message-ID, after the kill). Refusals for good (550, HTTP 400) mark
//! a message failed with the server's words; 451 is tried again. Skipped, with a note, where
//! python3 or aiosmtpd is missing (`.ci/run` installs them).

use serde_json::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const NOW: &str = "2026-11-25T12:00:00Z";
const LATER: &str = "2026-11-25T12:02:00Z";
const TOKEN: &str = "t0ken-for-tests";

struct Servers {
    child: Child,
    out: PathBuf,
    smtp: u16,
    http: u16,
}

impl Drop for Servers {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn servers(dir: &Path) -> Option<Servers> {
    servers_with(dir, &[])
}

/// [`servers`], with more arguments for `servers.py` (its TLS side).
fn servers_with(dir: &Path, extra: &[String]) -> Option<Servers> {
    let ok = Command::new("python3")
        .args(["-c", "import aiosmtpd"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !ok {
        eprintln!("skipped: python3 with aiosmtpd is not installed (pip install aiosmtpd)");
        return None;
    }
    let out = dir.join("received");
    let (smtp, http) = (free_port(), free_port());
    let child = Command::new("python3")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/servers.py"))
        .args([
            &smtp.to_string(),
            &http.to_string(),
            out.to_str().unwrap(),
            TOKEN,
        ])
        .args(extra)
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let servers = Servers {
        child,
        out,
        smtp,
        http,
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    while !servers.out.join("ready").exists() {
        assert!(Instant::now() < deadline, "the test servers did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    Some(servers)
}

struct Office<'a> {
    db: PathBuf,
    servers: &'a Servers,
}

impl Office<'_> {
    fn run(&self, now: &str, failpoint: Option<&str>, args: &[&str]) -> Output {
        let mut c = Command::new(env!("CARGO_BIN_EXE_boxoffice"));
        c.env("BOXOFFICE_DB", &self.db)
            .env("BOXOFFICE_NOW", now)
            .env(
                "BOXOFFICE_SMTP",
                format!("smtp://127.0.0.1:{}?tls=none", self.servers.smtp),
            )
            .env(
                "BOXOFFICE_SMS_GATEWAY",
                format!("http://127.0.0.1:{}/sms", self.servers.http),
            )
            .env("BOXOFFICE_SMS_TOKEN", TOKEN)
            .env(
                "BOXOFFICE_FROM",
                "\"Odeon Box Office\" <tickets@odeon.example>",
            )
            .env_remove("BOXOFFICE_SPOOL")
            .env_remove("BOXOFFICE_GATEWAY")
            .env_remove("BOXOFFICE_CONFIG")
            .env_remove("BOXOFFICE_FAILPOINT")
            .args(args)
            .stdin(Stdio::null());
        if let Some(fp) = failpoint {
            c.env("BOXOFFICE_FAILPOINT", fp);
        }
        c.output().unwrap()
    }

    fn json(&self, now: &str, args: &[&str]) -> Value {
        let out = self.run(now, None, args);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap()
    }

    /// A booking of the best two seats for `email`, paid in cash.
    fn sell(&self, email: &str, phone: &str, failpoint: Option<&str>) -> Output {
        let hold = self.json(
            NOW,
            &[
                "hold",
                "demo-13",
                "--best",
                "2",
                "--customer",
                email,
                "--phone",
                phone,
                "--json",
            ],
        );
        self.run(
            NOW,
            failpoint,
            &["pay", hold["hold_id"].as_str().unwrap(), "--cash", "20000"],
        )
    }

    fn sql<T: rusqlite::types::FromSql>(&self, q: &str) -> Vec<T> {
        let conn = rusqlite::Connection::open(&self.db).unwrap();
        let mut st = conn.prepare(q).unwrap();
        st.query_map([], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap()
    }
}

/// Message-ID → how many times it arrived.
fn received_mail(out: &Path) -> HashMap<String, usize> {
    let mut seen = HashMap::new();
    for e in std::fs::read_dir(out.join("smtp")).unwrap().flatten() {
        if e.path().extension().is_some_and(|x| x == "eml") {
            let text = std::fs::read_to_string(e.path()).unwrap();
            let id = text
                .lines()
                .find_map(|l| l.strip_prefix("Message-ID: "))
                .expect("every message has a Message-ID")
                .trim()
                .to_string();
            *seen.entry(id).or_default() += 1;
        }
    }
    seen
}

/// SMS reference → how many times it arrived, and the texts.
fn received_sms(out: &Path) -> (HashMap<String, usize>, Vec<Value>) {
    let text = std::fs::read_to_string(out.join("sms.jsonl")).unwrap_or_default();
    let all: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let mut seen = HashMap::new();
    for s in &all {
        *seen
            .entry(s["reference"].as_str().unwrap().to_string())
            .or_default() += 1;
    }
    (seen, all)
}

#[test]
fn a_days_messages_go_through_a_real_relay_and_gateway_once_even_when_the_sender_is_killed() {
    let dir = tempfile::tempdir().unwrap();
    let Some(servers) = servers(dir.path()) else {
        return;
    };
    let office = Office {
        db: dir.path().join("box.db"),
        servers: &servers,
    };
    assert!(office.run(NOW, None, &["concerts"]).status.success());
    for i in 0..6 {
        // The fourth sale's terminal dies right after the relay took its first message, before
        // it could record that.
        let fp = (i == 3).then_some("relay:after-send");
        let out = office.sell(
            &format!("guest{i}@example.com"),
            &format!("+43 660 12345{i}{i}"),
            fp,
        );
        if fp.is_some() {
            assert!(!out.status.success(), "killed");
        } else {
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
    // A refusal for good and a "try again later", for email and for SMS.
    assert!(
        office
            .sell("reject@example.com", "+43 660 111 400", None)
            .status
            .success()
    );
    assert!(
        office
            .sell("later@example.com", "+43 660 111 503", None)
            .status
            .success()
    );
    // The next start, after the killed terminal's lease on its message ran out, sends the rest.
    office.json(LATER, &["spool", "flush", "--json"]);

    let status = office.json(LATER, &["spool", "status", "--json"]);
    let routes: HashMap<String, i64> = status["by_route"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["via"].as_str().unwrap().to_string(),
                r["delivered"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(routes.get("smtp"), Some(&6), "{status}");
    assert_eq!(routes.get("sms-gateway"), Some(&6), "{status}");
    assert_eq!(status["failed"], 2, "{status}");
    let waiting = status["waiting"].as_array().unwrap();
    let why = |recipient: &str| -> String {
        waiting
            .iter()
            .find(|w| w["recipient"].as_str().unwrap().contains(recipient))
            .map(|w| format!("{} {}", w["state"], w["last_error"]))
            .unwrap_or_default()
    };
    assert!(
        why("reject@").contains("failed") && why("reject@").contains("550"),
        "{status}"
    );
    assert!(
        why("111400").contains("failed") && why("111400").contains("400"),
        "{status}"
    );
    assert!(
        why("later@").contains("pending") && why("later@").contains("451"),
        "{status}"
    );
    assert!(
        why("111503").contains("pending") && why("111503").contains("503"),
        "{status}"
    );

    // Every delivered email arrived, by its Message-ID; one at most twice (the killed one).
    let box_id: String = office.sql("SELECT id FROM box_office").remove(0);
    let delivered: Vec<String> = office.sql(
        "SELECT id || '.' || coalesce(booking_code, 'notice') FROM outbox WHERE channel = 'email' AND state = 'delivered'",
    );
    let mail = received_mail(&servers.out);
    for row in &delivered {
        let id = format!("<outbox-{box_id}-{row}@boxoffice.localhost>");
        assert!(mail.contains_key(&id), "{id} never arrived: {mail:?}");
    }
    assert_eq!(
        mail.len(),
        delivered.len(),
        "nothing else arrived: {mail:?}"
    );
    let twice: Vec<_> = mail.values().filter(|n| **n > 1).collect();
    assert!(
        twice.len() <= 1 && twice.iter().all(|n| **n == 2),
        "{mail:?}"
    );
    // And every SMS, by its reference, each once (the killed terminal had sent only its email).
    let (sms, texts) = received_sms(&servers.out);
    assert_eq!(sms.len(), 6, "{sms:?}");
    assert!(sms.values().all(|n| *n == 1), "{sms:?}");
    assert!(
        texts
            .iter()
            .all(|t| t["to"].as_str().unwrap().starts_with("+43"))
    );

    // The relay saw the sender the box office is configured with.
    let one = std::fs::read_dir(servers.out.join("smtp"))
        .unwrap()
        .flatten()
        .find(|e| e.path().extension().is_some_and(|x| x == "eml"))
        .unwrap();
    let text = std::fs::read_to_string(one.path()).unwrap();
    assert!(
        text.contains("From: \"Odeon Box Office\" <tickets@odeon.example>"),
        "{text}"
    ); // The calendar entry names its organizer, as REQUEST and CANCEL need.
    assert!(
        text.contains("ORGANIZER;CN=\"Odeon Box Office\":mailto:tickets@odeon.example"),
        "{text}"
    );
}

/// A mail relay that takes connections and never says a word (a hung server, a firewall that
/// swallows the packets). Its port; the connections are held open for the test's life.
fn silent_relay() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for conn in listener.incoming().flatten() {
            held.push(conn);
        }
    });
    port
}

/// With a relay that never answers, no command waits on it: a sale, and the concert list with
/// messages due, each finish in a few seconds (they took the relay's time-out, 10 s, for every
/// message due: with nine due the list took 90 s), and the messages wait in the outbox, none
/// lost.
#[test]
fn a_relay_that_never_answers_holds_up_no_command_and_loses_no_message() {
    let dir = tempfile::tempdir().unwrap();
    let db = crate::common::engine::demo_file(dir.path(), NOW.parse().unwrap());
    let port = silent_relay();
    let run = |args: &[&str]| -> (Output, Duration) {
        let started = Instant::now();
        let out = Command::new(env!("CARGO_BIN_EXE_boxoffice"))
            .env("BOXOFFICE_DB", &db)
            .env("BOXOFFICE_NOW", NOW)
            .env(
                "BOXOFFICE_SMTP",
                format!("smtp://127.0.0.1:{port}?tls=none"),
            )
            .env_remove("BOXOFFICE_SMS_GATEWAY")
            .env_remove("BOXOFFICE_SPOOL")
            .env_remove("BOXOFFICE_GATEWAY")
            .env_remove("BOXOFFICE_CONFIG")
            .env_remove("BOXOFFICE_FAILPOINT")
            .args(args)
            .stdin(Stdio::null())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        (out, started.elapsed())
    };
    // The relay's own time-out is 10 s: a command that waited on it took at least that.
    let quick = Duration::from_secs(8);
    for i in 0..3 {
        let email = format!("guest{i}@example.com");
        let (held, took) = run(&[
            "hold",
            "demo-13",
            "--best",
            "1",
            "--customer",
            &email,
            "--json",
        ]);
        assert!(took < quick, "a hold took {took:?}");
        let held: Value = serde_json::from_slice(&held.stdout).unwrap();
        let (paid, took) = run(&["pay", held["hold_id"].as_str().unwrap(), "--cash", "20000"]);
        assert!(took < quick, "a sale took {took:?}");
        assert!(String::from_utf8_lossy(&paid.stdout).contains("booked"));
        // Its confirmation was still on its way when the command gave up waiting: said so.
        assert!(
            String::from_utf8_lossy(&paid.stderr).contains("spool send"),
            "says how the rest is sent: {}",
            String::from_utf8_lossy(&paid.stderr)
        );
    }
    let (_, took) = run(&["concerts", "--limit", "1"]);
    assert!(took < quick, "the concert list took {took:?}");
    let (status, _) = run(&["spool", "status", "--json"]);
    let status: Value = serde_json::from_slice(&status.stdout).unwrap();
    assert_eq!(status["pending"], 3, "every confirmation waits: {status}");
    assert_eq!(status["delivered"], 0, "{status}");
}

/// A private CA, made here with openssl, and a certificate it signed for `localhost`: the
/// CA's file and the server's certificate and key.
fn private_ca(dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let openssl = |args: &[&str]| {
        let out = Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "2",
        "-subj",
        "/CN=Odeon CA",
        "-keyout",
        "ca.key",
        "-out",
        "ca.crt",
    ]);
    openssl(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=localhost",
        "-keyout",
        "relay.key",
        "-out",
        "relay.csr",
    ]);
    std::fs::write(dir.join("san"), "subjectAltName=DNS:localhost\n").unwrap();
    openssl(&[
        "x509",
        "-req",
        "-in",
        "relay.csr",
        "-CA",
        "ca.crt",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        "san",
        "-out",
        "relay.crt",
    ]);
    (
        dir.join("ca.crt"),
        dir.join("relay.crt"),
        dir.join("relay.key"),
    )
}

/// A relay that requires STARTTLS and a login, and an SMS gateway over HTTPS, both with a
/// certificate from a company's own CA: with the CA given (`BOXOFFICE_CA_FILE`), the sale's
/// email (after logging in inside TLS) and SMS arrive; without it, the certificate is refused
/// and the messages wait, the reason kept.
#[test]
fn a_relay_and_a_gateway_with_a_private_ca_are_used_once_the_ca_is_given() {
    let dir = tempfile::tempdir().unwrap();
    let (ca, cert, key) = private_ca(dir.path());
    let (tls_port, https_port) = (free_port(), free_port());
    let extra = [
        tls_port.to_string(),
        https_port.to_string(),
        cert.display().to_string(),
        key.display().to_string(),
    ];
    let Some(servers) = servers_with(dir.path(), &extra) else {
        return;
    };
    let sell = |db: &Path, ca_file: Option<&Path>| -> Value {
        let run = |args: &[&str]| {
            let mut c = Command::new(env!("CARGO_BIN_EXE_boxoffice"));
            c.env("BOXOFFICE_DB", db)
                .env("BOXOFFICE_NOW", NOW)
                .env(
                    "BOXOFFICE_SMTP",
                    format!("smtp://tickets@localhost:{tls_port}"),
                )
                .env("BOXOFFICE_SMTP_PASSWORD", TOKEN)
                .env(
                    "BOXOFFICE_SMS_GATEWAY",
                    format!("https://localhost:{https_port}/sms"),
                )
                .env("BOXOFFICE_SMS_TOKEN", TOKEN)
                .env_remove("BOXOFFICE_CA_FILE")
                .env_remove("SSL_CERT_FILE")
                .env_remove("BOXOFFICE_SPOOL")
                .env_remove("BOXOFFICE_GATEWAY")
                .env_remove("BOXOFFICE_CONFIG")
                .env_remove("BOXOFFICE_FAILPOINT")
                .args(args)
                .stdin(Stdio::null());
            if let Some(ca) = ca_file {
                c.env("BOXOFFICE_CA_FILE", ca);
            }
            let out = c.output().unwrap();
            assert!(
                out.status.success(),
                "{args:?}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
            serde_json::from_slice::<Value>(&out.stdout).unwrap_or(Value::Null)
        };
        let held = run(&[
            "hold",
            "demo-13",
            "--best",
            "1",
            "--customer",
            "anna@example.com",
            "--phone",
            "+43 660 1112233",
            "--json",
        ]);
        run(&["pay", held["hold_id"].as_str().unwrap(), "--cash", "20000"]);
        run(&["spool", "send", "--json"])
    };
    let trusted = tempfile::tempdir().unwrap();
    let db = crate::common::engine::demo_file(trusted.path(), NOW.parse().unwrap());
    let status = sell(&db, Some(&ca));
    let routes = status["by_route"].to_string();
    assert!(
        routes.contains("\"smtp\"") && routes.contains("\"sms-gateway\""),
        "{status}"
    );
    assert_eq!(status["pending"], 0, "{status}");
    assert_eq!(received_mail(&servers.out).len(), 1);
    assert_eq!(received_sms(&servers.out).0.len(), 1);
    // Without the CA: the certificate is refused, the messages wait with the reason.
    let untrusted = tempfile::tempdir().unwrap();
    let db = crate::common::engine::demo_file(untrusted.path(), NOW.parse().unwrap());
    let status = sell(&db, None);
    assert_eq!(status["pending"], 2, "{status}");
    let why = status["waiting"].to_string().to_lowercase();
    assert!(
        why.contains("certificate") || why.contains("issuer"),
        "{status}"
    );
    assert_eq!(received_mail(&servers.out).len(), 1, "nothing more arrived");
}

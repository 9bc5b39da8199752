//! Crash safety: the real binary killed at every failpoint of the pay, cancel and spool paths,
//! then restarted; no seat sold twice, no booking without its payment, no charge without its
//! booking or a refund, every notice delivered exactly once.
//! Failpoints exist only in debug builds (the test profile).

use crate::common;

use common::{spool_files, violations};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

const NOW: &str = "2026-11-25T12:00:00Z";
const LATER: &str = "2026-11-25T12:04:00Z";

struct BoxOffice {
    _dir: tempfile::TempDir,
    root: PathBuf,
    /// The box office: `root/box.db`, or a PostgreSQL database of its own.
    db: PathBuf,
}

impl BoxOffice {
    fn new() -> BoxOffice {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_path_buf();
        let db = common::engine::fresh_demo_db(&root);
        BoxOffice {
            _dir: dir,
            root,
            db,
        }
    }

    fn cmd(&self, now: &str, failpoint: Option<&str>, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_boxoffice"));
        // The spool, the gateway's ledger and the log here, whichever engine.
        c.env("BOXOFFICE_DB", &self.db)
            .env("BOXOFFICE_NOW", now)
            .env("BOXOFFICE_SPOOL", self.root.join("spool"))
            .env("BOXOFFICE_GATEWAY", self.root.join("gateway.db"))
            .env("XDG_DATA_HOME", &self.root)
            .env_remove("BOXOFFICE_FAILPOINT")
            .args(args);
        if let Some(fp) = failpoint {
            c.env("BOXOFFICE_FAILPOINT", fp);
        }
        c
    }

    fn run(&self, now: &str, failpoint: Option<&str>, args: &[&str]) -> Output {
        self.cmd(now, failpoint, args)
            .stdin(Stdio::null())
            .output()
            .unwrap()
    }

    fn ok(&self, args: &[&str]) -> Value {
        let out = self.run(NOW, None, args);
        assert!(
            out.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout).unwrap_or(Value::Null)
    }

    fn hold(&self, seats: &[&str]) -> String {
        let mut args = vec!["hold", "demo-13"];
        args.extend_from_slice(seats);
        args.extend_from_slice(&[
            "--customer",
            "crash@example.com",
            "--phone",
            "+4366012345",
            "--json",
        ]);
        self.ok(&args)["hold_id"].as_str().unwrap().to_string()
    }

    fn check(&self) {
        let v = violations(&self.db, &self.root.join("gateway.db"));
        assert!(v.is_empty(), "{v:?}");
        let rows = self.sql("SELECT count(*) FROM outbox");
        let delivered = self.sql("SELECT count(*) FROM outbox WHERE state = 'delivered'");
        assert_eq!(rows, delivered, "every notice delivered");
        // The day's money check agrees: every charge has its booking or its refund.
        let audit = self.run(LATER, None, &["audit", "--json"]);
        assert!(
            audit.status.success(),
            "audit: {}",
            String::from_utf8_lossy(&audit.stdout)
        );
        assert_eq!(
            spool_files(&self.root.join("spool")) as i64,
            rows,
            "exactly one file per notice"
        );
    }

    fn sql(&self, q: &str) -> i64 {
        common::sql(&self.db)
            .db()
            .query_row(q, (), |r| r.get(0))
            .unwrap()
    }

    fn gateway_sql(&self, q: &str) -> i64 {
        let conn = rusqlite::Connection::open(self.root.join("gateway.db")).unwrap();
        conn.query_row(q, [], |r| r.get(0)).unwrap()
    }
}

fn killed(out: &Output) -> bool {
    !out.status.success() && out.status.code() != Some(1) && out.status.code() != Some(2)
}

fn pay_card(b: &BoxOffice, hold: &str, fp: Option<&str>) -> Output {
    b.run(
        NOW,
        fp,
        &[
            "pay",
            hold,
            "--card",
            "4242424242424242",
            "--exp",
            "12/28",
            "--cvc",
            "123",
        ],
    )
}

#[test]
fn a_kill_at_any_step_of_a_card_payment_is_recovered() {
    for (fp, expect_booking) in [
        ("pay:after-record", false),
        ("pay:after-charge", true),
        ("pay:after-confirm", true),
    ] {
        let b = BoxOffice::new();
        let hold = b.hold(&["FLR-A-1", "FLR-A-2"]);
        let out = pay_card(&b, &hold, Some(fp));
        assert!(killed(&out), "{fp}: {:?}", out.status);
        // A restart inside the payment lease leaves a possibly in-flight payment alone.
        let r = b.run(NOW, None, &["reconcile", "--json"]);
        assert!(r.status.success());
        // After the lease, reconcile (run at every start, and by `boxoffice reconcile`) settles it.
        let out = b.run(LATER, None, &["reconcile", "--json"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        // It says what it did, though start-up did it before the command ran.
        let report: Value = serde_json::from_slice(&out.stdout).unwrap();
        match fp {
            "pay:after-record" => assert_eq!(report["released"], 1, "{report}"),
            "pay:after-charge" => {
                assert_eq!(report["confirmed"].as_array().unwrap().len(), 1, "{report}")
            }
            _ => assert_eq!(report["released"], 0, "{report}"),
        }
        b.run(LATER, None, &["spool", "flush"]);
        b.check();
        let bookings = b.sql("SELECT count(*) FROM bookings b JOIN holds h ON h.id = b.hold_id WHERE h.email = 'crash@example.com'");
        assert_eq!(bookings, expect_booking as i64, "{fp}");
        let held = b.sql("SELECT count(*) FROM claims WHERE hold_id IN (SELECT id FROM holds WHERE email = 'crash@example.com')");
        assert_eq!(
            held,
            if expect_booking { 2 } else { 0 },
            "{fp}: seats booked or released"
        );
        let charges = b.gateway_sql("SELECT count(*) FROM charges");
        assert_eq!(charges, expect_booking as i64, "{fp}: charged at most once");
    }
}

#[test]
fn a_kill_during_a_cash_payment_releases_the_seats() {
    let b = BoxOffice::new();
    let hold = b.hold(&["FLR-B-1"]);
    let out = b.run(
        NOW,
        Some("pay:after-record"),
        &["pay", &hold, "--cash", "5000"],
    );
    assert!(killed(&out));
    b.run(LATER, None, &["reconcile"]);
    b.check();
    assert_eq!(b.sql("SELECT count(*) FROM claims WHERE hold_id = (SELECT id FROM holds WHERE state != 'paid' LIMIT 1) AND booking_id IS NULL"), 0);
}

/// The seats held and paid by card; the booking's code.
fn sold_by_card(b: &BoxOffice, seats: &[&str]) -> String {
    let hold = b.hold(seats);
    assert!(pay_card(b, &hold, None).status.success());
    common::sql(&b.db)
        .db()
        .query_row(
            "SELECT code FROM bookings WHERE hold_id = ?1",
            [&hold],
            |r| r.get(0),
        )
        .unwrap()
}

#[test]
fn a_kill_during_a_cancellation_finishes_the_refund_exactly_once() {
    for fp in ["cancel:after-cancel", "cancel:after-refund"] {
        let b = BoxOffice::new();
        let code = sold_by_card(&b, &["FLR-C-1", "FLR-C-2"]);
        let out = b.run(NOW, Some(fp), &["cancel", &code]);
        assert!(killed(&out), "{fp}");
        // The seats are free at once; the refund is finished by the next start.
        assert_eq!(
            b.sql("SELECT count(*) FROM payments WHERE kind = 'refund' AND state = 'pending'"),
            1
        );
        let out = b.run(NOW, None, &["reconcile", "--json"]);
        assert!(out.status.success());
        b.run(NOW, None, &["spool", "flush"]);
        b.check();
        assert_eq!(
            b.gateway_sql("SELECT count(*) FROM refunds"),
            1,
            "{fp}: refunded once"
        );
        assert_eq!(b.ok(&["booking", &code, "--json"])["refunded_cents"], 4800);
    }
}

/// Cancelling one seat of two, killed right after the cancellation committed or right after
/// the processor refunded: the seat's price is refunded exactly once, the rest stays booked.
#[test]
fn a_kill_during_a_partial_cancellation_refunds_the_seat_exactly_once() {
    for fp in ["cancel:after-cancel", "cancel:after-refund"] {
        let b = BoxOffice::new();
        let code = sold_by_card(&b, &["FLR-C-1", "FLR-C-2"]);
        let out = b.run(NOW, Some(fp), &["cancel", &code, "--seats", "FLR-C-2"]);
        assert!(killed(&out), "{fp}");
        let out = b.run(NOW, None, &["reconcile", "--json"]);
        assert!(out.status.success());
        b.run(NOW, None, &["spool", "flush"]);
        b.check();
        assert_eq!(
            b.gateway_sql("SELECT count(*) FROM refunds"),
            1,
            "{fp}: refunded once"
        );
        let booking = b.ok(&["booking", &code, "--json"]);
        assert_eq!(booking["state"], "confirmed", "{fp}");
        assert_eq!(booking["refunded_cents"], 2400, "{fp}");
        assert_eq!(booking["total_cents"], 2400, "{fp}");
        // The rest later: only what is left of the charge.
        b.ok(&["cancel", &code, "--json"]);
        assert_eq!(
            b.gateway_sql("SELECT coalesce(sum(amount_cents), 0) FROM refunds"),
            4800
        );
        b.check();
    }
}

#[test]
fn a_kill_while_writing_the_spool_neither_loses_nor_duplicates_a_message() {
    for fp in ["spool:before-rename", "spool:after-rename"] {
        let b = BoxOffice::new();
        let hold = b.hold(&["FLR-D-1"]);
        let out = b.run(NOW, Some(fp), &["pay", &hold, "--cash", "5000"]);
        assert!(killed(&out), "{fp}");
        // The booking stands whatever happened to its messages.
        assert_eq!(b.sql("SELECT count(*) FROM bookings WHERE hold_id = (SELECT id FROM holds WHERE state = 'paid' AND email = 'crash@example.com')"), 1);
        // Minutes later: on PostgreSQL the message was leased to the process that was killed
        // (machines sharing the box office deliver each message once), and goes once the
        // lease has run out.
        let out = b.run(LATER, None, &["spool", "flush"]);
        assert!(out.status.success());
        b.check();
    }
}

/// The full number of every test card, plain and as typed with spaces.
fn card_needles() -> Vec<String> {
    let numbers = [
        "4242424242424242",
        "4000000000000002",
        "4000000000009995",
        "4000000000000119",
        "4242424242424241",
    ];
    let mut v: Vec<String> = numbers.iter().map(|n| n.to_string()).collect();
    for n in numbers {
        let spaced: Vec<String> = n
            .as_bytes()
            .chunks(4)
            .map(|c| String::from_utf8_lossy(c).to_string())
            .collect();
        v.push(spaced.join(" "));
    }
    v
}

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            files_under(&p, out);
        } else {
            out.push(p);
        }
    }
}

#[test]
fn no_file_or_output_ever_holds_a_full_card_number() {
    let b = BoxOffice::new();
    let mut outputs: Vec<Output> = Vec::new();
    b.hold(&["FLR-J-10"]);
    // The card ledger is made at the first card operation: the day's check reads it.
    b.run(NOW, None, &["audit"]);
    // Held open so SQLite keeps the write-ahead logs on disk for the search below.
    let keep: Vec<rusqlite::Connection> = ["box.db", "gateway.db"]
        .iter()
        .map(|f| {
            let c = rusqlite::Connection::open(b.root.join(f)).unwrap();
            c.query_row("SELECT count(*) FROM sqlite_master", [], |r| {
                r.get::<_, i64>(0)
            })
            .unwrap();
            c
        })
        .collect();
    for (number, seats) in [
        ("4242 4242 4242 4242", ["FLR-E-1", "FLR-E-2"]),
        ("4000000000000002", ["FLR-F-1", "FLR-F-2"]),
        ("4000 0000 0000 9995", ["FLR-G-1", "FLR-G-2"]),
        ("4000000000000119", ["FLR-H-1", "FLR-H-2"]),
        ("4242424242424241", ["FLR-J-1", "FLR-J-2"]),
    ] {
        let hold = b.hold(&seats);
        // Once on the command line, once on standard input.
        outputs.push(b.run(
            NOW,
            None,
            &[
                "pay", &hold, "--card", number, "--exp", "12/28", "--cvc", "737",
            ],
        ));
        let mut child = b
            .cmd(
                NOW,
                None,
                &[
                    "pay", &hold, "--card", "-", "--exp", "12/28", "--cvc", "737", "--json",
                ],
            )
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        writeln!(child.stdin.take().unwrap(), "{number}").unwrap();
        outputs.push(child.wait_with_output().unwrap());
    }
    let code: String = {
        let conn = rusqlite::Connection::open(b.root.join("box.db")).unwrap();
        conn.query_row("SELECT b.code FROM bookings b JOIN payments p ON p.booking_id = b.id WHERE p.processor = 'card'", [], |r| r.get(0)).unwrap()
    };
    outputs.push(b.run(NOW, None, &["cancel", &code]));
    outputs.push(b.run(NOW, None, &["booking", &code, "--json"]));
    // Make sure the WAL files exist to be searched, then search every byte of every file.
    let mut files = Vec::new();
    files_under(&b.root, &mut files);
    assert!(
        files
            .iter()
            .any(|f| f.to_string_lossy().ends_with("box.db-wal")),
        "{files:?}"
    );
    assert!(
        files
            .iter()
            .any(|f| f.to_string_lossy().ends_with("gateway.db-wal")),
        "{files:?}"
    );
    assert!(
        files
            .iter()
            .any(|f| f.to_string_lossy().ends_with("boxoffice.log"))
    );
    assert!(
        files
            .iter()
            .any(|f| f.to_string_lossy().contains("email/new"))
    );
    for needle in card_needles() {
        for f in &files {
            let bytes = std::fs::read(f).unwrap();
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle.as_bytes()),
                "{} contains a card number",
                f.display()
            );
        }
        for o in &outputs {
            for stream in [&o.stdout, &o.stderr] {
                assert!(
                    !String::from_utf8_lossy(stream).contains(&needle),
                    "output shows {needle}"
                );
            }
        }
    }
    drop(keep);
    // What may be stored is there: brand and last four.
    assert_eq!(
        b.sql("SELECT count(*) FROM payments WHERE detail LIKE 'Visa ending 4242%'"),
        1
    );
}

#[test]
fn a_declined_card_says_why_and_how_to_hold_the_seats_again() {
    let b = BoxOffice::new();
    let hold = b.hold(&["FLR-H-1", "FLR-H-2"]);
    let out = b.run(
        NOW,
        None,
        &[
            "pay",
            &hold,
            "--card",
            "4000000000009995",
            "--exp",
            "12/28",
            "--cvc",
            "123",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("insufficient funds"), "{err}");
    let again = err
        .lines()
        .find(|l| l.trim_start().starts_with("boxoffice hold"))
        .expect("a command to hold again");
    let args: Vec<&str> = again.split_whitespace().skip(1).collect();
    let out = b.run(NOW, None, &args);
    assert!(
        out.status.success(),
        "{again}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A typo in the card changes nothing: the hold stays.
    let hold: String = String::from_utf8_lossy(&out.stdout)
        .lines()
        .next()
        .unwrap()
        .trim_start_matches("hold ")
        .to_string();
    let out = b.run(
        NOW,
        None,
        &[
            "pay",
            &hold,
            "--card",
            "4242424242424241",
            "--exp",
            "12/28",
            "--cvc",
            "123",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("mistyped"));
    assert!(pay_card(&b, &hold, None).status.success());
}

#[test]
fn a_confirmation_email_parses_in_a_real_mail_parser() {
    let Ok(python) = which_python() else {
        eprintln!(
            "python3 not found; skipping the mail-parser check (see README for the manual step)"
        );
        return;
    };
    let b = BoxOffice::new();
    let hold = b.hold(&["FLR-J-1", "FLR-J-2"]);
    assert!(pay_card(&b, &hold, None).status.success());
    let dir = b.root.join("spool/email/new");
    let file = std::fs::read_dir(&dir)
        .unwrap()
        .flatten()
        .next()
        .unwrap()
        .path();
    let script = r#"
import email, sys
from email import policy
msg = email.message_from_binary_file(open(sys.argv[1], 'rb'), policy=policy.default)
assert msg['To'].addresses[0].addr_spec == 'crash@example.com', msg['To']
assert msg['Message-ID'] and msg['Date'] and msg['From'] and msg['Subject']
body = msg.get_body(('plain',)).get_content()
assert 'FLR-J-1' in body and 'Booking code' in body, body
ics = [p for p in msg.iter_attachments() if p.get_content_type() == 'text/calendar']
assert len(ics) == 1, [p.get_content_type() for p in msg.iter_attachments()]
cal = ics[0].get_content()
for needle in ['BEGIN:VEVENT', 'DTSTART:', 'LOCATION:The Velvet Room', 'UID:']:
    assert needle in cal, needle
print('parsed')
"#;
    let out = Command::new(python)
        .arg("-c")
        .arg(script)
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn which_python() -> Result<&'static str, ()> {
    for p in ["python3", "python"] {
        if Command::new(p)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
        {
            return Ok(p);
        }
    }
    Err(())
}

#[test]
fn an_import_killed_half_way_shows_nothing_and_the_next_import_clears_it_away() {
    let b = BoxOffice::new();
    b.ok(&["concerts", "--json"]);
    let visible = b.sql("SELECT count(*) FROM concerts");
    let feb = || {
        b.ok(&[
            "concerts",
            "--from",
            "2027-02-01",
            "--to",
            "2027-02-28",
            "--json",
        ])
        .as_array()
        .unwrap()
        .len()
    };
    let in_february = feb();
    let mut csv =
        String::from("external_id,artist,title,venue,starts_at,on_sale_at,price_S,price_P\n");
    for i in 0..600 {
        csv.push_str(&format!(
            "k-{i},Band {i},Night,velvet-room,2027-02-{:02} {}:00 Europe/Vienna,2026-11-01 09:00 Europe/Vienna,20,30\n",
            1 + i % 28,
            12 + (i / 28) % 10
        ));
    }
    let file = b.root.join("season.csv");
    std::fs::write(&file, csv).unwrap();
    let out = b.run(
        NOW,
        Some("import:staged"),
        &["import", file.to_str().unwrap()],
    );
    assert!(killed(&out), "{:?}", out.status);
    // Its first rows are written, and nobody sees them.
    assert!(b.sql("SELECT count(*) FROM concerts WHERE import_batch IS NOT NULL") > 0);
    assert_eq!(feb(), in_february);
    assert_eq!(b.run(NOW, None, &["seats", "k-0"]).status.code(), Some(2));
    // The next import removes what the dead one left and adds the season once.
    let out = b.run(NOW, None, &["import", file.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        b.sql("SELECT count(*) FROM concerts WHERE import_batch IS NOT NULL"),
        0
    );
    assert_eq!(b.sql("SELECT count(*) FROM imports"), 0);
    assert_eq!(b.sql("SELECT count(*) FROM concerts"), visible + 600);
    assert_eq!(feb(), in_february + 600);
    // Killed after the import is in, before its concerts' marks are cleared: they are in the
    // catalog, and the next import clears the marks and removes nothing.
    let more = std::fs::read_to_string(&file)
        .unwrap()
        .replace("k-", "m-")
        .replace("2027-02-", "2027-03-");
    std::fs::write(&file, more).unwrap();
    let out = b.run(
        NOW,
        Some("import:done"),
        &["import", file.to_str().unwrap()],
    );
    assert!(killed(&out), "{:?}", out.status);
    assert!(b.sql("SELECT count(*) FROM concerts WHERE import_batch IS NOT NULL") > 0);
    assert!(b.run(NOW, None, &["seats", "m-599"]).status.success());
    let out = b.run(NOW, None, &["import", file.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("unchanged 600"),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    assert_eq!(
        b.sql("SELECT count(*) FROM concerts WHERE import_batch IS NOT NULL"),
        0
    );
    assert_eq!(b.sql("SELECT count(*) FROM concerts"), visible + 1_200);
}

// Not `no_file_or_output_ever_holds_a_full_card_number`: it searches the SQLite files' bytes.
on_postgres_too!(
    a_kill_at_any_step_of_a_card_payment_is_recovered,
    a_kill_during_a_cash_payment_releases_the_seats,
    a_kill_during_a_cancellation_finishes_the_refund_exactly_once,
    a_kill_during_a_partial_cancellation_refunds_the_seat_exactly_once,
    a_kill_while_writing_the_spool_neither_loses_nor_duplicates_a_message,
    a_declined_card_says_why_and_how_to_hold_the_seats_again,
    a_confirmation_email_parses_in_a_real_mail_parser,
    an_import_killed_half_way_shows_nothing_and_the_next_import_clears_it_away,
);

/// Killed right after the door said ADMITTED (the admission written durably first): the next
/// scan of the ticket, by any door, knows it was used.
#[test]
fn a_door_killed_right_after_admitting_remembers_the_admission() {
    let b = BoxOffice::new();
    let hold = b.hold(&["FLR-A-1"]);
    let paid = b.ok(&["pay", &hold, "--cash", "20000", "--json"]);
    let code = paid["booking_code"].as_str().unwrap().to_string();
    let booking = b.ok(&["booking", &code, "--json"]);
    let ticket = booking["tickets"][0]["ticket_code"]
        .as_str()
        .unwrap()
        .to_string();
    // Half an hour before the start: the doors are open.
    let starts: chrono::DateTime<chrono::Utc> = booking["concert"]["starts_at"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let at_the_door = (starts - chrono::Duration::minutes(30)).to_rfc3339();
    let killed = b.run(
        &at_the_door,
        Some("door:after-admit"),
        &["checkin", &ticket, "--door", "north"],
    );
    assert!(!killed.status.success(), "killed after admitting");
    let again = b.run(
        &at_the_door,
        None,
        &["checkin", &ticket, "--door", "south", "--json"],
    );
    let said: Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!(said["reason"], "already checked in", "{said}");
    assert_eq!(said["door"], "north", "{said}");
}

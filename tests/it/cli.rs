//! The real binary: JSON fields and exit statuses scripts rely on, and several processes racing
//! for the same seats on one database file.

use crate::common;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const NOW: &str = "2026-11-25T12:00:00Z";

/// Where the box office at `db` keeps this machine's own files (spool, card gateway, log):
/// beside a SQLite file; for a PostgreSQL one, the data directory `bin` gives it.
fn local(db: &Path) -> PathBuf {
    let text = db.to_string_lossy();
    if !text.starts_with("postgres") {
        return db.parent().unwrap().to_path_buf();
    }
    let name = common::engine::name_of(&text);
    std::env::temp_dir()
        .join(format!("boxoffice-cli-{name}"))
        .join("boxoffice")
}

fn bin(db: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_boxoffice"));
    c.env("BOXOFFICE_DB", db).env("BOXOFFICE_NOW", NOW);
    if let Some(data) = local(db)
        .parent()
        .filter(|_| db.to_string_lossy().starts_with("postgres"))
    {
        c.env("XDG_DATA_HOME", data);
    }
    c
}

fn run(db: &Path, args: &[&str]) -> Output {
    bin(db).args(args).output().unwrap()
}

fn json(db: &Path, args: &[&str]) -> Value {
    let out = run(db, args);
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// A cash sale at the command line: `hold CONCERT SEATS... --customer EMAIL`, then `pay --cash`
/// (EUR 200 tendered); what `pay --json` said.
fn cash_sale(db: &Path, concert: &str, seats: &[&str], email: &str) -> Value {
    let mut hold = vec!["hold", concert];
    hold.extend_from_slice(seats);
    hold.extend(["--customer", email, "--json"]);
    let held = json(db, &hold);
    json(
        db,
        &[
            "pay",
            held["hold_id"].as_str().unwrap(),
            "--cash",
            "20000",
            "--json",
        ],
    )
}

fn demo_db() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let db = common::engine::fresh_demo_db(dir.path());
    assert!(run(&db, &["concerts"]).status.success());
    (dir, db)
}

/// The first command on a new file fills in the demo, in a moment and without the notice a
/// PostgreSQL box office gives; the box office is the one the tests copy
/// (`common::engine::fresh_demo_db`), concert for concert.
#[test]
fn the_first_command_fills_a_new_file_with_the_demo_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("box.db");
    let out = run(&db, &["concerts", "--json"]);
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{said}");
    assert!(!said.contains("filling in the demo"), "{said}");
    let filled: Value = serde_json::from_slice(&out.stdout).unwrap();
    let copy_dir = tempfile::tempdir().unwrap();
    let copied = json(
        &common::engine::fresh_demo_db(copy_dir.path()),
        &["concerts", "--json"],
    );
    assert!(filled.as_array().unwrap().len() >= 20, "{filled}");
    assert_eq!(filled, copied);
}

#[test]
fn json_fields_are_the_documented_contract() {
    let (_dir, db) = demo_db();
    let concerts = json(&db, &["concerts", "--json"]);
    let list = concerts.as_array().unwrap();
    assert!(list.len() >= 20);
    for key in [
        "id",
        "artist",
        "venue",
        "starts_at",
        "free_seats",
        "ticket_limit",
        "hold_minutes",
    ] {
        assert!(list[0].get(key).is_some(), "concerts --json lacks {key}");
    }
    let starts: Vec<&str> = list
        .iter()
        .map(|c| c["starts_at"].as_str().unwrap())
        .collect();
    let mut sorted = starts.clone();
    sorted.sort();
    assert_eq!(starts, sorted, "start-time order");
    let page = json(
        &db,
        &["concerts", "--json", "--limit", "3", "--offset", "2"],
    );
    assert_eq!(page.as_array().unwrap(), &list[2..5].to_vec());

    let seats = json(&db, &["seats", "demo-13", "--json"]);
    let first = &seats.as_array().unwrap()[0];
    for key in ["seat", "status", "category", "price_cents"] {
        assert!(first.get(key).is_some(), "seats --json lacks {key}");
    }
    assert_eq!(first["status"], "free");
    let label = first["seat"].as_str().unwrap().to_string();

    // The labels `seats` prints are exactly what `hold` accepts.
    let hold = json(
        &db,
        &[
            "hold",
            "demo-13",
            &label,
            "--customer",
            "fan@example.com",
            "--json",
        ],
    );
    assert_eq!(hold["seats"], serde_json::json!([label]));
    assert!(
        hold["expires_at"]
            .as_str()
            .unwrap()
            .starts_with("2026-11-25T12:05:00")
    );
    let hold_id = hold["hold_id"].as_str().unwrap();

    let paid = json(&db, &["pay", hold_id, "--cash", "5000", "--json"]);
    let code = paid["booking_code"].as_str().unwrap();
    assert_eq!(paid["total_cents"], 3400);
    assert_eq!(paid["change_cents"], 1600);

    let booking = json(&db, &["booking", code, "--json"]);
    assert_eq!(booking["state"], "confirmed");
    let cancel = json(&db, &["cancel", code, "--json"]);
    assert_eq!(cancel["refunded_cents"], 3400);
    let seats = json(&db, &["seats", "demo-13", "--json"]);
    assert_eq!(seats[0]["status"], "free");
}

#[test]
fn exit_statuses_tell_usage_unavailable_and_other_apart() {
    let (_dir, db) = demo_db();
    let code = |args: &[&str]| run(&db, args).status.code().unwrap();
    assert_eq!(code(&["concerts", "--from", "2026-13-40"]), 2);
    assert_eq!(
        code(&["concerts", "--from", "2026-12-10", "--to", "2026-12-01"]),
        2
    );
    assert_eq!(code(&["seats", "9999"]), 2);
    assert_eq!(
        code(&["hold", "demo-13", "NOPE-1-1", "--customer", "a@b.co"]),
        2
    );
    assert_eq!(code(&["hold", "demo-13", "--customer", "a@b.co"]), 2);
    assert_eq!(code(&["frobnicate"]), 2);
    // demo-02 is sold out.
    let out = run(&db, &["hold", "demo-02", "FLR-A-1", "--customer", "a@b.co"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("FLR-A-1"));
    // demo-17 is not on sale yet.
    assert_eq!(
        code(&["hold", "demo-17", "FLR-A-1", "--customer", "a@b.co"]),
        3
    );
    let hold = json(
        &db,
        &[
            "hold",
            "demo-13",
            "FLR-B-1",
            "--customer",
            "a@b.co",
            "--json",
        ],
    );
    let id = hold["hold_id"].as_str().unwrap();
    // Too little cash is neither usage nor a taken seat.
    assert_eq!(code(&["pay", id, "--cash", "1"]), 1);
    assert_eq!(code(&["pay", id, "--cash", "12.50"]), 2);
    // A card number given as cash is bad input, said as such; the hold is still there.
    let typo = run(&db, &["pay", id, "--cash", "4242424242424242"]);
    assert_eq!(typo.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&typo.stderr).contains("check the amount tendered"));
    // The hold runs out after five minutes.
    let late = bin(&db)
        .env("BOXOFFICE_NOW", "2026-11-25T12:05:00Z")
        .args(["pay", id, "--cash", "9000"])
        .output()
        .unwrap();
    assert_eq!(
        late.status.code(),
        Some(3),
        "{}",
        String::from_utf8_lossy(&late.stderr)
    );
    assert!(String::from_utf8_lossy(&late.stderr).contains("expired"));
    assert_eq!(code(&["cancel", "ZZZZZZ"]), 2);
}

#[test]
fn racing_processes_never_sell_a_seat_twice() {
    let (_dir, db) = demo_db();
    const RACERS: usize = 8;
    // Every racer wants FLR-C-3 and FLR-C-4 plus a seat of its own on one side or the other.
    for round in 0..3 {
        let row = ["C", "D", "E"][round];
        let children: Vec<_> = (0..RACERS)
            .map(|i| {
                let own = format!("FLR-{row}-{}", if i % 2 == 0 { 2 } else { 5 });
                bin(&db)
                    .args([
                        "hold",
                        "demo-13",
                        &format!("FLR-{row}-3"),
                        &format!("FLR-{row}-4"),
                        &own,
                        "--customer",
                        &format!("racer{round}-{i}@example.com"),
                        "--allow-gap",
                    ])
                    .stdout(std::process::Stdio::null())
                    .stderr(std::process::Stdio::piped())
                    .spawn()
                    .unwrap()
            })
            .collect();
        let codes: Vec<i32> = children
            .into_iter()
            .map(|c| c.wait_with_output().unwrap().status.code().unwrap())
            .collect();
        assert_eq!(
            codes.iter().filter(|c| **c == 0).count(),
            1,
            "one winner: {codes:?}"
        );
        assert_eq!(
            codes.iter().filter(|c| **c == 3).count(),
            RACERS - 1,
            "losers exit 3: {codes:?}"
        );
    }
    let conn = common::sql(&db);
    let doubles: i64 = conn
        .db()
        .query_row(
            "SELECT count(*) FROM (SELECT concert_id, seat_id FROM claims GROUP BY 1, 2 HAVING count(*) > 1) AS d",
            (),
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(doubles, 0);
    let held: i64 = conn
        .db()
        .query_row(
            "SELECT count(*) FROM claims cl JOIN concerts c ON c.id = cl.concert_id WHERE c.external_id = 'demo-13'",
            (),
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(held, 9, "three winners with three seats each");
}

#[test]
fn output_to_a_closed_pipe_is_not_a_crash() {
    let (_dir, db) = demo_db();
    let mut child = bin(&db)
        .args(["seats", "demo-05"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    assert!(!String::from_utf8_lossy(&out.stderr).contains("panicked"));
}

#[test]
fn the_waiting_list_and_fairness_from_the_command_line() {
    let (_dir, db) = demo_db();
    // demo-02 is sold out: join, see the queue, leave.
    let e = json(
        &db,
        &[
            "waitlist",
            "join",
            "demo-02",
            "--customer",
            "fan@example.com",
            "--party",
            "2",
            "--json",
        ],
    );
    assert_eq!(e["position"], 1);
    json(
        &db,
        &[
            "waitlist",
            "join",
            "demo-02",
            "--customer",
            "fan2@example.com",
            "--phone",
            "+4366012345",
            "--party",
            "1",
            "--json",
        ],
    );
    let list = json(&db, &["waitlist", "list", "demo-02", "--json"]);
    for key in ["position", "customer", "party", "state", "offer_expires_at"] {
        assert!(
            list[0].get(key).is_some(),
            "waitlist list --json lacks {key}"
        );
    }
    assert_eq!(list[1]["state"], "waiting");
    json(
        &db,
        &[
            "waitlist",
            "leave",
            "demo-02",
            "--customer",
            "fan@example.com",
            "--json",
        ],
    );
    assert_eq!(
        json(&db, &["waitlist", "list", "demo-02", "--json"])[0]["state"],
        "left"
    );
    // A cancellation offers the freed seats to the queue; the seats show as reserved.
    let booking: String = common::sql(&db)
        .db()
        .query_row(
            "SELECT b.code FROM bookings b JOIN concerts c ON c.id = b.concert_id WHERE c.external_id = 'demo-02' ORDER BY b.id LIMIT 1",
            (),
            |r| r.get(0),
        )
        .unwrap();
    json(&db, &["cancel", &booking, "--json"]);
    let list = json(&db, &["waitlist", "list", "demo-02", "--json"]);
    assert_eq!(list[1]["state"], "offered");
    assert!(list[1]["offer_expires_at"].is_string());
    let seats = json(&db, &["seats", "demo-02", "--json"]);
    assert!(
        seats
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["status"] == "reserved")
    );

    // Fairness refusals exit 3; concerts --json carries the rules.
    let c = &json(&db, &["concerts", "--json"])[0];
    assert_eq!(
        (c["ticket_limit"].as_i64(), c["hold_minutes"].as_i64()),
        (Some(6), Some(5))
    );
    let seven = [
        "hold",
        "demo-13",
        "--best",
        "7",
        "--customer",
        "x@example.com",
    ];
    assert_eq!(run(&db, &seven).status.code(), Some(3));
    let out = run(
        &db,
        &["hold", "demo-13", "FLR-B-2", "--customer", "y@example.com"],
    );
    assert_eq!(out.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&out.stderr).contains("on its own"));
    let h = json(
        &db,
        &[
            "hold",
            "demo-13",
            "FLR-B-2",
            "--customer",
            "y@example.com",
            "--allow-gap",
            "--json",
        ],
    );
    assert_eq!(h["gap_override"], true);
    let h = json(
        &db,
        &[
            "hold",
            "demo-13",
            "--best",
            "4",
            "--category",
            "P",
            "--customer",
            "z@example.com",
            "--json",
        ],
    );
    assert_eq!(h["seats"].as_array().unwrap().len(), 4);
    let again = json(
        &db,
        &[
            "hold",
            "demo-13",
            "--best",
            "2",
            "--customer",
            "z@example.com",
            "--json",
        ],
    );
    assert_eq!(again["replaced"]["hold_id"], h["hold_id"]);
    let rules = json(
        &db,
        &[
            "concert",
            "rules",
            "demo-13",
            "--ticket-limit",
            "2",
            "--hold-minutes",
            "10",
            "--json",
        ],
    );
    assert_eq!(
        (
            rules["ticket_limit"].as_i64(),
            rules["hold_minutes"].as_i64()
        ),
        (Some(2), Some(10))
    );
}

#[test]
fn audit_is_clean_on_a_fresh_box_office_and_exits_1_on_planted_damage() {
    let (_dir, db) = demo_db();
    let clean = json(&db, &["audit", "--json"]);
    assert_eq!(clean["unmatched"], serde_json::json!([]));
    for key in [
        "charges_cents",
        "refunds_cents",
        "bookings_cents",
        "by_method",
    ] {
        assert!(clean.get(key).is_some(), "audit --json lacks {key}");
    }
    assert_eq!(clean["charges_cents"], clean["bookings_cents"]);
    // A charge in the gateway's books that no booking or refund accounts for.
    rusqlite::Connection::open(local(&db).join("gateway.db"))
        .unwrap()
        .execute(
            "INSERT INTO charges (idempotency_key, reference, amount_cents, currency, outcome, card, created_at)
             VALUES ('charge-planted', 'ch_planted', 999, 'EUR', 'approved', 'Visa 4242', 0)",
            [],
        )
        .unwrap();
    let out = run(&db, &["audit", "--json"]);
    assert_eq!(out.status.code(), Some(1));
    let damaged: Value = serde_json::from_slice(&out.stdout).unwrap();
    let unmatched = damaged["unmatched"].as_array().unwrap();
    assert_eq!(unmatched.len(), 1, "{damaged}");
    assert_eq!(unmatched[0]["reference"], "ch_planted");
    assert_eq!(unmatched[0]["amount_cents"], 999);
    assert!(
        unmatched[0]["why"]
            .as_str()
            .unwrap()
            .contains("unknown to the box office")
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("1 entry does not match"));
}

/// Holds `seat` at the demo's Velvet Room night (demo-13) and returns the hold's id.
fn hold_one(db: &Path, seat: &str, email: &str) -> String {
    json(
        db,
        &["hold", "demo-13", seat, "--customer", email, "--json"],
    )["hold_id"]
        .as_str()
        .unwrap()
        .to_string()
}

fn pay_with_stdin(db: &Path, args: &[&str], stdin: &str) -> Output {
    use std::io::Write;
    let mut child = bin(db)
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

#[test]
fn a_card_is_read_from_standard_input_and_never_from_the_arguments_without_a_warning() {
    let (_dir, db) = demo_db();
    // Number, expiry and CVC one a line: nothing of the card in the process's arguments.
    let hold = hold_one(&db, "FLR-A-1", "stdin@example.com");
    let out = pay_with_stdin(
        &db,
        &["pay", &hold, "--card", "-", "--json"],
        "4242 4242 4242 4242\n12/28\n123\n",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let paid: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(paid["method"], "card");
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // As before: the number from standard input, the expiry and CVC as flags (with a warning
    // for the CVC).
    let hold = hold_one(&db, "FLR-A-2", "stdin2@example.com");
    let out = pay_with_stdin(
        &db,
        &[
            "pay", &hold, "--card", "-", "--exp", "12/28", "--cvc", "123",
        ],
        "4242424242424242\n",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let warned = String::from_utf8_lossy(&out.stderr);
    assert!(
        warned.contains("warning: a CVC on the command line is visible"),
        "{warned}"
    );
    // A number as an argument still works, and says so.
    let hold = hold_one(&db, "FLR-A-3", "args@example.com");
    let out = run(
        &db,
        &[
            "pay",
            &hold,
            "--card",
            "4242424242424242",
            "--exp",
            "12/28",
            "--cvc",
            "123",
        ],
    );
    assert!(out.status.success());
    let warned = String::from_utf8_lossy(&out.stderr);
    assert!(
        warned.contains("warning: a card number on the command line"),
        "{warned}"
    );
    // Standard input that stops short changes nothing.
    let hold = hold_one(&db, "FLR-B-5", "short@example.com");
    let out = pay_with_stdin(
        &db,
        &["pay", &hold, "--card", "-"],
        "4242424242424242\n12/28\n",
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("ended before the cvc"));
    assert_eq!(
        json(&db, &["seats", "demo-13", "--json"])
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["seat"] == "FLR-B-5")
            .unwrap()["status"],
        "held"
    );
}

#[test]
fn a_card_number_typed_into_cash_is_not_echoed_back() {
    let (_dir, db) = demo_db();
    let hold = hold_one(&db, "FLR-B-1", "cash@example.com");
    for typed in ["4242424242424242", "4242 4242 4242 4242"] {
        let out = run(&db, &["pay", &hold, "--cash", typed]);
        assert_eq!(out.status.code(), Some(2));
        let said = String::from_utf8_lossy(&out.stderr);
        assert!(!said.contains("4242"), "{said}");
        assert!(
            said.contains("whole cents") || said.contains("check the amount"),
            "{said}"
        );
    }
}

#[test]
fn export_bom_writes_a_byte_order_mark_that_import_reads_past() {
    let (dir, db) = demo_db();
    let out = run(&db, &["export", "--bom"]);
    assert!(out.status.success());
    assert!(out.stdout.starts_with("\u{feff}external_id,".as_bytes()));
    assert!(
        !run(&db, &["export"])
            .stdout
            .starts_with("\u{feff}".as_bytes())
    );
    let file = dir.path().join("season.csv");
    std::fs::write(&file, &out.stdout).unwrap();
    let other = dir.path().join("other.db");
    assert!(run(&other, &["concerts"]).status.success());
    let again = run(&other, &["import", file.to_str().unwrap()]);
    assert!(
        again.status.success(),
        "{}",
        String::from_utf8_lossy(&again.stderr)
    );
}

/// A sale records its clerk; `report` counts each clerk's takings and the drawer's cash; a
/// booking lists its tickets; `checkin` admits a ticket once (exit 0), refuses it after (exit 3)
/// and refuses what is no scan (exit 2).
#[test]
fn the_days_takings_by_clerk_and_a_ticket_at_the_door() {
    let (_dir, db) = demo_db();
    let concerts = json(&db, &["concerts", "--available", "--json"]);
    let c = &concerts.as_array().unwrap()[0];
    let id = c["id"].to_string();
    let seats = json(&db, &["seats", &id, "--json"]);
    let free: Vec<String> = seats
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["status"] == "free")
        .map(|s| s["seat"].as_str().unwrap().to_string())
        .take(3)
        .collect();
    let hold = json(
        &db,
        &[
            "--clerk",
            "anna",
            "hold",
            &id,
            &free[0],
            &free[1],
            "--customer",
            "a@example.com",
            "--json",
        ],
    );
    let anna_total = hold["total_cents"].as_i64().unwrap();
    let paid = json(
        &db,
        &[
            "--clerk",
            "anna",
            "pay",
            hold["hold_id"].as_str().unwrap(),
            "--cash",
            "100000",
            "--json",
        ],
    );
    let code = paid["booking_code"].as_str().unwrap().to_string();
    let hold = json(
        &db,
        &[
            "--clerk",
            "bob",
            "hold",
            &id,
            &free[2],
            "--customer",
            "b@example.com",
            "--json",
        ],
    );
    let bob_total = hold["total_cents"].as_i64().unwrap();
    let mut pay = bin(&db)
        .args([
            "--clerk",
            "bob",
            "pay",
            hold["hold_id"].as_str().unwrap(),
            "--card",
            "-",
            "--json",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write as _;
    pay.stdin
        .take()
        .unwrap()
        .write_all(b"4242 4242 4242 4242\n12/30\n123\n")
        .unwrap();
    assert!(pay.wait_with_output().unwrap().status.success());

    let anna = json(&db, &["--clerk", "anna", "report", "--json"]);
    assert_eq!(anna["clerk"], "anna");
    let methods = anna["by_method"].as_array().unwrap();
    assert_eq!(methods.len(), 1, "{anna}");
    assert_eq!(methods[0]["method"], "cash");
    assert_eq!(methods[0]["sales_cents"], anna_total);
    assert_eq!(methods[0]["refunds_cents"], 0);
    assert_eq!(
        anna["cash_in_drawer_cents"], anna_total,
        "tendered less change"
    );
    let concert = anna["concerts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["id"] == c["id"])
        .unwrap();
    assert_eq!(concert["tickets_sold"], 2);
    assert_eq!(concert["checked_in"], 0);
    let everyone = json(&db, &["report", "--day", "2026-11-25", "--json"]);
    let card = everyone["by_method"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["method"] == "card")
        .unwrap();
    assert_eq!(card["sales_cents"], bob_total);
    assert!(run(&db, &["report", "--day", "25.11.2026"]).status.code() == Some(2));

    // The tickets, and the door on the night.
    let booking = json(&db, &["booking", &code, "--json"]);
    let tickets = booking["tickets"].as_array().unwrap();
    assert_eq!(tickets.len(), 2);
    for key in ["seat", "ticket_code", "state"] {
        assert!(
            tickets[0].get(key).is_some(),
            "booking --json tickets lack {key}"
        );
    }
    assert_eq!(tickets[0]["state"], "valid");
    let ticket = tickets[0]["ticket_code"].as_str().unwrap();
    let starts = c["starts_at"].as_str().unwrap();
    let door = |args: &[&str]| {
        bin(&db)
            .env("BOXOFFICE_NOW", starts)
            .args(args)
            .output()
            .unwrap()
    };
    let first = door(&["checkin", ticket, "--door", "north", "--json"]);
    assert_eq!(first.status.code(), Some(0));
    let first: Value = serde_json::from_slice(&first.stdout).unwrap();
    assert_eq!(first["result"], "admitted");
    assert_eq!(first["door"], "north");
    for key in ["reason", "seat", "concert_id", "checked_in_at", "door"] {
        assert!(first.get(key).is_some(), "checkin --json lacks {key}");
    }
    let again = door(&["checkin", ticket, "--door", "south", "--json"]);
    assert_eq!(again.status.code(), Some(3));
    let again: Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!(again["reason"], "already checked in");
    assert_eq!(again["door"], "north");
    assert_eq!(door(&["checkin", "  "]).status.code(), Some(2));
    let after = json(
        &db,
        &[
            "--clerk",
            "anna",
            "report",
            "--day",
            &starts[..10],
            "--json",
        ],
    );
    let concert = after["concerts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["id"] == c["id"])
        .unwrap();
    assert_eq!(concert["checked_in"], 1);
}

/// The README's hold example works on the demo catalog as printed, and a best-available hold
/// of a category the concert does not sell says so (exit 2), not "not enough seats".
#[test]
fn the_readmes_hold_example_works_on_the_demo_and_an_unknown_category_is_named() {
    let readme = include_str!("../../README.md");
    let lines: Vec<&str> = readme
        .lines()
        .filter(|l| l.starts_with("boxoffice hold 3 "))
        .collect();
    assert!(lines.len() >= 2, "the README shows holds");
    // Each on a fresh demo, as a reader would try it.
    for line in lines {
        let (_dir, db) = demo_db();
        // The words as a shell reads them (double quotes group; `#` starts a comment).
        let mut args: Vec<String> = Vec::new();
        let mut word = String::new();
        let mut quoted = false;
        for c in line.trim_start_matches("boxoffice ").chars() {
            match c {
                '"' => quoted = !quoted,
                '#' if !quoted => break,
                ' ' if !quoted => {
                    if !word.is_empty() {
                        args.push(std::mem::take(&mut word));
                    }
                }
                c => word.push(c),
            }
        }
        if !word.is_empty() {
            args.push(word);
        }
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let out = run(&db, &args);
        assert!(
            out.status.success(),
            "{line}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let (_dir, db) = demo_db();
    let out = run(
        &db,
        &[
            "hold",
            "3",
            "--best",
            "2",
            "--category",
            "Z",
            "--customer",
            "z@example.com",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no seat category Z"));
}

/// `init` makes a box office for a real catalog: no demo concerts, no demo sales, now or later;
/// it refuses a box office that already has a catalog.
#[test]
fn init_makes_an_empty_box_office_that_stays_empty() {
    let dir = tempfile::tempdir().unwrap();
    let db = common::engine::fresh_db(dir.path());
    let made = json(&db, &["init", "--json"]);
    assert_eq!(made["created"], true);
    assert_eq!(json(&db, &["concerts", "--json"]), serde_json::json!([]));
    assert_eq!(
        json(&db, &["venue", "list", "--json"]),
        serde_json::json!([])
    );
    assert!(run(&db, &["init"]).status.success(), "again: nothing to do");
    let (_demo_dir, demo) = demo_db();
    let out = run(&demo, &["init"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("already has"));
}

#[test]
fn a_walk_up_sale_and_a_partial_cancel_from_the_command_line() {
    let (_dir, db) = demo_db();
    let seats = json(&db, &["seats", "demo-13", "--json"]);
    let free: Vec<String> = seats
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["status"] == "free")
        .take(3)
        .map(|s| s["seat"].as_str().unwrap().to_string())
        .collect();
    // The text says when the hold runs out as the venue's clock shows it, labelled.
    let text = run(&db, &["hold", "demo-13", &free[0], "--walk-up"]);
    assert!(
        String::from_utf8_lossy(&text.stdout).contains("expires Wed 25 Nov 13:05 CET"),
        "{}",
        String::from_utf8_lossy(&text.stdout)
    );
    let id = String::from_utf8_lossy(&text.stdout)
        .lines()
        .next()
        .unwrap()
        .trim_start_matches("hold ")
        .to_string();
    json(&db, &["release", &id, "--json"]);
    // An empty --customer is a mistake, not a walk-up.
    let empty = run(&db, &["hold", "demo-13", &free[0], "--customer", " "]);
    assert_eq!(empty.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&empty.stderr).contains("--walk-up"));
    let mut args = vec!["hold", "demo-13"];
    args.extend(free.iter().map(String::as_str));
    args.extend(["--walk-up", "--json"]);
    let hold = json(&db, &args);
    assert_eq!(hold["customer"], "");
    let paid = json(
        &db,
        &[
            "pay",
            hold["hold_id"].as_str().unwrap(),
            "--cash",
            "20000",
            "--json",
        ],
    );
    let code = paid["booking_code"].as_str().unwrap();
    let total = paid["total_cents"].as_i64().unwrap();
    let text = run(&db, &["booking", code]);
    assert!(String::from_utf8_lossy(&text.stdout).contains("a walk-up"));

    let one = json(&db, &["cancel", code, "--seats", &free[1], "--json"]);
    assert_eq!(one["seats"], serde_json::json!([free[1]]));
    let refunded = one["refunded_cents"].as_i64().unwrap();
    assert!(refunded > 0 && refunded < total);
    let booking = json(&db, &["booking", code, "--json"]);
    assert_eq!(booking["state"], "confirmed");
    assert_eq!(booking["total_cents"].as_i64().unwrap(), total - refunded);
    assert_eq!(booking["seats"].as_array().unwrap().len(), 2);
    let void: Vec<&Value> = booking["tickets"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|t| t["state"] == "cancelled")
        .collect();
    assert_eq!(void.len(), 1);
    assert_eq!(void[0]["seat"], free[1].as_str());
    // A seat not in the booking: exit 2, nothing changes.
    let wrong = run(&db, &["cancel", code, "--seats", "NOPE-1-1"]);
    assert_eq!(wrong.status.code(), Some(2));
    assert_eq!(
        json(&db, &["booking", code, "--json"])["total_cents"],
        booking["total_cents"]
    );
}

on_postgres_too!(
    json_fields_are_the_documented_contract,
    exit_statuses_tell_usage_unavailable_and_other_apart,
    racing_processes_never_sell_a_seat_twice,
    output_to_a_closed_pipe_is_not_a_crash,
    the_waiting_list_and_fairness_from_the_command_line,
    audit_is_clean_on_a_fresh_box_office_and_exits_1_on_planted_damage,
    a_card_is_read_from_standard_input_and_never_from_the_arguments_without_a_warning,
    a_card_number_typed_into_cash_is_not_echoed_back,
    export_bom_writes_a_byte_order_mark_that_import_reads_past,
    the_days_takings_by_clerk_and_a_ticket_at_the_door,
    the_readmes_hold_example_works_on_the_demo_and_an_unknown_category_is_named,
    init_makes_an_empty_box_office_that_stays_empty,
    a_walk_up_sale_and_a_partial_cancel_from_the_command_line,
);

/// A password or token written into a URL is never printed back: not by `config`, not in the
/// error that refuses it.
#[test]
fn a_password_in_a_url_is_never_printed_back() {
    let (_dir, db) = demo_db();
    let secret_env = [
        ("BOXOFFICE_SMTP", "smtp://tickets:hunter2@mail.example:587"),
        (
            "BOXOFFICE_SMS_GATEWAY",
            "https://sms:opensesame@sms.example/send?token=tok3n",
        ),
    ];
    let out = bin(&db).envs(secret_env).arg("config").output().unwrap();
    let said =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{said}");
    assert!(
        said.contains("smtp://tickets:***@mail.example:587"),
        "{said}"
    );
    for secret in ["hunter2", "opensesame", "tok3n"] {
        assert!(!said.contains(secret), "config showed {secret}: {said}");
    }
    let out = bin(&db).envs(secret_env).arg("concerts").output().unwrap();
    let said = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{said}");
    assert!(said.contains("BOXOFFICE_SMTP_PASSWORD"), "{said}");
    for secret in ["hunter2", "opensesame", "tok3n"] {
        assert!(!said.contains(secret), "the error showed {secret}: {said}");
    }
}

/// A card gateway whose ledger cannot be reached (its server down) stops card payments only:
/// the concert list, a cash sale and the door go on, and a card payment says what is wrong.
#[test]
fn an_unreachable_card_ledger_stops_only_card_payments() {
    let (_dir, db) = demo_db();
    // Nothing listens on port 1 of the loopback address: the connection is refused at once.
    let gateway = "postgres://boxoffice@127.0.0.1:1/ledger";
    let run = |args: &[&str]| {
        bin(&db)
            .env("BOXOFFICE_GATEWAY", gateway)
            .args(args)
            .output()
            .unwrap()
    };
    let said = |o: &Output| String::from_utf8_lossy(&o.stderr).to_string();
    let listed = run(&["concerts", "--limit", "1"]);
    assert!(listed.status.success(), "{}", said(&listed));
    let hold = |email: &str| -> String {
        let out = run(&[
            "hold",
            "demo-13",
            "--best",
            "1",
            "--customer",
            email,
            "--json",
        ]);
        assert!(out.status.success(), "{}", said(&out));
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        v["hold_id"].as_str().unwrap().to_string()
    };
    let cash = run(&[
        "pay",
        &hold("cash@example.com"),
        "--cash",
        "20000",
        "--json",
    ]);
    assert!(cash.status.success(), "{}", said(&cash));
    let paid: Value = serde_json::from_slice(&cash.stdout).unwrap();
    let card = run(&[
        "pay",
        &hold("card@example.com"),
        "--card",
        "4242424242424242",
        "--exp",
        "12/28",
        "--cvc",
        "123",
    ]);
    assert!(!card.status.success());
    assert!(
        said(&card).contains("card gateway cannot be reached"),
        "{}",
        said(&card)
    );
    let code = paid["booking_code"].as_str().unwrap();
    let ticket = run(&["ticket", code, "--json"]);
    assert!(ticket.status.success(), "{}", said(&ticket));
    let tickets: Value = serde_json::from_slice(&ticket.stdout).unwrap();
    // The door gives its verdict (too early: the concert is weeks away), the gateway unasked.
    let scanned = tickets[0]["ticket_code"].as_str().unwrap();
    let door = run(&["checkin", scanned, "--json"]);
    assert!(!said(&door).contains("gateway"), "{}", said(&door));
    assert!(
        String::from_utf8_lossy(&door.stdout).contains(scanned),
        "{}",
        said(&door)
    );
}

/// The demo's sales are its history, sold over the weeks before: today's takings without
/// `--clerk` are today's own (they counted the demo's 1.3 million of cash as today's), while
/// `report --all` still has them.
#[test]
fn todays_takings_are_the_days_own_not_the_demos_history() {
    let (_dir, db) = demo_db();
    let today = json(&db, &["report", "--json"]);
    assert_eq!(today["cash_in_drawer_cents"], 0, "{today}");
    let paid = cash_sale(&db, "demo-13", &["--best", "1"], "d@example.com");
    let price = paid["total_cents"].as_i64().unwrap();
    let today = json(&db, &["report", "--json"]);
    assert_eq!(
        today["cash_in_drawer_cents"].as_i64(),
        Some(price),
        "{today}"
    );
    let all = json(&db, &["report", "--all", "--json"]);
    assert!(
        all["cash_in_drawer_cents"].as_i64().unwrap() > 100_000_000, // EUR 1,000,000
        "{all}"
    );
}

/// A receipt printed in the customer's language: the ESC/POS stream selects its code page
/// (PC858 unless `--printer-codepage` says) and every letter of it prints as itself, the euro
/// sign too; read back through the page, the names are exact (they printed as `?`).
#[test]
fn a_receipt_prints_in_the_printers_code_page_and_reads_back_exactly() {
    let (dir, db) = demo_db();
    let csv = dir.path().join("advent.csv");
    std::fs::write(
        &csv,
        "external_id,artist,title,venue,starts_at,on_sale_at,price_S,price_P\n\
         adv-1,Wiener Sängerknaben,Grüß Gott – Advent,velvet-room,2027-01-10 20:00 Europe/Vienna,2026-11-01 09:00 Europe/Vienna,30.00,45.00\n",
    )
    .unwrap();
    json(&db, &["import", csv.to_str().unwrap(), "--json"]);
    let paid = cash_sale(&db, "adv-1", &["--best", "1"], "j@example.com");
    let code = paid["booking_code"].as_str().unwrap();
    // PC858 has no en dash (it prints as `-`); WPC1252 has one.
    for (flag, page, esc_t, title) in [
        (
            None,
            boxoffice::notify::codepage::CodePage::Pc858,
            19,
            "Grüß Gott - Advent",
        ),
        (
            Some("wpc1252"),
            boxoffice::notify::codepage::CodePage::Wpc1252,
            16,
            "Grüß Gott – Advent",
        ),
    ] {
        let printer = dir.path().join(format!("printer-{esc_t}"));
        let mut args = vec!["--printer", printer.to_str().unwrap()];
        if let Some(f) = flag {
            args.extend(["--printer-codepage", f]);
        }
        args.extend(["receipt", code]);
        let out = run(&db, &args);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let bytes = std::fs::read(&printer).unwrap();
        assert_eq!(
            &bytes[..5],
            &[0x1b, b'@', 0x1b, b't', esc_t],
            "the page selected"
        );
        let text: String = bytes[5..].iter().map(|b| page.char(*b)).collect();
        assert!(text.contains("Wiener Sängerknaben"), "{text}");
        assert!(text.contains(title), "{text}");
        assert!(!text.contains('?'), "{text}");
    }
    let out = run(&db, &["--printer-codepage", "utf8", "receipt", code]);
    assert_eq!(out.status.code(), Some(2));
}

/// A receipt tells the truth about the booking: a seat cancelled out of it is marked, the
/// refund is there (how much, how, when) with what stays paid, and the printer prints only the
/// tickets that admit; a whole booking cancelled says so first, and prints no ticket.
#[test]
fn a_receipt_shows_refunds_and_prints_only_tickets_that_admit() {
    let (dir, db) = demo_db();
    let paid = cash_sale(&db, "demo-13", &["FLR-B-1", "FLR-B-2"], "r@example.com");
    let code = paid["booking_code"].as_str().unwrap().to_string();
    json(&db, &["cancel", &code, "--seats", "FLR-B-2", "--json"]);
    let text = String::from_utf8_lossy(&run(&db, &["receipt", &code]).stdout).into_owned();
    assert!(text.contains("FLR-B-2 (cancelled)"), "{text}");
    assert!(text.contains("Refunded by cash"), "{text}");
    assert!(text.contains("Balance"), "{text}");
    assert!(!text.contains("CANCELLED"), "only a seat was: {text}");
    let qr_codes = |printer: &Path| {
        std::fs::read(printer)
            .unwrap()
            .windows(5)
            .filter(|w| w[3..] == *b"1P")
            .count()
    };
    let printer = dir.path().join("printer-partly");
    let out = run(
        &db,
        &["--printer", printer.to_str().unwrap(), "receipt", &code],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        qr_codes(&printer),
        1,
        "the seat that admits, not the cancelled one"
    );
    // The whole booking cancelled: said first, no ticket printed.
    json(&db, &["cancel", &code, "--json"]);
    let text = String::from_utf8_lossy(&run(&db, &["receipt", &code]).stdout).into_owned();
    assert!(text.starts_with("CANCELLED"), "{text}");
    let printer = dir.path().join("printer-cancelled");
    assert!(
        run(
            &db,
            &["--printer", printer.to_str().unwrap(), "receipt", &code]
        )
        .status
        .success()
    );
    assert_eq!(qr_codes(&printer), 0);
}

/// A card taken on the counter's own terminal: the slip's approval code (and brand and last
/// four, never more) is recorded, the takings count it as its own method, `audit` adds up, a
/// cancellation tells the clerk to refund it on the terminal; a slip typed wrong changes
/// nothing and never repeats a card number.
#[test]
fn a_card_on_the_counters_terminal_is_recorded_from_its_slip() {
    let (_dir, db) = demo_db();
    let held = json(
        &db,
        &[
            "hold",
            "demo-13",
            "FLR-C-1",
            "FLR-C-2",
            "--customer",
            "slip@example.com",
            "--json",
        ],
    );
    let hold = held["hold_id"].as_str().unwrap();
    for (bad, said) in [
        (
            vec!["--terminal", "a1b2c3", "--last4", "4242424242424242"],
            "last four digits only",
        ),
        (vec!["--terminal", "x"], "approval code is 2 to 12"),
        (
            vec!["--terminal", "a1b2c3", "--brand", "Visa 4242"],
            "brand is a name",
        ),
    ] {
        let mut args = vec!["pay", hold];
        args.extend(bad);
        let out = run(&db, &args);
        let err = String::from_utf8_lossy(&out.stderr).into_owned();
        assert_eq!(out.status.code(), Some(2), "{err}");
        assert!(err.contains(said) && !err.contains("424242424242"), "{err}");
    }
    let paid = json(
        &db,
        &[
            "pay",
            hold,
            "--terminal",
            "a1b2c3",
            "--brand",
            "Visa",
            "--last4",
            "4242",
            "--json",
        ],
    );
    assert_eq!(paid["method"], "terminal");
    assert_eq!(paid["reference"], "terminal-A1B2C3");
    let code = paid["booking_code"].as_str().unwrap();
    let total = paid["total_cents"].as_i64().unwrap();
    let detail: String = common::sql(&db)
        .db()
        .query_row(
            "SELECT detail FROM payments WHERE hold_id = ?1 AND kind = 'charge'",
            [hold],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(
        detail,
        "card on the counter's terminal, Visa ···4242, approval A1B2C3"
    );
    let report = json(&db, &["report", "--json"]);
    let terminal = report["by_method"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["method"] == "terminal")
        .unwrap();
    assert_eq!(terminal["sales_cents"].as_i64(), Some(total));
    assert!(run(&db, &["audit"]).status.success());
    let out = run(&db, &["cancel", code]);
    let said = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        said.contains("on the counter's card terminal: make the refund there now"),
        "{said}"
    );
    assert!(run(&db, &["audit"]).status.success());
}

//! Tickets and the door: a ticket per booked seat with a code of its own, voided by a
//! cancellation, kept by a reschedule; a check-in admits a ticket once, and says why not
//! otherwise; eight processes scanning the same tickets admit each exactly once.

use crate::common;

use boxoffice::booking::door::{Entry, Refusal};
use boxoffice::{Clock, Error, Processors, Tender, TicketState};
use chrono::{Duration, NaiveDate};
use common::*;

fn book(f: &mut Fixture, labels: &[&str], email: &str) -> String {
    let hold = f
        .store
        .hold_seats(f.concert, &seats(labels), &customer(email))
        .unwrap();
    f.store
        .pay(
            &hold.hold_id,
            &Tender::Cash {
                tendered_cents: 100_000,
            },
            &Processors::cash_only(),
        )
        .unwrap()
        .booking_code
}

/// The concert starts 2026-12-20 20:00 in Vienna (19:00 UTC); its doors open two hours before.
fn at_the_door(f: &Fixture) {
    f.clock.set(t("2026-12-20T18:30:00Z"));
}

#[test]
fn every_booked_seat_has_a_ticket_with_a_code_of_its_own() {
    let mut f = fixture();
    let code = book(&mut f, &["A-1-1", "A-1-2", "A-1-3"], "ann@example.com");
    let b = f.store.booking(&code).unwrap();
    let seats: Vec<&str> = b.tickets.iter().map(|t| t.seat.as_str()).collect();
    assert_eq!(seats, ["A-1-1", "A-1-2", "A-1-3"]);
    let alphabet = "ABCDEFGHJKMNPQRSTUVWXYZ23456789";
    for t in &b.tickets {
        assert_eq!(t.state, TicketState::Valid);
        assert_eq!(t.ticket_code.len(), boxoffice::codes::TICKET_CODE_LEN);
        assert!(t.ticket_code.chars().all(|c| alphabet.contains(c)));
        assert!(
            !t.ticket_code.contains(&code),
            "not derived from the booking code"
        );
    }
    let mut codes: Vec<&str> = b.tickets.iter().map(|t| t.ticket_code.as_str()).collect();
    codes.dedup();
    assert_eq!(codes.len(), 3);
    // At least 80 bits of chance: 31 letters, 18 of them.
    assert!(18.0 * 31f64.log2() >= 80.0);
}

#[test]
fn a_ticket_is_admitted_once_and_a_second_scan_says_when_and_where() {
    let mut f = fixture();
    let code = book(&mut f, &["A-1-1", "A-1-2"], "ann@example.com");
    let ticket = f.store.booking(&code).unwrap().tickets[0]
        .ticket_code
        .clone();
    at_the_door(&f);
    let first = f
        .store
        .check_in(&ticket.to_lowercase(), Some("north"), Some(f.concert))
        .unwrap();
    assert_eq!(first.result, Entry::Admitted);
    assert_eq!(first.seat.as_deref(), Some("A-1-1"));
    assert_eq!(first.name.as_deref(), Some("Test Customer"));
    assert_eq!(first.door.as_deref(), Some("north"));
    f.clock.advance(Duration::minutes(3));
    let again = f.store.check_in(&ticket, Some("south"), None).unwrap();
    assert_eq!(again.result, Entry::Refused);
    assert_eq!(again.reason, Some(Refusal::AlreadyCheckedIn));
    assert_eq!(again.door.as_deref(), Some("north"), "where it went in");
    assert_eq!(again.checked_in_at, first.checked_in_at, "when it went in");
    let b = f.store.booking(&code).unwrap();
    assert_eq!(b.tickets[0].state, TicketState::CheckedIn);
    assert_eq!(b.tickets[1].state, TicketState::Valid);
    assert_eq!(f.store.door_counts(f.concert).unwrap(), (1, 2));
    // A steward's undo at the door it went through, a moment later: valid again, and
    // admitted again.
    let undone = f
        .store
        .undo_check_in(&ticket, Some("north"), Some(f.concert))
        .unwrap();
    assert_eq!(undone.result, Entry::Admitted);
    assert_eq!(
        f.store
            .undo_check_in(&ticket, Some("north"), Some(f.concert))
            .unwrap()
            .reason,
        Some(Refusal::NotCheckedIn)
    );
    assert_eq!(
        f.store.check_in(&ticket, None, None).unwrap().result,
        Entry::Admitted
    );
}

/// An undo gives back only the last admission at this door, a moment after it: not an
/// earlier one, not another door's, not one from an hour ago. A refused undo changes nothing,
/// so a used ticket cannot be let in again and again.
#[test]
fn undo_is_only_for_the_last_admission_at_this_door_a_moment_ago() {
    let mut f = fixture();
    let code = book(&mut f, &["A-1-1", "A-1-2", "A-1-3"], "ann@example.com");
    let tickets: Vec<String> = f
        .store
        .booking(&code)
        .unwrap()
        .tickets
        .iter()
        .map(|t| t.ticket_code.clone())
        .collect();
    at_the_door(&f);
    let admit = |f: &mut Fixture, t: &str, door: &str| {
        let scan = f.store.check_in(t, Some(door), Some(f.concert)).unwrap();
        assert_eq!(scan.result, Entry::Admitted);
    };
    admit(&mut f, &tickets[0], "north");
    f.clock.advance(Duration::seconds(20));
    admit(&mut f, &tickets[1], "north");
    admit(&mut f, &tickets[2], "south");
    let undo = |f: &mut Fixture, t: &str, door: &str| {
        f.store
            .undo_check_in(t, Some(door), Some(f.concert))
            .unwrap()
    };
    // The earlier one at north, and north's last one asked for at south: refused.
    assert_eq!(
        undo(&mut f, &tickets[0], "north").reason,
        Some(Refusal::NotLastHere)
    );
    assert_eq!(
        undo(&mut f, &tickets[1], "south").reason,
        Some(Refusal::NotLastHere)
    );
    // For another concert's door: refused.
    let other = f
        .store
        .undo_check_in(&tickets[1], Some("north"), Some(f.concert + 1))
        .unwrap();
    assert_eq!(other.reason, Some(Refusal::WrongConcert));
    // South's last admission, six minutes on: too late.
    f.clock.advance(Duration::minutes(6));
    assert_eq!(
        undo(&mut f, &tickets[2], "south").reason,
        Some(Refusal::TooLateToUndo)
    );
    let b = f.store.booking(&code).unwrap();
    assert!(
        b.tickets.iter().all(|t| t.state == TicketState::CheckedIn),
        "refused undos changed nothing: {:?}",
        b.tickets
    );
    assert_eq!(f.store.door_counts(f.concert).unwrap(), (3, 3));
    // North's last one, within the five minutes of its scan: given back, once.
    let mut f2 = f;
    let fresh = book(&mut f2, &["A-2-1"], "bo@example.com");
    let ticket = f2.store.booking(&fresh).unwrap().tickets[0]
        .ticket_code
        .clone();
    admit(&mut f2, &ticket, "north");
    f2.clock.advance(Duration::minutes(4));
    assert_eq!(undo(&mut f2, &ticket, "north").result, Entry::Admitted);
    assert_eq!(
        undo(&mut f2, &ticket, "north").reason,
        Some(Refusal::NotCheckedIn)
    );
    // The one before it at north is not the last one now either: it is an hour old.
    assert_ne!(undo(&mut f2, &tickets[1], "north").result, Entry::Admitted);
}

#[test]
fn the_door_refuses_a_void_ticket_another_concert_a_made_up_code_and_an_early_one() {
    let mut f = fixture();
    let kept = book(&mut f, &["A-1-1"], "ann@example.com");
    let gone = book(&mut f, &["A-1-2"], "bob@example.com");
    let kept_ticket = f.store.booking(&kept).unwrap().tickets[0]
        .ticket_code
        .clone();
    let gone_ticket = f.store.booking(&gone).unwrap().tickets[0]
        .ticket_code
        .clone();
    // Too early: before the doors open (a concert rule, two hours before the start).
    let early = f.store.check_in(&kept_ticket, None, None).unwrap();
    assert_eq!(early.reason, Some(Refusal::TooEarly));
    assert_eq!(early.doors_open_at, Some(t("2026-12-20T17:00:00Z")));
    // A concert rule: doors open an hour before; at 18:30 UTC (19:30 in Vienna) a ticket would
    // be in, at 17:30 not yet.
    f.store.set_doors_open(f.concert, 60).unwrap();
    f.clock.set(t("2026-12-20T17:30:00Z"));
    let early = f.store.check_in(&kept_ticket, None, None).unwrap();
    assert_eq!(early.doors_open_at, Some(t("2026-12-20T18:00:00Z")));
    assert!(f.store.set_doors_open(f.concert, -5).is_err());
    f.store
        .cancel_booking(&gone, &Processors::cash_only())
        .unwrap();
    assert_eq!(
        f.store.booking(&gone).unwrap().tickets[0].state,
        TicketState::Cancelled
    );
    at_the_door(&f);
    let void = f.store.check_in(&gone_ticket, None, None).unwrap();
    assert_eq!(void.reason, Some(Refusal::Cancelled));
    let other = f
        .store
        .add_concert(&concert(
            "Others",
            "test-hall",
            NaiveDate::from_ymd_opt(2026, 12, 21).unwrap(),
            "20:00",
        ))
        .unwrap();
    let wrong = f.store.check_in(&kept_ticket, None, Some(other)).unwrap();
    assert_eq!(wrong.reason, Some(Refusal::WrongConcert));
    let made_up = f.store.check_in("ABCDEFGHJKMNPQRSTU", None, None).unwrap();
    assert_eq!(made_up.reason, Some(Refusal::NotATicket));
    // Not a scan at all: an error, nothing changes.
    for bad in ["", "   ", "AB CD", "A\u{1b}[2J"] {
        assert!(matches!(
            f.store.check_in(bad, None, None),
            Err(Error::Invalid(_))
        ));
    }
    // None of those used the good ticket.
    assert_eq!(
        f.store.check_in(&kept_ticket, None, None).unwrap().result,
        Entry::Admitted
    );
}

#[test]
fn a_rescheduled_concert_keeps_its_tickets_valid() {
    let mut f = fixture();
    let code = book(&mut f, &["A-1-1"], "ann@example.com");
    let before = f.store.booking(&code).unwrap().tickets;
    f.store
        .reschedule_concert(
            f.concert,
            NaiveDate::from_ymd_opt(2026, 12, 22)
                .unwrap()
                .and_hms_opt(19, 0, 0)
                .unwrap(),
        )
        .unwrap();
    assert_eq!(f.store.booking(&code).unwrap().tickets, before);
    f.clock.set(t("2026-12-22T17:30:00Z"));
    let scan = f
        .store
        .check_in(&before[0].ticket_code, None, None)
        .unwrap();
    assert_eq!(scan.result, Entry::Admitted);
}

#[test]
fn eight_doors_scanning_the_same_tickets_admit_each_exactly_once() {
    let mut f = fixture();
    let code = book(
        &mut f,
        &["A-1-1", "A-1-2", "A-1-3", "A-1-4", "A-1-5", "A-1-6"],
        "ann@example.com",
    );
    let tickets: Vec<String> = f
        .store
        .booking(&code)
        .unwrap()
        .tickets
        .into_iter()
        .map(|t| t.ticket_code)
        .collect();
    let db = f.db_path();
    let bin = env!("CARGO_BIN_EXE_boxoffice");
    let mut admitted_doors = Vec::new();
    for ticket in &tickets {
        let doors: Vec<_> = (0..8)
            .map(|door| {
                std::process::Command::new(bin)
                    .env("BOXOFFICE_DB", &db)
                    .env("BOXOFFICE_NOW", "2026-12-20T18:45:00Z")
                    .args([
                        "checkin",
                        ticket,
                        "--door",
                        &format!("door-{door}"),
                        "--json",
                    ])
                    .stdout(std::process::Stdio::piped())
                    .stderr(std::process::Stdio::null())
                    .spawn()
                    .unwrap()
            })
            .collect();
        let mut admitted = 0;
        for d in doors {
            let out = d.wait_with_output().unwrap();
            let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            match out.status.code() {
                Some(0) => {
                    assert_eq!(json["result"], "admitted");
                    admitted += 1;
                    admitted_doors.push(json["door"].as_str().unwrap().to_string());
                }
                Some(3) => {
                    assert_eq!(json["result"], "refused");
                    assert_eq!(json["reason"], "already checked in");
                }
                other => panic!("exit {other:?}: {json}"),
            }
        }
        assert_eq!(admitted, 1, "ticket {ticket} admitted {admitted} times");
    }
    let b = f.reopen().booking(&code).unwrap();
    for (t, door) in b.tickets.iter().zip(&admitted_doors) {
        assert_eq!(t.state, TicketState::CheckedIn);
        assert_eq!(t.door.as_deref(), Some(door.as_str()));
    }
}

/// Whether a program is on the PATH (the PDF is read with poppler and zbar; `.ci/run` installs
/// them).
fn have(program: &str) -> bool {
    std::process::Command::new(program)
        .arg("-v")
        .output()
        .is_ok()
}

#[test]
fn the_pdf_has_a_page_per_seat_whose_qr_code_reads_back_as_its_ticket() {
    if !have("pdftoppm") || !have("zbarimg") {
        eprintln!("note: pdftoppm or zbarimg is not installed; the PDF was not rendered and read");
        return;
    }
    let mut f = fixture();
    let code = book(&mut f, &["A-1-1", "A-1-2"], "ann@example.com");
    let tickets = f.store.booking(&code).unwrap().tickets;
    let pdf = f.dir.path().join("tickets.pdf");
    std::fs::write(&pdf, f.store.tickets_pdf(&code).unwrap()).unwrap();
    let png = f.dir.path().join("page");
    let out = std::process::Command::new("pdftoppm")
        .args(["-r", "150", "-png"])
        .arg(&pdf)
        .arg(&png)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    for (page, ticket) in tickets.iter().enumerate() {
        let image = f.dir.path().join(format!("page-{}.png", page + 1));
        assert!(image.exists(), "page {} was rendered", page + 1);
        let read = std::process::Command::new("zbarimg")
            .args(["--quiet", "--raw"])
            .arg(&image)
            .output()
            .unwrap();
        assert_eq!(
            String::from_utf8_lossy(&read.stdout).trim(),
            ticket.ticket_code,
            "page {}",
            page + 1
        );
    }
    assert!(!f.dir.path().join("page-3.png").exists(), "one page a seat");
    // What the page says, as text.
    let text = std::process::Command::new("pdftotext")
        .arg(&pdf)
        .arg("-")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    for needed in [
        "The Testers",
        "Test Hall, Testville",
        "Sun 20 December 2026, 20:00 (CET, Vienna time)",
        "Seat A-1-1",
        "EUR 50.00",
        &code,
        "For Test Customer",
    ] {
        assert!(
            text.contains(needed),
            "the ticket lacks {needed:?}:\n{text}"
        );
    }
    // One seat cancelled out of the booking: its page says so, and has nothing to scan; the
    // other's still reads back.
    f.store
        .cancel_seats(
            &code,
            &seats(&["A-1-2"]),
            &boxoffice::Processors::cash_only(),
        )
        .unwrap();
    std::fs::write(&pdf, f.store.tickets_pdf(&code).unwrap()).unwrap();
    let out = std::process::Command::new("pdftoppm")
        .args(["-r", "150", "-png"])
        .arg(&pdf)
        .arg(&png)
        .output()
        .unwrap();
    assert!(out.status.success());
    let scan = |page: usize| {
        let read = std::process::Command::new("zbarimg")
            .args(["--quiet", "--raw"])
            .arg(f.dir.path().join(format!("page-{page}.png")))
            .output()
            .unwrap();
        String::from_utf8_lossy(&read.stdout).trim().to_string()
    };
    assert_eq!(scan(1), tickets[0].ticket_code);
    assert_eq!(scan(2), "", "a void ticket carries no code to scan");
    let text = std::process::Command::new("pdftotext")
        .arg(&pdf)
        .arg("-")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&text.stdout);
    assert!(text.contains("VOID: this seat was cancelled"), "{text}");
    assert!(!text.contains("this booking was cancelled"), "{text}");
}

#[test]
fn the_confirmation_email_carries_the_tickets_as_a_pdf() {
    let mut f = fixture();
    let spool = f.dir.path().join("spool");
    f.store.set_spool(boxoffice::Spool::new(&spool));
    let code = book(&mut f, &["A-1-1"], "ann@example.com");
    let dir = spool.join("email/new");
    let file = std::fs::read_dir(&dir)
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .path();
    let message = std::fs::read_to_string(file).unwrap();
    assert!(
        message.contains("Content-Type: application/pdf"),
        "{message}"
    );
    assert!(message.contains(&format!("tickets-{code}.pdf")));
}

/// A booking is found by its holder's phone as people say it (`0660 123 4567` at a venue in
/// Austria, `+43 660 …`, `0043 …`) or by name, and a terminal's sales of the day are listed.
#[test]
fn bookings_are_found_by_phone_in_any_form_by_name_and_by_the_day_at_a_terminal() {
    let mut f = fixture();
    f.store
        .set_operator(boxoffice::store::Operator {
            clerk: None,
            terminal: Some("kiosk-2".into()),
        })
        .unwrap();
    let hold = f
        .store
        .hold_seats(
            f.concert,
            &seats(&["A-1-1"]),
            &boxoffice::CustomerInfo {
                email: "pia@example.com".into(),
                name: Some("Pia Berger".into()),
                phone: Some("0660 123 4567".into()),
            },
        )
        .unwrap();
    let code = f
        .store
        .pay(
            &hold.hold_id,
            &Tender::Cash {
                tendered_cents: 100_000,
            },
            &Processors::cash_only(),
        )
        .unwrap()
        .booking_code;
    for q in [
        "0660 123 4567",
        "+43 660 1234567",
        "0043 660 1234567",
        "06601234567",
        "berger",
    ] {
        let found = f.store.find_bookings(q).unwrap();
        assert_eq!(found.len(), 1, "{q}");
        assert_eq!(found[0].booking_code, code, "{q}");
    }
    assert!(f.store.find_bookings("0660 999 9999").unwrap().is_empty());
    let (from, to) = boxoffice::report::local_day(boxoffice::report::local_today(f.clock.now()));
    let (from, to) = (from.unwrap(), to.unwrap());
    assert_eq!(
        f.store.sales_at(from, to, Some("kiosk-2")).unwrap().len(),
        1
    );
    assert!(
        f.store
            .sales_at(from, to, Some("kiosk-9"))
            .unwrap()
            .is_empty()
    );
}

on_postgres_too!(
    every_booked_seat_has_a_ticket_with_a_code_of_its_own,
    a_ticket_is_admitted_once_and_a_second_scan_says_when_and_where,
    the_door_refuses_a_void_ticket_another_concert_a_made_up_code_and_an_early_one,
    a_rescheduled_concert_keeps_its_tickets_valid,
    eight_doors_scanning_the_same_tickets_admit_each_exactly_once,
    the_pdf_has_a_page_per_seat_whose_qr_code_reads_back_as_its_ticket,
    the_confirmation_email_carries_the_tickets_as_a_pdf,
    bookings_are_found_by_phone_in_any_form_by_name_and_by_the_day_at_a_terminal,
    undo_is_only_for_the_last_admission_at_this_door_a_moment_ago,
    an_undo_is_recorded_with_its_door_clerk_and_times,
    a_name_is_found_however_it_is_typed_and_in_any_order,
);

/// The bookings search folds names as people type them: `muller`, `mueller` and `MÜLLER`
/// find Jürgen Müller, `Gruber Anna` finds Anna Gruber; a name that is not there finds nobody.
#[test]
fn a_name_is_found_however_it_is_typed_and_in_any_order() {
    let mut f = fixture();
    let mut book = |seat: &str, email: &str, name: &str| {
        let hold = f
            .store
            .hold_seats(
                f.concert,
                &seats(&[seat]),
                &boxoffice::CustomerInfo {
                    email: email.into(),
                    name: Some(name.into()),
                    phone: None,
                },
            )
            .unwrap();
        f.store
            .pay(
                &hold.hold_id,
                &Tender::Cash {
                    tendered_cents: 100_000,
                },
                &Processors::cash_only(),
            )
            .unwrap()
            .booking_code
    };
    let muller = book("A-1-1", "jm@example.com", "Jürgen Müller");
    let gruber = book("A-1-2", "ag@example.com", "Anna Gruber");
    let found = |q: &str| -> Vec<String> {
        f.store
            .find_bookings(q)
            .unwrap()
            .into_iter()
            .map(|b| b.booking_code)
            .collect()
    };
    for q in [
        "muller",
        "mueller",
        "MÜLLER",
        "jurgen muller",
        "Muller Jürgen",
    ] {
        assert_eq!(found(q), vec![muller.clone()], "{q}");
    }
    for q in ["Gruber Anna", "anna gruber", "gruber"] {
        assert_eq!(found(q), vec![gruber.clone()], "{q}");
    }
    assert!(found("Anna Müller").is_empty());
    assert!(found("Meier").is_empty());
}

/// An undo is on the record in the database: which ticket, which door, who, when, and when
/// it had gone in; a refused one leaves no record.
#[test]
fn an_undo_is_recorded_with_its_door_clerk_and_times() {
    let mut f = fixture();
    f.store
        .set_operator(boxoffice::store::Operator {
            clerk: Some("dora".into()),
            terminal: Some("gate-2".into()),
        })
        .unwrap();
    let code = book(&mut f, &["A-1-1"], "ann@example.com");
    let ticket = f.store.booking(&code).unwrap().tickets[0]
        .ticket_code
        .clone();
    at_the_door(&f);
    let admitted = f
        .store
        .check_in(&ticket, Some("north"), Some(f.concert))
        .unwrap();
    f.clock.advance(Duration::seconds(30));
    let refused = f
        .store
        .undo_check_in(&ticket, Some("south"), Some(f.concert))
        .unwrap();
    assert_eq!(refused.result, Entry::Refused);
    let undone = f
        .store
        .undo_check_in(&ticket, Some("north"), Some(f.concert))
        .unwrap();
    assert_eq!(undone.result, Entry::Admitted);
    // ticket, door, clerk, terminal, checked in at, undone at
    type Undo = (
        String,
        Option<String>,
        Option<String>,
        Option<String>,
        i64,
        i64,
    );
    let rows: Vec<Undo> = {
        let db = sql(f.db_path());
        let mut st = db
            .db()
            .prepare(
                "SELECT ticket, door, clerk, terminal, checked_in_at, undone_at FROM door_undos",
            )
            .unwrap();
        st.query_map((), |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                r.get(2)?,
                r.get(3)?,
                r.get(4)?,
                r.get(5)?,
            ))
        })
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
    };
    let went_in = admitted.checked_in_at.unwrap().timestamp();
    assert_eq!(
        rows,
        [(
            ticket,
            Some("north".to_string()),
            Some("dora".to_string()),
            Some("gate-2".to_string()),
            went_in,
            went_in + 30
        )]
    );
}

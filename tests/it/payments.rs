//! Card payments through the simulated gateway, notices in the outbox, and the spool.

use crate::common;

use boxoffice::notify::outbox::MAX_ATTEMPTS;
use boxoffice::payment::gateway::*;
use boxoffice::{Card, Clock, Error, Processors, SeatStatus, Spool, Tender};
use common::*;

fn processors(f: &Fixture) -> Processors {
    Processors::with_gateway(f.dir.path().join("gateway.db"), f.clock.clone()).unwrap()
}

fn card(f: &Fixture, number: &str) -> Tender {
    Tender::Card(Card::parse(number, "12/28", "123", f.clock.now()).unwrap())
}

fn status(f: &Fixture, label: &str) -> SeatStatus {
    seat_status(&f.store, f.concert, label)
}

#[test]
fn an_approved_card_books_and_the_amount_comes_from_stored_prices() {
    let mut f = fixture();
    let p = processors(&f);
    let hold = f
        .store
        .hold_seats(
            f.concert,
            &seats(&["A-1-1", "A-1-4"]),
            &customer("a@example.com"),
        )
        .unwrap();
    let receipt = f
        .store
        .pay(&hold.hold_id, &card(&f, CARD_APPROVE), &p)
        .unwrap();
    assert_eq!(receipt.total_cents, 5_000 + 3_000);
    assert_eq!(receipt.method, "card");
    assert!(receipt.reference.starts_with("ch_"));
    let totals = gateway(&f).totals().unwrap();
    assert_eq!((totals.charges, totals.captured_cents), (1, 8_000));
    // Cancelling refunds through the gateway.
    let c = f.store.cancel_booking(&receipt.booking_code, &p).unwrap();
    assert_eq!((c.refunded_cents, c.refund_pending_cents), (8_000, 0));
    let totals = gateway(&f).totals().unwrap();
    assert_eq!((totals.refunds, totals.refunded_cents), (1, 8_000));
}

#[test]
fn a_declined_card_releases_the_seats_and_says_why() {
    for (number, why) in [
        (CARD_DECLINE, "declined"),
        (CARD_INSUFFICIENT_FUNDS, "insufficient funds"),
    ] {
        let mut f = fixture();
        let p = processors(&f);
        let hold = f
            .store
            .hold_seats(
                f.concert,
                &seats(&["A-2-1", "A-2-2"]),
                &customer("a@example.com"),
            )
            .unwrap();
        match f
            .store
            .pay(&hold.hold_id, &card(&f, number), &p)
            .unwrap_err()
        {
            Error::Declined {
                reason,
                concert_id,
                seats,
                customer,
            } => {
                assert!(reason.contains(why), "{reason}");
                // Enough to hold the same seats again in one step.
                assert_eq!(
                    (concert_id, seats.len(), customer.as_str()),
                    (f.concert, 2, "a@example.com")
                );
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(status(&f, "A-2-1"), SeatStatus::Free);
        assert_eq!(gateway(&f).totals().unwrap().captured_cents, 0);
    }
}

#[test]
fn a_gateway_error_charges_nothing_and_keeps_the_hold_for_a_retry() {
    let mut f = fixture();
    let p = processors(&f);
    let hold = f
        .store
        .hold_seats(f.concert, &seats(&["A-2-3"]), &customer("a@example.com"))
        .unwrap();
    let err = f
        .store
        .pay(&hold.hold_id, &card(&f, CARD_GATEWAY_ERROR), &p)
        .unwrap_err();
    assert!(matches!(err, Error::Processor(_)), "{err:?}");
    assert_eq!(
        f.store.hold(&hold.hold_id).unwrap().state,
        boxoffice::HoldState::Live
    );
    assert_eq!(status(&f, "A-2-3"), SeatStatus::Held);
    // The retry with another card goes through under a new key.
    let receipt = f
        .store
        .pay(&hold.hold_id, &card(&f, CARD_APPROVE), &p)
        .unwrap();
    assert!(!receipt.booking_code.is_empty());
}

#[test]
fn a_card_that_fails_validation_never_reaches_the_store() {
    let f = fixture();
    for (n, e, c) in [
        ("4242424242424241", "12/28", "123"),
        ("4242424242424242", "10/26", "123"),
        ("4242424242424242", "12/28", "1"),
    ] {
        let err = Card::parse(n, e, c, f.clock.now()).unwrap_err();
        assert_eq!(err.kind(), boxoffice::ErrorKind::Usage);
    }
}

#[test]
fn the_gateway_keeps_its_contract() {
    let f = fixture();
    let g = gateway(&f);
    gateway_contract(&g, f.clock.now());
    // Its own totals say the same as its ledger.
    let t = g.totals().unwrap();
    assert_eq!(
        (t.charges, t.captured_cents, t.refunds, t.refunded_cents),
        (1, 1_000, 2, 1_000)
    );
}

#[test]
fn confirmation_and_cancellation_reach_the_spool_as_email_and_sms() {
    let mut f = fixture();
    let p = processors(&f);
    let spool = Spool::new(f.dir.path().join("spool"));
    let hold = f
        .store
        .hold_seats(
            f.concert,
            &seats(&["A-1-1"]),
            &with_phone("ann@example.com"),
        )
        .unwrap();
    let receipt = f
        .store
        .pay(&hold.hold_id, &card(&f, CARD_APPROVE), &p)
        .unwrap();
    assert_eq!(
        f.store.outbox_status().unwrap().pending,
        2,
        "queued with the booking"
    );
    let report = f.store.deliver_outbox(&spool, false).unwrap();
    assert_eq!(report.delivered.len(), 2);
    let email = std::fs::read_to_string(&report.delivered[0].path).unwrap();
    assert!(
        report.delivered[0]
            .path
            .starts_with(spool.email_dir().join("new"))
    );
    for needle in [
        "To: \"Ann Lee\" <ann@example.com>",
        "Subject: Your tickets: The Testers",
        "Message-ID: <",
        "Date: ",
        &receipt.booking_code,
        "text/calendar",
        "BEGIN:VEVENT",
        "A-1-1",
    ] {
        assert!(email.contains(needle), "email lacks {needle}:\n{email}");
    }
    let sms = std::fs::read_to_string(&report.delivered[1].path).unwrap();
    assert!(sms.starts_with("To: +436601234567\n\n"), "{sms}");
    let text = sms.lines().nth(2).unwrap();
    assert!(
        text.chars().count() <= 160 && text.contains(&receipt.booking_code),
        "{text}"
    );
    // Delivering again writes nothing new.
    assert!(
        f.store
            .deliver_outbox(&spool, true)
            .unwrap()
            .delivered
            .is_empty()
    );

    f.store.cancel_booking(&receipt.booking_code, &p).unwrap();
    let report = f.store.deliver_outbox(&spool, false).unwrap();
    assert_eq!(report.delivered.len(), 2);
    let email = std::fs::read_to_string(&report.delivered[0].path).unwrap();
    assert!(
        email.contains("is cancelled") && email.contains("STATUS:CANCELLED"),
        "{email}"
    );
    let files = std::fs::read_dir(spool.email_dir().join("new"))
        .unwrap()
        .count();
    assert_eq!(files, 2);
    assert_eq!(
        f.store
            .delivered_files(&receipt.booking_code)
            .unwrap()
            .len(),
        4
    );
}

#[cfg(unix)]
#[test]
fn an_unwritable_spool_never_blocks_a_booking_and_messages_wait() {
    use std::os::unix::fs::PermissionsExt;
    let mut f = fixture();
    let p = processors(&f);
    // A spool path under a plain file can never be created, even by root.
    let blocker = f.dir.path().join("not-a-dir");
    std::fs::write(&blocker, b"x").unwrap();
    let bad = Spool::new(blocker.join("spool"));
    let hold = f
        .store
        .hold_seats(f.concert, &seats(&["A-1-3"]), &customer("a@example.com"))
        .unwrap();
    let receipt = f
        .store
        .pay(
            &hold.hold_id,
            &Tender::Cash {
                tendered_cents: 5_000,
            },
            &p,
        )
        .unwrap();
    let report = f.store.deliver_outbox(&bad, false).unwrap();
    assert_eq!(report.errors.len(), 1);
    assert_eq!(
        f.store.booking(&receipt.booking_code).unwrap().state,
        boxoffice::BookingState::Confirmed
    );
    let status = f.store.outbox_status().unwrap();
    assert_eq!(status.pending, 1);
    assert_eq!(status.waiting[0].attempts, 1);
    assert!(
        status.waiting[0]
            .last_error
            .as_deref()
            .unwrap()
            .contains("cannot write")
    );
    // Backoff: not retried before it is due.
    assert!(
        f.store
            .deliver_outbox(&bad, false)
            .unwrap()
            .errors
            .is_empty()
    );
    for _ in 1..MAX_ATTEMPTS {
        f.clock.advance(chrono::Duration::hours(2));
        f.store.deliver_outbox(&bad, false).unwrap();
    }
    let status = f.store.outbox_status().unwrap();
    assert_eq!((status.pending, status.failed), (0, 1));
    // Once the spool is writable, a flush delivers failed ones too.
    let good = Spool::new(f.dir.path().join("spool"));
    let report = f.store.deliver_outbox(&good, true).unwrap();
    assert_eq!(report.delivered.len(), 1);
    let mode = std::fs::metadata(&report.delivered[0].path)
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o077, 0, "owner only: {mode:o}");
    assert_eq!(f.store.outbox_status().unwrap().delivered, 1);
}

#[test]
fn a_name_with_line_breaks_cannot_inject_headers() {
    let mut f = fixture();
    let evil = boxoffice::CustomerInfo {
        email: "a@example.com".into(),
        name: Some("Eve\r\nBcc: victim@example.com".into()),
        phone: None,
    };
    assert!(matches!(
        f.store.hold_seats(f.concert, &seats(&["A-1-1"]), &evil),
        Err(Error::Invalid(_))
    ));
    let evil = boxoffice::CustomerInfo {
        email: "a@example.com\r\nBcc: x@y.z".into(),
        name: None,
        phone: None,
    };
    assert!(matches!(
        f.store.hold_seats(f.concert, &seats(&["A-1-1"]), &evil),
        Err(Error::Invalid(_))
    ));
    // A name with quotes and non-ASCII is encoded, not interpreted.
    let p = processors(&f);
    let spool = Spool::new(f.dir.path().join("spool"));
    let odd = boxoffice::CustomerInfo {
        email: "b@example.com".into(),
        name: Some("\"Zoë\" <x@y.z>, Ünal".into()),
        phone: None,
    };
    let hold = f
        .store
        .hold_seats(f.concert, &seats(&["A-1-1"]), &odd)
        .unwrap();
    f.store
        .pay(
            &hold.hold_id,
            &Tender::Cash {
                tendered_cents: 5_000,
            },
            &p,
        )
        .unwrap();
    let report = f.store.deliver_outbox(&spool, false).unwrap();
    let email = std::fs::read_to_string(&report.delivered[0].path).unwrap();
    let to: Vec<&str> = email.lines().filter(|l| l.starts_with("To:")).collect();
    assert_eq!(to.len(), 1);
    assert!(to[0].ends_with("<b@example.com>"), "{}", to[0]);
    assert!(!email.lines().any(|l| l.starts_with("Bcc:")));
}

#[test]
fn terminals_starting_together_on_a_new_box_office_all_open_the_gateway() {
    // Eight terminals opening a gateway ledger that does not exist yet, at the same moment:
    // each waits for the one creating the tables instead of failing with "busy".
    open_together("gateway.db", |path| {
        SimulatedGateway::open(path, std::sync::Arc::new(boxoffice::SystemClock)).map(|_| ())
    });
}

/// Pays a one-seat cash hold for `email` (with a phone, so an SMS goes too).
fn sell(f: &mut Fixture, seat: &str, email: &str) -> String {
    let p = processors(f);
    let hold = f
        .store
        .hold_seats(f.concert, &seats(&[seat]), &with_phone(email))
        .unwrap();
    f.store
        .pay(
            &hold.hold_id,
            &Tender::Cash {
                tendered_cents: 5_000,
            },
            &p,
        )
        .unwrap()
        .booking_code
}

#[test]
fn two_box_offices_sharing_one_spool_never_give_two_messages_one_name() {
    // Two databases, made alike: their first messages have the same row ids and times.
    let mut a = fixture();
    let mut b = fixture();
    let shared = tempfile::tempdir().unwrap();
    let spool = Spool::new(shared.path());
    sell(&mut a, "A-1-1", "a@example.com");
    sell(&mut b, "A-1-1", "b@example.com");
    let from_a = a.store.deliver_outbox(&spool, false).unwrap();
    let from_b = b.store.deliver_outbox(&spool, false).unwrap();
    assert_eq!((from_a.delivered.len(), from_b.delivered.len()), (2, 2));
    assert!(from_b.errors.is_empty(), "{:?}", from_b.errors);
    let emails = std::fs::read_dir(shared.path().join("email/new"))
        .unwrap()
        .count();
    let sms = std::fs::read_dir(shared.path().join("sms"))
        .unwrap()
        .count();
    assert_eq!((emails, sms), (2, 2), "every message its own file");
    // Status counts what is really there: a message deleted from the spool is not delivered.
    std::fs::remove_file(&from_b.delivered[1].path).unwrap();
    let status = b.store.outbox_status().unwrap();
    assert_eq!((status.delivered, status.missing), (1, 1));
    assert_eq!(a.store.outbox_status().unwrap().delivered, 2);
}

#[test]
fn the_spool_never_writes_through_a_symbolic_link_or_over_a_file_it_did_not_write() {
    let mut f = fixture();
    let outside = tempfile::tempdir().unwrap();
    let root = f.dir.path().join("spool");
    std::fs::create_dir_all(root.join("email")).unwrap();
    // Someone made the SMS folder a link to somewhere else.
    std::os::unix::fs::symlink(outside.path(), root.join("sms")).unwrap();
    sell(&mut f, "A-1-1", "a@example.com");
    let spool = Spool::new(&root);
    let report = f.store.deliver_outbox(&spool, false).unwrap();
    assert!(report.delivered.is_empty());
    assert!(
        report.errors[0].contains("not a directory"),
        "{:?}",
        report.errors
    );
    assert_eq!(std::fs::read_dir(outside.path()).unwrap().count(), 0);
    assert_eq!(f.store.outbox_status().unwrap().pending, 2);
    // With a real folder, the messages go out; a file planted under a message's name is kept
    // as it was, and that message waits instead.
    std::fs::remove_file(root.join("sms")).unwrap();
    std::fs::create_dir(root.join("sms")).unwrap();
    f.clock.advance(chrono::Duration::hours(1));
    let report = f.store.deliver_outbox(&spool, false).unwrap();
    assert_eq!(report.delivered.len(), 2);
    sell(&mut f, "A-1-2", "b@example.com");
    let box_office: String = common::sql(f.db_path())
        .db()
        .query_row(
            "SELECT (SELECT id FROM box_office) || '-' || max(id) || ' ' || max(created_at) FROM outbox WHERE channel = 'sms'",
            (),
            |r| r.get(0),
        )
        .unwrap();
    let (name, created) = box_office.split_once(' ').unwrap();
    let planted = root.join("sms").join(format!("{created}-{name}.txt"));
    std::fs::write(&planted, "not ours").unwrap();
    let report = f.store.deliver_outbox(&spool, false).unwrap();
    assert_eq!(report.delivered.len(), 1, "the email");
    assert!(
        report.errors[0].contains("not written by boxoffice"),
        "{:?}",
        report.errors
    );
    assert_eq!(std::fs::read_to_string(&planted).unwrap(), "not ours");
    // No temporary file is left behind by any of it.
    let leftovers = std::fs::read_dir(root.join("email/tmp")).unwrap().count()
        + std::fs::read_dir(root.join("sms"))
            .unwrap()
            .flatten()
            .filter(|e| e.file_name().to_string_lossy().starts_with('.'))
            .count();
    assert_eq!(leftovers, 0);
}

#[test]
fn names_beyond_ascii_are_encoded_a_whole_word_at_a_time_and_parse_back() {
    use base64::Engine;
    let mut f = fixture();
    let p = processors(&f);
    let name = "Anna Großschädl Zoë Ångström";
    let hold = f
        .store
        .hold_seats(
            f.concert,
            &seats(&["A-1-1"]),
            &boxoffice::CustomerInfo {
                email: "anna@example.com".into(),
                name: Some(name.into()),
                phone: None,
            },
        )
        .unwrap();
    f.store
        .pay(
            &hold.hold_id,
            &Tender::Cash {
                tendered_cents: 5_000,
            },
            &p,
        )
        .unwrap();
    let spool = Spool::new(f.dir.path().join("spool"));
    let report = f.store.deliver_outbox(&spool, false).unwrap();
    let email = std::fs::read_to_string(&report.delivered[0].path).unwrap();
    let word = |w: &str| {
        format!(
            "=?utf-8?b?{}?=",
            base64::engine::general_purpose::STANDARD.encode(w)
        )
    };
    // The words beyond ASCII as one encoded run (it fits), never cut inside a word.
    let expected = format!(
        "To: Anna {} <anna@example.com>",
        word("Großschädl Zoë Ångström")
    );
    // A Maildir file has the machine's line ends, as a mail client reading it (mutt) expects:
    // no `\r` anywhere, a header line ends in `\n` alone.
    assert!(!email.contains('\r'), "{email:?}");
    assert!(
        email.lines().any(|l| l.starts_with("Message-ID: <outbox-")),
        "{email}"
    );
    let unfolded = email.replace("\n ", " ");
    assert!(unfolded.contains(&expected), "{expected}\n{email}");
    // A real mail parser reads the name back exactly.
    let parsed = std::process::Command::new("python3")
        .args([
            "-c",
            "import sys,email,email.policy;m=email.message_from_bytes(open(sys.argv[1],'rb').read(),policy=email.policy.default);print(m['To'].addresses[0].display_name)",
        ])
        .arg(&report.delivered[0].path)
        .output();
    match parsed {
        Ok(out) if out.status.success() => {
            assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), name)
        }
        _ => eprintln!("skipped the Python check: python3 is not installed"),
    }
}

#[test]
fn some_seats_of_a_booking_are_cancelled_and_refunded_and_the_rest_later_gets_only_what_is_left() {
    let mut f = fixture();
    let p = processors(&f);
    let hold = f
        .store
        .hold_seats(
            f.concert,
            &seats(&["A-1-1", "A-1-2", "A-1-3"]),
            &customer("a@example.com"),
        )
        .unwrap();
    let receipt = f
        .store
        .pay(&hold.hold_id, &card(&f, CARD_APPROVE), &p)
        .unwrap();
    assert_eq!(receipt.total_cents, 15_000);
    let code = receipt.booking_code;
    // A seat the booking does not have: refused, nothing changes.
    let refused = f
        .store
        .cancel_seats(&code, &seats(&["A-1-2", "A-2-1"]), &p)
        .unwrap_err();
    assert!(refused.to_string().contains("not in booking"), "{refused}");
    assert_eq!(status(&f, "A-1-2"), SeatStatus::Booked);
    assert_eq!(gateway(&f).totals().unwrap().refunds, 0);

    let c = f.store.cancel_seats(&code, &seats(&["a-1-2"]), &p).unwrap();
    assert_eq!((c.refunded_cents, c.refund_pending_cents), (5_000, 0));
    assert_eq!(c.seats, vec!["A-1-2"]);
    assert_eq!(status(&f, "A-1-2"), SeatStatus::Free);
    assert_eq!(status(&f, "A-1-1"), SeatStatus::Booked);
    let b = f.store.booking(&code).unwrap();
    assert_eq!(b.state, boxoffice::BookingState::Confirmed);
    assert_eq!(
        b.seats.iter().map(|s| s.seat.as_str()).collect::<Vec<_>>(),
        vec!["A-1-1", "A-1-3"]
    );
    assert_eq!((b.total_cents, b.refunded_cents), (10_000, 5_000));
    // Only that seat's ticket is void.
    use boxoffice::TicketState::{Cancelled, Valid};
    let states: Vec<(&str, boxoffice::TicketState)> = b
        .tickets
        .iter()
        .map(|t| (t.seat.as_str(), t.state))
        .collect();
    assert_eq!(
        states,
        vec![("A-1-1", Valid), ("A-1-2", Cancelled), ("A-1-3", Valid)]
    );
    let totals = gateway(&f).totals().unwrap();
    assert_eq!((totals.refunds, totals.refunded_cents), (1, 5_000));
    // The customer is told, without a calendar change.
    let conn = common::sql(f.db_path());
    let (subject, calendar): (String, Option<String>) = conn
        .db()
        .query_row(
            "SELECT subject, calendar FROM outbox WHERE channel = 'email' ORDER BY id DESC LIMIT 1",
            (),
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .unwrap();
    assert!(subject.starts_with("Seats cancelled"), "{subject}");
    assert!(calendar.is_none());

    // The rest: only what is left is refunded; the charge is refunded in full, never more.
    let c = f.store.cancel_booking(&code, &p).unwrap();
    assert_eq!((c.refunded_cents, c.refund_pending_cents), (10_000, 0));
    let totals = gateway(&f).totals().unwrap();
    assert_eq!((totals.refunds, totals.refunded_cents), (2, 15_000));
    let b = f.store.booking(&code).unwrap();
    assert_eq!(
        (b.state, b.refunded_cents),
        (boxoffice::BookingState::Cancelled, 15_000)
    );
    assert!(
        b.tickets
            .iter()
            .all(|t| t.state == boxoffice::TicketState::Cancelled)
    );
    assert_eq!(status(&f, "A-1-1"), SeatStatus::Free);
}

#[test]
fn cancelling_every_seat_by_name_is_the_whole_booking() {
    let mut f = fixture();
    let p = Processors::cash_only();
    let hold = f
        .store
        .hold_seats(
            f.concert,
            &seats(&["A-2-1", "A-2-2"]),
            &customer("b@example.com"),
        )
        .unwrap();
    let receipt = f
        .store
        .pay(
            &hold.hold_id,
            &Tender::Cash {
                tendered_cents: 6_000,
            },
            &p,
        )
        .unwrap();
    let c = f
        .store
        .cancel_seats(&receipt.booking_code, &seats(&["A-2-2", "A-2-1"]), &p)
        .unwrap();
    assert_eq!(c.refunded_cents, 6_000);
    let b = f.store.booking(&receipt.booking_code).unwrap();
    assert_eq!(b.state, boxoffice::BookingState::Cancelled);
}

#[test]
fn a_cash_receipt_says_the_amounts_once_and_the_time_as_the_venues_clock_shows_it() {
    let mut f = fixture();
    let p = Processors::cash_only();
    let hold = f
        .store
        .hold_seats(
            f.concert,
            &seats(&["A-2-1", "A-2-2"]),
            &customer("r@example.com"),
        )
        .unwrap();
    let receipt = f
        .store
        .pay(
            &hold.hold_id,
            &Tender::Cash {
                tendered_cents: 10_000,
            },
            &p,
        )
        .unwrap();
    let lines = f.store.sale_receipt(&receipt.booking_code).unwrap().lines();
    assert!(lines.contains(&"Paid: cash".to_string()), "{lines:#?}");
    assert_eq!(
        lines.iter().filter(|l| l.contains("100.00")).count(),
        1,
        "{lines:#?}"
    );
    // Paid at 10:00 UTC on 1 December: 11:00 at the venue in Vienna.
    assert!(
        lines.contains(&"Tue 01 Dec 11:00 CET".to_string()),
        "{lines:#?}"
    );
}

on_postgres_too!(
    an_approved_card_books_and_the_amount_comes_from_stored_prices,
    a_declined_card_releases_the_seats_and_says_why,
    a_gateway_error_charges_nothing_and_keeps_the_hold_for_a_retry,
    a_card_that_fails_validation_never_reaches_the_store,
    the_gateway_keeps_its_contract,
    confirmation_and_cancellation_reach_the_spool_as_email_and_sms,
    an_unwritable_spool_never_blocks_a_booking_and_messages_wait,
    a_name_with_line_breaks_cannot_inject_headers,
    terminals_starting_together_on_a_new_box_office_all_open_the_gateway,
    two_box_offices_sharing_one_spool_never_give_two_messages_one_name,
    the_spool_never_writes_through_a_symbolic_link_or_over_a_file_it_did_not_write,
    names_beyond_ascii_are_encoded_a_whole_word_at_a_time_and_parse_back,
    some_seats_of_a_booking_are_cancelled_and_refunded_and_the_rest_later_gets_only_what_is_left,
    cancelling_every_seat_by_name_is_the_whole_booking,
    a_cash_receipt_says_the_amounts_once_and_the_time_as_the_venues_clock_shows_it,
);

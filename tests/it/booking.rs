//! Holds, payment, confirmation, cancellation and expiry through the public API.

use crate::common;

use boxoffice::payment::Processors;
use boxoffice::{Clock, Error, SeatStatus, Tender};
use chrono::Duration;
use common::*;

fn cash(cents: i64) -> Tender {
    Tender::Cash {
        tendered_cents: cents,
    }
}

fn status(f: &Fixture, label: &str) -> SeatStatus {
    let map = f.store.seat_map(f.concert).unwrap();
    map.seats.iter().find(|s| s.seat == label).unwrap().status
}

#[test]
fn hold_pay_confirm_and_cancel() {
    let mut f = fixture();
    let p = Processors::cash_only();
    let hold = f
        .store
        .hold_seats(
            f.concert,
            &seats(&["a-1-1", "A-1-2"]),
            &customer("Ann@Example.com"),
        )
        .unwrap();
    assert_eq!(hold.seats, vec!["A-1-1", "A-1-2"]);
    assert_eq!(hold.total_cents, 10_000);
    assert_eq!(hold.customer, "ann@example.com");
    assert_eq!(hold.expires_at, f.clock.now() + Duration::minutes(5));
    assert_eq!(status(&f, "A-1-1"), SeatStatus::Held);

    let receipt = f.store.pay(&hold.hold_id, &cash(12_000), &p).unwrap();
    assert_eq!(receipt.total_cents, 10_000);
    assert_eq!(receipt.change_cents, 2_000);
    assert_eq!(receipt.booking_code.len(), 6);
    assert_eq!(status(&f, "A-1-1"), SeatStatus::Booked);
    // A booking does not expire.
    f.clock.advance(Duration::hours(3));
    assert_eq!(status(&f, "A-1-2"), SeatStatus::Booked);

    let booking = f
        .store
        .booking(&receipt.booking_code.to_lowercase())
        .unwrap();
    assert_eq!(booking.state, boxoffice::BookingState::Confirmed);
    assert_eq!(booking.seats.len(), 2);
    assert_eq!(booking.customer.name.as_deref(), Some("Test Customer"));

    let cancel = f.store.cancel_booking(&receipt.booking_code, &p).unwrap();
    assert_eq!(cancel.refunded_cents, 10_000);
    assert_eq!(status(&f, "A-1-1"), SeatStatus::Free);
    let booking = f.store.booking(&receipt.booking_code).unwrap();
    assert_eq!(booking.state, boxoffice::BookingState::Cancelled);
    assert_eq!(booking.refunded_cents, 10_000);
    // The freed seats can be held again.
    f.store
        .hold_seats(f.concert, &seats(&["A-1-1"]), &customer("bob@example.com"))
        .unwrap();
}

#[test]
fn a_hold_is_all_or_nothing_and_names_the_taken_seats() {
    let mut f = fixture();
    f.store
        .hold_seats(
            f.concert,
            &seats(&["A-1-2", "A-1-3"]),
            &customer("a@example.com"),
        )
        .unwrap();
    let err = f
        .store
        .hold_seats(
            f.concert,
            &seats(&["A-1-1", "A-1-2", "A-1-3", "A-1-4"]),
            &customer("b@example.com"),
        )
        .unwrap_err();
    match err {
        Error::SeatsTaken(taken) => assert_eq!(taken, vec!["A-1-2", "A-1-3"]),
        other => panic!("{other:?}"),
    }
    // Nothing of the failed hold stuck.
    assert_eq!(status(&f, "A-1-1"), SeatStatus::Free);
    assert_eq!(status(&f, "A-1-4"), SeatStatus::Free);
}

#[test]
fn an_expired_hold_counts_as_free_and_cannot_be_paid() {
    let mut f = fixture();
    let p = Processors::cash_only();
    let hold = f
        .store
        .hold_seats(f.concert, &seats(&["A-2-1"]), &customer("a@example.com"))
        .unwrap();
    f.clock.advance(Duration::minutes(5) - Duration::seconds(1));
    assert_eq!(status(&f, "A-2-1"), SeatStatus::Held);
    f.clock.advance(Duration::seconds(1));
    assert_eq!(status(&f, "A-2-1"), SeatStatus::Free);
    let err = f.store.pay(&hold.hold_id, &cash(10_000), &p).unwrap_err();
    assert!(matches!(err, Error::HoldExpired { .. }), "{err:?}");
    assert_eq!(err.kind(), boxoffice::ErrorKind::Unavailable);
    // Someone else gets the seat; the expired hold was reclaimed.
    f.store
        .hold_seats(f.concert, &seats(&["A-2-1"]), &customer("b@example.com"))
        .unwrap();
    assert_eq!(
        f.store.hold(&hold.hold_id).unwrap().state,
        boxoffice::HoldState::Expired
    );
}

#[test]
fn release_gives_the_seats_back() {
    let mut f = fixture();
    let hold = f
        .store
        .hold_seats(f.concert, &seats(&["A-2-1"]), &customer("a@example.com"))
        .unwrap();
    f.store.release_hold(&hold.hold_id).unwrap();
    assert_eq!(status(&f, "A-2-1"), SeatStatus::Free);
    assert!(matches!(
        f.store.release_hold(&hold.hold_id),
        Err(Error::HoldNotLive { .. })
    ));
}

#[test]
fn bad_input_is_refused_and_changes_nothing() {
    let mut f = fixture();
    let p = Processors::cash_only();
    let c = customer("a@example.com");
    assert!(matches!(
        f.store.hold_seats(999, &seats(&["A-1-1"]), &c),
        Err(Error::ConcertNotFound(_))
    ));
    assert!(matches!(
        f.store.resolve_concert("nope"),
        Err(Error::ConcertNotFound(_))
    ));
    match f
        .store
        .hold_seats(f.concert, &seats(&["A-1-1", "Z-9-9"]), &c)
    {
        Err(Error::UnknownSeats(s)) => assert_eq!(s, vec!["Z-9-9"]),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        f.store.hold_seats(f.concert, &[], &c),
        Err(Error::Invalid(_))
    ));
    assert!(matches!(
        f.store.hold_seats(f.concert, &seats(&["A-1-1", "a-1-1"]), &c),
        Err(Error::Invalid(m)) if m.contains("twice")
    ));
    assert!(matches!(
        f.store
            .hold_seats(f.concert, &seats(&["A-1-1"]), &customer("not-an-email")),
        Err(Error::Invalid(_))
    ));
    assert!(matches!(
        f.store.hold_seats(
            f.concert,
            &seats(&["A-1-1"]),
            &boxoffice::CustomerInfo {
                email: "a@example.com".into(),
                name: Some("Eve\r\nBcc: x@y.z".into()),
                phone: None
            }
        ),
        Err(Error::Invalid(_))
    ));
    assert_eq!(f.store.seat_map(f.concert).unwrap().counts.held, 0);

    let hold = f
        .store
        .hold_seats(f.concert, &seats(&["A-1-1"]), &c)
        .unwrap();
    // Too little cash: refused, and the hold stays live for the clerk to retry.
    assert!(matches!(
        f.store.pay(&hold.hold_id, &cash(4_999), &p),
        Err(Error::InsufficientCash { .. })
    ));
    assert_eq!(
        f.store.hold(&hold.hold_id).unwrap().state,
        boxoffice::HoldState::Live
    );
    // A card number typed into the cash field (or a run of extra digits): refused before any
    // change is counted out, with the most it takes; nothing recorded, the hold still live.
    match f.store.pay(&hold.hold_id, &cash(4_242_424_242_424_242), &p) {
        Err(Error::Invalid(msg)) => assert!(
            msg.contains("EUR 50.00 due") && msg.contains("more than EUR 10000.00"),
            "{msg}"
        ),
        other => panic!("{other:?}"),
    }
    let recorded: i64 = f
        .store
        .db()
        .query_row(
            "SELECT count(*) FROM payments WHERE hold_id = ?1",
            [&hold.hold_id],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(recorded, 0);
    assert_eq!(
        f.store.hold(&hold.hold_id).unwrap().state,
        boxoffice::HoldState::Live
    );
    // The most it takes is taken: a large note for a small ticket.
    assert_eq!(boxoffice::payment::most_cash_for(5_000), 1_000_000);
    let receipt = f.store.pay(&hold.hold_id, &cash(5_000), &p).unwrap();
    assert_eq!(receipt.change_cents, 0);
    // Paying twice.
    match f.store.pay(&hold.hold_id, &cash(5_000), &p) {
        Err(Error::AlreadyPaid { code, .. }) => assert_eq!(code, receipt.booking_code),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        f.store.pay("HNOSUCH", &cash(5_000), &p),
        Err(Error::HoldNotFound(_))
    ));
    // Cancelling twice.
    f.store.cancel_booking(&receipt.booking_code, &p).unwrap();
    assert!(matches!(
        f.store.cancel_booking(&receipt.booking_code, &p),
        Err(Error::AlreadyCancelled(_))
    ));
    assert!(matches!(
        f.store.cancel_booking("ZZZZZZ", &p),
        Err(Error::BookingNotFound(_))
    ));
    // Exactly one refund for the booking.
    assert_eq!(
        f.store
            .booking(&receipt.booking_code)
            .unwrap()
            .refunded_cents,
        5_000
    );
}

#[test]
fn nothing_can_be_held_before_the_on_sale_time() {
    let mut f = fixture();
    let mut c = concert(
        "Early Bird",
        "test-hall",
        chrono::NaiveDate::from_ymd_opt(2027, 1, 10).unwrap(),
        "20:00",
    );
    c.on_sale_at = t("2026-12-05T09:00:00Z");
    let id = f.store.add_concert(&c).unwrap();
    let err = f
        .store
        .hold_seats(id, &seats(&["A-1-1"]), &customer("a@example.com"))
        .unwrap_err();
    assert!(matches!(err, Error::NotOnSale { .. }), "{err:?}");
    // Said as the venue's clock shows it, labelled with the zone.
    assert!(
        err.to_string().ends_with("sales open Sat 05 Dec 10:00 CET"),
        "{err}"
    );
    f.clock.set(t("2026-12-05T09:00:00Z"));
    f.store
        .hold_seats(id, &seats(&["A-1-1"]), &customer("a@example.com"))
        .unwrap();
}

#[test]
fn the_schema_refuses_a_second_active_claim_on_a_seat() {
    let mut f = fixture();
    f.store
        .hold_seats(f.concert, &seats(&["A-1-1"]), &customer("a@example.com"))
        .unwrap();
    let err = f
        .store
        .db()
        .execute(
            "INSERT INTO claims (concert_id, seat_id, hold_id, price_cents, expires_at)
             SELECT concert_id, seat_id, 'ANOTHER', price_cents, expires_at FROM claims LIMIT 1",
            (),
        )
        .unwrap_err();
    assert!(err.is_constraint(), "{err}");
    let e = err.to_string();
    assert!(
        e.contains("UNIQUE constraint failed: claims.concert_id, claims.seat_id")
            || e.contains("duplicate key value violates unique constraint \"claims_pkey\""),
        "{e}"
    );
}

#[test]
fn the_person_becomes_a_customer_when_they_pay_with_the_details_given_at_the_hold() {
    let mut f = fixture();
    let p = Processors::cash_only();
    let ann = boxoffice::CustomerInfo {
        email: "Ann@Example.com".into(),
        name: Some("Ann Example".into()),
        phone: Some("+43 660 555 0101".into()),
    };
    let hold = f
        .store
        .hold_seats(
            f.concert,
            &seats(&["A-1-1", "A-1-2", "A-1-3", "A-1-4"]),
            &ann,
        )
        .unwrap();
    let conn = f.reopen();
    let customers = |email: &str| -> i64 {
        conn.db()
            .query_row(
                "SELECT count(*) FROM customers WHERE email = ?1",
                [email],
                |r| r.get(0),
            )
            .unwrap()
    };
    // A hold is not a customer record: nothing about Ann is kept until she pays.
    assert_eq!(customers("ann@example.com"), 0);
    let receipt = f.store.pay(&hold.hold_id, &cash(20_000), &p).unwrap();
    let booking = f.store.booking(&receipt.booking_code).unwrap();
    assert_eq!(booking.customer.email, "ann@example.com");
    assert_eq!(booking.customer.name.as_deref(), Some("Ann Example"));
    assert_eq!(booking.customer.phone.as_deref(), Some("+436605550101"));
    // Her record links her identities: under another email with her phone, or under her email
    // without it, she is the same person, with 4 of her 6 tickets.
    for other in [
        boxoffice::CustomerInfo {
            email: "ann.work@example.com".into(),
            name: None,
            phone: Some("+436605550101".into()),
        },
        customer("ann@example.com"),
    ] {
        let err = f
            .store
            .hold_seats(f.concert, &seats(&["A-2-1", "A-2-2", "A-2-3"]), &other)
            .unwrap_err();
        assert!(
            matches!(err, Error::LimitReached { have: 4, .. }),
            "{}: {err:?}",
            other.email
        );
    }
}

fn walk_up() -> boxoffice::CustomerInfo {
    boxoffice::CustomerInfo {
        email: String::new(),
        name: None,
        phone: None,
    }
}

fn outbox_rows(f: &Fixture) -> Vec<(String, String)> {
    let mut st = f
        .store
        .db()
        .prepare("SELECT channel, recipient FROM outbox ORDER BY id")
        .unwrap();
    st.query_map((), |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn a_walk_up_holds_and_pays_cash_without_giving_any_details() {
    let mut f = fixture();
    let p = Processors::cash_only();
    // Two walk-ups at two terminals: neither is the other, so neither hold replaces the other.
    let first = f
        .store
        .hold_seats(f.concert, &seats(&["A-1-1", "A-1-2"]), &walk_up())
        .unwrap();
    let second = f
        .store
        .hold_seats(f.concert, &seats(&["A-2-1", "A-2-2"]), &walk_up())
        .unwrap();
    assert!(first.replaced.is_none() && second.replaced.is_none());
    assert_eq!(
        f.store.hold(&first.hold_id).unwrap().state,
        boxoffice::HoldState::Live
    );
    // The ticket limit (6) is the sale's: eight seats at once are refused.
    let eight = seats(&[
        "A-2-3", "A-2-4", "A-2-5", "A-2-6", "A-1-3", "A-1-4", "A-1-5", "A-1-6",
    ]);
    assert!(matches!(
        f.store.hold_seats(f.concert, &eight, &walk_up()),
        Err(Error::LimitReached { have: 0, .. })
    ));
    let receipt = f.store.pay(&first.hold_id, &cash(10_000), &p).unwrap();
    let booking = f.store.booking(&receipt.booking_code).unwrap();
    assert_eq!(booking.state, boxoffice::BookingState::Confirmed);
    assert_eq!(booking.customer.email, "");
    assert_eq!(booking.customer.email_address(), None);
    // Nobody to write to: nothing queued, nothing failing.
    assert!(outbox_rows(&f).is_empty());
    f.store.pay(&second.hold_id, &cash(10_000), &p).unwrap();
    assert_eq!(status(&f, "A-2-2"), SeatStatus::Booked);
}

#[test]
fn details_put_on_a_hold_later_meet_the_persons_rules_and_a_refusal_changes_nothing() {
    let mut f = fixture();
    let p = Processors::cash_only();
    // Ann already has five seats for this concert.
    let earlier = f
        .store
        .hold_seats(
            f.concert,
            &seats(&["A-2-1", "A-2-2", "A-2-3", "A-2-4", "A-2-5"]),
            &customer("ann@example.com"),
        )
        .unwrap();
    f.store.pay(&earlier.hold_id, &cash(15_000), &p).unwrap();

    let hold = f
        .store
        .hold_seats(f.concert, &seats(&["A-1-1", "A-1-2"]), &walk_up())
        .unwrap();
    // Named as Ann (her phone, another address): five and two are more than six.
    let mut ann = customer("ann.work@example.com");
    ann.phone = Some("+43 660 1234567".into());
    f.store
        .db()
        .execute(
            "UPDATE customers SET phone = '+436601234567' WHERE email = 'ann@example.com'",
            (),
        )
        .unwrap();
    let refused = f.store.name_hold(&hold.hold_id, &ann).unwrap_err();
    assert!(
        matches!(
            refused,
            Error::LimitReached {
                limit: 6,
                have: 5,
                asked: 2
            }
        ),
        "{refused:?}"
    );
    let still = f.store.hold(&hold.hold_id).unwrap();
    assert_eq!(
        (still.state, still.customer.as_str()),
        (boxoffice::HoldState::Live, "")
    );
    // A bad address is refused the same way.
    assert!(
        f.store
            .name_hold(&hold.hold_id, &customer("not an address"))
            .is_err()
    );

    // Someone else: named, and their confirmation goes to them.
    let named = f
        .store
        .name_hold(&hold.hold_id, &customer("Bob@Example.com"))
        .unwrap();
    assert_eq!(named.customer, "bob@example.com");
    let receipt = f.store.pay(&hold.hold_id, &cash(10_000), &p).unwrap();
    assert_eq!(
        f.store
            .booking(&receipt.booking_code)
            .unwrap()
            .customer
            .email,
        "bob@example.com"
    );
    assert!(
        outbox_rows(&f)
            .iter()
            .any(|(ch, to)| ch == "email" && to == "bob@example.com")
    );
}

#[test]
fn naming_a_hold_releases_the_persons_earlier_live_hold_and_a_phone_alone_gets_an_sms() {
    let mut f = fixture();
    let p = Processors::cash_only();
    let mut pia = customer("pia@example.com");
    pia.phone = Some("+43 660 7654321".into());
    let earlier = f
        .store
        .hold_seats(f.concert, &seats(&["A-1-1"]), &pia)
        .unwrap();
    let hold = f
        .store
        .hold_seats(f.concert, &seats(&["A-2-1"]), &walk_up())
        .unwrap();
    // Only her phone, in the venue's local form: the same person.
    let by_phone = boxoffice::CustomerInfo {
        email: String::new(),
        name: None,
        phone: Some("0660 7654321".into()),
    };
    let named = f.store.name_hold(&hold.hold_id, &by_phone).unwrap();
    assert_eq!(named.replaced.unwrap().hold_id, earlier.hold_id);
    assert_eq!(
        f.store.hold(&earlier.hold_id).unwrap().state,
        boxoffice::HoldState::Released
    );
    assert_eq!(status(&f, "A-1-1"), SeatStatus::Free);
    f.store.pay(&hold.hold_id, &cash(3_000), &p).unwrap();
    assert_eq!(
        outbox_rows(&f),
        vec![("sms".to_string(), "+436607654321".to_string())]
    );
}

#[test]
fn the_seat_map_reads_as_runs_of_free_seats_best_first_and_takes_a_block_as_typed() {
    let mut f = fixture();
    f.store
        .hold_seats_allowing_gap(f.concert, &seats(&["A-1-2"]), &walk_up())
        .unwrap();
    let map = f.store.seat_map(f.concert).unwrap();
    let runs: Vec<(String, i64, i64, String, i64)> = map
        .free_runs()
        .into_iter()
        .map(|r| (r.row, r.first, r.last, r.category_name, r.price_cents))
        .collect();
    // Split by the held seat, the aisle and the category; ranked as best available ranks
    // seats (rows count double from the stage, then the distance from the centre): the lone
    // seat at row 1's far end comes after row 2's blocks.
    assert_eq!(
        runs,
        vec![
            ("1".into(), 3, 3, "Premium".into(), 5000),
            ("1".into(), 4, 6, "Standard".into(), 3000),
            ("2".into(), 1, 3, "Standard".into(), 3000),
            ("2".into(), 4, 6, "Standard".into(), 3000),
            ("1".into(), 1, 1, "Premium".into(), 5000),
        ]
    );
    let id = |label: &str| map.seats.iter().find(|s| s.seat == label).unwrap().seat_id;
    assert_eq!(map.block("2 5-6"), Ok(vec![id("A-2-5"), id("A-2-6")]));
    assert_eq!(map.block("a 2 6 to 5"), Ok(vec![id("A-2-5"), id("A-2-6")]));
    assert_eq!(map.block("2 4"), Ok(vec![id("A-2-4")]));
    assert_eq!(map.block("1 1-3"), Err("not free: A-1-2".to_string()));
    assert!(
        map.block("2 6-9")
            .unwrap_err()
            .contains("no seat numbered 7")
    );
    assert!(map.block("9 1").unwrap_err().contains("no seats"));
    assert!(map.block("hello").unwrap_err().contains("e.g. F 10-11"));
}

on_postgres_too!(
    hold_pay_confirm_and_cancel,
    a_hold_is_all_or_nothing_and_names_the_taken_seats,
    an_expired_hold_counts_as_free_and_cannot_be_paid,
    release_gives_the_seats_back,
    bad_input_is_refused_and_changes_nothing,
    nothing_can_be_held_before_the_on_sale_time,
    the_schema_refuses_a_second_active_claim_on_a_seat,
    the_person_becomes_a_customer_when_they_pay_with_the_details_given_at_the_hold,
    a_walk_up_holds_and_pays_cash_without_giving_any_details,
    details_put_on_a_hold_later_meet_the_persons_rules_and_a_refusal_changes_nothing,
    naming_a_hold_releases_the_persons_earlier_live_hold_and_a_phone_alone_gets_an_sms,
    the_seat_map_reads_as_runs_of_free_seats_best_first_and_takes_a_block_as_typed,
);

/// A read-only store (a terminal opened to look) shows everything and changes nothing: a
/// hold, a payment of a hold made elsewhere, a cancellation and the waiting list are refused
/// before they begin.
#[test]
fn a_read_only_store_looks_and_changes_nothing() {
    let mut f = fixture();
    let p = Processors::cash_only();
    let hold = f
        .store
        .hold_seats(f.concert, &seats(&["A-1-1"]), &customer("ann@example.com"))
        .unwrap();
    let mut looker = f.reopen();
    looker.set_read_only();
    assert!(looker.is_read_only());
    assert_eq!(looker.seat_map(f.concert).unwrap().seats.len(), 12);
    let refused = |r: Result<(), Error>| {
        let e = r.unwrap_err();
        assert!(matches!(e, Error::ReadOnlyTerminal), "{e}");
        assert_eq!(e.kind(), boxoffice::ErrorKind::Unavailable);
    };
    refused(
        looker
            .hold_seats(f.concert, &seats(&["A-1-2"]), &customer("bob@example.com"))
            .map(drop),
    );
    refused(looker.pay(&hold.hold_id, &cash(10_000), &p).map(drop));
    let (paid, _) = looker
        .pay_in_background(
            hold.hold_id.clone(),
            cash(10_000),
            f.dir.path().join("gw.db"),
        )
        .recv()
        .unwrap();
    refused(paid.map(drop));
    refused(looker.release_hold(&hold.hold_id).map(drop));
    refused(
        looker
            .join_waitlist(f.concert, &customer("cara@example.com"), 1, None)
            .map(drop),
    );
    assert_eq!(status(&f, "A-1-1"), SeatStatus::Held);
    assert_eq!(status(&f, "A-1-2"), SeatStatus::Free);
    let receipt = f.store.pay(&hold.hold_id, &cash(10_000), &p).unwrap();
    refused(
        looker
            .cancel_seats(&receipt.booking_code, &seats(&["A-1-1"]), &p)
            .map(drop),
    );
    assert_eq!(status(&f, "A-1-1"), SeatStatus::Booked);
}

//! The fairness rules, each at its edges, with a controlled clock.

use crate::common;

use boxoffice::booking::BestRequest;
use boxoffice::{CustomerInfo, Error, SeatStatus};
use chrono::Duration;
use common::*;

fn status(f: &Fixture, label: &str) -> SeatStatus {
    let map = f.store.seat_map(f.concert).unwrap();
    map.seats.iter().find(|s| s.seat == label).unwrap().status
}

fn cash(f: &mut Fixture, hold: &str) -> String {
    let p = boxoffice::Processors::cash_only();
    f.store
        .pay(
            hold,
            &boxoffice::Tender::Cash {
                tendered_cents: 100_000,
            },
            &p,
        )
        .unwrap()
        .booking_code
}

#[test]
fn the_ticket_limit_counts_live_holds_and_bookings_and_is_reached_exactly() {
    let mut f = fixture();
    let a = customer("a@example.com");
    let h = f
        .store
        .hold_seats(f.concert, &seats(&["A-2-1", "A-2-2", "A-2-3", "A-2-4"]), &a)
        .unwrap();
    cash(&mut f, &h.hold_id);
    // 4 booked + 2 held = 6: exactly the limit.
    let h2 = f
        .store
        .hold_seats(f.concert, &seats(&["A-2-5", "A-2-6"]), &a)
        .unwrap();
    // A new hold replaces the live one: 4 + 3 would be 7.
    let err = f
        .store
        .hold_seats(f.concert, &seats(&["A-1-1", "A-1-2", "A-1-3"]), &a)
        .unwrap_err();
    match err {
        Error::LimitReached { limit, have, asked } => assert_eq!((limit, have, asked), (6, 4, 3)),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        err_kind_exit(&Error::LimitReached {
            limit: 6,
            have: 4,
            asked: 3
        }),
        3
    );
    // Refused means nothing changed: the earlier hold is still live.
    assert_eq!(
        f.store.hold(&h2.hold_id).unwrap().state,
        boxoffice::HoldState::Live
    );
    // The same person by phone, with another email, counts too.
    let mut b = CustomerInfo {
        email: "b@example.com".into(),
        name: None,
        phone: Some("+43 660 111 222".into()),
    };
    f.store
        .hold_seats(f.concert, &seats(&["A-1-1"]), &b)
        .unwrap();
    b.email = "b.other@example.com".into();
    b.phone = Some("+43660111222".into());
    let h = f
        .store
        .hold_seats(f.concert, &seats(&["A-1-2", "A-1-3"]), &b)
        .unwrap();
    assert_eq!(
        h.replaced.as_ref().map(|r| r.seats.clone()),
        Some(vec!["A-1-1".to_string()])
    );
}

fn err_kind_exit(e: &Error) -> i32 {
    match e.kind() {
        boxoffice::ErrorKind::Usage => 2,
        boxoffice::ErrorKind::Unavailable => 3,
        boxoffice::ErrorKind::Other => 1,
    }
}

#[test]
fn a_new_hold_releases_the_customers_earlier_one_and_says_so() {
    let mut f = fixture();
    let a = customer("a@example.com");
    let first = f
        .store
        .hold_seats(f.concert, &seats(&["A-2-1"]), &a)
        .unwrap();
    let second = f
        .store
        .hold_seats(f.concert, &seats(&["A-2-6"]), &a)
        .unwrap();
    let replaced = second.replaced.expect("says so");
    assert_eq!(replaced.hold_id, first.hold_id);
    assert_eq!(replaced.seats, vec!["A-2-1"]);
    assert_eq!(status(&f, "A-2-1"), SeatStatus::Free);
    assert_eq!(
        f.store.hold(&first.hold_id).unwrap().state,
        boxoffice::HoldState::Released
    );
    // Someone else's hold is untouched.
    let b = f
        .store
        .hold_seats(f.concert, &seats(&["A-1-1"]), &customer("b@example.com"))
        .unwrap();
    assert!(b.replaced.is_none());
    assert_eq!(status(&f, "A-2-6"), SeatStatus::Held);
}

#[test]
fn the_hold_time_is_configurable_per_concert() {
    let mut f = fixture();
    f.store
        .set_concert_rules(f.concert, None, Some(12), None)
        .unwrap();
    let h = f
        .store
        .hold_seats(f.concert, &seats(&["A-1-1"]), &customer("a@example.com"))
        .unwrap();
    assert_eq!(h.expires_at - h.created_at, Duration::minutes(12));
    assert_eq!(f.store.concert(f.concert).unwrap().hold_minutes, 12);
    assert!(
        f.store
            .set_concert_rules(f.concert, Some(0), None, None)
            .is_err()
    );
}

#[test]
fn a_selection_that_strands_a_seat_is_refused_with_a_better_one() {
    let mut f = fixture();
    // Row 2 is two blocks of three: taking the middle of one strands both ends.
    match f
        .store
        .hold_seats(f.concert, &seats(&["A-2-2"]), &customer("a@example.com"))
        .unwrap_err()
    {
        Error::WouldStrandSeat {
            stranded,
            suggestion,
        } => {
            assert_eq!(stranded, vec!["A-2-1", "A-2-3"]);
            assert_eq!(suggestion.len(), 1);
            // The suggestion itself is accepted.
            f.store
                .hold_seats(f.concert, &suggestion, &customer("a@example.com"))
                .unwrap();
        }
        other => panic!("{other:?}"),
    }
    // The clerk's override is allowed and recorded.
    let h = f
        .store
        .hold_seats_allowing_gap(f.concert, &seats(&["A-2-5"]), &customer("c@example.com"))
        .unwrap();
    assert!(h.gap_override);
    assert!(f.store.hold(&h.hold_id).unwrap().gap_override);
}

#[test]
fn a_gap_is_allowed_when_no_selection_of_the_same_size_avoids_one() {
    let mut f = fixture();
    // Leave only A-2-1..3 free in the standard blocks, with A-2-2 taken: every single seat left
    // strands something or is already alone.
    let p = seats(&["A-1-4", "A-1-5", "A-1-6", "A-2-4", "A-2-5", "A-2-6"]);
    f.store
        .hold_seats(f.concert, &p, &customer("a@example.com"))
        .unwrap();
    // Two free of three in a block: holding 2 of them leaves 1 wherever they are.
    f.store
        .hold_seats_allowing_gap(f.concert, &seats(&["A-2-2"]), &customer("b@example.com"))
        .unwrap();
    // A-2-1 and A-2-3 are now singles; taking one creates no new gap.
    f.store
        .hold_seats(f.concert, &seats(&["A-2-1"]), &customer("c@example.com"))
        .unwrap();
    // Premium: "PPP" all free; any two strand one, no alternative of two avoids it... except
    // A-1-1+A-1-2 or A-1-2+A-1-3 leave an end seat: both strand one, so it is allowed.
    let h = f
        .store
        .hold_seats(
            f.concert,
            &seats(&["A-1-1", "A-1-2"]),
            &customer("d@example.com"),
        )
        .unwrap();
    assert!(!h.gap_override);
}

#[test]
fn best_available_keeps_a_party_together_and_says_when_it_cannot() {
    let mut f = fixture();
    let best = |n, category: Option<&str>, allow_split| BestRequest {
        count: n,
        category: category.map(str::to_string),
        max_price_cents: None,
        allow_split,
    };
    let h = f
        .store
        .hold_best(
            f.concert,
            &best(3, Some("P"), false),
            &customer("a@example.com"),
        )
        .unwrap();
    assert_eq!(h.seats, vec!["A-1-1", "A-1-2", "A-1-3"]);
    // Under a price: premium (50.00) is out.
    let cheap = BestRequest {
        count: 2,
        category: None,
        max_price_cents: Some(3_000),
        allow_split: false,
    };
    let h = f
        .store
        .hold_best(f.concert, &cheap, &customer("b@example.com"))
        .unwrap();
    assert_eq!(h.total_cents, 6_000);
    // No block has 4 together: refused with the best split named, taken only when allowed.
    match f
        .store
        .hold_best(f.concert, &best(4, None, false), &customer("c@example.com"))
        .unwrap_err()
    {
        Error::NotTogether { n, suggestion } => assert_eq!((n, suggestion.len()), (4, 4)),
        other => panic!("{other:?}"),
    }
    let h = f
        .store
        .hold_best(f.concert, &best(4, None, true), &customer("c@example.com"))
        .unwrap();
    assert_eq!(h.seats.len(), 4);
    assert!(matches!(
        f.store
            .hold_best(f.concert, &best(6, None, true), &customer("d@example.com")),
        Err(Error::NotEnoughSeats(_))
    ));
}

#[test]
fn the_persons_own_held_seats_can_be_held_again_and_others_are_refused_without_a_write() {
    let mut f = fixture();
    let a = customer("a@example.com");
    let first = f
        .store
        .hold_seats(f.concert, &seats(&["A-2-1", "A-2-2"]), &a)
        .unwrap();
    // The same seats and one more: the earlier hold makes way.
    let second = f
        .store
        .hold_seats(f.concert, &seats(&["A-2-1", "A-2-2", "A-2-3"]), &a)
        .unwrap();
    assert_eq!(second.replaced.unwrap().hold_id, first.hold_id);
    // The same person by phone, under another email.
    let phone = |email: &str| CustomerInfo {
        email: email.into(),
        name: None,
        phone: Some("+43 660 1234567".into()),
    };
    let x = f
        .store
        .hold_seats(
            f.concert,
            &seats(&["A-1-1", "A-1-2"]),
            &phone("x@example.com"),
        )
        .unwrap();
    let y = f
        .store
        .hold_seats(
            f.concert,
            &seats(&["A-1-1", "A-1-2", "A-1-3"]),
            &phone("y@example.com"),
        )
        .unwrap();
    assert_eq!(y.replaced.unwrap().hold_id, x.hold_id);
    // Somebody else is refused, the seats named, and nothing about them was written.
    let err = f
        .store
        .hold_seats(
            f.concert,
            &seats(&["A-2-3", "A-2-4"]),
            &customer("b@example.com"),
        )
        .unwrap_err();
    assert!(
        matches!(&err, Error::SeatsTaken(s) if s == &["A-2-3"]),
        "{err:?}"
    );
    let conn = common::sql(f.db_path());
    let written: i64 = conn
        .db()
        .query_row(
            "SELECT count(*) FROM customers WHERE email = 'b@example.com'",
            (),
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(written, 0);
    // Once the holds have run out, somebody else takes the seats in the same step that ends
    // them.
    f.clock.set(t("2026-12-02T10:00:00Z"));
    let c = f
        .store
        .hold_seats(
            f.concert,
            &seats(&["A-1-1", "A-1-2", "A-1-3"]),
            &customer("c@example.com"),
        )
        .unwrap();
    assert!(c.replaced.is_none());
}

#[test]
fn a_phone_number_is_one_person_however_it_is_typed() {
    let mut f = fixture();
    let typed = |email: &str, phone: &str| boxoffice::CustomerInfo {
        email: email.into(),
        name: None,
        phone: Some(phone.into()),
    };
    // At a Vienna venue, 0664 … is an Austrian number: stored as +43 … (E.164).
    let first = f
        .store
        .hold_seats(
            f.concert,
            &seats(&["A-1-1"]),
            &typed("ann@example.com", "0664 1111111"),
        )
        .unwrap();
    // The same number in international form, under another email, is the same person: their
    // earlier hold is replaced (one live hold per person), not sidestepped.
    let second = f
        .store
        .hold_seats(
            f.concert,
            &seats(&["A-2-1"]),
            &typed("ann.lee@example.com", "+43 (0) 664 111 1111"),
        )
        .unwrap();
    assert_eq!(
        second.replaced.map(|r| r.hold_id),
        Some(first.hold_id.clone())
    );
    let stored: String = common::sql(f.db_path())
        .db()
        .query_row(
            "SELECT phone FROM holds WHERE id = ?1",
            [&first.hold_id],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(stored, "+436641111111");
    // Not a phone number there: refused with a clear message, nothing held.
    let e = f
        .store
        .hold_seats(
            f.concert,
            &seats(&["A-2-6"]),
            &typed("bo@example.com", "0664 12"),
        )
        .unwrap_err();
    assert!(e.to_string().contains("not a phone number"), "{e}");
}

on_postgres_too!(
    the_ticket_limit_counts_live_holds_and_bookings_and_is_reached_exactly,
    a_new_hold_releases_the_customers_earlier_one_and_says_so,
    the_hold_time_is_configurable_per_concert,
    a_selection_that_strands_a_seat_is_refused_with_a_better_one,
    a_gap_is_allowed_when_no_selection_of_the_same_size_avoids_one,
    best_available_keeps_a_party_together_and_says_when_it_cannot,
    the_persons_own_held_seats_can_be_held_again_and_others_are_refused_without_a_write,
    a_phone_number_is_one_person_however_it_is_typed,
    no_seat_is_sold_once_the_concert_has_started,
    a_terminal_keeps_only_a_few_walk_up_holds_at_once,
);

/// A concert that has started sells no more seats: up to its last second before the start a
/// hold goes through, from the start on it is refused with the start as the venue shows it.
#[test]
fn no_seat_is_sold_once_the_concert_has_started() {
    let mut f = fixture();
    // The concert starts 2026-12-20 20:00 in Vienna, 19:00 UTC.
    f.clock.set(t("2026-12-20T18:59:59Z"));
    let late = f
        .store
        .hold_seats(f.concert, &seats(&["A-2-1"]), &customer("late@example.com"))
        .unwrap();
    f.store.release_hold(&late.hold_id).unwrap();
    f.clock.set(t("2026-12-20T19:00:00Z"));
    let err = f
        .store
        .hold_seats(
            f.concert,
            &seats(&["A-2-1"]),
            &customer("later@example.com"),
        )
        .unwrap_err();
    assert!(matches!(err, Error::SalesClosed { .. }), "{err:?}");
    assert!(err.to_string().contains("Sun 20 Dec 20:00 CET"), "{err}");
    let best = f.store.hold_best(
        f.concert,
        &BestRequest {
            count: 2,
            category: None,
            max_price_cents: None,
            allow_split: false,
        },
        &customer("later@example.com"),
    );
    assert!(matches!(best, Err(Error::SalesClosed { .. })), "{best:?}");
    assert_eq!(status(&f, "A-2-1"), SeatStatus::Free);
}

/// One terminal cannot sit on a show with walk-up holds nobody pays: it (and its clerk) keeps
/// at most a few at once, across concerts; a hold for someone who gave details is no walk-up,
/// and one that ran out or was paid makes room again.
#[test]
fn a_terminal_keeps_only_a_few_walk_up_holds_at_once() {
    let mut f = fixture();
    let at = |f: &mut Fixture, terminal: &str, clerk: Option<&str>| {
        f.store
            .set_operator(boxoffice::store::Operator {
                clerk: clerk.map(str::to_string),
                terminal: Some(terminal.into()),
            })
            .unwrap();
    };
    at(&mut f, "kiosk-1", None);
    let walk_up = CustomerInfo::default();
    let mut held = Vec::new();
    for seat in ["A-2-1", "A-2-2", "A-2-3", "A-2-4"] {
        held.push(
            f.store
                .hold_seats_allowing_gap(f.concert, &seats(&[seat]), &walk_up)
                .unwrap(),
        );
    }
    let err = f
        .store
        .hold_seats_allowing_gap(f.concert, &seats(&["A-2-6"]), &walk_up)
        .unwrap_err();
    assert!(
        matches!(err, Error::WalkUpHolds { limit: 4, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("this terminal (kiosk-1)"), "{err}");
    assert_eq!(status(&f, "A-2-6"), SeatStatus::Free, "nothing held");
    // Someone who gave an email is no walk-up; another terminal has room of its own.
    f.store
        .hold_seats_allowing_gap(f.concert, &seats(&["A-2-6"]), &customer("ann@example.com"))
        .unwrap();
    at(&mut f, "kiosk-2", None);
    f.store
        .hold_seats_allowing_gap(f.concert, &seats(&["A-1-4"]), &walk_up)
        .unwrap();
    // (The single-seat gap rule is waived throughout: a small hall, many little holds.)
    // A clerk moving to another terminal takes the count along.
    at(&mut f, "kiosk-3", Some("anna"));
    for seat in ["A-1-5", "A-1-6"] {
        f.store
            .hold_seats_allowing_gap(f.concert, &seats(&[seat]), &walk_up)
            .unwrap();
    }
    at(&mut f, "kiosk-4", Some("anna"));
    for seat in ["A-1-1", "A-1-2"] {
        f.store
            .hold_seats_allowing_gap(f.concert, &seats(&[seat]), &walk_up)
            .unwrap();
    }
    let err = f
        .store
        .hold_seats_allowing_gap(f.concert, &seats(&["A-1-3"]), &walk_up)
        .unwrap_err();
    assert!(err.to_string().contains("clerk anna"), "{err}");
    // A paid one makes room at kiosk-1, and so does the time running out.
    at(&mut f, "kiosk-1", None);
    cash(&mut f, &held[0].hold_id);
    f.store
        .hold_seats_allowing_gap(f.concert, &seats(&["A-1-3"]), &walk_up)
        .unwrap();
    f.clock.advance(Duration::minutes(6));
    f.store
        .hold_seats_allowing_gap(f.concert, &seats(&["A-2-5"]), &walk_up)
        .unwrap();
}

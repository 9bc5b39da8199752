//! The waiting list: join, position, offers in join order, expiry into the next offer, and
//! several processes racing for a small concert and its queue.

use crate::common;

use boxoffice::{Clock, CustomerInfo, Error, Processors, SeatStatus, Tender};
use chrono::Duration;
use common::*;

fn pay(f: &mut Fixture, hold: &str) -> String {
    f.store
        .pay(
            hold,
            &Tender::Cash {
                tendered_cents: 100_000,
            },
            &Processors::cash_only(),
        )
        .unwrap()
        .booking_code
}

fn with_phone(email: &str) -> CustomerInfo {
    CustomerInfo {
        email: email.into(),
        name: None,
        phone: Some("+4366099887".into()),
    }
}

/// Sells out Test Hall: row 1 to a@, row 2 to b@. Returns their booking codes.
fn sold_out(f: &mut Fixture) -> (String, String) {
    let h = f
        .store
        .hold_seats(
            f.concert,
            &seats(&["A-1-1", "A-1-2", "A-1-3", "A-1-4", "A-1-5", "A-1-6"]),
            &customer("a@example.com"),
        )
        .unwrap();
    let a = pay(f, &h.hold_id);
    let h = f
        .store
        .hold_seats(
            f.concert,
            &seats(&["A-2-1", "A-2-2", "A-2-3", "A-2-4", "A-2-5", "A-2-6"]),
            &customer("b@example.com"),
        )
        .unwrap();
    let b = pay(f, &h.hold_id);
    assert!(f.store.concert(f.concert).unwrap().sold_out);
    (a, b)
}

fn status(f: &Fixture, label: &str) -> SeatStatus {
    f.store
        .seat_map(f.concert)
        .unwrap()
        .seats
        .iter()
        .find(|s| s.seat == label)
        .unwrap()
        .status
}

#[test]
fn joining_needs_a_sold_out_concert_a_sane_party_and_one_entry_each() {
    let mut f = fixture();
    let err = f
        .store
        .join_waitlist(f.concert, &customer("w@example.com"), 2, None)
        .unwrap_err();
    assert!(err.to_string().contains("still on sale"), "{err}");
    sold_out(&mut f);
    for party in [0, 7] {
        assert!(matches!(
            f.store
                .join_waitlist(f.concert, &customer("w@example.com"), party, None),
            Err(Error::Invalid(_))
        ));
    }
    let e = f
        .store
        .join_waitlist(f.concert, &customer("w1@example.com"), 2, None)
        .unwrap();
    assert_eq!(
        (e.position, e.state),
        (Some(1), boxoffice::WaitlistState::Waiting)
    );
    let e = f
        .store
        .join_waitlist(f.concert, &customer("w2@example.com"), 6, None)
        .unwrap();
    assert_eq!(e.position, Some(2));
    let err = f
        .store
        .join_waitlist(f.concert, &customer("W1@example.com"), 1, None)
        .unwrap_err();
    assert!(err.to_string().contains("position 1"), "{err}");
    // Leaving moves the people behind up.
    f.store.leave_waitlist(f.concert, "w1@example.com").unwrap();
    let list = f.store.waitlist(f.concert).unwrap();
    assert_eq!(list[0].state, boxoffice::WaitlistState::Left);
    assert_eq!(list[1].position, Some(1));
    assert_eq!(f.store.concert(f.concert).unwrap().waiting, 1);
}

#[test]
fn freed_seats_go_to_the_first_party_that_fits_in_join_order() {
    let mut f = fixture();
    let (a, _) = sold_out(&mut f);
    f.store
        .join_waitlist(f.concert, &customer("big@example.com"), 6, None)
        .unwrap();
    f.store
        .join_waitlist(f.concert, &with_phone("pair@example.com"), 2, None)
        .unwrap();
    f.store
        .join_waitlist(f.concert, &customer("trio@example.com"), 3, None)
        .unwrap();
    let p = Processors::cash_only();
    // Cancel a@'s 6 seats: big (6) fits first and gets them all; the others wait.
    f.store.cancel_booking(&a, &p).unwrap();
    let list = f.store.waitlist(f.concert).unwrap();
    use boxoffice::WaitlistState::{Offered, Waiting};
    let states: Vec<boxoffice::WaitlistState> = list.iter().map(|e| e.state).collect();
    assert_eq!(states, vec![Offered, Waiting, Waiting]);
    assert_eq!(list[0].offer_seats.len(), 6);
    assert_eq!(
        list[0].offer_expires_at,
        Some(f.clock.now() + Duration::minutes(120))
    );
    assert_eq!(status(&f, "A-1-1"), SeatStatus::Reserved);
    // A walk-up cannot have them.
    let err = f
        .store
        .hold_seats(
            f.concert,
            &seats(&["A-1-1"]),
            &customer("walkup@example.com"),
        )
        .unwrap_err();
    assert!(matches!(err, Error::ReservedForWaitlist(_)), "{err:?}");
    // big@ was told: which seats, the price, the deadline, the code.
    let spool = boxoffice::Spool::new(f.dir.path().join("spool"));
    let report = f.store.deliver_outbox(&spool, false).unwrap();
    let offer = report
        .delivered
        .iter()
        .find(|d| d.recipient == "big@example.com")
        .unwrap();
    let text = std::fs::read_to_string(&offer.path).unwrap();
    let code = list[0].offer.clone().unwrap();
    for needle in ["A-1-1", "EUR 240.00", "Pay by", code.as_str()] {
        assert!(text.contains(needle), "offer lacks {needle}");
    }
    // The offer is paid with its code and becomes a booking.
    let booking = pay(&mut f, &code);
    assert_eq!(f.store.booking(&booking).unwrap().seats.len(), 6);
    assert_eq!(
        f.store.waitlist(f.concert).unwrap()[0].state,
        boxoffice::WaitlistState::Booked
    );
    assert_eq!(status(&f, "A-1-1"), SeatStatus::Booked);
}

#[test]
fn a_party_too_large_keeps_its_place_and_one_cancellation_serves_two_parties() {
    let mut f = fixture();
    let (_, b) = sold_out(&mut f);
    f.store
        .join_waitlist(f.concert, &customer("seven@example.com"), 6, Some("P"))
        .unwrap();
    f.store
        .join_waitlist(f.concert, &customer("pair1@example.com"), 2, None)
        .unwrap();
    f.store
        .join_waitlist(f.concert, &customer("pair2@example.com"), 3, None)
        .unwrap();
    f.store
        .cancel_booking(&b, &Processors::cash_only())
        .unwrap();
    let list = f.store.waitlist(f.concert).unwrap();
    use boxoffice::WaitlistState::{Offered, Waiting};
    let states: Vec<boxoffice::WaitlistState> = list.iter().map(|e| e.state).collect();
    // Six standard seats freed: the premium party waits, both smaller parties get offers.
    assert_eq!(states, vec![Waiting, Offered, Offered]);
    assert_eq!(list[0].position, Some(1), "keeps its place");
    assert_eq!(list[1].offer_seats.len() + list[2].offer_seats.len(), 5);
    // The one seat left over stays reserved while someone waits.
    let reserved = f.store.seat_map(f.concert).unwrap().counts.reserved;
    assert_eq!(reserved, 6);
}

#[test]
fn an_offer_that_expires_moves_on_to_the_next_person_and_both_are_told() {
    let mut f = fixture();
    let (a, _) = sold_out(&mut f);
    f.store
        .set_concert_rules(f.concert, None, None, Some(30))
        .unwrap();
    f.store
        .join_waitlist(f.concert, &customer("slow@example.com"), 2, None)
        .unwrap();
    f.store
        .join_waitlist(f.concert, &customer("next@example.com"), 2, None)
        .unwrap();
    f.store
        .join_waitlist(f.concert, &customer("third@example.com"), 2, None)
        .unwrap();
    // Free exactly two seats: cancel a@ and let b@... simpler: a@ has 6; offers go to all three.
    f.store
        .cancel_booking(&a, &Processors::cash_only())
        .unwrap();
    let offered: Vec<String> = f
        .store
        .waitlist(f.concert)
        .unwrap()
        .iter()
        .map(|e| e.state.to_string())
        .collect();
    assert_eq!(offered, vec!["offered", "offered", "offered"]);
    // Pay two; slow@ lets theirs run out.
    let list = f.store.waitlist(f.concert).unwrap();
    pay(&mut f, list[1].offer.as_ref().unwrap());
    f.clock.advance(Duration::minutes(31));
    f.store.expire_holds().unwrap();
    let list = f.store.waitlist(f.concert).unwrap();
    assert_eq!(list[0].state, boxoffice::WaitlistState::Expired);
    assert_eq!(list[2].state, boxoffice::WaitlistState::Expired);
    // With nobody left waiting, the seats are back on sale.
    assert_eq!(f.store.seat_map(f.concert).unwrap().counts.reserved, 0);
    assert_eq!(f.store.seat_map(f.concert).unwrap().counts.free, 4);
    let spool = boxoffice::Spool::new(f.dir.path().join("spool"));
    let report = f.store.deliver_outbox(&spool, false).unwrap();
    let to_slow: Vec<_> = report
        .delivered
        .iter()
        .filter(|d| d.recipient == "slow@example.com")
        .collect();
    assert_eq!(to_slow.len(), 2, "the offer, then that it ended");
}

#[test]
fn an_expired_offer_goes_to_the_next_in_line() {
    let mut f = fixture();
    let h = f
        .store
        .hold_seats(
            f.concert,
            &seats(&["A-1-1", "A-1-2", "A-1-3", "A-1-4", "A-1-5", "A-1-6"]),
            &customer("a@example.com"),
        )
        .unwrap();
    pay(&mut f, &h.hold_id);
    let h = f
        .store
        .hold_seats(
            f.concert,
            &seats(&["A-2-1", "A-2-2", "A-2-3", "A-2-4", "A-2-5"]),
            &customer("b@example.com"),
        )
        .unwrap();
    pay(&mut f, &h.hold_id);
    let h = f
        .store
        .hold_seats(f.concert, &seats(&["A-2-6"]), &customer("c@example.com"))
        .unwrap();
    let single = pay(&mut f, &h.hold_id);
    f.store
        .join_waitlist(f.concert, &customer("first@example.com"), 1, None)
        .unwrap();
    f.store
        .join_waitlist(f.concert, &customer("second@example.com"), 1, None)
        .unwrap();
    f.store
        .cancel_booking(&single, &Processors::cash_only())
        .unwrap();
    let states = |f: &Fixture| -> Vec<String> {
        f.store
            .waitlist(f.concert)
            .unwrap()
            .iter()
            .map(|e| e.state.to_string())
            .collect()
    };
    assert_eq!(states(&f), vec!["offered", "waiting"]);
    f.clock.advance(Duration::minutes(119));
    f.store.expire_holds().unwrap();
    assert_eq!(states(&f), vec!["offered", "waiting"]);
    f.clock.advance(Duration::minutes(1));
    f.store.expire_holds().unwrap();
    assert_eq!(states(&f), vec!["expired", "offered"]);
    let list = f.store.waitlist(f.concert).unwrap();
    assert_eq!(list[1].offer_seats, vec!["A-2-6"]);
    assert_eq!(list[1].position, Some(1));
}

/// Several processes on one database file: customers join the queue of a sold-out concert at
/// once, a cancellation and walk-ups race, and the offers still go out in join order.
#[test]
fn racing_processes_serve_the_waiting_list_in_join_order() {
    let mut f = fixture();
    let (a, _) = sold_out(&mut f);
    let db = f.db_path();
    let bin = env!("CARGO_BIN_EXE_boxoffice");
    let concert = f.concert.to_string();
    let run = |args: Vec<String>| {
        std::process::Command::new(bin)
            .env("BOXOFFICE_DB", &db)
            .env("BOXOFFICE_NOW", "2026-12-01T10:00:00Z")
            .args(args)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap()
    };
    let joiners: Vec<_> = (0..8)
        .map(|i| {
            run(vec![
                "waitlist".into(),
                "join".into(),
                concert.clone(),
                "--customer".into(),
                format!("w{i}@example.com"),
                "--party".into(),
                "2".into(),
            ])
        })
        .collect();
    for mut j in joiners {
        assert!(j.wait().unwrap().success());
    }
    // The cancellation and six walk-ups at once.
    let mut racers = vec![run(vec!["cancel".into(), a.clone()])];
    for i in 0..6 {
        racers.push(run(vec![
            "hold".into(),
            concert.clone(),
            "--best".into(),
            "2".into(),
            "--customer".into(),
            format!("walkup{i}@example.com"),
        ]));
    }
    let codes: Vec<i32> = racers
        .into_iter()
        .map(|mut c| c.wait().unwrap().code().unwrap())
        .collect();
    assert_eq!(codes[0], 0, "the cancellation");
    assert!(
        codes[1..].iter().all(|c| *c == 3),
        "walk-ups get nothing while people wait: {codes:?}"
    );
    drop(f.store);
    let conn = common::sql(&db);
    let states: Vec<String> = conn
        .db()
        .prepare("SELECT state FROM waitlist ORDER BY id")
        .unwrap()
        .query_map((), |r| r.get(0))
        .unwrap()
        .map(|r| r.unwrap())
        .collect();
    // Six seats freed, parties of two: the first three in join order got offers.
    assert_eq!(
        states,
        vec![
            "offered", "offered", "offered", "waiting", "waiting", "waiting", "waiting", "waiting"
        ]
    );
    let v = violations(&db, &f.dir.path().join("gateway.db"));
    assert!(v.is_empty(), "{v:?}");
    let over: i64 = conn
        .db()
        .query_row(
            "SELECT count(*) FROM (SELECT h.email FROM claims c JOIN holds h ON h.id = c.hold_id
             WHERE h.kind != 'pool' GROUP BY h.email, c.concert_id HAVING count(*) > 6) AS o",
            (),
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(over, 0, "no customer over the limit");
}

on_postgres_too!(
    a_customer_without_email_waits_by_phone_and_is_offered_by_sms,
    joining_needs_a_sold_out_concert_a_sane_party_and_one_entry_each,
    freed_seats_go_to_the_first_party_that_fits_in_join_order,
    a_party_too_large_keeps_its_place_and_one_cancellation_serves_two_parties,
    an_offer_that_expires_moves_on_to_the_next_person_and_both_are_told,
    an_expired_offer_goes_to_the_next_in_line,
    racing_processes_serve_the_waiting_list_in_join_order,
);

/// Someone without email joins with their mobile number alone: their place is theirs by that
/// number, the offer goes to them by SMS naming the concert and its date, and they leave by
/// the number; with neither, joining says what is needed.
#[test]
fn a_customer_without_email_waits_by_phone_and_is_offered_by_sms() {
    let mut f = fixture();
    let (a, _) = sold_out(&mut f);
    let phone_only = CustomerInfo {
        email: String::new(),
        name: Some("Nora".into()),
        phone: Some("0660 123 4567".into()),
    };
    let entry = f
        .store
        .join_waitlist(f.concert, &phone_only, 1, None)
        .unwrap();
    assert_eq!(entry.customer, "+436601234567");
    assert_eq!(entry.position, Some(1));
    let nobody = CustomerInfo::default();
    let err = f
        .store
        .join_waitlist(f.concert, &nobody, 1, None)
        .unwrap_err();
    assert!(err.to_string().contains("email or mobile number"), "{err}");
    // A seat comes free: the offer goes by SMS, with the concert and its date.
    f.store
        .cancel_seats(&a, &seats(&["A-1-1"]), &Processors::cash_only())
        .unwrap();
    let sms: Vec<String> = {
        let db = sql(f.db_path());
        let mut st = db
            .db()
            .prepare("SELECT body FROM outbox WHERE channel = 'sms' AND kind = 'waitlist_offer' AND recipient = '+436601234567'")
            .unwrap();
        st.query_map((), |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    assert_eq!(sms.len(), 1, "{sms:?}");
    assert!(
        sms[0].contains("The Testers") && sms[0].contains("20 Dec"),
        "{}",
        sms[0]
    );
    // They leave by their number (as they dialled it at the venue).
    let left = f.store.leave_waitlist(f.concert, "0660 1234567").unwrap();
    assert_eq!(left.state, boxoffice::WaitlistState::Left);
}

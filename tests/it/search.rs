//! Search by artist, venue, city, dates, time of day and free seats.

use crate::common;

use boxoffice::{ConcertQuery, Error};
use chrono::NaiveDate;
use common::*;

fn day(d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 12, d).unwrap()
}

fn artists(f: &Fixture, q: &ConcertQuery) -> Vec<String> {
    f.store
        .search_concerts(q)
        .unwrap()
        .into_iter()
        .map(|c| c.artist)
        .collect()
}

fn catalog() -> Fixture {
    let mut f = fixture(); // The Testers, 2026-12-20 20:00
    f.store
        .add_venue(
            "other",
            &HALL
                .replace("Test Hall", "Odeon 100% Hall")
                .replace("Testville", "Graz"),
        )
        .unwrap();
    for (artist, venue, d, time) in [
        ("Matinee_Band", "test-hall", 5, "11:00"),
        ("Aurora Lights", "other", 10, "19:30"),
        ("aurora borealis", "test-hall", 1, "23:00"),
        ("Late Show", "other", 20, "22:00"),
    ] {
        f.store
            .add_concert(&concert(artist, venue, day(d), time))
            .unwrap();
    }
    f
}

#[test]
fn names_match_as_case_insensitive_substrings_in_start_order() {
    let f = catalog();
    let q = ConcertQuery {
        artist: Some("AURORA".into()),
        ..Default::default()
    };
    assert_eq!(artists(&f, &q), vec!["aurora borealis", "Aurora Lights"]);
    // Two letters: the short-term fallback.
    let q = ConcertQuery {
        artist: Some("ur".into()),
        ..Default::default()
    };
    assert_eq!(artists(&f, &q).len(), 2);
    // Venue matches name or city.
    let q = ConcertQuery {
        venue: Some("graz".into()),
        ..Default::default()
    };
    assert_eq!(artists(&f, &q), vec!["Aurora Lights", "Late Show"]);
    let q = ConcertQuery {
        venue: Some("odeon".into()),
        artist: Some("late".into()),
        ..Default::default()
    };
    assert_eq!(artists(&f, &q), vec!["Late Show"]);
}

#[test]
fn percent_and_underscore_are_literal_characters() {
    let f = catalog();
    let q = ConcertQuery {
        venue: Some("%".into()),
        ..Default::default()
    };
    assert_eq!(artists(&f, &q), vec!["Aurora Lights", "Late Show"]);
    let q = ConcertQuery {
        venue: Some("100%".into()),
        ..Default::default()
    };
    assert_eq!(artists(&f, &q), vec!["Aurora Lights", "Late Show"]);
    let q = ConcertQuery {
        artist: Some("_".into()),
        ..Default::default()
    };
    assert_eq!(artists(&f, &q), vec!["Matinee_Band"]);
    let q = ConcertQuery {
        artist: Some("e_b".into()),
        ..Default::default()
    };
    assert_eq!(artists(&f, &q), vec!["Matinee_Band"]);
    let q = ConcertQuery {
        artist: Some("\"quoted".into()),
        ..Default::default()
    };
    assert!(artists(&f, &q).is_empty());
}

#[test]
fn dates_are_inclusive_and_times_filter_the_time_of_day() {
    let f = catalog();
    let q = ConcertQuery {
        from: Some(day(5)),
        to: Some(day(10)),
        ..Default::default()
    };
    assert_eq!(artists(&f, &q), vec!["Matinee_Band", "Aurora Lights"]);
    let q = ConcertQuery {
        to: Some(day(20)),
        ..Default::default()
    };
    assert_eq!(artists(&f, &q).len(), 5);
    let q = ConcertQuery {
        from: Some(day(20)),
        to: Some(day(20)),
        ..Default::default()
    };
    assert_eq!(artists(&f, &q), vec!["The Testers", "Late Show"]);
    let q = ConcertQuery {
        after: Some("19:30".parse().unwrap()),
        before: Some("22:00".parse().unwrap()),
        ..Default::default()
    };
    assert_eq!(
        artists(&f, &q),
        vec!["Aurora Lights", "The Testers", "Late Show"]
    );
}

#[test]
fn past_concerts_are_hidden_unless_a_from_date_asks_for_them() {
    let mut f = catalog();
    f.clock.set(t("2026-12-06T00:00:00Z"));
    let all = artists(&f, &ConcertQuery::default());
    assert!(!all.contains(&"Matinee_Band".to_string()));
    let q = ConcertQuery {
        from: Some(day(1)),
        ..Default::default()
    };
    assert!(artists(&f, &q).contains(&"Matinee_Band".to_string()));
    let _ = &mut f;
}

#[test]
fn available_hides_sold_out_concerts_and_pages_are_stable() {
    let mut f = catalog();
    let all: Vec<String> = (1..=2)
        .flat_map(|r| (1..=6).map(move |n| format!("A-{r}-{n}")))
        .collect();
    f.store
        .hold_seats(f.concert, &all[..6], &customer("a@example.com"))
        .unwrap();
    f.store
        .hold_seats(f.concert, &all[6..], &customer("b@example.com"))
        .unwrap();
    let q = ConcertQuery {
        available: true,
        ..Default::default()
    };
    assert!(!artists(&f, &q).contains(&"The Testers".to_string()));
    let sold = f.store.concert(f.concert).unwrap();
    assert!(sold.sold_out);
    assert_eq!(sold.free_seats, 0);
    // When the holds run out the seats are free again.
    f.clock.advance(chrono::Duration::minutes(6));
    assert!(artists(&f, &q).contains(&"The Testers".to_string()));

    let everything = artists(&f, &ConcertQuery::default());
    let page = |offset| {
        artists(
            &f,
            &ConcertQuery {
                limit: Some(2),
                offset,
                ..Default::default()
            },
        )
    };
    let paged: Vec<String> = [0, 2, 4].into_iter().flat_map(page).collect();
    assert_eq!(paged, everything);
}

#[test]
fn bad_input_is_an_error_not_an_empty_result() {
    let f = catalog();
    for text in [
        "date:2026-13-40",
        "after:25:00",
        "from:2026-12-10 to:2026-12-01",
        "colour:red",
        "after:20:00 before:19:00",
    ] {
        let err = ConcertQuery::parse(text).unwrap_err();
        assert!(matches!(err, Error::Invalid(_)), "{text}: {err:?}");
    }
    let q = ConcertQuery {
        from: Some(day(10)),
        to: Some(day(1)),
        ..Default::default()
    };
    assert!(f.store.search_concerts(&q).is_err());
}

#[test]
fn the_search_box_understands_field_words() {
    let f = catalog();
    let q = ConcertQuery::parse("aurora venue:graz").unwrap();
    assert_eq!(artists(&f, &q), vec!["Aurora Lights"]);
    let q = ConcertQuery::parse("date:2026-12-01..2026-12-05 free").unwrap();
    assert!(q.available);
    assert_eq!(artists(&f, &q), vec!["aurora borealis", "Matinee_Band"]);
    let q = ConcertQuery::parse("after:22:00").unwrap();
    assert_eq!(
        artists(&f, &q),
        vec!["Late Show", "aurora borealis"]
            .into_iter()
            .rev()
            .collect::<Vec<_>>()
    );
    let q = ConcertQuery::parse("venue:\"Odeon 100%\"").unwrap();
    assert_eq!(artists(&f, &q).len(), 2);
}

/// The listing's counts (kept per concert as claims change) say what the seat map says seat by
/// seat, through holds, a booking, seats offered to the waiting list, and holds and offers
/// whose time ran out but that no write has swept yet.
#[test]
fn listing_counts_agree_with_the_seat_map() {
    let mut f = fixture();
    let p = boxoffice::payment::Processors::cash_only();
    let same = |f: &Fixture| {
        let listed = f
            .store
            .search_concerts(&ConcertQuery::default())
            .unwrap()
            .into_iter()
            .find(|c| c.id == f.concert)
            .unwrap();
        let c = f.store.seat_map(f.concert).unwrap().counts;
        assert_eq!(
            (
                listed.free_seats,
                listed.held_seats,
                listed.booked_seats,
                listed.reserved_seats
            ),
            (c.free, c.held, c.booked, c.reserved),
            "listing (free, held, booked, reserved) against the seat map"
        );
        (c.free, c.held, c.booked, c.reserved)
    };
    let row = |r: u32| -> Vec<String> { (1..=6).map(|n| format!("A-{r}-{n}")).collect() };
    let a = f
        .store
        .hold_seats(f.concert, &row(1), &customer("a@example.com"))
        .unwrap();
    let cash = boxoffice::Tender::Cash {
        tendered_cents: 1_000_000,
    };
    f.store.pay(&a.hold_id, &cash, &p).unwrap();
    let b = f
        .store
        .hold_seats(f.concert, &row(2), &customer("b@example.com"))
        .unwrap();
    assert_eq!(same(&f), (0, 6, 6, 0));
    f.store
        .join_waitlist(f.concert, &customer("c@example.com"), 2, None)
        .unwrap();
    f.store.release_hold(&b.hold_id).unwrap();
    assert_eq!(
        same(&f),
        (4, 0, 6, 2),
        "two seats offered to the waiting list"
    );
    // The offer runs out; nothing has swept it yet.
    f.clock.advance(chrono::Duration::hours(3));
    assert_eq!(same(&f), (6, 0, 6, 0));
    let d = f
        .store
        .hold_seats(f.concert, &row(2)[..2], &customer("d@example.com"))
        .unwrap();
    assert_eq!(same(&f), (4, 2, 6, 0));
    f.clock.advance(chrono::Duration::minutes(6));
    assert_eq!(same(&f), (6, 0, 6, 0), "{} ran out", d.hold_id);
    assert!(violations(&f.db_path(), &f.dir.path().join("gateway.db")).is_empty());
}

on_postgres_too!(
    names_match_as_case_insensitive_substrings_in_start_order,
    percent_and_underscore_are_literal_characters,
    dates_are_inclusive_and_times_filter_the_time_of_day,
    past_concerts_are_hidden_unless_a_from_date_asks_for_them,
    available_hides_sold_out_concerts_and_pages_are_stable,
    bad_input_is_an_error_not_an_empty_result,
    the_search_box_understands_field_words,
    listing_counts_agree_with_the_seat_map,
);

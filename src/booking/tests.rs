//! The booking rules' own tests.

use super::*;

#[test]
fn a_hold_id_already_taken_is_drawn_again() {
    use crate::clock::ManualClock;
    use std::sync::Arc;
    let dir = tempfile::tempdir().unwrap();
    let now = DateTime::parse_from_rfc3339("2026-12-01T10:00:00Z")
        .unwrap()
        .to_utc();
    let mut store = Store::open(dir.path().join("b.db"), Arc::new(ManualClock::new(now))).unwrap();
    store
        .add_venue(
            "hall",
            "venue Hall\ncity Town\ntimezone Europe/Vienna\ncategory S Standard\nsection A Main\n 1 |SS|\n",
        )
        .unwrap();
    let concert = store
        .add_concert(&crate::catalog::NewConcert {
            external_id: None,
            artist: "A".into(),
            title: "T".into(),
            venue_slug: "hall".into(),
            local_start: (now + Duration::days(20)).naive_utc(),
            on_sale_at: now - Duration::days(1),
            prices: vec![("S".into(), 1000)],
            currency: "EUR".into(),
            ticket_limit: 6,
            hold_minutes: 5,
        })
        .unwrap();
    let who = CustomerInfo {
        email: "a@example.com".into(),
        ..Default::default()
    };
    let first = store
        .hold_seats(concert, &["A-1-1".to_string()], &who)
        .unwrap();
    let mut tries = vec!["HZZZZ222222".to_string(), first.hold_id.clone()];
    let id = store
        .write(|tx, now| {
            insert_hold_as(
                tx,
                &mut || tries.pop().unwrap(),
                concert,
                &CustomerInfo::checked(&who, None)?,
                crate::HoldKind::Sale,
                now,
                now + Duration::minutes(5),
                false,
                &[],
            )
        })
        .unwrap();
    assert_eq!(id, "HZZZZ222222");
    assert_eq!(store.hold(&first.hold_id).unwrap().seats, ["A-1-1"]);
}

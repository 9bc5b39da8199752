//! Shared fixtures: a temporary database with a controlled clock and a small venue.
#![allow(dead_code)]

use boxoffice::catalog::NewConcert;
use boxoffice::{CustomerInfo, ManualClock, Store};
use chrono::{DateTime, NaiveDate, Utc};
use std::sync::Arc;

pub const HALL: &str = "# a small hall for tests\n\
venue    Test Hall\n\
city     Testville\n\
timezone Europe/Vienna\n\
category P Premium\n\
category S Standard\n\
section A Main\n\
 1 |PPP SSS|\n\
 2 |SSS SSS|\n";

pub fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
}

pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub clock: Arc<ManualClock>,
    pub store: Store,
    pub concert: i64,
}

impl Fixture {
    pub fn db_path(&self) -> std::path::PathBuf {
        self.dir.path().join("box.db")
    }

    pub fn reopen(&self) -> Store {
        Store::open(self.db_path(), self.clock.clone()).unwrap()
    }
}

pub fn concert(artist: &str, venue: &str, day: NaiveDate, time: &str) -> NewConcert {
    NewConcert {
        external_id: None,
        artist: artist.into(),
        title: "Live".into(),
        venue_slug: venue.into(),
        local_start: day.and_time(chrono::NaiveTime::parse_from_str(time, "%H:%M").unwrap()),
        on_sale_at: t("2026-01-01T00:00:00Z"),
        prices: vec![("P".into(), 5000), ("S".into(), 3000)],
        currency: "EUR".into(),
        ticket_limit: 6,
        hold_minutes: 5,
    }
}

/// A store at 2026-12-01 10:00 UTC with Test Hall and one concert on 2026-12-20 20:00.
pub fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(t("2026-12-01T10:00:00Z")));
    let mut store = Store::open(dir.path().join("box.db"), clock.clone()).unwrap();
    store.add_venue("test-hall", HALL).unwrap();
    let concert = store
        .add_concert(&concert(
            "The Testers",
            "test-hall",
            NaiveDate::from_ymd_opt(2026, 12, 20).unwrap(),
            "20:00",
        ))
        .unwrap();
    Fixture {
        dir,
        clock,
        store,
        concert,
    }
}

pub fn customer(email: &str) -> CustomerInfo {
    CustomerInfo {
        email: email.into(),
        name: Some("Test Customer".into()),
        phone: None,
    }
}

pub fn seats(labels: &[&str]) -> Vec<String> {
    labels.iter().map(|s| s.to_string()).collect()
}

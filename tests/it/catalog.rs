//! Catalog management: venues from layout files, concerts from CSV (all or nothing, idempotent,
//! updates keyed by external id), export round trip, rescheduling and calling off a concert.

use crate::common;

use boxoffice::catalog::{DEMO_VENUES, parse_layout, render_layout};
use boxoffice::payment::gateway::CARD_APPROVE;
use boxoffice::{Card, Clock, Error, ManualClock, Processors, Spool, Store, Tender};
use common::*;
use std::sync::Arc;

const SEASON: &str = "external_id,artist,title,venue,starts_at,on_sale_at,price_P,price_S
s-1,First Band,Opening,test-hall,2027-01-10 20:00 Europe/Vienna,2026-11-01 09:00 Europe/Vienna,50.00,30.00
s-2,Second Band,Matinee,test-hall,2027-01-11 11:00 Europe/Vienna,2026-11-01 09:00 Europe/Vienna,40,20.5
s-3,Third Band,Late,test-hall,2027-01-12T23:00:00+01:00,2026-11-01T09:00:00+01:00,45.00,25.00
";

fn count(f: &Fixture) -> usize {
    f.store.export_catalog().unwrap().len()
}

fn no_progress() -> impl FnMut(&str, usize, usize) {
    |_, _, _| {}
}

#[test]
fn a_venue_from_a_layout_file_reads_back_as_the_same_grid() {
    let mut f = fixture();
    let v = f
        .store
        .add_venue_from_layout(DEMO_VENUES[1].1, Some("Stadttheater"), Some("Graz"), None)
        .unwrap();
    assert_eq!(
        (v.slug.as_str(), v.city.as_str(), v.capacity),
        ("stadttheater", "Graz", 842)
    );
    let (_, layout) = f.store.venue("STADTTHEATER").unwrap();
    let shown = render_layout(&layout);
    assert!(shown.contains("venue    Stadttheater") && shown.contains("section STL Stalls"));
    let original = parse_layout(DEMO_VENUES[1].1).unwrap();
    assert_eq!(parse_layout(&shown).unwrap().seats, original.seats);
    // The same name again needs another slug; a broken file names its line.
    assert!(
        f.store
            .add_venue_from_layout(DEMO_VENUES[1].1, Some("Stadttheater"), None, None)
            .is_err()
    );
    let err = f
        .store
        .add_venue_from_layout(
            "venue X\ncity Y\ntimezone Europe/Vienna\ncategory S Std\nsection A B\nA |SQ|\n",
            None,
            None,
            None,
        )
        .unwrap_err();
    assert!(matches!(err, Error::Layout { line: 6, .. }), "{err:?}");
}

#[test]
fn importing_a_file_adds_then_changes_nothing_then_updates_by_external_id() {
    let mut f = fixture();
    let before = count(&f);
    let r = f.store.import_concerts(SEASON, &mut no_progress()).unwrap();
    assert_eq!((r.added, r.updated, r.unchanged), (3, 0, 0));
    assert_eq!(count(&f), before + 3);
    let r = f.store.import_concerts(SEASON, &mut no_progress()).unwrap();
    assert_eq!((r.added, r.updated, r.unchanged), (0, 0, 3));
    // Somebody books at the old price; then the price changes.
    let id = f.store.resolve_concert("s-1").unwrap();
    let hold = f
        .store
        .hold_seats(id, &seats(&["A-1-1"]), &customer("a@example.com"))
        .unwrap();
    let code = f
        .store
        .pay(
            &hold.hold_id,
            &Tender::Cash {
                tendered_cents: 5_000,
            },
            &Processors::cash_only(),
        )
        .unwrap()
        .booking_code;
    let changed = SEASON.replace("First Band,Opening,test-hall,2027-01-10 20:00 Europe/Vienna,2026-11-01 09:00 Europe/Vienna,50.00", "First Band,Opening Night,test-hall,2027-01-10 20:00 Europe/Vienna,2026-11-01 09:00 Europe/Vienna,75.00");
    let r = f
        .store
        .import_concerts(&changed, &mut no_progress())
        .unwrap();
    assert_eq!((r.added, r.updated, r.unchanged), (0, 1, 2));
    let c = f.store.concert(id).unwrap();
    assert_eq!(
        (c.title.as_str(), c.max_price_cents),
        ("Opening Night", 7_500)
    );
    assert_eq!(
        f.store.booking(&code).unwrap().total_cents,
        5_000,
        "what a booking paid never changes"
    );
    assert_eq!(f.store.booking(&code).unwrap().seats[0].price_cents, 5_000);
}

#[test]
fn every_bad_row_is_listed_and_nothing_is_imported() {
    let mut f = fixture();
    let before = count(&f);
    let bad = "external_id,artist,title,venue,starts_at,on_sale_at,price_P,price_S,price_V
b-1,Fine,Row,test-hall,2027-01-10 20:00 Europe/Vienna,2026-11-01 09:00 Europe/Vienna,50.00,30.00,
b-2,Lost,Venue,nowhere,2027-01-10 20:00,2026-11-01 09:00,50.00,30.00,
b-3,Bad,Date,test-hall,2027-02-30 20:00 Europe/Vienna,2026-11-01 09:00 Europe/Vienna,50.00,30.00,
b-4,Gap,Hour,test-hall,2027-03-28 02:30 Europe/Vienna,2026-11-01 09:00 Europe/Vienna,50.00,30.00,
b-5,Not,Money,test-hall,2027-01-10 20:00 Europe/Vienna,2026-11-01 09:00 Europe/Vienna,fifty,30.00,
b-6,No,Category,test-hall,2027-01-10 20:00 Europe/Vienna,2026-11-01 09:00 Europe/Vienna,50.00,30.00,99.00
b-1,Duplicate,Id,test-hall,2027-01-10 20:00 Europe/Vienna,2026-11-01 09:00 Europe/Vienna,50.00,30.00,
b-8,Missing,Price,test-hall,2027-01-10 20:00 Europe/Vienna,2026-11-01 09:00 Europe/Vienna,50.00,,
";
    let err = f
        .store
        .import_concerts(bad, &mut no_progress())
        .unwrap_err();
    let Error::ImportRejected(rows) = &err else {
        panic!("{err:?}")
    };
    let lines: Vec<usize> = rows.iter().map(|r| r.line).collect();
    assert_eq!(lines, vec![3, 4, 5, 6, 7, 8, 9], "{rows:?}");
    let text = err.to_string();
    for needle in [
        "unknown venue `nowhere`",
        "2027-02-30",
        "does not exist",
        "`fifty` is not money",
        "no seat category V",
        "duplicate external_id `b-1` (first on line 2)",
        "no price for category S",
    ] {
        assert!(text.contains(needle), "{needle} missing from:\n{text}");
    }
    assert_eq!(err.kind(), boxoffice::ErrorKind::Usage);
    assert_eq!(count(&f), before, "all or nothing");
    let err = f
        .store
        .import_concerts("artist,title\nA,B\n", &mut no_progress())
        .unwrap_err();
    assert!(err.to_string().contains("no `external_id` column"));
    // A column named twice (any case): which one holds the price would be a guess.
    let twice = "external_id,artist,title,venue,starts_at,on_sale_at,price_P,price_S,PRICE_P
d-1,Twice,Priced,test-hall,2027-01-10 20:00 Europe/Vienna,2026-11-01 09:00 Europe/Vienna,50.00,30.00,5.00
";
    let err = f
        .store
        .import_concerts(twice, &mut no_progress())
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("the header names `price_p` twice (columns 7 and 9)"),
        "{err}"
    );
    assert_eq!(count(&f), before, "nothing imported");
}

#[test]
fn prices_are_read_with_a_decimal_comma_and_never_guessed() {
    let mut f = fixture();
    let before = count(&f);
    // A decimal comma (quoted, as a spreadsheet writes it) means the same as a point; `39,00`
    // was once EUR 3,900.00.
    let season = "external_id,artist,title,venue,starts_at,on_sale_at,price_P,price_S
c-1,Comma,Prices,test-hall,2027-01-10 20:00 Europe/Vienna,2026-11-01 09:00 Europe/Vienna,\"39,00\",\"20,5\"
";
    f.store.import_concerts(season, &mut no_progress()).unwrap();
    let c = f
        .store
        .export_catalog()
        .unwrap()
        .into_iter()
        .find(|c| c.external_id == "c-1")
        .unwrap();
    assert_eq!((c.prices["P"], c.prices["S"]), (3_900, 2_050));
    // Read two ways, or past any sane price: refused with what was understood, nothing added.
    let bad = "external_id,artist,title,venue,starts_at,on_sale_at,price_P,price_S
d-1,Thousands,Mixed,test-hall,2027-01-10 20:00 Europe/Vienna,2026-11-01 09:00 Europe/Vienna,\"1.234,50\",20
d-2,Three,Decimals,test-hall,2027-01-10 20:00 Europe/Vienna,2026-11-01 09:00 Europe/Vienna,\"1,234\",20
d-3,Too,Dear,test-hall,2027-01-10 20:00 Europe/Vienna,2026-11-01 09:00 Europe/Vienna,250000,20
";
    let err = f
        .store
        .import_concerts(bad, &mut no_progress())
        .unwrap_err();
    let text = err.to_string();
    for needle in [
        "price_P: `1.234,50` has a thousands separator",
        "price_P: `1,234` could be 1234 (a thousands separator) or 1.234",
        "price_P: more than 100000.00",
    ] {
        assert!(text.contains(needle), "{needle} missing from:\n{text}");
    }
    assert_eq!(count(&f), before + 1, "all or nothing");
}

#[test]
fn export_then_import_into_another_box_office_gives_the_same_catalog() {
    let dir = tempfile::tempdir().unwrap();
    let clock = Arc::new(ManualClock::new(t("2026-11-25T12:00:00Z")));
    let mut a = Store::open(common::engine::fresh_db(dir.path()), clock.clone()).unwrap();
    a.seed_demo_if_empty().unwrap();
    let csv = a.export_csv().unwrap();
    let mut b = Store::open(dir.path().join("b.db"), clock.clone()).unwrap();
    for (slug, text) in DEMO_VENUES {
        b.add_venue(slug, text).unwrap();
    }
    let r = b.import_concerts(&csv, &mut no_progress()).unwrap();
    assert_eq!(r.added, 24);
    assert_eq!(b.export_csv().unwrap(), csv);
    assert_eq!(b.export_catalog().unwrap(), a.export_catalog().unwrap());
    // And importing the export into where it came from changes nothing.
    assert_eq!(
        a.import_concerts(&csv, &mut no_progress())
            .unwrap()
            .unchanged,
        24
    );
}

fn book(f: &mut Fixture, labels: &[&str], email: &str, card: bool) -> String {
    let p = Processors::with_gateway(f.dir.path().join("gateway.db"), f.clock.clone()).unwrap();
    let who = boxoffice::CustomerInfo {
        email: email.into(),
        name: Some("Holder".into()),
        phone: Some(format!(
            "+43660{:05}",
            email.bytes().map(u32::from).sum::<u32>() * 7
        )),
    };
    let hold = f.store.hold_seats(f.concert, &seats(labels), &who).unwrap();
    let tender = if card {
        Tender::Card(Card::parse(CARD_APPROVE, "12/28", "123", f.clock.now()).unwrap())
    } else {
        Tender::Cash {
            tendered_cents: 100_000,
        }
    };
    f.store
        .pay(&hold.hold_id, &tender, &p)
        .unwrap()
        .booking_code
}

#[test]
fn a_rescheduled_concert_tells_every_holder_with_a_calendar_entry_that_replaces_the_old() {
    let mut f = fixture();
    let spool = Spool::new(f.dir.path().join("spool"));
    let cash = book(
        &mut f,
        &["A-1-1", "A-1-2", "A-1-3"],
        "cash@example.com",
        false,
    );
    let card = book(
        &mut f,
        &["A-2-1", "A-2-2", "A-2-3"],
        "card@example.com",
        true,
    );
    f.store.deliver_outbox(&spool, false).unwrap();
    let new_start =
        chrono::NaiveDateTime::parse_from_str("2026-12-27 19:00", "%Y-%m-%d %H:%M").unwrap();
    let r = f.store.reschedule_concert(f.concert, new_start).unwrap();
    assert_eq!(r.notified, 2);
    assert_eq!(
        f.store
            .concert(f.concert)
            .unwrap()
            .local_start
            .format("%Y-%m-%d %H:%M")
            .to_string(),
        "2026-12-27 19:00"
    );
    let report = f.store.deliver_outbox(&spool, false).unwrap();
    assert_eq!(report.delivered.len(), 4, "email and SMS for each holder");
    for code in [&cash, &card] {
        let mail = report
            .delivered
            .iter()
            .map(|d| std::fs::read_to_string(&d.path).unwrap())
            .find(|m| m.contains(&format!("UID:{code}@boxoffice")))
            .expect("a calendar entry for each booking");
        assert!(
            mail.contains("SEQUENCE:1"),
            "a higher sequence replaces the old entry"
        );
        assert!(mail.contains("DTSTART:20261227T180000Z"));
        assert!(mail.contains("full refund"));
    }
    // A holder may still cancel with a full refund.
    let c = f
        .store
        .cancel_booking(
            &card,
            &Processors::with_gateway(f.dir.path().join("gateway.db"), f.clock.clone()).unwrap(),
        )
        .unwrap();
    assert_eq!(c.refunded_cents, 9_000);
}

#[test]
fn calling_off_a_concert_reports_only_the_refunds_it_made() {
    let mut f = fixture();
    let p = Processors::cash_only();
    let early = book(&mut f, &["A-1-1", "A-1-2"], "early@example.com", false);
    let late = book(&mut f, &["A-2-1", "A-2-2"], "late@example.com", false);
    // One booking cancelled on its own first: its refund is not the concert's.
    f.store.cancel_booking(&early, &p).unwrap();
    let r = f
        .store
        .cancel_concert(f.concert, "the band is ill", &p)
        .unwrap();
    assert_eq!(r.bookings_cancelled, 1);
    assert_eq!(
        r.refunded_cents,
        f.store.booking(&late).unwrap().total_cents
    );
}

#[test]
fn calling_off_a_concert_refunds_everyone_through_their_processor_and_ends_holds_and_offers() {
    let mut f = fixture();
    let p = Processors::with_gateway(f.dir.path().join("gateway.db"), f.clock.clone()).unwrap();
    let cash = book(
        &mut f,
        &["A-1-1", "A-1-2", "A-1-3", "A-1-4", "A-1-5", "A-1-6"],
        "cash@example.com",
        false,
    );
    let card = book(
        &mut f,
        &["A-2-1", "A-2-2", "A-2-3", "A-2-4", "A-2-5"],
        "card@example.com",
        true,
    );
    let held = f
        .store
        .hold_seats(f.concert, &seats(&["A-2-6"]), &customer("held@example.com"))
        .unwrap();
    // Every seat booked or held: sold out, so someone waits.
    f.store
        .join_waitlist(f.concert, &customer("wait@example.com"), 1, None)
        .unwrap();
    let r = f
        .store
        .cancel_concert(f.concert, "the band is ill", &p)
        .unwrap();
    assert_eq!(
        (
            r.bookings_cancelled,
            r.refunded_cents,
            r.refunds_pending_cents,
            r.holds_released
        ),
        (2, 24_000 + 15_000, 0, 1)
    );
    assert_eq!(r.waitlist_told, 1);
    assert_eq!(
        f.store.waitlist(f.concert).unwrap()[0].state,
        boxoffice::WaitlistState::Left
    );
    assert_eq!(f.store.booking(&cash).unwrap().refunded_cents, 24_000);
    assert_eq!(
        f.store.booking(&card).unwrap().state,
        boxoffice::BookingState::Cancelled
    );
    assert_eq!(
        f.store.hold(&held.hold_id).unwrap().state,
        boxoffice::HoldState::Released
    );
    let gw = boxoffice::payment::SimulatedGateway::open(
        f.dir.path().join("gateway.db"),
        f.clock.clone(),
    )
    .unwrap();
    assert_eq!(gw.totals().unwrap().refunded_cents, 15_000);
    // Search shows it as cancelled; nothing can be held; calling it off again is refused.
    let c = f.store.concert(f.concert).unwrap();
    assert_eq!(c.status, boxoffice::ConcertStatus::Cancelled);
    assert!(!c.sold_out);
    assert!(matches!(
        f.store
            .hold_seats(f.concert, &seats(&["A-1-1"]), &customer("x@example.com")),
        Err(Error::ConcertCancelled(_))
    ));
    assert!(f.store.cancel_concert(f.concert, "again", &p).is_err());
    let spool = Spool::new(f.dir.path().join("spool"));
    let report = f.store.deliver_outbox(&spool, false).unwrap();
    let told: Vec<String> = report
        .delivered
        .iter()
        .map(|d| std::fs::read_to_string(&d.path).unwrap())
        .filter(|m| m.contains("the band is ill"))
        .collect();
    assert_eq!(
        told.len(),
        5,
        "email and SMS to both holders and an email to the waiting customer, with the reason"
    );
    let v = violations(&f.db_path(), &f.dir.path().join("gateway.db"));
    assert!(v.is_empty(), "{v:?}");
}

/// The real binary killed in the middle of calling a concert off, then started again.
#[test]
fn a_kill_halfway_through_calling_off_a_concert_finishes_on_the_next_start() {
    for fp in ["concert-cancel:after-cancel", "cancel:after-refund"] {
        let dir = tempfile::tempdir().unwrap();
        let db = common::engine::fresh_db(dir.path());
        let bin = |fp: Option<&str>, args: &[&str]| {
            let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_boxoffice"));
            c.env("BOXOFFICE_DB", &db)
                .env("BOXOFFICE_SPOOL", dir.path().join("spool"))
                .env("BOXOFFICE_GATEWAY", dir.path().join("gateway.db"))
                .env("XDG_DATA_HOME", dir.path())
                .env("BOXOFFICE_NOW", "2026-11-25T12:00:00Z")
                .env_remove("BOXOFFICE_FAILPOINT")
                .args(args);
            if let Some(fp) = fp {
                c.env("BOXOFFICE_FAILPOINT", fp);
            }
            c.output().unwrap()
        };
        // Three card bookings and one cash booking on an empty club night.
        for (i, seats) in [
            ["FLR-A-1", "FLR-A-2"],
            ["FLR-B-1", "FLR-B-2"],
            ["FLR-C-1", "FLR-C-2"],
            ["FLR-D-1", "FLR-D-2"],
        ]
        .iter()
        .enumerate()
        {
            let out = bin(
                None,
                &[
                    "hold",
                    "demo-13",
                    seats[0],
                    seats[1],
                    "--customer",
                    &format!("c{i}@example.com"),
                    "--json",
                ],
            );
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            let hold: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            let id = hold["hold_id"].as_str().unwrap();
            let pay = if i < 3 {
                bin(
                    None,
                    &[
                        "pay",
                        id,
                        "--card",
                        "4242424242424242",
                        "--exp",
                        "12/28",
                        "--cvc",
                        "123",
                    ],
                )
            } else {
                bin(None, &["pay", id, "--cash", "10000"])
            };
            assert!(pay.status.success());
        }
        let out = bin(
            Some(fp),
            &[
                "concert",
                "cancel",
                "demo-13",
                "--reason",
                "storm damage",
                "--yes",
            ],
        );
        assert!(!out.status.success(), "{fp}: the failpoint killed it");
        // The next start finishes the refunds, each exactly once.
        let out = bin(None, &["reconcile", "--json"]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v = violations(&db, &dir.path().join("gateway.db"));
        assert!(v.is_empty(), "{fp}: {v:?}");
        let g = rusqlite::Connection::open(dir.path().join("gateway.db")).unwrap();
        let refunds: i64 = g
            .query_row("SELECT count(*) FROM refunds", [], |r| r.get(0))
            .unwrap();
        assert_eq!(refunds, 3, "{fp}: one refund per card booking");
        let open: i64 = common::sql(&db)
            .db()
            .query_row("SELECT count(*) FROM bookings b JOIN concerts c ON c.id = b.concert_id WHERE c.external_id = 'demo-13' AND b.state = 'confirmed'", (), |r| r.get(0))
            .unwrap();
        assert_eq!(open, 0);
    }
}

#[test]
fn a_terminal_that_sold_a_concert_sells_the_new_venues_seats_after_it_moves() {
    // The terminal keeps the seats it has read in memory; a concert moved by another terminal's
    // import must sell the new hall's seats, at the new hall's prices.
    let mut f = fixture();
    f.store
        .add_venue(
            "other-hall",
            "venue Other Hall\ncity Elsewhere\ntimezone Europe/Vienna\ncategory P Premium\ncategory S Standard\nsection A Main\n 1 |SS|\n",
        )
        .unwrap();
    f.store.import_concerts(SEASON, &mut no_progress()).unwrap();
    let id = f.store.resolve_concert("s-1").unwrap();
    let first = f
        .store
        .hold_seats(id, &seats(&["A-1-1", "A-1-3"]), &customer("a@example.com"))
        .unwrap();
    assert_eq!(first.total_cents, 10_000, "two premium seats at Test Hall");
    f.store.release_hold(&first.hold_id).unwrap();

    let mut other = f.reopen();
    let moved = SEASON.replace(
        "s-1,First Band,Opening,test-hall",
        "s-1,First Band,Opening,other-hall",
    );
    let r = other.import_concerts(&moved, &mut no_progress()).unwrap();
    assert_eq!(r.updated, 1);

    let err = f
        .store
        .hold_seats(id, &seats(&["A-1-1", "A-1-3"]), &customer("a@example.com"))
        .unwrap_err();
    assert!(
        matches!(&err, Error::UnknownSeats(l) if l == &["A-1-3".to_string()]),
        "{err:?}"
    );
    let hold = f
        .store
        .hold_seats(id, &seats(&["A-1-1", "A-1-2"]), &customer("a@example.com"))
        .unwrap();
    assert_eq!(hold.total_cents, 6_000, "two standard seats at Other Hall");
    let map = other.seat_map(id).unwrap();
    let held: Vec<&str> = map
        .seats
        .iter()
        .filter(|s| s.status != boxoffice::SeatStatus::Free)
        .map(|s| s.seat.as_str())
        .collect();
    assert_eq!(held, ["A-1-1", "A-1-2"]);
    assert_eq!(map.seats.len(), 2);
}

#[test]
fn an_import_does_not_move_a_called_off_concert() {
    let mut f = fixture();
    f.store.import_concerts(SEASON, &mut no_progress()).unwrap();
    let id = f.store.resolve_concert("s-1").unwrap();
    f.store
        .cancel_concert(id, "the band is ill", &Processors::cash_only())
        .unwrap();
    let before = f.store.concert(id).unwrap();
    // The same file again changes nothing; a new date for it is refused, and nothing else in
    // the file is written either.
    let r = f.store.import_concerts(SEASON, &mut no_progress()).unwrap();
    assert_eq!((r.added, r.updated, r.unchanged), (0, 0, 3));
    let moved = SEASON
        .replace("test-hall,2027-01-10 20:00", "test-hall,2027-01-17 20:00")
        .replace("Second Band,Matinee", "Second Band,Matinee Extra");
    let err = f
        .store
        .import_concerts(&moved, &mut no_progress())
        .unwrap_err();
    match &err {
        Error::ImportRejected(rows) => {
            assert_eq!(rows.len(), 1, "{rows:?}");
            assert_eq!(rows[0].line, 2);
            assert!(
                rows[0].message.contains("called off"),
                "{}",
                rows[0].message
            );
        }
        e => panic!("{e:?}"),
    }
    assert_eq!(f.store.concert(id).unwrap().starts_at, before.starts_at);
    let second = f.store.resolve_concert("s-2").unwrap();
    assert_eq!(f.store.concert(second).unwrap().title, "Matinee");
}

/// `n` new concerts at Test Hall, ids `big-0` on, from February 2027 (never in a clock change).
fn big_season(n: usize) -> String {
    let mut csv =
        String::from("external_id,artist,title,venue,starts_at,on_sale_at,price_P,price_S\n");
    for i in 0..n {
        csv.push_str(&format!(
            "big-{i},Band {i},Night,test-hall,2027-02-{:02} {}:00 Europe/Vienna,2026-11-01 09:00 Europe/Vienna,50,30\n",
            1 + i % 28,
            12 + (i / 28) % 10
        ));
    }
    csv
}

#[test]
fn a_large_import_lets_other_terminals_sell_meanwhile_and_stays_all_or_nothing() {
    let mut f = fixture();
    let p = Processors::with_gateway(f.dir.path().join("gateway.db"), f.clock.clone()).unwrap();
    // One concert of this season is already here and was called off.
    f.store
        .import_concerts(
            "external_id,artist,title,venue,starts_at,on_sale_at,price_P,price_S
off-1,Called,Off,test-hall,2027-01-10 20:00 Europe/Vienna,2026-11-01 09:00 Europe/Vienna,50,30
",
            &mut no_progress(),
        )
        .unwrap();
    let off = f.store.resolve_concert("off-1").unwrap();
    f.store
        .cancel_concert(off, "the hall is flooded", &p)
        .unwrap();
    let visible = count(&f);
    let raw = |f: &Fixture| -> i64 {
        f.store
            .db()
            .query_row("SELECT count(*) FROM concerts", (), |r| r.get(0))
            .unwrap()
    };
    let before = raw(&f);
    // A season whose last row moves the called-off concert: refused, after every new concert
    // was written.
    let mut season = big_season(1_000);
    season.push_str(
        "off-1,Called,Off,test-hall,2027-01-11 20:00 Europe/Vienna,2026-11-01 09:00 Europe/Vienna,50,30\n",
    );
    // Another terminal, between the import's transactions: it sells, and sees none of it.
    let mut other = f.reopen();
    let mut seen: Vec<(usize, usize, bool)> = Vec::new();
    let mut n = 0;
    let err = f
        .store
        .import_concerts(&season, &mut |phase, done, _| {
            if phase != "writing" || done == 0 {
                return;
            }
            n += 1;
            // A walk-up holds a seat (and gives it back for the next one).
            let held = other
                .hold_seats(
                    other.resolve_concert("1").unwrap(),
                    &seats(&["A-1-1"]),
                    &customer(&format!("walk-up-{n}@example.com")),
                )
                .and_then(|h| other.release_hold(&h.hold_id))
                .is_ok();
            let shown = other.export_catalog().unwrap().len();
            let staged_found = other.resolve_concert("big-0").is_ok();
            seen.push((done, shown, held && !staged_found));
        })
        .unwrap_err();
    assert!(err.to_string().contains("was called off"), "{err}");
    assert!(seen.len() >= 3, "{seen:?}");
    for (done, shown, ok) in &seen {
        assert_eq!(
            *shown, visible,
            "after {done} rows, the import is not in the catalog yet"
        );
        assert!(
            ok,
            "after {done} rows a walk-up was sold seats, and no new concert showed"
        );
    }
    assert_eq!(count(&f), visible, "all or nothing");
    assert_eq!(raw(&f), before, "nothing staged is left behind");
    // The same season without the bad row: every concert at once.
    let report = f
        .store
        .import_concerts(&big_season(1_000), &mut no_progress())
        .unwrap();
    assert_eq!(report.added, 1_000);
    assert_eq!(count(&f), visible + 1_000);
    assert!(f.store.resolve_concert("big-999").is_ok());
}

#[test]
fn export_keeps_a_called_off_concert_called_off_and_a_repeated_hour_its_instant() {
    let mut f = fixture();
    let p = Processors::with_gateway(f.dir.path().join("gateway.db"), f.clock.clone()).unwrap();
    // A time the clocks show twice (Vienna goes back an hour on 2027-10-31) is refused as
    // ambiguous, with the two choices; with its offset it keeps its instant.
    let ambiguous = "external_id,artist,title,venue,starts_at,on_sale_at,price_P,price_S
dst-1,Late,Night,test-hall,2027-10-31 02:30 Europe/Vienna,2026-11-01 09:00 Europe/Vienna,50,30
";
    let e = f
        .store
        .import_concerts(ambiguous, &mut no_progress())
        .unwrap_err();
    let said = e.to_string();
    assert!(said.contains("happens twice in Europe/Vienna"), "{said}");
    assert!(
        said.contains("2027-10-31T02:30:00+02:00 (the first)")
            && said.contains("2027-10-31T02:30:00+01:00 (the second)"),
        "{said}"
    );
    let season = "external_id,artist,title,venue,starts_at,on_sale_at,price_P,price_S
dst-1,Late,Night,test-hall,2027-10-31T02:30:00+01:00,2026-11-01 09:00 Europe/Vienna,50,30
off-2,Called,Off,test-hall,2027-01-12 20:00 Europe/Vienna,2026-11-01 09:00 Europe/Vienna,50,30
";
    f.store.import_concerts(season, &mut no_progress()).unwrap();
    let off = f.store.resolve_concert("off-2").unwrap();
    f.store
        .cancel_concert(off, "the hall is flooded", &p)
        .unwrap();
    let exported = f.store.export_csv().unwrap();
    assert!(
        exported.lines().next().unwrap().contains(",status,"),
        "{exported}"
    );
    assert!(exported.contains("2027-10-31T02:30:00+01:00"), "{exported}");
    // Another box office gets the same catalog: the called-off concert called off, the late
    // night at the same instant.
    let mut g = fixture();
    g.store
        .import_concerts(&exported, &mut no_progress())
        .unwrap();
    let there = g.store.resolve_concert("off-2").unwrap();
    assert_eq!(
        g.store.concert(there).unwrap().status,
        boxoffice::ConcertStatus::Cancelled
    );
    let late = |s: &Store| {
        let id = s.resolve_concert("dst-1").unwrap();
        s.concert(id).unwrap().starts_at
    };
    assert_eq!(late(&g.store), late(&f.store));
    // Importing it again changes nothing; putting the concert back on sale is refused.
    let again = g
        .store
        .import_concerts(&exported, &mut no_progress())
        .unwrap();
    assert_eq!(again.updated, 0);
    let back = exported.replace(",cancelled", ",scheduled");
    let e = g
        .store
        .import_concerts(&back, &mut no_progress())
        .unwrap_err();
    assert!(e.to_string().contains("cannot go back on sale"), "{e}");
}

on_postgres_too!(
    a_venue_from_a_layout_file_reads_back_as_the_same_grid,
    importing_a_file_adds_then_changes_nothing_then_updates_by_external_id,
    every_bad_row_is_listed_and_nothing_is_imported,
    prices_are_read_with_a_decimal_comma_and_never_guessed,
    export_then_import_into_another_box_office_gives_the_same_catalog,
    a_rescheduled_concert_tells_every_holder_with_a_calendar_entry_that_replaces_the_old,
    calling_off_a_concert_reports_only_the_refunds_it_made,
    calling_off_a_concert_refunds_everyone_through_their_processor_and_ends_holds_and_offers,
    a_kill_halfway_through_calling_off_a_concert_finishes_on_the_next_start,
    a_terminal_that_sold_a_concert_sells_the_new_venues_seats_after_it_moves,
    an_import_does_not_move_a_called_off_concert,
    a_large_import_lets_other_terminals_sell_meanwhile_and_stays_all_or_nothing,
    export_keeps_a_called_off_concert_called_off_and_a_repeated_hour_its_instant,
);

/// The README's "start from empty" lines, run as they are printed (from the repository's top,
/// `boxoffice` being this build, `$HOME` a directory of the test's): every one succeeds, and
/// the season's three concerts are on sale at the venues the layouts named.
#[test]
fn the_readmes_start_from_empty_runs_as_printed() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let block = readme
        .split("<!-- from-empty -->\n```sh\n")
        .nth(1)
        .and_then(|b| b.split("\n```").next())
        .expect("README has the from-empty block");
    let home = tempfile::tempdir().unwrap();
    let mut env: Vec<(String, String)> = Vec::new();
    let mut last = None;
    for line in block.lines() {
        let line = line.split(" #").next().unwrap().trim();
        if let Some(assign) = line.strip_prefix("export ") {
            let (k, v) = assign.split_once('=').unwrap();
            env.push((k.into(), v.replace("$HOME", &home.path().to_string_lossy())));
            continue;
        }
        let args: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(args[0], "boxoffice", "{line}");
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_boxoffice"))
            .current_dir(root)
            .env("HOME", home.path())
            .env("XDG_DATA_HOME", home.path().join("data"))
            .env_remove("BOXOFFICE_NOW")
            .env_remove("BOXOFFICE_SPOOL")
            .env_remove("BOXOFFICE_GATEWAY")
            .env_remove("BOXOFFICE_CONFIG")
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .args(&args[1..])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "`{line}`: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        last = Some(String::from_utf8_lossy(&out.stdout).into_owned());
    }
    let listed = last.unwrap();
    for artist in ["Aurora Lights", "Marta Silva"] {
        assert!(listed.contains(artist), "{listed}");
    }
    assert!(home.path().join("odeon.db").exists());
}

/// A season as Excel in Austrian or German settings saves it (a byte-order mark, `;` between
/// fields, decimal commas, CRLF) imports as it is; the same prices with `,` between fields and
/// unquoted are refused with what the separator is.
#[test]
fn a_csv_from_a_german_spreadsheet_imports_and_a_mixed_one_names_the_separator() {
    let mut f = fixture();
    let before = count(&f);
    let excel = "\u{feff}external_id;artist;title;venue;starts_at;on_sale_at;price_P;price_S\r\n\
        xl-1;Wiener Sängerknaben;Advent;test-hall;2027-01-10 20:00 Europe/Vienna;2026-11-01 09:00 Europe/Vienna;45,50;30,00\r\n";
    f.store.import_concerts(excel, &mut no_progress()).unwrap();
    assert_eq!(count(&f), before + 1);
    let c = f.store.resolve_concert("xl-1").unwrap();
    let prices = f.store.concert(c).unwrap();
    assert_eq!(
        (prices.min_price_cents, prices.max_price_cents),
        (3000, 4550)
    );
    let mixed = "external_id,artist,title,venue,starts_at,on_sale_at,price_P,price_S\n\
        xl-2,Band,Night,test-hall,2027-01-11 20:00 Europe/Vienna,2026-11-01 09:00 Europe/Vienna,45,50,30,00\n";
    let err = f
        .store
        .import_concerts(mixed, &mut no_progress())
        .unwrap_err();
    assert!(err.to_string().contains("separated by `,`"), "{err}");
    assert_eq!(count(&f), before + 1, "nothing more imported");
}

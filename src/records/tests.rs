//! The records' own tests (codes, claims, hold ids).

use super::*;
use crate::Store;
use crate::codes::CODE_ALPHABET;
use chrono::Duration;

#[test]
fn hold_ids_sort_by_the_tenth_of_a_second_they_were_made_in() {
    let mut sorted = CODE_ALPHABET.to_vec();
    sorted.sort_unstable();
    assert_eq!(sorted, ORDERED_ALPHABET, "the same letters");
    let start = DateTime::parse_from_rfc3339("2026-12-01T10:00:00Z")
        .unwrap()
        .to_utc();
    let cycle = 31 * 31 * 31 * 31;
    let mut last = String::new();
    // Two cycles in steps of 0.3 s (every tick is visited, in a different order).
    for k in 0..cycle * 2 / 3 {
        let at = start + Duration::milliseconds(300 * k);
        let id = new_hold_id(at);
        assert_eq!(id.len(), 11);
        assert!(id.starts_with('H'));
        assert!(id[1..].bytes().all(|c| CODE_ALPHABET.contains(&c)), "{id}");
        // The same tenth of a second, the same prefix; a later one sorts after, except
        // where the count comes round.
        assert_eq!(new_hold_id(at + Duration::milliseconds(99))[..5], id[..5]);
        let tick = at.timestamp_millis() / 100;
        let wrapped = k > 0 && (tick % cycle) < ((tick - 3) % cycle);
        assert_eq!(
            last.as_str() < &id[..5],
            !wrapped,
            "{last} then {id} at {at}"
        );
        last = id[..5].to_string();
    }
}

#[test]
fn each_claim_changes_the_seats_a_hold_lists_and_still_claims() {
    let dir = tempfile::tempdir().unwrap();
    let clock = std::sync::Arc::new(crate::clock::ManualClock::new(
        DateTime::parse_from_rfc3339("2026-12-01T10:00:00Z")
            .unwrap()
            .to_utc(),
    ));
    let mut store = Store::open(dir.path().join("box.db"), clock).unwrap();
    store
        .add_venue(
            "hall",
            "venue Hall\ncity Town\ntimezone Europe/Vienna\ncategory S Standard\nsection A Main\n 1 |SSSSSS|\n",
        )
        .unwrap();
    let concert = store
        .add_concert(&crate::catalog::NewConcert {
            external_id: None,
            artist: "A".into(),
            title: "B".into(),
            venue_slug: "hall".into(),
            local_start: chrono::NaiveDate::from_ymd_opt(2026, 12, 20)
                .unwrap()
                .and_hms_opt(20, 0, 0)
                .unwrap(),
            on_sale_at: DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z")
                .unwrap()
                .to_utc(),
            prices: vec![("S".into(), 1000)],
            currency: "EUR".into(),
            ticket_limit: 6,
            hold_minutes: 5,
        })
        .unwrap();
    let who = |email: &str| CustomerInfo {
        email: email.into(),
        ..Default::default()
    };
    let labels = |l: &[&str]| l.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let ann = store
        .hold_seats(
            concert,
            &labels(&["A-1-1", "A-1-2"]),
            &who("ann@example.com"),
        )
        .unwrap();
    let bob = store
        .hold_seats(
            concert,
            &labels(&["A-1-3", "A-1-4"]),
            &who("bob@example.com"),
        )
        .unwrap();
    // A hold names its seats in layout order, whatever order they were asked in.
    let cy = store
        .hold_seats(
            concert,
            &labels(&["A-1-6", "A-1-5"]),
            &who("cy@example.com"),
        )
        .unwrap();
    assert_eq!(store.hold(&cy.hold_id).unwrap().seats, ["A-1-5", "A-1-6"]);
    store.release_hold(&cy.hold_id).unwrap();
    let db = store.conn();
    // One of the seats Ann's hold lists is no longer claimed (as after it was released).
    db.execute(
        "DELETE FROM claims WHERE hold_id = ?1
           AND seat_id = (SELECT max(seat_id) FROM claims WHERE hold_id = ?1)",
        [&ann.hold_id],
    )
    .unwrap();
    assert_eq!(expire_at(db, &ann.hold_id, 7).unwrap(), 1);
    assert_eq!(expire_at(db, &bob.hold_id, 8).unwrap(), 2);
    assert_eq!(expire_at(db, "HNOSUCHHOLD", 9).unwrap(), 0);
    let expiries: Vec<(String, i64)> = db
        .prepare("SELECT hold_id, expires_at FROM claims ORDER BY seat_id")
        .unwrap()
        .query_map((), |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<crate::store::sql::Result<_>>()
        .unwrap();
    assert_eq!(
        expiries,
        vec![
            (ann.hold_id.clone(), 7),
            (bob.hold_id.clone(), 8),
            (bob.hold_id.clone(), 8)
        ]
    );
    // Ann's other seat now claimed by Bob's hold is not Ann's to change.
    db.execute(
        "UPDATE claims SET hold_id = ?2 WHERE hold_id = ?1",
        [&ann.hold_id, &bob.hold_id],
    )
    .unwrap();
    assert_eq!(expire_at(db, &ann.hold_id, 10).unwrap(), 0);
}

#[test]
fn only_a_taken_id_is_drawn_again() {
    let conn = crate::store::Db::new(rusqlite::Connection::open_in_memory().unwrap());
    conn.execute_batch(
        "CREATE TABLE h (id TEXT PRIMARY KEY, n INTEGER CHECK (n > 0));
         INSERT INTO h VALUES ('HA', 1);",
    )
    .unwrap();
    let mut drawn = vec!["HC".to_string(), "HB".to_string(), "HA".to_string()];
    let mut calls = 0;
    let id = with_new_hold_id(&mut || drawn.pop().unwrap(), |id| {
        calls += 1;
        conn.execute(
            "INSERT INTO h VALUES (?1, 1) ON CONFLICT (id) DO NOTHING",
            [id],
        )
    })
    .unwrap();
    assert_eq!((id.as_str(), calls), ("HB", 2));
    // Any other failure is the caller's: no second draw.
    let mut calls = 0;
    let err = with_new_hold_id(&mut || "HD".to_string(), |id| {
        calls += 1;
        conn.execute(
            "INSERT INTO h VALUES (?1, 0) ON CONFLICT (id) DO NOTHING",
            [id],
        )
    })
    .unwrap_err();
    assert_eq!(calls, 1, "{err}");
}

#[test]
fn a_seat_list_is_the_json_the_store_reads() {
    let list = seat_list([(7, 4500), (1_234_567, 0), (-3, 99)].into_iter());
    assert_eq!(list, "[[7,4500],[1234567,0],[-3,99]]");
    let parsed: Vec<(i64, i64)> = serde_json::from_str(&list).unwrap();
    assert_eq!(parsed, [(7, 4500), (1_234_567, 0), (-3, 99)]);
    assert_eq!(seat_list(std::iter::empty()), "[]");
    assert_eq!(
        seat_list([(i64::MIN + 1, i64::MAX)].into_iter()),
        format!("[[{},{}]]", i64::MIN + 1, i64::MAX)
    );
}

#[test]
fn codes_use_every_letter_of_the_alphabet_equally_often() {
    let n = CODE_ALPHABET.len();
    let mut counts = vec![0usize; n];
    let mut codes = std::collections::HashSet::new();
    for _ in 0..10_000 {
        let code = random_code(31);
        assert_eq!(code.len(), 31);
        for c in code.bytes() {
            let i = CODE_ALPHABET
                .iter()
                .position(|a| *a == c)
                .expect("in the alphabet");
            counts[i] += 1;
        }
        codes.insert(code);
    }
    assert_eq!(codes.len(), 10_000, "codes repeat");
    // 10,000 of each expected, give or take 100 (one standard deviation): a byte taken
    // modulo 31 would give the first eight letters 12.5 % more.
    for (i, c) in counts.iter().enumerate() {
        assert!(
            (9_500..=10_500).contains(c),
            "{} came up {c} times",
            CODE_ALPHABET[i] as char
        );
    }
}

/// The claims table and its per-concert counts have one writer, `records/claims.rs`: every
/// other module claims, keeps, books or frees seats through it (migrations and tests aside).
#[test]
fn claims_are_written_by_the_claims_module_only() {
    fn walk(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    walk(&src, &mut files);
    let writes = [
        "INSERT INTO claims",
        "UPDATE claims",
        "DELETE FROM claims",
        "claimed = claimed",
    ];
    let mut elsewhere = Vec::new();
    for f in files {
        let rel = f
            .strip_prefix(&src)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        if rel == "records/claims.rs" || rel == "store/schema.rs" || rel.ends_with("tests.rs") {
            continue;
        }
        let text = std::fs::read_to_string(&f).unwrap();
        for w in writes {
            if text.contains(w) {
                elsewhere.push(format!("{rel}: {w}"));
            }
        }
    }
    assert!(
        elsewhere.is_empty(),
        "claims written outside records/claims.rs: {elsewhere:?}"
    );
}

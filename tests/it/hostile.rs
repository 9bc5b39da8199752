//! Hostile input: property tests for the search query parser, card parsing, seat labels and
//! layout files (no panic, every error a clear message), and the strings people try: SQL
//! injection, CR/LF, path traversal, terminal escapes, 10,000 characters, right-to-left text,
//! emoji and CJK. Plus file permissions: owner only.

use crate::common;

use boxoffice::catalog::parse_layout;
use boxoffice::{Card, ConcertQuery, CustomerInfo, Error, ErrorKind};
use common::*;
use proptest::prelude::*;
use std::cell::RefCell;
use std::process::Command;

fn clear(e: &Error) {
    let msg = e.to_string();
    assert!(!msg.trim().is_empty(), "an error without words: {e:?}");
    assert!(!msg.contains("panicked"));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 300, .. ProptestConfig::default() })]

    #[test]
    fn the_search_box_never_panics(input in "\\PC{0,60}|[a-z]{1,8}:[0-9:.-]{0,12}( [a-z]{1,8}:[\\PC]{0,10}){0,3}") {
        match ConcertQuery::parse(&input) {
            Ok(q) => prop_assert!(q.validate().is_ok()),
            Err(e) => { clear(&e); prop_assert_eq!(e.kind(), ErrorKind::Usage); }
        }
    }

    #[test]
    fn card_parsing_never_panics_nor_repeats_the_number(
        number in "[0-9 -]{0,25}|\\PC{0,25}",
        exp in "[0-9/]{0,7}|\\PC{0,8}",
        cvc in "[0-9]{0,5}|\\PC{0,5}",
    ) {
        let now = t("2026-11-25T12:00:00Z");
        if let Err(e) = Card::parse(&number, &exp, &cvc, now) {
            clear(&e);
            let digits: String = number.chars().filter(|c| c.is_ascii_digit()).collect();
            if digits.len() >= 8 {
                prop_assert!(!e.to_string().contains(&digits), "the number leaked into: {}", e);
            }
        }
    }

    #[test]
    fn layout_files_never_panic(text in "(venue|city|timezone|category|section|stage|[A-Z]{1,3} \\|)[ A-Za-z|./]{0,30}(\\n[ A-Za-z|./]{0,30}){0,8}") {
        if let Err(e) = parse_layout(&text) {
            clear(&e);
            let is_layout = matches!(e, Error::Layout { .. });
            prop_assert!(is_layout, "{:?}", e);
        }
    }
}

thread_local! {
    static FIX: RefCell<Option<Fixture>> = const { RefCell::new(None) };
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, .. ProptestConfig::default() })]

    #[test]
    fn any_seat_labels_are_refused_cleanly_or_held(labels in proptest::collection::vec("\\PC{0,12}|[A-Z]-[0-9]-[0-9]{1,2}", 0..5)) {
        FIX.with(|f| {
            let mut f = f.borrow_mut();
            let fx = f.get_or_insert_with(fixture);
            match fx.store.hold_seats(fx.concert, &labels, &customer("prop@example.com")) {
                Ok(h) => { fx.store.release_hold(&h.hold_id).unwrap(); }
                Err(e) => {
                    clear(&e);
                    assert!(matches!(e.kind(), ErrorKind::Usage | ErrorKind::Unavailable), "{e:?}");
                }
            }
        });
    }
}

const NASTY: &[&str] = &[
    "'; DROP TABLE concerts; --",
    "Robert\"); DELETE FROM bookings; --",
    "Eve\r\nBcc: everyone@example.com",
    "../../../etc/passwd",
    "\u{1b}[31mRED\u{1b}[0m\u{1b}]0;pwned\u{7}",
    "مرحبا بالعالم",
    "\u{202e}gnp.exe",
    "🎸🎤🥁 Rock Band 🎶",
    "東京フィルハーモニー交響楽団",
];

#[test]
fn nasty_names_are_stored_as_text_and_refused_where_they_could_do_harm() {
    let mut f = fixture();
    for (i, name) in NASTY.iter().enumerate() {
        let who = CustomerInfo {
            email: format!("n{i}@example.com"),
            name: Some(name.to_string()),
            phone: None,
        };
        let r = f.store.hold_seats(
            f.concert,
            &seats(&[[
                "A-1-1", "A-1-3", "A-2-1", "A-2-3", "A-2-4", "A-2-6", "A-1-4", "A-1-6", "A-1-2",
            ][i]]),
            &who,
        );
        // Control characters, and characters that reorder or hide text (a right-to-left
        // override makes `\u{202e}gnp.exe` read as `exe.png`), are refused.
        let has_control = name.chars().any(boxoffice::text::is_hidden_or_control);
        match r {
            Ok(h) => {
                assert!(!has_control, "{name:?} held");
                let b = f
                    .store
                    .pay(
                        &h.hold_id,
                        &boxoffice::Tender::Cash {
                            tendered_cents: 10_000,
                        },
                        &boxoffice::Processors::cash_only(),
                    )
                    .unwrap();
                assert_eq!(
                    f.store
                        .booking(&b.booking_code)
                        .unwrap()
                        .customer
                        .name
                        .as_deref(),
                    Some(*name),
                    "stored as given"
                );
            }
            Err(e) => {
                assert!(has_control, "{name:?}: {e}");
                assert!(matches!(e, Error::Invalid(_)));
            }
        }
    }
    // The tables are all still there.
    assert!(f.store.search_concerts(&Default::default()).is_ok());
    let long = "x".repeat(10_000);
    assert!(
        f.store
            .hold_seats(
                f.concert,
                &seats(&["A-1-1"]),
                &CustomerInfo {
                    email: format!("{long}@example.com"),
                    ..Default::default()
                }
            )
            .is_err()
    );
    assert!(
        f.store
            .hold_seats(
                f.concert,
                std::slice::from_ref(&long),
                &customer("a@example.com")
            )
            .is_err()
    );
    // A search longer than anyone types is refused before it reaches the index.
    let e = ConcertQuery::parse(&long).unwrap_err();
    assert!(e.to_string().contains("at most 200 characters"), "{e}");
    // So is a runaway seat list, at once.
    let many: Vec<String> = (0..100_000).map(|i| format!("A-{i}-1")).collect();
    let started = std::time::Instant::now();
    let e = f
        .store
        .hold_seats(f.concert, &many, &customer("a@example.com"))
        .unwrap_err();
    assert!(e.to_string().contains("at most 500 seats"), "{e}");
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "refused before any work"
    );
}

fn bin(db: &std::path::Path, args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_boxoffice"))
        .env("BOXOFFICE_DB", db)
        .env("BOXOFFICE_NOW", "2026-11-25T12:00:00Z")
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn hostile_arguments_get_a_clear_refusal_and_never_reach_the_terminal_raw() {
    let dir = tempfile::tempdir().unwrap();
    let db = common::engine::fresh_demo_db(dir.path());
    let long = "9".repeat(10_000);
    let escape = "2026-12-01\u{1b}[2J\u{1b}]0;pwned\u{7}";
    let out = bin(&db, &["concerts", "--artist", &long]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "a long search is refused, calmly"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("--artist is at most 200 characters"));
    for args in [
        vec!["concerts", "--from", escape],
        vec!["concerts", "--frobnicate", escape],
        vec!["seats", "'; DROP TABLE seats; --"],
        vec![
            "hold",
            "demo-13",
            "../../etc/passwd",
            "--customer",
            "a@example.com",
        ],
        vec![
            "hold",
            "demo-13",
            "FLR-A-1",
            "--customer",
            "a@example.com\r\nBcc: x@y.z",
        ],
        vec!["booking", &long],
        vec![
            "pay", "H1", "--card", &long, "--exp", "12/28", "--cvc", "123",
        ],
        vec!["import", "/etc/../etc/passwd"],
        vec!["venue", "add", "../../nope.layout"],
    ] {
        let out = bin(&db, &args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            matches!(out.status.code(), Some(1..=3)),
            "{args:?}: {:?} {err}",
            out.status
        );
        assert!(
            !err.contains('\u{1b}') && !err.contains('\u{7}'),
            "{args:?} echoed a control character: {err:?}"
        );
        assert!(!err.contains("panicked"), "{err}");
        assert!(
            err.len() < 2_000 || args.contains(&long.as_str()),
            "a short message"
        );
    }
    // A page's bounds past a 64-bit signed integer are a usage error, not a wrapped number
    // (which read as "no limit").
    for args in [
        ["concerts", "--limit", "9223372036854775808"],
        ["concerts", "--offset", "18446744073709551615"],
    ] {
        let out = bin(&db, &args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains("is at most 9223372036854775807"), "{err}");
        assert!(out.stdout.is_empty(), "nothing listed");
    }
    // Still a healthy database afterwards.
    assert!(bin(&db, &["concerts", "--json"]).status.success());
}

#[test]
fn wide_and_right_to_left_names_keep_the_table_aligned() {
    let dir = tempfile::tempdir().unwrap();
    let db = common::engine::fresh_demo_db(dir.path());
    assert!(bin(&db, &["concerts"]).status.success());
    let csv = dir.path().join("wide.csv");
    std::fs::write(
        &csv,
        "external_id,artist,title,venue,starts_at,on_sale_at,price_S,price_P\n\
         w-1,東京フィルハーモニー,Live,velvet-room,2026-12-03 20:00 Europe/Vienna,2026-11-01 09:00 Europe/Vienna,20,30\n\
         w-2,🎸🎤 Rock Band 🎶,Live,velvet-room,2026-12-03 21:00 Europe/Vienna,2026-11-01 09:00 Europe/Vienna,20,30\n\
         w-3,مرحبا بالعالم,Live,velvet-room,2026-12-03 22:00 Europe/Vienna,2026-11-01 09:00 Europe/Vienna,20,30\n",
    )
    .unwrap();
    let out = bin(&db, &["import", csv.to_str().unwrap()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = bin(
        &db,
        &["concerts", "--from", "2026-12-03", "--to", "2026-12-03"],
    );
    let text = String::from_utf8(out.stdout).unwrap();
    // The VENUE column starts at the same display column on every line.
    use unicode_width::UnicodeWidthStr;
    let starts: Vec<usize> = text
        .lines()
        .filter_map(|l| {
            l.find("The Velvet Room")
                .or_else(|| l.find("VENUE"))
                .map(|i| l[..i].width())
        })
        .collect();
    assert!(starts.len() >= 4, "{text}");
    assert!(
        starts.windows(2).all(|w| w[0] == w[1]),
        "misaligned:\n{text}"
    );
    // Terminal escapes in an import are refused with the line named.
    std::fs::write(&csv, "external_id,artist,title,venue,starts_at,on_sale_at,price_S,price_P\nw-9,\u{1b}[31mRed,Live,velvet-room,2026-12-03 20:00,2026-11-01 09:00,20,30\n").unwrap();
    let out = bin(&db, &["import", csv.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("line 2: artist contains a line break or control character")
    );
}

#[cfg(unix)]
#[test]
fn every_file_written_is_readable_by_its_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let db = common::engine::fresh_demo_db(dir.path());
    let hold = bin(
        &db,
        &[
            "hold",
            "demo-13",
            "FLR-A-1",
            "FLR-A-2",
            "--customer",
            "p@example.com",
            "--phone",
            "+436601112233",
            "--json",
        ],
    );
    let hold: serde_json::Value = serde_json::from_slice(&hold.stdout).unwrap();
    let paid = bin(
        &db,
        &[
            "pay",
            hold["hold_id"].as_str().unwrap(),
            "--card",
            "4242424242424242",
            "--exp",
            "12/28",
            "--cvc",
            "123",
            "--json",
        ],
    );
    assert!(paid.status.success());
    let paid: serde_json::Value = serde_json::from_slice(&paid.stdout).unwrap();
    let code = paid["booking_code"].as_str().unwrap();
    // The tickets as a PDF and the receipt to a printer that is a plain file.
    let pdf = dir.path().join("tickets.pdf");
    let printer = dir.path().join("printer.out");
    assert!(
        bin(&db, &["ticket", code, "--pdf", pdf.to_str().unwrap()])
            .status
            .success()
    );
    assert!(
        bin(
            &db,
            &["--printer", printer.to_str().unwrap(), "receipt", code]
        )
        .status
        .success()
    );
    let mut checked = 0;
    let mut stack = vec![dir.path().to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            let mode = e.metadata().unwrap().permissions().mode();
            if p.is_dir() {
                if p != dir.path() {
                    assert_eq!(mode & 0o077, 0, "{} is {:o}", p.display(), mode);
                }
                stack.push(p);
            } else {
                assert_eq!(mode & 0o077, 0, "{} is {:o}", p.display(), mode);
                checked += 1;
            }
        }
    }
    assert!(
        checked >= 7,
        "database, gateway, log, email, SMS, tickets and printer: {checked}"
    );
}

/// A ticket PDF or a printer is never written through a symbolic link someone planted, and
/// never over a file that is there unless `--replace` says so.
#[test]
fn tickets_and_receipts_never_go_through_a_planted_link_or_over_a_file() {
    let dir = tempfile::tempdir().unwrap();
    let db = common::engine::fresh_demo_db(dir.path());
    let held = bin(
        &db,
        &[
            "hold",
            "demo-13",
            "FLR-A-5",
            "--customer",
            "l@example.com",
            "--json",
        ],
    );
    let held: serde_json::Value = serde_json::from_slice(&held.stdout).unwrap();
    let card = [
        "--card",
        "4242424242424242",
        "--exp",
        "12/28",
        "--cvc",
        "123",
    ];
    let mut pay = vec!["pay", held["hold_id"].as_str().unwrap()];
    pay.extend(card);
    pay.push("--json");
    let paid: serde_json::Value = serde_json::from_slice(&bin(&db, &pay).stdout).unwrap();
    let code = paid["booking_code"].as_str().unwrap().to_string();
    let victim = dir.path().join("victim");
    std::fs::write(&victim, "precious").unwrap();
    let link = dir.path().join("tickets.pdf");
    std::os::unix::fs::symlink(&victim, &link).unwrap();
    let out = bin(&db, &["ticket", &code, "--pdf", link.to_str().unwrap()]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("add --replace"));
    let printed = bin(
        &db,
        &["--printer", link.to_str().unwrap(), "receipt", &code],
    );
    assert!(!printed.status.success());
    assert!(
        String::from_utf8_lossy(&printed.stderr).contains("symbolic link"),
        "{}",
        String::from_utf8_lossy(&printed.stderr)
    );
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
    // An ordinary file is kept, then replaced when asked.
    let pdf = dir.path().join("mine.pdf");
    std::fs::write(&pdf, "mine").unwrap();
    let out = bin(&db, &["ticket", &code, "--pdf", pdf.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(std::fs::read_to_string(&pdf).unwrap(), "mine");
    let out = bin(
        &db,
        &["ticket", &code, "--pdf", pdf.to_str().unwrap(), "--replace"],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(std::fs::read(&pdf).unwrap().starts_with(b"%PDF"));
}

#[test]
fn text_that_reorders_or_hides_itself_is_refused_in_layouts_imports_and_details() {
    // A layout's names end up on every clerk's screen.
    let layout = "venue X\ncity Y\ntimezone Europe/Vienna\ncategory S Std\u{202E}dradnats\nsection A B\nA |SS|\n";
    match parse_layout(layout) {
        Err(Error::Layout { line: 4, message }) => {
            assert!(message.contains("U+202E"), "{message}")
        }
        other => panic!("{other:?}"),
    }
    let zero_width = "venue X\ncity Y\ntimezone Europe/Vienna\ncategory S Std\nstage ST\u{200B}AGE\nsection A B\nA |SS|\n";
    assert!(matches!(
        parse_layout(zero_width),
        Err(Error::Layout { line: 5, .. })
    ));
    // So are imports' names, with their line.
    let mut f = fixture();
    let csv = "external_id,artist,title,venue,starts_at,on_sale_at,price_P,price_S
x-1,Band\u{2067}Name,Live,test-hall,2027-01-10 20:00 Europe/Vienna,2026-11-01 09:00 Europe/Vienna,50,30
";
    let e = f.store.import_concerts(csv, &mut |_, _, _| {}).unwrap_err();
    assert!(
        e.to_string()
            .contains("line 2: artist contains an invisible character (U+2067)"),
        "{e}"
    );
    // And what a clerk types.
    let e = f
        .store
        .hold_seats(
            f.concert,
            &seats(&["A-1-1"]),
            &CustomerInfo {
                email: "ann\u{200B}@example.com".into(),
                ..Default::default()
            },
        )
        .unwrap_err();
    assert!(matches!(e, Error::Invalid(_)), "{e:?}");
}

#[test]
fn layouts_too_large_to_be_venues_are_refused_before_they_take_memory() {
    let head = "venue X\ncity Y\ntimezone Europe/Vienna\ncategory S Std\nsection A B\n";
    let wide = format!("{head}A |{}|\n", "S".repeat(5_000));
    let e = parse_layout(&wide).unwrap_err();
    assert!(e.to_string().contains("at most 1000 columns"), "{e}");
    let long: String = (0..3_000).map(|i| format!("R{i} |S|\n")).collect();
    let e = parse_layout(&format!("{head}{long}")).unwrap_err();
    assert!(e.to_string().contains("2000 rows"), "{e}");
    let huge = format!("{head}{}", "# padding\n".repeat(60_000));
    let e = parse_layout(&huge).unwrap_err();
    assert!(e.to_string().contains("at most 512 KiB"), "{e}");
}

#[test]
fn export_quotes_names_a_spreadsheet_would_run_and_import_reads_them_back() {
    let mut f = fixture();
    let csv = "external_id,artist,title,venue,starts_at,on_sale_at,price_P,price_S
f-1,=HYPERLINK(\"http://x\"),@Live,test-hall,2027-01-10 20:00 Europe/Vienna,2026-11-01 09:00 Europe/Vienna,50,30
f-2,-M-,+Live,test-hall,2027-01-11 20:00 Europe/Vienna,2026-11-01 09:00 Europe/Vienna,50,30
";
    f.store.import_concerts(csv, &mut |_, _, _| {}).unwrap();
    let exported = f.store.export_csv().unwrap();
    assert!(exported.contains("'=HYPERLINK"), "{exported}");
    assert!(
        exported.contains(",'@Live,") && exported.contains(",'-M-,'+Live,"),
        "{exported}"
    );
    for line in exported.lines().skip(1) {
        for cell in line.split(',') {
            let cell = cell.trim_start_matches('"');
            assert!(!cell.starts_with(['=', '+', '-', '@']), "{line}");
        }
    }
    // Another box office importing the export gets the same names.
    let mut g = fixture();
    g.store
        .import_concerts(&exported, &mut |_, _, _| {})
        .unwrap();
    let names: Vec<(String, String)> = g
        .store
        .export_catalog()
        .unwrap()
        .into_iter()
        .filter(|c| c.external_id.starts_with("f-"))
        .map(|c| (c.artist, c.title))
        .collect();
    assert_eq!(
        names,
        [
            ("=HYPERLINK(\"http://x\")".to_string(), "@Live".to_string()),
            ("-M-".to_string(), "+Live".to_string())
        ]
    );
}

#[test]
fn an_address_that_cannot_be_sent_is_refused_when_typed_and_a_unicode_domain_goes_out_as_ascii() {
    let mut f = fixture();
    let who = |email: &str| CustomerInfo {
        email: email.into(),
        ..Default::default()
    };
    let e = f
        .store
        .hold_seats(f.concert, &seats(&["A-1-1"]), &who("jürgen@example.com"))
        .unwrap_err();
    assert!(matches!(e, Error::Invalid(_)), "{e:?}");
    let hold = f
        .store
        .hold_seats(f.concert, &seats(&["A-1-1"]), &who("anna@müller.at"))
        .unwrap();
    f.store
        .pay(
            &hold.hold_id,
            &boxoffice::Tender::Cash {
                tendered_cents: 10_000,
            },
            &boxoffice::Processors::cash_only(),
        )
        .unwrap();
    let spool = boxoffice::Spool::new(f.dir.path().join("spool"));
    let report = f.store.deliver_outbox(&spool, false).unwrap();
    let email = std::fs::read_to_string(&report.delivered[0].path).unwrap();
    assert!(email.contains("To: anna@xn--mller-kva.at"), "{email}");
    assert_eq!(
        boxoffice::notify::spool::ascii_address("anna@müller.at"),
        "anna@xn--mller-kva.at"
    );
}

//! The catalog's own tests: layouts, the demo, time zones.

use super::demo::demo_concerts;
use super::*;

#[test]
fn demo_layouts_parse_with_the_sizes_the_demo_promises() {
    let sizes: Vec<usize> = DEMO_VENUES
        .iter()
        .map(|(_, t)| parse_layout(t).unwrap().seats.len())
        .collect();
    assert!((90..=110).contains(&sizes[0]), "club {sizes:?}");
    assert!((300..=1000).contains(&sizes[1]), "theatre {sizes:?}");
    assert!(sizes[2] >= 10_000, "arena {sizes:?}");
    let theatre = parse_layout(DEMO_VENUES[1].1).unwrap();
    assert_eq!(theatre.categories.len(), 3);
}

#[test]
fn seats_are_numbered_left_to_right_skipping_aisles() {
    let l = parse_layout(
        "venue V\ncity C\ntimezone Europe/Vienna\ncategory S Std\ncategory P Prem\nsection A Main\nB |PP.S S|\n",
    )
    .unwrap();
    let labels: Vec<(&str, i64, &str)> = l
        .seats
        .iter()
        .map(|s| (s.label.as_str(), s.x, s.category.as_str()))
        .collect();
    assert_eq!(
        labels,
        vec![
            ("A-B-1", 0, "P"),
            ("A-B-2", 1, "P"),
            ("A-B-3", 3, "S"),
            ("A-B-4", 5, "S")
        ]
    );
}

#[test]
fn layout_errors_name_the_line() {
    let cases = [
        (
            "venue V\ncity C\ntimezone Europe/Vienna\ncategory S Std\nA |SS|\n",
            5,
            "after a `section",
        ),
        (
            "venue V\ncity C\ntimezone Europe/Vienna\ncategory S Std\nsection A x\nB |SX|\n",
            6,
            "`X` at column 2",
        ),
        (
            "venue V\ncity C\ntimezone Mars/Olympus\n",
            3,
            "unknown time zone",
        ),
        (
            "venue V\ncity C\ntimezone Europe/Vienna\ncategory S Std\nsection A x\nB |SS|\nB |SS|\n",
            7,
            "appears twice",
        ),
        ("venue V\nfloor 3\n", 2, "unknown line"),
    ];
    for (text, line, msg) in cases {
        match parse_layout(text) {
            Err(Error::Layout { line: l, message }) => {
                assert_eq!(l, line, "{message}");
                assert!(message.contains(msg), "{message}");
            }
            other => panic!("expected a layout error, got {other:?}"),
        }
    }
    assert!(matches!(
        parse_layout("venue V\ncity C\ntimezone Europe/Vienna\n"),
        Err(Error::Layout { .. })
    ));
}

#[test]
fn a_rendered_layout_reads_back_the_same() {
    for (_, text) in DEMO_VENUES {
        let l = parse_layout(text).unwrap();
        assert!(
            parse_layout(&render_layout(&l)).unwrap() == l,
            "the grid reads back the same"
        );
    }
    assert_eq!(slugify("  Odeon  Theatre (Main)!"), "odeon-theatre-main");
    // Letters keep themselves as people write them without accents.
    for (name, slug) in [
        ("Stadtsaal Döbling", "stadtsaal-doebling"),
        ("Großer Saal", "grosser-saal"),
        ("Teatr Łódź", "teatr-lodz"),
        ("Théâtre du Châtelet", "theatre-du-chatelet"),
        ("Søndre Sal", "sondre-sal"),
        ("Sala Ñandú", "sala-nandu"),
    ] {
        assert_eq!(slugify(name), slug, "{name}");
    }
    // A layout may name its slug; a bad one is refused with its line.
    let named = parse_layout(
        "venue X\nslug the-x\ncity Y\ntimezone Europe/Vienna\ncategory S S\nsection A A\n 1 |SS|\n",
    )
    .unwrap();
    assert_eq!(named.slug.as_deref(), Some("the-x"));
    assert_eq!(parse_layout(&render_layout(&named)).unwrap(), named);
    let bad = parse_layout("venue X\nslug The X\ncity Y\ntimezone Europe/Vienna\n");
    assert!(matches!(bad, Err(Error::Layout { line: 2, .. })), "{bad:?}");
}

#[test]
fn demo_catalog_has_enough_concerts_at_different_times() {
    let today = NaiveDate::from_ymd_opt(2026, 11, 25).unwrap();
    let concerts = demo_concerts(today).unwrap();
    assert!(concerts.len() >= 20);
    let times: std::collections::HashSet<_> =
        concerts.iter().map(|(c, _)| c.local_start.time()).collect();
    assert!(times.len() >= 5);
    assert!(concerts.iter().any(|(_, sold)| *sold == 100));
    let last = concerts
        .iter()
        .map(|(c, _)| c.local_start.date())
        .max()
        .unwrap();
    assert!(last - today >= Duration::days(90));
}

//! A minimal iCalendar (RFC 5545) event for a booking: UID is the booking code, so a later
//! update (higher SEQUENCE) or cancellation replaces the entry in the customer's calendar.

use super::BookingFacts;
use chrono::{DateTime, Duration, Utc};

/// Appends `text` escaped as an iCalendar TEXT value.
fn push_escaped(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            ';' => out.push_str("\\;"),
            ',' => out.push_str("\\,"),
            '\n' => out.push_str("\\n"),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
}

#[cfg(test)]
fn escape(text: &str) -> String {
    let mut out = String::new();
    push_escaped(&mut out, text);
    out
}

/// Appends a content line folded at 75 octets, never inside a UTF-8 character, and its line
/// break. Whole runs are copied: the confirmation is rendered inside the booking's write
/// transaction, and a character at a time cost more than the rest of the event.
fn push_folded(out: &mut String, line: &str) {
    if line.len() <= 75 {
        out.push_str(line);
        out.push_str("\r\n");
        return;
    }
    let (mut start, mut len) = (0, 0);
    for (i, c) in line.char_indices() {
        if len + c.len_utf8() > 75 {
            out.push_str(&line[start..i]);
            out.push_str("\r\n ");
            (start, len) = (i, 1);
        }
        len += c.len_utf8();
    }
    out.push_str(&line[start..]);
    out.push_str("\r\n");
}

#[cfg(test)]
fn fold(line: &str) -> String {
    let mut out = String::new();
    push_folded(&mut out, line);
    out
}

/// Appends a UTC time as `YYYYMMDDTHHMMSSZ` (digits by hand: chrono's format parses its
/// pattern at every call).
fn push_stamp(out: &mut String, t: DateTime<Utc>) {
    use chrono::{Datelike, Timelike};
    fn two(out: &mut String, n: u32) {
        out.push(char::from(b'0' + (n / 10 % 10) as u8));
        out.push(char::from(b'0' + (n % 10) as u8));
    }
    let year = t.year().clamp(0, 9999) as u32;
    for n in [year / 100, year % 100, t.month(), t.day()] {
        two(out, n);
    }
    out.push('T');
    for n in [t.hour(), t.minute(), t.second()] {
        two(out, n);
    }
    out.push('Z');
}

pub(crate) fn event(
    f: &BookingFacts,
    sequence: u32,
    cancelled: bool,
    now: DateTime<Utc>,
) -> String {
    let mut out = String::with_capacity(640);
    // One line at a time into `line`, then folded into `out`.
    let mut line = String::with_capacity(160);
    let emit = |out: &mut String, line: &mut String| {
        push_folded(out, line);
        line.clear();
    };
    for fixed in [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        "PRODID:-//boxoffice//boxoffice//EN",
        if cancelled {
            "METHOD:CANCEL"
        } else {
            "METHOD:PUBLISH"
        },
        "BEGIN:VEVENT",
    ] {
        push_folded(&mut out, fixed);
    }
    line.push_str("UID:");
    line.push_str(&f.code);
    line.push_str("@boxoffice");
    emit(&mut out, &mut line);
    line.push_str("SEQUENCE:");
    line.push_str(&sequence.to_string());
    emit(&mut out, &mut line);
    for (name, t) in [
        ("DTSTAMP:", now),
        ("DTSTART:", f.starts_at),
        ("DTEND:", f.starts_at + Duration::hours(3)),
    ] {
        line.push_str(name);
        push_stamp(&mut line, t);
        emit(&mut out, &mut line);
    }
    line.push_str("SUMMARY:");
    push_escaped(&mut line, &f.artist);
    line.push_str(" - ");
    push_escaped(&mut line, &f.title);
    emit(&mut out, &mut line);
    line.push_str("LOCATION:");
    push_escaped(&mut line, &f.venue);
    line.push_str("\\, ");
    push_escaped(&mut line, &f.city);
    emit(&mut out, &mut line);
    line.push_str("DESCRIPTION:Booking ");
    push_escaped(&mut line, &f.code);
    line.push_str("\\nSeats:");
    for (label, ..) in &f.seats {
        line.push(' ');
        push_escaped(&mut line, label);
    }
    emit(&mut out, &mut line);
    for fixed in [
        if cancelled {
            "STATUS:CANCELLED"
        } else {
            "STATUS:CONFIRMED"
        },
        "END:VEVENT",
        "END:VCALENDAR",
    ] {
        push_folded(&mut out, fixed);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped_and_long_lines_folded() {
        assert_eq!(escape("a, b; c\\d\nnext\r"), "a\\, b\\; c\\\\d\\nnext");
        let folded = fold(&"é".repeat(60));
        for line in folded.split("\r\n") {
            assert!(line.len() <= 75, "{line}");
        }
        assert_eq!(folded.replace("\r\n ", "").trim_end(), "é".repeat(60));
    }
}

#[cfg(test)]
mod golden {
    use super::*;
    use chrono::TimeZone;

    fn facts() -> BookingFacts {
        let starts_at = Utc.with_ymd_and_hms(2026, 12, 27, 18, 0, 0).unwrap();
        BookingFacts {
            code: "BX7K2Q".into(),
            customer_id: 1,
            name: Some("Zoë Ångström".into()),
            artist: "Les Très Longs Noms, Orchestre Philharmonique; et Invités".into(),
            title: "Nuit blanche \\ matin".into(),
            venue: "Salle Pleyel".into(),
            city: "Paris".into(),
            starts_at,
            timezone: "Europe/Paris".into(),
            seats: (1..=14)
                .map(|n| (format!("PAR-É-{n}"), "Parterre".to_string(), 9900))
                .collect(),
            total_cents: 14 * 9900,
            currency: "EUR".into(),
            paid_with: "Visa •••• 4242".into(),
            sequence: 2,
        }
    }

    #[test]
    fn an_event_reads_as_it_always_has() {
        let now = Utc.with_ymd_and_hms(2026, 12, 1, 9, 5, 7).unwrap();
        let head = "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//boxoffice//boxoffice//EN\r\n";
        let body = "BEGIN:VEVENT\r\nUID:BX7K2Q@boxoffice\r\nSEQUENCE:3\r\nDTSTAMP:20261201T090507Z\r\nDTSTART:20261227T180000Z\r\nDTEND:20261227T210000Z\r\nSUMMARY:Les Très Longs Noms\\, Orchestre Philharmonique\\; et Invités - Nui\r\n t blanche \\\\ matin\r\nLOCATION:Salle Pleyel\\, Paris\r\nDESCRIPTION:Booking BX7K2Q\\nSeats: PAR-É-1 PAR-É-2 PAR-É-3 PAR-É-4 PAR-\r\n É-5 PAR-É-6 PAR-É-7 PAR-É-8 PAR-É-9 PAR-É-10 PAR-É-11 PAR-É-12 PAR\r\n -É-13 PAR-É-14\r\n";
        let tail = "END:VEVENT\r\nEND:VCALENDAR\r\n";
        assert_eq!(
            event(&facts(), 3, false, now),
            format!("{head}METHOD:PUBLISH\r\n{body}STATUS:CONFIRMED\r\n{tail}")
        );
        assert_eq!(
            event(&facts(), 4, true, now),
            format!(
                "{head}METHOD:CANCEL\r\n{}STATUS:CANCELLED\r\n{tail}",
                body.replace("SEQUENCE:3", "SEQUENCE:4")
            )
        );
    }
}

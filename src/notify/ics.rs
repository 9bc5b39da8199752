//! A minimal iCalendar (RFC 5545) event for a booking: UID is the booking code, so a later
//! update (higher SEQUENCE) or cancellation replaces the entry in the customer's calendar.

use super::BookingFacts;
use chrono::{DateTime, Duration, Utc};

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
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
    out
}

/// Folds a content line at 75 octets, never inside a UTF-8 character.
fn fold(line: &str) -> String {
    let mut out = String::new();
    let mut len = 0;
    for c in line.chars() {
        if len + c.len_utf8() > 75 {
            out.push_str("\r\n ");
            len = 1;
        }
        out.push(c);
        len += c.len_utf8();
    }
    out.push_str("\r\n");
    out
}

fn stamp(t: DateTime<Utc>) -> String {
    t.format("%Y%m%dT%H%M%SZ").to_string()
}

pub(crate) fn event(
    f: &BookingFacts,
    sequence: u32,
    cancelled: bool,
    now: DateTime<Utc>,
) -> String {
    let seats: Vec<&str> = f.seats.iter().map(|s| s.0.as_str()).collect();
    let mut lines = vec![
        "BEGIN:VCALENDAR".to_string(),
        "VERSION:2.0".into(),
        "PRODID:-//boxoffice//boxoffice//EN".into(),
        format!("METHOD:{}", if cancelled { "CANCEL" } else { "PUBLISH" }),
        "BEGIN:VEVENT".into(),
        format!("UID:{}@boxoffice", f.code),
        format!("SEQUENCE:{sequence}"),
        format!("DTSTAMP:{}", stamp(now)),
        format!("DTSTART:{}", stamp(f.starts_at)),
        format!("DTEND:{}", stamp(f.starts_at + Duration::hours(3))),
        format!("SUMMARY:{}", escape(&format!("{} - {}", f.artist, f.title))),
        format!("LOCATION:{}", escape(&format!("{}, {}", f.venue, f.city))),
        format!(
            "DESCRIPTION:{}",
            escape(&format!("Booking {}\nSeats: {}", f.code, seats.join(" ")))
        ),
        format!(
            "STATUS:{}",
            if cancelled { "CANCELLED" } else { "CONFIRMED" }
        ),
        "END:VEVENT".into(),
        "END:VCALENDAR".into(),
    ];
    lines.iter_mut().map(|l| fold(l)).collect()
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

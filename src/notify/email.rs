//! An outbox row as an email: RFC 5322 built with lettre, names and subjects beyond ASCII as
//! encoded words, addresses with their domain in ASCII, and the calendar entry attached with
//! the sending box office as its organizer.

use super::message::Message;
use crate::store::from_ts;
use lettre::message::header::ContentType;
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart};

/// An address with its domain in ASCII (IDNA), as a relay takes it: `anna@müller.at` is sent
/// to `anna@xn--mller-kva.at`.
pub fn ascii_address(address: &str) -> String {
    match address.rsplit_once('@') {
        Some((local, domain)) => match idna::domain_to_ascii(domain) {
            Ok(ascii) => format!("{local}@{ascii}"),
            Err(_) => address.to_string(),
        },
        None => address.to_string(),
    }
}

/// The calendar entry with its `ORGANIZER` (the box office that sent it), which `METHOD:REQUEST`
/// and `CANCEL` need for a calendar to accept an update. Added as the message is rendered, since
/// the sender is the sending terminal's setting.
fn with_organizer(ics: &str, from: &Mailbox) -> String {
    let name: String = from
        .name
        .as_deref()
        .unwrap_or("boxoffice")
        .chars()
        .filter(|c| !c.is_control() && !matches!(c, '"' | ';' | ':' | ','))
        .take(40)
        .collect();
    let line = format!(
        "ORGANIZER;CN=\"{name}\":mailto:{}\r\n",
        ascii_address(from.email.as_ref())
    );
    // A content line is at most 75 octets; longer ones fold with CRLF and a space.
    let mut folded = String::new();
    let mut width = 0;
    for c in line.trim_end().chars() {
        if width + c.len_utf8() > 75 {
            folded.push_str("\r\n ");
            width = 1;
        }
        folded.push(c);
        width += c.len_utf8();
    }
    folded.push_str("\r\n");
    match ics.find("BEGIN:VEVENT\r\n") {
        Some(at) if !ics.contains("\r\nORGANIZER") => {
            let at = at + "BEGIN:VEVENT\r\n".len();
            format!("{}{folded}{}", &ics[..at], &ics[at..])
        }
        _ => ics.to_string(),
    }
}

fn pre_encoded(
    name: &'static str,
    raw: String,
    encoded: String,
) -> lettre::message::header::HeaderValue {
    lettre::message::header::HeaderValue::dangerous_new_pre_encoded(
        lettre::message::header::HeaderName::new_from_ascii_str(name),
        raw,
        encoded,
    )
}

/// `text` as RFC 2047 encoded words, one per word (a word longer than fits one is cut at a
/// character boundary), the space between two encoded words carried inside the first, lines
/// folded before 76 columns. Only ASCII comes out, so nothing can break the header.
pub(crate) fn encoded_words(text: &str, first_line_used: usize) -> String {
    use base64::Engine;
    let words: Vec<&str> = text.split(' ').filter(|w| !w.is_empty()).collect();
    let plain = |w: &str| {
        w.chars()
            .all(|c| c.is_ascii_alphanumeric() || "-!#$%&*+/=?^_`{|}~".contains(c))
    };
    // (text, encode it): a plain word stays as it is; a run of other words is encoded as one
    // (readers disagree on the space between two encoded words), cut into pieces of at most 42
    // bytes (56 base64 characters, 68 with the markers) between words where it can be, the
    // space kept inside the earlier piece.
    let mut tokens: Vec<(String, bool)> = Vec::new();
    let mut run: Vec<&str> = Vec::new();
    let flush = |run: &mut Vec<&str>, tokens: &mut Vec<(String, bool)>| {
        let mut chunk = String::new();
        for (i, word) in run.iter().enumerate() {
            let piece = if i + 1 < run.len() {
                format!("{word} ")
            } else {
                word.to_string()
            };
            if !chunk.is_empty() && chunk.len() + piece.len() > 42 {
                tokens.push((std::mem::take(&mut chunk), true));
            }
            for c in piece.chars() {
                if chunk.len() + c.len_utf8() > 42 {
                    tokens.push((std::mem::take(&mut chunk), true));
                }
                chunk.push(c);
            }
        }
        if !chunk.is_empty() {
            tokens.push((chunk, true));
        }
        run.clear();
    };
    for word in &words {
        if plain(word) {
            flush(&mut run, &mut tokens);
            tokens.push((word.to_string(), false));
        } else {
            run.push(word);
        }
    }
    flush(&mut run, &mut tokens);
    let mut out = String::new();
    let mut column = first_line_used;
    for (i, (token, encode)) in tokens.iter().enumerate() {
        let piece = if *encode {
            format!(
                "=?utf-8?b?{}?=",
                base64::engine::general_purpose::STANDARD.encode(token.as_bytes())
            )
        } else {
            token.clone()
        };
        if i > 0 {
            if column + 1 + piece.len() > 76 {
                out.push_str("\r\n ");
                column = 1;
            } else {
                out.push(' ');
                column += 1;
            }
        }
        column += piece.len();
        out.push_str(&piece);
    }
    out
}

/// Builds the RFC 5322 message with lettre: a plain-text body, and the calendar entry as an
/// `.ics` attachment where there is one. Header values are encoded by lettre; a name or
/// address with CR/LF never gets this far (input validation), and is stripped here anyway.
pub(super) fn render_email(row: &Message, from: &str) -> std::result::Result<Vec<u8>, String> {
    let strip = |s: &str| -> String { s.chars().filter(|c| !c.is_control()).collect() };
    let address = ascii_address(&strip(&row.recipient))
        .parse()
        .map_err(|e| format!("bad recipient address: {e}"))?;
    let to = Mailbox::new(row.name.as_deref().map(strip), address);
    let from: Mailbox = from.parse().map_err(|e| format!("{e}"))?;
    let organizer = from.clone();
    let text = SinglePart::builder()
        .header(ContentType::TEXT_PLAIN)
        .body(row.body.clone());
    let subject = strip(&row.subject);
    let mut builder = lettre::Message::builder().from(organizer.clone());
    // Names and subjects with letters beyond ASCII are encoded a whole word at a time (lettre
    // cuts one encoded run where the bytes run out, mid-word, which some mail clients show as
    // "Großsch ädl").
    builder = match to.name.as_deref().filter(|n| !n.is_ascii()) {
        Some(name) => builder.raw_header(pre_encoded(
            "To",
            to.to_string(),
            format!("{} <{}>", encoded_words(name, "To: ".len()), to.email),
        )),
        None => builder.to(to),
    };
    builder = if subject.is_ascii() {
        builder.subject(subject)
    } else {
        let encoded = encoded_words(&subject, "Subject: ".len());
        builder.raw_header(pre_encoded("Subject", subject, encoded))
    };
    let builder = builder
        .date(from_ts(row.created_at).into())
        .message_id(Some(row.message_id()));
    // The text, then what comes with it: the calendar entry, the tickets as a PDF.
    let mut parts: Vec<SinglePart> = Vec::new();
    if let Some(ics) = &row.calendar {
        let method = if ics.contains("METHOD:CANCEL") {
            "CANCEL"
        } else {
            "PUBLISH"
        };
        let kind = ContentType::parse(&format!("text/calendar; charset=utf-8; method={method}"))
            .map_err(|e| e.to_string())?;
        let name = format!("{}.ics", row.booking_code.as_deref().unwrap_or("event"));
        let ics = with_organizer(ics, &from);
        parts.push(Attachment::new(name).body(ics, kind));
    }
    if let Some(pdf) = &row.tickets_pdf {
        let kind = ContentType::parse("application/pdf").map_err(|e| e.to_string())?;
        let name = format!(
            "tickets-{}.pdf",
            row.booking_code.as_deref().unwrap_or("booking")
        );
        parts.push(Attachment::new(name).body(pdf.clone(), kind));
    }
    let message = if parts.is_empty() {
        builder.singlepart(text)
    } else {
        let mut mixed = MultiPart::mixed().singlepart(text);
        for p in parts {
            mixed = mixed.singlepart(p);
        }
        builder.multipart(mixed)
    }
    .map_err(|e| e.to_string())?;
    Ok(message.formatted())
}

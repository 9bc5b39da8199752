//! Notices to customers. Each is an outbox row written in the same transaction as the change it
//! reports; after commit the outbox ([`outbox`]) delivers it: a file in the spool ([`spool`]),
//! or the mail relay and SMS gateway ([`relay`]).

pub mod codepage;
pub(crate) mod email;
pub mod ics;
mod message;
pub mod outbox;
pub mod pdf;
pub mod receipt;
pub mod relay;
pub mod spool;

use crate::error::Result;
use crate::model::Money;
use crate::params;
use crate::states::NoticeKind;
use crate::store::{from_ts, ts};
use chrono::{DateTime, Utc};

/// What a customer is told.
#[derive(Debug, Clone)]
pub(crate) struct Notice {
    pub kind: NoticeKind,
    pub subject: String,
    pub body: String,
    pub sms: String,
    pub calendar: Option<String>,
    pub booking_code: Option<String>,
}

/// Queues `notice` for a customer: an email if they gave an address, an SMS if they gave a
/// phone number (a walk-up who gave neither is told at the counter).
pub(crate) fn queue(
    tx: &crate::store::Db,
    customer_id: i64,
    notice: &Notice,
    now: DateTime<Utc>,
) -> Result<()> {
    tx.note_queued();
    let (email, phone): (Option<String>, Option<String>) = tx
        .prepare_cached("SELECT email, phone FROM customers WHERE id = ?1")?
        .query_row([customer_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
    let mut insert = tx.prepare_cached(
        "INSERT INTO outbox (kind, channel, recipient, customer_id, subject, body, calendar, booking_code, created_at, next_attempt_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?9)",
    )?;
    if let Some(email) = email {
        insert.execute(params![
            notice.kind,
            "email",
            email,
            customer_id,
            notice.subject,
            notice.body,
            notice.calendar,
            notice.booking_code,
            ts(now)
        ])?;
    }
    if let Some(phone) = phone {
        insert.execute(params![
            notice.kind,
            "sms",
            phone,
            customer_id,
            "",
            notice.sms,
            Option::<String>::None,
            notice.booking_code,
            ts(now)
        ])?;
    }
    Ok(())
}

/// A moment at the venue as a customer reads it: the wall time there, with the zone's
/// abbreviation and name, so nobody has to guess whose 20:00 it is.
pub(crate) struct VenueTime {
    /// `Sun 20 December 2026, 20:00 (CET, Vienna time)`
    pub long: String,
    /// `Sun 20 Dec 20:00 CET`, for an SMS.
    pub short: String,
}

pub(crate) fn at_venue(at: DateTime<Utc>, timezone: &str) -> VenueTime {
    let zone: chrono_tz::Tz = timezone.parse().unwrap_or(chrono_tz::UTC);
    let local = at.with_timezone(&zone);
    let place = zone
        .name()
        .rsplit('/')
        .next()
        .unwrap_or_default()
        .replace('_', " ");
    VenueTime {
        long: format!(
            "{} ({}, {place} time)",
            local.format("%a %-d %B %Y, %H:%M"),
            local.format("%Z")
        ),
        short: crate::model::venue_clock(at, timezone),
    }
}

/// A booking as the notices describe it.
pub(crate) struct BookingFacts {
    pub code: String,
    pub customer_id: i64,
    pub name: Option<String>,
    pub artist: String,
    pub title: String,
    pub venue: String,
    pub city: String,
    pub starts_at: DateTime<Utc>,
    /// The venue's time zone (IANA name).
    pub timezone: String,
    pub seats: Vec<(String, String, i64)>,
    pub total_cents: i64,
    pub currency: String,
    pub paid_with: String,
    /// The concert's calendar sequence: it goes up with every reschedule.
    pub sequence: u32,
}

pub(crate) fn booking_facts(tx: &crate::store::Db, booking_id: i64) -> Result<BookingFacts> {
    let mut facts = tx.prepare_cached("SELECT b.code, b.customer_id, cu.name, co.artist, co.title, v.name, v.city, co.starts_at, v.timezone,
                b.total_cents, b.currency,
                coalesce((SELECT detail FROM payments p WHERE p.booking_id = b.id AND p.kind = 'charge' AND p.state = 'captured' ORDER BY p.id LIMIT 1), b.method),
                co.sequence
         FROM bookings b JOIN customers cu ON cu.id = b.customer_id
         JOIN concerts co ON co.id = b.concert_id JOIN venues v ON v.id = co.venue_id
         WHERE b.id = ?1")?.query_row([booking_id],
        |r| {
            let starts_at = from_ts(r.get(7)?);
            Ok(BookingFacts {
                code: r.get(0)?,
                customer_id: r.get(1)?,
                name: r.get(2)?,
                artist: r.get(3)?,
                title: r.get(4)?,
                venue: r.get(5)?,
                city: r.get(6)?,
                starts_at,
                seats: Vec::new(),
                total_cents: r.get(9)?,
                currency: r.get(10)?,
                paid_with: r.get(11)?,
                sequence: r.get(12)?,
                timezone: r.get(8)?,
            })
        },
    )?;
    facts.seats = crate::records::claimed_seats(tx, crate::records::ClaimsOf::Booking(booking_id))?
        .into_iter()
        .map(|s| (s.label, s.category_name, s.price_cents))
        .collect();
    Ok(facts)
}

impl BookingFacts {
    fn when(&self) -> String {
        at_venue(self.starts_at, &self.timezone).long
    }

    fn short_when(&self) -> String {
        at_venue(self.starts_at, &self.timezone).short
    }

    fn seat_lines(&self) -> String {
        self.seats
            .iter()
            .map(|(label, cat, price)| {
                format!("{label} ({cat}, {})", Money::new(*price, &self.currency))
            })
            .collect::<Vec<_>>()
            .join("\n                ")
    }

    fn greeting(&self) -> String {
        match &self.name {
            Some(n) => format!("Dear {n},"),
            None => "Hello,".to_string(),
        }
    }

    fn labels(&self) -> String {
        self.seats
            .iter()
            .map(|s| s.0.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// Fits an SMS into 160 characters where possible: drops the seat list first, then cuts.
fn sms_text(full: String, without_seats: String) -> String {
    if full.chars().count() <= 160 {
        full
    } else if without_seats.chars().count() <= 160 {
        without_seats
    } else {
        let mut s: String = without_seats.chars().take(159).collect();
        s.push('…');
        s
    }
}

pub(crate) fn confirmation(f: &BookingFacts, now: DateTime<Utc>) -> Notice {
    let total = Money::new(f.total_cents, &f.currency);
    let body = format!(
        "{greeting}\n\nYour booking is confirmed.\n\n\
         Booking code    {code}\n\
         Concert         {artist} - {title}\n\
         Date            {when}\n\
         Venue           {venue}, {city}\n\
         Seats           {seats}\n\
         Total           {total}, paid by {paid}\n\n\
         Show the booking code at the box office or at the door. The attached calendar\n\
         entry has the date and your seats.\n\nboxoffice\n",
        greeting = f.greeting(),
        code = f.code,
        artist = f.artist,
        title = f.title,
        when = f.when(),
        venue = f.venue,
        city = f.city,
        seats = f.seat_lines(),
        paid = f.paid_with,
    );
    let head = format!(
        "Booked {}: {}, {}, {}.",
        f.code,
        f.artist,
        f.short_when(),
        f.venue
    );
    Notice {
        kind: NoticeKind::Confirmation,
        subject: format!("Your tickets: {} - {} ({})", f.artist, f.title, f.code),
        body,
        sms: sms_text(
            format!("{head} Seats {}. {total}", f.labels()),
            format!("{head} {} seats. {total}", f.seats.len()),
        ),
        calendar: Some(ics::event(f, f.sequence, false, now)),
        booking_code: Some(f.code.clone()),
    }
}

/// The concert moved: same seats, new time, a calendar entry that replaces the old one.
pub(crate) fn rescheduled(f: &BookingFacts, now: DateTime<Utc>) -> Notice {
    let body = format!(
        "{greeting}\n\n{artist} - {title} has moved to a new date:\n\n\
         New date        {when}\n\
         Venue           {venue}, {city}\n\
         Seats           {seats}\n\
         Booking code    {code}\n\n\
         Your seats stand. If you cannot come on the new date, you can cancel at the box office\n\
         with your booking code for a full refund. The attached calendar entry replaces the old one.\n\nboxoffice\n",
        greeting = f.greeting(),
        artist = f.artist,
        title = f.title,
        when = f.when(),
        venue = f.venue,
        city = f.city,
        seats = f.seat_lines(),
        code = f.code,
    );
    let sms = format!(
        "{} moved to {}. Your seats stand (booking {}); cancel at the box office for a full refund.",
        f.artist,
        f.short_when(),
        f.code
    );
    Notice {
        kind: NoticeKind::Rescheduled,
        subject: format!("New date: {} - {} ({})", f.artist, f.title, f.code),
        body,
        sms: sms_text(sms.clone(), sms),
        calendar: Some(ics::event(f, f.sequence, false, now)),
        booking_code: Some(f.code.clone()),
    }
}

/// Some seats of a booking were cancelled: which, the refund, and what the booking keeps (its
/// tickets for the other seats stay valid; no calendar change: the evening still happens).
pub(crate) fn seats_cancelled(f: &BookingFacts, cancelled: &[String], refund_cents: i64) -> Notice {
    let refund = Money::new(refund_cents, &f.currency);
    let body = format!(
        "{greeting}\n\nSeats {gone} of your booking {code} are cancelled.\n\n\
         Concert         {artist} - {title}\n\
         Date            {when}\n\
         Seats kept      {seats}\n\
         Refund          {refund}, to {paid}\n\n\
         Your tickets for the seats kept are still valid.\n\nboxoffice\n",
        greeting = f.greeting(),
        gone = cancelled.join(", "),
        code = f.code,
        artist = f.artist,
        title = f.title,
        when = f.when(),
        seats = f.seat_lines(),
        paid = f.paid_with,
    );
    let sms = format!(
        "Booking {}: seats {} cancelled, refund {refund}. {}, {}; your other tickets stay valid.",
        f.code,
        cancelled.join(" "),
        f.artist,
        f.short_when()
    );
    Notice {
        kind: NoticeKind::Cancellation,
        subject: format!("Seats cancelled: {} - {} ({})", f.artist, f.title, f.code),
        body,
        sms: sms_text(sms.clone(), sms),
        calendar: None,
        booking_code: Some(f.code.clone()),
    }
}

pub(crate) fn cancellation(
    f: &BookingFacts,
    refund_cents: i64,
    reason: Option<&str>,
    now: DateTime<Utc>,
) -> Notice {
    let refund = Money::new(refund_cents, &f.currency);
    let why = match reason {
        Some(r) => format!("The concert has been cancelled: {r}\nWe are sorry.\n\n"),
        None => String::new(),
    };
    let body = format!(
        "{greeting}\n\n{why}Your booking {code} is cancelled.\n\n\
         Concert         {artist} - {title}\n\
         Date            {when}\n\
         Seats           {seats}\n\
         Refund          {refund}, to {paid}\n\nboxoffice\n",
        greeting = f.greeting(),
        code = f.code,
        artist = f.artist,
        title = f.title,
        when = f.when(),
        seats = f.seat_lines(),
        paid = f.paid_with,
    );
    let sms = match reason {
        Some(r) => format!(
            "{}, {} is cancelled ({r}). Booking {} refunded: {refund}.",
            f.artist,
            f.short_when(),
            f.code
        ),
        None => format!(
            "Cancelled {}: {}, {}. Refund {refund}.",
            f.code,
            f.artist,
            f.short_when()
        ),
    };
    Notice {
        kind: NoticeKind::Cancellation,
        subject: format!("Cancelled: {} - {} ({})", f.artist, f.title, f.code),
        body,
        sms: sms_text(sms.clone(), sms),
        calendar: Some(ics::event(f, f.sequence + 1, true, now)),
        booking_code: Some(f.code.clone()),
    }
}

/// A charge that arrived after its hold had ended (the processor answered too late, or the
/// payment was given up at another terminal): the money is refunded in full, and the customer
/// is told why, so a charge on their statement is never a mystery.
pub(crate) fn late_charge_refunded(
    tx: &crate::store::Db,
    hold_id: &str,
    name: Option<&str>,
    amount: &Money,
    paid_with: &str,
) -> Result<Notice> {
    let (artist, title, starts_at, timezone): (String, String, i64, String) = tx
        .prepare_cached(
            "SELECT co.artist, co.title, co.starts_at, v.timezone FROM holds h
             JOIN concerts co ON co.id = h.concert_id JOIN venues v ON v.id = co.venue_id
             WHERE h.id = ?1",
        )?
        .query_row([hold_id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })?;
    let when = at_venue(from_ts(starts_at), &timezone);
    let greeting = match name {
        Some(n) => format!("Dear {n},"),
        None => "Hello,".to_string(),
    };
    let body = format!(
        "{greeting}\n\nYour payment of {amount} ({paid_with}) for {artist} - {title} on \
         {when} reached us after your seats had been released, so no booking was made.\n\
         The full amount has been refunded to you; there is nothing you need to do.\n\n\
         We are sorry for the trouble. If you still want to go, the box office will be glad to\n\
         help you find seats.\n\nboxoffice\n",
        when = when.long,
    );
    let sms = sms_text(
        format!(
            "Your payment of {amount} for {artist}, {} came after the seats were released: refunded in full. No booking was made.",
            when.short
        ),
        format!("Your payment of {amount} came after the seats were released: refunded in full."),
    );
    Ok(Notice {
        kind: NoticeKind::Refund,
        subject: format!("Refunded: your payment for {artist} - {title}"),
        body,
        sms,
        calendar: None,
        booking_code: None,
    })
}

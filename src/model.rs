//! Plain data: what the core hands to the CLI and the terminal app.

use chrono::{DateTime, FixedOffset, Utc};
use serde::Serialize;
use std::fmt;

/// An amount of money in integer minor units (cents) of one currency. Never a float.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Money {
    pub cents: i64,
    pub currency: String,
}

impl Money {
    pub fn new(cents: i64, currency: &str) -> Self {
        Money {
            cents,
            currency: currency.to_string(),
        }
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.cents < 0 { "-" } else { "" };
        let abs = self.cents.unsigned_abs();
        write!(f, "{sign}{} {}.{:02}", self.currency, abs / 100, abs % 100)
    }
}

/// Parses an amount typed by a person: `45`, `45.5`, `45.50`, `1,234.00` (never a float).
pub fn parse_cents(text: &str) -> Option<i64> {
    let t: String = text
        .trim()
        .chars()
        .filter(|c| *c != ',' && *c != '_')
        .collect();
    if t.is_empty() || t.starts_with('-') {
        return None;
    }
    let (whole, frac) = match t.split_once('.') {
        Some((w, f)) => (w, f),
        None => (t.as_str(), ""),
    };
    if whole.is_empty() && frac.is_empty() || frac.len() > 2 {
        return None;
    }
    if !whole.chars().all(|c| c.is_ascii_digit()) || !frac.chars().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let whole: i64 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    let frac: i64 = match frac.len() {
        0 => 0,
        1 => frac.parse::<i64>().ok()? * 10,
        _ => frac.parse().ok()?,
    };
    whole.checked_mul(100)?.checked_add(frac)
}

/// What a seat is doing for one concert. Computed in one place (`store::SEAT_STATUS_SQL`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SeatStatus {
    Free,
    Held,
    Booked,
    /// Kept for the waiting list: offered to someone, or waiting for the next offer.
    Reserved,
}

impl SeatStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            SeatStatus::Free => "free",
            SeatStatus::Held => "held",
            SeatStatus::Booked => "booked",
            SeatStatus::Reserved => "reserved",
        }
    }

    pub(crate) fn from_db(s: &str) -> Self {
        match s {
            "held" => SeatStatus::Held,
            "booked" => SeatStatus::Booked,
            "reserved" => SeatStatus::Reserved,
            _ => SeatStatus::Free,
        }
    }
}

impl fmt::Display for SeatStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Category {
    pub code: String,
    pub name: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Venue {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub city: String,
    pub timezone: String,
    pub capacity: i64,
}

/// One concert as search lists it: with its seat counts and price range.
#[derive(Debug, Clone, Serialize)]
pub struct ConcertSummary {
    pub id: i64,
    pub artist: String,
    pub title: String,
    pub venue: String,
    pub venue_slug: String,
    pub city: String,
    /// UTC, RFC 3339.
    pub starts_at: DateTime<Utc>,
    /// The start at the venue, with its UTC offset.
    pub local_start: DateTime<FixedOffset>,
    pub on_sale_at: DateTime<Utc>,
    pub capacity: i64,
    pub free_seats: i64,
    pub held_seats: i64,
    pub booked_seats: i64,
    /// Kept for the waiting list.
    pub reserved_seats: i64,
    /// People in the waiting-list queue (waiting or offered).
    pub waiting: i64,
    pub min_price_cents: i64,
    pub max_price_cents: i64,
    pub currency: String,
    pub ticket_limit: i64,
    pub hold_minutes: i64,
    pub offer_minutes: i64,
    pub status: String,
    pub sold_out: bool,
}

/// A seat of a concert with its category, price and current status.
#[derive(Debug, Clone, Serialize)]
pub struct SeatInfo {
    /// The label `hold` accepts, e.g. `STL-C-12`.
    pub seat: String,
    #[serde(skip)]
    pub seat_id: i64,
    pub section: String,
    pub row: String,
    pub number: i64,
    pub category: String,
    pub price_cents: i64,
    pub status: SeatStatus,
    /// Position in the venue's layout grid: column, and line counted from the stage.
    pub x: i64,
    pub y: i64,
}

#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct SeatCounts {
    pub free: i64,
    pub held: i64,
    pub booked: i64,
    pub reserved: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct SeatMap {
    pub concert: ConcertSummary,
    pub categories: Vec<Category>,
    pub seats: Vec<SeatInfo>,
    pub counts: SeatCounts,
}

/// The person seats are held and booked for.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CustomerInfo {
    pub email: String,
    pub name: Option<String>,
    pub phone: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Hold {
    pub hold_id: String,
    /// `sale`, or `offer` for seats offered from the waiting list.
    pub kind: String,
    pub concert_id: i64,
    pub customer: String,
    pub seats: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub total_cents: i64,
    pub currency: String,
    pub state: String,
    /// The customer's earlier hold on this concert that this one replaced, with its seats.
    pub replaced: Option<ReplacedHold>,
    /// The clerk allowed a selection that strands a single seat.
    pub gap_override: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct ReplacedHold {
    pub hold_id: String,
    pub seats: Vec<String>,
}

/// A waiting-list entry.
#[derive(Debug, Clone, Serialize)]
pub struct WaitlistEntry {
    /// Place in the queue (1 = next), while waiting or offered; `null` once it has ended.
    pub position: Option<i64>,
    pub customer: String,
    pub party: i64,
    pub category: Option<String>,
    /// `waiting`, `offered`, `booked`, `expired` or `left`.
    pub state: String,
    pub joined_at: DateTime<Utc>,
    /// The offer's hold id: the code to pay it with.
    pub offer: Option<String>,
    pub offer_seats: Vec<String>,
    pub offer_expires_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Receipt {
    pub booking_code: String,
    pub hold_id: String,
    pub concert_id: i64,
    pub seats: Vec<String>,
    pub total_cents: i64,
    pub currency: String,
    pub tendered_cents: Option<i64>,
    pub change_cents: i64,
    pub method: String,
    pub reference: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Booking {
    pub booking_code: String,
    pub state: String,
    pub concert: ConcertSummary,
    pub customer: CustomerInfo,
    pub seats: Vec<BookedSeat>,
    pub total_cents: i64,
    pub currency: String,
    pub method: String,
    pub created_at: DateTime<Utc>,
    pub cancelled_at: Option<DateTime<Utc>>,
    pub refunded_cents: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct BookedSeat {
    pub seat: String,
    pub category: String,
    pub price_cents: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Cancellation {
    pub booking_code: String,
    pub refunded_cents: i64,
    /// Refunds the processor could not make yet; `reconcile` retries them.
    pub refund_pending_cents: i64,
    pub currency: String,
    pub method: String,
    pub seats: Vec<String>,
}

/// What `reconcile` found and did.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct ReconcileReport {
    /// Interrupted payments that had gone through: their bookings, now confirmed.
    pub confirmed: Vec<String>,
    /// Interrupted payments that had not gone through: their seats are free again.
    pub released: usize,
    /// Money captured for a hold that could not be confirmed, refunded.
    pub refunded: usize,
    /// Pending refunds completed.
    pub refunds_completed: usize,
    /// Payments too recent to touch: another terminal may still be waiting for them.
    pub in_flight: usize,
    /// Payments whose processor could not be asked now.
    pub unreachable: usize,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn money_prints_in_minor_units_without_floats() {
        assert_eq!(Money::new(4550, "EUR").to_string(), "EUR 45.50");
        assert_eq!(Money::new(5, "EUR").to_string(), "EUR 0.05");
        assert_eq!(Money::new(-1200, "EUR").to_string(), "-EUR 12.00");
    }

    #[test]
    fn amounts_typed_by_people_parse_to_cents() {
        assert_eq!(parse_cents("45"), Some(4500));
        assert_eq!(parse_cents("45.5"), Some(4550));
        assert_eq!(parse_cents("1,234.05"), Some(123405));
        assert_eq!(parse_cents(".5"), Some(50));
        for bad in ["", "-3", "4.555", "abc", "1.2.3", "."] {
            assert_eq!(parse_cents(bad), None, "{bad}");
        }
    }
}

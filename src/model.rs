//! Plain data: what the core hands to the CLI and the terminal app.

use chrono::{DateTime, FixedOffset, Utc};
use serde::Serialize;
use std::fmt;

/// An amount of money in integer minor units (cents) of one currency. Never a float.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Money {
    /// The amount in minor units (cents); negative below zero.
    pub cents: i64,
    /// The ISO 4217 code of its currency (`EUR`).
    pub currency: String,
}

impl Money {
    /// `cents` of the currency with code `currency`.
    pub fn new(cents: i64, currency: &str) -> Self {
        Money {
            cents,
            currency: currency.to_string(),
        }
    }
}

impl Money {
    /// The amount without its currency, `1234.50`.
    pub fn plain(&self) -> String {
        let sign = if self.cents < 0 { "-" } else { "" };
        let abs = self.cents.unsigned_abs();
        format!("{sign}{}.{:02}", abs / 100, abs % 100)
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.cents < 0 { "-" } else { "" };
        let abs = self.cents.unsigned_abs();
        write!(f, "{sign}{} {}.{:02}", self.currency, abs / 100, abs % 100)
    }
}

/// The most a single amount typed by a person may be: EUR 100,000.00 (a seat's price, cash
/// tendered). Anything above it is a typo, and far below where sums of it could overflow.
pub const MOST_MONEY_CENTS: i64 = 100_000 * 100;

/// Parses an amount typed by a person, in any of the ways people type one: `45`, `45.5`,
/// `45.50`, `200,00` (a decimal comma means the same as a decimal point), `,50`. Never a float.
///
/// Anything that could be read two ways is refused with what was understood, never guessed:
/// `1,234.50` and `1.234,50` (a thousands separator), `1,234` (three digits after the mark: a
/// thousands separator, or a third decimal?), more than two decimals, a sign, spaces inside,
/// more than [`MOST_MONEY_CENTS`].
pub fn parse_money(text: &str) -> Result<i64, MoneyError> {
    let t = text.trim();
    let unclear = |why: String| Err(MoneyError::Unclear(why));
    if t.is_empty() {
        return unclear("no amount typed (e.g. 45.00 or 45,00)".into());
    }
    // More digits than any amount can have: extra digits, or a card number typed into the
    // wrong field, which is never repeated back.
    if t.chars().filter(char::is_ascii_digit).count() > 10 {
        return Err(MoneyError::TooMuch);
    }
    if t.starts_with('-') || t.starts_with('+') {
        return unclear(format!("`{t}`: an amount has no sign"));
    }
    let separator =
        || format!("`{t}` has a thousands separator: type the digits without it (e.g. 1234.50)");
    if let Some(c) = t
        .chars()
        .find(|c| !c.is_ascii_digit() && *c != '.' && *c != ',')
    {
        return unclear(if c.is_whitespace() || c == '\'' || c == '_' {
            separator()
        } else {
            format!("`{t}` is not money: only digits and one decimal comma or point")
        });
    }
    let marks: Vec<usize> = t
        .char_indices()
        .filter(|(_, c)| *c == '.' || *c == ',')
        .map(|(at, _)| at)
        .collect();
    let (whole, frac) = match marks.as_slice() {
        [] => (t, ""),
        [at] => (&t[..*at], &t[*at + 1..]),
        _ => return unclear(separator()),
    };
    if whole.is_empty() && frac.is_empty() {
        return unclear(format!("`{t}` is not an amount"));
    }
    if !marks.is_empty() && frac.is_empty() {
        return unclear(format!("`{t}`: nothing after the decimal mark"));
    }
    if frac.len() == 3 && !whole.is_empty() {
        return unclear(format!(
            "`{t}` could be {whole}{frac} (a thousands separator) or {whole}.{frac} (three \
             decimals): type {whole}{frac} or at most two decimals"
        ));
    }
    if frac.len() > 2 {
        return unclear(format!("`{t}` has more than two decimals"));
    }
    // At most ten digits: no overflow below.
    let number = |s: &str| s.parse::<i64>().unwrap_or(0);
    let frac = match frac.len() {
        1 => number(frac) * 10,
        _ => number(frac),
    };
    let cents = number(whole) * 100 + frac;
    if cents > MOST_MONEY_CENTS {
        return Err(MoneyError::TooMuch);
    }
    Ok(cents)
}

/// Why a typed amount was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MoneyError {
    /// More than [`MOST_MONEY_CENTS`]; what was typed is not repeated (it may be a card number).
    TooMuch,
    /// Not an amount, or one that could be read two ways: what was understood.
    Unclear(String),
}

impl fmt::Display for MoneyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MoneyError::TooMuch => write!(
                f,
                "more than {} (no amount can be): check the amount",
                Money::new(MOST_MONEY_CENTS, "").plain()
            ),
            MoneyError::Unclear(why) => f.write_str(why),
        }
    }
}

impl std::error::Error for MoneyError {}

/// [`parse_money`] without the reason.
pub fn parse_cents(text: &str) -> Option<i64> {
    parse_money(text).ok()
}

/// What a seat is doing for one concert. Computed in one place (`store::SEAT_STATUS_SQL`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum SeatStatus {
    /// Nobody claims it: it can be held.
    Free,
    /// In a customer's hold, until it is paid or runs out.
    Held,
    /// Paid for: in a confirmed booking.
    Booked,
    /// Kept for the waiting list: offered to someone, or waiting for the next offer.
    Reserved,
}

impl SeatStatus {
    /// The word JSON and the screen use (`free`, `held`, `booked`, `reserved`).
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

/// A seat category at a venue: what a concert prices seats by.
#[derive(Debug, Clone, Serialize)]
pub struct Category {
    /// The category's one-letter code (`P`).
    pub code: String,
    /// Its name at the venue (`Premium`).
    pub name: String,
}

/// A venue of the catalog.
#[derive(Debug, Clone, Serialize)]
pub struct Venue {
    /// The venue's number in the store.
    pub id: i64,
    /// The short name concerts, imports and the command line know it by (`velvet-room`).
    pub slug: String,
    /// Its name as customers read it (`The Velvet Room`).
    pub name: String,
    /// The city it is in.
    pub city: String,
    /// Its time zone (IANA name, `Europe/Vienna`).
    pub timezone: String,
    /// How many seats its layout has.
    pub capacity: i64,
}

/// One concert as search lists it: with its seat counts and price range.
#[derive(Debug, Clone, Serialize)]
pub struct ConcertSummary {
    /// The concert's number, what the command line and the app name it by.
    pub id: i64,
    /// Who plays.
    pub artist: String,
    /// The concert's title.
    pub title: String,
    /// The venue's name.
    pub venue: String,
    /// The venue's short name (`velvet-room`).
    pub venue_slug: String,
    /// The venue's city.
    pub city: String,
    /// The venue's time zone (IANA name, `Europe/Vienna`).
    pub timezone: String,
    /// The venue's country (ISO 3166 code), which decides phone numbers typed without one.
    pub country: Option<String>,
    /// UTC, RFC 3339.
    pub starts_at: DateTime<Utc>,
    /// The start at the venue, with its UTC offset.
    pub local_start: DateTime<FixedOffset>,
    /// When sales open (UTC).
    pub on_sale_at: DateTime<Utc>,
    /// How many seats the venue has.
    pub capacity: i64,
    /// Seats nobody holds, has booked or keeps for the waiting list now.
    pub free_seats: i64,
    /// Seats in customers' holds (one whose time ran out counts as free).
    pub held_seats: i64,
    /// Seats in confirmed bookings.
    pub booked_seats: i64,
    /// Kept for the waiting list.
    pub reserved_seats: i64,
    /// People in the waiting-list queue (waiting or offered).
    pub waiting: i64,
    /// The cheapest category's price, in cents (0 when it has no prices).
    pub min_price_cents: i64,
    /// The dearest category's price, in cents (0 when it has no prices).
    pub max_price_cents: i64,
    /// The ISO 4217 code of its prices' currency (`EUR`).
    pub currency: String,
    /// The most tickets one customer may have for it.
    pub ticket_limit: i64,
    /// How long a hold keeps its seats, in minutes.
    pub hold_minutes: i64,
    /// How long someone offered seats from the waiting list has to pay, in minutes.
    pub offer_minutes: i64,
    /// Whether it goes ahead or was called off.
    pub status: crate::ConcertStatus,
    /// No seat is free, and it goes ahead.
    pub sold_out: bool,
}

/// A moment as the clock at a venue shows it, labelled with the zone's abbreviation:
/// `Thu 10 Dec 10:00 CET`. Every time a clerk or customer reads is the venue's (an unknown
/// zone name reads as UTC, and says so).
pub fn venue_clock(at: DateTime<Utc>, timezone: &str) -> String {
    let zone: chrono_tz::Tz = timezone.parse().unwrap_or(chrono_tz::UTC);
    at.with_timezone(&zone)
        .format("%a %d %b %H:%M %Z")
        .to_string()
}

impl ConcertSummary {
    /// A moment at this concert's venue, labelled: `Thu 10 Dec 10:00 CET`.
    pub fn at_venue(&self, at: DateTime<Utc>) -> String {
        venue_clock(at, &self.timezone)
    }

    /// The start at the venue with the year and the zone: `Wed 03 Feb 2027 21:30 CET`.
    pub fn start_at_venue(&self) -> String {
        let zone: chrono_tz::Tz = self.timezone.parse().unwrap_or(chrono_tz::UTC);
        self.starts_at
            .with_timezone(&zone)
            .format("%a %d %b %Y %H:%M %Z")
            .to_string()
    }
}

/// A seat of a concert with its category, price and current status.
#[derive(Debug, Clone, Serialize)]
pub struct SeatInfo {
    /// The label `hold` accepts, e.g. `STL-C-12`.
    pub seat: String,
    /// The seat's number in the store.
    #[serde(skip)]
    pub seat_id: i64,
    /// The code of the seat's section (`STL`).
    pub section: String,
    /// The row's label (`C`).
    pub row: String,
    /// The seat's number in its row, from 1 at the left.
    pub number: i64,
    /// The code of its category (`P`).
    pub category: String,
    /// Its price for this concert, in cents.
    pub price_cents: i64,
    /// What the seat is doing now.
    pub status: SeatStatus,
    /// Position in the venue's layout grid: column, and line counted from the stage.
    pub x: i64,
    /// The grid line, from 0 nearest the stage.
    pub y: i64,
}

/// How many seats of a concert are in each status.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct SeatCounts {
    /// Seats anyone can hold now.
    pub free: i64,
    /// Seats in customers' holds.
    pub held: i64,
    /// Seats in confirmed bookings.
    pub booked: i64,
    /// Seats kept for the waiting list.
    pub reserved: i64,
}

/// A concert's seat map: every seat with its status, for the seat map screen and `seats`.
#[derive(Debug, Clone, Serialize)]
pub struct SeatMap {
    /// The concert.
    pub concert: ConcertSummary,
    /// The categories the concert sells, dearest first.
    pub categories: Vec<Category>,
    /// Every seat, in layout order (line by line from the stage, left to right).
    pub seats: Vec<SeatInfo>,
    /// How many seats are in each status.
    pub counts: SeatCounts,
}

/// Free seats side by side in one row, of one category: a line of the seat map read as text
/// ([`SeatMap::free_runs`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FreeRun {
    /// The label's section part (`STL` of `STL-F-10`).
    pub section: String,
    /// The row's label (`F`).
    pub row: String,
    /// The number of the run's first seat.
    pub first: i64,
    /// The number of the run's last seat.
    pub last: i64,
    /// The code of the run's category (`S`).
    pub category: String,
    /// The category's name at the venue (`Standard`).
    pub category_name: String,
    /// The price of each seat in the run, in cents.
    pub price_cents: i64,
    /// The seats' numbers in the store, left to right.
    pub seat_ids: Vec<i64>,
    /// The seats' labels, left to right.
    pub labels: Vec<String>,
}

impl SeatMap {
    /// Every run of free seats, best first: the front centre first, as best available ranks
    /// seats (rows count double). Seats are side by side when their grid columns are (an
    /// aisle breaks a run), in one row and one category.
    pub fn free_runs(&self) -> Vec<FreeRun> {
        let mut free: Vec<&SeatInfo> = self
            .seats
            .iter()
            .filter(|s| s.status == SeatStatus::Free)
            .collect();
        free.sort_by_key(|s| (s.y, s.x));
        let (min_x, max_x) = self.seats.iter().fold((i64::MAX, i64::MIN), |(lo, hi), s| {
            (lo.min(s.x), hi.max(s.x))
        });
        let centre = (min_x + max_x) as f64 / 2.0;
        let mut runs: Vec<(f64, FreeRun)> = Vec::new();
        let mut current: Vec<&SeatInfo> = Vec::new();
        let mut flush = |run: &mut Vec<&SeatInfo>| {
            let (Some(a), Some(b)) = (run.first(), run.last()) else {
                return;
            };
            let x = run.iter().map(|s| s.x as f64).sum::<f64>() / run.len() as f64;
            let score = (2.0 * a.y as f64).powi(2) + (x - centre).powi(2);
            let name = self
                .categories
                .iter()
                .find(|c| c.code == a.category)
                .map_or(a.category.clone(), |c| c.name.clone());
            runs.push((
                score,
                FreeRun {
                    section: a.seat.split('-').next().unwrap_or_default().to_string(),
                    row: a.row.clone(),
                    first: a.number.min(b.number),
                    last: a.number.max(b.number),
                    category: a.category.clone(),
                    category_name: name,
                    price_cents: a.price_cents,
                    seat_ids: run.iter().map(|s| s.seat_id).collect(),
                    labels: run.iter().map(|s| s.seat.clone()).collect(),
                },
            ));
            run.clear();
        };
        for s in free {
            if let Some(last) = current.last()
                && (last.y != s.y || last.x + 1 != s.x || last.category != s.category)
            {
                flush(&mut current);
            }
            current.push(s);
        }
        flush(&mut current);
        runs.sort_by(|a, b| a.0.total_cmp(&b.0));
        runs.into_iter().map(|r| r.1).collect()
    }

    /// The seats a clerk names as a block, `F 10-11` (row, then a seat or a range; `STL F 10`
    /// with the section where rows share a name): their ids, or what is wrong with the text.
    /// Seats that are not free are named.
    pub fn block(&self, typed: &str) -> Result<Vec<i64>, String> {
        let text = typed.trim().to_ascii_uppercase().replace(" TO ", "-");
        let mut words: Vec<String> = text
            .split([' ', ','])
            .filter(|w| !w.is_empty())
            .map(str::to_string)
            .collect();
        // `F10-11`: the row and the numbers written together.
        if words.len() == 1 {
            let w = words.remove(0);
            let at = w.find(|c: char| c.is_ascii_digit()).unwrap_or(w.len());
            let (row, numbers) = w.split_at(at);
            words = vec![row.trim_end_matches('-').to_string(), numbers.to_string()];
        }
        let usage = || format!("`{}`: type a row and seats, e.g. F 10-11", typed.trim());
        // `F 10 - 11` and `F 10 11`: the range in parts.
        while words.len() > 2
            && (words[words.len() - 2] == "-"
                || (words[words.len() - 2].parse::<i64>().is_ok()
                    && words[words.len() - 1].parse::<i64>().is_ok()))
        {
            let last = words.pop().unwrap_or_default();
            let before = words.pop().unwrap_or_default();
            let joined = if before == "-" {
                format!("{}-{last}", words.pop().unwrap_or_default())
            } else {
                format!("{before}-{last}")
            };
            words.push(joined);
        }
        let (section, row, range) = match words.as_slice() {
            [row, range] => (None, row.clone(), range.clone()),
            [section, row, range] => (Some(section.clone()), row.clone(), range.clone()),
            _ => return Err(usage()),
        };
        let (from, to) = match range.split_once('-') {
            Some((a, b)) => (a.parse::<i64>(), b.parse::<i64>()),
            None => (range.parse::<i64>(), range.parse::<i64>()),
        };
        let (Ok(from), Ok(to)) = (from, to) else {
            return Err(usage());
        };
        let (from, to) = (from.min(to), from.max(to));
        let in_row = |s: &&SeatInfo| {
            s.row.eq_ignore_ascii_case(&row)
                && section.as_deref().is_none_or(|sec| {
                    s.section.eq_ignore_ascii_case(sec)
                        || s.seat
                            .split('-')
                            .next()
                            .is_some_and(|p| p.eq_ignore_ascii_case(sec))
                })
        };
        let seats: Vec<&SeatInfo> = self
            .seats
            .iter()
            .filter(in_row)
            .filter(|s| (from..=to).contains(&s.number))
            .collect();
        let mut sections: Vec<&str> = seats
            .iter()
            .map(|s| s.seat.split('-').next().unwrap_or_default())
            .collect();
        sections.sort_unstable();
        sections.dedup();
        if sections.len() > 1 {
            return Err(format!(
                "row {row} is in {}: type the section first, e.g. {} {row} {from}",
                sections.join(" and "),
                sections[0]
            ));
        }
        if seats.is_empty() {
            return Err(format!("no seats {from} to {to} in row {row}"));
        }
        if (to - from + 1) as usize != seats.len() {
            return Err(format!(
                "row {row} has no seat numbered {}",
                (from..=to)
                    .find(|n| !seats.iter().any(|s| s.number == *n))
                    .unwrap_or(from)
            ));
        }
        let taken: Vec<&str> = seats
            .iter()
            .filter(|s| s.status != SeatStatus::Free)
            .map(|s| s.seat.as_str())
            .collect();
        if !taken.is_empty() {
            return Err(format!("not free: {}", taken.join(" ")));
        }
        Ok(seats.iter().map(|s| s.seat_id).collect())
    }
}

/// The customer: the person seats are held and booked for. The one customer type: as typed at
/// a counter it may be untidy; [`CustomerInfo::checked`] gives the form that is stored (on a
/// hold, then as the customer's record, keyed by email), matched (the same person, by email or
/// phone, for the ticket limit) and sent to.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CustomerInfo {
    /// The email address, their record's key; empty when none was given (a walk-up).
    pub email: String,
    /// Their name; `None` when not given.
    pub name: Option<String>,
    /// Their phone number (international form once checked); `None` when not given.
    pub phone: Option<String>,
}

/// A hold: seats kept for a customer for a few minutes while they pay.
#[derive(Debug, Clone, Serialize)]
pub struct Hold {
    /// The hold's id: the code a clerk pays or releases it by.
    pub hold_id: String,
    /// A sale, or an offer of seats from the waiting list.
    pub kind: crate::HoldKind,
    /// The concert whose seats it holds.
    pub concert_id: i64,
    /// The customer's email (their record's key; see [`CustomerInfo`]).
    pub customer: String,
    /// The seats it holds, by label.
    pub seats: Vec<String>,
    /// When it was made (UTC).
    pub created_at: DateTime<Utc>,
    /// When it runs out unless paid (UTC).
    pub expires_at: DateTime<Utc>,
    /// What its seats cost together, in cents.
    pub total_cents: i64,
    /// The ISO 4217 code of the concert's currency (`EUR`).
    pub currency: String,
    /// Where it is in its life: live, being paid, paid, released, expired or declined.
    pub state: crate::HoldState,
    /// The customer's earlier hold on this concert that this one replaced, with its seats.
    pub replaced: Option<ReplacedHold>,
    /// The clerk allowed a selection that strands a single seat.
    pub gap_override: bool,
}

/// An earlier hold a new one replaced (a customer has one hold per concert).
#[derive(Debug, Clone, Serialize)]
pub struct ReplacedHold {
    /// The earlier hold's id.
    pub hold_id: String,
    /// The seats it had, by label.
    pub seats: Vec<String>,
}

/// A waiting-list entry.
#[derive(Debug, Clone, Serialize)]
pub struct WaitlistEntry {
    /// Place in the queue (1 = next), while waiting or offered; `null` once it has ended.
    pub position: Option<i64>,
    /// The customer's email.
    pub customer: String,
    /// How many seats they want together.
    pub party: i64,
    /// Only seats of this category code; `None` for any category.
    pub category: Option<String>,
    /// Where the entry is: waiting, offered, booked, expired or left.
    pub state: crate::WaitlistState,
    /// When they joined (UTC).
    pub joined_at: DateTime<Utc>,
    /// The offer's hold id: the code to pay it with.
    pub offer: Option<String>,
    /// The seats of the offer, by label; empty when there is none.
    pub offer_seats: Vec<String>,
    /// When the offer runs out (UTC), while it is open; `None` otherwise.
    pub offer_expires_at: Option<DateTime<Utc>>,
}

/// What a paid hold gives back: the booking made, and the money taken.
#[derive(Debug, Clone, Serialize)]
pub struct Receipt {
    /// The new booking's six-letter code.
    pub booking_code: String,
    /// The hold that was paid.
    pub hold_id: String,
    /// The concert booked.
    pub concert_id: i64,
    /// The seats booked, by label.
    pub seats: Vec<String>,
    /// What was charged, in cents.
    pub total_cents: i64,
    /// The ISO 4217 code of the currency charged (`EUR`).
    pub currency: String,
    /// The cash handed over, in cents; `None` for a card.
    pub tendered_cents: Option<i64>,
    /// The change to hand back, in cents (0 for a card).
    pub change_cents: i64,
    /// The processor that took the money (`cash`, `card`).
    pub method: String,
    /// The processor's reference of the charge.
    pub reference: String,
}

/// One booked seat's ticket: its own code (what the QR code and a scanner carry) and whether
/// it has been used.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Ticket {
    /// The seat's label (`STL-C-12`).
    pub seat: String,
    /// The ticket's own code (18 letters), what its QR code carries and the door scans.
    pub ticket_code: String,
    /// Whether it is valid, used or void.
    pub state: crate::TicketState,
    /// When it got its holder in (UTC); `None` until it is checked in.
    pub checked_in_at: Option<DateTime<Utc>>,
    /// The door it was checked in at; `None` until then, or when the door gave no name.
    pub door: Option<String>,
}

/// A booking: a customer's paid seats for one concert, and what happened to it since.
#[derive(Debug, Clone, Serialize)]
pub struct Booking {
    /// The booking's six-letter code, what the customer and the door know it by.
    pub booking_code: String,
    /// Confirmed, or cancelled.
    pub state: crate::BookingState,
    /// The concert booked, as it stands now.
    pub concert: ConcertSummary,
    /// Whom it is for.
    pub customer: CustomerInfo,
    /// Its seats (those cancelled out of it are gone), with their prices.
    pub seats: Vec<BookedSeat>,
    /// What it costs now, in cents: what was paid, less seats cancelled out of it.
    pub total_cents: i64,
    /// The ISO 4217 code of its currency (`EUR`).
    pub currency: String,
    /// The processor that took the payment (`cash`, `card`).
    pub method: String,
    /// When it was paid (UTC).
    pub created_at: DateTime<Utc>,
    /// When it was cancelled (UTC); `None` while it is confirmed.
    pub cancelled_at: Option<DateTime<Utc>>,
    /// Money given back so far, in cents (refunds made, not those pending).
    pub refunded_cents: i64,
    /// One per seat, in the seats' order.
    pub tickets: Vec<Ticket>,
}

/// One seat of a booking.
#[derive(Debug, Clone, Serialize)]
pub struct BookedSeat {
    /// The seat's label (`STL-C-12`).
    pub seat: String,
    /// The code of its category (`P`).
    pub category: String,
    /// The category's name at the venue (`Premium`).
    pub category_name: String,
    /// What it was sold for, in cents.
    pub price_cents: i64,
}

/// What a cancellation did: the seats freed and the money given back.
#[derive(Debug, Clone, Serialize)]
pub struct Cancellation {
    /// The booking's code.
    pub booking_code: String,
    /// What this cancellation refunded, in cents (seats cancelled before were refunded then).
    pub refunded_cents: i64,
    /// Refunds the processor could not make yet; `reconcile` retries them.
    pub refund_pending_cents: i64,
    /// The ISO 4217 code of the refund's currency (`EUR`).
    pub currency: String,
    /// The processor that gives the money back (`cash`, `card`).
    pub method: String,
    /// The seats cancelled, by label.
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

impl ReconcileReport {
    /// Adds what a later run did to what an earlier one did (start-up, then the command):
    /// payments still in flight or unreachable are those of the later run.
    pub fn absorb(&mut self, later: ReconcileReport) {
        self.confirmed.extend(later.confirmed);
        self.released += later.released;
        self.refunded += later.refunded;
        self.refunds_completed += later.refunds_completed;
        self.in_flight = later.in_flight;
        self.unreachable = later.unreachable;
    }
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
        assert_eq!(parse_cents(".5"), Some(50));
        assert_eq!(parse_cents(" 12.34 "), Some(1234));
        for bad in ["", "-3", "4.555", "abc", "1.2.3", ".", "45.", "+5"] {
            assert_eq!(parse_cents(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_decimal_comma_means_the_same_as_a_decimal_point() {
        assert_eq!(parse_money("200,00"), Ok(20_000));
        assert_eq!(parse_money("200.00"), Ok(20_000));
        assert_eq!(parse_money("39,00"), Ok(3_900));
        assert_eq!(parse_money("39,5"), Ok(3_950));
        assert_eq!(parse_money(",50"), Ok(50));
        assert_eq!(parse_money("1234,50"), Ok(123_450));
    }

    #[test]
    fn an_amount_that_could_be_read_two_ways_is_refused_with_what_was_understood() {
        for (typed, says) in [
            ("1,234.50", "thousands separator"),
            ("1.234,50", "thousands separator"),
            ("1 234", "thousands separator"),
            ("1,234", "could be 1234 (a thousands separator) or 1.234"),
            ("1.234", "could be 1234 (a thousands separator) or 1.234"),
            ("4.5555", "more than two decimals"),
            ("12,", "nothing after the decimal mark"),
            ("-3", "no sign"),
            ("EUR 5", "not money"),
            ("100000.01", "more than 100000.00"),
            ("99999999999999999999", "more than 100000.00"),
        ] {
            match parse_money(typed) {
                Err(m) => assert!(m.to_string().contains(says), "{typed}: {m}"),
                Ok(v) => panic!("{typed} was read as {v}"),
            }
        }
        assert_eq!(parse_money("100000"), Ok(MOST_MONEY_CENTS));
        // A card number typed as an amount is never repeated back.
        for card in [
            "4242424242424242",
            "4242 4242 4242 4242",
            "4242-4242-4242-4242",
        ] {
            let said = parse_money(card).unwrap_err().to_string();
            assert!(!said.contains("4242"), "{said}");
        }
    }
}

//! The seat state machine: hold (atomic, with a time to live), pay, confirm, cancel, expire.
//!
//! ```text
//! hold: live --pay--> paying --approved--> paid (booking confirmed)
//!         |              \--declined--> declined (seats free)
//!         +--release--> released      +--expiry--> expired (seats free)
//! ```

use crate::error::{Error, Result};
use crate::model::*;
use crate::payment::{ChargeOutcome, ChargeRequest, Processors, RefundRequest, Tender};
use crate::search::summaries;
use crate::store::seat_index::SeatIndex;
use crate::store::{SEAT_STATUS_SQL, Store, from_ts, ts};
use chrono::{DateTime, Duration, Utc};
use rusqlite::{OptionalExtension, named_params, params};
use std::sync::LazyLock;

/// How long a payment may be in flight before `reconcile` treats it as interrupted. A card
/// gateway answers (or times out) well within this.
pub const PAYMENT_LEASE: Duration = Duration::minutes(2);

/// The most seats one hold may ask for (a ticket limit is far lower; this refuses a runaway
/// list before any work is done for it).
pub const MAX_SEATS_PER_HOLD: usize = 500;

/// Booking codes avoid letters and digits that read alike (0/O, 1/I/L).
const CODE_ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";
const CODE_LEN: usize = 6;

/// `len` characters of [`CODE_ALPHABET`], each equally likely. The bytes come from the system's
/// random source a block at a time: one system call per few dozen codes instead of one per code
/// (a hold cost one, about 2 % of its time).
fn random_code(len: usize) -> String {
    use std::cell::RefCell;
    // The largest multiple of the alphabet's size that fits a byte: bytes above it are skipped,
    // so no character comes up more often than another.
    const FAIR: usize = 256 - 256 % CODE_ALPHABET.len();
    thread_local! {
        static POOL: RefCell<([u8; 256], usize)> = const { RefCell::new(([0; 256], 256)) };
    }
    POOL.with_borrow_mut(|(bytes, used)| {
        let mut code = String::with_capacity(len);
        while code.len() < len {
            if *used == bytes.len() {
                getrandom::fill(bytes).expect("the system's random source failed");
                *used = 0;
            }
            let b = bytes[*used] as usize;
            *used += 1;
            if b < FAIR {
                code.push(CODE_ALPHABET[b % CODE_ALPHABET.len()] as char);
            }
        }
        code
    })
}

fn new_booking_code() -> String {
    random_code(CODE_LEN)
}

/// The letters of [`CODE_ALPHABET`] in byte order: written with these, a number's digits sort
/// as the number does.
const ORDERED_ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";

/// Hold ids are short enough to read out at a counter: `H`, four letters for the tenth of a
/// second the hold was made in (they come round every 25.6 hours), six random letters. Holds
/// made close together sort together, so a new hold and its claims land beside the last ones
/// in the tables keyed by hold id instead of on a random page of a season's worth of holds
/// (with random ids a large database read a page from disk for most holds, BENCHMARKS.md).
/// The six letters are 30 bits of chance per tenth of a second; a hold that draws an id
/// already taken draws again ([`insert_hold`]).
pub(crate) fn new_hold_id(now: DateTime<Utc>) -> String {
    let n = ORDERED_ALPHABET.len() as i64;
    let mut tick = now.timestamp_millis().div_euclid(100).rem_euclid(n.pow(4));
    let mut id = [b'H'; 5];
    for c in id[1..].iter_mut().rev() {
        *c = ORDERED_ALPHABET[(tick % n) as usize];
        tick /= n;
    }
    let mut id = String::from_utf8_lossy(&id).into_owned();
    id.push_str(&random_code(6));
    id
}

/// Normalises what a customer or clerk typed; rejects what cannot be an email address.
pub fn normalize_email(raw: &str) -> Result<String> {
    let email = raw.trim().to_lowercase();
    let bad = || {
        Error::invalid(format!(
            "`{}` is not an email address (name@example.com)",
            raw.trim().chars().take(80).collect::<String>()
        ))
    };
    if email.len() > 254
        || email
            .chars()
            .any(|c| c.is_whitespace() || crate::text::is_hidden_or_control(c))
    {
        return Err(bad());
    }
    let (local, domain) = email.split_once('@').ok_or_else(bad)?;
    // What a relay can send: a plain-ASCII name part, and a domain with an ASCII form (IDNA:
    // `müller.at` goes out as `xn--mller-kva.at`).
    if !local.is_ascii() || idna::domain_to_ascii(domain).is_err() {
        return Err(bad());
    }
    if local.is_empty()
        || domain.contains('@')
        || !domain.contains('.')
        || domain.starts_with('.')
        || domain.ends_with('.')
        || email.contains(['<', '>', ',', ';', '"', '\\'])
    {
        return Err(bad());
    }
    Ok(email)
}

/// Normalises a phone number to its international form (E.164, `+436641234567`), the one
/// form it is stored, matched and sent in: `0664 1234567` at a venue in `country` AT, `+43 (0)
/// 664 1234567` and `0043 664 1234567` are all the same number (libphonenumber's rules,
/// through the `phonenumber` crate). Without a country, a number needs its `+` and code.
pub fn normalize_phone(raw: &str, country: Option<&str>) -> Result<String> {
    let t = raw.trim();
    let bad = || {
        Error::invalid(
            "a phone number is digits, with its country code (+43 660 1234567) or as dialled in the venue's country",
        )
    };
    if !t
        .chars()
        .all(|c| c.is_ascii_digit() || " +-()/.".contains(c))
        || t[1.min(t.len())..].contains('+')
        || t.chars().filter(char::is_ascii_digit).count() > 17
    {
        return Err(bad());
    }
    let region = country.and_then(|c| c.parse::<phonenumber::country::Id>().ok());
    if region.is_none() && !t.starts_with('+') && !t.starts_with("00") {
        return Err(Error::invalid(
            "give the number with its country code, e.g. +43 660 1234567",
        ));
    }
    let number = phonenumber::parse(region, t).map_err(|_| bad())?;
    if !phonenumber::is_valid(&number) {
        return Err(Error::invalid(format!(
            "{} is not a phone number there: check the digits",
            t.chars().take(24).collect::<String>()
        )));
    }
    Ok(number.format().mode(phonenumber::Mode::E164).to_string())
}

/// A name as a person gave it, without control characters (no CR/LF into email headers).
pub fn clean_name(raw: &str) -> Result<Option<String>> {
    let name: String = raw.trim().to_string();
    if name.chars().any(|c| c.is_control()) {
        return Err(Error::invalid(
            "a name cannot contain line breaks or control characters",
        ));
    }
    crate::text::check_line("the name", &name).map_err(Error::invalid)?;
    if name.chars().count() > 200 {
        return Err(Error::invalid("a name is at most 200 characters"));
    }
    Ok((!name.is_empty()).then_some(name))
}

/// A customer's details as stored: the email trimmed and in lower case, the name and phone
/// cleaned. Checked once; a hold keeps them, and they become the customer's record when the
/// hold is paid.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Identity {
    pub email: String,
    pub name: Option<String>,
    pub phone: Option<String>,
}

impl Identity {
    /// `country` decides a phone number given without a country code (the venue's).
    pub(crate) fn of(c: &CustomerInfo, country: Option<&str>) -> Result<Identity> {
        Ok(Identity {
            email: normalize_email(&c.email)?,
            name: match &c.name {
                Some(n) => clean_name(n)?,
                None => None,
            },
            phone: match c.phone.as_deref().filter(|p| !p.trim().is_empty()) {
                Some(p) => Some(normalize_phone(p, country)?),
                None => None,
            },
        })
    }
}

/// A recorded customer's details (for a hold in their name: a waiting-list offer).
pub(crate) fn customer_identity(tx: &crate::store::Db, customer_id: i64) -> Result<Identity> {
    Ok(tx
        .prepare_cached("SELECT email, name, phone FROM customers WHERE id = ?1")?
        .query_row([customer_id], |r| {
            Ok(Identity {
                email: r.get(0)?,
                name: r.get(1)?,
                phone: r.get(2)?,
            })
        })?)
}

/// Finds or creates the customer by email, recording a name or phone given for the first time
/// or changed; returns the customer's id. A new customer takes one INSERT; a returning one is
/// written only when a detail changed (an upsert with RETURNING builds a temporary table).
pub(crate) fn record_customer(tx: &crate::store::Db, who: Identity) -> Result<i64> {
    let Identity { email, name, phone } = who;
    let inserted = tx
        .prepare_cached(
            "INSERT INTO customers (email, name, phone) VALUES (?1, ?2, ?3)
             ON CONFLICT (email) DO NOTHING",
        )?
        .execute(params![email, name, phone])?;
    if inserted == 1 {
        return Ok(tx.last_insert_rowid());
    }
    let (id, old_name, old_phone): (i64, Option<String>, Option<String>) = tx
        .prepare_cached("SELECT id, name, phone FROM customers WHERE email = ?1")?
        .query_row([&email], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    let name = name.or(old_name.clone());
    let phone = phone.or(old_phone.clone());
    if name != old_name || phone != old_phone {
        tx.prepare_cached("UPDATE customers SET name = ?2, phone = ?3 WHERE id = ?1")?
            .execute(params![id, name, phone])?;
    }
    Ok(id)
}

/// Turns a hold into a confirmed booking row with a fresh code; returns the booking's id.
pub(crate) fn insert_booking(
    tx: &crate::store::Db,
    hold_id: &str,
    customer_id: i64,
    total_cents: i64,
    method: &str,
    now: DateTime<Utc>,
) -> Result<i64> {
    for _ in 0..8 {
        let code = new_booking_code();
        let taken: bool = tx
            .prepare_cached("SELECT EXISTS (SELECT 1 FROM bookings WHERE code = ?1)")?
            .query_row([&code], |r| r.get(0))?;
        if taken {
            continue;
        }
        tx.prepare_cached("INSERT INTO bookings (code, concert_id, customer_id, hold_id, total_cents, currency, method, state, created_at)
             SELECT ?1, h.concert_id, ?6, h.id, ?3, co.currency, ?4, 'confirmed', ?5
             FROM holds h JOIN concerts co ON co.id = h.concert_id WHERE h.id = ?2")?.execute(params![code, hold_id, total_cents, method, ts(now), customer_id],
        )?;
        return Ok(tx.last_insert_rowid());
    }
    Err(Error::invalid(
        "could not find a free booking code; try again",
    ))
}

/// The claims of hold `h` as a join, `claims cl` found through the seats it lists
/// (`holds.seats`, as `j`): one lookup by key per seat. CROSS JOIN keeps SQLite from starting
/// at the concert's claims.
macro_rules! held_by {
    () => {
        "json_each(h.seats) j CROSS JOIN claims cl ON cl.concert_id = h.concert_id
           AND cl.seat_id = j.value ->> 0 AND cl.hold_id = h.id"
    };
}
pub(crate) use held_by;

/// One claim of a hold, as a condition for [`each_claim`]: `?1` the concert, `?2` the seat,
/// `?3` the hold.
macro_rules! claim_key {
    () => {
        "concert_id = ?1 AND seat_id = ?2 AND hold_id = ?3"
    };
}

/// Runs `sql` (an UPDATE or DELETE of one claim by [`claim_key`], then `extra` as `?4`, ...)
/// on each seat hold `hold_id` lists: the same claims as [`held_by`] joins, the hold's among
/// those in force. Returns the rows changed (0 for a hold that does not exist).
///
/// One keyed statement a seat: written as one statement, `(concert_id, seat_id) IN (SELECT
/// ... json_each(h.seats) ...)`, SQLite built a temporary table for the list every time,
/// which was a sixth of a payment's work (three times a payment).
pub(crate) fn each_claim(
    tx: &crate::store::Db,
    hold_id: &str,
    sql: &'static str,
    extra: &[&dyn rusqlite::ToSql],
) -> Result<usize> {
    let Some(Listed {
        concert_id, seats, ..
    }) = listed_seats(tx, ClaimsOf::Hold(hold_id))?
    else {
        return Ok(0);
    };
    let mut st = tx.prepare_cached(sql)?;
    let mut changed = 0;
    let mut values: Vec<&dyn rusqlite::ToSql> = Vec::with_capacity(3 + extra.len());
    for (seat_id, _) in &seats {
        values.clear();
        values.extend([&concert_id as &dyn rusqlite::ToSql, seat_id, &hold_id]);
        values.extend_from_slice(extra);
        changed += st.execute(values.as_slice())?;
    }
    Ok(changed)
}

/// Ends a hold as `state` (`expired`, `released`, `declined`), if it is still in state `from`
/// when one is given: the seats it claims are free again (claims already part of a booking
/// stay). The one way a hold ends; what follows (an offer moving on, the waiting list) is the
/// caller's.
pub(crate) fn end_hold(
    tx: &crate::store::Db,
    hold_id: &str,
    state: &str,
    from: Option<&str>,
    now: DateTime<Utc>,
) -> Result<()> {
    tx.prepare_cached(
        "UPDATE holds SET state = ?2, ended_at = ?3 WHERE id = ?1 AND (?4 IS NULL OR state = ?4)",
    )?
    .execute(params![hold_id, state, ts(now), from])?;
    each_claim(
        tx,
        hold_id,
        concat!(
            "DELETE FROM claims WHERE ",
            claim_key!(),
            " AND booking_id IS NULL"
        ),
        &[],
    )?;
    Ok(())
}

/// What settling a hold's unanswered charge came to.
enum Settled {
    /// The hold has no such charge (it is being paid elsewhere).
    NothingUnanswered,
    /// The charge had been taken: its booking.
    Booked(Receipt),
    /// The processor never saw it: fenced, and the hold is live again.
    Released,
}

/// Records a charge that arrived for a hold that can no longer be paid (it ended, or its payment
/// was given up), queues its refund under a key derived from the charge's, and tells the
/// person: the money is never kept without a booking.
fn refund_late_charge(
    tx: &crate::store::Db,
    key: &str,
    h: &HoldRow,
    reference: &str,
    detail: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    let (processor, amount, currency): (String, i64, String) = tx
        .prepare_cached(
            "SELECT processor, amount_cents, currency FROM payments WHERE idempotency_key = ?1",
        )?
        .query_row([key], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    tx.prepare_cached("UPDATE payments SET state = 'captured', reference = ?2, detail = ?3, updated_at = ?4 WHERE idempotency_key = ?1")?
        .execute(params![key, reference, detail, ts(now)])?;
    tx.prepare_cached("INSERT INTO payments (kind, idempotency_key, hold_id, processor, amount_cents, currency, state, reference, created_at, updated_at)
         VALUES ('refund', 'refund-' || ?1, ?2, ?3, ?4, ?5, 'pending', ?6, ?7, ?7)")?
        .execute(params![key, h.id, processor, amount, currency, reference, ts(now)])?;
    let customer = record_customer(tx, h.who.clone())?;
    let notice = crate::notify::late_charge_refunded(
        tx,
        &h.id,
        h.who.name.as_deref(),
        &Money::new(amount, &currency),
        detail,
    )?;
    crate::notify::queue(tx, customer, &notice, now)
}

/// Ends every live hold whose time is up: its seats are free again, an expired waiting-list
/// offer moves on to the next person. Returns the holds ended.
pub(crate) fn expire_holds_tx(tx: &crate::store::Db, now: DateTime<Utc>) -> Result<Vec<String>> {
    let expired: Vec<(String, i64, String)> = {
        let mut st = tx.prepare_cached(
            "SELECT id, concert_id, kind FROM holds WHERE state = 'live' AND expires_at <= ?1",
        )?;
        st.query_map([ts(now)], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<rusqlite::Result<_>>()?
    };
    let mut concerts: Vec<i64> = Vec::new();
    for (id, concert, kind) in &expired {
        end_hold(tx, id, "expired", None, now)?;
        if kind == "offer" {
            crate::waitlist::end_offer(tx, id, "expired", now)?;
        }
        if !concerts.contains(concert) {
            concerts.push(*concert);
        }
    }
    for concert in concerts {
        crate::waitlist::seats_freed(tx, concert, now)?;
    }
    Ok(expired.into_iter().map(|e| e.0).collect())
}

struct HoldRow {
    id: String,
    concert_id: i64,
    /// The person it is for, as given.
    who: Identity,
    state: String,
    expires_at: DateTime<Utc>,
    created_at: DateTime<Utc>,
    kind: String,
    gap_override: bool,
}

fn load_hold(conn: &crate::store::Db, id: &str) -> Result<HoldRow> {
    conn.prepare_cached("SELECT id, concert_id, email, name, phone, state, expires_at, created_at, kind, gap_override FROM holds
         WHERE id = ?1 AND kind != 'pool'")?.query_row([id.trim().to_ascii_uppercase()],
        |r| {
            Ok(HoldRow {
                id: r.get(0)?,
                concert_id: r.get(1)?,
                who: Identity {
                    email: r.get(2)?,
                    name: r.get(3)?,
                    phone: r.get(4)?,
                },
                state: r.get(5)?,
                expires_at: from_ts(r.get(6)?),
                created_at: from_ts(r.get(7)?),
                kind: r.get(8)?,
                gap_override: r.get(9)?,
            })
        },
    )
    .optional()?
    .ok_or_else(|| Error::HoldNotFound(id.trim().to_string()))
}

/// Whose claims: a hold's or a booking's.
pub(crate) enum ClaimsOf<'a> {
    Hold(&'a str),
    Booking(i64),
}

/// A seat as claimed by a hold or booking.
pub(crate) struct ClaimedSeat {
    pub label: String,
    /// The category's code, and its name at the venue.
    pub category: String,
    pub category_name: String,
    pub price_cents: i64,
}

/// The seats a hold or a booking claims (or claimed: as the hold lists them), in layout order.
/// The list is read once and each seat by its key: joined through `json_each`, with SQLite
/// sorting the rows, this was a tenth of a booking's confirmation.
pub(crate) fn claimed_seats(conn: &crate::store::Db, of: ClaimsOf<'_>) -> Result<Vec<ClaimedSeat>> {
    let Some(listed) = listed_seats(conn, of)? else {
        return Ok(Vec::new());
    };
    let mut st = conn.prepare_cached(
        "SELECT s.label, s.category, coalesce(k.name, s.category), s.grid_y, s.grid_x
         FROM seats s LEFT JOIN categories k ON k.venue_id = s.venue_id AND k.code = s.category
         WHERE s.id = ?1",
    )?;
    let mut seats: Vec<((i64, i64), ClaimedSeat)> = Vec::new();
    for (seat_id, price_cents) in listed.seats {
        let found = st
            .query_row([seat_id], |r| {
                Ok((
                    (r.get(3)?, r.get(4)?),
                    ClaimedSeat {
                        label: r.get(0)?,
                        category: r.get(1)?,
                        category_name: r.get(2)?,
                        price_cents,
                    },
                ))
            })
            .optional()?;
        seats.extend(found);
    }
    seats.sort_by_key(|s| s.0);
    Ok(seats.into_iter().map(|s| s.1).collect())
}

/// A hold's concert and the seats it lists (`holds.seats`, [`seat_list`]).
struct Listed {
    concert_id: i64,
    /// `(seat id, price in cents)`, as the hold was made.
    seats: Vec<(i64, i64)>,
}

/// The seats a hold lists, or a booking's hold; `None` if there is no such hold or booking.
/// The one reader of `holds.seats` outside SQL ([`held_by`] is the one inside).
fn listed_seats(conn: &crate::store::Db, of: ClaimsOf<'_>) -> Result<Option<Listed>> {
    let row = |r: &rusqlite::Row<'_>| -> rusqlite::Result<(String, i64, String)> {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?))
    };
    let found = match of {
        ClaimsOf::Hold(id) => conn
            .prepare_cached("SELECT id, concert_id, seats FROM holds WHERE id = ?1")?
            .query_row([id], row)
            .optional()?,
        ClaimsOf::Booking(id) => conn
            .prepare_cached(
                "SELECT h.id, h.concert_id, h.seats FROM bookings b JOIN holds h ON h.id = b.hold_id
                 WHERE b.id = ?1",
            )?
            .query_row([id], row)
            .optional()?,
    };
    let Some((hold_id, concert_id, listed)) = found else {
        return Ok(None);
    };
    let seats = serde_json::from_str(&listed)
        .map_err(|e| Error::Corrupt(format!("hold {hold_id} lists its seats unreadably ({e})")))?;
    Ok(Some(Listed { concert_id, seats }))
}

/// The currency a concert sells in.
fn concert_currency(conn: &crate::store::Db, concert_id: i64) -> Result<String> {
    Ok(conn
        .prepare_cached("SELECT currency FROM concerts WHERE id = ?1")?
        .query_row([concert_id], |r| r.get(0))?)
}

fn hold_view(conn: &crate::store::Db, h: &HoldRow) -> Result<Hold> {
    let seats = claimed_seats(conn, ClaimsOf::Hold(&h.id))?;
    let currency = concert_currency(conn, h.concert_id)?;
    Ok(Hold {
        hold_id: h.id.clone(),
        kind: h.kind.clone(),
        replaced: None,
        gap_override: h.gap_override,
        concert_id: h.concert_id,
        customer: h.who.email.clone(),
        total_cents: seats.iter().map(|s| s.price_cents).sum(),
        seats: seats.into_iter().map(|s| s.label).collect(),
        created_at: h.created_at,
        expires_at: h.expires_at,
        currency,
        state: h.state.clone(),
    })
}

fn booking_code_for_hold(conn: &crate::store::Db, hold_id: &str) -> Result<String> {
    Ok(conn
        .query_row(
            "SELECT code FROM bookings WHERE hold_id = ?1",
            [hold_id],
            |r| r.get(0),
        )
        .optional()?
        .unwrap_or_default())
}

/// Refuses a hold that is not live, naming why.
fn ensure_live(conn: &crate::store::Db, h: &HoldRow, now: DateTime<Utc>) -> Result<()> {
    match h.state.as_str() {
        "live" if h.expires_at > now => Ok(()),
        "live" | "expired" => Err(Error::HoldExpired {
            id: h.id.clone(),
            at: h.expires_at,
        }),
        "paid" => Err(Error::AlreadyPaid {
            id: h.id.clone(),
            code: booking_code_for_hold(conn, &h.id)?,
        }),
        "paying" => Err(Error::PaymentInProgress(h.id.clone())),
        other => Err(Error::HoldNotLive {
            id: h.id.clone(),
            state: other.to_string(),
        }),
    }
}

/// How a hold picks its seats.
enum Selection<'a> {
    /// These labels; `true` when the clerk overrides the single-seat-gap rule.
    Seats(&'a [String], bool),
    Best(&'a BestRequest),
}

/// Best-available: `count` seats, optionally of one category and at most a price.
#[derive(Debug, Clone, Default)]
pub struct BestRequest {
    pub count: usize,
    pub category: Option<String>,
    pub max_price_cents: Option<i64>,
    /// Take the best split when no row has `count` seats together.
    pub allow_split: bool,
}

impl BestRequest {
    /// Whether a seat is one this request may get: of its category (in any case) and at most
    /// its price. The one rule for a best-available hold and the seat map's preview of it.
    fn accepts(&self) -> impl Fn(&crate::fairness::SeatPos) -> bool + '_ {
        let category = self.category.as_ref().map(|c| c.to_ascii_uppercase());
        move |s| {
            category.as_deref().is_none_or(|c| c == &*s.category)
                && self.max_price_cents.is_none_or(|m| s.price_cents <= m)
        }
    }
}

pub(crate) struct ConcertRules {
    pub venue_id: i64,
    pub currency: String,
    pub on_sale_at: i64,
    pub hold_minutes: i64,
    pub offer_minutes: i64,
    pub ticket_limit: i64,
    pub status: String,
    /// The price of each seat category, in cents.
    pub prices: Vec<(String, i64)>,
}

/// A concert's rules and prices, in one statement (a hold needs both, and each statement is
/// a visit to the statement cache).
pub(crate) fn concert_rules(tx: &crate::store::Db, concert_id: i64) -> Result<ConcertRules> {
    let mut st = tx.prepare_cached(concat!(
        "SELECT co.venue_id, co.on_sale_at, co.hold_minutes, co.offer_minutes, co.ticket_limit,
                co.status, co.currency, p.category, p.price_cents
             FROM concerts co LEFT JOIN prices p ON p.concert_id = co.id
             WHERE co.id = ?1 AND ",
        crate::in_catalog!("co")
    ))?;
    let mut rows = st.query([concert_id])?;
    let Some(r) = rows.next()? else {
        return Err(Error::ConcertNotFound(concert_id.to_string()));
    };
    let mut rules = ConcertRules {
        venue_id: r.get(0)?,
        on_sale_at: r.get(1)?,
        hold_minutes: r.get(2)?,
        offer_minutes: r.get(3)?,
        ticket_limit: r.get(4)?,
        status: r.get(5)?,
        currency: r.get(6)?,
        prices: Vec::new(),
    };
    let mut row = Some(r);
    while let Some(r) = row {
        if let Some(category) = r.get::<_, Option<String>>(7)? {
            rules.prices.push((category, r.get(8)?));
        }
        row = rows.next()?;
    }
    Ok(rules)
}

/// The seats a hold names: ids, labels and prices, and grid positions `(id, line, column)`.
struct Resolved {
    seats: Vec<(i64, String, i64)>,
    positions: Vec<(i64, i64, i64)>,
}

/// Looks up the labels asked for in the connection's [`SeatIndex`] and their prices (from the
/// concert's rules, read in the transaction); every unknown label (or one without a price) is
/// named.
fn resolve_seats(
    tx: &crate::store::Db,
    index: &mut SeatIndex,
    rules: &ConcertRules,
    wanted: &[String],
) -> Result<Resolved> {
    let mut out = Resolved {
        seats: Vec::with_capacity(wanted.len()),
        positions: Vec::with_capacity(wanted.len()),
    };
    let mut unknown = Vec::new();
    for l in wanted {
        let Some((line, seat)) = index.find(tx, rules.venue_id, l)? else {
            unknown.push(l.clone());
            continue;
        };
        let price = rules
            .prices
            .iter()
            .find(|p| *p.0 == *seat.category)
            .map(|p| p.1);
        match price {
            Some(price) => {
                out.seats.push((seat.id, l.clone(), price));
                out.positions.push((seat.id, line, seat.x));
            }
            None => unknown.push(l.clone()),
        }
    }
    if !unknown.is_empty() {
        return Err(Error::UnknownSeats(unknown));
    }
    Ok(out)
}

/// Every customer who is the same person as `customer_id`: the same email, or the same phone
/// (for the waiting list, whose entries are customers').
pub(crate) fn same_person_ids(tx: &crate::store::Db, customer_id: i64) -> Result<Vec<i64>> {
    let phone: Option<String> = tx
        .prepare_cached("SELECT phone FROM customers WHERE id = ?1")?
        .query_row([customer_id], |r| r.get(0))
        .optional()?
        .flatten();
    let mut ids = vec![customer_id];
    if let Some(phone) = phone {
        let mut st = tx.prepare_cached("SELECT id FROM customers WHERE phone = ?1")?;
        for id in st.query_map([phone], |r| r.get::<_, i64>(0))? {
            let id = id?;
            if id != customer_id {
                ids.push(id);
            }
        }
    }
    Ok(ids)
}

/// Ids as a JSON array, for `IN (SELECT value FROM json_each(?))`: one statement, cached,
/// whatever the number of ids.
pub(crate) fn json_ids(ids: &[i64]) -> String {
    format!(
        "[{}]",
        ids.iter()
            .map(|i| i.to_string())
            .collect::<Vec<_>>()
            .join(",")
    )
}

/// Who counts as the same person as someone giving an [`Identity`], for the ticket limit and
/// the one live hold per concert: the same email, or the same phone (the one given, else the
/// one their customer record has); a customer recorded with that phone is the same person
/// under another email.
pub(crate) struct Person {
    emails: Vec<String>,
    phone: Option<String>,
}

impl Person {
    pub(crate) fn of(tx: &crate::store::Db, who: &Identity) -> Result<Person> {
        let phone = match &who.phone {
            Some(p) => Some(p.clone()),
            None => tx
                .prepare_cached("SELECT phone FROM customers WHERE email = ?1")?
                .query_row([&who.email], |r| r.get::<_, Option<String>>(0))
                .optional()?
                .flatten(),
        };
        let mut emails = vec![who.email.clone()];
        if let Some(phone) = &phone {
            let mut st = tx.prepare_cached("SELECT email FROM customers WHERE phone = ?1")?;
            for email in st.query_map([phone], |r| r.get::<_, String>(0))? {
                let email = email?;
                if !emails.contains(&email) {
                    emails.push(email);
                }
            }
        }
        Ok(Person { emails, phone })
    }

    /// Whether a hold made with these details (as stored) is this person's.
    fn owns(&self, email: &str, phone: Option<&str>) -> bool {
        self.emails.iter().any(|e| e == email)
            || self.phone.as_deref().is_some_and(|p| phone == Some(p))
    }
}

/// One of a person's holds on a concert, and how many seats it claims now (booked ones
/// included: a paid hold's claims are its booking's).
pub(crate) struct PersonHold {
    id: String,
    kind: String,
    state: String,
    created_at: i64,
    pub claims: i64,
}

/// The person's holds on a concert, in any state (the waiting list's pool aside), found by each
/// of their emails and by their phone: an indexed look-up per identity, almost always one or
/// two, each reading the person's few holds rather than the concert's many.
pub(crate) fn person_holds(
    tx: &crate::store::Db,
    concert_id: i64,
    person: &Person,
) -> Result<Vec<PersonHold>> {
    macro_rules! by {
        ($column:literal) => {
            concat!(
                "SELECT id, kind, state, created_at, (SELECT count(*) FROM ",
                held_by!(),
                ") FROM holds h WHERE ",
                $column,
                " = ?1 AND concert_id = ?2 AND kind != 'pool'"
            )
        };
    }
    let map = |r: &rusqlite::Row<'_>| {
        Ok(PersonHold {
            id: r.get(0)?,
            kind: r.get(1)?,
            state: r.get(2)?,
            created_at: r.get(3)?,
            claims: r.get(4)?,
        })
    };
    let mut out: Vec<PersonHold> = Vec::new();
    let mut add = |found: rusqlite::Result<PersonHold>| -> Result<()> {
        let found = found?;
        if !out.iter().any(|h| h.id == found.id) {
            out.push(found);
        }
        Ok(())
    };
    let mut st = tx.prepare_cached(by!("email"))?;
    for email in &person.emails {
        for found in st.query_map(params![email, concert_id], map)? {
            add(found)?;
        }
    }
    if let Some(phone) = &person.phone {
        let mut st = tx.prepare_cached(by!("phone"))?;
        for found in st.query_map(params![phone, concert_id], map)? {
            add(found)?;
        }
    }
    Ok(out)
}

/// One live hold per person per concert: an earlier one is released, and said so. Its seats
/// no longer count among the person's.
fn replace_earlier_hold(
    tx: &crate::store::Db,
    holds: &mut [PersonHold],
    now: DateTime<Utc>,
) -> Result<Option<ReplacedHold>> {
    let Some(earlier) = holds
        .iter_mut()
        .filter(|h| h.kind == "sale" && h.state == "live")
        .max_by_key(|h| h.created_at)
    else {
        return Ok(None);
    };
    let seats = claimed_seats(tx, ClaimsOf::Hold(&earlier.id))?
        .into_iter()
        .map(|s| s.label)
        .collect();
    end_hold(tx, &earlier.id, "released", None, now)?;
    earlier.state = "released".into();
    earlier.claims = 0;
    Ok(Some(ReplacedHold {
        hold_id: earlier.id.clone(),
        seats,
    }))
}

/// Refuses seats claimed by someone else, naming them (and saying when they are kept for the
/// waiting list). Only asks about the seats `claimed` says have a claim. A claim the
/// seat-status rule calls free (its hold ran out; the sweep ends it) or the person's own live
/// hold on the concert (it is replaced) does not count, so this can run before the hold
/// writes anything: in an on-sale rush most attempts end here, costing one pass of the claim
/// index over the seats' row window and this look-up, not a rolled-back write. The person is
/// looked up (into `person`) only if a claim's hold could be theirs.
fn refuse_claimed(
    tx: &crate::store::Db,
    concert_id: i64,
    seats: &[(i64, String, i64)],
    claimed: impl Fn(i64) -> bool,
    who: &Identity,
    person: &mut Option<Person>,
    now: DateTime<Utc>,
) -> Result<()> {
    let asked: Vec<i64> = seats
        .iter()
        .map(|s| s.0)
        .filter(|id| claimed(*id))
        .collect();
    let (Some(&first), Some(&last)) = (asked.iter().min(), asked.iter().max()) else {
        return Ok(());
    };
    // The claims from the first to the last seat asked about in one pass (the seats of a
    // selection are neighbours), with their status; bound by position (a named parameter
    // costs a look-up): the status rule's `:now` becomes `?4`.
    static SQL: LazyLock<String> = LazyLock::new(|| {
        format!(
            "SELECT cl.seat_id, {SEAT_STATUS_SQL}, cl.hold_id FROM claims cl
             WHERE cl.concert_id = ?1 AND cl.seat_id BETWEEN ?2 AND ?3"
        )
        .replace(":now", "?4")
    });
    let mut claims: Vec<SelectedClaim> = Vec::with_capacity(asked.len());
    {
        let mut st = tx.prepare_cached(&SQL)?;
        let mut rows = st.query(params![concert_id, first, last, ts(now)])?;
        while let Some(r) = rows.next()? {
            let seat_id: i64 = r.get(0)?;
            if asked.contains(&seat_id) {
                claims.push(SelectedClaim {
                    seat_id,
                    status: r.get(1)?,
                    hold_id: r.get(2)?,
                });
            }
        }
    }
    let mut taken = Vec::new();
    let mut reserved = 0;
    // The holds behind the claims, each asked about once: is it the person's live hold?
    let mut theirs: Vec<(&str, bool)> = Vec::new();
    for (seat_id, label, _) in seats {
        let Some(claim) = claims.iter().find(|c| c.seat_id == *seat_id) else {
            continue;
        };
        match claim.status.as_str() {
            "free" => continue,
            "held" => {
                let own = match theirs.iter().find(|t| t.0 == claim.hold_id) {
                    Some(t) => t.1,
                    None => {
                        let (live_sale, email, phone): (bool, String, Option<String>) = tx
                            .prepare_cached(
                                "SELECT kind = 'sale' AND state = 'live', email, phone
                                 FROM holds WHERE id = ?1",
                            )?
                            .query_row([&claim.hold_id], |r| {
                                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                            })?;
                        let own = live_sale && {
                            if person.is_none() {
                                *person = Some(Person::of(tx, who)?);
                            }
                            person
                                .as_ref()
                                .is_some_and(|p| p.owns(&email, phone.as_deref()))
                        };
                        theirs.push((&claim.hold_id, own));
                        own
                    }
                };
                if own {
                    continue;
                }
            }
            _ => {}
        }
        taken.push(label.clone());
        reserved += usize::from(claim.status == "reserved");
    }
    match taken.len() {
        0 => Ok(()),
        n if reserved == n => Err(Error::ReservedForWaitlist(taken)),
        _ => Err(Error::SeatsTaken(taken)),
    }
}

/// A claim on one of the seats a hold names: the seat's status by the seat-status rule, and
/// the hold that claims it.
struct SelectedClaim {
    seat_id: i64,
    status: String,
    hold_id: String,
}

/// Which seats the fairness geometry counts as free.
#[derive(Clone)]
pub(crate) enum FreeRule {
    /// No claim (inside a write transaction, after expired holds were swept).
    NoClaim,
    /// No claim, or a hold whose time is up at this instant (for reads).
    NoClaimOrExpired(i64),
    /// Only the seats kept for the waiting list by this pool hold.
    Pool(String),
}

impl FreeRule {
    /// What the claim statements bind: `:unclaimed` (whether a seat the seat-status rule
    /// calls free counts as free), `:pool` and `:now`. Inside a write transaction expired holds
    /// were swept already, so `now` is the earliest time (nothing counts as run out).
    fn binds(&self) -> (bool, String, i64) {
        match self {
            FreeRule::NoClaim => (true, String::new(), i64::MIN),
            FreeRule::NoClaimOrExpired(now) => (true, String::new(), *now),
            FreeRule::Pool(p) => (false, p.clone(), i64::MIN),
        }
    }
}

/// Free for the geometry: the pool's own seats (for its offers), else what the seat-status
/// rule calls free at `:now`, counted as `:unclaimed`.
static FREEDOM: LazyLock<String> = LazyLock::new(|| {
    format!(
        "CASE WHEN cl.hold_id = :pool THEN 1 WHEN {SEAT_STATUS_SQL} = 'free' THEN :unclaimed ELSE 0 END"
    )
});

/// Every seat of the concert's hall with its freedom, and the stage centre, for the fairness
/// geometry ("best available", the waiting list's offers).
pub(crate) fn load_geometry(
    tx: &crate::store::Db,
    concert_id: i64,
    venue_id: i64,
    rule: FreeRule,
) -> Result<(Vec<crate::fairness::SeatPos>, f64)> {
    let (unclaimed, pool, now) = rule.binds();
    static WHOLE: LazyLock<String> = LazyLock::new(|| {
        format!(
            "SELECT s.id, s.label, s.category, p.price_cents, s.grid_x, s.grid_y, {FREEDOM}
             FROM seats s JOIN prices p ON p.concert_id = :concert AND p.category = s.category
             LEFT JOIN claims cl ON cl.concert_id = :concert AND cl.seat_id = s.id
             WHERE s.venue_id = :venue",
            FREEDOM = *FREEDOM
        )
    });
    let width: i64 = tx
        .prepare_cached("SELECT width FROM venues WHERE id = ?1")?
        .query_row([venue_id], |r| r.get(0))?;
    let centre = (width - 1).max(0) as f64 / 2.0;
    let mut st = tx.prepare_cached(&WHOLE)?;
    let rows = st.query_map(
        named_params! {
            ":concert": concert_id, ":venue": venue_id, ":unclaimed": unclaimed,
            ":pool": pool, ":now": now,
        },
        |r| {
            Ok(crate::fairness::SeatPos {
                id: r.get(0)?,
                label: r.get(1)?,
                category: r.get(2)?,
                price_cents: r.get(3)?,
                x: r.get(4)?,
                y: r.get(5)?,
                free: r.get(6)?,
            })
        },
    )?;
    let seats = rows.collect::<rusqlite::Result<Vec<_>>>()?;
    Ok((seats, centre))
}

/// Grid positions `(id, line, column)` of seats, for the single-seat-gap rule.
fn seat_positions(conn: &crate::store::Db, seat_ids: &[i64]) -> Result<Vec<(i64, i64, i64)>> {
    let mut st = conn.prepare_cached("SELECT grid_y, grid_x FROM seats WHERE id = ?1")?;
    seat_ids
        .iter()
        .map(|id| Ok(st.query_row([id], |r| Ok((*id, r.get(0)?, r.get(1)?)))?))
        .collect()
}

/// The seats around a selection that decide whether it strands one: a seat can only become
/// stranded next to a newly taken one, and whether it is depends on the seat beyond it, so two
/// columns either side of the selection in each row are enough. Takes `(id, line, column)`.
fn gap_window(
    conn: &crate::store::Db,
    index: &mut SeatIndex,
    concert_id: i64,
    venue_id: i64,
    selection: &[(i64, i64, i64)],
    rule: FreeRule,
) -> Result<Vec<crate::fairness::SeatPos>> {
    let mut windows: Vec<(i64, i64, i64)> = Vec::new();
    for &(_, y, x) in selection {
        match windows.iter_mut().find(|w| w.0 == y) {
            Some(w) => {
                w.1 = w.1.min(x - 2);
                w.2 = w.2.max(x + 2);
            }
            None => windows.push((y, x - 2, x + 2)),
        }
    }
    let (unclaimed, pool, now) = rule.binds();
    // The seats from the connection's seat index (prices are not needed: 0), then the claims
    // on the range of their ids in one pass of the claim index.
    let mut seats = Vec::new();
    for (y, x0, x1) in windows {
        let row = index.row(conn, venue_id, y)?;
        seats.extend(row.iter().filter(|s| (x0..=x1).contains(&s.x)).map(|s| {
            crate::fairness::SeatPos {
                id: s.id,
                label: s.label.clone(),
                category: s.category.clone(),
                price_cents: 0,
                x: s.x,
                y,
                free: unclaimed,
            }
        }));
    }
    let (Some(lo), Some(hi)) = (
        seats.iter().map(|s| s.id).min(),
        seats.iter().map(|s| s.id).max(),
    ) else {
        return Ok(seats);
    };
    let mut mark = |id: i64, free: bool| {
        if let Some(s) = seats.iter_mut().find(|s| s.id == id) {
            s.free = free;
        }
    };
    if let FreeRule::NoClaim = rule {
        // Every claim makes its seat taken: the claims' own key answers.
        let mut st = conn.prepare_cached(
            "SELECT seat_id FROM claims WHERE concert_id = ?1 AND seat_id BETWEEN ?2 AND ?3",
        )?;
        for id in st.query_map(params![concert_id, lo, hi], |r| r.get::<_, i64>(0))? {
            mark(id?, false);
        }
        return Ok(seats);
    }
    static CLAIMS: LazyLock<String> = LazyLock::new(|| {
        format!(
            "SELECT cl.seat_id, {FREEDOM} FROM claims cl
             WHERE cl.concert_id = :concert AND cl.seat_id BETWEEN :lo AND :hi",
            FREEDOM = *FREEDOM
        )
    });
    let mut st = conn.prepare_cached(&CLAIMS)?;
    let claimed = st.query_map(
        named_params! {
            ":concert": concert_id, ":unclaimed": unclaimed, ":pool": pool,
            ":now": now, ":lo": lo, ":hi": hi,
        },
        |r| Ok((r.get::<_, i64>(0)?, r.get::<_, bool>(1)?)),
    )?;
    for c in claimed {
        let (id, free) = c?;
        mark(id, free);
    }
    Ok(seats)
}

/// Whether taking `seat_ids` would strand a single seat, and (if `suggest`) a selection of the
/// same size and category that would not. One rule for the hold (inside its transaction, with
/// [`FreeRule::NoClaim`]) and for the seat map's advice (a read, with expired holds free).
/// `near` is the selection's [`gap_window`].
fn gap_verdict(
    conn: &crate::store::Db,
    concert_id: i64,
    venue_id: i64,
    seat_ids: &[i64],
    near: &[crate::fairness::SeatPos],
    rule: FreeRule,
    suggest: bool,
) -> Result<Option<GapAdvice>> {
    let geo = crate::fairness::Geometry::new(near, 0.0);
    let idx: Vec<usize> = seat_ids.iter().filter_map(|id| geo.index_of(*id)).collect();
    let stranded = geo.new_gaps(&idx);
    if stranded.is_empty() {
        return Ok(None);
    }
    if !suggest {
        return Ok(Some(GapAdvice {
            stranded,
            suggestion: None,
        }));
    }
    // Only now the whole hall: is there a selection of this size that strands nobody?
    let category = near[idx[0]].category.clone();
    let (all, centre) = load_geometry(conn, concert_id, venue_id, rule)?;
    let suggestion = crate::fairness::Geometry::new(&all, centre)
        .best(seat_ids.len(), |s| s.category == category)
        .filter(|p| p.together && p.gap_free)
        .map(|p| p.labels);
    Ok(Some(GapAdvice {
        stranded,
        suggestion,
    }))
}

/// The seat map's advice for a selection (see [`gap_verdict`]).
pub(crate) fn gap_advice(
    conn: &crate::store::Db,
    index: &mut SeatIndex,
    concert_id: i64,
    venue_id: i64,
    seat_ids: &[i64],
    rule: FreeRule,
    suggest: bool,
) -> Result<Option<GapAdvice>> {
    if seat_ids.is_empty() {
        return Ok(None);
    }
    let positions = seat_positions(conn, seat_ids)?;
    let near = gap_window(conn, index, concert_id, venue_id, &positions, rule.clone())?;
    gap_verdict(conn, concert_id, venue_id, seat_ids, &near, rule, suggest)
}

/// Inside the hold's transaction, the single-seat-gap rule on the selection's [`gap_window`].
/// Returns whether the selection strands a seat (allowed only with the clerk's override, or
/// when no selection of the same size would avoid it).
fn check_gap(
    tx: &crate::store::Db,
    concert_id: i64,
    venue_id: i64,
    seats: &[(i64, String, i64)],
    near: &[crate::fairness::SeatPos],
    allow_gap: bool,
) -> Result<bool> {
    let ids: Vec<i64> = seats.iter().map(|s| s.0).collect();
    match gap_verdict(
        tx,
        concert_id,
        venue_id,
        &ids,
        near,
        FreeRule::NoClaim,
        !allow_gap,
    )? {
        None => Ok(false),
        Some(GapAdvice {
            stranded,
            suggestion: Some(suggestion),
        }) if !allow_gap => Err(Error::WouldStrandSeat {
            stranded,
            suggestion,
        }),
        // The clerk's override, or no selection of this size avoids a gap: allowed, as
        // seat-map services do.
        Some(_) => Ok(true),
    }
}

fn pick_best(
    tx: &crate::store::Db,
    concert_id: i64,
    venue_id: i64,
    b: &BestRequest,
) -> Result<Vec<(i64, String, i64)>> {
    let (all, centre) = load_geometry(tx, concert_id, venue_id, FreeRule::NoClaim)?;
    let geo = crate::fairness::Geometry::new(&all, centre);
    let pick = geo.best(b.count, b.accepts()).ok_or_else(|| {
        Error::NotEnoughSeats(format!(
            "fewer than {} seats{}{} are free",
            b.count,
            b.category
                .as_deref()
                .map(|c| format!(" of category {}", c.to_ascii_uppercase()))
                .unwrap_or_default(),
            b.max_price_cents
                .map(|m| format!(" at {} or less", Money::new(m, "")))
                .unwrap_or_default()
        ))
    })?;
    if !pick.together && !b.allow_split {
        return Err(Error::NotTogether {
            n: b.count,
            suggestion: pick.labels,
        });
    }
    Ok(pick
        .ids
        .iter()
        .zip(&pick.labels)
        .map(|(id, label)| {
            let price = all
                .iter()
                .find(|s| s.id == *id)
                .map(|s| s.price_cents)
                .unwrap_or(0);
            (*id, label.clone(), price)
        })
        .collect())
}

/// Runs `insert` (a hold's INSERT) with ids from `ids` until one is not taken, and returns it.
/// Ids made in the same tenth of a second share their first five letters, and a bulk insert
/// (the demo's sales) makes thousands in one: a repeat of the six random letters is rare, not
/// impossible.
pub(crate) fn with_new_hold_id(
    ids: &mut dyn FnMut() -> String,
    mut insert: impl FnMut(&str) -> rusqlite::Result<usize>,
) -> Result<String> {
    let mut tries = 0;
    loop {
        let id = ids();
        match insert(&id) {
            Ok(_) => return Ok(id),
            Err(rusqlite::Error::SqliteFailure(f, _))
                if f.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY && tries < 8 =>
            {
                tries += 1;
            }
            Err(e) => return Err(e.into()),
        }
    }
}

/// Inserts a hold under a new id ([`new_hold_id`]) and its claims; returns the id. A claim the
/// unique index refuses means the seat was taken.
#[allow(clippy::too_many_arguments)]
pub(crate) fn insert_hold(
    tx: &crate::store::Db,
    concert_id: i64,
    who: &Identity,
    kind: &str,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    gap_override: bool,
    seats: &[(i64, String, i64)],
) -> Result<String> {
    let mut ids = || new_hold_id(now);
    insert_hold_as(
        tx,
        &mut ids,
        concert_id,
        who,
        kind,
        now,
        expires_at,
        gap_override,
        seats,
    )
}

/// [`insert_hold`] with the ids to try, in order: one already taken is skipped.
#[allow(clippy::too_many_arguments)]
fn insert_hold_as(
    tx: &crate::store::Db,
    ids: &mut dyn FnMut() -> String,
    concert_id: i64,
    who: &Identity,
    kind: &str,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    gap_override: bool,
    seats: &[(i64, String, i64)],
) -> Result<String> {
    let mut st = tx.prepare_cached("INSERT INTO holds (id, concert_id, email, name, phone, created_at, expires_at, state, kind, gap_override, seats)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'live', ?8, ?9, ?10)")?;
    let listed = seat_list(seats.iter().map(|s| (s.0, s.2)));
    let hold_id = with_new_hold_id(ids, |id| {
        st.execute(params![
            id,
            concert_id,
            who.email,
            who.name,
            who.phone,
            ts(now),
            ts(expires_at),
            kind,
            gap_override,
            listed
        ])
    })?;
    drop(st);
    let mut st = tx.prepare_cached(
        "INSERT INTO claims (concert_id, seat_id, hold_id, price_cents, expires_at, reserved) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?;
    for (seat_id, label, price) in seats {
        st.execute(params![
            concert_id,
            seat_id,
            &hold_id,
            price,
            ts(expires_at),
            (kind == "offer") as i64
        ])
        .map_err(|e| match e {
            // Unreachable under BEGIN IMMEDIATE; the unique index is the last line of defence.
            rusqlite::Error::SqliteFailure(f, _)
                if f.code == rusqlite::ErrorCode::ConstraintViolation =>
            {
                Error::SeatsTaken(vec![label.clone()])
            }
            e => e.into(),
        })?;
    }
    let what = if kind == "offer" {
        NewClaims::Reserved
    } else {
        NewClaims::Held
    };
    count_new_claims(tx, concert_id, seats.len(), what)?;
    Ok(hold_id)
}

/// A hold's seats as `holds.seats` keeps them: `[[seat id, price in cents], ...]`.
pub(crate) fn seat_list(seats: impl Iterator<Item = (i64, i64)>) -> String {
    // Digits by hand: the formatting machinery cost more than the hold's INSERT binding them.
    fn push_int(out: &mut String, n: i64) {
        if n < 0 {
            out.push('-');
        }
        let mut digits = [0u8; 20];
        let mut i = digits.len();
        let mut n = n.unsigned_abs();
        loop {
            i -= 1;
            digits[i] = b'0' + (n % 10) as u8;
            n /= 10;
            if n == 0 {
                break;
            }
        }
        out.extend(digits[i..].iter().map(|d| char::from(*d)));
    }
    let mut out = String::with_capacity(32);
    out.push('[');
    for (i, (id, cents)) in seats.enumerate() {
        out.push_str(if i > 0 { ",[" } else { "[" });
        push_int(&mut out, id);
        out.push(',');
        push_int(&mut out, cents);
        out.push(']');
    }
    out.push(']');
    out
}

/// What newly inserted claims are, for the concert's counts.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum NewClaims {
    /// Held by a customer's hold (`reserved = 0`, no booking).
    Held,
    /// Kept for the waiting list: the pool's or an offer's (`reserved = 1`).
    Reserved,
    /// Part of a booking.
    Booked,
}

/// Adds newly inserted claims to the concert's counts (`concerts.claimed`, `booked`
/// and `reserved`, which listings and "has free seats" read). Every `INSERT INTO claims` calls
/// it once with the number of rows it inserted; later changes (release, booking, deletion) are
/// counted by triggers. (A trigger per inserted row cost more than the row.)
pub(crate) fn count_new_claims(
    tx: &crate::store::Db,
    concert_id: i64,
    n: usize,
    what: NewClaims,
) -> Result<()> {
    if n > 0 {
        let n = n as i64;
        tx.prepare_cached(
            "UPDATE concerts SET claimed = claimed + ?2, booked = booked + ?3,
                 reserved = reserved + ?4 WHERE id = ?1",
        )?
        .execute(params![
            concert_id,
            n,
            if what == NewClaims::Booked { n } else { 0 },
            if what == NewClaims::Reserved { n } else { 0 },
        ])?;
    }
    Ok(())
}

/// Cancels a confirmed booking inside a transaction: its seats are free again (and offered to
/// the waiting list), one pending refund is recorded per captured charge (keyed, so a retry
/// never refunds twice), and the customer is told. Returns the seats. The refunds go to the
/// processors after the commit.
pub(crate) fn cancel_booking_tx(
    tx: &crate::store::Db,
    id: i64,
    reason: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Vec<String>> {
    tx.prepare_cached("UPDATE bookings SET state = 'cancelled', cancelled_at = ?2 WHERE id = ?1")?
        .execute(params![id, ts(now)])?;
    let seats: Vec<String> = claimed_seats(tx, ClaimsOf::Booking(id))?
        .into_iter()
        .map(|s| s.label)
        .collect();
    tx.prepare_cached("DELETE FROM claims WHERE booking_id = ?1")?
        .execute([id])?;
    let concert_id: i64 = tx
        .prepare_cached("SELECT concert_id FROM bookings WHERE id = ?1")?
        .query_row([id], |r| r.get(0))?;
    crate::waitlist::seats_freed(tx, concert_id, now)?;
    tx.prepare_cached(
        "INSERT INTO payments (kind, idempotency_key, hold_id, booking_id, processor, amount_cents, currency, state, reference, created_at, updated_at)
         SELECT 'refund', 'refund-' || idempotency_key, hold_id, booking_id, processor, amount_cents, currency, 'pending', reference, ?2, ?2
         FROM payments WHERE booking_id = ?1 AND kind = 'charge' AND state = 'captured'",
    )?
    .execute(params![id, ts(now)])?;
    let refund: i64 = tx
        .prepare_cached("SELECT coalesce(sum(amount_cents), 0) FROM payments WHERE booking_id = ?1 AND kind = 'refund'")?
        .query_row([id], |r| r.get(0))?;
    let facts = crate::notify::booking_facts(tx, id)?;
    crate::notify::queue(
        tx,
        facts.customer_id,
        &crate::notify::cancellation(&facts, refund, reason, now),
        now,
    )?;
    Ok(seats)
}

impl Store {
    /// A concert by its number or its external id (`demo-02`).
    pub fn resolve_concert(&self, key: &str) -> Result<i64> {
        let key = key.trim();
        let found: Option<i64> = self
            .conn()
            .query_row(
                concat!(
                    "SELECT id FROM concerts c WHERE (id = ?1 OR external_id = ?2) AND ",
                    crate::in_catalog!("c"),
                    " ORDER BY id = ?1 DESC LIMIT 1"
                ),
                params![key.parse::<i64>().unwrap_or(-1), key],
                |r| r.get(0),
            )
            .optional()?;
        found.ok_or_else(|| Error::ConcertNotFound(key.to_string()))
    }

    pub fn concert(&self, concert_id: i64) -> Result<ConcertSummary> {
        summaries(self.conn(), &[concert_id], ts(self.now()))?
            .pop()
            .ok_or_else(|| Error::ConcertNotFound(concert_id.to_string()))
    }

    /// Every seat of a concert with its category, price and status, in layout order.
    pub fn seat_map(&self, concert_id: i64) -> Result<SeatMap> {
        let concert = self.concert(concert_id)?;
        let sql = format!(
            "SELECT s.id, s.label, s.section, s.row_label, s.number, s.category, p.price_cents, {SEAT_STATUS_SQL}, s.grid_x, s.grid_y
             FROM concerts co
             JOIN seats s ON s.venue_id = co.venue_id
             JOIN prices p ON p.concert_id = co.id AND p.category = s.category
             LEFT JOIN claims cl ON cl.concert_id = co.id AND cl.seat_id = s.id
             WHERE co.id = :id ORDER BY s.grid_y, s.grid_x"
        );
        let mut st = self.conn().conn().prepare_cached(&sql)?;
        let seats: Vec<SeatInfo> = st
            .query_map(
                named_params! {":now": ts(self.now()), ":id": concert_id},
                |r| {
                    Ok(SeatInfo {
                        seat_id: r.get(0)?,
                        seat: r.get(1)?,
                        section: r.get(2)?,
                        row: r.get(3)?,
                        number: r.get(4)?,
                        category: r.get(5)?,
                        price_cents: r.get(6)?,
                        status: SeatStatus::from_db(&r.get::<_, String>(7)?),
                        x: r.get(8)?,
                        y: r.get(9)?,
                    })
                },
            )?
            .collect::<rusqlite::Result<_>>()?;
        let mut counts = SeatCounts::default();
        for s in &seats {
            match s.status {
                SeatStatus::Free => counts.free += 1,
                SeatStatus::Held => counts.held += 1,
                SeatStatus::Booked => counts.booked += 1,
                SeatStatus::Reserved => counts.reserved += 1,
            }
        }
        let mut st = self.conn().prepare_cached(
            "SELECT k.code, k.name FROM categories k JOIN concerts co ON co.venue_id = k.venue_id
             JOIN prices p ON p.concert_id = co.id AND p.category = k.code
             WHERE co.id = ?1 ORDER BY p.price_cents DESC",
        )?;
        let categories = st
            .query_map([concert_id], |r| {
                Ok(Category {
                    code: r.get(0)?,
                    name: r.get(1)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
        Ok(SeatMap {
            concert,
            categories,
            seats,
            counts,
        })
    }

    /// Holds `labels` for `customer`, all or nothing, for the concert's hold time. Seats held
    /// by a hold that has run out count as free and are reclaimed. Refuses a selection that
    /// would strand a single seat when another of the same size would not.
    pub fn hold_seats(
        &mut self,
        concert_id: i64,
        labels: &[String],
        customer: &CustomerInfo,
    ) -> Result<Hold> {
        self.hold_with(concert_id, Selection::Seats(labels, false), customer)
    }

    /// Like [`Store::hold_seats`], with the clerk's explicit override of the single-seat-gap
    /// rule; the override is recorded on the hold.
    pub fn hold_seats_allowing_gap(
        &mut self,
        concert_id: i64,
        labels: &[String],
        customer: &CustomerInfo,
    ) -> Result<Hold> {
        self.hold_with(concert_id, Selection::Seats(labels, true), customer)
    }

    /// Holds the best `n` available seats (of a category, under a price): together in one row
    /// without a gap, else together with a gap, else a split, which is refused with the split
    /// suggested unless `allow_split`.
    pub fn hold_best(
        &mut self,
        concert_id: i64,
        best: &BestRequest,
        customer: &CustomerInfo,
    ) -> Result<Hold> {
        self.hold_with(concert_id, Selection::Best(best), customer)
    }

    fn hold_with(
        &mut self,
        concert_id: i64,
        selection: Selection<'_>,
        customer: &CustomerInfo,
    ) -> Result<Hold> {
        let mut wanted: Vec<String> = Vec::new();
        let asked = match &selection {
            Selection::Seats(labels, _) => labels.len(),
            Selection::Best(b) => b.count,
        };
        if asked > MAX_SEATS_PER_HOLD {
            return Err(Error::invalid(format!(
                "{asked} seats in one hold: a hold is at most {MAX_SEATS_PER_HOLD} seats"
            )));
        }
        if let Selection::Seats(labels, _) = &selection {
            let mut seen = std::collections::HashSet::with_capacity(labels.len());
            for l in labels.iter() {
                let l = l.trim().to_ascii_uppercase();
                if l.is_empty() {
                    continue;
                }
                if l.chars().count() > 40 {
                    return Err(Error::UnknownSeats(vec![format!(
                        "{}…",
                        l.chars().take(20).collect::<String>()
                    )]));
                }
                if !seen.insert(l.clone()) {
                    return Err(Error::invalid(format!("seat {l} is listed twice")));
                }
                wanted.push(l);
            }
            if wanted.is_empty() {
                return Err(Error::invalid(
                    "no seats given: name at least one seat to hold",
                ));
            }
        }
        if let Selection::Best(b) = &selection
            && b.count == 0
        {
            return Err(Error::invalid("ask for at least one seat"));
        }
        // Rows of seats this connection has not read yet are read before the write lock is
        // taken; then the transaction borrows the connection's seat index (it stays valid
        // whether the hold commits or not: it only keeps seats, which never change).
        if let Selection::Seats(..) = &selection {
            self.seat_index
                .borrow_mut()
                .warm(self.conn(), concert_id, &wanted)?;
        }
        let mut index = self.seat_index.take();
        let out = self.write(|tx, now| {
            let c = concert_rules(tx, concert_id)?;
            index.note_venue(concert_id, c.venue_id);
            if c.status == "cancelled" {
                return Err(Error::ConcertCancelled(concert_id.to_string()));
            }
            let Resolved { seats, positions } = match &selection {
                Selection::Seats(..) => resolve_seats(tx, &mut index, &c, &wanted)?,
                Selection::Best(_) => Resolved {
                    seats: Vec::new(),
                    positions: Vec::new(),
                },
            };
            if ts(now) < c.on_sale_at {
                return Err(Error::NotOnSale(from_ts(c.on_sale_at)));
            }
            // Seats named by label: the seats around them with their claims (the named ones
            // among them); those someone else holds are refused before anything is written.
            let window = |tx: &crate::store::Db, index: &mut SeatIndex| {
                gap_window(
                    tx,
                    index,
                    concert_id,
                    c.venue_id,
                    &positions,
                    FreeRule::NoClaim,
                )
            };
            let claimed = |near: &[crate::fairness::SeatPos], id: i64| {
                near.iter().any(|n| n.id == id && !n.free)
            };
            let mut near = window(tx, &mut index)?;
            let who = Identity::of(
                customer,
                crate::catalog::venue_country(tx, concert_id)?.as_deref(),
            )?;
            let mut person: Option<Person> = None;
            refuse_claimed(
                tx,
                concert_id,
                &seats,
                |id| claimed(&near, id),
                &who,
                &mut person,
                now,
            )?;
            let swept = expire_holds_tx(tx, now)?;
            // The person's holds and bookings on the concert, under every identity.
            let person = match person {
                Some(p) => p,
                None => Person::of(tx, &who)?,
            };
            let mut theirs = person_holds(tx, concert_id, &person)?;
            let replaced = replace_earlier_hold(tx, &mut theirs, now)?;
            let (seats, gap_override) = match &selection {
                Selection::Seats(_, allow_gap) => {
                    if !swept.is_empty() || replaced.is_some() {
                        // Seats were freed (and maybe kept for the waiting list) since the rows
                        // were read.
                        near = window(tx, &mut index)?;
                        refuse_claimed(
                            tx,
                            concert_id,
                            &seats,
                            |id| claimed(&near, id),
                            &who,
                            &mut Some(person),
                            now,
                        )?;
                    }
                    let gappy = check_gap(tx, concert_id, c.venue_id, &seats, &near, *allow_gap)?;
                    (seats, gappy && *allow_gap)
                }
                Selection::Best(b) => (pick_best(tx, concert_id, c.venue_id, b)?, false),
            };
            let have: i64 = theirs.iter().map(|h| h.claims).sum();
            if have + seats.len() as i64 > c.ticket_limit {
                return Err(Error::LimitReached {
                    limit: c.ticket_limit,
                    have,
                    asked: seats.len() as i64,
                });
            }
            let expires_at = now + Duration::minutes(c.hold_minutes);
            let hold_id = insert_hold(
                tx,
                concert_id,
                &who,
                "sale",
                now,
                expires_at,
                gap_override,
                &seats,
            )?;
            if replaced.is_some() {
                crate::waitlist::seats_freed(tx, concert_id, now)?;
            }
            Ok(Hold {
                hold_id,
                kind: "sale".into(),
                concert_id,
                customer: who.email.clone(),
                seats: seats.iter().map(|s| s.1.clone()).collect(),
                created_at: now,
                expires_at,
                total_cents: seats.iter().map(|s| s.2).sum(),
                currency: c.currency.clone(),
                state: "live".into(),
                replaced,
                gap_override,
            })
        });
        self.seat_index.replace(index);
        out
    }

    pub fn hold(&self, hold_id: &str) -> Result<Hold> {
        hold_view(self.conn(), &load_hold(self.conn(), hold_id)?)
    }

    /// Gives a live hold's seats back before it runs out.
    pub fn release_hold(&mut self, hold_id: &str) -> Result<Hold> {
        self.write(|tx, now| {
            let h = load_hold(tx, hold_id)?;
            ensure_live(tx, &h, now)?;
            end_hold(tx, &h.id, "released", None, now)?;
            if h.kind == "offer" {
                crate::waitlist::end_offer(tx, &h.id, "left", now)?;
            }
            crate::waitlist::seats_freed(tx, h.concert_id, now)?;
            hold_view(tx, &load_hold(tx, &h.id)?)
        })
    }

    /// Ends every hold whose time is up. Returns how many.
    pub fn expire_holds(&mut self) -> Result<usize> {
        let now = self.now();
        // A read first: every command and every app tick asks, and almost always nothing has
        // run out; only then take the write lock.
        let due: bool = self
            .conn()
            .prepare_cached(
                "SELECT EXISTS (SELECT 1 FROM holds WHERE state = 'live' AND expires_at <= ?1)",
            )?
            .query_row([ts(now)], |r| r.get(0))?;
        if !due {
            return Ok(0);
        }
        Ok(self.write(expire_holds_tx)?.len())
    }

    /// Pays a hold and confirms it into a booking. The amount comes from the stored prices.
    ///
    /// The attempt is recorded (with its idempotency key) and the hold frozen so it cannot run
    /// out mid-charge; the processor is called outside any transaction; then one transaction
    /// confirms the booking and queues its notices, or releases the seats on a decline.
    pub fn pay(
        &mut self,
        hold_id: &str,
        tender: &Tender,
        processors: &Processors,
    ) -> Result<Receipt> {
        match self.charge_hold(hold_id, tender, processors) {
            // A hold being paid: if that is a charge nobody answered for, it is settled first
            // (it may have been taken), and only then is anything charged again. Asked only
            // here, so a payment's usual path reads nothing more.
            Err(Error::PaymentInProgress(id)) => {
                match self.settle_unanswered(hold_id, processors)? {
                    Settled::Booked(receipt) => Ok(receipt),
                    Settled::Released => self.charge_hold(hold_id, tender, processors),
                    Settled::NothingUnanswered => Err(Error::PaymentInProgress(id)),
                }
            }
            other => other,
        }
    }

    /// [`Store::pay`]'s work for a live hold: record, charge, confirm.
    fn charge_hold(
        &mut self,
        hold_id: &str,
        tender: &Tender,
        processors: &Processors,
    ) -> Result<Receipt> {
        let processor = processors.get(tender.processor()).ok_or_else(|| {
            Error::invalid(format!("no {} processor is configured", tender.processor()))
        })?;
        self.expire_holds()?;
        let (key, amount, currency, h) = self.write_durable(|tx, now| {
            let h = load_hold(tx, hold_id)?;
            ensure_live(tx, &h, now)?;
            let amount: i64 = tx
                .prepare_cached(concat!(
                    "SELECT coalesce(sum(cl.price_cents), 0) FROM holds h CROSS JOIN ",
                    held_by!(),
                    " WHERE h.id = ?1"
                ))?
                .query_row([&h.id], |r| r.get(0))?;
            let currency = concert_currency(tx, h.concert_id)?;
            if let Tender::Cash { tendered_cents } = tender {
                crate::payment::check_cash(*tendered_cents, amount, &currency)?;
            }
            let attempt: i64 = tx.prepare_cached("SELECT count(*) + 1 FROM payments WHERE hold_id = ?1 AND kind = 'charge'")?.query_row([&h.id],
                |r| r.get(0),
            )?;
            let key = format!("charge-{}-{attempt}", h.id);
            tx.prepare_cached("INSERT INTO payments (kind, idempotency_key, hold_id, processor, amount_cents, currency, state, created_at, updated_at)
                 VALUES ('charge', ?1, ?2, ?3, ?4, ?5, 'pending', ?6, ?6)")?.execute(params![key, h.id, processor.name(), amount, currency, ts(now)],
            )?;
            tx.prepare_cached("UPDATE holds SET state = 'paying' WHERE id = ?1")?.execute([&h.id])?;
            each_claim(tx, &h.id, concat!("UPDATE claims SET expires_at = NULL WHERE ", claim_key!()), &[])?;
            Ok((key, amount, currency, h))
        })?;
        crate::failpoint::hit("pay:after-record");
        let description = format!("boxoffice hold {}", h.id);
        let outcome = processor.charge(&ChargeRequest {
            idempotency_key: &key,
            amount_cents: amount,
            currency: &currency,
            tender,
            description: &description,
        });
        let outcome = match outcome {
            Ok(o) => o,
            Err(e) => {
                // Unknown to us whether it went through: ask by key, fencing it, before giving
                // the hold back.
                match processor.fence(&key) {
                    Ok(Some(o)) => o,
                    Ok(None) => {
                        self.fail_payment(&key, &h.id, &e.0)?;
                        return Err(Error::Processor(e.0));
                    }
                    Err(lost) => {
                        // Neither the charge nor the look-up answered: the processor may have
                        // taken it. The hold stays frozen and the key open until it answers.
                        self.write_durable(|tx, now| {
                            tx.prepare_cached("UPDATE payments SET state = 'unanswered', detail = ?2, updated_at = ?3 WHERE idempotency_key = ?1 AND state = 'pending'")?
                                .execute(params![key, lost.0, ts(now)])?;
                            Ok(())
                        })?;
                        return Err(Error::Unanswered(e.0));
                    }
                }
            }
        };
        crate::failpoint::hit("pay:after-charge");
        let tendered = match tender {
            Tender::Cash { tendered_cents } => Some(*tendered_cents),
            Tender::Card(_) => None,
        };
        let receipt = self.finish_payment(&key, outcome, tendered, processors);
        crate::failpoint::hit("pay:after-confirm");
        receipt
    }

    /// Settles a charge of `hold_id` whose outcome is unknown (its charge and its look-up both
    /// failed), before anything new is charged: the processor is asked again, fencing the key.
    /// Taken: the booking it paid for. Never seen: the key is fenced and the hold is live again
    /// for a new attempt. Still no answer: [`Error::Unanswered`].
    fn settle_unanswered(&mut self, hold_id: &str, processors: &Processors) -> Result<Settled> {
        let unanswered: Option<(String, String)> = self
            .conn()
            .prepare_cached(
                "SELECT idempotency_key, processor FROM payments
                 WHERE hold_id = ?1 AND kind = 'charge' AND state = 'unanswered' ORDER BY id DESC LIMIT 1",
            )?
            .query_row([hold_id.trim().to_ascii_uppercase()], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()?;
        let Some((key, name)) = unanswered else {
            return Ok(Settled::NothingUnanswered);
        };
        let processor = processors.get(&name).ok_or_else(|| {
            Error::Unanswered(format!("no {name} processor is configured to ask"))
        })?;
        match processor.fence(&key) {
            Ok(Some(outcome)) => self
                .finish_payment(&key, outcome, None, processors)
                .map(Settled::Booked),
            Ok(None) => {
                self.fail_payment(&key, hold_id, "the processor never saw it")?;
                Ok(Settled::Released)
            }
            Err(e) => Err(Error::Unanswered(e.0)),
        }
    }

    /// Records a processor failure: nothing was charged, the hold is live again for a minute at
    /// least so the clerk can retry.
    fn fail_payment(&mut self, key: &str, hold_id: &str, why: &str) -> Result<()> {
        self.write_durable(|tx, now| {
            tx.prepare_cached("UPDATE payments SET state = 'failed', detail = ?2, updated_at = ?3 WHERE idempotency_key = ?1 AND state IN ('pending', 'unanswered')")?.execute(params![key, why, ts(now)],
            )?;
            let expires = tx
                .query_row("SELECT expires_at FROM holds WHERE id = ?1", [hold_id], |r| {
                    r.get::<_, i64>(0)
                })?
                .max(ts(now + Duration::minutes(1)));
            tx.prepare_cached("UPDATE holds SET state = 'live', expires_at = ?2 WHERE id = ?1 AND state = 'paying'")?.execute(params![hold_id, expires],
            )?;
            each_claim(tx, hold_id, concat!("UPDATE claims SET expires_at = ?4 WHERE ", claim_key!()), &[&expires])?;
            Ok(())
        })
    }

    /// Applies a charge outcome to its pending payment: confirm the booking (and queue the
    /// confirmation) or release the seats. Money taken for a hold that can no longer become a
    /// booking is refunded.
    pub(crate) fn finish_payment(
        &mut self,
        key: &str,
        outcome: ChargeOutcome,
        tendered: Option<i64>,
        processors: &Processors,
    ) -> Result<Receipt> {
        let result = self.write_durable(|tx, now| {
            let (hold_id, amount, currency, processor, state): (String, i64, String, String, String) =
                tx.prepare_cached("SELECT hold_id, amount_cents, currency, processor, state FROM payments WHERE idempotency_key = ?1")?.query_row([key],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
                )?;
            let h = load_hold(tx, &hold_id)?;
            if state == "failed" {
                // Given up at another terminal while this charge was out (its key fenced, so
                // the processor refused it; one that cannot fence may have taken it).
                if let ChargeOutcome::Approved { reference, detail, .. } = outcome {
                    refund_late_charge(tx, key, &h, &reference, &detail, now)?;
                }
                return Ok(Err(Error::PaymentAbandoned(h.id)));
            }
            if state != "pending" && state != "unanswered" {
                return Err(Error::PaymentInProgress(hold_id));
            }
            match outcome {
                ChargeOutcome::Approved { reference, change_cents, detail } if h.state == "paying" => {
                    // The person becomes a customer with their first booking.
                    let customer = record_customer(tx, h.who.clone())?;
                    let booking_id = insert_booking(tx, &h.id, customer, amount, &processor, now)?;
                    tx.prepare_cached("UPDATE payments SET state = 'captured', reference = ?2, detail = ?3, booking_id = ?4, tendered_cents = ?5, change_cents = ?6, updated_at = ?7
                         WHERE idempotency_key = ?1")?.execute(params![key, reference, detail, booking_id, tendered, change_cents, ts(now)],
                    )?;
                    tx.prepare_cached("UPDATE holds SET state = 'paid', ended_at = ?2 WHERE id = ?1")?.execute(params![h.id, ts(now)],
                    )?;
                    each_claim(
                        tx,
                        &h.id,
                        concat!("UPDATE claims SET booking_id = ?4, expires_at = NULL, reserved = 0 WHERE ", claim_key!()),
                        &[&booking_id],
                    )?;
                    if h.kind == "offer" {
                        crate::waitlist::end_offer(tx, &h.id, "booked", now)?;
                    }
                    let facts = crate::notify::booking_facts(tx, booking_id)?;
                    crate::notify::queue(tx, customer, &crate::notify::confirmation(&facts, now), now)?;
                    Ok(Ok(Receipt {
                        booking_code: facts.code,
                        hold_id: h.id,
                        concert_id: h.concert_id,
                        // The confirmation's facts list the booking's seats already.
                        seats: facts.seats.iter().map(|s| s.0.clone()).collect(),
                        total_cents: amount,
                        currency,
                        tendered_cents: tendered,
                        change_cents,
                        method: processor,
                        reference,
                    }))
                }
                ChargeOutcome::Approved { reference, detail, .. } => {
                    // Captured, but the hold is gone: the money goes straight back.
                    refund_late_charge(tx, key, &h, &reference, &detail, now)?;
                    Ok(Err(Error::HoldNotLive { id: h.id, state: h.state }))
                }
                ChargeOutcome::Declined { reason } => {
                    let view = hold_view(tx, &h)?;
                    tx.prepare_cached("UPDATE payments SET state = 'declined', detail = ?2, updated_at = ?3 WHERE idempotency_key = ?1")?.execute(params![key, reason, ts(now)],
                    )?;
                    end_hold(tx, &h.id, "declined", None, now)?;
                    if h.kind == "offer" {
                        crate::waitlist::end_offer(tx, &h.id, "expired", now)?;
                    }
                    crate::waitlist::seats_freed(tx, h.concert_id, now)?;
                    Ok(Err(Error::Declined {
                        reason,
                        concert_id: h.concert_id,
                        seats: view.seats,
                        customer: view.customer,
                    }))
                }
            }
        })?;
        if matches!(
            result,
            Err(Error::HoldNotLive { .. } | Error::PaymentAbandoned(_))
        ) {
            self.run_pending_refunds(None, processors)?;
        }
        result
    }

    /// Finishes what a crash interrupted. Pending charges older than [`PAYMENT_LEASE`] (younger
    /// ones may be in flight at another terminal), and unanswered ones of any age, are asked
    /// for at their processor by key, fencing it: a captured one becomes its booking (or a
    /// refund), a declined one releases its seats, and one the processor never saw releases
    /// its seats and can no longer be charged (a late charge under it is refused, or refunded by
    /// [`Store::finish_payment`] where the processor cannot refuse it). Pending refunds are
    /// retried under their keys, so nobody is refunded twice.
    pub fn reconcile(&mut self, processors: &Processors) -> Result<ReconcileReport> {
        let now = self.now();
        let mut report = ReconcileReport::default();
        let pending: Vec<(String, String, i64, String)> = {
            let mut st = self.conn().prepare(
                "SELECT idempotency_key, processor, created_at, state FROM payments
                 WHERE kind = 'charge' AND state IN ('pending', 'unanswered') ORDER BY id",
            )?;
            st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
                .collect::<rusqlite::Result<_>>()?
        };
        for (key, name, created, state) in pending {
            if state == "pending" && created > ts(now - PAYMENT_LEASE) {
                report.in_flight += 1;
                continue;
            }
            let Some(processor) = processors.get(&name) else {
                report.unreachable += 1;
                continue;
            };
            match processor.fence(&key) {
                Ok(Some(outcome)) => match self.finish_payment(&key, outcome, None, processors) {
                    Ok(receipt) => report.confirmed.push(receipt.booking_code),
                    Err(Error::Declined { .. }) => report.released += 1,
                    Err(Error::HoldNotLive { .. } | Error::PaymentAbandoned(_)) => {
                        report.refunded += 1
                    }
                    // Finished meanwhile by the terminal that was waiting for it.
                    Err(Error::PaymentInProgress(_)) => {}
                    Err(e) => return Err(e),
                },
                Ok(None) => {
                    self.abandon_payment(&key)?;
                    report.released += 1;
                }
                Err(_) => report.unreachable += 1,
            }
        }
        report.refunds_completed = self.run_pending_refunds(None, processors)?;
        Ok(report)
    }

    /// A charge the processor never saw (and, fenced, never will): nothing was taken, the seats
    /// go back.
    fn abandon_payment(&mut self, key: &str) -> Result<()> {
        self.write_durable(|tx, now| {
            let hold_id: String = tx.prepare_cached("SELECT hold_id FROM payments WHERE idempotency_key = ?1")?.query_row([key],
                |r| r.get(0),
            )?;
            tx.prepare_cached("UPDATE payments SET state = 'failed', detail = 'interrupted; the processor never saw it', updated_at = ?2
                 WHERE idempotency_key = ?1 AND state IN ('pending', 'unanswered')")?.execute(params![key, ts(now)],
            )?;
            end_hold(tx, &hold_id, "released", Some("paying"), now)?;
            let (concert_id, kind): (i64, String) = tx.prepare_cached("SELECT concert_id, kind FROM holds WHERE id = ?1")?.query_row([&hold_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            if kind == "offer" {
                crate::waitlist::end_offer(tx, &hold_id, "expired", now)?;
            }
            crate::waitlist::seats_freed(tx, concert_id, now)?;
            Ok(())
        })
    }

    /// A booking by its code (any case).
    pub fn booking(&self, code: &str) -> Result<Booking> {
        let code = code.trim().to_ascii_uppercase();
        let row = self
            .conn()
            .query_row(
                "SELECT b.id, b.code, b.state, b.concert_id, b.total_cents, b.currency, b.method, b.created_at, b.cancelled_at,
                        cu.email, cu.name, cu.phone
                 FROM bookings b JOIN customers cu ON cu.id = b.customer_id WHERE b.code = ?1",
                [&code],
                |r| {
                    Ok((
                        r.get::<_, i64>(0)?,
                        r.get::<_, String>(1)?,
                        r.get::<_, String>(2)?,
                        r.get::<_, i64>(3)?,
                        r.get::<_, i64>(4)?,
                        r.get::<_, String>(5)?,
                        r.get::<_, String>(6)?,
                        r.get::<_, i64>(7)?,
                        r.get::<_, Option<i64>>(8)?,
                        CustomerInfo { email: r.get(9)?, name: r.get(10)?, phone: r.get(11)? },
                    ))
                },
            )
            .optional()?
            .ok_or_else(|| Error::BookingNotFound(code.clone()))?;
        let (id, code, state, concert_id, total, currency, method, created, cancelled, customer) =
            row;
        let seats = claimed_seats(self.conn(), ClaimsOf::Booking(id))?
            .into_iter()
            .map(|s| BookedSeat {
                seat: s.label,
                category: s.category,
                price_cents: s.price_cents,
            })
            .collect();
        let refunded: i64 = self.conn().query_row(
            "SELECT coalesce(sum(amount_cents), 0) FROM payments WHERE booking_id = ?1 AND kind = 'refund' AND state = 'captured'",
            [id],
            |r| r.get(0),
        )?;
        Ok(Booking {
            booking_code: code,
            state,
            concert: self.concert(concert_id)?,
            customer,
            seats,
            total_cents: total,
            currency,
            method,
            created_at: from_ts(created),
            cancelled_at: cancelled.map(from_ts),
            refunded_cents: refunded,
        })
    }

    /// Cancels a confirmed booking: its seats are free again at once, and what was paid is
    /// refunded through the processor that took it. A refund the processor cannot make now
    /// stays pending and `reconcile` retries it under the same key (never twice).
    pub fn cancel_booking(&mut self, code: &str, processors: &Processors) -> Result<Cancellation> {
        let code = code.trim().to_ascii_uppercase();
        let (booking_id, seats) = self.write_durable(|tx, now| {
            let (id, state): (i64, String) = tx
                .query_row(
                    "SELECT id, state FROM bookings WHERE code = ?1",
                    [&code],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?
                .ok_or_else(|| Error::BookingNotFound(code.clone()))?;
            if state == "cancelled" {
                return Err(Error::AlreadyCancelled(code.clone()));
            }
            let seats = cancel_booking_tx(tx, id, None, now)?;
            Ok((id, seats))
        })?;
        crate::failpoint::hit("cancel:after-cancel");
        self.run_pending_refunds(Some(booking_id), processors)?;
        let b = self.booking(&code)?;
        let pending: i64 = self.conn().query_row(
            "SELECT coalesce(sum(amount_cents), 0) FROM payments WHERE booking_id = ?1 AND kind = 'refund' AND state = 'pending'",
            [booking_id],
            |r| r.get(0),
        )?;
        Ok(Cancellation {
            booking_code: b.booking_code,
            refunded_cents: b.refunded_cents,
            refund_pending_cents: pending,
            currency: b.currency,
            method: b.method,
            seats,
        })
    }

    /// Sends every pending refund (of one booking, or all) to its processor.
    /// Returns how many were made; a processor that fails leaves its refund pending.
    pub(crate) fn run_pending_refunds(
        &mut self,
        booking_id: Option<i64>,
        processors: &Processors,
    ) -> Result<usize> {
        let pending: Vec<(String, String, String, i64, String)> = {
            let mut st = self.conn().prepare(
                "SELECT idempotency_key, processor, coalesce(reference, ''), amount_cents, currency FROM payments
                 WHERE kind = 'refund' AND state = 'pending' AND (?1 IS NULL OR booking_id = ?1)",
            )?;
            st.query_map([booking_id], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })?
            .collect::<rusqlite::Result<_>>()?
        };
        let mut done = 0;
        for (key, processor, charge_ref, amount, currency) in pending {
            let Some(p) = processors.get(&processor) else {
                continue;
            };
            let Ok(reference) = p.refund(&RefundRequest {
                idempotency_key: &key,
                charge_reference: &charge_ref,
                amount_cents: amount,
                currency: &currency,
            }) else {
                continue;
            };
            crate::failpoint::hit("cancel:after-refund");
            self.write_durable(|tx, now| {
                tx.prepare_cached("UPDATE payments SET state = 'captured', reference = ?2, updated_at = ?3 WHERE idempotency_key = ?1 AND state = 'pending'")?.execute(params![key, reference, ts(now)],
                )?;
                Ok(())
            })?;
            done += 1;
        }
        Ok(done)
    }
}

/// What the seat map tells a clerk about a selection before anything is held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GapAdvice {
    pub stranded: Vec<String>,
    /// A selection of the same size that strands nobody, if there is one.
    pub suggestion: Option<Vec<String>>,
}

impl Store {
    /// Free seats as the geometry sees them now: no claim, or a hold whose time is up.
    fn geometry_now(&self, concert_id: i64) -> Result<(Vec<crate::fairness::SeatPos>, f64)> {
        let rules = concert_rules(self.conn(), concert_id)?;
        let now = ts(self.now());
        load_geometry(
            self.conn(),
            concert_id,
            rules.venue_id,
            FreeRule::NoClaimOrExpired(now),
        )
    }

    /// The best available seats right now, without holding them (the seat map's `b`).
    pub fn suggest_best(
        &self,
        concert_id: i64,
        best: &BestRequest,
    ) -> Result<crate::fairness::Pick> {
        let (seats, centre) = self.geometry_now(concert_id)?;
        let geo = crate::fairness::Geometry::new(&seats, centre);
        geo.best(best.count, best.accepts()).ok_or_else(|| {
            Error::NotEnoughSeats(format!("fewer than {} seats are free", best.count))
        })
    }

    /// Whether holding `seat_ids` would strand a single seat, and what to pick instead.
    pub fn selection_advice(&self, concert_id: i64, seat_ids: &[i64]) -> Result<Option<GapAdvice>> {
        let venue_id = concert_rules(self.conn(), concert_id)?.venue_id;
        gap_advice(
            self.conn(),
            &mut self.seat_index.borrow_mut(),
            concert_id,
            venue_id,
            seat_ids,
            FreeRule::NoClaimOrExpired(ts(self.now())),
            true,
        )
    }

    /// Bookings by code, email or phone (most recent first, at most 50).
    pub fn find_bookings(&self, query: &str) -> Result<Vec<Booking>> {
        let q = query.trim();
        if q.is_empty() {
            return Ok(Vec::new());
        }
        let digits: String = q.chars().filter(|c| c.is_ascii_digit()).collect();
        let mut st = self.conn().prepare_cached(
            "SELECT b.code FROM bookings b JOIN customers cu ON cu.id = b.customer_id
             WHERE b.code = upper(?1) OR cu.email = lower(?1) OR instr(cu.email, lower(?1)) > 0
                OR (length(?2) >= 6 AND replace(cu.phone, '+', '') LIKE '%' || ?2 || '%')
             ORDER BY b.id DESC LIMIT 50",
        )?;
        let codes: Vec<String> = st
            .query_map(params![q, digits], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?;
        codes.iter().map(|c| self.booking(c)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let sql = concat!("UPDATE claims SET expires_at = ?4 WHERE ", claim_key!());
        assert_eq!(each_claim(db, &ann.hold_id, sql, &[&7]).unwrap(), 1);
        assert_eq!(each_claim(db, &bob.hold_id, sql, &[&8]).unwrap(), 2);
        assert_eq!(each_claim(db, "HNOSUCHHOLD", sql, &[&9]).unwrap(), 0);
        let expiries: Vec<(String, i64)> = db
            .prepare("SELECT hold_id, expires_at FROM claims ORDER BY seat_id")
            .unwrap()
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
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
        assert_eq!(each_claim(db, &ann.hold_id, sql, &[&10]).unwrap(), 0);
    }

    #[test]
    fn only_a_taken_id_is_drawn_again() {
        let conn = rusqlite::Connection::open_in_memory().unwrap();
        conn.execute_batch(
            "CREATE TABLE h (id TEXT PRIMARY KEY, n INTEGER CHECK (n > 0));
             INSERT INTO h VALUES ('HA', 1);",
        )
        .unwrap();
        let mut drawn = vec!["HC".to_string(), "HB".to_string(), "HA".to_string()];
        let mut calls = 0;
        let id = with_new_hold_id(&mut || drawn.pop().unwrap(), |id| {
            calls += 1;
            conn.execute("INSERT INTO h VALUES (?1, 1)", [id])
        })
        .unwrap();
        assert_eq!((id.as_str(), calls), ("HB", 2));
        // Any other failure is the caller's: no second draw.
        let mut calls = 0;
        let err = with_new_hold_id(&mut || "HD".to_string(), |id| {
            calls += 1;
            conn.execute("INSERT INTO h VALUES (?1, 0)", [id])
        })
        .unwrap_err();
        assert_eq!(calls, 1, "{err}");
    }

    #[test]
    fn a_hold_id_already_taken_is_drawn_again() {
        use crate::clock::ManualClock;
        use std::sync::Arc;
        let dir = tempfile::tempdir().unwrap();
        let now = DateTime::parse_from_rfc3339("2026-12-01T10:00:00Z")
            .unwrap()
            .to_utc();
        let mut store =
            Store::open(dir.path().join("b.db"), Arc::new(ManualClock::new(now))).unwrap();
        store
            .add_venue(
                "hall",
                "venue Hall\ncity Town\ntimezone Europe/Vienna\ncategory S Standard\nsection A Main\n 1 |SS|\n",
            )
            .unwrap();
        let concert = store
            .add_concert(&crate::catalog::NewConcert {
                external_id: None,
                artist: "A".into(),
                title: "T".into(),
                venue_slug: "hall".into(),
                local_start: (now + Duration::days(20)).naive_utc(),
                on_sale_at: now - Duration::days(1),
                prices: vec![("S".into(), 1000)],
                currency: "EUR".into(),
                ticket_limit: 6,
                hold_minutes: 5,
            })
            .unwrap();
        let who = CustomerInfo {
            email: "a@example.com".into(),
            ..Default::default()
        };
        let first = store
            .hold_seats(concert, &["A-1-1".to_string()], &who)
            .unwrap();
        let mut tries = vec!["HZZZZ222222".to_string(), first.hold_id.clone()];
        let id = store
            .write(|tx, now| {
                insert_hold_as(
                    tx,
                    &mut || tries.pop().unwrap(),
                    concert,
                    &Identity::of(&who, None)?,
                    "sale",
                    now,
                    now + Duration::minutes(5),
                    false,
                    &[],
                )
            })
            .unwrap();
        assert_eq!(id, "HZZZZ222222");
        assert_eq!(store.hold(&first.hold_id).unwrap().seats, ["A-1-1"]);
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
}

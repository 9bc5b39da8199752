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
use crate::search::{summary_from_row, summary_select};
use crate::store::{SEAT_STATUS_SQL, Store, from_ts, ts};
use chrono::{DateTime, Duration, Utc};
use rusqlite::{OptionalExtension, Transaction, named_params, params};

/// How long a payment may be in flight before `reconcile` treats it as interrupted. A card
/// gateway answers (or times out) well within this.
pub const PAYMENT_LEASE: Duration = Duration::minutes(2);

/// Booking codes avoid letters and digits that read alike (0/O, 1/I/L).
const CODE_ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";
const CODE_LEN: usize = 6;

fn random_code(len: usize) -> String {
    let bytes = uuid::Uuid::new_v4().into_bytes();
    bytes[..len]
        .iter()
        .map(|b| CODE_ALPHABET[*b as usize % CODE_ALPHABET.len()] as char)
        .collect()
}

fn new_booking_code() -> String {
    random_code(CODE_LEN)
}

/// Hold ids are short enough to read out at a counter, and random enough not to be guessed.
pub(crate) fn new_hold_id() -> String {
    format!("H{}", random_code(9))
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
    if email.len() > 254 || email.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(bad());
    }
    let (local, domain) = email.split_once('@').ok_or_else(bad)?;
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

/// Normalises a phone number to `+` and digits; rejects anything else.
pub fn normalize_phone(raw: &str) -> Result<String> {
    let t = raw.trim();
    let bad = || Error::invalid("a phone number has 6 to 15 digits, optionally starting with +");
    if !t
        .chars()
        .all(|c| c.is_ascii_digit() || " +-()/.".contains(c))
        || t[1.min(t.len())..].contains('+')
    {
        return Err(bad());
    }
    let digits: String = t.chars().filter(|c| c.is_ascii_digit()).collect();
    if !(6..=15).contains(&digits.len()) {
        return Err(bad());
    }
    Ok(if t.starts_with('+') {
        format!("+{digits}")
    } else {
        digits
    })
}

/// A name as a person gave it, without control characters (no CR/LF into email headers).
pub fn clean_name(raw: &str) -> Result<Option<String>> {
    let name: String = raw.trim().to_string();
    if name.chars().any(|c| c.is_control()) {
        return Err(Error::invalid(
            "a name cannot contain line breaks or control characters",
        ));
    }
    if name.chars().count() > 200 {
        return Err(Error::invalid("a name is at most 200 characters"));
    }
    Ok((!name.is_empty()).then_some(name))
}

pub(crate) fn upsert_customer(tx: &Transaction<'_>, c: &CustomerInfo) -> Result<i64> {
    let email = normalize_email(&c.email)?;
    let name = match &c.name {
        Some(n) => clean_name(n)?,
        None => None,
    };
    let phone = match c.phone.as_deref().filter(|p| !p.trim().is_empty()) {
        Some(p) => Some(normalize_phone(p)?),
        None => None,
    };
    Ok(tx.query_row(
        "INSERT INTO customers (email, name, phone) VALUES (?1, ?2, ?3)
         ON CONFLICT (email) DO UPDATE SET name = coalesce(excluded.name, name), phone = coalesce(excluded.phone, phone)
         RETURNING id",
        params![email, name, phone],
        |r| r.get(0),
    )?)
}

/// Turns a hold into a confirmed booking row with a fresh code; returns the booking's id.
pub(crate) fn insert_booking(
    tx: &Transaction<'_>,
    hold_id: &str,
    total_cents: i64,
    method: &str,
    now: DateTime<Utc>,
) -> Result<i64> {
    for _ in 0..8 {
        let code = new_booking_code();
        let taken: bool = tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM bookings WHERE code = ?1)",
            [&code],
            |r| r.get(0),
        )?;
        if taken {
            continue;
        }
        tx.execute(
            "INSERT INTO bookings (code, concert_id, customer_id, hold_id, total_cents, currency, method, state, created_at)
             SELECT ?1, h.concert_id, h.customer_id, h.id, ?3, co.currency, ?4, 'confirmed', ?5
             FROM holds h JOIN concerts co ON co.id = h.concert_id WHERE h.id = ?2",
            params![code, hold_id, total_cents, method, ts(now)],
        )?;
        return Ok(tx.last_insert_rowid());
    }
    Err(Error::invalid(
        "could not find a free booking code; try again",
    ))
}

/// Ends every live hold whose time is up: its seats are free again. Returns the holds ended.
pub(crate) fn expire_holds_tx(tx: &Transaction<'_>, now: DateTime<Utc>) -> Result<Vec<String>> {
    let ids: Vec<String> = {
        let mut st =
            tx.prepare_cached("SELECT id FROM holds WHERE state = 'live' AND expires_at <= ?1")?;
        st.query_map([ts(now)], |r| r.get(0))?
            .collect::<rusqlite::Result<_>>()?
    };
    for id in &ids {
        tx.execute(
            "UPDATE holds SET state = 'expired', ended_at = ?2 WHERE id = ?1",
            params![id, ts(now)],
        )?;
        tx.execute(
            "UPDATE claims SET active = 0 WHERE hold_id = ?1 AND booking_id IS NULL",
            [id],
        )?;
    }
    Ok(ids)
}

struct HoldRow {
    id: String,
    concert_id: i64,
    customer_id: i64,
    state: String,
    expires_at: DateTime<Utc>,
    created_at: DateTime<Utc>,
}

fn load_hold(conn: &rusqlite::Connection, id: &str) -> Result<HoldRow> {
    conn.query_row(
        "SELECT id, concert_id, customer_id, state, expires_at, created_at FROM holds WHERE id = ?1",
        [id.trim().to_ascii_uppercase()],
        |r| {
            Ok(HoldRow {
                id: r.get(0)?,
                concert_id: r.get(1)?,
                customer_id: r.get(2)?,
                state: r.get(3)?,
                expires_at: from_ts(r.get(4)?),
                created_at: from_ts(r.get(5)?),
            })
        },
    )
    .optional()?
    .ok_or_else(|| Error::HoldNotFound(id.trim().to_string()))
}

fn hold_view(conn: &rusqlite::Connection, h: &HoldRow) -> Result<Hold> {
    let mut st = conn.prepare_cached(
        "SELECT s.label, cl.price_cents FROM claims cl JOIN seats s ON s.id = cl.seat_id
         WHERE cl.hold_id = ?1 ORDER BY s.grid_y, s.grid_x",
    )?;
    let seats: Vec<(String, i64)> = st
        .query_map([&h.id], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let (email, currency): (String, String) = conn.query_row(
        "SELECT cu.email, co.currency FROM customers cu, concerts co WHERE cu.id = ?1 AND co.id = ?2",
        params![h.customer_id, h.concert_id],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    Ok(Hold {
        hold_id: h.id.clone(),
        concert_id: h.concert_id,
        customer: email,
        total_cents: seats.iter().map(|s| s.1).sum(),
        seats: seats.into_iter().map(|s| s.0).collect(),
        created_at: h.created_at,
        expires_at: h.expires_at,
        currency,
        state: h.state.clone(),
    })
}

fn booking_code_for_hold(conn: &rusqlite::Connection, hold_id: &str) -> Result<String> {
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
fn ensure_live(conn: &rusqlite::Connection, h: &HoldRow, now: DateTime<Utc>) -> Result<()> {
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

impl Store {
    /// A concert by its number or its external id (`demo-02`).
    pub fn resolve_concert(&self, key: &str) -> Result<i64> {
        let key = key.trim();
        let found: Option<i64> = self
            .conn()
            .query_row(
                "SELECT id FROM concerts WHERE id = ?1 OR external_id = ?2 ORDER BY id = ?1 DESC LIMIT 1",
                params![key.parse::<i64>().unwrap_or(-1), key],
                |r| r.get(0),
            )
            .optional()?;
        found.ok_or_else(|| Error::ConcertNotFound(key.to_string()))
    }

    pub fn concert(&self, concert_id: i64) -> Result<ConcertSummary> {
        let sql = format!("{} WHERE c.id = :id", summary_select());
        self.conn()
            .query_row(
                &sql,
                named_params! {":now": ts(self.now()), ":id": concert_id},
                summary_from_row,
            )
            .optional()?
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
             LEFT JOIN claims cl ON cl.concert_id = co.id AND cl.seat_id = s.id AND cl.active = 1
             WHERE co.id = :id ORDER BY s.grid_y, s.grid_x"
        );
        let mut st = self.conn().prepare_cached(&sql)?;
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
    /// by a hold that has run out count as free and are reclaimed.
    pub fn hold_seats(
        &mut self,
        concert_id: i64,
        labels: &[String],
        customer: &CustomerInfo,
    ) -> Result<Hold> {
        let now = self.now();
        let mut wanted: Vec<String> = Vec::new();
        for l in labels {
            let l = l.trim().to_ascii_uppercase();
            if l.is_empty() {
                continue;
            }
            if wanted.contains(&l) {
                return Err(Error::invalid(format!("seat {l} is listed twice")));
            }
            wanted.push(l);
        }
        if wanted.is_empty() {
            return Err(Error::invalid(
                "no seats given: name at least one seat to hold",
            ));
        }
        self.write(|tx| {
            let (venue_id, on_sale_at, hold_minutes, status): (i64, i64, i64, String) = tx
                .query_row(
                    "SELECT venue_id, on_sale_at, hold_minutes, status FROM concerts WHERE id = ?1",
                    [concert_id],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
                )
                .optional()?
                .ok_or_else(|| Error::ConcertNotFound(concert_id.to_string()))?;
            if status == "cancelled" {
                return Err(Error::ConcertCancelled(concert_id.to_string()));
            }
            let mut seats: Vec<(i64, String, i64)> = Vec::new();
            let mut unknown = Vec::new();
            {
                let mut st = tx.prepare_cached(
                    "SELECT s.id, s.label, p.price_cents FROM seats s
                     JOIN prices p ON p.concert_id = ?1 AND p.category = s.category
                     WHERE s.venue_id = ?2 AND s.label = ?3",
                )?;
                for l in &wanted {
                    match st.query_row(params![concert_id, venue_id, l], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?))).optional()? {
                        Some(seat) => seats.push(seat),
                        None => unknown.push(l.clone()),
                    }
                }
            }
            if !unknown.is_empty() {
                return Err(Error::UnknownSeats(unknown));
            }
            if ts(now) < on_sale_at {
                return Err(Error::NotOnSale(from_ts(on_sale_at)));
            }
            let customer_id = upsert_customer(tx, customer)?;
            expire_holds_tx(tx, now)?;
            let mut taken = Vec::new();
            {
                let mut st = tx.prepare_cached(
                    "SELECT 1 FROM claims WHERE concert_id = ?1 AND seat_id = ?2 AND active = 1",
                )?;
                for (seat_id, label, _) in &seats {
                    if st.exists(params![concert_id, seat_id])? {
                        taken.push(label.clone());
                    }
                }
            }
            if !taken.is_empty() {
                return Err(Error::SeatsTaken(taken));
            }
            let hold_id = new_hold_id();
            let expires_at = now + Duration::minutes(hold_minutes);
            tx.execute(
                "INSERT INTO holds (id, concert_id, customer_id, created_at, expires_at, state) VALUES (?1, ?2, ?3, ?4, ?5, 'live')",
                params![hold_id, concert_id, customer_id, ts(now), ts(expires_at)],
            )?;
            {
                let mut st = tx.prepare_cached(
                    "INSERT INTO claims (concert_id, seat_id, hold_id, price_cents, expires_at) VALUES (?1, ?2, ?3, ?4, ?5)",
                )?;
                for (seat_id, label, price) in &seats {
                    st.execute(params![concert_id, seat_id, hold_id, price, ts(expires_at)]).map_err(|e| {
                        // Unreachable under BEGIN IMMEDIATE; the unique index is the last line of defence.
                        match e {
                            rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::ConstraintViolation => {
                                Error::SeatsTaken(vec![label.clone()])
                            }
                            e => e.into(),
                        }
                    })?;
                }
            }
            hold_view(tx, &load_hold(tx, &hold_id)?)
        })
    }

    pub fn hold(&self, hold_id: &str) -> Result<Hold> {
        hold_view(self.conn(), &load_hold(self.conn(), hold_id)?)
    }

    /// Gives a live hold's seats back before it runs out.
    pub fn release_hold(&mut self, hold_id: &str) -> Result<Hold> {
        let now = self.now();
        self.write(|tx| {
            let h = load_hold(tx, hold_id)?;
            ensure_live(tx, &h, now)?;
            tx.execute(
                "UPDATE holds SET state = 'released', ended_at = ?2 WHERE id = ?1",
                params![h.id, ts(now)],
            )?;
            tx.execute("UPDATE claims SET active = 0 WHERE hold_id = ?1", [&h.id])?;
            hold_view(tx, &load_hold(tx, &h.id)?)
        })
    }

    /// Ends every hold whose time is up. Returns how many.
    pub fn expire_holds(&mut self) -> Result<usize> {
        let now = self.now();
        Ok(self.write(|tx| expire_holds_tx(tx, now))?.len())
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
        let processor = processors.get(tender.processor()).ok_or_else(|| {
            Error::invalid(format!("no {} processor is configured", tender.processor()))
        })?;
        self.expire_holds()?;
        let now = self.now();
        let (key, amount, currency, h) = self.write_durable(|tx| {
            let h = load_hold(tx, hold_id)?;
            ensure_live(tx, &h, now)?;
            let (amount, currency): (i64, String) = tx.query_row(
                "SELECT coalesce(sum(cl.price_cents), 0), co.currency FROM claims cl JOIN concerts co ON co.id = cl.concert_id
                 WHERE cl.hold_id = ?1 AND cl.active = 1",
                [&h.id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            if let Tender::Cash { tendered_cents } = tender
                && *tendered_cents < amount
            {
                return Err(Error::InsufficientCash {
                    due: Money::new(amount, &currency).to_string(),
                    tendered: Money::new(*tendered_cents, &currency).to_string(),
                });
            }
            let attempt: i64 = tx.query_row(
                "SELECT count(*) + 1 FROM payments WHERE hold_id = ?1 AND kind = 'charge'",
                [&h.id],
                |r| r.get(0),
            )?;
            let key = format!("charge-{}-{attempt}", h.id);
            tx.execute(
                "INSERT INTO payments (kind, idempotency_key, hold_id, processor, amount_cents, currency, state, created_at, updated_at)
                 VALUES ('charge', ?1, ?2, ?3, ?4, ?5, 'pending', ?6, ?6)",
                params![key, h.id, processor.name(), amount, currency, ts(now)],
            )?;
            tx.execute("UPDATE holds SET state = 'paying' WHERE id = ?1", [&h.id])?;
            tx.execute(
                "UPDATE claims SET expires_at = NULL WHERE hold_id = ?1 AND active = 1",
                [&h.id],
            )?;
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
                // Unknown to us whether it went through: ask by key before giving the hold back.
                match processor.lookup(&key) {
                    Ok(Some(o)) => o,
                    _ => {
                        self.fail_payment(&key, &h.id, &e.0)?;
                        return Err(Error::Processor(e.0));
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

    /// Records a processor failure: nothing was charged, the hold is live again for a minute at
    /// least so the clerk can retry.
    fn fail_payment(&mut self, key: &str, hold_id: &str, why: &str) -> Result<()> {
        let now = self.now();
        self.write_durable(|tx| {
            tx.execute(
                "UPDATE payments SET state = 'failed', detail = ?2, updated_at = ?3 WHERE idempotency_key = ?1",
                params![key, why, ts(now)],
            )?;
            let expires = tx
                .query_row("SELECT expires_at FROM holds WHERE id = ?1", [hold_id], |r| {
                    r.get::<_, i64>(0)
                })?
                .max(ts(now + Duration::minutes(1)));
            tx.execute(
                "UPDATE holds SET state = 'live', expires_at = ?2 WHERE id = ?1 AND state = 'paying'",
                params![hold_id, expires],
            )?;
            tx.execute(
                "UPDATE claims SET expires_at = ?2 WHERE hold_id = ?1 AND active = 1",
                params![hold_id, expires],
            )?;
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
        let now = self.now();
        let result = self.write_durable(|tx| {
            let (hold_id, amount, currency, processor, state): (String, i64, String, String, String) =
                tx.query_row(
                    "SELECT hold_id, amount_cents, currency, processor, state FROM payments WHERE idempotency_key = ?1",
                    [key],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
                )?;
            if state != "pending" {
                return Err(Error::PaymentInProgress(hold_id));
            }
            let h = load_hold(tx, &hold_id)?;
            let view = hold_view(tx, &h)?;
            match outcome {
                ChargeOutcome::Approved { reference, change_cents, detail } if h.state == "paying" => {
                    let booking_id = insert_booking(tx, &h.id, amount, &processor, now)?;
                    tx.execute(
                        "UPDATE payments SET state = 'captured', reference = ?2, detail = ?3, booking_id = ?4, tendered_cents = ?5, change_cents = ?6, updated_at = ?7
                         WHERE idempotency_key = ?1",
                        params![key, reference, detail, booking_id, tendered, change_cents, ts(now)],
                    )?;
                    tx.execute(
                        "UPDATE holds SET state = 'paid', ended_at = ?2 WHERE id = ?1",
                        params![h.id, ts(now)],
                    )?;
                    tx.execute(
                        "UPDATE claims SET booking_id = ?2, expires_at = NULL WHERE hold_id = ?1 AND active = 1",
                        params![h.id, booking_id],
                    )?;
                    let facts = crate::notify::booking_facts(tx, booking_id)?;
                    crate::notify::queue(tx, h.customer_id, &crate::notify::confirmation(&facts, now), now)?;
                    Ok(Ok(Receipt {
                        booking_code: facts.code,
                        hold_id: h.id,
                        concert_id: h.concert_id,
                        seats: view.seats,
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
                    tx.execute(
                        "UPDATE payments SET state = 'captured', reference = ?2, detail = ?3, updated_at = ?4 WHERE idempotency_key = ?1",
                        params![key, reference, detail, ts(now)],
                    )?;
                    tx.execute(
                        "INSERT INTO payments (kind, idempotency_key, hold_id, processor, amount_cents, currency, state, reference, created_at, updated_at)
                         VALUES ('refund', 'refund-' || ?1, ?2, ?3, ?4, ?5, 'pending', ?6, ?7, ?7)",
                        params![key, h.id, processor, amount, currency, reference, ts(now)],
                    )?;
                    Ok(Err(Error::HoldNotLive { id: h.id, state: h.state }))
                }
                ChargeOutcome::Declined { reason } => {
                    tx.execute(
                        "UPDATE payments SET state = 'declined', detail = ?2, updated_at = ?3 WHERE idempotency_key = ?1",
                        params![key, reason, ts(now)],
                    )?;
                    tx.execute(
                        "UPDATE holds SET state = 'declined', ended_at = ?2 WHERE id = ?1",
                        params![h.id, ts(now)],
                    )?;
                    tx.execute("UPDATE claims SET active = 0 WHERE hold_id = ?1", [&h.id])?;
                    Ok(Err(Error::Declined {
                        reason,
                        concert_id: h.concert_id,
                        seats: view.seats,
                        customer: view.customer,
                    }))
                }
            }
        })?;
        if matches!(result, Err(Error::HoldNotLive { .. })) {
            self.run_pending_refunds(None, processors)?;
        }
        result
    }

    /// Finishes what a crash interrupted. Pending charges older than [`PAYMENT_LEASE`] (younger
    /// ones may be in flight at another terminal) are looked up at their processor by key: a
    /// captured one becomes its booking (or a refund), a declined or unknown one releases its
    /// seats. Pending refunds are retried under their keys, so nobody is refunded twice.
    pub fn reconcile(&mut self, processors: &Processors) -> Result<ReconcileReport> {
        let now = self.now();
        let mut report = ReconcileReport::default();
        let pending: Vec<(String, String, i64)> = {
            let mut st = self.conn().prepare(
                "SELECT idempotency_key, processor, created_at FROM payments WHERE kind = 'charge' AND state = 'pending' ORDER BY id",
            )?;
            st.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
                .collect::<rusqlite::Result<_>>()?
        };
        for (key, name, created) in pending {
            if created > ts(now - PAYMENT_LEASE) {
                report.in_flight += 1;
                continue;
            }
            let Some(processor) = processors.get(&name) else {
                report.unreachable += 1;
                continue;
            };
            match processor.lookup(&key) {
                Ok(Some(outcome)) => match self.finish_payment(&key, outcome, None, processors) {
                    Ok(receipt) => report.confirmed.push(receipt.booking_code),
                    Err(Error::Declined { .. }) => report.released += 1,
                    Err(Error::HoldNotLive { .. }) => report.refunded += 1,
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

    /// A charge the processor never saw: nothing was taken, the seats go back.
    fn abandon_payment(&mut self, key: &str) -> Result<()> {
        let now = self.now();
        self.write_durable(|tx| {
            let hold_id: String = tx.query_row(
                "SELECT hold_id FROM payments WHERE idempotency_key = ?1",
                [key],
                |r| r.get(0),
            )?;
            tx.execute(
                "UPDATE payments SET state = 'failed', detail = 'interrupted; the processor never saw it', updated_at = ?2
                 WHERE idempotency_key = ?1 AND state = 'pending'",
                params![key, ts(now)],
            )?;
            tx.execute(
                "UPDATE holds SET state = 'released', ended_at = ?2 WHERE id = ?1 AND state = 'paying'",
                params![hold_id, ts(now)],
            )?;
            tx.execute(
                "UPDATE claims SET active = 0 WHERE hold_id = ?1 AND booking_id IS NULL",
                [&hold_id],
            )?;
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
        let mut st = self.conn().prepare_cached(
            "SELECT s.label, s.category, cl.price_cents FROM claims cl JOIN seats s ON s.id = cl.seat_id
             WHERE cl.booking_id = ?1 ORDER BY s.grid_y, s.grid_x",
        )?;
        let seats = st
            .query_map([id], |r| {
                Ok(BookedSeat {
                    seat: r.get(0)?,
                    category: r.get(1)?,
                    price_cents: r.get(2)?,
                })
            })?
            .collect::<rusqlite::Result<_>>()?;
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
        let now = self.now();
        let (booking_id, seats) = self.write_durable(|tx| {
            let (id, state): (i64, String) = tx
                .query_row("SELECT id, state FROM bookings WHERE code = ?1", [&code], |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?
                .ok_or_else(|| Error::BookingNotFound(code.clone()))?;
            if state == "cancelled" {
                return Err(Error::AlreadyCancelled(code.clone()));
            }
            tx.execute("UPDATE bookings SET state = 'cancelled', cancelled_at = ?2 WHERE id = ?1", params![id, ts(now)])?;
            let seats: Vec<String> = {
                let mut st = tx.prepare(
                    "SELECT s.label FROM claims cl JOIN seats s ON s.id = cl.seat_id WHERE cl.booking_id = ?1 ORDER BY s.grid_y, s.grid_x",
                )?;
                st.query_map([id], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?
            };
            tx.execute("UPDATE claims SET active = 0 WHERE booking_id = ?1", [id])?;
            // One refund per captured charge, keyed so a retry never refunds twice.
            tx.execute(
                "INSERT INTO payments (kind, idempotency_key, hold_id, booking_id, processor, amount_cents, currency, state, reference, created_at, updated_at)
                 SELECT 'refund', 'refund-' || idempotency_key, hold_id, booking_id, processor, amount_cents, currency, 'pending', reference, ?2, ?2
                 FROM payments WHERE booking_id = ?1 AND kind = 'charge' AND state = 'captured'",
                params![id, ts(now)],
            )?;
            let refund: i64 = tx.query_row(
                "SELECT coalesce(sum(amount_cents), 0) FROM payments WHERE booking_id = ?1 AND kind = 'refund'",
                [id],
                |r| r.get(0),
            )?;
            let facts = crate::notify::booking_facts(tx, id)?;
            crate::notify::queue(
                tx,
                facts.customer_id,
                &crate::notify::cancellation(&facts, refund, now),
                now,
            )?;
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
            let now = self.now();
            self.write_durable(|tx| {
                tx.execute(
                    "UPDATE payments SET state = 'captured', reference = ?2, updated_at = ?3 WHERE idempotency_key = ?1 AND state = 'pending'",
                    params![key, reference, ts(now)],
                )?;
                Ok(())
            })?;
            done += 1;
        }
        Ok(done)
    }
}

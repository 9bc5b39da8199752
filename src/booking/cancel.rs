//! Cancelling a booking: seats freed (and offered to the waiting list), refunds queued, the
//! customer told.

use super::*;

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
    free_booking(tx, id)?;
    void_tickets(tx, id)?;
    let concert_id: i64 = tx
        .prepare_cached("SELECT concert_id FROM bookings WHERE id = ?1")?
        .query_row([id], |r| r.get(0))?;
    crate::waitlist::seats_freed(tx, concert_id, now)?;
    // What is left of each charge: seats cancelled earlier were refunded from it already.
    tx.prepare_cached(
        "INSERT INTO payments (kind, idempotency_key, hold_id, booking_id, processor, amount_cents, currency, state, reference, created_at, updated_at, clerk, terminal)
         SELECT 'refund', 'refund-' || c.idempotency_key, c.hold_id, c.booking_id, c.processor,
                c.amount_cents - coalesce((SELECT sum(r.amount_cents) FROM payments r
                    WHERE r.booking_id = c.booking_id AND r.kind = 'refund'
                      AND substr(r.idempotency_key, 1, length(c.idempotency_key) + 13)
                          = 'refund-' || c.idempotency_key || '-part-'), 0),
                c.currency, 'pending', c.reference, ?2, ?2, ?3, ?4
         FROM payments c WHERE c.booking_id = ?1 AND c.kind = 'charge' AND c.state = 'captured'
           AND c.amount_cents > coalesce((SELECT sum(r.amount_cents) FROM payments r
                    WHERE r.booking_id = c.booking_id AND r.kind = 'refund'
                      AND substr(r.idempotency_key, 1, length(c.idempotency_key) + 13)
                          = 'refund-' || c.idempotency_key || '-part-'), 0)",
    )?
    .execute(params![id, ts(now), tx.operator().clerk, tx.operator().terminal])?;
    let refund: i64 = tx
        .prepare_cached("SELECT coalesce(sum(amount_cents), 0) FROM payments WHERE booking_id = ?1 AND kind = 'refund' AND idempotency_key NOT LIKE '%-part-%'")?
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

/// The charge a refund's idempotency key gives money back for: `refund-KEY` refunds the charge
/// `KEY` (what is left of it), `refund-KEY-part-N` the seats cancelled out of its booking (the
/// `N`th refund of the booking), as the cancellations here write them.
pub(crate) fn refunded_charge(refund_key: &str) -> Option<&str> {
    let of = refund_key.strip_prefix("refund-")?;
    Some(match of.rsplit_once("-part-") {
        Some((charge, n)) if !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()) => charge,
        _ => of,
    })
}

/// Cancels some seats of a confirmed booking inside a transaction: they are free again (and
/// offered to the waiting list), their tickets void, the booking costs what is left, one
/// pending refund of their price is recorded against the booking's charge, and the customer
/// is told. The refund goes to the processor after the commit.
fn cancel_seats_tx(
    tx: &crate::store::Db,
    id: i64,
    code: &str,
    picked: &[ClaimedSeat],
    now: DateTime<Utc>,
) -> Result<()> {
    let ids: Vec<i64> = picked.iter().map(|s| s.seat_id).collect();
    let refund: i64 = picked.iter().map(|s| s.price_cents).sum();
    drop_from_booking(tx, id, &ids)?;
    void_seat_tickets(tx, id, &ids)?;
    tx.prepare_cached("UPDATE bookings SET total_cents = total_cents - ?2 WHERE id = ?1")?
        .execute(params![id, refund])?;
    let concert_id: i64 = tx
        .prepare_cached("SELECT concert_id FROM bookings WHERE id = ?1")?
        .query_row([id], |r| r.get(0))?;
    crate::waitlist::seats_freed(tx, concert_id, now)?;
    if refund > 0 {
        // Numbered per booking: each partial refund is its own, under its own key.
        let made = tx
            .prepare_cached(
                "INSERT INTO payments (kind, idempotency_key, hold_id, booking_id, processor, amount_cents, currency, state, reference, created_at, updated_at, clerk, terminal)
                 SELECT 'refund', 'refund-' || c.idempotency_key || '-part-' ||
                        (SELECT count(*) + 1 FROM payments r WHERE r.booking_id = c.booking_id AND r.kind = 'refund'),
                        c.hold_id, c.booking_id, c.processor, ?5, c.currency, 'pending', c.reference, ?2, ?2, ?3, ?4
                 FROM payments c WHERE c.booking_id = ?1 AND c.kind = 'charge' AND c.state = 'captured'
                 ORDER BY c.id LIMIT 1",
            )?
            .execute(params![
                id,
                ts(now),
                tx.operator().clerk,
                tx.operator().terminal,
                refund
            ])?;
        if made == 0 {
            return Err(Error::Corrupt(format!(
                "booking {code} has no captured payment to refund"
            )));
        }
    }
    let labels: Vec<String> = picked.iter().map(|s| s.label.clone()).collect();
    let facts = crate::notify::booking_facts(tx, id)?;
    crate::notify::queue(
        tx,
        facts.customer_id,
        &crate::notify::seats_cancelled(&facts, &labels, refund),
        now,
    )?;
    Ok(())
}

impl Store {
    /// Cancels a confirmed booking: its seats are free again at once, and what was paid is
    /// refunded through the processor that took it. A refund the processor cannot make now
    /// stays pending and `reconcile` retries it under the same key (never twice).
    /// `refunded_cents` in the answer is this cancellation's refund (seats cancelled
    /// before were refunded then).
    pub fn cancel_booking(&mut self, code: &str, processors: &Processors) -> Result<Cancellation> {
        self.cancel(code, None, processors)
    }

    /// Cancels some seats of a confirmed booking (all of them is the whole booking, as
    /// [`Store::cancel_booking`]): they are free again, their tickets void, their price
    /// refunded through the processor that took the payment. `refunded_cents` in the answer
    /// is this cancellation's refund. A seat the booking does not have is refused, and
    /// nothing changes.
    pub fn cancel_seats(
        &mut self,
        code: &str,
        labels: &[String],
        processors: &Processors,
    ) -> Result<Cancellation> {
        let mut wanted: Vec<String> = Vec::new();
        for l in labels {
            let l = l.trim().to_ascii_uppercase();
            if !l.is_empty() && !wanted.contains(&l) {
                wanted.push(l);
            }
        }
        if wanted.is_empty() {
            return Err(Error::invalid("name the seats to cancel"));
        }
        self.cancel(code, Some(&wanted), processors)
    }

    /// The booking `code`, or the seats `wanted` of it, cancelled in one durable transaction;
    /// then its refunds made.
    fn cancel(
        &mut self,
        code: &str,
        wanted: Option<&[String]>,
        processors: &Processors,
    ) -> Result<Cancellation> {
        let code = code.trim().to_ascii_uppercase();
        let before = self.booking(&code).map_or(0, |b| b.refunded_cents);
        let (booking_id, seats) = self.write_durable(|tx, now| {
            let (id, state): (i64, BookingState) = tx
                .query_row(
                    "SELECT id, state FROM bookings WHERE code = ?1",
                    [&code],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()?
                .ok_or_else(|| Error::BookingNotFound(code.clone()))?;
            if state == BookingState::Cancelled {
                return Err(Error::AlreadyCancelled(code.clone()));
            }
            let Some(wanted) = wanted else {
                return Ok((id, cancel_booking_tx(tx, id, None, now)?));
            };
            let booked = claimed_seats(tx, ClaimsOf::Booking(id))?;
            let unknown: Vec<&str> = wanted
                .iter()
                .filter(|w| !booked.iter().any(|s| s.label == **w))
                .map(String::as_str)
                .collect();
            if !unknown.is_empty() {
                return Err(Error::invalid(format!(
                    "not in booking {code}: {} (it has {})",
                    unknown.join(", "),
                    booked
                        .iter()
                        .map(|s| s.label.as_str())
                        .collect::<Vec<_>>()
                        .join(" ")
                )));
            }
            if wanted.len() == booked.len() {
                return Ok((id, cancel_booking_tx(tx, id, None, now)?));
            }
            let picked: Vec<ClaimedSeat> = booked
                .into_iter()
                .filter(|s| wanted.contains(&s.label))
                .collect();
            cancel_seats_tx(tx, id, &code, &picked, now)?;
            Ok((id, picked.into_iter().map(|s| s.label).collect()))
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
            refunded_cents: b.refunded_cents - before,
            refund_pending_cents: pending,
            currency: b.currency,
            method: b.method,
            seats,
        })
    }
}

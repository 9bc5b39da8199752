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
    tx.prepare_cached(
        "INSERT INTO payments (kind, idempotency_key, hold_id, booking_id, processor, amount_cents, currency, state, reference, created_at, updated_at, clerk, terminal)
         SELECT 'refund', 'refund-' || idempotency_key, hold_id, booking_id, processor, amount_cents, currency, 'pending', reference, ?2, ?2, ?3, ?4
         FROM payments WHERE booking_id = ?1 AND kind = 'charge' AND state = 'captured'",
    )?
    .execute(params![id, ts(now), tx.operator().clerk, tx.operator().terminal])?;
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
}

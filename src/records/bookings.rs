//! The bookings table's new rows: a paid hold becomes a booking under a fresh code, with a
//! ticket for each of its seats.

use super::*;

/// Turns a hold into a confirmed booking row with a fresh code and its tickets; returns the
/// booking's id.
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
        let who = tx.operator();
        let id: i64 = tx.prepare_cached("INSERT INTO bookings (code, concert_id, customer_id, hold_id, total_cents, currency, method, state, created_at, clerk, terminal)
             SELECT ?1, h.concert_id, ?6, h.id, ?3, co.currency, ?4, 'confirmed', ?5, ?7, ?8
             FROM holds h JOIN concerts co ON co.id = h.concert_id WHERE h.id = ?2
             RETURNING id")?.query_row(params![code, hold_id, total_cents, method, ts(now), customer_id, who.clerk, who.terminal],
            |r| r.get(0),
        )?;
        issue_tickets(tx, id)?;
        return Ok(id);
    }
    Err(Error::invalid(
        "could not find a free booking code; try again",
    ))
}

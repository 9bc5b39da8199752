//! The tickets table: one ticket per booked seat, the only module that writes it. A ticket is
//! issued with its booking, voided with its cancellation, and checked in at a door exactly once
//! (a conditional update: of two doors scanning it at once, one changes the row).

use super::*;
use crate::states::TicketState;

/// Issues a ticket for every seat a booking's hold lists, each under a new code.
pub(crate) fn issue_tickets(tx: &crate::store::Db, booking_id: i64) -> Result<()> {
    let Some(listed) = listed_seats(tx, ClaimsOf::Booking(booking_id))? else {
        return Ok(());
    };
    let mut st = tx.prepare_cached(
        "INSERT INTO tickets (code, booking_id, concert_id, seat_id) VALUES (?1, ?2, ?3, ?4)",
    )?;
    for (seat_id, _) in listed.seats {
        // 89 random bits: a repeat is not expected in the life of the universe; the primary
        // key refuses one anyway.
        st.execute(params![
            new_ticket_code(),
            booking_id,
            listed.concert_id,
            seat_id
        ])?;
    }
    Ok(())
}

/// Voids a cancelled booking's tickets that are still valid (one already used stays as used).
pub(crate) fn void_tickets(tx: &crate::store::Db, booking_id: i64) -> Result<usize> {
    Ok(tx
        .prepare_cached(
            "UPDATE tickets SET state = 'cancelled' WHERE booking_id = ?1 AND state = 'valid'",
        )?
        .execute([booking_id])?)
}

/// Voids the tickets of some of a booking's seats (a partial cancellation); a used one stays.
pub(crate) fn void_seat_tickets(
    tx: &crate::store::Db,
    booking_id: i64,
    seat_ids: &[i64],
) -> Result<usize> {
    let mut st = tx.prepare_cached(
        "UPDATE tickets SET state = 'cancelled' WHERE booking_id = ?1 AND seat_id = ?2 AND state = 'valid'",
    )?;
    let mut n = 0;
    for id in seat_ids {
        n += st.execute(params![booking_id, id])?;
    }
    Ok(n)
}

/// A ticket as the door sees it.
#[derive(Debug, Clone)]
pub(crate) struct DoorTicket {
    pub concert_id: i64,
    pub seat: String,
    pub state: TicketState,
    pub checked_in_at: Option<i64>,
    pub door: Option<String>,
    pub name: Option<String>,
    /// The venue's time zone (IANA name).
    pub timezone: String,
}

/// The ticket with this code, if there is one.
pub(crate) fn door_ticket(conn: &crate::store::Db, code: &str) -> Result<Option<DoorTicket>> {
    Ok(conn
        .prepare_cached(
            "SELECT t.concert_id, s.label, t.state, t.checked_in_at, t.door, cu.name,
                    (SELECT v.timezone FROM concerts co JOIN venues v ON v.id = co.venue_id WHERE co.id = t.concert_id)
             FROM tickets t JOIN seats s ON s.id = t.seat_id
             JOIN bookings b ON b.id = t.booking_id JOIN customers cu ON cu.id = b.customer_id
             WHERE t.code = ?1",
        )?
        .query_row([code], |r| {
            Ok(DoorTicket {
                concert_id: r.get(0)?,
                seat: r.get(1)?,
                state: r.get(2)?,
                checked_in_at: r.get(3)?,
                door: r.get(4)?,
                name: r.get(5)?,
                timezone: r.get(6)?,
            })
        })
        .optional()?)
}

/// Marks a valid ticket used, at `door`; false if it was not valid (another door got there
/// first, or it is void).
pub(crate) fn mark_checked_in(
    tx: &crate::store::Db,
    code: &str,
    door: Option<&str>,
    now: DateTime<Utc>,
) -> Result<bool> {
    Ok(tx
        .prepare_cached(
            "UPDATE tickets SET state = 'checked_in', checked_in_at = ?2, door = ?3
             WHERE code = ?1 AND state = 'valid'",
        )?
        .execute(params![code, ts(now), door])?
        == 1)
}

/// Reverses a mistaken scan: a used ticket is valid again. False if it was not checked in.
pub(crate) fn undo_check_in(tx: &crate::store::Db, code: &str) -> Result<bool> {
    Ok(tx
        .prepare_cached(
            "UPDATE tickets SET state = 'valid', checked_in_at = NULL, door = NULL
             WHERE code = ?1 AND state = 'checked_in'",
        )?
        .execute([code])?
        == 1)
}

/// A booking's tickets, in its seats' layout order.
pub(crate) fn booking_tickets(conn: &crate::store::Db, booking_id: i64) -> Result<Vec<Ticket>> {
    let mut st = conn.prepare_cached(
        "SELECT s.label, t.code, t.state, t.checked_in_at, t.door
         FROM tickets t JOIN seats s ON s.id = t.seat_id
         WHERE t.booking_id = ?1 ORDER BY s.grid_y, s.grid_x",
    )?;
    let rows = st.query_map([booking_id], |r| {
        Ok(Ticket {
            seat: r.get(0)?,
            ticket_code: r.get(1)?,
            state: r.get(2)?,
            checked_in_at: r.get::<Option<i64>>(3)?.map(crate::store::from_ts),
            door: r.get(4)?,
        })
    })?;
    Ok(rows.collect::<crate::store::sql::Result<_>>()?)
}

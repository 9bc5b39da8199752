//! The claims table, a seat taken for a concert, and its per-concert counts: the one module that
//! writes them. Everything else asks here to claim, keep, book or free seats.

use super::*;

/// The claims of hold `h` as a join, `claims cl` found through the seats it lists
/// (`holds.seats`, as `j`): one lookup by key per seat. CROSS JOIN keeps SQLite from starting
/// at the concert's claims.
///
/// On PostgreSQL (`held_by!(pg)`) the list is `jsonb_array_elements`, which a function in FROM
/// may take from `h` without LATERAL; a plain JOIN (CROSS JOIN takes no ON there).
macro_rules! held_by {
    () => {
        "json_each(h.seats) j CROSS JOIN claims cl ON cl.concert_id = h.concert_id
           AND cl.seat_id = j.value ->> 0 AND cl.hold_id = h.id"
    };
    (pg) => {
        "jsonb_array_elements(CAST(h.seats AS jsonb)) j JOIN claims cl ON cl.concert_id = h.concert_id
           AND cl.seat_id = CAST(j.value ->> 0 AS BIGINT) AND cl.hold_id = h.id"
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
fn each_claim(
    tx: &crate::store::Db,
    hold_id: &str,
    sql: &'static str,
    extra: &[&dyn crate::store::sql::ToSql],
) -> Result<usize> {
    let Some(Listed {
        concert_id, seats, ..
    }) = listed_seats(tx, ClaimsOf::Hold(hold_id))?
    else {
        return Ok(0);
    };
    let mut st = tx.prepare_cached(sql)?;
    let mut changed = 0;
    let mut values: Vec<&dyn crate::store::sql::ToSql> = Vec::with_capacity(3 + extra.len());
    for (seat_id, _) in &seats {
        values.clear();
        values.extend([
            &concert_id as &dyn crate::store::sql::ToSql,
            seat_id,
            &hold_id,
        ]);
        values.extend_from_slice(extra);
        changed += st.execute(values.as_slice())?;
    }
    Ok(changed)
}

/// Whose claims: a hold's or a booking's.
pub(crate) enum ClaimsOf<'a> {
    Hold(&'a str),
    Booking(i64),
}

/// A seat as claimed by a hold or booking.
pub(crate) struct ClaimedSeat {
    pub seat_id: i64,
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
                        seat_id,
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
pub(crate) struct Listed {
    pub(crate) concert_id: i64,
    /// `(seat id, price in cents)`, as the hold was made.
    pub(crate) seats: Vec<(i64, i64)>,
}

/// The seats a hold lists, or a booking's hold; `None` if there is no such hold or booking.
/// The one reader of `holds.seats` outside SQL ([`held_by`] is the one inside).
pub(crate) fn listed_seats(conn: &crate::store::Db, of: ClaimsOf<'_>) -> Result<Option<Listed>> {
    let row = |r: &crate::store::sql::Row<'_>| -> crate::store::sql::Result<(String, i64, String)> {
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
fn count_new_claims(
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

/// Frees the seats a hold claims that are not part of a booking (a hold ending).
pub(crate) fn free_unbooked(tx: &crate::store::Db, hold_id: &str) -> Result<usize> {
    each_claim(
        tx,
        hold_id,
        concat!(
            "DELETE FROM claims WHERE ",
            claim_key!(),
            " AND booking_id IS NULL"
        ),
        &[],
    )
}

/// Keeps a hold's claims without a time limit while its payment is in flight.
pub(crate) fn keep_while_paying(tx: &crate::store::Db, hold_id: &str) -> Result<usize> {
    each_claim(
        tx,
        hold_id,
        concat!("UPDATE claims SET expires_at = NULL WHERE ", claim_key!()),
        &[],
    )
}

/// Gives a hold's claims a time limit again (`expires` in unix seconds): a payment that did not
/// go through leaves the hold live until then.
pub(crate) fn expire_at(tx: &crate::store::Db, hold_id: &str, expires: i64) -> Result<usize> {
    each_claim(
        tx,
        hold_id,
        concat!("UPDATE claims SET expires_at = ?4 WHERE ", claim_key!()),
        &[&expires],
    )
}

/// Makes a paid hold's claims its booking's: no longer held, kept or timed.
pub(crate) fn book(tx: &crate::store::Db, hold_id: &str, booking_id: i64) -> Result<usize> {
    each_claim(
        tx,
        hold_id,
        concat!(
            "UPDATE claims SET booking_id = ?4, expires_at = NULL, reserved = 0 WHERE ",
            claim_key!()
        ),
        &[&booking_id],
    )
}

/// Frees a cancelled booking's seats.
pub(crate) fn free_booking(tx: &crate::store::Db, booking_id: i64) -> Result<usize> {
    Ok(tx
        .prepare_cached("DELETE FROM claims WHERE booking_id = ?1")?
        .execute([booking_id])?)
}

/// Takes some seats out of a confirmed booking (a partial cancellation): their claims are
/// freed and the booking's hold no longer lists them, so every reader of the booking's seats
/// (its view, its notices, a later full cancellation) sees what is left. The seats' tickets
/// keep the history.
pub(crate) fn drop_from_booking(
    tx: &crate::store::Db,
    booking_id: i64,
    seat_ids: &[i64],
) -> Result<()> {
    let mut free =
        tx.prepare_cached("DELETE FROM claims WHERE booking_id = ?1 AND seat_id = ?2")?;
    for id in seat_ids {
        free.execute(params![booking_id, id])?;
    }
    let Some(listed) = listed_seats(tx, ClaimsOf::Booking(booking_id))? else {
        return Ok(());
    };
    let kept = seat_list(
        listed
            .seats
            .into_iter()
            .filter(|(id, _)| !seat_ids.contains(id)),
    );
    tx.prepare_cached(
        "UPDATE holds SET seats = ?2 WHERE id = (SELECT hold_id FROM bookings WHERE id = ?1)",
    )?
    .execute(params![booking_id, kept])?;
    Ok(())
}

/// Frees every seat of a concert that is not booked (the concert is called off).
pub(crate) fn free_unbooked_of_concert(tx: &crate::store::Db, concert_id: i64) -> Result<usize> {
    Ok(tx
        .prepare_cached("DELETE FROM claims WHERE concert_id = ?1 AND booking_id IS NULL")?
        .execute([concert_id])?)
}

/// Claims `seats` (`(seat id, label, price in cents)`) for hold `hold_id` until `expires_at`
/// (`None`: no time limit), counted as `what`; `booking_id` for claims sold at once (the demo's
/// sales). A seat already claimed is refused by name.
pub(crate) fn claim(
    tx: &crate::store::Db,
    concert_id: i64,
    hold_id: &str,
    seats: &[(i64, String, i64)],
    expires_at: Option<DateTime<Utc>>,
    booking_id: Option<i64>,
    what: NewClaims,
) -> Result<()> {
    let mut st = tx.prepare_cached(
        "INSERT INTO claims (concert_id, seat_id, hold_id, booking_id, price_cents, expires_at, reserved)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    let expires_at = expires_at.map(ts);
    let reserved = (what == NewClaims::Reserved) as i64;
    for (seat_id, label, price) in seats {
        st.execute(params![
            concert_id, seat_id, hold_id, booking_id, price, expires_at, reserved
        ])
        .map_err(|e| {
            // Unreachable under the write lock; the table's key is the last line of defence.
            if e.is_constraint() {
                Error::SeatsTaken(vec![label.clone()])
            } else {
                e.into()
            }
        })?;
    }
    count_new_claims(tx, concert_id, seats.len(), what)
}

/// Keeps for the waiting list's pool `pool` every free seat of the concert (at venue `venue_id`)
/// in one of `categories` (`None`: any category). Returns how many were kept.
pub(crate) fn keep_for_waiting_list(
    tx: &crate::store::Db,
    concert_id: i64,
    venue_id: i64,
    pool: &str,
    categories: Option<&[String]>,
) -> Result<usize> {
    let kept = tx
        .prepare_cached(
            "INSERT INTO claims (concert_id, seat_id, hold_id, price_cents, expires_at, reserved)
         SELECT ?1, s.id, ?2, p.price_cents, NULL, 1 FROM seats s
         JOIN prices p ON p.concert_id = ?1 AND p.category = s.category
         WHERE s.venue_id = ?3
           AND (CAST(?4 AS TEXT) IS NULL OR s.category IN (SELECT value FROM json_each(?4)))
           AND NOT EXISTS (SELECT 1 FROM claims cl WHERE cl.concert_id = ?1 AND cl.seat_id = s.id)",
        )?
        .execute(params![
            concert_id,
            pool,
            venue_id,
            categories.map(|c| serde_json::to_string(c).expect("strings serialize"))
        ])?;
    count_new_claims(tx, concert_id, kept, NewClaims::Reserved)?;
    Ok(kept)
}

/// Gives back every seat the pool keeps (found through the index of kept claims).
pub(crate) fn give_back_kept(tx: &crate::store::Db, pool: &str) -> Result<usize> {
    Ok(tx
        .prepare_cached("DELETE FROM claims WHERE hold_id = ?1 AND reserved = 1")?
        .execute([pool])?)
}

/// Takes seats out of the pool's keeping (they are about to be offered).
pub(crate) fn take_from_pool(
    tx: &crate::store::Db,
    concert_id: i64,
    pool: &str,
    seat_ids: &[i64],
) -> Result<usize> {
    Ok(tx
        .prepare_cached(
            "DELETE FROM claims WHERE concert_id = ?3 AND seat_id IN (SELECT CAST(value AS INTEGER) FROM json_each(?2))
             AND hold_id = ?1",
        )?
        .execute(params![pool, json_ids(seat_ids), concert_id])?)
}

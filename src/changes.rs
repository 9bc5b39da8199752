//! Changes to a concert once it is on sale: its rules (ticket limit, hold and offer times), a new
//! date, or calling it off.

use crate::catalog::VenueStart;
use crate::error::{Error, Result};
use crate::notify;
use crate::params;
use crate::payment::Processors;
use crate::store::{Store, from_ts, ts};
use chrono::{DateTime, NaiveDateTime, Utc};
use serde::Serialize;

/// What [`Store::reschedule_concert`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RescheduleReport {
    /// The concert that moved.
    pub concert_id: i64,
    /// Its new start (UTC).
    pub starts_at: DateTime<Utc>,
    /// Bookings whose holders were told.
    pub notified: usize,
}

/// What [`Store::cancel_concert`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ConcertCancelReport {
    /// The concert called off.
    pub concert_id: i64,
    /// How many confirmed bookings were cancelled.
    pub bookings_cancelled: usize,
    /// Money refunded to their holders so far, in cents.
    pub refunded_cents: i64,
    /// Refunds a processor could not make yet; the next start (or `reconcile`) finishes them.
    pub refunds_pending_cents: i64,
    /// How many live holds (and holds being paid) were released.
    pub holds_released: usize,
    /// How many people on the waiting list were told.
    pub waitlist_told: usize,
}

/// Moves a concert to `local_start` (the venue's wall time): its calendar sequence goes up and
/// every ticket holder is told, with a calendar entry that replaces the old one. Returns the new
/// start and how many bookings were told.
pub(crate) fn move_start(
    tx: &crate::store::Db,
    concert_id: i64,
    start: crate::catalog::StartAt,
    now: DateTime<Utc>,
) -> Result<(DateTime<Utc>, usize)> {
    let tz: String = tx
        .prepare_cached(
            "SELECT v.timezone FROM concerts c JOIN venues v ON v.id = c.venue_id WHERE c.id = ?1",
        )?
        .query_row([concert_id], |r| r.get(0))?;
    let start = VenueStart::of(&tz, start)?;
    tx.prepare_cached("UPDATE concerts SET starts_at = ?2, utc_offset = ?3, local_date = ?4, local_time = ?5, sequence = sequence + 1 WHERE id = ?1")?.execute(params![
            concert_id,
            start.starts_at,
            start.utc_offset,
            start.local_date,
            start.local_time
        ],
    )?;
    let bookings: Vec<i64> = {
        let mut st = tx.prepare(
            "SELECT id FROM bookings WHERE concert_id = ?1 AND state = 'confirmed' ORDER BY id",
        )?;
        st.query_map([concert_id], |r| r.get(0))?
            .collect::<crate::store::sql::Result<_>>()?
    };
    for id in &bookings {
        let facts = notify::booking_facts(tx, *id)?;
        notify::queue(
            tx,
            facts.customer_id,
            &notify::rescheduled(&facts, now),
            now,
        )?;
    }
    Ok((from_ts(start.starts_at), bookings.len()))
}

/// Refuses a change to a concert that was called off (or does not exist).
fn ensure_not_cancelled(tx: &crate::store::Db, concert_id: i64) -> Result<()> {
    if crate::booking::concert_rules(tx, concert_id)?.status == crate::ConcertStatus::Cancelled {
        return Err(Error::ConcertCancelled(concert_id.to_string()));
    }
    Ok(())
}

impl Store {
    /// When a concert's doors open: `minutes` before it starts (a check-in earlier is refused as
    /// too early). 0 to 1,440.
    pub fn set_doors_open(&mut self, concert_id: i64, minutes: i64) -> Result<()> {
        if !(0..=1440).contains(&minutes) {
            return Err(Error::invalid(
                "the doors open 0 to 1440 minutes (a day) before the start",
            ));
        }
        self.write(|tx, _| {
            crate::booking::concert_rules(tx, concert_id)?;
            tx.prepare_cached("UPDATE concerts SET doors_minutes = ?2 WHERE id = ?1")?
                .execute(params![concert_id, minutes])?;
            Ok(())
        })
    }

    /// Sets a concert's fairness rules; `None` leaves a rule as it is.
    pub fn set_concert_rules(
        &mut self,
        concert_id: i64,
        ticket_limit: Option<i64>,
        hold_minutes: Option<i64>,
        offer_minutes: Option<i64>,
    ) -> Result<()> {
        for (name, v) in [
            ("ticket limit", ticket_limit),
            ("hold minutes", hold_minutes),
            ("offer minutes", offer_minutes),
        ] {
            if v.is_some_and(|v| !(1..=100_000).contains(&v)) {
                return Err(Error::invalid(format!(
                    "the {name} must be a positive number"
                )));
            }
        }
        self.write(|tx, _| {
            crate::booking::concert_rules(tx, concert_id)?;
            tx.prepare_cached("UPDATE concerts SET ticket_limit = coalesce(?2, ticket_limit), hold_minutes = coalesce(?3, hold_minutes),
                 offer_minutes = coalesce(?4, offer_minutes) WHERE id = ?1")?.execute(params![concert_id, ticket_limit, hold_minutes, offer_minutes],
            )?;
            Ok(())
        })
    }

    /// Moves a concert to a new date and time at its venue; every ticket holder is told.
    pub fn reschedule_concert(
        &mut self,
        concert_id: i64,
        local_start: NaiveDateTime,
    ) -> Result<RescheduleReport> {
        let (starts_at, notified) = self.write_durable(|tx, now| {
            ensure_not_cancelled(tx, concert_id)?;
            move_start(
                tx,
                concert_id,
                crate::catalog::StartAt::Local(local_start),
                now,
            )
        })?;
        Ok(RescheduleReport {
            concert_id,
            starts_at,
            notified,
        })
    }

    /// Calls a concert off: in one transaction every booking is cancelled with its refund
    /// recorded as pending, live holds and waiting-list offers end, and everyone is told; then
    /// the refunds go to the processors that took the money. A crash part-way is finished by
    /// the next start, under the same keys, so nobody is refunded twice.
    pub fn cancel_concert(
        &mut self,
        concert_id: i64,
        reason: &str,
        processors: &Processors,
    ) -> Result<ConcertCancelReport> {
        let reason = reason.trim();
        if reason.is_empty()
            || reason.chars().any(crate::text::is_hidden_or_control)
            || reason.chars().count() > 300
        {
            return Err(Error::invalid(
                "give a reason on one line (at most 300 characters): customers are told it",
            ));
        }
        let (mut report, cancelled) = self.write_durable(|tx, now| {
            ensure_not_cancelled(tx, concert_id)?;
            let mut report = ConcertCancelReport { concert_id, ..Default::default() };
            tx.prepare_cached("UPDATE concerts SET status = 'cancelled', cancel_reason = ?2 WHERE id = ?1")?.execute(params![concert_id, reason],
            )?;
            // Holds end, including one being paid: its charge will be refunded when it lands.
            report.holds_released = tx.prepare_cached("UPDATE holds SET state = 'released', ended_at = ?2 WHERE concert_id = ?1 AND state IN ('live', 'paying') AND kind != 'pool'")?.execute(params![concert_id, ts(now)],
            )?;
            crate::records::free_unbooked_of_concert(tx, concert_id)?;
            let waiting: Vec<(i64, i64)> = {
                let mut st = tx.prepare(
                    "SELECT id, customer_id FROM waitlist WHERE concert_id = ?1 AND state IN ('waiting', 'offered')",
                )?;
                st.query_map([concert_id], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<crate::store::sql::Result<_>>()?
            };
            let (artist, title): (String, String) =
                tx.prepare_cached("SELECT artist, title FROM concerts WHERE id = ?1")?.query_row([concert_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
            let notice = notify::Notice {
                kind: crate::states::NoticeKind::ConcertCancelled,
                subject: format!("Cancelled: {artist} - {title}"),
                body: format!(
                    "Hello,\n\n{artist} - {title} has been cancelled: {reason}\nYou were on its waiting list; nothing was charged.\n\nboxoffice\n"
                ),
                sms: format!("{artist} - {title} is cancelled ({reason}). You were on the waiting list; nothing was charged."),
                calendar: None,
                booking_code: None,
            };
            for (id, customer) in &waiting {
                tx.prepare_cached("UPDATE waitlist SET state = 'left', updated_at = ?2 WHERE id = ?1")?.execute(params![id, ts(now)])?;
                notify::queue(tx, *customer, &notice, now)?;
            }
            report.waitlist_told = waiting.len();
            let bookings: Vec<i64> = {
                let mut st = tx.prepare("SELECT id FROM bookings WHERE concert_id = ?1 AND state = 'confirmed' ORDER BY id")?;
                st.query_map([concert_id], |r| r.get(0))?.collect::<crate::store::sql::Result<_>>()?
            };
            for id in &bookings {
                crate::booking::cancel_booking_tx(tx, *id, Some(reason), now)?;
            }
            report.bookings_cancelled = bookings.len();
            Ok((report, bookings))
        })?;
        crate::failpoint::hit("concert-cancel:after-cancel");
        self.run_pending_refunds(None, processors)?;
        // The refunds of the bookings cancelled here (not of any cancelled one by one before).
        let (refunded, pending): (i64, i64) = self.conn().query_row(
            "SELECT coalesce(sum(CASE WHEN state = 'captured' THEN amount_cents END), 0),
                    coalesce(sum(CASE WHEN state = 'pending' THEN amount_cents END), 0)
             FROM payments WHERE kind = 'refund' AND booking_id IN (SELECT CAST(value AS INTEGER) FROM json_each(?1))",
            [crate::records::json_ids(&cancelled)],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )?;
        report.refunded_cents = refunded;
        report.refunds_pending_cents = pending;
        Ok(report)
    }
}

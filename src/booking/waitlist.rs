//! The waiting list of a sold-out concert (or of a sold-out category).
//!
//! While people wait, every seat that frees up (a cancellation, an expired hold, a declined
//! payment) is kept for them ("reserved"), never sold to a walk-up. In the same transaction the
//! queue is served in join order: the first entry whose party fits gets an offer, a hold on the
//! best of the freed seats in their name with its own, longer time to pay; an entry whose
//! party does not fit keeps its place. An offer that runs out moves on to the next person.

use crate::booking::{
    FreeRule, SamePerson, concert_rules, insert_hold, json_ids, load_geometry, normalize_email,
    person_holds, record_customer, recorded_customer, same_person_ids,
};
use crate::error::{Error, Result};
use crate::model::{CustomerInfo, Money, WaitlistEntry};
use crate::notify::{self, Notice};
use crate::params;
use crate::states::WaitlistState;
use crate::store::sql::OptionalExtension;
use crate::store::{SEAT_STATUS_SQL, Store, from_ts, ts};
use chrono::{DateTime, Duration, Utc};

/// Freed seats kept for the waiting list are claimed by one pool hold per concert, made out to
/// this placeholder address, so the unique index guards them like any other claim.
const POOL_OWNER: &str = "waiting-list@boxoffice.invalid";

fn pool_id(concert_id: i64) -> String {
    format!("POOL-{concert_id}")
}

/// Marks the waiting-list entry of an offer hold as ended (booked, expired or left); an
/// expired offer is told to its customer.
pub(crate) fn end_offer(
    tx: &crate::store::Db,
    hold_id: &str,
    state: WaitlistState,
    now: DateTime<Utc>,
) -> Result<()> {
    let entry: Option<(i64, i64, i64)> = tx
        .query_row(
            "SELECT id, customer_id, concert_id FROM waitlist WHERE hold_id = ?1 AND state = 'offered'",
            [hold_id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    let Some((id, customer_id, concert_id)) = entry else {
        return Ok(());
    };
    tx.prepare_cached("UPDATE waitlist SET state = ?2, updated_at = ?3 WHERE id = ?1")?
        .execute(params![id, state, ts(now)])?;
    debug_assert!(matches!(
        state,
        WaitlistState::Booked | WaitlistState::Expired | WaitlistState::Left
    ));
    if state == WaitlistState::Expired {
        let c = concert_words(tx, concert_id)?;
        let notice = Notice {
            kind: crate::states::NoticeKind::WaitlistExpired,
            subject: format!("Your offer for {} has ended", c.name),
            body: format!(
                "Hello,\n\nthe seats we kept for you for {} on {} were not paid in time, so they \
                 went to the next person on the waiting list. You are no longer on the list; you \
                 are welcome to join it again.\n\nboxoffice\n",
                c.name, c.when
            ),
            sms: format!(
                "Your offer for {} ({}) has ended; the seats went to the next person.",
                c.name, c.short_when
            ),
            calendar: None,
            booking_code: None,
        };
        notify::queue(tx, customer_id, &notice, now)?;
    }
    Ok(())
}

struct ConcertWords {
    name: String,
    when: String,
    short_when: String,
    /// The venue's time zone (deadlines are told in it).
    timezone: String,
    venue: String,
    currency: String,
}

fn concert_words(tx: &crate::store::Db, concert_id: i64) -> Result<ConcertWords> {
    Ok(tx.prepare_cached("SELECT co.artist, co.title, co.starts_at, v.timezone, v.name, co.currency FROM concerts co
         JOIN venues v ON v.id = co.venue_id WHERE co.id = ?1")?.query_row([concert_id],
        |r| {
            let timezone: String = r.get(3)?;
            let when = crate::notify::at_venue(from_ts(r.get(2)?), &timezone);
            Ok(ConcertWords {
                name: format!("{} - {}", r.get::<String>(0)?, r.get::<String>(1)?),
                when: when.long,
                short_when: when.short,
                timezone,
                venue: r.get(4)?,
                currency: r.get(5)?,
            })
        },
    )?)
}

/// Called in every transaction that frees seats of a concert. Keeps free seats for the
/// waiting list while anyone waits, and makes offers in join order.
pub(crate) fn seats_freed(
    tx: &crate::store::Db,
    concert_id: i64,
    now: DateTime<Utc>,
) -> Result<()> {
    let waiting: Vec<(i64, i64, i64, Option<String>)> = {
        let mut st = tx.prepare_cached(
            "SELECT id, customer_id, party, category FROM waitlist WHERE concert_id = ?1 AND state = 'waiting' ORDER BY id",
        )?;
        st.query_map([concert_id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })?
        .collect::<crate::store::sql::Result<_>>()?
    };
    let pool = pool_id(concert_id);
    if waiting.is_empty() {
        // Nobody waits: kept seats go back on sale.
        crate::records::give_back_kept(tx, &pool)?;
        return Ok(());
    }
    let rules = concert_rules(tx, concert_id)?;
    if rules.status == crate::ConcertStatus::Cancelled {
        return Ok(());
    }
    ensure_pool(tx, concert_id, now)?;
    // Keep every free seat some waiting entry could use.
    let any_category = waiting.iter().any(|w| w.3.is_none());
    let categories: Vec<String> = waiting.iter().filter_map(|w| w.3.clone()).collect();
    crate::records::keep_for_waiting_list(
        tx,
        concert_id,
        rules.venue_id,
        &pool,
        (!any_category).then_some(categories.as_slice()),
    )?;
    // Serve the queue in join order from the kept seats.
    let (mut seats, centre) =
        load_geometry(tx, concert_id, rules.venue_id, FreeRule::Pool(pool.clone()))?;
    let mut served = 0;
    for (entry_id, customer_id, party, category) in &waiting {
        let geo = crate::fairness::Geometry::new(&seats, centre);
        let Some(pick) = geo.best(*party as usize, |s| {
            category.as_ref().is_none_or(|c| **c == *s.category)
        }) else {
            continue; // keeps its place until enough seats free up
        };
        let chosen: Vec<(i64, String, i64)> = pick
            .ids
            .iter()
            .zip(&pick.labels)
            .map(|(id, l)| {
                (
                    *id,
                    l.clone(),
                    seats
                        .iter()
                        .find(|s| s.id == *id)
                        .map(|s| s.price_cents)
                        .unwrap_or(0),
                )
            })
            .collect();
        crate::records::take_from_pool(tx, concert_id, &pool, &pick.ids)?;
        let deadline = now + Duration::minutes(rules.offer_minutes);
        let hold_id = insert_hold(
            tx,
            concert_id,
            &recorded_customer(tx, *customer_id)?,
            crate::states::HoldKind::Offer,
            now,
            deadline,
            false,
            &chosen,
        )?;
        tx.prepare_cached("UPDATE waitlist SET state = 'offered', hold_id = ?2, offer_expires_at = ?3, updated_at = ?4 WHERE id = ?1")?.execute(params![entry_id, hold_id, ts(deadline), ts(now)],
        )?;
        for s in seats.iter_mut() {
            if pick.ids.contains(&s.id) {
                s.free = false;
            }
        }
        notify::queue(
            tx,
            *customer_id,
            &offer_notice(tx, concert_id, &hold_id, &chosen, deadline)?,
            now,
        )?;
        served += 1;
    }
    if served == waiting.len() {
        crate::records::give_back_kept(tx, &pool)?;
    }
    Ok(())
}

fn ensure_pool(tx: &crate::store::Db, concert_id: i64, now: DateTime<Utc>) -> Result<()> {
    tx.prepare_cached(
        "INSERT INTO holds (id, concert_id, email, name, created_at, expires_at, state, kind)
         VALUES (?1, ?2, ?3, 'Waiting list', ?4, 253402300799, 'live', 'pool')
         ON CONFLICT (id) DO NOTHING",
    )?
    .execute(params![
        pool_id(concert_id),
        concert_id,
        POOL_OWNER,
        ts(now)
    ])?;
    Ok(())
}

fn offer_notice(
    tx: &crate::store::Db,
    concert_id: i64,
    hold_id: &str,
    seats: &[(i64, String, i64)],
    deadline: DateTime<Utc>,
) -> Result<Notice> {
    let c = concert_words(tx, concert_id)?;
    let total: i64 = seats.iter().map(|s| s.2).sum();
    let local_deadline = crate::notify::at_venue(deadline, &c.timezone).long;
    let labels: Vec<&str> = seats.iter().map(|s| s.1.as_str()).collect();
    let lines: Vec<String> = seats
        .iter()
        .map(|s| format!("{} ({})", s.1, Money::new(s.2, &c.currency)))
        .collect();
    Ok(Notice {
        kind: crate::states::NoticeKind::WaitlistOffer,
        subject: format!("Seats for you: {} (pay by {local_deadline})", c.name),
        body: format!(
            "Hello,\n\ngood news from the waiting list: seats are free for you.\n\n\
             Concert         {}\n\
             Date            {}\n\
             Venue           {}\n\
             Seats           {}\n\
             Total           {}\n\
             Pay by          {local_deadline}\n\
             Your code       {hold_id}\n\n\
             Show the code at the box office to pay. If you do not pay in time, the seats go to the\n\
             next person on the waiting list.\n\nboxoffice\n",
            c.name,
            c.when,
            c.venue,
            lines.join("\n                "),
            Money::new(total, &c.currency),
        ),
        sms: {
            let full = format!(
                "Seats for you: {}, {}. {} for {}. Pay by {local_deadline}, code {hold_id}",
                c.name,
                c.short_when,
                labels.join(" "),
                Money::new(total, &c.currency)
            );
            if full.chars().count() <= 160 {
                full
            } else {
                format!(
                    "{} seats for you: {}. {}. Pay by {local_deadline}, code {hold_id}",
                    labels.len(),
                    c.short_when,
                    Money::new(total, &c.currency)
                )
            }
        },
        calendar: None,
        booking_code: None,
    })
}

fn entry_view(tx: &crate::store::Db, id: i64) -> Result<WaitlistEntry> {
    let mut entry = tx.prepare_cached("SELECT coalesce(cu.email, cu.phone), w.party, w.category, w.state, w.joined_at, w.hold_id, w.offer_expires_at,
                CASE WHEN w.state IN ('waiting', 'offered') THEN
                    (SELECT count(*) FROM waitlist o WHERE o.concert_id = w.concert_id
                       AND o.state IN ('waiting', 'offered') AND o.id <= w.id) END
         FROM waitlist w JOIN customers cu ON cu.id = w.customer_id WHERE w.id = ?1")?.query_row([id],
        |r| {
            let state: crate::WaitlistState = r.get(3)?;
            let deadline: Option<i64> = r.get(6)?;
            Ok(WaitlistEntry {
                position: r.get(7)?,
                customer: r.get(0)?,
                party: r.get(1)?,
                category: r.get(2)?,
                offer_expires_at: if state == crate::WaitlistState::Offered {
                    deadline.map(from_ts)
                } else {
                    None
                },
                state,
                joined_at: from_ts(r.get(4)?),
                offer: r.get(5)?,
                offer_seats: Vec::new(),
            })
        },
    )?;
    if let Some(h) = &entry.offer {
        entry.offer_seats = crate::records::claimed_seats(tx, crate::records::ClaimsOf::Hold(h))?
            .into_iter()
            .map(|s| s.label)
            .collect();
    }
    Ok(entry)
}

impl Store {
    /// Joins the waiting list of a sold-out concert (or of a sold-out category) with a party of
    /// 1 up to the ticket limit. One entry per customer per concert.
    pub fn join_waitlist(
        &mut self,
        concert_id: i64,
        customer: &CustomerInfo,
        party: i64,
        category: Option<&str>,
    ) -> Result<WaitlistEntry> {
        self.expire_holds()?;
        self.write(|tx, now| {
            let rules = concert_rules(tx, concert_id)?;
            if rules.status == crate::ConcertStatus::Cancelled {
                return Err(Error::ConcertCancelled(concert_id.to_string()));
            }
            let category = category.map(|c| c.trim().to_ascii_uppercase());
            if let Some(c) = &category {
                let known: bool = tx.prepare_cached("SELECT EXISTS (SELECT 1 FROM prices WHERE concert_id = ?1 AND category = ?2)")?.query_row(params![concert_id, c],
                    |r| r.get(0),
                )?;
                if !known {
                    return Err(Error::invalid(format!("this concert has no seat category {c}")));
                }
            }
            if customer.email_address().is_none()
                && customer.phone.as_deref().is_none_or(|p| p.trim().is_empty())
            {
                // The offer is sent to them: without an address or a number nobody is told.
                return Err(Error::invalid(
                    "the waiting list needs the customer's email or mobile number: the offer \
                     is sent there",
                ));
            }
            let who = CustomerInfo::checked(customer, crate::catalog::venue_country(tx, concert_id)?.as_deref())?;
            let customer_id = record_customer(tx, who.clone())?;
            let same = same_person_ids(tx, customer_id)?;
            let booked: i64 = person_holds(tx, concert_id, &SamePerson::of(tx, &who)?)?
                .iter()
                .map(|h| h.claims)
                .sum();
            let room = rules.ticket_limit - booked;
            if party < 1 || party > room {
                return Err(Error::invalid(format!(
                    "a party is 1 to {room} people (the limit is {} per customer{})",
                    rules.ticket_limit,
                    if booked > 0 { format!(", and they already have {booked}") } else { String::new() }
                )));
            }
            let existing: Option<i64> = tx
                .query_row(
                    "SELECT id FROM waitlist WHERE concert_id = ?1 AND state IN ('waiting', 'offered')
                     AND customer_id IN (SELECT CAST(value AS INTEGER) FROM json_each(?2))",
                    params![concert_id, json_ids(&same)],
                    |r| r.get(0),
                )
                .optional()?;
            if let Some(id) = existing {
                let e = entry_view(tx, id)?;
                return Err(Error::invalid(format!(
                    "{} is already on the waiting list (position {})",
                    e.customer,
                    e.position.unwrap_or_default()
                )));
            }
            // Free by the one seat-status rule the seat map and the counts use.
            let free: i64 = tx
                .prepare_cached(&format!(
                    "SELECT count(*) FROM concerts co JOIN seats s ON s.venue_id = co.venue_id
                     LEFT JOIN claims cl ON cl.concert_id = co.id AND cl.seat_id = s.id
                     WHERE co.id = :id AND (CAST(:category AS TEXT) IS NULL OR s.category = :category)
                       AND {SEAT_STATUS_SQL} = 'free'"
                ))?
                .query_row(
                    crate::named_params! {":id": concert_id, ":category": category, ":now": ts(now)},
                    |r| r.get(0),
                )?;
            if free > 0 {
                return Err(Error::invalid(format!(
                    "{free} seats{} are still on sale: book them instead of waiting",
                    category.as_deref().map(|c| format!(" of category {c}")).unwrap_or_default()
                )));
            }
            let id = tx.prepare_cached("INSERT INTO waitlist (concert_id, customer_id, party, category, joined_at, state, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, 'waiting', ?5) RETURNING id")?.query_row(params![concert_id, customer_id, party, category, ts(now)],
                |r| r.get(0),
            )?;
            entry_view(tx, id)
        })
    }

    /// Leaves the waiting list, the customer named by their email or, if they joined with
    /// their mobile number alone, by it; an open offer is given up and goes to the next person.
    pub fn leave_waitlist(&mut self, concert_id: i64, email: &str) -> Result<WaitlistEntry> {
        let by_phone = !email.contains('@');
        self.write(|tx, now| {
            let email = match by_phone {
                true => crate::records::normalize_phone(
                    email,
                    crate::catalog::venue_country(tx, concert_id)?.as_deref(),
                )?,
                false => normalize_email(email)?,
            };
            let found: Option<(i64, WaitlistState, Option<String>)> = tx
                .query_row(
                    "SELECT w.id, w.state, w.hold_id FROM waitlist w JOIN customers cu ON cu.id = w.customer_id
                     WHERE w.concert_id = ?1 AND (cu.email = ?2 OR (?3 AND cu.phone = ?2))
                       AND w.state IN ('waiting', 'offered')",
                    params![concert_id, email, by_phone],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
                )
                .optional()?;
            let Some((id, state, hold)) = found else {
                return Err(Error::invalid(format!("{email} is not on the waiting list of concert {concert_id}")));
            };
            tx.prepare_cached("UPDATE waitlist SET state = 'left', updated_at = ?2 WHERE id = ?1")?.execute(params![id, ts(now)])?;
            if state == WaitlistState::Offered
                && let Some(hold) = hold
            {
                crate::booking::end_hold(tx, &hold, crate::HoldState::Released, Some(crate::HoldState::Live), now)?;
            }
            seats_freed(tx, concert_id, now)?;
            entry_view(tx, id)
        })
    }

    /// Every entry of a concert's waiting list, in join order.
    pub fn waitlist(&self, concert_id: i64) -> Result<Vec<WaitlistEntry>> {
        self.concert(concert_id)?;
        let ids: Vec<i64> = {
            let mut st = self
                .conn()
                .prepare_cached("SELECT id FROM waitlist WHERE concert_id = ?1 ORDER BY id")?;
            st.query_map([concert_id], |r| r.get(0))?
                .collect::<crate::store::sql::Result<_>>()?
        };
        ids.into_iter()
            .map(|id| entry_view(self.conn(), id))
            .collect()
    }
}

//! Holds: taking seats all or nothing for a time, with every rule checked in one transaction
//! (on sale, ticket limit, one live hold per person, seats free, the single-seat gap); release
//! and expiry.

use super::*;

/// Ends a hold as `state` (`expired`, `released`, `declined`), if it is still in state `from`
/// when one is given: the seats it claims are free again (claims already part of a booking
/// stay). The one way a hold ends; what follows (an offer moving on, the waiting list) is the
/// caller's.
pub(crate) fn end_hold(
    tx: &crate::store::Db,
    hold_id: &str,
    state: HoldState,
    from: Option<HoldState>,
    now: DateTime<Utc>,
) -> Result<()> {
    tx.prepare_cached(
        "UPDATE holds SET state = ?2, ended_at = ?3 WHERE id = ?1 AND (CAST(?4 AS TEXT) IS NULL OR state = ?4)",
    )?
    .execute(params![hold_id, state, ts(now), from])?;
    free_unbooked(tx, hold_id)?;
    Ok(())
}

/// Ends every live hold whose time is up: its seats are free again, an expired waiting-list
/// offer moves on to the next person. Returns the holds ended.
pub(crate) fn expire_holds_tx(tx: &crate::store::Db, now: DateTime<Utc>) -> Result<Vec<String>> {
    let expired: Vec<(String, i64, HoldKind)> = {
        let mut st = tx.prepare_cached(
            "SELECT id, concert_id, kind FROM holds WHERE state = 'live' AND expires_at <= ?1",
        )?;
        st.query_map([ts(now)], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?
            .collect::<crate::store::sql::Result<_>>()?
    };
    let mut concerts: Vec<i64> = Vec::new();
    for (id, concert, kind) in &expired {
        end_hold(tx, id, HoldState::Expired, None, now)?;
        if *kind == HoldKind::Offer {
            crate::waitlist::end_offer(tx, id, WaitlistState::Expired, now)?;
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

pub(super) struct HoldRow {
    pub(super) id: String,
    pub(super) concert_id: i64,
    /// The person it is for, as given.
    pub(super) who: CustomerInfo,
    pub(super) state: HoldState,
    pub(super) expires_at: DateTime<Utc>,
    pub(super) created_at: DateTime<Utc>,
    pub(super) kind: HoldKind,
    pub(super) gap_override: bool,
}

pub(super) fn load_hold(conn: &crate::store::Db, id: &str) -> Result<HoldRow> {
    conn.prepare_cached("SELECT id, concert_id, email, name, phone, state, expires_at, created_at, kind, gap_override FROM holds
         WHERE id = ?1 AND kind != 'pool'")?.query_row([id.trim().to_ascii_uppercase()],
        |r| {
            Ok(HoldRow {
                id: r.get(0)?,
                concert_id: r.get(1)?,
                who: CustomerInfo {
                    email: r.get::<Option<String>>(2)?.unwrap_or_default(),
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

/// The currency a concert sells in.
pub(super) fn concert_currency(conn: &crate::store::Db, concert_id: i64) -> Result<String> {
    Ok(conn
        .prepare_cached("SELECT currency FROM concerts WHERE id = ?1")?
        .query_row([concert_id], |r| r.get(0))?)
}

pub(super) fn hold_view(conn: &crate::store::Db, h: &HoldRow) -> Result<Hold> {
    let seats = claimed_seats(conn, ClaimsOf::Hold(&h.id))?;
    let currency = concert_currency(conn, h.concert_id)?;
    Ok(Hold {
        hold_id: h.id.clone(),
        kind: h.kind,
        replaced: None,
        gap_override: h.gap_override,
        concert_id: h.concert_id,
        customer: h.who.email.clone(),
        total_cents: seats.iter().map(|s| s.price_cents).sum(),
        seats: seats.into_iter().map(|s| s.label).collect(),
        created_at: h.created_at,
        expires_at: h.expires_at,
        currency,
        state: h.state,
    })
}

pub(super) fn booking_code_for_hold(conn: &crate::store::Db, hold_id: &str) -> Result<String> {
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
pub(super) fn ensure_live(conn: &crate::store::Db, h: &HoldRow, now: DateTime<Utc>) -> Result<()> {
    match h.state {
        HoldState::Live if h.expires_at > now => Ok(()),
        HoldState::Live | HoldState::Expired => Err(Error::HoldExpired {
            id: h.id.clone(),
            at: h.expires_at,
        }),
        HoldState::Paid => Err(Error::AlreadyPaid {
            id: h.id.clone(),
            code: booking_code_for_hold(conn, &h.id)?,
        }),
        HoldState::Paying => Err(Error::PaymentInProgress(h.id.clone())),
        other => Err(Error::HoldNotLive {
            id: h.id.clone(),
            state: other,
        }),
    }
}

/// How a hold picks its seats.
pub(super) enum Selection<'a> {
    /// These labels; `true` when the clerk overrides the single-seat-gap rule.
    Seats(&'a [String], bool),
    Best(&'a BestRequest),
}

pub(crate) struct ConcertRules {
    pub venue_id: i64,
    pub currency: String,
    pub on_sale_at: i64,
    /// When the concert starts (UTC seconds): no seat is sold from then on.
    pub starts_at: i64,
    pub hold_minutes: i64,
    pub offer_minutes: i64,
    pub ticket_limit: i64,
    pub status: crate::ConcertStatus,
    /// The price of each seat category, in cents.
    pub prices: Vec<(String, i64)>,
}

/// A concert's rules and prices, in one statement (a hold needs both, and each statement is
/// a visit to the statement cache).
pub(crate) fn concert_rules(tx: &crate::store::Db, concert_id: i64) -> Result<ConcertRules> {
    let mut st = tx.prepare_cached(concat!(
        "SELECT co.venue_id, co.on_sale_at, co.hold_minutes, co.offer_minutes, co.ticket_limit,
                co.status, co.currency, co.starts_at, p.category, p.price_cents
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
        starts_at: r.get(7)?,
        prices: Vec::new(),
    };
    let mut row = Some(r);
    while let Some(r) = row {
        if let Some(category) = r.get::<Option<String>>(8)? {
            rules.prices.push((category, r.get(9)?));
        }
        row = rows.next()?;
    }
    Ok(rules)
}

/// The seats a hold names: ids, labels and prices, and grid positions `(id, line, column)`.
pub(super) struct Resolved {
    pub(super) seats: Vec<(i64, String, i64)>,
    pub(super) positions: Vec<(i64, i64, i64)>,
}

/// Looks up the labels asked for in the connection's [`SeatIndex`] and their prices (from the
/// concert's rules, read in the transaction); every unknown label (or one without a price) is
/// named.
pub(super) fn resolve_seats(
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

/// One live hold per person per concert: an earlier one is released, and said so. Its seats
/// no longer count among the person's.
pub(super) fn replace_earlier_hold(
    tx: &crate::store::Db,
    holds: &mut [PersonHold],
    now: DateTime<Utc>,
) -> Result<Option<ReplacedHold>> {
    let Some(earlier) = holds
        .iter_mut()
        .filter(|h| h.kind == HoldKind::Sale && h.state == HoldState::Live)
        .max_by_key(|h| h.created_at)
    else {
        return Ok(None);
    };
    let seats = claimed_seats(tx, ClaimsOf::Hold(&earlier.id))?
        .into_iter()
        .map(|s| s.label)
        .collect();
    end_hold(tx, &earlier.id, HoldState::Released, None, now)?;
    earlier.state = HoldState::Released;
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
pub(super) fn refuse_claimed(
    tx: &crate::store::Db,
    concert_id: i64,
    seats: &[(i64, String, i64)],
    claimed: impl Fn(i64) -> bool,
    who: &CustomerInfo,
    person: &mut Option<SamePerson>,
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
                    status: SeatStatus::from_db(&r.get::<String>(1)?),
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
        match claim.status {
            SeatStatus::Free => continue,
            SeatStatus::Held => {
                let own = match theirs.iter().find(|t| t.0 == claim.hold_id) {
                    Some(t) => t.1,
                    None => {
                        let (live_sale, email, phone): (bool, Option<String>, Option<String>) = tx
                            .prepare_cached(
                                "SELECT kind = 'sale' AND state = 'live', email, phone
                                 FROM holds WHERE id = ?1",
                            )?
                            .query_row([&claim.hold_id], |r| {
                                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                            })?;
                        let own = live_sale && {
                            if person.is_none() {
                                *person = Some(SamePerson::of(tx, who)?);
                            }
                            person
                                .as_ref()
                                .is_some_and(|p| p.owns(email.as_deref(), phone.as_deref()))
                        };
                        theirs.push((&claim.hold_id, own));
                        own
                    }
                };
                if own {
                    continue;
                }
            }
            SeatStatus::Booked | SeatStatus::Reserved => {}
        }
        taken.push(label.clone());
        reserved += usize::from(claim.status == SeatStatus::Reserved);
    }
    match taken.len() {
        0 => Ok(()),
        n if reserved == n => Err(Error::ReservedForWaitlist(taken)),
        _ => Err(Error::SeatsTaken(taken)),
    }
}

/// A claim on one of the seats a hold names: the seat's status by the seat-status rule, and
/// the hold that claims it.
pub(super) struct SelectedClaim {
    pub(super) seat_id: i64,
    pub(super) status: SeatStatus,
    pub(super) hold_id: String,
}

/// Inserts a hold under a new id ([`new_hold_id`]) and its claims; returns the id. A claim the
/// unique index refuses means the seat was taken.
#[allow(clippy::too_many_arguments)]
pub(crate) fn insert_hold(
    tx: &crate::store::Db,
    concert_id: i64,
    who: &CustomerInfo,
    kind: HoldKind,
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
pub(super) fn insert_hold_as(
    tx: &crate::store::Db,
    ids: &mut dyn FnMut() -> String,
    concert_id: i64,
    who: &CustomerInfo,
    kind: HoldKind,
    now: DateTime<Utc>,
    expires_at: DateTime<Utc>,
    gap_override: bool,
    seats: &[(i64, String, i64)],
) -> Result<String> {
    let mut st = tx.prepare_cached("INSERT INTO holds (id, concert_id, email, name, phone, created_at, expires_at, state, kind, gap_override, seats, terminal, clerk)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'live', ?8, ?9, ?10, ?11, ?12)
         ON CONFLICT (id) DO NOTHING")?;
    let made_by = tx.operator();
    let listed = seat_list(seats.iter().map(|s| (s.0, s.2)));
    let hold_id = with_new_hold_id(ids, |id| {
        st.execute(params![
            id,
            concert_id,
            who.email_address(),
            who.name,
            who.phone,
            ts(now),
            ts(expires_at),
            kind,
            gap_override,
            listed,
            made_by.terminal,
            made_by.clerk
        ])
    })?;
    drop(st);
    let what = if kind == HoldKind::Offer {
        NewClaims::Reserved
    } else {
        NewClaims::Held
    };
    claim(
        tx,
        concert_id,
        &hold_id,
        seats,
        Some(expires_at),
        None,
        what,
    )?;
    Ok(hold_id)
}

impl Store {
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

    pub(super) fn hold_with(
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
            crate::failpoint::stall("hold:inside");
            let c = concert_rules(tx, concert_id)?;
            index.note_venue(concert_id, c.venue_id);
            if c.status == crate::ConcertStatus::Cancelled {
                return Err(Error::ConcertCancelled(concert_id.to_string()));
            }
            let Resolved { seats, positions } = match &selection {
                Selection::Seats(..) => resolve_seats(tx, &mut index, &c, &wanted)?,
                Selection::Best(_) => Resolved {
                    seats: Vec::new(),
                    positions: Vec::new(),
                },
            };
            if customer.email.trim().is_empty()
                && customer
                    .phone
                    .as_deref()
                    .is_none_or(|p| p.trim().is_empty())
            {
                super::walk_ups::allowed(tx, now)?;
            }
            if ts(now) < c.on_sale_at || ts(now) >= c.starts_at {
                let timezone: String = tx
                    .prepare_cached("SELECT timezone FROM venues WHERE id = ?1")?
                    .query_row([c.venue_id], |r| r.get(0))?;
                if ts(now) >= c.starts_at {
                    let at = from_ts(c.starts_at);
                    return Err(Error::SalesClosed {
                        at,
                        venue_time: crate::model::venue_clock(at, &timezone),
                    });
                }
                let at = from_ts(c.on_sale_at);
                return Err(Error::NotOnSale {
                    at,
                    venue_time: crate::model::venue_clock(at, &timezone),
                });
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
            let who =
                customer.checked(crate::catalog::venue_country(tx, concert_id)?.as_deref())?;
            let mut person: Option<SamePerson> = None;
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
                None => SamePerson::of(tx, &who)?,
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
                Selection::Best(b) => {
                    b.check_category(&c.prices)?;
                    (pick_best(tx, concert_id, c.venue_id, b)?, false)
                }
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
                HoldKind::Sale,
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
                kind: HoldKind::Sale,
                concert_id,
                customer: who.email.clone(),
                seats: seats.iter().map(|s| s.1.clone()).collect(),
                created_at: now,
                expires_at,
                total_cents: seats.iter().map(|s| s.2).sum(),
                currency: c.currency.clone(),
                state: HoldState::Live,
                replaced,
                gap_override,
            })
        });
        self.seat_index.replace(index);
        out
    }

    /// Puts a person's details on a live hold placed without them (the counter holds first
    /// and asks later): the rules that depend on who it is for are checked now, in one
    /// transaction. The person's ticket limit counts their other holds and bookings on the
    /// concert with this one; an earlier live hold of theirs is released (one live hold per
    /// person), and said so in `replaced`. Details already on the hold are replaced; empty
    /// details make it a walk-up's again. A refusal changes nothing: the hold stays as it was.
    /// A waiting-list offer is its person's and cannot be renamed.
    pub fn name_hold(&mut self, hold_id: &str, customer: &CustomerInfo) -> Result<Hold> {
        self.write(|tx, now| {
            let h = load_hold(tx, hold_id)?;
            ensure_live(tx, &h, now)?;
            if h.kind != HoldKind::Sale {
                return Err(Error::invalid(
                    "a waiting-list offer is held for the person who waited: its details stay",
                ));
            }
            let c = concert_rules(tx, h.concert_id)?;
            let who =
                customer.checked(crate::catalog::venue_country(tx, h.concert_id)?.as_deref())?;
            let person = SamePerson::of(tx, &who)?;
            let mut theirs: Vec<PersonHold> = person_holds(tx, h.concert_id, &person)?
                .into_iter()
                .filter(|p| p.id != h.id)
                .collect();
            let replaced = replace_earlier_hold(tx, &mut theirs, now)?;
            let mine = claimed_seats(tx, ClaimsOf::Hold(&h.id))?.len() as i64;
            let have: i64 = theirs.iter().map(|p| p.claims).sum();
            if have + mine > c.ticket_limit {
                return Err(Error::LimitReached {
                    limit: c.ticket_limit,
                    have,
                    asked: mine,
                });
            }
            tx.prepare_cached("UPDATE holds SET email = ?2, name = ?3, phone = ?4 WHERE id = ?1")?
                .execute(params![h.id, who.email_address(), who.name, who.phone])?;
            if replaced.is_some() {
                crate::waitlist::seats_freed(tx, h.concert_id, now)?;
            }
            let mut view = hold_view(tx, &load_hold(tx, &h.id)?)?;
            view.replaced = replaced;
            Ok(view)
        })
    }

    /// The details a hold carries: whom it is for (empty for a walk-up's).
    pub fn hold_customer(&self, hold_id: &str) -> Result<CustomerInfo> {
        Ok(load_hold(self.conn(), hold_id)?.who)
    }

    /// A hold by its id, as it stands now: its seats, customer, state and expiry.
    pub fn hold(&self, hold_id: &str) -> Result<Hold> {
        hold_view(self.conn(), &load_hold(self.conn(), hold_id)?)
    }

    /// Gives a live hold's seats back before it runs out.
    pub fn release_hold(&mut self, hold_id: &str) -> Result<Hold> {
        self.write(|tx, now| {
            let h = load_hold(tx, hold_id)?;
            ensure_live(tx, &h, now)?;
            end_hold(tx, &h.id, HoldState::Released, None, now)?;
            if h.kind == HoldKind::Offer {
                crate::waitlist::end_offer(tx, &h.id, WaitlistState::Left, now)?;
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
}

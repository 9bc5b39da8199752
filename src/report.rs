//! The day's takings: what each payment method took in and gave back, the cash that should be
//! in the drawer, and per concert the tickets sold and let in, over a span of time (a day at
//! the box office) and for one clerk or all. Money is counted from the payments as captured,
//! the same records `audit` checks against the processors' books, so the two agree to the cent.

use crate::error::Result;
use crate::params;
use crate::store::{Store, ts};
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::BTreeMap;

/// One payment method's takings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct MethodTakings {
    /// The processor's name (`cash`, `card`).
    pub method: String,
    /// Money its charges captured in the span, in cents.
    pub sales_cents: i64,
    /// Money its refunds gave back in the span, in cents.
    pub refunds_cents: i64,
}

/// One concert's tickets over the span.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ConcertTickets {
    /// The concert's number.
    pub id: i64,
    /// Who plays.
    pub artist: String,
    /// Tickets of bookings made in the span that are not cancelled.
    pub tickets_sold: i64,
    /// Tickets checked in during the span.
    pub checked_in: i64,
}

/// The takings over a span of time ([`Store::report`]), for one clerk or all.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    /// The span's start (UTC, inclusive); `None` for no start.
    pub from: Option<DateTime<Utc>>,
    /// The span's end (UTC, exclusive); `None` for no end.
    pub to: Option<DateTime<Utc>>,
    /// Only this clerk's sales and refunds; `None` for everyone's.
    pub clerk: Option<String>,
    /// The takings of each payment method, sorted by its name.
    pub by_method: Vec<MethodTakings>,
    /// Cash tendered less change given, less cash refunded: what the drawer should hold on top
    /// of its float.
    pub cash_in_drawer_cents: i64,
    /// The concerts with tickets sold or let in during the span, by number.
    pub concerts: Vec<ConcertTickets>,
}

/// A day at this machine's clock, as a span of time: local midnight to local midnight (a day
/// with a clock change is 23 or 25 hours long). `None` for an end that does not exist.
pub fn local_day(day: chrono::NaiveDate) -> (Option<DateTime<Utc>>, Option<DateTime<Utc>>) {
    use chrono::{Local, TimeZone};
    let midnight = |d: chrono::NaiveDate| {
        Local
            .from_local_datetime(&d.and_time(chrono::NaiveTime::MIN))
            .earliest()
            .map(|t| t.with_timezone(&Utc))
    };
    (midnight(day), day.succ_opt().and_then(midnight))
}

/// Today at this machine, for `now`.
pub fn local_today(now: DateTime<Utc>) -> chrono::NaiveDate {
    now.with_timezone(&chrono::Local).date_naive()
}

impl Report {
    /// Money all methods took in, in cents.
    pub fn sales_cents(&self) -> i64 {
        self.by_method.iter().map(|m| m.sales_cents).sum()
    }

    /// Money all methods gave back, in cents.
    pub fn refunds_cents(&self) -> i64 {
        self.by_method.iter().map(|m| m.refunds_cents).sum()
    }
}

impl Store {
    /// The takings from `from` (inclusive) to `to` (exclusive); `None` leaves that end open.
    /// With `clerk`, only that clerk's sales and refunds (check-ins are the doors', counted for
    /// everyone).
    pub fn report(
        &self,
        from: Option<DateTime<Utc>>,
        to: Option<DateTime<Utc>>,
        clerk: Option<&str>,
    ) -> Result<Report> {
        let (lo, hi) = (
            from.map(ts).unwrap_or(i64::MIN),
            to.map(ts).unwrap_or(i64::MAX),
        );
        let mut methods: BTreeMap<String, MethodTakings> = BTreeMap::new();
        let mut cash_in_drawer = 0;
        {
            // A payment counts when it was captured (its last change).
            let mut st = self.conn().prepare(
                "SELECT kind, processor, amount_cents, tendered_cents, change_cents FROM payments
                 WHERE state = 'captured' AND updated_at >= ?1 AND updated_at < ?2
                   AND (CAST(?3 AS TEXT) IS NULL OR clerk = ?3)",
            )?;
            let rows = st.query_map(params![lo, hi, clerk], |r| {
                Ok((
                    r.get::<crate::states::PaymentKind>(0)?,
                    r.get::<String>(1)?,
                    r.get::<i64>(2)?,
                    r.get::<Option<i64>>(3)?,
                    r.get::<Option<i64>>(4)?,
                ))
            })?;
            for row in rows {
                let (kind, method, amount, tendered, change) = row?;
                let m = methods
                    .entry(method.clone())
                    .or_insert_with(|| MethodTakings {
                        method: method.clone(),
                        ..Default::default()
                    });
                let cash = method == "cash";
                if kind == crate::states::PaymentKind::Refund {
                    m.refunds_cents += amount;
                    if cash {
                        cash_in_drawer -= amount;
                    }
                } else {
                    m.sales_cents += amount;
                    if cash {
                        cash_in_drawer += match (tendered, change) {
                            (Some(t), Some(c)) => t - c,
                            _ => amount,
                        };
                    }
                }
            }
        }
        let mut concerts: BTreeMap<i64, ConcertTickets> = BTreeMap::new();
        {
            let mut st = self.conn().prepare(
                "SELECT t.concert_id, c.artist,
                        count(*) FILTER (WHERE b.created_at >= ?1 AND b.created_at < ?2
                                           AND (CAST(?3 AS TEXT) IS NULL OR b.clerk = ?3) AND t.state != 'cancelled'),
                        count(*) FILTER (WHERE t.checked_in_at >= ?1 AND t.checked_in_at < ?2)
                 FROM tickets t JOIN bookings b ON b.id = t.booking_id JOIN concerts c ON c.id = t.concert_id
                 WHERE (b.created_at >= ?1 AND b.created_at < ?2) OR (t.checked_in_at >= ?1 AND t.checked_in_at < ?2)
                 GROUP BY t.concert_id, c.artist ORDER BY t.concert_id",
            )?;
            let rows = st.query_map(params![lo, hi, clerk], |r| {
                Ok(ConcertTickets {
                    id: r.get(0)?,
                    artist: r.get(1)?,
                    tickets_sold: r.get(2)?,
                    checked_in: r.get(3)?,
                })
            })?;
            for row in rows {
                let c = row?;
                if c.tickets_sold > 0 || c.checked_in > 0 {
                    concerts.insert(c.id, c);
                }
            }
        }
        Ok(Report {
            from,
            to,
            clerk: clerk.map(str::to_string),
            by_method: methods.into_values().collect(),
            cash_in_drawer_cents: cash_in_drawer,
            concerts: concerts.into_values().collect(),
        })
    }
}

//! Read models: a concert, its seat map, a booking, bookings found by code, email or phone.

use super::*;

impl Store {
    /// A concert by its number or its external id (`demo-02`).
    pub fn resolve_concert(&self, key: &str) -> Result<i64> {
        let key = key.trim();
        let found: Option<i64> = self
            .conn()
            .query_row(
                concat!(
                    "SELECT id FROM concerts c WHERE (id = ?1 OR external_id = ?2) AND ",
                    crate::in_catalog!("c"),
                    " ORDER BY id = ?1 DESC LIMIT 1"
                ),
                params![key.parse::<i64>().unwrap_or(-1), key],
                |r| r.get(0),
            )
            .optional()?;
        found.ok_or_else(|| Error::ConcertNotFound(key.to_string()))
    }

    /// A concert's summary by its number: venue, start, status and seats left.
    pub fn concert(&self, concert_id: i64) -> Result<ConcertSummary> {
        summaries(self.conn(), &[concert_id], ts(self.now()))?
            .pop()
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
             LEFT JOIN claims cl ON cl.concert_id = co.id AND cl.seat_id = s.id
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
                        status: SeatStatus::from_db(&r.get::<String>(7)?),
                        x: r.get(8)?,
                        y: r.get(9)?,
                    })
                },
            )?
            .collect::<crate::store::sql::Result<_>>()?;
        let mut counts = SeatCounts::default();
        for s in &seats {
            match s.status {
                SeatStatus::Free => counts.free += 1,
                SeatStatus::Held => counts.held += 1,
                SeatStatus::Booked => counts.booked += 1,
                SeatStatus::Reserved => counts.reserved += 1,
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
            .collect::<crate::store::sql::Result<_>>()?;
        Ok(SeatMap {
            concert,
            categories,
            seats,
            counts,
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
                        r.get::<i64>(0)?,
                        r.get::<String>(1)?,
                        r.get::<BookingState>(2)?,
                        r.get::<i64>(3)?,
                        r.get::<i64>(4)?,
                        r.get::<String>(5)?,
                        r.get::<String>(6)?,
                        r.get::<i64>(7)?,
                        r.get::<Option<i64>>(8)?,
                        CustomerInfo { email: r.get::<Option<String>>(9)?.unwrap_or_default(), name: r.get(10)?, phone: r.get(11)? },
                    ))
                },
            )
            .optional()?
            .ok_or_else(|| Error::BookingNotFound(code.clone()))?;
        let (id, code, state, concert_id, total, currency, method, created, cancelled, customer) =
            row;
        let seats = claimed_seats(self.conn(), ClaimsOf::Booking(id))?
            .into_iter()
            .map(|s| BookedSeat {
                seat: s.label,
                category: s.category,
                category_name: s.category_name,
                price_cents: s.price_cents,
            })
            .collect();
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
            tickets: booking_tickets(self.conn(), id)?,
        })
    }

    /// When the next hold on a concert runs out (its seats then read as free without anything
    /// being written, so a screen cannot see it as a change): the moment an open seat map must
    /// read its seats again.
    pub fn next_expiry(&self, concert_id: i64) -> Result<Option<DateTime<Utc>>> {
        let at: Option<i64> = self
            .conn()
            .prepare_cached(
                "SELECT min(expires_at) FROM claims WHERE concert_id = ?1 AND expires_at > ?2",
            )?
            .query_row(params![concert_id, ts(self.now())], |r| r.get(0))?;
        Ok(at.map(from_ts))
    }

    /// Bookings by code, email, name or phone, the phone in any common form: `0660 123 4567`
    /// as dialled in a venue's country, `+43 660 …`, `0043 660 …` (most recent first, at most
    /// 50).
    pub fn find_bookings(&self, query: &str) -> Result<Vec<Booking>> {
        let q = query.trim();
        if q.is_empty() {
            return Ok(Vec::new());
        }
        let digits: String = q.chars().filter(|c| c.is_ascii_digit()).collect();
        // The number as stored, read as each venue's country would dial it.
        let phones: Vec<String> = {
            let mut st = self
                .conn()
                .prepare_cached("SELECT DISTINCT country, timezone FROM venues")?;
            let places: Vec<(Option<String>, String)> = st
                .query_map((), |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<crate::store::sql::Result<_>>()?;
            let mut phones: Vec<String> = places
                .into_iter()
                .map(|(c, tz)| {
                    c.or_else(|| crate::catalog::country_of_zone(&tz).map(str::to_string))
                })
                .map(|c| normalize_phone(q, c.as_deref()))
                .filter_map(|p| p.ok())
                .collect();
            phones.extend(normalize_phone(q, None).ok());
            phones.sort();
            phones.dedup();
            phones
        };
        // A name as people type it: folded as the stored one is (`Mueller` finds Müller), and
        // its words in any order (`Gruber Anna` finds Anna Gruber). At most four words, so
        // the statements stay few.
        let words: Vec<String> = crate::text::fold(q)
            .split(' ')
            .filter(|w| !w.is_empty())
            .take(4)
            .map(str::to_string)
            .collect();
        let by_name = match words.len() {
            0 => "0 = 1".to_string(),
            n => (0..n)
                .map(|i| format!("instr(cu.name_key, ?{}) > 0", i + 4))
                .collect::<Vec<_>>()
                .join(" AND "),
        };
        let mut st = self.conn().prepare_cached(&format!(
            "SELECT b.code FROM bookings b JOIN customers cu ON cu.id = b.customer_id
             WHERE b.code = upper(?1) OR cu.email = lower(?1) OR instr(cu.email, lower(?1)) > 0
                OR (length(?1) >= 3 AND (instr(lower(cu.name), lower(?1)) > 0 OR ({by_name})))
                OR cu.phone IN (SELECT value FROM json_each(?3))
                OR (length(?2) >= 6 AND replace(cu.phone, '+', '') LIKE '%' || ?2 || '%')
             ORDER BY b.id DESC LIMIT 50"
        ))?;
        let phones = serde_json::to_string(&phones).expect("strings serialize");
        let q = q.to_string();
        let mut args: Vec<&dyn crate::store::sql::ToSql> = vec![&q, &digits, &phones];
        args.extend(words.iter().map(|w| w as &dyn crate::store::sql::ToSql));
        let codes: Vec<String> = st
            .query_map(args.as_slice(), |r| r.get(0))?
            .collect::<crate::store::sql::Result<_>>()?;
        codes.iter().map(|c| self.booking(c)).collect()
    }

    /// The bookings made from `from` to `to` at `terminal` (`None`: at any), most recent first:
    /// a terminal's sales of the day.
    pub fn sales_at(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        terminal: Option<&str>,
    ) -> Result<Vec<Booking>> {
        let mut st = self.conn().prepare_cached(
            "SELECT code FROM bookings WHERE created_at >= ?1 AND created_at < ?2
                AND (CAST(?3 AS TEXT) IS NULL OR terminal = ?3) ORDER BY id DESC LIMIT 200",
        )?;
        let codes: Vec<String> = st
            .query_map(params![ts(from), ts(to), terminal], |r| r.get(0))?
            .collect::<crate::store::sql::Result<_>>()?;
        codes.iter().map(|c| self.booking(c)).collect()
    }
}

//! The demo catalog: the built-in venues and a season of concerts counted from today, some
//! of them partly sold and one sold out.

use super::*;

/// The built-in venues, compiled into the binary.
pub const DEMO_VENUES: &[(&str, &str)] = &[
    (
        "velvet-room",
        include_str!("../../assets/venues/velvet-room.layout"),
    ),
    (
        "odeon-theatre",
        include_str!("../../assets/venues/odeon-theatre.layout"),
    ),
    (
        "danube-arena",
        include_str!("../../assets/venues/danube-arena.layout"),
    ),
];

/// The demo season as CSV: each concert's day and on-sale day counted from the day it is seeded.
pub const DEMO_CONCERTS: &str = include_str!("../../assets/demo-concerts.csv");

impl Store {
    /// Makes this an empty box office for a real catalog (`boxoffice init`): the demo is never
    /// seeded into it. Refused when it already has venues or concerts; returns false if it was
    /// already one.
    pub fn init_own_catalog(&mut self) -> Result<bool> {
        self.write(|tx, _| {
            let (venues, concerts, demo): (i64, i64, bool) = tx.query_row(
                "SELECT (SELECT count(*) FROM venues), (SELECT count(*) FROM concerts),
                        (SELECT demo FROM box_office)",
                (),
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )?;
            if !demo {
                return Ok(false);
            }
            if venues + concerts > 0 {
                return Err(Error::invalid(format!(
                    "this box office already has {venues} venue(s) and {concerts} concert(s); \
                     init makes a new, empty one (use another --db)"
                )));
            }
            tx.execute("UPDATE box_office SET demo = 0", ())?;
            Ok(true)
        })
    }

    /// Whether [`Store::seed_demo_if_empty`] would fill in the demo: no catalog, and not made
    /// empty on purpose (`init`). Changes nothing (a front end says what is coming first).
    pub fn wants_demo(&self) -> Result<bool> {
        Ok(self.conn().query_row(WANTS_DEMO, (), |r| r.get(0))?)
    }

    /// Seeds the demo catalog into a database that has none: the built-in venues, two dozen
    /// concerts over the coming months counted from today, some of them partly sold and one
    /// sold out. Does nothing (and returns false) if there is already a catalog.
    pub fn seed_demo_if_empty(&mut self) -> Result<bool> {
        let today = self.now().date_naive();
        self.write(|tx, now| {
            let empty: bool = tx.query_row(WANTS_DEMO, (), |r| r.get(0))?;
            if !empty {
                return Ok(false);
            }
            for (slug, text) in DEMO_VENUES {
                add_venue(tx, slug, text)?;
            }
            for (concert, sold_pct) in demo_concerts(today)? {
                let id = add_concert(tx, &concert)?;
                if sold_pct > 0 {
                    seed_sales(tx, id, sold_pct, now)?;
                }
            }
            Ok(true)
        })
    }
}

/// No catalog, and not made empty on purpose.
const WANTS_DEMO: &str =
    "SELECT NOT EXISTS (SELECT 1 FROM venues) AND NOT EXISTS (SELECT 1 FROM concerts)
    AND (SELECT demo FROM box_office) <> 0";

pub(super) fn demo_concerts(today: NaiveDate) -> Result<Vec<(NewConcert, u32)>> {
    let mut out = Vec::new();
    for (i, line) in DEMO_CONCERTS.lines().enumerate() {
        let bad = |what: &str| Error::invalid(format!("demo-concerts.csv line {}: {what}", i + 1));
        if line.starts_with('#') || line.starts_with("key,") || line.trim().is_empty() {
            continue;
        }
        let f: Vec<&str> = line.split(',').collect();
        if f.len() != 9 {
            return Err(bad("expected 9 fields"));
        }
        let day: i64 = f[4].parse().map_err(|_| bad("day"))?;
        let time = NaiveTime::parse_from_str(f[5], "%H:%M").map_err(|_| bad("time"))?;
        let on_sale_days: i64 = f[6].parse().map_err(|_| bad("on_sale"))?;
        let prices = f[7]
            .split_whitespace()
            .map(|p| {
                let (c, v) = p.split_once('=').ok_or_else(|| bad("prices"))?;
                Ok((c.to_string(), v.parse::<i64>().map_err(|_| bad("price"))?))
            })
            .collect::<Result<Vec<_>>>()?;
        let sold: u32 = f[8].parse().map_err(|_| bad("sold"))?;
        let on_sale = (today + Duration::days(on_sale_days))
            .and_hms_opt(9, 0, 0)
            .expect("09:00 exists")
            .and_utc();
        out.push((
            NewConcert {
                external_id: Some(f[0].to_string()),
                artist: f[1].to_string(),
                title: f[2].to_string(),
                venue_slug: f[3].to_string(),
                local_start: (today + Duration::days(day)).and_time(time),
                on_sale_at: on_sale,
                prices,
                currency: "EUR".into(),
                ticket_limit: 6,
                hold_minutes: 5,
            },
            sold,
        ));
    }
    Ok(out)
}

/// Books roughly `pct` percent of a demo concert's seats, in small parties, deterministically.
fn seed_sales(tx: &crate::store::Db, concert_id: i64, pct: u32, now: DateTime<Utc>) -> Result<()> {
    let seats: Vec<(i64, i64)> = {
        let mut st = tx.prepare(
            "SELECT s.id, p.price_cents FROM seats s
             JOIN concerts c ON c.venue_id = s.venue_id
             JOIN prices p ON p.concert_id = c.id AND p.category = s.category
             WHERE c.id = ?1 ORDER BY s.grid_y, s.grid_x",
        )?;
        st.query_map([concert_id], |r| Ok((r.get(0)?, r.get(1)?)))?
            .collect::<crate::store::sql::Result<_>>()?
    };
    let mut rng = (concert_id as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    let mut next = move |n: u64| {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng % n
    };
    let mut i = 0;
    let mut party_no = 0;
    while i < seats.len() {
        let party = (1 + next(4)) as usize;
        let take = pct >= 100 || next(100) < pct as u64;
        let end = (i + party).min(seats.len());
        if take {
            party_no += 1;
            // Sold over the weeks before today: the demo's history is no one's takings of
            // the day (`report` counted it all as today's cash).
            let now = now - chrono::Duration::days(1 + (party_no % 28) as i64);
            let email = format!("guest{concert_id:02}-{party_no:04}@demo.boxoffice.test");
            let who = crate::model::CustomerInfo {
                email,
                name: Some(format!("Demo Guest {concert_id}-{party_no}")),
                phone: None,
            }
            .checked(None)?;
            let customer_id = crate::records::record_customer(tx, who.clone())?;
            let listed = crate::records::seat_list(seats[i..end].iter().copied());
            let hold_id = crate::records::with_new_hold_id(
                &mut || crate::records::new_hold_id(now),
                |id| {
                    tx.prepare_cached(
                        "INSERT INTO holds (id, concert_id, email, name, created_at, expires_at, state, ended_at, seats) VALUES (?1, ?2, ?3, ?4, ?5, ?5, 'paid', ?5, ?6) ON CONFLICT (id) DO NOTHING",
                    )?
                    .execute(params![id, concert_id, who.email, who.name, ts(now), listed])
                },
            )?;
            let total: i64 = seats[i..end].iter().map(|s| s.1).sum();
            let booking_id =
                crate::records::insert_booking(tx, &hold_id, customer_id, total, "cash", now)?;
            tx.execute(
                "INSERT INTO payments (kind, idempotency_key, hold_id, booking_id, processor, amount_cents, currency, state, reference, detail, created_at, updated_at)
                 VALUES ('charge', 'demo-' || ?1, ?1, ?2, 'cash', ?3, 'EUR', 'captured', 'demo-' || ?1, 'cash (demo sale)', ?4, ?4)",
                params![hold_id, booking_id, total, ts(now)],
            )?;
            let sold: Vec<(i64, String, i64)> = seats[i..end]
                .iter()
                .map(|&(seat_id, price)| (seat_id, String::new(), price))
                .collect();
            crate::records::claim(
                tx,
                concert_id,
                &hold_id,
                &sold,
                None,
                Some(booking_id),
                crate::records::NewClaims::Booked,
            )?;
        }
        i = end;
    }
    Ok(())
}

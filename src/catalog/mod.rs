//! Venues, concerts and prices: the catalog a box office sells from. A venue's seat layout is
//! `layout.rs`; the built-in demo, `demo.rs`.

use crate::error::{Error, Result};
use crate::params;
use crate::store::sql::OptionalExtension;
use crate::store::{Store, ts};
use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeZone, Utc};

mod demo;
mod layout;
#[cfg(test)]
mod tests;

pub use demo::{DEMO_CONCERTS, DEMO_VENUES};
pub use layout::{
    Layout, LayoutSeat, MAX_LAYOUT_BYTES, MAX_LAYOUT_ROWS, MAX_LAYOUT_SEATS, MAX_LAYOUT_WIDTH,
    parse_layout, render_layout,
};

/// A concert to add to the catalog, in the venue's local time.
#[derive(Debug, Clone)]
pub struct NewConcert {
    /// The concert's id in the source it comes from (`spring-01`); `None` gives it `bx-` and
    /// its number.
    pub external_id: Option<String>,
    /// Who plays.
    pub artist: String,
    /// The concert's title.
    pub title: String,
    /// The slug of the venue it is at (`velvet-room`).
    pub venue_slug: String,
    /// When it starts, on the venue's wall clock.
    pub local_start: NaiveDateTime,
    /// When sales open (UTC).
    pub on_sale_at: DateTime<Utc>,
    /// Price per category code, in cents.
    pub prices: Vec<(String, i64)>,
    /// The ISO 4217 code of the prices' currency (`EUR`).
    pub currency: String,
    /// The most tickets one customer may have for it.
    pub ticket_limit: i64,
    /// How long a hold keeps its seats, in minutes.
    pub hold_minutes: i64,
}

pub(crate) fn add_venue(tx: &crate::store::Db, slug: &str, text: &str) -> Result<i64> {
    let layout = parse_layout(text)?;
    let venue_id: i64 = tx.query_row(
        "INSERT INTO venues (slug, name, city, timezone, stage, layout, capacity, width, country) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) RETURNING id",
        params![slug, layout.name, layout.city, layout.timezone, layout.stage, text, layout.seats.len() as i64, layout.width as i64, layout.country],
        |r| r.get(0),
    )?;
    for (code, name) in &layout.categories {
        tx.execute(
            "INSERT INTO categories (venue_id, code, name) VALUES (?1, ?2, ?3)",
            params![venue_id, code, name],
        )?;
    }
    let mut insert = tx.prepare(
        "INSERT INTO seats (venue_id, label, section, row_label, number, category, grid_x, grid_y) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )?;
    for s in &layout.seats {
        insert.execute(params![
            venue_id, s.label, s.section, s.row, s.number, s.category, s.x, s.y
        ])?;
    }
    crate::store::seat_index::write_rows(tx, venue_id)?;
    Ok(venue_id)
}

/// A concert's start as the `concerts` table keeps it: the instant, the venue's offset from UTC
/// then, and the venue's wall date and time (what date and time-of-day searches compare).
pub(crate) struct VenueStart {
    pub starts_at: i64,
    pub utc_offset: i64,
    pub local_date: String,
    pub local_time: String,
}

impl VenueStart {
    /// `local` on the wall clock of time zone `tz` (the earlier of two when the clocks go back).
    pub(crate) fn at(tz: &str, local: NaiveDateTime) -> Result<VenueStart> {
        let zone: chrono_tz::Tz = tz
            .parse()
            .map_err(|_| Error::invalid(format!("the venue has an unknown time zone `{tz}`")))?;
        let start = zone.from_local_datetime(&local).earliest().ok_or_else(|| {
            Error::invalid(format!(
                "{} does not exist at the venue (the clocks skip it)",
                local.format("%Y-%m-%d %H:%M")
            ))
        })?;
        Ok(VenueStart {
            starts_at: start.timestamp(),
            utc_offset: start.offset().fix().local_minus_utc() as i64,
            local_date: local.format("%Y-%m-%d").to_string(),
            local_time: local.format("%H:%M").to_string(),
        })
    }

    /// The instant `at` at a venue in time zone `tz`: in the hour a clock change repeats, the
    /// one the instant names, not the earlier.
    pub(crate) fn of_instant(tz: &str, at: DateTime<Utc>) -> Result<VenueStart> {
        let zone: chrono_tz::Tz = tz
            .parse()
            .map_err(|_| Error::invalid(format!("the venue has an unknown time zone `{tz}`")))?;
        let local = at.with_timezone(&zone);
        Ok(VenueStart {
            starts_at: at.timestamp(),
            utc_offset: local.offset().fix().local_minus_utc() as i64,
            local_date: local.format("%Y-%m-%d").to_string(),
            local_time: local.format("%H:%M").to_string(),
        })
    }

    /// A start as given: a wall time at the venue, or an exact instant.
    pub(crate) fn of(tz: &str, start: StartAt) -> Result<VenueStart> {
        match start {
            StartAt::Local(local) => VenueStart::at(tz, local),
            StartAt::Instant(at) => VenueStart::of_instant(tz, at),
        }
    }
}

/// When a concert starts, as given: the venue's wall time (typed by a clerk), or an exact
/// instant (an import row with its offset, which keeps a time in a repeated hour).
#[derive(Debug, Clone, Copy)]
pub(crate) enum StartAt {
    Local(NaiveDateTime),
    Instant(DateTime<Utc>),
}

pub(crate) fn add_concert(tx: &crate::store::Db, c: &NewConcert) -> Result<i64> {
    add_concert_at(tx, c, StartAt::Local(c.local_start))
}

/// [`add_concert`], starting at `start` (`c.local_start` is not read).
pub(crate) fn add_concert_at(tx: &crate::store::Db, c: &NewConcert, start: StartAt) -> Result<i64> {
    let (venue_id, tz): (i64, String) = tx
        .query_row(
            "SELECT id, timezone FROM venues WHERE slug = ?1",
            [&c.venue_slug],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?
        .ok_or_else(|| Error::VenueNotFound(c.venue_slug.clone()))?;
    let start = VenueStart::of(&tz, start)?;
    let mut cats = tx.prepare("SELECT code FROM categories WHERE venue_id = ?1 ORDER BY code")?;
    let venue_cats: Vec<String> = cats
        .query_map([venue_id], |r| r.get(0))?
        .collect::<crate::store::sql::Result<_>>()?;
    for code in &venue_cats {
        if !c.prices.iter().any(|(p, _)| p == code) {
            return Err(Error::invalid(format!("no price for category {code}")));
        }
    }
    let concert_id: i64 = tx.query_row(
        "INSERT INTO concerts (external_id, artist, title, venue_id, starts_at, utc_offset, local_date, local_time, on_sale_at, currency, ticket_limit, hold_minutes)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
         RETURNING id",
        params![
            c.external_id,
            c.artist,
            c.title,
            venue_id,
            start.starts_at,
            start.utc_offset,
            start.local_date,
            start.local_time,
            ts(c.on_sale_at),
            c.currency,
            c.ticket_limit,
            c.hold_minutes,
        ],
        |r| r.get(0),
    )?;
    if c.external_id.is_none() {
        tx.execute(
            "UPDATE concerts SET external_id = 'bx-' || id WHERE id = ?1",
            [concert_id],
        )?;
    }
    for (code, cents) in &c.prices {
        if !venue_cats.contains(code) {
            return Err(Error::invalid(format!("the venue has no category {code}")));
        }
        tx.execute(
            "INSERT INTO prices (concert_id, category, price_cents) VALUES (?1, ?2, ?3)",
            params![concert_id, code, cents],
        )?;
    }
    Ok(concert_id)
}

/// The country of an IANA time zone that lies in one country, for a venue whose layout names
/// none: it decides phone numbers typed without a country code.
pub fn country_of_zone(timezone: &str) -> Option<&'static str> {
    Some(match timezone {
        "Europe/Vienna" => "AT",
        "Europe/Berlin" | "Europe/Busingen" => "DE",
        "Europe/Zurich" => "CH",
        "Europe/London" => "GB",
        "Europe/Dublin" => "IE",
        "Europe/Paris" => "FR",
        "Europe/Brussels" => "BE",
        "Europe/Amsterdam" => "NL",
        "Europe/Luxembourg" => "LU",
        "Europe/Rome" => "IT",
        "Europe/Madrid" => "ES",
        "Europe/Lisbon" => "PT",
        "Europe/Prague" => "CZ",
        "Europe/Bratislava" => "SK",
        "Europe/Budapest" => "HU",
        "Europe/Ljubljana" => "SI",
        "Europe/Zagreb" => "HR",
        "Europe/Warsaw" => "PL",
        "Europe/Copenhagen" => "DK",
        "Europe/Stockholm" => "SE",
        "Europe/Oslo" => "NO",
        "Europe/Helsinki" => "FI",
        "Europe/Athens" => "GR",
        _ => return None,
    })
}

/// The country whose numbers a venue's customers type without a country code.
pub(crate) fn venue_country(conn: &crate::store::Db, concert_id: i64) -> Result<Option<String>> {
    let found: Option<(Option<String>, String)> = conn
        .prepare_cached(
            "SELECT v.country, v.timezone FROM concerts c JOIN venues v ON v.id = c.venue_id WHERE c.id = ?1",
        )?
        .query_row([concert_id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    Ok(
        found
            .and_then(|(country, tz)| country.or_else(|| country_of_zone(&tz).map(str::to_string))),
    )
}

/// A venue's short name for commands: `Odeon Theatre` becomes `odeon-theatre`. Letters keep
/// themselves as people write them without accents: German umlauts as `ae`, `oe`, `ue` and
/// `ß` as `ss` (`Stadtsaal Döbling`: `stadtsaal-doebling`), other accents dropped (`Łódź`:
/// `lodz`, `Théâtre`: `theatre`).
pub fn slugify(name: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    let mut slug = String::new();
    let put = |c: char, slug: &mut String| {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    };
    for c in name.chars().flat_map(char::to_lowercase) {
        let spelled: Option<&str> = match c {
            'ä' => Some("ae"),
            'ö' => Some("oe"),
            'ü' => Some("ue"),
            'ß' => Some("ss"),
            'æ' => Some("ae"),
            'œ' => Some("oe"),
            'ø' => Some("o"),
            'ł' => Some("l"),
            'đ' => Some("d"),
            'þ' => Some("th"),
            'ı' => Some("i"),
            _ => None,
        };
        match spelled {
            Some(s) => s.chars().for_each(|c| put(c, &mut slug)),
            None if c.is_ascii() => put(c, &mut slug),
            // Decomposed, its marks dropped: `é` is `e` and an accent.
            None => {
                let base: Vec<char> = std::iter::once(c)
                    .nfd()
                    .filter(|d| !unicode_normalization::char::is_combining_mark(*d))
                    .collect();
                match base.as_slice() {
                    [b] if b.is_ascii_alphanumeric() => put(*b, &mut slug),
                    _ => put(c, &mut slug),
                }
            }
        }
    }
    slug.trim_end_matches('-').to_string()
}

impl Store {
    /// Adds a venue from a layout file; `name` and `city` override the file's, `slug` (default:
    /// the layout's `slug` line, or from the name; from `name` when it is given) is how
    /// concerts and the CLI name it.
    pub fn add_venue_from_layout(
        &mut self,
        text: &str,
        name: Option<&str>,
        city: Option<&str>,
        slug: Option<&str>,
    ) -> Result<crate::model::Venue> {
        let mut layout = parse_layout(text)?;
        if let Some(n) = name.map(str::trim).filter(|n| !n.is_empty()) {
            layout.name = n.to_string();
        }
        if let Some(c) = city.map(str::trim).filter(|c| !c.is_empty()) {
            layout.city = c.to_string();
        }
        for (field, v) in [
            ("the venue's name", &layout.name),
            ("the city", &layout.city),
        ] {
            crate::text::check_line(field, v).map_err(Error::invalid)?;
            if v.chars().count() > 200 {
                return Err(Error::invalid(format!(
                    "{field} is one line of at most 200 characters"
                )));
            }
        }
        // The flag's; else the one the layout names (`slug velvet-room`) for the venue it
        // names (a venue given another name is another venue: its slug is from that name).
        let renamed = name.is_some_and(|n| !n.trim().is_empty());
        let slug = slug
            .or(layout.slug.as_deref().filter(|_| !renamed))
            .map(slugify)
            .unwrap_or_else(|| slugify(&layout.name));
        if slug.is_empty() {
            return Err(Error::invalid(
                "the venue needs a name with letters or digits (or --slug)",
            ));
        }
        let canonical = render_layout(&layout);
        let id = self.write(|tx, _| {
            let taken: bool = tx.query_row(
                "SELECT EXISTS (SELECT 1 FROM venues WHERE slug = ?1)",
                [&slug],
                |r| r.get(0),
            )?;
            if taken {
                return Err(Error::invalid(format!(
                    "there is already a venue `{slug}`; give this one another --slug"
                )));
            }
            add_venue(tx, &slug, &canonical)
        })?;
        self.venues()?
            .into_iter()
            .find(|v| v.id == id)
            .ok_or_else(|| Error::VenueNotFound(slug))
    }

    /// A venue by slug, number or name (any case), with its parsed layout.
    pub fn venue(&self, key: &str) -> Result<(crate::model::Venue, Layout)> {
        let key = key.trim();
        let v = self
            .venues()?
            .into_iter()
            .find(|v| {
                v.slug.eq_ignore_ascii_case(key)
                    || v.id.to_string() == key
                    || v.name.eq_ignore_ascii_case(key)
            })
            .ok_or_else(|| Error::VenueNotFound(key.to_string()))?;
        let text: String =
            self.conn()
                .query_row("SELECT layout FROM venues WHERE id = ?1", [v.id], |r| {
                    r.get(0)
                })?;
        Ok((v, parse_layout(&text)?))
    }

    /// Adds a venue from its layout text; `slug` is how concerts and the CLI name it.
    pub fn add_venue(&mut self, slug: &str, layout: &str) -> Result<i64> {
        self.write(|tx, _| add_venue(tx, slug, layout))
    }

    /// Adds a concert to the catalog; returns its number. Every venue category needs a price.
    pub fn add_concert(&mut self, concert: &NewConcert) -> Result<i64> {
        self.write(|tx, _| add_concert(tx, concert))
    }

    /// Every venue, by name.
    pub fn venues(&self) -> Result<Vec<crate::model::Venue>> {
        let mut st = self
            .conn()
            .prepare("SELECT id, slug, name, city, timezone, capacity FROM venues ORDER BY name")?;
        let rows = st.query_map((), |r| {
            Ok(crate::model::Venue {
                id: r.get(0)?,
                slug: r.get(1)?,
                name: r.get(2)?,
                city: r.get(3)?,
                timezone: r.get(4)?,
                capacity: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<crate::store::sql::Result<_>>()?)
    }

    /// The parsed layout of the venue a concert is in, for drawing the seat map.
    pub fn concert_layout(&self, concert_id: i64) -> Result<Layout> {
        let text: String = self
            .conn()
            .query_row(
                "SELECT v.layout FROM concerts c JOIN venues v ON v.id = c.venue_id WHERE c.id = ?1",
                [concert_id],
                |r| r.get(0),
            )
            .optional()?
            .ok_or_else(|| Error::ConcertNotFound(concert_id.to_string()))?;
        parse_layout(&text)
    }
}

//! Venues, their seat layouts, concerts and prices; the demo catalog.
//!
//! A layout is a text grid a person can edit (see `assets/venues/*.layout`):
//!
//! ```text
//! venue    The Velvet Room
//! city     Vienna
//! timezone Europe/Vienna
//! category S Standard
//! stage    STAGE
//! section FLR Floor
//!    A |SSSSS SSSSS|
//! ```
//!
//! Each row line is `LABEL |GRID|`: a letter is a seat of that category, a space or `.` is an
//! aisle. Seats are numbered from 1, left to right, and labelled `SECTION-ROW-NUMBER`.

use crate::error::{Error, Result};
use crate::store::{Store, ts};
use chrono::{DateTime, Duration, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeZone, Utc};
use rusqlite::{OptionalExtension, params};

/// The built-in venues, compiled into the binary.
pub const DEMO_VENUES: &[(&str, &str)] = &[
    (
        "velvet-room",
        include_str!("../assets/venues/velvet-room.layout"),
    ),
    (
        "odeon-theatre",
        include_str!("../assets/venues/odeon-theatre.layout"),
    ),
    (
        "danube-arena",
        include_str!("../assets/venues/danube-arena.layout"),
    ),
];

pub const DEMO_CONCERTS: &str = include_str!("../assets/demo-concerts.csv");

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    pub name: String,
    pub city: String,
    pub timezone: String,
    /// The country (ISO 3166 code, `country AT`), if the layout says; else the time zone's.
    pub country: Option<String>,
    pub stage: String,
    pub categories: Vec<(String, String)>,
    pub sections: Vec<(String, String)>,
    pub seats: Vec<LayoutSeat>,
    /// Grid columns (the widest row).
    pub width: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayoutSeat {
    pub label: String,
    pub section: String,
    pub row: String,
    pub number: i64,
    pub category: String,
    pub x: i64,
    pub y: i64,
}

fn layout_err(line: usize, message: impl Into<String>) -> Error {
    Error::Layout {
        line,
        message: message.into(),
    }
}

fn is_code(s: &str) -> bool {
    !s.is_empty() && s.len() <= 8 && s.chars().all(|c| c.is_ascii_alphanumeric())
}

/// Parses a layout file. Every problem names its line.
/// The largest layout file read: the 10,480-seat arena's is 13 KiB.
pub const MAX_LAYOUT_BYTES: usize = 512 * 1024;
/// The widest row of a layout, in columns (seats and aisles).
pub const MAX_LAYOUT_WIDTH: usize = 1_000;
/// The most rows a layout draws (sections' gaps included).
pub const MAX_LAYOUT_ROWS: usize = 2_000;
/// The most seats a venue has: a stadium's worth.
pub const MAX_LAYOUT_SEATS: usize = 100_000;

pub fn parse_layout(text: &str) -> Result<Layout> {
    let mut layout = Layout {
        name: String::new(),
        city: String::new(),
        timezone: String::new(),
        country: None,
        stage: "STAGE".into(),
        categories: Vec::new(),
        sections: Vec::new(),
        seats: Vec::new(),
        width: 0,
    };
    let mut y: i64 = 0;
    let mut rows_in_section = std::collections::HashSet::new();
    if text.len() > MAX_LAYOUT_BYTES {
        return Err(layout_err(
            0,
            format!(
                "the layout is {} KiB; a layout file is at most {} KiB",
                text.len() / 1024,
                MAX_LAYOUT_BYTES / 1024
            ),
        ));
    }
    for (i, raw) in text.lines().enumerate() {
        let n = i + 1;
        // Names and labels end up on screens and in emails (a tab is only a space here).
        crate::text::check_line("the line", &raw.replace('\t', " "))
            .map_err(|e| layout_err(n, e))?;
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(open) = line.find('|') {
            let close = line
                .rfind('|')
                .filter(|c| *c > open)
                .ok_or_else(|| layout_err(n, "a row needs its seats between two bars: A |SSSS|"))?;
            let Some((section, _)) = layout.sections.last() else {
                return Err(layout_err(
                    n,
                    "a row must come after a `section CODE NAME` line",
                ));
            };
            let section = section.clone();
            let row = line[..open].trim();
            if !is_code(row) {
                return Err(layout_err(
                    n,
                    format!("row label `{row}` must be 1-8 letters or digits"),
                ));
            }
            if !rows_in_section.insert(row.to_string()) {
                return Err(layout_err(
                    n,
                    format!("row {row} appears twice in section {section}"),
                ));
            }
            let grid = &line[open + 1..close];
            let mut number = 0;
            for (x, ch) in grid.chars().enumerate() {
                if ch == ' ' || ch == '.' {
                    continue;
                }
                let code = ch.to_string();
                if !layout.categories.iter().any(|(c, _)| *c == code) {
                    return Err(layout_err(
                        n,
                        format!(
                            "`{ch}` at column {} is not a declared category (`category {ch} NAME`) or an aisle (space or .)",
                            x + 1
                        ),
                    ));
                }
                number += 1;
                layout.seats.push(LayoutSeat {
                    label: format!("{section}-{row}-{number}"),
                    section: section.clone(),
                    row: row.to_string(),
                    number,
                    category: code,
                    x: x as i64,
                    y,
                });
            }
            layout.width = layout.width.max(grid.chars().count());
            y += 1;
            if layout.width > MAX_LAYOUT_WIDTH || y as usize > MAX_LAYOUT_ROWS {
                return Err(layout_err(
                    n,
                    format!(
                        "a layout is at most {MAX_LAYOUT_WIDTH} columns wide and {MAX_LAYOUT_ROWS} rows long"
                    ),
                ));
            }
            if layout.seats.len() > MAX_LAYOUT_SEATS {
                return Err(layout_err(
                    n,
                    format!("a venue has at most {MAX_LAYOUT_SEATS} seats"),
                ));
            }
            continue;
        }
        let (key, rest) = line
            .split_once(char::is_whitespace)
            .map(|(k, r)| (k, r.trim()))
            .unwrap_or((line, ""));
        match key {
            "venue" => layout.name = rest.to_string(),
            "city" => layout.city = rest.to_string(),
            "timezone" => {
                rest.parse::<chrono_tz::Tz>().map_err(|_| {
                    layout_err(
                        n,
                        format!("unknown time zone `{rest}` (e.g. Europe/Vienna)"),
                    )
                })?;
                layout.timezone = rest.to_string();
            }
            "stage" => layout.stage = rest.to_string(),
            "country" => {
                let code = rest.to_ascii_uppercase();
                if code.parse::<phonenumber::country::Id>().is_err() {
                    return Err(layout_err(
                        n,
                        format!("`{rest}` is not a country code (two letters: AT, DE, CH)"),
                    ));
                }
                layout.country = Some(code);
            }
            "category" => {
                let (code, name) = rest.split_once(char::is_whitespace).unwrap_or((rest, rest));
                if code.chars().count() != 1 || !code.chars().all(|c| c.is_ascii_uppercase()) {
                    return Err(layout_err(
                        n,
                        "a category code is one capital letter: `category V VIP`",
                    ));
                }
                if layout.categories.iter().any(|(c, _)| c == code) {
                    return Err(layout_err(n, format!("category {code} declared twice")));
                }
                layout
                    .categories
                    .push((code.to_string(), name.trim().to_string()));
            }
            "section" => {
                let (code, name) = rest.split_once(char::is_whitespace).unwrap_or((rest, rest));
                let code = code.to_ascii_uppercase();
                if !is_code(&code) {
                    return Err(layout_err(
                        n,
                        "a section code is 1-8 letters or digits: `section STL Stalls`",
                    ));
                }
                if layout.sections.iter().any(|(c, _)| *c == code) {
                    return Err(layout_err(n, format!("section {code} declared twice")));
                }
                if !layout.sections.is_empty() {
                    y += 1; // a blank line between sections in the drawing
                }
                layout.sections.push((code, name.trim().to_string()));
                rows_in_section.clear();
            }
            other => {
                return Err(layout_err(
                    n,
                    format!(
                        "unknown line `{other}`: expected venue, city, timezone, category, stage, section or a row `A |SSS|`"
                    ),
                ));
            }
        }
    }
    for (field, value) in [
        ("venue", &layout.name),
        ("city", &layout.city),
        ("timezone", &layout.timezone),
    ] {
        if value.is_empty() {
            return Err(layout_err(0, format!("the layout needs a `{field}` line")));
        }
    }
    if layout.seats.is_empty() {
        return Err(layout_err(0, "the layout has no seats"));
    }
    Ok(layout)
}

/// A concert to add to the catalog, in the venue's local time.
#[derive(Debug, Clone)]
pub struct NewConcert {
    pub external_id: Option<String>,
    pub artist: String,
    pub title: String,
    pub venue_slug: String,
    pub local_start: NaiveDateTime,
    pub on_sale_at: DateTime<Utc>,
    /// Price per category code, in cents.
    pub prices: Vec<(String, i64)>,
    pub currency: String,
    pub ticket_limit: i64,
    pub hold_minutes: i64,
}

pub(crate) fn add_venue(tx: &crate::store::Db, slug: &str, text: &str) -> Result<i64> {
    let layout = parse_layout(text)?;
    tx.execute(
        "INSERT INTO venues (slug, name, city, timezone, stage, layout, capacity, width, country) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![slug, layout.name, layout.city, layout.timezone, layout.stage, text, layout.seats.len() as i64, layout.width as i64, layout.country],
    )?;
    let venue_id = tx.last_insert_rowid();
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
    let mut cats = tx.prepare("SELECT code FROM categories WHERE venue_id = ?1")?;
    let venue_cats: Vec<String> = cats
        .query_map([venue_id], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    for code in &venue_cats {
        if !c.prices.iter().any(|(p, _)| p == code) {
            return Err(Error::invalid(format!("no price for category {code}")));
        }
    }
    tx.execute(
        "INSERT INTO concerts (external_id, artist, title, venue_id, starts_at, utc_offset, local_date, local_time, on_sale_at, currency, ticket_limit, hold_minutes)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
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
    )?;
    let concert_id = tx.last_insert_rowid();
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

/// Writes a layout back as the text grid it was read from (canonical form: no comments).
pub fn render_layout(l: &Layout) -> String {
    let mut out = format!(
        "venue    {}\ncity     {}\ntimezone {}\n",
        l.name, l.city, l.timezone
    );
    if let Some(country) = &l.country {
        out.push_str(&format!("country  {country}\n"));
    }
    for (code, name) in &l.categories {
        out.push_str(&format!("category {code} {name}\n"));
    }
    out.push_str(&format!("stage    {}\n", l.stage));
    let label_width = l
        .seats
        .iter()
        .map(|s| s.row.len())
        .max()
        .unwrap_or(1)
        .max(2);
    for (code, name) in &l.sections {
        out.push_str(&format!("\nsection {code} {name}\n"));
        let mut rows: Vec<i64> = l
            .seats
            .iter()
            .filter(|s| s.section == *code)
            .map(|s| s.y)
            .collect();
        rows.dedup();
        for y in rows {
            let seats: Vec<&LayoutSeat> = l.seats.iter().filter(|s| s.y == y).collect();
            let mut grid = vec![' '; l.width];
            for s in &seats {
                grid[s.x as usize] = s.category.chars().next().unwrap_or('?');
            }
            let grid: String = grid.into_iter().collect();
            out.push_str(&format!(
                "{:>w$} |{}|\n",
                seats[0].row,
                grid,
                w = label_width + 1
            ));
        }
    }
    out
}

/// A venue's short name for commands: `Odeon Theatre` becomes `odeon-theatre`.
pub fn slugify(name: &str) -> String {
    let mut slug = String::new();
    for c in name.chars().flat_map(char::to_lowercase) {
        if c.is_ascii_alphanumeric() {
            slug.push(c);
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    slug.trim_end_matches('-').to_string()
}

impl Store {
    /// Adds a venue from a layout file; `name` and `city` override the file's, `slug` (default:
    /// from the name) is how concerts and the CLI name it.
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
        let slug = slug.map(slugify).unwrap_or_else(|| slugify(&layout.name));
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

    pub fn add_concert(&mut self, concert: &NewConcert) -> Result<i64> {
        self.write(|tx, _| add_concert(tx, concert))
    }

    pub fn venues(&self) -> Result<Vec<crate::model::Venue>> {
        let mut st = self
            .conn()
            .prepare("SELECT id, slug, name, city, timezone, capacity FROM venues ORDER BY name")?;
        let rows = st.query_map([], |r| {
            Ok(crate::model::Venue {
                id: r.get(0)?,
                slug: r.get(1)?,
                name: r.get(2)?,
                city: r.get(3)?,
                timezone: r.get(4)?,
                capacity: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
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

    /// Seeds the demo catalog into a database that has none: the built-in venues, two dozen
    /// concerts over the coming months counted from today, some of them partly sold and one
    /// sold out. Does nothing (and returns false) if there is already a catalog.
    pub fn seed_demo_if_empty(&mut self) -> Result<bool> {
        let today = self.now().date_naive();
        self.write(|tx, now| {
            let empty: bool = tx.query_row(
                "SELECT NOT EXISTS (SELECT 1 FROM venues) AND NOT EXISTS (SELECT 1 FROM concerts)",
                [],
                |r| r.get(0),
            )?;
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

fn demo_concerts(today: NaiveDate) -> Result<Vec<(NewConcert, u32)>> {
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
            .collect::<rusqlite::Result<_>>()?
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
                        "INSERT INTO holds (id, concert_id, email, name, created_at, expires_at, state, ended_at, seats) VALUES (?1, ?2, ?3, ?4, ?5, ?5, 'paid', ?5, ?6)",
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_layouts_parse_with_the_sizes_the_demo_promises() {
        let sizes: Vec<usize> = DEMO_VENUES
            .iter()
            .map(|(_, t)| parse_layout(t).unwrap().seats.len())
            .collect();
        assert!((90..=110).contains(&sizes[0]), "club {sizes:?}");
        assert!((300..=1000).contains(&sizes[1]), "theatre {sizes:?}");
        assert!(sizes[2] >= 10_000, "arena {sizes:?}");
        let theatre = parse_layout(DEMO_VENUES[1].1).unwrap();
        assert_eq!(theatre.categories.len(), 3);
    }

    #[test]
    fn seats_are_numbered_left_to_right_skipping_aisles() {
        let l = parse_layout(
            "venue V\ncity C\ntimezone Europe/Vienna\ncategory S Std\ncategory P Prem\nsection A Main\nB |PP.S S|\n",
        )
        .unwrap();
        let labels: Vec<(&str, i64, &str)> = l
            .seats
            .iter()
            .map(|s| (s.label.as_str(), s.x, s.category.as_str()))
            .collect();
        assert_eq!(
            labels,
            vec![
                ("A-B-1", 0, "P"),
                ("A-B-2", 1, "P"),
                ("A-B-3", 3, "S"),
                ("A-B-4", 5, "S")
            ]
        );
    }

    #[test]
    fn layout_errors_name_the_line() {
        let cases = [
            (
                "venue V\ncity C\ntimezone Europe/Vienna\ncategory S Std\nA |SS|\n",
                5,
                "after a `section",
            ),
            (
                "venue V\ncity C\ntimezone Europe/Vienna\ncategory S Std\nsection A x\nB |SX|\n",
                6,
                "`X` at column 2",
            ),
            (
                "venue V\ncity C\ntimezone Mars/Olympus\n",
                3,
                "unknown time zone",
            ),
            (
                "venue V\ncity C\ntimezone Europe/Vienna\ncategory S Std\nsection A x\nB |SS|\nB |SS|\n",
                7,
                "appears twice",
            ),
            ("venue V\nfloor 3\n", 2, "unknown line"),
        ];
        for (text, line, msg) in cases {
            match parse_layout(text) {
                Err(Error::Layout { line: l, message }) => {
                    assert_eq!(l, line, "{message}");
                    assert!(message.contains(msg), "{message}");
                }
                other => panic!("expected a layout error, got {other:?}"),
            }
        }
        assert!(matches!(
            parse_layout("venue V\ncity C\ntimezone Europe/Vienna\n"),
            Err(Error::Layout { .. })
        ));
    }

    #[test]
    fn a_rendered_layout_reads_back_the_same() {
        for (_, text) in DEMO_VENUES {
            let l = parse_layout(text).unwrap();
            assert!(
                parse_layout(&render_layout(&l)).unwrap() == l,
                "the grid reads back the same"
            );
        }
        assert_eq!(slugify("  Odeon  Theatre (Main)!"), "odeon-theatre-main");
    }

    #[test]
    fn demo_catalog_has_enough_concerts_at_different_times() {
        let today = NaiveDate::from_ymd_opt(2026, 11, 25).unwrap();
        let concerts = demo_concerts(today).unwrap();
        assert!(concerts.len() >= 20);
        let times: std::collections::HashSet<_> =
            concerts.iter().map(|(c, _)| c.local_start.time()).collect();
        assert!(times.len() >= 5);
        assert!(concerts.iter().any(|(_, sold)| *sold == 100));
        let last = concerts
            .iter()
            .map(|(c, _)| c.local_start.date())
            .max()
            .unwrap();
        assert!(last - today >= Duration::days(90));
    }
}

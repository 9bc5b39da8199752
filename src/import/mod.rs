//! Concerts from CSV, and back: a season moves between box offices as a file.
//!
//! One row per concert; a header names the columns:
//!
//! ```text
//! external_id,artist,title,venue,starts_at,on_sale_at,price_S,price_P,price_V
//! tour-01,Aurora Lights,The Northern Tour,danube-arena,2027-05-14 20:00 Europe/Vienna,2027-01-10 09:00 Europe/Vienna,59.00,89.00,149.00
//! ```
//!
//! Optional columns: `currency` (default EUR), `ticket_limit`, `hold_minutes`, `offer_minutes`.
//! All or nothing: a file with any bad row imports nothing, and every bad row is named with its
//! line number. Rows are keyed by `external_id`: importing the same file again changes nothing,
//! a changed row updates its concert (a new start time is a reschedule, and ticket holders are
//! told). A price change never alters what existing bookings paid.

use crate::catalog::{NewConcert, add_concert_at};
use crate::error::{Error, Result, RowError};
use crate::model::parse_money;
use crate::params;
use crate::store::sql::OptionalExtension;
use crate::store::{Store, from_ts, ts};
use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};

mod export;
pub use export::CatalogRow;

/// What an import did, concert by concert.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    /// New concerts added.
    pub added: usize,
    /// Concerts already there whose row changed.
    pub updated: usize,
    /// Concerts already there whose row is the same.
    pub unchanged: usize,
    /// Concerts whose start moved; their ticket holders were told.
    pub rescheduled: usize,
}

struct VenueInfo {
    id: i64,
    slug: String,
    tz: chrono_tz::Tz,
    categories: Vec<String>,
}

/// New concerts are written this many to a transaction (a few milliseconds of the write lock
/// each), invisible until the import's last transaction: a 100,000-row import never keeps a
/// terminal waiting to sell.
const IMPORT_CHUNK: usize = 250;

/// Between an import's transactions: long enough for a terminal waiting for the write lock to
/// take it (the busy handler looks every 2 ms), so a long import never starves a sale.
fn let_others_write() {
    std::thread::sleep(std::time::Duration::from_millis(3));
}

/// An import that has not written for this long died (its rows are removed by the next one).
const IMPORT_LEASE_SECS: i64 = 600;

/// This machine's name, to tell whose imports' processes can be checked here.
fn this_host() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_default()
}

/// A concert as stored, to compare with an imported row.
struct StoredConcert {
    artist: String,
    title: String,
    venue_id: i64,
    starts_at: i64,
    on_sale_at: i64,
    currency: String,
    limits: (i64, i64, i64),
    /// Seats sold or held.
    claimed: bool,
    /// Called off: its bookings were refunded, so it keeps its date.
    cancelled: bool,
    /// The import adding it, while that import is under way.
    importing: Option<String>,
}

/// A validated row, ready to write.
struct Ready {
    line: usize,
    /// The row's `status`: `Some(true)` cancelled, `Some(false)` scheduled, `None` not said.
    cancelled: Option<bool>,
    concert: NewConcert,
    starts_at: DateTime<Utc>,
    offer_minutes: i64,
    venue_id: i64,
}

const REQUIRED: [&str; 6] = [
    "external_id",
    "artist",
    "title",
    "venue",
    "starts_at",
    "on_sale_at",
];
const OPTIONAL: [&str; 5] = [
    "currency",
    "ticket_limit",
    "hold_minutes",
    "offer_minutes",
    "status",
];

/// `2026-12-01 19:30 Europe/Vienna`, `2026-12-01 19:30` (the venue's zone) or RFC 3339.
pub fn parse_zoned(
    text: &str,
    venue_tz: chrono_tz::Tz,
) -> std::result::Result<DateTime<Utc>, String> {
    let t = text.trim();
    if let Ok(d) = DateTime::parse_from_rfc3339(t) {
        return Ok(d.with_timezone(&Utc));
    }
    let (local, zone) = match t.rsplit_once(' ') {
        Some((a, b)) if b.contains('/') || b == "UTC" => (a.trim(), Some(b)),
        _ => (t, None),
    };
    let tz: chrono_tz::Tz = match zone {
        Some(z) => z
            .parse()
            .map_err(|_| format!("`{z}` is not a time zone (e.g. Europe/Vienna)"))?,
        None => venue_tz,
    };
    let naive = NaiveDateTime::parse_from_str(local, "%Y-%m-%d %H:%M")
        .map_err(|_| format!("`{t}` is not a date and time (YYYY-MM-DD HH:MM Area/City)"))?;
    match tz.from_local_datetime(&naive) {
        chrono::LocalResult::Single(d) => Ok(d.with_timezone(&Utc)),
        chrono::LocalResult::Ambiguous(first, second) => Err(format!(
            "{local} happens twice in {tz} (the clocks go back): write it with its offset, {} (the first) or {} (the second)",
            first.fixed_offset().format("%Y-%m-%dT%H:%M:%S%:z"),
            second.fixed_offset().format("%Y-%m-%dT%H:%M:%S%:z"),
        )),
        chrono::LocalResult::None => Err(format!(
            "{local} does not exist in {tz} (the clocks skip it)"
        )),
    }
}

fn clean(field: &str, value: &str, max: usize) -> std::result::Result<String, String> {
    let v = crate::text::from_spreadsheet_cell(value.trim());
    if v.is_empty() {
        return Err(format!("{field} is empty"));
    }
    crate::text::check_line(field, v)?;
    if v.chars().count() > max {
        return Err(format!("{field} is longer than {max} characters"));
    }
    Ok(v.to_string())
}

impl Store {
    fn venue_infos(&self) -> Result<HashMap<String, VenueInfo>> {
        let mut out = HashMap::new();
        let mut st = self
            .conn()
            .prepare("SELECT id, slug, name, timezone FROM venues")?;
        let rows: Vec<(i64, String, String, String)> = st
            .query_map((), |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
            .collect::<crate::store::sql::Result<_>>()?;
        for (id, slug, name, tz) in rows {
            let mut cats = self
                .conn()
                .prepare_cached("SELECT code FROM categories WHERE venue_id = ?1 ORDER BY code")?;
            let categories: Vec<String> = cats
                .query_map([id], |r| r.get(0))?
                .collect::<crate::store::sql::Result<_>>()?;
            let info = || VenueInfo {
                id,
                slug: slug.clone(),
                tz: tz.parse().unwrap_or(chrono_tz::UTC),
                categories: categories.clone(),
            };
            out.insert(name.to_lowercase(), info());
            out.insert(slug.to_lowercase(), info());
        }
        Ok(out)
    }

    /// Checks every row; returns them ready to write, or every problem with its line.
    fn check_rows(
        &self,
        csv_text: &str,
        progress: &mut dyn FnMut(&str, usize, usize),
    ) -> Result<Vec<Ready>> {
        let venues = self.venue_infos()?;
        // A spreadsheet's byte-order mark (`export --bom` writes one) is not part of a header.
        let csv_text = csv_text.strip_prefix('\u{feff}').unwrap_or(csv_text);
        // The separator the header uses: a spreadsheet in German or Austrian settings writes
        // `;` (its decimal comma would split a field), elsewhere `,`.
        let header_line = csv_text.lines().next().unwrap_or("");
        let separator = if header_line.contains(';') && !header_line.contains(',') {
            b';'
        } else {
            b','
        };
        let mut reader = csv::ReaderBuilder::new()
            .flexible(true)
            .delimiter(separator)
            .trim(csv::Trim::All)
            .from_reader(csv_text.as_bytes());
        let bad = |line: usize, message: String| RowError { line, message };
        let headers: Vec<String> = match reader.headers() {
            Ok(h) => h.iter().map(|s| s.to_ascii_lowercase()).collect(),
            Err(e) => {
                return Err(Error::ImportRejected(vec![bad(
                    1,
                    format!("cannot read the header: {e}"),
                )]));
            }
        };
        let mut errors = Vec::new();
        for required in REQUIRED {
            if !headers.iter().any(|h| h == required) {
                errors.push(bad(1, format!("the header has no `{required}` column")));
            }
        }
        for (i, h) in headers.iter().enumerate() {
            // A second column of the same name: which one holds the value would be a guess.
            if headers[..i].contains(h) {
                errors.push(bad(
                    1,
                    format!(
                        "the header names `{h}` twice (columns {} and {})",
                        headers[..i].iter().position(|x| x == h).unwrap_or(0) + 1,
                        i + 1
                    ),
                ));
                continue;
            }
            if !REQUIRED.contains(&h.as_str())
                && !OPTIONAL.contains(&h.as_str())
                && !h.starts_with("price_")
            {
                errors.push(bad(
                    1,
                    format!(
                        "unknown column `{h}` (columns: {}, {}, price_<CATEGORY>)",
                        REQUIRED.join(", "),
                        OPTIONAL.join(", ")
                    ),
                ));
            }
        }
        if !errors.is_empty() {
            return Err(Error::ImportRejected(errors));
        }
        let col = |name: &str| headers.iter().position(|h| h == name);
        let total = csv_text.lines().count().saturating_sub(1).max(1);
        let mut seen: HashMap<String, usize> = HashMap::new();
        let mut ready = Vec::new();
        for (i, record) in reader.records().enumerate() {
            let line = i + 2;
            if i % 1000 == 0 {
                progress("checking", i, total);
            }
            let record = match record {
                Ok(r) => r,
                Err(e) => {
                    errors.push(bad(line, format!("not a CSV row: {e}")));
                    continue;
                }
            };
            if record.iter().all(|f| f.is_empty()) {
                continue;
            }
            if record.len() != headers.len() {
                let hint = if separator == b',' && record.len() > headers.len() {
                    " (fields are read as separated by `,`: a price like 39,00 must be quoted, \
                     or the file written with `;` between fields, as a spreadsheet in German \
                     settings does)"
                } else {
                    ""
                };
                errors.push(bad(
                    line,
                    format!(
                        "{} fields, the header has {}{hint}",
                        record.len(),
                        headers.len()
                    ),
                ));
                continue;
            }
            let get = |name: &str| col(name).and_then(|c| record.get(c)).unwrap_or("");
            let mut problems: Vec<String> = Vec::new();
            let mut take = |r: std::result::Result<String, String>| match r {
                Ok(v) => v,
                Err(e) => {
                    problems.push(e);
                    String::new()
                }
            };
            let external_id = take(clean("external_id", get("external_id"), 100));
            let artist = take(clean("artist", get("artist"), 200));
            let title = take(clean("title", get("title"), 200));
            let venue_name = get("venue");
            let venue = venues.get(&venue_name.trim().to_lowercase());
            if venue.is_none() {
                problems.push(format!(
                    "unknown venue `{venue_name}`: add the venue before its concerts"
                ));
            }
            if let Some(first) = seen.get(&external_id).filter(|_| !external_id.is_empty()) {
                problems.push(format!(
                    "duplicate external_id `{external_id}` (first on line {first})"
                ));
            } else if !external_id.is_empty() {
                seen.insert(external_id.clone(), line);
            }
            let number = |name: &str, default: i64, problems: &mut Vec<String>| -> i64 {
                let v = get(name).trim();
                if v.is_empty() {
                    return default;
                }
                match v.parse::<i64>() {
                    Ok(n) if (1..=100_000).contains(&n) => n,
                    _ => {
                        problems.push(format!("{name} `{v}` is not a positive whole number"));
                        default
                    }
                }
            };
            let ticket_limit = number("ticket_limit", 6, &mut problems);
            let hold_minutes = number("hold_minutes", 5, &mut problems);
            let offer_minutes = number("offer_minutes", 120, &mut problems);
            let cancelled = match get("status").trim().to_ascii_lowercase().as_str() {
                "" => None,
                "scheduled" => Some(false),
                "cancelled" | "canceled" => Some(true),
                other => {
                    problems.push(format!("status `{other}` is scheduled or cancelled"));
                    None
                }
            };
            let currency = match get("currency").trim() {
                "" => "EUR".to_string(),
                c if c.len() == 3 && c.chars().all(|x| x.is_ascii_uppercase()) => c.to_string(),
                c => {
                    problems.push(format!(
                        "currency `{c}` is not a three-letter code like EUR"
                    ));
                    "EUR".into()
                }
            };
            let mut prices = Vec::new();
            let mut given: Vec<String> = Vec::new();
            // Dates are checked even when the venue is unknown (in UTC then), so every problem
            // of a row shows at once.
            let tz = venue.map(|v| v.tz).unwrap_or(chrono_tz::UTC);
            let starts = parse_zoned(get("starts_at"), tz)
                .map_err(|e| problems.push(format!("starts_at: {e}")))
                .ok();
            let on_sale = parse_zoned(get("on_sale_at"), tz)
                .map_err(|e| problems.push(format!("on_sale_at: {e}")))
                .ok();
            if let (Some(s), Some(o)) = (starts, on_sale)
                && o > s
            {
                problems.push("on_sale_at is after starts_at".into());
            }
            for (c, h) in headers.iter().enumerate() {
                let Some(code) = h.strip_prefix("price_") else {
                    continue;
                };
                let code = code.to_ascii_uppercase();
                let value = record.get(c).unwrap_or("").trim();
                if value.is_empty() {
                    continue;
                }
                given.push(code.clone());
                if let Some(v) = venue
                    && !v.categories.contains(&code)
                {
                    problems.push(format!(
                        "venue {} has no seat category {code} (it has {})",
                        v.slug,
                        v.categories.join(", ")
                    ));
                    continue;
                }
                match parse_money(value) {
                    Ok(cents) => prices.push((code, cents)),
                    Err(why) => problems.push(format!("price_{code}: {why}")),
                }
            }
            if let Some(v) = venue {
                for code in &v.categories {
                    if !given.contains(code) {
                        problems.push(format!(
                            "no price for category {code} (a price_{code} column)"
                        ));
                    }
                }
                if problems.is_empty()
                    && let (Some(starts_at), Some(on_sale_at)) = (starts, on_sale)
                {
                    ready.push(Ready {
                        cancelled,
                        line,
                        starts_at,
                        offer_minutes,
                        venue_id: v.id,
                        concert: NewConcert {
                            external_id: Some(external_id.clone()),
                            artist: artist.clone(),
                            title: title.clone(),
                            venue_slug: v.slug.clone(),
                            local_start: starts_at.with_timezone(&v.tz).naive_local(),
                            on_sale_at,
                            prices,
                            currency,
                            ticket_limit,
                            hold_minutes,
                        },
                    });
                }
            }
            for p in problems {
                errors.push(bad(line, p));
            }
        }
        if !errors.is_empty() {
            return Err(Error::ImportRejected(errors));
        }
        Ok(ready)
    }

    /// Imports concerts from CSV text, all or nothing. `progress` hears (phase, done, total).
    pub fn import_concerts(
        &mut self,
        csv_text: &str,
        progress: &mut dyn FnMut(&str, usize, usize),
    ) -> Result<ImportReport> {
        let rows = self.check_rows(csv_text, progress)?;
        let total = rows.len();
        self.remove_abandoned_imports()?;
        let batch = uuid::Uuid::new_v4().simple().to_string();
        let out = self.import_staged(&rows, &batch, progress);
        if out.is_err() {
            // Best effort (the disk may be full): what is left is removed by the next import.
            let _ = self.remove_import(&batch);
        }
        progress("writing", total, total);
        out
    }

    /// Writes the rows as [`Store::import_concerts`] describes: new concerts a chunk at a
    /// time under `batch` (invisible), then one transaction with the updates that shows them.
    fn import_staged(
        &mut self,
        rows: &[Ready],
        batch: &str,
        progress: &mut dyn FnMut(&str, usize, usize),
    ) -> Result<ImportReport> {
        let total = rows.len();
        let (host, pid) = (this_host(), std::process::id());
        self.write(|tx, now| {
            tx.execute(
                "INSERT INTO imports (id, host, pid, started_at, heartbeat_at) VALUES (?1, ?2, ?3, ?4, ?4)",
                params![batch, host, pid, ts(now)],
            )?;
            Ok(())
        })?;
        let mut existing_rows: Vec<&Ready> = Vec::new();
        let mut added = 0;
        for (n, chunk) in rows.chunks(IMPORT_CHUNK).enumerate() {
            progress("writing", n * IMPORT_CHUNK, total);
            let mut staged = 0;
            let existing = self.write(|tx, now| {
                let mut existing = Vec::new();
                for row in chunk {
                    let c = &row.concert;
                    let known = tx
                        .prepare_cached("SELECT 1 FROM concerts WHERE external_id = ?1")?
                        .query_row([c.external_id.as_deref().unwrap_or_default()], |_| Ok(()))
                        .optional()?
                        .is_some();
                    if known {
                        existing.push(row);
                        continue;
                    }
                    let id =
                        add_concert_at(tx, c, crate::catalog::StartAt::Instant(row.starts_at))?;
                    // A concert called off where the file came from arrives called off (it has
                    // no bookings here to refund).
                    tx.prepare_cached(
                        "UPDATE concerts SET offer_minutes = ?2, import_batch = ?3,
                             status = CASE WHEN ?4 THEN 'cancelled' ELSE status END
                         WHERE id = ?1",
                    )?
                    .execute(params![
                        id,
                        row.offer_minutes,
                        batch,
                        row.cancelled == Some(true)
                    ])?;
                    staged += 1;
                }
                tx.prepare_cached("UPDATE imports SET heartbeat_at = ?2 WHERE id = ?1")?
                    .execute(params![batch, ts(now)])?;
                Ok(existing)
            })?;
            existing_rows.extend(existing);
            added += staged;
            crate::failpoint::hit("import:staged");
            let_others_write();
        }
        let report = self.write(|tx, now| {
            let mut report = ImportReport::default();
            let mut conflicts = Vec::new();
            for row in existing_rows {
                let c = &row.concert;
                let existing: Option<(i64, StoredConcert)> = tx
                    .prepare_cached(
                        "SELECT id, artist, title, venue_id, starts_at, on_sale_at, currency, ticket_limit, hold_minutes, offer_minutes, claimed > 0,
                                status = 'cancelled', import_batch
                         FROM concerts WHERE external_id = ?1",
                    )?
                    .query_row(
                        [c.external_id.as_deref().unwrap_or_default()],
                        |r| {
                            Ok((
                                r.get(0)?,
                                StoredConcert {
                                    artist: r.get(1)?,
                                    title: r.get(2)?,
                                    venue_id: r.get(3)?,
                                    starts_at: r.get(4)?,
                                    on_sale_at: r.get(5)?,
                                    currency: r.get(6)?,
                                    limits: (r.get(7)?, r.get(8)?, r.get(9)?),
                                    claimed: r.get(10)?,
                                    cancelled: r.get(11)?,
                                    importing: r.get(12)?,
                                },
                            ))
                        },
                    )
                    .optional()?;
                let Some((id, StoredConcert { artist, title, venue_id, starts_at, on_sale_at, currency, limits, claimed, cancelled, importing })) = existing else {
                    // Gone since the staging look-up: another import's, given up meanwhile.
                    conflicts.push(RowError {
                        line: row.line,
                        message: "another import was adding this concert at the same moment; run it again".into(),
                    });
                    continue;
                };
                if importing.is_some_and(|b| b != batch) {
                    conflicts.push(RowError {
                        line: row.line,
                        message: format!(
                            "{} is being added by another import right now; run this one again once it has finished",
                            c.external_id.as_deref().unwrap_or_default()
                        ),
                    });
                    continue;
                }

                let old_prices: BTreeMap<String, i64> = {
                    let mut st = tx.prepare_cached("SELECT category, price_cents FROM prices WHERE concert_id = ?1")?;
                    st.query_map([id], |r| Ok((r.get(0)?, r.get(1)?)))?.collect::<crate::store::sql::Result<_>>()?
                };
                let new_prices: BTreeMap<String, i64> = c.prices.iter().cloned().collect();
                if row.cancelled.is_some_and(|asked| asked != cancelled) {
                    conflicts.push(RowError {
                        line: row.line,
                        message: if cancelled {
                            format!("{} was called off (its bookings were refunded): it cannot go back on sale", c.external_id.as_deref().unwrap_or_default())
                        } else {
                            format!("{} is on sale here: calling it off refunds its bookings and tells its holders, so it is done as its own step, not by an import", c.external_id.as_deref().unwrap_or_default())
                        },
                    });
                    continue;
                }
                let same = artist == c.artist
                    && title == c.title
                    && venue_id == row.venue_id
                    && starts_at == ts(row.starts_at)
                    && on_sale_at == ts(c.on_sale_at)
                    && currency == c.currency
                    && limits == (c.ticket_limit, c.hold_minutes, row.offer_minutes)
                    && old_prices == new_prices;
                if same {
                    report.unchanged += 1;
                    continue;
                }
                if cancelled && starts_at != ts(row.starts_at) {
                    conflicts.push(RowError {
                        line: row.line,
                        message: format!("{} was called off (its bookings were refunded): it cannot move to a new date", c.external_id.as_deref().unwrap_or_default()),
                    });
                    continue;
                }
                if venue_id != row.venue_id && claimed {
                    conflicts.push(RowError {
                        line: row.line,
                        message: format!("{} has tickets sold or held: it cannot move to another venue", c.external_id.as_deref().unwrap_or_default()),
                    });
                    continue;
                }
                if currency != c.currency && claimed {
                    conflicts.push(RowError {
                        line: row.line,
                        message: "the currency cannot change once tickets are sold or held".into(),
                    });
                    continue;
                }
                tx.prepare_cached(
                    "UPDATE concerts SET artist = ?2, title = ?3, venue_id = ?4, on_sale_at = ?5, currency = ?6,
                     ticket_limit = ?7, hold_minutes = ?8, offer_minutes = ?9 WHERE id = ?1",
                )?
                .execute(params![id, c.artist, c.title, row.venue_id, ts(c.on_sale_at), c.currency, c.ticket_limit, c.hold_minutes, row.offer_minutes])?;
                // New prices apply to new sales; what bookings paid is kept on their claims.
                tx.prepare_cached("DELETE FROM prices WHERE concert_id = ?1")?.execute([id])?;
                for (code, cents) in &c.prices {
                    tx.prepare_cached("INSERT INTO prices (concert_id, category, price_cents) VALUES (?1, ?2, ?3)")?
                        .execute(params![id, code, cents])?;
                }
                if starts_at != ts(row.starts_at) {
                    crate::changes::move_start(
                        tx,
                        id,
                        crate::catalog::StartAt::Instant(row.starts_at),
                        now,
                    )?;
                    report.rescheduled += 1;
                }
                report.updated += 1;
            }
            if !conflicts.is_empty() {
                return Err(Error::ImportRejected(conflicts));
            }
            // Every new concert at once: one row changes.
            tx.prepare_cached("UPDATE imports SET done = 1 WHERE id = ?1")?
                .execute([batch])?;
            report.added = added;
            Ok(report)
        })?;
        crate::failpoint::hit("import:done");
        // The import is in: clearing its id is housekeeping that the next import finishes if
        // it is cut short here.
        let _ = self.clear_import(batch);
        Ok(report)
    }

    /// Takes a done import's id off its concerts, a chunk at a time, then forgets the import.
    fn clear_import(&mut self, batch: &str) -> Result<()> {
        loop {
            let cleared = self.write(|tx, _| {
                let n = tx
                    .prepare_cached(
                        "UPDATE concerts SET import_batch = NULL WHERE id IN
                         (SELECT id FROM concerts WHERE import_batch = ?1 LIMIT 2000)",
                    )?
                    .execute([batch])?;
                if n == 0 {
                    tx.prepare_cached("DELETE FROM imports WHERE id = ?1")?
                        .execute([batch])?;
                }
                Ok(n)
            })?;
            if cleared == 0 {
                return Ok(());
            }
            let_others_write();
        }
    }

    /// Removes an import's staged concerts, a chunk at a time, and the import itself.
    fn remove_import(&mut self, batch: &str) -> Result<()> {
        loop {
            let removed = self.write(|tx, _| {
                let done: bool = tx
                    .prepare_cached("SELECT done FROM imports WHERE id = ?1")?
                    .query_row([batch], |r| r.get(0))
                    .optional()?
                    .unwrap_or(false);
                if done {
                    // In the catalog already: nothing of it is removed.
                    return Ok(0);
                }
                let ids: Vec<i64> = tx
                    .prepare_cached("SELECT id FROM concerts WHERE import_batch = ?1 LIMIT 500")?
                    .query_map([batch], |r| r.get(0))?
                    .collect::<crate::store::sql::Result<_>>()?;
                for id in &ids {
                    tx.prepare_cached("DELETE FROM prices WHERE concert_id = ?1")?
                        .execute([id])?;
                    tx.prepare_cached("DELETE FROM concerts WHERE id = ?1")?
                        .execute([id])?;
                }
                if ids.is_empty() {
                    tx.prepare_cached("DELETE FROM imports WHERE id = ?1 AND done = 0")?
                        .execute([batch])?;
                }
                Ok(ids.len())
            })?;
            if removed == 0 {
                return Ok(());
            }
            let_others_write();
        }
    }

    /// Removes what imports that died left behind: those whose process on this machine is
    /// gone, or that have not written for [`IMPORT_LEASE_SECS`].
    fn remove_abandoned_imports(&mut self) -> Result<()> {
        let host = this_host();
        let stale = ts(self.now()) - IMPORT_LEASE_SECS;
        let imports: Vec<(String, String, i64, i64, bool)> = self
            .conn()
            .prepare("SELECT id, host, pid, heartbeat_at, done FROM imports")?
            .query_map((), |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })?
            .collect::<crate::store::sql::Result<_>>()?;
        for (id, their_host, pid, heartbeat, done) in imports {
            let gone = !host.is_empty()
                && their_host == host
                && std::path::Path::new("/proc/self").exists()
                && !std::path::Path::new(&format!("/proc/{pid}")).exists();
            if done {
                // Its concerts are in the catalog; only the clearing was cut short.
                self.clear_import(&id)?;
            } else if gone || heartbeat < stale {
                self.remove_import(&id)?;
            }
        }
        Ok(())
    }
}

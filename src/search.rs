//! Concert search: by artist, venue or city, date range, time of day and free seats.
//!
//! Names match as case-insensitive substrings. Terms of three characters or more are served by
//! the FTS5 trigram index (`concert_search`); shorter ones fall back to `LIKE`, with `%` and `_`
//! escaped so a user's `%` is a literal character.

use crate::error::{Error, Result};
use crate::model::ConcertSummary;
use crate::store::sql::Row;
use crate::store::sql::Value;
use crate::store::{Store, from_ts, ts};
use chrono::{FixedOffset, NaiveDate, NaiveTime, TimeZone};

/// A concert search: every field set narrows it; the default finds every concert not started yet.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConcertQuery {
    /// Matches artist, title, venue or city.
    pub text: Option<String>,
    /// Matches the artist only.
    pub artist: Option<String>,
    /// Matches the venue's name or its city.
    pub venue: Option<String>,
    /// First and last day, inclusive, in the venue's local time.
    pub from: Option<NaiveDate>,
    /// The last day, inclusive, in the venue's local time.
    pub to: Option<NaiveDate>,
    /// Start time of day at the venue, inclusive.
    pub after: Option<NaiveTime>,
    /// The latest start time of day at the venue, inclusive.
    pub before: Option<NaiveTime>,
    /// Only concerts with at least one free seat.
    pub available: bool,
    /// At most this many concerts (a page); `None` for all.
    pub limit: Option<usize>,
    /// How many matching concerts to skip first (the page's start).
    pub offset: usize,
}

/// A date as typed, `YYYY-MM-DD` (`2026-12-01`).
pub fn parse_date(s: &str) -> Result<NaiveDate> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").map_err(|_| {
        Error::invalid(format!(
            "`{}` is not a date: use YYYY-MM-DD, e.g. 2026-12-01",
            s.trim()
        ))
    })
}

/// A time of day as typed, `HH:MM` on the 24-hour clock (`19:30`).
pub fn parse_time(s: &str) -> Result<NaiveTime> {
    NaiveTime::parse_from_str(s.trim(), "%H:%M").map_err(|_| {
        Error::invalid(format!(
            "`{}` is not a time of day: use HH:MM (24-hour), e.g. 19:30",
            s.trim()
        ))
    })
}

/// The longest search a person types (the longest artist and title in a season are far
/// shorter); anything longer is refused before it reaches the index.
pub const MAX_QUERY_CHARS: usize = 200;

impl ConcertQuery {
    /// Parses what a person types into the search box: free words match artist, title, venue
    /// or city; `artist:`, `venue:`, `city:`, `date:FROM..TO` (or one day), `from:`, `to:`,
    /// `after:HH:MM`, `before:HH:MM` and `free` narrow it. Values may be quoted.
    pub fn parse(input: &str) -> Result<ConcertQuery> {
        if input.chars().count() > MAX_QUERY_CHARS {
            return Err(Error::invalid(format!(
                "a search is at most {MAX_QUERY_CHARS} characters"
            )));
        }
        let mut q = ConcertQuery::default();
        let mut words: Vec<String> = Vec::new();
        for token in tokenize(input) {
            let Some((key, value)) = token
                .split_once(':')
                .filter(|(k, _)| k.chars().all(|c| c.is_ascii_alphabetic()) && !k.is_empty())
            else {
                if token.eq_ignore_ascii_case("free") || token.eq_ignore_ascii_case("available") {
                    q.available = true;
                } else {
                    words.push(token);
                }
                continue;
            };
            let value = value.trim_matches('"').to_string();
            match key.to_ascii_lowercase().as_str() {
                "artist" => q.artist = Some(value),
                "venue" | "city" => q.venue = Some(value),
                "date" | "on" => {
                    let (a, b) = value.split_once("..").unwrap_or((&value, &value));
                    if !a.is_empty() {
                        q.from = Some(parse_date(a)?);
                    }
                    if !b.is_empty() {
                        q.to = Some(parse_date(b)?);
                    }
                }
                "from" => q.from = Some(parse_date(&value)?),
                "to" => q.to = Some(parse_date(&value)?),
                "after" => q.after = Some(parse_time(&value)?),
                "before" => q.before = Some(parse_time(&value)?),
                other => {
                    return Err(Error::invalid(format!(
                        "unknown field `{other}:`; use artist:, venue:, city:, date:, from:, to:, after:, before:"
                    )));
                }
            }
        }
        if !words.is_empty() {
            q.text = Some(words.join(" "));
        }
        q.validate()?;
        Ok(q)
    }

    /// Refuses a search that is too long or whose date or time range is backwards.
    pub fn validate(&self) -> Result<()> {
        for (field, value) in [
            ("the search", &self.text),
            ("--artist", &self.artist),
            ("--venue", &self.venue),
        ] {
            if value
                .as_ref()
                .is_some_and(|v| v.chars().count() > MAX_QUERY_CHARS)
            {
                return Err(Error::invalid(format!(
                    "{field} is at most {MAX_QUERY_CHARS} characters"
                )));
            }
        }
        // A page's bounds go into SQL as 64-bit signed numbers.
        for (flag, value) in [("--limit", self.limit), ("--offset", Some(self.offset))] {
            if value.is_some_and(|v| i64::try_from(v).is_err()) {
                return Err(Error::invalid(format!(
                    "{flag} is at most {} (the number of concerts is far below)",
                    i64::MAX
                )));
            }
        }
        if let (Some(from), Some(to)) = (self.from, self.to)
            && from > to
        {
            return Err(Error::invalid(format!(
                "the range is backwards: from {from} is after to {to}"
            )));
        }
        if let (Some(after), Some(before)) = (self.after, self.before)
            && after > before
        {
            return Err(Error::invalid(format!(
                "the time range is backwards: after {} is later than before {}",
                after.format("%H:%M"),
                before.format("%H:%M")
            )));
        }
        Ok(())
    }
}

fn tokenize(input: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quoted = false;
    for ch in input.chars() {
        match ch {
            '"' => quoted = !quoted,
            c if c.is_whitespace() && !quoted => {
                if !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                }
            }
            c => cur.push(c),
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// The claims of concert `c` whose hold's time ran out without the hold being swept yet: the
/// seat-status rule calls those seats free, though the concert's counts still count them. Found
/// from the live holds' expiry index (a handful at most) and the seats each lists, never from
/// the concert's claims.
macro_rules! run_out_claims {
    ($($e:ident)?) => {
        concat!(
            "FROM holds h CROSS JOIN ",
            crate::records::held_by!($($e)?),
            " WHERE h.state = 'live' AND h.expires_at <= :now AND h.concert_id = c.id
               AND cl.booking_id IS NULL AND cl.expires_at <= :now"
        )
    };
}

/// The columns and counts every concert listing shows, for the concerts whose ids are the JSON
/// array `:ids` (distinct); `:now` must be bound ([`summary_sql`]). Joined from the array: `c.id IN (SELECT value
/// FROM json_each(:ids))` made SQLite build a temporary table of the ids for every page. The
/// counts are the concert's own (kept as claims change, see `booking::count_new_claims`), less
/// its `run_out_claims!`.
macro_rules! summary_sql {
    ($($e:ident)?) => {
        concat!(
            "SELECT c.id AS id, c.artist AS artist, c.title AS title, v.name AS venue,
                v.slug AS venue_slug, v.city AS city, c.starts_at AS starts_at,
                c.utc_offset AS utc_offset, c.on_sale_at AS on_sale_at, v.capacity AS capacity,
                c.booked AS booked,
                c.claimed - c.booked - c.reserved - (SELECT count(*) ",
            run_out_claims!($($e)?),
            " AND cl.reserved = 0) AS held,
                c.reserved - (SELECT count(*) ",
            run_out_claims!($($e)?),
            " AND cl.reserved = 1) AS reserved,
                (SELECT min(price_cents) FROM prices p WHERE p.concert_id = c.id) AS min_price_cents,
                (SELECT max(price_cents) FROM prices p WHERE p.concert_id = c.id) AS max_price_cents,
                c.currency AS currency, c.ticket_limit AS ticket_limit,
                c.hold_minutes AS hold_minutes, c.offer_minutes AS offer_minutes,
                c.status AS status,
                (SELECT count(*) FROM waitlist w WHERE w.concert_id = c.id
                   AND w.state IN ('waiting', 'offered')) AS waiting,
                v.timezone AS timezone, v.country AS country
             FROM ",
            summary_sql!(@ids $($e)?),
            " JOIN venues v ON v.id = c.venue_id"
        )
    };
    (@ids) => {
        "json_each(:ids) j CROSS JOIN concerts c ON c.id = j.value"
    };
    (@ids pg) => {
        "json_each(:ids) j JOIN concerts c ON c.id = CAST(j.value AS BIGINT)"
    };
}

/// [`summary_sql!`] for the connection's engine.
pub(crate) fn summary_sql(conn: &crate::store::Db) -> &'static str {
    conn.pick(summary_sql!(), summary_sql!(pg))
}

/// Summaries of these concerts, in the order of `ids`. (No ORDER BY in SQL: it would tempt the
/// planner to walk the start-time index over the whole season instead of looking up the ids.)
pub(crate) fn summaries(
    conn: &crate::store::Db,
    ids: &[i64],
    now: i64,
) -> Result<Vec<ConcertSummary>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let mut st = conn.prepare_cached(summary_sql(conn))?;
    let rows = st.query_map(
        crate::named_params! {":now": now, ":ids": crate::records::json_ids(ids)},
        summary_from_row,
    )?;
    let mut found: Vec<ConcertSummary> = rows.collect::<crate::store::sql::Result<_>>()?;
    found.sort_by_key(|c| ids.iter().position(|i| *i == c.id));
    Ok(found)
}

/// A concert listing from a row of [`summary_sql!`], its columns read by name.
pub(crate) fn summary_from_row(r: &Row<'_>) -> crate::store::sql::Result<ConcertSummary> {
    let starts_at = from_ts(r.get("starts_at")?);
    let offset = FixedOffset::east_opt(r.get::<i32>("utc_offset")?)
        .unwrap_or(FixedOffset::east_opt(0).expect("zero offset"));
    let capacity: i64 = r.get("capacity")?;
    let booked: i64 = r.get("booked")?;
    let held: i64 = r.get("held")?;
    let reserved: i64 = r.get("reserved")?;
    let free = (capacity - booked - held - reserved).max(0);
    let status: crate::ConcertStatus = r.get("status")?;
    let timezone: String = r.get("timezone")?;
    let country: Option<String> = r.get("country")?;
    Ok(ConcertSummary {
        country: country.or_else(|| crate::catalog::country_of_zone(&timezone).map(str::to_string)),
        timezone,
        id: r.get("id")?,
        artist: r.get("artist")?,
        title: r.get("title")?,
        venue: r.get("venue")?,
        venue_slug: r.get("venue_slug")?,
        city: r.get("city")?,
        starts_at,
        local_start: offset.from_utc_datetime(&starts_at.naive_utc()),
        on_sale_at: from_ts(r.get("on_sale_at")?),
        capacity,
        free_seats: free,
        held_seats: held,
        booked_seats: booked,
        reserved_seats: reserved,
        min_price_cents: r.get::<Option<i64>>("min_price_cents")?.unwrap_or(0),
        max_price_cents: r.get::<Option<i64>>("max_price_cents")?.unwrap_or(0),
        currency: r.get("currency")?,
        ticket_limit: r.get("ticket_limit")?,
        hold_minutes: r.get("hold_minutes")?,
        offer_minutes: r.get("offer_minutes")?,
        waiting: r.get("waiting")?,
        sold_out: free == 0 && status == crate::ConcertStatus::Scheduled,
        status,
    })
}

fn fts_phrase(term: &str) -> String {
    format!("\"{}\"", term.replace('"', "\"\""))
}

fn like_pattern(term: &str) -> String {
    let mut p = String::from("%");
    for ch in term.chars() {
        if matches!(ch, '%' | '_' | '\\') {
            p.push('\\');
        }
        p.push(ch);
    }
    p.push('%');
    p
}

/// Named parameters for a query built at run time.
struct Args(Vec<(String, Value)>);

impl Args {
    fn bind(&mut self, v: impl Into<Value>) -> String {
        let name = format!(":a{}", self.0.len());
        self.0.push((name.clone(), v.into()));
        name
    }

    /// `:now`, bound once, for the clauses (and the `run_out_claims!` fragment) that name it.
    fn now(&mut self, now: i64) -> &'static str {
        if !self.0.iter().any(|(n, _)| n == ":now") {
            self.0.push((":now".into(), Value::Int(now)));
        }
        ":now"
    }

    fn as_params(&self) -> Vec<(&str, &dyn crate::store::sql::ToSql)> {
        self.0
            .iter()
            .map(|(n, v)| (n.as_str(), v as &dyn crate::store::sql::ToSql))
            .collect()
    }
}

impl Store {
    /// Concerts matching `q`, in start-time order. Without a `from` date, only concerts that
    /// have not started yet.
    pub fn search_concerts(&self, q: &ConcertQuery) -> Result<Vec<ConcertSummary>> {
        q.validate()?;
        let now = ts(self.now());
        let mut args = Args(Vec::new());
        let mut clauses: Vec<String> = Vec::new();
        let mut fts: Vec<String> = Vec::new();
        // Whether a clause reads the venue (`v`): a page of an artist's concerts needs no venue
        // until its summaries are read.
        let mut reads_venue = false;
        // PostgreSQL has no FTS5: its trigram indexes (`pg_trgm`) answer the same substring
        // matches, case-insensitive, written as LIKE on the lowered columns they index.
        let pg = self.conn().kind() == crate::store::Kind::Postgres;
        let terms: [(&Option<String>, &str, &[&str]); 2] = [
            (
                &q.text,
                "{artist title venue city}",
                &["c.artist", "c.title", "v.name", "v.city"],
            ),
            (&q.artist, "artist", &["c.artist"]),
        ];
        for (term, fts_cols, cols) in terms {
            let Some(term) = term.as_deref().map(str::trim).filter(|t| !t.is_empty()) else {
                continue;
            };
            if pg {
                let p = args.bind(like_pattern(&term.to_lowercase()));
                clauses.push(if fts_cols == "artist" {
                    format!("lower(c.artist) LIKE {p} ESCAPE '\\'")
                } else {
                    format!(
                        "(lower(c.artist || ' ' || c.title) LIKE {p} ESCAPE '\\' OR c.venue_id IN \
                         (SELECT id FROM venues WHERE lower(name || ' ' || city) LIKE {p} ESCAPE '\\'))"
                    )
                });
            } else if term.chars().count() >= 3 {
                fts.push(format!("{fts_cols} : {}", fts_phrase(term)));
            } else {
                let p = args.bind(like_pattern(term));
                reads_venue |= cols.iter().any(|c| c.starts_with("v."));
                let ors: Vec<String> = cols
                    .iter()
                    .map(|c| format!("{c} LIKE {p} ESCAPE '\\'"))
                    .collect();
                clauses.push(format!("({})", ors.join(" OR ")));
            }
        }
        // Venues are few: match them first, then walk their concerts by date.
        if let Some(term) = q.venue.as_deref().map(str::trim).filter(|t| !t.is_empty()) {
            clauses.push(if pg {
                let p = args.bind(like_pattern(&term.to_lowercase()));
                format!(
                    "c.venue_id IN (SELECT id FROM venues WHERE lower(name || ' ' || city) LIKE {p} ESCAPE '\\')"
                )
            } else {
                let p = args.bind(like_pattern(term));
                format!(
                    "c.venue_id IN (SELECT id FROM venues WHERE name LIKE {p} ESCAPE '\\' OR city LIKE {p} ESCAPE '\\')"
                )
            });
        }
        if !fts.is_empty() {
            let p = args.bind(fts.join(" AND "));
            clauses.push(format!(
                "c.id IN (SELECT rowid FROM concert_search WHERE concert_search MATCH {p})"
            ));
        }
        match q.from {
            Some(from) => {
                let p = args.bind(from.format("%Y-%m-%d").to_string());
                clauses.push(format!("c.local_date >= {p}"));
            }
            None => clauses.push(format!("c.starts_at >= {}", args.now(now))),
        }
        if let Some(to) = q.to {
            let p = args.bind(to.format("%Y-%m-%d").to_string());
            clauses.push(format!("c.local_date <= {p}"));
        }
        if let Some(after) = q.after {
            let p = args.bind(after.format("%H:%M").to_string());
            clauses.push(format!("c.local_time >= {p}"));
        }
        if let Some(before) = q.before {
            let p = args.bind(before.format("%H:%M").to_string());
            clauses.push(format!("c.local_time <= {p}"));
        }
        if q.available {
            // The claimed count includes holds whose time ran out but were not swept yet: a
            // concert that looks full is free after all if one of those exists.
            args.now(now);
            reads_venue = true;
            macro_rules! available {
                ($($e:ident)?) => {
                    concat!(
                        "c.status = 'scheduled' AND (c.claimed < v.capacity OR EXISTS (SELECT 1 ",
                        run_out_claims!($($e)?),
                        "))"
                    )
                };
            }
            clauses.push(self.conn().pick(available!(), available!(pg)).into());
        }
        // First the page's ids, which the indexes answer; then what the page shows about them.
        // Concerts of an import still under way are not in the catalog yet.
        clauses.push(crate::in_catalog!("c").into());
        // The venue joined only where a clause reads it: a page of an artist's concerts needs
        // no venue until its summaries are read.
        let mut sql = String::from("SELECT c.id FROM concerts c");
        if reads_venue {
            sql.push_str(" JOIN venues v ON v.id = c.venue_id");
        }
        sql.push_str(" WHERE ");
        sql.push_str(&clauses.join(" AND "));
        sql.push_str(" ORDER BY c.starts_at, c.id");
        // The page's bounds written into the statement (numbers, never text): PostgreSQL
        // plans a statement it has run five times for any LIMIT, and for a "has free seats"
        // page that plan sorted the whole season (50 ms, not 5).
        // (`validate` refuses bounds past i64; clamped here all the same, never wrapped.)
        let bound = |n: usize| i64::try_from(n).unwrap_or(i64::MAX);
        if let Some(limit) = q.limit {
            sql.push_str(&format!(
                " LIMIT {} OFFSET {}",
                bound(limit),
                bound(q.offset)
            ));
        } else if q.offset > 0 {
            sql.push_str(&format!(" LIMIT {} OFFSET {}", i64::MAX, bound(q.offset)));
        }
        // Built per query: rusqlite's cache, by text.
        let mut st = self.conn().prepare_cached(&sql)?;
        let ids: Vec<i64> = st
            .query_map(args.as_params().as_slice(), |r| r.get(0))?
            .collect::<crate::store::sql::Result<_>>()?;
        summaries(self.conn(), &ids, now)
    }
}

//! `concerts` and `seats`: finding concerts and reading a seat map.

use super::*;

/// `boxoffice concerts`.
#[derive(Debug, clap::Args)]
pub(super) struct ConcertsArgs {
    /// Artist name contains this (any case)
    #[arg(long)]
    pub(super) artist: Option<String>,
    /// Venue name or city contains this (any case)
    #[arg(long)]
    pub(super) venue: Option<String>,
    /// First day, inclusive (YYYY-MM-DD, at the venue)
    #[arg(long)]
    pub(super) from: Option<String>,
    /// Last day, inclusive (YYYY-MM-DD, at the venue)
    #[arg(long)]
    pub(super) to: Option<String>,
    /// Starting at or after this time of day (HH:MM)
    #[arg(long)]
    pub(super) after: Option<String>,
    /// Starting at or before this time of day (HH:MM)
    #[arg(long)]
    pub(super) before: Option<String>,
    /// Only concerts with free seats
    #[arg(long)]
    pub(super) available: bool,
    /// At most this many
    #[arg(long)]
    pub(super) limit: Option<usize>,
    /// Skip this many first
    #[arg(long, default_value_t = 0)]
    pub(super) offset: usize,
    #[arg(long)]
    pub(super) json: bool,
}

/// `boxoffice seats`.
#[derive(Debug, clap::Args)]
pub(super) struct SeatsArgs {
    /// Concert number (or external id)
    pub(super) concert: String,
    #[arg(long)]
    pub(super) json: bool,
}

pub(super) fn concerts(cli: &Cli, args: &ConcertsArgs, out: &mut String) -> Result<(), Failure> {
    let ConcertsArgs {
        artist,
        venue,
        from,
        to,
        after,
        before,
        available,
        limit,
        offset,
        json,
    } = args;
    let q = ConcertQuery {
        text: None,
        artist: artist.clone(),
        venue: venue.clone(),
        from: from.as_deref().map(search::parse_date).transpose()?,
        to: to.as_deref().map(search::parse_date).transpose()?,
        after: after.as_deref().map(search::parse_time).transpose()?,
        before: before.as_deref().map(search::parse_time).transpose()?,
        available: *available,
        limit: *limit,
        offset: *offset,
    };
    q.validate()?;
    let ctx = open_ctx(cli)?;
    let store = &ctx.store;
    let found = store.search_concerts(&q)?;
    show(out, *json, &found, |out| {
        print_concerts(out, &found);
        Ok(())
    })
}

pub(super) fn seats(cli: &Cli, args: &SeatsArgs, out: &mut String) -> Result<(), Failure> {
    let SeatsArgs { concert, json } = args;
    let ctx = open_ctx(cli)?;
    let store = &ctx.store;
    let id = store.resolve_concert(concert)?;
    let map = store.seat_map(id)?;
    show(out, *json, &map.seats, |out| {
        outln!(out, "{}", concert_line(&map.concert));
        let rows: Vec<Vec<String>> = map
            .seats
            .iter()
            .map(|s| {
                vec![
                    s.seat.clone(),
                    s.category.clone(),
                    Money::new(s.price_cents, &map.concert.currency).to_string(),
                    s.status.to_string(),
                ]
            })
            .collect();
        print_table(out, &["SEAT", "CATEGORY", "PRICE", "STATUS"], &rows);
        outln!(
            out,
            "{} free, {} held, {} booked of {}",
            map.counts.free,
            map.counts.held,
            map.counts.booked,
            map.concert.capacity
        );
        Ok(())
    })
}

pub(super) fn concert_line(c: &ConcertSummary) -> String {
    format!(
        "#{} {} - {}, {} {}, {}",
        c.id,
        c.artist,
        c.title,
        c.venue,
        c.city,
        c.local_start.format("%a %Y-%m-%d %H:%M")
    )
}

pub(super) fn print_concerts(out: &mut String, found: &[ConcertSummary]) {
    if found.is_empty() {
        outln!(out, "no concerts match");
        return;
    }
    let rows: Vec<Vec<String>> = found
        .iter()
        .map(|c| {
            let free = if c.status == boxoffice::ConcertStatus::Cancelled {
                "CANCELLED".to_string()
            } else if c.sold_out {
                "SOLD OUT".to_string()
            } else {
                format!("{}/{}", c.free_seats, c.capacity)
            };
            vec![
                c.id.to_string(),
                c.local_start.format("%a %Y-%m-%d").to_string(),
                c.local_start.format("%H:%M").to_string(),
                c.artist.clone(),
                c.venue.clone(),
                free,
                if c.min_price_cents == c.max_price_cents {
                    Money::new(c.min_price_cents, &c.currency).to_string()
                } else {
                    format!(
                        "{}-{}.{:02}",
                        Money::new(c.min_price_cents, &c.currency),
                        c.max_price_cents / 100,
                        c.max_price_cents % 100
                    )
                },
            ]
        })
        .collect();
    print_table(
        out,
        &["ID", "DATE", "TIME", "ARTIST", "VENUE", "FREE", "PRICE"],
        &rows,
    );
}

/// Aligned columns by display width (so CJK and emoji keep the table straight).
/// Control characters are shown escaped, never sent to the terminal.
pub(super) fn print_table(out: &mut String, header: &[&str], rows: &[Vec<String>]) {
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|r| r.iter().map(|c| crate::tui::widgets::safe(c)).collect())
        .collect();
    let mut widths: Vec<usize> = header.iter().map(|h| h.width()).collect();
    for r in &rows {
        for (i, cell) in r.iter().enumerate() {
            widths[i] = widths[i].max(cell.width().min(40));
        }
    }
    let line = |out: &mut String, cells: Vec<String>| {
        let mut text = String::new();
        for (i, cell) in cells.iter().enumerate() {
            let cell = truncate(cell, widths[i]);
            text.push_str(&cell);
            if i + 1 < cells.len() {
                text.push_str(&" ".repeat(widths[i] - cell.width() + 2));
            }
        }
        outln!(out, "{}", text.trim_end());
    };
    line(out, header.iter().map(|h| h.to_string()).collect());
    for r in rows {
        line(out, r);
    }
}

pub(super) fn truncate(s: &str, width: usize) -> String {
    if s.width() <= width {
        return s.to_string();
    }
    let mut out = String::new();
    for c in s.chars() {
        if out.width() + c.to_string().width() + 1 > width {
            break;
        }
        out.push(c);
    }
    out.push('…');
    out
}

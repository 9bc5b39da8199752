//! A venue's seat layout: the text grid read (with its limits) and written back.
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

use super::*;

/// A venue as its layout file describes it: its name, place, categories, sections and seats.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Layout {
    /// The venue's name (`venue The Velvet Room`).
    pub name: String,
    /// The short name commands and catalogs use for it (`slug velvet-room`), if the layout
    /// names one; else it comes from the name (or `venue add --slug`).
    pub slug: Option<String>,
    /// The city the venue is in.
    pub city: String,
    /// The venue's time zone, an IANA name (`Europe/Vienna`).
    pub timezone: String,
    /// The country (ISO 3166 code, `country AT`), if the layout says; else the time zone's.
    pub country: Option<String>,
    /// The label drawn where the stage is (`STAGE` unless the layout says).
    pub stage: String,
    /// The seat categories, as (one-letter code, name) in the order declared: (`V`, `VIP`).
    pub categories: Vec<(String, String)>,
    /// The sections, as (code, name) in the order declared: (`STL`, `Stalls`).
    pub sections: Vec<(String, String)>,
    /// Every seat, in the order the grid is read: section by section, row by row, left to right.
    pub seats: Vec<LayoutSeat>,
    /// Grid columns (the widest row).
    pub width: usize,
}

/// One seat of a layout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LayoutSeat {
    /// The seat's label, `SECTION-ROW-NUMBER` (`STL-A-3`).
    pub label: String,
    /// The code of the section it is in (`STL`).
    pub section: String,
    /// The row's label (`A`).
    pub row: String,
    /// The seat's number in its row, from 1 at the left.
    pub number: i64,
    /// The code of its category (`S`).
    pub category: String,
    /// The grid column, from 0 at the left (aisles count).
    pub x: i64,
    /// The grid line, from 0 nearest the stage (a blank line between sections counts).
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

/// The largest layout file read: the 10,480-seat arena's is 13 KiB.
pub const MAX_LAYOUT_BYTES: usize = 512 * 1024;
/// The widest row of a layout, in columns (seats and aisles).
pub const MAX_LAYOUT_WIDTH: usize = 1_000;
/// The most rows a layout draws (sections' gaps included).
pub const MAX_LAYOUT_ROWS: usize = 2_000;
/// The most seats a venue has: a stadium's worth.
pub const MAX_LAYOUT_SEATS: usize = 100_000;

/// Parses a layout file. Every problem names its line.
pub fn parse_layout(text: &str) -> Result<Layout> {
    let mut layout = Layout {
        name: String::new(),
        slug: None,
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
            "slug" => {
                if rest.is_empty() || slugify(rest) != rest {
                    return Err(layout_err(
                        n,
                        format!(
                            "`{rest}` is not a short name: lower-case letters, digits and \
                             dashes (`slug velvet-room`)"
                        ),
                    ));
                }
                layout.slug = Some(rest.to_string());
            }
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

/// Writes a layout back as the text grid it was read from (canonical form: no comments).
pub fn render_layout(l: &Layout) -> String {
    let mut out = format!("venue    {}\n", l.name);
    if let Some(slug) = &l.slug {
        out.push_str(&format!("slug     {slug}\n"));
    }
    out.push_str(&format!("city     {}\ntimezone {}\n", l.city, l.timezone));
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

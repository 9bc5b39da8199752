//! Drawing the seat map: the venue's grid, the legend, the panel with the selection.

use super::list::draw_list;
use super::{GUTTER, MapState};
use crate::tui::screens::View;
use crate::tui::theme::{SELECTED_GLYPH, Theme, glyph};
use crate::tui::widgets::safe;
use boxoffice::{Money, SeatStatus};
use ratatui::Frame;
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

impl MapState {
    pub fn draw(&self, frame: &mut Frame, area: Rect, v: &View) {
        let m = self;
        let t = v.theme;
        let [head, map, legend, panel] = Layout::vertical([
            Constraint::Length(1),
            Constraint::Min(5),
            Constraint::Length(2),
            Constraint::Length(3),
        ])
        .areas(area);
        let c = &m.map.concert;
        // The date and the venue always show: a long title goes first.
        let when_where = format!(" · {} · {}", c.at_venue(c.starts_at), safe(&c.venue));
        let full = format!("{} - {}", c.artist, c.title);
        let name = if full.chars().count() + when_where.chars().count() <= head.width as usize {
            full
        } else {
            c.artist.clone()
        };
        frame.render_widget(
            Line::from(vec![
                Span::styled(safe(&name), t.title),
                Span::raw(when_where),
            ]),
            head,
        );
        match &m.list {
            Some(list) => {
                let [lines, typed] = Layout::vertical([Constraint::Min(3), Constraint::Length(2)])
                    .areas(map.union(legend));
                draw_list(frame, t, m, list, lines);
                frame.render_widget(
                    Paragraph::new(vec![
                        Line::from(vec![
                            Span::styled("Seats: ", t.dim),
                            Span::styled(safe(&list.typed), t.field_focus),
                            Span::styled("_", t.cursor),
                        ]),
                        Line::styled(
                            "Type seats (F 10-11) or best 4, or pick a line: Enter chooses, again holds",
                            t.dim,
                        ),
                    ]),
                    typed,
                );
            }
            None => {
                draw_grid(frame.buffer_mut(), t, m, map);
                draw_legend(frame, t, m, legend);
            }
        }
        draw_panel(frame, t, m, panel);
    }
}

fn category_index(m: &MapState, code: &str) -> usize {
    // Cheapest first, so the palette reads calm to bright.
    let n = m.map.categories.len();
    m.map
        .categories
        .iter()
        .position(|k| k.code == code)
        .map(|i| n - 1 - i)
        .unwrap_or(0)
}

fn draw_grid(buf: &mut Buffer, t: &Theme, m: &MapState, area: Rect) {
    let max_y = m.rows.last().copied().unwrap_or(0);
    let width = m.layout.width as i64;
    let block = Block::bordered();
    let inner = block.inner(area);
    // Stage on the first line, then the grid beside a gutter of row labels.
    let grid = Rect::new(
        inner.x + GUTTER,
        inner.y + 1,
        inner.width.saturating_sub(GUTTER),
        inner.height.saturating_sub(1),
    );
    // Small venues are drawn two cells per seat and centred; large ones one cell and scrolled.
    let scale: i64 = if width * 2 <= grid.width as i64 { 2 } else { 1 };
    let pad = ((grid.width as i64 - width * scale).max(0) / 2) as u16;
    m.grid_area.set(grid);
    m.grid_geometry.set((scale, pad));
    let (mut sx, mut sy) = m.scroll.get();
    if let Some(cur) = m.map.seats.get(m.cursor) {
        let (w, h) = (grid.width as i64, grid.height as i64);
        if cur.x < sx {
            sx = cur.x;
        } else if cur.x >= sx + w {
            sx = cur.x - w + 1;
        }
        if cur.y < sy {
            sy = cur.y.saturating_sub(1).max(0);
        } else if cur.y >= sy + h {
            sy = cur.y - h + 1;
        }
        sx = sx.clamp(0, (width - w).max(0));
        sy = sy.clamp(0, (max_y + 1 - h).max(0));
    }
    m.scroll.set((sx, sy));
    let title = format!(
        " Seat map · rows {}-{} of {} · cols {}-{} of {} ",
        sy + 1,
        (sy + grid.height as i64).min(max_y + 1),
        max_y + 1,
        sx + 1,
        (sx + grid.width as i64).min(width),
        width
    );
    ratatui::widgets::Widget::render(block.title(title), area, buf);
    // Stage, centred over the layout.
    let stage = format!("[ {} ]", safe(&m.layout.stage));
    let centre = (width * scale) / 2 - sx * scale + pad as i64;
    let stage_x = grid.x as i64 + centre - stage.chars().count() as i64 / 2;
    if stage_x >= inner.x as i64 {
        buf.set_stringn(
            stage_x as u16,
            inner.y,
            &stage,
            (inner.right() as i64 - stage_x).max(0) as usize,
            t.highlight,
        );
    } else {
        buf.set_stringn(inner.x, inner.y, &stage, inner.width as usize, t.highlight);
    }
    for dy in 0..grid.height {
        let y = sy + dy as i64;
        let row_seat = m.lines.get(&y).map(|i| &m.map.seats[*i]);
        let label = match row_seat {
            Some(s) => s.row.clone(),
            None => match m.lines.get(&(y + 1)).map(|i| &m.map.seats[*i]) {
                // The blank line before a section carries its name.
                Some(next) => {
                    let name = m
                        .layout
                        .sections
                        .iter()
                        .find(|(code, _)| *code == next.section)
                        .map(|(_, n)| n.clone())
                        .unwrap_or_default();
                    buf.set_stringn(grid.x, grid.y + dy, safe(&name), grid.width as usize, t.dim);
                    continue;
                }
                None => continue,
            },
        };
        buf.set_stringn(
            inner.x,
            grid.y + dy,
            format!("{:>3} ", safe(&label)),
            GUTTER as usize,
            t.dim,
        );
        for dx in 0..(grid.width.saturating_sub(pad) as i64 / scale) as u16 {
            let x = sx + dx as i64;
            let Some(&i) = m.by_pos.get(&(x, y)) else {
                continue;
            };
            let s = &m.map.seats[i];
            let selected = m.selected.contains(&s.seat_id);
            let (ch, mut style) = if selected {
                (SELECTED_GLYPH, t.selected_seat())
            } else if s.status == SeatStatus::Free {
                (
                    s.category
                        .to_ascii_lowercase()
                        .chars()
                        .next()
                        .unwrap_or('.'),
                    t.category(category_index(m, &s.category)),
                )
            } else {
                (glyph(s.status), t.seat(s.status))
            };
            if i == m.cursor {
                style = style.patch(t.cursor);
            }
            let cx = grid.x + pad + dx * scale as u16;
            if let Some(cell) = buf.cell_mut((cx, grid.y + dy)) {
                cell.set_char(ch).set_style(style);
            }
        }
    }
}

fn draw_legend(frame: &mut Frame, t: &Theme, m: &MapState, area: Rect) {
    let mut spans: Vec<Span> = Vec::new();
    for k in m.map.categories.iter().rev() {
        let price = m
            .map
            .seats
            .iter()
            .find(|s| s.category == k.code)
            .map(|s| format!("{}.{:02}", s.price_cents / 100, s.price_cents % 100))
            .unwrap_or_default();
        spans.push(Span::styled(
            k.code.to_ascii_lowercase(),
            t.category(category_index(m, &k.code)),
        ));
        spans.push(Span::raw(format!(" {} {price}  ", safe(&k.name))));
    }
    let categories = Line::from(std::mem::take(&mut spans));
    for (status, name) in [
        (SeatStatus::Held, "held"),
        (SeatStatus::Booked, "sold"),
        (SeatStatus::Reserved, "waitlist"),
    ] {
        spans.push(Span::styled(glyph(status).to_string(), t.seat(status)));
        spans.push(Span::raw(format!(" {name}  ")));
    }
    spans.push(Span::styled(SELECTED_GLYPH.to_string(), t.selected_seat()));
    spans.push(Span::raw(" selected  "));
    spans.push(Span::styled("reversed", t.cursor));
    spans.push(Span::raw(" cursor"));
    frame.render_widget(Paragraph::new(vec![categories, Line::from(spans)]), area);
}

fn draw_panel(frame: &mut Frame, t: &Theme, m: &MapState, area: Rect) {
    let cursor = m.map.seats.get(m.cursor).map(|s| {
        format!(
            "{} {} {}",
            s.seat,
            Money::new(s.price_cents, &m.map.concert.currency),
            s.status
        )
    });
    let chosen = m.chosen();
    let total: i64 = chosen.iter().map(|s| s.price_cents).sum();
    let counts = &m.map.counts;
    let mut lines = vec![Line::from(vec![
        Span::styled(
            format!(
                "{} free {} held {} sold{} · ",
                counts.free,
                counts.held,
                counts.booked,
                if counts.reserved > 0 {
                    format!(" {} wait list", counts.reserved)
                } else {
                    String::new()
                }
            ),
            t.dim,
        ),
        Span::styled("Seat ", t.dim),
        Span::raw(cursor.unwrap_or_default()),
    ])];
    lines.push(Line::from(vec![
        Span::styled("Selected ", t.dim),
        Span::styled(
            if chosen.is_empty() {
                "none".to_string()
            } else {
                // The total first: ten seats' labels may not fit, the amount always does.
                format!(
                    "{} seat{} = {}: {}",
                    chosen.len(),
                    if chosen.len() == 1 { "" } else { "s" },
                    Money::new(total, &m.map.concert.currency),
                    chosen
                        .iter()
                        .map(|s| s.seat.as_str())
                        .collect::<Vec<_>>()
                        .join(" ")
                )
            },
            t.highlight,
        ),
    ]));
    if let Some(p) = &m.best_prompt {
        lines.push(Line::from(vec![
            Span::styled("Best: how many (4, 4 P, 4 under 60)? ", t.info),
            Span::styled(p.clone(), t.field_focus),
            Span::styled("_ Enter", t.cursor),
        ]));
    } else if let Some(a) = &m.advice {
        let text = match &a.suggestion {
            Some(s) => format!(
                "! leaves {} on its own; {} would not",
                a.stranded.join(", "),
                s.join(" ")
            ),
            None => format!(
                "! leaves {} on its own (no other choice of this size avoids it)",
                a.stranded.join(", ")
            ),
        };
        lines.push(Line::styled(text, t.error));
    }
    frame.render_widget(Paragraph::new(lines), area);
}

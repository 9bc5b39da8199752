//! Concerts: a search box that filters as you type, and the results.

use crate::tui::app::App;
use crate::tui::ui::safe;
use boxoffice::Money;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Paragraph, Row, Table, TableState};

/// `EUR 25-35`, or with cents where a price has them.
pub fn price_range(c: &boxoffice::ConcertSummary) -> String {
    let amount = |cents: i64| {
        if cents % 100 == 0 {
            (cents / 100).to_string()
        } else {
            format!("{}.{:02}", cents / 100, cents % 100)
        }
    };
    if c.min_price_cents == c.max_price_cents {
        Money::new(c.min_price_cents, &c.currency).to_string()
    } else {
        format!(
            "{} {}-{}",
            c.currency,
            amount(c.min_price_cents),
            amount(c.max_price_cents)
        )
    }
}

pub fn availability(c: &boxoffice::ConcertSummary) -> String {
    if c.status == boxoffice::ConcertStatus::Cancelled {
        "CANCELLED".into()
    } else if c.sold_out {
        "SOLD OUT".into()
    } else {
        format!("{}/{}", c.free_seats, c.capacity)
    }
}

pub fn draw(frame: &mut Frame, app: &App, area: Rect) {
    let t = &app.theme;
    let s = &app.concerts;
    let [search, note, list] = Layout::vertical([
        Constraint::Length(3),
        Constraint::Length(1),
        Constraint::Min(0),
    ])
    .areas(area);
    let title = " Search: name, venue:, date:2026-12-01..2026-12-31, after:19:00, free ";
    let mut spans = vec![Span::styled(
        safe(&s.query),
        if s.typing { t.field_focus } else { t.field },
    )];
    if s.typing {
        spans.push(Span::styled("_", t.cursor));
    }
    let block =
        Block::bordered()
            .title(title)
            .border_style(if s.typing { t.highlight } else { t.dim });
    frame.render_widget(Paragraph::new(Line::from(spans)).block(block), search);
    let note_line = match &s.error {
        Some(e) => Line::styled(format!("! {e}"), t.error),
        None => Line::styled(
            format!(
                "{} concert{}{}",
                s.list.len(),
                if s.list.len() == 1 { "" } else { "s" },
                if s.list.len() >= crate::tui::app::LIST_LIMIT {
                    " (the first ones: narrow the search)"
                } else {
                    ""
                }
            ),
            t.dim,
        ),
    };
    frame.render_widget(Paragraph::new(note_line), note);
    let rows = s.list.iter().map(|c| {
        let avail = availability(c);
        let avail_style = if c.sold_out || c.status == boxoffice::ConcertStatus::Cancelled {
            t.error
        } else {
            t.ok
        };
        Row::new(vec![
            Cell::from(c.local_start.format("%a %d %b").to_string()),
            Cell::from(c.local_start.format("%H:%M").to_string()),
            Cell::from(safe(&c.artist)),
            Cell::from(safe(&c.venue)),
            Cell::from(avail).style(avail_style),
            Cell::from(price_range(c)),
        ])
    });
    let header = Row::new(["Date", "Time", "Artist", "Venue", "Free", "Price"]).style(t.title);
    let table = Table::new(
        rows,
        [
            Constraint::Length(10),
            Constraint::Length(5),
            Constraint::Fill(3),
            Constraint::Fill(2),
            Constraint::Length(10),
            Constraint::Length(13),
        ],
    )
    .header(header)
    .row_highlight_style(t.selected_row)
    .highlight_symbol("> ");
    let mut state = TableState::default().with_selected((!s.list.is_empty()).then_some(s.selected));
    frame.render_stateful_widget(&table, list, &mut state);
}

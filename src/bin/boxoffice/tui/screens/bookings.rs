//! Bookings: find by code, email or phone; see one; cancel it (asks first) and see the refund.

use crate::tui::app::App;
use crate::tui::ui::{centered, safe};
use boxoffice::Money;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Clear, Paragraph, Row, Table, TableState, Wrap};

pub fn draw(frame: &mut Frame, app: &App, area: Rect) {
    let t = &app.theme;
    let s = &app.bookings;
    let [search, list, detail] = Layout::vertical([
        Constraint::Length(3),
        Constraint::Min(3),
        Constraint::Length(6),
    ])
    .areas(area);
    let mut spans = vec![Span::styled(
        safe(&s.query),
        if s.typing { t.field_focus } else { t.field },
    )];
    if s.typing {
        spans.push(Span::styled("_", t.cursor));
    }
    frame.render_widget(
        Paragraph::new(Line::from(spans)).block(
            Block::bordered()
                .title(" Find a booking: code, email or phone, then Enter ")
                .border_style(if s.typing { t.highlight } else { t.dim }),
        ),
        search,
    );
    let rows = s.list.iter().map(|b| {
        Row::new(vec![
            Cell::from(b.booking_code.clone()),
            Cell::from(b.concert.local_start.format("%d %b").to_string()),
            Cell::from(safe(&b.concert.artist)),
            Cell::from(safe(&b.customer.email)),
            Cell::from(b.seats.len().to_string()),
            Cell::from(Money::new(b.total_cents, &b.currency).to_string()),
            Cell::from(b.state.as_str()).style(if b.state == boxoffice::BookingState::Cancelled {
                t.error
            } else {
                t.ok
            }),
        ])
    });
    let table = Table::new(
        rows,
        [
            Constraint::Length(6),
            Constraint::Length(6),
            Constraint::Fill(1),
            Constraint::Fill(1),
            Constraint::Length(3),
            Constraint::Length(11),
            Constraint::Length(9),
        ],
    )
    .header(Row::new(["Code", "Date", "Concert", "Customer", "#", "Total", "State"]).style(t.title))
    .row_highlight_style(t.selected_row)
    .block(Block::bordered().title(if s.searched && s.list.is_empty() {
        " No match "
    } else {
        " Bookings "
    }));
    let mut state = TableState::default().with_selected((!s.list.is_empty()).then_some(s.selected));
    frame.render_stateful_widget(&table, list, &mut state);
    if let Some(b) = s.list.get(s.selected) {
        let seats: Vec<&str> = b.seats.iter().map(|x| x.seat.as_str()).collect();
        let mut lines = vec![
            Line::raw(safe(&format!(
                "{} - {}, {} {}",
                b.concert.artist,
                b.concert.title,
                b.concert.local_start.format("%a %d %b %H:%M"),
                b.concert.venue
            ))),
            Line::raw(safe(&format!(
                "{}{} {}",
                b.customer
                    .name
                    .as_deref()
                    .map(|n| format!("{n}, "))
                    .unwrap_or_default(),
                b.customer.email,
                b.customer.phone.as_deref().unwrap_or("")
            ))),
            Line::raw(format!(
                "Seats {}  paid {} by {}",
                seats.join(" "),
                Money::new(b.total_cents, &b.currency),
                b.method
            )),
        ];
        if b.state == boxoffice::BookingState::Cancelled {
            lines.push(Line::styled(
                format!(
                    "Cancelled; refunded {}",
                    Money::new(b.refunded_cents, &b.currency)
                ),
                t.error,
            ));
        }
        frame.render_widget(
            Paragraph::new(lines)
                .block(Block::bordered().title(format!(" {} ", b.booking_code)))
                .wrap(Wrap { trim: true }),
            detail,
        );
        if s.confirm_cancel {
            let popup = centered(area, 60, 6);
            frame.render_widget(Clear, popup);
            frame.render_widget(
                Paragraph::new(vec![
                    Line::raw(format!(
                        "Cancel booking {} ({} seat{})?",
                        b.booking_code,
                        b.seats.len(),
                        if b.seats.len() == 1 { "" } else { "s" }
                    )),
                    Line::raw(format!(
                        "{} is refunded by {}.",
                        Money::new(b.total_cents, &b.currency),
                        b.method
                    )),
                    Line::styled("y  yes, cancel and refund     n  no, keep it", t.highlight),
                ])
                .block(Block::bordered().title(" Cancel booking ")),
                popup,
            );
        }
    }
}

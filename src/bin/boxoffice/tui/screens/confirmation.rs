//! Confirmation: the booking code (also as a QR code), concert, seats, total, and where the
//! email and SMS went.

use crate::tui::app::App;
use crate::tui::ui::safe;
use boxoffice::Money;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::Line;
use ratatui::widgets::{Block, Paragraph, Wrap};

pub fn draw(frame: &mut Frame, app: &App, area: Rect) {
    let Some(c) = &app.confirmation else { return };
    let t = &app.theme;
    let qr_width = c.qr.iter().map(|l| l.chars().count()).max().unwrap_or(0) as u16;
    let [text, qr] =
        Layout::horizontal([Constraint::Min(30), Constraint::Length(qr_width + 2)]).areas(area);
    let b = &c.booking;
    let mut lines = vec![
        Line::styled(format!("Booking code  {}", c.receipt.booking_code), t.title),
        Line::raw(""),
        Line::raw(safe(&format!("{} - {}", b.concert.artist, b.concert.title))),
        Line::raw(format!(
            "{} · {}, {}",
            b.concert.local_start.format("%a %d %b %Y %H:%M"),
            safe(&b.concert.venue),
            safe(&b.concert.city)
        )),
        Line::raw(format!("Seats  {}", c.receipt.seats.join(" "))),
        Line::raw(format!(
            "Total  {} ({}){}",
            Money::new(c.receipt.total_cents, &c.receipt.currency),
            c.receipt.method,
            if c.receipt.change_cents > 0 {
                format!(
                    ", change {}",
                    Money::new(c.receipt.change_cents, &c.receipt.currency)
                )
            } else {
                String::new()
            }
        )),
        Line::raw(""),
    ];
    if c.files.is_empty() {
        lines.push(Line::styled(
            "The confirmation is waiting in the outbox (see `boxoffice spool status`).",
            t.error,
        ));
    }
    for f in &c.files {
        lines.push(Line::raw(format!(
            "{} to {}:",
            f.channel,
            safe(&f.recipient)
        )));
        lines.push(Line::styled(format!("  {}", f.path.display()), t.dim));
    }
    frame.render_widget(
        Paragraph::new(lines)
            .block(Block::bordered().title(" Booked "))
            .wrap(Wrap { trim: false }),
        text,
    );
    let style = if t.color { t.qr } else { Style::new() };
    let qr_lines: Vec<Line> =
        c.qr.iter()
            .map(|l| Line::styled(l.clone(), style))
            .collect();
    frame.render_widget(Paragraph::new(qr_lines).block(Block::bordered()), qr);
}

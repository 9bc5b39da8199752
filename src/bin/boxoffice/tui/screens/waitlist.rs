//! The waiting list of a concert: the queue with positions, states and offer deadlines, and a
//! form to add someone.

use crate::tui::app::App;
use crate::tui::ui::{centered, field, safe};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Block, Cell, Clear, Paragraph, Row, Table, TableState};

pub fn draw(frame: &mut Frame, app: &App, area: Rect) {
    let Some(w) = &app.waitlist else { return };
    let t = &app.theme;
    let [head, list] = Layout::vertical([Constraint::Length(2), Constraint::Min(0)]).areas(area);
    let c = &w.concert;
    frame.render_widget(
        Paragraph::new(vec![
            Line::styled(safe(&format!("{} - {}", c.artist, c.title)), t.title),
            Line::raw(format!(
                "{} · {} · {} free, {} kept for the list, {} waiting",
                c.local_start.format("%a %d %b %H:%M"),
                safe(&c.venue),
                c.free_seats,
                c.reserved_seats,
                c.waiting
            )),
        ]),
        head,
    );
    let rows = w.entries.iter().map(|e| {
        Row::new(vec![
            Cell::from(e.position.map(|p| p.to_string()).unwrap_or("-".into())),
            Cell::from(safe(&e.customer)),
            Cell::from(e.party.to_string()),
            Cell::from(e.state.as_str()).style(match e.state.as_str() {
                "offered" => t.info,
                "booked" => t.ok,
                "expired" | "left" => t.dim,
                _ => Default::default(),
            }),
            Cell::from(e.offer_seats.join(" ")),
            Cell::from(
                e.offer_expires_at
                    .map(|d| {
                        d.with_timezone(&app.opts.utc_offset)
                            .format("%a %H:%M")
                            .to_string()
                    })
                    .unwrap_or_default(),
            ),
        ])
    });
    let table = Table::new(
        rows,
        [
            Constraint::Length(3),
            Constraint::Fill(2),
            Constraint::Length(5),
            Constraint::Length(8),
            Constraint::Fill(1),
            Constraint::Length(9),
        ],
    )
    .header(
        Row::new([
            "Pos",
            "Customer",
            "Party",
            "State",
            "Offered seats",
            "Pay by",
        ])
        .style(t.title),
    )
    .row_highlight_style(t.selected_row)
    .block(Block::bordered().title(" Waiting list (first come, first served) "));
    let mut state =
        TableState::default().with_selected((!w.entries.is_empty()).then_some(w.selected));
    frame.render_stateful_widget(&table, list, &mut state);
    if let Some(f) = &w.form {
        let popup = centered(area, 64, 11);
        frame.render_widget(Clear, popup);
        let party_ok = f
            .party
            .trim()
            .parse::<i64>()
            .is_ok_and(|p| p >= 1 && p <= c.ticket_limit);
        let mut lines = Vec::new();
        lines.extend(field(app, "Email", &safe(&f.email), f.focus == 0, None));
        lines.extend(field(app, "Phone", &safe(&f.phone), f.focus == 1, None));
        let note = format!("1 to {}", c.ticket_limit);
        lines.extend(field(
            app,
            "Party",
            &f.party,
            f.focus == 2,
            (!party_ok).then_some(note.as_str()),
        ));
        lines.push(Line::styled(
            "Enter joins. Email (and SMS) tells them when seats free up.",
            t.dim,
        ));
        frame.render_widget(
            Paragraph::new(lines).block(Block::bordered().title(" Join the waiting list ")),
            popup,
        );
    }
}

//! Sales: every coming concert's sold / held / free seats as a bar, for the night at a glance.

use super::concerts::LIST_LIMIT;
use super::{Cx, Outcome, View};
use crate::tui::keys::{Cmd, Ctx};
use crate::tui::widgets::{clamp, safe, step};
use boxoffice::{ConcertQuery, ConcertSummary};
use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Cell, Row, Table, TableState};

/// A bar of `width` cells: sold, then held (and kept for the waiting list), then free.
pub fn bar(c: &boxoffice::ConcertSummary, width: usize, color: bool) -> (String, String, String) {
    let cap = c.capacity.max(1) as f64;
    let sold = ((c.booked_seats as f64 / cap) * width as f64).round() as usize;
    let held = (((c.held_seats + c.reserved_seats) as f64 / cap) * width as f64).round() as usize;
    let sold = sold.min(width);
    let held = held.min(width - sold);
    let (s, h, f) = if color {
        ('█', '▒', '·')
    } else {
        ('#', '+', '.')
    };
    (
        s.to_string().repeat(sold),
        h.to_string().repeat(held),
        f.to_string().repeat(width - sold - held),
    )
}

/// Every coming concert's sales.
#[derive(Default)]
pub struct Sales {
    pub list: Vec<ConcertSummary>,
    pub selected: usize,
    /// Today's takings, when shown (`t`).
    pub takings: Option<boxoffice::report::Report>,
}

impl Sales {
    pub fn keys(&self) -> (Ctx, bool) {
        (Ctx::Sales, false)
    }

    pub fn refresh(&mut self, cx: &mut Cx) {
        if self.takings.is_some() {
            self.takings = Self::takings(cx).ok();
        }
        match cx.store.search_concerts(&ConcertQuery {
            limit: Some(LIST_LIMIT),
            ..Default::default()
        }) {
            Ok(list) => {
                self.list = list;
                self.selected = clamp(self.selected, self.list.len());
            }
            Err(e) => cx.fail(&e),
        }
    }

    /// Today's takings (the machine's day) for the clerk at this terminal, or everyone's when
    /// no clerk is named.
    fn takings(cx: &mut Cx) -> boxoffice::Result<boxoffice::report::Report> {
        let (from, to) =
            boxoffice::report::local_day(boxoffice::report::local_today(cx.store.now()));
        let clerk = cx.store.operator().clerk.clone();
        cx.store.report(from, to, clerk.as_deref())
    }

    pub fn key(&mut self, cx: &mut Cx, cmd: Option<Cmd>) -> Outcome {
        let len = self.list.len();
        match cmd {
            Some(Cmd::Takings) if self.takings.is_some() => self.takings = None,
            Some(Cmd::Takings) => match Self::takings(cx) {
                Ok(r) => self.takings = Some(r),
                Err(e) => cx.fail(&e),
            },
            Some(Cmd::Up) => self.selected = step(self.selected, -1, len),
            Some(Cmd::Down) => self.selected = step(self.selected, 1, len),
            Some(Cmd::PageUp) => self.selected = step(self.selected, -10, len),
            Some(Cmd::PageDown) => self.selected = step(self.selected, 10, len),
            Some(Cmd::Open) => {
                if let Some(c) = self.list.get(self.selected) {
                    return Outcome::OpenMap(c.id);
                }
            }
            Some(Cmd::Back) => return Outcome::Concerts,
            _ => {}
        }
        Outcome::Stay
    }

    pub fn draw(&self, frame: &mut Frame, area: Rect, v: &View) {
        let t = v.theme;
        let s = self;
        let area = match &self.takings {
            Some(r) => {
                let [list, box_] = ratatui::layout::Layout::vertical([
                    Constraint::Min(3),
                    Constraint::Length(r.by_method.len() as u16 + 5),
                ])
                .areas(area);
                draw_takings(frame, box_, r, v);
                list
            }
            None => area,
        };
        let bar_width = (area.width as usize).saturating_sub(52).clamp(10, 40);
        let rows = s.list.iter().map(|c| {
            if c.status == boxoffice::ConcertStatus::Cancelled {
                // Its bookings were refunded: no bar, no share sold.
                return Row::new(vec![
                    Cell::from(c.local_start.format("%d %b").to_string()),
                    Cell::from(safe(&c.artist)),
                    Cell::from(Span::styled("CANCELLED", t.dim)),
                    Cell::from("   -"),
                    Cell::from("refunded"),
                ]);
            }
            let (sold, held, free) = bar(c, bar_width, t.color);
            let pct = c.booked_seats * 100 / c.capacity.max(1);
            Row::new(vec![
                Cell::from(c.local_start.format("%d %b").to_string()),
                Cell::from(safe(&c.artist)),
                Cell::from(Line::from(vec![
                    Span::styled(sold, t.ok),
                    Span::styled(held, t.seat(boxoffice::SeatStatus::Held)),
                    Span::styled(free, t.dim),
                ])),
                Cell::from(format!("{pct:>3}%")),
                Cell::from(format!(
                    "{}/{}/{}",
                    c.booked_seats,
                    c.held_seats + c.reserved_seats,
                    c.free_seats
                )),
            ])
        });
        let legend = if t.color {
            " Sales: █ sold ▒ held · free "
        } else {
            " Sales: # sold + held . free "
        };
        let table = Table::new(
            rows,
            [
                Constraint::Length(6),
                Constraint::Fill(1),
                Constraint::Length(bar_width as u16),
                Constraint::Length(4),
                Constraint::Length(17),
            ],
        )
        .header(Row::new(["Date", "Concert", "Seats", "Sold", "sold/held/free"]).style(t.title))
        .row_highlight_style(t.selected_row)
        .block(Block::bordered().title(legend));
        let mut state =
            TableState::default().with_selected((!s.list.is_empty()).then_some(s.selected));
        frame.render_stateful_widget(&table, area, &mut state);
    }
}

/// Today's takings: each method's sales and refunds, the cash that should be in the drawer,
/// tickets sold and let in.
fn draw_takings(frame: &mut Frame, area: Rect, r: &boxoffice::report::Report, v: &View) {
    let t = v.theme;
    let money = |c: i64| boxoffice::Money::new(c, "EUR").to_string();
    let mut lines = vec![Line::styled(
        format!("{:<10} {:>14} {:>14}", "method", "sales", "refunds"),
        t.title,
    )];
    for m in &r.by_method {
        lines.push(Line::raw(format!(
            "{:<10} {:>14} {:>14}",
            m.method,
            money(m.sales_cents),
            money(m.refunds_cents)
        )));
    }
    lines.push(Line::raw(format!(
        "{:<10} {:>14} {:>14}",
        "total",
        money(r.sales_cents()),
        money(r.refunds_cents())
    )));
    let sold: i64 = r.concerts.iter().map(|c| c.tickets_sold).sum();
    let admitted: i64 = r.concerts.iter().map(|c| c.checked_in).sum();
    lines.push(Line::from(vec![
        Span::styled(
            format!("cash in the drawer {}", money(r.cash_in_drawer_cents)),
            t.highlight,
        ),
        Span::raw(format!("   tickets sold {sold}, let in {admitted}")),
    ]));
    let title = format!(
        " Takings today{} (t hides) ",
        r.clerk
            .as_deref()
            .map(|c| format!(", clerk {}", safe(c)))
            .unwrap_or_default()
    );
    frame.render_widget(
        ratatui::widgets::Paragraph::new(lines).block(Block::bordered().title(title)),
        area,
    );
}

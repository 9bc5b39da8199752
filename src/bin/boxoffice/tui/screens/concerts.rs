//! Concerts: a search box that filters as you type, and the results.

use super::{Cx, Level, Outcome, Screen, View};
use crate::tui::keys::{Cmd, Ctx};
use crate::tui::widgets::{clamp, edit, safe, step};
use boxoffice::{ConcertQuery, ConcertSummary, Money};
use ratatui::Frame;
use ratatui::crossterm::event::KeyEvent;
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

/// How many concerts the list shows at most (the search narrows it).
pub const LIST_LIMIT: usize = 500;

/// The concert list and its search box.
#[derive(Debug)]
pub struct Concerts {
    pub query: String,
    pub typing: bool,
    pub error: Option<String>,
    pub list: Vec<ConcertSummary>,
    pub selected: usize,
}

impl Concerts {
    /// An empty search, typing into it, with the coming concerts listed.
    pub fn new(cx: &mut Cx) -> Concerts {
        let mut c = Concerts::unsearched();
        c.search(cx);
        c
    }

    /// An empty search, not run yet.
    pub fn unsearched() -> Concerts {
        Concerts {
            query: String::new(),
            typing: true,
            error: None,
            list: Vec::new(),
            selected: 0,
        }
    }

    pub fn keys(&self) -> (Ctx, bool) {
        (Ctx::Concerts, self.typing)
    }

    /// Runs the search as typed; a bad field value is shown under the box and the list stays.
    pub fn search(&mut self, cx: &mut Cx) {
        match ConcertQuery::parse(&self.query) {
            Ok(mut q) => {
                q.limit = Some(LIST_LIMIT);
                match cx.store.search_concerts(&q) {
                    Ok(list) => {
                        self.error = None;
                        self.list = list;
                        self.selected = clamp(self.selected, self.list.len());
                    }
                    Err(e) => self.error = Some(e.to_string()),
                }
            }
            Err(e) => self.error = Some(e.to_string()),
        }
    }

    pub fn key(&mut self, cx: &mut Cx, cmd: Option<Cmd>, key: &KeyEvent) -> Outcome {
        let len = self.list.len();
        match cmd {
            Some(Cmd::Up) => self.selected = step(self.selected, -1, len),
            Some(Cmd::Down) => self.selected = step(self.selected, 1, len),
            Some(Cmd::PageUp) => self.selected = step(self.selected, -10, len),
            Some(Cmd::PageDown) => self.selected = step(self.selected, 10, len),
            Some(Cmd::SwitchFocus) => self.typing = !self.typing,
            Some(Cmd::FocusSearch) => self.typing = true,
            Some(Cmd::Back) => {
                if !self.query.is_empty() {
                    self.query.clear();
                    self.search(cx);
                } else if self.typing {
                    // Focus never moves by itself: letters typed next still search.
                    cx.say(Level::Info, "Tab moves to the list");
                } else {
                    self.typing = true;
                }
            }
            Some(Cmd::Open) => {
                if let Some(c) = self.list.get(self.selected) {
                    return if c.sold_out && c.status != boxoffice::ConcertStatus::Cancelled {
                        Outcome::Waitlist {
                            concert: c.id,
                            back: Screen::Concerts,
                            join: true,
                        }
                    } else {
                        Outcome::OpenMap(c.id)
                    };
                }
            }
            Some(Cmd::Waitlist) => {
                if let Some(c) = self.list.get(self.selected) {
                    return Outcome::Waitlist {
                        concert: c.id,
                        back: Screen::Concerts,
                        join: false,
                    };
                }
            }
            _ if self.typing && edit(&mut self.query, key, 200) => {
                self.selected = 0;
                self.search(cx);
            }
            _ => {}
        }
        Outcome::Stay
    }

    pub fn draw(&self, frame: &mut Frame, area: Rect, v: &View) {
        let t = v.theme;
        let s = self;
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
                    if s.list.len() >= LIST_LIMIT {
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
                // The venue's clock, labelled with its zone.
                Cell::from({
                    let t = c.at_venue(c.starts_at);
                    t.split(' ').skip(3).collect::<Vec<_>>().join(" ")
                }),
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
                // `11:30 CEST`: a summer zone's abbreviation has four letters.
                Constraint::Length(10),
                Constraint::Fill(3),
                Constraint::Fill(2),
                // `10480/10480`: an arena with every seat free.
                Constraint::Length(11),
                Constraint::Length(13),
            ],
        )
        .header(header)
        .row_highlight_style(t.selected_row)
        .highlight_symbol("> ")
        // The marker's column stays when nothing is listed, so the header does not move.
        .highlight_spacing(ratatui::widgets::HighlightSpacing::Always);
        let mut state =
            TableState::default().with_selected((!s.list.is_empty()).then_some(s.selected));
        frame.render_stateful_widget(&table, list, &mut state);
    }
}

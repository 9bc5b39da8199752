//! The seat map as lines of text: runs of free seats, best first, for a screen reader and a
//! slow link; seats chosen by a line or typed as a clerk says them.

use super::{MapState, parse_best};
use crate::tui::keys::Cmd;
use crate::tui::screens::Level;
use crate::tui::screens::{Cx, Outcome};
use crate::tui::theme::Theme;
use crate::tui::widgets::{edit, safe, step};
use boxoffice::Money;
use ratatui::Frame;
use ratatui::crossterm::event::KeyEvent;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Block, Paragraph};
use std::cell::Cell;

/// The seat map as lines of text, one a run of free seats, best first: for a screen reader
/// and a slow link. A line is chosen with Enter, or seats by typing `F 10-11`; Enter again
/// holds what was chosen.
#[derive(Debug, Default)]
pub struct SeatList {
    pub cursor: usize,
    pub typed: String,
    /// A choice was just made: the next Enter holds it.
    pub chosen: bool,
    /// The first line shown (kept by drawing so the cursor stays in view).
    pub scroll: Cell<usize>,
}

/// A run of free seats as a line a screen reader says well: `Row F, seats 10 to 14 free,
/// Premium EUR 69.00`; with the section where the hall has more than one.
pub fn run_line(run: &boxoffice::FreeRun, sections: bool, currency: &str) -> String {
    let row = if sections {
        format!("{} row {}", run.section, run.row)
    } else {
        format!("Row {}", run.row)
    };
    let seats = if run.first == run.last {
        format!("seat {} free", run.first)
    } else {
        format!("seats {} to {} free", run.first, run.last)
    };
    format!(
        "{row}, {seats}, {} {}",
        run.category_name,
        Money::new(run.price_cents, currency)
    )
}

impl MapState {
    pub(super) fn list_key(&mut self, cx: &mut Cx, cmd: Option<Cmd>, key: &KeyEvent) -> Outcome {
        let runs = self.map.free_runs();
        let Some(list) = self.list.as_mut() else {
            return Outcome::Stay;
        };
        let moved = |list: &mut SeatList, by: isize| {
            list.cursor = step(list.cursor, by, runs.len());
            list.chosen = false;
        };
        match cmd {
            Some(Cmd::Up) => moved(list, -1),
            Some(Cmd::Down) => moved(list, 1),
            Some(Cmd::PageUp) => moved(list, -10),
            Some(Cmd::PageDown) => moved(list, 10),
            Some(Cmd::ListMode) => self.list = None,
            Some(Cmd::Back) if !list.typed.is_empty() => list.typed.clear(),
            Some(Cmd::Back) => self.list = None,
            Some(Cmd::Open) if list.typed.trim().is_empty() && list.chosen => {
                return self.checkout(cx);
            }
            Some(Cmd::Open)
                if list
                    .typed
                    .trim_start()
                    .get(..5)
                    .is_some_and(|w| w.eq_ignore_ascii_case("best ")) =>
            {
                // `best 4`, `best 4 P`: best available, as `b` asks on the grid (`b 4` here
                // is row B's seat 4).
                let asked = std::mem::take(&mut list.typed);
                match parse_best(asked.trim_start()[5..].trim()) {
                    Ok(best) => {
                        self.pick_best(cx, best);
                        if let Some(list) = self.list.as_mut() {
                            list.chosen = !self.selected.is_empty();
                        }
                    }
                    Err(why) => {
                        if let Some(list) = self.list.as_mut() {
                            list.typed = asked;
                        }
                        cx.say(Level::Error, why);
                    }
                }
            }
            Some(Cmd::Open) => {
                let typed = std::mem::take(&mut list.typed);
                let limit = self.map.concert.ticket_limit;
                let picked = if typed.trim().is_empty() {
                    match runs.get(list.cursor) {
                        Some(run) if run.seat_ids.len() as i64 > limit => Err(format!(
                            "{} seats free together there, at most {limit} a customer: type                              which, e.g. {} {}-{}",
                            run.seat_ids.len(),
                            run.row,
                            run.first,
                            run.first + 1
                        )),
                        Some(run) => Ok(run.seat_ids.clone()),
                        None => Err("no free seats".to_string()),
                    }
                } else {
                    self.map.block(&typed).and_then(|ids| {
                        if ids.len() as i64 > limit {
                            Err(format!(
                                "at most {limit} tickets per customer for this concert"
                            ))
                        } else {
                            Ok(ids)
                        }
                    })
                };
                match picked {
                    Ok(ids) => {
                        list.chosen = true;
                        self.selected = ids;
                        self.update_advice(cx);
                        let chosen = self.chosen();
                        let labels: Vec<&str> = chosen.iter().map(|s| s.seat.as_str()).collect();
                        let total: i64 = chosen.iter().map(|s| s.price_cents).sum();
                        let advice = self
                            .advice
                            .as_ref()
                            .map(|a| format!("; it leaves {} on its own", a.stranded.join(", ")))
                            .unwrap_or_default();
                        cx.say(
                            Level::Ok,
                            format!(
                                "chosen {}, {}{advice}: Enter holds them",
                                labels.join(" "),
                                Money::new(total, &self.map.concert.currency)
                            ),
                        );
                    }
                    Err(why) => {
                        // What was typed stays, to correct.
                        if let Some(list) = self.list.as_mut() {
                            list.typed = typed;
                        }
                        cx.say(Level::Error, why);
                    }
                }
            }
            _ => {
                list.chosen = false;
                edit(&mut list.typed, key, 40);
            }
        }
        Outcome::Stay
    }
}

/// The free seats as lines of text, best first; the line with the cursor marked `>` (no colour
/// needed), chosen seats marked `*`.
pub(super) fn draw_list(frame: &mut Frame, t: &Theme, m: &MapState, list: &SeatList, area: Rect) {
    let runs = m.map.free_runs();
    let mut sections: Vec<&str> = runs.iter().map(|r| r.section.as_str()).collect();
    sections.sort_unstable();
    sections.dedup();
    let room = area.height.saturating_sub(2) as usize;
    let cursor = list.cursor.min(runs.len().saturating_sub(1));
    let mut top = list.scroll.get();
    if cursor < top {
        top = cursor;
    } else if room > 0 && cursor >= top + room {
        top = cursor + 1 - room;
    }
    list.scroll.set(top);
    let lines: Vec<Line> = if runs.is_empty() {
        vec![Line::raw("No free seats.")]
    } else {
        runs.iter()
            .enumerate()
            .skip(top)
            .take(room.max(1))
            .map(|(i, r)| {
                let chosen = r.seat_ids.iter().any(|id| m.selected.contains(id));
                let text = format!(
                    "{}{} {}",
                    if i == cursor { ">" } else { " " },
                    if chosen { "*" } else { " " },
                    safe(&run_line(r, sections.len() > 1, &m.map.concert.currency))
                );
                if i == cursor {
                    Line::styled(text, t.selected_row)
                } else {
                    Line::raw(text)
                }
            })
            .collect()
    };
    frame.render_widget(
        Paragraph::new(lines).block(Block::bordered().title(format!(
            " Free seats, best first: {} lines (Tab: the map) ",
            runs.len()
        ))),
        area,
    );
}

//! The door (`boxoffice --door CONCERT`): a USB scanner types a ticket's code and Enter, as a
//! keyboard does; the answer is a large ADMIT or REFUSED, readable from a step away and without
//! colour, with the seat and the name or why not; admitted of expected; the last scans.

use super::{Cx, Level, Outcome, View};
use crate::tui::keys::{Cmd, Ctx};
use crate::tui::widgets::{edit, safe};
use boxoffice::ConcertSummary;
use boxoffice::booking::door::{CheckIn, Entry};
use ratatui::Frame;
use ratatui::crossterm::event::KeyEvent;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph};

/// How many scans the list keeps.
const RECENT: usize = 6;

pub struct Door {
    pub concert: ConcertSummary,
    /// The code being typed (by the scanner).
    pub input: String,
    /// The last scan's answer, and whether it was an undo.
    pub last: Option<(CheckIn, bool)>,
    pub recent: Vec<CheckIn>,
    /// Admitted, expected.
    pub counts: (i64, i64),
}

impl Door {
    pub fn open(cx: &mut Cx, concert_id: i64) -> Option<Door> {
        let concert = match cx.store.concert(concert_id) {
            Ok(c) => c,
            Err(e) => {
                cx.fail(&e);
                return None;
            }
        };
        let mut door = Door {
            concert,
            input: String::new(),
            last: None,
            recent: Vec::new(),
            counts: (0, 0),
        };
        door.refresh(cx);
        cx.say(Level::Info, "scan a ticket");
        Some(door)
    }

    pub fn keys(&self) -> (Ctx, bool) {
        (Ctx::Door, true)
    }

    /// The counts, as other doors change them.
    /// Reads the counts again, and the concert (a reschedule moves its date and its doors).
    pub fn refresh(&mut self, cx: &mut Cx) {
        if let Ok(c) = cx.store.door_counts(self.concert.id) {
            self.counts = c;
        }
        if let Ok(c) = cx.store.concert(self.concert.id) {
            self.concert = c;
        }
    }

    pub fn key(&mut self, cx: &mut Cx, cmd: Option<Cmd>, key: &KeyEvent) -> Outcome {
        match cmd {
            Some(Cmd::Submit) => self.scan(cx, false),
            Some(Cmd::Undo) => self.undo_last(cx),
            Some(Cmd::Back) => self.input.clear(),
            _ => {
                edit(&mut self.input, key, 64);
            }
        }
        Outcome::Stay
    }

    fn scan(&mut self, cx: &mut Cx, undo: bool) {
        let code = std::mem::take(&mut self.input);
        if code.trim().is_empty() {
            return;
        }
        let door = cx.store.operator().terminal.clone();
        let result = if undo {
            cx.store
                .undo_check_in(&code, door.as_deref(), Some(self.concert.id))
        } else {
            cx.store
                .check_in(&code, door.as_deref(), Some(self.concert.id))
        };
        match result {
            Ok(scan) => {
                // Who, at which door, what: an undo above all is on the record.
                cx.log.write(&format!(
                    "door {} (clerk {}): {} {} {:?} {:?}",
                    door.as_deref().unwrap_or("-"),
                    cx.store.operator().clerk.as_deref().unwrap_or("-"),
                    if undo { "undo" } else { "scan" },
                    scan.ticket,
                    scan.result,
                    scan.reason
                ));
                cx.quiet();
                self.recent.insert(0, scan.clone());
                self.recent.truncate(RECENT);
                self.last = Some((scan, undo));
                self.refresh(cx);
            }
            Err(e) => cx.fail(&e),
        }
    }

    /// A steward's undo of the last admission (a mistaken scan).
    fn undo_last(&mut self, cx: &mut Cx) {
        match &self.last {
            Some((scan, false)) if scan.result == Entry::Admitted => {
                self.input = scan.ticket.clone();
                self.scan(cx, true);
            }
            _ => cx.say(
                Level::Error,
                "nothing to undo: the last scan admitted nobody",
            ),
        }
    }

    pub fn draw(&self, frame: &mut Frame, area: Rect, v: &View) {
        let t = v.theme;
        let [head, verdict, detail, list, input] = Layout::vertical([
            Constraint::Length(2),
            Constraint::Length(7),
            Constraint::Length(2),
            Constraint::Min(0),
            Constraint::Length(3),
        ])
        .areas(area);
        let c = &self.concert;
        frame.render_widget(
            Paragraph::new(vec![
                Line::styled(safe(&format!("Door · {} - {}", c.artist, c.title)), t.title),
                Line::raw(format!(
                    "{} · {} · admitted {} of {}",
                    c.at_venue(c.starts_at),
                    safe(&c.venue),
                    self.counts.0,
                    self.counts.1
                )),
            ]),
            head,
        );
        let (word, style, text) = match &self.last {
            None => ("SCAN", t.dim, "Scan a ticket's QR code".to_string()),
            Some((s, true)) if s.result == Entry::Admitted => (
                "UNDONE",
                t.info,
                format!("{}: valid again", safe(&s.holder())),
            ),
            Some((s, _)) if s.result == Entry::Admitted => {
                ("ADMIT", t.ok, format!("ADMITTED: {}", safe(&s.holder())))
            }
            Some((s, _)) => ("REFUSED", t.error, format!("REFUSED: {}", safe(&s.why()))),
        };
        let big: Vec<Line> = banner(word)
            .into_iter()
            .map(|l| Line::styled(l, style.add_modifier(Modifier::BOLD)).centered())
            .collect();
        frame.render_widget(Paragraph::new(big).block(Block::bordered()), verdict);
        frame.render_widget(
            Paragraph::new(Line::styled(text, style.add_modifier(Modifier::BOLD)).centered()),
            detail,
        );
        let lines: Vec<Line> = self
            .recent
            .iter()
            .map(|s| {
                Line::from(vec![
                    Span::raw(format!(
                        "{:<9}",
                        match s.result {
                            Entry::Admitted => "admitted",
                            Entry::Refused => "refused",
                        }
                    )),
                    Span::raw(format!("{}  ", safe(&s.ticket))),
                    Span::styled(
                        match s.result {
                            Entry::Admitted => safe(&s.holder()),
                            Entry::Refused => safe(&s.why()),
                        },
                        t.dim,
                    ),
                ])
            })
            .collect();
        frame.render_widget(
            Paragraph::new(lines).block(Block::bordered().title(" Last scans ")),
            list,
        );
        let field = Line::from(vec![
            Span::styled(safe(&self.input), t.field_focus),
            Span::styled("_", t.cursor),
        ]);
        frame.render_widget(
            Paragraph::new(field).block(
                Block::bordered()
                    .title(" Ticket code (the scanner types it, then Enter) ")
                    .border_style(t.highlight),
            ),
            input,
        );
    }
}

/// `word` in letters five lines high, for a verdict read from a step away.
fn banner(word: &str) -> Vec<String> {
    let glyph = |c: char| -> [&'static str; 5] {
        match c {
            'A' => [" ███ ", "█   █", "█████", "█   █", "█   █"],
            'C' => [" ████", "█    ", "█    ", "█    ", " ████"],
            'D' => ["████ ", "█   █", "█   █", "█   █", "████ "],
            'E' => ["█████", "█    ", "████ ", "█    ", "█████"],
            'F' => ["█████", "█    ", "████ ", "█    ", "█    "],
            'I' => ["█████", "  █  ", "  █  ", "  █  ", "█████"],
            'M' => ["█   █", "██ ██", "█ █ █", "█   █", "█   █"],
            'N' => ["█   █", "██  █", "█ █ █", "█  ██", "█   █"],
            'O' => [" ███ ", "█   █", "█   █", "█   █", " ███ "],
            'R' => ["████ ", "█   █", "████ ", "█  █ ", "█   █"],
            'S' => [" ████", "█    ", " ███ ", "    █", "████ "],
            'T' => ["█████", "  █  ", "  █  ", "  █  ", "  █  "],
            'U' => ["█   █", "█   █", "█   █", "█   █", " ███ "],
            _ => ["     "; 5],
        }
    };
    (0..5)
        .map(|row| {
            word.chars()
                .map(|c| glyph(c)[row])
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::banner;

    #[test]
    fn every_verdict_has_its_letters() {
        for word in ["ADMIT", "REFUSED", "UNDONE", "SCAN"] {
            let lines = banner(word);
            assert_eq!(lines.len(), 5);
            let width = word.len() * 6 - 1;
            assert!(lines.iter().all(|l| l.chars().count() == width), "{word}");
            // No letter left blank.
            for (i, _) in word.chars().enumerate() {
                let column: String = lines
                    .iter()
                    .map(|l| l.chars().skip(i * 6).take(5).collect::<String>())
                    .collect();
                assert!(column.contains('█'), "{word}: letter {i} is blank");
            }
        }
    }
}

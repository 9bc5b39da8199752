//! Who is at the counter: asked once when a kiosk starts without `--clerk`, so every sale and
//! refund made here records its clerk (the day's takings by clerk).

use super::{Cx, Level, Outcome, View};
use crate::tui::keys::{Cmd, Ctx};
use crate::tui::widgets::{centered, edit, field, safe};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::Line;
use ratatui::widgets::{Block, Clear, Paragraph};

#[derive(Default)]
pub struct Clerk {
    pub name: String,
}

impl Clerk {
    pub fn keys(&self) -> (Ctx, bool) {
        (Ctx::Clerk, true)
    }

    pub fn key(
        &mut self,
        cx: &mut Cx,
        cmd: Option<Cmd>,
        key: &ratatui::crossterm::event::KeyEvent,
    ) -> Outcome {
        match cmd {
            Some(Cmd::Submit) => {
                let name = self.name.trim();
                if name.is_empty() {
                    cx.say(
                        Level::Error,
                        "type your name: it goes on every sale you make",
                    );
                    return Outcome::Stay;
                }
                let mut operator = cx.store.operator().clone();
                operator.clerk = Some(name.to_string());
                match cx.store.set_operator(operator) {
                    Ok(()) => {
                        cx.log.write(&format!("clerk {name} at the counter"));
                        cx.say(Level::Ok, format!("selling as {}", safe(name)));
                        return Outcome::Concerts;
                    }
                    Err(e) => cx.fail(&e),
                }
            }
            _ => {
                edit(&mut self.name, key, 100);
            }
        }
        Outcome::Stay
    }

    pub fn draw(&self, frame: &mut Frame, area: Rect, v: &View) {
        let t = v.theme;
        let popup = centered(area, 60, 7);
        frame.render_widget(Clear, popup);
        let mut lines = vec![Line::raw(
            "Every sale and refund made here records who made it.",
        )];
        lines.extend(field(t, "Your name", &safe(&self.name), true, None));
        lines.push(Line::styled("Enter starts selling", t.dim));
        frame.render_widget(
            Paragraph::new(lines).block(Block::bordered().title(" Who is at the counter? ")),
            popup,
        );
    }
}

//! Pieces every screen uses: a text field's editing and drawing, moving in a list, text made
//! safe for the terminal, a centred box.

use super::theme::Theme;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};

/// Edits a text field with a key; returns true if the key was for the field. Ctrl-U clears
/// the field, as in a shell.
pub fn edit(text: &mut String, key: &KeyEvent, max: usize) -> bool {
    if is_ctrl_u(key) {
        text.clear();
        return true;
    }
    match key.code {
        KeyCode::Char(c)
            if !key
                .modifiers
                .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT)
                && !c.is_control() =>
        {
            if text.chars().count() < max {
                text.push(c);
            }
            true
        }
        KeyCode::Backspace => {
            text.pop();
            true
        }
        _ => false,
    }
}

/// Ctrl-U: clears a text field.
pub fn is_ctrl_u(key: &KeyEvent) -> bool {
    key.code == KeyCode::Char('u') && key.modifiers.contains(KeyModifiers::CONTROL)
}

/// `i` kept inside a list of `len`.
pub fn clamp(i: usize, len: usize) -> usize {
    if len == 0 { 0 } else { i.min(len - 1) }
}

/// `i` moved `by` rows inside a list of `len`.
pub fn step(i: usize, by: isize, len: usize) -> usize {
    if len == 0 {
        return 0;
    }
    (i as isize + by).clamp(0, len as isize - 1) as usize
}

pub fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let w = width.min(area.width);
    let h = height.min(area.height);
    Rect::new(
        area.x + (area.width - w) / 2,
        area.y + (area.height - h) / 2,
        w,
        h,
    )
}

/// A one-line text field: label, value (masked when asked), and a cursor mark when focused.
pub fn field<'a>(
    t: &Theme,
    label: &str,
    value: &str,
    focused: bool,
    problem: Option<&str>,
) -> Vec<Line<'a>> {
    let style = if focused { t.field_focus } else { t.field };
    let mut line = vec![
        Span::styled(
            format!("{label:<10}"),
            if focused { t.highlight } else { Style::new() },
        ),
        Span::styled(value.to_string(), style),
    ];
    if focused {
        line.push(Span::styled("_", t.cursor));
    }
    let mut out = vec![Line::from(line)];
    match problem {
        Some(p) if !value.is_empty() || focused => out.push(Line::from(vec![
            Span::raw(" ".repeat(10)),
            Span::styled(format!("! {p}"), t.error),
        ])),
        _ => {
            if !value.is_empty() {
                out.push(Line::from(vec![
                    Span::raw(" ".repeat(10)),
                    Span::styled("ok", t.ok),
                ]));
            } else {
                out.push(Line::from(""));
            }
        }
    }
    out
}

/// Fits a form into `room` lines: blank lines go first, then the `ok` under fields, so every
/// field stays in view on a small terminal (problems are kept: they are what the clerk needs).
pub fn compact(lines: Vec<Line<'_>>, room: usize) -> Vec<Line<'_>> {
    if lines.len() <= room {
        return lines;
    }
    let text = |l: &Line| {
        l.spans
            .iter()
            .map(|s| s.content.as_ref())
            .collect::<String>()
    };
    let mut out: Vec<Line> = lines
        .into_iter()
        .filter(|l| !text(l).trim().is_empty())
        .collect();
    if out.len() > room {
        out.retain(|l| text(l).trim() != "ok");
    }
    out
}

/// Text shown to the clerk with control characters (terminal escapes) made harmless.
pub fn safe(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { '\u{fffd}' } else { c })
        .collect()
}

//! Drawing: reads the app state, never changes it (except the seat map's scroll, kept in a
//! `Cell` so the cursor stays in view).

use super::app::{App, Level, Screen};
use super::keys;
use super::screens;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};

pub const MIN_WIDTH: u16 = 60;
pub const MIN_HEIGHT: u16 = 16;

pub fn draw(frame: &mut Frame, app: &App) {
    let area = frame.area();
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        let text = format!(
            "Terminal too small: {}x{}. boxoffice needs at least {MIN_WIDTH}x{MIN_HEIGHT}.",
            area.width, area.height
        );
        frame.render_widget(Paragraph::new(text).wrap(Wrap { trim: true }), area);
        return;
    }
    let [top, body, status, footer] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(0),
        Constraint::Length(1),
        Constraint::Length(1),
    ])
    .areas(area);
    draw_tabs(frame, app, top);
    match app.screen {
        Screen::Concerts => screens::concerts::draw(frame, app, body),
        Screen::SeatMap => screens::seatmap::draw(frame, app, body),
        Screen::Checkout => screens::checkout::draw(frame, app, body),
        Screen::Confirmation => screens::confirmation::draw(frame, app, body),
        Screen::Bookings => screens::bookings::draw(frame, app, body),
        Screen::Waitlist => screens::waitlist::draw(frame, app, body),
        Screen::Sales => screens::sales::draw(frame, app, body),
    }
    draw_status(frame, app, status);
    draw_footer(frame, app, footer);
    if app.help {
        draw_help(frame, app, area);
    }
}

fn draw_tabs(frame: &mut Frame, app: &App, area: Rect) {
    let t = &app.theme;
    let tab = |label: &'static str, on: bool| {
        Span::styled(format!(" {label} "), if on { t.tab_active } else { t.tab })
    };
    let s = app.screen;
    let mut spans = vec![
        Span::styled(" boxoffice ", t.title),
        tab(
            "F2 Concerts",
            matches!(
                s,
                Screen::Concerts
                    | Screen::SeatMap
                    | Screen::Checkout
                    | Screen::Confirmation
                    | Screen::Waitlist
            ),
        ),
        tab("F3 Bookings", s == Screen::Bookings),
        tab("F4 Sales", s == Screen::Sales),
    ];
    if app.opts.kiosk {
        spans.push(Span::styled(" KIOSK ", t.highlight));
    }
    let clock = app
        .now()
        .with_timezone(&app.opts.utc_offset)
        .format("%a %d %b %H:%M ")
        .to_string();
    let used: usize = spans.iter().map(|s| s.width()).sum();
    let pad = (area.width as usize).saturating_sub(used + clock.len());
    spans.push(Span::raw(" ".repeat(pad)));
    spans.push(Span::styled(clock, t.dim));
    frame.render_widget(Line::from(spans), area);
}

fn draw_status(frame: &mut Frame, app: &App, area: Rect) {
    let t = &app.theme;
    let line = match &app.status {
        Some(s) => {
            let (style, mark) = match s.level {
                Level::Error => (t.error, "! "),
                Level::Ok => (t.ok, "✓ "),
                Level::Info => (t.info, "· "),
            };
            Line::from(vec![
                Span::styled(mark, style),
                Span::styled(s.text.clone(), style),
            ])
        }
        None => Line::from(""),
    };
    frame.render_widget(Paragraph::new(line), area);
}

fn draw_footer(frame: &mut Frame, app: &App, area: Rect) {
    let t = &app.theme;
    let (ctx, typing) = app.ctx();
    let mut spans = Vec::new();
    let mut width = 0usize;
    for (key, label) in keys::hints(ctx, typing, app.opts.kiosk) {
        let piece = key.chars().count() + label.chars().count() + 3;
        if width + piece > area.width as usize {
            break;
        }
        width += piece;
        spans.push(Span::styled(key, t.footer_key));
        spans.push(Span::styled(format!(" {label}  "), t.footer_text));
    }
    frame.render_widget(Line::from(spans), area);
}

fn draw_help(frame: &mut Frame, app: &App, area: Rect) {
    let t = &app.theme;
    let popup = centered(
        area,
        area.width.saturating_sub(4).min(76),
        area.height.saturating_sub(2),
    );
    frame.render_widget(Clear, popup);
    let mut lines: Vec<Line> = Vec::new();
    let mut last = None;
    for (ctx, shown, help) in keys::help(app.opts.kiosk) {
        if last != Some(ctx) {
            if last.is_some() {
                lines.push(Line::from(""));
            }
            lines.push(Line::styled(
                ctx.title(),
                t.title.add_modifier(Modifier::UNDERLINED),
            ));
            last = Some(ctx);
        }
        lines.push(Line::from(vec![
            Span::styled(format!("  {shown:<12}"), t.footer_key),
            Span::raw(help),
        ]));
    }
    if app.opts.kiosk {
        lines.insert(
            0,
            Line::styled(
                "Kiosk mode: q does not quit; Ctrl-Q does. Idle screens clear themselves.",
                t.info,
            ),
        );
    }
    let visible = popup.height.saturating_sub(2) as usize;
    let max_scroll = lines.len().saturating_sub(visible) as u16;
    let scroll = app.help_scroll.min(max_scroll);
    let block = Block::bordered().title(format!(
        " Keys (Esc closes, ↑↓ PgUp PgDn scroll) {}/{} ",
        (scroll as usize + visible).min(lines.len()),
        lines.len()
    ));
    frame.render_widget(
        Paragraph::new(lines).block(block).scroll((scroll, 0)),
        popup,
    );
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
    app: &App,
    label: &str,
    value: &str,
    focused: bool,
    problem: Option<&str>,
) -> Vec<Line<'a>> {
    let t = &app.theme;
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

/// Text shown to the clerk with control characters (terminal escapes) made harmless.
pub fn safe(s: &str) -> String {
    s.chars()
        .map(|c| if c.is_control() { '\u{fffd}' } else { c })
        .collect()
}

//! Drawing: reads the app state, never changes it (except the seat map's scroll, kept in a
//! `Cell` so the cursor stays in view).

use super::app::App;
use super::keys;
use super::screens::View;
use super::screens::checkout::Checkout;
use super::screens::clerk::Clerk;
use super::screens::confirmation::Confirmation;
use super::screens::door::Door;
use super::screens::seatmap::MapState;
use super::screens::waitlist::WaitState;
use super::screens::{Level, MIN_HEIGHT, MIN_WIDTH, Screen};
use super::widgets::centered;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Wrap};

pub fn draw(frame: &mut Frame, app: &App) {
    let area = frame.area();
    app.drawn_size.set((area.width, area.height));
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
    let v = app.view();
    match app.screen {
        Screen::Concerts => app.concerts.draw(frame, body, &v),
        Screen::SeatMap => draw_open(frame, body, &v, &app.map, MapState::draw),
        Screen::Checkout => draw_open(frame, body, &v, &app.checkout, Checkout::draw),
        Screen::Confirmation => draw_open(frame, body, &v, &app.confirmation, Confirmation::draw),
        Screen::Bookings => app.bookings.draw(frame, body, &v),
        Screen::Waitlist => draw_open(frame, body, &v, &app.waitlist, WaitState::draw),
        Screen::Sales => app.sales.draw(frame, body, &v),
        Screen::Door => draw_open(frame, body, &v, &app.door, Door::draw),
        Screen::Clerk => draw_open(frame, body, &v, &app.clerk, Clerk::draw),
    }
    draw_status(frame, app, status);
    draw_footer(frame, app, footer);
    if app.help {
        draw_help(frame, app, area);
    }
}

/// A screen that may be closed: drawn if it is open.
fn draw_open<S>(
    frame: &mut Frame,
    area: Rect,
    v: &View,
    screen: &Option<S>,
    draw: fn(&S, &mut Frame, Rect, &View),
) {
    if let Some(s) = screen {
        draw(s, frame, area, v);
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
    if s == Screen::Door {
        spans.truncate(1);
        spans.push(tab("Door", true));
    }
    if app.opts.kiosk {
        spans.push(Span::styled(" KIOSK ", t.highlight));
    }
    if app.store.is_read_only() {
        spans.push(Span::styled(" READ-ONLY ", t.highlight));
    }
    if app.opts.rehearsal {
        spans.push(Span::styled(" REHEARSAL ", t.highlight));
    }
    // The machine's time, with its zone's abbreviation (CET) where it is known.
    let now = app.now();
    let clock = match app.opts.zone {
        Some(zone) => now
            .with_timezone(&zone)
            .format("%a %d %b %H:%M %Z ")
            .to_string(),
        None => now
            .with_timezone(&app.opts.utc_offset)
            .format("%a %d %b %H:%M UTC%:z ")
            .to_string(),
    };
    let used: usize = spans.iter().map(|s| s.width()).sum();
    // Narrow: the time and zone only.
    let clock = if used + clock.len() > area.width as usize {
        clock.split(' ').skip(3).collect::<Vec<_>>().join(" ")
    } else {
        clock
    };
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
        // The last hint needs no space after it.
        if width + piece - 2 > area.width as usize {
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
    let here = app.ctx().0;
    for (ctx, shown, help) in keys::help(app.opts.kiosk, here, app.opts.door.is_some()) {
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

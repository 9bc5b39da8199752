//! The terminal app: one synchronous event loop over terminal events and a tick (hold
//! countdowns, live seat maps via `PRAGMA data_version`). A card charge runs on a worker
//! thread and reports back through a channel; the UI never freezes.

pub mod app;
pub mod bench;
pub mod keys;
pub mod prompt;
pub mod screens;
pub mod theme;
pub mod ui;
pub mod widgets;

#[cfg(test)]
mod tests;

use app::{Action, App};
use ratatui::crossterm::event::{
    self, DisableMouseCapture, EnableMouseCapture, Event, KeyEventKind, MouseButton, MouseEventKind,
};
use ratatui::crossterm::execute;
use std::io::{IsTerminal, stdout};
use std::time::{Duration, Instant};

/// How often the loop wakes without input: countdowns, other terminals' changes.
pub const TICK: Duration = Duration::from_millis(250);

/// Registers the signals that end the app the way a quit does: the terminal going away
/// (SIGHUP: an SSH session dropped, a window closed) or a polite kill (SIGTERM), so what follows
/// a quit still runs (a --demo copy is removed). Registered before the slow start (a demo's
/// seeding), so a hang-up then is heard too.
pub fn hang_up_flag() -> anyhow::Result<std::sync::Arc<std::sync::atomic::AtomicBool>> {
    let gone = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGHUP, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(signal, gone.clone())?;
    }
    Ok(gone)
}

pub fn run(mut app: App, gone: &std::sync::atomic::AtomicBool) -> anyhow::Result<()> {
    if !stdout().is_terminal() || !std::io::stdin().is_terminal() {
        anyhow::bail!(
            "the terminal app needs a terminal; for scripts use the subcommands (`boxoffice --help`)"
        );
    }
    // ratatui's hook restores the terminal before the panic message prints; mouse capture is
    // ours to undo.
    let mut terminal = ratatui::try_init()?;
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let _ = execute!(stdout(), DisableMouseCapture);
        previous(info);
    }));
    let _ = execute!(stdout(), EnableMouseCapture);
    let result = event_loop(&mut terminal, &mut app, gone);
    let _ = execute!(stdout(), DisableMouseCapture);
    ratatui::restore();
    result
}

fn event_loop(
    terminal: &mut ratatui::DefaultTerminal,
    app: &mut App,
    gone: &std::sync::atomic::AtomicBool,
) -> anyhow::Result<()> {
    let mut last_tick = Instant::now();
    let mut dirty = true;
    let mut drawn_minute = i64::MIN;
    loop {
        if gone.load(std::sync::atomic::Ordering::Relaxed) {
            return Ok(());
        }
        if dirty {
            terminal.draw(|f| ui::draw(f, app))?;
            drawn_minute = app.now().timestamp() / 60;
            dirty = false;
        }
        let timeout = TICK.saturating_sub(last_tick.elapsed());
        if event::poll(timeout)? {
            match event::read()? {
                Event::Key(k) if k.kind == KeyEventKind::Press => {
                    app.update(Action::Key(k));
                    dirty = true;
                }
                Event::Mouse(m) if m.kind == MouseEventKind::Down(MouseButton::Left) => {
                    app.update(Action::Click {
                        column: m.column,
                        row: m.row,
                    });
                    dirty = true;
                }
                Event::Resize(..) => {
                    app.update(Action::Resize);
                    dirty = true;
                }
                _ => {}
            }
        }
        if last_tick.elapsed() >= TICK {
            last_tick = Instant::now();
            let before = (
                app.data_version,
                app.screen,
                app.paying.is_some(),
                app.status.clone(),
            );
            app.update(Action::Tick(last_tick));
            // Redraw on a tick only when something on screen moves: a countdown, a spinner,
            // a change made at another terminal, a screen read again (a hold shown as held
            // ran out: nothing anyone could notice changed), a message (the kiosk's warning).
            // The header clock moves on the minute, idle or not.
            dirty |= app.checkout.is_some()
                || std::mem::take(&mut app.reread)
                || before
                    != (
                        app.data_version,
                        app.screen,
                        app.paying.is_some(),
                        app.status.clone(),
                    )
                || app.now().timestamp() / 60 != drawn_minute;
        }
        if app.quit {
            return Ok(());
        }
    }
}

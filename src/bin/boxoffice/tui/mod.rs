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
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How often the loop wakes without input: countdowns, other terminals' changes.
pub const TICK: Duration = Duration::from_millis(250);

/// The terminal going away (SIGHUP: an SSH session dropped, a window closed) or a polite kill
/// (SIGTERM) ends the app the way a quit does, so what follows a quit still runs (a --demo
/// copy is removed). Heard from before the slow start (a demo's seeding).
///
/// The event loop sees `gone` at its next tick. But a terminal that went away can leave the
/// terminal library reading its end-of-file forever, never back in the loop (crossterm 0.29
/// retries a read of 0 bytes); so once the loop runs, a second after the signal, if the app
/// has not finished, the process ends here, after the clean-up given to
/// [`HangUp::on_forced_exit`]. (Before the loop runs, a start-up finishes and the loop then
/// quits at once.)
pub struct HangUp {
    pub gone: Arc<AtomicBool>,
    running: Arc<AtomicBool>,
    finished: Arc<AtomicBool>,
    cleanup: Cleanup,
    /// The box office and the hold a checkout keeps open, if any: a hang-up gives it back (the
    /// customer at that terminal is gone) instead of keeping the seats for the hold's time.
    open_hold: OpenHold,
}

type OpenHold = Arc<Mutex<Option<(std::path::PathBuf, String)>>>;

/// Gives back the hold a hung-up terminal kept open, on a connection of its own.
fn release_open_hold(open_hold: &OpenHold) {
    let taken = open_hold.lock().ok().and_then(|mut h| h.take());
    if let Some((db, hold)) = taken
        && let Ok(mut store) = boxoffice::Store::open(&db, Arc::new(boxoffice::SystemClock))
    {
        let _ = store.release_hold(&hold);
    }
}

type Cleanup = Arc<Mutex<Option<Box<dyn FnOnce() + Send>>>>;

impl HangUp {
    pub fn listen() -> anyhow::Result<HangUp> {
        let gone = Arc::new(AtomicBool::new(false));
        let running = Arc::new(AtomicBool::new(false));
        let finished = Arc::new(AtomicBool::new(false));
        let cleanup: Cleanup = Arc::new(Mutex::new(None));
        let open_hold: OpenHold = Arc::new(Mutex::new(None));
        let mut signals = signal_hook::iterator::Signals::new([
            signal_hook::consts::SIGHUP,
            signal_hook::consts::SIGTERM,
        ])?;
        let (g, r, f, c, h) = (
            gone.clone(),
            running.clone(),
            finished.clone(),
            cleanup.clone(),
            open_hold.clone(),
        );
        std::thread::Builder::new()
            .name("hang-up".into())
            .spawn(move || {
                let Some(signal) = signals.forever().next() else {
                    return;
                };
                g.store(true, Ordering::SeqCst);
                let mut since: Option<Instant> = None;
                loop {
                    if f.load(Ordering::SeqCst) {
                        return;
                    }
                    if r.load(Ordering::SeqCst) {
                        let t = *since.get_or_insert_with(Instant::now);
                        if t.elapsed() >= Duration::from_secs(1) {
                            break;
                        }
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
                release_open_hold(&h);
                if let Some(cleanup) = c.lock().ok().and_then(|mut c| c.take()) {
                    cleanup();
                }
                std::process::exit(128 + signal);
            })?;
        Ok(HangUp {
            gone,
            running,
            finished,
            cleanup,
            open_hold,
        })
    }

    /// What must happen even when the process is ended after a hang-up.
    pub fn on_forced_exit(&self, cleanup: impl FnOnce() + Send + 'static) {
        if let Ok(mut c) = self.cleanup.lock() {
            *c = Some(Box::new(cleanup));
        }
    }

    /// The app has finished by itself: the caller does the clean-up.
    pub fn finished(&self) {
        self.finished.store(true, Ordering::SeqCst);
    }
}

pub fn run(mut app: App, hang_up: &HangUp) -> anyhow::Result<()> {
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
    hang_up.running.store(true, Ordering::SeqCst);
    let result = event_loop(&mut terminal, &mut app, hang_up);
    let _ = execute!(stdout(), DisableMouseCapture);
    ratatui::restore();
    result
}

fn event_loop(
    terminal: &mut ratatui::DefaultTerminal,
    app: &mut App,
    hang_up: &HangUp,
) -> anyhow::Result<()> {
    let mut last_tick = Instant::now();
    let mut dirty = true;
    let mut drawn_minute = i64::MIN;
    loop {
        // The hold a checkout keeps open, where a hang-up can find it.
        let open = app.open_hold().map(|h| (app.store.path().to_path_buf(), h));
        if let Ok(mut slot) = hang_up.open_hold.lock()
            && *slot != open
        {
            *slot = open;
        }
        if hang_up.gone.load(std::sync::atomic::Ordering::Relaxed) {
            // The customer at this terminal is gone: their seats go back now.
            app.hang_up();
            if let Ok(mut slot) = hang_up.open_hold.lock() {
                *slot = None;
            }
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

//! Figures for `benches/render.rs`: the app's first frame, then frames of the concerts screen
//! and of a seat map at 80x24 and 200x60, drawn on ratatui's `TestBackend` (the binary with
//! `BOXOFFICE_BENCH_UI` set; not a command). Prints; measures nothing in tests.

use super::app::{Action, App};
use super::ui;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use std::time::{Duration, Instant};

fn frames(app: &App, w: u16, h: u16, n: usize) -> (f64, f64) {
    let mut terminal = Terminal::new(TestBackend::new(w, h)).expect("test backend");
    let mut samples: Vec<Duration> = (0..n)
        .map(|_| {
            // A full redraw each time, as after a change: clear the previous frame first.
            terminal.clear().expect("clear");
            let t = Instant::now();
            terminal.draw(|f| ui::draw(f, app)).expect("draw");
            t.elapsed()
        })
        .collect();
    p50_p99(&mut samples)
}

/// Median and 99th percentile, in milliseconds.
fn p50_p99(samples: &mut [Duration]) -> (f64, f64) {
    samples.sort();
    let n = samples.len();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    (ms(samples[n / 2]), ms(samples[n * 99 / 100]))
}

/// Peak resident memory of this process, in MB (Linux).
fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

pub fn run(
    mut app: App,
    started: Instant,
    concert: Option<i64>,
    n: usize,
    first_only: bool,
) -> String {
    let mut out = String::new();
    let mut terminal = Terminal::new(TestBackend::new(80, 24)).expect("test backend");
    terminal.draw(|f| ui::draw(f, &app)).expect("draw");
    out.push_str(&format!(
        "first frame {:.1} ms after start ({} concerts listed)\n",
        started.elapsed().as_secs_f64() * 1000.0,
        app.concerts.list.len()
    ));
    if first_only {
        return out;
    }
    let (p50, p99) = frames(&app, 80, 24, n);
    out.push_str(&format!(
        "concerts screen 80x24: p50 {p50:.3} ms, p99 {p99:.3} ms\n"
    ));
    let (p50, p99) = frames(&app, 200, 60, n);
    out.push_str(&format!(
        "concerts screen 200x60: p50 {p50:.3} ms, p99 {p99:.3} ms\n"
    ));
    if let Some(id) = concert {
        let t = Instant::now();
        app.open_map(id);
        let open = t.elapsed();
        let seats = app.map.as_ref().map(|m| m.map.seats.len()).unwrap_or(0);
        out.push_str(&format!(
            "seat map of {seats} seats opened in {:.1} ms\n",
            open.as_secs_f64() * 1000.0
        ));
        for (w, h) in [(80, 24), (200, 60)] {
            let (p50, p99) = frames(&app, w, h, n);
            out.push_str(&format!(
                "seat map {w}x{h}: p50 {p50:.3} ms, p99 {p99:.3} ms\n"
            ));
        }
        // Moving the cursor through the hall redraws with scrolling.
        let mut terminal = Terminal::new(TestBackend::new(80, 24)).expect("test backend");
        let mut samples = Vec::new();
        for i in 0..n {
            let code = if i % 2 == 0 {
                ratatui::crossterm::event::KeyCode::PageDown
            } else {
                ratatui::crossterm::event::KeyCode::Right
            };
            app.update(Action::Key(ratatui::crossterm::event::KeyEvent::from(code)));
            let t = Instant::now();
            terminal.draw(|f| ui::draw(f, &app)).expect("draw");
            samples.push(t.elapsed());
        }
        let (p50, p99) = p50_p99(&mut samples);
        out.push_str(&format!(
            "seat map 80x24 while moving: p50 {p50:.3} ms, p99 {p99:.3} ms\n"
        ));
    }
    if let Some(mb) = peak_rss_mb() {
        out.push_str(&format!("peak resident memory {mb:.1} MB\n"));
    }
    out
}

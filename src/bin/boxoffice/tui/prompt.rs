//! A line typed at the terminal without echo (the terminal's raw mode), for the command line's
//! card prompts: terminal handling stays in the terminal module.

use ratatui::crossterm::event::{Event, KeyCode, KeyEventKind, KeyModifiers};
use std::io::Write;

/// Reads a line without echoing it, for a card number or a CVC; Ctrl-C cancels. The error is
/// what to tell the person.
pub fn read_hidden(prompt: &str) -> Result<zeroize::Zeroizing<String>, String> {
    // Echo off before the prompt shows, so nothing typed ahead of it is echoed either.
    ratatui::crossterm::terminal::enable_raw_mode()
        .map_err(|e| format!("cannot read from the terminal: {e}"))?;
    eprint!("{prompt}");
    let _ = std::io::stderr().flush();
    let mut typed = zeroize::Zeroizing::new(String::new());
    let outcome = loop {
        match ratatui::crossterm::event::read() {
            Ok(Event::Key(k)) if k.kind != KeyEventKind::Release => match k.code {
                KeyCode::Enter => break Ok(()),
                KeyCode::Char('c') if k.modifiers.contains(KeyModifiers::CONTROL) => {
                    break Err("cancelled; nothing was charged".to_string());
                }
                KeyCode::Backspace => {
                    typed.pop();
                }
                KeyCode::Char(c) => typed.push(c),
                _ => {}
            },
            Ok(_) => {}
            Err(e) => break Err(format!("cannot read from the terminal: {e}")),
        }
    };
    let _ = ratatui::crossterm::terminal::disable_raw_mode();
    eprintln!();
    outcome.map(|()| zeroize::Zeroizing::new(typed.trim().to_string()))
}

//! Named styles. With `NO_COLOR` every style is plain (bold and reverse only), and seats stay
//! readable because each status has its own glyph.

use boxoffice::SeatStatus;
use ratatui::style::{Color, Modifier, Style};

#[derive(Debug, Clone)]
pub struct Theme {
    pub color: bool,
    pub title: Style,
    pub tab: Style,
    pub tab_active: Style,
    pub footer_key: Style,
    pub footer_text: Style,
    pub error: Style,
    pub ok: Style,
    pub info: Style,
    pub dim: Style,
    pub selected_row: Style,
    pub highlight: Style,
    pub field: Style,
    pub field_focus: Style,
    pub cursor: Style,
    pub qr: Style,
}

impl Theme {
    pub fn new(color: bool) -> Theme {
        let c = |s: Style| if color { s } else { Style::new() };
        Theme {
            color,
            title: Style::new().add_modifier(Modifier::BOLD),
            tab: c(Style::new().fg(Color::Gray)),
            tab_active: Style::new().add_modifier(Modifier::REVERSED | Modifier::BOLD),
            footer_key: c(Style::new().fg(Color::Yellow)).add_modifier(Modifier::BOLD),
            footer_text: c(Style::new().fg(Color::Gray)),
            error: c(Style::new().fg(Color::Red)).add_modifier(Modifier::BOLD),
            ok: c(Style::new().fg(Color::Green)),
            info: c(Style::new().fg(Color::Cyan)),
            dim: c(Style::new().fg(Color::DarkGray)),
            selected_row: Style::new().add_modifier(Modifier::REVERSED),
            highlight: Style::new().add_modifier(Modifier::BOLD),
            field: c(Style::new().fg(Color::White)),
            field_focus: Style::new().add_modifier(Modifier::UNDERLINED | Modifier::BOLD),
            cursor: Style::new().add_modifier(Modifier::REVERSED),
            qr: Style::new().fg(Color::Black).bg(Color::White),
        }
    }

    /// From the environment: colour unless `NO_COLOR` is set to anything non-empty.
    pub fn from_env() -> Theme {
        Theme::new(std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()))
    }

    /// A free seat's colour by its category's position (cheapest first gets the calmest colour).
    pub fn category(&self, index: usize) -> Style {
        if !self.color {
            return Style::new();
        }
        let palette = [
            Color::Green,
            Color::Cyan,
            Color::Magenta,
            Color::Blue,
            Color::LightGreen,
        ];
        Style::new().fg(palette[index % palette.len()])
    }

    pub fn seat(&self, status: SeatStatus) -> Style {
        if !self.color {
            return match status {
                SeatStatus::Booked => Style::new().add_modifier(Modifier::DIM),
                _ => Style::new(),
            };
        }
        match status {
            SeatStatus::Free => Style::new(),
            SeatStatus::Held => Style::new().fg(Color::Yellow),
            SeatStatus::Booked => Style::new().fg(Color::DarkGray),
            SeatStatus::Reserved => Style::new().fg(Color::LightRed),
        }
    }

    pub fn selected_seat(&self) -> Style {
        let s = Style::new().add_modifier(Modifier::BOLD);
        if self.color {
            s.fg(Color::Black).bg(Color::LightYellow)
        } else {
            s.add_modifier(Modifier::UNDERLINED)
        }
    }
}

/// The glyph of a seat that is not free (a free seat shows its category letter, lower case).
pub fn glyph(status: SeatStatus) -> char {
    match status {
        SeatStatus::Free => '.',
        SeatStatus::Held => '+',
        SeatStatus::Booked => 'x',
        SeatStatus::Reserved => 'w',
    }
}

pub const SELECTED_GLYPH: char = '*';

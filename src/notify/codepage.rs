//! The code pages a receipt printer speaks (ESC/POS prints bytes, not UTF-8): PC858 (DOS
//! Latin 1 with the euro sign; German, French, the Nordic languages and most of Western
//! Europe) by default, or WPC1252 (Windows Latin 1). Each letter the page has prints as
//! itself; one it lacks prints as its closest ASCII form (`Ż` as `Z`, `ł` as `l`, `–` as `-`),
//! never `?` for a letter the page has.

use unicode_normalization::UnicodeNormalization;

/// A code page selected with ESC t.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CodePage {
    /// PC858: PC850 with `€` (Epson's page 19).
    #[default]
    Pc858,
    /// WPC1252: Windows Latin 1 (Epson's page 16).
    Wpc1252,
}

/// PC850's upper half, with PC858's `€` at 0xD5.
const PC858: [char; 128] = [
    'Ç', 'ü', 'é', 'â', 'ä', 'à', 'å', 'ç', 'ê', 'ë', 'è', 'ï', 'î', 'ì', 'Ä', 'Å', //
    'É', 'æ', 'Æ', 'ô', 'ö', 'ò', 'û', 'ù', 'ÿ', 'Ö', 'Ü', 'ø', '£', 'Ø', '×', 'ƒ', //
    'á', 'í', 'ó', 'ú', 'ñ', 'Ñ', 'ª', 'º', '¿', '®', '¬', '½', '¼', '¡', '«', '»', //
    '░', '▒', '▓', '│', '┤', 'Á', 'Â', 'À', '©', '╣', '║', '╗', '╝', '¢', '¥', '┐', //
    '└', '┴', '┬', '├', '─', '┼', 'ã', 'Ã', '╚', '╔', '╩', '╦', '╠', '═', '╬', '¤', //
    'ð', 'Ð', 'Ê', 'Ë', 'È', '€', 'Í', 'Î', 'Ï', '┘', '┌', '█', '▄', '¦', 'Ì', '▀', //
    'Ó', 'ß', 'Ô', 'Ò', 'õ', 'Õ', 'µ', 'þ', 'Þ', 'Ú', 'Û', 'Ù', 'ý', 'Ý', '¯', '´', //
    '\u{ad}', '±', '‗', '¾', '¶', '§', '÷', '¸', '°', '¨', '·', '¹', '³', '²', '■', '\u{a0}',
];

/// Windows-1252 from 0x80 to 0x9F (its holes as `\0`); from 0xA0 on it is Latin 1.
const WPC1252_LOW: [char; 32] = [
    '€', '\0', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\0', 'Ž', '\0', //
    '\0', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\0', 'ž', 'Ÿ',
];

impl CodePage {
    /// The page a setting names: `pc858` (also `cp858`, `858`) or `wpc1252` (`cp1252`,
    /// `windows-1252`, `1252`).
    pub fn parse(name: &str) -> Result<CodePage, String> {
        match name.trim().to_ascii_lowercase().as_str() {
            "pc858" | "cp858" | "858" => Ok(CodePage::Pc858),
            "wpc1252" | "cp1252" | "windows-1252" | "1252" => Ok(CodePage::Wpc1252),
            other => Err(format!(
                "printer code page `{other}`: pc858 (the default) or wpc1252"
            )),
        }
    }

    /// The page's number for ESC t on an Epson-compatible printer.
    pub fn esc_t(self) -> u8 {
        match self {
            CodePage::Pc858 => 19,
            CodePage::Wpc1252 => 16,
        }
    }

    /// `c` in this page, if it has it.
    pub fn byte(self, c: char) -> Option<u8> {
        if c.is_ascii() {
            return (!c.is_ascii_control()).then_some(c as u8);
        }
        let at = match self {
            CodePage::Pc858 => PC858.iter().position(|p| *p == c),
            CodePage::Wpc1252 => match c as u32 {
                0xA0..=0xFF => Some(c as usize - 0x80),
                _ => WPC1252_LOW.iter().position(|p| *p == c && *p != '\0'),
            },
        }?;
        Some(0x80 + at as u8)
    }

    /// What byte `b` prints as (for reading a printout back).
    pub fn char(self, b: u8) -> char {
        match (self, b) {
            (_, 0..=0x7f) => b as char,
            (CodePage::Pc858, _) => PC858[b as usize - 0x80],
            (CodePage::Wpc1252, 0x80..=0x9f) => WPC1252_LOW[b as usize - 0x80],
            (CodePage::Wpc1252, _) => b as char,
        }
    }

    /// `text` in this page: each letter it has as itself, the others as their closest ASCII.
    pub fn encode(self, text: &str) -> Vec<u8> {
        let mut out = Vec::with_capacity(text.len());
        for c in text.chars() {
            match self.byte(c) {
                Some(b) => out.push(b),
                None => out.extend(closest_ascii(c).bytes()),
            }
        }
        out
    }
}

/// The closest ASCII form of a character a page lacks.
fn closest_ascii(c: char) -> String {
    let spelled = match c {
        'ł' => "l",
        'Ł' => "L",
        'đ' => "d",
        'Đ' => "D",
        'ı' => "i",
        'œ' => "oe",
        'Œ' => "OE",
        '–' | '—' | '‐' | '−' => "-",
        '‘' | '’' | '‚' => "'",
        '“' | '”' | '„' => "\"",
        '…' => "...",
        '€' => "EUR",
        _ => "",
    };
    if !spelled.is_empty() {
        return spelled.to_string();
    }
    let base: String = std::iter::once(c)
        .nfd()
        .filter(|d| d.is_ascii() && !d.is_ascii_control())
        .collect();
    if base.is_empty() { "?".into() } else { base }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(page: CodePage, text: &str) -> String {
        page.encode(text).iter().map(|b| page.char(*b)).collect()
    }

    #[test]
    fn every_letter_a_page_has_prints_as_itself_and_the_rest_as_their_ascii() {
        for page in [CodePage::Pc858, CodePage::Wpc1252] {
            for text in [
                "Wiener Sängerknaben",
                "Grüß Gott, Jürgen",
                "Café Noël",
                "EUR 5 €",
            ] {
                assert_eq!(round_trip(page, text), text, "{page:?}");
            }
            // `ó` both pages have; `Ż`, `ł`, `ź` neither; the en dash only WPC1252.
            let dash = if page == CodePage::Wpc1252 {
                "–"
            } else {
                "-"
            };
            assert_eq!(
                round_trip(page, "Żółkiewska – Łódź"),
                format!("Zólkiewska {dash} Lódz"),
                "{page:?}"
            );
            assert_eq!(round_trip(page, "山田"), "??", "{page:?}");
        }
        assert_eq!(CodePage::Pc858.byte('€'), Some(0xD5));
        assert_eq!(CodePage::Wpc1252.byte('€'), Some(0x80));
        assert_eq!(CodePage::Pc858.byte('ä'), Some(0x84));
        assert_eq!(CodePage::Wpc1252.byte('ä'), Some(0xE4));
        assert_eq!(CodePage::parse("CP1252"), Ok(CodePage::Wpc1252));
        assert!(CodePage::parse("utf8").unwrap_err().contains("pc858"));
    }
}

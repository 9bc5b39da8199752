//! Text that reaches a terminal or a customer: one rule for what may be in it.
//!
//! A name, a title or a layout's labels end up on clerks' screens, in emails and in SMS. Control
//! characters can drive a terminal; bidirectional overrides and isolates reorder what a reader
//! sees (a seat label or a price can be made to read backwards); zero-width characters make
//! two different strings look the same. None of them belongs in a one-line name, so they are
//! refused where text comes in (typed, imported, from a layout file), never silently changed.

/// Whether `c` changes how the text around it shows, or is invisible.
pub fn is_hidden_or_control(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            // Bidirectional embeddings, overrides, isolates and marks.
            '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}'
            // Zero-width characters and the byte-order mark inside text.
            | '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}'
            // Line and paragraph separators.
            | '\u{2028}' | '\u{2029}'
            // The soft hyphen (shown only where a line breaks), the combining grapheme joiner,
            // the Mongolian vowel separator, Hangul fillers (blank letters) and interlinear
            // annotation marks: each shows as nothing, or as a space.
            | '\u{00AD}' | '\u{034F}' | '\u{180E}' | '\u{115F}' | '\u{1160}' | '\u{3164}'
            | '\u{FFA0}' | '\u{FFF9}'..='\u{FFFB}'
            // Tag characters: invisible, and able to carry hidden text.
            | '\u{E0000}'..='\u{E007F}'
        )
}

/// What is wrong with `value` as one line of text for `field`, if anything.
pub fn check_line(field: &str, value: &str) -> Result<(), String> {
    match value
        .chars()
        .enumerate()
        .find(|(_, c)| is_hidden_or_control(*c))
    {
        None => Ok(()),
        Some((_, c)) if c.is_control() => Err(format!(
            "{field} contains a line break or control character"
        )),
        Some((at, c)) => Err(format!(
            "{field} contains an invisible character (U+{:04X}) at position {}; retype it without",
            c as u32,
            at + 1
        )),
    }
}

/// `url` as it may be shown (in `config`, an error, a log): a password in it
/// (`smtp://user:PASSWORD@host`) and the values of query parameters that carry secrets
/// (`?token=…`, `password`, `secret`, `key`) replaced by `***`. Anything else is kept as typed.
pub fn without_password(url: &str) -> String {
    let Some(scheme_end) = url.find("://") else {
        return url.to_string();
    };
    let rest = &url[scheme_end + 3..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    let authority = match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{user}:***@{host}"),
            None => authority.to_string(),
        },
        None => authority.to_string(),
    };
    let tail = match tail.split_once('?') {
        Some((path, query)) => {
            let (query, fragment) = query
                .split_once('#')
                .map_or((query, None), |(q, f)| (q, Some(f)));
            let query: Vec<String> = query
                .split('&')
                .map(|pair| match pair.split_once('=') {
                    Some((k, _))
                        if ["pass", "token", "secret", "key"]
                            .iter()
                            .any(|w| k.to_ascii_lowercase().contains(w)) =>
                    {
                        format!("{k}=***")
                    }
                    _ => pair.to_string(),
                })
                .collect();
            let fragment = fragment.map(|f| format!("#{f}")).unwrap_or_default();
            format!("{path}?{}{fragment}", query.join("&"))
        }
        None => tail.to_string(),
    };
    format!("{}://{authority}{tail}", &url[..scheme_end])
}

/// For a CSV cell a spreadsheet will open: text starting with `=`, `+`, `-` or `@` is read as
/// a formula, so it is written with a leading `'`, the way spreadsheets expect.
/// [`from_spreadsheet_cell`] takes it off again.
pub fn spreadsheet_cell(value: &str) -> String {
    if value.starts_with(['=', '+', '-', '@']) {
        format!("'{value}")
    } else {
        value.to_string()
    }
}

/// The text of a cell written by [`spreadsheet_cell`].
pub fn from_spreadsheet_cell(value: &str) -> &str {
    match value.strip_prefix('\'') {
        Some(rest) if rest.starts_with(['=', '+', '-', '@']) => rest,
        _ => value,
    }
}

/// A name as people type it when they search: lower case, accents and marks dropped, letters
/// some keyboards lack spelled out (`ß` as `ss`, `ø` as `o`, `ł` as `l`), the German
/// spellings without umlauts folded the same way (`ue` as `u`: `Müller`, `Mueller` and
/// `muller` all become `muller`), and its words separated by one space. Both a stored name and
/// a search are folded, so they meet whichever way either was typed.
pub fn fold(name: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    let mut plain = String::with_capacity(name.len());
    for c in name.nfkd() {
        if unicode_normalization::char::is_combining_mark(c) {
            continue;
        }
        match c {
            'ß' | 'ẞ' => plain.push_str("ss"),
            'æ' | 'Æ' => plain.push_str("ae"),
            'œ' | 'Œ' => plain.push_str("oe"),
            'ø' | 'Ø' => plain.push('o'),
            'ł' | 'Ł' => plain.push('l'),
            'đ' | 'Đ' => plain.push('d'),
            'þ' | 'Þ' => plain.push_str("th"),
            c if c.is_alphanumeric() => plain.extend(c.to_lowercase()),
            _ => plain.push(' '),
        }
    }
    plain
        .split_whitespace()
        .map(|w| w.replace("ae", "a").replace("oe", "o").replace("ue", "u"))
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_fold_the_way_people_type_them() {
        for (a, b) in [
            ("Müller", "muller"),
            ("Mueller", "MULLER"),
            ("Jürgen  Groß", "jurgen gross"),
            ("Żółkiewska", "zolkiewska"),
            ("Søren Kierkegaard", "soren kierkegaard"),
            ("Anne-Marie O'Neill", "anne marie o neill"),
            ("Ľudovít Štúr", "ludovit stur"),
        ] {
            assert_eq!(fold(a), fold(b), "{a} / {b}");
        }
        assert_eq!(fold("Jürgen Müller"), "jurgen muller");
        // Scripts without a Latin spelling are kept, lower-cased where they have case.
        assert_eq!(fold("山田 太郎"), "山田 太郎");
        assert_eq!(fold("Παπαδόπουλος"), "παπαδοπουλος");
    }

    #[test]
    fn controls_bidi_overrides_and_zero_width_characters_are_refused_by_name() {
        assert_eq!(check_line("artist", "Björk & Sigur Rós — Live"), Ok(()));
        assert_eq!(check_line("artist", "שלום 123 عربي"), Ok(()));
        assert!(
            check_line("artist", "a\nb")
                .unwrap_err()
                .contains("control")
        );
        assert!(
            check_line("artist", "a\u{1b}[31m")
                .unwrap_err()
                .contains("control")
        );
        for (c, code) in [
            ('\u{202E}', "U+202E"),
            ('\u{2067}', "U+2067"),
            ('\u{200B}', "U+200B"),
            ('\u{FEFF}', "U+FEFF"),
            ('\u{2028}', "U+2028"),
            ('\u{00AD}', "U+00AD"),
            ('\u{3164}', "U+3164"),
            ('\u{115F}', "U+115F"),
            ('\u{1160}', "U+1160"),
            ('\u{FFA0}', "U+FFA0"),
            ('\u{034F}', "U+034F"),
            ('\u{180E}', "U+180E"),
            ('\u{FFF9}', "U+FFF9"),
            ('\u{FFFB}', "U+FFFB"),
            ('\u{E0041}', "U+E0041"),
        ] {
            let said = check_line("title", &format!("ab{c}cd")).unwrap_err();
            assert!(said.contains(code) && said.contains("position 3"), "{said}");
        }
    }

    #[test]
    fn a_password_or_a_token_in_a_url_is_never_shown() {
        for (url, shown) in [
            (
                "smtp://tickets:s3cret@mail.example:587",
                "smtp://tickets:***@mail.example:587",
            ),
            (
                "postgres://anna:p%40ss@db.example/box",
                "postgres://anna:***@db.example/box",
            ),
            (
                "https://sms.example/send?token=abc123&from=Odeon",
                "https://sms.example/send?token=***&from=Odeon",
            ),
            (
                "https://u:pw@sms.example?api_key=k#top",
                "https://u:***@sms.example?api_key=***#top",
            ),
            (
                "smtp://tickets@mail.example:587",
                "smtp://tickets@mail.example:587",
            ),
            ("/srv/box.db", "/srv/box.db"),
        ] {
            assert_eq!(without_password(url), shown);
        }
    }

    #[test]
    fn cells_a_spreadsheet_would_run_as_formulas_are_quoted_and_read_back() {
        for v in ["=HYPERLINK(\"x\")", "+1", "-M-", "@SUM(A1)"] {
            let cell = spreadsheet_cell(v);
            assert!(cell.starts_with('\''), "{cell}");
            assert_eq!(from_spreadsheet_cell(&cell), v);
        }
        assert_eq!(spreadsheet_cell("Aurora"), "Aurora");
        assert_eq!(from_spreadsheet_cell("'quoted'"), "'quoted'");
    }
}

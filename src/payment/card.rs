//! Card details: validated before any charge, held in memory only for the charge, wiped on drop,
//! and never printed. What may be stored is [`Card::summary`]: brand, last four, expiry.

use crate::error::{Error, Result};
use chrono::{DateTime, Datelike, Utc};
use std::fmt;
use zeroize::Zeroizing;

/// The card schemes the box office accepts, told by the number's first digits and length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Brand {
    /// Visa: starts with 4; 13, 16 or 19 digits.
    Visa,
    /// Mastercard: starts with 51-55 or 2221-2720; 16 digits.
    Mastercard,
    /// American Express: starts with 34 or 37; 15 digits, a four-digit security code.
    Amex,
}

impl Brand {
    /// The brand as a receipt names it (`Visa`).
    pub fn name(self) -> &'static str {
        match self {
            Brand::Visa => "Visa",
            Brand::Mastercard => "Mastercard",
            Brand::Amex => "Amex",
        }
    }

    fn cvc_len(self) -> usize {
        match self {
            Brand::Amex => 4,
            _ => 3,
        }
    }

    fn of(digits: &str) -> Option<Brand> {
        let prefix = |n: usize| digits.get(..n).and_then(|p| p.parse::<u32>().ok());
        let len = digits.len();
        if digits.starts_with('4') && matches!(len, 13 | 16 | 19) {
            return Some(Brand::Visa);
        }
        if matches!(prefix(2), Some(34 | 37)) && len == 15 {
            return Some(Brand::Amex);
        }
        if len == 16
            && (matches!(prefix(2), Some(51..=55)) || matches!(prefix(4), Some(2221..=2720)))
        {
            return Some(Brand::Mastercard);
        }
        None
    }
}

/// The Luhn checksum every card number carries: catches a mistyped digit.
pub fn luhn_ok(digits: &str) -> bool {
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return false;
    }
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = (b - b'0') as u32;
            if i % 2 == 1 {
                let d2 = d * 2;
                if d2 > 9 { d2 - 9 } else { d2 }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

/// A validated card. The number and CVC are zeroed when it is dropped.
#[derive(Clone)]
pub struct Card {
    number: Zeroizing<String>,
    cvc: Zeroizing<String>,
    brand: Brand,
    exp_month: u32,
    exp_year: i32,
}

impl fmt::Debug for Card {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Card({})", self.summary())
    }
}

impl PartialEq for Card {
    fn eq(&self, other: &Self) -> bool {
        *self.number == *other.number && *self.cvc == *other.cvc
    }
}
impl Eq for Card {}

impl Card {
    /// Validates what a clerk typed: the number (spaces and dashes allowed) by Luhn and brand,
    /// the expiry `MM/YY` against `now`, the CVC by the brand's length. An error never repeats
    /// the number.
    pub fn parse(number: &str, expiry: &str, cvc: &str, now: DateTime<Utc>) -> Result<Card> {
        let digits: Zeroizing<String> =
            Zeroizing::new(number.chars().filter(|c| !matches!(c, ' ' | '-')).collect());
        if digits.is_empty() {
            return Err(Error::CardInvalid("enter the card number".into()));
        }
        if !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Error::CardInvalid(
                "the card number may only contain digits".into(),
            ));
        }
        if !(12..=19).contains(&digits.len()) {
            return Err(Error::CardInvalid(format!(
                "a card number has 12 to 19 digits; this one has {}",
                digits.len()
            )));
        }
        if !luhn_ok(&digits) {
            return Err(Error::CardInvalid(
                "the card number is mistyped (its check digit does not match); type it again"
                    .into(),
            ));
        }
        let brand = Brand::of(&digits).ok_or_else(|| {
            Error::CardInvalid("only Visa, Mastercard and Amex cards are accepted".into())
        })?;
        let (exp_month, exp_year) = parse_expiry(expiry)?;
        let (now_y, now_m) = (now.year(), now.month());
        if (exp_year, exp_month) < (now_y, now_m) {
            return Err(Error::CardInvalid(format!(
                "the card expired in {exp_month:02}/{}",
                exp_year % 100
            )));
        }
        let cvc = Zeroizing::new(cvc.trim().to_string());
        if cvc.len() != brand.cvc_len() || !cvc.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Error::CardInvalid(format!(
                "the security code of a {} card has {} digits",
                brand.name(),
                brand.cvc_len()
            )));
        }
        Ok(Card {
            number: digits,
            cvc,
            brand,
            exp_month,
            exp_year,
        })
    }

    /// The card's brand, told from its number.
    pub fn brand(&self) -> Brand {
        self.brand
    }

    /// The number's last four digits, which may be shown and stored.
    pub fn last4(&self) -> &str {
        &self.number[self.number.len() - 4..]
    }

    /// The full number, for the gateway call only.
    pub fn number(&self) -> &str {
        &self.number
    }

    /// The security code, for the gateway call only.
    pub fn cvc(&self) -> &str {
        &self.cvc
    }

    /// All that may be stored or shown: `Visa ending 4242, exp 12/28`.
    pub fn summary(&self) -> String {
        format!(
            "{} ending {}, exp {:02}/{:02}",
            self.brand.name(),
            self.last4(),
            self.exp_month,
            self.exp_year % 100
        )
    }
}

/// What is wrong with an expiry as typed so far, checked the way [`Card::parse`] will check it:
/// `MM/YY`, a month 1-12, not in the past. `None` when it will do.
pub fn expiry_problem(expiry: &str, now: DateTime<Utc>) -> Option<String> {
    match parse_expiry(expiry) {
        Err(e) => Some(e.to_string()),
        Ok((m, y)) if (y, m) < (now.year(), now.month()) => {
            Some(format!("the card expired in {m:02}/{:02}", y % 100))
        }
        Ok(_) => None,
    }
}

/// What is wrong with a security code as typed, for the card number typed (3 digits, 4 for
/// Amex; 3 or 4 while the brand is not known yet). `None` when it will do.
pub fn cvc_problem(number: &str, cvc: &str) -> Option<String> {
    let digits: Zeroizing<String> =
        Zeroizing::new(number.chars().filter(char::is_ascii_digit).collect());
    let cvc = cvc.trim();
    let ok_len = match Brand::of(&digits) {
        Some(b) => cvc.len() == b.cvc_len(),
        None => (3..=4).contains(&cvc.len()),
    };
    if cvc.bytes().all(|b| b.is_ascii_digit()) && ok_len {
        None
    } else {
        Some(match Brand::of(&digits) {
            Some(b) => format!("{} digits on a {} card", b.cvc_len(), b.name()),
            None => "3 or 4 digits".to_string(),
        })
    }
}

fn parse_expiry(s: &str) -> Result<(u32, i32)> {
    let bad = || Error::CardInvalid("the expiry is MM/YY, e.g. 04/29".into());
    let (m, y) = s.trim().split_once('/').ok_or_else(bad)?;
    let month: u32 = m.trim().parse().map_err(|_| bad())?;
    let y = y.trim();
    let year: i32 = match y.len() {
        2 => 2000 + y.parse::<i32>().map_err(|_| bad())?,
        4 => y.parse().map_err(|_| bad())?,
        _ => return Err(bad()),
    };
    if !(1..=12).contains(&month) {
        return Err(bad());
    }
    Ok((month, year))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        "2026-11-25T12:00:00Z".parse().unwrap()
    }

    #[test]
    fn luhn_catches_a_mistyped_digit() {
        assert!(luhn_ok("4242424242424242"));
        assert!(luhn_ok("4000000000000002"));
        assert!(!luhn_ok("4242424242424241"));
        assert!(!luhn_ok("42424242424242x2"));
    }

    #[test]
    fn brands_and_cvc_lengths() {
        let visa = Card::parse("4242 4242 4242 4242", "12/28", "123", now()).unwrap();
        assert_eq!(visa.brand(), Brand::Visa);
        assert_eq!(visa.last4(), "4242");
        let mc = Card::parse("5555-5555-5555-4444", "01/27", "123", now()).unwrap();
        assert_eq!(mc.brand(), Brand::Mastercard);
        let mc2 = Card::parse("2223003122003222", "01/27", "123", now()).unwrap();
        assert_eq!(mc2.brand(), Brand::Mastercard);
        let amex = Card::parse("378282246310005", "01/27", "1234", now()).unwrap();
        assert_eq!(amex.brand(), Brand::Amex);
        assert!(Card::parse("378282246310005", "01/27", "123", now()).is_err());
        assert!(Card::parse("4242424242424242", "01/27", "1234", now()).is_err());
        // Discover passes Luhn but is not accepted.
        assert!(Card::parse("6011111111111117", "01/27", "123", now()).is_err());
    }

    #[test]
    fn an_empty_or_short_number_is_named_for_what_it_is() {
        let msg = |n: &str| {
            Card::parse(n, "12/28", "123", now())
                .unwrap_err()
                .to_string()
        };
        assert_eq!(msg("  "), "enter the card number");
        assert!(msg("4242 x").contains("only contain digits"));
        assert!(msg("42424242424").contains("12 to 19 digits; this one has 11"));
    }

    #[test]
    fn expiry_and_security_code_are_checked_as_typed() {
        assert!(expiry_problem("1228", now()).is_some(), "MM/YY, not MMYY");
        assert!(expiry_problem("13/28", now()).is_some());
        assert!(expiry_problem("10/26", now()).unwrap().contains("expired"));
        assert_eq!(expiry_problem("12/28", now()), None);
        assert!(cvc_problem("4242 4242 4242 4242", "1").is_some());
        assert!(
            cvc_problem("4242 4242 4242 4242", "1234").is_some(),
            "Visa: 3"
        );
        assert_eq!(cvc_problem("4242 4242 4242 4242", "123"), None);
        assert_eq!(cvc_problem("3782 822463 10005", "1234"), None, "Amex: 4");
        assert_eq!(cvc_problem("", "123"), None);
    }

    #[test]
    fn expiry_is_checked_against_the_clock() {
        assert!(Card::parse("4242424242424242", "11/26", "123", now()).is_ok());
        assert!(Card::parse("4242424242424242", "10/26", "123", now()).is_err());
        for bad in ["13/27", "1227", "ab/cd", "00/27", "12/2"] {
            assert!(
                Card::parse("4242424242424242", bad, "123", now()).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn the_number_never_shows_in_debug_or_errors() {
        let card = Card::parse("4242424242424242", "12/28", "987", now()).unwrap();
        let debug = format!("{card:?}");
        assert!(
            !debug.contains("4242424242424242") && !debug.contains("987"),
            "{debug}"
        );
        assert_eq!(card.summary(), "Visa ending 4242, exp 12/28");
        for (n, e, c) in [
            ("4242424242424241", "12/28", "123"),
            ("4242424242424242", "12/20", "123"),
            ("4242424242424242", "12/28", "12"),
        ] {
            let msg = Card::parse(n, e, c, now()).unwrap_err().to_string();
            assert!(!msg.contains("424242424242"), "{msg}");
        }
    }
}

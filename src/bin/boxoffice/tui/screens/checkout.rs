//! Checkout: the customer's details (validated as you type), then cash or card, with the
//! hold's countdown always in view.

use crate::tui::app::{App, Method, Step};
use crate::tui::ui::{field, safe};
use boxoffice::Money;
use boxoffice::model::parse_money;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};

const SPINNER: [&str; 4] = ["|", "/", "-", "\\"];

/// The card number as shown, also while it is typed: only the last four digits, in groups, so
/// the full number never reaches the screen (or a recording of it).
/// No copy of the digits is made: the typed number is the only one, and it is wiped.
pub fn masked_number(number: &str) -> String {
    let digits = || number.chars().filter(|c| c.is_ascii_digit());
    let n = digits().count();
    let mut out = String::new();
    for (i, d) in digits().enumerate() {
        if i > 0 && i % 4 == 0 {
            out.push(' ');
        }
        out.push(if i + 4 >= n { d } else { '*' });
    }
    out
}

pub fn draw(frame: &mut Frame, app: &App, area: Rect) {
    let Some(c) = &app.checkout else { return };
    let t = &app.theme;
    let [summary, form] = Layout::vertical([Constraint::Length(6), Constraint::Min(0)]).areas(area);
    let countdown = match app.hold_seconds_left() {
        Some(s) => Span::styled(
            format!("Hold expires in {}:{:02}", s / 60, s % 60),
            if s < 60 { t.error } else { t.highlight },
        ),
        None => Span::styled(
            "Not held yet: enter the customer, then Enter holds the seats",
            t.dim,
        ),
    };
    let lines = vec![
        Line::styled(
            safe(&format!("{} - {}", c.concert.artist, c.concert.title)),
            t.title,
        ),
        Line::raw(format!(
            "{} · {}",
            c.concert.local_start.format("%a %d %b %Y %H:%M"),
            safe(&c.concert.venue)
        )),
        Line::raw(format!(
            "Seats {}   Total {}",
            c.seats.join(" "),
            Money::new(c.total_cents, &c.concert.currency)
        )),
        Line::from(countdown),
    ];
    frame.render_widget(
        Paragraph::new(lines).block(Block::bordered().title(" Order ")),
        summary,
    );
    let mut lines: Vec<Line> = Vec::new();
    match &c.step {
        crate::tui::app::Step::Details => {
            let problems = App::field_problems(c);
            for (i, (label, value)) in [("Name", &c.name), ("Email", &c.email), ("Phone", &c.phone)]
                .into_iter()
                .enumerate()
            {
                lines.extend(field(
                    app,
                    label,
                    &safe(value),
                    c.focus == i,
                    problems[i].as_deref(),
                ));
            }
            lines.push(Line::styled(
                "The phone is optional: with it the customer also gets an SMS.",
                t.dim,
            ));
        }
        Step::Payment | Step::Paying => {
            let method = Line::from(vec![
                Span::styled(
                    format!("{:<10}", "Method"),
                    if c.focus == 0 {
                        t.highlight
                    } else {
                        Default::default()
                    },
                ),
                Span::styled(
                    " Cash ",
                    if c.method == Method::Cash {
                        t.tab_active
                    } else {
                        t.tab
                    },
                ),
                Span::raw(" "),
                Span::styled(
                    " Card ",
                    if c.method == Method::Card {
                        t.tab_active
                    } else {
                        t.tab
                    },
                ),
                Span::styled(
                    if c.focus == 0 {
                        "  <- -> to switch"
                    } else {
                        ""
                    },
                    t.dim,
                ),
            ]);
            lines.push(method);
            lines.push(Line::raw(""));
            match c.method {
                Method::Cash => {
                    let money = |cents| Money::new(cents, &c.concert.currency).to_string();
                    let most = boxoffice::payment::most_cash_for(c.total_cents);
                    // What is wrong with the amount goes under the field; the change below it.
                    let (problem, change) = match parse_money(&c.tendered) {
                        _ if c.tendered.is_empty() => (
                            None,
                            Line::styled("Type the cash handed over, e.g. 50 or 50.00", t.dim),
                        ),
                        Err(boxoffice::model::MoneyError::TooMuch) => (
                            Some(format!("more than {}: check the amount", money(most))),
                            Line::raw(""),
                        ),
                        Ok(v) if v > most => (
                            Some(format!("more than {}: check the amount", money(most))),
                            Line::raw(""),
                        ),
                        Ok(v) if v >= c.total_cents => (
                            None,
                            Line::styled(format!("Change due {}", money(v - c.total_cents)), t.ok),
                        ),
                        Ok(v) => (
                            Some(format!("{} short", money(c.total_cents - v))),
                            Line::raw(""),
                        ),
                        Err(why) => (Some(why.to_string()), Line::raw("")),
                    };
                    lines.extend(field(
                        app,
                        "Tendered",
                        &c.tendered,
                        c.focus == 1,
                        problem.as_deref(),
                    ));
                    lines.push(change);
                }
                Method::Card => {
                    // Wiped when the frame is drawn, like the typed number itself.
                    let digits: zeroize::Zeroizing<String> = zeroize::Zeroizing::new(
                        c.number.chars().filter(|d| d.is_ascii_digit()).collect(),
                    );
                    let number_note =
                        if digits.len() >= 13 && !boxoffice::payment::card::luhn_ok(&digits) {
                            Some("the check digit does not match: retype")
                        } else {
                            None
                        };
                    lines.extend(field(
                        app,
                        "Card",
                        &masked_number(&c.number),
                        c.focus == 1,
                        number_note,
                    ));
                    lines.extend(field(app, "Expiry", &c.exp, c.focus == 2, None));
                    lines.extend(field(
                        app,
                        "CVC",
                        &"*".repeat(c.cvc.len()),
                        c.focus == 3,
                        None,
                    ));
                    lines.push(Line::styled(
                        "Test cards: 4242 4242 4242 4242 approves, 4000 0000 0000 0002 declines",
                        t.dim,
                    ));
                }
            }
            if c.step == Step::Paying {
                lines.push(Line::raw(""));
                lines.push(Line::styled(
                    format!(
                        "{} Taking the payment...",
                        SPINNER[app.spinner % SPINNER.len()]
                    ),
                    t.info,
                ));
            }
        }
        Step::Declined(reason) => {
            lines.push(Line::styled(format!("Payment declined: {reason}"), t.error));
            lines.push(Line::raw("The seats were released."));
            lines.push(Line::raw(""));
            lines.push(Line::styled(
                "r  hold the same seats again and retry    Esc  back to the seat map",
                t.highlight,
            ));
        }
    }
    if let Some(e) = &c.error {
        lines.push(Line::styled(format!("! {e}"), t.error));
    }
    let title = match c.step {
        Step::Details => " Customer ",
        _ => " Payment ",
    };
    frame.render_widget(
        Paragraph::new(lines)
            .block(Block::bordered().title(title))
            .wrap(Wrap { trim: false }),
        form,
    );
}

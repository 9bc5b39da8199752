//! Drawing the checkout: the order with its countdown, the payment, the customer's details.

use super::{Checkout, Field, SPINNER, Step, masked_number};
use crate::tui::screens::Method;
use crate::tui::screens::View;
use crate::tui::widgets::{compact, field, safe};
use boxoffice::model::parse_money;
use boxoffice::{CustomerInfo, Money};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Wrap};

impl Checkout {
    pub fn draw(&self, frame: &mut Frame, area: Rect, v: &View) {
        let c = self;
        let t = v.theme;
        // A short terminal gets the order in two lines, so the form keeps its room.
        let short = area.height < 20;
        let [summary, form] = Layout::vertical([
            Constraint::Length(if short { 4 } else { 6 }),
            Constraint::Min(0),
        ])
        .areas(area);
        let countdown = match c.hold_seconds_left(v.now) {
            Some(s) => Span::styled(
                format!("Hold expires in {}:{:02}", s / 60, s % 60),
                if s < 60 { t.error } else { t.highlight },
            ),
            None => Span::styled("Not held: the seats were released", t.dim),
        };
        let total = Money::new(c.total_cents, &c.concert.currency);
        let lines = if short {
            vec![
                Line::styled(
                    safe(&format!(
                        "{} · {} · {}",
                        c.concert.artist,
                        c.concert.at_venue(c.concert.starts_at),
                        c.concert.venue
                    )),
                    t.title,
                ),
                // The total first: it is never cut off.
                Line::from(vec![
                    Span::raw(format!("Total {total} · ")),
                    countdown,
                    Span::raw(format!(" · {}", c.seats.join(" "))),
                ]),
            ]
        } else {
            vec![
                Line::styled(
                    safe(&format!("{} - {}", c.concert.artist, c.concert.title)),
                    t.title,
                ),
                Line::raw(format!(
                    "{} · {}",
                    c.concert.start_at_venue(),
                    safe(&c.concert.venue)
                )),
                Line::raw(format!("Total {total}   Seats {}", c.seats.join(" "))),
                Line::from(countdown),
            ]
        };
        frame.render_widget(
            Paragraph::new(lines).block(Block::bordered().title(" Order ")),
            summary,
        );
        let mut lines: Vec<Line> = Vec::new();
        match &c.step {
            Step::Payment | Step::Paying => {
                let method = Line::from(vec![
                    Span::styled(
                        format!("{:<10}", "Method"),
                        if c.field() == Field::Method {
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
                    Span::raw(" "),
                    Span::styled(
                        " Terminal ",
                        if c.method == Method::Terminal {
                            t.tab_active
                        } else {
                            t.tab
                        },
                    ),
                    Span::styled(
                        if c.field() == Field::Method {
                            "  <- ->"
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
                                Line::styled(
                                    format!("Change due {}", money(v - c.total_cents)),
                                    t.ok,
                                ),
                            ),
                            Ok(v) => (
                                Some(format!("{} short", money(c.total_cents - v))),
                                Line::raw(""),
                            ),
                            Err(why) => (Some(why.to_string()), Line::raw("")),
                        };
                        lines.extend(field(
                            t,
                            "Tendered",
                            &c.tendered,
                            c.field() == Field::Tendered,
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
                            t,
                            "Card",
                            &masked_number(&c.number),
                            c.field() == Field::Number,
                            number_note,
                        ));
                        let exp_note = boxoffice::payment::card::expiry_problem(&c.exp, v.now);
                        lines.extend(field(
                            t,
                            "Expiry",
                            &c.exp,
                            c.field() == Field::Expiry,
                            exp_note.as_deref(),
                        ));
                        let cvc_note = boxoffice::payment::card::cvc_problem(&c.number, &c.cvc);
                        lines.extend(field(
                            t,
                            "CVC",
                            &"*".repeat(c.cvc.len()),
                            c.field() == Field::Cvc,
                            cvc_note.as_deref(),
                        ));
                        // Hints only where there is room: a short form keeps its fields.
                        if !short {
                            lines.push(Line::styled(
                                "Test cards: 4242 4242 4242 4242 approves, 4000 0000 0000 0002 declines",
                                t.dim,
                            ));
                        }
                    }
                    Method::Terminal => {
                        lines.extend(field(
                            t,
                            "Approval",
                            &c.approval,
                            c.field() == Field::Approval,
                            None,
                        ));
                        lines.extend(field(
                            t,
                            "Last 4",
                            &c.last4,
                            c.field() == Field::Last4,
                            None,
                        ));
                        if !short {
                            lines.push(Line::styled(
                                "Key the amount into the counter's terminal; type its slip's approval code",
                                t.dim,
                            ));
                        }
                    }
                }
                lines.push(Line::raw(""));
                if c.offer {
                    lines.push(Line::raw(format!(
                        "For       {} (waiting list)",
                        safe(&customer_line(&c.named))
                    )));
                } else {
                    if !short {
                        lines.push(Line::styled(
                            "Customer: optional; an email or phone gets the confirmation",
                            t.dim,
                        ));
                    }
                    let problems = c.field_problems();
                    for (i, (label, value, f)) in [
                        ("Name", &c.name, Field::Name),
                        ("Email", &c.email, Field::Email),
                        ("Phone", &c.phone, Field::Phone),
                    ]
                    .into_iter()
                    .enumerate()
                    {
                        lines.extend(field(
                            t,
                            label,
                            &safe(value),
                            c.field() == f,
                            problems[i].as_deref(),
                        ));
                    }
                }
                if c.step == Step::Paying {
                    lines.push(Line::raw(""));
                    lines.push(Line::styled(
                        format!(
                            "{} Taking the payment...",
                            SPINNER[v.spinner % SPINNER.len()]
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
        if c.asking.is_some() {
            lines.insert(
                0,
                Line::styled(
                    format!(
                        "Give back the hold on {}?  y release   n keep paying",
                        c.seats.join(" ")
                    ),
                    t.highlight,
                ),
            );
        }
        let title = " Payment ";
        let room = form.height.saturating_sub(2) as usize;
        let lines = compact(lines, room);
        // Still too long: the part with the cursor's field is shown (and the line under it).
        let label = match c.field() {
            Field::Method => "Method",
            Field::Tendered => "Tendered",
            Field::Number => "Card",
            Field::Expiry => "Expiry",
            Field::Cvc => "CVC",
            Field::Approval => "Approval",
            Field::Last4 => "Last 4",
            Field::Name => "Name",
            Field::Email => "Email",
            Field::Phone => "Phone",
        };
        let at = lines.iter().position(|l| {
            l.spans
                .first()
                .is_some_and(|s| s.content.trim_end() == label)
        });
        let lines = match at {
            Some(at) if lines.len() > room && room > 0 => {
                let start = (at + 2).saturating_sub(room).min(lines.len() - room);
                lines.into_iter().skip(start).take(room).collect()
            }
            _ => lines,
        };
        frame.render_widget(
            Paragraph::new(lines)
                .block(Block::bordered().title(title))
                .wrap(Wrap { trim: false }),
            form,
        );
    }
}

/// A customer as one line: name and where the confirmation goes.
pub fn customer_line(c: &CustomerInfo) -> String {
    let reach: Vec<&str> = c
        .email_address()
        .into_iter()
        .chain(c.phone.as_deref())
        .collect();
    match (&c.name, reach.is_empty()) {
        (Some(n), false) => format!("{n} <{}>", reach.join(", ")),
        (Some(n), true) => n.clone(),
        (None, false) => reach.join(", "),
        (None, true) => "a walk-up (no details given)".to_string(),
    }
}

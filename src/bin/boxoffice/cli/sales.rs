//! `hold`, `release`, `pay`, `booking` and `cancel`: a sale from the first seat to the refund.

use super::*;

/// `boxoffice hold`.
#[derive(Debug, clap::Args)]
pub(super) struct HoldArgs {
    pub(super) concert: String,
    /// Seat labels as `seats` prints them, e.g. FLR-C-4
    #[arg(required_unless_present = "best")]
    pub(super) seats: Vec<String>,
    /// The customer's email
    #[arg(long, required_unless_present = "walk_up")]
    pub(super) customer: Option<String>,
    /// A sale at the counter to someone who gives no details (no confirmation is sent;
    /// the ticket limit is the sale's)
    #[arg(long, conflicts_with = "customer")]
    pub(super) walk_up: bool,
    #[arg(long)]
    pub(super) name: Option<String>,
    #[arg(long)]
    pub(super) phone: Option<String>,
    /// Hold the best N available seats instead of naming them
    #[arg(long, value_name = "N", conflicts_with = "seats")]
    pub(super) best: Option<usize>,
    /// With --best: only this seat category (e.g. P)
    #[arg(long, requires = "best")]
    pub(super) category: Option<String>,
    /// With --best: at most this price per seat, in cents
    #[arg(long, value_name = "CENTS", requires = "best")]
    pub(super) max_price: Option<i64>,
    /// With --best: take the best split when no row has N seats together
    #[arg(long, requires = "best")]
    pub(super) allow_split: bool,
    /// The clerk's override: hold even if it leaves a single seat stranded (recorded)
    #[arg(long)]
    pub(super) allow_gap: bool,
    #[arg(long)]
    pub(super) json: bool,
}

/// `boxoffice release`.
#[derive(Debug, clap::Args)]
pub(super) struct ReleaseArgs {
    pub(super) hold: String,
    #[arg(long)]
    pub(super) json: bool,
}

/// `boxoffice pay`.
#[derive(Debug, clap::Args)]
pub(super) struct PayArgs {
    pub(super) hold: String,
    /// Cash tendered, in whole cents (5000 for 50.00)
    #[arg(long, value_name = "CENTS", conflicts_with = "card")]
    pub(super) cash: Option<String>,
    /// `-`: read the card number, then the expiry and the CVC (those not given as flags),
    /// one a line from standard input, or at a prompt that does not echo them. A number
    /// given here is visible to other users of the machine.
    #[arg(long, value_name = "-|NUMBER")]
    pub(super) card: Option<String>,
    /// Card expiry, MM/YY
    #[arg(long, value_name = "MM/YY")]
    pub(super) exp: Option<String>,
    /// Card security code (visible to other users of the machine: prefer --card -)
    #[arg(long, value_name = "CVC")]
    pub(super) cvc: Option<String>,
    /// Paid by card on the counter's own card terminal: the approval code on its slip
    #[arg(long, value_name = "APPROVAL", conflicts_with_all = ["cash", "card"])]
    pub(super) terminal: Option<String>,
    /// With --terminal: the card's brand from the slip (Visa, Mastercard, ...)
    #[arg(long, value_name = "BRAND", requires = "terminal")]
    pub(super) brand: Option<String>,
    /// With --terminal: the card's last four digits from the slip (never more)
    #[arg(long, value_name = "NNNN", requires = "terminal")]
    pub(super) last4: Option<String>,
    #[arg(long)]
    pub(super) json: bool,
}

/// `boxoffice booking`.
#[derive(Debug, clap::Args)]
pub(super) struct BookingArgs {
    pub(super) code: String,
    #[arg(long)]
    pub(super) json: bool,
}

/// `boxoffice cancel`.
#[derive(Debug, clap::Args)]
pub(super) struct CancelArgs {
    pub(super) code: String,
    /// Cancel only these seats (and refund their price); the rest of the booking stays
    #[arg(long, num_args = 1.., value_name = "SEAT")]
    pub(super) seats: Vec<String>,
    #[arg(long)]
    pub(super) json: bool,
}

pub(super) fn hold(cli: &Cli, args: &HoldArgs, out: &mut String) -> Result<(), Failure> {
    let HoldArgs {
        concert,
        seats,
        customer,
        name,
        phone,
        best,
        category,
        max_price,
        allow_split,
        allow_gap,
        json,
        walk_up: _,
    } = args;
    if customer.as_deref().is_some_and(|c| c.trim().is_empty()) {
        return Err(usage(
            "--customer is empty: give the customer's email, or --walk-up for a sale without details",
        ));
    }
    let mut ctx = open_ctx(cli)?;
    let id = ctx.store.resolve_concert(concert)?;
    let who = CustomerInfo {
        email: customer.clone().unwrap_or_default(),
        name: name.clone(),
        phone: phone.clone(),
    };
    let hold = match best {
        Some(n) => ctx.store.hold_best(
            id,
            &BestRequest {
                count: *n,
                category: category.clone(),
                max_price_cents: *max_price,
                allow_split: *allow_split,
            },
            &who,
        )?,
        None if *allow_gap => ctx.store.hold_seats_allowing_gap(id, seats, &who)?,
        None => ctx.store.hold_seats(id, seats, &who)?,
    };
    if hold.gap_override {
        ctx.log.write(&format!(
            "hold {}: single-seat gap allowed by the clerk",
            hold.hold_id
        ));
    }
    show(out, *json, &hold, |out| {
        if let Some(r) = &hold.replaced {
            outln!(
                out,
                "replaced the customer's earlier hold {} ({})",
                r.hold_id,
                r.seats.join(" ")
            );
        }
        outln!(out, "hold {}", hold.hold_id);
        outln!(out, "seats   {}", hold.seats.join(" "));
        outln!(
            out,
            "total   {}",
            Money::new(hold.total_cents, &hold.currency)
        );
        // As the venue's clock shows it, labelled, like every time a clerk reads.
        let expires = match ctx.store.concert(hold.concert_id) {
            Ok(c) => c.at_venue(hold.expires_at),
            Err(_) => hold.expires_at.format("%a %d %b %H:%M UTC").to_string(),
        };
        outln!(
            out,
            "expires {expires} (pay with `boxoffice pay {} --cash CENTS` or `--card -`)",
            hold.hold_id
        );
        Ok(())
    })
}

pub(super) fn release(cli: &Cli, args: &ReleaseArgs, out: &mut String) -> Result<(), Failure> {
    let ReleaseArgs { hold, json } = args;
    let mut ctx = open_ctx(cli)?;
    let store = &mut ctx.store;
    let hold = store.release_hold(hold)?;
    show(out, *json, &hold, |out| {
        outln!(out, "released {} ({})", hold.hold_id, hold.seats.join(" "));
        Ok(())
    })
}

pub(super) fn pay(cli: &Cli, args: &PayArgs, out: &mut String) -> Result<(), Failure> {
    let PayArgs {
        hold,
        cash,
        card,
        exp,
        cvc,
        terminal,
        brand,
        last4,
        json,
    } = args;
    let mut ctx = open_ctx(cli)?;
    let tender = match (cash, card) {
        (None, None) if terminal.is_some() => {
            Tender::Terminal(boxoffice::payment::TerminalSlip::new(
                terminal.as_deref().unwrap_or_default(),
                brand.as_deref(),
                last4.as_deref(),
            )?)
        }
        (Some(cash), None) => Tender::Cash {
            tendered_cents: cash
                .trim()
                .parse()
                .ok()
                .filter(|c: &i64| *c >= 0)
                .ok_or_else(|| {
                    // A card number typed here is never repeated back.
                    let digits = cash.chars().filter(char::is_ascii_digit).count();
                    let got = if digits > 10 || cash.chars().count() > 14 {
                        format!("{} characters", cash.chars().count())
                    } else {
                        format!("`{cash}`")
                    };
                    usage(format!(
                        "--cash takes whole cents, e.g. 5000 for 50.00 (got {got})"
                    ))
                })?,
        },
        (None, Some(card)) => {
            let (number, exp, cvc) = card_details(card, exp.as_deref(), cvc.as_deref())?;
            Tender::Card(Card::parse(&number, &exp, &cvc, ctx.store.now())?)
        }
        _ => {
            return Err(usage(
                "say how the customer pays: --cash CENTS, --card NUMBER --exp MM/YY --cvc CVC, or --terminal APPROVAL (a card on the counter's terminal)",
            ));
        }
    };
    let receipt = match ctx.store.pay(hold, &tender, &ctx.processors) {
        Ok(r) => r,
        Err(Error::Declined {
            reason,
            concert_id,
            seats,
            customer,
        }) => {
            ctx.log.write(&format!("declined: hold {hold}: {reason}"));
            return Err(Failure {
                code: 1,
                message: format!(
                    "payment declined: {reason}. The seats were released; to hold them again:\n  boxoffice hold {concert_id} {} --customer {customer}",
                    seats.join(" ")
                ),
            });
        }
        Err(e) => return Err(e.into()),
    };
    ctx.log.write(&format!(
        "booked {} ({} {} by {})",
        receipt.booking_code, receipt.total_cents, receipt.currency, receipt.method
    ));
    let delivered = ctx.delivered();
    show(out, *json, &receipt, |out| {
        outln!(out, "booked  {}", receipt.booking_code);
        outln!(out, "seats   {}", receipt.seats.join(" "));
        outln!(
            out,
            "total   {}",
            Money::new(receipt.total_cents, &receipt.currency)
        );
        if receipt.method == "cash" {
            outln!(
                out,
                "change  {}",
                Money::new(receipt.change_cents, &receipt.currency)
            );
        }
        for f in delivered.delivered {
            outln!(
                out,
                "{:<7} {} ({})",
                f.channel,
                f.recipient,
                f.path.display()
            );
        }
        Ok(())
    })
}

pub(super) fn booking(cli: &Cli, args: &BookingArgs, out: &mut String) -> Result<(), Failure> {
    let BookingArgs { code, json } = args;
    let ctx = open_ctx(cli)?;
    let store = &ctx.store;
    let b = store.booking(code)?;
    show(out, *json, &b, |out| {
        outln!(out, "booking {} ({})", b.booking_code, b.state);
        outln!(out, "{}", concert_line(&b.concert));
        outln!(
            out,
            "for     {}{}",
            b.customer
                .name
                .as_deref()
                .map(|n| format!("{n} "))
                .unwrap_or_default(),
            b.customer
                .email_address()
                .unwrap_or("a walk-up (no details given)")
        );
        let seats: Vec<&str> = b.seats.iter().map(|s| s.seat.as_str()).collect();
        outln!(out, "seats   {}", seats.join(" "));
        outln!(
            out,
            "total   {} ({})",
            Money::new(b.total_cents, &b.currency),
            b.method
        );
        if b.refunded_cents > 0 {
            outln!(out, "refund  {}", Money::new(b.refunded_cents, &b.currency));
        }
        for t in &b.tickets {
            outln!(out, "ticket  {:<10} {}  {}", t.seat, t.ticket_code, t.state);
        }
        Ok(())
    })
}

pub(super) fn cancel(cli: &Cli, args: &CancelArgs, out: &mut String) -> Result<(), Failure> {
    let CancelArgs { code, seats, json } = args;
    let mut ctx = open_ctx(cli)?;
    let c = if seats.is_empty() {
        ctx.store.cancel_booking(code, &ctx.processors)?
    } else {
        ctx.store.cancel_seats(code, seats, &ctx.processors)?
    };
    ctx.log.write(&format!(
        "cancelled {} (refunded {}, pending {})",
        c.booking_code, c.refunded_cents, c.refund_pending_cents
    ));
    show(out, *json, &c, |out| {
        outln!(
            out,
            "cancelled {} ({} free again)",
            c.booking_code,
            c.seats.join(" ")
        );
        if c.method == "terminal" {
            // The money goes back on the device itself: the clerk does it there.
            outln!(
                out,
                "refund    {} on the counter's card terminal: make the refund there now",
                Money::new(c.refunded_cents, &c.currency)
            );
        } else {
            outln!(
                out,
                "refund    {} ({})",
                Money::new(c.refunded_cents, &c.currency),
                c.method
            );
        }
        if c.refund_pending_cents > 0 {
            outln!(
                out,
                "pending   {} could not be refunded yet; `boxoffice reconcile` retries it",
                Money::new(c.refund_pending_cents, &c.currency)
            );
        }
        Ok(())
    })
}

pub(super) type Secret = zeroize::Zeroizing<String>;

/// The card's number, expiry and CVC for `pay`. With `--card -` whatever the flags do not give
/// comes from standard input, one a line (the number, the expiry, the CVC), or from a prompt
/// that does not echo the number or the CVC when standard input is a terminal: then neither
/// appears in the process's arguments, where other users of the machine can read them.
pub(super) fn card_details(
    card: &str,
    exp: Option<&str>,
    cvc: Option<&str>,
) -> Result<(Secret, String, Secret), Failure> {
    let warn = |what: &str| {
        eprintln!(
            "boxoffice: warning: {what} on the command line is visible to other users of this \
             machine and stays in the shell's history; use --card - to type it"
        )
    };
    if cvc.is_some() {
        warn("a CVC");
    }
    if card != "-" {
        warn("a card number");
        let (Some(exp), Some(cvc)) = (exp, cvc) else {
            return Err(usage(
                "with --card NUMBER give --exp MM/YY and --cvc CVC too (or use --card -)",
            ));
        };
        return Ok((
            Secret::new(card.to_string()),
            exp.to_string(),
            Secret::new(cvc.to_string()),
        ));
    }
    let mut input = CardInput::new();
    let number = input.next("Card number", true)?;
    let exp = match exp {
        Some(e) => e.to_string(),
        None => input.next("Expiry (MM/YY)", false)?.to_string(),
    };
    let cvc = match cvc {
        Some(c) => Secret::new(c.to_string()),
        None => input.next("CVC", true)?,
    };
    Ok((number, exp, cvc))
}

/// Where `--card -` reads from: a prompt on a terminal, otherwise standard input's lines.
pub(super) enum CardInput {
    Prompt,
    Lines(std::vec::IntoIter<Secret>),
}

impl CardInput {
    fn new() -> CardInput {
        if std::io::stdin().is_terminal() {
            return CardInput::Prompt;
        }
        // A card's details are a few dozen characters: read no more than a page.
        let mut text = Secret::new(String::new());
        let _ = std::io::Read::read_to_string(
            &mut std::io::Read::take(std::io::stdin().lock(), 4096),
            &mut text,
        );
        let lines: Vec<Secret> = text
            .lines()
            .map(|l| Secret::new(l.trim().to_string()))
            .filter(|l| !l.is_empty())
            .collect();
        CardInput::Lines(lines.into_iter())
    }

    fn next(&mut self, what: &str, hidden: bool) -> Result<Secret, Failure> {
        match self {
            CardInput::Lines(lines) => lines.next().ok_or_else(|| {
                usage(format!(
                    "--card -: standard input ended before the {} (one a line: number, expiry, CVC)",
                    what.to_lowercase()
                ))
            }),
            CardInput::Prompt if hidden => {
                crate::tui::prompt::read_hidden(&format!("{what} (not shown): ")).map_err(usage)
            }
            CardInput::Prompt => {
                eprint!("{what}: ");
                let mut line = Secret::new(String::new());
                std::io::stdin()
                    .read_line(&mut line)
                    .map_err(|e| usage(format!("cannot read the {what}: {e}")))?;
                Ok(Secret::new(line.trim().to_string()))
            }
        }
    }
}

/// `boxoffice receipt`.
#[derive(Debug, clap::Args)]
pub(super) struct ReceiptArgs {
    /// The booking's code
    pub(super) code: String,
}

pub(super) fn receipt(cli: &Cli, args: &ReceiptArgs, out: &mut String) -> Result<(), Failure> {
    let ctx = open_ctx(cli)?;
    let r = ctx.store.sale_receipt(&args.code)?;
    match &cli.printer {
        Some(printer) => {
            boxoffice::notify::receipt::send_to_printer(printer, &r.escpos(cli.codepage()))?;
            outln!(
                out,
                "receipt and {} ticket(s) sent to {}",
                r.booking.tickets.len(),
                printer.display()
            );
        }
        None => {
            for line in r.lines() {
                outln!(out, "{}", printable(&line));
            }
        }
    }
    Ok(())
}

//! A sale's receipt, for the customer at the counter: the booking code, the seats and their
//! prices, the total, how it was paid (cash tendered and change; card brand and last four
//! digits), the clerk, the terminal and the time. As text (a screen, a file), and as ESC/POS,
//! the command language counter receipt printers speak, followed by each ticket with its QR code
//! (the printer draws it) and a cut.

use crate::error::{Error, Result};
use crate::model::{Booking, Money};
use crate::store::sql::OptionalExtension;
use crate::store::{Store, from_ts};
use chrono::{DateTime, Utc};

/// What a receipt says beyond the booking.
#[derive(Debug, Clone)]
pub struct SaleReceipt {
    /// The booking paid for, as it stands now.
    pub booking: Booking,
    /// The payment's own words: `cash, tendered EUR 100.00` or `visa ending 4242, exp 12/30`.
    pub paid_with: String,
    /// The cash handed over, in cents; `None` for a card.
    pub tendered_cents: Option<i64>,
    /// The change handed back, in cents (0 for a card).
    pub change_cents: i64,
    /// The clerk who sold it; `None` when the sale recorded none.
    pub clerk: Option<String>,
    /// The terminal it was sold at; `None` when the sale recorded none.
    pub terminal: Option<String>,
    /// When the payment was captured (UTC).
    pub paid_at: DateTime<Utc>,
    /// What was charged, in cents (the booking's total before any seat was cancelled).
    pub charged_cents: i64,
    /// The refunds made of it: when (UTC), how much (cents), and how (the processor).
    pub refunds: Vec<(DateTime<Utc>, i64, String)>,
}

impl Store {
    /// The receipt of booking `code`.
    pub fn sale_receipt(&self, code: &str) -> Result<SaleReceipt> {
        let booking = self.booking(code)?;
        type Paid = (
            Option<String>,
            Option<i64>,
            Option<i64>,
            i64,
            Option<String>,
            Option<String>,
            i64,
        );
        let row: Option<Paid> = self
            .conn()
            .query_row(
                "SELECT p.detail, p.tendered_cents, p.change_cents, p.updated_at, b.clerk, b.terminal,
                        p.amount_cents
                 FROM bookings b JOIN payments p ON p.booking_id = b.id AND p.kind = 'charge' AND p.state = 'captured'
                 WHERE b.code = ?1 ORDER BY p.id LIMIT 1",
                [&booking.booking_code],
                |r| {
                    Ok((
                        r.get(0)?,
                        r.get(1)?,
                        r.get(2)?,
                        r.get(3)?,
                        r.get(4)?,
                        r.get(5)?,
                        r.get(6)?,
                    ))
                },
            )
            .optional()?;
        let Some((detail, tendered, change, at, clerk, terminal, charged)) = row else {
            return Err(Error::invalid(format!(
                "booking {} has no payment to print a receipt for",
                booking.booking_code
            )));
        };
        let refunds = self
            .conn()
            .prepare_cached(
                "SELECT p.updated_at, p.amount_cents, p.processor FROM payments p
                 JOIN bookings b ON b.id = p.booking_id
                 WHERE b.code = ?1 AND p.kind = 'refund' AND p.state = 'captured' ORDER BY p.id",
            )?
            .query_map([&booking.booking_code], |r| {
                Ok((from_ts(r.get(0)?), r.get::<i64>(1)?, r.get::<String>(2)?))
            })?
            .collect::<crate::store::sql::Result<Vec<_>>>()?;
        Ok(SaleReceipt {
            paid_with: detail.unwrap_or_else(|| booking.method.clone()),
            tendered_cents: tendered,
            change_cents: change.unwrap_or(0),
            clerk,
            terminal,
            paid_at: from_ts(at),
            charged_cents: charged,
            refunds,
            booking,
        })
    }
}

impl SaleReceipt {
    /// The receipt as lines of text (no wider than 42 columns: a receipt roll's width).
    pub fn lines(&self) -> Vec<String> {
        let b = &self.booking;
        let money = |c: i64| Money::new(c, &b.currency).to_string();
        let when = crate::notify::at_venue(b.concert.starts_at, &b.concert.timezone).short;
        let mut out = Vec::new();
        if b.state == crate::BookingState::Cancelled {
            out.push("CANCELLED: no ticket of it admits".to_string());
        }
        out.extend([
            format!("Booking {}", b.booking_code),
            b.concert.artist.clone(),
            b.concert.title.clone(),
            format!("{}, {}", b.concert.venue, b.concert.city),
            when,
            String::new(),
        ]);
        let cancelled = b.state == crate::BookingState::Cancelled;
        for s in &b.seats {
            let seat = match cancelled {
                true => format!("{} {} (cancelled)", s.seat, s.category_name),
                false => format!("{} {}", s.seat, s.category_name),
            };
            out.push(pad(&seat, &money(s.price_cents)));
        }
        // Seats cancelled out of the booking: their tickets are void.
        for t in b.tickets.iter().filter(|t| {
            t.state == crate::TicketState::Cancelled && !b.seats.iter().any(|s| s.seat == t.seat)
        }) {
            out.push(format!("{} (cancelled)", t.seat));
        }
        out.push(pad("Total", &money(self.charged_cents)));
        match self.tendered_cents {
            // Cash: the amounts follow on their own lines.
            Some(_) => out.push(format!("Paid: {}", b.method)),
            None => out.push(format!("Paid: {}", self.paid_with)),
        }
        if let Some(t) = self.tendered_cents {
            out.push(pad("Tendered", &money(t)));
            out.push(pad("Change", &money(self.change_cents)));
        }
        // What went back, and what stays paid.
        for (at, cents, how) in &self.refunds {
            let day = crate::model::venue_clock(*at, &b.concert.timezone);
            out.push(pad(&format!("Refunded by {how}"), &money(-cents)));
            out.push(format!("  {day}"));
        }
        if !self.refunds.is_empty() {
            let refunded: i64 = self.refunds.iter().map(|r| r.1).sum();
            out.push(pad("Balance", &money(self.charged_cents - refunded)));
        }
        out.push(String::new());
        out.push(format!(
            "Clerk {}  Terminal {}",
            self.clerk.as_deref().unwrap_or("-"),
            self.terminal.as_deref().unwrap_or("-")
        ));
        // The venue's clock, labelled, as every time a customer reads.
        out.push(crate::model::venue_clock(self.paid_at, &b.concert.timezone));
        out
    }

    /// The receipt, then each ticket with its QR code, as ESC/POS for a receipt printer that
    /// speaks `page`.
    pub fn escpos(&self, page: super::codepage::CodePage) -> Vec<u8> {
        let mut p = EscPos::new(page);
        p.center(true)
            .bold(true)
            .text("RECEIPT")
            .bold(false)
            .center(false);
        for line in self.lines() {
            p.text(&line);
        }
        p.cut();
        // Only tickets that admit: a cancelled seat's is no ticket to hand over.
        for t in self
            .booking
            .tickets
            .iter()
            .filter(|t| t.state != crate::TicketState::Cancelled)
        {
            p.center(true)
                .bold(true)
                .text(&self.booking.concert.artist)
                .bold(false);
            p.text(
                &crate::notify::at_venue(
                    self.booking.concert.starts_at,
                    &self.booking.concert.timezone,
                )
                .short,
            );
            p.double(true)
                .text(&format!("Seat {}", t.seat))
                .double(false);
            p.qr(&t.ticket_code).text(&t.ticket_code);
            p.text(&format!("Booking {}", self.booking.booking_code));
            p.center(false).cut();
        }
        p.finish()
    }
}

/// Sends ESC/POS bytes to a receipt printer: a device (`/dev/usb/lp0`) or a file, appended to,
/// never truncated (a printer's device node is written, not replaced); a file it creates is
/// the owner's only, and a symbolic link in the printer's place is refused.
pub fn send_to_printer(path: &std::path::Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let mut f = crate::files::open_append_private(path).map_err(|e| {
        let why = if e.raw_os_error() == Some(libc_eloop()) {
            format!(
                "cannot open the printer {}: it is a symbolic link (name the device itself)",
                path.display()
            )
        } else {
            format!("cannot open the printer {}", path.display())
        };
        Error::io(why, e)
    })?;
    f.write_all(bytes)
        .and_then(|_| f.flush())
        .map_err(|e| Error::io(format!("cannot print to {}", path.display()), e))
}

/// The error a symbolic link refused by `O_NOFOLLOW` gives.
fn libc_eloop() -> i32 {
    #[cfg(unix)]
    return libc::ELOOP;
    #[cfg(not(unix))]
    return -1;
}

/// `left` and `right` on one 42-column line.
fn pad(left: &str, right: &str) -> String {
    let room = 42usize.saturating_sub(right.chars().count() + 1);
    let left: String = left.chars().take(room).collect();
    format!("{left:<room$} {right}")
}

/// A small ESC/POS writer: the commands every counter printer knows (Epson's set).
struct EscPos {
    out: Vec<u8>,
    page: super::codepage::CodePage,
}

impl EscPos {
    fn new(page: super::codepage::CodePage) -> EscPos {
        // ESC @: reset the printer to its defaults; ESC t: the code page the text is in.
        EscPos {
            out: vec![0x1b, b'@', 0x1b, b't', page.esc_t()],
            page,
        }
    }

    /// A line of text, in the printer's code page: each letter the page has as itself, the
    /// others as their closest ASCII (`Ż` as `Z`).
    fn text(&mut self, line: &str) -> &mut Self {
        self.out.extend(self.page.encode(line));
        self.out.push(b'\n');
        self
    }

    fn bold(&mut self, on: bool) -> &mut Self {
        self.out.extend([0x1b, b'E', on as u8]);
        self
    }

    fn center(&mut self, on: bool) -> &mut Self {
        self.out.extend([0x1b, b'a', on as u8]);
        self
    }

    /// Double width and height.
    fn double(&mut self, on: bool) -> &mut Self {
        self.out.extend([0x1d, b'!', if on { 0x11 } else { 0x00 }]);
        self
    }

    /// A QR code of `data`, drawn by the printer (GS ( k: model 2, 6-dot modules, level M).
    fn qr(&mut self, data: &str) -> &mut Self {
        let gs_k = |out: &mut Vec<u8>, body: &[u8]| {
            let n = body.len() as u16;
            out.extend([0x1d, b'(', b'k', (n & 0xff) as u8, (n >> 8) as u8]);
            out.extend(body);
        };
        gs_k(&mut self.out, &[b'1', b'A', b'2', 0]);
        gs_k(&mut self.out, &[b'1', b'C', 6]);
        gs_k(&mut self.out, b"1E1");
        let mut store = vec![b'1', b'P', b'0'];
        store.extend(data.bytes().filter(u8::is_ascii_graphic));
        gs_k(&mut self.out, &store);
        gs_k(&mut self.out, b"1Q0");
        self
    }

    /// Feeds past the tear bar and cuts (GS V 66: feed, then a partial cut).
    fn cut(&mut self) -> &mut Self {
        self.out.extend([0x1d, b'V', 66, 3]);
        self
    }

    fn finish(self) -> Vec<u8> {
        self.out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_writer_speaks_esc_pos() {
        let mut p = EscPos::new(super::super::codepage::CodePage::Pc858);
        p.bold(true).text("Bühne €").bold(false).qr("ABC123").cut();
        let out = p.finish();
        assert_eq!(
            &out[..5],
            b"\x1b@\x1bt\x13",
            "reset, then code page 19 (PC858)"
        );
        assert!(
            out.windows(4).any(|w| w == b"\x1bE\x01B"),
            "bold, then the text"
        );
        assert!(
            out.windows(7).any(|w| w == b"B\x81hne \xd5"),
            "in PC858: ü, €"
        );
        // The QR code's data is stored with its length (3 + 6 bytes) and printed.
        assert!(out.windows(14).any(|w| w == b"\x1d(k\x09\x001P0ABC123"));
        assert!(out.windows(8).any(|w| w == b"\x1d(k\x03\x001Q0"));
        assert_eq!(&out[out.len() - 4..], b"\x1dVB\x03", "a cut last");
    }

    #[test]
    fn a_line_keeps_its_price_on_a_roll_of_42_columns() {
        let line = pad(
            "FLR-A-12 Premium with a very long category name",
            "EUR 35.00",
        );
        assert_eq!(line.chars().count(), 42);
        assert!(line.ends_with(" EUR 35.00"));
    }
}

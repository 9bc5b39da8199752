//! The door: a ticket gets its holder in once. A check-in is one short write transaction that
//! changes the ticket only if it is still valid, so of several doors scanning the same ticket
//! at once exactly one admits it; the others are told when and where it was used.

use super::*;
use crate::states::TicketState;
use serde::Serialize;

/// Whether the holder goes in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Entry {
    /// The holder goes in (for an undo: the check-in was undone).
    Admitted,
    /// The holder does not go in; the reason says why.
    Refused,
}

/// Why a ticket was refused at the door.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Refusal {
    /// The ticket was used already; the check-in says when and through which door.
    #[serde(rename = "already checked in")]
    AlreadyCheckedIn,
    /// The ticket's booking or seat was cancelled.
    #[serde(rename = "cancelled")]
    Cancelled,
    /// The ticket is for another concert than the door is scanning for.
    #[serde(rename = "wrong concert")]
    WrongConcert,
    /// No ticket has this code.
    #[serde(rename = "not a ticket")]
    NotATicket,
    /// The concert's doors are not open yet.
    #[serde(rename = "too early")]
    TooEarly,
    /// An undo of a ticket that was not checked in.
    #[serde(rename = "not checked in")]
    NotCheckedIn,
    /// An undo of a ticket that is not the last one admitted at this door (another door's, or
    /// an earlier one): undo is for the scan just made.
    #[serde(rename = "not the last admission here")]
    NotLastHere,
    /// An undo of an admission older than [`UNDO_WITHIN`].
    #[serde(rename = "too late to undo")]
    TooLateToUndo,
}

/// How long after an admission the door may still undo it.
pub const UNDO_WITHIN: Duration = Duration::minutes(5);

impl Refusal {
    /// The reason as the door says it (`already checked in`), as in JSON.
    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::AlreadyCheckedIn => "already checked in",
            Refusal::Cancelled => "cancelled",
            Refusal::WrongConcert => "wrong concert",
            Refusal::NotATicket => "not a ticket",
            Refusal::TooEarly => "too early",
            Refusal::NotCheckedIn => "not checked in",
            Refusal::NotLastHere => "not the last admission here",
            Refusal::TooLateToUndo => "too late to undo",
        }
    }
}

/// What the door shows after a scan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CheckIn {
    /// Whether the holder goes in.
    pub result: Entry,
    /// Why not, when refused; `None` when admitted.
    pub reason: Option<Refusal>,
    /// The code as scanned (upper case, trimmed).
    pub ticket: String,
    /// The ticket's seat label (`A-1-1`); `None` when the code is not a ticket.
    pub seat: Option<String>,
    /// The concert the ticket is for; `None` when the code is not a ticket.
    pub concert_id: Option<i64>,
    /// The holder's name, when the booking has one.
    pub name: Option<String>,
    /// Admitted: now. Already checked in: when it was.
    pub checked_in_at: Option<DateTime<Utc>>,
    /// Admitted: this door. Already checked in: the door it went through.
    pub door: Option<String>,
    /// Too early: when the doors open.
    pub doors_open_at: Option<DateTime<Utc>>,
    /// The venue's time zone, for the times said ([`CheckIn::why`]).
    #[serde(skip)]
    pub timezone: Option<String>,
}

impl CheckIn {
    /// The seat and the holder's name, as the door reads them: `A-1-1, Ann Lee`.
    pub fn holder(&self) -> String {
        [self.seat.as_deref(), self.name.as_deref()]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Why the ticket was refused, in a steward's words, with times as the venue's clock
    /// shows them, labelled: `already checked in at 19:42 CET through north (A-1-1, Ann Lee)`.
    pub fn why(&self) -> String {
        let zone: chrono_tz::Tz = self
            .timezone
            .as_deref()
            .and_then(|z| z.parse().ok())
            .unwrap_or(chrono_tz::UTC);
        let at = |t: Option<DateTime<Utc>>| {
            t.map(|t| t.with_timezone(&zone).format("%H:%M %Z").to_string())
                .unwrap_or_default()
        };
        match self.reason {
            Some(Refusal::AlreadyCheckedIn) => format!(
                "already checked in at {}{} ({})",
                at(self.checked_in_at),
                self.door
                    .as_deref()
                    .map(|d| format!(" through {d}"))
                    .unwrap_or_default(),
                self.holder()
            ),
            Some(Refusal::TooEarly) => {
                format!("too early: doors open at {}", at(self.doors_open_at))
            }
            Some(r) => r.as_str().to_string(),
            None => "refused".to_string(),
        }
    }
}

/// The longest code a scanner may send; anything longer is not a scan.
const MAX_SCAN: usize = 64;

impl Store {
    /// Admits the ticket `code` at `door` once, or says why not: already used (when, where),
    /// void, for another concert than `concert` (when given), not a ticket at all, or before
    /// the concert's doors open. Input that cannot be a scan (empty, control characters, too
    /// long) is an error and changes nothing.
    pub fn check_in(
        &mut self,
        code: &str,
        door: Option<&str>,
        concert: Option<i64>,
    ) -> Result<CheckIn> {
        let code = scanned(code)?;
        let door = door.map(str::trim).filter(|d| !d.is_empty());
        if let Some(d) = door {
            crate::text::check_line("the door's name", d).map_err(Error::invalid)?;
        }
        // Durable before the door says ADMITTED, as a payment is: a power cut right after
        // must not forget the ticket was used.
        let scan = self.write_durable(|tx, now| {
            let Some(t) = door_ticket(tx, &code)? else {
                return Ok(refused(&code, Refusal::NotATicket));
            };
            let mut out = CheckIn {
                result: Entry::Refused,
                reason: None,
                ticket: code.clone(),
                seat: Some(t.seat.clone()),
                concert_id: Some(t.concert_id),
                name: t.name.clone(),
                checked_in_at: t.checked_in_at.map(from_ts),
                door: t.door.clone(),
                doors_open_at: None,
                timezone: Some(t.timezone.clone()),
            };
            if concert.is_some_and(|c| c != t.concert_id) {
                out.reason = Some(Refusal::WrongConcert);
                return Ok(out);
            }
            match t.state {
                TicketState::Cancelled => {
                    out.reason = Some(Refusal::Cancelled);
                    return Ok(out);
                }
                TicketState::CheckedIn => {
                    out.reason = Some(Refusal::AlreadyCheckedIn);
                    return Ok(out);
                }
                TicketState::Valid => {}
            }
            let (starts_at, doors_minutes): (i64, i64) = tx
                .prepare_cached("SELECT starts_at, doors_minutes FROM concerts WHERE id = ?1")?
                .query_row([t.concert_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
            let opens = from_ts(starts_at - doors_minutes * 60);
            if now < opens {
                out.reason = Some(Refusal::TooEarly);
                out.doors_open_at = Some(opens);
                return Ok(out);
            }
            if !mark_checked_in(tx, &code, door, now)? {
                // Unreachable under the write lock; the conditional update is the backstop.
                out.reason = Some(Refusal::AlreadyCheckedIn);
                return Ok(out);
            }
            out.result = Entry::Admitted;
            out.checked_in_at = Some(now);
            out.door = door.map(str::to_string);
            Ok(out)
        })?;
        if scan.result == Entry::Admitted {
            crate::failpoint::hit("door:after-admit");
        }
        Ok(scan)
    }

    /// A door steward's undo of a mistaken scan: the ticket is valid again. Only the last
    /// admission at this `door` (for `concert`, when given) can be undone, and only within
    /// [`UNDO_WITHIN`] of it; anything else is refused and changes nothing (an undo is no way to
    /// let a used ticket in again).
    pub fn undo_check_in(
        &mut self,
        code: &str,
        door: Option<&str>,
        concert: Option<i64>,
    ) -> Result<CheckIn> {
        let code = scanned(code)?;
        let door = door.map(str::trim).filter(|d| !d.is_empty());
        self.write(|tx, now| {
            let Some(t) = door_ticket(tx, &code)? else {
                return Ok(refused(&code, Refusal::NotATicket));
            };
            let reason = if concert.is_some_and(|c| c != t.concert_id) {
                Some(Refusal::WrongConcert)
            } else if t.state != TicketState::CheckedIn {
                Some(Refusal::NotCheckedIn)
            } else if t.door.as_deref() != door
                || !last_admission_at(tx, t.concert_id, door, &code)?
            {
                Some(Refusal::NotLastHere)
            } else if t.checked_in_at.is_none_or(|at| at < ts(now - UNDO_WITHIN)) {
                Some(Refusal::TooLateToUndo)
            } else {
                None
            };
            let undone = reason.is_none() && undo_check_in(tx, &code)?;
            if undone {
                // On the record: which ticket, where, who, when, and when it had gone in.
                let who = tx.operator();
                tx.prepare_cached(
                    "INSERT INTO door_undos (ticket, door, clerk, terminal, checked_in_at, undone_at)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                )?
                .execute(params![
                    code,
                    door,
                    who.clerk,
                    who.terminal,
                    t.checked_in_at.unwrap_or_default(),
                    ts(now)
                ])?;
            }
            Ok(CheckIn {
                result: if undone {
                    Entry::Admitted
                } else {
                    Entry::Refused
                },
                reason: if undone {
                    None
                } else {
                    Some(reason.unwrap_or(Refusal::NotCheckedIn))
                },
                ticket: code.clone(),
                seat: Some(t.seat),
                concert_id: Some(t.concert_id),
                name: t.name,
                checked_in_at: None,
                door: None,
                doors_open_at: None,
                timezone: Some(t.timezone),
            })
        })
    }

    /// How many tickets of a concert are valid or used, and how many are used: the door's
    /// "admitted / expected".
    pub fn door_counts(&self, concert_id: i64) -> Result<(i64, i64)> {
        Ok(self.conn().prepare_cached(
            "SELECT count(*) FILTER (WHERE state = 'checked_in'), count(*) FILTER (WHERE state != 'cancelled')
             FROM tickets WHERE concert_id = ?1",
        )?
        .query_row([concert_id], |r| Ok((r.get(0)?, r.get(1)?)))?)
    }
}

/// A scan as the door reads it: trimmed, in upper case. Not a scan: empty, control characters
/// or spaces inside, or longer than any code.
fn scanned(code: &str) -> Result<String> {
    let code = code.trim();
    if code.is_empty() {
        return Err(Error::invalid("scan a ticket's code (nothing was scanned)"));
    }
    if code.chars().count() > MAX_SCAN || code.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(Error::invalid(
            "that is not a ticket's code: one word of letters and digits",
        ));
    }
    Ok(code.to_uppercase())
}

/// Whether `code` is the ticket admitted last at `door` for the concert.
fn last_admission_at(
    tx: &crate::store::Db,
    concert_id: i64,
    door: Option<&str>,
    code: &str,
) -> Result<bool> {
    let last: Option<String> = tx
        .prepare_cached(
            "SELECT code FROM tickets WHERE concert_id = ?1 AND state = 'checked_in'
               AND coalesce(door, '') = coalesce(?2, '')
             ORDER BY checked_in_at DESC, code DESC LIMIT 1",
        )?
        .query_row(params![concert_id, door], |r| r.get(0))
        .optional()?;
    Ok(last.as_deref() == Some(code))
}

fn refused(code: &str, reason: Refusal) -> CheckIn {
    CheckIn {
        result: Entry::Refused,
        reason: Some(reason),
        ticket: code.to_string(),
        seat: None,
        concert_id: None,
        name: None,
        checked_in_at: None,
        door: None,
        doors_open_at: None,
        timezone: None,
    }
}

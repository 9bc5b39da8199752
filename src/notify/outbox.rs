//! The outbox: notices queued in the transaction of the change they report (`notify::queue`)
//! leave after its commit. Each due row is leased (where another terminal could send it too),
//! delivered where it goes (a file in the spool, the mail relay, the SMS gateway), and
//! recorded: delivered, tried again later with backoff, or failed with the server's words.
//! [`Store::outbox_status`] says what is waiting and where the rest went.

use super::email::{ascii_address, render_email};
use super::message::Message;
use super::spool::Spool;
use crate::error::Result;
use crate::params;
use crate::store::{Store, from_ts, ts};
use chrono::{DateTime, Duration, Utc};
use lettre::message::Mailbox;
use serde::Serialize;
use std::path::{Path, PathBuf};

/// After this many failed attempts a message is marked failed (`spool flush` retries it).
pub const MAX_ATTEMPTS: i64 = 6;

/// How long a terminal sending a message keeps others from sending the same one: longer than
/// a relay's time-out, so a message is sent twice only when its sender died after sending and
/// before recording it (then once more, with the same `Message-ID`).
const SEND_LEASE_SECS: i64 = 60;

/// A message that was delivered, and where to.
#[derive(Debug, Clone, Serialize)]
pub struct DeliveredFile {
    /// `email` or `sms`.
    pub channel: String,
    /// The email address or phone number it went to.
    pub recipient: String,
    /// The file written in the spool; for a relay or gateway, the server and its answer.
    pub path: PathBuf,
}

/// What one round of delivering did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SpoolReport {
    /// The messages delivered, in the order they left.
    pub delivered: Vec<DeliveredFile>,
    /// Rows that failed this time (they stay pending until their attempts run out).
    pub errors: Vec<String>,
}

/// One outbox message not delivered yet, as [`Store::outbox_status`] lists it.
#[derive(Debug, Clone, Serialize)]
pub struct OutboxRow {
    /// The message's number in the outbox.
    pub id: i64,
    /// What it tells the customer.
    pub kind: crate::states::NoticeKind,
    /// `email` or `sms`.
    pub channel: String,
    /// The email address or phone number it goes to.
    pub recipient: String,
    /// `pending` (to be tried again) or `failed` (out of attempts, or refused for good).
    pub state: String,
    /// How many times sending it failed.
    pub attempts: i64,
    /// When it is due to be tried next (UTC).
    pub next_attempt_at: DateTime<Utc>,
    /// Why the last attempt failed, in the server's or the system's words; `None` before one did.
    pub last_error: Option<String>,
    /// Where it was delivered; `None` until it is.
    pub file: Option<String>,
}

/// What the outbox holds: how many messages wait, failed or left, and where to.
#[derive(Debug, Clone, Default, Serialize)]
pub struct OutboxStatus {
    /// Messages waiting to be sent (or sent again).
    pub pending: i64,
    /// Messages that ran out of attempts or were refused for good (`spool flush` retries them).
    pub failed: i64,
    /// Messages delivered: files still in the spool, and those sent through a relay or gateway.
    pub delivered: i64,
    /// Every row not yet delivered.
    pub waiting: Vec<OutboxRow>,
    /// Delivered rows whose file is no longer in the spool (moved or deleted since): not
    /// counted as delivered.
    pub missing: i64,
    /// Delivered messages by where they went: `spool` (files), `smtp` (the mail relay),
    /// `sms-gateway`.
    pub by_route: Vec<RouteCount>,
}

/// How many messages left by one route.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RouteCount {
    /// The route: `spool` (files), `smtp` (the mail relay) or `sms-gateway`.
    pub via: String,
    /// How many messages were delivered by it.
    pub delivered: i64,
}

/// What became of one message.
enum Outcome {
    /// Delivered: `via` spool, smtp or sms-gateway; `to` the file, or the server and its answer.
    Done { via: &'static str, to: String },
    /// Refused for good (the server's words): marked failed at once.
    Refused(String),
    /// Not now: retried with backoff.
    Later(String),
}

/// Whether the row leaves through a relay or gateway (not into a file).
fn sends_away(spool: &Spool, row: &Message) -> bool {
    match row.channel.as_str() {
        "email" => spool.relay().is_some(),
        _ => spool.sms_gateway().is_some(),
    }
}

/// Sends one row where it goes: the relay or gateway if one is configured for its
/// channel, else a file in the spool.
fn deliver(spool: &Spool, row: &Message) -> Outcome {
    use super::relay::Sent;
    let sent = match (row.channel.as_str(), spool.relay(), spool.sms_gateway()) {
        ("email", Some(relay), _) => {
            let message = match render_email(row, spool.from()) {
                Ok(m) => m,
                Err(e) => return Outcome::Refused(e),
            };
            let from = spool
                .from()
                .parse::<Mailbox>()
                .map(|m| m.email.to_string())
                .unwrap_or_default();
            (
                relay.send(&from, &ascii_address(&row.recipient), &message),
                "smtp",
            )
        }
        ("sms", _, Some(gateway)) => (
            gateway.send(&row.recipient, &row.body, &row.reference()),
            "sms-gateway",
        ),
        _ => {
            return match spool.write(row) {
                Ok(path) => Outcome::Done {
                    via: "spool",
                    to: path.to_string_lossy().to_string(),
                },
                Err(e) => {
                    Outcome::Later(format!("cannot write to {}: {e}", spool.root().display()))
                }
            };
        }
    };
    match sent {
        (Sent::Accepted(to), via) => Outcome::Done { via, to },
        (Sent::Refused(why), _) => Outcome::Refused(why),
        (Sent::Later(why), _) => Outcome::Later(why),
    }
}

/// Which messages a delivery takes: the ones written into files here (which never wait on
/// anyone), the ones that leave through the mail relay or the SMS gateway (which may wait on a
/// slow server: a sender of their own takes those, `chores::Sender`), or all.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Routes {
    /// Files in the spool: after each commit, at start-up, in the sweep.
    Files,
    /// The mail relay and the SMS gateway: the sender's thread, `spool send`.
    Away,
    /// Everything: `spool flush`.
    All,
}

impl Routes {
    fn takes(self, sends_away: bool) -> bool {
        match self {
            Routes::Files => !sends_away,
            Routes::Away => sends_away,
            Routes::All => true,
        }
    }
}

fn backoff(attempts: i64) -> Duration {
    Duration::seconds(30 * (1 << (attempts.clamp(1, 8) - 1)))
}

impl Store {
    /// Delivers every due outbox row where it goes (with `include_failed`, also rows that ran
    /// out of attempts, and pending rows not yet due): into the spool's files, or through the
    /// mail relay and the SMS gateway. Never fails because the spool or a server does: each
    /// row that cannot be delivered is rescheduled and the reason kept.
    pub fn deliver_outbox(&mut self, spool: &Spool, include_failed: bool) -> Result<SpoolReport> {
        self.deliver_routes(spool, include_failed, Routes::All)
    }

    /// [`Store::deliver_outbox`] for the rows that take `routes` only.
    pub fn deliver_routes(
        &mut self,
        spool: &Spool,
        include_failed: bool,
        routes: Routes,
    ) -> Result<SpoolReport> {
        let now = self.now();
        let box_office: std::rc::Rc<str> = self
            .conn()
            .query_row("SELECT id FROM box_office", (), |r| r.get::<String>(0))?
            .into();
        let rows: Vec<Message> = {
            let mut st = self.conn().prepare(
                "SELECT o.id, o.channel, o.recipient, cu.name, o.subject, o.body, o.calendar, o.booking_code, o.created_at, o.attempts,
                        o.kind
                 FROM outbox o LEFT JOIN customers cu ON cu.id = o.customer_id
                 WHERE (o.state = 'pending' AND (o.next_attempt_at <= ?1 OR ?2))
                    OR (o.state = 'failed' AND ?2)
                 ORDER BY o.id",
            )?;
            st.query_map(params![ts(now), include_failed], |r| {
                Ok(Message {
                    id: r.get(0)?,
                    channel: r.get(1)?,
                    recipient: r.get(2)?,
                    name: r.get(3)?,
                    subject: r.get(4)?,
                    body: r.get(5)?,
                    calendar: r.get(6)?,
                    booking_code: r.get(7)?,
                    created_at: r.get(8)?,
                    attempts: r.get(9)?,
                    box_office: box_office.clone(),
                    // Filled below for an email confirming a booking.
                    tickets_pdf: (r.get::<crate::states::NoticeKind>(10)?
                        == crate::states::NoticeKind::Confirmation
                        && r.get::<String>(1)? == "email")
                        .then(Vec::new),
                })
            })?
            .collect::<crate::store::sql::Result<_>>()?
        };
        let mut rows = rows;
        rows.retain(|row| routes.takes(sends_away(spool, row)));
        // A confirmation carries the tickets: rendered as the message is, from the booking as
        // it is now (a ticket voided since says so).
        for row in &mut rows {
            if row.tickets_pdf.is_some() {
                row.tickets_pdf = row
                    .booking_code
                    .as_deref()
                    .and_then(|c| self.tickets_pdf(c).ok());
            }
        }
        let mut report = SpoolReport::default();
        for row in rows {
            // Taken for the time it takes to send: another terminal delivering at the same
            // moment leaves it alone. (A file in the spool of a box office on one machine needs
            // no lease: it is linked into place under its one name, and a second writer finds
            // it there. Machines sharing a PostgreSQL box office each have their own spool:
            // there the lease is what makes one machine deliver it.)
            let shared = self.kind() == crate::store::Kind::Postgres;
            let taken = if !sends_away(spool, &row) && !shared {
                1
            } else {
                self.write(|tx, now| {
                    Ok(tx
                    .prepare_cached(
                        "UPDATE outbox SET lease_until = ?2 WHERE id = ?1 AND state != 'delivered'
                         AND (lease_until IS NULL OR lease_until <= ?3)",
                    )?
                    .execute(params![row.id, ts(now) + SEND_LEASE_SECS, ts(now)])?)
                })?
            };
            if taken == 0 {
                continue;
            }
            let outcome = deliver(spool, &row);
            crate::failpoint::hit("relay:after-send");
            match outcome {
                Outcome::Done { via, to } => {
                    self.write(|tx, _| {
                        tx.execute(
                            "UPDATE outbox SET state = 'delivered', delivered_at = ?2, file = ?3, via = ?4,
                                 last_error = NULL, lease_until = NULL WHERE id = ?1",
                            params![row.id, ts(now), to, via],
                        )?;
                        Ok(())
                    })?;
                    report.delivered.push(DeliveredFile {
                        channel: row.channel.clone(),
                        recipient: row.recipient.clone(),
                        path: PathBuf::from(to),
                    });
                }
                Outcome::Refused(why) => {
                    self.write(|tx, _| {
                        tx.execute(
                            "UPDATE outbox SET attempts = attempts + 1, state = 'failed', last_error = ?2,
                                 lease_until = NULL WHERE id = ?1",
                            params![row.id, why],
                        )?;
                        Ok(())
                    })?;
                    report.errors.push(why);
                }
                Outcome::Later(why) => {
                    let attempts = row.attempts + 1;
                    let state = if attempts >= MAX_ATTEMPTS {
                        "failed"
                    } else {
                        "pending"
                    };
                    self.write(|tx, _| {
                        tx.execute(
                            "UPDATE outbox SET attempts = ?2, state = ?3, next_attempt_at = ?4, last_error = ?5,
                                 lease_until = NULL WHERE id = ?1",
                            params![row.id, attempts, state, ts(now + backoff(attempts)), why],
                        )?;
                        Ok(())
                    })?;
                    report.errors.push(why);
                }
            }
        }
        Ok(report)
    }

    /// What is waiting in the outbox, what failed, and where delivered messages went.
    pub fn outbox_status(&self) -> Result<OutboxStatus> {
        let mut status = OutboxStatus::default();
        let mut st = self.conn().prepare(
            "SELECT state, count(*) FROM outbox WHERE state != 'delivered' GROUP BY state",
        )?;
        for row in st.query_map((), |r| Ok((r.get::<String>(0)?, r.get::<i64>(1)?)))? {
            let (state, n) = row?;
            match state.as_str() {
                "pending" => status.pending = n,
                _ => status.failed += n,
            }
        }
        // Delivered is what is really on disk: each directory listed once, a message a mail
        // client moved to `cur/` (with flags after its name) included.
        let files: Vec<Option<String>> = self
            .conn()
            .prepare(
                "SELECT file FROM outbox WHERE state = 'delivered' AND coalesce(via, 'spool') = 'spool'",
            )?
            .query_map((), |r| r.get(0))?
            .collect::<crate::store::sql::Result<_>>()?;
        let mut listed: std::collections::HashMap<PathBuf, std::collections::HashSet<String>> =
            Default::default();
        for dir in files.iter().flatten().filter_map(|f| Path::new(f).parent()) {
            for dir in [dir.to_path_buf(), dir.with_file_name("cur")] {
                listed.entry(dir).or_insert_with_key(|dir| {
                    std::fs::read_dir(dir)
                        .map(|entries| {
                            entries
                                .flatten()
                                .map(|e| {
                                    let name = e.file_name().to_string_lossy().to_string();
                                    match name.split_once(":2,") {
                                        Some((base, _)) => base.to_string(),
                                        None => name,
                                    }
                                })
                                .collect()
                        })
                        .unwrap_or_default()
                });
            }
        }
        let present = |dir: &Path, name: &str| listed.get(dir).is_some_and(|n| n.contains(name));
        for file in &files {
            let on_disk = file.as_deref().is_some_and(|f| {
                let path = Path::new(f);
                let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
                    return false;
                };
                let name = name.to_string_lossy();
                present(dir, &name)
                    || dir.file_name().is_some_and(|d| d == "new")
                        && present(&dir.with_file_name("cur"), &name)
            });
            if on_disk {
                status.delivered += 1;
            } else {
                status.missing += 1;
            }
        }
        // What left through a relay or gateway: counted by where it went.
        let mut st = self.conn().prepare(
            "SELECT via, count(*) FROM outbox WHERE state = 'delivered' AND via IN ('smtp', 'sms-gateway')
             GROUP BY via ORDER BY via",
        )?;
        for row in st.query_map((), |r| Ok((r.get::<String>(0)?, r.get::<i64>(1)?)))? {
            let (via, n) = row?;
            status.delivered += n;
            status.by_route.push(RouteCount { via, delivered: n });
        }
        let on_disk = status.delivered - status.by_route.iter().map(|r| r.delivered).sum::<i64>();
        if on_disk > 0 || status.by_route.is_empty() {
            status.by_route.insert(
                0,
                RouteCount {
                    via: "spool".into(),
                    delivered: on_disk,
                },
            );
        }
        let mut st = self.conn().prepare(
            "SELECT id, kind, channel, recipient, state, attempts, next_attempt_at, last_error, file
             FROM outbox WHERE state != 'delivered' ORDER BY id",
        )?;
        status.waiting = st
            .query_map((), |r| {
                Ok(OutboxRow {
                    id: r.get(0)?,
                    kind: r.get(1)?,
                    channel: r.get(2)?,
                    recipient: r.get(3)?,
                    state: r.get(4)?,
                    attempts: r.get(5)?,
                    next_attempt_at: from_ts(r.get(6)?),
                    last_error: r.get(7)?,
                    file: r.get(8)?,
                })
            })?
            .collect::<crate::store::sql::Result<_>>()?;
        Ok(status)
    }

    /// The files delivered for a booking (where its email and SMS went).
    pub fn delivered_files(&self, booking_code: &str) -> Result<Vec<DeliveredFile>> {
        let mut st = self.conn().prepare(
            "SELECT channel, recipient, file FROM outbox WHERE booking_code = ?1 AND state = 'delivered' ORDER BY id",
        )?;
        let rows = st.query_map([booking_code], |r| {
            Ok(DeliveredFile {
                channel: r.get(0)?,
                recipient: r.get(1)?,
                path: PathBuf::from(r.get::<String>(2)?),
            })
        })?;
        Ok(rows.collect::<crate::store::sql::Result<_>>()?)
    }
}

//! Paying a hold: the charge (idempotent, durable before and after it leaves), the booking it
//! becomes, an unanswered charge settled, a late charge refunded, and reconcile after a crash.

use super::*;

/// What settling a hold's unanswered charge came to.
pub(super) enum Settled {
    /// The hold has no such charge (it is being paid elsewhere).
    NothingUnanswered,
    /// The charge had been taken: its booking.
    Booked(Receipt),
    /// The processor never saw it: fenced, and the hold is live again.
    Released,
}

/// Records a charge that arrived for a hold that can no longer be paid (it ended, or its payment
/// was given up), queues its refund under a key derived from the charge's, and tells the
/// person: the money is never kept without a booking.
pub(super) fn refund_late_charge(
    tx: &crate::store::Db,
    key: &str,
    h: &HoldRow,
    reference: &str,
    detail: &str,
    now: DateTime<Utc>,
) -> Result<()> {
    let (processor, amount, currency): (String, i64, String) = tx
        .prepare_cached(
            "SELECT processor, amount_cents, currency FROM payments WHERE idempotency_key = ?1",
        )?
        .query_row([key], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    tx.prepare_cached("UPDATE payments SET state = 'captured', reference = ?2, detail = ?3, updated_at = ?4 WHERE idempotency_key = ?1")?
        .execute(params![key, reference, detail, ts(now)])?;
    let who = tx.operator();
    tx.prepare_cached("INSERT INTO payments (kind, idempotency_key, hold_id, processor, amount_cents, currency, state, reference, created_at, updated_at, clerk, terminal)
         VALUES ('refund', 'refund-' || ?1, ?2, ?3, ?4, ?5, 'pending', ?6, ?7, ?7, ?8, ?9)")?
        .execute(params![key, h.id, processor, amount, currency, reference, ts(now), who.clerk, who.terminal])?;
    let customer = record_customer(tx, h.who.clone())?;
    let notice = crate::notify::late_charge_refunded(
        tx,
        &h.id,
        h.who.name.as_deref(),
        &Money::new(amount, &currency),
        detail,
    )?;
    crate::notify::queue(tx, customer, &notice, now)
}

impl Store {
    /// Pays a hold and confirms it into a booking. The amount comes from the stored prices.
    ///
    /// The attempt is recorded (with its idempotency key) and the hold frozen so it cannot run
    /// out mid-charge; the processor is called outside any transaction; then one transaction
    /// confirms the booking and queues its notices, or releases the seats on a decline.
    pub fn pay(
        &mut self,
        hold_id: &str,
        tender: &Tender,
        processors: &Processors,
    ) -> Result<Receipt> {
        match self.charge_hold(hold_id, tender, processors) {
            // A hold being paid: if that is a charge nobody answered for, it is settled first
            // (it may have been taken), and only then is anything charged again. Asked only
            // here, so a payment's usual path reads nothing more.
            Err(Error::PaymentInProgress(id)) => {
                match self.settle_unanswered(hold_id, processors)? {
                    Settled::Booked(receipt) => Ok(receipt),
                    Settled::Released => self.charge_hold(hold_id, tender, processors),
                    Settled::NothingUnanswered => Err(Error::PaymentInProgress(id)),
                }
            }
            other => other,
        }
    }

    /// [`Store::pay`]'s work for a live hold: record, charge, confirm.
    pub(super) fn charge_hold(
        &mut self,
        hold_id: &str,
        tender: &Tender,
        processors: &Processors,
    ) -> Result<Receipt> {
        let processor = processors.get(tender.processor()).ok_or_else(|| {
            Error::invalid(format!("no {} processor is configured", tender.processor()))
        })?;
        self.expire_holds()?;
        let (key, amount, currency, h) = self.write_durable(|tx, now| {
            let h = load_hold(tx, hold_id)?;
            ensure_live(tx, &h, now)?;
            macro_rules! amount {
                ($($e:ident)?) => {
                    concat!(
                        "SELECT coalesce(sum(cl.price_cents), 0) FROM holds h CROSS JOIN ",
                        held_by!($($e)?),
                        " WHERE h.id = ?1"
                    )
                };
            }
            let amount: i64 = tx
                .prepare_cached(tx.pick(amount!(), amount!(pg)))?
                .query_row([&h.id], |r| r.get(0))?;
            let currency = concert_currency(tx, h.concert_id)?;
            if let Tender::Cash { tendered_cents } = tender {
                crate::payment::check_cash(*tendered_cents, amount, &currency)?;
            }
            let attempt: i64 = tx.prepare_cached("SELECT count(*) + 1 FROM payments WHERE hold_id = ?1 AND kind = 'charge'")?.query_row([&h.id],
                |r| r.get(0),
            )?;
            let key = format!("charge-{}-{attempt}", h.id);
            let who = tx.operator();
            tx.prepare_cached("INSERT INTO payments (kind, idempotency_key, hold_id, processor, amount_cents, currency, state, created_at, updated_at, clerk, terminal)
                 VALUES ('charge', ?1, ?2, ?3, ?4, ?5, 'pending', ?6, ?6, ?7, ?8)")?.execute(params![key, h.id, processor.name(), amount, currency, ts(now), who.clerk, who.terminal],
            )?;
            tx.prepare_cached("UPDATE holds SET state = 'paying' WHERE id = ?1")?.execute([&h.id])?;
            keep_while_paying(tx, &h.id)?;
            Ok((key, amount, currency, h))
        })?;
        crate::failpoint::hit("pay:after-record");
        let description = format!("boxoffice hold {}", h.id);
        let outcome = processor.charge(&ChargeRequest {
            idempotency_key: &key,
            amount_cents: amount,
            currency: &currency,
            tender,
            description: &description,
        });
        let outcome = match outcome {
            Ok(o) => o,
            Err(e) => {
                // Unknown to us whether it went through: ask by key, fencing it, before giving
                // the hold back.
                match processor.fence(&key) {
                    Ok(Some(o)) => o,
                    Ok(None) => {
                        self.fail_payment(&key, &h.id, &e.0)?;
                        return Err(Error::Processor(e.0));
                    }
                    Err(lost) => {
                        // Neither the charge nor the look-up answered: the processor may have
                        // taken it. The hold stays frozen and the key open until it answers.
                        self.write_durable(|tx, now| {
                            tx.prepare_cached("UPDATE payments SET state = 'unanswered', detail = ?2, updated_at = ?3 WHERE idempotency_key = ?1 AND state = 'pending'")?
                                .execute(params![key, lost.0, ts(now)])?;
                            Ok(())
                        })?;
                        return Err(Error::Unanswered(e.0));
                    }
                }
            }
        };
        crate::failpoint::hit("pay:after-charge");
        let tendered = match tender {
            Tender::Cash { tendered_cents } => Some(*tendered_cents),
            Tender::Card(_) | Tender::Terminal(_) => None,
        };
        crate::failpoint::stall("pay:before-confirm");
        let approved = matches!(outcome, ChargeOutcome::Approved { .. });
        let mut receipt = self.finish_payment(&key, outcome.clone(), tendered, processors);
        if approved && receipt.as_ref().is_err_and(is_storage) {
            // The money is taken and the booking is not written: once more at once (a busy
            // moment, a connection made again), then the truth about the money.
            receipt = self.finish_payment(&key, outcome, tendered, processors);
            if let Err(e) = &receipt
                && is_storage(e)
            {
                receipt = Err(Error::TakenNotBooked {
                    money: crate::model::Money::new(amount, &currency).to_string(),
                    cash: matches!(tender, Tender::Cash { .. }),
                    cause: match e {
                        // Its own words end "nothing was changed": true of the booking only.
                        Error::DiskFull(_) => "the disk is full".into(),
                        Error::Busy => {
                            "the database stayed busy (another terminal was writing)".into()
                        }
                        e => e.to_string(),
                    },
                });
            }
        }
        crate::failpoint::hit("pay:after-confirm");
        receipt
    }

    /// Settles a charge of `hold_id` whose outcome is unknown (its charge and its look-up both
    /// failed), before anything new is charged: the processor is asked again, fencing the key.
    /// Taken: the booking it paid for. Never seen: the key is fenced and the hold is live again
    /// for a new attempt. Still no answer: [`Error::Unanswered`].
    pub(super) fn settle_unanswered(
        &mut self,
        hold_id: &str,
        processors: &Processors,
    ) -> Result<Settled> {
        let unanswered: Option<(String, String)> = self
            .conn()
            .prepare_cached(
                "SELECT idempotency_key, processor FROM payments
                 WHERE hold_id = ?1 AND kind = 'charge' AND state = 'unanswered' ORDER BY id DESC LIMIT 1",
            )?
            .query_row([hold_id.trim().to_ascii_uppercase()], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()?;
        let Some((key, name)) = unanswered else {
            return Ok(Settled::NothingUnanswered);
        };
        let processor = processors.get(&name).ok_or_else(|| {
            Error::Unanswered(format!("no {name} processor is configured to ask"))
        })?;
        match processor.fence(&key) {
            Ok(Some(outcome)) => self
                .finish_payment(&key, outcome, None, processors)
                .map(Settled::Booked),
            Ok(None) => {
                self.fail_payment(&key, hold_id, "the processor never saw it")?;
                Ok(Settled::Released)
            }
            Err(e) => Err(Error::Unanswered(e.0)),
        }
    }

    /// Records a processor failure: nothing was charged, the hold is live again for a minute at
    /// least so the clerk can retry.
    pub(super) fn fail_payment(&mut self, key: &str, hold_id: &str, why: &str) -> Result<()> {
        self.write_durable(|tx, now| {
            tx.prepare_cached("UPDATE payments SET state = 'failed', detail = ?2, updated_at = ?3 WHERE idempotency_key = ?1 AND state IN ('pending', 'unanswered')")?.execute(params![key, why, ts(now)],
            )?;
            let expires = tx
                .query_row("SELECT expires_at FROM holds WHERE id = ?1", [hold_id], |r| {
                    r.get::<i64>(0)
                })?
                .max(ts(now + Duration::minutes(1)));
            tx.prepare_cached("UPDATE holds SET state = 'live', expires_at = ?2 WHERE id = ?1 AND state = 'paying'")?.execute(params![hold_id, expires],
            )?;
            expire_at(tx, hold_id, expires)?;
            Ok(())
        })
    }

    /// Applies a charge outcome to its pending payment: confirm the booking (and queue the
    /// confirmation) or release the seats. Money taken for a hold that can no longer become a
    /// booking is refunded.
    pub(crate) fn finish_payment(
        &mut self,
        key: &str,
        outcome: ChargeOutcome,
        tendered: Option<i64>,
        processors: &Processors,
    ) -> Result<Receipt> {
        let result = self.write_durable(|tx, now| {
            let (hold_id, amount, currency, processor, state): (String, i64, String, String, PaymentState) =
                tx.prepare_cached("SELECT hold_id, amount_cents, currency, processor, state FROM payments WHERE idempotency_key = ?1")?.query_row([key],
                    |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)),
                )?;
            let h = load_hold(tx, &hold_id)?;
            if state == PaymentState::Failed {
                // Given up at another terminal while this charge was out (its key fenced, so
                // the processor refused it; one that cannot fence may have taken it).
                if let ChargeOutcome::Approved { reference, detail, .. } = outcome {
                    refund_late_charge(tx, key, &h, &reference, &detail, now)?;
                }
                return Ok(Err(Error::PaymentAbandoned(h.id)));
            }
            if !matches!(state, PaymentState::Pending | PaymentState::Unanswered) {
                return Err(Error::PaymentInProgress(hold_id));
            }
            match outcome {
                ChargeOutcome::Approved { reference, change_cents, detail } if h.state == HoldState::Paying => {
                    // The person becomes a customer with their first booking.
                    let customer = record_customer(tx, h.who.clone())?;
                    let booking_id = insert_booking(tx, &h.id, customer, amount, &processor, now)?;
                    tx.prepare_cached("UPDATE payments SET state = 'captured', reference = ?2, detail = ?3, booking_id = ?4, tendered_cents = ?5, change_cents = ?6, updated_at = ?7
                         WHERE idempotency_key = ?1")?.execute(params![key, reference, detail, booking_id, tendered, change_cents, ts(now)],
                    )?;
                    tx.prepare_cached("UPDATE holds SET state = 'paid', ended_at = ?2 WHERE id = ?1")?.execute(params![h.id, ts(now)],
                    )?;
                    book(tx, &h.id, booking_id)?;
                    if h.kind == HoldKind::Offer {
                        crate::waitlist::end_offer(tx, &h.id, WaitlistState::Booked, now)?;
                    }
                    let facts = crate::notify::booking_facts(tx, booking_id)?;
                    crate::notify::queue(tx, customer, &crate::notify::confirmation(&facts, now), now)?;
                    Ok(Ok(Receipt {
                        booking_code: facts.code,
                        hold_id: h.id,
                        concert_id: h.concert_id,
                        // The confirmation's facts list the booking's seats already.
                        seats: facts.seats.iter().map(|s| s.0.clone()).collect(),
                        total_cents: amount,
                        currency,
                        tendered_cents: tendered,
                        change_cents,
                        method: processor,
                        reference,
                    }))
                }
                ChargeOutcome::Approved { reference, detail, .. } => {
                    // Captured, but the hold is gone: the money goes straight back.
                    refund_late_charge(tx, key, &h, &reference, &detail, now)?;
                    Ok(Err(Error::HoldNotLive { id: h.id, state: h.state }))
                }
                ChargeOutcome::Declined { reason } => {
                    let view = hold_view(tx, &h)?;
                    tx.prepare_cached("UPDATE payments SET state = 'declined', detail = ?2, updated_at = ?3 WHERE idempotency_key = ?1")?.execute(params![key, reason, ts(now)],
                    )?;
                    end_hold(tx, &h.id, HoldState::Declined, None, now)?;
                    if h.kind == HoldKind::Offer {
                        crate::waitlist::end_offer(tx, &h.id, WaitlistState::Expired, now)?;
                    }
                    crate::waitlist::seats_freed(tx, h.concert_id, now)?;
                    Ok(Err(Error::Declined {
                        reason,
                        concert_id: h.concert_id,
                        seats: view.seats,
                        customer: view.customer,
                    }))
                }
            }
        })?;
        if matches!(
            result,
            Err(Error::HoldNotLive { .. } | Error::PaymentAbandoned(_))
        ) {
            self.run_pending_refunds(None, processors)?;
        }
        result
    }

    /// Finishes what a crash interrupted. Pending charges older than [`PAYMENT_LEASE`] (younger
    /// ones may be in flight at another terminal), and unanswered ones of any age, are asked
    /// for at their processor by key, fencing it: a captured one becomes its booking (or a
    /// refund), a declined one releases its seats, and one the processor never saw releases
    /// its seats and can no longer be charged (a late charge under it is refused, or refunded by
    /// [`Store::finish_payment`] where the processor cannot refuse it). Pending refunds are
    /// retried under their keys, so nobody is refunded twice.
    pub fn reconcile(&mut self, processors: &Processors) -> Result<ReconcileReport> {
        let now = self.now();
        let mut report = ReconcileReport::default();
        let pending: Vec<(String, String, i64, PaymentState)> = {
            let mut st = self.conn().prepare(
                "SELECT idempotency_key, processor, created_at, state FROM payments
                 WHERE kind = 'charge' AND state IN ('pending', 'unanswered') ORDER BY id",
            )?;
            st.query_map((), |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
                .collect::<crate::store::sql::Result<_>>()?
        };
        for (key, name, created, state) in pending {
            if state == PaymentState::Pending && created > ts(now - PAYMENT_LEASE) {
                report.in_flight += 1;
                continue;
            }
            let Some(processor) = processors.get(&name) else {
                report.unreachable += 1;
                continue;
            };
            match processor.fence(&key) {
                Ok(Some(outcome)) => match self.finish_payment(&key, outcome, None, processors) {
                    Ok(receipt) => report.confirmed.push(receipt.booking_code),
                    Err(Error::Declined { .. }) => report.released += 1,
                    Err(Error::HoldNotLive { .. } | Error::PaymentAbandoned(_)) => {
                        report.refunded += 1
                    }
                    // Finished meanwhile by the terminal that was waiting for it.
                    Err(Error::PaymentInProgress(_)) => {}
                    Err(e) => return Err(e),
                },
                Ok(None) => {
                    self.abandon_payment(&key)?;
                    report.released += 1;
                }
                Err(_) => report.unreachable += 1,
            }
        }
        report.refunds_completed = self.run_pending_refunds(None, processors)?;
        Ok(report)
    }

    /// A charge the processor never saw (and, fenced, never will): nothing was taken, the seats
    /// go back.
    pub(super) fn abandon_payment(&mut self, key: &str) -> Result<()> {
        self.write_durable(|tx, now| {
            let hold_id: String = tx.prepare_cached("SELECT hold_id FROM payments WHERE idempotency_key = ?1")?.query_row([key],
                |r| r.get(0),
            )?;
            tx.prepare_cached("UPDATE payments SET state = 'failed', detail = 'interrupted; the processor never saw it', updated_at = ?2
                 WHERE idempotency_key = ?1 AND state IN ('pending', 'unanswered')")?.execute(params![key, ts(now)],
            )?;
            end_hold(tx, &hold_id, HoldState::Released, Some(HoldState::Paying), now)?;
            let (concert_id, kind): (i64, HoldKind) = tx.prepare_cached("SELECT concert_id, kind FROM holds WHERE id = ?1")?.query_row([&hold_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?;
            if kind == HoldKind::Offer {
                crate::waitlist::end_offer(tx, &hold_id, WaitlistState::Expired, now)?;
            }
            crate::waitlist::seats_freed(tx, concert_id, now)?;
            Ok(())
        })
    }

    /// Sends every pending refund (of one booking, or all) to its processor.
    /// Returns how many were made; a processor that fails leaves its refund pending.
    pub(crate) fn run_pending_refunds(
        &mut self,
        booking_id: Option<i64>,
        processors: &Processors,
    ) -> Result<usize> {
        let pending: Vec<(String, String, String, i64, String)> = {
            let mut st = self.conn().prepare(
                "SELECT idempotency_key, processor, coalesce(reference, ''), amount_cents, currency FROM payments
                 WHERE kind = 'refund' AND state = 'pending' AND (CAST(?1 AS BIGINT) IS NULL OR booking_id = ?1)",
            )?;
            st.query_map([booking_id], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })?
            .collect::<crate::store::sql::Result<_>>()?
        };
        let mut done = 0;
        for (key, processor, charge_ref, amount, currency) in pending {
            let Some(p) = processors.get(&processor) else {
                continue;
            };
            let Ok(reference) = p.refund(&RefundRequest {
                idempotency_key: &key,
                charge_reference: &charge_ref,
                amount_cents: amount,
                currency: &currency,
            }) else {
                continue;
            };
            crate::failpoint::hit("cancel:after-refund");
            self.write_durable(|tx, now| {
                tx.prepare_cached("UPDATE payments SET state = 'captured', reference = ?2, updated_at = ?3 WHERE idempotency_key = ?1 AND state = 'pending'")?.execute(params![key, reference, ts(now)],
                )?;
                Ok(())
            })?;
            done += 1;
        }
        Ok(done)
    }
}

/// An error of the storage itself (the disk, the lock, the server, the file), not a rule's
/// answer: what a captured charge's booking can fail on.
fn is_storage(e: &Error) -> bool {
    matches!(
        e,
        Error::Busy
            | Error::DiskFull(_)
            | Error::ReadOnly(_)
            | Error::Corrupt(_)
            | Error::Storage(_)
            | Error::Server(_)
            | Error::Io { .. }
    )
}

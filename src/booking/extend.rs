//! One more hold time for a customer still deciding at the counter, once.

use super::*;

impl Store {
    /// Keeps a live sale hold's seats one hold time longer, once: for a clerk whose customer is
    /// still deciding. Refused where it was extended already, where people wait on the
    /// concert's waiting list (the seats may be theirs), and for a hold that is not live.
    pub fn extend_hold(&mut self, hold_id: &str) -> Result<Hold> {
        let id = hold_id.trim().to_ascii_uppercase();
        self.write(|tx, now| {
            let h = load_hold(tx, &id)?;
            if h.state != HoldState::Live || h.expires_at <= now || h.kind != HoldKind::Sale {
                return Err(Error::HoldNotLive {
                    id: h.id,
                    state: if h.state == HoldState::Live {
                        HoldState::Expired
                    } else {
                        h.state
                    },
                });
            }
            let c = concert_rules(tx, h.concert_id)?;
            let once = chrono::Duration::minutes(c.hold_minutes);
            // A hold's first time is its hold time: longer means it was extended already.
            if h.expires_at - h.created_at > once + chrono::Duration::seconds(1) {
                return Err(Error::invalid(
                    "the hold was extended once already: take the payment or let it go",
                ));
            }
            let waiting: i64 = tx
                .prepare_cached(
                    "SELECT count(*) FROM waitlist WHERE concert_id = ?1 AND state IN ('waiting', 'offered')",
                )?
                .query_row([h.concert_id], |r| r.get(0))?;
            if waiting > 0 {
                return Err(Error::invalid(format!(
                    "{waiting} people wait for this concert: the hold is not extended"
                )));
            }
            let until = ts(h.expires_at + once);
            tx.prepare_cached("UPDATE holds SET expires_at = ?2 WHERE id = ?1")?
                .execute(params![h.id, until])?;
            expire_at(tx, &h.id, until)?;
            Ok(())
        })?;
        self.hold(&id)
    }
}

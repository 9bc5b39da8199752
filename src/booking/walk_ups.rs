//! Walk-up holds: seats held at a counter for someone who gave no details (a cash customer
//! may give none). Nobody's ticket limit counts them, so a terminal, and a clerk, may keep only
//! a few at once.

use super::*;

/// How many walk-up holds (unpaid, with no one's details) one terminal, and one clerk, may
/// keep at once: a counter serves one customer at a time, and may park a few.
pub const WALK_UP_HOLDS: i64 = 4;

/// Refuses one more walk-up hold where this terminal or this clerk keeps [`WALK_UP_HOLDS`]
/// already (across concerts: one terminal cannot sit on a show, nor on several).
pub(super) fn allowed(tx: &crate::store::Db, now: DateTime<Utc>) -> Result<()> {
    let who = tx.operator();
    let (by_terminal, by_clerk): (i64, i64) = tx
        .prepare_cached(
            "SELECT count(*) FILTER (WHERE coalesce(terminal, '') = coalesce(?1, '')),
                    count(*) FILTER (WHERE clerk = ?2)
             FROM holds WHERE state = 'live' AND kind = 'sale' AND email IS NULL
               AND phone IS NULL AND expires_at > ?3",
        )?
        .query_row(params![who.terminal, who.clerk, ts(now)], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?;
    let by = if by_terminal >= WALK_UP_HOLDS {
        format!(
            "this terminal ({})",
            who.terminal.as_deref().unwrap_or("unnamed")
        )
    } else if by_clerk >= WALK_UP_HOLDS {
        format!("clerk {}", who.clerk.as_deref().unwrap_or(""))
    } else {
        return Ok(());
    };
    Err(Error::WalkUpHolds {
        limit: WALK_UP_HOLDS,
        by,
    })
}

//! Booking codes and hold ids: short, unambiguous, drawn from the system's random source.

use super::*;

pub(crate) use crate::codes::{new_ticket_code, random_code};

pub(crate) const CODE_LEN: usize = 6;

pub(crate) fn new_booking_code() -> String {
    random_code(CODE_LEN)
}

/// The letters of [`CODE_ALPHABET`] in byte order: written with these, a number's digits sort
/// as the number does.
pub(crate) const ORDERED_ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";

/// Hold ids are short enough to read out at a counter: `H`, four letters for the tenth of a
/// second the hold was made in (they come round every 25.6 hours), six random letters. Holds
/// made close together sort together, so a new hold and its claims land beside the last ones
/// in the tables keyed by hold id instead of on a random page of a season's worth of holds
/// (with random ids a large database read a page from disk for most holds, BENCHMARKS.md).
/// The six letters are 30 bits of chance per tenth of a second; a hold that draws an id
/// already taken draws again ([`insert_hold`]).
pub(crate) fn new_hold_id(now: DateTime<Utc>) -> String {
    let n = ORDERED_ALPHABET.len() as i64;
    let mut tick = now.timestamp_millis().div_euclid(100).rem_euclid(n.pow(4));
    let mut id = [b'H'; 5];
    for c in id[1..].iter_mut().rev() {
        *c = ORDERED_ALPHABET[(tick % n) as usize];
        tick /= n;
    }
    let mut id = String::from_utf8_lossy(&id).into_owned();
    id.push_str(&random_code(6));
    id
}

/// Runs `insert` (a hold's INSERT, `ON CONFLICT (id) DO NOTHING`: 0 rows when the id is
/// taken) with ids from `ids` until one is not taken, and returns it. Ids made in the same
/// tenth of a second share their first five letters, and a bulk insert (the demo's sales)
/// makes thousands in one: a repeat of the six random letters is rare, not impossible. (A
/// failed INSERT would end a PostgreSQL transaction; a skipped one does not.)
pub(crate) fn with_new_hold_id(
    ids: &mut dyn FnMut() -> String,
    mut insert: impl FnMut(&str) -> crate::store::sql::Result<usize>,
) -> Result<String> {
    let mut tries = 0;
    loop {
        let id = ids();
        match insert(&id)? {
            0 if tries < 8 => tries += 1,
            0 => {
                return Err(Error::Storage(
                    format!("no free hold id after {tries} tries").into(),
                ));
            }
            _ => return Ok(id),
        }
    }
}

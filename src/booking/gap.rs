//! The single-seat-gap rule on the hall's geometry: which seats count as free, whether a
//! selection strands one, and what to pick instead.

use super::*;

/// What the seat map tells a clerk about a selection before anything is held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GapAdvice {
    /// The seats, by label, the selection would leave free on their own.
    pub stranded: Vec<String>,
    /// A selection of the same size that strands nobody, if there is one.
    pub suggestion: Option<Vec<String>>,
}

/// Which seats the fairness geometry counts as free.
#[derive(Clone)]
pub(crate) enum FreeRule {
    /// No claim (inside a write transaction, after expired holds were swept).
    NoClaim,
    /// No claim, or a hold whose time is up at this instant (for reads).
    NoClaimOrExpired(i64),
    /// Only the seats kept for the waiting list by this pool hold.
    Pool(String),
}

impl FreeRule {
    /// What the claim statements bind: `:unclaimed` (whether a seat the seat-status rule
    /// calls free counts as free), `:pool` and `:now`. Inside a write transaction expired holds
    /// were swept already, so `now` is the earliest time (nothing counts as run out).
    fn binds(&self) -> (bool, String, i64) {
        match self {
            FreeRule::NoClaim => (true, String::new(), i64::MIN),
            FreeRule::NoClaimOrExpired(now) => (true, String::new(), *now),
            FreeRule::Pool(p) => (false, p.clone(), i64::MIN),
        }
    }
}

/// Free for the geometry: the pool's own seats (for its offers), else what the seat-status
/// rule calls free at `:now`, counted as `:unclaimed`.
pub(super) static FREEDOM: LazyLock<String> = LazyLock::new(|| {
    format!(
        "CASE WHEN cl.hold_id = :pool THEN 1 WHEN {SEAT_STATUS_SQL} = 'free' THEN :unclaimed ELSE 0 END"
    )
});

/// Every seat of the concert's hall with its freedom, and the stage centre, for the fairness
/// geometry ("best available", the waiting list's offers).
pub(crate) fn load_geometry(
    tx: &crate::store::Db,
    concert_id: i64,
    venue_id: i64,
    rule: FreeRule,
) -> Result<(Vec<crate::fairness::SeatPos>, f64)> {
    let (unclaimed, pool, now) = rule.binds();
    static WHOLE: LazyLock<String> = LazyLock::new(|| {
        format!(
            "SELECT s.id, s.label, s.category, p.price_cents, s.grid_x, s.grid_y, {FREEDOM}
             FROM seats s JOIN prices p ON p.concert_id = :concert AND p.category = s.category
             LEFT JOIN claims cl ON cl.concert_id = :concert AND cl.seat_id = s.id
             WHERE s.venue_id = :venue",
            FREEDOM = *FREEDOM
        )
    });
    let width: i64 = tx
        .prepare_cached("SELECT width FROM venues WHERE id = ?1")?
        .query_row([venue_id], |r| r.get(0))?;
    let centre = (width - 1).max(0) as f64 / 2.0;
    let mut st = tx.prepare_cached(&WHOLE)?;
    let rows = st.query_map(
        named_params! {
            ":concert": concert_id, ":venue": venue_id, ":unclaimed": unclaimed,
            ":pool": pool, ":now": now,
        },
        |r| {
            Ok(crate::fairness::SeatPos {
                id: r.get(0)?,
                label: r.get(1)?,
                category: r.get(2)?,
                price_cents: r.get(3)?,
                x: r.get(4)?,
                y: r.get(5)?,
                free: r.get(6)?,
            })
        },
    )?;
    let seats = rows.collect::<crate::store::sql::Result<Vec<_>>>()?;
    Ok((seats, centre))
}

/// Grid positions `(id, line, column)` of seats, for the single-seat-gap rule.
pub(super) fn seat_positions(
    conn: &crate::store::Db,
    seat_ids: &[i64],
) -> Result<Vec<(i64, i64, i64)>> {
    let mut st = conn.prepare_cached("SELECT grid_y, grid_x FROM seats WHERE id = ?1")?;
    seat_ids
        .iter()
        .map(|id| Ok(st.query_row([id], |r| Ok((*id, r.get(0)?, r.get(1)?)))?))
        .collect()
}

/// The seats around a selection that decide whether it strands one: a seat can only become
/// stranded next to a newly taken one, and whether it is depends on the seat beyond it, so two
/// columns either side of the selection in each row are enough. Takes `(id, line, column)`.
pub(super) fn gap_window(
    conn: &crate::store::Db,
    index: &mut SeatIndex,
    concert_id: i64,
    venue_id: i64,
    selection: &[(i64, i64, i64)],
    rule: FreeRule,
) -> Result<Vec<crate::fairness::SeatPos>> {
    let mut windows: Vec<(i64, i64, i64)> = Vec::new();
    for &(_, y, x) in selection {
        match windows.iter_mut().find(|w| w.0 == y) {
            Some(w) => {
                w.1 = w.1.min(x - 2);
                w.2 = w.2.max(x + 2);
            }
            None => windows.push((y, x - 2, x + 2)),
        }
    }
    let (unclaimed, pool, now) = rule.binds();
    // The seats from the connection's seat index (prices are not needed: 0), then the claims
    // on the range of their ids in one pass of the claim index.
    let mut seats = Vec::new();
    for (y, x0, x1) in windows {
        let row = index.row(conn, venue_id, y)?;
        seats.extend(row.iter().filter(|s| (x0..=x1).contains(&s.x)).map(|s| {
            crate::fairness::SeatPos {
                id: s.id,
                label: s.label.clone(),
                category: s.category.clone(),
                price_cents: 0,
                x: s.x,
                y,
                free: unclaimed,
            }
        }));
    }
    let (Some(lo), Some(hi)) = (
        seats.iter().map(|s| s.id).min(),
        seats.iter().map(|s| s.id).max(),
    ) else {
        return Ok(seats);
    };
    let mut mark = |id: i64, free: bool| {
        if let Some(s) = seats.iter_mut().find(|s| s.id == id) {
            s.free = free;
        }
    };
    if let FreeRule::NoClaim = rule {
        // Every claim makes its seat taken: the claims' own key answers.
        let mut st = conn.prepare_cached(
            "SELECT seat_id FROM claims WHERE concert_id = ?1 AND seat_id BETWEEN ?2 AND ?3",
        )?;
        for id in st.query_map(params![concert_id, lo, hi], |r| r.get::<i64>(0))? {
            mark(id?, false);
        }
        return Ok(seats);
    }
    static CLAIMS: LazyLock<String> = LazyLock::new(|| {
        format!(
            "SELECT cl.seat_id, {FREEDOM} FROM claims cl
             WHERE cl.concert_id = :concert AND cl.seat_id BETWEEN :lo AND :hi",
            FREEDOM = *FREEDOM
        )
    });
    let mut st = conn.prepare_cached(&CLAIMS)?;
    let claimed = st.query_map(
        named_params! {
            ":concert": concert_id, ":unclaimed": unclaimed, ":pool": pool,
            ":now": now, ":lo": lo, ":hi": hi,
        },
        |r| Ok((r.get::<i64>(0)?, r.get::<bool>(1)?)),
    )?;
    for c in claimed {
        let (id, free) = c?;
        mark(id, free);
    }
    Ok(seats)
}

/// Whether taking `seat_ids` would strand a single seat, and (if `suggest`) a selection of the
/// same size and category that would not. One rule for the hold (inside its transaction, with
/// [`FreeRule::NoClaim`]) and for the seat map's advice (a read, with expired holds free).
/// `near` is the selection's [`gap_window`].
pub(super) fn gap_verdict(
    conn: &crate::store::Db,
    concert_id: i64,
    venue_id: i64,
    seat_ids: &[i64],
    near: &[crate::fairness::SeatPos],
    rule: FreeRule,
    suggest: bool,
) -> Result<Option<GapAdvice>> {
    let geo = crate::fairness::Geometry::new(near, 0.0);
    let idx: Vec<usize> = seat_ids.iter().filter_map(|id| geo.index_of(*id)).collect();
    let stranded = geo.new_gaps(&idx);
    if stranded.is_empty() {
        return Ok(None);
    }
    if !suggest {
        return Ok(Some(GapAdvice {
            stranded,
            suggestion: None,
        }));
    }
    // Only now the whole hall: is there a selection of this size that strands nobody?
    let category = near[idx[0]].category.clone();
    let (all, centre) = load_geometry(conn, concert_id, venue_id, rule)?;
    let suggestion = crate::fairness::Geometry::new(&all, centre)
        .best(seat_ids.len(), |s| s.category == category)
        .filter(|p| p.together && p.gap_free)
        .map(|p| p.labels);
    Ok(Some(GapAdvice {
        stranded,
        suggestion,
    }))
}

/// The seat map's advice for a selection (see [`gap_verdict`]).
pub(crate) fn gap_advice(
    conn: &crate::store::Db,
    index: &mut SeatIndex,
    concert_id: i64,
    venue_id: i64,
    seat_ids: &[i64],
    rule: FreeRule,
    suggest: bool,
) -> Result<Option<GapAdvice>> {
    if seat_ids.is_empty() {
        return Ok(None);
    }
    let positions = seat_positions(conn, seat_ids)?;
    let near = gap_window(conn, index, concert_id, venue_id, &positions, rule.clone())?;
    gap_verdict(conn, concert_id, venue_id, seat_ids, &near, rule, suggest)
}

/// Inside the hold's transaction, the single-seat-gap rule on the selection's [`gap_window`].
/// Returns whether the selection strands a seat (allowed only with the clerk's override, or
/// when no selection of the same size would avoid it).
pub(super) fn check_gap(
    tx: &crate::store::Db,
    concert_id: i64,
    venue_id: i64,
    seats: &[(i64, String, i64)],
    near: &[crate::fairness::SeatPos],
    allow_gap: bool,
) -> Result<bool> {
    let ids: Vec<i64> = seats.iter().map(|s| s.0).collect();
    match gap_verdict(
        tx,
        concert_id,
        venue_id,
        &ids,
        near,
        FreeRule::NoClaim,
        !allow_gap,
    )? {
        None => Ok(false),
        Some(GapAdvice {
            stranded,
            suggestion: Some(suggestion),
        }) if !allow_gap => Err(Error::WouldStrandSeat {
            stranded,
            suggestion,
        }),
        // The clerk's override, or no selection of this size avoids a gap: allowed, as
        // seat-map services do.
        Some(_) => Ok(true),
    }
}

impl Store {
    /// Free seats as the geometry sees them now: no claim, or a hold whose time is up.
    pub(super) fn geometry_now(
        &self,
        concert_id: i64,
    ) -> Result<(Vec<crate::fairness::SeatPos>, f64)> {
        let rules = concert_rules(self.conn(), concert_id)?;
        let now = ts(self.now());
        load_geometry(
            self.conn(),
            concert_id,
            rules.venue_id,
            FreeRule::NoClaimOrExpired(now),
        )
    }

    /// Whether holding `seat_ids` would strand a single seat, and what to pick instead.
    pub fn selection_advice(&self, concert_id: i64, seat_ids: &[i64]) -> Result<Option<GapAdvice>> {
        let venue_id = concert_rules(self.conn(), concert_id)?.venue_id;
        gap_advice(
            self.conn(),
            &mut self.seat_index.borrow_mut(),
            concert_id,
            venue_id,
            seat_ids,
            FreeRule::NoClaimOrExpired(ts(self.now())),
            true,
        )
    }
}

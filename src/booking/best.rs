//! Best available: the best free seats for a request, held or only suggested.

use super::*;

/// Best-available: `count` seats, optionally of one category and at most a price.
#[derive(Debug, Clone, Default)]
pub struct BestRequest {
    /// How many seats to find.
    pub count: usize,
    /// Only seats of this category code (`A`, in any case); `None` for any category.
    pub category: Option<String>,
    /// Only seats at most this price, in cents; `None` for any price.
    pub max_price_cents: Option<i64>,
    /// Take the best split when no row has `count` seats together.
    pub allow_split: bool,
}

impl BestRequest {
    /// Whether a seat is one this request may get: of its category (in any case) and at most
    /// its price. The one rule for a best-available hold and the seat map's preview of it.
    fn accepts(&self) -> impl Fn(&crate::fairness::SeatPos) -> bool + '_ {
        let category = self.category.as_ref().map(|c| c.to_ascii_uppercase());
        move |s| {
            category.as_deref().is_none_or(|c| c == &*s.category)
                && self.max_price_cents.is_none_or(|m| s.price_cents <= m)
        }
    }
}

impl BestRequest {
    /// Refuses a category the concert does not sell (a typo is not "not enough seats").
    pub(super) fn check_category(&self, prices: &[(String, i64)]) -> Result<()> {
        let Some(wanted) = &self.category else {
            return Ok(());
        };
        if prices
            .iter()
            .any(|(code, _)| code.eq_ignore_ascii_case(wanted))
        {
            return Ok(());
        }
        let mut codes: Vec<&str> = prices.iter().map(|p| p.0.as_str()).collect();
        codes.sort_unstable();
        Err(Error::invalid(format!(
            "this concert has no seat category {}; its categories are {}",
            wanted
                .chars()
                .filter(|c| !crate::text::is_hidden_or_control(*c))
                .take(20)
                .collect::<String>(),
            codes.join(", ")
        )))
    }
}

pub(super) fn pick_best(
    tx: &crate::store::Db,
    concert_id: i64,
    venue_id: i64,
    b: &BestRequest,
) -> Result<Vec<(i64, String, i64)>> {
    let (all, centre) = load_geometry(tx, concert_id, venue_id, FreeRule::NoClaim)?;
    let geo = crate::fairness::Geometry::new(&all, centre);
    let pick = geo.best(b.count, b.accepts()).ok_or_else(|| {
        Error::NotEnoughSeats(format!(
            "fewer than {} seats{}{} are free",
            b.count,
            b.category
                .as_deref()
                .map(|c| format!(" of category {}", c.to_ascii_uppercase()))
                .unwrap_or_default(),
            b.max_price_cents
                .map(|m| format!(" at {} or less", Money::new(m, "")))
                .unwrap_or_default()
        ))
    })?;
    if !pick.together && !b.allow_split {
        return Err(Error::NotTogether {
            n: b.count,
            suggestion: pick.labels,
        });
    }
    Ok(pick
        .ids
        .iter()
        .zip(&pick.labels)
        .map(|(id, label)| {
            let price = all
                .iter()
                .find(|s| s.id == *id)
                .map(|s| s.price_cents)
                .unwrap_or(0);
            (*id, label.clone(), price)
        })
        .collect())
}

impl Store {
    /// The best available seats right now, without holding them (the seat map's `b`).
    pub fn suggest_best(
        &self,
        concert_id: i64,
        best: &BestRequest,
    ) -> Result<crate::fairness::Pick> {
        best.check_category(&concert_rules(self.conn(), concert_id)?.prices)?;
        let (seats, centre) = self.geometry_now(concert_id)?;
        let geo = crate::fairness::Geometry::new(&seats, centre);
        geo.best(best.count, best.accepts()).ok_or_else(|| {
            Error::NotEnoughSeats(format!("fewer than {} seats are free", best.count))
        })
    }
}

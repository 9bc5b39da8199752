//! The catalog written in the import format (CSV, or the same rows as JSON), so that a season
//! moves between box offices as a file and re-imports onto the same rows.

use super::*;

/// One concert as the import and export files carry it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CatalogRow {
    /// The key rows are matched by on import (`spring-01`; `bx-` and its number if it had none).
    pub external_id: String,
    /// Who plays.
    pub artist: String,
    /// The concert's title.
    pub title: String,
    /// The slug of the venue (`danube-arena`).
    pub venue: String,
    /// `YYYY-MM-DD HH:MM Area/City`, at the venue.
    pub starts_at: String,
    /// When sales open, as `starts_at` is written.
    pub on_sale_at: String,
    /// The ISO 4217 code of its prices' currency (`EUR`).
    pub currency: String,
    /// The most tickets one customer may have for it.
    pub ticket_limit: i64,
    /// How long a hold keeps its seats, in minutes.
    pub hold_minutes: i64,
    /// How long someone offered seats from the waiting list has to pay, in minutes.
    pub offer_minutes: i64,
    /// `scheduled` or `cancelled` (called off): an import elsewhere keeps it so.
    pub status: String,
    /// Cents per category code.
    pub prices: BTreeMap<String, i64>,
}

impl Store {
    /// The whole catalog in the import format, in start order.
    pub fn export_catalog(&self) -> Result<Vec<CatalogRow>> {
        let mut st = self.conn().prepare(concat!(
            "SELECT c.id, c.external_id, c.artist, c.title, v.slug, v.timezone, c.starts_at, c.on_sale_at, c.currency,
                    c.ticket_limit, c.hold_minutes, c.offer_minutes, c.status
             FROM concerts c JOIN venues v ON v.id = c.venue_id WHERE ",
            crate::in_catalog!("c"),
            " ORDER BY c.starts_at, c.id"
        ))?;
        let rows: Vec<(i64, CatalogRow)> = st
            .query_map((), |r| {
                let tz: String = r.get(5)?;
                let tz: chrono_tz::Tz = tz.parse().unwrap_or(chrono_tz::UTC);
                let fmt = |t: i64| {
                    let local = from_ts(t).with_timezone(&tz);
                    // In the hour a clock change repeats, the local time alone names two
                    // moments: that one is written with its offset, which keeps the instant.
                    if tz
                        .from_local_datetime(&local.naive_local())
                        .single()
                        .is_none()
                    {
                        return local.fixed_offset().to_rfc3339();
                    }
                    format!("{} {}", local.format("%Y-%m-%d %H:%M"), tz.name())
                };
                let id: i64 = r.get(0)?;
                Ok((
                    id,
                    CatalogRow {
                        external_id: r
                            .get::<Option<String>>(1)?
                            .unwrap_or_else(|| format!("bx-{id}")),
                        artist: r.get(2)?,
                        title: r.get(3)?,
                        venue: r.get(4)?,
                        starts_at: fmt(r.get(6)?),
                        on_sale_at: fmt(r.get(7)?),
                        currency: r.get(8)?,
                        ticket_limit: r.get(9)?,
                        hold_minutes: r.get(10)?,
                        offer_minutes: r.get(11)?,
                        status: r.get(12)?,
                        prices: BTreeMap::new(),
                    },
                ))
            })?
            .collect::<crate::store::sql::Result<_>>()?;
        let mut prices = self
            .conn()
            .prepare_cached("SELECT category, price_cents FROM prices WHERE concert_id = ?1")?;
        let mut out = Vec::with_capacity(rows.len());
        for (id, mut row) in rows {
            row.prices = prices
                .query_map([id], |r| Ok((r.get(0)?, r.get(1)?)))?
                .collect::<crate::store::sql::Result<_>>()?;
            out.push(row);
        }
        Ok(out)
    }
    /// The catalog as CSV that `import_concerts` reads back unchanged.
    pub fn export_csv(&self) -> Result<String> {
        let rows = self.export_catalog()?;
        let mut codes: Vec<String> = rows.iter().flat_map(|r| r.prices.keys().cloned()).collect();
        codes.sort();
        codes.dedup();
        let mut w = csv::Writer::from_writer(Vec::new());
        let mut header: Vec<String> = REQUIRED
            .iter()
            .chain(OPTIONAL.iter())
            .map(|s| s.to_string())
            .collect();
        header.extend(codes.iter().map(|c| format!("price_{c}")));
        let csv_err = |e: csv::Error| Error::invalid(format!("cannot write CSV: {e}"));
        w.write_record(&header).map_err(csv_err)?;
        for r in rows {
            let money = |c: i64| format!("{}.{:02}", c / 100, c % 100);
            // Names a spreadsheet would run as formulas are quoted (import reads them back).
            let cell = |v: String| crate::text::spreadsheet_cell(&v);
            let mut rec = vec![
                cell(r.external_id),
                cell(r.artist),
                cell(r.title),
                cell(r.venue),
                r.starts_at,
                r.on_sale_at,
                r.currency,
                r.ticket_limit.to_string(),
                r.hold_minutes.to_string(),
                r.offer_minutes.to_string(),
                r.status,
            ];
            rec.extend(
                codes
                    .iter()
                    .map(|c| r.prices.get(c).map(|p| money(*p)).unwrap_or_default()),
            );
            w.write_record(&rec).map_err(csv_err)?;
        }
        let bytes = w
            .into_inner()
            .map_err(|e| Error::invalid(format!("cannot write CSV: {e}")))?;
        String::from_utf8(bytes).map_err(|e| Error::invalid(e.to_string()))
    }
}

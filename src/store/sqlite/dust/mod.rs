//! Dust in SQLite: `dust_devices`, `dust_readings` (WITHOUT ROWID, scaled integers),
//! `dust_hours` and `dust_pending_hours`, the `dust_monitors` and `dust_alerts` layers,
//! `dust_alert_cases` with `dust_exceedances` and `dust_alert_events`, and `dust_warnings` with
//! `dust_restrictions` and `dust_restriction_checks`.

mod alerts;
mod devices;
mod monitors;
mod readings;
mod warnings;

use geo::Point;

use super::gpkg;

/// A stored point geometry, if it decodes as one.
fn point(blob: Option<Vec<u8>>) -> Option<Point<f64>> {
    blob.and_then(|b| gpkg::decode(&b).ok())
        .and_then(|g| Point::try_from(g).ok())
}

/// A migrated database in memory, for unit tests.
#[cfg(test)]
pub(crate) fn memory() -> rusqlite::Connection {
    super::testing::memory().0
}

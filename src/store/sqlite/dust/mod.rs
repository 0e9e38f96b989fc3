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

/// A reading with PM10 alone, for unit tests.
#[cfg(test)]
pub(crate) fn pm10(
    at: i64,
    level: crate::domain::dust::reading::Level,
    v: f64,
) -> crate::domain::dust::reading::Reading {
    let mut r = crate::domain::dust::reading::Reading::new(at, level);
    r.set(crate::domain::dust::reading::Quantity::Pm10, Some(v));
    r
}

/// A device `WH0001` whose token hash is `t`, for unit tests.
#[cfg(test)]
pub(crate) fn device(conn: &rusqlite::Connection) -> crate::store::dust::devices::DeviceId {
    use crate::store::dust::devices::{Devices, NewDevice};
    super::SqliteTx::new(conn)
        .add(&NewDevice {
            mn: "WH0001",
            salt: "s",
            pw_hash: "p",
            token_hash: "t",
            hj212: &crate::domain::dust::device::Hj212Profile {
                unit: crate::domain::dust::reading::ParticulateUnit::MgPerM3,
                ..Default::default()
            },
            at: chrono::Utc::now(),
        })
        .expect("add")
}

//! Readings in and out: a batch stored in the caller's transaction (HTTP; HJ 212 packets go
//! through the group-commit writer, `ingest`), a monitor's readings or means as a user may read
//! them, and the means an insert changed, where the exceedance check starts.

use crate::domain::access::Scope;
use crate::domain::dust::reading::{Level, Reading};
use crate::domain::dust::rollup::{DayMean, HourMean, HourSums, day_means, day_start, hour_of};
use crate::error::{Error, Result};
use crate::layers::Layer;
use crate::store::dust::DeviceId;
use crate::store::dust::readings::Inserted;
use crate::store::{self, Tx};

/// Raw readings one answer may carry; longer ranges ask for hourly means.
pub const MAX_RAW: usize = 100_000;

/// Stores a monitor's batch. Readings already stored for the same (monitor, time) are counted
/// as duplicates and left as they were, so a retried batch stores nothing twice.
pub fn insert(tx: &dyn Tx, device: DeviceId, readings: &[Reading]) -> store::Result<Inserted> {
    tx.dust_readings().insert(device, readings)
}

/// Means an insert changed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Affected {
    /// `(hour, mean)` for each changed hour (Unix seconds / 3600).
    pub hourly: Vec<(i64, HourMean)>,
    /// The 24-hour means of the local days containing them.
    pub daily: Vec<DayMean>,
}

/// The hourly means of `hours` and the 24-hour means of the local days containing them, for a
/// check on what an insert changed ([`Inserted::hours`]): reads one day of rollup rows per day.
/// Where a device's data of `level` stopped before `before`: the times of its newest two
/// readings, newest first (the HJ 212 listener's gap check starts from them).
pub fn last_two(
    tx: &dyn Tx,
    device: DeviceId,
    level: Level,
    before: i64,
) -> store::Result<Vec<i64>> {
    tx.dust_readings().times_before(device, level, before, 2)
}

pub fn affected_means(tx: &dyn Tx, device: DeviceId, hours: &[i64]) -> store::Result<Affected> {
    let mut days: Vec<i64> = hours.iter().map(|h| day_start(h * 3600)).collect();
    days.sort_unstable();
    days.dedup();
    let mut out = Affected::default();
    for day in days {
        let rows: Vec<(i64, HourMean)> = tx
            .dust_readings()
            .hours(device, hour_of(day), hour_of(day) + 24)?
            .iter()
            .map(|(h, s)| (*h, s.mean()))
            .collect();
        out.hourly
            .extend(rows.iter().filter(|(h, _)| hours.contains(h)).copied());
        out.daily.extend(day_means(&rows));
    }
    Ok(out)
}

/// What a series is made of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interval {
    Raw,
    Hour,
    Day,
}

/// A monitor's readings or means over a range.
#[derive(Debug, Clone)]
pub enum Series {
    Raw(Vec<Reading>),
    /// `(hour, sums)`, hour = Unix seconds / 3600.
    Hours(Vec<(i64, HourSums)>),
    Days(Vec<DayMean>),
}

/// Monitor `mn`'s raw readings with `from <= time < to` (at most [`MAX_RAW`]), or the hourly or
/// daily means of the hours and local (UTC+8) days the range touches. `None` when the monitor is
/// not there or not for `scope` (the same answer); a monitor on the map without credentials
/// (imported) has no readings.
pub fn series(
    tx: &dyn Tx,
    layer: &Layer,
    scope: &Scope,
    mn: &str,
    interval: Interval,
    from: i64,
    to: i64,
) -> Result<Option<Series>> {
    let Some(monitor) = tx.dust_monitors().visible(layer, scope, mn)? else {
        return Ok(None);
    };
    let Some(device) = monitor.device else {
        return Ok(Some(Series::Hours(vec![])));
    };
    let readings = tx.dust_readings();
    Ok(Some(match interval {
        Interval::Raw => {
            let rs = readings.raw(device, from, to, MAX_RAW + 1)?;
            if rs.len() > MAX_RAW {
                return Err(
                    Error::invalid("dust_too_many_readings").arg("limit", MAX_RAW.to_string())
                );
            }
            Series::Raw(rs)
        }
        Interval::Hour => {
            Series::Hours(readings.hours(device, hour_of(from), hour_of(to - 1) + 1)?)
        }
        Interval::Day => {
            let first = day_start(from);
            let last = day_start(to - 1) + 86_400;
            let hours: Vec<(i64, HourMean)> = readings
                .hours(device, hour_of(first), hour_of(last))?
                .iter()
                .map(|(h, s)| (*h, s.mean()))
                .collect();
            Series::Days(day_means(&hours))
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::dust::reading::{Level, Quantity};
    use crate::store::sqlite::SqliteTx;
    use crate::store::sqlite::dust::{memory as db, pm10};
    use rusqlite::Connection;

    /// A device and its token hash.
    fn device(conn: &Connection) -> (DeviceId, String) {
        (crate::store::sqlite::dust::device(conn), "t".into())
    }

    fn insert(conn: &Connection, d: DeviceId, rs: &[Reading]) -> store::Result<Inserted> {
        super::insert(&SqliteTx::new(conn), d, rs)
    }

    fn affected_means(conn: &Connection, d: DeviceId, hours: &[i64]) -> store::Result<Affected> {
        super::affected_means(&SqliteTx::new(conn), d, hours)
    }

    #[test]
    fn an_insert_names_the_hours_and_days_whose_means_changed() {
        let conn = db();
        let (d, _) = device(&conn);
        // 2025-01-10 10:05 and 2025-01-11 00:05 local.
        let ins = insert(
            &conn,
            d,
            &[
                pm10(1_736_474_700, Level::Minute, 100.0),
                pm10(1_736_525_100, Level::Minute, 60.0),
            ],
        )
        .expect("insert");
        let Affected { hourly, daily } = affected_means(&conn, d, &ins.hours).expect("means");
        assert_eq!(hourly.len(), 2);
        assert_eq!(hourly[0].1.get(Quantity::Pm10), Some(100.0));
        assert_eq!(daily.len(), 2);
        assert_eq!(daily[0].start, 1_736_438_400);
        assert!(!daily[0].valid(), "one hour is not a valid day");
    }
}

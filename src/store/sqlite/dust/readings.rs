//! Dust readings in SQLite: `dust_readings` keyed (device, time) in a WITHOUT ROWID table of
//! scaled integers, one `dust_hours` rollup row per device and hour kept up to date on insert, and
//! `dust_pending_hours` for the exceedance check.
//!
//! Sizes: a reading is its key (device, Unix seconds) and seven values in tenths, each a 1–3
//! byte SQLite integer (a REAL would take 8), so a row is about 30 bytes before B-tree overhead.
//! The rollup rows (one per hour) are what means are computed from; readings are read back only
//! for `interval=raw`.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use rusqlite::params;

use crate::domain::dust::reading::{Level, Quantity, Reading};
use crate::domain::dust::rollup::{HourSums, SCALE, Sum, WindSum, hour_of, to_tenths};
use crate::store::Result;
use crate::store::dust::DeviceId;
use crate::store::dust::readings::{Inserted, Readings};
use crate::store::sqlite::SqliteTx;

const INSERT: &str =
    "INSERT INTO dust_readings(device, t, level, tsp, pm10, pm25, ws, wd, temp, rh, flags, suspect)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12) ON CONFLICT DO NOTHING";

/// Columns of `dust_hours` after (device, hour, level): they follow the merge rule.
const HOUR_COLUMNS: [&str; 12] = [
    "n", "tsp_n", "tsp_s", "pm10_n", "pm10_s", "pm25_n", "pm25_s", "ws_n", "ws_s", "wd_n", "wd_x",
    "wd_y",
];

/// The rollup upsert: the merge of [`HourSums::merge`] in SQL (in an UPDATE every expression
/// sees the old row, so `level` on the right is the stored level).
static UPSERT: LazyLock<String> = LazyLock::new(|| {
    let cols = HOUR_COLUMNS;
    let set: Vec<String> = cols
        .iter()
        .map(|c| {
            format!(
                "{c} = CASE WHEN excluded.level < level THEN excluded.{c} \
                 WHEN excluded.level = level THEN {c} + excluded.{c} ELSE {c} END"
            )
        })
        .collect();
    format!(
        "INSERT INTO dust_hours(device, hour, level, {}) VALUES (?1, ?2, ?3, {}) \
         ON CONFLICT(device, hour) DO UPDATE SET {}, level = min(level, excluded.level)",
        cols.join(", "),
        (4..4 + cols.len())
            .map(|i| format!("?{i}"))
            .collect::<Vec<_>>()
            .join(", "),
        set.join(", ")
    )
});

fn tenths(r: &Reading, q: Quantity) -> Option<i64> {
    r.get(q).map(to_tenths)
}

fn level(n: i64) -> rusqlite::Result<Level> {
    Level::from_i64(n).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            2,
            rusqlite::types::Type::Integer,
            format!("unknown dust reading level {n}").into(),
        )
    })
}

/// The data flags as stored: a character a quantity, `-` where none was sent; `None` when no
/// value had one (the common case costs nothing).
fn flags_text(r: &Reading) -> Option<String> {
    r.flags
        .iter()
        .any(Option::is_some)
        .then(|| r.flags.iter().map(|f| f.map_or('-', char::from)).collect())
}

/// Reads `t, level, tsp, pm10, pm25, ws, wd, temp, rh, flags, suspect`.
fn reading_row(r: &rusqlite::Row) -> rusqlite::Result<Reading> {
    let mut reading = Reading::new(r.get(0)?, level(r.get(1)?)?);
    for (i, q) in Quantity::ALL.into_iter().enumerate() {
        let v: Option<i64> = r.get(2 + i)?;
        reading.set(q, v.map(|v| v as f64 / SCALE));
    }
    if let Some(flags) = r.get::<_, Option<String>>(9)? {
        for (q, f) in Quantity::ALL.into_iter().zip(flags.bytes()) {
            reading.set_flag(q, (f != b'-').then_some(f));
        }
    }
    reading.suspect = r.get::<_, Option<u8>>(10)?.unwrap_or(0);
    Ok(reading)
}

impl SqliteTx<'_> {
    fn newest(&self, sql: &str, device: DeviceId) -> Result<Option<Reading>> {
        let mut stmt = self.conn.prepare_cached(sql)?;
        let mut rows = stmt.query_map([device.0], reading_row)?;
        Ok(rows.next().transpose()?)
    }
}

impl Readings for SqliteTx<'_> {
    fn insert(&self, device: DeviceId, readings: &[Reading]) -> Result<Inserted> {
        let mut ins = self.conn.prepare_cached(INSERT)?;
        let mut hours: BTreeMap<i64, HourSums> = BTreeMap::new();
        let mut out = Inserted::default();
        for r in readings {
            let changed = ins.execute(params![
                device.0,
                r.at,
                r.level as i64,
                tenths(r, Quantity::Tsp),
                tenths(r, Quantity::Pm10),
                tenths(r, Quantity::Pm25),
                tenths(r, Quantity::WindSpeed),
                tenths(r, Quantity::WindDir),
                tenths(r, Quantity::Temperature),
                tenths(r, Quantity::Humidity),
                flags_text(r),
                (r.suspect != 0).then_some(r.suspect),
            ])?;
            if changed == 0 {
                out.duplicates += 1;
                continue;
            }
            out.stored += 1;
            out.suspect += r.suspects() as usize;
            if let Some(s) = HourSums::of(r) {
                hours
                    .entry(hour_of(r.at))
                    .and_modify(|h| *h = h.merge(s))
                    .or_insert(s);
            }
        }
        let mut up = self.conn.prepare_cached(&UPSERT)?;
        for (hour, s) in &hours {
            let [tsp, pm10, pm25, ws] = s.sums;
            up.execute(params![
                device.0,
                hour,
                s.level as i64,
                s.n,
                tsp.n,
                tsp.tenths,
                pm10.n,
                pm10.tenths,
                pm25.n,
                pm25.tenths,
                ws.n,
                ws.tenths,
                s.wind_dir.n,
                s.wind_dir.x,
                s.wind_dir.y,
            ])?;
        }
        let mut pending = self.conn.prepare_cached(
            "INSERT OR IGNORE INTO dust_pending_hours(device, hour) VALUES (?1, ?2)",
        )?;
        for hour in hours.keys() {
            pending.execute(params![device.0, hour])?;
        }
        if out.suspect > 0 {
            self.conn
                .prepare_cached(
                    "UPDATE dust_devices SET suspect_values = suspect_values + ?2 WHERE id = ?1",
                )?
                .execute(params![device.0, out.suspect])?;
        }
        out.hours = hours.into_keys().collect();
        Ok(out)
    }

    fn raw(&self, device: DeviceId, from: i64, to: i64, limit: usize) -> Result<Vec<Reading>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT t, level, tsp, pm10, pm25, ws, wd, temp, rh, flags, suspect FROM dust_readings
             WHERE device = ?1 AND t >= ?2 AND t < ?3 ORDER BY t LIMIT ?4",
        )?;
        let rows = stmt.query_map(
            params![device.0, from, to, i64::try_from(limit).unwrap_or(i64::MAX)],
            reading_row,
        )?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn latest(&self, device: DeviceId) -> Result<Option<Reading>> {
        self.newest(
            "SELECT t, level, tsp, pm10, pm25, ws, wd, temp, rh, flags, suspect FROM dust_readings
             WHERE device = ?1 ORDER BY t DESC LIMIT 1",
            device,
        )
    }

    // The wind speed is the fourth quantity (bit 8, character 4): only a valid one counts.
    fn latest_wind(&self, device: DeviceId) -> Result<Option<Reading>> {
        self.newest(
            "SELECT t, level, tsp, pm10, pm25, ws, wd, temp, rh, flags, suspect FROM dust_readings
             WHERE device = ?1 AND ws IS NOT NULL AND coalesce(suspect & 8, 0) = 0
               AND coalesce(substr(flags, 4, 1), '-') IN ('-', 'N', 'T')
             ORDER BY t DESC LIMIT 1",
            device,
        )
    }

    fn times_before(
        &self,
        device: DeviceId,
        level: Level,
        before: i64,
        n: usize,
    ) -> Result<Vec<i64>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT t FROM dust_readings WHERE device = ?1 AND level = ?2 AND t < ?3
             ORDER BY t DESC LIMIT ?4",
        )?;
        let rows = stmt.query_map(
            params![
                device.0,
                level as i64,
                before,
                i64::try_from(n).unwrap_or(i64::MAX)
            ],
            |r| r.get(0),
        )?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn hours(
        &self,
        device: DeviceId,
        from_hour: i64,
        to_hour: i64,
    ) -> Result<Vec<(i64, HourSums)>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT hour, level, n, tsp_n, tsp_s, pm10_n, pm10_s, pm25_n, pm25_s, ws_n, ws_s,
                    wd_n, wd_x, wd_y
             FROM dust_hours WHERE device = ?1 AND hour >= ?2 AND hour < ?3 ORDER BY hour",
        )?;
        let rows = stmt.query_map(params![device.0, from_hour, to_hour], |r| {
            let sum = |i: usize| -> rusqlite::Result<Sum> {
                Ok(Sum {
                    n: r.get(i)?,
                    tenths: r.get(i + 1)?,
                })
            };
            Ok((
                r.get(0)?,
                HourSums {
                    level: level(r.get(1)?)?,
                    n: r.get(2)?,
                    sums: [sum(3)?, sum(5)?, sum(7)?, sum(9)?],
                    wind_dir: WindSum {
                        n: r.get(11)?,
                        x: r.get(12)?,
                        y: r.get(13)?,
                    },
                },
            ))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn pending_hours(&self, before_hour: i64) -> Result<BTreeMap<DeviceId, Vec<i64>>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT device, hour FROM dust_pending_hours WHERE hour < ?1 ORDER BY device, hour",
        )?;
        let mut out: BTreeMap<DeviceId, Vec<i64>> = BTreeMap::new();
        for row in stmt.query_map([before_hour], |r| Ok((r.get(0)?, r.get(1)?)))? {
            let (device, hour): (i64, i64) = row?;
            out.entry(DeviceId(device)).or_default().push(hour);
        }
        Ok(out)
    }

    fn clear_pending(&self, device: DeviceId, hours: &[i64]) -> Result<()> {
        let mut stmt = self
            .conn
            .prepare_cached("DELETE FROM dust_pending_hours WHERE device = ?1 AND hour = ?2")?;
        for h in hours {
            stmt.execute(params![device.0, h])?;
        }
        Ok(())
    }

    fn drop_pending_before(&self, oldest_hour: i64) -> Result<usize> {
        Ok(self.conn.execute(
            "DELETE FROM dust_pending_hours WHERE hour < ?1",
            [oldest_hour],
        )?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::sqlite::dust::{device, memory as db, pm10};
    use rusqlite::Connection;

    fn insert(conn: &Connection, d: DeviceId, rs: &[Reading]) -> Result<Inserted> {
        SqliteTx::new(conn).insert(d, rs)
    }

    fn hours(conn: &Connection, d: DeviceId, from: i64, to: i64) -> Result<Vec<(i64, HourSums)>> {
        SqliteTx::new(conn).hours(d, from, to)
    }

    fn hour_mean(conn: &Connection, d: DeviceId, hour: i64) -> Option<f64> {
        hours(conn, d, hour, hour + 1).expect("hours")[0]
            .1
            .mean()
            .get(Quantity::Pm10)
    }

    #[test]
    fn the_same_reading_twice_is_stored_once() {
        let conn = db();
        let d = device(&conn);
        let batch = vec![
            pm10(3600, Level::RealTime, 80.0),
            pm10(3660, Level::RealTime, 100.0),
        ];
        let first = insert(&conn, d, &batch).expect("insert");
        assert_eq!((first.stored, first.duplicates), (2, 0));
        assert_eq!(first.hours, vec![1]);
        let again = insert(&conn, d, &batch).expect("insert");
        assert_eq!((again.stored, again.duplicates), (0, 2));
        assert!(again.hours.is_empty());
        let n = crate::store::sqlite::testing::number(&conn, "SELECT count(*) FROM dust_readings");
        assert_eq!(n, 2);
        let h = hours(&conn, d, 0, 10).expect("hours");
        assert_eq!(h.len(), 1);
        assert_eq!(h[0].1.n, 2);
        assert_eq!(hour_mean(&conn, d, 1), Some(90.0));
    }

    #[test]
    fn real_time_and_minute_data_of_the_same_minute_are_both_kept() {
        let conn = db();
        let d = device(&conn);
        let batch = vec![
            pm10(3600, Level::RealTime, 80.0),
            pm10(3600, Level::Minute, 100.0),
            pm10(3660, Level::Minute, 110.0),
        ];
        let first = insert(&conn, d, &batch).expect("insert");
        assert_eq!((first.stored, first.duplicates), (3, 0));
        // The hour is built from its minute data alone.
        assert_eq!(hour_mean(&conn, d, 1), Some(105.0));
        let tx = SqliteTx::new(&conn);
        assert_eq!(
            tx.times_before(d, Level::Minute, 4000, 5).expect("times"),
            vec![3660, 3600]
        );
        assert_eq!(
            tx.times_before(d, Level::RealTime, 3600, 5).expect("times"),
            Vec::<i64>::new()
        );
    }

    #[test]
    fn a_late_reading_lands_in_its_own_hour() {
        let conn = db();
        let d = device(&conn);
        insert(
            &conn,
            d,
            &[
                pm10(3600, Level::Minute, 100.0),
                pm10(7200, Level::Minute, 50.0),
            ],
        )
        .expect("insert");
        // Late: an hour-1 reading after hour 2's.
        insert(&conn, d, &[pm10(3660, Level::Minute, 200.0)]).expect("insert");
        assert_eq!(hour_mean(&conn, d, 1), Some(150.0));
        assert_eq!(hour_mean(&conn, d, 2), Some(50.0));
    }

    #[test]
    fn a_devices_hourly_figure_gives_way_to_minute_readings() {
        let conn = db();
        let d = device(&conn);
        insert(&conn, d, &[pm10(3600, Level::Hour, 500.0)]).expect("insert");
        assert_eq!(hour_mean(&conn, d, 1), Some(500.0));
        insert(&conn, d, &[pm10(3660, Level::Minute, 100.0)]).expect("insert");
        insert(&conn, d, &[pm10(3720, Level::Minute, 120.0)]).expect("insert");
        assert_eq!(hour_mean(&conn, d, 1), Some(110.0));
        let r = SqliteTx::new(&conn).raw(d, 0, 10_000, 10).expect("raw");
        assert_eq!(r.len(), 3);
        assert_eq!(r[0].level, Level::Hour);
        assert_eq!(r[1].get(Quantity::Pm10), Some(100.0));
    }
}

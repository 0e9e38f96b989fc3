//! Dust storage: devices and their credentials, readings keyed (device, time) in a WITHOUT ROWID
//! table of scaled integers, and one rollup row per device and hour kept up to date on insert.
//!
//! Sizes: a reading is its key (device, Unix seconds) and seven values in tenths, each a 1–3
//! byte SQLite integer (a REAL would take 8), so a row is about 30 bytes before B-tree overhead.
//! The rollup rows (one per hour) are what means are computed from; readings are read back only
//! for `interval=raw`.

use std::collections::BTreeMap;
use std::sync::LazyLock;

use rand::RngCore;
use rusqlite::{Connection, OptionalExtension, params};
use sha2::{Digest, Sha256};

use super::{Result, StoreError};
use crate::domain::dust::reading::ParticulateUnit;
use crate::domain::dust::reading::{Level, Quantity, Reading};
use crate::domain::dust::rollup::{
    DayMean, HourMean, HourSums, Sum, WindSum, day_means, day_start, hour_of, to_tenths,
};

/// A registered device (the row id of `dust_devices`, never reused).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DeviceId(pub i64);

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn random_hex(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    rand::rng().fill_bytes(&mut bytes);
    hex(&bytes)
}

fn sha256_hex(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0]);
    }
    hex(&h.finalize())
}

/// What the HJ 212 listener needs to accept a device's packets.
#[derive(Debug, Clone)]
pub struct DeviceAuth {
    pub id: DeviceId,
    pub mn: String,
    salt: String,
    pw_hash: String,
    pub unit: ParticulateUnit,
}

impl DeviceAuth {
    /// Whether a packet's PW is the device's. The HJ 212 PW travels in clear text in every
    /// packet, so a salted SHA-256 (fast enough to check 20,000 packets a second, unlike argon2)
    /// only keeps it from being read off the database; comparing hashes leaks nothing by timing.
    pub fn password_ok(&self, pw: &str) -> bool {
        sha256_hex(&[&self.salt, pw]) == self.pw_hash
    }
}

/// Registers a device; returns its id and its HTTP device token (random, stored only hashed,
/// so it can be shown once).
pub fn add_device(
    conn: &Connection,
    mn: &str,
    password: &str,
    unit: ParticulateUnit,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<(DeviceId, String)> {
    let salt = random_hex(16);
    let token = random_hex(32);
    conn.execute(
        "INSERT INTO dust_devices(mn, pw_salt, pw_hash, token_hash, unit, created_at, token_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
        params![
            mn,
            salt,
            sha256_hex(&[&salt, password]),
            sha256_hex(&[&token]),
            unit.as_str(),
            now.to_rfc3339()
        ],
    )?;
    Ok((DeviceId(conn.last_insert_rowid()), token))
}

/// Whether a device with this MN is registered.
pub fn device_by_mn(conn: &Connection, mn: &str) -> Result<Option<DeviceId>> {
    Ok(conn
        .query_row("SELECT id FROM dust_devices WHERE mn = ?1", [mn], |r| {
            r.get(0).map(DeviceId)
        })
        .optional()?)
}

/// Issues a new HTTP token for a device (the old one stops working); `None` for an unknown MN.
pub fn new_token(
    conn: &Connection,
    mn: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Option<String>> {
    let token = random_hex(32);
    let n = conn.execute(
        "UPDATE dust_devices SET token_hash = ?2, token_at = ?3, revoked_at = NULL WHERE mn = ?1",
        params![mn, sha256_hex(&[&token]), now.to_rfc3339()],
    )?;
    Ok((n == 1).then_some(token))
}

/// Revokes a device's HTTP token; false for an unknown MN.
pub fn revoke_token(
    conn: &Connection,
    mn: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<bool> {
    let n = conn.execute(
        "UPDATE dust_devices SET token_hash = NULL, revoked_at = ?2 WHERE mn = ?1",
        params![mn, now.to_rfc3339()],
    )?;
    Ok(n == 1)
}

/// The device a live HTTP token belongs to.
pub fn device_for_token(conn: &Connection, token: &str) -> Result<Option<DeviceId>> {
    Ok(conn
        .prepare_cached("SELECT id FROM dust_devices WHERE token_hash = ?1")?
        .query_row([sha256_hex(&[token])], |r| r.get(0).map(DeviceId))
        .optional()?)
}

/// Every device's HJ 212 credentials (the listener keeps them in memory).
pub fn all_auth(conn: &Connection) -> Result<Vec<DeviceAuth>> {
    let mut stmt = conn.prepare("SELECT id, mn, pw_salt, pw_hash, unit FROM dust_devices")?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
            r.get::<_, String>(4)?,
        ))
    })?;
    let mut out = vec![];
    for row in rows {
        let (id, mn, salt, pw_hash, unit) = row?;
        let unit = ParticulateUnit::parse(&unit).ok_or_else(|| {
            StoreError::Corrupt(format!("dust device {mn}: unknown unit {unit:?}"))
        })?;
        out.push(DeviceAuth {
            id: DeviceId(id),
            mn,
            salt,
            pw_hash,
            unit,
        });
    }
    Ok(out)
}

/// What an insert did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Inserted {
    /// Readings stored.
    pub stored: usize,
    /// Readings whose (device, time) was already stored: the first one stays.
    pub duplicates: usize,
    /// The hours (Unix seconds / 3600) whose rollup changed: where a check on new hourly and
    /// 24-hour means (exceedances) starts.
    pub hours: Vec<i64>,
}

const INSERT: &str =
    "INSERT INTO dust_readings(device, t, level, tsp, pm10, pm25, ws, wd, temp, rh)
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) ON CONFLICT DO NOTHING";

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

/// Stores readings of one device (in the caller's transaction) and adds the new ones to their
/// hours' rollups. Readings already stored for the same (device, time) are left as they were,
/// so a retried batch stores nothing twice.
pub fn insert(conn: &Connection, device: DeviceId, readings: &[Reading]) -> Result<Inserted> {
    let mut ins = conn.prepare_cached(INSERT)?;
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
        ])?;
        if changed == 0 {
            out.duplicates += 1;
            continue;
        }
        out.stored += 1;
        if let Some(s) = HourSums::of(r) {
            hours
                .entry(hour_of(r.at))
                .and_modify(|h| *h = h.merge(s))
                .or_insert(s);
        }
    }
    let mut up = conn.prepare_cached(&UPSERT)?;
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
    let mut pending = conn
        .prepare_cached("INSERT OR IGNORE INTO dust_pending_hours(device, hour) VALUES (?1, ?2)")?;
    for hour in hours.keys() {
        pending.execute(params![device.0, hour])?;
    }
    out.hours = hours.into_keys().collect();
    Ok(out)
}

/// The hours waiting to be judged, by device, that ended before `before_hour`.
pub fn pending_hours(conn: &Connection, before_hour: i64) -> Result<BTreeMap<i64, Vec<i64>>> {
    let mut stmt = conn.prepare_cached(
        "SELECT device, hour FROM dust_pending_hours WHERE hour < ?1 ORDER BY device, hour",
    )?;
    let mut out: BTreeMap<i64, Vec<i64>> = BTreeMap::new();
    for row in stmt.query_map([before_hour], |r| Ok((r.get(0)?, r.get(1)?)))? {
        let (device, hour): (i64, i64) = row?;
        out.entry(device).or_default().push(hour);
    }
    Ok(out)
}

/// Forgets judged hours of a device.
pub fn clear_pending(conn: &Connection, device: DeviceId, hours: &[i64]) -> Result<()> {
    let mut stmt =
        conn.prepare_cached("DELETE FROM dust_pending_hours WHERE device = ?1 AND hour = ?2")?;
    for h in hours {
        stmt.execute(params![device.0, h])?;
    }
    Ok(())
}

/// Forgets pending hours older than `oldest_hour`: too late to be judged.
pub fn drop_pending_before(conn: &Connection, oldest_hour: i64) -> Result<usize> {
    Ok(conn.execute(
        "DELETE FROM dust_pending_hours WHERE hour < ?1",
        [oldest_hour],
    )?)
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

/// A device's readings with `from <= t < to` (Unix seconds), oldest first, at most `limit`.
pub fn raw(
    conn: &Connection,
    device: DeviceId,
    from: i64,
    to: i64,
    limit: usize,
) -> Result<Vec<Reading>> {
    let mut stmt = conn.prepare_cached(
        "SELECT t, level, tsp, pm10, pm25, ws, wd, temp, rh FROM dust_readings
         WHERE device = ?1 AND t >= ?2 AND t < ?3 ORDER BY t LIMIT ?4",
    )?;
    let rows = stmt.query_map(
        params![device.0, from, to, i64::try_from(limit).unwrap_or(i64::MAX)],
        reading_row,
    )?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// A device's newest reading, if any (and, with `wind`, the newest carrying a wind speed).
pub fn latest(conn: &Connection, device: DeviceId, wind: bool) -> Result<Option<Reading>> {
    let sql = if wind {
        "SELECT t, level, tsp, pm10, pm25, ws, wd, temp, rh FROM dust_readings
         WHERE device = ?1 AND ws IS NOT NULL ORDER BY t DESC LIMIT 1"
    } else {
        "SELECT t, level, tsp, pm10, pm25, ws, wd, temp, rh FROM dust_readings
         WHERE device = ?1 ORDER BY t DESC LIMIT 1"
    };
    let mut stmt = conn.prepare_cached(sql)?;
    let mut rows = stmt.query_map([device.0], reading_row)?;
    Ok(rows.next().transpose()?)
}

fn reading_row(r: &rusqlite::Row) -> rusqlite::Result<Reading> {
    let mut reading = Reading::new(r.get(0)?, level(r.get(1)?)?);
    for (i, q) in Quantity::ALL.into_iter().enumerate() {
        let v: Option<i64> = r.get(2 + i)?;
        reading.set(q, v.map(|v| v as f64 / crate::domain::dust::rollup::SCALE));
    }
    Ok(reading)
}

/// A device's hourly rollups for hours `from_hour <= hour < to_hour`, oldest first.
pub fn hours(
    conn: &Connection,
    device: DeviceId,
    from_hour: i64,
    to_hour: i64,
) -> Result<Vec<(i64, HourSums)>> {
    let mut stmt = conn.prepare_cached(
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
pub fn affected_means(conn: &Connection, device: DeviceId, hours: &[i64]) -> Result<Affected> {
    let mut days: Vec<i64> = hours.iter().map(|h| day_start(h * 3600)).collect();
    days.sort_unstable();
    days.dedup();
    let mut out = Affected::default();
    for day in days {
        let rows: Vec<(i64, HourMean)> =
            self::hours(conn, device, hour_of(day), hour_of(day) + 24)?
                .iter()
                .map(|(h, s)| (*h, s.mean()))
                .collect();
        out.hourly
            .extend(rows.iter().filter(|(h, _)| hours.contains(h)).copied());
        out.daily.extend(day_means(&rows));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::Registry;

    fn db() -> Connection {
        let mut conn = Connection::open_in_memory().expect("db");
        crate::store::gpkg::register_functions(&conn).expect("functions");
        let registry = Registry::builtin().expect("layers");
        crate::store::schema::migrate(&mut conn, &registry).expect("migrate");
        conn
    }

    fn pm10(at: i64, level: Level, v: f64) -> Reading {
        let mut r = Reading::new(at, level);
        r.set(Quantity::Pm10, Some(v));
        r
    }

    fn device(conn: &Connection) -> (DeviceId, String) {
        add_device(
            conn,
            "WH0001",
            "123456",
            ParticulateUnit::MgPerM3,
            chrono::Utc::now(),
        )
        .expect("add")
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
        let (d, _) = device(&conn);
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
        let n: i64 = conn
            .query_row("SELECT count(*) FROM dust_readings", [], |r| r.get(0))
            .expect("count");
        assert_eq!(n, 2);
        let h = hours(&conn, d, 0, 10).expect("hours");
        assert_eq!(h.len(), 1);
        assert_eq!(h[0].1.n, 2);
        assert_eq!(hour_mean(&conn, d, 1), Some(90.0));
    }

    #[test]
    fn a_late_reading_lands_in_its_own_hour() {
        let conn = db();
        let (d, _) = device(&conn);
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

    #[test]
    fn a_devices_hourly_figure_gives_way_to_minute_readings() {
        let conn = db();
        let (d, _) = device(&conn);
        insert(&conn, d, &[pm10(3600, Level::Hour, 500.0)]).expect("insert");
        assert_eq!(hour_mean(&conn, d, 1), Some(500.0));
        insert(&conn, d, &[pm10(3660, Level::Minute, 100.0)]).expect("insert");
        insert(&conn, d, &[pm10(3720, Level::Minute, 120.0)]).expect("insert");
        assert_eq!(hour_mean(&conn, d, 1), Some(110.0));
        let r = raw(&conn, d, 0, 10_000, 10).expect("raw");
        assert_eq!(r.len(), 3);
        assert_eq!(r[0].level, Level::Hour);
        assert_eq!(r[1].get(Quantity::Pm10), Some(100.0));
    }

    #[test]
    fn tokens_and_passwords_are_stored_hashed_and_tokens_revocable() {
        let conn = db();
        let (d, token) = device(&conn);
        assert_eq!(device_for_token(&conn, &token).expect("lookup"), Some(d));
        let stored: String = conn
            .query_row(
                "SELECT pw_hash || coalesce(token_hash, '') FROM dust_devices",
                [],
                |r| r.get(0),
            )
            .expect("row");
        assert!(!stored.contains(&token) && !stored.contains("123456"));
        let auth = all_auth(&conn).expect("auth");
        assert!(auth[0].password_ok("123456"));
        assert!(!auth[0].password_ok("654321"));
        assert!(revoke_token(&conn, "WH0001", chrono::Utc::now()).expect("revoke"));
        assert_eq!(device_for_token(&conn, &token).expect("lookup"), None);
        let fresh = new_token(&conn, "WH0001", chrono::Utc::now())
            .expect("token")
            .expect("known");
        assert_eq!(device_for_token(&conn, &fresh).expect("lookup"), Some(d));
        assert_eq!(
            new_token(&conn, "NOPE", chrono::Utc::now()).expect("token"),
            None
        );
    }
}

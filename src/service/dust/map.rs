//! The dust map's monitors with their latest figures and state (the dot's colour), and the
//! high-wind suggestions shown to managers. The judgement is in `domain::dust::watch`.

use chrono::{DateTime, Utc};
use geo::{Contains, Point};
use rusqlite::Connection;
use serde_json::{Value, json};

use crate::domain::dust::reading::{Quantity, local_rfc3339};
use crate::domain::dust::rollup::{MIN_HOURS_FOR_DAY, hour_of};
use crate::domain::dust::watch::{self as dust_watch, Latest};
use crate::domain::dust::{DustRules, WarningLevel};
use crate::domain::responsibility::ResponsibilityIndex;
use crate::domain::role::{Actor, Role};
use crate::error::{Error, Result};
use crate::layers::Layer;
use crate::store::Tx;
use crate::store::dust::DeviceId;
use crate::store::{self, features::scope_sql, gpkg};

/// One monitor as the actor's scope lets it be read.
struct Row {
    mn: String,
    name: Option<String>,
    mine: Option<String>,
    holder: Option<String>,
    district_code: Option<String>,
    at: Option<Point<f64>>,
    device: Option<DeviceId>,
}

fn rows(conn: &Connection, layer: &Layer, actor: &Actor) -> store::Result<Vec<Row>> {
    let (cond, params) = scope_sql(layer, &layer.read_scope(actor), "");
    let sql = format!(
        "SELECT t.mn, t.name, t.mine, t.holder, t.district_code, t.geom, d.id
         FROM \"{}\" t LEFT JOIN dust_devices d ON d.mn = t.mn WHERE {cond} ORDER BY t.mn",
        layer.name
    );
    let mut stmt = conn.prepare(&sql)?;
    let out = stmt.query_map(rusqlite::params_from_iter(params), |r| {
        let geom: Option<Vec<u8>> = r.get(5)?;
        Ok(Row {
            mn: r.get(0)?,
            name: r.get(1)?,
            mine: r.get(2)?,
            holder: r.get(3)?,
            district_code: r.get(4)?,
            at: geom
                .and_then(|b| gpkg::decode(&b).ok())
                .and_then(|g| Point::try_from(g).ok()),
            device: r.get::<_, Option<i64>>(6)?.map(DeviceId),
        })
    })?;
    Ok(out.collect::<rusqlite::Result<_>>()?)
}

/// The means a monitor's state is judged on: the last finished hour's TSP, and the means of the
/// 24 finished hours before now (valid when each particulate has ≥ 20 hourly values).
fn latest(conn: &Connection, device: DeviceId, now: i64) -> store::Result<(Latest, Value, Value)> {
    let t = crate::store::sqlite::SqliteTx::new(conn);
    let newest = t.dust_readings().latest(device)?;
    let this_hour = hour_of(now);
    let hours = t.dust_readings().hours(device, this_hour - 24, this_hour)?;
    let hour = hours
        .iter()
        .find(|(h, _)| *h == this_hour - 1)
        .map(|(h, s)| (*h, s.mean()));
    let mut sums = [0.0; 3];
    let mut counts = [0usize; 3];
    for (_, s) in &hours {
        let m = s.mean();
        for (i, q) in [Quantity::Pm10, Quantity::Pm25, Quantity::Tsp]
            .iter()
            .enumerate()
        {
            if let Some(v) = m.get(*q) {
                sums[i] += v;
                counts[i] += 1;
            }
        }
    }
    let mean = |i: usize| (counts[i] > 0).then(|| sums[i] / counts[i] as f64);
    let valid =
        counts.iter().any(|&n| n > 0) && counts.iter().all(|&n| n == 0 || n >= MIN_HOURS_FOR_DAY);
    let l = Latest {
        at: newest.as_ref().map(|r| r.at),
        hour_tsp: hour.and_then(|(_, m)| m.get(Quantity::Tsp)),
        day_pm10: mean(0),
        day_pm25: mean(1),
        day_tsp: mean(2),
        day_valid: valid,
    };
    let latest_json = newest.map_or(Value::Null, |r| {
        json!({
            "time": local_rfc3339(r.at),
            "tsp": r.get(Quantity::Tsp),
            "pm10": r.get(Quantity::Pm10),
            "pm25": r.get(Quantity::Pm25),
            "wind_speed": r.get(Quantity::WindSpeed),
            "wind_dir": r.get(Quantity::WindDir),
        })
    });
    let hour_json = hour.map_or(
        Value::Null,
        |(h, m)| json!({"start": local_rfc3339(h * 3600), "tsp": m.get(Quantity::Tsp), "n": m.n}),
    );
    let day_json = if counts.iter().all(|&n| n == 0) {
        Value::Null
    } else {
        json!({
            "pm10": l.day_pm10, "pm25": l.day_pm25, "tsp": l.day_tsp,
            "n": counts.iter().max(), "valid": valid,
        })
    };
    Ok((l, latest_json, json!({"hour": hour_json, "day": day_json})))
}

/// The monitors the actor may see, each with its latest figures, `ratio` and `state`.
pub fn monitors(
    conn: &Connection,
    layer: &Layer,
    actor: &Actor,
    rules: &DustRules,
    now: DateTime<Utc>,
) -> store::Result<Vec<Value>> {
    let mut out = vec![];
    for m in rows(conn, layer, actor)? {
        let (l, latest_json, means) = match m.device {
            Some(d) => latest(conn, d, now.timestamp())?,
            None => (
                Latest::default(),
                Value::Null,
                json!({"hour": null, "day": null}),
            ),
        };
        out.push(json!({
            "mn": m.mn,
            "name": m.name,
            "mine": m.mine,
            "holder": m.holder,
            "district_code": m.district_code,
            "position": m.at.map(|p| [p.x(), p.y()]),
            "latest": latest_json,
            "hour": means["hour"],
            "day": means["day"],
            "ratio": dust_watch::ratio(rules, &l),
            "state": dust_watch::state(rules, &l, now.timestamp()),
        }));
    }
    Ok(out)
}

/// Whether a gale or sandstorm warning in force covers the point (by district or drawn area).
fn covered(
    conn: &Connection,
    index: &ResponsibilityIndex,
    p: Point<f64>,
    now: &str,
) -> store::Result<bool> {
    let mut stmt = conn.prepare_cached(
        "SELECT districts, area FROM dust_warnings
         WHERE level IN (?1, ?2) AND starts_at <= ?3 AND ?3 < ends_at",
    )?;
    let rows = stmt.query_map(
        [
            WarningLevel::Gale.as_str(),
            WarningLevel::Sandstorm.as_str(),
            now,
        ],
        |r| Ok((r.get::<_, String>(0)?, r.get::<_, Option<String>>(1)?)),
    )?;
    for row in rows {
        let (districts, area) = row?;
        let codes: Vec<String> = serde_json::from_str(&districts).unwrap_or_default();
        if codes
            .iter()
            .filter_map(|c| index.district_by_code(c))
            .any(|d| d.geom.contains(&p))
        {
            return Ok(true);
        }
        let area = area
            .and_then(|a| serde_json::from_str::<geojson::Geometry>(&a).ok())
            .and_then(|g| geo::Geometry::<f64>::try_from(g).ok());
        if area.is_some_and(|a| a.contains(&p)) {
            return Ok(true);
        }
    }
    Ok(false)
}

/// High-wind suggestions for a manager: monitors whose recent wind is at or over the threshold
/// and which no gale or sandstorm warning in force covers yet. Other roles: 403.
pub fn suggestions(
    conn: &Connection,
    layer: &Layer,
    index: &ResponsibilityIndex,
    actor: &Actor,
    rules: &DustRules,
    now: DateTime<Utc>,
) -> Result<Value> {
    if actor.role != Role::Manager {
        return Err(Error::forbidden());
    }
    let now_s = crate::store::fires::ts(now);
    let mut out = vec![];
    for m in rows(conn, layer, actor)? {
        let (Some(device), Some(p)) = (m.device, m.at) else {
            continue;
        };
        let Some(r) = crate::store::sqlite::SqliteTx::new(conn)
            .dust_readings()
            .latest_wind(device)?
        else {
            continue;
        };
        let wind = r.get(Quantity::WindSpeed);
        if dust_watch::suggests_gale(rules, wind, r.at, now.timestamp())
            && !covered(conn, index, p, &now_s)?
        {
            out.push(json!({
                "kind": WarningLevel::Gale.as_str(),
                "mn": m.mn,
                "name": m.name,
                "district_code": m.district_code,
                "wind_speed": wind,
                "time": local_rfc3339(r.at),
            }));
        }
    }
    Ok(json!({"threshold": rules.wind_suggest_ms, "suggestions": out}))
}

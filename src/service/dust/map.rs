//! The dust map's monitors with their latest figures and state (the dot's colour), and the
//! high-wind suggestions shown to managers. The judgement is in `domain::dust::watch`.

use chrono::{DateTime, Utc};
use geo::{Contains, Point};
use serde_json::{Value, json};

use crate::domain::dust::WarningLevel;
use crate::domain::dust::reading::{Quantity, local_rfc3339};
use crate::domain::dust::rollup::{hour_of, min_hours_for_day};
use crate::domain::dust::watch::{self as dust_watch, Latest};
use crate::domain::responsibility::ResponsibilityIndex;
use crate::domain::role::{Actor, Role};
use crate::error::{Error, Result};
use crate::layers::Layer;
use crate::store::dust::DeviceId;
use crate::store::{self, COUNT_CAP, Slice, Tx};

/// The means a monitor's state is judged on: the last finished hour's TSP, and the means of the
/// 24 finished hours before now (valid when each particulate has the hourly values GB 3095 asks: 20, 24 for TSP).
fn latest(tx: &dyn Tx, device: DeviceId, now: i64) -> store::Result<(Latest, Value, Value)> {
    let newest = tx.dust_readings().latest(device)?;
    let this_hour = hour_of(now);
    let hours = tx
        .dust_readings()
        .hours(device, this_hour - 24, this_hour)?;
    let hour = hours
        .iter()
        .find(|(h, _)| *h == this_hour - 1)
        .map(|(h, s)| (*h, s.mean()));
    let order = [Quantity::Pm10, Quantity::Pm25, Quantity::Tsp];
    let mut sums = [0.0; 3];
    let mut counts = [0usize; 3];
    for (_, s) in &hours {
        let m = s.mean();
        for (i, q) in order.iter().enumerate() {
            if let Some(v) = m.get(*q) {
                sums[i] += v;
                counts[i] += 1;
            }
        }
    }
    let mean = |i: usize| (counts[i] > 0).then(|| sums[i] / counts[i] as f64);
    let valid_by: [bool; 3] = std::array::from_fn(|i| counts[i] >= min_hours_for_day(order[i]));
    // The day as a whole, as on the readings chart: every particulate with a mean has its hours.
    let valid = counts.iter().any(|&n| n > 0) && (0..3).all(|i| counts[i] == 0 || valid_by[i]);
    let invalid: Vec<&str> = (0..3)
        .filter(|&i| counts[i] > 0 && !valid_by[i])
        .map(|i| order[i].name())
        .collect();
    let l = Latest {
        at: newest.as_ref().map(|r| r.at),
        hour_tsp: hour.and_then(|(_, m)| m.get(Quantity::Tsp)),
        day_pm10: mean(0),
        day_pm25: mean(1),
        day_tsp: mean(2),
        day_valid: valid_by,
    };
    let latest_json = newest.map_or(Value::Null, |r| {
        // Shown as sent; what is flagged or implausible is named so that it is not read as a
        // measurement.
        let not_counted: Vec<&str> = Quantity::ALL
            .into_iter()
            .filter(|q| r.get(*q).is_some() && r.valid(*q).is_none())
            .map(Quantity::name)
            .collect();
        json!({
            "time": local_rfc3339(r.at),
            "tsp": r.get(Quantity::Tsp),
            "pm10": r.get(Quantity::Pm10),
            "pm25": r.get(Quantity::Pm25),
            "wind_speed": r.get(Quantity::WindSpeed),
            "wind_dir": r.get(Quantity::WindDir),
            "not_counted": not_counted,
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
            "n": counts.iter().max(), "valid": valid, "invalid": invalid,
        })
    };
    // Completeness: of the 24 finished hours, how many hold a reading.
    let received = hours.iter().filter(|(_, s)| s.n > 0).count();
    let completeness = json!({"hours": received, "expected": 24});
    Ok((
        l,
        latest_json,
        json!({"hour": hour_json, "day": day_json, "completeness": completeness}),
    ))
}

/// One page of the monitors the actor may see on the monitors layer `layer`, each with its
/// latest figures, `ratio` and `state` under the rules in force: the page, whether more follow,
/// and how many there are (when counting is cheap).
pub fn monitors(
    tx: &dyn Tx,
    layer: &Layer,
    actor: &Actor,
    now: DateTime<Utc>,
    slice: Slice,
) -> store::Result<(Vec<Value>, bool, Option<usize>)> {
    let rules = &crate::service::rules::dust(tx)?;
    let scope = layer.read_scope(actor);
    let (page, more) = tx.dust_monitors().in_scope(layer, &scope, slice)?;
    let matched = match slice.total(page.len(), more) {
        Some(n) => Some(n),
        None => tx.dust_monitors().count(layer, &scope, COUNT_CAP)?,
    };
    let mut out = Vec::with_capacity(page.len());
    for m in page {
        let (l, latest_json, means) = match m.device {
            Some(d) => latest(tx, d, now.timestamp())?,
            None => (
                Latest::default(),
                Value::Null,
                json!({"hour": null, "day": null, "completeness": null}),
            ),
        };
        out.push(json!({
            "mn": m.mn,
            "name": m.name,
            "mine": m.derived.mine,
            "holder": m.derived.holder,
            "district_code": m.derived.district_code,
            "position": m.at.map(|p| [p.x(), p.y()]),
            "latest": latest_json,
            "hour": means["hour"],
            "day": means["day"],
            "completeness": means["completeness"],
            "ratio": dust_watch::ratio(rules, &l),
            "state": dust_watch::state(rules, &l, now.timestamp()),
        }));
    }
    Ok((out, more, matched))
}

/// Monitors read a page at a time where every one is looked at.
const MONITOR_CHUNK: usize = 500;

/// Whether a gale or sandstorm warning in force covers the point (by district or drawn area).
fn covered(
    tx: &dyn Tx,
    index: &ResponsibilityIndex,
    p: Point<f64>,
    now: DateTime<Utc>,
) -> store::Result<bool> {
    let levels = [WarningLevel::Gale, WarningLevel::Sandstorm];
    for w in tx.dust_warnings().in_force(&levels, now)? {
        let codes: Vec<String> = serde_json::from_value(w.districts).unwrap_or_default();
        if codes
            .iter()
            .filter_map(|c| index.district_by_code(c))
            .any(|d| d.geom.contains(&p))
        {
            return Ok(true);
        }
        let area = serde_json::from_value::<geojson::Geometry>(w.area)
            .ok()
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
    tx: &dyn Tx,
    layer: &Layer,
    index: &ResponsibilityIndex,
    actor: &Actor,
    now: DateTime<Utc>,
) -> Result<Value> {
    if actor.role != Role::Manager {
        return Err(Error::forbidden());
    }
    let rules = &crate::service::rules::dust(tx)?;
    let scope = layer.read_scope(actor);
    let mut out = vec![];
    let mut slice = Slice::first(MONITOR_CHUNK);
    loop {
        let (page, more) = tx.dust_monitors().in_scope(layer, &scope, slice)?;
        for m in page {
            let (Some(device), Some(p)) = (m.device, m.at) else {
                continue;
            };
            let Some(r) = tx.dust_readings().latest_wind(device)? else {
                continue;
            };
            let wind = r.get(Quantity::WindSpeed);
            if dust_watch::suggests_gale(rules, wind, r.at, now.timestamp())
                && !covered(tx, index, p, now)?
            {
                out.push(json!({
                    "kind": WarningLevel::Gale.as_str(),
                    "mn": m.mn,
                    "name": m.name,
                    "district_code": m.derived.district_code,
                    "wind_speed": wind,
                    "time": local_rfc3339(r.at),
                }));
            }
        }
        if !more {
            break;
        }
        slice = slice.next();
    }
    Ok(json!({"threshold": rules.wind_suggest_ms, "suggestions": out}))
}

//! Dust readings over HTTP: `POST /api/dust/readings` (a monitor's batch, with its device
//! token) and `GET /api/dust/monitors/{mn}/readings` (raw readings, hourly or 24-hour means, for
//! signed-in users as the dust_monitors layer's access allows).

use std::collections::{BTreeMap, HashMap};

use crate::http::routes::Routes;
use axum::Json as JsonOut;
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::header;
use axum::http::request::Parts;
use chrono::DateTime;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::app::App;
use crate::domain::dust::reading::{Level, Quantity, Reading, check, local_rfc3339, time_ok};
use crate::domain::dust::rollup::{self, SUMMED};
use crate::error::{Error, Kind};
use crate::http::error::ApiError;
use crate::http::extract::{Json, User};
use crate::service::dust::monitors::{self, LAYER};
use crate::service::dust::readings::{self, Interval, Series};
use crate::store::dust::DeviceId;

/// Readings one batch may carry (the 1 MiB body limit allows about 7,000 anyway).
pub const MAX_BATCH: usize = 10_000;

/// The longest range of hourly means (two years) and of daily means (ten years) one answer covers.
const MAX_HOUR_SPAN_S: i64 = 2 * 366 * 86_400;
const MAX_DAY_SPAN_S: i64 = 10 * 366 * 86_400;

pub fn router() -> Routes {
    Routes::new()
        .post("/api/dust/readings", ingest)
        .get("/api/dust/monitors/{mn}/readings", readings)
}

/// The monitor a request's `Authorization: Bearer <device token>` belongs to; 401 otherwise.
/// Only the header counts: a device never holds a session cookie.
pub struct Device(pub DeviceId);

impl FromRequestParts<App> for Device {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Self::Rejection> {
        let refused = || ApiError(Error::new(Kind::Unauthorized, "dust_device_unauthorized"));
        let token = parts
            .headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty())
            .ok_or_else(refused)?;
        let device = app
            .db
            .read(move |tx| monitors::device_for_token(tx, &token))
            .await?;
        device.map(Device).ok_or_else(refused)
    }
}

/// A batch as sent: `{"readings": [...]}`. Unknown fields are refused so a misspelt one
/// (`pm2_5`) is not silently dropped.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Batch {
    pub readings: Vec<ReadingIn>,
}

/// One reading as sent: RFC 3339 time; µg/m³, m/s, degrees, °C, %.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReadingIn {
    pub time: String,
    pub tsp: Option<f64>,
    pub pm10: Option<f64>,
    pub pm25: Option<f64>,
    pub wind_speed: Option<f64>,
    pub wind_dir: Option<f64>,
    pub temperature: Option<f64>,
    pub humidity: Option<f64>,
}

impl ReadingIn {
    fn values(&self) -> [Option<f64>; 7] {
        [
            self.tsp,
            self.pm10,
            self.pm25,
            self.wind_speed,
            self.wind_dir,
            self.temperature,
            self.humidity,
        ]
    }
}

/// Checks a whole batch: every problem is listed (the first as the message), nothing is kept
/// unless all is right. Times are kept to the second: (monitor, second) is a reading's identity.
pub fn validate(batch: &Batch, now: i64) -> Result<Vec<Reading>, Error> {
    if batch.readings.is_empty() {
        return Err(Error::invalid("dust_empty_batch"));
    }
    if batch.readings.len() > MAX_BATCH {
        return Err(Error::new(Kind::TooLarge, "dust_batch_too_large")
            .arg("max", MAX_BATCH.to_string())
            .arg("got", batch.readings.len().to_string()));
    }
    let mut errors: Vec<Error> = vec![];
    let mut out = Vec::with_capacity(batch.readings.len());
    for (i, r) in batch.readings.iter().enumerate() {
        let field = |name: &str| format!("readings[{i}].{name}");
        let at = match DateTime::parse_from_rfc3339(r.time.trim()) {
            Ok(t) if time_ok(t.timestamp(), now) => Ok(t.timestamp()),
            Ok(_) => Err("dust_time_out_of_range"),
            Err(_) => Err("dust_bad_time"),
        };
        let at = at
            .map_err(|code| {
                errors.push(
                    Error::invalid(code)
                        .arg("field", field("time"))
                        .arg("value", r.time.clone()),
                )
            })
            .ok();
        let mut reading = Reading::new(at.unwrap_or_default(), Level::RealTime);
        for (q, v) in Quantity::ALL.into_iter().zip(r.values()) {
            let Some(v) = v else { continue };
            match check(q, v) {
                Ok(v) => reading.set(q, Some(v)),
                Err(_) => {
                    let (min, max) = q.range();
                    errors.push(
                        Error::invalid("dust_value_out_of_range")
                            .arg("field", field(q.name()))
                            .arg("value", v.to_string())
                            .arg("min", min.to_string())
                            .arg("max", max.to_string())
                            .arg("unit", q.unit()),
                    );
                }
            }
        }
        if r.values().iter().all(Option::is_none) {
            errors.push(Error::invalid("dust_no_values").arg("field", format!("readings[{i}]")));
        }
        if at.is_some() {
            // Within the hard ranges but implausible (a unit mix-up): kept, marked, not counted.
            reading.judge();
            out.push(reading);
        }
    }
    if errors.is_empty() {
        return Ok(out);
    }
    let detail: Vec<Value> = errors
        .iter()
        .take(100)
        .filter_map(|e| match e {
            Error::Problem(p) => Some(json!({
                "error": p.key,
                "field": p.args.iter().find(|(k, _)| *k == "field").map(|(_, v)| v.clone()),
            })),
            Error::Store(_) => None,
        })
        .collect();
    let total = errors.len();
    let first = errors.swap_remove(0);
    Err(first.detail(json!({ "errors": detail, "count": total })))
}

/// `POST /api/dust/readings`: stores a monitor's batch in one transaction. A retried batch
/// stores nothing twice: readings already stored for the same (monitor, time) are counted as
/// duplicates and left as they were.
async fn ingest(
    State(app): State<App>,
    Device(device): Device,
    Json(batch): Json<Batch>,
) -> Result<JsonOut<Value>, ApiError> {
    let readings = validate(&batch, chrono::Utc::now().timestamp())?;
    let done = app
        .db
        .write(move |tx| readings::insert(tx, device, &readings))
        .await
        .map_err(Error::from)?;
    Ok(JsonOut(json!({
        "stored": done.stored,
        "duplicates": done.duplicates,
    })))
}

fn time_param(q: &HashMap<String, String>, name: &'static str) -> Result<Option<i64>, Error> {
    let Some(s) = q.get(name).map(|s| s.trim()).filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    // An unescaped '+' in a query string arrives as a space: take it back.
    DateTime::parse_from_rfc3339(&s.replace(' ', "+"))
        .map(|t| Some(t.timestamp()))
        .map_err(|_| {
            Error::bad_request("dust_bad_time_param")
                .arg("param", name)
                .arg("value", s)
        })
}

/// `GET /api/dust/monitors/{mn}/readings?from=&to=&interval=raw|hour|day`. Raw readings with
/// `from <= time < to`; hourly and daily means of the hours and local (UTC+8) days the range
/// touches. Defaults: interval `hour`, `to` now, `from` a day before (30 days for `day`).
async fn readings(
    State(app): State<App>,
    User(actor): User,
    Path(mn): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<JsonOut<Answer>, ApiError> {
    let interval = match q.get("interval").map(String::as_str).unwrap_or("hour") {
        "raw" => Interval::Raw,
        "hour" => Interval::Hour,
        "day" => Interval::Day,
        other => {
            return Err(Error::bad_request("dust_bad_interval")
                .arg("value", other)
                .into());
        }
    };
    let to = time_param(&q, "to")?.unwrap_or_else(|| chrono::Utc::now().timestamp());
    let span = if interval == Interval::Day { 30 } else { 1 } * 86_400;
    let from = time_param(&q, "from")?.unwrap_or(to - span);
    if from >= to {
        return Err(Error::bad_request("dust_range_reversed").into());
    }
    let max = match interval {
        Interval::Raw | Interval::Hour => MAX_HOUR_SPAN_S,
        Interval::Day => MAX_DAY_SPAN_S,
    };
    if to - from > max {
        return Err(Error::bad_request("dust_range_too_long")
            .arg("days", (max / 86_400).to_string())
            .into());
    }
    let layer = app.registry.lookup(LAYER).cloned()?;
    let scope = layer.read_scope(&actor);
    let name = mn.clone();
    let series = app
        .db
        .read(move |tx| readings::series(tx, &layer, &scope, &name, interval, from, to))
        .await?;
    let rows = series.map(|s| match s {
        Series::Raw(rs) => Rows::Raw(rs.iter().map(RawRow::of).collect()),
        Series::Hours(hs) => Rows::Means(hs.iter().map(|(h, s)| MeanRow::hour(*h, s)).collect()),
        Series::Days(ds) => Rows::Means(ds.iter().map(MeanRow::day).collect()),
    });
    let Some(readings) = rows else {
        return Err(Error::new(Kind::NotFound, "not_found")
            .arg("what", "@what.monitor")
            .into());
    };
    Ok(JsonOut(Answer {
        mn,
        interval: match interval {
            Interval::Raw => "raw",
            Interval::Hour => "hour",
            Interval::Day => "day",
        },
        from: local_rfc3339(from),
        to: local_rfc3339(to),
        units: Quantity::ALL.iter().map(|q| (q.name(), q.unit())).collect(),
        readings,
    }))
}

/// The readings endpoint's answer. Typed rows serialise several times faster than JSON maps,
/// which matters for a year of hours.
#[derive(Debug, Serialize)]
pub struct Answer {
    mn: String,
    interval: &'static str,
    from: String,
    to: String,
    units: BTreeMap<&'static str, &'static str>,
    readings: Rows,
}

#[derive(Debug, Serialize)]
#[serde(untagged)]
enum Rows {
    Raw(Vec<RawRow>),
    Means(Vec<MeanRow>),
}

/// A value to 0.1 of its unit (the stored resolution).
fn round(v: Option<f64>) -> Option<f64> {
    v.map(|v| (v * 10.0).round() / 10.0)
}

/// The particulates and the wind, as a row shows them: values, or the counts behind means.
#[derive(Debug, Serialize)]
struct Figures<T> {
    tsp: T,
    pm10: T,
    pm25: T,
    wind_speed: T,
    wind_dir: T,
}

impl<T> Figures<T> {
    /// From the [`SUMMED`] quantities, in their order, and the wind direction.
    fn of([tsp, pm10, pm25, wind_speed]: [T; 4], wind_dir: T) -> Figures<T> {
        Figures {
            tsp,
            pm10,
            pm25,
            wind_speed,
            wind_dir,
        }
    }
}

#[derive(Debug, Serialize)]
struct RawRow {
    time: String,
    #[serde(flatten)]
    figures: Figures<Option<f64>>,
    temperature: Option<f64>,
    humidity: Option<f64>,
    n: u8,
    kind: &'static str,
    /// The HJ 212 data flag of each value that came with one (`{"pm10": "M"}`).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    flags: BTreeMap<&'static str, String>,
    /// The values that count towards no mean: flagged as not a measurement, or implausible.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    not_counted: Vec<&'static str>,
    /// The values implausible for their quantity and the monitor's unit.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    suspect: Vec<&'static str>,
}

impl RawRow {
    fn of(r: &Reading) -> RawRow {
        let v = |q| round(r.get(q));
        let present = || Quantity::ALL.into_iter().filter(|q| r.get(*q).is_some());
        RawRow {
            time: local_rfc3339(r.at),
            figures: Figures::of(SUMMED.map(&v), v(Quantity::WindDir)),
            temperature: v(Quantity::Temperature),
            humidity: v(Quantity::Humidity),
            n: 1,
            kind: r.level.as_str(),
            flags: Quantity::ALL
                .into_iter()
                .filter_map(|q| r.flag(q).map(|f| (q.name(), char::from(f).to_string())))
                .collect(),
            not_counted: present()
                .filter(|q| r.valid(*q).is_none())
                .map(Quantity::name)
                .collect(),
            suspect: present()
                .filter(|q| r.is_suspect(*q))
                .map(Quantity::name)
                .collect(),
        }
    }
}

#[derive(Debug, Serialize)]
struct MeanRow {
    time: String,
    #[serde(flatten)]
    means: Figures<Option<f64>>,
    /// Hours: readings; days: hours with a particulate value.
    n: i64,
    /// Days: GB 3095 table 4 for every particulate with a mean (20 hours, 24 for TSP). Hours
    /// have no count rule (the table has none for particulates): an hour with a reading has a
    /// valid mean.
    valid: bool,
    /// Days: the particulates whose mean rests on fewer hours than the table asks.
    #[serde(skip_serializing_if = "Option::is_none")]
    invalid: Option<Vec<&'static str>>,
    /// Days: the hours a complete day holds (24), beside `n`, the hours received: the day's
    /// completeness.
    #[serde(skip_serializing_if = "Option::is_none")]
    expected: Option<i64>,
    /// How many values are behind each mean: readings for an hour, hourly means for a day.
    counts: Figures<i64>,
    /// Hours: the kind of reading the mean is built from.
    #[serde(skip_serializing_if = "Option::is_none")]
    kind: Option<&'static str>,
}

impl MeanRow {
    fn hour(hour: i64, s: &rollup::HourSums) -> MeanRow {
        let m = s.mean();
        MeanRow {
            time: local_rfc3339(hour * 3600),
            means: Figures::of(m.values.map(round), round(m.wind_dir)),
            n: m.n,
            valid: true,
            invalid: None,
            expected: None,
            counts: Figures::of(m.counts, s.wind_dir.n),
            kind: Some(s.level.as_str()),
        }
    }

    fn day(d: &rollup::DayMean) -> MeanRow {
        let invalid = SUMMED
            .iter()
            .enumerate()
            .filter(|(i, q)| q.is_particulate() && d.hours[*i] > 0 && !d.valid_by[*i])
            .map(|(_, q)| q.name())
            .collect();
        MeanRow {
            time: local_rfc3339(d.start),
            means: Figures::of(d.values.map(round), round(d.wind_dir)),
            n: d.n() as i64,
            valid: d.valid(),
            invalid: Some(invalid),
            expected: Some(24),
            counts: Figures::of(d.hours.map(|n| n as i64), d.wind_hours as i64),
            kind: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn batch(v: Value) -> Batch {
        serde_json::from_value(v).expect("shape")
    }

    #[test]
    fn a_batch_is_checked_whole_and_every_problem_listed() {
        let now = 1_800_000_000;
        let ok = validate(
            &batch(json!({"readings": [{"time": "2025-01-10T10:00:00+08:00", "pm10": 86.0}]})),
            now,
        )
        .expect("valid");
        assert_eq!(ok[0].at, 1_736_474_400);
        let err = validate(
            &batch(json!({"readings": [
                {"time": "yesterday", "pm10": 86.0},
                {"time": "2025-01-10T10:00:00Z", "pm25": -3.0, "wind_dir": 400.0},
                {"time": "2025-01-10T10:01:00Z"},
                {"time": "2099-01-10T10:01:00Z", "tsp": 1.0}
            ]})),
            now,
        )
        .expect_err("invalid");
        let Error::Problem(p) = err else {
            panic!("a problem")
        };
        assert_eq!(p.key, "dust_bad_time");
        let fields: Vec<String> = p.detail.expect("detail")["errors"]
            .as_array()
            .expect("list")
            .iter()
            .map(|e| e["field"].as_str().unwrap_or_default().to_string())
            .collect();
        assert_eq!(
            fields,
            vec![
                "readings[0].time",
                "readings[1].pm25",
                "readings[1].wind_dir",
                "readings[2]",
                "readings[3].time"
            ]
        );
        assert!(validate(&batch(json!({"readings": []})), now).is_err());
        assert!(
            serde_json::from_value::<Batch>(json!({"readings": [{"time": "x", "pm2_5": 1}]}))
                .is_err()
        );
    }
}

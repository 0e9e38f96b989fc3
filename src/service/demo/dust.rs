//! The demo's dust monitors (`samples/dust_monitors.geojson`) and three days of synthetic
//! readings up to the moment the demo is built, shaped by each monitor's `profile` so the map
//! shows every state and the checker raises alerts of every kind:
//!
//! - `clean`, `near` (PM10 at about 85 % of its 24-hour limit), `stale` (silent for five hours),
//! - `over_day` (PM10 and TSP 24-hour means over their limits: alerts to the monitor's mine),
//! - `over_hour` (two hours of TSP over 1 mg/m³ yesterday afternoon with a north wind, at a
//!   monitor outside every mine: an alert to the mine upwind),
//! - `windy` (wind at 9.6 m/s in the last hour: a gale-warning suggestion for managers).

use std::f64::consts::PI;

use serde_json::Value;

use super::Build;

use crate::domain::dust::device::Hj212Profile;
use crate::domain::dust::reading::{Level, Quantity, Reading};
use crate::domain::dust::rollup::day_start;
use crate::error::{Error, Result};
use crate::service::dust::monitors::{self, NewMonitor};

/// Minutes between synthetic readings, and how far back they go.
const STEP_S: i64 = 600;
const SPAN_S: i64 = 3 * 86_400;

/// One synthetic reading of a profile at `t` (Unix seconds), `now` being the build time.
fn reading(profile: &str, t: i64, now: i64) -> Reading {
    // Local hour of day (UTC+8), for a daily rhythm: dustier in the working afternoon.
    let hour = ((t + 8 * 3600).rem_euclid(86_400)) as f64 / 3600.0;
    let wave = (2.0 * PI * (hour - 9.0) / 24.0).sin();
    let (mut tsp, mut pm10, mut pm25) =
        (170.0 + 60.0 * wave, 62.0 + 18.0 * wave, 30.0 + 8.0 * wave);
    let mut wind = 2.6 + 1.4 * wave;
    let wind_dir = (350.0 + 20.0 * wave).rem_euclid(360.0);
    match profile {
        "clean" => (tsp, pm10, pm25) = (tsp * 0.5, pm10 * 0.5, pm25 * 0.5),
        "near" => (pm10, pm25) = (125.0 + 4.0 * wave, 50.0 + 3.0 * wave),
        "over_day" => (tsp, pm10, pm25) = (380.0 + 40.0 * wave, 185.0 + 20.0 * wave, 70.0),
        "over_hour" => {
            let yesterday = day_start(now) - 86_400;
            if (yesterday + 14 * 3600..yesterday + 16 * 3600).contains(&t) {
                tsp = 1450.0 + 80.0 * wave;
            }
        }
        "windy" if now - t < 3000 => wind = 9.6,
        _ => {}
    }
    let mut r = Reading::new(t, Level::RealTime);
    r.set(Quantity::Tsp, Some(round(tsp)));
    r.set(Quantity::Pm10, Some(round(pm10)));
    r.set(Quantity::Pm25, Some(round(pm25)));
    r.set(Quantity::WindSpeed, Some(round(wind)));
    r.set(Quantity::WindDir, Some(round(wind_dir)));
    r.set(Quantity::Temperature, Some(round(4.0 + 6.0 * wave)));
    r.set(Quantity::Humidity, Some(round(32.0 - 10.0 * wave)));
    r
}

fn round(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

/// Registers the sample monitors, stores their readings and runs the exceedance check once.
pub(super) fn build(b: &Build) -> Result<()> {
    let path = b.samples.join("dust_monitors.geojson");
    let text = std::fs::read_to_string(&path).map_err(|e| {
        Error::invalid("bad_body").arg("detail", format!("{}: {e}", path.display()))
    })?;
    let fc: Value = serde_json::from_str(&text).map_err(super::bad_sample)?;
    let now_s = b.now.timestamp();
    // Readings on the 10-minute grid, the newest within the last 10 minutes.
    let last = now_s - now_s.rem_euclid(STEP_S);
    b.db.write_blocking(|tx| {
        for f in fc["features"].as_array().into_iter().flatten() {
            let p = &f["properties"];
            let text = |k: &str| p[k].as_str().unwrap_or_default().to_string();
            let xy = &f["geometry"]["coordinates"];
            let m = NewMonitor {
                mn: text("mn"),
                password: text("password"),
                lon: xy[0].as_f64().unwrap_or_default(),
                lat: xy[1].as_f64().unwrap_or_default(),
                name: Some(text("name")),
                mine: None,
                measures: Quantity::ALL.to_vec(),
                hj212: Hj212Profile::default(),
            };
            monitors::add(tx, b.registry, &m, b.now)?;
            let device = tx
                .dust_devices()
                .by_mn(&m.mn)?
                .ok_or_else(|| Error::not_found("monitor"))?;
            let profile = text("profile");
            let end = if profile == "stale" {
                last - 5 * 3600
            } else {
                last
            };
            let readings: Vec<Reading> = (0..)
                .map(|i| last - SPAN_S + i * STEP_S)
                .take_while(|t| *t <= end)
                .map(|t| reading(&profile, t, now_s))
                .collect();
            tx.dust_readings().insert(device, &readings)?;
        }
        crate::service::dust::alerts::check(tx, &b.index, b.now)?;
        Ok::<_, Error>(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn profiles_shape_the_readings() {
        let now = 1_800_000_000;
        let y = day_start(now) - 86_400;
        let tsp = |p: &str, t: i64| reading(p, t, now).get(Quantity::Tsp).unwrap_or_default();
        assert!(tsp("over_hour", y + 15 * 3600) > 1000.0);
        assert!(tsp("over_hour", y + 17 * 3600) < 1000.0);
        let pm10 = |p: &str| {
            reading(p, now - 3600, now)
                .get(Quantity::Pm10)
                .unwrap_or_default()
        };
        assert!(pm10("over_day") > 150.0 && pm10("near") < 150.0 && pm10("near") > 120.0);
        let wind = |t: i64| {
            reading("windy", t, now)
                .get(Quantity::WindSpeed)
                .unwrap_or_default()
        };
        assert!(wind(now - 600) >= 8.0 && wind(now - 7200) < 8.0);
    }
}

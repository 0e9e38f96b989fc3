//! Dust (扬尘), pure: the limits and the rules a deployment configures, which new means break a
//! limit, which mines lie upwind of a monitor outside every mine, and warnings with the
//! restrictions they impose. No I/O: the use cases feed these from the rollups and the polygons.
//! Beside them: readings and their units (`reading`), hourly and 24-hour means (`rollup`), the
//! map's monitor states (`watch`), an alert's life (`alert`), who answers for an exceedance
//! (`attribution`) and a device's credentials (`device`).
//!
//! Limits (DOMAIN.md, Dust): particulate at a site boundary 1.0 mg/m³ as a 1-hour mean (GB 16297,
//! GB 20426), and the GB 3095 grade II 24-hour means PM10 150, PM2.5 75, TSP 300 µg/m³. A value
//! exceeds a limit when it is strictly above it (a limit is the highest value allowed). A 24-hour
//! mean that fails the GB 3095 validity rule (20 hours, 24 for TSP) never alerts: it is not a
//! mean the standard knows.

pub mod alert;
pub mod attribution;
pub mod device;
pub mod reading;
pub mod rollup;
pub mod watch;

use std::collections::BTreeMap;

use geo::{Bearing, Centroid, Closest, ClosestPoint, Distance, Geodesic, MultiPolygon, Point};
use serde::{Deserialize, Serialize};

use crate::domain::access::Scope;
use crate::domain::role::{Actor, Role};
use reading::Quantity;
use rollup::{DayMean, HourMean};

/// The configurable dust rules (the `dust_rules` setting overrides any of them).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DustRules {
    /// 1-hour TSP at a mine boundary, µg/m³ (1.0 mg/m³).
    pub tsp_hour_ug: f64,
    pub pm10_day_ug: f64,
    pub pm25_day_ug: f64,
    pub tsp_day_ug: f64,
    /// Half-width of the upwind sector around the mean wind direction, degrees.
    pub upwind_sector_deg: f64,
    /// How far upwind a mine may be and still be blamed, metres.
    pub upwind_distance_m: f64,
    /// A closed alert re-opens when the same exceedance returns within this many hours of its
    /// closing; later, a new alert is raised (a fresh case for the owner, not an old one revived).
    pub reopen_within_hours: i64,
    /// Readings arriving later than this after their hour are stored but not judged: an alert
    /// about last month helps no one on site.
    pub judge_within_days: i64,
    /// Wind at or over this at a monitor (m/s) suggests a gale warning to managers: blasting and
    /// stripping stop at Beaufort force 5 (DOMAIN.md, Wind).
    pub wind_suggest_ms: f64,
    /// The production restrictions each warning level puts on a mine, by level name; a level
    /// left out takes its default ([`WarningLevel::measures`]).
    pub measures: BTreeMap<String, Vec<String>>,
}

impl Default for DustRules {
    fn default() -> Self {
        DustRules {
            tsp_hour_ug: 1000.0,
            pm10_day_ug: 150.0,
            pm25_day_ug: 75.0,
            tsp_day_ug: 300.0,
            upwind_sector_deg: 45.0,
            upwind_distance_m: 3000.0,
            reopen_within_hours: 72,
            judge_within_days: 7,
            wind_suggest_ms: 8.0,
            measures: WarningLevel::ALL
                .iter()
                .map(|l| {
                    let m = l.measures().iter().map(|m| (*m).to_string()).collect();
                    (l.as_str().to_string(), m)
                })
                .collect(),
        }
    }
}

/// Every production restriction a warning can impose.
pub const MEASURES: [&str; 4] = [
    "cover_stockpiles",
    "spray_roads",
    "stop_blasting_stripping",
    "stop_open_air_work",
];

impl DustRules {
    /// The measures a level imposes under these rules.
    pub fn measures_for(&self, level: WarningLevel) -> Vec<String> {
        self.measures
            .get(level.as_str())
            .cloned()
            .unwrap_or_else(|| level.measures().iter().map(|m| (*m).to_string()).collect())
    }

    /// Why these rules cannot be used, if they cannot: limits and the wind threshold above
    /// zero, the sector a half-circle at most, distances and periods not negative, and only
    /// known levels and measures.
    pub fn problems(&self) -> Vec<String> {
        let mut out = vec![];
        for (name, v) in [
            ("tsp_hour_ug", self.tsp_hour_ug),
            ("pm10_day_ug", self.pm10_day_ug),
            ("pm25_day_ug", self.pm25_day_ug),
            ("tsp_day_ug", self.tsp_day_ug),
            ("wind_suggest_ms", self.wind_suggest_ms),
        ] {
            if !(v.is_finite() && v > 0.0) {
                out.push(format!("{name} must be above 0, not {v}"));
            }
        }
        if !(0.0..=180.0).contains(&self.upwind_sector_deg) {
            out.push(format!(
                "upwind_sector_deg must be within 0..=180, not {}",
                self.upwind_sector_deg
            ));
        }
        if !(self.upwind_distance_m.is_finite() && self.upwind_distance_m >= 0.0) {
            out.push("upwind_distance_m must not be negative".into());
        }
        if self.reopen_within_hours < 0 {
            out.push("reopen_within_hours must not be negative".into());
        }
        if !(1..=366).contains(&self.judge_within_days) {
            out.push(format!(
                "judge_within_days must be 1 to 366, not {}",
                self.judge_within_days
            ));
        }
        for (level, measures) in &self.measures {
            if WarningLevel::parse(level).is_none() {
                out.push(format!(
                    "measures: unknown level {level:?}; known: {}",
                    WarningLevel::ALL.map(WarningLevel::as_str).join(", ")
                ));
            }
            for m in measures.iter().filter(|m| !MEASURES.contains(&m.as_str())) {
                out.push(format!(
                    "measures.{level}: unknown measure {m:?}; known: {}",
                    MEASURES.join(", ")
                ));
            }
        }
        out
    }
}

/// The averaging period of a mean.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Window {
    #[serde(rename = "1h")]
    Hour,
    #[serde(rename = "24h")]
    Day,
}

impl Window {
    pub fn as_str(self) -> &'static str {
        match self {
            Window::Hour => "1h",
            Window::Day => "24h",
        }
    }
}

/// One mean over one limit.
#[derive(Debug, Clone, PartialEq)]
pub struct Exceedance {
    pub pollutant: Quantity,
    pub window: Window,
    /// Start of the hour or local day, Unix seconds.
    pub start: i64,
    pub value: f64,
    pub limit: f64,
    /// The mean wind direction (from) over the same period, when measured.
    pub wind_dir: Option<f64>,
}

/// The exceedances among a monitor's hourly means (`(hour, mean)`, hour = Unix seconds / 3600)
/// and 24-hour means. Invalid 24-hour means are skipped.
pub fn exceedances(
    rules: &DustRules,
    hourly: &[(i64, HourMean)],
    daily: &[DayMean],
) -> Vec<Exceedance> {
    let mut out = vec![];
    for (hour, m) in hourly {
        if let Some(v) = m.get(Quantity::Tsp)
            && v > rules.tsp_hour_ug
        {
            out.push(Exceedance {
                pollutant: Quantity::Tsp,
                window: Window::Hour,
                start: hour * 3600,
                value: v,
                limit: rules.tsp_hour_ug,
                wind_dir: m.wind_dir,
            });
        }
    }
    for d in daily {
        for (q, limit) in [
            (Quantity::Tsp, rules.tsp_day_ug),
            (Quantity::Pm10, rules.pm10_day_ug),
            (Quantity::Pm25, rules.pm25_day_ug),
        ] {
            let valid = rollup::SUMMED
                .iter()
                .position(|s| *s == q)
                .is_some_and(|k| d.valid_by[k] && d.hours[k] > 0);
            if let Some(v) = d.get(q)
                && valid
                && v > limit
            {
                out.push(Exceedance {
                    pollutant: q,
                    window: Window::Day,
                    start: d.start,
                    value: v,
                    limit,
                    wind_dir: d.wind_dir,
                });
            }
        }
    }
    out
}

/// The smallest angle between two directions, degrees in 0..=180 (359° and 1° are 2° apart).
pub fn angle_between(a: f64, b: f64) -> f64 {
    let d = (a - b).rem_euclid(360.0);
    d.min(360.0 - d)
}

/// A mine a monitor's dust may come from.
#[derive(Debug, Clone, PartialEq)]
pub struct MineNear<'a> {
    pub licence_no: &'a str,
    pub name: &'a str,
    pub holder: &'a str,
    pub ownerless: bool,
    pub geom: &'a MultiPolygon<f64>,
}

/// A mine found upwind, with the figures behind the finding.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Upwind {
    pub licence_no: String,
    pub name: String,
    pub holder: String,
    pub ownerless: bool,
    /// Bearing from the monitor to the mine's nearest point, degrees from north.
    pub bearing_deg: f64,
    /// Geodesic distance to that point, metres.
    pub distance_m: f64,
}

/// The point of a mine nearest the monitor: its boundary faces the monitor, so that is where
/// dust leaves it; the centroid only when the nearest point cannot be decided.
pub fn nearest_point(geom: &MultiPolygon<f64>, p: Point<f64>) -> Option<Point<f64>> {
    match geom.closest_point(&p) {
        Closest::Intersection(q) | Closest::SinglePoint(q) => Some(q),
        Closest::Indeterminate => geom.centroid(),
    }
}

/// The mines upwind of a monitor: wind blowing from `wind_from` (meteorological, degrees), a mine
/// whose nearest point lies within the sector `wind_from ± upwind_sector_deg` (edges included)
/// and within `upwind_distance_m`. Nearest first.
pub fn upwind(
    rules: &DustRules,
    monitor: Point<f64>,
    wind_from: f64,
    mines: &[MineNear<'_>],
) -> Vec<Upwind> {
    let mut out: Vec<Upwind> = mines
        .iter()
        .filter_map(|m| {
            let q = nearest_point(m.geom, monitor)?;
            let distance_m = Geodesic.distance(monitor, q);
            // A monitor on the boundary has no bearing to speak of: the mine is upwind of it.
            let bearing_deg = if distance_m < 1.0 {
                wind_from.rem_euclid(360.0)
            } else {
                Geodesic.bearing(monitor, q).rem_euclid(360.0)
            };
            (distance_m <= rules.upwind_distance_m
                && angle_between(bearing_deg, wind_from) <= rules.upwind_sector_deg)
                .then(|| Upwind {
                    licence_no: m.licence_no.into(),
                    name: m.name.into(),
                    holder: m.holder.into(),
                    ownerless: m.ownerless,
                    bearing_deg,
                    distance_m,
                })
        })
        .collect();
    out.sort_by(|a, b| a.distance_m.total_cmp(&b.distance_m));
    out
}

/// A weather or heavy-pollution warning's level (2017 national scheme; gale, sandstorm and fog
/// warnings from the weather service restrict open-pit work too, as in Ordos).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WarningLevel {
    Yellow,
    Orange,
    Red,
    Gale,
    Sandstorm,
    Fog,
}

impl WarningLevel {
    pub const ALL: [WarningLevel; 6] = [
        WarningLevel::Yellow,
        WarningLevel::Orange,
        WarningLevel::Red,
        WarningLevel::Gale,
        WarningLevel::Sandstorm,
        WarningLevel::Fog,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            WarningLevel::Yellow => "yellow",
            WarningLevel::Orange => "orange",
            WarningLevel::Red => "red",
            WarningLevel::Gale => "gale",
            WarningLevel::Sandstorm => "sandstorm",
            WarningLevel::Fog => "fog",
        }
    }

    pub fn parse(s: &str) -> Option<WarningLevel> {
        WarningLevel::ALL.into_iter().find(|l| l.as_str() == s)
    }

    /// The production restrictions a mine receives: each level adds to the one below it; gale,
    /// sandstorm and red stop open-air work altogether, fog stops blasting (no sight lines).
    pub fn measures(self) -> &'static [&'static str] {
        match self {
            WarningLevel::Yellow => &["cover_stockpiles", "spray_roads"],
            WarningLevel::Orange | WarningLevel::Fog => {
                &["cover_stockpiles", "spray_roads", "stop_blasting_stripping"]
            }
            WarningLevel::Red | WarningLevel::Gale | WarningLevel::Sandstorm => &[
                "cover_stockpiles",
                "spray_roads",
                "stop_blasting_stripping",
                "stop_open_air_work",
            ],
        }
    }
}

/// Hours an owner has to acknowledge a restriction before it is flagged overdue.
pub const ACKNOWLEDGE_WITHIN_HOURS: i64 = 2;

/// Whether an actor sees a restriction on a mine of `holder` counted in `district`: managers
/// and patrols all, district officers their district's, owners their holder's.
pub fn sees_restriction(actor: &Actor, holder: Option<&str>, district: &str) -> bool {
    crate::domain::case::in_scope(&restriction_scope(actor), district, holder, true)
}

/// The restrictions an actor sees, as a scope (a list asks the store for exactly these): see
/// [`sees_restriction`].
pub fn restriction_scope(actor: &Actor) -> Scope {
    match actor.role {
        Role::Manager | Role::Patrol => Scope::All,
        Role::District => actor
            .district
            .clone()
            .map_or(Scope::Nothing, Scope::District),
        Role::Owner => actor.holder.clone().map_or(Scope::Nothing, Scope::Holder),
    }
}

/// Whether a restriction is overdue at `now`: not acknowledged and past its due time.
pub fn overdue(due: i64, acknowledged: bool, now: i64) -> bool {
    !acknowledged && now > due
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::{Rect, coord};

    fn hour(tsp: f64, wind: Option<f64>) -> HourMean {
        HourMean {
            values: [Some(tsp), None, None, None],
            counts: [1, 0, 0, 0],
            wind_dir: wind,
            n: 1,
        }
    }

    fn day(pm10: f64, hours: usize) -> DayMean {
        let k = rollup::SUMMED
            .iter()
            .position(|s| *s == Quantity::Pm10)
            .expect("pm10 is summed");
        let mut values = [None; 4];
        values[k] = Some(pm10);
        let mut counts = [0; 4];
        counts[k] = hours;
        let mut valid_by = [true; 4];
        valid_by[k] = hours >= 20;
        DayMean {
            start: 0,
            values,
            wind_dir: Some(10.0),
            hours: counts,
            wind_hours: hours,
            valid_by,
        }
    }

    #[test]
    fn hourly_tsp_alerts_only_above_the_limit() {
        let r = DustRules::default();
        let hs = [
            (1, hour(999.9, None)),
            (2, hour(1000.0, None)),
            (3, hour(1000.1, Some(90.0))),
        ];
        let e = exceedances(&r, &hs, &[]);
        assert_eq!(e.len(), 1);
        assert_eq!(
            (e[0].start, e[0].value, e[0].limit),
            (3 * 3600, 1000.1, 1000.0)
        );
        assert_eq!(e[0].window, Window::Hour);
        assert_eq!(e[0].wind_dir, Some(90.0));
    }

    #[test]
    fn daily_means_alert_above_the_limit_and_only_when_valid() {
        let r = DustRules::default();
        assert!(exceedances(&r, &[], &[day(150.0, 24)]).is_empty());
        assert!(exceedances(&r, &[], &[day(149.0, 24)]).is_empty());
        let e = exceedances(&r, &[], &[day(151.0, 20)]);
        assert_eq!(e.len(), 1);
        assert_eq!((e[0].pollutant, e[0].window), (Quantity::Pm10, Window::Day));
        // 19 hours: not a valid 24-hour mean, however high.
        assert!(exceedances(&r, &[], &[day(900.0, 19)]).is_empty());
    }

    #[test]
    fn angles_wrap_around_north() {
        assert_eq!(angle_between(359.0, 1.0), 2.0);
        assert_eq!(angle_between(1.0, 359.0), 2.0);
        assert_eq!(angle_between(0.0, 360.0), 0.0);
        assert_eq!(angle_between(90.0, 270.0), 180.0);
        assert_eq!(angle_between(-10.0, 10.0), 20.0);
    }

    /// A small square mine whose nearest point is `d` degrees from the origin in `dir`.
    fn square_at(lon: f64, lat: f64) -> MultiPolygon<f64> {
        let r = Rect::new(
            coord! { x: lon - 0.0005, y: lat - 0.0005 },
            coord! { x: lon + 0.0005, y: lat + 0.0005 },
        );
        MultiPolygon(vec![r.to_polygon()])
    }

    fn near<'a>(licence: &'a str, g: &'a MultiPolygon<f64>) -> MineNear<'a> {
        MineNear {
            licence_no: licence,
            name: licence,
            holder: "H",
            ownerless: false,
            geom: g,
        }
    }

    #[test]
    fn upwind_mines_lie_in_the_sector_the_wind_comes_from() {
        let r = DustRules::default();
        let m = Point::new(106.8, 39.6);
        // About 1.1 km north, 1.1 km east, 1.1 km south.
        let north = square_at(106.8, 39.6105);
        let east = square_at(106.8135, 39.6);
        let south = square_at(106.8, 39.5895);
        let mines = [near("N", &north), near("E", &east), near("S", &south)];
        // A north wind (from 0°) blames the mine to the north only.
        let hits = upwind(&r, m, 0.0, &mines);
        assert_eq!(
            hits.iter()
                .map(|h| h.licence_no.as_str())
                .collect::<Vec<_>>(),
            ["N"]
        );
        assert!(hits[0].bearing_deg < 1.0 || hits[0].bearing_deg > 359.0);
        assert!((900.0..1200.0).contains(&hits[0].distance_m));
        // Wrap-around: from 350° still covers north.
        assert_eq!(upwind(&r, m, 350.0, &mines).len(), 1);
        // 45° sits on the sector's edge between N and E: both, edges included.
        let both = upwind(&r, m, 45.0, &mines);
        assert_eq!(both.len(), 2, "{both:?}");
        // Just past the edge for each.
        let narrow = DustRules {
            upwind_sector_deg: 44.0,
            ..DustRules::default()
        };
        assert!(upwind(&narrow, m, 45.0, &mines).is_empty());
        // A south wind blames the south mine.
        assert_eq!(upwind(&r, m, 180.0, &mines)[0].licence_no, "S");
    }

    #[test]
    fn mines_beyond_the_distance_are_not_upwind() {
        let m = Point::new(106.8, 39.6);
        let north = square_at(106.8, 39.6105);
        let mines = [near("N", &north)];
        let close = DustRules {
            upwind_distance_m: 900.0,
            ..DustRules::default()
        };
        assert!(upwind(&close, m, 0.0, &mines).is_empty());
        assert_eq!(upwind(&DustRules::default(), m, 0.0, &mines).len(), 1);
    }

    #[test]
    fn warnings_add_measures_by_level_and_unacknowledged_ones_go_overdue() {
        assert!(WarningLevel::Yellow.measures().len() < WarningLevel::Orange.measures().len());
        assert!(WarningLevel::Red.measures().contains(&"stop_open_air_work"));
        assert_eq!(
            WarningLevel::parse("sandstorm"),
            Some(WarningLevel::Sandstorm)
        );
        assert_eq!(WarningLevel::parse("blue"), None);
        assert!(!overdue(100, false, 100));
        assert!(overdue(100, false, 101));
        assert!(!overdue(100, true, 1000));
    }

    #[test]
    fn measures_per_level_are_configurable_and_checked() {
        let mut r = DustRules::default();
        assert_eq!(
            r.measures_for(WarningLevel::Yellow),
            vec!["cover_stockpiles", "spray_roads"]
        );
        r.measures
            .insert("yellow".into(), vec!["stop_blasting_stripping".into()]);
        r.measures.remove("fog");
        assert_eq!(
            r.measures_for(WarningLevel::Yellow),
            vec!["stop_blasting_stripping"]
        );
        assert_eq!(
            r.measures_for(WarningLevel::Fog),
            WarningLevel::Fog.measures()
        );
        assert!(r.problems().is_empty());
        r.measures.insert("blue".into(), vec!["dance".into()]);
        r.wind_suggest_ms = 0.0;
        r.upwind_sector_deg = 200.0;
        let p = r.problems();
        assert_eq!(p.len(), 4, "{p:?}");
        assert!(p.iter().any(|s| s.contains("\"blue\"")));
        assert!(p.iter().any(|s| s.contains("\"dance\"")));
    }
}

//! What the dust map shows at a glance, pure: a monitor's state against the limits (the colour
//! of its dot) and when high wind should prompt a manager to issue a gale warning.

use serde::Serialize;

use super::DustRules;

/// A monitor whose newest reading is older than this is shown as stale, not by its values.
pub const STALE_AFTER_S: i64 = 2 * 3600;
/// At or above this share of a limit a monitor is shown as near it.
pub const NEAR_RATIO: f64 = 0.8;
/// Wind older than this does not prompt a warning: it may have dropped since.
pub const WIND_FRESH_S: i64 = 3600;

/// A monitor's colour on the map.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MonitorState {
    /// Every figure below [`NEAR_RATIO`] of its limit.
    Ok,
    /// Some figure at or above [`NEAR_RATIO`] of its limit, none over it.
    Near,
    /// Some figure over its limit.
    Over,
    /// Reading, but not for [`STALE_AFTER_S`].
    Stale,
    /// Never read.
    None,
}

/// The figures a monitor's state is judged on (µg/m³).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Latest {
    /// Time of the newest reading, Unix seconds.
    pub at: Option<i64>,
    /// Mean TSP of the last finished hour.
    pub hour_tsp: Option<f64>,
    /// Means of the last 24 finished hours, each used only when valid (GB 3095 table 4:
    /// [`super::rollup::min_hours_for_day`]).
    pub day_pm10: Option<f64>,
    pub day_pm25: Option<f64>,
    pub day_tsp: Option<f64>,
    /// Validity of the three means, in the order PM10, PM2.5, TSP.
    pub day_valid: [bool; 3],
}

/// The highest share of a limit among the figures (1.0 = at the limit), if any figure is known.
pub fn ratio(rules: &DustRules, l: &Latest) -> Option<f64> {
    let day =
        |i: usize, v: Option<f64>, limit: f64| v.filter(|_| l.day_valid[i]).map(|v| v / limit);
    [
        l.hour_tsp.map(|v| v / rules.tsp_hour_ug),
        day(0, l.day_pm10, rules.pm10_day_ug),
        day(1, l.day_pm25, rules.pm25_day_ug),
        day(2, l.day_tsp, rules.tsp_day_ug),
    ]
    .into_iter()
    .flatten()
    .max_by(f64::total_cmp)
}

/// The state shown for a monitor at `now`. Over means strictly above a limit, as for alerts.
pub fn state(rules: &DustRules, l: &Latest, now: i64) -> MonitorState {
    let Some(at) = l.at else {
        return MonitorState::None;
    };
    if now - at > STALE_AFTER_S {
        return MonitorState::Stale;
    }
    match ratio(rules, l) {
        Some(r) if r > 1.0 => MonitorState::Over,
        Some(r) if r >= NEAR_RATIO => MonitorState::Near,
        _ => MonitorState::Ok,
    }
}

/// Whether a monitor's newest wind reading should prompt a gale warning: at or over the
/// threshold, and recent.
pub fn suggests_gale(rules: &DustRules, wind_speed: Option<f64>, at: i64, now: i64) -> bool {
    wind_speed.is_some_and(|w| w >= rules.wind_suggest_ms) && now - at <= WIND_FRESH_S
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_800_000_000;

    fn latest(hour_tsp: f64, day_pm10: f64, valid: bool) -> Latest {
        Latest {
            at: Some(NOW - 60),
            hour_tsp: Some(hour_tsp),
            day_pm10: Some(day_pm10),
            day_valid: [valid; 3],
            ..Latest::default()
        }
    }

    #[test]
    fn a_monitor_is_coloured_by_its_worst_share_of_a_limit() {
        let r = DustRules::default();
        assert_eq!(state(&r, &latest(200.0, 50.0, true), NOW), MonitorState::Ok);
        // 130 of 150 µg/m³ PM10 is 87 %: near.
        assert_eq!(
            state(&r, &latest(200.0, 130.0, true), NOW),
            MonitorState::Near
        );
        assert_eq!(
            state(&r, &latest(1000.0, 10.0, true), NOW),
            MonitorState::Near
        );
        assert_eq!(
            state(&r, &latest(1000.1, 10.0, true), NOW),
            MonitorState::Over
        );
        assert_eq!(
            state(&r, &latest(100.0, 151.0, true), NOW),
            MonitorState::Over
        );
        // An invalid 24-hour mean does not count.
        assert_eq!(
            state(&r, &latest(100.0, 151.0, false), NOW),
            MonitorState::Ok
        );
        assert_eq!(
            ratio(&r, &latest(500.0, 75.0, true)),
            Some(0.5),
            "the larger of 500/1000 and 75/150"
        );
    }

    #[test]
    fn old_or_missing_readings_are_stale_or_none() {
        let r = DustRules::default();
        let mut l = latest(5000.0, 500.0, true);
        l.at = Some(NOW - STALE_AFTER_S - 1);
        assert_eq!(state(&r, &l, NOW), MonitorState::Stale);
        assert_eq!(state(&r, &Latest::default(), NOW), MonitorState::None);
        let no_values = Latest {
            at: Some(NOW),
            ..Latest::default()
        };
        assert_eq!(state(&r, &no_values, NOW), MonitorState::Ok);
    }

    #[test]
    fn recent_wind_at_the_threshold_suggests_a_gale_warning() {
        let mut r = DustRules::default();
        assert!(suggests_gale(&r, Some(8.0), NOW - 10, NOW));
        assert!(!suggests_gale(&r, Some(7.9), NOW - 10, NOW));
        assert!(!suggests_gale(&r, Some(12.0), NOW - WIND_FRESH_S - 1, NOW));
        assert!(!suggests_gale(&r, None, NOW, NOW));
        r.wind_suggest_ms = 5.5;
        assert!(suggests_gale(&r, Some(6.0), NOW, NOW));
    }
}

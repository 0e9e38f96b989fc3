//! When a field observation happened: the `observed_at` a client sends (a report, an inspection,
//! a violation, a compliance check queued offline), judged against the time it was received.
//!
//! The observed time is the time of the thing — deadlines, history and "as of" counts run on it —
//! so it must be plausible: not ahead of the server's clock by more than a small skew, not older
//! than a window (a tablet's clock reset to 2000, or an item forgotten in an outbox for weeks, is
//! refused rather than back-dating a deadline), and never before what it follows (an inspection
//! observed before its fire was reported makes no sense).

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// How far an observed time may lie from the time it was received. Part of the `rules` setting
/// (`qingling rules --set observed.max_age_days=3`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Window {
    /// An observation received later than this after it was made is refused.
    pub max_age_days: i64,
    /// A tablet's clock may run ahead of the server's by this much.
    pub max_skew_minutes: i64,
}

impl Default for Window {
    fn default() -> Self {
        Window {
            max_age_days: 7,
            max_skew_minutes: 5,
        }
    }
}

/// Why an observed time was refused, with the range that would have been accepted.
#[derive(Debug, Clone, PartialEq)]
pub enum Refusal {
    /// Not an RFC 3339 time with an offset.
    Format,
    /// Outside `earliest..=latest`; `after` says the earliest comes from an earlier record
    /// (the fire's report or last event) rather than from the window.
    OutOfRange {
        earliest: DateTime<Utc>,
        latest: DateTime<Utc>,
        after_record: bool,
    },
}

/// Parses an RFC 3339 time with an offset (`Z` or `+08:00`); a bare local time is ambiguous.
pub fn parse(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s.trim())
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// The accepted range for an observation received at `now` that must not precede `not_before`.
pub fn range(
    now: DateTime<Utc>,
    window: &Window,
    not_before: Option<DateTime<Utc>>,
) -> (DateTime<Utc>, DateTime<Utc>, bool) {
    let oldest = now - Duration::days(window.max_age_days.max(0));
    let latest = now + Duration::minutes(window.max_skew_minutes.max(0));
    match not_before {
        Some(t) if t > oldest => (t, latest, true),
        _ => (oldest, latest, false),
    }
}

/// The time an observation counts from: `observed` when plausible, `now` when absent. A time a
/// little ahead (within the skew) counts as `now`, so nothing is ever dated in the future.
pub fn decide(
    observed: Option<&str>,
    now: DateTime<Utc>,
    window: &Window,
    not_before: Option<DateTime<Utc>>,
) -> Result<DateTime<Utc>, Refusal> {
    let Some(raw) = observed else {
        return Ok(now);
    };
    let t = parse(raw).ok_or(Refusal::Format)?;
    let (earliest, latest, after_record) = range(now, window, not_before);
    if t < earliest || t > latest {
        return Err(Refusal::OutOfRange {
            earliest,
            latest,
            after_record,
        });
    }
    // Seconds are what is stored; within the skew, the server's clock wins.
    let t = t.min(now);
    Ok(DateTime::from_timestamp(t.timestamp(), 0).unwrap_or(t))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        parse(s).expect("time")
    }

    #[test]
    fn absent_is_the_received_time_and_a_plausible_one_is_kept() {
        let now = t("2026-05-01T12:00:00Z");
        let w = Window::default();
        assert_eq!(decide(None, now, &w, None), Ok(now));
        assert_eq!(
            decide(Some("2026-05-01T15:00:00+08:00"), now, &w, None),
            Ok(t("2026-05-01T07:00:00Z"))
        );
        // Within the clock skew: counted as now, never in the future.
        assert_eq!(decide(Some("2026-05-01T12:04:00Z"), now, &w, None), Ok(now));
    }

    #[test]
    fn future_too_old_unparsable_and_before_the_record_are_refused() {
        let now = t("2026-05-01T12:00:00Z");
        let w = Window::default();
        assert_eq!(
            decide(Some("2026-05-01T12:06:00Z"), now, &w, None),
            Err(Refusal::OutOfRange {
                earliest: t("2026-04-24T12:00:00Z"),
                latest: t("2026-05-01T12:05:00Z"),
                after_record: false,
            })
        );
        assert!(decide(Some("2026-04-24T11:59:59Z"), now, &w, None).is_err());
        assert!(decide(Some("2026-04-24T12:00:00Z"), now, &w, None).is_ok());
        assert_eq!(
            decide(Some("2026-05-01 10:00"), now, &w, None),
            Err(Refusal::Format)
        );
        // No offset: which clock was it?
        assert_eq!(
            decide(Some("2026-05-01T10:00:00"), now, &w, None),
            Err(Refusal::Format)
        );
        let reported = t("2026-05-01T09:00:00Z");
        assert_eq!(
            decide(Some("2026-05-01T08:59:00Z"), now, &w, Some(reported)),
            Err(Refusal::OutOfRange {
                earliest: reported,
                latest: t("2026-05-01T12:05:00Z"),
                after_record: true,
            })
        );
        assert_eq!(
            decide(Some("2026-05-01T09:00:00Z"), now, &w, Some(reported)),
            Ok(reported)
        );
    }
}

//! Deadlines by kind of fire (configurable defaults from DOMAIN.md) and local-day arithmetic.
//!
//! Wuhai keeps China Standard Time (UTC+8, no daylight saving); dates a person types or reads
//! ("as of 2026-05-01", "plan due 2026-04-30") are local days.

use chrono::{DateTime, Duration, FixedOffset, NaiveDate, TimeZone, Utc};
use serde::{Deserialize, Serialize};

use super::fire::FireKind;

/// UTC+8.
pub fn local_offset() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).unwrap_or_else(|| unreachable!("+08:00 is a valid offset"))
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Deadlines {
    /// 排土场火点随时发现随时治理.
    pub waste_dump_hours: i64,
    pub gangue_heap_hours: i64,
    /// A coal-seam fire needs its dedicated plan within this many days; the plan then sets the date.
    pub coal_seam_plan_days: i64,
}

impl Default for Deadlines {
    fn default() -> Self {
        Deadlines {
            waste_dump_hours: 72,
            gangue_heap_hours: 72,
            coal_seam_plan_days: 7,
        }
    }
}

/// The deadline a fire gets when it is reported (or re-ignites) at `at`.
pub fn initial(kind: FireKind, at: DateTime<Utc>, d: &Deadlines) -> DateTime<Utc> {
    at + match kind {
        FireKind::WasteDump => Duration::hours(d.waste_dump_hours),
        FireKind::GangueHeap => Duration::hours(d.gangue_heap_hours),
        FireKind::CoalSeam => Duration::days(d.coal_seam_plan_days),
    }
}

/// The first instant after a local day: "due on D" and "as of D" both include all of D.
pub fn end_of_local_day(date: NaiveDate) -> DateTime<Utc> {
    let next = date.succ_opt().unwrap_or(date);
    let midnight = next.and_hms_opt(0, 0, 0).unwrap_or_default();
    local_offset()
        .from_local_datetime(&midnight)
        .single()
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or_else(|| Utc.from_utc_datetime(&midnight))
}

/// The local date of an instant.
pub fn local_date(at: DateTime<Utc>) -> NaiveDate {
    at.with_timezone(&local_offset()).date_naive()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dump_and_heap_fires_get_72_hours_and_seam_fires_7_days() {
        let at = DateTime::parse_from_rfc3339("2026-03-01T08:00:00Z")
            .expect("t")
            .with_timezone(&Utc);
        let d = Deadlines::default();
        assert_eq!(
            initial(FireKind::WasteDump, at, &d),
            at + Duration::hours(72)
        );
        assert_eq!(
            initial(FireKind::GangueHeap, at, &d),
            at + Duration::hours(72)
        );
        assert_eq!(initial(FireKind::CoalSeam, at, &d), at + Duration::days(7));
        let custom = Deadlines {
            waste_dump_hours: 24,
            ..d
        };
        assert_eq!(
            initial(FireKind::WasteDump, at, &custom),
            at + Duration::hours(24)
        );
    }

    #[test]
    fn a_local_day_ends_at_16_utc() {
        let d = NaiveDate::from_ymd_opt(2026, 5, 1).expect("date");
        assert_eq!(
            end_of_local_day(d).to_rfc3339(),
            "2026-05-01T16:00:00+00:00"
        );
        let late = DateTime::parse_from_rfc3339("2026-05-01T17:00:00Z")
            .expect("t")
            .with_timezone(&Utc);
        assert_eq!(
            local_date(late),
            NaiveDate::from_ymd_opt(2026, 5, 2).expect("date")
        );
    }
}

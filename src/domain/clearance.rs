//! Clearance counts ("dynamic zero"), recomputed from the event log as of any moment.
//!
//! Nothing here trusts a stored status: each fire's state, deadline and party at time `t` are the
//! ones set by its last event at or before `t`, so a past date gives the counts as they were.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::Serialize;

use super::deadline::{end_of_local_day, local_date};
use super::fire::Status;

/// One event as the counts need it.
#[derive(Debug, Clone)]
pub struct Change {
    pub fire: String,
    pub at: DateTime<Utc>,
    pub to: Status,
    /// A deadline set by this event (report, plan, re-ignition).
    pub deadline: Option<DateTime<Utc>>,
    /// District and mine set by this event (report, reassignment); `Some(None)` clears the mine.
    pub place: Option<Place>,
    pub reignited: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Place {
    pub district_code: String,
    pub mine: Option<String>,
}

/// One fire's code, for lists.
#[derive(Debug, Clone)]
pub struct FireRef {
    pub id: String,
    pub code: String,
}

#[derive(Debug, Clone)]
pub struct DistrictInfo {
    pub code: String,
    pub name: String,
}

#[derive(Debug, Clone)]
pub struct MineInfo {
    pub licence_no: String,
    pub name: String,
    pub holder: String,
    pub ownerless: bool,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DistrictCount {
    pub code: String,
    pub name: String,
    pub burning: u32,
    pub not_cleared: u32,
    pub overdue: u32,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct MineCount {
    pub licence_no: String,
    pub name: String,
    pub holder: String,
    pub burning: u32,
    pub not_cleared: u32,
    pub overdue: u32,
    pub reignitions: u32,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Suspended {
    pub licence_no: String,
    pub name: String,
    pub holder: String,
    pub burning: u32,
    /// The burning fires behind the suspension, by code.
    pub fires: Vec<FireBrief>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct FireBrief {
    pub id: String,
    pub code: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Overdue {
    pub id: String,
    pub code: String,
    pub deadline: DateTime<Utc>,
    pub status: Status,
    pub district_code: String,
}

/// The clearance picture at one moment.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Clearance {
    pub at: DateTime<Utc>,
    pub burning: u32,
    pub not_cleared: u32,
    pub zero: bool,
    pub days_since_zero: i64,
    pub reignitions: u32,
    pub by_status: BTreeMap<&'static str, u32>,
    pub by_district: Vec<DistrictCount>,
    pub by_mine: Vec<MineCount>,
    pub suspended_mines: Vec<Suspended>,
    pub overdue: Vec<Overdue>,
}

impl Clearance {
    /// Keeps in the lists only the fires in `seen` (counts stay): a patrol counts every fire,
    /// but is not told the codes of those it may no longer see (dismissed, or cleared and off
    /// the watch) when it asks about a past day.
    pub fn only_fires(&mut self, seen: &std::collections::HashSet<String>) {
        self.overdue.retain(|o| seen.contains(&o.id));
        for m in &mut self.suspended_mines {
            m.fires.retain(|f| seen.contains(&f.id));
        }
    }
}

/// One day of the burn-down chart.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Day {
    pub date: NaiveDate,
    pub burning: u32,
    pub not_cleared: u32,
}

#[derive(Clone)]
struct FireNow {
    status: Status,
    deadline: Option<DateTime<Utc>>,
    place: Place,
    reignitions: u32,
}

/// The event log of the fires a user may see, sorted by time, ready to be folded to any moment.
pub struct Timeline {
    changes: Vec<Change>,
    codes: HashMap<String, String>,
    districts: Vec<DistrictInfo>,
    mines: Vec<MineInfo>,
}

impl Timeline {
    pub fn new(
        mut changes: Vec<Change>,
        fires: Vec<FireRef>,
        districts: Vec<DistrictInfo>,
        mines: Vec<MineInfo>,
    ) -> Timeline {
        changes.sort_by_key(|c| c.at);
        Timeline {
            changes,
            codes: fires.into_iter().map(|f| (f.id, f.code)).collect(),
            districts,
            mines,
        }
    }

    /// Folds the log up to and including `t`, calling `each` with the number burning after every event.
    fn fold(&self, t: DateTime<Utc>, mut each: impl FnMut(&Change, u32)) -> HashMap<&str, FireNow> {
        let mut fires: HashMap<&str, FireNow> = HashMap::new();
        let mut burning = 0u32;
        for c in self.changes.iter().take_while(|c| c.at <= t) {
            let entry = fires.entry(c.fire.as_str()).or_insert_with(|| FireNow {
                status: Status::Dismissed,
                deadline: None,
                place: Place {
                    district_code: String::new(),
                    mine: None,
                },
                reignitions: 0,
            });
            let was = entry.status.is_burning();
            entry.status = c.to;
            if let Some(d) = c.deadline {
                entry.deadline = Some(d);
            }
            if let Some(p) = &c.place {
                entry.place = p.clone();
            }
            if c.reignited {
                entry.reignitions += 1;
            }
            match (was, c.to.is_burning()) {
                (false, true) => burning += 1,
                (true, false) => burning -= 1,
                _ => {}
            }
            each(c, burning);
        }
        fires
    }

    /// The counts as they stood at `t`.
    pub fn at(&self, t: DateTime<Utc>) -> Clearance {
        // The last moment the count left zero.
        let mut left_zero: Option<DateTime<Utc>> = None;
        let mut prev = 0u32;
        let fires = self.fold(t, |c, n| {
            if prev == 0 && n > 0 {
                left_zero = Some(c.at);
            }
            prev = n;
        });
        let mut by_status: BTreeMap<&'static str, u32> =
            Status::ALL.iter().map(|s| (s.as_str(), 0)).collect();
        let mut districts: HashMap<&str, DistrictCount> = HashMap::new();
        let mut mines: HashMap<&str, MineCount> = HashMap::new();
        let mut overdue = vec![];
        let mut burning_by_mine: HashMap<&str, Vec<FireBrief>> = HashMap::new();
        let (mut burning, mut not_cleared, mut reignitions) = (0, 0, 0);
        for (id, f) in &fires {
            *by_status.entry(f.status.as_str()).or_default() += 1;
            let late = f.status.is_burning() && f.deadline.is_some_and(|d| d < t);
            let b = u32::from(f.status.is_burning());
            let o = u32::from(f.status.is_open());
            burning += b;
            not_cleared += o;
            reignitions += f.reignitions;
            let d = districts
                .entry(f.place.district_code.as_str())
                .or_insert_with(|| DistrictCount {
                    code: f.place.district_code.clone(),
                    name: String::new(),
                    burning: 0,
                    not_cleared: 0,
                    overdue: 0,
                });
            d.burning += b;
            d.not_cleared += o;
            d.overdue += u32::from(late);
            if let Some(m) = &f.place.mine {
                let mc = mines.entry(m.as_str()).or_insert_with(|| MineCount {
                    licence_no: m.clone(),
                    name: String::new(),
                    holder: String::new(),
                    burning: 0,
                    not_cleared: 0,
                    overdue: 0,
                    reignitions: 0,
                });
                mc.burning += b;
                mc.not_cleared += o;
                mc.overdue += u32::from(late);
                mc.reignitions += f.reignitions;
                if b == 1 {
                    burning_by_mine
                        .entry(m.as_str())
                        .or_default()
                        .push(FireBrief {
                            id: (*id).to_string(),
                            code: self.codes.get(*id).cloned().unwrap_or_default(),
                        });
                }
            }
            if late {
                overdue.push(Overdue {
                    id: (*id).to_string(),
                    code: self.codes.get(*id).cloned().unwrap_or_default(),
                    deadline: f.deadline.unwrap_or(t),
                    status: f.status,
                    district_code: f.place.district_code.clone(),
                });
            }
        }
        overdue.sort_by(|a, b| a.deadline.cmp(&b.deadline).then(a.code.cmp(&b.code)));

        // Every district is listed, with zeros where nothing burns.
        let by_district = self
            .districts
            .iter()
            .map(|d| {
                let c = districts.remove(d.code.as_str());
                DistrictCount {
                    code: d.code.clone(),
                    name: d.name.clone(),
                    burning: c.as_ref().map_or(0, |c| c.burning),
                    not_cleared: c.as_ref().map_or(0, |c| c.not_cleared),
                    overdue: c.as_ref().map_or(0, |c| c.overdue),
                }
            })
            .collect();

        let info: HashMap<&str, &MineInfo> = self
            .mines
            .iter()
            .map(|m| (m.licence_no.as_str(), m))
            .collect();
        let mut by_mine: Vec<MineCount> = mines
            .into_values()
            .map(|mut m| {
                if let Some(i) = info.get(m.licence_no.as_str()) {
                    m.name = i.name.clone();
                    m.holder = i.holder.clone();
                }
                m
            })
            .collect();
        by_mine.sort_by(|a, b| {
            (b.burning, b.overdue, b.not_cleared, b.reignitions)
                .cmp(&(a.burning, a.overdue, a.not_cleared, a.reignitions))
                .then(a.licence_no.cmp(&b.licence_no))
        });
        // 先灭火后生产: a mine with a burning fire in its right or on its dumps may not produce.
        // An ownerless mine has no one producing, so it is not listed.
        let suspended_mines = by_mine
            .iter()
            .filter(|m| {
                m.burning > 0
                    && info
                        .get(m.licence_no.as_str())
                        .is_some_and(|i| !i.ownerless)
            })
            .map(|m| {
                let mut fires = burning_by_mine
                    .remove(m.licence_no.as_str())
                    .unwrap_or_default();
                fires.sort_by(|a, b| a.code.cmp(&b.code));
                Suspended {
                    licence_no: m.licence_no.clone(),
                    name: m.name.clone(),
                    holder: m.holder.clone(),
                    burning: m.burning,
                    fires,
                }
            })
            .collect();
        let days_since_zero = match (burning, left_zero) {
            (0, _) | (_, None) => 0,
            (_, Some(since)) => (t - since).num_days(),
        };
        Clearance {
            at: t,
            burning,
            not_cleared,
            zero: burning == 0,
            days_since_zero,
            reignitions,
            by_status,
            by_district,
            by_mine,
            suspended_mines,
            overdue,
        }
    }

    /// Burning and not-cleared counts at the end of each local day from `from` to `to`, in one pass.
    pub fn daily(&self, from: NaiveDate, to: NaiveDate) -> Vec<Day> {
        let mut days = vec![];
        let mut status: HashMap<&str, Status> = HashMap::new();
        let (mut burning, mut open) = (0u32, 0u32);
        let mut events = self.changes.iter().peekable();
        let mut date = from;
        while date <= to {
            let end = end_of_local_day(date);
            while let Some(c) = events.next_if(|c| c.at < end) {
                let old = status.insert(c.fire.as_str(), c.to);
                let (ob, oo) = old.map_or((false, false), |s| (s.is_burning(), s.is_open()));
                burning = burning + u32::from(c.to.is_burning()) - u32::from(ob);
                open = open + u32::from(c.to.is_open()) - u32::from(oo);
            }
            days.push(Day {
                date,
                burning,
                not_cleared: open,
            });
            date += Duration::days(1);
        }
        days
    }

    /// The local date of the first event, for charts.
    pub fn first_date(&self) -> Option<NaiveDate> {
        self.changes.first().map(|c| local_date(c.at))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .expect("time")
            .with_timezone(&Utc)
    }

    fn change(fire: &str, at: &str, to: Status) -> Change {
        Change {
            fire: fire.into(),
            at: t(at),
            to,
            deadline: None,
            place: None,
            reignited: false,
        }
    }

    fn report(fire: &str, at: &str, district: &str, mine: Option<&str>, deadline: &str) -> Change {
        Change {
            deadline: Some(t(deadline)),
            place: Some(Place {
                district_code: district.into(),
                mine: mine.map(String::from),
            }),
            ..change(fire, at, Status::Reported)
        }
    }

    fn timeline() -> Timeline {
        let changes = vec![
            report(
                "a",
                "2026-01-01T00:00:00Z",
                "150303",
                Some("C1"),
                "2026-01-04T00:00:00Z",
            ),
            report(
                "b",
                "2026-01-02T00:00:00Z",
                "150302",
                None,
                "2026-01-05T00:00:00Z",
            ),
            change("a", "2026-01-03T00:00:00Z", Status::Confirmed),
            change("a", "2026-01-03T01:00:00Z", Status::Treating),
            change("a", "2026-01-10T00:00:00Z", Status::Controlled),
            change("b", "2026-01-11T00:00:00Z", Status::Dismissed),
            change("a", "2026-02-15T00:00:00Z", Status::Extinguished),
            change("a", "2026-02-20T00:00:00Z", Status::Cleared),
            Change {
                reignited: true,
                deadline: Some(t("2026-03-04T00:00:00Z")),
                ..change("a", "2026-03-01T00:00:00Z", Status::Reignited)
            },
            report(
                "c",
                "2026-03-02T00:00:00Z",
                "150303",
                Some("C2"),
                "2026-03-09T00:00:00Z",
            ),
        ];
        Timeline::new(
            changes,
            vec![
                FireRef {
                    id: "a".into(),
                    code: "WH-2026-0001".into(),
                },
                FireRef {
                    id: "b".into(),
                    code: "WH-2026-0002".into(),
                },
                FireRef {
                    id: "c".into(),
                    code: "WH-2026-0003".into(),
                },
            ],
            vec![
                DistrictInfo {
                    code: "150302".into(),
                    name: "海勃湾区".into(),
                },
                DistrictInfo {
                    code: "150303".into(),
                    name: "乌达区".into(),
                },
            ],
            vec![
                MineInfo {
                    licence_no: "C1".into(),
                    name: "一矿".into(),
                    holder: "甲".into(),
                    ownerless: false,
                },
                MineInfo {
                    licence_no: "C2".into(),
                    name: "二矿".into(),
                    holder: "".into(),
                    ownerless: true,
                },
            ],
        )
    }

    #[test]
    fn counts_at_a_busy_moment() {
        let c = timeline().at(t("2026-01-06T00:00:00Z"));
        assert_eq!((c.burning, c.not_cleared, c.zero), (2, 2, false));
        assert_eq!(
            c.days_since_zero, 5,
            "burning since the first report on 1 January"
        );
        let codes: Vec<_> = c.overdue.iter().map(|o| o.code.as_str()).collect();
        assert_eq!(codes, vec!["WH-2026-0001", "WH-2026-0002"]);
        assert_eq!(c.by_district[0].burning, 1);
        assert_eq!(c.by_district[1].overdue, 1);
        assert_eq!(
            c.suspended_mines
                .iter()
                .map(|m| m.licence_no.as_str())
                .collect::<Vec<_>>(),
            vec!["C1"]
        );
    }

    #[test]
    fn controlled_fires_are_open_but_not_burning_and_zero_holds() {
        let c = timeline().at(t("2026-01-12T00:00:00Z"));
        assert_eq!(
            (c.burning, c.not_cleared, c.zero, c.days_since_zero),
            (0, 1, true, 0)
        );
        assert!(c.overdue.is_empty(), "a controlled fire is not overdue");
        assert!(c.suspended_mines.is_empty());
    }

    #[test]
    fn a_reignition_is_counted_and_reopens_the_mine() {
        let c = timeline().at(t("2026-03-03T12:00:00Z"));
        assert_eq!((c.burning, c.reignitions), (2, 1));
        assert_eq!(
            c.days_since_zero, 2,
            "zero until the re-ignition on 1 March"
        );
        let a = &c.by_mine[0];
        assert_eq!(
            (a.licence_no.as_str(), a.reignitions, a.burning),
            ("C1", 1, 1)
        );
        // C2 is ownerless: burning, but not a producing mine to suspend.
        let suspended: Vec<_> = c
            .suspended_mines
            .iter()
            .map(|m| m.licence_no.as_str())
            .collect();
        assert_eq!(suspended, vec!["C1"]);
        assert_eq!(
            c.suspended_mines[0].fires,
            vec![FireBrief {
                id: "a".into(),
                code: "WH-2026-0001".into()
            }],
            "the fires behind the suspension"
        );
        assert_eq!(c.by_status["reignited"], 1);
    }

    #[test]
    fn a_moment_before_anything_counts_nothing() {
        let c = timeline().at(t("2025-12-31T00:00:00Z"));
        assert_eq!((c.burning, c.not_cleared, c.zero), (0, 0, true));
        assert_eq!(c.by_district.len(), 2, "every district is listed");
        assert!(c.by_mine.is_empty());
    }

    #[test]
    fn daily_series_matches_point_counts() {
        let tl = timeline();
        let from = NaiveDate::from_ymd_opt(2025, 12, 31).expect("d");
        let to = NaiveDate::from_ymd_opt(2026, 3, 5).expect("d");
        let days = tl.daily(from, to);
        assert_eq!(days.len(), 65);
        for d in &days {
            let c = tl.at(end_of_local_day(d.date) - Duration::nanoseconds(1));
            assert_eq!(
                (d.burning, d.not_cleared),
                (c.burning, c.not_cleared),
                "{}",
                d.date
            );
        }
    }
}

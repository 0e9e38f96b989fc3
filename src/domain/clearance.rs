//! Clearance counts ("dynamic zero") as of any moment, for any scope.
//!
//! A fire's *standing* at a moment is what its events up to then made of it: status, deadline,
//! place (district, mine, responsible holder) and re-ignitions. The counts at a moment are made
//! of a [`Picture`]: the fires not yet cleared then, the scope's [`Levels`] (fires per status,
//! re-ignitions), each listed mine's re-ignitions, and when the scope's burning count last rose
//! from zero. [`assemble`] turns a picture into the [`Clearance`] the API answers.
//!
//! Two things build pictures and must agree: the store's read model (kept up to date with every
//! event, so an answer costs what is open then, not the length of the history) and
//! [`Timeline`], a full replay of the event log — the reference the read model is checked
//! against (`qingling check --recount`, the tests).
//!
//! A fire counts in the scopes of its place *at that moment*: a fire moved to another district
//! counts in the old one before the move and in the new one after it.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::Serialize;

use super::deadline::{end_of_local_day, local_date};
use super::fire::Status;

/// One event as the counts need it.
#[derive(Debug, Clone)]
pub struct Change {
    /// The event's id: events at the same moment count in this order.
    pub event: i64,
    pub fire: String,
    pub at: DateTime<Utc>,
    pub to: Status,
    /// A deadline set by this event (report, plan, re-ignition).
    pub deadline: Option<DateTime<Utc>>,
    /// The place set by this event (report, reassignment).
    pub place: Option<Place>,
    pub reignited: bool,
}

/// Where a fire is, for the counts: its district, its mine, and the holder answering for it.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Place {
    pub district_code: String,
    pub mine: Option<String>,
    /// The mining-right holder responsible (none when a district government answers).
    pub holder: Option<String>,
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
    /// The mines with fires not yet cleared, most burning first.
    pub by_mine: Vec<MineCount>,
    pub suspended_mines: Vec<Suspended>,
    pub overdue: Vec<Overdue>,
}

impl Clearance {
    /// The fires the lists name.
    pub fn listed_fires(&self) -> Vec<String> {
        let overdue = self.overdue.iter().map(|o| o.id.clone());
        let suspended = self.suspended_mines.iter().flat_map(|m| m.fires.iter());
        overdue.chain(suspended.map(|f| f.id.clone())).collect()
    }

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

/// What a fire's events have made of it by some moment.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Standing {
    pub status: Option<Status>,
    pub deadline: Option<DateTime<Utc>>,
    pub place: Place,
    pub reignitions: u32,
}

impl Standing {
    /// The standing after the fire's next event.
    pub fn then(&self, c: &Change) -> Standing {
        Standing {
            status: Some(c.to),
            deadline: c.deadline.or(self.deadline),
            place: c.place.clone().unwrap_or_else(|| self.place.clone()),
            reignitions: self.reignitions + u32::from(c.reignited),
        }
    }

    pub fn burning(&self) -> bool {
        self.status.is_some_and(Status::is_burning)
    }

    pub fn open(&self) -> bool {
        self.status.is_some_and(Status::is_open)
    }
}

/// A scope the counts are kept for: everything, a district, a holder's fires, a mine's fires.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ScopeKey {
    All,
    District(String),
    Holder(String),
    Mine(String),
}

impl ScopeKey {
    /// The scopes a fire at `place` counts in.
    pub fn of(place: &Place) -> Vec<ScopeKey> {
        let mut keys = vec![
            ScopeKey::All,
            ScopeKey::District(place.district_code.clone()),
        ];
        keys.extend(place.holder.clone().map(ScopeKey::Holder));
        keys.extend(place.mine.clone().map(ScopeKey::Mine));
        keys
    }

    /// Whether a fire at `place` counts in this scope.
    pub fn holds(&self, place: &Place) -> bool {
        match self {
            ScopeKey::All => true,
            ScopeKey::District(d) => *d == place.district_code,
            ScopeKey::Holder(h) => place.holder.as_deref() == Some(h.as_str()),
            ScopeKey::Mine(m) => place.mine.as_deref() == Some(m.as_str()),
        }
    }

    /// The stored form: `all`, `d:150303`, `h:某公司`, `m:C1500002009011220000001`.
    pub fn key(&self) -> String {
        match self {
            ScopeKey::All => "all".into(),
            ScopeKey::District(d) => format!("d:{d}"),
            ScopeKey::Holder(h) => format!("h:{h}"),
            ScopeKey::Mine(m) => format!("m:{m}"),
        }
    }
}

/// A scope's counts at one moment: its fires in each status (in [`Status::ALL`] order) and the
/// re-ignitions of those fires.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Levels {
    pub by_status: [i64; 8],
    pub reignitions: i64,
}

impl Levels {
    fn index(s: Status) -> usize {
        Status::ALL.iter().position(|x| *x == s).unwrap_or(0)
    }

    pub fn of(&self, s: Status) -> i64 {
        self.by_status[Self::index(s)]
    }

    pub fn burning(&self) -> i64 {
        Status::ALL
            .iter()
            .zip(self.by_status)
            .filter(|(s, _)| s.is_burning())
            .map(|(_, n)| n)
            .sum()
    }

    pub fn not_cleared(&self) -> i64 {
        Status::ALL
            .iter()
            .zip(self.by_status)
            .filter(|(s, _)| s.is_open())
            .map(|(_, n)| n)
            .sum()
    }

    /// Adds (`sign` 1) or takes away (`sign` -1) one fire of this standing.
    fn count(&mut self, s: &Standing, sign: i64) {
        if let Some(status) = s.status {
            self.by_status[Self::index(status)] += sign;
        }
        self.reignitions += sign * i64::from(s.reignitions);
    }

    pub fn plus(mut self, d: &Levels) -> Levels {
        for (a, b) in self.by_status.iter_mut().zip(d.by_status) {
            *a += b;
        }
        self.reignitions += d.reignitions;
        self
    }

    pub fn is_zero(&self) -> bool {
        *self == Levels::default()
    }
}

/// What a fire's change of standing does to the levels of each scope it was or is in.
pub fn level_changes(before: &Standing, after: &Standing) -> Vec<(ScopeKey, Levels)> {
    let mut out: BTreeMap<ScopeKey, Levels> = BTreeMap::new();
    if before.status.is_some() {
        for k in ScopeKey::of(&before.place) {
            out.entry(k).or_default().count(before, -1);
        }
    }
    for k in ScopeKey::of(&after.place) {
        out.entry(k).or_default().count(after, 1);
    }
    out.into_iter().filter(|(_, d)| !d.is_zero()).collect()
}

/// A fire not yet cleared at some moment, as the lists need it.
#[derive(Debug, Clone, PartialEq)]
pub struct OpenFire {
    pub id: String,
    pub code: String,
    pub status: Status,
    pub deadline: Option<DateTime<Utc>>,
    pub place: Place,
}

/// What the counts of a scope at `at` are made of.
#[derive(Debug, Clone, PartialEq)]
pub struct Picture {
    pub at: DateTime<Utc>,
    /// The scope's fires not yet cleared at `at`.
    pub open: Vec<OpenFire>,
    pub levels: Levels,
    /// The re-ignitions of each mine in `open` (all its fires', whatever their status).
    pub mine_reignitions: HashMap<String, i64>,
    /// When the scope's burning count last rose from zero, if it is not zero at `at`.
    pub left_zero: Option<DateTime<Utc>>,
}

/// The counts a picture gives, every district listed.
pub fn assemble(p: Picture, districts: &[DistrictInfo], mines: &[MineInfo]) -> Clearance {
    let t = p.at;
    let mut by_district: Vec<DistrictCount> = districts
        .iter()
        .map(|d| DistrictCount {
            code: d.code.clone(),
            name: d.name.clone(),
            burning: 0,
            not_cleared: 0,
            overdue: 0,
        })
        .collect();
    // Fires are counted into their district and mine by code: look both up by hash, not by scan.
    let district_at: HashMap<&str, usize> = districts
        .iter()
        .enumerate()
        .map(|(i, d)| (d.code.as_str(), i))
        .collect();
    let info: HashMap<&str, &MineInfo> = mines.iter().map(|m| (m.licence_no.as_str(), m)).collect();
    let mut by_mine: BTreeMap<&str, MineCount> = BTreeMap::new();
    let mut burning_by_mine: HashMap<&str, Vec<FireBrief>> = HashMap::new();
    let mut overdue = vec![];
    for f in &p.open {
        let b = u32::from(f.status.is_burning());
        let late = f.status.is_burning() && f.deadline.is_some_and(|d| d < t);
        if let Some(d) = district_at
            .get(f.place.district_code.as_str())
            .map(|&i| &mut by_district[i])
        {
            d.burning += b;
            d.not_cleared += 1;
            d.overdue += u32::from(late);
        }
        if let Some(m) = f.place.mine.as_deref() {
            let mc = by_mine.entry(m).or_insert_with(|| MineCount {
                licence_no: m.to_string(),
                name: info.get(m).map(|i| i.name.clone()).unwrap_or_default(),
                holder: info.get(m).map(|i| i.holder.clone()).unwrap_or_default(),
                burning: 0,
                not_cleared: 0,
                overdue: 0,
                reignitions: p
                    .mine_reignitions
                    .get(m)
                    .map_or(0, |n| u32::try_from(*n).unwrap_or(0)),
            });
            mc.burning += b;
            mc.not_cleared += 1;
            mc.overdue += u32::from(late);
            if b == 1 {
                burning_by_mine.entry(m).or_default().push(FireBrief {
                    id: f.id.clone(),
                    code: f.code.clone(),
                });
            }
        }
        if late {
            overdue.push(Overdue {
                id: f.id.clone(),
                code: f.code.clone(),
                deadline: f.deadline.unwrap_or(t),
                status: f.status,
                district_code: f.place.district_code.clone(),
            });
        }
    }
    overdue.sort_by(|a, b| a.deadline.cmp(&b.deadline).then(a.code.cmp(&b.code)));
    let mut by_mine: Vec<MineCount> = by_mine.into_values().collect();
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
    let n = |x: i64| u32::try_from(x).unwrap_or(0);
    let burning = n(p.levels.burning());
    let days_since_zero = match (burning, p.left_zero) {
        (0, _) | (_, None) => 0,
        (_, Some(since)) => (t - since).num_days(),
    };
    Clearance {
        at: t,
        burning,
        not_cleared: n(p.levels.not_cleared()),
        zero: burning == 0,
        days_since_zero,
        reignitions: n(p.levels.reignitions),
        by_status: Status::ALL
            .iter()
            .map(|s| (s.as_str(), n(p.levels.of(*s))))
            .collect(),
        by_district,
        by_mine,
        suspended_mines,
        overdue,
    }
}

/// A change of a scope's burning count at one event: `+1` a fire began burning (or came into
/// the scope burning), `-1` one stopped (or left). Several at one event add up.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Edge {
    pub at: DateTime<Utc>,
    pub event: i64,
    pub delta: i64,
}

/// The scope's burning count after each event of `edges` (in any order), from `start`.
fn counts_after(start: i64, edges: &[Edge]) -> Vec<(DateTime<Utc>, i64)> {
    let mut by_event: BTreeMap<(DateTime<Utc>, i64), i64> = BTreeMap::new();
    for e in edges {
        *by_event.entry((e.at, e.event)).or_default() += e.delta;
    }
    let mut n = start;
    by_event
        .into_iter()
        .map(|((at, _), d)| {
            n += d;
            (at, n)
        })
        .collect()
}

/// The lowest the burning count is at any moment of a stretch that starts at `start` and
/// changes by `edges`.
pub fn lowest(start: i64, edges: &[Edge]) -> i64 {
    counts_after(start, edges)
        .iter()
        .map(|(_, n)| *n)
        .fold(start, i64::min)
}

/// The last moment in a stretch (starting at `start`, changing by `edges`) the burning count
/// rose from zero.
pub fn last_rise(start: i64, edges: &[Edge]) -> Option<DateTime<Utc>> {
    let mut prev = start;
    let mut rise = None;
    for (at, n) in counts_after(start, edges) {
        if prev == 0 && n > 0 {
            rise = Some(at);
        }
        prev = n;
    }
    rise
}

/// The event log folded in time order: the reference every answer of the read model is
/// checked against (it costs the whole history; the read model costs what is open).
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
        changes.sort_by_key(|c| (c.at, c.event));
        Timeline {
            changes,
            codes: fires.into_iter().map(|f| (f.id, f.code)).collect(),
            districts,
            mines,
        }
    }

    /// The picture of `scope` at `t`, by replaying every event up to then.
    pub fn picture(&self, t: DateTime<Utc>, scope: &ScopeKey) -> Picture {
        self.pictures(&[t], std::slice::from_ref(scope))
            .pop()
            .and_then(|mut v| v.pop())
            .unwrap_or_else(|| Picture {
                at: t,
                open: vec![],
                levels: Levels::default(),
                mine_reignitions: HashMap::new(),
                left_zero: None,
            })
    }

    /// The pictures of several scopes at several moments (in time order), in one pass over the
    /// log: `[moment][scope]`.
    pub fn pictures(&self, moments: &[DateTime<Utc>], scopes: &[ScopeKey]) -> Vec<Vec<Picture>> {
        // Each fire touches only the scopes of its place: found by key, not by trying them all.
        let wanted: HashMap<&ScopeKey, usize> =
            scopes.iter().enumerate().map(|(i, k)| (k, i)).collect();
        let indices = |place: &Place| -> Vec<usize> {
            ScopeKey::of(place)
                .iter()
                .filter_map(|k| wanted.get(k).copied())
                .collect()
        };
        let mut fires: HashMap<&str, Standing> = HashMap::new();
        let mut burning = vec![0i64; scopes.len()];
        let mut left_zero: Vec<Option<DateTime<Utc>>> = vec![None; scopes.len()];
        let mut changes = self.changes.iter().peekable();
        let mut out = vec![];
        for &t in moments {
            while let Some(c) = changes.next_if(|c| c.at <= t) {
                let s = fires.entry(c.fire.as_str()).or_default();
                let was = s.clone();
                *s = s.then(c);
                let mut delta: BTreeMap<usize, i64> = BTreeMap::new();
                if was.burning() {
                    for i in indices(&was.place) {
                        *delta.entry(i).or_default() -= 1;
                    }
                }
                if s.burning() {
                    for i in indices(&s.place) {
                        *delta.entry(i).or_default() += 1;
                    }
                }
                for (i, d) in delta {
                    let before = burning[i];
                    burning[i] += d;
                    if before == 0 && burning[i] > 0 {
                        left_zero[i] = Some(c.at);
                    }
                }
            }
            let mut mine_reignitions: HashMap<&str, i64> = HashMap::new();
            let mut pictures: Vec<Picture> = (0..scopes.len())
                .map(|i| Picture {
                    at: t,
                    open: vec![],
                    levels: Levels::default(),
                    mine_reignitions: HashMap::new(),
                    left_zero: (burning[i] > 0).then_some(left_zero[i]).flatten(),
                })
                .collect();
            for (id, s) in &fires {
                if let Some(m) = s.place.mine.as_deref() {
                    *mine_reignitions.entry(m).or_default() += i64::from(s.reignitions);
                }
                for i in indices(&s.place) {
                    let p = &mut pictures[i];
                    p.levels.count(s, 1);
                    if let (Some(status), true) = (s.status, s.open()) {
                        p.open.push(OpenFire {
                            id: (*id).to_string(),
                            code: self.codes.get(*id).cloned().unwrap_or_default(),
                            status,
                            deadline: s.deadline,
                            place: s.place.clone(),
                        });
                    }
                }
            }
            for p in &mut pictures {
                for m in p.open.iter().filter_map(|f| f.place.mine.as_deref()) {
                    let n = mine_reignitions.get(m).copied().unwrap_or(0);
                    p.mine_reignitions.insert(m.to_string(), n);
                }
            }
            out.push(pictures);
        }
        out
    }

    /// The counts of `scope` as they stood at `t`.
    pub fn at_in(&self, t: DateTime<Utc>, scope: &ScopeKey) -> Clearance {
        assemble(self.picture(t, scope), &self.districts, &self.mines)
    }

    /// The counts of everything as they stood at `t`.
    pub fn at(&self, t: DateTime<Utc>) -> Clearance {
        self.at_in(t, &ScopeKey::All)
    }

    /// Burning and not-cleared counts of `scope` at the end of each local day from `from` to
    /// `to`, in one pass.
    pub fn daily_in(&self, from: NaiveDate, to: NaiveDate, scope: &ScopeKey) -> Vec<Day> {
        let mut days = vec![];
        let mut fires: HashMap<&str, Standing> = HashMap::new();
        let (mut burning, mut open) = (0i64, 0i64);
        let mut events = self.changes.iter().peekable();
        let mut date = from;
        while date <= to {
            let end = end_of_local_day(date);
            while let Some(c) = events.next_if(|c| c.at < end) {
                let s = fires.entry(c.fire.as_str()).or_default();
                let (wb, wo) = (s.burning(), s.open());
                let was_in = scope.holds(&s.place);
                *s = s.then(c);
                let is_in = scope.holds(&s.place);
                burning += i64::from(s.burning() && is_in) - i64::from(wb && was_in);
                open += i64::from(s.open() && is_in) - i64::from(wo && was_in);
            }
            let n = |x: i64| u32::try_from(x).unwrap_or(0);
            days.push(Day {
                date,
                burning: n(burning),
                not_cleared: n(open),
            });
            date += Duration::days(1);
        }
        days
    }

    /// Burning and not-cleared counts of everything at the end of each local day.
    pub fn daily(&self, from: NaiveDate, to: NaiveDate) -> Vec<Day> {
        self.daily_in(from, to, &ScopeKey::All)
    }

    /// The local date of the first event, for charts.
    pub fn first_date(&self) -> Option<NaiveDate> {
        self.changes.first().map(|c| local_date(c.at))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::testing::t;

    fn change(fire: &str, at: &str, to: Status) -> Change {
        Change {
            event: 0,
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
                holder: None,
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

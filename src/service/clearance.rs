//! Clearance counts for a reader, now or as of the end of a past local day, from the store's
//! read model; the daily burn-down; and the recount that checks the read model against a full
//! replay of the event log.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Duration, NaiveDate, Utc};

use crate::domain::access::{Scope, fire_scope};
use crate::domain::clearance::{
    Clearance, Day, DistrictInfo, MineInfo, Picture, ScopeKey, Timeline, assemble,
};
use crate::domain::deadline::end_of_local_day;
use crate::domain::fire::Status;
use crate::domain::responsibility::ResponsibilityIndex;
use crate::domain::role::Actor;
use crate::store::fires::FireFilter;
use crate::store::{Result, Tx};

/// The districts and mines the answers name.
pub struct Names {
    pub districts: Vec<DistrictInfo>,
    pub mines: Vec<MineInfo>,
}

impl Names {
    pub fn of(index: &ResponsibilityIndex) -> Names {
        let areas = index.areas();
        Names {
            districts: areas
                .districts
                .iter()
                .map(|d| DistrictInfo {
                    code: d.code.clone(),
                    name: d.name.clone(),
                })
                .collect(),
            mines: areas
                .mines
                .iter()
                .map(|m| MineInfo {
                    licence_no: m.licence_no.clone(),
                    name: m.name.clone(),
                    holder: m.holder.clone(),
                    ownerless: m.ownerless,
                })
                .collect(),
        }
    }
}

/// The scope a reader's counts cover: a district officer its district, an owner its holder's
/// fires, everyone else everything (counts are not sensitive; a patrol's lists are narrowed to
/// what it may see, see [`for_reader`]). `None`: an unbound officer or owner counts nothing.
pub fn count_scope(actor: &Actor) -> Option<ScopeKey> {
    match fire_scope(actor) {
        Scope::All | Scope::Open => Some(ScopeKey::All),
        Scope::District(d) => Some(ScopeKey::District(d)),
        Scope::Holder(h) => Some(ScopeKey::Holder(h)),
        Scope::Nothing => None,
    }
}

/// The moment an `at` day stands for: the last second of that local day, or now.
pub fn moment(day: Option<NaiveDate>, now: DateTime<Utc>) -> DateTime<Utc> {
    match day.map(end_of_local_day) {
        Some(end) if end <= now => end - Duration::seconds(1),
        _ => now,
    }
}

/// The picture of `scope` at the end of `day` (`None` or today: now), from the read model: the
/// fires open then, the scope's levels, the listed mines' re-ignitions, when the burning count
/// last left zero. Its cost is what is open then, whatever the length of the history.
pub fn picture(
    tx: &dyn Tx,
    scope: &ScopeKey,
    day: Option<NaiveDate>,
    now: DateTime<Utc>,
) -> Result<Picture> {
    let at = moment(day, now);
    let past = (at < now).then_some(at);
    let day = past.and(day);
    let counts = tx.counts();
    let open = counts.open_at(past, scope)?;
    let mut mines: Vec<String> = open.iter().filter_map(|f| f.place.mine.clone()).collect();
    mines.sort();
    mines.dedup();
    Ok(Picture {
        at,
        levels: counts.levels(scope, day)?,
        mine_reignitions: counts.mine_reignitions(&mines, day)?,
        left_zero: counts.left_zero(scope, at, day)?,
        open,
    })
}

/// The counts this reader may see, now or as of the end of `day`. A patrol counts every fire
/// but its lists keep only the fires it may see now (open, or cleared and still watched).
pub fn for_reader(
    tx: &dyn Tx,
    actor: &Actor,
    names: &Names,
    day: Option<NaiveDate>,
    now: DateTime<Utc>,
    visible_now: impl FnOnce(&dyn Tx, Vec<String>) -> Result<HashSet<String>>,
) -> Result<Clearance> {
    let Some(scope) = count_scope(actor) else {
        return Ok(assemble(
            Picture {
                at: moment(day, now),
                open: vec![],
                levels: Default::default(),
                mine_reignitions: Default::default(),
                left_zero: None,
            },
            &names.districts,
            &names.mines,
        ));
    };
    let mut c = assemble(
        picture(tx, &scope, day, now)?,
        &names.districts,
        &names.mines,
    );
    // Every fire open now is visible to a patrol; only a past day can list ones it may no
    // longer see.
    if fire_scope(actor) == Scope::Open && c.at < now {
        let listed = c.listed_fires();
        if !listed.is_empty() {
            c.only_fires(&visible_now(tx, listed)?);
        }
    }
    Ok(c)
}

/// For each of `fires` (a page of the overdue list) urged by `upto`: the last urge, as
/// `{"at", "by"}`.
pub fn last_urges(
    tx: &dyn Tx,
    fires: &[String],
    upto: DateTime<Utc>,
) -> Result<HashMap<String, serde_json::Value>> {
    let upto = crate::store::fires::ts(upto);
    let mut out = HashMap::new();
    for f in fires {
        if let Some((at, by)) = tx.fires().last_urge(f, &upto)? {
            out.insert(f.clone(), serde_json::json!({"at": at, "by": by}));
        }
    }
    Ok(out)
}

/// Burning and not-cleared counts of the reader's scope at the end of each local day from
/// `from` to `to`: one read of the days on which the counts changed.
pub fn daily(tx: &dyn Tx, actor: &Actor, from: NaiveDate, to: NaiveDate) -> Result<Vec<Day>> {
    let Some(scope) = count_scope(actor) else {
        return Ok(vec![]);
    };
    daily_in(tx, &scope, from, to)
}

/// How many holders' scopes a recount checks (besides everything and every district).
pub const RECOUNT_HOLDERS: usize = 50;

/// What a recount compared.
#[derive(Debug, Default)]
pub struct Recount {
    pub events: usize,
    pub scopes: usize,
    pub moments: usize,
    /// Where the read model and the replay disagree, as lines a person can read.
    pub problems: Vec<String>,
}

/// Checks the read model against a full replay of the event log: the picture of everything,
/// of every district and of up to [`RECOUNT_HOLDERS`] holders, at the end of each of `days`
/// and now, and the daily counts over `days`.
pub fn recount(
    tx: &dyn Tx,
    names: &Names,
    days: &[NaiveDate],
    now: DateTime<Utc>,
) -> Result<Recount> {
    let (changes, fires) = tx.fires().changes(&FireFilter::default())?;
    let events = changes.len();
    // A field time may be a few minutes ahead of the server's clock (see `domain::observed`):
    // "now" is after every event, as the read model's current counts are.
    let now = changes
        .iter()
        .map(|c| c.at)
        .max()
        .map_or(now, |t| t.max(now));
    let timeline = Timeline::new(changes, fires, names.districts.clone(), names.mines.clone());
    let mut scopes = vec![ScopeKey::All];
    scopes.extend(
        names
            .districts
            .iter()
            .map(|d| ScopeKey::District(d.code.clone())),
    );
    let holders: std::collections::BTreeSet<&str> = names
        .mines
        .iter()
        .map(|m| m.holder.as_str())
        .filter(|h| !h.is_empty())
        .collect();
    scopes.extend(
        holders
            .into_iter()
            .take(RECOUNT_HOLDERS)
            .map(|h| ScopeKey::Holder(h.to_string())),
    );
    let mut moments: Vec<(Option<NaiveDate>, DateTime<Utc>)> = days
        .iter()
        .map(|d| (Some(*d), moment(Some(*d), now)))
        .collect();
    moments.push((None, now));
    moments.sort_by_key(|m| m.1);
    let times: Vec<DateTime<Utc>> = moments.iter().map(|m| m.1).collect();
    let replayed = timeline.pictures(&times, &scopes);
    let mut problems = vec![];
    for ((day, at), pictures) in moments.iter().zip(replayed) {
        for (scope, mut replay) in scopes.iter().zip(pictures) {
            let mut stored = picture(tx, scope, *day, now)?;
            normalise(&mut stored);
            normalise(&mut replay);
            if stored != replay {
                problems.push(format!(
                    "{} at {at}: {}",
                    scope.key(),
                    difference(&stored, &replay)
                ));
            }
        }
    }
    if let (Some(first), Some(last)) = (days.iter().min(), days.iter().max()) {
        for scope in &scopes {
            let stored = daily_in(tx, scope, *first, *last)?;
            if stored != timeline.daily_in(*first, *last, scope) {
                problems.push(format!(
                    "{}: the daily counts from {first} to {last} differ",
                    scope.key()
                ));
            }
        }
    }
    Ok(Recount {
        events,
        scopes: scopes.len(),
        moments: moments.len(),
        problems,
    })
}

fn daily_in(tx: &dyn Tx, scope: &ScopeKey, from: NaiveDate, to: NaiveDate) -> Result<Vec<Day>> {
    let n = |x: i64| u32::try_from(x).unwrap_or(0);
    Ok(tx
        .counts()
        .daily_levels(scope, from, to)?
        .into_iter()
        .map(|(date, l)| Day {
            date,
            burning: n(l.burning()),
            not_cleared: n(l.not_cleared()),
        })
        .collect())
}

/// One order for the fires and mines of a picture, so two can be compared.
fn normalise(p: &mut Picture) {
    p.open.sort_by(|a, b| a.id.cmp(&b.id));
    p.mine_reignitions.retain(|_, n| *n != 0);
}

/// What differs between two pictures, briefly.
fn difference(a: &Picture, b: &Picture) -> String {
    let mut out = vec![];
    if a.levels != b.levels {
        out.push(format!("levels {:?} ≠ {:?}", a.levels, b.levels));
    }
    if a.left_zero != b.left_zero {
        out.push(format!("left zero {:?} ≠ {:?}", a.left_zero, b.left_zero));
    }
    if a.open != b.open {
        let ids = |p: &Picture| -> HashSet<(String, Status)> {
            p.open.iter().map(|f| (f.id.clone(), f.status)).collect()
        };
        let (x, y) = (ids(a), ids(b));
        out.push(format!(
            "open fires: {} only in the read model, {} only in the replay, {} otherwise different",
            x.difference(&y).count(),
            y.difference(&x).count(),
            a.open.len().min(b.open.len())
        ));
    }
    if a.mine_reignitions != b.mine_reignitions {
        out.push("mine re-ignitions differ".into());
    }
    out.join("; ")
}

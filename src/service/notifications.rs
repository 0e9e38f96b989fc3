//! A user's notifications, derived from the event log and the deadlines of the fires they may
//! see: new fires (and reassignments) for them, re-ignitions, deadlines near or passed. Only the
//! read marker is stored, so nothing can fall out of step with the fires themselves.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use crate::domain::access::fire_scope;
use crate::domain::dust::watch::STALE_AFTER_S;
use crate::domain::fire::{Rules, Status, is_responsible};
use crate::domain::responsibility::Responsible;
use crate::domain::role::{Actor, Role};
use crate::error::Result;
use crate::layers::Layer;
use crate::store::features::Visible;
use crate::store::fires::{FireFilter, FireOrder, parse_ts, ts};
use crate::store::notifications::IssueParty;
use crate::store::{Slice, Tx};

/// How long before a deadline it is announced.
pub const DEADLINE_NEAR_HOURS: i64 = 24;
/// How many notifications a page holds when no other number is asked for.
pub const LIMIT: usize = 50;
/// The most notices one source gives (fire events, deadlines): what a person can read anyway.
pub const PER_SOURCE: usize = 500;
/// Events older than this are history, not news.
pub const WINDOW_DAYS: i64 = 30;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeKind {
    /// A new fire this user must act on (or, for managers, any new fire).
    NewFire,
    /// A fire reassigned to this user's party.
    Assigned,
    /// A manager urged this user's party to deal with its overdue fire.
    Urged,
    Reignited,
    DeadlineNear,
    DeadlinePassed,
    /// A heavy-pollution or weather warning in force (owners: one that restricts their mines).
    Warning,
    /// A dust violation this user must rectify (or, for managers, any new one). `fire` is empty
    /// and `code` is the violation's code (`GET /api/dust/issues/{code}` opens it).
    NewDustIssue,
    /// A dust violation past its deadline and not yet rectified, for its party and managers;
    /// `fire` empty, `code` the violation's code.
    DustIssueOverdue,
    /// A monitor that reported before has sent nothing for [`STALE_AFTER_S`], for its mine's
    /// holder, its district and managers; `fire` empty, `code` the monitor's MN, `at` when it
    /// fell silent.
    MonitorSilent,
}

#[derive(Debug, Clone, Serialize)]
pub struct Notice {
    pub key: String,
    pub kind: NoticeKind,
    pub fire: String,
    pub code: String,
    pub at: String,
    pub unread: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Notices {
    pub unread: usize,
    /// How many notices there are in all (the page holds `items`).
    #[serde(skip)]
    pub total: usize,
    pub items: Vec<Notice>,
}

fn marker(tx: &dyn Tx, user: &str) -> Result<(i64, Option<DateTime<Utc>>)> {
    let row = tx.notifications().read_marker(user)?;
    Ok(match row {
        Some((id, at)) => (id, Some(parse_ts(&at)?)),
        None => (0, None),
    })
}

/// Whether an event concerns this user, and as what.
fn kind_for(
    actor: &Actor,
    action: &str,
    reignited: bool,
    responsible: Option<&Responsible>,
) -> Option<NoticeKind> {
    if reignited {
        return Some(NoticeKind::Reignited);
    }
    let mine = |r: Option<&Responsible>| r.is_some_and(|r| is_responsible(actor, r));
    match (action, actor.role) {
        ("report", Role::Manager) => Some(NoticeKind::NewFire),
        ("report", Role::Owner | Role::District) if mine(responsible) => Some(NoticeKind::NewFire),
        ("reassign", Role::Owner | Role::District) if mine(responsible) => {
            Some(NoticeKind::Assigned)
        }
        _ => None,
    }
}

/// Whether an urge of a fire whose party is `party` (`holder`, `district`) concerns this user:
/// the fires an owner sees are its own; a district officer hears of those its government
/// answers for.
fn urged(actor: &Actor, party: &str) -> Option<NoticeKind> {
    match actor.role {
        Role::Owner => Some(NoticeKind::Urged),
        Role::District if party == "district" => Some(NoticeKind::Urged),
        _ => None,
    }
}

/// One page of the user's notifications, newest first. Each source gives its newest only (at
/// most [`PER_SOURCE`]), so `unread` and `total` count those.
pub fn list(
    tx: &dyn Tx,
    fire_layer: &Layer,
    actor: &Actor,
    now: DateTime<Utc>,
    rules: &Rules,
    slice: Slice,
) -> Result<Notices> {
    let (last_id, seen_at) = marker(tx, &actor.username)?;
    let scope = fire_scope(actor);
    let watch_since = crate::service::fires::watch_since(now, rules);
    let visible = Visible::new(fire_layer, &scope, &watch_since);
    let mut items = vec![];
    let since = ts(now - Duration::days(WINDOW_DAYS));
    for e in tx
        .notifications()
        .fire_events(&visible, &actor.username, &since)?
    {
        let responsible: Option<Responsible> = e
            .responsible
            .as_deref()
            .and_then(|s| serde_json::from_str(s).ok());
        let kind = if e.action == "urge" {
            urged(actor, &e.party)
        } else {
            kind_for(actor, &e.action, e.reignited, responsible.as_ref())
        };
        if let Some(kind) = kind {
            items.push(Notice {
                key: format!("e{}", e.id),
                kind,
                fire: e.fire,
                code: e.code,
                at: e.at,
                unread: e.id > last_id,
            });
        }
    }
    // Deadlines: the parties responsible hear of their own; managers of every overdue fire. The
    // newest [`PER_SOURCE`] only, read latest deadline first, so that a province's backlog of
    // overdue fires is never read whole.
    if actor.role != Role::Patrol {
        let due_by = if actor.role == Role::Manager {
            now
        } else {
            now + Duration::hours(DEADLINE_NEAR_HOURS)
        };
        let due = FireFilter {
            visible: Some(visible),
            statuses: Some(Status::ALL.into_iter().filter(|s| s.is_burning()).collect()),
            due_by: Some(due_by),
            ..FireFilter::default()
        };
        let mut deadlines = vec![];
        tx.fires().each(&due, FireOrder::LatestDeadline, &mut |f| {
            let Some(deadline) = f.deadline else {
                return true;
            };
            if actor.role != Role::Manager && !is_responsible(actor, &f.responsible) {
                return true;
            }
            let (kind, since) = if deadline <= now {
                (NoticeKind::DeadlinePassed, deadline)
            } else {
                (
                    NoticeKind::DeadlineNear,
                    deadline - Duration::hours(DEADLINE_NEAR_HOURS),
                )
            };
            let unread = seen_at.is_none_or(|s| since > s);
            deadlines.push(Notice {
                key: format!("d{}-{}", f.id, ts(deadline)),
                kind,
                fire: f.id,
                code: f.code,
                at: ts(since),
                unread,
            });
            deadlines.len() < PER_SOURCE
        })?;
        items.extend(deadlines);
    }
    items.extend(warnings(tx, actor, now, seen_at)?);
    items.extend(dust_issues(tx, actor, now, seen_at)?);
    items.extend(silent_monitors(tx, actor, now, seen_at)?);
    items.sort_by(|a, b| b.at.cmp(&a.at));
    let unread = items.iter().filter(|n| n.unread).count();
    let total = items.len();
    let items: Vec<Notice> = items
        .into_iter()
        .skip(slice.offset)
        .take(slice.limit)
        .collect();
    Ok(Notices {
        unread,
        total,
        items,
    })
}

/// Warnings in force that concern this user: owners those restricting their mines, district
/// officers those naming their district or restricting a mine in it, everyone else all. `fire` is empty and `code` is the
/// warning's level.
fn warnings(
    tx: &dyn Tx,
    actor: &Actor,
    now: DateTime<Utc>,
    seen_at: Option<DateTime<Utc>>,
) -> Result<Vec<Notice>> {
    let holder = (actor.role == Role::Owner).then(|| actor.holder.clone().unwrap_or_default());
    let district =
        (actor.role == Role::District).then(|| actor.district.clone().unwrap_or_default());
    let rows =
        tx.notifications()
            .warnings_in_force(&ts(now), holder.as_deref(), district.as_deref())?;
    let mut out = vec![];
    for (id, level, issued_at) in rows {
        let unread = match (seen_at, parse_ts(&issued_at)) {
            (Some(seen), Ok(at)) => at > seen,
            _ => true,
        };
        out.push(Notice {
            key: format!("w{id}"),
            kind: NoticeKind::Warning,
            fire: String::new(),
            code: level,
            at: issued_at,
            unread,
        });
    }
    Ok(out)
}

/// Whose dust matters to this user: managers everyone's, owners their holder's, district
/// officers their district's; patrols none.
fn party(actor: &Actor) -> Option<IssueParty> {
    match (actor.role, &actor.holder, &actor.district) {
        (Role::Manager, _, _) => Some(IssueParty::All),
        (Role::Owner, Some(h), _) => Some(IssueParty::Holder(h.clone())),
        (Role::District, _, Some(d)) => Some(IssueParty::District(d.clone())),
        _ => None,
    }
}

/// Dust violations reported in the last [`WINDOW_DAYS`] that this user must rectify: owners
/// their holder's, district officers those their government answers for, managers all; not the
/// ones they reported themselves. Unread when reported after the user last marked all read.
fn dust_issues(
    tx: &dyn Tx,
    actor: &Actor,
    now: DateTime<Utc>,
    seen_at: Option<DateTime<Utc>>,
) -> Result<Vec<Notice>> {
    let Some(party) = party(actor) else {
        return Ok(vec![]);
    };
    let since = ts(now - Duration::days(WINDOW_DAYS));
    let reported = tx
        .notifications()
        .dust_issues_reported(&party, &since, &actor.username)?;
    let notice = |kind, key: String, code: String, at: String| {
        let unread = match (seen_at, parse_ts(&at)) {
            (Some(seen), Ok(t)) => t > seen,
            _ => true,
        };
        fireless(kind, key, code, at, unread)
    };
    let mut out = vec![];
    for (code, at) in reported {
        out.push(notice(
            NoticeKind::NewDustIssue,
            format!("i{code}"),
            code,
            at,
        ));
    }
    // Past the deadline and not yet reported rectified: the party is reminded, managers see it.
    for (code, deadline) in tx.notifications().dust_issues_overdue(&party, &ts(now))? {
        let key = format!("io{code}-{deadline}");
        out.push(notice(NoticeKind::DustIssueOverdue, key, code, deadline));
    }
    Ok(out)
}

/// The monitors of this user's mines (owners), district (district officers) or all (managers)
/// that stopped reporting: silent for [`STALE_AFTER_S`], as the map shows them stale.
fn silent_monitors(
    tx: &dyn Tx,
    actor: &Actor,
    now: DateTime<Utc>,
    seen_at: Option<DateTime<Utc>>,
) -> Result<Vec<Notice>> {
    let Some(party) = party(actor) else {
        return Ok(vec![]);
    };
    let rows = tx
        .notifications()
        .silent_monitors(&party, now.timestamp() - STALE_AFTER_S)?;
    let mut out = vec![];
    for (mn, last) in rows {
        let Some(since) = DateTime::from_timestamp(last + STALE_AFTER_S, 0) else {
            continue;
        };
        out.push(fireless(
            NoticeKind::MonitorSilent,
            format!("s{mn}-{last}"),
            mn,
            ts(since),
            seen_at.is_none_or(|s| since > s),
        ));
    }
    Ok(out)
}

/// A notice about something other than a fire (a dust violation, a monitor): `code` names it.
fn fireless(kind: NoticeKind, key: String, code: String, at: String, unread: bool) -> Notice {
    Notice {
        key,
        kind,
        fire: String::new(),
        code,
        at,
        unread,
    }
}

/// Marks everything up to now as read.
pub fn mark_read(tx: &dyn Tx, user: &str, now: DateTime<Utc>) -> Result<()> {
    Ok(tx.notifications().mark_read(user, &ts(now))?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(role: Role) -> Actor {
        Actor {
            username: "u".into(),
            role,
            district: (role == Role::District).then(|| "150303".into()),
            holder: (role == Role::Owner).then(|| "甲".into()),
        }
    }

    #[test]
    fn an_urge_reaches_the_owner_of_the_fire_or_the_district_that_answers_for_it() {
        assert_eq!(
            urged(&actor(Role::Owner), "holder"),
            Some(NoticeKind::Urged)
        );
        assert_eq!(
            urged(&actor(Role::District), "district"),
            Some(NoticeKind::Urged)
        );
        assert_eq!(urged(&actor(Role::District), "holder"), None);
        assert_eq!(urged(&actor(Role::Patrol), "district"), None);
        assert_eq!(urged(&actor(Role::Manager), "holder"), None);
    }

    #[test]
    fn new_fires_reach_their_party_and_managers_and_reignitions_everyone() {
        let mine = Responsible::for_holder("甲", "150303");
        let other = Responsible::for_holder("乙", "150303");
        assert_eq!(
            kind_for(&actor(Role::Owner), "report", false, Some(&mine)),
            Some(NoticeKind::NewFire)
        );
        assert_eq!(
            kind_for(&actor(Role::Owner), "report", false, Some(&other)),
            None
        );
        assert_eq!(
            kind_for(&actor(Role::Manager), "report", false, Some(&other)),
            Some(NoticeKind::NewFire)
        );
        assert_eq!(
            kind_for(&actor(Role::Patrol), "report", false, Some(&other)),
            None
        );
        assert_eq!(
            kind_for(&actor(Role::Owner), "reassign", false, Some(&mine)),
            Some(NoticeKind::Assigned)
        );
        let district = Responsible::for_district("150303", "乌达区");
        assert_eq!(
            kind_for(&actor(Role::District), "reassign", false, Some(&district)),
            Some(NoticeKind::Assigned)
        );
        assert_eq!(
            kind_for(&actor(Role::Patrol), "inspect", true, None),
            Some(NoticeKind::Reignited)
        );
    }
}

//! A user's notifications, derived from the event log and the deadlines of the fires they may
//! see: new fires (and reassignments) for them, re-ignitions, deadlines near or passed. Only the
//! read marker is stored, so nothing can fall out of step with the fires themselves.

use chrono::{DateTime, Duration, Utc};
use rusqlite::types::Value as Sql;
use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

use crate::domain::access::fire_scope;
use crate::domain::fire::{Rules, is_responsible};
use crate::domain::responsibility::Responsible;
use crate::domain::role::{Actor, Role};
use crate::error::Result;
use crate::layers::Layer;
use crate::store::features::scope_sql;
use crate::store::fires::{self, parse_ts, ts};

/// How long before a deadline it is announced.
pub const DEADLINE_NEAR_HOURS: i64 = 24;
/// How many notifications a list holds.
pub const LIMIT: usize = 50;
/// Events older than this are history, not news.
pub const WINDOW_DAYS: i64 = 30;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NoticeKind {
    /// A new fire this user must act on (or, for managers, any new fire).
    NewFire,
    /// A fire reassigned to this user's party.
    Assigned,
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
    pub items: Vec<Notice>,
}

fn marker(conn: &Connection, user: &str) -> Result<(i64, Option<DateTime<Utc>>)> {
    let row: Option<(i64, String)> = conn
        .query_row(
            "SELECT last_event_id, seen_at FROM notification_reads WHERE username = ?1",
            [user],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
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

/// The user's notifications, newest first.
pub fn list(
    conn: &Connection,
    fire_layer: &Layer,
    actor: &Actor,
    now: DateTime<Utc>,
    rules: &Rules,
) -> Result<Notices> {
    let (last_id, seen_at) = marker(conn, &actor.username)?;
    let (cond, params) = scope_sql(
        fire_layer,
        &fire_scope(actor),
        &ts(now - Duration::days(rules.watch_days)),
    );
    let mut items = vec![];
    {
        let sql = format!(
            "SELECT e.id, e.fire, t.code, e.at, e.action, e.reignited, e.responsible FROM events e
             JOIN fire_points t ON t.uuid = e.fire
             WHERE {cond} AND (e.action IN ('report', 'reassign') OR e.reignited = 1) AND e.actor <> ? AND e.at >= ?
             ORDER BY e.id DESC LIMIT 500"
        );
        let mut p = params.clone();
        p.push(Sql::Text(actor.username.clone()));
        p.push(Sql::Text(ts(now - Duration::days(WINDOW_DAYS))));
        let mut stmt = conn.prepare(&sql)?;
        let mut rows = stmt.query(rusqlite::params_from_iter(p))?;
        while let Some(r) = rows.next()? {
            let id: i64 = r.get(0)?;
            let action: String = r.get(4)?;
            let responsible: Option<Responsible> = r
                .get::<_, Option<String>>(6)?
                .and_then(|s| serde_json::from_str(&s).ok());
            if let Some(kind) = kind_for(
                actor,
                &action,
                r.get::<_, i64>(5)? != 0,
                responsible.as_ref(),
            ) {
                items.push(Notice {
                    key: format!("e{id}"),
                    kind,
                    fire: r.get(1)?,
                    code: r.get(2)?,
                    at: r.get(3)?,
                    unread: id > last_id,
                });
            }
        }
    }
    // Deadlines: the parties responsible hear of their own; managers of every overdue fire.
    if actor.role != Role::Patrol {
        let soon = ts(now + Duration::hours(DEADLINE_NEAR_HOURS));
        let sql = format!(
            "{cond} AND t.status IN ('reported','confirmed','treating','reignited') AND t.deadline <= ?"
        );
        let mut p = params;
        p.push(Sql::Text(soon));
        for f in fires::get_many(conn, &sql, p)? {
            let Some(deadline) = f.deadline else { continue };
            if actor.role != Role::Manager && !is_responsible(actor, &f.responsible) {
                continue;
            }
            let (kind, since) = if deadline <= now {
                (NoticeKind::DeadlinePassed, deadline)
            } else if actor.role == Role::Manager {
                continue;
            } else {
                (
                    NoticeKind::DeadlineNear,
                    deadline - Duration::hours(DEADLINE_NEAR_HOURS),
                )
            };
            let unread = seen_at.is_none_or(|s| since > s);
            items.push(Notice {
                key: format!("d{}-{}", f.id, ts(deadline)),
                kind,
                fire: f.id,
                code: f.code,
                at: ts(since),
                unread,
            });
        }
    }
    items.extend(warnings(conn, actor, now, seen_at)?);
    items.extend(dust_issues(conn, actor, now, seen_at)?);
    items.sort_by(|a, b| b.at.cmp(&a.at));
    let unread = items.iter().filter(|n| n.unread).count();
    items.truncate(LIMIT);
    Ok(Notices { unread, items })
}

/// Whether a table exists (a database opened by an older binary may lack the dust tables).
fn table_exists(conn: &Connection, name: &str) -> Result<bool> {
    Ok(conn.query_row(
        "SELECT EXISTS(SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1)",
        [name],
        |r| r.get(0),
    )?)
}

/// Warnings in force that concern this user: owners those restricting their mines, district
/// officers those naming their district or restricting a mine in it, everyone else all. `fire` is empty and `code` is the
/// warning's level.
fn warnings(
    conn: &Connection,
    actor: &Actor,
    now: DateTime<Utc>,
    seen_at: Option<DateTime<Utc>>,
) -> Result<Vec<Notice>> {
    if !table_exists(conn, "dust_warnings")? {
        return Ok(vec![]);
    }
    // A district officer's: warnings naming the district, or restricting a mine in it (a drawn
    // area names no district).
    let mut stmt = conn.prepare(
        "SELECT w.id, w.level, w.issued_at FROM dust_warnings w
         WHERE w.ends_at > ?1
           AND (?2 IS NULL OR EXISTS
             (SELECT 1 FROM dust_restrictions r WHERE r.warning = w.id AND r.holder = ?2))
           AND (?3 IS NULL OR EXISTS (SELECT 1 FROM json_each(w.districts) WHERE value = ?3)
             OR EXISTS (SELECT 1 FROM dust_restrictions r WHERE r.warning = w.id AND r.district_code = ?3))
         ORDER BY w.id DESC LIMIT 50",
    )?;
    let holder = (actor.role == Role::Owner).then(|| actor.holder.clone().unwrap_or_default());
    let district =
        (actor.role == Role::District).then(|| actor.district.clone().unwrap_or_default());
    let rows = stmt.query_map(params![ts(now), holder, district], |r| {
        Ok((
            r.get::<_, i64>(0)?,
            r.get::<_, String>(1)?,
            r.get::<_, String>(2)?,
        ))
    })?;
    let mut out = vec![];
    for row in rows {
        let (id, level, issued_at) = row?;
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

/// Dust violations reported in the last [`WINDOW_DAYS`] that this user must rectify: owners
/// their holder's, district officers those their government answers for, managers all; not the
/// ones they reported themselves. Unread when reported after the user last marked all read.
fn dust_issues(
    conn: &Connection,
    actor: &Actor,
    now: DateTime<Utc>,
    seen_at: Option<DateTime<Utc>>,
) -> Result<Vec<Notice>> {
    let has_table = table_exists(conn, "dust_issues")?;
    let (cond, bound) = match actor.role {
        Role::Manager => ("?3 IS NULL", None),
        Role::Owner => ("t.responsible_holder = ?3", actor.holder.clone()),
        Role::District => (
            "t.responsible_party = 'district' AND t.district_code = ?3",
            actor.district.clone(),
        ),
        Role::Patrol => return Ok(vec![]),
    };
    if !has_table || (actor.role != Role::Manager && bound.is_none()) {
        return Ok(vec![]);
    }
    let mut stmt = conn.prepare(&format!(
        "SELECT t.code, t.reported_at FROM dust_issues t
         WHERE {cond} AND t.reported_at >= ?1 AND t.reported_by <> ?2
         ORDER BY t.reported_at DESC LIMIT 50"
    ))?;
    let since = ts(now - Duration::days(WINDOW_DAYS));
    let rows = stmt.query_map(params![since, actor.username, bound], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
    })?;
    let notice = |kind, key: String, code: String, at: String| {
        let unread = match (seen_at, parse_ts(&at)) {
            (Some(seen), Ok(t)) => t > seen,
            _ => true,
        };
        Notice {
            key,
            kind,
            fire: String::new(),
            code,
            at,
            unread,
        }
    };
    let mut out = vec![];
    for row in rows {
        let (code, at) = row?;
        out.push(notice(
            NoticeKind::NewDustIssue,
            format!("i{code}"),
            code,
            at,
        ));
    }
    // Past the deadline and not yet reported rectified: the party is reminded, managers see it.
    let mut stmt = conn.prepare(&format!(
        "SELECT t.code, t.deadline FROM dust_issues t
         WHERE {cond} AND t.status IN ('open', 'rectifying') AND t.deadline <= ?1
         ORDER BY t.deadline DESC LIMIT 50"
    ))?;
    // (?2 is not used here; the condition binds ?3.)
    let rows = stmt.query_map(params![ts(now), Option::<String>::None, bound], |r| {
        Ok((r.get::<_, String>(0)?, r.get::<_, String>(1)?))
    })?;
    for row in rows {
        let (code, deadline) = row?;
        let key = format!("io{code}-{deadline}");
        out.push(notice(NoticeKind::DustIssueOverdue, key, code, deadline));
    }
    Ok(out)
}

/// Marks everything up to now as read.
pub fn mark_read(conn: &Connection, user: &str, now: DateTime<Utc>) -> Result<()> {
    let last: i64 = conn.query_row("SELECT coalesce(max(id), 0) FROM events", [], |r| r.get(0))?;
    conn.execute(
        "INSERT INTO notification_reads(username, last_event_id, seen_at) VALUES (?1, ?2, ?3)
         ON CONFLICT(username) DO UPDATE SET last_event_id = excluded.last_event_id, seen_at = excluded.seen_at",
        params![user, last, ts(now)],
    )?;
    Ok(())
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

//! What notifications are derived from: the read marker, the fire events and deadlines a scope
//! may see, warnings in force and dust violations. Rows only; which of them concern a user is
//! decided in `service::notifications`.

use rusqlite::types::Value as Sql;
use rusqlite::{Connection, OptionalExtension, params};

use super::Result;
use super::features::scope_sql;
use super::fires::{self, FireRecord};
use crate::domain::access::Scope;
use crate::layers::Layer;

/// A user's read marker: the last event id seen and when everything was marked read.
pub fn read_marker(conn: &Connection, user: &str) -> Result<Option<(i64, String)>> {
    Ok(conn
        .query_row(
            "SELECT last_event_id, seen_at FROM notification_reads WHERE username = ?1",
            [user],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?)
}

/// Marks everything up to `now` as read for `user`.
pub fn mark_read(conn: &Connection, user: &str, now: &str) -> Result<()> {
    let last: i64 = conn.query_row("SELECT coalesce(max(id), 0) FROM events", [], |r| r.get(0))?;
    conn.execute(
        "INSERT INTO notification_reads(username, last_event_id, seen_at) VALUES (?1, ?2, ?3)
         ON CONFLICT(username) DO UPDATE SET last_event_id = excluded.last_event_id, seen_at = excluded.seen_at",
        params![user, last, now],
    )?;
    Ok(())
}

/// A report, reassignment or re-ignition of a fire.
pub struct FireEvent {
    pub id: i64,
    pub fire: String,
    pub code: String,
    pub at: String,
    pub action: String,
    pub reignited: bool,
    /// The party it set, as JSON.
    pub responsible: Option<String>,
}

/// Reports, reassignments and re-ignitions since `since` of fires `scope` may see, not by
/// `not_by`; newest first, at most 500.
pub fn fire_events(
    conn: &Connection,
    fire_layer: &Layer,
    scope: &Scope,
    watch_since: &str,
    not_by: &str,
    since: &str,
) -> Result<Vec<FireEvent>> {
    let (cond, mut p) = scope_sql(fire_layer, scope, watch_since);
    let sql = format!(
        "SELECT e.id, e.fire, t.code, e.at, e.action, e.reignited, e.responsible FROM events e
         JOIN fire_points t ON t.uuid = e.fire
         WHERE {cond} AND (e.action IN ('report', 'reassign') OR e.reignited = 1) AND e.actor <> ? AND e.at >= ?
         ORDER BY e.id DESC LIMIT 500"
    );
    p.push(Sql::Text(not_by.to_string()));
    p.push(Sql::Text(since.to_string()));
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map(rusqlite::params_from_iter(p), |r| {
        Ok(FireEvent {
            id: r.get(0)?,
            fire: r.get(1)?,
            code: r.get(2)?,
            at: r.get(3)?,
            action: r.get(4)?,
            reignited: r.get::<_, i64>(5)? != 0,
            responsible: r.get(6)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Fires `scope` may see, not yet under control, whose deadline is by `by`.
pub fn open_fires_due_by(
    conn: &Connection,
    fire_layer: &Layer,
    scope: &Scope,
    watch_since: &str,
    by: &str,
) -> Result<Vec<FireRecord>> {
    let (cond, mut p) = scope_sql(fire_layer, scope, watch_since);
    let sql = format!(
        "{cond} AND t.status IN ('reported','confirmed','treating','reignited') AND t.deadline <= ?"
    );
    p.push(Sql::Text(by.to_string()));
    fires::get_many(conn, &sql, p)
}

/// Whether a table exists (a database opened by an older binary may lack the dust tables).
pub fn table_exists(conn: &Connection, name: &str) -> Result<bool> {
    Ok(conn.query_row(
        "SELECT EXISTS(SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1)",
        [name],
        |r| r.get(0),
    )?)
}

/// Warnings in force at `now` (id, level, issued_at), newest first, at most 50: with `holder`,
/// only those restricting that holder's mines; with `district`, only those naming the district
/// or restricting a mine in it (a drawn area names no district).
pub fn warnings_in_force(
    conn: &Connection,
    now: &str,
    holder: Option<&str>,
    district: Option<&str>,
) -> Result<Vec<(i64, String, String)>> {
    let mut stmt = conn.prepare(
        "SELECT w.id, w.level, w.issued_at FROM dust_warnings w
         WHERE w.ends_at > ?1
           AND (?2 IS NULL OR EXISTS
             (SELECT 1 FROM dust_restrictions r WHERE r.warning = w.id AND r.holder = ?2))
           AND (?3 IS NULL OR EXISTS (SELECT 1 FROM json_each(w.districts) WHERE value = ?3)
             OR EXISTS (SELECT 1 FROM dust_restrictions r WHERE r.warning = w.id AND r.district_code = ?3))
         ORDER BY w.id DESC LIMIT 50",
    )?;
    let rows = stmt.query_map(params![now, holder, district], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?))
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Whose dust violations: every one, a holder's, or those a district government answers for.
pub enum IssueParty {
    All,
    Holder(String),
    District(String),
}

impl IssueParty {
    /// The condition on `t` (binding `?3`) and its value.
    fn sql(&self) -> (&'static str, Option<&str>) {
        match self {
            IssueParty::All => ("?3 IS NULL", None),
            IssueParty::Holder(h) => ("t.responsible_holder = ?3", Some(h)),
            IssueParty::District(d) => (
                "t.responsible_party = 'district' AND t.district_code = ?3",
                Some(d),
            ),
        }
    }
}

/// The party's violations reported since `since` by someone other than `not_by` (code,
/// reported_at), newest first, at most 50.
pub fn dust_issues_reported(
    conn: &Connection,
    party: &IssueParty,
    since: &str,
    not_by: &str,
) -> Result<Vec<(String, String)>> {
    let (cond, bound) = party.sql();
    let mut stmt = conn.prepare(&format!(
        "SELECT t.code, t.reported_at FROM dust_issues t
         WHERE {cond} AND t.reported_at >= ?1 AND t.reported_by <> ?2
         ORDER BY t.reported_at DESC LIMIT 50"
    ))?;
    let rows = stmt.query_map(params![since, not_by, bound], |r| {
        Ok((r.get(0)?, r.get(1)?))
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The party's violations past their deadline by `now` and not yet reported rectified (code,
/// deadline), latest deadline first, at most 50.
pub fn dust_issues_overdue(
    conn: &Connection,
    party: &IssueParty,
    now: &str,
) -> Result<Vec<(String, String)>> {
    let (cond, bound) = party.sql();
    let mut stmt = conn.prepare(&format!(
        "SELECT t.code, t.deadline FROM dust_issues t
         WHERE {cond} AND t.status IN ('open', 'rectifying') AND t.deadline <= ?1
         ORDER BY t.deadline DESC LIMIT 50"
    ))?;
    // ?2 is not used here; the condition binds ?3.
    let rows = stmt.query_map(params![now, Option::<String>::None, bound], |r| {
        Ok((r.get(0)?, r.get(1)?))
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

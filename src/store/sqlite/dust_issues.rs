//! Dust violations: the `dust_issues` layer rows (the current state) and their immutable event log
//! `dust_issue_events`.

use chrono::{DateTime, Utc};
use geo::{Geometry, Point};
use rusqlite::types::Value as Sql;
use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::Serialize;

use super::tracked::{self, opt_ts};
use super::{Result, StoreError, gpkg};
use crate::domain::dust_issue::{IssueKind, IssueState, Status};
use crate::domain::responsibility::{Party, Responsible};
use crate::store::fires::{parse_ts, ts};

/// A violation as stored.
#[derive(Debug, Clone, Serialize)]
pub struct IssueRecord {
    pub fid: i64,
    pub uuid: String,
    pub code: String,
    pub kind: IssueKind,
    pub status: Status,
    pub lon: f64,
    pub lat: f64,
    pub note: Option<String>,
    pub accuracy_m: Option<f64>,
    pub position_source: Option<String>,
    pub reported_at: DateTime<Utc>,
    pub reported_by: String,
    pub deadline: DateTime<Utc>,
    pub responsible: Responsible,
    pub rectified_at: Option<DateTime<Utc>>,
    pub verified_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
    #[serde(skip)]
    pub request_hash: Option<String>,
}

impl IssueRecord {
    /// What the rules need to decide an action.
    pub fn state(&self) -> IssueState {
        IssueState {
            status: self.status,
            responsible: self.responsible.clone(),
        }
    }
}

const COLUMNS: &str = "t.fid, t.geom, t.uuid, t.code, t.kind, t.status, t.note, t.accuracy_m, t.position_source, \
     t.reported_at, t.reported_by, t.deadline, t.responsible_party, t.responsible_name, t.district_code, t.mine, \
     t.via, t.candidates, t.rectified_at, t.verified_at, t.updated_at, t.request_hash";

fn from_row(r: &Row) -> Result<IssueRecord> {
    let p = tracked::point(r, "a dust violation")?;
    let kind: String = r.get("kind")?;
    let status: String = r.get("status")?;
    Ok(IssueRecord {
        fid: r.get("fid")?,
        uuid: r.get("uuid")?,
        code: r.get("code")?,
        kind: IssueKind::parse(&kind)
            .ok_or_else(|| StoreError::Corrupt(format!("dust violation kind {kind:?}")))?,
        status: Status::parse(&status)
            .ok_or_else(|| StoreError::Corrupt(format!("dust violation status {status:?}")))?,
        lon: p.x(),
        lat: p.y(),
        note: r.get("note")?,
        accuracy_m: r.get("accuracy_m")?,
        position_source: r.get("position_source")?,
        reported_at: parse_ts(&r.get::<_, String>("reported_at")?)?,
        reported_by: r.get("reported_by")?,
        deadline: parse_ts(&r.get::<_, String>("deadline")?)?,
        responsible: tracked::responsible(r)?,
        rectified_at: opt_ts(r.get("rectified_at")?)?,
        verified_at: opt_ts(r.get("verified_at")?)?,
        updated_at: parse_ts(&r.get::<_, String>("updated_at")?)?,
        request_hash: r.get("request_hash")?,
    })
}

/// A violation by its UUID or its code.
pub fn get(conn: &Connection, uuid_or_code: &str) -> Result<Option<IssueRecord>> {
    let sql = format!("SELECT {COLUMNS} FROM dust_issues t WHERE t.uuid = ?1 OR t.code = ?1");
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query([uuid_or_code])?;
    rows.next()?.map(from_row).transpose()
}

/// The violations matching `where_sql` (on `dust_issues t`), soonest deadline first.
pub fn get_many(conn: &Connection, where_sql: &str, params: Vec<Sql>) -> Result<Vec<IssueRecord>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM dust_issues t WHERE {where_sql} ORDER BY t.deadline, t.code"
    );
    let mut stmt = conn.prepare(&sql)?;
    tracked::collect(stmt.query(rusqlite::params_from_iter(params))?, from_row)
}

/// The next code in a year's sequence: `YC-2026-0001`. Called inside the write transaction, so
/// two reports never get the same number.
pub fn next_code(conn: &Connection, prefix: &str, year: i32) -> Result<String> {
    tracked::next_code(conn, "dust_issue_code", prefix, year)
}

/// A new violation's row.
pub struct NewIssue<'a> {
    pub uuid: &'a str,
    pub code: &'a str,
    pub kind: IssueKind,
    pub point: Point<f64>,
    pub note: Option<&'a str>,
    pub accuracy_m: Option<f64>,
    pub position_source: &'a str,
    pub reported_at: DateTime<Utc>,
    pub reported_by: &'a str,
    pub deadline: DateTime<Utc>,
    pub responsible: &'a Responsible,
    pub request_hash: &'a str,
}

/// Inserts a violation as `open` and keeps the layer's extent in gpkg_contents up to date.
pub fn insert(conn: &Connection, i: &NewIssue) -> Result<i64> {
    let r = i.responsible;
    conn.execute(
        "INSERT INTO dust_issues(geom, uuid, code, kind, status, note, accuracy_m, position_source, reported_at,
            reported_by, deadline, responsible_party, responsible_name, responsible_holder, district_code, mine, via,
            candidates, updated_at, request_hash)
         VALUES (?1, ?2, ?3, ?4, 'open', ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?8, ?18)",
        params![
            gpkg::try_encode(&Geometry::Point(i.point))?,
            i.uuid,
            i.code,
            i.kind.as_str(),
            i.note,
            i.accuracy_m,
            i.position_source,
            ts(i.reported_at),
            i.reported_by,
            ts(i.deadline),
            if r.party == Party::Holder { "holder" } else { "district" },
            r.name,
            r.holder(),
            r.district_code,
            r.mine,
            r.via.as_ref().and_then(|v| serde_json::to_string(v).ok()),
            serde_json::to_string(&r.candidates).unwrap_or_else(|_| "[]".into()),
            i.request_hash,
        ],
    )?;
    let fid = conn.last_insert_rowid();
    gpkg::update_extent(conn, "dust_issues")?;
    Ok(fid)
}

/// Writes a violation's new status after an event: `rectified_at` is the time of the last
/// `rectified` (cleared again by a rejection), `verified_at` the time it was verified.
pub fn update_status(
    conn: &Connection,
    issue: &IssueRecord,
    to: Status,
    at: DateTime<Utc>,
) -> Result<()> {
    let rectified_at = match to {
        Status::Rectified => Some(at),
        Status::Verified => issue.rectified_at,
        Status::Open | Status::Rectifying => None,
    };
    let verified_at = (to == Status::Verified).then_some(at);
    conn.prepare_cached(
        "UPDATE dust_issues SET status = ?2, rectified_at = ?3, verified_at = ?4, updated_at = ?5 WHERE uuid = ?1",
    )?
    .execute(params![
        issue.uuid,
        to.as_str(),
        rectified_at.map(ts),
        verified_at.map(ts),
        ts(at),
    ])?;
    Ok(())
}

/// Moves a violation to another responsible party (boundaries changed under it).
pub fn update_responsible(
    conn: &Connection,
    uuid: &str,
    r: &Responsible,
    at: DateTime<Utc>,
) -> Result<()> {
    tracked::set_responsible(conn, "dust_issues", uuid, r, at)
}

/// An event in a violation's life. Never updated or deleted (triggers refuse both).
#[derive(Debug, Clone, Serialize, Default)]
pub struct IssueEvent {
    pub id: i64,
    pub issue: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// When it happened (the observed time for what was done in the field).
    pub at: String,
    /// When the server received it; absent for events stored before it was kept.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub received_at: Option<String>,
    pub actor: String,
    pub role: String,
    pub action: String,
    pub from: Option<String>,
    pub to: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    #[serde(skip)]
    pub request_hash: Option<String>,
}

const EVENT_COLUMNS: &str = "id, issue, client_id, at, actor, role, action, from_status, to_status, note, request_hash, received_at";

fn event_from_row(r: &Row) -> rusqlite::Result<IssueEvent> {
    Ok(IssueEvent {
        id: r.get(0)?,
        issue: r.get(1)?,
        client_id: r.get(2)?,
        at: r.get(3)?,
        actor: r.get(4)?,
        role: r.get(5)?,
        action: r.get(6)?,
        from: r.get(7)?,
        to: r.get(8)?,
        note: r.get(9)?,
        request_hash: r.get(10)?,
        received_at: r.get(11)?,
    })
}

/// Appends an event; returns its id.
pub fn append_event(conn: &Connection, e: &IssueEvent) -> Result<i64> {
    conn.prepare_cached(
        "INSERT INTO dust_issue_events(issue, client_id, at, actor, role, action, from_status, to_status, note, request_hash, received_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
    )?
    .execute(params![
        e.issue,
        e.client_id,
        e.at,
        e.actor,
        e.role,
        e.action,
        e.from,
        e.to,
        e.note,
        e.request_hash,
        e.received_at,
    ])?;
    Ok(conn.last_insert_rowid())
}

/// The time of a violation's latest event.
pub fn last_event_at(conn: &Connection, issue: &str) -> Result<Option<DateTime<Utc>>> {
    let at: Option<String> = conn
        .prepare_cached("SELECT max(at) FROM dust_issue_events WHERE issue = ?1")?
        .query_row([issue], |r| r.get(0))?;
    at.as_deref().map(parse_ts).transpose()
}

/// A violation's events, oldest first.
pub fn events(conn: &Connection, issue: &str) -> Result<Vec<IssueEvent>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {EVENT_COLUMNS} FROM dust_issue_events WHERE issue = ?1 ORDER BY at, id"
    ))?;
    let rows = stmt.query_map([issue], event_from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// An event by the client-made id it was sent with.
pub fn event_by_client_id(conn: &Connection, client_id: &str) -> Result<Option<IssueEvent>> {
    let sql = format!("SELECT {EVENT_COLUMNS} FROM dust_issue_events WHERE client_id = ?1");
    Ok(conn
        .query_row(&sql, [client_id], event_from_row)
        .optional()?)
}

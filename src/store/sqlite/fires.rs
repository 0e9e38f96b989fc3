//! Fire points and their event log: the rows behind the life of a fire.

use chrono::{DateTime, SecondsFormat, Utc};
use geo::{Distance, Geometry, Haversine, Point};
use rusqlite::types::Value as Sql;
use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::Serialize;
use serde_json::Value;

use super::tracked::{self, json_col, opt_ts};
use super::{Result, StoreError, gpkg};
use crate::domain::clearance::{Change, FireRef, Place};
use crate::domain::fire::{FireKind, FireState, Status};
use crate::domain::responsibility::{Party, Responsible};

/// Times are stored as RFC 3339 UTC to the second, so text order is time order.
pub fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

pub fn parse_ts(s: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| StoreError::Corrupt(format!("time {s:?}: {e}")))
}

/// A fire as stored.
#[derive(Debug, Clone, Serialize)]
pub struct FireRecord {
    pub fid: i64,
    pub id: String,
    pub code: String,
    pub kind: FireKind,
    pub status: Status,
    pub lon: f64,
    pub lat: f64,
    /// When the fire was seen (the report's `observed_at`, or when it was received).
    pub reported_at: DateTime<Utc>,
    /// When the server received the report; None for reports stored before it was kept.
    pub received_at: Option<DateTime<Utc>>,
    pub reported_by: String,
    pub deadline: Option<DateTime<Utc>>,
    pub temp_c: Option<f64>,
    pub max_temp_c: Option<f64>,
    pub area_m2: Option<f64>,
    pub signs: Value,
    pub note: Option<String>,
    pub accuracy_m: Option<f64>,
    pub position_source: Option<String>,
    pub responsible: Responsible,
    pub reignitions: i64,
    pub controlled_at: Option<DateTime<Utc>>,
    pub cleared_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
    #[serde(skip)]
    pub request_hash: Option<String>,
}

const FIRE_COLUMNS: &str = "fid, geom, uuid, code, kind, status, reported_at, received_at, reported_by, deadline, temp_c, max_temp_c, \
     area_m2, signs, note, accuracy_m, position_source, responsible_party, responsible_name, district_code, via, \
     candidates, mine, reignitions, controlled_at, cleared_at, updated_at, request_hash";

fn fire_from_row(r: &Row) -> Result<FireRecord> {
    let p = tracked::point(r, "a fire point")?;
    let kind: String = r.get("kind")?;
    let status: String = r.get("status")?;
    let responsible = tracked::responsible(r)?;
    Ok(FireRecord {
        fid: r.get("fid")?,
        id: r.get("uuid")?,
        code: r.get("code")?,
        kind: FireKind::parse(&kind)
            .ok_or_else(|| StoreError::Corrupt(format!("fire kind {kind:?}")))?,
        status: Status::parse(&status)
            .ok_or_else(|| StoreError::Corrupt(format!("fire status {status:?}")))?,
        lon: p.x(),
        lat: p.y(),
        reported_at: parse_ts(&r.get::<_, String>("reported_at")?)?,
        received_at: opt_ts(r.get("received_at")?)?,
        reported_by: r.get("reported_by")?,
        deadline: opt_ts(r.get("deadline")?)?,
        temp_c: r.get("temp_c")?,
        max_temp_c: r.get("max_temp_c")?,
        area_m2: r.get("area_m2")?,
        signs: json_col(r, "signs")?.unwrap_or(Value::Array(vec![])),
        note: r.get("note")?,
        accuracy_m: r.get("accuracy_m")?,
        position_source: r.get("position_source")?,
        responsible,
        reignitions: r.get::<_, Option<i64>>("reignitions")?.unwrap_or(0),
        controlled_at: opt_ts(r.get("controlled_at")?)?,
        cleared_at: opt_ts(r.get("cleared_at")?)?,
        updated_at: parse_ts(&r.get::<_, String>("updated_at")?)?,
        request_hash: r.get("request_hash")?,
    })
}

/// A fire by its id (UUID) or its code.
pub fn get(conn: &Connection, id_or_code: &str) -> Result<Option<FireRecord>> {
    let sql = format!("SELECT {FIRE_COLUMNS} FROM fire_points WHERE uuid = ?1 OR code = ?1");
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query([id_or_code])?;
    rows.next()?.map(fire_from_row).transpose()
}

/// Fires by id, for lists.
pub fn get_many(conn: &Connection, where_sql: &str, params: Vec<Sql>) -> Result<Vec<FireRecord>> {
    let sql = format!(
        "SELECT {FIRE_COLUMNS} FROM fire_points t WHERE {where_sql} ORDER BY t.deadline, t.code"
    );
    let mut stmt = conn.prepare(&sql)?;
    tracked::collect(
        stmt.query(rusqlite::params_from_iter(params))?,
        fire_from_row,
    )
}

/// The next code in a year's sequence: `WH-2026-0001`. Called inside the write transaction,
/// so two reports never get the same number.
pub fn next_code(conn: &Connection, prefix: &str, year: i32) -> Result<String> {
    tracked::next_code(conn, "fire_code", prefix, year)
}

/// A new fire's row.
pub struct NewFire<'a> {
    pub id: &'a str,
    pub code: &'a str,
    pub kind: FireKind,
    pub point: Point<f64>,
    pub reported_at: DateTime<Utc>,
    pub received_at: DateTime<Utc>,
    pub reported_by: &'a str,
    pub deadline: DateTime<Utc>,
    pub temp_c: Option<f64>,
    pub area_m2: Option<f64>,
    pub signs: &'a Value,
    pub note: Option<&'a str>,
    pub accuracy_m: Option<f64>,
    pub position_source: Option<&'a str>,
    pub responsible: &'a Responsible,
    pub request_hash: &'a str,
}

fn holder_of(r: &Responsible) -> Option<&str> {
    r.holder()
}

pub fn insert(conn: &Connection, f: &NewFire) -> Result<i64> {
    let r = f.responsible;
    conn.execute(
        "INSERT INTO fire_points(geom, uuid, code, kind, status, reported_at, reported_by, deadline, temp_c, max_temp_c,
            area_m2, signs, note, accuracy_m, position_source, responsible_party, responsible_name, responsible_holder,
            district_code, mine, via, candidates, reignitions, updated_at, request_hash, received_at)
         VALUES (?1, ?2, ?3, ?4, 'reported', ?5, ?6, ?7, ?8, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, 0, ?5, ?21, ?22)",
        params![
            gpkg::try_encode(&Geometry::Point(f.point))?,
            f.id,
            f.code,
            f.kind.as_str(),
            ts(f.reported_at),
            f.reported_by,
            ts(f.deadline),
            f.temp_c,
            f.area_m2,
            f.signs.to_string(),
            f.note,
            f.accuracy_m,
            f.position_source,
            if r.party == Party::Holder { "holder" } else { "district" },
            r.name,
            holder_of(r),
            r.district_code,
            r.mine,
            r.via.as_ref().map(|v| serde_json::to_string(v).unwrap_or_default()),
            serde_json::to_string(&r.candidates).unwrap_or_default(),
            f.request_hash,
            ts(f.received_at),
        ],
    )?;
    Ok(conn.last_insert_rowid())
}

/// An event as stored: what happened to a fire, by whom, when. Never updated or deleted.
#[derive(Debug, Clone, Serialize, Default)]
pub struct EventRecord {
    pub id: i64,
    pub fire: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// When it happened: the observed time for what a person saw or did in the field. History,
    /// "as of" counts and ordering run on it.
    pub at: String,
    /// When the server received it; absent for events stored before it was kept (then = `at`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub received_at: Option<String>,
    pub actor: String,
    pub role: String,
    pub action: String,
    pub from: Option<String>,
    pub to: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temp_c: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub co_ppm: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duplicate_of: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plan_due: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub responsible: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deadline: Option<String>,
    pub reignited: bool,
    #[serde(skip)]
    pub request_hash: Option<String>,
}

const EVENT_COLUMNS: &str = "id, fire, client_id, at, actor, role, action, from_status, to_status, note, temp_c, co_ppm, \
     reason, duplicate_of, method, plan_due, responsible, deadline, reignited, request_hash, received_at";

fn event_from_row(r: &Row) -> rusqlite::Result<EventRecord> {
    Ok(EventRecord {
        id: r.get(0)?,
        fire: r.get(1)?,
        client_id: r.get(2)?,
        at: r.get(3)?,
        actor: r.get(4)?,
        role: r.get(5)?,
        action: r.get(6)?,
        from: r.get(7)?,
        to: r.get(8)?,
        note: r.get(9)?,
        temp_c: r.get(10)?,
        co_ppm: r.get(11)?,
        reason: r.get(12)?,
        duplicate_of: r.get(13)?,
        method: r.get(14)?,
        plan_due: r.get(15)?,
        responsible: r
            .get::<_, Option<String>>(16)?
            .and_then(|s| serde_json::from_str(&s).ok()),
        deadline: r.get(17)?,
        reignited: r.get::<_, i64>(18)? != 0,
        request_hash: r.get(19)?,
        received_at: r.get(20)?,
    })
}

/// Appends an event; returns its id.
pub fn append_event(conn: &Connection, e: &EventRecord) -> Result<i64> {
    conn.prepare_cached(
        "INSERT INTO events(fire, client_id, at, actor, role, action, from_status, to_status, note, temp_c, co_ppm,
            reason, duplicate_of, method, plan_due, responsible, deadline, reignited, request_hash, received_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20)",
    )?
    .execute(params![
        e.fire,
        e.client_id,
        e.at,
        e.actor,
        e.role,
        e.action,
        e.from,
        e.to,
        e.note,
        e.temp_c,
        e.co_ppm,
        e.reason,
        e.duplicate_of,
        e.method,
        e.plan_due,
        e.responsible.as_ref().map(Value::to_string),
        e.deadline,
        e.reignited as i64,
        e.request_hash,
        e.received_at,
    ])?;
    Ok(conn.last_insert_rowid())
}

/// A fire's events, oldest first.
pub fn events(conn: &Connection, fire: &str) -> Result<Vec<EventRecord>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {EVENT_COLUMNS} FROM events WHERE fire = ?1 ORDER BY at, id"
    ))?;
    let rows = stmt.query_map([fire], event_from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// An event by the client-made id it was sent with.
pub fn event_by_client_id(conn: &Connection, client_id: &str) -> Result<Option<EventRecord>> {
    let sql = format!("SELECT {EVENT_COLUMNS} FROM events WHERE client_id = ?1");
    Ok(conn
        .query_row(&sql, [client_id], event_from_row)
        .optional()?)
}

/// The time of a fire's latest event (its place at the end of the history).
pub fn last_event_at(conn: &Connection, fire: &str) -> Result<Option<DateTime<Utc>>> {
    let at: Option<String> = conn
        .prepare_cached("SELECT max(at) FROM events WHERE fire = ?1")?
        .query_row([fire], |r| r.get(0))?;
    at.as_deref().map(parse_ts).transpose()
}

/// The status a fire had at `t`, from its events up to then.
pub fn status_at(conn: &Connection, fire: &str, t: DateTime<Utc>) -> Result<Option<Status>> {
    let s: Option<String> = conn
        .prepare_cached(
            "SELECT to_status FROM events WHERE fire = ?1 AND at <= ?2 ORDER BY at DESC, id DESC LIMIT 1",
        )?
        .query_row(params![fire, ts(t)], |r| r.get(0))
        .optional()?;
    Ok(s.as_deref().and_then(Status::parse))
}

/// Keeps the highest temperature seen, for a reading that changes nothing else.
pub fn raise_max_temp(conn: &Connection, fire: &str, temp_c: Option<f64>) -> Result<()> {
    if let Some(t) = temp_c {
        conn.prepare_cached(
            "UPDATE fire_points SET max_temp_c = max(coalesce(max_temp_c, ?2), ?2) WHERE uuid = ?1",
        )?
        .execute(params![fire, t])?;
    }
    Ok(())
}

/// What the rules need to decide an action on this fire.
pub fn state(conn: &Connection, fire: &FireRecord) -> Result<FireState> {
    let mut readings = vec![];
    if let Some(since) = fire.controlled_at {
        let mut stmt = conn.prepare_cached(
            "SELECT at, temp_c FROM events WHERE fire = ?1 AND action = 'inspect' AND temp_c IS NOT NULL AND at >= ?2 ORDER BY at",
        )?;
        let rows = stmt.query_map(params![fire.id, ts(since)], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, f64>(1)?))
        })?;
        for row in rows {
            let (at, t) = row?;
            readings.push((parse_ts(&at)?, t));
        }
    }
    Ok(FireState {
        status: fire.status,
        kind: fire.kind,
        responsible: fire.responsible.clone(),
        controlled_at: fire.controlled_at,
        cleared_at: fire.cleared_at,
        readings_since_control: readings,
    })
}

/// Writes a fire's new state after an event.
pub fn update_state(
    conn: &Connection,
    fire: &FireRecord,
    to: Status,
    at: DateTime<Utc>,
    deadline: Option<DateTime<Utc>>,
    temp_c: Option<f64>,
    reignited: bool,
) -> Result<()> {
    let controlled_at = if to == Status::Controlled && fire.status != Status::Controlled {
        Some(at)
    } else {
        fire.controlled_at
    };
    let cleared_at = if to == Status::Cleared {
        Some(at)
    } else {
        fire.cleared_at
    };
    let max_temp = match (fire.max_temp_c, temp_c) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    };
    conn.prepare_cached(
        "UPDATE fire_points SET status = ?2, deadline = coalesce(?3, deadline), max_temp_c = ?4, controlled_at = ?5,
            cleared_at = ?6, reignitions = reignitions + ?7, updated_at = ?8 WHERE uuid = ?1",
    )?
    .execute(params![
        fire.id,
        to.as_str(),
        deadline.map(ts),
        max_temp,
        controlled_at.map(ts),
        cleared_at.map(ts),
        reignited as i64,
        ts(at),
    ])?;
    Ok(())
}

/// Moves a fire to another responsible party (and its inspections' scope with it).
pub fn update_responsible(
    conn: &Connection,
    fire: &str,
    r: &Responsible,
    at: DateTime<Utc>,
) -> Result<()> {
    tracked::set_responsible(conn, "fire_points", fire, r, at)?;
    conn.execute(
        "UPDATE inspections SET district_code = ?2, holder = ?3 WHERE fire = ?1",
        params![fire, r.district_code, r.holder()],
    )?;
    Ok(())
}

/// An inspection, written as a point in the inspections layer.
pub struct NewInspection<'a> {
    pub fire: &'a FireRecord,
    /// When it was made (observed); `received_at` when the server got it.
    pub at: DateTime<Utc>,
    pub received_at: DateTime<Utc>,
    pub by: &'a str,
    pub temp_c: Option<f64>,
    pub co_ppm: Option<f64>,
    pub status_seen: Status,
    pub note: Option<&'a str>,
}

pub fn insert_inspection(conn: &Connection, i: &NewInspection) -> Result<i64> {
    let f = i.fire;
    conn.prepare_cached(
        "INSERT INTO inspections(geom, fire, fire_code, at, by, temp_c, co_ppm, status_seen, note, district_code, holder, received_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    )?
    .execute(params![
        gpkg::try_encode(&Geometry::Point(Point::new(f.lon, f.lat)))?,
        f.id,
        f.code,
        ts(i.at),
        i.by,
        i.temp_c,
        i.co_ppm,
        i.status_seen.as_str(),
        i.note,
        f.responsible.district_code,
        f.responsible.holder(),
        ts(i.received_at),
    ])?;
    Ok(conn.last_insert_rowid())
}

/// A fire near a new report.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Nearby {
    pub id: String,
    pub code: String,
    pub status: Status,
    pub kind: FireKind,
    pub distance_m: f64,
}

/// Fires within `radius_m` of a point whose status passes `keep`, nearest first. The R-tree
/// narrows by a degree box, then the geodesic (haversine) distance decides.
pub fn nearby(
    conn: &Connection,
    p: Point<f64>,
    radius_m: f64,
    keep: impl Fn(&FireRecord) -> bool,
) -> Result<Vec<Nearby>> {
    let dlat = radius_m / 111_320.0;
    let dlon = radius_m / (111_320.0 * p.y().to_radians().cos().max(0.01));
    let sql = "t.fid IN (SELECT id FROM rtree_fire_points_geom WHERE minx <= ?1 AND maxx >= ?2 AND miny <= ?3 AND maxy >= ?4)";
    let params = vec![
        Sql::Real(p.x() + dlon),
        Sql::Real(p.x() - dlon),
        Sql::Real(p.y() + dlat),
        Sql::Real(p.y() - dlat),
    ];
    let mut out: Vec<Nearby> = get_many(conn, sql, params)?
        .into_iter()
        .filter(|f| keep(f))
        .filter_map(|f| {
            let d = Haversine.distance(p, Point::new(f.lon, f.lat));
            (d <= radius_m).then(|| Nearby {
                id: f.id,
                code: f.code,
                status: f.status,
                kind: f.kind,
                distance_m: (d * 10.0).round() / 10.0,
            })
        })
        .collect();
    out.sort_by(|a, b| a.distance_m.total_cmp(&b.distance_m));
    Ok(out)
}

/// The event log of the fires matching `where_sql` (on `fire_points t`), for clearance counts.
pub fn changes(
    conn: &Connection,
    where_sql: &str,
    params: Vec<Sql>,
) -> Result<(Vec<Change>, Vec<FireRef>)> {
    let mut fires = vec![];
    {
        let mut stmt = conn.prepare(&format!(
            "SELECT t.uuid, t.code FROM fire_points t WHERE {where_sql}"
        ))?;
        let rows = stmt.query_map(rusqlite::params_from_iter(params.clone()), |r| {
            Ok(FireRef {
                id: r.get(0)?,
                code: r.get(1)?,
            })
        })?;
        for r in rows {
            fires.push(r?);
        }
    }
    let sql = format!(
        "SELECT e.fire, e.at, e.to_status, e.deadline, e.responsible, e.reignited FROM events e
         WHERE e.fire IN (SELECT t.uuid FROM fire_points t WHERE {where_sql}) ORDER BY e.at, e.id"
    );
    let mut stmt = conn.prepare(&sql)?;
    let mut rows = stmt.query(rusqlite::params_from_iter(params))?;
    let mut changes = vec![];
    while let Some(r) = rows.next()? {
        let to: String = r.get(2)?;
        let responsible: Option<String> = r.get(4)?;
        let place = responsible
            .and_then(|s| serde_json::from_str::<Responsible>(&s).ok())
            .map(|r| Place {
                district_code: r.district_code,
                mine: r.mine,
            });
        changes.push(Change {
            fire: r.get(0)?,
            at: parse_ts(&r.get::<_, String>(1)?)?,
            to: Status::parse(&to)
                .ok_or_else(|| StoreError::Corrupt(format!("event status {to:?}")))?,
            deadline: opt_ts(r.get(3)?)?,
            place,
            reignited: r.get::<_, i64>(5)? != 0,
        });
    }
    Ok((changes, fires))
}

/// Controlled fires, for the automatic extinguish sweep.
pub fn controlled(conn: &Connection) -> Result<Vec<FireRecord>> {
    get_many(conn, "t.status = 'controlled'", vec![])
}

/// The action and actor of the last event that set a fire's party, if any.
pub fn last_party_setter(conn: &Connection, fire: &str) -> Result<Option<(String, String)>> {
    Ok(conn
        .query_row(
            "SELECT action, actor FROM events WHERE fire = ?1 AND responsible IS NOT NULL ORDER BY at DESC, id DESC LIMIT 1",
            [fire],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?)
}

//! Heavy-pollution and weather warnings (重污染天气/大风沙尘预警): a manager issues one for
//! districts and/or a drawn area and a period; every mine with a holder touching them receives a
//! production restriction (the level's measures, configurable in `dust_rules`) that its owner
//! acknowledges. Unacknowledged restrictions past their due time are flagged overdue when listed.
//! Ownerless and closed mines get none: nobody there can acknowledge, and the district
//! government already answers for them.

use chrono::{DateTime, Duration, Utc};
use geo::{Area, BoundingRect, Geometry, InteriorPoint, Intersects, MultiPolygon};
use rusqlite::{Connection, OptionalExtension, params};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::domain::dust::{ACKNOWLEDGE_WITHIN_HOURS, WarningLevel, overdue};
use crate::domain::responsibility::ResponsibilityIndex;
use crate::domain::role::{Actor, Role};
use crate::error::{Error, Kind, Result};
use crate::service::webhooks::{self, EventKind};
use crate::store;

/// A warning as a manager issues it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewWarning {
    pub level: String,
    #[serde(default)]
    pub districts: Vec<String>,
    /// A drawn area: a GeoJSON Polygon or MultiPolygon in lon/lat.
    #[serde(default)]
    pub area: Option<Value>,
    /// RFC 3339.
    pub from: String,
    pub to: String,
    #[serde(default)]
    pub note: Option<String>,
}

use crate::store::fires::ts;

fn time(field: &'static str, s: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s.trim())
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| {
            Error::invalid("dust_bad_time")
                .arg("field", field)
                .arg("value", s.to_string())
        })
}

/// Issues a warning and its restrictions in one transaction, with a `warning` webhook.
pub fn issue(
    tx: &Connection,
    index: &ResponsibilityIndex,
    actor: &Actor,
    w: &NewWarning,
    now: DateTime<Utc>,
) -> Result<Value> {
    if actor.role != Role::Manager {
        return Err(Error::forbidden());
    }
    let level = WarningLevel::parse(&w.level).ok_or_else(|| {
        Error::invalid("dust_bad_warning_level")
            .arg("value", w.level.clone())
            .arg(
                "allowed",
                WarningLevel::ALL.map(WarningLevel::as_str).join(", "),
            )
    })?;
    let (from, to) = (time("from", &w.from)?, time("to", &w.to)?);
    if to <= from {
        return Err(Error::invalid("dust_bad_period")
            .arg("from", ts(from))
            .arg("to", ts(to)));
    }
    let area = w.area.as_ref().map(parse_area).transpose()?;
    if w.districts.is_empty() && area.is_none() {
        return Err(Error::invalid("dust_warning_where"));
    }
    let mut districts = vec![];
    for code in &w.districts {
        let d = index.district_by_code(code).ok_or_else(|| {
            Error::invalid("unknown_reference")
                .arg("field", "districts")
                .arg("value", code.clone())
                .arg("layer", "districts")
        })?;
        districts.push(d);
    }
    let all = index.areas();
    if let Some(a) = &area
        && !all.districts.iter().any(|d| d.geom.intersects(a))
    {
        return Err(Error::invalid("dust_area_outside"));
    }
    let measures =
        crate::service::rules::dust(&crate::store::sqlite::SqliteTx::new(tx))?.measures_for(level);
    tx.execute(
        "INSERT INTO dust_warnings(level, districts, area, measures, starts_at, ends_at, note, issued_by, issued_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            level.as_str(),
            json!(w.districts).to_string(),
            w.area.as_ref().map(Value::to_string),
            json!(measures).to_string(),
            ts(from),
            ts(to),
            w.note,
            actor.username,
            ts(now)
        ],
    )?;
    let id = tx.last_insert_rowid();
    let due = (now + Duration::hours(ACKNOWLEDGE_WITHIN_HOURS)).timestamp();
    let measures_json = json!(measures).to_string();
    for m in all.mines.iter().filter(|m| !m.ownerless && !m.closed) {
        let chosen = districts.iter().find(|d| d.geom.intersects(&m.geom));
        let in_area = area.as_ref().is_some_and(|a| a.intersects(&m.geom));
        if chosen.is_none() && !in_area {
            continue;
        }
        let at = m.geom.interior_point();
        // Counted in the chosen district it touches, else in the district it lies in.
        let Some(district) = chosen.copied().or_else(|| {
            at.and_then(|p| index.district_at(p))
                .or_else(|| all.districts.iter().find(|d| d.geom.intersects(&m.geom)))
        }) else {
            continue;
        };
        tx.execute(
            "INSERT OR IGNORE INTO dust_restrictions(warning, mine, mine_name, holder, district_code, measures, due, lon, lat)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                id,
                m.licence_no,
                m.name,
                m.holder,
                district.code,
                measures_json,
                due,
                at.map(|p| p.x()),
                at.map(|p| p.y())
            ],
        )?;
    }
    let restrictions: Vec<Value> = restrictions_of(tx, actor, Some(id), now)?
        .into_iter()
        .map(|(v, _, _)| v)
        .collect();
    let warning = json!({
        "id": id, "level": level.as_str(), "districts": w.districts, "area": w.area,
        "from": ts(from), "to": ts(to), "note": w.note, "issued_by": actor.username,
        "issued_at": ts(now), "measures": measures, "restrictions": restrictions,
    });
    webhooks::enqueue(tx, EventKind::Warning, &id.to_string(), &warning)?;
    Ok(warning)
}

/// Largest drawn area accepted, in vertices: a hand-drawn outline has tens.
const MAX_AREA_VERTICES: usize = 10_000;

/// A drawn area: a GeoJSON Polygon or MultiPolygon in lon/lat, with some extent.
pub fn parse_area(v: &Value) -> Result<MultiPolygon<f64>> {
    let bad = |detail: String| Error::invalid("dust_bad_area").arg("detail", detail);
    let kind = v.get("type").and_then(Value::as_str).unwrap_or_default();
    if !matches!(kind, "Polygon" | "MultiPolygon") {
        return Err(bad(format!("{kind:?} is not a Polygon or MultiPolygon")));
    }
    let g: geojson::Geometry = serde_json::from_value(v.clone()).map_err(|e| bad(e.to_string()))?;
    let mp = match crate::gis::geometry_from_geojson(&g.value).map_err(bad)? {
        Geometry::Polygon(p) => MultiPolygon(vec![p]),
        Geometry::MultiPolygon(mp) => mp,
        _ => return Err(bad(format!("{kind:?} is not a Polygon or MultiPolygon"))),
    };
    let vertices: usize =
        mp.0.iter()
            .map(|p| p.exterior().0.len() + p.interiors().iter().map(|r| r.0.len()).sum::<usize>())
            .sum();
    if vertices > MAX_AREA_VERTICES {
        return Err(bad(format!(
            "{vertices} vertices, at most {MAX_AREA_VERTICES}"
        )));
    }
    let Some(r) = mp.bounding_rect() else {
        return Err(bad("empty".into()));
    };
    if r.min().x < -180.0 || r.max().x > 180.0 || r.min().y < -90.0 || r.max().y > 90.0 {
        return Err(bad(
            "coordinates must be longitude, latitude in degrees".into()
        ));
    }
    if mp.unsigned_area() <= 0.0 {
        return Err(bad("the area has no extent".into()));
    }
    Ok(mp)
}

type Row = (Value, Option<String>, String);

fn restrictions_of(
    conn: &Connection,
    reader: &Actor,
    warning: Option<i64>,
    now: DateTime<Utc>,
) -> store::Result<Vec<Row>> {
    let mut stmt = conn.prepare(
        "SELECT r.id, r.warning, w.level, w.starts_at, w.ends_at, r.mine, r.mine_name, r.holder,
                r.district_code, r.measures, r.due, r.acknowledged_at, r.acknowledged_by, r.lon, r.lat
         FROM dust_restrictions r JOIN dust_warnings w ON w.id = r.warning
         WHERE ?1 IS NULL OR r.warning = ?1 ORDER BY r.id DESC",
    )?;
    let checks = super::checks::by_restriction(conn, reader)?;
    let rows = stmt.query_map([warning], |r| {
        let id: i64 = r.get(0)?;
        let due: i64 = r.get(10)?;
        let acknowledged_at: Option<String> = r.get(11)?;
        let measures: String = r.get(9)?;
        let holder: Option<String> = r.get(7)?;
        let district: String = r.get(8)?;
        let position = r
            .get::<_, Option<f64>>(13)?
            .zip(r.get::<_, Option<f64>>(14)?)
            .map(|(x, y)| [x, y]);
        let (from, to): (String, String) = (r.get(3)?, r.get(4)?);
        let now_s = ts(now);
        Ok((
            json!({
                "id": id,
                "warning": r.get::<_, i64>(1)?,
                "level": r.get::<_, String>(2)?,
                "active": from <= now_s && now_s < to,
                "from": from,
                "to": to,
                "mine": r.get::<_, String>(5)?,
                "mine_name": r.get::<_, String>(6)?,
                "holder": holder,
                "district_code": district,
                "measures": serde_json::from_str::<Value>(&measures).unwrap_or(Value::Null),
                "due": crate::domain::dust::reading::local_rfc3339(due),
                "acknowledged_at": acknowledged_at,
                "acknowledged_by": r.get::<_, Option<String>>(12)?,
                "overdue": overdue(due, acknowledged_at.is_some(), now.timestamp()),
                "position": position,
                "checks": checks.get(&id).cloned().unwrap_or_default(),
            }),
            holder,
            district,
        ))
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

fn visible(actor: &Actor, holder: Option<&str>, district: &str) -> bool {
    match actor.role {
        Role::Manager | Role::Patrol => true,
        Role::District => actor.district.as_deref() == Some(district),
        Role::Owner => actor.holder.is_some() && actor.holder.as_deref() == holder,
    }
}

/// The restrictions an actor may see, newest first, each with `overdue`.
pub fn list(conn: &Connection, actor: &Actor, now: DateTime<Utc>) -> store::Result<Vec<Value>> {
    Ok(restrictions_of(conn, actor, None, now)?
        .into_iter()
        .filter(|(_, h, d)| visible(actor, h.as_deref(), d))
        .map(|(v, _, _)| v)
        .collect())
}

/// Whether the actor may see restriction `id` (false when there is none).
pub fn restriction_visible(conn: &Connection, actor: &Actor, id: i64) -> store::Result<bool> {
    let found: Option<(Option<String>, String)> = conn
        .query_row(
            "SELECT holder, district_code FROM dust_restrictions WHERE id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    Ok(found.is_some_and(|(h, d)| visible(actor, h.as_deref(), &d)))
}

/// An owner acknowledges its mine's restriction: 404 unseen, 403 for another role, 409 twice.
pub fn acknowledge(tx: &Connection, actor: &Actor, id: i64, now: DateTime<Utc>) -> Result<Value> {
    let found: Option<(Option<String>, String, Option<String>)> = tx
        .query_row(
            "SELECT holder, district_code, acknowledged_at FROM dust_restrictions WHERE id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    let Some((_, _, acknowledged)) = found.filter(|(h, d, _)| visible(actor, h.as_deref(), d))
    else {
        return Err(Error::not_found("dust_restriction"));
    };
    if actor.role != Role::Owner {
        return Err(Error::forbidden());
    }
    if let Some(at) = acknowledged {
        return Err(Error::new(Kind::Conflict, "dust_already_acknowledged").arg("at", at));
    }
    tx.execute(
        "UPDATE dust_restrictions SET acknowledged_at = ?2, acknowledged_by = ?3 WHERE id = ?1",
        params![id, ts(now), actor.username],
    )?;
    restrictions_of(tx, actor, None, now)?
        .into_iter()
        .map(|(v, _, _)| v)
        .find(|v| v["id"] == id)
        .ok_or_else(|| Error::not_found("dust_restriction"))
}

/// Every warning, newest first, each with its restrictions counted as the actor may see them
/// (a warning itself is a public notice; which mines it restricts is not).
pub fn warnings(conn: &Connection, actor: &Actor, now: DateTime<Utc>) -> store::Result<Vec<Value>> {
    let seen = list(conn, actor, now)?;
    let mut stmt = conn.prepare(
        "SELECT id, level, districts, area, starts_at, ends_at, note, issued_by, issued_at, measures
         FROM dust_warnings ORDER BY id DESC",
    )?;
    let now_s = ts(now);
    let rows = stmt.query_map([], |r| {
        let id: i64 = r.get(0)?;
        let (from, to): (String, String) = (r.get(4)?, r.get(5)?);
        let text = |i: usize| -> rusqlite::Result<Value> {
            Ok(r.get::<_, Option<String>>(i)?
                .and_then(|t| serde_json::from_str(&t).ok())
                .unwrap_or(Value::Null))
        };
        let mine = |v: &&Value| v["warning"] == id;
        let count = |f: &dyn Fn(&Value) -> bool| seen.iter().filter(mine).filter(|v| f(v)).count();
        Ok(json!({
            "id": id,
            "level": r.get::<_, String>(1)?,
            "districts": text(2)?,
            "area": text(3)?,
            "from": from,
            "to": to,
            "active": from <= now_s && now_s < to,
            "note": r.get::<_, Option<String>>(6)?,
            // Only managers issue warnings.
            "issued_by": actor
                .sees_names_of(Role::Manager.as_str())
                .then_some(r.get::<_, String>(7)?),
            "issued_at": r.get::<_, String>(8)?,
            "measures": text(9)?,
            "restrictions": count(&|_| true),
            "acknowledged": count(&|v| !v["acknowledged_at"].is_null()),
            "overdue": count(&|v| v["overdue"] == true),
        }))
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

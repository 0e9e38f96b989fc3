//! Heavy-pollution and weather warnings (重污染天气/大风沙尘预警): a manager issues one for
//! districts and a period; every mine with a holder inside those districts receives a production
//! restriction (the level's measures) that its owner acknowledges. Unacknowledged restrictions
//! past their due time are flagged overdue when listed. Ownerless mines get none: nobody there
//! can acknowledge, and the district government already answers for them.

use chrono::{DateTime, Duration, Utc};
use geo::Intersects;
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
    pub districts: Vec<String>,
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
    if w.districts.is_empty() {
        return Err(Error::invalid("field_missing").arg("field", "districts"));
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
    tx.execute(
        "INSERT INTO dust_warnings(level, districts, starts_at, ends_at, note, issued_by, issued_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![
            level.as_str(),
            json!(w.districts).to_string(),
            ts(from),
            ts(to),
            w.note,
            actor.username,
            ts(now)
        ],
    )?;
    let id = tx.last_insert_rowid();
    let due = (now + Duration::hours(ACKNOWLEDGE_WITHIN_HOURS)).timestamp();
    let measures = json!(level.measures()).to_string();
    for m in index.areas().mines.iter().filter(|m| !m.ownerless) {
        let Some(d) = districts.iter().find(|d| d.geom.intersects(&m.geom)) else {
            continue;
        };
        tx.execute(
            "INSERT OR IGNORE INTO dust_restrictions(warning, mine, mine_name, holder, district_code, measures, due)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![id, m.licence_no, m.name, m.holder, d.code, measures, due],
        )?;
    }
    let restrictions: Vec<Value> = restrictions_of(tx, Some(id), now)?
        .into_iter()
        .map(|(v, _, _)| v)
        .collect();
    let warning = json!({
        "id": id, "level": level.as_str(), "districts": w.districts, "from": ts(from),
        "to": ts(to), "note": w.note, "issued_by": actor.username, "issued_at": ts(now),
        "measures": level.measures(), "restrictions": restrictions,
    });
    webhooks::enqueue(tx, EventKind::Warning, &id.to_string(), &warning)?;
    Ok(warning)
}

type Row = (Value, Option<String>, String);

fn restrictions_of(
    conn: &Connection,
    warning: Option<i64>,
    now: DateTime<Utc>,
) -> store::Result<Vec<Row>> {
    let mut stmt = conn.prepare(
        "SELECT r.id, r.warning, w.level, w.starts_at, w.ends_at, r.mine, r.mine_name, r.holder,
                r.district_code, r.measures, r.due, r.acknowledged_at, r.acknowledged_by
         FROM dust_restrictions r JOIN dust_warnings w ON w.id = r.warning
         WHERE ?1 IS NULL OR r.warning = ?1 ORDER BY r.id DESC",
    )?;
    let rows = stmt.query_map([warning], |r| {
        let due: i64 = r.get(10)?;
        let acknowledged_at: Option<String> = r.get(11)?;
        let measures: String = r.get(9)?;
        let holder: Option<String> = r.get(7)?;
        let district: String = r.get(8)?;
        Ok((
            json!({
                "id": r.get::<_, i64>(0)?,
                "warning": r.get::<_, i64>(1)?,
                "level": r.get::<_, String>(2)?,
                "from": r.get::<_, String>(3)?,
                "to": r.get::<_, String>(4)?,
                "mine": r.get::<_, String>(5)?,
                "mine_name": r.get::<_, String>(6)?,
                "holder": holder,
                "district_code": district,
                "measures": serde_json::from_str::<Value>(&measures).unwrap_or(Value::Null),
                "due": crate::dust::reading::local_rfc3339(due),
                "acknowledged_at": acknowledged_at,
                "acknowledged_by": r.get::<_, Option<String>>(12)?,
                "overdue": overdue(due, acknowledged_at.is_some(), now.timestamp()),
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
    Ok(restrictions_of(conn, None, now)?
        .into_iter()
        .filter(|(_, h, d)| visible(actor, h.as_deref(), d))
        .map(|(v, _, _)| v)
        .collect())
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
    restrictions_of(tx, None, now)?
        .into_iter()
        .map(|(v, _, _)| v)
        .find(|v| v["id"] == id)
        .ok_or_else(|| Error::not_found("dust_restriction"))
}

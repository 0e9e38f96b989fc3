//! Compliance checks (限产措施落实检查): a patrol (or manager) on site records whether a mine under
//! a production restriction complies, where it stood, and what it saw. A tablet may queue a
//! check offline and send it again: the client id makes the retry land once.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use rusqlite::{Connection, OptionalExtension, params};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::domain::observed;
use crate::domain::role::{Actor, Role};
use crate::error::{Error, Kind, Result};
use crate::service::fires::observed_time;
use crate::store;
use crate::store::fires::ts;

/// A check as a patrol submits it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewCheck {
    pub compliant: Option<bool>,
    #[serde(default)]
    pub note: Option<String>,
    /// `[lon, lat]` where the check was made.
    #[serde(default)]
    pub position: Option<[f64; 2]>,
    /// Made by the client, so a resubmitted check is recognised.
    #[serde(default)]
    pub client_id: Option<String>,
    /// When it was made (RFC 3339 with offset), if queued offline; now otherwise. The name every
    /// field observation uses; `at` is its older spelling, still accepted.
    #[serde(default)]
    pub observed_at: Option<String>,
    #[serde(default)]
    pub at: Option<String>,
}

const MAX_NOTE: usize = 2000;

/// A check as this reader may see it: owners are not told which patrol (or manager) checked
/// them, nor where that person stood.
pub fn shown_to(check: &Value, role: &str, reader: &Actor) -> Value {
    let mut v = check.clone();
    if !reader.sees_names_of(role)
        && let Some(o) = v.as_object_mut()
    {
        o.insert("by".into(), Value::Null);
        o.insert("position".into(), Value::Null);
    }
    v
}

fn check_json(r: &rusqlite::Row) -> rusqlite::Result<(i64, Value)> {
    let lon: Option<f64> = r.get(5)?;
    let lat: Option<f64> = r.get(6)?;
    Ok((
        r.get(1)?,
        json!({
            "id": r.get::<_, i64>(0)?,
            "compliant": r.get::<_, i64>(2)? == 1,
            "note": r.get::<_, Option<String>>(3)?,
            "client_id": r.get::<_, Option<String>>(4)?,
            "position": lon.zip(lat).map(|(x, y)| [x, y]),
            "at": r.get::<_, String>(7)?,
            "received_at": r.get::<_, Option<String>>(9)?,
            "by": r.get::<_, String>(8)?,
        }),
    ))
}

const COLUMNS: &str =
    "SELECT id, restriction, compliant, note, client_id, lon, lat, at, by, received_at";
const SELECT: &str = "SELECT id, restriction, compliant, note, client_id, lon, lat, at, by, received_at FROM dust_restriction_checks";

/// Every check, by restriction, oldest first, as this reader may see it.
pub fn by_restriction(
    conn: &Connection,
    reader: &Actor,
) -> store::Result<HashMap<i64, Vec<Value>>> {
    let mut stmt = conn.prepare(&format!(
        "{COLUMNS}, role FROM dust_restriction_checks ORDER BY id"
    ))?;
    let mut out: HashMap<i64, Vec<Value>> = HashMap::new();
    let rows = stmt.query_map([], |r| Ok((check_json(r)?, r.get::<_, String>(10)?)))?;
    for row in rows {
        let ((restriction, v), role) = row?;
        out.entry(restriction)
            .or_default()
            .push(shown_to(&v, &role, reader));
    }
    Ok(out)
}

/// Records a check on restriction `id`, which the actor can see (`visible` is the restriction
/// list's rule). 201-worthy `(check, true)` when new, `(check, false)` for a recognised retry.
pub fn record(
    tx: &Connection,
    actor: &Actor,
    id: i64,
    c: &NewCheck,
    visible: bool,
    now: DateTime<Utc>,
) -> Result<(Value, bool)> {
    let period: Option<(String, String)> = tx
        .query_row(
            "SELECT w.starts_at, w.ends_at FROM dust_restrictions r
             JOIN dust_warnings w ON w.id = r.warning WHERE r.id = ?1",
            [id],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()?;
    let Some((from, to)) = period.filter(|_| visible) else {
        return Err(Error::not_found("dust_restriction"));
    };
    if !matches!(actor.role, Role::Patrol | Role::Manager) {
        return Err(Error::forbidden());
    }
    let Some(compliant) = c.compliant else {
        return Err(Error::invalid("field_missing").arg("field", "compliant"));
    };
    let note = c.note.as_deref().map(str::trim).filter(|n| !n.is_empty());
    if note.is_some_and(|n| n.chars().count() > MAX_NOTE) {
        return Err(Error::invalid("field_too_long")
            .arg("field", "note")
            .arg("max", MAX_NOTE.to_string()));
    }
    if let Some([x, y]) = c.position
        && !((-180.0..=180.0).contains(&x) && (-90.0..=90.0).contains(&y))
    {
        return Err(Error::invalid("dust_bad_position").arg("value", format!("[{x}, {y}]")));
    }
    let client_id = c
        .client_id
        .as_deref()
        .map(str::trim)
        .filter(|s| !s.is_empty());
    if client_id.is_some_and(|s| s.len() > 64) {
        return Err(Error::invalid("field_too_long")
            .arg("field", "client_id")
            .arg("max", "64"));
    }
    // `observed_at`, or `at` from clients that predate it; both must then agree.
    let (field, raw) = match (c.observed_at.as_deref(), c.at.as_deref()) {
        (Some(o), Some(a)) if observed::parse(o).is_none_or(|t| observed::parse(a) != Some(t)) => {
            return Err(Error::invalid("observed_disagree")
                .arg("field", "observed_at")
                .arg("other", "at"));
        }
        (Some(o), _) => ("observed_at", Some(o)),
        (None, a) => ("at", a),
    };
    if let Some(r) = raw
        && observed::parse(r).is_none()
    {
        return Err(Error::invalid("observed_format")
            .arg("field", field)
            .arg("value", r.to_string()));
    }
    if let Some(cid) = client_id {
        let earlier = tx
            .query_row(&format!("{SELECT} WHERE client_id = ?1"), [cid], check_json)
            .optional()?;
        if let Some((restriction, v)) = earlier {
            let same = restriction == id
                && v["compliant"] == compliant
                && v["note"].as_str() == note
                && v["by"] == actor.username.as_str();
            if same {
                return Ok((v, false));
            }
            return Err(Error::new(Kind::Conflict, "dust_check_id_reused").arg("id", cid));
        }
    }
    // Judged after a retry is recognised: a check resent days later still gets its first record.
    let window = crate::service::rules::fire(&crate::store::sqlite::SqliteTx::new(tx))?.observed;
    let at = observed_time(raw, field, now, &window, None)?;
    let at_s = ts(at);
    if at_s < from || at_s >= to {
        return Err(Error::new(Kind::Conflict, "dust_warning_not_in_force")
            .arg("from", from)
            .arg("to", to));
    }
    tx.execute(
        "INSERT INTO dust_restriction_checks(restriction, client_id, compliant, note, lon, lat, at, by, role, received_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
        params![
            id,
            client_id,
            i64::from(compliant),
            note,
            c.position.map(|p| p[0]),
            c.position.map(|p| p[1]),
            at_s,
            actor.username,
            actor.role.as_str(),
            ts(now)
        ],
    )?;
    let (_, v) = tx.query_row(
        &format!("{SELECT} WHERE id = ?1"),
        [tx.last_insert_rowid()],
        check_json,
    )?;
    Ok((v, true))
}

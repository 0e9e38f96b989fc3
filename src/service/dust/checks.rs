//! Compliance checks (限产措施落实检查): a patrol (or manager) on site records whether a mine under
//! a production restriction complies, where it stood, and what it saw. A tablet may queue a
//! check offline and send it again: the client id makes the retry land once.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::domain::dust::sees_restriction;
use crate::domain::observed;
use crate::domain::role::{Actor, Role};
use crate::error::{Error, Kind, Result};
use crate::service::case::observed_time;
use crate::store::dust::warnings::{Check, NewCheck as NewRow, Restriction};
use crate::store::fires::ts;
use crate::store::{self, Tx};

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

fn check_json(c: &Check) -> Value {
    json!({
        "id": c.id,
        "compliant": c.compliant,
        "note": c.note,
        "client_id": c.client_id,
        "position": c.position,
        "at": c.at,
        "received_at": c.received_at,
        "by": c.by,
    })
}

/// The checks of these restrictions, by restriction, oldest first, as this reader may see them.
pub fn by_restriction(
    tx: &dyn Tx,
    reader: &Actor,
    restrictions: &[i64],
) -> store::Result<HashMap<i64, Vec<Value>>> {
    let mut out: HashMap<i64, Vec<Value>> = HashMap::new();
    for c in tx.dust_warnings().checks_of(restrictions)? {
        out.entry(c.restriction)
            .or_default()
            .push(shown_to(&check_json(&c), &c.role, reader));
    }
    Ok(out)
}

/// Restriction `id` if the actor may see it (the restriction list's rule); 404 otherwise.
pub fn restriction_seen(tx: &dyn Tx, actor: &Actor, id: i64) -> Result<Restriction> {
    tx.dust_warnings()
        .restriction(id)?
        .filter(|r| sees_restriction(actor, r.holder.as_deref(), &r.district_code))
        .ok_or_else(|| Error::not_found("dust_restriction"))
}

/// Records a check on restriction `id`: 404 when the actor cannot see it (as the restriction
/// list), 403 for a role that does not check. `(check, true)` when new (201), `(check, false)`
/// for a recognised retry.
pub fn record(
    tx: &dyn Tx,
    actor: &Actor,
    id: i64,
    c: &NewCheck,
    now: DateTime<Utc>,
) -> Result<(Value, bool)> {
    let r = restriction_seen(tx, actor, id)?;
    let (from, to) = (r.from, r.to);
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
    if let Some(cid) = client_id
        && let Some(earlier) = tx.dust_warnings().check_by_client_id(cid)?
    {
        let v = check_json(&earlier);
        let same = earlier.restriction == id
            && v["compliant"] == compliant
            && v["note"].as_str() == note
            && v["by"] == actor.username.as_str();
        if same {
            return Ok((v, false));
        }
        return Err(Error::new(Kind::Conflict, "dust_check_id_reused").arg("id", cid));
    }
    // Judged after a retry is recognised: a check resent days later still gets its first record.
    let window = crate::service::rules::fire(tx)?.observed;
    let at = observed_time(raw, field, now, &window, None)?;
    let at_s = ts(at);
    if at_s < from || at_s >= to {
        return Err(Error::new(Kind::Conflict, "dust_warning_not_in_force")
            .arg("from", from)
            .arg("to", to));
    }
    let new = tx.dust_warnings().add_check(&NewRow {
        restriction: id,
        client_id,
        compliant,
        note,
        position: c.position,
        at,
        by: &actor.username,
        role: actor.role,
        received_at: now,
    })?;
    let v = tx
        .dust_warnings()
        .check(new)?
        .ok_or_else(|| store::StoreError::Corrupt(format!("dust check {new} was not stored")))?;
    Ok((check_json(&v), true))
}

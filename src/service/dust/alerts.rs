//! Dust alerts: the periodic check that turns new valid means into alerts routed to a mine (by
//! the monitor's mine, or upwind of a monitor outside every mine), the list each role may see,
//! and the actions on an alert. The rules themselves are in `domain::dust`.
//!
//! The check runs every minute from `serve` rather than inside ingest, so ingest stays one fast
//! commit. Ingest marks each hour it changes in `dust_pending_hours`; the check judges those
//! hours once they are over, and their local days once those are over, then forgets them. An
//! exceedance is recorded once per (monitor, pollutant, window, period) in `dust_exceedances`,
//! which makes a repeated judgement idempotent. A mean is never judged on part of its period;
//! readings arriving late are judged like fresh ones, unless their hour is more than
//! `judge_within_days` (default 7) old: those are stored but not judged.

use chrono::{DateTime, Utc};
use geo::Point;
use rusqlite::{Connection, OptionalExtension, params};
use serde_json::{Value, json};

use crate::domain::dust::alert::{self, Action, OnExceedance, Refusal, Status};
use crate::domain::dust::attribution::attribute;
use crate::domain::dust::rollup::{day_start, hour_of};
use crate::domain::dust::{self, DustRules, Exceedance};
use crate::domain::responsibility::{Party, ResponsibilityIndex};
use crate::domain::role::{Actor, Role};
use crate::error::{Error, Result};
use crate::service::webhooks::{self, EventKind};
use crate::store::Tx;
use crate::store::dust::DeviceId;
use crate::store::{self, gpkg};

/// The rules in force (transitional: until this module is on the store traits).
pub fn rules(conn: &Connection) -> store::Result<DustRules> {
    crate::service::rules::dust(&crate::store::sqlite::SqliteTx::new(conn))
}

use crate::store::fires::ts;

struct Monitor {
    device: DeviceId,
    mn: String,
    mine: Option<String>,
    at: Option<Point<f64>>,
}

fn monitors(conn: &Connection) -> store::Result<Vec<Monitor>> {
    let mut stmt = conn.prepare(
        "SELECT d.id, d.mn, m.mine, m.geom FROM dust_devices d
         JOIN dust_monitors m ON m.mn = d.mn ORDER BY d.id",
    )?;
    let rows = stmt.query_map([], |r| {
        let geom: Option<Vec<u8>> = r.get(3)?;
        Ok(Monitor {
            device: DeviceId(r.get(0)?),
            mn: r.get(1)?,
            mine: r.get::<_, Option<String>>(2)?.filter(|m| !m.is_empty()),
            at: geom
                .and_then(|b| gpkg::decode(&b).ok())
                .and_then(|g| Point::try_from(g).ok()),
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Checks every monitor's recent finished means and raises, extends or re-opens alerts, in the
/// caller's transaction (the webhook rows commit with them). Returns the alerts raised or
/// re-opened.
pub fn check(tx: &Connection, index: &ResponsibilityIndex, now: DateTime<Utc>) -> Result<usize> {
    let rules = rules(tx)?;
    let t = crate::store::sqlite::SqliteTx::new(tx);
    let now_s = now.timestamp();
    let this_hour = hour_of(now_s);
    t.dust_readings()
        .drop_pending_before(this_hour - rules.judge_within_days * 24)?;
    let mut pending = t.dust_readings().pending_hours(this_hour)?;
    let mut raised = 0;
    for m in monitors(tx)? {
        let Some(hours) = pending.remove(&m.device) else {
            continue;
        };
        let means = super::readings::affected_means(&t, m.device, &hours)?;
        let day_over = |start: i64| start + 86_400 <= now_s;
        let days: Vec<_> = means
            .daily
            .into_iter()
            .filter(|d| day_over(d.start))
            .collect();
        for e in dust::exceedances(&rules, &means.hourly, &days) {
            if record(tx, index, &rules, &m, &e, now)? {
                raised += 1;
            }
        }
        // An hour of a day not over yet waits: its day's mean is still to be judged.
        let done: Vec<i64> = hours
            .into_iter()
            .filter(|h| day_over(day_start(h * 3600)))
            .collect();
        t.dust_readings().clear_pending(m.device, &done)?;
    }
    // Devices with no monitor on the map cannot be routed: nothing of theirs is kept waiting.
    for (device, hours) in pending {
        t.dust_readings().clear_pending(device, &hours)?;
    }
    Ok(raised)
}

/// Records one exceedance; true when it raised or re-opened an alert.
fn record(
    tx: &Connection,
    index: &ResponsibilityIndex,
    rules: &DustRules,
    m: &Monitor,
    e: &Exceedance,
    now: DateTime<Utc>,
) -> Result<bool> {
    let pollutant = e.pollutant.name();
    let win = e.window.as_str();
    let seen: Option<i64> = tx
        .query_row(
            "SELECT 1 FROM dust_exceedances WHERE device = ?1 AND pollutant = ?2 AND win = ?3 AND start = ?4",
            params![m.device.0, pollutant, win, e.start],
            |r| r.get(0),
        )
        .optional()?;
    if seen.is_some() {
        return Ok(false);
    }
    let latest: Option<(i64, String, Option<i64>)> = tx
        .query_row(
            "SELECT id, status, closed_at FROM dust_alert_cases
             WHERE device = ?1 AND pollutant = ?2 AND win = ?3 ORDER BY id DESC LIMIT 1",
            params![m.device.0, pollutant, win],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    let decision = alert::on_exceedance(
        rules,
        latest
            .as_ref()
            .and_then(|(_, s, c)| Status::parse(s).map(|s| (s, *c))),
        now.timestamp(),
    );
    let at = ts(now);
    let (id, action) = match (decision, latest) {
        (OnExceedance::AddEvidence, Some((id, _, _))) => {
            tx.execute(
                "UPDATE dust_alert_cases SET value = ?2, limit_value = ?3, updated_at = ?4 WHERE id = ?1",
                params![id, e.value, e.limit, at],
            )?;
            (id, None)
        }
        (OnExceedance::Reopen, Some((id, _, _))) => {
            tx.execute(
                "UPDATE dust_alert_cases SET value = ?2, limit_value = ?3, updated_at = ?4,
                 status = 'open', closed_at = NULL WHERE id = ?1",
                params![id, e.value, e.limit, at],
            )?;
            (id, Some("reopen"))
        }
        _ => {
            let Some(p) = m.at else {
                tracing::warn!(mn = %m.mn, "dust monitor without a position: exceedance not routed");
                return Ok(false);
            };
            let Some((resp, attribution)) =
                attribute(index, rules, m.mine.as_deref(), p, e.wind_dir)
            else {
                tracing::warn!(mn = %m.mn, "dust monitor outside every district: exceedance not routed");
                return Ok(false);
            };
            tx.execute(
                "INSERT INTO dust_alert_cases(device, mn, pollutant, win, value, limit_value, status,
                 responsible, holder, district_code, attribution, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'open', ?7, ?8, ?9, ?10, ?11, ?11)",
                params![
                    m.device.0,
                    m.mn,
                    pollutant,
                    win,
                    e.value,
                    e.limit,
                    serde_json::to_string(&resp)
                        .map_err(|e| store::StoreError::Corrupt(e.to_string()))?,
                    resp.holder(),
                    resp.district_code,
                    attribution.to_string(),
                    at
                ],
            )?;
            (tx.last_insert_rowid(), Some("raise"))
        }
    };
    tx.execute(
        "INSERT INTO dust_exceedances(device, pollutant, win, start, value, limit_value, wind_dir, alert)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![m.device.0, pollutant, win, e.start, e.value, e.limit, e.wind_dir, id],
    )?;
    super::alert_map::project(tx, id)?;
    let Some(action) = action else {
        return Ok(false);
    };
    tx.execute(
        "INSERT INTO dust_alert_events(alert, at, actor, action, status) VALUES (?1, ?2, 'system', ?3, 'open')",
        params![id, at, action],
    )?;
    if let Some(alert) = get(tx, id)? {
        webhooks::enqueue(
            tx,
            EventKind::DustAlert,
            &format!("{id}:{pollutant}:{win}:{}", e.start),
            &json!({"action": action, "alert": alert}),
        )?;
    }
    Ok(true)
}

const SELECT: &str = "SELECT id, mn, pollutant, win, value, limit_value, status, responsible,
    attribution, created_at, updated_at, holder, district_code FROM dust_alert_cases";

fn row(r: &rusqlite::Row) -> rusqlite::Result<(Value, Option<String>, Option<String>)> {
    let responsible: String = r.get(7)?;
    let attribution: String = r.get(8)?;
    Ok((
        json!({
            "id": r.get::<_, i64>(0)?,
            "mn": r.get::<_, String>(1)?,
            "pollutant": r.get::<_, String>(2)?,
            "window": r.get::<_, String>(3)?,
            "value": r.get::<_, f64>(4)?,
            "limit": r.get::<_, f64>(5)?,
            "status": r.get::<_, String>(6)?,
            "responsible": serde_json::from_str::<Value>(&responsible).unwrap_or(Value::Null),
            "attribution": serde_json::from_str::<Value>(&attribution).unwrap_or(Value::Null),
            "created_at": r.get::<_, String>(9)?,
            "updated_at": r.get::<_, String>(10)?,
        }),
        r.get(11)?,
        r.get(12)?,
    ))
}

fn evidence(conn: &Connection, id: i64) -> store::Result<Value> {
    let mut stmt = conn.prepare_cached(
        "SELECT pollutant, win, start, value, limit_value, wind_dir FROM dust_exceedances
         WHERE alert = ?1 ORDER BY start",
    )?;
    let rows = stmt.query_map([id], |r| {
        Ok(json!({
            "pollutant": r.get::<_, String>(0)?,
            "window": r.get::<_, String>(1)?,
            "start": crate::domain::dust::reading::local_rfc3339(r.get(2)?),
            "value": r.get::<_, f64>(3)?,
            "limit": r.get::<_, f64>(4)?,
            "wind_dir": r.get::<_, Option<f64>>(5)?,
        }))
    })?;
    Ok(Value::Array(rows.collect::<rusqlite::Result<_>>()?))
}

/// One alert with its evidence, whoever asks.
fn get(conn: &Connection, id: i64) -> store::Result<Option<Value>> {
    let found = conn
        .query_row(&format!("{SELECT} WHERE id = ?1"), [id], row)
        .optional()?;
    let Some((mut v, _, _)) = found else {
        return Ok(None);
    };
    v["evidence"] = evidence(conn, id)?;
    Ok(Some(v))
}

/// Whether an actor may see an alert: managers all, district officers their district, owners
/// their holder's, patrols every one not closed.
fn visible(actor: &Actor, holder: Option<&str>, district: Option<&str>, status: &str) -> bool {
    match actor.role {
        Role::Manager => true,
        Role::District => actor.district.is_some() && actor.district.as_deref() == district,
        Role::Owner => actor.holder.is_some() && actor.holder.as_deref() == holder,
        Role::Patrol => status != Status::Closed.as_str(),
    }
}

/// Whether the actor answers for the alert: the owner of its holder, or the district officer
/// of a district-routed one.
fn answers_for(actor: &Actor, v: &Value, holder: Option<&str>, district: Option<&str>) -> bool {
    match actor.role {
        Role::Owner => actor.holder.is_some() && actor.holder.as_deref() == holder,
        Role::District => {
            v["responsible"]["party"] == json!(Party::District)
                && actor.district.is_some()
                && actor.district.as_deref() == district
        }
        _ => false,
    }
}

/// The actions the actor may take on the alert now (for the web app's buttons).
fn allowed_actions(
    actor: &Actor,
    v: &Value,
    holder: Option<&str>,
    district: Option<&str>,
) -> Value {
    let status = Status::parse(v["status"].as_str().unwrap_or_default()).unwrap_or(Status::Open);
    let responsible = answers_for(actor, v, holder, district);
    json!(
        Action::ALL
            .into_iter()
            .filter(|a| alert::decide(*a, status, actor.role, responsible).is_ok())
            .map(Action::as_str)
            .collect::<Vec<_>>()
    )
}

/// The alerts an actor may see, newest first, each with the actions the actor may take.
pub fn list(conn: &Connection, actor: &Actor) -> store::Result<Vec<Value>> {
    let mut stmt = conn.prepare(&format!("{SELECT} ORDER BY id DESC"))?;
    let rows: Vec<_> = stmt.query_map([], row)?.collect::<rusqlite::Result<_>>()?;
    let mut out = vec![];
    for (mut v, holder, district) in rows {
        let status = v["status"].as_str().unwrap_or_default().to_string();
        if visible(actor, holder.as_deref(), district.as_deref(), &status) {
            if let Some(id) = v["id"].as_i64() {
                v["evidence"] = evidence(conn, id)?;
            }
            v["allowed_actions"] =
                allowed_actions(actor, &v, holder.as_deref(), district.as_deref());
            out.push(v);
        }
    }
    Ok(out)
}

/// Applies an action to an alert: 404 when the actor cannot see it, 403 when its role may not
/// take it, 409 (with what is possible) when the alert's state does not allow it.
pub fn act(
    tx: &Connection,
    actor: &Actor,
    id: i64,
    action: &str,
    note: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Value> {
    let found = tx
        .query_row(&format!("{SELECT} WHERE id = ?1"), [id], row)
        .optional()?;
    let Some((v, holder, district)) = found else {
        return Err(Error::not_found("dust_alert"));
    };
    let status_s = v["status"].as_str().unwrap_or_default().to_string();
    if !visible(actor, holder.as_deref(), district.as_deref(), &status_s) {
        return Err(Error::not_found("dust_alert"));
    }
    let Some(action) = Action::parse(action) else {
        return Err(Error::invalid("unknown_action")
            .arg("action", action.to_string())
            .arg(
                "allowed",
                Action::ALL.map(Action::as_str).join(", ").to_string(),
            ));
    };
    let status = Status::parse(&status_s).unwrap_or(Status::Open);
    let responsible = answers_for(actor, &v, holder.as_deref(), district.as_deref());
    let to = alert::decide(action, status, actor.role, responsible).map_err(|r| match r {
        Refusal::Forbidden => Error::forbidden(),
        Refusal::NotAllowed { status, allowed } => Error::not_allowed(
            "dust_action_not_allowed",
            "dust_",
            status.as_str(),
            action.as_str(),
            &allowed.iter().map(|a| a.as_str()).collect::<Vec<_>>(),
            json!({"status": status, "allowed": allowed}),
        ),
    })?;
    let at = ts(now);
    tx.execute(
        "UPDATE dust_alert_cases SET status = ?2, updated_at = ?3,
         closed_at = CASE WHEN ?2 = 'closed' THEN ?4 ELSE NULL END WHERE id = ?1",
        params![id, to.as_str(), at, now.timestamp()],
    )?;
    tx.execute(
        "INSERT INTO dust_alert_events(alert, at, actor, action, status, note) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![id, at, actor.username, action.as_str(), to.as_str(), note],
    )?;
    super::alert_map::project(tx, id)?;
    let mut v = get(tx, id)?.ok_or_else(|| Error::not_found("dust_alert"))?;
    v["allowed_actions"] = allowed_actions(actor, &v, holder.as_deref(), district.as_deref());
    Ok(v)
}

/// Draws any alert missing from the map layer, then runs [`check`] every minute beside the
/// server (never inside a request or ingest commit) until `stopping`.
pub async fn checker(app: crate::app::App, mut stopping: crate::service::jobs::Stopping) {
    match app
        .db
        .write(|tx| super::alert_map::project_missing(tx))
        .await
    {
        Ok(n) if n > 0 => tracing::info!(alerts = n, "dust alerts drawn on the map layer"),
        Ok(_) => {}
        Err(e) => tracing::error!(error = %e, "drawing dust alerts on the map failed"),
    }
    loop {
        let index = app.index();
        let done = app.db.write(move |tx| check(tx, &index, Utc::now())).await;
        match done {
            Ok(n) if n > 0 => tracing::info!(alerts = n, "dust exceedances raised alerts"),
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "dust exceedance check failed"),
        }
        if stopping.sleep(std::time::Duration::from_secs(60)).await {
            break;
        }
    }
}

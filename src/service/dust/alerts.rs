//! Dust alerts: the periodic check that turns new valid means into alerts routed to a mine (by
//! the monitor's mine, or upwind of a monitor outside every mine), the list each role may see,
//! and the actions on an alert. The rules themselves are in `domain::dust` (exceedances,
//! attribution, the alert's life in `alert`); the cases are stored behind `store::dust::alerts`.
//!
//! The check runs every minute from `serve` rather than inside ingest, so ingest stays one fast
//! commit. Ingest marks each hour it changes as pending; the check judges those hours once they
//! are over, and their local days once those are over, then forgets them. An exceedance is
//! recorded once per (monitor, pollutant, window, period), which makes a repeated judgement
//! idempotent. A mean is never judged on part of its period; readings arriving late are judged
//! like fresh ones, unless their hour is more than `judge_within_days` (default 7) old: those are
//! stored but not judged.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use crate::domain::dust::alert::{self, Action, OnExceedance, Parties, Status};
use crate::domain::dust::attribution::attribute;
use crate::domain::dust::reading::local_rfc3339;
use crate::domain::dust::rollup::{day_start, hour_of};
use crate::domain::dust::{self, DustRules, Exceedance};
use crate::domain::event::EventKind;
use crate::domain::responsibility::{Party, ResponsibilityIndex};
use crate::domain::role::Actor;
use crate::error::{Error, Result};
use crate::service::case::{self, Keys};
use crate::service::events;
use crate::service::jobs::Stopping;
use crate::store::dust::alerts::{Case, Event, Evidence, NewCase};
use crate::store::dust::monitors::Monitor;
use crate::store::{self, COUNT_CAP, Db, Slice, Tx};

/// Checks every monitor's recent finished means and raises, extends or re-opens alerts, in the
/// caller's transaction (the webhook rows commit with them). Returns the alerts raised or
/// re-opened.
pub fn check(tx: &dyn Tx, index: &ResponsibilityIndex, now: DateTime<Utc>) -> Result<usize> {
    let rules = crate::service::rules::dust(tx)?;
    let readings = tx.dust_readings();
    let now_s = now.timestamp();
    let this_hour = hour_of(now_s);
    readings.drop_pending_before(this_hour - rules.judge_within_days * 24)?;
    let mut pending = readings.pending_hours(this_hour)?;
    let mut raised = 0;
    for m in tx.dust_monitors().with_devices()? {
        let Some(device) = m.device else {
            continue;
        };
        let Some(hours) = pending.remove(&device) else {
            continue;
        };
        let means = super::readings::affected_means(tx, device, &hours)?;
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
        readings.clear_pending(device, &done)?;
    }
    // Devices with no monitor on the map cannot be routed: nothing of theirs is kept waiting.
    for (device, hours) in pending {
        readings.clear_pending(device, &hours)?;
    }
    Ok(raised)
}

/// Records one exceedance at monitor `m` (which has a device); true when it raised or
/// re-opened an alert.
fn record(
    tx: &dyn Tx,
    index: &ResponsibilityIndex,
    rules: &DustRules,
    m: &Monitor,
    e: &Exceedance,
    now: DateTime<Utc>,
) -> Result<bool> {
    let Some(device) = m.device else {
        return Ok(false);
    };
    let alerts = tx.dust_alerts();
    let pollutant = e.pollutant.name();
    let win = e.window.as_str();
    if alerts.seen(device, pollutant, win, e.start)? {
        return Ok(false);
    }
    let latest = alerts.latest(device, pollutant, win)?;
    let decision = alert::on_exceedance(
        rules,
        latest.as_ref().map(|c| (c.status, c.closed_at)),
        now.timestamp(),
    );
    let (id, action) = match (decision, latest) {
        (OnExceedance::AddEvidence, Some(c)) => {
            alerts.set_value(c.id, e.value, e.limit, now)?;
            (c.id, None)
        }
        (OnExceedance::Reopen, Some(c)) => {
            alerts.reopen(c.id, e.value, e.limit, now)?;
            (c.id, Some("reopen"))
        }
        _ => {
            let Some(p) = m.at else {
                tracing::warn!(mn = %m.mn, "dust monitor without a position: exceedance not routed");
                return Ok(false);
            };
            let mine = m.derived.mine.as_deref().filter(|l| !l.is_empty());
            let Some((resp, attribution)) = attribute(index, rules, mine, p, e.wind_dir) else {
                tracing::warn!(mn = %m.mn, "dust monitor outside every district: exceedance not routed");
                return Ok(false);
            };
            let id = alerts.open(&NewCase {
                device,
                mn: &m.mn,
                pollutant,
                window: win,
                value: e.value,
                limit: e.limit,
                responsible: &resp,
                attribution: &attribution,
                at: now,
            })?;
            (id, Some("raise"))
        }
    };
    alerts.add_evidence(
        device,
        id,
        &Evidence {
            pollutant: pollutant.into(),
            window: win.into(),
            start: e.start,
            value: e.value,
            limit: e.limit,
            wind_dir: e.wind_dir,
        },
    )?;
    super::alert_map::project(tx, id)?;
    let Some(action) = action else {
        return Ok(false);
    };
    alerts.add_event(
        id,
        &Event {
            at: now,
            actor: "system",
            action,
            status: Status::Open,
            note: None,
        },
    )?;
    if let Some(alert) = get(tx, id)? {
        events::publish(
            tx,
            EventKind::DustAlert,
            &format!("{id}:{pollutant}:{win}:{}", e.start),
            &json!({"action": action, "alert": alert}),
        )?;
    }
    Ok(true)
}

/// A case as the API shows it (without its evidence).
fn case_json(c: &Case) -> Value {
    json!({
        "id": c.id,
        "mn": c.mn,
        "pollutant": c.pollutant,
        "window": c.window,
        "value": c.value,
        "limit": c.limit,
        "status": c.status.as_str(),
        "responsible": c.responsible,
        "attribution": c.attribution,
        "created_at": c.created_at,
        "updated_at": c.updated_at,
    })
}

fn evidence(tx: &dyn Tx, id: i64) -> store::Result<Value> {
    Ok(Value::Array(
        tx.dust_alerts()
            .evidence(id)?
            .into_iter()
            .map(|e| {
                json!({
                    "pollutant": e.pollutant,
                    "window": e.window,
                    "start": local_rfc3339(e.start),
                    "value": e.value,
                    "limit": e.limit,
                    "wind_dir": e.wind_dir,
                })
            })
            .collect(),
    ))
}

/// One alert with its evidence, whoever asks.
fn get(tx: &dyn Tx, id: i64) -> store::Result<Option<Value>> {
    let Some(c) = tx.dust_alerts().get(id)? else {
        return Ok(None);
    };
    let mut v = case_json(&c);
    v["evidence"] = evidence(tx, id)?;
    Ok(Some(v))
}

/// What of a case decides who sees it and who answers for it.
fn parties(c: &Case) -> Parties<'_> {
    Parties {
        status: c.status,
        party: serde_json::from_value::<Party>(c.responsible["party"].clone()).ok(),
        holder: c.holder.as_deref(),
        district: c.district_code.as_deref(),
    }
}

/// The actions the actor may take on the alert now (for the web app's buttons).
fn allowed_actions(actor: &Actor, c: &Case) -> Value {
    json!(
        alert::allowed_actions(actor, &parties(c))
            .into_iter()
            .map(Action::as_str)
            .collect::<Vec<_>>()
    )
}

/// One page of the alerts an actor may see, newest first, each with the actions the actor may
/// take: the page, whether more follow, and how many there are (when counting is cheap).
pub fn list(
    tx: &dyn Tx,
    actor: &Actor,
    slice: Slice,
) -> store::Result<(Vec<Value>, bool, Option<usize>)> {
    let scope = alert::scope(actor);
    let (cases, more) = tx.dust_alerts().page(&scope, slice)?;
    let matched = match slice.total(cases.len(), more) {
        Some(n) => Some(n),
        None => tx.dust_alerts().count(&scope, COUNT_CAP)?,
    };
    let mut out = Vec::with_capacity(cases.len());
    for c in cases {
        let mut v = case_json(&c);
        v["evidence"] = evidence(tx, c.id)?;
        v["allowed_actions"] = allowed_actions(actor, &c);
        out.push(v);
    }
    Ok((out, more, matched))
}

/// How alerts name their refusals.
const KEYS: Keys = Keys {
    not_allowed: "dust_action_not_allowed",
    subject: "dust_alert",
    forbidden: None,
};

/// Applies an action to an alert: 404 when the actor cannot see it, 403 when its role may not
/// take it, 409 (with what is possible) when the alert's state does not allow it.
pub fn act(
    tx: &dyn Tx,
    actor: &Actor,
    id: i64,
    action: &str,
    note: Option<&str>,
    now: DateTime<Utc>,
) -> Result<Value> {
    let alerts = tx.dust_alerts();
    let Some(c) = alerts
        .get(id)?
        .filter(|c| alert::visible(actor, &parties(c)))
    else {
        return Err(Error::not_found("dust_alert"));
    };
    let action: Action = case::action(action, KEYS.subject)?;
    let responsible = alert::answers_for(actor, &parties(&c));
    let to = alert::decide(action, c.status, actor.role, responsible)
        .map_err(|r| case::refused(r, actor, action, &KEYS, |e| e))?;
    alerts.set_status(id, to, now)?;
    alerts.add_event(
        id,
        &Event {
            at: now,
            actor: &actor.username,
            action: action.as_str(),
            status: to,
            note,
        },
    )?;
    super::alert_map::project(tx, id)?;
    let after = alerts
        .get(id)?
        .ok_or_else(|| Error::not_found("dust_alert"))?;
    let mut v = case_json(&after);
    v["evidence"] = evidence(tx, id)?;
    v["allowed_actions"] = allowed_actions(actor, &after);
    Ok(v)
}

/// Draws any alert missing from the map layer, then runs [`check`] every minute beside the
/// server (never inside a request or ingest commit) until `stopping`, with the responsibility
/// index `index` gives at the time.
pub async fn checker(
    db: Db,
    index: impl Fn() -> Arc<ResponsibilityIndex> + Send + 'static,
    mut stopping: Stopping,
) {
    match db.write(|tx| super::alert_map::project_missing(tx)).await {
        Ok(n) if n > 0 => tracing::info!(alerts = n, "dust alerts drawn on the map layer"),
        Ok(_) => {}
        Err(e) => tracing::error!(error = %e, "drawing dust alerts on the map failed"),
    }
    loop {
        let index = index();
        let done = db.write(move |tx| check(tx, &index, Utc::now())).await;
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

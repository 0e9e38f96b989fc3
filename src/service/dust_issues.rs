//! Dust violations (扬尘违规) logged by patrols: the report (routed by geometry as fires are, with
//! a deadline), the actions of their life, what each user may see, and the demo's sample
//! violations. The rules themselves are in `domain::dust_issue`.

use std::path::Path;

use chrono::{DateTime, Datelike, Duration, Utc};
use rusqlite::Connection;
use rusqlite::types::Value as Sql;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::domain::deadline::local_date;
use crate::domain::dust_issue::{
    self as rules, Action, DustIssueRules, IssueKind, REPORTERS, Refusal, Status,
};
use crate::domain::responsibility::{ResponsibilityIndex, Responsible};
use crate::domain::role::{Actor, Role};
use crate::error::{Error, Kind, Result};
use crate::layers::{Layer, Registry, Source};
use crate::service::fires::{
    After, MAX_GPS_ACCURACY_M, content_hash, observed_input, observed_time, parse_point_feature,
};
use crate::service::webhooks::{self, EventKind};
use crate::store::dust_issues::{self as store, IssueEvent, IssueRecord, NewIssue};
use crate::store::features::scope_sql;
use crate::store::fires::ts;
use crate::store::{self as db};

/// The layer the violations live in.
pub const LAYER: &str = "dust_issues";

/// The rules in force (transitional: until this module is on the store traits).
pub fn load_rules(conn: &Connection) -> db::Result<DustIssueRules> {
    crate::service::rules::dust_issues(&crate::store::sqlite::SqliteTx::new(conn))
}

/// What a use case needs besides the database.
pub struct Ctx<'a> {
    pub registry: &'a Registry,
    pub index: &'a ResponsibilityIndex,
    pub rules: &'a DustIssueRules,
}

/// The layer file, which says who may read what.
pub fn layer(registry: &Registry) -> Result<&Layer> {
    registry.get(LAYER).ok_or_else(|| Error::not_found("layer"))
}

/// The SQL condition (on `dust_issues t`) for what this user may read: the layer file's read
/// scope, the same one the OGC API collection applies, so both always agree.
pub fn scope(layer: &Layer, actor: &Actor) -> (String, Vec<Sql>) {
    scope_sql(layer, &layer.read_scope(actor), "")
}

/// A violation by UUID or code, if this user may see it.
pub fn find_visible(
    conn: &Connection,
    layer: &Layer,
    actor: &Actor,
    id_or_code: &str,
) -> Result<Option<IssueRecord>> {
    let (cond, mut params) = scope(layer, actor);
    params.extend([Sql::Text(id_or_code.into()), Sql::Text(id_or_code.into())]);
    let sql = format!("({cond}) AND (t.uuid = ? OR t.code = ?)");
    Ok(store::get_many(conn, &sql, params)?.into_iter().next())
}

fn forbidden(actor: &Actor, action: &str) -> Error {
    Error::new(Kind::Forbidden, "dust_issue_forbidden")
        .arg("role", format!("@role.{}", actor.role.as_str()))
        .arg("action", format!("@dust_issue.action.{action}"))
}

fn check_uuid(v: Option<Value>, field: &'static str) -> Result<Option<String>> {
    match v {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => uuid::Uuid::parse_str(&s)
            .map(|u| Some(u.hyphenated().to_string()))
            .map_err(|_| Error::invalid("invalid_uuid").arg("field", field)),
        Some(_) => Err(Error::invalid("invalid_uuid").arg("field", field)),
    }
}

/// What a report produced.
pub struct Reported {
    pub issue: IssueRecord,
    /// False when the same uuid and content had already been received (a retry).
    pub created: bool,
}

/// Logs a violation from a GeoJSON Point Feature whose properties are `uuid` (client-made,
/// optional), `kind`, and optionally `note`, `accuracy_m`, `position_source`. The client's uuid
/// makes a retry harmless: the same uuid and content returns the first record, the same uuid
/// with other content (or a fire's id) is a conflict.
pub fn report(
    tx: &Connection,
    ctx: &Ctx,
    actor: &Actor,
    body: &Value,
    now: DateTime<Utc>,
) -> Result<Reported> {
    if !REPORTERS.contains(&actor.role) {
        return Err(forbidden(actor, "report"));
    }
    let layer = layer(ctx.registry)?;
    let (point, mut props) = parse_point_feature(body)?;
    let client_id = check_uuid(props.remove("uuid"), "uuid")?;
    // When the patrol saw it; becomes reported_at (received_at is kept on the report event).
    let observed_at = observed_input(props.remove("observed_at").as_ref(), "observed_at")?;
    let values = layer
        .validate(&props, Source::Input)
        .map_err(Error::fields)?;
    let text = |k: &str| values.get(k).and_then(Value::as_str).map(String::from);
    let accuracy = values.get("accuracy_m").and_then(Value::as_f64);
    let source = text("position_source").unwrap_or_else(|| "gps".into());
    if let Some(acc) = accuracy
        && source == "gps"
        && acc > MAX_GPS_ACCURACY_M
    {
        return Err(Error::invalid("accuracy_too_poor")
            .arg("accuracy", acc.to_string())
            .arg("limit", MAX_GPS_ACCURACY_M.to_string()));
    }
    let mut hashed = json!({"point": [point.x(), point.y()], "properties": values});
    if let Some(o) = observed_at
        .as_deref()
        .and_then(crate::domain::observed::parse)
    {
        hashed["observed_at"] = json!(ts(o));
    }
    let hash = content_hash(&hashed);
    if let Some(id) = &client_id {
        if let Some(existing) = store::get(tx, id)? {
            if existing.request_hash.as_deref() != Some(hash.as_str()) {
                return Err(
                    Error::new(Kind::Conflict, "idempotency_conflict").arg("id", id.clone())
                );
            }
            return Ok(Reported {
                issue: existing,
                created: false,
            });
        }
        // Photos are keyed by their subject's id: a violation never takes a fire's.
        if crate::store::fires::get(tx, id)?.is_some() {
            return Err(Error::new(Kind::Conflict, "idempotency_conflict").arg("id", id.clone()));
        }
    }
    let kind = text("kind")
        .and_then(|k| IssueKind::parse(&k))
        .ok_or_else(|| Error::invalid("field_missing").arg("field", "kind"))?;
    let responsible = ctx
        .index
        .assign(point)
        .map_err(|_| Error::invalid("outside_managed_area"))?;
    let window = crate::service::rules::fire(&crate::store::sqlite::SqliteTx::new(tx))?.observed;
    let at = observed_time(observed_at.as_deref(), "observed_at", now, &window, None)?;
    let uuid = client_id.unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let code = store::next_code(tx, &ctx.rules.code_prefix, local_date(at).year())?;
    let note = text("note");
    store::insert(
        tx,
        &NewIssue {
            uuid: &uuid,
            code: &code,
            kind,
            point,
            note: note.as_deref(),
            accuracy_m: accuracy,
            position_source: &source,
            reported_at: at,
            reported_by: &actor.username,
            // From when it was seen, not when the tablet found a signal.
            deadline: rules::deadline(at, ctx.rules),
            responsible: &responsible,
            request_hash: &hash,
        },
    )?;
    let event = IssueEvent {
        issue: uuid.clone(),
        at: ts(at),
        received_at: Some(ts(now)),
        actor: actor.username.clone(),
        role: actor.role.as_str().into(),
        action: "report".into(),
        from: None,
        to: Status::Open.as_str().into(),
        note,
        ..Default::default()
    };
    let event_id = store::append_event(tx, &event)?;
    let issue = store::get(tx, &uuid)?.ok_or_else(|| Error::not_found("dust_issue"))?;
    notify_webhooks(tx, event_id, &event, &issue)?;
    Ok(Reported {
        issue,
        created: true,
    })
}

/// An action as sent: `POST /api/dust/issues/{id}/events`.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ActionInput {
    /// `start`, `rectified`, `verify` or `reject`.
    pub action: String,
    /// What was done (`rectified`), or why it is not accepted (`reject`); optional otherwise.
    pub note: Option<String>,
    /// A client-made UUID: a retried submission is applied once.
    pub id: Option<String>,
    /// When it was done in the field (RFC 3339 with offset); the received time if absent. Left
    /// out of the retry hash when absent, so retries from older clients still match.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub observed_at: Option<String>,
}

fn action_names(actions: &[Action]) -> String {
    let names: Vec<&str> = actions.iter().map(|a| a.as_str()).collect();
    crate::error::action_labels("dust_issue", &names)
}

/// Applies an action to a violation the user can see, recording it as an event. Unseen → 404,
/// a role or party that may not take it → 403, a state that does not allow it → 409 naming what
/// is possible, a missing note → 422; nothing is written on any of them.
pub fn act(
    tx: &Connection,
    ctx: &Ctx,
    actor: &Actor,
    id_or_code: &str,
    input: &ActionInput,
    now: DateTime<Utc>,
) -> Result<IssueRecord> {
    let layer = layer(ctx.registry)?;
    let issue = find_visible(tx, layer, actor, id_or_code)?
        .ok_or_else(|| Error::not_found("dust_issue"))?;
    let client_id = check_uuid(input.id.clone().map(Value::String), "id")?;
    let hash = content_hash(&json!({"issue": issue.uuid, "input": input}));
    if let Some(cid) = &client_id
        && let Some(done) = store::event_by_client_id(tx, cid)?
    {
        if done.issue != issue.uuid || done.request_hash.as_deref() != Some(hash.as_str()) {
            return Err(Error::new(Kind::Conflict, "idempotency_conflict").arg("id", cid.clone()));
        }
        return Ok(issue);
    }
    let action = Action::parse(&input.action).ok_or_else(|| {
        Error::invalid("unknown_action")
            .arg("action", input.action.clone())
            .arg("allowed", action_names(&Action::ALL))
    })?;
    let note = input
        .note
        .as_deref()
        .map(str::trim)
        .filter(|n| !n.is_empty());
    if note.is_some_and(|n| n.chars().count() > 2000) {
        return Err(Error::invalid("field_too_long")
            .arg("field", "note")
            .arg("max", "2000"));
    }
    let to = rules::decide(actor, action, &issue.state(), note).map_err(|r| match r {
        Refusal::Forbidden => forbidden(actor, action.as_str()),
        Refusal::NotAllowed { status, allowed } => Error::not_allowed(
            "dust_issue_action_not_allowed",
            "dust_issue",
            status.as_str(),
            action.as_str(),
            &allowed.iter().map(|a| a.as_str()).collect::<Vec<_>>(),
            json!({"status": status, "allowed": allowed}),
        ),
        Refusal::Invalid { field, problem } => Error::invalid(problem).arg("field", field),
    })?;
    // Every action on a violation moves it, so it must come after the violation's latest event:
    // the history stays in time order (no late placement as for a fire's readings).
    let last = store::last_event_at(tx, &issue.uuid)?.unwrap_or(issue.reported_at);
    let window = crate::service::rules::fire(&crate::store::sqlite::SqliteTx::new(tx))?.observed;
    let after = After {
        at: last,
        what: "observed.after_last_event",
    };
    let at = observed_time(
        input.observed_at.as_deref(),
        "observed_at",
        now,
        &window,
        Some(after),
    )?;
    let event = IssueEvent {
        issue: issue.uuid.clone(),
        client_id,
        at: ts(at),
        received_at: Some(ts(now)),
        actor: actor.username.clone(),
        role: actor.role.as_str().into(),
        action: action.as_str().into(),
        from: Some(issue.status.as_str().into()),
        to: to.as_str().into(),
        note: note.map(String::from),
        request_hash: Some(hash),
        ..Default::default()
    };
    let event_id = store::append_event(tx, &event)?;
    store::update_status(tx, &issue, to, at)?;
    let after = store::get(tx, &issue.uuid)?.ok_or_else(|| Error::not_found("dust_issue"))?;
    notify_webhooks(tx, event_id, &event, &after)?;
    Ok(after)
}

/// Queues the `dust_issue` webhook for a report or an action, in its transaction.
/// Re-derives the party of every violation not yet verified from the polygons in `index`
/// (boundaries changed), inside the caller's transaction: each one that moves gets a system
/// `reassign` event (its note the reason and the new party) and a webhook. Returns
/// `(uuid, code, from, to)` of those moved.
/// Where the violations not yet verified are, as (lon, lat).
pub fn open_positions(tx: &Connection) -> Result<Vec<(f64, f64)>> {
    let open = store::get_many(
        tx,
        "t.status <> ?",
        vec![Sql::Text(Status::Verified.as_str().into())],
    )?;
    Ok(open.iter().map(|i| (i.lon, i.lat)).collect())
}

pub fn reroute_open(
    tx: &Connection,
    index: &ResponsibilityIndex,
    now: DateTime<Utc>,
    reason: &str,
) -> Result<Vec<(String, String, Responsible, Responsible)>> {
    let open = store::get_many(
        tx,
        "t.status <> ?",
        vec![Sql::Text(Status::Verified.as_str().into())],
    )?;
    let mut moved = vec![];
    for issue in open {
        let Ok(new) = index.assign(geo::Point::new(issue.lon, issue.lat)) else {
            continue;
        };
        if new.same_party(&issue.responsible) {
            continue;
        }
        let event = IssueEvent {
            issue: issue.uuid.clone(),
            at: ts(now),
            actor: "system".into(),
            role: "system".into(),
            action: "reassign".into(),
            from: Some(issue.status.as_str().into()),
            to: issue.status.as_str().into(),
            note: Some(format!(
                "{reason}: {} → {}",
                issue.responsible.name, new.name
            )),
            ..Default::default()
        };
        let event_id = store::append_event(tx, &event)?;
        store::update_responsible(tx, &issue.uuid, &new, now)?;
        let after = store::get(tx, &issue.uuid)?.ok_or_else(|| Error::not_found("dust_issue"))?;
        notify_webhooks(tx, event_id, &event, &after)?;
        moved.push((issue.uuid, issue.code, issue.responsible, new));
    }
    Ok(moved)
}

fn notify_webhooks(
    tx: &Connection,
    event_id: i64,
    event: &IssueEvent,
    issue: &IssueRecord,
) -> Result<()> {
    let mut e = serde_json::to_value(event).unwrap_or(Value::Null);
    if let Some(o) = e.as_object_mut() {
        o.insert("id".into(), event_id.into());
    }
    let payload = json!({
        "dust_issue": {
            "uuid": issue.uuid,
            "code": issue.code,
            "kind": issue.kind,
            "status": issue.status,
            "lon": issue.lon,
            "lat": issue.lat,
            "reported_at": ts(issue.reported_at),
            "deadline": ts(issue.deadline),
            "responsible": issue.responsible,
        },
        "event": e,
    });
    webhooks::enqueue(
        tx,
        EventKind::DustIssue,
        &format!("dust_issue_event:{event_id}"),
        &payload,
    )?;
    Ok(())
}

/// The violations this user may see, soonest deadline first, optionally only those in `statuses`
/// and those whose point lies in `bbox` (min lon, min lat, max lon, max lat).
pub fn list(
    conn: &Connection,
    layer: &Layer,
    actor: &Actor,
    statuses: &[Status],
    bbox: Option<[f64; 4]>,
) -> Result<Vec<IssueRecord>> {
    let (mut sql, mut params) = scope(layer, actor);
    sql = format!("({sql})");
    if !statuses.is_empty() {
        sql += &format!(" AND t.status IN ({})", vec!["?"; statuses.len()].join(","));
        params.extend(statuses.iter().map(|s| Sql::Text(s.as_str().into())));
    }
    if let Some([x0, y0, x1, y1]) = bbox {
        sql += " AND t.fid IN (SELECT id FROM rtree_dust_issues_geom WHERE minx <= ? AND maxx >= ? AND miny <= ? AND maxy >= ?)";
        params.extend([Sql::Real(x1), Sql::Real(x0), Sql::Real(y1), Sql::Real(y0)]);
    }
    Ok(store::get_many(conn, &sql, params)?)
}

/// The violation as a GeoJSON Feature for this user: `responsible` as one object, whether it is
/// overdue, and the actions this user may take now. Owners never learn who reported it.
pub fn feature(i: &IssueRecord, actor: &Actor, now: DateTime<Utc>) -> Value {
    let hide_reporter = !actor.sees_authority_names();
    json!({
        "type": "Feature",
        "id": i.uuid,
        "geometry": {"type": "Point", "coordinates": [i.lon, i.lat]},
        "properties": {
            "uuid": i.uuid,
            "code": i.code,
            "kind": i.kind,
            "status": i.status,
            "note": i.note,
            "accuracy_m": i.accuracy_m,
            "position_source": i.position_source,
            "reported_at": ts(i.reported_at),
            "reported_by": if hide_reporter { Value::Null } else { Value::from(i.reported_by.clone()) },
            "deadline": ts(i.deadline),
            "overdue": rules::overdue(i.status, i.deadline, now),
            "responsible": i.responsible,
            "rectified_at": i.rectified_at.map(ts),
            "verified_at": i.verified_at.map(ts),
            "updated_at": ts(i.updated_at),
            "allowed_actions": rules::allowed_actions(actor, &i.state()),
        }
    })
}

/// A violation's events as this user may see them: owners do not see the names of patrols,
/// managers or district officers.
pub fn events_for(events: Vec<IssueEvent>, actor: &Actor) -> Vec<IssueEvent> {
    events
        .into_iter()
        .map(|mut e| {
            if !actor.sees_names_of(&e.role) {
                e.actor = String::new();
            }
            e
        })
        .collect()
}

/// One sample violation (samples/dust_issues.geojson): a report and its history.
#[derive(Deserialize)]
struct SampleStep {
    action: String,
    at: DateTime<chrono::FixedOffset>,
    actor: String,
    #[serde(default)]
    note: Option<String>,
}

/// The actor a sample history names, bound to the violation's party (as the fire samples do).
fn sample_actor(name: &str, issue: &IssueRecord) -> Actor {
    let r = &issue.responsible;
    let (username, role, district, holder) = match name {
        "owner" => {
            let holder = r.holder().unwrap_or_default().to_string();
            let demo = crate::service::demo::ACCOUNTS
                .iter()
                .find(|a| a.2 == Role::Owner)
                .and_then(|a| a.4);
            let username = if demo == Some(holder.as_str()) {
                "owner".to_string()
            } else {
                holder.clone()
            };
            (username, Role::Owner, None, Some(holder))
        }
        "district" => (
            if r.district_code == "150303" {
                "district".to_string()
            } else {
                format!("district-{}", r.district_code)
            },
            Role::District,
            Some(r.district_code.clone()),
            None,
        ),
        "patrol" => ("patrol".into(), Role::Patrol, None, None),
        _ => ("manager".into(), Role::Manager, None, None),
    };
    Actor {
        username,
        role,
        district,
        holder,
    }
}

fn bad_sample(e: impl std::fmt::Display) -> Error {
    Error::invalid("bad_json").arg("detail", e.to_string())
}

/// Adds the sample violations of `samples/dust_issues.geojson` (if the folder has one) to a demo
/// database, each report and action replayed through [`report`] and [`act`] in time order, times
/// shifted so that the newest is yesterday (as the sample fires are).
pub fn build_demo(
    db: &db::Db,
    registry: &Registry,
    samples: &Path,
    now: DateTime<Utc>,
) -> Result<()> {
    let path = samples.join("dust_issues.geojson");
    if !path.exists() {
        return Ok(());
    }
    let text = std::fs::read_to_string(&path)
        .map_err(|e| Error::Store(db::StoreError::Worker(format!("{}: {e}", path.display()))))?;
    let fc: Value = serde_json::from_str(&text).map_err(bad_sample)?;
    // (at, uuid, Some(step)) for actions, (at, uuid, None) with the feature for reports.
    let mut ops: Vec<(DateTime<Utc>, String, Option<SampleStep>, Value)> = vec![];
    for f in fc["features"].as_array().cloned().unwrap_or_default() {
        let p = &f["properties"];
        let uuid = p["uuid"].as_str().unwrap_or_default().to_string();
        let at = p["reported_at"]
            .as_str()
            .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
            .ok_or_else(|| bad_sample(format!("{uuid}: reported_at")))?
            .with_timezone(&Utc);
        for step in p["history"].as_array().cloned().unwrap_or_default() {
            let step: SampleStep = serde_json::from_value(step).map_err(bad_sample)?;
            ops.push((
                step.at.with_timezone(&Utc),
                uuid.clone(),
                Some(step),
                Value::Null,
            ));
        }
        let mut props = p.as_object().cloned().unwrap_or_default();
        for k in ["history", "reported_at", "reported_by"] {
            props.remove(k);
        }
        let feature = json!({"type": "Feature", "geometry": f["geometry"], "properties": props});
        ops.push((at, uuid, None, feature));
    }
    ops.sort_by_key(|o| o.0);
    let newest = ops.last().map_or(now, |o| o.0);
    let shift =
        Duration::days((local_date(now) - local_date(newest)).num_days() - 1).max(Duration::zero());
    let index = db.read_blocking(|c| crate::store::areas::load(c).map(ResponsibilityIndex::new))?;
    let issue_rules = db.read_blocking(|c| load_rules(c))?;
    let ctx = Ctx {
        registry,
        index: &index,
        rules: &issue_rules,
    };
    let patrol = Actor {
        username: "patrol".into(),
        role: Role::Patrol,
        district: None,
        holder: None,
    };
    db.write_blocking(|tx| {
        for (at, uuid, step, feature) in ops {
            let at = at + shift;
            match step {
                None => {
                    report(tx, &ctx, &patrol, &feature, at)?;
                }
                Some(step) => {
                    let issue = store::get(tx, &uuid)?.ok_or_else(|| Error::not_found("dust_issue"))?;
                    let actor = sample_actor(&step.actor, &issue);
                    let input = ActionInput {
                        action: step.action.clone(),
                        note: step.note.clone(),
                        id: None,
                        observed_at: None,
                    };
                    act(tx, &ctx, &actor, &uuid, &input, at).inspect_err(|e| {
                        tracing::error!(issue = %issue.code, action = %step.action, "sample step refused: {}", e.message(crate::i18n::Lang::En));
                    })?;
                }
            }
        }
        Ok::<_, Error>(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_layer_is_never_edited_through_the_ogc_api() {
        let registry = Registry::builtin().expect("layers");
        let layer = registry.get(LAYER).expect("dust_issues");
        assert!(!crate::service::edit::editable(layer));
        assert!(layer.access.write.is_empty());
    }

    #[test]
    fn the_layer_file_lists_every_kind_and_status_the_rules_know() {
        let registry = Registry::builtin().expect("layers");
        let layer = registry.get(LAYER).expect("dust_issues");
        let values = |f: &str| {
            layer
                .field(f)
                .and_then(|f| f.values.clone())
                .unwrap_or_default()
        };
        assert_eq!(
            values("kind"),
            IssueKind::ALL.map(|k| k.as_str().to_string()).to_vec()
        );
        assert_eq!(
            values("status"),
            Status::ALL.map(|s| s.as_str().to_string()).to_vec()
        );
        for f in [
            "uuid",
            "code",
            "note",
            "accuracy_m",
            "position_source",
            "reported_at",
            "reported_by",
            "deadline",
            "responsible_party",
            "responsible_name",
            "responsible_holder",
            "district_code",
            "mine",
            "via",
            "candidates",
            "rectified_at",
            "verified_at",
            "updated_at",
            "request_hash",
        ] {
            assert!(layer.field(f).is_some(), "dust_issues lacks {f}");
        }
        let styled = &layer.style.by.as_ref().expect("styled by status").values;
        assert!(Status::ALL.iter().all(|s| styled.contains_key(s.as_str())));
    }
}

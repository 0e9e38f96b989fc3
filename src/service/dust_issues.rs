//! Dust violations (扬尘违规) logged by patrols: the report (routed by geometry as fires are, with
//! a deadline), the actions of their life and what each user may see (the demo's sample
//! violations are replayed by `service::demo`). The rules themselves are in `domain::dust_issue`;
//! the steps every case shares in `service::case`.

use chrono::{DateTime, Datelike, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::domain::deadline::local_date;
use crate::domain::dust_issue::{
    self as rules, Action, DustIssueRules, IssueKind, REPORTERS, Status,
};
use crate::domain::event::EventKind;
use crate::domain::responsibility::{ResponsibilityIndex, Responsible};
use crate::domain::role::Actor;
use crate::error::{Error, Result};
use crate::layers::{Layer, Registry};
use crate::service::case::{self, Keys};
use crate::service::case::{After, observed_time};
use crate::store::dust_issues::{IssueEvent, IssueFilter, IssueRecord, NewIssue};
use crate::store::features::Visible;
use crate::store::fires::ts;
use crate::store::step::Step;
use crate::store::{COUNT_CAP, Slice, Tx};

/// The layer the violations live in.
pub const LAYER: &str = "dust_issues";

/// How violations name their refusals.
const KEYS: Keys = Keys {
    not_allowed: "dust_issue_action_not_allowed",
    subject: "dust_issue",
    forbidden: Some("dust_issue_forbidden"),
};

/// What a use case needs besides the database.
pub type Ctx<'a> = case::Ctx<'a, DustIssueRules>;

/// The layer file, which says who may read what.
pub fn layer(registry: &Registry) -> Result<&Layer> {
    registry.lookup(LAYER).map(|l| &**l)
}

/// A violation by UUID or code, if this user may see it.
pub fn find_visible(
    tx: &dyn Tx,
    layer: &Layer,
    actor: &Actor,
    id_or_code: &str,
) -> Result<Option<IssueRecord>> {
    // The layer file's read scope: the same one the OGC API collection applies, so both agree.
    let scope = layer.read_scope(actor);
    Ok(tx
        .dust_issues()
        .list(&IssueFilter {
            visible: Some(Visible::new(layer, &scope, "")),
            id_or_code: Some(id_or_code.to_string()),
            ..IssueFilter::default()
        })?
        .into_iter()
        .next())
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
    tx: &dyn Tx,
    ctx: &Ctx,
    actor: &Actor,
    body: &Value,
    now: DateTime<Utc>,
) -> Result<Reported> {
    if !REPORTERS.contains(&actor.role) {
        return Err(case::forbidden_to(
            "dust_issue_forbidden",
            actor,
            "@dust_issue.action.report",
        ));
    }
    let layer = layer(ctx.registry)?;
    let intake = case::intake(body, layer, "uuid")?;
    if let Some(id) = &intake.client_id {
        if let Some(existing) = tx.dust_issues().get(id)? {
            intake.is_retry_of(existing.request_hash.as_deref(), true)?;
            return Ok(Reported {
                issue: existing,
                created: false,
            });
        }
        // Photos are keyed by their subject's id: a violation never takes a fire's.
        if tx.fires().get(id)?.is_some() {
            intake.is_retry_of(None, false)?;
        }
    }
    let kind: IssueKind = intake.kind()?;
    let responsible = intake.route(ctx.index)?;
    let at = intake.seen_at(now, &crate::service::rules::fire(tx)?.observed)?;
    let uuid = intake.id_or_new();
    let code = tx
        .dust_issues()
        .next_code(&ctx.rules.code_prefix, local_date(at).year())?;
    let note = intake.text("note");
    tx.dust_issues().insert(&NewIssue {
        uuid: &uuid,
        code: &code,
        kind,
        point: intake.point,
        note: note.as_deref(),
        accuracy_m: intake.number("accuracy_m"),
        position_source: &intake.position_source,
        reported_at: at,
        reported_by: &actor.username,
        // From when it was seen, not when the tablet found a signal.
        deadline: rules::deadline(at, ctx.rules),
        responsible: &responsible,
        request_hash: &intake.hash,
    })?;
    let event = IssueEvent {
        issue: uuid.clone(),
        step: Step {
            to: Status::Open.as_str().into(),
            note,
            ..Step::by(actor, "report", at, now)
        },
    };
    let event_id = tx.dust_issues().append_event(&event)?;
    let issue = publish(tx, event_id, &event)?;
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

/// Applies an action to a violation the user can see, recording it as an event. Unseen → 404,
/// a role or party that may not take it → 403, a state that does not allow it → 409 naming what
/// is possible, a missing note → 422; nothing is written on any of them.
pub fn act(
    tx: &dyn Tx,
    ctx: &Ctx,
    actor: &Actor,
    id_or_code: &str,
    input: &ActionInput,
    now: DateTime<Utc>,
) -> Result<IssueRecord> {
    let layer = layer(ctx.registry)?;
    let issue = find_visible(tx, layer, actor, id_or_code)?
        .ok_or_else(|| Error::not_found("dust_issue"))?;
    let sent = case::Sent::new(input.id.as_deref(), ("issue", &issue.uuid), input)?;
    let done = |cid: &str| {
        let e = tx.dust_issues().event_by_client_id(cid)?;
        Ok(e.map(|e| (e.issue, e.step.request_hash)))
    };
    if sent.replayed(&issue.uuid, done)? {
        return Ok(issue);
    }
    let action: Action = case::action(&input.action, KEYS.subject)?;
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
    let to = rules::decide(actor, action, &issue.state(), note)
        .map_err(|r| case::refused(r, actor, action, &KEYS, |e| e))?;
    // Every action on a violation moves it, so it must come after the violation's latest event:
    // the history stays in time order (no late placement as for a fire's readings).
    let last = tx
        .dust_issues()
        .last_event_at(&issue.uuid)?
        .unwrap_or(issue.reported_at);
    let window = crate::service::rules::fire(tx)?.observed;
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
        step: Step {
            client_id: sent.client_id,
            from: Some(issue.status.as_str().into()),
            to: to.as_str().into(),
            note: note.map(String::from),
            request_hash: Some(sent.hash),
            ..Step::by(actor, action.as_str(), at, now)
        },
    };
    let event_id = tx.dust_issues().append_event(&event)?;
    tx.dust_issues().update_status(&issue, to, at)?;
    let after = publish(tx, event_id, &event)?;
    Ok(after)
}

/// Where the violations not yet verified are, as (lon, lat).
pub fn open_positions(tx: &dyn Tx) -> Result<Vec<(f64, f64)>> {
    let open = tx.dust_issues().list(&IssueFilter {
        not_status: Some(Status::Verified),
        ..IssueFilter::default()
    })?;
    Ok(open.iter().map(|i| (i.lon, i.lat)).collect())
}

/// Re-derives the party of every violation not yet verified from the polygons in `index`
/// (boundaries changed), inside the caller's transaction: each one that moves gets a system
/// `reassign` event (its note the reason and the new party) and is published. Returns
/// `(uuid, code, from, to)` of those moved.
pub fn reroute_open(
    tx: &dyn Tx,
    index: &ResponsibilityIndex,
    now: DateTime<Utc>,
    reason: &str,
) -> Result<Vec<(String, String, Responsible, Responsible)>> {
    let open = tx.dust_issues().list(&IssueFilter {
        not_status: Some(Status::Verified),
        ..IssueFilter::default()
    })?;
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
            step: Step {
                from: Some(issue.status.as_str().into()),
                to: issue.status.as_str().into(),
                note: Some(format!(
                    "{reason}: {} → {}",
                    issue.responsible.name, new.name
                )),
                ..Step::system("reassign", now)
            },
        };
        let event_id = tx.dust_issues().append_event(&event)?;
        tx.dust_issues()
            .update_responsible(&issue.uuid, &new, now)?;
        publish(tx, event_id, &event)?;
        moved.push((issue.uuid, issue.code, issue.responsible, new));
    }
    Ok(moved)
}

/// Publishes a report or an action (`dust_issue`), in its transaction, with the violation as the
/// event left it (read again: every caller answers or records with that); returns it.
fn publish(tx: &dyn Tx, event_id: i64, event: &IssueEvent) -> Result<IssueRecord> {
    let issue = tx
        .dust_issues()
        .get(&event.issue)?
        .ok_or_else(|| Error::not_found("dust_issue"))?;
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
    crate::service::events::publish(
        tx,
        EventKind::DustIssue,
        &format!("dust_issue_event:{event_id}"),
        &payload,
    )?;
    Ok(issue)
}

/// One page of the violations this user may see, soonest deadline first, optionally only those
/// in `statuses` and those whose point lies in `bbox` (min lon, min lat, max lon, max lat): the
/// page, whether more follow, and how many match (when counting is cheap).
pub fn list(
    tx: &dyn Tx,
    layer: &Layer,
    actor: &Actor,
    statuses: &[Status],
    bbox: Option<[f64; 4]>,
    slice: Slice,
) -> Result<(Vec<IssueRecord>, bool, Option<usize>)> {
    let scope = layer.read_scope(actor);
    let filter = IssueFilter {
        visible: Some(Visible::new(layer, &scope, "")),
        statuses: statuses.to_vec(),
        bbox,
        ..IssueFilter::default()
    };
    let (page, more) = tx.dust_issues().page(&filter, slice)?;
    let matched = match slice.total(page.len(), more) {
        Some(n) => Some(n),
        None => tx.dust_issues().count(&filter, COUNT_CAP)?,
    };
    Ok((page, more, matched))
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
    case::as_seen_by(events, actor, |e| (e.step.role.as_str(), &mut e.step.actor))
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

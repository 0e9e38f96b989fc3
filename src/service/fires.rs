//! Reporting a fire and acting on it: the life of a fire, with its events and inspections.

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use geo::Point;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::domain::access::{fire_in_scope, fire_scope};
use crate::domain::deadline;
use crate::domain::fire::{self, Action, FireKind, Refusal, Request, Rules, Status};
use crate::domain::responsibility::{ResponsibilityIndex, Responsible};
use crate::domain::role::{Actor, Role};
use crate::error::{Error, Kind, Result};
use crate::service::case::{self, After, Keys, observed_time};
use crate::store::Tx;
use crate::store::fires::{
    self as store, EventRecord, FireFilter, FireRecord, Nearby, NewFire, NewInspection,
    StateChange, ts,
};
use crate::store::step::Step;

pub use crate::service::case::MAX_GPS_ACCURACY_M;

/// What a use case needs besides the database.
pub type Ctx<'a> = case::Ctx<'a, Rules>;

/// Whether the fire is on the re-ignition watch at `now`.
pub fn watched(f: &FireRecord, now: DateTime<Utc>, rules: &Rules) -> bool {
    f.status == Status::Cleared
        && f.cleared_at
            .is_some_and(|c| now - c <= Duration::days(rules.watch_days))
}

/// Whether this user may see this fire.
pub fn visible(actor: &Actor, f: &FireRecord, now: DateTime<Utc>, rules: &Rules) -> bool {
    fire_in_scope(
        &fire_scope(actor),
        f.status,
        &f.responsible.district_code,
        f.responsible.holder(),
        watched(f, now, rules),
    )
}

/// The start of the re-ignition watch window, as stored text: cleared fires since then are
/// still watched (and still open for patrols).
pub fn watch_since(now: DateTime<Utc>, rules: &Rules) -> String {
    ts(now - Duration::days(rules.watch_days))
}

/// What a report produced.
pub struct Reported {
    pub fire: FireRecord,
    /// False when the same id and content had already been received (a retry).
    pub created: bool,
    pub nearby_open: Vec<Nearby>,
    /// Cleared fires on the re-ignition watch within the radius.
    pub nearby_cleared: Vec<Nearby>,
}

/// The open and the watched fires near a report, among those the reporter may see.
fn near(
    tx: &dyn Tx,
    actor: &Actor,
    p: Point<f64>,
    skip: &str,
    now: DateTime<Utc>,
    rules: &Rules,
) -> Result<(Vec<Nearby>, Vec<Nearby>)> {
    let [open, cleared] = store::nearby(tx.fires(), p, rules.duplicate_radius_m, |f| {
        if f.id == skip || !visible(actor, f, now, rules) {
            None
        } else if f.status.is_open() {
            Some(0)
        } else {
            watched(f, now, rules).then_some(1)
        }
    })?;
    Ok((open, cleared))
}

/// Reports a new fire from a GeoJSON Feature. A client-made `id` makes retries harmless: the same
/// id and content returns the first record; the same id with other content is a conflict.
pub fn report(
    tx: &dyn Tx,
    ctx: &Ctx,
    actor: &Actor,
    body: &Value,
    now: DateTime<Utc>,
) -> Result<Reported> {
    if !fire::REPORTERS.contains(&actor.role) {
        return Err(case::forbidden_to("forbidden_action", actor, "report"));
    }
    let layer = ctx.registry.lookup("fire_points")?;
    let intake = case::intake(body, layer, "id")?;
    let point = intake.point;
    // A retry is recognised before its time is judged: a resend days later gets the first record.
    if let Some(id) = &intake.client_id
        && let Some(existing) = tx.fires().get(id)?
    {
        // Only the reporter's own resend is a retry: nobody else learns a fire by its id.
        intake.is_retry_of(
            existing.request_hash.as_deref(),
            existing.reported_by == actor.username,
        )?;
        let (nearby_open, nearby_cleared) = near(tx, actor, point, &existing.id, now, ctx.rules)?;
        return Ok(Reported {
            fire: existing,
            created: false,
            nearby_open,
            nearby_cleared,
        });
    }
    let kind: FireKind = intake.kind()?;
    let at = intake.seen_at(now, &ctx.rules.observed)?;
    let responsible = intake.route(ctx.index)?;
    // A district officer reports in its own district only: it could not see the fire otherwise.
    if actor.role == Role::District
        && actor.district.as_deref() != Some(responsible.district_code.as_str())
    {
        let name = |code: &str| {
            ctx.index
                .district_by_code(code)
                .map_or_else(|| code.to_string(), |d| format!("{} ({code})", d.name))
        };
        return Err(Error::new(Kind::Forbidden, "report_outside_district")
            .arg("district", name(&responsible.district_code))
            .arg("own", name(actor.district.as_deref().unwrap_or_default())));
    }
    let id = intake.id_or_new();
    let year = deadline::local_date(at).year();
    let code = tx.fires().next_code(&ctx.rules.code_prefix, year)?;
    // The deadline runs from when the fire was seen, not from when the tablet found a signal.
    let due = deadline::initial(kind, at, &ctx.rules.deadlines);
    let signs = intake
        .values
        .get("signs")
        .cloned()
        .unwrap_or(Value::Array(vec![]));
    tx.fires().insert(&NewFire {
        id: &id,
        code: &code,
        kind,
        point,
        reported_at: at,
        received_at: now,
        reported_by: &actor.username,
        deadline: due,
        temp_c: intake.number("temp_c"),
        area_m2: intake.number("area_m2"),
        signs: &signs,
        note: intake.text("note").as_deref(),
        accuracy_m: intake.number("accuracy_m"),
        position_source: Some(intake.position_source.as_str()),
        responsible: &responsible,
        request_hash: &intake.hash,
    })?;
    tx.fires().append_event(&EventRecord {
        fire: id.clone(),
        step: Step {
            to: Status::Reported.as_str().into(),
            note: intake.text("note"),
            ..Step::by(actor, "report", at, now)
        },
        temp_c: intake.number("temp_c"),
        responsible: serde_json::to_value(&responsible).ok(),
        deadline: Some(ts(due)),
        ..Default::default()
    })?;
    let fire = tx
        .fires()
        .get(&id)?
        .ok_or_else(|| Error::not_found("fire"))?;
    crate::service::events::fire_reported(tx, &fire)?;
    let (nearby_open, nearby_cleared) = near(tx, actor, point, &id, now, ctx.rules)?;
    Ok(Reported {
        fire,
        created: true,
        nearby_open,
        nearby_cleared,
    })
}

/// An action as sent: `POST /api/fires/{id}/events`.
#[derive(Debug, Clone, Default, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields)]
pub struct ActionInput {
    pub action: String,
    /// A client-made UUID: a retried submission is applied once.
    pub id: Option<String>,
    pub note: Option<String>,
    pub temp_c: Option<f64>,
    pub co_ppm: Option<f64>,
    pub reason: Option<String>,
    pub duplicate_of: Option<String>,
    /// For reassign: `{"party": "holder", "name": …}` or `{"party": "district", "district_code": …}`.
    pub responsible: Option<Value>,
    pub method: Option<String>,
    /// A seam fire's plan completion date, YYYY-MM-DD.
    pub plan_due: Option<String>,
    /// When it was done or seen in the field (RFC 3339 with offset); the received time if absent.
    /// Left out of the retry hash when absent, so retries from older clients still match.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub observed_at: Option<String>,
}

/// How fires name their refusals.
const KEYS: Keys = Keys {
    not_allowed: "action_not_allowed",
    subject: "fire",
    forbidden: Some("forbidden_action"),
};

/// The party a manager reassigns to, resolved against the known holders and districts.
fn resolve_party(v: &Value, fire: &FireRecord, index: &ResponsibilityIndex) -> Result<Responsible> {
    let party = v.get("party").and_then(Value::as_str).unwrap_or("");
    let name = v.get("name").and_then(Value::as_str).unwrap_or("").trim();
    let unknown = |n: &str| Error::invalid("responsible_unknown").arg("name", n.to_string());
    match party {
        "holder" => {
            if !index.knows_holder(name) {
                return Err(unknown(name));
            }
            // The mine production depends on: a candidate or the current mine of that holder.
            let mine = fire
                .responsible
                .candidates
                .iter()
                .find(|c| c.holder == name && c.licence_no.is_some())
                .and_then(|c| c.licence_no.clone())
                .or_else(|| {
                    fire.responsible
                        .mine
                        .clone()
                        .filter(|m| index.mine(m).is_some_and(|m| m.holder == name))
                });
            Ok(Responsible {
                mine,
                candidates: fire.responsible.candidates.clone(),
                ..Responsible::for_holder(name, &fire.responsible.district_code)
            })
        }
        "district" => {
            let code = v.get("district_code").and_then(Value::as_str).unwrap_or("");
            let d = index
                .district_by_code(code)
                .or_else(|| index.areas().districts.iter().find(|d| d.name == name))
                .ok_or_else(|| unknown(if code.is_empty() { name } else { code }))?;
            Ok(Responsible {
                candidates: fire.responsible.candidates.clone(),
                mine: fire
                    .responsible
                    .mine
                    .clone()
                    .filter(|m| index.mine(m).is_some_and(|m| m.ownerless)),
                ..Responsible::for_district(&d.code, &d.name)
            })
        }
        _ => Err(Error::invalid("field_not_allowed")
            .arg("field", "responsible.party")
            .arg("allowed", "holder, district")),
    }
}

/// Applies an action to a fire the user can see, recording it as an event.
pub fn act(
    tx: &dyn Tx,
    ctx: &Ctx,
    actor: &Actor,
    fire_id: &str,
    input: &ActionInput,
    now: DateTime<Utc>,
) -> Result<FireRecord> {
    let fire = tx
        .fires()
        .get(fire_id)?
        .filter(|f| visible(actor, f, now, ctx.rules))
        .ok_or_else(|| Error::not_found("fire"))?;
    let sent = case::Sent::new(input.id.as_deref(), ("fire", &fire.id), input)?;
    let done = |cid: &str| {
        Ok(tx
            .fires()
            .event_by_client_id(cid)?
            .map(|e| (e.fire, e.step.request_hash)))
    };
    if sent.replayed(&fire.id, done)? {
        return Ok(fire);
    }
    let action: Action = case::action(&input.action, KEYS.subject)?;
    let mut req = Request {
        note: input.note.clone().filter(|n| !n.trim().is_empty()),
        temp_c: input.temp_c,
        co_ppm: input.co_ppm,
        reason: input.reason.clone().filter(|n| !n.trim().is_empty()),
        method: input.method.clone(),
        ..Request::default()
    };
    let state = tx.fires().state(&fire)?;
    // Role and state are checked before the inputs, so a 403 or 409 never depends on them.
    if !fire::may_act(actor, action, &state) {
        return Err(case::refused(
            Refusal::Forbidden,
            actor,
            action,
            &KEYS,
            |e| e,
        ));
    }
    if let Some(plan) = &input.plan_due {
        req.plan_due = Some(
            NaiveDate::parse_from_str(plan, "%Y-%m-%d")
                .map_err(|_| Error::invalid("plan_due_format"))?,
        );
    }
    if action == Action::Dismiss
        && let Some(orig) = input.duplicate_of.as_deref().filter(|s| !s.is_empty())
    {
        let original = tx
            .fires()
            .get(orig)?
            .filter(|o| o.status != Status::Dismissed && visible(actor, o, now, ctx.rules))
            .ok_or_else(|| Error::invalid("duplicate_unknown").arg("id", orig.to_string()))?;
        if original.id == fire.id {
            return Err(Error::invalid("duplicate_self"));
        }
        req.duplicate_of = Some(original.id);
    }
    if action == Action::Reassign
        && let Some(v) = &input.responsible
    {
        req.responsible = Some(resolve_party(v, &fire, ctx.index)?);
    }
    // When it happened in the field: never before the fire was reported, and normally not before
    // the fire's latest event — the log is replayed in time order for "as of" counts, so an
    // action that moves the fire must come after what it follows. A reading or a progress note
    // observed earlier (queued offline while others acted) is placed at its time in the history
    // with the status the fire had then, and changes nothing in the past (see `late` below).
    let window = &ctx.rules.observed;
    let reported = After {
        at: fire.reported_at,
        what: "observed.after_report",
    };
    let at = observed_time(
        input.observed_at.as_deref(),
        "observed_at",
        now,
        window,
        Some(reported),
    )?;
    let last = tx
        .fires()
        .last_event_at(&fire.id)?
        .unwrap_or(fire.reported_at);
    let late = at < last;
    if late && !matches!(action, Action::Inspect | Action::Progress) {
        let after = After {
            at: last,
            what: "observed.after_last_event",
        };
        observed_time(
            input.observed_at.as_deref(),
            "observed_at",
            now,
            window,
            Some(after),
        )?;
    }
    // Judged against the current state (a state transition must be valid now), at the time seen.
    let outcome = fire::decide(actor, action, &state, &req, at, ctx.rules).map_err(|r| {
        case::refused(r, actor, action, &KEYS, |e| {
            e.arg("threshold", ctx.rules.threshold_c.to_string())
                .arg("allowed", fire::METHODS.join(", "))
        })
    })?;
    // A late observation records the status the fire had when it was made; it re-opens the fire
    // only if the fire was then, and still is, in a state a hot reading re-opens — and then from
    // now (a system event), because the events since were decided without it and are never
    // rewritten. Its deadline still runs from the reading.
    let (from, to) = if late {
        let then = tx.fires().status_at(&fire.id, at)?.unwrap_or(state.status);
        (then, then)
    } else {
        (outcome.from, outcome.to)
    };
    let reignites_late = late
        && outcome.reignited
        && matches!(
            from,
            Status::Controlled | Status::Extinguished | Status::Cleared
        );
    let event = EventRecord {
        fire: fire.id.clone(),
        step: Step {
            client_id: sent.client_id,
            from: Some(from.as_str().into()),
            to: to.as_str().into(),
            note: req.note.clone(),
            request_hash: Some(sent.hash),
            ..Step::by(actor, action.as_str(), at, now)
        },
        temp_c: req.temp_c,
        co_ppm: req.co_ppm,
        reason: req.reason.clone(),
        duplicate_of: req.duplicate_of.clone(),
        method: (action == Action::StartTreatment)
            .then(|| req.method.clone())
            .flatten(),
        plan_due: req.plan_due.map(|d| d.to_string()),
        responsible: req
            .responsible
            .as_ref()
            .and_then(|r| serde_json::to_value(r).ok()),
        deadline: if late { None } else { outcome.deadline.map(ts) },
        reignited: !late && outcome.reignited,
    };
    let event_id = tx.fires().append_event(&event)?;
    let mut reignition = None;
    if !late {
        tx.fires().update_state(
            &fire,
            &StateChange {
                to: outcome.to,
                at,
                deadline: outcome.deadline,
                temp_c: req.temp_c,
                reignited: outcome.reignited,
            },
        )?;
    } else if reignites_late {
        let e = EventRecord {
            fire: fire.id.clone(),
            step: Step {
                received_at: Some(ts(now)),
                from: Some(state.status.as_str().into()),
                to: Status::Reignited.as_str().into(),
                note: Some(format!(
                    "{} °C observed at {}, received {}",
                    req.temp_c.unwrap_or_default(),
                    ts(at),
                    ts(now)
                )),
                ..Step::system(Action::Inspect.as_str(), now)
            },
            deadline: outcome.deadline.map(ts),
            reignited: true,
            ..Default::default()
        };
        let id = tx.fires().append_event(&e)?;
        tx.fires().update_state(
            &fire,
            &StateChange {
                to: Status::Reignited,
                at: now,
                deadline: outcome.deadline,
                temp_c: req.temp_c,
                reignited: true,
            },
        )?;
        reignition = Some((id, e));
    } else {
        tx.fires().raise_max_temp(&fire.id, req.temp_c)?;
    }
    if let Some(r) = &req.responsible {
        tx.fires().update_responsible(&fire.id, r, at)?;
    }
    if action == Action::Inspect {
        tx.fires().insert_inspection(&NewInspection {
            fire: &fire,
            at,
            received_at: now,
            by: &actor.username,
            temp_c: req.temp_c,
            co_ppm: req.co_ppm,
            status_seen: to,
            note: req.note.as_deref(),
        })?;
        sweep_one(tx, &fire.id, now, ctx.rules)?;
    }
    let after = tx
        .fires()
        .get(&fire.id)?
        .ok_or_else(|| Error::not_found("fire"))?;
    crate::service::events::fire_acted(tx, event_id, &event, &after)?;
    if let Some((id, e)) = reignition {
        crate::service::events::fire_acted(tx, id, &e, &after)?;
    }
    Ok(after)
}

/// Moves one controlled fire to extinguished if it has met the standard, dated the moment it
/// met it (the end of the observation period, or the reading that completed it).
fn sweep_one(tx: &dyn Tx, fire_id: &str, now: DateTime<Utc>, rules: &Rules) -> Result<bool> {
    let Some(fire) = tx.fires().get(fire_id)? else {
        return Ok(false);
    };
    let state = tx.fires().state(&fire)?;
    if !fire::ready_to_extinguish(&state, now, rules) {
        return Ok(false);
    }
    let period_end = state
        .controlled_at
        .map_or(now, |c| c + Duration::days(rules.observation_days));
    let nth = state
        .readings_since_control
        .get(rules.min_inspections.saturating_sub(1))
        .map_or(now, |r| r.0);
    // Never before the fire's last event: the log stays in time order.
    let at = period_end.max(nth).max(fire.updated_at).min(now);
    tx.fires().append_event(&EventRecord {
        fire: fire.id.clone(),
        step: Step {
            from: Some(Status::Controlled.as_str().into()),
            to: Status::Extinguished.as_str().into(),
            note: Some(format!(
                "{} readings below {} °C over {} days",
                state.readings_since_control.len(),
                rules.threshold_c,
                rules.observation_days
            )),
            ..Step::system(Action::Extinguish.as_str(), at)
        },
        ..Default::default()
    })?;
    tx.fires().update_state(
        &fire,
        &StateChange {
            to: Status::Extinguished,
            at,
            deadline: None,
            temp_c: None,
            reignited: false,
        },
    )?;
    Ok(true)
}

/// Extinguishes every controlled fire that has met the standard by `now`; returns how many.
pub fn sweep(tx: &dyn Tx, now: DateTime<Utc>, rules: &Rules) -> Result<usize> {
    let mut n = 0;
    for f in tx
        .fires()
        .list(&FireFilter::statuses([Status::Controlled]))?
    {
        n += usize::from(sweep_one(tx, &f.id, now, rules)?);
    }
    Ok(n)
}

/// The fire as a GeoJSON Feature for this user: `responsible` as one object, the actions this
/// user may take now, and (for owners) no reporter's name — the party reported on does not
/// learn who reported it.
pub fn feature(
    f: &FireRecord,
    actor: &Actor,
    now: DateTime<Utc>,
    rules: &Rules,
    state: Option<&fire::FireState>,
) -> Value {
    let hide_reporter = !actor.sees_authority_names();
    let allowed: Vec<Action> = state
        .map(|s| fire::allowed_actions(actor, s, now))
        .unwrap_or_default();
    let overdue = f.status.is_burning() && f.deadline.is_some_and(|d| d < now);
    json!({
        "type": "Feature",
        "id": f.id,
        "geometry": {"type": "Point", "coordinates": [f.lon, f.lat]},
        "properties": {
            "id": f.id,
            "code": f.code,
            "kind": f.kind,
            "status": f.status,
            "burning": f.status.is_burning(),
            "deadline": f.deadline.map(ts),
            "overdue": overdue,
            "reported_at": ts(f.reported_at),
            // The report's observed time (= reported_at) and when the server received it.
            "observed_at": ts(f.reported_at),
            "received_at": ts(f.received_at.unwrap_or(f.reported_at)),
            "reported_by": if hide_reporter { Value::Null } else { Value::from(f.reported_by.clone()) },
            "temp_c": f.temp_c,
            "max_temp_c": f.max_temp_c,
            "area_m2": f.area_m2,
            "signs": f.signs,
            "note": f.note,
            "accuracy_m": f.accuracy_m,
            "position_source": f.position_source,
            "responsible": f.responsible,
            "reignitions": f.reignitions,
            "controlled_at": f.controlled_at.map(ts),
            "cleared_at": f.cleared_at.map(ts),
            "watched": watched(f, now, rules),
            "updated_at": ts(f.updated_at),
            "allowed_actions": allowed,
        }
    })
}

/// A fire's events as this user may see them (owners do not see patrol names).
pub fn events_for(events: Vec<EventRecord>, actor: &Actor) -> Vec<EventRecord> {
    case::as_seen_by(events, actor, |e| (e.step.role.as_str(), &mut e.step.actor))
}

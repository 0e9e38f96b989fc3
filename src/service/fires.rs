//! Reporting a fire and acting on it: the life of a fire, with its events and inspections.

use chrono::{DateTime, Datelike, Duration, NaiveDate, Utc};
use geo::Point;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::domain::access::{fire_in_scope, fire_scope};
use crate::domain::deadline;
use crate::domain::fire::{self, Action, FireKind, Refusal, Request, Rules, Status};
use crate::domain::observed;
use crate::domain::responsibility::{ResponsibilityIndex, Responsible};
use crate::domain::role::{Actor, Role};
use crate::error::{Error, Kind, Result};
use crate::layers::{Registry, Source};
use crate::store::fires::{
    self as store, EventRecord, FireRecord, Nearby, NewFire, NewInspection, ts,
};

/// GPS fixes worse than this are refused unless the point was placed on the map (ODK's default).
pub const MAX_GPS_ACCURACY_M: f64 = 100.0;

/// What a use case needs besides the database.
pub struct Ctx<'a> {
    pub registry: &'a Registry,
    pub index: &'a ResponsibilityIndex,
    pub rules: &'a Rules,
}

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

/// The start of the watch window, for SQL scopes.
pub fn watch_since(now: DateTime<Utc>, rules: &Rules) -> String {
    ts(now - Duration::days(rules.watch_days))
}

/// SHA-256 of canonical JSON (serde_json sorts object keys), to tell a retry from a new request.
pub fn content_hash(v: &Value) -> String {
    Sha256::digest(v.to_string().as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn check_uuid(s: &str, field: &'static str) -> Result<String> {
    uuid::Uuid::parse_str(s)
        .map(|u| u.hyphenated().to_string())
        .map_err(|_| Error::invalid("invalid_uuid").arg("field", field))
}

/// A point from a GeoJSON Feature body, checked: a Point, finite, lon/lat in range.
pub fn parse_point_feature(body: &Value) -> Result<(Point<f64>, Map<String, Value>)> {
    let feature: geojson::Feature = serde_json::from_value(body.clone())
        .map_err(|e| Error::invalid("not_a_feature").arg("detail", e.to_string()))?;
    let geometry = feature
        .geometry
        .ok_or_else(|| Error::invalid("missing_geometry"))?;
    let p = match &geometry.value {
        geojson::GeometryValue::Point { coordinates } => {
            let c = coordinates.as_slice();
            Point::new(
                c.first().copied().unwrap_or(f64::NAN),
                c.get(1).copied().unwrap_or(f64::NAN),
            )
        }
        other => {
            return Err(Error::invalid("wrong_geometry")
                .arg("expected", "Point")
                .arg("got", other.type_name()));
        }
    };
    check_lon_lat(p)?;
    Ok((p, feature.properties.unwrap_or_default()))
}

pub fn check_lon_lat(p: Point<f64>) -> Result<()> {
    if !p.x().is_finite()
        || !p.y().is_finite()
        || !(-180.0..=180.0).contains(&p.x())
        || !(-90.0..=90.0).contains(&p.y())
    {
        return Err(Error::invalid("coords_out_of_range")
            .arg("x", p.x().to_string())
            .arg("y", p.y().to_string()));
    }
    Ok(())
}

/// What a field observation must not precede, for the message that refuses it.
#[derive(Debug, Clone, Copy)]
pub struct After {
    pub at: DateTime<Utc>,
    /// A message key naming it: `observed_after_report`, `observed_after_last_event`, …
    pub what: &'static str,
}

fn local_ts(t: DateTime<Utc>) -> String {
    t.with_timezone(&deadline::local_offset())
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
}

/// Reads an `observed_at` as sent: absent or null → None; not RFC 3339 with an offset → 422.
pub fn observed_input(raw: Option<&Value>, field: &'static str) -> Result<Option<String>> {
    match raw {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if observed::parse(s).is_some() => Ok(Some(s.trim().to_string())),
        Some(v) => Err(Error::invalid("observed_format").arg("field", field).arg(
            "value",
            v.as_str().map_or_else(|| v.to_string(), String::from),
        )),
    }
}

/// The time a field observation counts from (`domain::observed`): its `observed_at` when sent and
/// plausible, the received time `now` when absent. Refused with a 422 naming the field and the
/// range accepted (in local time), so the patrol knows what was wrong with the tablet's clock.
pub fn observed_time(
    raw: Option<&str>,
    field: &'static str,
    now: DateTime<Utc>,
    window: &observed::Window,
    after: Option<After>,
) -> Result<DateTime<Utc>> {
    observed::decide(raw, now, window, after.map(|a| a.at)).map_err(|r| match r {
        observed::Refusal::Format => Error::invalid("observed_format")
            .arg("field", field)
            .arg("value", raw.unwrap_or_default().to_string()),
        observed::Refusal::OutOfRange {
            earliest,
            latest,
            after_record,
        } => {
            let key = if after_record {
                "observed_before_record"
            } else {
                "observed_out_of_range"
            };
            let mut e = Error::invalid(key)
                .arg("field", field)
                .arg("value", raw.unwrap_or_default().to_string())
                .arg("from", local_ts(earliest))
                .arg("to", local_ts(latest))
                .arg("days", window.max_age_days.to_string())
                .arg("skew", window.max_skew_minutes.to_string());
            if let Some(a) = after.filter(|_| after_record) {
                e = e.arg("what", format!("@{}", a.what));
            }
            e.detail(json!({
                "field": field,
                "value": raw,
                "earliest": ts(earliest),
                "latest": ts(latest),
            }))
        }
    })
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
    tx: &rusqlite::Connection,
    actor: &Actor,
    p: Point<f64>,
    skip: &str,
    now: DateTime<Utc>,
    rules: &Rules,
) -> Result<(Vec<Nearby>, Vec<Nearby>)> {
    let seen = |f: &FireRecord| f.id != skip && visible(actor, f, now, rules);
    let open = store::nearby(tx, p, rules.duplicate_radius_m, |f| {
        seen(f) && f.status.is_open()
    })?;
    let cleared = store::nearby(tx, p, rules.duplicate_radius_m, |f| {
        seen(f) && watched(f, now, rules)
    })?;
    Ok((open, cleared))
}

/// Reports a new fire from a GeoJSON Feature. A client-made `id` makes retries harmless: the same
/// id and content returns the first record; the same id with other content is a conflict.
pub fn report(
    tx: &rusqlite::Connection,
    ctx: &Ctx,
    actor: &Actor,
    body: &Value,
    now: DateTime<Utc>,
) -> Result<Reported> {
    if !fire::REPORTERS.contains(&actor.role) {
        return Err(Error::new(Kind::Forbidden, "forbidden_action")
            .arg("role", format!("@role.{}", actor.role.as_str()))
            .arg("action", "report"));
    }
    let (point, mut props) = parse_point_feature(body)?;
    let client_id = match props.remove("id") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(check_uuid(&s, "id")?),
        Some(_) => return Err(Error::invalid("invalid_uuid").arg("field", "id")),
    };
    // When the patrol saw it (queued offline, sent later); not a stored field of its own: it
    // becomes `reported_at`, beside `received_at`.
    let observed_at = observed_input(props.remove("observed_at").as_ref(), "observed_at")?;
    let layer = ctx
        .registry
        .get("fire_points")
        .ok_or_else(|| Error::not_found("layer"))?;
    let values = layer
        .validate(&props, Source::Input)
        .map_err(Error::fields)?;
    let num = |k: &str| values.get(k).and_then(Value::as_f64);
    let text = |k: &str| values.get(k).and_then(Value::as_str).map(String::from);
    let source = text("position_source").unwrap_or_else(|| "gps".into());
    if let Some(acc) = num("accuracy_m")
        && source == "gps"
        && acc > MAX_GPS_ACCURACY_M
    {
        return Err(Error::invalid("accuracy_too_poor")
            .arg("accuracy", acc.to_string())
            .arg("limit", MAX_GPS_ACCURACY_M.to_string()));
    }
    let mut hashed = json!({"point": [point.x(), point.y()], "properties": values});
    // Only when sent, so a retry of a report made before observed_at existed still matches.
    if let Some(o) = observed_at.as_deref().and_then(observed::parse) {
        hashed["observed_at"] = json!(ts(o));
    }
    let hash = content_hash(&hashed);
    // A retry is recognised before its time is judged: a resend days later gets the first record.
    if let Some(id) = &client_id
        && let Some(existing) = store::get(tx, id)?
    {
        // Only the reporter's own resend is a retry: nobody else learns a fire by its id.
        if existing.request_hash.as_deref() != Some(hash.as_str())
            || existing.reported_by != actor.username
        {
            return Err(Error::new(Kind::Conflict, "idempotency_conflict").arg("id", id.clone()));
        }
        let (nearby_open, nearby_cleared) = near(tx, actor, point, &existing.id, now, ctx.rules)?;
        return Ok(Reported {
            fire: existing,
            created: false,
            nearby_open,
            nearby_cleared,
        });
    }
    let kind = text("kind")
        .and_then(|k| FireKind::parse(&k))
        .ok_or_else(|| Error::invalid("field_missing").arg("field", "kind"))?;
    let at = observed_time(
        observed_at.as_deref(),
        "observed_at",
        now,
        &ctx.rules.observed,
        None,
    )?;
    let responsible = ctx
        .index
        .assign(point)
        .map_err(|_| Error::invalid("outside_managed_area"))?;
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
    let id = client_id.unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    let year = deadline::local_date(at).year();
    let code = store::next_code(tx, &ctx.rules.code_prefix, year)?;
    // The deadline runs from when the fire was seen, not from when the tablet found a signal.
    let due = deadline::initial(kind, at, &ctx.rules.deadlines);
    let signs = values.get("signs").cloned().unwrap_or(Value::Array(vec![]));
    store::insert(
        tx,
        &NewFire {
            id: &id,
            code: &code,
            kind,
            point,
            reported_at: at,
            received_at: now,
            reported_by: &actor.username,
            deadline: due,
            temp_c: num("temp_c"),
            area_m2: num("area_m2"),
            signs: &signs,
            note: text("note").as_deref(),
            accuracy_m: num("accuracy_m"),
            position_source: Some(source.as_str()),
            responsible: &responsible,
            request_hash: &hash,
        },
    )?;
    store::append_event(
        tx,
        &EventRecord {
            fire: id.clone(),
            at: ts(at),
            received_at: Some(ts(now)),
            actor: actor.username.clone(),
            role: actor.role.as_str().into(),
            action: "report".into(),
            from: None,
            to: Status::Reported.as_str().into(),
            temp_c: num("temp_c"),
            note: text("note"),
            responsible: serde_json::to_value(&responsible).ok(),
            deadline: Some(ts(due)),
            ..Default::default()
        },
    )?;
    let fire = store::get(tx, &id)?.ok_or_else(|| Error::not_found("fire"))?;
    crate::service::webhooks::fire_reported(tx, &fire)?;
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

fn action_names(actions: &[Action]) -> String {
    let names: Vec<&str> = actions.iter().map(|a| a.as_str()).collect();
    crate::error::action_labels("fire", &names)
}

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
    tx: &rusqlite::Connection,
    ctx: &Ctx,
    actor: &Actor,
    fire_id: &str,
    input: &ActionInput,
    now: DateTime<Utc>,
) -> Result<FireRecord> {
    let fire = store::get(tx, fire_id)?
        .filter(|f| visible(actor, f, now, ctx.rules))
        .ok_or_else(|| Error::not_found("fire"))?;
    let client_id = input
        .id
        .as_deref()
        .map(|s| check_uuid(s, "id"))
        .transpose()?;
    let hash = content_hash(&json!({"fire": fire.id, "input": input}));
    if let Some(cid) = &client_id
        && let Some(done) = store::event_by_client_id(tx, cid)?
    {
        if done.request_hash.as_deref() != Some(hash.as_str()) {
            return Err(Error::new(Kind::Conflict, "idempotency_conflict").arg("id", cid.clone()));
        }
        return Ok(fire);
    }
    let action = Action::parse(&input.action).ok_or_else(|| {
        Error::invalid("unknown_action")
            .arg("action", input.action.clone())
            .arg("allowed", action_names(&Action::ALL))
    })?;
    let mut req = Request {
        note: input.note.clone().filter(|n| !n.trim().is_empty()),
        temp_c: input.temp_c,
        co_ppm: input.co_ppm,
        reason: input.reason.clone().filter(|n| !n.trim().is_empty()),
        method: input.method.clone(),
        ..Request::default()
    };
    let state = store::state(tx, &fire)?;
    // Role and state are checked before the inputs, so a 403 or 409 never depends on them.
    if !fire::may_act(actor, action, &state) {
        return Err(Error::new(Kind::Forbidden, "forbidden_action")
            .arg("role", format!("@role.{}", actor.role.as_str()))
            .arg("action", format!("@fire.action.{}", action.as_str())));
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
        let original = store::get(tx, orig)?
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
    let last = store::last_event_at(tx, &fire.id)?.unwrap_or(fire.reported_at);
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
    let outcome =
        fire::decide(actor, action, &state, &req, at, ctx.rules).map_err(|r| match r {
            Refusal::Forbidden => Error::forbidden(),
            Refusal::NotAllowed { status, allowed } => Error::not_allowed(
                "action_not_allowed",
                "fire",
                status.as_str(),
                action.as_str(),
                &allowed.iter().map(|a| a.as_str()).collect::<Vec<_>>(),
                json!({"status": status, "allowed": allowed}),
            ),
            Refusal::Invalid { field, problem } => Error::invalid(problem)
                .arg("field", field)
                .arg("threshold", ctx.rules.threshold_c.to_string())
                .arg("allowed", fire::METHODS.join(", ")),
        })?;
    // A late observation records the status the fire had when it was made; it re-opens the fire
    // only if the fire was then, and still is, in a state a hot reading re-opens — and then from
    // now (a system event), because the events since were decided without it and are never
    // rewritten. Its deadline still runs from the reading.
    let (from, to) = if late {
        let then = store::status_at(tx, &fire.id, at)?.unwrap_or(state.status);
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
        client_id,
        at: ts(at),
        received_at: Some(ts(now)),
        actor: actor.username.clone(),
        role: actor.role.as_str().into(),
        action: action.as_str().into(),
        from: Some(from.as_str().into()),
        to: to.as_str().into(),
        note: req.note.clone(),
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
        request_hash: Some(hash),
        ..Default::default()
    };
    let event_id = store::append_event(tx, &event)?;
    let mut reignition = None;
    if !late {
        store::update_state(
            tx,
            &fire,
            outcome.to,
            at,
            outcome.deadline,
            req.temp_c,
            outcome.reignited,
        )?;
    } else if reignites_late {
        let system = Actor::system();
        let e = EventRecord {
            fire: fire.id.clone(),
            at: ts(now),
            received_at: Some(ts(now)),
            actor: system.username.clone(),
            role: "system".into(),
            action: Action::Inspect.as_str().into(),
            from: Some(state.status.as_str().into()),
            to: Status::Reignited.as_str().into(),
            note: Some(format!(
                "{} °C observed at {}, received {}",
                req.temp_c.unwrap_or_default(),
                ts(at),
                ts(now)
            )),
            deadline: outcome.deadline.map(ts),
            reignited: true,
            ..Default::default()
        };
        let id = store::append_event(tx, &e)?;
        store::update_state(
            tx,
            &fire,
            Status::Reignited,
            now,
            outcome.deadline,
            req.temp_c,
            true,
        )?;
        reignition = Some((id, e));
    } else {
        store::raise_max_temp(tx, &fire.id, req.temp_c)?;
    }
    if let Some(r) = &req.responsible {
        store::update_responsible(tx, &fire.id, r, at)?;
    }
    if action == Action::Inspect {
        store::insert_inspection(
            tx,
            &NewInspection {
                fire: &fire,
                at,
                received_at: now,
                by: &actor.username,
                temp_c: req.temp_c,
                co_ppm: req.co_ppm,
                status_seen: to,
                note: req.note.as_deref(),
            },
        )?;
        sweep_one(tx, &fire.id, now, ctx.rules)?;
    }
    let after = store::get(tx, &fire.id)?.ok_or_else(|| Error::not_found("fire"))?;
    crate::service::webhooks::fire_acted(tx, event_id, &event, &after)?;
    if let Some((id, e)) = reignition {
        crate::service::webhooks::fire_acted(tx, id, &e, &after)?;
    }
    Ok(after)
}

/// Moves one controlled fire to extinguished if it has met the standard, dated the moment it
/// met it (the end of the observation period, or the reading that completed it).
fn sweep_one(
    tx: &rusqlite::Connection,
    fire_id: &str,
    now: DateTime<Utc>,
    rules: &Rules,
) -> Result<bool> {
    let Some(fire) = store::get(tx, fire_id)? else {
        return Ok(false);
    };
    let state = store::state(tx, &fire)?;
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
    let system = Actor::system();
    store::append_event(
        tx,
        &EventRecord {
            fire: fire.id.clone(),
            at: ts(at),
            actor: system.username.clone(),
            role: "system".into(),
            action: Action::Extinguish.as_str().into(),
            from: Some(Status::Controlled.as_str().into()),
            to: Status::Extinguished.as_str().into(),
            note: Some(format!(
                "{} readings below {} °C over {} days",
                state.readings_since_control.len(),
                rules.threshold_c,
                rules.observation_days
            )),
            ..Default::default()
        },
    )?;
    store::update_state(tx, &fire, Status::Extinguished, at, None, None, false)?;
    Ok(true)
}

/// Extinguishes every controlled fire that has met the standard by `now`; returns how many.
pub fn sweep(tx: &rusqlite::Connection, now: DateTime<Utc>, rules: &Rules) -> Result<usize> {
    let mut n = 0;
    for f in store::controlled(tx)? {
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
        .map(|s| fire::allowed_actions(actor, s))
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

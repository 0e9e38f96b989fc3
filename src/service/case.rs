//! The steps every case's use cases share — a fire, a dust violation, a dust alert: reading a
//! field report of a point (client id, observed time, fields, GPS accuracy, the hash that tells a
//! retry from a new report), recognising a retried action, naming an action, and turning a
//! refusal of the rules into the answer a person can act on. Each kind's own module keeps what
//! is its own (a fire's readings and re-ignitions, a violation's notes, an alert's evidence).

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use geo::Point;
use serde_json::{Map, Value, json};
use sha2::{Digest, Sha256};

use crate::domain::case::{Named, Refusal};
use crate::domain::responsibility::{ResponsibilityIndex, Responsible};
use crate::domain::role::Actor;
use crate::domain::{deadline, observed};
use crate::error::{Error, Kind, Result};
use crate::layers::{Layer, Registry, Source};
use crate::store::fires::ts;

/// What a case's use cases need besides the database: the layers, who answers where, and the
/// rules of the case's kind (a fire's, a dust violation's).
pub struct Ctx<'a, R> {
    pub registry: &'a Registry,
    pub index: &'a ResponsibilityIndex,
    pub rules: &'a R,
}

/// GPS fixes worse than this are refused unless the point was placed on the map (ODK's default).
pub const MAX_GPS_ACCURACY_M: f64 = 100.0;

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

/// SHA-256 of canonical JSON (serde_json sorts object keys), to tell a retry from a new request.
pub fn content_hash(v: &Value) -> String {
    hex::encode(Sha256::digest(v.to_string().as_bytes()))
}

/// A client-made id (UUID) as sent in `field`: absent or null → none; anything else must be a
/// UUID (422), and is kept in its hyphenated form.
pub fn client_id(raw: Option<&Value>, field: &'static str) -> Result<Option<String>> {
    let bad = || Error::invalid("invalid_uuid").arg("field", field);
    match raw {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => uuid::Uuid::parse_str(s)
            .map(|u| Some(u.hyphenated().to_string()))
            .map_err(|_| bad()),
        Some(_) => Err(bad()),
    }
}

/// A field report of a point case, read and checked but not yet judged against the store.
pub struct Intake {
    pub point: Point<f64>,
    /// The client-made id, if sent: a resend with it is a retry.
    pub client_id: Option<String>,
    /// When it was seen in the field, as sent (judged by [`Intake::seen_at`]).
    pub observed_at: Option<String>,
    /// The layer's fields, validated.
    pub values: BTreeMap<String, Value>,
    /// `gps` unless the point was placed on the map.
    pub position_source: String,
    /// What a retry must match.
    pub hash: String,
}

/// Reads a GeoJSON Point Feature reporting a case in `layer`: the client id from the property
/// `id_field`, `observed_at`, the layer's fields (422 naming each bad one), a GPS fix no worse
/// than [`MAX_GPS_ACCURACY_M`] (ODK's default) unless the point was placed by hand.
pub fn intake(body: &Value, layer: &Layer, id_field: &'static str) -> Result<Intake> {
    let (point, mut props) = parse_point_feature(body)?;
    let client_id = client_id(props.remove(id_field).as_ref(), id_field)?;
    // When the patrol saw it (queued offline, sent later); not a stored field of its own: it
    // becomes `reported_at`, beside `received_at`.
    let observed_at = observed_input(props.remove("observed_at").as_ref(), "observed_at")?;
    let values = layer
        .validate(&props, Source::Input)
        .map_err(Error::fields)?;
    let position_source = values
        .get("position_source")
        .and_then(Value::as_str)
        .unwrap_or("gps")
        .to_string();
    if let Some(acc) = values.get("accuracy_m").and_then(Value::as_f64)
        && position_source == "gps"
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
    Ok(Intake {
        point,
        client_id,
        observed_at,
        hash: content_hash(&hashed),
        values,
        position_source,
    })
}

impl Intake {
    pub fn text(&self, field: &str) -> Option<String> {
        self.values
            .get(field)
            .and_then(Value::as_str)
            .map(String::from)
    }

    pub fn number(&self, field: &str) -> Option<f64> {
        self.values.get(field).and_then(Value::as_f64)
    }

    /// The new case's id: the client's, so its retries find it, or a fresh UUID when none was
    /// sent.
    pub fn id_or_new(&self) -> String {
        self.client_id
            .clone()
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string())
    }

    /// The case's kind from the `kind` field (the layer already checked it is one of its
    /// values; 422 when it is missing).
    pub fn kind<K: Named>(&self) -> Result<K> {
        self.text("kind")
            .and_then(|k| K::from_name(&k))
            .ok_or_else(|| Error::invalid("field_missing").arg("field", "kind"))
    }

    /// Who answers for the point: a mining right's holder, or the district (422 outside every
    /// district).
    pub fn route(&self, index: &ResponsibilityIndex) -> Result<Responsible> {
        index
            .assign(self.point)
            .map_err(|_| Error::invalid("outside_managed_area"))
    }

    /// When it was seen: the plausible `observed_at`, or `now` when none was sent.
    pub fn seen_at(&self, now: DateTime<Utc>, window: &observed::Window) -> Result<DateTime<Utc>> {
        observed_time(
            self.observed_at.as_deref(),
            "observed_at",
            now,
            window,
            None,
        )
    }

    /// Whether an existing case with this client id is this report sent again (the same content
    /// by the same reporter) — or a conflict (409): nobody learns a case by guessing its id.
    pub fn is_retry_of(&self, stored_hash: Option<&str>, same_reporter: bool) -> Result<()> {
        if stored_hash != Some(self.hash.as_str()) || !same_reporter {
            let id = self.client_id.clone().unwrap_or_default();
            return Err(Error::new(Kind::Conflict, "idempotency_conflict").arg("id", id));
        }
        Ok(())
    }
}

/// An action as sent to a case, recognised: its client-made id (a retried submission is applied
/// once) and the hash a retry must match.
pub struct Sent {
    pub client_id: Option<String>,
    pub hash: String,
}

impl Sent {
    /// `case` names the case in the hash (`{"fire": id, "input": …}`), so one client id can never
    /// stand for actions on two cases.
    pub fn new(
        id: Option<&str>,
        case: (&str, &str),
        input: &impl serde::Serialize,
    ) -> Result<Sent> {
        let client_id = client_id(id.map(|s| Value::String(s.into())).as_ref(), "id")?;
        let mut hashed = serde_json::Map::new();
        hashed.insert(case.0.into(), case.1.into());
        hashed.insert("input".into(), json!(input));
        Ok(Sent {
            client_id,
            hash: content_hash(&Value::Object(hashed)),
        })
    }

    /// Whether it was already applied to case `case_id`: `stored` finds the event recorded under
    /// a client id (its case and hash). The same action again → `true` (answer as before, write
    /// nothing); the id used for something else → 409.
    pub fn replayed(
        &self,
        case_id: &str,
        stored: impl FnOnce(&str) -> crate::store::Result<Option<(String, Option<String>)>>,
    ) -> Result<bool> {
        let Some(cid) = &self.client_id else {
            return Ok(false);
        };
        match stored(cid)? {
            None => Ok(false),
            Some((case, h)) if case == case_id && h.as_deref() == Some(self.hash.as_str()) => {
                Ok(true)
            }
            Some(_) => {
                Err(Error::new(Kind::Conflict, "idempotency_conflict").arg("id", cid.clone()))
            }
        }
    }
}

/// An action's name as sent, parsed (422 naming the actions there are).
pub fn action<A: Named>(sent: &str, subject: &str) -> Result<A> {
    A::from_name(sent).ok_or_else(|| {
        let names: Vec<&str> = A::all().iter().map(|a| a.name()).collect();
        Error::invalid("unknown_action")
            .arg("action", sent.to_string())
            .arg("allowed", crate::error::action_labels(subject, &names))
    })
}

/// How a kind of case names its refusals in the translation files.
pub struct Keys {
    /// The 409 message: `action_not_allowed`, `dust_issue_action_not_allowed`, …
    pub not_allowed: &'static str,
    /// Whose labels its statuses and actions are (`{subject}.action.{name}`): `fire`,
    /// `dust_issue`, `dust_alert`.
    pub subject: &'static str,
    /// Its own 403 message naming role and action, if it has one (else the generic one).
    pub forbidden: Option<&'static str>,
}

/// 403 under `key`, naming the actor's role and `action` (a message key or plain text): one
/// form for a refused report and a refused action, so their messages read alike.
pub fn forbidden_to(key: &'static str, actor: &Actor, action: impl Into<String>) -> Error {
    Error::new(Kind::Forbidden, key)
        .arg("role", format!("@role.{}", actor.role.as_str()))
        .arg("action", action)
}

/// A refusal of the rules as the answer: 403, 409 naming the state and what this actor may do
/// now, or 422 naming the field (`invalid` adds a kind's own message arguments).
pub fn refused<S: Named + serde::Serialize, A: Named + serde::Serialize>(
    r: Refusal<S, A>,
    actor: &Actor,
    action: A,
    keys: &Keys,
    invalid: impl FnOnce(Error) -> Error,
) -> Error {
    match r {
        Refusal::Forbidden => match keys.forbidden {
            Some(key) => forbidden_to(
                key,
                actor,
                format!("@{}.action.{}", keys.subject, action.name()),
            ),
            None => Error::forbidden(),
        },
        Refusal::NotAllowed { status, allowed } => Error::not_allowed(
            keys.not_allowed,
            keys.subject,
            status.name(),
            action.name(),
            &allowed.iter().map(|a| a.name()).collect::<Vec<_>>(),
            json!({"status": status, "allowed": allowed}),
        ),
        Refusal::Invalid { field, problem } => invalid(Error::invalid(problem).arg("field", field)),
    }
}

/// Events as this reader may see them: owners do not learn the names of the patrols, managers
/// and officers who acted (`sees_names_of`); the rest of each event stays.
pub fn as_seen_by<E>(
    events: Vec<E>,
    actor: &Actor,
    who: impl Fn(&mut E) -> (&str, &mut String),
) -> Vec<E> {
    events
        .into_iter()
        .map(|mut e| {
            let (role, name) = who(&mut e);
            if !actor.sees_names_of(role) {
                name.clear();
            }
            e
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::dust_issue::Action;

    #[test]
    fn client_ids_are_uuids_or_nothing() {
        let id = "8F14E45F-CEEA-467F-A0E6-64F2D4C0B5A1";
        assert_eq!(
            client_id(Some(&json!(id)), "id").expect("uuid"),
            Some(id.to_lowercase())
        );
        assert_eq!(client_id(None, "id").expect("none"), None);
        assert_eq!(client_id(Some(&Value::Null), "id").expect("null"), None);
        assert!(client_id(Some(&json!("x")), "uuid").is_err());
        assert!(client_id(Some(&json!(7)), "uuid").is_err());
    }

    #[test]
    fn a_replayed_action_is_recognised_and_a_reused_id_refused() {
        let id = "8f14e45f-ceea-467f-a0e6-64f2d4c0b5a1";
        let sent = Sent::new(Some(id), ("fire", "case"), &json!({"action": "x"})).expect("sent");
        let h = Some(sent.hash.clone());
        assert!(!sent.replayed("case", |_| Ok(None)).expect("new"));
        assert!(
            sent.replayed("case", |_| Ok(Some(("case".into(), h.clone()))))
                .expect("same")
        );
        assert!(
            sent.replayed("case", |_| Ok(Some(("other".into(), h.clone()))))
                .is_err()
        );
        assert!(
            sent.replayed("case", |_| Ok(Some(("case".into(), Some("x".into())))))
                .is_err()
        );
        let anonymous = Sent::new(None, ("fire", "case"), &json!({})).expect("sent");
        assert!(
            !anonymous
                .replayed("case", |_| panic!("not looked up"))
                .expect("no id")
        );
    }

    #[test]
    fn an_unknown_action_names_the_known_ones() {
        assert_eq!(
            action::<Action>("verify", "dust_issue").expect("known"),
            Action::Verify
        );
        let e = action::<Action>("burn", "dust_issue").expect_err("unknown");
        assert!(matches!(e, Error::Problem(p) if p.key == "unknown_action"));
    }
}

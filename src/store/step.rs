//! What every event in a case's life records, a fire's or a dust violation's: who did what and
//! when, and the status it led from and to. Each kind's event adds its own fields beside it.

use chrono::{DateTime, Utc};
use serde::Serialize;

use super::fires::ts;
use crate::domain::role::Actor;

/// One step of a case, as stored. Never updated or deleted (triggers refuse both).
#[derive(Debug, Clone, Serialize, Default)]
pub struct Step {
    pub id: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// When it happened: the observed time for what a person saw or did in the field. History,
    /// "as of" counts and ordering run on it.
    pub at: String,
    /// When the server received it; absent for events stored before it was kept (then = `at`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub received_at: Option<String>,
    pub actor: String,
    pub role: String,
    pub action: String,
    pub from: Option<String>,
    pub to: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// What tells a retried request from a new one under the same client id.
    #[serde(skip)]
    pub request_hash: Option<String>,
}

impl Step {
    /// The step `actor` takes, `action`, done at `at` in the field and received `now`; the
    /// caller adds the statuses and the rest.
    pub fn by(actor: &Actor, action: &str, at: DateTime<Utc>, now: DateTime<Utc>) -> Step {
        Step {
            at: ts(at),
            received_at: Some(ts(now)),
            actor: actor.username.clone(),
            role: actor.role.as_str().into(),
            action: action.into(),
            ..Step::default()
        }
    }

    /// A step the system takes on its own (a reroute, the end of an observation): no person
    /// took it and no request brought it.
    pub fn system(action: &str, at: DateTime<Utc>) -> Step {
        Step {
            at: ts(at),
            actor: "system".into(),
            role: "system".into(),
            action: action.into(),
            ..Step::default()
        }
    }
}

//! What the case routes share (fire points, dust violations): a report, a case shown with its
//! history (its events and photos as this reader may see them) and an action on it, each the
//! same extract → decide → answer for every kind; a [`Kind`] gives only its own steps.

use std::borrow::Cow;

use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::error::ApiError;
use super::extract::{Json, User};
use crate::app::App;
use crate::domain::role::Actor;
use crate::error::{Error, Result};
use crate::service::case::Ctx;
use crate::store::Tx;
use crate::store::photos::Subject;

/// A kind of case as its routes serve it.
pub trait Kind: 'static {
    /// The rules its service decides by.
    type Rules: Clone + 'static;
    /// The body of an action.
    type Action: DeserializeOwned + Send + 'static;
    /// What its photos are kept under.
    const SUBJECT: Subject;
    /// The subject of the 404 for a case this reader may not see.
    const NOT_FOUND: &'static str;

    /// Where its rules come from, inside the write transaction.
    fn in_force<'a>(tx: &dyn Tx, app: &'a App) -> Result<Cow<'a, Self::Rules>>;

    /// A report: whether it made a new case (not a retry), and the case as the reporter sees it.
    fn report(
        tx: &dyn Tx,
        ctx: &Ctx<Self::Rules>,
        actor: &Actor,
        body: &Value,
        now: DateTime<Utc>,
    ) -> Result<(bool, Value)>;

    /// An action: the case after it, as the actor sees it.
    fn act(
        tx: &dyn Tx,
        ctx: &Ctx<Self::Rules>,
        actor: &Actor,
        id: &str,
        input: &Self::Action,
        now: DateTime<Utc>,
    ) -> Result<Value>;

    /// The case `id` names, when this reader may see it: its feature, its events as the reader
    /// may see them, and the id its photos are kept under.
    fn find(
        tx: &dyn Tx,
        app: &App,
        reader: &Actor,
        id: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<(Value, Value, String)>>;
}

/// A report → 201 with the new case, 200 with the first one on a retry.
pub async fn report<K: Kind>(
    State(app): State<App>,
    User(actor): User,
    Json(body): Json<Value>,
) -> std::result::Result<(StatusCode, axum::Json<Value>), ApiError> {
    let now = Utc::now();
    let (created, feature) =
        write::<K, _, _>(&app, move |tx, ctx| K::report(tx, ctx, &actor, &body, now)).await?;
    Ok(reported(created, feature))
}

/// One case (by id or code) with its `events` and `photos`.
pub async fn show<K: Kind>(
    State(app): State<App>,
    User(actor): User,
    Path(id): Path<String>,
) -> std::result::Result<axum::Json<Value>, ApiError> {
    let now = Utc::now();
    let a = app.clone();
    let v = app
        .db
        .read(move |c| {
            let (feature, events, id) =
                K::find(c, &a, &actor, &id, now)?.ok_or_else(|| Error::not_found(K::NOT_FOUND))?;
            with_history(c, feature, events, K::SUBJECT, &id, &actor)
        })
        .await?;
    Ok(axum::Json(v))
}

/// An action → the case after it.
pub async fn act<K: Kind>(
    State(app): State<App>,
    User(actor): User,
    Path(id): Path<String>,
    Json(input): Json<K::Action>,
) -> std::result::Result<axum::Json<Value>, ApiError> {
    let now = Utc::now();
    let v = write::<K, _, _>(&app, move |tx, ctx| {
        K::act(tx, ctx, &actor, &id, &input, now)
    })
    .await?;
    Ok(axum::Json(v))
}

/// Runs `f` in a write transaction with what a case service decides by: the layers, the index
/// of who answers where as it was when the request came (a reload swaps it; one request sees
/// one), and the kind's rules in force.
async fn write<K, T, F>(app: &App, f: F) -> std::result::Result<T, ApiError>
where
    K: Kind,
    T: Send + 'static,
    F: FnOnce(&dyn Tx, &Ctx<K::Rules>) -> Result<T> + Send + 'static,
{
    let (a, index) = (app.clone(), app.index());
    let written = app.db.write(move |tx| {
        let rules = K::in_force(tx, &a)?;
        let ctx = Ctx {
            registry: &a.registry,
            index: &index,
            rules: &*rules,
        };
        f(tx, &ctx)
    });
    Ok(written.await?)
}

/// 201 with the new case, or 200 with the first one when the report was a retry (also a
/// restriction's on-site check, which is recognised on a retry the same way).
pub fn reported(created: bool, feature: Value) -> (StatusCode, axum::Json<Value>) {
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    (status, axum::Json(feature))
}

/// The case's feature with `events` (already as this reader may see them) and `photos`.
pub fn with_history(
    tx: &dyn Tx,
    mut feature: Value,
    events: Value,
    subject: Subject,
    id: &str,
    reader: &Actor,
) -> Result<Value> {
    let photos: Vec<Value> = tx
        .photos()
        .for_subject(subject, id)?
        .iter()
        .map(|p| super::photos::photo_json(p, reader))
        .collect();
    if let Some(p) = feature.get_mut("properties").and_then(Value::as_object_mut) {
        p.insert("events".into(), events);
        p.insert("photos".into(), json!(photos));
    }
    Ok(feature)
}

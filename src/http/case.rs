//! What the case routes share (fire points, dust violations): the answer to a report, and a
//! case shown with its history — its events and photos as this reader may see them.

use std::borrow::Cow;

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::error::ApiError;
use crate::app::App;
use crate::domain::role::Actor;
use crate::error::Result;
use crate::service::case::Ctx;
use crate::store::Tx;
use crate::store::photos::Subject;

/// Where a kind of case finds the rules it decides by, inside the write transaction: the app's
/// (fires, loaded at start) or the stored setting (dust violations, which managers change).
pub type RulesOf<R> = for<'a> fn(&dyn Tx, &'a App) -> Result<Cow<'a, R>>;

/// Runs `f` in a write transaction with what a case service decides by: the layers, the index
/// of who answers where as it was when the request came (a reload swaps it; one request sees
/// one), and the rules `rules` finds.
pub async fn write<R, T, F>(app: &App, rules: RulesOf<R>, f: F) -> std::result::Result<T, ApiError>
where
    R: Clone + 'static,
    T: Send + 'static,
    F: FnOnce(&dyn Tx, &Ctx<R>) -> Result<T> + Send + 'static,
{
    let (a, index) = (app.clone(), app.index());
    let written = app.db.write(move |tx| {
        let rules = rules(tx, &a)?;
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

//! What the case routes share (fire points, dust violations): the answer to a report, and a
//! case shown with its history — its events and photos as this reader may see them.

use axum::http::StatusCode;
use serde_json::{Value, json};

use super::error::ApiError;
use crate::app::App;
use crate::domain::responsibility::ResponsibilityIndex;
use crate::domain::role::Actor;
use crate::error::Result;
use crate::store::Tx;
use crate::store::photos::Subject;

/// Runs `f` in a write transaction with the app and the index of who answers where as it was
/// when the request came (a reload swaps it; one request sees one), from which a case service
/// makes its context.
pub async fn write<T, F>(app: &App, f: F) -> std::result::Result<T, ApiError>
where
    T: Send + 'static,
    F: FnOnce(&dyn Tx, &App, &ResponsibilityIndex) -> Result<T> + Send + 'static,
{
    let (a, index) = (app.clone(), app.index());
    Ok(app.db.write(move |tx| f(tx, &a, &index)).await?)
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

//! `GET /api/notifications` (with the unread count) and `POST /api/notifications/read`.

use crate::http::routes::Routes;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::Value;

use super::error::ApiError;
use super::extract::User;
use crate::app::App;
use crate::error::Error;
use crate::service::notifications;

pub fn router() -> Routes {
    Routes::new()
        .get("/api/notifications", list)
        .post("/api/notifications/read", read)
}

async fn list(State(app): State<App>, User(actor): User) -> Result<Json<Value>, ApiError> {
    let now = chrono::Utc::now();
    let layer = app
        .registry
        .get("fire_points")
        .cloned()
        .ok_or_else(|| ApiError(Error::not_found("layer")))?;
    let rules = app.rules.clone();
    let n = app
        .db
        .read(move |c| notifications::list(c, &layer, &actor, now, &rules))
        .await?;
    Ok(Json(serde_json::to_value(n).unwrap_or(Value::Null)))
}

async fn read(State(app): State<App>, User(actor): User) -> Result<StatusCode, ApiError> {
    let now = chrono::Utc::now();
    app.db
        .write(move |tx| notifications::mark_read(tx, &actor.username, now))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

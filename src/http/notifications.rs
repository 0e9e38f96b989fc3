//! `GET /api/notifications?limit=&offset=` (with the unread count) and `POST /api/notifications/read`.

use std::collections::HashMap;

use crate::http::paging::{self, Bounds, Page};
use crate::http::routes::Routes;
use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use serde_json::Value;

use super::error::ApiError;
use super::extract::User;
use crate::app::App;
use crate::service::notifications;

pub fn router() -> Routes {
    Routes::new()
        .get("/api/notifications", list)
        .post("/api/notifications/read", read)
}

/// The page sizes of `GET /api/notifications`.
pub const PAGE: Bounds = Bounds::new(notifications::LIMIT, 200);

/// The user's notifications, newest first, one page at a time (`limit`, `offset`), with how many
/// are unread.
async fn list(
    State(app): State<App>,
    User(actor): User,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let slice = paging::slice(&q, PAGE)?;
    let now = chrono::Utc::now();
    let layer = app.registry.lookup("fire_points").cloned()?;
    let rules = app.rules.clone();
    let n = app
        .db
        .read(move |c| notifications::list(c, &layer, &actor, now, &rules, slice))
        .await?;
    let returned = n.items.len();
    let more = slice.offset + returned < n.total;
    let page = Page::of(
        "/api/notifications",
        &q,
        slice,
        (returned, more, Some(n.total)),
    );
    Ok(Json(
        page.answer(serde_json::to_value(n).unwrap_or(Value::Null)),
    ))
}

async fn read(State(app): State<App>, User(actor): User) -> Result<StatusCode, ApiError> {
    let now = chrono::Utc::now();
    app.db
        .write(move |tx| notifications::mark_read(tx, &actor.username, now))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

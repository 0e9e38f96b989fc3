//! Dust alerts: `GET /api/dust/alerts` (what the user's role may see) and
//! `POST /api/dust/alerts/{id}/events` (`start_rectifying`, `close`).

use std::collections::HashMap;

use crate::http::paging::{self, Bounds};
use crate::http::routes::Routes;
use axum::extract::{Path, Query, State};
use serde::Deserialize;
use serde_json::Value;

use crate::app::App;
use crate::http::error::ApiError;
use crate::http::extract::{Json, User};
use crate::service::dust::alerts as service;

pub fn router() -> Routes {
    Routes::new()
        .get("/api/dust/alerts", list)
        .post("/api/dust/alerts/{id}/events", act)
}

/// The page sizes of `GET /api/dust/alerts`.
pub const PAGE: Bounds = Bounds::USUAL;

/// The alerts this user may see, newest first, one page at a time (`limit`, `offset`).
async fn list(
    State(app): State<App>,
    User(actor): User,
    Query(q): Query<HashMap<String, String>>,
) -> Result<axum::Json<Value>, ApiError> {
    let list = ("/api/dust/alerts", "alerts");
    paging::serve(&app.db, &q, PAGE, list, move |c, slice| {
        service::list(c, &actor, slice)
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ActionInput {
    action: String,
    #[serde(default)]
    note: Option<String>,
}

async fn act(
    State(app): State<App>,
    User(actor): User,
    Path(id): Path<i64>,
    Json(input): Json<ActionInput>,
) -> Result<axum::Json<Value>, ApiError> {
    let now = chrono::Utc::now();
    let v = app
        .db
        .write(move |tx| service::act(tx, &actor, id, &input.action, input.note.as_deref(), now))
        .await?;
    Ok(axum::Json(v))
}

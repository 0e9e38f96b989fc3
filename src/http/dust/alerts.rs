//! Dust alerts: `GET /api/dust/alerts` (what the user's role may see) and
//! `POST /api/dust/alerts/{id}/events` (`start_rectifying`, `close`).

use crate::http::routes::Routes;
use axum::extract::{Path, State};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::app::App;
use crate::http::error::ApiError;
use crate::http::extract::{Json, User};
use crate::service::dust::alerts as service;

pub fn router() -> Routes {
    Routes::new()
        .get("/api/dust/alerts", list)
        .post("/api/dust/alerts/{id}/events", act)
}

async fn list(State(app): State<App>, User(actor): User) -> Result<axum::Json<Value>, ApiError> {
    let alerts = app.db.read(move |c| service::list(c, &actor)).await?;
    Ok(axum::Json(json!({ "alerts": alerts })))
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

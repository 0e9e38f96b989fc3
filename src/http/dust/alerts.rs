//! Dust alerts: `GET /api/dust/alerts` (what the user's role may see) and
//! `POST /api/dust/alerts/{id}/events` (`start_rectifying`, `close`).

use crate::http::paging::{self, Bounds, Listing, UserList};
use crate::http::routes::Routes;
use axum::extract::{Path, State};
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;

use crate::app::App;
use crate::domain::role::Actor;
use crate::http::error::ApiError;
use crate::http::extract::{Json, User};
use crate::service::dust::alerts as service;
use crate::store::{self, Slice, Tx};

pub fn router() -> Routes {
    Routes::new()
        .get("/api/dust/alerts", paging::user_list::<Alerts>)
        .post("/api/dust/alerts/{id}/events", act)
}

/// The page sizes of `GET /api/dust/alerts`.
pub const PAGE: Bounds = Bounds::USUAL;

/// The alerts this user may see, newest first, one page at a time (`limit`, `offset`).
struct Alerts;

impl UserList for Alerts {
    const AT: (&'static str, &'static str) = ("/api/dust/alerts", "alerts");
    const PAGE: Bounds = PAGE;

    fn read(tx: &dyn Tx, reader: &Actor, _: DateTime<Utc>, slice: Slice) -> store::Result<Listing> {
        service::list(tx, reader, slice)
    }
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

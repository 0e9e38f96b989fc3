//! Warnings and restrictions: `POST /api/dust/warnings` (managers), `GET /api/dust/warnings`,
//! `GET /api/dust/restrictions` (by role, with `overdue` and compliance checks),
//! `POST /api/dust/restrictions/{id}/acknowledge` (the owner) and
//! `POST /api/dust/restrictions/{id}/checks` (patrols and managers, on site).

use std::collections::HashMap;

use crate::http::paging::{self, Bounds};
use crate::http::routes::Routes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde_json::Value;

use crate::app::App;
use crate::http::error::ApiError;
use crate::http::extract::{Json, User};
use crate::service::dust::checks::{self as dust_checks, NewCheck};
use crate::service::dust::warnings::{self as service, NewWarning};

pub fn router() -> Routes {
    Routes::new()
        .post("/api/dust/warnings", issue)
        .get("/api/dust/warnings", warnings)
        .get("/api/dust/restrictions", list)
        .post("/api/dust/restrictions/{id}/acknowledge", acknowledge)
        .post("/api/dust/restrictions/{id}/checks", check)
}

async fn issue(
    State(app): State<App>,
    User(actor): User,
    Json(w): Json<NewWarning>,
) -> Result<(StatusCode, axum::Json<Value>), ApiError> {
    let now = chrono::Utc::now();
    let index = app.index();
    let v = app
        .db
        .write(move |tx| service::issue(tx, &index, &actor, &w, now))
        .await?;
    Ok((StatusCode::CREATED, axum::Json(v)))
}

/// The page sizes of the warnings and restrictions lists.
pub const PAGE: Bounds = Bounds::USUAL;

/// The restrictions this user may see, newest first, one page at a time (`limit`, `offset`).
async fn list(
    State(app): State<App>,
    User(actor): User,
    Query(q): Query<HashMap<String, String>>,
) -> Result<axum::Json<Value>, ApiError> {
    let now = chrono::Utc::now();
    let list = ("/api/dust/restrictions", "restrictions");
    paging::serve(&app.db, &q, PAGE, list, move |c, slice| {
        service::list(c, &actor, now, slice)
    })
    .await
}

async fn acknowledge(
    State(app): State<App>,
    User(actor): User,
    Path(id): Path<i64>,
) -> Result<axum::Json<Value>, ApiError> {
    let now = chrono::Utc::now();
    let v = app
        .db
        .write(move |tx| service::acknowledge(tx, &actor, id, now))
        .await?;
    Ok(axum::Json(v))
}

/// The warnings, newest first, one page at a time (`limit`, `offset`).
async fn warnings(
    State(app): State<App>,
    User(actor): User,
    Query(q): Query<HashMap<String, String>>,
) -> Result<axum::Json<Value>, ApiError> {
    let now = chrono::Utc::now();
    let list = ("/api/dust/warnings", "warnings");
    paging::serve(&app.db, &q, PAGE, list, move |c, slice| {
        service::warnings(c, &actor, now, slice)
    })
    .await
}

/// 201 for a new check, 200 for a recognised retry of one.
async fn check(
    State(app): State<App>,
    User(actor): User,
    Path(id): Path<i64>,
    Json(c): Json<NewCheck>,
) -> Result<(StatusCode, axum::Json<Value>), ApiError> {
    let now = chrono::Utc::now();
    let (v, created) = app
        .db
        .write(move |tx| dust_checks::record(tx, &actor, id, &c, now))
        .await?;
    Ok(crate::http::case::reported(created, v))
}

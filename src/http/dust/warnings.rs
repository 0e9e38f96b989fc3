//! Warnings and restrictions: `POST /api/dust/warnings` (managers), `GET /api/dust/warnings`,
//! `GET /api/dust/restrictions` (by role, with `overdue` and compliance checks),
//! `POST /api/dust/restrictions/{id}/acknowledge` and `POST /api/dust/warnings/{id}/acknowledge`
//! (the owner: one restriction, or all a warning put on its mines) and
//! `POST /api/dust/restrictions/{id}/checks` (patrols and managers, on site).

use crate::http::paging::{self, Bounds, Listing, UserList};
use crate::http::routes::Routes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::app::App;
use crate::domain::role::Actor;
use crate::http::error::ApiError;
use crate::http::extract::{Json, User};
use crate::service::dust::checks::{self as dust_checks, NewCheck};
use crate::service::dust::warnings::{self as service, NewWarning};
use crate::store::{self, Slice, Tx};

pub fn router() -> Routes {
    Routes::new()
        .post("/api/dust/warnings", issue)
        .get("/api/dust/warnings", paging::user_list::<Warnings>)
        .get("/api/dust/restrictions", paging::user_list::<Restrictions>)
        .post("/api/dust/restrictions/{id}/acknowledge", acknowledge)
        .post("/api/dust/warnings/{id}/acknowledge", acknowledge_warning)
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
struct Restrictions;

impl UserList for Restrictions {
    const AT: (&'static str, &'static str) = ("/api/dust/restrictions", "restrictions");
    const PAGE: Bounds = PAGE;

    fn read(
        tx: &dyn Tx,
        reader: &Actor,
        now: DateTime<Utc>,
        slice: Slice,
    ) -> store::Result<Listing> {
        service::list(tx, reader, now, slice)
    }
}

/// The owner's acknowledgement of one restriction.
async fn acknowledge(
    State(app): State<App>,
    User(actor): User,
    Path(id): Path<i64>,
) -> Result<axum::Json<Value>, ApiError> {
    acknowledged(app, actor, id, service::acknowledge).await
}

/// The owner's acknowledgement of every restriction one warning put on its mines.
async fn acknowledge_warning(
    State(app): State<App>,
    User(actor): User,
    Path(id): Path<i64>,
) -> Result<axum::Json<Value>, ApiError> {
    acknowledged(app, actor, id, service::acknowledge_warning).await
}

async fn acknowledged(
    app: App,
    actor: Actor,
    id: i64,
    f: fn(&dyn Tx, &Actor, i64, DateTime<Utc>) -> crate::error::Result<Value>,
) -> Result<axum::Json<Value>, ApiError> {
    let now = chrono::Utc::now();
    let v = app.db.write(move |tx| f(tx, &actor, id, now)).await?;
    Ok(axum::Json(v))
}

/// The warnings, newest first, one page at a time (`limit`, `offset`).
struct Warnings;

impl UserList for Warnings {
    const AT: (&'static str, &'static str) = ("/api/dust/warnings", "warnings");
    const PAGE: Bounds = PAGE;

    fn read(
        tx: &dyn Tx,
        reader: &Actor,
        now: DateTime<Utc>,
        slice: Slice,
    ) -> store::Result<Listing> {
        service::warnings(tx, reader, now, slice)
    }
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

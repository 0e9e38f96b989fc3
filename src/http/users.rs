//! Accounts for managers: `GET /api/users?limit=&offset=` (role, binding, disabled, last
//! sign-in), `POST /api/users/{name}/disable` and `/enable`, `GET /api/users/{name}/sessions`
//! and `POST /api/users/{name}/sessions/revoke`. Each change goes to the audit log with its
//! before → after.

use std::collections::HashMap;

use super::routes::Routes;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use super::audit::Audited;
use super::error::ApiError;
use super::extract::{Manager, Peer};
use super::paging::{self, Bounds};
use crate::app::App;
use crate::domain::role::Actor;
use crate::error::Error;
use crate::store::audit::Entry;

pub fn router() -> Routes {
    Routes::new()
        .get("/api/users", list)
        .post("/api/users/{name}/disable", disable)
        .post("/api/users/{name}/enable", enable)
        .get("/api/users/{name}/sessions", sessions)
        .post("/api/users/{name}/sessions/revoke", revoke)
}

/// The page sizes of `GET /api/users`.
pub const PAGE: Bounds = Bounds::new(50, 500);

/// The accounts by username, one page at a time (`limit`, `offset`).
async fn list(
    State(app): State<App>,
    _: Manager,
    Query(q): Query<HashMap<String, String>>,
) -> Result<axum::Json<serde_json::Value>, ApiError> {
    paging::serve(&app.db, &q, PAGE, ("/api/users", "users"), |c, slice| {
        let page = c.users().list(slice.limit, slice.offset);
        page.map(|(rows, more)| (rows, more, None))
    })
    .await
}

async fn disable(
    State(app): State<App>,
    Manager(actor): Manager,
    Peer(ip): Peer,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    set_disabled(app, actor, ip, name, true).await
}

async fn enable(
    State(app): State<App>,
    Manager(actor): Manager,
    Peer(ip): Peer,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    set_disabled(app, actor, ip, name, false).await
}

/// Only through [`disable`] and [`enable`], which take a [`Manager`].
async fn set_disabled(
    app: App,
    actor: Actor,
    ip: Option<std::net::IpAddr>,
    name: String,
    disabled: bool,
) -> Result<Response, ApiError> {
    if disabled && name == actor.username {
        // A manager locking themselves out helps no one; another manager or the CLI can.
        return Err(ApiError(Error::invalid("user_disable_self")));
    }
    let now = chrono::Utc::now();
    let (route, action) = if disabled {
        ("/api/users/{name}/disable", "user_disable")
    } else {
        ("/api/users/{name}/enable", "user_enable")
    };
    let entry = Entry {
        actor: Some(actor.username.clone()),
        address: ip.map(|a| a.to_string()),
        action: action.into(),
        method: Some("POST".into()),
        route: Some(route.into()),
        target: Some(name.clone()),
        status: Some(200),
        detail: None,
    };
    let who = name.clone();
    let before = app
        .db
        .write(move |tx| {
            let before = tx.users().set_disabled(&who, disabled, now)?;
            if let Some(b) = before {
                let e = Entry {
                    detail: Some(
                        json!({"before": {"disabled": b}, "after": {"disabled": disabled}}),
                    ),
                    ..entry
                };
                tx.audit().record(now, &e)?;
            }
            Ok::<_, crate::store::StoreError>(before)
        })
        .await?;
    if before.is_none() {
        return Err(ApiError(Error::not_found("user")));
    }
    let mut res = axum::Json(json!({"username": name, "disabled": disabled})).into_response();
    res.extensions_mut().insert(Audited);
    Ok(res)
}

async fn sessions(
    State(app): State<App>,
    _: Manager,
    Path(name): Path<String>,
) -> Result<axum::Json<serde_json::Value>, ApiError> {
    let now = chrono::Utc::now();
    let who = name.clone();
    let found = app
        .db
        .read(move |c| {
            if c.users().credentials(&who)?.is_none() {
                return Ok(None);
            }
            c.users().sessions_of(&who, now).map(Some)
        })
        .await?;
    let Some(list) = found else {
        return Err(ApiError(Error::not_found("user")));
    };
    Ok(axum::Json(json!({"username": name, "sessions": list})))
}

async fn revoke(
    State(app): State<App>,
    Manager(actor): Manager,
    Peer(ip): Peer,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    let now = chrono::Utc::now();
    let who = name.clone();
    let by = actor.username.clone();
    let ended = app
        .db
        .write(move |tx| {
            if tx.users().credentials(&who)?.is_none() {
                return Ok(None);
            }
            let n = tx.users().end_sessions_of(&who, None)?;
            tx.audit().record(
                now,
                &Entry {
                    actor: Some(by),
                    address: ip.map(|a| a.to_string()),
                    action: "user_sessions_revoke".into(),
                    method: Some("POST".into()),
                    route: Some("/api/users/{name}/sessions/revoke".into()),
                    target: Some(who),
                    status: Some(200),
                    detail: Some(json!({"ended": n})),
                },
            )?;
            Ok::<_, crate::store::StoreError>(Some(n))
        })
        .await?;
    let Some(n) = ended else {
        return Err(ApiError(Error::not_found("user")));
    };
    let mut res = axum::Json(json!({"username": name, "ended": n})).into_response();
    res.extensions_mut().insert(Audited);
    Ok(res)
}

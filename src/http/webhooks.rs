//! Webhook registration and delivery status, for managers only (issue 4 item 5):
//! `POST /api/webhooks`, `GET /api/webhooks?limit=&offset=`, `DELETE /api/webhooks/{id}`,
//! `GET /api/webhooks/{id}/deliveries?status=&limit=&offset=`,
//! `POST /api/webhooks/{id}/deliveries/retry` (re-queue the failed ones).

use std::collections::HashMap;

use crate::http::routes::Routes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};

use super::error::ApiError;
use super::extract::{Json, Manager};
use super::paging::{self, Bounds, Page};
use crate::app::App;

use crate::error::Error;
use crate::service::webhooks::{self as service, NewWebhook, Webhook};

pub fn router() -> Routes {
    Routes::new()
        .post("/api/webhooks", create)
        .get("/api/webhooks", list)
        .delete("/api/webhooks/{id}", remove)
        .get("/api/webhooks/{id}/deliveries", deliveries)
        .post("/api/webhooks/{id}/deliveries/retry", retry)
}

/// A registration as sent.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateBody {
    url: String,
    kinds: Vec<String>,
    secret: Option<String>,
}

/// A webhook id from the path; anything that is not one is simply not found.
fn webhook_id(raw: &str) -> Result<i64, ApiError> {
    raw.parse()
        .map_err(|_| ApiError(Error::not_found("webhook")))
}

/// The secret's last four characters: enough to tell two apart, too little to sign with.
fn masked(w: &Webhook) -> String {
    let tail: String = w
        .secret
        .chars()
        .rev()
        .take(4)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    format!("****{tail}")
}

async fn create(
    State(app): State<App>,
    Manager(actor): Manager,
    Json(body): Json<Value>,
) -> Result<(StatusCode, axum::Json<Value>), ApiError> {
    // The role is checked before the body's shape, so a 403 never depends on what was sent.
    let body: CreateBody = serde_json::from_value(body)
        .map_err(|e| Error::invalid("bad_body").arg("detail", e.to_string()))?;
    let now = chrono::Utc::now();
    let new = NewWebhook {
        url: body.url,
        kinds: body.kinds,
        secret: body.secret,
    };
    let w = app
        .db
        .write(move |tx| service::register(tx, &actor.username, new, now))
        .await?;
    // The only time the secret leaves the server: the receiver needs it to check signatures.
    let mut v = serde_json::to_value(&w).unwrap_or(Value::Null);
    if let Some(o) = v.as_object_mut() {
        o.insert("secret".into(), w.secret.clone().into());
    }
    Ok((StatusCode::CREATED, axum::Json(v)))
}

/// The page sizes of the webhook and delivery lists.
pub const PAGE: Bounds = Bounds::USUAL;

/// The webhooks, newest first, one page at a time (`limit`, `offset`).
async fn list(
    State(app): State<App>,
    _: Manager,
    Query(q): Query<HashMap<String, String>>,
) -> Result<axum::Json<Value>, ApiError> {
    let list = ("/api/webhooks", "webhooks");
    paging::serve(&app.db, &q, PAGE, list, |tx, slice| {
        let (hooks, more) = tx.webhooks().list(slice)?;
        let items: Vec<Value> = hooks
            .into_iter()
            .map(|(w, counts)| {
                let mut v = serde_json::to_value(&w).unwrap_or(Value::Null);
                if let Some(o) = v.as_object_mut() {
                    o.insert("secret".into(), masked(&w).into());
                    o.insert("deliveries".into(), counts);
                }
                v
            })
            .collect();
        Ok::<_, Error>((items, more, None))
    })
    .await
}

async fn remove(
    State(app): State<App>,
    _: Manager,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let id = webhook_id(&id)?;
    let found = app.db.write(move |tx| tx.webhooks().deactivate(id)).await?;
    if found {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError(Error::not_found("webhook")))
    }
}

async fn deliveries(
    State(app): State<App>,
    _: Manager,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<axum::Json<Value>, ApiError> {
    let id = webhook_id(&id)?;
    let status = match q.get("status").map(String::as_str) {
        None | Some("") => None,
        Some(s) if service::STATES.contains(&s) => Some(s.to_string()),
        Some(_) => {
            return Err(ApiError(
                Error::invalid("bad_query")
                    .arg("param", "status")
                    .arg("detail", service::STATES.join(", ")),
            ));
        }
    };
    let slice = paging::slice(&q, PAGE)?;
    let (v, more) = app
        .db
        .read(move |c| {
            let Some(w) = c.webhooks().get(id)? else {
                return Err(Error::not_found("webhook"));
            };
            let n = |x: usize| i64::try_from(x).unwrap_or(i64::MAX);
            let rows = c.webhooks().deliveries(
                w.id,
                status.as_deref(),
                n(slice.limit).saturating_add(1),
                n(slice.offset),
            )?;
            let (rows, more) = slice.cut(rows);
            Ok((
                json!({ "webhook": w.id, "url": w.url, "active": w.active, "deliveries": rows }),
                more,
            ))
        })
        .await?;
    let returned = v["deliveries"].as_array().map_or(0, Vec::len);
    let path = format!("/api/webhooks/{id}/deliveries");
    let page = Page::of(&path, &q, slice, (returned, more, None));
    Ok(axum::Json(page.answer(v)))
}

async fn retry(
    State(app): State<App>,
    _: Manager,
    Path(id): Path<String>,
) -> Result<axum::Json<Value>, ApiError> {
    let id = webhook_id(&id)?;
    let now = chrono::Utc::now();
    let n = app
        .db
        .write(move |tx| {
            if tx.webhooks().get(id)?.is_none() {
                return Err(Error::not_found("webhook"));
            }
            Ok(service::requeue_failed(tx, id, now)?)
        })
        .await?;
    Ok(axum::Json(json!({ "requeued": n })))
}

//! Dust violations logged by patrols: `POST /api/dust/issues`, `GET /api/dust/issues[/{id}]`,
//! `POST /api/dust/issues/{id}/events`, `POST /api/dust/issues/{id}/photos`. The handlers parse
//! and answer; `service::dust_issues` decides.

use std::borrow::Cow;
use std::collections::HashMap;

use crate::http::routes::Routes;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::StatusCode;
use serde_json::{Value, json};

use super::error::ApiError;
use super::extract::{Json, User};
use super::paging::{self, Bounds};
use crate::app::App;
use crate::domain::dust_issue::{DustIssueRules, Status};
use crate::error::Error;
use crate::service::dust_issues::{self as service, ActionInput};
use crate::store::Tx;
use crate::store::photos::Subject;

pub fn router() -> Routes {
    Routes::new()
        .post("/api/dust/issues", report)
        .get("/api/dust/issues", list)
        .get("/api/dust/issues/{id}", show)
        .post("/api/dust/issues/{id}/events", act)
        .post_limited(
            "/api/dust/issues/{id}/photos",
            photos,
            super::photos::body_limit(),
        )
}

/// A GeoJSON Point Feature with `uuid`, `kind` and optional `note`, `accuracy_m`,
/// `position_source` → 201 with the new violation, 200 with the first one on a retry.
async fn report(
    State(app): State<App>,
    User(actor): User,
    Json(body): Json<Value>,
) -> Result<(StatusCode, axum::Json<Value>), ApiError> {
    let now = chrono::Utc::now();
    let (created, feature) = super::case::write(&app, in_force, move |tx, ctx| {
        let r = service::report(tx, ctx, &actor, &body, now)?;
        Ok((r.created, service::feature(&r.issue, &actor, now)))
    })
    .await?;
    Ok(super::case::reported(created, feature))
}

/// The query parameters `GET /api/dust/issues` takes.
const LIST_PARAMS: [&str; 4] = ["status", "bbox", "limit", "offset"];

/// The page sizes of `GET /api/dust/issues`.
pub const PAGE: Bounds = Bounds::USUAL;

/// The violations this user may see as a FeatureCollection, soonest deadline first, one page at
/// a time (`limit`, `offset`); `status=open,rectifying` (any of those) and
/// `bbox=minlon,minlat,maxlon,maxlat` filter.
async fn list(
    State(app): State<App>,
    User(actor): User,
    Query(q): Query<HashMap<String, String>>,
) -> Result<axum::Json<Value>, ApiError> {
    if let Some(k) = q.keys().find(|k| !LIST_PARAMS.contains(&k.as_str())) {
        return Err(ApiError(
            Error::bad_request("unknown_param")
                .arg("param", k.clone())
                .arg("known", LIST_PARAMS.join(", ")),
        ));
    }
    let statuses = q
        .get("status")
        .map(|s| {
            s.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| {
                    Status::parse(s).ok_or_else(|| {
                        Error::bad_request("bad_query").arg("param", "status").arg(
                            "detail",
                            Status::ALL.map(Status::as_str).join(", ").to_string(),
                        )
                    })
                })
                .collect::<Result<Vec<_>, _>>()
        })
        .transpose()?
        .unwrap_or_default();
    let bbox = q
        .get("bbox")
        .map(|s| super::collections::parse_bbox(s))
        .transpose()?;
    let slice = paging::slice(&q, PAGE)?;
    let now = chrono::Utc::now();
    let registry = app.registry.clone();
    let (features, more, matched) = app
        .db
        .read(move |c| {
            let layer = service::layer(&registry)?;
            let (page, more, matched) = service::list(c, layer, &actor, &statuses, bbox, slice)?;
            let features: Vec<Value> = page
                .iter()
                .map(|i| service::feature(i, &actor, now))
                .collect();
            Ok::<_, Error>((features, more, matched))
        })
        .await?;
    let page = paging::Page {
        path: "/api/dust/issues",
        query: &q,
        slice,
        returned: features.len(),
        more,
        matched,
    };
    Ok(axum::Json(page.answer(
        json!({"type": "FeatureCollection", "features": features}),
    )))
}

/// One violation (by uuid or code) with its `events` and `photos`.
async fn show(
    State(app): State<App>,
    User(actor): User,
    Path(id): Path<String>,
) -> Result<axum::Json<Value>, ApiError> {
    let now = chrono::Utc::now();
    let registry = app.registry.clone();
    let v = app
        .db
        .read(move |c| {
            let layer = service::layer(&registry)?;
            let issue = service::find_visible(c, layer, &actor, &id)?
                .ok_or_else(|| Error::not_found("dust_issue"))?;
            let feature = service::feature(&issue, &actor, now);
            let events = json!(service::events_for(
                c.dust_issues().events(&issue.uuid)?,
                &actor
            ));
            super::case::with_history(c, feature, events, Subject::DustIssue, &issue.uuid, &actor)
        })
        .await?;
    Ok(axum::Json(v))
}

/// `{"action": "start"|"rectified"|"verify"|"reject", "note"?, "id"?}` → the violation after it.
async fn act(
    State(app): State<App>,
    User(actor): User,
    Path(id): Path<String>,
    Json(input): Json<ActionInput>,
) -> Result<axum::Json<Value>, ApiError> {
    let now = chrono::Utc::now();
    let v = super::case::write(&app, in_force, move |tx, ctx| {
        let issue = service::act(tx, ctx, &actor, &id, &input, now)?;
        Ok(service::feature(&issue, &actor, now))
    })
    .await?;
    Ok(axum::Json(v))
}

/// A violation is decided by the rules as stored (managers change them).
fn in_force<'a>(tx: &dyn Tx, _: &'a App) -> Result<Cow<'a, DustIssueRules>, Error> {
    Ok(Cow::Owned(crate::service::rules::dust_issues(tx)?))
}

/// Multipart field `photo` (one or more) → 201 `{"photos": […]}`, as for fires.
async fn photos(
    State(app): State<App>,
    User(actor): User,
    Path(id): Path<String>,
    form: Multipart,
) -> Result<(StatusCode, axum::Json<Value>), ApiError> {
    super::photos::upload_for(app, actor, Subject::DustIssue, id, form).await
}

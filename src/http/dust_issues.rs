//! Dust violations logged by patrols: `POST /api/dust/issues`, `GET /api/dust/issues[/{id}]`,
//! `POST /api/dust/issues/{id}/events`, `POST /api/dust/issues/{id}/photos`. The handlers parse
//! and answer; `service::dust_issues` decides.

use std::borrow::Cow;
use std::collections::HashMap;

use crate::http::routes::Routes;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::case::{self, Kind};
use super::error::ApiError;
use super::extract::User;
use super::paging::{self, Bounds};
use crate::app::App;
use crate::domain::dust_issue::{DustIssueRules, Status};
use crate::domain::role::Actor;
use crate::error::Error;
use crate::service::dust_issues::{self as service, ActionInput, Ctx};
use crate::store::Tx;
use crate::store::photos::Subject;

pub fn router() -> Routes {
    Routes::new()
        .post("/api/dust/issues", case::report::<Issues>)
        .get("/api/dust/issues", list)
        .get("/api/dust/issues/{id}", case::show::<Issues>)
        .post("/api/dust/issues/{id}/events", case::act::<Issues>)
        .post_limited(
            "/api/dust/issues/{id}/photos",
            photos,
            super::photos::body_limit(),
        )
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
    let list = app
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
    let page = paging::Page::features("/api/dust/issues", &q, slice, list);
    Ok(axum::Json(page))
}

/// Dust violations as cases: decided by the rules as stored (managers change them).
pub struct Issues;

impl Kind for Issues {
    type Rules = DustIssueRules;
    type Action = ActionInput;
    const SUBJECT: Subject = Subject::DustIssue;
    const NOT_FOUND: &'static str = "dust_issue";

    fn in_force<'a>(tx: &dyn Tx, _: &'a App) -> Result<Cow<'a, DustIssueRules>, Error> {
        Ok(Cow::Owned(crate::service::rules::dust_issues(tx)?))
    }

    /// A GeoJSON Point Feature with `uuid`, `kind` and optional `note`, `accuracy_m`,
    /// `position_source`.
    fn report(
        tx: &dyn Tx,
        ctx: &Ctx,
        actor: &Actor,
        body: &Value,
        now: DateTime<Utc>,
    ) -> Result<(bool, Value), Error> {
        let r = service::report(tx, ctx, actor, body, now)?;
        Ok((r.created, service::feature(&r.issue, actor, now)))
    }

    /// `{"action": "start"|"rectified"|"verify"|"reject", "note"?, "id"?}`.
    fn act(
        tx: &dyn Tx,
        ctx: &Ctx,
        actor: &Actor,
        id: &str,
        input: &ActionInput,
        now: DateTime<Utc>,
    ) -> Result<Value, Error> {
        let issue = service::act(tx, ctx, actor, id, input, now)?;
        Ok(service::feature(&issue, actor, now))
    }

    /// By uuid or code.
    fn find(
        c: &dyn Tx,
        app: &App,
        reader: &Actor,
        id: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<(Value, Value, String)>, Error> {
        let layer = service::layer(&app.registry)?;
        let Some(issue) = service::find_visible(c, layer, reader, id)? else {
            return Ok(None);
        };
        let feature = service::feature(&issue, reader, now);
        let events = json!(service::events_for(
            c.dust_issues().events(&issue.uuid)?,
            reader
        ));
        Ok(Some((feature, events, issue.uuid)))
    }
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

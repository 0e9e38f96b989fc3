//! Part 4 (create, replace, update, delete) on the layers a role may write, and `OPTIONS`
//! answering the methods allowed — QGIS turns editing on from those `Allow` headers (POST on
//! `/items`, PUT/PATCH/DELETE on one item). Fire points and inspections change only through
//! the fire events of `/api/fires`, so writes there get 405 with the methods that do work.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use geo::Geometry;
use serde_json::{Map, Value, json};

use super::crs::{Crs, Projector};
use super::items::readable;
use super::{GEOJSON, base_url, fields, lang};
use crate::app::App;
use crate::domain::access::Scope;
use crate::domain::role::Actor;
use crate::error::{Error, Kind, Problem, render};
use crate::http::error::ApiError;
use crate::http::extract::{Json, User};
use crate::layers::Layer;
use crate::service::edit::{self as service, EVENT_LAYERS, Edited, editable};
use crate::service::fires::watch_since;
use crate::store::Tx;
use crate::store::features::Visible;

const READ_ONLY: &str = "GET, HEAD, OPTIONS";

fn allow(res: &mut Response, methods: &'static str) {
    res.headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static(methods));
}

fn may_edit(layer: &Layer, actor: &Actor) -> bool {
    service::check_may_edit(layer, actor).is_ok()
}

/// 204 with `Allow`: `writable` where this user may edit the layer, else read-only. One answer
/// for the items and the one-item `OPTIONS`, which differ only in the write methods they name.
fn options(
    app: &App,
    id: &str,
    actor: &Actor,
    writable: &'static str,
) -> Result<Response, ApiError> {
    let (layer, _) = readable(app, id, actor)?;
    let mut res = StatusCode::NO_CONTENT.into_response();
    allow(
        &mut res,
        if may_edit(&layer, actor) {
            writable
        } else {
            READ_ONLY
        },
    );
    Ok(res)
}

/// `OPTIONS /collections/{id}/items`.
pub async fn options_items(
    State(app): State<App>,
    User(actor): User,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    options(&app, &id, &actor, "GET, HEAD, OPTIONS, POST")
}

/// `OPTIONS /collections/{id}/items/{fid}`. The feature need not exist: QGIS asks about an
/// unknown id on an empty layer to learn whether it may edit.
pub async fn options_item(
    State(app): State<App>,
    User(actor): User,
    Path((id, _fid)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    options(&app, &id, &actor, "GET, HEAD, OPTIONS, PUT, PATCH, DELETE")
}

/// 405 for writes on a layer that takes none here (the fire layers: through `/api/fires`), in
/// the request's language, with `Allow`. Built here rather than through the error middleware,
/// which keeps only the status of what it rewrites.
fn method_not_allowed(headers: &HeaderMap, layer: &Layer) -> Response {
    let fires = EVENT_LAYERS.contains(&layer.name.as_str());
    let p = Problem {
        kind: Kind::Conflict,
        key: if fires {
            "method_not_allowed"
        } else {
            "layer_not_editable"
        },
        args: vec![("layer", layer.name.clone())],
        detail: Some(if fires {
            json!({"allowed": ["GET", "HEAD", "OPTIONS"], "use": "/api/fires"})
        } else {
            json!({"allowed": ["GET", "HEAD", "OPTIONS"]})
        }),
    };
    let body = json!({"error": p.key, "message": render(&p, lang(headers)), "detail": p.detail});
    let mut res = (StatusCode::METHOD_NOT_ALLOWED, axum::Json(body)).into_response();
    allow(&mut res, READ_ONLY);
    res
}

/// Checks in order: a layer the user may read (404), one that takes edits (405), a role that
/// may write it (403).
fn target(
    app: &App,
    id: &str,
    actor: &Actor,
    headers: &HeaderMap,
) -> Result<Result<(Arc<Layer>, Scope), Response>, ApiError> {
    let (layer, scope) = readable(app, id, actor)?;
    if !editable(&layer) {
        return Ok(Err(method_not_allowed(headers, &layer)));
    }
    service::check_may_edit(&layer, actor)?;
    Ok(Ok((layer, scope)))
}

/// The CRS of a request body: `Content-Crs: <uri>` (Part 2 with Part 4), CRS84 by default.
fn body_projector(headers: &HeaderMap) -> Result<Option<Crs>, Error> {
    match headers.get("content-crs").and_then(|v| v.to_str().ok()) {
        None => Ok(None),
        Some(v) => {
            let crs = Crs::parse(v.trim().trim_start_matches('<').trim_end_matches('>'))?;
            Ok((crs != Crs::Crs84).then_some(crs))
        }
    }
}

fn geometry(v: &Value, crs: Option<Crs>) -> Result<Geometry<f64>, Error> {
    let gj: geojson::Geometry = serde_json::from_value(v.clone())
        .map_err(|e| Error::invalid("invalid_geometry").arg("detail", e.to_string()))?;
    let g = crate::gis::geometry_from_geojson(&gj.value)
        .map_err(|e| Error::invalid("invalid_geometry").arg("detail", e))?;
    match crs {
        Some(c) => Projector::input(c)?.geometry(&g),
        None => Ok(g),
    }
}

fn properties(v: &Value) -> Result<Map<String, Value>, Error> {
    match v.get("properties") {
        None | Some(Value::Null) => Ok(Map::new()),
        Some(Value::Object(m)) => Ok(m.clone()),
        Some(_) => {
            Err(Error::invalid("not_a_feature").arg("detail", "properties must be an object"))
        }
    }
}

/// A whole Feature (POST, PUT).
fn feature(body: &Value, crs: Option<Crs>) -> Result<(Geometry<f64>, Map<String, Value>), Error> {
    if !body.is_object() || body.get("type").is_some_and(|t| t != "Feature") {
        return Err(Error::invalid("not_a_feature").arg("detail", "send one GeoJSON Feature"));
    }
    let g = match body.get("geometry") {
        None | Some(Value::Null) => return Err(Error::invalid("missing_geometry")),
        Some(g) => geometry(g, crs)?,
    };
    Ok((g, properties(body)?))
}

/// The vertex limit and the geometry checks, in one of a few slots on a blocking thread and
/// before the write transaction: a big polygon's validation never holds the single writer, and
/// many at once never take every thread.
async fn checked(app: &App, layer: &Layer, g: Geometry<f64>) -> Result<service::Checked, Error> {
    let (layer, max) = (layer.clone(), app.rules.max_vertices);
    let slot = if geo::CoordsIter::coords_count(&g) > max {
        None // refused at once, no slot needed
    } else {
        let s = crate::service::slots::acquire(
            &crate::service::edit::CHECKS,
            crate::service::edit::CHECK_WAIT,
            "geometry_busy",
        );
        Some(s.await?)
    };
    tokio::task::spawn_blocking(move || {
        let _slot = slot;
        service::Checked::new(&layer, g, max)
    })
    .await
    .map_err(|e| Error::Store(crate::store::StoreError::Worker(e.to_string())))?
}

fn ctx(app: &App, now: chrono::DateTime<Utc>, lang: crate::i18n::Lang) -> service::Ctx<'_> {
    service::Ctx {
        registry: &app.registry,
        now,
        lang,
    }
}

fn fid_of(fid: &str) -> Result<i64, Error> {
    fid.parse::<i64>().map_err(|_| Error::not_found("feature"))
}

/// The stored feature as this user sees it, with what the edit re-routed.
fn answer(
    tx: &dyn Tx,
    layer: &Layer,
    actor: &Actor,
    edited: &Edited,
    since: &str,
) -> Result<Value, Error> {
    let mut f = tx
        .features()
        .item(
            &Visible::new(layer, &Scope::All, since),
            &edited.fid.to_string(),
        )?
        .ok_or_else(|| Error::not_found("feature"))?;
    if let Some(p) = f.get_mut("properties").and_then(Value::as_object_mut) {
        for h in fields::hidden(layer, actor) {
            p.remove(&h);
        }
    }
    // A foreign member (RFC 7946 §6.1): the fires this edit moved to another party.
    if !edited.rerouted.is_empty() {
        f["rerouted"] = json!(edited.rerouted);
    }
    Ok(f)
}

/// Rebuilds the responsibility index after polygons changed, so new reports use them.
async fn reload(app: &App, edited: &Edited) {
    if !edited.areas_changed {
        return;
    }
    let a = app.clone();
    match tokio::task::spawn_blocking(move || a.reload_index()).await {
        Ok(Ok(())) => {}
        // The edit is committed; say so, and make the stale index loud in the log.
        Ok(Err(e)) => tracing::error!(error = %e, "responsibility index not rebuilt after an edit"),
        Err(e) => tracing::error!(error = %e, "responsibility index not rebuilt after an edit"),
    }
}

fn geojson_response(status: StatusCode, v: &Value) -> Response {
    let mut res = (status, v.to_string()).into_response();
    res.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(GEOJSON));
    res.headers_mut().insert(
        "content-crs",
        HeaderValue::from_static("<http://www.opengis.net/def/crs/OGC/1.3/CRS84>"),
    );
    res
}

/// Whether the user may see this feature (writes to what one cannot read are 404).
fn in_scope(tx: &dyn Tx, layer: &Layer, scope: &Scope, fid: i64, since: &str) -> Result<(), Error> {
    tx.features()
        .item(&Visible::new(layer, scope, since), &fid.to_string())?
        .map(|_| ())
        .ok_or_else(|| Error::not_found("feature"))
}

/// Runs one edit in a write transaction — the scope check (for an existing `fid`), the edit and
/// the answer as this user sees it — then rebuilds the index if polygons changed.
async fn run_edit(
    app: &App,
    actor: Actor,
    layer: Arc<Layer>,
    scope: Option<(Scope, i64)>,
    lang: crate::i18n::Lang,
    edit: impl FnOnce(&dyn Tx, &service::Ctx, &Layer) -> Result<Edited, Error> + Send + 'static,
) -> Result<(Edited, Value), ApiError> {
    let (now, a) = (Utc::now(), app.clone());
    let since = watch_since(now, &app.rules);
    let (edited, v) = app
        .db
        .write(move |tx| {
            if let Some((scope, fid)) = &scope {
                in_scope(tx, &layer, scope, *fid, &since)?;
            }
            let edited = edit(tx, &ctx(&a, now, lang), &layer)?;
            let v = answer(tx, &layer, &actor, &edited, &since)?;
            Ok::<_, Error>((edited, v))
        })
        .await?;
    reload(app, &edited).await;
    Ok((edited, v))
}

/// Runs an edit of the existing feature `fid` (see [`run_edit`]); 200 with it as this user sees it.
async fn edit_existing(
    app: &App,
    actor: Actor,
    layer: Arc<Layer>,
    at: (Scope, i64),
    headers: &HeaderMap,
    edit: impl FnOnce(&dyn Tx, &service::Ctx, &Layer) -> Result<Edited, Error> + Send + 'static,
) -> Result<Response, ApiError> {
    let (_, v) = run_edit(app, actor, layer, Some(at), lang(headers), edit).await?;
    Ok(geojson_response(StatusCode::OK, &v))
}

/// `POST /collections/{id}/items`: 201 with `Location`.
pub async fn create(
    State(app): State<App>,
    User(actor): User,
    Path(id): Path<String>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Result<Response, ApiError> {
    let (layer, _) = match target(&app, &id, &actor, &headers)? {
        Ok(t) => t,
        Err(res) => return Ok(res),
    };
    let (geom, props) = feature(&body, body_projector(&headers)?)?;
    let geom = checked(&app, &layer, geom).await?;
    let (edited, v) = run_edit(&app, actor, layer, None, lang(&headers), move |tx, c, l| {
        service::create(tx, c, l, geom, &props)
    })
    .await?;
    let mut res = geojson_response(StatusCode::CREATED, &v);
    let location = format!(
        "{}/collections/{id}/items/{}",
        base_url(&headers),
        edited.fid
    );
    if let Ok(l) = HeaderValue::from_str(&location) {
        res.headers_mut().insert(header::LOCATION, l);
    }
    Ok(res)
}

/// `PUT /collections/{id}/items/{fid}`: replaces the feature.
pub async fn replace(
    State(app): State<App>,
    User(actor): User,
    Path((id, fid)): Path<(String, String)>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Result<Response, ApiError> {
    let (layer, scope) = match target(&app, &id, &actor, &headers)? {
        Ok(t) => t,
        Err(res) => return Ok(res),
    };
    let fid = fid_of(&fid)?;
    let (geom, props) = feature(&body, body_projector(&headers)?)?;
    let geom = checked(&app, &layer, geom).await?;
    let edit = move |tx: &dyn Tx, c: &service::Ctx, l: &Layer| {
        service::replace(tx, c, l, fid, geom, &props)
    };
    edit_existing(&app, actor, layer, (scope, fid), &headers, edit).await
}

/// `PATCH /collections/{id}/items/{fid}`: a merge patch of `geometry` and `properties`.
pub async fn update(
    State(app): State<App>,
    User(actor): User,
    Path((id, fid)): Path<(String, String)>,
    headers: HeaderMap,
    Json(body): Json<Value>,
) -> Result<Response, ApiError> {
    let (layer, scope) = match target(&app, &id, &actor, &headers)? {
        Ok(t) => t,
        Err(res) => return Ok(res),
    };
    let fid = fid_of(&fid)?;
    if !body.is_object() {
        return Err(Error::invalid("not_a_feature")
            .arg("detail", "send an object with geometry and/or properties")
            .into());
    }
    let geom = match body.get("geometry") {
        None | Some(Value::Null) => None,
        Some(g) => Some(checked(&app, &layer, geometry(g, body_projector(&headers)?)?).await?),
    };
    let patch = properties(&body)?;
    let edit = move |tx: &dyn Tx, c: &service::Ctx, l: &Layer| {
        service::update(tx, c, l, fid, geom, &patch)
    };
    edit_existing(&app, actor, layer, (scope, fid), &headers, edit).await
}

/// `DELETE /collections/{id}/items/{fid}`: 204.
pub async fn delete(
    State(app): State<App>,
    User(actor): User,
    Path((id, fid)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (layer, scope) = match target(&app, &id, &actor, &headers)? {
        Ok(t) => t,
        Err(res) => return Ok(res),
    };
    let fid = fid_of(&fid)?;
    let (now, a, lang) = (Utc::now(), app.clone(), lang(&headers));
    let since = watch_since(now, &app.rules);
    let edited = app
        .db
        .write(move |tx| {
            in_scope(tx, &layer, &scope, fid, &since)?;
            service::delete(tx, &ctx(&a, now, lang), &layer, fid)
        })
        .await?;
    reload(&app, &edited).await;
    Ok(StatusCode::NO_CONTENT.into_response())
}

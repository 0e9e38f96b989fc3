//! The layers as collections (OGC API - Features Part 1 shapes): list, describe, items, item.
//! What a user sees follows the layer file's read scope for the user's role.

use std::collections::HashMap;

use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

use super::error::ApiError;
use super::extract::User;
use crate::app::App;
use crate::error::Error;
use crate::i18n::Lang;
use crate::layers::Layer;
use crate::service::fires::watch_since;
use crate::store::features::{self, ItemQuery};

pub const DEFAULT_LIMIT: usize = 100;
pub const MAX_LIMIT: usize = 10_000;

pub fn router() -> Router<App> {
    Router::new()
        .route("/collections", get(list))
        .route("/collections/{id}", get(describe))
        .route("/collections/{id}/items", get(items))
        .route("/collections/{id}/items/{fid}", get(item))
        .route("/api/layers", get(layers))
}

fn lang(headers: &HeaderMap) -> Lang {
    Lang::from_accept_language(headers.get("accept-language").and_then(|v| v.to_str().ok()))
}

fn collection(layer: &Layer, lang: Lang) -> Value {
    let base = format!("/collections/{}", layer.name);
    json!({
        "id": layer.name,
        "title": layer.title.get(lang),
        "description": layer.description.get(lang),
        "itemType": "feature",
        "crs": ["http://www.opengis.net/def/crs/OGC/1.3/CRS84"],
        "links": [
            {"rel": "self", "type": "application/json", "href": base},
            {"rel": "items", "type": "application/geo+json", "href": format!("{base}/items")},
        ]
    })
}

fn layer<'a>(app: &'a App, id: &str) -> Result<&'a Layer, ApiError> {
    app.registry
        .get(id)
        .ok_or_else(|| ApiError(Error::not_found("layer")))
}

async fn list(State(app): State<App>, User(actor): User, headers: HeaderMap) -> Json<Value> {
    let lang = lang(&headers);
    let collections: Vec<Value> = app
        .registry
        .iter()
        .filter(|l| l.read_scope(&actor) != crate::domain::access::Scope::Nothing)
        .map(|l| collection(l, lang))
        .collect();
    Json(
        json!({"collections": collections, "links": [{"rel": "self", "href": "/collections", "type": "application/json"}]}),
    )
}

async fn describe(
    State(app): State<App>,
    User(actor): User,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    let l = layer(&app, &id)?;
    if l.read_scope(&actor) == crate::domain::access::Scope::Nothing {
        return Err(ApiError(Error::not_found("layer")));
    }
    Ok(Json(collection(l, lang(&headers))))
}

/// Parses `bbox=minlon,minlat,maxlon,maxlat`.
pub fn parse_bbox(s: &str) -> Result<[f64; 4], Error> {
    let v: Vec<f64> = s
        .split(',')
        .map(|p| p.trim().parse::<f64>())
        .collect::<Result<_, _>>()
        .map_err(|_| Error::bad_request("bad_bbox"))?;
    match v.as_slice() {
        [x0, y0, x1, y1] if v.iter().all(|x| x.is_finite()) && x0 <= x1 && y0 <= y1 => {
            Ok([*x0, *y0, *x1, *y1])
        }
        _ => Err(Error::bad_request("bad_bbox")),
    }
}

fn parse_usize(
    q: &HashMap<String, String>,
    name: &'static str,
    default: usize,
    max: usize,
) -> Result<usize, Error> {
    match q.get(name) {
        None => Ok(default),
        Some(s) => s
            .parse::<usize>()
            .ok()
            .filter(|n| *n <= max)
            .ok_or_else(|| {
                Error::bad_request("bad_query")
                    .arg("param", name)
                    .arg("detail", format!("0..={max}"))
            }),
    }
}

async fn items(
    State(app): State<App>,
    User(actor): User,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let l = layer(&app, &id)?.clone();
    let scope = l.read_scope(&actor);
    let bbox = q.get("bbox").map(|s| parse_bbox(s)).transpose()?;
    let limit = parse_usize(&q, "limit", DEFAULT_LIMIT, MAX_LIMIT)?.max(1);
    let offset = parse_usize(&q, "offset", 0, usize::MAX)?;
    let equals = q
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "bbox" | "limit" | "offset" | "f"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let query = ItemQuery {
        bbox,
        limit,
        offset,
        equals,
    };
    let since = watch_since(chrono::Utc::now(), &app.rules);
    let page = app
        .db
        .read(move |c| features::items(c, &l, &scope, &query, &since))
        .await?;
    let n = page.features.len();
    let mut params: Vec<String> = q
        .iter()
        .filter(|(k, _)| k.as_str() != "offset")
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    params.sort();
    let base = format!("/collections/{id}/items");
    let mut links = vec![
        json!({"rel": "self", "type": "application/geo+json", "href": format!("{base}?{}", [params.clone(), vec![format!("offset={offset}")]].concat().join("&"))}),
    ];
    if page.more {
        let next = [params, vec![format!("offset={}", offset + n)]]
            .concat()
            .join("&");
        links.push(json!({"rel": "next", "type": "application/geo+json", "href": format!("{base}?{next}")}));
    }
    Ok(Json(json!({
        "type": "FeatureCollection",
        "features": page.features,
        "numberReturned": n,
        "timeStamp": crate::store::fires::ts(chrono::Utc::now()),
        "links": links,
    })))
}

async fn item(
    State(app): State<App>,
    User(actor): User,
    Path((id, fid)): Path<(String, String)>,
) -> Result<Json<Value>, ApiError> {
    let l = layer(&app, &id)?.clone();
    let scope = l.read_scope(&actor);
    let since = watch_since(chrono::Utc::now(), &app.rules);
    let f = app
        .db
        .read(move |c| features::item(c, &l, &scope, &fid, &since))
        .await?;
    f.map(Json)
        .ok_or_else(|| ApiError(Error::not_found("feature")))
}

/// The layer files as the web app needs them (titles, fields, styles), for legends and forms.
async fn layers(State(app): State<App>, User(actor): User) -> Json<Value> {
    let v: Vec<Value> = app
        .registry
        .iter()
        .filter(|l| l.read_scope(&actor) != crate::domain::access::Scope::Nothing)
        .map(|l| serde_json::to_value(l).unwrap_or(Value::Null))
        .collect();
    Json(json!({"layers": v}))
}

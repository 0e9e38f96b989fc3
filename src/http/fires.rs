//! Fire reports and their life: `POST /api/fires`, `GET /api/fires[/{id}]`,
//! `POST /api/fires/{id}/events`.

use std::collections::HashMap;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::routing::{get, post};
use rusqlite::types::Value as Sql;
use serde_json::{Value, json};

use super::error::ApiError;
use super::extract::{Json, User};
use crate::app::App;
use crate::domain::access::fire_scope;
use crate::error::Error;
use crate::service::fires::{self as service, ActionInput, Ctx, watch_since};
use crate::store::features::scope_sql;
use crate::store::fires as store;

pub fn router() -> Router<App> {
    Router::new()
        .route("/api/fires", post(report).get(list))
        .route("/api/fires/{id}", get(show))
        .route("/api/fires/{id}/events", post(act))
}

async fn report(
    State(app): State<App>,
    User(actor): User,
    Json(body): Json<Value>,
) -> Result<(StatusCode, axum::Json<Value>), ApiError> {
    let now = chrono::Utc::now();
    let (a, index) = (app.clone(), app.index());
    let (reported, feature) = app
        .db
        .write(move |tx| {
            let ctx = Ctx {
                registry: &a.registry,
                index: &index,
                rules: &a.rules,
            };
            let r = service::report(tx, &ctx, &actor, &body, now)?;
            let state = store::state(tx, &r.fire)?;
            let f = service::feature(&r.fire, &actor, now, &a.rules, Some(&state));
            Ok::<_, Error>((r, f))
        })
        .await?;
    let mut feature = feature;
    if let Some(p) = feature.get_mut("properties").and_then(Value::as_object_mut) {
        p.insert("nearby_open".into(), json!(reported.nearby_open));
        p.insert("nearby_cleared".into(), json!(reported.nearby_cleared));
    }
    let status = if reported.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, axum::Json(feature)))
}

async fn show(
    State(app): State<App>,
    User(actor): User,
    Path(id): Path<String>,
) -> Result<axum::Json<Value>, ApiError> {
    let now = chrono::Utc::now();
    let rules = app.rules.clone();
    let v = app
        .db
        .read(move |c| {
            let Some(f) = store::get(c, &id)?.filter(|f| service::visible(&actor, f, now, &rules))
            else {
                return Err(Error::not_found("fire"));
            };
            let state = store::state(c, &f)?;
            let mut feature = service::feature(&f, &actor, now, &rules, Some(&state));
            let events = service::events_for(store::events(c, &f.id)?, &actor);
            let photos: Vec<Value> = crate::store::photos::for_fire(c, &f.id)?
                .iter()
                .map(super::photos::photo_json)
                .collect();
            if let Some(p) = feature.get_mut("properties").and_then(Value::as_object_mut) {
                p.insert("events".into(), json!(events));
                p.insert("photos".into(), json!(photos));
            }
            Ok(feature)
        })
        .await?;
    Ok(axum::Json(v))
}

async fn act(
    State(app): State<App>,
    User(actor): User,
    Path(id): Path<String>,
    Json(input): Json<ActionInput>,
) -> Result<axum::Json<Value>, ApiError> {
    let now = chrono::Utc::now();
    let (a, index) = (app.clone(), app.index());
    let v = app
        .db
        .write(move |tx| {
            let ctx = Ctx {
                registry: &a.registry,
                index: &index,
                rules: &a.rules,
            };
            let f = service::act(tx, &ctx, &actor, &id, &input, now)?;
            // The actor may no longer see it (a reassigned fire): answer with what they did see.
            let state = store::state(tx, &f)?;
            Ok::<_, Error>(service::feature(&f, &actor, now, &a.rules, Some(&state)))
        })
        .await?;
    Ok(axum::Json(v))
}

/// The fires this user may see, as GeoJSON, soonest deadline first. Filters: `status` (a status,
/// or `burning` / `open`), `kind`, `district`, `bbox`.
async fn list(
    State(app): State<App>,
    User(actor): User,
    Query(q): Query<HashMap<String, String>>,
) -> Result<axum::Json<Value>, ApiError> {
    let now = chrono::Utc::now();
    let rules = app.rules.clone();
    let layer = app
        .registry
        .get("fire_points")
        .cloned()
        .ok_or_else(|| ApiError(Error::not_found("layer")))?;
    let bbox = q
        .get("bbox")
        .map(|s| super::collections::parse_bbox(s))
        .transpose()?;
    let v = app
        .db
        .read(move |c| {
            let (cond, mut params) = scope_sql(&layer, &fire_scope(&actor), &watch_since(now, &rules));
            let mut sql = cond;
            match q.get("status").map(String::as_str) {
                None | Some("") => {}
                Some("burning") => sql += " AND t.status IN ('reported','confirmed','treating','reignited')",
                Some("open") => sql += " AND t.status IN ('reported','confirmed','treating','reignited','controlled','extinguished')",
                Some(s) => {
                    sql += " AND t.status = ?";
                    params.push(Sql::Text(s.into()));
                }
            }
            for (k, col) in [("kind", "kind"), ("district", "district_code")] {
                if let Some(v) = q.get(k).filter(|v| !v.is_empty()) {
                    sql += &format!(" AND t.{col} = ?");
                    params.push(Sql::Text(v.clone()));
                }
            }
            if let Some([x0, y0, x1, y1]) = bbox {
                sql += " AND t.fid IN (SELECT id FROM rtree_fire_points_geom WHERE minx <= ? AND maxx >= ? AND miny <= ? AND maxy >= ?)";
                params.extend([Sql::Real(x1), Sql::Real(x0), Sql::Real(y1), Sql::Real(y0)]);
            }
            let fires = store::get_many(c, &sql, params)?;
            let features: Vec<Value> = fires
                .iter()
                .map(|f| {
                    let state = store::state(c, f).ok();
                    service::feature(f, &actor, now, &rules, state.as_ref())
                })
                .collect();
            Ok::<_, Error>(json!({"type": "FeatureCollection", "features": features, "numberReturned": features.len()}))
        })
        .await?;
    Ok(axum::Json(v))
}

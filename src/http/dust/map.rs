//! What the dust map needs: `GET /api/dust/monitors` (each with its latest figures and state),
//! `GET /api/dust/rules` (limits, thresholds, measures with their labels) and
//! `GET /api/dust/suggestions` (high wind, for managers).

use std::collections::HashMap;

use crate::http::paging::{self, Bounds, Page};
use crate::http::routes::Routes;
use axum::extract::{Query, State};
use serde_json::{Value, json};

use crate::app::App;
use crate::domain::dust::{MEASURES, WarningLevel};
use crate::http::error::ApiError;
use crate::http::extract::User;
use crate::i18n::{Lang, text};
use crate::service::dust::map as service;

const LAYER: &str = "dust_monitors";

pub fn router() -> Routes {
    Routes::new()
        .get("/api/dust/monitors", monitors)
        .get("/api/dust/rules", rules)
        .get("/api/dust/suggestions", suggestions)
}

fn layer(app: &App) -> Result<std::sync::Arc<crate::layers::Layer>, ApiError> {
    app.registry.lookup(LAYER).cloned().map_err(ApiError)
}

/// The page sizes of `GET /api/dust/monitors`.
pub const PAGE: Bounds = Bounds::new(200, 1000);

/// The monitors this user may see, by MN, one page at a time (`limit`, `offset`).
async fn monitors(
    State(app): State<App>,
    User(actor): User,
    Query(q): Query<HashMap<String, String>>,
) -> Result<axum::Json<Value>, ApiError> {
    let slice = paging::slice(&q, PAGE)?;
    let now = chrono::Utc::now();
    let layer = layer(&app)?;
    let listing = app
        .db
        .read(move |tx| service::monitors(tx, &layer, &actor, now, slice))
        .await?;
    Ok(axum::Json(Page::listing(
        "/api/dust/monitors",
        &q,
        slice,
        "monitors",
        listing,
    )))
}

/// Both languages' labels for a code, so forms show them without a second table.
fn labelled(prefix: &str, code: &str) -> Value {
    let key = format!("{prefix}{code}");
    json!({"code": code, "zh": text(Lang::Zh, &key), "en": text(Lang::En, &key)})
}

async fn rules(State(app): State<App>, User(_): User) -> Result<axum::Json<Value>, ApiError> {
    let rules = app.db.read(|tx| crate::service::rules::dust(tx)).await?;
    Ok(axum::Json(json!({
        "rules": rules,
        "levels": WarningLevel::ALL.map(|l| labelled("dust.level.", l.as_str())),
        "measures": MEASURES.map(|m| labelled("dust.measure.", m)),
    })))
}

async fn suggestions(
    State(app): State<App>,
    User(actor): User,
) -> Result<axum::Json<Value>, ApiError> {
    let now = chrono::Utc::now();
    let layer = layer(&app)?;
    let index = app.index();
    let v = app
        .db
        .read(move |tx| service::suggestions(tx, &layer, &index, &actor, now))
        .await?;
    Ok(axum::Json(v))
}

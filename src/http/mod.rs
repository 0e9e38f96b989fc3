//! The HTTP API: one file per route group, assembled here.

pub mod auth;
pub mod clearance;
pub mod collections;
pub mod error;
pub mod extract;
pub mod fires;
pub mod notifications;
pub mod photos;

use axum::extract::DefaultBodyLimit;
use axum::{Router, middleware};
use tower_http::services::{ServeDir, ServeFile};
use tower_http::trace::TraceLayer;

use crate::app::App;

/// Request bodies over this are refused with 413.
pub const BODY_LIMIT: usize = 1 << 20;

/// What the web app needs before signing in: the basemap, if one is configured.
async fn config(
    axum::extract::State(app): axum::extract::State<App>,
) -> axum::Json<serde_json::Value> {
    axum::Json(serde_json::json!({ "tiles": app.tiles }))
}

async fn not_found() -> error::ApiError {
    error::ApiError(crate::error::Error::not_found("page"))
}

/// The whole application as a router (tests call it directly).
pub fn router(app: App) -> Router {
    let mut r = Router::new()
        .merge(auth::router())
        .merge(collections::router())
        .merge(fires::router())
        .merge(clearance::router())
        .merge(photos::router())
        .merge(notifications::router())
        .route("/config.json", axum::routing::get(config))
        // Unknown API paths answer a JSON 404, never the web app's index page.
        .route("/api/{*rest}", axum::routing::any(not_found));
    if let Some(dir) = &app.web_dir {
        r = r.fallback_service(ServeDir::new(dir).fallback(ServeFile::new(dir.join("index.html"))));
    }
    r.layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(middleware::from_fn(error::localize))
        .layer(TraceLayer::new_for_http())
        .with_state(app)
}

//! The HTTP API: one file per route group, assembled here.

pub mod audit;
pub mod auth;
pub mod case;
pub mod clearance;
pub mod collections;
pub mod dust;
pub mod dust_issues;
pub mod error;
pub mod export;
pub mod extract;
pub mod fires;
pub mod notifications;
pub mod ogc;
pub mod paging;
pub mod photos;
pub mod routes;
pub mod security;
pub mod static_files;
pub mod users;
pub mod webhooks;

use axum::extract::DefaultBodyLimit;
use axum::{Router, middleware};
use tower_http::compression::CompressionLayer;
use tower_http::trace::TraceLayer;

use crate::app::App;

/// Request bodies over this are refused with 413.
pub const BODY_LIMIT: usize = 1 << 20;

/// What the web app needs before signing in: the basemap, if one is configured.
async fn config(
    axum::extract::State(app): axum::extract::State<App>,
) -> axum::Json<serde_json::Value> {
    axum::Json(serde_json::json!({ "tiles": app.tiles.as_deref() }))
}

async fn not_found() -> error::ApiError {
    error::ApiError(crate::error::Error::not_found("page"))
}

/// Every route of the application, each group's in turn.
fn routes() -> routes::Routes {
    routes::Routes::new()
        .merge(auth::router())
        .merge(collections::router())
        .merge(ogc::router())
        .merge(fires::router())
        .merge(clearance::router())
        .merge(dust::readings::router())
        .merge(dust::alerts::router())
        .merge(dust_issues::router())
        .merge(dust::map::router())
        .merge(dust::warnings::router())
        .merge(export::router())
        .merge(photos::router())
        .merge(notifications::router())
        .merge(webhooks::router())
        .merge(users::router())
        .merge(audit::router())
        .get("/config.json", config)
        // Unknown API paths answer a JSON 404, never the web app's index page.
        .any("/api/{*rest}", not_found)
}

/// The (method, path) of every route [`router`] serves, from the same table (the static files
/// of the web app, a fallback, are not among them).
pub fn route_list() -> Vec<routes::Route> {
    routes().list().to_vec()
}

/// The whole application as a router (tests call it directly).
pub fn router(app: App) -> Router {
    let mut r = routes()
        .into_router()
        // Every write request is recorded; a route layer sees the route as declared.
        .route_layer(middleware::from_fn_with_state(
            app.clone(),
            audit::record_writes,
        ));
    if let Some(dir) = &app.web_dir {
        r = r.fallback_service(static_files::service(dir));
    }
    let r = r
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(middleware::from_fn_with_state(
            app.clone(),
            security::cross_site_writes,
        ))
        .layer(middleware::from_fn(error::localize));
    security::with_headers(r, &app)
        .layer(compression())
        .layer(TraceLayer::new_for_http())
        .with_state(app)
}

/// gzip or Brotli for a client that asks (`Accept-Encoding`), on every answer worth it: JSON,
/// GeoJSON, HTML, scripts, styles, SVG, CSV, KML. Not on what is compressed already — photos and
/// other images, zipped Shapefiles, XLSX workbooks, or anything that says its own
/// `Content-Encoding` (a pre-compressed vector tile) — nor on answers too small to gain.
/// Level 4 for both: Brotli's own default (11) costs about a hundred times the CPU of 4 for a
/// few per cent less, which a server answering every map request cannot afford.
fn compression() -> CompressionLayer<impl tower_http::compression::Predicate> {
    use tower_http::CompressionLevel;
    use tower_http::compression::predicate::{DefaultPredicate, NotForContentType, Predicate};
    CompressionLayer::new()
        .gzip(true)
        .br(true)
        .quality(CompressionLevel::Precise(4))
        .compress_when(
            DefaultPredicate::new()
                .and(NotForContentType::const_new("application/zip"))
                .and(NotForContentType::const_new(
                    "application/vnd.openxmlformats",
                )),
        )
}

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
pub mod photos;
pub mod routes;
pub mod security;
pub mod users;
pub mod webhooks;

use axum::extract::DefaultBodyLimit;
use axum::response::IntoResponse;
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
        // The app's own routes (no file extension) get index.html; a missing file is a 404, so a
        // broken asset path shows up as an error rather than as HTML.
        let index = ServeFile::new(dir.join("index.html"));
        let spa = tower::service_fn(move |req: axum::extract::Request| {
            let is_file = req
                .uri()
                .path()
                .rsplit('/')
                .next()
                .is_some_and(|last| last.contains('.'));
            let mut index = index.clone();
            async move {
                if is_file {
                    Ok(axum::http::StatusCode::NOT_FOUND.into_response())
                } else {
                    tower::Service::call(&mut index, req)
                        .await
                        .map(|r| r.into_response())
                }
            }
        });
        r = r.fallback_service(ServeDir::new(dir).fallback(spa));
    }
    let r = r
        .layer(DefaultBodyLimit::max(BODY_LIMIT))
        .layer(middleware::from_fn_with_state(
            app.clone(),
            security::cross_site_writes,
        ))
        .layer(middleware::from_fn(error::localize));
    security::with_headers(r, &app)
        .layer(TraceLayer::new_for_http())
        .with_state(app)
}

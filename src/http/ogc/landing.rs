//! The landing page (Part 1 §7.2), the conformance declaration (§7.4) and the API definition
//! (§7.3). `/` is shared with the web app: browsers (and anything not asking for JSON) get the
//! app's page; `Accept: application/json` or `?f=json` gets the landing page, `?f=html` its
//! HTML view. These three are public: they describe the service, not its data.

use std::collections::HashMap;

use axum::extract::{Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use tower_http::services::ServeFile;

use super::{
    Format, HTML, JSON, OPENAPI_JSON, base_url, format, html, html_response, json_response, lang,
    link, weight,
};
use crate::app::App;
use crate::http::error::ApiError;
use crate::i18n::{Lang, text};

/// What the server conforms to (the classes GDAL, QGIS and OWSLib look for).
pub const CONFORMANCE: &[&str] = &[
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    "http://www.opengis.net/spec/cql2/1.0/conf/advanced-comparison-operators",
    "http://www.opengis.net/spec/cql2/1.0/conf/case-insensitive-comparison",
    "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/create-replace-delete",
    "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/update",
    "http://www.opengis.net/spec/ogcapi-features-4/1.0/conf/features",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tileset",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tilesets-list",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/geodata-tilesets",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/mvt",
    "http://www.opengis.net/spec/tms/2.0/conf/tilematrixset",
    "http://www.opengis.net/spec/tms/2.0/conf/json-tilematrixset",
];

fn landing_json(base: &str, lang: Lang) -> Value {
    json!({
        "title": text(lang, "ogc.title"),
        "description": text(lang, "ogc.description"),
        "links": [
            link("self", JSON, format!("{base}/?f=json"), None),
            link("alternate", HTML, format!("{base}/?f=html"), None),
            link("service-desc", OPENAPI_JSON, format!("{base}/api"), Some("OpenAPI 3.0")),
            link("conformance", JSON, format!("{base}/conformance"), Some(text(lang, "ogc.conformance"))),
            link("http://www.opengis.net/def/rel/ogc/1.0/conformance", JSON, format!("{base}/conformance"), None),
            link("data", JSON, format!("{base}/collections"), Some(text(lang, "ogc.collections"))),
            link("http://www.opengis.net/def/rel/ogc/1.0/data", JSON, format!("{base}/collections"), None),
            link(super::tiles::REL_TILING_SCHEMES, JSON, format!("{base}/tileMatrixSets"), Some(text(lang, "ogc.tile_matrix_sets"))),
        ],
    })
}

/// Whether the request names the OGC representation: `f`, or JSON preferred in `Accept`.
fn wants_ogc(q: &HashMap<String, String>, headers: &HeaderMap) -> bool {
    if q.contains_key("f") {
        return true;
    }
    let Some(accept) = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let json = weight(accept, &[JSON, super::GEOJSON]).unwrap_or(0.0);
    let html = weight(accept, &[HTML, "application/xhtml+xml"]).unwrap_or(0.0);
    json > 0.0 && json >= html
}

/// `GET /`: the web app, or the landing page when asked for.
pub async fn landing(
    State(app): State<App>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
    req: Request,
) -> Result<Response, ApiError> {
    if !wants_ogc(&q, &headers)
        && let Some(dir) = &app.web_dir
    {
        // The service worker caches `/` with `Accept: */*`: it must get the app too.
        return Ok(
            match ServeFile::new(dir.join("index.html")).try_call(req).await {
                Ok(res) => res.into_response(),
                Err(e) => {
                    tracing::error!(error = %e, "cannot serve the web app's index.html");
                    StatusCode::INTERNAL_SERVER_ERROR.into_response()
                }
            },
        );
    }
    let (lang, base) = (lang(&headers), base_url(&headers));
    let v = landing_json(&base, lang);
    Ok(match format(&q, &headers)? {
        Format::Json => json_response(&v, JSON),
        Format::Html => html_response(html::landing(&v, lang)),
    })
}

/// `GET /conformance`.
pub async fn conformance(
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let lang = lang(&headers);
    let v = json!({"conformsTo": CONFORMANCE});
    Ok(match format(&q, &headers)? {
        Format::Json => json_response(&v, JSON),
        Format::Html => html_response(html::conformance(&v, lang)),
    })
}

/// `GET /api`: the OpenAPI 3.0 document, as JSON.
pub async fn api(State(app): State<App>, headers: HeaderMap) -> Response {
    let (lang, base) = (lang(&headers), base_url(&headers));
    json_response(
        &super::openapi::document(&app.registry, &base, lang),
        OPENAPI_JSON,
    )
}

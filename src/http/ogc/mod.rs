//! OGC API - Features over the layers: Part 1 (core, GeoJSON, HTML, OpenAPI 3.0), Part 2
//! (CRS by reference), Part 3 (queryables, CQL2 text filters) and Part 4 (create, replace,
//! update, delete). What a user sees follows the layer files' read scopes, as in the rest of
//! the API; links are absolute and respect `Forwarded` / `X-Forwarded-*` (as pg_featureserv's).

pub mod cql2;
pub mod crs;
pub mod edit;
pub mod fields;
pub mod filter;
pub mod html;
pub mod items;
pub mod landing;
pub mod openapi;
pub mod openapi_lists;
pub mod tiles;

use std::collections::HashMap;

use crate::http::routes::Routes;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use crate::error::Error;
use crate::i18n::Lang;

/// Media types of the responses.
pub const GEOJSON: &str = "application/geo+json";
pub const JSON: &str = "application/json";
pub const SCHEMA_JSON: &str = "application/schema+json";
pub const OPENAPI_JSON: &str = "application/vnd.oai.openapi+json;version=3.0";
pub const HTML: &str = "text/html";

/// The route table, in one place.
pub fn router() -> Routes {
    Routes::new()
        .get("/", landing::landing)
        .get("/conformance", landing::conformance)
        .get("/api", landing::api)
        .get("/collections", items::collections)
        .get("/collections/{id}", items::collection)
        .get("/collections/{id}/queryables", items::queryables)
        .get("/collections/{id}/schema", items::schema)
        .get("/collections/{id}/items", items::items)
        .post("/collections/{id}/items", edit::create)
        .options("/collections/{id}/items", edit::options_items)
        .get("/collections/{id}/items/{fid}", items::item)
        .put("/collections/{id}/items/{fid}", edit::replace)
        .patch("/collections/{id}/items/{fid}", edit::update)
        .delete("/collections/{id}/items/{fid}", edit::delete)
        .options("/collections/{id}/items/{fid}", edit::options_item)
        .get("/tileMatrixSets", tiles::tile_matrix_sets)
        .get("/tileMatrixSets/{tms}", tiles::tile_matrix_set)
        .get("/collections/{id}/tiles", tiles::tilesets)
        .get("/collections/{id}/tiles/{tms}", tiles::tileset)
        .get("/collections/{id}/tiles/{tms}/{z}/{y}/{x}", tiles::tile)
}

/// The request's language from `Accept-Language`.
pub fn lang(headers: &HeaderMap) -> Lang {
    Lang::from_accept_language(
        headers
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok()),
    )
}

/// The scheme and host links start with, as the client reached us: `Forwarded`, then
/// `X-Forwarded-Proto` / `X-Forwarded-Host`, then `Host`. Values that are not a plain host are
/// ignored, so a header cannot inject markup or a path into links.
pub fn base_url(headers: &HeaderMap) -> String {
    let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    let mut proto = None;
    let mut host = None;
    if let Some(fwd) = get("forwarded").and_then(|f| f.split(',').next()) {
        for pair in fwd.split(';') {
            if let Some((k, v)) = pair.trim().split_once('=') {
                let v = v.trim().trim_matches('"');
                match k.trim().to_ascii_lowercase().as_str() {
                    "proto" => proto = Some(v.to_string()),
                    "host" => host = Some(v.to_string()),
                    _ => {}
                }
            }
        }
    }
    let first = |s: &str| s.split(',').next().unwrap_or("").trim().to_string();
    proto = proto.or_else(|| get("x-forwarded-proto").map(first));
    host = host
        .or_else(|| get("x-forwarded-host").map(first))
        .or_else(|| get("host").map(first));
    let proto = proto
        .filter(|p| p.eq_ignore_ascii_case("http") || p.eq_ignore_ascii_case("https"))
        .map_or_else(|| "http".to_string(), |p| p.to_ascii_lowercase());
    match host.filter(|h| {
        !h.is_empty()
            && h.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | ':' | '[' | ']'))
    }) {
        Some(h) => format!("{proto}://{h}"),
        // No usable host: root-relative links, which clients resolve against the request.
        None => String::new(),
    }
}

/// A representation a client asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Html,
}

/// The `q` weight a media range gives a type, if it mentions it.
fn weight(accept: &str, wanted: &[&str]) -> Option<f32> {
    crate::i18n::weighted(accept)
        .filter_map(|(range, q)| {
            wanted
                .contains(&range.to_ascii_lowercase().as_str())
                .then_some(q)
        })
        .reduce(f32::max)
}

/// `f=json|html` first, then `Accept`: HTML only when the client prefers it to JSON (browsers
/// do); anything else, `*/*` included, gets JSON.
pub fn format(q: &HashMap<String, String>, headers: &HeaderMap) -> Result<Format, Error> {
    match q.get("f").map(|f| f.to_ascii_lowercase()) {
        Some(f) if f == "json" || f == "geojson" => return Ok(Format::Json),
        Some(f) if f == "html" => return Ok(Format::Html),
        Some(f) => {
            return Err(Error::bad_request("bad_query")
                .arg("param", "f")
                .arg("detail", format!("{f}: json, html")));
        }
        None => {}
    }
    Ok(
        match headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()) {
            None => Format::Json,
            Some(a) => {
                let html = weight(a, &["text/html", "application/xhtml+xml"]).unwrap_or(0.0);
                let json =
                    weight(a, &[JSON, GEOJSON, "application/*", SCHEMA_JSON, "*/*"]).unwrap_or(0.0);
                if html > 0.0 && html >= json {
                    Format::Html
                } else {
                    Format::Json
                }
            }
        },
    )
}

/// A JSON body with its media type.
pub fn json_response(v: &Value, content_type: &'static str) -> Response {
    let mut res = (StatusCode::OK, v.to_string()).into_response();
    res.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    res
}

/// JSON already written as bytes.
pub fn bytes_response(body: Vec<u8>, content_type: &'static str) -> Response {
    let mut res = (StatusCode::OK, body).into_response();
    res.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    res
}

/// An HTML page.
pub fn html_response(page: String) -> Response {
    let mut res = (StatusCode::OK, page).into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    res
}

/// Percent-encodes a query component (RFC 3986: unreserved characters stay).
pub fn encode(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out += &format!("%{b:02X}");
        }
    }
    out
}

/// A query string from pairs, sorted so links are stable.
pub fn query_string(pairs: &[(String, String)]) -> String {
    let mut v: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect();
    v.sort();
    v.join("&")
}

/// A link object.
pub fn link(rel: &str, media: &str, href: String, title: Option<&str>) -> Value {
    let mut l = serde_json::json!({"rel": rel, "type": media, "href": href});
    if let Some(t) = title {
        l["title"] = t.into();
    }
    l
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_static(v));
        }
        h
    }

    #[test]
    fn links_follow_the_proxy_headers_and_ignore_garbage() {
        assert_eq!(
            base_url(&headers(&[("host", "127.0.0.1:8080")])),
            "http://127.0.0.1:8080"
        );
        assert_eq!(
            base_url(&headers(&[
                ("host", "10.0.0.2:8080"),
                ("x-forwarded-proto", "https"),
                ("x-forwarded-host", "gis.wuhai.example, proxy")
            ])),
            "https://gis.wuhai.example"
        );
        assert_eq!(
            base_url(&headers(&[
                ("host", "a"),
                (
                    "forwarded",
                    "for=1.2.3.4;proto=https;host=\"map.example:8443\""
                )
            ])),
            "https://map.example:8443"
        );
        assert_eq!(
            base_url(&headers(&[("host", "evil.example/\"><script>")])),
            ""
        );
    }

    #[test]
    fn browsers_get_html_and_programs_json() {
        let none = HashMap::new();
        let browser = headers(&[(
            "accept",
            "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
        )]);
        assert_eq!(format(&none, &browser).ok(), Some(Format::Html));
        assert_eq!(
            format(&none, &headers(&[("accept", "*/*")])).ok(),
            Some(Format::Json)
        );
        assert_eq!(
            format(
                &none,
                &headers(&[("accept", "application/geo+json, application/json")])
            )
            .ok(),
            Some(Format::Json)
        );
        let f: HashMap<String, String> = [("f".to_string(), "json".to_string())].into();
        assert_eq!(format(&f, &browser).ok(), Some(Format::Json));
        let bad: HashMap<String, String> = [("f".to_string(), "xml".to_string())].into();
        assert!(format(&bad, &browser).is_err());
    }

    #[test]
    fn query_components_are_encoded() {
        assert_eq!(encode("status = 'x'"), "status%20%3D%20%27x%27");
        assert_eq!(encode("矿"), "%E7%9F%BF");
        assert_eq!(
            query_string(&[("offset".into(), "10".into()), ("limit".into(), "5".into())]),
            "limit=5&offset=10"
        );
    }
}

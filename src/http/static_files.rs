//! The web app's files, and how long a browser may keep them. The app's own files (the page,
//! its modules, styles, translations, the service worker) are `no-cache`: kept, but checked on
//! every use by `ETag` / `Last-Modified`, so a deployment shows at once and an unchanged file
//! costs a `304`. A vendored library asked for with its version (`/vendor/maplibre-gl/…?v=6.20.0`,
//! the version its `VERSION` file states) never changes under that address, so it is kept a year
//! as `immutable`; asked for otherwise it is treated as the app's own. App routes (a path without
//! a file extension) get `index.html`; a missing file is a 404, so a broken asset path shows up
//! as an error rather than as HTML. Compression is the router's, outside this.

use std::convert::Infallible;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use tower::Layer;
use tower::util::BoxCloneSyncService;
use tower_http::services::{ServeDir, ServeFile};

/// What the app's own files say: keep, but ask first.
const REVALIDATE: &str = "no-cache";
/// What a versioned vendor file says.
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// The service that serves `dir` (the router's fallback).
pub fn service(dir: &Path) -> BoxCloneSyncService<Request, Response, Infallible> {
    let index = ServeFile::new(dir.join("index.html"));
    let spa = tower::service_fn(move |req: Request| {
        let is_file = req
            .uri()
            .path()
            .rsplit('/')
            .next()
            .is_some_and(|last| last.contains('.'));
        let mut index = index.clone();
        async move {
            if is_file {
                Ok(StatusCode::NOT_FOUND.into_response())
            } else {
                tower::Service::call(&mut index, req)
                    .await
                    .map(|r| r.into_response())
            }
        }
    });
    let files = ServeDir::new(dir).fallback(spa);
    let layer = middleware::from_fn_with_state(Arc::new(dir.to_path_buf()), cache);
    BoxCloneSyncService::new(layer.layer(files))
}

/// Sets `Cache-Control` and `ETag` on a file's answer, and answers `304` to an `If-None-Match`
/// that names the file as it is.
async fn cache(State(dir): State<Arc<PathBuf>>, mut req: Request, next: Next) -> Response {
    let if_none_match = req.headers_mut().remove(header::IF_NONE_MATCH);
    if if_none_match.is_some() {
        // The tag decides (RFC 9110 §13.2.2); the date alone could call a file changed within
        // the same second unchanged.
        req.headers_mut().remove(header::IF_MODIFIED_SINCE);
    }
    let immutable = match vendor_version(req.uri().path(), req.uri().query()) {
        Some((lib, asked)) => stated_version(&dir, lib).await.as_deref() == Some(asked),
        None => false,
    };
    let mut res = next.run(req).await;
    if !matches!(res.status(), StatusCode::OK | StatusCode::NOT_MODIFIED) {
        return res;
    }
    let policy = if immutable { IMMUTABLE } else { REVALIDATE };
    let h = res.headers_mut();
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(policy));
    let Some(tag) = etag(h) else {
        return res;
    };
    let unchanged = if_none_match
        .as_ref()
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| matches_tag(v, &tag));
    if unchanged {
        let mut not_modified = StatusCode::NOT_MODIFIED.into_response();
        let h304 = not_modified.headers_mut();
        for name in [header::CACHE_CONTROL, header::LAST_MODIFIED] {
            if let Some(v) = res.headers().get(&name) {
                h304.insert(name, v.clone());
            }
        }
        if let Ok(v) = HeaderValue::from_str(&tag) {
            h304.insert(header::ETAG, v);
        }
        return not_modified;
    }
    if let Ok(v) = HeaderValue::from_str(&tag) {
        res.headers_mut().insert(header::ETAG, v);
    }
    res
}

/// A weak tag from the file's size and modification time (what the file server tells), as
/// common servers make them: a changed file gets a new one.
fn etag(h: &HeaderMap) -> Option<String> {
    let len: u64 = h.get(header::CONTENT_LENGTH)?.to_str().ok()?.parse().ok()?;
    let modified = h.get(header::LAST_MODIFIED)?.to_str().ok()?;
    let t = chrono::DateTime::parse_from_rfc2822(modified).ok()?;
    Some(format!("W/\"{len:x}-{:x}\"", t.timestamp()))
}

/// Whether an `If-None-Match` value names `tag` (weak comparison), or is `*`.
fn matches_tag(header_value: &str, tag: &str) -> bool {
    let bare = |t: &str| t.trim().trim_start_matches("W/").to_string();
    header_value
        .split(',')
        .any(|t| t.trim() == "*" || bare(t) == bare(tag))
}

/// `(library, version)` of a vendor file asked for with its version: `/vendor/{lib}/…?v={ver}`.
fn vendor_version<'a>(path: &'a str, query: Option<&'a str>) -> Option<(&'a str, &'a str)> {
    let rest = path.strip_prefix("/vendor/")?;
    let (lib, file) = rest.split_once('/')?;
    let plain = |s: &str| {
        !s.is_empty()
            && s != "."
            && s != ".."
            && s.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    };
    if !plain(lib) || file.is_empty() {
        return None;
    }
    let v = query?
        .split('&')
        .find_map(|kv| kv.strip_prefix("v="))
        .filter(|v| plain(v))?;
    Some((lib, v))
}

/// The version a vendored library's `VERSION` file states (written by `web/vendor.sh`).
async fn stated_version(dir: &Path, lib: &str) -> Option<String> {
    let text = tokio::fs::read_to_string(dir.join("vendor").join(lib).join("VERSION"))
        .await
        .ok()?;
    Some(text.trim().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_plain_library_and_version_count_as_versioned() {
        assert_eq!(
            vendor_version("/vendor/leaflet/leaflet.css", Some("v=1.9.4")),
            Some(("leaflet", "1.9.4"))
        );
        assert_eq!(vendor_version("/vendor/leaflet/leaflet.css", None), None);
        assert_eq!(vendor_version("/vendor/../x/y", Some("v=1")), None);
        assert_eq!(vendor_version("/js/main.js", Some("v=1")), None);
        assert_eq!(
            vendor_version("/vendor/leaflet/a.js", Some("v=../../x")),
            None
        );
    }

    #[test]
    fn tags_compare_weakly_and_star_matches() {
        assert!(matches_tag("W/\"a-b\"", "W/\"a-b\""));
        assert!(matches_tag("\"x\", \"a-b\"", "W/\"a-b\""));
        assert!(matches_tag("*", "W/\"a-b\""));
        assert!(!matches_tag("W/\"a-c\"", "W/\"a-b\""));
    }
}

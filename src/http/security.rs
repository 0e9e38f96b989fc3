//! Browser-facing hardening: the security headers on every answer (a Content-Security-Policy the
//! web app and the OGC HTML pages pass, no sniffing, no framing, no referrer to other sites,
//! `no-store` on authenticated answers) and the cross-site request check on writes that
//! authenticate by the session cookie.

use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use tower_http::set_header::SetResponseHeaderLayer;

use super::error::ApiError;
use super::extract;
use crate::app::App;
use crate::error::{Error, Kind};

/// The Content-Security-Policy: only our own scripts, styles and connections (and the OGC HTML
/// pages' one style block, by its hash); images and connections also to the basemap's tile
/// host when one is configured (the map library fetches raster tiles, then decodes them into
/// images). Its workers are module scripts of our own origin, so `script-src 'self'` covers
/// them and no `worker-src` is needed.
pub fn content_security_policy(tiles: Option<&str>) -> String {
    let tile_host = tiles
        .and_then(origin_of)
        .map(|o| format!(" {o}"))
        .unwrap_or_default();
    format!(
        "default-src 'self'; script-src 'self'; style-src 'self' {}; img-src 'self' data: blob:{tile_host}; \
         connect-src 'self'{tile_host}; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; \
         form-action 'self'",
        crate::http::ogc::html::style_hash(),
    )
}

/// `scheme://host[:port]` of a URL (or URL template such as a tile source), lower-cased.
fn origin_of(url: &str) -> Option<String> {
    let (scheme, rest) = url.trim().split_once("://")?;
    let host = rest.split(['/', '?', '#']).next()?;
    // The subdomain placeholder `{s}` as the first label is a CSP wildcard; any other
    // placeholder in the host would not make a valid source, so it is left out.
    let host = match host.strip_prefix("{s}.") {
        Some(rest) => format!("*.{rest}"),
        None => host.to_string(),
    };
    if host.is_empty() || host.contains(['{', '}', ' ', ';', ',', '\'']) {
        return None;
    }
    Some(format!("{scheme}://{host}").to_ascii_lowercase())
}

/// Adds the security headers to every answer of `router` (API, static files and errors alike).
pub fn with_headers(router: Router<App>, app: &App) -> Router<App> {
    let csp = HeaderValue::from_str(&content_security_policy(app.tiles.as_deref()))
        .unwrap_or_else(|_| HeaderValue::from_static("default-src 'self'"));
    router
        .layer(middleware::from_fn(no_store_when_authenticated))
        .layer(SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            csp,
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
}

/// Answers to requests carrying a session or token (and the login answer, which sets one) must
/// not be kept by a shared cache or the browser's disk cache. Static files (served by the
/// fallback, so without a matched route) may be cached even when the cookie comes along, and so
/// may answers that say `private, no-cache` themselves (map tiles: kept by the browser only,
/// revalidated with their ETag every time).
async fn no_store_when_authenticated(req: Request, next: Next) -> Response {
    let routed = req.extensions().get::<MatchedPath>().is_some();
    let credentials = extract::bearer(req.headers()).is_some()
        || extract::session_cookie(req.headers()).is_some();
    let mut res = next.run(req).await;
    let revalidated = res
        .headers()
        .get(header::CACHE_CONTROL)
        .is_some_and(|v| v.as_bytes() == b"private, no-cache");
    if routed && !revalidated && (credentials || res.headers().contains_key(header::SET_COOKIE)) {
        res.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    res
}

const SEC_FETCH_SITE: HeaderName = HeaderName::from_static("sec-fetch-site");

/// Refuses (403) a write authenticated by the session cookie that comes from another site: the
/// browser sends the cookie along with any form or fetch, so the write must show it came from
/// our own pages. Bearer-token clients (GIS, devices) hold their token themselves and are not
/// checked.
pub async fn cross_site_writes(State(app): State<App>, req: Request, next: Next) -> Response {
    let unsafe_method = !matches!(
        *req.method(),
        Method::GET | Method::HEAD | Method::OPTIONS | Method::TRACE
    );
    let by_cookie = extract::bearer(req.headers()).is_none()
        && extract::session_cookie(req.headers()).is_some();
    if unsafe_method && by_cookie && !same_origin(req.headers(), req.uri(), &app.allowed_origins) {
        return ApiError(Error::new(Kind::Forbidden, "cross_origin")).into_response();
    }
    next.run(req).await
}

/// Whether a request comes from our own origin: its `Origin` (or, without one, its `Referer`)
/// names the host the request was sent to, or is one of the configured allowed origins.
/// `Sec-Fetch-Site: cross-site` is cross-origin whatever the rest says; a request with neither
/// `Origin` nor `Referer` is not trusted.
pub fn same_origin(headers: &HeaderMap, uri: &axum::http::Uri, allowed: &[String]) -> bool {
    let get = |h: &HeaderName| headers.get(h).and_then(|v| v.to_str().ok());
    let origin = get(&header::ORIGIN)
        .map(|o| o.trim().trim_end_matches('/').to_ascii_lowercase())
        .or_else(|| get(&header::REFERER).and_then(origin_of));
    let Some(origin) = origin else { return false };
    if allowed.contains(&origin) {
        return true;
    }
    if get(&SEC_FETCH_SITE).is_some_and(|s| s.eq_ignore_ascii_case("cross-site")) {
        return false;
    }
    let host = get(&header::HOST)
        .map(str::to_string)
        .or_else(|| uri.authority().map(|a| a.to_string()));
    let (Some(host), Some((scheme, authority))) = (host, origin.split_once("://")) else {
        return false;
    };
    without_default_port(scheme, authority)
        == without_default_port(scheme, &host.to_ascii_lowercase())
}

fn without_default_port<'a>(scheme: &str, authority: &'a str) -> &'a str {
    let default = match scheme {
        "http" => ":80",
        "https" => ":443",
        _ => return authority,
    };
    authority.strip_suffix(default).unwrap_or(authority)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::app::normalise_origin;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.insert(*k, HeaderValue::from_str(v).unwrap());
        }
        h
    }

    fn ok(pairs: &[(&'static str, &str)]) -> bool {
        same_origin(&headers(pairs), &"/api/x".parse().unwrap(), &[])
    }

    #[test]
    fn the_origin_must_name_the_host_the_request_went_to() {
        let host = ("host", "127.0.0.1:8080");
        assert!(ok(&[host, ("origin", "http://127.0.0.1:8080")]));
        assert!(ok(&[host, ("referer", "http://127.0.0.1:8080/dust?x=1")]));
        assert!(!ok(&[host, ("origin", "http://evil.example")]));
        assert!(!ok(&[host, ("origin", "null")]));
        assert!(!ok(&[
            host,
            ("referer", "http://evil.example/127.0.0.1:8080")
        ]));
        assert!(!ok(&[host]), "neither Origin nor Referer");
        assert!(!ok(&[
            host,
            ("origin", "http://127.0.0.1:8080"),
            ("sec-fetch-site", "cross-site")
        ]));
        // Default ports are the same origin with or without them.
        assert!(ok(&[
            ("host", "qingling.example:443"),
            ("origin", "https://qingling.example")
        ]));
        assert!(ok(&[
            ("host", "Qingling.Example"),
            ("origin", "http://qingling.example:80")
        ]));
        assert!(!ok(&[
            ("host", "qingling.example:8443"),
            ("origin", "https://qingling.example")
        ]));
    }

    #[test]
    fn configured_origins_are_accepted_behind_a_proxy() {
        let h = headers(&[
            ("host", "127.0.0.1:8080"),
            ("origin", "https://gis.example.org"),
        ]);
        let allowed = vec![normalise_origin("https://GIS.example.org/")];
        assert!(same_origin(&h, &"/".parse().unwrap(), &allowed));
        assert!(!same_origin(&h, &"/".parse().unwrap(), &[]));
    }

    #[test]
    fn the_policy_allows_the_tile_host_only_when_configured() {
        let plain = content_security_policy(None);
        assert!(plain.contains("img-src 'self' data: blob:;"), "{plain}");
        assert!(plain.contains("script-src 'self';"));
        let with = content_security_policy(Some(
            "https://t0.tianditu.gov.cn/vec_w/wmts?TILEMATRIX={z}&tk=KEY",
        ));
        assert!(
            with.contains("img-src 'self' data: blob: https://t0.tianditu.gov.cn;"),
            "{with}"
        );
        assert!(
            with.contains("connect-src 'self' https://t0.tianditu.gov.cn;"),
            "{with}"
        );
        assert!(plain.contains("connect-src 'self';"), "{plain}");
        // Leaflet-style subdomains become a wildcard; any other template host is left out
        // rather than breaking the header.
        assert!(
            content_security_policy(Some("https://{s}.tile.example/{z}/{x}/{y}.png"))
                .contains("blob: https://*.tile.example;")
        );
        assert!(
            !content_security_policy(Some("https://t{n}.tile.example/{z}.png")).contains("tile")
        );
    }
}

//! Handler cases in process: the real router called with `tower::ServiceExt::oneshot`, no
//! socket, for answers that depend only on the request (statuses, messages in the request's
//! language, headers). End-to-end behaviour is in the other suites, over a real port.
#![allow(clippy::unwrap_used)]

mod common;

use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use common::demo_db;
use serde_json::Value;
use tower::ServiceExt;

/// The router over a fresh demo database (kept while the guard lives).
fn router() -> (tempfile::TempDir, axum::Router) {
    let (dir, db) = demo_db();
    let registry = qingling::layers::Registry::builtin().unwrap();
    let store = qingling::store::Db::open(&db, &registry).unwrap();
    let app = qingling::app::App::new(store, registry, None).unwrap();
    (dir, qingling::http::router(app))
}

async fn call(r: &axum::Router, req: Request<Body>) -> (StatusCode, axum::http::HeaderMap, Value) {
    let res = r.clone().oneshot(req).await.unwrap();
    let (parts, body) = res.into_parts();
    let bytes = axum::body::to_bytes(body, usize::MAX).await.unwrap();
    let v = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    (parts.status, parts.headers, v)
}

#[tokio::test]
async fn without_a_session_the_api_says_sign_in_first_in_the_requests_language() {
    let (_dir, r) = router();
    for (lang, message) in [("zh-CN", "请先登录"), ("en-GB", "Sign in first")] {
        let req = Request::get("/api/me")
            .header(header::ACCEPT_LANGUAGE, lang)
            .body(Body::empty())
            .unwrap();
        let (status, headers, v) = call(&r, req).await;
        assert_eq!(status, StatusCode::UNAUTHORIZED);
        assert_eq!(headers[header::WWW_AUTHENTICATE], "Bearer");
        assert_eq!(
            (v["error"].as_str(), v["message"].as_str()),
            (Some("unauthorized"), Some(message))
        );
    }
}

#[tokio::test]
async fn a_sign_in_that_is_not_json_is_a_400_naming_the_problem() {
    let (_dir, r) = router();
    let req = Request::post("/api/login")
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::ACCEPT_LANGUAGE, "en")
        .body(Body::from("{not json"))
        .unwrap();
    let (status, _, v) = call(&r, req).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    assert_eq!(v["error"], "bad_json");
    assert!(
        v["message"]
            .as_str()
            .unwrap()
            .starts_with("The request body is not valid JSON")
    );
}

#[tokio::test]
async fn every_answer_carries_the_security_headers_and_unknown_api_paths_are_json_404s() {
    let (_dir, r) = router();
    let req = Request::get("/api/no-such-thing")
        .body(Body::empty())
        .unwrap();
    let (status, headers, v) = call(&r, req).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(v["error"], "not_found");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(headers["x-frame-options"], "DENY");
    assert!(
        headers[header::CONTENT_SECURITY_POLICY]
            .to_str()
            .unwrap()
            .contains("script-src 'self'")
    );
}

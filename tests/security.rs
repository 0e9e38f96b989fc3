//! Browser-facing hardening over the real server: the security headers on every kind of answer,
//! and cookie-authenticated writes from another site refused with nothing written.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use serde_json::json;

fn assert_security_headers(r: &Response, what: &str) {
    let csp = r
        .header("content-security-policy")
        .unwrap_or_else(|| panic!("{what}: no CSP"));
    for part in [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "connect-src 'self'",
    ] {
        assert!(csp.contains(part), "{what}: {part} missing from {csp}");
    }
    assert!(!csp.contains("unsafe-inline"), "{what}: {csp}");
    assert_eq!(
        r.header("x-content-type-options"),
        Some("nosniff"),
        "{what}"
    );
    assert_eq!(r.header("x-frame-options"), Some("DENY"), "{what}");
    assert_eq!(r.header("referrer-policy"), Some("same-origin"), "{what}");
}

/// Signs in like the browser does and returns the `name=value` of the session cookie.
fn cookie(s: &Server, user: &str) -> String {
    let r = sign_in(s.addr, user, &format!("qingling-{user}"), &[]);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        r.header("cache-control"),
        Some("no-store"),
        "the login answer"
    );
    let set = r.header("set-cookie").unwrap();
    set.split(';').next().unwrap().to_string()
}

#[test]
fn every_answer_carries_the_security_headers_and_authenticated_ones_are_not_stored() {
    let s = demo_server_with_web();
    let manager = Client::login(&s, "manager");
    let api = manager.get("/api/me");
    assert_eq!(api.status, 200);
    assert_security_headers(&api, "API answer");
    assert_eq!(api.header("cache-control"), Some("no-store"));

    let cookie = cookie(&s, "manager");
    let by_cookie = request(
        s.addr,
        "GET",
        "/api/clearance",
        &[("Cookie", &cookie)],
        None,
    );
    assert_eq!(by_cookie.status, 200);
    assert_eq!(by_cookie.header("cache-control"), Some("no-store"));

    // Static files may be cached, even when the browser sends the cookie along.
    let file = request(s.addr, "GET", "/app.css", &[("Cookie", &cookie)], None);
    assert_eq!(file.status, 200);
    assert_security_headers(&file, "static file");
    assert_ne!(file.header("cache-control"), Some("no-store"));
    let index = request(s.addr, "GET", "/", &[("Accept", "text/html")], None);
    assert_security_headers(&index, "index page");

    let error = manager.get("/api/nothing/here");
    assert_eq!(error.status, 404);
    assert_security_headers(&error, "error answer");
    let unauthorized = Client::anonymous(&s).get("/api/me");
    assert_eq!(unauthorized.status, 401);
    assert_security_headers(&unauthorized, "401");

    // The OGC HTML pages have one style block, which the CSP admits by its hash; no script.
    let page = manager.get("/collections?f=html");
    assert_eq!(page.status, 200);
    assert_security_headers(&page, "OGC HTML page");
    assert!(
        !page.body.contains("<script") && !page.body.contains("style="),
        "{}",
        page.body
    );
    let csp = page.header("content-security-policy").unwrap();
    assert!(
        csp.contains(&qingling::http::ogc::html::style_hash()),
        "{csp}"
    );
    assert!(!csp.contains("unsafe-inline"), "{csp}");
}

fn png() -> Vec<u8> {
    png_of(32, 24, [0, 0, 0])
}

#[test]
fn a_cookie_authenticated_photo_upload_from_another_site_is_refused_and_nothing_is_written() {
    let (s, [patrol]) = demo_with(["patrol"]);
    let at = inside("mines", "骆驼山示例露天煤矿");
    let r = patrol.post(
        "/api/fires",
        &fire_feature(at, json!({"kind": "coal_seam", "position_source": "map"})),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.json()["properties"]["id"].as_str().unwrap().to_string();
    let path = format!("/api/fires/{id}/photos");
    let (ctype, body) = multipart(&png());
    let cookie = cookie(&s, "patrol");
    let own = format!("http://{}", s.addr);
    let photos = || count(&s.db, "SELECT count(*) FROM photos");
    // A photo form of the given Content-Type, with `extra` header lines.
    let send = |ctype: &str, body: &[u8], extra: &[(&str, &str)]| {
        let mut h = vec![("Content-Type", ctype)];
        h.extend_from_slice(extra);
        request(s.addr, "POST", &path, &h, Some(body))
    };
    let up = |extra: &[(&str, &str)]| {
        send(
            &ctype,
            &body,
            &[&[("Accept-Language", "en")], extra].concat(),
        )
    };

    for extra in [
        vec![
            ("Cookie", cookie.as_str()),
            ("Origin", "http://evil.example"),
        ],
        vec![
            ("Cookie", cookie.as_str()),
            ("Referer", "http://evil.example/page"),
        ],
        vec![("Cookie", cookie.as_str())], // neither Origin nor Referer
        vec![
            ("Cookie", cookie.as_str()),
            ("Origin", own.as_str()),
            ("Sec-Fetch-Site", "cross-site"),
        ],
    ] {
        let r = up(&extra);
        assert_eq!(r.status, 403, "{extra:?}: {}", r.body);
        assert_eq!(r.json()["error"], "cross_origin");
        assert!(r.message().contains("another site"), "{}", r.body);
        assert_eq!(photos(), 0, "{extra:?}");
    }
    // In the server's language by default.
    let zh = send(&ctype, &body, &[("Cookie", &cookie)]);
    assert!(zh.message().contains("其他网站"), "{}", zh.body);

    // Accepted: from the web app's own origin (or page), and with a bearer token and no Origin
    // (a GIS client, a device), even with a stale cookie along.
    let referer = format!("{own}/patrol");
    let auth = format!("Bearer {}", patrol.token.as_deref().unwrap());
    for (i, (photo, extra)) in [
        (
            png(),
            vec![
                ("Accept-Language", "en"),
                ("Cookie", cookie.as_str()),
                ("Origin", own.as_str()),
                ("Sec-Fetch-Site", "same-origin"),
            ],
        ),
        (
            png_of(40, 30, [0, 0, 0]),
            vec![("Cookie", cookie.as_str()), ("Referer", referer.as_str())],
        ),
        (
            png_of(48, 36, [0, 0, 0]),
            vec![
                ("Authorization", auth.as_str()),
                ("Cookie", cookie.as_str()),
            ],
        ),
    ]
    .into_iter()
    .enumerate()
    {
        let (ctype, form) = multipart(&photo);
        let r = send(&ctype, &form, &extra);
        assert_eq!(r.status, 201, "{}", r.body);
        assert_eq!(photos(), i as i64 + 1);
    }
}

#[test]
fn a_cookie_authenticated_acknowledgement_from_another_site_is_refused() {
    let s = common::dust::Setup::new();
    let manager = Client::login(&s.server, "manager");
    let w = s.warning_over("骆驼山示例露天煤矿", "orange");
    // Two warnings: a restriction to acknowledge by cookie, another by bearer token.
    for _ in 0..2 {
        let r = manager.post("/api/dust/warnings", &w);
        assert_eq!(r.status, 201, "{}", r.body);
    }
    let owner = Client::login(&s.server, "owner");
    let own = owner.get("/api/dust/restrictions").json();
    let id = own["restrictions"][0]["id"].as_i64().unwrap();
    let other = items(&own["restrictions"])
        .map(|r| r["id"].as_i64().unwrap())
        .find(|&o| o != id)
        .unwrap();
    let path = format!("/api/dust/restrictions/{id}/acknowledge");
    let acknowledged = || {
        s.count(&format!(
            "SELECT count(*) FROM dust_restrictions WHERE id = {id} AND acknowledged_at IS NOT NULL"
        ))
    };
    let cookie = cookie(&s.server, "owner");
    let post = |extra: &[(&str, &str)]| {
        let mut h = vec![
            ("Content-Type", "application/json"),
            ("Cookie", cookie.as_str()),
        ];
        h.extend_from_slice(extra);
        request(s.server.addr, "POST", &path, &h, Some(b"{}"))
    };
    let r = post(&[("Origin", "http://evil.example")]);
    assert_eq!(r.status, 403, "{}", r.body);
    assert_eq!(acknowledged(), 0);
    let r = post(&[("Origin", "null")]);
    assert_eq!(r.status, 403, "{}", r.body);
    assert_eq!(acknowledged(), 0);
    let r = post(&[("Origin", &format!("http://{}", s.server.addr))]);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["acknowledged_by"], "owner");
    assert_eq!(acknowledged(), 1);

    // A bearer token needs no Origin.
    let r = owner.post(
        &format!("/api/dust/restrictions/{other}/acknowledge"),
        &json!({}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
}

//! Webhooks end to end: a loopback receiver that is down, then refuses, then accepts gets every
//! event exactly once with a valid signature; the outbox shows the retries; a restart of the
//! app in between loses nothing; an https receiver with a test certificate.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::HashSet;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::http::{HeaderMap, StatusCode};
use common::*;
use qingling::service::webhooks::{self, Config};
use serde_json::{Value, json};

const SECRET: &str = "loopback-test-secret-0123";

/// Retries fast so the test runs in seconds: 50 ms doubling to 400 ms.
fn fast() -> Config {
    Config {
        base: Duration::from_millis(50),
        cap: Duration::from_millis(400),
        max_attempts: 100,
        timeout: Duration::from_secs(2),
        poll: Duration::from_millis(100),
        deadline_sweep: Duration::from_secs(3600),
        batch: 16,
        extra_roots: vec![],
    }
}

/// The app (API and delivery worker) on its own runtime, so a test can stop it whole.
fn start(db: &Path, worker: bool) -> Server {
    start_with(db, worker.then(fast))
}

fn start_with(db: &Path, worker: Option<Config>) -> Server {
    let b = TestServer::on(db);
    match worker {
        Some(cfg) => b.webhooks(cfg),
        None => b,
    }
    .start()
}

fn login(addr: SocketAddr, user: &str) -> Client {
    Client::login_at(addr, user).in_lang("en")
}

/// What the receiver saw.
#[derive(Default)]
struct Seen {
    /// Requests answered 503 on purpose.
    refused: usize,
    /// Every request whose signature did not verify.
    bad_signatures: usize,
    /// Accepted deliveries: (delivery id, kind, event key), in arrival order, duplicates kept.
    accepted: Vec<(i64, String, String)>,
    ids: HashSet<i64>,
}

type Shared = Arc<Mutex<(usize, Seen)>>;

/// A receiver on `addr` that answers 503 to its first `refuse` requests, then 200, checking
/// every signature and dropping deliveries it has already seen (as a real receiver would).
fn receiver(addr: SocketAddr, refuse: usize) -> (tokio::runtime::Runtime, Shared) {
    let shared: Shared = Arc::new(Mutex::new((refuse, Seen::default())));
    let rt = runtime(1);
    let listener = bind(&rt, addr);
    let app = hook_app(shared.clone());
    rt.spawn(async move { axum::serve(listener, app).await });
    (rt, shared)
}

/// The receiver's one route, `POST /hook`, over `state`.
fn hook_app(state: Shared) -> axum::Router {
    axum::Router::new().route(
        "/hook",
        axum::routing::post(move |headers: HeaderMap, body: Bytes| {
            let state = state.clone();
            async move {
                let h = |n: &str| {
                    headers
                        .get(n)
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("")
                        .to_string()
                };
                let mut guard = state.lock().unwrap();
                let (left, seen) = &mut *guard;
                if !webhooks::verify(SECRET, &body, &h("x-qingling-signature")) {
                    seen.bad_signatures += 1;
                    return StatusCode::UNAUTHORIZED;
                }
                if *left > 0 {
                    *left -= 1;
                    seen.refused += 1;
                    return StatusCode::SERVICE_UNAVAILABLE;
                }
                let v: Value = serde_json::from_slice(&body).unwrap();
                let id: i64 = h("x-qingling-delivery").parse().unwrap();
                assert_eq!(v["delivery"], id, "the body names the delivery too");
                assert_eq!(v["kind"], h("x-qingling-event"));
                assert!(h("x-qingling-timestamp").parse::<i64>().is_ok());
                seen.accepted.push((
                    id,
                    v["kind"].as_str().unwrap().to_string(),
                    v["event_key"].as_str().unwrap().to_string(),
                ));
                // Exactly once as this receiver sees it: a repeated delivery id is dropped.
                seen.ids.insert(id);
                StatusCode::OK
            }
        }),
    )
}

const TLS_CERT: &[u8] = include_bytes!("fixtures/tls/cert.pem");
const TLS_KEY: &[u8] = include_bytes!("fixtures/tls/key.pem");

/// The same receiver behind TLS (tests/fixtures/tls: a self-signed certificate for 127.0.0.1
/// and localhost, valid for a century), accepting at once; its address.
fn tls_receiver() -> (tokio::runtime::Runtime, Shared, SocketAddr) {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let shared: Shared = Arc::new(Mutex::new((0, Seen::default())));
    let certs: Vec<CertificateDer> = CertificateDer::pem_slice_iter(TLS_CERT)
        .collect::<Result<_, _>>()
        .unwrap();
    let key = PrivateKeyDer::from_pem_slice(TLS_KEY).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let rt = runtime(1);
    let listener = bind(&rt, "127.0.0.1:0");
    let addr = listener.local_addr().unwrap();
    let app = hook_app(shared.clone());
    rt.spawn(async move {
        loop {
            let Ok((tcp, _)) = listener.accept().await else {
                continue;
            };
            let (acceptor, app) = (acceptor.clone(), app.clone());
            tokio::spawn(async move {
                // A client that does not trust the certificate ends the handshake here.
                let Ok(tls) = acceptor.accept(tcp).await else {
                    return;
                };
                let svc = hyper_util::service::TowerToHyperService::new(app);
                let _ = hyper_util::server::conn::auto::Builder::new(
                    hyper_util::rt::TokioExecutor::new(),
                )
                .serve_connection(hyper_util::rt::TokioIo::new(tls), svc)
                .await;
            });
        }
    });
    (rt, shared, addr)
}

fn deliveries(c: &Client, hook: i64, status: &str) -> Vec<Value> {
    c.list(
        &format!("/api/webhooks/{hook}/deliveries?status={status}"),
        "deliveries",
    )
}

/// Registers a webhook to `url` for `kinds` with the test's secret; what the answer says of it.
fn register(c: &Client, url: String, kinds: &[&str]) -> Value {
    let r = c.post(
        "/api/webhooks",
        &json!({"url": url, "kinds": kinds, "secret": SECRET}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    r.json()
}

fn report(c: &Client, at: [f64; 2]) -> String {
    let r = c.post(
        "/api/fires",
        &fire_feature(at, json!({"kind": "coal_seam", "temp_c": 180.0})),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    r.json()["id"].as_str().unwrap().to_string()
}

#[test]
fn an_https_receiver_gets_its_events_signed_and_an_untrusted_certificate_is_refused() {
    let (_dir, db) = demo_db();
    let (_recv_rt, seen, recv) = tls_receiver();
    // A worker that trusts the receiver's certificate, and, on a second database, one that
    // does not: the public roots alone must refuse it.
    let trusting = start_with(
        &db,
        Some(Config {
            extra_roots: vec![TLS_CERT.to_vec()],
            ..fast()
        }),
    );
    let manager = login(trusting.addr, "manager");
    let url = format!("https://127.0.0.1:{}/hook", recv.port());
    let hook = register(&manager, url, &["new_fire"])["id"]
        .as_i64()
        .unwrap();
    let fire = report(&manager, inside("districts", "乌达区"));
    wait_until("delivered over https", || {
        deliveries(&manager, hook, "delivered").len() == 1
    });
    {
        let (_, s) = &*seen.lock().unwrap();
        assert_eq!(s.bad_signatures, 0);
        assert_eq!(s.accepted.len(), 1);
        assert_eq!(
            (s.accepted[0].1.as_str(), &s.accepted[0].2),
            ("new_fire", &fire)
        );
    }

    let (_dir2, db2) = demo_db();
    let doubting = start_with(&db2, Some(fast()));
    let manager = login(doubting.addr, "manager");
    let url = format!("https://localhost:{}/hook", recv.port());
    let hook = register(&manager, url, &["new_fire"])["id"]
        .as_i64()
        .unwrap();
    report(&manager, inside("districts", "乌达区"));
    wait_until("a refused handshake recorded", || {
        deliveries(&manager, hook, "pending").iter().any(|d| {
            d["last_error"]
                .as_str()
                .is_some_and(|e| e.to_lowercase().contains("certificate"))
        })
    });
    assert_eq!(
        seen.lock().unwrap().1.accepted.len(),
        1,
        "nothing more arrived"
    );
}

#[test]
fn a_receiver_that_is_down_then_refuses_gets_every_event_exactly_once_signed_across_a_restart() {
    let (_dir, db) = demo_db();
    let app = start(&db, true);
    let manager = login(app.addr, "manager");

    // A free loopback port with nothing listening on it yet: the receiver is down.
    let recv_addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let url = format!("http://{recv_addr}/hook");
    let created = register(&manager, url, &["new_fire", "assignment"]);
    let hook = created["id"].as_i64().unwrap();
    assert_eq!(created["secret"], SECRET, "shown once, on creation");

    // Events while the receiver is down: three new fires and a manager's reassignment.
    let places = [
        inside("districts", "海勃湾区"),
        inside("districts", "乌达区"),
        inside("districts", "海南区"),
    ];
    let fires: Vec<String> = places.iter().map(|p| report(&manager, *p)).collect();
    let r = manager.post(
        &format!("/api/fires/{}/events", fires[0]),
        &json!({"action": "reassign", "reason": "boundary check", "responsible": {"party": "district", "district_code": "150304"}}),
    );
    assert_eq!(r.status, 200, "{}", r.body);

    // The worker keeps trying and the outbox shows it.
    wait_until("retries against the closed port", || {
        let d = deliveries(&manager, hook, "pending");
        d.len() == 4 && d.iter().all(|d| d["attempts"].as_i64().unwrap() >= 2)
    });
    let pending = deliveries(&manager, hook, "pending");
    assert!(
        pending
            .iter()
            .all(|d| d["last_status"].is_null() && d["last_error"].as_str().is_some()),
        "no answer yet, with the reason: {pending:?}"
    );

    // The receiver comes up but refuses its first three requests.
    let (_recv_rt, seen) = receiver(recv_addr, 3);
    wait_until("all four delivered", || {
        deliveries(&manager, hook, "delivered").len() == 4
    });
    {
        let (_, s) = &*seen.lock().unwrap();
        assert_eq!(s.refused, 3);
        assert_eq!(s.bad_signatures, 0);
        assert_eq!(s.accepted.len(), 4, "no duplicates: {:?}", s.accepted);
        assert_eq!(s.ids.len(), 4);
        let kinds: HashSet<(String, String)> = s
            .accepted
            .iter()
            .filter(|a| a.1 == "new_fire")
            .map(|a| (a.1.clone(), a.2.clone()))
            .collect();
        let expected: HashSet<(String, String)> = fires
            .iter()
            .map(|f| ("new_fire".to_string(), f.clone()))
            .collect();
        assert_eq!(kinds, expected);
        assert_eq!(s.accepted.iter().filter(|a| a.1 == "assignment").count(), 1);
    }
    let delivered = deliveries(&manager, hook, "delivered");
    for d in &delivered {
        assert!(d["attempts"].as_i64().unwrap() > 1, "retried: {d}");
        assert_eq!(d["last_status"], 200);
        assert!(d["delivered_at"].is_string() && d["next_attempt_at"].is_null());
    }
    let assignment = delivered
        .iter()
        .find(|d| d["kind"] == "assignment")
        .unwrap();
    assert_eq!(assignment["payload"]["fire"]["id"], fires[0].as_str());
    assert_eq!(
        assignment["payload"]["fire"]["responsible"]["district_code"],
        "150304"
    );
    let list = manager.get("/api/webhooks").json();
    let listed = &list["webhooks"][0];
    assert_eq!(listed["deliveries"]["delivered"], 4);
    assert!(
        !listed.to_string().contains(SECRET),
        "secret masked: {listed}"
    );

    // A restart in between: events pile up while no worker runs, the app goes away, and a new
    // one on the same file delivers them.
    drop(app);
    let app = start(&db, false);
    let manager = login(app.addr, "manager");
    let late = report(&manager, inside("districts", "乌达区"));
    assert_eq!(deliveries(&manager, hook, "pending").len(), 1);
    drop(app);
    let app = start(&db, true);
    let manager = login(app.addr, "manager");
    wait_until("the pending delivery after the restart", || {
        deliveries(&manager, hook, "delivered").len() == 5
    });
    let (_, s) = &*seen.lock().unwrap();
    assert_eq!(s.accepted.len(), 5, "{:?}", s.accepted);
    assert_eq!(s.ids.len(), 5);
    assert_eq!(s.accepted.last().map(|a| a.2.as_str()), Some(late.as_str()));
    assert_eq!(s.bad_signatures, 0);
    drop(app.rt);
}

#[test]
fn only_managers_register_webhooks_and_bad_registrations_say_why() {
    let (_dir, db) = demo_db();
    let app = start(&db, false);
    let manager = login(app.addr, "manager");
    let patrol = login(app.addr, "patrol");
    let good = json!({"url": "http://127.0.0.1:9/hook", "kinds": ["warning", "dust_alert"]});
    assert_eq!(patrol.post("/api/webhooks", &good).status, 403);
    assert_eq!(patrol.get("/api/webhooks").status, 403);
    assert_eq!(patrol.get("/api/webhooks/1/deliveries").status, 403);

    for (body, error) in [
        (
            json!({"url": "relay.local/hook", "kinds": ["new_fire"]}),
            "webhook_url_invalid",
        ),
        (
            json!({"url": "ftp://relay.local/", "kinds": ["new_fire"]}),
            "webhook_url_invalid",
        ),
        (
            json!({"url": "http://relay.local/", "kinds": []}),
            "webhook_kinds_empty",
        ),
        (
            json!({"url": "http://relay.local/", "kinds": ["fire"]}),
            "webhook_kind_unknown",
        ),
        (
            json!({"url": "http://relay.local/", "kinds": ["new_fire"], "secret": "short"}),
            "webhook_secret_short",
        ),
        (json!({"url": "http://relay.local/"}), "bad_body"),
    ] {
        let r = manager.post("/api/webhooks", &body);
        assert_eq!(r.status, 422, "{body}: {}", r.body);
        assert_eq!(r.json()["error"], error, "{}", r.body);
        assert!(!r.message().is_empty());
    }
    let r = manager.post(
        "/api/webhooks",
        &json!({"url": "http://relay.local/", "kinds": ["fire"]}),
    );
    assert!(
        r.message().contains("new_fire"),
        "lists the kinds: {}",
        r.body
    );

    let r = manager.post("/api/webhooks", &good);
    assert_eq!(r.status, 201, "{}", r.body);
    let created = r.json();
    let secret = created["secret"].as_str().unwrap();
    assert_eq!(secret.len(), 64, "a generated secret");
    let id = created["id"].as_i64().unwrap();
    let listed = manager.get("/api/webhooks").json();
    assert_eq!(
        listed["webhooks"][0]["secret"],
        format!("****{}", &secret[60..])
    );

    assert_eq!(patrol.delete(&format!("/api/webhooks/{id}")).status, 403);
    assert_eq!(manager.delete(&format!("/api/webhooks/{id}")).status, 204);
    assert_eq!(manager.delete("/api/webhooks/999").status, 404);
    assert_eq!(manager.delete("/api/webhooks/abc").status, 404);
    let listed = manager.get("/api/webhooks").json();
    assert_eq!(listed["webhooks"][0]["active"], false, "kept, inactive");
    let r = manager.get(&format!("/api/webhooks/{id}/deliveries?status=lost"));
    assert_eq!(r.status, 422);
    drop(app.rt);
}

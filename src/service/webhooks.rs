//! Webhooks for the city's other systems: managers register URLs per event kind; each event is
//! written to a durable outbox in the same transaction as the change that caused it, and a
//! background worker POSTs it, signed with HMAC-SHA256, retrying with back-off until the
//! receiver answers 2xx.
//!
//! Delivery is at-least-once: a row is marked delivered only after a 2xx, so a crash between the
//! receiver's 2xx and our commit sends it again. Every request carries the outbox row's id in
//! `X-Qingling-Delivery`; a receiver that drops ids it has seen gets each event exactly once.
//! There is no ordering guarantee between events: rows retry independently.
//!
//! Receivers are `http://` or `https://` (rustls, with the Mozilla roots and any CA given with
//! `serve --webhook-ca`).

use std::time::Duration;

use axum::http::{Uri, header};
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use serde_json::{Value, json};
use sha2::Sha256;
use tokio::task::JoinHandle;

pub use crate::domain::event::EventKind;
use crate::error::{Error, Result};
use crate::service::events::{self, ts_ms};
use crate::service::jobs::Stopping;
use crate::store::fires::ts;
use crate::store::webhooks::FailedAttempt;
pub use crate::store::webhooks::{Delivery, Webhook};
use crate::store::{self, Db, Tx};

/// How the worker retries; the defaults suit production, tests shorten them.
#[derive(Debug, Clone)]
pub struct Config {
    /// The wait after the first failed attempt; it doubles after each further failure.
    pub base: Duration,
    /// The longest wait between two attempts.
    pub cap: Duration,
    /// After this many failed attempts a delivery is marked failed (kept, listed, re-queueable).
    pub max_attempts: u32,
    /// The whole request, connect to last byte of the answer.
    pub timeout: Duration,
    /// How often the worker looks at the outbox when nothing wakes it.
    pub poll: Duration,
    /// How often burning fires are checked for passed deadlines.
    pub deadline_sweep: Duration,
    /// Deliveries sent at once.
    pub batch: usize,
    /// PEM certificates trusted for `https://` receivers besides the public roots (a city's
    /// own CA).
    pub extra_roots: Vec<Vec<u8>>,
}

impl Default for Config {
    /// 5 s doubling to 1 h, 30 attempts: about a day of retries before a delivery is marked
    /// failed, long enough to ride out a receiver's maintenance window.
    fn default() -> Self {
        Config {
            base: Duration::from_secs(5),
            cap: Duration::from_secs(3600),
            max_attempts: 30,
            timeout: Duration::from_secs(10),
            poll: Duration::from_secs(2),
            deadline_sweep: Duration::from_secs(60),
            batch: 16,
            extra_roots: vec![],
        }
    }
}

/// The wait before the next attempt after `failed` failed attempts (1 or more):
/// `base × 2^(failed − 1)`, at most `cap`.
pub fn backoff(cfg: &Config, failed: u32) -> Duration {
    let factor = 1u32
        .checked_shl(failed.saturating_sub(1))
        .unwrap_or(u32::MAX);
    cfg.base.saturating_mul(factor).min(cfg.cap)
}

/// The signature header's value for a body: `sha256=` and the hex HMAC-SHA256 of the raw bytes
/// under the webhook's secret.
pub fn signature(secret: &str, body: &[u8]) -> String {
    format!(
        "sha256={}",
        hex::encode(hmac_sha256(secret.as_bytes(), body))
    )
}

/// Checks a signature header in constant time (what a receiver does; used by the tests).
pub fn verify(secret: &str, body: &[u8], header_value: &str) -> bool {
    let Some(hex_sig) = header_value.strip_prefix("sha256=") else {
        return false;
    };
    let Ok(sig) = hex::decode(hex_sig) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return false;
    };
    mac.update(body);
    mac.verify_slice(&sig).is_ok()
}

fn hmac_sha256(key: &[u8], data: &[u8]) -> Vec<u8> {
    // HMAC accepts keys of any length, so this never fails; an empty tag would fail every
    // receiver's check rather than panic here.
    match Hmac::<Sha256>::new_from_slice(key) {
        Ok(mut mac) => {
            mac.update(data);
            mac.finalize().into_bytes().to_vec()
        }
        Err(_) => vec![],
    }
}

/// What a manager asks for.
pub struct NewWebhook {
    pub url: String,
    pub kinds: Vec<String>,
    pub secret: Option<String>,
}

/// Shortest secret a manager may choose (generated ones are 64 hex digits).
pub const MIN_SECRET_LEN: usize = 16;
const MAX_URL_LEN: usize = 2048;

/// Checks a receiver URL: absolute `http://` or `https://` with a host.
pub fn check_url(url: &str) -> Result<Uri> {
    let bad = || Error::invalid("webhook_url_invalid").arg("url", url.to_string());
    if url.len() > MAX_URL_LEN || url.trim() != url {
        return Err(bad());
    }
    let uri: Uri = url.parse().map_err(|_| bad())?;
    let host = uri.host().filter(|h| !h.is_empty()).ok_or_else(bad)?;
    // `user:pass@` would be sent nowhere (the client does not turn it into a header): refuse it
    // rather than let a manager believe it authenticates.
    if uri.authority().is_some_and(|a| a.as_str().contains('@')) || host.contains('@') {
        return Err(bad());
    }
    match uri.scheme_str() {
        Some("http" | "https") => Ok(uri),
        _ => Err(bad()),
    }
}

fn kinds_allowed() -> String {
    EventKind::ALL
        .iter()
        .map(|k| k.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Validates and stores a webhook; returns it with its secret (generated when none was given).
pub fn register(tx: &dyn Tx, by: &str, new: NewWebhook, now: DateTime<Utc>) -> Result<Webhook> {
    check_url(&new.url)?;
    if new.kinds.is_empty() {
        return Err(Error::invalid("webhook_kinds_empty").arg("allowed", kinds_allowed()));
    }
    let mut kinds: Vec<String> = vec![];
    for k in &new.kinds {
        let kind = EventKind::parse(k).ok_or_else(|| {
            Error::invalid("webhook_kind_unknown")
                .arg("kind", k.clone())
                .arg("allowed", kinds_allowed())
        })?;
        if !kinds.iter().any(|x| x == kind.as_str()) {
            kinds.push(kind.as_str().to_string());
        }
    }
    let secret = match new.secret {
        Some(s) if s.chars().count() < MIN_SECRET_LEN => {
            return Err(
                Error::invalid("webhook_secret_short").arg("min", MIN_SECRET_LEN.to_string())
            );
        }
        Some(s) => s,
        None => hex::encode(rand::random::<[u8; 32]>()),
    };
    let created_at = ts(now);
    let id = tx.webhooks().insert(
        &new.url,
        &json!(kinds).to_string(),
        &secret,
        by,
        &created_at,
    )?;
    Ok(Webhook {
        id,
        url: new.url,
        kinds,
        secret,
        created_by: by.to_string(),
        created_at,
        active: true,
    })
}

/// Puts a webhook's failed deliveries back in the queue (after the receiver is fixed), with a
/// fresh count of attempts. Returns how many.
pub fn requeue_failed(tx: &dyn Tx, id: i64, now: DateTime<Utc>) -> store::Result<usize> {
    tx.webhooks().requeue_failed(id, &ts_ms(now))
}

/// The states a delivery can be in.
pub const STATES: [&str; 4] = ["pending", "delivered", "failed", "cancelled"];

/// A delivery the worker is about to send.
#[derive(Debug, Clone)]
struct Due {
    id: i64,
    webhook: i64,
    kind: String,
    event_key: String,
    payload: String,
    created_at: String,
    url: String,
    secret: String,
}

impl Due {
    /// The request body: the same bytes on every attempt (serde_json writes object keys in
    /// sorted order), so a retry is recognisable by its bytes as well as by its delivery id.
    fn body(&self) -> Vec<u8> {
        let data: Value = serde_json::from_str(&self.payload).unwrap_or(Value::Null);
        serde_json::to_vec(&json!({
            "delivery": self.id,
            "webhook": self.webhook,
            "kind": self.kind,
            "event_key": self.event_key,
            "created_at": self.created_at,
            "data": data,
        }))
        .unwrap_or_default()
    }
}

fn due(tx: &dyn Tx, now: DateTime<Utc>, limit: usize) -> store::Result<Vec<Due>> {
    Ok(tx
        .webhooks()
        .due(&ts_ms(now), limit)?
        .into_iter()
        .map(|r| Due {
            id: r.id,
            webhook: r.webhook,
            kind: r.kind,
            event_key: r.event_key,
            payload: r.payload,
            created_at: r.created_at,
            url: r.url,
            secret: r.secret,
        })
        .collect())
}

/// When the next pending delivery falls due, if any.
fn next_due(tx: &dyn Tx) -> store::Result<Option<DateTime<Utc>>> {
    let t = tx.webhooks().next_due()?;
    Ok(t.and_then(|t| DateTime::parse_from_rfc3339(&t).ok())
        .map(|t| t.with_timezone(&Utc)))
}

/// What one attempt came to.
#[derive(Debug, Clone, PartialEq)]
pub enum Attempt {
    /// A 2xx answer.
    Delivered { status: u16 },
    /// Any other answer (a redirect too: we do not follow them).
    Refused { status: u16, body: String },
    /// No answer: connection refused, timed out, broken.
    Failed { error: String },
}

/// Records an attempt: delivered, or scheduled again after the back-off, or failed for good
/// after `max_attempts`.
pub fn record(
    tx: &dyn Tx,
    id: i64,
    attempt: &Attempt,
    now: DateTime<Utc>,
    cfg: &Config,
) -> store::Result<()> {
    let at = ts_ms(now);
    if let Attempt::Delivered { status } = attempt {
        return tx.webhooks().mark_delivered(id, &at, *status);
    }
    let (status, error) = match attempt {
        Attempt::Refused { status, body } => (Some(*status), format!("HTTP {status} {body}")),
        Attempt::Failed { error } => (None, error.clone()),
        Attempt::Delivered { .. } => (None, String::new()),
    };
    let error: String = error.trim().chars().take(500).collect();
    let Some(attempts) = tx.webhooks().pending_attempts(id)? else {
        // Cancelled (the webhook was removed) while the request was in flight.
        return Ok(());
    };
    let failed = u32::try_from(attempts + 1).unwrap_or(u32::MAX);
    let (state, next) = if failed >= cfg.max_attempts {
        ("failed", None)
    } else {
        let wait = chrono::Duration::from_std(backoff(cfg, failed))
            .unwrap_or_else(|_| chrono::Duration::hours(1));
        ("pending", Some(ts_ms(now + wait)))
    };
    tx.webhooks().mark_attempt(&FailedAttempt {
        id,
        state,
        at: &at,
        status,
        error: &error,
        next: next.as_deref(),
    })
}

/// The delivery client: rustls, the public roots plus `extra_roots`, no redirects (a 3xx is a
/// refusal to look at, not a place to send signed events to). Fails on an unreadable CA.
pub fn http_client(cfg: &Config) -> std::result::Result<reqwest::Client, String> {
    let mut b = reqwest::Client::builder()
        .use_rustls_tls()
        .connect_timeout(cfg.timeout)
        .timeout(cfg.timeout)
        .redirect(reqwest::redirect::Policy::none())
        .user_agent(concat!("qingling-webhooks/", env!("CARGO_PKG_VERSION")));
    for pem in &cfg.extra_roots {
        let certs = reqwest::Certificate::from_pem_bundle(pem).map_err(|e| e.to_string())?;
        if certs.is_empty() {
            return Err("no PEM certificate in the file".into());
        }
        for cert in certs {
            b = b.add_root_certificate(cert);
        }
    }
    b.build().map_err(|e| e.to_string())
}

/// Sends one delivery and says what came of it; never panics, never blocks past the timeout.
async fn send(client: &reqwest::Client, d: &Due, timeout: Duration) -> Attempt {
    if check_url(&d.url).is_err() {
        return Attempt::Failed {
            error: format!("unsupported URL {}", d.url),
        };
    }
    let body = d.body();
    let req = client
        .post(&d.url)
        .header(header::CONTENT_TYPE, "application/json")
        .header("X-Qingling-Event", d.kind.as_str())
        .header("X-Qingling-Delivery", d.id.to_string())
        .header("X-Qingling-Timestamp", Utc::now().timestamp().to_string())
        .header("X-Qingling-Signature", signature(&d.secret, &body))
        .body(body);
    let exchange = async {
        let mut res = req.send().await?;
        let status = res.status().as_u16();
        // Read a little of the answer: a refusal's reason helps whoever reads the outbox, and a
        // read body lets the connection go back to the pool.
        let mut text = Vec::new();
        while text.len() < 2048 {
            match res.chunk().await {
                Ok(Some(c)) => text.extend_from_slice(&c[..c.len().min(2048 - text.len())]),
                _ => break,
            }
        }
        Ok::<_, reqwest::Error>((status, String::from_utf8_lossy(&text).to_string()))
    };
    match tokio::time::timeout(timeout, exchange).await {
        Err(_) => Attempt::Failed {
            error: format!("no answer within {} s", timeout.as_secs_f32()),
        },
        Ok(Err(e)) => Attempt::Failed {
            error: error_chain(&e),
        },
        Ok(Ok((status, _))) if (200..300).contains(&status) => Attempt::Delivered { status },
        Ok(Ok((status, body))) => Attempt::Refused { status, body },
    }
}

/// The client's top-level errors say little ("client error (Connect)"); the causes say what happened.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut cur = e.source();
    while let Some(c) = cur {
        s += &format!(": {c}");
        cur = c.source();
    }
    s
}

async fn deliver_batch(db: &Db, client: &reqwest::Client, cfg: &Config) -> Result<usize> {
    let now = Utc::now();
    let limit = cfg.batch.max(1);
    let batch = db.read(move |c| due(c, now, limit)).await?;
    let n = batch.len();
    let mut set = tokio::task::JoinSet::new();
    for d in batch {
        let (client, timeout) = (client.clone(), cfg.timeout);
        set.spawn(async move {
            let attempt = send(&client, &d, timeout).await;
            (d, attempt)
        });
    }
    while let Some(done) = set.join_next().await {
        let Ok((d, attempt)) = done else { continue };
        match &attempt {
            Attempt::Delivered { .. } => {
                tracing::debug!(delivery = d.id, webhook = d.webhook, "webhook delivered");
            }
            other => {
                tracing::info!(
                    delivery = d.id,
                    webhook = d.webhook,
                    outcome = ?other,
                    "webhook delivery failed; will retry"
                );
            }
        }
        let c = cfg.clone();
        db.write(move |tx| record(tx, d.id, &attempt, Utc::now(), &c))
            .await?;
    }
    Ok(n)
}

/// Starts the delivery worker outside a job runner (tests): it runs until the runtime stops.
pub fn spawn_worker_with(db: &Db, cfg: Config) -> JoinHandle<()> {
    tokio::spawn(worker(db.clone(), cfg, Stopping::never()))
}

/// The delivery worker: it sends what is due, sweeps for passed deadlines, and sleeps until the
/// next delivery falls due, an enqueue wakes it, or `poll` passes; it ends between rounds once
/// `stopping` says so. The outbox is the only state, so a new worker on the same database picks
/// up where an old one stopped.
pub async fn worker(db: Db, cfg: Config, mut stopping: Stopping) {
    let client = match http_client(&cfg) {
        Ok(c) => c,
        Err(e) => {
            // `serve` builds one before it starts, so this is only reached from tests.
            tracing::error!(error = %e, "webhook client not built; no deliveries");
            return;
        }
    };
    let mut next_sweep = tokio::time::Instant::now();
    while !stopping.is_set() {
        if tokio::time::Instant::now() >= next_sweep {
            next_sweep = tokio::time::Instant::now() + cfg.deadline_sweep;
            match db.write(|tx| events::sweep_deadlines(tx, Utc::now())).await {
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "deadline sweep for webhooks failed"),
            }
        }
        let sent = match deliver_batch(&db, &client, &cfg).await {
            Ok(n) => n,
            Err(e) => {
                tracing::error!(error = %e, "webhook delivery round failed");
                0
            }
        };
        if sent >= cfg.batch.max(1) {
            // A full batch: more may be due right now.
            continue;
        }
        let wait = match db.read(|c| next_due(c)).await {
            Ok(Some(t)) => (t - Utc::now()).to_std().unwrap_or(Duration::ZERO),
            _ => cfg.poll,
        }
        .min(cfg.poll)
        .min(next_sweep.saturating_duration_since(tokio::time::Instant::now()));
        tokio::select! {
            _ = events::published() => {
                // The enqueue that woke us runs inside a transaction that holds the writer;
                // taking the writer waits for its commit, so the next read sees the rows.
                let _ = db.write(|_| Ok::<_, store::StoreError>(())).await;
            }
            _ = tokio::time::sleep(wait) => {}
            _ = stopping.wait() => {}
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::store::sqlite::SqliteTx;
    use rusqlite::Connection;

    pub(crate) fn db() -> (Connection, crate::layers::Registry) {
        crate::store::sqlite::testing::memory()
    }

    pub(crate) fn hook(conn: &Connection, kinds: &[&str]) -> Webhook {
        register(
            &SqliteTx::new(conn),
            "manager",
            NewWebhook {
                url: "http://127.0.0.1:9/hook".into(),
                kinds: kinds.iter().map(|k| k.to_string()).collect(),
                secret: None,
            },
            Utc::now() - chrono::Duration::days(400),
        )
        .expect("register")
    }

    #[test]
    fn failed_attempts_back_off_then_give_up_and_can_be_requeued() {
        let (conn, _) = db();
        let h = hook(&conn, &["new_fire"]);
        let tx = SqliteTx::new(&conn);
        crate::service::events::publish(&tx, EventKind::NewFire, "f1", &json!({}))
            .expect("enqueue");
        let cfg = Config {
            max_attempts: 3,
            ..Config::default()
        };
        let now = Utc::now();
        let id = SqliteTx::new(&conn)
            .webhooks()
            .deliveries(h.id, None, 1, 0)
            .expect("list")[0]
            .id;
        let refused = Attempt::Refused {
            status: 503,
            body: "busy".into(),
        };
        record(&tx, id, &refused, now, &cfg).expect("record");
        let d = &SqliteTx::new(&conn)
            .webhooks()
            .deliveries(h.id, None, 1, 0)
            .expect("list")[0];
        assert_eq!(
            (d.state.as_str(), d.attempts, d.last_status),
            ("pending", 1, Some(503))
        );
        assert_eq!(
            d.next_attempt_at.as_deref(),
            Some(ts_ms(now + chrono::Duration::seconds(5)).as_str())
        );
        assert!(
            due(&tx, now, 10).expect("due").is_empty(),
            "not before the back-off"
        );
        assert_eq!(
            due(&tx, now + chrono::Duration::seconds(5), 10)
                .expect("due")
                .len(),
            1
        );
        let down = Attempt::Failed {
            error: "connection refused".into(),
        };
        record(&tx, id, &down, now, &cfg).expect("record");
        record(&tx, id, &down, now, &cfg).expect("record");
        let d = &SqliteTx::new(&conn)
            .webhooks()
            .deliveries(h.id, Some("failed"), 1, 0)
            .expect("list")[0];
        assert_eq!((d.attempts, d.next_attempt_at.as_deref()), (3, None));
        assert_eq!(d.last_error.as_deref(), Some("connection refused"));
        assert_eq!(requeue_failed(&tx, h.id, now).expect("requeue"), 1);
        record(&tx, id, &Attempt::Delivered { status: 204 }, now, &cfg).expect("record");
        let d = &SqliteTx::new(&conn)
            .webhooks()
            .deliveries(h.id, None, 1, 0)
            .expect("list")[0];
        assert_eq!(
            (d.state.as_str(), d.last_status, d.last_error.as_deref()),
            ("delivered", Some(204), None)
        );
        assert!(d.delivered_at.is_some());
    }

    #[test]
    fn backoff_doubles_from_the_base_and_stops_at_the_cap() {
        let cfg = Config::default();
        let secs: Vec<u64> = (1..=12).map(|n| backoff(&cfg, n).as_secs()).collect();
        assert_eq!(
            secs,
            [5, 10, 20, 40, 80, 160, 320, 640, 1280, 2560, 3600, 3600]
        );
        assert_eq!(backoff(&cfg, 0), Duration::from_secs(5));
        assert_eq!(backoff(&cfg, 200), Duration::from_secs(3600), "no overflow");
        let total: u64 = (1..cfg.max_attempts)
            .map(|n| backoff(&cfg, n).as_secs())
            .sum();
        assert!(
            (12 * 3600..36 * 3600).contains(&total),
            "about a day of retries, got {total} s"
        );
    }

    #[test]
    fn signatures_match_the_rfc_4231_test_vector_and_verify() {
        // RFC 4231, test case 2.
        assert_eq!(
            signature("Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
        let body = br#"{"kind":"new_fire"}"#;
        let sig = signature("s3cret-s3cret-s3cret", body);
        assert!(verify("s3cret-s3cret-s3cret", body, &sig));
        assert!(!verify("another-secret-xxxx", body, &sig));
        assert!(!verify("s3cret-s3cret-s3cret", b"{}", &sig));
        assert!(!verify("s3cret-s3cret-s3cret", body, "sha256=zz"));
        assert!(!verify(
            "s3cret-s3cret-s3cret",
            body,
            &sig.replace("sha256=", "")
        ));
    }

    #[test]
    fn only_absolute_http_urls_with_a_host_are_accepted() {
        assert!(check_url("http://127.0.0.1:9000/hook").is_ok());
        assert!(check_url("http://relay.local/qingling?x=1").is_ok());
        for bad in [
            "",
            "relay.local/hook",
            "/hook",
            "ftp://relay.local/",
            "http://",
            "http://user:pw@relay.local/",
            " http://relay.local/",
        ] {
            assert!(check_url(bad).is_err(), "{bad:?}");
        }
        assert!(check_url("https://relay.local/hook").is_ok());
    }

    #[test]
    fn the_body_is_the_same_bytes_on_every_attempt_and_carries_the_delivery_id() {
        let d = Due {
            id: 7,
            webhook: 2,
            kind: "new_fire".into(),
            event_key: "f1".into(),
            payload: r#"{"fire":{"id":"f1"}}"#.into(),
            created_at: "2026-01-01T00:00:00.000Z".into(),
            url: "http://127.0.0.1:9/".into(),
            secret: "x".repeat(16),
        };
        assert_eq!(d.body(), d.body());
        let v: Value = serde_json::from_slice(&d.body()).expect("json");
        assert_eq!(v["delivery"], 7);
        assert_eq!(v["data"]["fire"]["id"], "f1");
    }
}

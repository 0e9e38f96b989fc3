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
use chrono::{DateTime, SecondsFormat, Utc};
use hmac::{Hmac, Mac};
use rusqlite::Connection;
use serde::Serialize;
use serde_json::{Value, json};
use sha2::Sha256;
use tokio::sync::Notify;
use tokio::task::JoinHandle;

use crate::app::App;
use crate::domain::fire::Status;
use crate::error::{Error, Result};
use crate::service::jobs::Stopping;
use crate::store::fires::{EventRecord, FireRecord, ts};
use crate::store::webhooks as rows;
pub use crate::store::webhooks::Webhook;
use crate::store::{self, Db};

/// The kinds of event a webhook can subscribe to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    NewFire,
    Assignment,
    DeadlinePassed,
    Reignition,
    ClearanceZero,
    DustAlert,
    Warning,
    DustIssue,
}

impl EventKind {
    pub const ALL: [EventKind; 8] = [
        EventKind::NewFire,
        EventKind::Assignment,
        EventKind::DeadlinePassed,
        EventKind::Reignition,
        EventKind::ClearanceZero,
        EventKind::DustAlert,
        EventKind::Warning,
        EventKind::DustIssue,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::NewFire => "new_fire",
            EventKind::Assignment => "assignment",
            EventKind::DeadlinePassed => "deadline_passed",
            EventKind::Reignition => "reignition",
            EventKind::ClearanceZero => "clearance_zero",
            EventKind::DustAlert => "dust_alert",
            EventKind::Warning => "warning",
            EventKind::DustIssue => "dust_issue",
        }
    }

    pub fn parse(s: &str) -> Option<EventKind> {
        EventKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

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
    format!("sha256={}", hex(&hmac_sha256(secret.as_bytes(), body)))
}

/// Checks a signature header in constant time (what a receiver does; used by the tests).
pub fn verify(secret: &str, body: &[u8], header_value: &str) -> bool {
    let Some(hex_sig) = header_value.strip_prefix("sha256=") else {
        return false;
    };
    let Some(sig) = unhex(hex_sig) else {
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

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| s.get(i..i + 2).and_then(|h| u8::from_str_radix(h, 16).ok()))
        .collect()
}

/// Outbox times keep milliseconds (back-off in tests is shorter than a second); one format per
/// column keeps text order equal to time order.
fn ts_ms(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Wakes the worker after an enqueue. A process-wide hint rather than a field of [`App`]: the
/// enqueue runs inside a synchronous transaction that has no handle on the app, and a spurious
/// wake costs one indexed query. Correctness never depends on it: the worker also polls.
static WAKE: Notify = Notify::const_new();

/// Writes one outbox row per active webhook subscribed to `kind`, inside the caller's
/// transaction, so the delivery commits or rolls back with the event. The same `event_key`
/// twice for a webhook is ignored (the UNIQUE constraint), which makes sweeps idempotent.
pub fn enqueue(
    tx: &Connection,
    kind: EventKind,
    event_key: &str,
    payload: &Value,
) -> store::Result<()> {
    enqueue_since(tx, kind, event_key, payload, None)
}

/// [`enqueue`] for webhooks registered at or before `happened_at` only (a sweep that finds an
/// old event must not send it to a webhook registered after it happened).
fn enqueue_since(
    tx: &Connection,
    kind: EventKind,
    event_key: &str,
    payload: &Value,
    happened_at: Option<&str>,
) -> store::Result<()> {
    let now = ts_ms(Utc::now());
    let n = rows::insert_outbox(
        tx,
        kind.as_str(),
        event_key,
        &payload.to_string(),
        &now,
        happened_at,
    )?;
    if n > 0 {
        WAKE.notify_one();
    }
    Ok(())
}

/// What a receiver learns about a fire.
pub fn fire_json(f: &FireRecord) -> Value {
    json!({
        "id": f.id,
        "code": f.code,
        "kind": f.kind,
        "status": f.status,
        "lon": f.lon,
        "lat": f.lat,
        "reported_at": ts(f.reported_at),
        "deadline": f.deadline.map(ts),
        "responsible": f.responsible,
        "reignitions": f.reignitions,
    })
}

fn event_json(event_id: i64, e: &EventRecord) -> Value {
    let mut v = serde_json::to_value(e).unwrap_or(Value::Null);
    if let Some(o) = v.as_object_mut() {
        o.insert("id".into(), event_id.into());
    }
    v
}

/// Hook for a newly reported fire.
pub fn fire_reported(tx: &Connection, fire: &FireRecord) -> store::Result<()> {
    enqueue(
        tx,
        EventKind::NewFire,
        &fire.id,
        &json!({ "fire": fire_json(fire) }),
    )
}

/// Hook for an action recorded as event `event_id`, with the fire as it is afterwards:
/// reassignments, re-ignitions, and the city-wide burning count reaching zero.
pub fn fire_acted(
    tx: &Connection,
    event_id: i64,
    event: &EventRecord,
    fire: &FireRecord,
) -> store::Result<()> {
    let key = format!("event:{event_id}");
    let payload = json!({ "fire": fire_json(fire), "event": event_json(event_id, event) });
    if event.action == "reassign" {
        enqueue(tx, EventKind::Assignment, &key, &payload)?;
    }
    if event.reignited {
        enqueue(tx, EventKind::Reignition, &key, &payload)?;
    }
    let was_burning = event
        .from
        .as_deref()
        .and_then(Status::parse)
        .is_some_and(Status::is_burning);
    let burning_now = Status::parse(&event.to).is_some_and(Status::is_burning);
    if was_burning
        && !burning_now
        && rows::subscribed(tx, EventKind::ClearanceZero.as_str())?
        && !rows::any_burning(tx)?
    {
        enqueue(
            tx,
            EventKind::ClearanceZero,
            &key,
            &json!({
                "burning": 0,
                "at": event.at,
                "last_fire": fire_json(fire),
                "event": event_json(event_id, event),
            }),
        )?;
    }
    Ok(())
}

/// Hook for a fire the system moved to another party (recorded as event `event_id`).
pub fn fire_rerouted(
    tx: &Connection,
    event_id: i64,
    fire: &str,
    from: &crate::domain::responsibility::Responsible,
    to: &crate::domain::responsibility::Responsible,
    reason: &str,
) -> store::Result<()> {
    let Some(f) = crate::store::fires::get(tx, fire)? else {
        return Ok(());
    };
    enqueue(
        tx,
        EventKind::Assignment,
        &format!("event:{event_id}"),
        &json!({
            "fire": fire_json(&f),
            "event": {
                "id": event_id,
                "action": "reassign",
                "actor": "system",
                "reason": reason,
                "from": from,
                "to": to,
            },
        }),
    )
}

/// The setting that remembers up to when deadlines have been swept.
const DEADLINE_WATERMARK: &str = "webhooks_deadlines_swept_until";

/// Enqueues `deadline_passed` for every burning fire whose deadline passed since the last sweep
/// (or, on the first, since the oldest subscribed webhook was registered), once per fire and
/// deadline: a new deadline can pass again. The watermark keeps each sweep to the deadlines
/// that passed since the one before, so it stays cheap on a province-sized database; the
/// UNIQUE key makes an overlap harmless. Returns the fires whose deadline passed.
pub fn sweep_deadlines(tx: &Connection, now: DateTime<Utc>) -> store::Result<usize> {
    if !rows::subscribed(tx, EventKind::DeadlinePassed.as_str())? {
        return Ok(0);
    }
    let since: Option<String> =
        match crate::store::Tx::settings(&crate::store::sqlite::SqliteTx::new(tx))
            .get(DEADLINE_WATERMARK)?
        {
            Some(Value::String(t)) => Some(t),
            _ => rows::oldest_subscription(tx, EventKind::DeadlinePassed.as_str())?,
        };
    let now_ts = ts(now);
    let since = since.unwrap_or_else(|| now_ts.clone());
    let passed = rows::burning_past_deadline(tx, &now_ts, &since)?;
    for f in &passed {
        let Some(deadline) = f.deadline.map(ts) else {
            continue;
        };
        enqueue_since(
            tx,
            EventKind::DeadlinePassed,
            &format!("{}@{deadline}", f.id),
            &json!({ "fire": fire_json(f), "deadline": deadline }),
            Some(&deadline),
        )?;
    }
    crate::store::Tx::settings(&crate::store::sqlite::SqliteTx::new(tx))
        .set(DEADLINE_WATERMARK, &Value::String(now_ts))?;
    Ok(passed.len())
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
pub fn register(tx: &Connection, by: &str, new: NewWebhook, now: DateTime<Utc>) -> Result<Webhook> {
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
        None => hex(&rand::random::<[u8; 32]>()),
    };
    let created_at = ts(now);
    let id = rows::insert(
        tx,
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

pub use rows::{deactivate, get, list};

/// Puts a webhook's failed deliveries back in the queue (after the receiver is fixed), with a
/// fresh count of attempts. Returns how many.
pub fn requeue_failed(tx: &Connection, id: i64, now: DateTime<Utc>) -> store::Result<usize> {
    let n = rows::requeue_failed(tx, id, &ts_ms(now))?;
    if n > 0 {
        WAKE.notify_one();
    }
    Ok(n)
}

/// The states a delivery can be in.
pub const STATES: [&str; 4] = ["pending", "delivered", "failed", "cancelled"];

pub use rows::{Delivery, deliveries};

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

fn due(conn: &Connection, now: DateTime<Utc>, limit: usize) -> store::Result<Vec<Due>> {
    Ok(rows::due(conn, &ts_ms(now), limit)?
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
fn next_due(conn: &Connection) -> store::Result<Option<DateTime<Utc>>> {
    let t = rows::next_due(conn)?;
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
    tx: &Connection,
    id: i64,
    attempt: &Attempt,
    now: DateTime<Utc>,
    cfg: &Config,
) -> store::Result<()> {
    let at = ts_ms(now);
    if let Attempt::Delivered { status } = attempt {
        return rows::mark_delivered(tx, id, &at, *status);
    }
    let (status, error) = match attempt {
        Attempt::Refused { status, body } => (Some(*status), format!("HTTP {status} {body}")),
        Attempt::Failed { error } => (None, error.clone()),
        Attempt::Delivered { .. } => (None, String::new()),
    };
    let error: String = error.trim().chars().take(500).collect();
    let Some(attempts) = rows::pending_attempts(tx, id)? else {
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
    rows::mark_attempt(tx, id, state, &at, status, &error, next.as_deref())
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
pub fn spawn_worker_with(app: &App, cfg: Config) -> JoinHandle<()> {
    tokio::spawn(worker(app.db.clone(), cfg, Stopping::never()))
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
            match db.write(|tx| sweep_deadlines(tx, Utc::now())).await {
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
            _ = WAKE.notified() => {
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
mod tests {
    use super::*;

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

    fn db() -> (Connection, crate::layers::Registry) {
        let registry = crate::layers::Registry::builtin().expect("layers");
        let mut conn = Connection::open_in_memory().expect("db");
        crate::store::gpkg::register_functions(&conn).expect("fns");
        crate::store::schema::migrate(&mut conn, &registry).expect("migrate");
        (conn, registry)
    }

    fn hook(conn: &Connection, kinds: &[&str]) -> Webhook {
        register(
            conn,
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

    fn pending(conn: &Connection, kind: &str) -> Vec<String> {
        let mut stmt = conn
            .prepare("SELECT event_key FROM webhook_outbox WHERE kind = ?1 ORDER BY id")
            .expect("prepare");
        stmt.query_map([kind], |r| r.get(0))
            .expect("query")
            .collect::<rusqlite::Result<_>>()
            .expect("rows")
    }

    #[test]
    fn enqueue_reaches_only_active_subscribers_once_per_key() {
        let (conn, _) = db();
        let a = hook(&conn, &["new_fire", "assignment"]);
        let b = hook(&conn, &["warning"]);
        let c = hook(&conn, &["new_fire"]);
        assert_eq!(a.secret.len(), 64, "a generated secret");
        deactivate(&conn, c.id).expect("deactivate");
        let p = json!({"x": 1});
        enqueue(&conn, EventKind::NewFire, "f1", &p).expect("enqueue");
        enqueue(&conn, EventKind::NewFire, "f1", &p).expect("again");
        enqueue(&conn, EventKind::Reignition, "e1", &p).expect("nobody");
        let rows: Vec<(i64, String)> = conn
            .prepare("SELECT webhook, kind FROM webhook_outbox")
            .expect("prepare")
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .expect("query")
            .collect::<rusqlite::Result<_>>()
            .expect("rows");
        assert_eq!(rows, vec![(a.id, "new_fire".to_string())]);
        assert!(
            deliveries(&conn, b.id, None, 10, 0)
                .expect("list")
                .is_empty()
        );
    }

    #[test]
    fn a_rolled_back_event_sends_nothing() {
        let (mut conn, _) = db();
        hook(&conn, &["new_fire"]);
        {
            let tx = conn.transaction().expect("tx");
            enqueue(&tx, EventKind::NewFire, "f1", &json!({})).expect("enqueue");
            tx.rollback().expect("rollback");
        }
        assert!(pending(&conn, "new_fire").is_empty());
    }

    #[test]
    fn failed_attempts_back_off_then_give_up_and_can_be_requeued() {
        let (conn, _) = db();
        let h = hook(&conn, &["new_fire"]);
        enqueue(&conn, EventKind::NewFire, "f1", &json!({})).expect("enqueue");
        let cfg = Config {
            max_attempts: 3,
            ..Config::default()
        };
        let now = Utc::now();
        let id = deliveries(&conn, h.id, None, 1, 0).expect("list")[0].id;
        let refused = Attempt::Refused {
            status: 503,
            body: "busy".into(),
        };
        record(&conn, id, &refused, now, &cfg).expect("record");
        let d = &deliveries(&conn, h.id, None, 1, 0).expect("list")[0];
        assert_eq!(
            (d.state.as_str(), d.attempts, d.last_status),
            ("pending", 1, Some(503))
        );
        assert_eq!(
            d.next_attempt_at.as_deref(),
            Some(ts_ms(now + chrono::Duration::seconds(5)).as_str())
        );
        assert!(
            due(&conn, now, 10).expect("due").is_empty(),
            "not before the back-off"
        );
        assert_eq!(
            due(&conn, now + chrono::Duration::seconds(5), 10)
                .expect("due")
                .len(),
            1
        );
        let down = Attempt::Failed {
            error: "connection refused".into(),
        };
        record(&conn, id, &down, now, &cfg).expect("record");
        record(&conn, id, &down, now, &cfg).expect("record");
        let d = &deliveries(&conn, h.id, Some("failed"), 1, 0).expect("list")[0];
        assert_eq!((d.attempts, d.next_attempt_at.as_deref()), (3, None));
        assert_eq!(d.last_error.as_deref(), Some("connection refused"));
        assert_eq!(requeue_failed(&conn, h.id, now).expect("requeue"), 1);
        record(&conn, id, &Attempt::Delivered { status: 204 }, now, &cfg).expect("record");
        let d = &deliveries(&conn, h.id, None, 1, 0).expect("list")[0];
        assert_eq!(
            (d.state.as_str(), d.last_status, d.last_error.as_deref()),
            ("delivered", Some(204), None)
        );
        assert!(d.delivered_at.is_some());
    }

    /// A database with one district and a manager, for the hooks in the fire use cases.
    fn city() -> (Connection, crate::layers::Registry) {
        let (conn, registry) = db();
        let district = r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"name":"乌达区","code":"150303"},
            "geometry":{"type":"Polygon","coordinates":[[[106.5,39.3],[106.8,39.3],[106.8,39.7],[106.5,39.7],[106.5,39.3]]]}}]}"#;
        crate::service::import::import_geojson(
            &crate::store::sqlite::SqliteTx::new(&conn),
            &registry,
            "districts",
            district,
            crate::i18n::Lang::En,
        )
        .expect("district");
        (conn, registry)
    }

    #[test]
    fn fire_hooks_enqueue_new_fires_passed_deadlines_zero_burning_and_reignitions_once() {
        use crate::domain::role::Actor;
        use crate::service::fires::{ActionInput, Ctx, act, report};
        let (conn, registry) = city();
        let all: Vec<&str> = EventKind::ALL.iter().map(|k| k.as_str()).collect();
        hook(&conn, &all);
        let rules = crate::domain::fire::Rules::default();
        let index = crate::domain::responsibility::ResponsibilityIndex::new(
            crate::store::areas::load(&conn).expect("areas"),
        );
        let ctx = Ctx {
            registry: &registry,
            index: &index,
            rules: &rules,
        };
        let manager = Actor::system();
        // Reported ten days ago: its 7-day plan deadline has passed.
        let then = Utc::now() - chrono::Duration::days(10);
        let body = |x: f64| json!({"type": "Feature", "geometry": {"type": "Point", "coordinates": [x, 39.45]}, "properties": {"kind": "coal_seam"}});
        let a = report(&conn, &ctx, &manager, &body(106.6), then)
            .expect("a")
            .fire;
        let b = report(&conn, &ctx, &manager, &body(106.7), Utc::now())
            .expect("b")
            .fire;
        assert_eq!(pending(&conn, "new_fire"), vec![a.id.clone(), b.id.clone()]);

        assert_eq!(sweep_deadlines(&conn, Utc::now()).expect("sweep"), 1);
        assert_eq!(sweep_deadlines(&conn, Utc::now()).expect("again"), 0);
        // Without the watermark (a lost setting) the overlap is harmless.
        conn.execute("DELETE FROM settings WHERE key = ?1", [DEADLINE_WATERMARK])
            .expect("forget");
        assert_eq!(sweep_deadlines(&conn, Utc::now()).expect("overlap"), 1);
        let overdue = pending(&conn, "deadline_passed");
        assert_eq!(overdue.len(), 1, "once per fire and deadline");
        assert!(overdue[0].starts_with(&a.id));

        let dismiss = ActionInput {
            action: "dismiss".into(),
            reason: Some("test".into()),
            ..ActionInput::default()
        };
        act(&conn, &ctx, &manager, &a.id, &dismiss, Utc::now()).expect("dismiss a");
        assert!(pending(&conn, "clearance_zero").is_empty(), "b still burns");
        act(&conn, &ctx, &manager, &b.id, &dismiss, Utc::now()).expect("dismiss b");
        let zero = deliveries_of_kind(&conn, "clearance_zero");
        assert_eq!(zero.len(), 1, "the count reached zero once");
        assert_eq!(zero[0]["burning"], 0);
        assert_eq!(zero[0]["last_fire"]["id"], b.id.as_str());

        // A third fire brought under control reaches zero again, then re-ignites.
        let c = report(&conn, &ctx, &manager, &body(106.65), Utc::now())
            .expect("c")
            .fire;
        let district = Actor {
            username: "wuda".into(),
            role: crate::domain::role::Role::District,
            district: Some("150303".into()),
            holder: None,
        };
        let step = |who: &Actor, input: serde_json::Value| {
            let input: ActionInput = serde_json::from_value(input).expect("input");
            act(&conn, &ctx, who, &c.id, &input, Utc::now()).expect("act");
        };
        step(&manager, json!({"action": "confirm"}));
        step(
            &district,
            json!({"action": "start_treatment", "method": "strip_dig"}),
        );
        step(&district, json!({"action": "control", "temp_c": 30.0}));
        assert_eq!(deliveries_of_kind(&conn, "clearance_zero").len(), 2);
        assert!(pending(&conn, "reignition").is_empty());
        step(&manager, json!({"action": "inspect", "temp_c": 300.0}));
        let re = deliveries_of_kind(&conn, "reignition");
        assert_eq!(re.len(), 1);
        assert_eq!(re[0]["fire"]["status"], "reignited");
        assert_eq!(re[0]["event"]["action"], "inspect");
        assert_eq!(deliveries_of_kind(&conn, "clearance_zero").len(), 2);
    }

    #[test]
    fn a_system_reroute_is_an_assignment() {
        use crate::domain::role::Actor;
        use crate::service::fires::{Ctx, report};
        let (conn, registry) = city();
        hook(&conn, &["assignment"]);
        let rules = crate::domain::fire::Rules::default();
        let index = crate::domain::responsibility::ResponsibilityIndex::new(
            crate::store::areas::load(&conn).expect("areas"),
        );
        let ctx = Ctx {
            registry: &registry,
            index: &index,
            rules: &rules,
        };
        let body = json!({"type": "Feature", "geometry": {"type": "Point", "coordinates": [106.65, 39.45]}, "properties": {"kind": "coal_seam"}});
        let fire = report(&conn, &ctx, &Actor::system(), &body, Utc::now())
            .expect("report")
            .fire;
        let mine = r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"name":"新矿","licence_no":"C9","holder":"新公司","kind":"open_pit","status":"producing"},
            "geometry":{"type":"Polygon","coordinates":[[[106.6,39.4],[106.7,39.4],[106.7,39.5],[106.6,39.5],[106.6,39.4]]]}}]}"#;
        crate::service::import::import_geojson(
            &crate::store::sqlite::SqliteTx::new(&conn),
            &registry,
            "mines",
            mine,
            crate::i18n::Lang::En,
        )
        .expect("mine");
        crate::service::reroute::reroute_open(&conn, Utc::now(), "boundary update")
            .expect("reroute");
        let sent = deliveries_of_kind(&conn, "assignment");
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0]["fire"]["id"], fire.id.as_str());
        assert_eq!(sent[0]["event"]["to"]["name"], "新公司");
        assert_eq!(sent[0]["event"]["actor"], "system");
    }

    fn deliveries_of_kind(conn: &Connection, kind: &str) -> Vec<Value> {
        let mut stmt = conn
            .prepare("SELECT payload FROM webhook_outbox WHERE kind = ?1 ORDER BY id")
            .expect("prepare");
        stmt.query_map([kind], |r| r.get::<_, String>(0))
            .expect("query")
            .map(|p| serde_json::from_str(&p.expect("row")).expect("json"))
            .collect()
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

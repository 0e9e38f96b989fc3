//! Webhooks and their outbox: the rows only. What may be registered, when a delivery is due
//! again and how it is signed and sent are in `service::webhooks`. Times are the caller's
//! strings (milliseconds, `Z`), so text order is time order.

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;
use serde_json::{Value, json};

use super::Result;
use super::fires::{self, FireRecord};
use crate::domain::fire::Status;

/// A registered webhook. The secret is only ever shown when it is created.
#[derive(Debug, Clone, Serialize)]
pub struct Webhook {
    pub id: i64,
    pub url: String,
    pub kinds: Vec<String>,
    #[serde(skip)]
    pub secret: String,
    pub created_by: String,
    pub created_at: String,
    pub active: bool,
}

/// One outbox row as listed.
#[derive(Debug, Clone, Serialize)]
pub struct Delivery {
    pub id: i64,
    pub webhook: i64,
    pub kind: String,
    pub event_key: String,
    pub state: String,
    pub attempts: i64,
    pub created_at: String,
    pub next_attempt_at: Option<String>,
    pub last_attempt_at: Option<String>,
    pub last_status: Option<i64>,
    pub last_error: Option<String>,
    pub delivered_at: Option<String>,
    pub payload: Value,
}

/// A pending delivery with where it goes and the secret it is signed with.
#[derive(Debug, Clone)]
pub struct DueRow {
    pub id: i64,
    pub webhook: i64,
    pub kind: String,
    pub event_key: String,
    pub payload: String,
    pub created_at: String,
    pub url: String,
    pub secret: String,
}

/// One outbox row per active webhook subscribed to `kind` (registered at or before
/// `happened_at`, when given); an `event_key` a webhook already has is ignored. Returns how
/// many rows were written.
pub fn insert_outbox(
    tx: &Connection,
    kind: &str,
    event_key: &str,
    payload: &str,
    now: &str,
    happened_at: Option<&str>,
) -> Result<usize> {
    Ok(tx
        .prepare_cached(
            "INSERT OR IGNORE INTO webhook_outbox(webhook, kind, event_key, payload, created_at, next_attempt_at)
             SELECT w.id, ?1, ?2, ?3, ?4, ?4 FROM webhooks w, json_each(w.kinds) k
             WHERE w.active = 1 AND k.value = ?1 AND (?5 IS NULL OR w.created_at <= ?5)",
        )?
        .execute(params![kind, event_key, payload, now, happened_at])?)
}

fn burning_sql() -> String {
    Status::ALL
        .iter()
        .filter(|s| s.is_burning())
        .map(|s| format!("'{}'", s.as_str()))
        .collect::<Vec<_>>()
        .join(",")
}

/// Whether any fire in the city is burning (the status index answers at the first one).
pub fn any_burning(tx: &Connection) -> Result<bool> {
    Ok(tx.query_row(
        &format!(
            "SELECT EXISTS (SELECT 1 FROM fire_points WHERE status IN ({}))",
            burning_sql()
        ),
        [],
        |r| r.get(0),
    )?)
}

/// Burning fires whose deadline is in `[since, now]`.
pub fn burning_past_deadline(tx: &Connection, now: &str, since: &str) -> Result<Vec<FireRecord>> {
    fires::get_many(
        tx,
        &format!(
            "t.status IN ({}) AND t.deadline IS NOT NULL AND t.deadline <= ? AND t.deadline >= ?",
            burning_sql()
        ),
        vec![
            rusqlite::types::Value::Text(now.to_string()),
            rusqlite::types::Value::Text(since.to_string()),
        ],
    )
}

/// Whether an active webhook wants this kind.
pub fn subscribed(tx: &Connection, kind: &str) -> Result<bool> {
    Ok(tx
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM webhooks w, json_each(w.kinds) k WHERE w.active = 1 AND k.value = ?1)",
        )?
        .query_row([kind], |r| r.get(0))?)
}

/// When the oldest active webhook subscribed to `kind` was registered.
pub fn oldest_subscription(tx: &Connection, kind: &str) -> Result<Option<String>> {
    Ok(tx.query_row(
        "SELECT min(w.created_at) FROM webhooks w, json_each(w.kinds) k WHERE w.active = 1 AND k.value = ?1",
        [kind],
        |r| r.get(0),
    )?)
}

/// Stores a new, active webhook; its id.
pub fn insert(
    tx: &Connection,
    url: &str,
    kinds_json: &str,
    secret: &str,
    by: &str,
    created_at: &str,
) -> Result<i64> {
    tx.execute(
        "INSERT INTO webhooks(url, kinds, secret, created_by, created_at, active) VALUES (?1, ?2, ?3, ?4, ?5, 1)",
        params![url, kinds_json, secret, by, created_at],
    )?;
    Ok(tx.last_insert_rowid())
}

fn webhook_from_row(r: &rusqlite::Row) -> rusqlite::Result<Webhook> {
    let kinds: String = r.get(2)?;
    Ok(Webhook {
        id: r.get(0)?,
        url: r.get(1)?,
        kinds: serde_json::from_str(&kinds).unwrap_or_default(),
        secret: r.get(3)?,
        created_by: r.get(4)?,
        created_at: r.get(5)?,
        active: r.get(6)?,
    })
}

const WEBHOOK_COLUMNS: &str = "id, url, kinds, secret, created_by, created_at, active";

pub fn get(conn: &Connection, id: i64) -> Result<Option<Webhook>> {
    Ok(conn
        .query_row(
            &format!("SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE id = ?1"),
            [id],
            webhook_from_row,
        )
        .optional()?)
}

/// Every webhook, newest first, with how many deliveries are in each state.
pub fn list(conn: &Connection) -> Result<Vec<(Webhook, Value)>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT {WEBHOOK_COLUMNS} FROM webhooks ORDER BY id DESC"
    ))?;
    let hooks: Vec<Webhook> = stmt
        .query_map([], webhook_from_row)?
        .collect::<rusqlite::Result<_>>()?;
    let mut counts = conn
        .prepare("SELECT state, count(*) FROM webhook_outbox WHERE webhook = ?1 GROUP BY state")?;
    let mut out = vec![];
    for h in hooks {
        let mut c = json!({"pending": 0, "delivered": 0, "failed": 0, "cancelled": 0});
        let rows = counts.query_map([h.id], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?))
        })?;
        for row in rows {
            let (state, n) = row?;
            c[state] = n.into();
        }
        out.push((h, c));
    }
    Ok(out)
}

/// Stops a webhook: it gets no new deliveries and its pending ones are cancelled; the history
/// stays. Returns false when there is no such webhook.
pub fn deactivate(tx: &Connection, id: i64) -> Result<bool> {
    let n = tx.execute("UPDATE webhooks SET active = 0 WHERE id = ?1", [id])?;
    tx.execute(
        "UPDATE webhook_outbox SET state = 'cancelled', next_attempt_at = NULL WHERE webhook = ?1 AND state = 'pending'",
        [id],
    )?;
    Ok(n > 0)
}

/// Puts an active webhook's failed deliveries back in the queue, due at `now`, with a fresh
/// count of attempts. Returns how many.
pub fn requeue_failed(tx: &Connection, id: i64, now: &str) -> Result<usize> {
    Ok(tx.execute(
        "UPDATE webhook_outbox SET state = 'pending', attempts = 0, next_attempt_at = ?2
         WHERE webhook = ?1 AND state = 'failed' AND EXISTS (SELECT 1 FROM webhooks w WHERE w.id = ?1 AND w.active = 1)",
        params![id, now],
    )?)
}

/// A webhook's deliveries, newest first, optionally in one state.
pub fn deliveries(
    conn: &Connection,
    webhook: i64,
    state: Option<&str>,
    limit: i64,
    offset: i64,
) -> Result<Vec<Delivery>> {
    let mut stmt = conn.prepare(
        "SELECT id, webhook, kind, event_key, state, attempts, created_at, next_attempt_at, last_attempt_at,
                last_status, last_error, delivered_at, payload
         FROM webhook_outbox WHERE webhook = ?1 AND (?2 IS NULL OR state = ?2)
         ORDER BY id DESC LIMIT ?3 OFFSET ?4",
    )?;
    let rows = stmt.query_map(params![webhook, state, limit, offset], |r| {
        let payload: String = r.get(12)?;
        Ok(Delivery {
            id: r.get(0)?,
            webhook: r.get(1)?,
            kind: r.get(2)?,
            event_key: r.get(3)?,
            state: r.get(4)?,
            attempts: r.get(5)?,
            created_at: r.get(6)?,
            next_attempt_at: r.get(7)?,
            last_attempt_at: r.get(8)?,
            last_status: r.get(9)?,
            last_error: r.get(10)?,
            delivered_at: r.get(11)?,
            payload: serde_json::from_str(&payload).unwrap_or(Value::Null),
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Pending deliveries of active webhooks due by `now`, soonest first.
pub fn due(conn: &Connection, now: &str, limit: usize) -> Result<Vec<DueRow>> {
    let mut stmt = conn.prepare_cached(
        "SELECT o.id, o.webhook, o.kind, o.event_key, o.payload, o.created_at, w.url, w.secret
         FROM webhook_outbox o JOIN webhooks w ON w.id = o.webhook
         WHERE o.state = 'pending' AND o.next_attempt_at <= ?1 AND w.active = 1
         ORDER BY o.next_attempt_at, o.id LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![now, limit as i64], |r| {
        Ok(DueRow {
            id: r.get(0)?,
            webhook: r.get(1)?,
            kind: r.get(2)?,
            event_key: r.get(3)?,
            payload: r.get(4)?,
            created_at: r.get(5)?,
            url: r.get(6)?,
            secret: r.get(7)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// When the next pending delivery falls due, if any.
pub fn next_due(conn: &Connection) -> Result<Option<String>> {
    Ok(conn.query_row(
        "SELECT min(next_attempt_at) FROM webhook_outbox WHERE state = 'pending'",
        [],
        |r| r.get(0),
    )?)
}

/// Marks a pending delivery delivered.
pub fn mark_delivered(tx: &Connection, id: i64, at: &str, status: u16) -> Result<()> {
    tx.execute(
        "UPDATE webhook_outbox SET state = 'delivered', attempts = attempts + 1, last_attempt_at = ?2,
             last_status = ?3, last_error = NULL, delivered_at = ?2, next_attempt_at = NULL
         WHERE id = ?1 AND state = 'pending'",
        params![id, at, status],
    )?;
    Ok(())
}

/// The attempts so far of a delivery still pending (None once it is not).
pub fn pending_attempts(tx: &Connection, id: i64) -> Result<Option<i64>> {
    Ok(tx
        .query_row(
            "SELECT attempts FROM webhook_outbox WHERE id = ?1 AND state = 'pending'",
            [id],
            |r| r.get(0),
        )
        .optional()?)
}

/// Records a failed attempt: its answer or error, the new state and when to try again.
pub fn mark_attempt(
    tx: &Connection,
    id: i64,
    state: &str,
    at: &str,
    status: Option<u16>,
    error: &str,
    next: Option<&str>,
) -> Result<()> {
    tx.execute(
        "UPDATE webhook_outbox SET state = ?2, attempts = attempts + 1, last_attempt_at = ?3,
             last_status = ?4, last_error = ?5, next_attempt_at = ?6
         WHERE id = ?1",
        params![id, state, at, status, error, next],
    )?;
    Ok(())
}

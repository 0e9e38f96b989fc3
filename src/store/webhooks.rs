//! Webhooks and their deliveries: the rows only. What may be registered, when a delivery is
//! due again and how it is signed and sent are in `service::webhooks`. Times are the caller's
//! strings (milliseconds, `Z`), so text order is time order.

use serde::Serialize;
use serde_json::Value;

use super::{Result, Slice};

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

pub trait Webhooks {
    /// Stores a new, active webhook; its id.
    fn insert(
        &self,
        url: &str,
        kinds_json: &str,
        secret: &str,
        by: &str,
        created_at: &str,
    ) -> Result<i64>;

    fn get(&self, id: i64) -> Result<Option<Webhook>>;

    /// One page of the webhooks, newest first, each with how many deliveries are in each state,
    /// and whether more follow.
    fn list(&self, slice: Slice) -> Result<(Vec<(Webhook, Value)>, bool)>;

    /// Stops a webhook: it gets no new deliveries and its pending ones are cancelled; the
    /// history stays. Returns false when there is no such webhook.
    fn deactivate(&self, id: i64) -> Result<bool>;

    /// Puts an active webhook's failed deliveries back in the queue, due at `now`, with a fresh
    /// count of attempts. Returns how many.
    fn requeue_failed(&self, id: i64, now: &str) -> Result<usize>;

    /// A webhook's deliveries, newest first, optionally in one state.
    fn deliveries(
        &self,
        webhook: i64,
        state: Option<&str>,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<Delivery>>;

    /// Pending deliveries of active webhooks due by `now`, soonest first.
    fn due(&self, now: &str, limit: usize) -> Result<Vec<DueRow>>;

    /// When the next pending delivery falls due, if any.
    fn next_due(&self) -> Result<Option<String>>;

    /// Marks a pending delivery delivered.
    fn mark_delivered(&self, id: i64, at: &str, status: u16) -> Result<()>;

    /// The attempts so far of a delivery still pending (None once it is not).
    fn pending_attempts(&self, id: i64) -> Result<Option<i64>>;

    /// Records a failed attempt: its answer or error, the new state and when to try again.
    fn mark_attempt(&self, attempt: &FailedAttempt) -> Result<()>;
}

/// A failed attempt as [`Webhooks::mark_attempt`] records it.
pub struct FailedAttempt<'a> {
    pub id: i64,
    pub state: &'a str,
    pub at: &'a str,
    pub status: Option<u16>,
    pub error: &'a str,
    pub next: Option<&'a str>,
}

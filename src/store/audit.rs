//! The audit log: one entry per sign-in (also failed), sign-out, account change and write
//! request — the records and the [`Audit`] trait an engine implements.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;

use super::Result;

/// What happened, as recorded.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Entry {
    /// The signed-in user, or the username tried for a failed sign-in; none when unknown.
    pub actor: Option<String>,
    /// The peer address.
    pub address: Option<String>,
    /// `login`, `login_failed`, `logout`, `user_disable`, …, or `request` for any other write.
    pub action: String,
    pub method: Option<String>,
    /// The route as declared, e.g. `/api/fires/{id}/actions`.
    pub route: Option<String>,
    /// The target's id (the route's parameters, or the username for account changes).
    pub target: Option<String>,
    pub status: Option<u16>,
    /// Reason, before → after, as JSON.
    pub detail: Option<Value>,
}

/// A recorded entry.
#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub id: i64,
    pub at: String,
    /// Its fields stand beside `id` and `at` in the answer.
    #[serde(flatten)]
    pub entry: Entry,
}

/// Which entries to read: each set field must match (`from` inclusive, `to` exclusive).
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub actor: Option<String>,
    pub action: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

pub trait Audit {
    /// Records an entry at `at`; returns its id (ids grow with time).
    fn record(&self, at: DateTime<Utc>, e: &Entry) -> Result<i64>;
    /// One page, newest first, and whether more follow.
    fn page(&self, f: &Filter, limit: usize, offset: usize) -> Result<(Vec<Row>, bool)>;
    /// Up to `limit` entries after id `after`, oldest first: the export reads the log in such
    /// chunks, never all at once.
    fn chunk(&self, f: &Filter, after: i64, limit: usize) -> Result<Vec<Row>>;
}

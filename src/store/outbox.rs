//! The outbox: the domain events a use case publishes, written in its own transaction so they
//! commit or roll back with the change. Each event becomes one pending delivery per active
//! webhook subscribed to its kind; the delivery worker is fed from there.

use serde_json::Value;

use super::Result;
use crate::domain::event::EventKind;

/// An event as published.
pub struct Published<'a> {
    pub kind: EventKind,
    /// Unique within the kind: publishing the same key again adds nothing, so sweeps and
    /// retries are harmless.
    pub key: &'a str,
    pub payload: &'a Value,
    /// When it was published (milliseconds, `Z`).
    pub now: &'a str,
    /// When it happened, if long before now: receivers registered after that are not sent it.
    pub happened_at: Option<&'a str>,
}

pub trait Outbox {
    /// Records an event; returns how many deliveries it queued.
    fn publish(&self, e: &Published) -> Result<usize>;

    /// Since when someone listens to `kind`: the registration time of the oldest active
    /// subscriber, `None` when nobody does (publishing it then queues nothing).
    fn listened_since(&self, kind: EventKind) -> Result<Option<String>>;
}

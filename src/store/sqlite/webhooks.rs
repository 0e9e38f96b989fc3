//! Webhooks and their deliveries in SQLite: `webhooks` and `webhook_outbox` (one row per event
//! and subscribed webhook, UNIQUE on webhook and event key).

use rusqlite::{OptionalExtension, params};
use serde_json::{Value, json};

use super::{Result, SqliteTx, tracked};
use crate::domain::event::EventKind;
use crate::store::Slice;
use crate::store::outbox::{Outbox, Published};
use crate::store::webhooks::{Delivery, DueRow, FailedAttempt, Webhook, Webhooks};

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

impl Outbox for SqliteTx<'_> {
    fn publish(&self, e: &Published) -> Result<usize> {
        Ok(self
            .conn
            .prepare_cached(
                "INSERT OR IGNORE INTO webhook_outbox(webhook, kind, event_key, payload, created_at, next_attempt_at)
                 SELECT w.id, ?1, ?2, ?3, ?4, ?4 FROM webhooks w, json_each(w.kinds) k
                 WHERE w.active = 1 AND k.value = ?1 AND (?5 IS NULL OR w.created_at <= ?5)",
            )?
            .execute(params![
                e.kind.as_str(),
                e.key,
                e.payload.to_string(),
                e.now,
                e.happened_at
            ])?)
    }

    fn listened_since(&self, kind: EventKind) -> Result<Option<String>> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT min(w.created_at) FROM webhooks w, json_each(w.kinds) k WHERE w.active = 1 AND k.value = ?1",
            )?
            .query_row([kind.as_str()], |r| r.get(0))?)
    }
}

impl Webhooks for SqliteTx<'_> {
    fn insert(
        &self,
        url: &str,
        kinds_json: &str,
        secret: &str,
        by: &str,
        created_at: &str,
    ) -> Result<i64> {
        self.conn.execute(
            "INSERT INTO webhooks(url, kinds, secret, created_by, created_at, active) VALUES (?1, ?2, ?3, ?4, ?5, 1)",
            params![url, kinds_json, secret, by, created_at],
        )?;
        Ok(self.conn.last_insert_rowid())
    }

    fn get(&self, id: i64) -> Result<Option<Webhook>> {
        Ok(self
            .conn
            .prepare_cached(&format!(
                "SELECT {WEBHOOK_COLUMNS} FROM webhooks WHERE id = ?1"
            ))?
            .query_row([id], webhook_from_row)
            .optional()?)
    }

    fn list(&self, slice: Slice) -> Result<(Vec<(Webhook, Value)>, bool)> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {WEBHOOK_COLUMNS} FROM webhooks ORDER BY id DESC LIMIT ?1 OFFSET ?2"
        ))?;
        let (hooks, more) = slice.cut(
            stmt.query_map(super::limit_offset(slice), webhook_from_row)?
                .collect::<rusqlite::Result<Vec<Webhook>>>()?,
        );
        let mut counts = self.conn.prepare_cached(
            "SELECT state, count(*) FROM webhook_outbox WHERE webhook = ?1 GROUP BY state",
        )?;
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
        Ok((out, more))
    }

    fn deactivate(&self, id: i64) -> Result<bool> {
        let n = self
            .conn
            .execute("UPDATE webhooks SET active = 0 WHERE id = ?1", [id])?;
        self.conn.execute(
            "UPDATE webhook_outbox SET state = 'cancelled', next_attempt_at = NULL WHERE webhook = ?1 AND state = 'pending'",
            [id],
        )?;
        Ok(n > 0)
    }

    fn requeue_failed(&self, id: i64, now: &str) -> Result<usize> {
        Ok(self.conn.execute(
            "UPDATE webhook_outbox SET state = 'pending', attempts = 0, next_attempt_at = ?2
             WHERE webhook = ?1 AND state = 'failed' AND EXISTS (SELECT 1 FROM webhooks w WHERE w.id = ?1 AND w.active = 1)",
            params![id, now],
        )?)
    }

    fn deliveries(
        &self,
        webhook: i64,
        state: Option<&str>,
        limit: i64,
        offset: i64,
    ) -> Result<Vec<Delivery>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT id, webhook, kind, event_key, state, attempts, created_at, next_attempt_at, last_attempt_at,
                    last_status, last_error, delivered_at, payload
             FROM webhook_outbox WHERE webhook = ?1 AND (?2 IS NULL OR state = ?2)
             ORDER BY id DESC LIMIT ?3 OFFSET ?4",
        )?;
        let rows = stmt.query_map(params![webhook, state, limit, offset], |r| {
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
                payload: tracked::json_or_null(r.get(12)?),
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn due(&self, now: &str, limit: usize) -> Result<Vec<DueRow>> {
        let mut stmt = self.conn.prepare_cached(
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

    fn next_due(&self) -> Result<Option<String>> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT min(next_attempt_at) FROM webhook_outbox WHERE state = 'pending'",
            )?
            .query_row([], |r| r.get(0))?)
    }

    fn mark_delivered(&self, id: i64, at: &str, status: u16) -> Result<()> {
        self.conn.execute(
            "UPDATE webhook_outbox SET state = 'delivered', attempts = attempts + 1, last_attempt_at = ?2,
                 last_status = ?3, last_error = NULL, delivered_at = ?2, next_attempt_at = NULL
             WHERE id = ?1 AND state = 'pending'",
            params![id, at, status],
        )?;
        Ok(())
    }

    fn pending_attempts(&self, id: i64) -> Result<Option<i64>> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT attempts FROM webhook_outbox WHERE id = ?1 AND state = 'pending'",
            )?
            .query_row([id], |r| r.get(0))
            .optional()?)
    }

    fn mark_attempt(&self, a: &FailedAttempt) -> Result<()> {
        self.conn.execute(
            "UPDATE webhook_outbox SET state = ?2, attempts = attempts + 1, last_attempt_at = ?3,
                 last_status = ?4, last_error = ?5, next_attempt_at = ?6
             WHERE id = ?1",
            params![a.id, a.state, a.at, a.status, a.error, a.next],
        )?;
        Ok(())
    }
}

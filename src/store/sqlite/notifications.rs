//! Notification rows in SQLite: the `notification_reads` marker and queries over `events`,
//! `dust_warnings`/`dust_restrictions` and `dust_issues`.

use rusqlite::types::Value as Sql;
use rusqlite::{OptionalExtension, params};

use super::{Result, SqliteTx};
use crate::store::features::Visible;
use crate::store::notifications::{FireEvent, IssueParty, Notifications};

/// The party as a condition on `t` (binding `?3`) and its value.
fn party_sql(party: &IssueParty) -> (&'static str, Option<&str>) {
    match party {
        IssueParty::All => ("?3 IS NULL", None),
        IssueParty::Holder(h) => ("t.responsible_holder = ?3", Some(h)),
        IssueParty::District(d) => (
            "t.responsible_party = 'district' AND t.district_code = ?3",
            Some(d),
        ),
    }
}

/// [`party_sql`] for the monitors layer, whose columns name the mine's holder and district.
fn monitor_party_sql(party: &IssueParty) -> (&'static str, Option<&str>) {
    match party {
        IssueParty::All => ("?2 IS NULL", None),
        IssueParty::Holder(h) => ("m.holder = ?2", Some(h)),
        IssueParty::District(d) => ("m.district_code = ?2", Some(d)),
    }
}

impl SqliteTx<'_> {
    /// Whether a table exists (a database opened by an older binary may lack the dust tables).
    fn table_exists(&self, name: &str) -> Result<bool> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT EXISTS(SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1)",
            )?
            .query_row([name], |r| r.get(0))?)
    }
}

impl Notifications for SqliteTx<'_> {
    fn read_marker(&self, user: &str) -> Result<Option<(i64, String)>> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT last_event_id, seen_at FROM notification_reads WHERE username = ?1",
            )?
            .query_row([user], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?)
    }

    fn mark_read(&self, user: &str, now: &str) -> Result<()> {
        let last: i64 =
            self.conn
                .query_row("SELECT coalesce(max(id), 0) FROM events", [], |r| r.get(0))?;
        self.conn.execute(
            "INSERT INTO notification_reads(username, last_event_id, seen_at) VALUES (?1, ?2, ?3)
             ON CONFLICT(username) DO UPDATE SET last_event_id = excluded.last_event_id, seen_at = excluded.seen_at",
            params![user, last, now],
        )?;
        Ok(())
    }

    fn fire_events(&self, visible: &Visible, not_by: &str, since: &str) -> Result<Vec<FireEvent>> {
        let c = super::scope::condition(visible);
        let (cond, mut p) = (c.sql, c.params);
        let sql = format!(
            "SELECT e.id, e.fire, t.code, e.at, e.action, e.reignited, e.responsible,
                    t.responsible_party FROM events e
             JOIN fire_points t ON t.uuid = e.fire
             WHERE {cond} AND (e.action IN ('report', 'reassign', 'urge') OR e.reignited = 1) AND e.actor <> ? AND e.at >= ?
             ORDER BY e.id DESC LIMIT 500"
        );
        p.push(Sql::Text(not_by.to_string()));
        p.push(Sql::Text(since.to_string()));
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(rusqlite::params_from_iter(p), |r| {
            Ok(FireEvent {
                id: r.get(0)?,
                fire: r.get(1)?,
                code: r.get(2)?,
                at: r.get(3)?,
                action: r.get(4)?,
                reignited: r.get::<_, i64>(5)? != 0,
                responsible: r.get(6)?,
                party: r.get(7)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn warnings_in_force(
        &self,
        now: &str,
        holder: Option<&str>,
        district: Option<&str>,
    ) -> Result<Vec<(i64, String, String)>> {
        if !self.table_exists("dust_warnings")? {
            return Ok(vec![]);
        }
        let mut stmt = self.conn.prepare_cached(
            "SELECT w.id, w.level, w.issued_at FROM dust_warnings w
             WHERE w.ends_at > ?1
               AND (?2 IS NULL OR EXISTS
                 (SELECT 1 FROM dust_restrictions r WHERE r.warning = w.id AND r.holder = ?2))
               AND (?3 IS NULL OR EXISTS (SELECT 1 FROM json_each(w.districts) WHERE value = ?3)
                 OR EXISTS (SELECT 1 FROM dust_restrictions r WHERE r.warning = w.id AND r.district_code = ?3))
             ORDER BY w.id DESC LIMIT 50",
        )?;
        let rows = stmt.query_map(params![now, holder, district], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn dust_issues_reported(
        &self,
        party: &IssueParty,
        since: &str,
        not_by: &str,
    ) -> Result<Vec<(String, String)>> {
        if !self.table_exists("dust_issues")? {
            return Ok(vec![]);
        }
        let (cond, bound) = party_sql(party);
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT t.code, t.reported_at FROM dust_issues t
             WHERE {cond} AND t.reported_at >= ?1 AND t.reported_by <> ?2
             ORDER BY t.reported_at DESC LIMIT 50"
        ))?;
        let rows = stmt.query_map(params![since, not_by, bound], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn dust_issues_overdue(&self, party: &IssueParty, now: &str) -> Result<Vec<(String, String)>> {
        if !self.table_exists("dust_issues")? {
            return Ok(vec![]);
        }
        let (cond, bound) = party_sql(party);
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT t.code, t.deadline FROM dust_issues t
             WHERE {cond} AND t.status IN ('open', 'rectifying') AND t.deadline <= ?1
             ORDER BY t.deadline DESC LIMIT 50"
        ))?;
        // ?2 is not used here; the condition binds ?3.
        let rows = stmt.query_map(params![now, Option::<String>::None, bound], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn silent_monitors(&self, party: &IssueParty, before: i64) -> Result<Vec<(String, i64)>> {
        if !self.table_exists("dust_monitors")? {
            return Ok(vec![]);
        }
        let (cond, bound) = monitor_party_sql(party);
        // One seek a monitor: its newest reading is the end of its (device, t, level) key.
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT mn, last FROM (
               SELECT m.mn AS mn,
                      (SELECT max(r.t) FROM dust_readings r WHERE r.device = d.id) AS last
               FROM dust_monitors m JOIN dust_devices d ON d.mn = m.mn
               WHERE {cond})
             WHERE last < ?1 ORDER BY last DESC LIMIT 50"
        ))?;
        let rows = stmt.query_map(params![before, bound], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

//! The audit log in the `audit_log` table.

use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::{params_from_iter, types::Value as Sql};
use serde_json::Value;

use super::{Result, SqliteTx};
use crate::store::audit::{Audit, Entry, Filter, Row};

/// Times are stored as UTC with milliseconds and `Z`, so text order is time order.
fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn conditions(f: &Filter) -> (String, Vec<Sql>) {
    let mut sql = vec![];
    let mut args = vec![];
    if let Some(a) = &f.actor {
        sql.push("actor = ?");
        args.push(Sql::Text(a.clone()));
    }
    if let Some(a) = &f.action {
        sql.push("action = ?");
        args.push(Sql::Text(a.clone()));
    }
    if let Some(t) = f.from {
        sql.push("at >= ?");
        args.push(Sql::Text(stamp(t)));
    }
    if let Some(t) = f.to {
        sql.push("at < ?");
        args.push(Sql::Text(stamp(t)));
    }
    let sql = if sql.is_empty() {
        "1".to_string()
    } else {
        sql.join(" AND ")
    };
    (sql, args)
}

fn row(r: &rusqlite::Row) -> rusqlite::Result<Row> {
    let detail: Option<String> = r.get(9)?;
    Ok(Row {
        id: r.get(0)?,
        at: r.get(1)?,
        entry: Entry {
            actor: r.get(2)?,
            address: r.get(3)?,
            action: r.get(4)?,
            method: r.get(5)?,
            route: r.get(6)?,
            target: r.get(7)?,
            status: r.get(8)?,
            detail: detail.and_then(|d| serde_json::from_str(&d).ok()),
        },
    })
}

const COLUMNS: &str = "id, at, actor, address, action, method, route, target, status, detail";

impl Audit for SqliteTx<'_> {
    fn record(&self, at: DateTime<Utc>, e: &Entry) -> Result<i64> {
        self.conn
            .prepare_cached(
                "INSERT INTO audit_log(at, actor, address, action, method, route, target, status, detail)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )?
            .execute(rusqlite::params![
                stamp(at),
                e.actor,
                e.address,
                e.action,
                e.method,
                e.route,
                e.target,
                e.status,
                e.detail.as_ref().map(Value::to_string)
            ])?;
        Ok(self.conn.last_insert_rowid())
    }

    fn page(&self, f: &Filter, limit: usize, offset: usize) -> Result<(Vec<Row>, bool)> {
        let (cond, mut args) = conditions(f);
        args.push(Sql::Integer(limit as i64 + 1));
        args.push(Sql::Integer(offset as i64));
        // One statement per combination of filters: few, so they stay cached.
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM audit_log WHERE {cond} ORDER BY id DESC LIMIT ? OFFSET ?"
        ))?;
        let mut rows: Vec<Row> = stmt
            .query_map(params_from_iter(args), row)?
            .collect::<rusqlite::Result<_>>()?;
        let more = rows.len() > limit;
        rows.truncate(limit);
        Ok((rows, more))
    }

    fn chunk(&self, f: &Filter, after: i64, limit: usize) -> Result<Vec<Row>> {
        let (cond, mut args) = conditions(f);
        args.insert(0, Sql::Integer(after));
        args.push(Sql::Integer(limit as i64));
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {COLUMNS} FROM audit_log WHERE id > ? AND {cond} ORDER BY id LIMIT ?"
        ))?;
        Ok(stmt
            .query_map(params_from_iter(args), row)?
            .collect::<rusqlite::Result<_>>()?)
    }
}

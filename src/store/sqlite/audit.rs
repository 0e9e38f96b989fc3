//! The audit log: one row per sign-in (also failed), sign-out, account change and write request.

use chrono::{DateTime, SecondsFormat, Utc};
use rusqlite::{Connection, params_from_iter, types::Value as Sql};
use serde::Serialize;
use serde_json::Value;

use super::Result;

/// What happened, as recorded.
#[derive(Debug, Clone, Default)]
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
    pub actor: Option<String>,
    pub address: Option<String>,
    pub action: String,
    pub method: Option<String>,
    pub route: Option<String>,
    pub target: Option<String>,
    pub status: Option<u16>,
    pub detail: Option<Value>,
}

/// Times are stored as UTC with milliseconds and `Z`, so text order is time order.
pub fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

pub fn record(conn: &Connection, at: DateTime<Utc>, e: &Entry) -> Result<i64> {
    conn.execute(
        "INSERT INTO audit_log(at, actor, address, action, method, route, target, status, detail)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        rusqlite::params![
            stamp(at),
            e.actor,
            e.address,
            e.action,
            e.method,
            e.route,
            e.target,
            e.status,
            e.detail.as_ref().map(Value::to_string)
        ],
    )?;
    Ok(conn.last_insert_rowid())
}

/// Which entries to read.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub actor: Option<String>,
    pub action: Option<String>,
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
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
        actor: r.get(2)?,
        address: r.get(3)?,
        action: r.get(4)?,
        method: r.get(5)?,
        route: r.get(6)?,
        target: r.get(7)?,
        status: r.get(8)?,
        detail: detail.and_then(|d| serde_json::from_str(&d).ok()),
    })
}

const COLUMNS: &str = "id, at, actor, address, action, method, route, target, status, detail";

/// One page, newest first, and whether more follow.
pub fn page(
    conn: &Connection,
    f: &Filter,
    limit: usize,
    offset: usize,
) -> Result<(Vec<Row>, bool)> {
    let (cond, mut args) = conditions(f);
    args.push(Sql::Integer(limit as i64 + 1));
    args.push(Sql::Integer(offset as i64));
    let mut stmt = conn.prepare(&format!(
        "SELECT {COLUMNS} FROM audit_log WHERE {cond} ORDER BY id DESC LIMIT ? OFFSET ?"
    ))?;
    let mut rows: Vec<Row> = stmt
        .query_map(params_from_iter(args), row)?
        .collect::<rusqlite::Result<_>>()?;
    let more = rows.len() > limit;
    rows.truncate(limit);
    Ok((rows, more))
}

/// Up to `limit` entries after id `after`, oldest first: the export reads the log in such
/// chunks, never all at once.
pub fn chunk(conn: &Connection, f: &Filter, after: i64, limit: usize) -> Result<Vec<Row>> {
    let (cond, mut args) = conditions(f);
    args.insert(0, Sql::Integer(after));
    args.push(Sql::Integer(limit as i64));
    let mut stmt = conn.prepare(&format!(
        "SELECT {COLUMNS} FROM audit_log WHERE id > ? AND {cond} ORDER BY id LIMIT ?"
    ))?;
    Ok(stmt
        .query_map(params_from_iter(args), row)?
        .collect::<rusqlite::Result<_>>()?)
}

/// A CSV cell: quoted when needed, and a leading `=`, `+`, `-`, `@` (or tab, CR) prefixed with
/// `'` so a spreadsheet shows it as text instead of running it as a formula.
pub fn csv_cell(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

pub const CSV_HEADER: &str = "id,at,actor,address,action,method,route,target,status,detail\r\n";

/// One entry as a CSV line.
pub fn csv_line(r: &Row) -> String {
    let cells = [
        r.id.to_string(),
        r.at.clone(),
        r.actor.clone().unwrap_or_default(),
        r.address.clone().unwrap_or_default(),
        r.action.clone(),
        r.method.clone().unwrap_or_default(),
        r.route.clone().unwrap_or_default(),
        r.target.clone().unwrap_or_default(),
        r.status.map(|s| s.to_string()).unwrap_or_default(),
        r.detail.as_ref().map(Value::to_string).unwrap_or_default(),
    ];
    let mut line = cells
        .iter()
        .map(|c| csv_cell(c))
        .collect::<Vec<_>>()
        .join(",");
    line.push_str("\r\n");
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_cells_never_start_a_formula() {
        assert_eq!(csv_cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_cell("+1"), "'+1");
        assert_eq!(csv_cell("-2"), "'-2");
        assert_eq!(csv_cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
        assert_eq!(csv_cell("manager"), "manager");
    }
}

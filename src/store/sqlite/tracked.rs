//! What fire points and dust violations store alike: a point, the responsible party in the same
//! columns, yearly codes from the `counters` table, RFC 3339 times and JSON text columns.

use chrono::{DateTime, Utc};
use geo::{Geometry, Point};
use rusqlite::types::Value as Sql;
use rusqlite::{Connection, OptionalExtension, Row, Rows, ToSql};
use serde_json::Value;

use super::{Result, StoreError, gpkg};
use crate::domain::case::Named;
use crate::domain::responsibility::{Party, Responsible};
use crate::store::fires::{parse_ts, ts};
use crate::store::step::Step;

/// A stored name read back as its value (a kind, a status); one the code does not know is
/// damaged data, reported with `what` it was.
pub fn named<T: Named>(s: &str, what: &str) -> Result<T> {
    T::from_name(s).ok_or_else(|| StoreError::Corrupt(format!("{what} {s:?}")))
}

/// A named column's value (see [`named`]).
pub fn named_col<T: Named>(r: &Row, column: &str, what: &str) -> Result<T> {
    named(&r.get::<_, String>(column)?, what)
}

/// An optional time column (empty counts as none).
pub fn opt_ts(s: Option<String>) -> Result<Option<DateTime<Utc>>> {
    s.filter(|s| !s.is_empty())
        .map(|s| parse_ts(&s))
        .transpose()
}

/// A JSON text column, none when empty or not JSON.
pub fn json_col(r: &Row, name: &str) -> rusqlite::Result<Option<Value>> {
    let s: Option<String> = r.get(name)?;
    Ok(s.and_then(|s| serde_json::from_str(&s).ok()))
}

/// A JSON text column's value, null when it is absent or not JSON: one reading for the columns
/// whose answer keeps a null in place (alert parties, warning areas, webhook payloads).
pub fn json_or_null(text: Option<String>) -> Value {
    text.and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or(Value::Null)
}

/// `t.fid IN (…)` for the points of `table` (alias `t`) in `[x0, y0, x1, y1]`, found through its
/// R-tree, with the parameters: the bbox condition of fire points and dust violations alike.
pub fn in_box(table: &str, [x0, y0, x1, y1]: [f64; 4]) -> (String, [Sql; 4]) {
    (
        format!(
            "t.fid IN (SELECT id FROM rtree_{table}_geom WHERE minx <= ? AND maxx >= ? AND miny <= ? AND maxy >= ?)"
        ),
        [Sql::Real(x1), Sql::Real(x0), Sql::Real(y1), Sql::Real(y0)],
    )
}

/// The row's `geom` as a point; `what` names the layer's features in the error.
pub fn point(r: &Row, what: &str) -> Result<Point<f64>> {
    let blob: Vec<u8> = r.get("geom")?;
    match gpkg::decode(&blob)? {
        Geometry::Point(p) => Ok(p),
        _ => Err(StoreError::Corrupt(format!(
            "{what}: the geometry is not a point"
        ))),
    }
}

/// The responsible party from `responsible_party`, `responsible_name`, `district_code`, `mine`,
/// `via` and `candidates`.
pub fn responsible(r: &Row) -> Result<Responsible> {
    let party: String = r.get("responsible_party")?;
    Ok(Responsible {
        party: if party == "holder" {
            Party::Holder
        } else {
            Party::District
        },
        name: r.get("responsible_name")?,
        district_code: r.get("district_code")?,
        via: json_col(r, "via")?.and_then(|v| serde_json::from_value(v).ok()),
        candidates: json_col(r, "candidates")?
            .and_then(|v| serde_json::from_value(v).ok())
            .unwrap_or_default(),
        mine: r.get("mine")?,
    })
}

/// The responsible party's column values, in the order `responsible_party, responsible_name,
/// responsible_holder, district_code, mine, via, candidates`.
pub fn party_values(r: &Responsible) -> [Sql; 7] {
    let text = |s: Option<&str>| s.map_or(Sql::Null, |s| Sql::Text(s.into()));
    [
        Sql::Text(
            if r.party == Party::Holder {
                "holder"
            } else {
                "district"
            }
            .into(),
        ),
        Sql::Text(r.name.clone()),
        text(r.holder()),
        Sql::Text(r.district_code.clone()),
        text(r.mine.as_deref()),
        text(
            r.via
                .as_ref()
                .and_then(|v| serde_json::to_string(v).ok())
                .as_deref(),
        ),
        Sql::Text(serde_json::to_string(&r.candidates).unwrap_or_else(|_| "[]".into())),
    ]
}

/// Writes a new responsible party, and `updated_at`, on the row of `table` (`fire_points` or
/// `dust_issues`) whose uuid is `uuid`.
pub fn set_responsible(
    conn: &Connection,
    table: &str,
    uuid: &str,
    r: &Responsible,
    at: DateTime<Utc>,
) -> Result<()> {
    let mut values = vec![Sql::Text(uuid.into()), Sql::Text(ts(at))];
    values.extend(party_values(r));
    conn.prepare_cached(&format!(
        "UPDATE \"{table}\" SET updated_at = ?2, responsible_party = ?3, responsible_name = ?4,
                responsible_holder = ?5, district_code = ?6, mine = ?7, via = ?8, candidates = ?9 WHERE uuid = ?1"
    ))?
    .execute(rusqlite::params_from_iter(values))?;
    Ok(())
}

/// The next code of a year's sequence, `{prefix}-{year}-{n:04}` (`WH-2026-0001`), counted per
/// `series` and prefix. Called inside the write transaction, so two reports never share one.
pub fn next_code(conn: &Connection, series: &str, prefix: &str, year: i32) -> Result<String> {
    let name = format!("{series}:{prefix}:{year}");
    let n: i64 = conn.query_row(
        "INSERT INTO counters(name, value) VALUES (?1, 1) ON CONFLICT(name) DO UPDATE SET value = value + 1 RETURNING value",
        [&name],
        |r| r.get(0),
    )?;
    Ok(format!("{prefix}-{year}-{n:04}"))
}

/// The columns of a case event's common part after its `id`, in the order [`step`] reads them
/// and [`EventTable::append`] writes them; a literal, so that a kind's column list can
/// `concat!` it.
macro_rules! step_columns {
    () => {
        "client_id, at, actor, role, action, from_status, to_status, note, request_hash, received_at"
    };
}
pub(crate) use step_columns;

/// Where a kind of case keeps its history: the events table, the column naming the case, and the
/// columns an event is read back from. Events are appended, never changed.
pub struct EventTable<T> {
    pub table: &'static str,
    pub case: &'static str,
    pub columns: &'static str,
    /// Reads an event from a row of `columns`.
    pub row: fn(&Row) -> rusqlite::Result<T>,
}

impl<T> EventTable<T> {
    /// A case's events in the order they happened.
    pub fn of(&self, conn: &Connection, id: &str) -> Result<Vec<T>> {
        let (columns, table, case) = (self.columns, self.table, self.case);
        let sql = format!("SELECT {columns} FROM {table} WHERE {case} = ?1 ORDER BY at, id");
        let mut stmt = conn.prepare_cached(&sql)?;
        let rows = stmt.query_map([id], self.row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// The event a client sent with this id, if one was recorded.
    pub fn by_client_id(&self, conn: &Connection, client_id: &str) -> Result<Option<T>> {
        let (columns, table) = (self.columns, self.table);
        let sql = format!("SELECT {columns} FROM {table} WHERE client_id = ?1");
        let mut stmt = conn.prepare_cached(&sql)?;
        Ok(stmt.query_row([client_id], self.row).optional()?)
    }

    /// When the case's latest event happened.
    pub fn last_at(&self, conn: &Connection, id: &str) -> Result<Option<DateTime<Utc>>> {
        let sql = format!(
            "SELECT max(at) FROM {} WHERE {} = ?1",
            self.table, self.case
        );
        let at: Option<String> = conn.prepare_cached(&sql)?.query_row([id], |r| r.get(0))?;
        at.as_deref().map(parse_ts).transpose()
    }

    /// Appends an event of the case `id`: its step, then the kind's `own` columns and values.
    /// Its id.
    pub fn append(
        &self,
        conn: &Connection,
        id: &str,
        step: &Step,
        own: &[(&str, &dyn ToSql)],
    ) -> Result<i64> {
        let mut columns = format!("{}, {}", self.case, step_columns!());
        let mut values: Vec<&dyn ToSql> = vec![
            &id,
            &step.client_id,
            &step.at,
            &step.actor,
            &step.role,
            &step.action,
            &step.from,
            &step.to,
            &step.note,
            &step.request_hash,
            &step.received_at,
        ];
        for (column, value) in own {
            columns += &format!(", {column}");
            values.push(*value);
        }
        let marks = vec!["?"; values.len()].join(", ");
        let sql = format!("INSERT INTO {}({columns}) VALUES ({marks})", self.table);
        conn.prepare_cached(&sql)?.execute(values.as_slice())?;
        Ok(conn.last_insert_rowid())
    }
}

/// A case event's common part, from the first columns of a row: `id, client_id, at, actor, role,
/// action, from_status, to_status, note, request_hash, received_at`; its own columns follow.
pub fn step(r: &Row) -> rusqlite::Result<Step> {
    Ok(Step {
        id: r.get(0)?,
        client_id: r.get(1)?,
        at: r.get(2)?,
        actor: r.get(3)?,
        role: r.get(4)?,
        action: r.get(5)?,
        from: r.get(6)?,
        to: r.get(7)?,
        note: r.get(8)?,
        request_hash: r.get(9)?,
        received_at: r.get(10)?,
    })
}

/// Every row of a query, each read by `f` (which may fail with more than an SQLite error).
pub fn collect<T>(mut rows: Rows<'_>, f: impl Fn(&Row) -> Result<T>) -> Result<Vec<T>> {
    let mut out = vec![];
    while let Some(r) = rows.next()? {
        out.push(f(r)?);
    }
    Ok(out)
}

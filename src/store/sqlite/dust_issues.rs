//! Dust violations in SQLite: the `dust_issues` layer (the current state, with an R-tree) and
//! the append-only `dust_issue_events`.

use chrono::{DateTime, Utc};
use geo::Geometry;
use rusqlite::types::Value as Sql;
use rusqlite::{Row, params};

use super::tracked::{self, EventTable, opt_ts};
use super::{Result, SqliteTx, gpkg};
use crate::domain::dust_issue::Status;
use crate::domain::responsibility::Responsible;
use crate::store::Slice;
use crate::store::dust_issues::{DustIssues, IssueEvent, IssueFilter, IssueRecord, NewIssue};
use crate::store::fires::{parse_ts, ts};

const COLUMNS: &str = "t.fid, t.geom, t.uuid, t.code, t.kind, t.status, t.note, t.accuracy_m, t.position_source, \
     t.reported_at, t.reported_by, t.deadline, t.responsible_party, t.responsible_name, t.district_code, t.mine, \
     t.via, t.candidates, t.rectified_at, t.verified_at, t.updated_at, t.request_hash";

fn from_row(r: &Row) -> Result<IssueRecord> {
    let p = tracked::point(r, "a dust violation")?;
    Ok(IssueRecord {
        fid: r.get("fid")?,
        uuid: r.get("uuid")?,
        code: r.get("code")?,
        kind: tracked::named_col(r, "kind", "dust violation kind")?,
        status: tracked::named_col(r, "status", "dust violation status")?,
        lon: p.x(),
        lat: p.y(),
        note: r.get("note")?,
        accuracy_m: r.get("accuracy_m")?,
        position_source: r.get("position_source")?,
        reported_at: parse_ts(&r.get::<_, String>("reported_at")?)?,
        reported_by: r.get("reported_by")?,
        deadline: parse_ts(&r.get::<_, String>("deadline")?)?,
        responsible: tracked::responsible(r)?,
        rectified_at: opt_ts(r.get("rectified_at")?)?,
        verified_at: opt_ts(r.get("verified_at")?)?,
        updated_at: parse_ts(&r.get::<_, String>("updated_at")?)?,
        request_hash: r.get("request_hash")?,
    })
}

/// The step's columns first (see [`tracked::step`]), then the violation's id.
const EVENT_COLUMNS: &str = concat!("id, ", tracked::step_columns!(), ", issue");

const EVENTS: EventTable<IssueEvent> = EventTable {
    table: "dust_issue_events",
    case: "issue",
    columns: EVENT_COLUMNS,
    row: event_from_row,
};

fn event_from_row(r: &Row) -> rusqlite::Result<IssueEvent> {
    Ok(IssueEvent {
        step: tracked::step(r)?,
        issue: r.get(11)?,
    })
}

/// The filter as a condition on `dust_issues t`, with its parameters.
fn condition(f: &IssueFilter) -> (String, Vec<Sql>) {
    let (cond, mut params) = match &f.visible {
        Some(v) => {
            let c = super::scope::condition(v);
            (c.sql, c.params)
        }
        None => ("1".to_string(), vec![]),
    };
    let mut sql = format!("({cond})");
    if let Some(id) = &f.id_or_code {
        sql += " AND (t.uuid = ? OR t.code = ?)";
        params.extend([Sql::Text(id.clone()), Sql::Text(id.clone())]);
    }
    if !f.statuses.is_empty() {
        sql += &format!(
            " AND t.status IN ({})",
            vec!["?"; f.statuses.len()].join(",")
        );
        params.extend(f.statuses.iter().map(|s| Sql::Text(s.as_str().into())));
    }
    if let Some(s) = f.not_status {
        sql += " AND t.status <> ?";
        params.push(Sql::Text(s.as_str().into()));
    }
    if let Some(bbox) = f.bbox {
        let (cond, values) = tracked::in_box("dust_issues", bbox);
        sql += &format!(" AND {cond}");
        params.extend(values);
    }
    (sql, params)
}

impl DustIssues for SqliteTx<'_> {
    fn get(&self, uuid_or_code: &str) -> Result<Option<IssueRecord>> {
        let sql = format!("SELECT {COLUMNS} FROM dust_issues t WHERE t.uuid = ?1 OR t.code = ?1");
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let mut rows = stmt.query([uuid_or_code])?;
        rows.next()?.map(from_row).transpose()
    }

    fn list(&self, filter: &IssueFilter) -> Result<Vec<IssueRecord>> {
        let (cond, params) = condition(filter);
        let sql =
            format!("SELECT {COLUMNS} FROM dust_issues t WHERE {cond} ORDER BY t.deadline, t.code");
        let mut stmt = self.conn.prepare_cached(&sql)?;
        tracked::collect(stmt.query(rusqlite::params_from_iter(params))?, from_row)
    }

    fn page(&self, filter: &IssueFilter, slice: Slice) -> Result<(Vec<IssueRecord>, bool)> {
        let (cond, mut params) = condition(filter);
        let sql = format!(
            "SELECT {COLUMNS} FROM dust_issues t WHERE {cond} ORDER BY t.deadline, t.code LIMIT ? OFFSET ?"
        );
        params.extend(super::limit_offset(slice).map(Sql::Integer));
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = tracked::collect(stmt.query(rusqlite::params_from_iter(params))?, from_row)?;
        Ok(slice.cut(rows))
    }

    fn count(&self, filter: &IssueFilter, cap: usize) -> Result<Option<usize>> {
        let (cond, params) = condition(filter);
        let select = format!("SELECT 1 FROM dust_issues t WHERE {cond}");
        super::count_capped(self.conn, &select, params, cap)
    }

    fn next_code(&self, prefix: &str, year: i32) -> Result<String> {
        tracked::next_code(self.conn, "dust_issue_code", prefix, year)
    }

    fn insert(&self, i: &NewIssue) -> Result<i64> {
        let mut values = vec![
            Sql::Blob(gpkg::try_encode(&Geometry::Point(i.point))?),
            Sql::Text(i.uuid.into()),
            Sql::Text(i.code.into()),
            Sql::Text(i.kind.as_str().into()),
            i.note.map_or(Sql::Null, |n| Sql::Text(n.into())),
            i.accuracy_m.map_or(Sql::Null, Sql::Real),
            Sql::Text(i.position_source.into()),
            Sql::Text(ts(i.reported_at)),
            Sql::Text(i.reported_by.into()),
            Sql::Text(ts(i.deadline)),
            Sql::Text(i.request_hash.into()),
        ];
        values.extend(tracked::party_values(i.responsible));
        self.conn.execute(
            "INSERT INTO dust_issues(geom, uuid, code, kind, status, note, accuracy_m, position_source, reported_at,
                reported_by, deadline, request_hash, updated_at, responsible_party, responsible_name, responsible_holder,
                district_code, mine, via, candidates)
             VALUES (?1, ?2, ?3, ?4, 'open', ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?8, ?12, ?13, ?14, ?15, ?16, ?17, ?18)",
            rusqlite::params_from_iter(values),
        )?;
        let fid = self.conn.last_insert_rowid();
        gpkg::update_extent(self.conn, "dust_issues")?;
        Ok(fid)
    }

    fn update_status(&self, issue: &IssueRecord, to: Status, at: DateTime<Utc>) -> Result<()> {
        let rectified_at = match to {
            Status::Rectified => Some(at),
            Status::Verified => issue.rectified_at,
            Status::Open | Status::Rectifying => None,
        };
        let verified_at = (to == Status::Verified).then_some(at);
        self.conn
            .prepare_cached(
                "UPDATE dust_issues SET status = ?2, rectified_at = ?3, verified_at = ?4, updated_at = ?5 WHERE uuid = ?1",
            )?
            .execute(params![
                issue.uuid,
                to.as_str(),
                rectified_at.map(ts),
                verified_at.map(ts),
                ts(at),
            ])?;
        Ok(())
    }

    fn update_responsible(&self, uuid: &str, r: &Responsible, at: DateTime<Utc>) -> Result<()> {
        tracked::set_responsible(self.conn, "dust_issues", uuid, r, at)
    }

    fn append_event(&self, e: &IssueEvent) -> Result<i64> {
        EVENTS.append(self.conn, &e.issue, &e.step, &[])
    }

    fn last_event_at(&self, issue: &str) -> Result<Option<DateTime<Utc>>> {
        EVENTS.last_at(self.conn, issue)
    }

    fn events(&self, issue: &str) -> Result<Vec<IssueEvent>> {
        EVENTS.of(self.conn, issue)
    }

    fn event_by_client_id(&self, client_id: &str) -> Result<Option<IssueEvent>> {
        EVENTS.by_client_id(self.conn, client_id)
    }
}

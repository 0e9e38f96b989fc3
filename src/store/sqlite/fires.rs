//! Fire points, their events and inspections in SQLite: `fire_points` (a GeoPackage layer with
//! an R-tree), the append-only `events` table and the `inspections` layer.

use chrono::{DateTime, Utc};
use geo::{Geometry, Point};
use rusqlite::types::Value as Sql;
use rusqlite::{OptionalExtension, Row, params};
use serde_json::Value;

use super::tracked::{self, EventTable, json_col, opt_ts};
use super::{Result, SqliteTx, gpkg};
use crate::domain::clearance::{Change, FireRef, Place};
use crate::domain::fire::Status;
use crate::domain::responsibility::Responsible;
use crate::store::Slice;
use crate::store::fires::{
    EventRecord, FireFilter, FireOrder, FireRecord, FireThen, Fires, NewFire, NewInspection,
    StateChange, Then, parse_ts, ts,
};

const FIRE_COLUMNS: &str = "t.fid, t.geom, t.uuid, t.code, t.kind, t.status, t.reported_at, t.received_at, t.reported_by, \
     t.deadline, t.temp_c, t.max_temp_c, t.area_m2, t.signs, t.note, t.accuracy_m, t.position_source, t.responsible_party, \
     t.responsible_name, t.district_code, t.via, t.candidates, t.mine, t.reignitions, t.controlled_at, t.cleared_at, \
     t.updated_at, t.request_hash";

fn fire_from_row(r: &Row) -> Result<FireRecord> {
    let p = tracked::point(r, "a fire point")?;
    let responsible = tracked::responsible(r)?;
    Ok(FireRecord {
        fid: r.get("fid")?,
        id: r.get("uuid")?,
        code: r.get("code")?,
        kind: tracked::named_col(r, "kind", "fire kind")?,
        status: tracked::named_col(r, "status", "fire status")?,
        lon: p.x(),
        lat: p.y(),
        reported_at: parse_ts(&r.get::<_, String>("reported_at")?)?,
        received_at: opt_ts(r.get("received_at")?)?,
        reported_by: r.get("reported_by")?,
        deadline: opt_ts(r.get("deadline")?)?,
        temp_c: r.get("temp_c")?,
        max_temp_c: r.get("max_temp_c")?,
        area_m2: r.get("area_m2")?,
        signs: json_col(r, "signs")?.unwrap_or(Value::Array(vec![])),
        note: r.get("note")?,
        accuracy_m: r.get("accuracy_m")?,
        position_source: r.get("position_source")?,
        responsible,
        reignitions: r.get::<_, Option<i64>>("reignitions")?.unwrap_or(0),
        controlled_at: opt_ts(r.get("controlled_at")?)?,
        cleared_at: opt_ts(r.get("cleared_at")?)?,
        updated_at: parse_ts(&r.get::<_, String>("updated_at")?)?,
        request_hash: r.get("request_hash")?,
    })
}

/// The step's columns first (see [`tracked::step`]), then a fire event's own.
const EVENT_COLUMNS: &str = concat!(
    "id, ",
    tracked::step_columns!(),
    ", fire, temp_c, co_ppm, reason, duplicate_of, method, plan_due, responsible, deadline, reignited"
);

const EVENTS: EventTable<EventRecord> = EventTable {
    table: "events",
    case: "fire",
    columns: EVENT_COLUMNS,
    row: event_from_row,
};

fn event_from_row(r: &Row) -> rusqlite::Result<EventRecord> {
    Ok(EventRecord {
        step: tracked::step(r)?,
        fire: r.get(11)?,
        temp_c: r.get(12)?,
        co_ppm: r.get(13)?,
        reason: r.get(14)?,
        duplicate_of: r.get(15)?,
        method: r.get(16)?,
        plan_due: r.get(17)?,
        responsible: r
            .get::<_, Option<String>>(18)?
            .and_then(|s| serde_json::from_str(&s).ok()),
        deadline: r.get(19)?,
        reignited: r.get::<_, i64>(20)? != 0,
    })
}

/// The filter as a condition on `fire_points t`, with its parameters.
fn condition(f: &FireFilter) -> (String, Vec<Sql>) {
    let (mut sql, mut params) = match &f.visible {
        Some(v) => {
            let c = super::scope::condition(v);
            // Kept bare when it allows everything, so callers can tell there is no condition.
            match c.sql.as_str() {
                "1" => (c.sql, c.params),
                _ => (format!("({})", c.sql), c.params),
            }
        }
        None => ("1".to_string(), vec![]),
    };
    if let Some(statuses) = &f.statuses
        && is_every_open(statuses)
    {
        // Spelled out, as the partial index of open fires is: SQLite uses a partial index only
        // where the query's terms are the index's own.
        sql += &format!(" AND t.status IN ({})", open_statuses_sql());
    } else if let Some(statuses) = &f.statuses {
        sql += &format!(" AND t.status IN ({})", vec!["?"; statuses.len()].join(","));
        params.extend(statuses.iter().map(|s| Sql::Text(s.as_str().into())));
        if statuses.is_empty() {
            sql += " AND 0";
        }
    }
    if let Some(ids) = &f.ids {
        // One JSON parameter, so a long list cannot pass SQLite's limit on parameters.
        sql += " AND t.uuid IN (SELECT value FROM json_each(?))";
        params.push(Sql::Text(serde_json::to_string(ids).unwrap_or_default()));
    }
    for (col, v) in [("kind", &f.kind), ("district_code", &f.district)] {
        if let Some(v) = v {
            sql += &format!(" AND t.{col} = ?");
            params.push(Sql::Text(v.clone()));
        }
    }
    if let Some(c) = super::filter::all(&f.filters) {
        sql += &format!(" AND ({})", c.sql);
        params.extend(c.params);
    }
    if let Some(bbox) = f.bbox {
        let (cond, values) = tracked::in_box("fire_points", bbox);
        sql += &format!(" AND {cond}");
        params.extend(values);
    }
    if let Some(by) = f.due_by {
        sql += " AND t.deadline IS NOT NULL AND t.deadline <= ?";
        params.push(Sql::Text(ts(by)));
    }
    if let Some(from) = f.due_from {
        sql += " AND t.deadline IS NOT NULL AND t.deadline >= ?";
        params.push(Sql::Text(ts(from)));
    }
    (sql, params)
}

/// Whether `statuses` are exactly the open ones (the dashboard's default list).
fn is_every_open(statuses: &[Status]) -> bool {
    let open: Vec<Status> = Status::ALL.into_iter().filter(|s| s.is_open()).collect();
    statuses.len() == open.len() && open.iter().all(|s| statuses.contains(s))
}

/// The statuses `keep` takes as SQL literals (`'a','b',…`, in the domain's order) for
/// `status IN (…)`: spelled once from the domain's own tests of a status.
fn statuses_sql(keep: fn(&Status) -> bool) -> String {
    Status::ALL
        .iter()
        .filter(|s| keep(s))
        .map(|s| format!("'{}'", s.as_str()))
        .collect::<Vec<_>>()
        .join(",")
}

/// The open statuses: the condition of the partial index `fire_points_open_deadline` (made in
/// `schema::migrate`) and of the queries that use it, which must spell it the same.
pub(super) fn open_statuses_sql() -> String {
    statuses_sql(|s| s.is_open())
}

/// A page of every open fire a manager sees, by deadline: read in order from the partial index
/// of open fires and stopped at the page's end, instead of sorting every open fire (SQLite does
/// not pick that index by itself).
fn open_by_deadline(f: &FireFilter, order: FireOrder) -> bool {
    let trivial = f
        .visible
        .as_ref()
        .is_none_or(|v| super::scope::condition(v).sql == "1");
    trivial
        && matches!(order, FireOrder::Deadline | FireOrder::LatestDeadline)
        && f.statuses.as_deref().is_some_and(is_every_open)
        && f.ids.is_none()
        && f.kind.is_none()
        && f.district.is_none()
        && f.filters.is_empty()
        && f.bbox.is_none()
        && f.due_by.is_none()
        && f.due_from.is_none()
}

/// The fires of a filter as they stood at a moment, with `then_status` and `then_deadline`
/// from each one's last events by then (one index probe per fire: `events_fire`). Used where
/// the statuses asked for are not all open (the read model's spans hold open fires only).
fn as_of_select(f: &FireFilter, then: &Then) -> (String, Vec<Sql>) {
    let (cond, mut params) = condition(f);
    let at = Sql::Text(ts(then.at));
    let statuses = then.statuses.as_deref();
    let last = |col: &str| {
        format!(
            "(SELECT e.{col} FROM events e WHERE e.fire = t.uuid AND e.at <= ?{} ORDER BY e.at DESC, e.id DESC LIMIT 1)",
            if col == "to_status" {
                ""
            } else {
                " AND e.deadline IS NOT NULL"
            }
        )
    };
    let mut sql = format!(
        "SELECT * FROM (SELECT {FIRE_COLUMNS}, {} AS then_status, {} AS then_deadline
         FROM fire_points t WHERE {cond}) WHERE then_status IS NOT NULL",
        last("to_status"),
        last("deadline")
    );
    // The two subqueries' parameters come first: they are in the select list.
    params.splice(0..0, [at.clone(), at]);
    if let Some(st) = statuses {
        sql += &format!(" AND then_status IN ({})", vec!["?"; st.len()].join(","));
        params.extend(st.iter().map(|s| Sql::Text(s.as_str().into())));
        if st.is_empty() {
            sql += " AND 0";
        }
    }
    // By the deadline then (the one each answer shows), then code.
    sql += " ORDER BY then_deadline, code";
    (sql, params)
}

/// The open statuses asked for, when every status asked for is open: then the read model's
/// spans covering the moment hold each fire's status and deadline then.
fn open_then(then: &Then) -> Option<&[Status]> {
    then.statuses
        .as_deref()
        .filter(|st| !st.is_empty() && st.iter().all(|s| s.is_open()))
}

/// The spans open at the moment in the statuses asked for (`sid`, with the order's keys: the
/// deadline then `d`, the code `c`). Driven from the spans' R-tree on time (`CROSS JOIN` keeps
/// SQLite from starting at `fire_points`), so its work follows the fires open then, not the
/// history; `fire_points` is joined only when the filter asks something of the fires, and the
/// spans' rows only when their keys or statuses are needed (every span is of an open status).
fn open_then_keys(f: &FireFilter, then: &Then, open: &[Status], keys: bool) -> (String, Vec<Sql>) {
    let (cond, cond_params) = condition(f);
    let every_open = is_every_open(open);
    let mut params = vec![Sql::Integer(then.at.timestamp()); 2];
    let mut sql =
        "SELECT r.id AS sid FROM fire_spans_rtree r WHERE r.from_at <= ? AND r.until_at > ?"
            .to_string();
    if keys || !every_open || cond != "1" {
        sql = "SELECT s.id AS sid, s.deadline AS d, s.code AS c
               FROM fire_spans_rtree r CROSS JOIN fire_spans s
               WHERE r.from_at <= ? AND r.until_at > ? AND s.id = r.id"
            .to_string();
    }
    if !every_open {
        sql += &format!(" AND s.status IN ({})", vec!["?"; open.len()].join(","));
        params.extend(open.iter().map(|s| Sql::Text(s.as_str().into())));
    }
    if cond != "1" {
        sql +=
            &format!(" AND EXISTS (SELECT 1 FROM fire_points t WHERE t.uuid = s.fire AND {cond})");
        params.extend(cond_params);
    }
    (sql, params)
}

/// `ORDER BY` for an order of fires.
fn order_by(order: FireOrder) -> &'static str {
    match order {
        FireOrder::Deadline => "t.deadline, t.code",
        FireOrder::LatestDeadline => "t.deadline DESC, t.code",
        FireOrder::Code => "t.code",
    }
}

impl SqliteTx<'_> {
    /// Up to `limit` events after `(at, id)` in time order, with their ids.
    pub(super) fn events_after(
        &self,
        (at, id): &(String, i64),
        limit: usize,
    ) -> Result<Vec<(i64, EventRecord)>> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT {EVENT_COLUMNS} FROM events WHERE (at, id) > (?1, ?2) ORDER BY at, id LIMIT ?3"
        ))?;
        let rows = stmt.query_map(params![at, id, limit as i64], |r| {
            Ok((r.get::<_, i64>(0)?, event_from_row(r)?))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn fires_where(&self, cond: &str, params: Vec<Sql>) -> Result<Vec<FireRecord>> {
        let sql = format!(
            "SELECT {FIRE_COLUMNS} FROM fire_points t WHERE {cond} ORDER BY t.deadline, t.code"
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        tracked::collect(
            stmt.query(rusqlite::params_from_iter(params))?,
            fire_from_row,
        )
    }
}

/// The burning statuses, for the fire points and the spans the counts read.
pub(super) fn burning_list() -> String {
    statuses_sql(|s| s.is_burning())
}

impl Fires for SqliteTx<'_> {
    fn get(&self, id_or_code: &str) -> Result<Option<FireRecord>> {
        let sql =
            format!("SELECT {FIRE_COLUMNS} FROM fire_points t WHERE t.uuid = ?1 OR t.code = ?1");
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let mut rows = stmt.query([id_or_code])?;
        rows.next()?.map(fire_from_row).transpose()
    }

    fn list(&self, filter: &FireFilter) -> Result<Vec<FireRecord>> {
        let (cond, params) = condition(filter);
        self.fires_where(&cond, params)
    }

    fn page(
        &self,
        filter: &FireFilter,
        order: FireOrder,
        slice: Slice,
    ) -> Result<(Vec<FireRecord>, bool)> {
        let (cond, mut params) = condition(filter);
        let index = match open_by_deadline(filter, order) {
            true => " INDEXED BY fire_points_open_deadline",
            false => "",
        };
        let sql = format!(
            "SELECT {FIRE_COLUMNS} FROM fire_points t{index} WHERE {cond} ORDER BY {} LIMIT ? OFFSET ?",
            order_by(order)
        );
        params.extend(super::limit_offset(slice).map(Sql::Integer));
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = tracked::collect(
            stmt.query(rusqlite::params_from_iter(params))?,
            fire_from_row,
        )?;
        Ok(slice.cut(rows))
    }

    fn count(&self, filter: &FireFilter, cap: usize) -> Result<Option<usize>> {
        let (cond, params) = condition(filter);
        let select = format!("SELECT 1 FROM fire_points t WHERE {cond}");
        super::count_capped(self.conn, &select, params, cap)
    }

    fn page_as_of(
        &self,
        filter: &FireFilter,
        then: &Then,
        slice: Slice,
    ) -> Result<(Vec<FireThen>, bool)> {
        if let Some(open) = open_then(then) {
            // The page's keys first, sorted and cut; only its rows are read whole.
            let (keys, mut params) = open_then_keys(filter, then, open, true);
            params.extend(super::limit_offset(slice).map(Sql::Integer));
            let sql = format!(
                "SELECT {FIRE_COLUMNS}, s.status AS then_status, s.deadline AS then_deadline
                 FROM ({keys} ORDER BY d, c LIMIT ? OFFSET ?) k
                 CROSS JOIN fire_spans s CROSS JOIN fire_points t
                 WHERE s.id = k.sid AND t.uuid = s.fire ORDER BY k.d, k.c"
            );
            let mut stmt = self.conn.prepare_cached(&sql)?;
            let rows = tracked::collect(stmt.query(rusqlite::params_from_iter(params))?, |r| {
                Ok(FireThen {
                    fire: fire_from_row(r)?,
                    status: tracked::named_col(r, "then_status", "event status")?,
                    deadline: r
                        .get::<_, Option<i64>>("then_deadline")?
                        .map(|s| DateTime::from_timestamp(s, 0).unwrap_or_default()),
                })
            })?;
            return Ok(slice.cut(rows));
        }
        let (select, mut params) = as_of_select(filter, then);
        params.extend(super::limit_offset(slice).map(Sql::Integer));
        let mut stmt = self
            .conn
            .prepare_cached(&format!("{select} LIMIT ? OFFSET ?"))?;
        let rows = tracked::collect(stmt.query(rusqlite::params_from_iter(params))?, |r| {
            Ok(FireThen {
                fire: fire_from_row(r)?,
                status: tracked::named_col(r, "then_status", "event status")?,
                deadline: opt_ts(r.get("then_deadline")?)?,
            })
        })?;
        Ok(slice.cut(rows))
    }

    fn count_as_of(&self, filter: &FireFilter, then: &Then, cap: usize) -> Result<Option<usize>> {
        let (select, params) = match open_then(then) {
            Some(open) => open_then_keys(filter, then, open, false),
            None => as_of_select(filter, then),
        };
        super::count_capped(self.conn, &select, params, cap)
    }

    fn each(
        &self,
        filter: &FireFilter,
        order: FireOrder,
        f: &mut dyn FnMut(FireRecord) -> bool,
    ) -> Result<()> {
        let (cond, params) = condition(filter);
        let sql = format!(
            "SELECT {FIRE_COLUMNS} FROM fire_points t WHERE {cond} ORDER BY {}",
            order_by(order)
        );
        // Not from the statement cache: the caller may run other queries (a fire's events) on
        // this connection while the rows are read.
        let mut stmt = self.conn.prepare(&sql)?;
        let mut rows = stmt.query(rusqlite::params_from_iter(params))?;
        while let Some(r) = rows.next()? {
            if !f(fire_from_row(r)?) {
                break;
            }
        }
        Ok(())
    }

    fn next_code(&self, prefix: &str, year: i32) -> Result<String> {
        tracked::next_code(self.conn, "fire_code", prefix, year)
    }

    fn insert(&self, f: &NewFire) -> Result<i64> {
        let num = |x: Option<f64>| x.map_or(Sql::Null, Sql::Real);
        let text = |x: Option<&str>| x.map_or(Sql::Null, |s| Sql::Text(s.into()));
        let mut values = vec![
            Sql::Blob(gpkg::try_encode(&Geometry::Point(f.point))?),
            Sql::Text(f.id.into()),
            Sql::Text(f.code.into()),
            Sql::Text(f.kind.as_str().into()),
            Sql::Text(ts(f.reported_at)),
            Sql::Text(f.reported_by.into()),
            Sql::Text(ts(f.deadline)),
            num(f.temp_c),
            num(f.area_m2),
            Sql::Text(f.signs.to_string()),
            text(f.note),
            num(f.accuracy_m),
            text(f.position_source),
            Sql::Text(f.request_hash.into()),
            Sql::Text(ts(f.received_at)),
        ];
        values.extend(tracked::party_values(f.responsible));
        // Cached: preparing compiles the table's triggers too (R-tree, map tiles).
        self.conn
            .prepare_cached(
                "INSERT INTO fire_points(geom, uuid, code, kind, status, reported_at, reported_by, deadline, temp_c, max_temp_c,
                area_m2, signs, note, accuracy_m, position_source, request_hash, received_at, reignitions, updated_at,
                responsible_party, responsible_name, responsible_holder, district_code, mine, via, candidates)
             VALUES (?1, ?2, ?3, ?4, 'reported', ?5, ?6, ?7, ?8, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, 0, ?5,
                ?16, ?17, ?18, ?19, ?20, ?21, ?22)",
            )?
            .execute(rusqlite::params_from_iter(values))?;
        Ok(self.conn.last_insert_rowid())
    }

    fn append_event(&self, e: &EventRecord) -> Result<i64> {
        let responsible = e.responsible.as_ref().map(Value::to_string);
        let own: [(&str, &dyn rusqlite::ToSql); 9] = [
            ("temp_c", &e.temp_c),
            ("co_ppm", &e.co_ppm),
            ("reason", &e.reason),
            ("duplicate_of", &e.duplicate_of),
            ("method", &e.method),
            ("plan_due", &e.plan_due),
            ("responsible", &responsible),
            ("deadline", &e.deadline),
            ("reignited", &(e.reignited as i64)),
        ];
        let id = EVENTS.append(self.conn, &e.fire, &e.step, &own)?;
        // The counts follow every event, in its transaction.
        self.count_event(e, id)?;
        Ok(id)
    }

    fn events(&self, fire: &str) -> Result<Vec<EventRecord>> {
        EVENTS.of(self.conn, fire)
    }

    fn event_by_client_id(&self, client_id: &str) -> Result<Option<EventRecord>> {
        EVENTS.by_client_id(self.conn, client_id)
    }

    fn last_event_at(&self, fire: &str) -> Result<Option<DateTime<Utc>>> {
        EVENTS.last_at(self.conn, fire)
    }

    fn status_at(&self, fire: &str, t: DateTime<Utc>) -> Result<Option<Status>> {
        let s: Option<String> = self
            .conn
            .prepare_cached(
                "SELECT to_status FROM events WHERE fire = ?1 AND at <= ?2 ORDER BY at DESC, id DESC LIMIT 1",
            )?
            .query_row(params![fire, ts(t)], |r| r.get(0))
            .optional()?;
        Ok(s.as_deref().and_then(Status::parse))
    }

    fn readings_since(
        &self,
        fire: &str,
        since: DateTime<Utc>,
    ) -> Result<Vec<(DateTime<Utc>, f64)>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT at, temp_c FROM events WHERE fire = ?1 AND action = 'inspect' AND temp_c IS NOT NULL AND at >= ?2 ORDER BY at",
        )?;
        let rows = stmt.query_map(params![fire, ts(since)], |r| {
            Ok((r.get::<_, String>(0)?, r.get::<_, f64>(1)?))
        })?;
        let mut out = vec![];
        for row in rows {
            let (at, t) = row?;
            out.push((parse_ts(&at)?, t));
        }
        Ok(out)
    }

    fn raise_max_temp(&self, fire: &str, temp_c: Option<f64>) -> Result<()> {
        if let Some(t) = temp_c {
            self.conn
                .prepare_cached(
                    "UPDATE fire_points SET max_temp_c = max(coalesce(max_temp_c, ?2), ?2) WHERE uuid = ?1",
                )?
                .execute(params![fire, t])?;
        }
        Ok(())
    }

    fn update_state(&self, fire: &FireRecord, c: &StateChange) -> Result<()> {
        let controlled_at = if c.to == Status::Controlled && fire.status != Status::Controlled {
            Some(c.at)
        } else {
            fire.controlled_at
        };
        let cleared_at = if c.to == Status::Cleared {
            Some(c.at)
        } else {
            fire.cleared_at
        };
        let max_temp = match (fire.max_temp_c, c.temp_c) {
            (Some(a), Some(b)) => Some(a.max(b)),
            (a, b) => a.or(b),
        };
        self.conn
            .prepare_cached(
                "UPDATE fire_points SET status = ?2, deadline = coalesce(?3, deadline), max_temp_c = ?4, controlled_at = ?5,
                    cleared_at = ?6, reignitions = reignitions + ?7, updated_at = ?8 WHERE uuid = ?1",
            )?
            .execute(params![
                fire.id,
                c.to.as_str(),
                c.deadline.map(ts),
                max_temp,
                controlled_at.map(ts),
                cleared_at.map(ts),
                c.reignited as i64,
                ts(c.at),
            ])?;
        Ok(())
    }

    fn update_responsible(&self, fire: &str, r: &Responsible, at: DateTime<Utc>) -> Result<()> {
        tracked::set_responsible(self.conn, "fire_points", fire, r, at)?;
        self.conn.execute(
            "UPDATE inspections SET district_code = ?2, holder = ?3 WHERE fire = ?1",
            params![fire, r.district_code, r.holder()],
        )?;
        Ok(())
    }

    fn insert_inspection(&self, i: &NewInspection) -> Result<i64> {
        let f = i.fire;
        self.conn
            .prepare_cached(
                "INSERT INTO inspections(geom, fire, fire_code, at, by, temp_c, co_ppm, status_seen, note, district_code, holder, received_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            )?
            .execute(params![
                gpkg::try_encode(&Geometry::Point(Point::new(f.lon, f.lat)))?,
                f.id,
                f.code,
                ts(i.at),
                i.by,
                i.temp_c,
                i.co_ppm,
                i.status_seen.as_str(),
                i.note,
                f.responsible.district_code,
                f.responsible.holder(),
                ts(i.received_at),
            ])?;
        Ok(self.conn.last_insert_rowid())
    }

    fn in_box(&self, bbox: [f64; 4]) -> Result<Vec<FireRecord>> {
        let (cond, values) = tracked::in_box("fire_points", bbox);
        self.fires_where(&cond, values.to_vec())
    }

    fn changes(&self, filter: &FireFilter) -> Result<(Vec<Change>, Vec<FireRef>)> {
        let (cond, params) = condition(filter);
        let mut fires = vec![];
        {
            let mut stmt = self.conn.prepare_cached(&format!(
                "SELECT t.uuid, t.code FROM fire_points t WHERE {cond}"
            ))?;
            let rows = stmt.query_map(rusqlite::params_from_iter(params.clone()), |r| {
                Ok(FireRef {
                    id: r.get(0)?,
                    code: r.get(1)?,
                })
            })?;
            for r in rows {
                fires.push(r?);
            }
        }
        let sql = format!(
            "SELECT e.fire, e.at, e.to_status, e.deadline, e.responsible, e.reignited, e.id FROM events e
             WHERE e.fire IN (SELECT t.uuid FROM fire_points t WHERE {cond}) ORDER BY e.at, e.id"
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let mut rows = stmt.query(rusqlite::params_from_iter(params))?;
        let mut changes = vec![];
        while let Some(r) = rows.next()? {
            let to: String = r.get(2)?;
            let responsible: Option<String> = r.get(4)?;
            let place = responsible
                .and_then(|s| serde_json::from_str::<Responsible>(&s).ok())
                .map(|r| Place {
                    holder: r.holder().map(String::from),
                    district_code: r.district_code,
                    mine: r.mine,
                });
            changes.push(Change {
                event: r.get(6)?,
                fire: r.get(0)?,
                at: parse_ts(&r.get::<_, String>(1)?)?,
                to: tracked::named(&to, "event status")?,
                deadline: opt_ts(r.get(3)?)?,
                place,
                reignited: r.get::<_, i64>(5)? != 0,
            });
        }
        Ok((changes, fires))
    }

    fn any_burning(&self) -> Result<bool> {
        Ok(self
            .conn
            .prepare_cached(&format!(
                "SELECT EXISTS (SELECT 1 FROM fire_points WHERE status IN ({}))",
                burning_list()
            ))?
            .query_row([], |r| r.get(0))?)
    }

    fn last_party_setter(&self, fire: &str) -> Result<Option<(String, String)>> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT action, actor FROM events WHERE fire = ?1 AND responsible IS NOT NULL ORDER BY at DESC, id DESC LIMIT 1",
            )?
            .query_row([fire], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?)
    }

    fn last_urge(&self, fire: &str, upto: &str) -> Result<Option<(String, String)>> {
        // events_fire (fire, id) walks this fire's events newest first.
        Ok(self
            .conn
            .prepare_cached(
                "SELECT at, actor FROM events WHERE fire = ?1 AND action = 'urge' AND at <= ?2
                 ORDER BY id DESC LIMIT 1",
            )?
            .query_row([fire, upto], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()?)
    }
}

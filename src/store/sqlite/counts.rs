//! The clearance read model in SQLite: `fire_standing` (each fire's fold), `fire_spans` (+ an
//! R-tree over their times) and `fire_levels` (a scope's counts per local day on which they
//! changed). Every fire event is applied here in the transaction that appends it.

use std::collections::HashMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use rusqlite::types::Value as Sql;
use rusqlite::{OptionalExtension, Row, params};

use super::{Result, SqliteTx};
use crate::domain::clearance::{
    Change, Edge, Levels, OpenFire, Place, ScopeKey, Standing, last_rise, level_changes, lowest,
};
use crate::domain::deadline::{end_of_local_day, local_date};
use crate::domain::fire::Status;
use crate::domain::responsibility::Responsible;
use crate::store::counts::Counts;
use crate::store::fires::{EventRecord, parse_ts};

const LEVEL_COLUMNS: &str = "reported, confirmed, treating, controlled, extinguished, cleared, reignited, dismissed, reignitions";

const SPAN_COLUMNS: &str =
    "s.fire, s.code, s.status, s.deadline, s.district_code, s.mine, s.holder";

fn secs(t: DateTime<Utc>) -> i64 {
    t.timestamp()
}

fn time(s: i64) -> DateTime<Utc> {
    DateTime::from_timestamp(s, 0).unwrap_or_default()
}

fn day_text(d: NaiveDate) -> String {
    d.format("%Y-%m-%d").to_string()
}

/// The first and the first-after instant of a local day, in Unix seconds.
fn day_bounds(d: NaiveDate) -> (i64, i64) {
    let start = d
        .pred_opt()
        .map_or_else(|| end_of_local_day(d) - Duration::days(1), end_of_local_day);
    (secs(start), secs(end_of_local_day(d)))
}

fn status(s: &str) -> Result<Status> {
    super::tracked::named(s, "fire status")
}

/// One row of `fire_levels`.
struct LevelRow {
    day: String,
    levels: Levels,
    /// The lowest the burning count was at any moment of the day, its start included.
    min_burning: i64,
    last_at: i64,
}

fn levels_from(r: &Row, first: usize) -> rusqlite::Result<Levels> {
    let mut l = Levels::default();
    for (i, n) in l.by_status.iter_mut().enumerate() {
        *n = r.get(first + i)?;
    }
    l.reignitions = r.get(first + 8)?;
    Ok(l)
}

fn level_row(r: &Row) -> rusqlite::Result<LevelRow> {
    Ok(LevelRow {
        day: r.get(0)?,
        levels: levels_from(r, 1)?,
        min_burning: r.get(10)?,
        last_at: r.get(11)?,
    })
}

/// The condition a scope puts on `fire_spans s`, with its value.
fn span_scope(scope: &ScopeKey) -> (&'static str, Option<&str>) {
    match scope {
        ScopeKey::All => ("1", None),
        ScopeKey::District(d) => ("s.district_code = ?", Some(d)),
        ScopeKey::Holder(h) => ("s.holder = ?", Some(h)),
        ScopeKey::Mine(m) => ("s.mine = ?", Some(m)),
    }
}

fn open_fire(r: &Row) -> Result<OpenFire> {
    let st: String = r.get(2)?;
    Ok(OpenFire {
        id: r.get(0)?,
        code: r.get(1)?,
        status: status(&st)?,
        deadline: r.get::<_, Option<i64>>(3)?.map(time),
        place: Place {
            district_code: r.get(4)?,
            mine: r.get(5)?,
            holder: r.get(6)?,
        },
    })
}

/// A fire's fold as stored, with its open span.
struct Stored {
    code: String,
    standing: Standing,
    last_at: i64,
    span: Option<i64>,
}

/// The change an event record makes, as the counts see it.
fn change_of(e: &EventRecord, id: i64) -> Result<Change> {
    Ok(Change {
        event: id,
        fire: e.fire.clone(),
        at: parse_ts(&e.step.at)?,
        to: status(&e.step.to)?,
        deadline: e.deadline.as_deref().map(parse_ts).transpose()?,
        place: e
            .responsible
            .clone()
            .and_then(|v| serde_json::from_value::<Responsible>(v).ok())
            .map(|r| Place {
                holder: r.holder().map(String::from),
                district_code: r.district_code,
                mine: r.mine,
            }),
        reignited: e.reignited,
    })
}

impl SqliteTx<'_> {
    fn stored(&self, fire: &str) -> Result<Option<Stored>> {
        let row = self
            .conn
            .prepare_cached(
                "SELECT code, status, deadline, district_code, mine, holder, reignitions, last_at, span
                 FROM fire_standing WHERE fire = ?1",
            )?
            .query_row([fire], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, String>(1)?,
                    r.get::<_, Option<i64>>(2)?,
                    Place {
                        district_code: r.get(3)?,
                        mine: r.get(4)?,
                        holder: r.get(5)?,
                    },
                    r.get::<_, i64>(6)?,
                    r.get::<_, i64>(7)?,
                    r.get::<_, Option<i64>>(8)?,
                ))
            })
            .optional()?;
        row.map(|(code, st, deadline, place, reignitions, last_at, span)| {
            Ok(Stored {
                code,
                standing: Standing {
                    status: Some(status(&st)?),
                    deadline: deadline.map(time),
                    place,
                    reignitions: u32::try_from(reignitions).unwrap_or(0),
                },
                last_at,
                span,
            })
        })
        .transpose()
    }

    /// Applies a fire event to the read model (called by `append_event`). An event observed
    /// before the fire's latest one (a late reading, see `service::fires::act`) records the
    /// status the fire had then and changes nothing.
    pub(super) fn count_event(&self, e: &EventRecord, id: i64) -> Result<()> {
        let c = change_of(e, id)?;
        let at = secs(c.at);
        let before = self.stored(&c.fire)?;
        if before.as_ref().is_some_and(|b| at < b.last_at) {
            return Ok(());
        }
        let was = before
            .as_ref()
            .map(|b| b.standing.clone())
            .unwrap_or_default();
        let now = was.then(&c);
        let code = match &before {
            Some(b) => b.code.clone(),
            None => self
                .conn
                .prepare_cached("SELECT code FROM fire_points WHERE uuid = ?1")?
                .query_row([&c.fire], |r| r.get(0))
                .optional()?
                .unwrap_or_default(),
        };
        let mut span = before.as_ref().and_then(|b| b.span);
        if before.is_none() || now != was {
            if let Some(open) = span.filter(|_| was.open()) {
                self.conn
                    .prepare_cached(
                        "UPDATE fire_spans SET until_at = ?2, until_event = ?3 WHERE id = ?1",
                    )?
                    .execute(params![open, at, id])?;
            }
            span = None;
            if let (Some(st), true) = (now.status, now.open()) {
                self.conn
                    .prepare_cached(
                        "INSERT INTO fire_spans(fire, code, status, deadline, district_code, mine, holder, from_at, from_event)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
                    )?
                    .execute(params![
                        c.fire,
                        code,
                        st.as_str(),
                        now.deadline.map(secs),
                        now.place.district_code,
                        now.place.mine,
                        now.place.holder,
                        at,
                        id
                    ])?;
                span = Some(self.conn.last_insert_rowid());
            }
        }
        self.conn
            .prepare_cached(
                "INSERT OR REPLACE INTO fire_standing(fire, code, status, deadline, district_code, mine, holder,
                    reignitions, last_at, span)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )?
            .execute(params![
                c.fire,
                code,
                now.status.map_or("", |s| s.as_str()),
                now.deadline.map(secs),
                now.place.district_code,
                now.place.mine,
                now.place.holder,
                now.reignitions,
                at,
                span
            ])?;
        let day = local_date(c.at);
        for (scope, d) in level_changes(&was, &now) {
            self.add_levels(&scope, day, at, &d)?;
        }
        Ok(())
    }

    /// The latest level row of `key` on or before `day` (strictly before with `before`).
    fn level_row(&self, key: &str, day: &str, before: bool) -> Result<Option<LevelRow>> {
        let op = if before { "<" } else { "<=" };
        Ok(self
            .conn
            .prepare_cached(&format!(
                "SELECT day, {LEVEL_COLUMNS}, min_burning, last_at FROM fire_levels
                 WHERE scope = ?1 AND day {op} ?2 ORDER BY day DESC LIMIT 1"
            ))?
            .query_row(params![key, day], level_row)
            .optional()?)
    }

    fn write_level_row(&self, key: &str, row: &LevelRow) -> Result<()> {
        let mut values = vec![Sql::Text(key.into()), Sql::Text(row.day.clone())];
        values.extend(row.levels.by_status.iter().map(|n| Sql::Integer(*n)));
        values.push(Sql::Integer(row.levels.reignitions));
        values.push(Sql::Integer(row.min_burning));
        values.push(Sql::Integer(row.last_at));
        self.conn
            .prepare_cached(&format!(
                "INSERT OR REPLACE INTO fire_levels(scope, day, {LEVEL_COLUMNS}, min_burning, last_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)"
            ))?
            .execute(rusqlite::params_from_iter(values))?;
        Ok(())
    }

    /// Adds `d` to the scope's levels from `at` (on local `day`) on: that day's row, and every
    /// later one (an event observed in the past moves the counts of the days since; those days
    /// move whole, so their lowest burning count moves by the same).
    fn add_levels(&self, scope: &ScopeKey, day: NaiveDate, at: i64, d: &Levels) -> Result<()> {
        let key = scope.key();
        let ds = day_text(day);
        let mut recount = false;
        match self.level_row(&key, &ds, false)? {
            Some(r) if r.day == ds => {
                let levels = r.levels.plus(d);
                // After the day's latest event the count only moves at the day's end; before it,
                // the day's lowest point has to be found again.
                let in_order = at >= r.last_at;
                recount = !in_order && d.burning() != 0;
                self.write_level_row(
                    &key,
                    &LevelRow {
                        day: ds.clone(),
                        levels,
                        min_burning: r.min_burning.min(levels.burning()),
                        last_at: at.max(r.last_at),
                    },
                )?;
            }
            prev => {
                let start = prev.map(|r| r.levels).unwrap_or_default();
                let levels = start.plus(d);
                self.write_level_row(
                    &key,
                    &LevelRow {
                        day: ds.clone(),
                        levels,
                        min_burning: start.burning().min(levels.burning()),
                        last_at: at,
                    },
                )?;
            }
        }
        let set: Vec<String> = LEVEL_COLUMNS
            .split(", ")
            .enumerate()
            .map(|(i, c)| format!("{c} = {c} + ?{}", i + 3))
            .chain(std::iter::once(
                "min_burning = min_burning + ?12".to_string(),
            ))
            .collect();
        let mut values = vec![Sql::Text(key.clone()), Sql::Text(ds.clone())];
        values.extend(d.by_status.iter().map(|n| Sql::Integer(*n)));
        values.push(Sql::Integer(d.reignitions));
        values.push(Sql::Integer(d.burning()));
        self.conn
            .prepare_cached(&format!(
                "UPDATE fire_levels SET {} WHERE scope = ?1 AND day > ?2",
                set.join(", ")
            ))?
            .execute(rusqlite::params_from_iter(values))?;
        // Now is after every day: the change counts there too, whatever day it was on.
        let mut now = vec![Sql::Text(key.clone())];
        now.extend(d.by_status.iter().map(|n| Sql::Integer(*n)));
        now.push(Sql::Integer(d.reignitions));
        let add: Vec<String> = LEVEL_COLUMNS
            .split(", ")
            .map(|c| format!("{c} = {c} + excluded.{c}"))
            .collect();
        self.conn
            .prepare_cached(&format!(
                "INSERT INTO fire_levels_now(scope, {LEVEL_COLUMNS})
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
                 ON CONFLICT(scope) DO UPDATE SET {}",
                add.join(", ")
            ))?
            .execute(rusqlite::params_from_iter(now))?;
        if recount && !matches!(scope, ScopeKey::Mine(_)) {
            let min = self.day_lowest(scope, day)?;
            self.conn
                .prepare_cached(
                    "UPDATE fire_levels SET min_burning = ?3 WHERE scope = ?1 AND day = ?2",
                )?
                .execute(params![key, ds, min])?;
        }
        Ok(())
    }

    /// The changes of the scope's burning count from `from` (inclusive) to `until` (exclusive),
    /// in Unix seconds, by event.
    fn burning_edges(&self, scope: &ScopeKey, from: i64, until: i64) -> Result<Vec<Edge>> {
        let (cond, value) = span_scope(scope);
        let burning = super::fires::burning_list();
        let mut edges = vec![];
        for (col, event, delta) in [
            ("from_at", "from_event", 1),
            ("until_at", "until_event", -1),
        ] {
            let sql = format!(
                "SELECT s.{col}, s.{event} FROM fire_spans s
                 WHERE s.{col} >= ?1 AND s.{col} < ?2 AND s.status IN ({burning}) AND {cond}"
            );
            let mut params = vec![Sql::Integer(from), Sql::Integer(until)];
            params.extend(value.map(|v| Sql::Text(v.to_string())));
            let mut stmt = self.conn.prepare_cached(&sql)?;
            let rows = stmt.query_map(rusqlite::params_from_iter(params), |r| {
                Ok(Edge {
                    at: time(r.get(0)?),
                    event: r.get(1)?,
                    delta,
                })
            })?;
            for e in rows {
                edges.push(e?);
            }
        }
        Ok(edges)
    }

    /// The lowest the scope's burning count was at any moment of local `day`.
    fn day_lowest(&self, scope: &ScopeKey, day: NaiveDate) -> Result<i64> {
        let start = self
            .level_row(&scope.key(), &day_text(day), true)?
            .map_or(0, |r| r.levels.burning());
        let (from, until) = day_bounds(day);
        Ok(lowest(start, &self.burning_edges(scope, from, until)?))
    }
}

impl Counts for SqliteTx<'_> {
    fn open_at(&self, at: Option<DateTime<Utc>>, scope: &ScopeKey) -> Result<Vec<OpenFire>> {
        let (cond, value) = span_scope(scope);
        let (sql, mut params) = match at {
            None => (
                // The open spans' covering index holds every column read.
                format!(
                    "SELECT {SPAN_COLUMNS} FROM fire_spans s INDEXED BY fire_spans_open
                     WHERE s.until_at IS NULL AND {cond}"
                ),
                vec![],
            ),
            Some(t) => (
                format!(
                    "SELECT {SPAN_COLUMNS} FROM fire_spans_rtree r JOIN fire_spans s ON s.id = r.id
                     WHERE r.from_at <= ? AND r.until_at > ? AND {cond}"
                ),
                vec![Sql::Integer(secs(t)), Sql::Integer(secs(t))],
            ),
        };
        params.extend(value.map(|v| Sql::Text(v.to_string())));
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let mut rows = stmt.query(rusqlite::params_from_iter(params))?;
        let mut out = vec![];
        while let Some(r) = rows.next()? {
            out.push(open_fire(r)?);
        }
        Ok(out)
    }

    fn levels(&self, scope: &ScopeKey, day: Option<NaiveDate>) -> Result<Levels> {
        let Some(day) = day else {
            return Ok(self
                .conn
                .prepare_cached(&format!(
                    "SELECT {LEVEL_COLUMNS} FROM fire_levels_now WHERE scope = ?1"
                ))?
                .query_row([scope.key()], |r| levels_from(r, 0))
                .optional()?
                .unwrap_or_default());
        };
        Ok(self
            .level_row(&scope.key(), &day_text(day), false)?
            .map(|r| r.levels)
            .unwrap_or_default())
    }

    fn mine_reignitions(
        &self,
        mines: &[String],
        day: Option<NaiveDate>,
    ) -> Result<HashMap<String, i64>> {
        let mut out = HashMap::new();
        // Each mine's latest row on or before the day (today: its row now), a few hundred
        // mines a statement: one seek a mine (matching every row of a mine's scope against the
        // latest day read each mine's whole history, seconds at a province).
        let latest = match day {
            Some(_) => {
                "(SELECT g.reignitions FROM fire_levels g
                         WHERE g.scope = s.scope AND g.day <= ? ORDER BY g.day DESC LIMIT 1)"
            }
            None => "(SELECT g.reignitions FROM fire_levels_now g WHERE g.scope = s.scope)",
        };
        for chunk in mines.chunks(500) {
            let sql = format!(
                "WITH s(scope) AS (VALUES {}) SELECT s.scope, {latest} FROM s",
                vec!["(?)"; chunk.len()].join(",")
            );
            let mut params: Vec<Sql> = chunk
                .iter()
                .map(|m| Sql::Text(ScopeKey::Mine(m.clone()).key()))
                .collect();
            params.extend(day.map(|d| Sql::Text(day_text(d))));
            let mut stmt = self.conn.prepare_cached(&sql)?;
            let rows = stmt.query_map(rusqlite::params_from_iter(params), |r| {
                Ok((r.get::<_, String>(0)?, r.get::<_, Option<i64>>(1)?))
            })?;
            for row in rows {
                let (scope, n) = row?;
                let Some(n) = n else { continue };
                if let Some(m) = scope.strip_prefix("m:") {
                    out.insert(m.to_string(), n);
                }
            }
        }
        for m in mines {
            out.entry(m.clone()).or_insert(0);
        }
        Ok(out)
    }

    fn daily_levels(
        &self,
        scope: &ScopeKey,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<(NaiveDate, Levels)>> {
        let key = scope.key();
        let mut level = self.levels(scope, Some(from))?;
        let mut stmt = self.conn.prepare_cached(&format!(
            "SELECT day, {LEVEL_COLUMNS}, min_burning, last_at FROM fire_levels
             WHERE scope = ?1 AND day > ?2 AND day <= ?3 ORDER BY day"
        ))?;
        let mut changes: Vec<LevelRow> = stmt
            .query_map(params![key, day_text(from), day_text(to)], level_row)?
            .collect::<rusqlite::Result<_>>()?;
        changes.reverse();
        let mut out = vec![];
        let mut d = from;
        while d <= to {
            while changes.last().is_some_and(|r| r.day <= day_text(d)) {
                if let Some(r) = changes.pop() {
                    level = r.levels;
                }
            }
            out.push((d, level));
            d += Duration::days(1);
        }
        Ok(out)
    }

    fn left_zero(
        &self,
        scope: &ScopeKey,
        at: DateTime<Utc>,
        day: Option<NaiveDate>,
    ) -> Result<Option<DateTime<Utc>>> {
        if self.levels(scope, day)?.burning() == 0 {
            return Ok(None);
        }
        let key = scope.key();
        let upto = day.unwrap_or_else(|| local_date(at));
        let zero_day: Option<String> = self
            .conn
            .prepare_cached(
                "SELECT day FROM fire_levels WHERE scope = ?1 AND min_burning = 0 AND day <= ?2
                 ORDER BY day DESC LIMIT 1",
            )?
            .query_row(params![key, day_text(upto)], |r| r.get(0))
            .optional()?;
        let Some(z) = zero_day.and_then(|d| NaiveDate::parse_from_str(&d, "%Y-%m-%d").ok()) else {
            return Ok(None);
        };
        let start = self
            .level_row(&key, &day_text(z), true)?
            .map_or(0, |r| r.levels.burning());
        let (from, until) = day_bounds(z);
        let edges = self.burning_edges(scope, from, until.min(secs(at) + 1))?;
        Ok(last_rise(start, &edges))
    }

    fn first_event(&self) -> Result<Option<DateTime<Utc>>> {
        // events_at makes this one seek.
        let first: Option<String> = self
            .conn
            .prepare_cached("SELECT min(at) FROM events")?
            .query_row([], |r| r.get(0))?;
        first.as_deref().map(parse_ts).transpose()
    }

    fn rebuild(&self) -> Result<usize> {
        self.conn.execute_batch(
            "DELETE FROM fire_standing; DELETE FROM fire_spans; DELETE FROM fire_levels;
             DELETE FROM fire_levels_now;",
        )?;
        // In time order, a chunk at a time (keyset on at, id): the log may hold millions.
        let (mut after, mut n) = ((String::new(), 0i64), 0);
        loop {
            let chunk = self.events_after(&after, 10_000)?;
            let Some((id, last)) = chunk.last() else {
                break;
            };
            after = (last.step.at.clone(), *id);
            for (id, e) in &chunk {
                self.count_event(e, *id)?;
            }
            n += chunk.len();
        }
        Ok(n)
    }
}

//! Warnings in `dust_warnings` (districts, area and measures as JSON text), restrictions in
//! `dust_restrictions`, compliance checks in `dust_restriction_checks`.

use chrono::{DateTime, Utc};
use rusqlite::types::Value as Sql;
use rusqlite::{OptionalExtension, params};
use serde_json::{Value, json};

use crate::domain::access::Scope;
use crate::domain::dust::WarningLevel;
use crate::store::dust::warnings::{
    Check, NewCheck, NewRestriction, NewWarning, Restriction, Tally, Warning, Warnings,
};
use crate::store::fires::ts;
use crate::store::sqlite::filter::Condition;
use crate::store::sqlite::tracked::json_or_null;
use crate::store::sqlite::{SqliteTx, count_capped, count_where, limit_offset, page_where, scope};
use crate::store::{Result, Slice};

const WARNING: &str = "SELECT id, level, districts, area, measures, starts_at, ends_at, note,
    issued_by, issued_at FROM dust_warnings";

const RESTRICTION: &str = "SELECT r.id, r.warning, w.level, w.starts_at, w.ends_at, r.mine,
    r.mine_name, r.holder, r.district_code, r.measures, r.due, r.acknowledged_at,
    r.acknowledged_by, r.lon, r.lat
    FROM dust_restrictions r JOIN dust_warnings w ON w.id = r.warning";

const CHECK: &str = "SELECT id, restriction, compliant, note, client_id, lon, lat, at, by, role,
    received_at FROM dust_restriction_checks";

/// JSON text as a value; `null` when there is none or it does not parse.
fn position(lon: Option<f64>, lat: Option<f64>) -> Option<[f64; 2]> {
    lon.zip(lat).map(|(x, y)| [x, y])
}

/// The restrictions (`r`) a scope sees, by their own district and holder.
fn visible(scope: &Scope) -> Condition {
    scope::case(scope, "r.district_code", "r.holder", None)
}

fn warning(r: &rusqlite::Row) -> rusqlite::Result<Warning> {
    Ok(Warning {
        id: r.get(0)?,
        level: r.get(1)?,
        districts: json_or_null(r.get(2)?),
        area: json_or_null(r.get(3)?),
        measures: json_or_null(r.get(4)?),
        from: r.get(5)?,
        to: r.get(6)?,
        note: r.get(7)?,
        issued_by: r.get(8)?,
        issued_at: r.get(9)?,
    })
}

fn restriction(r: &rusqlite::Row) -> rusqlite::Result<Restriction> {
    Ok(Restriction {
        id: r.get(0)?,
        warning: r.get(1)?,
        level: r.get(2)?,
        from: r.get(3)?,
        to: r.get(4)?,
        mine: r.get(5)?,
        mine_name: r.get(6)?,
        holder: r.get(7)?,
        district_code: r.get(8)?,
        measures: json_or_null(r.get(9)?),
        due: r.get(10)?,
        acknowledged_at: r.get(11)?,
        acknowledged_by: r.get(12)?,
        position: position(r.get(13)?, r.get(14)?),
    })
}

fn check(r: &rusqlite::Row) -> rusqlite::Result<Check> {
    Ok(Check {
        id: r.get(0)?,
        restriction: r.get(1)?,
        compliant: r.get::<_, i64>(2)? == 1,
        note: r.get(3)?,
        client_id: r.get(4)?,
        position: position(r.get(5)?, r.get(6)?),
        at: r.get(7)?,
        by: r.get(8)?,
        role: r.get(9)?,
        received_at: r.get(10)?,
    })
}

impl Warnings for SqliteTx<'_> {
    fn add(&self, w: &NewWarning) -> Result<i64> {
        self.conn.execute(
            "INSERT INTO dust_warnings(level, districts, area, measures, starts_at, ends_at, note, issued_by, issued_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                w.level.as_str(),
                json!(w.districts).to_string(),
                w.area.map(Value::to_string),
                json!(w.measures).to_string(),
                ts(w.from),
                ts(w.to),
                w.note,
                w.issued_by,
                ts(w.issued_at)
            ],
        )?;
        Ok(self.conn.last_insert_rowid())
    }

    fn page(&self, slice: Slice) -> Result<(Vec<Warning>, bool)> {
        let mut stmt = self
            .conn
            .prepare_cached(&format!("{WARNING} ORDER BY id DESC LIMIT ?1 OFFSET ?2"))?;
        let rows = stmt.query_map(limit_offset(slice), warning)?;
        Ok(slice.cut(rows.collect::<rusqlite::Result<_>>()?))
    }

    fn count(&self, cap: usize) -> Result<Option<usize>> {
        count_capped(self.conn, "SELECT 1 FROM dust_warnings", vec![], cap)
    }

    fn in_force(&self, levels: &[WarningLevel], at: DateTime<Utc>) -> Result<Vec<Warning>> {
        let marks = vec!["?"; levels.len()].join(", ");
        let mut stmt = self.conn.prepare_cached(&format!(
            "{WARNING} WHERE starts_at <= ?1 AND ?1 < ends_at AND level IN ({marks})"
        ))?;
        let mut args = vec![ts(at)];
        args.extend(levels.iter().map(|l| l.as_str().to_string()));
        let rows = stmt.query_map(rusqlite::params_from_iter(args), warning)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn restrict(&self, r: &NewRestriction) -> Result<()> {
        self.conn.execute(
            "INSERT OR IGNORE INTO dust_restrictions(warning, mine, mine_name, holder, district_code, measures, due, lon, lat)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                r.warning,
                r.mine,
                r.mine_name,
                r.holder,
                r.district_code,
                json!(r.measures).to_string(),
                r.due,
                r.at.map(|p| p.x()),
                r.at.map(|p| p.y())
            ],
        )?;
        Ok(())
    }

    fn restrictions(&self, warning: Option<i64>) -> Result<Vec<Restriction>> {
        let mut stmt = self.conn.prepare_cached(&format!(
            "{RESTRICTION} WHERE ?1 IS NULL OR r.warning = ?1 ORDER BY r.id DESC"
        ))?;
        let rows = stmt.query_map([warning], restriction)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn restrictions_page(&self, scope: &Scope, slice: Slice) -> Result<(Vec<Restriction>, bool)> {
        let c = visible(scope);
        page_where(self.conn, RESTRICTION, c, "r.id DESC", slice, restriction)
    }

    fn restrictions_of(&self, warning: i64, scope: &Scope) -> Result<Vec<Restriction>> {
        let c = visible(scope);
        let mut params = vec![Sql::Integer(warning)];
        params.extend(c.params);
        let sql = format!(
            "{RESTRICTION} WHERE r.warning = ? AND {} ORDER BY r.id DESC",
            c.sql
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(rusqlite::params_from_iter(params), restriction)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn restrictions_count(&self, scope: &Scope, cap: usize) -> Result<Option<usize>> {
        count_where(self.conn, "dust_restrictions r", visible(scope), cap)
    }

    fn tallies(&self, scope: &Scope, warnings: &[i64], now: i64) -> Result<Vec<(i64, Tally)>> {
        if warnings.is_empty() {
            return Ok(vec![]);
        }
        let c = visible(scope);
        let mut params = vec![Sql::Integer(now)];
        params.extend(c.params);
        params.extend(warnings.iter().map(|w| Sql::Integer(*w)));
        let sql = format!(
            "SELECT r.warning, count(*), count(r.acknowledged_at),
                    sum(r.acknowledged_at IS NULL AND r.due < ?)
             FROM dust_restrictions r WHERE {} AND r.warning IN ({}) GROUP BY r.warning",
            c.sql,
            vec!["?"; warnings.len()].join(",")
        );
        let mut stmt = self.conn.prepare(&sql)?;
        let rows = stmt.query_map(rusqlite::params_from_iter(params), |r| {
            let n = |i: usize| r.get::<_, i64>(i).map(|x| usize::try_from(x).unwrap_or(0));
            Ok((
                r.get::<_, i64>(0)?,
                Tally {
                    restrictions: n(1)?,
                    acknowledged: n(2)?,
                    overdue: n(3)?,
                },
            ))
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn restriction(&self, id: i64) -> Result<Option<Restriction>> {
        Ok(self
            .conn
            .prepare_cached(&format!("{RESTRICTION} WHERE r.id = ?1"))?
            .query_row([id], restriction)
            .optional()?)
    }

    fn acknowledge(&self, id: i64, by: &str, at: DateTime<Utc>) -> Result<()> {
        self.conn.execute(
            "UPDATE dust_restrictions SET acknowledged_at = ?2, acknowledged_by = ?3 WHERE id = ?1",
            params![id, ts(at), by],
        )?;
        Ok(())
    }

    fn add_check(&self, c: &NewCheck) -> Result<i64> {
        self.conn.execute(
            "INSERT INTO dust_restriction_checks(restriction, client_id, compliant, note, lon, lat, at, by, role, received_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            params![
                c.restriction,
                c.client_id,
                i64::from(c.compliant),
                c.note,
                c.position.map(|p| p[0]),
                c.position.map(|p| p[1]),
                ts(c.at),
                c.by,
                c.role.as_str(),
                ts(c.received_at)
            ],
        )?;
        Ok(self.conn.last_insert_rowid())
    }

    fn check(&self, id: i64) -> Result<Option<Check>> {
        Ok(self
            .conn
            .prepare_cached(&format!("{CHECK} WHERE id = ?1"))?
            .query_row([id], check)
            .optional()?)
    }

    fn check_by_client_id(&self, client_id: &str) -> Result<Option<Check>> {
        Ok(self
            .conn
            .prepare_cached(&format!("{CHECK} WHERE client_id = ?1"))?
            .query_row([client_id], check)
            .optional()?)
    }

    fn checks_of(&self, restrictions: &[i64]) -> Result<Vec<Check>> {
        if restrictions.is_empty() {
            return Ok(vec![]);
        }
        let mut stmt = self.conn.prepare(&format!(
            "{CHECK} WHERE restriction IN ({}) ORDER BY id",
            vec!["?"; restrictions.len()].join(",")
        ))?;
        let rows = stmt.query_map(rusqlite::params_from_iter(restrictions), check)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

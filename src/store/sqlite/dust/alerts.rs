//! Dust alert cases in `dust_alert_cases` (responsible and attribution as JSON text), their
//! evidence in `dust_exceedances`, their events in `dust_alert_events`, and the `dust_alerts`
//! layer (a GeoPackage feature table whose fid is the case id).

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};

use crate::domain::access::Scope;
use crate::domain::dust::alert::Status;
use crate::store::dust::DeviceId;
use crate::store::dust::alerts::{Alerts, Case, Event, Evidence, Feature, NewCase};
use crate::store::fires::ts;
use crate::store::sqlite::filter::Condition;
use crate::store::sqlite::tracked::json_or_null;
use crate::store::sqlite::{SqliteTx, count_where, gpkg, page_where, scope};
use crate::store::{Result, Slice, StoreError};

const SELECT: &str = "SELECT id, device, mn, pollutant, win, value, limit_value, status,
    responsible, attribution, holder, district_code, created_at, updated_at, closed_at
    FROM dust_alert_cases";

fn status(s: &str) -> rusqlite::Result<Status> {
    Status::parse(s).ok_or_else(|| {
        rusqlite::Error::FromSqlConversionFailure(
            7,
            rusqlite::types::Type::Text,
            format!("unknown dust alert status {s:?}").into(),
        )
    })
}

/// JSON text as a value; `null` when it does not parse.
/// The cases a scope sees, by their own columns (closed ones are not a patrol's).
fn visible(scope: &Scope) -> Condition {
    scope::case(scope, "district_code", "holder", Some("status <> 'closed'"))
}

fn case(r: &rusqlite::Row) -> rusqlite::Result<Case> {
    Ok(Case {
        id: r.get(0)?,
        device: DeviceId(r.get(1)?),
        mn: r.get(2)?,
        pollutant: r.get(3)?,
        window: r.get(4)?,
        value: r.get(5)?,
        limit: r.get(6)?,
        status: status(&r.get::<_, String>(7)?)?,
        responsible: json_or_null(r.get(8)?),
        attribution: json_or_null(r.get(9)?),
        holder: r.get(10)?,
        district_code: r.get(11)?,
        created_at: r.get(12)?,
        updated_at: r.get(13)?,
        closed_at: r.get(14)?,
    })
}

impl Alerts for SqliteTx<'_> {
    fn seen(&self, device: DeviceId, pollutant: &str, window: &str, start: i64) -> Result<bool> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT 1 FROM dust_exceedances
                 WHERE device = ?1 AND pollutant = ?2 AND win = ?3 AND start = ?4",
            )?
            .query_row(params![device.0, pollutant, window, start], |_| Ok(()))
            .optional()?
            .is_some())
    }

    fn latest(&self, device: DeviceId, pollutant: &str, window: &str) -> Result<Option<Case>> {
        Ok(self
            .conn
            .prepare_cached(&format!(
                "{SELECT} WHERE device = ?1 AND pollutant = ?2 AND win = ?3 ORDER BY id DESC LIMIT 1"
            ))?
            .query_row(params![device.0, pollutant, window], case)
            .optional()?)
    }

    fn open(&self, c: &NewCase) -> Result<i64> {
        let responsible =
            serde_json::to_string(c.responsible).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        self.conn.execute(
            "INSERT INTO dust_alert_cases(device, mn, pollutant, win, value, limit_value, status,
             responsible, holder, district_code, attribution, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'open', ?7, ?8, ?9, ?10, ?11, ?11)",
            params![
                c.device.0,
                c.mn,
                c.pollutant,
                c.window,
                c.value,
                c.limit,
                responsible,
                c.responsible.holder(),
                c.responsible.district_code,
                c.attribution.to_string(),
                ts(c.at)
            ],
        )?;
        Ok(self.conn.last_insert_rowid())
    }

    fn set_value(&self, id: i64, value: f64, limit: f64, at: DateTime<Utc>) -> Result<()> {
        self.conn.execute(
            "UPDATE dust_alert_cases SET value = ?2, limit_value = ?3, updated_at = ?4 WHERE id = ?1",
            params![id, value, limit, ts(at)],
        )?;
        Ok(())
    }

    fn reopen(&self, id: i64, value: f64, limit: f64, at: DateTime<Utc>) -> Result<()> {
        self.conn.execute(
            "UPDATE dust_alert_cases SET value = ?2, limit_value = ?3, updated_at = ?4,
             status = 'open', closed_at = NULL WHERE id = ?1",
            params![id, value, limit, ts(at)],
        )?;
        Ok(())
    }

    fn set_status(&self, id: i64, status: Status, at: DateTime<Utc>) -> Result<()> {
        self.conn.execute(
            "UPDATE dust_alert_cases SET status = ?2, updated_at = ?3,
             closed_at = CASE WHEN ?2 = 'closed' THEN ?4 ELSE NULL END WHERE id = ?1",
            params![id, status.as_str(), ts(at), at.timestamp()],
        )?;
        Ok(())
    }

    fn add_evidence(&self, device: DeviceId, alert: i64, e: &Evidence) -> Result<()> {
        self.conn.execute(
            "INSERT INTO dust_exceedances(device, pollutant, win, start, value, limit_value, wind_dir, alert)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                device.0,
                e.pollutant,
                e.window,
                e.start,
                e.value,
                e.limit,
                e.wind_dir,
                alert
            ],
        )?;
        Ok(())
    }

    fn add_event(&self, alert: i64, e: &Event) -> Result<()> {
        self.conn.execute(
            "INSERT INTO dust_alert_events(alert, at, actor, action, status, note)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                alert,
                ts(e.at),
                e.actor,
                e.action,
                e.status.as_str(),
                e.note
            ],
        )?;
        Ok(())
    }

    fn get(&self, id: i64) -> Result<Option<Case>> {
        Ok(self
            .conn
            .prepare_cached(&format!("{SELECT} WHERE id = ?1"))?
            .query_row([id], case)
            .optional()?)
    }

    fn page(&self, scope: &Scope, slice: Slice) -> Result<(Vec<Case>, bool)> {
        page_where(self.conn, SELECT, visible(scope), "id DESC", slice, case)
    }

    fn count(&self, scope: &Scope, cap: usize) -> Result<Option<usize>> {
        count_where(self.conn, "dust_alert_cases", visible(scope), cap)
    }

    fn evidence(&self, alert: i64) -> Result<Vec<Evidence>> {
        let mut stmt = self.conn.prepare_cached(
            "SELECT pollutant, win, start, value, limit_value, wind_dir FROM dust_exceedances
             WHERE alert = ?1 ORDER BY start",
        )?;
        let rows = stmt.query_map([alert], |r| {
            Ok(Evidence {
                pollutant: r.get(0)?,
                window: r.get(1)?,
                start: r.get(2)?,
                value: r.get(3)?,
                limit: r.get(4)?,
                wind_dir: r.get(5)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn draw(&self, f: &Feature) -> Result<bool> {
        // The monitor's own geometry blob: same table SRS, so it is copied as it is.
        let geom: Option<Vec<u8>> = self
            .conn
            .prepare_cached("SELECT geom FROM dust_monitors WHERE mn = ?1")?
            .query_row([&f.case.mn], |r| r.get(0))
            .optional()?
            .flatten();
        let Some(geom) = geom else {
            return Ok(false);
        };
        let c = f.case;
        let values = params![
            c.id,
            geom,
            c.mn,
            c.pollutant,
            c.window,
            c.value,
            c.limit,
            c.status.as_str(),
            f.party,
            f.responsible_name,
            f.holder,
            f.district_code,
            f.mine,
            f.why,
            c.created_at,
            c.updated_at
        ];
        // An update, else an insert: an upsert would run the R-tree triggers under the outer
        // statement's conflict rule and fail on the index row.
        let changed = self.conn.execute(
            "UPDATE dust_alerts SET geom = ?2, alert_id = ?1, mn = ?3, pollutant = ?4, \"window\" = ?5,
                    value = ?6, limit_value = ?7, status = ?8, responsible_party = ?9,
                    responsible_name = ?10, holder = ?11, district_code = ?12, mine = ?13,
                    attribution = ?14, created_at = ?15, updated_at = ?16
             WHERE fid = ?1",
            values,
        )?;
        if changed == 0 {
            self.conn.execute(
                "INSERT INTO dust_alerts(fid, geom, alert_id, mn, pollutant, \"window\", value,
                        limit_value, status, responsible_party, responsible_name, holder,
                        district_code, mine, attribution, created_at, updated_at)
                 VALUES (?1, ?2, ?1, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
                values,
            )?;
            gpkg::update_extent(self.conn, "dust_alerts")?;
        }
        Ok(true)
    }

    fn undrawn(&self) -> Result<Vec<i64>> {
        let mut stmt = self.conn.prepare(
            "SELECT c.id FROM dust_alert_cases c
             WHERE NOT EXISTS (SELECT 1 FROM dust_alerts a WHERE a.fid = c.id)",
        )?;
        let ids = stmt.query_map([], |r| r.get(0))?;
        Ok(ids.collect::<rusqlite::Result<_>>()?)
    }
}

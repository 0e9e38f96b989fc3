//! Dust monitors: features of the `dust_monitors` layer (a GeoPackage feature table), joined
//! with `dust_devices` by MN.

use rusqlite::params;

use super::point;
use crate::domain::access::Scope;
use crate::layers::Layer;
use crate::store::dust::DeviceId;
use crate::store::dust::monitors::{Derived, Monitor, Monitors, NewMonitor};
use crate::store::features::Visible;
use crate::store::sqlite::{SqliteTx, count_capped, gpkg, limit_offset};
use crate::store::{Result, Slice, StoreError};

/// The layer's table.
const TABLE: &str = "dust_monitors";

/// Columns of [`row`], `t` the monitor and `d` its device.
const COLUMNS: &str = "t.fid, t.mn, t.name, t.geom, t.mine, t.mine_via, t.holder, t.district_code,
     d.id, d.token_hash IS NOT NULL, d.suspect_values";

fn row(r: &rusqlite::Row) -> rusqlite::Result<Monitor> {
    Ok(Monitor {
        fid: r.get(0)?,
        mn: r.get(1)?,
        name: r.get(2)?,
        at: point(r.get(3)?),
        derived: Derived {
            mine: r.get(4)?,
            mine_via: r.get(5)?,
            holder: r.get(6)?,
            district_code: r.get(7)?,
        },
        device: r.get::<_, Option<i64>>(8)?.map(DeviceId),
        token_live: r.get::<_, Option<bool>>(9)?.unwrap_or(false),
        suspect_values: r.get::<_, Option<i64>>(10)?.unwrap_or(0),
    })
}

impl SqliteTx<'_> {
    fn monitors_where(
        &self,
        join: &str,
        cond: &str,
        order: &str,
        params: Vec<rusqlite::types::Value>,
    ) -> Result<Vec<Monitor>> {
        let sql = format!(
            "SELECT {COLUMNS} FROM \"{TABLE}\" t {join} dust_devices d ON d.mn = t.mn
             WHERE {cond} ORDER BY {order}"
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(rusqlite::params_from_iter(params), row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

impl Monitors for SqliteTx<'_> {
    fn exists(&self, mn: &str) -> Result<bool> {
        Ok(self
            .conn
            .prepare_cached("SELECT EXISTS (SELECT 1 FROM dust_monitors WHERE mn = ?1)")?
            .query_row([mn], |r| r.get(0))?)
    }

    fn add(&self, m: &NewMonitor) -> Result<()> {
        let geom = gpkg::try_encode(&geo::Geometry::Point(m.at))?;
        let pollutants =
            serde_json::to_string(&m.pollutants).map_err(|e| StoreError::Corrupt(e.to_string()))?;
        self.conn.execute(
            "INSERT INTO dust_monitors(geom, mn, name, mine, mine_via, holder, district_code, pollutants)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![
                geom,
                m.mn,
                m.name,
                m.derived.mine,
                m.derived.mine_via,
                m.derived.holder,
                m.derived.district_code,
                pollutants
            ],
        )?;
        gpkg::update_extent(self.conn, TABLE)?;
        Ok(())
    }

    fn all(&self) -> Result<Vec<Monitor>> {
        self.monitors_where("LEFT JOIN", "1", "t.mn", vec![])
    }

    fn in_scope(&self, layer: &Layer, scope: &Scope, slice: Slice) -> Result<(Vec<Monitor>, bool)> {
        let c = crate::store::sqlite::scope::condition(&Visible::new(layer, scope, ""));
        let (cond, mut params) = (c.sql, c.params);
        params.extend(limit_offset(slice).map(rusqlite::types::Value::Integer));
        let rows = self.monitors_where("LEFT JOIN", &cond, "t.mn LIMIT ? OFFSET ?", params)?;
        Ok(slice.cut(rows))
    }

    fn count(&self, layer: &Layer, scope: &Scope, cap: usize) -> Result<Option<usize>> {
        let c = crate::store::sqlite::scope::condition(&Visible::new(layer, scope, ""));
        let select = format!("SELECT 1 FROM \"{TABLE}\" t WHERE {}", c.sql);
        count_capped(self.conn, &select, c.params, cap)
    }

    fn with_devices(&self) -> Result<Vec<Monitor>> {
        self.monitors_where("JOIN", "1", "d.id", vec![])
    }

    fn visible(&self, layer: &Layer, scope: &Scope, mn: &str) -> Result<Option<Monitor>> {
        let c = crate::store::sqlite::scope::condition(&Visible::new(layer, scope, ""));
        let (cond, mut params) = (c.sql, c.params);
        params.insert(0, rusqlite::types::Value::Text(mn.to_string()));
        Ok(self
            .monitors_where(
                "LEFT JOIN",
                &format!("t.mn = ? AND {cond}"),
                "t.fid",
                params,
            )?
            .into_iter()
            .next())
    }

    fn set_derived(&self, fid: i64, d: &Derived) -> Result<()> {
        self.conn.execute(
            "UPDATE dust_monitors SET mine = ?2, mine_via = ?3, holder = ?4, district_code = ?5
             WHERE fid = ?1",
            params![fid, d.mine, d.mine_via, d.holder, d.district_code],
        )?;
        Ok(())
    }
}

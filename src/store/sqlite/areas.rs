//! The polygons responsibility is decided from, read from their feature tables: the [`Areas`]
//! trait on [`SqliteTx`].

use geo::{Geometry, MultiPolygon};
use rusqlite::Connection;

use super::{Result, SqliteTx, StoreError, gpkg};
use crate::domain::responsibility::{self, District, GangueHeap, Mine, WasteDump};
use crate::store::areas::Areas;

/// A polygon or multipolygon as a multipolygon.
fn as_multipolygon(g: Geometry<f64>) -> Option<MultiPolygon<f64>> {
    match g {
        Geometry::MultiPolygon(m) => Some(m),
        Geometry::Polygon(p) => Some(MultiPolygon(vec![p])),
        _ => None,
    }
}

fn rows<T>(
    conn: &Connection,
    sql: &str,
    f: impl Fn(&rusqlite::Row, MultiPolygon<f64>) -> rusqlite::Result<T>,
) -> Result<Vec<T>> {
    let mut stmt = conn.prepare(sql)?;
    let mut out = vec![];
    let mut q = stmt.query([])?;
    while let Some(r) = q.next()? {
        let blob: Vec<u8> = r.get("geom")?;
        let fid: i64 = r.get("fid")?;
        let geom = as_multipolygon(gpkg::decode(&blob)?).ok_or_else(|| {
            StoreError::Corrupt(format!("feature {fid} in `{sql}` is not a polygon"))
        })?;
        out.push(f(r, geom)?);
    }
    Ok(out)
}

impl Areas for SqliteTx<'_> {
    fn load(&self) -> Result<responsibility::Areas> {
        load(self.conn)
    }
}

/// Transitional (issue 10): [`Areas::load`] on a connection, for code not yet on the traits.
pub fn load(conn: &Connection) -> Result<responsibility::Areas> {
    Ok(responsibility::Areas {
        districts: rows(
            conn,
            "SELECT fid, geom, code, name FROM districts WHERE geom IS NOT NULL",
            |r, geom| {
                Ok(District {
                    id: r.get("fid")?,
                    code: r.get("code")?,
                    name: r.get("name")?,
                    geom,
                })
            },
        )?,
        mines: rows(
            conn,
            "SELECT fid, geom, licence_no, name, holder, status FROM mines WHERE geom IS NOT NULL",
            |r, geom| {
                let status: Option<String> = r.get("status")?;
                let holder: Option<String> = r.get("holder")?;
                let holder = holder.unwrap_or_default();
                Ok(Mine {
                    id: r.get("fid")?,
                    licence_no: r.get("licence_no")?,
                    name: r.get("name")?,
                    ownerless: status.as_deref() == Some("ownerless") || holder.trim().is_empty(),
                    closed: status.as_deref() == Some("closed"),
                    holder,
                    geom,
                })
            },
        )?,
        waste_dumps: rows(
            conn,
            "SELECT fid, geom, name, mine FROM waste_dumps WHERE geom IS NOT NULL",
            |r, geom| {
                Ok(WasteDump {
                    id: r.get("fid")?,
                    name: r.get("name")?,
                    mine: r.get("mine")?,
                    geom,
                })
            },
        )?,
        gangue_heaps: rows(
            conn,
            "SELECT fid, geom, name, holder FROM gangue_heaps WHERE geom IS NOT NULL",
            |r, geom| {
                let holder: Option<String> = r.get("holder")?;
                Ok(GangueHeap {
                    id: r.get("fid")?,
                    name: r.get("name")?,
                    holder: holder.unwrap_or_default(),
                    geom,
                })
            },
        )?,
    })
}

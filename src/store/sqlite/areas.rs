//! Loads the polygons responsibility is decided from (districts, mines, dumps, heaps).

use geo::{Geometry, MultiPolygon};
use rusqlite::Connection;

use super::{Result, StoreError, gpkg};
use crate::domain::responsibility::{Areas, District, GangueHeap, Mine, WasteDump};

/// A polygon or multipolygon as a multipolygon.
pub fn as_multipolygon(g: Geometry<f64>) -> Option<MultiPolygon<f64>> {
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

/// Every polygon that decides responsibility.
pub fn load(conn: &Connection) -> Result<Areas> {
    Ok(Areas {
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

//! Photo records; the files live in a folder beside the database, named by content hash.

use std::io::Write;
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

use super::{Result, StoreError};

#[derive(Debug, Clone, Serialize)]
pub struct Photo {
    pub id: i64,
    pub fire: String,
    pub sha256: String,
    pub width: i64,
    pub height: i64,
    pub exif_time: Option<String>,
    pub exif_lon: Option<f64>,
    pub exif_lat: Option<f64>,
    pub uploaded_by: String,
    pub uploaded_at: String,
}

/// `demo.gpkg` keeps its photos in `demo.gpkg.photos/`.
pub fn dir(db: &Path) -> PathBuf {
    let mut p = db.as_os_str().to_owned();
    p.push(".photos");
    PathBuf::from(p)
}

/// Writes a file and syncs it, so that a photo acknowledged after the database commit exists.
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    let io = |e: std::io::Error| StoreError::Worker(format!("{}: {e}", path.display()));
    if path.exists() {
        return Ok(());
    }
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(io)?;
    }
    let tmp = path.with_extension("part");
    let mut f = std::fs::File::create(&tmp).map_err(io)?;
    f.write_all(bytes).map_err(io)?;
    f.sync_all().map_err(io)?;
    std::fs::rename(&tmp, path).map_err(io)
}

const COLUMNS: &str =
    "id, fire, sha256, width, height, exif_time, exif_lon, exif_lat, uploaded_by, uploaded_at";

fn row(r: &rusqlite::Row) -> rusqlite::Result<Photo> {
    Ok(Photo {
        id: r.get(0)?,
        fire: r.get(1)?,
        sha256: r.get(2)?,
        width: r.get(3)?,
        height: r.get(4)?,
        exif_time: r.get(5)?,
        exif_lon: r.get(6)?,
        exif_lat: r.get(7)?,
        uploaded_by: r.get(8)?,
        uploaded_at: r.get(9)?,
    })
}

/// Records a photo of a fire; the same bytes on the same fire again return the first record.
#[allow(clippy::too_many_arguments)]
pub fn insert(
    conn: &Connection,
    fire: &str,
    p: &crate::service::photos::Processed,
    by: &str,
    at: &str,
) -> Result<Photo> {
    conn.execute(
        "INSERT INTO photos(fire, sha256, format, width, height, exif_time, exif_lon, exif_lat, uploaded_by, uploaded_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) ON CONFLICT(fire, sha256) DO NOTHING",
        params![fire, p.sha256, p.format, p.width, p.height, p.exif_time, p.exif_lon, p.exif_lat, by, at],
    )?;
    let sql = format!("SELECT {COLUMNS} FROM photos WHERE fire = ?1 AND sha256 = ?2");
    Ok(conn.query_row(&sql, params![fire, p.sha256], row)?)
}

pub fn for_fire(conn: &Connection, fire: &str) -> Result<Vec<Photo>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM photos WHERE fire = ?1 ORDER BY id"
    ))?;
    let rows = stmt.query_map([fire], row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub fn get(conn: &Connection, id: i64) -> Result<Option<Photo>> {
    Ok(conn
        .query_row(
            &format!("SELECT {COLUMNS} FROM photos WHERE id = ?1"),
            [id],
            row,
        )
        .optional()?)
}

//! Photo records; the files live in a folder beside the database, named by content hash.

use std::io::Write;
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

use super::{Result, StoreError};

/// What a photo is evidence for: whoever may see the subject may see (and add) its photos.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Subject {
    Fire,
    DustIssue,
}

impl Subject {
    pub fn as_str(self) -> &'static str {
        match self {
            Subject::Fire => "fire",
            Subject::DustIssue => "dust_issue",
        }
    }

    fn parse(s: &str) -> Subject {
        if s == "dust_issue" {
            Subject::DustIssue
        } else {
            Subject::Fire
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Photo {
    pub id: i64,
    pub subject: Subject,
    /// The subject's id (the column is named `fire` because fires came first).
    pub fire: String,
    pub sha256: String,
    pub width: i64,
    pub height: i64,
    pub exif_time: Option<String>,
    pub exif_lon: Option<f64>,
    pub exif_lat: Option<f64>,
    pub uploaded_by: String,
    /// The uploader's role then (None for photos older than the column, of a user since gone).
    pub uploaded_role: Option<String>,
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

const COLUMNS: &str = "id, subject, fire, sha256, width, height, exif_time, exif_lon, exif_lat, uploaded_by, uploaded_at, uploaded_role";

fn row(r: &rusqlite::Row) -> rusqlite::Result<Photo> {
    Ok(Photo {
        id: r.get(0)?,
        subject: Subject::parse(&r.get::<_, String>(1)?),
        fire: r.get(2)?,
        sha256: r.get(3)?,
        width: r.get(4)?,
        height: r.get(5)?,
        exif_time: r.get(6)?,
        exif_lon: r.get(7)?,
        exif_lat: r.get(8)?,
        uploaded_by: r.get(9)?,
        uploaded_at: r.get(10)?,
        uploaded_role: r.get(11)?,
    })
}

/// Records a photo of a subject; the same bytes on the same subject again return the first
/// record. Subject ids are UUIDs, unique across fires and violations (a report refuses an id the
/// other kind already holds), so `(fire, sha256)` stays the key.
pub fn insert(
    conn: &Connection,
    subject: Subject,
    id: &str,
    p: &crate::service::photos::Processed,
    (by, role): (&str, &str),
    at: &str,
) -> Result<Photo> {
    conn.execute(
        "INSERT INTO photos(subject, fire, sha256, format, width, height, exif_time, exif_lon, exif_lat, uploaded_by, uploaded_at, uploaded_role)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12) ON CONFLICT(fire, sha256) DO NOTHING",
        params![subject.as_str(), id, p.sha256, p.format, p.width, p.height, p.exif_time, p.exif_lon, p.exif_lat, by, at, role],
    )?;
    let sql =
        format!("SELECT {COLUMNS} FROM photos WHERE subject = ?1 AND fire = ?2 AND sha256 = ?3");
    Ok(conn.query_row(&sql, params![subject.as_str(), id, p.sha256], row)?)
}

/// A subject's photos, oldest first.
pub fn for_subject(conn: &Connection, subject: Subject, id: &str) -> Result<Vec<Photo>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM photos WHERE subject = ?1 AND fire = ?2 ORDER BY id"
    ))?;
    let rows = stmt.query_map(params![subject.as_str(), id], row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub fn for_fire(conn: &Connection, fire: &str) -> Result<Vec<Photo>> {
    for_subject(conn, Subject::Fire, fire)
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

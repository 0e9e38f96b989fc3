//! Photos as evidence: the records ([`Photo`], [`NewPhoto`]) and the [`Photos`] trait an engine
//! implements. The files themselves live in a folder beside the database, named by content
//! hash, written by the plain file helpers here ([`dir`], [`write_file`]) whatever the engine.

use std::io::Write;
use std::path::{Path, PathBuf};

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

    /// The subject named by [`Subject::as_str`] (a fire for anything else).
    pub fn parse(s: &str) -> Subject {
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

/// What is recorded of a checked photo (its files are written first, see [`write_file`]).
pub struct NewPhoto<'a> {
    pub sha256: &'a str,
    /// `jpeg`, `png` or `webp`: the uploaded file's type.
    pub format: &'a str,
    pub width: u32,
    pub height: u32,
    pub exif_time: Option<&'a str>,
    pub exif_lon: Option<f64>,
    pub exif_lat: Option<f64>,
}

pub trait Photos {
    /// Records a photo of a subject, uploaded by `by` with `role` at `at`; the same bytes on
    /// the same subject again return the first record. Subject ids are UUIDs, unique across
    /// fires and violations (a report refuses an id the other kind already holds).
    fn insert(
        &self,
        subject: Subject,
        id: &str,
        photo: &NewPhoto,
        by: (&str, &str),
        at: &str,
    ) -> Result<Photo>;
    /// A subject's photos, oldest first.
    fn for_subject(&self, subject: Subject, id: &str) -> Result<Vec<Photo>>;
    fn get(&self, id: i64) -> Result<Option<Photo>>;
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

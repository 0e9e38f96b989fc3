//! Backups at the storage level, by path: a consistent copy of a live database, and what a copy
//! holds (its soundness, schema version, rows per table, the photos it names). The CLI's
//! `backup` and `restore` build the backup folder and manifest on these.

use std::collections::BTreeMap;
use std::path::Path;

use super::Result;
use super::sqlite::{backup as engine, schema};

/// What a database copy holds, as a manifest records it.
#[derive(Debug, Clone)]
pub struct Contents {
    /// The newest migration applied (0 for a file that is not a Qingling database).
    pub schema_version: i64,
    /// Rows per table (derived indexes left out).
    pub counts: BTreeMap<String, i64>,
    /// The content hashes of the photos the database records, each once, in order.
    pub photo_hashes: Vec<String>,
}

/// Copies the database at `src` (which a server may be writing) to the new file `dst`, as one
/// self-contained file. A missing `src` is an error, not created.
pub fn snapshot(src: &Path, dst: &Path) -> Result<()> {
    engine::snapshot(src, dst)
}

/// The integrity check of a database file, opened read-only: empty when it is sound, else the
/// engine's findings.
pub fn problems(path: &Path) -> Result<Vec<String>> {
    engine::problems_of(path)
}

/// What a (sound) database file holds, opened read-only.
pub fn contents(path: &Path) -> Result<Contents> {
    engine::contents_of(path)
}

/// The newest schema version this build knows (a backup from a newer one is refused).
pub fn known_schema_version() -> i64 {
    schema::latest_version()
}

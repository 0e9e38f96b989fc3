//! The SQLite side of backups ([`crate::store::backup`]): a consistent copy of a live database
//! through SQLite's online backup API, and the checks run on a copy (integrity, schema version,
//! row counts, photos named).

use std::collections::BTreeMap;
use std::path::Path;
use std::time::Duration;

use rusqlite::backup::{Backup, StepResult};
use rusqlite::{Connection, OpenFlags};

use super::{Result, StoreError};
use crate::store::backup::Contents;

fn open_err(path: &Path) -> impl Fn(rusqlite::Error) -> StoreError + '_ {
    move |source| StoreError::Open {
        path: path.display().to_string(),
        source: Box::new(source.into()),
    }
}

/// Opens an existing database without creating one.
fn open_existing(path: &Path) -> Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(open_err(path))?;
    conn.busy_timeout(Duration::from_secs(10))?;
    Ok(conn)
}

/// Opens a copy for checking only.
fn open_read_only(path: &Path) -> Result<Connection> {
    Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(open_err(path))
}

/// Copies the database at `src` (which a server may be writing) to the new file `dst`.
///
/// All pages are copied in one step, inside one read transaction: in WAL mode that snapshot does
/// not block the server's writers, and no write can restart the copy halfway (which smaller steps
/// would allow, over and over under steady writes). The copy leaves WAL mode so that it is one
/// self-contained file; whoever opens it to serve turns WAL on again.
pub fn snapshot(src: &Path, dst: &Path) -> Result<()> {
    let from = open_existing(src)?;
    let mut to = Connection::open(dst).map_err(open_err(dst))?;
    {
        let backup = Backup::new(&from, &mut to)?;
        let mut tries = 0;
        loop {
            match backup.step(-1)? {
                StepResult::Done => break,
                // Busy or locked: a checkpoint or another writer holds a lock for a moment.
                _ if tries < 200 => {
                    tries += 1;
                    std::thread::sleep(Duration::from_millis(50));
                }
                _ => {
                    return Err(StoreError::Worker(format!(
                        "{}: the database stayed locked for 10 s",
                        src.display()
                    )));
                }
            }
        }
    }
    to.pragma_update(None, "journal_mode", "DELETE")?;
    Ok(())
}

/// `PRAGMA integrity_check`: empty when the file is sound, else SQLite's findings.
fn integrity_problems(conn: &Connection) -> Result<Vec<String>> {
    let mut stmt = conn.prepare("PRAGMA integrity_check")?;
    let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
    let found = rows.collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(found.into_iter().filter(|r| r != "ok").collect())
}

/// The newest migration applied (0 for a file that is not a Qingling database).
fn schema_version(conn: &Connection) -> Result<i64> {
    let has: bool = conn.query_row(
        "SELECT count(*) > 0 FROM sqlite_master WHERE type = 'table' AND name = 'qingling_migrations'",
        [],
        |r| r.get(0),
    )?;
    if !has {
        return Ok(0);
    }
    Ok(conn.query_row(
        "SELECT coalesce(max(version), 0) FROM qingling_migrations",
        [],
        |r| r.get(0),
    )?)
}

/// Rows in every table (the R-tree indexes, derived from the layers, left out).
fn counts(conn: &Connection) -> Result<BTreeMap<String, i64>> {
    let mut stmt = conn.prepare(
        "SELECT name FROM sqlite_master WHERE type = 'table'
         AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name NOT LIKE 'rtree\\_%' ESCAPE '\\'
         ORDER BY name",
    )?;
    let names = stmt
        .query_map([], |r| r.get::<_, String>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let mut out = BTreeMap::new();
    for name in names {
        let sql = format!("SELECT count(*) FROM \"{}\"", name.replace('"', "\"\""));
        out.insert(name, conn.query_row(&sql, [], |r| r.get(0))?);
    }
    Ok(out)
}

/// The content hashes of the photos the database records, each once.
fn photo_hashes(conn: &Connection) -> Result<Vec<String>> {
    let mut stmt = conn.prepare("SELECT DISTINCT sha256 FROM photos ORDER BY sha256")?;
    let rows = stmt.query_map([], |r| r.get::<_, String>(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// [`integrity_problems`] of a file.
pub fn problems_of(path: &Path) -> Result<Vec<String>> {
    integrity_problems(&open_read_only(path)?)
}

/// Schema version, row counts and photos of a file.
pub fn contents_of(path: &Path) -> Result<Contents> {
    let conn = open_read_only(path)?;
    Ok(Contents {
        schema_version: schema_version(&conn)?,
        counts: counts(&conn)?,
        photo_hashes: photo_hashes(&conn)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snapshot_is_a_sound_self_contained_copy() {
        let dir = tempfile::tempdir().expect("tmp");
        let src = dir.path().join("a.gpkg");
        let conn = crate::store::connect(&src).expect("open");
        conn.execute_batch(
            "CREATE TABLE photos(sha256 TEXT); INSERT INTO photos VALUES ('b'), ('a'), ('b');",
        )
        .expect("fill");
        let dst = dir.path().join("b.gpkg");
        snapshot(&src, &dst).expect("snapshot");
        drop(conn);
        let copy = open_read_only(&dst).expect("copy");
        assert!(integrity_problems(&copy).expect("check").is_empty());
        let mode: String = copy
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .expect("mode");
        assert_eq!(mode, "delete");
        assert_eq!(counts(&copy).expect("counts")["photos"], 3);
        assert_eq!(photo_hashes(&copy).expect("hashes"), ["a", "b"]);
        assert_eq!(schema_version(&copy).expect("version"), 0);
    }

    #[test]
    fn a_missing_database_is_not_created() {
        let dir = tempfile::tempdir().expect("tmp");
        let src = dir.path().join("none.gpkg");
        assert!(snapshot(&src, &dir.path().join("b.gpkg")).is_err());
        assert!(!src.exists());
    }
}

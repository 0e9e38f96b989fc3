//! The server's hold on its database: an exclusive lock on `<db>.lock` for as long as
//! `qingling serve` runs (released by the OS when the process ends, even by `kill -9`), so a
//! restore, or a second server, cannot replace or share a database under a running one.

use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};

/// The lock file beside a database.
pub fn path_of(db: &Path) -> PathBuf {
    let mut s = db.as_os_str().to_owned();
    s.push(".lock");
    PathBuf::from(s)
}

/// Whether a running server holds the database.
#[derive(Debug, PartialEq, Eq)]
pub enum Held {
    Free,
    ByServer,
}

/// Takes the lock for a server; `Ok(None)` when another process holds it. Keep the file open
/// for as long as the lock is to last.
pub fn hold(db: &Path) -> std::io::Result<Option<File>> {
    let f = OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path_of(db))?;
    match f.try_lock() {
        Ok(()) => Ok(Some(f)),
        Err(TryLockError::WouldBlock) => Ok(None),
        Err(TryLockError::Error(e)) => Err(e),
    }
}

/// Whether a server holds the database now (no lock file: free).
pub fn held(db: &Path) -> std::io::Result<Held> {
    let p = path_of(db);
    if !p.exists() {
        return Ok(Held::Free);
    }
    let f = OpenOptions::new().write(true).open(p)?;
    match f.try_lock() {
        Ok(()) => Ok(Held::Free), // released when `f` drops
        Err(TryLockError::WouldBlock) => Ok(Held::ByServer),
        Err(TryLockError::Error(e)) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_holder_at_a_time_and_free_again_when_it_ends() {
        let dir = tempfile::tempdir().expect("dir");
        let db = dir.path().join("q.gpkg");
        assert_eq!(held(&db).expect("check"), Held::Free);
        let first = hold(&db).expect("lock").expect("free");
        assert!(
            hold(&db).expect("lock").is_none(),
            "a second holder is refused"
        );
        assert_eq!(held(&db).expect("check"), Held::ByServer);
        drop(first);
        assert_eq!(held(&db).expect("check"), Held::Free);
        assert!(hold(&db).expect("lock").is_some());
    }
}

//! SQLite storage: one file that is a valid GeoPackage (the layers) with the app's own tables
//! beside it (users, sessions, events, settings). Blocking work runs off the async executor.

pub mod areas;
pub mod audit;
pub mod backup;
pub mod dust;
pub mod dust_issues;
pub mod features;
pub mod fires;
pub mod gpkg;
pub mod lock;
pub mod notifications;
pub mod photos;
pub mod schema;
pub mod styles;
pub mod tracked;
pub mod users;
pub mod webhooks;

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rusqlite::{Connection, OpenFlags, Transaction, TransactionBehavior};

use crate::layers::Registry;

/// A storage failure. Never shown to a user as is: the HTTP layer logs it and answers 500.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database {path}: {source}")]
    Open {
        path: String,
        source: rusqlite::Error,
    },
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    #[error(transparent)]
    Gpkg(#[from] gpkg::GpkgError),
    #[error("stored data is damaged: {0}")]
    Corrupt(String),
    #[error("the storage worker stopped: {0}")]
    Worker(String),
}

pub type Result<T> = std::result::Result<T, StoreError>;

struct Inner {
    path: PathBuf,
    writer: Mutex<Connection>,
    readers: Mutex<Vec<Connection>>,
}

/// The database: one writer connection (SQLite allows one writer at a time anyway) and a pool
/// of readers, which WAL lets run beside the writer.
#[derive(Clone)]
pub struct Db {
    inner: Arc<Inner>,
}

/// Opens a connection with the settings every connection needs.
pub fn connect(path: &Path) -> Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|source| StoreError::Open {
        path: path.display().to_string(),
        source,
    })?;
    // WAL lets readers run beside the writer; synchronous=FULL makes an acknowledged commit
    // survive a crash of the process or the machine.
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    // The R-tree triggers call ST_* functions: every connection that writes must have them.
    gpkg::register_functions(&conn)?;
    Ok(conn)
}

impl Db {
    /// Opens (creating if needed) and migrates the database.
    pub fn open(path: &Path, registry: &Registry) -> Result<Db> {
        let mut writer = connect(path)?;
        schema::migrate(&mut writer, registry)?;
        Ok(Db {
            inner: Arc::new(Inner {
                path: path.to_path_buf(),
                writer: Mutex::new(writer),
                readers: Mutex::new(vec![]),
            }),
        })
    }

    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Runs `f` in an IMMEDIATE transaction on the writer, committing if it returns Ok.
    pub fn write_blocking<T, E: From<StoreError>>(
        &self,
        f: impl FnOnce(&Transaction) -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E> {
        let mut conn = self.inner.writer.lock().unwrap_or_else(|p| p.into_inner());
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(StoreError::from)?;
        let out = f(&tx)?;
        tx.commit().map_err(StoreError::from)?;
        Ok(out)
    }

    /// Runs `f` on a reader connection.
    pub fn read_blocking<T, E: From<StoreError>>(
        &self,
        f: impl FnOnce(&Connection) -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E> {
        let pooled = self
            .inner
            .readers
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .pop();
        let conn = match pooled {
            Some(c) => c,
            None => connect(&self.inner.path)?,
        };
        let out = f(&conn);
        let mut pool = self.inner.readers.lock().unwrap_or_else(|p| p.into_inner());
        if pool.len() < 8 {
            pool.push(conn);
        }
        out
    }

    /// [`Db::write_blocking`] off the async executor.
    pub async fn write<T, E>(
        &self,
        f: impl FnOnce(&Transaction) -> std::result::Result<T, E> + Send + 'static,
    ) -> std::result::Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        let db = self.clone();
        tokio::task::spawn_blocking(move || db.write_blocking(f))
            .await
            .unwrap_or_else(|e| Err(StoreError::Worker(e.to_string()).into()))
    }

    /// [`Db::read_blocking`] off the async executor.
    pub async fn read<T, E>(
        &self,
        f: impl FnOnce(&Connection) -> std::result::Result<T, E> + Send + 'static,
    ) -> std::result::Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        let db = self.clone();
        tokio::task::spawn_blocking(move || db.read_blocking(f))
            .await
            .unwrap_or_else(|e| Err(StoreError::Worker(e.to_string()).into()))
    }
}

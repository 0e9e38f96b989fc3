//! The store: everything the application keeps, behind one seam. Use cases see a transaction
//! ([`Tx`]) through which each aggregate is reached by its own trait (`tx.fires()`,
//! `tx.users()`, …); the SQL lives in the engine that implements them — [`sqlite`] (one
//! GeoPackage file) today, PostgreSQL/PostGIS next. Nothing outside `store/` names an engine
//! type. A transaction is a value of the interface: [`Db::write`] runs a closure in one, commits
//! when it returns `Ok`, and [`Tx::nested`] rolls a part of it back alone.
//!
//! Engines run on blocking threads (their clients are synchronous); [`Db::read`] and
//! [`Db::write`] move the work off the async executor.

pub mod sqlite;

// The aggregates. Transitional (issue 10): each re-exports the SQLite module it is moving out of.
pub mod areas {
    pub use super::sqlite::areas::*;
}
pub mod audit {
    pub use super::sqlite::audit::*;
}
pub mod backup {
    pub use super::sqlite::backup::*;
}
pub mod dust;
pub mod dust_issues {
    pub use super::sqlite::dust_issues::*;
}
pub mod features {
    pub use super::sqlite::features::*;
}
pub mod fires {
    pub use super::sqlite::fires::*;
}
pub mod gpkg {
    pub use super::sqlite::gpkg::*;
}
pub mod lock {
    pub use super::sqlite::lock::*;
}
pub mod notifications {
    pub use super::sqlite::notifications::*;
}
pub mod photos {
    pub use super::sqlite::photos::*;
}
pub mod schema {
    pub use super::sqlite::schema::*;
}
pub mod settings;
pub mod styles {
    pub use super::sqlite::styles::*;
}
pub mod tracked {
    pub use super::sqlite::tracked::*;
}
pub mod users {
    pub use super::sqlite::users::*;
}
pub mod webhooks {
    pub use super::sqlite::webhooks::*;
}

pub use sqlite::connect;

use std::path::Path;
use std::sync::Arc;

use crate::layers::Registry;

/// A storage failure. Never shown to a user as is: the HTTP layer logs it and answers 500.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database {path}: {source}")]
    Open {
        path: String,
        source: Box<StoreError>,
    },
    /// The engine's own error (SQL, I/O, constraint), as text and source.
    #[error(transparent)]
    Engine(Box<dyn std::error::Error + Send + Sync>),
    #[error(transparent)]
    Gpkg(#[from] sqlite::gpkg::GpkgError),
    #[error("stored data is damaged: {0}")]
    Corrupt(String),
    #[error("the storage worker stopped: {0}")]
    Worker(String),
}

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Engine(Box::new(e))
    }
}

pub type Result<T> = std::result::Result<T, StoreError>;

/// One transaction on the store, whatever the engine. Methods take `&self`: an engine whose
/// client needs `&mut` for a query keeps it in a `RefCell` (a transaction is used by one thread).
pub trait Tx {
    fn settings(&self) -> &dyn settings::Settings;
    fn dust_devices(&self) -> &dyn dust::devices::Devices;
    fn dust_readings(&self) -> &dyn dust::readings::Readings;
    fn dust_monitors(&self) -> &dyn dust::monitors::Monitors;
    fn dust_alerts(&self) -> &dyn dust::alerts::Alerts;
    fn dust_warnings(&self) -> &dyn dust::warnings::Warnings;

    /// Runs `f` in a nested transaction (a savepoint): what it wrote is kept when it returns
    /// `Ok(true)`, rolled back alone when it returns `Ok(false)` or fails.
    fn nested(&self, f: &mut dyn FnMut(&dyn Tx) -> Result<bool>) -> Result<()>;

    /// Transitional (issue 10): the SQLite connection, for code not yet on the traits.
    #[doc(hidden)]
    fn legacy_conn(&self) -> &rusqlite::Connection;
}

/// The database the application runs on. Cheap to clone.
#[derive(Clone)]
pub struct Db {
    engine: Arc<sqlite::Engine>,
}

impl Db {
    /// Opens (creating if needed) and migrates the database.
    pub fn open(path: &Path, registry: &Registry) -> Result<Db> {
        Ok(Db {
            engine: Arc::new(sqlite::Engine::open(path, registry)?),
        })
    }

    pub fn path(&self) -> &Path {
        self.engine.path()
    }

    /// Runs `f` in one write transaction, committing if it returns Ok.
    pub fn write_blocking<T, E: From<StoreError>>(
        &self,
        f: impl FnOnce(&sqlite::SqliteTx) -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E> {
        self.engine.write(f)
    }

    /// Runs `f` on a read connection.
    pub fn read_blocking<T, E: From<StoreError>>(
        &self,
        f: impl FnOnce(&sqlite::SqliteTx) -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E> {
        self.engine.read(f)
    }

    /// [`Db::write_blocking`] off the async executor.
    pub async fn write<T, E>(
        &self,
        f: impl FnOnce(&sqlite::SqliteTx) -> std::result::Result<T, E> + Send + 'static,
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
        f: impl FnOnce(&sqlite::SqliteTx) -> std::result::Result<T, E> + Send + 'static,
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

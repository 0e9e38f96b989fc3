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
pub mod areas;
pub mod audit;
pub mod backup;
pub mod counts;
pub mod dust;
pub mod dust_issues;
pub mod features;
pub mod fires;
pub mod gpkg {
    pub use super::sqlite::gpkg::*;
}
pub mod lock;
pub mod notifications;
pub mod outbox;
pub mod photos;
// The SQLite migrations, for unit tests that build a database on a bare connection; callers
// open a migrated database with `Db::open` and ask `backup::known_schema_version`.
#[doc(hidden)]
pub mod schema {
    pub use super::sqlite::schema::*;
}
pub mod settings;
pub mod step;
pub mod styles {
    pub use super::sqlite::styles::*;
}
pub mod tracked {
    pub use super::sqlite::tracked::*;
}
pub mod tiles;
pub mod users;
pub mod webhooks;

pub use sqlite::connect;

use std::path::Path;
use std::sync::Arc;

use crate::layers::Registry;

pub use crate::error::StoreError;

pub type Result<T> = std::result::Result<T, StoreError>;

/// How far the count of a list goes before it stops: a longer list is not counted (its answer
/// has no total), so a count never reads more than this many rows.
pub const COUNT_CAP: usize = 10_000;

/// One page of a list: at most `limit` items after the first `offset`, in the list's own order.
/// A paged method answers the page and whether more follow it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slice {
    pub limit: usize,
    pub offset: usize,
}

impl Slice {
    /// The first `limit` items.
    pub fn first(limit: usize) -> Slice {
        Slice { limit, offset: 0 }
    }

    /// The page after this one.
    pub fn next(self) -> Slice {
        Slice {
            offset: self.offset.saturating_add(self.limit),
            ..self
        }
    }

    /// The length of the whole list when this page tells it: a last page that is not past the
    /// end. Otherwise it takes a count (see [`COUNT_CAP`]).
    pub fn total(self, returned: usize, more: bool) -> Option<usize> {
        (!more && (returned > 0 || self.offset == 0)).then_some(self.offset + returned)
    }

    /// Cuts `items`, read with one more than the limit, to the page; whether more follow.
    pub fn cut<T>(self, mut items: Vec<T>) -> (Vec<T>, bool) {
        let more = items.len() > self.limit;
        items.truncate(self.limit);
        (items, more)
    }
}

/// One transaction on the store, whatever the engine. Methods take `&self`: an engine whose
/// client needs `&mut` for a query keeps it in a `RefCell` (a transaction is used by one thread).
pub trait Tx {
    fn areas(&self) -> &dyn areas::Areas;
    fn counts(&self) -> &dyn counts::Counts;
    fn dust_issues(&self) -> &dyn dust_issues::DustIssues;
    fn features(&self) -> &dyn features::Features;
    fn tiles(&self) -> &dyn tiles::Tiles;
    fn fires(&self) -> &dyn fires::Fires;
    fn notifications(&self) -> &dyn notifications::Notifications;
    fn outbox(&self) -> &dyn outbox::Outbox;
    fn webhooks(&self) -> &dyn webhooks::Webhooks;
    fn settings(&self) -> &dyn settings::Settings;
    fn users(&self) -> &dyn users::Users;
    fn audit(&self) -> &dyn audit::Audit;
    fn photos(&self) -> &dyn photos::Photos;
    fn dust_devices(&self) -> &dyn dust::devices::Devices;
    fn dust_readings(&self) -> &dyn dust::readings::Readings;
    fn dust_monitors(&self) -> &dyn dust::monitors::Monitors;
    fn dust_alerts(&self) -> &dyn dust::alerts::Alerts;
    fn dust_warnings(&self) -> &dyn dust::warnings::Warnings;

    /// Runs `f` in a nested transaction (a savepoint): what it wrote is kept when it returns
    /// `Ok(true)`, rolled back alone when it returns `Ok(false)` or fails.
    fn nested(&self, f: &mut dyn FnMut(&dyn Tx) -> Result<bool>) -> Result<()>;
}

/// An engine: where transactions come from. [`Db`] wraps one; a second engine (PostgreSQL)
/// implements this and every aggregate trait on its transactions.
pub trait Engine: Send + Sync {
    /// Runs `f` in one write transaction: committed when it returns `Ok(true)`, rolled back when
    /// it returns `Ok(false)` or fails. Writes are serialised (one at a time).
    fn write(&self, f: &mut dyn FnMut(&dyn Tx) -> Result<bool>) -> Result<()>;

    /// Runs `f` in a read transaction (a consistent snapshot; nothing it writes is kept).
    fn read(&self, f: &mut dyn FnMut(&dyn Tx)) -> Result<()>;

    /// The file the data lives in (photos are kept beside it).
    fn path(&self) -> &Path;

    /// Gives back the memory a bulk round (opening, the hourly sweep) left in the engine's
    /// caches: such a round reads far more pages than requests do, and they would stay held.
    fn trim(&self) -> Result<()>;
}

/// How long a request's read waits for a permit before it runs without one.
const READ_PATIENCE: std::time::Duration = std::time::Duration::from_secs(2);

/// The database the application runs on. Cheap to clone.
#[derive(Clone)]
pub struct Db {
    engine: Arc<dyn Engine>,
    /// Permits for the requests' reads ([`Db::read`]) running at once: reads are CPU-bound, so
    /// more at once than twice the cores only holds more answers in memory while they wait for
    /// a core (each waits here as a future instead, holding nothing).
    reads: Arc<tokio::sync::Semaphore>,
    reads_at_once: usize,
}

impl Db {
    /// Opens (creating if needed) and migrates the database.
    pub fn open(path: &Path, registry: &Registry) -> Result<Db> {
        let cores = std::thread::available_parallelism().map_or(2, usize::from);
        let reads_at_once = (2 * cores).max(4);
        Ok(Db {
            engine: Arc::new(sqlite::Engine::open(path, registry)?),
            reads: Arc::new(tokio::sync::Semaphore::new(reads_at_once)),
            reads_at_once,
        })
    }

    pub fn path(&self) -> &Path {
        self.engine.path()
    }

    /// Runs `f` in one write transaction, committing if it returns Ok.
    pub fn write_blocking<T, E: From<StoreError>>(
        &self,
        f: impl FnOnce(&dyn Tx) -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E> {
        let mut f = Some(f);
        let mut out = None;
        self.engine.write(&mut |tx| {
            let Some(f) = f.take() else {
                return Ok(false);
            };
            let r = f(tx);
            let commit = r.is_ok();
            out = Some(r);
            Ok(commit)
        })?;
        out.unwrap_or_else(|| Err(StoreError::Worker("the transaction did not run".into()).into()))
    }

    /// Runs `f` in one read transaction.
    pub fn read_blocking<T, E: From<StoreError>>(
        &self,
        f: impl FnOnce(&dyn Tx) -> std::result::Result<T, E>,
    ) -> std::result::Result<T, E> {
        let mut f = Some(f);
        let mut out = None;
        self.engine.read(&mut |tx| {
            if let Some(f) = f.take() {
                out = Some(f(tx));
            }
        })?;
        out.unwrap_or_else(|| Err(StoreError::Worker("the transaction did not run".into()).into()))
    }

    /// [`Db::write_blocking`] off the async executor.
    pub async fn write<T, E>(
        &self,
        f: impl FnOnce(&dyn Tx) -> std::result::Result<T, E> + Send + 'static,
    ) -> std::result::Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        self.off_executor(move |db| db.write_blocking(f)).await
    }

    /// [`Engine::trim`] off the async executor.
    pub async fn trim(&self) -> Result<()> {
        self.off_executor(|db| db.engine.trim()).await
    }

    /// How many requests' reads ([`Db::read`]) run at once; more wait for a permit.
    pub fn reads_at_once(&self) -> usize {
        self.reads_at_once
    }

    /// [`Db::read_blocking`] off the async executor.
    pub async fn read<T, E>(
        &self,
        f: impl FnOnce(&dyn Tx) -> std::result::Result<T, E> + Send + 'static,
    ) -> std::result::Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        // A read that waits long (behind long exports, say) goes ahead without a permit:
        // the gate bounds memory in the common case and never stops the server answering.
        let _permit = tokio::time::timeout(READ_PATIENCE, self.reads.acquire())
            .await
            .ok()
            .and_then(|p| p.ok());
        self.off_executor(move |db| db.read_blocking(f)).await
    }

    /// Runs blocking store work on a blocking thread, never on an executor thread.
    async fn off_executor<T, E>(
        &self,
        f: impl FnOnce(&Db) -> std::result::Result<T, E> + Send + 'static,
    ) -> std::result::Result<T, E>
    where
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        let db = self.clone();
        tokio::task::spawn_blocking(move || f(&db))
            .await
            .unwrap_or_else(|e| Err(StoreError::Worker(e.to_string()).into()))
    }
}

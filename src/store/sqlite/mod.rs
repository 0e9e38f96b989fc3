//! The SQLite engine: one file that is a valid GeoPackage (the layers) with the app's own tables
//! beside it. One writer connection (SQLite allows one writer at a time anyway) and a small pool
//! of readers, which WAL lets run beside the writer. Every store trait is implemented on
//! [`SqliteTx`], one transaction on one connection.

pub mod areas;
pub mod audit;
pub mod backup;
pub mod counts;
pub mod dust;
pub mod dust_issues;
pub mod features;
pub mod filter;
pub mod fires;
pub mod gpkg;
pub mod notifications;
pub mod photos;
pub mod schema;
pub mod scope;
pub mod settings;
pub mod styles;
#[cfg(test)]
pub(crate) mod testing;
pub mod tiles;
pub mod tracked;
pub mod users;
pub mod webhooks;

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use rusqlite::{Connection, OpenFlags, TransactionBehavior};

pub use super::{Result, StoreError};
use crate::layers::Registry;

impl From<rusqlite::Error> for StoreError {
    fn from(e: rusqlite::Error) -> Self {
        StoreError::Engine(Box::new(e))
    }
}

impl From<gpkg::GpkgError> for StoreError {
    fn from(e: gpkg::GpkgError) -> Self {
        StoreError::Engine(Box::new(e))
    }
}

/// `LIMIT ? OFFSET ?` values for a page: one row more than the page holds, so that
/// [`super::Slice::cut`] can tell whether more follow.
pub(crate) fn limit_offset(s: super::Slice) -> [i64; 2] {
    let n = |x: usize| i64::try_from(x).unwrap_or(i64::MAX);
    [n(s.limit).saturating_add(1), n(s.offset)]
}

/// How many rows `select` (a `SELECT 1 FROM … WHERE …` with `params`) gives, if no more than
/// `cap`: the count stops reading there, so a long list costs no more than `cap` rows.
pub(crate) fn count_capped(
    conn: &Connection,
    select: &str,
    mut params: Vec<rusqlite::types::Value>,
    cap: usize,
) -> Result<Option<usize>> {
    let sql = format!("SELECT count(*) FROM ({select} LIMIT ?)");
    params.push(rusqlite::types::Value::Integer(
        i64::try_from(cap).unwrap_or(i64::MAX - 1) + 1,
    ));
    let n: i64 = conn
        .prepare_cached(&sql)?
        .query_row(rusqlite::params_from_iter(params), |r| r.get(0))?;
    let n = usize::try_from(n).unwrap_or(usize::MAX);
    Ok((n <= cap).then_some(n))
}

/// One page of the rows `select` gives where `c` holds, in `order`, each read by `row`; and
/// whether more follow.
pub(crate) fn page_where<T>(
    conn: &Connection,
    select: &str,
    c: filter::Condition,
    order: &str,
    slice: super::Slice,
    row: impl FnMut(&rusqlite::Row) -> rusqlite::Result<T>,
) -> Result<(Vec<T>, bool)> {
    let mut params = c.params;
    params.extend(limit_offset(slice).map(rusqlite::types::Value::Integer));
    let sql = format!("{select} WHERE {} ORDER BY {order} LIMIT ? OFFSET ?", c.sql);
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(rusqlite::params_from_iter(params), row)?;
    Ok(slice.cut(rows.collect::<rusqlite::Result<_>>()?))
}

/// How many rows of `from` (a table and its alias) `c` holds for, up to `cap` (see
/// [`count_capped`]).
pub(crate) fn count_where(
    conn: &Connection,
    from: &str,
    c: filter::Condition,
    cap: usize,
) -> Result<Option<usize>> {
    let select = format!("SELECT 1 FROM {from} WHERE {}", c.sql);
    count_capped(conn, &select, c.params, cap)
}

/// Opens a connection with the settings every connection needs.
pub fn connect(path: &Path) -> Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| StoreError::Open {
        path: path.display().to_string(),
        source: Box::new(e.into()),
    })?;
    // WAL lets readers run beside the writer; synchronous=FULL makes an acknowledged commit
    // survive a crash of the process or the machine.
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    // The R-tree triggers call ST_* functions: every connection that writes must have them.
    gpkg::register_functions(&conn)?;
    // Preparing a write compiles the table's triggers (R-tree, map tiles) with it: keep the
    // statements of a request's path prepared (rusqlite keeps 16 by default).
    conn.set_prepared_statement_cache_capacity(256);
    Ok(conn)
}

/// The version of the counts' read model this build keeps; a database whose model is older (or
/// absent: made before it existed) has it rebuilt from the event log when opened.
const COUNTS_VERSION: i64 = 1;

fn counts_ready(conn: &mut Connection) -> Result<()> {
    use super::counts::Counts;
    use super::settings::Settings;
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let t = SqliteTx::new(&tx);
    let built = t.get("counts_version")?.and_then(|v| v.as_i64());
    if built != Some(COUNTS_VERSION) {
        let n = t.rebuild()?;
        t.set("counts_version", &serde_json::json!(COUNTS_VERSION))?;
        if n > 0 {
            tracing::info!(events = n, "clearance counts rebuilt from the event log");
        }
    }
    tx.commit()?;
    Ok(())
}

/// The SQLite database behind a [`super::Db`].
pub struct Engine {
    path: PathBuf,
    writer: Mutex<Connection>,
    readers: Readers,
}

/// The reading connections, kept open: opening one costs far more than a small query (the
/// schema is read, the functions registered, and its prepared statements start empty). At most
/// [`Readers::MAX`] are opened; a read beyond waits for one to come back rather than opening
/// and closing a connection of its own — unless it waits long (a read started inside another
/// one must never wait for itself), when it opens one that is closed afterwards.
struct Readers {
    /// Idle connections, and how many are open in all (idle or in use).
    pool: Mutex<(Vec<Connection>, usize)>,
    returned: std::sync::Condvar,
}

impl Readers {
    const MAX: usize = 16;
    const PATIENCE: std::time::Duration = std::time::Duration::from_millis(500);

    fn new() -> Readers {
        Readers {
            pool: Mutex::new((vec![], 0)),
            returned: std::sync::Condvar::new(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, (Vec<Connection>, usize)> {
        self.pool.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// An idle connection, or a new one; `true` with a connection to keep in the pool.
    fn take(&self, path: &Path) -> Result<(Connection, bool)> {
        let mut pool = self.lock();
        let started = std::time::Instant::now();
        loop {
            if let Some(c) = pool.0.pop() {
                return Ok((c, true));
            }
            if pool.1 < Self::MAX {
                pool.1 += 1;
                drop(pool);
                return match connect(path) {
                    Ok(c) => Ok((c, true)),
                    Err(e) => {
                        self.lock().1 -= 1;
                        Err(e)
                    }
                };
            }
            let waited = started.elapsed();
            if waited >= Self::PATIENCE {
                drop(pool);
                return Ok((connect(path)?, false));
            }
            pool = self
                .returned
                .wait_timeout(pool, Self::PATIENCE - waited)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
    }

    fn give_back(&self, conn: Connection) {
        self.lock().0.push(conn);
        self.returned.notify_one();
    }

    /// A pooled connection lost (its read panicked): another may be opened in its place.
    fn lost(&self) {
        self.lock().1 -= 1;
        self.returned.notify_one();
    }
}

/// One transaction (or, for reads, one connection) of the SQLite engine.
pub struct SqliteTx<'a> {
    conn: &'a Connection,
}

impl<'a> SqliteTx<'a> {
    /// A transaction over a connection the caller manages (its BEGIN and COMMIT).
    pub fn new(conn: &'a Connection) -> SqliteTx<'a> {
        SqliteTx { conn }
    }
}

// Unit tests build a database on a bare connection and look at its rows with SQL.
#[cfg(test)]
impl std::ops::Deref for SqliteTx<'_> {
    type Target = Connection;
    fn deref(&self) -> &Connection {
        self.conn
    }
}

impl Engine {
    /// Opens (creating if needed) and migrates the database.
    pub fn open(path: &Path, registry: &Registry) -> Result<Engine> {
        let mut writer = connect(path)?;
        // Each event touches a dozen indexes and the read model's tables: a writer cache of
        // 64 MB (SQLite's default is 2 MB) keeps their upper pages at hand instead of reading
        // them from the file on every write. Readers keep the default: there are 16 of them.
        writer.pragma_update(None, "cache_size", -65_536)?;
        // A statement that can fail halfway (a trigger, an upsert) first saves the pages it
        // changes to a statement journal; on disk that is a pwrite for each page, a third of a
        // report's writes. In memory it lives only as long as the statement.
        writer.pragma_update(None, "temp_store", "MEMORY")?;
        schema::migrate(&mut writer, registry)?;
        counts_ready(&mut writer)?;
        // Migrating tidies whole tables (the tiles' empty cells): their pages need not stay.
        writer.execute_batch("PRAGMA shrink_memory")?;
        Ok(Engine {
            path: path.to_path_buf(),
            writer: Mutex::new(writer),
            readers: Readers::new(),
        })
    }
}

impl super::Engine for Engine {
    fn path(&self) -> &Path {
        &self.path
    }

    /// The writer's cache, which a sweep fills: readers keep SQLite's small default.
    fn trim(&self) -> Result<()> {
        let conn = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        Ok(conn.execute_batch("PRAGMA shrink_memory")?)
    }

    /// An IMMEDIATE transaction on the writer: it takes SQLite's write lock at once, so two
    /// writers never deadlock upgrading a read.
    fn write(&self, f: &mut dyn FnMut(&dyn super::Tx) -> Result<bool>) -> Result<()> {
        let mut conn = self.writer.lock().unwrap_or_else(|p| p.into_inner());
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        if f(&SqliteTx::new(&tx))? {
            tx.commit()?;
        }
        Ok(())
    }

    /// A DEFERRED transaction on a pooled reader: every query of `f` sees one snapshot (WAL
    /// lets it run beside the writer), and it is rolled back, so nothing `f` wrote is kept.
    fn read(&self, f: &mut dyn FnMut(&dyn super::Tx)) -> Result<()> {
        let (mut conn, pooled) = self.readers.take(&self.path)?;
        let ran = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            conn.transaction().map(|tx| f(&SqliteTx::new(&tx)))
        }));
        match (ran, pooled) {
            (Ok(begun), true) => {
                self.readers.give_back(conn);
                Ok(begun?)
            }
            (Ok(begun), false) => Ok(begun?),
            (Err(panic), pooled) => {
                if pooled {
                    self.readers.lost();
                }
                std::panic::resume_unwind(panic)
            }
        }
    }
}

/// The store's parts, each the transaction itself: it implements every part's trait.
macro_rules! parts {
    ($($part:ident: $trait:path;)*) => {
        $(
            fn $part(&self) -> &dyn $trait {
                self
            }
        )*
    };
}

impl super::Tx for SqliteTx<'_> {
    parts! {
        counts: super::counts::Counts;
        areas: super::areas::Areas;
        features: super::features::Features;
        tiles: super::tiles::Tiles;
        dust_issues: super::dust_issues::DustIssues;
        fires: super::fires::Fires;
        notifications: super::notifications::Notifications;
        outbox: super::outbox::Outbox;
        webhooks: super::webhooks::Webhooks;
        settings: super::settings::Settings;
        dust_devices: super::dust::devices::Devices;
        dust_readings: super::dust::readings::Readings;
        dust_monitors: super::dust::monitors::Monitors;
        dust_alerts: super::dust::alerts::Alerts;
        dust_warnings: super::dust::warnings::Warnings;
        users: super::users::Users;
        audit: super::audit::Audit;
        photos: super::photos::Photos;
    }

    fn nested(&self, f: &mut dyn FnMut(&dyn super::Tx) -> Result<bool>) -> Result<()> {
        // A savepoint nests inside whatever transaction the connection is in (or starts one).
        self.conn.execute_batch("SAVEPOINT nested")?;
        match f(self) {
            Ok(true) => {
                self.conn.execute_batch("RELEASE nested")?;
                Ok(())
            }
            Ok(false) => {
                self.conn
                    .execute_batch("ROLLBACK TO nested; RELEASE nested")?;
                Ok(())
            }
            Err(e) => {
                self.conn
                    .execute_batch("ROLLBACK TO nested; RELEASE nested")?;
                Err(e)
            }
        }
    }
}

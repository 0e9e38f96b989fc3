//! The running application's shared state: the database, the layers, the responsibility index
//! and the rules.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use crate::domain::fire::Rules;
use crate::domain::responsibility::ResponsibilityIndex;
use crate::layers::Registry;
use crate::service::clearance::Names;
use crate::service::login_guard::{LoginGuard, LoginPolicy};
use crate::store::{Db, Result};

/// Cloned for every request (axum's state): each field is an `Arc` or as cheap.
#[derive(Clone)]
pub struct App {
    pub db: Db,
    pub registry: Arc<Registry>,
    /// The responsibility index and the names the clearance answers take from it, replaced
    /// together when the polygons change.
    index: Arc<RwLock<Indexed>>,
    pub rules: Arc<Rules>,
    /// The web app's files, served at `/`.
    pub web_dir: Option<Arc<Path>>,
    /// A raster tile URL template for the map's basemap (e.g. Tianditu with its key); none draws
    /// the vector layers on a plain background.
    pub tiles: Option<Arc<str>>,
    /// Origins besides the request's own host whose pages may write with the session cookie
    /// (a deployment behind a proxy that rewrites `Host`), as `scheme://host[:port]`.
    pub allowed_origins: Arc<[String]>,
    /// Sign-in limits: per address, per username, password hashes at once.
    pub login: Arc<LoginGuard>,
    /// Map tiles that were slow to make, kept by ETag.
    pub tiles_made: Arc<crate::service::tiles::Made>,
}

/// The index and what is derived from it once, not on every request.
struct Indexed {
    index: Arc<ResponsibilityIndex>,
    names: Arc<Names>,
}

impl Indexed {
    fn new(index: ResponsibilityIndex) -> Indexed {
        Indexed {
            names: Arc::new(Names::of(&index)),
            index: Arc::new(index),
        }
    }
}

/// Normalises a configured allowed origin (`https://gis.example.org/` → `https://gis.example.org`),
/// the form `http::security` compares a request's origin with.
pub fn normalise_origin(o: &str) -> String {
    o.trim().trim_end_matches('/').to_ascii_lowercase()
}

/// The rules in force: the defaults, overridden by the `rules` setting in the database.
pub fn load_rules(db: &Db) -> Result<Rules> {
    db.read_blocking(|tx| crate::service::rules::fire(tx))
}

impl App {
    pub fn new(db: Db, registry: Registry, web_dir: Option<PathBuf>) -> Result<App> {
        let rules = load_rules(&db)?;
        let index = db.read_blocking(|tx| tx.areas().load().map(ResponsibilityIndex::new))?;
        Ok(App {
            db,
            registry: Arc::new(registry),
            index: Arc::new(RwLock::new(Indexed::new(index))),
            rules: Arc::new(rules),
            web_dir: web_dir.map(Arc::from),
            tiles: None,
            allowed_origins: Arc::new([]),
            login: Arc::new(LoginGuard::new(LoginPolicy::default())),
            tiles_made: Arc::default(),
        })
    }

    /// Sets the basemap tile URL template.
    pub fn with_tiles(mut self, tiles: Option<String>) -> App {
        self.tiles = tiles.filter(|t| !t.trim().is_empty()).map(Arc::from);
        self
    }

    /// Sets the origins allowed to write with the session cookie besides the request's own host.
    pub fn with_allowed_origins(mut self, origins: &[String]) -> App {
        self.allowed_origins = origins
            .iter()
            .map(|o| normalise_origin(o))
            .filter(|o| !o.is_empty())
            .collect();
        self
    }

    /// Replaces the sign-in limits (tests shorten them).
    pub fn with_login_policy(mut self, policy: LoginPolicy) -> App {
        self.login = Arc::new(LoginGuard::new(policy));
        self
    }

    /// The current responsibility index (cheap: an Arc).
    pub fn index(&self) -> Arc<ResponsibilityIndex> {
        self.index
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .index
            .clone()
    }

    /// The districts' and mines' names of the current index (cheap: an Arc).
    pub fn names(&self) -> Arc<Names> {
        self.index
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .names
            .clone()
    }

    /// Rebuilds the index after the polygons changed.
    pub fn reload_index(&self) -> Result<()> {
        let index = self
            .db
            .read_blocking(|tx| tx.areas().load().map(ResponsibilityIndex::new))?;
        *self.index.write().unwrap_or_else(|p| p.into_inner()) = Indexed::new(index);
        Ok(())
    }
}

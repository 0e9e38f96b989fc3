//! The demo database: layers imported from `samples/`, one account per role, every sample fire
//! and dust violation replayed through the same rules as live reports (so their histories are
//! ones the rules allow), and the demo's dust monitors with synthetic readings.

mod dust_issues;
mod fires;

use std::path::Path;

use chrono::{DateTime, Duration, Utc};

use crate::domain::deadline::local_date;
use crate::domain::responsibility::{ResponsibilityIndex, Responsible};
use crate::domain::role::{Actor, Role};
use crate::error::{Error, Result};
use crate::i18n::Lang;
use crate::layers::Registry;
use crate::service::import::import_geojson;
use crate::store::users::{self, NewUser};
use crate::store::{Db, StoreError, Tx};

/// A demo account: (username, password, role, district, holder).
pub type Account = (
    &'static str,
    &'static str,
    Role,
    Option<&'static str>,
    Option<&'static str>,
);

/// The demo accounts, listed in the README.
pub const ACCOUNTS: &[Account] = &[
    ("manager", "qingling-manager", Role::Manager, None, None),
    (
        "district",
        "qingling-district",
        Role::District,
        Some("150303"),
        None,
    ),
    (
        "owner",
        "qingling-owner",
        Role::Owner,
        None,
        Some("骆驼山示例煤业有限公司"),
    ),
    ("patrol", "qingling-patrol", Role::Patrol, None, None),
];

/// The layers, in the order they depend on each other.
const LAYERS: &[&str] = &["districts", "mines", "waste_dumps", "gangue_heaps"];

fn io(path: &Path, e: std::io::Error) -> Error {
    Error::Store(StoreError::Worker(format!("{}: {e}", path.display())))
}

fn bad_sample(e: impl std::fmt::Display) -> Error {
    Error::invalid("bad_json").arg("detail", e.to_string())
}

/// The actor a sample history names (`owner`, `district`, `patrol`, else the manager), bound to
/// the case's party: the demo account where it is that party, else one named after it.
fn actor_for(name: &str, r: &Responsible) -> Actor {
    let (username, role, district, holder) = match name {
        "owner" => {
            let holder = r.holder().unwrap_or_default().to_string();
            let demo = ACCOUNTS
                .iter()
                .find(|a| a.2 == Role::Owner)
                .and_then(|a| a.4);
            let username = if demo == Some(holder.as_str()) {
                "owner".to_string()
            } else {
                holder.clone()
            };
            (username, Role::Owner, None, Some(holder))
        }
        "district" => (
            if r.district_code == "150303" {
                "district".to_string()
            } else {
                format!("district-{}", r.district_code)
            },
            Role::District,
            Some(r.district_code.clone()),
            None,
        ),
        "patrol" => ("patrol".into(), Role::Patrol, None, None),
        _ => ("manager".into(), Role::Manager, None, None),
    };
    Actor {
        username,
        role,
        district,
        holder,
    }
}

/// The patrol who reports every sample case.
fn patrol() -> Actor {
    Actor {
        username: "patrol".into(),
        role: Role::Patrol,
        district: None,
        holder: None,
    }
}

/// How far sample times move forward so that the newest is yesterday (the data stay "from the
/// last 12 months").
fn shift(newest: DateTime<Utc>, now: DateTime<Utc>) -> Duration {
    Duration::days((local_date(now) - local_date(newest)).num_days() - 1).max(Duration::zero())
}

/// The responsibility index of the polygons imported so far.
fn index(db: &Db) -> Result<ResponsibilityIndex> {
    Ok(db.read_blocking(|tx| tx.areas().load().map(ResponsibilityIndex::new))?)
}

/// Builds a demo database at `db` from the sample folder, shifting sample times forward so the
/// newest is yesterday.
pub fn build(db: &Db, registry: &Registry, samples: &Path, now: DateTime<Utc>) -> Result<()> {
    for layer in LAYERS {
        let path = samples.join(format!("{layer}.geojson"));
        let text = std::fs::read_to_string(&path).map_err(|e| io(&path, e))?;
        db.write_blocking(|tx| import_geojson(tx, registry, layer, &text, Lang::En))?;
    }
    db.write_blocking(|tx| {
        for (username, password, role, district, holder) in ACCOUNTS {
            let u = NewUser {
                username,
                password,
                role: *role,
                district: *district,
                holder: *holder,
            };
            users::add(tx, &u, now).map_err(|e| Error::Store(StoreError::Worker(e.to_string())))?;
        }
        Ok::<_, Error>(())
    })?;
    fires::build(db, registry, samples, now)?;
    dust_issues::build(db, registry, samples, now)?;
    crate::service::demo_dust::build(db, registry, samples, now)
}

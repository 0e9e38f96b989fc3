//! The demo database: layers imported from `samples/`, one account per role, every sample fire
//! and dust violation replayed through the same rules as live reports (so their histories are
//! ones the rules allow), and the demo's dust monitors with synthetic readings.

mod dust;
mod dust_issues;
mod fires;

use std::path::Path;

use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::domain::deadline::local_date;
use crate::domain::responsibility::{ResponsibilityIndex, Responsible};
use crate::domain::role::{Actor, Role};
use crate::error::{Error, Result};
use crate::i18n::Lang;
use crate::layers::Registry;
use crate::service::case::Ctx;
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

/// A step of a sample case's history: an action, when and by whom (`owner`, `district`, …), and
/// the action's inputs.
#[derive(Deserialize)]
struct Step {
    action: String,
    at: DateTime<chrono::FixedOffset>,
    actor: String,
    #[serde(flatten)]
    rest: serde_json::Map<String, Value>,
}

impl Step {
    /// An input of the action, as text.
    fn text(&self, k: &str) -> Option<String> {
        self.rest.get(k).and_then(Value::as_str).map(String::from)
    }
}

/// One thing that happened to a sample case, for replay in time order: its report (the feature
/// as a patrol sends it) or a step of its history.
enum Op {
    Report {
        at: DateTime<Utc>,
        feature: Value,
    },
    Step {
        at: DateTime<Utc>,
        /// The case's id.
        id: String,
        step: Step,
    },
}

impl Op {
    fn at(&self) -> DateTime<Utc> {
        match self {
            Op::Report { at, .. } | Op::Step { at, .. } => *at,
        }
    }
}

/// The sample cases in `text` (a FeatureCollection whose features carry their id in the property
/// `id`, their `reported_at` and their `history`) as reports and steps in time order, with how
/// far their times move forward so that the newest is yesterday (the data stay "from the last
/// 12 months"). A case without a `reported_at` is left out when `untimed_ok`, refused otherwise.
fn replay_order(
    text: &str,
    id: &str,
    untimed_ok: bool,
    now: DateTime<Utc>,
) -> Result<(Vec<Op>, Duration)> {
    let fc: Value = serde_json::from_str(text).map_err(bad_sample)?;
    let mut ops = vec![];
    for f in fc["features"].as_array().cloned().unwrap_or_default() {
        let p = &f["properties"];
        let case = p[id].as_str().unwrap_or_default().to_string();
        let at = p["reported_at"]
            .as_str()
            .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
            .map(|t| t.with_timezone(&Utc));
        let at = match at {
            Some(at) => at,
            None if untimed_ok => continue,
            None => return Err(bad_sample(format!("{case}: reported_at"))),
        };
        for step in p["history"].as_array().cloned().unwrap_or_default() {
            let step: Step = serde_json::from_value(step).map_err(bad_sample)?;
            ops.push(Op::Step {
                at: step.at.with_timezone(&Utc),
                id: case.clone(),
                step,
            });
        }
        let mut props = p.as_object().cloned().unwrap_or_default();
        for k in ["history", "reported_at", "reported_by"] {
            props.remove(k);
        }
        let feature = json!({"type": "Feature", "geometry": f["geometry"], "properties": props});
        ops.push(Op::Report { at, feature });
    }
    ops.sort_by_key(Op::at);
    let newest = ops.last().map_or(now, Op::at);
    let shift =
        Duration::days((local_date(now) - local_date(newest)).num_days() - 1).max(Duration::zero());
    Ok((ops, shift))
}

/// What a replay does with each kind of op, inside its transaction, at the op's time moved
/// forward by `shift` (dates a step carries move with it).
trait Replayer {
    fn report(&self, tx: &dyn Tx, feature: &Value, at: DateTime<Utc>) -> Result<()>;
    fn step(
        &self,
        tx: &dyn Tx,
        case: &str,
        step: &Step,
        at: DateTime<Utc>,
        shift: Duration,
    ) -> Result<()>;
}

/// Replays the sample cases of `samples/{file}` (each keyed by its property `id`) in one write
/// transaction, in time order, times moved forward by the shift [`replay_order`] finds; then
/// `finish`. A step the rules refuse stops the build, named in the log.
fn replay(
    b: &Build,
    path: &Path,
    id: &str,
    untimed_ok: bool,
    with: &dyn Replayer,
    finish: impl FnOnce(&dyn Tx) -> Result<()>,
) -> Result<()> {
    let text = std::fs::read_to_string(path).map_err(|e| io(path, e))?;
    let (ops, shift) = replay_order(&text, id, untimed_ok, b.now)?;
    b.db.write_blocking(|tx| {
        for op in ops {
            let at = op.at() + shift;
            match op {
                Op::Report { feature, .. } => with.report(tx, &feature, at)?,
                Op::Step { id, step, .. } => with.step(tx, &id, &step, at, shift).inspect_err(|e| {
                    tracing::error!(case = %id, action = %step.action, "sample step refused: {}", e.message(Lang::En));
                })?,
            }
        }
        finish(tx)
    })
}

/// What each part of the demo is built from and into: the database, the layers, the sample
/// folder and the build time (sample times move up to it).
struct Build<'a> {
    db: &'a Db,
    registry: &'a Registry,
    samples: &'a Path,
    now: DateTime<Utc>,
    /// Who answers where, from the imported polygons.
    index: ResponsibilityIndex,
}

impl Build<'_> {
    /// What a case service's use cases need, under `rules`.
    fn ctx<'a, R>(&'a self, rules: &'a R) -> Ctx<'a, R> {
        Ctx {
            registry: self.registry,
            index: &self.index,
            rules,
        }
    }
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
    let b = Build {
        db,
        registry,
        samples,
        now,
        index: index(db)?,
    };
    fires::build(&b)?;
    dust_issues::build(&b)?;
    dust::build(&b)
}

//! The demo database: layers imported from `samples/`, one account per role, and every sample
//! fire replayed through the same rules as live reports, so its history is one the rules allow.

use std::path::Path;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::domain::deadline::local_date;
use crate::domain::fire::Rules;
use crate::domain::responsibility::ResponsibilityIndex;
use crate::domain::role::{Actor, Role};
use crate::error::{Error, Result};
use crate::i18n::Lang;
use crate::layers::Registry;
use crate::service::fires::{self, ActionInput, Ctx};
use crate::service::import::import_geojson;
use crate::store::users::{self, NewUser};
use crate::store::{Db, StoreError, areas};

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

#[derive(Deserialize)]
struct Step {
    action: String,
    at: DateTime<chrono::FixedOffset>,
    actor: String,
    #[serde(flatten)]
    rest: serde_json::Map<String, Value>,
}

/// One thing that happened, for replay in time order.
enum Op {
    Report {
        at: DateTime<Utc>,
        feature: Value,
    },
    Act {
        at: DateTime<Utc>,
        fire: String,
        step: Step,
    },
}

impl Op {
    fn at(&self) -> DateTime<Utc> {
        match self {
            Op::Report { at, .. } | Op::Act { at, .. } => *at,
        }
    }
}

fn io(path: &Path, e: std::io::Error) -> Error {
    Error::Store(StoreError::Worker(format!("{}: {e}", path.display())))
}

/// The actor a sample history names, bound to the fire's party.
fn actor_for(name: &str, fire: &crate::store::fires::FireRecord) -> Actor {
    let r = &fire.responsible;
    match name {
        "owner" => {
            let holder = r.holder().unwrap_or_default().to_string();
            let username = if Some(holder.as_str()) == ACCOUNTS[2].4 {
                "owner".to_string()
            } else {
                holder.clone()
            };
            Actor {
                username,
                role: Role::Owner,
                district: None,
                holder: Some(holder),
            }
        }
        "district" => Actor {
            username: if r.district_code == "150303" {
                "district".into()
            } else {
                format!("district-{}", r.district_code)
            },
            role: Role::District,
            district: Some(r.district_code.clone()),
            holder: None,
        },
        "patrol" => Actor {
            username: "patrol".into(),
            role: Role::Patrol,
            district: None,
            holder: None,
        },
        _ => Actor {
            username: "manager".into(),
            role: Role::Manager,
            district: None,
            holder: None,
        },
    }
}

/// Builds a demo database at `db` from the sample folder, shifting sample times forward so the
/// newest is yesterday (the data stay "from the last 12 months").
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
    let path = samples.join("fire_points.geojson");
    let text = std::fs::read_to_string(&path).map_err(|e| io(&path, e))?;
    let fc: Value = serde_json::from_str(&text)
        .map_err(|e| Error::invalid("bad_json").arg("detail", e.to_string()))?;
    let mut ops = vec![];
    for f in fc["features"].as_array().cloned().unwrap_or_default() {
        let p = &f["properties"];
        let id = p["id"].as_str().unwrap_or_default().to_string();
        let at = p["reported_at"]
            .as_str()
            .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
            .map(|t| t.with_timezone(&Utc));
        let Some(at) = at else { continue };
        for step in p["history"].as_array().cloned().unwrap_or_default() {
            let step: Step = serde_json::from_value(step)
                .map_err(|e| Error::invalid("bad_json").arg("detail", e.to_string()))?;
            ops.push(Op::Act {
                at: step.at.with_timezone(&Utc),
                fire: id.clone(),
                step,
            });
        }
        let mut props = p.as_object().cloned().unwrap_or_default();
        for k in ["history", "reported_at", "reported_by"] {
            props.remove(k);
        }
        ops.push(Op::Report {
            at,
            feature: json!({"type": "Feature", "geometry": f["geometry"], "properties": props}),
        });
    }
    ops.sort_by_key(Op::at);
    let newest = ops.last().map_or(now, Op::at);
    let shift =
        Duration::days((local_date(now) - local_date(newest)).num_days() - 1).max(Duration::zero());
    let rules = Rules::default();
    let index = db.read_blocking(|c| areas::load(c).map(ResponsibilityIndex::new))?;
    let ctx = Ctx {
        registry,
        index: &index,
        rules: &rules,
    };
    let patrol = Actor {
        username: "patrol".into(),
        role: Role::Patrol,
        district: None,
        holder: None,
    };
    db.write_blocking(|tx| {
        for op in ops {
            let at = op.at() + shift;
            match op {
                Op::Report { feature, .. } => {
                    fires::report(tx, &ctx, &patrol, &feature, at)?;
                }
                Op::Act { fire, step, .. } => {
                    let record = crate::store::Tx::fires(tx).get(&fire)?.ok_or_else(|| Error::not_found("fire"))?;
                    // The rules may already have extinguished it from the inspections.
                    if step.action == "extinguish" && record.status == crate::domain::fire::Status::Extinguished {
                        continue;
                    }
                    let mut input: ActionInput = serde_json::from_value(json!({"action": step.action}))
                        .map_err(|e| Error::invalid("bad_json").arg("detail", e.to_string()))?;
                    let s = |k: &str| step.rest.get(k).and_then(Value::as_str).map(String::from);
                    input.note = s("note");
                    input.reason = s("reason");
                    input.method = s("method");
                    input.duplicate_of = s("duplicate_of");
                    input.temp_c = step.rest.get("temp_c").and_then(Value::as_f64);
                    input.co_ppm = step.rest.get("co_ppm").and_then(Value::as_f64);
                    input.plan_due = s("plan_due").and_then(|d| NaiveDate::parse_from_str(&d, "%Y-%m-%d").ok()).map(|d| (d + shift).to_string());
                    let actor = actor_for(&step.actor, &record);
                    fires::act(tx, &ctx, &actor, &fire, &input, at).inspect_err(|e| {
                        tracing::error!(fire = %record.code, action = %step.action, "sample step refused: {}", e.message(Lang::En));
                    })?;
                }
            }
        }
        fires::sweep(tx, now, &rules)?;
        Ok::<_, Error>(())
    })?;
    super::dust_issues::build_demo(db, registry, samples, now)?;
    super::demo_dust::build(db, registry, samples, now)
}

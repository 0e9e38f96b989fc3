//! The sample fires (`samples/fire_points.geojson`): each report and each step of its history
//! replayed in time order through `service::fires`, then the sweep, so that their state is one
//! the rules reach.

use std::path::Path;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{actor_for, bad_sample, index, io, patrol, shift};
use crate::domain::fire::{Rules, Status};
use crate::error::{Error, Result};
use crate::i18n::Lang;
use crate::layers::Registry;
use crate::service::fires::{self, ActionInput, Ctx};
use crate::store::Db;

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

/// Replays the sample fires into `db`.
pub(super) fn build(
    db: &Db,
    registry: &Registry,
    samples: &Path,
    now: DateTime<Utc>,
) -> Result<()> {
    let path = samples.join("fire_points.geojson");
    let text = std::fs::read_to_string(&path).map_err(|e| io(&path, e))?;
    let fc: Value = serde_json::from_str(&text).map_err(bad_sample)?;
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
            let step: Step = serde_json::from_value(step).map_err(bad_sample)?;
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
    let shift = shift(ops.last().map_or(now, Op::at), now);
    let rules = Rules::default();
    let index = index(db)?;
    let ctx = Ctx {
        registry,
        index: &index,
        rules: &rules,
    };
    let patrol = patrol();
    db.write_blocking(|tx| {
        for op in ops {
            let at = op.at() + shift;
            match op {
                Op::Report { feature, .. } => {
                    fires::report(tx, &ctx, &patrol, &feature, at)?;
                }
                Op::Act { fire, step, .. } => {
                    let record = crate::store::fires::get(tx, &fire)?.ok_or_else(|| Error::not_found("fire"))?;
                    // The rules may already have extinguished it from the inspections.
                    if step.action == "extinguish" && record.status == Status::Extinguished {
                        continue;
                    }
                    let mut input: ActionInput = serde_json::from_value(json!({"action": step.action}))
                        .map_err(bad_sample)?;
                    let s = |k: &str| step.rest.get(k).and_then(Value::as_str).map(String::from);
                    input.note = s("note");
                    input.reason = s("reason");
                    input.method = s("method");
                    input.duplicate_of = s("duplicate_of");
                    input.temp_c = step.rest.get("temp_c").and_then(Value::as_f64);
                    input.co_ppm = step.rest.get("co_ppm").and_then(Value::as_f64);
                    input.plan_due = s("plan_due").and_then(|d| NaiveDate::parse_from_str(&d, "%Y-%m-%d").ok()).map(|d| (d + shift).to_string());
                    let actor = actor_for(&step.actor, &record.responsible);
                    fires::act(tx, &ctx, &actor, &fire, &input, at).inspect_err(|e| {
                        tracing::error!(fire = %record.code, action = %step.action, "sample step refused: {}", e.message(Lang::En));
                    })?;
                }
            }
        }
        fires::sweep(tx, now, &rules)?;
        Ok::<_, Error>(())
    })
}

//! The sample fires (`samples/fire_points.geojson`): each report and each step of its history
//! replayed in time order through `service::fires`, then the sweep, so that their state is one
//! the rules reach.

use std::path::Path;

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{Value, json};

use super::{Op, actor_for, bad_sample, index, io, patrol, replay_order};
use crate::domain::fire::{Rules, Status};
use crate::error::{Error, Result};
use crate::i18n::Lang;
use crate::layers::Registry;
use crate::service::fires::{self, ActionInput, Ctx};
use crate::store::Db;

/// Replays the sample fires into `db`.
pub(super) fn build(
    db: &Db,
    registry: &Registry,
    samples: &Path,
    now: DateTime<Utc>,
) -> Result<()> {
    let path = samples.join("fire_points.geojson");
    let text = std::fs::read_to_string(&path).map_err(|e| io(&path, e))?;
    let (ops, shift) = replay_order(&text, "id", true, now)?;
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
                Op::Step { id: fire, step, .. } => {
                    let record = crate::store::Tx::fires(tx).get(&fire)?.ok_or_else(|| Error::not_found("fire"))?;
                    // The rules may already have extinguished it from the inspections.
                    if step.action == "extinguish" && record.status == Status::Extinguished {
                        continue;
                    }
                    let mut input: ActionInput = serde_json::from_value(json!({"action": step.action}))
                        .map_err(bad_sample)?;
                    let s = |k: &str| step.text(k);
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

//! The sample fires (`samples/fire_points.geojson`): each report and each step of its history
//! replayed in time order through `service::fires`, then the sweep, so that their state is one
//! the rules reach.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde_json::{Value, json};

use super::{Build, Replayer, Step, actor_for, bad_sample, patrol, replay};
use crate::domain::fire::{Rules, Status};
use crate::domain::role::Actor;
use crate::error::{Error, Result};
use crate::service::fires::{self, ActionInput, Ctx};
use crate::store::Tx;

/// Replays the sample fires into `db`.
pub(super) fn build(b: &Build) -> Result<()> {
    let rules = Rules::default();
    let path = b.samples.join("fire_points.geojson");
    // The rules extinguish controlled fires whose readings stayed low: the sweep settles them.
    let sweep = |tx: &dyn Tx| fires::sweep(tx, b.now, &rules).map(|_| ());
    replay(
        b,
        &path,
        "id",
        true,
        &Fires {
            ctx: b.ctx(&rules),
            patrol: patrol(),
        },
        sweep,
    )
}

struct Fires<'a> {
    ctx: Ctx<'a>,
    patrol: Actor,
}

impl Replayer for Fires<'_> {
    fn report(&self, tx: &dyn Tx, feature: &Value, at: DateTime<Utc>) -> Result<()> {
        fires::report(tx, &self.ctx, &self.patrol, feature, at).map(|_| ())
    }

    fn step(
        &self,
        tx: &dyn Tx,
        fire: &str,
        step: &Step,
        at: DateTime<Utc>,
        shift: Duration,
    ) -> Result<()> {
        let record = tx
            .fires()
            .get(fire)?
            .ok_or_else(|| Error::not_found("fire"))?;
        // The rules may already have extinguished it from the inspections.
        if step.action == "extinguish" && record.status == Status::Extinguished {
            return Ok(());
        }
        let mut input: ActionInput =
            serde_json::from_value(json!({"action": step.action})).map_err(bad_sample)?;
        let s = |k: &str| step.text(k);
        input.note = s("note");
        input.reason = s("reason");
        input.method = s("method");
        input.duplicate_of = s("duplicate_of");
        input.temp_c = step.rest.get("temp_c").and_then(Value::as_f64);
        input.co_ppm = step.rest.get("co_ppm").and_then(Value::as_f64);
        input.plan_due = s("plan_due")
            .and_then(|d| NaiveDate::parse_from_str(&d, "%Y-%m-%d").ok())
            .map(|d| (d + shift).to_string());
        let actor = actor_for(&step.actor, &record.responsible);
        fires::act(tx, &self.ctx, &actor, fire, &input, at).map(|_| ())
    }
}

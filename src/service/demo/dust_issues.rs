//! The sample dust violations (`samples/dust_issues.geojson`, if the folder has one): each report
//! and each step of its history replayed in time order through `service::dust_issues`.

use chrono::{DateTime, Duration, Utc};
use serde_json::Value;

use super::{Build, Replayer, Step, actor_for, patrol, replay};
use crate::domain::role::Actor;
use crate::error::{Error, Result};
use crate::service::dust_issues::{ActionInput, Ctx, act, report};
use crate::store::Tx;

/// Replays the sample violations into `db`, times shifted as the fires' are.
pub(super) fn build(b: &Build) -> Result<()> {
    let path = b.samples.join("dust_issues.geojson");
    if !path.exists() {
        return Ok(());
    }
    let rules =
        b.db.read_blocking(|tx| crate::service::rules::dust_issues(tx))?;
    let with = Issues {
        ctx: b.ctx(&rules),
        patrol: patrol(),
    };
    replay(b, &path, "uuid", false, &with, |_| Ok(()))
}

struct Issues<'a> {
    ctx: Ctx<'a>,
    patrol: Actor,
}

impl Replayer for Issues<'_> {
    fn report(&self, tx: &dyn Tx, feature: &Value, at: DateTime<Utc>) -> Result<()> {
        report(tx, &self.ctx, &self.patrol, feature, at).map(|_| ())
    }

    fn step(
        &self,
        tx: &dyn Tx,
        uuid: &str,
        step: &Step,
        at: DateTime<Utc>,
        _shift: Duration,
    ) -> Result<()> {
        let issue = tx
            .dust_issues()
            .get(uuid)?
            .ok_or_else(|| Error::not_found("dust_issue"))?;
        let actor = actor_for(&step.actor, &issue.responsible);
        let input = ActionInput {
            action: step.action.clone(),
            note: step.text("note"),
            id: None,
            observed_at: None,
        };
        act(tx, &self.ctx, &actor, uuid, &input, at).map(|_| ())
    }
}

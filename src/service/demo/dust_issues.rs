//! The sample dust violations (`samples/dust_issues.geojson`, if the folder has one): each report
//! and each step of its history replayed in time order through `service::dust_issues`.

use std::path::Path;

use chrono::{DateTime, Utc};

use super::{Op, actor_for, index, io, patrol, replay_order};
use crate::error::{Error, Result};
use crate::i18n::Lang;
use crate::layers::Registry;
use crate::service::dust_issues::{ActionInput, Ctx, act, report};
use crate::store::Db;

/// Replays the sample violations into `db`, times shifted as the fires' are.
pub(super) fn build(
    db: &Db,
    registry: &Registry,
    samples: &Path,
    now: DateTime<Utc>,
) -> Result<()> {
    let path = samples.join("dust_issues.geojson");
    if !path.exists() {
        return Ok(());
    }
    let text = std::fs::read_to_string(&path).map_err(|e| io(&path, e))?;
    let (ops, shift) = replay_order(&text, "uuid", false, now)?;
    let index = index(db)?;
    let issue_rules = db.read_blocking(|c| crate::service::rules::dust_issues(c))?;
    let ctx = Ctx {
        registry,
        index: &index,
        rules: &issue_rules,
    };
    let patrol = patrol();
    db.write_blocking(|tx| {
        for op in ops {
            let at = op.at() + shift;
            match op {
                Op::Report { feature, .. } => {
                    report(tx, &ctx, &patrol, &feature, at)?;
                }
                Op::Step { id: uuid, step, .. } => {
                    let issue = crate::store::Tx::dust_issues(tx).get(&uuid)?.ok_or_else(|| Error::not_found("dust_issue"))?;
                    let actor = actor_for(&step.actor, &issue.responsible);
                    let input = ActionInput {
                        action: step.action.clone(),
                        note: step.text("note"),
                        id: None,
                        observed_at: None,
                    };
                    act(tx, &ctx, &actor, &uuid, &input, at).inspect_err(|e| {
                        tracing::error!(issue = %issue.code, action = %step.action, "sample step refused: {}", e.message(Lang::En));
                    })?;
                }
            }
        }
        Ok::<_, Error>(())
    })
}

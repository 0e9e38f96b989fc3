//! The sample dust violations (`samples/dust_issues.geojson`, if the folder has one): each report
//! and each step of its history replayed in time order through `service::dust_issues`.

use std::path::Path;

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{actor_for, bad_sample, index, io, patrol, shift};
use crate::error::{Error, Result};
use crate::i18n::Lang;
use crate::layers::Registry;
use crate::service::dust_issues::{ActionInput, Ctx, act, load_rules, report};
use crate::store::Db;

/// One step of a sample violation's history.
#[derive(Deserialize)]
struct SampleStep {
    action: String,
    at: DateTime<chrono::FixedOffset>,
    actor: String,
    #[serde(default)]
    note: Option<String>,
}

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
    let fc: Value = serde_json::from_str(&text).map_err(bad_sample)?;
    // (at, uuid, Some(step)) for actions, (at, uuid, None) with the feature for reports.
    let mut ops: Vec<(DateTime<Utc>, String, Option<SampleStep>, Value)> = vec![];
    for f in fc["features"].as_array().cloned().unwrap_or_default() {
        let p = &f["properties"];
        let uuid = p["uuid"].as_str().unwrap_or_default().to_string();
        let at = p["reported_at"]
            .as_str()
            .and_then(|s| DateTime::parse_from_rfc3339(s).ok())
            .ok_or_else(|| bad_sample(format!("{uuid}: reported_at")))?
            .with_timezone(&Utc);
        for step in p["history"].as_array().cloned().unwrap_or_default() {
            let step: SampleStep = serde_json::from_value(step).map_err(bad_sample)?;
            ops.push((
                step.at.with_timezone(&Utc),
                uuid.clone(),
                Some(step),
                Value::Null,
            ));
        }
        let mut props = p.as_object().cloned().unwrap_or_default();
        for k in ["history", "reported_at", "reported_by"] {
            props.remove(k);
        }
        let feature = json!({"type": "Feature", "geometry": f["geometry"], "properties": props});
        ops.push((at, uuid, None, feature));
    }
    ops.sort_by_key(|o| o.0);
    let shift = shift(ops.last().map_or(now, |o| o.0), now);
    let index = index(db)?;
    let issue_rules = db.read_blocking(|c| load_rules(c))?;
    let ctx = Ctx {
        registry,
        index: &index,
        rules: &issue_rules,
    };
    let patrol = patrol();
    db.write_blocking(|tx| {
        for (at, uuid, step, feature) in ops {
            let at = at + shift;
            match step {
                None => {
                    report(tx, &ctx, &patrol, &feature, at)?;
                }
                Some(step) => {
                    let issue = crate::store::dust_issues::get(tx, &uuid)?.ok_or_else(|| Error::not_found("dust_issue"))?;
                    let actor = actor_for(&step.actor, &issue.responsible);
                    let input = ActionInput {
                        action: step.action.clone(),
                        note: step.note.clone(),
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

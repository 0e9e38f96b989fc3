//! `qingling rules`: shows the rules in force and changes them (`--set key=value`), e.g.
//! `--set deadlines.waste_dump_hours=48 --set code_prefix=WH`; with `--dust`, the dust rules
//! (limits, upwind sector, wind threshold, measures per warning level), e.g.
//! `--dust --set pm10_day_ug=120 --set 'measures.yellow=["spray_roads"]'`; with `--dust-issues`,
//! the dust violation rules (`--set deadline_days=5`). Values are checked by parsing the whole
//! rule set before anything is saved.

use std::path::PathBuf;
use std::process::ExitCode;

use serde_json::Value;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::domain::dust::DustRules;
use crate::domain::dust_issue::DustIssueRules;
use crate::domain::fire::Rules;
use crate::service::rules;
use crate::store::Tx;

#[derive(clap::Args)]
pub struct Args {
    #[arg(long)]
    db: PathBuf,
    /// `path=value`, dotted for nested rules; repeatable.
    #[arg(long = "set", value_name = "KEY=VALUE")]
    set: Vec<String>,
    /// Show or change the dust rules (the checker reads them every minute: no restart needed).
    #[arg(long, conflicts_with = "dust_issues")]
    dust: bool,
    /// Show or change the dust violation rules (deadline days, code prefix; read per request).
    #[arg(long)]
    dust_issues: bool,
}

/// Applies `a.b=value` to a JSON object; the value is read as JSON if it parses, else as text.
pub fn apply(rules: &mut Value, assignment: &str) -> Result<(), String> {
    let (path, raw) = assignment
        .split_once('=')
        .ok_or_else(|| format!("{assignment:?}: expected KEY=VALUE"))?;
    let value = serde_json::from_str(raw).unwrap_or_else(|_| Value::String(raw.to_string()));
    let mut node = rules;
    let keys: Vec<&str> = path.split('.').collect();
    for (i, key) in keys.iter().enumerate() {
        let obj = node
            .as_object_mut()
            .ok_or_else(|| format!("{path}: not an object at {key}"))?;
        if !obj.contains_key(*key) {
            let known: Vec<&String> = obj.keys().collect();
            return Err(format!("unknown rule {path:?}; known here: {known:?}"));
        }
        if i + 1 == keys.len() {
            obj.insert((*key).to_string(), value);
            return Ok(());
        }
        node = obj
            .get_mut(*key)
            .ok_or_else(|| format!("{path}: missing {key}"))?;
    }
    Err(format!("{assignment:?}: empty key"))
}

pub fn run(args: Args) -> ExitCode {
    let (db, _) = open_or_exit!(&args.db);
    if args.dust {
        return edit_setting(
            &db,
            rules::DUST,
            &args.set,
            rules::dust,
            DustRules::problems,
        );
    }
    if args.dust_issues {
        return edit_setting(
            &db,
            rules::DUST_ISSUES,
            &args.set,
            rules::dust_issues,
            DustIssueRules::problems,
        );
    }
    edit_setting(&db, rules::FIRE, &args.set, rules::fire, |r: &Rules| {
        let bad = r.threshold_c <= 0.0
            || r.observation_days < 0
            || r.watch_days < 0
            || r.code_prefix.trim().is_empty();
        if bad {
            vec![
                "the threshold must be above 0 °C, periods not negative, the code prefix not empty"
                    .into(),
            ]
        } else {
            vec![]
        }
    })
}

/// A rule set kept in one setting: read, changed by `--set`, checked whole, saved, shown.
#[allow(clippy::print_stdout)] // The rules are this command's output.
fn edit_setting<T: Serialize + DeserializeOwned>(
    db: &crate::store::Db,
    key: &str,
    set: &[String],
    load: impl FnOnce(&dyn Tx) -> crate::store::Result<T>,
    problems: impl FnOnce(&T) -> Vec<String>,
) -> ExitCode {
    let current = match db.read_blocking(|c| load(c)) {
        Ok(r) => r,
        Err(e) => return super::fail(e),
    };
    let mut json = serde_json::to_value(&current).unwrap_or(Value::Null);
    for s in set {
        if let Err(e) = apply(&mut json, s) {
            return super::fail(e);
        }
    }
    let rules: T = match serde_json::from_value(json.clone()) {
        Ok(r) => r,
        Err(e) => return super::fail(format!("invalid {key}: {e}")),
    };
    let problems = problems(&rules);
    if !problems.is_empty() {
        return super::fail(format!("invalid {key}: {}", problems.join("; ")));
    }
    if !set.is_empty()
        && let Err(e) = db.write_blocking(|tx| tx.settings().set(key, &json))
    {
        return super::fail(e);
    }
    println!(
        "{}",
        serde_json::to_string_pretty(&json).unwrap_or_default()
    );
    ExitCode::SUCCESS
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_rules_are_set_and_unknown_ones_refused() {
        let mut v = serde_json::to_value(Rules::default()).expect("json");
        apply(&mut v, "deadlines.waste_dump_hours=48").expect("set");
        apply(&mut v, "code_prefix=HN").expect("set");
        let r: Rules = serde_json::from_value(v.clone()).expect("rules");
        assert_eq!(
            (r.deadlines.waste_dump_hours, r.code_prefix.as_str()),
            (48, "HN")
        );
        assert!(apply(&mut v, "deadlines.lava_hours=1").is_err());
        assert!(apply(&mut v, "nonsense").is_err());
    }
}

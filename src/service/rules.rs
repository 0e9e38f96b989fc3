//! The rule sets in force: each is its defaults, overridden by a setting in the store (changed
//! with `qingling rules`). Values that no longer parse fall back to the defaults.

use serde::de::DeserializeOwned;

use crate::domain::dust::DustRules;
use crate::domain::dust_issue::DustIssueRules;
use crate::domain::fire::Rules;
use crate::store::{Result, Tx};

/// The setting of the fire rules (thresholds, periods, deadlines, code prefix).
pub const FIRE: &str = "rules";
/// The setting of the dust limits, windows and warning measures.
pub const DUST: &str = "dust_rules";
/// The setting of the dust violations' deadline and code prefix (e.g. `{"deadline_days": 5}`).
pub const DUST_ISSUES: &str = "dust_issue_rules";

fn in_force<T: DeserializeOwned + Default>(tx: &dyn Tx, key: &str) -> Result<T> {
    Ok(tx
        .settings()
        .get(key)?
        .and_then(|v| serde_json::from_value(v).ok())
        .unwrap_or_default())
}

pub fn fire(tx: &dyn Tx) -> Result<Rules> {
    in_force(tx, FIRE)
}

pub fn dust(tx: &dyn Tx) -> Result<DustRules> {
    in_force(tx, DUST)
}

pub fn dust_issues(tx: &dyn Tx) -> Result<DustIssueRules> {
    in_force(tx, DUST_ISSUES)
}

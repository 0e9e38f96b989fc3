//! Settings: named JSON values a deployment configures (the rules, the dust limits, watermarks
//! of background jobs).

use serde_json::Value;

use super::Result;

pub trait Settings {
    /// A setting, if set.
    fn get(&self, key: &str) -> Result<Option<Value>>;
    /// Sets (or replaces) a setting.
    fn set(&self, key: &str, value: &Value) -> Result<()>;
}

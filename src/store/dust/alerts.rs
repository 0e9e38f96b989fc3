//! Dust alert cases: one per monitor, pollutant and window while it is not closed, with the
//! exceedances behind it (its evidence; each kept once per period, which makes the check
//! idempotent), the events of its life, and its feature on the `dust_alerts` map layer. The life
//! cycle itself is `domain::dust::alert`.

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::DeviceId;
use crate::domain::access::Scope;
use crate::domain::dust::alert::Status;
use crate::domain::responsibility::Responsible;
use crate::store::{Result, Slice};

/// A case as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct Case {
    pub id: i64,
    pub device: DeviceId,
    pub mn: String,
    /// The quantity's name (`tsp`, `pm10`, `pm25`).
    pub pollutant: String,
    /// `1h` or `24h`.
    pub window: String,
    /// The latest mean over the limit, and the limit.
    pub value: f64,
    pub limit: f64,
    pub status: Status,
    /// Who answers (a `Responsible`), as stored; `null` if it cannot be read.
    pub responsible: Value,
    /// Why (method, reasons, figures); `null` if it cannot be read.
    pub attribution: Value,
    /// Copied out of `responsible`, for the role filters.
    pub holder: Option<String>,
    pub district_code: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    /// When it was closed, Unix seconds.
    pub closed_at: Option<i64>,
}

/// A case as raised, open.
#[derive(Debug, Clone)]
pub struct NewCase<'a> {
    pub device: DeviceId,
    pub mn: &'a str,
    pub pollutant: &'a str,
    pub window: &'a str,
    pub value: f64,
    pub limit: f64,
    pub responsible: &'a Responsible,
    pub attribution: &'a Value,
    pub at: DateTime<Utc>,
}

/// One mean over its limit.
#[derive(Debug, Clone, PartialEq)]
pub struct Evidence {
    pub pollutant: String,
    pub window: String,
    /// Start of the hour or local day, Unix seconds.
    pub start: i64,
    pub value: f64,
    pub limit: f64,
    pub wind_dir: Option<f64>,
}

/// A step in a case's life.
#[derive(Debug, Clone)]
pub struct Event<'a> {
    pub at: DateTime<Utc>,
    /// A username, or `system` for the check.
    pub actor: &'a str,
    /// `raise`, `reopen`, or an action's name.
    pub action: &'a str,
    /// The status it led to.
    pub status: Status,
    pub note: Option<&'a str>,
}

/// A case as its map feature shows it (at its monitor's position).
#[derive(Debug, Clone)]
pub struct Feature<'a> {
    pub case: &'a Case,
    /// `holder` or `district`.
    pub party: Option<&'a str>,
    pub responsible_name: &'a str,
    pub holder: Option<&'a str>,
    pub district_code: &'a str,
    pub mine: Option<&'a str>,
    /// The attribution's text.
    pub why: Option<&'a str>,
}

pub trait Alerts {
    /// Whether this exceedance (device, pollutant, window, period start) was recorded.
    fn seen(&self, device: DeviceId, pollutant: &str, window: &str, start: i64) -> Result<bool>;
    /// The latest case of a device, pollutant and window.
    fn latest(&self, device: DeviceId, pollutant: &str, window: &str) -> Result<Option<Case>>;
    /// Raises a case; its id.
    fn open(&self, c: &NewCase) -> Result<i64>;
    /// A newer mean over the limit for a case still open or rectifying.
    fn set_value(&self, id: i64, value: f64, limit: f64, at: DateTime<Utc>) -> Result<()>;
    /// Re-opens a closed case with a newer mean over the limit.
    fn reopen(&self, id: i64, value: f64, limit: f64, at: DateTime<Utc>) -> Result<()>;
    /// Moves a case to `status` (a closed one keeps when it closed).
    fn set_status(&self, id: i64, status: Status, at: DateTime<Utc>) -> Result<()>;
    /// Records an exceedance of `device` as evidence of case `alert`.
    fn add_evidence(&self, device: DeviceId, alert: i64, e: &Evidence) -> Result<()>;
    /// Records a step in case `alert`'s life.
    fn add_event(&self, alert: i64, e: &Event) -> Result<()>;
    fn get(&self, id: i64) -> Result<Option<Case>>;
    /// One page of the cases `scope` may see (see `domain::dust::alert::scope`), newest
    /// first, and whether more follow.
    fn page(&self, scope: &Scope, slice: Slice) -> Result<(Vec<Case>, bool)>;
    /// How many cases `scope` may see, if no more than `cap`.
    fn count(&self, scope: &Scope, cap: usize) -> Result<Option<usize>>;
    /// A case's evidence, oldest first.
    fn evidence(&self, alert: i64) -> Result<Vec<Evidence>>;
    /// Writes (or rewrites) a case's map feature at its monitor's position; false, writing
    /// nothing, when the monitor has no position.
    fn draw(&self, f: &Feature) -> Result<bool>;
    /// Cases with no map feature yet.
    fn undrawn(&self) -> Result<Vec<i64>>;
}

//! Heavy-pollution and weather warnings, the production restrictions they put on mines (each
//! acknowledged by the mine's owner), and patrols' compliance checks of those restrictions.

use chrono::{DateTime, Utc};
use geo::Point;
use serde_json::Value;

use crate::domain::access::Scope;
use crate::domain::dust::WarningLevel;
use crate::domain::role::Role;
use crate::store::{Result, Slice};

/// A warning as issued.
#[derive(Debug, Clone)]
pub struct NewWarning<'a> {
    pub level: WarningLevel,
    /// District codes.
    pub districts: &'a [String],
    /// A drawn area: a GeoJSON geometry in lon/lat.
    pub area: Option<&'a Value>,
    /// The measures the level imposed when issued (the rules may change later).
    pub measures: &'a [String],
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub note: Option<&'a str>,
    pub issued_by: &'a str,
    pub issued_at: DateTime<Utc>,
}

/// A warning as stored; its JSON parts are `null` when they cannot be read.
#[derive(Debug, Clone)]
pub struct Warning {
    pub id: i64,
    pub level: String,
    /// District codes, as a JSON array.
    pub districts: Value,
    pub area: Value,
    pub measures: Value,
    /// RFC 3339.
    pub from: String,
    pub to: String,
    pub note: Option<String>,
    pub issued_by: String,
    pub issued_at: String,
}

/// A restriction as a warning puts it on a mine.
#[derive(Debug, Clone)]
pub struct NewRestriction<'a> {
    pub warning: i64,
    pub mine: &'a str,
    pub mine_name: &'a str,
    pub holder: &'a str,
    pub district_code: &'a str,
    pub measures: &'a [String],
    /// By when the owner must acknowledge, Unix seconds.
    pub due: i64,
    /// A point inside the mine, where the map shows the restriction.
    pub at: Option<Point<f64>>,
}

/// A restriction with its warning's level and period.
#[derive(Debug, Clone)]
pub struct Restriction {
    pub id: i64,
    pub warning: i64,
    pub level: String,
    /// The warning's period, RFC 3339.
    pub from: String,
    pub to: String,
    pub mine: String,
    pub mine_name: String,
    pub holder: Option<String>,
    pub district_code: String,
    /// As a JSON array; `null` when it cannot be read.
    pub measures: Value,
    /// Unix seconds.
    pub due: i64,
    pub acknowledged_at: Option<String>,
    pub acknowledged_by: Option<String>,
    /// `[lon, lat]`.
    pub position: Option<[f64; 2]>,
}

/// A compliance check as recorded.
#[derive(Debug, Clone)]
pub struct NewCheck<'a> {
    pub restriction: i64,
    /// Made by the client, so a resubmitted check is recognised.
    pub client_id: Option<&'a str>,
    pub compliant: bool,
    pub note: Option<&'a str>,
    /// `[lon, lat]` where it was made.
    pub position: Option<[f64; 2]>,
    /// When it was made.
    pub at: DateTime<Utc>,
    pub by: &'a str,
    pub role: Role,
    pub received_at: DateTime<Utc>,
}

/// A compliance check as stored.
#[derive(Debug, Clone)]
pub struct Check {
    pub id: i64,
    pub restriction: i64,
    pub compliant: bool,
    pub note: Option<String>,
    pub client_id: Option<String>,
    pub position: Option<[f64; 2]>,
    pub at: String,
    pub by: String,
    /// The checker's role's name.
    pub role: String,
    pub received_at: Option<String>,
}

/// A warning's restrictions counted (see [`Warnings::tallies`]).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    pub restrictions: usize,
    pub acknowledged: usize,
    pub overdue: usize,
}

pub trait Warnings {
    /// Issues a warning; its id.
    fn add(&self, w: &NewWarning) -> Result<i64>;
    /// One page of the warnings, newest first, and whether more follow.
    fn page(&self, slice: Slice) -> Result<(Vec<Warning>, bool)>;
    /// How many warnings there are, if no more than `cap`.
    fn count(&self, cap: usize) -> Result<Option<usize>>;
    /// The warnings of these levels in force at `at`.
    fn in_force(&self, levels: &[WarningLevel], at: DateTime<Utc>) -> Result<Vec<Warning>>;
    /// Puts a restriction on a mine, once per warning and mine.
    fn restrict(&self, r: &NewRestriction) -> Result<()>;
    /// The restrictions of one warning, or of all, newest first.
    fn restrictions(&self, warning: Option<i64>) -> Result<Vec<Restriction>>;
    /// One page of the restrictions `scope` may see (see `domain::dust::restriction_scope`),
    /// newest first, and whether more follow.
    fn restrictions_page(&self, scope: &Scope, slice: Slice) -> Result<(Vec<Restriction>, bool)>;
    /// The restrictions of `warning` that `scope` may see (one a mine at most), newest first.
    fn restrictions_of(&self, warning: i64, scope: &Scope) -> Result<Vec<Restriction>>;
    /// How many restrictions `scope` may see, if no more than `cap`.
    fn restrictions_count(&self, scope: &Scope, cap: usize) -> Result<Option<usize>>;
    /// For each of `warnings`, the restrictions `scope` may see of it counted: all, acknowledged,
    /// and overdue at `now` (Unix seconds: not acknowledged and past due).
    fn tallies(&self, scope: &Scope, warnings: &[i64], now: i64) -> Result<Vec<(i64, Tally)>>;
    fn restriction(&self, id: i64) -> Result<Option<Restriction>>;
    /// Records the owner's acknowledgement.
    fn acknowledge(&self, id: i64, by: &str, at: DateTime<Utc>) -> Result<()>;
    /// Records a compliance check; its id.
    fn add_check(&self, c: &NewCheck) -> Result<i64>;
    fn check(&self, id: i64) -> Result<Option<Check>>;
    /// The check a client made under this id.
    fn check_by_client_id(&self, client_id: &str) -> Result<Option<Check>>;
    /// The checks of these restrictions, oldest first.
    fn checks_of(&self, restrictions: &[i64]) -> Result<Vec<Check>>;
}

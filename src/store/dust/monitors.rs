//! Dust monitors as the use cases read and write them: their features on the `dust_monitors`
//! layer (where they stand, the mine, holder and district derived from it), joined with their
//! devices' credentials.

use geo::Point;

use super::DeviceId;
use crate::domain::access::Scope;
use crate::layers::Layer;
use crate::store::{Result, Slice};

/// A monitor's feature as registration writes it.
#[derive(Debug, Clone)]
pub struct NewMonitor {
    pub mn: String,
    pub name: Option<String>,
    pub at: Point<f64>,
    pub derived: Derived,
    /// What it measures, by quantity name.
    pub pollutants: Vec<String>,
}

/// What is derived from where a monitor stands (unless a manager chose the mine).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Derived {
    /// The mining right's licence_no.
    pub mine: Option<String>,
    /// `geometry`, `manager` or `none`.
    pub mine_via: Option<String>,
    pub holder: Option<String>,
    pub district_code: Option<String>,
}

/// A monitor on the map.
#[derive(Debug, Clone)]
pub struct Monitor {
    /// The feature's id.
    pub fid: i64,
    pub mn: String,
    pub name: Option<String>,
    pub at: Option<Point<f64>>,
    pub derived: Derived,
    /// Its credentials, when it has any (one imported with the layer has none).
    pub device: Option<DeviceId>,
    /// Whether its HTTP device token is live.
    pub token_live: bool,
    /// Values it sent that were stored implausible for their quantity and its unit.
    pub suspect_values: i64,
}

pub trait Monitors {
    /// Whether a monitor with this MN is on the map.
    fn exists(&self, mn: &str) -> Result<bool>;
    /// Puts a monitor on the map.
    fn add(&self, m: &NewMonitor) -> Result<()>;
    /// Every monitor on the map, by MN.
    fn all(&self) -> Result<Vec<Monitor>>;
    /// One page of the monitors `scope` may read on the monitors layer, by MN, and whether more
    /// follow.
    fn in_scope(&self, layer: &Layer, scope: &Scope, slice: Slice) -> Result<(Vec<Monitor>, bool)>;
    /// How many monitors `scope` may read, if no more than `cap`.
    fn count(&self, layer: &Layer, scope: &Scope, cap: usize) -> Result<Option<usize>>;
    /// Monitors with credentials, by device.
    fn with_devices(&self) -> Result<Vec<Monitor>>;
    /// Monitor `mn` if `scope` may read it: `None` when it is not there or not this scope's (the
    /// same answer).
    fn visible(&self, layer: &Layer, scope: &Scope, mn: &str) -> Result<Option<Monitor>>;
    /// Replaces what was derived for the monitor with feature id `fid`.
    fn set_derived(&self, fid: i64, d: &Derived) -> Result<()>;
}

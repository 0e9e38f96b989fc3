//! Dust readings: stored once per (device, time, level), each hour's rollup kept up to date as they
//! arrive (the merge rule is `domain::dust::rollup`), and the hours an insert changed kept
//! waiting until the exceedance check has judged them.

use std::collections::BTreeMap;

use super::DeviceId;
use crate::domain::dust::reading::{Level, Reading};
use crate::domain::dust::rollup::HourSums;
use crate::store::Result;

/// What an insert did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Inserted {
    /// Readings stored.
    pub stored: usize,
    /// Readings whose (device, time, level) was already stored: the first one stays.
    pub duplicates: usize,
    /// Implausible values among those stored (added to the monitor's count).
    pub suspect: usize,
    /// The hours (Unix seconds / 3600) whose rollup changed: where a check on new hourly and
    /// 24-hour means (exceedances) starts.
    pub hours: Vec<i64>,
}

pub trait Readings {
    /// Stores readings of one device, adds the new ones to their hours' rollups and marks those
    /// hours pending. Readings already stored for the same (device, time) are left as they were,
    /// so a retried batch stores nothing twice.
    fn insert(&self, device: DeviceId, readings: &[Reading]) -> Result<Inserted>;
    /// A device's readings with `from <= t < to` (Unix seconds), oldest first, at most `limit`.
    fn raw(&self, device: DeviceId, from: i64, to: i64, limit: usize) -> Result<Vec<Reading>>;
    /// A device's newest reading.
    fn latest(&self, device: DeviceId) -> Result<Option<Reading>>;
    /// A device's newest reading that carries a wind speed.
    fn latest_wind(&self, device: DeviceId) -> Result<Option<Reading>>;
    /// The times of a device's newest `n` readings of `level` before `before`, newest first:
    /// where its data stopped, and how often it sends (the HJ 212 listener's gap check).
    fn times_before(
        &self,
        device: DeviceId,
        level: Level,
        before: i64,
        n: usize,
    ) -> Result<Vec<i64>>;
    /// A device's hourly rollups for hours `from_hour <= hour < to_hour`, oldest first.
    fn hours(&self, device: DeviceId, from_hour: i64, to_hour: i64)
    -> Result<Vec<(i64, HourSums)>>;
    /// The hours waiting to be judged that ended before `before_hour`, by device, in order.
    fn pending_hours(&self, before_hour: i64) -> Result<BTreeMap<DeviceId, Vec<i64>>>;
    /// Forgets judged hours of a device.
    fn clear_pending(&self, device: DeviceId, hours: &[i64]) -> Result<()>;
    /// Forgets pending hours older than `oldest_hour` (too late to be judged); how many.
    fn drop_pending_before(&self, oldest_hour: i64) -> Result<usize>;
}

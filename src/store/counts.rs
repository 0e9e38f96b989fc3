//! The clearance read model: kept up to date with every fire event, in the event's own
//! transaction, so the counts of any moment cost what was open then — not the length of the
//! history. What it holds and how its answers are put together is in `domain::clearance`; the
//! replay it must agree with is `domain::clearance::Timeline`.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};

use super::Result;
use crate::domain::clearance::{Levels, OpenFire, ScopeKey};

pub trait Counts {
    /// The fires not yet cleared at `at` (`None`: now) that count in `scope`.
    fn open_at(&self, at: Option<DateTime<Utc>>, scope: &ScopeKey) -> Result<Vec<OpenFire>>;

    /// The scope's levels at the end of local day `day` (`None`: now).
    fn levels(&self, scope: &ScopeKey, day: Option<NaiveDate>) -> Result<Levels>;

    /// Each mine's re-ignitions at the end of `day` (`None`: now).
    fn mine_reignitions(
        &self,
        mines: &[String],
        day: Option<NaiveDate>,
    ) -> Result<HashMap<String, i64>>;

    /// The scope's levels at the end of each local day from `from` to `to`.
    fn daily_levels(
        &self,
        scope: &ScopeKey,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<Vec<(NaiveDate, Levels)>>;

    /// When the scope's burning count last rose from zero by `at` (which is the end of `day`, or
    /// now), if it is above zero then.
    fn left_zero(
        &self,
        scope: &ScopeKey,
        at: DateTime<Utc>,
        day: Option<NaiveDate>,
    ) -> Result<Option<DateTime<Utc>>>;

    /// When the first fire event was observed: before it the records say nothing, so a count
    /// of an earlier day would be a zero that nobody measured.
    fn first_event(&self) -> Result<Option<DateTime<Utc>>>;

    /// Rebuilds the read model from the event log (a database from before it existed, or
    /// `qingling check --recount --fix`). Returns the events replayed.
    fn rebuild(&self) -> Result<usize>;
}

//! What notifications are derived from: the read marker, the fire events a scope may see,
//! warnings in force and dust violations. Rows only; which of them concern a user is decided in
//! `service::notifications`. Times are stored text (RFC 3339 UTC), compared as text.

use super::Result;
use super::features::Visible;

/// A report, reassignment or re-ignition of a fire.
pub struct FireEvent {
    pub id: i64,
    pub fire: String,
    pub code: String,
    pub at: String,
    pub action: String,
    pub reignited: bool,
    /// The party it set, as JSON.
    pub responsible: Option<String>,
    /// The fire's party now (`holder` or `district`): whom an urge is addressed to.
    pub party: String,
}

/// Whose dust violations: every one, a holder's, or those a district government answers for.
pub enum IssueParty {
    All,
    Holder(String),
    District(String),
}

pub trait Notifications {
    /// A user's read marker: the last event id seen and when everything was marked read.
    fn read_marker(&self, user: &str) -> Result<Option<(i64, String)>>;

    /// Marks everything up to `now` as read for `user`.
    fn mark_read(&self, user: &str, now: &str) -> Result<()>;

    /// Reports, reassignments and re-ignitions since `since` of the fires the reader may see, not
    /// by `not_by`; newest first, at most 500.
    fn fire_events(&self, visible: &Visible, not_by: &str, since: &str) -> Result<Vec<FireEvent>>;

    /// Warnings in force at `now` (id, level, issued_at), newest first, at most 50: with `holder`,
    /// only those restricting that holder's mines; with `district`, only those naming the
    /// district or restricting a mine in it (a drawn area names no district).
    fn warnings_in_force(
        &self,
        now: &str,
        holder: Option<&str>,
        district: Option<&str>,
    ) -> Result<Vec<(i64, String, String)>>;

    /// The party's violations reported since `since` by someone other than `not_by` (code,
    /// reported_at), newest first, at most 50.
    fn dust_issues_reported(
        &self,
        party: &IssueParty,
        since: &str,
        not_by: &str,
    ) -> Result<Vec<(String, String)>>;

    /// The party's violations past their deadline by `now` and not yet reported rectified
    /// (code, deadline), latest deadline first, at most 50.
    fn dust_issues_overdue(&self, party: &IssueParty, now: &str) -> Result<Vec<(String, String)>>;

    /// The party's monitors (by the mine's holder, or the district they stand in) that have
    /// reported but not since `before` (Unix seconds): (MN, newest reading's time), the most
    /// recently silent first, at most 50.
    fn silent_monitors(&self, party: &IssueParty, before: i64) -> Result<Vec<(String, i64)>>;
}

//! Dust violations: the `dust_issues` layer rows (the current state) and their immutable event
//! log, behind the [`DustIssues`] trait.

use chrono::{DateTime, Utc};
use geo::Point;
use serde::Serialize;

use super::step::Step;
use super::{Result, Slice};
use crate::domain::dust_issue::{IssueKind, IssueState, Status};
use crate::domain::responsibility::Responsible;

/// A violation as stored.
#[derive(Debug, Clone, Serialize)]
pub struct IssueRecord {
    pub fid: i64,
    pub uuid: String,
    pub code: String,
    pub kind: IssueKind,
    pub status: Status,
    pub lon: f64,
    pub lat: f64,
    pub note: Option<String>,
    pub accuracy_m: Option<f64>,
    pub position_source: Option<String>,
    pub reported_at: DateTime<Utc>,
    pub reported_by: String,
    pub deadline: DateTime<Utc>,
    pub responsible: Responsible,
    pub rectified_at: Option<DateTime<Utc>>,
    pub verified_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
    #[serde(skip)]
    pub request_hash: Option<String>,
}

impl IssueRecord {
    /// What the rules need to decide an action.
    pub fn state(&self) -> IssueState {
        IssueState {
            status: self.status,
            responsible: self.responsible.clone(),
        }
    }
}

/// A new violation's row.
pub struct NewIssue<'a> {
    pub uuid: &'a str,
    pub code: &'a str,
    pub kind: IssueKind,
    pub point: Point<f64>,
    pub note: Option<&'a str>,
    pub accuracy_m: Option<f64>,
    pub position_source: &'a str,
    pub reported_at: DateTime<Utc>,
    pub reported_by: &'a str,
    pub deadline: DateTime<Utc>,
    pub responsible: &'a Responsible,
    pub request_hash: &'a str,
}

/// An event in a violation's life. Never updated or deleted (triggers refuse both).
#[derive(Debug, Clone, Serialize, Default)]
pub struct IssueEvent {
    pub issue: String,
    #[serde(flatten)]
    pub step: Step,
}

/// Which violations a list asks for. Every field narrows; the default is every violation.
#[derive(Debug, Clone, Default)]
pub struct IssueFilter<'a> {
    /// What the reader may see: the layer's read scope bound to the user; `None` for the
    /// system's own work.
    pub visible: Option<super::features::Visible<'a>>,
    /// By UUID or code.
    pub id_or_code: Option<String>,
    /// Any of these statuses (none: any status).
    pub statuses: Vec<Status>,
    /// Not in this status.
    pub not_status: Option<Status>,
    /// minlon, minlat, maxlon, maxlat.
    pub bbox: Option<[f64; 4]>,
}

/// The dust violations and their events.
pub trait DustIssues {
    /// A violation by its UUID or its code.
    fn get(&self, uuid_or_code: &str) -> Result<Option<IssueRecord>>;

    /// The violations the filter selects, soonest deadline first (then by code).
    fn list(&self, filter: &IssueFilter) -> Result<Vec<IssueRecord>>;

    /// One page of [`DustIssues::list`], and whether more follow.
    fn page(&self, filter: &IssueFilter, slice: Slice) -> Result<(Vec<IssueRecord>, bool)>;

    /// How many violations the filter selects, if no more than `cap`.
    fn count(&self, filter: &IssueFilter, cap: usize) -> Result<Option<usize>>;

    /// The next code in a year's sequence: `YC-2026-0001`. Called inside the write transaction,
    /// so two reports never get the same number.
    fn next_code(&self, prefix: &str, year: i32) -> Result<String>;

    /// Inserts a violation as `open` (and keeps the layer's extent up to date); its row id.
    fn insert(&self, i: &NewIssue) -> Result<i64>;

    /// Writes a violation's new status after an event: `rectified_at` is the time of the last
    /// `rectified` (cleared again by a rejection), `verified_at` the time it was verified.
    fn update_status(&self, issue: &IssueRecord, to: Status, at: DateTime<Utc>) -> Result<()>;

    /// Moves a violation to another responsible party (boundaries changed under it).
    fn update_responsible(&self, uuid: &str, r: &Responsible, at: DateTime<Utc>) -> Result<()>;

    /// Appends an event; returns its id.
    fn append_event(&self, e: &IssueEvent) -> Result<i64>;

    /// The time of a violation's latest event.
    fn last_event_at(&self, issue: &str) -> Result<Option<DateTime<Utc>>>;

    /// A violation's events, oldest first.
    fn events(&self, issue: &str) -> Result<Vec<IssueEvent>>;

    /// An event by the client-made id it was sent with.
    fn event_by_client_id(&self, client_id: &str) -> Result<Option<IssueEvent>>;
}

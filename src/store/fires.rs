//! Fire points and their event log: the records behind the life of a fire, and the [`Fires`]
//! trait through which use cases read and write them.

use chrono::{DateTime, SecondsFormat, Utc};
use geo::Point;
use serde::Serialize;
use serde_json::Value;

use super::step::Step;
use super::{Result, Slice, features};
use crate::domain::clearance::{Change, FireRef};
use crate::domain::fire::{FireKind, FireState, Status};
use crate::domain::responsibility::Responsible;

/// Times are stored as RFC 3339 UTC to the second, so text order is time order.
pub fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

/// A stored time read back; text that is not one is damaged data.
pub fn parse_ts(s: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| super::StoreError::Corrupt(format!("time {s:?}: {e}")))
}

/// A fire as stored.
#[derive(Debug, Clone, Serialize)]
pub struct FireRecord {
    pub fid: i64,
    pub id: String,
    pub code: String,
    pub kind: FireKind,
    pub status: Status,
    pub lon: f64,
    pub lat: f64,
    /// When the fire was seen (the report's `observed_at`, or when it was received).
    pub reported_at: DateTime<Utc>,
    /// When the server received the report; None for reports stored before it was kept.
    pub received_at: Option<DateTime<Utc>>,
    pub reported_by: String,
    pub deadline: Option<DateTime<Utc>>,
    pub temp_c: Option<f64>,
    pub max_temp_c: Option<f64>,
    pub area_m2: Option<f64>,
    pub signs: Value,
    pub note: Option<String>,
    pub accuracy_m: Option<f64>,
    pub position_source: Option<String>,
    pub responsible: Responsible,
    pub reignitions: i64,
    pub controlled_at: Option<DateTime<Utc>>,
    pub cleared_at: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
    #[serde(skip)]
    pub request_hash: Option<String>,
}

/// A new fire's row.
pub struct NewFire<'a> {
    pub id: &'a str,
    pub code: &'a str,
    pub kind: FireKind,
    pub point: Point<f64>,
    pub reported_at: DateTime<Utc>,
    pub received_at: DateTime<Utc>,
    pub reported_by: &'a str,
    pub deadline: DateTime<Utc>,
    pub temp_c: Option<f64>,
    pub area_m2: Option<f64>,
    pub signs: &'a Value,
    pub note: Option<&'a str>,
    pub accuracy_m: Option<f64>,
    pub position_source: Option<&'a str>,
    pub responsible: &'a Responsible,
    pub request_hash: &'a str,
}

/// An event as stored: what happened to a fire, by whom, when. Never updated or deleted.
#[derive(Debug, Clone, Serialize, Default)]
pub struct EventRecord {
    pub fire: String,
    #[serde(flatten)]
    pub step: Step,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temp_c: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub co_ppm: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duplicate_of: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub plan_due: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub responsible: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deadline: Option<String>,
    pub reignited: bool,
}

/// An inspection, written as a point in the inspections layer.
pub struct NewInspection<'a> {
    pub fire: &'a FireRecord,
    /// When it was made (observed); `received_at` when the server got it.
    pub at: DateTime<Utc>,
    pub received_at: DateTime<Utc>,
    pub by: &'a str,
    pub temp_c: Option<f64>,
    pub co_ppm: Option<f64>,
    pub status_seen: Status,
    pub note: Option<&'a str>,
}

/// A fire near a new report.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Nearby {
    pub id: String,
    pub code: String,
    pub status: Status,
    pub kind: FireKind,
    pub distance_m: f64,
}

/// Which fires a list asks for. Every field narrows; the default is every fire.
#[derive(Debug, Clone, Default)]
pub struct FireFilter<'a> {
    /// What the reader may see; `None` for the system's own work (sweeps, re-routing).
    pub visible: Option<features::Visible<'a>>,
    /// Any of these statuses.
    pub statuses: Option<Vec<Status>>,
    /// Any of these fires (by id).
    pub ids: Option<Vec<String>>,
    /// The kind, as sent (an unknown one matches nothing).
    pub kind: Option<String>,
    /// The district code.
    pub district: Option<String>,
    /// minlon, minlat, maxlon, maxlat.
    pub bbox: Option<[f64; 4]>,
    /// Conditions on the layer's fields (an export's `--where`).
    pub filters: Vec<features::Filter>,
    /// A deadline at or before this.
    pub due_by: Option<DateTime<Utc>>,
    /// A deadline at or after this.
    pub due_from: Option<DateTime<Utc>>,
}

impl FireFilter<'_> {
    pub fn statuses(statuses: impl IntoIterator<Item = Status>) -> FireFilter<'static> {
        FireFilter {
            statuses: Some(statuses.into_iter().collect()),
            ..FireFilter::default()
        }
    }
}

/// A moment in the past and the statuses a fire had then to be listed (any when `None`).
#[derive(Debug, Clone)]
pub struct Then {
    pub at: DateTime<Utc>,
    pub statuses: Option<Vec<Status>>,
}

/// A fire with its status and deadline at a past moment.
#[derive(Debug, Clone)]
pub struct FireThen {
    pub fire: FireRecord,
    pub status: Status,
    pub deadline: Option<DateTime<Utc>>,
}

/// The order of a page of fires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FireOrder {
    /// Soonest deadline first, then by code: the lists.
    Deadline,
    /// Latest deadline first, then by code: deadline notices, newest first.
    LatestDeadline,
    /// By code: the ledger.
    Code,
}

/// The fire points, their events and inspections.
pub trait Fires {
    /// A fire by its id (UUID) or its code.
    fn get(&self, id_or_code: &str) -> Result<Option<FireRecord>>;

    /// The fires the filter selects, soonest deadline first (then by code).
    fn list(&self, filter: &FireFilter) -> Result<Vec<FireRecord>>;

    /// One page of the fires the filter selects, in `order`, and whether more follow.
    fn page(
        &self,
        filter: &FireFilter,
        order: FireOrder,
        slice: Slice,
    ) -> Result<(Vec<FireRecord>, bool)>;

    /// How many fires the filter selects, if no more than `cap`.
    fn count(&self, filter: &FireFilter, cap: usize) -> Result<Option<usize>>;

    /// One page of the fires the filter selects as they stood at `then.at` (soonest deadline
    /// first), each with its status and deadline then, and whether more follow. Fires with no
    /// event by then are left out. When every status asked for is open, the fires are found
    /// through the clearance read model's spans, so the work is what was open then, not the
    /// whole history.
    fn page_as_of(
        &self,
        filter: &FireFilter,
        then: &Then,
        slice: Slice,
    ) -> Result<(Vec<FireThen>, bool)>;

    /// How many fires [`Fires::page_as_of`] would list, if no more than `cap`.
    fn count_as_of(&self, filter: &FireFilter, then: &Then, cap: usize) -> Result<Option<usize>>;

    /// Calls `f` with each fire the filter selects, in `order`, one at a time (an export of a
    /// province's million fires never holds them all), until `f` answers false.
    fn each(
        &self,
        filter: &FireFilter,
        order: FireOrder,
        f: &mut dyn FnMut(FireRecord) -> bool,
    ) -> Result<()>;

    /// The next code in a year's sequence: `WH-2026-0001`. Called inside the write transaction,
    /// so two reports never get the same number.
    fn next_code(&self, prefix: &str, year: i32) -> Result<String>;

    /// Stores a new fire as `reported`; returns its row id.
    fn insert(&self, f: &NewFire) -> Result<i64>;

    /// Appends an event; returns its id.
    fn append_event(&self, e: &EventRecord) -> Result<i64>;

    /// A fire's events, oldest first.
    fn events(&self, fire: &str) -> Result<Vec<EventRecord>>;

    /// An event by the client-made id it was sent with.
    fn event_by_client_id(&self, client_id: &str) -> Result<Option<EventRecord>>;

    /// The time of a fire's latest event (its place at the end of the history).
    fn last_event_at(&self, fire: &str) -> Result<Option<DateTime<Utc>>>;

    /// The status a fire had at `t`, from its events up to then.
    fn status_at(&self, fire: &str, t: DateTime<Utc>) -> Result<Option<Status>>;

    /// The temperatures inspections read since `since` (a fire's control), oldest first.
    fn readings_since(&self, fire: &str, since: DateTime<Utc>)
    -> Result<Vec<(DateTime<Utc>, f64)>>;

    /// Keeps the highest temperature seen, for a reading that changes nothing else.
    fn raise_max_temp(&self, fire: &str, temp_c: Option<f64>) -> Result<()>;

    /// Writes a fire's new state after an event.
    fn update_state(&self, fire: &FireRecord, change: &StateChange) -> Result<()>;

    /// Moves a fire to another responsible party (and its inspections' scope with it).
    fn update_responsible(&self, fire: &str, r: &Responsible, at: DateTime<Utc>) -> Result<()>;

    /// Writes an inspection as a point in the inspections layer.
    fn insert_inspection(&self, i: &NewInspection) -> Result<i64>;

    /// The fires whose point lies in a box (minlon, minlat, maxlon, maxlat), for a search near
    /// a point that the caller then measures.
    fn in_box(&self, bbox: [f64; 4]) -> Result<Vec<FireRecord>>;

    /// The event log of the fires the filter selects, in time order, with those fires, for
    /// clearance counts.
    fn changes(&self, filter: &FireFilter) -> Result<(Vec<Change>, Vec<FireRef>)>;

    /// Whether any fire is burning (the status index answers at the first one).
    fn any_burning(&self) -> Result<bool>;

    /// The action and actor of the last event that set a fire's party, if any.
    fn last_party_setter(&self, fire: &str) -> Result<Option<(String, String)>>;

    /// The last urge of a fire by `upto` (RFC 3339): when, and by whom.
    fn last_urge(&self, fire: &str, upto: &str) -> Result<Option<(String, String)>>;

    /// What the rules need to decide an action on this fire.
    fn state(&self, fire: &FireRecord) -> Result<FireState> {
        let readings = match fire.controlled_at {
            Some(since) => self.readings_since(&fire.id, since)?,
            None => vec![],
        };
        Ok(FireState {
            status: fire.status,
            kind: fire.kind,
            responsible: fire.responsible.clone(),
            controlled_at: fire.controlled_at,
            cleared_at: fire.cleared_at,
            readings_since_control: readings,
            deadline: fire.deadline,
        })
    }
}

/// A fire's new state after an event (see [`Fires::update_state`]).
#[derive(Debug, Clone, Copy)]
pub struct StateChange {
    pub to: Status,
    pub at: DateTime<Utc>,
    /// A new deadline, if the event set one.
    pub deadline: Option<DateTime<Utc>>,
    /// A temperature read with the event.
    pub temp_c: Option<f64>,
    pub reignited: bool,
}

/// Fires within `radius_m` of a point, nearest first, each sorted by `pick` into one of `N`
/// lists (or none): the store narrows by a degree box read once, then the geodesic (haversine)
/// distance decides.
pub fn nearby<const N: usize>(
    fires: &dyn Fires,
    p: Point<f64>,
    radius_m: f64,
    pick: impl Fn(&FireRecord) -> Option<usize>,
) -> Result<[Vec<Nearby>; N]> {
    use geo::{Distance, Haversine};
    let dlat = radius_m / 111_320.0;
    let dlon = radius_m / (111_320.0 * p.y().to_radians().cos().max(0.01));
    let bbox = [p.x() - dlon, p.y() - dlat, p.x() + dlon, p.y() + dlat];
    let mut out: [Vec<Nearby>; N] = std::array::from_fn(|_| vec![]);
    for f in fires.in_box(bbox)? {
        let Some(list) = pick(&f).and_then(|i| out.get_mut(i)) else {
            continue;
        };
        let d = Haversine.distance(p, Point::new(f.lon, f.lat));
        if d <= radius_m {
            list.push(Nearby {
                id: f.id,
                code: f.code,
                status: f.status,
                kind: f.kind,
                distance_m: (d * 10.0).round() / 10.0,
            });
        }
    }
    for list in &mut out {
        list.sort_by(|a, b| a.distance_m.total_cmp(&b.distance_m));
    }
    Ok(out)
}

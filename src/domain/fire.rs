//! The life of a fire (PRODUCT.md): states, actions, who may take them, and what each one does.
//!
//! ```text
//! reported ─▶ confirmed ─▶ treating ─▶ controlled ─▶ extinguished ─▶ cleared
//!    └───────────┴─▶ dismissed  ▲          └──── reignited ◀──────────────┘
//!                               └──────────────────┘
//! ```

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use super::case;
use super::deadline;
use super::responsibility::Responsible;
use super::role::{Actor, Role};

crate::named! {
    /// Where a fire is in its life.
    pub enum Status {
        Reported = "reported",
        Confirmed = "confirmed",
        Treating = "treating",
        Controlled = "controlled",
        Extinguished = "extinguished",
        Cleared = "cleared",
        Reignited = "reignited",
        Dismissed = "dismissed",
    }
}

impl Status {
    /// Burning = reported, confirmed, treating, reignited: what "dynamic zero" counts.
    pub fn is_burning(self) -> bool {
        matches!(
            self,
            Status::Reported | Status::Confirmed | Status::Treating | Status::Reignited
        )
    }

    /// Not yet cleared = burning + controlled + extinguished.
    pub fn is_open(self) -> bool {
        self.is_burning() || matches!(self, Status::Controlled | Status::Extinguished)
    }
}

crate::named! {
    /// What burns: a coal seam (needs a dedicated plan), a waste dump or a gangue heap (treated at once).
    pub enum FireKind {
        CoalSeam = "coal_seam",
        WasteDump = "waste_dump",
        GangueHeap = "gangue_heap",
    }
}

crate::named! {
    /// Everything a user can ask to do to an existing fire.
    pub enum Action {
        Confirm = "confirm",
        StartTreatment = "start_treatment",
        Progress = "progress",
        Control = "control",
        Inspect = "inspect",
        Extinguish = "extinguish",
        Clear = "clear",
        Dismiss = "dismiss",
        Reassign = "reassign",
        /// A manager presses the party responsible for an overdue fire: recorded, announced to
        /// the party and sent to webhooks; the fire's state does not change.
        Urge = "urge",
    }
}

impl Action {
    /// The roles that may ever take this action. The responsible party's actions also need the
    /// actor to be that party (see [`may_act`]).
    pub fn roles(self) -> &'static [Role] {
        match self {
            Action::Confirm
            | Action::Extinguish
            | Action::Clear
            | Action::Dismiss
            | Action::Reassign
            | Action::Urge => &[Role::Manager],
            Action::StartTreatment | Action::Progress | Action::Control => {
                &[Role::Owner, Role::District]
            }
            Action::Inspect => &[Role::Patrol, Role::Manager, Role::District],
        }
    }
}

impl case::Transitions for Action {
    type Status = Status;

    fn from_states(self) -> &'static [Status] {
        use Status::*;
        match self {
            Action::Confirm => &[Reported],
            Action::StartTreatment => &[Confirmed, Reignited],
            Action::Progress => &[Treating, Reignited],
            Action::Control => &[Treating],
            Action::Inspect => &[
                Reported,
                Confirmed,
                Treating,
                Controlled,
                Extinguished,
                Cleared,
                Reignited,
            ],
            Action::Extinguish => &[Controlled],
            Action::Clear => &[Extinguished],
            Action::Dismiss => &[Reported, Confirmed],
            Action::Urge => &[Reported, Confirmed, Treating, Reignited],
            Action::Reassign => &[
                Reported,
                Confirmed,
                Treating,
                Controlled,
                Extinguished,
                Reignited,
            ],
        }
    }
}

/// Roles that may report a new fire.
pub const REPORTERS: [Role; 3] = [Role::Patrol, Role::Manager, Role::District];

/// Configurable defaults from DOMAIN.md.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Rules {
    /// A fire is controlled below this surface maximum; a reading at or over it re-ignites.
    pub threshold_c: f64,
    /// Days of readings below the threshold before a controlled fire counts as extinguished.
    pub observation_days: i64,
    /// Inspections needed within the observation period.
    pub min_inspections: usize,
    /// Days a cleared fire stays on the re-ignition watch.
    pub watch_days: i64,
    pub deadlines: deadline::Deadlines,
    /// Radius for "open fires nearby" on a new report.
    pub duplicate_radius_m: f64,
    /// Fire codes read `{prefix}-{year}-{seq:04}`.
    pub code_prefix: String,
    /// Mines not inspected for this many days are flagged.
    pub inspection_overdue_days: i64,
    /// How far a field observation's `observed_at` may lie from the time it is received.
    pub observed: super::observed::Window,
    /// Most vertices one edited feature may have: checking and re-deriving a polygon costs time
    /// while every other write waits.
    pub max_vertices: usize,
}

impl Default for Rules {
    fn default() -> Self {
        Rules {
            threshold_c: 50.0,
            observation_days: 30,
            min_inspections: 3,
            watch_days: 365,
            deadlines: deadline::Deadlines::default(),
            duplicate_radius_m: 50.0,
            code_prefix: "WH".into(),
            inspection_overdue_days: 7,
            observed: super::observed::Window::default(),
            max_vertices: 10_000,
        }
    }
}

/// What the rules need to know about a fire to decide an action.
#[derive(Debug, Clone)]
pub struct FireState {
    pub status: Status,
    pub kind: FireKind,
    pub responsible: Responsible,
    /// When it last became controlled (start of the observation period).
    pub controlled_at: Option<DateTime<Utc>>,
    /// When it was last cleared (start of the re-ignition watch).
    pub cleared_at: Option<DateTime<Utc>>,
    /// Temperature readings from inspections since it last became controlled.
    pub readings_since_control: Vec<(DateTime<Utc>, f64)>,
    /// When the responsible party must have it under control.
    pub deadline: Option<DateTime<Utc>>,
}

/// An action as asked for, already parsed.
#[derive(Debug, Clone, Default)]
pub struct Request {
    pub note: Option<String>,
    pub temp_c: Option<f64>,
    pub co_ppm: Option<f64>,
    pub reason: Option<String>,
    /// The other fire's id, already checked to exist and be visible.
    pub duplicate_of: Option<String>,
    pub method: Option<String>,
    pub plan_due: Option<NaiveDate>,
    /// A reassignment's new party, already resolved.
    pub responsible: Option<Responsible>,
}

/// Treatment methods (DOMAIN.md).
pub const METHODS: [&str; 6] = [
    "strip_dig",
    "loess_cover",
    "grouting",
    "water",
    "nitrogen",
    "sealing",
];

/// Why an action on a fire was refused (the case core's refusal).
pub type Refusal = case::Refusal<Status, Action>;

/// What an accepted action does.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub from: Status,
    pub to: Status,
    /// A new deadline, when the action sets one.
    pub deadline: Option<DateTime<Utc>>,
    /// The reading re-opened a controlled, extinguished or watched cleared fire.
    pub reignited: bool,
}

/// Whether the actor, by role and binding, is the fire's responsible party.
pub fn is_responsible(actor: &Actor, responsible: &Responsible) -> bool {
    case::answers_for(
        actor,
        responsible.party,
        responsible.holder(),
        &responsible.district_code,
    )
}

/// Whether this actor may ever take this action on this fire, whatever its state.
pub fn may_act(actor: &Actor, action: Action, fire: &FireState) -> bool {
    if !action.roles().contains(&actor.role) {
        return false;
    }
    match action {
        Action::StartTreatment | Action::Progress | Action::Control => {
            is_responsible(actor, &fire.responsible)
        }
        // District officers inspect within their district only.
        Action::Inspect if actor.role == Role::District => {
            actor.district.as_deref() == Some(fire.responsible.district_code.as_str())
        }
        _ => true,
    }
}

/// Whether an action makes sense at `now` beyond role and state: a fire is urged only once
/// past its deadline.
fn timely(action: Action, fire: &FireState, now: DateTime<Utc>) -> bool {
    action != Action::Urge || fire.deadline.is_some_and(|d| d < now)
}

/// The actions this actor may take now.
pub fn allowed_actions(actor: &Actor, fire: &FireState, now: DateTime<Utc>) -> Vec<Action> {
    case::possible(fire.status, |a| {
        may_act(actor, a, fire) && timely(a, fire, now)
    })
}

fn require<'a>(value: &'a Option<String>, field: &'static str) -> Result<&'a str, Refusal> {
    match value.as_deref().map(str::trim) {
        Some(v) if !v.is_empty() => Ok(v),
        _ => Err(Refusal::Invalid {
            field,
            problem: "required",
        }),
    }
}

fn check_temp(temp: Option<f64>) -> Result<(), Refusal> {
    match temp {
        Some(t) if !(-60.0..=1500.0).contains(&t) => Err(Refusal::Invalid {
            field: "temp_c",
            problem: "temp_range",
        }),
        _ => Ok(()),
    }
}

/// Decides an action: checks role, state and inputs, and says what happens.
///
/// Order of checks: a role that may never act gets `Forbidden` (403), then a state that does not
/// allow the action gets `NotAllowed` (409), then the inputs (422).
pub fn decide(
    actor: &Actor,
    action: Action,
    fire: &FireState,
    req: &Request,
    now: DateTime<Utc>,
    rules: &Rules,
) -> Result<Outcome, Refusal> {
    // The action asked for is judged below (an untimely urge is told why); the others are
    // listed as possible only when timely.
    case::check(action, fire.status, |a| {
        may_act(actor, a, fire) && (a == action || timely(a, fire, now))
    })?;
    check_temp(req.temp_c)?;
    if let Some(co) = req.co_ppm
        && !(0.0..=1_000_000.0).contains(&co)
    {
        return Err(Refusal::Invalid {
            field: "co_ppm",
            problem: "co_range",
        });
    }
    let from = fire.status;
    let same = |to| {
        Ok(Outcome {
            from,
            to,
            deadline: None,
            reignited: false,
        })
    };
    match action {
        Action::Confirm => same(Status::Confirmed),
        Action::StartTreatment => {
            let method = require(&req.method, "method")?;
            if !METHODS.contains(&method) {
                return Err(Refusal::Invalid {
                    field: "method",
                    problem: "unknown_method",
                });
            }
            // A seam fire's plan sets its completion date as the new deadline.
            let deadline = match (fire.kind, req.plan_due) {
                (FireKind::CoalSeam, Some(d)) => {
                    let due = deadline::end_of_local_day(d);
                    if due < now {
                        return Err(Refusal::Invalid {
                            field: "plan_due",
                            problem: "plan_due_past",
                        });
                    }
                    Some(due)
                }
                _ => None,
            };
            Ok(Outcome {
                from,
                to: Status::Treating,
                deadline,
                reignited: false,
            })
        }
        Action::Progress => {
            require(&req.note, "note")?;
            same(from)
        }
        Action::Control => match req.temp_c {
            None => Err(Refusal::Invalid {
                field: "temp_c",
                problem: "required",
            }),
            Some(t) if t >= rules.threshold_c => Err(Refusal::Invalid {
                field: "temp_c",
                problem: "not_below_threshold",
            }),
            Some(_) => same(Status::Controlled),
        },
        Action::Inspect => {
            if req.temp_c.is_none()
                && req.co_ppm.is_none()
                && req.note.as_deref().is_none_or(|n| n.trim().is_empty())
            {
                return Err(Refusal::Invalid {
                    field: "temp_c",
                    problem: "inspection_empty",
                });
            }
            let hot = req.temp_c.is_some_and(|t| t >= rules.threshold_c);
            let watched = match from {
                Status::Controlled | Status::Extinguished => true,
                Status::Cleared => fire
                    .cleared_at
                    .is_some_and(|c| now - c <= Duration::days(rules.watch_days)),
                _ => false,
            };
            if hot && watched {
                let deadline = deadline::initial(fire.kind, now, &rules.deadlines);
                return Ok(Outcome {
                    from,
                    to: Status::Reignited,
                    deadline: Some(deadline),
                    reignited: true,
                });
            }
            same(from)
        }
        Action::Extinguish => same(Status::Extinguished),
        Action::Clear => same(Status::Cleared),
        Action::Dismiss => {
            if req.duplicate_of.is_none() {
                require(&req.reason, "reason")?;
            }
            same(Status::Dismissed)
        }
        // Only a fire past its deadline is urged: before it the party still has time.
        Action::Urge if !timely(action, fire, now) => Err(Refusal::Invalid {
            field: "deadline",
            problem: "urge_not_overdue",
        }),
        Action::Urge => same(from),
        Action::Reassign => {
            require(&req.reason, "reason")?;
            if req.responsible.is_none() {
                return Err(Refusal::Invalid {
                    field: "responsible",
                    problem: "required",
                });
            }
            same(from)
        }
    }
}

/// Whether a controlled fire has met the extinguished standard: the observation period has passed
/// since it was controlled, with at least `min_inspections` readings, all below the threshold.
pub fn ready_to_extinguish(fire: &FireState, now: DateTime<Utc>, rules: &Rules) -> bool {
    let Some(since) = fire.controlled_at else {
        return false;
    };
    fire.status == Status::Controlled
        && now - since >= Duration::days(rules.observation_days)
        && fire.readings_since_control.len() >= rules.min_inspections
        && fire
            .readings_since_control
            .iter()
            .all(|(_, t)| *t < rules.threshold_c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::case::Transitions;
    use crate::domain::testing::{actor, t};

    fn holder_fire(status: Status) -> FireState {
        FireState {
            status,
            kind: FireKind::WasteDump,
            responsible: Responsible::for_holder("甲公司", "150303"),
            controlled_at: None,
            cleared_at: None,
            readings_since_control: vec![],
            deadline: None,
        }
    }

    /// A fire of `status` past its deadline (on 2026-04-01).
    fn overdue_fire(status: Status) -> FireState {
        FireState {
            deadline: Some(t("2026-04-01T00:00:00Z")),
            ..holder_fire(status)
        }
    }

    fn req() -> Request {
        Request::default()
    }

    /// `decide` now under the default rules.
    fn decide_now(
        actor: &Actor,
        action: Action,
        fire: &FireState,
        req: &Request,
    ) -> Result<Outcome, Refusal> {
        decide(actor, action, fire, req, Utc::now(), &Rules::default())
    }

    #[test]
    fn burning_and_open_follow_the_product_definition() {
        let burning: Vec<_> = Status::ALL.into_iter().filter(|s| s.is_burning()).collect();
        assert_eq!(
            burning,
            vec![
                Status::Reported,
                Status::Confirmed,
                Status::Treating,
                Status::Reignited
            ]
        );
        let open: Vec<_> = Status::ALL.into_iter().filter(|s| s.is_open()).collect();
        assert_eq!(open.len(), 6);
        assert!(!Status::Cleared.is_open() && !Status::Dismissed.is_open());
    }

    /// Every (role, action, state) combination, checked against the table in PRODUCT.md.
    #[test]
    fn every_transition_is_allowed_or_refused_as_drawn() {
        let now = t("2026-05-01T00:00:00Z");
        let rules = Rules::default();
        for role in Role::ALL {
            let a = actor(role);
            for action in Action::ALL {
                for status in Status::ALL {
                    let fire = overdue_fire(status);
                    let r = Request {
                        temp_c: Some(30.0),
                        method: Some("grouting".into()),
                        note: Some("n".into()),
                        reason: Some("r".into()),
                        responsible: Some(Responsible::for_district("150303", "乌达区")),
                        ..req()
                    };
                    let got = decide(&a, action, &fire, &r, now, &rules);
                    let role_ok = action.roles().contains(&role)
                        && (!matches!(
                            action,
                            Action::StartTreatment | Action::Progress | Action::Control
                        ) || role == Role::Owner);
                    let state_ok = action.from_states().contains(&status);
                    match got {
                        Err(Refusal::Forbidden) => {
                            assert!(!role_ok, "{role:?} {action:?} {status:?}")
                        }
                        Err(Refusal::NotAllowed { .. }) => assert!(role_ok && !state_ok),
                        Ok(o) => {
                            assert!(role_ok && state_ok, "{role:?} {action:?} {status:?}");
                            let expected = match action {
                                Action::Confirm => Status::Confirmed,
                                Action::StartTreatment => Status::Treating,
                                Action::Control => Status::Controlled,
                                Action::Extinguish => Status::Extinguished,
                                Action::Clear => Status::Cleared,
                                Action::Dismiss => Status::Dismissed,
                                _ => status,
                            };
                            assert_eq!(o.to, expected, "{role:?} {action:?} {status:?}");
                        }
                        Err(e) => panic!("{role:?} {action:?} {status:?}: {e:?}"),
                    }
                }
            }
        }
    }

    #[test]
    fn only_an_overdue_burning_fire_is_urged_and_only_by_a_manager() {
        let now = t("2026-05-01T00:00:00Z");
        let rules = Rules::default();
        let manager = actor(Role::Manager);
        let overdue = overdue_fire(Status::Treating);
        let o = decide(&manager, Action::Urge, &overdue, &req(), now, &rules).expect("urged");
        assert!(allowed_actions(&manager, &overdue, now).contains(&Action::Urge));
        assert_eq!(
            (o.from, o.to, o.deadline),
            (Status::Treating, Status::Treating, None)
        );
        let in_time = FireState {
            deadline: Some(t("2026-05-02T00:00:00Z")),
            ..holder_fire(Status::Treating)
        };
        assert!(!allowed_actions(&manager, &in_time, now).contains(&Action::Urge));
        assert_eq!(
            decide(&manager, Action::Urge, &in_time, &req(), now, &rules),
            Err(Refusal::Invalid {
                field: "deadline",
                problem: "urge_not_overdue"
            })
        );
        assert_eq!(
            decide(
                &actor(Role::Owner),
                Action::Urge,
                &overdue,
                &req(),
                now,
                &rules
            ),
            Err(Refusal::Forbidden)
        );
        assert!(matches!(
            decide(
                &manager,
                Action::Urge,
                &overdue_fire(Status::Controlled),
                &req(),
                now,
                &rules
            ),
            Err(Refusal::NotAllowed { .. })
        ));
    }

    #[test]
    fn a_refused_state_names_the_actions_that_are_allowed() {
        let fire = holder_fire(Status::Treating);
        let got = decide_now(&actor(Role::Manager), Action::Clear, &fire, &req());
        assert_eq!(
            got,
            Err(Refusal::NotAllowed {
                status: Status::Treating,
                allowed: vec![Action::Inspect, Action::Reassign]
            })
        );
    }

    #[test]
    fn an_owner_of_another_holder_may_not_treat() {
        let mut other = actor(Role::Owner);
        other.holder = Some("乙公司".into());
        let got = decide_now(
            &other,
            Action::StartTreatment,
            &holder_fire(Status::Confirmed),
            &req(),
        );
        assert_eq!(got, Err(Refusal::Forbidden));
    }

    #[test]
    fn a_district_officer_treats_only_fires_its_government_is_responsible_for() {
        let officer = actor(Role::District);
        let mut fire = holder_fire(Status::Confirmed);
        let r = Request {
            method: Some("water".into()),
            ..req()
        };
        assert_eq!(
            decide_now(&officer, Action::StartTreatment, &fire, &r),
            Err(Refusal::Forbidden)
        );
        fire.responsible = Responsible::for_district("150303", "乌达区");
        assert_eq!(
            decide_now(&officer, Action::StartTreatment, &fire, &r).map(|o| o.to),
            Ok(Status::Treating)
        );
        fire.responsible = Responsible::for_district("150302", "海勃湾区");
        assert_eq!(
            decide_now(&officer, Action::StartTreatment, &fire, &r),
            Err(Refusal::Forbidden)
        );
    }

    #[test]
    fn control_needs_a_reading_below_the_threshold() {
        let owner = actor(Role::Owner);
        let fire = holder_fire(Status::Treating);
        let rules = Rules::default();
        let missing = decide(&owner, Action::Control, &fire, &req(), Utc::now(), &rules);
        assert_eq!(
            missing,
            Err(Refusal::Invalid {
                field: "temp_c",
                problem: "required"
            })
        );
        let hot = Request {
            temp_c: Some(50.0),
            ..req()
        };
        assert_eq!(
            decide(&owner, Action::Control, &fire, &hot, Utc::now(), &rules),
            Err(Refusal::Invalid {
                field: "temp_c",
                problem: "not_below_threshold"
            })
        );
    }

    #[test]
    fn a_hot_reading_reignites_controlled_extinguished_and_watched_cleared_fires() {
        let patrol = actor(Role::Patrol);
        let rules = Rules::default();
        let now = t("2026-06-01T00:00:00Z");
        let hot = Request {
            temp_c: Some(80.0),
            ..req()
        };
        for status in [Status::Controlled, Status::Extinguished, Status::Cleared] {
            let mut fire = holder_fire(status);
            fire.cleared_at = Some(t("2026-01-01T00:00:00Z"));
            let o = decide(&patrol, Action::Inspect, &fire, &hot, now, &rules).expect("inspect");
            assert_eq!((o.to, o.reignited), (Status::Reignited, true));
            assert_eq!(o.deadline, Some(now + Duration::hours(72)));
        }
        // Past the one-year watch, a cleared fire only records the reading.
        let mut old = holder_fire(Status::Cleared);
        old.cleared_at = Some(t("2025-05-01T00:00:00Z"));
        let o = decide(&patrol, Action::Inspect, &old, &hot, now, &rules).expect("inspect");
        assert_eq!((o.to, o.reignited), (Status::Cleared, false));
        // A burning fire stays as it is.
        let o = decide(
            &patrol,
            Action::Inspect,
            &holder_fire(Status::Treating),
            &hot,
            now,
            &rules,
        )
        .expect("inspect");
        assert_eq!(o.to, Status::Treating);
    }

    #[test]
    fn dismiss_needs_a_reason_or_the_original() {
        let m = actor(Role::Manager);
        let fire = holder_fire(Status::Reported);
        let rules = Rules::default();
        assert_eq!(
            decide(&m, Action::Dismiss, &fire, &req(), Utc::now(), &rules),
            Err(Refusal::Invalid {
                field: "reason",
                problem: "required"
            })
        );
        let dup = Request {
            duplicate_of: Some("x".into()),
            ..req()
        };
        assert_eq!(
            decide(&m, Action::Dismiss, &fire, &dup, Utc::now(), &rules).map(|o| o.to),
            Ok(Status::Dismissed)
        );
    }

    #[test]
    fn reassign_needs_a_reason_and_a_party() {
        let m = actor(Role::Manager);
        let fire = holder_fire(Status::Treating);
        let rules = Rules::default();
        let no_party = Request {
            reason: Some("边界纠纷".into()),
            ..req()
        };
        assert_eq!(
            decide(&m, Action::Reassign, &fire, &no_party, Utc::now(), &rules),
            Err(Refusal::Invalid {
                field: "responsible",
                problem: "required"
            })
        );
        let ok = Request {
            responsible: Some(Responsible::for_district("150303", "乌达区")),
            ..no_party
        };
        assert!(decide(&m, Action::Reassign, &fire, &ok, Utc::now(), &rules).is_ok());
    }

    #[test]
    fn a_seam_plan_sets_the_deadline_to_its_completion_date() {
        let owner = actor(Role::Owner);
        let mut fire = holder_fire(Status::Confirmed);
        fire.kind = FireKind::CoalSeam;
        let now = t("2026-03-01T00:00:00Z");
        let r = Request {
            method: Some("grouting".into()),
            plan_due: NaiveDate::from_ymd_opt(2026, 4, 30),
            ..req()
        };
        let o = decide(
            &owner,
            Action::StartTreatment,
            &fire,
            &r,
            now,
            &Rules::default(),
        )
        .expect("start");
        assert_eq!(o.deadline, Some(t("2026-04-30T16:00:00Z")));
        let bad = Request {
            method: Some("prayer".into()),
            ..r
        };
        assert_eq!(
            decide(
                &owner,
                Action::StartTreatment,
                &fire,
                &bad,
                now,
                &Rules::default()
            ),
            Err(Refusal::Invalid {
                field: "method",
                problem: "unknown_method"
            })
        );
    }

    #[test]
    fn extinguished_needs_the_period_the_inspections_and_cool_readings() {
        let rules = Rules::default();
        let mut fire = holder_fire(Status::Controlled);
        fire.controlled_at = Some(t("2026-01-01T00:00:00Z"));
        fire.readings_since_control = vec![
            (t("2026-01-10T00:00:00Z"), 40.0),
            (t("2026-01-20T00:00:00Z"), 35.0),
        ];
        assert!(
            !ready_to_extinguish(&fire, t("2026-02-15T00:00:00Z"), &rules),
            "two inspections are not enough"
        );
        fire.readings_since_control
            .push((t("2026-01-30T00:00:00Z"), 30.0));
        assert!(
            !ready_to_extinguish(&fire, t("2026-01-30T00:00:00Z"), &rules),
            "the period has not passed"
        );
        assert!(ready_to_extinguish(
            &fire,
            t("2026-01-31T00:00:00Z"),
            &rules
        ));
        fire.status = Status::Treating;
        assert!(!ready_to_extinguish(
            &fire,
            t("2026-02-15T00:00:00Z"),
            &rules
        ));
    }
}

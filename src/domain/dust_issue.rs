//! The life of a dust violation (扬尘违规) a patrol logs in the field: kinds, states, actions, who
//! may take them, and the rectification deadline.
//!
//! ```text
//!           start                 rectified              verify
//! open ────────────▶ rectifying ────────────▶ rectified ─────────▶ verified
//! 待整改              整改中     ◀──────────── 已整改                已核验
//!   │                                reject      ▲
//!   └────────────────────── rectified ───────────┘
//! ```
//!
//! | action | who | from → to |
//! | --- | --- | --- |
//! | `start` | the responsible party (its owner, or the district officer when the district is responsible), a manager | open → rectifying |
//! | `rectified` (note required) | the responsible party, a manager | open, rectifying → rectified |
//! | `verify` | a patrol, a manager | rectified → verified |
//! | `reject` (note required: the reason) | a patrol, a manager | rectified → rectifying |

use chrono::{DateTime, Days, Utc};
use serde::{Deserialize, Serialize};

use super::case;
use super::deadline::{end_of_local_day, local_date};
use super::fire::is_responsible;
use super::responsibility::Responsible;
use super::role::{Actor, Role};

crate::named! {
    /// What the patrol saw.
    pub enum IssueKind {
        /// 物料露天堆放未苫盖.
        OpenStockpile = "open_stockpile",
        /// 道路未硬化.
        UnhardenedRoad = "unhardened_road",
        /// 道路未清扫.
        UnsweptRoad = "unswept_road",
        /// 运输车辆未苫盖.
        UncoveredTruck = "uncovered_truck",
        /// 非规定时段爆破.
        BlastingOutsideWindow = "blasting_outside_window",
        /// 未洒水降尘.
        NoSpraying = "no_spraying",
    }
}

crate::named! {
    /// Where a violation is in its life.
    pub enum Status {
        Open = "open",
        Rectifying = "rectifying",
        Rectified = "rectified",
        Verified = "verified",
    }
}

impl Status {
    /// Still the responsible party's to fix: what the deadline applies to.
    pub fn awaits_rectification(self) -> bool {
        matches!(self, Status::Open | Status::Rectifying)
    }
}

crate::named! {
    /// Everything a user can ask to do to a reported violation.
    pub enum Action {
        Start = "start",
        Rectified = "rectified",
        Verify = "verify",
        Reject = "reject",
    }
}

impl case::Transitions for Action {
    type Status = Status;

    fn from_states(self) -> &'static [Status] {
        match self {
            Action::Start => &[Status::Open],
            Action::Rectified => &[Status::Open, Status::Rectifying],
            Action::Verify | Action::Reject => &[Status::Rectified],
        }
    }
}

impl Action {
    /// Where the action leads.
    pub fn to(self) -> Status {
        match self {
            Action::Start | Action::Reject => Status::Rectifying,
            Action::Rectified => Status::Rectified,
            Action::Verify => Status::Verified,
        }
    }

    /// Whether the action needs a note (what was done; why it is rejected).
    pub fn needs_note(self) -> bool {
        matches!(self, Action::Rectified | Action::Reject)
    }
}

/// Roles that may log a violation: the patrols who find them, and managers.
pub const REPORTERS: [Role; 2] = [Role::Patrol, Role::Manager];

/// Configurable defaults (the `dust_issue_rules` setting).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct DustIssueRules {
    /// A violation is due at the end of the local day (UTC+8) this many days after the report.
    pub deadline_days: u32,
    /// Codes read `{prefix}-{year}-{seq:04}` (扬尘 → YC).
    pub code_prefix: String,
}

impl Default for DustIssueRules {
    fn default() -> Self {
        DustIssueRules {
            deadline_days: 3,
            code_prefix: "YC".into(),
        }
    }
}

impl DustIssueRules {
    /// What is wrong with these rules, for `qingling rules`-style checks before saving.
    pub fn problems(&self) -> Vec<String> {
        let mut out = vec![];
        if !(1..=365).contains(&self.deadline_days) {
            out.push(format!(
                "deadline_days must be 1 to 365, not {}",
                self.deadline_days
            ));
        }
        if self.code_prefix.is_empty()
            || !self
                .code_prefix
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        {
            out.push(format!(
                "code_prefix must be capital letters and digits, not {:?}",
                self.code_prefix
            ));
        }
        out
    }
}

/// The rectification deadline of a violation reported at `at`: the end of the local day
/// `deadline_days` after the report's local day (reported Monday 10:00 with 3 days → due by the
/// end of Thursday, 24:00 UTC+8).
pub fn deadline(at: DateTime<Utc>, rules: &DustIssueRules) -> DateTime<Utc> {
    let day = local_date(at);
    end_of_local_day(
        day.checked_add_days(Days::new(rules.deadline_days.into()))
            .unwrap_or(day),
    )
}

/// Whether a violation is past its deadline and still not rectified.
pub fn overdue(status: Status, deadline: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    status.awaits_rectification() && deadline < now
}

/// What the rules need to know about a violation to decide an action.
#[derive(Debug, Clone)]
pub struct IssueState {
    pub status: Status,
    pub responsible: Responsible,
}

/// Why an action on a violation was refused (the case core's refusal).
pub type Refusal = case::Refusal<Status, Action>;

/// Whether this actor may ever take this action on this violation, whatever its state.
pub fn may_act(actor: &Actor, action: Action, issue: &IssueState) -> bool {
    match action {
        Action::Start | Action::Rectified => {
            actor.role == Role::Manager || is_responsible(actor, &issue.responsible)
        }
        Action::Verify | Action::Reject => matches!(actor.role, Role::Patrol | Role::Manager),
    }
}

/// The actions this actor may take now.
pub fn allowed_actions(actor: &Actor, issue: &IssueState) -> Vec<Action> {
    case::possible(issue.status, |a| may_act(actor, a, issue))
}

/// Decides an action: a role (or party) that may never take it gets `Forbidden`, then a state
/// that does not allow it `NotAllowed`, then a missing note `Invalid`; otherwise the new state.
pub fn decide(
    actor: &Actor,
    action: Action,
    issue: &IssueState,
    note: Option<&str>,
) -> Result<Status, Refusal> {
    case::check(action, issue.status, |a| may_act(actor, a, issue))?;
    if action.needs_note() && note.is_none_or(|n| n.trim().is_empty()) {
        return Err(Refusal::Invalid {
            field: "note",
            problem: "required",
        });
    }
    Ok(action.to())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::testing::{actor, t};

    fn holder_issue(status: Status) -> IssueState {
        IssueState {
            status,
            responsible: Responsible::for_holder("甲公司", "150303"),
        }
    }

    fn district_issue(status: Status, code: &str) -> IssueState {
        IssueState {
            status,
            responsible: Responsible::for_district(code, "某区"),
        }
    }

    #[test]
    fn kinds_statuses_and_actions_round_trip_through_their_names() {
        for k in IssueKind::ALL {
            assert_eq!(IssueKind::parse(k.as_str()), Some(k));
        }
        for s in Status::ALL {
            assert_eq!(Status::parse(s.as_str()), Some(s));
        }
        for a in Action::ALL {
            assert_eq!(Action::parse(a.as_str()), Some(a));
        }
        assert_eq!(IssueKind::parse("volcano"), None);
        assert_eq!(
            serde_json::to_value(IssueKind::BlastingOutsideWindow).expect("json"),
            "blasting_outside_window"
        );
    }

    /// Every (role, action, state) on a holder's violation, against the table in the module doc.
    #[test]
    fn every_transition_is_allowed_or_refused_as_drawn() {
        for role in Role::ALL {
            let a = actor(role);
            for action in Action::ALL {
                for status in Status::ALL {
                    let issue = holder_issue(status);
                    let role_ok = match action {
                        Action::Start | Action::Rectified => {
                            matches!(role, Role::Owner | Role::Manager)
                        }
                        Action::Verify | Action::Reject => {
                            matches!(role, Role::Patrol | Role::Manager)
                        }
                    };
                    let state_ok = match action {
                        Action::Start => status == Status::Open,
                        Action::Rectified => {
                            matches!(status, Status::Open | Status::Rectifying)
                        }
                        Action::Verify | Action::Reject => status == Status::Rectified,
                    };
                    let got = decide(&a, action, &issue, Some("已处理"));
                    match got {
                        Err(Refusal::Forbidden) => assert!(!role_ok, "{role:?} {action:?}"),
                        Err(Refusal::NotAllowed { .. }) => {
                            assert!(role_ok && !state_ok, "{role:?} {action:?} {status:?}")
                        }
                        Ok(to) => {
                            assert!(role_ok && state_ok, "{role:?} {action:?} {status:?}");
                            assert_eq!(to, action.to());
                        }
                        Err(e) => panic!("{role:?} {action:?} {status:?}: {e:?}"),
                    }
                }
            }
        }
    }

    #[test]
    fn the_whole_life_runs_open_to_verified_and_a_reject_sends_it_back() {
        let owner = actor(Role::Owner);
        let patrol = actor(Role::Patrol);
        let mut issue = holder_issue(Status::Open);
        for (who, action, note) in [
            (&owner, Action::Start, None),
            (&owner, Action::Rectified, Some("已苫盖")),
            (&patrol, Action::Reject, Some("仍有裸露")),
            (&owner, Action::Rectified, Some("全部苫盖")),
            (&patrol, Action::Verify, None),
        ] {
            issue.status = decide(who, action, &issue, note).expect("allowed");
        }
        assert_eq!(issue.status, Status::Verified);
        assert!(allowed_actions(&actor(Role::Manager), &issue).is_empty());
    }

    #[test]
    fn the_district_officer_acts_only_for_violations_its_government_answers_for() {
        let officer = actor(Role::District);
        // A holder's violation in the officer's own district: seen, but not the officer's to fix.
        assert_eq!(
            decide(&officer, Action::Start, &holder_issue(Status::Open), None),
            Err(Refusal::Forbidden)
        );
        assert_eq!(
            decide(
                &officer,
                Action::Start,
                &district_issue(Status::Open, "150303"),
                None
            ),
            Ok(Status::Rectifying)
        );
        assert_eq!(
            decide(
                &officer,
                Action::Start,
                &district_issue(Status::Open, "150302"),
                None
            ),
            Err(Refusal::Forbidden),
            "another district's"
        );
        assert_eq!(
            decide(
                &officer,
                Action::Verify,
                &district_issue(Status::Rectified, "150303"),
                None
            ),
            Err(Refusal::Forbidden),
            "the party does not verify its own work"
        );
    }

    #[test]
    fn an_owner_of_another_holder_may_not_act() {
        let mut other = actor(Role::Owner);
        other.holder = Some("乙公司".into());
        assert_eq!(
            decide(&other, Action::Start, &holder_issue(Status::Open), None),
            Err(Refusal::Forbidden)
        );
        assert!(allowed_actions(&other, &holder_issue(Status::Open)).is_empty());
    }

    #[test]
    fn a_refused_state_names_what_is_possible_now() {
        assert_eq!(
            decide(
                &actor(Role::Manager),
                Action::Verify,
                &holder_issue(Status::Rectifying),
                None
            ),
            Err(Refusal::NotAllowed {
                status: Status::Rectifying,
                allowed: vec![Action::Rectified]
            })
        );
        assert_eq!(
            allowed_actions(&actor(Role::Patrol), &holder_issue(Status::Rectified)),
            vec![Action::Verify, Action::Reject]
        );
    }

    #[test]
    fn rectified_and_reject_need_a_note_but_the_role_and_state_are_checked_first() {
        let owner = actor(Role::Owner);
        let patrol = actor(Role::Patrol);
        let missing = Err(Refusal::Invalid {
            field: "note",
            problem: "required",
        });
        assert_eq!(
            decide(&owner, Action::Rectified, &holder_issue(Status::Open), None),
            missing
        );
        assert_eq!(
            decide(
                &patrol,
                Action::Reject,
                &holder_issue(Status::Rectified),
                Some("  ")
            ),
            missing
        );
        assert_eq!(
            decide(
                &patrol,
                Action::Rectified,
                &holder_issue(Status::Open),
                None
            ),
            Err(Refusal::Forbidden)
        );
        assert!(matches!(
            decide(&owner, Action::Start, &holder_issue(Status::Verified), None),
            Err(Refusal::NotAllowed { .. })
        ));
    }

    #[test]
    fn the_deadline_is_the_end_of_the_local_day_n_days_after_the_report() {
        let rules = DustIssueRules::default();
        // 2026-05-01 10:00 in Wuhai → due by the end of 2026-05-04, 16:00 UTC.
        assert_eq!(
            deadline(t("2026-05-01T02:00:00Z"), &rules),
            t("2026-05-04T16:00:00Z")
        );
        // 23:30 UTC on 30 April is already 1 May in Wuhai.
        assert_eq!(
            deadline(t("2026-04-30T23:30:00Z"), &rules),
            t("2026-05-04T16:00:00Z")
        );
        let one_day = DustIssueRules {
            deadline_days: 1,
            ..rules
        };
        assert_eq!(
            deadline(t("2026-12-31T10:00:00Z"), &one_day),
            t("2027-01-01T16:00:00Z")
        );
    }

    #[test]
    fn only_open_or_rectifying_violations_past_their_deadline_are_overdue() {
        let due = t("2026-05-04T16:00:00Z");
        let after = t("2026-05-05T00:00:00Z");
        assert!(overdue(Status::Open, due, after));
        assert!(overdue(Status::Rectifying, due, after));
        assert!(!overdue(Status::Rectified, due, after));
        assert!(!overdue(Status::Verified, due, after));
        assert!(!overdue(Status::Open, due, t("2026-05-04T15:59:59Z")));
    }

    #[test]
    fn rules_are_checked_and_default_to_three_days_and_yc() {
        let d = DustIssueRules::default();
        assert_eq!((d.deadline_days, d.code_prefix.as_str()), (3, "YC"));
        assert!(d.problems().is_empty());
        let bad: DustIssueRules =
            serde_json::from_value(serde_json::json!({"deadline_days": 0, "code_prefix": "y c"}))
                .expect("parses");
        assert_eq!(bad.problems().len(), 2);
        let partial: DustIssueRules =
            serde_json::from_value(serde_json::json!({"deadline_days": 5})).expect("parses");
        assert_eq!(partial.code_prefix, "YC");
    }
}

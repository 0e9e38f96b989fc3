//! A dust alert's life, pure: open → rectifying → closed, who may take which step, what a
//! returning exceedance does to the latest case, and which alerts an actor sees and answers for.
//! The case itself is stored behind `store::dust::alerts`.

use super::DustRules;
use crate::domain::access::Scope;
use crate::domain::case;
use crate::domain::responsibility::Party;
use crate::domain::role::{Actor, Role};

crate::named! {
    /// Where a dust alert stands.
    pub enum Status {
        Open = "open",
        Rectifying = "rectifying",
        Closed = "closed",
    }
}

crate::named! {
    /// What a person may do to a dust alert.
    pub enum Action {
        /// The responsible party says it is dealing with the source (spraying, covering,
        /// stopping).
        StartRectifying = "start_rectifying",
        /// A manager closes the case.
        Close = "close",
    }
}

impl case::Transitions for Action {
    type Status = Status;

    fn from_states(self) -> &'static [Status] {
        match self {
            Action::StartRectifying => &[Status::Open],
            Action::Close => &[Status::Open, Status::Rectifying],
        }
    }
}

impl Action {
    /// The state this action leads to.
    fn to(self) -> Status {
        match self {
            Action::StartRectifying => Status::Rectifying,
            Action::Close => Status::Closed,
        }
    }
}

/// Why an action on an alert was refused (the case core's refusal).
pub type Refusal = case::Refusal<Status, Action>;

/// Who may take an action: the responsible party starts rectifying (its owner, or the district
/// officer when the district is responsible), a manager closes (and may do both).
pub fn may(action: Action, role: Role, is_responsible: bool) -> bool {
    match action {
        Action::StartRectifying => role == Role::Manager || is_responsible,
        Action::Close => role == Role::Manager,
    }
}

/// Decides an action on an alert in `status`.
pub fn decide(
    action: Action,
    status: Status,
    role: Role,
    is_responsible: bool,
) -> Result<Status, Refusal> {
    case::check(action, status, |a| may(a, role, is_responsible))?;
    Ok(action.to())
}

/// What an exceedance does to the latest alert of the same monitor, pollutant and window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnExceedance {
    /// Still open or rectifying: the new means join its evidence.
    AddEvidence,
    /// Closed a short while ago: the source is back, the same case re-opens.
    Reopen,
    /// No alert, or one closed long ago: a new alert.
    New,
}

/// `latest`: the latest alert's status and, when closed, its closing time (Unix seconds).
pub fn on_exceedance(
    rules: &DustRules,
    latest: Option<(Status, Option<i64>)>,
    now: i64,
) -> OnExceedance {
    match latest {
        Some((Status::Open | Status::Rectifying, _)) => OnExceedance::AddEvidence,
        Some((Status::Closed, Some(closed)))
            if now - closed <= rules.reopen_within_hours * 3600 =>
        {
            OnExceedance::Reopen
        }
        _ => OnExceedance::New,
    }
}

/// What of a case decides who sees it and who answers for it.
#[derive(Debug, Clone, Copy)]
pub struct Parties<'a> {
    pub status: Status,
    /// The party the case is routed to.
    pub party: Option<Party>,
    pub holder: Option<&'a str>,
    pub district: Option<&'a str>,
}

/// Which alerts an actor sees: managers all, district officers their district's, owners their
/// holder's, patrols those not closed (a list asks the store for exactly these).
/// The same reach as a fire's.
pub fn scope(actor: &Actor) -> Scope {
    crate::domain::access::fire_scope(actor)
}

/// Whether an actor may see an alert: managers all, district officers their district, owners
/// their holder's, patrols every one not closed.
pub fn visible(actor: &Actor, c: &Parties) -> bool {
    case::in_scope(
        &scope(actor),
        c.district.unwrap_or_default(),
        c.holder,
        c.status != Status::Closed,
    )
}

/// Whether the actor answers for the alert: the owner of its holder, or the district officer
/// of a district-routed one.
pub fn answers_for(actor: &Actor, c: &Parties) -> bool {
    c.party
        .is_some_and(|p| case::answers_for(actor, p, c.holder, c.district.unwrap_or_default()))
}

/// The actions the actor may take on the alert now (for the web app's buttons).
pub fn allowed_actions(actor: &Actor, c: &Parties) -> Vec<Action> {
    let responsible = answers_for(actor, c);
    case::possible(c.status, |a| may(a, actor.role, responsible))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_alert_life_is_open_rectifying_closed() {
        use Action::*;
        assert_eq!(
            decide(StartRectifying, Status::Open, Role::Owner, true),
            Ok(Status::Rectifying)
        );
        assert_eq!(
            decide(StartRectifying, Status::Open, Role::Owner, false),
            Err(Refusal::Forbidden)
        );
        assert_eq!(
            decide(Close, Status::Rectifying, Role::Owner, true),
            Err(Refusal::Forbidden)
        );
        assert_eq!(
            decide(Close, Status::Rectifying, Role::Manager, false),
            Ok(Status::Closed)
        );
        assert_eq!(
            decide(StartRectifying, Status::Rectifying, Role::Owner, true),
            Err(Refusal::NotAllowed {
                status: Status::Rectifying,
                allowed: vec![]
            })
        );
        assert_eq!(
            decide(Close, Status::Closed, Role::Manager, false),
            Err(Refusal::NotAllowed {
                status: Status::Closed,
                allowed: vec![]
            })
        );
    }

    #[test]
    fn a_returning_exceedance_reopens_only_a_recently_closed_alert() {
        let r = DustRules::default();
        assert_eq!(on_exceedance(&r, None, 0), OnExceedance::New);
        assert_eq!(
            on_exceedance(&r, Some((Status::Rectifying, None)), 0),
            OnExceedance::AddEvidence
        );
        assert_eq!(
            on_exceedance(&r, Some((Status::Closed, Some(0))), 72 * 3600),
            OnExceedance::Reopen
        );
        assert_eq!(
            on_exceedance(&r, Some((Status::Closed, Some(0))), 72 * 3600 + 1),
            OnExceedance::New
        );
    }
}

//! What each role may read: a scope per layer (declared in `layers/*.toml`), resolved for one user.

use serde::{Deserialize, Serialize};

use super::role::{Actor, Role};

/// How much of a layer a role may read, as declared in a layer file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScopeKind {
    /// Every feature.
    All,
    /// Features in the user's district.
    District,
    /// Features of the user's holder (fires: those it is responsible for).
    Holder,
    /// Open fires, and cleared ones still on the re-ignition watch (patrols, to avoid duplicates).
    Open,
    /// Nothing.
    None,
}

/// A scope bound to one user: what the store filters by.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Scope {
    All,
    District(String),
    Holder(String),
    Open,
    Nothing,
}

impl ScopeKind {
    /// Binds the scope to a user. A district officer or owner with no binding sees nothing.
    pub fn bind(self, actor: &Actor) -> Scope {
        match self {
            ScopeKind::All => Scope::All,
            ScopeKind::District => actor
                .district
                .clone()
                .map_or(Scope::Nothing, Scope::District),
            ScopeKind::Holder => actor
                .holder
                .clone()
                .filter(|h| !h.is_empty())
                .map_or(Scope::Nothing, Scope::Holder),
            ScopeKind::Open => Scope::Open,
            ScopeKind::None => Scope::Nothing,
        }
    }
}

/// Fire visibility (issue 2): a manager everything, a district officer its district, an owner the
/// fires it is responsible for, a patrol every open (or watched) fire.
pub fn fire_scope(actor: &Actor) -> Scope {
    match actor.role {
        Role::Manager => ScopeKind::All,
        Role::District => ScopeKind::District,
        Role::Owner => ScopeKind::Holder,
        Role::Patrol => ScopeKind::Open,
    }
    .bind(actor)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(role: Role, district: Option<&str>, holder: Option<&str>) -> Actor {
        Actor {
            username: "u".into(),
            role,
            district: district.map(Into::into),
            holder: holder.map(Into::into),
        }
    }

    #[test]
    fn each_role_gets_its_fire_scope() {
        assert_eq!(fire_scope(&actor(Role::Manager, None, None)), Scope::All);
        assert_eq!(
            fire_scope(&actor(Role::District, Some("150303"), None)),
            Scope::District("150303".into())
        );
        assert_eq!(
            fire_scope(&actor(Role::Owner, None, Some("甲"))),
            Scope::Holder("甲".into())
        );
        assert_eq!(fire_scope(&actor(Role::Patrol, None, None)), Scope::Open);
    }

    #[test]
    fn an_unbound_officer_or_owner_sees_nothing() {
        assert_eq!(
            fire_scope(&actor(Role::District, None, None)),
            Scope::Nothing
        );
        assert_eq!(
            fire_scope(&actor(Role::Owner, None, Some(""))),
            Scope::Nothing
        );
    }
}

/// Whether one fire is inside a bound scope. `watched` says whether a cleared fire is still on
/// the re-ignition watch.
pub fn fire_in_scope(
    scope: &Scope,
    status: crate::domain::fire::Status,
    district_code: &str,
    holder: Option<&str>,
    watched: bool,
) -> bool {
    match scope {
        Scope::All => true,
        Scope::District(c) => c == district_code,
        Scope::Holder(h) => holder == Some(h.as_str()),
        Scope::Open => {
            status.is_open() || (status == crate::domain::fire::Status::Cleared && watched)
        }
        Scope::Nothing => false,
    }
}

#[cfg(test)]
mod scope_tests {
    use super::*;
    use crate::domain::fire::Status;

    #[test]
    fn patrols_see_open_and_watched_fires_only() {
        assert!(fire_in_scope(
            &Scope::Open,
            Status::Treating,
            "150303",
            None,
            false
        ));
        assert!(fire_in_scope(
            &Scope::Open,
            Status::Cleared,
            "150303",
            None,
            true
        ));
        assert!(!fire_in_scope(
            &Scope::Open,
            Status::Cleared,
            "150303",
            None,
            false
        ));
        assert!(!fire_in_scope(
            &Scope::Open,
            Status::Dismissed,
            "150303",
            None,
            true
        ));
    }

    #[test]
    fn owners_and_districts_see_their_own() {
        assert!(fire_in_scope(
            &Scope::Holder("甲".into()),
            Status::Reported,
            "150303",
            Some("甲"),
            false
        ));
        assert!(!fire_in_scope(
            &Scope::Holder("甲".into()),
            Status::Reported,
            "150303",
            Some("乙"),
            false
        ));
        assert!(!fire_in_scope(
            &Scope::Holder("甲".into()),
            Status::Reported,
            "150303",
            None,
            false
        ));
        assert!(fire_in_scope(
            &Scope::District("150303".into()),
            Status::Reported,
            "150303",
            Some("乙"),
            false
        ));
        assert!(!fire_in_scope(
            &Scope::District("150302".into()),
            Status::Reported,
            "150303",
            None,
            false
        ));
    }
}

//! Who a signed-in user is: a role and, for district officers and owners, what it is bound to.

use serde::Serialize;

crate::named! {
    /// The four kinds of account.
    pub enum Role {
        Manager = "manager",
        District = "district",
        Owner = "owner",
        Patrol = "patrol",
    }
}

/// A user as the rules see it: enough to decide what they may read and do.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Actor {
    pub username: String,
    pub role: Role,
    /// District officers: the admin code of their district.
    pub district: Option<String>,
    /// Owners: the mining-right holder they act for.
    pub holder: Option<String>,
}

impl Actor {
    /// The system itself (automatic extinguish, re-ignition bookkeeping).
    pub fn system() -> Actor {
        Actor {
            username: "system".into(),
            role: Role::Manager,
            district: None,
            holder: None,
        }
    }

    /// Whether this reader may see the name of someone who acted in `role` on a fire or a
    /// violation: owners are not told which patrol, manager or district officer it was.
    pub fn sees_names_of(&self, role: &str) -> bool {
        !(self.role == Role::Owner && matches!(role, "patrol" | "manager" | "district"))
    }

    /// [`Actor::sees_names_of`] for a name whose role was not recorded: taken as an
    /// authority's, so that an unknown name is never shown to an owner.
    pub fn sees_name_of(&self, role: Option<&str>) -> bool {
        self.sees_names_of(role.unwrap_or(Role::Patrol.as_str()))
    }

    /// [`Actor::sees_names_of`] for names only the authorities fill in (a fire's reporter, an
    /// inspector, a warning's issuer, a compliance check's patrol).
    pub fn sees_authority_names(&self) -> bool {
        [Role::Patrol, Role::Manager, Role::District]
            .iter()
            .all(|r| self.sees_names_of(r.as_str()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn owners_do_not_see_who_of_the_authorities_acted() {
        let mut a = Actor::system();
        assert!(a.sees_names_of("patrol"));
        a.role = Role::Owner;
        assert!(!a.sees_names_of("patrol") && !a.sees_names_of("district"));
        assert!(a.sees_names_of("owner") && a.sees_names_of("system"));
        assert!(!a.sees_name_of(None) && a.sees_name_of(Some("owner")));
        assert!(!a.sees_authority_names());
        a.role = Role::District;
        assert!(a.sees_authority_names() && a.sees_name_of(None));
    }
}

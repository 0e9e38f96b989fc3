//! What every case shares — a fire point, a dust violation, a dust alert: statuses and actions
//! with names, who may take an action in which state, why an action is refused, and who may see
//! a case. Each kind keeps only its own table of transitions and its own extra rules.
//!
//! ```text
//!   an action on a case:  may this actor ever take it?  ── no ──▶ Forbidden (403)
//!                         │ yes
//!                         is it allowed from the state? ── no ──▶ NotAllowed (409, what is possible)
//!                         │ yes
//!                         are its inputs right?         ── no ──▶ Invalid (422, field and problem)
//!                         │ yes
//!                         the new state
//! ```

use super::access::Scope;
use super::responsibility::Party;
use super::role::{Actor, Role};

/// A closed set of values with one name each (statuses, actions, kinds, roles), declared with
/// the `named!` macro: the names are the wire format, the stored text and the
/// translation keys' suffixes.
pub trait Named: Copy + Eq + 'static {
    /// Every value, in declaration order.
    fn all() -> &'static [Self];
    fn name(self) -> &'static str;
    fn from_name(s: &str) -> Option<Self> {
        Self::all().iter().copied().find(|v| v.name() == s)
    }
}

/// Declares an enum of named values: `Copy`, serialized by its names, with `ALL`, `as_str` and
/// `parse`, and [`Named`]. One name per variant, written once.
///
/// ```
/// qingling::named! {
///     /// How it went.
///     pub enum Outcome {
///         Won = "won",
///         Lost = "lost",
///     }
/// }
/// assert_eq!(Outcome::parse("lost"), Some(Outcome::Lost));
/// assert_eq!(Outcome::ALL.map(Outcome::as_str), ["won", "lost"]);
/// assert_eq!(serde_json::to_string(&Outcome::Won).unwrap(), "\"won\"");
/// ```
#[macro_export]
macro_rules! named {
    ($(#[$meta:meta])* $vis:vis enum $name:ident {
        $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)?
    }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
        $vis enum $name {
            $($(#[$vmeta])* #[serde(rename = $text)] $variant),+
        }

        impl $name {
            pub const ALL: [$name; [$($text),+].len()] = [$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }

            pub fn parse(s: &str) -> Option<$name> {
                $name::ALL.into_iter().find(|v| v.as_str() == s)
            }
        }

        impl $crate::domain::case::Named for $name {
            fn all() -> &'static [Self] {
                &$name::ALL
            }
            fn name(self) -> &'static str {
                self.as_str()
            }
        }
    };
}

/// Why an action on a case was refused.
#[derive(Debug, Clone, PartialEq)]
pub enum Refusal<S, A> {
    /// This role (or this party) may never take it on this case: 403.
    Forbidden,
    /// Not from the current state: 409, with what this actor may do now.
    NotAllowed { status: S, allowed: Vec<A> },
    /// A field is missing or out of range: 422 (field, message key).
    Invalid {
        field: &'static str,
        problem: &'static str,
    },
}

/// The first two checks every action goes through, in the order every kind keeps: `may` (role
/// and party, whatever the state), then whether `status` is one the action is taken from.
/// `allowed` lists what this actor may do now, for the 409.
pub fn gate<S: Copy, A>(
    may: bool,
    status: S,
    from_status_ok: bool,
    allowed: impl FnOnce() -> Vec<A>,
) -> Result<(), Refusal<S, A>> {
    if !may {
        return Err(Refusal::Forbidden);
    }
    if !from_status_ok {
        return Err(Refusal::NotAllowed {
            status,
            allowed: allowed(),
        });
    }
    Ok(())
}

/// The actions of a kind that pass `possible` (taken from the current state, by this actor).
pub fn allowed<A: Named>(possible: impl Fn(A) -> bool) -> Vec<A> {
    A::all().iter().copied().filter(|a| possible(*a)).collect()
}

/// The actions of a kind of case, each taken from some of its statuses: with who may take
/// which, all that the first two checks and the list of what is possible now need.
pub trait Transitions: Named {
    type Status: Copy + PartialEq + 'static;
    /// The states this action may be taken from (a table, not a conversion).
    #[allow(clippy::wrong_self_convention)]
    fn from_states(self) -> &'static [Self::Status];
}

/// The actions that may be taken from `status` and that `may` lets this actor take on the case.
pub fn possible<A: Transitions>(status: A::Status, may: impl Fn(A) -> bool) -> Vec<A> {
    allowed(|a: A| a.from_states().contains(&status) && may(a))
}

/// [`gate`] for a kind with [`Transitions`]: `may` says whether this actor may ever take an
/// action on the case, whatever its state.
pub fn check<A: Transitions>(
    action: A,
    status: A::Status,
    may: impl Fn(A) -> bool,
) -> Result<(), Refusal<A::Status, A>> {
    gate(
        may(action),
        status,
        action.from_states().contains(&status),
        || possible(status, &may),
    )
}

/// Whether the actor is the party a case is routed to: the owner of its holder, or the officer
/// of the district that answers for it (an ownerless mine's or one outside every mine).
pub fn answers_for(actor: &Actor, party: Party, holder: Option<&str>, district: &str) -> bool {
    match actor.role {
        Role::Owner => {
            party == Party::Holder && holder.is_some() && holder == actor.holder.as_deref()
        }
        Role::District => party == Party::District && Some(district) == actor.district.as_deref(),
        _ => false,
    }
}

/// Whether a case is inside a reader's bound scope: managers everything, district officers
/// their district, owners their holder's, patrols what is still `open` for them (a fire not yet
/// cleared or still watched, an alert not closed).
pub fn in_scope(scope: &Scope, district_code: &str, holder: Option<&str>, open: bool) -> bool {
    match scope {
        Scope::All => true,
        Scope::District(c) => c == district_code,
        Scope::Holder(h) => holder == Some(h.as_str()),
        Scope::Open => open,
        Scope::Nothing => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    crate::named! {
        enum Light {
            Red = "red",
            /// Between the two.
            Amber = "amber",
            Green = "green",
        }
    }

    #[test]
    fn named_values_round_trip_through_their_names_and_serde() {
        for l in Light::ALL {
            assert_eq!(Light::parse(l.as_str()), Some(l));
            assert_eq!(Light::from_name(l.name()), Some(l));
            let json = serde_json::to_string(&l).expect("json");
            assert_eq!(json, format!("\"{}\"", l.as_str()));
            assert_eq!(serde_json::from_str::<Light>(&json).expect("back"), l);
        }
        assert_eq!(Light::parse("blue"), None);
        assert_eq!(Light::all().len(), 3);
    }

    #[test]
    fn the_gate_refuses_the_role_before_the_state() {
        let allowed = || vec![Light::Green];
        assert_eq!(
            gate(false, Light::Red, false, allowed),
            Err(Refusal::Forbidden)
        );
        assert_eq!(
            gate(true, Light::Red, false, allowed),
            Err(Refusal::NotAllowed {
                status: Light::Red,
                allowed: vec![Light::Green]
            })
        );
        assert_eq!(gate::<_, Light>(true, Light::Red, true, Vec::new), Ok(()));
        assert_eq!(allowed_of_amber(), vec![Light::Amber]);
    }

    fn allowed_of_amber() -> Vec<Light> {
        allowed(|l: Light| l == Light::Amber)
    }

    #[test]
    fn each_scope_sees_its_own() {
        let d = Scope::District("150303".into());
        let h = Scope::Holder("甲".into());
        assert!(in_scope(&Scope::All, "150302", None, false));
        assert!(in_scope(&d, "150303", Some("乙"), false));
        assert!(!in_scope(&d, "150302", None, true));
        assert!(in_scope(&h, "150302", Some("甲"), false));
        assert!(!in_scope(&h, "150302", None, true));
        assert!(in_scope(&Scope::Open, "x", None, true));
        assert!(!in_scope(&Scope::Open, "x", None, false));
        assert!(!in_scope(&Scope::Nothing, "x", Some("甲"), true));
    }
}

//! What unit tests share: a time from its text and a user bound as their role is.

use chrono::{DateTime, Utc};

use crate::domain::role::{Actor, Role};

/// A time written as RFC 3339.
pub fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .expect("time")
        .with_timezone(&Utc)
}

/// A user of `role` named after it, bound as that role is: a district officer to 乌达区 (150303),
/// an owner to 甲公司 — the parties the fire and violation tests' cases answer to.
pub fn actor(role: Role) -> Actor {
    Actor {
        username: role.as_str().into(),
        role,
        district: (role == Role::District).then(|| "150303".into()),
        holder: (role == Role::Owner).then(|| "甲公司".into()),
    }
}

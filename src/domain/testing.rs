//! What the domain's unit tests share.

use chrono::{DateTime, Utc};

/// A time written as RFC 3339.
pub fn t(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .expect("time")
        .with_timezone(&Utc)
}

//! The kinds of domain event the rest of the city's systems can hear of (webhooks subscribe to
//! them by name). Use cases publish them; they never call the receivers.

use serde::Serialize;

/// The kinds of event a webhook can subscribe to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    NewFire,
    Assignment,
    DeadlinePassed,
    Reignition,
    ClearanceZero,
    DustAlert,
    Warning,
    DustIssue,
}

impl EventKind {
    pub const ALL: [EventKind; 8] = [
        EventKind::NewFire,
        EventKind::Assignment,
        EventKind::DeadlinePassed,
        EventKind::Reignition,
        EventKind::ClearanceZero,
        EventKind::DustAlert,
        EventKind::Warning,
        EventKind::DustIssue,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventKind::NewFire => "new_fire",
            EventKind::Assignment => "assignment",
            EventKind::DeadlinePassed => "deadline_passed",
            EventKind::Reignition => "reignition",
            EventKind::ClearanceZero => "clearance_zero",
            EventKind::DustAlert => "dust_alert",
            EventKind::Warning => "warning",
            EventKind::DustIssue => "dust_issue",
        }
    }

    pub fn parse(s: &str) -> Option<EventKind> {
        EventKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

//! The kinds of domain event the rest of the city's systems can hear of (webhooks subscribe to
//! them by name). Use cases publish them; they never call the receivers.

crate::named! {
    /// The kinds of event a webhook can subscribe to.
    pub enum EventKind {
        NewFire = "new_fire",
        Assignment = "assignment",
        DeadlinePassed = "deadline_passed",
        Reignition = "reignition",
        ClearanceZero = "clearance_zero",
        DustAlert = "dust_alert",
        Warning = "warning",
        DustIssue = "dust_issue",
        /// A manager urged the party of an overdue fire.
        Urged = "urged",
    }
}

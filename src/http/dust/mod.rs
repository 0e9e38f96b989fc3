//! Dust over HTTP: readings in (a monitor's batch with its device token) and out, the map's
//! monitors, rules and gale suggestions, alerts and their actions, warnings with their
//! restrictions and compliance checks. Each handler parses, authorises and calls a use case in
//! `service::dust`. (Dust violations, reported by patrols, are `http::dust_issues`.)

pub mod alerts;
pub mod map;
pub mod readings;
pub mod warnings;

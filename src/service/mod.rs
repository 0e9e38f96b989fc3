//! Use cases shared by the HTTP API, the command line and the demo builder: each parses what it
//! is given, asks the domain rules, and writes through the store in one transaction.

pub mod boundaries;
pub mod case;
pub mod clearance;
pub mod demo;
pub mod dust;
pub mod dust_issues;
pub mod edit;
pub mod events;
pub mod fires;
pub mod geometry;
pub mod import;
pub mod jobs;
pub mod login_guard;
pub mod notifications;
pub mod photos;
pub mod reroute;
pub mod rules;
pub mod slots;
pub mod tiles;
pub mod webhooks;

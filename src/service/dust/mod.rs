//! Dust use cases: monitors and their credentials, readings in (the group-commit writer for
//! HJ 212, batches over HTTP) and out, the map's monitor states, the exceedance check and the
//! alerts it raises (with their map layer), warnings with their restrictions, and compliance
//! checks. The rules are in `domain::dust`; storage is `store::dust`.

pub mod alert_map;
pub mod alerts;
pub mod checks;
pub mod ingest;
pub mod map;
pub mod monitors;
pub mod readings;
pub mod warnings;

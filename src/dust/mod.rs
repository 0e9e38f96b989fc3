//! Dust (扬尘) monitoring: monitors, readings in over HTTP and HJ 212-2017 TCP, compact storage
//! with hourly rollups, and the GB 3095 means.
//!
//! Pure parts: `reading` (quantities, units, ranges), `hj212` (packets), `rollup` (means).
//! Storage: `store::dust`. Use cases: `monitors` (registering). Running parts: `ingest` (group commit),
//! `listener` (the HJ 212 TCP server) with `guard` (lockouts, per-address limits, quiet logs).

pub mod guard;
pub mod hj212;
pub mod ingest;
pub mod listener;
pub mod monitors;
pub mod reading;
pub mod rollup;

//! Dust storage, by aggregate: devices and their credentials, readings with their hourly rollups
//! and the hours waiting to be judged, monitors as the use cases read them off the map, alert
//! cases with their evidence, events and map layer, and warnings with their restrictions and
//! compliance checks. Records and traits here; the SQL in `store::sqlite::dust`.

pub mod alerts;
pub mod devices;
pub mod monitors;
pub mod readings;
pub mod warnings;

pub use devices::DeviceId;

//! The rules of Qingling, with no I/O: fire lifecycle, responsibility by geometry, deadlines,
//! clearance counts. Handlers and the store call these; they never call back.

pub mod access;
pub mod case;
pub mod clearance;
pub mod deadline;
pub mod dust;
pub mod dust_issue;
pub mod event;
pub mod fire;
pub mod observed;
pub mod password;
pub mod responsibility;
pub mod role;
#[cfg(test)]
pub(crate) mod testing;

//! Qingling (清零): coal-mining-area fire and dust tracking until every fire is cleared.

pub mod app;
pub mod cli;
pub mod domain;
pub mod error;
pub mod gis;
pub mod hj212;
pub mod http;
pub mod i18n;
pub mod layers;
pub mod service;
pub mod store;

//! Dust devices: a monitor's credentials, apart from its map feature. The HJ 212 PW is kept as a
//! salted hash and the HTTP device token as a hash (`domain::dust::device`); the store never sees
//! either in clear.

use chrono::{DateTime, Utc};

use crate::domain::dust::device::Hj212Profile;
use crate::domain::dust::device::password_matches;
use crate::store::Result;

/// A registered device (never reused).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DeviceId(pub i64);

/// What the HJ 212 listener needs to accept a device's packets.
#[derive(Debug, Clone)]
pub struct DeviceAuth {
    pub id: DeviceId,
    pub mn: String,
    pub salt: String,
    pub pw_hash: String,
    pub hj212: Hj212Profile,
}

impl DeviceAuth {
    /// Whether a packet's PW is the device's.
    pub fn password_ok(&self, pw: &str) -> bool {
        password_matches(&self.salt, &self.pw_hash, pw)
    }
}

/// A device's credentials as registered.
#[derive(Debug, Clone)]
pub struct NewDevice<'a> {
    pub mn: &'a str,
    pub salt: &'a str,
    pub pw_hash: &'a str,
    pub token_hash: &'a str,
    pub hj212: &'a Hj212Profile,
    pub at: DateTime<Utc>,
}

pub trait Devices {
    /// Registers a device.
    fn add(&self, d: &NewDevice) -> Result<DeviceId>;
    /// The device with this MN.
    fn by_mn(&self, mn: &str) -> Result<Option<DeviceId>>;
    /// The device whose live HTTP token has this hash.
    fn by_token_hash(&self, token_hash: &str) -> Result<Option<DeviceId>>;
    /// Gives a device a new HTTP token (a revoked one is live again); false for an unknown MN.
    fn set_token(&self, mn: &str, token_hash: &str, at: DateTime<Utc>) -> Result<bool>;
    /// Revokes a device's HTTP token; false for an unknown MN.
    fn revoke_token(&self, mn: &str, at: DateTime<Utc>) -> Result<bool>;
    /// Every device's HJ 212 credentials (the listener keeps them in memory).
    fn credentials(&self) -> Result<Vec<DeviceAuth>>;
}

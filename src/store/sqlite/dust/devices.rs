//! Dust devices in `dust_devices`: the PW as salt and hash, the HTTP token as a hash (NULL once
//! revoked).

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};

use crate::domain::dust::device::{Hj212Profile, Protocol};
use crate::domain::dust::reading::ParticulateUnit;
use crate::store::dust::devices::{DeviceAuth, DeviceId, Devices, NewDevice};
use crate::store::sqlite::SqliteTx;
use crate::store::{Result, StoreError};

impl Devices for SqliteTx<'_> {
    fn add(&self, d: &NewDevice) -> Result<DeviceId> {
        self.conn.execute(
            "INSERT INTO dust_devices(mn, pw_salt, pw_hash, token_hash, unit, st, protocol, created_at,
                 token_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)",
            params![
                d.mn,
                d.salt,
                d.pw_hash,
                d.token_hash,
                d.hj212.unit.as_str(),
                d.hj212.st,
                d.hj212.protocol.map(Protocol::as_str),
                d.at.to_rfc3339()
            ],
        )?;
        Ok(DeviceId(self.conn.last_insert_rowid()))
    }

    fn by_mn(&self, mn: &str) -> Result<Option<DeviceId>> {
        Ok(self
            .conn
            .prepare_cached("SELECT id FROM dust_devices WHERE mn = ?1")?
            .query_row([mn], |r| r.get(0).map(DeviceId))
            .optional()?)
    }

    fn by_token_hash(&self, token_hash: &str) -> Result<Option<DeviceId>> {
        Ok(self
            .conn
            .prepare_cached("SELECT id FROM dust_devices WHERE token_hash = ?1")?
            .query_row([token_hash], |r| r.get(0).map(DeviceId))
            .optional()?)
    }

    fn set_token(&self, mn: &str, token_hash: &str, at: DateTime<Utc>) -> Result<bool> {
        let n = self.conn.execute(
            "UPDATE dust_devices SET token_hash = ?2, token_at = ?3, revoked_at = NULL WHERE mn = ?1",
            params![mn, token_hash, at.to_rfc3339()],
        )?;
        Ok(n == 1)
    }

    fn revoke_token(&self, mn: &str, at: DateTime<Utc>) -> Result<bool> {
        let n = self.conn.execute(
            "UPDATE dust_devices SET token_hash = NULL, revoked_at = ?2 WHERE mn = ?1",
            params![mn, at.to_rfc3339()],
        )?;
        Ok(n == 1)
    }

    fn credentials(&self) -> Result<Vec<DeviceAuth>> {
        let mut stmt = self
            .conn
            .prepare("SELECT id, mn, pw_salt, pw_hash, unit, st, protocol FROM dust_devices")?;
        let mut rows = stmt.query([])?;
        let mut out = vec![];
        while let Some(r) = rows.next()? {
            let mn: String = r.get(1)?;
            let corrupt = |what: &str, v: &str| {
                StoreError::Corrupt(format!("dust device {mn}: unknown {what} {v:?}"))
            };
            let unit: String = r.get(4)?;
            let unit = ParticulateUnit::parse(&unit).ok_or_else(|| corrupt("unit", &unit))?;
            let protocol = match r.get::<_, Option<String>>(6)? {
                Some(p) => Some(Protocol::parse(&p).ok_or_else(|| corrupt("protocol", &p))?),
                None => None,
            };
            out.push(DeviceAuth {
                id: DeviceId(r.get(0)?),
                salt: r.get(2)?,
                pw_hash: r.get(3)?,
                hj212: Hj212Profile {
                    unit,
                    st: r.get(5)?,
                    protocol,
                },
                mn,
            });
        }
        Ok(out)
    }
}

//! Dust devices in `dust_devices`: the PW as salt and hash, the HTTP token as a hash (NULL once
//! revoked).

use chrono::{DateTime, Utc};
use rusqlite::{OptionalExtension, params};

use crate::domain::dust::reading::ParticulateUnit;
use crate::store::dust::devices::{DeviceAuth, DeviceId, Devices, NewDevice};
use crate::store::sqlite::SqliteTx;
use crate::store::{Result, StoreError};

impl Devices for SqliteTx<'_> {
    fn add(&self, d: &NewDevice) -> Result<DeviceId> {
        self.conn.execute(
            "INSERT INTO dust_devices(mn, pw_salt, pw_hash, token_hash, unit, created_at, token_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
            params![
                d.mn,
                d.salt,
                d.pw_hash,
                d.token_hash,
                d.unit.as_str(),
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
            .prepare("SELECT id, mn, pw_salt, pw_hash, unit FROM dust_devices")?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, String>(3)?,
                r.get::<_, String>(4)?,
            ))
        })?;
        let mut out = vec![];
        for row in rows {
            let (id, mn, salt, pw_hash, unit) = row?;
            let unit = ParticulateUnit::parse(&unit).ok_or_else(|| {
                StoreError::Corrupt(format!("dust device {mn}: unknown unit {unit:?}"))
            })?;
            out.push(DeviceAuth {
                id: DeviceId(id),
                mn,
                salt,
                pw_hash,
                unit,
            });
        }
        Ok(out)
    }
}

//! Registering dust monitors: the map feature (its mine derived from where it stands, unless a
//! manager names one) and the device credentials, in one transaction.

use std::collections::BTreeMap;

use geo::{Geometry, Point};
use rusqlite::Connection;
use serde_json::Value;

use crate::domain::dust::device::{
    GENERATED_PW_LEN, PW_ALPHABET, check_password, mn_ok, password_weakness,
};
use crate::domain::dust::reading::ParticulateUnit;
use crate::domain::dust::reading::Quantity;
use crate::domain::responsibility::ResponsibilityIndex;
use crate::error::{Error, Result};
use crate::layers::Registry;
use crate::store::dust as store;
use crate::store::{areas, features, gpkg};

/// The layer monitors are features of.
pub const LAYER: &str = "dust_monitors";

/// A monitor as asked for.
#[derive(Debug, Clone)]
pub struct NewMonitor {
    pub mn: String,
    pub password: String,
    pub lon: f64,
    pub lat: f64,
    pub name: Option<String>,
    /// A mining right's licence_no, overriding the one containing the monitor.
    pub mine: Option<String>,
    pub measures: Vec<Quantity>,
    pub unit: ParticulateUnit,
}

/// What registering decided.
#[derive(Debug, Clone)]
pub struct Added {
    /// The HTTP device token: shown once, stored only hashed.
    pub token: String,
    pub mine: Option<String>,
    /// `geometry`, `manager` or `none`.
    pub mine_via: &'static str,
    pub holder: String,
    pub district_code: Option<String>,
}

/// A fresh random HJ 212 password ([`GENERATED_PW_LEN`] symbols of [`PW_ALPHABET`]).
pub fn generate_password() -> String {
    use rand::Rng;
    let mut rng = rand::rng();
    loop {
        let pw: String = (0..GENERATED_PW_LEN)
            .map(|_| PW_ALPHABET[rng.random_range(0..PW_ALPHABET.len())] as char)
            .collect();
        // A run such as PQRSTUVWXY is as likely as any other draw, yet would be refused if typed.
        if password_weakness(&pw).is_none() {
            return pw;
        }
    }
}

/// Parses a comma-separated list of measured quantities (`tsp,pm10,…`).
pub fn parse_measures(s: &str) -> Result<Vec<Quantity>> {
    let mut out = vec![];
    for part in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let q = Quantity::ALL
            .into_iter()
            .find(|q| q.name() == part)
            .ok_or_else(|| {
                Error::invalid("dust_unknown_measure")
                    .arg("value", part)
                    .arg("allowed", Quantity::ALL.map(Quantity::name).join(", "))
            })?;
        if !out.contains(&q) {
            out.push(q);
        }
    }
    Ok(out)
}

/// Registers a monitor in the caller's transaction.
pub fn add(
    tx: &Connection,
    registry: &Registry,
    m: &NewMonitor,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Added> {
    let layer = registry
        .get(LAYER)
        .ok_or_else(|| Error::not_found("layer"))?;
    if !mn_ok(&m.mn) {
        return Err(Error::invalid("dust_bad_mn").arg("mn", m.mn.clone()));
    }
    check_password(&m.password)?;
    let p = Point::new(m.lon, m.lat);
    crate::service::fires::check_lon_lat(p)?;
    if store::device_by_mn(tx, &m.mn)?.is_some() || features::key_exists(tx, layer, "mn", &m.mn)? {
        return Err(
            Error::new(crate::error::Kind::Conflict, "dust_mn_taken").arg("mn", m.mn.clone())
        );
    }
    let index = ResponsibilityIndex::new(areas::load(tx)?);
    let (mine, mine_via) = match &m.mine {
        Some(licence) => {
            let mine = index.mine(licence).ok_or_else(|| {
                Error::invalid("unknown_reference")
                    .arg("field", "mine")
                    .arg("value", licence.clone())
                    .arg("layer", "mines")
            })?;
            (Some(mine), "manager")
        }
        // Overlapping rights: the first registered one (lowest id), as responsibility does.
        None => match index.mines_at(p).into_iter().next() {
            Some(mine) => (Some(mine), "geometry"),
            None => (None, "none"),
        },
    };
    let holder = mine
        .filter(|mine| !mine.ownerless)
        .map(|mine| mine.holder.clone())
        .unwrap_or_default();
    let district_code = index.district_at(p).map(|d| d.code.clone());
    let measures = if m.measures.is_empty() {
        Quantity::ALL.to_vec()
    } else {
        m.measures.clone()
    };
    let mut values = BTreeMap::new();
    values.insert("mn".to_string(), Value::from(m.mn.clone()));
    if let Some(name) = m.name.as_ref().filter(|n| !n.trim().is_empty()) {
        values.insert("name".into(), Value::from(name.trim()));
    }
    if let Some(mine) = mine {
        values.insert("mine".into(), Value::from(mine.licence_no.clone()));
    }
    values.insert("mine_via".into(), Value::from(mine_via));
    values.insert("holder".into(), Value::from(holder.clone()));
    if let Some(code) = &district_code {
        values.insert("district_code".into(), Value::from(code.clone()));
    }
    values.insert(
        "pollutants".into(),
        Value::from(measures.iter().map(|q| q.name()).collect::<Vec<_>>()),
    );
    features::insert(tx, layer, &Geometry::Point(p), &values)?;
    gpkg::update_extent(tx, LAYER).map_err(crate::store::StoreError::from)?;
    let (_, token) = store::add_device(tx, &m.mn, &m.password, m.unit, now)?;
    Ok(Added {
        token,
        mine: mine.map(|m| m.licence_no.clone()),
        mine_via,
        holder,
        district_code,
    })
}

/// Derives every monitor's mine (unless a manager set it), holder and district again from the
/// polygons in `index`, after boundaries changed. Returns how many monitors changed.
pub fn rederive(tx: &Connection, index: &ResponsibilityIndex) -> Result<usize> {
    /// mine, mine_via, holder, district_code
    type Derived = (
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
    );
    let rows: Vec<(i64, Vec<u8>, Derived)> = tx
        .prepare(
            "SELECT fid, geom, mine, mine_via, holder, district_code FROM dust_monitors
             WHERE geom IS NOT NULL",
        )?
        .query_map([], |r| {
            Ok((
                r.get(0)?,
                r.get(1)?,
                (r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?),
            ))
        })?
        .collect::<rusqlite::Result<_>>()?;
    let mut changed = 0;
    for (fid, geom, before) in rows {
        let Some(p) = gpkg::decode(&geom)
            .ok()
            .and_then(|g| Point::try_from(g).ok())
        else {
            continue;
        };
        // A manager's choice of mine stands; otherwise the mining right containing the monitor.
        let (licence, via) = if before.1.as_deref() == Some("manager") {
            (before.0.clone(), "manager")
        } else {
            match index.mines_at(p).into_iter().next() {
                Some(m) => (Some(m.licence_no.clone()), "geometry"),
                None => (None, "none"),
            }
        };
        let holder = licence
            .as_deref()
            .and_then(|l| index.mine(l))
            .filter(|m| !m.ownerless)
            .map(|m| m.holder.clone())
            .unwrap_or_default();
        let after: Derived = (
            licence,
            Some(via.to_string()),
            Some(holder),
            index.district_at(p).map(|d| d.code.clone()),
        );
        if after == before {
            continue;
        }
        tx.execute(
            "UPDATE dust_monitors SET mine = ?2, mine_via = ?3, holder = ?4, district_code = ?5
             WHERE fid = ?1",
            rusqlite::params![fid, after.0, after.1, after.2, after.3],
        )?;
        changed += 1;
    }
    Ok(changed)
}

/// Gives a monitor that is on the map without credentials (imported with the layer) its HJ 212
/// password and an HTTP device token, returned once. One with credentials already: 409 (a new
/// token is `new_token`); one not on the map: 404.
pub fn enable(
    tx: &Connection,
    registry: &Registry,
    mn: &str,
    password: &str,
    unit: ParticulateUnit,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<String> {
    let layer = registry
        .get(LAYER)
        .ok_or_else(|| Error::not_found("layer"))?;
    if !features::key_exists(tx, layer, "mn", mn)? {
        return Err(unknown(mn));
    }
    if store::device_by_mn(tx, mn)?.is_some() {
        return Err(
            Error::new(crate::error::Kind::Conflict, "dust_monitor_has_credentials").arg("mn", mn),
        );
    }
    check_password(password)?;
    Ok(store::add_device(tx, mn, password, unit, now)?.1)
}

/// Issues a new HTTP token (the old one stops working).
pub fn new_token(tx: &Connection, mn: &str, now: chrono::DateTime<chrono::Utc>) -> Result<String> {
    store::new_token(tx, mn, now)?.ok_or_else(|| unknown(mn))
}

/// Revokes the HTTP token: the device's batches are refused until a new token is issued.
pub fn revoke(tx: &Connection, mn: &str, now: chrono::DateTime<chrono::Utc>) -> Result<()> {
    if store::revoke_token(tx, mn, now)? {
        Ok(())
    } else {
        Err(unknown(mn))
    }
}

/// Whether a monitor's HTTP token works.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenState {
    Active,
    Revoked,
    /// On the map but never registered with credentials (imported from a file).
    None,
}

impl std::fmt::Display for TokenState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            TokenState::Active => "token active",
            TokenState::Revoked => "token revoked",
            TokenState::None => "no credentials",
        })
    }
}

/// A monitor as listed.
#[derive(Debug, Clone)]
pub struct Listed {
    pub mn: String,
    pub name: Option<String>,
    pub mine: Option<String>,
    pub holder: Option<String>,
    pub district_code: Option<String>,
    pub token: TokenState,
}

/// Every monitor on the map, by MN.
pub fn list(conn: &Connection) -> Result<Vec<Listed>> {
    let mut stmt = conn.prepare(&format!(
        "SELECT t.mn, t.name, t.mine, t.holder, t.district_code, d.id, d.token_hash
         FROM \"{LAYER}\" t LEFT JOIN dust_devices d ON d.mn = t.mn ORDER BY t.mn"
    ))?;
    let rows = stmt.query_map([], |r| {
        let device: Option<i64> = r.get(5)?;
        let token: Option<String> = r.get(6)?;
        Ok(Listed {
            mn: r.get(0)?,
            name: r.get(1)?,
            mine: r.get(2)?,
            holder: r.get(3)?,
            district_code: r.get(4)?,
            token: match (device, token) {
                (None, _) => TokenState::None,
                (Some(_), None) => TokenState::Revoked,
                (Some(_), Some(_)) => TokenState::Active,
            },
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

fn unknown(mn: &str) -> Error {
    Error::new(crate::error::Kind::NotFound, "dust_unknown_mn").arg("mn", mn)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::dust::device::password_ok;

    #[test]
    fn weak_passwords_are_refused_and_generated_ones_are_strong() {
        for (pw, why) in [
            ("AB12c", "dust_password_too_short"),
            ("aaaaaaaa", "dust_password_one_character"),
            ("123456", "dust_password_sequence"),
            ("987654321", "dust_password_sequence"),
            ("abcdefgh", "dust_password_sequence"),
            ("100000", "dust_password_digits_only"),
            ("834519027", "dust_password_digits_only"),
            ("qwerty", "dust_password_too_simple"),
        ] {
            assert_eq!(password_weakness(pw), Some(why), "{pw}");
        }
        for pw in ["ab12cd", "8345190271", "demo-lts01", "pw0001", "K7-m2Qx9"] {
            assert_eq!(password_weakness(pw), None, "{pw}");
        }
        let a = generate_password();
        assert_eq!(a.len(), GENERATED_PW_LEN);
        assert!(password_ok(&a) && password_weakness(&a).is_none(), "{a}");
        assert!(a.bytes().all(|c| PW_ALPHABET.contains(&c)), "{a}");
        assert!(!a.contains(['0', 'O', '1', 'I']), "{a}");
        assert_ne!(a, generate_password());
    }

    #[test]
    fn a_new_mining_right_takes_the_monitors_inside_it_unless_a_manager_chose() {
        let registry = Registry::builtin().expect("layers");
        let mut conn = Connection::open_in_memory().expect("db");
        crate::store::gpkg::register_functions(&conn).expect("fns");
        crate::store::schema::migrate(&mut conn, &registry).expect("migrate");
        let import = |layer: &str, json: &str| {
            crate::service::import::import_geojson(
                &conn,
                &registry,
                layer,
                json,
                crate::i18n::Lang::En,
            )
            .expect("import");
        };
        import(
            "districts",
            r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"name":"乌达区","code":"150303"},
            "geometry":{"type":"Polygon","coordinates":[[[106.5,39.3],[106.8,39.3],[106.8,39.7],[106.5,39.7],[106.5,39.3]]]}}]}"#,
        );
        import(
            "mines",
            r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"name":"旧矿","licence_no":"C1","holder":"旧公司","kind":"open_pit","status":"producing"},
            "geometry":{"type":"Polygon","coordinates":[[[106.51,39.31],[106.52,39.31],[106.52,39.32],[106.51,39.32],[106.51,39.31]]]}}]}"#,
        );
        let monitor = |mn: &str, mine: Option<&str>| NewMonitor {
            mn: mn.into(),
            password: generate_password(),
            lon: 106.65,
            lat: 39.45,
            name: None,
            mine: mine.map(Into::into),
            measures: vec![],
            unit: ParticulateUnit::UgPerM3,
        };
        let now = chrono::Utc::now();
        let free = add(&conn, &registry, &monitor("FREE", None), now).expect("add");
        assert_eq!(free.mine_via, "none");
        add(&conn, &registry, &monitor("CHOSEN", Some("C1")), now).expect("add");
        import(
            "mines",
            r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"name":"新矿","licence_no":"C9","holder":"新公司","kind":"open_pit","status":"producing"},
            "geometry":{"type":"Polygon","coordinates":[[[106.6,39.4],[106.7,39.4],[106.7,39.5],[106.6,39.5],[106.6,39.4]]]}}]}"#,
        );
        let index = ResponsibilityIndex::new(areas::load(&conn).expect("areas"));
        assert_eq!(rederive(&conn, &index).expect("rederive"), 1);
        let row = |mn: &str| -> (Option<String>, String, String) {
            conn.query_row(
                "SELECT mine, mine_via, holder FROM dust_monitors WHERE mn = ?1",
                [mn],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .expect("row")
        };
        assert_eq!(
            row("FREE"),
            (Some("C9".into()), "geometry".into(), "新公司".into())
        );
        assert_eq!(
            row("CHOSEN"),
            (Some("C1".into()), "manager".into(), "旧公司".into())
        );
        assert_eq!(
            rederive(&conn, &index).expect("again"),
            0,
            "nothing moves twice"
        );
    }

    #[test]
    fn measures_are_named_like_the_json_fields() {
        assert_eq!(
            parse_measures("pm10, pm25,pm10").expect("known"),
            vec![Quantity::Pm10, Quantity::Pm25]
        );
        assert!(parse_measures("pm2.5").is_err());
    }
}

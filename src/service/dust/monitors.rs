//! Dust monitors and their credentials: registering one (its map feature, its mine derived from
//! where it stands unless a manager names one, and its device credentials, in one transaction),
//! giving an imported one credentials, its HTTP token, the list, and re-deriving every monitor's
//! mine after boundaries changed. The credential rules and hashes are `domain::dust::device`.

use geo::Point;
use rand::RngCore;

use crate::domain::dust::device::{
    self, GENERATED_PW_LEN, Hj212Profile, PW_ALPHABET, check_password, mn_ok,
};
use crate::domain::dust::reading::Quantity;
use crate::domain::responsibility::ResponsibilityIndex;
use crate::error::{Error, Kind, Result};
use crate::layers::Registry;
use crate::store::dust::DeviceId;
use crate::store::dust::devices::{DeviceAuth, NewDevice};
use crate::store::dust::monitors::{self as rows, Derived};
use crate::store::{self, Tx};

/// Why a PW someone chose is too weak (the rule is `domain::dust::device`; registering is where
/// it is applied).
pub use crate::domain::dust::device::password_weakness;

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
    /// How it speaks HJ 212: its particulate unit, system code and edition.
    pub hj212: Hj212Profile,
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

/// `n` random bytes as hex: salts and device tokens.
fn random_hex(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    rand::rng().fill_bytes(&mut bytes);
    device::to_hex(&bytes)
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

/// Stores a device's credentials; returns its id and its HTTP device token (random, stored
/// only hashed, so it can be shown once).
fn register_device(
    tx: &dyn Tx,
    mn: &str,
    password: &str,
    hj212: &Hj212Profile,
    now: chrono::DateTime<chrono::Utc>,
) -> store::Result<(DeviceId, String)> {
    let salt = random_hex(16);
    let token = random_hex(32);
    let id = tx.dust_devices().add(&NewDevice {
        mn,
        salt: &salt,
        pw_hash: &device::password_hash(&salt, password),
        token_hash: &device::token_hash(&token),
        hj212,
        at: now,
    })?;
    Ok((id, token))
}

/// The mining right containing `p` (overlapping rights: the first registered, lowest id, as
/// responsibility does), and so how the mine was decided.
fn mine_at(index: &ResponsibilityIndex, p: Point<f64>) -> (Option<String>, &'static str) {
    match index.mines_at(p).into_iter().next() {
        Some(m) => (Some(m.licence_no.clone()), "geometry"),
        None => (None, "none"),
    }
}

/// The holder answering for a mine (none for an ownerless one).
fn holder_of(index: &ResponsibilityIndex, licence: Option<&str>) -> String {
    licence
        .and_then(|l| index.mine(l))
        .filter(|m| !m.ownerless)
        .map(|m| m.holder.clone())
        .unwrap_or_default()
}

fn district_at(index: &ResponsibilityIndex, p: Point<f64>) -> Option<String> {
    index.district_at(p).map(|d| d.code.clone())
}

/// A monitor's HJ 212 system code must be two digits, and not 91 (replies, never data).
fn check_profile(p: &Hj212Profile) -> Result<()> {
    match p.st.as_deref() {
        Some(st) if !device::st_ok(st) || st == "91" => {
            Err(Error::invalid("dust_bad_st").arg("st", st))
        }
        _ => Ok(()),
    }
}

/// Registers a monitor in the caller's transaction.
pub fn add(
    tx: &dyn Tx,
    registry: &Registry,
    m: &NewMonitor,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Added> {
    registry.lookup(LAYER)?;
    if !mn_ok(&m.mn) {
        return Err(Error::invalid("dust_bad_mn").arg("mn", m.mn.clone()));
    }
    check_password(&m.password)?;
    check_profile(&m.hj212)?;
    let p = Point::new(m.lon, m.lat);
    crate::service::case::check_lon_lat(p)?;
    if tx.dust_devices().by_mn(&m.mn)?.is_some() || tx.dust_monitors().exists(&m.mn)? {
        return Err(Error::new(Kind::Conflict, "dust_mn_taken").arg("mn", m.mn.clone()));
    }
    let index = ResponsibilityIndex::new(tx.areas().load()?);
    if let Some(licence) = &m.mine
        && index.mine(licence).is_none()
    {
        return Err(Error::invalid("unknown_reference")
            .arg("field", "mine")
            .arg("value", licence.clone())
            .arg("layer", "mines"));
    }
    let (mine, mine_via) = match &m.mine {
        Some(licence) => (Some(licence.clone()), "manager"),
        None => mine_at(&index, p),
    };
    let holder = holder_of(&index, mine.as_deref());
    let district_code = district_at(&index, p);
    let measures = if m.measures.is_empty() {
        Quantity::ALL.to_vec()
    } else {
        m.measures.clone()
    };
    tx.dust_monitors().add(&rows::NewMonitor {
        mn: m.mn.clone(),
        name: m
            .name
            .as_ref()
            .map(|n| n.trim().to_string())
            .filter(|n| !n.is_empty()),
        at: p,
        derived: Derived {
            mine: mine.clone(),
            mine_via: Some(mine_via.to_string()),
            holder: Some(holder.clone()),
            district_code: district_code.clone(),
        },
        pollutants: measures.iter().map(|q| q.name().to_string()).collect(),
    })?;
    let (_, token) = register_device(tx, &m.mn, &m.password, &m.hj212, now)?;
    Ok(Added {
        token,
        mine,
        mine_via,
        holder,
        district_code,
    })
}

/// Derives every monitor's mine (unless a manager set it), holder and district again from the
/// polygons in `index`, after boundaries changed. Returns how many monitors changed.
pub fn rederive(tx: &dyn Tx, index: &ResponsibilityIndex) -> Result<usize> {
    let mut changed = 0;
    for m in tx.dust_monitors().all()? {
        let Some(p) = m.at else {
            continue;
        };
        // A manager's choice of mine stands; otherwise the mining right containing the monitor.
        let (mine, via) = if m.derived.mine_via.as_deref() == Some("manager") {
            (m.derived.mine.clone(), "manager")
        } else {
            mine_at(index, p)
        };
        let after = Derived {
            holder: Some(holder_of(index, mine.as_deref())),
            mine,
            mine_via: Some(via.to_string()),
            district_code: district_at(index, p),
        };
        if after == m.derived {
            continue;
        }
        tx.dust_monitors().set_derived(m.fid, &after)?;
        changed += 1;
    }
    Ok(changed)
}

/// Gives a monitor that is on the map without credentials (imported with the layer) its HJ 212
/// password and an HTTP device token, returned once. One with credentials already: 409 (a new
/// token is `new_token`); one not on the map: 404.
pub fn enable(
    tx: &dyn Tx,
    registry: &Registry,
    mn: &str,
    password: &str,
    hj212: &Hj212Profile,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<String> {
    registry.lookup(LAYER)?;
    if !tx.dust_monitors().exists(mn)? {
        return Err(unknown(mn));
    }
    if tx.dust_devices().by_mn(mn)?.is_some() {
        return Err(Error::new(Kind::Conflict, "dust_monitor_has_credentials").arg("mn", mn));
    }
    check_password(password)?;
    check_profile(hj212)?;
    Ok(register_device(tx, mn, password, hj212, now)?.1)
}

/// A new HTTP token for the device `mn`, stored hashed; `None` for an unknown MN.
fn issue_token(
    tx: &dyn Tx,
    mn: &str,
    now: chrono::DateTime<chrono::Utc>,
) -> store::Result<Option<String>> {
    let token = random_hex(32);
    let known = tx
        .dust_devices()
        .set_token(mn, &device::token_hash(&token), now)?;
    Ok(known.then_some(token))
}

/// Issues a new HTTP token (the old one stops working).
pub fn new_token(tx: &dyn Tx, mn: &str, now: chrono::DateTime<chrono::Utc>) -> Result<String> {
    issue_token(tx, mn, now)?.ok_or_else(|| unknown(mn))
}

/// Revokes the HTTP token: the device's batches are refused until a new token is issued.
pub fn revoke(tx: &dyn Tx, mn: &str, now: chrono::DateTime<chrono::Utc>) -> Result<()> {
    if tx.dust_devices().revoke_token(mn, now)? {
        Ok(())
    } else {
        Err(unknown(mn))
    }
}

/// The device a live HTTP device token belongs to.
pub fn device_for_token(tx: &dyn Tx, token: &str) -> store::Result<Option<DeviceId>> {
    tx.dust_devices().by_token_hash(&device::token_hash(token))
}

/// Every device's HJ 212 credentials (the listener keeps them in memory).
pub fn credentials(tx: &dyn Tx) -> store::Result<Vec<DeviceAuth>> {
    tx.dust_devices().credentials()
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
    /// Values stored implausible for their quantity and the monitor's unit: a unit set wrong.
    pub suspect_values: i64,
}

/// Every monitor on the map, by MN.
pub fn list(tx: &dyn Tx) -> Result<Vec<Listed>> {
    Ok(tx
        .dust_monitors()
        .all()?
        .into_iter()
        .map(|m| Listed {
            token: match (m.device, m.token_live) {
                (None, _) => TokenState::None,
                (Some(_), false) => TokenState::Revoked,
                (Some(_), true) => TokenState::Active,
            },
            suspect_values: m.suspect_values,
            mn: m.mn,
            name: m.name,
            mine: m.derived.mine,
            holder: m.derived.holder,
            district_code: m.derived.district_code,
        })
        .collect())
}

fn unknown(mn: &str) -> Error {
    Error::new(Kind::NotFound, "dust_unknown_mn").arg("mn", mn)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::dust::device::password_ok;
    use crate::store::areas;
    use crate::store::sqlite::SqliteTx;
    use rusqlite::Connection;

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
        let conn = crate::store::sqlite::dust::memory();
        let import = |layer: &str, json: &str| {
            crate::service::import::import_geojson(
                &crate::store::sqlite::SqliteTx::new(&conn),
                &registry,
                layer,
                json,
                crate::i18n::Lang::En,
            )
            .expect("import");
        };
        import("districts", crate::store::sqlite::testing::WUDA);
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
            hj212: Hj212Profile::default(),
        };
        let now = chrono::Utc::now();
        let tx = SqliteTx::new(&conn);
        let free = add(&tx, &registry, &monitor("FREE", None), now).expect("add");
        assert_eq!(free.mine_via, "none");
        add(&tx, &registry, &monitor("CHOSEN", Some("C1")), now).expect("add");
        import(
            "mines",
            r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"name":"新矿","licence_no":"C9","holder":"新公司","kind":"open_pit","status":"producing"},
            "geometry":{"type":"Polygon","coordinates":[[[106.6,39.4],[106.7,39.4],[106.7,39.5],[106.6,39.5],[106.6,39.4]]]}}]}"#,
        );
        let index = ResponsibilityIndex::new(areas::load(&conn).expect("areas"));
        assert_eq!(rederive(&tx, &index).expect("rederive"), 1);
        let row = |mn: &str| -> (Option<String>, String, String) {
            let m = tx
                .dust_monitors()
                .all()
                .expect("monitors")
                .into_iter()
                .find(|m| m.mn == mn)
                .expect("row");
            (
                m.derived.mine,
                m.derived.mine_via.unwrap_or_default(),
                m.derived.holder.unwrap_or_default(),
            )
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
            rederive(&tx, &index).expect("again"),
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

    fn db() -> Connection {
        crate::store::sqlite::dust::memory()
    }

    fn device(conn: &Connection) -> (DeviceId, String) {
        register_device(
            &SqliteTx::new(conn),
            "WH0001",
            "123456",
            &Hj212Profile::default(),
            chrono::Utc::now(),
        )
        .expect("add")
    }

    fn device_for_token(conn: &Connection, token: &str) -> store::Result<Option<DeviceId>> {
        super::device_for_token(&SqliteTx::new(conn), token)
    }

    fn all_auth(conn: &Connection) -> store::Result<Vec<DeviceAuth>> {
        credentials(&SqliteTx::new(conn))
    }

    fn revoke_token(
        conn: &Connection,
        mn: &str,
        now: chrono::DateTime<chrono::Utc>,
    ) -> store::Result<bool> {
        SqliteTx::new(conn).dust_devices().revoke_token(mn, now)
    }

    fn new_token(
        conn: &Connection,
        mn: &str,
        now: chrono::DateTime<chrono::Utc>,
    ) -> store::Result<Option<String>> {
        issue_token(&SqliteTx::new(conn), mn, now)
    }

    #[test]
    fn tokens_and_passwords_are_stored_hashed_and_tokens_revocable() {
        let conn = db();
        let (d, token) = device(&conn);
        assert_eq!(device_for_token(&conn, &token).expect("lookup"), Some(d));
        let stored: String = conn
            .query_row(
                "SELECT pw_hash || coalesce(token_hash, '') FROM dust_devices",
                [],
                |r| r.get(0),
            )
            .expect("row");
        assert!(!stored.contains(&token) && !stored.contains("123456"));
        let auth = all_auth(&conn).expect("auth");
        assert!(auth[0].password_ok("123456"));
        assert!(!auth[0].password_ok("654321"));
        assert!(revoke_token(&conn, "WH0001", chrono::Utc::now()).expect("revoke"));
        assert_eq!(device_for_token(&conn, &token).expect("lookup"), None);
        let fresh = new_token(&conn, "WH0001", chrono::Utc::now())
            .expect("token")
            .expect("known");
        assert_eq!(device_for_token(&conn, &fresh).expect("lookup"), Some(d));
        assert_eq!(
            new_token(&conn, "NOPE", chrono::Utc::now()).expect("token"),
            None
        );
    }
}

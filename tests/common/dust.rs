//! Dust test support: a demo server with a handle on its database, to register monitors as
//! `monitor add` does, send readings, run the exceedance check and add owners.

use chrono::Utc;
use qingling::domain::dust::device::Hj212Profile;
use qingling::domain::responsibility::ResponsibilityIndex;
use qingling::hj212::codec::ParticulateUnit;
use qingling::service::dust::alerts as dust_alerts;
use qingling::service::dust::monitors::{self, NewMonitor};
use serde_json::Value;

use super::{Server, add_owner, demo_server, request};

/// Registers a monitor as `monitor add` does (HJ 212 password `password`, readings in mg/m³);
/// returns its device token.
pub fn add_monitor(
    store: &qingling::store::Db,
    mn: &str,
    password: &str,
    at: [f64; 2],
    name: Option<String>,
) -> String {
    let mg = Hj212Profile {
        unit: ParticulateUnit::MgPerM3,
        ..Default::default()
    };
    add_monitor_speaking(store, mn, password, at, name, mg)
}

/// Registers a monitor that speaks HJ 212 as `hj212` says; returns its device token.
pub fn add_monitor_speaking(
    store: &qingling::store::Db,
    mn: &str,
    password: &str,
    at: [f64; 2],
    name: Option<String>,
    hj212: Hj212Profile,
) -> String {
    let registry = qingling::layers::Registry::builtin().unwrap();
    let m = NewMonitor {
        mn: mn.into(),
        password: password.into(),
        lon: at[0],
        lat: at[1],
        name,
        mine: None,
        measures: vec![],
        hj212,
    };
    store
        .write_blocking(|tx| monitors::add(tx, &registry, &m, Utc::now()))
        .unwrap()
        .token
}

pub struct Setup {
    pub server: Server,
    pub store: qingling::store::Db,
}

impl Setup {
    pub fn new() -> Setup {
        let server = demo_server();
        let store = server.store.clone();
        Setup { server, store }
    }

    pub fn index(&self) -> ResponsibilityIndex {
        self.store
            .read_blocking(|tx| tx.areas().load().map(ResponsibilityIndex::new))
            .unwrap()
    }

    /// A warning's body at `level` over the district holding the demo mine `mine`, from now for
    /// two days.
    pub fn warning_over(&self, mine: &str, level: &str) -> Value {
        let at = super::inside("mines", mine);
        let code = self
            .index()
            .district_at(geo::Point::new(at[0], at[1]))
            .expect("the mine is in a district")
            .code
            .clone();
        serde_json::json!({"level": level, "districts": [code], "from": Utc::now().to_rfc3339(),
            "to": (Utc::now() + chrono::Duration::days(2)).to_rfc3339()})
    }

    /// Registers a monitor as `monitor add` does; returns its device token.
    pub fn monitor(&self, mn: &str, at: [f64; 2]) -> String {
        add_monitor(&self.store, mn, "K7QX4MZP2W", at, None)
    }

    pub fn readings(&self, token: &str, body: &Value) {
        let auth = format!("Bearer {token}");
        let r = request(
            self.server.addr,
            "POST",
            "/api/dust/readings",
            &[
                ("Content-Type", "application/json"),
                ("Authorization", &auth),
            ],
            Some(body.to_string().as_bytes()),
        );
        assert_eq!(r.status, 200, "{}", r.body);
    }

    pub fn check(&self) -> usize {
        let index = self.index();
        self.store
            .write_blocking(|tx| dust_alerts::check(tx, &index, Utc::now()))
            .unwrap()
    }

    pub fn user(&self, name: &str, holder: &str) {
        add_owner(&self.store, name, holder);
    }

    pub fn count(&self, sql: &str) -> i64 {
        super::count(&self.server.db, sql)
    }
}

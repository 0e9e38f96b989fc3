//! Dust warnings beyond districts, compliance checks, the dust map's monitors and suggestions,
//! and the alerts as an OGC API collection, on the demo (whose monitors carry three days of
//! synthetic readings: see `service::demo::dust`).
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeSet;

use chrono::{Duration, Utc};
use common::dust::Setup;
use common::*;
use geo::{BoundingRect, Intersects, Point, Rect, coord};
use serde_json::{Value, json};

fn period() -> (String, String) {
    (
        (Utc::now() - Duration::minutes(1)).to_rfc3339(),
        (Utc::now() + Duration::days(1)).to_rfc3339(),
    )
}

fn rect_json(r: &Rect<f64>) -> Value {
    let (a, b) = (r.min(), r.max());
    json!({"type": "Polygon", "coordinates": [[[a.x, a.y], [b.x, a.y], [b.x, b.y], [a.x, b.y], [a.x, a.y]]]})
}

fn restrictions(c: &Client) -> Vec<Value> {
    c.list("/api/dust/restrictions", "restrictions")
}

#[test]
fn a_warning_for_a_drawn_area_restricts_the_mines_it_touches_with_the_configured_measures() {
    let s = Setup::new();
    // Red now only stops open-air work (a level left out keeps its default).
    s.store
        .write_blocking(|tx| {
            qingling::store::Tx::settings(tx).set(
                "dust_rules",
                &json!({"measures": {"red": ["stop_open_air_work"]}}),
            )
        })
        .unwrap();
    let index = s.index();
    let mines = &index.areas().mines;
    let by_name = |n: &str| mines.iter().find(|m| m.name == n).unwrap();
    let open_pit = by_name("骆驼山示例露天煤矿");
    let closed = by_name("骆驼山示例南坡煤矿");
    assert!(closed.closed);
    // A box over both: the closed mine gets no restriction.
    let (a, b) = (
        open_pit.geom.bounding_rect().unwrap(),
        closed.geom.bounding_rect().unwrap(),
    );
    let area = Rect::new(
        coord! {x: a.min().x.min(b.min().x), y: a.min().y.min(b.min().y)},
        coord! {x: a.max().x.max(b.max().x), y: a.max().y.max(b.max().y)},
    );
    let expected: BTreeSet<String> = mines
        .iter()
        .filter(|m| !m.ownerless && !m.closed && area.intersects(&m.geom))
        .map(|m| m.licence_no.clone())
        .collect();
    assert!(expected.contains(&open_pit.licence_no));

    let manager = Client::login(&s.server, "manager");
    let (from, to) = period();
    let w = json!({"level": "red", "area": rect_json(&area), "from": from, "to": to, "note": "沙尘天气"});
    let r = manager.post("/api/dust/warnings", &w);
    assert_eq!(r.status, 201, "{}", r.body);
    let issued = r.json();
    assert_eq!(issued["measures"], json!(["stop_open_air_work"]));
    assert_eq!(issued["area"], w["area"]);
    let got: BTreeSet<String> = items(&issued["restrictions"])
        .map(|x| x["mine"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(got, expected);
    for x in issued["restrictions"].as_array().unwrap() {
        assert_eq!(x["measures"], json!(["stop_open_air_work"]));
        let p = x["position"].as_array().unwrap();
        let at = Point::new(p[0].as_f64().unwrap(), p[1].as_f64().unwrap());
        let m = mines.iter().find(|m| m.licence_no == x["mine"]).unwrap();
        assert!(
            m.geom.intersects(&at),
            "the position lies in the mine: {x:#}"
        );
    }

    // Listing: the warning with its counts, as each role may see them.
    let listed = |c: &Client| -> Value { c.get_ok("/api/dust/warnings")["warnings"][0].clone() };
    let m = listed(&manager);
    assert_eq!(
        (
            m["level"].clone(),
            m["active"].clone(),
            m["restrictions"].clone()
        ),
        (json!("red"), json!(true), json!(expected.len()))
    );
    assert_eq!(m["acknowledged"], 0);
    let owner = Client::login(&s.server, "owner");
    let own = restrictions(&owner).len();
    assert!(own >= 1 && own <= expected.len(), "{own}");
    assert_eq!(listed(&owner)["restrictions"], own);

    // Refused, with nothing written: no place, a line, an area outside every district, no extent.
    let before = s.count("SELECT count(*) FROM dust_warnings");
    let mut en = Client::login(&s.server, "manager");
    en.lang = "en";
    for (area, needle) in [
        (None, "district"),
        (
            Some(json!({"type": "LineString", "coordinates": [[106.9, 39.5], [107.0, 39.6]]})),
            "Polygon",
        ),
        (
            Some(rect_json(&Rect::new(
                coord! {x: 10.0, y: 10.0},
                coord! {x: 10.1, y: 10.1},
            ))),
            "outside",
        ),
        (
            Some(
                json!({"type": "Polygon", "coordinates": [[[106.9, 39.5], [107.0, 39.5], [106.9, 39.5]]]}),
            ),
            "extent",
        ),
    ] {
        let mut bad = json!({"level": "red", "from": from, "to": to});
        if let Some(a) = area {
            bad["area"] = a;
        }
        let r = en.post("/api/dust/warnings", &bad);
        assert_eq!(r.status, 422, "{}", r.body);
        assert!(r.body.contains(needle), "{needle}: {}", r.body);
    }
    assert_eq!(s.count("SELECT count(*) FROM dust_warnings"), before);

    // A drawn area names no district: the officer of a district whose mine it restricts is told
    // all the same, and the officer of another district is not.
    let wuda_mine = by_name("五虎山示例露天煤矿");
    let r = manager.post(
        "/api/dust/warnings",
        &json!({"level": "gale", "area": rect_json(&wuda_mine.geom.bounding_rect().unwrap()),
                "from": from, "to": to}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let district = Client::login(&s.server, "district"); // 乌达区 150303
    let told = |c: &Client| {
        c.get("/api/notifications").json()["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n["kind"] == "warning" && n["code"] == "gale")
    };
    assert!(told(&district));
    assert!(!told(&owner), "no mine of the demo owner lies in that area");
}

#[test]
fn patrols_record_compliance_checks_on_the_spot_once_each() {
    let s = Setup::new();
    let manager = Client::login(&s.server, "manager");
    let (from, to) = period();
    let w = json!({"level": "yellow", "districts": ["150302"], "from": from, "to": to});
    assert_eq!(manager.post("/api/dust/warnings", &w).status, 201);
    let owner = Client::login(&s.server, "owner");
    let id = restrictions(&owner)[0]["id"].as_i64().unwrap();
    let path = format!("/api/dust/restrictions/{id}/checks");
    let patrol = Client::login(&s.server, "patrol");
    let check = json!({"compliant": false, "note": "料堆未苫盖", "position": [106.95, 39.58], "client_id": "c-1"});

    let r = patrol.post(&path, &check);
    assert_eq!(r.status, 201, "{}", r.body);
    let first = r.json();
    assert_eq!(
        (first["compliant"].clone(), first["by"].clone()),
        (json!(false), json!("patrol"))
    );
    // The tablet sends it again: the same check, once.
    let r = patrol.post(&path, &check);
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["id"], first["id"]);
    let mut other = check.clone();
    other["note"] = json!("已苫盖");
    assert_eq!(patrol.post(&path, &other).status, 409);
    let rows = || s.count("SELECT count(*) FROM dust_restriction_checks");
    assert_eq!(rows(), 1);

    // Who may: patrols and managers record, owners do not, other districts cannot see it.
    assert_eq!(owner.post(&path, &json!({"compliant": true})).status, 403);
    let district = Client::login(&s.server, "district"); // 乌达区 150303
    assert_eq!(
        district.post(&path, &json!({"compliant": true})).status,
        404
    );
    let r = manager.post(&path, &json!({"compliant": true, "note": "复查已整改"}));
    assert_eq!(r.status, 201, "{}", r.body);
    // Bad input and a time outside the warning: refused, nothing written.
    for (body, status) in [
        (json!({"note": "x"}), 422),
        (json!({"compliant": true, "position": [200.0, 39.0]}), 422),
        (
            json!({"compliant": true, "at": (Utc::now() - Duration::days(3)).to_rfc3339()}),
            409,
        ),
        (json!({"compliant": true, "colour": "red"}), 422),
    ] {
        let r = patrol.post(&path, &body);
        assert_eq!(r.status, status, "{body}: {}", r.body);
    }
    assert_eq!(rows(), 2);
    assert_eq!(
        patrol
            .post(
                "/api/dust/restrictions/999999/checks",
                &json!({"compliant": true})
            )
            .status,
        404
    );

    // The restriction carries its checks, oldest first, for everyone who sees it (owners
    // without who checked nor where: tests/privacy.rs).
    let listed = restrictions(&manager);
    let mine = listed.iter().find(|x| x["id"] == id).unwrap();
    let checks = mine["checks"].as_array().unwrap();
    assert_eq!(checks.len(), 2);
    assert_eq!(checks[0]["note"], "料堆未苫盖");
    assert_eq!(checks[0]["position"], json!([106.95, 39.58]));
    assert_eq!(checks[1]["by"], "manager");
}

fn monitors(c: &Client) -> Vec<Value> {
    c.list("/api/dust/monitors", "monitors")
}

#[test]
fn monitors_show_their_state_and_high_wind_suggests_a_gale_warning() {
    let s = Setup::new();
    let manager = Client::login(&s.server, "manager");
    let all = monitors(&manager);
    let state = |mn: &str| {
        all.iter().find(|m| m["mn"] == mn).unwrap()["state"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(state("WHDEMO-LTS01"), "over");
    assert_eq!(state("WHDEMO-LTS02"), "near");
    assert_eq!(state("WHDEMO-GWS01"), "ok");
    assert_eq!(state("WHDEMO-KBQ01"), "stale");
    let over = all.iter().find(|m| m["mn"] == "WHDEMO-LTS01").unwrap();
    assert!(over["ratio"].as_f64().unwrap() > 1.0);
    assert_eq!(over["day"]["valid"], true);
    assert!(over["day"]["pm10"].as_f64().unwrap() > 150.0);
    assert!(over["latest"]["time"].is_string());
    assert_eq!(over["latest"]["not_counted"], json!([]));
    // Completeness over the 24 finished hours: full for a reporting monitor, short for the one
    // silent for five hours.
    let completeness =
        |mn: &str| all.iter().find(|m| m["mn"] == mn).unwrap()["completeness"].clone();
    assert_eq!(
        completeness("WHDEMO-GWS01"),
        json!({"hours": 24, "expected": 24})
    );
    let stale = completeness("WHDEMO-KBQ01")["hours"].as_u64().unwrap();
    assert!((18..=20).contains(&stale), "{stale}");

    // Role visibility as for the monitors layer: owners their holder's, patrols all.
    let owner = Client::login(&s.server, "owner");
    let own: BTreeSet<String> = monitors(&owner)
        .iter()
        .map(|m| m["mn"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(
        own,
        BTreeSet::from(["WHDEMO-LTS01".to_string(), "WHDEMO-LTS02".to_string()])
    );
    let patrol = Client::login(&s.server, "patrol");
    assert_eq!(monitors(&patrol).len(), all.len());

    // The windy monitor (9.6 m/s in the last hour) prompts a gale warning, for managers only.
    let v = manager.get_ok("/api/dust/suggestions");
    assert_eq!(v["threshold"], 8.0);
    let mns: Vec<&str> = strs(&v["suggestions"], "mn");
    assert_eq!(mns, ["WHDEMO-WHS01"]);
    assert_eq!(v["suggestions"][0]["kind"], "gale");
    assert_eq!(patrol.get("/api/dust/suggestions").status, 403);
    assert_eq!(owner.get("/api/dust/suggestions").status, 403);
    // Once a gale warning covers it, the suggestion goes.
    let district = v["suggestions"][0]["district_code"].as_str().unwrap();
    let (from, to) = period();
    let w = json!({"level": "gale", "districts": [district], "from": from, "to": to});
    assert_eq!(manager.post("/api/dust/warnings", &w).status, 201);
    let v = manager.get("/api/dust/suggestions").json();
    assert_eq!(v["suggestions"], json!([]), "{v:#}");

    // The rules, with labels for forms.
    let r = manager.get("/api/dust/rules").json();
    assert_eq!(r["rules"]["wind_suggest_ms"], 8.0);
    assert_eq!(r["levels"].as_array().unwrap().len(), 6);
    assert!(
        items(&r["measures"])
            .any(|m| m["code"] == "stop_open_air_work" && m["zh"] == "停止露天作业")
    );
}

fn alert_features(c: &Client) -> Vec<Value> {
    c.list(
        "/collections/dust_alerts/items?f=json&limit=100",
        "features",
    )
}

#[test]
fn alerts_are_an_ogc_collection_seen_by_role_and_kept_in_step() {
    let s = Setup::new();
    let manager = Client::login(&s.server, "manager");
    let api = manager.get("/api/dust/alerts").json()["alerts"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(api.len(), 3, "the demo raises three alerts");
    let features = alert_features(&manager);
    assert_eq!(features.len(), api.len());
    for a in &api {
        let f = features
            .iter()
            .find(|f| f["properties"]["alert_id"] == a["id"])
            .unwrap();
        let p = &f["properties"];
        assert_eq!(p["mn"], a["mn"]);
        assert_eq!(p["pollutant"], a["pollutant"]);
        assert_eq!(p["window"], a["window"]);
        assert_eq!(p["status"], a["status"]);
        assert_eq!(p["holder"], a["responsible"]["name"]);
        assert_eq!(f["geometry"]["type"], "Point");
    }
    // Owners see their holder's, district officers their district's (乌达区 has none), patrols
    // those not closed.
    let owner = Client::login(&s.server, "owner");
    assert_eq!(alert_features(&owner).len(), 3);
    let district = Client::login(&s.server, "district");
    assert_eq!(alert_features(&district).len(), 0);
    let id = api[0]["id"].as_i64().unwrap();
    let r = manager.post(
        &format!("/api/dust/alerts/{id}/events"),
        &json!({"action": "close", "note": "已整改"}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let patrol = Client::login(&s.server, "patrol");
    let seen = alert_features(&patrol);
    assert_eq!(seen.len(), 2);
    assert!(seen.iter().all(|f| f["properties"]["alert_id"] != id));
    let closed = alert_features(&manager)
        .into_iter()
        .find(|f| f["properties"]["alert_id"] == id)
        .unwrap();
    assert_eq!(closed["properties"]["status"], "closed");
    // Read-only for GIS clients: the system writes it.
    let r = manager.post(
        "/collections/dust_alerts/items",
        &json!({"type": "Feature", "geometry": {"type": "Point", "coordinates": [106.9, 39.5]}, "properties": {}}),
    );
    assert!(matches!(r.status, 403 | 405), "{}", r.body);
    // And a GeoPackage layer GDAL reads.
    let out = std::process::Command::new("ogrinfo")
        .args(["-ro", "-so", s.server.db.to_str().unwrap(), "dust_alerts"])
        .output()
        .expect("ogrinfo (apt-get install gdal-bin)");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("Feature Count: 3"), "{text}");
}

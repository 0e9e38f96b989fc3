//! Dust alerts end to end: readings in over `POST /api/dust/readings`, the exceedance check,
//! routing to the monitor's mine or upwind of a monitor outside every mine, role visibility,
//! the alert's life (403/409) and its re-opening, and the `dust_alert` webhook rows.
#![allow(clippy::unwrap_used)]

mod common;

use chrono::{Duration, Utc};
use common::dust::Setup;
use common::*;
use geo::{BoundingRect, Point};
use qingling::domain::responsibility::ResponsibilityIndex;
use serde_json::{Value, json};

/// One reading per hour of a local day: PM10 at `pm10`, wind from the north; TSP only at the
/// hours listed in `tsp_hours` (so the TSP 24-hour mean is invalid and only 1-hour means count).
fn day(date: &str, pm10: f64, tsp_hours: &[u32]) -> Value {
    let readings: Vec<Value> = (0..24)
        .map(|h| {
            let mut r = json!({"time": format!("{date}T{h:02}:10:00+08:00"), "pm10": pm10,
                               "wind_speed": 3.0, "wind_dir": 0.0});
            if tsp_hours.contains(&h) {
                r["tsp"] = json!(1500.0);
            }
            r
        })
        .collect();
    json!({ "readings": readings })
}

/// The alerts of this test's monitors (the demo's own monitors raise some too).
fn alerts(c: &Client) -> Vec<Value> {
    let all = c.list("/api/dust/alerts", "alerts");
    all.into_iter()
        .filter(|a| !a["mn"].as_str().unwrap().starts_with("WHDEMO-"))
        .collect()
}

/// A point about 1.1 km south of a mine of another holder, in a district and outside every mine.
fn south_of_a_mine(index: &ResponsibilityIndex) -> [f64; 2] {
    for m in &index.areas().mines {
        if m.ownerless || m.holder == "骆驼山示例煤业有限公司" {
            continue;
        }
        let Some(b) = m.geom.bounding_rect() else {
            continue;
        };
        let p = Point::new((b.min().x + b.max().x) / 2.0, b.min().y - 0.01);
        if index.mines_at(p).is_empty() && index.district_at(p).is_some() {
            return [p.x(), p.y()];
        }
    }
    panic!("no sample mine with open ground to its south");
}

#[test]
fn exceedances_raise_alerts_routed_by_mine_and_upwind_with_a_life() {
    let s = Setup::new();
    let manager = Client::login(&s.server, "manager");
    let hook = manager.post(
        "/api/webhooks",
        &json!({"url": "http://127.0.0.1:9/hook", "kinds": ["dust_alert"]}),
    );
    assert_eq!(hook.status, 201, "{}", hook.body);

    let inside_token = s.monitor("WH-A-IN", inside("mines", "骆驼山示例露天煤矿"));
    let out_at = south_of_a_mine(&s.index());
    let outside_token = s.monitor("WH-A-OUT", out_at);
    let date = days_ago(1);
    s.readings(&inside_token, &day(&date, 200.0, &[3]));
    s.readings(&outside_token, &day(&date, 160.0, &[]));

    // Inside: PM10 24-h and TSP 1-h; outside: PM10 24-h.
    assert_eq!(s.check(), 3);
    assert_eq!(s.check(), 0, "a second check finds nothing new");

    let all = alerts(&manager);
    assert_eq!(all.len(), 3, "{all:#?}");
    let of = |mn: &str, pollutant: &str| -> Value {
        all.iter()
            .find(|a| a["mn"] == mn && a["pollutant"] == pollutant)
            .cloned()
            .unwrap_or_else(|| panic!("no {pollutant} alert for {mn}: {all:#?}"))
    };
    let inside_pm10 = of("WH-A-IN", "pm10");
    assert_eq!(inside_pm10["window"], "24h");
    assert_eq!(inside_pm10["value"], 200.0);
    assert_eq!(inside_pm10["limit"], 150.0);
    assert_eq!(inside_pm10["status"], "open");
    assert_eq!(inside_pm10["responsible"]["party"], "holder");
    assert_eq!(inside_pm10["responsible"]["name"], "骆驼山示例煤业有限公司");
    assert_eq!(inside_pm10["attribution"]["method"], "mine");
    let inside_tsp = of("WH-A-IN", "tsp");
    assert_eq!(
        (inside_tsp["window"].clone(), inside_tsp["limit"].clone()),
        (json!("1h"), json!(1000.0))
    );
    assert_eq!(inside_tsp["evidence"].as_array().unwrap().len(), 1);

    let upwind = of("WH-A-OUT", "pm10");
    assert_eq!(upwind["attribution"]["method"], "upwind", "{upwind:#}");
    let text = upwind["attribution"]["text_en"].as_str().unwrap();
    assert!(text.contains("upwind (wind from 0°±45°, 3000 m)"), "{text}");
    let hits = upwind["attribution"]["detail"]["mines"].as_array().unwrap();
    assert!(!hits.is_empty());
    let bearing = hits[0]["bearing_deg"].as_f64().unwrap();
    assert!(!(45.0..=315.0).contains(&bearing), "{bearing}");
    assert!(hits[0]["distance_m"].as_f64().unwrap() <= 3000.0);
    let upwind_holder = upwind["responsible"]["name"].as_str().unwrap().to_string();
    assert_eq!(upwind["responsible"]["party"], "holder");
    assert_ne!(upwind_holder, "骆驼山示例煤业有限公司");

    // Owners see their own holder's alerts only.
    let owner = Client::login(&s.server, "owner");
    let mine: Vec<String> = alerts(&owner)
        .iter()
        .map(|a| a["mn"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(mine, ["WH-A-IN", "WH-A-IN"]);
    s.user("owner2", &upwind_holder);
    let owner2 = Client::login(&s.server, "owner2");
    let theirs = alerts(&owner2);
    assert_eq!(theirs.len(), 1);
    assert_eq!(theirs[0]["mn"], "WH-A-OUT");

    // The life: owner starts rectifying, manager closes; others 403, wrong state 409. Each
    // alert says what its reader may do now.
    let id = inside_pm10["id"].as_i64().unwrap();
    let allowed = |c: &Client| -> Value {
        alerts(c).into_iter().find(|a| a["id"] == id).unwrap()["allowed_actions"].clone()
    };
    assert_eq!(allowed(&owner), json!(["start_rectifying"]));
    assert_eq!(allowed(&manager), json!(["start_rectifying", "close"]));
    assert_eq!(allowed(&Client::login(&s.server, "patrol")), json!([]));
    let path = format!("/api/dust/alerts/{id}/events");
    let r = owner2.post(&path, &json!({"action": "start_rectifying"}));
    assert_eq!(
        r.status, 404,
        "another owner cannot even see it: {}",
        r.body
    );
    let r = owner.post(&path, &json!({"action": "close"}));
    assert_eq!(r.status, 403, "{}", r.body);
    let r = owner.post(
        &path,
        &json!({"action": "start_rectifying", "note": "洒水降尘"}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["status"], "rectifying");
    assert_eq!(
        r.json()["allowed_actions"],
        json!([]),
        "the owner waits for the close"
    );
    let r = owner.post(&path, &json!({"action": "start_rectifying"}));
    assert_eq!(r.status, 409, "{}", r.body);
    assert_eq!(r.json()["detail"]["status"], "rectifying");
    let r = owner.post(&path, &json!({"action": "fly"}));
    assert_eq!(r.status, 422, "{}", r.body);
    let r = manager.post(&path, &json!({"action": "close"}));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["status"], "closed");
    let r = manager.post(&path, &json!({"action": "close"}));
    assert_eq!(r.status, 409, "{}", r.body);

    // Patrols see every alert not closed.
    let patrol = Client::login(&s.server, "patrol");
    assert_eq!(alerts(&patrol).len(), 2);

    // A returning exceedance re-opens a recently closed alert: close the TSP one, then another
    // hour over the limit arrives.
    let tsp_id = inside_tsp["id"].as_i64().unwrap();
    let r = manager.post(
        &format!("/api/dust/alerts/{tsp_id}/events"),
        &json!({"action": "close"}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    s.readings(
        &inside_token,
        &json!({"readings": [{"time": format!("{date}T05:40:00+08:00"), "tsp": 4000.0}]}),
    );
    assert_eq!(s.check(), 1);
    let again = alerts(&owner)
        .into_iter()
        .find(|a| a["id"] == tsp_id)
        .unwrap();
    assert_eq!(again["status"], "open");
    assert_eq!(again["evidence"].as_array().unwrap().len(), 2);

    // Each raise and re-open queued a dust_alert delivery.
    assert_eq!(
        s.count("SELECT count(*) FROM webhook_outbox WHERE kind = 'dust_alert'"),
        4
    );
}

#[test]
fn a_warning_restricts_every_mine_in_its_districts_until_owners_acknowledge() {
    let s = Setup::new();
    let [manager, owner, patrol] = s.server.clients(["manager", "owner", "patrol"]);
    let hook = manager.post(
        "/api/webhooks",
        &json!({"url": "http://127.0.0.1:9/hook", "kinds": ["warning"]}),
    );
    assert_eq!(hook.status, 201, "{}", hook.body);
    let index = s.index();
    let at = inside("mines", "骆驼山示例露天煤矿");
    let code = index
        .district_at(Point::new(at[0], at[1]))
        .unwrap()
        .code
        .clone();
    let from = Utc::now().to_rfc3339();
    let to = (Utc::now() + Duration::days(2)).to_rfc3339();
    let w = json!({"level": "orange", "districts": [code], "from": from, "to": to});

    assert_eq!(patrol.post("/api/dust/warnings", &w).status, 403);
    let mut bad = w.clone();
    bad["level"] = json!("blue");
    let r = manager.post("/api/dust/warnings", &bad);
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.body.contains("yellow"), "{}", r.body);
    let mut bad = w.clone();
    bad["to"] = json!(from);
    assert_eq!(manager.post("/api/dust/warnings", &bad).status, 422);

    let r = manager.post("/api/dust/warnings", &w);
    assert_eq!(r.status, 201, "{}", r.body);
    let issued = r.json();
    let all = issued["restrictions"].as_array().unwrap();
    assert!(
        all.iter().any(|x| x["mine_name"] == "骆驼山示例露天煤矿"),
        "{issued:#}"
    );
    assert!(all.iter().all(|x| x["district_code"] == code.as_str()));

    let list = |c: &Client| c.list("/api/dust/restrictions", "restrictions");
    // The warning reaches the owner's notifications (a warning in force restricting its mines).
    let notes = owner.get("/api/notifications").json();
    assert!(
        items(&notes["items"])
            .any(|n| n["kind"] == "warning" && n["code"] == "orange" && n["unread"] == true),
        "{notes:#}"
    );
    let mine = list(&owner);
    assert!(!mine.is_empty());
    assert!(mine.iter().all(|x| x["holder"] == "骆驼山示例煤业有限公司"));
    assert!(mine.len() < all.len(), "other holders' mines are not shown");
    assert!(
        mine[0]["measures"]
            .as_array()
            .unwrap()
            .contains(&json!("stop_blasting_stripping"))
    );
    assert_eq!(mine[0]["overdue"], false);

    let id = mine[0]["id"].as_i64().unwrap();
    let path = format!("/api/dust/restrictions/{id}/acknowledge");
    assert_eq!(manager.post(&path, &json!({})).status, 403);
    let r = owner.post(&path, &json!({}));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["acknowledged_by"], "owner");
    assert_eq!(owner.post(&path, &json!({})).status, 409);
    let other = all
        .iter()
        .find(|x| x["holder"] != "骆驼山示例煤业有限公司")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    let r = owner.post(
        &format!("/api/dust/restrictions/{other}/acknowledge"),
        &json!({}),
    );
    assert_eq!(r.status, 404, "{}", r.body);

    // Past due and unacknowledged: overdue; acknowledged ones never are.
    let conn = rusqlite::Connection::open(&s.server.db).unwrap();
    conn.execute("UPDATE dust_restrictions SET due = 0", [])
        .unwrap();
    let now = list(&manager);
    let flagged = |id: i64| now.iter().find(|x| x["id"] == id).unwrap()["overdue"].clone();
    assert_eq!(flagged(id), false);
    assert_eq!(flagged(other), true);

    assert_eq!(
        s.count("SELECT count(*) FROM webhook_outbox WHERE kind = 'warning'"),
        1
    );
}

/// An owner with several restricted mines acknowledges them all with one request; another
/// role cannot, another holder's warning is not found, and a retry acknowledges nothing more.
#[test]
fn an_owner_acknowledges_every_restriction_of_a_warning_at_once() {
    let s = Setup::new();
    let [manager, owner, patrol] = s.server.clients(["manager", "owner", "patrol"]);
    let w = s.warning_over("骆驼山示例露天煤矿", "orange");
    let r = manager.post("/api/dust/warnings", &w);
    assert_eq!(r.status, 201, "{}", r.body);
    let warning = r.json()["id"].as_i64().unwrap();
    let list = |c: &Client| c.list("/api/dust/restrictions", "restrictions");
    let mine = list(&owner);
    assert!(
        mine.len() > 2,
        "the demo holder has several mines in the district: {mine:#?}"
    );
    let first = mine[0]["id"].as_i64().unwrap();
    // One acknowledged on its own first: the rest are what "all" acknowledges.
    let one = format!("/api/dust/restrictions/{first}/acknowledge");
    assert_eq!(owner.post(&one, &json!({})).status, 200);
    let path = format!("/api/dust/warnings/{warning}/acknowledge");
    assert_eq!(manager.post(&path, &json!({})).status, 403);
    assert_eq!(patrol.post(&path, &json!({})).status, 403);
    assert_eq!(
        owner
            .post(
                &format!("/api/dust/warnings/{}/acknowledge", warning + 1000),
                &json!({})
            )
            .status,
        404
    );
    let r = owner.post(&path, &json!({}));
    assert_eq!(r.status, 200, "{}", r.body);
    let v = r.json();
    assert_eq!(v["acknowledged"], mine.len() - 1, "{v:#}");
    assert_eq!(v["restrictions"].as_array().unwrap().len(), mine.len());
    assert!(
        list(&owner).iter().all(|x| x["acknowledged_by"] == "owner"),
        "every one of the owner's restrictions is acknowledged"
    );
    // Other holders' restrictions of the same warning are untouched.
    assert!(
        list(&manager)
            .iter()
            .filter(|x| x["holder"] != "骆驼山示例煤业有限公司")
            .all(|x| x["acknowledged_at"].is_null())
    );
    let again = owner.post(&path, &json!({}));
    assert_eq!(again.status, 200);
    assert_eq!(again.json()["acknowledged"], 0);
}

/// The local (UTC+8) date `days` before today: 1 is a finished day, so its 24-hour mean is
/// judged.
fn days_ago(days: i64) -> String {
    (Utc::now() + Duration::hours(8) - Duration::days(days))
        .format("%Y-%m-%d")
        .to_string()
}

#[test]
fn late_readings_are_judged_like_fresh_ones_within_the_window() {
    let s = Setup::new();
    let manager = Client::login(&s.server, "manager");
    let token = s.monitor("WH-LATE", inside("mines", "骆驼山示例露天煤矿"));
    let pending = || {
        s.count(
            "SELECT count(*) FROM dust_pending_hours WHERE device =
             (SELECT id FROM dust_devices WHERE mn = 'WH-LATE')",
        )
    };
    // A whole day four days ago arrives only now (a monitor back from a week offline).
    s.readings(&token, &day(&days_ago(4), 200.0, &[]));
    assert_eq!(pending(), 24);
    assert_eq!(s.check(), 1);
    assert_eq!(pending(), 0, "judged hours of a finished day are forgotten");
    let raised = alerts(&manager);
    assert_eq!(raised.len(), 1, "{raised:#?}");
    assert_eq!(raised[0]["pollutant"], "pm10");
    let evidence = raised[0]["evidence"][0]["start"].as_str().unwrap();
    assert!(evidence.starts_with(&days_ago(4)), "{evidence}");

    // Ten days late is past the window (7 days): stored, not judged, not kept waiting.
    s.readings(&token, &day(&days_ago(10), 400.0, &[]));
    assert_eq!(s.check(), 0);
    assert_eq!(pending(), 0);
    assert_eq!(alerts(&manager)[0]["evidence"].as_array().unwrap().len(), 1);

    // Today's hours wait for their day to end, judged hour by hour meanwhile.
    let now = Utc::now() + Duration::hours(8);
    let earlier = (now - Duration::hours(2)).format("%Y-%m-%dT%H:05:00+08:00");
    if now.format("%Y-%m-%d").to_string()
        == (now - Duration::hours(2)).format("%Y-%m-%d").to_string()
    {
        s.readings(
            &token,
            &json!({"readings": [{"time": earlier.to_string(), "pm10": 50.0}]}),
        );
        s.check();
        assert_eq!(pending(), 1, "the hour is over, its day is not");
    }
}

//! Dust violations (扬尘违规) over HTTP on the demo database: reports routed by geometry with a
//! deadline, idempotent retries, what each role sees (list, item, photos, OGC collection), the
//! life open → rectifying → rectified → verified with rejections, refusals that write nothing,
//! and the layer as GDAL reads it.
#![allow(clippy::unwrap_used)]

mod common;

use std::process::Command;

use common::*;
use serde_json::{Value, json};

const DEMO_HOLDER: &str = "骆驼山示例煤业有限公司";
/// The demo owner's open-pit mine (its interior point may fall in its inner dump: the same holder).
const OWN_MINE: &str = "骆驼山示例露天煤矿";
/// An ownerless mine in 乌达区 150303, the demo district officer's district.
const OWNERLESS_WUDA: &str = "苏海图示例无主矿区";
/// A holder's mine in 乌达区: the district officer sees its violations but does not fix them.
const HOLDER_WUDA: &str = "黄白茨示例煤矿";

fn uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}

fn issue(at: [f64; 2], props: Value) -> Value {
    json!({"type": "Feature", "geometry": {"type": "Point", "coordinates": at}, "properties": props})
}

fn report(c: &Client, at: [f64; 2], props: Value) -> Response {
    c.post("/api/dust/issues", &issue(at, props))
}

/// Reports a violation as `c` and returns its properties.
fn reported(c: &Client, mine: &str, kind: &str) -> Value {
    let r = report(
        c,
        inside("mines", mine),
        json!({"uuid": uuid(), "kind": kind, "note": "现场发现", "accuracy_m": 6}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    r.json()["properties"].clone()
}

fn act(c: &Client, id: &str, body: Value) -> Response {
    c.post(&format!("/api/dust/issues/{id}/events"), &body)
}

fn db(s: &Server) -> rusqlite::Connection {
    rusqlite::Connection::open(&s.db).unwrap()
}

fn count(s: &Server, sql: &str) -> i64 {
    common::count(&s.db, sql)
}

/// What a refused request must leave as it was: the rows, the events, the outbox.
fn snapshot(s: &Server) -> (i64, i64, i64, String) {
    let states: String = query_one(
        &s.db,
        "SELECT group_concat(uuid || status || updated_at || coalesce(rectified_at, ''), ';') FROM dust_issues",
    );
    (
        count(s, "SELECT count(*) FROM dust_issues"),
        count(s, "SELECT count(*) FROM dust_issue_events"),
        count(s, "SELECT count(*) FROM webhook_outbox"),
        states,
    )
}

fn features(v: &Value) -> Vec<Value> {
    v["features"].as_array().unwrap().clone()
}

fn codes(v: &Value) -> Vec<String> {
    let mut c: Vec<String> = features(v)
        .iter()
        .map(|f| f["properties"]["code"].as_str().unwrap().to_string())
        .collect();
    c.sort();
    c
}

fn strings(v: &Value) -> Vec<String> {
    items(v).map(|a| a.as_str().unwrap().to_string()).collect()
}

fn png(w: u32, h: u32) -> Vec<u8> {
    png_of(w, h, [0, 0, 0])
}

fn upload(c: &Client, id: &str, bytes: &[u8]) -> Response {
    c.upload(&format!("/api/dust/issues/{id}/photos"), bytes)
}

/// A request with any method and a GeoJSON body, as `c`, in English.
fn send(c: &Client, method: &str, path: &str, body: Option<&Value>) -> Response {
    c.in_lang("en").send_geojson(method, path, &[], body)
}

#[test]
fn a_report_is_routed_by_geometry_with_a_code_and_a_deadline_three_local_days_on() {
    let (s, [manager]) = demo_with(["manager"]);
    let hook = manager.post(
        "/api/webhooks",
        &json!({"url": "http://127.0.0.1:9/hook", "kinds": ["dust_issue"]}),
    );
    assert_eq!(hook.status, 201, "{}", hook.body);
    let patrol = Client::login(&s, "patrol");
    let p = reported(&patrol, OWN_MINE, "open_stockpile");
    assert!(
        p["code"].as_str().unwrap().starts_with("YC-") && p["code"].as_str().unwrap().len() == 12,
        "{p}"
    );
    assert_eq!(p["status"], "open");
    assert_eq!(p["kind"], "open_stockpile");
    assert_eq!(p["responsible"]["party"], "holder");
    assert_eq!(p["responsible"]["name"], DEMO_HOLDER);
    assert_eq!(p["reported_by"], "patrol");
    assert_eq!(p["overdue"], false);
    assert_eq!(p["allowed_actions"], json!([]), "a patrol verifies, later");
    // Due at the end of the local day (UTC+8) three days after the report: 16:00 UTC.
    let at = chrono::DateTime::parse_from_rfc3339(p["reported_at"].as_str().unwrap()).unwrap();
    let local_day = (at + chrono::Duration::hours(8)).date_naive();
    let due = (local_day + chrono::Days::new(3)).to_string() + "T16:00:00Z";
    assert_eq!(p["deadline"], due.as_str());

    // An ownerless mine in 乌达区 goes to the district government.
    let d = reported(&patrol, OWNERLESS_WUDA, "no_spraying");
    assert_eq!(d["responsible"]["party"], "district");
    assert_eq!(d["responsible"]["district_code"], "150303");
    assert!(
        d["responsible"]["mine"].as_str().is_some(),
        "the ownerless mine is named: {d}"
    );
    // Managers log violations too; owners and district officers do not.
    let m = report(
        &manager,
        inside("mines", HOLDER_WUDA),
        json!({"kind": "unswept_road"}),
    );
    assert_eq!(m.status, 201, "{}", m.body);
    assert_eq!(
        m.json()["properties"]["responsible"]["district_code"],
        "150303"
    );
    for who in ["owner", "district"] {
        let r = report(
            &Client::login(&s, who),
            inside("mines", OWN_MINE),
            json!({"kind": "unswept_road"}),
        );
        assert_eq!(r.status, 403, "{who}: {}", r.body);
    }
    // Each report queued one `dust_issue` delivery in its transaction.
    assert_eq!(
        count(
            &s,
            "SELECT count(*) FROM webhook_outbox WHERE kind = 'dust_issue'"
        ),
        3
    );
    // The parties hear of their new violations.
    let owner = Client::login(&s, "owner").get("/api/notifications").json();
    assert!(
        items(&owner["items"]).any(|n| n["kind"] == "new_dust_issue"
            && n["code"] == p["code"]
            && n["unread"] == true),
        "{owner}"
    );
    let district = Client::login(&s, "district")
        .get("/api/notifications")
        .json();
    let theirs: Vec<&Value> = items(&district["items"])
        .filter(|n| n["kind"] == "new_dust_issue")
        .collect();
    assert!(theirs.iter().any(|n| n["code"] == d["code"]), "{district}");
    assert!(
        !theirs
            .iter()
            .any(|n| n["code"] == m.json()["properties"]["code"]),
        "a holder's violation is the holder's to fix"
    );
}

#[test]
fn a_retry_with_the_same_uuid_and_body_returns_the_same_issue_and_another_body_is_a_conflict() {
    let (s, [patrol]) = demo_with(["patrol"]);
    let id = uuid();
    let at = inside("mines", OWN_MINE);
    let props =
        json!({"uuid": id, "kind": "uncovered_truck", "note": "车辆未苫盖", "accuracy_m": 8});
    let first = report(&patrol, at, props.clone());
    assert_eq!(first.status, 201, "{}", first.body);
    let again = report(&patrol, at, props.clone());
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(
        again.json()["properties"]["code"],
        first.json()["properties"]["code"]
    );
    assert_eq!(again.json()["id"], id.as_str());
    let one = format!("SELECT count(*) FROM dust_issues WHERE uuid = '{id}'");
    assert_eq!(count(&s, &one), 1);
    let before = snapshot(&s);
    let mut other = props.clone();
    other["note"] = json!("另一份内容");
    let r = report(&patrol, at, other);
    assert_eq!(r.status, 409, "{}", r.body);
    assert_eq!(r.json()["error"], "idempotency_conflict");
    // A fire's id is not a violation's.
    let fire = patrol.post(
        "/api/fires",
        &fire_feature(inside("mines", OWN_MINE), json!({"kind": "coal_seam"})),
    );
    let fire_id = fire.json()["properties"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let before_fire = snapshot(&s);
    let r = report(
        &patrol,
        at,
        json!({"uuid": fire_id, "kind": "unswept_road"}),
    );
    assert_eq!(r.status, 409, "{}", r.body);
    assert_eq!(snapshot(&s), before_fire);
    assert_eq!((before.0, before.1), (before_fire.0, before_fire.1));
}

#[test]
fn bad_input_is_refused_naming_the_field_and_nothing_is_written() {
    let (s, [mut patrol]) = demo_with(["patrol"]);
    patrol.lang = "en";
    let before = snapshot(&s);
    let at = inside("mines", OWN_MINE);
    let cases: Vec<(Value, u16, &str, &str)> = vec![
        (
            issue(at, json!({"kind": "volcano"})),
            422,
            "field_not_allowed",
            "kind",
        ),
        (
            issue(at, json!({"note": "x"})),
            422,
            "field_missing",
            "kind",
        ),
        (
            issue(at, json!({"kind": "no_spraying", "status": "verified"})),
            422,
            "field_unknown",
            "status",
        ),
        (
            issue(at, json!({"kind": "no_spraying", "uuid": "not-a-uuid"})),
            422,
            "invalid_uuid",
            "uuid",
        ),
        (
            issue(at, json!({"kind": "no_spraying", "accuracy_m": 500})),
            422,
            "accuracy_too_poor",
            "500",
        ),
        (
            json!({"type": "Feature", "geometry": {"type": "LineString", "coordinates": [at, [at[0] + 0.01, at[1]]]}, "properties": {"kind": "no_spraying"}}),
            422,
            "wrong_geometry",
            "Point",
        ),
        (
            issue([at[1], at[0] + 100.0], json!({"kind": "no_spraying"})),
            422,
            "coords_out_of_range",
            "longitude",
        ),
        (
            json!({"type": "Feature", "properties": {"kind": "no_spraying"}}),
            422,
            "missing_geometry",
            "geometry",
        ),
        (
            issue([110.0, 30.0], json!({"kind": "no_spraying"})),
            422,
            "outside_managed_area",
            "district",
        ),
    ];
    for (body, status, key, named) in cases {
        let r = patrol.post("/api/dust/issues", &body);
        assert_eq!(r.status, status, "{body}: {}", r.body);
        let v = r.json();
        assert_eq!(v["error"], key, "{v}");
        assert!(
            v["message"].as_str().unwrap().contains(named),
            "{key} names {named}: {v}"
        );
    }
    let r = patrol.post_raw("/api/dust/issues", b"{\"type\": \"Feature\",");
    assert_eq!(r.status, 400, "{}", r.body);
    // The message is Chinese by default.
    patrol.lang = "zh-CN";
    let r = patrol.post("/api/dust/issues", &issue(at, json!({"kind": "volcano"})));
    assert!(r.message().contains("kind"));
    assert!(r.message().contains("允许"));
    assert_eq!(snapshot(&s), before);
}

#[test]
fn each_role_sees_what_the_layer_file_grants_in_the_list_the_item_and_the_ogc_collection() {
    let s = demo_server();
    let all = count(&s, "SELECT count(*) FROM dust_issues");
    assert!(all >= 8, "the demo's sample violations");
    let holder_n = count(
        &s,
        &format!("SELECT count(*) FROM dust_issues WHERE responsible_holder = '{DEMO_HOLDER}'"),
    );
    let district_n = count(
        &s,
        "SELECT count(*) FROM dust_issues WHERE district_code = '150303'",
    );
    assert!(holder_n >= 1 && district_n >= 1 && holder_n + district_n < all);
    let outside_wuda: String = query_one(
        &s.db,
        "SELECT uuid FROM dust_issues WHERE district_code <> '150303' ORDER BY fid LIMIT 1",
    );
    let other_holder: String = query_one(
        &s.db,
        &format!(
            "SELECT uuid FROM dust_issues WHERE coalesce(responsible_holder, '') <> '{DEMO_HOLDER}' ORDER BY fid LIMIT 1"
        ),
    );
    for (who, expected) in [
        ("manager", all),
        ("patrol", all),
        ("owner", holder_n),
        ("district", district_n),
    ] {
        let c = Client::login(&s, who);
        let list = c.get("/api/dust/issues");
        assert_eq!(list.status, 200, "{}", list.body);
        let list = list.json();
        assert_eq!(list["type"], "FeatureCollection");
        assert_eq!(features(&list).len() as i64, expected, "{who}");
        let ogc = c.get("/collections/dust_issues/items?limit=1000");
        assert_eq!(ogc.status, 200, "{who}: {}", ogc.body);
        assert_eq!(codes(&ogc.json()), codes(&list), "{who}: OGC and API agree");
        for f in features(&list) {
            match who {
                "owner" => {
                    assert_eq!(f["properties"]["responsible"]["name"], DEMO_HOLDER);
                    assert!(
                        f["properties"]["reported_by"].is_null(),
                        "owners never see who reported"
                    );
                }
                "district" => assert_eq!(f["properties"]["responsible"]["district_code"], "150303"),
                _ => assert_eq!(f["properties"]["reported_by"], "patrol"),
            }
        }
        if who == "owner" {
            for f in features(&ogc.json()) {
                assert!(f["properties"].get("reported_by").is_none(), "{f}");
            }
        }
        // Deadlines first.
        let deadlines: Vec<String> = features(&list)
            .iter()
            .map(|f| f["properties"]["deadline"].as_str().unwrap().to_string())
            .collect();
        let mut sorted = deadlines.clone();
        sorted.sort();
        assert_eq!(deadlines, sorted);
    }
    // One violation: what the list shows, the item shows; the rest is 404 (never 403).
    let [owner, district] = s.clients(["owner", "district"]);
    for (who, path) in [
        (&owner, format!("/api/dust/issues/{other_holder}")),
        (
            &owner,
            format!("/collections/dust_issues/items/{other_holder}"),
        ),
        (&district, format!("/api/dust/issues/{outside_wuda}")),
    ] {
        assert_eq!(who.get(&path).status, 404, "{path}");
    }
    let patrol = Client::login(&s, "patrol");
    let one = patrol.get(&format!("/api/dust/issues/{outside_wuda}"));
    assert_eq!(one.status, 200);
    // By code too.
    let code = one.json()["properties"]["code"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        patrol.get(&format!("/api/dust/issues/{code}")).json()["id"],
        outside_wuda.as_str()
    );
    assert_eq!(Client::anonymous(&s).get("/api/dust/issues").status, 401);

    // Filters: statuses (any of a list) and a bbox.
    let m = Client::login(&s, "manager");
    let open = m.get("/api/dust/issues?status=open,rectifying").json();
    assert!(!features(&open).is_empty());
    assert!(features(&open).iter().all(|f| {
        matches!(
            f["properties"]["status"].as_str().unwrap(),
            "open" | "rectifying"
        )
    }));
    let open_n = count(
        &s,
        "SELECT count(*) FROM dust_issues WHERE status IN ('open', 'rectifying')",
    );
    assert_eq!(features(&open).len() as i64, open_n);
    let f = &features(&open)[0];
    let [x, y] = [
        f["geometry"]["coordinates"][0].as_f64().unwrap(),
        f["geometry"]["coordinates"][1].as_f64().unwrap(),
    ];
    let near = m
        .get(&format!(
            "/api/dust/issues?bbox={},{},{},{}",
            x - 0.0001,
            y - 0.0001,
            x + 0.0001,
            y + 0.0001
        ))
        .json();
    assert_eq!(
        codes(&near),
        vec![f["properties"]["code"].as_str().unwrap().to_string()]
    );
    for bad in ["status=burning", "bbox=1,2,3", "kind=x"] {
        let r = m.get(&format!("/api/dust/issues?{bad}"));
        assert_eq!(r.status, 400, "{bad}: {}", r.body);
    }
}

#[test]
fn the_whole_life_runs_open_to_verified_and_a_rejection_sends_it_back() {
    let (s, [patrol, owner]) = demo_with(["patrol", "owner"]);
    let p = reported(&patrol, OWN_MINE, "unswept_road");
    let id = p["uuid"].as_str().unwrap().to_string();
    let detail = owner.get(&format!("/api/dust/issues/{id}")).json();
    assert_eq!(
        detail["properties"]["allowed_actions"],
        json!(["start", "rectified"])
    );

    let r = act(&owner, &id, json!({"action": "start"}));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["properties"]["status"], "rectifying");
    // Rectified needs a note; the refusal changes nothing.
    let before = snapshot(&s);
    let r = act(&owner, &id, json!({"action": "rectified"}));
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.message().contains("note"));
    assert_eq!(snapshot(&s), before);
    let r = act(
        &owner,
        &id,
        json!({"action": "rectified", "note": "道路已清扫"}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let v = r.json();
    assert_eq!(v["properties"]["status"], "rectified");
    assert!(v["properties"]["rectified_at"].is_string());
    assert_eq!(v["properties"]["allowed_actions"], json!([]));
    // A patrol checks: not good enough (a reason is required), then good.
    let r = act(&patrol, &id, json!({"action": "reject"}));
    assert_eq!(r.status, 422, "{}", r.body);
    let r = act(
        &patrol,
        &id,
        json!({"action": "reject", "note": "仍有积尘"}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["properties"]["status"], "rectifying");
    assert!(r.json()["properties"]["rectified_at"].is_null());
    let r = act(
        &owner,
        &id,
        json!({"action": "rectified", "note": "再次清扫并洒水"}),
    );
    assert_eq!(r.json()["properties"]["status"], "rectified");
    assert_eq!(
        patrol.get(&format!("/api/dust/issues/{id}")).json()["properties"]["allowed_actions"],
        json!(["verify", "reject"])
    );
    // A retried action (same client id) is applied once.
    let verify = json!({"action": "verify", "note": "复查合格", "id": uuid()});
    let r = act(&patrol, &id, verify.clone());
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["properties"]["status"], "verified");
    assert!(r.json()["properties"]["verified_at"].is_string());
    let r = act(&patrol, &id, verify.clone());
    assert_eq!(r.status, 200, "{}", r.body);
    let mut other = verify.clone();
    other["note"] = json!("别的内容");
    assert_eq!(act(&patrol, &id, other).status, 409);

    let d = owner.get(&format!("/api/dust/issues/{id}")).json()["properties"].clone();
    let events = d["events"].as_array().unwrap();
    let steps: Vec<(String, String)> = events
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap().to_string(),
                e["to"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let expected: Vec<(String, String)> = [
        ("report", "open"),
        ("start", "rectifying"),
        ("rectified", "rectified"),
        ("reject", "rectifying"),
        ("rectified", "rectified"),
        ("verify", "verified"),
    ]
    .iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(steps, expected);
    assert_eq!(events[3]["note"], "仍有积尘");
    assert_eq!(events[3]["from"], "rectified");
    // Owners see what was done to their violation, not by which patrol.
    assert_eq!(events[3]["actor"], "");
    assert_eq!(events[1]["actor"], "owner");
    assert_eq!(d["allowed_actions"], json!([]));
    assert_eq!(d["overdue"], false);
    assert_eq!(d["photos"], json!([]));
    // Events are immutable.
    let conn = db(&s);
    assert!(
        conn.execute("UPDATE dust_issue_events SET note = 'x'", [])
            .is_err()
    );
    assert!(conn.execute("DELETE FROM dust_issue_events", []).is_err());

    // A district-routed violation is the district officer's to rectify; a manager may too.
    let d = reported(&patrol, OWNERLESS_WUDA, "no_spraying");
    let did = d["uuid"].as_str().unwrap();
    let [district, manager] = s.clients(["district", "manager"]);
    for (who, body) in [
        (
            &district,
            json!({"action": "start", "note": "已安排洒水车"}),
        ),
        (&manager, json!({"action": "rectified", "note": "已洒水"})),
    ] {
        let r = act(who, did, body);
        assert_eq!(r.status, 200, "{}", r.body);
    }
    let r = act(&manager, did, json!({"action": "verify"}));
    assert_eq!(r.json()["properties"]["status"], "verified");
}

#[test]
fn a_wrong_role_is_403_a_wrong_state_is_409_an_unseen_one_404_and_none_writes() {
    let (s, [patrol, owner, district, manager]) =
        demo_with(["patrol", "owner", "district", "manager"]);
    manager.post(
        "/api/webhooks",
        &json!({"url": "http://127.0.0.1:9/hook", "kinds": ["dust_issue"]}),
    );
    let own = reported(&patrol, OWN_MINE, "blasting_outside_window");
    let own_id = own["uuid"].as_str().unwrap().to_string();
    let wuda = reported(&patrol, HOLDER_WUDA, "unhardened_road");
    let wuda_id = wuda["uuid"].as_str().unwrap().to_string();
    let before = snapshot(&s);

    // 403: a patrol does not rectify; the district officer does not fix a holder's violation in
    // its district (it sees it); the owner does not verify its own work.
    let r = act(&patrol, &own_id, json!({"action": "start"}));
    assert_eq!(r.status, 403, "{}", r.body);
    assert!(r.message().contains("巡查员"), "{}", r.body);
    assert_eq!(
        district.get(&format!("/api/dust/issues/{wuda_id}")).status,
        200
    );
    for (who, id, action) in [(&district, &wuda_id, "start"), (&owner, &own_id, "verify")] {
        assert_eq!(act(who, id, json!({"action": action})).status, 403);
    }
    // 409: not from this state, naming what is possible now.
    let r = act(&manager, &own_id, json!({"action": "verify"}));
    assert_eq!(r.status, 409, "{}", r.body);
    let v = r.json();
    assert_eq!(v["detail"]["status"], "open");
    assert_eq!(strings(&v["detail"]["allowed"]), vec!["start", "rectified"]);
    assert!(v["message"].as_str().unwrap().contains("待整改"), "{v}");
    let mut en = Client::login(&s, "manager");
    en.lang = "en";
    let r = act(&en, &own_id, json!({"action": "reject", "note": "x"}));
    assert_eq!(r.status, 409);
    assert!(r.message().contains("open"), "{}", r.body);
    // 404: another district's violation, or none at all.
    for (who, id) in [
        (&district, own_id.clone()),
        (&owner, wuda_id.clone()),
        (&manager, uuid()),
    ] {
        assert_eq!(act(who, &id, json!({"action": "start"})).status, 404);
    }
    // 422: an unknown action or field.
    let r = act(&owner, &own_id, json!({"action": "extinguish"}));
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(r.message().contains("开始整改"));
    assert_eq!(
        act(&owner, &own_id, json!({"action": "start", "temp_c": 3})).status,
        422
    );
    assert_eq!(snapshot(&s), before, "nothing written by any refusal");

    // After a start, starting again is a 409 and rectified is what remains.
    assert_eq!(act(&owner, &own_id, json!({"action": "start"})).status, 200);
    let r = act(&owner, &own_id, json!({"action": "start"}));
    assert_eq!(r.status, 409);
    assert_eq!(strings(&r.json()["detail"]["allowed"]), vec!["rectified"]);
}

#[test]
fn photos_of_a_violation_go_through_the_photo_checks_and_are_served_only_to_who_may_see_it() {
    let (s, [patrol]) = demo_with(["patrol"]);
    let p = reported(&patrol, OWN_MINE, "open_stockpile");
    let id = p["uuid"].as_str().unwrap().to_string();
    let img = png(64, 48);
    let r = upload(&patrol, &id, &img);
    assert_eq!(r.status, 201, "{}", r.body);
    let photo = r.json()["photos"][0].clone();
    assert!(photo["url"].as_str().unwrap().starts_with("/api/photos/"));
    // The same bytes again are the same record; not an image is refused.
    assert_eq!(
        upload(&patrol, &id, &img).json()["photos"][0]["id"],
        photo["id"]
    );
    assert_eq!(upload(&patrol, &id, b"%PDF-1.4 not a photo").status, 422);
    assert_eq!(
        count(
            &s,
            &format!("SELECT count(*) FROM photos WHERE subject = 'dust_issue' AND fire = '{id}'")
        ),
        1
    );
    let shown = Client::login(&s, "manager")
        .get(&format!("/api/dust/issues/{id}"))
        .json();
    assert_eq!(shown["properties"]["photos"].as_array().unwrap().len(), 1);
    // The owner (its violation) adds a photo of the rectification and sees both.
    let owner = Client::login(&s, "owner");
    assert_eq!(upload(&owner, &id, &png(32, 32)).status, 201);
    for url in [
        photo["url"].as_str().unwrap(),
        photo["thumb_url"].as_str().unwrap(),
    ] {
        let got = owner.get(url);
        assert_eq!(got.status, 200, "{url}");
        assert_eq!(got.header("content-type"), Some("image/jpeg"));
        assert_eq!(patrol.get(url).status, 200);
        // The district officer of 乌达区 does not see a violation in 海勃湾区, nor its photos.
        assert_eq!(Client::login(&s, "district").get(url).status, 404);
        assert_eq!(Client::anonymous(&s).get(url).status, 401);
    }
    let district = Client::login(&s, "district");
    assert_eq!(upload(&district, &id, &img).status, 404);
    assert_eq!(upload(&patrol, &uuid(), &img).status, 404);
}

#[test]
fn ogc_writes_to_the_layer_are_refused_and_gdal_lists_it_with_its_count() {
    let (s, [manager, patrol]) = demo_with(["manager", "patrol"]);
    let before = snapshot(&s);
    let body = issue(inside("mines", OWN_MINE), json!({"kind": "no_spraying"}));
    let r = send(
        &manager,
        "POST",
        "/collections/dust_issues/items",
        Some(&body),
    );
    assert_eq!(r.status, 405, "{}", r.body);
    assert_eq!(r.header("allow"), Some("GET, HEAD, OPTIONS"));
    let id: String = query_one(&s.db, "SELECT uuid FROM dust_issues LIMIT 1");
    let item = format!("/collections/dust_issues/items/{id}");
    assert_eq!(manager.get(&item).status, 200);
    for method in ["PUT", "PATCH"] {
        let r = send(
            &manager,
            method,
            &item,
            Some(&json!({"properties": {"status": "verified"}})),
        );
        assert_eq!(r.status, 405, "{method}: {}", r.body);
    }
    assert_eq!(send(&patrol, "DELETE", &item, None).status, 405);
    let o = send(&manager, "OPTIONS", "/collections/dust_issues/items", None);
    assert_eq!(o.header("allow"), Some("GET, HEAD, OPTIONS"));
    assert_eq!(snapshot(&s), before);
    // The collection's schema offers the kinds; the status is the system's.
    let schema = manager.get("/collections/dust_issues/schema").json();
    let props = &schema["properties"]["properties"]["properties"];
    assert_eq!(props["status"]["enum"][3], "verified", "{schema}");
    assert!(
        props.get("request_hash").is_none(),
        "internal fields stay inside"
    );
    assert!(
        props["kind"]["enum"]
            .as_array()
            .unwrap()
            .contains(&json!("blasting_outside_window")),
        "{schema}"
    );

    // GDAL reads the layer (and the event log beside it) from the GeoPackage.
    reported(&patrol, OWN_MINE, "uncovered_truck");
    let n = count(&s, "SELECT count(*) FROM dust_issues");
    let db_s = s.db.to_str().unwrap();
    let out = Command::new("ogrinfo")
        .args(["-ro", "-so", db_s, "dust_issues"])
        .output()
        .unwrap_or_else(|e| panic!("ogrinfo is needed (bash .ci/setup): {e}"));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("Layer name: dust_issues"), "{text}");
    assert!(text.contains("Geometry: Point"), "{text}");
    assert!(text.contains(&format!("Feature Count: {n}")), "{text}");
    assert!(
        text.contains("Extent: (106.") && text.contains("39."),
        "{text}"
    );
    assert!(text.contains("kind: String"), "{text}");
    let out = Command::new("ogrinfo")
        .args(["-ro", "-q", db_s])
        .output()
        .unwrap();
    let list = String::from_utf8_lossy(&out.stdout);
    assert!(list.contains("dust_issue_events"), "{list}");
}

#[test]
fn the_demo_has_violations_in_every_state_for_the_demo_owner_and_district() {
    let s = demo_server();
    let m = Client::login(&s, "manager").get("/api/dust/issues").json();
    let all = features(&m);
    assert_eq!(all.len(), 8);
    for st in ["open", "rectifying", "rectified", "verified"] {
        assert!(all.iter().any(|f| f["properties"]["status"] == st), "{st}");
    }
    assert!(all.iter().any(|f| f["properties"]["overdue"] == true));
    let owner = features(&Client::login(&s, "owner").get("/api/dust/issues").json());
    assert!(!owner.is_empty());
    let district = features(&Client::login(&s, "district").get("/api/dust/issues").json());
    assert!(district.iter().any(|f| {
        f["properties"]["responsible"]["party"] == "district"
            && f["properties"]["allowed_actions"]
                .as_array()
                .unwrap()
                .contains(&json!("start"))
    }));
    // Every sample step went through the rules: one event per report and action.
    assert_eq!(
        count(&s, "SELECT count(DISTINCT issue) FROM dust_issue_events"),
        8
    );
    assert!(
        count(
            &s,
            "SELECT count(*) FROM dust_issue_events WHERE action = 'reject'"
        ) >= 2
    );
    assert_eq!(
        count(
            &s,
            "SELECT count(*) FROM dust_issues WHERE status = 'verified' AND verified_at IS NULL"
        ),
        0
    );
}

#[test]
fn violations_past_their_deadline_remind_their_party_and_managers() {
    let s = demo_server();
    let overdue_codes = |c: &Client| -> Vec<String> {
        let mut v: Vec<String> = c.get("/api/notifications").json()["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|n| n["kind"] == "dust_issue_overdue")
            .map(|n| n["code"].as_str().unwrap().to_string())
            .collect();
        v.sort();
        v
    };
    // What the list says is overdue and not yet rectified, per reader.
    let expected = |c: &Client| -> Vec<String> {
        let mut v: Vec<String> = features(&c.get("/api/dust/issues?status=open,rectifying").json())
            .iter()
            .filter(|f| f["properties"]["overdue"] == true)
            .map(|f| f["properties"]["code"].as_str().unwrap().to_string())
            .collect();
        v.sort();
        v
    };
    let manager = Client::login(&s, "manager");
    let all = expected(&manager);
    assert!(!all.is_empty(), "the demo has overdue violations");
    assert_eq!(overdue_codes(&manager), all);
    let owner = Client::login(&s, "owner");
    assert_eq!(overdue_codes(&owner), expected(&owner));
    assert!(overdue_codes(&Client::login(&s, "patrol")).is_empty());
}

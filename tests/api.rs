//! The HTTP contract, against the real server on an ephemeral port over the demo database.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use serde_json::{Value, json};

const DEMO_HOLDER: &str = "骆驼山示例煤业有限公司";

fn own_mine() -> String {
    "骆驼山示例露天煤矿".into()
}

fn ownerless_mine() -> String {
    sample_name("mines", |p| p["status"] == "ownerless")
}

fn report(c: &Client, at: [f64; 2], props: Value) -> Response {
    c.post("/api/fires", &fire_feature(at, props))
}

#[test]
fn login_gives_a_token_and_a_strict_http_only_cookie() {
    let s = demo_server();
    let r = sign_in(s.addr, "manager", "qingling-manager", &[]);
    assert_eq!(r.status, 200);
    let v = r.json();
    assert_eq!(v["user"]["role"], "manager");
    let token = v["token"].as_str().unwrap();
    let cookie = r.header("set-cookie").unwrap();
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    let cookie_pair = cookie.split(';').next().unwrap();
    let me = request(s.addr, "GET", "/api/me", &[("Cookie", cookie_pair)], None);
    assert_eq!(me.json()["username"], "manager");
    let me = request(
        s.addr,
        "GET",
        "/api/me",
        &[("Authorization", &format!("Bearer {token}"))],
        None,
    );
    assert_eq!(me.status, 200);

    let r = sign_in(s.addr, "manager", "nope-nope", &[("Accept-Language", "en")]);
    assert_eq!(r.status, 401);
    assert_eq!(r.json()["message"], "Wrong username or password");
    assert_eq!(Client::anonymous(&s).get("/api/me").status, 401);
    assert_eq!(
        Client::anonymous(&s)
            .get("/collections/fire_points/items")
            .status,
        401
    );
}

#[test]
fn a_report_inside_a_mining_right_goes_to_its_holder_with_a_code_and_deadline() {
    let (_s, [patrol]) = demo_with(["patrol"]);
    let at = inside("mines", &own_mine());
    let r = report(
        &patrol,
        at,
        json!({"kind": "coal_seam", "temp_c": 180, "signs": ["smoke"], "accuracy_m": 6}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let p = &r.json()["properties"];
    assert_eq!(p["status"], "reported");
    assert_eq!(p["responsible"]["party"], "holder");
    assert_eq!(p["responsible"]["name"], DEMO_HOLDER);
    assert!(p["responsible"]["via"]["layer"].is_string());
    assert!(
        p["code"].as_str().unwrap().starts_with("WH-20"),
        "{}",
        p["code"]
    );
    assert!(p["deadline"].is_string());
    assert!(p["nearby_open"].is_array());
    let id = p["id"].as_str().unwrap();
    let got = patrol.get(&format!("/api/fires/{id}"));
    assert_eq!(got.status, 200);
    let events = got.json()["properties"]["events"]
        .as_array()
        .unwrap()
        .clone();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["action"], "report");
}

#[test]
fn ownerless_and_outside_reports_go_to_the_district_or_are_refused() {
    let (s, [patrol]) = demo_with(["patrol"]);
    let r = report(
        &patrol,
        inside("mines", &ownerless_mine()),
        json!({"kind": "coal_seam"}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let resp = &r.json()["properties"]["responsible"];
    assert_eq!(resp["party"], "district");
    assert!(["海勃湾区", "乌达区", "海南区"].contains(&resp["name"].as_str().unwrap()));

    let mut en = Client::login(&s, "patrol");
    en.lang = "en";
    let before = count_fires(&s.db);
    let r = report(&en, [110.0, 39.5], json!({"kind": "coal_seam"}));
    assert_eq!(r.status, 422);
    assert_eq!(
        r.json()["message"],
        "Outside the managed area: the point lies in no district"
    );
    assert_eq!(count_fires(&s.db), before);
}

#[test]
fn a_retried_report_returns_the_first_record_and_a_changed_one_conflicts() {
    let (s, [patrol]) = demo_with(["patrol"]);
    let at = inside("mines", &own_mine());
    let id = "6f1c2a8e-3b9d-4c1e-9f2a-7d8e5b4c3a21";
    let first = report(
        &patrol,
        at,
        json!({"id": id, "kind": "waste_dump", "temp_c": 90}),
    );
    assert_eq!(first.status, 201, "{}", first.body);
    let again = report(
        &patrol,
        at,
        json!({"id": id, "kind": "waste_dump", "temp_c": 90}),
    );
    assert_eq!(again.status, 200);
    assert_eq!(
        again.json()["properties"]["code"],
        first.json()["properties"]["code"]
    );
    let n = count_fires(&s.db);
    let changed = report(
        &patrol,
        at,
        json!({"id": id, "kind": "waste_dump", "temp_c": 95}),
    );
    assert_eq!(changed.status, 409);
    assert_eq!(count_fires(&s.db), n);
}

#[test]
fn bad_input_gets_a_4xx_an_actionable_message_and_writes_nothing() {
    let (s, [mut patrol]) = demo_with(["patrol"]);
    patrol.lang = "en-US";
    let at = inside("mines", &own_mine());
    let before = count_fires(&s.db);
    let cases: Vec<(Vec<u8>, u16, &str)> = vec![
        (b"{not json".to_vec(), 400, "not valid JSON"),
        (json!({"type": "Feature", "geometry": {"type": "LineString", "coordinates": [at, at]}, "properties": {"kind": "coal_seam"}}).to_string().into_bytes(), 422, "must be a Point"),
        (fire_feature([306.0, 39.5], json!({"kind": "coal_seam"})).to_string().into_bytes(), 422, "out of range"),
        (fire_feature([39.5, 106.8], json!({"kind": "coal_seam"})).to_string().into_bytes(), 422, "out of range"),
        (fire_feature(at, json!({"kind": "volcano"})).to_string().into_bytes(), 422, "\"kind\""),
        (fire_feature(at, json!({"temp_c": 80})).to_string().into_bytes(), 422, "\"kind\" is missing"),
        (fire_feature(at, json!({"kind": "coal_seam", "temp": 80})).to_string().into_bytes(), 422, "Unknown field \"temp\""),
        (fire_feature(at, json!({"kind": "coal_seam", "accuracy_m": 250})).to_string().into_bytes(), 422, "place the point on the map"),
        (json!({"type": "FeatureCollection", "features": []}).to_string().into_bytes(), 422, "Feature"),
        (vec![b' '; (1 << 20) + 10], 413, "1 MiB"),
    ];
    for (body, status, needle) in cases {
        let r = patrol.post_raw("/api/fires", &body);
        assert_eq!(r.status, status, "{needle}: {}", r.body);
        let msg = r.message();
        assert!(msg.contains(needle), "{needle:?} not in {msg:?}");
    }
    assert_eq!(count_fires(&s.db), before, "nothing written");
    // Chinese by default.
    patrol.lang = "zh";
    let r = patrol.post_raw("/api/fires", b"{not json");
    assert!(r.message().contains("不是有效的 JSON"));
    // A map-placed point may have a poor GPS accuracy.
    let r = report(
        &patrol,
        at,
        json!({"kind": "coal_seam", "accuracy_m": 250, "position_source": "map"}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
}

#[test]
fn a_fire_lives_through_its_states_with_the_right_people_acting() {
    let (s, [patrol, manager, owner]) = demo_with(["patrol", "manager", "owner"]);
    let mut district = Client::login(&s, "district");
    district.lang = "en";
    let at = inside("mines", &own_mine());
    let r = report(&patrol, at, json!({"kind": "waste_dump", "temp_c": 120}));
    let id = r.json()["properties"]["id"].as_str().unwrap().to_string();
    let ev = |c: &Client, body: Value| c.post(&format!("/api/fires/{id}/events"), &body);

    assert_eq!(
        ev(&patrol, json!({"action": "confirm"})).status,
        403,
        "a patrol may not confirm"
    );
    assert_eq!(
        ev(
            &owner,
            json!({"action": "start_treatment", "method": "water"})
        )
        .status,
        409,
        "not confirmed yet"
    );
    assert_eq!(ev(&manager, json!({"action": "confirm"})).status, 200);
    let r = ev(&manager, json!({"action": "clear"}));
    assert_eq!(r.status, 409);
    assert_eq!(
        r.json()["detail"]["allowed"],
        json!(["inspect", "dismiss", "reassign"])
    );
    let r = ev(&manager, json!({"action": "fly"}));
    assert_eq!(r.status, 422);
    assert_eq!(
        ev(&owner, json!({"action": "start_treatment"})).status,
        422,
        "a method is needed"
    );
    let r = ev(
        &owner,
        json!({"action": "start_treatment", "method": "loess_cover"}),
    );
    assert_eq!(r.json()["properties"]["status"], "treating");
    let r = ev(&owner, json!({"action": "control", "temp_c": 65}));
    assert_eq!(r.status, 422, "{}", r.body);
    let r = ev(&owner, json!({"action": "control", "temp_c": 35}));
    assert_eq!(r.json()["properties"]["status"], "controlled");
    let r = ev(
        &patrol,
        json!({"action": "inspect", "temp_c": 78, "co_ppm": 40}),
    );
    assert_eq!(r.json()["properties"]["status"], "reignited");
    assert_eq!(r.json()["properties"]["reignitions"], 1);
    let r = ev(
        &owner,
        json!({"action": "start_treatment", "method": "grouting"}),
    );
    assert_eq!(r.json()["properties"]["status"], "treating");

    let got = manager.get(&format!("/api/fires/{id}")).json();
    let actions: Vec<&str> = strs(&got["properties"]["events"], "action");
    assert_eq!(
        actions,
        vec![
            "report",
            "confirm",
            "start_treatment",
            "control",
            "inspect",
            "start_treatment"
        ]
    );
    // The owner does not learn who reported it.
    let seen = owner.get(&format!("/api/fires/{id}")).json();
    assert!(seen["properties"]["reported_by"].is_null());
    assert_eq!(seen["properties"]["events"][0]["actor"], "");
    // A district officer of another district does not see it.
    assert_eq!(district.get(&format!("/api/fires/{id}")).status, 404);
}

#[test]
fn dismissing_needs_a_reason_or_an_original_and_reassigning_a_reason() {
    let (s, [patrol, manager]) = demo_with(["patrol", "manager"]);
    let at = inside("mines", &own_mine());
    let a = report(&patrol, at, json!({"kind": "coal_seam"})).json()["properties"]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let b = report(
        &patrol,
        [at[0] + 0.0001, at[1]],
        json!({"kind": "coal_seam"}),
    )
    .json();
    let near: Vec<&str> = strs(&b["properties"]["nearby_open"], "id");
    assert!(
        near.contains(&a.as_str()),
        "the first fire is listed as nearby"
    );
    let b = b["properties"]["id"].as_str().unwrap().to_string();
    let ev = |id: &str, body: Value| manager.post(&format!("/api/fires/{id}/events"), &body);
    assert_eq!(ev(&b, json!({"action": "dismiss"})).status, 422);
    assert_eq!(
        ev(&b, json!({"action": "dismiss", "duplicate_of": b})).status,
        422
    );
    let r = ev(&b, json!({"action": "dismiss", "duplicate_of": a}));
    assert_eq!(r.json()["properties"]["status"], "dismissed");
    assert_eq!(ev(&a, json!({"action": "reassign", "responsible": {"party": "district", "district_code": "150304"}})).status, 422);
    let r = ev(
        &a,
        json!({"action": "reassign", "reason": "边界核查", "responsible": {"party": "district", "district_code": "150304"}}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["properties"]["responsible"]["name"], "海南区");
    let r = ev(
        &a,
        json!({"action": "reassign", "reason": "x", "responsible": {"party": "holder", "name": "不存在公司"}}),
    );
    assert_eq!(r.status, 422);
    // The owner no longer sees the reassigned fire.
    let owner = Client::login(&s, "owner");
    assert_eq!(owner.get(&format!("/api/fires/{a}")).status, 404);
}

#[test]
fn each_role_sees_only_its_fires() {
    let s = demo_server();
    let all = Client::login(&s, "manager").get("/api/fires").json();
    let n_all = features(&all).len();
    assert!(n_all >= 74);
    let owner = Client::login(&s, "owner")
        .get("/collections/fire_points/items?limit=1000")
        .json();
    let owned = features(&owner);
    assert!(!owned.is_empty());
    assert!(
        owned
            .iter()
            .all(|f| f["properties"]["responsible_holder"] == DEMO_HOLDER)
    );
    let district = Client::login(&s, "district").get("/api/fires").json();
    let ds = features(&district);
    assert!(!ds.is_empty() && ds.len() < n_all);
    assert!(
        ds.iter()
            .all(|f| f["properties"]["responsible"]["district_code"] == "150303")
    );
    let patrol = Client::login(&s, "patrol").get("/api/fires").json();
    let ps = features(&patrol);
    assert!(ps.iter().all(|f| f["properties"]["status"] != "dismissed"));
    assert!(ps.len() < n_all);
    // A fire of another holder is not found by id, in either API.
    let other = items(&all["features"])
        .find(|f| {
            f["properties"]["responsible"]["party"] == "holder"
                && f["properties"]["responsible"]["name"] != DEMO_HOLDER
        })
        .unwrap();
    let id = other["id"].as_str().unwrap();
    let o = Client::login(&s, "owner");
    assert_eq!(o.get(&format!("/api/fires/{id}")).status, 404);
    assert_eq!(
        o.get(&format!("/collections/fire_points/items/{id}"))
            .status,
        404
    );
    assert_eq!(
        o.post(
            &format!("/api/fires/{id}/events"),
            &json!({"action": "control", "temp_c": 20})
        )
        .status,
        404
    );
    // Owners see only their own mines.
    let mines = o.get("/collections/mines/items").json();
    assert!(items(&mines["features"]).all(|f| f["properties"]["holder"] == DEMO_HOLDER));
}

#[test]
fn collections_list_the_layers_and_page_by_bbox() {
    let (_s, [m]) = demo_with(["manager"]);
    let c = m.get("/collections").json();
    let ids: Vec<&str> = strs(&c["collections"], "id");
    for want in fire_layers() {
        assert!(ids.contains(&want), "{want}");
    }
    let page = m.get("/collections/fire_points/items?limit=10").json();
    assert_eq!(features(&page).len(), 10);
    let next = items(&page["links"]).find(|l| l["rel"] == "next").unwrap()["href"]
        .as_str()
        .unwrap()
        .to_string();
    let page2 = m.get(&next).json();
    assert_ne!(page2["features"][0]["id"], page["features"][0]["id"]);
    let all = m.get("/collections/fire_points/items?limit=1000").json();
    let boxed = m
        .get("/collections/fire_points/items?bbox=106.55,39.2,106.75,39.9&limit=1000")
        .json();
    let nb = features(&boxed);
    assert!(!nb.is_empty() && nb.len() < features(&all).len());
    assert!(
        nb.iter()
            .all(|f| f["geometry"]["coordinates"][0].as_f64().unwrap() <= 106.75)
    );
    assert_eq!(
        m.get("/collections/fire_points/items?bbox=1,2,3").status,
        400
    );
    assert_eq!(m.get("/collections/nothing/items").status, 404);
    let one = m.get(&format!(
        "/collections/fire_points/items/{}",
        nb[0]["id"].as_str().unwrap()
    ));
    assert_eq!(one.status, 200);
    assert!(
        one.json()["properties"].get("request_hash").is_none(),
        "internal fields are not served"
    );
}

/// A manager urges the party of an overdue fire: recorded as an event (state unchanged), the
/// owner is told, a webhook is queued, the overdue list says who urged and when; a fire still in
/// time, or another role, cannot be urged.
#[test]
fn a_manager_urges_the_party_of_an_overdue_fire() {
    let (s, [m, owner]) = demo_with(["manager", "owner"]);
    let hook = m.post(
        "/api/webhooks",
        &json!({"url": "http://127.0.0.1:9/hook", "kinds": ["urged"]}),
    );
    assert_eq!(hook.status, 201, "{}", hook.body);
    let fires = m.list("/api/fires?status=burning&limit=500", "features");
    let overdue = fires
        .iter()
        .find(|f| {
            f["properties"]["overdue"] == true
                && f["properties"]["responsible"]["party"] == "holder"
                && f["properties"]["responsible"]["name"] == "骆驼山示例煤业有限公司"
        })
        .expect("the demo owner has an overdue fire");
    let p = &overdue["properties"];
    let id = p["id"].as_str().unwrap();
    assert!(items(&p["allowed_actions"]).any(|a| a == "urge"), "{p:#}");
    let in_time = fires
        .iter()
        .find(|f| f["properties"]["overdue"] == false && f["properties"]["deadline"].is_string())
        .expect("a burning fire still in time");
    let r = m.in_lang("en").post(
        &format!("/api/fires/{}/events", in_time["id"].as_str().unwrap()),
        &json!({"action": "urge"}),
    );
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(
        r.json()["message"].as_str().unwrap().contains("deadline"),
        "{}",
        r.body
    );
    let path = format!("/api/fires/{id}/events");
    assert_eq!(owner.post(&path, &json!({"action": "urge"})).status, 403);
    let r = m.post(
        &path,
        &json!({"action": "urge", "note": "三日内报送治理进度"}),
    );
    assert!(r.status == 200 || r.status == 201, "{}", r.body);
    assert_eq!(
        r.json()["properties"]["status"],
        p["status"],
        "urging changes no state"
    );
    let events = m.get_ok(&format!("/api/fires/{id}"));
    assert!(
        items(&events["properties"]["events"])
            .any(|e| e["action"] == "urge" && e["actor"] == "manager"),
        "{events:#}"
    );
    let notes = owner.get_ok("/api/notifications");
    assert!(
        items(&notes["items"]).any(|n| n["kind"] == "urged" && n["fire"] == id),
        "{notes:#}"
    );
    assert_eq!(
        common::count(
            &s.db,
            "SELECT count(*) FROM webhook_outbox WHERE kind = 'urged'"
        ),
        1
    );
    let c = m.get_ok("/api/clearance?overdue_limit=500");
    let row = items(&c["overdue"])
        .find(|o| o["id"] == id)
        .expect("listed overdue");
    assert_eq!(row["urged"]["by"], "manager", "{row:#}");
    assert!(row["urged"]["at"].is_string());
    // As of a day before the urge, it had not been urged.
    let yesterday = (chrono::Utc::now() - chrono::Duration::days(1))
        .with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).unwrap())
        .date_naive();
    let then = m.get_ok(&format!("/api/clearance?at={yesterday}&overdue_limit=500"));
    if let Some(row) = items(&then["overdue"]).find(|o| o["id"] == id) {
        assert!(row["urged"].is_null(), "{row:#}");
    }
}

/// "As of" stays inside the records: a day after today is refused in the reader's language, and
/// a day before the first record is answered but marked, so no one reads its zero as measured.
#[test]
fn as_of_outside_the_records_is_refused_or_marked() {
    let (_s, [m]) = demo_with(["manager"]);
    let now = m.get_ok("/api/clearance");
    let since = now["data_since"]
        .as_str()
        .expect("the demo has records")
        .to_string();
    let first = chrono::NaiveDate::parse_from_str(&since, "%Y-%m-%d").unwrap();
    assert_eq!(now["before_records"], false);
    let on = m.get_ok(&format!("/api/clearance?at={first}"));
    assert_eq!(on["before_records"], false, "{on}");
    let before = m.get_ok(&format!("/api/clearance?at={}", first.pred_opt().unwrap()));
    assert_eq!(before["before_records"], true);
    assert_eq!(before["data_since"], since.as_str());
    let tomorrow = chrono::Utc::now()
        .with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).unwrap())
        .date_naive()
        .succ_opt()
        .unwrap();
    let r = m.get(&format!("/api/clearance?at={tomorrow}"));
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.json()["error"], "date_in_future");
    assert!(
        r.json()["message"].as_str().unwrap().contains("今天"),
        "{}",
        r.body
    );
    let r = m
        .in_lang("en")
        .get(&format!("/api/clearance?at={tomorrow}"));
    assert!(
        r.json()["message"]
            .as_str()
            .unwrap()
            .contains("after today"),
        "{}",
        r.body
    );
}

#[test]
fn clearance_counts_follow_the_fires_and_the_past_is_recomputed() {
    let (s, [m]) = demo_with(["manager"]);
    let now = m.get("/api/clearance").json();
    let burning = now["burning"].as_u64().unwrap();
    assert!(burning > 0);
    assert_eq!(now["zero"], false);
    assert_eq!(now["by_district"].as_array().unwrap().len(), 3);
    let sum: u64 = items(&now["by_district"])
        .map(|d| d["burning"].as_u64().unwrap())
        .sum();
    assert_eq!(sum, burning);
    assert!(items(&now["suspended_mines"]).any(|m| m["name"] == own_mine()));
    let patrol = Client::login(&s, "patrol");
    report(
        &patrol,
        inside("mines", &own_mine()),
        json!({"kind": "coal_seam"}),
    );
    let after = m.get("/api/clearance").json();
    assert_eq!(after["burning"].as_u64().unwrap(), burning + 1);
    let past = m.get("/api/clearance?at=2025-06-01").json();
    assert_eq!(
        (past["burning"].as_u64(), past["not_cleared"].as_u64()),
        (Some(0), Some(0))
    );
    assert_eq!(m.get("/api/clearance?at=June").status, 400);
    let daily = m.get("/api/clearance/daily").json();
    let days = daily["days"].as_array().unwrap();
    assert_eq!(days.len(), 90);
    assert_eq!(
        days.last().unwrap()["burning"].as_u64().unwrap(),
        burning + 1
    );
    // An owner's counts cover its own fires only.
    let own = Client::login(&s, "owner").get("/api/clearance").json();
    assert!(own["burning"].as_u64().unwrap() < burning);
}

#[test]
fn an_unknown_api_path_is_a_json_404() {
    let s = demo_server();
    let r = Client::login(&s, "manager").get("/api/nothing/here");
    assert_eq!(r.status, 404);
    assert!(r.message().contains("未找到"));
}

/// A patrol signed in, and a fire it just reported in the owner's mine.
fn patrol_fire(s: &Server) -> (Client, String) {
    let patrol = Client::login(s, "patrol");
    let r = report(
        &patrol,
        inside("mines", &own_mine()),
        json!({"kind": "coal_seam"}),
    );
    let id = r.json()["properties"]["id"].as_str().unwrap().to_string();
    (patrol, id)
}

#[test]
fn photos_are_stored_by_hash_and_shown_only_to_who_may_see_the_fire() {
    let s = demo_server();
    let (patrol, id) = patrol_fire(&s);
    let png = png_of(64, 48, [0, 0, 0]);
    let up = |bytes: &[u8]| patrol.upload(&format!("/api/fires/{id}/photos"), bytes);
    let r = up(&png);
    assert_eq!(r.status, 201, "{}", r.body);
    let photo = r.json()["photos"][0].clone();
    // The same photo again is the same record.
    assert_eq!(up(&png).json()["photos"][0]["id"], photo["id"]);
    let r = up(b"%PDF-1.4 not a photo");
    assert_eq!(r.status, 422, "{}", r.body);
    let detail = Client::login(&s, "manager")
        .get(&format!("/api/fires/{id}"))
        .json();
    assert_eq!(detail["properties"]["photos"].as_array().unwrap().len(), 1);
    let url = photo["thumb_url"].as_str().unwrap();
    let got = Client::login(&s, "owner").get(url);
    assert_eq!(got.status, 200);
    assert_eq!(got.header("content-type"), Some("image/jpeg"));
    // A district officer of another district sees neither the fire nor its photo.
    assert_eq!(Client::login(&s, "district").get(url).status, 404);
    assert_eq!(Client::anonymous(&s).get(url).status, 401);
}

/// A PNG of `w`×`h` black pixels: a few dozen KB as a file, `w`×`h`×3 bytes decoded.
fn png_bomb(w: u32, h: u32) -> Vec<u8> {
    use std::io::Write;
    let mut out = vec![];
    let mut enc = png::Encoder::new(&mut out, w, h);
    enc.set_color(png::ColorType::Rgb);
    enc.set_compression(png::Compression::High);
    let mut writer = enc.write_header().unwrap();
    let mut stream = writer.stream_writer().unwrap();
    let row = vec![0u8; w as usize * 3];
    for _ in 0..h {
        stream.write_all(&row).unwrap();
    }
    stream.finish().unwrap();
    writer.finish().unwrap();
    out
}

/// A decompression bomb is refused from its header with a message naming the limit; many
/// uploads at once queue for a few decoding slots while the server keeps answering.
#[test]
fn photo_bombs_are_refused_and_concurrent_uploads_are_bounded() {
    let s = demo_server();
    let (patrol, id) = patrol_fire(&s);
    let patrol = patrol.in_lang("en");
    let up = |bytes: &[u8]| patrol.upload(&format!("/api/fires/{id}/photos"), bytes);
    let photos = |s: &Server| count(&s.db, "SELECT count(*) FROM photos");
    let before = photos(&s);
    let bomb = png_bomb(7745, 7745);
    assert!(bomb.len() < 400_000, "{} bytes", bomb.len());
    let r = up(&bomb);
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(r.json()["error"], "photo_too_many_pixels");
    let msg = r.message();
    assert!(
        msg.contains("7745×7745") && msg.contains("40 megapixel"),
        "{msg}"
    );
    assert_eq!(photos(&s), before, "nothing stored");

    // Sixteen real photos at once (distinct, so none is a repeat): each is stored or told to
    // come back later, and a page loads meanwhile.
    let uploads: Vec<_> = (0..16u8)
        .map(|i| png_of(1600, 1200, [i, 2 * i, 3]))
        .collect();
    let manager = Client::login(&s, "manager");
    std::thread::scope(|scope| {
        let running: Vec<_> = uploads.iter().map(|b| scope.spawn(|| up(b))).collect();
        let page = manager.get("/api/fires");
        assert_eq!(page.status, 200, "answers while photos decode");
        for r in running {
            let r = r.join().unwrap();
            match r.status {
                201 => {}
                503 => assert!(r.header("retry-after").is_some(), "{:?}", r.headers),
                other => panic!("{other}: {}", r.body),
            }
        }
    });
    assert!(photos(&s) > before);
}

#[test]
fn notifications_tell_the_party_of_new_fires_and_deadlines_with_an_unread_count() {
    let (s, [owner]) = demo_with(["owner"]);
    let before = owner.get("/api/notifications").json();
    assert!(
        before["unread"].as_u64().unwrap() > 0,
        "its overdue fires are announced: {before}"
    );
    assert!(items(&before["items"]).any(|n| n["kind"] == "deadline_passed"));
    assert_eq!(
        owner.post("/api/notifications/read", &json!({})).status,
        204
    );
    assert_eq!(owner.get("/api/notifications").json()["unread"], 0);
    let district = Client::login(&s, "district");
    district.post("/api/notifications/read", &json!({}));

    let patrol = Client::login(&s, "patrol");
    let code = report(
        &patrol,
        inside("mines", &own_mine()),
        json!({"kind": "coal_seam"}),
    )
    .json()["properties"]["code"]
        .clone();
    let after = owner.get("/api/notifications").json();
    assert_eq!(after["unread"], 1);
    assert_eq!(after["items"][0]["kind"], "new_fire");
    assert_eq!(after["items"][0]["code"], code);
    let m = Client::login(&s, "manager")
        .get("/api/notifications")
        .json();
    assert!(items(&m["items"]).any(|n| n["code"] == code && n["kind"] == "new_fire"));
    assert_eq!(
        district.get("/api/notifications").json()["unread"],
        0,
        "not its district's fire"
    );
    assert_eq!(Client::anonymous(&s).get("/api/notifications").status, 401);
}

#[test]
fn the_basemap_is_configurable_and_absent_by_default() {
    let s = demo_server();
    let r = Client::anonymous(&s).get("/config.json");
    assert_eq!(r.status, 200);
    assert!(r.json()["tiles"].is_null());
}

#[test]
fn fires_as_of_a_past_day_have_the_status_they_had_then() {
    let (_s, [m]) = demo_with(["manager"]);
    let all = m.get("/api/fires?status=cleared").json();
    let cleared = &all["features"][0];
    let id = cleared["id"].as_str().unwrap();
    let events = m.get(&format!("/api/fires/{id}")).json()["properties"]["events"]
        .as_array()
        .unwrap()
        .clone();
    let treat = events
        .iter()
        .find(|e| e["action"] == "start_treatment")
        .unwrap();
    let at = chrono::DateTime::parse_from_rfc3339(treat["at"].as_str().unwrap()).unwrap();
    let day = at
        .with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).unwrap())
        .date_naive();
    let end = chrono::DateTime::parse_from_rfc3339(&format!(
        "{}T00:00:00+08:00",
        day.succ_opt().unwrap()
    ))
    .unwrap();
    let expected = events
        .iter()
        .rfind(|e| chrono::DateTime::parse_from_rfc3339(e["at"].as_str().unwrap()).unwrap() < end)
        .unwrap()["to"]
        .clone();
    let then = m.get(&format!("/api/fires?at={day}")).json();
    let f = items(&then["features"]).find(|f| f["id"] == id).unwrap();
    assert_eq!(f["properties"]["status"], expected);
    assert_ne!(f["properties"]["status"], "cleared");
    assert!(
        f["properties"]["cleared_at"].is_null(),
        "nothing dated after the day asked for"
    );
    assert!(f["properties"]["deadline"].is_string());
    assert!(
        m.get("/api/fires?at=2025-06-01").json()["features"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert_eq!(m.get("/api/fires?status=smouldering").status, 400);
    let burning_then = m.get(&format!("/api/fires?at={day}&status=burning")).json();
    assert!(items(&burning_then["features"]).all(|f| f["properties"]["burning"] == true));
}

#[test]
fn the_rules_in_force_are_published_to_signed_in_users() {
    let s = demo_server();
    let r = Client::login(&s, "patrol").get("/api/rules").json();
    assert_eq!(r["rules"]["threshold_c"], 50.0);
    assert_eq!(r["max_gps_accuracy_m"], 100.0);
    assert!(
        r["methods"]
            .as_array()
            .unwrap()
            .contains(&json!("grouting"))
    );
    assert_eq!(Client::anonymous(&s).get("/api/rules").status, 401);
}

#[test]
fn the_web_app_is_served_and_a_missing_asset_is_a_404() {
    let s = demo_server_with_web();
    let c = Client::anonymous(&s);
    let index = c.get("/");
    assert_eq!(index.status, 200);
    assert!(index.body.contains("<html"));
    assert_eq!(
        c.get("/patrol").status,
        200,
        "the app's own routes get index.html"
    );
    assert_eq!(c.get("/js/nope.js").status, 404);
}

#[test]
fn counts_recomputed_from_events_agree_with_the_stored_statuses() {
    let (_s, [m]) = demo_with(["manager"]);
    let counts = m.get("/api/clearance").json();
    let fires = m.get("/api/fires").json();
    let mut stored = std::collections::BTreeMap::new();
    for f in features(&fires) {
        *stored
            .entry(f["properties"]["status"].as_str().unwrap().to_string())
            .or_insert(0u64) += 1;
    }
    for (status, n) in counts["by_status"].as_object().unwrap() {
        assert_eq!(
            stored.get(status).copied().unwrap_or(0),
            n.as_u64().unwrap(),
            "{status}"
        );
    }
}

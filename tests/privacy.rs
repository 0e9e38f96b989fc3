//! What each role may read, and nothing more (issue 9): owners are not told which authority's
//! person reported, photographed, inspected or checked them; reports, nearby lists, inspections,
//! single features and photos follow the caller's scope, and what is hidden answers 404.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::{BTreeMap, BTreeSet};

use chrono::{Duration, Utc};
use common::*;
use serde_json::{Value, json};

/// The demo owner's open-pit mine (骆驼山示例煤业有限公司, in 海勃湾区 150302).
const OWN_MINE: &str = "骆驼山示例露天煤矿";

fn uuid() -> String {
    uuid::Uuid::new_v4().to_string()
}

fn report(c: &Client, at: [f64; 2], props: Value) -> Response {
    c.post("/api/fires", &fire_feature(at, props))
}

/// Reports a fire as `c` at `at`; returns its id.
fn reported(c: &Client, at: [f64; 2]) -> String {
    let r = report(c, at, json!({"kind": "coal_seam", "temp_c": 180}));
    assert_eq!(r.status, 201, "{}", r.body);
    r.json()["properties"]["id"].as_str().unwrap().to_string()
}

fn act(c: &Client, fire: &str, body: Value) -> Response {
    let r = c.post(&format!("/api/fires/{fire}/events"), &body);
    assert_eq!(r.status, 200, "{body}: {}", r.body);
    r
}

fn png() -> Vec<u8> {
    png_of(40, 30, [0, 0, 0])
}

/// Uploads one photo as `c` to `path` (`/api/fires/{id}/photos` or the violation's); returns it.
fn upload(c: &Client, path: &str) -> Value {
    let r = c.upload(path, &png());
    assert_eq!(r.status, 201, "{}", r.body);
    r.json()["photos"][0].clone()
}

fn features(c: &Client, path: &str) -> Vec<Value> {
    c.list(path, "features")
}

fn enc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[test]
fn owners_are_not_told_who_reported_photographed_or_inspected_their_fire() {
    let (_s, [patrol, manager, owner]) = demo_with(["patrol", "manager", "owner"]);
    let fire = reported(&patrol, inside("mines", OWN_MINE));
    upload(&patrol, &format!("/api/fires/{fire}/photos"));
    act(
        &patrol,
        &fire,
        json!({"action": "inspect", "temp_c": 150, "note": "冒烟"}),
    );

    // The fire's photos: the manager sees who took them, the owner does not.
    let photos =
        |c: &Client| c.get(&format!("/api/fires/{fire}")).json()["properties"]["photos"].clone();
    assert_eq!(photos(&manager)[0]["uploaded_by"], "patrol");
    let seen = photos(&owner);
    assert_eq!(seen.as_array().unwrap().len(), 1, "{seen}");
    assert_eq!(seen[0]["uploaded_by"], Value::Null, "{seen}");

    // The inspections layer: no `by` for the owner, in JSON, HTML, the schema and filters.
    let path = format!("/collections/inspections/items?fire={fire}");
    let mine = features(&manager, &path);
    assert_eq!(mine.len(), 1);
    assert_eq!(mine[0]["properties"]["by"], "patrol");
    let theirs = features(&owner, &path);
    assert_eq!(theirs.len(), 1, "the owner sees the inspection of its fire");
    assert!(theirs[0]["properties"].get("by").is_none(), "{}", theirs[0]);
    let fid = &theirs[0]["id"];
    let one = owner.get(&format!("/collections/inspections/items/{fid}"));
    assert_eq!(one.status, 200, "{}", one.body);
    assert!(one.json()["properties"].get("by").is_none());
    let html = owner.get(&format!("/collections/inspections/items/{fid}?f=html"));
    assert_eq!(html.status, 200);
    assert!(!html.body.contains(">patrol<"), "{}", html.body);
    let html = owner.get(&format!(
        "/collections/inspections/items?fire={fire}&f=html"
    ));
    assert!(!html.body.contains(">patrol<"), "{}", html.body);
    for doc in ["queryables", "schema"] {
        let v = owner.get(&format!("/collections/inspections/{doc}")).json();
        assert!(!v.to_string().contains("\"by\""), "{doc}: {v}");
    }
    // Guessing by filter is refused like any unknown property, not answered.
    for probe in [
        format!(
            "/collections/inspections/items?filter={}",
            enc("by = 'patrol'")
        ),
        "/collections/inspections/items?by=patrol".to_string(),
    ] {
        assert_eq!(owner.get(&probe).status, 400, "{probe}");
        assert_eq!(manager.get(&probe).status, 200, "{probe}");
    }
}

#[test]
fn owners_are_not_told_who_photographed_a_dust_violation() {
    let (_s, [patrol, manager, owner]) = demo_with(["patrol", "manager", "owner"]);
    let r = patrol.post(
        "/api/dust/issues",
        &fire_feature(
            inside("mines", OWN_MINE),
            json!({"uuid": uuid(), "kind": "open_stockpile", "accuracy_m": 5}),
        ),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.json()["properties"]["uuid"].as_str().unwrap().to_string();
    upload(&patrol, &format!("/api/dust/issues/{id}/photos"));
    let photos =
        |c: &Client| c.get_ok(&format!("/api/dust/issues/{id}"))["properties"]["photos"].clone();
    assert_eq!(photos(&manager)[0]["uploaded_by"], "patrol");
    assert_eq!(photos(&owner)[0]["uploaded_by"], Value::Null);
    assert!(
        photos(&owner)[0]["url"].is_string(),
        "the photo itself is shown"
    );
}

#[test]
fn owners_are_not_told_which_patrol_checked_them_where_nor_who_warned() {
    let (_s, [patrol, manager, owner, district]) =
        demo_with(["patrol", "manager", "owner", "district"]);
    let (from, to) = (
        (Utc::now() - Duration::minutes(1)).to_rfc3339(),
        (Utc::now() + Duration::days(1)).to_rfc3339(),
    );
    let w = json!({"level": "yellow", "districts": ["150302"], "from": from, "to": to});
    assert_eq!(manager.post("/api/dust/warnings", &w).status, 201);
    let restrictions = |c: &Client| c.list("/api/dust/restrictions", "restrictions");
    let id = restrictions(&owner)[0]["id"].as_i64().unwrap();
    let check = json!({"compliant": false, "note": "料堆未苫盖", "position": [106.85, 39.55]});
    let r = patrol.post(&format!("/api/dust/restrictions/{id}/checks"), &check);
    assert_eq!(r.status, 201, "{}", r.body);

    let checks = |c: &Client| {
        restrictions(c).into_iter().find(|x| x["id"] == id).unwrap()["checks"][0].clone()
    };
    let full = checks(&manager);
    assert_eq!(
        (full["by"].clone(), full["position"].clone()),
        (json!("patrol"), json!([106.85, 39.55]))
    );
    assert_eq!(checks(&patrol)["by"], "patrol");
    let seen = checks(&owner);
    assert_eq!(seen["by"], Value::Null, "{seen}");
    assert_eq!(seen["position"], Value::Null, "{seen}");
    assert_eq!(
        seen["compliant"], false,
        "what was found is the owner's to know"
    );
    assert_eq!(seen["note"], "料堆未苫盖");

    let warning = |c: &Client| c.get("/api/dust/warnings").json()["warnings"][0].clone();
    assert_eq!(warning(&district)["issued_by"], "manager");
    assert_eq!(warning(&owner)["issued_by"], Value::Null);
    assert_eq!(warning(&owner)["level"], "yellow");
}

#[test]
fn a_district_officer_reports_only_in_its_own_district() {
    let (s, [mut district]) = demo_with(["district"]); // 乌达区 150303
    district.lang = "en";
    let before = count_fires(&s.db);
    let outside = inside("districts", "海勃湾区");
    let r = report(
        &district,
        outside,
        json!({"kind": "coal_seam", "id": uuid()}),
    );
    assert_eq!(r.status, 403, "{}", r.body);
    let v = r.json();
    assert_eq!(v["error"], "report_outside_district");
    let msg = v["message"].as_str().unwrap();
    assert!(msg.contains("海勃湾区") && msg.contains("乌达区"), "{msg}");
    assert_eq!(count_fires(&s.db), before, "nothing written");
    district.lang = "zh-CN";
    let r = report(&district, outside, json!({"kind": "coal_seam"}));
    assert!(r.message().contains("不在您负责"));
    // In its own district it reports as before; a manager anywhere.
    assert_eq!(
        report(
            &district,
            inside("districts", "乌达区"),
            json!({"kind": "coal_seam"})
        )
        .status,
        201
    );
    let manager = Client::login(&s, "manager");
    assert_eq!(
        report(&manager, outside, json!({"kind": "coal_seam"})).status,
        201
    );
}

#[test]
fn nearby_lists_show_only_the_fires_the_reporter_may_see() {
    let (_s, [manager, patrol, district]) = demo_with(["manager", "patrol", "district"]);
    let at = inside("districts", "乌达区");
    // A fire in 乌达区 handed to 海南区's government: no longer the 乌达区 officer's to see.
    let moved = reported(&manager, at);
    act(
        &manager,
        &moved,
        json!({"action": "reassign", "reason": "边界核查", "responsible": {"party": "district", "district_code": "150304"}}),
    );
    assert_eq!(district.get(&format!("/api/fires/{moved}")).status, 404);
    let near = |c: &Client| {
        let r = report(c, [at[0], at[1] + 0.0001], json!({"kind": "coal_seam"}));
        assert_eq!(r.status, 201, "{}", r.body);
        let p = r.json()["properties"].clone();
        let list = |k: &str| -> BTreeSet<String> {
            items(&p[k])
                .map(|n| n["id"].as_str().unwrap().to_string())
                .collect()
        };
        (list("nearby_open"), list("nearby_cleared"))
    };
    let (open, _) = near(&manager);
    assert!(open.contains(&moved), "a manager sees all");
    let (open, _) = near(&patrol);
    assert!(open.contains(&moved), "a patrol sees every open fire");
    let (open, cleared) = near(&district);
    assert!(
        !open.contains(&moved) && !cleared.contains(&moved),
        "another district's fire is not listed: {open:?}"
    );
    assert!(!open.is_empty(), "its own fires nearby still are");
    // Resending the manager's very report under its id is no way to read it either.
    let r = report(
        &district,
        at,
        json!({"kind": "coal_seam", "temp_c": 180, "id": moved}),
    );
    assert_eq!(r.status, 409, "{}", r.body);
    assert!(!r.body.contains(&moved) || r.json()["error"] == "idempotency_conflict");
    assert!(!r.body.contains("WH-"), "{}", r.body);
}

#[test]
fn patrols_read_only_the_inspections_of_fires_they_may_see() {
    let (_s, [manager, patrol]) = demo_with(["manager", "patrol"]);
    let all = features(&manager, "/collections/inspections/items?limit=10000");
    // Which fires the patrol may see, asked of /api/fires itself.
    let mut visible: BTreeMap<String, bool> = BTreeMap::new();
    for i in &all {
        let fire = i["properties"]["fire"].as_str().unwrap().to_string();
        visible
            .entry(fire.clone())
            .or_insert_with(|| patrol.get(&format!("/api/fires/{fire}")).status == 200);
    }
    let hidden: Vec<&Value> = all
        .iter()
        .filter(|i| !visible[i["properties"]["fire"].as_str().unwrap()])
        .collect();
    assert!(
        !hidden.is_empty(),
        "the demo has inspections of cleared or dismissed fires"
    );
    let shown = all.len() - hidden.len();

    let page = patrol
        .get("/collections/inspections/items?limit=10000")
        .json();
    assert_eq!(page["numberMatched"], json!(shown));
    let got = feature_ids(&page);
    for h in &hidden {
        let p = &h["properties"];
        let (fid, fire, code) = (
            h["id"].to_string(),
            p["fire"].as_str().unwrap(),
            p["fire_code"].as_str().unwrap(),
        );
        assert!(!got.contains(&fid));
        let [x, y] = [
            h["geometry"]["coordinates"][0].as_f64().unwrap(),
            h["geometry"]["coordinates"][1].as_f64().unwrap(),
        ];
        for probe in [
            format!(
                "/collections/inspections/items?filter={}",
                enc(&format!("fire_code = '{code}'"))
            ),
            format!(
                "/collections/inspections/items?filter={}",
                enc(&format!("fire = '{fire}'"))
            ),
            format!("/collections/inspections/items?fire_code={}", enc(code)),
            format!("/collections/inspections/items?fire={fire}"),
            format!(
                "/collections/inspections/items?bbox={},{},{},{}",
                x - 1e-5,
                y - 1e-5,
                x + 1e-5,
                y + 1e-5
            ),
        ] {
            let list = features(&patrol, &probe);
            assert!(
                list.iter().all(|f| f["properties"]["fire"] != fire),
                "{probe}: {list:?}"
            );
        }
        for suffix in ["", "?f=html"] {
            let r = patrol.get(&format!("/collections/inspections/items/{fid}{suffix}"));
            assert_eq!(r.status, 404, "{fid}: {}", r.body);
        }
    }
    // An open fire's inspections stay the patrol's to read.
    let fire = reported(&patrol, inside("mines", OWN_MINE));
    act(&patrol, &fire, json!({"action": "inspect", "temp_c": 120}));
    assert_eq!(
        features(
            &patrol,
            &format!("/collections/inspections/items?fire={fire}")
        )
        .len(),
        1
    );
    // Once dismissed, the fire and its inspections go together.
    act(
        &manager,
        &fire,
        json!({"action": "dismiss", "reason": "误报"}),
    );
    assert!(
        features(
            &patrol,
            &format!("/collections/inspections/items?fire={fire}")
        )
        .is_empty()
    );
}

#[test]
fn one_feature_by_id_answers_as_the_list_does_for_every_role_and_collection() {
    let (s, [manager]) = demo_with(["manager"]);
    let fire_elsewhere = reported(&manager, inside("districts", "海勃湾区"));
    let fire_here = reported(&manager, inside("districts", "乌达区"));
    let layers: Vec<String> = manager.get("/collections").json()["collections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect();
    let everything: BTreeMap<String, BTreeSet<String>> = layers
        .iter()
        .map(|l| {
            let list = features(&manager, &format!("/collections/{l}/items?limit=10000"));
            (l.clone(), id_set(&list))
        })
        .collect();
    let mut checked = BTreeMap::new();
    for who in ["district", "owner", "patrol"] {
        let c = Client::login(&s, who);
        for (layer, all) in &everything {
            let r = c.get(&format!("/collections/{layer}/items?limit=10000"));
            let theirs = if r.status == 200 {
                feature_ids(&r.json())
            } else {
                assert_eq!(r.status, 404, "{who} {layer}: {}", r.body);
                BTreeSet::new()
            };
            // Up to a dozen of each kind, so every collection is asked both ways.
            let yes = all.iter().filter(|f| theirs.contains(*f)).take(12);
            let no = all.iter().filter(|f| !theirs.contains(*f)).take(12);
            for fid in yes.chain(no) {
                let want = if theirs.contains(fid) { 200 } else { 404 };
                let r = c.get(&format!("/collections/{layer}/items/{}", enc(fid)));
                assert_eq!(r.status, want, "{who} {layer}/{fid}: {}", r.body);
                *checked.entry((who, want)).or_insert(0) += 1;
            }
        }
    }
    assert!(checked[&("owner", 200)] > 0 && checked[&("district", 200)] > 0);
    assert!(checked[&("owner", 404)] > 0 && checked[&("district", 404)] > 0);

    // Named cases: the owner's own mine and another holder's; fires in and out of 乌达区.
    let mine_fid = |name: &str| {
        let list = features(
            &manager,
            &format!("/collections/mines/items?name={}", enc(name)),
        );
        list[0]["id"].to_string()
    };
    let owner = Client::login(&s, "owner");
    let own = owner.get(&format!("/collections/mines/items/{}", mine_fid(OWN_MINE)));
    assert_eq!(own.status, 200, "{}", own.body);
    assert_eq!(own.json()["properties"]["name"], OWN_MINE);
    let other = owner.get(&format!(
        "/collections/mines/items/{}",
        mine_fid("黄白茨示例煤矿")
    ));
    assert_eq!(other.status, 404, "not 403: existence is not revealed");
    let district = Client::login(&s, "district");
    let here = district.get(&format!("/collections/fire_points/items/{fire_here}"));
    assert_eq!(here.status, 200, "{}", here.body);
    assert_eq!(here.json()["id"], fire_here);
    let elsewhere = district.get(&format!("/collections/fire_points/items/{fire_elsewhere}"));
    assert_eq!(elsewhere.status, 404);
    assert_eq!(
        district
            .get(&format!("/collections/fire_points/items/{fire_elsewhere}"))
            .body,
        district
            .get(&format!("/collections/fire_points/items/{}", uuid()))
            .body,
        "hidden and missing answer alike"
    );
}

#[test]
fn photos_of_a_fire_the_caller_may_not_see_are_not_found() {
    let (s, [patrol, manager]) = demo_with(["patrol", "manager"]);
    let fire = reported(&patrol, inside("mines", OWN_MINE));
    let photo = upload(&patrol, &format!("/api/fires/{fire}/photos"));
    let urls = [
        photo["url"].as_str().unwrap(),
        photo["thumb_url"].as_str().unwrap(),
    ];
    for u in urls {
        assert_eq!(patrol.get(u).status, 200);
        assert_eq!(Client::login(&s, "owner").get(u).status, 200);
    }
    // Another holder's owner never saw it; the patrol no longer does once it is dismissed.
    let other_owner = {
        add_owner(&s.store, "other-owner", "黄白茨示例煤业有限公司");
        Client::login(&s, "other-owner")
    };
    act(
        &manager,
        &fire,
        json!({"action": "dismiss", "reason": "误报"}),
    );
    let missing = patrol.get("/api/photos/999999").body;
    for u in urls {
        assert_eq!(other_owner.get(u).status, 404, "{u}");
        let r = patrol.get(u);
        assert_eq!(r.status, 404, "{u}");
        assert_eq!(r.body, missing, "hidden and missing answer alike");
    }
    assert_eq!(manager.get(urls[0]).status, 200);
}

#[test]
fn a_patrol_is_not_told_the_codes_of_past_fires_it_may_no_longer_see() {
    let (_s, [manager, patrol]) = demo_with(["manager", "patrol"]);
    let now = manager.get("/api/clearance").json();
    // An overdue fire not yet treated: dismissed now, it leaves the patrol's sight.
    let Some(gone) = items(&now["overdue"])
        .find(|o| o["status"] == "reported" || o["status"] == "confirmed")
        .map(|o| o["id"].as_str().unwrap().to_string())
    else {
        panic!("the demo has an overdue fire not yet treated: {now}");
    };
    act(
        &manager,
        &gone,
        json!({"action": "dismiss", "reason": "误报"}),
    );
    assert_eq!(patrol.get(&format!("/api/fires/{gone}")).status, 404);
    let yesterday = (chrono::Local::now().date_naive() - Duration::days(1)).to_string();
    let path = format!("/api/clearance?at={yesterday}");
    let lists = |v: &Value| v["overdue"].to_string() + &v["suspended_mines"].to_string();
    let then = manager.get(&path).json();
    assert!(
        lists(&then).contains(&gone),
        "it was overdue yesterday: {then}"
    );
    let seen = patrol.get(&path).json();
    assert!(!lists(&seen).contains(&gone), "{seen}");
    assert_eq!(seen["burning"], then["burning"], "the counts stay whole");
}

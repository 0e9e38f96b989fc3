//! Field times: what a patrol saw offline is dated when it was seen (`observed_at`), beside the
//! time the server received it — deadlines, history, "as of" counts and the ledger run on it;
//! implausible times are refused with nothing written. Real server over the demo database.
#![allow(clippy::unwrap_used)]

mod common;

use chrono::{DateTime, Duration, FixedOffset, SecondsFormat, Utc};
use common::*;
use serde_json::{Value, json};

fn own_mine_point() -> [f64; 2] {
    inside("mines", "骆驼山示例露天煤矿")
}

/// Reports a fire in the demo owner's mine as `c`.
fn report(c: &Client, props: Value) -> Response {
    c.post("/api/fires", &fire_feature(own_mine_point(), props))
}

fn rfc(t: DateTime<Utc>) -> String {
    t.with_timezone(&FixedOffset::east_opt(8 * 3600).unwrap())
        .to_rfc3339_opts(SecondsFormat::Secs, false)
}

fn time(v: &Value) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(v.as_str().unwrap_or_else(|| panic!("not a time: {v}")))
        .unwrap()
        .with_timezone(&Utc)
}

/// Now, to the second (what the server stores).
fn now_s() -> DateTime<Utc> {
    DateTime::from_timestamp(Utc::now().timestamp(), 0).unwrap()
}

fn count(db: &std::path::Path, sql: &str) -> i64 {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

#[test]
fn a_report_observed_hours_ago_is_dated_and_due_from_then_with_the_received_time_beside() {
    let (s, [patrol]) = demo_with(["patrol"]);
    let seen = now_s() - Duration::hours(5);
    let r = report(
        &patrol,
        json!({"kind": "waste_dump", "temp_c": 150, "observed_at": rfc(seen)}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let p = &r.json()["properties"];
    assert_eq!(time(&p["reported_at"]), seen);
    assert_eq!(time(&p["observed_at"]), seen);
    let received = time(&p["received_at"]);
    assert!(
        (received - Utc::now()).num_seconds().abs() < 60,
        "{received}"
    );
    // 72 h for a dump fire, from when it was seen, not from when the tablet found a signal.
    assert_eq!(time(&p["deadline"]), seen + Duration::hours(72));
    let id = p["id"].as_str().unwrap();
    let events = patrol.get(&format!("/api/fires/{id}")).json()["properties"]["events"].clone();
    assert_eq!(time(&events[0]["at"]), seen);
    assert_eq!(time(&events[0]["received_at"]), received);
    assert_eq!(
        count(
            &s.db,
            &format!(
                "SELECT count(*) FROM fire_points WHERE uuid = '{id}' AND received_at IS NOT NULL AND received_at > reported_at"
            )
        ),
        1
    );
}

#[test]
fn without_observed_at_a_report_is_dated_when_received() {
    let (_s, [patrol]) = demo_with(["patrol"]);
    let before = now_s();
    let r = report(&patrol, json!({"kind": "gangue_heap"}));
    assert_eq!(r.status, 201, "{}", r.body);
    let p = &r.json()["properties"];
    assert_eq!(p["observed_at"], p["received_at"]);
    assert!(time(&p["reported_at"]) >= before);
    assert_eq!(
        time(&p["deadline"]),
        time(&p["reported_at"]) + Duration::hours(72)
    );
}

#[test]
fn future_too_old_or_unreadable_observed_times_are_refused_and_nothing_is_written() {
    let (s, [mut patrol]) = demo_with(["patrol"]);
    let fires = count_fires(&s.db);
    let events = count(&s.db, "SELECT count(*) FROM events");
    let now = Utc::now();
    for (observed, words) in [
        (rfc(now + Duration::hours(1)), "observed_at"),
        (rfc(now - Duration::days(8)), "7 days"),
        ("2026-05-01T10:00:00".to_string(), "RFC 3339"),
        ("yesterday".to_string(), "RFC 3339"),
    ] {
        patrol.lang = "en";
        let r = report(
            &patrol,
            json!({"kind": "waste_dump", "observed_at": observed}),
        );
        assert_eq!(r.status, 422, "{observed}: {}", r.body);
        let m = r.message();
        assert!(
            m.contains("observed_at") && m.contains(words),
            "{observed}: {m}"
        );
        // In Chinese by default, naming the field too.
        patrol.lang = "zh-CN";
        let zh = report(
            &patrol,
            json!({"kind": "waste_dump", "observed_at": observed}),
        );
        assert!(zh.message().contains("“observed_at”"));
    }
    // The range is named: from 7 days ago to 5 minutes ahead.
    let r = report(
        &patrol,
        json!({"kind": "waste_dump", "observed_at": rfc(now + Duration::hours(1))}),
    );
    let d = &r.json()["detail"];
    let (earliest, latest) = (time(&d["earliest"]), time(&d["latest"]));
    assert!((earliest - (now - Duration::days(7))).num_seconds().abs() < 60);
    assert!((latest - (now + Duration::minutes(5))).num_seconds().abs() < 60);
    // Just inside the skew is fine (and counted as now, never in the future).
    let r = report(
        &patrol,
        json!({"kind": "waste_dump", "observed_at": rfc(Utc::now() + Duration::minutes(2))}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    assert!(time(&r.json()["properties"]["reported_at"]) <= Utc::now());
    assert_eq!(count_fires(&s.db), fires + 1);
    assert_eq!(count(&s.db, "SELECT count(*) FROM events"), events + 1);
}

#[test]
fn a_retry_with_the_same_id_and_observed_time_gets_the_first_record() {
    let (s, [patrol]) = demo_with(["patrol"]);
    let id = "0b7e3f52-2f5c-4a58-9d0e-6a1f2e3d4c5b";
    let seen = rfc(now_s() - Duration::hours(3));
    let body = fire_feature(
        own_mine_point(),
        json!({"id": id, "kind": "coal_seam", "temp_c": 200, "observed_at": seen}),
    );
    let first = patrol.post("/api/fires", &body);
    assert_eq!(first.status, 201, "{}", first.body);
    let n = count_fires(&s.db);
    let again = patrol.post("/api/fires", &body);
    assert_eq!(again.status, 200, "{}", again.body);
    let (a, b) = (&first.json()["properties"], &again.json()["properties"]);
    assert_eq!(a["code"], b["code"]);
    assert_eq!(a["reported_at"], b["reported_at"]);
    assert_eq!(a["received_at"], b["received_at"]);
    // The same id observed at another time is another report: a conflict.
    let other = fire_feature(
        own_mine_point(),
        json!({"id": id, "kind": "coal_seam", "temp_c": 200, "observed_at": rfc(now_s() - Duration::hours(2))}),
    );
    assert_eq!(patrol.post("/api/fires", &other).status, 409);
    assert_eq!(count_fires(&s.db), n);
}

#[test]
fn as_of_counts_and_lists_count_a_late_report_from_when_it_was_seen() {
    let (_s, [manager, patrol]) = demo_with(["manager", "patrol"]);
    let seen = now_s() - Duration::days(3);
    let day = seen
        .with_timezone(&FixedOffset::east_opt(8 * 3600).unwrap())
        .date_naive();
    let burning_then = |c: &Client| {
        c.get(&format!("/api/clearance?at={day}")).json()["burning"]
            .as_u64()
            .unwrap()
    };
    let before = burning_then(&manager);
    let r = report(
        &patrol,
        json!({"kind": "waste_dump", "observed_at": rfc(seen)}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.json()["properties"]["id"].as_str().unwrap().to_string();
    // Received today, but it was burning three days ago: that day's counts include it.
    assert_eq!(burning_then(&manager), before + 1);
    let then = manager.get(&format!("/api/fires?at={day}")).json();
    let f = items(&then["features"])
        .find(|f| f["id"] == id.as_str())
        .unwrap_or_else(|| panic!("{id} missing as of {day}"))
        .clone();
    assert_eq!(f["properties"]["status"], "reported");
    // And the day before it was seen, it is not there.
    let earlier = day.pred_opt().unwrap();
    let list = manager.get(&format!("/api/fires?at={earlier}")).json();
    assert!(!items(&list["features"]).any(|f| f["id"] == id.as_str()));
}

#[test]
fn events_are_dated_when_observed_and_a_late_reading_takes_its_place_in_the_history() {
    let (s, [patrol, manager, owner]) = demo_with(["patrol", "manager", "owner"]);
    let mut en = Client::login(&s, "patrol");
    en.lang = "en";
    let t0 = now_s() - Duration::hours(10);
    let h = |n: i64| rfc(t0 + Duration::hours(n));
    let r = report(
        &patrol,
        json!({"kind": "waste_dump", "temp_c": 300, "observed_at": h(0)}),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let id = r.json()["properties"]["id"].as_str().unwrap().to_string();
    let ev = |c: &Client, body: Value| c.post(&format!("/api/fires/{id}/events"), &body);
    let events = || -> Vec<Value> {
        manager.get(&format!("/api/fires/{id}")).json()["properties"]["events"]
            .as_array()
            .unwrap()
            .clone()
    };
    let n_events = || {
        count(
            &s.db,
            &format!("SELECT count(*) FROM events WHERE fire = '{id}'"),
        )
    };

    // Before the fire was reported: nonsense, refused, naming the report's time.
    let n = n_events();
    let r = ev(
        &en,
        json!({"action": "inspect", "temp_c": 200, "observed_at": rfc(t0 - Duration::hours(1))}),
    );
    assert_eq!(r.status, 422, "{}", r.body);
    assert!(
        r.message().contains("before the time it was reported"),
        "{}",
        r.body
    );
    assert_eq!(n_events(), n);

    assert_eq!(
        ev(&manager, json!({"action": "confirm", "observed_at": h(1)})).status,
        200
    );
    assert_eq!(
        ev(
            &owner,
            json!({"action": "start_treatment", "method": "water", "observed_at": h(2)})
        )
        .status,
        200
    );
    assert_eq!(
        ev(
            &owner,
            json!({"action": "control", "temp_c": 40, "observed_at": h(4)})
        )
        .status,
        200
    );
    let f = manager.get(&format!("/api/fires/{id}")).json();
    assert_eq!(f["properties"]["status"], "controlled");
    assert_eq!(
        time(&f["properties"]["controlled_at"]),
        t0 + Duration::hours(4)
    );

    // A state change observed before the fire's latest event would rewrite what followed it.
    let r = ev(
        &manager,
        json!({"action": "extinguish", "observed_at": h(3)}),
    );
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(n_events(), n + 3);

    // A hot reading taken while it was still being treated (3 h), sent after it was controlled:
    // placed at 3 h as a reading on a treating fire, and re-ignites nothing.
    let r = ev(
        &patrol,
        json!({"action": "inspect", "temp_c": 200, "observed_at": h(3)}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["properties"]["status"], "controlled");
    let e = events();
    let times: Vec<DateTime<Utc>> = e.iter().map(|e| time(&e["at"])).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "in time order");
    let late = e.iter().find(|e| e["action"] == "inspect").unwrap();
    assert_eq!(time(&late["at"]), t0 + Duration::hours(3));
    assert_eq!(
        (late["from"].clone(), late["to"].clone()),
        (json!("treating"), json!("treating"))
    );
    assert!(time(&late["received_at"]) > time(&late["at"]));
    // The inspections layer has it at its observed time, with the received time beside.
    assert_eq!(
        count(
            &s.db,
            &format!(
                "SELECT count(*) FROM inspections WHERE fire = '{id}' AND at = '{}' AND received_at > at",
                crate_ts(t0 + Duration::hours(3))
            )
        ),
        1
    );

    // A cool reading at 6 h, then a hot one from 5 h arrives late: it was controlled then and
    // still is, so the fire re-ignites — from now, by the system, citing the late reading; the
    // new deadline runs from the reading.
    assert_eq!(
        ev(
            &patrol,
            json!({"action": "inspect", "temp_c": 30, "observed_at": h(6)})
        )
        .status,
        200
    );
    let r = ev(
        &patrol,
        json!({"action": "inspect", "temp_c": 220, "observed_at": h(5)}),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let p = &r.json()["properties"];
    assert_eq!(p["status"], "reignited");
    assert_eq!(p["reignitions"], 1);
    assert_eq!(time(&p["deadline"]), t0 + Duration::hours(5 + 72));
    let e = events();
    let last = e.last().unwrap();
    assert_eq!(last["role"], "system");
    assert_eq!(last["to"], "reignited");
    assert_eq!(last["reignited"], true);
    let at5 = e
        .iter()
        .find(|e| time(&e["at"]) == t0 + Duration::hours(5))
        .unwrap();
    assert_eq!(
        (at5["from"].clone(), at5["to"].clone()),
        (json!("controlled"), json!("controlled"))
    );
    let times: Vec<DateTime<Utc>> = e.iter().map(|e| time(&e["at"])).collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]), "in time order");
    // The as-of replay agrees with the stored status.
    let now_list = manager.get(&format!(
        "/api/fires?at={}",
        Utc::now()
            .with_timezone(&FixedOffset::east_opt(8 * 3600).unwrap())
            .date_naive()
    ));
    let f = items(&now_list.json()["features"])
        .find(|f| f["id"] == id.as_str())
        .unwrap()
        .clone();
    assert_eq!(f["properties"]["status"], "reignited");
}

fn crate_ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

#[test]
fn a_dust_violation_is_dated_and_due_from_when_it_was_seen_and_its_actions_follow_in_order() {
    let (s, [patrol, owner]) = demo_with(["patrol", "owner"]);
    let seen = now_s() - Duration::days(2);
    let r = patrol.post(
        "/api/dust/issues",
        &fire_feature(
            own_mine_point(),
            json!({"uuid": "5d7c1e2a-8b3f-4f6e-9a1d-2c3b4a5e6f70", "kind": "open_stockpile", "observed_at": rfc(seen)}),
        ),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let p = r.json()["properties"].clone();
    assert_eq!(time(&p["reported_at"]), seen);
    // The end of the third local day after it was seen.
    let local = FixedOffset::east_opt(8 * 3600).unwrap();
    let due_day = seen.with_timezone(&local).date_naive() + Duration::days(4);
    assert_eq!(
        time(&p["deadline"]),
        DateTime::parse_from_rfc3339(&format!("{due_day}T00:00:00+08:00")).unwrap()
    );
    let id = p["uuid"].as_str().unwrap().to_string();
    let act = |body: Value| owner.post(&format!("/api/dust/issues/{id}/events"), &body);
    let events = || count(&s.db, "SELECT count(*) FROM dust_issue_events");
    let n = events();
    // Before the report, or too long ago: refused, nothing written.
    for observed in [seen - Duration::hours(1), now_s() - Duration::days(9)] {
        let r = act(json!({"action": "start", "observed_at": rfc(observed)}));
        assert_eq!(r.status, 422, "{}", r.body);
        assert!(r.message().contains("observed_at"));
    }
    assert_eq!(events(), n);
    let started = seen + Duration::hours(20);
    let r = act(json!({"action": "start", "observed_at": rfc(started)}));
    assert_eq!(r.status, 200, "{}", r.body);
    let e = count(
        &s.db,
        &format!(
            "SELECT count(*) FROM dust_issue_events WHERE issue = '{id}' AND action = 'start' AND at = '{}' AND received_at > at",
            crate_ts(started)
        ),
    );
    assert_eq!(e, 1);
    // An action observed before the violation's latest event would reorder its history.
    let r = act(
        json!({"action": "rectified", "note": "已苫盖", "observed_at": rfc(started - Duration::hours(1))}),
    );
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(events(), n + 1);
}

#[test]
fn compliance_checks_take_observed_at_and_still_the_older_at() {
    let (s, [manager]) = demo_with(["manager"]);
    let w = json!({"level": "yellow", "districts": ["150302"],
        "from": (Utc::now() - Duration::hours(3)).to_rfc3339(), "to": (Utc::now() + Duration::days(1)).to_rfc3339()});
    assert_eq!(manager.post("/api/dust/warnings", &w).status, 201);
    let owner = Client::login(&s, "owner");
    let r = owner.get("/api/dust/restrictions");
    let id = r.json()["restrictions"][0]["id"].as_i64().unwrap();
    let path = format!("/api/dust/restrictions/{id}/checks");
    let patrol = Client::login(&s, "patrol");
    let rows = || count(&s.db, "SELECT count(*) FROM dust_restriction_checks");
    let seen = now_s() - Duration::hours(1);
    let body = json!({"compliant": true, "client_id": "obs-1", "observed_at": rfc(seen)});
    let r = patrol.post(&path, &body);
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(time(&r.json()["at"]), seen);
    assert!(time(&r.json()["received_at"]) > seen);
    // The resend: the same check.
    let again = patrol.post(&path, &body);
    assert_eq!(again.status, 200, "{}", again.body);
    assert_eq!(again.json()["id"], r.json()["id"]);
    // The older name still works; both given must agree; implausible times are refused.
    let older = now_s() - Duration::hours(2);
    let r = patrol.post(&path, &json!({"compliant": false, "at": rfc(older)}));
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(time(&r.json()["at"]), older);
    let n = rows();
    for body in [
        json!({"compliant": true, "observed_at": rfc(seen), "at": rfc(older)}),
        json!({"compliant": true, "observed_at": rfc(Utc::now() + Duration::hours(2))}),
        json!({"compliant": true, "observed_at": rfc(Utc::now() - Duration::days(8))}),
        json!({"compliant": true, "at": "2026-05-01 10:00"}),
    ] {
        let r = patrol.post(&path, &body);
        assert_eq!(r.status, 422, "{body}: {}", r.body);
    }
    assert_eq!(rows(), n);
}

//! Dust monitors end to end: HJ 212 packets through the real listener on a loopback port,
//! readings over HTTP, rollups and their validity, role visibility, and the `monitor` command
//! of the real binary.
#![allow(clippy::unwrap_used)]

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use common::dust::add_monitor;
use common::hj212::{packets as acks, silent_for};
use common::*;
use qingling::hj212::codec as hj212;
use qingling::hj212::listener::Stats;
use qingling::service::dust::monitors;
use serde_json::{Value, json};

/// The HJ 212 password the tests' monitors are registered with (a weak one such as 123456 is
/// refused).
const PW: &str = "K7QX4MZP2W";

/// Counts the readings of the tests' monitors (the demo's own WHDEMO- monitors have readings
/// too).
const OUR_READINGS: &str = "SELECT count(*) FROM dust_readings WHERE device IN
     (SELECT id FROM dust_devices WHERE mn NOT LIKE 'WHDEMO-%')";

/// A demo server with the HJ 212 listener beside it.
struct Dust {
    http: SocketAddr,
    hj212: SocketAddr,
    stats: Arc<Stats>,
    store: qingling::store::Db,
    db: PathBuf,
    _server: Server,
}

fn dust_server() -> Dust {
    let s = TestServer::demo()
        .hj212(qingling::hj212::listener::Config::default())
        .start();
    let hj = s.hj212.as_ref().unwrap();
    Dust {
        http: s.addr,
        hj212: hj.addr,
        stats: hj.stats.clone(),
        store: s.store.clone(),
        db: s.db.clone(),
        _server: s,
    }
}

impl Dust {
    /// Registers a monitor as `monitor add` does; returns its device token.
    fn add(&self, mn: &str, at: [f64; 2]) -> String {
        add_monitor(&self.store, mn, PW, at, Some(format!("{mn} 监测点")))
    }

    fn count(&self, sql: &str) -> i64 {
        count(&self.db, sql)
    }

    /// Readings of this test's monitors.
    fn readings(&self) -> i64 {
        self.count(OUR_READINGS)
    }

    fn client(&self, user: &str) -> Client {
        Client::login_at(self.http, user).in_lang("en")
    }

    fn post(&self, token: &str, body: &Value, lang: &str) -> Response {
        send_readings(
            self.http,
            token,
            body.to_string().as_bytes(),
            &[("Accept-Language", lang)],
        )
    }
}

/// `POST /api/dust/readings` with a device token (and `extra` header lines).
fn send_readings(http: SocketAddr, token: &str, body: &[u8], extra: &[(&str, &str)]) -> Response {
    let auth = format!("Bearer {token}");
    let mut h = vec![
        ("Content-Type", "application/json"),
        ("Authorization", auth.as_str()),
    ];
    h.extend_from_slice(extra);
    request(http, "POST", "/api/dust/readings", &h, Some(body))
}

/// A data packet: `fields` is the CP area after DataTime.
fn packet(cn: &str, mn: &str, pw: &str, flag: u8, qn: &str, time: &str, fields: &str) -> Vec<u8> {
    hj212::frame(&format!(
        "QN={qn};ST=22;CN={cn};PW={pw};MN={mn};Flag={flag};CP=&&DataTime={time};{fields}&&"
    ))
    .unwrap()
}

fn realtime(mn: &str, pw: &str, flag: u8, qn: &str, time: &str) -> Vec<u8> {
    packet(
        "2011",
        mn,
        pw,
        flag,
        qn,
        time,
        "a34001-Rtd=0.250,a34001-Flag=N;a34002-Rtd=0.086,a34002-Flag=N;a34004-Rtd=0.041,a34004-Flag=N;a01007-Rtd=3.2,a01007-Flag=N;a01008-Rtd=275,a01008-Flag=N;a01001-Rtd=-5.5,a01001-Flag=N;a01002-Rtd=31,a01002-Flag=N",
    )
}

fn connect(addr: SocketAddr) -> TcpStream {
    let s = TcpStream::connect(addr).unwrap();
    s.set_nodelay(true).unwrap();
    s
}

/// Sends one packet and reads the listener's one answer to it.
fn acked(s: &mut TcpStream, packet: &[u8]) -> Vec<String> {
    s.write_all(packet).unwrap();
    acks(s, 1)
}

fn ack_of(qn: &str, mn: &str) -> String {
    format!("QN={qn};ST=91;CN=9014;PW={PW};MN={mn};Flag=4;CP=&&&&")
}

/// A rollup's PM10 mean and how many readings it is of.
fn pm10_n(r: &Value) -> (Value, Value) {
    (r["pm10"].clone(), r["n"].clone())
}

#[test]
fn realtime_minute_and_hourly_packets_are_stored_and_acknowledged_only_when_asked() {
    let d = dust_server();
    d.add("WH-DUST-01", inside("mines", "骆驼山示例露天煤矿"));
    let mut s = connect(d.hj212);
    // Real-time, acknowledgement asked (Flag=5).
    assert_eq!(
        acked(
            &mut s,
            &realtime("WH-DUST-01", PW, 5, "20250110100000001", "20250110100000")
        ),
        vec![ack_of("20250110100000001", "WH-DUST-01")]
    );
    // Minute data, no acknowledgement asked (Flag=4): stored, nothing answered.
    s.write_all(&packet(
        "2051",
        "WH-DUST-01",
        PW,
        4,
        "20250110100100002",
        "20250110100100",
        "a34002-Min=0.05,a34002-Avg=0.120,a34002-Max=0.2,a34002-Flag=N;a01007-Avg=4.0,a01007-Flag=N",
    ))
    .unwrap();
    wait_until("the minute packet is stored", || d.readings() == 2);
    silent(&mut s);
    // Hourly data, acknowledgement asked: the next answer is for it, not the minute packet.
    assert_eq!(
        acked(
            &mut s,
            &packet(
                "2061",
                "WH-DUST-01",
                PW,
                5,
                "20250110110000003",
                "20250110090000",
                "a34002-Avg=0.150,a34002-Flag=N;a34004-Avg=0.070,a34004-Flag=N",
            )
        ),
        vec![ack_of("20250110110000003", "WH-DUST-01")]
    );
    assert_eq!(d.readings(), 3);
    let m = d.client("manager");
    let raw = m.get_ok(
        "/api/dust/monitors/WH-DUST-01/readings?interval=raw&from=2025-01-10T00:00:00%2B08:00&to=2025-01-11T00:00:00%2B08:00",
    );
    let rs = raw["readings"].as_array().unwrap();
    let kinds: Vec<&str> = rs.iter().map(|r| r["kind"].as_str().unwrap()).collect();
    assert_eq!(kinds, vec!["hour", "realtime", "minute"]);
    // mg/m³ in the packets, µg/m³ stored and served.
    assert_eq!(rs[1]["time"], "2025-01-10T10:00:00+08:00");
    assert_eq!(rs[1]["pm10"], 86.0);
    assert_eq!(rs[1]["tsp"], 250.0);
    assert_eq!(rs[1]["wind_dir"], 275.0);
    assert_eq!(rs[1]["temperature"], -5.5);
    assert_eq!(rs[2]["pm10"], 120.0);
    assert_eq!(rs[0]["pm25"], 70.0);
    let hours = m.get_ok(
        "/api/dust/monitors/WH-DUST-01/readings?interval=hour&from=2025-01-10T09:00:00%2B08:00&to=2025-01-10T11:00:00%2B08:00",
    );
    let hs = hours["readings"].as_array().unwrap();
    assert_eq!(hs.len(), 2);
    assert_eq!(pm10_n(&hs[0]), (json!(150.0), json!(1)));
    // 10:00 has a real-time and a minute reading: minute data is what the hour is built from.
    assert_eq!(pm10_n(&hs[1]), (json!(120.0), json!(1)));
    assert_eq!(hs[1]["kind"], "minute");
    let stats = d.stats.snapshot();
    assert_eq!(
        (stats.packets, stats.acks, stats.readings_stored),
        (3, 2, 3)
    );
}

#[test]
fn packets_split_across_reads_or_sent_together_are_all_taken() {
    let d = dust_server();
    d.add("WH-DUST-02", inside("mines", "骆驼山示例露天煤矿"));
    let mut s = connect(d.hj212);
    // One packet dribbled a few bytes at a time.
    let one = realtime("WH-DUST-02", PW, 5, "20250110100000001", "20250110100000");
    for chunk in one.chunks(7) {
        s.write_all(chunk).unwrap();
        std::thread::sleep(Duration::from_millis(2));
    }
    assert_eq!(
        acks(&mut s, 1),
        vec![ack_of("20250110100000001", "WH-DUST-02")]
    );
    // Three in one write, the last of them cut in two.
    let mut three = vec![];
    for i in 2..=4 {
        three.extend(realtime(
            "WH-DUST-02",
            PW,
            5,
            &format!("2025011010000000{i}"),
            &format!("20250110100{i}00"),
        ));
    }
    let cut = three.len() - 20;
    s.write_all(&three[..cut]).unwrap();
    std::thread::sleep(Duration::from_millis(50));
    s.write_all(&three[cut..]).unwrap();
    assert_eq!(
        acks(&mut s, 3),
        (2..=4)
            .map(|i| ack_of(&format!("2025011010000000{i}"), "WH-DUST-02"))
            .collect::<Vec<_>>()
    );
    assert_eq!(d.readings(), 4);
    // The same packets again (a device that missed the acknowledgements): acknowledged, not
    // stored twice.
    s.write_all(&three).unwrap();
    assert_eq!(acks(&mut s, 3).len(), 3);
    assert_eq!(d.readings(), 4);
}

#[test]
fn bad_crc_garbage_unknown_mn_and_wrong_password_are_counted_and_the_listener_keeps_serving() {
    let d = dust_server();
    d.add("WH-DUST-03", inside("mines", "骆驼山示例露天煤矿"));
    let mut other = connect(d.hj212);
    let mut s = connect(d.hj212);
    let mut bad_crc = realtime("WH-DUST-03", PW, 5, "1", "20250110100000");
    let n = bad_crc.len();
    bad_crc[n - 6..n - 2].copy_from_slice(b"FFFF");
    s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    s.write_all(&bad_crc).unwrap();
    s.write_all(&realtime("NOT-REGISTERED", PW, 5, "2", "20250110100100"))
        .unwrap();
    s.write_all(&realtime("WH-DUST-03", "654321", 5, "3", "20250110100200"))
        .unwrap();
    s.write_all(&[0xff, 0x00, b'#', b'#', b'x', 0x80]).unwrap();
    s.write_all(&realtime("WH-DUST-03", PW, 5, "4", "20250110100300"))
        .unwrap();
    // Only the good packet is answered, on the same connection.
    assert_eq!(acks(&mut s, 1), vec![ack_of("4", "WH-DUST-03")]);
    silent(&mut s);
    // Another connection was not disturbed; a third that sends only noise and hangs up changes
    // nothing for the next one.
    assert_eq!(
        acked(
            &mut other,
            &realtime("WH-DUST-03", PW, 5, "5", "20250110100400")
        ),
        vec![ack_of("5", "WH-DUST-03")]
    );
    {
        let mut noise = connect(d.hj212);
        let junk: Vec<u8> = (0..65_536u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        noise.write_all(&junk).unwrap();
    }
    let mut next = connect(d.hj212);
    assert_eq!(
        acked(
            &mut next,
            &realtime("WH-DUST-03", PW, 5, "6", "20250110100500")
        ),
        vec![ack_of("6", "WH-DUST-03")]
    );
    assert_eq!(d.readings(), 3);
    // The junk's connection is read on its own task: its count may land after the ACK above.
    wait_until("the junk counted", || {
        d.stats.snapshot().garbage_bytes > 65_536
    });
    let st = d.stats.snapshot();
    assert_eq!(st.bad_crc, 1, "{st:?}");
    assert_eq!(st.unknown_mn, 1, "{st:?}");
    assert_eq!(st.wrong_pw, 1, "{st:?}");
    assert!(st.garbage_bytes > 65_536, "{st:?}");
    assert_eq!(st.packets, 3, "{st:?}");
}

/// Readings for one monitor at `hours` whole hours of a local day, two per hour.
fn day_of_readings(day: &str, hours: u32, pm10: f64) -> Value {
    let readings: Vec<Value> = (0..hours)
        .flat_map(|h| {
            [5, 35].map(|m| json!({"time": format!("{day}T{h:02}:{m:02}:00+08:00"), "pm10": pm10, "pm25": pm10 / 2.0}))
        })
        .collect();
    json!({ "readings": readings })
}

#[test]
fn a_24_hour_mean_needs_20_hourly_values() {
    let d = dust_server();
    let token = d.add("WH-DUST-04", inside("mines", "骆驼山示例露天煤矿"));
    let r = d.post(&token, &day_of_readings("2025-01-10", 19, 160.0), "en");
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["stored"], 38);
    let r = d.post(&token, &day_of_readings("2025-01-11", 20, 160.0), "en");
    assert_eq!(r.status, 200, "{}", r.body);
    let m = d.client("manager");
    let days = m.get_ok(
        "/api/dust/monitors/WH-DUST-04/readings?interval=day&from=2025-01-10T00:00:00%2B08:00&to=2025-01-12T00:00:00%2B08:00",
    );
    let ds = days["readings"].as_array().unwrap();
    assert_eq!(ds.len(), 2, "{days}");
    assert_eq!(ds[0]["time"], "2025-01-10T00:00:00+08:00");
    assert_eq!(
        (ds[0]["n"].clone(), ds[0]["valid"].clone()),
        (json!(19), json!(false))
    );
    assert_eq!(ds[0]["invalid"], json!(["pm10", "pm25"]));
    assert_eq!(ds[0]["pm10"], 160.0, "the mean is given, marked invalid");
    assert_eq!(
        (ds[1]["n"].clone(), ds[1]["valid"].clone()),
        (json!(20), json!(true))
    );
    assert_eq!(ds[1]["counts"]["pm10"], 20);
    assert_eq!(days["interval"], "day");
    assert_eq!(days["mn"], "WH-DUST-04");
    // Each day's completeness: hours received (`n`) of the 24 expected.
    assert_eq!(
        (ds[0]["expected"].clone(), ds[1]["expected"].clone()),
        (json!(24), json!(24))
    );
}

/// GB 3095-2012 table 4: TSP's 24-hour mean needs 24 hours of sampling, PM10's 20 hourly values.
#[test]
fn a_tsp_day_needs_all_24_hours() {
    let d = dust_server();
    let token = d.add("WH-DUST-14", inside("mines", "骆驼山示例露天煤矿"));
    let day = |day: &str, hours: u32| {
        let readings: Vec<Value> = (0..hours)
            .map(|h| json!({"time": format!("{day}T{h:02}:10:00+08:00"), "pm10": 120.0, "tsp": 400.0}))
            .collect();
        json!({ "readings": readings })
    };
    assert_eq!(d.post(&token, &day("2025-01-10", 23), "en").status, 200);
    assert_eq!(d.post(&token, &day("2025-01-11", 24), "en").status, 200);
    let days = d.client("manager").get_ok(
        "/api/dust/monitors/WH-DUST-14/readings?interval=day&from=2025-01-10T00:00:00%2B08:00&to=2025-01-12T00:00:00%2B08:00",
    );
    let ds = days["readings"].as_array().unwrap();
    assert_eq!(ds[0]["invalid"], json!(["tsp"]), "{days}");
    assert_eq!(ds[0]["valid"], false);
    assert_eq!(ds[1]["invalid"], json!([]), "{days}");
    assert_eq!(
        (ds[1]["valid"].clone(), ds[1]["n"].clone()),
        (json!(true), json!(24))
    );
}

#[test]
fn a_late_reading_changes_the_right_hours_mean() {
    let d = dust_server();
    let token = d.add("WH-DUST-05", inside("mines", "骆驼山示例露天煤矿"));
    let first = json!({"readings": [
        {"time": "2025-01-10T10:05:00+08:00", "pm10": 100.0},
        {"time": "2025-01-10T11:05:00+08:00", "pm10": 50.0}
    ]});
    assert_eq!(d.post(&token, &first, "en").status, 200);
    // Arrives after the 11:05 reading, belongs to 10:00–11:00.
    let late = json!({"readings": [{"time": "2025-01-10T02:35:00Z", "pm10": 200.0}]});
    assert_eq!(d.post(&token, &late, "en").status, 200);
    let m = d.client("manager");
    let hours = m.get_ok(
        "/api/dust/monitors/WH-DUST-05/readings?interval=hour&from=2025-01-10T10:00:00%2B08:00&to=2025-01-10T12:00:00%2B08:00",
    );
    let hs = hours["readings"].as_array().unwrap();
    assert_eq!(hs[0]["time"], "2025-01-10T10:00:00+08:00");
    assert_eq!(pm10_n(&hs[0]), (json!(150.0), json!(2)));
    assert_eq!(pm10_n(&hs[1]), (json!(50.0), json!(1)));
}

#[test]
fn a_retried_http_batch_stores_nothing_twice() {
    let d = dust_server();
    let token = d.add("WH-DUST-06", inside("mines", "骆驼山示例露天煤矿"));
    let batch = json!({"readings": [
        {"time": "2025-01-10T10:00:00+08:00", "tsp": 250.0, "pm10": 86.0, "pm25": 41.0, "wind_speed": 3.2, "wind_dir": 275.0, "temperature": -5.5, "humidity": 31.0},
        {"time": "2025-01-10T10:01:00+08:00", "pm10": 90.0},
        {"time": "2025-01-10T10:02:00+08:00", "pm10": 94.0}
    ]});
    let r = d.post(&token, &batch, "en");
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json(), json!({"stored": 3, "duplicates": 0}));
    let r = d.post(&token, &batch, "en");
    assert_eq!(r.json(), json!({"stored": 0, "duplicates": 3}));
    assert_eq!(d.readings(), 3);
    assert_eq!(d.count("SELECT sum(n) FROM dust_hours WHERE device IN (SELECT id FROM dust_devices WHERE mn NOT LIKE 'WHDEMO-%')"), 3);
    // A batch overlapping the first: only the new reading is stored.
    let more = json!({"readings": [
        {"time": "2025-01-10T10:02:00+08:00", "pm10": 94.0},
        {"time": "2025-01-10T10:03:00+08:00", "pm10": 98.0}
    ]});
    assert_eq!(
        d.post(&token, &more, "en").json(),
        json!({"stored": 1, "duplicates": 1})
    );
    assert_eq!(d.readings(), 4);
    assert_eq!(d.count("SELECT sum(n) FROM dust_hours WHERE device IN (SELECT id FROM dust_devices WHERE mn NOT LIKE 'WHDEMO-%')"), 4);
}

#[test]
fn bad_batches_are_refused_in_the_requests_language_and_nothing_is_written() {
    let d = dust_server();
    let token = d.add("WH-DUST-07", inside("mines", "骆驼山示例露天煤矿"));
    let bad = json!({"readings": [
        {"time": "2025-01-10T10:00:00+08:00", "pm10": 86.0},
        {"time": "2025-01-10T10:01:00+08:00", "pm10": -4.0}
    ]});
    let r = d.post(&token, &bad, "en");
    assert_eq!(r.status, 422);
    let body = r.json();
    assert_eq!(body["error"], "dust_value_out_of_range");
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("\"readings[1].pm10\" is -4"),
        "{body}"
    );
    let zh = d.post(&token, &bad, "zh-CN").json();
    assert!(zh["message"].as_str().unwrap().contains("超出"), "{zh}");
    let typo = json!({"readings": [{"time": "2025-01-10T10:00:00+08:00", "pm2_5": 30}]});
    let r = d.post(&token, &typo, "en");
    assert_eq!(r.status, 422);
    assert!(r.body.contains("pm2_5"), "{}", r.body);
    let r = send_readings(d.http, &token, b"{\"readings\": [", &[]);
    assert_eq!(r.status, 400);
    assert_eq!(d.post("not-a-token", &bad, "en").status, 401);
    assert_eq!(d.readings(), 0);
    // A revoked token is refused; a new one works.
    d.store
        .write_blocking(|tx| monitors::revoke(tx, "WH-DUST-07", chrono::Utc::now()))
        .unwrap();
    let good = json!({"readings": [{"time": "2025-01-10T10:00:00+08:00", "pm10": 86.0}]});
    let r = d.post(&token, &good, "en");
    assert_eq!(r.status, 401);
    assert!(r.message().contains("revoked"));
    let fresh = d
        .store
        .write_blocking(|tx| monitors::new_token(tx, "WH-DUST-07", chrono::Utc::now()))
        .unwrap();
    assert_eq!(d.post(&fresh, &good, "en").status, 200);
}

#[test]
fn readings_are_visible_per_role_and_owners_see_their_mines_monitors_only() {
    let d = dust_server();
    let own = d.add("OWN-01", inside("mines", "骆驼山示例露天煤矿"));
    let other = d.add("OTHER-01", inside("mines", "公乌素示例一号煤矿"));
    let one = json!({"readings": [{"time": "2025-01-10T10:00:00+08:00", "pm10": 86.0}]});
    assert_eq!(d.post(&own, &one, "en").status, 200);
    assert_eq!(d.post(&other, &one, "en").status, 200);
    let path = |mn: &str| {
        format!(
            "/api/dust/monitors/{mn}/readings?interval=raw&from=2025-01-10T00:00:00Z&to=2025-01-11T00:00:00Z"
        )
    };
    // District officers see their district's monitors only (as fires); these two lie outside
    // 乌达区, the demo officer's, and the demo's WHDEMO-WHS01 inside it.
    let district = d.client("district");
    for mn in ["OWN-01", "OTHER-01"] {
        assert_eq!(district.get(&path(mn)).status, 404, "{mn}");
    }
    let r = district.get("/api/dust/monitors/WHDEMO-WHS01/readings?interval=hour");
    assert_eq!(r.status, 200, "{}", r.body);
    for user in ["manager", "patrol"] {
        let c = d.client(user);
        for mn in ["OWN-01", "OTHER-01"] {
            assert_eq!(
                c.get_ok(&path(mn))["readings"].as_array().unwrap().len(),
                1,
                "{user} {mn}"
            );
        }
    }
    let owner = d.client("owner");
    assert_eq!(owner.get_ok(&path("OWN-01"))["readings"][0]["pm10"], 86.0);
    let r = owner.get(&path("OTHER-01"));
    assert_eq!(r.status, 404, "{}", r.body);
    assert_eq!(owner.get(&path("NO-SUCH")).status, 404);
    let anonymous = request(d.http, "GET", &path("OWN-01"), &[], None);
    assert_eq!(anonymous.status, 401);
    // The monitors layer: the mine derived from where the monitor stands, and the same scope.
    // (The demo's own monitors start with WHDEMO-.)
    let fc = owner.get_ok("/collections/dust_monitors/items");
    let ours = |fc: &Value| -> Vec<Value> {
        items(&fc["features"])
            .filter(|f| {
                !f["properties"]["mn"]
                    .as_str()
                    .unwrap()
                    .starts_with("WHDEMO-")
            })
            .cloned()
            .collect()
    };
    let features = ours(&fc);
    assert_eq!(features.len(), 1, "{fc}");
    let props = &features[0]["properties"];
    assert_eq!(props["mn"], "OWN-01");
    assert_eq!(props["holder"], "骆驼山示例煤业有限公司");
    assert_eq!(props["mine_via"], "geometry");
    assert!(
        props["mine"].as_str().unwrap().starts_with("C150300"),
        "{props}"
    );
    let all = d
        .client("manager")
        .get_ok("/collections/dust_monitors/items");
    assert_eq!(ours(&all).len(), 2);
    let r = d
        .client("manager")
        .get("/api/dust/monitors/OWN-01/readings?interval=week");
    assert_eq!(r.status, 400);
    assert!(r.message().contains("raw, hour or day"));
}

fn is_token(s: &str) -> bool {
    s.len() == 64 && s.bytes().all(|b| b.is_ascii_hexdigit())
}

#[test]
fn monitor_add_prints_the_token_on_the_last_line_and_serve_hj212_accepts_its_packets() {
    let (_dir, db) = demo_db();
    let db_s = db.to_str().unwrap();
    let [lon, lat] = inside("mines", "骆驼山示例露天煤矿");
    let (lon, lat) = (lon.to_string(), lat.to_string());
    let add = |mn: &str| {
        run_cli(&[
            "monitor",
            "add",
            "--db",
            db_s,
            "--mn",
            mn,
            "--password",
            PW,
            "--lon",
            &lon,
            "--lat",
            &lat,
            "--name",
            "一号监测点",
        ])
    };
    let (ok, stdout, stderr) = add("CLI-01");
    assert!(ok, "{stderr}");
    let token = stdout.lines().next_back().unwrap().to_string();
    assert!(is_token(&token), "last line: {token:?}");
    assert!(stderr.contains("CLI-01 added"), "{stderr}");
    let (ok, _, stderr) = add("CLI-01");
    assert!(!ok && stderr.contains("already registered"), "{stderr}");
    let (ok, stdout, _) = run_cli(&["monitor", "list", "--db", db_s]);
    assert!(
        ok && stdout.contains("CLI-01\t一号监测点\tC150300") && stdout.contains("token active"),
        "{stdout}"
    );
    // The real server with --hj212.
    let http: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let hj: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let server = serve(
        &[
            "--db",
            db_s,
            "--addr",
            &http.to_string(),
            "--hj212",
            &hj.to_string(),
        ],
        &[http, hj],
    );
    let mut s = connect(hj);
    let answer = acked(&mut s, &realtime("CLI-01", PW, 5, "77", "20250110100000"));
    let body = json!({"readings": [{"time": "2025-01-10T10:01:00+08:00", "pm10": 90.0}]});
    let r = send_readings(http, &token, body.to_string().as_bytes(), &[]);
    let status = r.status;
    // Revoked while the server runs: refused at once.
    let (ok, _, stderr) = run_cli(&["monitor", "revoke", "--db", db_s, "--mn", "CLI-01"]);
    let after = send_readings(http, &token, body.to_string().as_bytes(), &[]);
    kill(server);
    assert_eq!(answer, vec![ack_of("77", "CLI-01")]);
    assert_eq!(status, 200, "{}", r.body);
    assert!(ok, "{stderr}");
    assert_eq!(after.status, 401);
    let (ok, stdout, stderr) = run_cli(&["monitor", "token", "--db", db_s, "--mn", "CLI-01"]);
    assert!(ok, "{stderr}");
    let fresh = stdout.lines().next_back().unwrap();
    assert!(is_token(fresh) && fresh != token);
    let (ok, _, stderr) = run_cli(&["monitor", "revoke", "--db", db_s, "--mn", "NOPE"]);
    assert!(!ok && stderr.contains("NOPE"), "{stderr}");
    assert_eq!(count(&db, OUR_READINGS), 2);
}

#[test]
fn connections_over_the_cap_are_closed_on_arrival_and_counted() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cap.gpkg");
    let store = open_store(&db);
    let rt = runtime(2);
    let hj = rt
        .block_on(qingling::hj212::listener::start_with_cap(
            "127.0.0.1:0".parse().unwrap(),
            store,
            2,
        ))
        .unwrap();
    let mut a = connect(hj.addr);
    let _b = connect(hj.addr);
    wait_until("two connections served", || {
        hj.stats.snapshot().connections == 2
    });
    let mut c = connect(hj.addr);
    c.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut buf = [0u8; 16];
    assert_eq!(c.read(&mut buf).unwrap_or(0), 0, "closed on arrival");
    assert_eq!(hj.stats.snapshot().refused_connections, 1);
    // The served ones are untouched, and a freed slot is taken again.
    silent(&mut a);
    drop(a);
    wait_until("a slot freed and taken", || {
        let mut d = connect(hj.addr);
        d.set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        d.read(&mut buf).is_err()
    });
    assert_eq!(hj.stats.snapshot().connections, 3);
}

#[test]
fn a_monitor_imported_with_the_layer_gets_credentials_from_monitor_enable() {
    let d = dust_server();
    let db_s = d.db.to_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("monitors.geojson");
    let at = inside("mines", "公乌素示例一号煤矿");
    let fc = json!({"type": "FeatureCollection", "features": [{"type": "Feature",
        "geometry": {"type": "Point", "coordinates": at},
        "properties": {"mn": "IMP-01", "name": "导入的监测点"}}]});
    std::fs::write(&file, fc.to_string()).unwrap();
    let layer_import = [
        "import",
        "--db",
        db_s,
        "--layer",
        "dust_monitors",
        file.to_str().unwrap(),
    ];
    let (ok, _, err) = run_cli(&layer_import);
    assert!(ok, "{err}");
    let enable = |mn: &str| {
        run_cli(&[
            "monitor",
            "enable",
            "--db",
            db_s,
            "--mn",
            mn,
            "--password",
            "pw-1-imported",
        ])
    };
    let (ok, out, err) = enable("IMP-01");
    assert!(ok, "{err}");
    let token = out.lines().next_back().unwrap();
    assert!(is_token(token), "{out}");
    let one = json!({"readings": [{"time": "2025-01-10T10:00:00+08:00", "pm10": 80.0}]});
    let r = d.post(token, &one, "en");
    assert_eq!(r.status, 200, "{}", r.body);
    let (ok, _, err) = enable("IMP-01");
    assert!(!ok && err.contains("already has credentials"), "{err}");
    let (ok, _, err) = enable("NOPE-9");
    assert!(!ok && err.contains("NOPE-9"), "{err}");
}

/// Nothing arrives within a short while.
fn silent(s: &mut TcpStream) {
    silent_for(s, Duration::from_millis(300));
}

#[test]
fn a_monitor_that_stops_reporting_is_announced_to_its_mines_holder_and_the_manager() {
    let d = dust_server();
    let own = d.add("QUIET-01", inside("mines", "骆驼山示例露天煤矿"));
    let other = d.add("QUIET-02", inside("mines", "公乌素示例一号煤矿"));
    let at =
        |hours_ago: i64| (chrono::Utc::now() - chrono::Duration::hours(hours_ago)).to_rfc3339();
    // Both reported; three hours ago is the last for each (the map shows two hours as stale).
    for token in [&own, &other] {
        let one = json!({"readings": [{"time": at(3), "pm10": 86.0}]});
        assert_eq!(d.post(token, &one, "en").status, 200);
    }
    let silent = |user: &str| -> Vec<String> {
        let n = d.client(user).get_ok("/api/notifications?limit=200");
        let mut mns: Vec<String> = items(&n["items"])
            .filter(|n| {
                n["kind"] == "monitor_silent" && n["code"].as_str().unwrap().starts_with("QUIET")
            })
            .map(|n| n["code"].as_str().unwrap().to_string())
            .collect();
        mns.sort();
        mns
    };
    assert_eq!(silent("manager"), ["QUIET-01", "QUIET-02"]);
    // The owner hears of its own mine's monitor only; a patrol of none.
    assert_eq!(silent("owner"), ["QUIET-01"]);
    assert!(silent("patrol").is_empty());
    // Reporting again ends it.
    let now = json!({"readings": [{"time": at(0), "pm10": 80.0}]});
    assert_eq!(d.post(&own, &now, "en").status, 200);
    assert_eq!(silent("manager"), ["QUIET-02"]);
    assert!(silent("owner").is_empty());
}

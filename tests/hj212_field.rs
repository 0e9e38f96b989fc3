//! HJ 212 as deployed dust and air monitors send it, through the real listener on a loopback
//! port: the variations DOMAIN.md lists (from the standard's examples and from how public
//! device code and parsers shape packets: the HJ 212-2017 text's appendix examples, the open
//! C# implementation caoyiliang/HJ212 for the 2025 edition's Flag and commands, the C packer
//! tang0-0/HJ212-Pack for field order and short QNs), a monitor's system code and unit as part
//! of its record, data flags kept and left out of means, and implausible values kept, marked
//! and counted on the monitor.
#![allow(clippy::unwrap_used)]

mod common;

use std::io::Write;
use std::net::TcpStream;
use std::time::Duration;

use common::device::{Device, Edition};
use common::dust::add_monitor_speaking;
use common::hj212::{packets as answers, silent_for};
use common::*;
use qingling::domain::dust::device::{Hj212Profile, Protocol};
use qingling::hj212::codec::{ParticulateUnit, crc16};
use qingling::service::dust::monitors;
use serde_json::{Value, json};

const PW: &str = "K7QX4MZP2W";

/// A whole packet around a data segment, its CRC in lower case when `lower` (some loggers).
fn framed(data: &str, lower: bool) -> Vec<u8> {
    let crc = crc16(data.as_bytes());
    let crc = if lower {
        format!("{crc:04x}")
    } else {
        format!("{crc:04X}")
    };
    format!("##{:04}{data}{crc}\r\n", data.len()).into_bytes()
}

fn connect(addr: std::net::SocketAddr) -> TcpStream {
    let s = TcpStream::connect(addr).unwrap();
    s.set_nodelay(true).unwrap();
    s
}

fn raw(c: &Client, mn: &str) -> Vec<Value> {
    c.get_ok(&format!(
        "/api/dust/monitors/{mn}/readings?interval=raw&from=2025-01-10T00:00:00%2B08:00&to=2025-01-11T00:00:00%2B08:00"
    ))["readings"]
        .as_array()
        .unwrap()
        .clone()
}

fn hour(c: &Client, mn: &str, h: u32) -> Value {
    let r = c.get_ok(&format!(
        "/api/dust/monitors/{mn}/readings?interval=hour&from=2025-01-10T{h:02}:00:00%2B08:00&to=2025-01-10T{:02}:00:00%2B08:00",
        h + 1
    ));
    r["readings"][0].clone()
}

/// A demo server with the HJ 212 listener, and a point inside a mine for monitors.
fn field_server() -> (Server, [f64; 2]) {
    let s = TestServer::demo()
        .hj212(qingling::hj212::listener::Config::default())
        .start();
    (s, inside("mines", "骆驼山示例露天煤矿"))
}

#[test]
fn what_field_monitors_send_is_stored_in_ug_per_m3_with_the_answers_each_edition_wants() {
    let (s, at) = field_server();
    let hj = s.hj212.as_ref().unwrap();
    // Registered as `monitor add` does by default: µg/m³, any data system, any edition.
    add_monitor_speaking(&s.store, "FIELD-01", PW, at, None, Hj212Profile::default());
    let mut c = connect(hj.addr);
    let mn = "MN=FIELD-01";
    let cases: [(&str, bool); 6] = [
        // A site dust monitor (ST=39) in the 2005 style: no Flag, no QN.
        (
            &format!(
                "ST=39;CN=2011;PW={PW};{mn};CP=&&DataTime=20250110100000;a34002-Rtd=86,a34002-Flag=N;a34001-Rtd=152&&"
            ),
            false,
        ),
        // Header fields in another order and a 14-digit QN (Flag=4: no answer asked).
        (
            &format!(
                "{mn};QN=20250110100100;CN=2011;ST=22;Flag=4;PW={PW};CP=&&DataTime=20250110100100;a34002-Rtd=90,a34002-Flag=N&&"
            ),
            false,
        ),
        // A factor without -Flag, an empty value, ';' before the closing '&&', lower-case CRC.
        (
            &format!(
                "QN=20250110100200001;ST=39;CN=2011;PW={PW};{mn};Flag=4;CP=&&DataTime=20250110100200;a34002-Rtd=94;a01006-Rtd=,a01006-Flag=N;a34004-Rtd=;&&"
            ),
            true,
        ),
        // Factors this system does not keep: noise, SO₂, NO₂, CO, pressure (ST=31).
        (
            &format!(
                "QN=20250110100300001;ST=31;CN=2011;PW={PW};{mn};Flag=4;CP=&&DataTime=20250110100300;LA-Rtd=61.2,LA-Flag=N;a21026-Rtd=7;a21004-Rtd=21;a21005-Rtd=0.6;a01006-Rtd=88.1;a34002-Rtd=98,a34002-Flag=N&&"
            ),
            false,
        ),
        // Maintenance (M) on PM10: kept with its flag, left out of the hour's mean.
        (
            &format!(
                "QN=20250110100400001;ST=39;CN=2011;PW={PW};{mn};Flag=4;CP=&&DataTime=20250110100400;a34002-Rtd=900,a34002-Flag=M;a34004-Rtd=41,a34004-Flag=N&&"
            ),
            false,
        ),
        // Minute data sent with -Rtd instead of -Avg.
        (
            &format!(
                "QN=20250110100500001;ST=39;CN=2051;PW={PW};{mn};Flag=4;CP=&&DataTime=20250110100500;a34002-Rtd=102&&"
            ),
            false,
        ),
    ];
    for (data, lower) in &cases {
        c.write_all(&framed(data, *lower)).unwrap();
    }
    // An HJ 212-2025 device asking for an answer (Flag=9) is answered in 2025 (Flag=8).
    c.write_all(&framed(&format!("QN=20250110100600001;ST=39;CN=2011;PW={PW};{mn};Flag=9;CP=&&DataTime=20250110100600;a34002-Rtd=106,a34002-Flag=N&&"), false)).unwrap();
    assert_eq!(
        answers(&mut c, 1),
        vec![format!(
            "QN=20250110100600001;ST=91;CN=9014;PW={PW};{mn};Flag=8;CP=&&&&"
        )]
    );
    // And a 2017 one (Flag=5) in 2017 (Flag=4).
    c.write_all(&framed(&format!("QN=20250110100700001;ST=39;CN=2011;PW={PW};{mn};Flag=5;CP=&&DataTime=20250110100700;a34002-Rtd=110,a34002-Flag=N&&"), false)).unwrap();
    assert_eq!(
        answers(&mut c, 1),
        vec![format!(
            "QN=20250110100700001;ST=91;CN=9014;PW={PW};{mn};Flag=4;CP=&&&&"
        )]
    );
    let m = Client::login_at(s.addr, "manager");
    wait_until("every packet stored", || raw(&m, "FIELD-01").len() == 8);
    let rs = raw(&m, "FIELD-01");
    let pm10: Vec<Value> = rs.iter().map(|r| r["pm10"].clone()).collect();
    assert_eq!(
        pm10,
        [86, 90, 94, 98, 900, 102, 106, 110].map(|v| json!(f64::from(v)))
    );
    assert_eq!(rs[0]["tsp"], 152.0);
    assert_eq!(rs[2]["pm25"], Value::Null);
    assert_eq!(rs[4]["flags"], json!({"pm10": "M", "pm25": "N"}));
    assert_eq!(rs[4]["not_counted"], json!(["pm10"]));
    assert_eq!(rs[5]["kind"], "minute");
    assert!(rs.iter().all(|r| r.get("suspect").is_none()));
    let stats = hj.stats.snapshot();
    assert_eq!((stats.packets, stats.readings_stored), (8, 8));
    assert_eq!(
        (stats.other_system, stats.bad_packets, stats.dropped_values),
        (0, 0, 0)
    );
    assert_eq!(stats.other_factors, 5);
    // The hour is built from the minute reading; the flagged real-time value counts nowhere.
    let h = hour(&m, "FIELD-01", 10);
    assert_eq!(
        (h["pm10"].clone(), h["kind"].clone()),
        (json!(102.0), json!("minute"))
    );
}

#[test]
fn a_monitors_system_code_and_unit_are_part_of_its_record() {
    let (s, at) = field_server();
    let hj = s.hj212.as_ref().unwrap();
    let site = Hj212Profile {
        st: Some("39".into()),
        protocol: Some(Protocol::V2017),
        ..Default::default()
    };
    add_monitor_speaking(&s.store, "SITE-39", PW, at, None, site);
    // Registered as mg/m³, but the device sends µg/m³: a thousand times too high.
    let wrong = Hj212Profile {
        unit: ParticulateUnit::MgPerM3,
        ..Default::default()
    };
    add_monitor_speaking(&s.store, "WRONG-MG", PW, at, None, wrong);
    let mut c = connect(hj.addr);
    // Another system's data for a monitor set up as 39: not stored, not answered, counted.
    c.write_all(&framed(&format!("QN=1;ST=22;CN=2011;PW={PW};MN=SITE-39;Flag=5;CP=&&DataTime=20250110100000;a34002-Rtd=86&&"), false)).unwrap();
    silent_for(&mut c, Duration::from_millis(500));
    wait_until("the other system counted", || {
        hj.stats.snapshot().other_system == 1
    });
    // Its own system's data, in another edition than its record: stored, counted.
    c.write_all(&framed(&format!("QN=2;ST=39;CN=2011;PW={PW};MN=SITE-39;Flag=9;CP=&&DataTime=20250110100000;a34002-Rtd=86&&"), false)).unwrap();
    assert_eq!(answers(&mut c, 1).len(), 1);
    c.write_all(&framed(&format!("QN=3;ST=39;CN=2011;PW={PW};MN=WRONG-MG;Flag=5;CP=&&DataTime=20250110100000;a34002-Rtd=86,a34002-Flag=N;a34004-Rtd=41&&"), false)).unwrap();
    assert_eq!(answers(&mut c, 1).len(), 1);
    let stats = hj.stats.snapshot();
    assert_eq!((stats.readings_stored, stats.other_version), (2, 1));
    assert_eq!(stats.suspect_values, 2);
    let m = Client::login_at(s.addr, "manager");
    assert_eq!(raw(&m, "SITE-39").len(), 1);
    // Kept and shown as sent, marked, and in no mean: the hour has a reading and no PM10.
    let rs = raw(&m, "WRONG-MG");
    assert_eq!(rs[0]["pm10"], 86_000.0);
    assert_eq!(rs[0]["suspect"], json!(["pm10", "pm25"]));
    let h = hour(&m, "WRONG-MG", 10);
    assert_eq!((h["pm10"].clone(), h["n"].clone()), (Value::Null, json!(1)));
    // Counted on the monitor, where a manager sees it.
    let listed = s.store.read_blocking(|tx| monitors::list(tx)).unwrap();
    let suspect = |mn: &str| listed.iter().find(|l| l.mn == mn).unwrap().suspect_values;
    assert_eq!((suspect("WRONG-MG"), suspect("SITE-39")), (2, 0));
}

/// 2025-01-10 10:00:00 in UTC+8.
const TEN: i64 = 1_736_474_400;

/// A field server and a data logger registered as `mn` (µg/m³), linked to its listener.
fn logger(mn: &str, edition: Edition) -> (Server, Device) {
    let (s, at) = field_server();
    add_monitor_speaking(&s.store, mn, PW, at, None, Hj212Profile::default());
    let mut dev = Device::new(mn, PW, edition);
    dev.connect(s.hj212.as_ref().unwrap().addr);
    (s, dev)
}

#[test]
fn a_gap_is_filled_from_the_device_and_every_reading_is_stored_once() {
    let (s, mut dev) = logger("LOGGER-1", Edition::V2017);
    let hj = s.hj212.as_ref().unwrap();
    dev.measure(TEN, 80.0);
    dev.measure(TEN + 60, 82.0);
    let m = Client::login_at(s.addr, "manager");
    wait_until("the first two minutes", || raw(&m, "LOGGER-1").len() == 2);
    // The link drops for four minutes; the logger keeps measuring.
    dev.disconnect();
    for (i, pm10) in [84.0, 86.0, 88.0, 90.0].into_iter().enumerate() {
        dev.measure(TEN + 120 + 60 * i as i64, pm10);
    }
    dev.connect(hj.addr);
    dev.measure(TEN + 360, 92.0);
    // The server asks for exactly what it lacks, in the device's system code and edition.
    let request = dev
        .receive(Duration::from_secs(10))
        .expect("a history request");
    assert!(
        request.contains(";ST=39;CN=2051;")
            && request.contains(";Flag=5;CP=&&BeginTime=20250110100200;EndTime=20250110100500&&"),
        "{request}"
    );
    assert_eq!(dev.answer(&request), "2051");
    // A retransmission of the newest is harmless.
    dev.resend(TEN + 360);
    wait_until("the gap filled", || raw(&m, "LOGGER-1").len() == 7);
    wait_until("every packet counted", || {
        let st = hj.stats.snapshot();
        st.readings_stored + st.duplicates == 8 && st.device_replies == 2
    });
    let st = hj.stats.snapshot();
    assert_eq!(
        (st.readings_stored, st.duplicates, st.history_requests),
        (7, 1, 1)
    );
    let pm10: Vec<Value> = raw(&m, "LOGGER-1")
        .iter()
        .map(|r| r["pm10"].clone())
        .collect();
    assert_eq!(
        pm10,
        [80, 82, 84, 86, 88, 90, 92].map(|v| json!(f64::from(v)))
    );
    // The late readings are judged like fresh ones: the hour holds all seven.
    let h = hour(&m, "LOGGER-1", 10);
    assert_eq!((h["pm10"].clone(), h["n"].clone()), (json!(86.0), json!(7)));
    // Nothing more is asked for.
    assert_eq!(dev.receive(Duration::from_millis(300)), None);
}

#[test]
fn a_2025_device_gets_its_heartbeat_answered_and_its_clock_set() {
    let (s, mut dev) = logger("LOGGER-25", Edition::V2025);
    let hj = s.hj212.as_ref().unwrap();
    let answer = dev.ask("9015", "");
    assert!(
        answer.contains(";ST=91;CN=9013;PW=") && answer.ends_with(";Flag=8;CP=&&&&"),
        "{answer}"
    );
    let sn = dev.ask("1001", "i23005-Info=DL2025-0042;i23006-Info=CPU77");
    assert!(sn.contains(";CN=9013;"), "{sn}");
    // A time calibration request: answered, then the clock is set to the server's local time.
    let ask = dev.ask("1013", "PolId=a34002");
    assert!(ask.contains(";CN=9013;"), "{ask}");
    let set = dev
        .receive(Duration::from_secs(10))
        .expect("a clock setting");
    assert!(
        set.contains(";ST=39;CN=1012;") && set.contains(";Flag=9;CP=&&PolId=a34002;SystemTime="),
        "{set}"
    );
    let time = set
        .split("SystemTime=")
        .nth(1)
        .unwrap()
        .trim_end_matches("&&");
    let server = qingling::hj212::codec::parse_data_time(time).expect("a time");
    assert!(
        (server - chrono::Utc::now().timestamp()).abs() <= 5,
        "{time}"
    );
    assert_eq!(dev.answer(&set), "1012");
    wait_until("the replies counted", || {
        hj.stats.snapshot().device_replies == 2
    });
    let st = hj.stats.snapshot();
    assert_eq!((st.notices, st.clock_sets, st.ignored), (2, 1, 0));
}

//! The real binary: import, user add, a server killed with SIGKILL, and the file checked by
//! GDAL's own tools (`ogrinfo`, `ogr2ogr`).
#![allow(clippy::unwrap_used)]

mod common;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use serde_json::{Value, json};

fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_qingling"));
    c.env("LANG", "en_US.UTF-8").current_dir(root());
    c
}

fn run(args: &[&str]) -> (bool, String) {
    let out = bin().args(args).output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

/// A demo database in a fresh temporary folder (kept while the guard lives).
fn demo_db() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.gpkg");
    qingling::cli::build_demo(&db, &root().join("samples")).unwrap();
    (dir, db)
}

fn gdal(tool: &str, args: &[&str]) -> String {
    let out = Command::new(tool).args(args).output().unwrap_or_else(|e| {
        panic!("{tool} is needed for this test (apt-get install gdal-bin): {e}")
    });
    assert!(
        out.status.success(),
        "{tool} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).to_string()
}

#[test]
fn import_is_all_or_nothing_and_names_the_bad_feature() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("q.gpkg");
    let db_s = db.to_str().unwrap();
    let samples = root().join("samples");
    let (ok, err) = run(&[
        "import",
        "--db",
        db_s,
        "--layer",
        "districts",
        samples.join("districts.geojson").to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    assert!(err.contains("3 districts imported"), "{err}");
    // A mines file whose third feature is a bow-tie: nothing of it is kept.
    let text = std::fs::read_to_string(samples.join("mines.geojson")).unwrap();
    let mut fc: Value = serde_json::from_str(&text).unwrap();
    let f = &mut fc["features"][2];
    let name = f["properties"]["name"].as_str().unwrap().to_string();
    f["geometry"] = json!({"type": "Polygon", "coordinates": [[[106.7, 39.5], [106.8, 39.6], [106.8, 39.5], [106.7, 39.6], [106.7, 39.5]]]});
    let bad = dir.path().join("bad.geojson");
    std::fs::write(&bad, fc.to_string()).unwrap();
    let (ok, err) = run(&[
        "import",
        "--db",
        db_s,
        "--layer",
        "mines",
        bad.to_str().unwrap(),
    ]);
    assert!(!ok);
    assert!(
        err.contains(&format!("Feature 3 ({name})"))
            && err.contains("nothing from the file was imported"),
        "{err}"
    );
    let conn = rusqlite::Connection::open(&db).unwrap();
    let n: i64 = conn
        .query_row("SELECT count(*) FROM mines", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 0);
    let (ok, err) = run(&[
        "import",
        "--db",
        db_s,
        "--layer",
        "mines",
        samples.join("mines.geojson").to_str().unwrap(),
    ]);
    assert!(ok, "{err}");
    let (ok, err) = run(&[
        "import",
        "--db",
        db_s,
        "--layer",
        "lakes",
        bad.to_str().unwrap(),
    ]);
    assert!(!ok && err.contains("Unknown layer"), "{err}");
}

#[test]
fn a_re_import_that_would_leave_open_fires_outside_every_district_is_refused() {
    let (dir, db) = demo_db();
    let conn = rusqlite::Connection::open(&db).unwrap();
    let open = |c: &rusqlite::Connection| -> i64 {
        c.query_row(
            "SELECT count(*) FROM fire_points WHERE district_code = '150303' AND status NOT IN ('cleared', 'dismissed')",
            [],
            |r| r.get(0),
        )
        .unwrap()
    };
    assert!(open(&conn) > 0, "the demo has open fires in 乌达区");
    let before: Vec<u8> = conn
        .query_row(
            "SELECT geom FROM districts WHERE code = '150303'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    // 乌达区 shrunk to a sliver in the corner of its old extent: its open fires would be in no
    // district at all.
    let text = std::fs::read_to_string(root().join("samples/districts.geojson")).unwrap();
    let mut fc: Value = serde_json::from_str(&text).unwrap();
    let f = fc["features"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|f| f["properties"]["code"] == "150303")
        .unwrap();
    let ring = f["geometry"]["coordinates"][0][0]
        .as_array()
        .unwrap()
        .clone();
    let (x, y) = ring
        .iter()
        .map(|p| (p[0].as_f64().unwrap(), p[1].as_f64().unwrap()))
        .fold((f64::MAX, f64::MAX), |(a, b), (x, y)| (a.min(x), b.min(y)));
    f["geometry"] = json!({"type": "Polygon", "coordinates": [[[x, y], [x + 0.001, y], [x + 0.001, y + 0.001], [x, y + 0.001], [x, y]]]});
    let file = dir.path().join("districts.geojson");
    std::fs::write(&file, fc.to_string()).unwrap();
    let args = [
        "import",
        "--db",
        db.to_str().unwrap(),
        "--layer",
        "districts",
        file.to_str().unwrap(),
    ];
    let (ok, err) = run(&args);
    assert!(!ok, "{err}");
    assert!(err.contains("outside every district"), "{err}");
    let after: Vec<u8> = conn
        .query_row(
            "SELECT geom FROM districts WHERE code = '150303'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(before, after, "the boundary is unchanged");
    assert!(open(&conn) > 0);
}

#[test]
fn a_new_database_has_no_accounts_until_user_add() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("q.gpkg");
    let db_s = db.to_str().unwrap();
    let (ok, err) = run(&[
        "user",
        "add",
        "--db",
        db_s,
        "--username",
        "wang",
        "--password",
        "short",
        "--role",
        "patrol",
    ]);
    assert!(!ok && err.contains("at least 8"), "{err}");
    let conn = rusqlite::Connection::open(&db).unwrap();
    let n: i64 = conn
        .query_row("SELECT count(*) FROM users", [], |r| r.get(0))
        .unwrap();
    assert_eq!(n, 0);
    let (ok, err) = run(&[
        "user",
        "add",
        "--db",
        db_s,
        "--username",
        "zhao",
        "--password",
        "long enough",
        "--role",
        "district",
    ]);
    assert!(!ok && err.contains("--district"), "{err}");
    let (ok, err) = run(&[
        "user",
        "add",
        "--db",
        db_s,
        "--username",
        "zhao",
        "--password",
        "long enough",
        "--role",
        "district",
        "--district",
        "150303",
    ]);
    assert!(ok, "{err}");
    let row: (String, String) = conn
        .query_row("SELECT role, district FROM users", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .unwrap();
    assert_eq!(row, ("district".into(), "150303".into()));
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn start(db: &str, port: u16, demo: bool) -> Child {
    let addr = format!("127.0.0.1:{port}");
    let mut args = vec!["serve", "--db", db, "--addr", &addr];
    if demo {
        args.push("--demo");
    }
    let child = bin().args(&args).stderr(Stdio::null()).spawn().unwrap();
    let t = Instant::now();
    while std::net::TcpStream::connect(&addr).is_err() {
        assert!(
            t.elapsed() < Duration::from_secs(60),
            "server did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    child
}

#[test]
fn sigterm_stops_the_server_cleanly_after_its_background_jobs() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.gpkg");
    let port = free_port();
    let mut server = start(db.to_str().unwrap(), port, true);
    let pid = server.id().to_string();
    let status = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(status.success());
    let t = Instant::now();
    let exit = loop {
        if let Some(s) = server.try_wait().unwrap() {
            break s;
        }
        assert!(
            t.elapsed() < Duration::from_secs(40),
            "still running after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(exit.success(), "{exit:?}");
    // Shut down, not killed: the lock is free and the file opens cleanly.
    let conn = rusqlite::Connection::open(&db).unwrap();
    let ok: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(ok, "ok");
}

#[test]
fn an_acknowledged_report_survives_kill_9() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.gpkg");
    let db_s = db.to_str().unwrap();
    let port = free_port();
    let mut server = start(db_s, port, true);
    let addr: std::net::SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let body = json!({"username": "patrol", "password": "qingling-patrol"}).to_string();
    let login = request(
        addr,
        "POST",
        "/api/login",
        &[("Content-Type", "application/json")],
        Some(body.as_bytes()),
    );
    let token = login.json()["token"].as_str().unwrap().to_string();
    let auth = format!("Bearer {token}");
    let mut codes = vec![];
    for i in 0..5 {
        let f = fire_feature(
            inside("mines", "骆驼山示例露天煤矿"),
            json!({"kind": "coal_seam", "temp_c": 100 + i}),
        );
        let r = request(
            addr,
            "POST",
            "/api/fires",
            &[
                ("Content-Type", "application/json"),
                ("Authorization", &auth),
            ],
            Some(f.to_string().as_bytes()),
        );
        assert_eq!(r.status, 201);
        codes.push(r.json()["properties"]["code"].as_str().unwrap().to_string());
    }
    // SIGKILL: no shutdown, no checkpoint.
    server.kill().unwrap();
    server.wait().unwrap();
    let mut again = start(db_s, port, false);
    let m = format!("Bearer {}", {
        let body = json!({"username": "manager", "password": "qingling-manager"}).to_string();
        request(
            addr,
            "POST",
            "/api/login",
            &[("Content-Type", "application/json")],
            Some(body.as_bytes()),
        )
        .json()["token"]
            .as_str()
            .unwrap()
            .to_string()
    });
    for code in &codes {
        let r = request(
            addr,
            "GET",
            &format!("/api/fires/{code}"),
            &[("Authorization", &m)],
            None,
        );
        assert_eq!(r.status, 200, "{code} lost after kill -9");
    }
    let r = request(addr, "GET", "/api/me", &[("Authorization", &auth)], None);
    assert_eq!(r.status, 200, "the session survived too");
    again.kill().unwrap();
    again.wait().unwrap();
}

#[test]
fn gdal_reads_every_layer_and_exports_the_fires_with_their_status() {
    let (dir, db) = demo_db();
    let db_s = db.to_str().unwrap();
    let info = gdal("ogrinfo", &["-so", "-al", db_s]);
    let conn = rusqlite::Connection::open(&db).unwrap();
    for layer in [
        "districts",
        "mines",
        "waste_dumps",
        "gangue_heaps",
        "fire_points",
        "inspections",
    ] {
        let n: i64 = conn
            .query_row(&format!("SELECT count(*) FROM {layer}"), [], |r| r.get(0))
            .unwrap();
        let block = info
            .split("Layer name: ")
            .find(|b| b.starts_with(&format!("{layer}\n")))
            .unwrap_or_else(|| panic!("{layer} missing:\n{info}"));
        assert!(
            block.contains(&format!("Feature Count: {n}")),
            "{layer}: {block}"
        );
        assert!(
            block.contains("Extent: (106.") && block.contains("39."),
            "{layer}: {block}"
        );
    }
    assert!(
        !info.contains("Layer name: users"),
        "accounts are not a GIS layer"
    );
    let out = dir.path().join("fires.json");
    gdal(
        "ogr2ogr",
        &["-f", "GeoJSON", out.to_str().unwrap(), db_s, "fire_points"],
    );
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
    let features = v["features"].as_array().unwrap();
    assert_eq!(features.len(), 74);
    let statuses: std::collections::BTreeSet<&str> = features
        .iter()
        .map(|f| f["properties"]["status"].as_str().unwrap())
        .collect();
    for s in [
        "reported",
        "confirmed",
        "treating",
        "controlled",
        "extinguished",
        "cleared",
        "reignited",
        "dismissed",
    ] {
        assert!(statuses.contains(s), "{s} missing from the export");
    }
    let validator = "/usr/lib/python3/dist-packages/osgeo_utils/samples/validate_gpkg.py";
    if std::path::Path::new(validator).exists() {
        let out = Command::new("/usr/bin/python3")
            .args([validator, "--extra", "--warning-as-error", db_s])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "GeoPackage validator: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}

#[test]
fn rules_are_configurable_and_take_effect_on_the_next_start() {
    let (_dir, db) = demo_db();
    let db_s = db.to_str().unwrap();
    let (ok, err) = run(&[
        "rules",
        "--db",
        db_s,
        "--set",
        "code_prefix=HN",
        "--set",
        "deadlines.waste_dump_hours=24",
    ]);
    assert!(ok, "{err}");
    let (ok, err) = run(&["rules", "--db", db_s, "--set", "deadlines.lava_hours=1"]);
    assert!(!ok && err.contains("unknown rule"), "{err}");
    let port = free_port();
    let mut server = start(db_s, port, false);
    let addr: std::net::SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let body = json!({"username": "patrol", "password": "qingling-patrol"}).to_string();
    let token = request(
        addr,
        "POST",
        "/api/login",
        &[("Content-Type", "application/json")],
        Some(body.as_bytes()),
    )
    .json()["token"]
        .as_str()
        .unwrap()
        .to_string();
    let f = fire_feature(
        inside("mines", "骆驼山示例露天煤矿"),
        json!({"kind": "waste_dump"}),
    );
    let auth = format!("Bearer {token}");
    let r = request(
        addr,
        "POST",
        "/api/fires",
        &[
            ("Content-Type", "application/json"),
            ("Authorization", &auth),
        ],
        Some(f.to_string().as_bytes()),
    );
    let p = &r.json()["properties"];
    assert!(p["code"].as_str().unwrap().starts_with("HN-"), "{p}");
    let reported =
        chrono::DateTime::parse_from_rfc3339(p["reported_at"].as_str().unwrap()).unwrap();
    let deadline = chrono::DateTime::parse_from_rfc3339(p["deadline"].as_str().unwrap()).unwrap();
    assert_eq!((deadline - reported).num_hours(), 24);
    server.kill().unwrap();
    server.wait().unwrap();
}

#[test]
fn dust_rules_are_shown_checked_and_saved() {
    let (_dir, db) = demo_db();
    let db_s = db.to_str().unwrap();
    let (ok, err) = run(&[
        "rules",
        "--db",
        db_s,
        "--dust",
        "--set",
        "pm10_day_ug=120",
        "--set",
        "measures.yellow=[\"spray_roads\"]",
    ]);
    assert!(ok, "{err}");
    for (set, needle) in [
        ("measures.yellow=[\"dance\"]", "unknown measure \"dance\""),
        ("wind_suggest_ms=0", "wind_suggest_ms must be above 0"),
        ("lava=1", "unknown rule"),
    ] {
        let (ok, err) = run(&["rules", "--db", db_s, "--dust", "--set", set]);
        assert!(!ok && err.contains(needle), "{set}: {err}");
    }
    let conn = rusqlite::Connection::open(&db).unwrap();
    let saved: String = conn
        .query_row(
            "SELECT value FROM settings WHERE key = 'dust_rules'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let rules: qingling::domain::dust::DustRules = serde_json::from_str(&saved).unwrap();
    assert_eq!(rules.pm10_day_ug, 120.0);
    assert_eq!(
        rules.measures_for(qingling::domain::dust::WarningLevel::Yellow),
        ["spray_roads"]
    );
    assert_eq!(rules.wind_suggest_ms, 8.0, "refused changes saved nothing");
    // The violation rules, the same way.
    let issues = |set: &str| run(&["rules", "--db", db_s, "--dust-issues", "--set", set]);
    assert!(issues("deadline_days=5").0);
    let (ok, err) = issues("deadline_days=0");
    assert!(
        !ok && err.contains("deadline_days must be 1 to 365"),
        "{err}"
    );
    let saved: String = conn
        .query_row(
            "SELECT value FROM settings WHERE key = 'dust_issue_rules'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(saved.contains("\"deadline_days\":5"), "{saved}");
}

//! The real binary: import, user add, a server killed with SIGKILL, and the file checked by
//! GDAL's own tools (`ogrinfo`, `ogr2ogr`).
#![allow(clippy::unwrap_used)]

mod common;

use std::process::{Child, Command};
use std::time::{Duration, Instant};

use common::*;
use serde_json::{Value, json};

/// Runs the binary: (success, stderr).
fn run(args: &[&str]) -> (bool, String) {
    let (ok, _, err) = run_cli(args);
    (ok, err)
}

/// Where a new database file goes, in a fresh temporary folder (kept while the guard lives).
fn new_db(name: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join(name);
    (dir, db)
}

/// `qingling import --db DB --layer LAYER FILE`: (success, stderr).
fn import(db: &str, layer: &str, file: &std::path::Path) -> (bool, String) {
    run(&[
        "import",
        "--db",
        db,
        "--layer",
        layer,
        file.to_str().unwrap(),
    ])
}

/// `qingling user add --db DB --username NAME --password PW --role ROLE` and `extra`:
/// (success, stderr).
fn user_add(db: &str, name: &str, password: &str, role: &str, extra: &[&str]) -> (bool, String) {
    let mut args = vec![
        "user",
        "add",
        "--db",
        db,
        "--username",
        name,
        "--password",
        password,
        "--role",
        role,
    ];
    args.extend_from_slice(extra);
    run(&args)
}

/// `qingling rules --db DB`, `options`, and `--set` each of `sets`: (success, stderr).
fn set_rules(db: &str, options: &[&str], sets: &[&str]) -> (bool, String) {
    let mut args = vec!["rules", "--db", db];
    args.extend_from_slice(options);
    for set in sets {
        args.extend(["--set", set]);
    }
    run(&args)
}

/// A bearer token for a demo user of the server at `addr`.
fn bearer(addr: std::net::SocketAddr, user: &str) -> String {
    format!("Bearer {}", Client::login_at(addr, user).token.unwrap())
}

/// Reports a fire with a bearer token (`Authorization` value).
fn report(addr: std::net::SocketAddr, auth: &str, f: &Value) -> Response {
    request(
        addr,
        "POST",
        "/api/fires",
        &[
            ("Content-Type", "application/json"),
            ("Authorization", auth),
        ],
        Some(f.to_string().as_bytes()),
    )
}

/// The value of a setting as the database holds it.
fn setting(db: &std::path::Path, key: &str) -> String {
    let conn = rusqlite::Connection::open(db).unwrap();
    row::<(String,)>(&conn, "SELECT value FROM settings WHERE key = ?1", [key]).0
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
    let (dir, db) = new_db("q.gpkg");
    let db_s = db.to_str().unwrap();
    let samples = samples();
    let (ok, err) = import(db_s, "districts", &samples.join("districts.geojson"));
    assert!(ok, "{err}");
    assert!(err.contains("3 districts imported"), "{err}");
    // A mines file whose third feature is a bow-tie: nothing of it is kept.
    let mut fc = sample_collection("mines");
    let f = &mut fc["features"][2];
    let name = f["properties"]["name"].as_str().unwrap().to_string();
    f["geometry"] = json!({"type": "Polygon", "coordinates": [[[106.7, 39.5], [106.8, 39.6], [106.8, 39.5], [106.7, 39.6], [106.7, 39.5]]]});
    let bad = dir.path().join("bad.geojson");
    std::fs::write(&bad, fc.to_string()).unwrap();
    let (ok, err) = import(db_s, "mines", &bad);
    assert!(!ok);
    assert!(
        err.contains(&format!("Feature 3 ({name})"))
            && err.contains("nothing from the file was imported"),
        "{err}"
    );
    let n = count(&db, "SELECT count(*) FROM mines");
    assert_eq!(n, 0);
    let (ok, err) = import(db_s, "mines", &samples.join("mines.geojson"));
    assert!(ok, "{err}");
    let (ok, err) = import(db_s, "lakes", &bad);
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
    let boundary =
        || -> Vec<u8> { query_one(&db, "SELECT geom FROM districts WHERE code = '150303'") };
    let before = boundary();
    // 乌达区 shrunk to a sliver in the corner of its old extent: its open fires would be in no
    // district at all.
    let mut fc = sample_collection("districts");
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
    let (ok, err) = import(db.to_str().unwrap(), "districts", &file);
    assert!(!ok, "{err}");
    assert!(err.contains("outside every district"), "{err}");
    let after = boundary();
    assert_eq!(before, after, "the boundary is unchanged");
    assert!(open(&conn) > 0);
}

#[test]
fn a_new_database_has_no_accounts_until_user_add() {
    let (_dir, db) = new_db("q.gpkg");
    let db_s = db.to_str().unwrap();
    let (ok, err) = user_add(db_s, "wang", "short", "patrol", &[]);
    assert!(!ok && err.contains("at least 8"), "{err}");
    let conn = rusqlite::Connection::open(&db).unwrap();
    let n = count(&db, "SELECT count(*) FROM users");
    assert_eq!(n, 0);
    let (ok, err) = user_add(db_s, "zhao", "long enough", "district", &[]);
    assert!(!ok && err.contains("--district"), "{err}");
    let (ok, err) = user_add(
        db_s,
        "zhao",
        "long enough",
        "district",
        &["--district", "150303"],
    );
    assert!(ok, "{err}");
    let row: (String, String) = row(&conn, "SELECT role, district FROM users", []);
    assert_eq!(row, ("district".into(), "150303".into()));
}

fn start(db: &str, port: u16, demo: bool) -> Child {
    let addr = format!("127.0.0.1:{port}");
    let mut args = vec!["--db", db, "--addr", &addr];
    if demo {
        args.push("--demo");
    }
    serve(&args, &[addr.parse().unwrap()])
}

#[test]
fn sigterm_stops_the_server_cleanly_after_its_background_jobs() {
    let (_dir, db) = new_db("demo.gpkg");
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
    let ok: String = query_one(&db, "PRAGMA integrity_check");
    assert_eq!(ok, "ok");
}

#[test]
fn an_acknowledged_report_survives_kill_9() {
    let (_dir, db) = new_db("demo.gpkg");
    let db_s = db.to_str().unwrap();
    let port = free_port();
    let server = start(db_s, port, true);
    let addr: std::net::SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let auth = bearer(addr, "patrol");
    let mut codes = vec![];
    for i in 0..5 {
        let f = fire_feature(
            inside("mines", "骆驼山示例露天煤矿"),
            json!({"kind": "coal_seam", "temp_c": 100 + i}),
        );
        let r = report(addr, &auth, &f);
        assert_eq!(r.status, 201);
        codes.push(r.json()["properties"]["code"].as_str().unwrap().to_string());
    }
    // SIGKILL: no shutdown, no checkpoint.
    kill(server);
    let again = start(db_s, port, false);
    let m = bearer(addr, "manager");
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
    kill(again);
}

#[test]
fn gdal_reads_every_layer_and_exports_the_fires_with_their_status() {
    let (dir, db) = demo_db();
    let db_s = db.to_str().unwrap();
    let info = gdal("ogrinfo", &["-so", "-al", db_s]);
    for layer in fire_layers() {
        let n = count(&db, &format!("SELECT count(*) FROM {layer}"));
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
    let features = features(&v);
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
    let (ok, err) = set_rules(
        db_s,
        &[],
        &["code_prefix=HN", "deadlines.waste_dump_hours=24"],
    );
    assert!(ok, "{err}");
    let (ok, err) = set_rules(db_s, &[], &["deadlines.lava_hours=1"]);
    assert!(!ok && err.contains("unknown rule"), "{err}");
    let port = free_port();
    let server = start(db_s, port, false);
    let addr: std::net::SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let f = fire_feature(
        inside("mines", "骆驼山示例露天煤矿"),
        json!({"kind": "waste_dump"}),
    );
    let r = report(addr, &bearer(addr, "patrol"), &f);
    let p = &r.json()["properties"];
    assert!(p["code"].as_str().unwrap().starts_with("HN-"), "{p}");
    let reported =
        chrono::DateTime::parse_from_rfc3339(p["reported_at"].as_str().unwrap()).unwrap();
    let deadline = chrono::DateTime::parse_from_rfc3339(p["deadline"].as_str().unwrap()).unwrap();
    assert_eq!((deadline - reported).num_hours(), 24);
    kill(server);
}

#[test]
fn dust_rules_are_shown_checked_and_saved() {
    let (_dir, db) = demo_db();
    let db_s = db.to_str().unwrap();
    let (ok, err) = set_rules(
        db_s,
        &["--dust"],
        &["pm10_day_ug=120", "measures.yellow=[\"spray_roads\"]"],
    );
    assert!(ok, "{err}");
    for (set, needle) in [
        ("measures.yellow=[\"dance\"]", "unknown measure \"dance\""),
        ("wind_suggest_ms=0", "wind_suggest_ms must be above 0"),
        ("lava=1", "unknown rule"),
    ] {
        let (ok, err) = set_rules(db_s, &["--dust"], &[set]);
        assert!(!ok && err.contains(needle), "{set}: {err}");
    }
    let saved = setting(&db, "dust_rules");
    let rules: qingling::domain::dust::DustRules = serde_json::from_str(&saved).unwrap();
    assert_eq!(rules.pm10_day_ug, 120.0);
    assert_eq!(
        rules.measures_for(qingling::domain::dust::WarningLevel::Yellow),
        ["spray_roads"]
    );
    assert_eq!(rules.wind_suggest_ms, 8.0, "refused changes saved nothing");
    // The violation rules, the same way.
    let issues = |set: &str| set_rules(db_s, &["--dust-issues"], &[set]);
    assert!(issues("deadline_days=5").0);
    let (ok, err) = issues("deadline_days=0");
    assert!(
        !ok && err.contains("deadline_days must be 1 to 365"),
        "{err}"
    );
    let saved = setting(&db, "dust_issue_rules");
    assert!(saved.contains("\"deadline_days\":5"), "{saved}");
}

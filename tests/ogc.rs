//! OGC API - Features against the real server on an ephemeral port over the demo database,
//! checked with GDAL's own client (`ogrinfo` / `ogr2ogr` OAPIF, `gdaltransform`), OWSLib, and
//! SQL on the database itself.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::Command;

use common::*;
use serde_json::{Value, json};

fn token(c: &Client) -> String {
    c.token.clone().unwrap()
}

/// A request with any method and a GeoJSON body, as `c`, in English.
fn send(c: &Client, method: &str, path: &str, body: Option<&Value>) -> Response {
    c.in_lang("en").send_geojson(method, path, &[], body)
}

fn db(s: &Server) -> rusqlite::Connection {
    rusqlite::Connection::open(&s.db).unwrap()
}

/// How many features a layer holds.
fn features_in(conn: &rusqlite::Connection, layer: &str) -> qingling::store::Result<i64> {
    use qingling::store::Tx;
    qingling::store::sqlite::SqliteTx::new(conn)
        .features()
        .count(layer)
}

fn strings(conn: &rusqlite::Connection, sql: &str) -> BTreeSet<String> {
    column(conn, sql).into_iter().collect()
}

fn tool(name: &str, args: &[&str], env: &[(&str, String)]) -> (bool, String, String) {
    let mut cmd = Command::new(name);
    cmd.args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{name} must be installed (bash .ci/setup): {e}"));
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

fn gdal_env(c: &Client) -> Vec<(&'static str, String)> {
    vec![
        (
            "GDAL_HTTP_HEADERS",
            format!("Authorization: Bearer {}", token(c)),
        ),
        // Never a proxy for loopback.
        ("NO_PROXY", "127.0.0.1".into()),
        ("no_proxy", "127.0.0.1".into()),
    ]
}

/// The layer names `ogrinfo` lists for a data source.
fn ogr_layers(out: &str) -> BTreeSet<String> {
    out.lines()
        .filter_map(|l| {
            let (n, rest) = l.split_once(": ")?;
            n.trim().parse::<u32>().ok()?;
            Some(rest.split(' ').next()?.to_string())
        })
        .collect()
}

/// Every layer the layer files declare (every role may read some of each).
fn all_layers() -> Vec<String> {
    qingling::layers::Registry::builtin()
        .unwrap()
        .names()
        .into_iter()
        .map(String::from)
        .collect()
}

#[test]
fn the_landing_page_answers_programs_and_leaves_browsers_the_web_app() {
    let dir = tempfile::tempdir().unwrap();
    let web = dir.path().join("web");
    std::fs::create_dir(&web).unwrap();
    std::fs::write(
        web.join("index.html"),
        "<!doctype html><title>清零 app</title>",
    )
    .unwrap();
    let server = TestServer::demo().web_dir(web).start();
    let addr = server.addr;

    let browser = request(
        addr,
        "GET",
        "/",
        &[("Accept", "text/html,application/xhtml+xml,*/*;q=0.8")],
        None,
    );
    assert!(browser.body.contains("清零 app"), "{}", browser.body);
    // The service worker caches `/` with */*: still the app.
    let any = request(addr, "GET", "/", &[("Accept", "*/*")], None);
    assert!(any.body.contains("清零 app"));
    let json = request(addr, "GET", "/", &[("Accept", "application/json")], None);
    assert_eq!(json.status, 200);
    assert!(json.content_type().starts_with("application/json"));
    let v = json.json();
    let rels: Vec<&str> = strs(&v["links"], "rel");
    for want in ["self", "service-desc", "conformance", "data"] {
        assert!(rels.contains(&want), "{want} in {rels:?}");
    }
    let service_desc = items(&v["links"])
        .find(|l| l["rel"] == "service-desc")
        .unwrap();
    assert_eq!(
        service_desc["href"],
        format!("http://{addr}/api"),
        "links are absolute"
    );
    let f = request(addr, "GET", "/?f=json", &[("Accept", "text/html")], None);
    assert!(f.json()["links"].is_array());
    let html = request(addr, "GET", "/?f=html", &[], None);
    assert!(html.body.contains("OGC API") && html.body.contains("/collections"));
    // Behind a proxy, links follow what the client used.
    let proxied = request(
        addr,
        "GET",
        "/?f=json",
        &[
            ("X-Forwarded-Proto", "https"),
            ("X-Forwarded-Host", "gis.wuhai.example"),
        ],
        None,
    );
    assert!(
        proxied
            .body
            .contains("https://gis.wuhai.example/collections"),
        "{}",
        proxied.body
    );
}

#[test]
fn conformance_and_the_openapi_document_describe_all_four_parts() {
    let s = demo_server();
    let c = Client::anonymous(&s);
    let conf = c.get("/conformance").json();
    let classes: Vec<&str> = items(&conf["conformsTo"])
        .map(|v| v.as_str().unwrap())
        .collect();
    for part in [
        "ogcapi-features-1/1.0/conf/core",
        "ogcapi-features-1/1.0/conf/geojson",
        "ogcapi-features-1/1.0/conf/html",
        "ogcapi-features-1/1.0/conf/oas30",
        "ogcapi-features-2/1.0/conf/crs",
        "ogcapi-features-3/1.0/conf/filter",
        "ogcapi-features-3/1.0/conf/queryables",
        "cql2/1.0/conf/cql2-text",
        "cql2/1.0/conf/advanced-comparison-operators",
        "ogcapi-features-4/1.0/conf/create-replace-delete",
    ] {
        assert!(classes.iter().any(|c| c.ends_with(part)), "{part}");
    }
    let api = c.get("/api");
    assert_eq!(api.status, 200);
    assert!(
        api.content_type()
            .starts_with("application/vnd.oai.openapi+json")
    );
    let doc = api.json();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.0"));
    for l in all_layers() {
        assert!(doc["paths"][format!("/collections/{l}/items")]["get"].is_object());
    }
    assert!(doc["paths"]["/collections/mines/items"]["post"].is_object());
    assert!(doc["paths"]["/collections/fire_points/items"]["post"].is_null());
}

#[test]
fn gdal_lists_every_collection_each_role_may_read_and_copies_the_fires_exactly() {
    let s = demo_server();
    let url = format!("OAPIF:http://{}", s.addr);
    for user in ["manager", "owner", "patrol"] {
        let c = Client::login(&s, user);
        let (ok, out, err) = tool("ogrinfo", &["-ro", "-q", &url], &gdal_env(&c));
        assert!(ok, "{err}");
        let want: BTreeSet<String> = all_layers().into_iter().collect();
        assert_eq!(ogr_layers(&out), want, "{user}: {out}");
    }

    let manager = Client::login(&s, "manager");
    let conn = db(&s);
    let (ok, out, err) = tool(
        "ogrinfo",
        &["-ro", "-so", &url, "fire_points"],
        &gdal_env(&manager),
    );
    assert!(ok, "{err}");
    let n = count_fires(&s.db);
    assert!(
        out.contains(&format!("Feature Count: {n}")),
        "ogrinfo -so says\n{out}"
    );
    let dir = tempfile::tempdir().unwrap();
    // (who, layer, the key property, the database's rows by that key)
    for (user, layer, key, sql) in [
        (
            "manager",
            "fire_points",
            "uuid",
            "SELECT uuid, geom FROM fire_points",
        ),
        (
            "owner",
            "fire_points",
            "uuid",
            "SELECT uuid, geom FROM fire_points WHERE responsible_holder = '骆驼山示例煤业有限公司'",
        ),
        (
            "manager",
            "mines",
            "licence_no",
            "SELECT licence_no, geom FROM mines",
        ),
    ] {
        let c = Client::login(&s, user);
        let out = dir.path().join(format!("{user}-{layer}.json"));
        let (ok, _, err) = tool(
            "ogr2ogr",
            &["-f", "GeoJSON", out.to_str().unwrap(), &url, layer],
            &gdal_env(&c),
        );
        assert!(ok, "{err}");
        let got: Value = serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap();
        let features = features(&got);
        let mut stmt = conn.prepare(sql).unwrap();
        let rows: BTreeMap<String, Vec<u8>> = stmt
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert_eq!(features.len(), rows.len(), "{user} {layer}");
        // A sample of the geometries: every third feature, coordinate by coordinate.
        for f in features.iter().step_by(3) {
            let id = f["properties"][key].as_str().unwrap().to_string();
            let stored = qingling::store::gpkg::decode(&rows[&id]).unwrap();
            let got: geojson::Geometry = serde_json::from_value(f["geometry"].clone()).unwrap();
            let got: geo::Geometry<f64> = geo::Geometry::try_from(&got.value).unwrap();
            use geo::CoordsIter;
            let a: Vec<_> = stored.coords_iter().collect();
            let b: Vec<_> = got.coords_iter().collect();
            assert_eq!(a.len(), b.len(), "{layer} {id}");
            for (p, q) in a.iter().zip(&b) {
                assert!(
                    (p.x - q.x).abs() < 1e-9 && (p.y - q.y).abs() < 1e-9,
                    "{layer} {id}"
                );
            }
        }
    }
}

/// OWSLib's client, through the Python that .ci/setup gave it.
fn owslib_python() -> Option<String> {
    let venv = root().join("target/ogc-venv/bin/python");
    let candidates = [
        std::env::var("QINGLING_PYTHON").ok(),
        Some(venv.display().to_string()),
        Some("python3".into()),
    ];
    candidates.into_iter().flatten().find(|p| {
        Command::new(p)
            .args(["-c", "import owslib.ogcapi.features"])
            .output()
            .is_ok_and(|o| o.status.success())
    })
}

#[test]
fn owslib_reads_every_collection_with_the_database_counts() {
    let Some(python) = owslib_python() else {
        // tests/all.sh sets QINGLING_REQUIRE_OWSLIB=1 after .ci/setup installed it: there a
        // missing OWSLib is a failure, not a skip.
        assert!(
            std::env::var("QINGLING_REQUIRE_OWSLIB").is_err(),
            "OWSLib is not installed: run bash .ci/setup --tests"
        );
        eprintln!("OWSLib not installed; skipped (bash .ci/setup --tests installs it)");
        return;
    };
    let (s, [manager]) = demo_with(["manager"]);
    let script = r#"
import json, sys
from owslib.ogcapi.features import Features
url, token = sys.argv[1], sys.argv[2]
api = Features(url, headers={"Authorization": "Bearer " + token, "Accept": "application/json"})
out = {"conformance": len(api.conformance()["conformsTo"]), "api": api.api()["openapi"], "counts": {}, "queryables": {}}
for cid in api.feature_collections():
    api.collection(cid)
    out["queryables"][cid] = sorted(api.collection_queryables(cid)["properties"])
    n, offset = 0, 0
    while True:
        page = api.collection_items(cid, limit=50, offset=offset)
        n += page["numberReturned"]
        if not any(l["rel"] == "next" for l in page["links"]):
            break
        offset += page["numberReturned"]
    out["counts"][cid] = n
one = api.collection_items("fire_points", filter="status = 'treating' AND temp_c > 100")
out["filtered"] = len(one["features"])
print(json.dumps(out))
"#;
    let (ok, out, err) = tool(
        &python,
        &[
            "-c",
            script,
            &format!("http://{}", s.addr),
            &token(&manager),
        ],
        &[("NO_PROXY", "127.0.0.1".into())],
    );
    assert!(ok, "{err}");
    let v: Value = serde_json::from_str(out.trim()).unwrap();
    assert!(v["api"].as_str().unwrap().starts_with("3.0"));
    let conn = db(&s);
    for l in all_layers() {
        let n = features_in(&conn, &l).unwrap();
        assert_eq!(v["counts"][&l], json!(n), "{l}");
    }
    assert!(
        v["queryables"]["fire_points"]
            .as_array()
            .unwrap()
            .contains(&json!("status"))
    );
    let want = count(
        &s.db,
        "SELECT count(*) FROM fire_points WHERE status = 'treating' AND temp_c > 100",
    );
    assert_eq!(v["filtered"], json!(want));
}

#[test]
fn gauss_kruger_output_is_within_a_centimetre_of_gdals_own_transform() {
    let (_s, [m]) = demo_with(["manager"]);
    let lonlat = m.get("/collections/fire_points/items?limit=20").json();
    let gk = m.get(
        "/collections/fire_points/items?limit=20&crs=http://www.opengis.net/def/crs/EPSG/0/4545",
    );
    assert_eq!(gk.status, 200, "{}", gk.body);
    assert_eq!(
        gk.header("content-crs"),
        Some("<http://www.opengis.net/def/crs/EPSG/0/4545>")
    );
    let gk = gk.json();
    let input: String = items(&lonlat["features"])
        .map(|f| {
            let c = &f["geometry"]["coordinates"];
            format!("{} {}\n", c[0], c[1])
        })
        .collect();
    let mut child = Command::new("gdaltransform")
        .args(["-s_srs", "EPSG:4326", "-t_srs", "EPSG:4545", "-output_xy"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("gdaltransform (bash .ci/setup)");
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let expected: Vec<(f64, f64)> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            let v: Vec<f64> = l.split_whitespace().map(|x| x.parse().unwrap()).collect();
            (v[0], v[1])
        })
        .collect();
    let got = features(&gk);
    assert_eq!(got.len(), expected.len());
    assert!(!got.is_empty());
    for (f, (e, n)) in got.iter().zip(&expected) {
        // Part 2: EPSG:4545's axis order, northing (X) first; gdaltransform prints easting first.
        let c = &f["geometry"]["coordinates"];
        let (x, y) = (c[0].as_f64().unwrap(), c[1].as_f64().unwrap());
        assert!(
            (x - n).abs() < 0.01 && (y - e).abs() < 0.01,
            "{x},{y} vs {e},{n}"
        );
    }
    // A bbox in EPSG:4545 around the first fire finds it.
    let c = &got[0]["geometry"]["coordinates"];
    let (n, e) = (c[0].as_f64().unwrap(), c[1].as_f64().unwrap());
    let boxed = m
        .get(&format!(
            "/collections/fire_points/items?bbox={},{},{},{}&bbox-crs=EPSG:4545&limit=1000",
            n - 5.0,
            e - 5.0,
            n + 5.0,
            e + 5.0
        ))
        .json();
    assert!(feature_ids(&boxed).contains(got[0]["id"].as_str().unwrap()));
    // EPSG:4326 is latitude first; CRS84 longitude first.
    let one = m
        .get(&format!(
            "/collections/fire_points/items/{}?crs=EPSG:4326",
            got[0]["id"].as_str().unwrap()
        ))
        .json();
    let plain = &lonlat["features"][0]["geometry"]["coordinates"];
    assert_eq!(one["geometry"]["coordinates"][0], plain[1]);
    let bad = m.get("/collections/fire_points/items?crs=EPSG:3857");
    assert_eq!(bad.status, 400);
    assert!(bad.message().contains("4545"));
}

#[test]
fn cql2_filters_match_the_same_features_as_sql() {
    let (s, [m]) = demo_with(["manager"]);
    let conn = db(&s);
    for (filter, sql) in [
        (
            "status = 'treating' AND temp_c > 100",
            "status = 'treating' AND temp_c > 100",
        ),
        (
            "status IN ('reported','confirmed') OR (kind = 'gangue_heap' AND NOT temp_c < 300)",
            "status IN ('reported','confirmed') OR (kind = 'gangue_heap' AND NOT temp_c < 300)",
        ),
        ("temp_c BETWEEN 200 AND 400", "temp_c BETWEEN 200 AND 400"),
        ("code LIKE 'WH-%1'", "code GLOB 'WH-*1'"),
        (
            "cleared_at IS NULL AND status <> 'dismissed'",
            "cleared_at IS NULL AND status <> 'dismissed'",
        ),
        (
            "reported_at >= TIMESTAMP('2000-01-01T00:00:00Z') AND CASEI(status) = casei('CLEARED')",
            "status = 'cleared'",
        ),
    ] {
        let page = m.get(&format!(
            "/collections/fire_points/items?limit=1000&filter-lang=cql2-text&filter={}",
            encode(filter)
        ));
        assert_eq!(page.status, 200, "{filter}: {}", page.body);
        let want = strings(&conn, &format!("SELECT uuid FROM fire_points WHERE {sql}"));
        assert!(
            !want.is_empty(),
            "{filter} should match something in the demo"
        );
        assert_eq!(feature_ids(&page.json()), want, "{filter}");
    }
    // Property equality and datetime, against SQL too.
    let day: String = query_one(
        &s.db,
        "SELECT substr(min(reported_at), 1, 10) FROM fire_points",
    );
    let page = m
        .get(&format!(
            "/collections/fire_points/items?limit=1000&status=cleared&datetime={day}/.."
        ))
        .json();
    let want = strings(
        &conn,
        &format!(
            "SELECT uuid FROM fire_points WHERE status = 'cleared' AND reported_at >= '{day}'"
        ),
    );
    assert_eq!(feature_ids(&page), want);
    // Mistakes are 400s that say what to do.
    for (q, needle) in [
        ("filter=colour%20%3D%20'red'", "unknown property colour"),
        ("filter=temp_c%20%3D%20'hot'", "compares a number with text"),
        ("filter=status%20%3D", "end of the filter"),
        ("filter-lang=cql2-json&filter=x", "cql2-text"),
        ("colour=red", "Unknown query parameter \"colour\""),
        ("datetime=yesterday", "RFC 3339"),
    ] {
        let r = send(
            &m,
            "GET",
            &format!("/collections/fire_points/items?{q}"),
            None,
        );
        assert_eq!(r.status, 400, "{q}");
        let msg = r.message();
        assert!(msg.contains(needle), "{q}: {msg}");
    }
    let r = send(
        &m,
        "GET",
        "/collections/mines/items?datetime=2024-01-01",
        None,
    );
    assert_eq!(r.status, 400);
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Hostile filters are refused with a 400 that names the bound, before any SQL is built;
/// filters right at the bounds are answered (SQLite copes with what the parser lets through).
#[test]
fn deep_long_and_sprawling_filters_are_bounded() {
    let (_s, [m]) = demo_with(["manager"]);
    let get = |filter: &str, lang: &str| {
        let path = format!("/collections/fire_points/items?filter={}", encode(filter));
        let auth = format!("Bearer {}", token(&m));
        request(
            m.addr,
            "GET",
            &path,
            &[("Authorization", &auth), ("Accept-Language", lang)],
            None,
        )
    };
    let nots = |n: usize| format!("{}temp_c > 1", "NOT ".repeat(n));
    let mixed = |n: usize| format!("{}temp_c > 1{}", "NOT (".repeat(n), ")".repeat(n));
    let chain = |n: usize| vec!["temp_c > 1"; n].join(" OR ");
    for ok in [nots(19), mixed(9), chain(100)] {
        let r = get(&ok, "en");
        assert_eq!(r.status, 200, "{ok}: {}", r.body);
    }
    for (bad, key, needle) in [
        (nots(50), "filter_too_deep", "at most 20 levels"),
        (mixed(30), "filter_too_deep", "at most 20 levels"),
        (chain(150), "filter_too_many_terms", "at most 100"),
        (
            format!("name = '{}'", "x".repeat(9000)),
            "filter_too_long",
            "at most 8192 characters",
        ),
    ] {
        let r = get(&bad, "en");
        assert_eq!(r.status, 400, "{}: {}", &bad[..40], r.body);
        assert_eq!(r.json()["error"], key);
        assert!(r.message().contains(needle), "{}", r.body);
    }
    let r = get(&nots(50), "zh");
    assert_eq!(r.status, 400);
    assert!(r.message().contains("20 层"), "{}", r.body);
}

#[test]
fn a_bbox_page_is_the_scoped_and_filtered_list_cut_to_the_window() {
    let names = ["manager", "district", "owner", "patrol"];
    let (_s, users) = demo_with(names);
    let ids = |page: &Value| -> Vec<String> {
        features(page)
            .iter()
            .map(|f| f["id"].as_str().unwrap().to_string())
            .collect()
    };
    for (user, c) in names.iter().zip(&users) {
        let all = c.get("/collections/fire_points/items?limit=1000").json();
        let xs: Vec<f64> = features(&all)
            .iter()
            .map(|f| f["geometry"]["coordinates"][0].as_f64().unwrap())
            .collect();
        assert!(xs.len() > 2, "{user} sees fires");
        // A window holding about half of what this user sees, its west edge on a fire.
        let mut sorted = xs.clone();
        sorted.sort_by(f64::total_cmp);
        let (west, east) = (sorted[sorted.len() / 4], sorted[3 * sorted.len() / 4]);
        for filter in [
            "",
            "&status=cleared",
            "&filter=status%20%3C%3E%20%27cleared%27",
        ] {
            let unboxed = c
                .get(&format!(
                    "/collections/fire_points/items?limit=1000{filter}"
                ))
                .json();
            let want: Vec<String> = features(&unboxed)
                .iter()
                .filter(|f| {
                    let x = f["geometry"]["coordinates"][0].as_f64().unwrap();
                    (west..=east).contains(&x)
                })
                .map(|f| f["id"].as_str().unwrap().to_string())
                .collect();
            let boxed = c
                .get(&format!(
                    "/collections/fire_points/items?bbox={west},-90,{east},90&limit=1000{filter}"
                ))
                .json();
            assert_eq!(ids(&boxed), want, "{user} {filter}");
            assert_eq!(boxed["numberMatched"], json!(want.len()), "{user} {filter}");
            // Paged, the window's pages join up to the same list, in the same order.
            let mut paged = vec![];
            let mut offset = 0;
            loop {
                let page = c
                    .get(&format!(
                        "/collections/fire_points/items?bbox={west},-90,{east},90&limit=2&offset={offset}{filter}"
                    ))
                    .json();
                let got = ids(&page);
                if got.is_empty() {
                    break;
                }
                offset += got.len();
                paged.extend(got);
            }
            assert_eq!(paged, want, "{user} {filter} paged");
        }
    }
}

#[test]
fn paging_counts_and_owners_never_learn_the_reporter() {
    let (s, [m]) = demo_with(["manager"]);
    let n = count_fires(&s.db) as usize;
    let first = m.get("/collections/fire_points/items?limit=10").json();
    assert_eq!(first["numberMatched"], json!(n));
    assert_eq!(first["numberReturned"], json!(10));
    let mut seen = feature_ids(&first);
    let mut next = first;
    while let Some(href) = items(&next["links"])
        .find(|l| l["rel"] == "next")
        .map(|l| l["href"].as_str().unwrap().to_string())
    {
        assert!(href.starts_with(&format!("http://{}/", s.addr)), "{href}");
        next = m.get(&href).json();
        seen.extend(feature_ids(&next));
    }
    assert_eq!(seen.len(), n, "the next links walk every fire once");

    let owner = Client::login(&s, "owner");
    let page = owner
        .get("/collections/fire_points/items?limit=1000")
        .json();
    let features = features(&page);
    assert!(!features.is_empty());
    assert!(
        features
            .iter()
            .all(|f| f["properties"].get("reported_by").is_none())
    );
    let q = owner.get("/collections/fire_points/queryables").json();
    assert!(q["properties"].get("reported_by").is_none());
    assert!(q["properties"]["status"]["enum"].is_array());
    let r = owner.get("/collections/fire_points/items?filter=reported_by%20%3D%20'patrol'");
    assert_eq!(r.status, 400, "no filtering on what one may not see");
    let one = owner.get(&format!(
        "/collections/fire_points/items/{}",
        features[0]["id"].as_str().unwrap()
    ));
    assert!(one.json()["properties"].get("reported_by").is_none());
    assert!(
        m.get("/collections/fire_points/queryables").json()["properties"]["reported_by"]
            .is_object()
    );
}

#[test]
fn every_page_has_an_html_view_with_nothing_external() {
    let (s, [m]) = demo_with(["manager"]);
    let fire = m.get("/collections/fire_points/items?limit=1").json()["features"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    for path in [
        "/?f=html".to_string(),
        "/conformance?f=html".into(),
        "/collections?f=html".into(),
        "/collections/mines?f=html".into(),
        "/collections/mines/items?f=html".into(),
        "/collections/fire_points/items?f=html&limit=5".into(),
        format!("/collections/fire_points/items/{fire}?f=html"),
        "/collections/fire_points/queryables?f=html".into(),
    ] {
        let r = m.get(&path);
        assert_eq!(r.status, 200, "{path}");
        assert!(r.content_type().starts_with("text/html"), "{path}");
        assert!(!r.body.contains("<script"), "{path}");
        assert!(!r.body.contains("<link"), "{path}");
        assert!(!r.body.contains("src=\"http"), "{path}");
    }
    // A browser's Accept gets HTML without f.
    let auth = format!("Bearer {}", token(&m));
    let r = request(
        s.addr,
        "GET",
        "/collections/fire_points/items?limit=3",
        &[("Authorization", &auth), ("Accept", "text/html,*/*;q=0.8")],
        None,
    );
    assert!(
        r.body.contains("<svg") && r.body.contains("<table"),
        "{}",
        r.body
    );
}

/// A mine's stored geometry.
fn mine_geom(s: &Server, fid: impl std::fmt::Display) -> Vec<u8> {
    query_one(&s.db, &format!("SELECT geom FROM mines WHERE fid = {fid}"))
}

/// A point in a district and in no mine, dump or heap: its fire goes to the district.
fn open_ground(s: &Server) -> [f64; 2] {
    let conn = db(s);
    let areas = qingling::store::areas::load(&conn).unwrap();
    let index = qingling::domain::responsibility::ResponsibilityIndex::new(areas);
    for i in 0..400 {
        let p = [
            106.6 + (i % 20) as f64 * 0.02,
            39.3 + (i / 20) as f64 * 0.03,
        ];
        if let Ok(r) = index.assign(geo::Point::new(p[0], p[1]))
            && r.via.is_none()
            && r.candidates.is_empty()
        {
            return p;
        }
    }
    panic!("no open ground in the demo districts");
}

fn square(at: [f64; 2], d: f64) -> Value {
    let [x, y] = at;
    json!({"type": "Polygon", "coordinates": [[[x - d, y - d], [x + d, y - d], [x + d, y + d], [x - d, y + d], [x - d, y - d]]]})
}

fn fire_responsible(c: &Client, id: &str) -> Value {
    c.get(&format!("/api/fires/{id}")).json()["properties"]["responsible"].clone()
}

#[test]
fn a_manager_edits_mining_rights_like_qgis_and_the_fires_inside_follow() {
    let (s, [m, patrol, owner]) = demo_with(["manager", "patrol", "owner"]);

    // QGIS asks OPTIONS first and turns editing on from Allow.
    let o = send(&m, "OPTIONS", "/collections/mines/items", None);
    assert!(o.status == 204 || o.status == 200);
    assert!(
        o.header("allow").unwrap().contains("POST"),
        "{:?}",
        o.headers
    );
    let o = send(&m, "OPTIONS", "/collections/mines/items/unknown_id", None);
    let allow = o.header("allow").unwrap();
    assert!(allow.contains("PUT") && allow.contains("PATCH") && allow.contains("DELETE"));
    let o = send(&patrol, "OPTIONS", "/collections/mines/items", None);
    assert!(!o.header("allow").unwrap().contains("POST"));

    // An open fire on ground no mine covers belongs to the district.
    let at = open_ground(&s);
    let r = patrol.post(
        "/api/fires",
        &fire_feature(
            at,
            json!({"kind": "coal_seam", "temp_c": 320, "position_source": "map"}),
        ),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let fire = r.json()["id"].as_str().unwrap().to_string();
    assert_eq!(fire_responsible(&m, &fire)["party"], "district");

    let mine = json!({"type": "Feature", "geometry": square(at, 0.004), "properties": {
        "name": "新划矿区", "licence_no": "C1503002026001", "holder": "新划矿业有限公司",
        "kind": "open_pit", "status": "producing"}});
    for who in [&patrol, &owner] {
        let r = send(who, "POST", "/collections/mines/items", Some(&mine));
        assert_eq!(r.status, 403, "{}", r.body);
    }
    let before = features_in(&db(&s), "mines").unwrap();
    let r = send(&m, "POST", "/collections/mines/items", Some(&mine));
    assert_eq!(r.status, 201, "{}", r.body);
    let location = r.header("location").unwrap().to_string();
    assert!(location.starts_with(&format!("http://{}/collections/mines/items/", s.addr)));
    let created = m.get(&location).json();
    assert_eq!(created["properties"]["holder"], "新划矿业有限公司");
    assert!(
        created["properties"]["district_code"].is_string(),
        "derived"
    );
    let fid = created["id"].to_string();
    let item = format!("/collections/mines/items/{fid}");
    let listed = m.get("/collections/mines/items?limit=1000").json();
    assert!(feature_ids(&listed).contains(&fid));
    assert_eq!(features_in(&db(&s), "mines").unwrap(), before + 1);

    // The open fire inside is the new holder's now, by a system reassign event.
    let resp = fire_responsible(&m, &fire);
    assert_eq!(resp["name"], "新划矿业有限公司");
    let events = m.get(&format!("/api/fires/{fire}")).json()["properties"]["events"].clone();
    let last = events.as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (last["action"].as_str(), last["actor"].as_str()),
        (Some("reassign"), Some("system"))
    );
    // New reports inside use the new polygon at once.
    let again = patrol.post(
        "/api/fires",
        &fire_feature(
            [at[0] + 0.001, at[1]],
            json!({"kind": "coal_seam", "position_source": "map"}),
        ),
    );
    assert_eq!(
        again.json()["properties"]["responsible"]["name"],
        "新划矿业有限公司"
    );

    // PATCH the holder: the fire follows.
    let r = send(
        &m,
        "PATCH",
        &item,
        Some(&json!({"properties": {"holder": "改名矿业有限公司"}})),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(fire_responsible(&m, &fire)["name"], "改名矿业有限公司");

    // A self-intersecting boundary is refused and nothing changes.
    let stored = |s: &Server| mine_geom(s, &fid);
    let geom_before = stored(&s);
    let [x, y] = at;
    let bowtie = json!({"type": "Feature", "geometry": {"type": "Polygon", "coordinates": [[[x - 0.004, y - 0.004], [x + 0.004, y + 0.004], [x + 0.004, y - 0.004], [x - 0.004, y + 0.004], [x - 0.004, y - 0.004]]]},
        "properties": mine["properties"]});
    for (method, body) in [
        ("PUT", &bowtie),
        ("PATCH", &json!({"geometry": bowtie["geometry"]})),
    ] {
        let r = send(&m, method, &item, Some(body));
        assert_eq!(r.status, 422, "{method}: {}", r.body);
        assert!(r.message().contains("Invalid geometry"));
    }
    assert_eq!(stored(&s), geom_before);
    assert_eq!(fire_responsible(&m, &fire)["name"], "改名矿业有限公司");
    let r = send(&m, "POST", "/collections/mines/items", Some(&bowtie));
    assert_eq!(r.status, 422);
    let r = send(
        &m,
        "PATCH",
        &item,
        Some(&json!({"properties": {"kind": "opencast"}})),
    );
    assert_eq!(r.status, 422);
    assert!(r.message().contains("kind"));

    // PUT replaces the whole feature (here in EPSG:4545, as QGIS sends with Content-Crs).
    let mut moved = mine.clone();
    moved["properties"]["holder"] = json!("新划矿业有限公司");
    let r = send(&m, "PUT", &item, Some(&moved));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(fire_responsible(&m, &fire)["name"], "新划矿业有限公司");
    let in_gk = m
        .get(&format!("/collections/mines/items/{fid}?crs=EPSG:4545"))
        .json();
    let gk_feature = json!({"type": "Feature", "geometry": in_gk["geometry"], "properties": moved["properties"]});
    let r = m.in_lang("en").send_geojson(
        "PUT",
        &item,
        &[(
            "Content-Crs",
            "<http://www.opengis.net/def/crs/EPSG/0/4545>",
        )],
        Some(&gk_feature),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    let back = r.json();
    let a = &back["geometry"]["coordinates"][0][0][0];
    let b = &created["geometry"]["coordinates"][0][0][0];
    assert!((a[0].as_f64().unwrap() - b[0].as_f64().unwrap()).abs() < 1e-7);

    // The fire layers are written only through fire events.
    let r = send(&m, "POST", "/collections/fire_points/items", Some(&mine));
    assert_eq!(r.status, 405);
    assert!(r.header("allow").unwrap().contains("GET"));
    assert!(r.message().contains("/api/fires"));

    // DELETE: the fire goes back to the district.
    let r = send(&m, "DELETE", &item, None);
    assert_eq!(r.status, 204);
    assert_eq!(m.get(&location).status, 404);
    assert_eq!(fire_responsible(&m, &fire)["party"], "district");
    assert_eq!(send(&m, "DELETE", &item, None).status, 404);

    // The database is still a valid GeoPackage after all that.
    check_geopackage(&s.db);
}

/// A polygon of more vertices than the limit is refused before the write, naming the limit and
/// the count; nothing is written.
#[test]
fn an_edit_of_too_many_vertices_is_refused_and_nothing_written() {
    let (s, [m]) = demo_with(["manager"]);
    let at = open_ground(&s);
    let n = 12_000;
    let ring: Vec<Value> = (0..=n)
        .map(|i| {
            let a = std::f64::consts::TAU * f64::from(i % n) / f64::from(n);
            json!([at[0] + 0.004 * a.cos(), at[1] + 0.004 * a.sin()])
        })
        .collect();
    let geometry = json!({"type": "Polygon", "coordinates": [ring]});
    let mine = json!({"type": "Feature", "geometry": geometry, "properties": {
        "name": "千边矿区", "licence_no": "C1503002026099", "holder": "千边矿业有限公司",
        "kind": "open_pit", "status": "producing"}});
    let count = || features_in(&db(&s), "mines").unwrap();
    let before = count();
    let r = send(&m, "POST", "/collections/mines/items", Some(&mine));
    assert_eq!(r.status, 422, "{}", r.body);
    assert_eq!(r.json()["error"], "too_many_vertices");
    let msg = r.message();
    assert!(msg.contains("12001") && msg.contains("10000"), "{msg}");
    assert_eq!(count(), before);
    let fid: i64 = query_one(&s.db, "SELECT min(fid) FROM mines");
    let geom = |s: &Server| mine_geom(s, fid);
    let old = geom(&s);
    let item = format!("/collections/mines/items/{fid}");
    let stored = m.get(&item).json();
    for (method, body) in [
        ("PATCH", json!({"geometry": mine["geometry"]})),
        (
            "PUT",
            json!({"type": "Feature", "geometry": mine["geometry"], "properties": stored["properties"]}),
        ),
    ] {
        let r = send(&m, method, &item, Some(&body));
        assert_eq!(r.status, 422, "{method}: {}", r.body);
    }
    assert_eq!(geom(&s), old, "nothing written");
}

/// A district holding open fires can be neither deleted nor moved away from them: 409 naming how
/// many, and nothing changes. Its neighbours' edits that strand nobody still pass.
#[test]
fn a_district_with_open_fires_cannot_be_deleted_or_moved_away_from_them() {
    let (s, [m]) = demo_with(["manager"]);
    let conn = db(&s);
    let open =
        "status IN ('reported','confirmed','treating','reignited','controlled','extinguished')";
    let (fid, code, n): (i64, String, i64) = row(
        &conn,
        &format!(
            "SELECT d.fid, d.code, count(*) FROM districts d JOIN fire_points f
             ON f.district_code = d.code WHERE f.{open} GROUP BY d.fid ORDER BY 3 DESC LIMIT 1"
        ),
        [],
    );
    assert!(n > 0);
    let (issues,): (i64,) = row(
        &conn,
        "SELECT count(*) FROM dust_issues WHERE district_code = ?1 AND status <> 'verified'",
        [&code],
    );
    let cases = n + issues;
    let snapshot = |conn: &rusqlite::Connection| -> (i64, Vec<u8>, BTreeSet<String>) {
        let (districts,) = row(conn, "SELECT count(*) FROM districts", []);
        let (geom,) = row(
            conn,
            &format!("SELECT geom FROM districts WHERE fid = {fid}"),
            [],
        );
        let fires = strings(
            conn,
            &format!(
                "SELECT uuid || responsible_party || responsible_name || coalesce(district_code, '')
                 FROM fire_points WHERE {open}"
            ),
        );
        (districts, geom, fires)
    };
    let before = snapshot(&conn);
    let item = format!("/collections/districts/items/{fid}");
    let r = send(&m, "DELETE", &item, None);
    assert_eq!(r.status, 409, "{}", r.body);
    assert_eq!(r.json()["error"], "area_has_open_cases");
    assert_eq!(r.json()["detail"]["open_cases"], json!(cases), "{}", r.body);
    assert!(r.message().contains(&format!("{cases} open")), "{}", r.body);
    // Replacing the boundary with a small square far from its fires is the same.
    let stored = m.get(&item).json();
    let far = json!({"type": "Feature", "geometry": square([100.0, 30.0], 0.01),
        "properties": stored["properties"]});
    for (method, body) in [
        ("PUT", far.clone()),
        ("PATCH", json!({"geometry": far["geometry"]})),
    ] {
        let r = send(&m, method, &item, Some(&body));
        assert_eq!(r.status, 409, "{method}: {}", r.body);
    }
    assert_eq!(snapshot(&conn), before, "nothing changed");
    // New reports there are still taken.
    let at = open_ground(&s);
    let r = Client::login(&s, "patrol").post(
        "/api/fires",
        &fire_feature(at, json!({"kind": "coal_seam", "position_source": "map"})),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    // An edit that keeps its fires inside passes (the same geometry, another name).
    let r = send(
        &m,
        "PATCH",
        &item,
        Some(&json!({"properties": {"name": format!("{code} 改名")}})),
    );
    assert_eq!(r.status, 200, "{}", r.body);
}

/// `ogrinfo` lists the styles table beside every layer, and GDAL's validator passes.
fn check_geopackage(db: &Path) {
    let db_s = db.to_str().unwrap();
    let (ok, out, err) = tool("ogrinfo", &["-ro", "-q", db_s], &[]);
    assert!(ok, "{err}");
    let layers = ogr_layers(&out);
    for l in all_layers().iter().chain(&["layer_styles".to_string()]) {
        assert!(layers.contains(l), "{l} in {out}");
    }
    let (ok, out, err) = tool(
        "ogrinfo",
        &[
            "-ro",
            "-q",
            db_s,
            "-sql",
            "SELECT f_table_name, useAsDefault FROM layer_styles WHERE useAsDefault = 1",
        ],
        &[],
    );
    assert!(ok, "{err}");
    for l in all_layers() {
        assert!(
            out.contains(&format!("f_table_name (String) = {l}")),
            "{out}"
        );
    }
    let validator = "/usr/lib/python3/dist-packages/osgeo_utils/samples/validate_gpkg.py";
    let (ok, out, err) = tool(
        "/usr/bin/python3",
        &[validator, "--extra", "--warning-as-error", db_s],
        &[],
    );
    assert!(ok, "validator: {out}{err}");
}

#[test]
fn the_demo_database_opens_styled_and_valid() {
    let (_dir, db) = demo_db();
    check_geopackage(&db);
    let qml: String = query_one(
        &db,
        "SELECT styleQML FROM layer_styles WHERE f_table_name = 'fire_points' AND f_table_schema = '' AND f_geometry_column = 'geom'",
    );
    assert!(
        qml.contains("categorizedSymbol") && qml.contains("治理中"),
        "{qml}"
    );
    let title: String = query_one(
        &db,
        "SELECT identifier FROM gpkg_contents WHERE table_name = 'layer_styles'",
    );
    assert_eq!(title, "图层样式");
}

/// A page of items written straight from the rows as GeoJSON text is the page of feature
/// objects, field for field (hidden fields left out), for every layer of the demo.
#[test]
fn items_written_as_text_are_the_feature_objects() {
    use qingling::store::features::{ItemQuery, Visible};
    let (_dir, path) = demo_db();
    let db = open_store(&path);
    let registry = qingling::layers::Registry::builtin().unwrap();
    let mut layers = 0;
    for layer in registry.iter() {
        let view = Visible::all(layer);
        // Hide the second public field and any note, as a role's hidden fields would be.
        let hidden: Vec<String> = layer
            .public_fields()
            .map(|f| f.name.clone())
            .enumerate()
            .filter(|(i, n)| *i == 1 || n == "note")
            .map(|(_, n)| n)
            .collect();
        for (limit, offset) in [(3, 0), (3, 2), (1000, 0)] {
            let q = ItemQuery {
                limit,
                offset,
                ..ItemQuery::default()
            };
            let (page, (n, more, text)) = db
                .read_blocking(|tx| {
                    let page = tx.features().items(&view, &q)?;
                    let mut out = vec![];
                    let (n, more) = tx.features().items_json(&view, &q, &hidden, &mut out)?;
                    Ok::<_, qingling::error::Error>((page, (n, more, out)))
                })
                .unwrap();
            let written: Value = serde_json::from_slice(&[b"[".as_slice(), &text, b"]"].concat())
                .unwrap_or_else(|e| panic!("{}: {e}", layer.name));
            let mut objects = page.features.clone();
            for f in &mut objects {
                let p = f["properties"].as_object_mut().unwrap();
                for h in &hidden {
                    p.remove(h);
                }
            }
            assert_eq!(
                written,
                Value::Array(objects),
                "{} {limit}/{offset}",
                layer.name
            );
            assert_eq!(
                (n, more),
                (page.features.len(), page.more),
                "{}",
                layer.name
            );
        }
        layers += 1;
    }
    assert!(layers >= 4);
}

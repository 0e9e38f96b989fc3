//! The map's vector tiles (OGC API - Tiles) on the real server over the demo database: the
//! tiles decoded and checked against what `/items` gives each role (layer name, features,
//! properties, scope), clusters summing to the points, ETag and 304, 204 for an empty tile,
//! localised 400s, the OGC links and API document, and GDAL's MVT driver reading a tile.
#![allow(clippy::unwrap_used)]

mod common;
#[path = "common/mvt.rs"]
mod mvt;

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;

use common::raw::{self, Raw};
use common::{Client, Server, demo_server};
use serde_json::Value;

const DISTRICT: &str = "150303";
const HOLDER: &str = "骆驼山示例煤业有限公司";

struct Reader {
    addr: SocketAddr,
    auth: String,
    client: Client,
}

impl Reader {
    fn new(s: &Server, role: &str) -> Reader {
        let client = Client::login(s, role);
        Reader {
            addr: s.addr,
            auth: format!("Bearer {}", client.token.clone().unwrap()),
            client,
        }
    }

    fn tile_at(&self, layer: &str, z: u32, x: u32, y: u32, extra: &[(&str, &str)]) -> Raw {
        let mut h = vec![("Authorization", self.auth.as_str())];
        h.extend_from_slice(extra);
        raw::get(
            self.addr,
            &format!("/collections/{layer}/tiles/WebMercatorQuad/{z}/{y}/{x}"),
            &h,
        )
    }

    /// The tile's one layer (named after the collection), or nothing for a 204.
    fn features(&self, layer: &str, z: u32, x: u32, y: u32) -> Vec<mvt::Feature> {
        let r = self.tile_at(layer, z, x, y, &[]);
        match r.status {
            204 => vec![],
            200 => {
                assert_eq!(
                    r.headers["content-type"],
                    "application/vnd.mapbox-vector-tile"
                );
                let layers = mvt::decode(&r.body);
                assert_eq!(layers.len(), 1, "one layer");
                let (extent, features) = layers.get(layer).expect("named after the collection");
                assert_eq!(*extent, 4096);
                assert!(!features.is_empty(), "a 200 tile has features");
                features.clone()
            }
            other => panic!("{layer} {z}/{x}/{y}: {other}"),
        }
    }

    /// Every feature of a layer this reader may see: id → (lon, lat) of its first position.
    fn items(&self, layer: &str) -> BTreeMap<String, Value> {
        let r = self
            .client
            .get(&format!("/collections/{layer}/items?limit=10000"));
        assert_eq!(r.status, 200, "{}", r.body);
        r.json()["features"]
            .as_array()
            .unwrap()
            .iter()
            .map(|f| {
                let id = match &f["id"] {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                (id, f.clone())
            })
            .collect()
    }
}

fn tile_of(lon: f64, lat: f64, z: u32) -> (u32, u32) {
    let n = f64::from(1u32 << z);
    let x = ((lon + 180.0) / 360.0 * n).floor() as u32;
    let phi = lat.to_radians();
    let y = ((1.0 - (phi.tan() + 1.0 / phi.cos()).ln() / std::f64::consts::PI) / 2.0 * n).floor()
        as u32;
    (x, y)
}

fn position(f: &Value) -> (f64, f64) {
    let c = &f["geometry"]["coordinates"];
    (c[0].as_f64().unwrap(), c[1].as_f64().unwrap())
}

fn id_of(f: &mvt::Feature) -> String {
    match &f.props["id"] {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// The tiles at zoom `z` that hold the given points.
fn tiles_of(points: impl Iterator<Item = (f64, f64)>, z: u32) -> BTreeSet<(u32, u32)> {
    points.map(|(x, y)| tile_of(x, y, z)).collect()
}

#[test]
fn each_role_gets_the_fires_it_may_see_as_points_and_as_clusters_that_add_up() {
    let s = demo_server();
    for role in ["manager", "district", "owner", "patrol"] {
        let r = Reader::new(&s, role);
        let items = r.items("fire_points");
        assert!(!items.is_empty(), "{role} sees fires");
        if role == "owner" {
            assert!(
                items
                    .values()
                    .all(|f| f["properties"]["responsible_holder"] == HOLDER)
            );
        }
        if role == "district" {
            assert!(
                items
                    .values()
                    .all(|f| f["properties"]["district_code"] == DISTRICT)
            );
        }
        // Zoom 14: the features themselves, each once, exactly those the role may see.
        let mut seen: BTreeMap<String, mvt::Feature> = BTreeMap::new();
        for (x, y) in tiles_of(items.values().map(position), 14) {
            for f in r.features("fire_points", 14, x, y) {
                assert_eq!(f.kind, 1, "a point");
                assert!(!f.props.contains_key("cluster"));
                let id = id_of(&f);
                assert!(seen.insert(id.clone(), f).is_none(), "{id} twice");
            }
        }
        let want: BTreeSet<&String> = items.keys().collect();
        let got: BTreeSet<&String> = seen.keys().collect();
        assert_eq!(
            got, want,
            "{role}: the zoom-14 tiles hold exactly the fires in scope"
        );
        for (id, f) in &seen {
            let p = &items[id]["properties"];
            assert_eq!(f.str("code"), p["code"].as_str(), "{id}");
            assert_eq!(f.str("status"), p["status"].as_str(), "{id}");
            assert_eq!(f.str("kind"), p["kind"].as_str(), "{id}");
            let status = p["status"].as_str().unwrap();
            let burning = matches!(status, "reported" | "confirmed" | "treating" | "reignited");
            assert_eq!(f.props["burning"], Value::from(burning), "{id}");
            let deadline = p["deadline"].as_str().unwrap_or("");
            let now = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string();
            assert_eq!(
                f.props["overdue"],
                Value::from(burning && !deadline.is_empty() && deadline < now.as_str()),
                "{id}"
            );
            assert!(f.props["watched"].is_boolean());
            assert!(f.id.is_some());
        }
        // Lower zooms: clusters whose counts add up to the same fires, by status.
        let mut by_status: BTreeMap<String, i64> = BTreeMap::new();
        for p in items.values() {
            *by_status
                .entry(p["properties"]["status"].as_str().unwrap().to_string())
                .or_default() += 1;
        }
        for z in [5, 8, 11] {
            let mut count = 0;
            let mut statuses: BTreeMap<String, i64> = BTreeMap::new();
            let mut burning = 0;
            for (x, y) in tiles_of(items.values().map(position), z) {
                for f in r.features("fire_points", z, x, y) {
                    assert_eq!(f.props["cluster"], Value::from(true));
                    let n = f.int("count").unwrap();
                    count += n;
                    burning += f.int("burning").unwrap();
                    let mut sum = 0;
                    for (k, v) in &f.props {
                        if let Some(st) = k.strip_prefix("n_") {
                            *statuses.entry(st.into()).or_default() += v.as_i64().unwrap();
                            sum += v.as_i64().unwrap();
                        }
                    }
                    assert_eq!(sum, n, "n_<status> add up to count");
                    assert!(f.int("not_cleared").unwrap() <= n);
                }
            }
            assert_eq!(count, items.len() as i64, "{role} at zoom {z}");
            assert_eq!(statuses, by_status, "{role} at zoom {z}");
            let burning_items = by_status
                .iter()
                .filter(|(k, _)| {
                    matches!(
                        k.as_str(),
                        "reported" | "confirmed" | "treating" | "reignited"
                    )
                })
                .map(|(_, v)| v)
                .sum::<i64>();
            assert_eq!(burning, burning_items, "{role} at zoom {z}");
        }
    }
}

#[test]
fn area_layers_come_clipped_with_their_properties_and_by_role() {
    let s = demo_server();
    for role in ["manager", "owner"] {
        let r = Reader::new(&s, role);
        let items = r.items("mines");
        let first = |f: &Value| {
            let c = &f["geometry"]["coordinates"][0][0][0];
            (c[0].as_f64().unwrap(), c[1].as_f64().unwrap())
        };
        let mut seen: BTreeSet<String> = BTreeSet::new();
        for z in [9, 13] {
            seen.clear();
            for (x, y) in tiles_of(items.values().map(first), z) {
                for f in r.features("mines", z, x, y) {
                    assert_eq!(f.kind, 3, "a polygon");
                    let id = id_of(&f);
                    let p = &items
                        .get(&id)
                        .unwrap_or_else(|| panic!("{role}: mine {id} is not in scope"))["properties"];
                    assert_eq!(f.str("name"), p["name"].as_str());
                    assert_eq!(f.str("licence_no"), p["licence_no"].as_str());
                    assert_eq!(f.str("status"), p["status"].as_str());
                    let area2 = |r: &Vec<(i64, i64)>| -> i64 {
                        (0..r.len())
                            .map(|i| {
                                let (a, b) = (r[i], r[(i + 1) % r.len()]);
                                a.0 * b.1 - b.0 * a.1
                            })
                            .sum()
                    };
                    assert!(
                        area2(&f.paths[0]) > 0,
                        "{id}: the outer ring clockwise on screen"
                    );
                    for ring in &f.paths {
                        assert!(ring.len() >= 3, "{id}: a ring {ring:?}");
                        for (x, y) in ring {
                            assert!(
                                (-64..=4160).contains(x) && (-64..=4160).contains(y),
                                "clipped"
                            );
                        }
                    }
                    seen.insert(id);
                }
            }
            let want: BTreeSet<String> = items.keys().cloned().collect();
            assert_eq!(seen, want, "{role} at zoom {z}");
        }
    }
    // Districts: a few large polygons, clipped at a deep zoom.
    let r = Reader::new(&s, "district");
    let d = r.items("districts");
    let (lon, lat) = {
        let c = &d.values().next().unwrap()["geometry"]["coordinates"][0][0][0];
        (c[0].as_f64().unwrap(), c[1].as_f64().unwrap())
    };
    let (x, y) = tile_of(lon, lat, 15);
    for f in r.features("districts", 15, x, y) {
        assert!(f.str("name").is_some() && f.str("code").is_some());
        for ring in &f.paths {
            assert!(
                ring.iter()
                    .all(|(x, y)| (-64..=4160).contains(x) && (-64..=4160).contains(y))
            );
        }
    }
}

/// Zoomed out until every mine is under a pixel (zoom 3: a pixel is about 10 km), each mine is a
/// box carrying its look (what a style colours by: status, kind) and nothing else, one per pixel and
/// look: a province's tens of thousands of names and ids at that size were most of a tile.
#[test]
fn areas_under_a_pixel_come_as_boxes_with_their_look_only() {
    let s = demo_server();
    let r = Reader::new(&s, "manager");
    let items = r.items("mines");
    let statuses: BTreeSet<String> = items
        .values()
        .map(|f| f["properties"]["status"].as_str().unwrap().to_string())
        .collect();
    let first = |f: &Value| {
        let c = &f["geometry"]["coordinates"][0][0][0];
        (c[0].as_f64().unwrap(), c[1].as_f64().unwrap())
    };
    let mut looks: BTreeSet<String> = BTreeSet::new();
    let mut boxes = 0;
    for (x, y) in tiles_of(items.values().map(first), 3) {
        for f in r.features("mines", 3, x, y) {
            assert_eq!(f.kind, 3, "a polygon");
            assert_eq!(f.id, None, "a box has no id");
            // The look: the fields a style may colour by (the layer's `by`, kind, status).
            assert!(
                f.props.contains_key("status")
                    && f.props.keys().all(|k| k == "status" || k == "kind"),
                "a box carries its look only: {:?}",
                f.props
            );
            assert_eq!(f.paths.len(), 1, "one ring");
            assert_eq!(f.paths[0].len(), 4, "a box: {:?}", f.paths[0]);
            looks.insert(f.str("status").unwrap().to_string());
            boxes += 1;
        }
    }
    assert_eq!(looks, statuses, "every look is drawn");
    assert!(
        boxes < items.len(),
        "{boxes} boxes for {} mines: one per pixel and look",
        items.len()
    );
}

#[test]
fn tiles_revalidate_by_etag_and_answer_204_400_401_404() {
    let s = demo_server();
    let r = Reader::new(&s, "manager");
    let items = r.items("fire_points");
    let (lon, lat) = position(items.values().next().unwrap());
    let (x, y) = tile_of(lon, lat, 12);
    let first = r.tile_at("fire_points", 12, x, y, &[]);
    assert_eq!(first.status, 200);
    assert_eq!(first.headers["cache-control"], "private, no-cache");
    let vary: Vec<String> = first.headers["vary"]
        .split(',')
        .map(|v| v.trim().to_ascii_lowercase())
        .collect();
    assert!(
        vary.contains(&"cookie".into()) && vary.contains(&"authorization".into()),
        "{vary:?}"
    );
    let etag = first.headers["etag"].clone();
    let again = r.tile_at("fire_points", 12, x, y, &[("If-None-Match", &etag)]);
    assert_eq!(again.status, 304);
    assert!(again.body.is_empty());
    assert_eq!(again.headers["etag"], etag);
    // Another role, another tile: another ETag.
    let other = Reader::new(&s, "owner").tile_at("fire_points", 12, x, y, &[]);
    assert_ne!(other.headers.get("etag"), Some(&etag));
    // A report in the tile changes it.
    let patrol = Client::login(&s, "patrol");
    let report = patrol.post(
        "/api/fires",
        &common::fire_feature(
            [lon + 0.0001, lat + 0.0001],
            serde_json::json!({"kind": "coal_seam", "note": "tiles"}),
        ),
    );
    assert_eq!(report.status, 201, "{}", report.body);
    let after = r.tile_at("fire_points", 12, x, y, &[("If-None-Match", &etag)]);
    assert_eq!(after.status, 200);
    assert_ne!(after.headers["etag"], etag);
    let code = report.json()["properties"]["code"]
        .as_str()
        .unwrap()
        .to_string();
    let layers = mvt::decode(&after.body);
    assert!(
        layers["fire_points"]
            .1
            .iter()
            .any(|f| f.str("code") == Some(code.as_str()))
    );
    // The same at a low zoom: the counts moved.
    let (x5, y5) = tile_of(lon, lat, 5);
    let low = r.tile_at("fire_points", 5, x5, y5, &[]);
    let low_again = r.tile_at(
        "fire_points",
        5,
        x5,
        y5,
        &[("If-None-Match", &low.headers["etag"])],
    );
    assert_eq!(low_again.status, 304);

    // Nothing there: 204, with its ETag too.
    let empty = r.tile_at("fire_points", 14, 0, 0, &[]);
    assert_eq!(empty.status, 204);
    assert!(empty.body.is_empty());
    assert!(empty.headers.contains_key("etag"));
    let empty_mines = r.tile_at("mines", 10, 3, 3, &[]);
    assert_eq!(empty_mines.status, 204);

    // Out of the matrix: 400 with a message in the reader's language.
    let auth = r.auth.clone();
    for path in [
        "/collections/fire_points/tiles/WebMercatorQuad/23/0/0",
        "/collections/fire_points/tiles/WebMercatorQuad/3/8/0",
        "/collections/fire_points/tiles/WebMercatorQuad/3/0/8",
        "/collections/fire_points/tiles/WebMercatorQuad/a/0/0",
        "/collections/fire_points/tiles/WebMercatorQuad/3/-1/0",
    ] {
        let zh = raw::get(
            s.addr,
            path,
            &[("Authorization", &auth), ("Accept-Language", "zh-CN")],
        );
        assert_eq!(zh.status, 400, "{path}");
        let zh: Value = serde_json::from_slice(&zh.body).unwrap();
        assert_eq!(zh["error"], "bad_tile");
        assert!(zh["message"].as_str().unwrap().contains("瓦片"), "{zh}");
        let en = raw::get(
            s.addr,
            path,
            &[("Authorization", &auth), ("Accept-Language", "en")],
        );
        let en: Value = serde_json::from_slice(&en.body).unwrap();
        assert!(en["message"].as_str().unwrap().contains("no tile"), "{en}");
    }
    // Unknown collection or tile matrix set: 404; no session: 401.
    for path in [
        "/collections/nothing/tiles/WebMercatorQuad/0/0/0",
        "/collections/fire_points/tiles/WorldCRS84Quad/0/0/0",
        "/collections/nothing/tiles",
        "/tileMatrixSets/WorldCRS84Quad",
    ] {
        assert_eq!(
            raw::get(s.addr, path, &[("Authorization", &auth)]).status,
            404,
            "{path}"
        );
    }
    assert_eq!(
        raw::get(
            s.addr,
            "/collections/fire_points/tiles/WebMercatorQuad/0/0/0",
            &[]
        )
        .status,
        401
    );
    assert_eq!(
        raw::get(s.addr, "/collections/fire_points/tiles", &[]).status,
        401
    );
}

#[test]
fn the_tiles_are_listed_where_an_ogc_client_looks() {
    let s = demo_server();
    let c = Client::login(&s, "district");
    let landing = c.get("/?f=json").json();
    let rel = |v: &Value, rel: &str| -> Option<String> {
        v["links"]
            .as_array()
            .unwrap()
            .iter()
            .find(|l| l["rel"] == rel)
            .map(|l| l["href"].as_str().unwrap().to_string())
    };
    let schemes = rel(
        &landing,
        "http://www.opengis.net/def/rel/ogc/1.0/tiling-schemes",
    )
    .unwrap();
    assert!(schemes.ends_with("/tileMatrixSets"));
    let anon = Client::anonymous(&s);
    let list = anon.get("/tileMatrixSets");
    assert_eq!(list.status, 200);
    assert_eq!(list.json()["tileMatrixSets"][0]["id"], "WebMercatorQuad");
    let tms = anon.get("/tileMatrixSets/WebMercatorQuad").json();
    assert_eq!(tms["crs"], "http://www.opengis.net/def/crs/EPSG/0/3857");
    assert_eq!(tms["tileMatrices"][5]["matrixWidth"], 32);
    let conf = c.get("/conformance").json();
    assert!(
        conf["conformsTo"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c == "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/mvt")
    );
    let collections = c.get("/collections").json();
    for col in collections["collections"].as_array().unwrap() {
        let id = col["id"].as_str().unwrap();
        let href = rel(
            col,
            "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector",
        )
        .unwrap();
        assert!(href.ends_with(&format!("/collections/{id}/tiles")));
    }
    let sets = c.get("/collections/fire_points/tiles").json();
    let item = sets["tilesets"][0]["links"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["rel"] == "item")
        .unwrap()
        .clone();
    assert_eq!(item["type"], "application/vnd.mapbox-vector-tile");
    assert_eq!(item["templated"], true);
    assert!(item["href"].as_str().unwrap().ends_with(
        "/collections/fire_points/tiles/WebMercatorQuad/{tileMatrix}/{tileRow}/{tileCol}"
    ));
    let meta = c
        .get("/collections/fire_points/tiles/WebMercatorQuad")
        .json();
    assert_eq!(meta["dataType"], "vector");
    assert_eq!(
        meta["tileMatrixSetURI"],
        "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad"
    );
    assert_eq!(meta["layers"][0]["id"], "fire_points");
    assert!(meta["layers"][0]["propertiesSchema"]["properties"]["burning"].is_object());
    let api = c.get("/api").json();
    assert!(
        api["paths"]["/collections/mines/tiles/{tileMatrixSetId}/{tileMatrix}/{tileRow}/{tileCol}"]
            ["get"]
            .is_object()
    );
    assert!(api["paths"]["/tileMatrixSets"]["get"].is_object());
}

#[test]
fn gdal_reads_a_tile() {
    let s = demo_server();
    let r = Reader::new(&s, "manager");
    let items = r.items("fire_points");
    let (lon, lat) = position(items.values().next().unwrap());
    let z = 12;
    let (x, y) = tile_of(lon, lat, z);
    let tile = r.tile_at("fire_points", z, x, y, &[]);
    assert_eq!(tile.status, 200);
    let n = mvt::decode(&tile.body)["fire_points"].1.len();
    // GDAL's MVT driver reads a tile file named z/x/y.pbf (and places it on the map from that).
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(format!("{z}/{x}/{y}.pbf"));
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, &tile.body).unwrap();
    let out = std::process::Command::new("ogrinfo")
        .args(["-ro", "-al", "-so"])
        .arg(&path)
        .output()
        .expect("ogrinfo (gdal-bin) is installed");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{text} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(text.contains("Layer name: fire_points"), "{text}");
    assert!(text.contains(&format!("Feature Count: {n}")), "{text}");
    assert!(text.contains("code: String"), "{text}");
    // And places the features where they are: the first fire is within the layer's extent.
    let extent = text
        .lines()
        .find(|l| l.starts_with("Extent:"))
        .unwrap()
        .to_string();
    assert!(extent.contains('('), "{extent}");
}

#[test]
fn a_tile_kept_after_it_was_made_is_given_again_until_its_layer_changes() {
    use qingling::service::tiles::{Answer, Made, Request, TileId, answer};
    let (_dir, path) = common::demo_db();
    let db = common::open_store(&path);
    let registry = qingling::layers::Registry::builtin().unwrap();
    let layer = registry.get("mines").unwrap().clone();
    let rules = qingling::app::load_rules(&db).unwrap();
    let scope = qingling::domain::access::Scope::All;
    let made = Made::keeping_from(std::time::Duration::ZERO);
    // The demo's mines all fall in one tile at zoom 3.
    let (lon, lat) = {
        let f = db
            .read_blocking(|tx| {
                tx.features().item(
                    &qingling::store::features::Visible::all(&layer),
                    &tx.features().fids(&layer)?[0].to_string(),
                )
            })
            .unwrap()
            .unwrap();
        let c = &f["geometry"]["coordinates"][0][0][0];
        (c[0].as_f64().unwrap(), c[1].as_f64().unwrap())
    };
    let (x, y) = tile_of(lon, lat, 3);
    let tile = TileId::new(3, y, x).unwrap();
    let get = || {
        db.read_blocking(|tx| {
            let r = Request {
                layer: &layer,
                scope: &scope,
                hidden: &[],
                tile,
                now: chrono::Utc::now(),
                rules: &rules,
                made: &made,
            };
            answer(tx, &r, &|_| false)
        })
        .unwrap()
    };
    let tile_of_answer = |a: Answer| match a {
        Answer::Tile { etag, bytes } => (etag, bytes),
        _ => panic!("a tile with the mines"),
    };
    let (etag, first) = tile_of_answer(get());
    let (again, second) = tile_of_answer(get());
    assert_eq!(etag, again);
    assert!(
        std::sync::Arc::ptr_eq(&first, &second),
        "given from the kept tiles"
    );
    let mines = mvt::decode(&first)["mines"].1.len();
    // A mine deleted: the layer's change counter moves, the tile is made again without it.
    db.write_blocking(|tx| {
        let fid = tx.features().fids(&layer)?[0];
        tx.features().delete(&layer, fid)
    })
    .unwrap();
    let (changed, third) = tile_of_answer(get());
    assert_ne!(changed, etag);
    assert!(!std::sync::Arc::ptr_eq(&first, &third));
    assert!(
        mvt::decode(&third)["mines"].1.len() < mines,
        "the deleted mine is gone"
    );
}

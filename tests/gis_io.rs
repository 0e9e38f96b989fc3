//! GIS import and export with real files made by GDAL (`ogr2ogr` and the gdal crate) in a
//! temporary folder: round trips through the real binary (Shapefile in GBK and Gauss-Kruger,
//! GeoPackage, KML) within a centimetre, the refusals with their messages and the database left
//! as it was, a re-imported boundary re-routing a fire, the XLSX ledger, and the web export.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{bin, features, items};
use gdal::Dataset;
use gdal::vector::LayerAccess;
use geo::{Area, Contains, CoordsIter, Geometry};
use qingling::gis::crs::Transform;
use serde_json::{Map, Value, json};

/// Runs the binary: (success, stderr).
fn run(args: &[&str]) -> (bool, String) {
    let (ok, _, err) = common::run_cli(args);
    (ok, err)
}

/// `qingling import --db DB --layer LAYER FILE` and `extra` options: (success, stderr).
fn import(db: &Path, layer: &str, file: &Path, extra: &[&str]) -> (bool, String) {
    let mut args = vec!["import", "--db", s(db), "--layer", layer, s(file)];
    args.extend_from_slice(extra);
    run(&args)
}

/// `qingling export --db DB --layer LAYER`, `options`, then the file to write: (success,
/// stderr).
fn export(db: &Path, layer: &str, options: &[&str], out: &Path) -> (bool, String) {
    let mut args = vec!["export", "--db", s(db), "--layer", layer];
    args.extend_from_slice(options);
    args.push(s(out));
    run(&args)
}

/// Writes a GeoJSON value to `path`; the path.
fn write_json(path: PathBuf, v: &Value) -> PathBuf {
    std::fs::write(&path, v.to_string()).unwrap();
    path
}

/// `ogr2ogr` with `options`, writing `out` from `src`.
fn ogr2ogr(options: &[&str], out: &Path, src: &Path) {
    let args = [options, &[s(out), s(src)]].concat();
    let out = Command::new("ogr2ogr")
        .args(&args)
        .output()
        .unwrap_or_else(|e| panic!("ogr2ogr is needed (apt-get install gdal-bin): {e}"));
    assert!(
        out.status.success(),
        "ogr2ogr {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A Shapefile with GBK attributes (its .cpg says so), reprojected as `srs` says.
fn gbk_shapefile(srs: &[&str], shp: &Path, src: &Path) {
    let gbk = ["-f", "ESRI Shapefile", "-lco", "ENCODING=GBK"];
    ogr2ogr(&[&gbk, srs].concat(), shp, src);
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A fresh database with the sample districts (and, if asked, mines) in a temporary folder
/// (kept while the guard lives).
fn database(with_mines: bool) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("q.gpkg");
    let layers: &[&str] = if with_mines {
        &["districts", "mines"]
    } else {
        &["districts"]
    };
    for layer in layers {
        let file = common::samples().join(format!("{layer}.geojson"));
        let (ok, err) = import(&db, layer, &file, &[]);
        assert!(ok, "{err}");
    }
    (dir, db)
}

/// What a table holds, to show that a refused import changed nothing.
fn snapshot(db: &Path, table: &str) -> (i64, String) {
    let conn = rusqlite::Connection::open(db).unwrap();
    common::row(
        &conn,
        &format!(
            "SELECT count(*), coalesce(group_concat(hex(geom) || name, '|'), '') FROM (SELECT * FROM \"{table}\" ORDER BY fid)"
        ),
        [],
    )
}

/// The first `n` sample features of a layer with their properties renamed as `rename` says
/// (a surveyor's own column names).
fn relabelled(layer: &str, n: usize, rename: impl Fn(&Value) -> Value) -> Value {
    let mut fc = sample(layer, n);
    for f in fc["features"].as_array_mut().unwrap() {
        f["properties"] = rename(&f["properties"]);
    }
    fc
}

/// The first `n` sample features of a layer, as a FeatureCollection value.
fn sample(layer: &str, n: usize) -> Value {
    let mut fc = common::sample_collection(layer);
    fc["features"].as_array_mut().unwrap().truncate(n);
    fc
}

/// One feature of a file as read by GDAL: its properties and every coordinate.
struct Read {
    props: Map<String, Value>,
    coords: Vec<geo::Coord<f64>>,
    geometry: Geometry<f64>,
}

fn read(path: &str) -> (Option<u32>, Vec<Read>) {
    let ds = Dataset::open(path).unwrap();
    let mut layer = ds.layer(0).unwrap();
    let epsg = layer
        .spatial_ref()
        .and_then(|s| s.auth_code().ok())
        .map(|c| c as u32);
    let out = layer
        .features()
        .map(|f| {
            let mut props = Map::new();
            for (k, v) in f.fields() {
                let v = match v {
                    Some(gdal::vector::FieldValue::StringValue(s)) => Value::from(s),
                    Some(gdal::vector::FieldValue::RealValue(x)) => Value::from(x),
                    Some(gdal::vector::FieldValue::IntegerValue(x)) => Value::from(x),
                    Some(gdal::vector::FieldValue::Integer64Value(x)) => Value::from(x),
                    _ => Value::Null,
                };
                props.insert(k, v);
            }
            let mut g = f.geometry().unwrap().clone();
            g.flatten_to_2d();
            let geometry = g.to_geo().unwrap();
            Read {
                props,
                coords: geometry.coords_iter().collect(),
                geometry,
            }
        })
        .collect();
    (epsg, out)
}

/// The largest distance from any coordinate of `a` to the nearest of `b`, both ways (rings may
/// come back reversed or starting elsewhere, the points do not move).
fn max_gap(a: &[geo::Coord<f64>], b: &[geo::Coord<f64>]) -> f64 {
    let one_way = |a: &[geo::Coord<f64>], b: &[geo::Coord<f64>]| {
        a.iter()
            .map(|p| {
                b.iter()
                    .map(|q| ((p.x - q.x).powi(2) + (p.y - q.y).powi(2)).sqrt())
                    .fold(f64::INFINITY, f64::min)
            })
            .fold(0.0, f64::max)
    };
    one_way(a, b).max(one_way(b, a))
}

fn to_4545(coords: &[geo::Coord<f64>], from: u32) -> Vec<geo::Coord<f64>> {
    let t = Transform::new(from, 4545).unwrap();
    coords.iter().map(|c| t.coord(*c).unwrap()).collect()
}

/// Compares a source file with an export of the same features, matched by `key`: every
/// coordinate within 1 cm (measured in EPSG:4545 metres) and the attributes equal.
fn assert_same(
    source: &[Read],
    source_epsg: u32,
    export: &str,
    key: (&str, &str),
    attrs: &[(&str, &str)],
) -> f64 {
    let (epsg, out) = read(export);
    let epsg = epsg.unwrap_or(4326);
    assert_eq!(out.len(), source.len(), "{export}");
    let mut worst: f64 = 0.0;
    for src in source {
        let k = &src.props[key.0];
        let exp = out
            .iter()
            .find(|f| &f.props[key.1] == k)
            .unwrap_or_else(|| panic!("{k} is not in {export}"));
        // A Shapefile cannot tell an empty text from a missing one (an ownerless mine's holder).
        let norm = |v: &Value| {
            if v == &json!("") {
                Value::Null
            } else {
                v.clone()
            }
        };
        for (a, b) in attrs {
            assert_eq!(
                norm(&src.props[*a]),
                norm(&exp.props[*b]),
                "{a} → {b} in {export}"
            );
        }
        let gap = max_gap(
            &to_4545(&src.coords, source_epsg),
            &to_4545(&exp.coords, epsg),
        );
        worst = worst.max(gap);
    }
    assert!(worst < 0.01, "{export}: coordinates moved up to {worst} m");
    worst
}

#[test]
fn a_gbk_shapefile_in_gauss_kruger_round_trips_within_a_centimetre() {
    let (dir, db) = database(false);
    // A surveyor's file: Chinese column names (each within the format's 10 bytes in GBK), coded
    // values written as their Chinese labels, GBK attributes, CGCS2000 3° GK CM 108°E.
    let fc = relabelled("mines", 6, |p| {
        let kind = json!({"open_pit": "露天煤矿", "underground": "井工煤矿", "washing_plant": "洗煤厂", "non_coal": "非煤矿山"})[p["kind"].as_str().unwrap()].clone();
        let status = json!({"producing": "生产", "suspended": "停产", "closed": "关闭", "ownerless": "无主"})[p["status"].as_str().unwrap()].clone();
        json!({"矿山名称": p["name"], "许可证号": p["licence_no"], "采矿权人": p["holder"], "类型": kind, "状态": status})
    });
    let src_json = write_json(dir.path().join("src.geojson"), &fc);
    let shp = dir.path().join("采矿权.shp");
    gbk_shapefile(
        &["-s_srs", "EPSG:4326", "-t_srs", "EPSG:4545"],
        &shp,
        &src_json,
    );
    assert_eq!(
        std::fs::read_to_string(dir.path().join("采矿权.cpg")).unwrap(),
        "GBK"
    );
    let (epsg, source) = read(s(&shp));
    assert_eq!(epsg, Some(4545));
    assert_eq!(source[0].props["类型"], json!("露天煤矿"), "GDAL reads GBK");

    // Zipped, in a folder inside the archive, as a dry run: counted, nothing written.
    let zip = dir.path().join("采矿权.zip");
    let folder = dir.path().join("边界");
    std::fs::create_dir(&folder).unwrap();
    for ext in ["shp", "shx", "dbf", "prj", "cpg"] {
        std::fs::copy(
            dir.path().join(format!("采矿权.{ext}")),
            folder.join(format!("采矿权.{ext}")),
        )
        .unwrap();
    }
    let zipped = Command::new("zip")
        .current_dir(dir.path())
        .args(["-qr", s(&zip), "边界"])
        .status()
        .unwrap();
    assert!(zipped.success());
    let before = snapshot(&db, "mines");
    let (ok, err) = import(&db, "mines", &zip, &["--dry-run"]);
    assert!(ok, "{err}");
    assert!(
        err.contains("Dry run, nothing was written: 6 mines would be imported")
            && err.contains("6 inserted"),
        "{err}"
    );
    assert_eq!(snapshot(&db, "mines"), before);

    let (ok, err) = import(&db, "mines", &shp, &[]);
    assert!(ok, "{err}");
    assert!(
        err.contains("EPSG:4545 (from the file)")
            && err.contains("Attribute encoding: GBK")
            && err.contains("licence_no ← 许可证号")
            && err.contains("6 mines imported"),
        "{err}"
    );
    let attrs = [
        ("矿山名称", "name"),
        ("许可证号", "licence_no"),
        ("采矿权人", "holder"),
    ];
    for (format, crs, out) in [
        ("ESRI Shapefile", "EPSG:4545", "out4545.shp"),
        ("ESRI Shapefile", "EPSG:4326", "out4326.shp"),
        ("GPKG", "EPSG:4545", "out4545.gpkg"),
        ("GeoJSON", "EPSG:4326", "out4326.geojson"),
    ] {
        let out = dir.path().join(out);
        let (ok, err) = export(&db, "mines", &["--format", format, "--crs", crs], &out);
        assert!(ok, "{err}");
        assert!(err.contains("6 mines written to"), "{err}");
        let worst = assert_same(&source, 4545, s(&out), ("许可证号", "licence_no"), &attrs);
        eprintln!("{format} {crs}: worst coordinate gap {worst:.2e} m");
    }
    // The labels came in as codes, and the Shapefile says UTF-8.
    let (_, out) = read(s(&dir.path().join("out4545.shp")));
    assert!(out.iter().all(|f| f.props["kind"] != json!("露天煤矿")));
    assert!(out.iter().any(|f| f.props["kind"] == json!("open_pit")));
    assert_eq!(
        std::fs::read_to_string(dir.path().join("out4545.cpg")).unwrap(),
        "UTF-8"
    );
    // Areas are geodesic square metres: within 0.1 % of the plane area in Gauss-Kruger metres
    // (the projection's scale error here is under 0.04 %), never square degrees.
    for f in &out {
        let planar = f.geometry.unsigned_area();
        let area = f.props["area_m2"].as_f64().unwrap();
        assert!(
            (area - planar).abs() / planar < 0.001,
            "area_m2 {area} vs {planar} m² in EPSG:4545"
        );
    }
}

#[test]
fn a_gbk_shapefile_without_cpg_asks_for_its_encoding() {
    let (dir, db) = database(false);
    let fc = relabelled(
        "gangue_heaps",
        2,
        |p| json!({"堆场名称": p["name"], "所属企业": p["holder"]}),
    );
    let src_json = write_json(dir.path().join("heaps.geojson"), &fc);
    let shp = dir.path().join("heaps.shp");
    gbk_shapefile(&["-t_srs", "EPSG:4545"], &shp, &src_json);
    std::fs::remove_file(dir.path().join("heaps.cpg")).unwrap();
    let before = snapshot(&db, "gangue_heaps");
    let (ok, err) = import(&db, "gangue_heaps", &shp, &[]);
    assert!(!ok);
    assert!(
        err.contains("is not UTF-8")
            && err.contains("堆场名称, 所属企业")
            && err.contains("add --encoding GBK"),
        "{err}"
    );
    assert_eq!(snapshot(&db, "gangue_heaps"), before);
    let (ok, err) = import(&db, "gangue_heaps", &shp, &["--encoding", "GBK"]);
    assert!(ok, "{err}");
    assert!(
        err.contains("name ← 堆场名称") && err.contains("holder ← 所属企业"),
        "{err}"
    );
    let conn = rusqlite::Connection::open(&db).unwrap();
    let names: Vec<String> = common::column(&conn, "SELECT name FROM gangue_heaps ORDER BY fid");
    assert_eq!(
        names,
        items(&fc["features"])
            .map(|f| f["properties"]["堆场名称"].as_str().unwrap().to_string())
            .collect::<Vec<_>>()
    );
}

#[test]
fn a_geopackage_with_zone_prefixed_eastings_round_trips_within_a_centimetre() {
    let (dir, db) = database(false);
    let src_json = write_json(dir.path().join("mines.geojson"), &sample("mines", 5));
    let gpkg = dir.path().join("survey.gpkg");
    ogr2ogr(
        &["-f", "GPKG", "-t_srs", "EPSG:4524", "-nln", "矿权边界"],
        &gpkg,
        &src_json,
    );
    let (epsg, source) = read(s(&gpkg));
    assert_eq!(epsg, Some(4524));
    assert!(source[0].coords[0].x > 36_000_000.0, "zone prefix 36");
    let (ok, err) = import(&db, "mines", &gpkg, &[]);
    assert!(ok, "{err}");
    assert!(err.contains("EPSG:4524 (from the file)"), "{err}");
    let attrs = [
        ("name", "name"),
        ("licence_no", "licence_no"),
        ("holder", "holder"),
        ("kind", "kind"),
        ("status", "status"),
    ];
    for (crs, out) in [("EPSG:4545", "out4545.gpkg"), ("EPSG:4326", "out4326.gpkg")] {
        let out = dir.path().join(out);
        let (ok, err) = export(&db, "mines", &["--crs", crs], &out);
        assert!(ok, "{err}");
        let worst = assert_same(&source, 4524, s(&out), ("licence_no", "licence_no"), &attrs);
        eprintln!("GPKG {crs}: worst coordinate gap {worst:.2e} m");
    }
}

#[test]
fn a_kml_file_round_trips_within_a_centimetre() {
    let (dir, db) = database(false);
    let src_json = write_json(dir.path().join("heaps.geojson"), &sample("gangue_heaps", 4));
    let kml = dir.path().join("heaps.kml");
    ogr2ogr(&["-f", "LIBKML"], &kml, &src_json);
    let (_, source) = read(s(&kml));
    let (ok, err) = import(&db, "gangue_heaps", &kml, &[]);
    assert!(ok, "{err}");
    assert!(err.contains("4 gangue_heaps imported"), "{err}");
    let attrs = [("Name", "name"), ("holder", "holder")];
    let out = dir.path().join("out.kml");
    let (ok, err) = export(&db, "gangue_heaps", &["--format", "KML"], &out);
    assert!(ok, "{err}");
    // KML names its placemarks; LIBKML reads the <name> back as "Name".
    let kml_attrs = [("Name", "Name"), ("holder", "holder")];
    assert_same(&source, 4326, s(&out), ("Name", "Name"), &kml_attrs);
    let out = dir.path().join("out4545.shp");
    let (ok, err) = export(&db, "gangue_heaps", &["--crs", "EPSG:4545"], &out);
    assert!(ok, "{err}");
    let worst = assert_same(&source, 4326, s(&out), ("Name", "name"), &attrs);
    eprintln!("KML → Shapefile EPSG:4545: worst coordinate gap {worst:.2e} m");
    // KML is longitude/latitude only.
    let (ok, err) = export(
        &db,
        "gangue_heaps",
        &["--crs", "EPSG:4545"],
        &dir.path().join("gk.kml"),
    );
    assert!(!ok && err.contains("KML is always EPSG:4326"), "{err}");
}

#[test]
fn files_with_a_missing_or_wrong_crs_are_refused_with_what_was_found() {
    let (dir, db) = database(false);
    let before = snapshot(&db, "mines");
    let src_json = write_json(dir.path().join("mines.geojson"), &sample("mines", 3));
    let shp = dir.path().join("gk.shp");
    ogr2ogr(&["-t_srs", "EPSG:4545"], &shp, &src_json);

    // A Shapefile without its .prj, and no --src-crs (in Chinese by default).
    std::fs::remove_file(dir.path().join("gk.prj")).unwrap();
    let (ok, err) = import(&db, "mines", &shp, &[]);
    assert!(!ok);
    assert!(
        err.contains("does not say its coordinate system") && err.contains("--src-crs EPSG:4545"),
        "{err}"
    );
    let zh = bin()
        .env("LANG", "zh_CN.UTF-8")
        .args(["import", "--db", s(&db), "--layer", "mines", s(&shp)])
        .output()
        .unwrap();
    let zh = String::from_utf8_lossy(&zh.stderr);
    assert!(
        zh.contains("没有坐标系信息（Shapefile 缺少 .prj 文件）"),
        "{zh}"
    );
    assert_eq!(snapshot(&db, "mines"), before);

    // The same Gauss-Kruger metres declared as EPSG:4326.
    let (ok, err) = import(&db, "mines", &shp, &["--src-crs", "EPSG:4326"]);
    assert!(!ok);
    assert!(
        err.contains("not in the managed area")
            && err.contains("read as EPSG:4326")
            && err.contains("expected within longitude 106.5300–107.1290")
            && err.contains("Read as EPSG:4545"),
        "{err}"
    );
    assert_eq!(snapshot(&db, "mines"), before);
    // A .prj that says 4326 is caught the same way.
    let wrong = dir.path().join("wrong.shp");
    ogr2ogr(
        &["-a_srs", "EPSG:4326", "-s_srs", "EPSG:4545"],
        &wrong,
        &shp,
    );
    let (ok, err) = import(&db, "mines", &wrong, &[]);
    assert!(!ok && err.contains("Read as EPSG:4545"), "{err}");
    assert_eq!(snapshot(&db, "mines"), before);

    // Latitude first in a CSV of WKT outlines.
    let (_, src) = read(s(&src_json));
    let swapped_wkt = |g: &Geometry<f64>| {
        use geo::MapCoords;
        let g = g.map_coords(|c| geo::Coord { x: c.y, y: c.x });
        wkt_of(&g)
    };
    let mut csv = String::from("name,licence_no,holder,kind,status,WKT\n");
    for f in &src {
        let p = &f.props;
        csv += &format!(
            "{},{},{},{},{},\"{}\"\n",
            p["name"].as_str().unwrap(),
            p["licence_no"].as_str().unwrap(),
            p["holder"].as_str().unwrap(),
            p["kind"].as_str().unwrap(),
            p["status"].as_str().unwrap(),
            swapped_wkt(&f.geometry)
        );
    }
    let csv_path = dir.path().join("swapped.csv");
    std::fs::write(&csv_path, csv).unwrap();
    let (ok, err) = import(&db, "mines", &csv_path, &[]);
    assert!(!ok);
    assert!(
        err.contains("not in the managed area") && err.contains("axes look swapped"),
        "{err}"
    );
    assert_eq!(snapshot(&db, "mines"), before);

    // With the right CRS the Shapefile goes in.
    let (ok, err) = import(&db, "mines", &shp, &["--src-crs", "EPSG:4545"]);
    assert!(ok, "{err}");
    assert!(err.contains("EPSG:4545 (from --src-crs)"), "{err}");
}

/// WKT of a (multi)polygon.
fn wkt_of(g: &Geometry<f64>) -> String {
    use gdal::vector::ToGdal;
    g.to_gdal().unwrap().wkt().unwrap()
}

#[test]
fn self_intersecting_boundaries_are_all_listed_and_fix_repairs_them() {
    let (dir, db) = database(false);
    let before = snapshot(&db, "mines");
    let mut fc = sample("mines", 4);
    let bow_tie = |x: f64, y: f64| json!({"type": "Polygon", "coordinates": [[[x, y], [x + 0.01, y + 0.01], [x + 0.01, y], [x, y + 0.01], [x, y]]]});
    fc["features"][1]["geometry"] = bow_tie(106.70, 39.50);
    fc["features"][3]["geometry"] = bow_tie(106.72, 39.52);
    let names: Vec<String> = [1, 3]
        .iter()
        .map(|i| {
            fc["features"][i]["properties"]["name"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    let src_json = write_json(dir.path().join("m.geojson"), &fc);
    let gpkg = dir.path().join("bad.gpkg");
    ogr2ogr(&["-f", "GPKG", "-t_srs", "EPSG:4545"], &gpkg, &src_json);
    let (ok, err) = import(&db, "mines", &gpkg, &[]);
    assert!(!ok);
    assert!(
        err.contains("2 features have problems; nothing from the file was imported")
            && err.contains(&format!("Feature 2 ({}): Invalid geometry", names[0]))
            && err.contains(&format!("Feature 4 ({}): Invalid geometry", names[1]))
            && err.contains("--fix may repair it"),
        "{err}"
    );
    assert_eq!(snapshot(&db, "mines"), before);
    let (ok, err) = import(&db, "mines", &gpkg, &["--fix"]);
    assert!(ok, "{err}");
    assert!(
        err.contains(&format!("Repaired feature 2 ({})", names[0]))
            && err.contains("MultiPolygon of 2 part(s)")
            && err.contains("4 mines imported"),
        "{err}"
    );
}

#[test]
fn a_re_imported_boundary_updates_the_mine_and_re_routes_its_fire() {
    let (dir, db) = common::demo_db();
    let conn = rusqlite::Connection::open(&db).unwrap();
    // An open fire that a mining right (not a dump or heap) assigns to its holder.
    let (fire, code, licence, holder): (String, String, String, String) = common::row(
        &conn,
        "SELECT uuid, code, mine, responsible_name FROM fire_points
         WHERE responsible_party = 'holder' AND json_extract(via, '$.layer') = 'mines'
           AND status IN ('reported','confirmed','treating','reignited','controlled','extinguished')
           AND uuid NOT IN (SELECT fire FROM events WHERE action = 'reassign')
         ORDER BY code LIMIT 1",
        [],
    );
    let (lon, lat): (f64, f64) = common::row(
        &conn,
        "SELECT (minx + maxx) / 2, (miny + maxy) / 2 FROM rtree_fire_points_geom r JOIN fire_points f ON f.fid = r.id WHERE f.uuid = ?1",
        [&fire],
    );
    drop(conn);
    // The updated survey: the mine's boundary shrinks to a small square at its south-west
    // corner, away from the fire.
    let mut fc = common::sample_collection("mines");
    let f = fc["features"]
        .as_array_mut()
        .unwrap()
        .iter_mut()
        .find(|f| f["properties"]["licence_no"] == json!(licence))
        .unwrap();
    let g: Geometry<f64> = Geometry::try_from(
        &serde_json::from_value::<geojson::Geometry>(f["geometry"].clone())
            .unwrap()
            .value,
    )
    .unwrap();
    use geo::BoundingRect;
    let r = g.bounding_rect().unwrap();
    let (x, y) = (r.min().x, r.min().y);
    use geo::polygon;
    let square = polygon![(x: x, y: y), (x: x + 0.002, y: y), (x: x + 0.002, y: y + 0.002), (x: x, y: y + 0.002), (x: x, y: y)];
    assert!(!square.contains(&geo::Point::new(lon, lat)));
    f["geometry"] = json!({"type": "Polygon", "coordinates": [[[x, y], [x + 0.002, y], [x + 0.002, y + 0.002], [x, y + 0.002], [x, y]]]});
    let updated = write_json(dir.path().join("mines-2027.geojson"), &fc);
    let shp = dir.path().join("mines-2027.shp");
    ogr2ogr(
        &["-t_srs", "EPSG:4545", "-lco", "ENCODING=UTF-8"],
        &shp,
        &updated,
    );

    let before = snapshot(&db, "mines");
    let (ok, err) = import(&db, "mines", &shp, &["--dry-run"]);
    assert!(ok, "{err}");
    assert!(
        err.contains("Dry run, nothing was written")
            && err.contains("1 updated, 27 unchanged")
            && err.contains("1 open fires or unverified dust violations would change party")
            && err.contains(&format!("{code}: {holder} →")),
        "{err}"
    );
    assert_eq!(snapshot(&db, "mines"), before);

    let (ok, err) = import(&db, "mines", &shp, &[]);
    assert!(ok, "{err}");
    assert!(
        err.contains("28 mines imported") && err.contains("0 inserted, 1 updated"),
        "{err}"
    );
    assert!(
        err.contains("1 open fires or unverified dust violations changed party"),
        "{err}"
    );
    let conn = rusqlite::Connection::open(&db).unwrap();
    let (n, area): (i64, f64) = common::row(
        &conn,
        "SELECT count(*), (SELECT area_m2 FROM mines WHERE licence_no = ?1) FROM mines",
        [&licence],
    );
    assert_eq!(n, 28, "updated in place, not added");
    // 0.002° × 0.002° near 39.5°N: about 172 m × 222 m.
    assert!((area - 38_000.0).abs() < 1_500.0, "{area}");
    let (party, actor, reason): (String, String, String) = common::row(
        &conn,
        "SELECT f.responsible_name, e.actor, e.reason FROM fire_points f JOIN events e ON e.fire = f.uuid
         WHERE f.uuid = ?1 AND e.action = 'reassign' ORDER BY e.id DESC LIMIT 1",
        [&fire],
    );
    assert_ne!(party, holder);
    assert_eq!(actor, "system");
    assert!(reason.contains("mines-2027.shp"), "{reason}");
}

#[test]
fn the_xlsx_ledger_has_chinese_headers_and_one_row_a_fire() {
    let (dir, db) = common::demo_db();
    let count = |sql: &str| common::count(&db, sql);
    let all = count("SELECT count(*) FROM fire_points");
    let burning = count(
        "SELECT count(*) FROM fire_points WHERE status IN ('reported','confirmed','treating','reignited')",
    );
    assert!(burning > 0 && burning < all);
    for (args, expect) in [(vec![], all), (vec!["--where", "status=burning"], burning)] {
        let out = dir.path().join(format!("ledger-{expect}.xlsx"));
        let mut options = vec!["--format", "XLSX", "--crs", "EPSG:4545"];
        options.extend(args);
        let (ok, err) = export(&db, "fire_points", &options, &out);
        assert!(ok, "{err}");
        let unzip = |part: &str| {
            let o = Command::new("unzip")
                .args(["-p", s(&out), part])
                .output()
                .unwrap();
            assert!(o.status.success(), "{part} in {}", out.display());
            String::from_utf8(o.stdout).unwrap()
        };
        // The ledger is written row by row (constant memory, issue 11): its text is inline in
        // the sheet rather than in a shared-strings table.
        let strings = unzip("xl/worksheets/sheet1.xml");
        for h in [
            "编号",
            "行政区",
            "责任主体",
            "火点类型",
            "发现时间",
            "完成时限",
            "状态",
            "X（EPSG:4545）",
        ] {
            assert!(strings.contains(h), "header {h}");
        }
        assert!(strings.contains("（矿业权人）") || strings.contains("（属地政府）"));
        let sheet = unzip("xl/worksheets/sheet1.xml");
        assert_eq!(
            sheet.matches("<row ").count() as i64,
            expect + 1,
            "a header and one row a fire"
        );
        assert!(sheet.contains("<pane ") && sheet.contains("state=\"frozen\""));
        assert!(sheet.contains("<cols>"), "column widths");
        // GDAL's XLSX reader opens it: one feature a fire, the header as field names.
        let ds = Dataset::open(&out).unwrap();
        let layer = ds.layer_by_name("火点台账").unwrap();
        assert_eq!(layer.feature_count() as i64, expect);
        assert!(layer.defn().fields().any(|f| f.name() == "责任主体"));
    }
}

#[test]
fn gdal_reads_the_live_database_while_our_connection_writes() {
    let (dir, db) = database(true);
    let registry = qingling::layers::Registry::builtin().unwrap();
    let store = qingling::store::Db::open(&db, &registry).unwrap();
    let count = |ds: &Dataset| ds.layer_by_name("mines").unwrap().feature_count();
    let held = Dataset::open(&db).unwrap();
    assert_eq!(count(&held), 28);
    let mines = registry.get("mines").unwrap();
    store
        .write_blocking(|tx| {
            let last = tx.features().fids(mines)?.into_iter().max().unwrap();
            tx.features().delete(mines, last)?;
            // Mid-transaction, GDAL (the same SQLite library, so the same locks) sees the last
            // committed state and neither blocks nor breaks the writer.
            let during = Dataset::open(&db).unwrap();
            assert_eq!(count(&during), 28);
            Ok::<_, qingling::store::StoreError>(())
        })
        .unwrap();
    let after = Dataset::open(&db).unwrap();
    assert_eq!(count(&after), 27);
    // A dataset GDAL keeps open does not stop the next write either.
    store
        .write_blocking(|tx| {
            let first = tx.features().fids(mines)?.into_iter().min().unwrap();
            let (geom, fields) = tx.features().row(mines, first)?.unwrap();
            let holder = fields.into_iter().filter(|(k, _)| k == "holder").collect();
            tx.features().update(mines, first, &geom, &holder)?;
            Ok::<_, qingling::store::StoreError>(())
        })
        .unwrap();
    drop(held);
    let out = dir.path().join("live.gpkg");
    let (ok, err) = export(&db, "mines", &[], &out);
    assert!(ok && err.contains("27 mines written"), "{err}");
}

#[test]
fn the_web_export_is_for_managers() {
    let server = common::demo_server();
    for user in ["district", "owner", "patrol"] {
        let r = common::Client::login(&server, user)
            .get("/api/export?layer=fire_points&format=GeoJSON");
        assert_eq!(r.status, 403, "{user}: {}", r.body);
    }
    let anonymous =
        common::Client::anonymous(&server).get("/api/export?layer=fire_points&format=XLSX");
    assert_eq!(anonymous.status, 401);
    let manager = common::Client::login(&server, "manager");
    let r = manager
        .get("/api/export?layer=fire_points&format=GeoJSON&where=status%3Dburning&crs=EPSG%3A4545");
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.header("content-type"), Some("application/geo+json"));
    assert!(
        r.header("content-disposition")
            .is_some_and(|d| d.starts_with("attachment; filename=\"fire_points-")
                && d.ends_with(".geojson\"")),
        "{:?}",
        r.header("content-disposition")
    );
    let fc = r.json();
    let features = features(&fc);
    assert!(!features.is_empty());
    assert!(features.iter().all(|f| {
        ["reported", "confirmed", "treating", "reignited"]
            .contains(&f["properties"]["status"].as_str().unwrap())
    }));
    // Gauss-Kruger metres, not degrees.
    assert!(features[0]["geometry"]["coordinates"][0].as_f64().unwrap() > 100_000.0);
    let r = manager.get("/api/export?layer=fire_points&format=XLSX");
    assert_eq!(r.status, 200);
    assert!(r.body.starts_with("PK"), "an XLSX is a zip");
    let r = manager.get("/api/export?layer=mines&format=ESRI%20Shapefile&crs=EPSG%3A4545");
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("application/zip"));
    assert!(r.body.starts_with("PK"), "a zipped Shapefile");
    let r = manager.get("/api/export?layer=fire_points&format=DWG");
    assert_eq!(r.status, 422);
    let r = manager.get("/api/export?layer=mines&format=GPKG&where=colour%3Dred");
    assert_eq!(r.status, 422);
    assert!(r.message().contains("colour"));
}

/// A note typed as a spreadsheet formula leaves the CSV as text (a leading '), numbers stay
/// numbers, even negative ones.
#[test]
fn csv_exports_do_not_carry_formulas() {
    let server = common::demo_server();
    let conn = rusqlite::Connection::open(&server.db).unwrap();
    qingling::store::gpkg::register_functions(&conn).unwrap();
    let code: String = conn
        .query_row(
            "UPDATE fire_points SET note = '=HYPERLINK(\"http://x\",\"y\")', temp_c = -5.5
             WHERE fid = (SELECT min(fid) FROM fire_points) RETURNING code",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let manager = common::Client::login(&server, "manager");
    let r = manager.get("/api/export?layer=fire_points&format=CSV");
    assert_eq!(r.status, 200, "{}", r.body);
    let line = r
        .body
        .lines()
        .find(|l| l.contains(&code))
        .unwrap_or_else(|| panic!("{code} in {}", r.body));
    assert!(line.contains("'=HYPERLINK("), "{line}");
    assert!(line.contains(",-5.5"), "a number stays a number: {line}");
    let cells_starting_with_formula = r
        .body
        .lines()
        .flat_map(|l| l.split(','))
        .filter(|c| c.trim_start_matches('"').starts_with(['=', '@']))
        .count();
    assert_eq!(cells_starting_with_formula, 0, "{}", r.body);
}

#[test]
fn re_imported_districts_move_the_mines_dumps_heaps_and_monitors_they_now_contain() {
    let (dir, db) = common::demo_db();
    let district_of = |layer: &str| -> Vec<(String, String)> {
        let conn = rusqlite::Connection::open(&db).unwrap();
        common::rows(
            &conn,
            &format!("SELECT name, district_code FROM {layer} ORDER BY name"),
        )
    };
    let layers = ["mines", "waste_dumps", "gangue_heaps", "dust_monitors"];
    let before: Vec<_> = layers.iter().map(|l| district_of(l)).collect();
    // A survey that swaps the outlines of 海勃湾区 and 乌达区: each code now covers the other's
    // ground, so everything there changes district.
    let mut fc = common::sample_collection("districts");
    let features = fc["features"].as_array_mut().unwrap();
    let at = |code: &str| {
        features
            .iter()
            .position(|f| f["properties"]["code"] == code)
            .unwrap()
    };
    let (a, b) = (at("150302"), at("150303"));
    let ga = features[a]["geometry"].clone();
    features[a]["geometry"] = features[b]["geometry"].clone();
    features[b]["geometry"] = ga;
    let file = write_json(dir.path().join("districts.geojson"), &fc);
    let (ok, err) = import(&db, "districts", &file, &[]);
    assert!(ok, "{err}");
    let swap = |c: &str| match c {
        "150302" => "150303".to_string(),
        "150303" => "150302".to_string(),
        other => other.to_string(),
    };
    for (layer, was) in layers.iter().zip(before) {
        let expected: Vec<(String, String)> = was.into_iter().map(|(n, c)| (n, swap(&c))).collect();
        assert_eq!(district_of(layer), expected, "{layer}");
    }
}

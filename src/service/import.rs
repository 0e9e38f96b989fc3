//! Importing a layer: one per-feature pipeline for every source — a GeoJSON text (the demo
//! builder, tests) or any GDAL format read by `gis::source` (the command line). Each feature's
//! geometry and fields are checked against the layer file, derived fields filled, and the
//! feature inserted or, matched by key, updated. All or nothing: every bad feature is named with
//! every reason, and nothing of the file is kept (a nested transaction inside the caller's). A
//! dry run does everything, reports it, and rolls it back. The derived fields, and what follows
//! a changed boundary, are `service::boundaries`'s; the geometry checks `service::geometry`'s.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};
use geo::{CoordsIter, Geometry, HausdorffDistance, Rect};
use serde::Serialize;
use serde_json::{Map, Value};

use crate::error::{Error, Kind, Result};
use crate::i18n::Lang;
use crate::layers::{Layer, Registry, Source};
use crate::service::boundaries::{self, derive};
use crate::service::geometry;
use crate::service::reroute::Rerouted;
use crate::store::features::Kept;
use crate::store::{StoreError, Tx};

/// One feature to import, its geometry already in lon/lat.
#[derive(Debug)]
pub struct Incoming {
    /// 1-based position in the source, for messages.
    pub n: usize,
    /// The geometry, or why it could not be read.
    pub geometry: Result<Geometry<f64>>,
    /// Properties under the layer's field names.
    pub properties: Map<String, Value>,
}

/// What to do with a feature whose key is already in the layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Existing {
    /// Refuse it (a first import).
    Refuse,
    /// Update the stored feature (re-importing an updated boundary file). Layers without a key
    /// match on `name`.
    Update,
}

/// How an import runs.
#[derive(Debug, Clone)]
pub struct Options {
    pub existing: Existing,
    /// Repair invalid polygons (GEOS MakeValid) instead of refusing them.
    pub fix: bool,
    /// Mention `--fix` in the message of an invalid geometry.
    pub suggest_fix: bool,
    /// Do everything, report it, keep nothing.
    pub dry_run: bool,
    /// Re-derive the party of open fires afterwards, recording this reason on each move.
    pub reroute: Option<String>,
    pub now: DateTime<Utc>,
    pub lang: Lang,
}

impl Options {
    /// A first import of a GeoJSON file: no updates, no repairs, no re-routing.
    pub fn first_import(lang: Lang) -> Options {
        Options {
            existing: Existing::Refuse,
            fix: false,
            suggest_fix: false,
            dry_run: false,
            reroute: None,
            now: Utc::now(),
            lang,
        }
    }
}

/// A geometry `--fix` repaired.
#[derive(Debug, Clone, Serialize)]
pub struct Fixed {
    pub n: usize,
    pub label: String,
    pub what: String,
}

/// What an import did (or, in a dry run, would do).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    pub layer: String,
    pub features: usize,
    pub inserted: usize,
    pub updated: usize,
    /// Matched by key and identical: left as they were.
    pub unchanged: usize,
    pub fixed: Vec<Fixed>,
    pub rerouted: Vec<Rerouted>,
    pub dry_run: bool,
}

/// The padded box of Wuhai from DOMAIN.md, the managed area before any district is imported.
pub const WUHAI_BBOX: [f64; 4] = [106.55, 39.20, 107.15, 39.92];

/// How far the managed area reaches beyond the districts' extent, in degrees (about 5 km):
/// boundaries drawn on another base map differ by metres to a few hundred metres, not more.
const AREA_PAD_DEG: f64 = 0.05;

/// The area (lon/lat) an import's coordinates must lie in: the districts' extent padded a
/// little, or Wuhai's padded box while there are no districts yet.
pub fn managed_area(tx: &dyn Tx) -> Result<Rect<f64>> {
    let [x0, y0, x1, y1] = match tx.features().bounds("districts")? {
        Some([a, b, c, d]) => [
            a - AREA_PAD_DEG,
            b - AREA_PAD_DEG,
            c + AREA_PAD_DEG,
            d + AREA_PAD_DEG,
        ],
        None => WUHAI_BBOX,
    };
    Ok(Rect::new((x0, y0), (x1, y1)))
}

/// [`geometry::check`], repairing what `--fix` can; a repair is recorded in `fixed`.
fn checked_geometry(
    layer: &Layer,
    g: Geometry<f64>,
    opts: &Options,
) -> Result<(Geometry<f64>, Option<String>)> {
    let g = geometry::shape(layer, g)?;
    let Some(detail) = geometry::problems(&g) else {
        return Ok((g, None));
    };
    if !opts.fix {
        let key = if opts.suggest_fix {
            "invalid_geometry_fixable"
        } else {
            "invalid_geometry"
        };
        return Err(Error::invalid(key).arg("detail", detail));
    }
    match crate::gis::repair::make_valid(&g, &detail) {
        Ok(r) => Ok((geometry::shape(layer, r.geometry)?, Some(r.what))),
        Err(why) => Err(Error::invalid("invalid_geometry_unfixable")
            .arg("detail", detail)
            .arg("why", why)),
    }
}

/// Imports a GeoJSON FeatureCollection (EPSG:4326) into a layer as a first import: a key
/// already present is refused. Any bad feature fails the whole file with a message naming it.
pub fn import_geojson(
    tx: &dyn Tx,
    registry: &Registry,
    layer_name: &str,
    text: &str,
    lang: Lang,
) -> Result<usize> {
    let fc: geojson::FeatureCollection =
        text.parse::<geojson::GeoJson>()
            .map_err(|e| Error::invalid("not_a_feature_collection").arg("detail", e.to_string()))
            .and_then(|g| match g {
                geojson::GeoJson::FeatureCollection(fc) => Ok(fc),
                _ => Err(Error::invalid("not_a_feature_collection")
                    .arg("detail", "not a FeatureCollection")),
            })?;
    let incoming = fc
        .features
        .into_iter()
        .enumerate()
        .map(|(i, f)| Incoming {
            n: i + 1,
            geometry: match &f.geometry {
                None => Err(Error::invalid("missing_geometry")),
                Some(g) => crate::gis::geometry_from_geojson(&g.value)
                    .map_err(|e| Error::invalid("invalid_geometry").arg("detail", e)),
            },
            properties: f.properties.unwrap_or_default(),
        })
        .collect();
    let report = import_features(
        tx,
        registry,
        layer_name,
        incoming,
        &Options::first_import(lang),
    )?;
    Ok(report.inserted)
}

/// Imports features into a layer (see the module documentation).
pub fn import_features(
    tx: &dyn Tx,
    registry: &Registry,
    layer_name: &str,
    incoming: Vec<Incoming>,
    opts: &Options,
) -> Result<Report> {
    let mut incoming = incoming;
    let mut out = None;
    tx.nested(&mut |tx| {
        let report = run(
            tx,
            registry,
            layer_name,
            std::mem::take(&mut incoming),
            opts,
        );
        let keep = report.is_ok() && !opts.dry_run;
        out = Some(report);
        Ok(keep)
    })?;
    out.unwrap_or_else(|| Err(StoreError::Worker("the import did not run".into()).into()))
}

/// A feature that cannot be imported, with every reason.
struct Bad {
    n: usize,
    label: String,
    problems: Vec<String>,
}

fn rendered(e: Error, lang: Lang) -> Result<String> {
    match e {
        Error::Problem(p) => Ok(crate::error::render(&p, lang)),
        e @ Error::Store(_) => Err(e),
    }
}

/// The error for a file with bad features: the one feature's message, or all of them listed.
fn failure(bad: Vec<Bad>, lang: Lang) -> Error {
    let line = |b: &Bad, key| {
        crate::i18n::format(
            lang,
            key,
            &[
                ("n", b.n.to_string()),
                ("label", b.label.clone()),
                ("problem", b.problems.join("; ")),
            ],
        )
    };
    let detail = serde_json::json!({
        "features": bad.iter().map(|b| serde_json::json!({"n": b.n, "label": b.label, "problems": b.problems})).collect::<Vec<_>>()
    });
    match bad.as_slice() {
        [one] => Error::invalid("import_feature")
            .arg("n", one.n.to_string())
            .arg("label", one.label.clone())
            .arg("problem", one.problems.join("; "))
            .detail(detail),
        all => Error::invalid("import_features")
            .arg("count", all.len().to_string())
            .arg(
                "list",
                all.iter()
                    .map(|b| line(b, "import.feature_line"))
                    .collect::<Vec<_>>()
                    .join("\n"),
            )
            .detail(detail),
    }
}

/// Where a checked feature goes.
enum Target {
    Insert,
    Update(i64),
}

fn run(
    tx: &dyn Tx,
    registry: &Registry,
    layer_name: &str,
    incoming: Vec<Incoming>,
    opts: &Options,
) -> Result<Report> {
    let layer = registry.require(layer_name)?;
    if matches!(layer.name.as_str(), "fire_points" | "inspections") {
        return Err(Error::invalid("import_not_supported").arg("layer", layer_name));
    }
    // Districts decide the district of mines, dumps and heaps; mines decide a dump's holder.
    let index = boundaries::index(tx)?;
    // Features are matched on the layer's key, or on their name when it has none.
    let match_field = layer.key.clone().unwrap_or_else(|| "name".into());
    let mut seen: HashMap<String, usize> = HashMap::new();
    let mut report = Report {
        layer: layer.name.clone(),
        features: incoming.len(),
        dry_run: opts.dry_run,
        ..Default::default()
    };
    let mut bad: Vec<Bad> = vec![];
    // A new boundary may not leave open cases outside every district, as an edit may not.
    let stranded_before = boundaries::stranded_before(tx, layer)?;
    for f in incoming {
        let label = f
            .properties
            .get("name")
            .and_then(Value::as_str)
            .map(String::from)
            .unwrap_or_else(|| format!("#{}", f.n));
        let mut problems = vec![];
        let mut fixed = None;
        let geometry = match f.geometry.and_then(|g| checked_geometry(layer, g, opts)) {
            Ok((g, what)) => {
                fixed = what;
                Some(g)
            }
            Err(e) => {
                problems.push(rendered(e, opts.lang)?);
                None
            }
        };
        let values = match layer.validate(&f.properties, Source::Import) {
            Ok(v) => Some(v),
            Err(errors) => {
                for e in errors {
                    problems.push(rendered(Error::fields(vec![e]), opts.lang)?);
                }
                None
            }
        };
        let mut target = Target::Insert;
        if let Some(values) = &values {
            match find_target(tx, layer, &match_field, values, &mut seen, opts)? {
                Ok(t) => target = t,
                Err(e) => problems.push(rendered(e, opts.lang)?),
            }
        }
        let (Some(g), Some(mut values)) = (geometry, values) else {
            bad.push(Bad {
                n: f.n,
                label,
                problems,
            });
            continue;
        };
        if let Err(e) = derive(layer, &index, &g, &mut values) {
            problems.push(rendered(e, opts.lang)?);
        }
        if !problems.is_empty() {
            bad.push(Bad {
                n: f.n,
                label,
                problems,
            });
            continue;
        }
        if let Some(what) = fixed {
            report.fixed.push(Fixed {
                n: f.n,
                label: label.clone(),
                what,
            });
        }
        // Once one feature is bad the file is refused: the rest are only checked.
        if !bad.is_empty() {
            continue;
        }
        match target {
            Target::Insert => {
                tx.features().insert(layer, &g, &values)?;
                report.inserted += 1;
            }
            Target::Update(fid) => {
                if update(tx, layer, fid, &g, &values)? {
                    boundaries::follow_reference(tx, registry, layer, &values)?;
                    report.updated += 1;
                } else {
                    report.unchanged += 1;
                }
            }
        }
    }
    if !bad.is_empty() {
        return Err(failure(bad, opts.lang));
    }
    tx.features().update_extent(&layer.name)?;
    if let Some(before) = stranded_before {
        let after = boundaries::stranded(tx)?;
        if after > before {
            return Err(Error::new(Kind::Conflict, "import_strands_open_cases")
                .arg("layer", layer.title.get(opts.lang).to_string())
                .arg("count", (after - before).to_string())
                .detail(serde_json::json!({"open_cases": after - before})));
        }
    }
    if let Some(reason) = &opts.reroute
        && report.inserted + report.updated > 0
    {
        report.rerouted = boundaries::after_change(tx, registry, layer, opts.now, reason)?.1;
    }
    Ok(report)
}

/// Decides insert or update for a feature by its key (or name); the inner error is the
/// feature's problem (a duplicate, an ambiguous match).
fn find_target(
    tx: &dyn Tx,
    layer: &Layer,
    field: &str,
    values: &BTreeMap<String, Value>,
    seen: &mut HashMap<String, usize>,
    opts: &Options,
) -> Result<std::result::Result<Target, Error>> {
    let keyed = layer.key.is_some();
    let v = values
        .get(field)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    let times = seen.entry(v.clone()).or_default();
    *times += 1;
    let dup = |key| {
        Error::invalid(key)
            .arg("field", field.to_string())
            .arg("value", v.clone())
    };
    match opts.existing {
        Existing::Refuse if !keyed => Ok(Ok(Target::Insert)),
        Existing::Refuse => {
            if *times > 1 || tx.features().key_taken(layer, field, &v, None)? {
                return Ok(Err(dup("duplicate_key")));
            }
            Ok(Ok(Target::Insert))
        }
        Existing::Update => {
            let fids = tx.features().fids_where(layer, field, &v)?;
            if *times > 1 && (keyed || !fids.is_empty()) {
                return Ok(Err(dup("duplicate_in_file")));
            }
            Ok(match fids.as_slice() {
                [] => Ok(Target::Insert),
                [fid] => Ok(Target::Update(*fid)),
                many => Err(dup("ambiguous_match").arg("count", many.len().to_string())),
            })
        }
    }
}

/// Updates a stored feature's geometry and the fields the file carries (fields it does not
/// carry keep their values). Returns false, writing nothing, when nothing differs.
fn update(
    tx: &dyn Tx,
    layer: &Layer,
    fid: i64,
    geom: &Geometry<f64>,
    values: &BTreeMap<String, Value>,
) -> Result<bool> {
    let Some((stored_geom, stored)) = tx.features().row(layer, fid)? else {
        return Err(Error::not_found("feature"));
    };
    if unchanged(layer, (&stored_geom, &stored), (geom, values)) {
        return Ok(false);
    }
    tx.features().update(layer, fid, geom, values)?;
    Ok(true)
}

/// Whether a stored feature equals the new geometry and values (the fields the file carries).
/// A boundary that went through another CRS and back, or a Shapefile (clockwise outer rings),
/// returns with its last digits or its vertex order changed: the same vertices within a
/// millimetre are the same outline.
fn unchanged(
    layer: &Layer,
    (stored_geom, stored): (&Geometry<f64>, &Map<String, Value>),
    (geom, values): (&Geometry<f64>, &BTreeMap<String, Value>),
) -> bool {
    let same_geometry = stored_geom == geom
        || (stored_geom.coords_count() == geom.coords_count()
            && stored_geom.hausdorff_distance(geom) < 1e-8);
    let same_values = values.iter().all(|(k, v)| {
        let Some(f) = layer.field(k) else {
            return true;
        };
        let old = stored.get(k).unwrap_or(&Value::Null);
        // Compared as the store keeps them (json fields as their text).
        match (Kept::of(f.kind, old), Kept::of(f.kind, v)) {
            // Derived reals (an area) recomputed from those last digits may differ by rounding.
            (Kept::Real(x), Kept::Real(y)) => (x - y).abs() <= 0.02 + 1e-9 * x.abs(),
            (x, y) => x == y,
        }
    });
    same_geometry && same_values
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::sqlite::SqliteTx;
    use rusqlite::Connection;

    fn db() -> (Connection, Registry) {
        crate::store::sqlite::testing::memory()
    }

    const DISTRICT: &str = crate::store::sqlite::testing::WUDA;

    fn mines(extra: &str) -> String {
        format!(
            r#"{{"type":"FeatureCollection","features":[
            {{"type":"Feature","properties":{{"name":"一矿","licence_no":"C1","holder":"甲","kind":"open_pit","status":"producing"}},
              "geometry":{{"type":"Polygon","coordinates":[[[106.6,39.4],[106.7,39.4],[106.7,39.5],[106.6,39.5],[106.6,39.4]]]}}}}{extra}]}}"#
        )
    }

    #[test]
    fn a_good_file_is_imported_with_derived_fields() {
        let (conn, registry) = db();
        let conn = SqliteTx::new(&conn);
        assert_eq!(
            import_geojson(&conn, &registry, "districts", DISTRICT, Lang::En).expect("districts"),
            1
        );
        assert_eq!(
            import_geojson(&conn, &registry, "mines", &mines(""), Lang::En).expect("mines"),
            1
        );
        let (d, area): (String, f64) = conn
            .query_row("SELECT district_code, area_m2 FROM mines", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .expect("row");
        assert_eq!(d, "150303");
        // 0.1° × 0.1° at 39.45°N: about 8.6 km × 11.1 km.
        assert!((area - 95.6e6).abs() < 0.5e6, "{area}");
        let dump = r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"name":"外排土场","mine":"C1"},
            "geometry":{"type":"Polygon","coordinates":[[[106.71,39.4],[106.72,39.4],[106.72,39.41],[106.71,39.41],[106.71,39.4]]]}}]}"#;
        import_geojson(&conn, &registry, "waste_dumps", dump, Lang::En).expect("dump");
        let h: String = conn
            .query_row("SELECT holder FROM waste_dumps", [], |r| r.get(0))
            .expect("row");
        assert_eq!(h, "甲");
    }

    #[test]
    fn one_bad_feature_names_itself_and_the_problem() {
        let (conn, registry) = db();
        let conn = SqliteTx::new(&conn);
        import_geojson(&conn, &registry, "districts", DISTRICT, Lang::En).expect("districts");
        let bowtie = r#",{"type":"Feature","properties":{"name":"蝴蝶矿","licence_no":"C2","holder":"乙","kind":"open_pit","status":"producing"},
              "geometry":{"type":"Polygon","coordinates":[[[106.6,39.6],[106.7,39.65],[106.7,39.6],[106.6,39.65],[106.6,39.6]]]}}"#;
        let e = import_geojson(&conn, &registry, "mines", &mines(bowtie), Lang::En)
            .expect_err("bowtie");
        let msg = e.message(Lang::En);
        assert!(
            msg.starts_with("Feature 2 (蝴蝶矿): Invalid geometry"),
            "{msg}"
        );
        let unknown = r#",{"type":"Feature","properties":{"name":"怪矿","licence_no":"C3","holder":"乙","kind":"opencast","status":"producing"},
              "geometry":{"type":"Polygon","coordinates":[[[106.6,39.6],[106.7,39.6],[106.7,39.65],[106.6,39.6]]]}}"#;
        let msg = import_geojson(&conn, &registry, "mines", &mines(unknown), Lang::Zh)
            .expect_err("kind")
            .message(Lang::Zh);
        assert!(
            msg.contains("第 2 个要素（怪矿）") && msg.contains("“kind”"),
            "{msg}"
        );
        let again = mines("").replace(r#"{"type":"FeatureCollection","features":["#, ",");
        let dup = mines(again.trim_end_matches("]}"));
        let msg = import_geojson(&conn, &registry, "mines", &dup, Lang::En)
            .expect_err("dup")
            .message(Lang::En);
        assert!(msg.contains("licence_no") && msg.contains("C1"), "{msg}");
        let point = mines("").replace(r#""type":"Polygon","coordinates":[[[106.6,39.4],[106.7,39.4],[106.7,39.5],[106.6,39.5],[106.6,39.4]]]"#, r#""type":"Point","coordinates":[106.6,39.4]"#);
        let msg = import_geojson(&conn, &registry, "mines", &point, Lang::En)
            .expect_err("point")
            .message(Lang::En);
        assert!(msg.contains("must be a MultiPolygon, not a Point"), "{msg}");
        let swapped = mines("").replace("[106.6,39.4]", "[39.4,106.6]");
        let msg = import_geojson(&conn, &registry, "mines", &swapped, Lang::En)
            .expect_err("range")
            .message(Lang::En);
        assert!(msg.contains("out of range"), "{msg}");
    }

    #[test]
    fn every_bad_feature_is_listed_with_every_reason() {
        let (conn, registry) = db();
        let conn = SqliteTx::new(&conn);
        import_geojson(&conn, &registry, "districts", DISTRICT, Lang::En).expect("districts");
        let two_bad = r#",{"type":"Feature","properties":{"name":"蝴蝶矿","licence_no":"C2","holder":"乙","kind":"opencast","status":"producing"},
              "geometry":{"type":"Polygon","coordinates":[[[106.6,39.6],[106.7,39.65],[106.7,39.6],[106.6,39.65],[106.6,39.6]]]}},
              {"type":"Feature","properties":{"name":"无证矿","holder":"丙","kind":"open_pit","status":"producing"},
              "geometry":{"type":"Polygon","coordinates":[[[106.61,39.41],[106.62,39.41],[106.62,39.42],[106.61,39.41]]]}}"#;
        let msg = import_geojson(&conn, &registry, "mines", &mines(two_bad), Lang::En)
            .expect_err("two bad")
            .message(Lang::En);
        assert!(msg.starts_with("2 features have problems"), "{msg}");
        assert!(
            msg.contains("Feature 2 (蝴蝶矿): Invalid geometry") && msg.contains("\"kind\""),
            "{msg}"
        );
        assert!(
            msg.contains("Feature 3 (无证矿): The field \"licence_no\" is missing"),
            "{msg}"
        );
        let n: i64 = conn
            .query_row("SELECT count(*) FROM mines", [], |r| r.get(0))
            .expect("count");
        assert_eq!(n, 0, "nothing of the file is kept");
    }

    fn incoming(text: &str) -> Vec<Incoming> {
        let fc: geojson::FeatureCollection = text.parse().expect("fc");
        fc.features
            .into_iter()
            .enumerate()
            .map(|(i, f)| Incoming {
                n: i + 1,
                geometry: Ok(
                    Geometry::try_from(&f.geometry.expect("geometry").value).expect("geometry")
                ),
                properties: f.properties.unwrap_or_default(),
            })
            .collect()
    }

    #[test]
    fn a_re_import_updates_by_key_and_a_dry_run_keeps_nothing() {
        let (conn, registry) = db();
        let conn = SqliteTx::new(&conn);
        import_geojson(&conn, &registry, "districts", DISTRICT, Lang::En).expect("districts");
        import_geojson(&conn, &registry, "mines", &mines(""), Lang::En).expect("mines");
        let moved = mines("")
            .replace("[106.7,39.4],[106.7,39.5]", "[106.75,39.4],[106.75,39.5]")
            .replace("\"甲\"", "\"乙\"");
        let opts = Options {
            existing: Existing::Update,
            dry_run: true,
            ..Options::first_import(Lang::En)
        };
        let r =
            import_features(&conn, &registry, "mines", incoming(&moved), &opts).expect("dry run");
        assert_eq!((r.inserted, r.updated, r.unchanged), (0, 1, 0));
        let holder: String = conn
            .query_row("SELECT holder FROM mines", [], |r| r.get(0))
            .expect("row");
        assert_eq!(holder, "甲", "a dry run keeps nothing");
        let opts = Options {
            dry_run: false,
            ..opts
        };
        let r =
            import_features(&conn, &registry, "mines", incoming(&moved), &opts).expect("update");
        assert_eq!((r.inserted, r.updated), (0, 1));
        let (holder, n): (String, i64) = conn
            .query_row("SELECT holder, count(*) FROM mines", [], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .expect("row");
        assert_eq!((holder.as_str(), n), ("乙", 1));
        let r = import_features(&conn, &registry, "mines", incoming(&moved), &opts).expect("again");
        assert_eq!((r.updated, r.unchanged), (0, 1));
    }

    #[test]
    fn fix_repairs_a_bow_tie_and_says_so() {
        let (conn, registry) = db();
        let conn = SqliteTx::new(&conn);
        import_geojson(&conn, &registry, "districts", DISTRICT, Lang::En).expect("districts");
        let bowtie = mines("").replace(
            "[[106.6,39.4],[106.7,39.4],[106.7,39.5],[106.6,39.5],[106.6,39.4]]",
            "[[106.6,39.6],[106.7,39.65],[106.7,39.6],[106.6,39.65],[106.6,39.6]]",
        );
        let opts = Options {
            existing: Existing::Update,
            suggest_fix: true,
            ..Options::first_import(Lang::En)
        };
        let msg = import_features(&conn, &registry, "mines", incoming(&bowtie), &opts)
            .expect_err("refused without --fix")
            .message(Lang::En);
        assert!(msg.contains("--fix may repair it"), "{msg}");
        let opts = Options { fix: true, ..opts };
        let r =
            import_features(&conn, &registry, "mines", incoming(&bowtie), &opts).expect("fixed");
        assert_eq!(r.fixed.len(), 1);
        assert!(r.fixed[0].what.contains("2 part(s)"), "{:?}", r.fixed);
    }

    #[test]
    fn a_dump_of_an_unknown_mine_is_refused() {
        let (conn, registry) = db();
        let conn = SqliteTx::new(&conn);
        let dump = r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"name":"孤排土场","mine":"C9"},
            "geometry":{"type":"Polygon","coordinates":[[[106.71,39.4],[106.72,39.4],[106.72,39.41],[106.71,39.41],[106.71,39.4]]]}}]}"#;
        let msg = import_geojson(&conn, &registry, "waste_dumps", dump, Lang::En)
            .expect_err("unknown")
            .message(Lang::En);
        assert!(msg.contains("C9"), "{msg}");
    }
}

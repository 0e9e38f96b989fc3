//! Importing a layer from GeoJSON (EPSG:4326): all or nothing, each bad feature named.

use std::collections::{BTreeMap, HashSet};

use geo::{Geometry, InteriorPoint, MultiPolygon, Validation};
use serde_json::Value;

use crate::domain::responsibility::ResponsibilityIndex;
use crate::error::{Error, Result};
use crate::i18n::Lang;
use crate::layers::{GeometryType, Layer, Registry, Source};
use crate::service::fires::check_lon_lat;
use crate::store::{areas, features, gpkg};

/// A geometry checked against the layer: the right type (a Polygon is taken as a one-part
/// MultiPolygon), coordinates in lon/lat range, and valid by geo's rules.
pub fn check_geometry(layer: &Layer, g: Geometry<f64>) -> Result<Geometry<f64>> {
    let got = format!("{:?}", geometry_name(&g));
    let g = match (layer.geometry, g) {
        (GeometryType::MultiPolygon, Geometry::Polygon(p)) => {
            Geometry::MultiPolygon(MultiPolygon(vec![p]))
        }
        (GeometryType::MultiPolygon, g @ Geometry::MultiPolygon(_))
        | (GeometryType::Polygon, g @ Geometry::Polygon(_))
        | (GeometryType::Point, g @ Geometry::Point(_))
        | (GeometryType::LineString, g @ Geometry::LineString(_)) => g,
        (want, _) => {
            return Err(Error::invalid("wrong_geometry")
                .arg("expected", format!("{want:?}"))
                .arg("got", got.trim_matches('"')));
        }
    };
    use geo::CoordsIter;
    if g.coords_count() == 0 {
        return Err(Error::invalid("empty_geometry"));
    }
    for c in g.coords_iter() {
        check_lon_lat(c.into())?;
    }
    if let Err(e) = g.check_validation() {
        return Err(Error::invalid("invalid_geometry").arg("detail", e.to_string()));
    }
    Ok(g)
}

fn geometry_name(g: &Geometry<f64>) -> &'static str {
    match g {
        Geometry::Point(_) => "Point",
        Geometry::Line(_) => "Line",
        Geometry::LineString(_) => "LineString",
        Geometry::Polygon(_) => "Polygon",
        Geometry::MultiPoint(_) => "MultiPoint",
        Geometry::MultiLineString(_) => "MultiLineString",
        Geometry::MultiPolygon(_) => "MultiPolygon",
        Geometry::GeometryCollection(_) => "GeometryCollection",
        Geometry::Rect(_) => "Rect",
        Geometry::Triangle(_) => "Triangle",
    }
}

/// Imports a GeoJSON FeatureCollection into a layer. Any bad feature fails the whole file with
/// a message naming it, and nothing of the file is kept (a savepoint, so it also nests inside
/// the caller's transaction).
pub fn import_geojson(
    tx: &rusqlite::Connection,
    registry: &Registry,
    layer_name: &str,
    text: &str,
    lang: Lang,
) -> Result<usize> {
    tx.execute_batch("SAVEPOINT import_geojson")?;
    let out = import_inner(tx, registry, layer_name, text, lang);
    if out.is_err() {
        tx.execute_batch("ROLLBACK TO import_geojson")?;
    }
    tx.execute_batch("RELEASE import_geojson")?;
    out
}

fn import_inner(
    tx: &rusqlite::Connection,
    registry: &Registry,
    layer_name: &str,
    text: &str,
    lang: Lang,
) -> Result<usize> {
    let layer = registry.get(layer_name).ok_or_else(|| {
        Error::invalid("unknown_layer")
            .arg("layer", layer_name)
            .arg("allowed", registry.names().join(", "))
    })?;
    if matches!(layer.name.as_str(), "fire_points" | "inspections") {
        return Err(Error::invalid("import_not_supported").arg("layer", layer_name));
    }
    let fc: geojson::FeatureCollection =
        text.parse::<geojson::GeoJson>()
            .map_err(|e| Error::invalid("not_a_feature_collection").arg("detail", e.to_string()))
            .and_then(|g| match g {
                geojson::GeoJson::FeatureCollection(fc) => Ok(fc),
                _ => Err(Error::invalid("not_a_feature_collection")
                    .arg("detail", "not a FeatureCollection")),
            })?;
    // Districts decide the district of mines, dumps and heaps; mines decide a dump's holder.
    let index = ResponsibilityIndex::new(areas::load(tx)?);
    let mut seen_keys = HashSet::new();
    let mut n = 0;
    for (i, f) in fc.features.into_iter().enumerate() {
        let props = f.properties.clone().unwrap_or_default();
        let label = props
            .get("name")
            .and_then(Value::as_str)
            .map(String::from)
            .unwrap_or_else(|| format!("#{}", i + 1));
        let wrap = |e: Error| match &e {
            Error::Problem(p) => Error::invalid("import_feature")
                .arg("n", (i + 1).to_string())
                .arg("label", label.clone())
                .arg("problem", crate::error::render(p, lang)),
            Error::Store(_) => e,
        };
        let geometry = f
            .geometry
            .ok_or_else(|| wrap(Error::invalid("missing_geometry")))?;
        let g: Geometry<f64> = Geometry::try_from(&geometry.value)
            .map_err(|e| wrap(Error::invalid("invalid_geometry").arg("detail", e.to_string())))?;
        let g = check_geometry(layer, g).map_err(wrap)?;
        let mut values = layer
            .validate(&props, Source::Import)
            .map_err(|e| wrap(Error::fields(e)))?;
        if let Some(key) = &layer.key {
            let v = values
                .get(key)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string();
            if !seen_keys.insert(v.clone()) || features::key_exists(tx, layer, key, &v)? {
                return Err(wrap(
                    Error::invalid("duplicate_key")
                        .arg("field", key.clone())
                        .arg("value", v),
                ));
            }
        }
        derive(layer, &index, &g, &mut values).map_err(wrap)?;
        features::insert(tx, layer, &g, &values)?;
        n += 1;
    }
    gpkg::update_extent(tx, &layer.name).map_err(crate::store::StoreError::from)?;
    Ok(n)
}

/// Fills the derived fields: the district a polygon lies in, a dump's holder from its mine.
fn derive(
    layer: &Layer,
    index: &ResponsibilityIndex,
    g: &Geometry<f64>,
    values: &mut BTreeMap<String, Value>,
) -> Result<()> {
    if layer.field("district_code").is_some_and(|f| f.derived)
        && let Some(p) = g.interior_point()
        && let Some(d) = index.district_at(p)
    {
        values.insert("district_code".into(), Value::from(d.code.clone()));
    }
    for f in layer.fields.iter() {
        let Some(reference) = &f.references else {
            continue;
        };
        let v = values
            .get(&f.name)
            .and_then(Value::as_str)
            .unwrap_or_default();
        // Only mines are referenced today (a dump's owning mine).
        if reference == "mines.licence_no" {
            let mine = index.mine(v).ok_or_else(|| {
                Error::invalid("unknown_reference")
                    .arg("field", f.name.clone())
                    .arg("value", v)
                    .arg("layer", "mines")
            })?;
            if layer.field("holder").is_some_and(|h| h.derived) {
                values.insert(
                    "holder".into(),
                    Value::from(if mine.ownerless {
                        String::new()
                    } else {
                        mine.holder.clone()
                    }),
                );
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use rusqlite::Connection;

    fn db() -> (Connection, Registry) {
        let registry = Registry::builtin().expect("layers");
        let mut conn = Connection::open_in_memory().expect("db");
        gpkg::register_functions(&conn).expect("fns");
        crate::store::schema::migrate(&mut conn, &registry).expect("migrate");
        (conn, registry)
    }

    const DISTRICT: &str = r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"name":"乌达区","code":"150303"},
        "geometry":{"type":"Polygon","coordinates":[[[106.5,39.3],[106.8,39.3],[106.8,39.7],[106.5,39.7],[106.5,39.3]]]}}]}"#;

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
        assert_eq!(
            import_geojson(&conn, &registry, "districts", DISTRICT, Lang::En).expect("districts"),
            1
        );
        assert_eq!(
            import_geojson(&conn, &registry, "mines", &mines(""), Lang::En).expect("mines"),
            1
        );
        let d: String = conn
            .query_row("SELECT district_code FROM mines", [], |r| r.get(0))
            .expect("row");
        assert_eq!(d, "150303");
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
    fn a_dump_of_an_unknown_mine_is_refused() {
        let (conn, registry) = db();
        let dump = r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"name":"孤排土场","mine":"C9"},
            "geometry":{"type":"Polygon","coordinates":[[[106.71,39.4],[106.72,39.4],[106.72,39.41],[106.71,39.41],[106.71,39.4]]]}}]}"#;
        let msg = import_geojson(&conn, &registry, "waste_dumps", dump, Lang::En)
            .expect_err("unknown")
            .message(Lang::En);
        assert!(msg.contains("C9"), "{msg}");
    }
}

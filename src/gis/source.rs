//! Reading any GDAL vector source — Shapefile (also zipped), GeoPackage, KML, GeoJSON, CSV with a
//! WKT or lon/lat columns — into geo geometries and JSON properties, with the source's CRS; and
//! the check that its coordinates can lie in the managed area once reprojected.
//!
//! GDAL does the format work; what is ours is deciding the CRS (the file's, `--src-crs`, or
//! EPSG:4326 for a CSV, which cannot carry one) and the attribute encoding of Shapefiles, and
//! refusing — with what was found and what was expected — when either cannot be trusted.

use std::path::Path;

use gdal::vector::{FieldValue, LayerAccess};
use gdal::{Dataset, DatasetOptions, GdalOpenFlags, Metadata};
use geo::{BoundingRect, Coord, Geometry, MultiPolygon, Rect};
use serde_json::{Map, Value};

use super::crs::{KNOWN_EPSG, STORAGE_EPSG, Transform};
use crate::error::{Error, Result};

/// What a read needs besides the path.
#[derive(Debug, Clone, Default)]
pub struct ReadOptions {
    /// `--src-crs`: overrides whatever the file says.
    pub src_crs: Option<u32>,
    /// `--encoding`: a Shapefile's attribute encoding (GDAL's ENCODING open option).
    pub encoding: Option<String>,
    /// `--source-layer`: which layer of a multi-layer source.
    pub source_layer: Option<String>,
    /// A layer of this name is taken from a multi-layer source (one of our own GeoPackages).
    pub prefer_layer: Option<String>,
}

/// Where the CRS came from, for the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CrsOrigin {
    File,
    Option,
    /// A CSV has no place for a CRS: EPSG:4326 unless `--src-crs` says otherwise.
    Assumed,
}

/// One feature as read, in the source CRS.
#[derive(Debug)]
pub struct SourceFeature {
    /// 1-based position in the source, for messages.
    pub n: usize,
    pub geometry: Result<Geometry<f64>>,
    pub properties: Map<String, Value>,
}

/// A source layer, read whole.
#[derive(Debug)]
pub struct Source {
    /// The path as the user gave it.
    pub path: String,
    pub driver: String,
    pub layer: String,
    /// Attribute columns, in file order.
    pub columns: Vec<String>,
    pub features: Vec<SourceFeature>,
    pub epsg: u32,
    pub crs_origin: CrsOrigin,
    /// The CRS the file itself declares, when `--src-crs` overrode it.
    pub file_crs: Option<String>,
    /// The attribute encoding GDAL used (Shapefiles).
    pub encoding: Option<String>,
}

fn ext(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_lowercase())
        .unwrap_or_default();
    if name.ends_with(".shp.zip") {
        return "shp.zip".into();
    }
    path.extension()
        .map(|e| e.to_string_lossy().to_lowercase())
        .unwrap_or_default()
}

/// The GDAL name of a path: zip archives (other than GDAL's own `.shp.zip`) are read through
/// `/vsizip/`, at the archive's root or, when the data sit in a folder inside, at the first
/// vector file found there.
fn gdal_path(path: &Path) -> String {
    let p = path.display().to_string();
    if ext(path) != "zip" {
        return p;
    }
    let root = format!("/vsizip/{p}");
    let wanted = ["shp", "gpkg", "kml", "kmz", "geojson", "json", "csv"];
    let first = gdal::vsi::read_dir(&root, true)
        .unwrap_or_default()
        .into_iter()
        .filter(|f| {
            f.extension()
                .is_some_and(|e| wanted.contains(&e.to_string_lossy().to_lowercase().as_str()))
        })
        .min_by_key(|f| f.components().count());
    match first {
        // A Shapefile's folder opens all the Shapefiles in it, like the archive's root does.
        Some(f) if f.extension().is_some_and(|e| e.eq_ignore_ascii_case("shp")) => {
            match f.parent().filter(|p| !p.as_os_str().is_empty()) {
                Some(dir) => format!("{root}/{}", dir.display()),
                None => root,
            }
        }
        Some(f) => format!("{root}/{}", f.display()),
        None => root,
    }
}

/// CSV columns GDAL should take as coordinates (lower case is enough: GDAL compares without case).
const CSV_X: &str = "X_POSSIBLE_NAMES=lon,lng,long,longitude,x,经度,东经";
const CSV_Y: &str = "Y_POSSIBLE_NAMES=lat,latitude,y,纬度,北纬";

fn open(path: &Path, gdal_path: &str, encoding: Option<&str>) -> Result<Dataset> {
    let mut options: Vec<String> = vec![];
    match ext(path).as_str() {
        "csv" => {
            options.extend([CSV_X.into(), CSV_Y.into(), "KEEP_GEOM_COLUMNS=NO".into()]);
        }
        "shp" | "shz" | "shp.zip" | "dbf" | "zip" => {
            if let Some(e) = encoding {
                options.push(format!("ENCODING={e}"));
            }
        }
        _ => {}
    }
    let refs: Vec<&str> = options.iter().map(String::as_str).collect();
    Dataset::open_ex(
        gdal_path,
        DatasetOptions {
            open_flags: GdalOpenFlags::GDAL_OF_VECTOR | GdalOpenFlags::GDAL_OF_READONLY,
            open_options: (!refs.is_empty()).then_some(refs.as_slice()),
            ..Default::default()
        },
    )
    .map_err(|e| {
        Error::invalid("source_open")
            .arg("path", path.display().to_string())
            .arg("detail", e.to_string())
    })
}

/// The layer to read: the named one, the only one, or the one named like the target layer.
fn pick_layer<'a>(
    ds: &'a Dataset,
    path: &Path,
    opts: &ReadOptions,
) -> Result<gdal::vector::Layer<'a>> {
    let names: Vec<String> = ds.layers().map(|l| l.name()).collect();
    let err = |key| {
        Error::invalid(key)
            .arg("path", path.display().to_string())
            .arg("layers", names.join(", "))
    };
    if let Some(name) = &opts.source_layer {
        return ds
            .layer_by_name(name)
            .map_err(|_| err("source_layer_unknown").arg("layer", name.clone()));
    }
    if names.len() == 1 {
        return ds.layer(0).map_err(|_| err("source_layers"));
    }
    if let Some(name) = &opts.prefer_layer
        && names.contains(name)
    {
        return ds.layer_by_name(name).map_err(|_| err("source_layers"));
    }
    Err(err("source_layers"))
}

/// The EPSG code of a spatial reference GDAL read from a file.
fn identify(srs: &gdal::spatial_ref::SpatialRef) -> Option<u32> {
    let code = |s: &gdal::spatial_ref::SpatialRef| {
        (s.auth_name().as_deref() == Some("EPSG"))
            .then(|| s.auth_code().ok())
            .flatten()
            .and_then(|c| u32::try_from(c).ok())
    };
    if let Some(c) = code(srs) {
        return Some(c);
    }
    if srs.auth_name().as_deref() == Some("OGC")
        && srs
            .name()
            .is_some_and(|n| n.contains("CRS84") || n.contains("WGS 84"))
    {
        return Some(4326);
    }
    let mut copy = srs.clone();
    copy.auto_identify_epsg().ok()?;
    code(&copy)
}

/// A GDAL field value as JSON. Whole reals become integers so that a licence number a
/// spreadsheet stored as 150300001.0 reads as "150300001" in a text field.
fn json(v: FieldValue) -> Value {
    match v {
        FieldValue::IntegerValue(i) => Value::from(i),
        FieldValue::Integer64Value(i) => Value::from(i),
        FieldValue::RealValue(x) if x.fract() == 0.0 && x.abs() < 9.0e15 => Value::from(x as i64),
        FieldValue::RealValue(x) => Value::from(x),
        FieldValue::StringValue(s) => Value::from(s),
        FieldValue::IntegerListValue(l) => Value::from(l),
        FieldValue::Integer64ListValue(l) => Value::from(l),
        FieldValue::RealListValue(l) => Value::from(l),
        FieldValue::StringListValue(l) => Value::from(l),
        FieldValue::DateValue(d) => Value::from(d.to_string()),
        FieldValue::DateTimeValue(t) => Value::from(t.to_rfc3339()),
    }
}

/// A GDAL geometry as a 2D geo geometry; a collection of polygons (KML's MultiGeometry) is
/// taken as a MultiPolygon.
fn geometry(g: Option<&gdal::vector::Geometry>) -> Result<Geometry<f64>> {
    let g = g.ok_or_else(|| Error::invalid("missing_geometry"))?;
    let mut flat = g.clone();
    flat.flatten_to_2d();
    let geo = flat.to_geo().map_err(|e| {
        Error::invalid("invalid_geometry").arg(
            "detail",
            format!("{} cannot be read ({e})", g.geometry_name()),
        )
    })?;
    Ok(match geo {
        Geometry::GeometryCollection(c)
            if !c.0.is_empty() && c.0.iter().all(|g| matches!(g, Geometry::Polygon(_))) =>
        {
            Geometry::MultiPolygon(MultiPolygon(
                c.0.into_iter()
                    .filter_map(|g| match g {
                        Geometry::Polygon(p) => Some(p),
                        _ => None,
                    })
                    .collect(),
            ))
        }
        g => g,
    })
}

fn read_features(layer: &mut gdal::vector::Layer) -> Vec<SourceFeature> {
    layer
        .features()
        .enumerate()
        .map(|(i, f)| {
            let mut properties = Map::new();
            for (name, v) in f.fields() {
                if let Some(v) = v {
                    properties.insert(name, json(v));
                }
            }
            SourceFeature {
                n: i + 1,
                geometry: geometry(f.geometry()),
                properties,
            }
        })
        .collect()
}

/// Whether text read without any recoding was not UTF-8 (the gdal crate replaces bad bytes
/// with U+FFFD).
fn garbled(columns: &[String], features: &[SourceFeature]) -> bool {
    let bad = |s: &str| s.contains('\u{FFFD}');
    columns.iter().any(|c| bad(c))
        || features
            .iter()
            .any(|f| f.properties.values().any(|v| v.as_str().is_some_and(bad)))
}

/// A Shapefile's attributes were not UTF-8 and nothing said what they are: refuse, showing how
/// they would read as GBK (the usual encoding of Chinese Shapefiles) when that works.
fn not_utf8(path: &Path, gp: &str, opts: &ReadOptions) -> Error {
    let as_gbk = open(path, gp, Some("CP936")).ok().and_then(|ds| {
        let mut layer = pick_layer(&ds, path, opts).ok()?;
        let columns: Vec<String> = layer.defn().fields().map(|f| f.name()).collect();
        let features = read_features(&mut layer);
        if garbled(&columns, &features) {
            return None;
        }
        let sample = features
            .first()
            .map(|f| Value::Object(f.properties.clone()).to_string())
            .unwrap_or_default();
        Some((columns.join(", "), sample))
    });
    match as_gbk {
        Some((fields, sample)) => Error::invalid("source_not_utf8_gbk")
            .arg("path", path.display().to_string())
            .arg("fields", fields)
            .arg("sample", sample),
        None => Error::invalid("source_not_utf8").arg("path", path.display().to_string()),
    }
}

/// Reads a whole source layer.
pub fn read(path: &Path, opts: &ReadOptions) -> Result<Source> {
    let gp = gdal_path(path);
    let ds = open(path, &gp, opts.encoding.as_deref())?;
    let driver = ds.driver().short_name();
    let mut layer = pick_layer(&ds, path, opts)?;
    let columns: Vec<String> = layer.defn().fields().map(|f| f.name()).collect();
    let file_epsg = layer.spatial_ref().map(|s| (identify(&s), s.name()));
    let (epsg, crs_origin, file_crs) = match (opts.src_crs, &file_epsg) {
        (Some(c), None) => (c, CrsOrigin::Option, None),
        (Some(c), Some((found, name))) => (
            c,
            CrsOrigin::Option,
            Some(found.map_or_else(|| name.clone().unwrap_or_default(), |f| format!("EPSG:{f}"))),
        ),
        (None, Some((Some(found), _))) => (*found, CrsOrigin::File, None),
        (None, Some((None, name))) => {
            return Err(Error::invalid("source_crs_unknown")
                .arg("path", path.display().to_string())
                .arg("name", name.clone().unwrap_or_default()));
        }
        (None, None) if driver == "CSV" => (STORAGE_EPSG, CrsOrigin::Assumed, None),
        (None, None) => {
            return Err(Error::invalid("source_no_crs").arg("path", path.display().to_string()));
        }
    };
    let features = read_features(&mut layer);
    let mut encoding = None;
    if driver == "ESRI Shapefile" {
        let declared = layer
            .metadata_item("SOURCE_ENCODING", "SHAPEFILE")
            .filter(|e| !e.is_empty());
        encoding = opts.encoding.clone().or(declared);
        // Neither a .cpg nor the .dbf's language byte named an encoding, so GDAL handed the
        // bytes over as they are: fine when they are UTF-8, refused otherwise.
        if encoding.is_none() && garbled(&columns, &features) {
            return Err(not_utf8(path, &gp, opts));
        }
    }
    Ok(Source {
        path: path.display().to_string(),
        driver,
        layer: layer.name(),
        columns,
        features,
        epsg,
        crs_origin,
        file_crs,
        encoding,
    })
}

impl Source {
    /// The extent of the readable geometries, in the source CRS.
    pub fn extent(&self) -> Option<Rect<f64>> {
        self.features
            .iter()
            .filter_map(|f| f.geometry.as_ref().ok()?.bounding_rect())
            .reduce(crate::gis::union)
    }
}

/// A rectangle's extent in lon/lat: its outline, densified, transformed (a projected rectangle
/// is curved in lon/lat). None when the points cannot be transformed.
fn lon_lat_extent(t: &Transform, r: Rect<f64>) -> Option<Rect<f64>> {
    let (a, b) = (r.min(), r.max());
    let mut pts = vec![];
    for i in 0..=8 {
        let f = f64::from(i) / 8.0;
        let x = a.x + (b.x - a.x) * f;
        let y = a.y + (b.y - a.y) * f;
        pts.extend([
            Coord { x, y: a.y },
            Coord { x, y: b.y },
            Coord { x: a.x, y },
            Coord { x: b.x, y },
        ]);
    }
    let out: Vec<Coord<f64>> = pts
        .into_iter()
        .map(|c| t.coord(c).ok())
        .collect::<Option<_>>()?;
    if out.iter().any(|c| !c.x.is_finite() || !c.y.is_finite()) {
        return None;
    }
    geo::LineString::from(out).bounding_rect()
}

fn within(inner: &Rect<f64>, outer: &Rect<f64>) -> bool {
    inner.min().x >= outer.min().x
        && inner.min().y >= outer.min().y
        && inner.max().x <= outer.max().x
        && inner.max().y <= outer.max().y
}

fn range(a: f64, b: f64) -> String {
    if a.abs() > 1000.0 || b.abs() > 1000.0 {
        format!("{a:.1}–{b:.1}")
    } else {
        format!("{a:.4}–{b:.4}")
    }
}

fn fits(epsg: u32, r: Rect<f64>, area: &Rect<f64>) -> bool {
    Transform::new(epsg, STORAGE_EPSG)
        .ok()
        .and_then(|t| lon_lat_extent(&t, r))
        .is_some_and(|e| within(&e, area))
}

/// Refuses a source whose coordinates, read in `epsg`, do not lie in the managed area (lon/lat):
/// the usual signs of a wrong or missing CRS, or of latitude and longitude swapped. The message
/// says what the data span, what was expected, and which reading would fit.
pub fn check_area(extent: Rect<f64>, epsg: u32, area: Rect<f64>) -> Result<()> {
    let found = Transform::new(epsg, STORAGE_EPSG)
        .ok()
        .and_then(|t| lon_lat_extent(&t, extent));
    if found.is_some_and(|f| within(&f, &area)) {
        return Ok(());
    }
    let swapped = Rect::new(
        Coord {
            x: extent.min().y,
            y: extent.min().x,
        },
        Coord {
            x: extent.max().y,
            y: extent.max().x,
        },
    );
    let geographic = |c: u32| matches!(c, 4326 | 4490);
    let suggest: Vec<String> = KNOWN_EPSG
        .iter()
        .filter(|c| **c != epsg && !(geographic(**c) && geographic(epsg)))
        .filter(|c| fits(**c, extent, &area))
        .map(|c| format!("EPSG:{c}"))
        .collect();
    let e = if fits(epsg, swapped, &area) {
        Error::invalid("outside_area_swapped")
    } else if !suggest.is_empty() {
        Error::invalid("outside_area_crs").arg("suggest", suggest.join(", "))
    } else {
        Error::invalid("outside_area")
    };
    let (lon, lat) = match found {
        Some(f) => (range(f.min().x, f.max().x), range(f.min().y, f.max().y)),
        None => ("?".into(), "?".into()),
    };
    Err(e
        .arg("crs", format!("EPSG:{epsg}"))
        .arg("lon", lon)
        .arg("lat", lat)
        .arg("x", range(extent.min().x, extent.max().x))
        .arg("y", range(extent.min().y, extent.max().y))
        .arg("area_lon", range(area.min().x, area.max().x))
        .arg("area_lat", range(area.min().y, area.max().y)))
}

/// The features' geometries in lon/lat (the storage CRS).
pub fn to_storage(source: Source) -> Result<Vec<SourceFeature>> {
    let t = Transform::new(source.epsg, STORAGE_EPSG)
        .map_err(|e| Error::invalid("bad_crs").arg("crs", e.to_string()))?;
    Ok(source
        .features
        .into_iter()
        .map(|f| SourceFeature {
            geometry: f.geometry.and_then(|g| {
                t.geometry(&g)
                    .map_err(|e| Error::invalid("invalid_geometry").arg("detail", e.to_string()))
            }),
            ..f
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wuhai() -> Rect<f64> {
        Rect::new(
            Coord {
                x: 106.55,
                y: 39.20,
            },
            Coord {
                x: 107.15,
                y: 39.92,
            },
        )
    }

    #[test]
    fn coordinates_in_the_area_pass_and_others_say_why_not() {
        let lon_lat = Rect::new(Coord { x: 106.6, y: 39.4 }, Coord { x: 106.7, y: 39.5 });
        assert!(check_area(lon_lat, 4326, wuhai()).is_ok());
        // Gauss-Kruger metres of the same place (EPSG:4545).
        let t = Transform::new(4326, 4545).expect("t");
        let a = t.coord(lon_lat.min()).expect("a");
        let b = t.coord(lon_lat.max()).expect("b");
        let gk = Rect::new(a, b);
        assert!(check_area(gk, 4545, wuhai()).is_ok());
        let msg = check_area(gk, 4326, wuhai())
            .expect_err("metres as degrees")
            .message(crate::i18n::Lang::En);
        assert!(
            msg.contains("EPSG:4545") && msg.contains("106.5500–107.1500"),
            "{msg}"
        );
        let swapped = Rect::new(Coord { x: 39.4, y: 106.6 }, Coord { x: 39.5, y: 106.7 });
        let msg = check_area(swapped, 4326, wuhai())
            .expect_err("swapped")
            .message(crate::i18n::Lang::En);
        assert!(msg.contains("swapped"), "{msg}");
    }
}

//! Exporting a layer, filtered and in the CRS asked for, through GDAL's own drivers (GeoPackage,
//! Shapefile, KML, GeoJSON, CSV) or as the fire-point ledger (XLSX, `ledger.rs`).
//!
//! Rows are read through the store in the caller's transaction — so the caller's scope decides
//! what leaves, and GDAL never opens the live database — and written feature by feature through
//! the gdal crate.
//! Polygons carry their geodesic area in m² (never planar degrees). Shapefiles get a `.cpg` of
//! UTF-8 and field names cut to the format's 10 characters by a fixed, readable abbreviation.

use std::path::Path;

use gdal::DriverManager;
use gdal::vector::{
    Feature, FieldDefn, FieldValue, LayerAccess, LayerOptions, OGRFieldType, OGRwkbGeometryType,
    ToGdal,
};
use geo::Geometry;
use serde_json::{Map, Value};

use super::crs::{STORAGE_EPSG, Transform, spatial_ref};
use crate::domain::access::Scope;
use crate::domain::fire::Status;
use crate::error::{Error, Result};
use crate::layers::{FieldType, GeometryType, Layer};
use crate::store::Tx;
use crate::store::features::{self, Visible};

/// An export format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Gpkg,
    Shapefile,
    Kml,
    GeoJson,
    Csv,
    /// The fire-point ledger (火点台账).
    Xlsx,
}

impl Format {
    pub const ALL: [Format; 6] = [
        Format::Gpkg,
        Format::Shapefile,
        Format::Kml,
        Format::GeoJson,
        Format::Csv,
        Format::Xlsx,
    ];

    /// The name the command line and the API take (GDAL's driver names).
    pub fn name(self) -> &'static str {
        match self {
            Format::Gpkg => "GPKG",
            Format::Shapefile => "ESRI Shapefile",
            Format::Kml => "KML",
            Format::GeoJson => "GeoJSON",
            Format::Csv => "CSV",
            Format::Xlsx => "XLSX",
        }
    }

    /// Parses a format name, ignoring case; `shp`, `shapefile`, `json` and `excel` also work.
    pub fn parse(s: &str) -> Result<Format> {
        let t = s.trim().to_ascii_lowercase();
        let f = match t.as_str() {
            "gpkg" | "geopackage" => Format::Gpkg,
            "esri shapefile" | "shapefile" | "shp" => Format::Shapefile,
            "kml" => Format::Kml,
            "geojson" | "json" => Format::GeoJson,
            "csv" => Format::Csv,
            "xlsx" | "excel" => Format::Xlsx,
            _ => {
                return Err(Error::invalid("export_format").arg("format", s).arg(
                    "allowed",
                    Format::ALL
                        .iter()
                        .map(|f| f.name())
                        .collect::<Vec<_>>()
                        .join(", "),
                ));
            }
        };
        Ok(f)
    }

    /// The file extension of a download (a Shapefile downloads as GDAL's zipped `.shp.zip`).
    pub fn extension(self) -> &'static str {
        match self {
            Format::Gpkg => "gpkg",
            Format::Shapefile => "shp.zip",
            Format::Kml => "kml",
            Format::GeoJson => "geojson",
            Format::Csv => "csv",
            Format::Xlsx => "xlsx",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Gpkg => "application/geopackage+sqlite3",
            Format::Shapefile => "application/zip",
            Format::Kml => "application/vnd.google-earth.kml+xml",
            Format::GeoJson => "application/geo+json",
            Format::Csv => "text/csv; charset=utf-8",
            Format::Xlsx => "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        }
    }
}

/// A `--where field=value[,value…]` filter: the field is one of the values.
#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    pub field: String,
    pub values: Vec<String>,
}

/// Parses `field=value` filters against a layer. Values may be codes or their labels
/// (`status=治理中`); on fire points `status=burning` and `status=open` stand for those sets.
pub fn parse_filters(layer: &Layer, args: &[String]) -> Result<Vec<Filter>> {
    let mut out = vec![];
    for a in args {
        let Some((field, value)) = a.split_once('=') else {
            return Err(Error::invalid("export_where").arg("got", a.clone()));
        };
        let (field, value) = (field.trim(), value.trim());
        let Some(f) = layer.public_fields().find(|f| f.name == field) else {
            return Err(Error::invalid("export_where_field")
                .arg("layer", layer.name.clone())
                .arg("field", field)
                .arg(
                    "fields",
                    layer
                        .public_fields()
                        .map(|f| f.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", "),
                ));
        };
        let fire_status = field == "status" && layer.field("cleared_at").is_some();
        let mut values = vec![];
        for v in value.split(',').map(str::trim).filter(|v| !v.is_empty()) {
            let set = |keep: fn(Status) -> bool| {
                Status::ALL
                    .into_iter()
                    .filter(|s| keep(*s))
                    .map(|s| s.as_str().to_string())
                    .collect::<Vec<_>>()
            };
            match (&f.values, v) {
                (_, "burning") if fire_status => values.extend(set(Status::is_burning)),
                (_, "open") if fire_status => values.extend(set(Status::is_open)),
                (Some(allowed), v) => {
                    let code = allowed.iter().find(|a| *a == v).cloned().or_else(|| {
                        f.labels
                            .iter()
                            .find(|(_, t)| t.zh == v || t.en.eq_ignore_ascii_case(v))
                            .map(|(code, _)| code.clone())
                    });
                    let Some(code) = code else {
                        let mut allowed = allowed.clone();
                        if fire_status {
                            allowed.extend(["burning".into(), "open".into()]);
                        }
                        return Err(Error::invalid("field_not_allowed")
                            .arg("field", field)
                            .arg("allowed", allowed.join(", ")));
                    };
                    values.push(code);
                }
                (None, v) => values.push(v.to_string()),
            }
        }
        if values.is_empty() {
            return Err(Error::invalid("export_where").arg("got", a.clone()));
        }
        out.push(Filter {
            field: field.to_string(),
            values,
        });
    }
    Ok(out)
}

/// What to export.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    pub layer: &'a Layer,
    pub format: Format,
    pub filters: Vec<Filter>,
    /// The output CRS.
    pub epsg: u32,
    /// What the person exporting may read (everything on the command line).
    pub scope: Scope,
    /// The start of the re-ignition watch, for the patrol scope.
    pub watch_since: String,
}

/// What an export wrote.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    pub features: usize,
    /// Fields renamed for the Shapefile format: (field, column).
    pub renamed: Vec<(String, String)>,
}

impl Request<'_> {
    /// What the person exporting may see of the layer.
    pub fn visible(&self) -> Visible<'_> {
        Visible::new(self.layer, &self.scope, &self.watch_since)
    }

    /// The `--where` filters as the store takes them.
    pub fn store_filters(&self) -> Vec<features::Filter> {
        self.filters
            .iter()
            .map(|f| features::Filter::one_of(&f.field, &f.values))
            .collect()
    }
}

/// Calls `f` with each row (fid, lon/lat geometry, public fields) the scope and filters allow,
/// in fid order, streaming: a province's million fire points never sit in memory at once.
pub fn for_each_row(
    tx: &dyn Tx,
    req: &Request,
    mut f: impl FnMut(i64, Geometry<f64>, Map<String, Value>) -> Result<()>,
) -> Result<()> {
    let mut failed = None;
    tx.features().for_each(
        &req.visible(),
        &req.store_filters(),
        &mut |fid, g, props| match f(fid, g, props) {
            Ok(()) => true,
            Err(e) => {
                failed = Some(e);
                false
            }
        },
    )?;
    failed.map_or(Ok(()), Err)
}

/// Words shortened for the Shapefile format's 10-character field names.
const ABBREVIATIONS: &[(&str, &str)] = &[
    ("responsible", "resp"),
    ("district", "dist"),
    ("position", "pos"),
    ("source", "src"),
    ("reported", "rep"),
    ("controlled", "ctrl"),
    ("reignitions", "reignit"),
    ("accuracy", "acc"),
    ("candidates", "cand"),
    ("monitoring", "monitor"),
    ("holder", "hold"),
    ("status", "stat"),
];

/// Shapefile column names for fields: as they are when they fit, else with the words
/// abbreviated, else cut; unique (a clash gets a number).
pub fn shapefile_names(fields: &[String]) -> Vec<String> {
    let mut out: Vec<String> = vec![];
    for name in fields {
        let mut short = name.clone();
        if short.len() > 10 {
            short = name
                .split('_')
                .map(|w| {
                    ABBREVIATIONS
                        .iter()
                        .find(|(long, _)| *long == w)
                        .map_or(w, |(_, s)| s)
                })
                .collect::<Vec<_>>()
                .join("_");
        }
        short.truncate(10);
        let mut candidate = short.clone();
        let mut i = 1;
        while out.contains(&candidate) {
            let suffix = i.to_string();
            candidate = format!("{}{suffix}", &short[..short.len().min(10 - suffix.len())]);
            i += 1;
        }
        out.push(candidate);
    }
    out
}

/// 422 `export_failed` naming the file and what the writer said: the one message for a GDAL
/// driver's failure and the XLSX ledger's alike.
pub(super) fn failed(out: &Path, e: impl std::fmt::Display) -> Error {
    Error::invalid("export_failed")
        .arg("path", out.display().to_string())
        .arg("detail", e.to_string())
}

fn wkb_type(g: GeometryType) -> OGRwkbGeometryType::Type {
    match g {
        GeometryType::Point => OGRwkbGeometryType::wkbPoint,
        GeometryType::LineString => OGRwkbGeometryType::wkbLineString,
        GeometryType::Polygon => OGRwkbGeometryType::wkbPolygon,
        GeometryType::MultiPolygon => OGRwkbGeometryType::wkbMultiPolygon,
    }
}

/// The columns an export writes: the layer's public fields, plus `area_m2` on polygon layers
/// that do not store one.
fn columns(layer: &Layer) -> Vec<(String, FieldType)> {
    let mut cols: Vec<(String, FieldType)> = layer
        .public_fields()
        .map(|f| (f.name.clone(), f.kind))
        .collect();
    if polygonal(layer) && !cols.iter().any(|(n, _)| n == "area_m2") {
        cols.push(("area_m2".into(), FieldType::Real));
    }
    cols
}

fn polygonal(layer: &Layer) -> bool {
    matches!(
        layer.geometry,
        GeometryType::Polygon | GeometryType::MultiPolygon
    )
}

/// Writes a layer to `out` in the requested format. `out` must not exist yet.
pub fn export(tx: &dyn Tx, req: &Request, out: &Path) -> Result<Summary> {
    if out.exists() {
        return Err(Error::invalid("export_exists").arg("path", out.display().to_string()));
    }
    match req.format {
        Format::Xlsx => super::ledger::write(tx, req, out),
        Format::Kml if !matches!(req.epsg, 4326 | 4490) => Err(Error::invalid("export_kml_crs")),
        _ => write_vector(tx, req, out),
    }
}

fn write_vector(tx: &dyn Tx, req: &Request, out: &Path) -> Result<Summary> {
    let layer = req.layer;
    let driver_name = match req.format {
        // LIBKML writes (and reads back) every attribute as ExtendedData; the plain KML driver
        // is the fallback where GDAL was built without libkml.
        Format::Kml => {
            if DriverManager::get_driver_by_name("LIBKML").is_ok() {
                "LIBKML"
            } else {
                "KML"
            }
        }
        f => f.name(),
    };
    let driver = DriverManager::get_driver_by_name(driver_name).map_err(|e| failed(out, e))?;
    let cols = columns(layer);
    let names: Vec<String> = if req.format == Format::Shapefile {
        shapefile_names(&cols.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>())
    } else {
        cols.iter().map(|(n, _)| n.clone()).collect()
    };
    let renamed = cols
        .iter()
        .zip(&names)
        .filter(|((a, _), b)| a != *b)
        .map(|((a, _), b)| (a.clone(), b.clone()))
        .collect();
    let mut layer_options: Vec<&str> = vec![];
    match req.format {
        Format::Shapefile => layer_options.extend(["ENCODING=UTF-8", "RESIZE=YES"]),
        // Points as X and Y columns (which import reads back), other shapes as WKT; a BOM so
        // that Excel opens the Chinese text as UTF-8.
        Format::Csv if layer.geometry == GeometryType::Point => {
            layer_options.extend(["GEOMETRY=AS_XY", "WRITE_BOM=YES"])
        }
        Format::Csv => layer_options.extend(["GEOMETRY=AS_WKT", "WRITE_BOM=YES"]),
        _ => {}
    }
    let _name_field = (req.format == Format::Kml)
        .then(|| KmlNameField::set(layer.style.label.as_deref().unwrap_or("name")));
    let srs =
        spatial_ref(req.epsg).map_err(|e| Error::invalid("bad_crs").arg("crs", e.to_string()))?;
    let mut ds = driver.create_vector_only(out).map_err(|e| failed(out, e))?;
    let target = Target {
        req,
        out,
        srs: &srs,
        cols: &cols,
        names: &names,
        options: &layer_options,
    };
    let features = if req.format == Format::Gpkg {
        // A GeoPackage written feature by feature outside a transaction commits each one.
        let mut txn = ds.start_transaction().map_err(|e| failed(out, e))?;
        let n = target.fill(tx, &mut txn)?;
        txn.commit().map_err(|e| failed(out, e))?;
        n
    } else {
        target.fill(tx, &mut ds)?
    };
    ds.close().map_err(|e| failed(out, e))?;
    Ok(Summary { features, renamed })
}

/// LIBKML writes this field as each Placemark's `<name>`: the field the map labels with (a
/// fire's code, a mine's name). A thread-local GDAL option, unset again when dropped.
struct KmlNameField;

impl KmlNameField {
    fn set(field: &str) -> KmlNameField {
        let _ = gdal::config::set_thread_local_config_option("LIBKML_NAME_FIELD", field);
        KmlNameField
    }
}

impl Drop for KmlNameField {
    fn drop(&mut self) {
        let _ = gdal::config::clear_thread_local_config_option("LIBKML_NAME_FIELD");
    }
}

/// A text cell a spreadsheet will not run: one starting with `=`, `+`, `-`, `@`, a tab or a
/// carriage return gets a leading `'` (OWASP's CSV injection guidance).
pub fn spreadsheet_safe(s: String) -> String {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s
    }
}

/// One output layer being written.
struct Target<'a> {
    req: &'a Request<'a>,
    out: &'a Path,
    srs: &'a gdal::spatial_ref::SpatialRef,
    cols: &'a [(String, FieldType)],
    names: &'a [String],
    options: &'a [&'a str],
}

impl Target<'_> {
    /// Creates the layer and its fields in `ds` and writes every row; returns the count.
    fn fill(&self, tx: &dyn Tx, ds: &mut gdal::Dataset) -> Result<usize> {
        let (req, out, layer) = (self.req, self.out, self.req.layer);
        let t = Transform::new(STORAGE_EPSG, req.epsg)
            .map_err(|e| Error::invalid("bad_crs").arg("crs", e.to_string()))?;
        let gl = ds
            .create_layer(LayerOptions {
                name: &layer.name,
                srs: Some(self.srs),
                ty: wkb_type(layer.geometry),
                options: (!self.options.is_empty()).then_some(self.options),
            })
            .map_err(|e| failed(out, e))?;
        for ((_, kind), name) in self.cols.iter().zip(self.names) {
            let ty = match kind {
                FieldType::Integer => OGRFieldType::OFTInteger64,
                FieldType::Real => OGRFieldType::OFTReal,
                FieldType::Text | FieldType::Json => OGRFieldType::OFTString,
            };
            let fd = FieldDefn::new(name, ty).map_err(|e| failed(out, e))?;
            if req.format == Format::Shapefile && ty == OGRFieldType::OFTString {
                // The format's longest text; RESIZE shrinks it to what is used.
                fd.set_width(254);
            }
            fd.add_to_layer(&gl).map_err(|e| failed(out, e))?;
        }
        let mut n = 0;
        for_each_row(tx, req, |_, g, mut props| {
            if let Some(area) = super::area_m2(&g) {
                props.insert("area_m2".into(), Value::from(area));
            }
            let g = t
                .geometry(&g)
                .map_err(|e| failed(out, e))?
                .to_gdal()
                .map_err(|e| failed(out, e))?;
            let mut feature = Feature::new(gl.defn()).map_err(|e| failed(out, e))?;
            feature.set_geometry(g).map_err(|e| failed(out, e))?;
            for (i, (name, _)) in self.cols.iter().enumerate() {
                let value = match props.get(name) {
                    Some(Value::Number(x)) if x.is_i64() => {
                        x.as_i64().map(FieldValue::Integer64Value)
                    }
                    Some(Value::Number(x)) => x.as_f64().map(FieldValue::RealValue),
                    Some(Value::String(s)) => Some(FieldValue::StringValue(s.clone())),
                    Some(Value::Null) | None => None,
                    Some(other) => Some(FieldValue::StringValue(other.to_string())),
                };
                // Text typed by people could be a formula to a spreadsheet opening the CSV;
                // numbers stay numbers (a negative one is not a formula).
                let value = match value {
                    Some(FieldValue::StringValue(s)) if self.req.format == Format::Csv => {
                        Some(FieldValue::StringValue(spreadsheet_safe(s)))
                    }
                    v => v,
                };
                if let Some(v) = value {
                    // GDAL converts a whole number given to a Real column, and the reverse.
                    feature.set_field(i, &v).map_err(|e| failed(out, e))?;
                }
            }
            feature.create(&gl).map_err(|e| failed(out, e))?;
            n += 1;
            Ok(())
        })?;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::Registry;

    #[test]
    fn text_that_a_spreadsheet_would_run_is_quoted() {
        for (s, want) in [
            (
                "=HYPERLINK(\"http://x\",\"y\")",
                "'=HYPERLINK(\"http://x\",\"y\")",
            ),
            ("+1", "'+1"),
            ("-2+3", "'-2+3"),
            ("@SUM(A1)", "'@SUM(A1)"),
            ("\tx", "'\tx"),
            ("\rx", "'\rx"),
            ("煤层自燃", "煤层自燃"),
            ("a=b", "a=b"),
            ("", ""),
        ] {
            assert_eq!(spreadsheet_safe(s.into()), want);
        }
    }

    #[test]
    fn shapefile_names_are_short_readable_and_unique() {
        let names: Vec<String> = [
            "responsible_party",
            "responsible_name",
            "responsible_holder",
            "district_code",
            "position_source",
            "reported_at",
            "max_temp_c",
            "reignitions",
            "abcdefghijk_1",
            "abcdefghijk_2",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        assert_eq!(
            shapefile_names(&names),
            vec![
                "resp_party",
                "resp_name",
                "resp_hold",
                "dist_code",
                "pos_src",
                "rep_at",
                "max_temp_c",
                "reignit",
                "abcdefghij",
                "abcdefghi1"
            ]
        );
    }

    #[test]
    fn filters_take_codes_labels_and_the_burning_and_open_sets() {
        let registry = Registry::builtin().expect("layers");
        let fires = registry.get("fire_points").expect("fires");
        let f = parse_filters(fires, &["status=burning".into()]).expect("burning");
        assert_eq!(
            f[0].values,
            vec!["reported", "confirmed", "treating", "reignited"]
        );
        let f = parse_filters(
            fires,
            &["status=治理中,controlled".into(), "kind=coal_seam".into()],
        )
        .expect("labels");
        assert_eq!(f[0].values, vec!["treating", "controlled"]);
        assert_eq!(f[1].field, "kind");
        let msg = parse_filters(fires, &["status=smouldering".into()])
            .expect_err("value")
            .message(crate::i18n::Lang::En);
        assert!(msg.contains("burning, open"), "{msg}");
        let msg = parse_filters(fires, &["colour=red".into()])
            .expect_err("field")
            .message(crate::i18n::Lang::En);
        assert!(msg.contains("colour") && msg.contains("status"), "{msg}");
        assert!(parse_filters(fires, &["status".into()]).is_err());
        assert_eq!(
            Format::parse("esri shapefile").ok(),
            Some(Format::Shapefile)
        );
        assert!(Format::parse("dwg").is_err());
    }
}

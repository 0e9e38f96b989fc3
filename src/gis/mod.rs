//! GIS interoperability: coordinate systems (GDAL/PROJ), reading any GDAL vector source, field
//! mapping and geometry repair for import, and export through GDAL's drivers or as the XLSX ledger.

pub mod crs;
pub mod export;
pub mod ledger;
pub mod mapping;
pub mod repair;
pub mod source;

use geo::orient::{Direction, Orient};
use geo::{Coord, Rect};

/// The smallest rectangle holding both (extents are folded with it).
pub fn union(a: Rect<f64>, b: Rect<f64>) -> Rect<f64> {
    Rect::new(
        Coord {
            x: a.min().x.min(b.min().x),
            y: a.min().y.min(b.min().y),
        },
        Coord {
            x: a.max().x.max(b.max().x),
            y: a.max().y.max(b.max().y),
        },
    )
}

/// Sends GDAL's own warnings (laundered names, driver notes) to the debug log: they are for
/// debugging, not for the person importing or exporting. Once per process.
pub fn quiet_gdal_warnings() {
    gdal::config::set_error_handler(|class, _, msg| {
        tracing::debug!(?class, "GDAL: {msg}");
    });
}
use geo::{GeodesicArea, Geometry};

/// A polygon's area in square metres on the ellipsoid (geo's geodesic area: never planar
/// degrees), rounded to 0.01 m²; None for other shapes. The rings are oriented first because
/// the geodesic area of a clockwise ring is the rest of the Earth.
pub fn area_m2(g: &Geometry<f64>) -> Option<f64> {
    let area = match g {
        Geometry::Polygon(p) => p.orient(Direction::Default).geodesic_area_unsigned(),
        Geometry::MultiPolygon(m) => m.orient(Direction::Default).geodesic_area_unsigned(),
        _ => return None,
    };
    Some((area * 100.0).round() / 100.0)
}

/// A GeoJSON geometry as a `geo` geometry, refusing positions with fewer than two coordinates
/// (geojson 1.0's conversion indexes `[1]` without checking and would panic on `[107]`; found by
/// the `geojson_feature` fuzz target).
pub fn geometry_from_geojson(value: &geojson::GeometryValue) -> Result<Geometry<f64>, String> {
    use geojson::GeometryValue as V;
    fn short(ps: &[geojson::Position]) -> bool {
        ps.iter().any(|p| p.as_slice().len() < 2)
    }
    fn check(value: &V) -> Result<(), String> {
        let bad = match value {
            V::Point { coordinates } => short(std::slice::from_ref(coordinates)),
            V::MultiPoint { coordinates } | V::LineString { coordinates } => short(coordinates),
            V::MultiLineString { coordinates } | V::Polygon { coordinates } => {
                coordinates.iter().any(|l| short(l))
            }
            V::MultiPolygon { coordinates } => coordinates.iter().flatten().any(|l| short(l)),
            V::GeometryCollection { geometries } => {
                return geometries.iter().try_for_each(|g| check(&g.value));
            }
        };
        if bad {
            Err("a position needs at least two coordinates (longitude, latitude)".into())
        } else {
            Ok(())
        }
    }
    check(value)?;
    Geometry::try_from(value).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_position_of_one_coordinate_is_refused_not_a_panic() {
        let v: geojson::Geometry = serde_json::from_str(
            r#"{"type":"Polygon","coordinates":[[[106.8,39.6],[107],[106.8,39.6]]]}"#,
        )
        .expect("parses as GeoJSON");
        let e = geometry_from_geojson(&v.value).expect_err("refused");
        assert!(e.contains("two coordinates"), "{e}");
        let ok: geojson::Geometry =
            serde_json::from_str(r#"{"type":"Point","coordinates":[106.8,39.6]}"#).expect("point");
        assert!(matches!(
            geometry_from_geojson(&ok.value),
            Ok(Geometry::Point(_))
        ));
    }
}

//! GIS interoperability: coordinate systems (GDAL/PROJ), reading any GDAL vector source, field
//! mapping and geometry repair for import, and export through GDAL's drivers or as the XLSX ledger.

pub mod crs;
pub mod export;
pub mod ledger;
pub mod mapping;
pub mod repair;
pub mod source;

use geo::orient::{Direction, Orient};
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

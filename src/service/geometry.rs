//! A geometry checked against its layer before it is stored, the same for an import and an
//! edit: the layer's geometry type (a Polygon taken as a one-part MultiPolygon), not empty,
//! coordinates in lon/lat range, rings oriented one way, valid by geo's rules.

use geo::orient::{Direction, Orient};
use geo::{CoordsIter, Geometry, MultiPolygon, Validation};

use crate::error::{Error, Result};
use crate::layers::{GeometryType, Layer};
use crate::service::case::check_lon_lat;

/// A geometry shaped for the layer: the right type (a Polygon is taken as a one-part
/// MultiPolygon), not empty, coordinates in lon/lat range.
pub fn shape(layer: &Layer, g: Geometry<f64>) -> Result<Geometry<f64>> {
    let got = name(&g);
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
                .arg("got", got));
        }
    };
    if g.coords_count() == 0 {
        return Err(Error::invalid("empty_geometry"));
    }
    for c in g.coords_iter() {
        check_lon_lat(c.into())?;
    }
    // Exterior rings counter-clockwise, holes clockwise (RFC 7946; a Shapefile has them the
    // other way round), so that every outline is stored and served one way.
    Ok(match g {
        Geometry::MultiPolygon(m) => Geometry::MultiPolygon(m.orient(Direction::Default)),
        Geometry::Polygon(p) => Geometry::Polygon(p.orient(Direction::Default)),
        g => g,
    })
}

/// Every reason geo's validation gives, joined.
pub fn problems(g: &Geometry<f64>) -> Option<String> {
    let errors = g.validation_errors();
    (!errors.is_empty()).then(|| {
        errors
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; ")
    })
}

/// A geometry checked against the layer: the right type (a Polygon is taken as a one-part
/// MultiPolygon), coordinates in lon/lat range, and valid by geo's rules.
pub fn check(layer: &Layer, g: Geometry<f64>) -> Result<Geometry<f64>> {
    let g = shape(layer, g)?;
    match problems(&g) {
        Some(detail) => Err(Error::invalid("invalid_geometry").arg("detail", detail)),
        None => Ok(g),
    }
}

fn name(g: &Geometry<f64>) -> &'static str {
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

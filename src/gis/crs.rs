//! Coordinate reference systems through GDAL/PROJ. Everything is stored in lon/lat (CGCS2000
//! treated as WGS84); data arrives and leaves in the CRS the user names.
//!
//! Axis order: EPSG:4326/4490 are lat/lon and EPSG:4545 northing/easting by authority; every
//! spatial reference here uses the traditional GIS order (x = easting or longitude), so points
//! never come out swapped.

use gdal::spatial_ref::{AxisMappingStrategy, CoordTransform, SpatialRef};
use geo::{Coord, Geometry, MapCoords};

/// The CRS we store in.
pub const STORAGE_EPSG: u32 = 4326;

/// CRSs the product names (DOMAIN.md): WGS84, CGCS2000 geographic, CGCS2000 3° Gauss-Kruger
/// CM 108°E without and with the zone prefix, Xian 1980 and Beijing 1954 GK.
pub const KNOWN_EPSG: [u32; 6] = [4326, 4490, 4545, 4524, 2381, 2433];

#[derive(Debug, thiserror::Error)]
pub enum CrsError {
    #[error("unknown coordinate system {0:?}; use EPSG:CODE, e.g. EPSG:4545")]
    Unknown(String),
    #[error("cannot transform coordinates: {0}")]
    Transform(String),
}

/// Parses `EPSG:4545`, `epsg:4545` or `4545`, and the OGC URI form
/// `http://www.opengis.net/def/crs/EPSG/0/4545`; CRS84 is 4326 in lon/lat order.
pub fn parse_epsg(s: &str) -> Result<u32, CrsError> {
    let t = s.trim();
    if t.ends_with("/OGC/1.3/CRS84")
        || t.eq_ignore_ascii_case("CRS84")
        || t.eq_ignore_ascii_case("OGC:CRS84")
    {
        return Ok(4326);
    }
    let code = t
        .rsplit(['/', ':'])
        .next()
        .filter(|_| {
            t.contains("EPSG") || t.contains("epsg") || t.chars().all(|c| c.is_ascii_digit())
        })
        .and_then(|c| c.parse::<u32>().ok());
    code.ok_or_else(|| CrsError::Unknown(s.to_string()))
}

/// A spatial reference from an EPSG code, in traditional GIS axis order.
pub fn spatial_ref(epsg: u32) -> Result<SpatialRef, CrsError> {
    let mut srs =
        SpatialRef::from_epsg(epsg).map_err(|_| CrsError::Unknown(format!("EPSG:{epsg}")))?;
    srs.set_axis_mapping_strategy(AxisMappingStrategy::TraditionalGisOrder);
    Ok(srs)
}

/// A reusable transformation between two EPSG codes (identity when equal, or between the two
/// geographic systems we treat as one).
pub struct Transform {
    inner: Option<CoordTransform>,
}

fn same(a: u32, b: u32) -> bool {
    a == b || matches!((a, b), (4326, 4490) | (4490, 4326))
}

impl Transform {
    pub fn new(from: u32, to: u32) -> Result<Transform, CrsError> {
        if same(from, to) {
            return Ok(Transform { inner: None });
        }
        let t = CoordTransform::new(&spatial_ref(from)?, &spatial_ref(to)?)
            .map_err(|e| CrsError::Transform(e.to_string()))?;
        Ok(Transform { inner: Some(t) })
    }

    pub fn is_identity(&self) -> bool {
        self.inner.is_none()
    }

    /// Transforms one coordinate.
    pub fn coord(&self, c: Coord<f64>) -> Result<Coord<f64>, CrsError> {
        let Some(t) = &self.inner else { return Ok(c) };
        let (mut x, mut y, mut z) = ([c.x], [c.y], [0.0]);
        t.transform_coords(&mut x, &mut y, &mut z)
            .map_err(|e| CrsError::Transform(e.to_string()))?;
        Ok(Coord { x: x[0], y: y[0] })
    }

    /// Transforms a geometry.
    pub fn geometry(&self, g: &Geometry<f64>) -> Result<Geometry<f64>, CrsError> {
        if self.inner.is_none() {
            return Ok(g.clone());
        }
        g.try_map_coords(|c| self.coord(c))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epsg_codes_parse_in_every_usual_spelling() {
        assert_eq!(parse_epsg("EPSG:4545").ok(), Some(4545));
        assert_eq!(parse_epsg("epsg:4490").ok(), Some(4490));
        assert_eq!(parse_epsg("4524").ok(), Some(4524));
        assert_eq!(
            parse_epsg("http://www.opengis.net/def/crs/EPSG/0/4545").ok(),
            Some(4545)
        );
        assert_eq!(
            parse_epsg("http://www.opengis.net/def/crs/OGC/1.3/CRS84").ok(),
            Some(4326)
        );
        assert!(parse_epsg("WGS 84").is_err());
    }

    /// The check from STACK-NOTES: EPSG:4545 (513800, 3800000) is lon 108.14995311, lat 34.32750291.
    #[test]
    fn gauss_kruger_coordinates_come_out_in_lon_lat_order() {
        let t = Transform::new(4545, 4326).expect("transform");
        let c = t
            .coord(Coord {
                x: 513_800.0,
                y: 3_800_000.0,
            })
            .expect("coord");
        assert!(
            (c.x - 108.149_953_11).abs() < 1e-7 && (c.y - 34.327_502_91).abs() < 1e-7,
            "{c:?}"
        );
        let back = Transform::new(4326, 4545)
            .expect("transform")
            .coord(c)
            .expect("coord");
        assert!(
            (back.x - 513_800.0).abs() < 0.001 && (back.y - 3_800_000.0).abs() < 0.001,
            "{back:?}"
        );
        // Zone-prefixed eastings (EPSG:4524) land on the same place.
        let z = Transform::new(4524, 4326)
            .expect("transform")
            .coord(Coord {
                x: 36_513_800.0,
                y: 3_800_000.0,
            })
            .expect("coord");
        assert!(
            (z.x - c.x).abs() < 1e-7 && (z.y - c.y).abs() < 1e-7,
            "{z:?}"
        );
        for code in KNOWN_EPSG {
            assert!(Transform::new(code, 4326).is_ok(), "EPSG:{code}");
        }
    }
}

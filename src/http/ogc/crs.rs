//! OGC API - Features Part 2 (coordinate reference systems by reference): the CRSs items are
//! served in and bboxes may be given in, their URIs, and reprojection at the edge.
//!
//! Storage is CRS84 (lon/lat). Coordinates in any other CRS follow that CRS's axis order, as
//! Part 2 requires and QGIS expects (it flips axes by the CRS since 3.28.7): EPSG:4326 and
//! EPSG:4490 are latitude first, EPSG:4545 (CGCS2000 3° Gauss-Kruger CM 108°E) northing (X)
//! first, as Chinese survey data writes it. CRS84 is the only longitude-first one.

use geo::{Coord, Geometry, MapCoords};

use crate::error::Error;
use crate::gis::crs::Transform;

/// The OGC URI of CRS84, the default of Part 1.
pub const CRS84_URI: &str = "http://www.opengis.net/def/crs/OGC/1.3/CRS84";

/// A CRS that items can be served in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Crs {
    /// WGS 84 longitude/latitude (CRS84).
    Crs84,
    /// An EPSG code, in the authority's axis order.
    Epsg(u32),
}

/// What the server offers, CRS84 first (the storage CRS).
pub const SUPPORTED: [Crs; 4] = [
    Crs::Crs84,
    Crs::Epsg(4326),
    Crs::Epsg(4490),
    Crs::Epsg(4545),
];

impl Crs {
    pub fn uri(self) -> String {
        match self {
            Crs::Crs84 => CRS84_URI.to_string(),
            Crs::Epsg(code) => format!("http://www.opengis.net/def/crs/EPSG/0/{code}"),
        }
    }

    /// The EPSG code GDAL transforms with (CRS84 is 4326 in traditional GIS order).
    pub fn epsg(self) -> u32 {
        match self {
            Crs::Crs84 => 4326,
            Crs::Epsg(code) => code,
        }
    }

    /// Whether the first axis is latitude or northing (every EPSG CRS we offer).
    pub fn north_first(self) -> bool {
        !matches!(self, Crs::Crs84)
    }

    /// Parses the OGC URI (`http://www.opengis.net/def/crs/EPSG/0/4545`), a safe CURIE
    /// (`[EPSG:4545]`) or `EPSG:4545`; CRS84 as its URI, `OGC:CRS84` or `CRS84`. Only the
    /// supported CRSs are accepted (400 naming them otherwise).
    pub fn parse(s: &str) -> Result<Crs, Error> {
        let t = s.trim().trim_start_matches('[').trim_end_matches(']');
        let crs84 = ["CRS84", "OGC:CRS84"];
        let parsed = if crs84.iter().any(|c| t.eq_ignore_ascii_case(c))
            || t.ends_with("/OGC/1.3/CRS84")
            || t.ends_with("/OGC/0/CRS84")
        {
            Some(Crs::Crs84)
        } else {
            let code = t
                .strip_prefix("http://www.opengis.net/def/crs/EPSG/0/")
                .or_else(|| t.strip_prefix("https://www.opengis.net/def/crs/EPSG/0/"))
                .or_else(|| {
                    t.get(..5)
                        .filter(|p| p.eq_ignore_ascii_case("EPSG:"))
                        .and(t.get(5..))
                });
            code.and_then(|c| c.parse::<u32>().ok()).map(Crs::Epsg)
        };
        parsed.filter(|c| SUPPORTED.contains(c)).ok_or_else(|| {
            Error::bad_request("ogc_bad_crs")
                .arg("crs", s.to_string())
                .arg("allowed", supported_list())
        })
    }
}

/// The supported CRS URIs, comma-separated (for messages).
pub fn supported_list() -> String {
    SUPPORTED
        .iter()
        .map(|c| c.uri())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Reprojects between storage (CRS84) and one CRS, swapping axes where that CRS is north first.
/// Built per request inside the blocking closure (GDAL transforms are not shared across threads).
pub struct Projector {
    transform: Transform,
    swap: bool,
    to_storage: bool,
}

impl Projector {
    /// From storage to `crs` (serving items).
    pub fn output(crs: Crs) -> Result<Projector, Error> {
        Ok(Projector {
            transform: Transform::new(4326, crs.epsg()).map_err(crs_error)?,
            swap: crs.north_first(),
            to_storage: false,
        })
    }

    /// From `crs` to storage (a bbox-crs, a Content-Crs request body).
    pub fn input(crs: Crs) -> Result<Projector, Error> {
        Ok(Projector {
            transform: Transform::new(crs.epsg(), 4326).map_err(crs_error)?,
            swap: crs.north_first(),
            to_storage: true,
        })
    }

    pub fn is_identity(&self) -> bool {
        self.transform.is_identity() && !self.swap
    }

    pub fn coord(&self, c: Coord<f64>) -> Result<Coord<f64>, Error> {
        let flip = |c: Coord<f64>| {
            if self.swap {
                Coord { x: c.y, y: c.x }
            } else {
                c
            }
        };
        if self.to_storage {
            self.transform.coord(flip(c)).map_err(crs_error)
        } else {
            self.transform.coord(c).map(flip).map_err(crs_error)
        }
    }

    pub fn geometry(&self, g: &Geometry<f64>) -> Result<Geometry<f64>, Error> {
        if self.is_identity() {
            return Ok(g.clone());
        }
        g.try_map_coords(|c| self.coord(c))
    }

    /// A bbox in the input CRS's axis order as a CRS84 [minlon, minlat, maxlon, maxlat]. The
    /// edges are densified so that a projected box's curved sides are covered.
    pub fn bbox_to_storage(&self, b: [f64; 4]) -> Result<[f64; 4], Error> {
        const STEPS: usize = 16;
        let mut out = [
            f64::INFINITY,
            f64::INFINITY,
            f64::NEG_INFINITY,
            f64::NEG_INFINITY,
        ];
        for i in 0..=STEPS {
            let f = i as f64 / STEPS as f64;
            let a = b[0] + (b[2] - b[0]) * f;
            let c = b[1] + (b[3] - b[1]) * f;
            for p in [
                Coord { x: a, y: b[1] },
                Coord { x: a, y: b[3] },
                Coord { x: b[0], y: c },
                Coord { x: b[2], y: c },
            ] {
                let q = self.coord(p)?;
                out = [
                    out[0].min(q.x),
                    out[1].min(q.y),
                    out[2].max(q.x),
                    out[3].max(q.y),
                ];
            }
        }
        Ok(out)
    }
}

fn crs_error(e: crate::gis::crs::CrsError) -> Error {
    Error::invalid("crs_transform").arg("detail", e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uris_curies_and_short_forms_parse_and_others_are_refused() {
        assert_eq!(Crs::parse(CRS84_URI).ok(), Some(Crs::Crs84));
        assert_eq!(Crs::parse("OGC:CRS84").ok(), Some(Crs::Crs84));
        assert_eq!(
            Crs::parse("http://www.opengis.net/def/crs/EPSG/0/4545").ok(),
            Some(Crs::Epsg(4545))
        );
        assert_eq!(Crs::parse("[EPSG:4490]").ok(), Some(Crs::Epsg(4490)));
        assert_eq!(Crs::parse("epsg:4326").ok(), Some(Crs::Epsg(4326)));
        assert!(Crs::parse("EPSG:3857").is_err());
        assert!(Crs::parse("WGS84").is_err());
    }

    #[test]
    fn gauss_kruger_output_is_northing_first_and_comes_back() {
        let out = Projector::output(Crs::Epsg(4545)).expect("projector");
        let p = out
            .coord(Coord {
                x: 108.149_953_11,
                y: 34.327_502_91,
            })
            .expect("coord");
        // STACK-NOTES: (E 513800, N 3800000); Part 2 order puts the northing first.
        assert!(
            (p.x - 3_800_000.0).abs() < 0.01 && (p.y - 513_800.0).abs() < 0.01,
            "{p:?}"
        );
        let back = Projector::input(Crs::Epsg(4545))
            .expect("projector")
            .coord(p)
            .expect("coord");
        assert!((back.x - 108.149_953_11).abs() < 1e-8, "{back:?}");
        let lat_lon = Projector::output(Crs::Epsg(4326)).expect("projector");
        let q = lat_lon.coord(Coord { x: 106.8, y: 39.6 }).expect("coord");
        assert_eq!((q.x, q.y), (39.6, 106.8));
        assert!(Projector::output(Crs::Crs84).expect("p").is_identity());
    }

    #[test]
    fn a_projected_bbox_becomes_a_lon_lat_box_around_it() {
        let input = Projector::input(Crs::Epsg(4545)).expect("projector");
        let b = input
            .bbox_to_storage([3_799_000.0, 512_800.0, 3_801_000.0, 514_800.0])
            .expect("bbox");
        assert!(b[0] < 108.149_953 && b[2] > 108.149_953, "{b:?}");
        assert!(b[1] < 34.3275 && b[3] > 34.3275, "{b:?}");
    }
}

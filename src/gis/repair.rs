//! Repairing invalid polygons for `import --fix`: GEOS's MakeValid through GDAL (geo has no
//! make-valid), keeping only the polygonal parts, and saying what changed.

use gdal::cpl::CslStringList;
use gdal::vector::ToGdal;
use geo::{Geometry, MultiPolygon, Validation};

/// A repaired geometry and what was done to it, in words for the import report.
#[derive(Debug, Clone)]
pub struct Repaired {
    pub geometry: Geometry<f64>,
    /// e.g. "self-intersection → MultiPolygon of 2 parts, 1234 m²".
    pub what: String,
}

/// Polygons and multipolygons in a geometry (MakeValid may return a collection that also holds
/// the collapsed lines or points of a degenerate ring; those carry no area and are dropped).
fn polygons(g: Geometry<f64>, out: &mut Vec<geo::Polygon<f64>>, dropped: &mut usize) {
    match g {
        Geometry::Polygon(p) => out.push(p),
        Geometry::MultiPolygon(m) => out.extend(m.0),
        Geometry::GeometryCollection(c) => {
            for g in c.0 {
                polygons(g, out, dropped);
            }
        }
        _ => *dropped += 1,
    }
}

/// Repairs a (multi)polygon that geo's validation refuses. `problem` is that refusal, repeated
/// in the description. Returns why not when nothing valid comes out.
pub fn make_valid(g: &Geometry<f64>, problem: &str) -> Result<Repaired, String> {
    let gdal_geom = g.to_gdal().map_err(|e| e.to_string())?;
    let fixed = gdal_geom
        .make_valid(&CslStringList::new())
        .map_err(|e| e.to_string())?
        .to_geo()
        .map_err(|e| e.to_string())?;
    let mut parts = vec![];
    let mut dropped = 0;
    polygons(fixed, &mut parts, &mut dropped);
    if parts.is_empty() {
        return Err("no area is left (the outline collapses to lines or points)".into());
    }
    let n = parts.len();
    let geometry = Geometry::MultiPolygon(MultiPolygon(parts));
    if let Err(e) = geometry.check_validation() {
        return Err(format!("the repaired outline is still invalid: {e}"));
    }
    let area = super::area_m2(&geometry).unwrap_or_default();
    let mut what = format!("{problem} → MultiPolygon of {n} part(s), {area:.0} m²");
    if dropped > 0 {
        what += &format!("; {dropped} degenerate line/point part(s) dropped");
    }
    Ok(Repaired { geometry, what })
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::polygon;

    #[test]
    fn a_bow_tie_becomes_two_triangles() {
        let bow = Geometry::Polygon(polygon![
            (x: 106.6, y: 39.6), (x: 106.7, y: 39.65), (x: 106.7, y: 39.6), (x: 106.6, y: 39.65), (x: 106.6, y: 39.6)
        ]);
        assert!(bow.check_validation().is_err());
        let r = make_valid(&bow, "self-intersection").expect("repaired");
        let Geometry::MultiPolygon(m) = &r.geometry else {
            panic!("{:?}", r.geometry)
        };
        assert_eq!(m.0.len(), 2);
        assert!(
            r.what
                .starts_with("self-intersection → MultiPolygon of 2 part(s)"),
            "{}",
            r.what
        );
    }
}

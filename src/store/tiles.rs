//! Map tiles' data: what a tile of a layer may show, read as far as a reader's scope allows
//! ([`Visible`]). Point layers keep a pre-aggregated grid (counts and coordinate sums per cell,
//! status and scope key) up to date in the same transaction as every change of their rows, so a
//! low-zoom tile never reads the points themselves; every layer keeps a change counter, so a
//! tile's validator changes whenever what it may show does.
//!
//! Cells are Web Mercator tiles of a deeper zoom: cell `(cx, cy)` of level `L` is tile
//! `L/cx/cy` of the WebMercatorQuad tile matrix set.

use geo::Geometry;
use serde_json::Value;

use super::Result;
use super::features::Visible;

/// The levels the grid is kept at. A tile of zoom `z` takes its clusters from the first level at
/// least `z + 3` deep (8 to 16 cells across a tile).
pub const GRID_LEVELS: [u8; 6] = [4, 6, 8, 10, 12, 14];

/// The Web Mercator latitude limit (the square world of WebMercatorQuad).
pub const MAX_LAT: f64 = 85.051_128_779_806_59;

/// The column of `lon` at `level` (a fraction: its floor is the cell or tile).
pub fn mercator_x(lon: f64, level: u8) -> f64 {
    (lon + 180.0) / 360.0 * f64::from(1u32 << level)
}

/// The row of `lat` at `level` (a fraction, counted from the north).
pub fn mercator_y(lat: f64, level: u8) -> f64 {
    let phi = lat.clamp(-MAX_LAT, MAX_LAT).to_radians();
    (1.0 - (phi.tan() + 1.0 / phi.cos()).ln() / std::f64::consts::PI) / 2.0
        * f64::from(1u32 << level)
}

/// The longitude of the west edge of column `x` at `level` (a fraction for points inside).
pub fn lon_of(x: f64, level: u8) -> f64 {
    x / f64::from(1u32 << level) * 360.0 - 180.0
}

/// The latitude of the north edge of row `y` at `level` (a fraction for points inside).
pub fn lat_of(y: f64, level: u8) -> f64 {
    let n = std::f64::consts::PI * (1.0 - 2.0 * y / f64::from(1u32 << level));
    n.sinh().atan().to_degrees()
}

/// A block of grid cells: columns `x0..=x1` and rows `y0..=y1` of `level`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CellRange {
    pub level: u8,
    pub x0: u32,
    pub x1: u32,
    pub y0: u32,
    pub y1: u32,
}

impl CellRange {
    /// `[minlon, minlat, maxlon, maxlat]` of the block.
    pub fn bbox(&self) -> [f64; 4] {
        [
            lon_of(f64::from(self.x0), self.level),
            lat_of(f64::from(self.y1) + 1.0, self.level),
            lon_of(f64::from(self.x1) + 1.0, self.level),
            lat_of(f64::from(self.y0), self.level),
        ]
    }
}

/// The features of one status (empty for layers without a `status` field) in one cell that a
/// reader may see: how many, and the sums of their longitudes and latitudes (their centre is
/// the sums over the count).
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    pub cx: u32,
    pub cy: u32,
    pub status: String,
    pub n: u64,
    pub sum_lon: f64,
    pub sum_lat: f64,
}

/// A point feature of a tile: its fid, position and the values of the fields asked for, in
/// order (json fields as stored text).
#[derive(Debug, Clone)]
pub struct PointRow {
    pub fid: i64,
    pub lon: f64,
    pub lat: f64,
    pub values: Vec<Value>,
}

/// An area feature of a tile: its fid, bounding box `[minx, miny, maxx, maxy]`, its geometry
/// unless the box is smaller than the detail asked for (a feature under a pixel is drawn from
/// its box: its vertices are not read), and the values of the fields asked for.
#[derive(Debug, Clone)]
pub struct ShapeRow {
    pub fid: i64,
    pub bbox: [f64; 4],
    pub geometry: Option<Geometry<f64>>,
    pub values: Vec<Value>,
}

/// Reading what tiles show.
pub trait Tiles {
    /// A counter that changes with every insert, update or delete of the layer's features.
    fn version(&self, layer: &str) -> Result<i64>;
    /// The cells of `range` holding features `view` allows, one per cell and status, from the
    /// grid (never reading the points, except the few a scope cannot take from the grid: a
    /// patrol's fires cleared within the re-ignition watch).
    fn cells(&self, view: &Visible, range: &CellRange) -> Result<Vec<Cell>>;
    /// The point features `view` allows whose position is in `bbox` (edges included), with the
    /// values of `fields`.
    fn points(
        &self,
        view: &Visible,
        bbox: [f64; 4],
        fields: &[&str],
        each: &mut dyn FnMut(PointRow),
    ) -> Result<()>;
    /// The features `view` allows whose bounding box meets `bbox`, with the values of `fields`;
    /// the geometry of those whose box is at least `detail` (`[dx, dy]` in degrees) on one side.
    fn shapes(
        &self,
        view: &Visible,
        bbox: [f64; 4],
        detail: [f64; 2],
        fields: &[&str],
        each: &mut dyn FnMut(ShapeRow),
    ) -> Result<()>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mercator_rows_and_columns_invert() {
        for (lon, lat) in [(106.8, 39.6), (-70.0, -33.4), (0.0, 0.0), (179.9, 80.0)] {
            for level in [0u8, 5, 14] {
                let x = mercator_x(lon, level);
                let y = mercator_y(lat, level);
                assert!((lon_of(x, level) - lon).abs() < 1e-9);
                assert!((lat_of(y, level) - lat).abs() < 1e-9);
            }
        }
        // Tile 5/25/12 (z/x/y) holds Wuhai.
        assert_eq!(mercator_x(106.8, 5).floor(), 25.0);
        assert_eq!(mercator_y(39.6, 5).floor(), 12.0);
        let r = CellRange {
            level: 1,
            x0: 0,
            x1: 1,
            y0: 0,
            y1: 1,
        };
        let b = r.bbox();
        assert!((b[0] + 180.0).abs() < 1e-9 && (b[2] - 180.0).abs() < 1e-9);
        assert!((b[3] - MAX_LAT).abs() < 1e-9 && (b[1] + MAX_LAT).abs() < 1e-9);
    }
}

//! Map tiles of the layers (OGC API - Tiles, WebMercatorQuad) as Mapbox vector tiles (MVT 2.1,
//! extent 4096): one MVT layer named after the layer, holding what the reader may see.
//!
//! - Area layers: each feature clipped to the tile and a 64-unit buffer and simplified to the
//!   tile's units; a feature under a pixel (8 units, a 512-pixel tile) is drawn as its box
//!   without reading its vertices, and of several such in one pixel with the same style values
//!   one is kept (they look the same), with no id and no fields but its style values (nothing
//!   that small is read or picked; zoomed in, the feature itself comes with all it shows).
//! - Point layers from zoom [`POINTS_FROM`]: the features themselves, each in exactly one tile
//!   (no buffer, so counts add up and a click finds one feature).
//! - Point layers below it: one point per grid cell (8 to 16 across a tile) at the centre of its
//!   features, with their counts by status, from the store's pre-aggregated grid.
//!
//! A tile's ETag is made of what it depends on: the layer's change counter, the reader's scope,
//! the tile, the server's start (layer files and code) and, for tiles whose content moves with
//! the clock (a fire becoming overdue, leaving the re-ignition watch), the minute.

use std::collections::{BTreeMap, HashSet};
use std::num::NonZeroUsize;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use geo::{Coord, LineString, MultiPolygon, Polygon, Simplify};
use lru::LruCache;
use mvt::{GeomEncoder, GeomType};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::domain::access::Scope;
use crate::domain::fire::{Rules, Status};
use crate::error::Error;
use crate::layers::{GeometryType, Layer};
use crate::store::Tx;
use crate::store::features::Visible;
use crate::store::tiles::{CellRange, GRID_LEVELS, PointRow, ShapeRow, mercator_x, mercator_y};

/// Units across a tile.
pub const EXTENT: u32 = 4096;
/// Units of the area layers' buffer around a tile.
pub const BUFFER: u32 = 64;
/// The deepest zoom served.
pub const MAX_ZOOM: u8 = 22;
/// From this zoom on, point layers' tiles hold the features; below it, clusters.
pub const POINTS_FROM: u8 = 12;
/// Units in a pixel of a 512-pixel tile (MapLibre's vector tile size).
const PIXEL: f64 = 8.0;
/// Simplification tolerance, in units.
const TOLERANCE: f64 = 1.0;

/// A tile of WebMercatorQuad: zoom, column, row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TileId {
    pub z: u8,
    pub x: u32,
    pub y: u32,
}

impl TileId {
    /// The tile, if it exists (zoom 0 to [`MAX_ZOOM`], column and row below 2^zoom).
    pub fn new(z: u32, y: u32, x: u32) -> Option<TileId> {
        let z = u8::try_from(z).ok().filter(|z| *z <= MAX_ZOOM)?;
        let n = 1u32 << z;
        (x < n && y < n).then_some(TileId { z, x, y })
    }

    /// A position in the tile's units (y down).
    fn units(&self, lon: f64, lat: f64) -> (f64, f64) {
        let e = f64::from(EXTENT);
        (
            (mercator_x(lon, self.z) - f64::from(self.x)) * e,
            (mercator_y(lat, self.z) - f64::from(self.y)) * e,
        )
    }

    /// `[minlon, minlat, maxlon, maxlat]` of the tile widened by `buffer` units.
    fn bbox(&self, buffer: u32) -> [f64; 4] {
        let b = f64::from(buffer) / f64::from(EXTENT);
        let (x0, y0) = (f64::from(self.x) - b, f64::from(self.y) - b);
        let (x1, y1) = (f64::from(self.x) + 1.0 + b, f64::from(self.y) + 1.0 + b);
        let z = self.z;
        let lon = |x: f64| crate::store::tiles::lon_of(x, z).clamp(-180.0, 180.0);
        let lat = |y: f64| crate::store::tiles::lat_of(y, z);
        [lon(x0), lat(y1), lon(x1), lat(y0)]
    }
}

/// Tiles that were slow to make (the area layers at low zooms draw every shape in a wide box),
/// kept by their ETag — which names everything a tile's content depends on (the layer's change
/// counter, the reader's scope and hidden fields, the tile, the minute where content moves with
/// the clock) — so the next reader of the same tile gets its bytes without drawing it again.
/// Bounded by count: a tile is at most a few hundred KB.
pub struct Made {
    kept: Mutex<LruCache<String, Arc<Vec<u8>>>>,
    slow: Duration,
}

impl Made {
    /// How many slow tiles are kept.
    const KEPT: NonZeroUsize = NonZeroUsize::new(64).expect("non-zero");
    /// A tile that took this long to make is kept.
    const SLOW: Duration = Duration::from_millis(10);

    pub fn new() -> Made {
        Made::keeping_from(Self::SLOW)
    }

    /// Keeps the tiles that took at least `slow` to make (a test keeps every tile).
    pub fn keeping_from(slow: Duration) -> Made {
        Made {
            kept: Mutex::new(LruCache::new(Self::KEPT)),
            slow,
        }
    }

    fn kept(&self) -> std::sync::MutexGuard<'_, LruCache<String, Arc<Vec<u8>>>> {
        self.kept.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Default for Made {
    fn default() -> Made {
        Made::new()
    }
}

/// What a reader asks for.
pub struct Request<'a> {
    pub layer: &'a Layer,
    pub scope: &'a Scope,
    /// Fields this reader may not see.
    pub hidden: &'a [String],
    pub tile: TileId,
    pub now: DateTime<Utc>,
    pub rules: &'a Rules,
    /// The slow tiles already made.
    pub made: &'a Made,
}

/// A tile's answer.
pub enum Answer {
    /// The client's copy (its `If-None-Match`) is current.
    NotModified {
        etag: String,
    },
    /// Nothing the reader may see is in the tile.
    Empty {
        etag: String,
    },
    Tile {
        etag: String,
        bytes: Arc<Vec<u8>>,
    },
}

/// Differs from one start of the server to the next: a tile cached before a restart (new
/// layer files, new code, a restored backup) is never taken for current.
static STARTED: LazyLock<String> = LazyLock::new(|| uuid::Uuid::new_v4().to_string());

/// Whether the layer's features have a fire's life cycle (burning, overdue, watched).
fn fire_life(layer: &Layer) -> bool {
    layer.field("status").is_some()
        && layer.field("cleared_at").is_some()
        && layer.field("deadline").is_some()
}

fn points_layer(layer: &Layer) -> bool {
    layer.geometry == GeometryType::Point
}

/// Whether the tile's content moves with the clock.
fn timed(r: &Request) -> bool {
    fire_life(r.layer)
        && points_layer(r.layer)
        && (r.tile.z >= POINTS_FROM || *r.scope == Scope::Open)
}

/// The tile's ETag (quoted), from everything its content depends on.
fn etag(r: &Request, version: i64, minute: &str) -> String {
    let mut h = Sha256::new();
    let t = r.tile;
    h.update(format!(
        "{}\n{}\n{version}\n{:?}\n{:?}\n{}/{}/{}\n{}",
        *STARTED,
        r.layer.name,
        r.scope,
        r.hidden,
        t.z,
        t.x,
        t.y,
        if timed(r) { minute } else { "" }
    ));
    format!("\"{}\"", hex::encode(&h.finalize()[..12]))
}

/// The tile for `r` in the read transaction `tx`, or [`Answer::NotModified`] when `current`
/// says the client holds the tile with this ETag.
pub fn answer(tx: &dyn Tx, r: &Request, current: &dyn Fn(&str) -> bool) -> Result<Answer, Error> {
    // Content that moves with the clock is computed as of the minute, as its ETag says.
    let now = r.now.duration_trunc(TimeDelta::minutes(1)).unwrap_or(r.now);
    let minute = crate::store::fires::ts(now);
    let etag = etag(r, tx.tiles().version(&r.layer.name)?, &minute);
    if current(&etag) {
        return Ok(Answer::NotModified { etag });
    }
    if let Some(bytes) = r.made.kept().get(&etag).cloned() {
        return Ok(Answer::Tile { etag, bytes });
    }
    let started = Instant::now();
    let since = crate::service::fires::watch_since(now, r.rules);
    let view = Visible::new(r.layer, r.scope, &since);
    let layer = if points_layer(r.layer) {
        if r.tile.z >= POINTS_FROM {
            points(tx, r, &view, now, &since)?
        } else {
            clusters(tx, r, &view)?
        }
    } else {
        shapes(tx, r, &view)?
    };
    if layer.num_features() == 0 {
        return Ok(Answer::Empty { etag });
    }
    let mut tile = mvt::Tile::new(EXTENT);
    tile.add_layer(layer).map_err(encoding)?;
    let bytes = Arc::new(tile.to_bytes().map_err(encoding)?);
    if started.elapsed() >= r.made.slow {
        r.made.kept().put(etag.clone(), bytes.clone());
    }
    Ok(Answer::Tile { etag, bytes })
}

fn encoding(e: mvt::Error) -> Error {
    Error::Store(crate::error::StoreError::Engine(Box::new(e)))
}

/// Adds a property from a stored value (json fields are stored as text: kept as text).
fn tag(f: &mut mvt::Feature, key: &str, v: &Value) {
    match v {
        Value::String(s) => f.add_tag_string(key, s),
        Value::Bool(b) => f.add_tag_bool(key, *b),
        Value::Number(n) => match n.as_i64() {
            Some(i) => f.add_tag_sint(key, i),
            None => f.add_tag_double(key, n.as_f64().unwrap_or(0.0)),
        },
        Value::Null | Value::Array(_) | Value::Object(_) => {}
    }
}

/// The fields a feature carries besides its id: the key (unless it is the id: a UUID), the
/// label, what the style colours by, and `code`, `name`, `status`, `kind`, `licence_no` where
/// the layer has them; never a field hidden from the reader.
fn shown_fields<'a>(r: &Request<'a>) -> Vec<&'a str> {
    let l = r.layer;
    let mut names: Vec<&str> = vec![];
    let candidates = l
        .key
        .as_deref()
        .filter(|k| *k != "uuid")
        .into_iter()
        .chain(l.style.label.as_deref())
        .chain(l.style.by.as_ref().map(|b| b.field.as_str()))
        .chain(["code", "name", "status", "kind", "licence_no"]);
    for name in candidates {
        if let Some(f) = l.field(name)
            && !f.internal
            && !r.hidden.iter().any(|h| h == name)
            && !names.contains(&f.name.as_str())
        {
            names.push(f.name.as_str());
        }
    }
    names
}

/// The fields read for a tile's features: those shown, then the UUID of layers keyed by it (their
/// features' id as in `/items`).
fn read_fields<'a>(r: &Request<'a>) -> (Vec<&'a str>, usize) {
    let mut fields = shown_fields(r);
    let shown = fields.len();
    if r.layer.key.as_deref() == Some("uuid") {
        fields.push("uuid");
    }
    (fields, shown)
}

/// A feature's id as in `/items`: the UUID of layers keyed by it, else the fid.
fn id_of(layer: &Layer, fid: i64, fields: &[&str], values: &[Value]) -> Value {
    if layer.key.as_deref() == Some("uuid")
        && let Some(i) = fields.iter().rposition(|f| *f == "uuid")
        && let Value::String(s) = &values[i]
    {
        return Value::String(s.clone());
    }
    Value::from(fid)
}

/// Point features from [`POINTS_FROM`] on.
fn points(
    tx: &dyn Tx,
    r: &Request,
    view: &Visible,
    now: DateTime<Utc>,
    since: &str,
) -> Result<mvt::Layer, Error> {
    let (mut fields, shown) = read_fields(r);
    let extra = fields.len();
    let life = fire_life(r.layer);
    if life {
        for f in ["status", "deadline", "cleared_at"] {
            fields.push(f);
        }
    }
    let t = r.tile;
    let mut rows: Vec<PointRow> = vec![];
    tx.tiles()
        .points(view, t.bbox(0), &fields, &mut |p| rows.push(p))?;
    rows.sort_by_key(|p| p.fid);
    let now = crate::store::fires::ts(now);
    let mut layer = mvt::Tile::new(EXTENT).create_layer(&r.layer.name);
    let e = f64::from(EXTENT);
    for p in rows {
        let (x, y) = t.units(p.lon, p.lat);
        // Each point in one tile: the west and north edges are the tile's, the others the next.
        if !(0.0..e).contains(&x) || !(0.0..e).contains(&y) {
            continue;
        }
        let geom = GeomEncoder::new(GeomType::Point)
            .point(x.floor(), y.floor())
            .and_then(GeomEncoder::encode)
            .map_err(encoding)?;
        let mut f = layer.into_feature(geom);
        f.set_id(u64::try_from(p.fid).unwrap_or_default());
        tag(&mut f, "id", &id_of(r.layer, p.fid, &fields, &p.values));
        for (name, v) in fields.iter().zip(&p.values).take(shown) {
            tag(&mut f, name, v);
        }
        if life {
            let text = |i: usize| p.values[extra + i].as_str().unwrap_or("");
            let status = Status::parse(text(0));
            let burning = status.is_some_and(Status::is_burning);
            f.add_tag_bool("burning", burning);
            f.add_tag_bool(
                "overdue",
                burning && !text(1).is_empty() && text(1) < now.as_str(),
            );
            f.add_tag_bool(
                "watched",
                status == Some(Status::Cleared) && text(2) >= since,
            );
        }
        layer = f.into_layer();
    }
    Ok(layer)
}

/// The grid level a tile of zoom `z` takes its clusters from.
fn grid_level(z: u8) -> u8 {
    GRID_LEVELS
        .iter()
        .copied()
        .find(|l| *l >= z + 3)
        .unwrap_or(GRID_LEVELS[GRID_LEVELS.len() - 1])
}

/// Clusters below [`POINTS_FROM`].
fn clusters(tx: &dyn Tx, r: &Request, view: &Visible) -> Result<mvt::Layer, Error> {
    let t = r.tile;
    let level = grid_level(t.z).max(t.z);
    let k = level - t.z;
    let range = CellRange {
        level,
        x0: t.x << k,
        x1: ((t.x + 1) << k) - 1,
        y0: t.y << k,
        y1: ((t.y + 1) << k) - 1,
    };
    #[derive(Default)]
    struct Sum {
        n: u64,
        lon: f64,
        lat: f64,
        by_status: BTreeMap<String, u64>,
    }
    let mut cells: BTreeMap<(u32, u32), Sum> = BTreeMap::new();
    for c in tx.tiles().cells(view, &range)? {
        let s = cells.entry((c.cy, c.cx)).or_default();
        s.n += c.n;
        s.lon += c.sum_lon;
        s.lat += c.sum_lat;
        if !c.status.is_empty() {
            *s.by_status.entry(c.status).or_default() += c.n;
        }
    }
    let life = fire_life(r.layer);
    let mut layer = mvt::Tile::new(EXTENT).create_layer(&r.layer.name);
    let top = f64::from(EXTENT - 1);
    for s in cells.values().filter(|s| s.n > 0) {
        let n = s.n as f64;
        let (x, y) = t.units(s.lon / n, s.lat / n);
        let geom = GeomEncoder::new(GeomType::Point)
            .point(x.clamp(0.0, top).floor(), y.clamp(0.0, top).floor())
            .and_then(GeomEncoder::encode)
            .map_err(encoding)?;
        let mut f = layer.into_feature(geom);
        f.add_tag_bool("cluster", true);
        f.add_tag_uint("count", s.n);
        if life {
            let sum = |pick: fn(Status) -> bool| -> u64 {
                s.by_status
                    .iter()
                    .filter(|(k, _)| Status::parse(k).is_some_and(pick))
                    .map(|(_, n)| n)
                    .sum()
            };
            f.add_tag_uint("burning", sum(Status::is_burning));
            f.add_tag_uint("not_cleared", sum(Status::is_open));
        }
        for (status, n) in &s.by_status {
            f.add_tag_uint(&format!("n_{status}"), *n);
        }
        layer = f.into_layer();
    }
    Ok(layer)
}

/// Clips a closed ring (in tile units) to the square `lo..=hi` on both axes, one edge at a time
/// (Sutherland–Hodgman: a concave ring may come back with edges along the square's side, in the
/// buffer, where they are not seen).
fn clip(ring: &[Coord<f64>], lo: f64, hi: f64) -> Vec<Coord<f64>> {
    type Edge = (
        fn(Coord<f64>, f64) -> bool,
        fn(Coord<f64>, Coord<f64>, f64) -> Coord<f64>,
    );
    let at_x = |a: Coord<f64>, b: Coord<f64>, x: f64| Coord {
        x,
        y: a.y + (b.y - a.y) * (x - a.x) / (b.x - a.x),
    };
    let at_y = |a: Coord<f64>, b: Coord<f64>, y: f64| Coord {
        x: a.x + (b.x - a.x) * (y - a.y) / (b.y - a.y),
        y,
    };
    let edges: [(Edge, f64); 4] = [
        ((|c, v| c.x >= v, at_x), lo),
        ((|c, v| c.x <= v, at_x), hi),
        ((|c, v| c.y >= v, at_y), lo),
        ((|c, v| c.y <= v, at_y), hi),
    ];
    let mut pts: Vec<Coord<f64>> = ring.to_vec();
    if pts.first() == pts.last() {
        pts.pop();
    }
    for ((inside, cut), v) in edges {
        if pts.is_empty() {
            break;
        }
        let mut out = Vec::with_capacity(pts.len() + 4);
        for (i, &b) in pts.iter().enumerate() {
            let a = pts[(i + pts.len() - 1) % pts.len()];
            match (inside(a, v), inside(b, v)) {
                (true, true) => out.push(b),
                (true, false) => out.push(cut(a, b, v)),
                (false, true) => {
                    out.push(cut(a, b, v));
                    out.push(b);
                }
                (false, false) => {}
            }
        }
        pts = out;
    }
    pts
}

/// A ring in whole tile units, clipped to the buffered tile and simplified, without repeated
/// points; None when less than a triangle of area is left.
fn ring(t: &TileId, ls: &LineString<f64>) -> Option<Vec<(i32, i32)>> {
    let units: Vec<Coord<f64>> = ls
        .coords()
        .map(|c| {
            let (x, y) = t.units(c.x, c.y);
            Coord { x, y }
        })
        .collect();
    let b = f64::from(BUFFER);
    let mut clipped = clip(&units, -b, f64::from(EXTENT) + b);
    let first = *clipped.first()?;
    clipped.push(first);
    let simple = LineString::new(clipped).simplify(TOLERANCE);
    let mut out: Vec<(i32, i32)> = Vec::with_capacity(simple.0.len());
    for c in &simple.0 {
        let p = (c.x.round() as i32, c.y.round() as i32);
        if out.last() != Some(&p) {
            out.push(p);
        }
    }
    while out.len() > 1 && out.first() == out.last() {
        out.pop();
    }
    let area2: i64 = (0..out.len())
        .map(|i| {
            let (a, b) = (out[i], out[(i + 1) % out.len()]);
            i64::from(a.0) * i64::from(b.1) - i64::from(b.0) * i64::from(a.1)
        })
        .sum();
    (out.len() >= 3 && area2 != 0).then_some(out)
}

/// Encodes a polygon's rings, given in tile units and oriented (outer rings with a positive
/// area, y down: clockwise on screen; holes negative). A ring never starts where the previous
/// one ended (the encoder would then leave out its MoveTo).
fn add_rings(
    enc: &mut GeomEncoder<f64>,
    rings: &[Vec<(i32, i32)>],
    last: &mut Option<(i32, i32)>,
) -> Result<(), mvt::Error> {
    for r in rings {
        let start = r.iter().position(|p| Some(*p) != *last).unwrap_or(0);
        for i in 0..r.len() {
            let (x, y) = r[(start + i) % r.len()];
            enc.add_point(f64::from(x), f64::from(y))?;
        }
        *last = r.get((start + r.len() - 1) % r.len()).copied();
        enc.complete_geom()?;
    }
    Ok(())
}

/// Area features.
fn shapes(tx: &dyn Tx, r: &Request, view: &Visible) -> Result<mvt::Layer, Error> {
    let t = r.tile;
    let (fields, shown) = read_fields(r);
    let by: Vec<usize> = fields
        .iter()
        .enumerate()
        .filter(|(_, f)| {
            matches!(**f, "status" | "kind")
                || r.layer.style.by.as_ref().is_some_and(|b| b.field == **f)
        })
        .map(|(i, _)| i)
        .collect();
    let bbox = t.bbox(BUFFER);
    let inner = t.bbox(0);
    // A pixel, in degrees, at this tile.
    let detail = [
        (inner[2] - inner[0]) * PIXEL / f64::from(EXTENT),
        (inner[3] - inner[1]) * PIXEL / f64::from(EXTENT),
    ];
    let mut rows: Vec<ShapeRow> = vec![];
    tx.tiles()
        .shapes(view, bbox, detail, &fields, &mut |s| rows.push(s))?;
    rows.sort_by_key(|s| s.fid);
    let mut layer = mvt::Tile::new(EXTENT).create_layer(&r.layer.name);
    let mut pixels: HashSet<(i64, i64, Vec<String>)> = HashSet::new();
    for s in rows {
        let mut enc = GeomEncoder::new(GeomType::Polygon);
        match &s.geometry {
            None => {
                // Under a pixel: its box, once per pixel and look.
                let (x0, y1) = t.units(s.bbox[0], s.bbox[1]);
                let (x1, y0) = t.units(s.bbox[2], s.bbox[3]);
                let (cx, cy) = ((x0 + x1) / 2.0, (y0 + y1) / 2.0);
                let look: Vec<String> = by.iter().map(|i| s.values[*i].to_string()).collect();
                let key = (
                    (cx / PIXEL).floor() as i64,
                    (cy / PIXEL).floor() as i64,
                    look,
                );
                if !pixels.insert(key) {
                    continue;
                }
                let (x0, y0) = (x0.round(), y0.round());
                let (x1, y1) = (x1.round().max(x0 + 1.0), y1.round().max(y0 + 1.0));
                // Clockwise on screen: top left, top right, bottom right, bottom left.
                for (x, y) in [(x0, y0), (x1, y0), (x1, y1), (x0, y1)] {
                    enc.add_point(x, y).map_err(encoding)?;
                }
                enc.complete_geom().map_err(encoding)?;
            }
            Some(g) => {
                use geo::orient::{Direction, Orient};
                let polys: Vec<Polygon<f64>> = match g {
                    geo::Geometry::Polygon(p) => vec![p.clone()],
                    geo::Geometry::MultiPolygon(MultiPolygon(ps)) => ps.clone(),
                    _ => vec![],
                };
                let mut last = None;
                for p in &polys {
                    // Oriented in degrees (y up) the rings come out reversed in tile units
                    // (y down): outer rings clockwise on screen, as MVT wants.
                    let p = p.orient(Direction::Reversed);
                    let Some(ext) = ring(&t, p.exterior()) else {
                        continue;
                    };
                    let mut rings = vec![ext];
                    rings.extend(p.interiors().iter().filter_map(|h| ring(&t, h)));
                    add_rings(&mut enc, &rings, &mut last).map_err(encoding)?;
                }
            }
        }
        let geom = enc.encode().map_err(encoding)?;
        if geom.is_empty() {
            continue;
        }
        let mut f = layer.into_feature(geom);
        if s.geometry.is_none() {
            // A box under a pixel stands for whatever shares its pixel and look: it carries the
            // look only. Names and ids at that size cannot be read or picked, and at a province's
            // low zooms (tens of thousands of boxes) they made most of the tile's bytes.
            for i in by.iter().filter(|i| **i < shown) {
                tag(&mut f, fields[*i], &s.values[*i]);
            }
            layer = f.into_layer();
            continue;
        }
        f.set_id(u64::try_from(s.fid).unwrap_or_default());
        tag(&mut f, "id", &id_of(r.layer, s.fid, &fields, &s.values));
        for (name, v) in fields.iter().zip(&s.values).take(shown) {
            tag(&mut f, name, v);
        }
        layer = f.into_layer();
    }
    Ok(layer)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tiles_exist_from_zoom_0_to_22_within_the_matrix() {
        assert!(TileId::new(0, 0, 0).is_some());
        assert!(TileId::new(0, 0, 1).is_none());
        assert!(TileId::new(3, 7, 7).is_some());
        assert!(TileId::new(3, 8, 0).is_none());
        assert!(TileId::new(22, 0, (1 << 22) - 1).is_some());
        assert!(TileId::new(23, 0, 0).is_none());
    }

    #[test]
    fn clusters_come_from_8_to_16_cells_across_a_tile() {
        for z in 0..POINTS_FROM {
            let k = grid_level(z) - z;
            assert!((3..=4).contains(&k), "zoom {z}: {k}");
        }
    }

    #[test]
    fn rings_are_clipped_to_the_buffered_tile() {
        let c = |x: f64, y: f64| Coord { x, y };
        // A square over the west edge: cut at the buffer's edge, the rest kept.
        let sq = [
            c(-200.0, 10.0),
            c(100.0, 10.0),
            c(100.0, 50.0),
            c(-200.0, 50.0),
            c(-200.0, 10.0),
        ];
        let out = clip(&sq, -64.0, 4160.0);
        assert_eq!(out.len(), 4);
        assert!(out.iter().all(|p| p.x >= -64.0));
        assert!(out.iter().any(|p| p.x == -64.0));
        // Wholly outside: nothing.
        let far = [
            c(5000.0, 0.0),
            c(6000.0, 0.0),
            c(6000.0, 10.0),
            c(5000.0, 0.0),
        ];
        assert!(clip(&far, -64.0, 4160.0).is_empty());
    }

    #[test]
    fn a_tile_box_holds_its_corners() {
        let t = TileId { z: 1, x: 1, y: 0 };
        let b = t.bbox(0);
        assert!((b[0] - 0.0).abs() < 1e-9 && (b[2] - 180.0).abs() < 1e-9);
        assert!(b[1].abs() < 1e-9);
        let (x, y) = t.units(90.0, 0.0);
        assert!((x - 2048.0).abs() < 1e-6 && (y - 4096.0).abs() < 1e-6);
    }
}

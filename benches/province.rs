//! `cargo bench --bench province -- [ARGS]`: province-scale figures (see the README).
//!
//! Generates once, deterministically from `--seed`, a province of districts, mining rights, waste
//! dumps, gangue heaps and fire points, written through the real import and store code into a
//! GeoPackage (default `bench-data/province.gpkg`, reused when present). Then, in one run:
//!
//! 1. responsibility assignments per second on one thread (`ResponsibilityIndex::assign`), with
//!    a linear scan of every polygon over a sample beside it, so the index's speed-up is visible;
//! 2. the latency of a 0.05° × 0.05° bbox query (limit 1000) on the fire layer, through
//!    `features::items` serialised to bytes, and through the HTTP server on a loopback port;
//! 3. map tiles (`--only tiles`): the latency and size of vector tiles of the fire and area
//!    layers at zooms 5, 8, 11, 12 and 14, drawn where the data is, as a manager and as a
//!    district officer, rendered directly and over HTTP, and revalidated with their ETag;
//! 4. reports (`--only reports`): on a copy of the GeoPackage (the data stay as generated), fire
//!    reports through the report use case (`service::fires::report`: checked, routed by the
//!    index, coded, stored with their event, the read model and the tile grid), one committed
//!    transaction each as a request makes them, then a batch of them per transaction as the
//!    generator writes.
//!
//! The machine may be shared and noisy: ratios measured side by side in one run mean more than
//! absolute figures, so the report gives both.

use std::collections::HashMap;
use std::f64::consts::{PI, TAU};
use std::hint::black_box;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::{Context, anyhow, bail};
use chrono::{DateTime, Datelike, Utc};
use geo::{Area, BoundingRect, Coord, Intersects, LineString, MultiPolygon, Point, Polygon, Rect};
use rand::distr::Distribution;
use rand::distr::weighted::WeightedIndex;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};

use qingling::app::{self, App};
use qingling::domain::access::Scope;
use qingling::domain::clearance::ScopeKey;
use qingling::domain::deadline;
use qingling::domain::fire::Rules;
use qingling::domain::fire::{FireKind, Status};
use qingling::domain::responsibility::{
    Areas, OutsideManagedArea, Party, ResponsibilityIndex, Responsible,
};
use qingling::domain::role::{Actor, Role};
use qingling::i18n::Lang;
use qingling::layers::{Layer, Registry};
use qingling::service::case::content_hash;
use qingling::service::fires::watch_since;
use qingling::service::import::import_geojson;
use qingling::store::features::{self, ItemQuery, Visible};
use qingling::store::fires::{EventRecord, NewFire, StateChange, ts};
// The bench names its own simulated steps `Step`.
use qingling::store::step::Step as EventStep;
use qingling::store::users::{self, NewUser, UserError};
use qingling::store::{Db, StoreError};

#[derive(clap::Parser)]
#[command(
    name = "province",
    about = "Province-scale benchmark on generated data"
)]
pub struct Args {
    /// The generated database: built if missing, reused if present (its sizes and seed must
    /// match the arguments).
    #[arg(long, default_value = "bench-data/province.gpkg")]
    db: PathBuf,
    /// Mining rights, about 100 vertices each.
    #[arg(long, default_value_t = 10_000)]
    mines: usize,
    /// Waste dumps, most inside or next to their mine.
    #[arg(long, default_value_t = 30_000)]
    dumps: usize,
    /// Gangue heaps, next to mines.
    #[arg(long, default_value_t = 1_000)]
    heaps: usize,
    /// Fire points, clustered in mining areas.
    #[arg(long, default_value_t = 1_000_000)]
    fires: usize,
    /// The years of history the fires are reported over, each with its life.
    #[arg(long, default_value_t = 10.0)]
    years: f64,
    /// Timed bbox queries (after 10 untimed warm-up ones), each direct and over HTTP.
    #[arg(long, default_value_t = 200)]
    queries: usize,
    /// Points assigned through the index on one thread.
    #[arg(long, default_value_t = 1_000_000)]
    assignments: usize,
    /// Points also assigned by scanning every polygon, for the index's speed-up.
    #[arg(long, default_value_t = 10_000)]
    naive_sample: usize,
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Tiles drawn per layer, zoom and role in the tiles phase (where the data is: the same tile
    /// may come twice at low zooms, where a few tiles hold the province).
    #[arg(long, default_value_t = 30)]
    tiles: usize,
    /// Run one part only (to check a change to that part quickly).
    #[arg(long, value_parser = ["assign", "queries", "tiles", "reports"])]
    only: Option<String>,
    /// Reports made through the report use case in the reports phase (on a copy of the data).
    #[arg(long, default_value_t = 3000)]
    reports: usize,
}

// The province: an 8° × 6° box split into a 10 × 10 grid of districts.
const WEST: f64 = 104.0;
const SOUTH: f64 = 36.0;
const WIDTH_DEG: f64 = 8.0;
const HEIGHT_DEG: f64 = 6.0;
const MID_LAT: f64 = 39.0;
const KM_PER_DEG_LAT: f64 = 110.574;
const COLS: usize = 10;
const ROWS: usize = 10;
/// Points between two grid corners on a district border shared by two districts.
const EDGE_POINTS: usize = 24;

const BOX_DEG: f64 = 0.05;
const LIMIT: usize = 1000;
const WARMUP: usize = 10;
const ASSIGN_TARGET_PER_S: f64 = 200_000.0;
const QUERY_TARGET_MS: f64 = 20.0;
/// Fires are reported over the year before this instant (fixed, so the data are reproducible).
const BASE_TIME: &str = "2026-03-01T00:00:00Z";
const BENCH_USER: &str = "bench-manager";
const BENCH_PASSWORD: &str = "bench-manager-password";
/// The setting that records how the bench database was generated.
const SETTING: &str = "bench";
/// The generator's version: a database from an older one is refused (delete it to regenerate).
const GENERATOR: u64 = 2;

// Independent random streams derived from the seed.
const ASSIGN_STREAM: u64 = 0xA551_6E00;
const QUERY_STREAM: u64 = 0x0B0C_5000;
const FIRE_STREAM: u64 = 0xF1E0_0000;
const TILE_STREAM: u64 = 0x711E_5000;
const REPORT_STREAM: u64 = 0x4E50_0000;

/// Where a sampled point is aimed.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Target {
    Mine,
    Dump,
    Heap,
    Near,
    Anywhere,
}

const TARGETS: [Target; 5] = [
    Target::Mine,
    Target::Dump,
    Target::Heap,
    Target::Near,
    Target::Anywhere,
];
const TARGET_NAMES: [&str; 5] = [
    "in a mine",
    "in a dump",
    "in a heap",
    "near a mine",
    "anywhere",
];

/// Generated fires: most inside mining rights (weighted: some mines burn far more than others),
/// on dumps and heaps, some just outside mines, a few anywhere in the province.
const FIRE_MIX: [f64; 5] = [0.65, 0.20, 0.03, 0.10, 0.02];
/// Assigned points: uniform over mines, more outside them than fires are.
const ASSIGN_MIX: [f64; 5] = [0.45, 0.25, 0.05, 0.15, 0.10];

fn main() -> ExitCode {
    // `cargo test --all-targets` builds and runs bench targets too, without `--bench`: there is
    // nothing to measure then. `cargo bench --bench province -- ARGS` passes `--bench` first.
    let mut argv: Vec<String> = std::env::args().collect();
    if !argv.iter().any(|a| a == "--bench") {
        eprintln!("province: run it with cargo bench --bench province -- [ARGS]");
        return ExitCode::SUCCESS;
    }
    argv.retain(|a| a != "--bench");
    run(<Args as clap::Parser>::parse_from(argv))
}

fn fail(msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("province: {msg}");
    ExitCode::FAILURE
}

fn run(args: Args) -> ExitCode {
    if cfg!(debug_assertions) {
        eprintln!(
            "province: a debug build; the figures mean little (cargo bench builds optimised)"
        );
    }
    match bench(&args) {
        Ok(report) => {
            print_report(&args, &report);
            ExitCode::SUCCESS
        }
        Err(e) => fail(format!("{e:#}")),
    }
}

// ---------------------------------------------------------------------------------------------
// Geometry in a local km frame (linear in degrees, so shapes keep their properties).

fn km_per_deg_lon() -> f64 {
    111.320 * MID_LAT.to_radians().cos()
}

fn province_km() -> (f64, f64) {
    (WIDTH_DEG * km_per_deg_lon(), HEIGHT_DEG * KM_PER_DEG_LAT)
}

fn to_deg(p: [f64; 2]) -> Coord<f64> {
    Coord {
        x: WEST + p[0] / km_per_deg_lon(),
        y: SOUTH + p[1] / KM_PER_DEG_LAT,
    }
}

fn at(c: [f64; 2], angle: f64, d: f64) -> [f64; 2] {
    [c[0] + d * angle.cos(), c[1] + d * angle.sin()]
}

fn dist(a: [f64; 2], b: [f64; 2]) -> f64 {
    (a[0] - b[0]).hypot(a[1] - b[1])
}

/// A disc in km: where a shape is drawn.
#[derive(Clone, Copy)]
struct Shape {
    c: [f64; 2],
    r: f64,
}

/// An irregular ring, star-shaped around the centre (one vertex per angle, angles increasing,
/// counter-clockwise), so always simple; radii between about (1 - rough) r and r.
fn star(rng: &mut StdRng, s: Shape, n: usize, rough: f64) -> Polygon<f64> {
    let harmonics: Vec<(f64, f64, f64)> = (2..=6)
        .map(|k| {
            (
                rng.random::<f64>(),
                rng.random_range(0.0..TAU),
                f64::from(k),
            )
        })
        .collect();
    let total: f64 = harmonics.iter().map(|h| h.0).sum::<f64>().max(1e-9);
    let ring: Vec<Coord<f64>> = (0..n)
        .map(|i| {
            let t = (i as f64 + rng.random_range(0.0..0.8)) / n as f64 * TAU;
            let h = harmonics
                .iter()
                .map(|(a, phase, k)| a * (k * t + phase).sin())
                .sum::<f64>()
                / total;
            let rr = s.r * (1.0 - rough * 0.5 * (1.0 - h)) * rng.random_range(0.97..1.0);
            to_deg(at(s.c, t, rr))
        })
        .collect();
    Polygon::new(LineString::from(ring), vec![])
}

/// The district grid: interior corners jittered, interior borders wiggly but shared exactly by
/// both neighbours (each border is drawn once from its own seed), outer borders straight.
fn district_polygons(seed: u64) -> Vec<(String, String, Polygon<f64>)> {
    let (w, h) = province_km();
    let (cw, ch) = (w / COLS as f64, h / ROWS as f64);
    let mut rng = StdRng::seed_from_u64(seed ^ 0xD157_0000);
    let vid = |i: usize, j: usize| j * (COLS + 1) + i;
    let mut corners = vec![[0.0; 2]; (COLS + 1) * (ROWS + 1)];
    let mut grid = vec![(0, 0); corners.len()];
    for j in 0..=ROWS {
        for i in 0..=COLS {
            let interior = i > 0 && i < COLS && j > 0 && j < ROWS;
            let (dx, dy) = if interior {
                (
                    rng.random_range(-0.2..0.2) * cw,
                    rng.random_range(-0.2..0.2) * ch,
                )
            } else {
                (0.0, 0.0)
            };
            corners[vid(i, j)] = [i as f64 * cw + dx, j as f64 * ch + dy];
            grid[vid(i, j)] = (i, j);
        }
    }
    let border = |a: usize, b: usize| -> Vec<[f64; 2]> {
        let (lo, hi) = (a.min(b), a.max(b));
        let ((i0, j0), (i1, j1)) = (grid[lo], grid[hi]);
        let outer = (i0 == i1 && (i0 == 0 || i0 == COLS)) || (j0 == j1 && (j0 == 0 || j0 == ROWS));
        if outer {
            return vec![];
        }
        let mut r = StdRng::seed_from_u64(
            seed ^ ((lo * 1_000_003 + hi) as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15),
        );
        let waves: Vec<(f64, f64, f64)> = (1..=3)
            .map(|k| (r.random::<f64>(), r.random_range(0.0..TAU), f64::from(k)))
            .collect();
        let total: f64 = waves.iter().map(|h| h.0).sum::<f64>().max(1e-9);
        let (pa, pb) = (corners[lo], corners[hi]);
        let d = [pb[0] - pa[0], pb[1] - pa[1]];
        let len = d[0].hypot(d[1]);
        let normal = [-d[1] / len, d[0] / len];
        let mut pts: Vec<[f64; 2]> = (1..=EDGE_POINTS)
            .map(|k| {
                let t = k as f64 / (EDGE_POINTS + 1) as f64;
                let wave = waves
                    .iter()
                    .map(|(a, ph, k)| a * (2.0 * PI * k * t + ph).sin())
                    .sum::<f64>()
                    / total;
                let off = 0.03 * len * (PI * t).sin() * wave;
                [
                    pa[0] + d[0] * t + normal[0] * off,
                    pa[1] + d[1] * t + normal[1] * off,
                ]
            })
            .collect();
        if a != lo {
            pts.reverse();
        }
        pts
    };
    let mut out = vec![];
    for j in 0..ROWS {
        for i in 0..COLS {
            let c = [vid(i, j), vid(i + 1, j), vid(i + 1, j + 1), vid(i, j + 1)];
            let mut ring = vec![];
            for k in 0..4 {
                ring.push(to_deg(corners[c[k]]));
                ring.extend(border(c[k], c[(k + 1) % 4]).into_iter().map(to_deg));
            }
            out.push((
                format!("15{:02}{:02}", j + 1, i + 1),
                format!("示例{}区", j * COLS + i + 1),
                Polygon::new(LineString::from(ring), vec![]),
            ));
        }
    }
    out
}

struct MineSpec {
    shape: Shape,
    holder: Option<usize>,
    status: &'static str,
    kind: &'static str,
}

fn licence(i: usize) -> String {
    format!("C150000{:010}", i + 1)
}

fn holder_name(h: usize) -> String {
    format!("示例能源{}有限公司", h + 1)
}

/// Mining rights in coal fields (discs of 15-40 km), radius 0.3-2 km (most small), placed so
/// they do not overlap except for 1.5 % deliberately drawn over a neighbour. Returns the mines
/// and how many overlap.
fn place_mines(rng: &mut StdRng, n: usize) -> anyhow::Result<(Vec<MineSpec>, usize)> {
    const CELL: f64 = 5.0;
    let (w, h) = province_km();
    let fields: Vec<Shape> = (0..(n / 200).max(4))
        .map(|_| Shape {
            c: [
                rng.random_range(50.0..w - 50.0),
                rng.random_range(50.0..h - 50.0),
            ],
            r: rng.random_range(15.0..40.0),
        })
        .collect();
    let pick = WeightedIndex::new(fields.iter().map(|f| f.r * f.r))?;
    let cell = |c: [f64; 2]| ((c[0] / CELL).floor() as i64, (c[1] / CELL).floor() as i64);
    let mut grid: HashMap<(i64, i64), Vec<usize>> = HashMap::new();
    let holders = (n * 3 / 10).max(1);
    let mut out: Vec<MineSpec> = Vec::with_capacity(n);
    let mut overlapping = 0;
    for _ in 0..n {
        let r = 0.3 + 1.7 * rng.random::<f64>().powi(2);
        let c = if !out.is_empty() && rng.random_bool(0.015) {
            overlapping += 1;
            let o = out[rng.random_range(0..out.len())].shape;
            at(o.c, rng.random_range(0.0..TAU), (o.r + r) * 0.7)
        } else {
            let mut placed = None;
            let mut last = [0.0; 2];
            for _ in 0..200 {
                let f = fields[pick.sample(rng)];
                let c = at(
                    f.c,
                    rng.random_range(0.0..TAU),
                    f.r * rng.random::<f64>().sqrt(),
                );
                last = c;
                let (ci, cj) = cell(c);
                let clear = (ci - 1..=ci + 1).all(|i| {
                    (cj - 1..=cj + 1).all(|j| {
                        grid.get(&(i, j)).is_none_or(|v| {
                            v.iter().all(|&k| {
                                let s = out[k].shape;
                                dist(s.c, c) >= s.r + r + 0.05
                            })
                        })
                    })
                });
                if clear {
                    placed = Some(c);
                    break;
                }
            }
            placed.unwrap_or_else(|| {
                overlapping += 1;
                last
            })
        };
        grid.entry(cell(c)).or_default().push(out.len());
        let u = rng.random::<f64>();
        let status = match u {
            u if u < 0.05 => "ownerless",
            u if u < 0.75 => "producing",
            u if u < 0.90 => "suspended",
            _ => "closed",
        };
        let kind = match rng.random::<f64>() {
            u if u < 0.55 => "open_pit",
            u if u < 0.90 => "underground",
            u if u < 0.95 => "washing_plant",
            _ => "non_coal",
        };
        // Skewed: a few groups hold many rights.
        let holder = (status != "ownerless")
            .then(|| ((rng.random::<f64>().powi(2) * holders as f64) as usize).min(holders - 1));
        out.push(MineSpec {
            shape: Shape { c, r },
            holder,
            status,
            kind,
        });
    }
    Ok((out, overlapping))
}

/// Dumps: 55 % inside their mine, 40 % straddling its edge, 5 % up to 3 km away.
fn place_dumps(rng: &mut StdRng, mines: &[MineSpec], n: usize) -> Vec<(Shape, usize)> {
    (0..n)
        .map(|_| {
            let m = rng.random_range(0..mines.len());
            let ms = mines[m].shape;
            let a = rng.random_range(0.0..TAU);
            let u = rng.random::<f64>();
            let shape = if u < 0.55 {
                Shape {
                    c: at(ms.c, a, 0.4 * ms.r * rng.random::<f64>().sqrt()),
                    r: ms.r * rng.random_range(0.08..0.25),
                }
            } else if u < 0.95 {
                let r = ms.r * rng.random_range(0.15..0.4);
                Shape {
                    c: at(ms.c, a, ms.r * rng.random_range(0.95..1.1) + 0.8 * r),
                    r,
                }
            } else {
                let r = rng.random_range(0.2..0.6);
                Shape {
                    c: at(ms.c, a, ms.r + r + rng.random_range(1.0..3.0)),
                    r,
                }
            };
            (shape, m)
        })
        .collect()
}

/// Heaps next to a mine, held by its holder or (30 %, and for ownerless mines) a washing company.
fn place_heaps(rng: &mut StdRng, mines: &[MineSpec], n: usize) -> Vec<(Shape, String)> {
    (0..n)
        .map(|k| {
            let ms = &mines[rng.random_range(0..mines.len())];
            let r = rng.random_range(0.1..0.4);
            let c = at(
                ms.shape.c,
                rng.random_range(0.0..TAU),
                ms.shape.r * rng.random_range(0.9..1.2) + r,
            );
            let holder = match ms.holder {
                Some(h) if !rng.random_bool(0.3) => holder_name(h),
                _ => format!("示例洗选{}有限公司", k % 300 + 1),
            };
            (Shape { c, r }, holder)
        })
        .collect()
}

fn collection(features: Vec<Value>) -> String {
    json!({"type": "FeatureCollection", "features": features}).to_string()
}

fn feature(poly: Polygon<f64>, properties: Value) -> Value {
    json!({
        "type": "Feature",
        "geometry": features::geometry_json(&geo::Geometry::Polygon(poly)),
        "properties": properties,
    })
}

// ---------------------------------------------------------------------------------------------
// Sampling points over the stored areas (used for fires and for assignment points alike).

struct Sampler<'a> {
    areas: &'a Areas,
    mines: WeightedIndex<f64>,
    dumps: Option<WeightedIndex<f64>>,
    mix: WeightedIndex<f64>,
    province: Rect<f64>,
}

/// exp(sigma · N(0, 1)), by Box-Muller.
fn lognormal(rng: &mut StdRng, sigma: f64) -> f64 {
    let (u1, u2) = (1.0 - rng.random::<f64>(), rng.random::<f64>());
    (sigma * (-2.0 * u1.ln()).sqrt() * (TAU * u2).cos()).exp()
}

/// A uniform point inside the polygon (rejection in its bbox).
fn in_polygon(rng: &mut StdRng, g: &MultiPolygon<f64>) -> Point<f64> {
    let Some(r) = g.bounding_rect() else {
        return Point::new(0.0, 0.0);
    };
    let mut p = r.center().into();
    for _ in 0..100 {
        p = Point::new(
            rng.random_range(r.min().x..=r.max().x),
            rng.random_range(r.min().y..=r.max().y),
        );
        if g.intersects(&p) {
            break;
        }
    }
    p
}

impl<'a> Sampler<'a> {
    /// `skewed`: mines weighted log-normally (σ 1.2), dumps by their mine's weight.
    fn new(
        areas: &'a Areas,
        rng: &mut StdRng,
        skewed: bool,
        mut mix: [f64; 5],
    ) -> anyhow::Result<Self> {
        let weights: Vec<f64> = areas
            .mines
            .iter()
            .map(|_| if skewed { lognormal(rng, 1.2) } else { 1.0 })
            .collect();
        let by_licence: HashMap<&str, usize> = areas
            .mines
            .iter()
            .enumerate()
            .map(|(i, m)| (m.licence_no.as_str(), i))
            .collect();
        let dumps = if areas.waste_dumps.is_empty() {
            mix[1] = 0.0;
            None
        } else {
            Some(WeightedIndex::new(areas.waste_dumps.iter().map(|d| {
                by_licence.get(d.mine.as_str()).map_or(1.0, |&i| weights[i])
            }))?)
        };
        if areas.gangue_heaps.is_empty() {
            mix[2] = 0.0;
        }
        let province = areas
            .districts
            .iter()
            .filter_map(|d| d.geom.bounding_rect())
            .reduce(qingling::gis::union)
            .context("the database has no districts")?;
        Ok(Sampler {
            areas,
            mines: WeightedIndex::new(&weights).context("the database has no mines")?,
            dumps,
            mix: WeightedIndex::new(mix)?,
            province,
        })
    }

    fn point(&self, rng: &mut StdRng) -> (Point<f64>, Target) {
        let target = TARGETS[self.mix.sample(rng)];
        let a = self.areas;
        let p = match target {
            Target::Mine => {
                let i = self.mines.sample(rng);
                in_polygon(rng, &a.mines[i].geom)
            }
            Target::Dump => {
                let i = self.dumps.as_ref().map_or(0, |d| d.sample(rng));
                in_polygon(rng, &a.waste_dumps[i].geom)
            }
            Target::Heap => {
                let i = rng.random_range(0..a.gangue_heaps.len());
                in_polygon(rng, &a.gangue_heaps[i].geom)
            }
            Target::Near => {
                // Just outside the mine's extent, within about its size.
                let m = &a.mines[self.mines.sample(rng)].geom;
                let r = m
                    .bounding_rect()
                    .unwrap_or(Rect::new(Coord::zero(), Coord::zero()));
                let (angle, f) = (rng.random_range(0.0..TAU), rng.random_range(1.2..2.5));
                Point::new(
                    r.center().x + r.width() / 2.0 * f * angle.cos(),
                    r.center().y + r.height() / 2.0 * f * angle.sin(),
                )
            }
            Target::Anywhere => Point::new(
                rng.random_range(self.province.min().x..self.province.max().x),
                rng.random_range(self.province.min().y..self.province.max().y),
            ),
        };
        (p, target)
    }
}

// ---------------------------------------------------------------------------------------------
// Generating the database.

fn db_files(path: &Path) -> [PathBuf; 3] {
    let s = path.display().to_string();
    [
        path.to_path_buf(),
        format!("{s}-wal").into(),
        format!("{s}-shm").into(),
    ]
}

fn import(db: &Db, registry: &Registry, layer: &str, text: &str) -> anyhow::Result<f64> {
    let t = Instant::now();
    db.write_blocking(|tx| import_geojson(tx, registry, layer, text, Lang::En))
        .map_err(|e| {
            anyhow!(
                "importing the generated {layer}: {}",
                qingling::cli::message(&e)
            )
        })?;
    Ok(t.elapsed().as_secs_f64())
}

/// Builds the bench database into `<path>.partial`, then renames it, so an interrupted run
/// leaves nothing that looks finished.
fn generate(path: &Path, args: &Args, registry: &Registry) -> anyhow::Result<()> {
    if args.mines == 0 {
        bail!("--mines must be at least 1");
    }
    let partial = PathBuf::from(format!("{}.partial", path.display()));
    for f in db_files(&partial) {
        let _ = std::fs::remove_file(f);
    }
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| dir.display().to_string())?;
    }
    eprintln!("generating {} (seed {})", path.display(), args.seed);
    let db = Db::open(&partial, registry)?;
    let mut rng = StdRng::seed_from_u64(args.seed);

    let t = Instant::now();
    let districts: Vec<Value> = district_polygons(args.seed)
        .into_iter()
        .map(|(code, name, poly)| feature(poly, json!({"code": code, "name": name})))
        .collect();
    let (mines, overlapping) = place_mines(&mut rng, args.mines)?;
    let dumps = place_dumps(&mut rng, &mines, args.dumps);
    let heaps = place_heaps(&mut rng, &mines, args.heaps);
    let mine_features: Vec<Value> = mines
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let n = rng.random_range(96..=104);
            feature(
                star(&mut rng, m.shape, n, 0.25),
                json!({
                    "name": format!("示例{}号煤矿", i + 1),
                    "licence_no": licence(i),
                    "holder": m.holder.map(holder_name).unwrap_or_default(),
                    "kind": m.kind,
                    "status": m.status,
                }),
            )
        })
        .collect();
    let dump_features: Vec<Value> = dumps
        .iter()
        .enumerate()
        .map(|(j, (s, m))| {
            let n = rng.random_range(36..=44);
            let status = match rng.random::<f64>() {
                u if u < 0.7 => "active",
                u if u < 0.9 => "closed",
                _ => "restored",
            };
            feature(
                star(&mut rng, *s, n, 0.3),
                json!({"name": format!("示例排土场{}", j + 1), "mine": licence(*m), "status": status}),
            )
        })
        .collect();
    let heap_features: Vec<Value> = heaps
        .iter()
        .enumerate()
        .map(|(k, (s, holder))| {
            let n = rng.random_range(20..=28);
            feature(
                star(&mut rng, *s, n, 0.3),
                json!({"name": format!("示例矸石堆场{}", k + 1), "holder": holder, "status": "active"}),
            )
        })
        .collect();
    let shapes_s = t.elapsed().as_secs_f64();
    eprintln!("  shapes drawn in {shapes_s:.1} s; importing through import_geojson");

    let mut import_s = serde_json::Map::new();
    for (layer, fs) in [
        ("districts", districts),
        ("mines", mine_features),
        ("waste_dumps", dump_features),
        ("gangue_heaps", heap_features),
    ] {
        let s = import(&db, registry, layer, &collection(fs))?;
        eprintln!("  {layer} imported in {s:.1} s");
        import_s.insert(layer.into(), json!(round(s, 2)));
    }

    let fires = insert_fires(&db, args)?;
    let setting = json!({
        "seed": args.seed,
        "mines": args.mines,
        "dumps": args.dumps,
        "heaps": args.heaps,
        "fires": args.fires,
        "generated_at": ts(Utc::now()),
        "overlapping_mines": overlapping,
        "fire_targets": fires.targets,
        "resampled_outside": fires.outside,
        "shapes_s": round(shapes_s, 2),
        "import_s": import_s,
        "fires_s": round(fires.secs, 1),
        "reports_s": round(fires.report_secs, 1),
        "events": fires.events,
        "years": args.years,
        "open_at_end": fires.open,
        "burning_at_end": fires.burning,
        "generator": GENERATOR,
    });
    db.write_blocking(|tx| tx.settings().set(SETTING, &setting))?;
    // Closing the last connection checkpoints the WAL into the file.
    drop(db);
    for (from, to) in db_files(&partial).iter().zip(db_files(path).iter()) {
        if from.exists() {
            std::fs::rename(from, to).with_context(|| format!("renaming {}", from.display()))?;
        }
    }
    Ok(())
}

fn round(x: f64, digits: i32) -> f64 {
    let f = 10f64.powi(digits);
    (x * f).round() / f
}

struct FireGen {
    secs: f64,
    /// Seconds spent in the reports alone (assign, next code, insert, report event, counts).
    report_secs: f64,
    events: usize,
    targets: Value,
    outside: usize,
    /// Fires not yet cleared, and burning, at the end.
    open: usize,
    burning: usize,
}

/// A step of a generated fire's life, due at `at` (Unix seconds).
#[derive(PartialEq, Eq, PartialOrd, Ord)]
struct Due {
    at: i64,
    seq: u64,
    fire: usize,
    step: Step,
}

#[derive(PartialEq, Eq, PartialOrd, Ord, Clone, Copy, Debug)]
enum Step {
    Dismiss,
    Confirm,
    Treat,
    Control,
    Extinguish,
    Clear,
    Reignite,
}

/// What follows `step` in a generated life, and after how many seconds (none: the life ends).
fn next_step(rng: &mut StdRng, step: Step) -> Option<(Step, i64)> {
    let days = |rng: &mut StdRng, a: f64, b: f64| (rng.random_range(a..b) * 86_400.0) as i64;
    match step {
        Step::Confirm => Some((Step::Treat, days(rng, 0.2, 3.0))),
        Step::Treat => Some((Step::Control, days(rng, 2.0, 10.0))),
        // The observation period: readings below the threshold for 30 days.
        Step::Control => Some((Step::Extinguish, 30 * 86_400 + days(rng, 0.0, 2.0))),
        Step::Extinguish => Some((Step::Clear, days(rng, 1.0, 15.0))),
        // 3 % of cleared fires re-ignite within the year's watch (Kuenzer et al.: few stay out).
        Step::Clear if rng.random_bool(0.03) => Some((Step::Reignite, days(rng, 5.0, 300.0))),
        Step::Reignite => Some((Step::Treat, days(rng, 0.2, 2.0))),
        Step::Clear | Step::Dismiss => None,
    }
}

/// Reports `args.fires` fires the way a report does (assign, next code, insert, report event)
/// over `args.years` years up to BASE_TIME, in time order, each with a life (confirmed,
/// treated, controlled, extinguished after its 30 days, cleared; a few dismissed, a few
/// re-igniting) recorded as events through the store, so the province holds the history and
/// the few thousand open fires a real one would. A transaction per 20,000 events.
fn insert_fires(db: &Db, args: &Args) -> anyhow::Result<FireGen> {
    use std::cmp::Reverse;
    use std::collections::BinaryHeap;
    let rules = app::load_rules(db)?;
    let index = db.read_blocking(|c| c.areas().load().map(ResponsibilityIndex::new))?;
    let mut rng = StdRng::seed_from_u64(args.seed ^ FIRE_STREAM);
    let sampler = Sampler::new(index.areas(), &mut rng, true, FIRE_MIX)?;
    let base: DateTime<Utc> = BASE_TIME.parse()?;
    let span = (args.years * 365.0 * 86_400.0) as i64;
    let mut times: Vec<i64> = (0..args.fires)
        .map(|_| base.timestamp() - rng.random_range(0..span.max(1)))
        .collect();
    times.sort_unstable();
    let mut counts = [0usize; 5];
    let (mut outside, mut events, mut seq) = (0, 0usize, 0u64);
    let mut ids: Vec<String> = Vec::with_capacity(args.fires);
    let mut due: BinaryHeap<Reverse<Due>> = BinaryHeap::new();
    let mut next_report = 0usize;
    let t = Instant::now();
    let mut report_secs = 0.0;
    let actor = |step: Step| match step {
        Step::Treat | Step::Control => ("owner", Role::Owner),
        Step::Extinguish => ("system", Role::Manager),
        _ => ("manager", Role::Manager),
    };
    while next_report < times.len() || !due.is_empty() {
        db.write_blocking(|tx| -> anyhow::Result<()> {
            for _ in 0..20_000 {
                let report_first = match (times.get(next_report), due.peek()) {
                    (Some(r), Some(Reverse(d))) => *r <= d.at,
                    (Some(_), None) => true,
                    (None, Some(_)) => false,
                    (None, None) => break,
                };
                if report_first {
                    let at = times[next_report];
                    next_report += 1;
                    let r0 = Instant::now();
                    let (point, target) = sampler.point(&mut rng);
                    let Ok(responsible) = index.assign(point) else {
                        outside += 1;
                        next_report -= 1;
                        continue;
                    };
                    let kind = match target {
                        Target::Dump => FireKind::WasteDump,
                        Target::Heap => FireKind::GangueHeap,
                        _ => FireKind::CoalSeam,
                    };
                    let reported_at = DateTime::from_timestamp(at, 0).unwrap_or(base);
                    let id = uuid::Builder::from_random_bytes(rng.random())
                        .into_uuid()
                        .to_string();
                    let year = deadline::local_date(reported_at).year();
                    let code = tx.fires().next_code(&rules.code_prefix, year)?;
                    let deadline_at = deadline::initial(kind, reported_at, &rules.deadlines);
                    let temp_c = round(rng.random_range(55.0..650.0), 1);
                    let area_m2 = round(10.0 * lognormal(&mut rng, 1.0) * 20.0, 0);
                    let signs: Vec<&str> = ["smoke", "flame", "sulphur", "cracks"]
                        .into_iter()
                        .filter(|_| rng.random_bool(0.4))
                        .collect();
                    let signs = json!(signs);
                    let accuracy_m = round(rng.random_range(3.0..30.0), 1);
                    let reported_by = format!("patrol{:02}", rng.random_range(1..=50));
                    let properties = json!({
                        "kind": kind.as_str(), "temp_c": temp_c, "area_m2": area_m2, "signs": signs,
                        "accuracy_m": accuracy_m, "position_source": "gps",
                    });
                    let hash = content_hash(
                        &json!({"point": [point.x(), point.y()], "properties": properties}),
                    );
                    tx.fires().insert(&NewFire {
                        id: &id,
                        code: &code,
                        kind,
                        point,
                        reported_at,
                        received_at: reported_at,
                        reported_by: &reported_by,
                        deadline: deadline_at,
                        temp_c: Some(temp_c),
                        area_m2: Some(area_m2),
                        signs: &signs,
                        note: None,
                        accuracy_m: Some(accuracy_m),
                        position_source: Some("gps"),
                        responsible: &responsible,
                        request_hash: &hash,
                    })?;
                    tx.fires().append_event(&EventRecord {
                        fire: id.clone(),
                        step: EventStep {
                            at: ts(reported_at),
                            actor: reported_by,
                            role: Role::Patrol.as_str().into(),
                            action: "report".into(),
                            to: Status::Reported.as_str().into(),
                            ..Default::default()
                        },
                        temp_c: Some(temp_c),
                        responsible: serde_json::to_value(&responsible).ok(),
                        deadline: Some(ts(deadline_at)),
                        ..Default::default()
                    })?;
                    report_secs += r0.elapsed().as_secs_f64();
                    counts[TARGETS.iter().position(|x| *x == target).unwrap_or(0)] += 1;
                    ids.push(id);
                    events += 1;
                    let (first, after) = if rng.random_bool(0.05) {
                        (Step::Dismiss, rng.random_range(43_200..259_200))
                    } else {
                        (Step::Confirm, rng.random_range(7_200..172_800))
                    };
                    seq += 1;
                    due.push(Reverse(Due {
                        at: at + after,
                        seq,
                        fire: ids.len() - 1,
                        step: first,
                    }));
                    if ids.len().is_multiple_of(100_000) {
                        eprintln!(
                            "  {} fires in {:.0} s ({:.0} reports/s)",
                            ids.len(),
                            t.elapsed().as_secs_f64(),
                            ids.len() as f64 / report_secs.max(1e-9)
                        );
                    }
                    continue;
                }
                let Some(Reverse(d)) = due.pop() else { break };
                // The history stops at BASE_TIME: what is due later has not happened yet.
                if d.at > base.timestamp() {
                    continue;
                }
                let id = &ids[d.fire];
                let Some(fire) = tx.fires().get(id)? else {
                    continue;
                };
                let at = DateTime::from_timestamp(d.at, 0).unwrap_or(base);
                let (to, action, temp_c) = match d.step {
                    Step::Dismiss => (Status::Dismissed, "dismiss", None),
                    Step::Confirm => (Status::Confirmed, "confirm", None),
                    Step::Treat => (Status::Treating, "start_treatment", None),
                    Step::Control => (Status::Controlled, "control", Some(35.0)),
                    Step::Extinguish => (Status::Extinguished, "extinguish", None),
                    Step::Clear => (Status::Cleared, "clear", None),
                    Step::Reignite => (Status::Reignited, "inspect", Some(260.0)),
                };
                let reignited = d.step == Step::Reignite;
                let new_deadline =
                    reignited.then(|| deadline::initial(fire.kind, at, &rules.deadlines));
                let (who, role) = actor(d.step);
                tx.fires().append_event(&EventRecord {
                    fire: id.clone(),
                    step: EventStep {
                        at: ts(at),
                        actor: who.into(),
                        role: role.as_str().into(),
                        action: action.into(),
                        from: Some(fire.status.as_str().into()),
                        to: to.as_str().into(),
                        ..Default::default()
                    },
                    temp_c,
                    reason: (d.step == Step::Dismiss).then(|| "重复上报".to_string()),
                    method: (d.step == Step::Treat).then(|| "loess_cover".to_string()),
                    deadline: new_deadline.map(ts),
                    reignited,
                    ..Default::default()
                })?;
                tx.fires().update_state(
                    &fire,
                    &StateChange {
                        to,
                        at,
                        deadline: new_deadline,
                        temp_c,
                        reignited,
                    },
                )?;
                events += 1;
                if let Some((step, after)) = next_step(&mut rng, d.step) {
                    seq += 1;
                    due.push(Reverse(Due {
                        at: d.at + after,
                        seq,
                        fire: d.fire,
                        step,
                    }));
                }
            }
            Ok(())
        })?;
    }
    db.write_blocking(|tx| tx.features().update_extent("fire_points"))?;
    let secs = t.elapsed().as_secs_f64();
    let (open, burning) = db.read_blocking(|tx| -> anyhow::Result<(usize, usize)> {
        let l = tx.counts().levels(&ScopeKey::All, None)?;
        Ok((
            usize::try_from(l.not_cleared()).unwrap_or(0),
            usize::try_from(l.burning()).unwrap_or(0),
        ))
    })?;
    let targets: serde_json::Map<String, Value> = TARGET_NAMES
        .iter()
        .zip(counts)
        .map(|(n, c)| ((*n).to_string(), json!(c)))
        .collect();
    Ok(FireGen {
        secs,
        report_secs,
        events,
        targets: Value::Object(targets),
        outside,
        open,
        burning,
    })
}

/// Opens the bench database, generating it first if missing; checks it matches the arguments.
fn open_db(args: &Args, registry: &Registry) -> anyhow::Result<(Db, Value, bool)> {
    let generated = !args.db.exists();
    if generated {
        generate(&args.db, args, registry)?;
    }
    let db = Db::open(&args.db, registry)?;
    let setting = db
        .read_blocking(|c| c.settings().get(SETTING))?
        .with_context(|| {
            format!(
                "{} was not made by the province benchmark; delete it or pass another --db",
                args.db.display()
            )
        })?;
    let want = [
        ("generator", GENERATOR as usize),
        ("seed", args.seed as usize),
        ("mines", args.mines),
        ("dumps", args.dumps),
        ("heaps", args.heaps),
        ("fires", args.fires),
    ];
    for (k, v) in want {
        let have = setting.get(k).and_then(Value::as_u64);
        if have != Some(v as u64) {
            bail!(
                "{} was generated with {k} = {have:?}, not {v}; delete it or pass another --db",
                args.db.display()
            );
        }
    }
    let fires = db.read_blocking(|c| c.features().count("fire_points"))?;
    if fires != args.fires as i64 {
        bail!(
            "{} holds {fires} fires, not {}; delete it",
            args.db.display(),
            args.fires
        );
    }
    Ok((db, setting, generated))
}

// ---------------------------------------------------------------------------------------------
// 1. Assignments.

#[derive(Default)]
struct Tally {
    outside: usize,
    holder: usize,
    overlap: usize,
    /// Decided by: waste_dumps, gangue_heaps, mines, none.
    by_layer: [usize; 4],
}

impl Tally {
    fn add(&mut self, r: Result<Responsible, OutsideManagedArea>) {
        let Ok(r) = r else {
            self.outside += 1;
            return;
        };
        self.holder += usize::from(r.party == Party::Holder);
        self.overlap += usize::from(!r.candidates.is_empty());
        let layer = r
            .via
            .as_ref()
            .map(|v| v.layer.as_str())
            .or_else(|| r.candidates.first().map(|c| c.layer.as_str()));
        let i = match layer {
            Some("waste_dumps") => 0,
            Some("gangue_heaps") => 1,
            Some("mines") => 2,
            _ => 3,
        };
        self.by_layer[i] += 1;
    }
}

/// Per-layer envelopes for the bbox-then-exact linear scan.
struct Envelopes {
    districts: Vec<Rect<f64>>,
    dumps: Vec<Rect<f64>>,
    heaps: Vec<Rect<f64>>,
    mines: Vec<Rect<f64>>,
}

fn envelopes<'a>(gs: impl Iterator<Item = &'a MultiPolygon<f64>>) -> Vec<Rect<f64>> {
    gs.map(|g| {
        g.bounding_rect()
            .unwrap_or(Rect::new(Coord::zero(), Coord::zero()))
    })
    .collect()
}

fn in_rect(r: &Rect<f64>, p: Point<f64>) -> bool {
    r.min().x <= p.x() && p.x() <= r.max().x && r.min().y <= p.y() && p.y() <= r.max().y
}

/// Indices of the polygons containing `p`, by testing every one (after its envelope, if given).
fn scan<'a>(
    geoms: impl Iterator<Item = &'a MultiPolygon<f64>>,
    rects: Option<&[Rect<f64>]>,
    p: Point<f64>,
) -> Vec<usize> {
    geoms
        .enumerate()
        .filter(|(i, g)| rects.is_none_or(|r| in_rect(&r[*i], p)) && g.intersects(&p))
        .map(|(i, _)| i)
        .collect()
}

/// What decided a point: its district's code, the first layer with hits, and their ids.
#[derive(PartialEq, Eq, Debug)]
struct Decision {
    district: Option<String>,
    layer: Option<String>,
    ids: Vec<i64>,
}

/// Responsibility's polygon search without an index: every polygon of every layer is tested,
/// as `assign` does with the R-tree's candidates (it too looks in all three layers).
fn naive(a: &Areas, env: Option<&Envelopes>, p: Point<f64>) -> Decision {
    let district = scan(
        a.districts.iter().map(|d| &d.geom),
        env.map(|e| e.districts.as_slice()),
        p,
    )
    .into_iter()
    .map(|i| &a.districts[i].code)
    .min()
    .cloned();
    let dumps = scan(
        a.waste_dumps.iter().map(|d| &d.geom),
        env.map(|e| e.dumps.as_slice()),
        p,
    );
    let heaps = scan(
        a.gangue_heaps.iter().map(|d| &d.geom),
        env.map(|e| e.heaps.as_slice()),
        p,
    );
    let mines = scan(
        a.mines.iter().map(|d| &d.geom),
        env.map(|e| e.mines.as_slice()),
        p,
    );
    let (layer, mut ids): (Option<&str>, Vec<i64>) = if !dumps.is_empty() {
        (
            Some("waste_dumps"),
            dumps.iter().map(|&i| a.waste_dumps[i].id).collect(),
        )
    } else if !heaps.is_empty() {
        (
            Some("gangue_heaps"),
            heaps.iter().map(|&i| a.gangue_heaps[i].id).collect(),
        )
    } else if !mines.is_empty() {
        (
            Some("mines"),
            mines.iter().map(|&i| a.mines[i].id).collect(),
        )
    } else {
        (None, vec![])
    };
    ids.sort_unstable();
    Decision {
        district,
        layer: layer.map(String::from),
        ids,
    }
}

/// The same decision read off `assign`'s answer.
fn decided(index: &ResponsibilityIndex, p: Point<f64>) -> Decision {
    match index.assign(p) {
        Err(_) => Decision {
            district: None,
            layer: None,
            ids: vec![],
        },
        Ok(r) => {
            let (layer, mut ids) = if !r.candidates.is_empty() {
                (
                    Some(r.candidates[0].layer.clone()),
                    r.candidates.iter().map(|c| c.id).collect(),
                )
            } else if let Some(v) = &r.via {
                (Some(v.layer.clone()), vec![v.id])
            } else {
                (None, vec![])
            };
            ids.sort_unstable();
            Decision {
                district: Some(r.district_code),
                layer,
                ids,
            }
        }
    }
}

/// Items per second of wall time, and per second this thread spent on a CPU.
#[derive(Clone, Copy)]
struct Rate {
    wall: f64,
    cpu: Option<f64>,
}

/// This thread's time on a CPU so far (Linux schedstat): on a shared machine, what our work
/// took apart from waiting for a core.
fn cpu_time() -> Option<f64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: u64 = s.split_whitespace().next()?.parse().ok()?;
    Some(ns as f64 / 1e9)
}

/// Wall and on-CPU time of a stretch of work on this thread.
struct Clock {
    wall: Instant,
    cpu: Option<f64>,
}

impl Clock {
    fn start() -> Clock {
        let cpu = cpu_time();
        Clock {
            wall: Instant::now(),
            cpu,
        }
    }

    /// Seconds: wall, and on a CPU.
    fn stop(&self) -> (f64, Option<f64>) {
        let wall = self.wall.elapsed().as_secs_f64();
        let cpu = self.cpu.zip(cpu_time()).map(|(a, b)| b - a);
        (wall, cpu)
    }
}

struct AssignFigures {
    n: usize,
    secs: f64,
    cpu_secs: Option<f64>,
    chunk_rates: Vec<f64>,
    tally: Tally,
    sample: usize,
    sample_index_rate: Rate,
    naive_exact_rate: Rate,
    naive_bbox_rate: Rate,
    agree: usize,
    mismatch: Option<String>,
}

fn mean_vertices<'a>(gs: impl Iterator<Item = &'a MultiPolygon<f64>>) -> f64 {
    let (mut n, mut v) = (0usize, 0usize);
    for g in gs {
        n += 1;
        v +=
            g.0.iter()
                .map(|p| p.exterior().0.len().saturating_sub(1))
                .sum::<usize>();
    }
    v as f64 / n.max(1) as f64
}

fn km2<'a>(gs: impl Iterator<Item = &'a MultiPolygon<f64>>) -> f64 {
    gs.map(|g| g.unsigned_area()).sum::<f64>() * km_per_deg_lon() * KM_PER_DEG_LAT
}

/// The responsibility index as the server builds it, with what it took and what it holds.
struct Loaded {
    index: ResponsibilityIndex,
    load_s: f64,
    build_s: f64,
    /// Mean vertices per polygon: districts, mines, dumps, heaps.
    vertices: [f64; 4],
    /// km² of mines, dumps, districts.
    km2: [f64; 3],
}

fn load_index(db: &Db) -> anyhow::Result<Loaded> {
    eprintln!("loading the areas and building the responsibility index");
    let t = Instant::now();
    let loaded = db.read_blocking(|c| c.areas().load())?;
    let load_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let index = ResponsibilityIndex::new(loaded);
    let build_s = t.elapsed().as_secs_f64();
    let a = index.areas();
    let vertices = [
        mean_vertices(a.districts.iter().map(|d| &d.geom)),
        mean_vertices(a.mines.iter().map(|d| &d.geom)),
        mean_vertices(a.waste_dumps.iter().map(|d| &d.geom)),
        mean_vertices(a.gangue_heaps.iter().map(|d| &d.geom)),
    ];
    let km2 = [
        km2(a.mines.iter().map(|d| &d.geom)),
        km2(a.waste_dumps.iter().map(|d| &d.geom)),
        km2(a.districts.iter().map(|d| &d.geom)),
    ];
    Ok(Loaded {
        index,
        load_s,
        build_s,
        vertices,
        km2,
    })
}

fn bench_assign(index: &ResponsibilityIndex, args: &Args) -> anyhow::Result<AssignFigures> {
    let a = index.areas();

    let mut rng = StdRng::seed_from_u64(args.seed ^ ASSIGN_STREAM);
    let sampler = Sampler::new(a, &mut rng, false, ASSIGN_MIX)?;
    let points: Vec<Point<f64>> = (0..args.assignments.max(args.naive_sample))
        .map(|_| sampler.point(&mut rng).0)
        .collect();
    let main = &points[..args.assignments];

    eprintln!("assigning {} points on one thread", main.len());
    let mut tally = Tally::default();
    let mut chunk_rates = vec![];
    let t = Clock::start();
    for chunk in main.chunks((main.len() / 10).max(1)) {
        let tc = Instant::now();
        for p in chunk {
            tally.add(index.assign(black_box(*p)));
        }
        chunk_rates.push(chunk.len() as f64 / tc.elapsed().as_secs_f64());
    }
    let (secs, cpu_secs) = t.stop();

    let sample = &points[..args.naive_sample];
    let rate = |f: &mut dyn FnMut(Point<f64>)| {
        let t = Clock::start();
        for p in sample {
            f(black_box(*p));
        }
        let (wall, cpu) = t.stop();
        Rate {
            wall: sample.len() as f64 / wall,
            cpu: cpu.map(|c| sample.len() as f64 / c),
        }
    };
    eprintln!(
        "assigning a {}-point sample by the index, by a scan of every envelope, and by a scan of every polygon",
        sample.len()
    );
    let sample_index_rate = rate(&mut |p| {
        black_box(index.assign(p)).ok();
    });
    let env = Envelopes {
        districts: envelopes(a.districts.iter().map(|d| &d.geom)),
        dumps: envelopes(a.waste_dumps.iter().map(|d| &d.geom)),
        heaps: envelopes(a.gangue_heaps.iter().map(|d| &d.geom)),
        mines: envelopes(a.mines.iter().map(|d| &d.geom)),
    };
    let naive_bbox_rate = rate(&mut |p| {
        black_box(naive(a, Some(&env), p));
    });
    let naive_exact_rate = rate(&mut |p| {
        black_box(naive(a, None, p));
    });
    // Correctness beside speed: the index finds what the full scan finds.
    let mut agree = 0;
    let mut mismatch = None;
    for p in sample {
        let (want, got) = (naive(a, Some(&env), *p), decided(index, *p));
        if want == got {
            agree += 1;
        } else if mismatch.is_none() {
            mismatch = Some(format!(
                "at ({}, {}): scan {want:?}, index {got:?}",
                p.x(),
                p.y()
            ));
        }
    }
    Ok(AssignFigures {
        n: main.len(),
        secs,
        cpu_secs,
        chunk_rates,
        tally,
        sample: sample.len(),
        sample_index_rate,
        naive_exact_rate,
        naive_bbox_rate,
        agree,
        mismatch,
    })
}

// ---------------------------------------------------------------------------------------------
// 2. bbox queries.

#[derive(Default)]
struct Latencies {
    /// Milliseconds per timed query.
    ms: Vec<f64>,
}

impl Latencies {
    fn sorted(&self) -> Vec<f64> {
        let mut v = self.ms.clone();
        v.sort_by(f64::total_cmp);
        v
    }

    /// Nearest-rank percentile.
    fn pct(&self, q: f64) -> f64 {
        let v = self.sorted();
        if v.is_empty() {
            return f64::NAN;
        }
        let i = ((q * v.len() as f64).ceil() as usize).clamp(1, v.len()) - 1;
        v[i]
    }

    fn max(&self) -> f64 {
        self.sorted().last().copied().unwrap_or(f64::NAN)
    }
}

struct QueryFigures {
    boxes: usize,
    items: Latencies,
    bytes: Latencies,
    /// The bytes path's time on a CPU.
    bytes_cpu: Latencies,
    http: Latencies,
    features: Vec<usize>,
    at_limit: usize,
    size: Vec<usize>,
    http_mismatch: usize,
    first_mismatch: Option<String>,
    /// Fires whose envelope meets each timed box (read before the LIMIT applies).
    in_box: Vec<usize>,
    scopes: Vec<ScopeFigures>,
}

/// A GET over a fresh loopback connection (`Connection: close`); returns the status and body.
fn http_get(addr: SocketAddr, path: &str, token: &str) -> anyhow::Result<(u16, Vec<u8>)> {
    let accept = "Accept: application/geo+json\r\n";
    let (status, _, body) = http_get_with(addr, path, token, accept)?;
    Ok((status, body))
}

fn dechunk(mut b: &[u8]) -> anyhow::Result<Vec<u8>> {
    let mut out = vec![];
    loop {
        let eol = b
            .windows(2)
            .position(|w| w == b"\r\n")
            .context("bad chunk")?;
        let size_text = std::str::from_utf8(&b[..eol])?;
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)?;
        b = &b[eol + 2..];
        if size == 0 {
            return Ok(out);
        }
        out.extend_from_slice(b.get(..size).context("short chunk")?);
        b = b.get(size + 2..).context("short chunk")?;
    }
}

/// The real server on a loopback port, on a runtime of its own: it serves until that runtime
/// is shut down.
fn serve(db: &Db, registry: &Registry) -> anyhow::Result<(tokio::runtime::Runtime, SocketAddr)> {
    let app = App::new(db.clone(), registry.clone(), None)?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))?;
    let addr = listener.local_addr()?;
    let router = qingling::http::router(app);
    rt.spawn(async move {
        if let Err(e) = axum::serve(listener, router).await {
            tracing::error!(error = %e, "bench server stopped");
        }
    });
    Ok((rt, addr))
}

/// Signs the bench manager in (adding the account the first time); returns a session token.
fn session(db: &Db) -> anyhow::Result<String> {
    session_as(db, BENCH_USER, Role::Manager, None)
}

/// One bbox page read as the items handler reads it, then the body it sends, as bytes.
struct Direct {
    items_ms: f64,
    total_ms: f64,
    /// Of total_ms, on a CPU.
    cpu_ms: Option<f64>,
    n: usize,
    more: bool,
    bytes: usize,
}

fn direct_query(
    db: &Db,
    layer: &Layer,
    scope: &Scope,
    b: &[f64; 4],
    rules: &Rules,
) -> anyhow::Result<Direct> {
    let q = ItemQuery {
        bbox: Some(*b),
        limit: LIMIT,
        offset: 0,
        filters: vec![],
    };
    let since = watch_since(Utc::now(), rules);
    let t = Clock::start();
    let (page, items_ms) = db.read_blocking(|c| {
        let page = c
            .features()
            .items(&Visible::new(layer, scope, &since), &q)?;
        Ok::<_, StoreError>((page, t.wall.elapsed().as_secs_f64() * 1e3))
    })?;
    let n = page.features.len();
    let more = page.more;
    let fc = json!({
        "type": "FeatureCollection",
        "features": page.features,
        "numberReturned": n,
        "timeStamp": ts(Utc::now()),
        "links": [{"rel": "self", "type": "application/geo+json",
                   "href": format!("/collections/fire_points/items?bbox={},{},{},{}&limit={LIMIT}&offset=0", b[0], b[1], b[2], b[3])}],
    });
    let bytes = serde_json::to_vec(&fc)?;
    let (total, cpu) = t.stop();
    black_box(&bytes);
    Ok(Direct {
        items_ms,
        total_ms: total * 1e3,
        cpu_ms: cpu.map(|c| c * 1e3),
        n,
        more,
        bytes: bytes.len(),
    })
}

/// Fires whose envelope meets the box (what the query reads before its LIMIT), untimed.
fn fires_in_box(db: &Db, b: &[f64; 4]) -> anyhow::Result<usize> {
    // A diagnostic of the SQLite file's R-tree, asked of it directly.
    let c = qingling::store::connect(db.path())?;
    let n: i64 = c.query_row(
        "SELECT count(*) FROM rtree_fire_points_geom WHERE minx <= ?1 AND maxx >= ?2 AND miny <= ?3 AND maxy >= ?4",
        rusqlite::params![b[2], b[0], b[3], b[1]],
        |r| r.get(0),
    )?;
    Ok(usize::try_from(n).unwrap_or(0))
}

/// The same boxes read through the scope of a non-manager role.
struct ScopeFigures {
    role: Role,
    bytes: Latencies,
    features: Vec<usize>,
    /// Boxes skipped (an owner needs a holder at the box's centre).
    skipped: usize,
    /// The time budget ran out before SCOPE_QUERIES boxes.
    stopped: bool,
}

/// Boxes per non-manager scope, and the time after which a slow scope stops early.
const SCOPE_QUERIES: usize = 20;
const SCOPE_BUDGET: Duration = Duration::from_secs(60);

fn bench_scopes(
    db: &Db,
    layer: &Layer,
    index: &ResponsibilityIndex,
    boxes: &[[f64; 4]],
    rules: &Rules,
) -> anyhow::Result<Vec<ScopeFigures>> {
    let mut out = vec![];
    for role in [Role::Patrol, Role::District, Role::Owner] {
        eprintln!(
            "bbox queries as a {} (up to {SCOPE_QUERIES} boxes or {} s)",
            role.as_str(),
            SCOPE_BUDGET.as_secs()
        );
        let mut sf = ScopeFigures {
            role,
            bytes: Latencies::default(),
            features: vec![],
            skipped: 0,
            stopped: false,
        };
        let t0 = Instant::now();
        for b in boxes.iter().take(SCOPE_QUERIES) {
            if !sf.bytes.ms.is_empty() && t0.elapsed() > SCOPE_BUDGET {
                sf.stopped = true;
                break;
            }
            let centre = Point::new((b[0] + b[2]) / 2.0, (b[1] + b[3]) / 2.0);
            let actor = Actor {
                username: format!("bench-{}", role.as_str()),
                role,
                district: index.district_at(centre).map(|d| d.code.clone()),
                holder: index
                    .mines_at(centre)
                    .into_iter()
                    .map(|m| m.holder.clone())
                    .find(|h| !h.is_empty()),
            };
            if role == Role::Owner && actor.holder.is_none() {
                sf.skipped += 1;
                continue;
            }
            let d = direct_query(db, layer, &layer.read_scope(&actor), b, rules)?;
            sf.bytes.ms.push(d.total_ms);
            sf.features.push(d.n);
        }
        out.push(sf);
    }
    Ok(out)
}

fn bench_queries(
    db: &Db,
    registry: &Registry,
    index: &ResponsibilityIndex,
    args: &Args,
) -> anyhow::Result<QueryFigures> {
    let layer = registry
        .get("fire_points")
        .context("no fire_points layer")?
        .clone();
    let rules = app::load_rules(db)?;
    let mines = &index.areas().mines;
    let mut rng = StdRng::seed_from_u64(args.seed ^ QUERY_STREAM);
    let h = BOX_DEG / 2.0;
    let boxes: Vec<[f64; 4]> = (0..WARMUP + args.queries)
        .map(|_| {
            let m = &mines[rng.random_range(0..mines.len())];
            let c = in_polygon(&mut rng, &m.geom);
            // Rounded to what the URL carries, so both paths ask for the very same box.
            [c.x() - h, c.y() - h, c.x() + h, c.y() + h].map(|v| round(v, 6))
        })
        .collect();

    eprintln!("starting the HTTP server on loopback");
    let token = session(db)?;
    let (rt, addr) = serve(db, registry)?;

    eprintln!(
        "{} bbox queries ({WARMUP} untimed warm-up), each direct and over HTTP",
        args.queries
    );
    let mut f = QueryFigures {
        boxes: args.queries,
        items: Latencies::default(),
        bytes: Latencies::default(),
        bytes_cpu: Latencies::default(),
        http: Latencies::default(),
        features: vec![],
        at_limit: 0,
        size: vec![],
        http_mismatch: 0,
        first_mismatch: None,
        in_box: vec![],
        scopes: vec![],
    };
    for (k, b) in boxes.iter().enumerate() {
        let timed = k >= WARMUP;
        // Alternate which path reads a box first, so neither gets all the warm caches.
        let mut direct_n = 0;
        let mut http_n = None;
        for path in if k % 2 == 0 { [0, 1] } else { [1, 0] } {
            if path == 0 {
                let d = direct_query(db, &layer, &Scope::All, b, &rules)?;
                direct_n = d.n;
                if timed {
                    f.items.ms.push(d.items_ms);
                    f.bytes.ms.push(d.total_ms);
                    f.bytes_cpu.ms.extend(d.cpu_ms);
                    f.features.push(d.n);
                    f.at_limit += usize::from(d.more);
                    f.size.push(d.bytes);
                }
            } else {
                let url = format!(
                    "/collections/fire_points/items?bbox={},{},{},{}&limit={LIMIT}",
                    b[0], b[1], b[2], b[3]
                );
                let t = Instant::now();
                let (status, body) = http_get(addr, &url, &token)?;
                let ms = t.elapsed().as_secs_f64() * 1e3;
                if status != 200 {
                    bail!(
                        "GET {url}: HTTP {status}: {}",
                        String::from_utf8_lossy(&body)
                    );
                }
                let v: Value = serde_json::from_slice(&body)?;
                http_n = v.get("numberReturned").and_then(Value::as_u64);
                if timed {
                    f.http.ms.push(ms);
                }
            }
        }
        if timed && http_n != Some(direct_n as u64) {
            f.http_mismatch += 1;
            f.first_mismatch
                .get_or_insert(format!("bbox {b:?}: direct {direct_n}, HTTP {http_n:?}"));
        }
    }
    rt.shutdown_timeout(Duration::from_secs(2));
    db.write_blocking(|tx| qingling::store::Tx::users(tx).end_session(&token))?;
    for b in &boxes[WARMUP..] {
        f.in_box.push(fires_in_box(db, b)?);
    }
    f.scopes = bench_scopes(db, &layer, index, &boxes[WARMUP..], &rules)?;
    Ok(f)
}

// ---------------------------------------------------------------------------------------------
// 3. Map tiles.

const TILE_ZOOMS: [u32; 5] = [5, 8, 11, 12, 14];
const TILE_LAYERS: [&str; 5] = [
    "fire_points",
    "mines",
    "waste_dumps",
    "gangue_heaps",
    "districts",
];
const TILE_TARGET_MS: f64 = 20.0;
const TILE_TARGET_BYTES: usize = 500_000;

/// One layer, zoom and role: the tiles drawn and what they cost.
struct TileRow {
    layer: &'static str,
    zoom: u32,
    role: Role,
    /// Distinct tiles among those drawn.
    distinct: usize,
    /// Rendered in a read transaction (`service::tiles::answer`), to bytes.
    direct: Latencies,
    /// Over HTTP on loopback, then again with the ETag (304).
    http: Latencies,
    revalidate: Latencies,
    /// Body sizes (bytes; 0 for an empty tile) and features per tile.
    size: Vec<usize>,
    features: Vec<usize>,
    empty: usize,
}

struct TileFigures {
    district: String,
    rows: Vec<TileRow>,
}

/// Signs a bench account in (adding it the first time); returns a session token.
fn session_as(
    db: &Db,
    name: &'static str,
    role: Role,
    district: Option<&str>,
) -> anyhow::Result<String> {
    db.write_blocking(|tx| -> anyhow::Result<String> {
        let now = Utc::now();
        let u = NewUser {
            username: name,
            password: BENCH_PASSWORD,
            role,
            district,
            holder: None,
        };
        let id = match users::add(tx, &u, now) {
            Ok(id) => id,
            Err(UserError::Taken(_)) => users::verify(tx, name, BENCH_PASSWORD)?
                .map(|(id, _)| id)
                .context("the bench account exists with another password")?,
            Err(e) => return Err(e.into()),
        };
        Ok(qingling::store::Tx::users(tx).create_session(id, None, now)?)
    })
}

/// A GET with extra headers; the status, the ETag and the body.
fn http_get_with(
    addr: SocketAddr,
    path: &str,
    token: &str,
    extra: &str,
) -> anyhow::Result<(u16, Option<String>, Vec<u8>)> {
    let mut s = TcpStream::connect(addr)?;
    s.set_nodelay(true)?;
    s.write_all(
        format!(
            "GET {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\n{extra}Connection: close\r\n\r\n"
        )
        .as_bytes(),
    )?;
    let mut raw = Vec::with_capacity(1 << 20);
    s.read_to_end(&mut raw)?;
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .context("no end of the response headers")?;
    let head = std::str::from_utf8(&raw[..end])?.to_string();
    let status: u16 = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .context("no status line")?;
    let etag = head
        .lines()
        .find_map(|l| {
            l.strip_prefix("etag: ")
                .or_else(|| l.strip_prefix("ETag: "))
        })
        .map(str::to_string);
    let body = &raw[end + 4..];
    let chunked = head
        .to_ascii_lowercase()
        .lines()
        .any(|l| l.starts_with("transfer-encoding:") && l.contains("chunked"));
    Ok((
        status,
        etag,
        if chunked {
            dechunk(body)?
        } else {
            body.to_vec()
        },
    ))
}

/// Each feature's box centre and district, read once per layer (a diagnostic read of the file).
fn centres(db: &Db, layer: &str) -> anyhow::Result<Vec<([f64; 2], String)>> {
    let c = qingling::store::connect(db.path())?;
    let mut st = c.prepare(&format!(
        "SELECT (r.minx + r.maxx) / 2, (r.miny + r.maxy) / 2, coalesce(t.{col}, '') FROM \"rtree_{layer}_geom\" r JOIN \"{layer}\" t ON t.fid = r.id",
        col = if layer == "districts" { "code" } else { "district_code" }
    ))?;
    let rows = st
        .query_map([], |r| Ok(([r.get(0)?, r.get(1)?], r.get(2)?)))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

fn tile_at(p: [f64; 2], z: u32) -> (u32, u32) {
    let n = f64::from(1u32 << z);
    let x = ((p[0] + 180.0) / 360.0 * n).floor() as u32;
    let phi = p[1].to_radians();
    let y = ((1.0 - (phi.tan() + 1.0 / phi.cos()).ln() / PI) / 2.0 * n).floor() as u32;
    (x, y)
}

fn bench_tiles(db: &Db, registry: &Registry, args: &Args) -> anyhow::Result<TileFigures> {
    use qingling::service::tiles::{Answer, Request, TileId};
    let rules = app::load_rules(db)?;
    let mut rng = StdRng::seed_from_u64(args.seed ^ TILE_STREAM);
    // The district officer of the district with the most fires.
    let fires = centres(db, "fire_points")?;
    let mut per: HashMap<&str, usize> = HashMap::new();
    for (_, d) in &fires {
        *per.entry(d.as_str()).or_default() += 1;
    }
    let district = per
        .iter()
        .max_by_key(|(d, n)| (**n, std::cmp::Reverse(**d)))
        .map(|(d, _)| (*d).to_string())
        .context("no fires")?;
    drop(per);
    eprintln!("starting the HTTP server on loopback for the tiles");
    let tokens = [
        (
            Role::Manager,
            session_as(db, BENCH_USER, Role::Manager, None)?,
        ),
        (
            Role::District,
            session_as(db, "bench-district", Role::District, Some(&district))?,
        ),
    ];
    let (rt, addr) = serve(db, registry)?;
    let mut rows = vec![];
    for name in TILE_LAYERS {
        let layer = registry.get(name).context("no such layer")?.clone();
        let points = if name == "fire_points" {
            fires.clone()
        } else {
            centres(db, name)?
        };
        for (role, token) in &tokens {
            let actor = Actor {
                username: "bench".into(),
                role: *role,
                district: (*role == Role::District).then(|| district.clone()),
                holder: None,
            };
            let scope = layer.read_scope(&actor);
            // Where the data this role may see is.
            let mine: Vec<[f64; 2]> = points
                .iter()
                .filter(|(_, d)| match &scope {
                    Scope::District(code) => d == code,
                    _ => true,
                })
                .map(|(p, _)| *p)
                .collect();
            if mine.is_empty() {
                continue;
            }
            for z in TILE_ZOOMS {
                eprintln!("tiles of {name} at zoom {z} as a {}", role.as_str());
                let drawn: Vec<(u32, u32)> = (0..WARMUP.min(3) + args.tiles)
                    .map(|_| tile_at(mine[rng.random_range(0..mine.len())], z))
                    .collect();
                let mut row = TileRow {
                    layer: name,
                    zoom: z,
                    role: *role,
                    distinct: drawn[WARMUP.min(3)..]
                        .iter()
                        .collect::<std::collections::BTreeSet<_>>()
                        .len(),
                    direct: Latencies::default(),
                    http: Latencies::default(),
                    revalidate: Latencies::default(),
                    size: vec![],
                    features: vec![],
                    empty: 0,
                };
                for (k, (x, y)) in drawn.iter().enumerate() {
                    let timed = k >= WARMUP.min(3);
                    let tile = TileId::new(z, *y, *x).context("a tile")?;
                    let t = Instant::now();
                    let answer = db.read_blocking(|tx| {
                        let r = Request {
                            layer: &layer,
                            scope: &scope,
                            hidden: &[],
                            tile,
                            now: Utc::now(),
                            rules: &rules,
                            // Nothing kept: the direct figure is the cost of drawing the tile.
                            made: &qingling::service::tiles::Made::new(),
                        };
                        qingling::service::tiles::answer(tx, &r, &|_| false)
                    })?;
                    let direct_ms = t.elapsed().as_secs_f64() * 1e3;
                    let path = format!("/collections/{name}/tiles/WebMercatorQuad/{z}/{y}/{x}");
                    let t = Instant::now();
                    let (status, etag, body) = http_get_with(addr, &path, token, "")?;
                    let http_ms = t.elapsed().as_secs_f64() * 1e3;
                    if !matches!(status, 200 | 204) {
                        bail!(
                            "GET {path}: HTTP {status}: {}",
                            String::from_utf8_lossy(&body)
                        );
                    }
                    let etag = etag.context("no ETag")?;
                    let t = Instant::now();
                    let (again, _, _) =
                        http_get_with(addr, &path, token, &format!("If-None-Match: {etag}\r\n"))?;
                    let revalidate_ms = t.elapsed().as_secs_f64() * 1e3;
                    if again != 304 {
                        bail!("GET {path} with its ETag: HTTP {again}, not 304");
                    }
                    if !timed {
                        continue;
                    }
                    row.direct.ms.push(direct_ms);
                    row.http.ms.push(http_ms);
                    row.revalidate.ms.push(revalidate_ms);
                    match answer {
                        Answer::Tile { bytes, .. } => {
                            row.size.push(bytes.len());
                            row.features.push(count_features(&bytes));
                        }
                        _ => {
                            row.size.push(0);
                            row.features.push(0);
                            row.empty += 1;
                        }
                    }
                }
                rows.push(row);
            }
        }
    }
    rt.shutdown_timeout(Duration::from_secs(2));
    for (_, token) in &tokens {
        db.write_blocking(|tx| qingling::store::Tx::users(tx).end_session(token))?;
    }
    Ok(TileFigures { district, rows })
}

/// Features in an MVT body: its layer's feature fields (protobuf field 2 of the layer), counted
/// by walking the wire format (the tile is checked by tests/tiles.rs; here it is only counted).
fn count_features(b: &[u8]) -> usize {
    fn varint(b: &[u8], i: &mut usize) -> u64 {
        let mut v = 0u64;
        let mut shift = 0;
        while *i < b.len() {
            let byte = b[*i];
            *i += 1;
            v |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                break;
            }
            shift += 7;
        }
        v
    }
    fn fields(b: &[u8], want: u64, each: &mut dyn FnMut(&[u8])) {
        let mut i = 0;
        while i < b.len() {
            let key = varint(b, &mut i);
            match key & 7 {
                0 => {
                    varint(b, &mut i);
                }
                1 => i += 8,
                5 => i += 4,
                2 => {
                    let n = varint(b, &mut i) as usize;
                    if key >> 3 == want {
                        each(&b[i..(i + n).min(b.len())]);
                    }
                    i += n;
                }
                _ => return,
            }
        }
    }
    let mut n = 0;
    fields(b, 3, &mut |layer| fields(layer, 2, &mut |_| n += 1));
    n
}

#[allow(clippy::print_stdout)]
fn print_tiles(t: &TileFigures, open_s: f64) {
    println!(
        "Map tiles (MVT, one layer each): {} tiles drawn per layer, zoom and role where the data is; as a manager and as the officer of district {} (the most fires); Db::open {open_s:.1} s",
        t.rows.first().map_or(0, |r| r.direct.ms.len()),
        t.district
    );
    println!(
        "  {:<13} {:>4} {:<8} {:>8} {:>22} {:>22} {:>9} {:>18} {:>9}  targets",
        "layer",
        "zoom",
        "role",
        "distinct",
        "direct med/p95/max ms",
        "HTTP med/p95/max ms",
        "304 med",
        "size med / max KB",
        "features"
    );
    let mut worst_ms: f64 = 0.0;
    let mut worst_kb: usize = 0;
    for r in &t.rows {
        let sizes = Latencies {
            ms: r.size.iter().map(|&b| b as f64).collect(),
        };
        let ok = r.http.pct(0.5) <= TILE_TARGET_MS
            && r.size.iter().max().copied().unwrap_or(0) <= TILE_TARGET_BYTES;
        worst_ms = worst_ms.max(r.http.pct(0.5));
        worst_kb = worst_kb.max(r.size.iter().max().copied().unwrap_or(0));
        println!(
            "  {:<13} {:>4} {:<8} {:>8} {:>22} {:>22} {:>9} {:>18} {:>9}  {}",
            r.layer,
            r.zoom,
            r.role.as_str(),
            format!(
                "{}{}",
                r.distinct,
                if r.empty > 0 {
                    format!(" ({} empty)", r.empty)
                } else {
                    String::new()
                }
            ),
            format!(
                "{:.1} / {:.1} / {:.1}",
                r.direct.pct(0.5),
                r.direct.pct(0.95),
                r.direct.max()
            ),
            format!(
                "{:.1} / {:.1} / {:.1}",
                r.http.pct(0.5),
                r.http.pct(0.95),
                r.http.max()
            ),
            format!("{:.1}", r.revalidate.pct(0.5)),
            format!("{:.0} / {:.0}", sizes.pct(0.5) / 1e3, sizes.max() / 1e3),
            format!(
                "{:.0}",
                median_f(&r.features.iter().map(|&n| n as f64).collect::<Vec<_>>())
            ),
            verdict(ok),
        );
    }
    line(
        "  worst median over HTTP; largest tile",
        format!("{worst_ms:.1} ms; {:.0} KB", worst_kb as f64 / 1e3),
        "≤ 20 ms; ≤ 500 KB",
        verdict(worst_ms <= TILE_TARGET_MS && worst_kb <= TILE_TARGET_BYTES),
    );
}

// ---------------------------------------------------------------------------------------------
// The report.

struct Report {
    generated: bool,
    setting: Value,
    file_bytes: u64,
    load_s: f64,
    build_s: f64,
    vertices: [f64; 4],
    km2: [f64; 3],
    assign: Option<AssignFigures>,
    query: Option<QueryFigures>,
    tiles: Option<TileFigures>,
    reports: Option<ReportFigures>,
    /// Seconds `Db::open` took (migrations: the first open after an upgrade fills the grid).
    open_s: f64,
    load_before: String,
    load_after: String,
}

/// The reports phase's figures.
struct ReportFigures {
    /// Fires in the copy before the phase.
    before: i64,
    /// One committed transaction a report: reports, seconds.
    single: (usize, f64),
    /// `BATCH` reports a transaction: reports, seconds.
    batched: (usize, f64),
    /// Reports whose fire came back routed (a party and a district) with its report event.
    routed: usize,
}

const BATCH: usize = 500;

/// Fire reports through the report use case on a copy of the data (see the module's item 4).
fn bench_reports(
    registry: &Registry,
    index: &ResponsibilityIndex,
    args: &Args,
) -> anyhow::Result<ReportFigures> {
    use qingling::service::fires::{Ctx, report};
    let copy = args.db.with_extension("reports.gpkg");
    eprintln!(
        "copying {} to {} for the reports",
        args.db.display(),
        copy.display()
    );
    // The copy is taken through SQLite's backup (a consistent snapshot, WAL included).
    qingling::store::backup::snapshot(&args.db, &copy)?;
    let scratch = Db::open(&copy, registry)?;
    let rules = app::load_rules(&scratch)?;
    let ctx = Ctx {
        registry,
        index,
        rules: &rules,
    };
    let patrol = Actor {
        username: "bench-reporter".into(),
        role: Role::Patrol,
        district: None,
        holder: None,
    };
    let mut rng = StdRng::seed_from_u64(args.seed ^ REPORT_STREAM);
    let areas = index.areas();
    let mut body = || {
        // Where fires are: in mines and on their dumps.
        let g = if rng.random_bool(0.5) {
            &areas.mines[rng.random_range(0..areas.mines.len())].geom
        } else {
            &areas.waste_dumps[rng.random_range(0..areas.waste_dumps.len())].geom
        };
        let p = in_polygon(&mut rng, g);
        let kind = ["coal_seam", "waste_dump", "gangue_heap"][rng.random_range(0..3)];
        json!({"type": "Feature", "id": uuid::Uuid::new_v4().to_string(),
            "geometry": {"type": "Point", "coordinates": [p.x(), p.y()]},
            "properties": {"kind": kind, "temp_c": round(rng.random_range(55.0..650.0), 1),
                "accuracy_m": round(rng.random_range(3.0..30.0), 1), "position_source": "gps"}})
    };
    let before = scratch.read_blocking(|tx| tx.features().count("fire_points"))?;
    let n = args.reports.max(1);
    let bodies: Vec<Value> = (0..2 * n).map(|_| body()).collect();
    let mut ids = vec![];
    eprintln!("{n} reports, one transaction each");
    let t = Instant::now();
    for b in &bodies[..n] {
        let r = scratch.write_blocking(|tx| report(tx, &ctx, &patrol, b, Utc::now()))?;
        ids.push(r.fire.id);
    }
    let single = (n, t.elapsed().as_secs_f64());
    eprintln!("{n} reports, {BATCH} a transaction");
    let t = Instant::now();
    for chunk in bodies[n..].chunks(BATCH) {
        let made = scratch.write_blocking(|tx| {
            chunk
                .iter()
                .map(|b| report(tx, &ctx, &patrol, b, Utc::now()).map(|r| r.fire.id))
                .collect::<Result<Vec<_>, _>>()
        })?;
        ids.extend(made);
    }
    let batched = (n, t.elapsed().as_secs_f64());
    let routed = scratch.read_blocking(|tx| {
        let mut routed = 0;
        for id in &ids {
            let Some(f) = tx.fires().get(id)? else {
                continue;
            };
            let events = tx.fires().events(id)?;
            if !f.responsible.district_code.is_empty()
                && !f.responsible.name.is_empty()
                && events.iter().any(|e| e.step.action == "report")
            {
                routed += 1;
            }
        }
        Ok::<_, qingling::error::Error>(routed)
    })?;
    drop(scratch);
    for suffix in ["", "-wal", "-shm", ".lock"] {
        let _ = std::fs::remove_file(format!("{}{suffix}", copy.display()));
    }
    Ok(ReportFigures {
        before,
        single,
        batched,
        routed,
    })
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .ok()
        .and_then(|s| {
            s.split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" ")
                .into()
        })
        .unwrap_or_else(|| "?".into())
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into())
}

fn bench(args: &Args) -> anyhow::Result<Report> {
    if args.naive_sample > args.assignments {
        bail!("--naive-sample must not exceed --assignments");
    }
    if args.queries == 0 || args.assignments == 0 {
        bail!("--queries and --assignments must be at least 1");
    }
    let registry = Registry::builtin()?;
    let opening = Instant::now();
    let (db, setting, generated) = open_db(args, &registry)?;
    let open_s = opening.elapsed().as_secs_f64();
    let file_bytes = std::fs::metadata(&args.db).map(|m| m.len()).unwrap_or(0);
    let load_before = loadavg();
    let loaded = load_index(&db)?;
    let only = args.only.as_deref();
    let assign = only
        .is_none_or(|o| o == "assign")
        .then(|| bench_assign(&loaded.index, args))
        .transpose()?;
    let query = only
        .is_none_or(|o| o == "queries")
        .then(|| bench_queries(&db, &registry, &loaded.index, args))
        .transpose()?;
    let tiles = only
        .is_none_or(|o| o == "tiles")
        .then(|| bench_tiles(&db, &registry, args))
        .transpose()?;
    let reports = only
        .is_none_or(|o| o == "reports")
        .then(|| bench_reports(&registry, &loaded.index, args))
        .transpose()?;
    Ok(Report {
        generated,
        setting,
        file_bytes,
        load_s: loaded.load_s,
        build_s: loaded.build_s,
        vertices: loaded.vertices,
        km2: loaded.km2,
        assign,
        query,
        tiles,
        reports,
        open_s,
        load_before,
        load_after: loadavg(),
    })
}

/// 1234567.8 → "1,234,568".
fn thousands(x: f64) -> String {
    let s = format!("{:.0}", x.abs());
    let mut out = String::new();
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(ch);
    }
    if x < 0.0 { format!("-{out}") } else { out }
}

fn verdict(ok: bool) -> &'static str {
    if ok { "PASS" } else { "FAIL" }
}

fn median_f(v: &[f64]) -> f64 {
    Latencies { ms: v.to_vec() }.pct(0.5)
}

fn mean(v: &[usize]) -> f64 {
    v.iter().sum::<usize>() as f64 / v.len().max(1) as f64
}

// A command-line report is the command's output: stdout is where it belongs.
#[allow(clippy::print_stdout)]
fn print_report(args: &Args, r: &Report) {
    let s = &r.setting;
    let nproc = std::thread::available_parallelism().map_or(0, |n| n.get());
    let g = |k: &str| s.get(k).cloned().unwrap_or(Value::Null);
    let num = |v: &Value| v.as_f64().unwrap_or(f64::NAN);
    println!();
    println!(
        "Qingling bench — {} build, nproc {nproc}, {}; load average {} (start) / {} (end)",
        if cfg!(debug_assertions) {
            "DEBUG"
        } else {
            "release"
        },
        cpu_model(),
        r.load_before,
        r.load_after
    );
    println!(
        "Data: {} ({}, {:.0} MB), seed {}, generated at {}",
        args.db.display(),
        if r.generated {
            "generated by this run"
        } else {
            "reused"
        },
        r.file_bytes as f64 / 1e6,
        args.seed,
        g("generated_at").as_str().unwrap_or("?"),
    );
    println!(
        "  {} districts (mean {:.0} vertices, shared borders) over {} km² ({WIDTH_DEG}° × {HEIGHT_DEG}°)",
        COLS * ROWS,
        r.vertices[0],
        thousands(r.km2[2])
    );
    println!(
        "  {} mines (mean {:.1} vertices, {} km², {} drawn overlapping, 5 % ownerless), {} dumps (mean {:.1} vertices, {} km²), {} heaps (mean {:.1} vertices)",
        thousands(args.mines as f64),
        r.vertices[1],
        thousands(r.km2[0]),
        g("overlapping_mines"),
        thousands(args.dumps as f64),
        r.vertices[2],
        thousands(r.km2[1]),
        thousands(args.heaps as f64),
        r.vertices[3],
    );
    let t = g("fire_targets");
    let share = |k: &str| 100.0 * num(&t[k]) / args.fires.max(1) as f64;
    let in_areas = num(&t["in a mine"]) + num(&t["in a dump"]);
    println!(
        "  {} fires: {:.0} % in mines (log-normal weights: a few mines burn far more), {:.0} % in dumps, {:.0} % in heaps, {:.0} % near mines, {:.0} % anywhere",
        thousands(args.fires as f64),
        share("in a mine"),
        share("in a dump"),
        share("in a heap"),
        share("near a mine"),
        share("anywhere"),
    );
    println!(
        "  density: {:.0} fires/km² inside mines and dumps, {:.2} fires/km² over the province",
        in_areas / (r.km2[0] + r.km2[1]).max(1e-9),
        args.fires as f64 / r.km2[2].max(1e-9)
    );
    let imp = g("import_s");
    let fires_s = num(&g("fires_s"));
    let reports_s = num(&g("reports_s"));
    println!(
        "Generation{}: shapes {:.1} s; import_geojson districts {:.1} s, mines {:.1} s, dumps {:.1} s, heaps {:.1} s; \
         fires with their lives {:.0} s ({} events); reports {} /s (assign + next_code + fires::insert + report event \
         with its counts, 20,000 events a transaction); at the end {} not cleared, {} burning",
        if r.generated {
            " (this run)"
        } else {
            " (when generated)"
        },
        num(&g("shapes_s")),
        num(&imp["districts"]),
        num(&imp["mines"]),
        num(&imp["waste_dumps"]),
        num(&imp["gangue_heaps"]),
        fires_s,
        thousands(num(&g("events"))),
        thousands(args.fires as f64 / reports_s.max(1e-9)),
        thousands(num(&g("open_at_end"))),
        thousands(num(&g("burning_at_end"))),
    );
    println!(
        "Index: areas::load {:.2} s, ResponsibilityIndex::new {:.3} s",
        r.load_s, r.build_s
    );
    println!();
    line("", "measured".into(), "target", "result");
    if let Some(a) = &r.assign {
        print_assign(a);
    }
    if let Some(q) = &r.query {
        print_queries(q);
    }
    if let Some(t) = &r.tiles {
        print_tiles(t, r.open_s);
    }
    if let Some(f) = &r.reports {
        print_reports(f);
    }
    println!();
}

#[allow(clippy::print_stdout)]
fn print_reports(f: &ReportFigures) {
    let rate = |(n, s): (usize, f64)| n as f64 / s.max(1e-9);
    println!();
    println!(
        "Reports through the report use case, on a copy holding {} fires:",
        thousands(f.before as f64)
    );
    line(
        "  one committed transaction a report (as a request)",
        format!("{} reports/s", thousands(rate(f.single))),
        "",
        "",
    );
    line(
        &format!("  {BATCH} reports a transaction (as the generator writes)"),
        format!("{} reports/s", thousands(rate(f.batched))),
        ">= 3,000/s",
        verdict(rate(f.batched) >= 3000.0),
    );
    line(
        "  routed, with their report event",
        format!("{} of {}", f.routed, f.single.0 + f.batched.0),
        "all",
        verdict(f.routed == f.single.0 + f.batched.0),
    );
}

#[allow(clippy::print_stdout)]
fn line(what: &str, measured: String, target: &str, result: &str) {
    println!("{what:<62} {measured:>32}  {target:<14} {result}");
}

fn ms(l: &Latencies) -> String {
    format!("{:.1} / {:.1} / {:.1} ms", l.pct(0.5), l.pct(0.95), l.max())
}

#[allow(clippy::print_stdout)]
fn print_assign(a: &AssignFigures) {
    let rate = a.n as f64 / a.secs;
    let mut chunks = a.chunk_rates.clone();
    chunks.sort_by(f64::total_cmp);
    line(
        &format!(
            "Assignments/s, one thread ({} points)",
            thousands(a.n as f64)
        ),
        format!("{}/s", thousands(rate)),
        "≥ 200,000/s",
        verdict(rate >= ASSIGN_TARGET_PER_S),
    );
    if let Some(cpu) = a.cpu_secs {
        let cpu_rate = a.n as f64 / cpu;
        line(
            &format!(
                "  per second on the CPU (on a core {:.0} % of the wall time)",
                100.0 * cpu / a.secs
            ),
            format!("{}/s", thousands(cpu_rate)),
            "≥ 200,000/s",
            verdict(cpu_rate >= ASSIGN_TARGET_PER_S),
        );
    }
    line(
        "  per tenth: slowest / median / fastest",
        format!(
            "{} / {} / {}",
            thousands(chunks.first().copied().unwrap_or(f64::NAN)),
            thousands(median_f(&chunks)),
            thousands(chunks.last().copied().unwrap_or(f64::NAN))
        ),
        "",
        "",
    );
    line(
        "  mean time per assignment",
        format!("{:.2} µs", 1e6 / rate),
        "≤ 5 µs",
        "",
    );
    let tl = &a.tally;
    let pc = |n: usize| format!("{:.1} %", 100.0 * n as f64 / a.n.max(1) as f64);
    println!(
        "  decided by: dump {}, heap {}, mine {}, no polygon {}; holder {}, overlap (candidates) {}, outside {}",
        pc(tl.by_layer[0]),
        pc(tl.by_layer[1]),
        pc(tl.by_layer[2]),
        pc(tl.by_layer[3]),
        pc(tl.holder),
        pc(tl.overlap),
        pc(tl.outside),
    );
    println!(
        "Same {}-point sample, one thread, side by side:",
        thousands(a.sample as f64)
    );
    // Ratios from on-CPU rates where known: they hold up on a busy machine.
    let best = |r: Rate| r.cpu.unwrap_or(r.wall);
    let text = |r: Rate| match r.cpu {
        Some(c) => format!("{}/s (CPU {}/s)", thousands(r.wall), thousands(c)),
        None => format!("{}/s", thousands(r.wall)),
    };
    line(
        "  R-tree + exact test (assign)",
        text(a.sample_index_rate),
        "",
        "",
    );
    line(
        "  scan every envelope, exact test on hits (no index)",
        text(a.naive_bbox_rate),
        &format!(
            "index ×{:.0}",
            best(a.sample_index_rate) / best(a.naive_bbox_rate)
        ),
        "",
    );
    line(
        "  scan every polygon with the exact test (naive)",
        text(a.naive_exact_rate),
        &format!(
            "index ×{:.0}",
            best(a.sample_index_rate) / best(a.naive_exact_rate)
        ),
        "",
    );
    line(
        "  index agrees with the full scan (district, layer, ids)",
        format!("{}/{}", a.agree, a.sample),
        "all",
        verdict(a.agree == a.sample),
    );
    if let Some(m) = &a.mismatch {
        println!("    first disagreement {m}");
    }
}

#[allow(clippy::print_stdout)]
fn print_queries(q: &QueryFigures) {
    println!(
        "bbox {BOX_DEG}° × {BOX_DEG}° on fire_points, limit {LIMIT}, {} boxes centred in random mines ({WARMUP} warm-up untimed):",
        q.boxes
    );
    println!(
        "  features returned: mean {:.0}, median {:.0}, max {}; {:.0} % of boxes hit the limit; mean body {:.0} KB",
        mean(&q.features),
        median_f(&q.features.iter().map(|&n| n as f64).collect::<Vec<_>>()),
        q.features.iter().max().copied().unwrap_or(0),
        100.0 * q.at_limit as f64 / q.boxes.max(1) as f64,
        mean(&q.size) / 1e3,
    );
    line(
        "  features::items → GeoJSON values: median / p95 / max",
        ms(&q.items),
        "",
        "",
    );
    line(
        "  … + FeatureCollection → bytes (serde_json::to_vec)",
        ms(&q.bytes),
        "median ≤ 20 ms",
        verdict(q.bytes.pct(0.5) <= QUERY_TARGET_MS),
    );
    if !q.bytes_cpu.ms.is_empty() {
        line(
            "    of which on the CPU (this thread's schedstat)",
            ms(&q.bytes_cpu),
            "",
            "",
        );
    }
    line(
        "  HTTP GET on loopback (Bearer, new connection each)",
        ms(&q.http),
        "median ≤ 20 ms",
        verdict(q.http.pct(0.5) <= QUERY_TARGET_MS),
    );
    line(
        "  ratios: HTTP / direct bytes; serialising share",
        format!(
            "×{:.2}; {:.0} %",
            q.http.pct(0.5) / q.bytes.pct(0.5),
            100.0 * (1.0 - q.items.pct(0.5) / q.bytes.pct(0.5))
        ),
        "",
        "",
    );
    line(
        "  HTTP numberReturned equals the direct count",
        format!("{}/{}", q.boxes - q.http_mismatch, q.boxes),
        "all",
        verdict(q.http_mismatch == 0),
    );
    if let Some(m) = &q.first_mismatch {
        println!("    first difference: {m}");
    }
    // The query reads every fire in the box before its LIMIT: the cost follows the box's fires.
    println!(
        "  fires in the box (all read before the LIMIT): mean {:.0}, max {}; bytes latency by that count:",
        mean(&q.in_box),
        q.in_box.iter().max().copied().unwrap_or(0)
    );
    for (lo, hi, label) in [
        (0, 250, "≤ 250"),
        (251, 1000, "251-1,000"),
        (1001, usize::MAX, "> 1,000"),
    ] {
        let times: Vec<f64> = q
            .in_box
            .iter()
            .zip(&q.bytes.ms)
            .filter(|(n, _)| (lo..=hi).contains(*n))
            .map(|(_, m)| *m)
            .collect();
        if !times.is_empty() {
            line(
                &format!("    {label} fires: median (boxes)"),
                format!("{:.1} ms ({})", median_f(&times), times.len()),
                "",
                "",
            );
        }
    }
    println!(
        "Same boxes read through other roles' scopes (direct, to bytes; the issue's figure is the manager's):"
    );
    for sf in &q.scopes {
        let who = match sf.role {
            Role::Patrol => "a patrol (open fires)",
            Role::District => "a district officer (the box's district)",
            Role::Owner => "an owner (the box's mine's holder)",
            Role::Manager => "a manager",
        };
        let ok = sf.bytes.pct(0.5) <= QUERY_TARGET_MS;
        line(
            &format!("  as {who}"),
            ms(&sf.bytes),
            "median ≤ 20 ms",
            verdict(ok),
        );
        println!(
            "    {} boxes{}{}; mean {:.0} features",
            sf.bytes.ms.len(),
            if sf.stopped {
                format!(" (stopped at the {} s budget)", SCOPE_BUDGET.as_secs())
            } else {
                String::new()
            },
            if sf.skipped > 0 {
                format!(", {} skipped (ownerless mine)", sf.skipped)
            } else {
                String::new()
            },
            mean(&sf.features),
        );
    }
}

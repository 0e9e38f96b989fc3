//! GeoPackage 1.2 primitives: the core gpkg_* tables, feature tables with their R-tree
//! spatial index, the GeoPackage binary geometry format and the ST_* SQL functions the
//! R-tree triggers need. Everything here aims at files GDAL opens and validates cleanly.

use geo::{BoundingRect, Geometry};
use geo_traits::to_geo::ToGeoGeometry;
use rusqlite::functions::{Context, FunctionFlags};
use rusqlite::types::ValueRef;
use rusqlite::{Connection, OptionalExtension, params};

/// All geometries are stored as lon/lat; CGCS2000 (EPSG:4490) differs from WGS 84 by
/// centimetres, so we declare EPSG:4326 which every client understands.
pub const SRS_ID: i32 = 4326;

/// 'GPKG' as a big-endian integer: marks the SQLite file as a GeoPackage.
const APPLICATION_ID: i32 = 0x4750_4B47;
/// GeoPackage 1.2.0.
const USER_VERSION: i32 = 10200;

const GEOM_COLUMN: &str = "geom";

#[derive(Debug, thiserror::Error)]
pub enum GpkgError {
    #[error(transparent)]
    Sqlite(#[from] rusqlite::Error),
    #[error("invalid GeoPackage geometry blob: {0}")]
    BadBlob(String),
    #[error("WKB encoding failed: {0}")]
    Wkb(#[from] wkb::error::WkbError),
    #[error("invalid identifier {0:?}: use [a-z0-9_], starting with a letter")]
    BadIdentifier(String),
    #[error("unsupported geometry type {0:?}")]
    BadGeometryType(String),
    #[error("unsupported column type {0:?}")]
    BadColumnType(String),
}

pub type Result<T> = std::result::Result<T, GpkgError>;

/// An attribute column of a feature table (besides `fid` and `geom`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Column {
    pub name: String,
    pub sql_type: &'static str,
    pub not_null: bool,
    pub unique: bool,
}

const WGS84_WKT: &str = concat!(
    r#"GEOGCS["WGS 84",DATUM["WGS_1984",SPHEROID["WGS 84",6378137,298.257223563,"#,
    r#"AUTHORITY["EPSG","7030"]],AUTHORITY["EPSG","6326"]],PRIMEM["Greenwich",0,"#,
    r#"AUTHORITY["EPSG","8901"]],UNIT["degree",0.0174532925199433,"#,
    r#"AUTHORITY["EPSG","9122"]],AXIS["Latitude",NORTH],AXIS["Longitude",EAST],"#,
    r#"AUTHORITY["EPSG","4326"]]"#
);

const CGCS2000_WKT: &str = concat!(
    r#"GEOGCS["China Geodetic Coordinate System 2000",DATUM["China_2000","#,
    r#"SPHEROID["CGCS2000",6378137,298.257222101,AUTHORITY["EPSG","1024"]],"#,
    r#"AUTHORITY["EPSG","1043"]],PRIMEM["Greenwich",0,AUTHORITY["EPSG","8901"]],"#,
    r#"UNIT["degree",0.0174532925199433,AUTHORITY["EPSG","9122"]],"#,
    r#"AXIS["Latitude",NORTH],AXIS["Longitude",EAST],AUTHORITY["EPSG","4490"]]"#
);

// Table definitions are verbatim from the GPKG 1.2 spec (Annex C): the validator compares
// column names, types, NOT NULL and defaults exactly.
const CORE_SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS gpkg_spatial_ref_sys (
  srs_name TEXT NOT NULL,
  srs_id INTEGER NOT NULL PRIMARY KEY,
  organization TEXT NOT NULL,
  organization_coordsys_id INTEGER NOT NULL,
  definition TEXT NOT NULL,
  description TEXT
);
CREATE TABLE IF NOT EXISTS gpkg_contents (
  table_name TEXT NOT NULL PRIMARY KEY,
  data_type TEXT NOT NULL,
  identifier TEXT UNIQUE,
  description TEXT DEFAULT '',
  last_change DATETIME NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
  min_x DOUBLE,
  min_y DOUBLE,
  max_x DOUBLE,
  max_y DOUBLE,
  srs_id INTEGER,
  CONSTRAINT fk_gc_r_srs_id FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys(srs_id)
);
CREATE TABLE IF NOT EXISTS gpkg_geometry_columns (
  table_name TEXT NOT NULL,
  column_name TEXT NOT NULL,
  geometry_type_name TEXT NOT NULL,
  srs_id INTEGER NOT NULL,
  z TINYINT NOT NULL,
  m TINYINT NOT NULL,
  CONSTRAINT pk_geom_cols PRIMARY KEY (table_name, column_name),
  CONSTRAINT uk_gc_table_name UNIQUE (table_name),
  CONSTRAINT fk_gc_tn FOREIGN KEY (table_name) REFERENCES gpkg_contents(table_name),
  CONSTRAINT fk_gc_srs FOREIGN KEY (srs_id) REFERENCES gpkg_spatial_ref_sys (srs_id)
);
CREATE TABLE IF NOT EXISTS gpkg_extensions (
  table_name TEXT,
  column_name TEXT,
  extension_name TEXT NOT NULL,
  definition TEXT NOT NULL,
  scope TEXT NOT NULL,
  CONSTRAINT ge_tce UNIQUE (table_name, column_name, extension_name)
);
";

/// application_id 1196444487 ('GPKG'), user_version 10200, gpkg_spatial_ref_sys (with -1, 0,
/// 4326 and 4490 rows, proper WKT definitions), gpkg_contents, gpkg_geometry_columns,
/// gpkg_extensions. Idempotent (IF NOT EXISTS / INSERT OR IGNORE).
pub fn init(conn: &Connection) -> Result<()> {
    in_savepoint(conn, || {
        conn.execute_batch(&format!(
            "PRAGMA application_id = {APPLICATION_ID}; PRAGMA user_version = {USER_VERSION};"
        ))?;
        conn.execute_batch(CORE_SCHEMA)?;
        let srs: [(&str, i32, &str, i32, &str, &str); 4] = [
            (
                "Undefined cartesian SRS",
                -1,
                "NONE",
                -1,
                "undefined",
                "undefined cartesian coordinate reference system",
            ),
            (
                "Undefined geographic SRS",
                0,
                "NONE",
                0,
                "undefined",
                "undefined geographic coordinate reference system",
            ),
            (
                "WGS 84 geodetic",
                4326,
                "EPSG",
                4326,
                WGS84_WKT,
                "longitude/latitude coordinates in decimal degrees on the WGS 84 spheroid",
            ),
            (
                "China Geodetic Coordinate System 2000",
                4490,
                "EPSG",
                4490,
                CGCS2000_WKT,
                "longitude/latitude coordinates in decimal degrees on the CGCS2000 spheroid",
            ),
        ];
        let mut stmt = conn.prepare(
            "INSERT OR IGNORE INTO gpkg_spatial_ref_sys
             (srs_name, srs_id, organization, organization_coordsys_id, definition, description)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        )?;
        for (name, id, org, org_id, def, desc) in srs {
            stmt.execute(params![name, id, org, org_id, def, desc])?;
        }
        Ok(())
    })
}

/// Registers ST_MinX, ST_MaxX, ST_MinY, ST_MaxY, ST_IsEmpty (deterministic scalar functions
/// over GP blobs) — the R-tree triggers call them, so EVERY connection that writes must call
/// this right after opening.
pub fn register_functions(conn: &Connection) -> Result<()> {
    // INNOCUOUS lets the triggers use them even when the schema is untrusted
    // (PRAGMA trusted_schema=OFF); they read only their argument.
    let flags = FunctionFlags::SQLITE_UTF8
        | FunctionFlags::SQLITE_DETERMINISTIC
        | FunctionFlags::SQLITE_INNOCUOUS;
    type Pick = fn((f64, f64, f64, f64)) -> f64;
    let bounds: [(&str, Pick); 4] = [
        ("ST_MinX", |e| e.0),
        ("ST_MinY", |e| e.1),
        ("ST_MaxX", |e| e.2),
        ("ST_MaxY", |e| e.3),
    ];
    for (name, pick) in bounds {
        conn.create_scalar_function(name, 1, flags, move |ctx| Ok(sql_envelope(ctx)?.map(pick)))?;
    }
    conn.create_scalar_function("ST_IsEmpty", 1, flags, |ctx| {
        sql_blob(ctx)?
            .map(|blob| envelope(blob).map(|e| e.is_none()))
            .transpose()
            .map_err(user_error)
    })?;
    Ok(())
}

/// NULL stays NULL (triggers test `NOT NULL` first); any other non-blob value is a
/// programming error we want to surface rather than index as garbage.
fn sql_blob<'a>(ctx: &'a Context<'_>) -> rusqlite::Result<Option<&'a [u8]>> {
    match ctx.get_raw(0) {
        ValueRef::Null => Ok(None),
        ValueRef::Blob(b) => Ok(Some(b)),
        _ => Err(user_error(GpkgError::BadBlob(
            "expected a GeoPackage geometry blob".into(),
        ))),
    }
}

fn sql_envelope(ctx: &Context<'_>) -> rusqlite::Result<Option<(f64, f64, f64, f64)>> {
    match sql_blob(ctx)? {
        Some(blob) => envelope(blob).map_err(user_error),
        None => Ok(None),
    }
}

fn user_error(e: GpkgError) -> rusqlite::Error {
    rusqlite::Error::UserFunctionError(Box::new(e))
}

/// Creates a feature table `fid INTEGER PRIMARY KEY AUTOINCREMENT, geom <GEOMETRY TYPE>,
/// <columns…>`, registers it in gpkg_contents and gpkg_geometry_columns, and creates the
/// R-tree spatial index `rtree_<table>_geom` with the GPKG 1.2 trigger set GDAL uses plus its
/// gpkg_extensions row. Idempotent: does nothing if the table is already registered.
pub fn create_feature_table(
    conn: &Connection,
    table: &str,
    geometry_type: &str,
    columns: &[Column],
    identifier: &str,
    description: &str,
) -> Result<()> {
    let t = table_ident(table)?;
    let geometry_type = match geometry_type {
        "POINT" | "LINESTRING" | "POLYGON" | "MULTIPOLYGON" | "GEOMETRY" => geometry_type,
        other => return Err(GpkgError::BadGeometryType(other.to_owned())),
    };
    let mut defs = vec![
        "\"fid\" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL".to_owned(),
        format!("\"{GEOM_COLUMN}\" {geometry_type}"),
    ];
    for c in columns {
        let name = ident(&c.name)?;
        if name == "fid" || name == GEOM_COLUMN {
            return Err(GpkgError::BadIdentifier(c.name.clone()));
        }
        // The GPKG 1.2 data types (Table 1); anything else fails validation.
        let ty = match c.sql_type {
            "TEXT" | "INTEGER" | "REAL" | "DOUBLE" | "BOOLEAN" | "BLOB" | "DATE" | "DATETIME" => {
                c.sql_type
            }
            other => return Err(GpkgError::BadColumnType(other.to_owned())),
        };
        let mut def = format!("\"{name}\" {ty}");
        if c.not_null {
            def.push_str(" NOT NULL");
        }
        if c.unique {
            def.push_str(" UNIQUE");
        }
        defs.push(def);
    }

    in_savepoint(conn, || {
        let registered = conn
            .query_row(
                "SELECT 1 FROM gpkg_contents WHERE table_name = ?1",
                [t],
                |_| Ok(()),
            )
            .optional()?
            .is_some();
        if registered {
            return Ok(());
        }
        conn.execute_batch(&format!("CREATE TABLE \"{t}\" ({});", defs.join(", ")))?;
        conn.execute(
            "INSERT INTO gpkg_contents (table_name, data_type, identifier, description, srs_id)
             VALUES (?1, 'features', ?2, ?3, ?4)",
            params![t, identifier, description, SRS_ID],
        )?;
        conn.execute(
            "INSERT INTO gpkg_geometry_columns
             (table_name, column_name, geometry_type_name, srs_id, z, m)
             VALUES (?1, ?2, ?3, ?4, 0, 0)",
            params![t, GEOM_COLUMN, geometry_type, SRS_ID],
        )?;
        conn.execute_batch(&rtree_sql(t, GEOM_COLUMN, "fid"))?;
        conn.execute(
            "INSERT OR IGNORE INTO gpkg_extensions
             (table_name, column_name, extension_name, definition, scope)
             VALUES (?1, ?2, 'gpkg_rtree_index',
                     'http://www.geopackage.org/spec120/#extension_rtree', 'write-only')",
            params![t, GEOM_COLUMN],
        )?;
        Ok(())
    })
}

/// The R-tree and its triggers as in GPKG 1.2 Annex F.3 (the set GDAL 3.6 writes and its
/// validator looks for). Identifiers were validated by the caller.
fn rtree_sql(t: &str, c: &str, i: &str) -> String {
    let r = format!("rtree_{t}_{c}");
    let bounds = format!(
        "NEW.\"{i}\", ST_MinX(NEW.\"{c}\"), ST_MaxX(NEW.\"{c}\"), \
         ST_MinY(NEW.\"{c}\"), ST_MaxY(NEW.\"{c}\")"
    );
    let non_empty = format!("(NEW.\"{c}\" NOT NULL AND NOT ST_IsEmpty(NEW.\"{c}\"))");
    let empty = format!("(NEW.\"{c}\" ISNULL OR ST_IsEmpty(NEW.\"{c}\"))");
    format!(
        "CREATE VIRTUAL TABLE \"{r}\" USING rtree(id, minx, maxx, miny, maxy);
CREATE TRIGGER \"{r}_insert\" AFTER INSERT ON \"{t}\"
WHEN {non_empty}
BEGIN
  INSERT OR REPLACE INTO \"{r}\" VALUES ({bounds});
END;
CREATE TRIGGER \"{r}_update1\" AFTER UPDATE OF \"{c}\" ON \"{t}\"
WHEN OLD.\"{i}\" = NEW.\"{i}\" AND {non_empty}
BEGIN
  INSERT OR REPLACE INTO \"{r}\" VALUES ({bounds});
END;
CREATE TRIGGER \"{r}_update2\" AFTER UPDATE OF \"{c}\" ON \"{t}\"
WHEN OLD.\"{i}\" = NEW.\"{i}\" AND {empty}
BEGIN
  DELETE FROM \"{r}\" WHERE id = OLD.\"{i}\";
END;
CREATE TRIGGER \"{r}_update3\" AFTER UPDATE ON \"{t}\"
WHEN OLD.\"{i}\" != NEW.\"{i}\" AND {non_empty}
BEGIN
  DELETE FROM \"{r}\" WHERE id = OLD.\"{i}\";
  INSERT OR REPLACE INTO \"{r}\" VALUES ({bounds});
END;
CREATE TRIGGER \"{r}_update4\" AFTER UPDATE ON \"{t}\"
WHEN OLD.\"{i}\" != NEW.\"{i}\" AND {empty}
BEGIN
  DELETE FROM \"{r}\" WHERE id IN (OLD.\"{i}\", NEW.\"{i}\");
END;
CREATE TRIGGER \"{r}_delete\" AFTER DELETE ON \"{t}\"
WHEN OLD.\"{c}\" NOT NULL
BEGIN
  DELETE FROM \"{r}\" WHERE id = OLD.\"{i}\";
END;
"
    )
}

/// Recomputes gpkg_contents.min_x..max_y and last_change for a table from its R-tree (cheap:
/// aggregate over the rtree table). The R-tree stores float32 rounded outwards, so the
/// extent may be a hair larger than the data — harmless for a bounding box.
pub fn update_extent(conn: &Connection, table: &str) -> Result<()> {
    let t = table_ident(table)?;
    let (min_x, min_y, max_x, max_y): (Option<f64>, Option<f64>, Option<f64>, Option<f64>) = conn
        .query_row(
        &format!(
            "SELECT MIN(minx), MIN(miny), MAX(maxx), MAX(maxy) \
                 FROM \"rtree_{t}_{GEOM_COLUMN}\""
        ),
        [],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
    )?;
    conn.execute(
        "UPDATE gpkg_contents
         SET min_x = ?2, min_y = ?3, max_x = ?4, max_y = ?5,
             last_change = strftime('%Y-%m-%dT%H:%M:%fZ','now')
         WHERE table_name = ?1",
        params![t, min_x, min_y, max_x, max_y],
    )?;
    Ok(())
}

/// Runs `f` inside a SAVEPOINT so multi-statement setup is all-or-nothing, whether or not
/// the caller already opened a transaction.
fn in_savepoint<T>(conn: &Connection, f: impl FnOnce() -> Result<T>) -> Result<T> {
    conn.execute_batch("SAVEPOINT qingling_gpkg")?;
    match f() {
        Ok(v) => {
            conn.execute_batch("RELEASE qingling_gpkg")?;
            Ok(v)
        }
        Err(e) => {
            // The original error matters more than a failed rollback.
            let _ = conn.execute_batch("ROLLBACK TO qingling_gpkg; RELEASE qingling_gpkg");
            Err(e)
        }
    }
}

/// Only [a-z0-9_] starting with a letter: safe to splice into SQL inside double quotes and
/// friendly to every GIS client.
fn ident(name: &str) -> Result<&str> {
    let mut chars = name.chars();
    let ok = chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && name.len() <= 63;
    if ok {
        Ok(name)
    } else {
        Err(GpkgError::BadIdentifier(name.to_owned()))
    }
}

/// Table names additionally must not collide with GeoPackage/SQLite reserved prefixes.
fn table_ident(name: &str) -> Result<&str> {
    let t = ident(name)?;
    if ["gpkg_", "rtree_", "sqlite_"]
        .iter()
        .any(|p| t.starts_with(p))
    {
        return Err(GpkgError::BadIdentifier(name.to_owned()));
    }
    Ok(t)
}

// GeoPackage binary header flag bits (GPKG 1.2 §2.1.3.1.1).
const FLAG_LITTLE_ENDIAN: u8 = 0b0000_0001;
const FLAG_ENVELOPE_XY: u8 = 0b0000_0010;
const FLAG_EMPTY: u8 = 0b0001_0000;
const FLAG_EXTENDED: u8 = 0b0010_0000;

/// GeoPackage binary geometry: 'GP', version 0, flags (little-endian; envelope
/// [minx,maxx,miny,maxy] for everything except points, which carry no envelope; empty flag
/// set for empty geometries), srs_id 4326, then ISO WKB (2D) written by the `wkb` crate.
///
/// Writing WKB into a Vec can only fail if a ring or collection has more than u32::MAX
/// members; use [`try_encode`] to see that error. Here it degrades to an empty
/// GEOMETRYCOLLECTION (logged) so the signature stays infallible.
pub fn encode(geom: &Geometry<f64>) -> Vec<u8> {
    try_encode(geom).unwrap_or_else(|e| {
        tracing::error!(error = %e, "geometry too large for WKB; storing it as empty");
        // An empty collection always encodes, so the default is never reached.
        try_encode(&Geometry::GeometryCollection(Default::default())).unwrap_or_default()
    })
}

/// [`encode`], reporting WKB writer errors instead of degrading.
pub fn try_encode(geom: &Geometry<f64>) -> Result<Vec<u8>> {
    let (env, empty) = match geom {
        // Points carry no envelope: it would just repeat the coordinate.
        Geometry::Point(p) => (None, p.x().is_nan() && p.y().is_nan()),
        g => {
            let r = g.bounding_rect();
            (
                r.map(|r| (r.min().x, r.min().y, r.max().x, r.max().y)),
                r.is_none(),
            )
        }
    };
    let mut buf = header(env, empty);
    buf.reserve(wkb::writer::geometry_wkb_size(geom));
    wkb::writer::write_geometry(
        &mut buf,
        geom,
        &wkb::writer::WriteOptions {
            endianness: wkb::Endianness::LittleEndian,
        },
    )?;
    Ok(buf)
}

fn header(env: Option<(f64, f64, f64, f64)>, empty: bool) -> Vec<u8> {
    let env = env.filter(|_| !empty);
    let mut flags = FLAG_LITTLE_ENDIAN;
    if env.is_some() {
        flags |= FLAG_ENVELOPE_XY;
    }
    if empty {
        flags |= FLAG_EMPTY;
    }
    let mut buf = Vec::with_capacity(8 + 32);
    buf.extend_from_slice(&[b'G', b'P', 0, flags]);
    buf.extend_from_slice(&SRS_ID.to_le_bytes());
    if let Some((min_x, min_y, max_x, max_y)) = env {
        for v in [min_x, max_x, min_y, max_y] {
            buf.extend_from_slice(&v.to_le_bytes());
        }
    }
    buf
}

/// A parsed GeoPackage binary header.
struct Header<'a> {
    empty: bool,
    /// (min_x, min_y, max_x, max_y)
    envelope: Option<(f64, f64, f64, f64)>,
    wkb: &'a [u8],
}

fn parse_header(blob: &[u8]) -> Result<Header<'_>> {
    let bad = |m: &str| GpkgError::BadBlob(m.to_owned());
    let [g, p, version, flags, ..] = *blob else {
        return Err(bad("shorter than the 8-byte header"));
    };
    if [g, p] != *b"GP" {
        return Err(bad("missing 'GP' magic"));
    }
    if version != 0 {
        return Err(bad("unsupported version"));
    }
    if flags & FLAG_EXTENDED != 0 {
        return Err(bad("extended GeoPackage geometries are not supported"));
    }
    let le = flags & FLAG_LITTLE_ENDIAN != 0;
    let envelope_doubles = match (flags >> 1) & 0b111 {
        0 => 0,
        1 => 4,
        2 | 3 => 6,
        4 => 8,
        _ => return Err(bad("invalid envelope indicator")),
    };
    let wkb_start = 8 + envelope_doubles * 8;
    let (Some(env_bytes), Some(wkb)) = (blob.get(8..wkb_start), blob.get(wkb_start..)) else {
        return Err(bad("truncated envelope"));
    };
    let read = |i: usize| -> f64 {
        let mut b = [0u8; 8];
        b.copy_from_slice(&env_bytes[i * 8..i * 8 + 8]);
        if le {
            f64::from_le_bytes(b)
        } else {
            f64::from_be_bytes(b)
        }
    };
    // Whatever the dimensions, the first four doubles are minx, maxx, miny, maxy.
    let envelope = (envelope_doubles > 0)
        .then(|| (read(0), read(2), read(1), read(3)))
        // Empty geometries may carry a NaN envelope.
        .filter(|e| !(e.0.is_nan() || e.1.is_nan() || e.2.is_nan() || e.3.is_nan()));
    Ok(Header {
        empty: flags & FLAG_EMPTY != 0,
        envelope,
        wkb,
    })
}

/// Decodes a GeoPackage binary geometry. Z/M ordinates are dropped. `POINT EMPTY` (NaN
/// coordinates in WKB) has no geo equivalent and comes back as a NaN point, which
/// [`encode`] turns back into `POINT EMPTY`.
pub fn decode(blob: &[u8]) -> Result<Geometry<f64>> {
    let h = parse_header(blob)?;
    // The wkb crate is the authority on what is well-formed WKB.
    let w = wkb::reader::read_wkb(h.wkb).map_err(|e| GpkgError::BadBlob(e.to_string()))?;
    // POINT EMPTY (NaN coordinates) has no geo equivalent: a NaN point stands for it.
    Ok(w.try_to_geometry()
        .unwrap_or_else(|| Geometry::Point(geo::Point::new(f64::NAN, f64::NAN))))
}

/// The coordinates of a 2D point blob, read in place by the wkb crate; `None` for any other
/// geometry (and `POINT EMPTY`), which [`decode`] reads. A page of fires is points: this skips
/// building a geometry for each.
pub fn point_xy(blob: &[u8]) -> Option<(f64, f64)> {
    use geo_traits::{CoordTrait, GeometryTrait, GeometryType, PointTrait};
    let w = wkb::reader::read_wkb(parse_header(blob).ok()?.wkb).ok()?;
    let GeometryType::Point(p) = w.as_type() else {
        return None;
    };
    let c = p.coord()?;
    (c.x().is_finite() && c.y().is_finite()).then(|| (c.x(), c.y()))
}

/// The envelope (min_x, min_y, max_x, max_y) from the header when present, else computed
/// from the WKB; None for empty geometries.
pub fn envelope(blob: &[u8]) -> Result<Option<(f64, f64, f64, f64)>> {
    let h = parse_header(blob)?;
    if h.empty {
        return Ok(None);
    }
    if h.envelope.is_some() {
        return Ok(h.envelope);
    }
    let computed = match decode(blob)? {
        Geometry::Point(p) if p.x().is_nan() || p.y().is_nan() => None,
        Geometry::Point(p) => Some((p.x(), p.y(), p.x(), p.y())),
        g => g
            .bounding_rect()
            .map(|r| (r.min().x, r.min().y, r.max().x, r.max().y)),
    };
    Ok(computed)
}

#[cfg(test)]
// A failed unwrap is the clearest test failure.
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use geo::{LineString, MultiPolygon, Point, Polygon, coord, line_string, point, polygon};
    use std::process::Command;

    fn round_trip(g: Geometry<f64>) {
        let blob = encode(&g);
        assert_eq!(&blob[..2], b"GP");
        assert_eq!(decode(&blob).unwrap(), g);
    }

    fn square(x0: f64, y0: f64, size: f64) -> LineString<f64> {
        line_string![
            (x: x0, y: y0),
            (x: x0 + size, y: y0),
            (x: x0 + size, y: y0 + size),
            (x: x0, y: y0 + size),
            (x: x0, y: y0),
        ]
    }

    fn holed_polygon() -> Polygon<f64> {
        Polygon::new(square(116.0, 39.0, 1.0), vec![square(116.25, 39.25, 0.5)])
    }

    #[test]
    fn a_point_survives_encode_then_decode() {
        round_trip(Geometry::Point(point!(x: 116.397_128, y: 39.916_527)));
    }

    #[test]
    fn point_xy_reads_points_in_place_and_nothing_else() {
        let p = point!(x: 116.397_128, y: 39.916_527);
        assert_eq!(
            point_xy(&encode(&Geometry::Point(p))),
            Some((116.397_128, 39.916_527))
        );
        // POINT EMPTY, polygons and a broken blob are left to `decode`.
        let empty = encode(&Geometry::Point(Point::new(f64::NAN, f64::NAN)));
        assert_eq!(point_xy(&empty), None);
        assert_eq!(point_xy(&encode(&Geometry::Polygon(holed_polygon()))), None);
        assert_eq!(point_xy(b"GP\0\x01"), None);
    }

    #[test]
    fn a_polygon_with_a_hole_survives_encode_then_decode() {
        round_trip(Geometry::Polygon(holed_polygon()));
    }

    #[test]
    fn a_multipolygon_survives_encode_then_decode() {
        let mp = MultiPolygon(vec![
            holed_polygon(),
            polygon![(x: 118.0, y: 40.0), (x: 119.0, y: 40.0), (x: 118.5, y: 41.0), (x: 118.0, y: 40.0)],
        ]);
        round_trip(Geometry::MultiPolygon(mp));
    }

    #[test]
    fn a_linestring_survives_encode_then_decode() {
        round_trip(Geometry::LineString(line_string![
            (x: 116.0, y: 39.0),
            (x: 116.5, y: 39.5),
            (x: 117.25, y: 39.125),
        ]));
    }

    #[test]
    fn a_point_blob_has_no_envelope_but_envelope_still_reports_the_point() {
        let blob = encode(&Geometry::Point(point!(x: 116.5, y: 39.25)));
        assert_eq!(
            blob[3], FLAG_LITTLE_ENDIAN,
            "flags: LE, no envelope, not empty"
        );
        assert_eq!(
            i32::from_le_bytes([blob[4], blob[5], blob[6], blob[7]]),
            4326
        );
        assert_eq!(blob.len(), 8 + 21, "header + WKB point");
        assert_eq!(envelope(&blob).unwrap(), Some((116.5, 39.25, 116.5, 39.25)));
    }

    #[test]
    fn a_polygon_blob_carries_its_xy_envelope_in_minx_maxx_miny_maxy_order() {
        let blob = encode(&Geometry::Polygon(holed_polygon()));
        assert_eq!(blob[3], FLAG_LITTLE_ENDIAN | FLAG_ENVELOPE_XY);
        let d = |i: usize| {
            let s = 8 + i * 8;
            f64::from_le_bytes(blob[s..s + 8].try_into().unwrap())
        };
        assert_eq!([d(0), d(1), d(2), d(3)], [116.0, 117.0, 39.0, 40.0]);
        assert_eq!(envelope(&blob).unwrap(), Some((116.0, 39.0, 117.0, 40.0)));
        // The WKB after the header is ISO little-endian Polygon (type 3).
        assert_eq!(&blob[40..45], &[1, 3, 0, 0, 0]);
    }

    #[test]
    fn an_empty_geometry_sets_the_empty_flag_and_has_no_envelope() {
        let blob = encode(&Geometry::MultiPolygon(MultiPolygon(vec![])));
        assert_eq!(blob[3], FLAG_LITTLE_ENDIAN | FLAG_EMPTY);
        assert_eq!(envelope(&blob).unwrap(), None);
        assert_eq!(
            decode(&blob).unwrap(),
            Geometry::MultiPolygon(MultiPolygon(vec![]))
        );
    }

    #[test]
    fn a_nan_point_is_written_as_point_empty_and_read_back_as_nan() {
        let blob = encode(&Geometry::Point(Point::new(f64::NAN, f64::NAN)));
        assert_eq!(blob[3], FLAG_LITTLE_ENDIAN | FLAG_EMPTY);
        assert_eq!(envelope(&blob).unwrap(), None);
        let Geometry::Point(p) = decode(&blob).unwrap() else {
            panic!("not a point");
        };
        assert!(p.x().is_nan() && p.y().is_nan());
    }

    #[test]
    fn envelope_is_computed_from_wkb_when_the_header_has_none() {
        // A foreign writer may omit the envelope for non-points too.
        let full = encode(&Geometry::Polygon(holed_polygon()));
        let mut bare = full[..8].to_vec();
        bare[3] = FLAG_LITTLE_ENDIAN;
        bare.extend_from_slice(&full[40..]);
        assert_eq!(envelope(&bare).unwrap(), Some((116.0, 39.0, 117.0, 40.0)));
    }

    #[test]
    fn decode_rejects_blobs_that_are_not_geopackage_geometries() {
        assert!(matches!(
            decode(b"XX\0\x01\xe6\x10\0\0"),
            Err(GpkgError::BadBlob(_))
        ));
        assert!(matches!(decode(b"GP"), Err(GpkgError::BadBlob(_))));
        let mut truncated = encode(&Geometry::Polygon(holed_polygon()));
        truncated.truncate(60);
        assert!(matches!(decode(&truncated), Err(GpkgError::BadBlob(_))));
    }

    #[test]
    fn decode_accepts_big_endian_wkb_and_drops_z() {
        // GP header (LE, no envelope) + big-endian ISO WKB POINT Z (1001).
        let mut blob = vec![b'G', b'P', 0, 1, 0xE6, 0x10, 0, 0, 0];
        blob.extend_from_slice(&1001u32.to_be_bytes());
        for v in [1.5f64, 2.5, 99.0] {
            blob.extend_from_slice(&v.to_be_bytes());
        }
        assert_eq!(
            decode(&blob).unwrap(),
            Geometry::Point(Point::new(1.5, 2.5))
        );
    }

    fn open() -> Connection {
        let conn = Connection::open_in_memory().unwrap();
        register_functions(&conn).unwrap();
        init(&conn).unwrap();
        conn
    }

    fn fires_table(conn: &Connection) {
        let columns = [Column {
            name: "name".into(),
            sql_type: "TEXT",
            not_null: true,
            unique: false,
        }];
        create_feature_table(conn, "t", "POLYGON", &columns, "Fires", "Fire areas").unwrap();
    }

    /// Three squares with f32-exact corners so R-tree bounds compare exactly.
    fn insert_three(conn: &Connection) {
        for (i, (x, y)) in [(116.0, 39.0), (116.5, 39.5), (117.0, 40.0)]
            .into_iter()
            .enumerate()
        {
            let g = Geometry::Polygon(Polygon::new(square(x, y, 0.25), vec![]));
            conn.execute(
                "INSERT INTO t(geom, name) VALUES (?, ?)",
                params![encode(&g), format!("fire {i}")],
            )
            .unwrap();
        }
    }

    fn rtree_rows(conn: &Connection) -> Vec<(i64, (f64, f64, f64, f64))> {
        let mut stmt = conn
            .prepare("SELECT id, minx, miny, maxx, maxy FROM rtree_t_geom ORDER BY id")
            .unwrap();
        stmt.query_map([], |r| {
            Ok((r.get(0)?, (r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))
        })
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap()
    }

    #[test]
    fn init_marks_the_file_as_a_geopackage_and_can_run_twice() {
        let conn = open();
        init(&conn).unwrap();
        let app_id: i64 = conn
            .query_row("PRAGMA application_id", [], |r| r.get(0))
            .unwrap();
        let version: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!((app_id, version), (1_196_444_487, 10_200));
        let ids: Vec<i64> = conn
            .prepare("SELECT srs_id FROM gpkg_spatial_ref_sys ORDER BY srs_id")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<rusqlite::Result<_>>()
            .unwrap();
        assert_eq!(ids, [-1, 0, 4326, 4490]);
    }

    #[test]
    fn creating_a_feature_table_registers_it_once() {
        let conn = open();
        fires_table(&conn);
        fires_table(&conn);
        let (data_type, identifier, srs): (String, String, i64) = conn
            .query_row(
                "SELECT data_type, identifier, srs_id FROM gpkg_contents WHERE table_name='t'",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap();
        assert_eq!(
            (data_type.as_str(), identifier.as_str(), srs),
            ("features", "Fires", 4326)
        );
        let (col, ty): (String, String) = conn
            .query_row(
                "SELECT column_name, geometry_type_name FROM gpkg_geometry_columns",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!((col.as_str(), ty.as_str()), ("geom", "POLYGON"));
        let triggers = crate::store::sqlite::testing::number(
            &conn,
            "SELECT count(*) FROM sqlite_master WHERE type='trigger' \
             AND name LIKE 'rtree_t_geom_%'",
        );
        assert_eq!(triggers, 6);
    }

    #[test]
    fn unsafe_identifiers_and_types_are_rejected() {
        let conn = open();
        for bad in ["T", "t;drop", "1t", "", "gpkg_x", "rtree_x", "a\"b"] {
            assert!(
                matches!(
                    create_feature_table(&conn, bad, "POINT", &[], bad, ""),
                    Err(GpkgError::BadIdentifier(_))
                ),
                "{bad:?} accepted"
            );
        }
        let col = |name: &str, sql_type| Column {
            name: name.into(),
            sql_type,
            not_null: false,
            unique: false,
        };
        assert!(matches!(
            create_feature_table(&conn, "t", "POINT", &[col("Name", "TEXT")], "x", ""),
            Err(GpkgError::BadIdentifier(_))
        ));
        assert!(matches!(
            create_feature_table(&conn, "t", "POINT", &[col("geom", "TEXT")], "x", ""),
            Err(GpkgError::BadIdentifier(_))
        ));
        assert!(matches!(
            create_feature_table(&conn, "t", "POINT", &[col("n", "VARCHAR")], "x", ""),
            Err(GpkgError::BadColumnType(_))
        ));
        assert!(matches!(
            create_feature_table(&conn, "t", "CIRCLE", &[], "x", ""),
            Err(GpkgError::BadGeometryType(_))
        ));
        assert!(matches!(
            update_extent(&conn, "x y"),
            Err(GpkgError::BadIdentifier(_))
        ));
    }

    #[test]
    fn inserted_features_land_in_the_rtree_with_their_bounds() {
        let conn = open();
        fires_table(&conn);
        insert_three(&conn);
        assert_eq!(
            rtree_rows(&conn),
            vec![
                (1, (116.0, 39.0, 116.25, 39.25)),
                (2, (116.5, 39.5, 116.75, 39.75)),
                (3, (117.0, 40.0, 117.25, 40.25)),
            ]
        );
    }

    #[test]
    fn updating_a_geometry_moves_its_rtree_entry() {
        let conn = open();
        fires_table(&conn);
        insert_three(&conn);
        let moved = Geometry::Polygon(Polygon::new(square(100.0, 30.0, 2.0), vec![]));
        conn.execute("UPDATE t SET geom = ? WHERE fid = 2", [encode(&moved)])
            .unwrap();
        assert_eq!(rtree_rows(&conn)[1], (2, (100.0, 30.0, 102.0, 32.0)));
        // NULL geometry leaves the index (trigger update2).
        conn.execute("UPDATE t SET geom = NULL WHERE fid = 2", [])
            .unwrap();
        assert_eq!(rtree_rows(&conn).len(), 2);
        // A changed fid re-keys the entry (trigger update3).
        conn.execute("UPDATE t SET fid = 10 WHERE fid = 3", [])
            .unwrap();
        let ids: Vec<i64> = rtree_rows(&conn).into_iter().map(|r| r.0).collect();
        assert_eq!(ids, [1, 10]);
    }

    #[test]
    fn deleting_a_feature_removes_its_rtree_entry() {
        let conn = open();
        fires_table(&conn);
        insert_three(&conn);
        conn.execute("DELETE FROM t WHERE fid = 1", []).unwrap();
        let ids: Vec<i64> = rtree_rows(&conn).into_iter().map(|r| r.0).collect();
        assert_eq!(ids, [2, 3]);
    }

    #[test]
    fn writes_fail_loudly_on_non_geometry_values() {
        let conn = open();
        fires_table(&conn);
        let err = conn
            .execute("INSERT INTO t(geom, name) VALUES ('oops', 'x')", [])
            .unwrap_err();
        assert!(
            err.to_string().contains("GeoPackage geometry blob"),
            "{err}"
        );
    }

    #[test]
    fn update_extent_copies_the_rtree_bounds_into_gpkg_contents() {
        let conn = open();
        fires_table(&conn);
        insert_three(&conn);
        update_extent(&conn, "t").unwrap();
        let ext: (f64, f64, f64, f64) = conn
            .query_row(
                "SELECT min_x, min_y, max_x, max_y FROM gpkg_contents WHERE table_name='t'",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
            )
            .unwrap();
        assert_eq!(ext, (116.0, 39.0, 117.25, 40.25));
    }

    fn tool_exists(path: &str) -> bool {
        std::path::Path::new(path).exists()
    }

    fn on_path(cmd: &str) -> bool {
        std::env::var_os("PATH")
            .is_some_and(|p| std::env::split_paths(&p).any(|d| d.join(cmd).is_file()))
    }

    #[test]
    fn a_written_file_is_read_by_ogrinfo_and_passes_the_gdal_validator() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fires.gpkg");
        {
            let conn = Connection::open(&path).unwrap();
            register_functions(&conn).unwrap();
            init(&conn).unwrap();
            fires_table(&conn);
            insert_three(&conn);
            let pt = Column {
                name: "label".into(),
                sql_type: "TEXT",
                not_null: false,
                unique: true,
            };
            create_feature_table(&conn, "pts", "POINT", &[pt], "Points", "").unwrap();
            conn.execute(
                "INSERT INTO pts(geom, label) VALUES (?, 'a')",
                [encode(&Geometry::Point(Point(
                    coord! { x: 116.5, y: 39.25 },
                )))],
            )
            .unwrap();
            update_extent(&conn, "t").unwrap();
            update_extent(&conn, "pts").unwrap();
        }

        if on_path("ogrinfo") {
            let out = Command::new("ogrinfo")
                .args(["-so", "-al"])
                .arg(&path)
                .output()
                .unwrap();
            let stdout = String::from_utf8_lossy(&out.stdout);
            let stderr = String::from_utf8_lossy(&out.stderr);
            assert!(out.status.success(), "{stdout}\n{stderr}");
            assert!(stderr.trim().is_empty(), "ogrinfo complained: {stderr}");
            assert!(stdout.contains("Layer name: t\n"), "{stdout}");
            assert!(stdout.contains("Feature Count: 3\n"), "{stdout}");
            assert!(
                stdout.contains("Extent: (116.000000, 39.000000) - (117.250000, 40.250000)"),
                "{stdout}"
            );
            assert!(stdout.contains("Geometry: Polygon"), "{stdout}");
        } else {
            eprintln!("ogrinfo not on PATH; skipping the GDAL read check");
        }

        let validator = "/usr/lib/python3/dist-packages/osgeo_utils/samples/validate_gpkg.py";
        if tool_exists("/usr/bin/python3") && tool_exists(validator) {
            let out = Command::new("/usr/bin/python3")
                .args([validator, "--extra", "--warning-as-error"])
                .arg(&path)
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "validator failed:\n{}\n{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        } else {
            eprintln!("GDAL's validate_gpkg.py not found; skipping validation");
        }
    }
}

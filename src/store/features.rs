//! Reading and writing any layer's features, as declared by its layer file, filtered by scope.

use std::collections::BTreeMap;

use geo::Geometry;
use rusqlite::types::Value as Sql;
use rusqlite::{Connection, OptionalExtension};
use serde_json::{Map, Value};

use super::{Result, gpkg};
use crate::domain::access::Scope;
use crate::domain::fire::Status;
use crate::layers::{FieldType, Layer};

/// A page request on a layer.
#[derive(Debug, Clone, Default)]
pub struct ItemQuery {
    /// minlon, minlat, maxlon, maxlat.
    pub bbox: Option<[f64; 4]>,
    pub limit: usize,
    pub offset: usize,
    /// Property equality filters, on declared fields only.
    pub equals: Vec<(String, String)>,
}

/// One page of features, as GeoJSON Feature objects.
pub struct Page {
    pub features: Vec<Value>,
    /// Whether there may be more after this page.
    pub more: bool,
}

/// A scope as an SQL condition with its parameters. `watch_since` is the start of the
/// re-ignition watch (RFC 3339): cleared fires since then count as open for patrols.
pub fn scope_sql(layer: &Layer, scope: &Scope, watch_since: &str) -> (String, Vec<Sql>) {
    let col = |c: &Option<String>| c.clone();
    match scope {
        Scope::All => ("1".into(), vec![]),
        Scope::District(code) => match col(&layer.access.columns.district) {
            Some(c) => (format!("t.\"{c}\" = ?"), vec![Sql::Text(code.clone())]),
            None => ("0".into(), vec![]),
        },
        Scope::Holder(h) => match col(&layer.access.columns.holder) {
            Some(c) => (format!("t.\"{c}\" = ?"), vec![Sql::Text(h.clone())]),
            None => ("0".into(), vec![]),
        },
        Scope::Open if layer.field("status").is_some() && layer.field("cleared_at").is_some() => {
            let open: Vec<String> = Status::ALL
                .iter()
                .filter(|s| s.is_open())
                .map(|s| format!("'{}'", s.as_str()))
                .collect();
            (
                format!(
                    "(t.status IN ({}) OR (t.status = 'cleared' AND t.cleared_at >= ?))",
                    open.join(",")
                ),
                vec![Sql::Text(watch_since.into())],
            )
        }
        Scope::Open => ("1".into(), vec![]),
        Scope::Nothing => ("0".into(), vec![]),
    }
}

fn select_list(layer: &Layer) -> String {
    let mut cols = vec!["t.fid".to_string(), "t.geom".to_string()];
    cols.extend(layer.public_fields().map(|f| format!("t.\"{}\"", f.name)));
    cols.join(", ")
}

/// The GeoJSON geometry object for a geometry.
pub fn geometry_json(g: &Geometry<f64>) -> Value {
    serde_json::to_value(geojson::Geometry::new(geojson::GeometryValue::from(g)))
        .unwrap_or(Value::Null)
}

/// The value of column `i` as JSON, decoding json fields.
fn cell(r: &rusqlite::Row, i: usize, kind: FieldType) -> rusqlite::Result<Value> {
    Ok(match r.get::<_, Sql>(i)? {
        Sql::Null => Value::Null,
        Sql::Integer(n) => Value::from(n),
        Sql::Real(x) => Value::from(x),
        Sql::Text(s) if kind == FieldType::Json => {
            serde_json::from_str(&s).unwrap_or(Value::String(s))
        }
        Sql::Text(s) => Value::String(s),
        Sql::Blob(_) => Value::Null,
    })
}

/// A row as a GeoJSON Feature. Layers with a `uuid` key use it as the feature id.
fn feature(layer: &Layer, r: &rusqlite::Row) -> Result<Value> {
    let fid: i64 = r.get(0)?;
    let blob: Option<Vec<u8>> = r.get(1)?;
    let geometry = match blob {
        Some(b) => geometry_json(&gpkg::decode(&b)?),
        None => Value::Null,
    };
    let mut props = Map::new();
    for (i, f) in layer.public_fields().enumerate() {
        props.insert(f.name.clone(), cell(r, i + 2, f.kind)?);
    }
    let id = match layer.key.as_deref() {
        Some("uuid") => props.get("uuid").cloned().unwrap_or(Value::from(fid)),
        _ => Value::from(fid),
    };
    let mut f = Map::new();
    f.insert("type".into(), "Feature".into());
    f.insert("id".into(), id);
    f.insert("geometry".into(), geometry);
    f.insert("properties".into(), Value::Object(props));
    Ok(Value::Object(f))
}

/// A page of a layer's features that the scope allows.
pub fn items(
    conn: &Connection,
    layer: &Layer,
    scope: &Scope,
    q: &ItemQuery,
    watch_since: &str,
) -> Result<Page> {
    let (cond, mut params) = scope_sql(layer, scope, watch_since);
    let mut sql = format!("SELECT {} FROM \"{}\" t", select_list(layer), layer.name);
    if let Some([x0, y0, x1, y1]) = q.bbox {
        // The R-tree finds candidates by envelope; GeoPackage envelopes are exact for points and
        // good enough for a map's bbox request on polygons (the OGC API allows it).
        sql += &format!(
            " JOIN \"rtree_{}_geom\" r ON r.id = t.fid AND r.minx <= ? AND r.maxx >= ? AND r.miny <= ? AND r.maxy >= ?",
            layer.name
        );
        params.splice(
            0..0,
            [Sql::Real(x1), Sql::Real(x0), Sql::Real(y1), Sql::Real(y0)],
        );
    }
    sql += &format!(" WHERE {cond}");
    for (k, v) in &q.equals {
        if layer.public_fields().any(|f| &f.name == k) {
            sql += &format!(" AND t.\"{k}\" = ?");
            params.push(Sql::Text(v.clone()));
        }
    }
    sql += " ORDER BY t.fid LIMIT ? OFFSET ?";
    params.push(Sql::Integer(q.limit as i64 + 1));
    params.push(Sql::Integer(q.offset as i64));
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query(rusqlite::params_from_iter(params))?;
    let mut features = vec![];
    while let Some(r) = rows.next()? {
        features.push(feature(layer, r)?);
    }
    let more = features.len() > q.limit;
    features.truncate(q.limit);
    Ok(Page { features, more })
}

/// One feature by fid (or uuid, for layers keyed by uuid), if the scope allows it.
pub fn item(
    conn: &Connection,
    layer: &Layer,
    scope: &Scope,
    id: &str,
    watch_since: &str,
) -> Result<Option<Value>> {
    let (cond, mut params) = scope_sql(layer, scope, watch_since);
    let by = match (layer.key.as_deref(), id.parse::<i64>()) {
        (_, Ok(n)) => {
            params.push(Sql::Integer(n));
            "t.fid = ?"
        }
        (Some("uuid"), Err(_)) => {
            params.push(Sql::Text(id.into()));
            "t.uuid = ?"
        }
        _ => return Ok(None),
    };
    let sql = format!(
        "SELECT {} FROM \"{}\" t WHERE {by} AND {cond}",
        select_list(layer),
        layer.name
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query(rusqlite::params_from_iter(params))?;
    rows.next()?.map(|r| feature(layer, r)).transpose()
}

/// A JSON value as an SQL value for a field of this type.
pub fn to_sql(kind: FieldType, v: &Value) -> Sql {
    match (kind, v) {
        (_, Value::Null) => Sql::Null,
        (FieldType::Json, v) => Sql::Text(v.to_string()),
        (FieldType::Integer, Value::Number(n)) => n.as_i64().map_or(Sql::Null, Sql::Integer),
        (FieldType::Real, Value::Number(n)) => n.as_f64().map_or(Sql::Null, Sql::Real),
        (_, Value::String(s)) => Sql::Text(s.clone()),
        (_, other) => Sql::Text(other.to_string()),
    }
}

/// Inserts one feature; `values` are by field name (already validated). Returns the fid.
pub fn insert(
    conn: &Connection,
    layer: &Layer,
    geom: &Geometry<f64>,
    values: &BTreeMap<String, Value>,
) -> Result<i64> {
    let mut names = vec!["geom".to_string()];
    let mut params = vec![Sql::Blob(gpkg::try_encode(geom)?)];
    for (k, v) in values {
        if let Some(f) = layer.field(k) {
            names.push(format!("\"{k}\""));
            params.push(to_sql(f.kind, v));
        }
    }
    let marks = vec!["?"; names.len()].join(", ");
    let sql = format!(
        "INSERT INTO \"{}\" ({}) VALUES ({marks})",
        layer.name,
        names.join(", ")
    );
    conn.prepare_cached(&sql)?
        .execute(rusqlite::params_from_iter(params))?;
    Ok(conn.last_insert_rowid())
}

/// Whether a layer already has a feature with this key value.
pub fn key_exists(conn: &Connection, layer: &Layer, field: &str, value: &str) -> Result<bool> {
    let sql = format!(
        "SELECT 1 FROM \"{}\" WHERE \"{field}\" = ?1 LIMIT 1",
        layer.name
    );
    Ok(conn
        .query_row(&sql, [value], |_| Ok(()))
        .optional()?
        .is_some())
}

/// Number of features in a layer.
pub fn count(conn: &Connection, layer: &str) -> Result<i64> {
    Ok(
        conn.query_row(&format!("SELECT count(*) FROM \"{layer}\""), [], |r| {
            r.get(0)
        })?,
    )
}

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
    if let (Some(follows), Some(parent)) = (&layer.access.follows, layer.access.parent.as_deref()) {
        return follow_sql(&follows.column, parent, scope, watch_since);
    }
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
        Scope::Open if !layer.access.closed.is_empty() => (
            format!(
                "t.status NOT IN ({})",
                vec!["?"; layer.access.closed.len()].join(",")
            ),
            layer.access.closed.iter().cloned().map(Sql::Text).collect(),
        ),
        Scope::Open => ("1".into(), vec![]),
        Scope::Nothing => ("0".into(), vec![]),
    }
}

/// The scope of a layer whose rows belong to rows of `parent` (an inspection to its fire): a row
/// is readable exactly when the row its `column` names is, whatever the role.
fn follow_sql(
    column: &str,
    parent: &Layer,
    scope: &Scope,
    watch_since: &str,
) -> (String, Vec<Sql>) {
    match scope {
        Scope::All => ("1".into(), vec![]),
        Scope::Nothing => ("0".into(), vec![]),
        _ => {
            let (cond, params) = scope_sql(parent, scope, watch_since);
            let key = parent.key.as_deref().unwrap_or("fid");
            // The subquery's own alias `t` shadows the outer one, so `cond` applies to the parent.
            (
                format!(
                    "t.\"{column}\" IN (SELECT t.\"{key}\" FROM \"{}\" t WHERE {cond})",
                    parent.name
                ),
                params,
            )
        }
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

/// An extra condition on a layer's rows (table alias `t`), with its bound parameters: an OGC
/// API filter, a `datetime`, a property equality.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Condition {
    pub sql: String,
    pub params: Vec<Sql>,
}

/// `FROM … WHERE …` for a page request: the scope, the bbox (through the R-tree), the equality
/// filters and the extra conditions.
fn from_where(
    layer: &Layer,
    scope: &Scope,
    q: &ItemQuery,
    extra: &[Condition],
    watch_since: &str,
) -> (String, Vec<Sql>) {
    let (cond, mut params) = scope_sql(layer, scope, watch_since);
    let mut sql = format!(" FROM \"{}\" t", layer.name);
    if let Some([x0, y0, x1, y1]) = q.bbox {
        // The R-tree finds candidates by envelope; GeoPackage envelopes are exact for points and
        // good enough for a map's bbox request on polygons (the OGC API allows it). CROSS JOIN
        // keeps the R-tree first: otherwise SQLite may start from a scope column's index and
        // probe the R-tree once per fire in the scope (a patrol's: every open fire).
        sql = format!(
            " FROM \"rtree_{0}_geom\" r CROSS JOIN \"{0}\" t ON t.fid = r.id AND r.minx <= ? AND r.maxx >= ? AND r.miny <= ? AND r.maxy >= ?",
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
    for c in extra {
        sql += &format!(" AND ({})", c.sql);
        params.extend(c.params.iter().cloned());
    }
    (sql, params)
}

/// A page of a layer's features that the scope allows.
pub fn items(
    conn: &Connection,
    layer: &Layer,
    scope: &Scope,
    q: &ItemQuery,
    watch_since: &str,
) -> Result<Page> {
    items_where(conn, layer, scope, q, &[], watch_since)
}

/// [`items`] with extra conditions.
pub fn items_where(
    conn: &Connection,
    layer: &Layer,
    scope: &Scope,
    q: &ItemQuery,
    extra: &[Condition],
    watch_since: &str,
) -> Result<Page> {
    let (from, mut params) = from_where(layer, scope, q, extra, watch_since);
    let sql = format!(
        "SELECT {}{from} ORDER BY t.fid LIMIT ? OFFSET ?",
        select_list(layer)
    );
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

/// How many features match (ignoring limit and offset), if that is at most `cap`: counting
/// stops at the cap, so a count on a huge layer costs no more than reading `cap` rows.
pub fn count_where(
    conn: &Connection,
    layer: &Layer,
    scope: &Scope,
    q: &ItemQuery,
    extra: &[Condition],
    watch_since: &str,
    cap: usize,
) -> Result<Option<usize>> {
    let (from, mut params) = from_where(layer, scope, q, extra, watch_since);
    let sql = format!("SELECT count(*) FROM (SELECT 1{from} LIMIT ?)");
    params.push(Sql::Integer(cap as i64 + 1));
    let n: i64 = conn
        .prepare_cached(&sql)?
        .query_row(rusqlite::params_from_iter(params), |r| r.get(0))?;
    let n = usize::try_from(n).unwrap_or(usize::MAX);
    Ok((n <= cap).then_some(n))
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
    // The scope's parameters come first, so the scope's condition must too.
    let sql = format!(
        "SELECT {} FROM \"{}\" t WHERE ({cond}) AND {by}",
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

/// Replaces one feature's geometry and every column: a field missing from `values` becomes
/// NULL, as a replace must leave nothing of the old feature. Returns whether the row existed.
pub fn update(
    conn: &Connection,
    layer: &Layer,
    fid: i64,
    geom: &Geometry<f64>,
    values: &BTreeMap<String, Value>,
) -> Result<bool> {
    let mut sets = vec!["geom = ?".to_string()];
    let mut params = vec![Sql::Blob(gpkg::try_encode(geom)?)];
    for f in &layer.fields {
        sets.push(format!("\"{}\" = ?", f.name));
        params.push(values.get(&f.name).map_or(Sql::Null, |v| to_sql(f.kind, v)));
    }
    params.push(Sql::Integer(fid));
    let sql = format!(
        "UPDATE \"{}\" SET {} WHERE fid = ?",
        layer.name,
        sets.join(", ")
    );
    let n = conn
        .prepare_cached(&sql)?
        .execute(rusqlite::params_from_iter(params))?;
    Ok(n > 0)
}

/// Deletes one feature. Returns whether the row existed.
pub fn delete(conn: &Connection, layer: &Layer, fid: i64) -> Result<bool> {
    let n = conn.execute(
        &format!("DELETE FROM \"{}\" WHERE fid = ?1", layer.name),
        [fid],
    )?;
    Ok(n > 0)
}

/// A stored feature: its geometry and every field by name (internal ones too).
pub type Stored = (Geometry<f64>, Map<String, Value>);

/// One stored feature, for an edit.
pub fn row(conn: &Connection, layer: &Layer, fid: i64) -> Result<Option<Stored>> {
    let cols: Vec<String> = layer
        .fields
        .iter()
        .map(|f| format!("\"{}\"", f.name))
        .collect();
    let sql = format!(
        "SELECT geom{}{} FROM \"{}\" WHERE fid = ?1",
        if cols.is_empty() { "" } else { ", " },
        cols.join(", "),
        layer.name
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query([fid])?;
    let Some(r) = rows.next()? else {
        return Ok(None);
    };
    let blob: Vec<u8> = r.get(0)?;
    let geom = gpkg::decode(&blob)?;
    let mut props = Map::new();
    for (i, f) in layer.fields.iter().enumerate() {
        props.insert(f.name.clone(), cell(r, i + 1, f.kind)?);
    }
    Ok(Some((geom, props)))
}

/// Every feature's fid, for re-deriving fields after the polygons they come from changed.
pub fn fids(conn: &Connection, layer: &Layer) -> Result<Vec<i64>> {
    let mut stmt = conn.prepare(&format!("SELECT fid FROM \"{}\" ORDER BY fid", layer.name))?;
    let out = stmt
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<Vec<i64>>>()?;
    Ok(out)
}

/// Whether another feature than `fid` has this key value.
pub fn key_taken(
    conn: &Connection,
    layer: &Layer,
    field: &str,
    value: &str,
    fid: Option<i64>,
) -> Result<bool> {
    let sql = format!(
        "SELECT 1 FROM \"{}\" WHERE \"{field}\" = ?1 AND fid IS NOT ?2 LIMIT 1",
        layer.name
    );
    Ok(conn
        .query_row(&sql, rusqlite::params![value, fid], |_| Ok(()))
        .optional()?
        .is_some())
}

/// The bounding box `[minx, miny, maxx, maxy]` of what the scope allows: the extent registered
/// in gpkg_contents for an unscoped reader, otherwise aggregated from the R-tree entries of the
/// rows in scope (so a scoped user does not learn where the others' features are).
pub fn extent(
    conn: &Connection,
    layer: &Layer,
    scope: &Scope,
    watch_since: &str,
) -> Result<Option<[f64; 4]>> {
    type Row = (Option<f64>, Option<f64>, Option<f64>, Option<f64>);
    let get = |r: &rusqlite::Row| -> rusqlite::Result<Row> {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
    };
    let row: Row = if *scope == Scope::All {
        conn.query_row(
            "SELECT min_x, min_y, max_x, max_y FROM gpkg_contents WHERE table_name = ?1",
            [&layer.name],
            get,
        )
        .optional()?
        .unwrap_or((None, None, None, None))
    } else {
        let (cond, params) = scope_sql(layer, scope, watch_since);
        let sql = format!(
            "SELECT min(r.minx), min(r.miny), max(r.maxx), max(r.maxy) FROM \"{0}\" t JOIN \"rtree_{0}_geom\" r ON r.id = t.fid WHERE {cond}",
            layer.name
        );
        conn.prepare_cached(&sql)?
            .query_row(rusqlite::params_from_iter(params), get)?
    };
    Ok(match row {
        (Some(a), Some(b), Some(c), Some(d)) => Some([a, b, c, d]),
        _ => None,
    })
}

/// The credentials id of the monitor `mn` on the monitors layer `layer`, if `scope` may see the
/// monitor: `None` when it is not there or not this scope's (the same answer), `Some(None)` for
/// a monitor on the map without credentials (imported, no readings).
pub fn visible_device(
    conn: &Connection,
    layer: &Layer,
    scope: &Scope,
    mn: &str,
) -> Result<Option<Option<i64>>> {
    let (cond, mut params) = scope_sql(layer, scope, "");
    params.insert(0, Sql::Text(mn.to_string()));
    let sql = format!(
        "SELECT d.id FROM \"{}\" t LEFT JOIN dust_devices d ON d.mn = t.mn WHERE t.mn = ? AND {cond}",
        layer.name
    );
    Ok(conn
        .query_row(&sql, rusqlite::params_from_iter(params), |r| r.get(0))
        .optional()?)
}

/// Up to `limit` labels (the `label` column) of `layer`'s features whose `field` holds `value`.
pub fn labels_where(
    conn: &Connection,
    layer: &str,
    label: &str,
    field: &str,
    value: &str,
    limit: usize,
) -> Result<Vec<Sql>> {
    let sql = format!(
        "SELECT \"{label}\" FROM \"{layer}\" WHERE \"{field}\" = ?1 ORDER BY fid LIMIT {limit}"
    );
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt
        .query_map([value], |r| r.get::<_, Sql>(0))?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

//! Any layer's features in its GeoPackage feature table, as declared by its layer file: the
//! [`Features`] trait on [`SqliteTx`]. Scopes and filters become SQL in `scope.rs` and
//! `filter.rs`; table and column names come from the layer files (checked when they load).

use std::collections::BTreeMap;

use geo::Geometry;
use rusqlite::OptionalExtension;
use rusqlite::types::Value as Sql;
use serde_json::{Map, Value};

use super::filter::{self, Condition};
use super::{Result, SqliteTx, gpkg, scope};
use crate::domain::access::Scope;
use crate::layers::{FieldType, Layer};
use crate::store::features::{
    Features, Filter, ItemQuery, Kept, Page, Stored, Visible, geometry_json,
};

/// The columns of a layer's feature table (besides `fid` and `geom`), for the schema.
pub(super) fn columns(layer: &Layer) -> Vec<gpkg::Column> {
    layer
        .fields
        .iter()
        .map(|f| gpkg::Column {
            name: f.name.clone(),
            sql_type: match f.kind {
                FieldType::Text | FieldType::Json => "TEXT",
                FieldType::Integer => "INTEGER",
                FieldType::Real => "REAL",
            },
            not_null: false,
            unique: layer.key.as_deref() == Some(f.name.as_str()),
        })
        .collect()
}

fn select_list(layer: &Layer) -> String {
    let mut cols = vec!["t.fid".to_string(), "t.geom".to_string()];
    cols.extend(layer.public_fields().map(|f| format!("t.\"{}\"", f.name)));
    cols.join(", ")
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

/// A column's value as JSON, as stored (json fields stay text).
pub(super) fn raw(v: Sql) -> Value {
    match v {
        Sql::Null | Sql::Blob(_) => Value::Null,
        Sql::Integer(n) => Value::from(n),
        Sql::Real(x) => Value::from(x),
        Sql::Text(s) => Value::from(s),
    }
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

/// A public field a page shows: its column, its type, and `"name":` as JSON text, escaped once
/// a page rather than once a row.
struct Shown {
    column: usize,
    kind: FieldType,
    key: Vec<u8>,
}

/// A row as GeoJSON Feature text: what [`feature`] gives, written to `out` as it is read
/// (keys in the order a JSON object prints them), without the fields `shown` leaves out.
/// `shown`: the public fields to write, in name order; `key`: the column of the `uuid` key,
/// for layers keyed by it.
fn write_feature(
    r: &rusqlite::Row,
    shown: &[Shown],
    key: Option<(usize, FieldType)>,
    out: &mut Vec<u8>,
) -> Result<()> {
    use rusqlite::types::ValueRef;
    let fid: i64 = r.get(0)?;
    out.extend_from_slice(b"{\"geometry\":");
    match r.get_ref(1)? {
        ValueRef::Blob(b) => match gpkg::point_xy(b) {
            Some((x, y)) => {
                out.extend_from_slice(b"{\"coordinates\":[");
                put(out, &x)?;
                out.push(b',');
                put(out, &y)?;
                out.extend_from_slice(b"],\"type\":\"Point\"}");
            }
            None => {
                let g = gpkg::decode(b)?;
                put(
                    out,
                    &geojson::Geometry::new(geojson::GeometryValue::from(&g)),
                )?;
            }
        },
        _ => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b",\"id\":");
    match key {
        Some((k, kind)) => put(out, &cell(r, k, kind)?)?,
        None => put(out, &fid)?,
    }
    out.extend_from_slice(b",\"properties\":{");
    for (n, f) in shown.iter().enumerate() {
        if n > 0 {
            out.push(b',');
        }
        out.extend_from_slice(&f.key);
        match r.get_ref(f.column)? {
            ValueRef::Integer(v) => put(out, &v)?,
            ValueRef::Real(v) => put(out, &v)?,
            ValueRef::Text(t) if f.kind != FieldType::Json => match std::str::from_utf8(t) {
                Ok(s) => put(out, s)?,
                Err(_) => put(out, &String::from_utf8_lossy(t))?,
            },
            // JSON fields are parsed as `feature` parses them (text that is not JSON stays text).
            ValueRef::Text(_) => put(out, &cell(r, f.column, f.kind)?)?,
            ValueRef::Null | ValueRef::Blob(_) => out.extend_from_slice(b"null"),
        }
    }
    out.extend_from_slice(b"},\"type\":\"Feature\"}");
    Ok(())
}

/// A value as JSON text at the end of `out`.
fn put<T: serde::Serialize + ?Sized>(out: &mut Vec<u8>, v: &T) -> Result<()> {
    serde_json::to_writer(out, v).map_err(|e| crate::error::StoreError::Corrupt(e.to_string()))
}

/// The statement of a page of items (one row past the page, to tell whether there are more),
/// with its parameters: the same for the feature objects and the text.
fn page_query(view: &Visible, q: &ItemQuery) -> (String, Vec<Sql>) {
    let (from, mut params) = from_where(view, q);
    let sql = format!(
        "SELECT {}{from} ORDER BY t.fid LIMIT ? OFFSET ?",
        select_list(view.layer)
    );
    params.push(Sql::Integer(q.limit as i64 + 1));
    params.push(Sql::Integer(q.offset as i64));
    (sql, params)
}

/// `"rtree_…" r CROSS JOIN "…" t ON …`: a layer's table (alias `t`) joined to its R-tree for the
/// features whose envelope meets `bbox`, and the parameters; the map's tiles read through it.
/// The R-tree finds candidates by envelope; GeoPackage envelopes are exact for points and good
/// enough for a map's bbox request on polygons (the OGC API allows it). CROSS JOIN keeps the
/// R-tree first: otherwise SQLite may start from a scope column's index and probe the R-tree
/// once per fire in the scope (a patrol's: every open fire).
pub(super) fn rtree_join(layer: &Layer, [x0, y0, x1, y1]: [f64; 4]) -> (String, Vec<Sql>) {
    (
        format!(
            "\"rtree_{0}_geom\" r CROSS JOIN \"{0}\" t ON t.fid = r.id AND r.minx <= ? AND r.maxx >= ? AND r.miny <= ? AND r.maxy >= ?",
            layer.name
        ),
        vec![Sql::Real(x1), Sql::Real(x0), Sql::Real(y1), Sql::Real(y0)],
    )
}

/// `FROM … WHERE …` for a page request: the scope, the bbox (through the R-tree) and the
/// filters. The bbox is `t.fid IN (the R-tree's ids)`: SQLite lists the ids once, sorted, and
/// reads the rows in `fid` order, so a page needs no sort (a join sorted whole rows, about a
/// sixth of a bbox request's CPU) and stops at its limit. The scope's index, where it has one, is
/// probed by (value, fid): never the R-tree once per fire in the scope.
fn from_where(view: &Visible, q: &ItemQuery) -> (String, Vec<Sql>) {
    let layer = view.layer;
    let Condition {
        sql: cond,
        mut params,
    } = scope::condition(view);
    let mut sql = format!(" FROM \"{}\" t WHERE ", layer.name);
    if let Some([x0, y0, x1, y1]) = q.bbox {
        sql += &format!(
            "t.fid IN (SELECT r.id FROM \"rtree_{}_geom\" r WHERE r.minx <= ? AND r.maxx >= ? AND r.miny <= ? AND r.maxy >= ?) AND ",
            layer.name
        );
        params.splice(
            0..0,
            [Sql::Real(x1), Sql::Real(x0), Sql::Real(y1), Sql::Real(y0)],
        );
    }
    sql += &format!("({cond})");
    for f in &q.filters {
        let c = filter::compile(f);
        sql += &format!(" AND ({})", c.sql);
        params.extend(c.params);
    }
    (sql, params)
}

/// `, {table}"a", {table}"b"` for the fields, to follow a SELECT's own first columns (`fid`,
/// `geom`); empty for a layer without fields, so the SELECT stays valid either way.
fn more_columns<'a>(
    table: &str,
    fields: impl IntoIterator<Item = &'a crate::layers::Field>,
) -> String {
    fields
        .into_iter()
        .map(|f| format!(", {table}\"{}\"", f.name))
        .collect()
}

/// A JSON value as an SQL value for a field of this type.
fn to_sql(kind: FieldType, v: &Value) -> Sql {
    match Kept::of(kind, v) {
        Kept::Null => Sql::Null,
        Kept::Integer(i) => Sql::Integer(i),
        Kept::Real(x) => Sql::Real(x),
        Kept::Text(s) => Sql::Text(s),
    }
}

/// `SET geom = ?, "a" = ?, …` for the given fields of `values`, with the parameters.
fn sets(
    layer: &Layer,
    geom: &Geometry<f64>,
    values: &BTreeMap<String, Value>,
) -> Result<(Vec<String>, Vec<Sql>)> {
    let mut names = vec!["geom".to_string()];
    let mut params = vec![Sql::Blob(gpkg::try_encode(geom)?)];
    for (k, v) in values {
        if let Some(f) = layer.field(k) {
            names.push(format!("\"{k}\""));
            params.push(to_sql(f.kind, v));
        }
    }
    Ok((names, params))
}

impl Features for SqliteTx<'_> {
    fn items(&self, view: &Visible, q: &ItemQuery) -> Result<Page> {
        let (sql, params) = page_query(view, q);
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let mut rows = stmt.query(rusqlite::params_from_iter(params))?;
        let mut features = vec![];
        while let Some(r) = rows.next()? {
            features.push(feature(view.layer, r)?);
        }
        let more = features.len() > q.limit;
        features.truncate(q.limit);
        Ok(Page { features, more })
    }

    fn items_json(
        &self,
        view: &Visible,
        q: &ItemQuery,
        hidden: &[String],
        out: &mut Vec<u8>,
    ) -> Result<(usize, bool)> {
        let (sql, params) = page_query(view, q);
        let mut shown = vec![];
        let mut key = None;
        for (i, f) in view.layer.public_fields().enumerate() {
            if f.name == "uuid" && view.layer.key.as_deref() == Some("uuid") {
                key = Some((i + 2, f.kind));
            }
            if !hidden.contains(&f.name) {
                shown.push((f.name.as_str(), i + 2, f.kind));
            }
        }
        shown.sort_by_key(|s| s.0);
        let shown = shown
            .into_iter()
            .map(|(name, column, kind)| {
                let mut key = vec![];
                put(&mut key, name)?;
                key.push(b':');
                Ok(Shown { column, kind, key })
            })
            .collect::<Result<Vec<_>>>()?;
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let mut rows = stmt.query(rusqlite::params_from_iter(params))?;
        let mut n = 0;
        while let Some(r) = rows.next()? {
            if n == q.limit {
                return Ok((n, true));
            }
            if n > 0 {
                out.push(b',');
            }
            write_feature(r, &shown, key, out)?;
            n += 1;
        }
        Ok((n, false))
    }

    fn count_items(&self, view: &Visible, q: &ItemQuery, cap: usize) -> Result<Option<usize>> {
        let (from, mut params) = from_where(view, q);
        let sql = format!("SELECT count(*) FROM (SELECT 1{from} LIMIT ?)");
        params.push(Sql::Integer(cap as i64 + 1));
        let n: i64 = self
            .conn
            .prepare_cached(&sql)?
            .query_row(rusqlite::params_from_iter(params), |r| r.get(0))?;
        let n = usize::try_from(n).unwrap_or(usize::MAX);
        Ok((n <= cap).then_some(n))
    }

    fn item(&self, view: &Visible, id: &str) -> Result<Option<Value>> {
        let layer = view.layer;
        let Condition {
            sql: cond,
            mut params,
        } = scope::condition(view);
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
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let mut rows = stmt.query(rusqlite::params_from_iter(params))?;
        rows.next()?.map(|r| feature(layer, r)).transpose()
    }

    fn extent(&self, view: &Visible) -> Result<Option<[f64; 4]>> {
        type Row = (Option<f64>, Option<f64>, Option<f64>, Option<f64>);
        let get = |r: &rusqlite::Row| -> rusqlite::Result<Row> {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        };
        let layer = view.layer;
        let row: Row = if *view.scope == Scope::All {
            self.conn
                .query_row(
                    "SELECT min_x, min_y, max_x, max_y FROM gpkg_contents WHERE table_name = ?1",
                    [&layer.name],
                    get,
                )
                .optional()?
                .unwrap_or((None, None, None, None))
        } else {
            let Condition { sql: cond, params } = scope::condition(view);
            let sql = format!(
                "SELECT min(r.minx), min(r.miny), max(r.maxx), max(r.maxy) FROM \"{0}\" t JOIN \"rtree_{0}_geom\" r ON r.id = t.fid WHERE {cond}",
                layer.name
            );
            self.conn
                .prepare_cached(&sql)?
                .query_row(rusqlite::params_from_iter(params), get)?
        };
        Ok(match row {
            (Some(a), Some(b), Some(c), Some(d)) => Some([a, b, c, d]),
            _ => None,
        })
    }

    fn for_each(
        &self,
        view: &Visible,
        filters: &[Filter],
        each: &mut dyn FnMut(i64, Geometry<f64>, Map<String, Value>) -> bool,
    ) -> Result<()> {
        let layer = view.layer;
        let fields: Vec<&crate::layers::Field> = layer.public_fields().collect();
        let (cond, params) = where_condition(view, filters);
        let sql = format!(
            "SELECT t.fid, t.geom{} FROM \"{}\" t WHERE {cond} ORDER BY t.fid",
            more_columns("t.", fields.iter().copied()),
            layer.name
        );
        let mut stmt = self.conn.prepare(&sql)?;
        let mut rows = stmt.query(rusqlite::params_from_iter(params))?;
        while let Some(r) = rows.next()? {
            let fid: i64 = r.get(0)?;
            let Some(blob) = r.get::<_, Option<Vec<u8>>>(1)? else {
                continue;
            };
            let g = gpkg::decode(&blob)?;
            let mut props = Map::new();
            for (i, field) in fields.iter().enumerate() {
                props.insert(field.name.clone(), raw(r.get(i + 2)?));
            }
            if !each(fid, g, props) {
                break;
            }
        }
        Ok(())
    }

    fn count(&self, layer: &str) -> Result<i64> {
        Ok(self
            .conn
            .query_row(&format!("SELECT count(*) FROM \"{layer}\""), [], |r| {
                r.get(0)
            })?)
    }

    fn bounds(&self, layer: &str) -> Result<Option<[f64; 4]>> {
        let r: (Option<f64>, Option<f64>, Option<f64>, Option<f64>) = self.conn.query_row(
            &format!(
                "SELECT min(minx), min(miny), max(maxx), max(maxy) FROM \"rtree_{layer}_geom\""
            ),
            [],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
        )?;
        Ok(match r {
            (Some(a), Some(b), Some(c), Some(d)) => Some([a, b, c, d]),
            _ => None,
        })
    }

    fn row(&self, layer: &Layer, fid: i64) -> Result<Option<Stored>> {
        let sql = format!(
            "SELECT geom{} FROM \"{}\" WHERE fid = ?1",
            more_columns("", &layer.fields),
            layer.name
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
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

    fn fids(&self, layer: &Layer) -> Result<Vec<i64>> {
        let mut stmt = self
            .conn
            .prepare(&format!("SELECT fid FROM \"{}\" ORDER BY fid", layer.name))?;
        let out = stmt
            .query_map([], |r| r.get(0))?
            .collect::<rusqlite::Result<Vec<i64>>>()?;
        Ok(out)
    }

    fn fids_where(&self, layer: &Layer, field: &str, value: &str) -> Result<Vec<i64>> {
        let sql = format!(
            "SELECT fid FROM \"{}\" WHERE \"{field}\" = ?1 ORDER BY fid",
            layer.name
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map([value], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn key_taken(
        &self,
        layer: &Layer,
        field: &str,
        value: &str,
        except: Option<i64>,
    ) -> Result<bool> {
        let sql = format!(
            "SELECT 1 FROM \"{}\" WHERE \"{field}\" = ?1 AND fid IS NOT ?2 LIMIT 1",
            layer.name
        );
        Ok(self
            .conn
            .query_row(&sql, rusqlite::params![value, except], |_| Ok(()))
            .optional()?
            .is_some())
    }

    fn labels_where(
        &self,
        layer: &str,
        label: &str,
        field: &str,
        value: &str,
        limit: usize,
    ) -> Result<Vec<Value>> {
        let sql = format!(
            "SELECT \"{label}\" FROM \"{layer}\" WHERE \"{field}\" = ?1 ORDER BY fid LIMIT {limit}"
        );
        let mut stmt = self.conn.prepare(&sql)?;
        let rows = stmt
            .query_map([value], |r| r.get::<_, Sql>(0))?
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(rows.into_iter().map(raw).collect())
    }

    fn insert(
        &self,
        layer: &Layer,
        geom: &Geometry<f64>,
        values: &BTreeMap<String, Value>,
    ) -> Result<i64> {
        let (names, params) = sets(layer, geom, values)?;
        let marks = vec!["?"; names.len()].join(", ");
        let sql = format!(
            "INSERT INTO \"{}\" ({}) VALUES ({marks})",
            layer.name,
            names.join(", ")
        );
        self.conn
            .prepare_cached(&sql)?
            .execute(rusqlite::params_from_iter(params))?;
        Ok(self.conn.last_insert_rowid())
    }

    fn replace(
        &self,
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
        let n = self
            .conn
            .prepare_cached(&sql)?
            .execute(rusqlite::params_from_iter(params))?;
        Ok(n > 0)
    }

    fn update(
        &self,
        layer: &Layer,
        fid: i64,
        geom: &Geometry<f64>,
        values: &BTreeMap<String, Value>,
    ) -> Result<()> {
        let (names, mut params) = sets(layer, geom, values)?;
        let sets: Vec<String> = names.iter().map(|n| format!("{n} = ?")).collect();
        let sql = format!(
            "UPDATE \"{}\" SET {} WHERE fid = ?",
            layer.name,
            sets.join(", ")
        );
        params.push(Sql::Integer(fid));
        self.conn
            .prepare_cached(&sql)?
            .execute(rusqlite::params_from_iter(params))?;
        Ok(())
    }

    fn set_where(
        &self,
        layer: &Layer,
        field: &str,
        to: &Value,
        when: &str,
        equals: &str,
    ) -> Result<usize> {
        let kind = layer.field(field).map_or(FieldType::Text, |f| f.kind);
        let sql = format!(
            "UPDATE \"{}\" SET \"{field}\" = ?1 WHERE \"{when}\" = ?2 AND \"{field}\" IS NOT ?1",
            layer.name
        );
        Ok(self.conn.execute(
            &sql,
            rusqlite::params![to_sql(kind, to), Sql::Text(equals.to_string())],
        )?)
    }

    fn delete(&self, layer: &Layer, fid: i64) -> Result<bool> {
        let n = self.conn.execute(
            &format!("DELETE FROM \"{}\" WHERE fid = ?1", layer.name),
            [fid],
        )?;
        Ok(n > 0)
    }

    fn update_extent(&self, layer: &str) -> Result<()> {
        Ok(gpkg::update_extent(self.conn, layer)?)
    }
}

/// The condition (on alias `t`) for what `view` allows that matches every filter.
fn where_condition(view: &Visible, filters: &[Filter]) -> (String, Vec<Sql>) {
    let Condition {
        sql: mut cond,
        mut params,
    } = scope::condition(view);
    if let Some(c) = filter::all(filters) {
        cond += &format!(" AND {}", c.sql);
        params.extend(c.params);
    }
    (cond, params)
}

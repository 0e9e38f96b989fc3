//! What map tiles show, in SQL: the [`Tiles`] trait on [`SqliteTx`], and the triggers that keep
//! the point layers' grid (`tile_grid` by district, `tile_grid_holders` by holder) and every
//! layer's change counter (`tile_versions`) in the transaction of each insert, update and
//! delete, whoever writes (this server, GDAL, QGIS: the triggers need only the GeoPackage
//! functions and SQLite's math functions).
//!
//! The tables come from a migration; the triggers are made from the layer files (which fields
//! hold the status, district and holder) once the layer tables exist, and made again, with the
//! grid rebuilt from the rows, whenever the layer files change what they need.

use rusqlite::types::Value as Sql;
use rusqlite::{Connection, OptionalExtension};

use super::filter::Condition;
use super::{Result, SqliteTx, gpkg, scope};
use crate::domain::access::Scope;
use crate::domain::fire::Status;
use crate::layers::{GeometryType, Layer, Registry};
use crate::store::features::Visible;
use crate::store::tiles::{Cell, CellRange, GRID_LEVELS, MAX_LAT, PointRow, ShapeRow, Tiles};

/// The grid's source columns for one layer, as SQL on a row reference (`NEW`, `OLD` or `t`).
struct Source<'a> {
    layer: &'a Layer,
}

impl Source<'_> {
    fn column(&self, r: &str, name: Option<&String>) -> Option<String> {
        name.map(|c| format!("{r}.\"{c}\""))
    }

    /// `x, y, d, h, s` of row `r`: its position (latitude within Web Mercator's square), its
    /// district, holder and status ('' when the layer has none; the holder stays NULL).
    fn values(&self, r: &str) -> String {
        let a = &self.layer.access.columns;
        let d = self
            .column(r, a.district.as_ref())
            .map_or("''".into(), |c| format!("coalesce({c}, '')"));
        let h = self
            .column(r, a.holder.as_ref())
            .unwrap_or_else(|| "NULL".into());
        let s = if self.layer.field("status").is_some() {
            format!("coalesce({r}.\"status\", '')")
        } else {
            "''".into()
        };
        format!(
            "ST_MinX({r}.geom) AS x, min(max(ST_MinY({r}.geom), -{MAX_LAT}), {MAX_LAT}) AS y, {d} AS d, {h} AS h, {s} AS s"
        )
    }

    /// The columns the grid depends on: the position and the grid's keys.
    fn keys(&self) -> Vec<String> {
        let a = &self.layer.access.columns;
        let mut cols = vec!["geom".to_string()];
        cols.extend(a.district.iter().cloned());
        cols.extend(a.holder.iter().cloned());
        if self.layer.field("status").is_some() {
            cols.push("status".into());
        }
        cols
    }

    /// Whether an update changed one of them.
    fn changed(&self) -> String {
        self.keys()
            .iter()
            .map(|c| format!("OLD.\"{c}\" IS NOT NEW.\"{c}\""))
            .collect::<Vec<_>>()
            .join(" OR ")
    }
}

/// The column of `x` (degrees) in a grid `n` cells wide.
fn cell_x(x: &str, n: &str) -> String {
    format!("min(max(CAST(({x} + 180.0) / 360.0 * {n} AS INTEGER), 0), {n} - 1)")
}

/// The row of `y` (degrees, within Web Mercator's square) in a grid `n` cells high.
fn cell_y(y: &str, n: &str) -> String {
    format!(
        "min(max(CAST((1.0 - ln(tan(radians({y})) + 1.0 / cos(radians({y}))) / pi()) / 2.0 * {n} AS INTEGER), 0), {n} - 1)"
    )
}

/// The grid's levels, a table (a subquery of constants would be built again at each trigger
/// run).
fn levels() -> &'static str {
    "tile_levels"
}

/// Adds `sign` (1 or -1) times row `r` to the layer's grid (a cell it empties stays, at zero,
/// until the next open: finding it again would cost every write).
fn apply(layer: &Layer, r: &str, sign: i8) -> String {
    let src = Source { layer };
    let t = &layer.name;
    // `g` is materialised: the position is read once per statement, not at each use.
    let g = format!("(SELECT {}) g, {} l", src.values(r), levels());
    let (cx, cy) = (
        cell_x("g.x", "(1 << l.level)"),
        cell_y("g.y", "(1 << l.level)"),
    );
    let cond = "g.x IS NOT NULL AND g.y IS NOT NULL";
    let mut sql = format!(
        "INSERT INTO tile_grid(layer, level, cx, cy, district, status, n, sx, sy) \
         SELECT '{t}', l.level, {cx}, {cy}, g.d, g.s, {sign}, {sign} * g.x, {sign} * g.y FROM {g} WHERE {cond} \
         ON CONFLICT(layer, level, cx, cy, district, status) DO UPDATE SET n = n + excluded.n, sx = sx + excluded.sx, sy = sy + excluded.sy;\n"
    );
    if layer.access.columns.holder.is_some() {
        sql += &format!(
            "INSERT INTO tile_grid_holders(layer, holder, level, cx, cy, status, n, sx, sy) \
             SELECT '{t}', g.h, l.level, {cx}, {cy}, g.s, {sign}, {sign} * g.x, {sign} * g.y FROM {g} WHERE {cond} AND g.h IS NOT NULL \
             ON CONFLICT(layer, holder, level, cx, cy, status) DO UPDATE SET n = n + excluded.n, sx = sx + excluded.sx, sy = sy + excluded.sy;\n"
        );
    }
    sql
}

fn bump(layer: &Layer) -> String {
    format!(
        "INSERT INTO tile_versions(layer, version) VALUES ('{}', 1) ON CONFLICT(layer) DO UPDATE SET version = version + 1;\n",
        layer.name
    )
}

/// Whether a layer keeps a grid: point layers.
fn gridded(layer: &Layer) -> bool {
    layer.geometry == GeometryType::Point
}

/// The triggers a layer needs, by name: the grid follows inserts, deletes and the updates that
/// move a feature or change its keys; the change counter follows every write.
fn triggers(layer: &Layer) -> Vec<(String, String)> {
    let t = &layer.name;
    let trigger = |name: &str, event: &str, when: &str, parts: Vec<String>| {
        let name = format!("{t}_tiles_{name}");
        let sql = format!(
            "CREATE TRIGGER \"{name}\" AFTER {event} ON \"{t}\"{when}\nBEGIN\n{}END",
            parts.concat()
        );
        (name, sql)
    };
    if !gridded(layer) {
        return vec![
            trigger("insert", "INSERT", "", vec![bump(layer)]),
            trigger("delete", "DELETE", "", vec![bump(layer)]),
            trigger("touch", "UPDATE", "", vec![bump(layer)]),
        ];
    }
    let src = Source { layer };
    let of: Vec<String> = src.keys().iter().map(|c| format!("\"{c}\"")).collect();
    vec![
        trigger(
            "insert",
            "INSERT",
            "",
            vec![apply(layer, "NEW", 1), bump(layer)],
        ),
        trigger(
            "delete",
            "DELETE",
            "",
            vec![apply(layer, "OLD", -1), bump(layer)],
        ),
        trigger(
            "update",
            &format!("UPDATE OF {}", of.join(", ")),
            &format!(" WHEN {}", src.changed()),
            vec![apply(layer, "OLD", -1), apply(layer, "NEW", 1)],
        ),
        trigger("touch", "UPDATE", "", vec![bump(layer)]),
    ]
}

/// Recounts a layer's grid from its rows (after the triggers were made or changed).
fn rebuild(conn: &Connection, layer: &Layer) -> Result<()> {
    let t = &layer.name;
    conn.execute("DELETE FROM tile_grid WHERE layer = ?1", [t])?;
    conn.execute("DELETE FROM tile_grid_holders WHERE layer = ?1", [t])?;
    if gridded(layer) {
        let src = Source { layer };
        let (cx, cy) = (
            cell_x("g.x", "(1 << l.level)"),
            cell_y("g.y", "(1 << l.level)"),
        );
        let g = format!(
            "(SELECT {} FROM \"{t}\" t) g, {} l",
            src.values("t"),
            levels()
        );
        conn.execute_batch(&format!(
            "INSERT INTO tile_grid(layer, level, cx, cy, district, status, n, sx, sy) \
             SELECT '{t}', l.level AS lv, {cx} AS gx, {cy} AS gy, g.d AS gd, g.s AS gs, count(*), sum(g.x), sum(g.y) \
             FROM {g} WHERE g.x IS NOT NULL AND g.y IS NOT NULL GROUP BY lv, gx, gy, gd, gs"
        ))?;
        if layer.access.columns.holder.is_some() {
            conn.execute_batch(&format!(
                "INSERT INTO tile_grid_holders(layer, holder, level, cx, cy, status, n, sx, sy) \
                 SELECT '{t}', g.h AS gh, l.level AS lv, {cx} AS gx, {cy} AS gy, g.s AS gs, count(*), sum(g.x), sum(g.y) \
                 FROM {g} WHERE g.x IS NOT NULL AND g.y IS NOT NULL AND g.h IS NOT NULL GROUP BY gh, lv, gx, gy, gs"
            ))?;
        }
    }
    conn.execute_batch(&bump(layer))?;
    Ok(())
}

/// Makes each layer's triggers as its layer file needs them, and rebuilds the grid of a layer
/// whose triggers were missing or different (a database made before tiles, a changed layer
/// file). Runs in the migration's transaction, after the layer tables exist.
pub(super) fn install(conn: &Connection, registry: &Registry) -> Result<()> {
    let have: Vec<u8> = conn
        .prepare("SELECT level FROM tile_levels ORDER BY level")?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let levels_changed = have != GRID_LEVELS;
    if levels_changed {
        conn.execute("DELETE FROM tile_levels", [])?;
        for l in GRID_LEVELS {
            conn.execute("INSERT INTO tile_levels(level) VALUES (?1)", [l])?;
        }
    }
    // Cells a write emptied (writes leave them at zero rather than look for them).
    conn.execute_batch(
        "DELETE FROM tile_grid WHERE n = 0; DELETE FROM tile_grid_holders WHERE n = 0;",
    )?;
    for layer in registry.iter() {
        let wanted = triggers(layer);
        let mut stmt = conn.prepare(
            "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = ?1 AND name LIKE ?2 ORDER BY name",
        )?;
        let have: Vec<(String, String)> = stmt
            .query_map(
                rusqlite::params![layer.name, format!("{}_tiles_%", layer.name)],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )?
            .collect::<rusqlite::Result<_>>()?;
        let mut sorted = wanted.clone();
        sorted.sort();
        if have == sorted && !(levels_changed && gridded(layer)) {
            continue;
        }
        for (name, _) in &have {
            conn.execute_batch(&format!("DROP TRIGGER \"{name}\""))?;
        }
        for (_, sql) in &wanted {
            conn.execute_batch(sql)?;
        }
        rebuild(conn, layer)?;
    }
    Ok(())
}

/// Widens a bbox by a little more than the R-tree's single-precision rounding.
fn pad(b: [f64; 4]) -> [f64; 4] {
    let e = 1e-5;
    [b[0] - e, b[1] - e, b[2] + e, b[3] + e]
}

fn cell_row(r: &rusqlite::Row) -> rusqlite::Result<Cell> {
    Ok(Cell {
        cx: r.get(0)?,
        cy: r.get(1)?,
        status: r.get(2)?,
        n: r.get(3)?,
        sum_lon: r.get(4)?,
        sum_lat: r.get(5)?,
    })
}

impl SqliteTx<'_> {
    /// Cells counted from the rows themselves: those of `cond` (on alias `t`) in `range`.
    fn cells_from_rows(
        &self,
        layer: &Layer,
        range: &CellRange,
        cond: Condition,
    ) -> Result<Vec<Cell>> {
        let n = format!("{}", 1u64 << range.level);
        let (join, mut params) = super::features::rtree_join(layer, pad(range.bbox()));
        let s = if layer.field("status").is_some() {
            "coalesce(t.\"status\", '')"
        } else {
            "''"
        };
        let sql = format!(
            "SELECT cx, cy, s, count(*), sum(x), sum(y) FROM (\
               SELECT {cx} AS cx, {cy} AS cy, s, x, y FROM (\
                 SELECT ST_MinX(t.geom) AS x, min(max(ST_MinY(t.geom), -{MAX_LAT}), {MAX_LAT}) AS y, {s} AS s \
                 FROM {join} WHERE {cond}) \
               WHERE x IS NOT NULL AND y IS NOT NULL) \
             WHERE cx BETWEEN ? AND ? AND cy BETWEEN ? AND ? GROUP BY cx, cy, s",
            cx = cell_x("x", &n),
            cy = cell_y("y", &n),
            cond = cond.sql,
        );
        params.extend(cond.params);
        params.extend([range.x0, range.x1, range.y0, range.y1].map(|v| Sql::Integer(v.into())));
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(rusqlite::params_from_iter(params), cell_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Cells from the grid: `table` with `key` (a column and value) and a status condition.
    fn cells_from_grid(
        &self,
        layer: &Layer,
        range: &CellRange,
        key: Option<(&str, &str)>,
        status: Option<(&str, Vec<Sql>)>,
    ) -> Result<Vec<Cell>> {
        let table = if key.is_some_and(|k| k.0 == "holder") {
            "tile_grid_holders"
        } else {
            "tile_grid"
        };
        let columns: Vec<u32> = (range.x0..=range.x1).collect();
        let mut sql = format!(
            "SELECT cx, cy, status, sum(n), sum(sx), sum(sy) FROM {table} WHERE layer = ?{} AND level = ? AND cx IN ({}) AND cy BETWEEN ? AND ?",
            key.map(|(c, _)| format!(" AND {c} = ?"))
                .unwrap_or_default(),
            vec!["?"; columns.len()].join(", ")
        );
        let mut params = vec![Sql::Text(layer.name.clone())];
        if let Some((_, v)) = key {
            params.push(Sql::Text(v.into()));
        }
        params.push(Sql::Integer(range.level.into()));
        params.extend(columns.iter().map(|c| Sql::Integer((*c).into())));
        params.extend([range.y0, range.y1].map(|v| Sql::Integer(v.into())));
        if let Some((cond, p)) = status {
            sql += &format!(" AND {cond}");
            params.extend(p);
        }
        sql += " GROUP BY cx, cy, status HAVING sum(n) > 0";
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let rows = stmt.query_map(rusqlite::params_from_iter(params), cell_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }
}

impl Tiles for SqliteTx<'_> {
    fn version(&self, layer: &str) -> Result<i64> {
        Ok(self
            .conn
            .prepare_cached("SELECT version FROM tile_versions WHERE layer = ?1")?
            .query_row([layer], |r| r.get(0))
            .optional()?
            .unwrap_or(0))
    }

    fn cells(&self, view: &Visible, range: &CellRange) -> Result<Vec<Cell>> {
        let layer = view.layer;
        if !gridded(layer) {
            return Ok(vec![]);
        }
        let cols = &layer.access.columns;
        let fire_life = layer.field("status").is_some() && layer.field("cleared_at").is_some();
        match view.scope {
            Scope::Nothing => Ok(vec![]),
            // A layer whose rows follow another's scope: only the rows can say.
            s if *s != Scope::All && layer.access.follows.is_some() => {
                self.cells_from_rows(layer, range, scope::condition(view))
            }
            Scope::All => self.cells_from_grid(layer, range, None, None),
            Scope::District(code) => match cols.district {
                Some(_) => self.cells_from_grid(layer, range, Some(("district", code)), None),
                None => Ok(vec![]),
            },
            Scope::Holder(h) => match cols.holder {
                Some(_) => self.cells_from_grid(layer, range, Some(("holder", h)), None),
                None => Ok(vec![]),
            },
            Scope::Open if fire_life => {
                let open: Vec<Sql> = Status::ALL
                    .iter()
                    .filter(|s| s.is_open())
                    .map(|s| Sql::Text(s.as_str().into()))
                    .collect();
                let cond = format!("status IN ({})", vec!["?"; open.len()].join(", "));
                let mut cells = self.cells_from_grid(layer, range, None, Some((&cond, open)))?;
                // Cleared fires still on the re-ignition watch: few, found by their time.
                cells.extend(self.cells_from_rows(
                    layer,
                    range,
                    Condition {
                        sql: "t.status = 'cleared' AND t.cleared_at >= ?".into(),
                        params: vec![Sql::Text(view.watch_since.into())],
                    },
                )?);
                Ok(cells)
            }
            Scope::Open if !layer.access.closed.is_empty() => {
                let closed: Vec<Sql> = layer
                    .access
                    .closed
                    .iter()
                    .map(|s| Sql::Text(s.clone()))
                    .collect();
                let cond = format!("status NOT IN ({})", vec!["?"; closed.len()].join(", "));
                self.cells_from_grid(layer, range, None, Some((&cond, closed)))
            }
            Scope::Open => self.cells_from_grid(layer, range, None, None),
        }
    }

    fn points(
        &self,
        view: &Visible,
        bbox: [f64; 4],
        fields: &[&str],
        each: &mut dyn FnMut(PointRow),
    ) -> Result<()> {
        let layer = view.layer;
        let (join, mut params) = super::features::rtree_join(layer, pad(bbox));
        let (cond, cols) = scoped_columns(view, fields, &mut params);
        let sql = format!(
            "SELECT t.fid, ST_MinX(t.geom), ST_MinY(t.geom){cols} FROM {join} WHERE {cond}"
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let mut rows = stmt.query(rusqlite::params_from_iter(params))?;
        while let Some(r) = rows.next()? {
            let (Some(lon), Some(lat)) = (r.get::<_, Option<f64>>(1)?, r.get::<_, Option<f64>>(2)?)
            else {
                continue;
            };
            if lon < bbox[0] || lon > bbox[2] || lat < bbox[1] || lat > bbox[3] {
                continue;
            }
            let values = field_values(r, 3, fields.len())?;
            each(PointRow {
                fid: r.get(0)?,
                lon,
                lat,
                values,
            });
        }
        Ok(())
    }

    fn shapes(
        &self,
        view: &Visible,
        bbox: [f64; 4],
        detail: [f64; 2],
        fields: &[&str],
        each: &mut dyn FnMut(ShapeRow),
    ) -> Result<()> {
        let layer = view.layer;
        let mut params = vec![Sql::Real(detail[0]), Sql::Real(detail[1])];
        let (join, p) = super::features::rtree_join(layer, bbox);
        params.extend(p);
        let (cond, cols) = scoped_columns(view, fields, &mut params);
        let sql = format!(
            "SELECT t.fid, r.minx, r.miny, r.maxx, r.maxy, \
             CASE WHEN r.maxx - r.minx >= ? OR r.maxy - r.miny >= ? THEN t.geom END{cols} \
             FROM {join} WHERE {cond}"
        );
        let mut stmt = self.conn.prepare_cached(&sql)?;
        let mut rows = stmt.query(rusqlite::params_from_iter(params))?;
        while let Some(r) = rows.next()? {
            let geometry = match r.get::<_, Option<Vec<u8>>>(5)? {
                Some(b) => Some(gpkg::decode(&b)?),
                None => None,
            };
            let values = field_values(r, 6, fields.len())?;
            each(ShapeRow {
                fid: r.get(0)?,
                bbox: [r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?],
                geometry,
                values,
            });
        }
        Ok(())
    }
}

/// The read scope's condition, its parameters appended to `params`, and the asked-for fields as
/// columns of `t` to add to a SELECT.
fn scoped_columns(view: &Visible, fields: &[&str], params: &mut Vec<Sql>) -> (String, String) {
    let Condition { sql, params: p } = scope::condition(view);
    params.extend(p);
    let cols = fields.iter().map(|f| format!(", t.\"{f}\"")).collect();
    (sql, cols)
}

/// The `n` field values of a row, from column `first` on.
fn field_values(r: &rusqlite::Row, first: usize, n: usize) -> Result<Vec<serde_json::Value>> {
    (first..first + n)
        .map(|i| Ok(super::features::raw(r.get(i)?)))
        .collect()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use geo::{Geometry, Point};
    use serde_json::{Value, json};

    use super::*;
    use crate::store::features::Features;
    use crate::store::sqlite::testing::{memory, number};

    type Grid = Vec<(String, i64, i64, i64, String, String, i64)>;

    /// The count a grid holds at a level.
    fn at_level(grid: &Grid, level: u8) -> i64 {
        grid.iter()
            .filter(|r| r.1 == i64::from(level))
            .map(|r| r.6)
            .sum()
    }

    fn grid(conn: &Connection) -> (Grid, Grid) {
        let read = |sql: &str| -> Grid {
            let mut st = conn.prepare(sql).expect("prepare");
            st.query_map([], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                ))
            })
            .expect("query")
            .collect::<rusqlite::Result<_>>()
            .expect("rows")
        };
        (
            read(
                "SELECT layer, level, cx, cy, district, status, n FROM tile_grid ORDER BY 1, 2, 3, 4, 5, 6",
            ),
            read(
                "SELECT layer, level, cx, cy, holder, status, n FROM tile_grid_holders ORDER BY 1, 2, 3, 4, 5, 6",
            ),
        )
    }

    fn values(v: Value) -> BTreeMap<String, Value> {
        v.as_object()
            .expect("object")
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()
    }

    #[test]
    fn the_grid_follows_every_insert_update_and_delete_and_equals_a_recount() {
        let (conn, registry) = memory();
        let tx = SqliteTx::new(&conn);
        let fires = registry.get("fire_points").expect("fires");
        let at = |x: f64, y: f64| Geometry::Point(Point::new(x, y));
        let v0 = tx.version("fire_points").expect("version");
        let a = tx
            .insert(
                fires,
                &at(106.8, 39.6),
                &values(json!({"uuid": "a", "status": "reported", "district_code": "150303", "responsible_holder": "甲"})),
            )
            .expect("insert");
        let b = tx
            .insert(
                fires,
                &at(106.81, 39.61),
                &values(json!({"uuid": "b", "status": "treating", "district_code": "150303"})),
            )
            .expect("insert");
        tx.insert(
            fires,
            &at(107.5, 38.9),
            &values(json!({"uuid": "c", "status": "cleared", "district_code": "150304", "responsible_holder": "乙", "cleared_at": "2099-01-01T00:00:00Z"})),
        )
        .expect("insert");
        assert!(tx.version("fire_points").expect("version") > v0);
        // Every level holds the three fires.
        let (g, h) = grid(&conn);
        for level in GRID_LEVELS {
            let n = at_level(&g, level);
            assert_eq!(n, 3, "level {level}");
            let n = at_level(&h, level);
            assert_eq!(n, 2, "holders at level {level}");
        }
        // A status change moves a count; moving a fire moves it; a delete takes it away.
        tx.update(
            fires,
            a,
            &at(106.8, 39.6),
            &values(json!({"status": "controlled"})),
        )
        .expect("update");
        tx.update(fires, b, &at(106.2, 39.0), &values(json!({})))
            .expect("move");
        tx.update(
            fires,
            b,
            &at(106.2, 39.0),
            &values(json!({"updated_at": "2026-01-01T00:00:00Z"})),
        )
        .expect("a change the grid does not see");
        let c = tx.fids_where(fires, "uuid", "c").expect("fid")[0];
        tx.delete(fires, c).expect("delete");
        // Emptied cells stay at zero (a write never searches for them) until the next open.
        let (mut g, mut h) = grid(&conn);
        assert!(h.iter().any(|r| r.4 == "乙" && r.6 == 0));
        g.retain(|r| r.6 != 0);
        h.retain(|r| r.6 != 0);
        rebuild(&conn, fires).expect("rebuild");
        assert_eq!(grid(&conn), (g, h));

        // Reading: by scope, within a range of cells.
        let level = 14;
        let cx = crate::store::tiles::mercator_x(106.8, level).floor() as u32;
        let cy = crate::store::tiles::mercator_y(39.6, level).floor() as u32;
        let range = CellRange {
            level,
            x0: cx - 4,
            x1: cx + 4,
            y0: cy - 4,
            y1: cy + 4,
        };
        let count = |scope: Scope| -> u64 {
            tx.cells(&Visible::new(fires, &scope, "2000-01-01T00:00:00Z"), &range)
                .expect("cells")
                .iter()
                .map(|c| c.n)
                .sum()
        };
        assert_eq!(count(Scope::All), 1);
        assert_eq!(count(Scope::District("150303".into())), 1);
        assert_eq!(count(Scope::District("150304".into())), 0);
        assert_eq!(count(Scope::Holder("甲".into())), 1);
        assert_eq!(count(Scope::Holder("乙".into())), 0);
        assert_eq!(count(Scope::Open), 1);
        assert_eq!(count(Scope::Nothing), 0);
        let cells = tx.cells(&Visible::all(fires), &range).expect("cells");
        assert_eq!(cells[0].status, "controlled");
        assert!((cells[0].sum_lon - 106.8).abs() < 1e-9);
    }

    #[test]
    fn a_patrol_counts_fires_cleared_within_the_watch_and_no_older_ones() {
        let (conn, registry) = memory();
        let tx = SqliteTx::new(&conn);
        let fires = registry.get("fire_points").expect("fires");
        for (uuid, cleared) in [
            ("new", "2026-02-01T00:00:00Z"),
            ("old", "2025-01-01T00:00:00Z"),
        ] {
            tx.insert(
                fires,
                &Geometry::Point(Point::new(106.8, 39.6)),
                &values(json!({"uuid": uuid, "status": "cleared", "cleared_at": cleared})),
            )
            .expect("insert");
        }
        let range = CellRange {
            level: 4,
            x0: 0,
            x1: 15,
            y0: 0,
            y1: 15,
        };
        let cells = tx
            .cells(
                &Visible::new(fires, &Scope::Open, "2026-01-01T00:00:00Z"),
                &range,
            )
            .expect("cells");
        assert_eq!(cells.iter().map(|c| c.n).sum::<u64>(), 1);
        assert_eq!(cells[0].status, "cleared");
    }

    #[test]
    fn opening_again_makes_nothing_again_and_a_new_database_is_counted() {
        let (mut conn, registry) = memory();
        let before = number(
            &conn,
            "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND name LIKE '%_tiles_%'",
        );
        let points = registry.iter().filter(|l| gridded(l)).count();
        assert_eq!(before, 3 * registry.iter().count() as i64 + points as i64);
        let v = SqliteTx::new(&conn).version("mines").expect("version");
        crate::store::sqlite::schema::migrate(&mut conn, &registry).expect("again");
        assert_eq!(SqliteTx::new(&conn).version("mines").expect("version"), v);
    }
}

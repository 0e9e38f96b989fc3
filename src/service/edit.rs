//! Editing layers feature by feature (OGC API - Features Part 4, as QGIS does it): the same
//! checks as an import — geometry, fields, unique key, references, derived fields — then, when a
//! polygon that decides responsibility changed, what follows it is re-derived and every open
//! case whose party changed is re-routed with a system `reassign` event (`service::boundaries`).

use chrono::{DateTime, Utc};
use geo::Geometry;
use serde_json::{Map, Value};

use crate::domain::role::Actor;
use crate::error::{Error, Kind, Result};
use crate::i18n::Lang;
use crate::layers::{Layer, Registry, Source};
use crate::service::boundaries::{self, derivable, derive};
use crate::service::geometry;
use crate::service::reroute::Rerouted;
use crate::store::Tx;

/// Layers written only by the life of a fire (reports, events), never edited directly.
pub const EVENT_LAYERS: [&str; 2] = ["fire_points", "inspections"];

/// What every edit needs besides the feature.
pub struct Ctx<'a> {
    pub registry: &'a Registry,
    pub now: DateTime<Utc>,
    /// The editor's language, for the reason recorded on re-routed fires.
    pub lang: Lang,
}

/// What an edit did.
#[derive(Debug)]
pub struct Edited {
    pub fid: i64,
    /// Whether responsibility polygons changed (the in-memory index must be rebuilt).
    pub areas_changed: bool,
    /// Open fires moved to another party.
    pub rerouted: Vec<Rerouted>,
}

/// Whether the layer can be edited feature by feature at all (by someone): a layer file grants
/// a write, it is not a fire layer, and every derived field is one an edit can derive (as an
/// import does: the district, the geodesic area, a holder through a reference). Layers with
/// other derived fields are kept by their own use cases (dust monitors by `qingling monitor`).
pub fn editable(layer: &Layer) -> bool {
    !layer.access.write.is_empty()
        && !EVENT_LAYERS.contains(&layer.name.as_str())
        && derivable(layer)
}

/// 403 unless this user's role may write the layer (its file's `access.write`).
pub fn check_may_edit(layer: &Layer, actor: &Actor) -> Result<()> {
    if editable(layer) && layer.may_write(actor.role) {
        Ok(())
    } else {
        Err(Error::forbidden())
    }
}

fn label(layer: &Layer, props: &Map<String, Value>, fid: i64) -> String {
    let key = layer.key.as_deref().unwrap_or("name");
    props
        .get("name")
        .or_else(|| props.get(key))
        .and_then(Value::as_str)
        .map_or_else(|| format!("#{fid}"), |s| format!("“{s}”"))
}

/// The key value a feature holds, if the layer has a key.
fn key_of(layer: &Layer, props: &Map<String, Value>) -> Option<String> {
    let key = layer.key.as_deref()?;
    props.get(key).and_then(Value::as_str).map(String::from)
}

/// Features of other layers that refer to this feature's key (a dump's owning mine).
fn referrers(
    tx: &dyn Tx,
    registry: &Registry,
    layer: &Layer,
    key_value: &str,
) -> Result<Vec<String>> {
    let Some(key) = layer.key.as_deref() else {
        return Ok(vec![]);
    };
    let target = format!("{}.{key}", layer.name);
    let mut out = vec![];
    for other in registry.iter() {
        for f in other
            .fields
            .iter()
            .filter(|f| f.references.as_deref() == Some(target.as_str()))
        {
            let shown = if other.field("name").is_some() {
                "name"
            } else {
                "fid"
            };
            let names = tx
                .features()
                .labels_where(&other.name, shown, &f.name, key_value, 5)?;
            out.extend(names.into_iter().map(|v| match v {
                Value::String(s) => format!("{}：{s}", other.title.zh),
                other_value => format!("{}：{}", other.title.zh, shown_as_before(&other_value)),
            }));
        }
    }
    Ok(out)
}

/// A label that is not text (the fid of a layer without names), in the form the messages have
/// always given it.
fn shown_as_before(v: &Value) -> String {
    match v {
        Value::Number(n) if n.is_i64() => format!("Integer({n})"),
        Value::Number(n) => format!("Real({n})"),
        other => format!("{other:?}"),
    }
}

fn still_referenced(layer: &Layer, key_value: &str, by: Vec<String>) -> Error {
    Error::new(Kind::Conflict, "still_referenced")
        .arg("layer", layer.title.zh.clone())
        .arg("value", key_value.to_string())
        .arg("by", by.join("、"))
}

/// A geometry checked for a layer (shape, validity, vertex count) before the write transaction:
/// the costly part of an edit, done without holding the single writer.
pub struct Checked(Geometry<f64>);

/// Geometry checks at once, per core: geo's validity check grows with the square of the vertex
/// count (about 20 s for 10,000 vertices in a debug build), so they queue like photo decodes.
pub const CHECKS_PER_CORE: usize = 1;
/// How long an edit waits for a checking slot before it is answered 503.
pub const CHECK_WAIT: std::time::Duration = std::time::Duration::from_secs(30);
/// The slots shared by every edit.
pub static CHECKS: std::sync::LazyLock<std::sync::Arc<tokio::sync::Semaphore>> =
    std::sync::LazyLock::new(|| super::slots::per_core(CHECKS_PER_CORE));

impl Checked {
    /// Refuses more than `max_vertices` (422, naming the limit and the count) before anything
    /// else, then checks the shape and validity as an import does.
    pub fn new(layer: &Layer, g: Geometry<f64>, max_vertices: usize) -> Result<Checked> {
        let n = geo::CoordsIter::coords_count(&g);
        if n > max_vertices {
            return Err(Error::invalid("too_many_vertices")
                .arg("count", n.to_string())
                .arg("max", max_vertices.to_string()));
        }
        Ok(Checked(geometry::check(layer, g)?))
    }
}

/// Checks and stores one feature (a new one when `fid` is None), returning its fid.
fn write(
    tx: &dyn Tx,
    registry: &Registry,
    layer: &Layer,
    fid: Option<i64>,
    geom: Checked,
    props: &Map<String, Value>,
) -> Result<i64> {
    let g = geom.0;
    let mut values = layer
        .validate(props, Source::Import)
        .map_err(Error::fields)?;
    if let Some(key) = &layer.key {
        let v = values
            .get(key)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        if tx.features().key_taken(layer, key, &v, fid)? {
            return Err(Error::new(Kind::Conflict, "duplicate_key")
                .arg("field", key.clone())
                .arg("value", v));
        }
        // A key others refer to cannot change under them.
        if let Some(fid) = fid
            && let Some((_, old)) = tx.features().row(layer, fid)?
            && let Some(old_key) = key_of(layer, &old)
            && old_key != v
        {
            let by = referrers(tx, registry, layer, &old_key)?;
            if !by.is_empty() {
                return Err(still_referenced(layer, &old_key, by));
            }
        }
    }
    derive(layer, &boundaries::index(tx)?, &g, &mut values)?;
    let fid = match fid {
        None => tx.features().insert(layer, &g, &values)?,
        Some(fid) => {
            if !tx.features().replace(layer, fid, &g, &values)? {
                return Err(Error::not_found("feature"));
            }
            fid
        }
    };
    tx.features().update_extent(&layer.name)?;
    Ok(fid)
}

/// The reason recorded on each re-routed fire, in the editor's language (as an import does).
/// After a write: refuses (409, the caller's transaction rolls back) when open fires or dust
/// violations would be left outside every district; else re-derives what depends on the layer,
/// re-routes open fires with the reason `key` (naming the feature), and says what changed. Open
/// cases in a mine, dump or heap that moved or went follow the polygons to their new party.
fn finish(
    tx: &dyn Tx,
    ctx: &Ctx,
    layer: &Layer,
    key: &str,
    props: &Map<String, Value>,
    fid: i64,
    before: Option<usize>,
) -> Result<Edited> {
    if let Some(before) = before {
        let after = boundaries::stranded(tx)?;
        if after > before {
            return Err(Error::new(Kind::Conflict, "area_has_open_cases")
                .arg("label", label(layer, props, fid))
                .arg("count", (after - before).to_string())
                .detail(serde_json::json!({"open_cases": after - before})));
        }
    }
    let why = reason(layer, key, &label(layer, props, fid), ctx.lang);
    let (areas_changed, rerouted) =
        boundaries::after_change(tx, ctx.registry, layer, ctx.now, &why)?;
    Ok(Edited {
        fid,
        areas_changed,
        rerouted,
    })
}

fn reason(layer: &Layer, key: &str, label: &str, lang: Lang) -> String {
    crate::i18n::format(
        lang,
        key,
        &[
            ("layer", layer.title.get(lang).to_string()),
            ("label", label.to_string()),
        ],
    )
}

/// Creates a feature.
pub fn create(
    tx: &dyn Tx,
    ctx: &Ctx,
    layer: &Layer,
    geom: Checked,
    props: &Map<String, Value>,
) -> Result<Edited> {
    let before = boundaries::stranded_before(tx, layer)?;
    let fid = write(tx, ctx.registry, layer, None, geom, props)?;
    finish(tx, ctx, layer, "reroute.reason_created", props, fid, before)
}

/// Replaces a feature (PUT): geometry and every property.
pub fn replace(
    tx: &dyn Tx,
    ctx: &Ctx,
    layer: &Layer,
    fid: i64,
    geom: Checked,
    props: &Map<String, Value>,
) -> Result<Edited> {
    if tx.features().row(layer, fid)?.is_none() {
        return Err(Error::not_found("feature"));
    }
    let before = boundaries::stranded_before(tx, layer)?;
    write(tx, ctx.registry, layer, Some(fid), geom, props)?;
    finish(tx, ctx, layer, "reroute.reason_changed", props, fid, before)
}

/// Updates a feature (PATCH): the geometry if given, and the properties given merged into the
/// stored ones (RFC 7396: a null removes a property). The result is checked as a whole.
pub fn update(
    tx: &dyn Tx,
    ctx: &Ctx,
    layer: &Layer,
    fid: i64,
    geom: Option<Checked>,
    patch: &Map<String, Value>,
) -> Result<Edited> {
    let Some((old_geom, mut props)) = tx.features().row(layer, fid)? else {
        return Err(Error::not_found("feature"));
    };
    for (k, v) in patch {
        if v.is_null() {
            props.remove(k);
        } else {
            props.insert(k.clone(), v.clone());
        }
    }
    let before = boundaries::stranded_before(tx, layer)?;
    write(
        tx,
        ctx.registry,
        layer,
        Some(fid),
        // The stored geometry passed these checks when it was written.
        geom.unwrap_or(Checked(old_geom)),
        &props,
    )?;
    finish(
        tx,
        ctx,
        layer,
        "reroute.reason_changed",
        &props,
        fid,
        before,
    )
}

/// Deletes a feature, unless other features still refer to it.
pub fn delete(tx: &dyn Tx, ctx: &Ctx, layer: &Layer, fid: i64) -> Result<Edited> {
    let Some((_, props)) = tx.features().row(layer, fid)? else {
        return Err(Error::not_found("feature"));
    };
    if let Some(k) = key_of(layer, &props) {
        let by = referrers(tx, ctx.registry, layer, &k)?;
        if !by.is_empty() {
            return Err(still_referenced(layer, &k, by));
        }
    }
    let before = boundaries::stranded_before(tx, layer)?;
    tx.features().delete(layer, fid)?;
    tx.features().update_extent(&layer.name)?;
    finish(
        tx,
        ctx,
        layer,
        "reroute.reason_deleted",
        &props,
        fid,
        before,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::role::Role;
    use crate::i18n::Lang;
    use crate::service::import::import_geojson;
    use crate::store::sqlite::{SqliteTx, testing};
    use serde_json::json;

    fn db() -> (rusqlite::Connection, Registry) {
        let registry = Registry::builtin().expect("layers");
        let (conn, _) = testing::memory();
        import_geojson(
            &SqliteTx::new(&conn),
            &registry,
            "districts",
            testing::WUDA,
            Lang::En,
        )
        .expect("district");
        (conn, registry)
    }

    fn square(x: f64, y: f64, d: f64) -> Geometry<f64> {
        let v: geojson::Geometry = serde_json::from_value(json!({"type": "Polygon", "coordinates": [[[x, y], [x + d, y], [x + d, y + d], [x, y + d], [x, y]]]}))
            .expect("geojson");
        Geometry::try_from(&v.value).expect("geo")
    }

    fn props(v: Value) -> Map<String, Value> {
        v.as_object().cloned().expect("object")
    }

    #[test]
    fn only_writers_of_editable_layers_may_edit() {
        let r = Registry::builtin().expect("layers");
        let actor = |role| Actor {
            username: "u".into(),
            role,
            district: None,
            holder: None,
        };
        let mines = r.get("mines").expect("mines");
        assert!(check_may_edit(mines, &actor(Role::Manager)).is_ok());
        assert!(check_may_edit(mines, &actor(Role::Patrol)).is_err());
        assert!(!editable(r.get("fire_points").expect("fires")));
        assert!(!editable(r.get("inspections").expect("inspections")));
        for l in ["districts", "mines", "waste_dumps", "gangue_heaps"] {
            assert!(editable(r.get(l).expect("layer")), "{l}");
        }
    }

    #[test]
    fn a_dump_follows_its_mine_and_a_referenced_mine_stays() {
        let (conn, registry) = db();
        let conn = SqliteTx::new(&conn);
        let mines = registry.get("mines").expect("mines");
        let dumps = registry.get("waste_dumps").expect("dumps");
        let ctx = Ctx {
            registry: &registry,
            now: Utc::now(),
            lang: Lang::Zh,
        };
        let mine = create(
            &conn,
            &ctx,
            mines,
            Checked::new(mines, square(106.6, 39.4, 0.1), 100).expect("valid"),
            &props(json!({"name": "一矿", "licence_no": "C1", "holder": "甲", "kind": "open_pit", "status": "producing", "district_code": "forged"})),
        )
        .expect("mine");
        assert!(mine.areas_changed);
        let (_, stored) = conn
            .features()
            .row(mines, mine.fid)
            .expect("row")
            .expect("mine");
        assert_eq!(
            stored["district_code"], "150303",
            "derived, never taken from input"
        );
        let dump = create(
            &conn,
            &ctx,
            dumps,
            Checked::new(dumps, square(106.71, 39.4, 0.01), 100).expect("valid"),
            &props(json!({"name": "外排土场", "mine": "C1"})),
        )
        .expect("dump");
        update(
            &conn,
            &ctx,
            mines,
            mine.fid,
            None,
            &props(json!({"holder": "乙"})),
        )
        .expect("patch");
        let (_, d) = conn
            .features()
            .row(dumps, dump.fid)
            .expect("row")
            .expect("dump");
        assert_eq!(d["holder"], "乙", "the dump's holder follows its mine");
        let e = delete(&conn, &ctx, mines, mine.fid).expect_err("referenced");
        assert!(
            e.message(Lang::En).contains("外排土场"),
            "{}",
            e.message(Lang::En)
        );
        let e = update(
            &conn,
            &ctx,
            mines,
            mine.fid,
            None,
            &props(json!({"licence_no": "C2"})),
        )
        .expect_err("key in use");
        assert!(matches!(e, Error::Problem(ref p) if p.key == "still_referenced"));
        let e = create(
            &conn,
            &ctx,
            mines,
            Checked::new(mines, square(106.65, 39.6, 0.01), 100).expect("valid"),
            &props(json!({"name": "重号矿", "licence_no": "C1", "holder": "丙", "kind": "open_pit", "status": "producing"})),
        )
        .expect_err("duplicate");
        assert!(matches!(e, Error::Problem(ref p) if p.key == "duplicate_key"));
        delete(&conn, &ctx, dumps, dump.fid).expect("dump goes");
        delete(&conn, &ctx, mines, mine.fid).expect("then the mine");
        assert_eq!(conn.features().count("mines").expect("count"), 0);
    }
}

//! What follows the boundaries — the polygons responsibility is decided from — for an import and
//! an edit alike: the fields a feature derives from them (its district, a dump's holder from its
//! mine, its geodesic area) and, after a boundary changed, the features of other layers and the
//! dust monitors derived from it, then the party of every open case (`service::reroute`). Open
//! cases may not be left outside every district.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use geo::{Geometry, InteriorPoint};
use serde_json::Value;

use crate::domain::responsibility::ResponsibilityIndex;
use crate::error::{Error, Result};
use crate::layers::{Layer, Registry};
use crate::service::reroute::{self, Rerouted};
use crate::store::Tx;

/// Layers responsibility is decided from (what `store::areas` loads).
pub const AREA_LAYERS: [&str; 4] = ["districts", "mines", "waste_dumps", "gangue_heaps"];

/// The responsibility index of the polygons now in the store (this transaction's writes too).
pub fn index(tx: &dyn Tx) -> Result<ResponsibilityIndex> {
    Ok(ResponsibilityIndex::new(tx.areas().load()?))
}

/// Whether [`derive`] fills every derived field of the layer.
pub fn derivable(layer: &Layer) -> bool {
    let references = layer.fields.iter().any(|f| f.references.is_some());
    layer
        .fields
        .iter()
        .filter(|f| f.derived)
        .all(|f| match f.name.as_str() {
            "district_code" | "area_m2" => true,
            "holder" => references,
            _ => false,
        })
}

/// Fills the derived fields: the district a polygon lies in, a dump's holder from its mine, and
/// a polygon's geodesic area in m² (never planar degrees).
pub fn derive(
    layer: &Layer,
    index: &ResponsibilityIndex,
    g: &Geometry<f64>,
    values: &mut BTreeMap<String, Value>,
) -> Result<()> {
    if layer.field("district_code").is_some_and(|f| f.derived)
        && let Some(p) = g.interior_point()
        && let Some(d) = index.district_at(p)
    {
        values.insert("district_code".into(), Value::from(d.code.clone()));
    }
    if layer.field("area_m2").is_some_and(|f| f.derived)
        && let Some(area) = crate::gis::area_m2(g)
    {
        values.insert("area_m2".into(), Value::from(area));
    }
    for f in layer.fields.iter() {
        let Some(reference) = &f.references else {
            continue;
        };
        let v = values
            .get(&f.name)
            .and_then(Value::as_str)
            .unwrap_or_default();
        // Only mines are referenced today (a dump's owning mine).
        if reference == "mines.licence_no" {
            let mine = index.mine(v).ok_or_else(|| {
                Error::invalid("unknown_reference")
                    .arg("field", f.name.clone())
                    .arg("value", v)
                    .arg("layer", "mines")
            })?;
            if layer.field("holder").is_some_and(|h| h.derived) {
                values.insert(
                    "holder".into(),
                    Value::from(if mine.ownerless {
                        String::new()
                    } else {
                        mine.holder.clone()
                    }),
                );
            }
        }
    }
    Ok(())
}

/// Open fires and dust violations the polygons now in the store place outside every district.
pub fn stranded(tx: &dyn Tx) -> Result<usize> {
    reroute::stranded(tx)
}

/// [`stranded`] before a write to `layer`, if it is a responsibility layer (None for others):
/// the write may not add to them.
pub fn stranded_before(tx: &dyn Tx, layer: &Layer) -> Result<Option<usize>> {
    if AREA_LAYERS.contains(&layer.name.as_str()) {
        Ok(Some(stranded(tx)?))
    } else {
        Ok(None)
    }
}

/// A mine's holder is copied onto the features that reference it (the dumps, for the owner's
/// view of them): after a mine was updated with these `values`, they follow at once.
pub fn follow_reference(
    tx: &dyn Tx,
    registry: &Registry,
    layer: &Layer,
    values: &BTreeMap<String, Value>,
) -> Result<()> {
    let Some(key) = &layer.key else { return Ok(()) };
    let reference = format!("{}.{key}", layer.name);
    let text = |k: &str| values.get(k).and_then(Value::as_str).unwrap_or_default();
    let holder = if text("status") == "ownerless" {
        ""
    } else {
        text("holder")
    };
    for other in registry.iter() {
        let holder_derived = other.field("holder").is_some_and(|h| h.derived);
        for f in &other.fields {
            if f.references.as_deref() == Some(reference.as_str()) && holder_derived {
                tx.features().set_where(
                    other,
                    "holder",
                    &Value::from(holder),
                    &f.name,
                    text(key),
                )?;
            }
        }
    }
    Ok(())
}

/// After a write to `layer`: if it is a responsibility layer, re-derives the derived fields of
/// the features that depend on it (a dump's holder from its mine; every polygon's district from
/// the districts) and of the dust monitors, then re-routes open fires and violations, recording
/// `reason`. Returns whether the polygons changed (the in-memory index must be rebuilt) and the
/// cases that moved.
pub fn after_change(
    tx: &dyn Tx,
    registry: &Registry,
    layer: &Layer,
    now: DateTime<Utc>,
    reason: &str,
) -> Result<(bool, Vec<Rerouted>)> {
    if !AREA_LAYERS.contains(&layer.name.as_str()) {
        return Ok((false, vec![]));
    }
    let index = index(tx)?;
    let prefix = format!("{}.", layer.name);
    // Only layers whose derived fields are all derived here: the others (fires, dust monitors)
    // keep theirs through their own use cases.
    for other in registry.iter().filter(|o| {
        o.name != layer.name
            && derivable(o)
            && o.fields.iter().any(|f| {
                f.references
                    .as_deref()
                    .is_some_and(|r| r.starts_with(&prefix))
                    || (layer.name == "districts" && f.derived && f.name == "district_code")
            })
    }) {
        rederive(tx, other, &index)?;
    }
    crate::service::dust::monitors::rederive(tx, &index)?;
    let moved = reroute::reroute_open(tx, now, reason)?;
    Ok((true, moved))
}

fn rederive(tx: &dyn Tx, layer: &Layer, index: &ResponsibilityIndex) -> Result<()> {
    let features = tx.features();
    for fid in features.fids(layer)? {
        let Some((g, stored)) = features.row(layer, fid)? else {
            continue;
        };
        let mut values: BTreeMap<String, Value> = stored
            .iter()
            .filter(|(k, v)| !v.is_null() && layer.field(k).is_some_and(|f| !f.derived))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        // A reference that no longer resolves keeps the old derived values (edits refuse to
        // remove a referenced key, so this is data that was already inconsistent).
        if derive(layer, index, &g, &mut values).is_err() {
            continue;
        }
        let changed = layer.fields.iter().filter(|f| f.derived).any(|f| {
            values.get(&f.name).unwrap_or(&Value::Null)
                != stored.get(&f.name).unwrap_or(&Value::Null)
        });
        if changed {
            let mut all: BTreeMap<String, Value> = stored
                .into_iter()
                .filter(|(k, _)| layer.field(k).is_some_and(|f| !f.derived))
                .collect();
            all.extend(
                values
                    .into_iter()
                    .filter(|(k, _)| layer.field(k).is_some_and(|f| f.derived)),
            );
            features.replace(layer, fid, &g, &all)?;
        }
    }
    Ok(())
}

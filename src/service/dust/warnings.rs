//! Heavy-pollution and weather warnings (重污染天气/大风沙尘预警): a manager issues one for
//! districts and/or a drawn area and a period; every mine with a holder touching them receives a
//! production restriction (the level's measures, configurable in `dust_rules`) that its owner
//! acknowledges. Unacknowledged restrictions past their due time are flagged overdue when listed.
//! Ownerless and closed mines get none: nobody there can acknowledge, and the district
//! government already answers for them.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use geo::{Area, BoundingRect, Geometry, InteriorPoint, Intersects, MultiPolygon};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::domain::dust::reading::local_rfc3339;
use crate::domain::dust::{ACKNOWLEDGE_WITHIN_HOURS, WarningLevel, overdue, restriction_scope};
use crate::domain::event::EventKind;
use crate::domain::responsibility::ResponsibilityIndex;
use crate::domain::role::{Actor, Role};
use crate::error::{Error, Kind, Result};
use crate::service::events;
use crate::store::dust::warnings::{self as rows, NewRestriction, Tally};
use crate::store::fires::ts;
use crate::store::{self, COUNT_CAP, Slice, Tx};

/// A warning as a manager issues it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewWarning {
    pub level: String,
    #[serde(default)]
    pub districts: Vec<String>,
    /// A drawn area: a GeoJSON Polygon or MultiPolygon in lon/lat.
    #[serde(default)]
    pub area: Option<Value>,
    /// RFC 3339.
    pub from: String,
    pub to: String,
    #[serde(default)]
    pub note: Option<String>,
}

fn time(field: &'static str, s: &str) -> Result<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s.trim())
        .map(|t| t.with_timezone(&Utc))
        .map_err(|_| {
            Error::invalid("dust_bad_time")
                .arg("field", field)
                .arg("value", s.to_string())
        })
}

/// Issues a warning and its restrictions in one transaction, with a `warning` webhook.
pub fn issue(
    tx: &dyn Tx,
    index: &ResponsibilityIndex,
    actor: &Actor,
    w: &NewWarning,
    now: DateTime<Utc>,
) -> Result<Value> {
    if actor.role != Role::Manager {
        return Err(Error::forbidden());
    }
    let level = WarningLevel::parse(&w.level).ok_or_else(|| {
        Error::invalid("dust_bad_warning_level")
            .arg("value", w.level.clone())
            .arg(
                "allowed",
                WarningLevel::ALL.map(WarningLevel::as_str).join(", "),
            )
    })?;
    let (from, to) = (time("from", &w.from)?, time("to", &w.to)?);
    if to <= from {
        return Err(Error::invalid("dust_bad_period")
            .arg("from", ts(from))
            .arg("to", ts(to)));
    }
    let area = w.area.as_ref().map(parse_area).transpose()?;
    if w.districts.is_empty() && area.is_none() {
        return Err(Error::invalid("dust_warning_where"));
    }
    let mut districts = vec![];
    for code in &w.districts {
        let d = index.district_by_code(code).ok_or_else(|| {
            Error::invalid("unknown_reference")
                .arg("field", "districts")
                .arg("value", code.clone())
                .arg("layer", "districts")
        })?;
        districts.push(d);
    }
    let all = index.areas();
    if let Some(a) = &area
        && !all.districts.iter().any(|d| d.geom.intersects(a))
    {
        return Err(Error::invalid("dust_area_outside"));
    }
    let measures = crate::service::rules::dust(tx)?.measures_for(level);
    let id = tx.dust_warnings().add(&rows::NewWarning {
        level,
        districts: &w.districts,
        area: w.area.as_ref(),
        measures: &measures,
        from,
        to,
        note: w.note.as_deref(),
        issued_by: &actor.username,
        issued_at: now,
    })?;
    let due = (now + Duration::hours(ACKNOWLEDGE_WITHIN_HOURS)).timestamp();
    for m in all.mines.iter().filter(|m| !m.ownerless && !m.closed) {
        let chosen = districts.iter().find(|d| d.geom.intersects(&m.geom));
        let in_area = area.as_ref().is_some_and(|a| a.intersects(&m.geom));
        if chosen.is_none() && !in_area {
            continue;
        }
        let at = m.geom.interior_point();
        // Counted in the chosen district it touches, else in the district it lies in.
        let Some(district) = chosen.copied().or_else(|| {
            at.and_then(|p| index.district_at(p))
                .or_else(|| all.districts.iter().find(|d| d.geom.intersects(&m.geom)))
        }) else {
            continue;
        };
        tx.dust_warnings().restrict(&NewRestriction {
            warning: id,
            mine: &m.licence_no,
            mine_name: &m.name,
            holder: &m.holder,
            district_code: &district.code,
            measures: &measures,
            due,
            at,
        })?;
    }
    let restrictions: Vec<Value> =
        restrictions_json(tx, actor, tx.dust_warnings().restrictions(Some(id))?, now)?;
    let warning = json!({
        "id": id, "level": level.as_str(), "districts": w.districts, "area": w.area,
        "from": ts(from), "to": ts(to), "note": w.note, "issued_by": actor.username,
        "issued_at": ts(now), "measures": measures, "restrictions": restrictions,
    });
    events::publish(tx, EventKind::Warning, &id.to_string(), &warning)?;
    Ok(warning)
}

/// Largest drawn area accepted, in vertices: a hand-drawn outline has tens.
const MAX_AREA_VERTICES: usize = 10_000;

/// A drawn area: a GeoJSON Polygon or MultiPolygon in lon/lat, with some extent.
pub fn parse_area(v: &Value) -> Result<MultiPolygon<f64>> {
    let bad = |detail: String| Error::invalid("dust_bad_area").arg("detail", detail);
    let kind = v.get("type").and_then(Value::as_str).unwrap_or_default();
    if !matches!(kind, "Polygon" | "MultiPolygon") {
        return Err(bad(format!("{kind:?} is not a Polygon or MultiPolygon")));
    }
    let g: geojson::Geometry = serde_json::from_value(v.clone()).map_err(|e| bad(e.to_string()))?;
    let mp = match crate::gis::geometry_from_geojson(&g.value).map_err(bad)? {
        Geometry::Polygon(p) => MultiPolygon(vec![p]),
        Geometry::MultiPolygon(mp) => mp,
        _ => return Err(bad(format!("{kind:?} is not a Polygon or MultiPolygon"))),
    };
    let vertices: usize =
        mp.0.iter()
            .map(|p| p.exterior().0.len() + p.interiors().iter().map(|r| r.0.len()).sum::<usize>())
            .sum();
    if vertices > MAX_AREA_VERTICES {
        return Err(bad(format!(
            "{vertices} vertices, at most {MAX_AREA_VERTICES}"
        )));
    }
    let Some(r) = mp.bounding_rect() else {
        return Err(bad("empty".into()));
    };
    if r.min().x < -180.0 || r.max().x > 180.0 || r.min().y < -90.0 || r.max().y > 90.0 {
        return Err(bad(
            "coordinates must be longitude, latitude in degrees".into()
        ));
    }
    if mp.unsigned_area() <= 0.0 {
        return Err(bad("the area has no extent".into()));
    }
    Ok(mp)
}

/// Restrictions as `reader` sees them: whether in force, overdue, and their checks.
fn restrictions_json(
    tx: &dyn Tx,
    reader: &Actor,
    rs: Vec<rows::Restriction>,
    now: DateTime<Utc>,
) -> store::Result<Vec<Value>> {
    let ids: Vec<i64> = rs.iter().map(|r| r.id).collect();
    let checks = super::checks::by_restriction(tx, reader, &ids)?;
    let now_s = ts(now);
    Ok(rs
        .into_iter()
        .map(|r| {
            json!({
                "id": r.id,
                "warning": r.warning,
                "level": r.level,
                "active": r.from <= now_s && now_s < r.to,
                "from": r.from,
                "to": r.to,
                "mine": r.mine,
                "mine_name": r.mine_name,
                "holder": r.holder,
                "district_code": r.district_code,
                "measures": r.measures,
                "due": local_rfc3339(r.due),
                "acknowledged_at": r.acknowledged_at,
                "acknowledged_by": r.acknowledged_by,
                "overdue": overdue(r.due, r.acknowledged_at.is_some(), now.timestamp()),
                "position": r.position,
                "checks": checks.get(&r.id).cloned().unwrap_or_default(),
            })
        })
        .collect())
}

/// One page of the restrictions an actor may see, newest first, each with `overdue`: the page,
/// whether more follow, and how many there are (when counting is cheap).
pub fn list(
    tx: &dyn Tx,
    actor: &Actor,
    now: DateTime<Utc>,
    slice: Slice,
) -> store::Result<(Vec<Value>, bool, Option<usize>)> {
    let scope = restriction_scope(actor);
    let (page, more) = tx.dust_warnings().restrictions_page(&scope, slice)?;
    let matched = match slice.total(page.len(), more) {
        Some(n) => Some(n),
        None => tx.dust_warnings().restrictions_count(&scope, COUNT_CAP)?,
    };
    Ok((restrictions_json(tx, actor, page, now)?, more, matched))
}

/// An owner acknowledges its mine's restriction: 404 unseen, 403 for another role, 409 twice.
pub fn acknowledge(tx: &dyn Tx, actor: &Actor, id: i64, now: DateTime<Utc>) -> Result<Value> {
    let r = super::checks::restriction_seen(tx, actor, id)?;
    if actor.role != Role::Owner {
        return Err(Error::forbidden());
    }
    if let Some(at) = r.acknowledged_at {
        return Err(Error::new(Kind::Conflict, "dust_already_acknowledged").arg("at", at));
    }
    tx.dust_warnings().acknowledge(id, &actor.username, now)?;
    let now_seen = tx.dust_warnings().restriction(id)?.into_iter().collect();
    restrictions_json(tx, actor, now_seen, now)?
        .pop()
        .ok_or_else(|| Error::not_found("dust_restriction"))
}

/// An owner acknowledges every restriction one warning put on its mines at once: those not yet
/// acknowledged are, in one transaction. 404 when it has none of that warning, 403 for another
/// role; a retry acknowledges nothing more and answers the same restrictions.
pub fn acknowledge_warning(
    tx: &dyn Tx,
    actor: &Actor,
    warning: i64,
    now: DateTime<Utc>,
) -> Result<Value> {
    if actor.role != Role::Owner {
        return Err(Error::forbidden());
    }
    let store = tx.dust_warnings();
    let mine = store.restrictions_of(warning, &restriction_scope(actor))?;
    if mine.is_empty() {
        return Err(Error::not_found("dust_restriction"));
    }
    let waiting: Vec<i64> = mine
        .iter()
        .filter(|r| r.acknowledged_at.is_none())
        .map(|r| r.id)
        .collect();
    for id in &waiting {
        store.acknowledge(*id, &actor.username, now)?;
    }
    let after = store.restrictions_of(warning, &restriction_scope(actor))?;
    Ok(json!({
        "acknowledged": waiting.len(),
        "restrictions": restrictions_json(tx, actor, after, now)?,
    }))
}

/// One page of the warnings, newest first, each with its restrictions counted as the actor may
/// see them (a warning itself is a public notice; which mines it restricts is not): the page,
/// whether more follow, and how many there are (when counting is cheap).
pub fn warnings(
    tx: &dyn Tx,
    actor: &Actor,
    now: DateTime<Utc>,
    slice: Slice,
) -> store::Result<(Vec<Value>, bool, Option<usize>)> {
    let (page, more) = tx.dust_warnings().page(slice)?;
    let matched = match slice.total(page.len(), more) {
        Some(n) => Some(n),
        None => tx.dust_warnings().count(COUNT_CAP)?,
    };
    let ids: Vec<i64> = page.iter().map(|w| w.id).collect();
    let tallies: HashMap<i64, Tally> = tx
        .dust_warnings()
        .tallies(&restriction_scope(actor), &ids, now.timestamp())?
        .into_iter()
        .collect();
    let now_s = ts(now);
    let out = page
        .into_iter()
        .map(|w| {
            let t = tallies.get(&w.id).copied().unwrap_or_default();
            json!({
                "id": w.id,
                "level": w.level,
                "districts": w.districts,
                "area": w.area,
                "active": w.from <= now_s && now_s < w.to,
                "from": w.from,
                "to": w.to,
                "note": w.note,
                // Only managers issue warnings.
                "issued_by": actor
                    .sees_names_of(Role::Manager.as_str())
                    .then_some(&w.issued_by),
                "issued_at": w.issued_at,
                "measures": w.measures,
                "restrictions": t.restrictions,
                "acknowledged": t.acknowledged,
                "overdue": t.overdue,
            })
        })
        .collect();
    Ok((out, more, matched))
}

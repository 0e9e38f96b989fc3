//! The `dust_alerts` layer: every alert case as a point at its monitor, so GIS clients and OGC
//! API see alerts beside fires and monitors. Written only from here, in the transaction that
//! changes the case, so the map never disagrees with `/api/dust/alerts`.

use rusqlite::{Connection, OptionalExtension, params};
use serde_json::Value;

use crate::domain::responsibility::Responsible;
use crate::store;

/// Writes (or rewrites) the map feature of alert case `id`. An alert whose monitor has no
/// position gets no feature: there is nowhere to draw it.
pub fn project(tx: &Connection, id: i64) -> store::Result<()> {
    type Case = (
        String,
        String,
        String,
        f64,
        f64,
        String,
        String,
        String,
        String,
        String,
    );
    let case: Option<Case> = tx
        .query_row(
            "SELECT mn, pollutant, win, value, limit_value, status, responsible, attribution,
                    created_at, updated_at
             FROM dust_alert_cases WHERE id = ?1",
            [id],
            |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                    r.get(6)?,
                    r.get(7)?,
                    r.get(8)?,
                    r.get(9)?,
                ))
            },
        )
        .optional()?;
    let Some((
        mn,
        pollutant,
        win,
        value,
        limit,
        status,
        responsible,
        attribution,
        created,
        updated,
    )) = case
    else {
        return Ok(());
    };
    // The monitor's own geometry blob: same table SRS, so it is copied as it is.
    let geom: Option<Vec<u8>> = tx
        .query_row("SELECT geom FROM dust_monitors WHERE mn = ?1", [&mn], |r| {
            r.get(0)
        })
        .optional()?
        .flatten();
    let Some(geom) = geom else {
        return Ok(());
    };
    let resp: Responsible = serde_json::from_str(&responsible)
        .map_err(|e| store::StoreError::Corrupt(format!("alert {id} responsible: {e}")))?;
    let why = serde_json::from_str::<Value>(&attribution)
        .ok()
        .and_then(|a| a["text"].as_str().map(String::from));
    let party = serde_json::to_value(resp.party)
        .ok()
        .and_then(|p| p.as_str().map(String::from));
    let values = params![
        id,
        geom,
        mn,
        pollutant,
        win,
        value,
        limit,
        status,
        party,
        resp.name,
        resp.holder(),
        resp.district_code,
        resp.mine,
        why,
        created,
        updated
    ];
    // An update, else an insert: an upsert would run the R-tree triggers under the outer
    // statement's conflict rule and fail on the index row.
    let changed = tx.execute(
        "UPDATE dust_alerts SET geom = ?2, alert_id = ?1, mn = ?3, pollutant = ?4, \"window\" = ?5,
                value = ?6, limit_value = ?7, status = ?8, responsible_party = ?9,
                responsible_name = ?10, holder = ?11, district_code = ?12, mine = ?13,
                attribution = ?14, created_at = ?15, updated_at = ?16
         WHERE fid = ?1",
        values,
    )?;
    if changed == 0 {
        tx.execute(
            "INSERT INTO dust_alerts(fid, geom, alert_id, mn, pollutant, \"window\", value,
                    limit_value, status, responsible_party, responsible_name, holder,
                    district_code, mine, attribution, created_at, updated_at)
             VALUES (?1, ?2, ?1, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)",
            values,
        )?;
        crate::store::gpkg::update_extent(tx, "dust_alerts")?;
    }
    Ok(())
}

/// Draws the cases that have no feature yet (alerts raised before the layer existed).
pub fn project_missing(tx: &Connection) -> store::Result<usize> {
    let ids: Vec<i64> = tx
        .prepare(
            "SELECT c.id FROM dust_alert_cases c
             WHERE NOT EXISTS (SELECT 1 FROM dust_alerts a WHERE a.fid = c.id)",
        )?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    for id in &ids {
        project(tx, *id)?;
    }
    Ok(ids.len())
}

//! The `dust_alerts` layer: every alert case as a point at its monitor, so GIS clients and OGC
//! API see alerts beside fires and monitors. Written only from here, in the transaction that
//! changes the case, so the map never disagrees with `/api/dust/alerts`.

use serde_json::Value;

use crate::domain::responsibility::Responsible;
use crate::store::dust::alerts::Feature;
use crate::store::{self, Tx};

/// Writes (or rewrites) the map feature of alert case `id`. An alert whose monitor has no
/// position gets no feature: there is nowhere to draw it.
pub fn project(tx: &dyn Tx, id: i64) -> store::Result<()> {
    let Some(case) = tx.dust_alerts().get(id)? else {
        return Ok(());
    };
    let resp: Responsible = serde_json::from_value(case.responsible.clone())
        .map_err(|e| store::StoreError::Corrupt(format!("alert {id} responsible: {e}")))?;
    let party = serde_json::to_value(resp.party).ok();
    tx.dust_alerts().draw(&Feature {
        case: &case,
        party: party.as_ref().and_then(Value::as_str),
        responsible_name: &resp.name,
        holder: resp.holder(),
        district_code: &resp.district_code,
        mine: resp.mine.as_deref(),
        why: case.attribution["text"].as_str(),
    })?;
    Ok(())
}

/// Draws the cases that have no feature yet (alerts raised before the layer existed).
pub fn project_missing(tx: &dyn Tx) -> store::Result<usize> {
    let ids = tx.dust_alerts().undrawn()?;
    for id in &ids {
        project(tx, *id)?;
    }
    Ok(ids.len())
}

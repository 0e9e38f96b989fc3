//! Clearance counts ("dynamic zero") for the user's fires, now or as of a past day, and the
//! daily burn-down series.

use std::collections::{HashMap, HashSet};

use crate::http::routes::Routes;
use axum::Json;
use axum::extract::{Query, State};
use chrono::{Duration, NaiveDate, Utc};
use serde_json::{Value, json};

use super::error::ApiError;
use super::extract::User;
use crate::app::App;
use crate::domain::access::{Scope, fire_scope};
use crate::domain::clearance::{DistrictInfo, MineInfo, Timeline};
use crate::domain::deadline::{end_of_local_day, local_date};
use crate::domain::role::Actor;
use crate::error::Error;
use crate::service::fires::watch_since;
use crate::store::features::Visible;
use crate::store::fires::FireFilter;

pub fn router() -> Routes {
    Routes::new()
        .get("/api/clearance", clearance)
        .get("/api/clearance/daily", daily)
}

fn date(q: &HashMap<String, String>, name: &'static str) -> Result<Option<NaiveDate>, Error> {
    q.get(name)
        .filter(|s| !s.is_empty())
        .map(|s| {
            NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| Error::bad_request("bad_date"))
        })
        .transpose()
}

/// The event log of the fires this user may see. Patrols count every fire (counts are not
/// sensitive), and get with it the ids of the fires they may see now, for the lists; owners and
/// district officers their own.
async fn timeline(
    app: &App,
    actor: &Actor,
) -> Result<(Timeline, Option<HashSet<String>>), ApiError> {
    let layer = app
        .registry
        .get("fire_points")
        .cloned()
        .ok_or_else(|| ApiError(Error::not_found("layer")))?;
    let index = app.index();
    let districts = index
        .areas()
        .districts
        .iter()
        .map(|d| DistrictInfo {
            code: d.code.clone(),
            name: d.name.clone(),
        })
        .collect();
    let mines = index
        .areas()
        .mines
        .iter()
        .map(|m| MineInfo {
            licence_no: m.licence_no.clone(),
            name: m.name.clone(),
            holder: m.holder.clone(),
            ownerless: m.ownerless,
        })
        .collect();
    let own = fire_scope(actor);
    let scope = match &own {
        Scope::Open => Scope::All,
        s => s.clone(),
    };
    let since = watch_since(Utc::now(), &app.rules);
    let (changes, fires, seen) = app
        .db
        .read(move |c| {
            let visible = |scope| FireFilter {
                visible: Some(Visible::new(&layer, scope, &since)),
                ..FireFilter::default()
            };
            let (changes, fires) = c.fires().changes(&visible(&scope))?;
            let seen = if own == scope {
                None
            } else {
                let ids = c.fires().list(&visible(&own))?.into_iter().map(|f| f.id);
                Some(ids.collect())
            };
            Ok::<_, Error>((changes, fires, seen))
        })
        .await?;
    Ok((Timeline::new(changes, fires, districts, mines), seen))
}

async fn clearance(
    State(app): State<App>,
    User(actor): User,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let now = Utc::now();
    // "As of D" is the last moment of local day D; today (or later) is now.
    let at = match date(&q, "at")?.map(end_of_local_day) {
        Some(end) if end <= now => end - Duration::seconds(1),
        _ => now,
    };
    let (tl, seen) = timeline(&app, &actor).await?;
    let mut c = tl.at(at);
    if let Some(seen) = &seen {
        c.only_fires(seen);
    }
    Ok(Json(serde_json::to_value(c).unwrap_or(Value::Null)))
}

async fn daily(
    State(app): State<App>,
    User(actor): User,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let today = local_date(Utc::now());
    let to = date(&q, "to")?.unwrap_or(today).min(today);
    let from = date(&q, "from")?.unwrap_or(to - Duration::days(89));
    if from > to || (to - from).num_days() > 3660 {
        return Err(ApiError(
            Error::bad_request("bad_query")
                .arg("param", "from")
                .arg("detail", "from <= to, at most 10 years"),
        ));
    }
    let (tl, _) = timeline(&app, &actor).await?;
    Ok(Json(
        json!({"from": from, "to": to, "days": tl.daily(from, to)}),
    ))
}

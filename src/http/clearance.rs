//! Clearance counts ("dynamic zero") for the user's fires, now or as of a past day, and the
//! daily burn-down series — answered from the store's read model, so their cost is what is
//! open then, whatever the length of the history. The lists (by mine, suspended mines, overdue
//! fires) come a page at a time.

use std::collections::{HashMap, HashSet};

use crate::http::routes::Routes;
use axum::Json;
use axum::extract::{Query, State};
use chrono::{Duration, NaiveDate, Utc};
use serde_json::{Value, json};

use super::error::ApiError;
use super::extract::User;
use crate::app::App;
use crate::domain::access::fire_scope;
use crate::domain::deadline::local_date;
use crate::error::Error;
use crate::service::clearance as service;
use crate::service::fires::watch_since;
use crate::store::features::Visible;
use crate::store::fires::FireFilter;

pub fn router() -> Routes {
    Routes::new()
        .get("/api/clearance", clearance)
        .get("/api/clearance/daily", daily)
}

/// A list's page size when none is asked for, and the most one page holds.
const PAGE: usize = 50;
const MAX_PAGE: usize = 500;

fn date(q: &HashMap<String, String>, name: &'static str) -> Result<Option<NaiveDate>, Error> {
    q.get(name)
        .filter(|s| !s.is_empty())
        .map(|s| {
            NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| Error::bad_request("bad_date"))
        })
        .transpose()
}

fn number(
    q: &HashMap<String, String>,
    name: &'static str,
    default: usize,
    max: usize,
) -> Result<usize, Error> {
    match q.get(name).filter(|s| !s.is_empty()) {
        None => Ok(default),
        Some(s) => super::paging::whole_number(
            s,
            name,
            |n| *n <= max,
            || format!("a whole number from 0 to {max}"),
        ),
    }
}

/// Keeps one page of a list (the query's `{name}_limit` and `{name}_offset`) and says where the
/// list stands: its total, the page, and the query of the next page (if any). Cut before the
/// answer is serialized, so only the page is ever turned into JSON.
fn page<T>(
    items: &mut Vec<T>,
    name: &'static str,
    q: &HashMap<String, String>,
) -> Result<Value, Error> {
    let (limit_param, offset_param) = match name {
        "mines" => ("mines_limit", "mines_offset"),
        "suspended" => ("suspended_limit", "suspended_offset"),
        _ => ("overdue_limit", "overdue_offset"),
    };
    let limit = number(q, limit_param, PAGE, MAX_PAGE)?;
    let offset = number(q, offset_param, 0, usize::MAX)?;
    let total = items.len();
    items.drain(..offset.min(total));
    items.truncate(limit);
    let kept = items.len();
    let next = (offset + kept < total).then(|| {
        let mut params: Vec<(String, String)> = q
            .iter()
            .filter(|(k, _)| *k != &format!("{name}_offset"))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        params.push((format!("{name}_offset"), (offset + kept).to_string()));
        params.sort();
        let query: String = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(params)
            .finish();
        format!("/api/clearance?{query}")
    });
    Ok(json!({"total": total, "offset": offset, "limit": limit, "next": next}))
}

async fn clearance(
    State(app): State<App>,
    User(actor): User,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Json<Value>, ApiError> {
    let now = Utc::now();
    let day = date(&q, "at")?;
    let today = local_date(now);
    if day.is_some_and(|d| d > today) {
        return Err(ApiError(
            Error::bad_request("date_in_future").arg("today", today.to_string()),
        ));
    }
    let names = app.names();
    let (layer, rules) = (
        app.registry.shared("fire_points").cloned(),
        app.rules.clone(),
    );
    let (mut c, since) = app
        .db
        .read(move |tx| -> Result<_, Error> {
            let since = tx.counts().first_event()?.map(local_date);
            let c = service::for_reader(tx, &actor, &names, day, now, |tx, listed| {
                // A patrol's lists keep the fires it may see now.
                let Some(layer) = &layer else {
                    return Ok(HashSet::new());
                };
                let (scope, since) = (fire_scope(&actor), watch_since(now, &rules));
                let seen = tx.fires().list(&FireFilter {
                    visible: Some(Visible::new(layer, &scope, &since)),
                    ids: Some(listed),
                    ..FireFilter::default()
                })?;
                Ok(seen.into_iter().map(|f| f.id).collect())
            })?;
            Ok((c, since))
        })
        .await?;
    let pages = json!({
        "by_mine": page(&mut c.by_mine, "mines", &q)?,
        "suspended_mines": page(&mut c.suspended_mines, "suspended", &q)?,
        "overdue": page(&mut c.overdue, "overdue", &q)?,
    });
    // Who urged the page's overdue fires, and when (by the moment asked about).
    let (ids, at): (Vec<String>, _) = (c.overdue.iter().map(|o| o.id.clone()).collect(), c.at);
    let urges = app
        .db
        .read(move |tx| service::last_urges(tx, &ids, at))
        .await?;
    let mut v = serde_json::to_value(c).unwrap_or(Value::Null);
    v["pages"] = pages;
    if let Some(rows) = v["overdue"].as_array_mut() {
        for row in rows {
            let urged = row["id"].as_str().and_then(|id| urges.get(id)).cloned();
            row["urged"] = urged.unwrap_or(Value::Null);
        }
    }
    // Before the first record nothing was counted: its zero is not a measured "dynamic zero",
    // and the answer says so (the web shows why instead of the zero).
    v["data_since"] = json!(since.map(|d| d.to_string()));
    v["before_records"] = json!(matches!((day, since), (Some(d), Some(first)) if d < first));
    Ok(Json(v))
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
    let days = app
        .db
        .read(move |tx| service::daily(tx, &actor, from, to))
        .await?;
    Ok(Json(json!({"from": from, "to": to, "days": days})))
}

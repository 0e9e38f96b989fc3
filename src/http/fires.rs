//! Fire reports and their life: `POST /api/fires`, `GET /api/fires[/{id}]`,
//! `POST /api/fires/{id}/events`.

use std::borrow::Cow;
use std::collections::HashMap;

use crate::http::routes::Routes;
use axum::extract::{Query, State};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use super::case::{self, Kind};
use super::error::ApiError;
use super::extract::User;
use super::paging::{self, Bounds};
use crate::app::App;
use crate::domain::access::fire_scope;
use crate::domain::deadline::end_of_local_day;
use crate::domain::fire::{Rules, Status};
use crate::domain::role::Actor;
use crate::error::Error;
use crate::service::fires::{self as service, ActionInput, Ctx};
use crate::store::Tx;
use crate::store::features::Visible;
use crate::store::fires::{self as store, FireFilter, FireOrder};
use crate::store::photos::Subject;

pub fn router() -> Routes {
    Routes::new()
        .post("/api/fires", case::report::<Fires>)
        .get("/api/fires", list)
        .get("/api/fires/{id}", case::show::<Fires>)
        .post("/api/fires/{id}/events", case::act::<Fires>)
        .get("/api/rules", rules)
}

/// The rules in force, for forms and hints (threshold, radius, GPS limit, treatment methods).
async fn rules(State(app): State<App>, User(_): User) -> axum::Json<Value> {
    axum::Json(json!({
        "rules": *app.rules,
        "methods": crate::domain::fire::METHODS,
        "max_gps_accuracy_m": service::MAX_GPS_ACCURACY_M,
    }))
}

/// Fire points as cases: decided by the rules the app loaded at start.
pub struct Fires;

impl Kind for Fires {
    type Rules = Rules;
    type Action = ActionInput;
    const SUBJECT: Subject = Subject::Fire;
    const NOT_FOUND: &'static str = "fire";

    fn in_force<'a>(_: &dyn Tx, app: &'a App) -> Result<Cow<'a, Rules>, Error> {
        Ok(Cow::Borrowed(&app.rules))
    }

    /// The new fire, with how many open and cleared fires lie near it.
    fn report(
        tx: &dyn Tx,
        ctx: &Ctx,
        actor: &Actor,
        body: &Value,
        now: DateTime<Utc>,
    ) -> Result<(bool, Value), Error> {
        let r = service::report(tx, ctx, actor, body, now)?;
        let state = tx.fires().state(&r.fire)?;
        let mut feature = service::feature(&r.fire, actor, now, ctx.rules, Some(&state));
        if let Some(p) = feature.get_mut("properties").and_then(Value::as_object_mut) {
            p.insert("nearby_open".into(), json!(r.nearby_open));
            p.insert("nearby_cleared".into(), json!(r.nearby_cleared));
        }
        Ok((r.created, feature))
    }

    fn act(
        tx: &dyn Tx,
        ctx: &Ctx,
        actor: &Actor,
        id: &str,
        input: &ActionInput,
        now: DateTime<Utc>,
    ) -> Result<Value, Error> {
        let f = service::act(tx, ctx, actor, id, input, now)?;
        // The actor may no longer see it (a reassigned fire): answer with what they did see.
        let state = tx.fires().state(&f)?;
        Ok(service::feature(&f, actor, now, ctx.rules, Some(&state)))
    }

    fn find(
        c: &dyn Tx,
        app: &App,
        reader: &Actor,
        id: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<(Value, Value, String)>, Error> {
        let Some(f) = c
            .fires()
            .get(id)?
            .filter(|f| service::visible(reader, f, now, &app.rules))
        else {
            return Ok(None);
        };
        let state = c.fires().state(&f)?;
        let feature = service::feature(&f, reader, now, &app.rules, Some(&state));
        let events = json!(service::events_for(c.fires().events(&f.id)?, reader));
        Ok(Some((feature, events, f.id)))
    }
}

/// A fire's status and deadline at a past moment.
type AsOf = (Status, Option<chrono::DateTime<chrono::Utc>>);

/// Whether a status passes the `status` filter: a status, or `burning` / `open`.
fn status_matches(filter: Option<&str>, status: Status) -> bool {
    match filter {
        None | Some("") => true,
        Some("burning") => status.is_burning(),
        Some("open") => status.is_open(),
        Some(s) => s == status.as_str(),
    }
}

/// The page sizes of `GET /api/fires`.
pub const PAGE: Bounds = Bounds::USUAL;

/// The fires this user may see, as GeoJSON, soonest deadline first, one page at a time
/// (`limit`, `offset`; see [`super::paging`]). Filters: `status` (a status, or `burning` /
/// `open`), `kind`, `district`, `bbox`; `at=YYYY-MM-DD` gives each fire's status as of the end of
/// that day, recomputed from the events (fires reported later are left out).
async fn list(
    State(app): State<App>,
    User(actor): User,
    Query(q): Query<HashMap<String, String>>,
) -> Result<axum::Json<Value>, ApiError> {
    let now = chrono::Utc::now();
    let rules = app.rules.clone();
    let layer = app.registry.lookup("fire_points").cloned()?;
    let bbox = q
        .get("bbox")
        .map(|s| super::collections::parse_bbox(s))
        .transpose()?;
    let status = q.get("status").filter(|s| !s.is_empty()).cloned();
    if let Some(s) = &status
        && !matches!(s.as_str(), "burning" | "open")
        && Status::parse(s).is_none()
    {
        return Err(ApiError(
            Error::bad_request("bad_query")
                .arg("param", "status")
                .arg("detail", "burning, open, reported, …"),
        ));
    }
    let at = match q.get("at").filter(|s| !s.is_empty()) {
        None => None,
        Some(d) => {
            let day = chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
                .map_err(|_| ApiError(Error::bad_request("bad_date")))?;
            Some(end_of_local_day(day).min(now))
        }
    };
    let slice = paging::slice(&q, PAGE)?;
    let query = q.clone();
    let v = app
        .db
        .read(move |c| {
            let param = |k: &str| q.get(k).filter(|v| !v.is_empty()).cloned();
            let (scope, since) = (fire_scope(&actor), service::watch_since(now, &rules));
            let mut filter = FireFilter {
                visible: Some(Visible::new(&layer, &scope, &since)),
                kind: param("kind"),
                district: param("district"),
                bbox,
                ..FireFilter::default()
            };
            let statuses = status.as_deref().map(|s| {
                Status::ALL
                    .into_iter()
                    .filter(|x| status_matches(Some(s), *x))
                    .collect::<Vec<_>>()
            });
            let (rows, more, matched): (Vec<(store::FireRecord, Option<AsOf>)>, _, _) = match at {
                None => {
                    // Now: the status filter is the store's, and the store cuts the page.
                    filter.statuses = statuses;
                    let (page, more) = c.fires().page(&filter, FireOrder::Deadline, slice)?;
                    let matched = paging::matched(slice, page.len(), more, || {
                        c.fires().count(&filter, paging::COUNT_CAP)
                    })?;
                    (page.into_iter().map(|f| (f, None)).collect(), more, matched)
                }
                Some(at) => {
                    // As of a past moment: each fire's status and deadline from its events up
                    // to then; the status filter applies to that status.
                    let then = store::Then { at, statuses };
                    let (page, more) = c.fires().page_as_of(&filter, &then, slice)?;
                    let matched = paging::matched(slice, page.len(), more, || {
                        c.fires().count_as_of(&filter, &then, paging::COUNT_CAP)
                    })?;
                    let rows = page
                        .into_iter()
                        .map(|f| (f.fire, Some((f.status, f.deadline))))
                        .collect();
                    (rows, more, matched)
                }
            };
            let mut features = Vec::with_capacity(rows.len());
            for (f, then) in rows {
                // As of a past moment no action is offered: the rules' state is not needed.
                let state = match at {
                    None => c.fires().state(&f).ok(),
                    Some(_) => None,
                };
                let mut feature = service::feature(&f, &actor, now, &rules, state.as_ref());
                if let (Some(t), Some((then, deadline)), Some(p)) = (
                    at,
                    then,
                    feature.get_mut("properties").and_then(Value::as_object_mut),
                ) {
                    p.insert("status".into(), json!(then));
                    p.insert("burning".into(), json!(then.is_burning()));
                    p.insert("deadline".into(), json!(deadline.map(store::ts)));
                    p.insert(
                        "overdue".into(),
                        json!(then.is_burning() && deadline.is_some_and(|d| d < t)),
                    );
                    // Nothing dated after the moment asked for.
                    for k in ["controlled_at", "cleared_at", "updated_at"] {
                        let later = p
                            .get(k)
                            .and_then(Value::as_str)
                            .is_some_and(|v| v > store::ts(t).as_str());
                        if later {
                            p.insert(k.into(), Value::Null);
                        }
                    }
                    p.insert("as_of".into(), json!(store::ts(t)));
                    p.insert("allowed_actions".into(), json!([]));
                }
                features.push(feature);
            }
            let list = (features, more, matched);
            Ok::<_, Error>(paging::Page::features("/api/fires", &query, slice, list))
        })
        .await?;
    Ok(axum::Json(v))
}

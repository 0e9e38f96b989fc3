//! The audit log over HTTP: the middleware that records every write request, and for managers
//! `GET /api/audit?actor=&action=&from=&to=&limit=&offset=` and `GET /api/audit.csv` (streamed).

use std::collections::HashMap;

use super::routes::Routes;
use axum::body::Body;
use axum::extract::{MatchedPath, Query, RawPathParams, Request, State};
use axum::http::{Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde_json::Value;

use super::error::ApiError;
use super::extract::{Manager, SeenActor, peer};
use super::paging::{self, Bounds};
use crate::app::App;

use crate::error::Error;
use crate::store::audit::{Entry, Filter, Row};

pub fn router() -> Routes {
    Routes::new()
        .get("/api/audit", list)
        .get("/api/audit.csv", csv)
}

/// Put on a response whose handler wrote its own, more telling, audit entry (sign-in, account
/// changes), so the middleware does not write a second one.
#[derive(Clone, Copy)]
pub struct Audited;

/// Records every write request (not GET/HEAD/OPTIONS): who (the session's user, as the [`User`]
/// extractor found it), from where, the method, the route as declared and its parameters, and
/// the answer's status.
pub async fn record_writes(State(app): State<App>, req: Request, next: Next) -> Response {
    if matches!(*req.method(), Method::GET | Method::HEAD | Method::OPTIONS) {
        return next.run(req).await;
    }
    let (mut parts, body) = req.into_parts();
    let route = parts
        .extensions
        .get::<MatchedPath>()
        .map(|m| m.as_str().to_string());
    let target = {
        use axum::extract::FromRequestParts;
        RawPathParams::from_request_parts(&mut parts, &())
            .await
            .ok()
            .map(|p| {
                p.iter()
                    .map(|(k, v)| format!("{k}={v}"))
                    .collect::<Vec<_>>()
                    .join("&")
            })
            .filter(|t| !t.is_empty())
    };
    let address = peer(&parts).map(|a| a.to_string());
    let method = parts.method.to_string();
    let seen = SeenActor::default();
    parts.extensions.insert(seen.clone());
    let res = next.run(Request::from_parts(parts, body)).await;
    if res.extensions().get::<Audited>().is_some() {
        return res;
    }
    let entry = Entry {
        actor: seen.0.get().cloned(),
        address,
        action: "request".into(),
        method: Some(method),
        route,
        target,
        status: Some(res.status().as_u16()),
        detail: None,
    };
    let now = Utc::now();
    if let Err(e) = app.db.write(move |tx| tx.audit().record(now, &entry)).await {
        tracing::error!(error = %e, "audit entry not written");
    }
    res
}

/// Writes one entry (handlers with more to say than the middleware).
pub async fn write(app: &App, entry: Entry) -> Result<(), ApiError> {
    let now = Utc::now();
    app.db
        .write(move |tx| tx.audit().record(now, &entry))
        .await?;
    Ok(())
}

fn time_param(
    q: &HashMap<String, String>,
    name: &'static str,
) -> Result<Option<DateTime<Utc>>, ApiError> {
    match q.get(name).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => DateTime::parse_from_rfc3339(v)
            .map(|t| Some(t.with_timezone(&Utc)))
            .map_err(|_| {
                ApiError(
                    Error::invalid("bad_query")
                        .arg("param", name)
                        .arg("detail", "RFC 3339, e.g. 2026-05-01T00:00:00+08:00"),
                )
            }),
    }
}

fn filter(q: &HashMap<String, String>) -> Result<Filter, ApiError> {
    let text = |k: &str| q.get(k).filter(|v| !v.is_empty()).cloned();
    Ok(Filter {
        actor: text("actor"),
        action: text("action"),
        from: time_param(q, "from")?,
        to: time_param(q, "to")?,
    })
}

/// The page sizes of `GET /api/audit`.
pub const PAGE: Bounds = Bounds::USUAL;

/// The log, newest first, one page at a time (`limit`, `offset`).
async fn list(
    State(app): State<App>,
    _: Manager,
    Query(q): Query<HashMap<String, String>>,
) -> Result<axum::Json<serde_json::Value>, ApiError> {
    let f = filter(&q)?;
    let list = ("/api/audit", "entries");
    paging::serve(&app.db, &q, PAGE, list, move |c, slice| {
        let page = c.audit().page(&f, slice.limit, slice.offset);
        page.map(|(rows, more)| (rows, more, None))
    })
    .await
}

/// Rows read from the database per step of the export.
const CSV_CHUNK: usize = 500;

/// The whole (filtered) log as CSV, oldest first, read and sent in chunks.
async fn csv(
    State(app): State<App>,
    _: Manager,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let f = filter(&q)?;
    let first = futures_util::stream::once(async {
        Ok::<_, std::io::Error>(axum::body::Bytes::from_static(
            // A BOM lets spreadsheet programs read the Chinese text as UTF-8.
            "\u{feff}".as_bytes(),
        ))
    });
    let header = futures_util::stream::once(async {
        Ok::<_, std::io::Error>(axum::body::Bytes::from_static(CSV_HEADER.as_bytes()))
    });
    let rows = futures_util::stream::try_unfold(Some(0i64), move |after| {
        let db = app.db.clone();
        let f = f.clone();
        async move {
            let Some(after) = after else {
                return Ok(None);
            };
            let chunk = db
                .read(move |c| c.audit().chunk(&f, after, CSV_CHUNK))
                .await
                .map_err(std::io::Error::other)?;
            let next = (chunk.len() == CSV_CHUNK)
                .then(|| chunk.last().map(|r| r.id))
                .flatten();
            if chunk.is_empty() {
                return Ok(None);
            }
            let text: String = chunk.iter().map(csv_line).collect();
            Ok(Some((axum::body::Bytes::from(text), next)))
        }
    });
    use futures_util::StreamExt;
    let body = Body::from_stream(first.chain(header).chain(rows));
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"audit.csv\"",
            ),
        ],
        body,
    )
        .into_response())
}

/// A CSV cell: quoted when needed, and a leading `=`, `+`, `-`, `@` (or tab, CR) prefixed with
/// `'` so a spreadsheet shows it as text instead of running it as a formula.
fn csv_cell(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

const CSV_HEADER: &str = "id,at,actor,address,action,method,route,target,status,detail\r\n";

/// One entry as a CSV line.
fn csv_line(row: &Row) -> String {
    let r = &row.entry;
    let cells = [
        row.id.to_string(),
        row.at.clone(),
        r.actor.clone().unwrap_or_default(),
        r.address.clone().unwrap_or_default(),
        r.action.clone(),
        r.method.clone().unwrap_or_default(),
        r.route.clone().unwrap_or_default(),
        r.target.clone().unwrap_or_default(),
        r.status.map(|s| s.to_string()).unwrap_or_default(),
        r.detail.as_ref().map(Value::to_string).unwrap_or_default(),
    ];
    let mut line = cells
        .iter()
        .map(|c| csv_cell(c))
        .collect::<Vec<_>>()
        .join(",");
    line.push_str("\r\n");
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_cells_never_start_a_formula() {
        assert_eq!(csv_cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        assert_eq!(csv_cell("+1"), "'+1");
        assert_eq!(csv_cell("-2"), "'-2");
        assert_eq!(csv_cell("@SUM(A1)"), "'@SUM(A1)");
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
        assert_eq!(csv_cell("manager"), "manager");
    }
}

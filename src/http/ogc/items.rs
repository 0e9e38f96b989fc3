//! Reading the layers as OGC API collections: `/collections`, `/collections/{id}` (Part 1 §7.14,
//! with Part 2's `crs` and `storageCrs`), `/queryables` (Part 3), `/schema` (the feature schema
//! GDAL builds its fields from), `/items` (§7.15: bbox, datetime, limit, offset with `next`
//! links, property filters, CQL2 `filter`, `crs` / `bbox-crs`) and `/items/{fid}` (§7.16).

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue};
use axum::response::Response;
use serde_json::{Value, json};

use super::crs::{Crs, Projector, SUPPORTED};
use super::{
    Format, GEOJSON, HTML, JSON, SCHEMA_JSON, base_url, bytes_response, fields, filter, format,
    html, html_response, json_response, lang, link, query_string,
};
use crate::app::App;
use crate::domain::access::Scope;
use crate::domain::role::Actor;
use crate::error::Error;
use crate::http::error::ApiError;
use crate::http::extract::User;
use crate::i18n::{Lang, text};
use crate::layers::Layer;
use crate::service::fires::watch_since;
use crate::store::features::{Filter, ItemQuery, Page, Visible, geometry_json};

pub const DEFAULT_LIMIT: usize = 100;
pub const MAX_LIMIT: usize = 10_000;
/// `numberMatched` is given when counting reads at most this many rows (pygeoapi #1969: a
/// full count on a large table is the slow part of a page).
const COUNT_CAP: usize = 10_000;

/// The layer, if this user may read some of it (404 otherwise, as for a layer that does not
/// exist, so the list of layers does not leak).
pub fn readable(app: &App, id: &str, actor: &Actor) -> Result<(Arc<Layer>, Scope), Error> {
    let layer = app.registry.lookup(id)?;
    let scope = layer.read_scope(actor);
    if scope == Scope::Nothing {
        return Err(Error::not_found("layer"));
    }
    Ok((layer.clone(), scope))
}

fn since(app: &App) -> String {
    watch_since(chrono::Utc::now(), &app.rules)
}

/// Refuses query parameters the endpoint does not know (Part 1 /req/core/query-param-unknown).
fn check_params<'a>(
    q: &'a HashMap<String, String>,
    known: &[&str],
    extra: &[&str],
) -> Result<Vec<(&'a String, &'a String)>, Error> {
    let mut rest = vec![];
    for (k, v) in q {
        if known.contains(&k.as_str()) {
            continue;
        }
        if extra.contains(&k.as_str()) {
            rest.push((k, v));
            continue;
        }
        let mut all: Vec<&str> = known.to_vec();
        all.extend(extra);
        return Err(Error::bad_request("unknown_param")
            .arg("param", k.clone())
            .arg("known", all.join(", ")));
    }
    Ok(rest)
}

/// The format, language and link base of an answer whose only parameters are `known`: what
/// the collection, schema and item pages all read first, unknown parameters refused before.
fn answer_params(
    q: &HashMap<String, String>,
    headers: &HeaderMap,
    known: &[&str],
) -> Result<(Format, Lang, String), Error> {
    check_params(q, known, &[])?;
    Ok((format(q, headers)?, lang(headers), base_url(headers)))
}

/// A collection's description.
fn collection_json(layer: &Layer, lang: Lang, base: &str, extent: Option<[f64; 4]>) -> Value {
    let path = format!("{base}/collections/{}", layer.name);
    let mut c = json!({
        "id": layer.name,
        "title": layer.title.get(lang),
        "description": layer.description.get(lang),
        "itemType": "feature",
        "crs": SUPPORTED.iter().map(|c| c.uri()).collect::<Vec<_>>(),
        "storageCrs": Crs::Crs84.uri(),
        "links": [
            link("self", JSON, path.clone(), None),
            link("alternate", HTML, format!("{path}?f=html"), None),
            link("items", GEOJSON, format!("{path}/items"), None),
            link("items", HTML, format!("{path}/items?f=html"), None),
            link("http://www.opengis.net/def/rel/ogc/1.0/queryables", SCHEMA_JSON, format!("{path}/queryables"), None),
            link("describedby", SCHEMA_JSON, format!("{path}/schema"), None),
            link(super::tiles::REL_TILESETS, JSON, format!("{path}/tiles"), Some(text(lang, "ogc.tiles"))),
        ],
    });
    if let Some(b) = extent {
        c["extent"] = json!({"spatial": {"bbox": [b], "crs": Crs::Crs84.uri()}});
    }
    c
}

/// `GET /collections`: the layers this user may read.
pub async fn collections(
    State(app): State<App>,
    User(actor): User,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (fmt, lang, base) = answer_params(&q, &headers, &["f"])?;
    let layers: Vec<(Layer, Scope)> = app
        .registry
        .iter()
        .map(|l| (l.clone(), l.read_scope(&actor)))
        .filter(|(_, s)| *s != Scope::Nothing)
        .collect();
    let since = since(&app);
    let extents = app
        .db
        .read(move |c| {
            layers
                .into_iter()
                .map(|(l, s)| Ok((c.features().extent(&Visible::new(&l, &s, &since))?, l)))
                .collect::<Result<Vec<_>, Error>>()
        })
        .await?;
    let list: Vec<Value> = extents
        .iter()
        .map(|(e, l)| collection_json(l, lang, &base, *e))
        .collect();
    let path = format!("{base}/collections");
    let v = json!({
        "collections": list,
        "links": [
            link("self", JSON, path.clone(), None),
            link("alternate", HTML, format!("{path}?f=html"), None),
        ],
    });
    Ok(match fmt {
        Format::Json => json_response(&v, JSON),
        Format::Html => html_response(html::collections(&v, lang)),
    })
}

/// `GET /collections/{id}`.
pub async fn collection(
    State(app): State<App>,
    User(actor): User,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (fmt, lang, base) = answer_params(&q, &headers, &["f"])?;
    let (layer, scope) = readable(&app, &id, &actor)?;
    let since = since(&app);
    let l = layer.clone();
    let extent = app
        .db
        .read(move |c| c.features().extent(&Visible::new(&l, &scope, &since)))
        .await?;
    let v = collection_json(&layer, lang, &base, extent);
    Ok(match fmt {
        Format::Json => json_response(&v, JSON),
        Format::Html => html_response(html::collection(&v, &layer, &actor, lang)),
    })
}

/// What `/queryables` and `/schema` share: the parameters, the layer as this user may read it,
/// and the answer as JSON Schema or as an HTML page listing the property schemas found at
/// `listed` (a JSON pointer into the document `build` makes from the layer, language and base).
async fn schema_answer(
    app: &App,
    actor: &Actor,
    id: &str,
    q: &HashMap<String, String>,
    headers: &HeaderMap,
    listed: &str,
    build: impl FnOnce(&Layer, Lang, &str) -> Value,
) -> Result<Response, ApiError> {
    let (fmt, lang, base) = answer_params(q, headers, &["f"])?;
    let (layer, _) = readable(app, id, actor)?;
    let v = build(&layer, lang, &base);
    Ok(match fmt {
        Format::Json => json_response(&v, SCHEMA_JSON),
        Format::Html => html_response(html::schema(
            v.pointer(listed).unwrap_or(&Value::Null),
            &layer,
            lang,
        )),
    })
}

/// `GET /collections/{id}/queryables`: what `filter` and `property=value` may name.
pub async fn queryables(
    State(app): State<App>,
    User(actor): User,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    schema_answer(&app, &actor, &id, &q, &headers, "", |layer, lang, base| {
        let props = fields::schemas(fields::queryables(layer, &actor), lang);
        json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": format!("{base}/collections/{id}/queryables"),
            "type": "object",
            "title": layer.title.get(lang),
            "properties": props,
            "additionalProperties": false,
        })
    })
    .await
}

/// `GET /collections/{id}/schema`: the features as JSON Schema (every visible property, with
/// its type, allowed values and whether the system derives it).
pub async fn schema(
    State(app): State<App>,
    User(actor): User,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let listed = "/properties/properties";
    schema_answer(
        &app,
        &actor,
        &id,
        &q,
        &headers,
        listed,
        |layer, lang, base| {
            let props = fields::schemas(fields::visible(layer, &actor), lang);
            let required: Vec<&str> = layer
                .fields
                .iter()
                .filter(|f| f.required && !f.internal)
                .map(|f| f.name.as_str())
                .collect();
            let id_type = if layer.key.as_deref() == Some("uuid") {
                "string"
            } else {
                "integer"
            };
            json!({
                "$schema": "https://json-schema.org/draft/2020-12/schema",
                "$id": format!("{base}/collections/{id}/schema"),
                "title": layer.title.get(lang),
                "type": "object",
                "required": ["type", "geometry", "properties"],
                "properties": {
                    "type": {"type": "string", "enum": ["Feature"]},
                    "id": {"type": id_type},
                    "geometry": fields::geometry_schema(layer),
                    "properties": {
                        "type": "object",
                        "required": required,
                        "properties": props,
                    },
                },
            })
        },
    )
    .await
}

/// `bbox=` with 4 numbers (or 6, whose heights are ignored), in the bbox CRS's axis order.
fn parse_bbox(s: &str) -> Result<[f64; 4], Error> {
    let v = crate::http::collections::bbox_numbers(s)?;
    let b = match v.as_slice() {
        [a, b, c, d] => [*a, *b, *c, *d],
        [a, b, _, d, e, _] => [*a, *b, *d, *e],
        _ => return Err(Error::bad_request("bad_bbox")),
    };
    if b.iter().all(|x| x.is_finite()) && b[0] <= b[2] && b[1] <= b[3] {
        Ok(b)
    } else {
        Err(Error::bad_request("bad_bbox"))
    }
}

fn parse_usize(
    q: &HashMap<String, String>,
    name: &'static str,
    default: usize,
    max: usize,
) -> Result<usize, Error> {
    match q.get(name) {
        None => Ok(default),
        Some(s) => crate::http::paging::whole_number(
            s.trim(),
            name,
            |n| *n <= max,
            || format!("0..={max}"),
        ),
    }
}

fn crs_param(q: &HashMap<String, String>, name: &str) -> Result<Crs, Error> {
    q.get(name).map_or(Ok(Crs::Crs84), |s| Crs::parse(s))
}

/// Parameters of `/items` besides the property filters (the API document lists them too).
pub(super) const ITEMS_PARAMS: [&str; 10] = [
    "f",
    "bbox",
    "bbox-crs",
    "crs",
    "datetime",
    "limit",
    "offset",
    "filter",
    "filter-lang",
    "filter-crs",
];

/// A page request, parsed once.
struct ItemsRequest {
    query: ItemQuery,
    crs: Crs,
}

fn items_request(
    layer: &Layer,
    actor: &Actor,
    q: &HashMap<String, String>,
) -> Result<ItemsRequest, Error> {
    let queryables = fields::queryables(layer, actor);
    let names: Vec<&str> = queryables.iter().map(|f| f.name.as_str()).collect();
    let equals = check_params(q, &ITEMS_PARAMS, &names)?;
    let mut filters: Vec<Filter> = vec![];
    for (k, v) in equals {
        if let Some(f) = queryables.iter().find(|f| &f.name == k) {
            filters.push(filter::equals(f, v)?);
        }
    }
    if let Some(dt) = q.get("datetime") {
        let Some(field) = fields::time_field(layer) else {
            return Err(Error::bad_request("no_time").arg("layer", layer.name.clone()));
        };
        filters.push(filter::datetime(field, dt)?);
    }
    if let Some(lang) = q.get("filter-lang")
        && lang != "cql2-text"
    {
        return Err(Error::bad_request("bad_query")
            .arg("param", "filter-lang")
            .arg("detail", format!("{lang}: cql2-text")));
    }
    if q.contains_key("filter-crs") {
        // No spatial predicates are served, so only the default can be meant.
        crs_param(q, "filter-crs").and_then(|c| {
            if c == Crs::Crs84 {
                Ok(())
            } else {
                Err(Error::bad_request("bad_query")
                    .arg("param", "filter-crs")
                    .arg("detail", super::crs::CRS84_URI))
            }
        })?;
    }
    if let Some(text) = q.get("filter") {
        let expr = super::cql2::parse(text).map_err(|e| match e.limit {
            Some(limit) => {
                let (key, max) = limit.key_and_max();
                Error::bad_request(key).arg("max", max.to_string())
            }
            None => Error::bad_request("bad_filter").arg("detail", e.to_string()),
        })?;
        filters.push(filter::cql2(&expr, &queryables)?);
    }
    let bbox_crs = crs_param(q, "bbox-crs")?;
    let bbox = match q.get("bbox").map(|s| parse_bbox(s)).transpose()? {
        Some(b) if bbox_crs != Crs::Crs84 => Some(Projector::input(bbox_crs)?.bbox_to_storage(b)?),
        other => other,
    };
    if q.contains_key("bbox-crs") && bbox.is_none() {
        return Err(Error::bad_request("bad_query")
            .arg("param", "bbox-crs")
            .arg("detail", "bbox"));
    }
    Ok(ItemsRequest {
        query: ItemQuery {
            bbox,
            limit: parse_usize(q, "limit", DEFAULT_LIMIT, MAX_LIMIT)?.max(1),
            offset: parse_usize(q, "offset", 0, i64::MAX as usize)?,
            filters,
        },
        crs: crs_param(q, "crs")?,
    })
}

/// Shapes a stored feature for this reader: hidden properties removed, geometry reprojected.
fn shape(f: &mut Value, hidden: &[String], projector: Option<&Projector>) -> Result<(), Error> {
    if let Some(p) = f.get_mut("properties").and_then(Value::as_object_mut) {
        for h in hidden {
            p.remove(h);
        }
    }
    if let Some(p) = projector
        && let Some(g) = f.get_mut("geometry")
        && !g.is_null()
    {
        let gj: geojson::Geometry = serde_json::from_value(g.clone())
            .map_err(|e| Error::invalid("crs_transform").arg("detail", e.to_string()))?;
        let geom = crate::gis::geometry_from_geojson(&gj.value)
            .map_err(|e| Error::invalid("crs_transform").arg("detail", e))?;
        *g = geometry_json(&p.geometry(&geom)?);
    }
    Ok(())
}

/// From storage to `crs` for a page or an item; none for CRS84, the stored coordinates as they
/// are (no transform to build, nothing to round).
fn output_projector(crs: Crs) -> Result<Option<Projector>, Error> {
    (crs != Crs::Crs84)
        .then(|| Projector::output(crs))
        .transpose()
}

fn content_crs(res: &mut Response, crs: Crs) {
    if let Ok(v) = HeaderValue::from_str(&format!("<{}>", crs.uri())) {
        res.headers_mut().insert("content-crs", v);
    }
}

/// A page of items as read: GeoJSON text, or feature objects to reproject or lay out in HTML.
enum Items {
    /// The answer's text up to the end of its features (`{"features":[…`).
    Text {
        out: Vec<u8>,
        n: usize,
        more: bool,
    },
    Features(Page),
}

impl Items {
    /// How many features, and whether there may be more.
    fn counts(&self) -> (usize, bool) {
        match self {
            Items::Text { n, more, .. } => (*n, *more),
            Items::Features(p) => (p.features.len(), p.more),
        }
    }
}

/// `GET /collections/{id}/items`.
pub async fn items(
    State(app): State<App>,
    User(actor): User,
    Path(id): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (fmt, lang, base) = (format(&q, &headers)?, lang(&headers), base_url(&headers));
    let (layer, scope) = readable(&app, &id, &actor)?;
    let req = items_request(&layer, &actor, &q)?;
    let hidden = fields::hidden(&layer, &actor);
    let since = since(&app);
    let (l, query, crs) = (layer.clone(), req.query.clone(), req.crs);
    // GeoJSON in the storage CRS (what maps ask for) is written straight from the rows; other
    // CRSs and the HTML page go through feature objects.
    let text = fmt == Format::Json && crs == Crs::Crs84;
    let (page, matched) = app
        .db
        .read(move |c| {
            let view = Visible::new(&l, &scope, &since);
            let page = if text {
                // The answer is written in one buffer from its first byte: `features` comes
                // first among the keys, as a JSON object prints them.
                let mut out = Vec::with_capacity(256 * 1024);
                out.extend_from_slice(b"{\"features\":[");
                let (n, more) = c.features().items_json(&view, &query, &hidden, &mut out)?;
                Items::Text { out, n, more }
            } else {
                let mut page: Page = c.features().items(&view, &query)?;
                let projector = output_projector(crs)?;
                for f in &mut page.features {
                    shape(f, &hidden, projector.as_ref())?;
                }
                Items::Features(page)
            };
            let (n, more) = page.counts();
            let matched = if more {
                c.features().count_items(&view, &query, COUNT_CAP)?
            } else if n > 0 || query.offset == 0 {
                // The last page: what came before it and what is on it.
                Some(query.offset + n)
            } else {
                None
            };
            Ok::<_, Error>((page, matched))
        })
        .await?;
    let (n, more) = page.counts();
    let (limit, offset) = (req.query.limit, req.query.offset);
    let path = format!("{base}/collections/{id}/items");
    let keep: Vec<(String, String)> = q
        .iter()
        .filter(|(k, _)| !matches!(k.as_str(), "offset" | "f"))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let href = |offset: usize, f: Option<&str>| {
        let mut p = keep.clone();
        p.push(("offset".into(), offset.to_string()));
        if !keep.iter().any(|(k, _)| k == "limit") {
            p.push(("limit".into(), limit.to_string()));
        }
        if let Some(f) = f {
            p.push(("f".into(), f.into()));
        }
        format!("{path}?{}", query_string(&p))
    };
    let mut links = vec![
        link("self", GEOJSON, href(offset, None), None),
        link("alternate", HTML, href(offset, Some("html")), None),
        link("collection", JSON, format!("{base}/collections/{id}"), None),
    ];
    if more {
        links.push(link("next", GEOJSON, href(offset + n, None), None));
    }
    if offset > 0 {
        links.push(link(
            "prev",
            GEOJSON,
            href(offset.saturating_sub(limit), None),
            None,
        ));
    }
    let mut v = json!({
        "type": "FeatureCollection",
        "numberReturned": n,
        "timeStamp": crate::store::fires::ts(chrono::Utc::now()),
        "links": links,
    });
    if let Some(m) = matched {
        v["numberMatched"] = m.into();
    }
    let mut res = match page {
        Items::Text { mut out, .. } => {
            out.extend_from_slice(b"],");
            out.extend_from_slice(&v.to_string().as_bytes()[1..]);
            bytes_response(out, GEOJSON)
        }
        Items::Features(page) => {
            v["features"] = Value::Array(page.features);
            match fmt {
                Format::Json => json_response(&v, GEOJSON),
                Format::Html => html_response(html::items(&v, &layer, &actor, lang, offset)),
            }
        }
    };
    content_crs(&mut res, req.crs);
    Ok(res)
}

/// `GET /collections/{id}/items/{fid}`.
pub async fn item(
    State(app): State<App>,
    User(actor): User,
    Path((id, fid)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (fmt, lang, base) = answer_params(&q, &headers, &["f", "crs"])?;
    let (layer, scope) = readable(&app, &id, &actor)?;
    let crs = crs_param(&q, "crs")?;
    let hidden = fields::hidden(&layer, &actor);
    let since = since(&app);
    let l = layer.clone();
    let found = app
        .db
        .read(move |c| {
            let Some(mut f) = c.features().item(&Visible::new(&l, &scope, &since), &fid)? else {
                return Ok(None);
            };
            let projector = output_projector(crs)?;
            shape(&mut f, &hidden, projector.as_ref())?;
            Ok::<_, Error>(Some(f))
        })
        .await?;
    let mut f = found.ok_or_else(|| ApiError(Error::not_found("feature")))?;
    let fid = match &f["id"] {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let path = format!("{base}/collections/{id}/items/{}", super::encode(&fid));
    let crs_q = q
        .get("crs")
        .map(|c| format!("&crs={}", super::encode(c)))
        .unwrap_or_default();
    f["links"] = json!([
        link("self", GEOJSON, format!("{path}?f=json{crs_q}"), None),
        link("alternate", HTML, format!("{path}?f=html{crs_q}"), None),
        link("collection", JSON, format!("{base}/collections/{id}"), None),
    ]);
    let mut res = match fmt {
        Format::Json => json_response(&f, GEOJSON),
        Format::Html => html_response(html::item(&f, &layer, &actor, lang)),
    };
    content_crs(&mut res, crs);
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bboxes_take_four_or_six_numbers_in_order() {
        assert_eq!(parse_bbox("1,2,3,4").ok(), Some([1.0, 2.0, 3.0, 4.0]));
        assert_eq!(parse_bbox("1,2,0,3,4,9").ok(), Some([1.0, 2.0, 3.0, 4.0]));
        assert!(parse_bbox("3,2,1,4").is_err());
        assert!(parse_bbox("1,2,3").is_err());
        assert!(parse_bbox("1,2,3,NaN").is_err());
    }
}

//! OGC API - Tiles over the layers: the WebMercatorQuad tile matrix set (`/tileMatrixSets`),
//! each collection's vector tileset (`/collections/{id}/tiles`, `…/tiles/WebMercatorQuad`) and
//! its tiles as Mapbox vector tiles (`…/WebMercatorQuad/{z}/{y}/{x}`), read with the same scope
//! as `/items`. The tile matrix sets describe the service and are public; tilesets and tiles
//! need a session like the items.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::items::readable;
use super::{JSON, base_url, fields, json_response, lang, link};
use crate::app::App;
use crate::error::Error;
use crate::http::error::ApiError;
use crate::http::extract::User;
use crate::i18n::Lang;
use crate::layers::{GeometryType, Layer};
use crate::service::tiles::{self, Answer, MAX_ZOOM, Request, TileId};

/// The media type of a tile.
pub const MVT: &str = "application/vnd.mapbox-vector-tile";
/// The one tile matrix set served.
pub const TMS: &str = "WebMercatorQuad";
pub const TMS_URI: &str = "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad";
const CRS_3857: &str = "http://www.opengis.net/def/crs/EPSG/0/3857";
/// Link relations of OGC API - Tiles.
pub const REL_TILESETS: &str = "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector";
pub const REL_TILING_SCHEMES: &str = "http://www.opengis.net/def/rel/ogc/1.0/tiling-schemes";
const REL_TILING_SCHEME: &str = "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme";

/// Half the width of the Web Mercator square, in metres.
const ORIGIN: f64 = 20_037_508.342_789_244;

fn tms_summary(base: &str) -> Value {
    json!({
        "id": TMS,
        "title": "Google Maps Compatible for the World",
        "uri": TMS_URI,
        "links": [link("self", JSON, format!("{base}/tileMatrixSets/{TMS}"), None)],
    })
}

/// `GET /tileMatrixSets`.
pub async fn tile_matrix_sets(headers: HeaderMap) -> Response {
    let base = base_url(&headers);
    json_response(
        &json!({
            "tileMatrixSets": [tms_summary(&base)],
            "links": [link("self", JSON, format!("{base}/tileMatrixSets"), None)],
        }),
        JSON,
    )
}

/// The WebMercatorQuad definition (OGC Two Dimensional Tile Matrix Set 2.0), zooms 0 to 22.
fn web_mercator_quad() -> Value {
    let matrices: Vec<Value> = (0..=MAX_ZOOM)
        .map(|z| {
            let n = 1u64 << z;
            let cell = 2.0 * ORIGIN / 256.0 / n as f64;
            json!({
                "id": z.to_string(),
                "scaleDenominator": cell / 0.000_28,
                "cellSize": cell,
                "cornerOfOrigin": "topLeft",
                "pointOfOrigin": [-ORIGIN, ORIGIN],
                "tileWidth": 256,
                "tileHeight": 256,
                "matrixWidth": n,
                "matrixHeight": n,
            })
        })
        .collect();
    json!({
        "id": TMS,
        "title": "Google Maps Compatible for the World",
        "uri": TMS_URI,
        "crs": CRS_3857,
        "orderedAxes": ["X", "Y"],
        "wellKnownScaleSet": "http://www.opengis.net/def/wkss/OGC/1.0/GoogleMapsCompatible",
        "boundingBox": {
            "crs": CRS_3857,
            "lowerLeft": [-ORIGIN, -ORIGIN],
            "upperRight": [ORIGIN, ORIGIN],
        },
        "tileMatrices": matrices,
    })
}

fn known_tms(id: &str) -> Result<(), Error> {
    if id == TMS {
        Ok(())
    } else {
        Err(Error::not_found("tile_matrix_set"))
    }
}

/// `GET /tileMatrixSets/{tileMatrixSetId}`.
pub async fn tile_matrix_set(Path(id): Path<String>) -> Result<Response, ApiError> {
    known_tms(&id)?;
    Ok(json_response(&web_mercator_quad(), JSON))
}

/// The templated link to a collection's tiles (OGC's variable names).
fn tile_link(base: &str, id: &str) -> Value {
    json!({
        "rel": "item",
        "type": MVT,
        "templated": true,
        "href": format!("{base}/collections/{id}/tiles/{TMS}/{{tileMatrix}}/{{tileRow}}/{{tileCol}}"),
    })
}

/// The links every tileset description carries.
fn tileset_links(base: &str, id: &str) -> Vec<Value> {
    vec![
        link(
            "self",
            JSON,
            format!("{base}/collections/{id}/tiles/{TMS}"),
            None,
        ),
        link(
            REL_TILING_SCHEME,
            JSON,
            format!("{base}/tileMatrixSets/{TMS}"),
            None,
        ),
        link("collection", JSON, format!("{base}/collections/{id}"), None),
        tile_link(base, id),
    ]
}

/// `GET /collections/{id}/tiles`: the one vector tileset.
pub async fn tilesets(
    State(app): State<App>,
    User(actor): User,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (layer, _) = readable(&app, &id, &actor)?;
    let (lang, base) = (lang(&headers), base_url(&headers));
    Ok(json_response(
        &json!({
            "tilesets": [{
                "title": layer.title.get(lang),
                "dataType": "vector",
                "crs": CRS_3857,
                "tileMatrixSetURI": TMS_URI,
                "links": tileset_links(&base, &layer.name),
            }],
            "links": [
                link("self", JSON, format!("{base}/collections/{}/tiles", layer.name), None),
                link("collection", JSON, format!("{base}/collections/{}", layer.name), None),
            ],
        }),
        JSON,
    ))
}

/// The properties a tile's features carry, as JSON Schema (clusters' below zoom 12).
fn properties(layer: &Layer, hidden: &[String], lang: Lang) -> Value {
    let mut p = serde_json::Map::new();
    p.insert(
        "id".into(),
        json!({"type": if layer.key.as_deref() == Some("uuid") { "string" } else { "integer" }}),
    );
    for f in layer
        .fields
        .iter()
        .filter(|f| !hidden.contains(&f.name) && !f.internal)
        .filter(|f| {
            (layer.key.as_deref() == Some(f.name.as_str()) && f.name != "uuid")
                || layer.style.label.as_deref() == Some(f.name.as_str())
                || layer.style.by.as_ref().is_some_and(|b| b.field == f.name)
                || matches!(
                    f.name.as_str(),
                    "code" | "name" | "status" | "kind" | "licence_no"
                )
        })
    {
        p.insert(f.name.clone(), fields::schema(f, lang));
    }
    if layer.geometry == GeometryType::Point {
        let count = json!({"type": "integer", "minimum": 0});
        p.insert("cluster".into(), json!({"type": "boolean"}));
        p.insert("count".into(), count.clone());
        if layer.field("cleared_at").is_some() && layer.field("deadline").is_some() {
            for b in ["burning", "overdue", "watched"] {
                p.insert(b.into(), json!({"type": "boolean"}));
            }
            p.insert("not_cleared".into(), count.clone());
        }
        if let Some(values) = layer.field("status").and_then(|f| f.values.as_ref()) {
            for v in values {
                p.insert(format!("n_{v}"), count.clone());
            }
        }
    }
    json!({"type": "object", "properties": p})
}

/// `GET /collections/{id}/tiles/{tileMatrixSetId}`: the tileset's metadata.
pub async fn tileset(
    State(app): State<App>,
    User(actor): User,
    Path((id, tms)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (layer, _) = readable(&app, &id, &actor)?;
    known_tms(&tms)?;
    let (lang, base) = (lang(&headers), base_url(&headers));
    let hidden = fields::hidden(&layer, &actor);
    let dimension = match layer.geometry {
        GeometryType::Point => 0,
        GeometryType::LineString => 1,
        GeometryType::Polygon | GeometryType::MultiPolygon => 2,
    };
    Ok(json_response(
        &json!({
            "title": layer.title.get(lang),
            "description": layer.description.get(lang),
            "dataType": "vector",
            "crs": CRS_3857,
            "tileMatrixSetURI": TMS_URI,
            "links": tileset_links(&base, &layer.name),
            "layers": [{
                "id": layer.name,
                "title": layer.title.get(lang),
                "dataType": "vector",
                "geometryDimension": dimension,
                "minTileMatrix": "0",
                "maxTileMatrix": MAX_ZOOM.to_string(),
                "propertiesSchema": properties(&layer, &hidden, lang),
            }],
            "pointsFromTileMatrix": (layer.geometry == GeometryType::Point).then_some(tiles::POINTS_FROM.to_string()),
        }),
        JSON,
    ))
}

/// Whether `If-None-Match` names this ETag (or `*`).
fn matches(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().trim_start_matches("W/"))
        .any(|t| t == etag || t == "*")
}

fn cache_headers(res: &mut Response, etag: &str) {
    let h = res.headers_mut();
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-cache"),
    );
    h.insert(
        header::VARY,
        HeaderValue::from_static("Cookie, Authorization"),
    );
    if let Ok(v) = HeaderValue::from_str(etag) {
        h.insert(header::ETAG, v);
    }
}

/// `GET /collections/{id}/tiles/{tileMatrixSetId}/{tileMatrix}/{tileRow}/{tileCol}`.
pub async fn tile(
    State(app): State<App>,
    User(actor): User,
    Path((id, tms, z, y, x)): Path<(String, String, String, String, String)>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let (layer, scope) = readable(&app, &id, &actor)?;
    known_tms(&tms)?;
    let bad = || {
        Error::bad_request("bad_tile")
            .arg("z", z.clone())
            .arg("y", y.clone())
            .arg("x", x.clone())
            .arg("max", MAX_ZOOM.to_string())
    };
    let number = |s: &str| s.parse::<u32>().ok();
    let tile = match (number(&z), number(&y), number(&x)) {
        (Some(z), Some(y), Some(x)) => TileId::new(z, y, x).ok_or_else(bad)?,
        _ => return Err(bad().into()),
    };
    let hidden = fields::hidden(&layer, &actor);
    let (rules, made) = (app.rules.clone(), app.tiles_made.clone());
    let now = chrono::Utc::now();
    let answer = app
        .db
        .read(move |tx| {
            let r = Request {
                layer: &layer,
                scope: &scope,
                hidden: &hidden,
                tile,
                now,
                rules: &rules,
                made: &made,
            };
            tiles::answer(tx, &r, &|etag| matches(&headers, etag))
        })
        .await?;
    let (mut res, etag) = match answer {
        Answer::NotModified { etag } => (StatusCode::NOT_MODIFIED.into_response(), etag),
        Answer::Empty { etag } => (StatusCode::NO_CONTENT.into_response(), etag),
        Answer::Tile { etag, bytes } => {
            let mut res = (StatusCode::OK, Vec::clone(&bytes)).into_response();
            res.headers_mut()
                .insert(header::CONTENT_TYPE, HeaderValue::from_static(MVT));
            (res, etag)
        }
    };
    cache_headers(&mut res, &etag);
    Ok(res)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn web_mercator_quad_halves_its_cells_at_each_zoom() {
        let t = web_mercator_quad();
        let m = t["tileMatrices"].as_array().expect("matrices");
        assert_eq!(m.len(), usize::from(MAX_ZOOM) + 1);
        let c0 = m[0]["cellSize"].as_f64().expect("cell");
        assert!((c0 - 156_543.033_928_041).abs() < 1e-6);
        let s0 = m[0]["scaleDenominator"].as_f64().expect("scale");
        assert!((s0 - 559_082_264.028_717_8).abs() < 1e-3);
        assert_eq!(m[22]["matrixWidth"], 1u64 << 22);
    }

    #[test]
    fn if_none_match_takes_lists_weak_tags_and_a_star() {
        let mut h = HeaderMap::new();
        h.insert(
            header::IF_NONE_MATCH,
            HeaderValue::from_static("\"a\", W/\"b\""),
        );
        assert!(matches(&h, "\"a\""));
        assert!(matches(&h, "\"b\""));
        assert!(!matches(&h, "\"c\""));
        h.insert(header::IF_NONE_MATCH, HeaderValue::from_static("*"));
        assert!(matches(&h, "\"c\""));
        assert!(!matches(&HeaderMap::new(), "\"a\""));
    }
}

//! The OpenAPI 3.0 definition of the OGC API (Part 1's oas30 class), built from the layer
//! registry so each collection's paths list its own queryables and edit methods, and of the
//! application's paged lists (`openapi_lists.rs`). GDAL reads
//! `resultType`, QGIS the `limit` bounds and the per-collection property parameters from it.

use serde_json::{Map, Value, json};

use super::crs::SUPPORTED;
use super::items::{DEFAULT_LIMIT, MAX_LIMIT};
use super::tiles::{MVT, TMS};
use super::{GEOJSON, HTML, JSON, SCHEMA_JSON, fields};
use crate::i18n::{Lang, text};
use crate::layers::{FieldType, Layer, Registry};
use crate::service::edit::editable;

fn param(name: &str, description: &str, schema: Value, explode: bool) -> Value {
    let mut p = json!({
        "name": name,
        "in": "query",
        "required": false,
        "description": description,
        "schema": schema,
        "style": "form",
    });
    if !explode {
        p["explode"] = false.into();
    }
    p
}

fn parameters() -> Value {
    let crs: Vec<String> = SUPPORTED.iter().map(|c| c.uri()).collect();
    json!({
        "f": param("f", "json (GeoJSON) or html", json!({"type": "string", "enum": ["json", "html"]}), true),
        "bbox": param("bbox", "minx,miny,maxx,maxy in bbox-crs axis order (CRS84: lon,lat)", json!({"type": "array", "minItems": 4, "maxItems": 6, "items": {"type": "number"}}), false),
        "bbox-crs": param("bbox-crs", "CRS of bbox (Part 2)", json!({"type": "string", "format": "uri", "enum": crs}), true),
        "crs": param("crs", "CRS of the returned geometries (Part 2); axis order follows the CRS", json!({"type": "string", "format": "uri", "enum": crs}), true),
        "datetime": param("datetime", "an instant, a date, or an interval start/end with .. for open, on the layer's time field", json!({"type": "string"}), true),
        "limit": param("limit", "features per page", json!({"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": DEFAULT_LIMIT}), true),
        "offset": param("offset", "features to skip (the next link carries it)", json!({"type": "integer", "minimum": 0, "default": 0}), true),
        "filter": param("filter", "a CQL2 text filter on the queryables", json!({"type": "string"}), true),
        "filter-lang": param("filter-lang", "cql2-text", json!({"type": "string", "enum": ["cql2-text"], "default": "cql2-text"}), true),
        "filter-crs": param("filter-crs", "CRS84 (no spatial predicates are served)", json!({"type": "string", "enum": [super::crs::CRS84_URI]}), true),
        "featureId": {"name": "featureId", "in": "path", "required": true, "description": "the feature's id (fire points: their UUID)", "schema": {"type": "string"}},
        "tileMatrixSetId": {"name": "tileMatrixSetId", "in": "path", "required": true, "description": "the tile matrix set", "schema": {"type": "string", "enum": [TMS]}},
        "tileMatrix": {"name": "tileMatrix", "in": "path", "required": true, "description": "the zoom level", "schema": {"type": "string", "pattern": "^[0-9]+$"}},
        "tileRow": {"name": "tileRow", "in": "path", "required": true, "description": "the row, from the north", "schema": {"type": "integer", "minimum": 0}},
        "tileCol": {"name": "tileCol", "in": "path", "required": true, "description": "the column, from the west", "schema": {"type": "integer", "minimum": 0}},
    })
}

fn reference(name: &str) -> Value {
    json!({"$ref": format!("#/components/parameters/{name}")})
}

fn ok(description: &str, media: &[(&str, Value)]) -> Value {
    let content: Map<String, Value> = media
        .iter()
        .map(|(m, s)| ((*m).to_string(), json!({"schema": s})))
        .collect();
    json!({"description": description, "content": content})
}

fn errors() -> Value {
    let e = json!({"$ref": "#/components/responses/Error"});
    json!({"400": e, "401": e, "403": e, "404": e, "405": e, "409": e, "413": e, "422": e})
}

fn with_errors(mut responses: Value) -> Value {
    if let (Some(r), Some(e)) = (responses.as_object_mut(), errors().as_object()) {
        for (k, v) in e {
            r.entry(k.clone()).or_insert_with(|| v.clone());
        }
    }
    responses
}

fn collection_paths(layer: &Layer, lang: Lang, paths: &mut Map<String, Value>) {
    let base = format!("/collections/{}", layer.name);
    let title = layer.title.get(lang);
    let feature = json!({"$ref": format!("{base}/schema")});
    let collection_ref = json!({"$ref": "#/components/schemas/featureCollectionGeoJSON"});
    let html = json!({"type": "string"});
    let mut item_params: Vec<Value> = super::items::ITEMS_PARAMS
        .iter()
        .map(|n| reference(n))
        .collect();
    for f in layer.public_fields().filter(|f| f.kind != FieldType::Json) {
        let mut s = fields::schema(f, lang);
        if let Some(o) = s.as_object_mut() {
            o.remove("readOnly");
        }
        let description = f.title.as_ref().map_or(f.name.as_str(), |t| t.get(lang));
        item_params.push(param(&f.name, description, s, true));
    }
    paths.insert(
        base.clone(),
        json!({"get": {
            "summary": format!("{title}: {}", text(lang, "ogc.collection")),
            "operationId": format!("describe_{}", layer.name),
            "parameters": [reference("f")],
            "responses": with_errors(json!({"200": ok("collection", &[(JSON, json!({"$ref": "#/components/schemas/collection"})), (HTML, html.clone())])})),
        }}),
    );
    let mut items = json!({"get": {
        "summary": format!("{title}: {}", text(lang, "ogc.items")),
        "operationId": format!("items_{}", layer.name),
        "parameters": item_params,
        "responses": with_errors(json!({"200": ok("features", &[(GEOJSON, collection_ref), (HTML, html.clone())])})),
    }});
    let mut item = json!({"get": {
        "summary": format!("{title}: {}", text(lang, "ogc.item")),
        "operationId": format!("item_{}", layer.name),
        "parameters": [reference("featureId"), reference("f"), reference("crs")],
        "responses": with_errors(json!({"200": ok("feature", &[(GEOJSON, feature.clone()), (HTML, html)])})),
    }});
    if editable(layer) {
        let body = json!({"required": true, "content": {GEOJSON: {"schema": feature.clone()}, JSON: {"schema": feature.clone()}}});
        items["post"] = json!({
            "summary": format!("{title}: {}", text(lang, "ogc.create")),
            "operationId": format!("create_{}", layer.name),
            "requestBody": body.clone(),
            "responses": with_errors(json!({"201": {"description": "created; Location names the new feature", "headers": {"Location": {"schema": {"type": "string"}}}}})),
        });
        item["put"] = json!({
            "summary": format!("{title}: {}", text(lang, "ogc.replace")),
            "operationId": format!("replace_{}", layer.name),
            "parameters": [reference("featureId")],
            "requestBody": body,
            "responses": with_errors(json!({"200": ok("the feature as stored", &[(GEOJSON, feature.clone())])})),
        });
        item["patch"] = json!({
            "summary": format!("{title}: {}", text(lang, "ogc.update")),
            "operationId": format!("update_{}", layer.name),
            "parameters": [reference("featureId")],
            "requestBody": {"required": true, "content": {"application/merge-patch+json": {"schema": {"type": "object"}}, JSON: {"schema": {"type": "object"}}}},
            "responses": with_errors(json!({"200": ok("the feature as stored", &[(GEOJSON, feature)])})),
        });
        item["delete"] = json!({
            "summary": format!("{title}: {}", text(lang, "ogc.delete")),
            "operationId": format!("delete_{}", layer.name),
            "parameters": [reference("featureId")],
            "responses": with_errors(json!({"204": {"description": "deleted"}})),
        });
    }
    paths.insert(format!("{base}/items"), items);
    paths.insert(format!("{base}/items/{{featureId}}"), item);
    let tiles = text(lang, "ogc.tiles");
    paths.insert(
        format!("{base}/tiles"),
        json!({"get": {
            "summary": format!("{title}: {tiles}"),
            "operationId": format!("tilesets_{}", layer.name),
            "responses": with_errors(json!({"200": ok("the vector tilesets", &[(JSON, json!({"type": "object"}))])})),
        }}),
    );
    paths.insert(
        format!("{base}/tiles/{{tileMatrixSetId}}"),
        json!({"get": {
            "summary": format!("{title}: {tiles} ({TMS})"),
            "operationId": format!("tileset_{}", layer.name),
            "parameters": [reference("tileMatrixSetId")],
            "responses": with_errors(json!({"200": ok("the tileset's metadata", &[(JSON, json!({"type": "object"}))])})),
        }}),
    );
    paths.insert(
        format!("{base}/tiles/{{tileMatrixSetId}}/{{tileMatrix}}/{{tileRow}}/{{tileCol}}"),
        json!({"get": {
            "summary": format!("{title}: {}", text(lang, "ogc.tile")),
            "operationId": format!("tile_{}", layer.name),
            "parameters": [reference("tileMatrixSetId"), reference("tileMatrix"), reference("tileRow"), reference("tileCol")],
            "responses": with_errors(json!({
                "200": {"description": "the tile (Mapbox vector tile, one layer named after the collection)", "headers": {"ETag": {"schema": {"type": "string"}}}, "content": {MVT: {"schema": {"type": "string", "format": "binary"}}}},
                "204": {"description": "nothing this user may see is in the tile"},
                "304": {"description": "the tile is as the If-None-Match ETag says"},
            })),
        }}),
    );
    for (path, what) in [("queryables", "ogc.queryables"), ("schema", "ogc.schema")] {
        paths.insert(
            format!("{base}/{path}"),
            json!({"get": {
                "summary": format!("{title}: {}", text(lang, what)),
                "operationId": format!("{path}_{}", layer.name),
                "parameters": [reference("f")],
                "responses": with_errors(json!({"200": ok(path, &[(SCHEMA_JSON, json!({"type": "object"})), (HTML, json!({"type": "string"}))])})),
            }}),
        );
    }
}

/// The OpenAPI document for this server (`base` is the scheme and host links start with).
pub fn document(registry: &Registry, base: &str, lang: Lang) -> Value {
    let public = json!([]);
    let mut paths = Map::new();
    paths.insert(
        "/".into(),
        json!({"get": {"summary": text(lang, "ogc.home"), "operationId": "landing", "security": public,
            "parameters": [reference("f")],
            "responses": {"200": ok("landing page", &[(JSON, json!({"type": "object"})), (HTML, json!({"type": "string"}))])}}}),
    );
    paths.insert(
        "/conformance".into(),
        json!({"get": {"summary": text(lang, "ogc.conformance"), "operationId": "conformance", "security": public,
            "parameters": [reference("f")],
            "responses": {"200": ok("conformance classes", &[(JSON, json!({"$ref": "#/components/schemas/confClasses"})), (HTML, json!({"type": "string"}))])}}}),
    );
    paths.insert(
        "/api".into(),
        json!({"get": {"summary": "OpenAPI 3.0", "operationId": "api", "security": public,
            "responses": {"200": ok("this document", &[(super::OPENAPI_JSON, json!({"type": "object"}))])}}}),
    );
    paths.insert(
        "/collections".into(),
        json!({"get": {"summary": text(lang, "ogc.collections"), "operationId": "collections",
            "parameters": [reference("f")],
            "responses": with_errors(json!({"200": ok("the collections this user may read", &[(JSON, json!({"type": "object", "required": ["collections", "links"], "properties": {"collections": {"type": "array", "items": {"$ref": "#/components/schemas/collection"}}, "links": {"type": "array", "items": {"$ref": "#/components/schemas/link"}}}})), (HTML, json!({"type": "string"}))])}))}}),
    );
    paths.insert(
        "/tileMatrixSets".into(),
        json!({"get": {"summary": text(lang, "ogc.tile_matrix_sets"), "operationId": "tileMatrixSets", "security": public,
            "responses": {"200": ok("the tile matrix sets", &[(JSON, json!({"type": "object"}))])}}}),
    );
    paths.insert(
        "/tileMatrixSets/{tileMatrixSetId}".into(),
        json!({"get": {"summary": format!("{}: {TMS}", text(lang, "ogc.tile_matrix_sets")), "operationId": "tileMatrixSet", "security": public,
            "parameters": [reference("tileMatrixSetId")],
            "responses": {"200": ok("the tile matrix set (OGC TMS 2.0)", &[(JSON, json!({"type": "object"}))]), "404": {"$ref": "#/components/responses/Error"}}}}),
    );
    for layer in registry.iter() {
        collection_paths(layer, lang, &mut paths);
    }
    super::openapi_lists::add(&mut paths);
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": text(lang, "ogc.title"),
            "description": text(lang, "ogc.description"),
            "version": env!("CARGO_PKG_VERSION"),
            "license": {"name": "Apache-2.0"},
        },
        "servers": [{"url": if base.is_empty() { "/" } else { base }}],
        "security": [{"bearer": []}, {"session": []}],
        "paths": paths,
        "components": {
            "securitySchemes": {
                "bearer": {"type": "http", "scheme": "bearer", "description": "the token from POST /api/login"},
                "session": {"type": "apiKey", "in": "cookie", "name": crate::http::extract::COOKIE},
            },
            "parameters": parameters(),
            "responses": {"Error": ok("an error a person can act on (message in Accept-Language)", &[(JSON, json!({"$ref": "#/components/schemas/exception"}))])},
            "schemas": {
                "exception": {"type": "object", "required": ["error", "message"], "properties": {"error": {"type": "string"}, "message": {"type": "string"}, "detail": {}}},
                "link": {"type": "object", "required": ["href", "rel"], "properties": {"href": {"type": "string"}, "rel": {"type": "string"}, "type": {"type": "string"}, "title": {"type": "string"}}},
                "confClasses": {"type": "object", "required": ["conformsTo"], "properties": {"conformsTo": {"type": "array", "items": {"type": "string"}}}},
                "collection": {"type": "object", "required": ["id", "links"], "properties": {
                    "id": {"type": "string"}, "title": {"type": "string"}, "description": {"type": "string"},
                    "links": {"type": "array", "items": {"$ref": "#/components/schemas/link"}},
                    "extent": {"type": "object"}, "itemType": {"type": "string"},
                    "crs": {"type": "array", "items": {"type": "string"}}, "storageCrs": {"type": "string"}}},
                "featureCollectionGeoJSON": {"type": "object", "required": ["type", "features"], "properties": {
                    "type": {"type": "string", "enum": ["FeatureCollection"]},
                    "features": {"type": "array", "items": {"type": "object"}},
                    "links": {"type": "array", "items": {"$ref": "#/components/schemas/link"}},
                    "timeStamp": {"type": "string", "format": "date-time"},
                    "numberMatched": {"type": "integer", "minimum": 0},
                    "numberReturned": {"type": "integer", "minimum": 0}}},
            },
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_collection_has_its_paths_and_only_editable_ones_take_writes() {
        let r = Registry::builtin().expect("layers");
        let doc = document(&r, "http://x", Lang::En);
        assert_eq!(doc["openapi"], "3.0.3");
        let paths = doc["paths"].as_object().expect("paths");
        for l in r.iter() {
            assert!(paths.contains_key(&format!("/collections/{}/items", l.name)));
        }
        assert!(doc["paths"]["/collections/mines/items"]["post"].is_object());
        assert!(doc["paths"]["/collections/mines/items/{featureId}"]["patch"].is_object());
        assert!(doc["paths"]["/collections/fire_points/items"]["post"].is_null());
        let params = doc["paths"]["/collections/fire_points/items"]["get"]["parameters"]
            .as_array()
            .expect("params");
        assert!(params.iter().any(|p| p["name"] == "status"));
        let tile = &doc["paths"]["/collections/fire_points/tiles/{tileMatrixSetId}/{tileMatrix}/{tileRow}/{tileCol}"]
            ["get"];
        assert!(tile["responses"]["200"]["content"][MVT].is_object());
        assert!(doc["paths"]["/tileMatrixSets/{tileMatrixSetId}"]["get"].is_object());
        assert_eq!(
            doc["components"]["parameters"]["limit"]["schema"]["maximum"],
            MAX_LIMIT
        );
    }
}

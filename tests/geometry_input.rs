//! GeoJSON positions of one coordinate (found by the `geojson_feature` fuzz target: the geojson
//! crate's conversion panicked on them) are refused with a 422 on every path that takes a
//! geometry from outside, and the server goes on answering.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use serde_json::json;

#[test]
fn a_position_of_one_coordinate_is_a_422_not_a_dropped_connection() {
    let server = demo_server();
    let manager = Client::login(&server, "manager");
    let polygon = json!({"type": "Polygon", "coordinates": [[[106.8, 39.6], [107.0], [106.9, 39.7], [106.8, 39.6]]]});
    let feature = json!({"type": "Feature", "geometry": polygon, "properties": {"name": "x", "code": "150399"}});
    let created = manager.post("/collections/districts/items", &feature);
    assert_eq!(created.status, 422, "{}", created.body);
    assert!(
        created.body.contains("invalid_geometry"),
        "{}",
        created.body
    );
    let now = chrono::Utc::now();
    let (from, to) = (
        now.to_rfc3339(),
        (now + chrono::Duration::days(1)).to_rfc3339(),
    );
    let warning = manager.post(
        "/api/dust/warnings",
        &json!({"level": "red", "area": polygon, "from": from, "to": to}),
    );
    assert_eq!(warning.status, 422, "{}", warning.body);
    assert!(warning.body.contains("two coordinates"), "{}", warning.body);
    assert_eq!(manager.get("/api/me").status, 200);
}

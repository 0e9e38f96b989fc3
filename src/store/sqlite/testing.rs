//! Fixtures for the modules' unit tests: a migrated database in memory, and the district most of
//! them route into (乌达区 150303, a box west of the river).

use rusqlite::Connection;

use super::{gpkg, schema};
use crate::layers::Registry;

/// A migrated database in memory, with the layers it was built from.
pub(crate) fn memory() -> (Connection, Registry) {
    let registry = Registry::builtin().expect("layers");
    let mut conn = Connection::open_in_memory().expect("db");
    gpkg::register_functions(&conn).expect("functions");
    schema::migrate(&mut conn, &registry).expect("migrate");
    (conn, registry)
}

/// The one number `sql` answers (a `count(*)`, mostly): how the tests check what a table holds
/// without a closure and an `expect` at each place.
pub(crate) fn number(conn: &Connection, sql: &str) -> i64 {
    conn.query_row(sql, [], |r| r.get(0)).expect(sql)
}

/// One district, 106.5–106.8°E × 39.3–39.7°N, as a layer file for import.
pub(crate) const WUDA: &str = r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"name":"乌达区","code":"150303"},
    "geometry":{"type":"Polygon","coordinates":[[[106.5,39.3],[106.8,39.3],[106.8,39.7],[106.5,39.7],[106.5,39.3]]]}}]}"#;

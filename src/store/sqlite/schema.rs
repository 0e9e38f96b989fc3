//! Versioned migrations for the app's tables, and layer tables kept in step with `layers/*.toml`.
//!
//! `PRAGMA user_version` belongs to GeoPackage (10200), so our version lives in `qingling_migrations`.

use rusqlite::{Connection, params};

use super::{Result, gpkg};
use crate::layers::Registry;

/// Each migration runs once, in order, inside one transaction with its version row.
const MIGRATIONS: &[(i64, &str, &str)] = &[
    (
        1,
        "app tables: users, sessions, settings, counters, immutable events",
        r#"
CREATE TABLE users (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    username TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('manager', 'district', 'owner', 'patrol')),
    district TEXT,
    holder TEXT,
    created_at TEXT NOT NULL
);
CREATE TABLE sessions (
    token_hash TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    created_at TEXT NOT NULL,
    expires_at TEXT NOT NULL
);
CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    fire TEXT NOT NULL,
    client_id TEXT UNIQUE,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    role TEXT NOT NULL,
    action TEXT NOT NULL,
    from_status TEXT,
    to_status TEXT NOT NULL,
    note TEXT,
    temp_c REAL,
    co_ppm REAL,
    reason TEXT,
    duplicate_of TEXT,
    method TEXT,
    plan_due TEXT,
    responsible TEXT,
    deadline TEXT,
    reignited INTEGER NOT NULL DEFAULT 0,
    request_hash TEXT
);
CREATE INDEX events_fire ON events(fire, id);
CREATE INDEX events_at ON events(at);
-- Events are the record of what happened: never updated, never deleted.
CREATE TRIGGER events_never_updated BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'events are never updated'); END;
CREATE TRIGGER events_never_deleted BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'events are never deleted'); END;
"#,
    ),
    (
        2,
        "photos: evidence files stored beside the database under their SHA-256",
        r#"
CREATE TABLE photos (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    fire TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    format TEXT NOT NULL,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    exif_time TEXT,
    exif_lon REAL,
    exif_lat REAL,
    uploaded_by TEXT NOT NULL,
    uploaded_at TEXT NOT NULL,
    UNIQUE (fire, sha256)
);
CREATE INDEX photos_fire ON photos(fire);
"#,
    ),
    (
        3,
        "notification read markers per user",
        r#"
CREATE TABLE notification_reads (
    username TEXT PRIMARY KEY,
    last_event_id INTEGER NOT NULL DEFAULT 0,
    seen_at TEXT NOT NULL
);
"#,
    ),
    (
        4,
        "webhooks and their durable delivery outbox",
        r#"
CREATE TABLE webhooks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    url TEXT NOT NULL,
    kinds TEXT NOT NULL,
    secret TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    active INTEGER NOT NULL DEFAULT 1
);
-- One row per webhook and event, written in the transaction of the event itself; the ids are
-- the delivery ids receivers dedupe on, so AUTOINCREMENT never reuses one.
CREATE TABLE webhook_outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    webhook INTEGER NOT NULL REFERENCES webhooks(id),
    kind TEXT NOT NULL,
    event_key TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered', 'failed', 'cancelled')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT,
    last_attempt_at TEXT,
    last_status INTEGER,
    last_error TEXT,
    delivered_at TEXT,
    UNIQUE (webhook, kind, event_key)
);
CREATE INDEX webhook_outbox_due ON webhook_outbox(next_attempt_at) WHERE state = 'pending';
CREATE INDEX webhook_outbox_list ON webhook_outbox(webhook, state, id);
"#,
    ),
    (
        5,
        "dust: devices, readings keyed (device, time), hourly rollups",
        r#"
-- A dust monitor's credentials (its map feature is in the dust_monitors layer): the HJ 212 PW
-- as a salted SHA-256, the HTTP device token as SHA-256 (NULL once revoked).
CREATE TABLE dust_devices (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    mn TEXT NOT NULL UNIQUE,
    pw_salt TEXT NOT NULL,
    pw_hash TEXT NOT NULL,
    token_hash TEXT UNIQUE,
    unit TEXT NOT NULL DEFAULT 'mg' CHECK (unit IN ('mg', 'ug')),
    created_at TEXT NOT NULL,
    token_at TEXT,
    revoked_at TEXT
);
-- One row per reading: Unix seconds and values in tenths (0.1 ug/m3, m/s, degree, C, %) as
-- integers. No foreign key: a check per row would cost at a hundred million rows, and devices
-- are never deleted. level: 0 minute, 1 real-time/HTTP, 2 hour, 3 day.
CREATE TABLE dust_readings (
    device INTEGER NOT NULL,
    t INTEGER NOT NULL,
    level INTEGER NOT NULL,
    tsp INTEGER,
    pm10 INTEGER,
    pm25 INTEGER,
    ws INTEGER,
    wd INTEGER,
    temp INTEGER,
    rh INTEGER,
    PRIMARY KEY (device, t)
) WITHOUT ROWID;
-- Per device and hour (Unix seconds / 3600): count and sum (tenths) per quantity of the most
-- preferred level seen (lowest), wind direction as summed unit vectors.
CREATE TABLE dust_hours (
    device INTEGER NOT NULL,
    hour INTEGER NOT NULL,
    level INTEGER NOT NULL,
    n INTEGER NOT NULL,
    tsp_n INTEGER NOT NULL,
    tsp_s INTEGER NOT NULL,
    pm10_n INTEGER NOT NULL,
    pm10_s INTEGER NOT NULL,
    pm25_n INTEGER NOT NULL,
    pm25_s INTEGER NOT NULL,
    ws_n INTEGER NOT NULL,
    ws_s INTEGER NOT NULL,
    wd_n INTEGER NOT NULL,
    wd_x REAL NOT NULL,
    wd_y REAL NOT NULL,
    PRIMARY KEY (device, hour)
) WITHOUT ROWID;
"#,
    ),
    (
        6,
        "QGIS layer styles (layer_styles), registered as an attributes table",
        super::styles::CREATE_TABLE,
    ),
    (
        7,
        "dust alerts: exceedances routed to a mine, their evidence and their life",
        r#"
-- A dust alert: one case per monitor, pollutant and window while it is not closed (a returning
-- exceedance adds evidence or re-opens it). responsible and attribution are JSON; holder and
-- district_code are copied out of responsible for the role filters.
CREATE TABLE dust_alerts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    device INTEGER NOT NULL,
    mn TEXT NOT NULL,
    pollutant TEXT NOT NULL,
    win TEXT NOT NULL,
    value REAL NOT NULL,
    limit_value REAL NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('open', 'rectifying', 'closed')),
    responsible TEXT NOT NULL,
    holder TEXT,
    district_code TEXT,
    attribution TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    closed_at INTEGER
);
CREATE INDEX dust_alerts_case ON dust_alerts(device, pollutant, win, id);
-- Every exceedance seen, once per (device, pollutant, win, period): the alert's evidence, and
-- what makes the periodic check idempotent.
CREATE TABLE dust_exceedances (
    device INTEGER NOT NULL,
    pollutant TEXT NOT NULL,
    win TEXT NOT NULL,
    start INTEGER NOT NULL,
    value REAL NOT NULL,
    limit_value REAL NOT NULL,
    wind_dir REAL,
    alert INTEGER NOT NULL REFERENCES dust_alerts(id),
    PRIMARY KEY (device, pollutant, win, start)
) WITHOUT ROWID;
CREATE TABLE dust_alert_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    alert INTEGER NOT NULL REFERENCES dust_alerts(id),
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    status TEXT NOT NULL,
    note TEXT
);
"#,
    ),
    (
        8,
        "dust warnings and the production restrictions they put on mines",
        r#"
CREATE TABLE dust_warnings (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    level TEXT NOT NULL,
    districts TEXT NOT NULL,
    starts_at TEXT NOT NULL,
    ends_at TEXT NOT NULL,
    note TEXT,
    issued_by TEXT NOT NULL,
    issued_at TEXT NOT NULL
);
-- One per mine inside a warning's districts; due is Unix seconds, by when the owner must
-- acknowledge.
CREATE TABLE dust_restrictions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    warning INTEGER NOT NULL REFERENCES dust_warnings(id),
    mine TEXT NOT NULL,
    mine_name TEXT NOT NULL,
    holder TEXT,
    district_code TEXT NOT NULL,
    measures TEXT NOT NULL,
    due INTEGER NOT NULL,
    acknowledged_at TEXT,
    acknowledged_by TEXT,
    UNIQUE (warning, mine)
);
"#,
    ),
    (
        9,
        "dust: warnings for a drawn area, compliance checks, alert cases beside their map layer",
        r#"
-- A warning's drawn area as a GeoJSON geometry (lon/lat), beside or instead of its districts.
ALTER TABLE dust_warnings ADD COLUMN area TEXT;
-- The measures the level imposed when issued (the rules may change later), as JSON.
ALTER TABLE dust_warnings ADD COLUMN measures TEXT;
-- A point inside the restricted mine, where the map shows the restriction.
ALTER TABLE dust_restrictions ADD COLUMN lon REAL;
ALTER TABLE dust_restrictions ADD COLUMN lat REAL;
-- A patrol's compliance check of a restriction, on the spot; client_id makes a retried
-- submission from an offline tablet land once.
CREATE TABLE dust_restriction_checks (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    restriction INTEGER NOT NULL REFERENCES dust_restrictions(id),
    client_id TEXT UNIQUE,
    compliant INTEGER NOT NULL CHECK (compliant IN (0, 1)),
    note TEXT,
    lon REAL,
    lat REAL,
    at TEXT NOT NULL,
    by TEXT NOT NULL,
    role TEXT NOT NULL
);
CREATE INDEX dust_restriction_checks_restriction ON dust_restriction_checks(restriction);
-- The alert cases keep their data here; the dust_alerts layer (a map of the alerts for GIS
-- clients and OGC API) is written from them in the same transaction.
ALTER TABLE dust_alerts RENAME TO dust_alert_cases;
"#,
    ),
    (
        10,
        "dust violations: their immutable event log; photos name their subject (fire or violation)",
        r#"
-- The life of a dust violation (the dust_issues layer holds its current state): every report and
-- action, never updated, never deleted. client_id makes a retried action from a tablet land once.
CREATE TABLE dust_issue_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    issue TEXT NOT NULL,
    client_id TEXT UNIQUE,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    role TEXT NOT NULL,
    action TEXT NOT NULL,
    from_status TEXT,
    to_status TEXT NOT NULL,
    note TEXT,
    request_hash TEXT
);
CREATE INDEX dust_issue_events_issue ON dust_issue_events(issue, id);
CREATE TRIGGER dust_issue_events_never_updated BEFORE UPDATE ON dust_issue_events
BEGIN SELECT RAISE(ABORT, 'dust violation events are never updated'); END;
CREATE TRIGGER dust_issue_events_never_deleted BEFORE DELETE ON dust_issue_events
BEGIN SELECT RAISE(ABORT, 'dust violation events are never deleted'); END;
-- Listed by GDAL and QGIS beside the fire events (an attributes table).
INSERT OR IGNORE INTO gpkg_contents(table_name, data_type, identifier, description, last_change)
VALUES ('dust_issue_events', 'attributes', '扬尘违规事件', '扬尘违规整改事件（只增不改）', strftime('%Y-%m-%dT%H:%M:%fZ','now'));
-- A photo's subject: the fire column holds the id of a fire or of a dust violation.
ALTER TABLE photos ADD COLUMN subject TEXT NOT NULL DEFAULT 'fire' CHECK (subject IN ('fire', 'dust_issue'));
"#,
    ),
    (
        11,
        "dust: hours waiting to be judged for exceedances, however late their readings came",
        r#"
-- Hours whose rollup changed and whose means the exceedance check has still to judge: written
-- with the readings, emptied by the check once the hour and its local day are over. A reading
-- arriving days late lands here like a fresh one.
CREATE TABLE dust_pending_hours (
    device INTEGER NOT NULL,
    hour INTEGER NOT NULL,
    PRIMARY KEY (device, hour)
) WITHOUT ROWID;
-- What the check looked at before: the last two days.
INSERT INTO dust_pending_hours(device, hour)
    SELECT device, hour FROM dust_hours WHERE hour >= CAST(strftime('%s', 'now') AS INTEGER) / 3600 - 48;
"#,
    ),
    (
        12,
        "accounts: disabled flag, last sign-in, sliding sessions; the audit log",
        r#"
ALTER TABLE users ADD COLUMN disabled_at TEXT;
ALTER TABLE users ADD COLUMN last_login_at TEXT;
-- Sessions end after an idle spell (last_seen_at, refreshed now and then) or at expires_at.
ALTER TABLE sessions ADD COLUMN last_seen_at TEXT;
ALTER TABLE sessions ADD COLUMN address TEXT;
UPDATE sessions SET last_seen_at = created_at;
CREATE INDEX sessions_user ON sessions(user_id);
-- Who did what, when, from where: sign-ins (also failed), sign-outs, account changes and every
-- write request. Only ever appended to.
CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    actor TEXT,
    address TEXT,
    action TEXT NOT NULL,
    method TEXT,
    route TEXT,
    target TEXT,
    status INTEGER,
    detail TEXT
);
CREATE INDEX audit_log_at ON audit_log(at);
CREATE INDEX audit_log_actor ON audit_log(actor, id);
CREATE INDEX audit_log_action ON audit_log(action, id);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
"#,
    ),
    (
        13,
        "field times: when an event or a check was received, beside when it was observed",
        r#"
-- `at` is when a thing happened in the field (a report's or inspection's observed_at, queued
-- offline and sent hours later); history, "as of" counts and ordering stay on it. The time the
-- server received it is kept beside, for the audit trail. NULL for older rows: received then.
ALTER TABLE events ADD COLUMN received_at TEXT;
ALTER TABLE dust_issue_events ADD COLUMN received_at TEXT;
ALTER TABLE dust_restriction_checks ADD COLUMN received_at TEXT;
"#,
    ),
    (
        15,
        "photos: the uploader's role, so owners are not told which authority took a photo",
        r#"
-- As events record the actor's role: the name is shown or withheld by Actor::sees_names_of.
-- Earlier photos take their uploader's role now; an unknown one stays NULL (withheld from owners).
ALTER TABLE photos ADD COLUMN uploaded_role TEXT;
UPDATE photos SET uploaded_role = (SELECT u.role FROM users u WHERE u.username = photos.uploaded_by);
"#,
    ),
    (
        16,
        "clearance read model: each fire's standing, the spans of time fires were not yet cleared, day levels per scope",
        r#"
-- What each fire's events have made of it (the fold of its event log), for the next event.
CREATE TABLE fire_standing (
    fire TEXT PRIMARY KEY,
    code TEXT NOT NULL,
    status TEXT NOT NULL,
    deadline INTEGER,
    district_code TEXT NOT NULL,
    mine TEXT,
    holder TEXT,
    reignitions INTEGER NOT NULL,
    last_at INTEGER NOT NULL,
    span INTEGER
) WITHOUT ROWID;
-- Each stretch of time a fire spent not yet cleared in one status, deadline and place (times in
-- Unix seconds; until_at NULL while it lasts). The lists of any moment are the spans covering it.
CREATE TABLE fire_spans (
    id INTEGER PRIMARY KEY,
    fire TEXT NOT NULL,
    code TEXT NOT NULL,
    status TEXT NOT NULL,
    deadline INTEGER,
    district_code TEXT NOT NULL,
    mine TEXT,
    holder TEXT,
    from_at INTEGER NOT NULL,
    from_event INTEGER NOT NULL,
    until_at INTEGER,
    until_event INTEGER
);
CREATE INDEX fire_spans_current ON fire_spans(district_code) WHERE until_at IS NULL;
CREATE INDEX fire_spans_from ON fire_spans(from_at);
CREATE INDEX fire_spans_until ON fire_spans(until_at);
-- The spans as time intervals, so the ones covering a moment are found without a scan.
CREATE VIRTUAL TABLE fire_spans_rtree USING rtree_i32(id, from_at, until_at);
CREATE TRIGGER fire_spans_rtree_insert AFTER INSERT ON fire_spans BEGIN
    INSERT INTO fire_spans_rtree VALUES (NEW.id, NEW.from_at, coalesce(NEW.until_at, 2147483647));
END;
CREATE TRIGGER fire_spans_rtree_update AFTER UPDATE OF from_at, until_at ON fire_spans BEGIN
    UPDATE fire_spans_rtree SET from_at = NEW.from_at, until_at = coalesce(NEW.until_at, 2147483647) WHERE id = NEW.id;
END;
CREATE TRIGGER fire_spans_rtree_delete AFTER DELETE ON fire_spans BEGIN
    DELETE FROM fire_spans_rtree WHERE id = OLD.id;
END;
-- A scope's counts (all, d:district, h:holder, m:mine) at the end of each local day on which
-- they changed: fires per status, their re-ignitions, the lowest the burning count was at any
-- moment of that day (its start included), and the time of the latest event counted in the row.
CREATE TABLE fire_levels (
    scope TEXT NOT NULL,
    day TEXT NOT NULL,
    reported INTEGER NOT NULL,
    confirmed INTEGER NOT NULL,
    treating INTEGER NOT NULL,
    controlled INTEGER NOT NULL,
    extinguished INTEGER NOT NULL,
    cleared INTEGER NOT NULL,
    reignited INTEGER NOT NULL,
    dismissed INTEGER NOT NULL,
    reignitions INTEGER NOT NULL,
    min_burning INTEGER NOT NULL,
    last_at INTEGER NOT NULL,
    PRIMARY KEY (scope, day)
) WITHOUT ROWID;
CREATE INDEX fire_levels_zero ON fire_levels(scope, day) WHERE min_burning = 0;
"#,
    ),
    (
        17,
        "map tiles: the point layers' grid of counts per cell, and a change counter per layer",
        r#"
-- What a low-zoom tile of a point layer shows without reading the points: per Web Mercator cell
-- (tile `level/cx/cy`), district and status, how many features and the sums of their longitudes
-- and latitudes (their centre). The same by holder beside it, for owners. Kept by triggers on the
-- layer tables, made from the layer files once those tables exist (`tiles::install`), which
-- also fills the grid from the rows already there.
CREATE TABLE tile_grid (
    layer TEXT NOT NULL,
    level INTEGER NOT NULL,
    cx INTEGER NOT NULL,
    cy INTEGER NOT NULL,
    district TEXT NOT NULL,
    status TEXT NOT NULL,
    n INTEGER NOT NULL,
    sx REAL NOT NULL,
    sy REAL NOT NULL,
    PRIMARY KEY (layer, level, cx, cy, district, status)
) WITHOUT ROWID;
CREATE TABLE tile_grid_holders (
    layer TEXT NOT NULL,
    holder TEXT NOT NULL,
    level INTEGER NOT NULL,
    cx INTEGER NOT NULL,
    cy INTEGER NOT NULL,
    status TEXT NOT NULL,
    n INTEGER NOT NULL,
    sx REAL NOT NULL,
    sy REAL NOT NULL,
    PRIMARY KEY (layer, holder, level, cx, cy, status)
) WITHOUT ROWID;
-- The levels the grid is kept at (`store::tiles::GRID_LEVELS`, written by `tiles::install`).
CREATE TABLE tile_levels (level INTEGER PRIMARY KEY);
-- Bumped by every insert, update and delete of a layer's features: a tile's ETag.
CREATE TABLE tile_versions (layer TEXT PRIMARY KEY, version INTEGER NOT NULL);
"#,
    ),
    (
        18,
        "clearance read model: each scope's levels now, and the open spans in one covering index",
        r#"
-- Each scope's levels now: the sum of every change applied to it, which is also its latest
-- `fire_levels` row. Today's clearance answer reads one row a scope here instead of seeking
-- each scope's latest day in the history.
CREATE TABLE fire_levels_now (
    scope TEXT PRIMARY KEY,
    reported INTEGER NOT NULL,
    confirmed INTEGER NOT NULL,
    treating INTEGER NOT NULL,
    controlled INTEGER NOT NULL,
    extinguished INTEGER NOT NULL,
    cleared INTEGER NOT NULL,
    reignited INTEGER NOT NULL,
    dismissed INTEGER NOT NULL,
    reignitions INTEGER NOT NULL
) WITHOUT ROWID;
-- SQLite takes a bare column with max() from the row holding the max: each scope's latest row.
INSERT INTO fire_levels_now
SELECT scope, reported, confirmed, treating, controlled, extinguished, cleared, reignited,
       dismissed, reignitions
FROM (SELECT scope, max(day), reported, confirmed, treating, controlled, extinguished, cleared,
             reignited, dismissed, reignitions
      FROM fire_levels GROUP BY scope);
-- The fires open now, read whole from the index (a few pages) rather than a row each from
-- the spans of the whole history; it replaces the index on their district alone.
DROP INDEX fire_spans_current;
CREATE INDEX fire_spans_open
    ON fire_spans(district_code, mine, fire, code, status, deadline, holder, until_at)
    WHERE until_at IS NULL;
"#,
    ),
    (
        19,
        "HJ 212 as field devices send it: a monitor's system code and edition, data flags and suspect values",
        r#"
-- The system code (ST) and HJ 212 edition a monitor is set up with; NULL accepts any data
-- system (22, 31, 39) and any edition.
ALTER TABLE dust_devices ADD COLUMN st TEXT CHECK (st IS NULL OR (length(st) = 2 AND st GLOB '[0-9][0-9]'));
ALTER TABLE dust_devices ADD COLUMN protocol TEXT CHECK (protocol IS NULL OR protocol IN ('2005', '2017', '2025'));
-- Values stored implausible for their quantity and the monitor's unit (a unit set wrong).
ALTER TABLE dust_devices ADD COLUMN suspect_values INTEGER NOT NULL DEFAULT 0;
-- Readings keyed by (device, time, level): a device sends real-time and minute data stamped
-- with the same minute, and both are kept (a retransmission of either is still stored once).
-- Each value's HJ 212 data flag, one character a quantity in storage order ('-': none sent);
-- NULL when no value had one. Bit i of suspect: value i is implausible; NULL for none.
CREATE TABLE dust_readings_19 (
    device INTEGER NOT NULL,
    t INTEGER NOT NULL,
    level INTEGER NOT NULL,
    tsp INTEGER,
    pm10 INTEGER,
    pm25 INTEGER,
    ws INTEGER,
    wd INTEGER,
    temp INTEGER,
    rh INTEGER,
    flags TEXT,
    suspect INTEGER,
    PRIMARY KEY (device, t, level)
) WITHOUT ROWID;
INSERT INTO dust_readings_19(device, t, level, tsp, pm10, pm25, ws, wd, temp, rh)
SELECT device, t, level, tsp, pm10, pm25, ws, wd, temp, rh FROM dust_readings;
DROP TABLE dust_readings;
ALTER TABLE dust_readings_19 RENAME TO dust_readings;
"#,
    ),
];

/// The newest migration this build knows: a database at a higher version was made by a newer build.
pub fn latest_version() -> i64 {
    MIGRATIONS.iter().map(|m| m.0).max().unwrap_or(0)
}

/// Brings a database up to date: GeoPackage core, app migrations, one table per layer, and any
/// field added to a layer file since the table was made.
pub fn migrate(conn: &mut Connection, registry: &Registry) -> Result<()> {
    let tx = conn.transaction()?;
    gpkg::init(&tx)?;
    tx.execute_batch(
        "CREATE TABLE IF NOT EXISTS qingling_migrations (version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at TEXT NOT NULL)",
    )?;
    let current: i64 = tx.query_row(
        "SELECT coalesce(max(version), 0) FROM qingling_migrations",
        [],
        |r| r.get(0),
    )?;
    for (version, description, sql) in MIGRATIONS.iter().filter(|m| m.0 > current) {
        tx.execute_batch(sql)?;
        tx.execute(
            "INSERT INTO qingling_migrations(version, description, applied_at) VALUES (?1, ?2, ?3)",
            params![version, description, chrono::Utc::now().to_rfc3339()],
        )?;
    }
    for layer in registry.iter() {
        gpkg::create_feature_table(
            &tx,
            &layer.name,
            layer.geometry.gpkg_name(),
            &super::features::columns(layer),
            &layer.title.zh,
            &layer.description.zh,
        )?;
        add_missing_columns(&tx, layer)?;
        for f in [&layer.access.columns.district, &layer.access.columns.holder]
            .into_iter()
            .flatten()
        {
            tx.execute_batch(&format!(
                "CREATE INDEX IF NOT EXISTS \"{t}_{f}\" ON \"{t}\"(\"{f}\")",
                t = layer.name
            ))?;
        }
    }
    // Registering the event log as an attributes table makes GDAL list only registered tables,
    // so accounts and sessions stay out of GIS clients' layer lists.
    tx.execute(
        "INSERT OR IGNORE INTO gpkg_contents(table_name, data_type, identifier, description, last_change)
         VALUES ('events', 'attributes', '火点事件', '火点生命周期事件（只增不改）', strftime('%Y-%m-%dT%H:%M:%fZ','now'))",
        [],
    )?;
    if registry.get("fire_points").is_some() {
        tx.execute_batch("CREATE INDEX IF NOT EXISTS fire_points_status ON fire_points(status)")?;
        // A fire or violation is asked for by its id or its code: both found through an index.
        tx.execute_batch("CREATE INDEX IF NOT EXISTS fire_points_code ON fire_points(code)")?;
        // A page of a fire list (soonest deadline first) reads the index in order and stops at
        // the page's end instead of sorting every fire the filter selects.
        tx.execute_batch(
            "CREATE INDEX IF NOT EXISTS fire_points_deadline ON fire_points(deadline, code)",
        )?;
        // The open fires by deadline (the dashboard's list): a page reads a hundred entries of
        // this index instead of sorting every open fire.
        tx.execute_batch(&format!(
            "CREATE INDEX IF NOT EXISTS fire_points_open_deadline ON fire_points(deadline, code)
             WHERE status IN ({})",
            super::fires::open_statuses_sql()
        ))?;
    }
    if registry.get("dust_issues").is_some() {
        tx.execute_batch("CREATE INDEX IF NOT EXISTS dust_issues_code ON dust_issues(code)")?;
    }
    // A patrol's tiles count the fires cleared within the re-ignition watch from the rows.
    for layer in registry
        .iter()
        .filter(|l| l.field("status").is_some() && l.field("cleared_at").is_some())
    {
        tx.execute_batch(&format!(
            "CREATE INDEX IF NOT EXISTS \"{t}_cleared_at\" ON \"{t}\"(cleared_at) WHERE status = 'cleared'",
            t = layer.name
        ))?;
    }
    super::tiles::install(&tx, registry)?;
    // QGIS opens every layer in the web map's colours (styles follow the layer files).
    super::styles::write(&tx, registry)?;
    tx.commit()?;
    Ok(())
}

fn add_missing_columns(conn: &Connection, layer: &crate::layers::Layer) -> Result<()> {
    let mut stmt = conn.prepare(&format!(
        "SELECT name FROM pragma_table_info('{}')",
        layer.name
    ))?;
    let have: Vec<String> = stmt
        .query_map([], |r| r.get(0))?
        .collect::<std::result::Result<_, _>>()?;
    for col in super::features::columns(layer)
        .iter()
        .filter(|c| !have.contains(&c.name))
    {
        // SQLite cannot add a UNIQUE column; a unique index does the same job.
        conn.execute_batch(&format!(
            "ALTER TABLE \"{}\" ADD COLUMN \"{}\" {}",
            layer.name, col.name, col.sql_type
        ))?;
        if col.unique {
            conn.execute_batch(&format!(
                "CREATE UNIQUE INDEX IF NOT EXISTS \"{t}_{c}_key\" ON \"{t}\"(\"{c}\")",
                t = layer.name,
                c = col.name
            ))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::sqlite::testing::number;

    #[test]
    fn migrating_twice_changes_nothing_and_events_cannot_be_altered() {
        let registry = Registry::builtin().expect("layers");
        let mut conn = Connection::open_in_memory().expect("db");
        gpkg::register_functions(&conn).expect("functions");
        migrate(&mut conn, &registry).expect("first");
        migrate(&mut conn, &registry).expect("second");
        let n = number(&conn, "SELECT count(*) FROM qingling_migrations");
        assert_eq!(n, MIGRATIONS.len() as i64);
        let layers = number(
            &conn,
            "SELECT count(*) FROM gpkg_contents WHERE data_type = 'features'",
        );
        assert_eq!(layers, registry.iter().count() as i64);
        conn.execute(
            "INSERT INTO events(fire, at, actor, role, action, to_status) VALUES ('f', 't', 'a', 'patrol', 'report', 'reported')",
            [],
        )
        .expect("insert");
        let update = conn.execute("UPDATE events SET note = 'x'", []);
        assert!(update.is_err_and(|e| e.to_string().contains("never updated")));
        assert!(conn.execute("DELETE FROM events", []).is_err());
    }

    #[test]
    fn the_levels_now_start_from_each_scopes_latest_day() {
        let registry = Registry::builtin().expect("layers");
        let mut conn = Connection::open_in_memory().expect("db");
        gpkg::register_functions(&conn).expect("functions");
        migrate(&mut conn, &registry).expect("migrate");
        // A database as migration 17 left it, with a history of levels.
        conn.execute_batch(
            "DELETE FROM qingling_migrations WHERE version >= 18;
             ALTER TABLE dust_devices DROP COLUMN st; ALTER TABLE dust_devices DROP COLUMN protocol;
             ALTER TABLE dust_devices DROP COLUMN suspect_values;
             DROP TABLE fire_levels_now; DROP INDEX fire_spans_open;
             CREATE INDEX fire_spans_current ON fire_spans(district_code) WHERE until_at IS NULL;
             INSERT INTO fire_levels VALUES
               ('all', '2026-01-01', 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1),
               ('all', '2026-03-01', 2, 1, 0, 0, 0, 4, 0, 0, 1, 2, 2),
               ('all', '2026-02-01', 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 3),
               ('m:A', '2025-12-31', 0, 0, 1, 0, 0, 0, 0, 0, 3, 1, 4);",
        )
        .expect("as at 17");
        migrate(&mut conn, &registry).expect("to 18");
        let rows: Vec<(String, i64, i64, i64, i64)> = conn
            .prepare(
                "SELECT scope, reported, confirmed, cleared, reignitions FROM fire_levels_now ORDER BY scope",
            )
            .expect("select")
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?)))
            .expect("rows")
            .collect::<rusqlite::Result<_>>()
            .expect("read");
        assert_eq!(
            rows,
            vec![("all".into(), 2, 1, 4, 1), ("m:A".into(), 0, 0, 0, 3)]
        );
    }
}

//! Publishing domain events: what a use case tells the rest of the city's systems, in its own
//! transaction, through the store's outbox. Use cases call these; nothing here knows who
//! listens (the webhook worker in `service::webhooks` is fed from the outbox).

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::{Value, json};
use tokio::sync::Notify;

use crate::domain::event::EventKind;
use crate::domain::fire::Status;
use crate::domain::responsibility::Responsible;
use crate::store::fires::{EventRecord, FireFilter, FireRecord, ts};
use crate::store::outbox::Published;
use crate::store::{Result, Tx};

/// Outbox times keep milliseconds (back-off in tests is shorter than a second); one format per
/// column keeps text order equal to time order.
pub fn ts_ms(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// Wakes the delivery worker after a publish. A process-wide hint rather than a field of the
/// app: the publish runs inside a synchronous transaction that has no handle on the app, and a
/// spurious wake costs one indexed query. Correctness never depends on it: the worker also polls.
static PUBLISHED: Notify = Notify::const_new();

/// Resolves after the next publish that queued a delivery.
pub async fn published() {
    PUBLISHED.notified().await
}

/// Publishes an event inside the caller's transaction, so it commits or rolls back with the
/// change. The same `key` twice within a kind is ignored, which makes sweeps idempotent.
pub fn publish(tx: &dyn Tx, kind: EventKind, key: &str, payload: &Value) -> Result<()> {
    publish_since(tx, kind, key, payload, None)
}

/// [`publish`] for receivers registered at or before `happened_at` only (a sweep that finds an
/// old event must not send it to a receiver registered after it happened).
fn publish_since(
    tx: &dyn Tx,
    kind: EventKind,
    key: &str,
    payload: &Value,
    happened_at: Option<&str>,
) -> Result<()> {
    let n = tx.outbox().publish(&Published {
        kind,
        key,
        payload,
        now: &ts_ms(Utc::now()),
        happened_at,
    })?;
    if n > 0 {
        PUBLISHED.notify_one();
    }
    Ok(())
}

/// What a receiver learns about a fire.
pub fn fire_json(f: &FireRecord) -> Value {
    json!({
        "id": f.id,
        "code": f.code,
        "kind": f.kind,
        "status": f.status,
        "lon": f.lon,
        "lat": f.lat,
        "reported_at": ts(f.reported_at),
        "deadline": f.deadline.map(ts),
        "responsible": f.responsible,
        "reignitions": f.reignitions,
    })
}

fn event_json(event_id: i64, e: &EventRecord) -> Value {
    let mut v = serde_json::to_value(e).unwrap_or(Value::Null);
    if let Some(o) = v.as_object_mut() {
        o.insert("id".into(), event_id.into());
    }
    v
}

/// A newly reported fire.
pub fn fire_reported(tx: &dyn Tx, fire: &FireRecord) -> Result<()> {
    publish(
        tx,
        EventKind::NewFire,
        &fire.id,
        &json!({ "fire": fire_json(fire) }),
    )
}

/// An action recorded as event `event_id`, with the fire as it is afterwards: reassignments,
/// re-ignitions, and the city-wide burning count reaching zero.
pub fn fire_acted(
    tx: &dyn Tx,
    event_id: i64,
    event: &EventRecord,
    fire: &FireRecord,
) -> Result<()> {
    let key = format!("event:{event_id}");
    let payload = json!({ "fire": fire_json(fire), "event": event_json(event_id, event) });
    if event.step.action == "reassign" {
        publish(tx, EventKind::Assignment, &key, &payload)?;
    }
    if event.step.action == "urge" {
        publish(tx, EventKind::Urged, &key, &payload)?;
    }
    if event.reignited {
        publish(tx, EventKind::Reignition, &key, &payload)?;
    }
    let was_burning = event
        .step
        .from
        .as_deref()
        .and_then(Status::parse)
        .is_some_and(Status::is_burning);
    let burning_now = Status::parse(&event.step.to).is_some_and(Status::is_burning);
    if was_burning && !burning_now && !tx.fires().any_burning()? {
        publish(
            tx,
            EventKind::ClearanceZero,
            &key,
            &json!({
                "burning": 0,
                "at": event.step.at,
                "last_fire": fire_json(fire),
                "event": event_json(event_id, event),
            }),
        )?;
    }
    Ok(())
}

/// A fire the system moved to another party (recorded as event `event_id`).
pub fn fire_rerouted(
    tx: &dyn Tx,
    event_id: i64,
    fire: &str,
    from: &Responsible,
    to: &Responsible,
    reason: &str,
) -> Result<()> {
    let Some(f) = tx.fires().get(fire)? else {
        return Ok(());
    };
    publish(
        tx,
        EventKind::Assignment,
        &format!("event:{event_id}"),
        &json!({
            "fire": fire_json(&f),
            "event": {
                "id": event_id,
                "action": "reassign",
                "actor": "system",
                "reason": reason,
                "from": from,
                "to": to,
            },
        }),
    )
}

/// The setting that remembers up to when deadlines have been swept.
const DEADLINE_WATERMARK: &str = "webhooks_deadlines_swept_until";

/// Publishes `deadline_passed` for every burning fire whose deadline passed since the last sweep
/// (or, on the first, since the oldest subscribed receiver was registered), once per fire and
/// deadline: a new deadline can pass again. The watermark keeps each sweep to the deadlines
/// that passed since the one before, so it stays cheap on a province-sized database; the
/// event key makes an overlap harmless. Returns the fires whose deadline passed.
pub fn sweep_deadlines(tx: &dyn Tx, now: DateTime<Utc>) -> Result<usize> {
    // Nobody listening: nothing to find (and no watermark to move past what they would want).
    let Some(listened) = tx.outbox().listened_since(EventKind::DeadlinePassed)? else {
        return Ok(0);
    };
    let since = match tx.settings().get(DEADLINE_WATERMARK)? {
        Some(Value::String(t)) => Some(t),
        _ => Some(listened),
    };
    let since = since
        .and_then(|t| DateTime::parse_from_rfc3339(&t).ok())
        .map_or(now, |t| t.with_timezone(&Utc));
    let passed = tx.fires().list(&FireFilter {
        statuses: Some(Status::ALL.into_iter().filter(|s| s.is_burning()).collect()),
        due_by: Some(now),
        due_from: Some(since),
        ..FireFilter::default()
    })?;
    for f in &passed {
        let Some(deadline) = f.deadline.map(ts) else {
            continue;
        };
        publish_since(
            tx,
            EventKind::DeadlinePassed,
            &format!("{}@{deadline}", f.id),
            &json!({ "fire": fire_json(f), "deadline": deadline }),
            Some(&deadline),
        )?;
    }
    tx.settings()
        .set(DEADLINE_WATERMARK, &Value::String(ts(now)))?;
    Ok(passed.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::responsibility::ResponsibilityIndex;
    use crate::service::webhooks::tests::{db, hook};
    use crate::store::sqlite::SqliteTx;
    use rusqlite::Connection;

    fn pending(conn: &Connection, kind: &str) -> Vec<String> {
        let mut stmt = conn
            .prepare("SELECT event_key FROM webhook_outbox WHERE kind = ?1 ORDER BY id")
            .expect("prepare");
        stmt.query_map([kind], |r| r.get(0))
            .expect("query")
            .collect::<rusqlite::Result<_>>()
            .expect("rows")
    }

    #[test]
    fn enqueue_reaches_only_active_subscribers_once_per_key() {
        let (conn, _) = db();
        let a = hook(&conn, &["new_fire", "assignment"]);
        let b = hook(&conn, &["warning"]);
        let c = hook(&conn, &["new_fire"]);
        assert_eq!(a.secret.len(), 64, "a generated secret");
        SqliteTx::new(&conn)
            .webhooks()
            .deactivate(c.id)
            .expect("deactivate");
        let p = json!({"x": 1});
        publish(&SqliteTx::new(&conn), EventKind::NewFire, "f1", &p).expect("enqueue");
        publish(&SqliteTx::new(&conn), EventKind::NewFire, "f1", &p).expect("again");
        publish(&SqliteTx::new(&conn), EventKind::Reignition, "e1", &p).expect("nobody");
        let rows: Vec<(i64, String)> = conn
            .prepare("SELECT webhook, kind FROM webhook_outbox")
            .expect("prepare")
            .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
            .expect("query")
            .collect::<rusqlite::Result<_>>()
            .expect("rows");
        assert_eq!(rows, vec![(a.id, "new_fire".to_string())]);
        assert!(
            SqliteTx::new(&conn)
                .webhooks()
                .deliveries(b.id, None, 10, 0)
                .expect("list")
                .is_empty()
        );
    }

    #[test]
    fn a_rolled_back_event_sends_nothing() {
        let (mut conn, _) = db();
        hook(&conn, &["new_fire"]);
        {
            let tx = conn.transaction().expect("tx");
            publish(&SqliteTx::new(&tx), EventKind::NewFire, "f1", &json!({})).expect("enqueue");
            tx.rollback().expect("rollback");
        }
        assert!(pending(&conn, "new_fire").is_empty());
    }

    /// A database with one district and a manager, for the hooks in the fire use cases, and who
    /// answers where in it.
    fn city() -> (Connection, crate::layers::Registry, ResponsibilityIndex) {
        let (conn, registry) = db();
        let district = crate::store::sqlite::testing::WUDA;
        import(&conn, &registry, "districts", district);
        let index = ResponsibilityIndex::new(crate::store::areas::load(&conn).expect("areas"));
        (conn, registry, index)
    }

    /// Imports a GeoJSON text into a layer.
    fn import(conn: &Connection, registry: &crate::layers::Registry, layer: &str, text: &str) {
        let tx = SqliteTx::new(conn);
        crate::service::import::import_geojson(&tx, registry, layer, text, crate::i18n::Lang::En)
            .expect(layer);
    }

    #[test]
    fn fire_hooks_enqueue_new_fires_passed_deadlines_zero_burning_and_reignitions_once() {
        use crate::domain::role::Actor;
        use crate::service::fires::{ActionInput, Ctx, act, report};
        let (conn, registry, index) = city();
        let all: Vec<&str> = EventKind::ALL.iter().map(|k| k.as_str()).collect();
        hook(&conn, &all);
        let rules = crate::domain::fire::Rules::default();
        let ctx = Ctx {
            registry: &registry,
            index: &index,
            rules: &rules,
        };
        let manager = Actor::system();
        // Reported ten days ago: its 7-day plan deadline has passed.
        let then = Utc::now() - chrono::Duration::days(10);
        let body = |x: f64| json!({"type": "Feature", "geometry": {"type": "Point", "coordinates": [x, 39.45]}, "properties": {"kind": "coal_seam"}});
        // A fire reported by the manager at `x` (°E) and `at`; `name` says which failed.
        let new_fire = |x: f64, at, name: &str| {
            report(&SqliteTx::new(&conn), &ctx, &manager, &body(x), at)
                .expect(name)
                .fire
        };
        let a = new_fire(106.6, then, "a");
        let b = new_fire(106.7, Utc::now(), "b");
        assert_eq!(pending(&conn, "new_fire"), vec![a.id.clone(), b.id.clone()]);

        assert_eq!(
            sweep_deadlines(&SqliteTx::new(&conn), Utc::now()).expect("sweep"),
            1
        );
        assert_eq!(
            sweep_deadlines(&SqliteTx::new(&conn), Utc::now()).expect("again"),
            0
        );
        // Without the watermark (a lost setting) the overlap is harmless.
        conn.execute("DELETE FROM settings WHERE key = ?1", [DEADLINE_WATERMARK])
            .expect("forget");
        assert_eq!(
            sweep_deadlines(&SqliteTx::new(&conn), Utc::now()).expect("overlap"),
            1
        );
        let overdue = pending(&conn, "deadline_passed");
        assert_eq!(overdue.len(), 1, "once per fire and deadline");
        assert!(overdue[0].starts_with(&a.id));

        let dismiss = ActionInput {
            action: "dismiss".into(),
            reason: Some("test".into()),
            ..ActionInput::default()
        };
        act(
            &SqliteTx::new(&conn),
            &ctx,
            &manager,
            &a.id,
            &dismiss,
            Utc::now(),
        )
        .expect("dismiss a");
        assert!(pending(&conn, "clearance_zero").is_empty(), "b still burns");
        act(
            &SqliteTx::new(&conn),
            &ctx,
            &manager,
            &b.id,
            &dismiss,
            Utc::now(),
        )
        .expect("dismiss b");
        let zero = deliveries_of_kind(&conn, "clearance_zero");
        assert_eq!(zero.len(), 1, "the count reached zero once");
        assert_eq!(zero[0]["burning"], 0);
        assert_eq!(zero[0]["last_fire"]["id"], b.id.as_str());

        // A third fire brought under control reaches zero again, then re-ignites.
        let c = new_fire(106.65, Utc::now(), "c");
        let district = Actor {
            username: "wuda".into(),
            role: crate::domain::role::Role::District,
            district: Some("150303".into()),
            holder: None,
        };
        let step = |who: &Actor, input: serde_json::Value| {
            let input: ActionInput = serde_json::from_value(input).expect("input");
            act(&SqliteTx::new(&conn), &ctx, who, &c.id, &input, Utc::now()).expect("act");
        };
        step(&manager, json!({"action": "confirm"}));
        step(
            &district,
            json!({"action": "start_treatment", "method": "strip_dig"}),
        );
        step(&district, json!({"action": "control", "temp_c": 30.0}));
        assert_eq!(deliveries_of_kind(&conn, "clearance_zero").len(), 2);
        assert!(pending(&conn, "reignition").is_empty());
        step(&manager, json!({"action": "inspect", "temp_c": 300.0}));
        let re = deliveries_of_kind(&conn, "reignition");
        assert_eq!(re.len(), 1);
        assert_eq!(re[0]["fire"]["status"], "reignited");
        assert_eq!(re[0]["event"]["action"], "inspect");
        assert_eq!(deliveries_of_kind(&conn, "clearance_zero").len(), 2);
    }

    #[test]
    fn a_system_reroute_is_an_assignment() {
        use crate::domain::role::Actor;
        use crate::service::fires::{Ctx, report};
        let (conn, registry, index) = city();
        hook(&conn, &["assignment"]);
        let rules = crate::domain::fire::Rules::default();
        let ctx = Ctx {
            registry: &registry,
            index: &index,
            rules: &rules,
        };
        let body = json!({"type": "Feature", "geometry": {"type": "Point", "coordinates": [106.65, 39.45]}, "properties": {"kind": "coal_seam"}});
        let fire = report(
            &SqliteTx::new(&conn),
            &ctx,
            &Actor::system(),
            &body,
            Utc::now(),
        )
        .expect("report")
        .fire;
        let mine = r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"name":"新矿","licence_no":"C9","holder":"新公司","kind":"open_pit","status":"producing"},
            "geometry":{"type":"Polygon","coordinates":[[[106.6,39.4],[106.7,39.4],[106.7,39.5],[106.6,39.5],[106.6,39.4]]]}}]}"#;
        import(&conn, &registry, "mines", mine);
        crate::service::reroute::reroute_open(&SqliteTx::new(&conn), Utc::now(), "boundary update")
            .expect("reroute");
        let sent = deliveries_of_kind(&conn, "assignment");
        assert_eq!(sent.len(), 1);
        assert_eq!(sent[0]["fire"]["id"], fire.id.as_str());
        assert_eq!(sent[0]["event"]["to"]["name"], "新公司");
        assert_eq!(sent[0]["event"]["actor"], "system");
    }

    fn deliveries_of_kind(conn: &Connection, kind: &str) -> Vec<Value> {
        let mut stmt = conn
            .prepare("SELECT payload FROM webhook_outbox WHERE kind = ?1 ORDER BY id")
            .expect("prepare");
        stmt.query_map([kind], |r| r.get::<_, String>(0))
            .expect("query")
            .map(|p| serde_json::from_str(&p.expect("row")).expect("json"))
            .collect()
    }
}

//! The clearance read model against a full replay of the event log, on the demo and on a
//! history made hard on purpose: reports observed days ago, actions queued offline and synced
//! out of order, readings placed late in a fire's history, fires moved between districts while
//! burning, re-ignitions, the extinguish sweep, many events in one second. After every round the
//! counts kept with the events must equal the replay (`service::clearance::recount`), for
//! everything, every district and every holder, at every day's end and now.
#![allow(clippy::unwrap_used)]

mod common;

use chrono::{DateTime, Duration, FixedOffset, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::json;

use qingling::domain::deadline::local_date;
use qingling::domain::fire::{Rules, Status};
use qingling::domain::responsibility::{Party, ResponsibilityIndex};
use qingling::domain::role::{Actor, Role};
use qingling::layers::Registry;
use qingling::service::clearance::{Names, recount};
use qingling::service::fires::{ActionInput, Ctx, act, report, sweep};
use qingling::store::Db;
use qingling::store::fires::FireFilter;

fn demo(dir: &std::path::Path) -> (Db, Registry) {
    let path = dir.join("demo.gpkg");
    qingling::cli::build_demo(&path, &common::root().join("samples")).unwrap();
    let registry = Registry::builtin().unwrap();
    (Db::open(&path, &registry).unwrap(), registry)
}

/// The last `n` local days up to today.
fn days(n: i64) -> Vec<chrono::NaiveDate> {
    let today = local_date(Utc::now());
    (0..n).map(|i| today - Duration::days(i)).rev().collect()
}

fn check(db: &Db, n_days: i64) {
    let r = db
        .read_blocking(|tx| {
            let names = Names::of(&ResponsibilityIndex::new(tx.areas().load()?));
            recount(tx, &names, &days(n_days), Utc::now())
        })
        .unwrap();
    assert!(r.events > 0 && r.scopes > 3, "{r:?}");
    assert!(
        r.problems.is_empty(),
        "read model ≠ replay:\n{}",
        r.problems.join("\n")
    );
}

/// `/api/fires?at=`'s store answer at each of the last `n` days' ends: every fire's status then
/// equals the last event by then, and the open ones found through the spans are the same fires.
fn fires_as_of_agree_with_the_log(db: &Db, n_days: i64) {
    use qingling::store::Slice;
    use qingling::store::fires::Then;
    use std::collections::BTreeMap;
    db.read_blocking(|tx| {
        let (changes, _) = tx.fires().changes(&FireFilter::default())?;
        let all = Slice::first(1_000_000);
        for day in days(n_days) {
            let at = qingling::domain::deadline::end_of_local_day(day).min(Utc::now());
            let mut replay = BTreeMap::new();
            for ch in changes.iter().filter(|ch| ch.at <= at) {
                replay.insert(ch.fire.clone(), ch.to);
            }
            let then = Then { at, statuses: None };
            let (listed, _) = tx.fires().page_as_of(&FireFilter::default(), &then, all)?;
            // The deadlines then, from the events (the spans must carry the same ones).
            // Both answers list the open fires in one order: by the deadline then, then code.
            let in_order: Vec<_> = listed
                .iter()
                .filter(|f| f.status.is_open())
                .map(|f| f.fire.id.clone())
                .collect();
            let mut deadlines: BTreeMap<_, _> = listed
                .iter()
                .filter(|f| f.status.is_open())
                .map(|f| (f.fire.id.clone(), (f.status, f.deadline)))
                .collect();
            let listed: BTreeMap<_, _> =
                listed.into_iter().map(|f| (f.fire.id, f.status)).collect();
            assert_eq!(listed, replay, "statuses at the end of {day}");
            let open: Vec<Status> = Status::ALL.into_iter().filter(|s| s.is_open()).collect();
            let then = Then {
                at,
                statuses: Some(open),
            };
            let (spans, _) = tx.fires().page_as_of(&FireFilter::default(), &then, all)?;
            assert_eq!(
                tx.fires()
                    .count_as_of(&FireFilter::default(), &then, 1_000_000)?,
                Some(spans.len()),
                "open fires counted at the end of {day}"
            );
            let spans_order: Vec<_> = spans.iter().map(|f| f.fire.id.clone()).collect();
            assert_eq!(
                spans_order, in_order,
                "open fires' order at the end of {day}"
            );
            let with_deadlines: BTreeMap<_, _> = spans
                .iter()
                .map(|f| (f.fire.id.clone(), (f.status, f.deadline)))
                .collect();
            deadlines.retain(|_, (s, _)| s.is_open());
            assert_eq!(
                with_deadlines, deadlines,
                "open fires' deadlines at the end of {day}"
            );
            // With a filter on the fires (one district): the same fires, order and count.
            if let Some(d) = spans
                .first()
                .map(|f| f.fire.responsible.district_code.clone())
            {
                let f = FireFilter {
                    district: Some(d),
                    ..FireFilter::default()
                };
                let any = Then { at, statuses: None };
                let (from_events, _) = tx.fires().page_as_of(&f, &any, all)?;
                let from_events: Vec<_> = from_events
                    .into_iter()
                    .filter(|f| f.status.is_open())
                    .map(|f| f.fire.id)
                    .collect();
                let (from_spans, _) = tx.fires().page_as_of(&f, &then, all)?;
                let from_spans: Vec<_> = from_spans.into_iter().map(|f| f.fire.id).collect();
                assert_eq!(
                    from_spans, from_events,
                    "one district's open fires on {day}"
                );
                assert_eq!(
                    tx.fires().count_as_of(&f, &then, 1_000_000)?,
                    Some(from_spans.len())
                );
            }
            let spans: BTreeMap<_, _> = spans.into_iter().map(|f| (f.fire.id, f.status)).collect();
            replay.retain(|_, s| s.is_open());
            assert_eq!(spans, replay, "open fires at the end of {day}");
        }
        Ok::<_, qingling::error::Error>(())
    })
    .unwrap();
}

#[test]
fn the_demo_counts_agree_with_a_replay_of_its_log() {
    let dir = tempfile::tempdir().unwrap();
    let (db, _) = demo(dir.path());
    check(&db, 400);
}

fn local(t: DateTime<Utc>) -> String {
    t.with_timezone(&FixedOffset::east_opt(8 * 3600).unwrap())
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
}

fn manager() -> Actor {
    Actor {
        username: "manager".into(),
        role: Role::Manager,
        district: None,
        holder: None,
    }
}

/// The party a fire's actions come from: its holder's owner, or its district's officer.
fn party_of(r: &qingling::domain::responsibility::Responsible) -> Actor {
    match r.party {
        Party::Holder => Actor {
            username: "owner-x".into(),
            role: Role::Owner,
            district: None,
            holder: r.holder().map(String::from),
        },
        Party::District => Actor {
            username: "district-x".into(),
            role: Role::District,
            district: Some(r.district_code.clone()),
            holder: None,
        },
    }
}

#[test]
fn a_scrambled_history_keeps_the_counts_equal_to_a_replay() {
    let dir = tempfile::tempdir().unwrap();
    let (db, registry) = demo(dir.path());
    let index = db
        .read_blocking(|tx| tx.areas().load().map(ResponsibilityIndex::new))
        .unwrap();
    let districts: Vec<String> = index
        .areas()
        .districts
        .iter()
        .map(|d| d.code.clone())
        .collect();
    let rules = Rules::default();
    let ctx = Ctx {
        registry: &registry,
        index: &index,
        rules: &rules,
    };
    // Points where fires may be reported: around the demo's fires.
    let spots: Vec<(f64, f64)> = db
        .read_blocking(|tx| tx.fires().list(&FireFilter::default()))
        .unwrap()
        .iter()
        .map(|f| (f.lon, f.lat))
        .collect();
    let mut rng = StdRng::seed_from_u64(7);
    let now = Utc::now();
    let patrol = Actor {
        username: "patrol".into(),
        role: Role::Patrol,
        district: None,
        holder: None,
    };
    let mut late_made = 0;
    for round in 0..6 {
        let mut done = 0;
        db.write_blocking(|tx| {
            for _ in 0..60 {
                let roll: f64 = rng.random();
                if roll < 0.35 {
                    // A report, seen up to six days ago, often in the same second as others.
                    let (x, y) = spots[rng.random_range(0..spots.len())];
                    let ago = Duration::minutes(rng.random_range(0..6 * 24 * 60));
                    let seen = if rng.random_bool(0.2) { now } else { now - ago };
                    let kind = ["coal_seam", "waste_dump", "gangue_heap"][rng.random_range(0..3)];
                    let body = json!({"type": "Feature",
                        "geometry": {"type": "Point", "coordinates": [x + rng.random_range(-0.002..0.002), y + rng.random_range(-0.002..0.002)]},
                        "properties": {"kind": kind, "observed_at": local(seen), "temp_c": 120.0}});
                    if report(tx, &ctx, &patrol, &body, now).is_ok() {
                        done += 1;
                    }
                    continue;
                }
                let open = tx.fires().list(&FireFilter {
                    statuses: Some(
                        Status::ALL
                            .into_iter()
                            .filter(|s| s.is_open() || *s == Status::Cleared)
                            .collect(),
                    ),
                    ..FireFilter::default()
                })?;
                if open.is_empty() {
                    continue;
                }
                let f = &open[rng.random_range(0..open.len())];
                let last = tx.fires().last_event_at(&f.id)?.unwrap_or(f.reported_at);
                // Seen between the fire's last event and now (actions synced out of order
                // across fires), or before it (a late reading or progress note).
                let span = (now - last).num_seconds().max(1);
                let mut seen = last + Duration::seconds(rng.random_range(0..=span));
                // Placed between the fire's report (or the oldest time still accepted) and its
                // last event: earlier would be refused, and the history would hold no late event
                // whenever the random walk happened to pick fires with nothing after the report.
                let earliest = f.reported_at.max(now - Duration::days(6));
                let room = (last - earliest).num_seconds() - 1;
                // Fires with room for one are few on some days (it depends on the hour the
                // demo was made): the first few that have room always get one.
                let late = room > 60 && (late_made < 6 || rng.random_bool(0.2));
                if late {
                    seen = last - Duration::seconds(rng.random_range(1..=room.min(600 * 60)));
                }
                let (who, input) = match f.status {
                    // Only a reading or a progress note may be placed before the last event.
                    Status::Treating if late => (party_of(&f.responsible), json!({"action": "progress", "note": "补记"})),
                    Status::Dismissed => continue,
                    _ if late => (manager(), json!({"action": "inspect", "temp_c": 200.0})),
                    Status::Reported => match rng.random_range(0..3) {
                        0 => (manager(), json!({"action": "dismiss", "reason": "test"})),
                        1 => {
                            let other = &districts[rng.random_range(0..districts.len())];
                            (manager(), json!({"action": "reassign", "reason": "边界", "responsible": {"party": "district", "district_code": other}}))
                        }
                        _ => (manager(), json!({"action": "confirm"})),
                    },
                    Status::Confirmed | Status::Reignited if rng.random_bool(0.3) => {
                        // Moved while burning: the counts follow it to its new district.
                        let other = &districts[rng.random_range(0..districts.len())];
                        (manager(), json!({"action": "reassign", "reason": "边界", "responsible": {"party": "district", "district_code": other}}))
                    }
                    Status::Confirmed | Status::Reignited => (
                        party_of(&f.responsible),
                        json!({"action": "start_treatment", "method": "loess_cover"}),
                    ),
                    Status::Treating => match rng.random_range(0..3) {
                        0 => (party_of(&f.responsible), json!({"action": "progress", "note": "覆土"})),
                        _ => (party_of(&f.responsible), json!({"action": "control", "temp_c": 30.0})),
                    },
                    Status::Controlled | Status::Extinguished | Status::Cleared => {
                        let hot = rng.random_bool(0.3);
                        let temp = if hot { 180.0 } else { 25.0 };
                        if f.status == Status::Extinguished && rng.random_bool(0.5) {
                            (manager(), json!({"action": "clear"}))
                        } else {
                            (manager(), json!({"action": "inspect", "temp_c": temp}))
                        }
                    }
                };
                let mut input: ActionInput = serde_json::from_value(input).unwrap();
                input.observed_at = Some(local(seen));
                if act(tx, &ctx, &who, &f.id, &input, now).is_ok() {
                    done += 1;
                    late_made += usize::from(late);
                }
            }
            // Controlled fires that met the standard, dated when they met it.
            sweep(tx, now + Duration::days(40 * i64::from(round == 5)), &rules)?;
            Ok::<_, qingling::error::Error>(())
        })
        .unwrap();
        assert!(done > 10, "round {round}: only {done} steps were accepted");
        check(&db, 10);
        fires_as_of_agree_with_the_log(&db, 10);
    }
    // The history holds what makes the counts hard, or the test proves little.
    let conn = qingling::store::connect(db.path()).unwrap();
    let n = |sql: &str| -> i64 { conn.query_row(sql, [], |r| r.get(0)).unwrap() };
    assert!(n("SELECT count(*) FROM events WHERE action = 'reassign'") > 3);
    assert!(n("SELECT count(*) FROM events WHERE reignited = 1") > 3);
    assert!(n("SELECT count(*) FROM events WHERE action = 'extinguish' AND actor = 'system'") > 0);
    // Observed before the fire's previous event (placed late in its history).
    assert!(
        n(
            "SELECT count(*) FROM events e WHERE EXISTS (SELECT 1 FROM events p WHERE p.fire = e.fire AND p.id < e.id AND p.at > e.at)"
        ) > 3
    );
    // Reports observed days before they reached the server.
    assert!(
        n(
            "SELECT count(*) FROM events WHERE action = 'report' AND julianday(received_at) - julianday(at) > 1"
        ) > 10
    );
    // Many events in one second.
    assert!(n("SELECT count(*) FROM (SELECT at FROM events GROUP BY at HAVING count(*) > 1)") > 3);
}

#[test]
fn an_unchanged_read_model_is_rebuilt_identically_and_recount_fix_restores_a_damaged_one() {
    let dir = tempfile::tempdir().unwrap();
    let (db, _) = demo(dir.path());
    let path = dir.path().join("demo.gpkg");
    let snapshot = |conn: &rusqlite::Connection| -> Vec<String> {
        let mut out = vec![];
        for (table, order) in [
            ("fire_standing", "fire"),
            ("fire_spans", "fire, from_at, from_event"),
            ("fire_levels", "scope, day"),
        ] {
            let mut stmt = conn
                .prepare(&format!("SELECT * FROM {table} ORDER BY {order}"))
                .unwrap();
            let n = stmt.column_count();
            let rows = stmt
                .query_map([], |r| {
                    let cells: Vec<String> = (0..n)
                        .map(|i| match r.get_ref(i).unwrap() {
                            rusqlite::types::ValueRef::Null => "∅".into(),
                            rusqlite::types::ValueRef::Integer(v) => v.to_string(),
                            rusqlite::types::ValueRef::Real(v) => v.to_string(),
                            rusqlite::types::ValueRef::Text(t) => String::from_utf8_lossy(t).into(),
                            rusqlite::types::ValueRef::Blob(_) => "blob".into(),
                        })
                        .collect();
                    // Span ids are assigned anew by a rebuild.
                    let skip = usize::from(table == "fire_spans");
                    Ok(cells[skip..].join("|"))
                })
                .unwrap();
            out.extend(rows.map(|r| format!("{table}: {}", r.unwrap())));
        }
        out
    };
    let conn = qingling::store::connect(&path).unwrap();
    let kept = snapshot(&conn);
    db.write_blocking(|tx| tx.counts().rebuild()).unwrap();
    let rebuilt = snapshot(&conn);
    assert!(kept.len() > 100, "{}", kept.len());
    assert_eq!(kept, rebuilt, "kept with each event = rebuilt from the log");
    // Damage it: the check finds it, the fix rebuilds it.
    conn.execute(
        "UPDATE fire_levels SET reported = reported + 3 WHERE scope = 'all'",
        [],
    )
    .unwrap();
    drop(db);
    let run = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_qingling"))
            .args(args)
            .output()
            .unwrap();
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    let db_arg = path.to_str().unwrap();
    let (ok, err) = run(&["check", "--db", db_arg, "--recount", "--days", "30"]);
    assert!(!ok && err.contains("differences"), "{err}");
    let (ok, err) = run(&[
        "check",
        "--db",
        db_arg,
        "--recount",
        "--days",
        "30",
        "--fix",
    ]);
    assert!(ok && err.contains("agree"), "{err}");
}

/// A fire reported late (synced after a later event of its district) can take away a moment
/// the district's burning count was zero: the day's zero mark is recounted, not kept.
#[test]
fn a_report_synced_late_removes_the_zero_moment_it_covers() {
    let dir = tempfile::tempdir().unwrap();
    let registry = Registry::builtin().unwrap();
    let db = Db::open(&dir.path().join("q.gpkg"), &registry).unwrap();
    let districts =
        std::fs::read_to_string(common::root().join("samples/districts.geojson")).unwrap();
    db.write_blocking(|tx| {
        qingling::service::import::import_geojson(
            tx,
            &registry,
            "districts",
            &districts,
            qingling::i18n::Lang::En,
        )
    })
    .unwrap();
    let index = db
        .read_blocking(|tx| tx.areas().load().map(ResponsibilityIndex::new))
        .unwrap();
    let rules = Rules::default();
    let ctx = Ctx {
        registry: &registry,
        index: &index,
        rules: &rules,
    };
    let d = &index.areas().districts[0];
    let p = geo::InteriorPoint::interior_point(&d.geom).unwrap();
    // Noon (local) of a day that has passed, so every step is on one local day before it.
    let real = Utc::now() - Duration::hours(1);
    let noon = local_date(real).and_hms_opt(12, 0, 0).unwrap();
    let mut base = noon
        .and_local_timezone(FixedOffset::east_opt(8 * 3600).unwrap())
        .unwrap()
        .with_timezone(&Utc);
    if base > real {
        base -= Duration::days(1);
    }
    let officer = Actor {
        username: "officer".into(),
        role: Role::District,
        district: Some(d.code.clone()),
        holder: None,
    };
    let patrol = Actor {
        username: "patrol".into(),
        role: Role::Patrol,
        district: None,
        holder: None,
    };
    let fire = |seen: DateTime<Utc>| {
        json!({"type": "Feature",
        "geometry": {"type": "Point", "coordinates": [p.x(), p.y()]},
        "properties": {"kind": "gangue_heap", "observed_at": local(seen)}})
    };
    db.write_blocking(|tx| {
        let a = report(
            tx,
            &ctx,
            &patrol,
            &fire(base - Duration::days(2)),
            base - Duration::days(2),
        )?
        .fire;
        for (who, action, minutes) in [
            (manager(), json!({"action": "confirm"}), 180),
            (
                officer.clone(),
                json!({"action": "start_treatment", "method": "water"}),
                170,
            ),
            (
                officer.clone(),
                json!({"action": "control", "temp_c": 20.0}),
                150,
            ),
        ] {
            let mut input: ActionInput = serde_json::from_value(action).unwrap();
            input.observed_at = Some(local(base - Duration::minutes(minutes)));
            act(tx, &ctx, &who, &a.id, &input, base)?;
        }
        // Seen at 09:20, while the first still burned; synced after its control at 09:30.
        report(
            tx,
            &ctx,
            &patrol,
            &fire(base - Duration::minutes(160)),
            base,
        )?;
        Ok::<_, qingling::error::Error>(())
    })
    .unwrap();
    check(&db, 5);
    let scope = qingling::domain::clearance::ScopeKey::District(d.code.clone());
    let since = db
        .read_blocking(|tx| tx.counts().left_zero(&scope, Utc::now(), None))
        .unwrap();
    assert_eq!(
        since,
        Some(base - Duration::days(2)),
        "burning without a break since the first report"
    );
}

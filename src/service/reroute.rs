//! Re-deriving responsibility after the polygons change (a re-imported boundary, an edited
//! mining right): every open fire, and every dust violation not yet verified, whose party the
//! geometry now decides differently is moved to the new party by a system `reassign` event. A
//! manager's own reassignment of a fire stands.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::domain::fire::Status;
use crate::domain::responsibility::{ResponsibilityIndex, Responsible};
use crate::error::Result;
use crate::store::Tx;
use crate::store::fires::{EventRecord, FireFilter};
use crate::store::step::Step;

/// One fire or dust violation moved to another party.
#[derive(Debug, Clone, Serialize)]
pub struct Rerouted {
    /// `fire_points` or `dust_issues`.
    pub layer: &'static str,
    /// The fire's or violation's uuid.
    pub id: String,
    pub code: String,
    pub from: Responsible,
    pub to: Responsible,
}

/// Whether a manager set this fire's party by hand (the last event that set a party).
fn manually_assigned(tx: &dyn Tx, fire: &str) -> Result<bool> {
    let last = tx.fires().last_party_setter(fire)?;
    Ok(last.is_some_and(|(action, actor)| action == "reassign" && actor != "system"))
}

/// Re-derives the party of every open fire and dust violation from the polygons now in the
/// database, inside the caller's transaction. Returns those that moved, fires first.
pub fn reroute_open(tx: &dyn Tx, now: DateTime<Utc>, reason: &str) -> Result<Vec<Rerouted>> {
    let index = ResponsibilityIndex::new(tx.areas().load()?);
    let mut moved = reroute_fires(tx, &index, now, reason)?;
    let issues = crate::service::dust_issues::reroute_open(tx, &index, now, reason)?;
    moved.extend(issues.into_iter().map(|(id, code, from, to)| Rerouted {
        layer: "dust_issues",
        id,
        code,
        from,
        to,
    }));
    Ok(moved)
}

/// Open fires and dust violations the polygons now in the database place outside every
/// district: nobody would answer for them.
pub fn stranded(tx: &dyn Tx) -> Result<usize> {
    let index = ResponsibilityIndex::new(tx.areas().load()?);
    let outside = |lon: f64, lat: f64| index.assign(geo::Point::new(lon, lat)).is_err();
    let fires = tx
        .fires()
        .list(&open_fires())?
        .iter()
        .filter(|f| outside(f.lon, f.lat))
        .count();
    let issues = crate::service::dust_issues::open_positions(tx)?
        .into_iter()
        .filter(|(lon, lat)| outside(*lon, *lat))
        .count();
    Ok(fires + issues)
}

/// Fires not yet cleared (nor dismissed): someone still answers for them.
fn open_fires() -> FireFilter<'static> {
    FireFilter::statuses(Status::ALL.into_iter().filter(|s| s.is_open()))
}

fn reroute_fires(
    tx: &dyn Tx,
    index: &ResponsibilityIndex,
    now: DateTime<Utc>,
    reason: &str,
) -> Result<Vec<Rerouted>> {
    let open = tx.fires().list(&open_fires())?;
    let mut moved = vec![];
    for f in open {
        let Ok(new) = index.assign(geo::Point::new(f.lon, f.lat)) else {
            continue;
        };
        if new.same_party(&f.responsible) || manually_assigned(tx, &f.id)? {
            continue;
        }
        let event_id = tx.fires().append_event(&EventRecord {
            fire: f.id.clone(),
            step: Step {
                from: Some(f.status.as_str().into()),
                to: f.status.as_str().into(),
                ..Step::system("reassign", now)
            },
            reason: Some(reason.into()),
            responsible: serde_json::to_value(&new).ok(),
            ..Default::default()
        })?;
        tx.fires().update_responsible(&f.id, &new, now)?;
        crate::service::events::fire_rerouted(tx, event_id, &f.id, &f.responsible, &new, reason)?;
        moved.push(Rerouted {
            layer: "fire_points",
            id: f.id,
            code: f.code,
            from: f.responsible,
            to: new,
        });
    }
    Ok(moved)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::role::{Actor, Role};
    use crate::service::fires::{Ctx, report};
    use crate::service::import::import_geojson;
    use crate::store::sqlite::SqliteTx;
    use serde_json::json;

    #[test]
    fn a_new_mining_right_takes_the_open_fires_and_violations_inside_it() {
        let (conn, registry) = crate::store::sqlite::testing::memory();
        let district = crate::store::sqlite::testing::WUDA;
        import_geojson(
            &crate::store::sqlite::SqliteTx::new(&conn),
            &registry,
            "districts",
            district,
            crate::i18n::Lang::En,
        )
        .expect("district");
        let rules = crate::domain::fire::Rules::default();
        let index = ResponsibilityIndex::new(crate::store::areas::load(&conn).expect("areas"));
        let ctx = Ctx {
            registry: &registry,
            index: &index,
            rules: &rules,
        };
        let patrol = Actor {
            username: "p".into(),
            role: Role::Patrol,
            district: None,
            holder: None,
        };
        let now = Utc::now();
        let body = json!({"type": "Feature", "geometry": {"type": "Point", "coordinates": [106.65, 39.45]}, "properties": {"kind": "coal_seam"}});
        let tx = SqliteTx::new(&conn);
        let fire = report(&tx, &ctx, &patrol, &body, now).expect("report").fire;
        assert_eq!(fire.responsible.name, "乌达区");
        // A dust violation beside it, and a verified one, which stays where it was.
        let issue_rules = crate::domain::dust_issue::DustIssueRules::default();
        let issue_ctx = crate::service::dust_issues::Ctx {
            registry: &registry,
            index: &index,
            rules: &issue_rules,
        };
        let issue = |x: f64| {
            let body = json!({"type": "Feature", "geometry": {"type": "Point", "coordinates": [x, 39.45]}, "properties": {"kind": "open_stockpile"}});
            crate::service::dust_issues::report(&tx, &issue_ctx, &patrol, &body, now)
                .expect("issue")
                .issue
        };
        let open_issue = issue(106.66);
        let verified = issue(106.67);
        conn.execute(
            "UPDATE dust_issues SET status = 'verified' WHERE uuid = ?1",
            [&verified.uuid],
        )
        .expect("verified");
        let mine = r#"{"type":"FeatureCollection","features":[{"type":"Feature","properties":{"name":"新矿","licence_no":"C9","holder":"新公司","kind":"open_pit","status":"producing"},
            "geometry":{"type":"Polygon","coordinates":[[[106.6,39.4],[106.7,39.4],[106.7,39.5],[106.6,39.5],[106.6,39.4]]]}}]}"#;
        import_geojson(&tx, &registry, "mines", mine, crate::i18n::Lang::En).expect("mine");
        let moved = reroute_open(&tx, now, "boundary update").expect("reroute");
        let what: Vec<(&str, &str, &str)> = moved
            .iter()
            .map(|m| (m.layer, m.id.as_str(), m.to.name.as_str()))
            .collect();
        assert_eq!(
            what,
            [
                ("fire_points", fire.id.as_str(), "新公司"),
                ("dust_issues", open_issue.uuid.as_str(), "新公司")
            ]
        );
        let issue_events = tx.dust_issues().events(&open_issue.uuid).expect("events");
        assert_eq!(
            issue_events
                .last()
                .map(|e| (e.step.action.as_str(), e.step.actor.as_str())),
            Some(("reassign", "system"))
        );
        let still = tx
            .dust_issues()
            .get(&verified.uuid)
            .expect("get")
            .expect("issue");
        assert_eq!(
            still.responsible.name, "乌达区",
            "a verified violation keeps its party"
        );
        let after = tx.fires().get(&fire.id).expect("get").expect("fire");
        assert_eq!(after.responsible.holder(), Some("新公司"));
        let events = tx.fires().events(&fire.id).expect("events");
        assert_eq!(
            events
                .last()
                .map(|e| (e.step.action.as_str(), e.step.actor.as_str())),
            Some(("reassign", "system"))
        );
        assert!(
            reroute_open(&tx, now, "again").expect("reroute").is_empty(),
            "nothing moves twice"
        );
    }
}

//! What a reader may see of a layer ([`Visible`]) as an SQL condition on its table (alias `t`):
//! the one translation of a scope, used by every scoped read of the engine (features, fires,
//! violations, notifications) so they always agree.

use rusqlite::types::Value as Sql;

use super::filter::Condition;
use crate::domain::access::Scope;
use crate::layers::Layer;
use crate::store::features::Visible;

/// The condition for what `view` allows. Every scoped query of the engine starts from it (the
/// fires', violations' and notifications' too), never from a condition built outside.
pub(in crate::store) fn condition(view: &Visible) -> Condition {
    let (sql, params) = build(view.layer, view.scope, view.watch_since);
    Condition { sql, params }
}

fn build(layer: &Layer, scope: &Scope, watch_since: &str) -> (String, Vec<Sql>) {
    if let (Some(follows), Some(parent)) = (&layer.access.follows, layer.access.parent.as_deref()) {
        return follow(&follows.column, parent, scope, watch_since);
    }
    let col = |c: &Option<String>| c.clone();
    match scope {
        Scope::All => ("1".into(), vec![]),
        Scope::District(code) => match col(&layer.access.columns.district) {
            Some(c) => (format!("t.\"{c}\" = ?"), vec![Sql::Text(code.clone())]),
            None => ("0".into(), vec![]),
        },
        Scope::Holder(h) => match col(&layer.access.columns.holder) {
            Some(c) => (format!("t.\"{c}\" = ?"), vec![Sql::Text(h.clone())]),
            None => ("0".into(), vec![]),
        },
        Scope::Open if layer.field("status").is_some() && layer.field("cleared_at").is_some() => (
            format!(
                "(t.status IN ({}) OR (t.status = 'cleared' AND t.cleared_at >= ?))",
                super::fires::open_statuses_sql()
            ),
            vec![Sql::Text(watch_since.into())],
        ),
        Scope::Open if !layer.access.closed.is_empty() => (
            format!(
                "t.status NOT IN ({})",
                vec!["?"; layer.access.closed.len()].join(",")
            ),
            layer.access.closed.iter().cloned().map(Sql::Text).collect(),
        ),
        Scope::Open => ("1".into(), vec![]),
        Scope::Nothing => ("0".into(), vec![]),
    }
}

/// A scope as a condition on a table of cases that is not a layer (dust alert cases,
/// restrictions), by its own district and holder columns; `open` is the condition of a case
/// still open, for the patrols' scope (`None`: patrols see every case).
pub(in crate::store) fn case(
    scope: &Scope,
    district: &str,
    holder: &str,
    open: Option<&str>,
) -> Condition {
    let (sql, params) = match scope {
        Scope::All => ("1".into(), vec![]),
        Scope::District(code) => (format!("{district} = ?"), vec![Sql::Text(code.clone())]),
        Scope::Holder(h) => (format!("{holder} = ?"), vec![Sql::Text(h.clone())]),
        Scope::Open => (open.unwrap_or("1").to_string(), vec![]),
        Scope::Nothing => ("0".into(), vec![]),
    };
    Condition { sql, params }
}

/// The scope of a layer whose rows belong to rows of `parent` (an inspection to its fire): a row
/// is readable exactly when the row its `column` names is, whatever the role.
fn follow(column: &str, parent: &Layer, scope: &Scope, watch_since: &str) -> (String, Vec<Sql>) {
    match scope {
        Scope::All => ("1".into(), vec![]),
        Scope::Nothing => ("0".into(), vec![]),
        _ => {
            let (cond, params) = build(parent, scope, watch_since);
            let key = parent.key.as_deref().unwrap_or("fid");
            // The subquery's own alias `t` shadows the outer one, so `cond` applies to the parent.
            (
                format!(
                    "t.\"{column}\" IN (SELECT t.\"{key}\" FROM \"{}\" t WHERE {cond})",
                    parent.name
                ),
                params,
            )
        }
    }
}

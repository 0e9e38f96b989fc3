//! Typed feature filters ([`Filter`]) as SQL conditions on the layer's table (alias `t`): field
//! names quoted, every value a bound parameter, times in the stored RFC 3339 form.

use rusqlite::types::Value as Sql;

use crate::store::features::{Cmp, Filter, Operand};
use crate::store::fires::ts;

/// An SQL condition on a layer's rows (alias `t`) with its bound parameters, in order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Condition {
    pub sql: String,
    pub params: Vec<Sql>,
}

/// `t."name"`, with any quote in the name doubled.
pub(crate) fn column(name: &str) -> String {
    format!("t.\"{}\"", name.replace('"', "\"\""))
}

/// The condition a filter stands for. The HTTP layer's unit tests check its SQL too.
pub(crate) fn compile(f: &Filter) -> Condition {
    let mut params = vec![];
    let sql = expr(f, &mut params);
    Condition { sql, params }
}

/// Every filter, joined with `AND` (each parenthesised), or `None` for no filters.
pub(crate) fn all(filters: &[Filter]) -> Option<Condition> {
    if filters.is_empty() {
        return None;
    }
    let mut out = Condition::default();
    for f in filters {
        let c = compile(f);
        if !out.sql.is_empty() {
            out.sql += " AND ";
        }
        out.sql += &format!("({})", c.sql);
        out.params.extend(c.params);
    }
    Some(out)
}

fn cmp(op: Cmp) -> &'static str {
    match op {
        Cmp::Eq => "=",
        Cmp::Ne => "<>",
        Cmp::Lt => "<",
        Cmp::Le => "<=",
        Cmp::Gt => ">",
        Cmp::Ge => ">=",
    }
}

fn operand(o: &Operand, params: &mut Vec<Sql>) -> String {
    let bind = |params: &mut Vec<Sql>, v: Sql| {
        params.push(v);
        "?".to_string()
    };
    match o {
        Operand::Field(name) => column(name),
        Operand::Text(t) => bind(params, Sql::Text(t.clone())),
        Operand::Number(n) => bind(params, Sql::Real(*n)),
        Operand::Bool(b) => bind(params, Sql::Integer(i64::from(*b))),
        Operand::Time(t) => bind(params, Sql::Text(ts(*t))),
        Operand::Date(d) => bind(params, Sql::Text(d.format("%Y-%m-%d").to_string())),
        Operand::Casei(inner) => format!("lower({})", operand(inner, params)),
    }
}

fn expr(f: &Filter, params: &mut Vec<Sql>) -> String {
    let not = |negated: bool| if negated { "NOT " } else { "" };
    match f {
        Filter::And(parts) | Filter::Or(parts) => {
            let op = if matches!(f, Filter::And(_)) {
                " AND "
            } else {
                " OR "
            };
            let sql: Vec<String> = parts.iter().map(|p| expr(p, params)).collect();
            format!("({})", sql.join(op))
        }
        Filter::Not(inner) => format!("(NOT {})", expr(inner, params)),
        Filter::Const(b) => if *b { "1" } else { "0" }.to_string(),
        Filter::Compare(a, op, b) => {
            let l = operand(a, params);
            let r = operand(b, params);
            format!("({l} {} {r})", cmp(*op))
        }
        Filter::Like {
            value,
            pattern,
            casei,
            negated,
        } => {
            let l = operand(value, params);
            let glob = like_to_glob(pattern);
            // SQLite's lower() folds ASCII only; fold the pattern the same way.
            let glob = if *casei {
                glob.to_ascii_lowercase()
            } else {
                glob
            };
            params.push(Sql::Text(glob));
            // GLOB, not LIKE: CQL2's LIKE is case-sensitive and SQLite's LIKE is not.
            let sql = format!("({l} GLOB ?)");
            if *negated {
                format!("(NOT {sql})")
            } else {
                sql
            }
        }
        Filter::Between {
            value,
            low,
            high,
            negated,
        } => {
            let v = operand(value, params);
            let lo = operand(low, params);
            let hi = operand(high, params);
            format!("({v} {}BETWEEN {lo} AND {hi})", not(*negated))
        }
        Filter::In {
            value,
            list,
            negated,
        } => {
            let v = operand(value, params);
            let items: Vec<String> = list.iter().map(|o| operand(o, params)).collect();
            format!("({v} {}IN ({}))", not(*negated), items.join(", "))
        }
        Filter::IsNull { value, negated } => {
            let v = operand(value, params);
            format!("({v} IS {}NULL)", not(*negated))
        }
    }
}

/// CQL2 LIKE (`%` any run, `_` one character, `\` escapes) as a GLOB pattern.
pub(crate) fn like_to_glob(pattern: &str) -> String {
    let mut out = String::new();
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        let literal = |c: char| match c {
            '*' | '?' | '[' => format!("[{c}]"),
            c => c.to_string(),
        };
        match c {
            '\\' => match chars.next() {
                Some(next) => out += &literal(next),
                None => out += "\\",
            },
            '%' => out.push('*'),
            '_' => out.push('?'),
            c => out += &literal(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_join_with_and_and_names_stay_quoted() {
        let c = all(&[
            Filter::one_of("kind", &["coal_seam".into(), "dump".into()]),
            Filter::IsNull {
                value: Operand::Field("a\"b".into()),
                negated: true,
            },
        ])
        .expect("two filters");
        assert_eq!(
            c.sql,
            "((t.\"kind\" IN (?, ?))) AND ((t.\"a\"\"b\" IS NOT NULL))"
        );
        assert_eq!(
            c.params,
            vec![Sql::Text("coal_seam".into()), Sql::Text("dump".into())]
        );
        assert!(all(&[]).is_none());
    }

    #[test]
    fn like_patterns_translate_to_case_sensitive_globs() {
        assert_eq!(like_to_glob("a%b_c"), "a*b?c");
        assert_eq!(like_to_glob("100\\%*?[x]"), "100%[*][?][[]x]");
    }
}

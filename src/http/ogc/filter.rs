//! Item filters as SQL conditions on the layer's table (alias `t`): a CQL2 expression (Part 3),
//! `datetime` on the layer's time field (Part 1), and `property=value` equality (Part 3's
//! queryables as query parameters). Property names are checked against the queryables and
//! quoted; every value is a bound parameter.

use chrono::{DateTime, Duration, NaiveDate, SecondsFormat, Utc};
use rusqlite::types::Value as Sql;

use super::cql2::{Expr, Scalar};
use crate::error::Error;
use crate::layers::{Field, FieldType};
use crate::store::features::Condition;

fn bad(detail: impl Into<String>) -> Error {
    Error::bad_request("bad_filter").arg("detail", detail.into())
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Ty {
    Text,
    Number,
    Bool,
    Time,
}

impl Ty {
    fn name(self) -> &'static str {
        match self {
            Ty::Text => "text",
            Ty::Number => "a number",
            Ty::Bool => "true/false",
            Ty::Time => "a time",
        }
    }

    /// Timestamps are stored as text, so a time compares with a plain string too.
    fn fits(self, other: Ty) -> bool {
        self == other || matches!((self, other), (Ty::Time, Ty::Text) | (Ty::Text, Ty::Time))
    }
}

struct Compiler<'a> {
    fields: &'a [&'a Field],
    params: Vec<Sql>,
}

fn rfc3339(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s.trim())
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// The stored form of a time (`store::fires::ts`): RFC 3339 UTC to the second.
fn stored(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

impl Compiler<'_> {
    fn field(&self, name: &str) -> Result<&Field, Error> {
        self.fields
            .iter()
            .copied()
            .find(|f| f.name == name)
            .ok_or_else(|| {
                let known: Vec<&str> = self.fields.iter().map(|f| f.name.as_str()).collect();
                bad(format!(
                    "unknown property {name}; the queryables are: {}",
                    known.join(", ")
                ))
            })
    }

    fn scalar(&mut self, s: &Scalar) -> Result<(String, Ty), Error> {
        Ok(match s {
            Scalar::Property(name) => {
                let f = self.field(name)?;
                let ty = match f.kind {
                    FieldType::Integer | FieldType::Real => Ty::Number,
                    _ if super::fields::is_timestamp(f) => Ty::Time,
                    _ => Ty::Text,
                };
                (format!("t.\"{}\"", f.name), ty)
            }
            Scalar::Text(t) => {
                self.params.push(Sql::Text(t.clone()));
                ("?".into(), Ty::Text)
            }
            Scalar::Number(n) => {
                self.params.push(Sql::Real(*n));
                ("?".into(), Ty::Number)
            }
            Scalar::Bool(b) => {
                self.params.push(Sql::Integer(i64::from(*b)));
                ("?".into(), Ty::Bool)
            }
            Scalar::Timestamp(t) => {
                let at = rfc3339(t).ok_or_else(|| {
                    bad(format!(
                        "TIMESTAMP('{t}') is not an RFC 3339 time such as 2024-05-01T08:00:00Z"
                    ))
                })?;
                self.params.push(Sql::Text(stored(at)));
                ("?".into(), Ty::Time)
            }
            Scalar::Date(d) => {
                let day = NaiveDate::parse_from_str(d.trim(), "%Y-%m-%d")
                    .map_err(|_| bad(format!("DATE('{d}') is not a date such as 2024-05-01")))?;
                self.params
                    .push(Sql::Text(day.format("%Y-%m-%d").to_string()));
                ("?".into(), Ty::Time)
            }
            Scalar::Casei(inner) => {
                let (sql, ty) = self.scalar(inner)?;
                if !Ty::Text.fits(ty) {
                    return Err(bad(format!("CASEI takes text, not {}", ty.name())));
                }
                (format!("lower({sql})"), Ty::Text)
            }
        })
    }

    fn same(&self, a: Ty, b: Ty, what: &str) -> Result<(), Error> {
        if a.fits(b) {
            Ok(())
        } else {
            Err(bad(format!(
                "{what} compares {} with {}",
                a.name(),
                b.name()
            )))
        }
    }

    fn expr(&mut self, e: &Expr) -> Result<String, Error> {
        Ok(match e {
            Expr::And(parts) | Expr::Or(parts) => {
                let op = if matches!(e, Expr::And(_)) {
                    " AND "
                } else {
                    " OR "
                };
                let sql = parts
                    .iter()
                    .map(|p| self.expr(p))
                    .collect::<Result<Vec<_>, _>>()?;
                format!("({})", sql.join(op))
            }
            Expr::Not(inner) => format!("(NOT {})", self.expr(inner)?),
            Expr::Bool(b) => if *b { "1" } else { "0" }.to_string(),
            Expr::Compare(a, op, b) => {
                let (l, lt) = self.scalar(a)?;
                let (r, rt) = self.scalar(b)?;
                self.same(lt, rt, "a comparison")?;
                format!("({l} {} {r})", op.sql())
            }
            Expr::Like {
                value,
                pattern,
                negated,
            } => {
                let (l, lt) = self.scalar(value)?;
                self.same(lt, Ty::Text, "LIKE")?;
                let (text, lower) = match pattern {
                    Scalar::Text(t) => (t.clone(), false),
                    Scalar::Casei(inner) => match inner.as_ref() {
                        Scalar::Text(t) => (t.clone(), true),
                        _ => return Err(bad("LIKE takes a quoted pattern")),
                    },
                    _ => return Err(bad("LIKE takes a quoted pattern")),
                };
                let glob = like_to_glob(&text);
                // SQLite's lower() folds ASCII only; fold the pattern the same way.
                let glob = if lower {
                    glob.to_ascii_lowercase()
                } else {
                    glob
                };
                self.params.push(Sql::Text(glob));
                // GLOB, not LIKE: CQL2's LIKE is case-sensitive and SQLite's LIKE is not.
                let sql = format!("({l} GLOB ?)");
                if *negated {
                    format!("(NOT {sql})")
                } else {
                    sql
                }
            }
            Expr::Between {
                value,
                low,
                high,
                negated,
            } => {
                let (v, vt) = self.scalar(value)?;
                let (lo, lot) = self.scalar(low)?;
                let (hi, hit) = self.scalar(high)?;
                self.same(vt, lot, "BETWEEN")?;
                self.same(vt, hit, "BETWEEN")?;
                let not = if *negated { "NOT " } else { "" };
                format!("({v} {not}BETWEEN {lo} AND {hi})")
            }
            Expr::In {
                value,
                list,
                negated,
            } => {
                let (v, vt) = self.scalar(value)?;
                let mut items = vec![];
                for s in list {
                    let (sql, ty) = self.scalar(s)?;
                    self.same(vt, ty, "IN")?;
                    items.push(sql);
                }
                let not = if *negated { "NOT " } else { "" };
                format!("({v} {not}IN ({}))", items.join(", "))
            }
            Expr::IsNull { value, negated } => {
                let (v, _) = self.scalar(value)?;
                let not = if *negated { "NOT " } else { "" };
                format!("({v} IS {not}NULL)")
            }
        })
    }
}

/// CQL2 LIKE (`%` any run, `_` one character, `\` escapes) as a GLOB pattern.
fn like_to_glob(pattern: &str) -> String {
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

/// A parsed CQL2 filter as a condition, against the fields the user may query.
pub fn cql2(e: &Expr, fields: &[&Field]) -> Result<Condition, Error> {
    let mut c = Compiler {
        fields,
        params: vec![],
    };
    let sql = c.expr(e)?;
    Ok(Condition {
        sql,
        params: c.params,
    })
}

/// `name=value` on a queryable: compared as a number for numeric fields.
pub fn equals(f: &Field, value: &str) -> Result<Condition, Error> {
    let param = match f.kind {
        FieldType::Integer | FieldType::Real => {
            let n = value.trim().parse::<f64>().map_err(|_| {
                Error::bad_request("bad_query")
                    .arg("param", f.name.clone())
                    .arg("detail", format!("{value} is not a number"))
            })?;
            Sql::Real(n)
        }
        _ => Sql::Text(value.to_string()),
    };
    Ok(Condition {
        sql: format!("t.\"{}\" = ?", f.name),
        params: vec![param],
    })
}

/// One end of a `datetime` interval: (the time, whether it was a whole day).
fn bound(s: &str) -> Result<Option<(DateTime<Utc>, bool)>, Error> {
    let s = s.trim();
    if s.is_empty() || s == ".." {
        return Ok(None);
    }
    if let Some(t) = rfc3339(s) {
        return Ok(Some((t, false)));
    }
    NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|d| Some((d.and_utc(), true)))
        .ok_or_else(|| Error::bad_request("bad_datetime").arg("value", s.to_string()))
}

/// `datetime` (an instant, a date, or an interval `start/end` with `..` for open) on a time
/// field. A date covers its whole (UTC) day.
pub fn datetime(field: &str, value: &str) -> Result<Condition, Error> {
    let col = format!("t.\"{field}\"");
    let day = |t: DateTime<Utc>| t + Duration::days(1);
    let (sql, params) = match value.split_once('/') {
        None => match bound(value)? {
            Some((t, true)) => (
                format!("({col} >= ? AND {col} < ?)"),
                vec![stored(t), stored(day(t))],
            ),
            Some((t, false)) => (format!("{col} = ?"), vec![stored(t)]),
            None => return Err(Error::bad_request("bad_datetime").arg("value", value.to_string())),
        },
        Some((a, b)) => {
            let (start, end) = (bound(a)?, bound(b)?);
            if let (Some((s, _)), Some((e, _))) = (start, end)
                && s > e
            {
                return Err(Error::bad_request("bad_datetime").arg("value", value.to_string()));
            }
            let mut conds = vec![];
            let mut params = vec![];
            if let Some((t, _)) = start {
                conds.push(format!("{col} >= ?"));
                params.push(stored(t));
            }
            match end {
                Some((t, true)) => {
                    conds.push(format!("{col} < ?"));
                    params.push(stored(day(t)));
                }
                Some((t, false)) => {
                    conds.push(format!("{col} <= ?"));
                    params.push(stored(t));
                }
                None => {}
            }
            if conds.is_empty() {
                // `../..` is every feature with a time.
                conds.push(format!("{col} IS NOT NULL"));
            }
            (format!("({})", conds.join(" AND ")), params)
        }
    };
    Ok(Condition {
        sql,
        params: params.into_iter().map(Sql::Text).collect(),
    })
}

#[cfg(test)]
mod tests {
    use super::super::cql2::parse;
    use super::*;
    use crate::layers::Registry;

    fn compile(src: &str) -> Result<Condition, Error> {
        let r = Registry::builtin().expect("layers");
        let fires = r.get("fire_points").expect("fires").clone();
        let fields: Vec<&Field> = fires
            .public_fields()
            .filter(|f| f.kind != FieldType::Json)
            .collect();
        cql2(&parse(src).expect("parse"), &fields)
    }

    fn message(e: Error) -> String {
        e.message(crate::i18n::Lang::En)
    }

    #[test]
    fn a_filter_becomes_sql_with_bound_values() {
        let c = compile("status = 'treating' AND temp_c > 100").expect("compile");
        assert_eq!(c.sql, "((t.\"status\" = ?) AND (t.\"temp_c\" > ?))");
        assert_eq!(
            c.params,
            vec![Sql::Text("treating".into()), Sql::Real(100.0)]
        );
        let c = compile("CASEI(code) LIKE casei('wh-%') OR kind NOT IN ('coal_seam')")
            .expect("compile");
        assert_eq!(
            c.sql,
            "((lower(t.\"code\") GLOB ?) OR (t.\"kind\" NOT IN (?)))"
        );
        assert_eq!(c.params[0], Sql::Text("wh-*".into()));
        let c = compile("reported_at >= TIMESTAMP('2024-05-01T08:00:00+08:00')").expect("ts");
        assert_eq!(c.params, vec![Sql::Text("2024-05-01T00:00:00Z".into())]);
    }

    #[test]
    fn unknown_properties_and_mixed_types_are_refused_with_reasons() {
        let m = message(compile("colour = 'red'").expect_err("unknown"));
        assert!(
            m.contains("unknown property colour") && m.contains("temp_c"),
            "{m}"
        );
        let m = message(compile("temp_c = 'hot'").expect_err("types"));
        assert!(m.contains("compares a number with text"), "{m}");
        let m = message(compile("request_hash = 'x'").expect_err("internal"));
        assert!(m.contains("unknown property request_hash"), "{m}");
        assert!(
            compile("signs = 'smoke'").is_err(),
            "lists are not queryable"
        );
    }

    #[test]
    fn like_patterns_translate_to_case_sensitive_globs() {
        assert_eq!(like_to_glob("a%b_c"), "a*b?c");
        assert_eq!(like_to_glob("100\\%*?[x]"), "100%[*][?][[]x]");
    }

    #[test]
    fn datetime_takes_instants_days_and_open_intervals() {
        let c = datetime("reported_at", "2024-05-01").expect("day");
        assert_eq!(
            c.params,
            vec![
                Sql::Text("2024-05-01T00:00:00Z".into()),
                Sql::Text("2024-05-02T00:00:00Z".into())
            ]
        );
        let c = datetime("reported_at", "../2024-05-01T10:00:00Z").expect("open start");
        assert_eq!(c.sql, "(t.\"reported_at\" <= ?)");
        let c = datetime("reported_at", "2024-05-01T10:00:00Z/..").expect("open end");
        assert_eq!(c.sql, "(t.\"reported_at\" >= ?)");
        assert!(datetime("reported_at", "2024-06-01/2024-05-01").is_err());
        assert!(datetime("reported_at", "yesterday").is_err());
    }
}

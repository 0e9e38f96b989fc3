//! Item filters, checked: a CQL2 expression (Part 3), `datetime` on the layer's time field
//! (Part 1), and `property=value` equality (Part 3's queryables as query parameters) become a
//! typed [`Filter`] for the store. Property names are checked against the queryables and
//! operand types against each other, with the reasons given back; the store's engine turns the
//! filter into its query language.

use chrono::{DateTime, Duration, NaiveDate, Utc};

use super::cql2::{Expr, Scalar};
use crate::error::Error;
use crate::layers::{Field, FieldType};
use crate::store::features::{Cmp, Filter, Operand};

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

struct Checker<'a> {
    fields: &'a [&'a Field],
}

fn rfc3339(s: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(s.trim())
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

impl Checker<'_> {
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

    fn scalar(&self, s: &Scalar) -> Result<(Operand, Ty), Error> {
        Ok(match s {
            Scalar::Property(name) => {
                let f = self.field(name)?;
                let ty = match f.kind {
                    FieldType::Integer | FieldType::Real => Ty::Number,
                    _ if super::fields::is_timestamp(f) => Ty::Time,
                    _ => Ty::Text,
                };
                (Operand::Field(f.name.clone()), ty)
            }
            Scalar::Text(t) => (Operand::Text(t.clone()), Ty::Text),
            Scalar::Number(n) => (Operand::Number(*n), Ty::Number),
            Scalar::Bool(b) => (Operand::Bool(*b), Ty::Bool),
            Scalar::Timestamp(t) => {
                let at = rfc3339(t).ok_or_else(|| {
                    bad(format!(
                        "TIMESTAMP('{t}') is not an RFC 3339 time such as 2024-05-01T08:00:00Z"
                    ))
                })?;
                (Operand::Time(at), Ty::Time)
            }
            Scalar::Date(d) => {
                let day = NaiveDate::parse_from_str(d.trim(), "%Y-%m-%d")
                    .map_err(|_| bad(format!("DATE('{d}') is not a date such as 2024-05-01")))?;
                (Operand::Date(day), Ty::Time)
            }
            Scalar::Casei(inner) => {
                let (o, ty) = self.scalar(inner)?;
                if !Ty::Text.fits(ty) {
                    return Err(bad(format!("CASEI takes text, not {}", ty.name())));
                }
                (Operand::Casei(Box::new(o)), Ty::Text)
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

    fn expr(&self, e: &Expr) -> Result<Filter, Error> {
        Ok(match e {
            Expr::And(parts) | Expr::Or(parts) => {
                let parts = parts
                    .iter()
                    .map(|p| self.expr(p))
                    .collect::<Result<Vec<_>, _>>()?;
                if matches!(e, Expr::And(_)) {
                    Filter::And(parts)
                } else {
                    Filter::Or(parts)
                }
            }
            Expr::Not(inner) => Filter::Not(Box::new(self.expr(inner)?)),
            Expr::Bool(b) => Filter::Const(*b),
            Expr::Compare(a, op, b) => {
                let (l, lt) = self.scalar(a)?;
                let (r, rt) = self.scalar(b)?;
                self.same(lt, rt, "a comparison")?;
                Filter::Compare(l, *op, r)
            }
            Expr::Like {
                value,
                pattern,
                negated,
            } => {
                let (value, lt) = self.scalar(value)?;
                self.same(lt, Ty::Text, "LIKE")?;
                let (pattern, casei) = match pattern {
                    Scalar::Text(t) => (t.clone(), false),
                    Scalar::Casei(inner) => match inner.as_ref() {
                        Scalar::Text(t) => (t.clone(), true),
                        _ => return Err(bad("LIKE takes a quoted pattern")),
                    },
                    _ => return Err(bad("LIKE takes a quoted pattern")),
                };
                Filter::Like {
                    value,
                    pattern,
                    casei,
                    negated: *negated,
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
                Filter::Between {
                    value: v,
                    low: lo,
                    high: hi,
                    negated: *negated,
                }
            }
            Expr::In {
                value,
                list,
                negated,
            } => {
                let (v, vt) = self.scalar(value)?;
                let mut items = vec![];
                for s in list {
                    let (o, ty) = self.scalar(s)?;
                    self.same(vt, ty, "IN")?;
                    items.push(o);
                }
                Filter::In {
                    value: v,
                    list: items,
                    negated: *negated,
                }
            }
            Expr::IsNull { value, negated } => {
                let (v, _) = self.scalar(value)?;
                Filter::IsNull {
                    value: v,
                    negated: *negated,
                }
            }
        })
    }
}

/// A parsed CQL2 filter, checked against the fields the user may query.
pub fn cql2(e: &Expr, fields: &[&Field]) -> Result<Filter, Error> {
    Checker { fields }.expr(e)
}

/// `name=value` on a queryable: compared as a number for numeric fields.
pub fn equals(f: &Field, value: &str) -> Result<Filter, Error> {
    let v = match f.kind {
        FieldType::Integer | FieldType::Real => {
            let n = value.trim().parse::<f64>().map_err(|_| {
                Error::bad_request("bad_query")
                    .arg("param", f.name.clone())
                    .arg("detail", format!("{value} is not a number"))
            })?;
            Operand::Number(n)
        }
        _ => Operand::Text(value.to_string()),
    };
    Ok(Filter::Compare(Operand::Field(f.name.clone()), Cmp::Eq, v))
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
pub fn datetime(field: &str, value: &str) -> Result<Filter, Error> {
    let at = |op, t| Filter::Compare(Operand::Field(field.to_string()), op, Operand::Time(t));
    let day = |t: DateTime<Utc>| t + Duration::days(1);
    Ok(match value.split_once('/') {
        None => match bound(value)? {
            Some((t, true)) => Filter::And(vec![at(Cmp::Ge, t), at(Cmp::Lt, day(t))]),
            Some((t, false)) => at(Cmp::Eq, t),
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
            if let Some((t, _)) = start {
                conds.push(at(Cmp::Ge, t));
            }
            match end {
                Some((t, true)) => conds.push(at(Cmp::Lt, day(t))),
                Some((t, false)) => conds.push(at(Cmp::Le, t)),
                None => {}
            }
            match conds.len() {
                // `../..` is every feature with a time.
                0 => Filter::IsNull {
                    value: Operand::Field(field.to_string()),
                    negated: true,
                },
                1 => conds.remove(0),
                _ => Filter::And(conds),
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::super::cql2::parse;
    use super::*;
    use crate::layers::Registry;
    use crate::store::sqlite::filter::{Condition, compile as sql};
    use rusqlite::types::Value as Sql;

    /// A filter checked here, as the SQLite engine runs it.
    fn compile(src: &str) -> Result<Condition, Error> {
        let r = Registry::builtin().expect("layers");
        let fires = r.get("fire_points").expect("fires").clone();
        let fields: Vec<&Field> = fires
            .public_fields()
            .filter(|f| f.kind != FieldType::Json)
            .collect();
        cql2(&parse(src).expect("parse"), &fields).map(|f| sql(&f))
    }

    fn datetime(field: &str, value: &str) -> Result<Condition, Error> {
        super::datetime(field, value).map(|f| sql(&f))
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

//! CQL2 text (OGC 21-065), the part a property filter needs: comparisons, `AND`/`OR`/`NOT`,
//! `LIKE`, `BETWEEN`, `IN`, `IS [NOT] NULL`, `CASEI(…)`, and `TIMESTAMP('…')` / `DATE('…')`
//! literals. Parsed by recursive descent into an [`Expr`]; [`super::filter`] checks it against the
//! queryables into the store's typed filter.
//!
//! Written here rather than taken from the `cql2` crate, which brings a second geojson, geozero,
//! jsonschema and sqlparser for the spatial and JSON parts we do not serve.

use std::fmt;

/// Nesting (parentheses, `NOT`, functions) deeper than this is refused before any SQL is built:
/// the SQL mirrors the nesting, and SQLite's parser stack (100 entries) overflows at about 50.
pub const MAX_DEPTH: usize = 20;
/// Longer filters are refused before parsing.
pub const MAX_LEN: usize = 8192;
/// More conditions than this are refused: a flat `OR` chain becomes an SQL expression as deep as
/// it is long (SQLite stops at 1000), and every condition costs time on every row.
pub const MAX_TERMS: usize = 100;

/// A boolean expression.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Not(Box<Expr>),
    Compare(Scalar, Op, Scalar),
    Like {
        value: Scalar,
        pattern: Scalar,
        negated: bool,
    },
    Between {
        value: Scalar,
        low: Scalar,
        high: Scalar,
        negated: bool,
    },
    In {
        value: Scalar,
        list: Vec<Scalar>,
        negated: bool,
    },
    IsNull {
        value: Scalar,
        negated: bool,
    },
    Bool(bool),
}

/// A comparison operator: the store's own, which a filter passes on unchanged.
pub use crate::store::features::Cmp as Op;

/// The operator as CQL2 writes it.
fn symbol(op: Op) -> &'static str {
    match op {
        Op::Eq => "=",
        Op::Ne => "<>",
        Op::Lt => "<",
        Op::Le => "<=",
        Op::Gt => ">",
        Op::Ge => ">=",
    }
}

/// A value: a property, a literal, or `CASEI` of one.
#[derive(Debug, Clone, PartialEq)]
pub enum Scalar {
    Property(String),
    Text(String),
    Number(f64),
    Bool(bool),
    /// `TIMESTAMP('…')`, as written.
    Timestamp(String),
    /// `DATE('…')`, as written.
    Date(String),
    Casei(Box<Scalar>),
}

/// Why a filter could not be parsed: what was found where, and what was expected.
#[derive(Debug, Clone, PartialEq)]
pub struct ParseError {
    /// Character offset in the filter.
    pub at: usize,
    pub message: String,
    /// Which bound was passed, if one was: these have their own translated messages.
    pub limit: Option<Limit>,
}

/// The bounds on a filter's size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Limit {
    Depth,
    Length,
    Terms,
}

impl Limit {
    /// The message key and the bound.
    pub fn key_and_max(self) -> (&'static str, usize) {
        match self {
            Limit::Depth => ("filter_too_deep", MAX_DEPTH),
            Limit::Length => ("filter_too_long", MAX_LEN),
            Limit::Terms => ("filter_too_many_terms", MAX_TERMS),
        }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} (at character {})", self.message, self.at + 1)
    }
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
    Ident(String),
    Quoted(String),
    Str(String),
    Num(f64),
    Op(Op),
    LParen,
    RParen,
    Comma,
}

impl fmt::Display for Tok {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Tok::Ident(s) => write!(f, "{s}"),
            Tok::Quoted(s) => write!(f, "\"{s}\""),
            Tok::Str(s) => write!(f, "'{s}'"),
            Tok::Num(n) => write!(f, "{n}"),
            Tok::Op(op) => write!(f, "{}", symbol(*op)),
            Tok::LParen => write!(f, "("),
            Tok::RParen => write!(f, ")"),
            Tok::Comma => write!(f, ","),
        }
    }
}

fn err(at: usize, message: impl Into<String>) -> ParseError {
    ParseError {
        at,
        message: message.into(),
        limit: None,
    }
}

fn over(at: usize, limit: Limit, message: impl Into<String>) -> ParseError {
    ParseError {
        limit: Some(limit),
        ..err(at, message)
    }
}

fn lex(src: &str) -> Result<Vec<(usize, Tok)>, ParseError> {
    let chars: Vec<(usize, char)> = src.char_indices().collect();
    let mut out = vec![];
    let mut i = 0;
    // Offsets are reported in characters, not bytes, so Chinese text counts as people count it.
    while let Some(&(_, c)) = chars.get(i) {
        let start = i;
        match c {
            c if c.is_whitespace() => i += 1,
            '(' | ')' | ',' => {
                out.push((
                    start,
                    match c {
                        '(' => Tok::LParen,
                        ')' => Tok::RParen,
                        _ => Tok::Comma,
                    },
                ));
                i += 1;
            }
            '=' => {
                out.push((start, Tok::Op(Op::Eq)));
                i += 1;
            }
            '<' | '>' | '!' => {
                let next = chars.get(i + 1).map(|p| p.1);
                let (op, len) = match (c, next) {
                    ('<', Some('>')) => (Op::Ne, 2),
                    ('<', Some('=')) => (Op::Le, 2),
                    ('>', Some('=')) => (Op::Ge, 2),
                    ('!', Some('=')) => (Op::Ne, 2),
                    ('<', _) => (Op::Lt, 1),
                    ('>', _) => (Op::Gt, 1),
                    _ => return Err(err(start, "unexpected '!'; use <> for not equal")),
                };
                out.push((start, Tok::Op(op)));
                i += len;
            }
            '\'' | '"' => {
                let mut s = String::new();
                i += 1;
                loop {
                    match chars.get(i).map(|p| p.1) {
                        None => return Err(err(start, format!("unclosed {c}"))),
                        Some(q) if q == c && chars.get(i + 1).map(|p| p.1) == Some(c) => {
                            s.push(c);
                            i += 2;
                        }
                        Some(q) if q == c => {
                            i += 1;
                            break;
                        }
                        Some(q) => {
                            s.push(q);
                            i += 1;
                        }
                    }
                }
                out.push((
                    start,
                    if c == '\'' {
                        Tok::Str(s)
                    } else {
                        Tok::Quoted(s)
                    },
                ));
            }
            c if c.is_ascii_digit() || c == '.' || c == '-' || c == '+' => {
                let mut j = i + 1;
                while let Some(&(_, d)) = chars.get(j) {
                    let prev = chars.get(j - 1).map(|p| p.1);
                    let exp_sign = (d == '-' || d == '+') && matches!(prev, Some('e' | 'E'));
                    if d.is_ascii_digit() || d == '.' || d == 'e' || d == 'E' || exp_sign {
                        j += 1;
                    } else {
                        break;
                    }
                }
                let text: String = chars[i..j].iter().map(|p| p.1).collect();
                let n = text
                    .parse::<f64>()
                    .ok()
                    .filter(|n| n.is_finite())
                    .ok_or_else(|| err(start, format!("{text} is not a number")))?;
                out.push((start, Tok::Num(n)));
                i = j;
            }
            c if c.is_alphabetic() || c == '_' => {
                let mut j = i + 1;
                while let Some(&(_, d)) = chars.get(j) {
                    if d.is_alphanumeric() || d == '_' || d == '.' || d == ':' {
                        j += 1;
                    } else {
                        break;
                    }
                }
                out.push((start, Tok::Ident(chars[i..j].iter().map(|p| p.1).collect())));
                i = j;
            }
            other => return Err(err(start, format!("unexpected character {other:?}"))),
        }
    }
    Ok(out)
}

struct Parser {
    toks: Vec<(usize, Tok)>,
    pos: usize,
    end: usize,
    depth: usize,
    terms: usize,
}

fn is_kw(t: Option<&Tok>, kw: &str) -> bool {
    matches!(t, Some(Tok::Ident(s)) if s.eq_ignore_ascii_case(kw))
}

const RESERVED: [&str; 12] = [
    "AND", "OR", "NOT", "LIKE", "BETWEEN", "IN", "IS", "NULL", "TRUE", "FALSE", "CASEI", "DATE",
];

impl Parser {
    fn peek(&self) -> Option<&Tok> {
        self.toks.get(self.pos).map(|t| &t.1)
    }

    fn at(&self) -> usize {
        self.toks.get(self.pos).map_or(self.end, |t| t.0)
    }

    fn found(&self) -> String {
        self.peek()
            .map_or_else(|| "the end of the filter".to_string(), |t| format!("“{t}”"))
    }

    fn eat_kw(&mut self, kw: &str) -> bool {
        if is_kw(self.peek(), kw) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, want: Tok, what: &str) -> Result<(), ParseError> {
        if self.peek() == Some(&want) {
            self.pos += 1;
            Ok(())
        } else {
            Err(err(
                self.at(),
                format!("expected {what}, found {}", self.found()),
            ))
        }
    }

    fn deeper(&mut self) -> Result<(), ParseError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(over(
                self.at(),
                Limit::Depth,
                format!("the filter is nested too deeply (more than {MAX_DEPTH} levels)"),
            ));
        }
        Ok(())
    }

    /// Counts one condition against [`MAX_TERMS`].
    fn term(&mut self) -> Result<(), ParseError> {
        self.terms += 1;
        if self.terms > MAX_TERMS {
            return Err(over(
                self.at(),
                Limit::Terms,
                format!("the filter has more than {MAX_TERMS} conditions"),
            ));
        }
        Ok(())
    }

    fn or(&mut self) -> Result<Expr, ParseError> {
        self.deeper()?;
        let mut parts = vec![self.and()?];
        while self.eat_kw("OR") {
            parts.push(self.and()?);
        }
        self.depth -= 1;
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Expr::Or(parts)
        })
    }

    fn and(&mut self) -> Result<Expr, ParseError> {
        let mut parts = vec![self.not()?];
        while self.eat_kw("AND") {
            parts.push(self.not()?);
        }
        Ok(if parts.len() == 1 {
            parts.remove(0)
        } else {
            Expr::And(parts)
        })
    }

    fn not(&mut self) -> Result<Expr, ParseError> {
        if self.eat_kw("NOT") {
            self.deeper()?;
            let e = self.not()?;
            self.depth -= 1;
            return Ok(Expr::Not(Box::new(e)));
        }
        self.primary()
    }

    fn primary(&mut self) -> Result<Expr, ParseError> {
        if self.peek() == Some(&Tok::LParen) {
            self.pos += 1;
            let e = self.or()?;
            self.expect(Tok::RParen, "“)”")?;
            return Ok(e);
        }
        let value = self.scalar()?;
        self.predicate(value)
    }

    fn predicate(&mut self, value: Scalar) -> Result<Expr, ParseError> {
        self.term()?;
        if let Some(Tok::Op(op)) = self.peek() {
            let op = *op;
            self.pos += 1;
            let right = self.scalar()?;
            return Ok(Expr::Compare(value, op, right));
        }
        if self.eat_kw("IS") {
            let negated = self.eat_kw("NOT");
            if !self.eat_kw("NULL") {
                return Err(err(
                    self.at(),
                    format!("expected NULL, found {}", self.found()),
                ));
            }
            return Ok(Expr::IsNull { value, negated });
        }
        let negated = self.eat_kw("NOT");
        if self.eat_kw("LIKE") {
            let pattern = self.scalar()?;
            return Ok(Expr::Like {
                value,
                pattern,
                negated,
            });
        }
        if self.eat_kw("BETWEEN") {
            let low = self.scalar()?;
            if !self.eat_kw("AND") {
                return Err(err(
                    self.at(),
                    format!("expected AND in BETWEEN, found {}", self.found()),
                ));
            }
            let high = self.scalar()?;
            return Ok(Expr::Between {
                value,
                low,
                high,
                negated,
            });
        }
        if self.eat_kw("IN") {
            self.expect(Tok::LParen, "“(” after IN")?;
            let mut list = vec![self.scalar()?];
            while self.peek() == Some(&Tok::Comma) {
                self.pos += 1;
                // Each listed value is a bound parameter: count them too.
                self.term()?;
                list.push(self.scalar()?);
            }
            self.expect(Tok::RParen, "“)” closing the IN list")?;
            return Ok(Expr::In {
                value,
                list,
                negated,
            });
        }
        match (negated, value) {
            (false, Scalar::Bool(b)) => Ok(Expr::Bool(b)),
            _ => Err(err(
                self.at(),
                format!(
                    "expected a comparison (=, <>, <, <=, >, >=, LIKE, BETWEEN, IN, IS NULL), found {}",
                    self.found()
                ),
            )),
        }
    }

    fn scalar(&mut self) -> Result<Scalar, ParseError> {
        let at = self.at();
        let Some(tok) = self.peek().cloned() else {
            return Err(err(
                at,
                "expected a property or a value, found the end of the filter",
            ));
        };
        self.pos += 1;
        match tok {
            Tok::Str(s) => Ok(Scalar::Text(s)),
            Tok::Num(n) => Ok(Scalar::Number(n)),
            Tok::Quoted(s) => Ok(Scalar::Property(s)),
            Tok::Ident(s) if s.eq_ignore_ascii_case("TRUE") => Ok(Scalar::Bool(true)),
            Tok::Ident(s) if s.eq_ignore_ascii_case("FALSE") => Ok(Scalar::Bool(false)),
            Tok::Ident(s) if self.peek() == Some(&Tok::LParen) => self.function(&s, at),
            Tok::Ident(s) if RESERVED.iter().any(|k| s.eq_ignore_ascii_case(k)) => Err(err(
                at,
                format!("expected a property or a value, found the keyword {s}"),
            )),
            Tok::Ident(s) => Ok(Scalar::Property(s)),
            other => Err(err(
                at,
                format!("expected a property or a value, found “{other}”"),
            )),
        }
    }

    fn function(&mut self, name: &str, at: usize) -> Result<Scalar, ParseError> {
        self.pos += 1; // (
        self.deeper()?;
        let upper = name.to_ascii_uppercase();
        let out = match upper.as_str() {
            "CASEI" => Scalar::Casei(Box::new(self.scalar()?)),
            "TIMESTAMP" | "DATE" => match self.peek().cloned() {
                Some(Tok::Str(s)) => {
                    self.pos += 1;
                    if upper == "DATE" {
                        Scalar::Date(s)
                    } else {
                        Scalar::Timestamp(s)
                    }
                }
                _ => {
                    return Err(err(
                        self.at(),
                        format!("{upper} takes a quoted text, found {}", self.found()),
                    ));
                }
            },
            _ => {
                return Err(err(
                    at,
                    format!("unknown function {name}; the functions are CASEI, TIMESTAMP and DATE"),
                ));
            }
        };
        self.expect(Tok::RParen, "“)”")?;
        self.depth -= 1;
        Ok(out)
    }
}

/// Parses a CQL2 text filter.
pub fn parse(src: &str) -> Result<Expr, ParseError> {
    if src.chars().count() > MAX_LEN {
        return Err(over(
            MAX_LEN,
            Limit::Length,
            format!("the filter is longer than {MAX_LEN} characters"),
        ));
    }
    let toks = lex(src)?;
    let mut p = Parser {
        end: src.chars().count(),
        toks,
        pos: 0,
        depth: 0,
        terms: 0,
    };
    if p.peek().is_none() {
        return Err(err(0, "the filter is empty"));
    }
    let e = p.or()?;
    if p.peek().is_some() {
        return Err(err(
            p.at(),
            format!(
                "expected AND, OR or the end of the filter, found {}",
                p.found()
            ),
        ));
    }
    Ok(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn prop(s: &str) -> Scalar {
        Scalar::Property(s.into())
    }

    #[test]
    fn and_binds_tighter_than_or_and_not_tightest() {
        let e = parse("status = 'treating' AND temp_c > 100 OR NOT kind <> 'coal_seam'")
            .expect("parse");
        assert_eq!(
            e,
            Expr::Or(vec![
                Expr::And(vec![
                    Expr::Compare(prop("status"), Op::Eq, Scalar::Text("treating".into())),
                    Expr::Compare(prop("temp_c"), Op::Gt, Scalar::Number(100.0)),
                ]),
                Expr::Not(Box::new(Expr::Compare(
                    prop("kind"),
                    Op::Ne,
                    Scalar::Text("coal_seam".into())
                ))),
            ])
        );
    }

    #[test]
    fn advanced_comparisons_parse() {
        assert_eq!(
            parse("name NOT LIKE '%矿%'").expect("like"),
            Expr::Like {
                value: prop("name"),
                pattern: Scalar::Text("%矿%".into()),
                negated: true
            }
        );
        assert_eq!(
            parse("temp_c BETWEEN -5 AND 1.5e2").expect("between"),
            Expr::Between {
                value: prop("temp_c"),
                low: Scalar::Number(-5.0),
                high: Scalar::Number(150.0),
                negated: false
            }
        );
        assert_eq!(
            parse("\"status\" in ('reported','it''s')").expect("in"),
            Expr::In {
                value: prop("status"),
                list: vec![Scalar::Text("reported".into()), Scalar::Text("it's".into())],
                negated: false
            }
        );
        assert_eq!(
            parse("cleared_at IS NOT NULL").expect("null"),
            Expr::IsNull {
                value: prop("cleared_at"),
                negated: true
            }
        );
        assert_eq!(
            parse(
                "CASEI(name) = casei('ABC') and reported_at >= TIMESTAMP('2024-01-01T00:00:00Z')"
            )
            .expect("functions"),
            Expr::And(vec![
                Expr::Compare(
                    Scalar::Casei(Box::new(prop("name"))),
                    Op::Eq,
                    Scalar::Casei(Box::new(Scalar::Text("ABC".into())))
                ),
                Expr::Compare(
                    prop("reported_at"),
                    Op::Ge,
                    Scalar::Timestamp("2024-01-01T00:00:00Z".into())
                ),
            ])
        );
        assert_eq!(parse("((true))").expect("bool"), Expr::Bool(true));
    }

    #[test]
    fn mistakes_say_what_was_found_where() {
        let e = parse("status = ").expect_err("dangling");
        assert!(e.message.contains("end of the filter"), "{e}");
        let e = parse("status == 'x'").expect_err("double");
        assert!(e.to_string().contains("character 9"), "{e}");
        let e = parse("S_INTERSECTS(geom, POINT(1 2))").expect_err("spatial");
        assert!(e.message.contains("unknown function S_INTERSECTS"), "{e}");
        let e = parse("name = 'open").expect_err("quote");
        assert!(e.message.contains("unclosed"), "{e}");
        let e = parse("status = 'a' status = 'b'").expect_err("missing and");
        assert!(e.message.contains("expected AND, OR"), "{e}");
        let deep = format!("{}true{}", "(".repeat(100), ")".repeat(100));
        assert!(parse(&deep).expect_err("deep").message.contains("deeply"));
        assert!(parse(&"NOT ".repeat(100)).is_err());
        assert!(parse("").is_err());
    }

    #[test]
    fn depth_length_and_conditions_are_bounded() {
        let nots = |n: usize| format!("{}status = 'x'", "NOT ".repeat(n));
        assert!(parse(&nots(MAX_DEPTH - 1)).is_ok());
        assert_eq!(
            parse(&nots(50)).expect_err("deep").limit,
            Some(Limit::Depth)
        );
        let parens = |n: usize| format!("{}true{}", "(".repeat(n), ")".repeat(n));
        assert!(parse(&parens(MAX_DEPTH - 1)).is_ok());
        assert_eq!(
            parse(&parens(MAX_DEPTH)).expect_err("deep").limit,
            Some(Limit::Depth)
        );
        let chain = |n: usize| vec!["temp_c > 1"; n].join(" OR ");
        assert!(parse(&chain(MAX_TERMS)).is_ok());
        assert_eq!(
            parse(&chain(MAX_TERMS + 1)).expect_err("many").limit,
            Some(Limit::Terms)
        );
        let list = vec!["1"; MAX_TERMS + 1].join(",");
        assert_eq!(
            parse(&format!("temp_c IN ({list})"))
                .expect_err("long list")
                .limit,
            Some(Limit::Terms)
        );
        let long = format!("name = '{}'", "x".repeat(MAX_LEN));
        assert_eq!(parse(&long).expect_err("long").limit, Some(Limit::Length));
        assert_eq!(parse("status = ").expect_err("syntax").limit, None);
    }
}

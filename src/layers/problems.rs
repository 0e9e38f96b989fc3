//! Field problems as the one error type: the first problem is the message, all of them the
//! detail. Here rather than in `error.rs`, so that the error module imports no layer.

use serde_json::Value;

use crate::error::Error;

use super::{FieldError, FieldProblem, FieldType};

impl Error {
    /// The first field problem as the message, all of them as detail.
    pub fn fields(errors: Vec<FieldError>) -> Error {
        let all: Vec<Value> = errors
            .iter()
            .map(|e| serde_json::json!({"field": e.field, "problem": format!("{:?}", e.problem)}))
            .collect();
        let Some(first) = errors.into_iter().next() else {
            return Error::invalid("internal");
        };
        let field = first.field.clone();
        let e = match first.problem {
            FieldProblem::Missing => Error::invalid("field_missing"),
            FieldProblem::NotAllowed { allowed } => {
                Error::invalid("field_not_allowed").arg("allowed", allowed.join(", "))
            }
            FieldProblem::WrongType { expected } => Error::invalid("field_wrong_type").arg(
                "expected",
                format!(
                    "@{}",
                    match expected {
                        FieldType::Text => "type.text",
                        FieldType::Integer => "type.integer",
                        FieldType::Real => "type.real",
                        FieldType::Json => "type.json",
                    }
                ),
            ),
            FieldProblem::OutOfRange { min, max } => Error::invalid("field_out_of_range")
                .arg("min", min.map_or("-∞".into(), |m| m.to_string()))
                .arg("max", max.map_or("∞".into(), |m| m.to_string())),
            FieldProblem::TooLong { max } => {
                Error::invalid("field_too_long").arg("max", max.to_string())
            }
            FieldProblem::Unknown { known } => {
                Error::invalid("field_unknown").arg("known", known.join(", "))
            }
        };
        e.arg("field", field)
            .detail(serde_json::json!({ "errors": all }))
    }
}

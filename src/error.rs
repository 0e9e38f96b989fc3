//! The one error type the use cases return: a problem a person can act on (an error code, whose
//! message is `error.{code}` in the translation tables, and its arguments), or a failure of ours
//! (logged, never shown).
//! The storage failure is defined here, below every layer, so that this module imports none of
//! them; the store re-exports it as `store::StoreError`.

use serde_json::Value;

/// How a problem maps onto HTTP.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    BadRequest,
    Unauthorized,
    Forbidden,
    NotFound,
    Conflict,
    TooLarge,
    Unprocessable,
    /// 503: too busy now; the argument `retry_after` (seconds) becomes the `Retry-After` header.
    Busy,
    /// 429: too many attempts; the response says when to try again.
    TooManyRequests,
}

/// A problem with the request, in words a person can act on.
#[derive(Debug, Clone)]
pub struct Problem {
    pub kind: Kind,
    /// The error code the API answers with (`"error"` in the JSON body), e.g. `bad_json`.
    pub key: &'static str,
    pub args: Vec<(&'static str, String)>,
    /// Machine-readable detail (allowed actions, every field error, the existing record).
    pub detail: Option<Value>,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{}", .0.key)]
    Problem(Problem),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A storage failure. Never shown to a user as is: the HTTP layer logs it and answers 500.
/// Nothing engine-shaped in it: an engine's own errors are boxed ([`StoreError::Engine`]).
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("database {path}: {source}")]
    Open {
        path: String,
        source: Box<StoreError>,
    },
    /// The engine's own error (SQL, I/O, constraint, geometry encoding), as text and source.
    #[error(transparent)]
    Engine(Box<dyn std::error::Error + Send + Sync>),
    #[error("stored data is damaged: {0}")]
    Corrupt(String),
    #[error("the storage worker stopped: {0}")]
    Worker(String),
}

pub type Result<T> = std::result::Result<T, Error>;

/// Actions as translation references, `@{subject}.action.…`, comma-separated (`subject` is
/// `fire`, `dust_alert` or `dust_issue`).
pub fn action_labels(subject: &str, actions: &[&str]) -> String {
    actions
        .iter()
        .map(|a| format!("@{subject}.action.{a}"))
        .collect::<Vec<_>>()
        .join(", ")
}

impl Error {
    pub fn new(kind: Kind, key: &'static str) -> Error {
        Error::Problem(Problem {
            kind,
            key,
            args: vec![],
            detail: None,
        })
    }

    pub fn arg(mut self, name: &'static str, value: impl Into<String>) -> Error {
        if let Error::Problem(p) = &mut self {
            p.args.push((name, value.into()));
        }
        self
    }

    pub fn detail(mut self, detail: Value) -> Error {
        if let Error::Problem(p) = &mut self {
            p.detail = Some(detail);
        }
        self
    }

    pub fn bad_request(key: &'static str) -> Error {
        Error::new(Kind::BadRequest, key)
    }

    pub fn invalid(key: &'static str) -> Error {
        Error::new(Kind::Unprocessable, key)
    }

    pub fn not_found(what: &'static str) -> Error {
        Error::new(Kind::NotFound, "not_found").arg("what", format!("@what.{what}"))
    }

    pub fn forbidden() -> Error {
        Error::new(Kind::Forbidden, "forbidden")
    }

    /// 409: the subject's state does not allow the action. Statuses and actions are named
    /// through the translation keys `{subject}.status.…` and `{subject}.action.…` (`subject`
    /// `fire`, `dust_alert` or `dust_issue`); `allowed` lists what is possible now, and
    /// `detail` carries the same for programs.
    pub fn not_allowed(
        key: &'static str,
        subject: &str,
        status: &str,
        action: &str,
        allowed: &[&str],
        detail: Value,
    ) -> Error {
        let allowed = if allowed.is_empty() {
            "@common.none".to_string()
        } else {
            action_labels(subject, allowed)
        };
        Error::new(Kind::Conflict, key)
            .arg("status", format!("@{subject}.status.{status}"))
            .arg("action", format!("@{subject}.action.{action}"))
            .arg("allowed", allowed)
            .detail(detail)
    }
}

/// The message of a problem: the text of `error.{code}` with its arguments filled in; an argument
/// `@key` (or a comma-separated list of them, e.g. `@role.owner`) is itself a message key,
/// translated too.
pub fn render(p: &Problem, lang: crate::i18n::Lang) -> String {
    let args: Vec<(&str, String)> = p
        .args
        .iter()
        .map(|(k, v)| {
            let v = if v.starts_with('@') {
                v.split(", ")
                    .map(|part| {
                        part.strip_prefix('@').map_or(part.to_string(), |key| {
                            crate::i18n::text(lang, key).to_string()
                        })
                    })
                    .collect::<Vec<_>>()
                    .join(", ")
            } else {
                v.clone()
            };
            (*k, v)
        })
        .collect();
    crate::i18n::format(lang, &crate::i18n::error_key(p.key), &args)
}

impl Error {
    /// The message for a person, or a generic one for our own failures.
    pub fn message(&self, lang: crate::i18n::Lang) -> String {
        match self {
            Error::Problem(p) => render(p, lang),
            Error::Store(_) => {
                crate::i18n::text(lang, &crate::i18n::error_key("internal")).to_string()
            }
        }
    }
}

//! Errors as HTTP responses: a status, a message in the request's language, and detail for
//! programs. Our own failures are logged once and answered with a generic 500.

use axum::extract::Request;
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::error::{Error, Kind, Problem, render};
use crate::i18n::Lang;

/// A handler error.
pub struct ApiError(pub Error);

impl<E: Into<Error>> From<E> for ApiError {
    fn from(e: E) -> Self {
        ApiError(e.into())
    }
}

/// Carries a problem from the handler to [`localize`], which knows the request's language.
#[derive(Clone)]
struct Pending(Problem);

fn status(kind: Kind) -> StatusCode {
    match kind {
        Kind::BadRequest => StatusCode::BAD_REQUEST,
        Kind::Unauthorized => StatusCode::UNAUTHORIZED,
        Kind::Forbidden => StatusCode::FORBIDDEN,
        Kind::NotFound => StatusCode::NOT_FOUND,
        Kind::Conflict => StatusCode::CONFLICT,
        Kind::TooLarge => StatusCode::PAYLOAD_TOO_LARGE,
        Kind::Unprocessable => StatusCode::UNPROCESSABLE_ENTITY,
        Kind::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
        Kind::Busy => StatusCode::SERVICE_UNAVAILABLE,
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let problem = match self.0 {
            Error::Problem(p) => p,
            Error::Store(e) => {
                tracing::error!(error = %e, "request failed");
                Problem {
                    kind: Kind::BadRequest,
                    key: "internal",
                    args: vec![],
                    detail: None,
                }
            }
        };
        let code = if problem.key == "internal" {
            StatusCode::INTERNAL_SERVER_ERROR
        } else {
            status(problem.kind)
        };
        let mut res = code.into_response();
        res.extensions_mut().insert(Pending(problem));
        res
    }
}

/// The request's language from `Accept-Language` (Chinese by default).
pub fn lang_of(req: &Request) -> Lang {
    Lang::from_accept_language(
        req.headers()
            .get(header::ACCEPT_LANGUAGE)
            .and_then(|v| v.to_str().ok()),
    )
}

/// Writes the body of error responses in the request's language.
pub async fn localize(req: Request, next: Next) -> Response {
    let lang = lang_of(&req);
    let mut res = next.run(req).await;
    if let Some(Pending(p)) = res.extensions_mut().remove::<Pending>() {
        let body = json!({
            "error": p.key,
            "message": render(&p, lang),
            "detail": p.detail,
        });
        let status = res.status();
        let retry_after = p
            .args
            .iter()
            .find(|(k, _)| *k == "retry_after")
            .and_then(|(_, v)| header::HeaderValue::from_str(v).ok());
        let mut out = (status, axum::Json(body)).into_response();
        // A handler's Retry-After (429, 503) survives the rewrite; or the error's own.
        if let Some(v) = res
            .headers()
            .get(header::RETRY_AFTER)
            .cloned()
            .or(retry_after)
        {
            out.headers_mut().insert(header::RETRY_AFTER, v);
        }
        if status == StatusCode::UNAUTHORIZED {
            out.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer"),
            );
        }
        return out;
    }
    res
}

//! Extractors: the signed-in user, and JSON bodies whose rejections speak our error language.

use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, OnceLock};

use axum::extract::ConnectInfo;
use axum::extract::rejection::JsonRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::header;
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};

use super::error::ApiError;
use crate::app::App;
use crate::domain::role::Actor;
use crate::error::{Error, Kind};

/// The session cookie's name.
pub const COOKIE: &str = "qingling_session";

/// The bearer token or session cookie of a request (the bearer token first).
pub fn token(parts: &Parts) -> Option<String> {
    token_in(&parts.headers)
}

/// [`token`] from the headers alone (handlers that take a `HeaderMap`).
pub fn token_in(headers: &HeaderMap) -> Option<String> {
    bearer(headers).or_else(|| session_cookie(headers))
}

/// The bearer token of a request's `Authorization` header.
pub fn bearer(headers: &HeaderMap) -> Option<String> {
    let auth = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let t = auth
        .strip_prefix("Bearer ")
        .or_else(|| auth.strip_prefix("bearer "))?;
    Some(t.trim().to_string())
}

/// The session cookie of a request, which the browser sends along by itself.
pub fn session_cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == COOKIE)
        .map(|(_, v)| v.to_string())
}

/// The signed-in user; 401 without a live session.
pub struct User(pub Actor);

/// Where the audit middleware learns who made a request: the [`User`] extractor fills it.
#[derive(Clone, Default)]
pub struct SeenActor(pub Arc<OnceLock<String>>);

impl FromRequestParts<App> for User {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Self::Rejection> {
        let Some(t) = token(parts) else {
            return Err(ApiError(Error::new(Kind::Unauthorized, "unauthorized")));
        };
        let now = chrono::Utc::now();
        let lookup = t.clone();
        let found = app
            .db
            .read(move |c| c.users().session(&lookup, now))
            .await?;
        let Some((actor, stale)) = found else {
            return Err(ApiError(Error::new(Kind::Unauthorized, "unauthorized")));
        };
        // Sliding expiry without a write per request: only a use some minutes after the last
        // one written down is written.
        if stale {
            app.db.write(move |tx| tx.users().touch(&t, now)).await?;
        }
        if let Some(seen) = parts.extensions.get::<SeenActor>() {
            let _ = seen.0.set(actor.username.clone());
        }
        Ok(User(actor))
    }
}

/// A signed-in manager: 401 without a session, 403 for any other role (before the body is
/// read, so other roles learn nothing from validation messages).
pub struct Manager(pub Actor);

impl FromRequestParts<App> for Manager {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &App) -> Result<Self, Self::Rejection> {
        let User(actor) = User::from_request_parts(parts, app).await?;
        if actor.role != crate::domain::role::Role::Manager {
            return Err(ApiError(Error::forbidden()));
        }
        Ok(Manager(actor))
    }
}

/// The peer's address, when the server was started with connection info.
pub struct Peer(pub Option<IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for Peer {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Peer(peer(parts)))
    }
}

/// The peer address of a request, if known.
pub fn peer(parts: &Parts) -> Option<IpAddr> {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip())
}

/// A JSON body. Malformed JSON is a 400, a body of the wrong shape a 422, too large a 413.
pub struct Json<T>(pub T);

impl<T: serde::de::DeserializeOwned, S: Send + Sync> FromRequest<S> for Json<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(Json(v)),
            Err(r) => Err(ApiError(rejection(r))),
        }
    }
}

fn rejection(r: JsonRejection) -> Error {
    match r {
        _ if r.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            Error::new(Kind::TooLarge, "body_too_large").arg("limit", "1 MiB")
        }
        JsonRejection::JsonDataError(e) => Error::invalid("bad_body").arg("detail", e.body_text()),
        JsonRejection::JsonSyntaxError(e) => {
            Error::bad_request("bad_json").arg("detail", e.body_text())
        }
        JsonRejection::MissingJsonContentType(_) => {
            Error::new(Kind::BadRequest, "bad_content_type")
        }
        other => Error::bad_request("bad_json").arg("detail", other.body_text()),
    }
}

//! Signing in and out: a session cookie for the web app (HttpOnly, SameSite=Strict) and the same
//! token as a bearer token for API clients.

use crate::http::routes::Routes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use super::error::ApiError;
use super::extract::{COOKIE, Json, User};
use crate::app::App;
use crate::domain::role::Actor;
use crate::error::{Error, Kind};
use crate::store::users;

pub fn router() -> Routes {
    Routes::new()
        .post("/api/login", login)
        .post("/api/logout", logout)
        .get("/api/me", me)
}

#[derive(Deserialize)]
struct Login {
    username: String,
    password: String,
}

fn user_json(a: &Actor) -> serde_json::Value {
    json!({"username": a.username, "role": a.role, "district": a.district, "holder": a.holder})
}

async fn login(State(app): State<App>, Json(body): Json<Login>) -> Result<Response, ApiError> {
    let now = chrono::Utc::now();
    let found = app
        .db
        .read(move |c| users::verify(c, &body.username, &body.password))
        .await?;
    let Some((id, actor)) = found else {
        return Err(ApiError(Error::new(Kind::Unauthorized, "bad_credentials")));
    };
    let token = app
        .db
        .write(move |tx| users::create_session(tx, id, now))
        .await?;
    let cookie = format!(
        "{COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}",
        users::SESSION_DAYS * 86_400
    );
    let mut res = axum::Json(json!({"token": token, "user": user_json(&actor)})).into_response();
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        res.headers_mut().insert(header::SET_COOKIE, v);
    }
    Ok(res)
}

async fn logout(State(app): State<App>, headers: HeaderMap) -> Result<Response, ApiError> {
    let (mut parts, _) = axum::http::Request::new(()).into_parts();
    parts.headers = headers;
    if let Some(t) = super::extract::token(&parts) {
        app.db.write(move |tx| users::end_session(tx, &t)).await?;
    }
    let mut res = axum::http::StatusCode::NO_CONTENT.into_response();
    res.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("qingling_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0"),
    );
    Ok(res)
}

async fn me(User(actor): User) -> axum::Json<serde_json::Value> {
    axum::Json(user_json(&actor))
}

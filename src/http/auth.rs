//! Signing in and out: a session cookie for the web app (HttpOnly, SameSite=Strict) and the same
//! token as a bearer token for API clients.

use crate::http::routes::Routes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use super::audit::{self, Audited};
use super::error::ApiError;
use super::extract::{COOKIE, Json, Peer, User};
use crate::app::App;
use crate::domain::role::Actor;
use crate::error::{Error, Kind};
use crate::service::login_guard::Refusal;
use crate::store::audit::Entry;
use crate::store::users;

pub fn router() -> Routes {
    Routes::new()
        .post("/api/login", login)
        .post("/api/logout", logout)
        .get("/api/me", me)
        .post("/api/me/password", change_password)
}

#[derive(Deserialize)]
struct Login {
    username: String,
    password: String,
}

fn user_json(a: &Actor) -> serde_json::Value {
    json!({"username": a.username, "role": a.role, "district": a.district, "holder": a.holder})
}

/// A refused attempt: 429 (address or username) or 503 (no hashing slot), with Retry-After.
fn refused(r: Refusal) -> Response {
    let (kind, key, wait) = match r {
        Refusal::Address(d) => (Kind::TooManyRequests, "login_throttled", d),
        Refusal::Account(d) => (Kind::TooManyRequests, "login_locked", d),
        Refusal::Busy(d) => (Kind::Busy, "login_busy", d),
    };
    // Whole seconds, rounded up, at least one.
    let secs = (wait.as_millis().div_ceil(1000) as u64).max(1);
    // `retry_after` is both the message's number and the Retry-After header (http::error).
    let e = Error::new(kind, key).arg("retry_after", secs.to_string());
    let mut res = ApiError(e).into_response();
    res.extensions_mut().insert(Audited);
    res
}

/// Sign-in, in this order: the address's allowance (429), the username's lock (429, the same
/// for every name, right password or not), a hashing slot (503), then the password. Each
/// failure counts towards the username's lock, existing or not.
async fn login(
    State(app): State<App>,
    Peer(ip): Peer,
    Json(body): Json<Login>,
) -> Result<Response, ApiError> {
    let guard = app.login.clone();
    let address = ip.map(|a| a.to_string());
    // The audit row of this sign-in, failed or not: one form for both.
    let attempt = |actor: &str, action: &str, status: u16| Entry {
        actor: Some(actor.to_string()),
        address: address.clone(),
        action: action.into(),
        method: Some("POST".into()),
        route: Some("/api/login".into()),
        target: None,
        status: Some(status),
        detail: None,
    };
    let failed = |reason: &str, locked: Option<u64>, status: u16| Entry {
        detail: Some(json!({"reason": reason, "locked_seconds": locked})),
        ..attempt(&body.username, "login_failed", status)
    };
    if let Some(ip) = ip
        && let Err(r) = guard.check_address(ip)
    {
        // Not written to the log one row per attempt: a flood would flood it too.
        guard.warn(&body.username, Some(ip), "address_throttled");
        return Ok(refused(r));
    }
    if let Err(r) = guard.check_account(&body.username) {
        guard.warn(&body.username, ip, "locked");
        let e = failed("locked", None, 429);
        audit::write(&app, e).await?;
        return Ok(refused(r));
    }
    let name = body.username.clone();
    let found = app.db.read(move |c| c.users().credentials(&name)).await?;
    let stored = found.as_ref().map(|c| c.hash.clone());
    let password = body.password.clone();
    let matches = match guard
        .hash(move || users::password_matches(stored.as_deref(), &password))
        .await
    {
        Ok(m) => m,
        Err(r) => {
            guard.warn(&body.username, ip, "busy");
            return Ok(refused(r));
        }
    };
    let reason = match &found {
        None => Some("unknown_user"),
        Some(_) if !matches => Some("wrong_password"),
        Some(c) if c.disabled => Some("disabled"),
        Some(_) => None,
    };
    let (Some(creds), None) = (found, reason) else {
        let reason = reason.unwrap_or("unknown_user");
        let lock = guard.failed(&body.username);
        guard.warn(&body.username, ip, reason);
        let e = failed(reason, lock.map(|d| d.as_secs()), 401);
        audit::write(&app, e).await?;
        let mut res = ApiError(Error::new(Kind::Unauthorized, "bad_credentials")).into_response();
        res.extensions_mut().insert(Audited);
        return Ok(res);
    };
    guard.succeeded(&body.username);
    let now = chrono::Utc::now();
    let (id, actor) = (creds.id, creds.actor);
    let entry = attempt(&actor.username, "login", 200);
    let token = app
        .db
        .write(move |tx| {
            // Signing in is when ended sessions are cleared away (besides the hourly sweep).
            tx.users().purge_sessions(now)?;
            tx.users().record_login(id, now)?;
            tx.audit().record(now, &entry)?;
            tx.users().create_session(id, address.as_deref(), now)
        })
        .await?;
    let cookie = format!(
        "{COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/; Max-Age={}",
        users::SESSION_DAYS * 86_400
    );
    let mut res = axum::Json(json!({"token": token, "user": user_json(&actor)})).into_response();
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        res.headers_mut().insert(header::SET_COOKIE, v);
    }
    res.extensions_mut().insert(Audited);
    Ok(res)
}

async fn logout(
    State(app): State<App>,
    Peer(ip): Peer,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    if let Some(t) = super::extract::token_in(&headers) {
        let now = chrono::Utc::now();
        let address = ip.map(|a| a.to_string());
        app.db
            .write(move |tx| {
                if let Some(a) = tx.users().session_actor(&t, now)? {
                    tx.audit().record(
                        now,
                        &Entry {
                            actor: Some(a.username),
                            address,
                            action: "logout".into(),
                            method: Some("POST".into()),
                            route: Some("/api/logout".into()),
                            status: Some(204),
                            ..Entry::default()
                        },
                    )?;
                }
                tx.users().end_session(&t)
            })
            .await?;
    }
    let mut res = axum::http::StatusCode::NO_CONTENT.into_response();
    res.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("qingling_session=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0"),
    );
    res.extensions_mut().insert(Audited);
    Ok(res)
}

async fn me(User(actor): User) -> axum::Json<serde_json::Value> {
    axum::Json(user_json(&actor))
}

#[derive(Deserialize)]
struct PasswordChange {
    current: String,
    new: String,
}

/// A user's own password change: the new one must meet the rules (422), the current one must
/// be right (403; it counts towards the account's lock, as a failed sign-in does, so a stolen
/// session cannot guess it), and every other session of the user ends.
async fn change_password(
    State(app): State<App>,
    User(actor): User,
    Peer(ip): Peer,
    headers: HeaderMap,
    Json(body): Json<PasswordChange>,
) -> Result<Response, ApiError> {
    let guard = app.login.clone();
    let name = actor.username.clone();
    crate::domain::password::check_new(&name, &body.new)?;
    if let Err(r) = guard.check_account(&name) {
        return Ok(refused(r));
    }
    let who = name.clone();
    let found = app.db.read(move |c| c.users().credentials(&who)).await?;
    let stored = found.map(|c| c.hash);
    let (current, new) = (body.current, body.new);
    // One hashing slot for both the check and the new hash: each costs argon2's memory.
    let hashed = guard
        .hash(move || {
            if !users::password_matches(stored.as_deref(), &current) {
                return Ok(None);
            }
            users::hash_password(&new).map(Some)
        })
        .await;
    let hashed = match hashed {
        Ok(Ok(h)) => h,
        Ok(Err(e)) => {
            tracing::error!(error = %e, "password hashing failed");
            return Err(ApiError(Error::new(Kind::BadRequest, "internal")));
        }
        Err(r) => return Ok(refused(r)),
    };
    let address = ip.map(|a| a.to_string());
    let now = chrono::Utc::now();
    let mut entry = Entry {
        actor: Some(name.clone()),
        address,
        action: "password_changed".into(),
        method: Some("POST".into()),
        route: Some("/api/me/password".into()),
        target: Some(name.clone()),
        status: Some(204),
        detail: None,
    };
    let Some(hash) = hashed else {
        let lock = guard.failed(&name);
        guard.warn(&name, ip, "wrong_current_password");
        entry.action = "password_change_failed".into();
        entry.status = Some(403);
        entry.detail = Some(json!({"locked_seconds": lock.map(|d| d.as_secs())}));
        audit::write(&app, entry).await?;
        let mut res =
            ApiError(Error::new(Kind::Forbidden, "current_password_wrong")).into_response();
        res.extensions_mut().insert(Audited);
        return Ok(res);
    };
    guard.succeeded(&name);
    let keep = super::extract::token_in(&headers);
    app.db
        .write(move |tx| {
            let ended = tx.users().sessions_of(&name, now)?.len().saturating_sub(1);
            tx.users()
                .set_password_hash(&name, &hash, keep.as_deref())?;
            entry.detail = Some(json!({"sessions_ended": ended}));
            tx.audit().record(now, &entry)
        })
        .await?;
    let mut res = axum::http::StatusCode::NO_CONTENT.into_response();
    res.extensions_mut().insert(Audited);
    Ok(res)
}

//! Accounts (argon2id password hashes) and sessions (random tokens, stored only as SHA-256).

use argon2::{Argon2, PasswordHash, PasswordHasher, PasswordVerifier};
use chrono::{DateTime, Duration, Utc};
use rand::RngCore;
use rusqlite::{Connection, OptionalExtension, params};
use sha2::{Digest, Sha256};

use super::{Result, StoreError};
use crate::domain::role::{Actor, Role};

/// How long a session lasts without signing in again.
pub const SESSION_DAYS: i64 = 30;

/// Why an account could not be added.
#[derive(Debug, thiserror::Error)]
pub enum UserError {
    #[error("the username {0:?} is taken")]
    Taken(String),
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<rusqlite::Error> for UserError {
    fn from(e: rusqlite::Error) -> Self {
        UserError::Store(e.into())
    }
}

/// A new account, as asked for.
pub struct NewUser<'a> {
    pub username: &'a str,
    pub password: &'a str,
    pub role: Role,
    pub district: Option<&'a str>,
    pub holder: Option<&'a str>,
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

/// Adds an account. A district officer needs a district code, an owner a holder name.
pub fn add(
    conn: &Connection,
    u: &NewUser,
    now: DateTime<Utc>,
) -> std::result::Result<i64, UserError> {
    let name = u.username.trim();
    if name.is_empty() || name.len() > 64 || name.chars().any(char::is_whitespace) {
        return Err(UserError::Invalid(
            "the username must be 1-64 characters without spaces".into(),
        ));
    }
    if u.password.chars().count() < 8 {
        return Err(UserError::Invalid(
            "the password must be at least 8 characters".into(),
        ));
    }
    let district = u.district.map(str::trim).filter(|s| !s.is_empty());
    let holder = u.holder.map(str::trim).filter(|s| !s.is_empty());
    match (u.role, district, holder) {
        (Role::District, None, _) => {
            return Err(UserError::Invalid(
                "a district account needs --district CODE".into(),
            ));
        }
        (Role::Owner, _, None) => {
            return Err(UserError::Invalid(
                "an owner account needs --holder NAME".into(),
            ));
        }
        _ => {}
    }
    let hash = Argon2::default()
        .hash_password(u.password.as_bytes())
        .map_err(|e| UserError::Invalid(format!("cannot hash the password: {e}")))?
        .to_string();
    let exists: bool = conn.query_row(
        "SELECT EXISTS(SELECT 1 FROM users WHERE username = ?1)",
        [name],
        |r| r.get(0),
    )?;
    if exists {
        return Err(UserError::Taken(name.into()));
    }
    conn.execute(
        "INSERT INTO users(username, password_hash, role, district, holder, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        params![
            name,
            hash,
            u.role.as_str(),
            (u.role == Role::District).then_some(district).flatten(),
            (u.role == Role::Owner).then_some(holder).flatten(),
            now.to_rfc3339()
        ],
    )?;
    Ok(conn.last_insert_rowid())
}

fn actor_from_row(r: &rusqlite::Row) -> rusqlite::Result<(i64, String, Actor)> {
    let role: String = r.get(3)?;
    Ok((
        r.get(0)?,
        r.get(1)?,
        Actor {
            username: r.get(2)?,
            role: Role::parse(&role).unwrap_or(Role::Patrol),
            district: r.get(4)?,
            holder: r.get(5)?,
        },
    ))
}

/// The account if the password matches. Hashes even for an unknown name, so timing does not
/// tell which usernames exist.
pub fn verify(conn: &Connection, username: &str, password: &str) -> Result<Option<(i64, Actor)>> {
    let row = conn
        .query_row(
            "SELECT id, password_hash, username, role, district, holder FROM users WHERE username = ?1",
            [username],
            actor_from_row,
        )
        .optional()?;
    let dummy = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$N4Jd5yUZ5lFnV4WQz0x8aEG6JUGjNbMvR8U5gX1ZYfE";
    let stored = row.as_ref().map_or(dummy, |(_, h, _)| h.as_str());
    let ok = PasswordHash::new(stored).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    });
    Ok(row.filter(|_| ok).map(|(id, _, a)| (id, a)))
}

/// Starts a session; returns the token (shown once, stored only hashed).
pub fn create_session(conn: &Connection, user_id: i64, now: DateTime<Utc>) -> Result<String> {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let token = hex(&bytes);
    conn.execute(
        "INSERT INTO sessions(token_hash, user_id, created_at, expires_at) VALUES (?1, ?2, ?3, ?4)",
        params![
            token_hash(&token),
            user_id,
            now.to_rfc3339(),
            (now + Duration::days(SESSION_DAYS)).to_rfc3339()
        ],
    )?;
    Ok(token)
}

/// The user a live session token belongs to.
pub fn session_actor(conn: &Connection, token: &str, now: DateTime<Utc>) -> Result<Option<Actor>> {
    Ok(conn
        .query_row(
            "SELECT u.id, u.password_hash, u.username, u.role, u.district, u.holder
             FROM sessions s JOIN users u ON u.id = s.user_id
             WHERE s.token_hash = ?1 AND s.expires_at > ?2",
            params![token_hash(token), now.to_rfc3339()],
            actor_from_row,
        )
        .optional()?
        .map(|(_, _, a)| a))
}

pub fn end_session(conn: &Connection, token: &str) -> Result<()> {
    conn.execute(
        "DELETE FROM sessions WHERE token_hash = ?1",
        [token_hash(token)],
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::layers::Registry;

    fn db() -> Connection {
        let mut conn = Connection::open_in_memory().expect("db");
        crate::store::gpkg::register_functions(&conn).expect("fns");
        crate::store::schema::migrate(&mut conn, &Registry::builtin().expect("layers"))
            .expect("migrate");
        conn
    }

    #[test]
    fn a_user_signs_in_with_the_right_password_only_and_sessions_expire() {
        let conn = db();
        let now = Utc::now();
        let u = NewUser {
            username: "li",
            password: "correct horse",
            role: Role::Owner,
            district: None,
            holder: Some("甲公司"),
        };
        let id = add(&conn, &u, now).expect("add");
        let stored: String = conn
            .query_row("SELECT password_hash FROM users", [], |r| r.get(0))
            .expect("hash");
        assert!(stored.starts_with("$argon2id$"), "{stored}");
        assert!(
            verify(&conn, "li", "wrong password")
                .expect("verify")
                .is_none()
        );
        assert!(
            verify(&conn, "nobody", "correct horse")
                .expect("verify")
                .is_none()
        );
        let (got, actor) = verify(&conn, "li", "correct horse")
            .expect("verify")
            .expect("match");
        assert_eq!(
            (got, actor.role, actor.holder.as_deref()),
            (id, Role::Owner, Some("甲公司"))
        );
        let token = create_session(&conn, id, now).expect("session");
        assert_eq!(
            session_actor(&conn, &token, now)
                .expect("lookup")
                .map(|a| a.username),
            Some("li".into())
        );
        assert!(
            session_actor(&conn, &token, now + Duration::days(SESSION_DAYS + 1))
                .expect("lookup")
                .is_none()
        );
        end_session(&conn, &token).expect("end");
        assert!(session_actor(&conn, &token, now).expect("lookup").is_none());
    }

    #[test]
    fn bindings_are_required_and_names_unique() {
        let conn = db();
        let now = Utc::now();
        let d = NewUser {
            username: "d",
            password: "password1",
            role: Role::District,
            district: None,
            holder: None,
        };
        assert!(matches!(add(&conn, &d, now), Err(UserError::Invalid(_))));
        let p = NewUser {
            username: "p",
            password: "password1",
            role: Role::Patrol,
            district: None,
            holder: None,
        };
        add(&conn, &p, now).expect("patrol");
        assert!(matches!(add(&conn, &p, now), Err(UserError::Taken(_))));
        let short = NewUser {
            username: "q",
            password: "short",
            ..p
        };
        assert!(matches!(
            add(&conn, &short, now),
            Err(UserError::Invalid(_))
        ));
    }
}

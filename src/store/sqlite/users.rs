//! Accounts (argon2id password hashes) and sessions (random tokens, stored only as SHA-256).

use argon2::{Argon2, PasswordHash, PasswordHasher, PasswordVerifier};
use chrono::{DateTime, Duration, Utc};
use rand::RngCore;
use rusqlite::{Connection, OptionalExtension, params};
use sha2::{Digest, Sha256};

use super::{Result, StoreError};
use crate::domain::role::{Actor, Role};

/// How long a session lasts at most, however busy, before signing in again.
pub const SESSION_DAYS: i64 = 30;

/// A session unused for this long has ended.
pub const IDLE_HOURS: i64 = 12;

/// A session's last use is written down only when older than this, not on every request.
pub const TOUCH_MINUTES: i64 = 5;

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
    let hash = hash_password(u.password)?;
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

/// The argon2id hash of a password (blocking, 19 MiB while it runs).
pub fn hash_password(password: &str) -> std::result::Result<String, UserError> {
    Ok(Argon2::default()
        .hash_password(password.as_bytes())
        .map_err(|e| UserError::Invalid(format!("cannot hash the password: {e}")))?
        .to_string())
}

/// What signing in checks a password against.
pub struct Credentials {
    pub id: i64,
    pub hash: String,
    pub actor: Actor,
    pub disabled: bool,
}

/// The stored hash and account of a username, if it exists.
pub fn credentials(conn: &Connection, username: &str) -> Result<Option<Credentials>> {
    Ok(conn
        .query_row(
            "SELECT id, password_hash, username, role, district, holder, disabled_at IS NOT NULL
             FROM users WHERE username = ?1",
            [username],
            |r| {
                let (id, hash, actor) = actor_from_row(r)?;
                Ok(Credentials {
                    id,
                    hash,
                    actor,
                    disabled: r.get(6)?,
                })
            },
        )
        .optional()?)
}

/// Whether `password` matches a stored hash (blocking, 19 MiB while it runs). Without one it
/// hashes against a dummy, so timing does not tell which usernames exist.
pub fn password_matches(stored: Option<&str>, password: &str) -> bool {
    let dummy = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$N4Jd5yUZ5lFnV4WQz0x8aEG6JUGjNbMvR8U5gX1ZYfE";
    let ok = PasswordHash::new(stored.unwrap_or(dummy)).is_ok_and(|h| {
        Argon2::default()
            .verify_password(password.as_bytes(), &h)
            .is_ok()
    });
    ok && stored.is_some()
}

/// The account if the password matches and the account is not disabled.
pub fn verify(conn: &Connection, username: &str, password: &str) -> Result<Option<(i64, Actor)>> {
    let found = credentials(conn, username)?;
    let ok = password_matches(found.as_ref().map(|c| c.hash.as_str()), password);
    Ok(found.filter(|c| ok && !c.disabled).map(|c| (c.id, c.actor)))
}

/// Replaces a password (already hashed, checked against the rules by the caller) and ends the
/// user's sessions except `keep` (the token of the session that changed it, if any). False for
/// an unknown username.
pub fn set_password_hash(
    conn: &Connection,
    username: &str,
    hash: &str,
    keep: Option<&str>,
) -> Result<bool> {
    let n = conn.execute(
        "UPDATE users SET password_hash = ?2 WHERE username = ?1",
        params![username, hash],
    )?;
    if n == 0 {
        return Ok(false);
    }
    end_sessions_of(conn, username, keep)?;
    Ok(true)
}

/// Disables or enables an account; a disabled one cannot sign in and its sessions end at once.
/// Returns whether it was disabled before, or None for an unknown username.
pub fn set_disabled(
    conn: &Connection,
    username: &str,
    disabled: bool,
    now: DateTime<Utc>,
) -> Result<Option<bool>> {
    let before: Option<bool> = conn
        .query_row(
            "SELECT disabled_at IS NOT NULL FROM users WHERE username = ?1",
            [username],
            |r| r.get(0),
        )
        .optional()?;
    let Some(before) = before else {
        return Ok(None);
    };
    if disabled && !before {
        conn.execute(
            "UPDATE users SET disabled_at = ?2 WHERE username = ?1",
            params![username, now.to_rfc3339()],
        )?;
    } else if !disabled && before {
        conn.execute(
            "UPDATE users SET disabled_at = NULL WHERE username = ?1",
            [username],
        )?;
    }
    if disabled {
        end_sessions_of(conn, username, None)?;
    }
    Ok(Some(before))
}

/// Ends every session of a user except the one with token `keep`; returns how many ended.
pub fn end_sessions_of(conn: &Connection, username: &str, keep: Option<&str>) -> Result<usize> {
    Ok(conn.execute(
        "DELETE FROM sessions WHERE user_id = (SELECT id FROM users WHERE username = ?1)
           AND token_hash IS NOT ?2",
        params![username, keep.map(token_hash)],
    )?)
}

/// A session as listed to its owner or a manager (never the token).
#[derive(Debug, Clone, serde::Serialize)]
pub struct SessionInfo {
    /// The first hex digits of the token's hash: enough to tell sessions apart.
    pub id: String,
    pub created_at: String,
    pub last_seen_at: Option<String>,
    pub expires_at: String,
    pub address: Option<String>,
}

/// A user's live sessions, newest first.
pub fn sessions_of(
    conn: &Connection,
    username: &str,
    now: DateTime<Utc>,
) -> Result<Vec<SessionInfo>> {
    let mut stmt = conn.prepare(
        "SELECT substr(s.token_hash, 1, 12), s.created_at, s.last_seen_at, s.expires_at, s.address
         FROM sessions s JOIN users u ON u.id = s.user_id
         WHERE u.username = ?1 AND s.expires_at > ?2 AND coalesce(s.last_seen_at, s.created_at) > ?3
         ORDER BY s.created_at DESC",
    )?;
    let rows = stmt.query_map(
        params![
            username,
            now.to_rfc3339(),
            (now - Duration::hours(IDLE_HOURS)).to_rfc3339()
        ],
        |r| {
            Ok(SessionInfo {
                id: r.get(0)?,
                created_at: r.get(1)?,
                last_seen_at: r.get(2)?,
                expires_at: r.get(3)?,
                address: r.get(4)?,
            })
        },
    )?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Deletes sessions past their maximum or idle too long; returns how many.
pub fn purge_sessions(conn: &Connection, now: DateTime<Utc>) -> Result<usize> {
    Ok(conn.execute(
        "DELETE FROM sessions WHERE expires_at <= ?1 OR coalesce(last_seen_at, created_at) <= ?2",
        params![
            now.to_rfc3339(),
            (now - Duration::hours(IDLE_HOURS)).to_rfc3339()
        ],
    )?)
}

/// Notes a successful sign-in.
pub fn record_login(conn: &Connection, user_id: i64, now: DateTime<Utc>) -> Result<()> {
    conn.execute(
        "UPDATE users SET last_login_at = ?2 WHERE id = ?1",
        params![user_id, now.to_rfc3339()],
    )?;
    Ok(())
}

/// An account as a manager sees it in the list.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Account {
    pub username: String,
    pub role: String,
    pub district: Option<String>,
    pub holder: Option<String>,
    pub disabled: bool,
    pub created_at: String,
    pub last_login_at: Option<String>,
}

/// One page of accounts by username, and whether more follow.
pub fn list(conn: &Connection, limit: usize, offset: usize) -> Result<(Vec<Account>, bool)> {
    let mut stmt = conn.prepare(
        "SELECT username, role, district, holder, disabled_at IS NOT NULL, created_at, last_login_at
         FROM users ORDER BY username LIMIT ?1 OFFSET ?2",
    )?;
    let mut rows: Vec<Account> = stmt
        .query_map(params![limit as i64 + 1, offset as i64], |r| {
            Ok(Account {
                username: r.get(0)?,
                role: r.get(1)?,
                district: r.get(2)?,
                holder: r.get(3)?,
                disabled: r.get(4)?,
                created_at: r.get(5)?,
                last_login_at: r.get(6)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    let more = rows.len() > limit;
    rows.truncate(limit);
    Ok((rows, more))
}

/// Starts a session; returns the token (shown once, stored only hashed).
pub fn create_session(conn: &Connection, user_id: i64, now: DateTime<Utc>) -> Result<String> {
    create_session_from(conn, user_id, None, now)
}

/// [`create_session`], noting the address it was started from.
pub fn create_session_from(
    conn: &Connection,
    user_id: i64,
    address: Option<&str>,
    now: DateTime<Utc>,
) -> Result<String> {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    let token = hex(&bytes);
    conn.execute(
        "INSERT INTO sessions(token_hash, user_id, created_at, expires_at, last_seen_at, address)
         VALUES (?1, ?2, ?3, ?4, ?3, ?5)",
        params![
            token_hash(&token),
            user_id,
            now.to_rfc3339(),
            (now + Duration::days(SESSION_DAYS)).to_rfc3339(),
            address
        ],
    )?;
    Ok(token)
}

/// The user a live session token belongs to.
pub fn session_actor(conn: &Connection, token: &str, now: DateTime<Utc>) -> Result<Option<Actor>> {
    Ok(session(conn, token, now)?.map(|(a, _)| a))
}

/// The user of a live session (not past its maximum, not idle too long, the account not
/// disabled), and whether its last use is old enough to be written down again ([`touch`]).
pub fn session(
    conn: &Connection,
    token: &str,
    now: DateTime<Utc>,
) -> Result<Option<(Actor, bool)>> {
    let idle_since = (now - Duration::hours(IDLE_HOURS)).to_rfc3339();
    let touch_before = (now - Duration::minutes(TOUCH_MINUTES)).to_rfc3339();
    Ok(conn
        .query_row(
            "SELECT u.id, u.password_hash, u.username, u.role, u.district, u.holder,
                    coalesce(s.last_seen_at, s.created_at) < ?4
             FROM sessions s JOIN users u ON u.id = s.user_id
             WHERE s.token_hash = ?1 AND s.expires_at > ?2
               AND coalesce(s.last_seen_at, s.created_at) > ?3 AND u.disabled_at IS NULL",
            params![
                token_hash(token),
                now.to_rfc3339(),
                idle_since,
                touch_before
            ],
            |r| Ok((actor_from_row(r)?.2, r.get::<_, bool>(6)?)),
        )
        .optional()?)
}

/// Writes down a session's use now, which keeps it from going idle.
pub fn touch(conn: &Connection, token: &str, now: DateTime<Utc>) -> Result<()> {
    conn.execute(
        "UPDATE sessions SET last_seen_at = ?2 WHERE token_hash = ?1",
        params![token_hash(token), now.to_rfc3339()],
    )?;
    Ok(())
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

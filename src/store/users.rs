//! Accounts (argon2id password hashes) and sessions (random tokens, stored only as SHA-256):
//! the records, the [`Users`] trait an engine implements, and what is the same for every engine
//! (checking and hashing a new account, matching a password, hashing a token).

use argon2::{Argon2, PasswordHash, PasswordHasher, PasswordVerifier};
use chrono::{DateTime, Utc};
use rand::RngCore;
use sha2::{Digest, Sha256};

use super::{Result, StoreError, Tx};
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

/// A new account, as asked for.
pub struct NewUser<'a> {
    pub username: &'a str,
    pub password: &'a str,
    pub role: Role,
    pub district: Option<&'a str>,
    pub holder: Option<&'a str>,
}

/// A new account as stored: checked, its password hashed, its binding kept only for its role.
pub struct NewAccount<'a> {
    pub username: &'a str,
    pub password_hash: &'a str,
    pub role: Role,
    pub district: Option<&'a str>,
    pub holder: Option<&'a str>,
    pub created_at: DateTime<Utc>,
}

/// What signing in checks a password against.
pub struct Credentials {
    pub id: i64,
    pub hash: String,
    pub actor: Actor,
    pub disabled: bool,
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

/// Accounts and their sessions. Tokens are passed as issued; an engine stores only
/// [`token_hash`] of them.
pub trait Users {
    /// Whether an account has this username.
    fn exists(&self, username: &str) -> Result<bool>;
    /// Stores a new account (see [`add`], which checks it first); returns its id.
    fn insert(&self, account: &NewAccount) -> Result<i64>;
    /// The stored hash and account of a username, if it exists.
    fn credentials(&self, username: &str) -> Result<Option<Credentials>>;
    /// Replaces a password (already hashed, checked against the rules by the caller) and ends
    /// the user's sessions except `keep` (the token of the session that changed it, if any).
    /// False for an unknown username.
    fn set_password_hash(&self, username: &str, hash: &str, keep: Option<&str>) -> Result<bool>;
    /// Disables or enables an account; a disabled one cannot sign in and its sessions end at
    /// once. Returns whether it was disabled before, or None for an unknown username.
    fn set_disabled(
        &self,
        username: &str,
        disabled: bool,
        now: DateTime<Utc>,
    ) -> Result<Option<bool>>;
    /// Notes a successful sign-in.
    fn record_login(&self, user_id: i64, now: DateTime<Utc>) -> Result<()>;
    /// One page of accounts by username, and whether more follow.
    fn list(&self, limit: usize, offset: usize) -> Result<(Vec<Account>, bool)>;

    /// Starts a session, noting the address it was started from; returns the token (shown
    /// once, stored only hashed).
    fn create_session(
        &self,
        user_id: i64,
        address: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<String>;
    /// The user of a live session (not past its maximum, not idle too long, the account not
    /// disabled), and whether its last use is old enough to be written down again
    /// ([`Users::touch`]).
    fn session(&self, token: &str, now: DateTime<Utc>) -> Result<Option<(Actor, bool)>>;
    /// The user a live session token belongs to.
    fn session_actor(&self, token: &str, now: DateTime<Utc>) -> Result<Option<Actor>> {
        Ok(self.session(token, now)?.map(|(a, _)| a))
    }
    /// Writes down a session's use now, which keeps it from going idle.
    fn touch(&self, token: &str, now: DateTime<Utc>) -> Result<()>;
    fn end_session(&self, token: &str) -> Result<()>;
    /// Ends every session of a user except the one with token `keep`; returns how many ended.
    fn end_sessions_of(&self, username: &str, keep: Option<&str>) -> Result<usize>;
    /// A user's live sessions, newest first.
    fn sessions_of(&self, username: &str, now: DateTime<Utc>) -> Result<Vec<SessionInfo>>;
    /// Deletes sessions past their maximum or idle too long; returns how many.
    fn purge_sessions(&self, now: DateTime<Utc>) -> Result<usize>;
}

/// What an engine stores of a session token: its SHA-256, in hex.
pub fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A new session token: 32 random bytes, in hex.
pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

/// Adds an account. A district officer needs a district code, an owner a holder name.
pub fn add(tx: &dyn Tx, u: &NewUser, now: DateTime<Utc>) -> std::result::Result<i64, UserError> {
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
    if tx.users().exists(name)? {
        return Err(UserError::Taken(name.into()));
    }
    Ok(tx.users().insert(&NewAccount {
        username: name,
        password_hash: &hash,
        role: u.role,
        district: (u.role == Role::District).then_some(district).flatten(),
        holder: (u.role == Role::Owner).then_some(holder).flatten(),
        created_at: now,
    })?)
}

/// The argon2id hash of a password (blocking, 19 MiB while it runs).
pub fn hash_password(password: &str) -> std::result::Result<String, UserError> {
    Ok(Argon2::default()
        .hash_password(password.as_bytes())
        .map_err(|e| UserError::Invalid(format!("cannot hash the password: {e}")))?
        .to_string())
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
pub fn verify(tx: &dyn Tx, username: &str, password: &str) -> Result<Option<(i64, Actor)>> {
    let found = tx.users().credentials(username)?;
    let ok = password_matches(found.as_ref().map(|c| c.hash.as_str()), password);
    Ok(found.filter(|c| ok && !c.disabled).map(|c| (c.id, c.actor)))
}

//! Accounts and sessions in the `users` and `sessions` tables.

use chrono::{DateTime, Duration, Utc};
use rusqlite::{OptionalExtension, params};

use super::{Result, SqliteTx};
use crate::domain::role::{Actor, Role};
use crate::store::users::{
    Account, Credentials, IDLE_HOURS, NewAccount, SESSION_DAYS, SessionInfo, TOUCH_MINUTES, Users,
    new_token, token_hash,
};

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

impl Users for SqliteTx<'_> {
    fn exists(&self, username: &str) -> Result<bool> {
        Ok(self
            .conn
            .prepare_cached("SELECT EXISTS(SELECT 1 FROM users WHERE username = ?1)")?
            .query_row([username], |r| r.get(0))?)
    }

    fn insert(&self, a: &NewAccount) -> Result<i64> {
        self.conn.execute(
            "INSERT INTO users(username, password_hash, role, district, holder, created_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                a.username,
                a.password_hash,
                a.role.as_str(),
                a.district,
                a.holder,
                a.created_at.to_rfc3339()
            ],
        )?;
        Ok(self.conn.last_insert_rowid())
    }

    fn credentials(&self, username: &str) -> Result<Option<Credentials>> {
        Ok(self
            .conn
            .prepare_cached(
                "SELECT id, password_hash, username, role, district, holder, disabled_at IS NOT NULL
                 FROM users WHERE username = ?1",
            )?
            .query_row([username], |r| {
                let (id, hash, actor) = actor_from_row(r)?;
                Ok(Credentials {
                    id,
                    hash,
                    actor,
                    disabled: r.get(6)?,
                })
            })
            .optional()?)
    }

    fn set_password_hash(&self, username: &str, hash: &str, keep: Option<&str>) -> Result<bool> {
        let n = self.conn.execute(
            "UPDATE users SET password_hash = ?2 WHERE username = ?1",
            params![username, hash],
        )?;
        if n == 0 {
            return Ok(false);
        }
        self.end_sessions_of(username, keep)?;
        Ok(true)
    }

    fn set_disabled(
        &self,
        username: &str,
        disabled: bool,
        now: DateTime<Utc>,
    ) -> Result<Option<bool>> {
        let before: Option<bool> = self
            .conn
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
            self.conn.execute(
                "UPDATE users SET disabled_at = ?2 WHERE username = ?1",
                params![username, now.to_rfc3339()],
            )?;
        } else if !disabled && before {
            self.conn.execute(
                "UPDATE users SET disabled_at = NULL WHERE username = ?1",
                [username],
            )?;
        }
        if disabled {
            self.end_sessions_of(username, None)?;
        }
        Ok(Some(before))
    }

    fn record_login(&self, user_id: i64, now: DateTime<Utc>) -> Result<()> {
        self.conn.execute(
            "UPDATE users SET last_login_at = ?2 WHERE id = ?1",
            params![user_id, now.to_rfc3339()],
        )?;
        Ok(())
    }

    fn list(&self, limit: usize, offset: usize) -> Result<(Vec<Account>, bool)> {
        let mut stmt = self.conn.prepare_cached(
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

    fn create_session(
        &self,
        user_id: i64,
        address: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<String> {
        let token = new_token();
        self.conn.execute(
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

    fn session(&self, token: &str, now: DateTime<Utc>) -> Result<Option<(Actor, bool)>> {
        let idle_since = (now - Duration::hours(IDLE_HOURS)).to_rfc3339();
        let touch_before = (now - Duration::minutes(TOUCH_MINUTES)).to_rfc3339();
        Ok(self
            .conn
            .prepare_cached(
                "SELECT u.id, u.password_hash, u.username, u.role, u.district, u.holder,
                        coalesce(s.last_seen_at, s.created_at) < ?4
                 FROM sessions s JOIN users u ON u.id = s.user_id
                 WHERE s.token_hash = ?1 AND s.expires_at > ?2
                   AND coalesce(s.last_seen_at, s.created_at) > ?3 AND u.disabled_at IS NULL",
            )?
            .query_row(
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

    fn touch(&self, token: &str, now: DateTime<Utc>) -> Result<()> {
        self.conn.execute(
            "UPDATE sessions SET last_seen_at = ?2 WHERE token_hash = ?1",
            params![token_hash(token), now.to_rfc3339()],
        )?;
        Ok(())
    }

    fn end_session(&self, token: &str) -> Result<()> {
        self.conn.execute(
            "DELETE FROM sessions WHERE token_hash = ?1",
            [token_hash(token)],
        )?;
        Ok(())
    }

    fn end_sessions_of(&self, username: &str, keep: Option<&str>) -> Result<usize> {
        Ok(self.conn.execute(
            "DELETE FROM sessions WHERE user_id = (SELECT id FROM users WHERE username = ?1)
               AND token_hash IS NOT ?2",
            params![username, keep.map(token_hash)],
        )?)
    }

    fn sessions_of(&self, username: &str, now: DateTime<Utc>) -> Result<Vec<SessionInfo>> {
        let mut stmt = self.conn.prepare_cached(
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

    fn purge_sessions(&self, now: DateTime<Utc>) -> Result<usize> {
        Ok(self.conn.execute(
            "DELETE FROM sessions WHERE expires_at <= ?1 OR coalesce(last_seen_at, created_at) <= ?2",
            params![
                now.to_rfc3339(),
                (now - Duration::hours(IDLE_HOURS)).to_rfc3339()
            ],
        )?)
    }
}

#[cfg(test)]
mod tests {
    use chrono::{Duration, Utc};
    use rusqlite::Connection;

    use crate::domain::role::Role;
    use crate::store::sqlite::SqliteTx;
    use crate::store::users::{NewUser, SESSION_DAYS, UserError, Users, add, verify};

    fn db() -> Connection {
        crate::store::sqlite::testing::memory().0
    }

    #[test]
    fn a_user_signs_in_with_the_right_password_only_and_sessions_expire() {
        let conn = db();
        let tx = SqliteTx::new(&conn);
        let now = Utc::now();
        let u = NewUser {
            username: "li",
            password: "correct horse",
            role: Role::Owner,
            district: None,
            holder: Some("甲公司"),
        };
        let id = add(&tx, &u, now).expect("add");
        let stored: String = conn
            .query_row("SELECT password_hash FROM users", [], |r| r.get(0))
            .expect("hash");
        assert!(stored.starts_with("$argon2id$"), "{stored}");
        assert!(
            verify(&tx, "li", "wrong password")
                .expect("verify")
                .is_none()
        );
        assert!(
            verify(&tx, "nobody", "correct horse")
                .expect("verify")
                .is_none()
        );
        let (got, actor) = verify(&tx, "li", "correct horse")
            .expect("verify")
            .expect("match");
        assert_eq!(
            (got, actor.role, actor.holder.as_deref()),
            (id, Role::Owner, Some("甲公司"))
        );
        let token = tx.create_session(id, None, now).expect("session");
        assert_eq!(
            tx.session_actor(&token, now)
                .expect("lookup")
                .map(|a| a.username),
            Some("li".into())
        );
        assert!(
            tx.session_actor(&token, now + Duration::days(SESSION_DAYS + 1))
                .expect("lookup")
                .is_none()
        );
        tx.end_session(&token).expect("end");
        assert!(tx.session_actor(&token, now).expect("lookup").is_none());
    }

    #[test]
    fn bindings_are_required_and_names_unique() {
        let conn = db();
        let tx = SqliteTx::new(&conn);
        let now = Utc::now();
        let d = NewUser {
            username: "d",
            password: "password1",
            role: Role::District,
            district: None,
            holder: None,
        };
        assert!(matches!(add(&tx, &d, now), Err(UserError::Invalid(_))));
        let p = NewUser {
            username: "p",
            password: "password1",
            role: Role::Patrol,
            district: None,
            holder: None,
        };
        add(&tx, &p, now).expect("patrol");
        assert!(matches!(add(&tx, &p, now), Err(UserError::Taken(_))));
        let short = NewUser {
            username: "q",
            password: "short",
            ..p
        };
        assert!(matches!(add(&tx, &short, now), Err(UserError::Invalid(_))));
    }
}

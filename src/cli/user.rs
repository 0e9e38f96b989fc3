//! `qingling user disable|enable|passwd|sessions`: account changes from the command line, each
//! written to the audit log (actor `cli`).

use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Subcommand;

use crate::domain::password;
use crate::error::Error;
use crate::store::audit::Entry;
use crate::store::users;

#[derive(Subcommand)]
pub enum Command {
    /// Disable an account: it cannot sign in and its sessions end at once.
    Disable {
        #[arg(long)]
        db: PathBuf,
        name: String,
    },
    /// Enable a disabled account again.
    Enable {
        #[arg(long)]
        db: PathBuf,
        name: String,
    },
    /// Set a new password (from --password, or the first line of stdin) and end the user's
    /// sessions.
    Passwd {
        #[arg(long)]
        db: PathBuf,
        name: String,
        #[arg(long, allow_hyphen_values = true)]
        password: Option<String>,
    },
    /// List a user's live sessions, or end them all with --revoke.
    Sessions {
        #[arg(long)]
        db: PathBuf,
        name: String,
        #[arg(long)]
        revoke: bool,
    },
}

/// The rules a new password must meet, as an error in the command line's language.
pub fn check_password(username: &str, pw: &str) -> Result<(), String> {
    password::check_new(username, pw).map_err(|e| super::message(&e))
}

fn entry(action: &str, name: &str, detail: serde_json::Value) -> Entry {
    Entry {
        actor: Some("cli".into()),
        action: action.into(),
        target: Some(name.into()),
        detail: Some(detail),
        ..Entry::default()
    }
}

fn unknown(name: &str) -> ExitCode {
    super::fail(super::message(
        &Error::new(crate::error::Kind::NotFound, "user_unknown").arg("name", name),
    ))
}

pub fn run(cmd: Command) -> ExitCode {
    let now = chrono::Utc::now();
    match cmd {
        Command::Disable { db, name } => set_disabled(db, name, true, now),
        Command::Enable { db, name } => set_disabled(db, name, false, now),
        Command::Passwd { db, name, password } => {
            let pw = match password {
                Some(p) => p,
                None => {
                    let mut line = String::new();
                    if let Err(e) = std::io::stdin().lock().read_line(&mut line) {
                        return super::fail(format!("stdin: {e}"));
                    }
                    line.trim_end_matches(['\n', '\r']).to_string()
                }
            };
            if let Err(e) = check_password(&name, &pw) {
                return super::fail(e);
            }
            let (db, _) = open_or_exit!(&db);
            let hash = match users::hash_password(&pw) {
                Ok(h) => h,
                Err(e) => return super::fail(e),
            };
            let done = db.write_blocking(|tx| {
                let ended = tx.users().sessions_of(&name, now)?.len();
                if !tx.users().set_password_hash(&name, &hash, None)? {
                    return Ok(None);
                }
                tx.audit().record(
                    now,
                    &entry(
                        "user_passwd",
                        &name,
                        serde_json::json!({"sessions_ended": ended}),
                    ),
                )?;
                Ok::<_, crate::store::StoreError>(Some(ended))
            });
            match done {
                Ok(Some(n)) => {
                    eprintln!("password of {name} changed; {n} session(s) ended");
                    ExitCode::SUCCESS
                }
                Ok(None) => unknown(&name),
                Err(e) => super::fail(e),
            }
        }
        Command::Sessions { db, name, revoke } => {
            let (db, _) = open_or_exit!(&db);
            let done = db.write_blocking(|tx| {
                if tx.users().credentials(&name)?.is_none() {
                    return Ok(None);
                }
                let list = tx.users().sessions_of(&name, now)?;
                if revoke {
                    let n = tx.users().end_sessions_of(&name, None)?;
                    tx.audit().record(
                        now,
                        &entry(
                            "user_sessions_revoke",
                            &name,
                            serde_json::json!({"ended": n}),
                        ),
                    )?;
                }
                Ok::<_, crate::store::StoreError>(Some(list))
            });
            let list = match done {
                Ok(Some(l)) => l,
                Ok(None) => return unknown(&name),
                Err(e) => return super::fail(e),
            };
            let mut out = std::io::stdout().lock();
            for s in &list {
                let _ = writeln!(
                    out,
                    "{}\tcreated {}\tlast seen {}\texpires {}\t{}",
                    s.id,
                    s.created_at,
                    s.last_seen_at.as_deref().unwrap_or("-"),
                    s.expires_at,
                    s.address.as_deref().unwrap_or("-")
                );
            }
            if revoke {
                eprintln!("{} session(s) of {name} ended", list.len());
            } else {
                eprintln!("{} live session(s) of {name}", list.len());
            }
            ExitCode::SUCCESS
        }
    }
}

fn set_disabled(
    db: PathBuf,
    name: String,
    disabled: bool,
    now: chrono::DateTime<chrono::Utc>,
) -> ExitCode {
    let (db, _) = open_or_exit!(&db);
    let done = db.write_blocking(|tx| {
        let before = tx.users().set_disabled(&name, disabled, now)?;
        if let Some(b) = before {
            tx.audit().record(
                now,
                &entry(
                    if disabled {
                        "user_disable"
                    } else {
                        "user_enable"
                    },
                    &name,
                    serde_json::json!({"before": {"disabled": b}, "after": {"disabled": disabled}}),
                ),
            )?;
        }
        Ok::<_, crate::store::StoreError>(before)
    });
    match done {
        Ok(Some(_)) => {
            eprintln!("{name} {}", if disabled { "disabled" } else { "enabled" });
            ExitCode::SUCCESS
        }
        Ok(None) => unknown(&name),
        Err(e) => super::fail(e),
    }
}

//! Accounts and the audit log over a real server: sign-in limits (per address, per username,
//! hashes at once), password rules, sliding sessions, disabling, the account list, the audit
//! log and its CSV export, and the `qingling user …` commands.
#![allow(clippy::unwrap_used)]

mod common;

use std::process::Stdio;
use std::time::Duration;

use common::*;
use qingling::service::login_guard::LoginPolicy;
use serde_json::{Value, json};

fn login_raw(s: &Server, user: &str, password: &str, lang: &str) -> Response {
    sign_in(s.addr, user, password, &[("Accept-Language", lang)])
}

/// Limits wide enough that only the one under test bites.
fn loose() -> LoginPolicy {
    LoginPolicy {
        address_burst: 10_000,
        address_per_minute: 10_000,
        account_failures: 1_000,
        ..LoginPolicy::default()
    }
}

/// The `action` of each entry of an audit log page.
fn actions_in(page: &Value) -> Vec<&str> {
    strs(&page["entries"], "action")
}

fn db(s: &Server) -> rusqlite::Connection {
    rusqlite::Connection::open(&s.db).unwrap()
}

/// `qingling user …` on the server's database: (success, stdout, stderr).
fn user(s: &Server, args: &[&str]) -> (bool, String, String) {
    let db = s.db.to_str().unwrap();
    let (command, rest) = args.split_first().unwrap();
    run_cli(&[&["user", command, "--db", db], rest].concat())
}

#[test]
fn a_flood_of_wrong_sign_ins_gets_503_with_retry_after_and_the_server_keeps_answering() {
    let s = demo_server_with_policy(LoginPolicy {
        hash_slots: 1,
        // So short that most of the flood finds no slot free.
        hash_wait: Duration::from_millis(1),
        ..loose()
    });
    let manager = Client::login(&s, "manager");
    let addr = s.addr;
    let flood: Vec<_> = (0..48)
        .map(|i| {
            std::thread::spawn(move || {
                sign_in(
                    addr,
                    &format!("nobody{i}"),
                    "wrong password",
                    &[("Accept-Language", "en")],
                )
            })
        })
        .collect();
    // Signed-in users are still served during the flood.
    let me = manager.get("/api/me");
    assert_eq!(me.status, 200, "{}", me.body);
    let answers: Vec<Response> = flood.into_iter().map(|t| t.join().unwrap()).collect();
    let busy: Vec<&Response> = answers.iter().filter(|r| r.status == 503).collect();
    assert!(
        answers.iter().all(|r| r.status == 401 || r.status == 503),
        "{:?}",
        answers.iter().map(|r| r.status).collect::<Vec<_>>()
    );
    assert!(!busy.is_empty(), "one hashing slot cannot take 48 at once");
    for r in busy {
        assert!(
            r.header("Retry-After")
                .is_some_and(|v| v.parse::<u64>().is_ok())
        );
        assert_eq!(r.json()["error"], "login_busy");
        assert!(r.message().contains("try again"));
    }
    assert_eq!(manager.get("/api/me").status, 200);
}

#[test]
fn one_address_is_throttled_after_its_burst_even_with_the_right_password() {
    let s = demo_server_with_policy(LoginPolicy {
        address_burst: 3,
        address_per_minute: 1,
        ..loose()
    });
    for _ in 0..3 {
        assert_eq!(login_raw(&s, "manager", "wrong password", "en").status, 401);
    }
    let r = login_raw(&s, "manager", "qingling-manager", "en");
    assert_eq!(r.status, 429, "{}", r.body);
    assert_eq!(r.json()["error"], "login_throttled");
    assert!(r.header("Retry-After").unwrap().parse::<u64>().unwrap() >= 1);
    let zh = login_raw(&s, "manager", "qingling-manager", "zh-CN");
    assert!(zh.message().contains("秒后再试"));
}

#[test]
fn a_username_is_locked_after_repeated_failures_alike_whether_it_exists_or_not() {
    let s = demo_server_with_policy(LoginPolicy {
        account_failures: 3,
        account_lock: Duration::from_secs(60),
        ..loose()
    });
    for user in ["patrol", "no-such-user"] {
        for _ in 0..3 {
            let r = login_raw(&s, user, "wrong password", "en");
            assert_eq!(
                (r.status, r.json()["error"].clone()),
                (401, json!("bad_credentials"))
            );
        }
    }
    // The right password during the lock is refused like any other.
    let right = login_raw(&s, "patrol", "qingling-patrol", "en");
    let unknown = login_raw(&s, "no-such-user", "qingling-patrol", "en");
    for r in [&right, &unknown] {
        assert_eq!(r.status, 429, "{}", r.body);
        assert_eq!(r.json()["error"], "login_locked");
        assert!(r.header("Retry-After").unwrap().parse::<u64>().unwrap() >= 59);
    }
    // The same words (the seconds left may differ by one between the two requests).
    let words = |r: &Response| -> String {
        r.message()
            .chars()
            .filter(|c| !c.is_ascii_digit())
            .collect()
    };
    assert_eq!(words(&right), words(&unknown));
    // Other usernames are not affected.
    assert_eq!(login_raw(&s, "owner", "qingling-owner", "en").status, 200);
}

#[test]
fn sign_ins_failed_sign_ins_sign_outs_and_writes_are_in_the_audit_log_for_managers_only() {
    let s = demo_server_with_policy(loose());
    assert_eq!(
        login_raw(&s, "=HYPERLINK(\"http://x\")", "wrong password", "en").status,
        401
    );
    assert_eq!(login_raw(&s, "patrol", "wrong password", "en").status, 401);
    let [manager, patrol] = s.clients(["manager", "patrol"]);
    // A write request that fails still counts.
    let r = patrol.post("/api/users/owner/disable", &json!({}));
    assert_eq!(r.status, 403);
    assert_eq!(patrol.get("/api/audit").status, 403);
    assert_eq!(patrol.get("/api/audit.csv").status, 403);
    assert_eq!(patrol.post("/api/logout", &json!({})).status, 204);

    let failed = manager.get("/api/audit?action=login_failed");
    assert_eq!(failed.status, 200, "{}", failed.body);
    let entries = failed.json()["entries"].as_array().unwrap().clone();
    let wrong = entries.iter().find(|e| e["actor"] == "patrol").unwrap();
    assert_eq!(wrong["detail"]["reason"], "wrong_password");
    assert_eq!(wrong["address"], "127.0.0.1");
    assert!(
        entries
            .iter()
            .any(|e| e["detail"]["reason"] == "unknown_user")
    );
    let all = manager.get("/api/audit?actor=patrol&limit=100").json();
    let actions = actions_in(&all);
    for a in ["login_failed", "login", "request", "logout"] {
        assert!(actions.contains(&a), "{a} in {actions:?}");
    }
    let req = items(&all["entries"])
        .find(|e| e["action"] == "request")
        .unwrap();
    assert_eq!(
        (
            &req["method"],
            &req["route"],
            &req["target"],
            &req["status"]
        ),
        (
            &json!("POST"),
            &json!("/api/users/{name}/disable"),
            &json!("name=owner"),
            &json!(403)
        )
    );
    // Paging is bounded and says where the next page starts.
    let page = manager.get("/api/audit?limit=2").json();
    assert_eq!(page["entries"].as_array().unwrap().len(), 2);
    assert_eq!(page["next"], 2);
    // A limit past the maximum is a bad query (400), as on every paged list.
    assert_eq!(manager.get("/api/audit?limit=100000").status, 400);
    assert_eq!(manager.get("/api/audit?from=yesterday").status, 422);
    let future = manager.get("/api/audit?from=2999-01-01T00:00:00Z").json();
    assert!(future["entries"].as_array().unwrap().is_empty());

    let csv = manager.get("/api/audit.csv");
    assert_eq!(csv.status, 200);
    assert!(csv.content_type().starts_with("text/csv"));
    assert!(
        csv.body.contains("id,at,actor,address,action"),
        "{}",
        csv.body
    );
    assert!(csv.body.contains("'=HYPERLINK"), "{}", csv.body);
    assert!(!csv.body.contains(",=HYPERLINK"), "{}", csv.body);
}

#[test]
fn managers_list_accounts_and_a_disabled_user_is_out_at_once() {
    let s = demo_server_with_policy(loose());
    let [manager, patrol] = s.clients(["manager", "patrol"]);
    assert_eq!(patrol.get("/api/users").status, 403);
    let list = manager.get("/api/users");
    assert_eq!(list.status, 200, "{}", list.body);
    let users = list.json()["users"].as_array().unwrap().clone();
    let district = users.iter().find(|u| u["username"] == "district").unwrap();
    assert_eq!(
        (
            &district["role"],
            &district["district"],
            &district["disabled"]
        ),
        (&json!("district"), &json!("150303"), &json!(false))
    );
    let p = users.iter().find(|u| u["username"] == "patrol").unwrap();
    assert!(p["last_login_at"].is_string());
    let page = manager.get("/api/users?limit=1").json();
    assert_eq!(
        (page["users"].as_array().unwrap().len(), &page["next"]),
        (1, &json!(1))
    );
    assert_eq!(manager.get("/api/users?limit=100000").status, 400);

    let r = manager.post("/api/users/patrol/disable", &json!({}));
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(patrol.get("/api/me").status, 401);
    assert_eq!(login_raw(&s, "patrol", "qingling-patrol", "en").status, 401);
    assert_eq!(
        manager.post("/api/users/nobody/disable", &json!({})).status,
        404
    );
    assert_eq!(
        manager
            .post("/api/users/manager/disable", &json!({}))
            .status,
        422
    );
    let audit = manager.get("/api/audit?action=user_disable").json();
    let e = &audit["entries"][0];
    assert_eq!(
        (&e["actor"], &e["target"]),
        (&json!("manager"), &json!("patrol"))
    );
    assert_eq!(e["detail"]["before"]["disabled"], false);
    assert_eq!(e["detail"]["after"]["disabled"], true);

    assert_eq!(
        manager.post("/api/users/patrol/enable", &json!({})).status,
        200
    );
    let again = Client::login(&s, "patrol");
    assert_eq!(again.get("/api/me").status, 200);
    let sessions = manager.get("/api/users/patrol/sessions").json();
    assert_eq!(sessions["sessions"].as_array().unwrap().len(), 1);
    let r = manager.post("/api/users/patrol/sessions/revoke", &json!({}));
    assert_eq!(r.json()["ended"], 1);
    assert_eq!(again.get("/api/me").status, 401);
}

#[test]
fn users_change_their_own_password_with_the_current_one_and_their_other_sessions_end() {
    let s = demo_server_with_policy(LoginPolicy {
        account_failures: 3,
        ..loose()
    });
    let [here, elsewhere] = s.clients(["owner", "owner"]);
    let change = |c: &Client, current: &str, new: &str| {
        c.post("/api/me/password", &json!({"current": current, "new": new}))
    };
    // The rules first, in the request's language, then the current password.
    let r = change(&here, "qingling-owner", "short");
    assert_eq!(
        (r.status, &r.json()["error"]),
        (422, &json!("password_too_short"))
    );
    assert!(r.message().contains('8'), "{}", r.body);
    let r = change(&here, "qingling-owner", "owner-and-more-words");
    assert_eq!(r.json()["error"], "password_contains_username");
    let r = change(&here, "wrong-password", "velvet harbour ninety");
    assert_eq!(
        (r.status, &r.json()["error"]),
        (403, &json!("current_password_wrong"))
    );
    assert_eq!(
        here.get("/api/me").status,
        200,
        "a wrong current password keeps the session"
    );
    assert_eq!(
        login_raw(&s, "owner", "velvet harbour ninety", "en").status,
        401
    );

    let r = change(&here, "qingling-owner", "velvet harbour ninety");
    assert_eq!(r.status, 204, "{}", r.body);
    assert_eq!(
        here.get("/api/me").status,
        200,
        "the session that changed it goes on"
    );
    assert_eq!(
        elsewhere.get("/api/me").status,
        401,
        "every other session ends"
    );
    assert_eq!(login_raw(&s, "owner", "qingling-owner", "en").status, 401);
    assert_eq!(
        login_raw(&s, "owner", "velvet harbour ninety", "en").status,
        200
    );

    // Guessing through a stolen session meets the account's lock, as signing in does.
    for _ in 0..3 {
        assert_eq!(change(&here, "guess", "another fine phrase").status, 403);
    }
    let r = change(&here, "velvet harbour ninety", "another fine phrase");
    assert_eq!(r.status, 429, "{}", r.body);
    assert!(r.header("Retry-After").is_some());

    let manager = Client::login(&s, "manager");
    let log = manager.get("/api/audit?actor=owner").json();
    let actions = actions_in(&log);
    assert!(actions.contains(&"password_changed"), "{actions:?}");
    assert!(actions.contains(&"password_change_failed"), "{actions:?}");
    let changed = &items(&log["entries"])
        .find(|e| e["action"] == "password_changed")
        .unwrap()["detail"];
    assert_eq!(changed["sessions_ended"], 1);
    assert!(
        !log.to_string().contains("velvet"),
        "no password in the log"
    );
}

#[test]
fn sessions_end_when_idle_or_at_their_maximum_and_ended_ones_are_purged() {
    let s = demo_server_with_policy(loose());
    let [idle, old, busy] = s.clients(["patrol", "owner", "district"]);
    let conn = db(&s);
    let ago = |h: i64| (chrono::Utc::now() - chrono::Duration::hours(h)).to_rfc3339();
    let set = |sql: &str, user: &str, v: String| {
        conn.execute(
            &format!("UPDATE sessions SET {sql} = ?1 WHERE user_id = (SELECT id FROM users WHERE username = ?2)"),
            rusqlite::params![v, user],
        )
        .unwrap();
    };
    set("last_seen_at", "patrol", ago(13));
    set("expires_at", "owner", ago(1));
    // Used 6 minutes ago: still live, and this use is written down.
    let before = (chrono::Utc::now() - chrono::Duration::minutes(6)).to_rfc3339();
    set("last_seen_at", "district", before.clone());
    assert_eq!(idle.get("/api/me").status, 401);
    assert_eq!(old.get("/api/me").status, 401);
    assert_eq!(busy.get("/api/me").status, 200);
    let last_seen = || -> String {
        query_one(
            &s.db,
            "SELECT last_seen_at FROM sessions JOIN users u ON u.id = user_id WHERE username = 'district'",
        )
    };
    let seen = last_seen();
    assert!(seen > before, "{seen} after {before}");
    // Used again at once: not written again (no write per request).
    assert_eq!(busy.get("/api/me").status, 200);
    let again = last_seen();
    assert_eq!(again, seen);
    // The next sign-in clears the ended sessions away.
    let _ = Client::login(&s, "manager");
    let left = count(
        &s.db,
        "SELECT count(*) FROM sessions JOIN users u ON u.id = user_id WHERE username IN ('patrol', 'owner')",
    );
    assert_eq!(left, 0);
}

#[test]
fn the_user_commands_apply_the_password_rules_disable_and_end_sessions() {
    let s = demo_server_with_policy(loose());
    for (password, refusal) in [
        ("11111111", "too common"),
        ("wang-fire-2024", "must not contain the username"),
    ] {
        let add = [
            "add",
            "--username",
            "wang",
            "--password",
            password,
            "--role",
            "patrol",
        ];
        let (ok, _, err) = user(&s, &add);
        assert!(!ok && err.contains(refusal), "{err}");
    }

    let patrol = Client::login(&s, "patrol");
    let (ok, out, err) = user(&s, &["sessions", "patrol"]);
    assert!(ok, "{err}");
    assert_eq!(out.lines().count(), 1, "{out}");
    assert!(out.contains("127.0.0.1"), "{out}");

    // A new password from stdin; the old one and the user's sessions stop working.
    let mut child = bin()
        .args(["user", "passwd", "--db", s.db.to_str().unwrap(), "patrol"])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"quiet ember ridge lantern\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(patrol.get("/api/me").status, 401);
    assert_eq!(login_raw(&s, "patrol", "qingling-patrol", "en").status, 401);
    assert_eq!(
        login_raw(&s, "patrol", "quiet ember ridge lantern", "en").status,
        200
    );
    let (ok, _, err) = user(&s, &["passwd", "patrol", "--password", "short"]);
    assert!(!ok && err.contains("at least 8"), "{err}");

    let (ok, _, err) = user(&s, &["disable", "owner"]);
    assert!(ok, "{err}");
    assert_eq!(login_raw(&s, "owner", "qingling-owner", "en").status, 401);
    let (ok, _, err) = user(&s, &["enable", "owner"]);
    assert!(ok, "{err}");
    let owner = Client::login(&s, "owner");
    let (ok, _, err) = user(&s, &["sessions", "owner", "--revoke"]);
    assert!(ok && err.contains("1 session"), "{err}");
    assert_eq!(owner.get("/api/me").status, 401);
    let (ok, _, err) = user(&s, &["disable", "nobody"]);
    assert!(!ok && err.contains("No user"), "{err}");

    let manager = Client::login(&s, "manager");
    let audit = manager.get("/api/audit?actor=cli").json();
    let actions = actions_in(&audit);
    for a in [
        "user_passwd",
        "user_disable",
        "user_enable",
        "user_sessions_revoke",
    ] {
        assert!(actions.contains(&a), "{a} in {actions:?}");
    }
    let _: Value = audit;
}

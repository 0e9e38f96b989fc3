//! Server messages in Chinese (default) and English, chosen by `Accept-Language`.
//!
//! Every message a person may read comes from the tables in `zh.json` and `en.json` beside this
//! module; `{name}` placeholders are filled from the error's arguments. Keys have the web app's
//! style (`web/i18n/`): dotted namespaces with snake_case leaves — an error code's message is
//! `error.{code}` ([`error_key`]), and labels used inside messages are `role.owner`,
//! `fire.status.reported`, `what.fire`, … Only the keys are ours: the codes the API answers with
//! are the leaves, unchanged.

use std::collections::HashMap;
use std::sync::LazyLock;

/// A UI language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    #[default]
    Zh,
    En,
}

/// The items of an `Accept`-style header with their `q` weights (1 when absent or unreadable),
/// in the header's order: `Accept-Language` here, `Accept` for the OGC pages.
pub fn weighted(header: &str) -> impl Iterator<Item = (&str, f32)> {
    header.split(',').filter_map(|part| {
        let mut it = part.split(';');
        let item = it.next()?.trim();
        let q = it
            .find_map(|p| {
                p.trim()
                    .strip_prefix("q=")
                    .and_then(|q| q.parse::<f32>().ok())
            })
            .unwrap_or(1.0);
        Some((item, q))
    })
}

impl Lang {
    /// Picks the first supported language in an `Accept-Language` header; Chinese by default.
    pub fn from_accept_language(header: Option<&str>) -> Lang {
        let Some(h) = header else { return Lang::Zh };
        let mut tags: Vec<(f32, &str)> = weighted(h).map(|(tag, q)| (q, tag)).collect();
        // Stable sort keeps the header's order among equal weights.
        tags.sort_by(|a, b| b.0.total_cmp(&a.0));
        for (_, tag) in tags {
            let primary = tag
                .split(['-', '_', '.'])
                .next()
                .unwrap_or("")
                .to_ascii_lowercase();
            match primary.as_str() {
                "zh" => return Lang::Zh,
                "en" => return Lang::En,
                _ => {}
            }
        }
        Lang::Zh
    }

    pub fn code(self) -> &'static str {
        match self {
            Lang::Zh => "zh",
            Lang::En => "en",
        }
    }
}

/// The message tables: data files beside this module (`zh.json`, `en.json`; the web app's own
/// are in `web/i18n/`), built into the binary. Both files are checked by the tests below, so
/// parsing them cannot fail at run time.
static ZH: LazyLock<HashMap<String, String>> = LazyLock::new(|| table(include_str!("zh.json")));
static EN: LazyLock<HashMap<String, String>> = LazyLock::new(|| table(include_str!("en.json")));

fn table(json: &str) -> HashMap<String, String> {
    #[allow(clippy::expect_used)]
    serde_json::from_str(json).expect("the message tables are valid JSON (a test checks)")
}

fn messages(lang: Lang) -> &'static HashMap<String, String> {
    match lang {
        Lang::Zh => &ZH,
        Lang::En => &EN,
    }
}

/// The key of the message for an error code (`bad_json` → `error.bad_json`).
pub fn error_key(code: &str) -> String {
    format!("error.{code}")
}

/// Whether a key has a message (in both languages: a test checks they match).
pub fn has(key: &str) -> bool {
    ZH.contains_key(key)
}

/// The message for a key, or the key itself when a translation is missing (a test checks none is).
pub fn text(lang: Lang, key: &str) -> &str {
    messages(lang).get(key).map_or(key, String::as_str)
}

/// The message with `{name}` placeholders filled.
pub fn format(lang: Lang, key: &str, args: &[(&str, String)]) -> String {
    let mut s = text(lang, key).to_string();
    for (name, value) in args {
        s = s.replace(&format!("{{{name}}}"), value);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chinese_is_the_default_and_english_is_chosen_by_header() {
        assert_eq!(Lang::from_accept_language(None), Lang::Zh);
        assert_eq!(Lang::from_accept_language(Some("en-US,en;q=0.9")), Lang::En);
        assert_eq!(
            Lang::from_accept_language(Some("fr, en;q=0.5, zh;q=0.8")),
            Lang::Zh
        );
        assert_eq!(Lang::from_accept_language(Some("de")), Lang::Zh);
    }

    #[test]
    fn every_message_has_both_languages_and_the_same_placeholders() {
        // Duplicate keys would silently keep the last: refuse them in the files themselves.
        for file in [include_str!("zh.json"), include_str!("en.json")] {
            let pairs: Vec<(String, serde_json::Value)> =
                serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(file)
                    .expect("JSON")
                    .into_iter()
                    .collect();
            let lines = file.lines().filter(|l| l.starts_with("  \"")).count();
            assert_eq!(pairs.len(), lines, "a key appears twice");
        }
        let zh_keys: std::collections::BTreeSet<&String> = ZH.keys().collect();
        let en_keys: std::collections::BTreeSet<&String> = EN.keys().collect();
        assert_eq!(zh_keys, en_keys, "both languages have the same keys");
        for key in zh_keys {
            let (zh, en) = (&ZH[key], &EN[key]);
            assert!(!zh.is_empty() && !en.is_empty(), "{key}");
            let holes = |s: &str| {
                let mut v: Vec<String> = s
                    .split('{')
                    .skip(1)
                    .filter_map(|p| p.split('}').next())
                    .map(String::from)
                    .collect();
                v.sort();
                v
            };
            assert_eq!(holes(zh), holes(en), "{key}");
        }
    }

    /// The text of every Rust source file under `src/`.
    fn rust_sources() -> Vec<String> {
        fn walk(dir: &std::path::Path, out: &mut Vec<String>) {
            for e in std::fs::read_dir(dir).expect("src").flatten() {
                let p = e.path();
                if p.is_dir() {
                    walk(&p, out);
                } else if p.extension().is_some_and(|x| x == "rs") {
                    out.push(std::fs::read_to_string(&p).expect("read"));
                }
            }
        }
        let mut sources = vec![];
        walk(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
            &mut sources,
        );
        sources
    }

    /// Every error code the code names (`invalid("…")`, `bad_request("…")`, `Kind::…, "…"`,
    /// `not_allowed("…"`) has a message `error.…`, and every `not_found("…")` a `what.…`.
    #[test]
    fn every_key_the_code_uses_is_translated() {
        let sources = rust_sources();
        let mut missing = std::collections::BTreeSet::new();
        for src in &sources {
            for (marker, prefix) in [
                ("invalid(\"", "error."),
                ("bad_request(\"", "error."),
                ("Error::new(Kind::", "error."),
                ("not_found(\"", "what."),
                ("Error::not_allowed(", "error."),
            ] {
                for piece in src.split(marker).skip(1) {
                    let piece = if marker.starts_with("Error::new") {
                        match piece.split_once(", \"") {
                            Some((kind, rest)) if kind.chars().all(char::is_alphanumeric) => rest,
                            _ => continue,
                        }
                    } else if marker == "Error::not_allowed(" {
                        match piece.trim_start().strip_prefix('"') {
                            Some(rest) => rest,
                            None => continue,
                        }
                    } else {
                        piece
                    };
                    let key: String = piece
                        .chars()
                        .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_')
                        .collect();
                    if !key.is_empty() && piece[key.len()..].starts_with('"') {
                        let key = format!("{prefix}{key}");
                        if !has(&key) {
                            missing.insert(key);
                        }
                    }
                }
            }
        }
        assert!(
            missing.is_empty(),
            "keys without a translation: {missing:?}"
        );
    }

    #[test]
    fn placeholders_are_filled() {
        let s = format(Lang::En, "error.field_missing", &[("field", "kind".into())]);
        assert_eq!(s, "The field \"kind\" is missing");
    }

    /// One key style for the server's tables and the web app's: dotted namespaces with
    /// snake_case leaves (`error.bad_json`, `account.col_role`).
    #[test]
    fn the_server_and_the_web_write_keys_one_way() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let well_formed = |k: &str| {
            let parts: Vec<&str> = k.split('.').collect();
            parts.len() >= 2
                && parts.iter().all(|p| {
                    !p.is_empty()
                        && p.bytes()
                            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
                })
        };
        for file in [
            "src/i18n/zh.json",
            "src/i18n/en.json",
            "web/i18n/zh.json",
            "web/i18n/en.json",
        ] {
            let text = std::fs::read_to_string(root.join(file)).expect("read");
            let table: serde_json::Map<String, serde_json::Value> =
                serde_json::from_str(&text).expect("JSON");
            let bad: Vec<&String> = table.keys().filter(|k| !well_formed(k)).collect();
            assert!(
                bad.is_empty(),
                "{file}: keys not in the dotted style: {bad:?}"
            );
        }
    }

    /// The labels messages name by reference (`@role.owner`, `@fire.status.reported`, …) exist
    /// for every role, status, action, warning level and measure.
    #[test]
    fn every_label_a_message_refers_to_is_translated() {
        use crate::domain::{dust, dust_issue, fire, role};
        let mut keys: Vec<String> = vec!["common.none".into()];
        keys.extend(role::Role::ALL.map(|r| format!("role.{}", r.as_str())));
        keys.extend(fire::Status::ALL.map(|s| format!("fire.status.{}", s.as_str())));
        keys.extend(fire::Action::ALL.map(|a| format!("fire.action.{}", a.as_str())));
        keys.extend(dust::alert::Action::ALL.map(|a| format!("dust_alert.action.{}", a.as_str())));
        keys.extend(dust_issue::Status::ALL.map(|s| format!("dust_issue.status.{}", s.as_str())));
        keys.extend(dust_issue::Action::ALL.map(|a| format!("dust_issue.action.{}", a.as_str())));
        keys.extend(dust::WarningLevel::ALL.map(|l| format!("dust.level.{}", l.as_str())));
        keys.extend(dust::MEASURES.map(|m| format!("dust.measure.{m}")));
        let missing: Vec<&String> = keys.iter().filter(|k| !has(k)).collect();
        assert!(
            missing.is_empty(),
            "labels without a translation: {missing:?}"
        );
    }

    /// Every key the code spells out in full (`"cli.backup_done"`, `"@what.monitor"`) in one of
    /// the tables' namespaces has a message (error codes are checked above, by their code).
    #[test]
    fn every_literal_key_the_code_names_is_translated() {
        let sources = rust_sources();
        let namespaces: std::collections::BTreeSet<&str> = ZH
            .keys()
            .filter_map(|k| k.split('.').next())
            .filter(|n| *n != "error")
            .collect();
        let mut missing = std::collections::BTreeSet::new();
        for src in &sources {
            for lit in src.split('"').skip(1).step_by(2) {
                let key = lit.trim_start_matches('@');
                let parts: Vec<&str> = key.split('.').collect();
                let shaped = parts.len() >= 2
                    && parts.iter().all(|p| {
                        !p.is_empty()
                            && p.bytes()
                                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
                    });
                if shaped && namespaces.contains(parts[0]) && !has(key) {
                    missing.insert(key.to_string());
                }
            }
        }
        assert!(
            missing.is_empty(),
            "keys without a translation: {missing:?}"
        );
    }
}

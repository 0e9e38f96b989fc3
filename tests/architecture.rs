//! The shape of the code, checked: SQL only in `src/store/`, no engine type outside it, the
//! layers importing one way (domain ← store ← service ← http, hj212, cli), and inside
//! `service/` the use cases calling each other without cycles. No file is excepted.
#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// What each top-level module may import from the others.
fn allowed(from: &str, to: &str) -> bool {
    const BASE: [&str; 2] = ["error", "i18n"];
    let below: &[&str] = match from {
        "error" | "i18n" => &["error", "i18n"],
        "domain" => &[],
        "layers" => &["domain"],
        "store" => &["domain", "layers"],
        "gis" => &["domain", "layers", "store"],
        "service" => &["domain", "layers", "store", "gis"],
        // The running application's wiring: above the use cases, below the adapters.
        "app" => &["domain", "layers", "store", "service"],
        // Inbound adapters: HTTP requests, HJ 212 packets.
        "http" => &["domain", "layers", "store", "service", "gis", "app"],
        "hj212" => &["domain", "layers", "store", "service", "app"],
        "cli" => &[
            "domain", "layers", "store", "service", "gis", "app", "http", "hj212",
        ],
        _ => return true,
    };
    from == to || BASE.contains(&to) || below.contains(&to)
}

fn sources() -> Vec<(String, String)> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut files = vec![];
    walk(&root.join("src"), &mut files);
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).unwrap();
            // The code, not its unit tests (fixtures may write SQL).
            let tests = [
                "#[cfg(test)]\nmod tests",
                "#[cfg(test)]\npub(crate) mod tests",
            ];
            let code = match tests.iter().filter_map(|t| text.find(t)).min() {
                Some(i) => text[..i].to_string(),
                None => text,
            };
            let rel = p
                .strip_prefix(&root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/");
            (rel, code)
        })
        .collect()
}

/// String literals that start an SQL statement.
fn statements(code: &str) -> usize {
    const STARTS: [&str; 12] = [
        "SELECT ",
        "INSERT INTO",
        "INSERT OR",
        "UPDATE ",
        "DELETE FROM",
        "CREATE TABLE",
        "CREATE INDEX",
        "CREATE VIEW",
        "CREATE TRIGGER",
        "PRAGMA ",
        "ALTER TABLE",
        "SAVEPOINT",
    ];
    code.split('"')
        .skip(1)
        .step_by(2)
        .filter(|lit| {
            let t = lit.trim_start_matches(['\n', ' ', '\\']).trim_start();
            STARTS.iter().any(|s| t.starts_with(s))
                || (t.starts_with("UPDATE") && t.contains(" SET "))
        })
        .count()
}

/// SQL statements (string literals that start one) outside `src/store/`, not counting test
/// modules: there are none, and a new one fails here.
#[test]
fn sql_stays_in_the_store() {
    let outside: Vec<String> = sources()
        .into_iter()
        .filter(|(file, _)| !file.starts_with("src/store/"))
        .filter_map(|(file, code)| {
            let n = statements(&code);
            (n > 0).then(|| format!("{file}: {n} SQL statements: move them into src/store/"))
        })
        .collect();
    assert!(outside.is_empty(), "{}", outside.join("\n"));
}

/// The top-level modules a path after `crate::` names: `store::…`, or each of `{store::…, domain}`.
fn modules_named(after: &str) -> Vec<String> {
    let ident = |s: &str| -> String {
        let s = s.trim_start();
        let name: String = s
            .chars()
            .take_while(|c| c.is_ascii_lowercase() || *c == '_' || c.is_ascii_digit())
            .collect();
        // `crate::named!` is a macro at the crate's root, not a module.
        if s[name.len()..].starts_with('!') {
            return String::new();
        }
        name
    };
    let Some(group) = after.strip_prefix('{') else {
        return vec![ident(after)]
            .into_iter()
            .filter(|m| !m.is_empty())
            .collect();
    };
    // Top-level entries of the group: split on commas outside nested braces.
    let (mut depth, mut start, mut out) = (0, 0, vec![]);
    for (i, c) in group.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => {
                out.push(ident(&group[start..i]));
                break;
            }
            '}' => depth -= 1,
            ',' if depth == 0 => {
                out.push(ident(&group[start..i]));
                start = i + 1;
            }
            _ => {}
        }
    }
    out.into_iter().filter(|m| !m.is_empty()).collect()
}

#[test]
fn the_layers_import_one_way() {
    let mut found = vec![];
    for (file, code) in sources() {
        let Some(from) = file
            .strip_prefix("src/")
            .and_then(|f| f.split(['/', '.']).next())
        else {
            continue;
        };
        for piece in code.split("crate::").skip(1) {
            for to in modules_named(piece) {
                if !allowed(from, &to) && !found.contains(&(file.clone(), to.clone())) {
                    found.push((file.clone(), to));
                }
            }
        }
    }
    assert!(found.is_empty(), "imports against the layering: {found:?}");
}

/// The service modules each service module's code names: `crate::service::x`, and `super::x` in
/// a file directly under `src/service/` (a folder module's files are that module).
fn service_graph() -> BTreeMap<String, BTreeSet<String>> {
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (file, code) in sources() {
        let Some(rest) = file.strip_prefix("src/service/") else {
            continue;
        };
        let (from, nested) = match rest.split_once('/') {
            Some((dir, _)) => (dir.to_string(), true),
            None => (rest.trim_end_matches(".rs").to_string(), false),
        };
        if from == "mod" {
            continue;
        }
        let mut named = vec![];
        for piece in code.split("crate::service::").skip(1) {
            named.extend(modules_named(piece));
        }
        if !nested {
            for piece in code.split("super::").skip(1) {
                named.extend(modules_named(piece));
            }
        }
        let to = edges.entry(from.clone()).or_default();
        to.extend(
            named
                .into_iter()
                .filter(|m| *m != from && m != "self" && m != "super"),
        );
    }
    edges
}

/// A cycle through `node`'s descendants, if there is one (depth first; `path` is the way down).
fn cycle_from(
    node: &str,
    edges: &BTreeMap<String, BTreeSet<String>>,
    path: &mut Vec<String>,
    done: &mut BTreeSet<String>,
) -> Option<Vec<String>> {
    if let Some(i) = path.iter().position(|p| p == node) {
        let mut cycle = path[i..].to_vec();
        cycle.push(node.to_string());
        return Some(cycle);
    }
    if done.contains(node) {
        return None;
    }
    path.push(node.to_string());
    for next in edges.get(node).into_iter().flatten() {
        if let Some(c) = cycle_from(next, edges, path, done) {
            return Some(c);
        }
    }
    path.pop();
    done.insert(node.to_string());
    None
}

#[test]
fn the_service_modules_call_each_other_without_cycles() {
    let edges = service_graph();
    assert!(
        edges.get("edit").is_some_and(|e| e.contains("boundaries")),
        "the graph is read: {edges:?}"
    );
    let mut done = BTreeSet::new();
    for node in edges.keys() {
        if let Some(cycle) = cycle_from(node, &edges, &mut vec![], &mut done) {
            panic!("service modules in a cycle: {}", cycle.join(" → "));
        }
    }
}

/// The seam holds both ways: outside `src/store/` no code names the SQLite engine (its crate,
/// its connection or its transaction), so a second engine needs no change there; and the store
/// traits' signatures carry no engine type either.
#[test]
fn no_engine_type_is_named_outside_the_store() {
    let engine_names = ["rusqlite", "SqliteTx", "store::sqlite"];
    let mut found = vec![];
    for (file, code) in sources() {
        let seam = file.starts_with("src/store/") && !file.starts_with("src/store/sqlite/");
        if file.starts_with("src/store/sqlite/") || (file.starts_with("src/store/") && !seam) {
            continue;
        }
        for (n, line) in code.lines().enumerate() {
            let code_part = line.split("//").next().unwrap_or("");
            // The seam may name its one engine where it opens it (`Db::open`, the module list).
            let opens = seam
                && (code_part.contains("sqlite::Engine") || code_part.trim() == "pub mod sqlite;");
            for name in engine_names {
                if code_part.contains(name) && !opens {
                    found.push(format!("{file}:{}: {}", n + 1, line.trim()));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "engine types outside the engine:\n{}",
        found.join("\n")
    );
}

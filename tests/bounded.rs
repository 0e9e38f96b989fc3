//! Bounded answers (issue 11): every list is paged — a default and a maximum `limit`, a 400 that
//! says what is wrong with a bad one, `next` links that walk the whole list in order — answers are
//! compressed for clients that ask, and the web app's files carry cache headers that keep an
//! update visible at once (and vendored files a year).
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeMap;
use std::io::Read;
use std::net::SocketAddr;

use common::*;
use serde_json::{Value, json};

/// A paged list: its path, the key its items are under, and its page sizes.
struct List {
    path: String,
    key: &'static str,
    default: usize,
    max: usize,
}

fn list(path: &str, key: &'static str, default: usize, max: usize) -> List {
    List {
        path: path.into(),
        key,
        default,
        max,
    }
}

fn with(path: &str, params: &str) -> String {
    let sep = if path.contains('?') { '&' } else { '?' };
    format!("{path}{sep}{params}")
}

fn items(v: &Value, key: &str) -> Vec<Value> {
    v[key]
        .as_array()
        .unwrap_or_else(|| panic!("{key} in {v}"))
        .clone()
}

fn next_link(v: &Value) -> Option<String> {
    v["links"]
        .as_array()
        .unwrap()
        .iter()
        .find(|l| l["rel"] == "next")
        .map(|l| l["href"].as_str().unwrap().to_string())
}

/// Checks a list's bounds and walks it page by page; returns how many items it holds.
fn check(c: &Client, l: &List) -> usize {
    let first = c.get(&l.path);
    assert_eq!(first.status, 200, "{}: {}", l.path, first.body);
    let first = first.json();
    assert_eq!(first["limit"], l.default, "{}: the default limit", l.path);
    assert_eq!(first["offset"], 0);
    assert!(
        first["links"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["rel"] == "self"),
        "{}: a self link",
        l.path
    );

    // The largest page is served; one more is a 400 that names the parameter and the range.
    let all = c.get(&with(&l.path, &format!("limit={}", l.max)));
    assert_eq!(all.status, 200, "{}: {}", l.path, all.body);
    let all = all.json();
    assert_eq!(all["limit"], l.max);
    for bad in [
        format!("limit={}", l.max + 1),
        "limit=0".into(),
        "limit=ten".into(),
        "offset=-1".into(),
    ] {
        let r = c.get(&with(&l.path, &bad));
        assert_eq!(r.status, 400, "{} {bad}: {}", l.path, r.body);
        assert_eq!(r.json()["error"], "bad_query", "{} {bad}", l.path);
        let param = bad.split('=').next().unwrap();
        assert!(r.json()["message"].as_str().unwrap().contains(param));
    }
    let en = Client {
        addr: c.addr,
        token: c.token.clone(),
        lang: "en",
    };
    let r = en.get(&with(&l.path, &format!("limit={}", l.max + 1)));
    assert_eq!(
        r.json()["message"],
        format!("The query parameter \"limit\" is invalid: 1..={}", l.max)
    );

    // Two at a time, by the `next` links, gives the whole list in the same order.
    let everything = items(&all, l.key);
    assert!(
        all["next"].is_null(),
        "{}: all fits in the largest page",
        l.path
    );
    assert_eq!(all["numberMatched"], everything.len());
    let mut walked = vec![];
    let mut href = Some(with(&l.path, "limit=2"));
    let mut pages = 0;
    while let Some(h) = href {
        let r = c.get(&h);
        assert_eq!(r.status, 200, "{h}: {}", r.body);
        let page = r.json();
        let got = items(&page, l.key);
        assert!(got.len() <= 2);
        assert_eq!(page["numberReturned"], got.len());
        href = next_link(&page);
        match &href {
            Some(n) => {
                assert_eq!(page["next"], page["offset"].as_u64().unwrap() + 2);
                assert!(n.contains(&format!("offset={}", page["next"])), "{n}");
                assert!(n.starts_with(l.path.split('?').next().unwrap()), "{n}");
            }
            None => assert!(page["next"].is_null()),
        }
        walked.extend(got);
        pages += 1;
        assert!(pages < 1000, "{}: the walk ends", l.path);
    }
    assert_eq!(walked, everything, "{}: the pages make the list", l.path);
    everything.len()
}

#[test]
fn every_list_is_paged_with_a_default_a_maximum_and_next_links() {
    let s = TestServer::demo().start();
    let manager = Client::login(&s, "manager");
    let patrol = Client::login(&s, "patrol");
    Client::login(&s, "owner");

    // Enough of everything for two pages: warnings (with their restrictions), webhooks and
    // their deliveries (reports after registering).
    let from = chrono::Utc::now();
    let period = |h: i64| (from + chrono::Duration::hours(h)).to_rfc3339();
    for level in ["red", "orange", "yellow"] {
        let r = manager.post(
            "/api/dust/warnings",
            &json!({"level": level, "districts": ["150303", "150304"], "from": period(0), "to": period(24)}),
        );
        assert_eq!(r.status, 201, "{}", r.body);
    }
    for n in 0..3 {
        let r = manager.post(
            "/api/webhooks",
            &json!({"url": format!("http://127.0.0.1:9/hook{n}"), "kinds": ["new_fire"]}),
        );
        assert_eq!(r.status, 201, "{}", r.body);
    }
    let hook = manager.get("/api/webhooks?limit=1").json()["webhooks"][0]["id"].clone();
    for _ in 0..3 {
        let at = inside("mines", "骆驼山示例露天煤矿");
        let r = patrol.post(
            "/api/fires",
            &fire_feature(at, json!({"kind": "coal_seam", "position_source": "map"})),
        );
        assert_eq!(r.status, 201, "{}", r.body);
    }

    let lists = [
        list("/api/fires", "features", 100, 1000),
        list("/api/fires?status=open", "features", 100, 1000),
        list("/api/dust/issues", "features", 100, 1000),
        list("/api/dust/alerts", "alerts", 100, 1000),
        list("/api/dust/monitors", "monitors", 200, 1000),
        list("/api/dust/warnings", "warnings", 100, 1000),
        list("/api/dust/restrictions", "restrictions", 100, 1000),
        list("/api/notifications", "items", 50, 200),
        list("/api/webhooks", "webhooks", 100, 1000),
        list(
            &format!("/api/webhooks/{hook}/deliveries"),
            "deliveries",
            100,
            1000,
        ),
        list("/api/users", "users", 50, 500),
        list("/api/audit?action=login", "entries", 100, 1000),
    ];
    for l in &lists {
        let n = check(&manager, l);
        assert!(n >= 3, "{}: {n} items, too few to walk", l.path);
    }
    // The as-of variant pages through the same parameters (yesterday: a fixed moment).
    let day = (chrono::Utc::now() - chrono::Duration::days(1))
        .with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).unwrap())
        .format("%Y-%m-%d")
        .to_string();
    check(
        &manager,
        &list(&format!("/api/fires?at={day}"), "features", 100, 1000),
    );
    // Other roles page what they may see.
    check(&patrol, &list("/api/fires", "features", 100, 1000));
    check(&patrol, &list("/api/dust/issues", "features", 100, 1000));

    // A page past the end is empty, and still says how many there are.
    let past = manager.get("/api/fires?offset=100000").json();
    assert!(past["features"].as_array().unwrap().is_empty());
    assert!(past["next"].is_null());
    assert_eq!(
        past["numberMatched"],
        manager.get("/api/fires?limit=1000").json()["numberMatched"]
    );
    // A filter is kept in the links.
    let open = manager.get("/api/fires?status=open&limit=1").json();
    assert!(next_link(&open).unwrap().contains("status=open"));
}

/// One request with raw bytes back (the shared client reads text): status, headers, body.
fn raw(
    addr: SocketAddr,
    path: &str,
    headers: &[(&str, &str)],
) -> (u16, BTreeMap<String, String>, Vec<u8>) {
    let r = raw::get(addr, path, headers);
    (r.status, r.headers, r.body)
}

fn header<'a>(h: &'a BTreeMap<String, String>, name: &str) -> Option<&'a str> {
    h.get(name).map(String::as_str)
}

#[test]
fn answers_are_compressed_for_clients_that_ask_and_only_then() {
    let s = TestServer::demo().web().start();
    let manager = Client::login(&s, "manager");
    let bearer = format!("Bearer {}", manager.token.clone().unwrap());
    let path = "/api/fires?limit=1000";
    let auth = ("Authorization", bearer.as_str());

    let (status, h, plain) = raw(s.addr, path, &[auth]);
    assert_eq!(status, 200);
    assert_eq!(header(&h, "content-encoding"), None);
    let want: Value = serde_json::from_slice(&plain).unwrap();
    assert!(want["features"].as_array().unwrap().len() > 50);

    let (status, h, gz) = raw(s.addr, path, &[auth, ("Accept-Encoding", "gzip")]);
    assert_eq!(status, 200);
    assert_eq!(header(&h, "content-encoding"), Some("gzip"));
    assert!(
        header(&h, "vary")
            .unwrap()
            .to_ascii_lowercase()
            .contains("accept-encoding")
    );
    let mut unzipped = vec![];
    flate2::read::GzDecoder::new(&gz[..])
        .read_to_end(&mut unzipped)
        .unwrap();
    assert_eq!(serde_json::from_slice::<Value>(&unzipped).unwrap(), want);
    assert!(gz.len() * 4 < plain.len(), "{} → {}", plain.len(), gz.len());

    let (status, h, br) = raw(s.addr, path, &[auth, ("Accept-Encoding", "br")]);
    assert_eq!(status, 200);
    assert_eq!(header(&h, "content-encoding"), Some("br"));
    let mut unbr = vec![];
    brotli_decompressor::Decompressor::new(&br[..], 4096)
        .read_to_end(&mut unbr)
        .unwrap();
    assert_eq!(serde_json::from_slice::<Value>(&unbr).unwrap(), want);

    // Both offered: one of them; the web app's own files too.
    let (_, h, _) = raw(s.addr, path, &[auth, ("Accept-Encoding", "gzip, br")]);
    assert!(matches!(
        header(&h, "content-encoding"),
        Some("gzip" | "br")
    ));
    for file in ["/js/main.js", "/app.css", "/icon.svg", "/index.html"] {
        let (status, h, _) = raw(s.addr, file, &[("Accept-Encoding", "gzip")]);
        assert_eq!(status, 200, "{file}");
        assert_eq!(header(&h, "content-encoding"), Some("gzip"), "{file}");
    }

    // Photos (images) are sent as they are.
    let patrol = Client::login(&s, "patrol");
    let at = inside("mines", "骆驼山示例露天煤矿");
    let r = patrol.post(
        "/api/fires",
        &fire_feature(at, json!({"kind": "coal_seam", "position_source": "map"})),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let fire = r.json()["properties"]["id"].as_str().unwrap().to_string();
    let patrol_auth = format!("Bearer {}", patrol.token.clone().unwrap());
    let (ct, body) = multipart(&png_of(64, 64, [200, 30, 30]));
    let r = request(
        s.addr,
        "POST",
        &format!("/api/fires/{fire}/photos"),
        &[
            ("Content-Type", ct.as_str()),
            ("Authorization", &patrol_auth),
        ],
        Some(&body),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let url = r.json()["photos"][0]["url"].as_str().unwrap().to_string();
    let (status, h, _) = raw(
        s.addr,
        &url,
        &[
            ("Authorization", &patrol_auth),
            ("Accept-Encoding", "gzip, br"),
        ],
    );
    assert_eq!(status, 200);
    assert!(header(&h, "content-type").unwrap().starts_with("image/"));
    assert_eq!(header(&h, "content-encoding"), None);
}

#[test]
fn the_app_s_files_revalidate_and_versioned_vendor_files_are_immutable() {
    let dir = tempfile::tempdir().unwrap();
    let web = dir.path();
    std::fs::create_dir_all(web.join("js")).unwrap();
    std::fs::create_dir_all(web.join("vendor/lib")).unwrap();
    std::fs::write(web.join("index.html"), "<!doctype html><title>t</title>").unwrap();
    std::fs::write(web.join("js/app.js"), "export const a = 1;\n").unwrap();
    std::fs::write(web.join("vendor/lib/VERSION"), "1.2.3\n").unwrap();
    std::fs::write(web.join("vendor/lib/lib.js"), "export const b = 2;\n").unwrap();
    let s = TestServer::demo().web_dir(web.to_path_buf()).start();

    // The app's own file: kept, revalidated, 304 while unchanged.
    let (status, h, _) = raw(s.addr, "/js/app.js", &[]);
    assert_eq!(status, 200);
    assert_eq!(header(&h, "cache-control"), Some("no-cache"));
    assert!(header(&h, "last-modified").is_some());
    let tag = header(&h, "etag").unwrap().to_string();
    let (status, h, body) = raw(s.addr, "/js/app.js", &[("If-None-Match", &tag)]);
    assert_eq!(status, 304);
    assert!(body.is_empty());
    assert_eq!(header(&h, "etag"), Some(tag.as_str()));
    assert_eq!(header(&h, "cache-control"), Some("no-cache"));
    // A new version shows at once: another tag, the new bytes.
    std::fs::write(web.join("js/app.js"), "export const a = 22;\n").unwrap();
    let (status, h, body) = raw(s.addr, "/js/app.js", &[("If-None-Match", &tag)]);
    assert_eq!(status, 200);
    assert_ne!(header(&h, "etag"), Some(tag.as_str()));
    assert_eq!(body, b"export const a = 22;\n");

    // App routes get the page, revalidated too.
    let (status, h, body) = raw(s.addr, "/dashboard", &[]);
    assert_eq!(status, 200);
    assert_eq!(header(&h, "cache-control"), Some("no-cache"));
    assert!(String::from_utf8_lossy(&body).contains("<title>"));

    // A vendored file asked for with its version is kept a year; otherwise it revalidates.
    let (status, h, _) = raw(s.addr, "/vendor/lib/lib.js?v=1.2.3", &[]);
    assert_eq!(status, 200);
    assert_eq!(
        header(&h, "cache-control"),
        Some("public, max-age=31536000, immutable")
    );
    for path in ["/vendor/lib/lib.js", "/vendor/lib/lib.js?v=1.2.2"] {
        let (status, h, _) = raw(s.addr, path, &[]);
        assert_eq!(status, 200, "{path}");
        assert_eq!(header(&h, "cache-control"), Some("no-cache"), "{path}");
    }
    // A missing file stays a 404 with no cache header; the API keeps its own rule.
    let (status, h, _) = raw(s.addr, "/js/missing.js", &[]);
    assert_eq!(status, 404);
    assert_eq!(header(&h, "cache-control"), None);
    let manager = Client::login(&s, "manager");
    let r = manager.get("/api/fires?limit=1");
    assert_eq!(r.header("Cache-Control"), Some("no-store"));
}

#[test]
fn the_real_web_app_and_its_service_worker_revalidate() {
    let s = demo_server_with_web();
    for path in ["/sw.js", "/index.html", "/js/api.js", "/i18n/zh.json"] {
        let (status, h, _) = raw(s.addr, path, &[]);
        assert_eq!(status, 200, "{path}");
        assert_eq!(header(&h, "cache-control"), Some("no-cache"), "{path}");
        assert!(header(&h, "etag").is_some(), "{path}");
    }
}

/// Requests' reads run a few at a time (twice the cores): more at once would only hold more
/// answers in memory while they wait for a core. Every read still runs.
#[test]
fn requests_reads_run_a_few_at_a_time() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    let (_dir, path) = demo_db();
    let db = open_store(&path);
    let (now, most) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    let reads = 4 * db.reads_at_once();
    let done: usize = rt.block_on(async {
        let tasks: Vec<_> = (0..reads)
            .map(|_| {
                let (db, now, most) = (db.clone(), now.clone(), most.clone());
                tokio::spawn(async move {
                    db.read(move |tx| {
                        let n = now.fetch_add(1, Ordering::SeqCst) + 1;
                        most.fetch_max(n, Ordering::SeqCst);
                        std::thread::sleep(std::time::Duration::from_millis(40));
                        let fires = tx.fires().count(&Default::default(), 1000);
                        now.fetch_sub(1, Ordering::SeqCst);
                        fires.map(|_| 1usize)
                    })
                    .await
                })
            })
            .collect();
        let mut done = 0;
        for t in tasks {
            done += t.await.unwrap().unwrap();
        }
        done
    });
    assert_eq!(done, reads, "every read ran");
    let most = most.load(Ordering::SeqCst);
    assert!(
        most <= db.reads_at_once() && most >= 2,
        "{most} reads at once (permits: {})",
        db.reads_at_once()
    );
}

/// The open fires by deadline (the dashboard's list) come from the partial index of open fires
/// for a manager: page by page, the same fires in the same order as every open fire sorted.
#[test]
fn the_open_fires_by_deadline_page_in_order() {
    use qingling::domain::fire::Status;
    use qingling::store::Slice;
    use qingling::store::fires::{FireFilter, FireOrder};
    let (_dir, path) = demo_db();
    let db = open_store(&path);
    let open: Vec<Status> = Status::ALL.into_iter().filter(|s| s.is_open()).collect();
    let filter = FireFilter {
        statuses: Some(open),
        ..FireFilter::default()
    };
    let (paged, all) = db
        .read_blocking(|tx| {
            let mut paged = vec![];
            let mut offset = 0;
            loop {
                let (page, more) =
                    tx.fires()
                        .page(&filter, FireOrder::Deadline, Slice { limit: 7, offset })?;
                offset += page.len();
                paged.extend(page.into_iter().map(|f| (f.deadline, f.code)));
                if !more {
                    break;
                }
            }
            let mut all: Vec<_> = tx
                .fires()
                .list(&FireFilter::default())?
                .into_iter()
                .filter(|f| f.status.is_open())
                .map(|f| (f.deadline, f.code))
                .collect();
            all.sort();
            Ok::<_, qingling::error::Error>((paged, all))
        })
        .unwrap();
    assert!(all.len() > 7, "{} open fires in the demo", all.len());
    assert_eq!(paged, all);
}

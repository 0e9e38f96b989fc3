//! `qingling backup` and `qingling restore` through the real binary: a backup taken while reports
//! keep arriving restores to a copy that serves what was acknowledged before it began, with the
//! same photos; a damaged backup is refused and nothing is written.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::{BTreeSet, HashMap};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use common::*;
use serde_json::{Value, json};

/// A file of the backup, how to damage it, and the word the refusal must contain.
type Damage<'a> = (&'a Path, fn(&Path), &'a str);

fn qingling(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_qingling"))
        .args(args)
        .env("LANG", "en_US.UTF-8")
        .env("RUST_LOG", "warn")
        .output()
        .unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).to_string()
}

fn backup(db: &Path, out: &Path) {
    let o = qingling(&[
        "backup",
        "--db",
        db.to_str().unwrap(),
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stderr(&o));
}

fn restore(from: &Path, db: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "restore",
        "--from",
        from.to_str().unwrap(),
        "--db",
        db.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    qingling(&args)
}

/// A small PNG unlike any other `n`.
fn photo(n: u32) -> Vec<u8> {
    let img = image::RgbImage::from_fn(24, 16, |x, y| {
        image::Rgb([(n % 251) as u8, (n / 251) as u8, (x * 10 + y) as u8])
    });
    encode(&img, image::ImageFormat::Png)
}

/// Reports a fire with a client id and adds its photo; true once both are acknowledged.
fn report_with_photo(addr: SocketAddr, token: &str, n: u32, at: [f64; 2]) -> (String, bool) {
    let id = uuid::Uuid::new_v4().to_string();
    let at = [
        at[0] + f64::from(n % 7) * 1e-4,
        at[1] + f64::from(n % 5) * 1e-4,
    ];
    let feature = fire_feature(at, json!({"kind": "coal_seam", "id": id}));
    let auth = format!("Bearer {token}");
    let r = request(
        addr,
        "POST",
        "/api/fires",
        &[
            ("Authorization", &auth),
            ("Content-Type", "application/json"),
        ],
        Some(feature.to_string().as_bytes()),
    );
    if r.status != 201 {
        return (id, false);
    }
    let (ctype, body) = multipart(&photo(n));
    let r = request(
        addr,
        "POST",
        &format!("/api/fires/{id}/photos"),
        &[("Authorization", &auth), ("Content-Type", &ctype)],
        Some(&body),
    );
    (id, r.status == 201)
}

/// A server over an existing database file.
fn serve_on(db: &Path) -> Server {
    TestServer::on(db).start()
}

fn login(addr: SocketAddr, user: &str) -> Client {
    Client::login_at(addr, user).in_lang("en")
}

fn fire_ids(db: &Path) -> BTreeSet<String> {
    let conn = rusqlite::Connection::open(db).unwrap();
    column(&conn, "SELECT uuid FROM fire_points")
        .into_iter()
        .collect()
}

/// Photo record ids with the fire they belong to.
fn photo_ids(db: &Path) -> Vec<(i64, String)> {
    let conn = rusqlite::Connection::open(db).unwrap();
    rows(&conn, "SELECT id, fire FROM photos ORDER BY id")
}

fn bytes_of(c: &Client, path: &str) -> Vec<u8> {
    let auth = format!("Bearer {}", c.token.as_deref().unwrap());
    let mut s = std::net::TcpStream::connect(c.addr).unwrap();
    use std::io::{Read, Write};
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nAuthorization: {auth}\r\n\r\n"
    )
    .unwrap();
    let mut raw = vec![];
    s.read_to_end(&mut raw).unwrap();
    let at = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    assert!(raw.starts_with(b"HTTP/1.1 200"), "{path}");
    raw[at + 4..].to_vec()
}

/// The clearance figures, without the moment they were asked for.
fn clearance(c: &Client) -> Value {
    let r = c.get("/api/clearance");
    assert_eq!(r.status, 200, "{}", r.body);
    let mut v = r.json();
    v.as_object_mut().unwrap().remove("at");
    v
}

fn sub(v: &mut Value, key: &str, n: u64) {
    v[key] = json!(v[key].as_u64().unwrap() - n);
}

#[test]
fn a_backup_taken_while_reports_arrive_restores_everything_acknowledged_before_it() {
    let s = demo_server();
    let patrol = login(s.addr, "patrol");
    let token = patrol.token.clone().unwrap();
    let district = inside("districts", "海南区");
    let demo_fires = fire_ids(&s.db);

    // Reports keep arriving, each with a photo, until the backup is over.
    let acked: Arc<Mutex<Vec<String>>> = Arc::default();
    let posted: Arc<Mutex<Vec<String>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let (acked, posted, stop, addr) = (acked.clone(), posted.clone(), stop.clone(), s.addr);
        std::thread::spawn(move || {
            let mut n = 0;
            while !stop.load(Ordering::SeqCst) && n < 400 {
                let (id, ok) = report_with_photo(addr, &token, n, district);
                posted.lock().unwrap().push(id.clone());
                if ok {
                    acked.lock().unwrap().push(id);
                }
                n += 1;
            }
        })
    };
    while acked.lock().unwrap().len() < 5 {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let before: Vec<String> = acked.lock().unwrap().clone();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("backup-1");
    backup(&s.db, &out);
    let during = acked.lock().unwrap().len() - before.len();
    stop.store(true, Ordering::SeqCst);
    writer.join().unwrap();
    let posted: BTreeSet<String> = posted.lock().unwrap().iter().cloned().collect();
    eprintln!("{during} reports acknowledged while the backup ran");

    let restored = dir.path().join("restored").join("q.gpkg");
    let o = restore(&out, &restored, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(
        stderr(&o).contains("checksums and integrity check passed"),
        "{}",
        stderr(&o)
    );

    // Every report acknowledged before the backup began is there; nothing else but the demo's
    // and reports sent meanwhile.
    let in_copy = fire_ids(&restored);
    for id in &before {
        assert!(in_copy.contains(id), "acknowledged report {id} missing");
    }
    assert!(
        in_copy
            .iter()
            .all(|id| demo_fires.contains(id) || posted.contains(id))
    );
    let original = fire_ids(&s.db);
    assert!(in_copy.is_subset(&original));
    let later = (original.len() - in_copy.len()) as u64;
    assert_eq!(count_fires(&restored), count_fires(&s.db) - later as i64);

    // The copy serves the original's clearance as it was at the snapshot: the reports that
    // arrived after it (all burning, all in 海南区) are the only difference.
    let copy = serve_on(&restored);
    let manager_copy = login(copy.addr, "manager");
    let manager = login(s.addr, "manager");
    let mut expected = clearance(&manager);
    let mut got = clearance(&manager_copy);
    sub(&mut expected, "burning", later);
    sub(&mut expected, "not_cleared", later);
    sub(&mut expected["by_status"], "reported", later);
    for d in expected["by_district"].as_array_mut().unwrap() {
        if d["code"] == "150304" {
            sub(d, "burning", later);
            sub(d, "not_cleared", later);
        }
    }
    // Whether the reports' spot lies in a mine is the samples' business: mines are compared in
    // the quiet backup below.
    expected.as_object_mut().unwrap().remove("by_mine");
    got.as_object_mut().unwrap().remove("by_mine");
    assert_eq!(got, expected);

    // Every photo the copy records is served with the original's bytes.
    let photos = photo_ids(&restored);
    let posted_photos = photos.iter().filter(|(_, f)| posted.contains(f)).count();
    assert!(posted_photos >= before.len());
    let by_fire: HashMap<_, _> = photos.iter().map(|(id, f)| (f.clone(), *id)).collect();
    for id in &before {
        assert!(by_fire.contains_key(id), "photo of {id} missing");
    }
    for (id, _) in &photos {
        for path in [
            format!("/api/photos/{id}"),
            format!("/api/photos/{id}/thumb"),
        ] {
            assert_eq!(
                bytes_of(&manager_copy, &path),
                bytes_of(&manager, &path),
                "{path}"
            );
        }
    }
}

fn flip_last_byte(path: &Path) {
    let mut b = std::fs::read(path).unwrap();
    *b.last_mut().unwrap() ^= 0x55;
    std::fs::write(path, b).unwrap();
}

fn nothing_at(db: &Path) {
    let dir = db.parent().unwrap();
    let left: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    assert!(left.is_empty(), "written: {left:?}");
}

#[test]
fn a_damaged_backup_is_refused_naming_the_file_and_nothing_is_written() {
    let s = demo_server();
    let patrol = login(s.addr, "patrol");
    let token = patrol.token.clone().unwrap();
    for n in 0..3 {
        assert!(report_with_photo(s.addr, &token, n, inside("districts", "乌达区")).1);
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("b");
    backup(&s.db, &out);
    // A backup is written only into a new folder.
    let again = qingling(&[
        "backup",
        "--db",
        s.db.to_str().unwrap(),
        out.to_str().unwrap(),
    ]);
    assert!(!again.status.success());
    assert!(stderr(&again).contains("exists"), "{}", stderr(&again));

    let manifest: Value =
        serde_json::from_slice(&std::fs::read(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["counts"]["fire_points"], json!(count_fires(&s.db)));
    assert_eq!(manifest["counts"]["photos"], json!(3));
    // Three photos, three files each, and the database.
    assert_eq!(manifest["files"].as_array().unwrap().len(), 10);
    let check = qingling(&["restore", "--from", out.to_str().unwrap(), "--check"]);
    assert!(check.status.success(), "{}", stderr(&check));

    // A good restore of this quiet backup serves exactly the original's figures and photos.
    let good = dir.path().join("good").join("q.gpkg");
    let o = restore(&out, &good, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let copy = serve_on(&good);
    let (a, b) = (login(s.addr, "manager"), login(copy.addr, "manager"));
    assert_eq!(clearance(&b), clearance(&a));
    assert_eq!(count_fires(&good), count_fires(&s.db));
    for (id, _) in photo_ids(&s.db) {
        let path = format!("/api/photos/{id}");
        assert_eq!(bytes_of(&b, &path), bytes_of(&a, &path));
    }
    // An existing database is replaced only with --force, and kept aside.
    let o = restore(&out, &good, &[]);
    assert!(!o.status.success());
    assert!(stderr(&o).contains("--force"), "{}", stderr(&o));
    drop(copy);
    let o = restore(&out, &good, &["--force"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(good.with_extension("gpkg.before-restore").exists());

    // Never under a running server, not even with --force; nor a second server on one file.
    let good_s = good.to_str().unwrap();
    let addr: SocketAddr = format!("127.0.0.1:{}", free_port()).parse().unwrap();
    let server = serve(&["--db", good_s, "--addr", &addr.to_string()], &[addr]);
    let o = restore(&out, &good, &["--force"]);
    assert!(!o.status.success());
    assert!(
        stderr(&o).contains("in use by a running qingling serve"),
        "{}",
        stderr(&o)
    );
    let second = qingling(&["serve", "--db", good_s, "--addr", "127.0.0.1:0"]);
    assert!(!second.status.success());
    assert!(
        stderr(&second).contains("already used by another"),
        "{}",
        stderr(&second)
    );
    // Even a server killed outright lets go: the OS drops its lock.
    kill(server);
    let o = restore(&out, &good, &["--force"]);
    assert!(o.status.success(), "{}", stderr(&o));

    // Each kind of damage: a photo changed, the database changed, a file missing.
    let photo = out.join(manifest["files"][1]["path"].as_str().unwrap());
    let database = out.join("database.gpkg");
    let cases: [Damage; 3] = [
        (
            photo.as_path(),
            flip_last_byte,
            "does not match the manifest",
        ),
        (
            database.as_path(),
            flip_last_byte,
            "does not match the manifest",
        ),
        (
            photo.as_path(),
            |p| std::fs::remove_file(p).unwrap(),
            "is missing",
        ),
    ];
    for (i, (file, damage, says)) in cases.into_iter().enumerate() {
        let saved = std::fs::read(file).unwrap();
        damage(file);
        let target = dir.path().join(format!("bad-{i}")).join("q.gpkg");
        let o = restore(&out, &target, &[]);
        assert!(!o.status.success());
        let msg = stderr(&o);
        assert!(msg.contains(&file.display().to_string()), "{msg}");
        assert!(
            msg.contains(says) && msg.contains("nothing was written"),
            "{msg}"
        );
        nothing_at(&target);
        let check = qingling(&["restore", "--from", out.to_str().unwrap(), "--check"]);
        assert!(!check.status.success());
        std::fs::write(file, saved).unwrap();
    }
    // In Chinese by default.
    flip_last_byte(&photo);
    let o = Command::new(env!("CARGO_BIN_EXE_qingling"))
        .args(["restore", "--from", out.to_str().unwrap(), "--check"])
        .env_remove("LANG")
        .output()
        .unwrap();
    assert!(stderr(&o).contains("备份已损坏"), "{}", stderr(&o));
}

//! Test support: a real server on an ephemeral loopback port over a demo database built from
//! `samples/`, and a minimal HTTP/1.1 client (no extra dependencies).
#![allow(dead_code, clippy::unwrap_used)]

pub mod device;
pub mod dust;
pub mod hj212;
pub mod raw;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};

use geo::InteriorPoint;
use serde_json::Value;

/// A server for a test: the real router on an ephemeral loopback port, on its own runtime
/// (dropped with it), over a database in a temporary folder or one the test owns.
pub struct Server {
    pub addr: SocketAddr,
    pub db: PathBuf,
    /// The store the server writes through (for tests that add monitors and the like).
    pub store: qingling::store::Db,
    /// The HJ 212 listener, when asked for.
    pub hj212: Option<qingling::hj212::listener::Hj212>,
    _dir: Option<tempfile::TempDir>,
    pub rt: tokio::runtime::Runtime,
}

/// The layers of the fire work (every demo has features in each), in table order.
pub fn fire_layers() -> impl Iterator<Item = &'static str> {
    "districts mines waste_dumps gangue_heaps fire_points inspections".split(' ')
}

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The sample data folder the demo is built from.
pub fn samples() -> PathBuf {
    root().join("samples")
}

/// A sample layer file (`samples/{layer}.geojson`) as a JSON value.
pub fn sample_collection(layer: &str) -> Value {
    let text = std::fs::read_to_string(samples().join(format!("{layer}.geojson"))).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// A demo database built from `samples/` in a fresh temporary folder (kept while the guard
/// lives).
pub fn demo_db() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("demo.gpkg");
    qingling::cli::build_demo(&db, &samples()).unwrap();
    (dir, db)
}

/// The store over the database at `db`, with the built-in layers.
pub fn open_store(db: &Path) -> qingling::store::Db {
    let registry = qingling::layers::Registry::builtin().unwrap();
    qingling::store::Db::open(db, &registry).unwrap()
}

/// Adds an owner account for `holder` (password `qingling-{name}`, as the demo users').
pub fn add_owner(store: &qingling::store::Db, name: &str, holder: &str) {
    use qingling::store::users::{self, NewUser};
    let password = format!("qingling-{name}");
    store
        .write_blocking(|tx| {
            users::add(
                tx,
                &NewUser {
                    username: name,
                    password: &password,
                    role: qingling::domain::role::Role::Owner,
                    district: None,
                    holder: Some(holder),
                },
                chrono::Utc::now(),
            )
            .map_err(|e| qingling::store::StoreError::Corrupt(format!("{e:?}")))
        })
        .unwrap();
}

/// A multi-threaded tokio runtime of `threads` workers, for servers a test runs beside it.
pub fn runtime(threads: usize) -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads)
        .enable_all()
        .build()
        .unwrap()
}

/// A listener bound on `rt` (`addr` may name port 0 for an ephemeral one).
pub fn bind(
    rt: &tokio::runtime::Runtime,
    addr: impl tokio::net::ToSocketAddrs,
) -> tokio::net::TcpListener {
    rt.block_on(tokio::net::TcpListener::bind(addr)).unwrap()
}

/// A loopback port nothing listens on (yet).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The `qingling` binary, speaking English, run from the repository root.
pub fn bin() -> std::process::Command {
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_qingling"));
    c.env("LANG", "en_US.UTF-8").current_dir(root());
    c
}

/// Runs the binary: (success, stdout, stderr).
pub fn run_cli(args: &[&str]) -> (bool, String, String) {
    let out = bin().args(args).output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).to_string(),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

/// Starts `qingling serve` with `args` (its log dropped) and waits until every address in
/// `listening` takes connections.
pub fn serve(args: &[&str], listening: &[SocketAddr]) -> std::process::Child {
    let child = bin()
        .arg("serve")
        .args(args)
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    wait_until("the server listens", || {
        listening.iter().all(|a| TcpStream::connect(a).is_ok())
    });
    child
}

/// The first row a query finds, as a tuple of its columns.
pub fn row<T>(conn: &rusqlite::Connection, sql: &str, params: impl rusqlite::Params) -> T
where
    T: for<'a> TryFrom<&'a rusqlite::Row<'a>, Error = rusqlite::Error>,
{
    conn.query_row(sql, params, |r| T::try_from(r)).unwrap()
}

/// The first column of every row a query finds.
pub fn column<T: rusqlite::types::FromSql>(conn: &rusqlite::Connection, sql: &str) -> Vec<T> {
    rows::<(T,)>(conn, sql).into_iter().map(|(v,)| v).collect()
}

/// Every row a query finds, each as a tuple of its columns.
pub fn rows<T>(conn: &rusqlite::Connection, sql: &str) -> Vec<T>
where
    T: for<'a> TryFrom<&'a rusqlite::Row<'a>, Error = rusqlite::Error>,
{
    let mut stmt = conn.prepare(sql).unwrap();
    stmt.query_map([], |r| T::try_from(r))
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

/// Kills a process outright (SIGKILL: no shutdown) and reaps it.
pub fn kill(mut child: std::process::Child) {
    child.kill().unwrap();
    child.wait().unwrap();
}

/// How many rows a counting query finds in the database at `db`.
pub fn count(db: &Path, sql: &str) -> i64 {
    query_one(db, sql)
}

/// The first column of the first row a query finds in the database at `db`.
pub fn query_one<T: rusqlite::types::FromSql>(db: &Path, sql: &str) -> T {
    let conn = rusqlite::Connection::open(db).unwrap();
    conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

impl Server {
    /// A client signed in as each demo user of `users` (in that order).
    pub fn clients<const N: usize>(&self, users: [&str; N]) -> [Client; N] {
        users.map(|u| Client::login(self, u))
    }
}

/// Builds a [`Server`]: `TestServer::demo().web().start()`, `TestServer::on(&db).start()`, …
pub struct TestServer {
    db: Option<PathBuf>,
    web: Option<PathBuf>,
    policy: Option<qingling::service::login_guard::LoginPolicy>,
    webhooks: Option<qingling::service::webhooks::Config>,
    hj212: Option<qingling::hj212::listener::Config>,
}

impl TestServer {
    /// Over a fresh demo database built from `samples/`.
    pub fn demo() -> TestServer {
        TestServer {
            db: None,
            web: None,
            policy: None,
            webhooks: None,
            hj212: None,
        }
    }

    /// Over an existing database file, which the test keeps.
    pub fn on(db: &Path) -> TestServer {
        TestServer {
            db: Some(db.to_path_buf()),
            ..TestServer::demo()
        }
    }

    /// Also serves the web app's folder.
    pub fn web(self) -> TestServer {
        self.web_dir(root().join("web"))
    }

    /// Serves `dir` as the web app.
    pub fn web_dir(mut self, dir: PathBuf) -> TestServer {
        self.web = Some(dir);
        self
    }

    /// Its own sign-in limits.
    pub fn login_policy(mut self, p: qingling::service::login_guard::LoginPolicy) -> TestServer {
        self.policy = Some(p);
        self
    }

    /// Runs the webhook delivery worker with `cfg`.
    pub fn webhooks(mut self, cfg: qingling::service::webhooks::Config) -> TestServer {
        self.webhooks = Some(cfg);
        self
    }

    /// Starts the HJ 212 listener beside it, on another ephemeral port.
    pub fn hj212(mut self, cfg: qingling::hj212::listener::Config) -> TestServer {
        self.hj212 = Some(cfg);
        self
    }

    pub fn start(self) -> Server {
        let (dir, db) = match self.db {
            Some(db) => (None, db),
            None => {
                let (dir, db) = demo_db();
                (Some(dir), db)
            }
        };
        let registry = qingling::layers::Registry::builtin().unwrap();
        let store = qingling::store::Db::open(&db, &registry).unwrap();
        let mut app = qingling::app::App::new(store.clone(), registry, self.web).unwrap();
        if let Some(p) = self.policy {
            app = app.with_login_policy(p);
        }
        let rt = runtime(2);
        let listener = bind(&rt, "127.0.0.1:0");
        let addr = listener.local_addr().unwrap();
        if let Some(cfg) = self.webhooks {
            let _guard = rt.enter();
            qingling::service::webhooks::spawn_worker_with(&app.db, cfg);
        }
        let hj212 = self.hj212.map(|cfg| {
            rt.block_on(qingling::hj212::listener::start_with(
                "127.0.0.1:0".parse().unwrap(),
                store.clone(),
                cfg,
            ))
            .unwrap()
        });
        // With the peer address, as `qingling serve` does (per-address limits, the audit log).
        rt.spawn(async move {
            axum::serve(
                listener,
                qingling::http::router(app).into_make_service_with_connect_info::<SocketAddr>(),
            )
            .await
        });
        Server {
            addr,
            db,
            store,
            hj212,
            _dir: dir,
            rt,
        }
    }
}

/// A server over a fresh demo database.
pub fn demo_server() -> Server {
    TestServer::demo().start()
}

/// A server over a fresh demo database, and a client signed in as each of `users`.
pub fn demo_with<const N: usize>(users: [&str; N]) -> (Server, [Client; N]) {
    let s = demo_server();
    let clients = s.clients(users);
    (s, clients)
}

/// A demo server that also serves the web app's folder.
pub fn demo_server_with_web() -> Server {
    TestServer::demo().web().start()
}

/// A demo server with its own sign-in limits (short ones, for the account tests).
pub fn demo_server_with_policy(policy: qingling::service::login_guard::LoginPolicy) -> Server {
    TestServer::demo().login_policy(policy).start()
}

pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Response {
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }

    /// The `message` of a JSON error answer.
    pub fn message(&self) -> String {
        let v = self.json();
        v["message"]
            .as_str()
            .unwrap_or_else(|| panic!("no message: {v}"))
            .to_string()
    }

    /// The Content-Type, which the answer must have.
    pub fn content_type(&self) -> &str {
        self.header("content-type")
            .unwrap_or_else(|| panic!("no Content-Type: {:?}", self.headers))
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// One request; `headers` are extra header lines.
pub fn request(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: Option<&[u8]>,
) -> Response {
    let mut s = TcpStream::connect(addr).unwrap();
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for (k, v) in headers {
        head += &format!("{k}: {v}\r\n");
    }
    if let Some(b) = body {
        head += &format!("Content-Length: {}\r\n", b.len());
    }
    head += "\r\n";
    s.write_all(head.as_bytes()).unwrap();
    if let Some(b) = body {
        // The server may answer (413) before reading everything.
        let _ = s.write_all(b);
    }
    let mut raw = vec![];
    let _ = s.read_to_end(&mut raw);
    let text = String::from_utf8_lossy(&raw).to_string();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let chunked = headers
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"));
    let body = if chunked {
        dechunk(body)
    } else {
        body.to_string()
    };
    Response {
        status,
        headers,
        body,
    }
}

fn dechunk(mut s: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = s.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 {
            break;
        }
        // Sizes count bytes; slice by bytes.
        let bytes = rest.as_bytes();
        out += &String::from_utf8_lossy(&bytes[..n.min(bytes.len())]);
        s = rest.get(n + 2..).unwrap_or("");
    }
    out
}

/// `POST /api/login` with a username and password (and `extra` header lines), as the sign-in
/// form sends it; the answer, whatever it is.
pub fn sign_in(addr: SocketAddr, user: &str, password: &str, extra: &[(&str, &str)]) -> Response {
    let body = serde_json::json!({"username": user, "password": password}).to_string();
    let mut h = vec![("Content-Type", "application/json")];
    h.extend_from_slice(extra);
    request(addr, "POST", "/api/login", &h, Some(body.as_bytes()))
}

/// A client bound to a server and (optionally) a bearer token.
pub struct Client {
    pub addr: SocketAddr,
    pub token: Option<String>,
    pub lang: &'static str,
}

impl Client {
    pub fn anonymous(server: &Server) -> Client {
        Client {
            addr: server.addr,
            token: None,
            lang: "zh-CN",
        }
    }

    pub fn login(server: &Server, user: &str) -> Client {
        Client::login_at(server.addr, user)
    }

    /// Signs in as a demo user (password `qingling-{user}`) to the server at `addr`.
    pub fn login_at(addr: SocketAddr, user: &str) -> Client {
        let r = sign_in(addr, user, &format!("qingling-{user}"), &[]);
        assert_eq!(r.status, 200, "{}", r.body);
        Client {
            addr,
            token: r.json()["token"].as_str().map(String::from),
            lang: "zh-CN",
        }
    }

    /// The same session, asking for answers in `lang`.
    pub fn in_lang(&self, lang: &'static str) -> Client {
        Client {
            addr: self.addr,
            token: self.token.clone(),
            lang,
        }
    }

    fn headers(&self) -> Vec<(&'static str, String)> {
        let mut h = vec![("Accept-Language", self.lang.to_string())];
        if let Some(t) = &self.token {
            h.push(("Authorization", format!("Bearer {t}")));
        }
        h
    }

    /// Any method, with this client's language and session, `extra` header lines and a body of
    /// the given Content-Type.
    pub fn send(
        &self,
        method: &str,
        path: &str,
        extra: &[(&str, &str)],
        body: Option<(&str, &[u8])>,
    ) -> Response {
        let mut h: Vec<(&str, String)> = self.headers();
        h.extend(extra.iter().map(|(k, v)| (*k, v.to_string())));
        if let Some((ctype, _)) = body {
            h.push(("Content-Type", ctype.to_string()));
        }
        let h: Vec<(&str, &str)> = h.iter().map(|(k, v)| (*k, v.as_str())).collect();
        request(self.addr, method, path, &h, body.map(|(_, b)| b))
    }

    /// Any method with a GeoJSON body, as QGIS sends it (and `extra` header lines).
    pub fn send_geojson(
        &self,
        method: &str,
        path: &str,
        extra: &[(&str, &str)],
        body: Option<&Value>,
    ) -> Response {
        let text = body.map(|b| b.to_string());
        let body = text
            .as_deref()
            .map(|t| ("application/geo+json", t.as_bytes()));
        self.send(method, path, extra, body)
    }

    pub fn get(&self, path: &str) -> Response {
        self.send("GET", path, &[], None)
    }

    /// A GET that must answer 200; its JSON.
    pub fn get_ok(&self, path: &str) -> Value {
        let r = self.get(path);
        assert_eq!(r.status, 200, "{path}: {}", r.body);
        r.json()
    }

    /// The array `key` of a GET that must answer 200.
    pub fn list(&self, path: &str, key: &str) -> Vec<Value> {
        self.get_ok(path)[key].as_array().unwrap().clone()
    }

    pub fn post(&self, path: &str, body: &Value) -> Response {
        self.post_raw(path, body.to_string().as_bytes())
    }

    pub fn post_raw(&self, path: &str, body: &[u8]) -> Response {
        self.send("POST", path, &[], Some(("application/json", body)))
    }

    pub fn delete(&self, path: &str) -> Response {
        self.send("DELETE", path, &[], None)
    }

    /// Uploads `bytes` as the `photo` part of a form, as the web app does.
    pub fn upload(&self, path: &str, bytes: &[u8]) -> Response {
        let (ctype, body) = multipart(bytes);
        self.send("POST", path, &[], Some((&ctype, &body)))
    }
}

/// The items of a JSON array.
pub fn items(v: &Value) -> std::slice::Iter<'_, Value> {
    v.as_array()
        .unwrap_or_else(|| panic!("not an array: {v}"))
        .iter()
}

/// The text `field` of each item of a JSON array.
pub fn strs<'a>(v: &'a Value, field: &str) -> Vec<&'a str> {
    items(v).map(|x| x[field].as_str().unwrap()).collect()
}

/// The ids of features, as text (numeric ids as written).
pub fn id_set(features: &[Value]) -> std::collections::BTreeSet<String> {
    features
        .iter()
        .map(|f| match &f["id"] {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .collect()
}

/// The ids of a FeatureCollection's features.
pub fn feature_ids(fc: &Value) -> std::collections::BTreeSet<String> {
    id_set(&features(fc))
}

/// The features of a FeatureCollection.
pub fn features(fc: &Value) -> Vec<Value> {
    fc["features"].as_array().unwrap().clone()
}

/// A point inside the named sample feature (its interior point), as [lon, lat].
pub fn inside(layer: &str, name: &str) -> [f64; 2] {
    let fc: geojson::FeatureCollection = serde_json::from_value(sample_collection(layer)).unwrap();
    let f = fc
        .features
        .iter()
        .find(|f| f.property("name").and_then(Value::as_str) == Some(name))
        .unwrap();
    let g: geo::Geometry<f64> =
        geo::Geometry::try_from(&f.geometry.as_ref().unwrap().value).unwrap();
    let p = g.interior_point().unwrap();
    [p.x(), p.y()]
}

/// The first sample feature of a layer matching a predicate on its properties.
pub fn sample_name(layer: &str, pred: impl Fn(&serde_json::Map<String, Value>) -> bool) -> String {
    sample_collection(layer)["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["properties"].as_object().unwrap())
        .find(|p| pred(p))
        .map(|p| p["name"].as_str().unwrap().to_string())
        .unwrap()
}

pub fn fire_feature(at: [f64; 2], props: Value) -> Value {
    serde_json::json!({"type": "Feature", "geometry": {"type": "Point", "coordinates": at}, "properties": props})
}

pub fn count_fires(db: &Path) -> i64 {
    count(db, "SELECT count(*) FROM fire_points")
}

/// A `multipart/form-data` body with one `photo` file part, as the web app sends it:
/// (Content-Type, body).
pub fn multipart(bytes: &[u8]) -> (String, Vec<u8>) {
    multipart_as(bytes, "p.png", "image/png")
}

/// A `multipart/form-data` body with one `photo` part named `filename`, of type `mime`:
/// (Content-Type, body).
pub fn multipart_as(bytes: &[u8], filename: &str, mime: &str) -> (String, Vec<u8>) {
    let boundary = "qinglingtestboundary42";
    let mut body = format!(
        "--{boundary}\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"{filename}\"\r\nContent-Type: {mime}\r\n\r\n"
    )
    .into_bytes();
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
    (format!("multipart/form-data; boundary={boundary}"), body)
}

/// A PNG of `w` × `h` pixels of one colour (the store keeps one record per distinct file).
pub fn png_of(w: u32, h: u32, rgb: [u8; 3]) -> Vec<u8> {
    encode(
        &image::RgbImage::from_pixel(w, h, image::Rgb(rgb)),
        image::ImageFormat::Png,
    )
}

/// An image as the bytes of a file in `format`.
pub fn encode(img: &image::RgbImage, format: image::ImageFormat) -> Vec<u8> {
    let mut out = std::io::Cursor::new(vec![]);
    img.write_to(&mut out, format).unwrap();
    out.into_inner()
}

/// Waits (up to 60 s: webhook retries back off) until `ok`, failing the test with `what` when it never is.
pub fn wait_until(what: &str, mut ok: impl FnMut() -> bool) {
    let t = std::time::Instant::now();
    while !ok() {
        assert!(
            t.elapsed() < std::time::Duration::from_secs(60),
            "timed out: {what}"
        );
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
}

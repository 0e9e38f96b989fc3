//! `cargo bench --bench dust_ingest -- [ARGS]`: dust ingest figures on loopback. A fresh
//! database under `--dir`, monitors registered as `monitor add` does, then:
//!
//! 1. HTTP batch ingest (`POST /api/dust/readings`, keep-alive clients): readings per second;
//! 2. HJ 212 ingest from simulated monitors (one TCP connection each, every packet asking for an
//!    acknowledgement, a window of packets in flight): packets per second until the last
//!    acknowledgement, so every counted packet is committed;
//! 3. bytes on disk per stored reading (SQLite's dbstat, after a checkpoint);
//! 4. a year of minute data for one monitor, then the daily and hourly rollup queries.
//!
//! Durability is the application's: WAL with synchronous=FULL, group commit.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::Semaphore;

use qingling::app::App;
use qingling::domain::dust::device::Hj212Profile;
use qingling::domain::dust::reading::{LOCAL, Level, Quantity, Reading};
use qingling::domain::dust::rollup::{day_means, hour_of};
use qingling::domain::role::Role;
use qingling::hj212::codec::{self as hj212, Event, Framer, ParticulateUnit};
use qingling::layers::Registry;
use qingling::service::dust::monitors::{self, NewMonitor};
use qingling::service::dust::readings;
use qingling::store::Db;
use qingling::store::users::{self, NewUser};

#[derive(clap::Parser)]
#[command(name = "dust_ingest", about = "Dust ingest benchmark on loopback")]
pub struct Args {
    /// Folder for the benchmark database (its dust.gpkg is replaced).
    #[arg(long, default_value = "bench-data/dust")]
    dir: PathBuf,
    /// Simulated monitors.
    #[arg(long, default_value_t = 50)]
    monitors: usize,
    /// Readings sent over HTTP in all.
    #[arg(long, default_value_t = 1_000_000)]
    http_readings: usize,
    /// Readings per HTTP batch.
    #[arg(long, default_value_t = 5_000)]
    batch: usize,
    /// Concurrent HTTP clients (keep-alive connections).
    #[arg(long, default_value_t = 4)]
    http_clients: usize,
    /// HJ 212 packets sent in all, spread over the monitors.
    #[arg(long, default_value_t = 500_000)]
    hj212_packets: usize,
    /// Unacknowledged packets one simulated monitor keeps in flight.
    #[arg(long, default_value_t = 64)]
    window: usize,
}

/// A small deterministic generator: the figures must not depend on the random crate's speed.
struct Gen(u64);

impl Gen {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }

    fn value(&mut self, lo: f64, hi: f64) -> f64 {
        ((lo + (hi - lo) * self.next()) * 10.0).round() / 10.0
    }
}

fn out(line: impl std::fmt::Display) {
    let _ = writeln!(std::io::stdout().lock(), "{line}");
}

fn main() -> ExitCode {
    // `cargo test --all-targets` builds and runs bench targets too, without `--bench`: there is
    // nothing to measure then. `cargo bench --bench dust_ingest -- ARGS` passes `--bench` first.
    let mut argv: Vec<String> = std::env::args().collect();
    if !argv.iter().any(|a| a == "--bench") {
        eprintln!("dust_ingest: run it with cargo bench --bench dust_ingest -- [ARGS]");
        return ExitCode::SUCCESS;
    }
    argv.retain(|a| a != "--bench");
    run(<Args as clap::Parser>::parse_from(argv))
}

fn fail(msg: impl std::fmt::Display) -> ExitCode {
    eprintln!("dust_ingest: {msg}");
    ExitCode::FAILURE
}

fn run(args: Args) -> ExitCode {
    match bench(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(e),
    }
}

struct Monitor {
    mn: String,
    password: String,
    token: String,
}

fn bench(args: Args) -> Result<(), String> {
    if cfg!(debug_assertions) {
        eprintln!("warning: a debug build; figures need `cargo bench --bench dust_ingest`");
    }
    std::fs::create_dir_all(&args.dir).map_err(|e| format!("{}: {e}", args.dir.display()))?;
    let path = args.dir.join("dust.gpkg");
    for ext in ["", "-wal", "-shm"] {
        let _ = std::fs::remove_file(format!("{}{ext}", path.display()));
    }
    let registry = Registry::builtin().map_err(|e| e.to_string())?;
    let db = Db::open(&path, &registry).map_err(|e| e.to_string())?;
    let now = chrono::Utc::now();
    let monitors = register(&db, &registry, args.monitors.max(1), now)?;
    let session = db
        .write_blocking(|tx| {
            let u = NewUser {
                username: "bench-manager",
                password: "bench-manager-password",
                role: Role::Manager,
                district: None,
                holder: None,
            };
            let id = users::add(tx, &u, now).map_err(|e| {
                qingling::error::Error::Store(qingling::store::StoreError::Worker(e.to_string()))
            })?;
            Ok::<_, qingling::error::Error>(
                qingling::store::Tx::users(tx).create_session(id, None, now)?,
            )
        })
        .map_err(|e| qingling::cli::message(&e))?;
    let app = App::new(db.clone(), registry, None).map_err(|e| e.to_string())?;
    let rt = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
    rt.block_on(async move {
        let http = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| e.to_string())?;
        let http_addr = http.local_addr().map_err(|e| e.to_string())?;
        tokio::spawn(async move { axum::serve(http, qingling::http::router(app)).await });
        // Every simulated monitor connects from 127.0.0.1: no per-address share.
        let config = qingling::hj212::listener::Config {
            per_address: usize::MAX,
            ..Default::default()
        };
        let hj = qingling::hj212::listener::start_with(
            "127.0.0.1:0".parse().map_err(|_| "addr")?,
            db.clone(),
            config,
        )
        .await
        .map_err(|e| e.to_string())?;
        out(format!(
            "dust_ingest: {} monitors, database {}, WAL + synchronous=FULL",
            monitors.len(),
            path.display()
        ));
        http_phase(&args, http_addr, &monitors, now.timestamp()).await?;
        let before = hj.ingest.commits();
        let packets = hj212_phase(&args, hj.addr, &monitors, now.timestamp()).await?;
        let commits = hj.ingest.commits() - before;
        out(format!(
            "  group commit: {commits} transactions, {:.0} packets per commit on average",
            packets as f64 / commits.max(1) as f64
        ));
        let snap = hj.stats.snapshot();
        if snap.bad_crc + snap.bad_packets + snap.unknown_mn + snap.wrong_pw + snap.store_errors > 0
        {
            return Err(format!("the listener refused packets: {snap:?}"));
        }
        size_phase(&db)?;
        rollup_phase(&db, http_addr, &session, now.timestamp()).await
    })
}

fn register(
    db: &Db,
    registry: &Registry,
    n: usize,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Vec<Monitor>, String> {
    db.write_blocking(|tx| {
        (0..=n)
            .map(|i| {
                let m = NewMonitor {
                    mn: format!("BENCH{i:04}"),
                    password: format!("pw{i:04}"),
                    lon: 106.6 + 0.4 * (i as f64 / n as f64),
                    lat: 39.3 + 0.5 * (i as f64 / n as f64),
                    name: Some(format!("bench monitor {i}")),
                    mine: None,
                    measures: vec![],
                    // The bench's packets carry mg/m³ (three decimals).
                    hj212: Hj212Profile {
                        unit: ParticulateUnit::MgPerM3,
                        ..Default::default()
                    },
                };
                let added = monitors::add(tx, registry, &m, now)?;
                Ok(Monitor {
                    mn: m.mn,
                    password: m.password,
                    token: added.token,
                })
            })
            .collect::<qingling::error::Result<Vec<_>>>()
    })
    .map_err(|e| qingling::cli::message(&e))
}

fn local(t: i64) -> chrono::DateTime<chrono::FixedOffset> {
    chrono::DateTime::from_timestamp(t, 0)
        .unwrap_or_default()
        .with_timezone(&LOCAL)
}

/// One request on a keep-alive connection; returns the status.
async fn post(
    s: &mut TcpStream,
    buf: &mut Vec<u8>,
    head: &str,
    body: &[u8],
) -> Result<u16, String> {
    let mut req = Vec::with_capacity(head.len() + body.len() + 32);
    req.extend_from_slice(head.as_bytes());
    req.extend_from_slice(format!("Content-Length: {}\r\n\r\n", body.len()).as_bytes());
    req.extend_from_slice(body);
    s.write_all(&req).await.map_err(|e| e.to_string())?;
    buf.clear();
    let mut chunk = [0u8; 4096];
    loop {
        let n = s.read(&mut chunk).await.map_err(|e| e.to_string())?;
        if n == 0 {
            return Err("the server closed the connection".into());
        }
        buf.extend_from_slice(&chunk[..n]);
        let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") else {
            continue;
        };
        let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
        let len: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0);
        if buf.len() >= end + 4 + len {
            let status = head
                .split(' ')
                .nth(1)
                .and_then(|c| c.parse().ok())
                .unwrap_or(0);
            if status != 200 {
                return Err(format!(
                    "HTTP {status}: {}",
                    String::from_utf8_lossy(&buf[end + 4..])
                ));
            }
            return Ok(status);
        }
    }
}

fn reading_json(g: &mut Gen, t: i64) -> String {
    format!(
        "{{\"time\":\"{}\",\"tsp\":{},\"pm10\":{},\"pm25\":{},\"wind_speed\":{},\"wind_dir\":{},\"temperature\":{},\"humidity\":{}}}",
        local(t).to_rfc3339(),
        g.value(50.0, 400.0),
        g.value(20.0, 200.0),
        g.value(10.0, 100.0),
        g.value(0.0, 12.0),
        g.value(0.0, 359.9),
        g.value(-20.0, 35.0),
        g.value(5.0, 90.0)
    )
}

async fn http_phase(
    args: &Args,
    addr: std::net::SocketAddr,
    monitors: &[Monitor],
    now: i64,
) -> Result<(), String> {
    let batch = args
        .batch
        .clamp(1, qingling::http::dust::readings::MAX_BATCH);
    let batches = args.http_readings.div_ceil(batch);
    let n = args.monitors.max(1);
    // Minute data from two years back, each monitor its own run of minutes.
    let base = hour_of(now - 2 * 365 * 86_400) * 3600;
    let mut g = Gen(0x9E37_79B9_7F4A_7C15);
    let mut bodies: Vec<(usize, Vec<u8>)> = Vec::with_capacity(batches);
    let mut next_minute = vec![0i64; n];
    for b in 0..batches {
        let m = b % n;
        let items: Vec<String> = (0..batch)
            .map(|_| {
                let t = base + next_minute[m] * 60;
                next_minute[m] += 1;
                reading_json(&mut g, t)
            })
            .collect();
        bodies.push((
            m,
            format!("{{\"readings\":[{}]}}", items.join(",")).into_bytes(),
        ));
    }
    let bytes: usize = bodies.iter().map(|(_, b)| b.len()).sum();
    let queue = Arc::new(std::sync::Mutex::new(bodies));
    let heads: Arc<Vec<String>> = Arc::new(
        monitors
            .iter()
            .map(|m| {
                format!(
                    "POST /api/dust/readings HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nAuthorization: Bearer {}\r\n",
                    m.token
                )
            })
            .collect(),
    );
    let start = Instant::now();
    let mut tasks = vec![];
    for _ in 0..args.http_clients.max(1) {
        let queue = queue.clone();
        let heads = heads.clone();
        tasks.push(tokio::spawn(async move {
            let mut s = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
            let _ = s.set_nodelay(true);
            let mut buf = vec![];
            loop {
                let next = queue.lock().unwrap_or_else(|p| p.into_inner()).pop();
                let Some((m, body)) = next else {
                    return Ok::<(), String>(());
                };
                post(&mut s, &mut buf, &heads[m], &body).await?;
            }
        }));
    }
    for t in tasks {
        t.await.map_err(|e| e.to_string())??;
    }
    let secs = start.elapsed().as_secs_f64();
    let total = batches * batch;
    out(format!(
        "HTTP batch ingest: {total} readings in {batches} batches of {batch}, one transaction each ({:.0} MB of JSON) over {} keep-alive connections: {secs:.2} s, {:.0} readings/s (target >= 100000)",
        bytes as f64 / 1e6,
        args.http_clients.max(1),
        total as f64 / secs
    ));
    Ok(())
}

fn packet(m: &Monitor, t: i64, g: &mut Gen) -> Vec<u8> {
    let lt = local(t);
    let data = format!(
        "QN={};ST=22;CN=2011;PW={};MN={};Flag=5;CP=&&DataTime={};a34001-Rtd={:.3},a34001-Flag=N;a34002-Rtd={:.3},a34002-Flag=N;a34004-Rtd={:.3},a34004-Flag=N;a01007-Rtd={:.1},a01007-Flag=N;a01008-Rtd={:.0},a01008-Flag=N;a01001-Rtd={:.1},a01001-Flag=N;a01002-Rtd={:.1},a01002-Flag=N&&",
        lt.format("%Y%m%d%H%M%S%3f"),
        m.password,
        m.mn,
        lt.format("%Y%m%d%H%M%S"),
        g.value(50.0, 400.0) / 1000.0,
        g.value(20.0, 200.0) / 1000.0,
        g.value(10.0, 100.0) / 1000.0,
        g.value(0.0, 12.0),
        g.value(0.0, 359.0),
        g.value(-20.0, 35.0),
        g.value(5.0, 90.0),
    );
    hj212::frame(&data).unwrap_or_default()
}

async fn hj212_phase(
    args: &Args,
    addr: std::net::SocketAddr,
    monitors: &[Monitor],
    now: i64,
) -> Result<usize, String> {
    let n = args.monitors.max(1);
    let per = args.hj212_packets.div_ceil(n);
    // Real-time data every 10 s over the last days, each monitor its own stream.
    let base = now - 60 * 86_400;
    let mut g = Gen(0xD1B5_4A32_D192_ED03);
    let streams: Vec<Vec<Vec<u8>>> = monitors[..n]
        .iter()
        .map(|m| {
            (0..per)
                .map(|i| packet(m, base + i as i64 * 10, &mut g))
                .collect()
        })
        .collect();
    let window = args.window.max(1);
    let start = Instant::now();
    let mut tasks = vec![];
    for packets in streams {
        tasks.push(tokio::spawn(async move {
            let s = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
            let _ = s.set_nodelay(true);
            let (mut rd, mut wr) = s.into_split();
            let credit = Arc::new(Semaphore::new(window));
            let total = packets.len();
            let acks = {
                let credit = credit.clone();
                tokio::spawn(async move {
                    let mut f = Framer::new();
                    let mut buf = vec![0u8; 16 * 1024];
                    let mut got = 0;
                    while got < total {
                        let n = rd.read(&mut buf).await.map_err(|e| e.to_string())?;
                        if n == 0 {
                            return Err(format!("closed after {got} of {total} acknowledgements"));
                        }
                        f.push(&buf[..n]);
                        while let Some(e) = f.next_event() {
                            if let Event::Packet(d) = e
                                && d.contains("CN=9014")
                            {
                                got += 1;
                                credit.add_permits(1);
                            }
                        }
                    }
                    Ok::<usize, String>(got)
                })
            };
            let mut out = Vec::with_capacity(64 * 1024);
            let mut i = 0;
            while i < total {
                credit.acquire().await.map_err(|e| e.to_string())?.forget();
                out.extend_from_slice(&packets[i]);
                i += 1;
                while i < total
                    && out.len() < 64 * 1024
                    && let Ok(p) = credit.try_acquire()
                {
                    p.forget();
                    out.extend_from_slice(&packets[i]);
                    i += 1;
                }
                wr.write_all(&out).await.map_err(|e| e.to_string())?;
                out.clear();
            }
            acks.await.map_err(|e| e.to_string())?
        }));
    }
    let mut acked = 0;
    for t in tasks {
        acked += t.await.map_err(|e| e.to_string())??;
    }
    let secs = start.elapsed().as_secs_f64();
    out(format!(
        "HJ 212 ingest: {acked} real-time packets (CN=2011, 7 factors, Flag=5) from {n} monitors, {window} in flight each, every one acknowledged after its commit: {secs:.2} s, {:.0} packets/s (target >= 20000)",
        acked as f64 / secs
    ));
    Ok(acked)
}

fn size_phase(db: &Db) -> Result<(), String> {
    // Sizes on disk are the SQLite file's own business: asked of it directly.
    let tx = qingling::store::connect(db.path()).map_err(|e| e.to_string())?;
    let counts = || -> rusqlite::Result<(i64, i64)> {
        let n = tx.query_row("SELECT count(*) FROM dust_readings", [], |r| r.get(0))?;
        Ok((
            n,
            tx.query_row("SELECT count(*) FROM dust_hours", [], |r| r.get(0))?,
        ))
    };
    {
        let (n, hours) = counts().map_err(|e| e.to_string())?;
        let sizes: rusqlite::Result<(i64, i64)> = tx.query_row(
            "SELECT coalesce(sum(CASE WHEN name = 'dust_readings' THEN pgsize END), 0),
                    coalesce(sum(CASE WHEN name = 'dust_hours' THEN pgsize END), 0)
             FROM dbstat WHERE name IN ('dust_readings', 'dust_hours')",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        );
        match sizes {
            Ok((readings, rollups)) => out(format!(
                "on disk: {n} readings in {:.1} MB = {:.1} bytes/reading; {hours} hourly rollup rows {:.1} MB; together {:.1} bytes/reading",
                readings as f64 / 1e6,
                readings as f64 / n.max(1) as f64,
                rollups as f64 / 1e6,
                (readings + rollups) as f64 / n.max(1) as f64
            )),
            Err(e) => out(format!(
                "on disk: {n} readings; dbstat unavailable in this SQLite ({e})"
            )),
        }
    }
    // The whole file after a checkpoint, for comparison (it holds the monitors and GeoPackage
    // tables too).
    let path = db.path().to_path_buf();
    let conn = qingling::store::connect(&path).map_err(|e| e.to_string())?;
    conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE)")
        .map_err(|e| e.to_string())?;
    let file = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
    out(format!(
        "database file after checkpoint: {:.1} MB",
        file as f64 / 1e6
    ));
    Ok(())
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

async fn rollup_phase(
    db: &Db,
    addr: std::net::SocketAddr,
    session: &str,
    now: i64,
) -> Result<(), String> {
    // A year of minute data for one monitor (the extra one registered last).
    let device = db
        .read_blocking(|tx| monitors::credentials(tx))
        .map_err(|e| e.to_string())?
        .into_iter()
        .max_by_key(|d| d.id)
        .ok_or("no monitor")?;
    let end = qingling::domain::dust::rollup::day_start(now);
    let start_t = end - 365 * 86_400;
    let mut g = Gen(0x2545_F491_4F6C_DD1D);
    let t0 = Instant::now();
    let mut t = start_t;
    while t < end {
        let chunk: Vec<Reading> = (0..20_000)
            .map(|i| t + i * 60)
            .take_while(|&at| at < end)
            .map(|at| {
                let mut r = Reading::new(at, Level::Minute);
                r.set(Quantity::Tsp, Some(g.value(50.0, 400.0)));
                r.set(Quantity::Pm10, Some(g.value(20.0, 200.0)));
                r.set(Quantity::Pm25, Some(g.value(10.0, 100.0)));
                r.set(Quantity::WindSpeed, Some(g.value(0.0, 12.0)));
                r.set(Quantity::WindDir, Some(g.value(0.0, 359.0)));
                r
            })
            .collect();
        t += chunk.len() as i64 * 60;
        db.write_blocking(|tx| readings::insert(tx, device.id, &chunk))
            .map_err(|e| e.to_string())?;
    }
    let minutes = (end - start_t) / 60;
    out(format!(
        "a year of minute data for {}: {minutes} readings stored in {:.1} s",
        device.mn,
        t0.elapsed().as_secs_f64()
    ));
    let mut direct = vec![];
    let mut days = 0;
    for _ in 0..7 {
        let t = Instant::now();
        let d = db
            .read_blocking(|tx| {
                let hours: Vec<_> = tx
                    .dust_readings()
                    .hours(device.id, hour_of(start_t), hour_of(end))?
                    .iter()
                    .map(|(h, s)| (*h, s.mean()))
                    .collect();
                Ok::<_, qingling::store::StoreError>(day_means(&hours))
            })
            .map_err(|e| e.to_string())?;
        direct.push(t.elapsed());
        days = d.iter().filter(|d| d.valid()).count();
    }
    out(format!(
        "rollup, store level: 8760 hourly rows -> {days} valid 24-h means in {:.2} ms (median of 7; target <= 50 ms)",
        median(direct).as_secs_f64() * 1e3
    ));
    for interval in ["day", "hour"] {
        let path = format!(
            "/api/dust/monitors/{}/readings?interval={interval}&from={}&to={}",
            device.mn,
            local(start_t).to_rfc3339().replace('+', "%2B"),
            local(end).to_rfc3339().replace('+', "%2B")
        );
        let mut times = vec![];
        let mut size = 0;
        for _ in 0..7 {
            let t = Instant::now();
            let mut s = TcpStream::connect(addr).await.map_err(|e| e.to_string())?;
            let req = format!(
                "GET {path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {session}\r\nConnection: close\r\n\r\n"
            );
            s.write_all(req.as_bytes())
                .await
                .map_err(|e| e.to_string())?;
            let mut body = vec![];
            s.read_to_end(&mut body).await.map_err(|e| e.to_string())?;
            times.push(t.elapsed());
            if !body.starts_with(b"HTTP/1.1 200") {
                return Err(format!(
                    "GET {path}: {}",
                    String::from_utf8_lossy(&body[..body.len().min(300)])
                ));
            }
            size = body.len();
        }
        out(format!(
            "rollup over HTTP, interval={interval} for the year: {:.2} ms (median of 7, {:.0} kB of JSON)",
            median(times).as_secs_f64() * 1e3,
            size as f64 / 1e3
        ));
    }
    Ok(())
}

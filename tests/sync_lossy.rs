//! Offline sync over a bad network: a client that behaves like the web app's outbox (a client id
//! per report, every request retried until acknowledged, then the photo likewise) sends its queue
//! through a loopback proxy that resets some connections and swallows many responses after the
//! server has acted on the request. The server must end with each report once and each photo once.
//!
//! `QINGLING_SYNC_REPORTS` sets the queue length (default 1,000).
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use common::*;
use geo::{BoundingRect, Contains};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

const SEED: u64 = 0x9_2026;
/// Share of connections reset partway through the request.
const RESET: f64 = 0.05;
/// Share of requests delivered to the server whose response is then dropped.
const DROP_RESPONSE: f64 = 0.30;
const CLIENTS: usize = 4;

#[derive(Default)]
struct ProxyStats {
    connections: AtomicU64,
    resets: AtomicU64,
    dropped_responses: AtomicU64,
}

/// What the proxy does with one connection (one request: the client sends `Connection: close`).
enum Fate {
    Pass,
    Reset,
    DropResponse,
}

/// Forwards bytes between a client and the server, spoiling some connections as it goes.
async fn proxy(listener: TcpListener, server: SocketAddr, stats: Arc<ProxyStats>) {
    loop {
        let Ok((client, _)) = listener.accept().await else {
            return;
        };
        let n = stats.connections.fetch_add(1, Ordering::SeqCst);
        // One seeded generator per connection: the same run of fates on every run.
        let roll: f64 =
            StdRng::seed_from_u64(SEED ^ n.wrapping_mul(0x9E37_79B9_7F4A_7C15)).random();
        let fate = if roll < RESET {
            Fate::Reset
        } else if roll < RESET + DROP_RESPONSE {
            Fate::DropResponse
        } else {
            Fate::Pass
        };
        let stats = stats.clone();
        tokio::spawn(async move {
            let Ok(upstream) = TcpStream::connect(server).await else {
                return;
            };
            match fate {
                Fate::Pass => {
                    let (mut c, mut u) = (client, upstream);
                    let _ = tokio::io::copy_bidirectional(&mut c, &mut u).await;
                }
                Fate::Reset => {
                    // Part of the request gets through, then both sides see a reset.
                    let _ = client.set_zero_linger();
                    let _ = upstream.set_zero_linger();
                    let (mut c, mut u) = (client, upstream);
                    let mut buf = vec![0u8; 256];
                    if let Ok(k) = c.read(&mut buf).await {
                        let _ = u.write_all(&buf[..k / 2]).await;
                    }
                    stats.resets.fetch_add(1, Ordering::SeqCst);
                }
                Fate::DropResponse => {
                    // The whole request reaches the server; when its answer starts to arrive the
                    // client's connection is reset instead.
                    let _ = client.set_zero_linger();
                    let (mut cr, cw) = client.into_split();
                    let (mut ur, mut uw) = upstream.into_split();
                    let forward = tokio::spawn(async move {
                        let _ = tokio::io::copy(&mut cr, &mut uw).await;
                        let _ = uw.shutdown().await;
                        cr
                    });
                    let mut buf = [0u8; 1];
                    let _ = ur.read(&mut buf).await;
                    forward.abort();
                    drop(cw);
                    stats.dropped_responses.fetch_add(1, Ordering::SeqCst);
                }
            }
        });
    }
}

/// Points spread over the districts, each inside one.
fn positions(count: usize) -> Vec<[f64; 2]> {
    let fc: geojson::FeatureCollection =
        serde_json::from_value(sample_collection("districts")).unwrap();
    let areas: Vec<geo::MultiPolygon<f64>> = fc
        .features
        .iter()
        .map(|f| {
            let g = geo::Geometry::<f64>::try_from(&f.geometry.as_ref().unwrap().value).unwrap();
            geo::MultiPolygon::try_from(g).unwrap()
        })
        .collect();
    let mut rng = StdRng::seed_from_u64(SEED);
    (0..count)
        .map(|i| {
            let area = &areas[i % areas.len()];
            let b = area.bounding_rect().unwrap();
            loop {
                let p = geo::Point::new(
                    rng.random_range(b.min().x..b.max().x),
                    rng.random_range(b.min().y..b.max().y),
                );
                if area.contains(&p) {
                    return [p.x(), p.y()];
                }
            }
        })
        .collect()
}

/// A small JPEG unlike any other `n`.
fn jpeg(n: usize) -> Vec<u8> {
    let img = image::RgbImage::from_fn(16, 12, |x, y| {
        image::Rgb([(n % 256) as u8, (n / 256) as u8, (x * 16 + y) as u8])
    });
    encode(&img, image::ImageFormat::Jpeg)
}

fn hex(b: &[u8]) -> String {
    Sha256::digest(b)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

struct Queued {
    id: String,
    feature: Vec<u8>,
    photo: Vec<u8>,
}

#[derive(Default)]
struct ClientStats {
    attempts: AtomicU64,
    failures: AtomicU64,
}

/// Sends one request until the server acknowledges it (200 or 201), as the outbox does.
fn until_acknowledged(
    agent: &ureq::Agent,
    url: &str,
    token: &str,
    content_type: &str,
    body: &[u8],
    stats: &ClientStats,
) -> Value {
    for _ in 0..50 {
        stats.attempts.fetch_add(1, Ordering::Relaxed);
        let sent = agent
            .post(url)
            .header("Authorization", format!("Bearer {token}"))
            .header("Content-Type", content_type)
            .header("Connection", "close")
            .send(body);
        // An error (reset, closed before the answer, timed out): the outbox tries again.
        if let Ok(mut r) = sent {
            let status = r.status().as_u16();
            let text = r.body_mut().read_to_string();
            match (status, text) {
                (200 | 201, Ok(text)) => return serde_json::from_str(&text).unwrap(),
                // A body cut short by a reset: not acknowledged.
                (200 | 201, Err(_)) => {}
                (s, text) => panic!("{url}: {s} {text:?}"),
            }
        }
        stats.failures.fetch_add(1, Ordering::Relaxed);
    }
    panic!("{url}: never acknowledged");
}

#[test]
fn a_queue_sent_through_a_lossy_network_arrives_exactly_once_with_every_photo() {
    let count: usize = std::env::var("QINGLING_SYNC_REPORTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let s = demo_server();
    let token = Client::login(&s, "patrol").token.unwrap();
    let demo_fires = count_fires(&s.db);

    let rt = runtime(1);
    let listener = bind(&rt, "127.0.0.1:0");
    let via = listener.local_addr().unwrap();
    let proxy_stats = Arc::new(ProxyStats::default());
    rt.spawn(proxy(listener, s.addr, proxy_stats.clone()));

    let queue: Vec<Queued> = positions(count)
        .into_iter()
        .enumerate()
        .map(|(n, at)| {
            let id = uuid::Uuid::new_v4().to_string();
            let props = json!({"kind": "coal_seam", "id": id, "temp_c": 60 + (n % 300)});
            Queued {
                feature: fire_feature(at, props).to_string().into_bytes(),
                photo: jpeg(n),
                id,
            }
        })
        .collect();
    let queue = Arc::new(queue);
    let stats = Arc::new(ClientStats::default());
    let started = Instant::now();
    let acked_photos: Vec<BTreeMap<String, i64>> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..CLIENTS)
            .map(|w| {
                let (queue, stats, token) = (queue.clone(), stats.clone(), token.clone());
                scope.spawn(move || {
                    let agent: ureq::Agent = ureq::Agent::config_builder()
                        .http_status_as_error(false)
                        .timeout_global(Some(Duration::from_secs(30)))
                        .max_idle_connections(0)
                        .build()
                        .into();
                    let mut photos = BTreeMap::new();
                    for q in queue.iter().skip(w).step_by(CLIENTS) {
                        let fire = until_acknowledged(
                            &agent,
                            &format!("http://{via}/api/fires"),
                            &token,
                            "application/json",
                            &q.feature,
                            &stats,
                        );
                        assert_eq!(fire["properties"]["id"], q.id.as_str());
                        let (ctype, body) = multipart_as(&q.photo, "p.jpg", "image/jpeg");
                        let r = until_acknowledged(
                            &agent,
                            &format!("http://{via}/api/fires/{}/photos", q.id),
                            &token,
                            &ctype,
                            &body,
                            &stats,
                        );
                        photos.insert(q.id.clone(), r["photos"][0]["id"].as_i64().unwrap());
                    }
                    photos
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).collect()
    });
    let wall = started.elapsed();
    let acked: BTreeMap<String, i64> = acked_photos.into_iter().flatten().collect();
    eprintln!(
        "sync_lossy: {count} reports with photos in {:.1} s; {} requests, {} not acknowledged and retried; proxy: {} connections, {} reset, {} responses dropped",
        wall.as_secs_f64(),
        stats.attempts.load(Ordering::SeqCst),
        stats.failures.load(Ordering::SeqCst),
        proxy_stats.connections.load(Ordering::SeqCst),
        proxy_stats.resets.load(Ordering::SeqCst),
        proxy_stats.dropped_responses.load(Ordering::SeqCst),
    );
    assert!(proxy_stats.resets.load(Ordering::SeqCst) > 0);
    assert!(proxy_stats.dropped_responses.load(Ordering::SeqCst) > 0);

    // Exactly the queued reports, once each, each with exactly its one photo.
    assert_eq!(count_fires(&s.db), demo_fires + count as i64);
    let conn = rusqlite::Connection::open(&s.db).unwrap();
    let ids: BTreeSet<String> = queue.iter().map(|q| q.id.clone()).collect();
    let stored: BTreeSet<String> = column(&conn, "SELECT uuid FROM fire_points")
        .into_iter()
        .collect();
    assert!(ids.is_subset(&stored));
    let mut photos: BTreeMap<String, Vec<(i64, String)>> = BTreeMap::new();
    for (fire, id, sha) in rows::<(String, i64, String)>(
        &conn,
        "SELECT fire, id, sha256 FROM photos WHERE subject = 'fire'",
    ) {
        photos.entry(fire).or_default().push((id, sha));
    }
    let dir = qingling::store::photos::dir(&s.db);
    for q in queue.iter() {
        let got = &photos[&q.id];
        assert_eq!(got.len(), 1, "{}: {got:?}", q.id);
        let (id, sha) = &got[0];
        assert_eq!(*sha, hex(&q.photo));
        // Every acknowledgement named the same record, however often the photo was sent.
        assert_eq!(acked[&q.id], *id);
        let stored = std::fs::read(dir.join(format!("{sha}.orig"))).unwrap();
        assert_eq!(hex(&stored), *sha);
    }
}

//! The HJ 212-2017 TCP listener (`qingling serve --hj212 HOST:PORT`): one task per connection,
//! packets cut from the byte stream whatever the read boundaries, checked (CRC, MN, PW), stored
//! through the group-commit writer, and acknowledged after the commit when Flag asks for it.
//!
//! Nothing a device sends can stop the listener or touch another connection: bad CRCs, unknown
//! MNs, wrong PWs and garbage are counted in [`Stats`], logged at most once a minute per kind,
//! and answered with nothing. Wrong PWs lock the address and the MN for a while ([`guard`]); no
//! address can hold more than its share of connections, and one that has not authenticated soon
//! after connecting is closed.
//!
//! [`guard`]: super::guard

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use serde::Serialize;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::net::tcp::OwnedWriteHalf;
use tokio::sync::mpsc;

use super::codec::{self as hj212, Command, Event, Framer, Packet, Reassembler};
use super::gaps::Track;
use super::guard::{Connections, Guard, Lockout, LogLimit, Noise, Source};
use crate::domain::dust::device::Protocol;
use crate::domain::dust::reading::{Level, time_ok};
use crate::service::dust::ingest::{Ingestor, Receipt};
use crate::service::dust::monitors;
use crate::service::dust::readings as dust_readings;
use crate::store::Db;
use crate::store::dust::DeviceId;
use crate::store::dust::devices::DeviceAuth;

/// Device credentials are re-read this often (a monitor added by the CLI in another process).
const RELOAD_EVERY: Duration = Duration::from_secs(30);

/// An unknown MN re-reads credentials at most this often (a flood of unknown MNs cannot turn
/// into a flood of queries).
const RELOAD_ON_MISS: Duration = Duration::from_secs(1);

/// How long an acknowledgement may wait for the device to read it.
const WRITE_TIMEOUT: Duration = Duration::from_secs(60);

/// Acknowledgements waiting for their commit, per connection.
const ACK_QUEUE: usize = 1024;

/// Connections served at once; more are closed on arrival (and counted), so a flood of
/// connections cannot exhaust file descriptors the HTTP server needs too. A city has dozens of
/// monitors, a province thousands.
pub const MAX_CONNECTIONS: usize = 4096;

/// How the listener defends itself; [`Config::default`] is what `serve` uses unless told.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Connections served at once ([`MAX_CONNECTIONS`]).
    pub max_connections: usize,
    /// Connections served at once from one address (IPv4, or IPv6 /64): 16, so that one client
    /// cannot fill `max_connections`, while a site with a few monitors behind one NAT fits.
    pub per_address: usize,
    /// A connection that has not sent an authenticated packet this long after connecting is
    /// closed: 60 s (monitors send their first data on connecting, and real-time data every
    /// minute or so).
    pub auth_timeout: Duration,
    /// An authenticated connection silent this long is closed: 15 minutes (devices send data or
    /// heartbeats every few minutes).
    pub idle: Duration,
    pub lockout: Lockout,
    /// Each kind of warning a sender can cause is logged at most once this often: 60 s.
    pub log_every: Duration,
    /// The parts of a split packet wait this long for the rest: 30 s (a device sends the parts
    /// back to back; one lost on the link is not coming).
    pub split_timeout: Duration,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            max_connections: MAX_CONNECTIONS,
            per_address: 16,
            auth_timeout: Duration::from_secs(60),
            idle: Duration::from_secs(15 * 60),
            lockout: Lockout::default(),
            log_every: Duration::from_secs(60),
            split_timeout: Duration::from_secs(30),
        }
    }
}

/// Counters since the listener started.
#[derive(Debug, Default)]
pub struct Stats {
    pub connections: AtomicU64,
    pub packets: AtomicU64,
    pub readings_stored: AtomicU64,
    pub duplicates: AtomicU64,
    pub acks: AtomicU64,
    pub garbage_bytes: AtomicU64,
    pub bad_crc: AtomicU64,
    pub bad_packets: AtomicU64,
    pub unknown_mn: AtomicU64,
    pub wrong_pw: AtomicU64,
    pub ignored: AtomicU64,
    pub notices: AtomicU64,
    pub clock_sets: AtomicU64,
    pub device_replies: AtomicU64,
    pub history_requests: AtomicU64,
    pub other_system: AtomicU64,
    pub other_version: AtomicU64,
    pub dropped_values: AtomicU64,
    pub suspect_values: AtomicU64,
    pub other_factors: AtomicU64,
    pub store_errors: AtomicU64,
    pub refused_connections: AtomicU64,
    pub refused_per_address: AtomicU64,
    pub locked: AtomicU64,
    pub unauthenticated_closed: AtomicU64,
    pub log_suppressed: AtomicU64,
}

/// The counters at one moment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Snapshot {
    pub connections: u64,
    /// Data packets accepted (CRC, MN and PW right).
    pub packets: u64,
    pub readings_stored: u64,
    pub duplicates: u64,
    pub acks: u64,
    pub garbage_bytes: u64,
    pub bad_crc: u64,
    /// Packets that framed but whose content is unusable (no CP, no DataTime, bad time…).
    pub bad_packets: u64,
    pub unknown_mn: u64,
    pub wrong_pw: u64,
    /// Well-formed packets of commands this server does not take.
    pub ignored: u64,
    /// Heartbeats (9015) and hardware serial numbers (1001) taken, answered 9013 when asked.
    pub notices: u64,
    /// Time calibration requests (1013) answered by setting the device's clock (1012).
    pub clock_sets: u64,
    /// Request replies (9011) and execution results (9012) from devices.
    pub device_replies: u64,
    /// Requests for a gap's data (2051/2061 with BeginTime/EndTime) sent to devices.
    pub history_requests: u64,
    /// Data packets from a registered monitor with another system code (ST) than it is set up
    /// with (or, where none is set, none of 22, 31, 39): not stored, not acknowledged.
    pub other_system: u64,
    /// Data packets whose Flag names another HJ 212 edition than the monitor's record (stored).
    pub other_version: u64,
    /// Values left out of readings: not a number.
    pub dropped_values: u64,
    /// Values stored but marked implausible for their quantity and the monitor's unit.
    pub suspect_values: u64,
    /// Values of factors this system does not keep (noise, SO₂, NO₂, CO, pressure…).
    pub other_factors: u64,
    pub store_errors: u64,
    /// Connections closed on arrival because [`MAX_CONNECTIONS`] were open.
    pub refused_connections: u64,
    /// Connections closed on arrival because their address had [`Config::per_address`] open.
    pub refused_per_address: u64,
    /// Data packets refused unchecked because their address or MN was locked out (their PW may
    /// have been right: during a lock nothing tells).
    pub locked: u64,
    /// Connections closed because they sent no authenticated packet within
    /// [`Config::auth_timeout`].
    pub unauthenticated_closed: u64,
    /// Warnings left out of the log by the once-per-interval limit.
    pub log_suppressed: u64,
}

fn bump(c: &AtomicU64, n: u64) {
    c.fetch_add(n, Ordering::Relaxed);
}

impl Stats {
    pub fn snapshot(&self) -> Snapshot {
        let g = |c: &AtomicU64| c.load(Ordering::Relaxed);
        Snapshot {
            connections: g(&self.connections),
            packets: g(&self.packets),
            readings_stored: g(&self.readings_stored),
            duplicates: g(&self.duplicates),
            acks: g(&self.acks),
            garbage_bytes: g(&self.garbage_bytes),
            bad_crc: g(&self.bad_crc),
            bad_packets: g(&self.bad_packets),
            unknown_mn: g(&self.unknown_mn),
            wrong_pw: g(&self.wrong_pw),
            ignored: g(&self.ignored),
            notices: g(&self.notices),
            clock_sets: g(&self.clock_sets),
            device_replies: g(&self.device_replies),
            history_requests: g(&self.history_requests),
            other_system: g(&self.other_system),
            other_version: g(&self.other_version),
            dropped_values: g(&self.dropped_values),
            suspect_values: g(&self.suspect_values),
            other_factors: g(&self.other_factors),
            store_errors: g(&self.store_errors),
            refused_connections: g(&self.refused_connections),
            refused_per_address: g(&self.refused_per_address),
            locked: g(&self.locked),
            unauthenticated_closed: g(&self.unauthenticated_closed),
            log_suppressed: g(&self.log_suppressed),
        }
    }
}

/// Device credentials by MN, in memory: checking a packet must not cost a query.
struct Devices {
    db: Db,
    by_mn: RwLock<Arc<HashMap<String, DeviceAuth>>>,
    /// When the last reload finished.
    loaded: Mutex<Option<Instant>>,
    /// One reload at a time; packets arriving meanwhile wait for it rather than miss.
    reloading: tokio::sync::Mutex<()>,
}

impl Devices {
    fn new(db: Db) -> Devices {
        Devices {
            db,
            by_mn: RwLock::new(Arc::new(HashMap::new())),
            loaded: Mutex::new(None),
            reloading: tokio::sync::Mutex::new(()),
        }
    }

    fn age(&self) -> Option<Duration> {
        self.loaded
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .map(|t| t.elapsed())
    }

    async fn reload(&self) {
        match self.db.read(|tx| monitors::credentials(tx)).await {
            Ok(all) => {
                let map = all.into_iter().map(|d| (d.mn.clone(), d)).collect();
                *self.by_mn.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(map);
            }
            Err(e) => tracing::error!(error = %e, "reading dust device credentials failed"),
        }
        // Also after a failure: retry at the same pace, not on every packet.
        *self.loaded.lock().unwrap_or_else(|p| p.into_inner()) = Some(Instant::now());
    }

    fn get(&self, mn: &str) -> Option<DeviceAuth> {
        self.by_mn
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .get(mn)
            .cloned()
    }

    async fn lookup(&self, mn: &str) -> Option<DeviceAuth> {
        if self.age().is_some_and(|a| a < RELOAD_EVERY)
            && let Some(d) = self.get(mn)
        {
            return Some(d);
        }
        let _one = self.reloading.lock().await;
        // Another packet may have reloaded while this one waited.
        let due = match self.age() {
            None => true,
            Some(a) => a >= RELOAD_EVERY || (a >= RELOAD_ON_MISS && self.get(mn).is_none()),
        };
        if due {
            self.reload().await;
        }
        self.get(mn)
    }
}

struct Ctx {
    devices: Devices,
    ingest: Ingestor,
    stats: Arc<Stats>,
    slots: Arc<tokio::sync::Semaphore>,
    per_address: Arc<Connections>,
    guard: Guard,
    log: LogLimit,
    auth_timeout: Duration,
    idle: Duration,
    split_timeout: Duration,
    db: Db,
}

impl Ctx {
    /// `Some(left out since the last one)` when a warning of `kind` may be logged now.
    fn noisy(&self, kind: Noise) -> Option<u64> {
        let r = self.log.allow(kind, Instant::now());
        if r.is_none() {
            bump(&self.stats.log_suppressed, 1);
        }
        r
    }
}

/// A running listener.
pub struct Hj212 {
    pub addr: SocketAddr,
    pub stats: Arc<Stats>,
    /// The group-commit writer its readings go through.
    pub ingest: Ingestor,
}

/// Binds `addr` and serves HJ 212 on it in the background (on the current tokio runtime).
pub async fn start(addr: SocketAddr, db: Db) -> std::io::Result<Hj212> {
    start_with(addr, db, Config::default()).await
}

/// [`start`] with another cap on connections served at once.
pub async fn start_with_cap(addr: SocketAddr, db: Db, cap: usize) -> std::io::Result<Hj212> {
    let config = Config {
        max_connections: cap,
        ..Config::default()
    };
    start_with(addr, db, config).await
}

/// [`start`] with other limits.
pub async fn start_with(addr: SocketAddr, db: Db, config: Config) -> std::io::Result<Hj212> {
    let listener = TcpListener::bind(addr).await?;
    let ingest = Ingestor::start(db.clone())?;
    start_on(listener, db, ingest, config)
}

/// Serves HJ 212 on a bound listener in the background, storing through `ingest`.
pub fn start_on(
    listener: TcpListener,
    db: Db,
    ingest: Ingestor,
    config: Config,
) -> std::io::Result<Hj212> {
    let addr = listener.local_addr()?;
    let stats = Arc::new(Stats::default());
    let ctx = Arc::new(Ctx {
        devices: Devices::new(db.clone()),
        db,
        ingest: ingest.clone(),
        stats: stats.clone(),
        slots: Arc::new(tokio::sync::Semaphore::new(config.max_connections)),
        per_address: Connections::new(config.per_address),
        guard: Guard::new(config.lockout),
        log: LogLimit::new(config.log_every),
        auth_timeout: config.auth_timeout,
        idle: config.idle,
        split_timeout: config.split_timeout,
    });
    tokio::spawn(accept(listener, ctx));
    tokio::spawn(report(stats.clone()));
    tracing::info!("HJ 212 listening on {addr}");
    Ok(Hj212 {
        addr,
        stats,
        ingest,
    })
}

async fn accept(listener: TcpListener, ctx: Arc<Ctx>) {
    loop {
        match listener.accept().await {
            Ok((stream, peer)) => {
                // The address's share first: a flood from one client must not use up the slots.
                let Some(place) = ctx.per_address.open(Source::of(peer.ip())) else {
                    bump(&ctx.stats.refused_per_address, 1);
                    if let Some(left_out) = ctx.noisy(Noise::RefusedAddress) {
                        tracing::warn!(%peer, left_out, "HJ 212 connection refused: too many open from its address");
                    }
                    drop(stream);
                    continue;
                };
                let Ok(slot) = ctx.slots.clone().try_acquire_owned() else {
                    bump(&ctx.stats.refused_connections, 1);
                    if let Some(left_out) = ctx.noisy(Noise::Refused) {
                        tracing::warn!(%peer, left_out, "HJ 212 connection refused: too many open");
                    }
                    drop(stream);
                    continue;
                };
                bump(&ctx.stats.connections, 1);
                // Acknowledgements are small and awaited by the device: send them at once.
                let _ = stream.set_nodelay(true);
                let ctx = ctx.clone();
                tokio::spawn(async move {
                    connection(stream, peer, ctx).await;
                    drop(slot);
                    drop(place);
                });
            }
            Err(e) => {
                // Out of file descriptors and the like: wait and go on accepting.
                tracing::warn!(error = %e, "HJ 212 accept failed");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
}

/// Logs the counters every ten minutes when they changed.
async fn report(stats: Arc<Stats>) {
    let mut last = Snapshot::default();
    let mut tick = tokio::time::interval(Duration::from_secs(600));
    loop {
        tick.tick().await;
        let now = stats.snapshot();
        if now != last {
            tracing::info!(stats = ?now, "HJ 212 listener");
            last = now;
        }
    }
}

/// An acknowledgement to send once its packet's readings are committed.
struct Pending {
    receipt: Option<Receipt>,
    /// Sent once the readings are committed (not at all if storing failed).
    ack: Option<Vec<u8>>,
    /// Sent after it either way: a request to the device.
    then: Option<Vec<u8>>,
}

impl Pending {
    /// Bytes to send in turn, with nothing to wait for.
    fn send(bytes: Option<Vec<u8>>) -> Pending {
        Pending {
            receipt: None,
            ack: bytes,
            then: None,
        }
    }
}

async fn connection(stream: tokio::net::TcpStream, peer: SocketAddr, ctx: Arc<Ctx>) {
    let (mut rd, wr) = stream.into_split();
    let (acks, pending) = mpsc::channel(ACK_QUEUE);
    let writer = tokio::spawn(write_acks(wr, pending, ctx.stats.clone()));
    let mut framer = Framer::new();
    let mut session = Session {
        parts: Reassembler::new(16, ctx.split_timeout),
        authenticated: false,
        gaps: HashMap::new(),
    };
    let mut buf = vec![0u8; 16 * 1024];
    let mut warned_garbage = false;
    // Until its first authenticated packet a connection has `auth_timeout`, not `idle`: an
    // unauthenticated one only holds a place a monitor may need.
    let auth_by = Instant::now() + ctx.auth_timeout;
    loop {
        let wait = if session.authenticated {
            ctx.idle
        } else {
            auth_by
                .saturating_duration_since(Instant::now())
                .min(ctx.idle)
        };
        let n = match tokio::time::timeout(wait, rd.read(&mut buf)).await {
            Ok(Ok(0)) => break,
            Ok(Ok(n)) => n,
            Ok(Err(e)) => {
                tracing::debug!(%peer, error = %e, "HJ 212 connection failed");
                break;
            }
            Err(_) if !session.authenticated && Instant::now() >= auth_by => {
                bump(&ctx.stats.unauthenticated_closed, 1);
                tracing::debug!(%peer, "HJ 212 connection without an authenticated packet, closed");
                break;
            }
            Err(_) => {
                tracing::debug!(%peer, "HJ 212 connection idle, closed");
                break;
            }
        };
        framer.push(&buf[..n]);
        while let Some(event) = framer.next_event() {
            match event {
                Event::Packet(data) => {
                    if let Some(p) = packet(&ctx, peer, &data, &mut session).await
                        && acks.send(p).await.is_err()
                    {
                        return;
                    }
                }
                Event::Garbage { bytes, why } => {
                    bump(&ctx.stats.garbage_bytes, bytes as u64);
                    if why == hj212::Garbage::BadCrc {
                        bump(&ctx.stats.bad_crc, 1);
                        if let Some(left_out) = ctx.noisy(Noise::BadCrc) {
                            tracing::warn!(%peer, left_out, "HJ 212 packet refused: {}", why.as_str());
                        }
                    } else if !warned_garbage {
                        // Once per connection, and once per interval over all of them.
                        warned_garbage = true;
                        if let Some(left_out) = ctx.noisy(Noise::Garbage) {
                            tracing::warn!(%peer, bytes, left_out, "HJ 212 garbage skipped: {}", why.as_str());
                        }
                    }
                }
            }
        }
    }
    drop(acks);
    let _ = writer.await;
}

/// What a connection remembers between packets.
struct Session {
    /// Split packets waiting for their other parts.
    parts: Reassembler,
    /// Whether a packet with a right MN and PW has come (the auth timeout stops).
    authenticated: bool,
    /// Each device's minute and hourly data seen, for the gap check.
    gaps: HashMap<(DeviceId, Level), Track>,
}

/// The device a packet's MN and PW name, or `None` (counted and logged) for a locked-out
/// sender, an unknown MN or a wrong PW.
async fn authenticate(ctx: &Ctx, peer: SocketAddr, p: &Packet) -> Option<DeviceAuth> {
    let stats = &ctx.stats;
    let src = Source::of(peer.ip());
    // Before anything about the MN or PW is looked at: during a lock a right PW is refused like
    // a wrong one, so the lack of an answer tells a guesser nothing.
    if !ctx.guard.may_try(src, &p.mn, Instant::now()) {
        bump(&stats.locked, 1);
        if let Some(left_out) = ctx.noisy(Noise::Locked) {
            tracing::warn!(%peer, mn = %p.mn, left_out, "HJ 212 packet refused unchecked: too many wrong PWs from its address or for its MN");
        }
        return None;
    }
    let Some(device) = ctx.devices.lookup(&p.mn).await else {
        bump(&stats.unknown_mn, 1);
        ctx.guard.failure(src, None, Instant::now());
        if let Some(left_out) = ctx.noisy(Noise::UnknownMn) {
            tracing::warn!(%peer, mn = %p.mn, left_out, "HJ 212 packet from an unregistered MN (qingling monitor add registers one)");
        }
        return None;
    };
    if !device.password_ok(&p.pw) {
        bump(&stats.wrong_pw, 1);
        ctx.guard.failure(src, Some(&p.mn), Instant::now());
        if let Some(left_out) = ctx.noisy(Noise::WrongPw) {
            tracing::warn!(%peer, mn = %p.mn, left_out, "HJ 212 packet with the wrong PW for its MN");
        }
        return None;
    }
    ctx.guard.success(src, &p.mn, Instant::now());
    Some(device)
}

/// The request for the data missing before this minute or hourly packet, if any: the first
/// packet of a kind on a connection looks up where the device's stored data stopped.
async fn gap_request(
    ctx: &Ctx,
    gaps: &mut HashMap<(DeviceId, Level), Track>,
    device: DeviceId,
    p: &Packet,
    level: Level,
    t: i64,
) -> Option<Vec<u8>> {
    if !matches!(level, Level::Minute | Level::Hour) {
        return None;
    }
    let track = match gaps.entry((device, level)) {
        std::collections::hash_map::Entry::Occupied(e) => e.into_mut(),
        std::collections::hash_map::Entry::Vacant(e) => {
            let newest = ctx
                .db
                .read(move |tx| dust_readings::last_two(tx, device, level, t))
                .await
                .unwrap_or_default();
            e.insert(Track::from_stored(level, &newest))
        }
    };
    let (begin, end) = track.next(level, t)?;
    bump(&ctx.stats.history_requests, 1);
    tracing::info!(mn = %p.mn, cn = %p.cn, begin, end, "HJ 212 gap: asking the device for its stored data");
    hj212::history(p, &hj212::new_qn(chrono::Utc::now()), &p.cn, begin, end)
}

/// Checks and queues one packet; returns what to send back, after the commit of its readings
/// when it carries any.
async fn packet(ctx: &Ctx, peer: SocketAddr, data: &str, session: &mut Session) -> Option<Pending> {
    let stats = &ctx.stats;
    let p = match hj212::parse(data) {
        Ok(p) => p,
        Err(e) => {
            bump(&stats.bad_packets, 1);
            if let Some(left_out) = ctx.noisy(Noise::BadPacket) {
                tracing::warn!(%peer, error = %e, left_out, "HJ 212 packet refused");
            }
            return None;
        }
    };
    let command = p.command();
    if command == Command::Other {
        bump(&stats.ignored, 1);
        tracing::debug!(%peer, st = %p.st, cn = %p.cn, mn = %p.mn, "HJ 212 packet of another command ignored");
        return None;
    }
    let device = authenticate(ctx, peer, &p).await?;
    session.authenticated = true;
    let level = match command {
        Command::Data(level) => level,
        Command::Heartbeat | Command::HardwareSn => {
            bump(&stats.notices, 1);
            if command == Command::HardwareSn {
                tracing::info!(%peer, mn = %p.mn, serial = %p.cp, "HJ 212 data logger hardware serial numbers");
            }
            let reply = p.wants_ack().then(|| hj212::notice_reply(&p)).flatten();
            return Some(Pending::send(reply));
        }
        Command::TimeRequest => {
            bump(&stats.clock_sets, 1);
            let now = chrono::Utc::now();
            let mut out = p
                .wants_ack()
                .then(|| hj212::notice_reply(&p))
                .flatten()
                .unwrap_or_default();
            out.extend(
                hj212::set_time(&p, &hj212::new_qn(now), now.timestamp()).unwrap_or_default(),
            );
            return Some(Pending::send(Some(out)));
        }
        Command::DeviceReply => {
            bump(&stats.device_replies, 1);
            tracing::debug!(%peer, mn = %p.mn, cn = %p.cn, cp = %p.cp, "HJ 212 device reply");
            return None;
        }
        Command::Other => return None,
    };
    if !device.hj212.accepts_st(&p.st) {
        bump(&stats.other_system, 1);
        if let Some(left_out) = ctx.noisy(Noise::OtherSystem) {
            let registered = device.hj212.st.as_deref().unwrap_or("22, 31 or 39");
            tracing::warn!(%peer, st = %p.st, mn = %p.mn, registered, left_out, "HJ 212 data packet with another system code (ST) than the monitor's: not stored (qingling monitor add --st sets it)");
        }
        return None;
    }
    if device
        .hj212
        .protocol
        .is_some_and(|own| Protocol::of_flag(p.flag) != Some(own))
    {
        bump(&stats.other_version, 1);
    }
    let parts = &mut session.parts;
    // Parts of a split packet are acknowledged together, once the whole is committed.
    let p = if p.is_split() {
        let (whole, given_up) = parts.add(p, Instant::now());
        if given_up > 0 {
            bump(&stats.bad_packets, given_up as u64);
            if let Some(left_out) = ctx.noisy(Noise::BadPacket) {
                tracing::warn!(%peer, given_up, left_out, "HJ 212 split packets never completed");
            }
        }
        whole?
    } else {
        p
    };
    let upload = match hj212::upload(&p, device.hj212.unit) {
        Ok(u) => u,
        Err(e) => {
            bump(&stats.bad_packets, 1);
            if let Some(left_out) = ctx.noisy(Noise::BadPacket) {
                tracing::warn!(%peer, mn = %p.mn, error = %e, left_out, "HJ 212 data packet refused");
            }
            return None;
        }
    };
    if !time_ok(upload.reading.at, chrono::Utc::now().timestamp()) {
        bump(&stats.bad_packets, 1);
        if let Some(left_out) = ctx.noisy(Noise::BadTime) {
            tracing::warn!(%peer, mn = %p.mn, at = upload.reading.at, left_out, "HJ 212 DataTime implausible (device clock?); not stored, not acknowledged");
        }
        return None;
    }
    bump(&stats.other_factors, upload.other_factors as u64);
    bump(&stats.suspect_values, u64::from(upload.reading.suspects()));
    if !upload.dropped.is_empty() {
        bump(&stats.dropped_values, upload.dropped.len() as u64);
        tracing::debug!(%peer, mn = %p.mn, dropped = ?upload.dropped, "HJ 212 values left out");
    }
    bump(&stats.packets, 1);
    let ack = if p.wants_ack() { hj212::ack(&p) } else { None };
    let at = upload.reading.at;
    let then = gap_request(ctx, &mut session.gaps, device.id, &p, level, at).await;
    if upload.reading.is_empty() {
        return Some(Pending {
            receipt: None,
            ack,
            then,
        });
    }
    match ctx.ingest.submit(device.id, vec![upload.reading]).await {
        Some(receipt) => Some(Pending {
            receipt: Some(receipt),
            ack,
            then,
        }),
        None => {
            bump(&stats.store_errors, 1);
            tracing::error!("the dust writer has stopped; HJ 212 readings cannot be stored");
            None
        }
    }
}

/// Sends acknowledgements in packet order, each after its commit; acknowledgements ready
/// together go out in one write.
async fn write_acks(
    mut wr: OwnedWriteHalf,
    mut pending: mpsc::Receiver<Pending>,
    stats: Arc<Stats>,
) {
    let mut out = Vec::new();
    while let Some(p) = pending.recv().await {
        let stored = match p.receipt {
            None => true,
            Some(r) => match r.await {
                Ok(Ok(ins)) => {
                    bump(&stats.readings_stored, ins.stored as u64);
                    bump(&stats.duplicates, ins.duplicates as u64);
                    true
                }
                // Not acknowledged: the device keeps the data and sends it again.
                _ => {
                    bump(&stats.store_errors, 1);
                    false
                }
            },
        };
        if stored && let Some(a) = p.ack {
            out.extend_from_slice(&a);
            bump(&stats.acks, 1);
        }
        if let Some(request) = p.then {
            out.extend_from_slice(&request);
        }
        if !out.is_empty() && pending.is_empty() {
            // A device that stops reading must not hold the connection forever: dropping the
            // queue makes the reader stop too.
            match tokio::time::timeout(WRITE_TIMEOUT, wr.write_all(&out)).await {
                Ok(Ok(())) => out.clear(),
                _ => return,
            }
        }
    }
    if !out.is_empty() {
        let _ = wr.write_all(&out).await;
    }
}

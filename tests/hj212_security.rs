//! The HJ 212 listener under attack, over loopback: password guessing (lockouts per address and
//! per MN, no answer during a lock), connection floods (per-address share, closing connections
//! that never authenticate), log floods (once per interval per kind), and strong monitor
//! passwords from `qingling monitor add`.
#![allow(clippy::unwrap_used)]

mod common;

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::hj212::{closed, packets, silent_for};
use common::wait_until;
use qingling::hj212::codec as hj212;
use qingling::hj212::guard::Lockout;
use qingling::hj212::listener::{self, Config, Hj212};
use qingling::service::dust::monitors;

const MN: &str = "SEC-01";
const PW: &str = "K7QX4MZP2W";

/// A fresh database with one monitor, and a runtime for a listener on it.
struct Site {
    db: PathBuf,
    store: qingling::store::Db,
    rt: tokio::runtime::Runtime,
    _dir: tempfile::TempDir,
}

fn site() -> Site {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("sec.gpkg");
    let store = common::open_store(&db);
    add(&store, MN, PW);
    let rt = common::runtime(2);
    Site {
        db,
        store,
        rt,
        _dir: dir,
    }
}

fn add(store: &qingling::store::Db, mn: &str, pw: &str) {
    common::dust::add_monitor(store, mn, pw, [106.65, 39.45], None);
}

impl Site {
    fn listen(&self, config: Config) -> Hj212 {
        self.rt
            .block_on(listener::start_with(
                "127.0.0.1:0".parse().unwrap(),
                self.store.clone(),
                config,
            ))
            .unwrap()
    }

    fn readings(&self) -> i64 {
        common::count(
            &self.db,
            "SELECT count(*) FROM dust_readings WHERE device IN
             (SELECT id FROM dust_devices WHERE mn NOT LIKE 'WHDEMO-%')",
        )
    }

    /// A client socket bound to `from` (any of 127.0.0.0/8) before connecting.
    fn connect_from(&self, from: &str, to: SocketAddr) -> TcpStream {
        let s = self.rt.block_on(async {
            let sock = tokio::net::TcpSocket::new_v4().unwrap();
            sock.bind(format!("{from}:0").parse().unwrap()).unwrap();
            sock.connect(to).await.unwrap()
        });
        let s = s.into_std().unwrap();
        s.set_nonblocking(false).unwrap();
        s.set_nodelay(true).unwrap();
        s
    }
}

/// Short windows, so that a test can wait one out.
fn quick(first: Duration) -> Config {
    Config {
        lockout: Lockout {
            after: 5,
            mn_after: 10,
            first,
            max: first * 4,
        },
        ..Config::default()
    }
}

/// A real-time packet asking for an acknowledgement, with minute `qn` as QN and DataTime.
fn realtime(mn: &str, pw: &str, qn: u32) -> Vec<u8> {
    let time = format!("2025011010{:02}{:02}", (qn / 60) % 60, qn % 60);
    hj212::frame(&format!(
        "QN={qn};ST=22;CN=2011;PW={pw};MN={mn};Flag=5;CP=&&DataTime={time};a34002-Rtd=0.086,a34002-Flag=N&&"
    ))
    .unwrap()
}

#[test]
fn two_hundred_guesses_lock_the_address_and_the_right_pw_gets_no_ack_until_the_window_ends() {
    let site = site();
    let window = Duration::from_secs(3);
    let hj = site.listen(quick(window));
    let mut s = site.connect_from("127.0.0.1", hj.addr);
    let mut guesses = Vec::new();
    for i in 0..200u32 {
        guesses.extend(realtime(MN, &format!("G{i:06}x"), i));
    }
    s.write_all(&guesses).unwrap();
    let locked_at = Instant::now();
    wait_until("every guess handled", || {
        let st = hj.stats.snapshot();
        st.wrong_pw + st.locked == 200
    });
    let st = hj.stats.snapshot();
    assert_eq!((st.wrong_pw, st.locked), (5, 195), "{st:?}");
    // The right PW during the lock: refused like a wrong one.
    s.write_all(&realtime(MN, PW, 500)).unwrap();
    silent(&mut s);
    assert_eq!(site.readings(), 0);
    assert_eq!(hj.stats.snapshot().locked, 196);
    assert_eq!(hj.stats.snapshot().acks, 0);
    // From a fresh connection of the same address too.
    let mut again = site.connect_from("127.0.0.1", hj.addr);
    again.write_all(&realtime(MN, PW, 501)).unwrap();
    silent(&mut again);
    assert_eq!(site.readings(), 0);
    // After the window the right PW works.
    std::thread::sleep(window.saturating_sub(locked_at.elapsed()) + Duration::from_millis(200));
    again.write_all(&realtime(MN, PW, 502)).unwrap();
    assert_eq!(acks(&mut again, 1), vec!["QN=502"]);
    assert_eq!(site.readings(), 1);
}

#[test]
fn a_guessed_mn_is_locked_for_unknown_addresses_but_its_monitor_goes_on_reporting() {
    let site = site();
    let hj = site.listen(quick(Duration::from_secs(60)));
    let mut monitor = site.connect_from("127.0.0.2", hj.addr);
    monitor.write_all(&realtime(MN, PW, 1)).unwrap();
    assert_eq!(acks(&mut monitor, 1), vec!["QN=1"]);
    // Four addresses guess three times each: none is locked itself, the MN is (10 failures).
    for a in 3..=6 {
        let mut s = site.connect_from(&format!("127.0.0.{a}"), hj.addr);
        for i in 0..3 {
            s.write_all(&realtime(MN, &format!("guess{a}{i}X"), 100 + i))
                .unwrap();
        }
        wait_until("guesses handled", || {
            let st = hj.stats.snapshot();
            st.wrong_pw + st.locked == 3 * (a - 2)
        });
    }
    // Someone else who has the right PW, from an address the monitor never used: no answer.
    let mut stranger = site.connect_from("127.0.0.7", hj.addr);
    stranger.write_all(&realtime(MN, PW, 2)).unwrap();
    silent(&mut stranger);
    assert_eq!(site.readings(), 1);
    // The monitor at its known address is not locked out by them.
    monitor.write_all(&realtime(MN, PW, 3)).unwrap();
    assert_eq!(acks(&mut monitor, 1), vec!["QN=3"]);
    assert_eq!(site.readings(), 2);
    let st = hj.stats.snapshot();
    assert_eq!((st.wrong_pw, st.locked), (10, 3), "{st:?}");
}

#[test]
fn one_address_cannot_fill_the_listener_and_a_monitor_elsewhere_still_gets_in() {
    let site = site();
    let config = Config {
        max_connections: 8,
        per_address: 4,
        ..Config::default()
    };
    let hj = site.listen(config);
    // The attacker tries to hold every place.
    let mut held: Vec<TcpStream> = (0..10)
        .map(|_| site.connect_from("127.0.0.1", hj.addr))
        .collect();
    wait_until("four served, six refused", || {
        let st = hj.stats.snapshot();
        st.connections == 4 && st.refused_per_address == 6
    });
    assert!(closed(held.last_mut().unwrap()), "refused on arrival");
    // A monitor from another address is served, stored and acknowledged.
    let mut monitor = site.connect_from("127.0.0.2", hj.addr);
    monitor.write_all(&realtime(MN, PW, 7)).unwrap();
    assert_eq!(acks(&mut monitor, 1), vec!["QN=7"]);
    assert_eq!(site.readings(), 1);
    assert_eq!(hj.stats.snapshot().refused_connections, 0);
    // A place freed is the address's again.
    drop(held.remove(0));
    wait_until("a place freed and taken", || {
        let mut s = site.connect_from("127.0.0.1", hj.addr);
        s.set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        s.read(&mut [0u8; 8]).is_err()
    });
}

#[test]
fn a_connection_that_does_not_authenticate_in_time_is_closed_an_authenticated_one_stays() {
    let site = site();
    let config = Config {
        auth_timeout: Duration::from_millis(700),
        ..Config::default()
    };
    let hj = site.listen(config);
    let t = Instant::now();
    let mut idle = site.connect_from("127.0.0.1", hj.addr);
    let mut noisy = site.connect_from("127.0.0.1", hj.addr);
    let mut monitor = site.connect_from("127.0.0.1", hj.addr);
    monitor.write_all(&realtime(MN, PW, 1)).unwrap();
    assert_eq!(acks(&mut monitor, 1), vec!["QN=1"]);
    // Bytes that are no authenticated packet do not buy time.
    std::thread::sleep(Duration::from_millis(300));
    noisy.write_all(&realtime(MN, "wrongPW99", 2)).unwrap();
    noisy.write_all(b"junk junk junk").unwrap();
    assert!(closed(&mut idle));
    assert!(closed(&mut noisy));
    assert!(
        t.elapsed() >= Duration::from_millis(650),
        "{:?}",
        t.elapsed()
    );
    assert_eq!(hj.stats.snapshot().unauthenticated_closed, 2);
    std::thread::sleep(Duration::from_millis(500));
    monitor.write_all(&realtime(MN, PW, 3)).unwrap();
    assert_eq!(acks(&mut monitor, 1), vec!["QN=3"]);
}

/// Log lines written by the subscriber under test.
#[derive(Clone, Default)]
struct Lines(Arc<Mutex<Vec<u8>>>);

impl Write for Lines {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Lines {
    type Writer = Lines;
    fn make_writer(&'a self) -> Lines {
        self.clone()
    }
}

impl Lines {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).to_string()
    }
}

#[test]
fn a_flood_of_bad_packets_is_counted_and_logged_once_per_interval_per_kind() {
    let dir = tempfile::tempdir().unwrap();
    let store = common::open_store(&dir.path().join("log.gpkg"));
    add(&store, MN, PW);
    // One thread runs the listener and the client, so the subscriber sees every line.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let lines = Lines::default();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(lines.clone())
        .with_ansi(false)
        .with_max_level(tracing::Level::WARN)
        .finish();
    let every = Duration::from_millis(800);
    let stats = tracing::subscriber::with_default(subscriber, || {
        rt.block_on(async {
            use tokio::io::AsyncWriteExt;
            let config = Config {
                log_every: every,
                ..Config::default()
            };
            let hj = listener::start_with("127.0.0.1:0".parse().unwrap(), store, config)
                .await
                .unwrap();
            let mut s = tokio::net::TcpStream::connect(hj.addr).await.unwrap();
            let mut flood = Vec::new();
            for i in 0..300u32 {
                let mut bad_crc = realtime(MN, PW, i);
                let n = bad_crc.len();
                bad_crc[n - 6..n - 2].copy_from_slice(b"FFFF");
                flood.extend(bad_crc);
                flood.extend(realtime("NOBODY", PW, i));
                flood.extend(realtime(MN, &format!("guess{i:04}Z"), i));
            }
            s.write_all(&flood).await.unwrap();
            let t = Instant::now();
            loop {
                let st = hj.stats.snapshot();
                if st.bad_crc == 300 && st.unknown_mn + st.wrong_pw + st.locked == 600 {
                    break;
                }
                assert!(t.elapsed() < Duration::from_secs(15), "{st:?}");
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            // The next interval: one line again, saying how many were left out.
            tokio::time::sleep(every + Duration::from_millis(100)).await;
            let mut bad_crc = realtime(MN, PW, 999);
            let n = bad_crc.len();
            bad_crc[n - 6..n - 2].copy_from_slice(b"FFFF");
            s.write_all(&bad_crc).await.unwrap();
            while hj.stats.snapshot().bad_crc < 301 {
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            hj.stats.snapshot()
        })
    });
    let text = lines.text();
    let warnings = text.lines().filter(|l| l.contains("HJ 212")).count();
    assert!(warnings <= 6, "{warnings} lines:\n{text}");
    assert_eq!(
        text.lines()
            .filter(|l| l.contains("CRC") || l.contains("crc"))
            .count(),
        2,
        "{text}"
    );
    assert!(text.contains("left_out=299"), "{text}");
    assert_eq!(stats.bad_crc, 301);
    assert_eq!(stats.unknown_mn + stats.wrong_pw, 5, "{stats:?}");
    assert_eq!(stats.locked, 595, "{stats:?}");
    assert!(stats.log_suppressed >= 895, "{stats:?}");
}

/// Guesses an attacker gets checked per second over one loopback connection, pipelined (the
/// QN of an acknowledgement would name the right guess), with and without the lockout.
#[test]
fn guess_rate_with_and_without_the_lockout() {
    let site = site();
    let open_door = Config {
        lockout: Lockout {
            after: u32::MAX,
            mn_after: u32::MAX,
            ..Lockout::default()
        },
        ..Config::default()
    };
    let rate = |config: Config, n: u32| {
        let hj = site.listen(config);
        let mut s = site.connect_from("127.0.0.1", hj.addr);
        let mut guesses = Vec::new();
        for i in 0..n {
            guesses.extend(realtime(MN, &format!("G{i:06}x"), i));
        }
        let t = Instant::now();
        s.write_all(&guesses).unwrap();
        wait_until("every guess handled", || {
            let st = hj.stats.snapshot();
            st.wrong_pw + st.locked == u64::from(n)
        });
        let secs = t.elapsed().as_secs_f64();
        let checked = hj.stats.snapshot().wrong_pw;
        (checked, checked as f64 / secs)
    };
    let (before, per_s) = rate(open_door, 5000);
    assert_eq!(before, 5000);
    let (now, _) = rate(Config::default(), 5000);
    eprintln!(
        "guesses checked over one connection: without lockout {before} ({per_s:.0}/s); with the default lockout {now} of 5000, then none for 60 s"
    );
    assert_eq!(now, 5);
}

#[test]
fn monitor_add_generates_a_strong_password_and_refuses_a_weak_one() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("cli.gpkg");
    drop(common::open_store(&db));
    let db_s = db.to_str().unwrap();
    let add = |mn: &str, pw: Option<&str>| {
        let mut args = vec![
            "monitor", "add", "--db", db_s, "--mn", mn, "--lon", "106.65", "--lat", "39.45",
        ];
        if let Some(pw) = pw {
            args.extend(["--password", pw]);
        }
        common::run_cli(&args)
    };
    for (weak, says) in [
        ("123456", "123456 or abcdef"),
        ("000000", "one character"),
        ("834519", "at least 10 digits"),
        ("ab1", "too short"),
    ] {
        let (ok, _, err) = add("WEAK-01", Some(weak));
        assert!(!ok && err.contains(says), "{weak}: {err}");
    }
    let (ok, out, err) = add("GEN-01", None);
    assert!(ok, "{err}");
    let token = out.lines().next_back().unwrap();
    assert_eq!(
        token.len(),
        64,
        "the token stays alone on the last line: {out}"
    );
    let pw = err
        .lines()
        .skip_while(|l| !l.contains("HJ 212 password (PW)"))
        .nth(1)
        .unwrap()
        .trim()
        .to_string();
    assert_eq!(pw.len(), 10, "{err}");
    assert!(monitors::password_weakness(&pw).is_none(), "{pw}");
    // The printed password is the one the listener takes.
    let store = common::open_store(&db);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let hj = rt
        .block_on(listener::start("127.0.0.1:0".parse().unwrap(), store))
        .unwrap();
    let mut s = TcpStream::connect(hj.addr).unwrap();
    s.write_all(&realtime("GEN-01", &pw, 9)).unwrap();
    assert_eq!(acks(&mut s, 1), vec!["QN=9"]);
}

/// The QNs of the next `n` acknowledgements.
fn acks(s: &mut TcpStream, n: usize) -> Vec<String> {
    let qn = |d: &String| d.split(';').next().unwrap().to_string();
    packets(s, n).iter().map(qn).collect()
}

/// Nothing arrives within a while, and the connection stays open.
fn silent(s: &mut TcpStream) {
    silent_for(s, Duration::from_millis(400));
}

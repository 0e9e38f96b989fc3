//! Who may try an HJ 212 password and how often: failed tries counted per address, per MN and
//! per (address, MN), each locking for a window that doubles; open connections counted per
//! address; and warnings limited per kind. In memory (a restart forgets, which only helps a
//! device), the clock passed in so the rules are plain functions of time.
//!
//! Why three keys. A PW is the only secret, so an attacker's guesses must be bounded wherever
//! they come from, without handing the attacker a way to lock a real monitor out:
//! - **Per address** (IPv4, or IPv6 /64): an address that fails `after` times is locked, for every
//!   MN it has not authenticated before. One attacker gets a few guesses an hour.
//! - **Per MN**: an MN that fails `mn_after` times (from anywhere) is locked for every address it
//!   has not authenticated from before. Many attacking addresses together get a few guesses an
//!   hour against one monitor.
//! - **Per (address, MN)**: the only lock that holds for a pair that has authenticated before.
//!   So an attacker guessing a real monitor's MN from elsewhere, or other MNs from behind the same
//!   NAT, never stops the real monitor at its known address; an attacker guessing that very MN
//!   from behind the same NAT is indistinguishable from the monitor and locks both (data is
//!   delayed, not lost: a device keeps what was not acknowledged and sends it again).
//!
//! A monitor whose address changes (mobile networks) is at an unknown address until its first
//! success there; while its MN is locked it waits for the window, at most `max`.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Failures older than this (counted from the end of the last lock) are forgotten.
const FORGET: Duration = Duration::from_secs(24 * 3600);

/// Addresses whose successes are remembered this long.
const KNOWN_FOR: Duration = Duration::from_secs(30 * 24 * 3600);

/// Entries kept per map: an attacker with many addresses cannot grow memory without bound. When
/// full, unlocked entries are dropped; a new address then goes uncounted, and the per-MN lock
/// (its map is bounded by the registered monitors) still holds.
const MAX_ENTRIES: usize = 65_536;

/// The lockout rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lockout {
    /// Wrong passwords (or unknown MNs) from one address, and from one address for one MN,
    /// before the lock.
    pub after: u32,
    /// Wrong passwords for one MN from all addresses before the lock.
    pub mn_after: u32,
    /// The first window; each further lock of the same key doubles it…
    pub first: Duration,
    /// …up to this.
    pub max: Duration,
}

impl Default for Lockout {
    fn default() -> Lockout {
        Lockout {
            after: 5,
            mn_after: 10,
            first: Duration::from_secs(60),
            max: Duration::from_secs(3600),
        }
    }
}

/// Where a connection comes from, as far as limits go: an IPv4 address, or an IPv6 /64 (one
/// subscriber usually has a whole /64).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Source(IpAddr);

impl Source {
    pub fn of(ip: IpAddr) -> Source {
        match ip {
            IpAddr::V4(v4) => Source(IpAddr::V4(v4)),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => Source(IpAddr::V4(v4)),
                None => {
                    let mut seg = v6.segments();
                    seg[4..].fill(0);
                    Source(IpAddr::V6(seg.into()))
                }
            },
        }
    }
}

/// Failures of one key.
#[derive(Debug, Clone, Copy)]
struct Strikes {
    failures: u32,
    /// Locks served so far (the next window is `first` × 2^locks).
    locks: u32,
    last: Instant,
    until: Option<Instant>,
}

impl Strikes {
    fn new(now: Instant) -> Strikes {
        Strikes {
            failures: 0,
            locks: 0,
            last: now,
            until: None,
        }
    }

    fn locked(&self, now: Instant) -> bool {
        self.until.is_some_and(|u| now < u)
    }

    /// Counts a failure; locks when there were `after` of them.
    fn fail(&mut self, now: Instant, after: u32, rules: &Lockout) {
        let quiet_since = self.until.map_or(self.last, |u| u.max(self.last));
        if now.saturating_duration_since(quiet_since) > FORGET {
            *self = Strikes::new(now);
        }
        self.failures += 1;
        self.last = now;
        if self.failures >= after.max(1) {
            let window = rules
                .first
                .saturating_mul(1u32 << self.locks.min(20))
                .min(rules.max);
            self.until = Some(now + window);
            self.locks += 1;
            self.failures = 0;
        }
    }
}

#[derive(Default)]
struct Maps {
    addresses: HashMap<Source, Strikes>,
    mns: HashMap<String, Strikes>,
    pairs: HashMap<(Source, String), Strikes>,
    /// (address, MN) pairs that authenticated, with their last success.
    known: HashMap<(Source, String), Instant>,
}

/// Drops unlocked entries when a map is full; whether there is room now.
fn room<K: std::hash::Hash + Eq>(m: &mut HashMap<K, Strikes>, now: Instant) -> bool {
    if m.len() >= MAX_ENTRIES {
        m.retain(|_, s| s.locked(now));
    }
    m.len() < MAX_ENTRIES
}

fn fail_key<K: std::hash::Hash + Eq>(
    m: &mut HashMap<K, Strikes>,
    key: K,
    now: Instant,
    after: u32,
    rules: &Lockout,
) {
    if !m.contains_key(&key) && !room(m, now) {
        return;
    }
    m.entry(key)
        .or_insert_with(|| Strikes::new(now))
        .fail(now, after, rules);
}

/// The lockout state of one listener.
pub struct Guard {
    rules: Lockout,
    maps: Mutex<Maps>,
}

impl Guard {
    pub fn new(rules: Lockout) -> Guard {
        Guard {
            rules,
            maps: Mutex::new(Maps::default()),
        }
    }

    fn maps(&self) -> std::sync::MutexGuard<'_, Maps> {
        self.maps.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether a password from `src` for `mn` may be checked now. When not, the packet must be
    /// treated as if the password were wrong, whatever it is: an answer during a lock would
    /// confirm a guess.
    pub fn may_try(&self, src: Source, mn: &str, now: Instant) -> bool {
        let m = self.maps();
        let pair = (src, mn.to_string());
        if m.pairs.get(&pair).is_some_and(|s| s.locked(now)) {
            return false;
        }
        if m.known.contains_key(&pair) {
            return true;
        }
        !(m.addresses.get(&src).is_some_and(|s| s.locked(now))
            || m.mns.get(mn).is_some_and(|s| s.locked(now)))
    }

    /// A wrong password for a registered `mn`, or (`mn` None) an MN nobody registered.
    pub fn failure(&self, src: Source, mn: Option<&str>, now: Instant) {
        let rules = self.rules;
        let mut m = self.maps();
        fail_key(&mut m.addresses, src, now, rules.after, &rules);
        if let Some(mn) = mn {
            fail_key(&mut m.mns, mn.to_string(), now, rules.mn_after, &rules);
            fail_key(
                &mut m.pairs,
                (src, mn.to_string()),
                now,
                rules.after,
                &rules,
            );
        }
    }

    /// The right password from `src` for `mn` (checked while [`Guard::may_try`] allowed it): the
    /// pair is known from now on. Only the pair's own failures are cleared: a success of the
    /// attacker's own monitor must not clear its address, nor the real monitor's success the
    /// failures others piled on its MN.
    pub fn success(&self, src: Source, mn: &str, now: Instant) {
        let mut m = self.maps();
        let pair = (src, mn.to_string());
        m.pairs.remove(&pair);
        if !m.known.contains_key(&pair) && m.known.len() >= MAX_ENTRIES {
            m.known
                .retain(|_, t| now.saturating_duration_since(*t) < KNOWN_FOR);
            if m.known.len() >= MAX_ENTRIES
                && let Some(oldest) = m.known.iter().min_by_key(|e| *e.1).map(|e| e.0.clone())
            {
                m.known.remove(&oldest);
            }
        }
        m.known.insert(pair, now);
    }
}

/// Open connections per address.
pub struct Connections {
    limit: usize,
    open: Mutex<HashMap<Source, usize>>,
}

/// One counted connection; dropping it frees its place.
pub struct Place {
    of: Arc<Connections>,
    src: Source,
}

impl Connections {
    pub fn new(limit: usize) -> Arc<Connections> {
        Arc::new(Connections {
            limit,
            open: Mutex::new(HashMap::new()),
        })
    }

    /// A place for one more connection from `src`, unless it has `limit` open.
    pub fn open(self: &Arc<Self>, src: Source) -> Option<Place> {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        let n = open.entry(src).or_insert(0);
        if *n >= self.limit {
            return None;
        }
        *n += 1;
        Some(Place {
            of: self.clone(),
            src,
        })
    }
}

impl Drop for Place {
    fn drop(&mut self) {
        let mut open = self.of.open.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(n) = open.get_mut(&self.src) {
            *n -= 1;
            if *n == 0 {
                open.remove(&self.src);
            }
        }
    }
}

/// The kinds of warnings a sender can cause at will, each logged at most once per interval.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Noise {
    BadCrc,
    Garbage,
    BadPacket,
    OtherSystem,
    UnknownMn,
    WrongPw,
    Locked,
    BadTime,
    Refused,
    RefusedAddress,
}

const KINDS: usize = 10;

/// Warnings limited per [`Noise`] kind: the first of an interval is logged with how many were
/// left out since the last one logged; the rest only counted.
pub struct LogLimit {
    every: Duration,
    last: Mutex<[(Option<Instant>, u64); KINDS]>,
}

impl LogLimit {
    pub fn new(every: Duration) -> LogLimit {
        LogLimit {
            every,
            last: Mutex::new([(None, 0); KINDS]),
        }
    }

    /// `Some(left out before)` when a warning of `kind` may be logged now, `None` when it is left
    /// out (and counted).
    pub fn allow(&self, kind: Noise, now: Instant) -> Option<u64> {
        let mut last = self.last.lock().unwrap_or_else(|p| p.into_inner());
        let (at, left_out) = &mut last[kind as usize];
        match at {
            Some(t) if now.saturating_duration_since(*t) < self.every => {
                *left_out += 1;
                None
            }
            _ => {
                *at = Some(now);
                Some(std::mem::take(left_out))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> Lockout {
        Lockout {
            after: 3,
            mn_after: 5,
            first: Duration::from_secs(10),
            max: Duration::from_secs(40),
        }
    }

    fn ip(s: &str) -> Source {
        Source::of(s.parse().expect("an address"))
    }

    #[test]
    fn an_address_is_locked_after_its_failures_for_a_window_that_doubles() {
        let g = Guard::new(rules());
        let t = Instant::now();
        let a = ip("10.0.0.1");
        for _ in 0..3 {
            assert!(g.may_try(a, "M1", t));
            g.failure(a, Some("M1"), t);
        }
        assert!(!g.may_try(a, "M1", t));
        assert!(!g.may_try(a, "M2", t), "every MN from that address");
        assert!(
            g.may_try(ip("10.0.0.2"), "M2", t),
            "other addresses are not"
        );
        let t = t + Duration::from_secs(10);
        assert!(g.may_try(a, "M1", t));
        for _ in 0..3 {
            g.failure(a, None, t);
        }
        assert!(!g.may_try(a, "M1", t + Duration::from_secs(19)));
        assert!(g.may_try(a, "M1", t + Duration::from_secs(20)));
        // Capped at max.
        let mut t = t + Duration::from_secs(20);
        for _ in 0..5 {
            for _ in 0..3 {
                g.failure(a, None, t);
            }
            t += Duration::from_secs(40);
            assert!(g.may_try(a, "M1", t));
        }
        // Quiet for a day after the last lock: forgotten.
        let t = t + FORGET + Duration::from_secs(1);
        for _ in 0..3 {
            g.failure(a, None, t);
        }
        assert!(g.may_try(a, "M1", t + Duration::from_secs(10)));
    }

    #[test]
    fn a_guessed_mn_locks_unknown_addresses_but_not_the_monitors_own() {
        let g = Guard::new(rules());
        let t = Instant::now();
        let monitor = ip("10.0.0.1");
        g.success(monitor, "M1", t);
        // Guesses from many addresses, two each (never an address lock).
        for i in 0..3 {
            let a = ip(&format!("10.1.0.{i}"));
            g.failure(a, Some("M1"), t);
            g.failure(a, Some("M1"), t);
        }
        assert!(!g.may_try(ip("10.2.0.1"), "M1", t), "the MN is locked");
        assert!(g.may_try(ip("10.2.0.1"), "M2", t));
        assert!(g.may_try(monitor, "M1", t), "not for its known address");
        // Behind the monitor's NAT, guessing other MNs locks the address, not the monitor.
        for _ in 0..3 {
            g.failure(monitor, Some("M2"), t);
        }
        assert!(!g.may_try(monitor, "M2", t));
        assert!(g.may_try(monitor, "M1", t));
        // Guessing that very MN there locks the pair (indistinguishable from the monitor).
        for _ in 0..3 {
            g.failure(monitor, Some("M1"), t);
        }
        assert!(!g.may_try(monitor, "M1", t));
    }

    #[test]
    fn a_success_clears_only_its_pair() {
        let g = Guard::new(rules());
        let t = Instant::now();
        let a = ip("10.0.0.1");
        g.failure(a, Some("VICTIM"), t);
        g.failure(a, Some("VICTIM"), t);
        g.success(a, "OWN", t);
        g.failure(a, Some("OTHER"), t);
        assert!(!g.may_try(a, "THIRD", t), "the address's count went on");
        assert!(g.may_try(a, "OWN", t));
    }

    #[test]
    fn ipv6_counts_per_64_and_mapped_v4_as_v4() {
        assert_eq!(ip("2001:db8:1:2:aaaa::1"), ip("2001:db8:1:2:bbbb::9"));
        assert_ne!(ip("2001:db8:1:2::1"), ip("2001:db8:1:3::1"));
        assert_eq!(ip("::ffff:10.0.0.1"), ip("10.0.0.1"));
    }

    #[test]
    fn connections_per_address_are_limited_and_freed() {
        let c = Connections::new(2);
        let a = ip("10.0.0.1");
        let one = c.open(a).expect("a place");
        let _two = c.open(a).expect("a place");
        assert!(c.open(a).is_none());
        assert!(c.open(ip("10.0.0.2")).is_some());
        drop(one);
        assert!(c.open(a).is_some());
    }

    #[test]
    fn warnings_are_logged_once_per_interval_with_the_count_left_out() {
        let l = LogLimit::new(Duration::from_secs(60));
        let t = Instant::now();
        assert_eq!(l.allow(Noise::WrongPw, t), Some(0));
        for _ in 0..99 {
            assert_eq!(l.allow(Noise::WrongPw, t), None);
        }
        assert_eq!(l.allow(Noise::BadCrc, t), Some(0), "kinds are apart");
        assert_eq!(
            l.allow(Noise::WrongPw, t + Duration::from_secs(60)),
            Some(99)
        );
    }
}

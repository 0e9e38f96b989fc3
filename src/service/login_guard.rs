//! Guards on signing in: a rate limit per peer address, a growing lockout per username after
//! repeated failures, and a small fixed number of argon2 hashes at once (each holds 19 MiB).
//!
//! Every username is treated alike, existing or not, so the answers tell nothing about which
//! names exist.

use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use governor::clock::{Clock, DefaultClock};
use governor::{DefaultDirectRateLimiter, DefaultKeyedRateLimiter, Quota, RateLimiter};
use tokio::sync::Semaphore;

/// The limits; the defaults suit a real server, tests shorten them.
#[derive(Debug, Clone)]
pub struct LoginPolicy {
    /// Sign-in attempts one address may make at once…
    pub address_burst: u32,
    /// …and then per minute.
    pub address_per_minute: u32,
    /// Failures for one username before it is locked.
    pub account_failures: u32,
    /// The first lock; each further failure after it doubles the lock…
    pub account_lock: Duration,
    /// …up to this.
    pub account_lock_max: Duration,
    /// Failures older than this are forgotten.
    pub failure_window: Duration,
    /// Password hashes computed at once.
    pub hash_slots: usize,
    /// How long an attempt waits for a slot before it is answered 503.
    pub hash_wait: Duration,
}

impl Default for LoginPolicy {
    fn default() -> Self {
        LoginPolicy {
            address_burst: 30,
            address_per_minute: 30,
            account_failures: 5,
            account_lock: Duration::from_secs(60),
            account_lock_max: Duration::from_secs(3600),
            failure_window: Duration::from_secs(3600),
            hash_slots: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
                .clamp(1, 8),
            hash_wait: Duration::from_secs(5),
        }
    }
}

/// How long a username stays locked after its `failures`-th failure in a row, if at all:
/// nothing before the threshold, then the first lock doubled per further failure, capped.
pub fn lock_for(failures: u32, p: &LoginPolicy) -> Option<Duration> {
    if failures < p.account_failures.max(1) {
        return None;
    }
    let doublings = (failures - p.account_failures.max(1)).min(20);
    Some(
        p.account_lock
            .saturating_mul(1 << doublings)
            .min(p.account_lock_max),
    )
}

#[derive(Debug)]
struct Failures {
    count: u32,
    last: Instant,
    locked_until: Option<Instant>,
}

/// Usernames tracked at most; beyond this the oldest entry makes room.
const MAX_TRACKED: usize = 100_000;

/// Why an attempt is not even checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// This address tried too often: 429.
    Address(Duration),
    /// This username failed too often: 429.
    Account(Duration),
    /// No hashing slot came free in time: 503.
    Busy(Duration),
}

pub struct LoginGuard {
    policy: LoginPolicy,
    by_address: DefaultKeyedRateLimiter<IpAddr>,
    accounts: Mutex<HashMap<String, Failures>>,
    hashing: Arc<Semaphore>,
    /// Failed sign-ins are logged at most this often; the rest are counted into the next line.
    warn_lines: DefaultDirectRateLimiter,
    suppressed: Mutex<u64>,
}

fn nz(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n.max(1)).unwrap_or(NonZeroU32::MIN)
}

impl LoginGuard {
    pub fn new(policy: LoginPolicy) -> LoginGuard {
        let quota =
            Quota::per_minute(nz(policy.address_per_minute)).allow_burst(nz(policy.address_burst));
        LoginGuard {
            by_address: RateLimiter::keyed(quota),
            accounts: Mutex::new(HashMap::new()),
            hashing: Arc::new(Semaphore::new(policy.hash_slots.max(1))),
            warn_lines: RateLimiter::direct(Quota::per_minute(nz(6)).allow_burst(nz(5))),
            suppressed: Mutex::new(0),
            policy,
        }
    }

    pub fn policy(&self) -> &LoginPolicy {
        &self.policy
    }

    /// Takes one attempt from the address's allowance.
    pub fn check_address(&self, ip: IpAddr) -> Result<(), Refusal> {
        if self.by_address.len() > MAX_TRACKED {
            self.by_address.retain_recent();
        }
        self.by_address.check_key(&ip).map_err(|not_until| {
            Refusal::Address(not_until.wait_time_from(DefaultClock::default().now()))
        })
    }

    /// Whether the username is locked now.
    pub fn check_account(&self, username: &str) -> Result<(), Refusal> {
        let now = Instant::now();
        let accounts = self.accounts.lock().unwrap_or_else(|p| p.into_inner());
        match accounts.get(username).and_then(|f| f.locked_until) {
            Some(until) if until > now => Err(Refusal::Account(until - now)),
            _ => Ok(()),
        }
    }

    /// Counts a failure; returns the lock it starts, if any.
    pub fn failed(&self, username: &str) -> Option<Duration> {
        let now = Instant::now();
        let mut accounts = self.accounts.lock().unwrap_or_else(|p| p.into_inner());
        if accounts.len() >= MAX_TRACKED && !accounts.contains_key(username) {
            let window = self.policy.failure_window;
            accounts.retain(|_, f| {
                now.duration_since(f.last) < window || f.locked_until.is_some_and(|u| u > now)
            });
            if accounts.len() >= MAX_TRACKED
                && let Some(oldest) = accounts
                    .iter()
                    .min_by_key(|(_, f)| f.last)
                    .map(|(k, _)| k.clone())
            {
                accounts.remove(&oldest);
            }
        }
        let f = accounts.entry(username.to_string()).or_insert(Failures {
            count: 0,
            last: now,
            locked_until: None,
        });
        if now.duration_since(f.last) >= self.policy.failure_window {
            f.count = 0;
        }
        f.count = f.count.saturating_add(1);
        f.last = now;
        let lock = lock_for(f.count, &self.policy);
        f.locked_until = lock.map(|d| now + d);
        lock
    }

    /// A right password: the username's failures are forgotten.
    pub fn succeeded(&self, username: &str) {
        self.accounts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(username);
    }

    /// Runs a password hash (blocking, memory-hungry) in one of the few slots, waiting a
    /// bounded time for one.
    pub async fn hash<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, Refusal> {
        let wait = self.policy.hash_wait;
        let permit = match tokio::time::timeout(wait, self.hashing.clone().acquire_owned()).await {
            Ok(Ok(p)) => p,
            _ => return Err(Refusal::Busy(wait.max(Duration::from_secs(1)))),
        };
        tokio::task::spawn_blocking(move || {
            let out = f();
            drop(permit);
            out
        })
        .await
        .map_err(|_| Refusal::Busy(wait))
    }

    /// Logs a failed or refused sign-in at WARN, but not one line per attempt under a flood:
    /// lines beyond the allowance are counted into the next one written.
    pub fn warn(&self, username: &str, address: Option<IpAddr>, reason: &str) {
        let mut suppressed = self.suppressed.lock().unwrap_or_else(|p| p.into_inner());
        if self.warn_lines.check().is_ok() {
            let address = address.map(|a| a.to_string()).unwrap_or_default();
            tracing::warn!(
                username,
                address,
                reason,
                suppressed = *suppressed,
                "sign-in failed"
            );
            *suppressed = 0;
        } else {
            *suppressed += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lock_starts_at_the_threshold_and_doubles_up_to_the_cap() {
        let p = LoginPolicy {
            account_failures: 5,
            account_lock: Duration::from_secs(60),
            account_lock_max: Duration::from_secs(300),
            ..LoginPolicy::default()
        };
        let got: Vec<Option<u64>> = (1..=9)
            .map(|n| lock_for(n, &p).map(|d| d.as_secs()))
            .collect();
        assert_eq!(
            got,
            [
                None,
                None,
                None,
                None,
                Some(60),
                Some(120),
                Some(240),
                Some(300),
                Some(300)
            ]
        );
    }

    #[test]
    fn any_username_locks_alike_and_a_success_forgets() {
        let g = LoginGuard::new(LoginPolicy {
            account_failures: 2,
            ..LoginPolicy::default()
        });
        for name in ["manager", "nobody-here"] {
            assert_eq!(g.check_account(name), Ok(()));
            assert_eq!(g.failed(name), None);
            assert!(g.failed(name).is_some());
            assert!(matches!(g.check_account(name), Err(Refusal::Account(_))));
        }
        g.succeeded("manager");
        assert_eq!(g.check_account("manager"), Ok(()));
    }

    #[test]
    fn an_address_gets_its_burst_then_waits() {
        let g = LoginGuard::new(LoginPolicy {
            address_burst: 3,
            address_per_minute: 1,
            ..LoginPolicy::default()
        });
        let ip: IpAddr = "127.0.0.1".parse().expect("ip");
        for _ in 0..3 {
            assert_eq!(g.check_address(ip), Ok(()));
        }
        assert!(matches!(g.check_address(ip), Err(Refusal::Address(d)) if d.as_secs() > 0));
        assert_eq!(g.check_address("127.0.0.2".parse().expect("ip")), Ok(()));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn never_more_hashes_at_once_than_slots() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let g = Arc::new(LoginGuard::new(LoginPolicy {
            hash_slots: 2,
            hash_wait: Duration::from_secs(30),
            ..LoginPolicy::default()
        }));
        let now = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..12)
            .map(|_| {
                let (g, now, most) = (g.clone(), now.clone(), most.clone());
                tokio::spawn(async move {
                    g.hash(move || {
                        let n = now.fetch_add(1, Ordering::SeqCst) + 1;
                        most.fetch_max(n, Ordering::SeqCst);
                        std::thread::sleep(Duration::from_millis(20));
                        now.fetch_sub(1, Ordering::SeqCst);
                    })
                    .await
                })
            })
            .collect();
        for t in tasks {
            assert_eq!(t.await.expect("task"), Ok(()));
        }
        assert_eq!(most.load(Ordering::SeqCst), 2);
    }
}

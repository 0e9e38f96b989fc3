//! The background jobs beside the server (the hourly sweep, the minute dust check, webhook
//! deliveries), all started and stopped one way: on shutdown each is told to stop, and the
//! server waits for the round it is in to end, so no write is cut off half-way by the exit.

use std::future::Future;
use std::time::Duration;

use tokio::sync::watch;
use tokio::task::JoinSet;

/// What a job's loop watches to learn that the server is stopping.
#[derive(Clone)]
pub struct Stopping(Option<watch::Receiver<bool>>);

impl Stopping {
    /// For a job run outside a [`Jobs`] (tests): it is never told to stop.
    pub fn never() -> Stopping {
        Stopping(None)
    }

    /// Resolves once shutdown has begun (at once if it has).
    pub async fn wait(&mut self) {
        match &mut self.0 {
            // An error means the runner is gone: stop as well.
            Some(rx) => {
                let _ = rx.wait_for(|stop| *stop).await;
            }
            None => std::future::pending().await,
        }
    }

    pub fn is_set(&self) -> bool {
        self.0.as_ref().is_some_and(|rx| *rx.borrow())
    }

    /// Sleeps `d`, or less when shutdown begins; true when it did.
    pub async fn sleep(&mut self, d: Duration) -> bool {
        tokio::select! {
            _ = self.wait() => true,
            _ = tokio::time::sleep(d) => self.is_set(),
        }
    }
}

/// The running jobs.
pub struct Jobs {
    stop: watch::Sender<bool>,
    set: JoinSet<&'static str>,
}

impl Default for Jobs {
    fn default() -> Self {
        Jobs::new()
    }
}

impl Jobs {
    pub fn new() -> Jobs {
        Jobs {
            stop: watch::channel(false).0,
            set: JoinSet::new(),
        }
    }

    /// A job with a loop of its own, which must end soon after `Stopping` resolves.
    pub fn spawn<F, Fut>(&mut self, name: &'static str, job: F)
    where
        F: FnOnce(Stopping) -> Fut,
        Fut: Future<Output = ()> + Send + 'static,
    {
        let fut = job(Stopping(Some(self.stop.subscribe())));
        self.set.spawn(async move {
            fut.await;
            name
        });
    }

    /// A job that runs `round` every `every`, the first time at once; a round is never cut
    /// short, and none starts once shutdown has begun.
    pub fn every<F, Fut>(&mut self, name: &'static str, every: Duration, mut round: F)
    where
        F: FnMut() -> Fut + Send + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.spawn(name, move |mut stopping| async move {
            loop {
                round().await;
                if stopping.sleep(every).await {
                    break;
                }
            }
        });
    }

    /// Tells every job to stop and waits up to `grace` for them; a job still running then is
    /// named in the log and dropped.
    pub async fn shutdown(mut self, grace: Duration) {
        let _ = self.stop.send(true);
        let deadline = tokio::time::Instant::now() + grace;
        while !self.set.is_empty() {
            match tokio::time::timeout_at(deadline, self.set.join_next()).await {
                Ok(Some(Ok(name))) => tracing::debug!(job = name, "background job stopped"),
                Ok(Some(Err(e))) => tracing::error!(error = %e, "background job failed"),
                Ok(None) => break,
                Err(_) => {
                    tracing::warn!(
                        jobs = self.set.len(),
                        "background jobs still running at shutdown; left unfinished"
                    );
                    self.set.abort_all();
                    break;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn shutdown_waits_for_the_round_in_progress_and_no_round_starts_after() {
        let started = Arc::new(AtomicUsize::new(0));
        let finished = Arc::new(AtomicUsize::new(0));
        let mut jobs = Jobs::new();
        let (s, f) = (started.clone(), finished.clone());
        jobs.every("slow", Duration::from_millis(5), move || {
            let (s, f) = (s.clone(), f.clone());
            async move {
                s.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(50)).await;
                f.fetch_add(1, Ordering::SeqCst);
            }
        });
        tokio::time::sleep(Duration::from_millis(20)).await; // inside the first round
        jobs.shutdown(Duration::from_secs(5)).await;
        let (s, f) = (
            started.load(Ordering::SeqCst),
            finished.load(Ordering::SeqCst),
        );
        assert!(s >= 1);
        assert_eq!(s, f, "every round that started also finished");
        tokio::time::sleep(Duration::from_millis(30)).await;
        assert_eq!(started.load(Ordering::SeqCst), s, "no round after shutdown");
    }

    #[tokio::test]
    async fn a_job_that_ignores_the_stop_is_dropped_after_the_grace() {
        let mut jobs = Jobs::new();
        jobs.spawn("stubborn", |_| async {
            tokio::time::sleep(Duration::from_secs(3600)).await;
        });
        let t = tokio::time::Instant::now();
        jobs.shutdown(Duration::from_millis(50)).await;
        assert!(t.elapsed() < Duration::from_secs(5));
    }
}

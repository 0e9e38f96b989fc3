//! Slots for CPU-heavy work in a request (photo decodes, geometry checks): a few per core, so
//! a burst of such requests queues instead of taking every thread and the memory with it. A
//! request that gets no slot in time is told to retry (503 with `Retry-After`).

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::{Error, Kind, Result};

/// `per_core` slots for each core of the machine.
pub fn per_core(per_core: usize) -> Arc<Semaphore> {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    Arc::new(Semaphore::new(cores * per_core))
}

/// Waits up to `wait` for a slot, held until the permit is dropped; else a 503 with the message
/// `busy_key` (which may use `{retry_after}`).
pub async fn acquire(
    gate: &Arc<Semaphore>,
    wait: Duration,
    busy_key: &'static str,
) -> Result<OwnedSemaphorePermit> {
    match tokio::time::timeout(wait, gate.clone().acquire_owned()).await {
        Ok(Ok(permit)) => Ok(permit),
        _ => {
            Err(Error::new(Kind::Busy, busy_key)
                .arg("retry_after", wait.as_secs().max(1).to_string()))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn beyond_the_slots_a_request_waits_then_is_told_when_to_retry() {
        let gate = Arc::new(Semaphore::new(1));
        let held = acquire(&gate, Duration::from_millis(10), "geometry_busy")
            .await
            .expect("a free slot");
        let Err(Error::Problem(p)) =
            acquire(&gate, Duration::from_millis(50), "geometry_busy").await
        else {
            panic!("the second request should be refused");
        };
        assert_eq!((p.kind, p.key), (Kind::Busy, "geometry_busy"));
        assert!(p.args.contains(&("retry_after", "1".to_string())));
        drop(held);
        assert!(
            acquire(&gate, Duration::from_millis(50), "geometry_busy")
                .await
                .is_ok()
        );
    }
}

//! Group commit for readings: one writer thread takes every batch waiting in its queue and
//! stores them all in one transaction, so many small HJ 212 packets share one durable commit
//! (WAL, synchronous=FULL) instead of paying one fsync each. A caller hears back only after the
//! commit, so an acknowledgement sent then is never for a reading a crash could lose.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::{mpsc, oneshot};

use crate::domain::dust::reading::Reading;
use crate::store::dust::DeviceId;
use crate::store::dust::readings::Inserted;
use crate::store::{Db, StoreError};

/// Readings one commit takes at most: a larger group would make the queue behind it wait.
const MAX_GROUP_READINGS: usize = 50_000;

/// Batches that may wait for the writer; senders wait beyond this (back-pressure on readers).
const QUEUE: usize = 8192;

struct Job {
    device: DeviceId,
    readings: Vec<Reading>,
    reply: oneshot::Sender<Result<Inserted, String>>,
}

/// The handle through which batches reach the writer thread. Cheap to clone.
#[derive(Clone)]
pub struct Ingestor {
    tx: mpsc::Sender<Job>,
    commits: Arc<AtomicU64>,
}

/// The answer to one batch: what was stored, once committed. An error is already logged.
pub type Receipt = oneshot::Receiver<Result<Inserted, String>>;

impl Ingestor {
    /// Starts the writer thread. It stops when every handle is dropped.
    pub fn start(db: Db) -> std::io::Result<Ingestor> {
        let (tx, rx) = mpsc::channel(QUEUE);
        let commits = Arc::new(AtomicU64::new(0));
        let counter = commits.clone();
        std::thread::Builder::new()
            .name("dust-ingest".into())
            .spawn(move || run(db, rx, &counter))?;
        Ok(Ingestor { tx, commits })
    }

    /// Transactions committed so far (each holds every batch that was waiting).
    pub fn commits(&self) -> u64 {
        self.commits.load(Ordering::Relaxed)
    }

    /// Queues a batch (waiting while the queue is full); the receipt resolves after the commit.
    /// `None` if the writer thread has stopped.
    pub async fn submit(&self, device: DeviceId, readings: Vec<Reading>) -> Option<Receipt> {
        let (reply, rx) = oneshot::channel();
        self.tx
            .send(Job {
                device,
                readings,
                reply,
            })
            .await
            .ok()?;
        Some(rx)
    }
}

fn run(db: Db, mut rx: mpsc::Receiver<Job>, commits: &AtomicU64) {
    while let Some(first) = rx.blocking_recv() {
        let mut size = first.readings.len();
        let mut group = vec![first];
        while size < MAX_GROUP_READINGS {
            match rx.try_recv() {
                Ok(job) => {
                    size += job.readings.len();
                    group.push(job);
                }
                Err(_) => break,
            }
        }
        commit(&db, group);
        commits.fetch_add(1, Ordering::Relaxed);
    }
}

/// Stores a group in one transaction. Each batch runs in its own nested transaction, so a batch
/// that fails is rolled back alone and the others still commit.
fn commit(db: &Db, group: Vec<Job>) {
    let (jobs, replies): (Vec<(DeviceId, Vec<Reading>)>, Vec<_>) = group
        .into_iter()
        .map(|j| ((j.device, j.readings), j.reply))
        .unzip();
    let done = db.write_blocking(|tx| {
        let mut out = Vec::with_capacity(jobs.len());
        for (device, readings) in &jobs {
            let mut result = Err(String::new());
            tx.nested(&mut |batch| match batch.dust_readings().insert(*device, readings) {
                Ok(ins) => {
                    result = Ok(ins);
                    Ok(true)
                }
                Err(e) => {
                    tracing::error!(device = device.0, error = %e, "storing dust readings failed");
                    result = Err(e.to_string());
                    Ok(false)
                }
            })?;
            out.push(result);
        }
        Ok::<_, StoreError>(out)
    });
    match done {
        Ok(results) => {
            for (reply, r) in replies.into_iter().zip(results) {
                // A caller that went away (connection closed) needs no answer.
                let _ = reply.send(r);
            }
        }
        Err(e) => {
            tracing::error!(error = %e, batches = replies.len(), "committing dust readings failed");
            for reply in replies {
                let _ = reply.send(Err(e.to_string()));
            }
        }
    }
}

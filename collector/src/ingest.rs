//! The store writer: one thread that commits agent batches in groups (group commit) and only
//! then lets the services acknowledge them.
//!
//! Services submit a batch and get a oneshot that resolves after the transaction holding it has
//! committed. The queue is bounded (`limits.ingest_queue_batches`): when the store falls behind,
//! submitters wait, which holds back the agents' streams through HTTP/2 flow control; nothing is
//! dropped here. Every commit publishes the highest cursor on a watch channel that wakes the
//! SOC subscribers.

use std::sync::Arc;
use std::thread;

use tokio::sync::{mpsc, oneshot, watch};

use crate::store::{IngestBatch, IngestOutcome, Store, StoreError};

type Reply = oneshot::Sender<Result<IngestOutcome, Arc<StoreError>>>;

struct Job {
    batch: IngestBatch,
    reply: Reply,
}

/// Handle to the store writer thread.
#[derive(Clone)]
pub struct Ingestor {
    jobs: mpsc::Sender<Job>,
    latest: watch::Receiver<u64>,
}

/// Records per group commit at most, besides the batch count: keeps one transaction short.
const MAX_RECORDS_PER_COMMIT: usize = 50_000;

impl Ingestor {
    /// Starts the writer thread. It ends when every `Ingestor` clone is dropped.
    pub fn start(
        store: Arc<dyn Store>,
        queue: usize,
        max_batches_per_commit: usize,
    ) -> std::io::Result<Ingestor> {
        let initial = store.latest_cursor().unwrap_or(0);
        let (jobs_tx, mut jobs_rx) = mpsc::channel::<Job>(queue.max(1));
        let (latest_tx, latest_rx) = watch::channel(initial);
        thread::Builder::new()
            .name("store-writer".into())
            .spawn(move || {
                let mut jobs: Vec<Job> = Vec::new();
                let mut batches: Vec<IngestBatch> = Vec::new();
                while let Some(first) = jobs_rx.blocking_recv() {
                    let mut records = first.batch.alerts.len();
                    jobs.push(first);
                    while jobs.len() < max_batches_per_commit && records < MAX_RECORDS_PER_COMMIT {
                        match jobs_rx.try_recv() {
                            Ok(job) => {
                                records += job.batch.alerts.len();
                                jobs.push(job);
                            }
                            Err(_) => break,
                        }
                    }
                    let mut replies = Vec::with_capacity(jobs.len());
                    for job in jobs.drain(..) {
                        batches.push(job.batch);
                        replies.push(job.reply);
                    }
                    match store.ingest(&batches) {
                        Ok((outcomes, latest)) => {
                            latest_tx.send_replace(latest);
                            for (reply, outcome) in replies.into_iter().zip(outcomes) {
                                let _ = reply.send(Ok(outcome));
                            }
                        }
                        Err(error) => {
                            tracing::error!(error = %error, batches = batches.len(), "store commit failed; batches not acknowledged");
                            let error = Arc::new(error);
                            for reply in replies {
                                let _ = reply.send(Err(Arc::clone(&error)));
                            }
                        }
                    }
                    batches.clear();
                }
            })?;
        Ok(Ingestor {
            jobs: jobs_tx,
            latest: latest_rx,
        })
    }

    /// Queues a batch; the returned receiver resolves once it is committed (or failed).
    pub async fn submit(
        &self,
        batch: IngestBatch,
    ) -> Result<oneshot::Receiver<Result<IngestOutcome, Arc<StoreError>>>, StoreError> {
        let (reply, rx) = oneshot::channel();
        self.jobs
            .send(Job { batch, reply })
            .await
            .map_err(|_| StoreError::Closed)?;
        Ok(rx)
    }

    /// The highest committed cursor, updated after every commit.
    pub fn latest(&self) -> watch::Receiver<u64> {
        self.latest.clone()
    }
}

//! The capture thread's side of the pipeline: batching packets per worker, sharding by flow, and
//! applying the queue policy when a worker falls behind.

use std::hash::BuildHasher;
use std::sync::Arc;

use crossbeam_channel::{Receiver, Sender, TrySendError};

use crate::batch::Batch;
use crate::decode::{self, Frame, LinkType};
use crate::flow::FlowKey;
use crate::flow::hash::FlowHashBuilder;
use crate::stats::{Counters, Published};

/// What to do when a worker's queue is full.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum QueuePolicy {
    /// Wait for the worker (offline: a file can wait, and nothing may be lost).
    Block,
    /// Drop the batch and count its packets (live: the kernel ring must keep draining).
    Drop,
}

/// Routes packets into per-worker batches.
pub struct Dispatcher {
    senders: Vec<Sender<Batch>>,
    recycle: Receiver<Batch>,
    pending: Vec<Batch>,
    policy: QueuePolicy,
    hasher: FlowHashBuilder,
    counters: Counters,
    published: Arc<Published>,
}

impl Dispatcher {
    /// A dispatcher feeding `senders` (one per worker), reusing batches from `recycle`.
    pub fn new(
        senders: Vec<Sender<Batch>>,
        recycle: Receiver<Batch>,
        policy: QueuePolicy,
        hasher: FlowHashBuilder,
        published: Arc<Published>,
    ) -> Self {
        let pending = senders.iter().map(|_| Batch::default()).collect();
        Dispatcher {
            senders,
            recycle,
            pending,
            policy,
            hasher,
            counters: Counters::default(),
            published,
        }
    }

    /// Adds one captured packet.
    pub fn push(&mut self, ts_us: i64, wirelen: u32, link: LinkType, bytes: &[u8]) {
        self.counters.packets += 1;
        self.counters.bytes += u64::from(wirelen);
        let worker = self.shard(link, bytes);
        if self.pending[worker].is_full_for(bytes.len()) {
            self.send(worker);
        }
        self.pending[worker].push(ts_us, wirelen, link, bytes);
    }

    /// Sends every non-empty batch; with `tick_us`, also sends empty batches stamped with that
    /// time so idle workers can expire flows.
    pub fn flush(&mut self, tick_us: Option<i64>) {
        for worker in 0..self.pending.len() {
            if let Some(now) = tick_us {
                let batch = &mut self.pending[worker];
                batch.now_us = batch.now_us.max(now);
            } else if self.pending[worker].is_empty() {
                continue;
            }
            self.send(worker);
        }
        self.published.publish(&self.counters);
    }

    /// Publishes counters (call periodically).
    pub fn publish(&self) {
        self.published.publish(&self.counters);
    }

    /// Packets seen so far.
    pub fn packets(&self) -> u64 {
        self.counters.packets
    }

    fn shard(&self, link: LinkType, bytes: &[u8]) -> usize {
        let workers = self.senders.len();
        if workers <= 1 {
            return 0;
        }
        match decode::decode(link, bytes) {
            Ok(Frame::Ip(packet)) => {
                (self.hasher.hash_one(FlowKey::of(&packet)) % workers as u64) as usize
            }
            // Frames without a flow go anywhere; worker 0 counts them.
            _ => 0,
        }
    }

    fn send(&mut self, worker: usize) {
        let batch = std::mem::replace(&mut self.pending[worker], Batch::unallocated());
        let result = match self.policy {
            QueuePolicy::Block => self.senders[worker]
                .send(batch)
                .map_err(|e| TrySendError::Disconnected(e.into_inner())),
            QueuePolicy::Drop => self.senders[worker].try_send(batch),
        };
        self.pending[worker] = match result {
            Ok(()) => self.recycle.try_recv().unwrap_or_default(),
            Err(error) => {
                let mut batch = error.into_inner();
                self.counters.queue_dropped += batch.len() as u64;
                batch.clear();
                batch
            }
        };
        self.published.publish(&self.counters);
    }
}

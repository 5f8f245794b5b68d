//! The live indicator set, published to workers through `arc-swap`.
//!
//! Workers load the current [`Snapshot`] once per batch, so a batch sees one consistent set and a
//! swap never waits for (or blocks) packet processing. The generation number lets a flow notice
//! that the set changed under it and match its endpoints again.

use std::sync::Arc;

use arc_swap::ArcSwap;
use kordon_intel::IndicatorSet;

/// One published indicator set.
#[derive(Debug)]
pub struct Snapshot {
    /// The compiled set.
    pub set: IndicatorSet,
    /// Increases with every publication; never 0, so a fresh flow (generation 0) always matches.
    pub generation: u64,
}

/// The handle workers read and loaders write.
#[derive(Clone, Debug)]
pub struct LiveIndicators {
    current: Arc<ArcSwap<Snapshot>>,
}

impl LiveIndicators {
    /// Publishes `set` as generation 1.
    pub fn new(set: IndicatorSet) -> Self {
        LiveIndicators {
            current: Arc::new(ArcSwap::from_pointee(Snapshot { set, generation: 1 })),
        }
    }

    /// Atomically replaces the set; workers pick it up at their next batch.
    pub fn publish(&self, set: IndicatorSet) {
        let generation = self.current.load().generation + 1;
        self.current.store(Arc::new(Snapshot { set, generation }));
    }

    /// The current snapshot (for reports; workers use [`LiveIndicators::cache`]).
    pub fn load(&self) -> Arc<Snapshot> {
        self.current.load_full()
    }

    /// A per-thread cache that makes the once-per-batch load nearly free.
    pub fn cache(&self) -> arc_swap::Cache<Arc<ArcSwap<Snapshot>>, Arc<Snapshot>> {
        arc_swap::Cache::new(Arc::clone(&self.current))
    }
}

//! The live indicator set, published to workers through `arc-swap`.
//!
//! Workers load the current [`Snapshot`] once per batch, so a batch sees one consistent set and a
//! swap never waits for (or blocks) packet processing. The generation number lets a flow notice
//! that the set changed under it and match its endpoints again.

use std::sync::Arc;

use arc_swap::ArcSwap;
use kordon_intel::{IndicatorKind, IndicatorSet};

/// One published indicator set.
#[derive(Debug)]
pub struct Snapshot {
    /// The compiled set.
    pub set: IndicatorSet,
    /// Increases with every publication; never 0, so a fresh flow (generation 0) always matches.
    pub generation: u64,
    /// Whether any indicator can match an application-layer observation (names, URLs,
    /// fingerprints, dataset strings, OT policy). When none can, workers skip reassembly and
    /// parsing unless events are logged (`--metadata`): with only address indicators, the
    /// application layer would cost time and find nothing.
    pub needs_app_layer: bool,
}

impl Snapshot {
    fn new(set: IndicatorSet, generation: u64) -> Self {
        let needs_app_layer = IndicatorKind::ALL
            .into_iter()
            .filter(|kind| {
                !matches!(
                    kind,
                    IndicatorKind::Ipv4 | IndicatorKind::Ipv6 | IndicatorKind::Cidr
                )
            })
            .any(|kind| set.count_of(kind) > 0);
        Snapshot {
            set,
            generation,
            needs_app_layer,
        }
    }
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
            current: Arc::new(ArcSwap::from_pointee(Snapshot::new(set, 1))),
        }
    }

    /// Atomically replaces the set; workers pick it up at their next batch.
    pub fn publish(&self, set: IndicatorSet) {
        let generation = self.current.load().generation + 1;
        self.current.store(Arc::new(Snapshot::new(set, generation)));
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

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use kordon_intel::{
        Indicator, IndicatorKind, IndicatorMeta, IndicatorSetBuilder, IndicatorValue,
    };

    use super::*;

    fn set_of(values: &[(IndicatorKind, IndicatorValue)]) -> IndicatorSet {
        let mut builder = IndicatorSetBuilder::new();
        for (kind, value) in values {
            builder.add(Indicator {
                id: None,
                kind: *kind,
                value: value.clone(),
                score: None,
                meta: Arc::new(IndicatorMeta::default()),
            });
        }
        builder.build().expect("build")
    }

    #[test]
    fn application_layer_is_needed_only_for_application_indicators() {
        let ip = (
            IndicatorKind::Ipv4,
            IndicatorValue::Ip("185.100.87.9".parse().expect("ip")),
        );
        let domain = (
            IndicatorKind::Domain,
            IndicatorValue::Domain {
                name: "evil.example.net".into(),
                subdomains: false,
            },
        );
        let live = LiveIndicators::new(set_of(std::slice::from_ref(&ip)));
        assert!(!live.load().needs_app_layer, "addresses only");
        live.publish(set_of(&[ip, domain]));
        let snapshot = live.load();
        assert!(
            snapshot.needs_app_layer,
            "a domain needs DNS/TLS/HTTP parsing"
        );
        assert_eq!(snapshot.generation, 2);
    }
}

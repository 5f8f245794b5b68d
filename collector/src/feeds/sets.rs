//! Named indicator sets: each is the merge of its sources (configured feeds and pushing feeds),
//! compiled to a canonical bundle, versioned, signed, stored and published to watchers.
//!
//! Why one lock per collector and whole-set rebuilds: a rebuild of even a million entries takes
//! well under a second, updates are rare (minutes apart per feed), and rebuilding from the
//! sources' last good entries means a failed load can never leave a half-merged set: a source
//! is only replaced after it loaded, and the set is only published after it compiled, signed
//! and committed to the store.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, Mutex};

use kordon_intel::bundle::{self, Bundle, BundleEntry, SigningKey};
use kordon_intel::ot::OtPolicy;
use kordon_intel::{IndicatorKind, IndicatorValue};
use tokio::sync::watch;

use super::store::{IntelStore, StoredVersion};

/// A published version: what `WatchIndicators` streams.
#[derive(Debug)]
pub struct Published {
    /// Version.
    pub version: u64,
    /// Signed bundle.
    pub signed: Arc<Vec<u8>>,
    /// Signed delta from the previous version, when there was one.
    pub delta: Option<(u64, Arc<Vec<u8>>)>,
    /// Entries in the set.
    pub entries: usize,
}

/// Why a set could not be updated (the last good version stays live).
#[derive(Debug, thiserror::Error)]
pub enum SetError {
    /// No signing key is configured.
    #[error("no bundle-signing key (run `kordon-collector pki init-signing-key`)")]
    NoKey,
    /// Bundle building or signing failed.
    #[error(transparent)]
    Bundle(#[from] bundle::BundleError),
    /// The merged set is too large.
    #[error(
        "set {set:?} would hold {entries} indicators, more than indicators.max_set_indicators = {max}"
    )]
    TooLarge {
        /// Set.
        set: String,
        /// Entries.
        entries: usize,
        /// Bound.
        max: usize,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] super::store::IntelStoreError),
}

/// How a source changes.
pub enum SourceUpdate {
    /// The source's entries are exactly these.
    Replace(Vec<BundleEntry>),
    /// Remove these (kind, value) pairs, then add these entries (replacing same keys).
    Delta {
        /// Removed.
        remove: Vec<(IndicatorKind, IndicatorValue)>,
        /// Added.
        add: Vec<BundleEntry>,
    },
}

struct SetState {
    sources: BTreeMap<String, Vec<BundleEntry>>,
    /// OT policies per source (only sources that gave some), carried in the bundle.
    policies: BTreeMap<String, Vec<OtPolicy>>,
    last: Option<Bundle>,
    tx: watch::Sender<Option<Arc<Published>>>,
}

impl SetState {
    fn new() -> SetState {
        SetState {
            sources: BTreeMap::new(),
            policies: BTreeMap::new(),
            last: None,
            tx: watch::channel(None).0,
        }
    }
}

/// Every set of this collector.
pub struct Sets {
    key: Option<SigningKey>,
    store: Arc<IntelStore>,
    max_entries: usize,
    /// Sources persisted on every change (pushes, TAXII) because they cannot be reloaded.
    sets: Mutex<HashMap<String, SetState>>,
}

impl Sets {
    /// Restores the last published version of every set and the persisted sources.
    pub fn open(
        key: Option<SigningKey>,
        store: Arc<IntelStore>,
        max_entries: usize,
    ) -> Result<Sets, SetError> {
        let mut sets: HashMap<String, SetState> = HashMap::new();
        for v in store.latest_versions()? {
            let body_len = v.bundle.len().saturating_sub(64);
            let decoded = v
                .bundle
                .get(..body_len)
                .ok_or(bundle::BundleError::Truncated("stored bundle"))
                .and_then(bundle::decode_bundle);
            match decoded {
                Ok(b) => {
                    let state = sets.entry(v.set.clone()).or_insert_with(SetState::new);
                    state.tx.send_replace(Some(Arc::new(Published {
                        version: v.version,
                        entries: b.entries().len(),
                        signed: Arc::new(v.bundle),
                        delta: v.delta.map(|(f, d)| (f, Arc::new(d))),
                    })));
                    state.last = Some(b);
                }
                Err(error) => {
                    tracing::warn!(set = %v.set, %error, "stored bundle does not decode; rebuilding");
                }
            }
        }
        for (set, source, body) in store.sources()? {
            match bundle::decode_bundle(&body) {
                Ok(b) => {
                    let state = sets.entry(set).or_insert_with(SetState::new);
                    if !b.ot_policies().is_empty() {
                        state
                            .policies
                            .insert(source.clone(), b.ot_policies().to_vec());
                    }
                    state.sources.insert(source, b.entries().to_vec());
                }
                Err(error) => {
                    tracing::warn!(%set, %source, %error, "stored source does not decode")
                }
            }
        }
        Ok(Sets {
            key,
            store,
            max_entries,
            sets: Mutex::new(sets),
        })
    }

    /// The store.
    pub fn store(&self) -> &Arc<IntelStore> {
        &self.store
    }

    /// Whether a signing key is loaded.
    pub fn can_sign(&self) -> bool {
        self.key.is_some()
    }

    /// A receiver of the set's published versions (the set is created empty if unknown).
    pub fn subscribe(&self, set: &str) -> watch::Receiver<Option<Arc<Published>>> {
        let mut sets = self.sets.lock().unwrap_or_else(|p| p.into_inner());
        sets.entry(set.to_owned())
            .or_insert_with(SetState::new)
            .tx
            .subscribe()
    }

    /// Applies a source update, rebuilds the set, and publishes a new version if the content
    /// changed. `persist` saves the source's entries (for sources that cannot be reloaded).
    /// Returns the set's version afterwards and the source's entry count.
    pub fn update(
        &self,
        set: &str,
        source: &str,
        update: SourceUpdate,
        persist: bool,
    ) -> Result<(u64, usize), SetError> {
        self.update_with_policies(set, source, update, None, persist)
    }

    /// Like [`Sets::update`], also replacing the source's OT policies when `policies` is
    /// `Some` (`None` keeps them). The set's policies are those of all its sources.
    pub fn update_with_policies(
        &self,
        set: &str,
        source: &str,
        update: SourceUpdate,
        policies: Option<Vec<OtPolicy>>,
        persist: bool,
    ) -> Result<(u64, usize), SetError> {
        let key = self.key.as_ref().ok_or(SetError::NoKey)?;
        let mut sets = self.sets.lock().unwrap_or_else(|p| p.into_inner());
        let state = sets.entry(set.to_owned()).or_insert_with(SetState::new);
        let previous = state.sources.get(source).cloned().unwrap_or_default();
        let entries = match update {
            SourceUpdate::Replace(entries) => entries,
            SourceUpdate::Delta { remove, add } => {
                let remove: HashSet<(IndicatorKind, IndicatorValue)> = remove.into_iter().collect();
                let added: HashSet<(IndicatorKind, IndicatorValue)> =
                    add.iter().map(|e| (e.kind, e.value.clone())).collect();
                let mut kept: Vec<BundleEntry> = add;
                kept.extend(
                    previous
                        .iter()
                        .filter(|e| {
                            let k = (e.kind, e.value.clone());
                            !remove.contains(&k) && !added.contains(&k)
                        })
                        .cloned(),
                );
                kept
            }
        };
        let source_count = entries.len();
        let mut merged: Vec<BundleEntry> = Vec::new();
        for (name, list) in &state.sources {
            if name != source {
                merged.extend(list.iter().cloned());
            }
        }
        merged.extend(entries.iter().cloned());
        let source_policies = match policies {
            Some(p) => p,
            None => state.policies.get(source).cloned().unwrap_or_default(),
        };
        let mut merged_policies: Vec<OtPolicy> = Vec::new();
        for (name, list) in &state.policies {
            if name != source {
                merged_policies.extend(list.iter().cloned());
            }
        }
        merged_policies.extend(source_policies.iter().cloned());
        if merged.len() > self.max_entries {
            return Err(SetError::TooLarge {
                set: set.to_owned(),
                entries: merged.len(),
                max: self.max_entries,
            });
        }
        let version = state.last.as_ref().map_or(0, Bundle::version) + 1;
        let new = Bundle::from_parts(set, version, merged, merged_policies)?;
        if persist {
            let body = Bundle::from_parts(set, 1, entries.clone(), source_policies.clone())?
                .canonical_bytes()?;
            self.store.put_source(set, source, &body)?;
        }
        if state
            .last
            .as_ref()
            .is_some_and(|l| l.content_hash() == new.content_hash())
        {
            state.sources.insert(source.to_owned(), entries);
            set_policies(state, source, source_policies);
            return Ok((version - 1, source_count));
        }
        let signed = new.sign(key)?;
        let delta = match &state.last {
            Some(last) => Some((last.version(), last.delta_to(&new)?.sign(key)?)),
            None => None,
        };
        let stored = StoredVersion {
            set: set.to_owned(),
            version,
            bundle: signed,
            delta,
        };
        self.store.put_version(&stored, new.entries().len())?;
        state.sources.insert(source.to_owned(), entries);
        set_policies(state, source, source_policies);
        let published = Published {
            version,
            entries: new.entries().len(),
            signed: Arc::new(stored.bundle),
            delta: stored.delta.map(|(f, d)| (f, Arc::new(d))),
        };
        tracing::info!(
            set,
            version,
            entries = published.entries,
            bytes = published.signed.len(),
            source,
            "indicator set published"
        );
        state.last = Some(new);
        state.tx.send_replace(Some(Arc::new(published)));
        Ok((version, source_count))
    }
}

fn set_policies(state: &mut SetState, source: &str, policies: Vec<OtPolicy>) {
    if policies.is_empty() {
        state.policies.remove(source);
    } else {
        state.policies.insert(source.to_owned(), policies);
    }
}

/// The entries of a compiled set (for sources loaded with the intel loaders).
pub fn entries_of(
    set_name: &str,
    set: &kordon_intel::IndicatorSet,
) -> Result<Vec<BundleEntry>, SetError> {
    Ok(Bundle::from_set(set_name, 1, set)?.entries().to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: &str = r#"
name = "plant-a"
[[rule]]
protocol = "modbus"
[[rule.allow]]
hosts = ["10.0.0.5"]
classes = ["write"]
"#;

    /// A policy file feed reaches the signed bundle agents receive, and survives a restart of
    /// the collector (sources are restored from the store).
    #[test]
    fn ot_policies_from_a_source_are_signed_into_the_set_and_restored() {
        let dir = std::env::temp_dir().join(format!("kordon-sets-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("dir");
        let key = bundle::generate_signing_key().expect("key");
        let pinned = key.verifying_key();
        let mut report = kordon_intel::LoadReport::default();
        let policy = kordon_intel::ot::parse_ot_policy(POLICY, "plant-a", &mut report)
            .expect("policy parses");
        let open = || {
            let store = Arc::new(IntelStore::open(&dir.join("intel.sqlite")).expect("store"));
            Sets::open(Some(key.clone()), store, 1000).expect("sets")
        };

        let sets = open();
        let receiver = sets.subscribe("ot");
        let (version, _) = sets
            .update_with_policies(
                "ot",
                "file:policy",
                SourceUpdate::Replace(Vec::new()),
                Some(vec![policy.clone()]),
                true,
            )
            .expect("published");
        assert_eq!(version, 1);
        let published = receiver.borrow().clone().expect("a published version");
        let verified = bundle::verify(&published.signed, &pinned, 0).expect("signed by the key");
        assert_eq!(verified.ot_policies(), std::slice::from_ref(&policy));

        // Another source's update keeps the policy in the set, also after a restart.
        drop(sets);
        let sets = open();
        let receiver = sets.subscribe("ot");
        sets.update_with_policies(
            "ot",
            "push:other",
            SourceUpdate::Replace(Vec::new()),
            Some(Vec::new()),
            true,
        )
        .expect("update");
        let published = receiver.borrow().clone().expect("published");
        let verified = bundle::verify(&published.signed, &pinned, 0).expect("verifies");
        assert_eq!(
            verified.ot_policies().len(),
            1,
            "the file source's policy is kept"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}

//! Indicator sync: the fleet's signed indicator set from the collector, verified, compiled off
//! the packet path and swapped in without losing a packet.
//!
//! ```text
//!  sync thread (own tokio runtime)
//!    WatchIndicators(set, have_version) ──▶ chunks ──▶ reassemble (≤ --max-bundle-bytes)
//!    ──▶ kordon_intel::bundle::verify / verify_delta (pinned Ed25519 key, version > applied)
//!    ──▶ compile merged set (synced entries + local --indicators baseline) on this thread
//!    ──▶ LiveIndicators::publish (arc-swap: workers pick it up at their next batch)
//!    ──▶ persist <bundle-dir>/<set>.bundle (tmp + rename), applied version for heartbeats
//! ```
//!
//! Why these choices:
//! - **Refuse, log, keep running.** A tampered, forged or rolled-back update is refused with
//!   the reason (bad signature, hash mismatch, rollback) and the set that was live stays live;
//!   the stream continues, so the next good version still gets through.
//! - **Merge with the local files.** The synced set and the local `--indicators` files are
//!   merged at compile time (synced entries first, so for the same indicator the fleet's
//!   metadata wins). Local files are the sensor's own baseline (site lists, OT policies); the
//!   fleet set adds to them rather than silently replacing what an operator configured on the
//!   box. OT policies of both sides are kept: the fleet's (carried in the bundle) and the local
//!   `--indicators ot-policy=FILE` ones, each evaluated independently (an identical policy on
//!   both sides is compiled once).
//! - **Persist the last good bundle**, signed bytes as received: at start it is verified again
//!   with the pinned key (a modified file is refused like a tampered update), so a sensor
//!   whose collector is away still starts with the fleet set.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use kordon_intel::bundle::{self, Bundle, BundleError, VerifyingKey};
use kordon_intel::ot::OtPolicy;
use kordon_intel::{Indicator, IndicatorSet, IndicatorSetBuilder};
use kordon_proto::agent_service_client::AgentServiceClient;
use kordon_proto::{UpdateKind, WatchRequest};
use tonic::transport::{Certificate, ClientTlsConfig, Endpoint, Identity};

use crate::indicators::LiveIndicators;
use crate::uplink::TlsFiles;

/// Sync settings (validated by the command line).
#[derive(Clone, Debug)]
pub struct SyncConfig {
    /// Collector URL (as the uplink's).
    pub collector: String,
    /// mTLS files; `None` only with `--insecure-dev`.
    pub tls: Option<TlsFiles>,
    /// Agent id (certificate CN).
    pub agent_id: String,
    /// Set to follow.
    pub set: String,
    /// Pinned bundle-signing public key (PEM).
    pub key_path: PathBuf,
    /// Folder of the last good bundle.
    pub bundle_dir: PathBuf,
    /// Largest bundle or delta accepted, in bytes.
    pub max_bundle_bytes: usize,
    /// Longest pause between reconnects.
    pub reconnect_max: Duration,
    /// At a first start (no persisted bundle), how long to wait for the first set.
    pub first_wait: Duration,
}

/// Why sync cannot start.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    /// The pinned key is unusable.
    #[error("--bundle-key {path}: {source}")]
    Key {
        /// Path.
        path: PathBuf,
        /// Cause.
        source: BundleError,
    },
    /// A file cannot be read or written.
    #[error("{path}: {source}")]
    Io {
        /// Path.
        path: PathBuf,
        /// Cause.
        source: std::io::Error,
    },
    /// Compiling a set failed.
    #[error(transparent)]
    Bundle(#[from] BundleError),
}

/// The local baseline: what the `--indicators` files gave.
#[derive(Debug, Default)]
pub struct LocalBaseline {
    /// The entries, with their dedup categories.
    pub entries: Vec<(Indicator, u8)>,
    /// The OT policies (their violation indicators are among `entries`).
    pub ot_policies: Vec<OtPolicy>,
}

/// The shared local baseline.
pub type Baseline = Arc<LocalBaseline>;

/// The entries and OT policies of the locally loaded set.
pub fn baseline(set: &IndicatorSet) -> Baseline {
    let entries = set
        .iter()
        .map(|r| {
            let id = r.id();
            (
                Indicator {
                    id: matches!(id, std::borrow::Cow::Borrowed(_)).then(|| id.into_owned()),
                    kind: r.kind(),
                    value: r.value(),
                    score: r.score(),
                    meta: r.meta_arc(),
                },
                r.category(),
            )
        })
        .collect();
    Arc::new(LocalBaseline {
        entries,
        ot_policies: set.ot_policies().to_vec(),
    })
}

/// Compiles the synced bundle merged with the local baseline (synced entries win; the OT
/// policies of both are kept, a local policy identical to a synced one only once).
pub fn compile_merged(bundle: &Bundle, local: &LocalBaseline) -> Result<IndicatorSet, BundleError> {
    let mut builder = IndicatorSetBuilder::new();
    for e in bundle.entries() {
        builder.add_in_category(e.to_indicator(), e.category);
    }
    for (indicator, category) in &local.entries {
        builder.add_in_category(indicator.clone(), *category);
    }
    for policy in bundle.ot_policies() {
        builder.add_ot_policy(policy.clone());
    }
    for policy in &local.ot_policies {
        if !bundle.ot_policies().contains(policy) {
            builder.add_ot_policy(policy.clone());
        }
    }
    Ok(builder.build()?)
}

/// The state the sync thread starts from.
pub struct Start {
    /// The pinned key.
    pub key: VerifyingKey,
    /// The persisted bundle, verified, when there is one.
    pub persisted: Option<Bundle>,
}

fn bundle_path(config: &SyncConfig) -> PathBuf {
    config.bundle_dir.join(format!("{}.bundle", config.set))
}

/// Reads the pinned key and the persisted bundle (refused, with a warning, if it does not
/// verify: the agent then starts from its local files).
pub fn prepare(config: &SyncConfig) -> Result<Start, SyncError> {
    let key = bundle::load_verifying_key(&config.key_path).map_err(|source| SyncError::Key {
        path: config.key_path.clone(),
        source,
    })?;
    std::fs::create_dir_all(&config.bundle_dir).map_err(|source| SyncError::Io {
        path: config.bundle_dir.clone(),
        source,
    })?;
    let path = bundle_path(config);
    let persisted = match std::fs::read(&path) {
        Ok(bytes) => match bundle::verify(&bytes, &key, 0) {
            Ok(b) if b.name() == config.set => {
                let mut current = b.into_inner();
                for delta in delta_files(&path) {
                    let applied = std::fs::read(&delta)
                        .map_err(|e| BundleError::Malformed(e.to_string()))
                        .and_then(|bytes| bundle::verify_delta(&bytes, &key, &current));
                    match applied {
                        Ok(next) => current = next.into_inner(),
                        Err(error) => {
                            tracing::warn!(path = %delta.display(), %error, "persisted delta refused; stopping there");
                            break;
                        }
                    }
                }
                tracing::info!(set = %config.set, version = current.version(), entries = current.entries().len(), "indicator sync: starting from the persisted bundle");
                Some(current)
            }
            Ok(b) => {
                tracing::warn!(path = %path.display(), set = b.name(), "persisted bundle is for another set; ignored");
                None
            }
            Err(error) => {
                tracing::warn!(path = %path.display(), %error, "persisted bundle refused; starting from local files");
                None
            }
        },
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
        Err(source) => return Err(SyncError::Io { path, source }),
    };
    Ok(Start { key, persisted })
}

/// The applier: everything after a complete update was received. Separate from the network
/// so tests drive it with crafted bytes.
pub struct Applier {
    key: VerifyingKey,
    local: Baseline,
    live: LiveIndicators,
    current: Option<Bundle>,
    version: Arc<AtomicU64>,
    persist_to: Option<PathBuf>,
}

/// What an update did.
#[derive(Debug)]
pub struct Applied {
    /// New version.
    pub version: u64,
    /// Entries in the synced bundle.
    pub entries: usize,
    /// Verify time.
    pub verify: Duration,
    /// Compile time.
    pub compile: Duration,
    /// Time to publish the compiled set (the swap itself, what workers could ever wait on).
    pub swap: Duration,
    /// When the new set went live (before persisting), so callers can time receive → live.
    pub live_at: Instant,
    /// Time to persist the update (after it went live).
    pub persist: Duration,
}

impl Applier {
    /// An applier publishing into `live`, starting from `current` (the persisted bundle).
    pub fn new(
        key: VerifyingKey,
        local: Baseline,
        live: LiveIndicators,
        current: Option<Bundle>,
        version: Arc<AtomicU64>,
        persist_to: Option<PathBuf>,
    ) -> Applier {
        version.store(
            current.as_ref().map_or(0, Bundle::version),
            Ordering::Relaxed,
        );
        Applier {
            key,
            local,
            live,
            current,
            version,
            persist_to,
        }
    }

    /// The applied version (0 = none).
    pub fn version(&self) -> u64 {
        self.current.as_ref().map_or(0, Bundle::version)
    }

    /// Verifies, compiles, swaps and persists one complete update. On error nothing changes.
    pub fn apply(&mut self, kind: UpdateKind, bytes: &[u8]) -> Result<Applied, BundleError> {
        let started = Instant::now();
        let verified = match kind {
            UpdateKind::Delta => {
                let base = self.current.as_ref().ok_or_else(|| {
                    BundleError::DeltaMismatch("a delta arrived but no bundle is applied".into())
                })?;
                bundle::verify_delta(bytes, &self.key, base)?
            }
            _ => bundle::verify(bytes, &self.key, self.version())?,
        };
        let verify = started.elapsed();
        let started = Instant::now();
        let set = compile_merged(&verified, &self.local)?;
        let compile = started.elapsed();
        let bundle = verified.into_inner();
        let started = Instant::now();
        self.live.publish(set);
        let applied = Applied {
            version: bundle.version(),
            entries: bundle.entries().len(),
            verify,
            compile,
            swap: started.elapsed(),
            live_at: Instant::now(),
            persist: Duration::ZERO,
        };
        self.version.store(bundle.version(), Ordering::Relaxed);
        let started = Instant::now();
        if let Some(path) = &self.persist_to
            && let Err(error) = persist(path, kind, bundle.version(), bytes)
        {
            tracing::warn!(path = %path.display(), %error, "cannot persist the indicator update");
        }
        self.current = Some(bundle);
        Ok(Applied {
            persist: started.elapsed(),
            ..applied
        })
    }
}

/// Delta files of a bundle path: `<set>.bundle.delta-<to version, 20 digits>`, sorted.
fn delta_files(path: &Path) -> Vec<PathBuf> {
    let Some(dir) = path.parent() else {
        return Vec::new();
    };
    let prefix = format!(
        "{}.delta-",
        path.file_name().unwrap_or_default().to_string_lossy()
    );
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.path())
                .filter(|p| {
                    p.file_name().is_some_and(|n| {
                        let n = n.to_string_lossy();
                        n.starts_with(&prefix) && !n.ends_with(".tmp")
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

/// Persists an applied update: a snapshot replaces `<set>.bundle` and drops the deltas; a
/// delta is kept beside it, so a restart replays snapshot + deltas, each verified again with
/// the pinned key (the agent cannot re-sign the merged result, and must not trust unsigned
/// bytes on its own disk).
fn persist(path: &Path, kind: UpdateKind, version: u64, bytes: &[u8]) -> std::io::Result<()> {
    let target = match kind {
        UpdateKind::Delta => path.with_file_name(format!(
            "{}.delta-{version:020}",
            path.file_name().unwrap_or_default().to_string_lossy()
        )),
        _ => path.to_owned(),
    };
    let tmp = target.with_file_name(format!(
        "{}.tmp",
        target.file_name().unwrap_or_default().to_string_lossy()
    ));
    std::fs::write(&tmp, bytes)?;
    std::fs::File::open(&tmp)?.sync_all()?;
    std::fs::rename(&tmp, &target)?;
    if kind != UpdateKind::Delta {
        for delta in delta_files(path) {
            let _ = std::fs::remove_file(delta);
        }
    }
    Ok(())
}

/// Starts the sync thread. It runs until the process exits (it holds no state that needs a
/// clean shutdown: the persisted bundle is written atomically).
pub fn start(
    config: SyncConfig,
    applier: Applier,
) -> Result<std::thread::JoinHandle<()>, SyncError> {
    let read = |path: &PathBuf| {
        std::fs::read(path).map_err(|source| SyncError::Io {
            path: path.clone(),
            source,
        })
    };
    let tls = match &config.tls {
        Some(f) => Some((read(&f.cert)?, read(&f.key)?, read(&f.ca)?)),
        None => None,
    };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|source| SyncError::Io {
            path: "sync runtime".into(),
            source,
        })?;
    std::thread::Builder::new()
        .name("indicator-sync".into())
        .spawn(move || runtime.block_on(run(config, tls, applier)))
        .map_err(|source| SyncError::Io {
            path: "sync thread".into(),
            source,
        })
}

type Pem = (Vec<u8>, Vec<u8>, Vec<u8>);

async fn run(config: SyncConfig, tls: Option<Pem>, mut applier: Applier) {
    let mut backoff = Duration::from_millis(200);
    let mut failures = 0u32;
    loop {
        match session(&config, tls.as_ref(), &mut applier).await {
            Ok(()) => {
                backoff = Duration::from_millis(200);
                failures = 0;
            }
            Err(error) => {
                failures += 1;
                if failures == 1 || failures.is_power_of_two() {
                    tracing::warn!(collector = %config.collector, %error, failures, version = applier.version(), "indicator sync: collector unavailable; the current set stays live");
                }
            }
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(config.reconnect_max);
    }
}

async fn session(
    config: &SyncConfig,
    tls: Option<&Pem>,
    applier: &mut Applier,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let mut endpoint = Endpoint::from_shared(config.collector.clone())?
        .connect_timeout(Duration::from_secs(10))
        .http2_keep_alive_interval(Duration::from_secs(30))
        .keep_alive_timeout(Duration::from_secs(20));
    if let Some((cert, key, ca)) = tls {
        endpoint = endpoint.tls_config(
            ClientTlsConfig::new()
                .ca_certificate(Certificate::from_pem(ca))
                .identity(Identity::from_pem(cert, key)),
        )?;
    }
    let channel = endpoint.connect().await?;
    // Bundles span many 1 MiB chunks; each message stays small.
    let mut client = AgentServiceClient::new(channel).max_decoding_message_size(4 << 20);
    let mut stream = client
        .watch_indicators(WatchRequest {
            agent_id: config.agent_id.clone(),
            set: config.set.clone(),
            have_version: applier.version(),
        })
        .await?
        .into_inner();
    tracing::info!(set = %config.set, have = applier.version(), "indicator sync: watching");
    let mut buffer: Vec<u8> = Vec::new();
    let mut pending: Option<(u64, UpdateKind, u64)> = None;
    // When the first chunk of the pending update arrived: the log reports transfer time
    // apart from verify + compile + swap, so the swap bar is measured on the right span.
    let mut first_chunk = Instant::now();
    while let Some(update) = stream.message().await? {
        let kind = UpdateKind::try_from(update.kind).unwrap_or(UpdateKind::Unspecified);
        if update.total_bytes > config.max_bundle_bytes as u64 {
            return Err(format!(
                "update of {} bytes is larger than --max-bundle-bytes {}",
                update.total_bytes, config.max_bundle_bytes
            )
            .into());
        }
        let key = (update.version, kind, update.total_bytes);
        if update.offset == 0 {
            first_chunk = Instant::now();
            buffer.clear();
            buffer.reserve_exact(update.total_bytes as usize);
            pending = Some(key);
        } else if pending != Some(key) || buffer.len() as u64 != update.offset {
            return Err("indicator update chunks out of order".into());
        }
        if buffer.len() + update.data.len() > update.total_bytes as usize {
            return Err("indicator update longer than announced".into());
        }
        buffer.extend_from_slice(&update.data);
        if !update.last {
            continue;
        }
        pending = None;
        if buffer.len() as u64 != update.total_bytes {
            return Err("indicator update shorter than announced".into());
        }
        let have = applier.version();
        let received = Instant::now();
        let receive_ms = received.duration_since(first_chunk).as_millis() as u64;
        // Verification and compilation of a large set take a while: off the runtime thread's
        // async duties is not needed (this runtime only serves the sync), and never on a
        // packet-path thread.
        match applier.apply(kind, &buffer) {
            Ok(a) => tracing::info!(
                set = %config.set,
                version = a.version,
                from = have,
                entries = a.entries,
                verify_ms = a.verify.as_millis() as u64,
                compile_ms = a.compile.as_millis() as u64,
                swap_us = a.swap.as_micros() as u64,
                receive_ms,
                // Update received (last chunk) → new set live: verify + compile + swap.
                applied_ms = a.live_at.duration_since(received).as_millis() as u64,
                persist_ms = a.persist.as_millis() as u64,
                bytes = buffer.len(),
                ?kind,
                "indicator sync: applied"
            ),
            Err(error) => {
                tracing::warn!(set = %config.set, offered = update.version, have, %error, ?kind, "indicator sync: update REFUSED; the current set stays live");
                if matches!(error, BundleError::DeltaMismatch(_)) {
                    // Out of step with the collector: reconnect and get a snapshot.
                    return Err(error.into());
                }
            }
        }
        buffer = Vec::new();
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use kordon_intel::bundle::{BundleEntry, generate_signing_key};
    use kordon_intel::{IndicatorKind, IndicatorMeta, IndicatorValue};

    fn entry(ip: [u8; 4]) -> BundleEntry {
        BundleEntry {
            kind: IndicatorKind::Ipv4,
            category: 0,
            value: IndicatorValue::Ip(std::net::IpAddr::from(ip)),
            score: None,
            id: None,
            meta: Arc::new(IndicatorMeta::default()),
        }
    }

    fn matches(live: &LiveIndicators, ip: [u8; 4]) -> bool {
        let mut out = Vec::new();
        live.load()
            .set
            .match_ip(std::net::IpAddr::from(ip), 0, &mut out);
        !out.is_empty()
    }

    #[test]
    fn tampered_forged_and_rolled_back_updates_are_refused_and_the_old_set_stays_live() {
        let key = generate_signing_key().expect("key");
        let other = generate_signing_key().expect("key");
        let dir = std::env::temp_dir().join(format!("kordon-sync-test-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("dir");
        let live = LiveIndicators::new(IndicatorSet::empty());
        let version = Arc::new(AtomicU64::new(0));
        let mut applier = Applier::new(
            key.verifying_key(),
            Arc::new(LocalBaseline::default()),
            live.clone(),
            None,
            Arc::clone(&version),
            Some(dir.join("s.bundle")),
        );
        let v1 = Bundle::from_entries("s", 1, vec![entry([203, 0, 113, 1])]).expect("v1");
        let v2 = Bundle::from_entries("s", 2, vec![entry([198, 51, 100, 7])]).expect("v2");
        applier
            .apply(UpdateKind::Snapshot, &v1.sign(&key).expect("sign"))
            .expect("v1 applies");
        let delta = v1.delta_to(&v2).expect("delta").sign(&key).expect("sign");
        applier
            .apply(UpdateKind::Delta, &delta)
            .expect("v2 applies");
        assert_eq!(version.load(Ordering::Relaxed), 2);
        assert!(matches(&live, [198, 51, 100, 7]));
        let generation = live.load().generation;

        // Rollback: a validly signed older version.
        let err = applier
            .apply(UpdateKind::Snapshot, &v1.sign(&key).expect("sign"))
            .expect_err("rollback refused");
        assert!(matches!(err, BundleError::Rollback { .. }), "{err}");
        // Tampered: one byte of a newer bundle flipped.
        let v3 = Bundle::from_entries("s", 3, vec![entry([192, 0, 2, 9])]).expect("v3");
        let mut tampered = v3.sign(&key).expect("sign");
        tampered[20] ^= 1;
        let err = applier
            .apply(UpdateKind::Snapshot, &tampered)
            .expect_err("tamper refused");
        assert!(matches!(err, BundleError::BadSignature), "{err}");
        // Forged: signed by another key.
        let err = applier
            .apply(UpdateKind::Snapshot, &v3.sign(&other).expect("sign"))
            .expect_err("forgery refused");
        assert!(matches!(err, BundleError::BadSignature), "{err}");
        // The old set is still live, unchanged.
        assert_eq!(live.load().generation, generation);
        assert_eq!(version.load(Ordering::Relaxed), 2);
        assert!(matches(&live, [198, 51, 100, 7]));

        // Restart: snapshot + delta on disk replay to version 2.
        let config = SyncConfig {
            collector: String::new(),
            tls: None,
            agent_id: "a".into(),
            set: "s".into(),
            key_path: dir.join("k.pub"),
            bundle_dir: dir.clone(),
            max_bundle_bytes: 1 << 20,
            reconnect_max: Duration::from_secs(1),
            first_wait: Duration::ZERO,
        };
        std::fs::write(
            &config.key_path,
            bundle::verifying_key_pem(&key.verifying_key()).expect("pem"),
        )
        .expect("write key");
        let start = prepare(&config).expect("prepare");
        assert_eq!(start.persisted.map(|b| b.version()), Some(2));
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn a_synced_set_keeps_the_local_and_the_fleet_ot_policies() {
        use kordon_intel::formats::LoadOptions;
        use kordon_intel::ot::{OtAccess, OtClass, OtProtocol, load_ot_policy};
        let load = |toml: &str| {
            let mut builder = IndicatorSetBuilder::new();
            let mut opts = LoadOptions::new(Arc::new(IndicatorMeta::default()));
            opts.now = 0;
            load_ot_policy(toml.as_bytes(), &opts, &mut builder).expect("policy loads");
            builder.build().expect("builds")
        };
        let local_set = load(
            "name = \"site\"\n[[rule]]\nprotocol = \"modbus\"\n[[rule.allow]]\n\
             hosts = [\"10.0.0.5\"]\nclasses = [\"write\"]\n",
        );
        let fleet_set =
            load("name = \"fleet\"\n[[rule]]\nprotocol = \"s7comm\"\nmonitor = [\"stop\"]\n");
        let local = baseline(&local_set);
        assert_eq!(local.ot_policies.len(), 1);
        let key = generate_signing_key().expect("key");
        let mut fleet = Bundle::from_set("s", 1, &fleet_set).expect("bundle");
        let signed = fleet.sign(&key).expect("sign");
        fleet = bundle::verify(&signed, &key.verifying_key(), 0)
            .expect("verifies")
            .into_inner();
        let merged = compile_merged(&fleet, &local).expect("merges");
        assert_eq!(merged.ot_policies().len(), 2);
        let violated = |protocol, class, requester: [u8; 4]| {
            let mut out = Vec::new();
            merged.match_ot(
                &OtAccess {
                    protocol,
                    class: Some(class),
                    requester: std::net::IpAddr::from(requester),
                    responder: std::net::IpAddr::from([10, 0, 2, 1]),
                    address: Some(1),
                },
                0,
                &mut out,
            );
            !out.is_empty()
        };
        // Local policy: only 10.0.0.5 may write.
        assert!(!violated(OtProtocol::Modbus, OtClass::Write, [10, 0, 0, 5]));
        assert!(violated(OtProtocol::Modbus, OtClass::Write, [10, 0, 0, 6]));
        // Fleet policy: nobody may stop an S7 PLC.
        assert!(violated(OtProtocol::S7comm, OtClass::Stop, [10, 0, 0, 5]));
        // The same policy locally and in the fleet set is compiled once.
        let both = Bundle::from_set("s", 2, &local_set).expect("bundle");
        let merged = compile_merged(&both, &local).expect("merges");
        assert_eq!(merged.ot_policies().len(), 1);
    }
}

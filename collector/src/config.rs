//! `collector.toml`: every field documented with its unit and default, unknown fields refused.
//!
//! Relative paths are resolved against `state_dir`, so a whole collector (store, PKI) lives in
//! one folder that can be backed up or moved.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// A configuration value that fails validation.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("invalid {param}: {reason}")]
pub struct InvalidParameter {
    /// The field, dotted (`limits.max_message_bytes`).
    pub param: &'static str,
    /// What is wrong, and what is allowed.
    pub reason: String,
}

/// Why a configuration file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file cannot be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// Path.
        path: String,
        /// Cause.
        source: std::io::Error,
    },
    /// The file is not valid TOML for this schema (syntax, unknown field, wrong type).
    #[error("{path}: {source}")]
    Parse {
        /// Path.
        path: String,
        /// Cause, with line and column.
        source: Box<toml::de::Error>,
    },
    /// A value is out of range.
    #[error(transparent)]
    Invalid(#[from] InvalidParameter),
}

/// The collector's configuration.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Config {
    /// gRPC listen address (agents and SOC clients). Defaults to `127.0.0.1:50051`.
    #[serde(default = "default_listen")]
    pub listen: String,
    /// Folder for the store, the PKI and `listen.addr` (the bound address, written at start).
    /// Defaults to `/var/lib/kordon-collector`.
    #[serde(default = "default_state_dir")]
    pub state_dir: PathBuf,
    /// Alert store.
    #[serde(default)]
    pub store: StoreConfig,
    /// TLS and client authentication.
    #[serde(default)]
    pub tls: TlsConfig,
    /// How long alerts are kept.
    #[serde(default)]
    pub retention: RetentionConfig,
    /// Message sizes, stream counts and queues.
    #[serde(default)]
    pub limits: LimitsConfig,
    /// SOC client authentication.
    #[serde(default)]
    pub soc: SocConfig,
    /// Fleet registry.
    #[serde(default)]
    pub fleet: FleetConfig,
    /// Indicator sets: signing key and limits.
    #[serde(default)]
    pub indicators: crate::feeds::config::IndicatorsConfig,
    /// Feeds the collector loads or polls into named sets. Defaults to none.
    #[serde(default)]
    pub feeds: Vec<crate::feeds::config::FeedConfig>,
    /// Feeds that push (`FeedService`).
    #[serde(default)]
    pub push: crate::feeds::config::PushConfig,
}

/// Which store, where.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StoreConfig {
    /// Store kind: `sqlite` (embedded, the default). PostgreSQL is planned behind the same trait.
    #[serde(rename = "type", default)]
    pub kind: StoreKind,
    /// SQLite database file, relative to `state_dir`. Defaults to `alerts.sqlite`.
    #[serde(default = "default_store_path")]
    pub path: PathBuf,
    /// SQLite `synchronous` mode: `full` (every commit is fsynced before it is acknowledged:
    /// survives power loss) or `normal` (survives a collector crash, may lose the last commits
    /// on power loss). Defaults to `full`.
    #[serde(default)]
    pub synchronous: Synchronous,
    /// How long a store operation waits for a lock held by another process (e.g. the
    /// `alerts` command), in milliseconds, 0–600000. Defaults to 10000.
    #[serde(default = "default_busy_timeout_ms")]
    pub busy_timeout_ms: u64,
    /// Agent batches committed together in one transaction at most (group commit), 1–4096.
    /// Defaults to 64.
    #[serde(default = "default_max_batches_per_commit")]
    pub max_batches_per_commit: usize,
}

/// Store kinds.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum StoreKind {
    /// Embedded SQLite (WAL mode).
    #[default]
    Sqlite,
}

/// SQLite durability modes.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Synchronous {
    /// fsync on every commit.
    #[default]
    Full,
    /// fsync at WAL checkpoints only.
    Normal,
}

/// TLS files (PEM) and client-certificate policy.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    /// Server certificate chain, relative to `state_dir`. Defaults to `pki/collector.crt`
    /// (written by `kordon-collector pki init --dir <state_dir>/pki`).
    #[serde(default = "default_cert")]
    pub cert: PathBuf,
    /// Server private key. Defaults to `pki/collector.key`.
    #[serde(default = "default_key")]
    pub key: PathBuf,
    /// CA whose certificates agents and SOC clients must present. Defaults to `pki/ca.crt`.
    #[serde(default = "default_ca")]
    pub client_ca: PathBuf,
    /// Refuse TLS connections without a client certificate. Set to `false` only when SOC
    /// clients authenticate with tokens; agents still need a certificate (they are refused with
    /// UNAUTHENTICATED otherwise). Defaults to `true`.
    #[serde(default = "default_true")]
    pub require_client_cert: bool,
}

/// Retention of stored alerts; the oldest are deleted first.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetentionConfig {
    /// Delete alerts stored longer ago than this, in seconds; 0 = keep forever. Defaults to
    /// 2592000 (30 days).
    #[serde(default = "default_max_age_secs")]
    pub max_age_secs: u64,
    /// Keep the store's live data under this many bytes (the file itself does not shrink; freed
    /// pages are reused); 0 = unbounded. Defaults to 10737418240 (10 GiB).
    #[serde(default = "default_max_bytes")]
    pub max_bytes: u64,
    /// How often retention runs, in seconds, 1–86400. Defaults to 60.
    #[serde(default = "default_retention_interval_secs")]
    pub interval_secs: u64,
}

/// Limits on what clients may send and open.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LimitsConfig {
    /// Largest gRPC message accepted, in bytes, 64 KiB–64 MiB; larger ones are refused with
    /// RESOURCE_EXHAUSTED. Defaults to 4194304 (4 MiB).
    #[serde(default = "default_max_message_bytes")]
    pub max_message_bytes: usize,
    /// Records per agent batch, 1–100000; larger batches are refused with INVALID_ARGUMENT.
    /// Defaults to 10000.
    #[serde(default = "default_max_records_per_batch")]
    pub max_records_per_batch: usize,
    /// Concurrent agent `Report` streams, 1–100000; more are refused with RESOURCE_EXHAUSTED.
    /// Defaults to 4096.
    #[serde(default = "default_max_agent_streams")]
    pub max_agent_streams: usize,
    /// Concurrent SOC `SubscribeAlerts` streams, 1–10000. Defaults to 256.
    #[serde(default = "default_max_subscribers")]
    pub max_subscribers: usize,
    /// HTTP/2 streams per connection, 1–1024. Defaults to 16.
    #[serde(default = "default_max_streams_per_connection")]
    pub max_streams_per_connection: u32,
    /// Agent batches waiting for the store writer, 1–65536; a full queue slows the senders
    /// down (HTTP/2 flow control), nothing is dropped. Defaults to 256.
    #[serde(default = "default_ingest_queue_batches")]
    pub ingest_queue_batches: usize,
}

/// SOC clients: a client certificate with OU `kordon-soc`, or one of these bearer tokens.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SocConfig {
    /// Accepted tokens, stored as SHA-256 hashes (`kordon-collector token NAME` makes one).
    /// Defaults to none.
    #[serde(default)]
    pub tokens: Vec<TokenConfig>,
}

/// One SOC token.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TokenConfig {
    /// Who holds it (logged on use).
    pub name: String,
    /// Lower-case hex SHA-256 of the token.
    pub sha256: String,
}

/// Fleet registry settings.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FleetConfig {
    /// An agent not heard from for this many seconds is flagged stale, 1–86400. Defaults to 120.
    #[serde(default = "default_stale_after_secs")]
    pub stale_after_secs: u64,
}

fn default_listen() -> String {
    "127.0.0.1:50051".into()
}
fn default_state_dir() -> PathBuf {
    PathBuf::from("/var/lib/kordon-collector")
}
fn default_store_path() -> PathBuf {
    PathBuf::from("alerts.sqlite")
}
fn default_busy_timeout_ms() -> u64 {
    10_000
}
fn default_max_batches_per_commit() -> usize {
    64
}
fn default_cert() -> PathBuf {
    PathBuf::from("pki/collector.crt")
}
fn default_key() -> PathBuf {
    PathBuf::from("pki/collector.key")
}
fn default_ca() -> PathBuf {
    PathBuf::from("pki/ca.crt")
}
fn default_true() -> bool {
    true
}
fn default_max_age_secs() -> u64 {
    30 * 86_400
}
fn default_max_bytes() -> u64 {
    10 << 30
}
fn default_retention_interval_secs() -> u64 {
    60
}
fn default_max_message_bytes() -> usize {
    4 << 20
}
fn default_max_records_per_batch() -> usize {
    10_000
}
fn default_max_agent_streams() -> usize {
    4096
}
fn default_max_subscribers() -> usize {
    256
}
fn default_max_streams_per_connection() -> u32 {
    16
}
fn default_ingest_queue_batches() -> usize {
    256
}
fn default_stale_after_secs() -> u64 {
    120
}

impl Default for StoreConfig {
    fn default() -> Self {
        StoreConfig {
            kind: StoreKind::default(),
            path: default_store_path(),
            synchronous: Synchronous::default(),
            busy_timeout_ms: default_busy_timeout_ms(),
            max_batches_per_commit: default_max_batches_per_commit(),
        }
    }
}

impl Default for TlsConfig {
    fn default() -> Self {
        TlsConfig {
            cert: default_cert(),
            key: default_key(),
            client_ca: default_ca(),
            require_client_cert: true,
        }
    }
}

impl Default for RetentionConfig {
    fn default() -> Self {
        RetentionConfig {
            max_age_secs: default_max_age_secs(),
            max_bytes: default_max_bytes(),
            interval_secs: default_retention_interval_secs(),
        }
    }
}

impl Default for LimitsConfig {
    fn default() -> Self {
        LimitsConfig {
            max_message_bytes: default_max_message_bytes(),
            max_records_per_batch: default_max_records_per_batch(),
            max_agent_streams: default_max_agent_streams(),
            max_subscribers: default_max_subscribers(),
            max_streams_per_connection: default_max_streams_per_connection(),
            ingest_queue_batches: default_ingest_queue_batches(),
        }
    }
}

impl Default for FleetConfig {
    fn default() -> Self {
        FleetConfig {
            stale_after_secs: default_stale_after_secs(),
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            listen: default_listen(),
            state_dir: default_state_dir(),
            store: StoreConfig::default(),
            tls: TlsConfig::default(),
            retention: RetentionConfig::default(),
            limits: LimitsConfig::default(),
            soc: SocConfig::default(),
            fleet: FleetConfig::default(),
            indicators: Default::default(),
            feeds: Vec::new(),
            push: Default::default(),
        }
    }
}

fn invalid(param: &'static str, reason: impl Into<String>) -> InvalidParameter {
    InvalidParameter {
        param,
        reason: reason.into(),
    }
}

fn in_range<T: PartialOrd + std::fmt::Display>(
    param: &'static str,
    value: T,
    min: T,
    max: T,
) -> Result<(), InvalidParameter> {
    if value < min || value > max {
        Err(invalid(param, format!("{value} is outside {min}–{max}")))
    } else {
        Ok(())
    }
}

impl Config {
    /// Reads, parses and validates a file.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.display().to_string(),
            source,
        })?;
        let config = Config::parse(&text).map_err(|error| match error {
            ConfigError::Parse { source, .. } => ConfigError::Parse {
                path: path.display().to_string(),
                source,
            },
            other => other,
        })?;
        Ok(config)
    }

    /// Parses and validates TOML text.
    pub fn parse(text: &str) -> Result<Config, ConfigError> {
        let config: Config = toml::from_str(text).map_err(|source| ConfigError::Parse {
            path: "<config>".into(),
            source: Box::new(source),
        })?;
        config.validate()?;
        Ok(config)
    }

    /// Checks every value against its documented range.
    pub fn validate(&self) -> Result<(), InvalidParameter> {
        self.listen_addr()?;
        if self.state_dir.as_os_str().is_empty() {
            return Err(invalid("state_dir", "must not be empty"));
        }
        if self.store.path.as_os_str().is_empty() {
            return Err(invalid("store.path", "must not be empty"));
        }
        in_range(
            "store.busy_timeout_ms",
            self.store.busy_timeout_ms,
            0,
            600_000,
        )?;
        in_range(
            "store.max_batches_per_commit",
            self.store.max_batches_per_commit,
            1,
            4096,
        )?;
        in_range(
            "retention.interval_secs",
            self.retention.interval_secs,
            1,
            86_400,
        )?;
        let l = &self.limits;
        in_range(
            "limits.max_message_bytes",
            l.max_message_bytes,
            64 << 10,
            64 << 20,
        )?;
        in_range(
            "limits.max_records_per_batch",
            l.max_records_per_batch,
            1,
            100_000,
        )?;
        in_range("limits.max_agent_streams", l.max_agent_streams, 1, 100_000)?;
        in_range("limits.max_subscribers", l.max_subscribers, 1, 10_000)?;
        in_range(
            "limits.max_streams_per_connection",
            l.max_streams_per_connection,
            1,
            1024,
        )?;
        in_range(
            "limits.ingest_queue_batches",
            l.ingest_queue_batches,
            1,
            65_536,
        )?;
        in_range(
            "fleet.stale_after_secs",
            self.fleet.stale_after_secs,
            1,
            86_400,
        )?;
        crate::feeds::config::validate(&self.indicators, &self.feeds, &self.push)?;
        for token in &self.soc.tokens {
            if token.name.trim().is_empty() {
                return Err(invalid("soc.tokens.name", "must not be empty"));
            }
            let hex_ok = token.sha256.len() == 64
                && token
                    .sha256
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
            if !hex_ok {
                return Err(invalid(
                    "soc.tokens.sha256",
                    format!("token {:?}: not 64 lower-case hex digits", token.name),
                ));
            }
        }
        Ok(())
    }

    /// The parsed listen address.
    pub fn listen_addr(&self) -> Result<SocketAddr, InvalidParameter> {
        self.listen
            .parse()
            .map_err(|e| invalid("listen", format!("{:?}: {e} (want IP:PORT)", self.listen)))
    }

    /// `path` resolved against `state_dir` when relative.
    pub fn resolve(&self, path: &Path) -> PathBuf {
        if path.is_absolute() {
            path.to_path_buf()
        } else {
            self.state_dir.join(path)
        }
    }

    /// The SQLite file.
    pub fn store_path(&self) -> PathBuf {
        self.resolve(&self.store.path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_file_gives_defaults() {
        let config = Config::parse("").expect("valid");
        assert_eq!(config.listen, "127.0.0.1:50051");
        assert!(config.tls.require_client_cert);
        assert_eq!(config.store.kind, StoreKind::Sqlite);
    }

    #[test]
    fn unknown_fields_and_bad_values_are_refused() {
        assert!(matches!(
            Config::parse("listn = \"x\""),
            Err(ConfigError::Parse { .. })
        ));
        assert!(matches!(
            Config::parse("[limits]\nmax_message_bytes = 10"),
            Err(ConfigError::Invalid(InvalidParameter {
                param: "limits.max_message_bytes",
                ..
            }))
        ));
        assert!(matches!(
            Config::parse("listen = \"nowhere\""),
            Err(ConfigError::Invalid(InvalidParameter {
                param: "listen",
                ..
            }))
        ));
        assert!(matches!(
            Config::parse("[[soc.tokens]]\nname = \"a\"\nsha256 = \"zz\""),
            Err(ConfigError::Invalid(InvalidParameter {
                param: "soc.tokens.sha256",
                ..
            }))
        ));
    }

    #[test]
    fn shipped_example_configs_parse() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/collector");
        let mut seen = 0;
        for entry in std::fs::read_dir(&dir).expect("deploy/collector exists") {
            let path = entry.expect("entry").path();
            if path.extension().is_some_and(|e| e == "toml") {
                Config::load(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                seen += 1;
            }
        }
        assert!(seen > 0);
    }
}

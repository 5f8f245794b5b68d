//! `[indicators]`, `[[feeds]]` and `[push]` in `collector.toml`: where indicator sets come from
//! and how they are signed. Every field has a default and is validated by [`validate`].

use std::path::PathBuf;

use serde::Deserialize;

use crate::config::{InvalidParameter, TokenConfig};

/// Signing and limits of the indicator sets.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndicatorsConfig {
    /// Ed25519 bundle-signing key (PKCS#8 PEM), relative to `state_dir`. Defaults to
    /// `pki/bundle-signing.key` (written by `kordon-collector pki init`). Without it the
    /// collector serves no indicator sets (and says so at start) but still serves alerts.
    #[serde(default = "default_signing_key")]
    pub signing_key: PathBuf,
    /// Concurrent `WatchIndicators` streams, 1–100000. Defaults to 4096.
    #[serde(default = "default_max_watchers")]
    pub max_watchers: usize,
    /// Most indicators in one set (all feeds and pushes merged), 1–16777216. A load that would
    /// exceed it fails and the last good version stays live. Defaults to 4000000.
    #[serde(default = "default_max_set_indicators")]
    pub max_set_indicators: usize,
    /// Load indicators in private ranges (10/8, 172.16/12, 192.168/16, fc00::/7). Defaults to
    /// off (see the agent's `--private-indicators`).
    #[serde(default)]
    pub private_indicators: bool,
    /// Own networks (CIDR) that never become indicators. Defaults to none.
    #[serde(default)]
    pub allow_ranges: Vec<String>,
    /// Own domains (with subdomains) that never become indicators. Defaults to none.
    #[serde(default)]
    pub allow_domains: Vec<String>,
}

/// Where a feed's indicators come from.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum FeedKind {
    /// A local file or directory (any intel format), reloaded when its mtime changes.
    File,
    /// A MISP event (URL of a `.json`) or MISP feed (URL ending in `/`: `manifest.json` and
    /// the events it lists) over HTTP(S).
    Misp,
    /// A STIX 2.0/2.1 bundle over HTTP(S).
    Stix,
    /// A TAXII 2.1 collection, polled with `added_after`.
    Taxii,
}

/// One `[[feeds]]` entry.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeedConfig {
    /// Unique feed name, 1–128 characters from A–Z a–z 0–9 . _ - (the `source` in alerts).
    pub name: String,
    /// Kind: `file`, `misp`, `stix` or `taxii`.
    #[serde(rename = "type")]
    pub kind: FeedKind,
    /// The named set this feed merges into, 1–255 bytes. Defaults to `default`.
    #[serde(default = "default_set")]
    pub set: String,
    /// File or directory (`type = "file"`), relative to `state_dir`.
    #[serde(default)]
    pub path: Option<PathBuf>,
    /// Format for `type = "file"` (`plain`, `zeek`, `misp`, `stix`, …); detected when absent.
    #[serde(default)]
    pub format: Option<String>,
    /// URL (`misp`, `stix`: the document; `taxii`: the API root, e.g.
    /// `https://taxii.example/api1/`). http:// or https://.
    #[serde(default)]
    pub url: Option<String>,
    /// TAXII collection id (`type = "taxii"`).
    #[serde(default)]
    pub collection: Option<String>,
    /// Basic-auth user (HTTP feeds). Defaults to none.
    #[serde(default)]
    pub username: Option<String>,
    /// Basic-auth password. Defaults to none.
    #[serde(default)]
    pub password: Option<String>,
    /// Bearer token (HTTP feeds; instead of user/password). Defaults to none.
    #[serde(default)]
    pub token: Option<String>,
    /// Seconds between polls (files: mtime checks; HTTP and TAXII: fetches), 1–604800.
    /// Defaults to 300 (files: 5).
    #[serde(default)]
    pub poll_interval_secs: Option<u64>,
    /// Per-request timeout for HTTP feeds in seconds, 1–3600. Defaults to 60.
    #[serde(default = "default_timeout_secs")]
    pub timeout_secs: u64,
    /// Severity for entries whose feed does not say: low, medium, high, critical. Defaults to
    /// medium.
    #[serde(default = "default_severity")]
    pub severity: String,
    /// Confidence 0–100 for entries whose feed does not say. Defaults to 50.
    #[serde(default = "default_confidence")]
    pub confidence: u8,
    /// TLP for entries whose feed does not say. Defaults to amber.
    #[serde(default = "default_tlp")]
    pub tlp: String,
}

impl FeedConfig {
    /// The poll interval in seconds (with the per-kind default).
    pub fn interval_secs(&self) -> u64 {
        self.poll_interval_secs
            .unwrap_or(if self.kind == FeedKind::File { 5 } else { 300 })
    }
}

/// Feeds that push with `FeedService.PushIndicators`.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PushConfig {
    /// Accepted bearer tokens (SHA-256, as `[[soc.tokens]]`); clients may instead present a
    /// certificate with OU `kordon-feed` (`pki issue-feed`). Defaults to none.
    #[serde(default)]
    pub tokens: Vec<TokenConfig>,
}

fn default_signing_key() -> PathBuf {
    PathBuf::from("pki/bundle-signing.key")
}
fn default_max_watchers() -> usize {
    4096
}
fn default_max_set_indicators() -> usize {
    4_000_000
}
fn default_set() -> String {
    "default".into()
}
fn default_timeout_secs() -> u64 {
    60
}
fn default_severity() -> String {
    "medium".into()
}
fn default_confidence() -> u8 {
    50
}
fn default_tlp() -> String {
    "amber".into()
}

impl Default for IndicatorsConfig {
    fn default() -> Self {
        IndicatorsConfig {
            signing_key: default_signing_key(),
            max_watchers: default_max_watchers(),
            max_set_indicators: default_max_set_indicators(),
            private_indicators: false,
            allow_ranges: Vec::new(),
            allow_domains: Vec::new(),
        }
    }
}

fn invalid(param: &'static str, reason: impl Into<String>) -> InvalidParameter {
    InvalidParameter {
        param,
        reason: reason.into(),
    }
}

/// A valid feed name (also a valid `source`).
pub fn valid_feed_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// A valid set name (the bundle's bound).
pub fn valid_set_name(name: &str) -> bool {
    !name.is_empty() && name.len() <= kordon_intel::bundle::MAX_NAME_BYTES
}

/// Checks `[indicators]`, `[[feeds]]` and `[push]`.
pub fn validate(
    indicators: &IndicatorsConfig,
    feeds: &[FeedConfig],
    push: &PushConfig,
) -> Result<(), InvalidParameter> {
    if !(1..=100_000).contains(&indicators.max_watchers) {
        return Err(invalid("indicators.max_watchers", "outside 1–100000"));
    }
    if !(1..=kordon_intel::bundle::MAX_ENTRIES).contains(&indicators.max_set_indicators) {
        return Err(invalid(
            "indicators.max_set_indicators",
            "outside 1–16777216",
        ));
    }
    for range in &indicators.allow_ranges {
        range
            .parse::<ipnet::IpNet>()
            .map_err(|e| invalid("indicators.allow_ranges", format!("{range:?}: {e}")))?;
    }
    let mut names = std::collections::HashSet::new();
    for feed in feeds {
        if !valid_feed_name(&feed.name) {
            return Err(invalid(
                "feeds.name",
                format!("{:?}: 1–128 characters from A–Z a–z 0–9 . _ -", feed.name),
            ));
        }
        if !names.insert(feed.name.as_str()) {
            return Err(invalid("feeds.name", format!("{:?} used twice", feed.name)));
        }
        if !valid_set_name(&feed.set) {
            return Err(invalid(
                "feeds.set",
                format!("feed {}: 1–255 bytes", feed.name),
            ));
        }
        if !(1..=604_800).contains(&feed.interval_secs()) {
            return Err(invalid(
                "feeds.poll_interval_secs",
                format!("feed {}: outside 1–604800", feed.name),
            ));
        }
        if !(1..=3600).contains(&feed.timeout_secs) {
            return Err(invalid(
                "feeds.timeout_secs",
                format!("feed {}: outside 1–3600", feed.name),
            ));
        }
        if kordon_intel::Severity::from_name(&feed.severity).is_none() {
            return Err(invalid(
                "feeds.severity",
                format!("feed {}: {:?}", feed.name, feed.severity),
            ));
        }
        if kordon_intel::Tlp::from_name(&feed.tlp).is_none() {
            return Err(invalid(
                "feeds.tlp",
                format!("feed {}: {:?}", feed.name, feed.tlp),
            ));
        }
        if feed.confidence > 100 {
            return Err(invalid("feeds.confidence", "outside 0–100"));
        }
        if let Some(format) = &feed.format
            && kordon_intel::Format::from_name(format).is_none()
        {
            return Err(invalid(
                "feeds.format",
                format!("feed {}: unknown format {format:?}", feed.name),
            ));
        }
        match feed.kind {
            FeedKind::File => {
                if feed.path.as_ref().is_none_or(|p| p.as_os_str().is_empty()) {
                    return Err(invalid(
                        "feeds.path",
                        format!("feed {}: type file needs a path", feed.name),
                    ));
                }
            }
            FeedKind::Misp | FeedKind::Stix | FeedKind::Taxii => {
                let ok = feed
                    .url
                    .as_deref()
                    .is_some_and(|u| u.starts_with("http://") || u.starts_with("https://"));
                if !ok {
                    return Err(invalid(
                        "feeds.url",
                        format!("feed {}: needs an http:// or https:// url", feed.name),
                    ));
                }
                if feed.kind == FeedKind::Taxii
                    && feed.collection.as_deref().is_none_or(str::is_empty)
                {
                    return Err(invalid(
                        "feeds.collection",
                        format!("feed {}: type taxii needs a collection id", feed.name),
                    ));
                }
            }
        }
        if feed.password.is_some() != feed.username.is_some() {
            return Err(invalid(
                "feeds.username",
                format!("feed {}: username and password go together", feed.name),
            ));
        }
    }
    for token in &push.tokens {
        let hex_ok = token.sha256.len() == 64
            && token
                .sha256
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if token.name.trim().is_empty() || !hex_ok {
            return Err(invalid(
                "push.tokens",
                format!(
                    "token {:?}: a name and 64 lower-case hex digits",
                    token.name
                ),
            ));
        }
    }
    Ok(())
}

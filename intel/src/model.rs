//! The indicator model shared by every feed format and by the matcher.
//!
//! Metadata that is identical for many entries (source feed, set name, severity, tags…) lives in
//! an [`IndicatorMeta`] behind an `Arc`, so a feed of a million addresses with one source costs one
//! metadata record, not a million: that is what keeps the compiled set under 100 bytes per IPv4
//! indicator.

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;

use ipnet::IpNet;

/// What an indicator's value is, and therefore where it can match.
///
/// A closed set on purpose: each kind maps to one lookup structure in the matcher. Feed entries of
/// a kind we cannot match are rejected by the loader with a reason, never silently mapped.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum IndicatorKind {
    /// A single IPv4 address.
    Ipv4,
    /// A single IPv6 address.
    Ipv6,
    /// An IPv4 or IPv6 network; matched by longest prefix.
    Cidr,
    /// A DNS name; exact, or the name and every subdomain when [`IndicatorValue::Domain`] says so.
    Domain,
    /// A URL normalised by [`crate::normalize::url`].
    Url,
    /// An HTTP User-Agent header value, matched exactly.
    UserAgent,
    /// A JA3 client fingerprint (lower-case MD5 hex).
    Ja3,
    /// A JA3S server fingerprint (lower-case MD5 hex).
    Ja3s,
    /// A JA4 client fingerprint.
    Ja4,
    /// An X.509 certificate SHA-1 fingerprint (lower-case hex).
    X509Sha1,
    /// An X.509 certificate SHA-256 fingerprint (lower-case hex).
    X509Sha256,
    /// An opaque byte string (Suricata `string` datasets), matched exactly.
    String,
    /// The MD5 of an observed value (Suricata `md5` datasets), lower-case hex.
    Md5,
    /// The SHA-256 of an observed value (Suricata `sha256` datasets), lower-case hex.
    Sha256,
    /// An OT policy entry (`<policy>:<protocol>.<class>`): matched by
    /// [`crate::IndicatorSet::match_ot`] when an OT request violates the policy, never by value.
    OtPolicy,
}

impl IndicatorKind {
    /// Every kind, in a stable order (used by reports and tests).
    pub const ALL: [IndicatorKind; 15] = [
        IndicatorKind::Ipv4,
        IndicatorKind::Ipv6,
        IndicatorKind::Cidr,
        IndicatorKind::Domain,
        IndicatorKind::Url,
        IndicatorKind::UserAgent,
        IndicatorKind::Ja3,
        IndicatorKind::Ja3s,
        IndicatorKind::Ja4,
        IndicatorKind::X509Sha1,
        IndicatorKind::X509Sha256,
        IndicatorKind::String,
        IndicatorKind::Md5,
        IndicatorKind::Sha256,
        IndicatorKind::OtPolicy,
    ];

    /// The name used in EVE output, configs and reports.
    pub fn as_str(self) -> &'static str {
        match self {
            IndicatorKind::Ipv4 => "ipv4",
            IndicatorKind::Ipv6 => "ipv6",
            IndicatorKind::Cidr => "cidr",
            IndicatorKind::Domain => "domain",
            IndicatorKind::Url => "url",
            IndicatorKind::UserAgent => "user_agent",
            IndicatorKind::Ja3 => "ja3",
            IndicatorKind::Ja3s => "ja3s",
            IndicatorKind::Ja4 => "ja4",
            IndicatorKind::X509Sha1 => "x509_sha1",
            IndicatorKind::X509Sha256 => "x509_sha256",
            IndicatorKind::String => "string",
            IndicatorKind::Md5 => "md5",
            IndicatorKind::Sha256 => "sha256",
            IndicatorKind::OtPolicy => "ot_policy",
        }
    }

    /// Parses the name produced by [`IndicatorKind::as_str`] (also accepts `ip` as "ipv4 or ipv6",
    /// which callers resolve from the value).
    pub fn from_name(name: &str) -> Option<IndicatorKind> {
        IndicatorKind::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

impl fmt::Display for IndicatorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An indicator's value, already normalised by the loader.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum IndicatorValue {
    /// An exact address ([`IndicatorKind::Ipv4`] or [`IndicatorKind::Ipv6`]).
    Ip(IpAddr),
    /// A network ([`IndicatorKind::Cidr`]); host bits are cleared by the loader.
    Cidr(IpNet),
    /// A DNS name, lower-case, without a trailing dot.
    Domain {
        /// The name itself.
        name: String,
        /// Whether every subdomain of `name` matches too (`*.evil.example`, Zeek/MISP flags).
        subdomains: bool,
    },
    /// Any textual value: URLs (normalised), user agents, fingerprints, hashes, strings.
    Text(String),
}

impl fmt::Display for IndicatorValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IndicatorValue::Ip(ip) => write!(f, "{ip}"),
            IndicatorValue::Cidr(net) => write!(f, "{net}"),
            IndicatorValue::Domain {
                name,
                subdomains: true,
            } => write!(f, "*.{name}"),
            IndicatorValue::Domain {
                name,
                subdomains: false,
            } => f.write_str(name),
            IndicatorValue::Text(text) => f.write_str(text),
        }
    }
}

/// How bad a match is. Ordered from least to most severe.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum Severity {
    /// Informational or low-confidence context.
    Low,
    /// The default for feeds that do not say.
    #[default]
    Medium,
    /// Known-bad infrastructure.
    High,
    /// Active compromise of critical assets.
    Critical,
}

impl Severity {
    /// Lower-case name used in EVE output and configs.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    /// Suricata's numeric `alert.severity`, where 1 is the most severe, so SIEM rules written
    /// for Suricata keep working.
    pub fn suricata_level(self) -> u8 {
        match self {
            Severity::Critical => 1,
            Severity::High => 1,
            Severity::Medium => 2,
            Severity::Low => 3,
        }
    }

    /// Parses a name as written by [`Severity::as_str`] (case-insensitive).
    pub fn from_name(name: &str) -> Option<Severity> {
        match name.to_ascii_lowercase().as_str() {
            "low" => Some(Severity::Low),
            "medium" => Some(Severity::Medium),
            "high" => Some(Severity::High),
            "critical" => Some(Severity::Critical),
            _ => None,
        }
    }
}

/// Traffic Light Protocol 2.0 marking: who may see the indicator (and so the alert).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub enum Tlp {
    /// TLP:CLEAR (formerly WHITE).
    Clear,
    /// TLP:GREEN.
    Green,
    /// TLP:AMBER; the default when a feed does not say, so nothing is over-shared by accident.
    #[default]
    Amber,
    /// TLP:AMBER+STRICT.
    AmberStrict,
    /// TLP:RED.
    Red,
}

impl Tlp {
    /// The canonical lower-case marking, e.g. `amber+strict`.
    pub fn as_str(self) -> &'static str {
        match self {
            Tlp::Clear => "clear",
            Tlp::Green => "green",
            Tlp::Amber => "amber",
            Tlp::AmberStrict => "amber+strict",
            Tlp::Red => "red",
        }
    }

    /// Parses `clear`, `white`, `green`, `amber`, `amber+strict`, `red`, with or without a
    /// `tlp:` prefix, case-insensitive.
    pub fn from_name(name: &str) -> Option<Tlp> {
        let lower = name.trim().to_ascii_lowercase();
        let bare = lower.strip_prefix("tlp:").unwrap_or(&lower);
        match bare {
            "clear" | "white" => Some(Tlp::Clear),
            "green" => Some(Tlp::Green),
            "amber" => Some(Tlp::Amber),
            "amber+strict" => Some(Tlp::AmberStrict),
            "red" => Some(Tlp::Red),
            _ => None,
        }
    }
}

/// Metadata shared by many indicators of one feed; see the module doc for why it is shared.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Default)]
pub struct IndicatorMeta {
    /// The feed or file the indicator came from (e.g. `zeek:/etc/intel/feodo.intel`).
    pub source: Arc<str>,
    /// The named indicator set it belongs to (e.g. `default`, `cert-nl`).
    pub set: Arc<str>,
    /// How bad a match is.
    pub severity: Severity,
    /// How sure the feed is, 0–100.
    pub confidence: u8,
    /// Who may see it.
    pub tlp: Tlp,
    /// Free-form tags (categories, campaigns, `iprep:<category>`…).
    pub tags: Arc<[Arc<str>]>,
    /// Unix seconds before which the indicator does not match.
    pub valid_from: Option<i64>,
    /// Unix seconds from which the indicator no longer matches (expiry without a reload).
    pub valid_until: Option<i64>,
    /// An allowlist entry: it never alerts, it suppresses other indicators that match the same
    /// observation (own ranges, resolvers, CDNs).
    pub allowlist: bool,
}

impl IndicatorMeta {
    /// Whether the validity window contains `now` (Unix seconds).
    pub fn is_valid_at(&self, now: i64) -> bool {
        self.valid_from.is_none_or(|from| now >= from)
            && self.valid_until.is_none_or(|until| now < until)
    }
}

/// One indicator as a loader produces it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Indicator {
    /// The feed's own id (MISP attribute UUID, STIX id…); `None` when the feed has none, in which
    /// case the matcher derives a stable content id (see [`crate::matcher::IndicatorRef::id`]).
    pub id: Option<String>,
    /// What the value is.
    pub kind: IndicatorKind,
    /// The normalised value.
    pub value: IndicatorValue,
    /// A feed-given reputation score (Suricata datarep/iprep), kept so rules on it can be honoured.
    pub score: Option<i32>,
    /// Shared metadata.
    pub meta: Arc<IndicatorMeta>,
}

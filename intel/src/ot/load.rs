//! The OT policy file format (TOML, or the same structure in JSON) and its loader.
//!
//! ```toml
//! name = "plant-a"              # optional; part of every indicator id (default "ot")
//!
//! [[rule]]
//! protocol = "modbus"           # modbus | dnp3 | iec104 | s7comm
//! # Classes that need a grant; default: every class except read.
//! monitor = ["write", "operate", "restart", "program", "stop", "file"]
//!
//!   [[rule.allow]]
//!   hosts = ["10.0.0.5", "10.0.1.0/24"]   # requesters (required)
//!   classes = ["write"]                   # required
//!   servers = ["10.0.2.0/24"]             # optional: responders; default any
//!   addresses = [1, "10-20"]              # optional: unit/station/common addresses; default any
//!
//! [peers]                       # optional: report OT protocols between unknown pairs
//! protocols = ["modbus", "s7comm"]   # default: all four
//!   [[peers.known]]
//!   client = "10.0.0.5"
//!   server = "10.0.2.0/24"
//!   protocols = ["modbus"]      # default: all
//! ```
//!
//! Unknown keys are errors (a typo must not silently widen a policy). A file that is not TOML or
//! JSON of this shape fails as a whole ([`FormatError::NotThisFormat`]); a bad entry inside it
//! (unknown protocol or class, bad address or network) is rejected with its place in the report,
//! and the rest loads. A rejected *grant* makes the policy stricter, never more permissive.
//! Severity, TLP, tags and validity come from [`LoadOptions::meta`] like every other format.

use std::io::BufRead;
use std::net::IpAddr;
use std::sync::Arc;

use ipnet::IpNet;
use serde::Deserialize;

use super::{
    AddressRange, KnownPeer, OtClass, OtGrant, OtPeers, OtPolicy, OtProtocol, OtRule,
    violation_value,
};
use crate::formats::{Format, FormatError, LoadOptions, submit, truncate};
use crate::matcher::IndicatorSetBuilder;
use crate::model::{Indicator, IndicatorKind, IndicatorValue};
use crate::report::LoadReport;

/// Largest policy file read (policies are hand-written lists; 4 MiB is thousands of grants).
pub const MAX_POLICY_BYTES: u64 = 4 << 20;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPolicy {
    name: Option<String>,
    #[serde(default)]
    rule: Vec<RawRule>,
    peers: Option<RawPeers>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRule {
    protocol: String,
    monitor: Option<Vec<String>>,
    #[serde(default)]
    allow: Vec<RawGrant>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawGrant {
    hosts: Vec<String>,
    classes: Vec<String>,
    #[serde(default)]
    servers: Vec<String>,
    #[serde(default)]
    addresses: Vec<RawAddress>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawAddress {
    One(u32),
    Text(String),
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPeers {
    protocols: Option<Vec<String>>,
    #[serde(default)]
    known: Vec<RawKnown>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawKnown {
    client: String,
    server: String,
    #[serde(default)]
    protocols: Vec<String>,
}

fn not_this(reason: impl std::fmt::Display) -> FormatError {
    FormatError::NotThisFormat {
        format: Format::OtPolicy,
        reason: reason.to_string(),
    }
}

fn net(s: &str) -> Result<IpNet, String> {
    let s = s.trim();
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Ok(IpNet::from(ip.to_canonical()));
    }
    s.parse::<IpNet>()
        .map(|n| n.trunc())
        .map_err(|_| format!("{:?} is not an IP address or network", truncate(s, 80)))
}

fn nets(list: &[String]) -> Result<Vec<IpNet>, String> {
    list.iter().map(|s| net(s)).collect()
}

fn protocol(s: &str) -> Result<OtProtocol, String> {
    OtProtocol::from_name(s).ok_or_else(|| {
        format!(
            "unknown OT protocol {:?} (modbus, dnp3, iec104, s7comm)",
            truncate(s, 40)
        )
    })
}

fn classes(list: &[String]) -> Result<Vec<OtClass>, String> {
    list.iter()
        .map(|s| {
            OtClass::from_name(s).ok_or_else(|| {
                format!(
                    "unknown function class {:?} (read, write, operate, restart, program, stop, file)",
                    truncate(s, 40)
                )
            })
        })
        .collect()
}

fn address(a: &RawAddress) -> Result<AddressRange, String> {
    match a {
        RawAddress::One(n) => Ok((*n, *n)),
        RawAddress::Text(s) => {
            let parse = |t: &str| {
                t.trim()
                    .parse::<u32>()
                    .map_err(|_| format!("{:?} is not an address or range", truncate(s, 40)))
            };
            match s.split_once('-') {
                Some((lo, hi)) => {
                    let (lo, hi) = (parse(lo)?, parse(hi)?);
                    if lo > hi {
                        return Err(format!("empty address range {s:?}"));
                    }
                    Ok((lo, hi))
                }
                None => parse(s).map(|n| (n, n)),
            }
        }
    }
}

/// Parses a policy document (TOML, or JSON when it starts with `{`) into an [`OtPolicy`],
/// recording rejected entries in `report`. `default_name` names a policy without `name`.
pub fn parse_ot_policy(
    text: &str,
    default_name: &str,
    report: &mut LoadReport,
) -> Result<OtPolicy, FormatError> {
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let raw: RawPolicy = if text.trim_start().starts_with('{') {
        serde_json::from_str(text).map_err(not_this)?
    } else {
        toml::from_str(text).map_err(|e| not_this(e.to_string().trim_end()))?
    };
    let name = raw
        .name
        .filter(|n| !n.trim().is_empty())
        .unwrap_or_else(|| default_name.to_owned());
    if name.contains(':') || name.len() > 128 {
        return Err(not_this(format!(
            "policy name {:?} must be at most 128 bytes without ':'",
            truncate(&name, 40)
        )));
    }
    let mut rules = Vec::new();
    for (i, raw_rule) in raw.rule.iter().enumerate() {
        let place = i + 1;
        let protocol = match protocol(&raw_rule.protocol) {
            Ok(p) => p,
            Err(reason) => {
                report.reject(place, format!("rule {place}: {reason}"));
                continue;
            }
        };
        let monitor = match &raw_rule.monitor {
            None => OtClass::ALL
                .into_iter()
                .filter(|c| *c != OtClass::Read)
                .collect(),
            Some(list) => match classes(list) {
                Ok(c) => c,
                Err(reason) => {
                    report.reject(place, format!("rule {place} monitor: {reason}"));
                    // Monitoring everything is the safe reading of a broken list.
                    OtClass::ALL.to_vec()
                }
            },
        };
        let mut allow = Vec::new();
        for (j, g) in raw_rule.allow.iter().enumerate() {
            let grant = (|| -> Result<OtGrant, String> {
                Ok(OtGrant {
                    hosts: nets(&g.hosts)?,
                    servers: nets(&g.servers)?,
                    classes: classes(&g.classes)?,
                    addresses: g.addresses.iter().map(address).collect::<Result<_, _>>()?,
                })
            })();
            match grant {
                Ok(grant) => allow.push(grant),
                Err(reason) => {
                    report.reject(place, format!("rule {place} allow {}: {reason}", j + 1))
                }
            }
        }
        rules.push(OtRule {
            protocol,
            monitor,
            allow,
        });
    }
    let peers = match raw.peers {
        None => None,
        Some(p) => {
            let protocols = match &p.protocols {
                None => OtProtocol::ALL.to_vec(),
                Some(list) => {
                    let mut out = Vec::new();
                    for s in list {
                        match protocol(s) {
                            Ok(proto) => out.push(proto),
                            Err(reason) => report.reject(0, format!("peers: {reason}")),
                        }
                    }
                    out
                }
            };
            let mut known = Vec::new();
            for (j, k) in p.known.iter().enumerate() {
                let peer = (|| -> Result<KnownPeer, String> {
                    Ok(KnownPeer {
                        client: net(&k.client)?,
                        server: net(&k.server)?,
                        protocols: k
                            .protocols
                            .iter()
                            .map(|s| protocol(s))
                            .collect::<Result<_, _>>()?,
                    })
                })();
                match peer {
                    Ok(peer) => known.push(peer),
                    Err(reason) => report.reject(j + 1, format!("peers known {}: {reason}", j + 1)),
                }
            }
            Some(OtPeers { protocols, known })
        }
    };
    Ok(OtPolicy { name, rules, peers })
}

/// Loads an OT policy file into `builder`: one indicator per (protocol, monitored class) and per
/// known-peers protocol (see the module docs of [`crate::ot`]), plus the compiled rules.
///
/// The report counts those indicators as accepted (or duplicate, or expired per
/// [`LoadOptions::meta`]'s validity), and every rejected rule, grant or known pair with its
/// 1-based position.
pub fn load_ot_policy(
    mut reader: impl BufRead,
    opts: &LoadOptions,
    builder: &mut IndicatorSetBuilder,
) -> Result<LoadReport, FormatError> {
    let mut report = LoadReport::new(opts.meta.source.to_string());
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(
        &mut std::io::Read::take(&mut reader, MAX_POLICY_BYTES + 1),
        &mut bytes,
    )?;
    if bytes.len() as u64 > MAX_POLICY_BYTES {
        return Err(not_this(format!("larger than {MAX_POLICY_BYTES} bytes")));
    }
    let text = String::from_utf8(bytes).map_err(|_| not_this("not UTF-8"))?;
    let policy = parse_ot_policy(&text, "ot", &mut report)?;
    let mut add = |value: String| {
        let indicator = Indicator {
            id: Some(format!("ot-policy:{value}")),
            kind: IndicatorKind::OtPolicy,
            value: IndicatorValue::Text(value),
            score: None,
            meta: Arc::clone(&opts.meta),
        };
        // OT policy values are never covered by the allowlist; there is no single line.
        submit(&mut report, builder, opts, 0, indicator, 0);
    };
    for rule in &policy.rules {
        for &class in &rule.monitor {
            add(violation_value(&policy.name, rule.protocol, Some(class)));
        }
    }
    if let Some(peers) = &policy.peers {
        for &protocol in &peers.protocols {
            add(violation_value(&policy.name, protocol, None));
        }
    }
    builder.add_ot_policy(policy);
    Ok(report)
}

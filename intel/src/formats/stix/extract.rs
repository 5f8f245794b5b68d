//! From a parsed STIX pattern to the indicators Kordon can match *exactly*.
//!
//! The rule: an extracted indicator must fire only on traffic the pattern matches. So:
//!
//! * `OR` (between observations, between comparisons, and `IN (…)`) expands: each operand is a
//!   branch of its own, matched or reported on its own; matching one branch is matching the
//!   pattern.
//! * `AND` between observations and `FOLLOWEDBY` need several correlated observations, and
//!   `REPEATS` a count: reported unsupported as a whole.
//! * `AND` inside one observation is unsupported too, with one exception:
//!   `network-traffic` with exactly one address test (`dst_ref.value` or `src_ref.value`) and
//!   otherwise only ports, protocols and reference types. The address is extracted; the rest
//!   becomes tags (`dst_port=443`, `protocol=tcp`). That is a deliberate widening — the matcher
//!   matches addresses, not flows — documented so that alerts carry the port for the analyst.
//! * `WITHIN` on a single observation is always satisfied; `START … STOP …` narrows the
//!   validity window of what it qualifies.
//! * `NOT`, `!=`, ordering operators, `LIKE`, `MATCHES`, `ISSUPERSET`, `EXISTS` and any object
//!   path Kordon does not observe (files, e-mail, processes…) are unsupported, with the reason.
//! * `ISSUBSET '<network>'` on an address is exactly a network indicator.
//!
//! Paths extracted: `ipv4-addr:value`, `ipv6-addr:value` (address or CIDR), `domain-name:value`,
//! `url:value`, `network-traffic:dst_ref.value` / `src_ref.value` (address or CIDR),
//! `x509-certificate:hashes.'SHA-1'` / `'SHA-256'`.

// Untrusted input: no panics on any path (STYLE §2.6).
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic
    )
)]

use super::pattern::{ComparisonExpr, Literal, ObservationExpr, Op, PathStep, PropTest, Qualifier};
use crate::formats::json::{MAX_VALUE_BYTES, feed_url, quote};
use crate::formats::parse_ip_or_net;
use crate::formats::plain::parse_as;
use crate::model::{IndicatorKind, IndicatorValue};
use crate::normalize;

/// One matchable value from a pattern.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Observable {
    /// The indicator kind.
    pub kind: IndicatorKind,
    /// The normalised value.
    pub value: IndicatorValue,
    /// Extra tags (`dst_port=443`, `protocol=tcp`, `network-traffic=dst_ref`).
    pub tags: Vec<String>,
    /// From a `START` qualifier.
    pub valid_from: Option<i64>,
    /// From a `STOP` qualifier.
    pub valid_until: Option<i64>,
}

/// What one branch of a pattern yields.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Branch {
    /// A value to load.
    Match(Observable),
    /// A supported path with a value that does not parse (rejected with the indicator id).
    Bad(String),
    /// Something Kordon cannot match exactly, with the reason.
    Unsupported(String),
}

/// The branches of a parsed pattern (see the module doc), in pattern order.
pub fn extract(expr: &ObservationExpr) -> Vec<Branch> {
    let mut out = Vec::new();
    observation(expr, &mut out);
    out
}

fn observation(expr: &ObservationExpr, out: &mut Vec<Branch>) {
    match expr {
        ObservationExpr::Observation(cmp) => comparison(cmp, out),
        ObservationExpr::Or(items) => items.iter().for_each(|e| observation(e, out)),
        ObservationExpr::And(_) => out.push(Branch::Unsupported(
            "AND between observations needs several correlated observations".to_owned(),
        )),
        ObservationExpr::FollowedBy(_) => out.push(Branch::Unsupported(
            "FOLLOWEDBY needs a sequence of observations".to_owned(),
        )),
        ObservationExpr::Qualified(_, Qualifier::Repeats(n)) => out.push(Branch::Unsupported(
            format!("REPEATS {n} TIMES needs counting observations"),
        )),
        ObservationExpr::Qualified(inner, Qualifier::Within(_)) => observation(inner, out),
        ObservationExpr::Qualified(inner, Qualifier::StartStop(start, stop)) => {
            let from = out.len();
            observation(inner, out);
            for branch in out.iter_mut().skip(from) {
                if let Branch::Match(o) = branch {
                    o.valid_from = Some(o.valid_from.map_or(*start, |v| v.max(*start)));
                    o.valid_until = Some(o.valid_until.map_or(*stop, |v| v.min(*stop)));
                }
            }
        }
    }
}

fn comparison(cmp: &ComparisonExpr, out: &mut Vec<Branch>) {
    match cmp {
        ComparisonExpr::Or(items) => items.iter().for_each(|c| comparison(c, out)),
        ComparisonExpr::And(items) => out.push(network_traffic_and(items).unwrap_or_else(|| {
            Branch::Unsupported(
                "AND of comparisons cannot be matched exactly (only network-traffic with one \
                 address and ports/protocols is)"
                    .to_owned(),
            )
        })),
        ComparisonExpr::Test(test) => test_branches(test, out),
    }
}

/// What a supported path is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Target {
    Ipv4,
    Ipv6,
    Domain,
    Url,
    /// `network-traffic:dst_ref.value` (`true`) or `src_ref.value` (`false`).
    TrafficAddr(bool),
    X509Sha1,
    X509Sha256,
}

fn props(test: &PropTest) -> Option<Vec<&str>> {
    test.path
        .steps
        .iter()
        .map(|s| match s {
            PathStep::Property(p) => Some(p.as_str()),
            _ => None,
        })
        .collect()
}

fn target(test: &PropTest) -> Option<Target> {
    let props = props(test)?;
    let hash = |name: &str| name.to_ascii_uppercase().replace('-', "");
    match (test.path.object_type.as_str(), props.as_slice()) {
        ("ipv4-addr", ["value"]) => Some(Target::Ipv4),
        ("ipv6-addr", ["value"]) => Some(Target::Ipv6),
        ("domain-name", ["value"]) => Some(Target::Domain),
        ("url", ["value"]) => Some(Target::Url),
        ("network-traffic", ["dst_ref", "value"]) => Some(Target::TrafficAddr(true)),
        ("network-traffic", ["src_ref", "value"]) => Some(Target::TrafficAddr(false)),
        ("x509-certificate", ["hashes", h]) if hash(h) == "SHA1" => Some(Target::X509Sha1),
        ("x509-certificate", ["hashes", h]) if hash(h) == "SHA256" => Some(Target::X509Sha256),
        _ => None,
    }
}

fn test_branches(test: &PropTest, out: &mut Vec<Branch>) {
    let Some(target) = target(test) else {
        out.push(Branch::Unsupported(format!(
            "{} is not observed by Kordon",
            truncated_path(test)
        )));
        return;
    };
    if test.negated {
        out.push(Branch::Unsupported(format!(
            "NOT {} on {} cannot be matched exactly",
            test.op,
            truncated_path(test)
        )));
        return;
    }
    match (test.op, &test.value) {
        (Op::Eq, value) => out.push(value_branch(target, value, false)),
        (Op::In, Literal::List(items)) => {
            if items.is_empty() {
                out.push(Branch::Unsupported("IN () never matches".to_owned()));
            }
            for item in items {
                out.push(value_branch(target, item, false));
            }
        }
        (Op::IsSubset, value)
            if matches!(target, Target::Ipv4 | Target::Ipv6 | Target::TrafficAddr(_)) =>
        {
            out.push(value_branch(target, value, true))
        }
        (op, _) => out.push(Branch::Unsupported(format!(
            "{op} on {} cannot be matched exactly",
            truncated_path(test)
        ))),
    }
}

fn truncated_path(test: &PropTest) -> String {
    let path = test.path.to_string();
    crate::formats::truncate(&path, 120).to_owned()
}

/// The branch for `target = value` (or `ISSUBSET` when `subset`).
fn value_branch(target: Target, value: &Literal, subset: bool) -> Branch {
    let Literal::String(s) = value else {
        return Branch::Bad(format!("expected a string value, found {value:?}"));
    };
    if s.len() > MAX_VALUE_BYTES {
        return Branch::Bad(format!("value longer than {MAX_VALUE_BYTES} bytes"));
    }
    let parsed = match target {
        Target::Ipv4 | Target::Ipv6 | Target::TrafficAddr(_) => {
            parse_ip_or_net(s.trim()).and_then(|(kind, v)| {
                let v4 = match &v {
                    IndicatorValue::Ip(ip) => ip.is_ipv4(),
                    IndicatorValue::Cidr(net) => matches!(net, ipnet::IpNet::V4(_)),
                    _ => false,
                };
                match target {
                    Target::Ipv4 if !v4 => Err(format!("ipv4-addr value {} is IPv6", quote(s))),
                    Target::Ipv6 if v4 => Err(format!("ipv6-addr value {} is IPv4", quote(s))),
                    _ if subset && !matches!(v, IndicatorValue::Cidr(_)) && !s.contains('/') => {
                        Err(format!("ISSUBSET needs a network, found {}", quote(s)))
                    }
                    _ => Ok((kind, v)),
                }
            })
        }
        Target::Domain => normalize::domain(s)
            .map(|(name, subdomains)| {
                (
                    IndicatorKind::Domain,
                    IndicatorValue::Domain { name, subdomains },
                )
            })
            .map_err(|e| format!("bad domain-name value {}: {e}", quote(s))),
        Target::Url => feed_url(s),
        Target::X509Sha1 => parse_as(IndicatorKind::X509Sha1, s),
        Target::X509Sha256 => parse_as(IndicatorKind::X509Sha256, s),
    };
    match parsed {
        Ok((kind, value)) => {
            let tags = match target {
                Target::TrafficAddr(true) => vec!["network-traffic=dst_ref".to_owned()],
                Target::TrafficAddr(false) => vec!["network-traffic=src_ref".to_owned()],
                _ => Vec::new(),
            };
            Branch::Match(Observable {
                kind,
                value,
                tags,
                valid_from: None,
                valid_until: None,
            })
        }
        Err(reason) => Branch::Bad(reason),
    }
}

/// The `network-traffic` exception for `AND` (see the module doc); `None` when it does not
/// apply.
fn network_traffic_and(items: &[ComparisonExpr]) -> Option<Branch> {
    let mut address: Option<&PropTest> = None;
    let mut tags = Vec::new();
    for item in items {
        let ComparisonExpr::Test(test) = item else {
            return None;
        };
        if test.path.object_type != "network-traffic" || test.negated || test.op != Op::Eq {
            return None;
        }
        let steps = &test.path.steps;
        let prop = |i: usize| match steps.get(i) {
            Some(PathStep::Property(p)) => Some(p.as_str()),
            _ => None,
        };
        match (prop(0), steps.len(), &test.value) {
            (Some("dst_ref" | "src_ref"), 2, _) if prop(1) == Some("value") => {
                if address.replace(test).is_some() {
                    return None;
                }
            }
            (Some("dst_ref" | "src_ref"), 2, Literal::String(t))
                if prop(1) == Some("type") && matches!(t.as_str(), "ipv4-addr" | "ipv6-addr") => {}
            (Some(p @ ("dst_port" | "src_port")), 1, Literal::Int(n))
                if (0..=65_535).contains(n) =>
            {
                tags.push(format!("{p}={n}"));
            }
            (Some("protocols"), 2, Literal::String(proto))
                if matches!(steps.get(1), Some(PathStep::Any | PathStep::Index(_)))
                    && proto.len() <= 32 =>
            {
                tags.push(format!("protocol={}", proto.to_ascii_lowercase()));
            }
            _ => return None,
        }
    }
    let test = address?;
    let target = target(test)?;
    Some(match value_branch(target, &test.value, false) {
        Branch::Match(mut o) => {
            o.tags.extend(tags);
            Branch::Match(o)
        }
        other => other,
    })
}

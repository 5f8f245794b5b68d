//! Plain indicator lists: one value per line.
//!
//! `#` starts a comment when it begins the line or follows whitespace (so `http://x/#a` keeps its
//! fragment, which URL normalisation then drops). Blank lines are ignored. Without a forced kind
//! ([`LoadOptions::plain_kind`]) each line's kind is inferred, in this order:
//!
//! 1. an IPv4 or IPv6 address → `ipv4` / `ipv6`;
//! 2. a network `addr/len` → `cidr` with host bits cleared (a /32 or /128 becomes the address);
//! 3. a scheme (`x://`) or a `/` after a host → `url` (normalised);
//! 4. a JA4 fingerprint (`t13d1516h2_8daaf6152771_b186095e22b6`) → `ja4`;
//! 5. 32, 40 or 64 hex digits → rejected as ambiguous: 32 digits could be JA3, JA3S or an MD5,
//!    and guessing wrong means an indicator that silently never fires, so the list's kind must be
//!    forced;
//! 6. `*.name` or a name with at least one dot → `domain` (a single bare label is rejected: in a
//!    list it is far more often junk than a TLD indicator; write `*.tld` for that).

use std::io::BufRead;

use super::lines::{Line, Lines};
use super::{FormatError, LoadOptions, indicator, parse_ip_or_net, submit, truncate};
use crate::matcher::IndicatorSetBuilder;
use crate::model::{IndicatorKind, IndicatorValue};
use crate::normalize;
use crate::report::LoadReport;

/// Loads a plain list (see the module doc for comments and kind inference).
pub fn load_plain(
    reader: impl BufRead,
    opts: &LoadOptions,
    builder: &mut IndicatorSetBuilder,
) -> Result<LoadReport, FormatError> {
    let mut report = LoadReport::new(opts.meta.source.to_string());
    let mut lines = Lines::new(reader);
    while let Some((number, line)) = lines.next_line()? {
        let text = match line {
            Line::Text(text) => text,
            other => {
                report.reject(number, other.problem().unwrap_or_default());
                continue;
            }
        };
        let value = strip_comment(text).trim();
        if value.is_empty() {
            continue;
        }
        match parse_value(value, opts.plain_kind) {
            Ok((kind, value)) => submit(
                &mut report,
                builder,
                opts,
                number,
                indicator(kind, value, None, &opts.meta),
                0,
            ),
            Err(reason) => report.reject(number, reason),
        }
    }
    Ok(report)
}

/// The line without a `#` comment that starts the line or follows whitespace.
fn strip_comment(line: &str) -> &str {
    if line.trim_start().starts_with('#') {
        return "";
    }
    let bytes = line.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'#' && i > 0 && bytes.get(i - 1).is_some_and(|p| p.is_ascii_whitespace()) {
            return line.get(..i).unwrap_or(line);
        }
    }
    line
}

/// Whether `s` has the JA4 (TLS client) shape: `[tqd]` protocol, 2-character version, `d`/`i`
/// SNI flag, 2-digit cipher and extension counts, 2-character ALPN, then two 12-hex hashes.
pub(crate) fn is_ja4(s: &str) -> bool {
    let b = s.as_bytes();
    let alnum = |c: &u8| c.is_ascii_digit() || c.is_ascii_lowercase();
    let hex = |c: &u8| c.is_ascii_digit() || (b'a'..=b'f').contains(c);
    b.len() == 36
        && matches!(b.first(), Some(b't' | b'q' | b'd'))
        && b.get(1..3).is_some_and(|v| v.iter().all(alnum))
        && matches!(b.get(3), Some(b'd' | b'i'))
        && b.get(4..8)
            .is_some_and(|v| v.iter().all(u8::is_ascii_digit))
        && b.get(8..10).is_some_and(|v| v.iter().all(alnum))
        && b.get(10) == Some(&b'_')
        && b.get(11..23).is_some_and(|v| v.iter().all(hex))
        && b.get(23) == Some(&b'_')
        && b.get(24..36).is_some_and(|v| v.iter().all(hex))
}

/// Parses a value of a known kind (also used by other loaders).
pub(crate) fn parse_as(
    kind: IndicatorKind,
    value: &str,
) -> Result<(IndicatorKind, IndicatorValue), String> {
    let hex = |len: usize, what: &str| {
        normalize::hex_digest(value, len)
            .map(|h| (kind, IndicatorValue::Text(h)))
            .ok_or_else(|| {
                format!(
                    "{what} must be {len} hex digits, got {:?}",
                    truncate(value, 80)
                )
            })
    };
    match kind {
        IndicatorKind::Ipv4 | IndicatorKind::Ipv6 | IndicatorKind::Cidr => {
            let (found, parsed) = parse_ip_or_net(value)?;
            let family_ok = match (kind, &parsed) {
                (IndicatorKind::Cidr, _) => true,
                (IndicatorKind::Ipv4, IndicatorValue::Ip(ip)) => ip.is_ipv4(),
                (IndicatorKind::Ipv4, IndicatorValue::Cidr(net)) => {
                    matches!(net, ipnet::IpNet::V4(_))
                }
                (IndicatorKind::Ipv6, IndicatorValue::Ip(ip)) => ip.is_ipv6(),
                (IndicatorKind::Ipv6, IndicatorValue::Cidr(net)) => {
                    matches!(net, ipnet::IpNet::V6(_))
                }
                _ => false,
            };
            if family_ok {
                Ok((found, parsed))
            } else {
                Err(format!(
                    "{:?} is not an {kind} address or network",
                    truncate(value, 80)
                ))
            }
        }
        IndicatorKind::Domain => normalize::domain(value)
            .map(|(name, subdomains)| (kind, IndicatorValue::Domain { name, subdomains }))
            .map_err(|e| format!("bad domain {:?}: {e}", truncate(value, 80))),
        IndicatorKind::Url => normalize::url(value)
            .map(|u| (kind, IndicatorValue::Text(u)))
            .map_err(|e| format!("bad URL {:?}: {e}", truncate(value, 80))),
        IndicatorKind::Ja3 => hex(32, "a JA3 fingerprint"),
        IndicatorKind::Ja3s => hex(32, "a JA3S fingerprint"),
        IndicatorKind::Md5 => hex(32, "an MD5 digest"),
        IndicatorKind::X509Sha1 => hex(40, "an X.509 SHA-1 fingerprint"),
        IndicatorKind::X509Sha256 => hex(64, "an X.509 SHA-256 fingerprint"),
        IndicatorKind::Sha256 => hex(64, "a SHA-256 digest"),
        IndicatorKind::OtPolicy => Err("OT policy entries come from ot-policy files".to_owned()),
        IndicatorKind::Ja4 => {
            let lower = value.to_ascii_lowercase();
            if is_ja4(&lower) {
                Ok((kind, IndicatorValue::Text(lower)))
            } else {
                Err(format!(
                    "{:?} is not a JA4 fingerprint",
                    truncate(value, 80)
                ))
            }
        }
        IndicatorKind::UserAgent | IndicatorKind::String => {
            Ok((kind, IndicatorValue::Text(value.to_owned())))
        }
    }
}

/// Parses one plain-list value with a forced kind or by inference (module doc).
fn parse_value(
    value: &str,
    forced: Option<IndicatorKind>,
) -> Result<(IndicatorKind, IndicatorValue), String> {
    if let Some(kind) = forced {
        return parse_as(kind, value);
    }
    // Only try the address parsers on what could be an address: a failed attempt builds an
    // error message, which for a million-line domain list is most of the load time.
    let address_like = value
        .bytes()
        .all(|b| b.is_ascii_hexdigit() || matches!(b, b'.' | b':' | b'/'));
    if address_like && let Ok(parsed) = parse_ip_or_net(value) {
        return Ok(parsed);
    }
    if value.contains("://") || looks_like_host_path(value) {
        return parse_as(IndicatorKind::Url, value);
    }
    if is_ja4(value) {
        return parse_as(IndicatorKind::Ja4, value);
    }
    if matches!(value.len(), 32 | 40 | 64) && value.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(format!(
            "{} hex digits are ambiguous (JA3, JA3S, MD5, SHA-1, SHA-256…); set the list's kind",
            value.len()
        ));
    }
    let (name, subdomains) = normalize::domain(value).map_err(|e| {
        format!(
            "{:?} is not an IP address, network, URL, JA4 or domain ({e})",
            truncate(value, 80)
        )
    })?;
    if !subdomains && !name.contains('.') {
        return Err(format!(
            "{:?} is a single label; write \"*.{name}\" for a top-level domain or set the list's kind",
            truncate(value, 80)
        ));
    }
    if name
        .rsplit('.')
        .next()
        .is_some_and(|tld| tld.bytes().all(|b| b.is_ascii_digit()))
    {
        return Err(format!(
            "{:?} looks like a malformed IP address",
            truncate(value, 80)
        ));
    }
    Ok((
        IndicatorKind::Domain,
        IndicatorValue::Domain { name, subdomains },
    ))
}

/// `host/...` or `host:port/...` where the host is a valid domain or IP address.
fn looks_like_host_path(value: &str) -> bool {
    let Some((authority, _)) = value.split_once('/') else {
        return false;
    };
    let host = match authority.rsplit_once(':') {
        Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => authority,
    };
    host.parse::<std::net::IpAddr>().is_ok()
        || (host.contains('.') && normalize::domain(host).is_ok_and(|(_, wild)| !wild))
}

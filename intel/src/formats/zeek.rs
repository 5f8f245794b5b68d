//! Zeek Intelligence Framework files (<https://docs.zeek.org/en/master/frameworks/intel.html>).
//!
//! Layout as in Zeek's ASCII input reader: a `#fields` line names the tab-separated columns;
//! `#separator` (written `\x09`-escaped), `#empty_field` (default `(empty)`) and `#unset_field`
//! (default `-`) may change the conventions; other `#` lines are comments. `indicator` and
//! `indicator_type` columns are required. `meta.source` replaces the source name for that line.
//! `meta.whitelist` set to `T` makes the line an allowlist entry. Every other column (`meta.desc`,
//! `meta.url`, `meta.do_notice`, `meta.if_in`, …) is kept as a tag `key=value`, with the `meta.`
//! prefix dropped, so the information reaches the alert; empty and unset values add no tag.
//! Distinct tag strings and distinct metadata combinations are interned, so a million lines with
//! one source and description share one metadata record.
//!
//! Types: `Intel::ADDR` → ipv4/ipv6, `Intel::SUBNET` → cidr, `Intel::DOMAIN` → domain (exact, as
//! Zeek matches it), `Intel::URL` → url (normalised, so feeds that carry a scheme still match),
//! `Intel::SOFTWARE` → user_agent, `Intel::CERT_HASH` → x509_sha1 or x509_sha256 by length,
//! `Intel::JA3` (ja3 package) → ja3, `Intel::JA3S` → ja3s, `Intel::JA4` → ja4. `Intel::USER_NAME`,
//! `Intel::EMAIL`, `Intel::FILE_HASH`, `Intel::FILE_NAME` and `Intel::PUBKEY_HASH` are reported as
//! unsupported: Kordon does not observe those locations. Anything else is rejected.

use std::collections::HashMap;
use std::io::BufRead;
use std::sync::Arc;

use super::lines::{Line, Lines};
use super::plain::parse_as;
use super::{Format, FormatError, LoadOptions, indicator, parse_ip_or_net, submit, truncate};
use crate::matcher::IndicatorSetBuilder;
use crate::model::{IndicatorKind, IndicatorMeta, IndicatorValue};
use crate::normalize;
use crate::report::LoadReport;

/// Zeek's defaults for the ASCII format.
const DEFAULT_EMPTY: &str = "(empty)";
const DEFAULT_UNSET: &str = "-";

/// Column layout from the latest `#fields` line.
struct Columns {
    names: Vec<String>,
    indicator: usize,
    indicator_type: usize,
    source: Option<usize>,
    whitelist: Option<usize>,
}

/// Loads a Zeek intel file (see the module doc).
pub fn load_zeek(
    reader: impl BufRead,
    opts: &LoadOptions,
    builder: &mut IndicatorSetBuilder,
) -> Result<LoadReport, FormatError> {
    let mut report = LoadReport::new(opts.meta.source.to_string());
    let mut lines = Lines::new(reader);
    let mut separator = "\t".to_owned();
    let mut empty = DEFAULT_EMPTY.to_owned();
    let mut unset = DEFAULT_UNSET.to_owned();
    let mut columns: Option<Columns> = None;
    let mut interner = MetaInterner::new(&opts.meta);

    while let Some((number, line)) = lines.next_line()? {
        let text = match line {
            Line::Text(text) => text,
            other => {
                report.reject(number, other.problem().unwrap_or_default());
                continue;
            }
        };
        if let Some(header) = text.strip_prefix('#') {
            let (name, value) = split_header(header, &separator);
            match name {
                "separator" => separator = unescape(value),
                "empty_field" => empty = unescape(value),
                "unset_field" => unset = unescape(value),
                "fields" => columns = Some(parse_fields(value, &separator)?),
                _ => {}
            }
            continue;
        }
        if text.trim().is_empty() {
            continue;
        }
        let Some(cols) = &columns else {
            return Err(FormatError::NotThisFormat {
                format: Format::Zeek,
                reason: format!("line {number} has data before any #fields header"),
            });
        };
        let values: Vec<&str> = text.split(separator.as_str()).collect();
        if values.len() != cols.names.len() {
            report.reject(
                number,
                format!(
                    "{} columns, but #fields names {}",
                    values.len(),
                    cols.names.len()
                ),
            );
            continue;
        }
        let present = |i: usize| {
            values
                .get(i)
                .copied()
                .filter(|v| !v.is_empty() && *v != unset && *v != empty)
        };
        let Some(value) = present(cols.indicator) else {
            report.reject(number, "indicator is empty or unset");
            continue;
        };
        let Some(itype) = present(cols.indicator_type) else {
            report.reject(number, "indicator_type is empty or unset");
            continue;
        };
        let kind = match parse_type(itype, value) {
            Ok(Typed::Kind(kind, value)) => (kind, value),
            Ok(Typed::Unsupported) => {
                report.unsupported(
                    number,
                    format!("{itype} indicators are not matched by Kordon"),
                );
                continue;
            }
            Err(reason) => {
                report.reject(number, reason);
                continue;
            }
        };
        let source = cols.source.and_then(present);
        let allowlist = cols.whitelist.and_then(present).is_some_and(|v| v == "T");
        let extra = cols.names.iter().enumerate().filter_map(|(i, name)| {
            if i == cols.indicator
                || i == cols.indicator_type
                || Some(i) == cols.source
                || Some(i) == cols.whitelist
            {
                return None;
            }
            present(i).map(|v| (name.as_str(), v))
        });
        let meta = interner.get(source, allowlist, extra);
        submit(
            &mut report,
            builder,
            opts,
            number,
            indicator(kind.0, kind.1, None, &meta),
            0,
        );
    }
    if columns.is_none() {
        return Err(FormatError::NotThisFormat {
            format: Format::Zeek,
            reason: "no #fields header".to_owned(),
        });
    }
    Ok(report)
}

/// Splits a header line (without `#`) into its name and value. `#separator` itself is always
/// followed by a space (its value says what the separator is); later headers use the separator.
fn split_header<'a>(header: &'a str, separator: &str) -> (&'a str, &'a str) {
    if let Some(rest) = header.strip_prefix("separator") {
        return ("separator", rest.trim_start_matches([' ', '\t']));
    }
    match header
        .split_once(separator)
        .or_else(|| header.split_once(' '))
    {
        Some((name, value)) => (name.trim(), value),
        None => (header.trim(), ""),
    }
}

/// Decodes Zeek's `\xHH` escapes in header values.
fn unescape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(pos) = rest.find("\\x") {
        out.push_str(rest.get(..pos).unwrap_or(""));
        let hex = rest
            .get(pos + 2..pos + 4)
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match hex {
            Some(byte) if byte.is_ascii() => {
                out.push(char::from(byte));
                rest = rest.get(pos + 4..).unwrap_or("");
            }
            _ => {
                out.push_str("\\x");
                rest = rest.get(pos + 2..).unwrap_or("");
            }
        }
    }
    out.push_str(rest);
    if out.is_empty() { "\t".to_owned() } else { out }
}

fn parse_fields(value: &str, separator: &str) -> Result<Columns, FormatError> {
    let names: Vec<String> = value
        .split(separator)
        .map(|s| s.trim().to_owned())
        .collect();
    let find = |n: &str| names.iter().position(|x| x == n);
    let missing = |what: &str| FormatError::NotThisFormat {
        format: Format::Zeek,
        reason: format!("#fields has no {what:?} column"),
    };
    Ok(Columns {
        indicator: find("indicator").ok_or_else(|| missing("indicator"))?,
        indicator_type: find("indicator_type").ok_or_else(|| missing("indicator_type"))?,
        source: find("meta.source"),
        whitelist: find("meta.whitelist"),
        names,
    })
}

enum Typed {
    Kind(IndicatorKind, IndicatorValue),
    Unsupported,
}

fn parse_type(itype: &str, value: &str) -> Result<Typed, String> {
    let kind =
        |r: Result<(IndicatorKind, IndicatorValue), String>| r.map(|(k, v)| Typed::Kind(k, v));
    match itype {
        "Intel::ADDR" => match value.parse::<std::net::IpAddr>() {
            Ok(ip) => Ok(Typed::Kind(super::ip_kind(&ip), IndicatorValue::Ip(ip))),
            Err(_) => Err(format!(
                "Intel::ADDR {:?} is not an IP address",
                truncate(value, 80)
            )),
        },
        "Intel::SUBNET" => {
            if !value.contains('/') {
                return Err(format!(
                    "Intel::SUBNET {:?} has no prefix length",
                    truncate(value, 80)
                ));
            }
            kind(parse_ip_or_net(value))
        }
        "Intel::DOMAIN" => kind(
            normalize::domain(value)
                .map(|(name, subdomains)| {
                    (
                        IndicatorKind::Domain,
                        IndicatorValue::Domain { name, subdomains },
                    )
                })
                .map_err(|e| format!("bad Intel::DOMAIN {:?}: {e}", truncate(value, 80))),
        ),
        "Intel::URL" => kind(parse_as(IndicatorKind::Url, value)),
        "Intel::SOFTWARE" => kind(parse_as(IndicatorKind::UserAgent, value)),
        "Intel::CERT_HASH" => match value.trim().len() {
            40 => kind(parse_as(IndicatorKind::X509Sha1, value)),
            64 => kind(parse_as(IndicatorKind::X509Sha256, value)),
            n => Err(format!(
                "Intel::CERT_HASH must be 40 (SHA-1) or 64 (SHA-256) hex digits, got {n} characters"
            )),
        },
        "Intel::JA3" => kind(parse_as(IndicatorKind::Ja3, value)),
        "Intel::JA3S" => kind(parse_as(IndicatorKind::Ja3s, value)),
        "Intel::JA4" => kind(parse_as(IndicatorKind::Ja4, value)),
        "Intel::USER_NAME" | "Intel::EMAIL" | "Intel::FILE_HASH" | "Intel::FILE_NAME"
        | "Intel::PUBKEY_HASH" => Ok(Typed::Unsupported),
        other => Err(format!("unknown indicator_type {:?}", truncate(other, 80))),
    }
}

/// Interns per-line metadata: one `Arc<IndicatorMeta>` per distinct (source, allowlist, tags)
/// combination and one `Arc<str>` per distinct tag or source string.
struct MetaInterner<'a> {
    base: &'a Arc<IndicatorMeta>,
    strings: HashMap<String, Arc<str>>,
    metas: HashMap<String, Arc<IndicatorMeta>>,
    key: String,
}

impl<'a> MetaInterner<'a> {
    fn new(base: &'a Arc<IndicatorMeta>) -> Self {
        MetaInterner {
            base,
            strings: HashMap::new(),
            metas: HashMap::new(),
            key: String::new(),
        }
    }

    fn intern(strings: &mut HashMap<String, Arc<str>>, s: &str) -> Arc<str> {
        if let Some(found) = strings.get(s) {
            return Arc::clone(found);
        }
        let arc: Arc<str> = Arc::from(s);
        strings.insert(s.to_owned(), Arc::clone(&arc));
        arc
    }

    fn get<'v>(
        &mut self,
        source: Option<&str>,
        allowlist: bool,
        extra: impl Iterator<Item = (&'v str, &'v str)> + Clone,
    ) -> Arc<IndicatorMeta> {
        if source.is_none() && !allowlist && extra.clone().next().is_none() {
            return Arc::clone(self.base);
        }
        self.key.clear();
        self.key.push_str(source.unwrap_or(""));
        self.key.push(if allowlist { '\u{1}' } else { '\u{0}' });
        for (name, value) in extra.clone() {
            self.key.push_str(name);
            self.key.push('\u{0}');
            self.key.push_str(value);
            self.key.push('\u{0}');
        }
        if let Some(meta) = self.metas.get(&self.key) {
            return Arc::clone(meta);
        }
        let mut meta = (**self.base).clone();
        if let Some(source) = source {
            meta.source = Self::intern(&mut self.strings, source);
        }
        meta.allowlist |= allowlist;
        let mut tags: Vec<Arc<str>> = meta.tags.to_vec();
        for (name, value) in extra {
            let name = name.strip_prefix("meta.").unwrap_or(name);
            tags.push(Self::intern(&mut self.strings, &format!("{name}={value}")));
        }
        meta.tags = tags.into();
        let meta = Arc::new(meta);
        self.metas.insert(self.key.clone(), Arc::clone(&meta));
        meta
    }
}

//! MISP events and feeds (<https://www.misp-project.org/datamodels/>).
//!
//! Shapes: a single event `{"Event": {…}}` (what a MISP feed serves per event and what
//! `/events/view` returns), a REST search result `{"response": [{"Event": {…}}, …]}`, and a feed
//! directory: `manifest.json` (an object keyed by event UUID) next to one `<uuid>.json` per
//! event, loaded in UUID order ([`load_misp_feed`]).
//!
//! Every attribute of `Event.Attribute` and of each `Event.Object[].Attribute` is accounted for,
//! in this order:
//!
//! 1. `deleted: true` → skipped (`deleted`);
//! 2. `to_ids: false` → skipped (`not to_ids`) unless [`LoadOptions::misp_include_non_ids`]: in
//!    MISP's own model such attributes are context, and alerting on them is what the analyst
//!    asked *not* to happen;
//! 3. the type: `ip-src`, `ip-dst` → ipv4/ipv6 (or cidr: MISP allows networks there);
//!    `ip-src|port`, `ip-dst|port` → the address, the port kept as tag `port=<n>` (the matcher
//!    matches addresses, so the port only narrows the analyst's reading, not the match);
//!    `domain`, `hostname` → domain (exact); `domain|ip` → a domain *and* an address, two
//!    entries; `url` → url (normalised; interior spaces sent as `%20`); `uri` → url when it has a host, otherwise unsupported
//!    (a bare path cannot be matched exactly); `user-agent` → user_agent; `ja3-fingerprint-md5`
//!    → ja3; `x509-fingerprint-sha1` / `-sha256` → x509_sha1 / x509_sha256. Any other type is
//!    reported unsupported with its name (never a failed event: STYLE §2.3);
//! 4. a value that does not parse for its type is rejected with the attribute UUID.
//!
//! Report "lines" are attribute positions in the file (1-based, in document order, objects'
//! attributes after the event's own), so a reason can be found again.
//!
//! Metadata: the indicator id is the attribute UUID (the event UUID when an attribute has none);
//! tags are the event's and attribute's MISP tags verbatim (at most [`MAX_TAGS`] per level), plus
//! `misp-event=<event uuid>` and `misp-type=<type>`; TLP comes from `tlp:*` tags (the most
//! restrictive of event and attribute tags; the feed default otherwise); severity from the
//! event's `threat_level_id`: 1 (High) → high, 2 (Medium) → medium, 3 (Low) → low, 4
//! (Undefined) or absent → the feed default ([`LoadOptions::meta`]). Critical is never derived
//! from a feed: it is reserved for the operator. An attribute's `first_seen` becomes
//! `valid_from`; `last_seen` becomes `valid_until` only with
//! [`LoadOptions::misp_last_seen_expires`] (see there for why).

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

use std::collections::HashMap;
use std::io::BufReader;
use std::path::Path;
use std::sync::Arc;

use serde_json::Value;

use super::json::{
    MAX_VALUE_BYTES, array_field, bool_field, feed_url, int_field, quote, read_json, str_field,
};
use super::plain::parse_as;
use super::{Format, FormatError, LoadOptions, parse_ip_or_net, rfc3339, submit, truncate};
use crate::matcher::IndicatorSetBuilder;
use crate::model::{Indicator, IndicatorKind, IndicatorMeta, IndicatorValue, Severity, Tlp};
use crate::normalize;
use crate::report::{LoadReport, SKIPPED_DELETED, SKIPPED_NOT_IDS};

/// Most tags kept per event and per attribute; real events carry a few dozen, and tags are
/// metadata copied into alerts, so a feed cannot inflate every alert without bound.
pub const MAX_TAGS: usize = 64;

/// Longest tag kept, in bytes; longer tags are truncated (on a character boundary).
const MAX_TAG_BYTES: usize = 256;

/// Most events listed in a feed's `manifest.json`.
pub const MAX_FEED_EVENTS: usize = 1_000_000;

/// Loads one MISP JSON document: `{"Event": …}` or `{"response": [{"Event": …}, …]}`.
pub fn load_misp(
    reader: impl std::io::BufRead,
    opts: &LoadOptions,
    builder: &mut IndicatorSetBuilder,
) -> Result<LoadReport, FormatError> {
    let doc = read_json(reader, Format::Misp)?;
    let mut report = LoadReport::new(opts.meta.source.to_string());
    let mut loader = Loader::new(opts, builder, &mut report);
    if let Some(event) = doc.get("Event") {
        loader.event(event);
    } else if let Some(response) = doc.get("response").and_then(Value::as_array) {
        for (i, item) in response.iter().enumerate() {
            match item.get("Event") {
                Some(event) => loader.event(event),
                None => {
                    loader.line += 1;
                    let line = loader.line;
                    loader
                        .report
                        .reject(line, format!("response item {} has no Event", i + 1));
                }
            }
        }
    } else {
        return Err(not_misp(
            "expected an object with \"Event\" or a \"response\" array",
        ));
    }
    Ok(report)
}

/// Loads a MISP feed directory: every event `manifest.json` lists, in UUID order. An event the
/// manifest lists without a file is rejected in the report; a file that is not a MISP event
/// fails the whole feed (a bad feed must never half-replace a good set). Files the manifest does
/// not list (`hashes.csv`, stale events) are ignored, as MISP itself does when pulling a feed.
pub fn load_misp_feed(
    dir: &Path,
    opts: &LoadOptions,
    builder: &mut IndicatorSetBuilder,
) -> Result<LoadReport, FormatError> {
    let manifest_path = dir.join("manifest.json");
    let manifest = read_json(
        BufReader::new(std::fs::File::open(&manifest_path)?),
        Format::Misp,
    )
    .map_err(|e| in_file(&manifest_path, e))?;
    let Some(events) = manifest.as_object() else {
        return Err(in_file(
            &manifest_path,
            not_misp("manifest.json is not an object keyed by event UUID"),
        ));
    };
    if events.len() > MAX_FEED_EVENTS {
        return Err(in_file(
            &manifest_path,
            not_misp(format!(
                "manifest.json lists {} events, more than {MAX_FEED_EVENTS}",
                events.len()
            )),
        ));
    }
    let mut uuids: Vec<&String> = events.keys().collect();
    uuids.sort();
    let mut opts = opts.clone();
    if opts.meta.source.is_empty() {
        let mut meta = (*opts.meta).clone();
        meta.source = format!("misp:{}", dir.display()).into();
        opts.meta = Arc::new(meta);
    }
    let mut total = LoadReport::new(opts.meta.source.to_string());
    for (i, uuid) in uuids.into_iter().enumerate() {
        // The UUID becomes a file name: only hex digits and dashes, so a hostile manifest
        // cannot point outside the directory.
        if uuid.is_empty()
            || uuid.len() > 64
            || !uuid.bytes().all(|b| b.is_ascii_hexdigit() || b == b'-')
        {
            total.reject(
                i + 1,
                format!("manifest.json key {} is not an event UUID", quote(uuid)),
            );
            continue;
        }
        let path = dir.join(format!("{uuid}.json"));
        let file = match std::fs::File::open(&path) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                total.reject(
                    i + 1,
                    format!("event {uuid} is listed in manifest.json but {uuid}.json is missing"),
                );
                continue;
            }
            Err(e) => return Err(in_file(&path, e.into())),
        };
        let mut file_opts = opts.clone();
        let mut meta = (*opts.meta).clone();
        meta.source = format!("{}/{uuid}.json", opts.meta.source).into();
        file_opts.meta = Arc::new(meta);
        let report =
            load_misp(BufReader::new(file), &file_opts, builder).map_err(|e| in_file(&path, e))?;
        total.merge(report);
    }
    Ok(total)
}

fn not_misp(reason: impl Into<String>) -> FormatError {
    FormatError::NotThisFormat {
        format: Format::Misp,
        reason: reason.into(),
    }
}

fn in_file(path: &Path, e: FormatError) -> FormatError {
    FormatError::InFile {
        path: path.to_owned(),
        source: Box::new(e),
    }
}

/// What one attribute yields.
enum Extracted {
    /// One or two values (`domain|ip`), each with an optional port tag.
    Values(Vec<(IndicatorKind, IndicatorValue, Option<u16>)>),
    /// A type Kordon does not match, with the reason.
    Unsupported(String),
}

/// Maps one attribute `(type, value)` (see the module doc).
fn extract(mtype: &str, value: &str) -> Result<Extracted, String> {
    let one = |r: Result<(IndicatorKind, IndicatorValue), String>| {
        r.map(|(k, v)| Extracted::Values(vec![(k, v, None)]))
    };
    let domain = |v: &str| {
        normalize::domain(v)
            .map(|(name, subdomains)| {
                (
                    IndicatorKind::Domain,
                    IndicatorValue::Domain { name, subdomains },
                )
            })
            .map_err(|e| format!("bad domain {}: {e}", quote(v)))
    };
    let value = value.trim();
    match mtype {
        "ip-src" | "ip-dst" => one(parse_ip_or_net(value)),
        "ip-src|port" | "ip-dst|port" => {
            let Some((ip, port)) = value.rsplit_once('|') else {
                return Err(format!("{mtype} value {} has no '|port'", quote(value)));
            };
            let port: u16 = port
                .trim()
                .parse()
                .map_err(|_| format!("{mtype} port {} is not a port number", quote(port)))?;
            let (kind, ip) = parse_ip_or_net(ip.trim())?;
            Ok(Extracted::Values(vec![(kind, ip, Some(port))]))
        }
        "domain" | "hostname" => one(domain(value)),
        "domain|ip" => {
            let Some((name, ip)) = value.split_once('|') else {
                return Err(format!("domain|ip value {} has no '|'", quote(value)));
            };
            let (dk, dv) = domain(name.trim())?;
            let (ik, iv) = parse_ip_or_net(ip.trim())?;
            Ok(Extracted::Values(vec![(dk, dv, None), (ik, iv, None)]))
        }
        "url" => one(feed_url(value)),
        "uri" if value.starts_with('/') => Ok(Extracted::Unsupported(
            "uri is a bare path; a URL indicator needs a host to match exactly".to_owned(),
        )),
        "uri" => one(feed_url(value)),
        "user-agent" => one(parse_as(IndicatorKind::UserAgent, value)),
        "ja3-fingerprint-md5" => one(parse_as(IndicatorKind::Ja3, value)),
        "x509-fingerprint-sha1" => one(parse_as(IndicatorKind::X509Sha1, value)),
        "x509-fingerprint-sha256" => one(parse_as(IndicatorKind::X509Sha256, value)),
        other => Ok(Extracted::Unsupported(format!(
            "MISP type {} is not matched by Kordon",
            quote(other)
        ))),
    }
}

/// TLP and other tags of one `Tag` array.
fn tags(v: &Value, strings: &mut Interner) -> (Option<Tlp>, Vec<Arc<str>>) {
    let mut tlp = None;
    let mut out = Vec::new();
    for tag in array_field(v, "Tag").iter().take(MAX_TAGS) {
        let Some(name) = str_field(tag, "name") else {
            continue;
        };
        let name = name.trim();
        if name.len() >= 4
            && name
                .get(..4)
                .is_some_and(|p| p.eq_ignore_ascii_case("tlp:"))
            && let Some(level) = Tlp::from_name(name)
        {
            tlp = tlp.max(Some(level));
            continue;
        }
        if !name.is_empty() {
            out.push(strings.get(truncate(name, MAX_TAG_BYTES)));
        }
    }
    (tlp, out)
}

/// One `Arc<str>` per distinct string.
#[derive(Default)]
struct Interner(HashMap<String, Arc<str>>);

impl Interner {
    fn get(&mut self, s: &str) -> Arc<str> {
        if let Some(found) = self.0.get(s) {
            return Arc::clone(found);
        }
        let arc: Arc<str> = Arc::from(s);
        self.0.insert(s.to_owned(), Arc::clone(&arc));
        arc
    }
}

/// Distinct metadata combinations, so a thousand attributes of one event share one record.
type MetaKey = (Severity, Tlp, Vec<Arc<str>>, Option<i64>, Option<i64>);

/// Walks events and attributes, feeding the builder and the report.
struct Loader<'a> {
    opts: &'a LoadOptions,
    builder: &'a mut IndicatorSetBuilder,
    report: &'a mut LoadReport,
    strings: Interner,
    metas: HashMap<MetaKey, Arc<IndicatorMeta>>,
    line: usize,
}

/// Per-event context shared by its attributes.
struct EventCtx {
    uuid: Option<String>,
    severity: Severity,
    tlp: Option<Tlp>,
    tags: Vec<Arc<str>>,
}

impl<'a> Loader<'a> {
    fn new(
        opts: &'a LoadOptions,
        builder: &'a mut IndicatorSetBuilder,
        report: &'a mut LoadReport,
    ) -> Self {
        Loader {
            opts,
            builder,
            report,
            strings: Interner::default(),
            metas: HashMap::new(),
            line: 0,
        }
    }

    fn event(&mut self, event: &Value) {
        let uuid = str_field(event, "uuid").map(|u| truncate(u, 64).to_owned());
        let severity = match int_field(event, "threat_level_id") {
            Some(1) => Severity::High,
            Some(2) => Severity::Medium,
            Some(3) => Severity::Low,
            _ => self.opts.meta.severity,
        };
        let (tlp, mut tags) = tags(event, &mut self.strings);
        if let Some(uuid) = &uuid {
            tags.push(self.strings.get(&format!("misp-event={uuid}")));
        }
        let ctx = EventCtx {
            uuid,
            severity,
            tlp,
            tags,
        };
        for attribute in array_field(event, "Attribute") {
            self.attribute(&ctx, attribute);
        }
        for object in array_field(event, "Object") {
            for attribute in array_field(object, "Attribute") {
                self.attribute(&ctx, attribute);
            }
        }
    }

    fn attribute(&mut self, ctx: &EventCtx, a: &Value) {
        self.line += 1;
        let line = self.line;
        if !a.is_object() {
            self.report.reject(line, "attribute is not a JSON object");
            return;
        }
        let uuid = str_field(a, "uuid").map(|u| truncate(u, 64));
        let label = uuid
            .or(ctx.uuid.as_deref())
            .unwrap_or("(no uuid)")
            .to_owned();
        if bool_field(a, "deleted") == Some(true) {
            self.report.skip(SKIPPED_DELETED);
            return;
        }
        if !self.opts.misp_include_non_ids && bool_field(a, "to_ids") != Some(true) {
            self.report.skip(SKIPPED_NOT_IDS);
            return;
        }
        let Some(mtype) = str_field(a, "type") else {
            self.report
                .reject(line, format!("attribute {label}: no \"type\" string"));
            return;
        };
        let Some(value) = str_field(a, "value") else {
            self.report
                .reject(line, format!("attribute {label}: no \"value\" string"));
            return;
        };
        if value.len() > MAX_VALUE_BYTES {
            self.report.reject(
                line,
                format!("attribute {label}: value longer than {MAX_VALUE_BYTES} bytes"),
            );
            return;
        }
        let values = match extract(mtype, value) {
            Ok(Extracted::Values(values)) => values,
            Ok(Extracted::Unsupported(reason)) => {
                self.report
                    .unsupported(line, format!("attribute {label}: {reason}"));
                return;
            }
            Err(reason) => {
                self.report
                    .reject(line, format!("attribute {label} ({mtype}): {reason}"));
                return;
            }
        };
        let time = |key: &str| str_field(a, key).and_then(rfc3339::parse);
        let valid_from = time("first_seen").or(self.opts.meta.valid_from);
        let valid_until = if self.opts.misp_last_seen_expires {
            time("last_seen").or(self.opts.meta.valid_until)
        } else {
            self.opts.meta.valid_until
        };
        let (attr_tlp, attr_tags) = tags(a, &mut self.strings);
        let tlp = ctx.tlp.max(attr_tlp).unwrap_or(self.opts.meta.tlp);
        let id = uuid.map(str::to_owned).or_else(|| ctx.uuid.clone());
        for (kind, value, port) in values {
            let mut tags: Vec<Arc<str>> = self.opts.meta.tags.to_vec();
            tags.extend(ctx.tags.iter().cloned());
            tags.extend(attr_tags.iter().cloned());
            tags.push(
                self.strings
                    .get(&format!("misp-type={}", truncate(mtype, 64))),
            );
            if let Some(port) = port {
                tags.push(self.strings.get(&format!("port={port}")));
            }
            let meta = self.meta((ctx.severity, tlp, tags, valid_from, valid_until));
            let indicator = Indicator {
                id: id.clone(),
                kind,
                value,
                score: None,
                meta,
            };
            submit(self.report, self.builder, self.opts, line, indicator, 0);
        }
    }

    fn meta(&mut self, key: MetaKey) -> Arc<IndicatorMeta> {
        if let Some(meta) = self.metas.get(&key) {
            return Arc::clone(meta);
        }
        let (severity, tlp, tags, valid_from, valid_until) = key.clone();
        let meta = Arc::new(IndicatorMeta {
            severity,
            tlp,
            tags: tags.into(),
            valid_from,
            valid_until,
            ..(*self.opts.meta).clone()
        });
        self.metas.insert(key, Arc::clone(&meta));
        meta
    }
}

#[cfg(test)]
mod tests;

//! STIX 2.1 and 2.0 bundles (<https://docs.oasis-open.org/cti/stix/v2.1/stix-v2.1.html>).
//!
//! Input: a bundle `{"type": "bundle", "objects": […]}` (2.0 bundles carry `spec_version`
//! themselves; 2.1 objects carry it per object; both are read the same way), or a TAXII 2.1
//! envelope `{"objects": […], "more": …}` as [`crate::taxii`] returns it.
//!
//! Each object is accounted for once per extracted value ("lines" in the report are 1-based
//! object positions):
//!
//! * not an `indicator` → skipped (`not an indicator`); `marking-definition` objects are read
//!   first so indicators can refer to them;
//! * `revoked: true` → skipped (`revoked`);
//! * `pattern_type` other than `stix` → unsupported (absent means `stix`: implied in 2.0, and
//!   accepted from sloppy 2.1 producers);
//! * no `id`, no `pattern`, a pattern that does not parse ([`pattern::parse_pattern`]), a
//!   `valid_from`/`valid_until` that is not a timestamp, a `confidence` outside 0–100 →
//!   rejected with the indicator id;
//! * otherwise the pattern's branches ([`extract::extract`]): each matchable value is submitted
//!   (accepted, duplicate, expired or suppressed), each bad value rejected, each part Kordon
//!   cannot match exactly reported unsupported with the reason.
//!
//! Metadata: the indicator id is the STIX id (shared by the values of one `OR`); `valid_from` and
//! `valid_until` set the validity window (narrowed by `START`/`STOP`); `confidence` (0–100)
//! replaces the feed default; `indicator_types` and `labels` become tags
//! `indicator_type=<v>` / `label=<v>`, `name` becomes `name=<v>`; TLP comes from
//! `object_marking_refs`: the STIX 2.1 predefined TLP 1.0 marking ids, the TLP 2.0 ids of the
//! OASIS extension, or any `marking-definition` in the bundle whose `definition.tlp` or TLP 2.0
//! extension `tlp_2_0` names a level. Several markings → the most restrictive.

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

pub mod extract;
pub mod pattern;
#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::io::BufRead;
use std::sync::Arc;

use serde_json::Value;

use super::json::{array_field, int_field, quote, read_json, str_field};
use super::{Format, FormatError, LoadOptions, rfc3339, submit, truncate};
use crate::matcher::IndicatorSetBuilder;
use crate::model::{Indicator, IndicatorMeta, Tlp};
use crate::report::{LoadReport, SKIPPED_NOT_INDICATOR, SKIPPED_REVOKED};
use extract::Branch;

/// Most tags taken from one indicator (types, labels, name): metadata copied into alerts.
const MAX_TAGS: usize = 64;

/// Longest tag kept, in bytes (longer ones are truncated on a character boundary).
const MAX_TAG_BYTES: usize = 256;

/// The predefined TLP marking definitions: STIX 2.1 §7.2.1.4 (TLP 1.0) and the OASIS TLP 2.0
/// extension (`extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d`).
pub const TLP_MARKINGS: &[(&str, Tlp)] = &[
    (
        "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9",
        Tlp::Clear,
    ),
    (
        "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da",
        Tlp::Green,
    ),
    (
        "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82",
        Tlp::Amber,
    ),
    (
        "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed",
        Tlp::Red,
    ),
    (
        "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
        Tlp::Clear,
    ),
    (
        "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
        Tlp::Green,
    ),
    (
        "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
        Tlp::Amber,
    ),
    (
        "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
        Tlp::AmberStrict,
    ),
    (
        "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
        Tlp::Red,
    ),
];

/// Loads a STIX bundle or TAXII envelope (see the module doc).
pub fn load_stix(
    reader: impl BufRead,
    opts: &LoadOptions,
    builder: &mut IndicatorSetBuilder,
) -> Result<LoadReport, FormatError> {
    let doc = read_json(reader, Format::Stix)?;
    let objects = bundle_objects(&doc).ok_or_else(|| FormatError::NotThisFormat {
        format: Format::Stix,
        reason: "expected a bundle ({\"type\": \"bundle\", \"objects\": [...]}) or a TAXII \
                 envelope ({\"objects\": [...]})"
            .to_owned(),
    })?;
    Ok(load_stix_objects(objects, opts, builder))
}

/// The objects of a bundle or envelope, or `None` when `doc` is neither.
fn bundle_objects(doc: &Value) -> Option<&[Value]> {
    let obj = doc.as_object()?;
    match obj.get("type").and_then(Value::as_str) {
        Some("bundle") | None => obj.get("objects")?.as_array().map(Vec::as_slice),
        Some(_) => None,
    }
}

/// Loads already-parsed STIX objects (a bundle's `objects`, TAXII pages). Infallible: every
/// problem is per object and goes into the report.
pub fn load_stix_objects(
    objects: &[Value],
    opts: &LoadOptions,
    builder: &mut IndicatorSetBuilder,
) -> LoadReport {
    let mut report = LoadReport::new(opts.meta.source.to_string());
    let markings = markings(objects);
    let mut metas: HashMap<MetaKey, Arc<IndicatorMeta>> = HashMap::new();
    for (i, object) in objects.iter().enumerate() {
        let line = i + 1;
        if str_field(object, "type") != Some("indicator") {
            report.skip(SKIPPED_NOT_INDICATOR);
            continue;
        }
        indicator(
            object,
            line,
            &markings,
            &mut metas,
            opts,
            builder,
            &mut report,
        );
    }
    report
}

/// TLP levels of the marking definitions: predefined ones plus those in the bundle.
fn markings(objects: &[Value]) -> HashMap<String, Tlp> {
    let mut map: HashMap<String, Tlp> = TLP_MARKINGS
        .iter()
        .map(|(id, tlp)| ((*id).to_owned(), *tlp))
        .collect();
    for object in objects {
        if str_field(object, "type") != Some("marking-definition") {
            continue;
        }
        let Some(id) = str_field(object, "id") else {
            continue;
        };
        let from_definition = (str_field(object, "definition_type") == Some("tlp"))
            .then(|| object.get("definition").and_then(|d| str_field(d, "tlp")))
            .flatten();
        let from_extension = object
            .get("extensions")
            .and_then(Value::as_object)
            .and_then(|exts| exts.values().find_map(|e| str_field(e, "tlp_2_0")));
        if let Some(tlp) = from_definition.or(from_extension).and_then(Tlp::from_name) {
            map.insert(truncate(id, 128).to_owned(), tlp);
        }
    }
    map
}

/// Distinct metadata: (TLP, confidence, tags, valid_from, valid_until).
type MetaKey = (Tlp, u8, Vec<String>, Option<i64>, Option<i64>);

/// Handles one `indicator` object.
// The loader state is passed piecewise rather than bundled in a struct used once.
#[allow(clippy::too_many_arguments)]
fn indicator(
    object: &Value,
    line: usize,
    markings: &HashMap<String, Tlp>,
    metas: &mut HashMap<MetaKey, Arc<IndicatorMeta>>,
    opts: &LoadOptions,
    builder: &mut IndicatorSetBuilder,
    report: &mut LoadReport,
) {
    let Some(id) = str_field(object, "id").map(|id| truncate(id, 128).to_owned()) else {
        report.reject(line, "indicator without an \"id\"");
        return;
    };
    if object.get("revoked").and_then(Value::as_bool) == Some(true) {
        report.skip(SKIPPED_REVOKED);
        return;
    }
    match object.get("pattern_type") {
        None => {}
        Some(Value::String(t)) if t == "stix" => {}
        Some(Value::String(t)) => {
            report.unsupported(
                line,
                format!("{id}: pattern_type {} is not STIX patterning", quote(t)),
            );
            return;
        }
        Some(_) => {
            report.reject(line, format!("{id}: pattern_type is not a string"));
            return;
        }
    }
    let Some(pattern) = str_field(object, "pattern") else {
        report.reject(line, format!("{id}: no \"pattern\" string"));
        return;
    };
    let parsed = match pattern::parse_pattern(pattern) {
        Ok(parsed) => parsed,
        Err(e) => {
            report.reject(line, format!("{id}: bad pattern: {e}"));
            return;
        }
    };
    let time = |key: &str| -> Result<Option<i64>, String> {
        match object.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => rfc3339::parse(s)
                .map(Some)
                .ok_or_else(|| format!("{id}: {key} {} is not a timestamp", quote(s))),
            Some(_) => Err(format!("{id}: {key} is not a string")),
        }
    };
    let (valid_from, valid_until) = match (time("valid_from"), time("valid_until")) {
        (Ok(from), Ok(until)) => (from, until),
        (Err(e), _) | (_, Err(e)) => {
            report.reject(line, e);
            return;
        }
    };
    let confidence = match object.get("confidence") {
        None | Some(Value::Null) => opts.meta.confidence,
        Some(_) => match int_field(object, "confidence").and_then(|c| u8::try_from(c).ok()) {
            Some(c) if c <= 100 => c,
            _ => {
                report.reject(line, format!("{id}: confidence is not an integer 0-100"));
                return;
            }
        },
    };
    let tlp = array_field(object, "object_marking_refs")
        .iter()
        .filter_map(Value::as_str)
        .filter_map(|r| markings.get(r).copied())
        .max()
        .unwrap_or(opts.meta.tlp);
    let mut tags: Vec<String> = Vec::new();
    for (key, prefix) in [("indicator_types", "indicator_type"), ("labels", "label")] {
        for v in array_field(object, key).iter().filter_map(Value::as_str) {
            tags.push(format!("{prefix}={}", truncate(v, MAX_TAG_BYTES)));
        }
    }
    if let Some(name) = str_field(object, "name") {
        tags.push(format!("name={}", truncate(name, MAX_TAG_BYTES)));
    }
    tags.truncate(MAX_TAGS);

    for branch in extract::extract(&parsed) {
        match branch {
            Branch::Match(o) => {
                let mut all = tags.clone();
                all.extend(o.tags);
                let from = match (valid_from.or(opts.meta.valid_from), o.valid_from) {
                    (Some(a), Some(b)) => Some(a.max(b)),
                    (a, b) => a.or(b),
                };
                let until = match (valid_until.or(opts.meta.valid_until), o.valid_until) {
                    (Some(a), Some(b)) => Some(a.min(b)),
                    (a, b) => a.or(b),
                };
                let key = (tlp, confidence, all, from, until);
                let meta = match metas.get(&key) {
                    Some(meta) => Arc::clone(meta),
                    None => {
                        let mut tags: Vec<Arc<str>> = opts.meta.tags.to_vec();
                        tags.extend(key.2.iter().map(|t| Arc::from(t.as_str())));
                        let meta = Arc::new(IndicatorMeta {
                            tlp,
                            confidence,
                            tags: tags.into(),
                            valid_from: from,
                            valid_until: until,
                            ..(*opts.meta).clone()
                        });
                        metas.insert(key, Arc::clone(&meta));
                        meta
                    }
                };
                let indicator = Indicator {
                    id: Some(id.clone()),
                    kind: o.kind,
                    value: o.value,
                    score: None,
                    meta,
                };
                submit(report, builder, opts, line, indicator, 0);
            }
            Branch::Bad(reason) => report.reject(line, format!("{id}: {reason}")),
            Branch::Unsupported(reason) => report.unsupported(line, format!("{id}: {reason}")),
        }
    }
}

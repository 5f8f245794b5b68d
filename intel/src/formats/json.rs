//! Reading a whole JSON document (MISP events, STIX bundles) with a size bound, and small
//! accessors that never panic on input of the wrong shape.

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

use std::io::Read;

use serde_json::Value;

use super::{Format, FormatError, truncate};

/// The largest JSON document a structured loader reads, in bytes. JSON has to be parsed whole,
/// and a parsed document costs several times its size, so this bounds memory per load: a MISP
/// event or a STIX bundle of 256 MiB already holds millions of indicators. Bigger sets come as
/// several files (a MISP feed directory) or TAXII pages.
pub const MAX_JSON_BYTES: usize = 256 * 1024 * 1024;

/// The longest single indicator value taken from a JSON feed, the same bound as a line of a
/// line-based feed ([`super::MAX_LINE_BYTES`]): longer values are rejected, not truncated.
pub(crate) const MAX_VALUE_BYTES: usize = super::MAX_LINE_BYTES;

/// Reads and parses a JSON document of at most [`MAX_JSON_BYTES`]. Nesting is bounded by
/// `serde_json`'s recursion limit (128), so a deeply nested document is an error, not a stack
/// overflow.
pub(crate) fn read_json(reader: impl Read, format: Format) -> Result<Value, FormatError> {
    let mut bytes = Vec::new();
    reader
        .take(MAX_JSON_BYTES as u64 + 1)
        .read_to_end(&mut bytes)?;
    if bytes.len() > MAX_JSON_BYTES {
        return Err(FormatError::TooLarge {
            format,
            limit: MAX_JSON_BYTES,
        });
    }
    let text = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(&bytes);
    serde_json::from_slice(text).map_err(|e| FormatError::NotThisFormat {
        format,
        reason: format!("invalid JSON: {e}"),
    })
}

/// A string field, if present and a string.
pub(crate) fn str_field<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(Value::as_str)
}

/// A boolean in any of the shapes feeds use: `true`, `"1"`, `1`, `"true"` (case-insensitive).
pub(crate) fn bool_field(v: &Value, key: &str) -> Option<bool> {
    match v.get(key)? {
        Value::Bool(b) => Some(*b),
        Value::Number(n) => n.as_i64().map(|n| n != 0),
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "1" | "true" => Some(true),
            "0" | "false" | "" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// An integer written as a number or a string of digits (MISP writes `"threat_level_id": "4"`).
pub(crate) fn int_field(v: &Value, key: &str) -> Option<i64> {
    match v.get(key)? {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// The elements of an array field; empty when absent or not an array.
pub(crate) fn array_field<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v.get(key)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

/// An input string quoted for a reason, at most 80 bytes.
pub(crate) fn quote(s: &str) -> String {
    format!("{:?}", truncate(s, 80))
}

/// A URL value from a structured feed. Interior spaces are percent-encoded first, as a browser
/// sends them: MISP and STIX producers write URLs as analysts read them
/// (`http://host/DOVIDNIK - (2018).zip`), and the request on the wire carries `%20`. Other
/// whitespace and control characters are still rejected by [`crate::normalize::url`].
pub(crate) fn feed_url(
    value: &str,
) -> Result<(crate::model::IndicatorKind, crate::model::IndicatorValue), String> {
    let trimmed = value.trim();
    if trimmed.contains(' ') {
        super::plain::parse_as(
            crate::model::IndicatorKind::Url,
            &trimmed.replace(' ', "%20"),
        )
    } else {
        super::plain::parse_as(crate::model::IndicatorKind::Url, trimmed)
    }
}

//! JA3 fingerprint lists in Salesforce's CSV shape
//! (<https://github.com/salesforce/ja3/tree/master/lists>): one record per fingerprint,
//!
//! ```text
//! 61d50e7771aee7f2f4b89a7200b4d45e,"AcroCEF"
//! eb149984fc9c44d85ed7f12c90d818be,"Amazon Music,Dreamweaver,Spotify"
//! ```
//!
//! Records are CSV (RFC 4180): fields may be double-quoted, a quoted field may contain commas,
//! doubled quotes and line breaks (the published list opens with a quoted licence notice spanning
//! four lines). The first field is the fingerprint (32 hex digits, any case); the second, if any,
//! a comma-separated list of applications, each kept as a tag `application=<name>`; further
//! fields are kept as `note=<value>` tags. Records without a fingerprint are header or notice
//! records when they hold no hex-looking field at all and come before the first fingerprint
//! (not counted, like comments); anywhere else they are rejected. `#` lines are comments.
//!
//! The fingerprints are JA3 (client) fingerprints unless [`LoadOptions::plain_kind`] is
//! [`IndicatorKind::Ja3s`], which loads a list of server fingerprints in the same shape.
//! A fingerprint listed twice keeps its first record (the second is a duplicate, as everywhere).

use std::collections::HashMap;
use std::io::BufRead;
use std::sync::Arc;

use super::lines::{Line, Lines, MAX_LINE_BYTES};
use super::plain::parse_as;
use super::{FormatError, LoadOptions, indicator, submit, truncate};
use crate::matcher::IndicatorSetBuilder;
use crate::model::{IndicatorKind, IndicatorMeta};
use crate::report::LoadReport;

/// Longest CSV record accepted, in lines: a quoted field may span lines, but an unterminated
/// quote must not swallow the rest of the file. The Salesforce notice spans 4; 64 is generous.
const MAX_RECORD_LINES: usize = 64;

/// Loads a JA3 list (see the module doc).
pub fn load_ja3(
    reader: impl BufRead,
    opts: &LoadOptions,
    builder: &mut IndicatorSetBuilder,
) -> Result<LoadReport, FormatError> {
    let kind = match opts.plain_kind {
        Some(IndicatorKind::Ja3s) => IndicatorKind::Ja3s,
        _ => IndicatorKind::Ja3,
    };
    let mut report = LoadReport::new(opts.meta.source.to_string());
    let mut records = CsvRecords::new(reader);
    let mut interner = TagInterner::new(&opts.meta);
    let mut seen_fingerprint = false;
    while let Some(record) = records.next_record()? {
        let (number, fields) = match record {
            Record::Fields { line, fields } => (line, fields),
            Record::Blank => continue,
            Record::Bad { line, reason } => {
                report.reject(line, reason);
                continue;
            }
        };
        let first = fields.first().map_or("", |f| f.trim());
        if first.starts_with('#') {
            continue;
        }
        let hexish = |f: &String| {
            let t = f.trim();
            t.len() >= 16 && t.bytes().all(|b| b.is_ascii_hexdigit())
        };
        if !seen_fingerprint && !fields.iter().any(hexish) {
            // A header row or the list's licence notice.
            continue;
        }
        let value = match parse_as(kind, first) {
            Ok((_, value)) => value,
            Err(reason) => {
                report.reject(number, reason);
                continue;
            }
        };
        seen_fingerprint = true;
        let mut tags: Vec<String> = Vec::new();
        if let Some(apps) = fields.get(1) {
            tags.extend(
                apps.split(',')
                    .map(str::trim)
                    .filter(|a| !a.is_empty())
                    .map(|a| format!("application={a}")),
            );
        }
        tags.extend(
            fields
                .iter()
                .skip(2)
                .map(|f| f.trim())
                .filter(|f| !f.is_empty())
                .map(|f| format!("note={f}")),
        );
        let meta = interner.get(&tags);
        submit(
            &mut report,
            builder,
            opts,
            number,
            indicator(kind, value, None, &meta),
            0,
        );
    }
    Ok(report)
}

/// One CSV record.
pub(crate) enum Record {
    /// Its fields (unquoted) and the line it starts on.
    Fields { line: usize, fields: Vec<String> },
    /// An empty line.
    Blank,
    /// A record that could not be read, with the line it starts on.
    Bad { line: usize, reason: String },
}

/// Reads CSV records, joining physical lines while a quoted field is open.
pub(crate) struct CsvRecords<R> {
    lines: Lines<R>,
    joined: String,
}

impl<R: BufRead> CsvRecords<R> {
    pub(crate) fn new(reader: R) -> Self {
        CsvRecords {
            lines: Lines::new(reader),
            joined: String::new(),
        }
    }

    /// The next record, or `None` at the end of input.
    pub(crate) fn next_record(&mut self) -> Result<Option<Record>, FormatError> {
        self.joined.clear();
        let mut start = None;
        let mut count = 0;
        loop {
            let Some((number, line)) = self.lines.next_line()? else {
                return Ok(start.map(|line| Record::Bad {
                    line,
                    reason: "quoted field not closed before the end of the file".to_owned(),
                }));
            };
            let start_line = *start.get_or_insert(number);
            let text = match line {
                Line::Text(text) => text,
                other => {
                    return Ok(Some(Record::Bad {
                        line: number,
                        reason: other.problem().unwrap_or_default(),
                    }));
                }
            };
            if count > 0 {
                self.joined.push('\n');
            }
            self.joined.push_str(text);
            count += 1;
            if count == 1 && text.trim().is_empty() {
                return Ok(Some(Record::Blank));
            }
            match split_csv(&self.joined) {
                Some(fields) => {
                    return Ok(Some(Record::Fields {
                        line: start_line,
                        fields,
                    }));
                }
                None if count >= MAX_RECORD_LINES || self.joined.len() > MAX_LINE_BYTES => {
                    // Skip what is left of the runaway record line by line would misread its
                    // content as records; report it once and resume after it.
                    let reason = format!(
                        "quoted field not closed within {MAX_RECORD_LINES} lines: {:?}",
                        truncate(&self.joined, 80)
                    );
                    return Ok(Some(Record::Bad {
                        line: start_line,
                        reason,
                    }));
                }
                None => {}
            }
        }
    }
}

/// Splits one CSV record into unquoted fields; `None` while a quoted field is still open.
pub(crate) fn split_csv(record: &str) -> Option<Vec<String>> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut chars = record.chars().peekable();
    let mut quoted = false;
    let mut was_quoted = false;
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                chars.next();
                field.push('"');
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') if field.trim().is_empty() && !was_quoted => {
                field.clear();
                quoted = true;
                was_quoted = true;
            }
            (false, ',') => {
                fields.push(std::mem::take(&mut field));
                was_quoted = false;
            }
            (false, c) => field.push(c),
        }
    }
    if quoted {
        return None;
    }
    fields.push(field);
    Some(fields)
}

/// One shared metadata record per distinct tag list.
pub(crate) struct TagInterner<'a> {
    base: &'a Arc<IndicatorMeta>,
    metas: HashMap<Vec<String>, Arc<IndicatorMeta>>,
}

impl<'a> TagInterner<'a> {
    pub(crate) fn new(base: &'a Arc<IndicatorMeta>) -> Self {
        TagInterner {
            base,
            metas: HashMap::new(),
        }
    }

    /// The base metadata with `tags` appended.
    pub(crate) fn get(&mut self, tags: &[String]) -> Arc<IndicatorMeta> {
        if tags.is_empty() {
            return Arc::clone(self.base);
        }
        if let Some(meta) = self.metas.get(tags) {
            return Arc::clone(meta);
        }
        let mut meta = (**self.base).clone();
        let mut all: Vec<Arc<str>> = meta.tags.to_vec();
        all.extend(tags.iter().map(|t| Arc::from(t.as_str())));
        meta.tags = all.into();
        let meta = Arc::new(meta);
        self.metas.insert(tags.to_vec(), Arc::clone(&meta));
        meta
    }
}

/// Whether `line` (a data line of a file being sniffed) looks like a JA3 list record: 32 hex
/// digits, a comma, and a second column that is not a number (a number would make it a
/// datarep file of MD5 values).
pub(crate) fn looks_like_ja3_record(line: &str) -> bool {
    let Some((hash, rest)) = line.split_once(',') else {
        return false;
    };
    let rest = rest.trim();
    hash.trim().len() == 32
        && hash.trim().bytes().all(|b| b.is_ascii_hexdigit())
        && !rest.is_empty()
        && !rest.bytes().all(|b| b.is_ascii_digit() || b == b'-')
}

#[cfg(test)]
#[path = "ja_tests.rs"]
mod tests;

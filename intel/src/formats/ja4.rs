//! FoxIO's JA4+ mapping CSV (`ja4plus-mapping.csv` in <https://github.com/FoxIO-LLC/ja4>):
//!
//! ```text
//! Application,Library,Device,OS,ja4,ja4s,ja4h,ja4x,ja4t,ja4tscan,Notes
//! Chromium Browser,,,,t13d1516h2_8daaf6152771_02713d6af862,,,,,,
//! ```
//!
//! Only the `ja4` column (the TLS client fingerprint, BSD-3 licensed) is loaded. The other JA4+
//! columns (`ja4s`, `ja4h`, `ja4x`, `ja4t`, `ja4tscan`, …) are fingerprints under FoxIO's
//! non-commercial licence: Kordon neither computes nor loads them, and a row that carries only
//! such values is counted as unsupported. `Application`, `Library`, `Device`, `OS` and `Notes`
//! become tags (`application=Chromium Browser`, `library=GoLang`, …) so the alert names what the
//! fingerprint belongs to.
//!
//! The header row is required (it names the columns; only `ja4` must be present) and may be
//! preceded by `#` comments. Rows are CSV (quoted fields allowed). A `ja4` value that is not a
//! JA4 fingerprint is rejected with the line number.

use std::io::BufRead;

use super::ja3::{CsvRecords, Record, TagInterner};
use super::plain::parse_as;
use super::{Format, FormatError, LoadOptions, indicator, submit};
use crate::matcher::IndicatorSetBuilder;
use crate::model::IndicatorKind;
use crate::report::LoadReport;

/// Columns that become tags, by lower-case header name, with the tag key they get.
const TAG_COLUMNS: &[(&str, &str)] = &[
    ("application", "application"),
    ("library", "library"),
    ("device", "device"),
    ("os", "os"),
    ("notes", "notes"),
];

/// Loads a JA4+ mapping file (see the module doc).
pub fn load_ja4(
    reader: impl BufRead,
    opts: &LoadOptions,
    builder: &mut IndicatorSetBuilder,
) -> Result<LoadReport, FormatError> {
    let mut report = LoadReport::new(opts.meta.source.to_string());
    let mut records = CsvRecords::new(reader);
    let mut interner = TagInterner::new(&opts.meta);
    // Header: lower-case column names, the ja4 column, and the tag columns.
    let mut header: Option<(Vec<String>, usize)> = None;
    while let Some(record) = records.next_record()? {
        let (number, fields) = match record {
            Record::Fields { line, fields } => (line, fields),
            Record::Blank => continue,
            Record::Bad { line, reason } => {
                report.reject(line, reason);
                continue;
            }
        };
        if fields
            .first()
            .is_some_and(|f| f.trim_start().starts_with('#'))
        {
            continue;
        }
        let Some((names, ja4_col)) = &header else {
            let names: Vec<String> = fields.iter().map(|f| f.trim().to_lowercase()).collect();
            let Some(col) = names.iter().position(|n| n == "ja4") else {
                return Err(FormatError::NotThisFormat {
                    format: Format::Ja4,
                    reason: format!("line {number}: header has no \"ja4\" column"),
                });
            };
            header = Some((names, col));
            continue;
        };
        let value = fields.get(*ja4_col).map_or("", |v| v.trim());
        if value.is_empty() {
            let other = fields
                .iter()
                .enumerate()
                .any(|(i, f)| i != *ja4_col && !f.trim().is_empty() && is_ja4plus_column(names, i));
            if other {
                report.unsupported(
                    number,
                    "only JA4+ fingerprints other than JA4 (FoxIO licence): not loaded",
                );
            } else if fields.iter().any(|f| !f.trim().is_empty()) {
                report.reject(number, "no ja4 fingerprint");
            }
            continue;
        }
        let value = match parse_as(IndicatorKind::Ja4, value) {
            Ok((_, value)) => value,
            Err(reason) => {
                report.reject(number, reason);
                continue;
            }
        };
        let tags: Vec<String> = TAG_COLUMNS
            .iter()
            .filter_map(|(column, key)| {
                let i = names.iter().position(|n| n == column)?;
                let v = fields.get(i)?.trim();
                (!v.is_empty()).then(|| format!("{key}={v}"))
            })
            .collect();
        let meta = interner.get(&tags);
        submit(
            &mut report,
            builder,
            opts,
            number,
            indicator(IndicatorKind::Ja4, value, None, &meta),
            0,
        );
    }
    if header.is_none() {
        return Err(FormatError::NotThisFormat {
            format: Format::Ja4,
            reason: "no header row".to_owned(),
        });
    }
    Ok(report)
}

/// Whether column `i` holds a JA4+ fingerprint (`ja4s`, `ja4h`, …) rather than a tag column.
fn is_ja4plus_column(names: &[String], i: usize) -> bool {
    names.get(i).is_some_and(|n| n.starts_with("ja4"))
}

/// Whether `line` is a JA4+ mapping header: CSV columns, one of them exactly `ja4`, and another
/// JA4+ column (so a one-column list of JA4 values headed `ja4` is not mistaken for it).
pub(crate) fn looks_like_ja4_header(line: &str) -> bool {
    let names: Vec<String> = line
        .split(',')
        .map(|f| f.trim().trim_matches('"').to_lowercase())
        .collect();
    names.iter().any(|n| n == "ja4") && names.iter().any(|n| n.starts_with("ja4") && n != "ja4")
}

//! Feed formats: readers that turn a feed file into indicators in an [`IndicatorSetBuilder`] and
//! a [`LoadReport`] that accounts for every line.
//!
//! Every loader has the same shape,
//!
//! ```text
//! pub fn load_<format>(reader: impl BufRead, opts: &LoadOptions, builder: &mut IndicatorSetBuilder)
//!     -> Result<LoadReport, FormatError>
//! ```
//!
//! and the same contract: [`FormatError`] only for I/O errors, a missing option, or input that is
//! not this format at all; everything wrong with a single line goes into the report with its line
//! number. Comment and blank lines aside, each line is counted exactly once (accepted, duplicate,
//! allowlisted, expired, unsupported or rejected). Lines may end in CRLF; a UTF-8 BOM is ignored;
//! a line that is not UTF-8 or is longer than [`MAX_LINE_BYTES`] is rejected without reading it
//! into memory whole.
//!
//! [`load_path`] picks the format from [`LoadOptions::format`] or from the content, and loads
//! every file of a directory in name order.

mod dataset;
mod iprep;
mod ja3;
mod ja4;
mod json;
mod lines;
pub mod misp;
mod plain;
pub(crate) mod rfc3339;
pub mod stix;
mod zeek;

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use dataset::{DatasetType, load_dataset};
pub use iprep::{IprepCategories, IprepCategory, load_iprep};
pub use ja3::load_ja3;
pub use ja4::load_ja4;
pub use json::MAX_JSON_BYTES;
pub use lines::MAX_LINE_BYTES;
pub use misp::{load_misp, load_misp_feed};
pub use plain::load_plain;
pub use stix::load_stix;
pub use zeek::load_zeek;

use crate::allowlist::Allowlist;
use crate::matcher::IndicatorSetBuilder;
use crate::model::{Indicator, IndicatorKind, IndicatorMeta, IndicatorValue};
use crate::report::LoadReport;

/// A feed file format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Format {
    /// One value per line with `#` comments; kind inferred per line or forced by
    /// [`LoadOptions::plain_kind`]. See [`load_plain`].
    Plain,
    /// Zeek Intelligence Framework files (`#fields` header). See [`load_zeek`].
    Zeek,
    /// Suricata dataset / datarep files (`value` or `value,reputation`); the type comes from
    /// [`LoadOptions::dataset_type`]. See [`load_dataset`].
    Dataset,
    /// Suricata IP reputation files (`address-or-network,category,score`); needs
    /// [`LoadOptions::iprep_categories`]. See [`load_iprep`].
    Iprep,
    /// JA3 fingerprint lists in Salesforce's CSV shape (`hash,"application,…"`). See
    /// [`load_ja3`].
    Ja3,
    /// FoxIO's JA4+ mapping CSV; only the `ja4` column is loaded. See [`load_ja4`].
    Ja4,
    /// OT policy files (TOML or JSON): which hosts may issue which OT function classes. Never
    /// detected from content; name it explicitly. See [`crate::ot::load_ot_policy`].
    OtPolicy,
    /// MISP events (`{"Event": …}` or `{"response": [{"Event": …}]}`) and MISP feed
    /// directories (`manifest.json` + `<uuid>.json`). See [`load_misp`] and [`load_misp_feed`].
    Misp,
    /// STIX 2.0 / 2.1 bundles (and TAXII envelopes). See [`load_stix`].
    Stix,
}

impl Format {
    /// Name used in configs and source labels.
    pub fn as_str(self) -> &'static str {
        match self {
            Format::Plain => "plain",
            Format::Zeek => "zeek",
            Format::Dataset => "dataset",
            Format::Iprep => "iprep",
            Format::Ja3 => "ja3",
            Format::Ja4 => "ja4",
            Format::OtPolicy => "ot-policy",
            Format::Misp => "misp",
            Format::Stix => "stix",
        }
    }

    /// Parses [`Format::as_str`] names (also `datarep` for [`Format::Dataset`]).
    pub fn from_name(name: &str) -> Option<Format> {
        match name.trim().to_ascii_lowercase().as_str() {
            "plain" | "list" => Some(Format::Plain),
            "zeek" | "intel" => Some(Format::Zeek),
            "dataset" | "datarep" => Some(Format::Dataset),
            "iprep" => Some(Format::Iprep),
            "ot-policy" | "ot_policy" | "otpolicy" => Some(Format::OtPolicy),
            "ja3" => Some(Format::Ja3),
            "ja4" | "ja4plus" => Some(Format::Ja4),
            "misp" => Some(Format::Misp),
            "stix" | "stix2" | "stix21" => Some(Format::Stix),
            _ => None,
        }
    }
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a loader needs besides the bytes.
#[derive(Clone, Debug)]
pub struct LoadOptions {
    /// Metadata given to every entry (source, set, severity, confidence, TLP, tags, validity,
    /// allowlist). Shared by `Arc` so a million entries cost one record; loaders derive a new
    /// `Arc` only per distinct per-line metadata (Zeek `meta.source`, iprep categories).
    /// When `source` is empty, [`load_path`] fills in `<format>:<path>`.
    pub meta: Arc<IndicatorMeta>,
    /// Unix seconds used to decide which entries have already expired at load time (those are
    /// counted as `expired` and not added). Defaults to the current time.
    pub now: i64,
    /// Format for [`load_path`]; `None` detects it from the content. Defaults to `None`.
    pub format: Option<Format>,
    /// Kind of every line of a plain list; `None` infers it per line. Defaults to `None`.
    pub plain_kind: Option<IndicatorKind>,
    /// Type of a Suricata dataset (not written in the file). Required for [`load_dataset`];
    /// [`load_path`] guesses it from the first value when `None`. Defaults to `None`.
    pub dataset_type: Option<DatasetType>,
    /// The iprep categories file, parsed. Required for [`load_iprep`]. Defaults to `None`.
    pub iprep_categories: Option<Arc<IprepCategories>>,
    /// The load-time allowlist: entries it covers (loopback, documentation, private, own ranges
    /// and domains) are counted as `suppressed` and never added. `None` turns it off. Defaults
    /// to [`Allowlist::builtin`].
    pub allowlist: Option<Arc<Allowlist>>,
    /// Load MISP attributes whose `to_ids` flag is false too (they are context, not detection,
    /// in MISP's own model; when not loaded they are counted as skipped). Defaults to `false`.
    pub misp_include_non_ids: bool,
    /// Treat a MISP attribute's `last_seen` as the end of its validity. Off by default because
    /// MISP defines `last_seen` as an observation time, not an expiry: honouring it would
    /// expire every historical event at load. `first_seen` always becomes `valid_from`.
    /// Defaults to `false`.
    pub misp_last_seen_expires: bool,
}

impl Default for LoadOptions {
    fn default() -> Self {
        LoadOptions::new(Arc::new(IndicatorMeta::default()))
    }
}

impl LoadOptions {
    /// Options with the given metadata, `now` set to the current time, and everything else
    /// detected.
    pub fn new(meta: Arc<IndicatorMeta>) -> Self {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
        LoadOptions {
            meta,
            now,
            format: None,
            plain_kind: None,
            dataset_type: None,
            iprep_categories: None,
            allowlist: Some(Arc::new(Allowlist::builtin())),
            misp_include_non_ids: false,
            misp_last_seen_expires: false,
        }
    }
}

/// Why a whole feed could not be loaded. Problems with single lines are never errors; they go
/// into the [`LoadReport`].
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FormatError {
    /// Reading failed.
    #[error("I/O error: {0}")]
    Io(#[from] io::Error),
    /// The input is not in the expected format at all.
    #[error("not a {format} file: {reason}")]
    NotThisFormat {
        /// The format that was expected.
        format: Format,
        /// What is missing or wrong.
        reason: String,
    },
    /// The format needs an option that was not given.
    #[error("{format} files need {option}")]
    MissingOption {
        /// The format.
        format: Format,
        /// The option, as a phrase.
        option: &'static str,
    },
    /// The input is larger than a loader's bound (structured formats are read whole).
    #[error("{format} input larger than {limit} bytes")]
    TooLarge {
        /// The format.
        format: Format,
        /// The bound, in bytes.
        limit: usize,
    },
    /// An error in one file of a directory or a named path.
    #[error("{}: {source}", path.display())]
    InFile {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: Box<FormatError>,
    },
}

/// Loads a file, or every file of a directory (recursively, in name order, hidden entries
/// skipped; the reports are merged, each reason prefixed with its file's source name).
///
/// The format is [`LoadOptions::format`] if set, otherwise detected from the content: a `#fields`
/// line means Zeek; else the first data line (after a leading multi-line quoted notice) decides —
/// a CSV header with a `ja4` column and another `ja4*` column is a JA4+ mapping, `32-hex,text` a
/// JA3 list, `address-or-network,number,number` is iprep, `value,number` a datarep file (dataset
/// type guessed from the value unless [`LoadOptions::dataset_type`] is set), anything else a
/// plain list. A dataset file without a
/// reputation column is indistinguishable from a plain list, so it needs `format` or
/// `dataset_type` set explicitly.
///
/// A directory fails as a whole if any file fails: a bad feed must never half-replace a good set.
pub fn load_path(
    path: &Path,
    opts: &LoadOptions,
    builder: &mut IndicatorSetBuilder,
) -> Result<LoadReport, FormatError> {
    let wrap = |e: FormatError| FormatError::InFile {
        path: path.to_owned(),
        source: Box::new(e),
    };
    let meta = std::fs::metadata(path).map_err(|e| wrap(e.into()))?;
    if !meta.is_dir() {
        return load_file(path, opts, builder).map_err(wrap);
    }
    if matches!(opts.format, None | Some(Format::Misp)) && path.join("manifest.json").is_file() {
        return load_misp_feed(path, opts, builder).map_err(wrap);
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(path)
        .map_err(|e| wrap(e.into()))?
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| {
            !p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with('.'))
        })
        .collect();
    files.sort();
    let mut total = LoadReport::new(path.display().to_string());
    for file in files {
        total.merge(load_path(&file, opts, builder)?);
    }
    Ok(total)
}

/// Loads one file with the configured or detected format.
/// Most indicators reserved up front for one file (see [`load_file`]).
const MAX_RESERVE: u64 = 16 * 1024 * 1024;

fn load_file(
    path: &Path,
    opts: &LoadOptions,
    builder: &mut IndicatorSetBuilder,
) -> Result<LoadReport, FormatError> {
    let file = File::open(path)?;
    // About one indicator per 12 bytes of list (an IPv4 line is 8–16): reserving up front
    // spares the builder a rehash per doubling; capped so a huge non-list file cannot make us
    // reserve absurd amounts.
    let estimate = file.metadata().map_or(0, |m| m.len() / 12);
    builder.reserve(usize::try_from(estimate.min(MAX_RESERVE)).unwrap_or(0));
    let mut reader = BufReader::with_capacity(64 * 1024, file);
    let (format, guessed_type) = match opts.format {
        Some(Format::Dataset) if opts.dataset_type.is_none() => {
            (Format::Dataset, detect(&mut reader)?.1)
        }
        Some(format) => (format, None),
        None => detect(&mut reader)?,
    };
    let mut opts = opts.clone();
    if opts.meta.source.is_empty() {
        let mut meta = (*opts.meta).clone();
        meta.source = format!("{format}:{}", path.display()).into();
        opts.meta = Arc::new(meta);
    }
    if opts.dataset_type.is_none() {
        opts.dataset_type = guessed_type;
    }
    match format {
        Format::Plain => load_plain(reader, &opts, builder),
        Format::Zeek => load_zeek(reader, &opts, builder),
        Format::Dataset => load_dataset(reader, &opts, builder),
        Format::Iprep => load_iprep(reader, &opts, builder),
        Format::Ja3 => load_ja3(reader, &opts, builder),
        Format::Ja4 => load_ja4(reader, &opts, builder),
        Format::OtPolicy => crate::ot::load_ot_policy(reader, &opts, builder),
        Format::Misp => load_misp(reader, &opts, builder),
        Format::Stix => load_stix(reader, &opts, builder),
    }
}

/// How many bytes of a file [`load_path`] looks at to detect its format.
const DETECT_BYTES: u64 = 64 * 1024;

/// Detects the format from the start of the content without consuming it: the reader is
/// rewound by buffering, so only the first [`DETECT_BYTES`] are inspected.
fn detect<R: BufRead + io::Seek>(
    reader: &mut R,
) -> Result<(Format, Option<DatasetType>), FormatError> {
    let mut head = Vec::new();
    reader.by_ref().take(DETECT_BYTES).read_to_end(&mut head)?;
    reader.seek(io::SeekFrom::Start(0))?;
    let text = String::from_utf8_lossy(&head);
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    if let Some(format) = detect_json(text) {
        return Ok((format, None));
    }
    let mut first_data = None;
    // A quoted CSV field that spans lines (the licence notice opening Salesforce's JA3 lists)
    // is skipped as a whole: its lines are not data.
    let mut in_quote = false;
    for line in text.lines() {
        let quotes = line.bytes().filter(|&b| b == b'"').count();
        if in_quote {
            in_quote = quotes.is_multiple_of(2);
            continue;
        }
        let line = line.trim();
        if line.starts_with("#fields") {
            return Ok((Format::Zeek, None));
        }
        if first_data.is_none() && !line.is_empty() && !line.starts_with('#') {
            if quotes % 2 == 1 {
                in_quote = true;
                continue;
            }
            first_data = Some(line.to_owned());
        }
    }
    let Some(line) = first_data else {
        return Ok((Format::Plain, None));
    };
    if ja4::looks_like_ja4_header(&line) {
        return Ok((Format::Ja4, None));
    }
    if ja3::looks_like_ja3_record(&line) {
        return Ok((Format::Ja3, None));
    }
    let cols: Vec<&str> = line.split(',').map(str::trim).collect();
    let is_number = |s: &&str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let is_ip_or_net =
        |s: &str| s.parse::<std::net::IpAddr>().is_ok() || s.parse::<ipnet::IpNet>().is_ok();
    match cols.as_slice() {
        [value, cat, score] if is_ip_or_net(value) && is_number(cat) && is_number(score) => {
            Ok((Format::Iprep, None))
        }
        [value, rep] if is_number(rep) => Ok((Format::Dataset, Some(DatasetType::guess(value)))),
        _ => Ok((Format::Plain, None)),
    }
}

/// Recognises the JSON feed formats from their first bytes: an object whose first keys include
/// `"Event"` or `"response"` is MISP, one with `"type": "bundle"` is STIX. Only the detection
/// window is looked at, so the check is on the text, not a parse.
fn detect_json(text: &str) -> Option<Format> {
    if !text.trim_start().starts_with('{') {
        return None;
    }
    let compact: String = text
        .chars()
        .take(4096)
        .filter(|c| !c.is_whitespace())
        .collect();
    if compact.starts_with("{\"Event\":") || compact.starts_with("{\"response\":") {
        Some(Format::Misp)
    } else if compact.contains("\"type\":\"bundle\"") || compact.starts_with("{\"objects\":[") {
        Some(Format::Stix)
    } else {
        None
    }
}

/// Adds one indicator built by a loader, accounting for it in the report: already expired at
/// `opts.now` → `expired` (not added); covered by the load-time allowlist
/// ([`LoadOptions::allowlist`]) → `suppressed` with the reason, attributed to `line` (not added);
/// otherwise accepted/allowlisted or duplicate.
pub(crate) fn submit(
    report: &mut LoadReport,
    builder: &mut IndicatorSetBuilder,
    opts: &LoadOptions,
    line: usize,
    indicator: Indicator,
    category: u8,
) {
    if indicator
        .meta
        .valid_until
        .is_some_and(|until| opts.now >= until)
    {
        report.expired += 1;
        return;
    }
    if let Some(reason) = opts.allowlist.as_ref().and_then(|a| a.check(&indicator)) {
        report.suppress(line, reason);
        return;
    }
    let kind = indicator.kind;
    let allowlist = indicator.meta.allowlist;
    let outcome = builder.add_in_category(indicator, category);
    report.record(outcome, kind, allowlist);
}

/// An indicator without a feed id.
pub(crate) fn indicator(
    kind: IndicatorKind,
    value: IndicatorValue,
    score: Option<i32>,
    meta: &Arc<IndicatorMeta>,
) -> Indicator {
    Indicator {
        id: None,
        kind,
        value,
        score,
        meta: Arc::clone(meta),
    }
}

/// The address kind of an IP value.
pub(crate) fn ip_kind(ip: &std::net::IpAddr) -> IndicatorKind {
    if ip.is_ipv4() {
        IndicatorKind::Ipv4
    } else {
        IndicatorKind::Ipv6
    }
}

/// Parses an address or a network: host bits are cleared, and a full-length network (/32,
/// /128) becomes the address it names.
pub(crate) fn parse_ip_or_net(s: &str) -> Result<(IndicatorKind, IndicatorValue), String> {
    if let Ok(ip) = s.parse::<std::net::IpAddr>() {
        return Ok((ip_kind(&ip), IndicatorValue::Ip(ip)));
    }
    match s.parse::<ipnet::IpNet>() {
        Ok(net) => {
            let net = net.trunc();
            if net.prefix_len() == net.max_prefix_len() {
                let ip = net.addr();
                Ok((ip_kind(&ip), IndicatorValue::Ip(ip)))
            } else {
                Ok((IndicatorKind::Cidr, IndicatorValue::Cidr(net)))
            }
        }
        Err(_) => Err(format!(
            "{:?} is not an IP address or network",
            truncate(s, 80)
        )),
    }
}

/// At most `max` bytes of `s` (on a char boundary), for quoting input in reasons.
pub(crate) fn truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s.get(..end).unwrap_or("")
}

#[cfg(test)]
mod tests;

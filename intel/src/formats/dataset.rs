//! Suricata datasets and datarep files
//! (<https://docs.suricata.io/en/latest/rules/datasets.html>).
//!
//! One value per line, optionally followed by `,<reputation>` (the datarep format; Suricata's
//! state files use the same layout). The type is not in the file; it comes from
//! [`LoadOptions::dataset_type`], as it comes from the rule in Suricata:
//!
//! * `string`: base64 (standard alphabet, padded) of the value → kind `string`. A line that is not
//!   valid base64 is rejected (Suricata refuses such files: "bad base64 encoding"); a value that
//!   decodes to bytes that are not UTF-8 is rejected too, because matching is on text.
//! * `md5`, `sha256`: hex digests → kinds `md5`/`sha256`, lower-cased.
//! * `ip`: IPv4 or IPv6 address; `ipv4`: IPv4 only; `ipv6`: IPv6 only (including IPv4-mapped
//!   `::ffff:a.b.c.d`, which the matcher files under the IPv4 address).
//!
//! The reputation becomes the indicator's score; Suricata stores it as a 16-bit value, so
//! 0–65535 is accepted. Lines starting with `#` are treated as comments (no valid value starts
//! with `#`).

use std::io::BufRead;
use std::net::IpAddr;

use base64::Engine;

use super::lines::{Lines, data_text};
use super::{Format, FormatError, LoadOptions, indicator, ip_kind, submit, truncate};
use crate::matcher::IndicatorSetBuilder;
use crate::model::{IndicatorKind, IndicatorValue};
use crate::normalize;
use crate::report::LoadReport;

/// A Suricata dataset type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DatasetType {
    /// Base64-encoded strings.
    String,
    /// MD5 hex digests.
    Md5,
    /// SHA-256 hex digests.
    Sha256,
    /// IPv4 or IPv6 addresses.
    Ip,
    /// IPv4 addresses only.
    Ipv4,
    /// IPv6 addresses only.
    Ipv6,
}

impl DatasetType {
    /// Parses the name used in Suricata rules (`type string`, `type ipv4`, …).
    pub fn from_name(name: &str) -> Option<DatasetType> {
        match name.trim().to_ascii_lowercase().as_str() {
            "string" => Some(DatasetType::String),
            "md5" => Some(DatasetType::Md5),
            "sha256" => Some(DatasetType::Sha256),
            "ip" => Some(DatasetType::Ip),
            "ipv4" => Some(DatasetType::Ipv4),
            "ipv6" => Some(DatasetType::Ipv6),
            _ => None,
        }
    }

    /// The name used in Suricata rules.
    pub fn as_str(self) -> &'static str {
        match self {
            DatasetType::String => "string",
            DatasetType::Md5 => "md5",
            DatasetType::Sha256 => "sha256",
            DatasetType::Ip => "ip",
            DatasetType::Ipv4 => "ipv4",
            DatasetType::Ipv6 => "ipv6",
        }
    }

    /// Best guess from one value, for content detection: addresses → `ip`, 32/64 hex digits →
    /// `md5`/`sha256`, anything else → `string`.
    pub fn guess(value: &str) -> DatasetType {
        let v = value.trim();
        if v.parse::<IpAddr>().is_ok() {
            DatasetType::Ip
        } else if v.len() == 32 && v.bytes().all(|b| b.is_ascii_hexdigit()) {
            DatasetType::Md5
        } else if v.len() == 64 && v.bytes().all(|b| b.is_ascii_hexdigit()) {
            DatasetType::Sha256
        } else {
            DatasetType::String
        }
    }
}

/// Loads a dataset or datarep file (see the module doc).
pub fn load_dataset(
    reader: impl BufRead,
    opts: &LoadOptions,
    builder: &mut IndicatorSetBuilder,
) -> Result<LoadReport, FormatError> {
    let Some(dtype) = opts.dataset_type else {
        return Err(FormatError::MissingOption {
            format: Format::Dataset,
            option: "a dataset type (string, md5, sha256, ip, ipv4 or ipv6)",
        });
    };
    let mut report = LoadReport::new(opts.meta.source.to_string());
    let mut lines = Lines::new(reader);
    while let Some((number, line)) = lines.next_line()? {
        let Some(text) = data_text(&mut report, number, line) else {
            continue;
        };
        let (value, score) = match text.split_once(',') {
            None => (text, None),
            Some((value, rep)) => match rep.trim().parse::<u16>() {
                Ok(rep) => (value.trim(), Some(i32::from(rep))),
                Err(_) => {
                    report.reject(
                        number,
                        format!(
                            "reputation {:?} is not a number between 0 and 65535",
                            truncate(rep, 40)
                        ),
                    );
                    continue;
                }
            },
        };
        match parse_value(dtype, value) {
            Ok((kind, value)) => submit(
                &mut report,
                builder,
                opts,
                number,
                indicator(kind, value, score, &opts.meta),
                0,
            ),
            Err(reason) => report.reject(number, reason),
        }
    }
    Ok(report)
}

fn parse_value(dtype: DatasetType, value: &str) -> Result<(IndicatorKind, IndicatorValue), String> {
    let quoted = || format!("{:?}", truncate(value, 80));
    match dtype {
        DatasetType::String => {
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(value)
                .map_err(|e| format!("bad base64 encoding {}: {e}", quoted()))?;
            let text = String::from_utf8(bytes)
                .map_err(|_| format!("{} decodes to bytes that are not UTF-8", quoted()))?;
            Ok((IndicatorKind::String, IndicatorValue::Text(text)))
        }
        DatasetType::Md5 => normalize::hex_digest(value, 32)
            .map(|h| (IndicatorKind::Md5, IndicatorValue::Text(h)))
            .ok_or_else(|| format!("{} is not an MD5 digest (32 hex digits)", quoted())),
        DatasetType::Sha256 => normalize::hex_digest(value, 64)
            .map(|h| (IndicatorKind::Sha256, IndicatorValue::Text(h)))
            .ok_or_else(|| format!("{} is not a SHA-256 digest (64 hex digits)", quoted())),
        DatasetType::Ip | DatasetType::Ipv4 | DatasetType::Ipv6 => {
            let ip: IpAddr = value
                .parse()
                .map_err(|_| format!("{} is not an IP address", quoted()))?;
            match (dtype, ip) {
                (DatasetType::Ipv4, IpAddr::V6(_)) => Err(format!(
                    "{} is IPv6, but the dataset type is ipv4",
                    quoted()
                )),
                (DatasetType::Ipv6, IpAddr::V4(_)) => Err(format!(
                    "{} is IPv4, but the dataset type is ipv6 (write ::ffff:{value})",
                    quoted()
                )),
                _ => Ok((ip_kind(&ip), IndicatorValue::Ip(ip))),
            }
        }
    }
}

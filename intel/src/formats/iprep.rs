//! Suricata IP reputation files
//! (<https://docs.suricata.io/en/latest/reputation/ipreputation/ip-reputation-format.html>).
//!
//! A categories file maps ids to names (`id,shortname,description`, ids 1–60); reputation files
//! list `address-or-network,category-id,score` with scores 0–127. Each reputation line becomes an
//! ipv4/ipv6/cidr indicator (host bits cleared; a /32 or /128 is the address itself) with
//! `score = Some(score)` and the tag `iprep:<shortname>`.
//!
//! Dedup: Suricata keeps one score per (address, category), and real feeds list the same address
//! under several categories (1,488 of the 27,530 lines of the Scirius feed in the corpus). So
//! entries are deduplicated on (kind, value, category) through
//! [`IndicatorSetBuilder::add_in_category`]: each category keeps its own score and tag, and only
//! a repeat within one category is a duplicate (the first score wins, as elsewhere).

use std::collections::HashMap;
use std::io::BufRead;
use std::path::Path;
use std::sync::Arc;

use super::lines::{Lines, data_text};
use super::{Format, FormatError, LoadOptions, indicator, parse_ip_or_net, submit, truncate};
use crate::matcher::IndicatorSetBuilder;
use crate::model::IndicatorMeta;
use crate::report::LoadReport;

/// Highest category id Suricata accepts.
pub const MAX_CATEGORY_ID: u8 = 60;
/// Highest reputation score Suricata accepts.
pub const MAX_SCORE: u8 = 127;

/// One iprep category.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IprepCategory {
    /// Id, 1–60.
    pub id: u8,
    /// Short name used in rules (`iprep:src,<shortname>,>,30`) and in the `iprep:` tag.
    pub short_name: String,
    /// Human description.
    pub description: String,
}

/// A parsed categories file.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct IprepCategories {
    by_id: Vec<Option<IprepCategory>>,
}

impl IprepCategories {
    /// Parses a categories file; bad lines (and repeated ids) are rejected in the report.
    pub fn load(
        reader: impl BufRead,
        source: &str,
    ) -> Result<(IprepCategories, LoadReport), FormatError> {
        let mut report = LoadReport::new(source);
        let mut categories = IprepCategories {
            by_id: vec![None; usize::from(MAX_CATEGORY_ID) + 1],
        };
        let mut lines = Lines::new(reader);
        while let Some((number, line)) = lines.next_line()? {
            let Some(text) = data_text(&mut report, number, line) else {
                continue;
            };
            let mut parts = text.splitn(3, ',');
            let (Some(id), Some(name), description) = (parts.next(), parts.next(), parts.next())
            else {
                report.reject(number, "expected id,shortname,description");
                continue;
            };
            let id = match id.trim().parse::<u8>() {
                Ok(id) if (1..=MAX_CATEGORY_ID).contains(&id) => id,
                _ => {
                    report.reject(
                        number,
                        format!(
                            "category id {:?} is not a number between 1 and {MAX_CATEGORY_ID}",
                            truncate(id, 20)
                        ),
                    );
                    continue;
                }
            };
            let name = name.trim();
            if name.is_empty() {
                report.reject(number, "empty category short name");
                continue;
            }
            let Some(slot) = categories.by_id.get_mut(usize::from(id)) else {
                continue;
            };
            if slot.is_some() {
                report.duplicates += 1;
                continue;
            }
            *slot = Some(IprepCategory {
                id,
                short_name: name.to_owned(),
                description: description.unwrap_or("").trim().to_owned(),
            });
            report.accepted += 1;
        }
        Ok((categories, report))
    }

    /// Reads and parses a categories file.
    pub fn load_path(path: &Path) -> Result<(IprepCategories, LoadReport), FormatError> {
        let file = std::fs::File::open(path).map_err(|e| FormatError::InFile {
            path: path.to_owned(),
            source: Box::new(e.into()),
        })?;
        IprepCategories::load(std::io::BufReader::new(file), &path.display().to_string())
    }

    /// The category with this id.
    pub fn get(&self, id: u8) -> Option<&IprepCategory> {
        self.by_id.get(usize::from(id)).and_then(Option::as_ref)
    }

    /// The category with this short name.
    pub fn by_name(&self, short_name: &str) -> Option<&IprepCategory> {
        self.by_id
            .iter()
            .flatten()
            .find(|c| c.short_name == short_name)
    }

    /// Number of categories.
    pub fn len(&self) -> usize {
        self.by_id.iter().flatten().count()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Loads a reputation file; needs [`LoadOptions::iprep_categories`].
pub fn load_iprep(
    reader: impl BufRead,
    opts: &LoadOptions,
    builder: &mut IndicatorSetBuilder,
) -> Result<LoadReport, FormatError> {
    let Some(categories) = &opts.iprep_categories else {
        return Err(FormatError::MissingOption {
            format: Format::Iprep,
            option: "a categories file",
        });
    };
    let mut report = LoadReport::new(opts.meta.source.to_string());
    let mut metas: HashMap<u8, Arc<IndicatorMeta>> = HashMap::new();
    let mut lines = Lines::new(reader);
    while let Some((number, line)) = lines.next_line()? {
        let Some(text) = data_text(&mut report, number, line) else {
            continue;
        };
        let parts: Vec<&str> = text.split(',').map(str::trim).collect();
        let [value, category, score] = parts.as_slice() else {
            report.reject(
                number,
                format!(
                    "expected address,category,score; got {} columns",
                    parts.len()
                ),
            );
            continue;
        };
        let category = match category
            .parse::<u8>()
            .ok()
            .and_then(|id| categories.get(id))
        {
            Some(c) => c,
            None => {
                report.reject(
                    number,
                    format!("unknown category {:?}", truncate(category, 20)),
                );
                continue;
            }
        };
        let score = match score.parse::<u8>() {
            Ok(s) if s <= MAX_SCORE => s,
            _ => {
                report.reject(
                    number,
                    format!(
                        "score {:?} is not a number between 0 and {MAX_SCORE}",
                        truncate(score, 20)
                    ),
                );
                continue;
            }
        };
        let (kind, value) = match parse_ip_or_net(value) {
            Ok(parsed) => parsed,
            Err(reason) => {
                report.reject(number, reason);
                continue;
            }
        };
        let meta = metas.entry(category.id).or_insert_with(|| {
            let mut meta = (*opts.meta).clone();
            let mut tags = meta.tags.to_vec();
            tags.push(Arc::from(format!("iprep:{}", category.short_name)));
            meta.tags = tags.into();
            Arc::new(meta)
        });
        let ind = indicator(kind, value, Some(i32::from(score)), meta);
        submit(&mut report, builder, opts, number, ind, category.id);
    }
    Ok(report)
}

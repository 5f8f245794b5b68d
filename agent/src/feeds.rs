//! Loading the indicator files named on the command line into one compiled set.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use kordon_intel::allowlist::Allowlist;
use kordon_intel::formats::{self, DatasetType, Format, IprepCategories, LoadOptions};
use kordon_intel::{IndicatorKind, IndicatorMeta, IndicatorSet, IndicatorSetBuilder, LoadReport};

/// One `--indicators` argument.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FeedSpec {
    /// File or directory.
    pub path: PathBuf,
    /// Forced format, or `None` to detect it from the content.
    pub format: Option<Format>,
    /// Forced kind for plain lists.
    pub plain_kind: Option<IndicatorKind>,
    /// Suricata dataset type.
    pub dataset_type: Option<DatasetType>,
    /// Suricata iprep categories file.
    pub iprep_categories: Option<PathBuf>,
}

/// Why loading failed as a whole.
#[derive(Debug, thiserror::Error)]
pub enum FeedError {
    /// The feed could not be read or is not in the given format.
    #[error("{path}: {source}")]
    Format {
        /// The spec's path.
        path: String,
        /// Cause.
        source: formats::FormatError,
    },
    /// The iprep categories file is unusable.
    #[error("iprep categories {path}: {reason}")]
    Categories {
        /// Path.
        path: String,
        /// Cause.
        reason: String,
    },
    /// The set could not be compiled.
    #[error(transparent)]
    Build(#[from] kordon_intel::BuildError),
}

/// The compiled set and one report per spec.
#[derive(Debug)]
pub struct Loaded {
    /// The compiled set.
    pub set: IndicatorSet,
    /// What each file contributed.
    pub reports: Vec<LoadReport>,
}

impl FeedSpec {
    /// Parses `PATH` or `FORMAT[:OPTION]=PATH` (see `--indicators`). A prefix before `=` whose
    /// part before any `:` is a format name is a spec (so `iprep:/etc/cats.txt=/etc/rep.list`
    /// works); any other prefix without `/` or `.` is an unknown format and an error rather than
    /// a file name. Paths containing `=` can be written with a `./` prefix.
    pub fn parse(spec: &str) -> Result<FeedSpec, String> {
        let mut out = FeedSpec {
            path: PathBuf::from(spec),
            format: None,
            plain_kind: None,
            dataset_type: None,
            iprep_categories: None,
        };
        let Some((prefix, path)) = spec.split_once('=') else {
            return Ok(out);
        };
        let (name, option) = match prefix.split_once(':') {
            Some((name, option)) => (name, Some(option)),
            None => (prefix, None),
        };
        let names_a_format = Format::from_name(name).is_some();
        if !names_a_format && (prefix.contains('/') || prefix.contains('.')) {
            return Ok(out);
        }
        if path.is_empty() {
            return Err(format!("{spec:?}: no path after '='"));
        }
        out.path = PathBuf::from(path);
        let format = Format::from_name(name).ok_or_else(|| {
            format!("{spec:?}: unknown format {name:?} (plain, zeek, dataset, iprep, ja3, ja4)")
        })?;
        out.format = Some(format);
        match (format, option) {
            (Format::Plain, Some(kind)) => {
                out.plain_kind = Some(
                    IndicatorKind::from_name(kind)
                        .ok_or_else(|| format!("{spec:?}: unknown indicator kind {kind:?}"))?,
                );
            }
            (Format::Dataset, Some(kind)) => {
                out.dataset_type = Some(DatasetType::from_name(kind).ok_or_else(|| {
                    format!("{spec:?}: unknown dataset type {kind:?} (string, md5, sha256, ip, ipv4, ipv6)")
                })?);
            }
            (Format::Dataset, None) => {
                return Err(format!(
                    "{spec:?}: dataset needs a type, e.g. dataset:ipv4=PATH"
                ));
            }
            (Format::Iprep, Some(categories)) if !categories.is_empty() => {
                out.iprep_categories = Some(PathBuf::from(categories));
            }
            (Format::Iprep, _) => {
                return Err(format!(
                    "{spec:?}: iprep needs its categories file, e.g. iprep:categories.txt=PATH"
                ));
            }
            (_, Some(option)) => {
                return Err(format!(
                    "{spec:?}: format {name} takes no option ({option:?})"
                ));
            }
            (_, None) => {}
        }
        Ok(out)
    }
}

/// Loads every spec into one set, giving entries `defaults` where their feed says nothing and
/// keeping out what `allowlist` covers (counted in the reports). Any
/// file that fails as a whole fails the load: a set missing a feed must not silently go live.
pub fn load_all(
    specs: &[FeedSpec],
    defaults: &IndicatorMeta,
    allowlist: &Allowlist,
) -> Result<Loaded, FeedError> {
    let mut builder = IndicatorSetBuilder::new();
    let mut reports = Vec::with_capacity(specs.len());
    let meta = Arc::new(defaults.clone());
    let allowlist = Arc::new(allowlist.clone());
    for spec in specs {
        let mut options = LoadOptions::new(Arc::clone(&meta));
        options.allowlist = Some(Arc::clone(&allowlist));
        options.format = spec.format;
        options.plain_kind = spec.plain_kind;
        options.dataset_type = spec.dataset_type;
        if let Some(path) = &spec.iprep_categories {
            let (categories, report) = load_categories(path)?;
            reports.push(report);
            options.iprep_categories = Some(Arc::new(categories));
        }
        let report = formats::load_path(&spec.path, &options, &mut builder).map_err(|source| {
            FeedError::Format {
                path: spec.path.display().to_string(),
                source,
            }
        })?;
        reports.push(report);
    }
    Ok(Loaded {
        set: builder.build()?,
        reports,
    })
}

fn load_categories(path: &Path) -> Result<(IprepCategories, LoadReport), FeedError> {
    let error = |reason: String| FeedError::Categories {
        path: path.display().to_string(),
        reason,
    };
    let file = std::fs::File::open(path).map_err(|e| error(e.to_string()))?;
    let source = format!("iprep-categories:{}", path.display());
    IprepCategories::load(std::io::BufReader::new(file), &source).map_err(|e| error(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specs_parse() {
        let plain = FeedSpec::parse("feeds/bad.txt").expect("path");
        assert_eq!(plain.format, None);
        assert_eq!(plain.path, PathBuf::from("feeds/bad.txt"));
        let zeek = FeedSpec::parse("zeek=intel.dat").expect("zeek");
        assert_eq!(zeek.format, Some(Format::Zeek));
        let dataset = FeedSpec::parse("dataset:ipv4=list.csv").expect("dataset");
        assert_eq!(dataset.format, Some(Format::Dataset));
        assert!(dataset.dataset_type.is_some());
        let iprep = FeedSpec::parse("iprep:cat.txt=rep.list").expect("iprep");
        assert_eq!(iprep.iprep_categories, Some(PathBuf::from("cat.txt")));
        let iprep_abs = FeedSpec::parse("iprep:/etc/k/cat.txt=/etc/k/rep.list").expect("iprep");
        assert_eq!(
            iprep_abs.iprep_categories,
            Some(PathBuf::from("/etc/k/cat.txt"))
        );
        assert_eq!(iprep_abs.path, PathBuf::from("/etc/k/rep.list"));
        let odd_path = FeedSpec::parse("./a=b.txt").expect("path with =");
        assert_eq!(odd_path.path, PathBuf::from("./a=b.txt"));
    }

    #[test]
    fn bad_specs_are_explained() {
        for spec in [
            "csv=x",
            "csv:x=y",
            "dataset=x",
            "iprep=x",
            "zeek:x=y",
            "plain:bogus=x",
            "zeek=",
        ] {
            assert!(FeedSpec::parse(spec).is_err(), "{spec} should be rejected");
        }
    }
}

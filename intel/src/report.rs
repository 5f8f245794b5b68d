//! Load reports: what a loader did with every line of a feed.
//!
//! The design rule is that no line is ever dropped silently: comments and blank lines aside,
//! each line is counted exactly once as accepted, duplicate, allowlisted, expired, unsupported,
//! rejected, suppressed (by the load-time allowlist, [`crate::allowlist`]) or skipped (deliberately
//! not loaded because the feed says so: MISP `deleted` or non-IDS attributes, revoked STIX
//! indicators, STIX objects that are not indicators). Structured feeds (MISP, STIX) count per
//! extracted value: a MISP `domain|ip` attribute or a STIX `OR` pattern may account for several. Reasons are kept for rejected and unsupported lines, but only the first
//! [`MAX_STORED_REASONS`] of each, so a garbage gigabyte cannot exhaust memory through its report;
//! the `*_total` counters keep counting.

use std::collections::BTreeMap;
use std::fmt;

use crate::matcher::AddOutcome;
use crate::model::IndicatorKind;

/// How many rejections (and, separately, unsupported entries) a report keeps with their reasons.
/// A thousand is enough to diagnose any feed problem; beyond it only the totals grow.
pub const MAX_STORED_REASONS: usize = 1000;

/// One rejected feed entry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejection {
    /// 1-based line (or object index) in the source.
    pub line: usize,
    /// Why.
    pub reason: String,
}

/// What a loader did with a feed.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LoadReport {
    /// Source name.
    pub source: String,
    /// Entries accepted (alerting entries; allowlist entries are counted in `allowlisted`).
    pub accepted: usize,
    /// Entries already present (same kind and value; the first occurrence wins).
    pub duplicates: usize,
    /// Entries rejected, with reasons (the first [`MAX_STORED_REASONS`] only).
    pub rejected: Vec<Rejection>,
    /// All rejected entries, including those beyond the stored reasons.
    pub rejected_total: usize,
    /// Allowlist entries added (they suppress matches instead of alerting).
    pub allowlisted: usize,
    /// Entries whose validity had already ended at load time; not added.
    pub expired: usize,
    /// Recognised entries of a type the matcher cannot match (e.g. Zeek `Intel::EMAIL`), with
    /// the first [`MAX_STORED_REASONS`] reasons.
    pub unsupported: Vec<Rejection>,
    /// All unsupported entries.
    pub unsupported_total: usize,
    /// Accepted entries per kind (allowlist entries included).
    pub per_kind: BTreeMap<IndicatorKind, usize>,
    /// Entries the load-time allowlist ([`crate::allowlist`]) kept out of the set (loopback,
    /// documentation, private or own ranges and domains), with the first [`MAX_STORED_REASONS`]
    /// reasons. Kept apart from `allowlisted` (allowlist entries that *are* in the set) so that
    /// `accepted + allowlisted` is still the size of the set.
    pub suppressed: Vec<Rejection>,
    /// All suppressed entries.
    pub suppressed_total: usize,
    /// Entries deliberately not loaded because the feed itself says so, per fixed reason (see
    /// the `SKIPPED_*` constants): not errors, but never silent either.
    pub skipped: BTreeMap<&'static str, usize>,
}

/// A MISP attribute marked `deleted`.
pub const SKIPPED_DELETED: &str = "deleted";
/// A MISP attribute with `to_ids` false (context, not detection), when non-IDS attributes are
/// not included.
pub const SKIPPED_NOT_IDS: &str = "not to_ids";
/// A revoked STIX indicator.
pub const SKIPPED_REVOKED: &str = "revoked";
/// A STIX object that is not an indicator (relationship, malware, identity, marking…).
pub const SKIPPED_NOT_INDICATOR: &str = "not an indicator";

impl LoadReport {
    /// An empty report for `source`.
    pub fn new(source: impl Into<String>) -> Self {
        LoadReport {
            source: source.into(),
            ..Default::default()
        }
    }

    /// Records a rejected line.
    pub fn reject(&mut self, line: usize, reason: impl fmt::Display) {
        self.rejected_total += 1;
        if self.rejected.len() < MAX_STORED_REASONS {
            self.rejected.push(Rejection {
                line,
                reason: reason.to_string(),
            });
        }
    }

    /// Records a recognised but unmatchable entry.
    pub fn unsupported(&mut self, line: usize, reason: impl fmt::Display) {
        self.unsupported_total += 1;
        if self.unsupported.len() < MAX_STORED_REASONS {
            self.unsupported.push(Rejection {
                line,
                reason: reason.to_string(),
            });
        }
    }

    /// Records an entry kept out of the set by the load-time allowlist.
    pub fn suppress(&mut self, line: usize, reason: impl fmt::Display) {
        self.suppressed_total += 1;
        if self.suppressed.len() < MAX_STORED_REASONS {
            self.suppressed.push(Rejection {
                line,
                reason: reason.to_string(),
            });
        }
    }

    /// Records an entry the feed itself asks not to load (`why` is one of the `SKIPPED_*`
    /// constants, so the map stays small whatever the input).
    pub fn skip(&mut self, why: &'static str) {
        *self.skipped.entry(why).or_insert(0) += 1;
    }

    /// All skipped entries.
    pub fn skipped_total(&self) -> usize {
        self.skipped.values().sum()
    }

    /// Records the outcome of adding one entry to a builder.
    pub fn record(&mut self, outcome: AddOutcome, kind: IndicatorKind, allowlist: bool) {
        match outcome {
            AddOutcome::Duplicate => self.duplicates += 1,
            AddOutcome::Added => {
                if allowlist {
                    self.allowlisted += 1;
                } else {
                    self.accepted += 1;
                }
                *self.per_kind.entry(kind).or_insert(0) += 1;
            }
        }
    }

    /// Number of lines accounted for (every category).
    pub fn lines_accounted(&self) -> usize {
        self.accepted
            + self.duplicates
            + self.allowlisted
            + self.expired
            + self.rejected_total
            + self.unsupported_total
            + self.suppressed_total
            + self.skipped_total()
    }

    /// Whether nothing was rejected.
    pub fn is_clean(&self) -> bool {
        self.rejected_total == 0
    }

    /// Adds `other`'s counts into `self` (e.g. the files of a directory). Stored reasons are
    /// prefixed with `other.source` when it differs from `self.source`, so they still say where
    /// they come from.
    pub fn merge(&mut self, other: LoadReport) {
        let prefix =
            (other.source != self.source && !other.source.is_empty()).then(|| other.source.clone());
        let relabel = |r: Rejection| match &prefix {
            Some(p) => Rejection {
                line: r.line,
                reason: format!("{p}: {}", r.reason),
            },
            None => r,
        };
        self.accepted += other.accepted;
        self.duplicates += other.duplicates;
        self.allowlisted += other.allowlisted;
        self.expired += other.expired;
        self.rejected_total += other.rejected_total;
        self.unsupported_total += other.unsupported_total;
        self.suppressed_total += other.suppressed_total;
        for (why, n) in other.skipped {
            *self.skipped.entry(why).or_insert(0) += n;
        }
        let room = MAX_STORED_REASONS.saturating_sub(self.rejected.len());
        self.rejected
            .extend(other.rejected.into_iter().take(room).map(relabel));
        let room = MAX_STORED_REASONS.saturating_sub(self.unsupported.len());
        self.unsupported
            .extend(other.unsupported.into_iter().take(room).map(relabel));
        let room = MAX_STORED_REASONS.saturating_sub(self.suppressed.len());
        self.suppressed
            .extend(other.suppressed.into_iter().take(room).map(relabel));
        for (kind, n) in other.per_kind {
            *self.per_kind.entry(kind).or_insert(0) += n;
        }
    }
}

impl fmt::Display for LoadReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} accepted, {} duplicate, {} allowlisted, {} expired, {} unsupported, {} rejected",
            if self.source.is_empty() {
                "(unnamed source)"
            } else {
                &self.source
            },
            self.accepted,
            self.duplicates,
            self.allowlisted,
            self.expired,
            self.unsupported_total,
            self.rejected_total,
        )?;
        if self.suppressed_total > 0 {
            write!(f, ", {} suppressed by the allowlist", self.suppressed_total)?;
        }
        for (why, n) in &self.skipped {
            write!(f, ", {n} skipped ({why})")?;
        }
        if !self.per_kind.is_empty() {
            f.write_str(" (")?;
            for (i, (kind, n)) in self.per_kind.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                write!(f, "{n} {kind}")?;
            }
            f.write_str(")")?;
        }
        f.write_str(".")?;
        if let Some(first) = self.rejected.first() {
            write!(
                f,
                " First rejection: line {}: {}.",
                first.line, first.reason
            )?;
        }
        if let Some(first) = self.unsupported.first() {
            write!(
                f,
                " First unsupported: line {}: {}.",
                first.line, first.reason
            )?;
        }
        if let Some(first) = self.suppressed.first() {
            write!(
                f,
                " First suppressed: line {}: {}.",
                first.line, first.reason
            )?;
        }
        Ok(())
    }
}

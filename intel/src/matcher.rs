//! The compiled, immutable indicator matcher. (API contract; the implementation is being written.)

use std::net::IpAddr;

use crate::model::{Indicator, IndicatorKind, IndicatorMeta, IndicatorValue};

/// Index of one compiled indicator inside an [`IndicatorSet`]; only meaningful for that set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MatchId(u32);

/// Why a set could not be compiled (only configuration-level limits; never the traffic).
#[derive(Debug, thiserror::Error)]
#[error("cannot build indicator set: {0}")]
pub struct BuildError(String);

/// Whether [`IndicatorSetBuilder::add`] kept the indicator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AddOutcome {
    /// A new (kind, value) pair.
    Added,
    /// Already present; the first occurrence wins.
    Duplicate,
}

/// Collects indicators and compiles them.
#[derive(Debug, Default)]
pub struct IndicatorSetBuilder {}

impl IndicatorSetBuilder {
    /// An empty builder.
    pub fn new() -> Self {
        todo!()
    }
    /// Adds one indicator.
    pub fn add(&mut self, _indicator: Indicator) -> AddOutcome {
        todo!()
    }
    /// Number of distinct indicators added.
    pub fn len(&self) -> usize {
        todo!()
    }
    /// Whether nothing was added.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Compiles the immutable set.
    pub fn build(self) -> Result<IndicatorSet, BuildError> {
        todo!()
    }
}

/// The immutable compiled set.
#[derive(Debug, Default)]
pub struct IndicatorSet {}

/// A borrowed view of one compiled indicator, for alert output.
#[derive(Clone, Copy, Debug)]
pub struct IndicatorRef<'a> {
    _set: &'a IndicatorSet,
}

impl<'a> IndicatorRef<'a> {
    /// Feed id, or a stable id derived from kind and value.
    pub fn id(&self) -> std::borrow::Cow<'a, str> {
        todo!()
    }
    /// Kind.
    pub fn kind(&self) -> IndicatorKind {
        todo!()
    }
    /// Value.
    pub fn value(&self) -> IndicatorValue {
        todo!()
    }
    /// Score.
    pub fn score(&self) -> Option<i32> {
        todo!()
    }
    /// Metadata.
    pub fn meta(&self) -> &'a IndicatorMeta {
        todo!()
    }
}

impl IndicatorSet {
    /// Empty set.
    pub fn empty() -> Self {
        todo!()
    }
    /// Number of indicators (allowlist entries included).
    pub fn len(&self) -> usize {
        todo!()
    }
    /// Whether empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Heap bytes owned by the set.
    pub fn memory_usage(&self) -> usize {
        todo!()
    }
    /// Exact address and longest-prefix network matches for `ip`, appended to `out`.
    pub fn match_ip(&self, _ip: IpAddr, _now: i64, _out: &mut Vec<MatchId>) {
        todo!()
    }
    /// Domain matches (exact, then every parent flagged for subdomains).
    pub fn match_domain(&self, _name: &str, _now: i64, _out: &mut Vec<MatchId>) {
        todo!()
    }
    /// Matches of a textual kind.
    pub fn match_text(&self, _kind: IndicatorKind, _value: &str, _now: i64, _out: &mut Vec<MatchId>) {
        todo!()
    }
    /// Looks up a match.
    pub fn get(&self, _id: MatchId) -> IndicatorRef<'_> {
        todo!()
    }
}

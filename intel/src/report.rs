//! Load reports. (API contract; the implementation is being written.)

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
    /// Entries accepted.
    pub accepted: usize,
    /// Entries already present.
    pub duplicates: usize,
    /// Entries rejected.
    pub rejected: Vec<Rejection>,
}

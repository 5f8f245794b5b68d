//! Kordon's indicator-of-compromise model, feed loaders and compiled matcher.
//!
//! This crate exists so that everything about indicators — what they are, how feeds describe them,
//! and how a packet-path observation is matched against a million of them — lives in one pure,
//! synchronous library with no sockets and no async runtime. The agent matches with it on its
//! worker threads; the collector (later) loads feeds and compiles signed bundles with it.
//!
//! The flow is: a loader in [`formats`] reads a feed and hands [`Indicator`]s to an
//! [`IndicatorSetBuilder`], recording every accepted, duplicate and rejected entry in a
//! [`LoadReport`]; the builder compiles an immutable [`IndicatorSet`] that answers lookups without
//! allocating and reports its own memory use.
#![deny(missing_docs)]

pub mod allowlist;
pub mod bundle;
pub mod formats;
pub mod matcher;
pub mod model;
pub mod normalize;
pub mod ot;
pub mod report;
pub mod taxii;

pub use formats::{DatasetType, Format, FormatError, IprepCategories, LoadOptions, load_path};
pub use matcher::{
    AddError, AddOutcome, BuildError, IndicatorRef, IndicatorSet, IndicatorSetBuilder, MatchId,
};
pub use model::{Indicator, IndicatorKind, IndicatorMeta, IndicatorValue, Severity, Tlp};
pub use normalize::NormalizeError;
pub use report::{LoadReport, Rejection};

#[cfg(test)]
mod send_sync {
    //! Compile-time proof that the shared types can cross threads: the compiled set is published
    //! through `ArcSwap` to every worker, and loaders run off the packet path.
    fn assert_send_sync<T: Send + Sync>() {}
    fn assert_unwind_safe<T: std::panic::UnwindSafe + std::panic::RefUnwindSafe>() {}

    #[test]
    fn shared_types_are_send_sync() {
        assert_send_sync::<crate::IndicatorSet>();
        assert_send_sync::<crate::IndicatorSetBuilder>();
        assert_send_sync::<crate::IndicatorRef<'static>>();
        assert_send_sync::<crate::LoadReport>();
        assert_send_sync::<crate::LoadOptions>();
        assert_send_sync::<crate::FormatError>();
        assert_send_sync::<crate::BuildError>();
        assert_unwind_safe::<crate::IndicatorSet>();
    }
}

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

pub mod formats;
pub mod matcher;
pub mod model;
pub mod normalize;
pub mod report;

pub use matcher::{BuildError, IndicatorRef, IndicatorSet, IndicatorSetBuilder, MatchId};
pub use model::{Indicator, IndicatorKind, IndicatorMeta, IndicatorValue, Severity, Tlp};
pub use report::{LoadReport, Rejection};

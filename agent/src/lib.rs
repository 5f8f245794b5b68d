//! Kordon's sensor: capture, decode, flows, indicator matching and EVE output.
//!
//! The binary `kordon-agent` wires these modules together (see [`pipeline`]); they are a library
//! so that tests, benchmarks and fuzz targets drive exactly the code the agent runs.
//! `agent/DESIGN.md` describes the threads, queues, flows and the hot-path rules.
#![deny(missing_docs)]

pub mod applayer;
pub mod batch;
pub mod capture;
pub mod cli;
pub mod decode;
pub mod eve;
pub mod event;
pub mod feeds;
pub mod flow;
pub mod indicators;
pub mod observe;
pub mod pipeline;
pub mod sink;
pub mod stats;
pub mod sync;
pub mod timefmt;
pub mod uplink;
pub mod worker;

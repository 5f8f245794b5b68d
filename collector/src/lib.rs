//! Kordon's collector: receives every agent's alert stream over mutually authenticated gRPC,
//! stores it exactly once, and serves it to SOC clients.
//!
//! Why it is shaped this way: an alert must survive any single failure between the tap and the
//! SOC. Agents spool alerts on disk and resend until acknowledged; the collector acknowledges a
//! batch only after the transaction holding it committed ([`ingest`]), and its store is
//! idempotent on (agent, spool epoch, record id) ([`store`]), so resends never duplicate.
//! Agents are identified by their client certificate ([`auth`]), which `kordon-collector pki`
//! ([`pki`]) issues without OpenSSL. Indicator feeds are loaded, merged into named sets, signed
//! and streamed to agents by [`feeds`].
#![deny(missing_docs)]

pub mod auth;
pub mod config;
pub mod feeds;
pub mod ingest;
pub mod pki;
pub mod render;
pub mod server;
pub mod service;
pub mod store;

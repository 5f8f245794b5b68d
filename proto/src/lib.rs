//! Kordon's wire protocol, `kordon.v1`: the `.proto` file in `proto/kordon/v1/` and the
//! prost/tonic code generated from it at build time.
//!
//! It is its own crate so the agent, the collector and SOC tooling share one definition and
//! none of them pulls the others' dependencies. Nothing but generated code and re-exports lives
//! here; limits and semantics are documented in the `.proto` file.
#![deny(missing_docs)]

/// The `kordon.v1` package: messages, `AgentService`, `SocService` clients and servers.
pub mod v1 {
    #![allow(missing_docs)]
    #![allow(clippy::all)]
    tonic::include_proto!("kordon.v1");
}

pub use v1::*;

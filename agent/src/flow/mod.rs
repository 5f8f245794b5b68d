//! Flows: the symmetric key that shards packets to workers, the per-worker bounded flow table,
//! and Community ID.

pub mod community_id;
pub mod hash;
pub mod key;
pub mod orientation;
pub mod table;

pub use key::{Endpoint, FlowKey};
pub use table::{EndReason, Flow, FlowTable, Insert};

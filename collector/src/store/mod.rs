//! The alert store behind one trait, so SQLite (embedded default) and PostgreSQL (planned,
//! several collector replicas on one database) share the services and the test suite.
//!
//! Contract every implementation keeps:
//! - [`Store::ingest`] commits all given batches in one transaction, or none of them.
//! - Idempotency: per (agent, spool epoch) the store keeps the highest record id committed (the
//!   watermark). A record whose id is at or below it is a resend and is not stored again. Agents
//!   send records in increasing id order on a stream, so this is exactly-once storage.
//! - Cursors are strictly increasing and never reused, even after retention deletes rows; a
//!   subscriber resuming from a cursor sees no gap and no duplicate.

use kordon_proto::{Alert, AlertFilter, Heartbeat, StoredAlert};
use serde::Serialize;

pub mod sqlite;

/// A store failure. The batch is not acknowledged; the agent resends it.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// SQLite reported an error.
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// A value does not fit the store's types (e.g. a record id ≥ 2^63).
    #[error("value out of range: {0}")]
    Range(&'static str),
    /// Stored bytes do not decode (the database was modified by something else).
    #[error("stored alert {cursor} does not decode: {reason}")]
    Corrupt {
        /// Its cursor.
        cursor: u64,
        /// Decoder message.
        reason: String,
    },
    /// The store writer is gone (shutting down).
    #[error("store writer stopped")]
    Closed,
}

/// One agent batch, validated by the service.
#[derive(Clone, Debug)]
pub struct IngestBatch {
    /// Authenticated agent id.
    pub agent_id: String,
    /// Spool epoch.
    pub epoch: u64,
    /// Last record id the batch covers.
    pub last_id: u64,
    /// Alerts with their record ids, increasing.
    pub alerts: Vec<(u64, Alert)>,
    /// Statistics, when the batch carries them.
    pub heartbeat: Option<Heartbeat>,
    /// Peer address, for the fleet registry.
    pub remote: String,
}

/// What one batch did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct IngestOutcome {
    /// Records stored now.
    pub stored: u32,
    /// Records skipped as already stored.
    pub duplicates: u32,
}

/// An agent as the fleet registry knows it.
#[derive(Clone, Debug, Default, Serialize, PartialEq)]
pub struct AgentRecord {
    /// Agent id (certificate CN).
    pub agent_id: String,
    /// Software version from the last heartbeat.
    pub version: String,
    /// Host name from the last heartbeat.
    pub hostname: String,
    /// Peer address of the last stream.
    pub remote: String,
    /// First contact, µs since the epoch.
    pub first_seen_us: i64,
    /// Last batch or heartbeat, µs since the epoch.
    pub last_seen_us: i64,
    /// Alerts stored from this agent.
    pub alerts_stored: u64,
    /// Last heartbeat's totals.
    pub heartbeat: Option<HeartbeatSummary>,
    /// Packets per second between the last two heartbeats.
    pub packets_per_sec: f64,
    /// Dropped packets per second (kernel + queue + interface) between the last two heartbeats.
    pub drops_per_sec: f64,
}

/// The fields of a heartbeat the registry keeps.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct HeartbeatSummary {
    /// Agent clock, µs.
    pub time_us: i64,
    /// Packets captured.
    pub packets: u64,
    /// Packets dropped (kernel + queue + interface).
    pub dropped: u64,
    /// Flows.
    pub flows: u64,
    /// Alerts emitted.
    pub alerts: u64,
    /// Indicators loaded.
    pub indicator_count: u64,
    /// Indicator bundle version.
    pub indicator_version: u64,
    /// Unacknowledged spool records.
    pub spool_records: u64,
    /// Spool bytes on disk.
    pub spool_bytes: u64,
    /// Records refused by a full spool.
    pub spool_dropped: u64,
    /// Corrupt spool records skipped.
    pub spool_corrupt: u64,
}

impl HeartbeatSummary {
    /// Keeps what the registry shows.
    pub fn from_proto(hb: &Heartbeat) -> Self {
        HeartbeatSummary {
            time_us: hb.time_us,
            packets: hb.packets,
            dropped: hb
                .kernel_dropped
                .saturating_add(hb.queue_dropped)
                .saturating_add(hb.interface_dropped),
            flows: hb.flows,
            alerts: hb.alerts,
            indicator_count: hb.indicator_count,
            indicator_version: hb.indicator_version,
            spool_records: hb.spool_records,
            spool_bytes: hb.spool_bytes,
            spool_dropped: hb.spool_dropped,
            spool_corrupt: hb.spool_corrupt,
        }
    }
}

/// What a retention pass removed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RetentionOutcome {
    /// Alerts deleted for age.
    pub by_age: u64,
    /// Alerts deleted for size.
    pub by_size: u64,
}

/// A store of alerts, spool watermarks and the fleet registry.
pub trait Store: Send + Sync + 'static {
    /// Commits `batches` in one transaction and returns per-batch outcomes (same order) and
    /// the highest cursor after the commit.
    fn ingest(&self, batches: &[IngestBatch]) -> Result<(Vec<IngestOutcome>, u64), StoreError>;
    /// Alerts matching `filter` with a cursor above `filter.since_cursor`, in cursor order, at
    /// most `limit`.
    fn query(&self, filter: &AlertFilter, limit: usize) -> Result<Vec<StoredAlert>, StoreError>;
    /// Alerts stored at or after `since_us` (collector clock), then as [`Store::query`].
    fn query_since_time(
        &self,
        filter: &AlertFilter,
        since_us: i64,
        limit: usize,
    ) -> Result<Vec<StoredAlert>, StoreError>;
    /// The highest cursor stored (0 = none).
    fn latest_cursor(&self) -> Result<u64, StoreError>;
    /// Every agent known, by id.
    fn agents(&self) -> Result<Vec<AgentRecord>, StoreError>;
    /// Deletes the oldest alerts beyond `max_age_us` (0 = no limit) or `max_bytes` (0 = no
    /// limit).
    fn enforce_retention(
        &self,
        now_us: i64,
        max_age_us: i64,
        max_bytes: u64,
    ) -> Result<RetentionOutcome, StoreError>;
}

/// Microseconds since the Unix epoch (0 if the clock is before it).
pub fn now_us() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX))
}

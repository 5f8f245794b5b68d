//! SQLite store: WAL mode, one writer connection (group commits from the ingest thread), one
//! reader connection for queries and subscribers (WAL lets reads run beside the writer).
//!
//! Schema: `alerts` (cursor = `INTEGER PRIMARY KEY AUTOINCREMENT`, so cursors are never reused;
//! the alert itself is its prost encoding in `body`, with the filterable fields as columns),
//! `spool_progress` (the per (agent, epoch) watermark that makes ingestion idempotent) and
//! `agents` (the fleet registry). u64 ids are stored as i64 and refused beyond `i64::MAX`.

use std::path::Path;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use kordon_proto::{AlertFilter, StoredAlert};
use prost::Message;
use rusqlite::{Connection, OptionalExtension, params, params_from_iter};

use super::{
    AgentRecord, HeartbeatSummary, IngestBatch, IngestOutcome, RetentionOutcome, Store, StoreError,
    now_us,
};
use crate::config::Synchronous;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS alerts (
    cursor INTEGER PRIMARY KEY AUTOINCREMENT,
    agent_id TEXT NOT NULL,
    record_id INTEGER NOT NULL,
    stored_us INTEGER NOT NULL,
    ts_us INTEGER NOT NULL,
    severity INTEGER NOT NULL,
    location TEXT NOT NULL,
    indicator_set TEXT NOT NULL,
    body BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS spool_progress (
    agent_id TEXT NOT NULL,
    epoch INTEGER NOT NULL,
    acked_through INTEGER NOT NULL,
    PRIMARY KEY (agent_id, epoch)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS agents (
    agent_id TEXT PRIMARY KEY,
    version TEXT NOT NULL DEFAULT '',
    hostname TEXT NOT NULL DEFAULT '',
    remote TEXT NOT NULL DEFAULT '',
    first_seen_us INTEGER NOT NULL,
    last_seen_us INTEGER NOT NULL,
    alerts_stored INTEGER NOT NULL DEFAULT 0,
    heartbeat TEXT,
    packets_per_sec REAL NOT NULL DEFAULT 0,
    drops_per_sec REAL NOT NULL DEFAULT 0
) WITHOUT ROWID;
";

/// Rows deleted per retention statement, so a large purge never holds the write lock long.
const RETENTION_CHUNK: i64 = 10_000;

/// The SQLite implementation of [`Store`].
pub struct SqliteStore {
    write: Mutex<Connection>,
    read: Mutex<Connection>,
}

fn to_i64(value: u64, what: &'static str) -> Result<i64, StoreError> {
    i64::try_from(value).map_err(|_| StoreError::Range(what))
}

fn lock(m: &Mutex<Connection>) -> MutexGuard<'_, Connection> {
    // A panic while holding the lock leaves the connection usable (SQLite rolls back an open
    // transaction when it is dropped or reused), so poisoning is ignored.
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` for serving.
    pub fn open(
        path: &Path,
        sync: Synchronous,
        busy_timeout: Duration,
    ) -> Result<Self, StoreError> {
        let write = Connection::open(path)?;
        write.busy_timeout(busy_timeout)?;
        write.pragma_update(None, "journal_mode", "WAL")?;
        write.pragma_update(
            None,
            "synchronous",
            match sync {
                Synchronous::Full => "FULL",
                Synchronous::Normal => "NORMAL",
            },
        )?;
        write.execute_batch(SCHEMA)?;
        let read = Connection::open(path)?;
        read.busy_timeout(busy_timeout)?;
        Ok(SqliteStore {
            write: Mutex::new(write),
            read: Mutex::new(read),
        })
    }

    /// Opens an existing database for the `alerts`/`agents` commands (no schema changes).
    pub fn open_read_only(path: &Path) -> Result<Self, StoreError> {
        use rusqlite::OpenFlags;
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let read = Connection::open_with_flags(path, flags)?;
        read.busy_timeout(Duration::from_secs(10))?;
        let write = Connection::open_with_flags(path, flags)?;
        Ok(SqliteStore {
            write: Mutex::new(write),
            read: Mutex::new(read),
        })
    }

    fn update_agent(
        tx: &rusqlite::Transaction<'_>,
        batch: &IngestBatch,
        stored: u32,
        now: i64,
    ) -> Result<(), StoreError> {
        tx.prepare_cached(
            "INSERT INTO agents (agent_id, remote, first_seen_us, last_seen_us, alerts_stored)
             VALUES (?1, ?2, ?3, ?3, ?4)
             ON CONFLICT(agent_id) DO UPDATE SET remote = ?2, last_seen_us = ?3,
                 alerts_stored = alerts_stored + ?4",
        )?
        .execute(params![batch.agent_id, batch.remote, now, stored])?;
        let Some(hb) = &batch.heartbeat else {
            return Ok(());
        };
        let new = HeartbeatSummary::from_proto(hb);
        let previous: Option<String> = tx
            .prepare_cached("SELECT heartbeat FROM agents WHERE agent_id = ?1")?
            .query_row(params![batch.agent_id], |r| r.get(0))
            .optional()?
            .flatten();
        let previous: Option<HeartbeatSummary> = previous.and_then(|json| {
            serde_json::from_str::<HeartbeatJson>(&json)
                .ok()
                .map(Into::into)
        });
        let (pps, dps) = match previous {
            Some(p) if new.time_us > p.time_us && new.packets >= p.packets => {
                let secs = (new.time_us - p.time_us) as f64 / 1e6;
                (
                    (new.packets - p.packets) as f64 / secs,
                    new.dropped.saturating_sub(p.dropped) as f64 / secs,
                )
            }
            _ => (0.0, 0.0),
        };
        let json = serde_json::to_string(&HeartbeatJson::from(new)).unwrap_or_default();
        tx.prepare_cached(
            "UPDATE agents SET version = ?2, hostname = ?3, heartbeat = ?4,
                 packets_per_sec = ?5, drops_per_sec = ?6 WHERE agent_id = ?1",
        )?
        .execute(params![
            batch.agent_id,
            hb.agent_version,
            hb.hostname,
            json,
            pps,
            dps
        ])?;
        Ok(())
    }

    fn filtered(
        conn: &Connection,
        filter: &AlertFilter,
        since_us: Option<i64>,
        limit: usize,
    ) -> Result<Vec<StoredAlert>, StoreError> {
        let mut sql = String::from(
            "SELECT cursor, agent_id, record_id, stored_us, body FROM alerts WHERE cursor > ?",
        );
        let mut args: Vec<rusqlite::types::Value> =
            vec![to_i64(filter.since_cursor, "cursor")?.into()];
        if let Some(since) = since_us {
            sql.push_str(" AND stored_us >= ?");
            args.push(since.into());
        }
        if filter.max_severity > 0 {
            sql.push_str(" AND severity <= ?");
            args.push(i64::from(filter.max_severity).into());
        }
        let mut any_of = |column: &str, values: &[String]| {
            if values.is_empty() {
                return;
            }
            sql.push_str(&format!(" AND {column} IN ("));
            for (i, v) in values.iter().enumerate() {
                sql.push_str(if i == 0 { "?" } else { ",?" });
                args.push(v.clone().into());
            }
            sql.push(')');
        };
        any_of("agent_id", &filter.agents);
        any_of("location", &filter.locations);
        any_of("indicator_set", &filter.indicator_sets);
        sql.push_str(" ORDER BY cursor LIMIT ?");
        args.push(i64::try_from(limit).unwrap_or(i64::MAX).into());
        let mut statement = conn.prepare_cached(&sql)?;
        let rows = statement.query_map(params_from_iter(args), |row| {
            Ok((
                row.get::<_, i64>(0)?,
                row.get::<_, String>(1)?,
                row.get::<_, i64>(2)?,
                row.get::<_, i64>(3)?,
                row.get::<_, Vec<u8>>(4)?,
            ))
        })?;
        let mut out = Vec::new();
        for row in rows {
            let (cursor, agent_id, record_id, stored_us, body) = row?;
            let cursor = cursor as u64;
            let alert =
                kordon_proto::Alert::decode(body.as_slice()).map_err(|e| StoreError::Corrupt {
                    cursor,
                    reason: e.to_string(),
                })?;
            out.push(StoredAlert {
                cursor,
                agent_id,
                record_id: record_id as u64,
                stored_us,
                alert: Some(alert),
            });
        }
        Ok(out)
    }

    fn used_bytes(conn: &Connection) -> Result<u64, StoreError> {
        let pages: i64 = conn.query_row("PRAGMA page_count", [], |r| r.get(0))?;
        let free: i64 = conn.query_row("PRAGMA freelist_count", [], |r| r.get(0))?;
        let size: i64 = conn.query_row("PRAGMA page_size", [], |r| r.get(0))?;
        Ok(u64::try_from((pages - free).max(0) * size).unwrap_or(0))
    }
}

/// The registry's stored heartbeat (JSON in the `agents` table).
#[derive(serde::Serialize, serde::Deserialize)]
struct HeartbeatJson {
    time_us: i64,
    packets: u64,
    dropped: u64,
    flows: u64,
    alerts: u64,
    indicator_count: u64,
    indicator_version: u64,
    spool_records: u64,
    spool_bytes: u64,
    spool_dropped: u64,
    spool_corrupt: u64,
}

impl From<HeartbeatSummary> for HeartbeatJson {
    fn from(h: HeartbeatSummary) -> Self {
        HeartbeatJson {
            time_us: h.time_us,
            packets: h.packets,
            dropped: h.dropped,
            flows: h.flows,
            alerts: h.alerts,
            indicator_count: h.indicator_count,
            indicator_version: h.indicator_version,
            spool_records: h.spool_records,
            spool_bytes: h.spool_bytes,
            spool_dropped: h.spool_dropped,
            spool_corrupt: h.spool_corrupt,
        }
    }
}

impl From<HeartbeatJson> for HeartbeatSummary {
    fn from(h: HeartbeatJson) -> Self {
        HeartbeatSummary {
            time_us: h.time_us,
            packets: h.packets,
            dropped: h.dropped,
            flows: h.flows,
            alerts: h.alerts,
            indicator_count: h.indicator_count,
            indicator_version: h.indicator_version,
            spool_records: h.spool_records,
            spool_bytes: h.spool_bytes,
            spool_dropped: h.spool_dropped,
            spool_corrupt: h.spool_corrupt,
        }
    }
}

impl Store for SqliteStore {
    fn ingest(&self, batches: &[IngestBatch]) -> Result<(Vec<IngestOutcome>, u64), StoreError> {
        let mut conn = lock(&self.write);
        let tx = conn.transaction()?;
        let now = now_us();
        let mut outcomes = Vec::with_capacity(batches.len());
        let mut buffer = Vec::with_capacity(512);
        for batch in batches {
            let epoch = batch.epoch as i64; // bit-for-bit: the epoch is an opaque random id
            let acked: i64 = tx
                .prepare_cached(
                    "SELECT acked_through FROM spool_progress WHERE agent_id = ?1 AND epoch = ?2",
                )?
                .query_row(params![batch.agent_id, epoch], |r| r.get(0))
                .optional()?
                .unwrap_or(0);
            let mut outcome = IngestOutcome::default();
            {
                let mut insert = tx.prepare_cached(
                    "INSERT INTO alerts (agent_id, record_id, stored_us, ts_us, severity, location,
                         indicator_set, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                )?;
                for (id, alert) in &batch.alerts {
                    let id = to_i64(*id, "record id")?;
                    if id <= acked {
                        outcome.duplicates += 1;
                        continue;
                    }
                    buffer.clear();
                    alert
                        .encode(&mut buffer)
                        .map_err(|_| StoreError::Range("alert encoding"))?;
                    let set = alert.indicator.as_ref().map_or("", |i| i.set.as_str());
                    insert.execute(params![
                        batch.agent_id,
                        id,
                        now,
                        alert.timestamp_us,
                        alert.severity,
                        alert.location,
                        set,
                        buffer
                    ])?;
                    outcome.stored += 1;
                }
            }
            let last = to_i64(batch.last_id, "record id")?;
            if last > acked {
                tx.prepare_cached(
                    "INSERT INTO spool_progress (agent_id, epoch, acked_through) VALUES (?1, ?2, ?3)
                     ON CONFLICT(agent_id, epoch) DO UPDATE SET acked_through = ?3",
                )?
                .execute(params![batch.agent_id, epoch, last])?;
            }
            Self::update_agent(&tx, batch, outcome.stored, now)?;
            outcomes.push(outcome);
        }
        let latest: i64 = tx.query_row("SELECT COALESCE(MAX(cursor), 0) FROM alerts", [], |r| {
            r.get(0)
        })?;
        tx.commit()?;
        Ok((outcomes, latest as u64))
    }

    fn query(&self, filter: &AlertFilter, limit: usize) -> Result<Vec<StoredAlert>, StoreError> {
        Self::filtered(&lock(&self.read), filter, None, limit)
    }

    fn query_since_time(
        &self,
        filter: &AlertFilter,
        since_us: i64,
        limit: usize,
    ) -> Result<Vec<StoredAlert>, StoreError> {
        Self::filtered(&lock(&self.read), filter, Some(since_us), limit)
    }

    fn latest_cursor(&self) -> Result<u64, StoreError> {
        let conn = lock(&self.read);
        let latest: i64 =
            conn.query_row("SELECT COALESCE(MAX(cursor), 0) FROM alerts", [], |r| {
                r.get(0)
            })?;
        Ok(latest as u64)
    }

    fn agents(&self) -> Result<Vec<AgentRecord>, StoreError> {
        let conn = lock(&self.read);
        let mut statement = conn.prepare(
            "SELECT agent_id, version, hostname, remote, first_seen_us, last_seen_us,
                 alerts_stored, heartbeat, packets_per_sec, drops_per_sec
             FROM agents ORDER BY agent_id",
        )?;
        let rows = statement.query_map([], |r| {
            let heartbeat: Option<String> = r.get(7)?;
            Ok(AgentRecord {
                agent_id: r.get(0)?,
                version: r.get(1)?,
                hostname: r.get(2)?,
                remote: r.get(3)?,
                first_seen_us: r.get(4)?,
                last_seen_us: r.get(5)?,
                alerts_stored: r.get::<_, i64>(6)? as u64,
                heartbeat: heartbeat.and_then(|j| {
                    serde_json::from_str::<HeartbeatJson>(&j)
                        .ok()
                        .map(Into::into)
                }),
                packets_per_sec: r.get(8)?,
                drops_per_sec: r.get(9)?,
            })
        })?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    fn enforce_retention(
        &self,
        now_us: i64,
        max_age_us: i64,
        max_bytes: u64,
    ) -> Result<RetentionOutcome, StoreError> {
        let conn = lock(&self.write);
        let mut outcome = RetentionOutcome::default();
        if max_age_us > 0 {
            // Cursor order follows commit order and commits stamp `stored_us` from one clock,
            // so the oldest rows by age are the lowest cursors: delete chunk by chunk.
            let cutoff = now_us.saturating_sub(max_age_us);
            loop {
                let upto: Option<i64> = conn.query_row(
                    "SELECT MAX(cursor) FROM (SELECT cursor, stored_us FROM alerts
                         ORDER BY cursor LIMIT ?1) WHERE stored_us < ?2",
                    params![RETENTION_CHUNK, cutoff],
                    |r| r.get(0),
                )?;
                let Some(upto) = upto else { break };
                let deleted =
                    conn.execute("DELETE FROM alerts WHERE cursor <= ?1", params![upto])?;
                outcome.by_age += deleted as u64;
                if (deleted as i64) < RETENTION_CHUNK {
                    break;
                }
            }
        }
        if max_bytes > 0 {
            while Self::used_bytes(&conn)? > max_bytes {
                let deleted = conn.execute(
                    "DELETE FROM alerts WHERE cursor IN
                         (SELECT cursor FROM alerts ORDER BY cursor LIMIT ?1)",
                    params![RETENTION_CHUNK],
                )?;
                outcome.by_size += deleted as u64;
                if deleted == 0 {
                    break;
                }
            }
        }
        Ok(outcome)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use kordon_proto::{Alert, Indicator};

    fn alert(n: u64) -> Alert {
        Alert {
            timestamp_us: n as i64,
            flow_id: n,
            severity: 2,
            location: "conn.dst".into(),
            indicator: Some(Indicator {
                id: format!("i{n}"),
                set: "default".into(),
                ..Indicator::default()
            }),
            ..Alert::default()
        }
    }

    fn batch(epoch: u64, ids: std::ops::RangeInclusive<u64>) -> IngestBatch {
        IngestBatch {
            agent_id: "a1".into(),
            epoch,
            last_id: *ids.end(),
            alerts: ids.map(|i| (i, alert(i))).collect(),
            heartbeat: None,
            remote: "test".into(),
        }
    }

    fn temp_store() -> (std::path::PathBuf, SqliteStore) {
        let dir = std::env::temp_dir().join(format!(
            "kordon-store-test-{}-{}",
            std::process::id(),
            now_us()
        ));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let store = SqliteStore::open(&dir.join("a.sqlite"), Synchronous::Normal, Duration::ZERO)
            .expect("open");
        (dir, store)
    }

    #[test]
    fn resends_and_overlaps_are_stored_once() {
        let (dir, store) = temp_store();
        let (out, latest) = store.ingest(&[batch(7, 1..=10)]).expect("ingest");
        assert_eq!(out[0].stored, 10);
        assert_eq!(latest, 10);
        // Same batch again, and an overlapping regrouping, in one transaction.
        let (out, _) = store
            .ingest(&[batch(7, 1..=10), batch(7, 5..=15)])
            .expect("ingest");
        assert_eq!(
            out[0],
            IngestOutcome {
                stored: 0,
                duplicates: 10
            }
        );
        assert_eq!(
            out[1],
            IngestOutcome {
                stored: 5,
                duplicates: 6
            }
        );
        // A new spool epoch starts over at id 1.
        let (out, _) = store.ingest(&[batch(8, 1..=3)]).expect("ingest");
        assert_eq!(out[0].stored, 3);
        let all = store.query(&AlertFilter::default(), 1000).expect("query");
        assert_eq!(all.len(), 18);
        assert!(all.windows(2).all(|w| w[0].cursor < w[1].cursor));
        let page = store
            .query(
                &AlertFilter {
                    since_cursor: 15,
                    ..AlertFilter::default()
                },
                2,
            )
            .expect("query");
        assert_eq!(page.iter().map(|a| a.cursor).collect::<Vec<_>>(), [16, 17]);
        assert_eq!(store.agents().expect("agents")[0].alerts_stored, 18);
        let _ = std::fs::remove_dir_all(dir);
    }

    #[test]
    fn retention_deletes_oldest_and_cursors_are_not_reused() {
        let (dir, store) = temp_store();
        store.ingest(&[batch(1, 1..=100)]).expect("ingest");
        let removed = store
            .enforce_retention(now_us() + 3_600_000_000, 1_000_000, 0)
            .expect("retention");
        assert_eq!(removed.by_age, 100);
        let (_, latest) = store.ingest(&[batch(1, 101..=101)]).expect("ingest");
        assert_eq!(latest, 101);
        let _ = std::fs::remove_dir_all(dir);
    }
}

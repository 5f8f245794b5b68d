//! Persistence of indicator sets: every published version (signed bundle and the signed delta
//! from the version before), per-feed load status, and the state of sources that cannot be
//! reloaded from their origin (pushed sets, TAXII collections polled with `added_after`).
//!
//! A separate SQLite file (`intel.sqlite` in `state_dir`) so that big bundle writes never hold
//! the alert store's write lock, and so the `feeds` command can read it while the server runs.

use std::path::Path;
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use rusqlite::{Connection, OptionalExtension, params};
use serde::Serialize;

/// Versions kept per set (older ones are deleted; agents further behind get a snapshot).
const KEEP_VERSIONS: i64 = 4;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS set_versions (
    set_name TEXT NOT NULL,
    version INTEGER NOT NULL,
    created_us INTEGER NOT NULL,
    entries INTEGER NOT NULL,
    bundle BLOB NOT NULL,
    delta_from INTEGER,
    delta BLOB,
    PRIMARY KEY (set_name, version)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS feed_status (
    feed TEXT PRIMARY KEY,
    set_name TEXT NOT NULL,
    kind TEXT NOT NULL,
    ok INTEGER NOT NULL,
    message TEXT NOT NULL,
    report TEXT NOT NULL,
    accepted INTEGER NOT NULL,
    set_version INTEGER NOT NULL,
    attempt_us INTEGER NOT NULL,
    success_us INTEGER NOT NULL,
    added_after TEXT
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS source_state (
    set_name TEXT NOT NULL,
    source TEXT NOT NULL,
    body BLOB NOT NULL,
    PRIMARY KEY (set_name, source)
) WITHOUT ROWID;
";

/// A store failure.
#[derive(Debug, thiserror::Error)]
pub enum IntelStoreError {
    /// SQLite reported an error.
    #[error("intel store: {0}")]
    Sqlite(#[from] rusqlite::Error),
}

/// One stored version.
#[derive(Clone, Debug)]
pub struct StoredVersion {
    /// Set name.
    pub set: String,
    /// Version.
    pub version: u64,
    /// Signed bundle.
    pub bundle: Vec<u8>,
    /// Signed delta from `delta_from`, when there was a previous version.
    pub delta: Option<(u64, Vec<u8>)>,
}

/// A feed's last load, for `kordon-collector feeds`.
#[derive(Clone, Debug, Default, Serialize, PartialEq, Eq)]
pub struct FeedStatus {
    /// Feed name (`push:<name>` for pushing feeds).
    pub feed: String,
    /// Set it merges into.
    pub set: String,
    /// `file`, `misp`, `stix`, `taxii` or `push`.
    pub kind: String,
    /// Whether the last load succeeded.
    pub ok: bool,
    /// Error of the last load, or "ok".
    pub message: String,
    /// The last load report (text).
    pub report: String,
    /// Entries accepted by the last good load.
    pub accepted: u64,
    /// Set version after the last good load.
    pub set_version: u64,
    /// Last attempt, µs since the epoch.
    pub attempt_us: i64,
    /// Last success, µs since the epoch (0 = never).
    pub success_us: i64,
    /// TAXII: `added_after` of the next poll.
    pub added_after: Option<String>,
}

/// The intel store.
pub struct IntelStore {
    conn: Mutex<Connection>,
}

fn i64_of(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

impl IntelStore {
    /// Opens (creating) the store.
    pub fn open(path: &Path) -> Result<Self, IntelStoreError> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(Duration::from_secs(30))?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.execute_batch(SCHEMA)?;
        Ok(IntelStore {
            conn: Mutex::new(conn),
        })
    }

    /// Opens an existing store read-only (the `feeds` command).
    pub fn open_read_only(path: &Path) -> Result<Self, IntelStoreError> {
        use rusqlite::OpenFlags;
        let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY)?;
        conn.busy_timeout(Duration::from_secs(10))?;
        Ok(IntelStore {
            conn: Mutex::new(conn),
        })
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Stores a new version (and prunes old ones) in one transaction.
    pub fn put_version(&self, v: &StoredVersion, entries: usize) -> Result<(), IntelStoreError> {
        let mut conn = self.lock();
        let tx = conn.transaction()?;
        tx.execute(
            "INSERT OR REPLACE INTO set_versions VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                v.set,
                i64_of(v.version),
                crate::store::now_us(),
                i64_of(entries as u64),
                v.bundle,
                v.delta.as_ref().map(|d| i64_of(d.0)),
                v.delta.as_ref().map(|d| d.1.as_slice()),
            ],
        )?;
        tx.execute(
            "DELETE FROM set_versions WHERE set_name = ?1 AND version <= ?2",
            params![v.set, i64_of(v.version) - KEEP_VERSIONS],
        )?;
        tx.commit()?;
        Ok(())
    }

    /// The newest version of every set.
    pub fn latest_versions(&self) -> Result<Vec<StoredVersion>, IntelStoreError> {
        let conn = self.lock();
        let mut stmt = conn.prepare(
            "SELECT set_name, version, bundle, delta_from, delta FROM set_versions s
             WHERE version = (SELECT MAX(version) FROM set_versions t WHERE t.set_name = s.set_name)",
        )?;
        let rows = stmt.query_map([], |r| {
            let from: Option<i64> = r.get(3)?;
            let delta: Option<Vec<u8>> = r.get(4)?;
            Ok(StoredVersion {
                set: r.get(0)?,
                version: u64::try_from(r.get::<_, i64>(1)?).unwrap_or(0),
                bundle: r.get(2)?,
                delta: from
                    .zip(delta)
                    .map(|(f, d)| (u64::try_from(f).unwrap_or(0), d)),
            })
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// (set, version, entries, created µs) of every stored version, newest first.
    pub fn versions(&self) -> Result<Vec<(String, u64, u64, i64)>, IntelStoreError> {
        let conn = self.lock();
        let mut stmt = conn.prepare(
            "SELECT set_name, version, entries, created_us FROM set_versions
             ORDER BY set_name, version DESC",
        )?;
        let rows = stmt.query_map([], |r| {
            Ok((
                r.get(0)?,
                u64::try_from(r.get::<_, i64>(1)?).unwrap_or(0),
                u64::try_from(r.get::<_, i64>(2)?).unwrap_or(0),
                r.get(3)?,
            ))
        })?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Records a feed's load.
    pub fn put_status(&self, s: &FeedStatus) -> Result<(), IntelStoreError> {
        self.lock().execute(
            "INSERT OR REPLACE INTO feed_status VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11)",
            params![
                s.feed,
                s.set,
                s.kind,
                s.ok,
                s.message,
                s.report,
                i64_of(s.accepted),
                i64_of(s.set_version),
                s.attempt_us,
                s.success_us,
                s.added_after,
            ],
        )?;
        Ok(())
    }

    /// One feed's status.
    pub fn status(&self, feed: &str) -> Result<Option<FeedStatus>, IntelStoreError> {
        let conn = self.lock();
        Ok(conn
            .query_row(
                "SELECT * FROM feed_status WHERE feed = ?1",
                params![feed],
                row_status,
            )
            .optional()?)
    }

    /// Every feed's status, by name.
    pub fn statuses(&self) -> Result<Vec<FeedStatus>, IntelStoreError> {
        let conn = self.lock();
        let mut stmt = conn.prepare("SELECT * FROM feed_status ORDER BY feed")?;
        let rows = stmt.query_map([], row_status)?;
        Ok(rows.collect::<Result<_, _>>()?)
    }

    /// Saves a source's entries (an unsigned canonical bundle body).
    pub fn put_source(&self, set: &str, source: &str, body: &[u8]) -> Result<(), IntelStoreError> {
        self.lock().execute(
            "INSERT OR REPLACE INTO source_state VALUES (?1, ?2, ?3)",
            params![set, source, body],
        )?;
        Ok(())
    }

    /// Every saved source: (set, source, body).
    pub fn sources(&self) -> Result<Vec<(String, String, Vec<u8>)>, IntelStoreError> {
        let conn = self.lock();
        let mut stmt = conn.prepare("SELECT set_name, source, body FROM source_state")?;
        let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
        Ok(rows.collect::<Result<_, _>>()?)
    }
}

fn row_status(r: &rusqlite::Row<'_>) -> rusqlite::Result<FeedStatus> {
    Ok(FeedStatus {
        feed: r.get(0)?,
        set: r.get(1)?,
        kind: r.get(2)?,
        ok: r.get(3)?,
        message: r.get(4)?,
        report: r.get(5)?,
        accepted: u64::try_from(r.get::<_, i64>(6)?).unwrap_or(0),
        set_version: u64::try_from(r.get::<_, i64>(7)?).unwrap_or(0),
        attempt_us: r.get(8)?,
        success_us: r.get(9)?,
        added_after: r.get(10)?,
    })
}

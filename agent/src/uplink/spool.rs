//! The durable alert spool: what the agent has not yet seen acknowledged by the collector.
//!
//! # Invariants
//!
//! 1. Record ids are assigned by the single writer, strictly increasing by 1, and never reused
//!    for a record that may have reached the collector: after a restart the next id follows the
//!    last valid record on disk (or the persisted ack, whichever is higher), and the segment
//!    being written is never deleted, so that floor survives even when everything was acked.
//! 2. A segment file is deleted only when it is closed (no longer written) and every record in
//!    it has an id ≤ the collector's acknowledgement (`acked_through`).
//! 3. The total bytes of segment files never exceed `max_bytes`. Policy when full: **refuse the
//!    newest** — a new record that does not fit is dropped and counted (`dropped_full`); the
//!    spool keeps the oldest undelivered alerts (the start of an incident is the part an
//!    analyst can least reconstruct) and ids stay contiguous.
//! 4. The reader only parses bytes the writer has published (`committed` length of the active
//!    segment), so a half-written record is never mistaken for corruption.
//! 5. A corrupt record (bad CRC, bad length, undecodable payload) is skipped and counted once;
//!    the reader resynchronises on the next record magic. It never panics on disk content.
//!
//! # Loss window
//!
//! The writer hands records to the OS whenever the event queue runs dry and at least every
//! 100 ms, and `fsync`s at most every `fsync_interval` (default 1 s) and at every segment roll.
//! A crash of the agent process loses only records not yet handed to the OS (< 100 ms); a power
//! loss or kernel crash can lose up to `fsync_interval` of records.
//!
//! # On-disk format
//!
//! ```text
//! <dir>/spool.id                 16 hex digits: the spool epoch (random, fixed at creation)
//! <dir>/acked                    decimal: highest record id acknowledged (hint; may lag)
//! <dir>/<20-digit id>.seg        segment: records back to back; the name is a lower bound
//!                                of the ids inside (normally the first id)
//! record = magic "KSR1" (4) | payload length u32 LE (4) | CRC32C u32 LE (4)
//!          | id u64 LE (8) | payload (length bytes, ≤ 1 MiB)
//! CRC32C covers length, id and payload. The payload is a prost-encoded `kordon.v1.Alert`.
//! ```
//!
//! The acknowledgement file is written by rename without fsync: losing it only causes
//! resends, which the collector deduplicates by (agent, epoch, id).

use std::collections::VecDeque;
use std::fs::{self, File, OpenOptions};
use std::io::{self, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Record magic, for resynchronisation after corruption.
pub const MAGIC: [u8; 4] = *b"KSR1";
/// Bytes before a record's payload.
pub const HEADER_LEN: usize = 20;
/// Largest payload accepted (an alert is a few hundred bytes; app-layer context is capped at
/// 64 KiB by the protocol).
pub const MAX_PAYLOAD: usize = 1 << 20;
/// How often buffered records are handed to the OS under sustained load.
const PUBLISH_INTERVAL: Duration = Duration::from_millis(100);

/// Spool settings.
#[derive(Clone, Debug)]
pub struct SpoolConfig {
    /// Folder (created if missing).
    pub dir: PathBuf,
    /// Upper bound of segment bytes on disk.
    pub max_bytes: u64,
    /// Segment size at which the writer starts a new file.
    pub segment_bytes: u64,
    /// Longest time between fsyncs (the power-loss window).
    pub fsync_interval: Duration,
}

/// A spool failure.
#[derive(Debug, thiserror::Error)]
pub enum SpoolError {
    /// File-system error.
    #[error("spool {path}: {source}")]
    Io {
        /// File or folder.
        path: PathBuf,
        /// Cause.
        source: io::Error,
    },
    /// A payload larger than [`MAX_PAYLOAD`].
    #[error("spool record of {0} bytes exceeds the 1 MiB limit")]
    TooLarge(usize),
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> SpoolError + '_ {
    move |source| SpoolError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Counters, readable from any thread.
#[derive(Debug, Default)]
pub struct SpoolCounters {
    /// Records appended since start.
    pub appended: AtomicU64,
    /// Records refused because the spool was full.
    pub dropped_full: AtomicU64,
    /// Corrupt records (or regions) skipped.
    pub corrupt: AtomicU64,
    /// Segment bytes on disk.
    pub bytes: AtomicU64,
    /// Highest id handed to the OS (readable by the reader).
    pub written_through: AtomicU64,
    /// Highest id the collector acknowledged.
    pub acked_through: AtomicU64,
}

#[derive(Clone, Debug)]
struct Segment {
    first_id: u64,
    last_id: u64,
    path: PathBuf,
    bytes: u64,
}

#[derive(Clone, Debug)]
struct Active {
    first_id: u64,
    path: PathBuf,
    committed: u64,
    last_id: Option<u64>,
}

#[derive(Debug, Default)]
struct Index {
    closed: VecDeque<Segment>,
    active: Option<Active>,
}

/// State shared by the writer (sink thread), the reader and the acknowledger (uplink task).
#[derive(Debug)]
pub struct Shared {
    dir: PathBuf,
    epoch: u64,
    index: Mutex<Index>,
    /// Counters.
    pub counters: SpoolCounters,
    /// Woken when records are published.
    pub notify: tokio::sync::Notify,
}

impl Shared {
    fn index(&self) -> MutexGuard<'_, Index> {
        // The index is plain data updated in single statements; a panic elsewhere cannot leave
        // it half-updated, so a poisoned lock is still consistent.
        self.index.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The spool epoch (random id of this spool directory).
    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    /// Records written but not yet acknowledged.
    pub fn pending(&self) -> u64 {
        let written = self.counters.written_through.load(Ordering::Acquire);
        written.saturating_sub(self.counters.acked_through.load(Ordering::Acquire))
    }

    /// Records the collector's acknowledgement and deletes the closed segments it covers.
    pub fn acknowledge(&self, through: u64) {
        let previous = self
            .counters
            .acked_through
            .fetch_max(through, Ordering::AcqRel);
        if through <= previous {
            return;
        }
        let mut index = self.index();
        while index.closed.front().is_some_and(|s| s.last_id <= through) {
            let Some(segment) = index.closed.pop_front() else {
                break;
            };
            match fs::remove_file(&segment.path) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(error) => {
                    tracing::warn!(path = %segment.path.display(), %error, "cannot delete acknowledged spool segment");
                }
            }
            self.counters
                .bytes
                .fetch_sub(segment.bytes, Ordering::AcqRel);
        }
    }

    /// Writes the acknowledgement hint file (no fsync; see the module doc).
    pub fn persist_ack(&self) -> Result<(), SpoolError> {
        let acked = self.counters.acked_through.load(Ordering::Acquire);
        let tmp = self.dir.join("acked.tmp");
        fs::write(&tmp, format!("{acked}\n")).map_err(io_err(&tmp))?;
        let path = self.dir.join("acked");
        fs::rename(&tmp, &path).map_err(io_err(&path))
    }
}

/// Appends a record (header + payload) to `out`.
pub fn encode_record(out: &mut Vec<u8>, id: u64, payload: &[u8]) {
    let len = u32::try_from(payload.len())
        .unwrap_or(u32::MAX)
        .to_le_bytes();
    let id_bytes = id.to_le_bytes();
    let crc = crc32c::crc32c_append(
        crc32c::crc32c_append(crc32c::crc32c(&len), &id_bytes),
        payload,
    );
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&len);
    out.extend_from_slice(&crc.to_le_bytes());
    out.extend_from_slice(&id_bytes);
    out.extend_from_slice(payload);
}

/// What the bytes at a position hold.
#[derive(Debug, PartialEq, Eq)]
pub enum Parsed<'a> {
    /// A valid record of `len` bytes in total.
    Record {
        /// Id.
        id: u64,
        /// Payload.
        payload: &'a [u8],
        /// Header plus payload.
        len: usize,
    },
    /// Not enough bytes yet for the record the header announces.
    Incomplete,
    /// Not a valid record.
    Corrupt,
}

fn le_u32(b: &[u8]) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(..4)?.try_into().ok()?))
}

/// Parses the record at the start of `buf`.
pub fn parse_record(buf: &[u8]) -> Parsed<'_> {
    if buf.len() < HEADER_LEN {
        return if MAGIC.starts_with(buf.get(..buf.len().min(4)).unwrap_or_default()) {
            Parsed::Incomplete
        } else {
            Parsed::Corrupt
        };
    }
    if buf.get(..4) != Some(&MAGIC[..]) {
        return Parsed::Corrupt;
    }
    let (Some(len), Some(crc)) = (le_u32(&buf[4..]), le_u32(&buf[8..])) else {
        return Parsed::Corrupt;
    };
    let len = len as usize;
    if len > MAX_PAYLOAD {
        return Parsed::Corrupt;
    }
    let Some(body) = buf.get(HEADER_LEN..HEADER_LEN + len) else {
        return Parsed::Incomplete;
    };
    let id_bytes = &buf[12..20];
    let actual = crc32c::crc32c_append(
        crc32c::crc32c_append(crc32c::crc32c(&buf[4..8]), id_bytes),
        body,
    );
    if actual != crc {
        return Parsed::Corrupt;
    }
    let mut id = [0u8; 8];
    id.copy_from_slice(id_bytes);
    Parsed::Record {
        id: u64::from_le_bytes(id),
        payload: body,
        len: HEADER_LEN + len,
    }
}

/// Position of the next magic after `from`, if any.
fn resync(buf: &[u8], from: usize) -> Option<usize> {
    buf.get(from..)?
        .windows(4)
        .position(|w| w == MAGIC)
        .map(|p| p + from)
}

fn segment_path(dir: &Path, first_id: u64) -> PathBuf {
    dir.join(format!("{first_id:020}.seg"))
}

fn random_u64() -> u64 {
    let mut bytes = [0u8; 8];
    if File::open("/dev/urandom")
        .and_then(|mut f| f.read_exact(&mut bytes))
        .is_ok()
    {
        return u64::from_le_bytes(bytes);
    }
    // Fallback: time and pid mixed (uniqueness, not secrecy, is what the epoch needs).
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    nanos ^ (u64::from(std::process::id()) << 32) ^ 0x9e37_79b9_7f4a_7c15
}

/// Scans a whole segment: (end of the last valid record, last valid id).
fn scan(buf: &[u8]) -> (usize, Option<u64>) {
    let (mut pos, mut end, mut last) = (0usize, 0usize, None);
    while pos < buf.len() {
        match parse_record(&buf[pos..]) {
            Parsed::Record { id, len, .. } => {
                pos += len;
                end = pos;
                last = Some(id);
            }
            Parsed::Incomplete | Parsed::Corrupt => match resync(buf, pos + 1) {
                Some(next) => pos = next,
                None => break,
            },
        }
    }
    (end, last)
}

/// Opens (recovering) or creates the spool.
pub fn open(config: &SpoolConfig) -> Result<(SpoolWriter, SpoolReader, Arc<Shared>), SpoolError> {
    let dir = config.dir.clone();
    fs::create_dir_all(&dir).map_err(io_err(&dir))?;
    let id_path = dir.join("spool.id");
    let epoch = match fs::read_to_string(&id_path) {
        Ok(text) => u64::from_str_radix(text.trim(), 16).map_err(|_| SpoolError::Io {
            path: id_path.clone(),
            source: io::Error::new(io::ErrorKind::InvalidData, "not 16 hex digits"),
        })?,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            let epoch = random_u64();
            let tmp = dir.join("spool.id.tmp");
            let mut f = File::create(&tmp).map_err(io_err(&tmp))?;
            f.write_all(format!("{epoch:016x}\n").as_bytes())
                .and_then(|()| f.sync_all())
                .map_err(io_err(&tmp))?;
            fs::rename(&tmp, &id_path).map_err(io_err(&id_path))?;
            epoch
        }
        Err(e) => return Err(io_err(&id_path)(e)),
    };
    let acked: u64 = fs::read_to_string(dir.join("acked"))
        .ok()
        .and_then(|t| t.trim().parse().ok())
        .unwrap_or(0);

    let mut firsts: Vec<u64> = fs::read_dir(&dir)
        .map_err(io_err(&dir))?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            name.strip_suffix(".seg")?.parse::<u64>().ok()
        })
        .collect();
    firsts.sort_unstable();

    let shared_counters = SpoolCounters::default();
    let mut index = Index::default();
    let mut total = 0u64;
    for pair in firsts.windows(2) {
        let path = segment_path(&dir, pair[0]);
        let bytes = fs::metadata(&path).map_err(io_err(&path))?.len();
        index.closed.push_back(Segment {
            first_id: pair[0],
            last_id: pair[1].saturating_sub(1),
            path,
            bytes,
        });
    }
    let mut next_id = acked + 1;
    let mut active_state = None;
    if let Some(&last_first) = firsts.last() {
        let path = segment_path(&dir, last_first);
        let data = fs::read(&path).map_err(io_err(&path))?;
        let (end, last_id) = scan(&data);
        if end < data.len() {
            tracing::info!(path = %path.display(), torn_bytes = data.len() - end, "spool: cut an incomplete record at the end of the last segment");
            let f = OpenOptions::new()
                .write(true)
                .open(&path)
                .map_err(io_err(&path))?;
            f.set_len(end as u64).map_err(io_err(&path))?;
            f.sync_all().map_err(io_err(&path))?;
        }
        next_id = next_id.max(last_id.map_or(last_first, |id| id + 1));
        active_state = Some((last_first, path, end as u64, last_id));
    }
    // Closed segments fully acknowledged before the restart.
    while index.closed.front().is_some_and(|s| s.last_id <= acked) {
        if let Some(s) = index.closed.pop_front() {
            let _ = fs::remove_file(&s.path);
        }
    }
    total += index.closed.iter().map(|s| s.bytes).sum::<u64>();
    let mut writer_file = None;
    let (seg_first, seg_len, seg_last) = match active_state {
        Some((first, path, len, last)) => {
            total += len;
            let file = OpenOptions::new()
                .append(true)
                .open(&path)
                .map_err(io_err(&path))?;
            writer_file = Some(BufWriter::with_capacity(256 * 1024, file));
            index.active = Some(Active {
                first_id: first,
                path,
                committed: len,
                last_id: last,
            });
            (first, len, last)
        }
        None => (next_id, 0, None),
    };
    shared_counters.bytes.store(total, Ordering::Release);
    shared_counters
        .acked_through
        .store(acked, Ordering::Release);
    shared_counters
        .written_through
        .store(next_id.saturating_sub(1), Ordering::Release);
    let shared = Arc::new(Shared {
        dir: dir.clone(),
        epoch,
        index: Mutex::new(index),
        counters: shared_counters,
        notify: tokio::sync::Notify::new(),
    });
    let writer = SpoolWriter {
        shared: Arc::clone(&shared),
        config: config.clone(),
        file: writer_file,
        seg_first,
        seg_len,
        seg_last,
        next_id,
        dirty: false,
        last_fsync: Instant::now(),
        last_publish: Instant::now(),
        unsynced: false,
        scratch: Vec::with_capacity(1024),
        last_full_log: None,
    };
    let reader = SpoolReader {
        shared: Arc::clone(&shared),
        want: acked + 1,
        current: None,
        corrupt_high: (0, 0),
    };
    Ok((writer, reader, shared))
}

/// Appends records; owned by the event-writer thread.
pub struct SpoolWriter {
    shared: Arc<Shared>,
    config: SpoolConfig,
    file: Option<BufWriter<File>>,
    seg_first: u64,
    seg_len: u64,
    seg_last: Option<u64>,
    next_id: u64,
    dirty: bool,
    unsynced: bool,
    last_fsync: Instant,
    last_publish: Instant,
    scratch: Vec<u8>,
    last_full_log: Option<Instant>,
}

impl SpoolWriter {
    /// Appends one record; returns its id, or `None` when the spool is full (counted).
    pub fn append(&mut self, payload: &[u8]) -> Result<Option<u64>, SpoolError> {
        if payload.len() > MAX_PAYLOAD {
            return Err(SpoolError::TooLarge(payload.len()));
        }
        let record_len = (HEADER_LEN + payload.len()) as u64;
        let shared = Arc::clone(&self.shared);
        let counters = &shared.counters;
        if counters.bytes.load(Ordering::Acquire) + record_len > self.config.max_bytes {
            counters.dropped_full.fetch_add(1, Ordering::Relaxed);
            if self
                .last_full_log
                .is_none_or(|t| t.elapsed() > Duration::from_secs(10))
            {
                self.last_full_log = Some(Instant::now());
                tracing::warn!(
                    max_bytes = self.config.max_bytes,
                    dropped_total = counters.dropped_full.load(Ordering::Relaxed),
                    intentional = true,
                    "spool full: refusing new alerts until the collector catches up"
                );
            }
            return Ok(None);
        }
        if self.seg_len > 0 && self.seg_len + record_len > self.config.segment_bytes {
            self.roll()?;
        }
        if self.file.is_none() {
            self.seg_first = self.next_id;
            let path = segment_path(&self.shared.dir, self.seg_first);
            let file = OpenOptions::new()
                .create(true)
                .write(true)
                .truncate(true)
                .open(&path)
                .map_err(io_err(&path))?;
            self.file = Some(BufWriter::with_capacity(256 * 1024, file));
            self.seg_len = 0;
            self.seg_last = None;
            self.shared.index().active = Some(Active {
                first_id: self.seg_first,
                path,
                committed: 0,
                last_id: None,
            });
        }
        let id = self.next_id;
        self.scratch.clear();
        encode_record(&mut self.scratch, id, payload);
        let path = segment_path(&self.shared.dir, self.seg_first);
        if let Some(file) = self.file.as_mut() {
            file.write_all(&self.scratch).map_err(io_err(&path))?;
        }
        self.next_id += 1;
        self.seg_len += record_len;
        self.seg_last = Some(id);
        self.dirty = true;
        counters.bytes.fetch_add(record_len, Ordering::AcqRel);
        counters.appended.fetch_add(1, Ordering::Relaxed);
        if self.last_publish.elapsed() >= PUBLISH_INTERVAL {
            self.flush()?;
        }
        Ok(Some(id))
    }

    /// Hands buffered records to the OS, fsyncs if the interval elapsed, and publishes them to
    /// the reader.
    pub fn flush(&mut self) -> Result<(), SpoolError> {
        self.last_publish = Instant::now();
        if !self.dirty {
            if self.unsynced && self.last_fsync.elapsed() >= self.config.fsync_interval {
                self.sync()?;
            }
            return Ok(());
        }
        let path = segment_path(&self.shared.dir, self.seg_first);
        if let Some(file) = self.file.as_mut() {
            file.flush().map_err(io_err(&path))?;
        }
        self.unsynced = true;
        if self.last_fsync.elapsed() >= self.config.fsync_interval {
            self.sync()?;
        }
        if let Some(active) = self.shared.index().active.as_mut() {
            active.committed = self.seg_len;
            active.last_id = self.seg_last;
        }
        if let Some(last) = self.seg_last {
            self.shared
                .counters
                .written_through
                .fetch_max(last, Ordering::AcqRel);
        }
        self.dirty = false;
        self.shared.notify.notify_one();
        Ok(())
    }

    fn sync(&mut self) -> Result<(), SpoolError> {
        let path = segment_path(&self.shared.dir, self.seg_first);
        if let Some(file) = self.file.as_mut() {
            file.get_ref().sync_data().map_err(io_err(&path))?;
        }
        self.unsynced = false;
        self.last_fsync = Instant::now();
        Ok(())
    }

    fn roll(&mut self) -> Result<(), SpoolError> {
        self.flush()?;
        self.sync()?;
        self.file = None;
        let mut index = self.shared.index();
        if let Some(active) = index.active.take() {
            index.closed.push_back(Segment {
                first_id: active.first_id,
                last_id: self.seg_last.unwrap_or(active.first_id),
                path: active.path,
                bytes: self.seg_len,
            });
        }
        self.seg_len = 0;
        Ok(())
    }

    /// The shared state (counters, epoch).
    pub fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }
}

impl Drop for SpoolWriter {
    fn drop(&mut self) {
        if let Err(error) = self.flush().and_then(|()| self.sync()) {
            tracing::warn!(%error, "spool: final flush failed");
        }
    }
}

/// A record read back: (id, payload).
pub type SpooledRecord = (u64, Vec<u8>);

struct Current {
    first_id: u64,
    closed: bool,
    file: File,
    data: Vec<u8>,
    pos: usize,
}

/// Reads records in id order for sending; owned by the uplink task.
pub struct SpoolReader {
    shared: Arc<Shared>,
    want: u64,
    current: Option<Current>,
    corrupt_high: (u64, usize),
}

impl SpoolReader {
    /// Restarts reading after `acked` (after a reconnect: everything unacknowledged is resent).
    pub fn rewind(&mut self, acked: u64) {
        self.want = acked + 1;
        self.current = None;
    }

    fn count_corrupt(&mut self, first_id: u64, pos: usize) {
        if (first_id, pos) > self.corrupt_high {
            self.corrupt_high = (first_id, pos);
            self.shared.counters.corrupt.fetch_add(1, Ordering::Relaxed);
            tracing::warn!(
                segment = first_id,
                offset = pos,
                "spool: corrupt record skipped"
            );
        }
    }

    /// Opens the segment holding `want`, or reports none.
    fn locate(&mut self) -> Result<bool, SpoolError> {
        let (first_id, path, closed, limit) = {
            let index = self.shared.index();
            let found = index
                .closed
                .iter()
                .find(|s| s.last_id >= self.want)
                .map(|s| (s.first_id, s.path.clone(), true, s.bytes));
            match found {
                Some(f) => f,
                None => match &index.active {
                    Some(a) if a.last_id.is_some_and(|l| l >= self.want) => {
                        (a.first_id, a.path.clone(), false, a.committed)
                    }
                    _ => return Ok(false),
                },
            }
        };
        let mut file = File::open(&path).map_err(io_err(&path))?;
        let mut data = Vec::with_capacity(limit as usize);
        (&mut file)
            .take(limit)
            .read_to_end(&mut data)
            .map_err(io_err(&path))?;
        self.current = Some(Current {
            first_id,
            closed,
            file,
            data,
            pos: 0,
        });
        Ok(true)
    }

    /// Loads bytes the writer published since the segment was opened; returns whether the
    /// segment is now closed.
    fn refresh(&mut self) -> Result<(), SpoolError> {
        let Some(cur) = self.current.as_mut() else {
            return Ok(());
        };
        if cur.closed {
            return Ok(());
        }
        let (limit, closed) = {
            let index = self.shared.index();
            match &index.active {
                Some(a) if a.first_id == cur.first_id => (a.committed, false),
                _ => match index.closed.iter().find(|s| s.first_id == cur.first_id) {
                    Some(s) => (s.bytes, true),
                    None => (cur.data.len() as u64, true),
                },
            }
        };
        let have = cur.data.len() as u64;
        if limit > have {
            let path = segment_path(&self.shared.dir, cur.first_id);
            cur.file
                .seek(SeekFrom::Start(have))
                .map_err(io_err(&path))?;
            (&mut cur.file)
                .take(limit - have)
                .read_to_end(&mut cur.data)
                .map_err(io_err(&path))?;
        }
        cur.closed = closed;
        Ok(())
    }

    /// Up to `max_records` records (and about `max_bytes`) with ids ≥ the next wanted id:
    /// `(first id covered, records)`. Empty when nothing new is published.
    pub fn next_batch(
        &mut self,
        max_records: usize,
        max_bytes: usize,
    ) -> Result<(u64, Vec<SpooledRecord>), SpoolError> {
        let start = self.want;
        let mut out = Vec::new();
        let mut bytes = 0usize;
        while out.len() < max_records && bytes < max_bytes {
            if self.current.is_none() && !self.locate()? {
                break;
            }
            self.refresh()?;
            let Some(cur) = self.current.as_mut() else {
                break;
            };
            if cur.pos >= cur.data.len() {
                if cur.closed {
                    self.current = None;
                    continue;
                }
                break; // caught up with the writer
            }
            match parse_record(&cur.data[cur.pos..]) {
                Parsed::Record { id, payload, len } => {
                    if id >= self.want {
                        bytes += payload.len();
                        out.push((id, payload.to_vec()));
                        self.want = id + 1;
                    }
                    cur.pos += len;
                }
                Parsed::Incomplete | Parsed::Corrupt => {
                    // Only published bytes are loaded, so this is damage, not a record in
                    // progress.
                    let (first_id, pos) = (cur.first_id, cur.pos);
                    let next = resync(&cur.data, pos + 1).unwrap_or(cur.data.len());
                    cur.pos = next;
                    self.count_corrupt(first_id, pos);
                }
            }
        }
        Ok((start, out))
    }

    /// Counts a record whose payload does not decode.
    pub fn count_bad_payload(&mut self, id: u64) {
        self.shared.counters.corrupt.fetch_add(1, Ordering::Relaxed);
        tracing::warn!(id, "spool: record payload does not decode; skipped");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(name: &str) -> SpoolConfig {
        let dir = std::env::temp_dir().join(format!("kordon-spool-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        SpoolConfig {
            dir,
            max_bytes: 1 << 20,
            segment_bytes: 4096,
            fsync_interval: Duration::from_millis(0),
        }
    }

    fn payload(i: u64) -> Vec<u8> {
        format!("record-{i}-{}", "x".repeat((i % 50) as usize)).into_bytes()
    }

    #[test]
    fn records_round_trip_across_segments_restart_and_acks() {
        let cfg = config("roundtrip");
        let (mut w, mut r, shared) = open(&cfg).expect("open");
        for i in 1..=300 {
            assert_eq!(w.append(&payload(i)).expect("append"), Some(i));
        }
        w.flush().expect("flush");
        let (first, got) = r.next_batch(1000, usize::MAX).expect("read");
        assert_eq!(first, 1);
        assert_eq!(got.len(), 300);
        assert!(got.iter().all(|(id, p)| *p == payload(*id)));
        let segments_before = fs::read_dir(&cfg.dir).expect("dir").count();
        shared.acknowledge(200);
        shared.persist_ack().expect("persist");
        assert!(fs::read_dir(&cfg.dir).expect("dir").count() < segments_before);
        drop((w, r));
        // Restart: ids continue, the reader resumes after the persisted ack.
        let (mut w, mut r, shared2) = open(&cfg).expect("reopen");
        assert_eq!(shared2.epoch(), shared.epoch());
        assert_eq!(w.append(b"after").expect("append"), Some(301));
        w.flush().expect("flush");
        let (first, got) = r.next_batch(1000, usize::MAX).expect("read");
        assert_eq!(first, 201);
        assert_eq!(got.first().map(|g| g.0), Some(201));
        assert_eq!(got.last().map(|g| g.0), Some(301));
        let _ = fs::remove_dir_all(&cfg.dir);
    }

    #[test]
    fn corrupt_record_is_skipped_once_and_torn_tail_cut() {
        let cfg = config("corrupt");
        let (mut w, _, _) = open(&cfg).expect("open");
        for i in 1..=10 {
            w.append(&payload(i)).expect("append");
        }
        drop(w);
        let seg = segment_path(&cfg.dir, 1);
        let mut data = fs::read(&seg).expect("read");
        // Damage record 3's payload, and add half a record at the end.
        let mut pos = 0;
        for _ in 0..2 {
            let Parsed::Record { len, .. } = parse_record(&data[pos..]) else {
                panic!("valid")
            };
            pos += len;
        }
        data[pos + HEADER_LEN + 2] ^= 0xff;
        data.extend_from_slice(&MAGIC);
        data.extend_from_slice(&[9, 0]);
        fs::write(&seg, &data).expect("write");
        let (mut w, mut r, shared) = open(&cfg).expect("reopen");
        assert_eq!(w.append(b"next").expect("append"), Some(11));
        w.flush().expect("flush");
        let (_, got) = r.next_batch(100, usize::MAX).expect("read");
        let ids: Vec<u64> = got.iter().map(|g| g.0).collect();
        assert_eq!(ids, [1, 2, 4, 5, 6, 7, 8, 9, 10, 11]);
        assert_eq!(shared.counters.corrupt.load(Ordering::Relaxed), 1);
        r.rewind(0);
        let (_, again) = r.next_batch(100, usize::MAX).expect("read");
        assert_eq!(again.len(), 10);
        assert_eq!(shared.counters.corrupt.load(Ordering::Relaxed), 1);
        let _ = fs::remove_dir_all(&cfg.dir);
    }

    #[test]
    fn full_spool_refuses_newest_and_counts() {
        let mut cfg = config("full");
        cfg.max_bytes = 10 * (HEADER_LEN as u64 + 10);
        let (mut w, _, shared) = open(&cfg).expect("open");
        let accepted = (0..20)
            .filter(|_| w.append(b"0123456789").expect("append").is_some())
            .count();
        assert_eq!(accepted, 10);
        assert_eq!(shared.counters.dropped_full.load(Ordering::Relaxed), 10);
        let _ = fs::remove_dir_all(&cfg.dir);
    }
}

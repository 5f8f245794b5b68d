//! The collector uplink: alerts leave the agent through a durable disk spool and one gRPC
//! stream, and are deleted only once the collector has acknowledged storing them.
//!
//! ```text
//!  event-writer thread ──UplinkSink::write──▶ spool (segment files, CRC32C records)
//!                                               │ published records (Notify)
//!  uplink thread (own tokio runtime) ◀──────────┘
//!    reader → batches (sequence = first record id) → AgentService.Report stream
//!    ← Ack(acked_through) → delete acknowledged segments, persist the ack
//! ```
//!
//! Invariants:
//! - The sink never touches the network: `write` appends to a buffered file and `flush` hands
//!   the buffer to the OS. Capture and workers therefore never wait on the collector; the only
//!   bound is the spool size (`--max-spool-bytes`), beyond which new alerts are refused and
//!   counted (see [`spool`]).
//! - After every (re)connect the reader restarts right after the last acknowledged id, so
//!   everything unacknowledged is resent; the collector stores by (agent, spool epoch, id),
//!   so resends are never stored twice.
//! - Reconnects back off exponentially (200 ms doubling to `reconnect_max`) with ±50 % jitter,
//!   so a fleet does not reconnect in lock-step after a collector restart.

use std::io;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::thread;
use std::time::{Duration, Instant};

use prost::Message;

use crate::event::Event;
use crate::sink::EventSink;
use crate::stats::LiveReport;

pub mod convert;
mod sender;
pub mod spool;

use spool::{Shared, SpoolConfig, SpoolWriter};

/// Client certificate, key and CA (PEM files) for mTLS.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsFiles {
    /// Agent certificate (CN = agent id).
    pub cert: PathBuf,
    /// Agent key.
    pub key: PathBuf,
    /// CA that signed the collector's certificate.
    pub ca: PathBuf,
}

/// Uplink settings (validated by the command line).
#[derive(Clone, Debug)]
pub struct UplinkConfig {
    /// `https://host:port`, or `http://127.0.0.1:port` with `--insecure-dev`.
    pub collector: String,
    /// mTLS files; `None` only with `--insecure-dev`.
    pub tls: Option<TlsFiles>,
    /// Agent id sent in every batch (must equal the certificate's CN).
    pub agent_id: String,
    /// Capture interface named in alerts and heartbeats ("" offline).
    pub interface: String,
    /// Spool.
    pub spool: SpoolConfig,
    /// Records per batch at most.
    pub max_batch_records: usize,
    /// Payload bytes per batch, about (a batch stops after crossing it).
    pub max_batch_bytes: usize,
    /// Batches sent and not yet acknowledged at most.
    pub window_batches: usize,
    /// Period of heartbeats.
    pub heartbeat_interval: Duration,
    /// Longest pause between reconnect attempts.
    pub reconnect_max: Duration,
    /// At exit, how long to wait for the collector to acknowledge everything spooled.
    pub drain_timeout: Duration,
    /// Version of the applied indicator bundle (set by the indicator sync; 0 = local files),
    /// reported in heartbeats.
    pub indicator_version: Arc<std::sync::atomic::AtomicU64>,
}

impl UplinkConfig {
    /// Defaults for everything but the addresses and identity.
    pub fn new(collector: String, agent_id: String, spool_dir: PathBuf) -> UplinkConfig {
        UplinkConfig {
            collector,
            tls: None,
            agent_id,
            interface: String::new(),
            spool: SpoolConfig {
                dir: spool_dir,
                max_bytes: 1 << 30,
                segment_bytes: 8 << 20,
                fsync_interval: Duration::from_secs(1),
            },
            max_batch_records: 2000,
            max_batch_bytes: 1 << 20,
            window_batches: 16,
            heartbeat_interval: Duration::from_secs(10),
            reconnect_max: Duration::from_secs(5),
            drain_timeout: Duration::from_secs(30),
            indicator_version: Arc::default(),
        }
    }
}

/// Why the uplink cannot start.
#[derive(Debug, thiserror::Error)]
pub enum UplinkError {
    /// The spool cannot be opened or recovered.
    #[error(transparent)]
    Spool(#[from] spool::SpoolError),
    /// A TLS file cannot be read.
    #[error("{path}: {source}")]
    Tls {
        /// Path.
        path: PathBuf,
        /// Cause.
        source: io::Error,
    },
    /// The uplink thread or its runtime cannot start.
    #[error("uplink thread: {0}")]
    Thread(io::Error),
}

/// The event sink: alerts into the spool.
pub struct UplinkSink {
    writer: SpoolWriter,
    interface: String,
    buffer: Vec<u8>,
}

impl EventSink for UplinkSink {
    fn write(&mut self, event: &Event) -> io::Result<()> {
        let Event::Alert(alert) = event else {
            return Ok(());
        };
        self.buffer.clear();
        convert::alert(alert, &self.interface)
            .encode(&mut self.buffer)
            .map_err(io::Error::other)?;
        self.writer
            .append(&self.buffer)
            .map(|_| ())
            .map_err(io::Error::other)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.writer.flush().map_err(io::Error::other)
    }
}

/// What the uplink did, for the exit summary.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct UplinkSummary {
    /// Records appended to the spool in this run.
    pub spooled: u64,
    /// Records still waiting for an acknowledgement (kept for the next start).
    pub pending: u64,
    /// Records refused by a full spool.
    pub dropped_full: u64,
    /// Corrupt records skipped.
    pub corrupt: u64,
    /// Highest acknowledged record id.
    pub acked_through: u64,
}

impl std::fmt::Display for UplinkSummary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "uplink: spooled={} pending={} dropped_full={} corrupt={} acked_through={}",
            self.spooled, self.pending, self.dropped_full, self.corrupt, self.acked_through
        )
    }
}

/// The running uplink thread.
pub struct Uplink {
    shared: Arc<Shared>,
    stop: tokio::sync::watch::Sender<bool>,
    thread: Option<thread::JoinHandle<()>>,
    drain_timeout: Duration,
}

/// Opens the spool and starts the uplink thread. The sink goes to the pipeline; the handle
/// waits for delivery at exit ([`Uplink::finish`]).
pub fn start(
    config: UplinkConfig,
    live: Option<Arc<LiveReport>>,
) -> Result<(UplinkSink, Uplink), UplinkError> {
    let tls = match &config.tls {
        Some(files) => {
            let read = |path: &PathBuf| {
                std::fs::read(path).map_err(|source| UplinkError::Tls {
                    path: path.clone(),
                    source,
                })
            };
            Some(sender::TlsPem {
                cert: read(&files.cert)?,
                key: read(&files.key)?,
                ca: read(&files.ca)?,
            })
        }
        None => None,
    };
    let (writer, reader, shared) = spool::open(&config.spool)?;
    if shared.pending() > 0 {
        tracing::info!(
            pending = shared.pending(),
            "uplink: resuming delivery of spooled alerts from a previous run"
        );
    }
    let (stop, stop_rx) = tokio::sync::watch::channel(false);
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(UplinkError::Thread)?;
    let task_shared = Arc::clone(&shared);
    let drain_timeout = config.drain_timeout;
    let interface = config.interface.clone();
    let thread = thread::Builder::new()
        .name("uplink".into())
        .spawn(move || {
            runtime.block_on(sender::run(config, tls, reader, task_shared, live, stop_rx));
        })
        .map_err(UplinkError::Thread)?;
    Ok((
        UplinkSink {
            writer,
            interface,
            buffer: Vec::with_capacity(1024),
        },
        Uplink {
            shared,
            stop,
            thread: Some(thread),
            drain_timeout,
        },
    ))
}

impl Uplink {
    /// Call after the pipeline returned (the sink is dropped, so everything is spooled): waits
    /// up to the drain timeout for the collector to acknowledge every record, then stops.
    /// Whatever is not acknowledged stays in the spool for the next start.
    pub fn finish(mut self) -> UplinkSummary {
        let deadline = Instant::now() + self.drain_timeout;
        let mut announced = false;
        while self.shared.pending() > 0 && Instant::now() < deadline {
            if !announced {
                tracing::info!(
                    pending = self.shared.pending(),
                    "uplink: waiting for the collector to acknowledge spooled alerts"
                );
                announced = true;
            }
            thread::sleep(Duration::from_millis(20));
        }
        let _ = self.stop.send(true);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        let _ = self.shared.persist_ack();
        let summary = self.summary();
        if summary.pending > 0 {
            tracing::warn!(
                pending = summary.pending,
                "uplink: collector did not acknowledge everything in time; the rest stays spooled for the next start"
            );
        }
        summary
    }

    /// Current counters.
    pub fn summary(&self) -> UplinkSummary {
        let c = &self.shared.counters;
        UplinkSummary {
            spooled: c.appended.load(Ordering::Relaxed),
            pending: self.shared.pending(),
            dropped_full: c.dropped_full.load(Ordering::Relaxed),
            corrupt: c.corrupt.load(Ordering::Relaxed),
            acked_through: c.acked_through.load(Ordering::Relaxed),
        }
    }
}

/// The host name, the default agent id.
pub fn hostname() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its length; gethostname NUL-terminates within it or
    // truncates, and we stop at the first NUL or the end.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return "localhost".into();
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

//! Wiring: one capture thread → bounded batch channels → N workers → one event writer.
//!
//! Shutdown is ordered by dropping senders: when capture ends (files done, or SIGINT/SIGTERM in
//! live mode) the dispatcher is dropped, each worker drains its queue, ends its flows and drops
//! its event sender, and the writer finishes when the last sender is gone. Nothing is lost on a
//! clean stop.

use std::io::{self, Write};
use std::path::PathBuf;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, RecvTimeoutError, bounded};

use crate::batch::Batch;
use crate::capture::{self, Dispatcher, QueuePolicy, Shutdown, live::LiveConfig};
use crate::event::Event;
use crate::flow::hash::FlowHashBuilder;
use crate::indicators::LiveIndicators;
use crate::sink::{EveSink, EventSink};
use crate::stats::{
    Counters, FileReport, IndicatorReport, KernelStats, LiveReport, Published, Report,
};
use crate::worker::{Worker, WorkerConfig};

/// Where packets come from.
#[derive(Clone, Debug)]
pub enum Source {
    /// Capture files and directories.
    Files(Vec<PathBuf>),
    /// A live interface.
    Live(LiveConfig),
}

/// Where EVE events go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EveTarget {
    /// Standard output.
    Stdout,
    /// A file (appended to, like Suricata's `eve.json`).
    File(PathBuf),
}

/// Pipeline settings.
#[derive(Clone, Debug)]
pub struct PipelineConfig {
    /// Packet source.
    pub source: Source,
    /// Worker threads.
    pub workers: usize,
    /// Batches queued per worker before the capture side blocks (offline) or drops (live).
    pub queue_batches: usize,
    /// Events queued for the writer.
    pub event_queue: usize,
    /// Per-worker settings (`max_flows` is per worker).
    pub worker: WorkerConfig,
    /// EVE destination.
    pub eve: EveTarget,
    /// Period of the stats log line in live mode (`None` = off).
    pub stats_interval: Option<Duration>,
    /// Refreshed with the current report about once a second (for the uplink's heartbeats).
    pub live_report: Option<Arc<LiveReport>>,
}

/// Errors that stop the pipeline.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// The EVE file cannot be opened or written.
    #[error("EVE output {path}: {source}")]
    Eve {
        /// Path.
        path: String,
        /// Cause.
        source: io::Error,
    },
    /// A `--read` path could not be listed.
    #[error("cannot list capture input: {0}")]
    Input(io::Error),
    /// Live capture failed.
    #[error(transparent)]
    Live(#[from] capture::live::LiveError),
    /// A thread could not be started or panicked.
    #[error("thread {0} failed")]
    Thread(&'static str),
}

/// Runs the pipeline to completion and returns the final report. Events go to the EVE output
/// and then to each of `extra_sinks` (e.g. the collector uplink).
pub fn run(
    config: PipelineConfig,
    indicators: LiveIndicators,
    shutdown: Shutdown,
    extra_sinks: Vec<Box<dyn EventSink>>,
) -> Result<Report, PipelineError> {
    let started = Instant::now();
    let mut sinks: Vec<Box<dyn EventSink>> = vec![Box::new(EveSink::new(open_eve(&config.eve)?))];
    sinks.extend(extra_sinks);
    // Open the interface before starting threads so a bad name or filter fails fast and plainly.
    let live_capture = match &config.source {
        Source::Live(live) => Some(capture::live::open(live)?),
        Source::Files(_) => None,
    };
    let files = match &config.source {
        Source::Files(paths) => {
            capture::offline::expand_paths(paths).map_err(PipelineError::Input)?
        }
        Source::Live(_) => Vec::new(),
    };

    let workers = config.workers.max(1);
    let (event_tx, event_rx) = bounded::<Event>(config.event_queue.max(1));
    let (recycle_tx, recycle_rx) = bounded::<Batch>(workers * (config.queue_batches + 2));
    let capture_published = Arc::new(Published::default());
    let kernel = Arc::new(KernelStats::default());

    let writer = spawn("event-writer", move || write_events(event_rx, sinks))?;

    let mut senders = Vec::with_capacity(workers);
    let mut worker_handles = Vec::with_capacity(workers);
    let mut worker_published = Vec::with_capacity(workers);
    for index in 0..workers {
        let (tx, rx) = bounded::<Batch>(config.queue_batches.max(1));
        senders.push(tx);
        let published = Arc::new(Published::default());
        worker_published.push(Arc::clone(&published));
        let worker = Worker::new(config.worker.clone(), published, event_tx.clone());
        let recycle = recycle_tx.clone();
        let live = indicators.clone();
        let name = worker_thread_name(index);
        worker_handles.push(spawn(name, move || worker.run(rx, recycle, live))?);
    }
    drop(event_tx);
    drop(recycle_tx);

    let policy = match config.source {
        Source::Files(_) => QueuePolicy::Block,
        Source::Live(_) => QueuePolicy::Drop,
    };
    let hasher = FlowHashBuilder::random();
    let mut dispatcher = Dispatcher::new(
        senders,
        recycle_rx,
        policy,
        hasher,
        Arc::clone(&capture_published),
    );
    let capture_shutdown = shutdown.clone();
    let capture_kernel = Arc::clone(&kernel);
    let source = config.source.clone();
    // Dropped when the capture thread ends, which wakes the stats loop below at once.
    let (done_tx, done_rx) = bounded::<()>(0);
    let capture = spawn(
        "capture",
        move || -> Result<Vec<FileReport>, PipelineError> {
            let _done = done_tx;
            let result = match (source, live_capture) {
                (Source::Live(live), Some(handle)) => capture::live::run(
                    &live,
                    handle,
                    &mut dispatcher,
                    &capture_shutdown,
                    &capture_kernel,
                )
                .map(|()| Vec::new())
                .map_err(PipelineError::from),
                _ => Ok(capture::offline::read_files(
                    &files,
                    &mut dispatcher,
                    &capture_shutdown,
                )),
            };
            dispatcher.publish();
            result
        },
    )?;

    let report_now = |files: Vec<FileReport>| {
        let capture_counters = capture_published.read();
        let worker_counters = worker_published
            .iter()
            .fold(Counters::default(), |acc, p| acc.plus(p.read()));
        let snapshot = indicators.load();
        Report::new(
            capture_counters,
            worker_counters,
            &kernel,
            files,
            started.elapsed().as_secs_f64(),
            IndicatorReport {
                count: snapshot.set.len(),
                memory_bytes: snapshot.set.memory_usage(),
            },
            &worker_published
                .iter()
                .map(|p| p.read_anomalies())
                .collect::<Vec<_>>(),
        )
    };

    let mut last_stats = Instant::now();
    let mut last_live = Instant::now();
    while let Err(RecvTimeoutError::Timeout) = done_rx.recv_timeout(Duration::from_millis(250)) {
        if let Some(live) = &config.live_report
            && last_live.elapsed() >= Duration::from_secs(1)
        {
            last_live = Instant::now();
            live.set(report_now(Vec::new()));
        }
        if let Some(interval) = config.stats_interval
            && last_stats.elapsed() >= interval
        {
            last_stats = Instant::now();
            tracing::info!(target: "kordon::stats", "{}", report_now(Vec::new()).summary_line());
        }
    }
    let files = capture
        .join()
        .map_err(|_| PipelineError::Thread("capture"))?;
    for handle in worker_handles {
        handle.join().map_err(|_| PipelineError::Thread("worker"))?;
    }
    writer
        .join()
        .map_err(|_| PipelineError::Thread("event-writer"))?
        .map_err(|source| PipelineError::Eve {
            path: eve_name(&config.eve),
            source,
        })?;
    let files = files?;
    let report = report_now(files);
    if let Some(live) = &config.live_report {
        live.set(report.clone());
    }
    Ok(report)
}

fn worker_thread_name(index: usize) -> &'static str {
    const NAMES: [&str; 8] = [
        "worker-0", "worker-1", "worker-2", "worker-3", "worker-4", "worker-5", "worker-6",
        "worker-7",
    ];
    NAMES.get(index).copied().unwrap_or("worker")
}

fn spawn<T: Send + 'static>(
    name: &'static str,
    body: impl FnOnce() -> T + Send + 'static,
) -> Result<thread::JoinHandle<T>, PipelineError> {
    thread::Builder::new()
        .name(name.to_string())
        .spawn(body)
        .map_err(|_| PipelineError::Thread(name))
}

fn eve_name(target: &EveTarget) -> String {
    match target {
        EveTarget::Stdout => "-".into(),
        EveTarget::File(path) => path.display().to_string(),
    }
}

fn open_eve(target: &EveTarget) -> Result<Box<dyn Write + Send>, PipelineError> {
    match target {
        EveTarget::Stdout => Ok(Box::new(io::stdout())),
        EveTarget::File(path) => std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map(|f| Box::new(f) as Box<dyn Write + Send>)
            .map_err(|source| PipelineError::Eve {
                path: path.display().to_string(),
                source,
            }),
    }
}

/// Hands events to every sink as they come, flushing whenever the queue runs dry so live alerts
/// are visible at once while bursts are written in large blocks.
fn write_events(events: Receiver<Event>, mut sinks: Vec<Box<dyn EventSink>>) -> io::Result<()> {
    loop {
        match events.recv_timeout(Duration::from_millis(200)) {
            Ok(event) => {
                write_to_all(&mut sinks, &event)?;
                while let Ok(event) = events.try_recv() {
                    write_to_all(&mut sinks, &event)?;
                }
                flush_all(&mut sinks)?;
            }
            Err(RecvTimeoutError::Timeout) => {}
            Err(RecvTimeoutError::Disconnected) => break,
        }
    }
    flush_all(&mut sinks)
}

fn write_to_all(sinks: &mut [Box<dyn EventSink>], event: &Event) -> io::Result<()> {
    sinks.iter_mut().try_for_each(|sink| sink.write(event))
}

fn flush_all(sinks: &mut [Box<dyn EventSink>]) -> io::Result<()> {
    sinks.iter_mut().try_for_each(|sink| sink.flush())
}

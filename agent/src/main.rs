//! `kordon-agent`: reads captures or an interface, matches indicators, writes EVE JSON.

use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use kordon_agent::capture::Shutdown;
use kordon_agent::cli::Cli;
use kordon_agent::indicators::LiveIndicators;
use kordon_agent::sink::EventSink;
use kordon_agent::stats::LiveReport;
use kordon_agent::{feeds, pipeline, sync, uplink};
use std::sync::Arc;

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging();
    match run(cli) {
        Ok(code) => code,
        Err(error) => {
            tracing::error!("{error:#}");
            eprintln!("kordon-agent: {error:#}");
            ExitCode::from(2)
        }
    }
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    let settings = cli.validate()?;
    let loaded = feeds::load_all(
        &settings.indicators,
        &settings.indicator_defaults,
        &settings.allowlist,
    )
    .context("loading indicators")?;
    for report in &loaded.reports {
        tracing::info!(target: "kordon::feeds", "{report}");
    }
    tracing::info!(
        indicators = loaded.set.len(),
        memory_bytes = loaded.set.memory_usage(),
        "indicator set compiled"
    );
    // Indicator sync: the persisted fleet bundle (verified again) merged with the local files
    // is the set the workers start with; the sync thread swaps newer versions in.
    let mut initial = loaded.set;
    let mut sync_start = None;
    let indicator_version = Arc::new(std::sync::atomic::AtomicU64::new(0));
    if let Some(config) = &settings.sync {
        let start = sync::prepare(config).context("starting indicator sync")?;
        let local = sync::baseline(&initial);
        if let Some(bundle) = &start.persisted {
            initial =
                sync::compile_merged(bundle, &local).context("compiling the persisted bundle")?;
        }
        sync_start = Some((config.clone(), start, local));
    }
    let live_indicators = LiveIndicators::new(initial);
    if let Some((config, start, local)) = sync_start {
        tracing::info!(collector = %config.collector, set = %config.set, "indicator sync enabled");
        let start_persisted_none = start.persisted.is_none();
        let path = config.bundle_dir.join(format!("{}.bundle", config.set));
        let applier = sync::Applier::new(
            start.key,
            local,
            live_indicators.clone(),
            start.persisted,
            Arc::clone(&indicator_version),
            Some(path),
        );
        let first_wait = if start_persisted_none {
            config.first_wait
        } else {
            std::time::Duration::ZERO
        };
        sync::start(config, applier).context("starting indicator sync")?;
        wait_for_first_set(&indicator_version, first_wait);
    }
    let shutdown = Shutdown::new();
    shutdown
        .install_signal_handlers()
        .context("installing signal handlers")?;
    let stats_json = settings.stats_json.clone();
    let mut pipeline_config = settings.pipeline;
    let mut extra_sinks: Vec<Box<dyn EventSink>> = Vec::new();
    let uplink = match settings.uplink {
        Some(mut config) => {
            config.indicator_version = Arc::clone(&indicator_version);
            if config.tls.is_none() {
                tracing::warn!(
                    "*** --insecure-dev: alerts go to the collector in PLAINTEXT and unauthenticated. \
                     For demos on loopback only; never in production. ***"
                );
            }
            tracing::info!(collector = %config.collector, agent_id = %config.agent_id, spool = %config.spool.dir.display(), "uplink enabled");
            let live = Arc::new(LiveReport::default());
            pipeline_config.live_report = Some(Arc::clone(&live));
            let (sink, handle) =
                uplink::start(config, Some(live)).context("starting the uplink")?;
            extra_sinks.push(Box::new(sink));
            Some(handle)
        }
        None => None,
    };
    let report = pipeline::run(pipeline_config, live_indicators, shutdown, extra_sinks)?;
    eprintln!("kordon-agent: {}", report.summary_line());
    if let Some(handle) = uplink {
        eprintln!("kordon-agent: {}", handle.finish());
    }
    if let Some(path) = stats_json {
        let json = serde_json::to_vec_pretty(&report).context("serialising stats")?;
        std::fs::write(&path, json)
            .with_context(|| format!("writing stats to {}", path.display()))?;
    }
    let failed_files = report
        .capture
        .files
        .iter()
        .filter(|f| f.error.is_some())
        .count();
    // Exit 1 when some input could not be read fully, so scripts notice; the rest was processed.
    Ok(if failed_files > 0 {
        ExitCode::from(1)
    } else {
        ExitCode::SUCCESS
    })
}

/// Blocks until the sync thread applied a first version or `limit` passed (then the agent starts
/// with what it has, and the set arrives as a hot swap).
fn wait_for_first_set(version: &std::sync::atomic::AtomicU64, limit: std::time::Duration) {
    if limit.is_zero() {
        return;
    }
    let deadline = std::time::Instant::now() + limit;
    while version.load(std::sync::atomic::Ordering::Acquire) == 0 {
        if std::time::Instant::now() >= deadline {
            tracing::warn!(
                wait_secs = limit.as_secs(),
                "no indicator set from the collector yet; starting with the local indicators"
            );
            return;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("KORDON_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr)
        .init();
}

//! Load client for the indicator-swap benchmark (`scripts/bench-indicators.sh`).
//!
//! - `push`: pushes the indicators of a file (one value per line, `#` comments) to a set with
//!   `FeedService.PushIndicators`, as a feed would, and prints the version and the commit time.
//!   The benchmark uses it for the 1M-indicator set, so the agent receives it by the real path
//!   (collector compiles and signs, `WatchIndicators` streams it).
//! - `fanout`: opens N `WatchIndicators` streams, one mTLS connection and one agent certificate
//!   each (as N agents would: the collector requires the request's agent id to equal the
//!   certificate CN), waits until every stream holds the current version, pushes a delta and
//!   measures push start → the last stream having received the whole new version.
//!
//! Output is one JSON line on stdout, so the script does not scrape logs.
//!
//! ```text
//! cargo run --release -p kordon-collector --example watch_load -- push \
//!     --collector https://127.0.0.1:50051 --pki pki --feed-cert bench-feed --set bench --file ips.txt
//! cargo run --release -p kordon-collector --example watch_load -- fanout \
//!     --collector https://127.0.0.1:50051 --pki pki --feed-cert bench-feed --agent-prefix load- \
//!     --streams 100 --set fanout --file delta.txt
//! ```

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail, ensure};
use clap::{Parser, Subcommand};
use kordon_proto::agent_service_client::AgentServiceClient;
use kordon_proto::feed_service_client::FeedServiceClient;
use kordon_proto::{IndicatorChunk, PushMode, PushedIndicator, WatchRequest};
use tonic::transport::{Certificate, Channel, ClientTlsConfig, Endpoint, Identity};

/// Indicators per pushed chunk (the collector's limit is 10 000).
const CHUNK: usize = 10_000;
/// Streams the fan-out accepts: the benchmark needs 100; the bound keeps a typo from opening
/// thousands of connections.
const MAX_STREAMS: usize = 1_000;
/// Longest wait for any phase.
const PHASE_TIMEOUT: Duration = Duration::from_secs(120);

#[derive(Parser)]
struct Args {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Push a file's indicators to a set.
    Push {
        #[command(flatten)]
        common: Common,
        /// Delta (add to the set) instead of replacing it.
        #[arg(long)]
        delta: bool,
    },
    /// N concurrent WatchIndicators streams; push a delta; time until the last one has it.
    Fanout {
        #[command(flatten)]
        common: Common,
        /// Agent certificates `<pki>/<prefix><i>.crt` for i in 0..streams.
        #[arg(long, default_value = "load-")]
        agent_prefix: String,
        /// Concurrent streams, 1–1000.
        #[arg(long, default_value_t = 100)]
        streams: usize,
    },
}

#[derive(clap::Args)]
struct Common {
    /// Collector URL, `https://127.0.0.1:PORT`.
    #[arg(long)]
    collector: String,
    /// PKI folder (`ca.crt`, certificates and keys).
    #[arg(long)]
    pki: PathBuf,
    /// Feed certificate name (`<pki>/<name>.crt`) for PushIndicators.
    #[arg(long)]
    feed_cert: String,
    /// Set name.
    #[arg(long)]
    set: String,
    /// Indicators to push, one value per line.
    #[arg(long)]
    file: PathBuf,
}

fn unix_us() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros())
}

async fn channel(url: &str, pki: &Path, name: &str) -> anyhow::Result<Channel> {
    let read = |p: PathBuf| std::fs::read(&p).with_context(|| p.display().to_string());
    let tls = ClientTlsConfig::new()
        .ca_certificate(Certificate::from_pem(read(pki.join("ca.crt"))?))
        .identity(Identity::from_pem(
            read(pki.join(format!("{name}.crt")))?,
            read(pki.join(format!("{name}.key")))?,
        ));
    Ok(Endpoint::from_shared(url.to_owned())?
        .connect_timeout(Duration::from_secs(10))
        .tls_config(tls)?
        .connect()
        .await?)
}

fn read_values(path: &Path) -> anyhow::Result<Vec<String>> {
    let text = std::fs::read_to_string(path).with_context(|| path.display().to_string())?;
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
        .collect())
}

/// Pushes `values`; returns (version, push duration).
async fn push(
    common: &Common,
    values: Vec<String>,
    delta: bool,
) -> anyhow::Result<(u64, Duration)> {
    let mut client =
        FeedServiceClient::new(channel(&common.collector, &common.pki, &common.feed_cert).await?)
            .max_encoding_message_size(16 << 20);
    let count = values.len();
    let mut chunks = Vec::with_capacity(count / CHUNK + 2);
    let mut iter = values.into_iter().peekable();
    let mut first = true;
    while first || iter.peek().is_some() {
        let add: Vec<PushedIndicator> = iter
            .by_ref()
            .take(CHUNK)
            .map(|value| PushedIndicator {
                r#type: String::new(),
                value,
            })
            .collect();
        let mut chunk = IndicatorChunk {
            add,
            ..IndicatorChunk::default()
        };
        if first {
            chunk.set.clone_from(&common.set);
            chunk.mode = if delta {
                PushMode::Delta
            } else {
                PushMode::Full
            } as i32;
            chunk.feed = "bench".into();
            chunk.severity = "high".into();
            first = false;
        }
        chunk.commit = iter.peek().is_none();
        chunks.push(chunk);
    }
    let started = Instant::now();
    let result = client
        .push_indicators(tokio_stream::iter(chunks))
        .await
        .context("PushIndicators")?
        .into_inner();
    let took = started.elapsed();
    ensure!(
        result.accepted > 0 || count == 0,
        "push accepted nothing: {}",
        result.report
    );
    Ok((result.version, took))
}

/// One simulated agent: reports `(stream, version)` whenever it holds a complete version.
async fn follow(
    url: String,
    pki: PathBuf,
    name: String,
    set: String,
    index: usize,
    done: tokio::sync::mpsc::Sender<(usize, u64, u128)>,
) -> anyhow::Result<()> {
    let mut client = AgentServiceClient::new(channel(&url, &pki, &name).await?)
        .max_decoding_message_size(4 << 20);
    let mut stream = client
        .watch_indicators(WatchRequest {
            agent_id: name,
            set,
            have_version: 0,
        })
        .await?
        .into_inner();
    while let Some(update) = stream.message().await? {
        if update.last && done.send((index, update.version, unix_us())).await.is_err() {
            break;
        }
    }
    Ok(())
}

async fn fanout(common: Common, prefix: String, streams: usize) -> anyhow::Result<()> {
    ensure!(
        (1..=MAX_STREAMS).contains(&streams),
        "--streams must be 1–{MAX_STREAMS}"
    );
    let values = read_values(&common.file)?;
    let (tx, mut rx) = tokio::sync::mpsc::channel(streams * 4);
    let mut tasks = Vec::with_capacity(streams);
    for i in 0..streams {
        let name = format!("{prefix}{i}");
        tasks.push(tokio::spawn(follow(
            common.collector.clone(),
            common.pki.clone(),
            name,
            common.set.clone(),
            i,
            tx.clone(),
        )));
    }
    drop(tx);
    // Phase 1: every stream holds the current version.
    let mut version = vec![0u64; streams];
    let ready = tokio::time::timeout(PHASE_TIMEOUT, async {
        while version.contains(&0) {
            let Some((i, v, _)) = rx.recv().await else {
                bail!("every stream ended before the set arrived");
            };
            version[i] = v;
        }
        Ok(())
    })
    .await;
    ready.context("streams did not all receive the current set")??;
    let base = version.iter().copied().max().unwrap_or(0);
    // Phase 2: push the delta; wait for every stream to hold a newer version.
    let pushed_us = unix_us();
    let (new_version, push_took) = push(&common, values.clone(), true).await?;
    ensure!(new_version > base, "the push did not make a new version");
    let mut received = vec![0u128; streams];
    let mut pending = streams;
    let waited = tokio::time::timeout(PHASE_TIMEOUT, async {
        while pending > 0 {
            let Some((i, v, at)) = rx.recv().await else {
                bail!("every stream ended before the delta arrived");
            };
            if v >= new_version && received[i] == 0 {
                received[i] = at;
                pending -= 1;
            }
        }
        Ok(())
    })
    .await;
    waited.context("the delta did not reach every stream")??;
    for task in tasks {
        task.abort();
    }
    let mut delays: Vec<u128> = received
        .iter()
        .map(|at| at.saturating_sub(pushed_us))
        .collect();
    delays.sort_unstable();
    let ms = |us: u128| us as f64 / 1000.0;
    println!(
        "{{\"streams\":{streams},\"indicators\":{},\"version\":{new_version},\"push_ms\":{:.1},\"first_ms\":{:.1},\"p50_ms\":{:.1},\"last_ms\":{:.1}}}",
        values.len(),
        ms(push_took.as_micros()),
        ms(delays.first().copied().unwrap_or(0)),
        ms(delays.get(streams / 2).copied().unwrap_or(0)),
        ms(delays.last().copied().unwrap_or(0)),
    );
    Ok(())
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    match Args::parse().command {
        Cmd::Push { common, delta } => {
            let values = read_values(&common.file)?;
            let count = values.len();
            let pushed_us = unix_us();
            let (version, took) = push(&common, values, delta).await?;
            println!(
                "{{\"indicators\":{count},\"version\":{version},\"push_started_us\":{pushed_us},\"committed_us\":{},\"push_ms\":{}}}",
                unix_us(),
                took.as_millis()
            );
            Ok(())
        }
        Cmd::Fanout {
            common,
            agent_prefix,
            streams,
        } => fanout(common, agent_prefix, streams).await,
    }
}

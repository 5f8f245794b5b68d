//! The uplink task: connect, stream batches from the spool, apply acknowledgements, reconnect.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use kordon_proto::agent_service_client::AgentServiceClient;
use kordon_proto::{Ack, Alert, Heartbeat, Record, ReportBatch, record};
use prost::Message;
use tokio::sync::{mpsc, watch};
use tokio_stream::wrappers::ReceiverStream;
use tonic::transport::{Certificate, ClientTlsConfig, Endpoint, Identity};

use super::spool::{Shared, SpoolReader};
use super::{UplinkConfig, convert, hostname};
use crate::stats::LiveReport;

/// PEM bytes read at start (a missing file fails the start, not a reconnect).
pub(super) struct TlsPem {
    pub(super) cert: Vec<u8>,
    pub(super) key: Vec<u8>,
    pub(super) ca: Vec<u8>,
}

const RECONNECT_MIN: Duration = Duration::from_millis(200);
/// How often the acknowledgement hint file is rewritten at most.
const PERSIST_ACK_EVERY: Duration = Duration::from_millis(200);

#[derive(Debug, thiserror::Error)]
enum SessionError {
    #[error("connect: {0}")]
    Connect(#[from] tonic::transport::Error),
    #[error("{0}")]
    Status(#[from] tonic::Status),
    #[error("spool: {0}")]
    Spool(#[from] super::spool::SpoolError),
    #[error("collector closed the stream")]
    Closed,
}

/// Why the collector ended the stream. When the request side fails first (the server dropped
/// it after refusing a batch), the refusal itself is in the response stream's status: read it,
/// briefly, so the operator sees "agent_id does not match…" rather than a bare "closed".
async fn closed_reason(acks: &mut tonic::Streaming<Ack>) -> SessionError {
    loop {
        match tokio::time::timeout(Duration::from_secs(2), acks.message()).await {
            Ok(Ok(Some(_))) => continue,
            Ok(Err(status)) => return SessionError::Status(status),
            Ok(Ok(None)) | Err(_) => return SessionError::Closed,
        }
    }
}

struct Jitter(u64);

impl Jitter {
    /// xorshift64*: jitter needs spread, not secrecy.
    fn next_fraction(&mut self) -> f64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) >> 11) as f64 / (1u64 << 53) as f64
    }
}

pub(super) async fn run(
    config: UplinkConfig,
    tls: Option<TlsPem>,
    mut reader: SpoolReader,
    shared: Arc<Shared>,
    live: Option<Arc<LiveReport>>,
    mut stop: watch::Receiver<bool>,
) {
    let started = Instant::now();
    let mut jitter = Jitter(shared.epoch() | 1);
    let mut backoff = RECONNECT_MIN;
    let mut failures = 0u32;
    loop {
        if *stop.borrow() {
            return;
        }
        let mut delivered = false;
        let result = session(
            &config,
            tls.as_ref(),
            &mut reader,
            &shared,
            live.as_deref(),
            &mut stop,
            started,
            &mut delivered,
        )
        .await;
        match result {
            Ok(()) => return,
            Err(error) => {
                if delivered {
                    backoff = RECONNECT_MIN;
                    failures = 0;
                }
                failures += 1;
                // The first failure of a series is a warning; the rest are quieter until a
                // session succeeds again (rate-limited error logging).
                if failures == 1 || failures.is_power_of_two() {
                    tracing::warn!(
                        collector = %config.collector,
                        error = %error,
                        failures,
                        pending = shared.pending(),
                        "uplink: collector unavailable; alerts stay spooled"
                    );
                }
                let pause = backoff.mul_f64(0.5 + jitter.next_fraction());
                backoff = (backoff * 2).min(config.reconnect_max);
                tokio::select! {
                    () = tokio::time::sleep(pause) => {}
                    _ = stop.changed() => return,
                }
            }
        }
    }
}

fn heartbeat(
    config: &UplinkConfig,
    shared: &Shared,
    live: Option<&LiveReport>,
    started: Instant,
) -> Heartbeat {
    let report = live.and_then(LiveReport::get);
    let mut hb = convert::heartbeat(report.as_ref());
    hb.hostname = hostname();
    hb.time_us = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_micros()).unwrap_or(i64::MAX));
    hb.uptime_secs = started.elapsed().as_secs();
    if !config.interface.is_empty() {
        hb.interfaces = vec![config.interface.clone()];
    }
    let c = &shared.counters;
    hb.indicator_version = config.indicator_version.load(Ordering::Relaxed);
    hb.spool_records = shared.pending();
    hb.spool_bytes = c.bytes.load(Ordering::Relaxed);
    hb.spool_dropped = c.dropped_full.load(Ordering::Relaxed);
    hb.spool_corrupt = c.corrupt.load(Ordering::Relaxed);
    hb
}

#[allow(clippy::too_many_arguments)] // one call site; a struct would only rename the fields
async fn session(
    config: &UplinkConfig,
    tls: Option<&TlsPem>,
    reader: &mut SpoolReader,
    shared: &Shared,
    live: Option<&LiveReport>,
    stop: &mut watch::Receiver<bool>,
    started: Instant,
    delivered: &mut bool,
) -> Result<(), SessionError> {
    let mut endpoint = Endpoint::from_shared(config.collector.clone())?
        .connect_timeout(Duration::from_secs(5))
        .tcp_nodelay(true)
        .http2_keep_alive_interval(Duration::from_secs(30))
        .keep_alive_timeout(Duration::from_secs(20));
    if let Some(tls) = tls {
        endpoint = endpoint.tls_config(
            ClientTlsConfig::new()
                .ca_certificate(Certificate::from_pem(&tls.ca))
                .identity(Identity::from_pem(&tls.cert, &tls.key)),
        )?;
    }
    let channel = endpoint.connect().await?;
    let mut client = AgentServiceClient::new(channel)
        .max_decoding_message_size(1 << 20)
        .max_encoding_message_size(4 << 20);
    let (out, out_rx) = mpsc::channel::<ReportBatch>(config.window_batches.max(1));
    // The first message carries a heartbeat so the fleet registry sees the agent at once.
    let hello = ReportBatch {
        agent_id: config.agent_id.clone(),
        spool_epoch: shared.epoch(),
        heartbeat: Some(heartbeat(config, shared, live, started)),
        ..ReportBatch::default()
    };
    out.send(hello).await.map_err(|_| SessionError::Closed)?;
    let mut acks = client
        .report(ReceiverStream::new(out_rx))
        .await?
        .into_inner();
    let mut inflight: VecDeque<u64> = VecDeque::from([0]);
    reader.rewind(shared.counters.acked_through.load(Ordering::Acquire));
    let mut heartbeat_tick = tokio::time::interval(config.heartbeat_interval);
    heartbeat_tick.reset();
    let mut last_persist = Instant::now();
    loop {
        while inflight.len() < config.window_batches.max(1) {
            let (sequence, records) =
                reader.next_batch(config.max_batch_records, config.max_batch_bytes)?;
            let Some(&(last, _)) = records.last() else {
                break;
            };
            let mut batch = ReportBatch {
                agent_id: config.agent_id.clone(),
                spool_epoch: shared.epoch(),
                sequence,
                last_sequence: last,
                records: Vec::with_capacity(records.len()),
                heartbeat: None,
            };
            for (id, payload) in records {
                match Alert::decode(payload.as_slice()) {
                    Ok(alert) => batch.records.push(Record {
                        id,
                        body: Some(record::Body::Alert(alert)),
                    }),
                    Err(_) => reader.count_bad_payload(id),
                }
            }
            if out.send(batch).await.is_err() {
                return Err(closed_reason(&mut acks).await);
            }
            inflight.push_back(last);
        }
        tokio::select! {
            message = acks.message() => {
                let Some(ack) = message? else {
                    return Err(SessionError::Closed);
                };
                inflight.pop_front();
                if ack.acked_through > 0 {
                    shared.acknowledge(ack.acked_through);
                    *delivered = true;
                    if last_persist.elapsed() >= PERSIST_ACK_EVERY {
                        last_persist = Instant::now();
                        if let Err(error) = shared.persist_ack() {
                            tracing::warn!(%error, "uplink: cannot persist the acknowledgement");
                        }
                    }
                }
            }
            () = shared.notify.notified(), if inflight.len() < config.window_batches.max(1) => {}
            _ = heartbeat_tick.tick() => {
                let batch = ReportBatch {
                    agent_id: config.agent_id.clone(),
                    spool_epoch: shared.epoch(),
                    heartbeat: Some(heartbeat(config, shared, live, started)),
                    ..ReportBatch::default()
                };
                if out.send(batch).await.is_err() {
                    return Err(closed_reason(&mut acks).await);
                }
                inflight.push_back(0);
            }
            _ = stop.changed() => {
                let _ = shared.persist_ack();
                return Ok(());
            }
        }
    }
}

//! The gRPC services: `AgentService.Report` (ingest with acknowledgements after commit) and
//! `SocService` (live tail with resume, paged queries).

use std::pin::Pin;
use std::sync::Arc;

use kordon_proto::agent_service_server::AgentService;
use kordon_proto::soc_service_server::SocService;
use kordon_proto::{Ack, AlertFilter, AlertPage, AlertQuery, ReportBatch, StoredAlert, record};
use tokio::sync::{Semaphore, mpsc};
use tokio_stream::Stream;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Request, Response, Status, Streaming};

use crate::auth::AgentIdentity;
use crate::ingest::Ingestor;
use crate::store::{IngestBatch, Store};

/// Batches read ahead of their acknowledgements on one stream (pipelining: the next batch is
/// queued for the store while the previous one commits).
const MAX_PENDING_ACKS: usize = 32;
/// Alerts per query page and per subscriber backfill step.
const PAGE: usize = 1000;
/// Largest `AlertQuery.limit`.
const MAX_QUERY_LIMIT: u32 = 10_000;

/// Limits the services enforce per message.
#[derive(Clone, Copy, Debug)]
pub struct ServiceLimits {
    /// Records per batch.
    pub max_records_per_batch: usize,
}

/// Shared state of the agent service.
pub struct AgentSvc {
    /// Store writer.
    pub ingestor: Ingestor,
    /// Per-message limits.
    pub limits: ServiceLimits,
    /// Open `Report` streams.
    pub streams: Arc<Semaphore>,
    /// Indicator sets served by `WatchIndicators`.
    pub sets: Arc<crate::feeds::sets::Sets>,
    /// Open `WatchIndicators` streams.
    pub watchers: Arc<Semaphore>,
}

/// Checks the size limits documented in the .proto file.
fn check_batch(batch: &ReportBatch, limits: &ServiceLimits) -> Result<(), Status> {
    fn long(field: &str, value: &str, max: usize) -> Result<(), Status> {
        if value.len() > max {
            Err(Status::invalid_argument(format!(
                "{field} is {} bytes, at most {max} allowed",
                value.len()
            )))
        } else {
            Ok(())
        }
    }
    long("agent_id", &batch.agent_id, 128)?;
    if batch.agent_id.is_empty() {
        return Err(Status::invalid_argument("agent_id is empty"));
    }
    if batch.records.len() > limits.max_records_per_batch {
        return Err(Status::invalid_argument(format!(
            "{} records in a batch, at most {} allowed",
            batch.records.len(),
            limits.max_records_per_batch
        )));
    }
    let mut previous = 0u64;
    for r in &batch.records {
        if r.id <= previous || r.id < batch.sequence || r.id > batch.last_sequence {
            return Err(Status::invalid_argument(format!(
                "record id {} out of order or outside [{}, {}]",
                r.id, batch.sequence, batch.last_sequence
            )));
        }
        previous = r.id;
        if let Some(record::Body::Alert(a)) = &r.body {
            long("alert.src_ip", &a.src_ip, 64)?;
            long("alert.dest_ip", &a.dest_ip, 64)?;
            long("alert.proto", &a.proto, 16)?;
            long("alert.community_id", &a.community_id, 64)?;
            long("alert.signature", &a.signature, 1024)?;
            long("alert.category", &a.category, 256)?;
            long("alert.location", &a.location, 64)?;
            long("alert.app_proto", &a.app_proto, 32)?;
            long("alert.app_layer_json", &a.app_layer_json, 64 << 10)?;
            long("alert.interface", &a.interface, 64)?;
            if a.vlan.len() > 2 {
                return Err(Status::invalid_argument("more than 2 VLAN ids"));
            }
            if let Some(i) = &a.indicator {
                long("indicator.id", &i.id, 256)?;
                long("indicator.type", &i.r#type, 32)?;
                long("indicator.value", &i.value, 4096)?;
                long("indicator.source", &i.source, 1024)?;
                long("indicator.set", &i.set, 256)?;
                if i.tags.len() > 64 {
                    return Err(Status::invalid_argument("more than 64 indicator tags"));
                }
                for t in &i.tags {
                    long("indicator.tags", t, 256)?;
                }
            }
        }
    }
    if batch.sequence > batch.last_sequence {
        return Err(Status::invalid_argument("sequence > last_sequence"));
    }
    if let Some(hb) = &batch.heartbeat {
        long("heartbeat.agent_version", &hb.agent_version, 64)?;
        long("heartbeat.hostname", &hb.hostname, 256)?;
        if hb.interfaces.len() > 16 {
            return Err(Status::invalid_argument("more than 16 interfaces"));
        }
    }
    Ok(())
}

type AckStream = Pin<Box<dyn Stream<Item = Result<Ack, Status>> + Send>>;

#[tonic::async_trait]
impl AgentService for AgentSvc {
    type ReportStream = AckStream;
    type WatchIndicatorsStream = crate::feeds::watch::UpdateStream;

    async fn watch_indicators(
        &self,
        request: Request<kordon_proto::WatchRequest>,
    ) -> Result<Response<Self::WatchIndicatorsStream>, Status> {
        let identity = request
            .extensions()
            .get::<AgentIdentity>()
            .cloned()
            .ok_or_else(|| Status::unauthenticated("no agent identity"))?;
        let agent = match &identity {
            AgentIdentity::Certificate(cn) => Some(cn.as_str()),
            AgentIdentity::Unauthenticated => None,
        };
        let stream =
            crate::feeds::watch::watch(&self.sets, &self.watchers, agent, request.into_inner())?;
        Ok(Response::new(stream))
    }

    async fn report(
        &self,
        request: Request<Streaming<ReportBatch>>,
    ) -> Result<Response<Self::ReportStream>, Status> {
        let permit = Arc::clone(&self.streams).try_acquire_owned().map_err(|_| {
            Status::resource_exhausted("too many agent streams (limits.max_agent_streams)")
        })?;
        let identity = request
            .extensions()
            .get::<AgentIdentity>()
            .cloned()
            .ok_or_else(|| Status::unauthenticated("no agent identity"))?;
        let remote = request
            .remote_addr()
            .map_or_else(|| "unknown".to_string(), |a| a.to_string());
        let mut inbound = request.into_inner();
        let (ack_tx, ack_rx) = mpsc::channel::<Result<Ack, Status>>(MAX_PENDING_ACKS);
        let (pending_tx, mut pending_rx) = mpsc::channel(MAX_PENDING_ACKS);
        let ingestor = self.ingestor.clone();
        let limits = self.limits;

        // Reader: validates and queues batches in order; the writer thread keeps that order.
        let reader_acks = ack_tx.clone();
        tokio::spawn(async move {
            let _permit = permit;
            let mut announced = false;
            loop {
                let batch = match inbound.message().await {
                    Ok(Some(batch)) => batch,
                    Ok(None) => break,
                    Err(status) => {
                        // A message over `limits.max_message_bytes` arrives here as tonic's
                        // OutOfRange: pass it on so the agent learns why, instead of a bare
                        // end of stream. (For a vanished client nobody reads it.)
                        tracing::debug!(%remote, %status, "agent stream ended");
                        let _ = reader_acks.send(Err(status)).await;
                        break;
                    }
                };
                if let Err(status) = check_batch(&batch, &limits) {
                    tracing::warn!(%remote, agent = %batch.agent_id, %status, "batch refused");
                    let _ = reader_acks.send(Err(status)).await;
                    break;
                }
                if let AgentIdentity::Certificate(cn) = &identity
                    && *cn != batch.agent_id
                {
                    let status = Status::permission_denied(format!(
                        "agent_id {:?} does not match the client certificate's subject CN {cn:?}",
                        batch.agent_id
                    ));
                    tracing::warn!(%remote, %status, "agent refused");
                    let _ = reader_acks.send(Err(status)).await;
                    break;
                }
                if !announced {
                    tracing::info!(agent = %batch.agent_id, %remote, "agent connected");
                    announced = true;
                }
                let (sequence, last) = (batch.sequence, batch.last_sequence);
                let ingest = IngestBatch {
                    agent_id: batch.agent_id,
                    epoch: batch.spool_epoch,
                    last_id: last,
                    alerts: batch
                        .records
                        .into_iter()
                        .filter_map(|r| match r.body {
                            Some(record::Body::Alert(a)) => Some((r.id, a)),
                            None => None,
                        })
                        .collect(),
                    heartbeat: batch.heartbeat,
                    remote: remote.clone(),
                };
                match ingestor.submit(ingest).await {
                    Ok(done) => {
                        if pending_tx.send((sequence, last, done)).await.is_err() {
                            break;
                        }
                    }
                    Err(error) => {
                        let _ = reader_acks
                            .send(Err(Status::unavailable(error.to_string())))
                            .await;
                        break;
                    }
                }
            }
        });

        // Acker: waits for each commit in order, then acknowledges.
        tokio::spawn(async move {
            while let Some((sequence, last, done)) = pending_rx.recv().await {
                let ack = match done.await {
                    Ok(Ok(outcome)) => Ok(Ack {
                        sequence,
                        acked_through: last,
                        stored: outcome.stored,
                    }),
                    Ok(Err(error)) => Err(Status::unavailable(format!("store: {error}"))),
                    Err(_) => Err(Status::unavailable("store writer stopped")),
                };
                let failed = ack.is_err();
                if ack_tx.send(ack).await.is_err() || failed {
                    return;
                }
            }
        });
        Ok(Response::new(Box::pin(ReceiverStream::new(ack_rx))))
    }
}

/// Shared state of the SOC service.
pub struct SocSvc {
    /// Store (read side).
    pub store: Arc<dyn Store>,
    /// Commit notifications.
    pub ingestor: Ingestor,
    /// Open subscriptions.
    pub subscribers: Arc<Semaphore>,
}

fn check_filter(filter: &AlertFilter) -> Result<(), Status> {
    if filter.agents.len() > 256 || filter.locations.len() > 64 || filter.indicator_sets.len() > 64
    {
        return Err(Status::invalid_argument(
            "filter lists too long (agents ≤ 256, locations ≤ 64, indicator_sets ≤ 64)",
        ));
    }
    Ok(())
}

async fn query_page(
    store: &Arc<dyn Store>,
    filter: AlertFilter,
    limit: usize,
) -> Result<Vec<StoredAlert>, Status> {
    let store = Arc::clone(store);
    tokio::task::spawn_blocking(move || store.query(&filter, limit))
        .await
        .map_err(|_| Status::internal("query task failed"))?
        .map_err(|e| Status::unavailable(format!("store: {e}")))
}

type AlertStream = Pin<Box<dyn Stream<Item = Result<StoredAlert, Status>> + Send>>;

#[tonic::async_trait]
impl SocService for SocSvc {
    type SubscribeAlertsStream = AlertStream;

    async fn subscribe_alerts(
        &self,
        request: Request<AlertFilter>,
    ) -> Result<Response<Self::SubscribeAlertsStream>, Status> {
        let mut filter = request.into_inner();
        check_filter(&filter)?;
        let permit = Arc::clone(&self.subscribers)
            .try_acquire_owned()
            .map_err(|_| {
                Status::resource_exhausted("too many subscribers (limits.max_subscribers)")
            })?;
        let (tx, rx) = mpsc::channel::<Result<StoredAlert, Status>>(PAGE);
        let store = Arc::clone(&self.store);
        let mut latest = self.ingestor.latest();
        tokio::spawn(async move {
            let _permit = permit;
            loop {
                // Mark the current commit as seen before querying, so a commit landing during
                // the query wakes the wait below: no alert can slip between the two.
                latest.borrow_and_update();
                let page = match query_page(&store, filter.clone(), PAGE).await {
                    Ok(page) => page,
                    Err(status) => {
                        let _ = tx.send(Err(status)).await;
                        return;
                    }
                };
                let full = page.len() == PAGE;
                for alert in page {
                    filter.since_cursor = alert.cursor;
                    if tx.send(Ok(alert)).await.is_err() {
                        return;
                    }
                }
                if !full {
                    tokio::select! {
                        changed = latest.changed() => if changed.is_err() { return },
                        () = tx.closed() => return,
                    }
                }
            }
        });
        Ok(Response::new(Box::pin(ReceiverStream::new(rx))))
    }

    async fn query_alerts(
        &self,
        request: Request<AlertQuery>,
    ) -> Result<Response<AlertPage>, Status> {
        let query = request.into_inner();
        let filter = query.filter.unwrap_or_default();
        check_filter(&filter)?;
        if query.limit > MAX_QUERY_LIMIT {
            return Err(Status::invalid_argument(format!(
                "limit {} above {MAX_QUERY_LIMIT}",
                query.limit
            )));
        }
        let limit = if query.limit == 0 {
            PAGE
        } else {
            query.limit as usize
        };
        let since = filter.since_cursor;
        let alerts = query_page(&self.store, filter, limit).await?;
        let next_cursor = alerts.last().map_or(since, |a| a.cursor);
        Ok(Response::new(AlertPage {
            alerts,
            next_cursor,
        }))
    }
}

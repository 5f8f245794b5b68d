//! `AgentService.WatchIndicators`: a set's current version, then every newer one, as chunks
//! of the signed bundle (or of the signed delta, when the agent is exactly one version behind).

use std::pin::Pin;
use std::sync::Arc;

use kordon_proto::{IndicatorUpdate, UpdateKind, WatchRequest};
use tokio::sync::{Semaphore, mpsc};
use tokio_stream::Stream;
use tokio_stream::wrappers::ReceiverStream;
use tonic::Status;

use super::config::valid_set_name;
use super::sets::{Published, Sets};

/// Bytes of bundle per `IndicatorUpdate` (the .proto limit).
pub const CHUNK_BYTES: usize = 1 << 20;

/// The update stream type.
pub type UpdateStream = Pin<Box<dyn Stream<Item = Result<IndicatorUpdate, Status>> + Send>>;

/// Starts streaming `request.set` to one agent. `agent` is the authenticated id (None with
/// `--insecure-dev`).
pub fn watch(
    sets: &Arc<Sets>,
    watchers: &Arc<Semaphore>,
    agent: Option<&str>,
    request: WatchRequest,
) -> Result<UpdateStream, Status> {
    if request.agent_id.is_empty() || request.agent_id.len() > 128 {
        return Err(Status::invalid_argument("agent_id must be 1–128 bytes"));
    }
    if let Some(cn) = agent
        && cn != request.agent_id
    {
        return Err(Status::permission_denied(format!(
            "agent_id {:?} does not match the client certificate's subject CN {cn:?}",
            request.agent_id
        )));
    }
    if !valid_set_name(&request.set) {
        return Err(Status::invalid_argument("set must be 1–255 bytes"));
    }
    if !sets.can_sign() {
        return Err(Status::failed_precondition(
            "the collector has no bundle-signing key; it serves no indicator sets",
        ));
    }
    let permit = Arc::clone(watchers)
        .try_acquire_owned()
        .map_err(|_| Status::resource_exhausted("too many watchers (indicators.max_watchers)"))?;
    let mut rx = sets.subscribe(&request.set);
    let (tx, out) = mpsc::channel::<Result<IndicatorUpdate, Status>>(8);
    let set = request.set;
    let agent_id = request.agent_id;
    let mut have = request.have_version;
    tracing::info!(agent = %agent_id, %set, have, "agent watching indicators");
    tokio::spawn(async move {
        let _permit = permit;
        loop {
            let current: Option<Arc<Published>> = rx.borrow_and_update().clone();
            if let Some(p) = current
                && p.version > have
            {
                // The delta only when it is smaller than the snapshot: replacing a whole set
                // gives a delta of every removal plus every addition, larger than the new set
                // and slower for the agent to apply than a snapshot is to decode.
                let (kind, from, bytes) = match &p.delta {
                    Some((from, delta))
                        if *from == have && have > 0 && delta.len() < p.signed.len() =>
                    {
                        (UpdateKind::Delta, *from, Arc::clone(delta))
                    }
                    _ => (UpdateKind::Snapshot, 0, Arc::clone(&p.signed)),
                };
                if send_chunks(&tx, &set, p.version, kind, from, &bytes)
                    .await
                    .is_err()
                {
                    return;
                }
                tracing::debug!(agent = %agent_id, %set, version = p.version, ?kind, "sent indicator update");
                have = p.version;
            }
            tokio::select! {
                changed = rx.changed() => if changed.is_err() { return },
                () = tx.closed() => return,
            }
        }
    });
    Ok(Box::pin(ReceiverStream::new(out)))
}

async fn send_chunks(
    tx: &mpsc::Sender<Result<IndicatorUpdate, Status>>,
    set: &str,
    version: u64,
    kind: UpdateKind,
    from_version: u64,
    bytes: &[u8],
) -> Result<(), ()> {
    let total = bytes.len();
    let mut offset = 0usize;
    loop {
        let end = (offset + CHUNK_BYTES).min(total);
        let update = IndicatorUpdate {
            set: set.to_owned(),
            version,
            kind: kind as i32,
            from_version,
            total_bytes: total as u64,
            offset: offset as u64,
            data: bytes.get(offset..end).unwrap_or_default().to_vec(),
            last: end == total,
        };
        tx.send(Ok(update)).await.map_err(|_| ())?;
        if end == total {
            return Ok(());
        }
        offset = end;
    }
}

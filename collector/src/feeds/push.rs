//! `FeedService.PushIndicators`: a pushing feed sends a full set or a delta in chunks; nothing
//! is applied before the final commit, and the values go through the same loaders (plain-list
//! parsing, normalisation, allowlist) as file feeds.

use std::collections::BTreeMap;
use std::sync::Arc;

use kordon_intel::allowlist::Allowlist;
use kordon_intel::formats::{LoadOptions, load_plain};
use kordon_intel::{IndicatorKind, IndicatorSetBuilder, LoadReport, Severity, Tlp};
use kordon_proto::feed_service_server::FeedService;
use kordon_proto::{IndicatorChunk, PushMode, PushResult, PushedIndicator};
use tonic::{Request, Response, Status, Streaming};

use super::config::{valid_feed_name, valid_set_name};
use super::sets::{Sets, SourceUpdate, entries_of};
use super::store::FeedStatus;

/// Adds plus removes per chunk.
pub const MAX_PER_CHUNK: usize = 10_000;
/// Adds plus removes per push.
pub const MAX_PER_PUSH: usize = 1_000_000;
/// Longest value.
const MAX_VALUE: usize = 4096;

/// The feed service.
pub struct FeedSvc {
    /// The sets.
    pub sets: Arc<Sets>,
    /// The load-time allowlist.
    pub allow: Arc<Allowlist>,
}

struct Header {
    set: String,
    feed: String,
    mode: PushMode,
    opts: LoadOptions,
}

fn header(first: &IndicatorChunk, allow: &Arc<Allowlist>) -> Result<Header, Status> {
    if !valid_set_name(&first.set) {
        return Err(Status::invalid_argument("set must be 1–255 bytes"));
    }
    if !valid_feed_name(&first.feed) {
        return Err(Status::invalid_argument(
            "feed must be 1–128 characters from A–Z a–z 0–9 . _ -",
        ));
    }
    let mode = match PushMode::try_from(first.mode) {
        Ok(m @ (PushMode::Full | PushMode::Delta)) => m,
        _ => return Err(Status::invalid_argument("mode must be FULL or DELTA")),
    };
    let severity = if first.severity.is_empty() {
        Severity::Medium
    } else {
        Severity::from_name(&first.severity)
            .ok_or_else(|| Status::invalid_argument("severity: low, medium, high or critical"))?
    };
    let tlp = if first.tlp.is_empty() {
        Tlp::Amber
    } else {
        Tlp::from_name(&first.tlp).ok_or_else(|| Status::invalid_argument("unknown tlp"))?
    };
    if first.confidence > 100 {
        return Err(Status::invalid_argument("confidence above 100"));
    }
    if first.tags.len() > 64 || first.tags.iter().any(|t| t.len() > 256) {
        return Err(Status::invalid_argument(
            "at most 64 tags of at most 256 bytes",
        ));
    }
    let confidence = if first.confidence == 0 {
        50
    } else {
        first.confidence as u8
    };
    let source = format!("push:{}", first.feed);
    let mut opts = super::load_options(&source, &first.set, severity, confidence, tlp, allow);
    let mut meta = (*opts.meta).clone();
    meta.tags = first
        .tags
        .iter()
        .map(|t| Arc::<str>::from(t.as_str()))
        .collect();
    opts.meta = Arc::new(meta);
    Ok(Header {
        set: first.set.clone(),
        feed: first.feed.clone(),
        mode,
        opts,
    })
}

fn check_values(list: &[PushedIndicator]) -> Result<(), Status> {
    for i in list {
        if i.r#type.len() > 32 || i.value.len() > MAX_VALUE {
            return Err(Status::invalid_argument(
                "indicator type at most 32 bytes, value at most 4096",
            ));
        }
        if i.value.contains(['\n', '\r']) {
            return Err(Status::invalid_argument(
                "indicator values hold no line breaks",
            ));
        }
        if !i.r#type.is_empty() && IndicatorKind::from_name(&i.r#type).is_none() {
            return Err(Status::invalid_argument(format!(
                "unknown indicator type {:?}",
                i.r#type
            )));
        }
    }
    Ok(())
}

/// Loads pushed values through the plain-list loader, one pass per type.
fn load(
    list: &[PushedIndicator],
    opts: &LoadOptions,
    builder: &mut IndicatorSetBuilder,
) -> LoadReport {
    let mut by_type: BTreeMap<&str, String> = BTreeMap::new();
    for i in list {
        let text = by_type.entry(i.r#type.as_str()).or_default();
        text.push_str(&i.value);
        text.push('\n');
    }
    let mut report = LoadReport::new(opts.meta.source.to_string());
    for (kind, text) in by_type {
        let mut opts = opts.clone();
        opts.plain_kind = IndicatorKind::from_name(kind);
        match load_plain(text.as_bytes(), &opts, builder) {
            Ok(r) => report.merge(r),
            Err(e) => report.reject(0, e),
        }
    }
    report
}

#[tonic::async_trait]
impl FeedService for FeedSvc {
    async fn push_indicators(
        &self,
        request: Request<Streaming<IndicatorChunk>>,
    ) -> Result<Response<PushResult>, Status> {
        let mut inbound = request.into_inner();
        let mut head: Option<Header> = None;
        let mut adds: Vec<PushedIndicator> = Vec::new();
        let mut removes: Vec<PushedIndicator> = Vec::new();
        let mut committed = false;
        while let Some(chunk) = inbound.message().await? {
            if head.is_none() {
                head = Some(header(&chunk, &self.allow)?);
            }
            if chunk.add.len() + chunk.remove.len() > MAX_PER_CHUNK {
                return Err(Status::invalid_argument(format!(
                    "more than {MAX_PER_CHUNK} indicators in a chunk"
                )));
            }
            if adds.len() + removes.len() + chunk.add.len() + chunk.remove.len() > MAX_PER_PUSH {
                return Err(Status::resource_exhausted(format!(
                    "more than {MAX_PER_PUSH} indicators in a push"
                )));
            }
            check_values(&chunk.add)?;
            check_values(&chunk.remove)?;
            adds.extend(chunk.add);
            removes.extend(chunk.remove);
            if chunk.commit {
                committed = true;
                break;
            }
        }
        let Some(head) = head else {
            return Err(Status::invalid_argument("empty push"));
        };
        if !committed {
            return Err(Status::aborted(
                "the push ended without a commit; nothing applied",
            ));
        }
        if head.mode == PushMode::Full && !removes.is_empty() {
            return Err(Status::invalid_argument("removes only in DELTA mode"));
        }
        let sets = Arc::clone(&self.sets);
        tokio::task::spawn_blocking(move || apply(&sets, head, &adds, &removes))
            .await
            .map_err(|_| Status::internal("push task failed"))?
    }
}

fn apply(
    sets: &Sets,
    head: Header,
    adds: &[PushedIndicator],
    removes: &[PushedIndicator],
) -> Result<Response<PushResult>, Status> {
    let source = format!("push:{}", head.feed);
    let mut builder = IndicatorSetBuilder::new();
    let report = load(adds, &head.opts, &mut builder);
    let added = builder
        .build()
        .map_err(|e| Status::invalid_argument(e.to_string()))?;
    let add = entries_of(&head.set, &added).map_err(|e| Status::internal(e.to_string()))?;
    let update = match head.mode {
        PushMode::Delta => {
            let mut rb = IndicatorSetBuilder::new();
            let mut opts = head.opts.clone();
            opts.allowlist = None;
            let _ = load(removes, &opts, &mut rb);
            let removed = rb
                .build()
                .map_err(|e| Status::invalid_argument(e.to_string()))?;
            SourceUpdate::Delta {
                remove: removed.iter().map(|r| (r.kind(), r.value())).collect(),
                add,
            }
        }
        _ => SourceUpdate::Replace(add),
    };
    let now = crate::store::now_us();
    let mut status = FeedStatus {
        feed: source.clone(),
        set: head.set.clone(),
        kind: "push".into(),
        attempt_us: now,
        report: report.to_string(),
        ..FeedStatus::default()
    };
    let result = sets.update(&head.set, &source, update, true);
    match &result {
        Ok((version, _)) => {
            status.ok = true;
            status.message = "ok".into();
            status.accepted = report.accepted as u64;
            status.set_version = *version;
            status.success_us = now;
            tracing::info!(target: "kordon::feeds", feed = %source, set = %head.set, version, "{report}");
        }
        Err(error) => {
            status.message = error.to_string();
            tracing::warn!(feed = %source, set = %head.set, %error, "push refused; the last good version stays live");
        }
    }
    if let Err(error) = sets.store().put_status(&status) {
        tracing::warn!(%error, "cannot record the push status");
    }
    let (version, _) = result.map_err(|e| Status::failed_precondition(e.to_string()))?;
    let mut text = report.to_string();
    text.truncate(64 << 10);
    Ok(Response::new(PushResult {
        set: head.set,
        version,
        accepted: report.accepted as u64,
        not_accepted: (report.duplicates
            + report.rejected_total
            + report.expired
            + report.unsupported_total
            + report.suppressed_total) as u64,
        report: text,
    }))
}

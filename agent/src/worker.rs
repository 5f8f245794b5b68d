//! A worker thread: decodes the packets of its shard, tracks their flows, matches observations
//! against the live indicator set and emits alerts and flow events.
//!
//! Each worker owns its flow table outright (flows are sharded by a symmetric hash, so both
//! directions of a conversation reach the same worker), which is why nothing here locks.
//! Per packet the work is: decode (borrowing the batch buffer), one flow-table lookup, counter
//! updates, and a generation check; matching runs once per flow and per indicator-set change, and
//! anything that allocates (alerts, Community IDs, flow events) happens only when there is
//! something to report.

use std::sync::Arc;

use crossbeam_channel::{Receiver, Sender};
use kordon_intel::{IndicatorSet, MatchId};

use crate::batch::{Batch, PacketMeta};
use crate::decode::{self, Decoded, Frame, Transport, tcp_flags};
use crate::event::{AlertEvent, AlertTally, Event, FlowEvent, FlowInfo, IndicatorInfo};
use crate::flow::community_id::{CommunityIdConfig, community_id};
use crate::flow::hash::{FlowHashBuilder, mix64};
use crate::flow::key::port_equivalents;
use crate::flow::table::EndReason;
use crate::flow::{Endpoint, Flow, FlowKey, FlowTable, Insert};
use crate::indicators::{LiveIndicators, Snapshot};
use crate::observe::{Location, Observation, ObservedValue};
use crate::stats::{Counters, Published};

/// How repeated matches are reported.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum DedupMode {
    /// One alert per (indicator, flow, location); repeats are counted and reported when the flow
    /// ends.
    Flow,
    /// One alert per matching packet or event, like a Suricata rule without thresholds.
    None,
}

/// What a worker needs to know.
#[derive(Clone, Debug)]
pub struct WorkerConfig {
    /// Flows idle longer than this end (microseconds of capture time).
    pub flow_timeout_us: i64,
    /// Flow table capacity of this worker.
    pub max_flows: u32,
    /// Dedup policy.
    pub dedup: DedupMode,
    /// Community ID rendering.
    pub community_id: CommunityIdConfig,
    /// Emit a `flow` event for every flow, not only alerted ones.
    pub metadata: bool,
    /// Hashes flow keys into flow ids; shared so ids are stable across workers.
    pub hasher: FlowHashBuilder,
}

/// One alert raised on a flow, kept for dedup and the final tally.
#[derive(Debug)]
struct RaisedAlert {
    /// Hash of (indicator id, location): equal for the same indicator across set generations.
    dedup_key: u64,
    indicator_id: String,
    location: Location,
    count: u64,
    /// The match in the set generation recorded on the flow, for per-packet re-emission.
    match_id: MatchId,
}

/// The pipeline's per-flow state.
#[derive(Debug, Default)]
pub struct FlowState {
    /// Indicator-set generation the flow's endpoints were last matched against (0 = never).
    generation: u64,
    /// ICMP type and code of the first packet.
    first_icmp: Option<(u8, u8)>,
    /// Community ID, computed on first use.
    community_id: Option<Arc<str>>,
    /// Alerts raised so far.
    alerts: Vec<RaisedAlert>,
}

/// A worker's owned state.
pub struct Worker {
    config: WorkerConfig,
    flows: FlowTable<FlowState>,
    counters: Counters,
    published: Arc<Published>,
    events: Sender<Event>,
    matches: Vec<MatchId>,
    now_secs: i64,
}

impl Worker {
    /// A worker publishing its counters to `published` and sending events to `events`.
    pub fn new(config: WorkerConfig, published: Arc<Published>, events: Sender<Event>) -> Self {
        let flows = FlowTable::new(config.max_flows, FlowHashBuilder::random());
        Worker {
            config,
            flows,
            counters: Counters::default(),
            published,
            events,
            matches: Vec::with_capacity(16),
            now_secs: 0,
        }
    }

    /// Processes batches until the capture side hangs up, returning each emptied batch through
    /// `recycle`; then ends every remaining flow.
    pub fn run(mut self, batches: Receiver<Batch>, recycle: Sender<Batch>, live: LiveIndicators) {
        let mut cache = live.cache();
        for mut batch in batches {
            let snapshot = cache.load();
            self.process_batch(&batch, snapshot);
            batch.clear();
            // The capture side may already be gone at shutdown; a lost recycle is harmless.
            let _ = recycle.try_send(batch);
        }
        let snapshot = cache.load();
        self.finish(snapshot);
    }

    /// Processes one batch against one snapshot.
    pub fn process_batch(&mut self, batch: &Batch, snapshot: &Snapshot) {
        self.now_secs = wall_clock_secs();
        for (meta, bytes) in batch.iter() {
            self.process_packet(meta, bytes, snapshot);
        }
        self.expire(batch.now_us, snapshot);
        self.published.publish(&self.counters);
    }

    /// Ends all flows (end of capture or shutdown).
    pub fn finish(&mut self, snapshot: &Snapshot) {
        while let Some(flow) = self.flows.pop_any() {
            self.counters.flows_at_shutdown += 1;
            self.end_flow(flow, EndReason::Shutdown, &snapshot.set);
        }
        self.published.publish(&self.counters);
    }

    fn expire(&mut self, now_us: i64, snapshot: &Snapshot) {
        while let Some(flow) = self.flows.pop_expired(now_us, self.config.flow_timeout_us) {
            self.counters.flows_timed_out += 1;
            self.end_flow(flow, EndReason::Timeout, &snapshot.set);
        }
    }

    fn process_packet(&mut self, meta: &PacketMeta, bytes: &[u8], snapshot: &Snapshot) {
        self.counters.packets += 1;
        self.counters.bytes += u64::from(meta.wirelen);
        let packet = match decode::decode(meta.link, bytes) {
            Ok(Frame::Ip(packet)) => packet,
            Ok(Frame::NonIp) => {
                self.counters.non_ip += 1;
                return;
            }
            Err(error) => {
                self.counters.decode_errors[error.index()] += 1;
                return;
            }
        };
        if packet.fragment {
            self.counters.ip_fragments += 1;
            if packet.transport == Transport::None {
                // Later fragments carry no ports; without reassembly they cannot be placed in
                // their flow, so they are counted and not matched.
                return;
            }
        }
        let key = FlowKey::of(&packet);
        let hasher = self.config.hasher;
        let slot = match self
            .flows
            .get_or_insert(key, || new_flow(&hasher, key, &packet, meta))
        {
            Insert::Existing(slot) => slot,
            Insert::New(slot) => {
                self.counters.flows_created += 1;
                slot
            }
            Insert::NewEvicting(slot, evicted) => {
                self.counters.flows_created += 1;
                self.counters.flows_evicted += 1;
                self.end_flow(*evicted, EndReason::Evicted, &snapshot.set);
                slot
            }
        };
        let Some(flow) = self.flows.get_mut(slot) else {
            return;
        };
        let (sport, _, _) = port_equivalents(&packet);
        let to_server = packet.src == flow.client.addr && sport == flow.client.port;
        let counters = if to_server {
            &mut flow.to_server
        } else {
            &mut flow.to_client
        };
        counters.packets += 1;
        counters.bytes += u64::from(meta.wirelen);
        flow.last_us = flow.last_us.max(meta.ts_us);

        let icmp = icmp_of(&packet);
        if flow.state.generation != snapshot.generation {
            flow.state.generation = snapshot.generation;
            let endpoints = [
                (Location::ConnSrc, flow.client.addr),
                (Location::ConnDst, flow.server.addr),
            ];
            for (location, addr) in endpoints {
                let observation = Observation {
                    location,
                    value: ObservedValue::Ip(addr),
                };
                self.counters.observations += 1;
                self.matches.clear();
                observation.match_into(&snapshot.set, self.now_secs, &mut self.matches);
                for &match_id in &self.matches {
                    raise(
                        &mut self.counters,
                        &self.events,
                        &self.config,
                        flow,
                        &snapshot.set,
                        match_id,
                        location,
                        meta.ts_us,
                        to_server,
                        icmp,
                    );
                }
            }
        } else {
            self.repeat_per_flow_alerts(slot, meta.ts_us, to_server, icmp, &snapshot.set);
        }
    }

    /// Every packet of a flow repeats its endpoints, so per-flow alerts count each packet (and
    /// re-emit under `--dedup none`).
    fn repeat_per_flow_alerts(
        &mut self,
        slot: u32,
        ts_us: i64,
        to_server: bool,
        icmp: Option<(u8, u8)>,
        set: &IndicatorSet,
    ) {
        let Some(flow) = self.flows.get_mut(slot) else {
            return;
        };
        if flow.state.alerts.is_empty() {
            return;
        }
        for index in 0..flow.state.alerts.len() {
            let alert = &mut flow.state.alerts[index];
            if !alert.location.is_per_flow() {
                continue;
            }
            alert.count += 1;
            match self.config.dedup {
                DedupMode::Flow => self.counters.alerts_deduplicated += 1,
                DedupMode::None => {
                    let (match_id, location) = (alert.match_id, alert.location);
                    let info = flow_info(flow, self.config.community_id);
                    emit_alert(
                        &mut self.counters,
                        &self.events,
                        info,
                        set,
                        match_id,
                        location,
                        ts_us,
                        to_server,
                        icmp,
                    );
                }
            }
        }
    }

    fn end_flow(&mut self, mut flow: Flow<FlowState>, reason: EndReason, _set: &IndicatorSet) {
        if !self.config.metadata && flow.state.alerts.is_empty() {
            return;
        }
        let info = flow_info(&mut flow, self.config.community_id);
        let alerts = flow
            .state
            .alerts
            .drain(..)
            .map(|a| AlertTally {
                indicator_id: a.indicator_id,
                location: a.location,
                count: a.count,
            })
            .collect();
        let event = FlowEvent {
            flow: info,
            icmp: flow.state.first_icmp,
            start_us: flow.start_us,
            end_us: flow.last_us,
            to_server: flow.to_server,
            to_client: flow.to_client,
            reason,
            alerts,
        };
        // The writer only goes away when the process is failing; nothing useful can be done here.
        let _ = self.events.send(Event::Flow(Box::new(event)));
    }
}

fn new_flow(
    hasher: &FlowHashBuilder,
    key: FlowKey,
    packet: &Decoded<'_>,
    meta: &PacketMeta,
) -> Flow<FlowState> {
    let (sport, dport, one_way) = port_equivalents(packet);
    let src = Endpoint {
        addr: packet.src,
        port: sport,
    };
    let dst = Endpoint {
        addr: packet.dst,
        port: dport,
    };
    // A flow first seen at its SYN-ACK (capture started mid-handshake) belongs to the other
    // side; every other first packet is taken to come from the originator.
    let syn_ack = tcp_flags::SYN | tcp_flags::ACK;
    let (client, server) = if packet.tcp_flags & syn_ack == syn_ack {
        (dst, src)
    } else {
        (src, dst)
    };
    let flow_id = flow_id(hasher, &key, meta.ts_us);
    let state = FlowState {
        first_icmp: icmp_of(packet),
        ..FlowState::default()
    };
    Flow::new(key, client, server, one_way, flow_id, meta.ts_us, state)
}

/// Records a match on a flow: a new (indicator, location) raises an alert, a known one counts.
#[allow(clippy::too_many_arguments)]
fn raise(
    counters: &mut Counters,
    events: &Sender<Event>,
    config: &WorkerConfig,
    flow: &mut Flow<FlowState>,
    set: &IndicatorSet,
    match_id: MatchId,
    location: Location,
    ts_us: i64,
    to_server: bool,
    icmp: Option<(u8, u8)>,
) {
    let indicator_id = set.get(match_id).id();
    let dedup_key = dedup_key(&indicator_id, location);
    if let Some(existing) = flow
        .state
        .alerts
        .iter_mut()
        .find(|a| a.dedup_key == dedup_key)
    {
        existing.match_id = match_id;
        existing.count += 1;
        if config.dedup == DedupMode::Flow {
            counters.alerts_deduplicated += 1;
            return;
        }
    } else {
        flow.state.alerts.push(RaisedAlert {
            dedup_key,
            indicator_id: indicator_id.into_owned(),
            location,
            count: 1,
            match_id,
        });
    }
    let info = flow_info(flow, config.community_id);
    emit_alert(
        counters, events, info, set, match_id, location, ts_us, to_server, icmp,
    );
}

#[allow(clippy::too_many_arguments)]
fn emit_alert(
    counters: &mut Counters,
    events: &Sender<Event>,
    flow: FlowInfo,
    set: &IndicatorSet,
    match_id: MatchId,
    location: Location,
    ts_us: i64,
    to_server: bool,
    icmp: Option<(u8, u8)>,
) {
    counters.alerts += 1;
    let alert = AlertEvent {
        ts_us,
        flow,
        to_server,
        icmp,
        indicator: IndicatorInfo::from_ref(set.get(match_id)),
        location,
        count: 1,
    };
    // See `end_flow`: a missing writer means the process is already failing.
    let _ = events.send(Event::Alert(Box::new(alert)));
}

fn flow_info(flow: &mut Flow<FlowState>, config: CommunityIdConfig) -> FlowInfo {
    let id = flow
        .state
        .community_id
        .get_or_insert_with(|| {
            community_id(
                config,
                flow.client,
                flow.server,
                flow.key.proto(),
                flow.one_way,
            )
            .into()
        })
        .clone();
    FlowInfo {
        flow_id: flow.flow_id,
        client: flow.client,
        server: flow.server,
        proto: flow.key.proto(),
        vlan: flow.key.vlan(),
        community_id: id,
    }
}

fn icmp_of(packet: &Decoded<'_>) -> Option<(u8, u8)> {
    match packet.transport {
        Transport::Icmp { icmp_type, code } => Some((icmp_type, code)),
        _ => None,
    }
}

fn dedup_key(indicator_id: &str, location: Location) -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = FlowHashBuilder::with_seed(0x0064_6564_7570).build_hasher();
    hasher.write(indicator_id.as_bytes());
    hasher.write_u8(location as u8);
    hasher.finish()
}

/// EVE `flow_id`: stable for the flow, unique in practice, and below 2^53 so JSON consumers
/// that parse numbers as doubles keep it exact.
fn flow_id(hasher: &FlowHashBuilder, key: &FlowKey, start_us: i64) -> u64 {
    use std::hash::BuildHasher;
    mix64(hasher.hash_one(key) ^ start_us as u64) & ((1 << 53) - 1)
}

fn wall_clock_secs() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64)
}

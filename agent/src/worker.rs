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

use crate::applayer::detect::L4;
use crate::applayer::{AppConfig, AppRecord, AppSink, Direction, Session, Transaction};
use crate::batch::{Batch, PacketMeta};
use crate::decode::{self, Decoded, Frame, Transport, proto, tcp_flags};
use crate::event::{
    AlertEvent, AlertTally, AnomalyEvent, AppEvent, Event, FlowEvent, FlowInfo, IndicatorInfo,
};
use crate::flow::community_id::{CommunityIdConfig, community_id};
use crate::flow::hash::{FlowHashBuilder, mix64};
use crate::flow::key::port_equivalents;
use crate::flow::orientation::{ServicePorts, first_packet_from_responder};
use crate::flow::table::EndReason;
use crate::flow::{Endpoint, Flow, FlowKey, FlowTable, Insert};
use crate::indicators::{LiveIndicators, Snapshot};
use crate::observe::{Location, Observation, ObservedValue};
use crate::stats::{AnomalyTally, Counters, Published};

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
    /// Emit a `flow` event for every flow and an event per application transaction, not only
    /// alerts.
    pub metadata: bool,
    /// Hashes flow keys into flow ids; shared so ids are stable across workers.
    pub hasher: FlowHashBuilder,
    /// Application-layer settings.
    pub app: AppConfig,
    /// Ports that mark the server side of a flow first seen mid-conversation.
    pub service_ports: ServicePorts,
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
#[derive(Default)]
pub struct FlowState {
    /// Indicator-set generation the flow's endpoints were last matched against (0 = never).
    generation: u64,
    /// ICMP type and code of the first packet.
    first_icmp: Option<(u8, u8)>,
    /// Community ID, computed on first use.
    community_id: Option<Arc<str>>,
    /// Alerts raised so far.
    alerts: Vec<RaisedAlert>,
    /// Application-layer session, created on the first payload byte.
    app: Option<Box<Session>>,
    /// The application protocol identified (kept after the session is dropped).
    app_proto: Option<&'static str>,
}

impl std::fmt::Debug for FlowState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FlowState")
            .field("generation", &self.generation)
            .field("alerts", &self.alerts.len())
            .field("app_proto", &self.app_proto)
            .finish_non_exhaustive()
    }
}

/// A worker's owned state.
pub struct Worker {
    config: WorkerConfig,
    flows: FlowTable<FlowState>,
    counters: Counters,
    published: Arc<Published>,
    events: Sender<Event>,
    matches: Vec<MatchId>,
    pending: Vec<(MatchId, Location)>,
    anomalies: AnomalyTally,
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
            pending: Vec::with_capacity(16),
            anomalies: AnomalyTally::default(),
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
        self.finish();
    }

    /// Processes one batch against one snapshot.
    pub fn process_batch(&mut self, batch: &Batch, snapshot: &Snapshot) {
        self.now_secs = wall_clock_secs();
        for (meta, bytes) in batch.iter() {
            self.process_packet(meta, bytes, snapshot);
        }
        self.expire(batch.now_us);
        self.published.publish(&self.counters);
        self.published.publish_anomalies(&mut self.anomalies);
    }

    /// Ends all flows (end of capture or shutdown).
    pub fn finish(&mut self) {
        while let Some(flow) = self.flows.pop_any() {
            self.counters.flows_at_shutdown += 1;
            self.end_flow(flow, EndReason::Shutdown);
        }
        self.published.publish(&self.counters);
        self.published.publish_anomalies(&mut self.anomalies);
    }

    fn expire(&mut self, now_us: i64) {
        while let Some(flow) = self.flows.pop_expired(now_us, self.config.flow_timeout_us) {
            self.counters.flows_timed_out += 1;
            self.end_flow(flow, EndReason::Timeout);
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
        let (hasher, services) = (&self.config.hasher, &self.config.service_ports);
        let make = || new_flow(hasher, services, key, &packet, meta);
        let slot = match self.flows.get_or_insert(key, make) {
            Insert::Existing(slot) => slot,
            Insert::New(slot) => {
                self.counters.flows_created += 1;
                slot
            }
            Insert::NewEvicting(slot, evicted) => {
                self.counters.flows_created += 1;
                self.counters.flows_evicted += 1;
                self.end_flow(*evicted, EndReason::Evicted);
                slot
            }
        };
        let Worker {
            config,
            flows,
            counters,
            events,
            matches,
            pending,
            anomalies,
            now_secs,
            ..
        } = self;
        let Some(flow) = flows.get_mut(slot) else {
            return;
        };
        let (sport, _, _) = port_equivalents(&packet);
        let to_server = packet.src == flow.client.addr && sport == flow.client.port;
        let counters_dir = if to_server {
            &mut flow.to_server
        } else {
            &mut flow.to_client
        };
        counters_dir.packets += 1;
        counters_dir.bytes += u64::from(meta.wirelen);
        flow.last_us = flow.last_us.max(meta.ts_us);

        let mut reporter = Reporter {
            counters,
            anomalies,
            events,
            config,
            set: &snapshot.set,
            now_secs: *now_secs,
            ts_us: meta.ts_us,
            to_server,
            icmp: icmp_of(&packet),
        };
        if flow.state.generation != snapshot.generation {
            flow.state.generation = snapshot.generation;
            reporter.match_endpoints(flow, matches);
        } else {
            reporter.repeat_per_flow_alerts(flow);
        }
        // Payload feeds the session; a bare TCP ACK still matters to a live session (it can
        // reveal bytes the capture lost in the other direction).
        // With nothing an application observation could match and no events to log, the
        // application layer is skipped (see `Snapshot::needs_app_layer`).
        let for_session =
            !packet.payload.is_empty() || (packet.proto == proto::TCP && flow.state.app.is_some());
        let app_layer_useful = snapshot.needs_app_layer || reporter.config.metadata;
        if for_session && !packet.fragment && app_layer_useful {
            let dir = if to_server {
                Direction::ToServer
            } else {
                Direction::ToClient
            };
            app_layer(&mut reporter, flow, &packet, dir, matches, pending);
        }
    }

    fn end_flow(&mut self, mut flow: Flow<FlowState>, reason: EndReason) {
        if let Some(mut session) = flow.state.app.take() {
            // The parser may still hold a transaction (a TLS ClientHello never answered).
            let mut sink = EndSink {
                worker: self,
                flow: &mut flow,
            };
            session.finish(&mut sink);
        }
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
            app_proto: flow.state.app_proto,
            alerts,
        };
        // The writer only goes away when the process is failing; nothing useful can be done here.
        let _ = self.events.send(Event::Flow(Box::new(event)));
    }
}

/// Hands a packet's payload to the flow's application-layer session (creating it on the first
/// payload byte), with a sink that matches what the parsers report.
fn app_layer(
    reporter: &mut Reporter<'_>,
    flow: &mut Flow<FlowState>,
    packet: &Decoded<'_>,
    dir: Direction,
    matches: &mut Vec<MatchId>,
    pending: &mut Vec<(MatchId, Location)>,
) {
    let l4 = match packet.proto {
        proto::TCP => L4::Tcp,
        proto::UDP => L4::Udp,
        _ => return,
    };
    if reporter.config.app.protocols.is_empty() {
        return;
    }
    // The session is taken out of the flow while it runs so the sink can update the flow.
    let mut session = match flow.state.app.take() {
        Some(session) => session,
        None if flow.state.app_proto.is_none() && !packet.payload.is_empty() => {
            Box::new(Session::new(l4, flow.client.port, flow.server.port))
        }
        // The session finished earlier and was dropped.
        None => return,
    };
    let mut sink = FlowSink {
        reporter,
        flow,
        matches,
        pending,
    };
    let config = &sink.reporter.config.app;
    match l4 {
        L4::Tcp => session.tcp_segment(
            config,
            dir,
            packet.tcp_seq,
            packet.tcp_flags & tcp_flags::SYN != 0,
            (packet.tcp_flags & tcp_flags::ACK != 0).then_some(packet.tcp_ack),
            packet.payload,
            &mut sink,
        ),
        L4::Udp => session.datagram(config, dir, packet.payload, &mut sink),
    }
    let flow = sink.flow;
    flow.state.app_proto = session.app_proto().or(flow.state.app_proto);
    if session.is_idle() {
        // Free the parser and reassembly buffers; the identified protocol is kept.
        flow.state.app_proto.get_or_insert("failed");
    } else {
        flow.state.app = Some(session);
    }
}

/// Everything needed to turn matches into alerts for the packet being processed.
struct Reporter<'a> {
    counters: &'a mut Counters,
    anomalies: &'a mut AnomalyTally,
    events: &'a Sender<Event>,
    config: &'a WorkerConfig,
    set: &'a IndicatorSet,
    now_secs: i64,
    ts_us: i64,
    to_server: bool,
    icmp: Option<(u8, u8)>,
}

impl Reporter<'_> {
    /// Matches the flow's endpoints (new flow, or the indicator set changed).
    fn match_endpoints(&mut self, flow: &mut Flow<FlowState>, matches: &mut Vec<MatchId>) {
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
            matches.clear();
            observation.match_into(self.set, self.now_secs, matches);
            for &match_id in matches.iter() {
                self.raise(flow, match_id, location, None);
            }
        }
    }

    /// Every packet of a flow repeats its endpoints, so per-flow alerts count each packet (and
    /// re-emit under `--dedup none`).
    fn repeat_per_flow_alerts(&mut self, flow: &mut Flow<FlowState>) {
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
                    self.emit_alert(info, match_id, location, None);
                }
            }
        }
    }

    /// Records a match on a flow: a new (indicator, location) raises an alert, a known one counts.
    fn raise(
        &mut self,
        flow: &mut Flow<FlowState>,
        match_id: MatchId,
        location: Location,
        app: Option<&Arc<AppRecord>>,
    ) {
        let indicator_id = self.set.get(match_id).id();
        let dedup_key = dedup_key(&indicator_id, location);
        if let Some(existing) = flow
            .state
            .alerts
            .iter_mut()
            .find(|a| a.dedup_key == dedup_key)
        {
            existing.match_id = match_id;
            existing.count += 1;
            if self.config.dedup == DedupMode::Flow {
                self.counters.alerts_deduplicated += 1;
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
        let info = flow_info(flow, self.config.community_id);
        self.emit_alert(info, match_id, location, app);
    }

    fn emit_alert(
        &mut self,
        flow: FlowInfo,
        match_id: MatchId,
        location: Location,
        app: Option<&Arc<AppRecord>>,
    ) {
        self.counters.alerts += 1;
        let alert = AlertEvent {
            ts_us: self.ts_us,
            flow,
            to_server: self.to_server,
            icmp: self.icmp,
            indicator: IndicatorInfo::from_ref(self.set.get(match_id)),
            location,
            count: 1,
            app: app.cloned(),
        };
        // A missing writer means the process is already failing; nothing to do here.
        let _ = self.events.send(Event::Alert(Box::new(alert)));
    }
}

/// The [`AppSink`] of one packet: matches each transaction's observations, raises alerts with
/// the transaction's record attached, and logs the transaction under `--metadata`.
struct FlowSink<'r, 'a> {
    reporter: &'r mut Reporter<'a>,
    flow: &'r mut Flow<FlowState>,
    matches: &'r mut Vec<MatchId>,
    pending: &'r mut Vec<(MatchId, Location)>,
}

impl AppSink for FlowSink<'_, '_> {
    fn transaction(&mut self, tx: &dyn Transaction) {
        self.reporter.counters.app_transactions += 1;
        self.pending.clear();
        let (set, now) = (self.reporter.set, self.reporter.now_secs);
        let counters = &mut *self.reporter.counters;
        let matches = &mut *self.matches;
        let pending = &mut *self.pending;
        let (client, server) = (self.flow.client.addr, self.flow.server.addr);
        tx.observations(&mut |observation| {
            let observation = observation.in_flow(client, server);
            counters.observations += 1;
            matches.clear();
            observation.match_into(set, now, matches);
            pending.extend(matches.iter().map(|&m| (m, observation.location)));
        });
        let metadata = self.reporter.config.metadata && tx.logged();
        if self.pending.is_empty() && !metadata {
            return;
        }
        let record = Arc::new(tx.record());
        for index in 0..self.pending.len() {
            let (match_id, location) = self.pending[index];
            self.reporter
                .raise(self.flow, match_id, location, Some(&record));
        }
        if metadata {
            let event = AppEvent {
                ts_us: self.reporter.ts_us,
                flow: flow_info(self.flow, self.reporter.config.community_id),
                to_server: self.reporter.to_server,
                record,
            };
            let _ = self.reporter.events.send(Event::App(Box::new(event)));
        }
    }

    fn anomaly(&mut self, app_proto: &'static str, kind: &'static str) {
        let reporter = &mut *self.reporter;
        reporter.counters.app_anomalies += 1;
        reporter.anomalies.count(app_proto, kind);
        if reporter.config.metadata {
            let event = AnomalyEvent {
                ts_us: reporter.ts_us,
                flow: flow_info(self.flow, reporter.config.community_id),
                app_proto,
                kind,
            };
            let _ = reporter.events.send(Event::Anomaly(Box::new(event)));
        }
    }
}

/// The [`AppSink`] of a flow that ends: what parsers report from [`Session::finish`] is logged
/// under `--metadata` (not matched: the flow is gone, and parsers report observations when they
/// first see them), anomalies are counted.
struct EndSink<'a> {
    worker: &'a mut Worker,
    flow: &'a mut Flow<FlowState>,
}

impl AppSink for EndSink<'_> {
    fn transaction(&mut self, tx: &dyn Transaction) {
        self.worker.counters.app_transactions += 1;
        if !self.worker.config.metadata || !tx.logged() {
            return;
        }
        let event = AppEvent {
            ts_us: self.flow.last_us,
            flow: flow_info(self.flow, self.worker.config.community_id),
            to_server: true,
            record: Arc::new(tx.record()),
        };
        let _ = self.worker.events.send(Event::App(Box::new(event)));
    }

    fn anomaly(&mut self, app_proto: &'static str, kind: &'static str) {
        self.worker.counters.app_anomalies += 1;
        self.worker.anomalies.count(app_proto, kind);
    }
}

fn new_flow(
    hasher: &FlowHashBuilder,
    services: &ServicePorts,
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
    let (client, server) = if first_packet_from_responder(packet, services) {
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

//! Events that leave the workers: alerts and finished flows, owned so they can cross threads.

use std::sync::Arc;

use kordon_intel::{IndicatorKind, IndicatorMeta, IndicatorRef};

use crate::applayer::AppRecord;
use crate::flow::Endpoint;
use crate::flow::table::{DirCounters, EndReason};
use crate::observe::Location;

/// The parts of a flow that every event about it repeats.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlowInfo {
    /// EVE `flow_id`.
    pub flow_id: u64,
    /// Originator.
    pub client: Endpoint,
    /// Responder.
    pub server: Endpoint,
    /// IP protocol.
    pub proto: u8,
    /// VLAN ids (0 = none).
    pub vlan: [u16; 2],
    /// Community ID, computed once per flow and only for flows that produce an event.
    pub community_id: Arc<str>,
}

/// An indicator as it appears in an alert.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IndicatorInfo {
    /// Feed id or derived content id.
    pub id: String,
    /// Kind.
    pub kind: IndicatorKind,
    /// Value as written by the feed (normalised).
    pub value: String,
    /// Feed score (datarep/iprep), if any.
    pub score: Option<i32>,
    /// Shared metadata.
    pub meta: Arc<IndicatorMeta>,
}

impl IndicatorInfo {
    /// Copies what an alert needs out of the compiled set (alerts are rare; this allocates).
    pub fn from_ref(indicator: IndicatorRef<'_>) -> IndicatorInfo {
        IndicatorInfo {
            id: indicator.id().into_owned(),
            kind: indicator.kind(),
            value: indicator.value().to_string(),
            score: indicator.score(),
            meta: indicator.meta_arc(),
        }
    }
}

/// An indicator match.
#[derive(Clone, Debug, PartialEq)]
pub struct AlertEvent {
    /// Time of the packet that produced the match, microseconds since the epoch.
    pub ts_us: i64,
    /// The flow.
    pub flow: FlowInfo,
    /// Whether that packet went from client to server.
    pub to_server: bool,
    /// ICMP type and code of that packet.
    pub icmp: Option<(u8, u8)>,
    /// What matched.
    pub indicator: IndicatorInfo,
    /// Where.
    pub location: Location,
    /// Occurrences folded into this alert so far (1 when emitted; repeats are reported on the
    /// flow's end event).
    pub count: u64,
    /// The application-layer transaction the match came from (shared with its `dns`/`tls`/`http`
    /// event and with other alerts on the same transaction).
    pub app: Option<Arc<AppRecord>>,
}

/// An application-layer transaction (logged with `--metadata`).
#[derive(Clone, Debug, PartialEq)]
pub struct AppEvent {
    /// Time of the packet that completed the transaction (µs).
    pub ts_us: i64,
    /// The flow.
    pub flow: FlowInfo,
    /// Whether that packet went from client to server.
    pub to_server: bool,
    /// The record.
    pub record: Arc<AppRecord>,
}

/// One alert of a flow with its final repeat count, reported when the flow ends.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AlertTally {
    /// Indicator id.
    pub indicator_id: String,
    /// Location.
    pub location: Location,
    /// Total occurrences (the alert itself plus its deduplicated repeats).
    pub count: u64,
}

/// A finished flow.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FlowEvent {
    /// The flow.
    pub flow: FlowInfo,
    /// ICMP type and code of the first packet.
    pub icmp: Option<(u8, u8)>,
    /// First packet time (µs).
    pub start_us: i64,
    /// Last packet time (µs).
    pub end_us: i64,
    /// Client → server counters.
    pub to_server: DirCounters,
    /// Server → client counters.
    pub to_client: DirCounters,
    /// Why it ended.
    pub reason: EndReason,
    /// The application protocol identified, if any.
    pub app_proto: Option<&'static str>,
    /// Alerts raised on the flow, with their counts.
    pub alerts: Vec<AlertTally>,
}

/// What workers send to the writer.
#[derive(Clone, Debug, PartialEq)]
pub enum Event {
    /// An alert.
    Alert(Box<AlertEvent>),
    /// A flow end (for alerted flows always, for all flows with `--metadata`).
    Flow(Box<FlowEvent>),
    /// An application-layer transaction (with `--metadata`).
    App(Box<AppEvent>),
    /// A protocol anomaly (with `--metadata`).
    Anomaly(Box<AnomalyEvent>),
}

/// Malformed or suspicious protocol data seen on a flow, as Suricata's `anomaly` events.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AnomalyEvent {
    /// Time of the packet (µs).
    pub ts_us: i64,
    /// The flow.
    pub flow: FlowInfo,
    /// The parser's protocol.
    pub app_proto: &'static str,
    /// The anomaly's stable name.
    pub kind: &'static str,
}

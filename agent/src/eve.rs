//! EVE JSON output: one JSON object per line with Suricata's field names, so a SIEM pipeline
//! built for Suricata ingests Kordon unchanged; Kordon-specific facts live under `kordon`.

use std::io::{self, Write};

use serde::Serialize;

use std::collections::BTreeMap;

use crate::applayer::AppRecord;
use crate::event::{AlertEvent, AnomalyEvent, AppEvent, Event, FlowEvent, FlowInfo};
use crate::timefmt::eve_timestamp;

/// Serialises one event into `out` as a JSON line.
pub fn write_event(out: &mut impl Write, event: &Event) -> io::Result<()> {
    match event {
        Event::Alert(alert) => serde_json::to_writer(&mut *out, &AlertJson::from(&**alert)),
        Event::Flow(flow) => serde_json::to_writer(&mut *out, &FlowJson::from(&**flow)),
        Event::App(app) => serde_json::to_writer(&mut *out, &AppJson::from(&**app)),
        Event::Anomaly(anomaly) => serde_json::to_writer(&mut *out, &AnomalyJson::from(&**anomaly)),
    }
    .map_err(io::Error::from)?;
    out.write_all(b"\n")
}

/// Suricata's protocol names (from `/etc/protocols`, as Suricata prints them).
pub fn proto_name(proto: u8) -> String {
    match proto {
        1 => "ICMP".into(),
        6 => "TCP".into(),
        17 => "UDP".into(),
        58 => "IPv6-ICMP".into(),
        132 => "SCTP".into(),
        other => format!("{other:03}"),
    }
}

#[derive(Serialize)]
struct Common<'a> {
    timestamp: String,
    flow_id: u64,
    event_type: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    vlan: Option<Vec<u16>>,
    src_ip: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    src_port: Option<u16>,
    dest_ip: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    dest_port: Option<u16>,
    proto: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    icmp_type: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    icmp_code: Option<u8>,
    community_id: &'a str,
}

impl<'a> Common<'a> {
    fn new(
        ts_us: i64,
        event_type: &'static str,
        flow: &'a FlowInfo,
        icmp: Option<(u8, u8)>,
    ) -> Self {
        let has_ports = matches!(flow.proto, 6 | 17 | 132);
        let vlan: Vec<u16> = flow.vlan.iter().copied().filter(|&v| v != 0).collect();
        Common {
            timestamp: eve_timestamp(ts_us),
            flow_id: flow.flow_id,
            event_type,
            vlan: (!vlan.is_empty()).then_some(vlan),
            src_ip: flow.client.addr.to_string(),
            src_port: has_ports.then_some(flow.client.port),
            dest_ip: flow.server.addr.to_string(),
            dest_port: has_ports.then_some(flow.server.port),
            proto: proto_name(flow.proto),
            icmp_type: icmp.map(|(t, _)| t),
            icmp_code: icmp.map(|(_, c)| c),
            community_id: &flow.community_id,
        }
    }
}

#[derive(Serialize)]
struct AlertJson<'a> {
    #[serde(flatten)]
    common: Common<'a>,
    direction: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    app_proto: Option<&'static str>,
    alert: AlertBody,
    /// `"dns": {…}` etc.: the transaction the match came from, as Suricata attaches it.
    #[serde(flatten)]
    app: BTreeMap<&'static str, &'a serde_json::Value>,
    kordon: KordonAlert<'a>,
}

/// The `{app_proto: fields}` map flattened into alerts and app events.
fn app_fields(record: Option<&AppRecord>) -> BTreeMap<&'static str, &serde_json::Value> {
    record
        .map(|r| (r.app_proto, &r.fields))
        .into_iter()
        .collect()
}

#[derive(Serialize)]
struct AppJson<'a> {
    #[serde(flatten)]
    common: Common<'a>,
    direction: &'static str,
    #[serde(flatten)]
    app: BTreeMap<&'static str, &'a serde_json::Value>,
}

impl<'a> From<&'a AppEvent> for AppJson<'a> {
    fn from(event: &'a AppEvent) -> Self {
        let mut common = Common::new(event.ts_us, event.record.app_proto, &event.flow, None);
        // Suricata logs DNS messages in packet direction: a response goes from the server.
        if event.record.app_proto == "dns" && !event.to_server {
            std::mem::swap(&mut common.src_ip, &mut common.dest_ip);
            std::mem::swap(&mut common.src_port, &mut common.dest_port);
        }
        AppJson {
            common,
            direction: direction_name(event.to_server),
            app: app_fields(Some(&event.record)),
        }
    }
}

fn direction_name(to_server: bool) -> &'static str {
    if to_server { "to_server" } else { "to_client" }
}

#[derive(Serialize)]
struct AlertBody {
    action: &'static str,
    gid: u32,
    signature_id: u32,
    rev: u32,
    signature: String,
    category: String,
    severity: u8,
}

#[derive(Serialize)]
struct KordonAlert<'a> {
    indicator: IndicatorJson<'a>,
    location: &'static str,
    dedup: DedupJson,
}

#[derive(Serialize)]
struct DedupJson {
    count: u64,
}

#[derive(Serialize)]
struct IndicatorJson<'a> {
    id: &'a str,
    #[serde(rename = "type")]
    kind: &'static str,
    value: &'a str,
    source: &'a str,
    set: &'a str,
    severity: &'static str,
    confidence: u8,
    tlp: &'static str,
    tags: Vec<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    score: Option<i32>,
}

impl<'a> From<&'a AlertEvent> for AlertJson<'a> {
    fn from(alert: &'a AlertEvent) -> Self {
        let indicator = &alert.indicator;
        let meta = &indicator.meta;
        AlertJson {
            common: Common::new(alert.ts_us, "alert", &alert.flow, alert.icmp),
            direction: direction_name(alert.to_server),
            app_proto: alert.app.as_deref().map(|r| r.app_proto),
            app: app_fields(alert.app.as_deref()),
            alert: AlertBody {
                action: "allowed",
                gid: 1,
                signature_id: signature_id(&indicator.id),
                rev: 1,
                signature: format!(
                    "KORDON indicator {} {} ({}) seen at {}",
                    indicator.kind,
                    indicator.value,
                    meta.set,
                    alert.location.as_str()
                ),
                category: format!("Indicator match: {}", indicator.kind),
                severity: meta.severity.suricata_level(),
            },
            kordon: KordonAlert {
                indicator: IndicatorJson {
                    id: &indicator.id,
                    kind: indicator.kind.as_str(),
                    value: &indicator.value,
                    source: &meta.source,
                    set: &meta.set,
                    severity: meta.severity.as_str(),
                    confidence: meta.confidence,
                    tlp: meta.tlp.as_str(),
                    tags: meta.tags.iter().map(|t| &**t).collect(),
                    score: indicator.score,
                },
                location: alert.location.as_str(),
                dedup: DedupJson { count: alert.count },
            },
        }
    }
}

/// A stable Suricata-style signature id for an indicator, so SIEM rules and suppressions keyed
/// on `alert.signature_id` keep working across restarts: FNV-1a of the indicator id, folded into
/// the range 1 000 000 000–1 999 999 999, away from the ET/Suricata rule ranges.
pub fn signature_id(indicator_id: &str) -> u32 {
    let mut hash: u32 = 0x811c_9dc5;
    for byte in indicator_id.bytes() {
        hash ^= u32::from(byte);
        hash = hash.wrapping_mul(0x0100_0193);
    }
    1_000_000_000 + hash % 1_000_000_000
}

#[derive(Serialize)]
struct FlowJson<'a> {
    #[serde(flatten)]
    common: Common<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    app_proto: Option<&'static str>,
    flow: FlowBody,
    #[serde(skip_serializing_if = "Option::is_none")]
    kordon: Option<KordonFlow<'a>>,
}

#[derive(Serialize)]
struct FlowBody {
    pkts_toserver: u64,
    pkts_toclient: u64,
    bytes_toserver: u64,
    bytes_toclient: u64,
    start: String,
    end: String,
    age: i64,
    reason: &'static str,
    alerted: bool,
}

#[derive(Serialize)]
struct KordonFlow<'a> {
    alerts: Vec<TallyJson<'a>>,
}

#[derive(Serialize)]
struct TallyJson<'a> {
    indicator_id: &'a str,
    location: &'static str,
    count: u64,
}

impl<'a> From<&'a FlowEvent> for FlowJson<'a> {
    fn from(flow: &'a FlowEvent) -> Self {
        let alerts: Vec<TallyJson<'a>> = flow
            .alerts
            .iter()
            .map(|t| TallyJson {
                indicator_id: &t.indicator_id,
                location: t.location.as_str(),
                count: t.count,
            })
            .collect();
        FlowJson {
            common: Common::new(flow.end_us, "flow", &flow.flow, flow.icmp),
            app_proto: flow.app_proto,
            flow: FlowBody {
                pkts_toserver: flow.to_server.packets,
                pkts_toclient: flow.to_client.packets,
                bytes_toserver: flow.to_server.bytes,
                bytes_toclient: flow.to_client.bytes,
                start: eve_timestamp(flow.start_us),
                end: eve_timestamp(flow.end_us),
                age: (flow.end_us - flow.start_us).div_euclid(1_000_000),
                reason: flow.reason.as_str(),
                alerted: !alerts.is_empty(),
            },
            kordon: (!alerts.is_empty()).then_some(KordonFlow { alerts }),
        }
    }
}

#[derive(Serialize)]
struct AnomalyJson<'a> {
    #[serde(flatten)]
    common: Common<'a>,
    app_proto: &'static str,
    anomaly: AnomalyBody,
}

/// Suricata's layout for application-layer anomalies.
#[derive(Serialize)]
struct AnomalyBody {
    #[serde(rename = "type")]
    kind: &'static str,
    event: &'static str,
    layer: &'static str,
}

impl<'a> From<&'a AnomalyEvent> for AnomalyJson<'a> {
    fn from(event: &'a AnomalyEvent) -> Self {
        AnomalyJson {
            common: Common::new(event.ts_us, "anomaly", &event.flow, None),
            app_proto: event.app_proto,
            anomaly: AnomalyBody {
                kind: "applayer",
                event: event.kind,
                layer: "proto_parser",
            },
        }
    }
}

//! Worker events → `kordon.v1` messages. The only place that knows both shapes: when the event
//! types gain fields (app-layer context), extend [`alert`] here and nothing else changes.

use kordon_proto::{Alert, Heartbeat, Indicator};

use crate::eve::{proto_name, signature_id};
use crate::event::AlertEvent;
use crate::stats::Report;

/// The wire form of an alert, with the same values the EVE writer prints.
pub fn alert(event: &AlertEvent, interface: &str) -> Alert {
    let flow = &event.flow;
    let indicator = &event.indicator;
    let meta = &indicator.meta;
    let has_ports = matches!(flow.proto, 6 | 17 | 132);
    Alert {
        timestamp_us: event.ts_us,
        flow_id: flow.flow_id,
        src_ip: flow.client.addr.to_string(),
        src_port: if has_ports {
            u32::from(flow.client.port)
        } else {
            0
        },
        dest_ip: flow.server.addr.to_string(),
        dest_port: if has_ports {
            u32::from(flow.server.port)
        } else {
            0
        },
        proto: proto_name(flow.proto),
        ip_proto: u32::from(flow.proto),
        community_id: flow.community_id.to_string(),
        direction: if event.to_server {
            "to_server"
        } else {
            "to_client"
        }
        .into(),
        vlan: flow
            .vlan
            .iter()
            .filter(|&&v| v != 0)
            .map(|&v| u32::from(v))
            .collect(),
        icmp_type: event.icmp.map(|(t, _)| u32::from(t)),
        icmp_code: event.icmp.map(|(_, c)| u32::from(c)),
        signature_id: signature_id(&indicator.id),
        signature: format!(
            "KORDON indicator {} {} ({}) seen at {}",
            indicator.kind,
            indicator.value,
            meta.set,
            event.location.as_str()
        ),
        category: format!("Indicator match: {}", indicator.kind),
        severity: u32::from(meta.severity.suricata_level()),
        indicator: Some(Indicator {
            id: indicator.id.clone(),
            r#type: indicator.kind.as_str().into(),
            value: indicator.value.clone(),
            source: meta.source.to_string(),
            set: meta.set.to_string(),
            severity: meta.severity.as_str().into(),
            confidence: u32::from(meta.confidence),
            tlp: meta.tlp.as_str().into(),
            tags: meta.tags.iter().map(|t| t.to_string()).collect(),
            score: indicator.score,
            set_version: 0,
        }),
        location: event.location.as_str().into(),
        dedup_count: event.count,
        app_proto: String::new(),
        app_layer_json: String::new(),
        interface: interface.into(),
    }
}

/// The pipeline's report as heartbeat counters (spool fields are filled by the uplink).
pub fn heartbeat(report: Option<&Report>) -> Heartbeat {
    let mut hb = Heartbeat {
        agent_version: env!("CARGO_PKG_VERSION").into(),
        ..Heartbeat::default()
    };
    if let Some(r) = report {
        hb.packets = r.packets;
        hb.bytes = r.bytes;
        hb.kernel_dropped = r.capture.kernel_dropped;
        hb.queue_dropped = r.capture.queue_dropped;
        hb.interface_dropped = r.capture.interface_dropped;
        hb.flows = r.flows.created;
        hb.alerts = r.alerts;
        hb.indicator_count = r.indicators.count as u64;
    }
    hb
}

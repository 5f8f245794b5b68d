//! End-to-end matching on a capture built here: which flows alert, at which location, with which
//! orientation, dedup counts, and the same answer whatever the number of workers.

use std::collections::BTreeMap;
use std::ffi::OsString;

use serde_json::Value;

mod common;

use common::{PcapWriter, Scratch, run_agent};

const CLIENT: [u8; 4] = [10, 1, 0, 5];
const BAD_SERVER: [u8; 4] = [185, 100, 87, 9];
const BAD_NET_HOST: [u8; 4] = [45, 77, 10, 77];
const RESOLVER: [u8; 4] = [10, 1, 0, 53];
const GOOD_SERVER: [u8; 4] = [81, 2, 69, 80];
const LATE_CLIENT: [u8; 4] = [10, 1, 0, 7];

fn capture() -> Vec<u8> {
    let mut pcap = PcapWriter::new();
    // Flow 1: client → known-bad server, full handshake and data: 3 to server, 2 to client.
    pcap.tcp(CLIENT, BAD_SERVER, 40000, 443, "S", b"");
    pcap.tcp(BAD_SERVER, CLIENT, 443, 40000, "SA", b"");
    pcap.tcp(CLIENT, BAD_SERVER, 40000, 443, "A", b"");
    // Flow 2 interleaved: a host in a bad network queries our resolver (originator matches).
    pcap.udp(BAD_NET_HOST, RESOLVER, 5353, 53);
    pcap.tcp(CLIENT, BAD_SERVER, 40000, 443, "A", b"hello");
    pcap.udp(RESOLVER, BAD_NET_HOST, 53, 5353);
    pcap.tcp(BAD_SERVER, CLIENT, 443, 40000, "A", b"world");
    // Flow 3: clean traffic.
    pcap.tcp(CLIENT, GOOD_SERVER, 40001, 80, "S", b"");
    pcap.tcp(GOOD_SERVER, CLIENT, 80, 40001, "SA", b"");
    // Flow 4: first seen at the server's SYN-ACK (capture started mid-handshake): the bad server
    // is still the responder.
    pcap.tcp(BAD_SERVER, LATE_CLIENT, 443, 50000, "SA", b"");
    pcap.tcp(LATE_CLIENT, BAD_SERVER, 50000, 443, "A", b"");
    pcap.bytes
}

const INDICATORS: &str = "\
# test indicators (public addresses: documentation and private ranges are allowlisted by default)
185.100.87.9
45.77.10.0/24
81.2.69.200
";

/// A scratch directory holding the test capture and indicators.
struct Fixture(Scratch);

impl Fixture {
    fn new(name: &str) -> Self {
        let scratch = Scratch::new(name);
        std::fs::write(scratch.join("test.pcap"), capture()).expect("write pcap");
        std::fs::write(scratch.join("indicators.txt"), INDICATORS).expect("write indicators");
        Fixture(scratch)
    }

    fn run(&self, args: &[&str]) -> (Vec<Value>, Value) {
        let mut argv: Vec<OsString> = vec![
            "--read".into(),
            self.0.join("test.pcap").into(),
            "--indicators".into(),
            self.0.join("indicators.txt").into(),
        ];
        argv.extend(args.iter().map(OsString::from));
        let run = run_agent(&self.0, "matching", &self.0.path, &argv);
        run.expect_success("matching");
        let stats = run.stats.clone().expect("stats written");
        (run.events, stats)
    }
}

/// (src_ip, dest_ip, location, indicator value) of each alert, sorted.
fn alert_keys(events: &[Value]) -> Vec<(String, String, String, String)> {
    let mut keys: Vec<_> = events
        .iter()
        .filter(|e| e["event_type"] == "alert")
        .map(|e| {
            (
                e["src_ip"].as_str().unwrap_or_default().to_string(),
                e["dest_ip"].as_str().unwrap_or_default().to_string(),
                e["kordon"]["location"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                e["kordon"]["indicator"]["value"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
            )
        })
        .collect();
    keys.sort();
    keys
}

fn expected_alerts() -> Vec<(String, String, String, String)> {
    let mut want = vec![
        ("10.1.0.5", "185.100.87.9", "conn.dst", "185.100.87.9"),
        ("45.77.10.77", "10.1.0.53", "conn.src", "45.77.10.0/24"),
        ("10.1.0.7", "185.100.87.9", "conn.dst", "185.100.87.9"),
    ]
    .into_iter()
    .map(|(a, b, c, d)| (a.into(), b.into(), c.into(), d.into()))
    .collect::<Vec<_>>();
    want.sort();
    want
}

#[test]
fn alerts_name_location_orientation_and_indicator() {
    let scratch = Fixture::new("matching-flow");
    for workers in ["1", "2", "3"] {
        let (events, stats) = scratch.run(&["--workers", workers]);
        assert_eq!(alert_keys(&events), expected_alerts(), "workers={workers}");
        assert_eq!(stats["packets"], 11, "workers={workers}");
        assert_eq!(
            stats["flows"]["created"], 4,
            "workers={workers}: one flow per conversation"
        );
        let alert = events
            .iter()
            .find(|e| e["event_type"] == "alert" && e["dest_ip"] == "185.100.87.9")
            .expect("alert");
        assert_eq!(alert["proto"], "TCP");
        assert_eq!(alert["dest_port"], 443);
        assert!(
            alert["community_id"]
                .as_str()
                .is_some_and(|c| c.starts_with("1:"))
        );
        assert_eq!(alert["kordon"]["indicator"]["type"], "ipv4");
        assert_eq!(alert["kordon"]["indicator"]["set"], "default");
        assert_eq!(alert["kordon"]["dedup"]["count"], 1);
    }
}

#[test]
fn dedup_counts_every_packet_of_the_flow() {
    let scratch = Fixture::new("matching-dedup");
    let (events, _) = scratch.run(&["--workers", "1"]);
    // Alerted flows always get a flow event carrying each alert's final count.
    let mut counts = BTreeMap::new();
    for flow in events.iter().filter(|e| e["event_type"] == "flow") {
        assert_eq!(
            flow["flow"]["alerted"], true,
            "without --metadata only alerted flows: {flow}"
        );
        for tally in flow["kordon"]["alerts"].as_array().expect("tallies") {
            let packets = flow["flow"]["pkts_toserver"].as_u64().unwrap_or(0)
                + flow["flow"]["pkts_toclient"].as_u64().unwrap_or(0);
            assert_eq!(tally["count"].as_u64(), Some(packets), "{flow}");
            counts.insert(
                flow["src_ip"].as_str().unwrap_or_default().to_string(),
                packets,
            );
        }
    }
    let want: BTreeMap<String, u64> = [("10.1.0.5", 5), ("45.77.10.77", 2), ("10.1.0.7", 2)]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
    assert_eq!(counts, want);
}

#[test]
fn dedup_none_alerts_per_packet_with_direction() {
    let scratch = Fixture::new("matching-none");
    let (events, stats) = scratch.run(&["--workers", "2", "--dedup", "none"]);
    let alerts: Vec<&Value> = events
        .iter()
        .filter(|e| e["event_type"] == "alert")
        .collect();
    assert_eq!(alerts.len(), 9, "5 + 2 + 2 packets of alerted flows");
    assert_eq!(stats["alerts"], 9);
    let to_client = alerts
        .iter()
        .filter(|a| a["direction"] == "to_client")
        .count();
    assert_eq!(to_client, 4, "2 + 1 + 1 server-to-client packets");
}

#[test]
fn metadata_reports_every_flow() {
    let scratch = Fixture::new("matching-metadata");
    let (events, _) = scratch.run(&["--metadata"]);
    let flows: Vec<&Value> = events
        .iter()
        .filter(|e| e["event_type"] == "flow")
        .collect();
    assert_eq!(flows.len(), 4);
    let clean = flows
        .iter()
        .find(|f| f["dest_ip"] == "81.2.69.80")
        .expect("clean flow");
    assert_eq!(clean["flow"]["alerted"], false);
    assert_eq!(clean["flow"]["pkts_toserver"], 1);
    assert_eq!(clean["flow"]["pkts_toclient"], 1);
    assert_eq!(clean["flow"]["reason"], "shutdown");
}

#[test]
fn protocol_anomalies_are_counted_by_kind_and_logged() {
    // The capture's "DNS" datagrams carry five bytes: shorter than a DNS header.
    let scratch = Fixture::new("matching-anomalies");
    let (events, stats) = scratch.run(&["--metadata"]);
    let anomalies: Vec<&Value> = events
        .iter()
        .filter(|e| e["event_type"] == "anomaly")
        .collect();
    assert!(!anomalies.is_empty(), "anomaly events with --metadata");
    assert!(anomalies.iter().all(|a| a["app_proto"] == "dns"
        && a["anomaly"]["type"] == "applayer"
        && a["anomaly"]["event"].is_string()));
    let by_kind = &stats["decode"]["app_anomalies_by_kind"];
    let total: u64 = by_kind
        .as_object()
        .expect("per-kind map")
        .values()
        .filter_map(Value::as_u64)
        .sum();
    assert_eq!(total, anomalies.len() as u64, "{by_kind}");
    assert_eq!(stats["decode"]["app_anomalies"].as_u64(), Some(total));
}

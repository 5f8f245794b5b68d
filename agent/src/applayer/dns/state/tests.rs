//! The DNS parser over datagrams and TCP chunks: framing, observations, records, anomalies.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use super::*;
use crate::applayer::Transaction;

#[derive(Default)]
struct Collect {
    observations: Vec<String>,
    records: Vec<serde_json::Value>,
    anomalies: Vec<&'static str>,
}

impl AppSink for Collect {
    fn transaction(&mut self, tx: &dyn Transaction) {
        tx.observations(&mut |o| {
            let value = match o.value {
                ObservedValue::Ip(ip) => ip.to_string(),
                ObservedValue::Domain(d) => d.to_string(),
                ObservedValue::Text(_, t) => t.to_string(),
                other => format!("{other:?}"),
            };
            self.observations
                .push(format!("{}={value}", o.location.as_str()));
        });
        let record = tx.record();
        assert_eq!(record.app_proto, "dns");
        self.records.push(record.fields);
    }
    fn anomaly(&mut self, app_proto: &'static str, kind: &'static str) {
        assert_eq!(app_proto, "dns");
        self.anomalies.push(kind);
    }
}

fn hex(s: &str) -> Vec<u8> {
    let digits: Vec<u8> = s.bytes().filter(u8::is_ascii_hexdigit).collect();
    digits
        .chunks(2)
        .map(|p| u8::from_str_radix(std::str::from_utf8(p).unwrap(), 16).unwrap())
        .collect()
}

/// dns-udp-junkrequest-first/input.pcap packets 3 and 4.
const QUERY: &str = "c58e 0120 0001 0000 0000 0001 0b63 6174 656e 6163 7962 6572 0246 7200 \
                     0001 0001 0000 2910 0000 0000 0000 00";
const ANSWER: &str = "c58e 81a0 0001 0001 0000 0000 0b63 6174 656e 6163 7962 6572 0246 7200 \
                      0001 0001 c00c 0001 0001 0000 0d22 0004 bca5 35b9";

fn framed(messages: &[&str]) -> Vec<u8> {
    let mut out = Vec::new();
    for m in messages {
        let bytes = hex(m);
        out.extend_from_slice(&(bytes.len() as u16).to_be_bytes());
        out.extend_from_slice(&bytes);
    }
    out
}

#[test]
fn udp_query_and_answer() {
    let mut parser = DnsParser::new(L4::Udp);
    let mut sink = Collect::default();
    // The junk first datagram of the same capture (an SNMP request sent to port 53).
    let junk = hex(
        "3040 0201 0330 0f02 0300 91c8 0202 05dc 0401 0402 0103 0415 3013 0400 0201 0002 \
         0100 0405 6164 6d69 6e04 0004 0030 1304 0004 00a0 0d02 0300 91c8 0201 0002 0100 3000",
    );
    assert_eq!(
        parser.parse(Direction::ToServer, &junk, &mut sink),
        ParseOutcome::Continue
    );
    parser.parse(Direction::ToServer, &hex(QUERY), &mut sink);
    parser.parse(Direction::ToClient, &hex(ANSWER), &mut sink);
    assert_eq!(
        sink.observations,
        [
            "dns.query=catenacyber.Fr",
            "dns.answer=catenacyber.Fr",
            "dns.answer=188.165.53.185"
        ]
    );
    assert_eq!(sink.anomalies.len(), 1, "{:?}", sink.anomalies);
    assert_eq!(
        sink.records[0],
        serde_json::json!({
            "version": 3, "type": "request", "id": 50574, "flags": "120", "rd": true,
            "ad": true, "opcode": 0, "rcode": "NOERROR",
            "queries": [{"rrname": "catenacyber.Fr", "rrtype": "A"}],
            "additionals": [{"rrname": "<root>", "rrtype": "OPT", "ttl": 0}],
        })
    );
    assert_eq!(
        sink.records[1],
        serde_json::json!({
            "version": 3, "type": "response", "id": 50574, "flags": "81a0", "qr": true,
            "rd": true, "ra": true, "ad": true, "opcode": 0, "rcode": "NOERROR",
            "queries": [{"rrname": "catenacyber.Fr", "rrtype": "A"}],
            "answers": [{"rrname": "catenacyber.Fr", "rrtype": "A", "ttl": 3362,
                         "rdata": "188.165.53.185"}],
            "grouped": {"A": ["188.165.53.185"]},
        })
    );
}

#[test]
fn tcp_messages_split_and_joined() {
    let bytes = framed(&[QUERY, QUERY]);
    // Every split point, including inside the length prefix.
    for cut in 0..bytes.len() {
        let mut parser = DnsParser::new(L4::Tcp);
        let mut sink = Collect::default();
        parser.parse(Direction::ToServer, &bytes[..cut], &mut sink);
        parser.parse(Direction::ToServer, &bytes[cut..], &mut sink);
        assert_eq!(sink.records.len(), 2, "cut at {cut}");
        assert!(
            sink.anomalies.is_empty(),
            "cut at {cut}: {:?}",
            sink.anomalies
        );
    }
}

#[test]
fn tcp_gap_resyncs_on_a_message_boundary() {
    let mut parser = DnsParser::new(L4::Tcp);
    let mut sink = Collect::default();
    let bytes = framed(&[QUERY]);
    parser.parse(Direction::ToServer, &bytes[..10], &mut sink);
    assert_eq!(parser.gap(Direction::ToServer), ParseOutcome::Continue);
    parser.parse(Direction::ToServer, &bytes, &mut sink);
    assert_eq!(sink.records.len(), 1);
    // A gap followed by the middle of a message stops the direction.
    assert_eq!(parser.gap(Direction::ToServer), ParseOutcome::Continue);
    assert_eq!(
        parser.parse(Direction::ToServer, &bytes[7..], &mut sink),
        ParseOutcome::DoneDirection
    );
    assert_eq!(sink.anomalies, ["tcp_resync_failed"]);
}

#[test]
fn probe_and_registration() {
    use crate::applayer::detect::Probe;
    assert_eq!(super::super::DEF.name, "dns");
    assert!(super::super::DEF.ports_only);
    let probe = super::super::DEF.probe;
    assert_eq!(probe(L4::Udp, Direction::ToServer, b"x"), Probe::Certain);
    assert_eq!(probe(L4::Tcp, Direction::ToServer, b"\x00"), Probe::Unsure);
    assert_eq!(
        probe(L4::Tcp, Direction::ToServer, b"\x00\x20\x12"),
        Probe::Certain
    );
    assert_eq!(
        probe(L4::Tcp, Direction::ToServer, b"\x00\x02ab"),
        Probe::NotForUs
    );
}

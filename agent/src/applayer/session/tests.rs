//! Session behaviour with a line-oriented test protocol: detection over split bytes, transactions
//! across chunk boundaries, upgrades to another protocol, and idling on unknown traffic.

use super::*;
use crate::applayer::detect::{Probe, StreamDepth};
use crate::applayer::{AppRecord, Transaction};
use crate::observe::{Location, Observation};

/// "HELLO <name>\n" lines; "STARTTLS\n" upgrades to whatever follows.
struct Lines {
    partial: Vec<u8>,
}

struct Line<'a>(&'a str);

impl Transaction for Line<'_> {
    fn observations(&self, emit: &mut dyn FnMut(Observation<'_>)) {
        emit(Observation {
            location: Location::ConnSrc,
            value: crate::observe::ObservedValue::Domain(self.0),
        });
    }
    fn record(&self) -> AppRecord {
        AppRecord {
            app_proto: "lines",
            fields: serde_json::json!({ "name": self.0 }),
        }
    }
}

impl AppParser for Lines {
    fn app_proto(&self) -> &'static str {
        "lines"
    }
    fn parse(&mut self, _: Direction, data: &[u8], sink: &mut dyn AppSink) -> ParseOutcome {
        for (i, &byte) in data.iter().enumerate() {
            if byte != b'\n' {
                self.partial.push(byte);
                continue;
            }
            let line = String::from_utf8_lossy(&self.partial).into_owned();
            self.partial.clear();
            if line == "STARTTLS" {
                return ParseOutcome::Upgrade { consumed: i + 1 };
            }
            if let Some(name) = line.strip_prefix("HELLO ") {
                sink.transaction(&Line(name));
            }
        }
        ParseOutcome::Continue
    }
}

fn new_lines(_: L4) -> Box<dyn AppParser> {
    Box::new(Lines {
        partial: Vec::new(),
    })
}

static LINES: ProtocolDef = ProtocolDef {
    name: "lines",
    tcp_ports: &[],
    udp_ports: &[],
    ports_only: false,
    probe: |_, _, data| {
        let want = b"HELLO ";
        let n = data.len().min(want.len());
        if data[..n] != want[..n] {
            Probe::NotForUs
        } else if n < want.len() {
            Probe::Unsure
        } else {
            Probe::Certain
        }
    },
    stream_depth: StreamDepth::Configured,
    new_parser: new_lines,
};

static MAGIC: ProtocolDef = ProtocolDef {
    name: "magic",
    tcp_ports: &[],
    udp_ports: &[],
    ports_only: false,
    probe: |_, _, data| {
        if data.starts_with(b"MAGIC") {
            Probe::Certain
        } else {
            Probe::NotForUs
        }
    },
    stream_depth: StreamDepth::Configured,
    new_parser: |_| {
        Box::new(Lines {
            partial: b"HELLO ".to_vec(),
        })
    },
};

#[derive(Default)]
struct Collect {
    names: Vec<String>,
}

impl AppSink for Collect {
    fn transaction(&mut self, tx: &dyn Transaction) {
        tx.observations(&mut |obs| {
            if let crate::observe::ObservedValue::Domain(name) = obs.value {
                self.names.push(name.to_string());
            }
        });
    }
    fn anomaly(&mut self, _: &'static str, _: &'static str) {}
}

fn config() -> AppConfig {
    AppConfig {
        protocols: vec![&LINES, &MAGIC],
        ..AppConfig::default()
    }
}

#[test]
fn detection_over_split_segments_then_parsing() {
    let config = config();
    let mut session = Session::new(L4::Tcp, 40000, 7);
    let mut sink = Collect::default();
    session.tcp_segment(&config, Direction::ToServer, 0, true, None, b"", &mut sink);
    session.tcp_segment(
        &config,
        Direction::ToServer,
        1,
        false,
        None,
        b"HEL",
        &mut sink,
    );
    session.tcp_segment(
        &config,
        Direction::ToServer,
        4,
        false,
        None,
        b"LO a.example\nHELLO b.",
        &mut sink,
    );
    session.tcp_segment(
        &config,
        Direction::ToServer,
        25,
        false,
        None,
        b"example\n",
        &mut sink,
    );
    assert_eq!(session.app_proto(), Some("lines"));
    assert_eq!(sink.names, ["a.example", "b.example"]);
}

#[test]
fn upgrade_redetects_the_rest_of_the_stream() {
    let config = config();
    let mut session = Session::new(L4::Tcp, 40000, 7);
    let mut sink = Collect::default();
    let bytes = b"HELLO x.example\nSTARTTLS\nMAGICsecret.example\n";
    session.tcp_segment(
        &config,
        Direction::ToServer,
        0,
        false,
        None,
        bytes,
        &mut sink,
    );
    assert_eq!(session.app_proto(), Some("magic"));
    assert_eq!(sink.names, ["x.example", "MAGICsecret.example"]);
}

#[test]
fn unknown_traffic_goes_idle() {
    let config = config();
    let mut session = Session::new(L4::Udp, 1, 2);
    let mut sink = Collect::default();
    session.datagram(&config, Direction::ToServer, b"\x00\x01binary", &mut sink);
    assert!(session.is_idle());
    assert_eq!(session.app_proto(), None);
    session.datagram(
        &config,
        Direction::ToServer,
        b"HELLO late.example\n",
        &mut sink,
    );
    assert!(
        sink.names.is_empty(),
        "an idle session ignores later datagrams"
    );
}

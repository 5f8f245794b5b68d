//! Protocol detection: which parser a flow gets.
//!
//! Each protocol declares its usual ports and a `probe` over the first bytes of a direction.
//! Protocols whose ports match the flow are probed first, then the rest, so a protocol on an
//! unusual port is still found by content. Only [`Probe::Certain`] binds a parser; `Unsure` waits
//! for more bytes (bounded by [`MAX_PROBE_BYTES`]); when every protocol says `NotForUs`, or the
//! budget runs out, the flow is marked as unidentified and no longer inspected.

use super::{AppParser, Direction};

/// A probe's verdict on the first bytes of a direction.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Probe {
    /// This protocol, for sure.
    Certain,
    /// Could be; need more bytes.
    Unsure,
    /// Not this protocol.
    NotForUs,
}

/// Transport a protocol runs over.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum L4 {
    /// TCP (reassembled stream).
    Tcp,
    /// UDP (one datagram at a time).
    Udp,
}

/// A protocol Kordon can parse.
#[derive(Debug)]
pub struct ProtocolDef {
    /// EVE `app_proto`.
    pub name: &'static str,
    /// TCP ports it usually uses.
    pub tcp_ports: &'static [u16],
    /// UDP ports it usually uses.
    pub udp_ports: &'static [u16],
    /// Whether it is only recognised on its ports (protocols whose content has no reliable
    /// signature, such as DNS over UDP, would otherwise claim random traffic).
    pub ports_only: bool,
    /// How much of each TCP direction the parser is given.
    pub stream_depth: StreamDepth,
    /// Looks at the first bytes of a direction.
    pub probe: fn(L4, Direction, &[u8]) -> Probe,
    /// A fresh parser for a flow.
    pub new_parser: fn(L4) -> Box<dyn AppParser>,
}

/// How much of a TCP stream a protocol's parser sees.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StreamDepth {
    /// The configured depth (`--stream-depth-bytes`): enough for the hellos, requests and
    /// queries that carry indicators.
    Configured,
    /// The whole stream. For control-system protocols: their sessions are long-lived and
    /// low-volume, and every later request matters to the OT policy — a depth limit would let a
    /// write after the first kilobytes go unseen. Memory stays bounded by the reassembly
    /// buffer and the parser's own limits.
    Unlimited,
}

/// Every protocol, in probing order for flows whose ports match none.
pub static PROTOCOLS: &[&ProtocolDef] = &[
    &super::dns::DEF,
    &super::http::DEF,
    &super::modbus::PROTOCOL,
    &super::iec104::PROTOCOL,
    &super::dnp3::PROTOCOL,
    &super::s7comm::PROTOCOL,
    &super::tls::DEF,
    &super::socks::DEF,
];

/// Bytes a flow may accumulate (per direction) while every probe is `Unsure`.
pub const MAX_PROBE_BYTES: usize = 256;

/// Detection settings.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DetectConfig {
    /// Extra ports per protocol name, e.g. `("dns", 5353)`: they count as the protocol's own.
    pub extra_ports: Vec<(&'static str, u16)>,
}

impl DetectConfig {
    fn port_matches(&self, def: &ProtocolDef, l4: L4, sport: u16, dport: u16) -> bool {
        let defaults = match l4 {
            L4::Tcp => def.tcp_ports,
            L4::Udp => def.udp_ports,
        };
        let hit = |port: u16| {
            defaults.contains(&port)
                || self
                    .extra_ports
                    .iter()
                    .any(|&(name, p)| name == def.name && p == port)
        };
        hit(sport) || hit(dport)
    }
}

/// The outcome of probing.
pub enum Detection {
    /// This protocol.
    Found(&'static ProtocolDef),
    /// Wait for more bytes.
    Wait,
    /// Nothing Kordon parses.
    Unknown,
}

/// Probes `data` (the first bytes of `dir`) against every protocol.
pub fn detect(
    config: &DetectConfig,
    protocols: &[&'static ProtocolDef],
    l4: L4,
    ports: (u16, u16),
    dir: Direction,
    data: &[u8],
) -> Detection {
    let (sport, dport) = ports;
    let mut unsure = false;
    let port_first = protocols
        .iter()
        .filter(|def| config.port_matches(def, l4, sport, dport))
        .chain(
            protocols
                .iter()
                .filter(|def| !def.ports_only && !config.port_matches(def, l4, sport, dport)),
        );
    for def in port_first {
        match (def.probe)(l4, dir, data) {
            Probe::Certain => return Detection::Found(def),
            Probe::Unsure => unsure = true,
            Probe::NotForUs => {}
        }
    }
    if unsure && data.len() < MAX_PROBE_BYTES {
        Detection::Wait
    } else {
        Detection::Unknown
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::applayer::{AppSink, ParseOutcome};

    struct Null;
    impl AppParser for Null {
        fn app_proto(&self) -> &'static str {
            "null"
        }
        fn parse(&mut self, _: Direction, _: &[u8], _: &mut dyn AppSink) -> ParseOutcome {
            ParseOutcome::Done
        }
    }
    fn new_null(_: L4) -> Box<dyn AppParser> {
        Box::new(Null)
    }

    static MAGIC: ProtocolDef = ProtocolDef {
        name: "magic",
        tcp_ports: &[7000],
        udp_ports: &[],
        ports_only: false,
        probe: |_, _, data| match data {
            [b'M', b'G', ..] => Probe::Certain,
            [b'M'] | [] => Probe::Unsure,
            _ => Probe::NotForUs,
        },
        stream_depth: StreamDepth::Configured,
        new_parser: new_null,
    };
    static PORTY: ProtocolDef = ProtocolDef {
        name: "porty",
        tcp_ports: &[],
        udp_ports: &[9000],
        ports_only: true,
        probe: |_, _, _| Probe::Certain,
        stream_depth: StreamDepth::Configured,
        new_parser: new_null,
    };

    fn name(d: Detection) -> &'static str {
        match d {
            Detection::Found(def) => def.name,
            Detection::Wait => "wait",
            Detection::Unknown => "unknown",
        }
    }

    #[test]
    fn detection_cases() {
        let protocols: &[&'static ProtocolDef] = &[&MAGIC, &PORTY];
        let extra = DetectConfig {
            extra_ports: vec![("porty", 9999)],
        };
        type Case<'a> = (&'a str, &'a DetectConfig, L4, (u16, u16), &'a [u8], &'a str);
        let cases: [Case<'_>; 6] = [
            (
                "content on any port",
                &DetectConfig::default(),
                L4::Tcp,
                (1, 2),
                b"MGxx",
                "magic",
            ),
            (
                "needs more bytes",
                &DetectConfig::default(),
                L4::Tcp,
                (1, 2),
                b"M",
                "wait",
            ),
            (
                "nothing matches",
                &DetectConfig::default(),
                L4::Tcp,
                (1, 2),
                b"zz",
                "unknown",
            ),
            (
                "ports-only needs its port",
                &DetectConfig::default(),
                L4::Udp,
                (1, 2),
                b"zz",
                "unknown",
            ),
            (
                "ports-only on its port",
                &DetectConfig::default(),
                L4::Udp,
                (1, 9000),
                b"zz",
                "porty",
            ),
            (
                "configured extra port",
                &extra,
                L4::Udp,
                (9999, 2),
                b"zz",
                "porty",
            ),
        ];
        for (case, config, l4, ports, data, want) in cases {
            let got = name(detect(
                config,
                protocols,
                l4,
                ports,
                Direction::ToServer,
                data,
            ));
            assert_eq!(got, want, "{case}");
        }
    }
}

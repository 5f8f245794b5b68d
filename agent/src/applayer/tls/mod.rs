//! TLS: ClientHello and ServerHello → SNI, ALPN, versions, JA3, JA3S and JA4.
//!
//! * [`parser`]: pure, zero-copy record and hello parsing (why hand-written: see its doc);
//! * [`ja3`], [`ja4`]: the fingerprints, computed without allocating;
//! * [`state`]: the [`AppParser`](crate::applayer::AppParser) — what is reported and when;
//! * [`log`]: the EVE `tls` record.
//!
//! Locations: `tls.sni` (a domain), `tls.ja3`, `tls.ja3s`, `tls.ja4`.

pub mod ja3;
pub mod ja4;
pub mod log;
pub mod parser;
pub mod state;

use super::detect::{ProtocolDef, StreamDepth};

/// TLS as a detectable protocol: the usual TLS ports, and the content probe everywhere else
/// (TLS after a SOCKS or CONNECT preamble, or on an unusual port).
pub static DEF: ProtocolDef = ProtocolDef {
    name: "tls",
    tcp_ports: &[
        443, 465, 563, 636, 853, 989, 990, 992, 993, 994, 995, 5061, 8443,
    ],
    udp_ports: &[],
    ports_only: false,
    probe: state::probe,
    stream_depth: StreamDepth::Configured,
    new_parser: state::new_parser,
};

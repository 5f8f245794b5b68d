//! DNS over UDP and TCP (RFC 1035, RFC 7766): queries and responses, every section, with the
//! names and addresses they carry as `dns.query` and `dns.answer` observations and Suricata 8's
//! EVE `dns` record.
//!
//! Hand-written rather than a crate: the parsers available either allocate per message (owned
//! names and record vectors, e.g. `hickory-proto`, `dns-parser` returns borrowed labels but
//! fails the whole message on one bad record and has no loop or length anomalies), or stop at the
//! first malformed record where an IDS wants what came before it. Here names are decompressed
//! into a buffer the flow keeps ([`parser::Message`]), records are read in place, and every
//! problem is a counted anomaly rather than a lost message.
//!
//! Detection is by port only (`ports_only`): DNS has no magic bytes, so probing arbitrary UDP
//! would claim random traffic. Ports 53, 5353 (mDNS) and 5355 (LLMNR) by default; more with
//! `--app-port dns:PORT`. On its ports every datagram is taken as DNS, so a junk first datagram
//! costs one anomaly, not the flow.

pub mod log;
pub mod parser;
pub mod state;

use super::AppParser;
use super::Direction;
use super::detect::{L4, Probe, ProtocolDef, StreamDepth};

pub use state::DnsParser;

/// Registration for [`super::detect::PROTOCOLS`].
pub static DEF: ProtocolDef = ProtocolDef {
    name: "dns",
    tcp_ports: &[53, 5353, 5355],
    udp_ports: &[53, 5353, 5355],
    ports_only: true,
    probe,
    stream_depth: StreamDepth::Configured,
    new_parser,
};

/// On a DNS port: any datagram; a TCP stream once its length prefix announces at least a header.
fn probe(l4: L4, _dir: Direction, data: &[u8]) -> Probe {
    match l4 {
        L4::Udp => Probe::Certain,
        L4::Tcp => match data.first_chunk::<2>() {
            None => Probe::Unsure,
            Some(&len) if usize::from(u16::from_be_bytes(len)) >= parser::HEADER_LEN => {
                Probe::Certain
            }
            Some(_) => Probe::NotForUs,
        },
    }
}

fn new_parser(l4: L4) -> Box<dyn AppParser> {
    Box::new(DnsParser::new(l4))
}

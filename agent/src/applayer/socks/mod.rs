//! SOCKS4/4a/5 proxy handshakes: followed to the CONNECT reply, then the tunnelled stream is
//! handed back to detection, so TLS (or HTTP) inside a SOCKS tunnel is parsed and matched as its
//! own protocol.
//!
//! * [`parser`]: pure, zero-copy message parsing;
//! * [`state`]: the handshake state machine and the upgrade.
//!
//! SOCKS itself reports no transactions: the requested destination has no indicator location
//! yet (it would be a `socks.host`), and the tunnelled protocol reports its own.

pub mod parser;
pub mod state;

use super::detect::{ProtocolDef, StreamDepth};

/// SOCKS as a detectable protocol: port 1080 first, the content probe on any port (Tor and
/// many proxies listen elsewhere).
pub static DEF: ProtocolDef = ProtocolDef {
    name: "socks",
    tcp_ports: &[1080],
    udp_ports: &[],
    ports_only: false,
    probe: state::probe,
    stream_depth: StreamDepth::Configured,
    new_parser: state::new_parser,
};

//! DNP3 (IEEE 1815) over TCP and UDP (port 20000): link frames with CRC checks, transport
//! reassembly, application headers and object headers, request/response pairing, function
//! classes for OT policies and the `dnp3` EVE record.

pub mod log;
pub mod parser;
pub mod state;

use super::detect::{L4, Probe, ProtocolDef, StreamDepth};
use super::{AppParser, Direction};
use parser::{LINK_HEADER_LEN, START, is_link_header};

/// Bytes of non-DNP3 data (a banner, a partial frame after a mid-stream start) a probe waits
/// through looking for a frame header before giving up.
const MAX_PROBE_JUNK: usize = 64;

/// Strict probe: a link header (0x05 0x64, a length of at least 5) whose CRC is correct, at the
/// start of the data or after a little junk; the 16-bit CRC over the header makes a false match
/// on random bytes a 1-in-65536 event.
pub fn probe(_: L4, _: Direction, data: &[u8]) -> Probe {
    let header_at = |at: usize| {
        data.get(at..)
            .is_some_and(|h| is_link_header(h) && h.get(2).is_some_and(|&len| len >= 5))
    };
    if header_at(0) {
        return Probe::Certain;
    }
    if data.len() < LINK_HEADER_LEN
        && START.starts_with(data.get(..2.min(data.len())).unwrap_or_default())
    {
        return Probe::Unsure;
    }
    if (1..data.len().min(MAX_PROBE_JUNK + 1)).any(header_at) {
        return Probe::Certain;
    }
    if data.len() < MAX_PROBE_JUNK {
        Probe::Unsure
    } else {
        Probe::NotForUs
    }
}

fn new_parser(l4: L4) -> Box<dyn AppParser> {
    Box::new(state::Dnp3Parser::new(l4 == L4::Udp))
}

/// DNP3 on TCP and UDP port 20000.
pub static PROTOCOL: ProtocolDef = ProtocolDef {
    name: state::APP_PROTO,
    tcp_ports: &[20000],
    udp_ports: &[20000],
    ports_only: true,
    probe,
    stream_depth: StreamDepth::Unlimited,
    new_parser,
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn probes() {
        let request = [
            0x05, 0x64, 0x08, 0xc4, 0x0a, 0x00, 0x01, 0x00, 0xfc, 0x42, 0xc1, 0xd0, 0x00, 0xa3,
            0x50,
        ];
        assert_eq!(
            probe(L4::Tcp, Direction::ToServer, &request),
            Probe::Certain
        );
        assert_eq!(
            probe(L4::Tcp, Direction::ToServer, &request[..4]),
            Probe::Unsure
        );
        let mut junk = vec![0u8; 6];
        assert_eq!(probe(L4::Tcp, Direction::ToServer, &junk), Probe::Unsure);
        junk.extend_from_slice(&request);
        assert_eq!(probe(L4::Udp, Direction::ToServer, &junk), Probe::Certain);
        assert_eq!(
            probe(L4::Tcp, Direction::ToServer, &[0x42; 200]),
            Probe::NotForUs
        );
    }
}

//! Modbus/TCP (port 502): MBAP framing, request/response pairing, function classes for OT
//! policies and the `modbus` EVE record.

pub mod log;
pub mod parser;
pub mod state;

use super::AppParser;
use super::detect::{L4, Probe, ProtocolDef, StreamDepth};
use parser::{MAX_PDU_LEN, MBAP_LEN};

/// Strict probe: a whole-looking MBAP header with protocol id 0, a length that fits one PDU,
/// and a function code that is not 0 (in the to-server direction, not an exception either).
pub fn probe(l4: L4, dir: super::Direction, data: &[u8]) -> Probe {
    if l4 != L4::Tcp {
        return Probe::NotForUs;
    }
    if data.len() < MBAP_LEN + 1 {
        return Probe::Unsure;
    }
    let (Some(pid), Some(len), Some(&function)) = (
        crate::applayer::ot::be_u16(data, 2),
        crate::applayer::ot::be_u16(data, 4),
        data.get(MBAP_LEN),
    ) else {
        return Probe::Unsure;
    };
    let len = usize::from(len);
    let plausible = pid == 0
        && (2..=MAX_PDU_LEN + 1).contains(&len)
        && function & 0x7f != 0
        && (dir == super::Direction::ToClient || function & 0x80 == 0);
    if !plausible {
        return Probe::NotForUs;
    }
    // When the chunk holds more than this ADU, the next one must start with a plausible
    // header too; a chunk that ends exactly at the ADU's end is the common case.
    match data.len().cmp(&(6 + len)) {
        std::cmp::Ordering::Less => Probe::Unsure,
        std::cmp::Ordering::Equal => Probe::Certain,
        std::cmp::Ordering::Greater => {
            let next = data.get(6 + len..).unwrap_or_default();
            if next.len() < 6 || crate::applayer::ot::be_u16(next, 2) == Some(0) {
                Probe::Certain
            } else {
                Probe::NotForUs
            }
        }
    }
}

fn new_parser(_: L4) -> Box<dyn AppParser> {
    Box::new(state::ModbusParser::default())
}

/// Modbus/TCP on port 502.
pub static PROTOCOL: ProtocolDef = ProtocolDef {
    name: state::APP_PROTO,
    tcp_ports: &[502],
    udp_ports: &[],
    ports_only: true,
    probe,
    stream_depth: StreamDepth::Unlimited,
    new_parser,
};

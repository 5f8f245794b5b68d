//! IEC 60870-5-104 (port 2404): APCI framing, ASDU decoding, function classes for OT policies
//! and the `iec104` EVE record.

pub mod log;
pub mod parser;
pub mod state;

use super::detect::{L4, Probe, ProtocolDef, StreamDepth};
use super::{AppParser, Direction};
use parser::{MAX_APDU_LEN, MIN_APDU_LEN, START};

/// Strict probe: start byte 0x68, a length of 4–253, and a control field that is a valid S or
/// U frame (exactly one U function bit) or an I frame whose ASDU header fits the length.
pub fn probe(l4: L4, _: Direction, data: &[u8]) -> Probe {
    if l4 != L4::Tcp {
        return Probe::NotForUs;
    }
    let (Some(&start), Some(&len)) = (data.first(), data.get(1)) else {
        return if data.first().is_none_or(|&b| b == START) {
            Probe::Unsure
        } else {
            Probe::NotForUs
        };
    };
    let len = usize::from(len);
    if start != START || !(MIN_APDU_LEN..=MAX_APDU_LEN).contains(&len) {
        return Probe::NotForUs;
    }
    let Some(&c0) = data.get(2) else {
        return Probe::Unsure;
    };
    let ok = if c0 & 0x03 == 0x03 {
        len == 4 && parser::UFunction(c0).name().is_some() && c0.count_ones() == 3
    } else if c0 & 0x03 == 0x01 {
        len == 4 && c0 == 0x01
    } else {
        len >= 4 + parser::ASDU_HEADER_LEN
    };
    if !ok {
        return Probe::NotForUs;
    }
    if data.len() < 2 + len {
        return Probe::Unsure;
    }
    // A following APDU in the same chunk must start with 0x68 too.
    match data.get(2 + len) {
        None | Some(&START) => Probe::Certain,
        Some(_) => Probe::NotForUs,
    }
}

fn new_parser(_: L4) -> Box<dyn AppParser> {
    Box::new(state::Iec104Parser::default())
}

/// IEC-104 on port 2404.
pub static PROTOCOL: ProtocolDef = ProtocolDef {
    name: state::APP_PROTO,
    tcp_ports: &[2404],
    udp_ports: &[],
    ports_only: true,
    probe,
    stream_depth: StreamDepth::Unlimited,
    new_parser,
};

//! S7comm over TPKT/COTP (ISO-on-TCP, port 102): COTP TPDUs, S7 PDUs with ROSCTR, function,
//! userdata subfunction and errors, S7comm-plus detection, function classes for OT policies
//! and the `s7comm`/`cotp` EVE records.

pub mod log;
pub mod parser;
pub mod state;

use super::detect::{L4, Probe, ProtocolDef, StreamDepth};
use super::{AppParser, Direction};
use parser::{CotpType, MAX_TPKT_LEN, TPKT_LEN, TPKT_VERSION};

/// Strict probe: TPKT version 3, reserved 0, a length of 7 to [`MAX_TPKT_LEN`], and a COTP
/// header whose length indicator fits the packet and whose TPDU code is a known one.
pub fn probe(l4: L4, _: Direction, data: &[u8]) -> Probe {
    if l4 != L4::Tcp {
        return Probe::NotForUs;
    }
    match (data.first(), data.get(1)) {
        (None, _) | (Some(&TPKT_VERSION), None) => return Probe::Unsure,
        (Some(&TPKT_VERSION), Some(0)) => {}
        _ => return Probe::NotForUs,
    }
    let (Some(len), Some(&li), Some(&code)) = (
        crate::applayer::ot::be_u16(data, 2),
        data.get(TPKT_LEN),
        data.get(TPKT_LEN + 1),
    ) else {
        return Probe::Unsure;
    };
    let len = usize::from(len);
    let plausible = (TPKT_LEN + 3..=MAX_TPKT_LEN).contains(&len)
        && li != 0
        && TPKT_LEN + 1 + usize::from(li) <= len
        && CotpType(code >> 4).name().is_some();
    if plausible {
        Probe::Certain
    } else {
        Probe::NotForUs
    }
}

fn new_parser(_: L4) -> Box<dyn AppParser> {
    Box::new(state::S7Parser::default())
}

/// S7comm on port 102.
pub static PROTOCOL: ProtocolDef = ProtocolDef {
    name: state::APP_PROTO,
    tcp_ports: &[102],
    udp_ports: &[],
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
        let cr = [3, 0, 0, 0x16, 0x11, 0xe0, 0, 0];
        assert_eq!(probe(L4::Tcp, Direction::ToServer, &cr), Probe::Certain);
        assert_eq!(probe(L4::Tcp, Direction::ToServer, &cr[..3]), Probe::Unsure);
        assert_eq!(
            probe(L4::Tcp, Direction::ToServer, b"GET /"),
            Probe::NotForUs
        );
        assert_eq!(probe(L4::Udp, Direction::ToServer, &cr), Probe::NotForUs);
    }
}

//! The symmetric flow key: both directions of a conversation map to the same key.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::decode::{Decoded, Transport, proto};

/// One side of a flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Endpoint {
    /// Address.
    pub addr: IpAddr,
    /// Port, or the ICMP port equivalent (see [`icmp_port_equivalents`]); 0 when port-less.
    pub port: u16,
}

/// A direction-free flow identity: the two endpoints in sorted order, the protocol and the VLAN
/// ids, so that a request and its reply land in the same flow and on the same worker.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FlowKey {
    lo_addr: u128,
    hi_addr: u128,
    lo_port: u16,
    hi_port: u16,
    proto: u8,
    v6: bool,
    vlan: [u16; 2],
}

impl FlowKey {
    /// The key of a decoded packet, and whether the packet's source is the key's low endpoint.
    pub fn of(packet: &Decoded<'_>) -> FlowKey {
        let (sport, dport, _) = port_equivalents(packet);
        let src = (addr_bits(packet.src), sport);
        let dst = (addr_bits(packet.dst), dport);
        let (lo, hi) = if src <= dst { (src, dst) } else { (dst, src) };
        FlowKey {
            lo_addr: lo.0,
            hi_addr: hi.0,
            lo_port: lo.1,
            hi_port: hi.1,
            proto: packet.proto,
            v6: packet.src.is_ipv6(),
            vlan: packet.vlan,
        }
    }

    /// The IP protocol number.
    pub fn proto(&self) -> u8 {
        self.proto
    }

    /// Outer and inner VLAN ids (0 = none).
    pub fn vlan(&self) -> [u16; 2] {
        self.vlan
    }
}

fn addr_bits(addr: IpAddr) -> u128 {
    match addr {
        IpAddr::V4(v4) => u128::from(u32::from(v4)),
        IpAddr::V6(v6) => u128::from(v6),
    }
}

/// Rebuilds an address stored by [`addr_bits`].
pub fn bits_to_addr(bits: u128, v6: bool) -> IpAddr {
    if v6 {
        IpAddr::V6(Ipv6Addr::from(bits))
    } else {
        IpAddr::V4(Ipv4Addr::from(bits as u32))
    }
}

/// The packet's (source port, destination port, one-way) in Community ID terms: real ports for
/// TCP/UDP/SCTP, ICMP type and counterpart type (or code) for ICMP, zeros otherwise.
pub fn port_equivalents(packet: &Decoded<'_>) -> (u16, u16, bool) {
    match packet.transport {
        Transport::Ports { src, dst } => (src, dst, false),
        Transport::Icmp { icmp_type, code } => {
            icmp_port_equivalents(packet.proto == proto::ICMPV6, icmp_type, code)
        }
        Transport::None => (0, 0, false),
    }
}

/// ICMP messages that come in request/response pairs map to (type, counterpart type) so that both
/// halves share a flow; all others map to (type, code) and are one-way (Zeek's mapping, which
/// Community ID adopted).
pub fn icmp_port_equivalents(v6: bool, icmp_type: u8, code: u8) -> (u16, u16, bool) {
    let counterpart = if v6 {
        match icmp_type {
            128 => Some(129),
            129 => Some(128),
            133 => Some(134),
            134 => Some(133),
            135 => Some(136),
            136 => Some(135),
            130 => Some(131),
            131 => Some(130),
            139 => Some(140),
            140 => Some(139),
            144 => Some(145),
            145 => Some(144),
            _ => None,
        }
    } else {
        match icmp_type {
            8 => Some(0),
            0 => Some(8),
            13 => Some(14),
            14 => Some(13),
            15 => Some(16),
            16 => Some(15),
            10 => Some(9),
            9 => Some(10),
            17 => Some(18),
            18 => Some(17),
            _ => None,
        }
    };
    match counterpart {
        Some(other) => (u16::from(icmp_type), other, false),
        None => (u16::from(icmp_type), u16::from(code), true),
    }
}

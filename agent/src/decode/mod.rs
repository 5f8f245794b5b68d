//! Packet decoding: link layer, IPv4/IPv6 (with extension headers), TCP, UDP, ICMP, ICMPv6.
//!
//! The link layers etherparse does not know (BSD loopback, Linux SLL/SLL2, PPP, Cisco HDLC) are
//! peeled here by hand because each is a fixed header of a few bytes; everything from the
//! ether type or IP header down is etherparse's lax slicer, which tolerates truncated captures
//! (snaplen) and length fields that disagree with the bytes. Checksums are never validated: many
//! captures carry offloaded checksums and the reference tools run with validation off.
//!
//! Decoding borrows the packet bytes and never allocates, so it is safe on the hot path.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use etherparse::{
    EtherType, Icmpv4Slice, Icmpv6Slice, IpNumber, LaxIpPayloadSlice, LaxNetSlice, LaxSlicedPacket,
    TcpSlice, TransportSlice, UdpSlice,
};

/// A libpcap link-layer header type (`LINKTYPE_*`), as a newtype so unknown values still flow
/// through the pipeline and are reported rather than rejected at the type level.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LinkType(pub u16);

impl LinkType {
    /// BSD loopback: a 4-byte address family in the capturing host's byte order.
    pub const NULL: LinkType = LinkType(0);
    /// Ethernet II, with 802.1Q/802.1ad tags handled below.
    pub const ETHERNET: LinkType = LinkType(1);
    /// PPP in HDLC-like framing (RFC 1662) or bare PPP protocol field.
    pub const PPP: LinkType = LinkType(9);
    /// Raw IP (the generic value written by most tools).
    pub const RAW: LinkType = LinkType(101);
    /// Cisco HDLC: address, control, then an ether type.
    pub const C_HDLC: LinkType = LinkType(104);
    /// OpenBSD loopback: like [`LinkType::NULL`] but the family is in network byte order.
    pub const LOOP: LinkType = LinkType(108);
    /// Linux "cooked" capture v1 (`any` interface).
    pub const LINUX_SLL: LinkType = LinkType(113);
    /// Raw IPv4 only.
    pub const IPV4: LinkType = LinkType(228);
    /// Raw IPv6 only.
    pub const IPV6: LinkType = LinkType(229);
    /// Linux "cooked" capture v2.
    pub const LINUX_SLL2: LinkType = LinkType(276);

    /// Whether [`decode`] understands this link type; captures with other types are reported and
    /// skipped as a whole rather than counted packet by packet as errors.
    pub fn is_supported(self) -> bool {
        matches!(
            self,
            LinkType::NULL
                | LinkType::ETHERNET
                | LinkType::PPP
                | LinkType::RAW
                | LinkType::C_HDLC
                | LinkType::LOOP
                | LinkType::LINUX_SLL
                | LinkType::IPV4
                | LinkType::IPV6
                | LinkType::LINUX_SLL2
        )
    }

    /// Maps the value libpcap reports for a capture. libpcap reports its platform's `DLT_*`
    /// value, which for raw IP is 12 (14 on OpenBSD) rather than the file's `LINKTYPE_RAW` (101);
    /// both mean the same thing here. Values that do not fit are mapped to an unsupported value.
    pub fn from_pcap(value: i32) -> LinkType {
        match value {
            12 | 14 => LinkType::RAW,
            other => LinkType(u16::try_from(other).unwrap_or(u16::MAX)),
        }
    }
}

/// Why a packet could not be decoded far enough to be tracked, counted per kind in the stats.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DecodeError {
    /// The link-layer header is cut short.
    LinkTruncated,
    /// A link type this decoder does not know.
    UnsupportedLink,
    /// The IP header is missing, cut short or malformed.
    IpInvalid,
    /// The transport header is cut short or malformed.
    TransportInvalid,
}

impl DecodeError {
    /// Every kind, for stats output in a stable order.
    pub const ALL: [DecodeError; 4] = [
        DecodeError::LinkTruncated,
        DecodeError::UnsupportedLink,
        DecodeError::IpInvalid,
        DecodeError::TransportInvalid,
    ];

    /// Stable snake_case name for stats and logs.
    pub fn as_str(self) -> &'static str {
        match self {
            DecodeError::LinkTruncated => "link_truncated",
            DecodeError::UnsupportedLink => "unsupported_link",
            DecodeError::IpInvalid => "ip_invalid",
            DecodeError::TransportInvalid => "transport_invalid",
        }
    }

    /// Index into per-kind counter arrays.
    pub fn index(self) -> usize {
        self as usize
    }
}

/// IP protocol numbers the pipeline treats specially.
pub mod proto {
    /// ICMP.
    pub const ICMP: u8 = 1;
    /// TCP.
    pub const TCP: u8 = 6;
    /// UDP.
    pub const UDP: u8 = 17;
    /// ICMPv6.
    pub const ICMPV6: u8 = 58;
    /// SCTP.
    pub const SCTP: u8 = 132;
}

/// TCP flag bits as they appear in the header's 13th byte.
pub mod tcp_flags {
    /// FIN.
    pub const FIN: u8 = 0x01;
    /// SYN.
    pub const SYN: u8 = 0x02;
    /// RST.
    pub const RST: u8 = 0x04;
    /// ACK.
    pub const ACK: u8 = 0x10;
}

/// What the transport layer carried, as far as flows and observations need it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    /// TCP or UDP or SCTP ports (SCTP's common header starts with the two ports).
    Ports {
        /// Source port.
        src: u16,
        /// Destination port.
        dst: u16,
    },
    /// ICMP or ICMPv6 type and code.
    Icmp {
        /// Message type.
        icmp_type: u8,
        /// Message code.
        code: u8,
    },
    /// A protocol without ports, or a non-first IP fragment.
    None,
}

/// A decoded packet, borrowing its bytes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decoded<'a> {
    /// Source address.
    pub src: IpAddr,
    /// Destination address.
    pub dst: IpAddr,
    /// IP protocol number of the transport (after IPv6 extension headers).
    pub proto: u8,
    /// Ports or ICMP type/code.
    pub transport: Transport,
    /// TCP flags (0 for other protocols).
    pub tcp_flags: u8,
    /// TCP sequence number (0 for other protocols).
    pub tcp_seq: u32,
    /// TCP acknowledgment number (0 for other protocols; meaningful with the ACK flag).
    pub tcp_ack: u32,
    /// Outer and inner VLAN ids, 0 when absent.
    pub vlan: [u16; 2],
    /// Whether this is an IP fragment (first or later).
    pub fragment: bool,
    /// Transport payload (application bytes), possibly truncated by the snap length.
    pub payload: &'a [u8],
}

/// The result of decoding one frame: an IP packet, or a frame without IP (ARP, LLDP…) that is
/// counted but carries nothing to match.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Frame<'a> {
    /// An IP packet.
    Ip(Decoded<'a>),
    /// A well-formed frame that does not carry IP.
    NonIp,
}

/// Decodes one frame of the given link type. Tunnels (GRE and ERSPAN, VXLAN, GENEVE, Teredo,
/// IP-in-IP) are followed: the packet returned is the innermost one, which is the conversation
/// an analyst cares about; an inner packet that does not decode leaves the outer one in place.
pub fn decode(link: LinkType, data: &[u8]) -> Result<Frame<'_>, DecodeError> {
    let frame = decode_link(link, data)?;
    Ok(match frame {
        Frame::Ip(outer) => Frame::Ip(tunnel::innermost(outer)),
        other => other,
    })
}

/// Decodes one frame without following tunnels.
fn decode_link(link: LinkType, data: &[u8]) -> Result<Frame<'_>, DecodeError> {
    match link {
        LinkType::ETHERNET => {
            let sliced =
                LaxSlicedPacket::from_ethernet(data).map_err(|_| DecodeError::LinkTruncated)?;
            from_sliced(sliced)
        }
        LinkType::RAW | LinkType::IPV4 | LinkType::IPV6 => from_ip(data),
        LinkType::NULL | LinkType::LOOP => {
            let family = data.get(..4).ok_or(DecodeError::LinkTruncated)?;
            let family = [family[0], family[1], family[2], family[3]];
            // NULL stores the family in the capturing host's byte order, which a reader cannot
            // know: both orders are tried, as libpcap's own filters do.
            let value = if link == LinkType::LOOP {
                u32::from_be_bytes(family)
            } else if u32::from_le_bytes(family) < 0x10000 {
                u32::from_le_bytes(family)
            } else {
                u32::from_be_bytes(family)
            };
            match value {
                // AF_INET; AF_INET6 differs across BSDs (24, 28, 30) and Linux (10).
                2 | 10 | 24 | 28 | 30 => from_ip(&data[4..]),
                _ => Ok(Frame::NonIp),
            }
        }
        LinkType::LINUX_SLL => {
            let header = data.get(..16).ok_or(DecodeError::LinkTruncated)?;
            from_ether_type(u16::from_be_bytes([header[14], header[15]]), &data[16..])
        }
        LinkType::LINUX_SLL2 => {
            let header = data.get(..20).ok_or(DecodeError::LinkTruncated)?;
            from_ether_type(u16::from_be_bytes([header[0], header[1]]), &data[20..])
        }
        LinkType::C_HDLC => {
            let header = data.get(..4).ok_or(DecodeError::LinkTruncated)?;
            from_ether_type(u16::from_be_bytes([header[2], header[3]]), &data[4..])
        }
        LinkType::PPP => {
            // RFC 1662 framing starts with address 0xff, control 0x03; bare PPP does not.
            let rest = match data {
                [0xff, 0x03, rest @ ..] => rest,
                rest => rest,
            };
            let header = rest.get(..2).ok_or(DecodeError::LinkTruncated)?;
            match u16::from_be_bytes([header[0], header[1]]) {
                0x0021 => from_ip(&rest[2..]),
                0x0057 => from_ip(&rest[2..]),
                _ => Ok(Frame::NonIp),
            }
        }
        _ => Err(DecodeError::UnsupportedLink),
    }
}

fn from_ether_type(ether_type: u16, data: &[u8]) -> Result<Frame<'_>, DecodeError> {
    from_sliced(LaxSlicedPacket::from_ether_type(
        EtherType(ether_type),
        data,
    ))
}

fn from_ip(data: &[u8]) -> Result<Frame<'_>, DecodeError> {
    match LaxSlicedPacket::from_ip(data) {
        Ok(sliced) => from_sliced(sliced),
        Err(_) => Err(DecodeError::IpInvalid),
    }
}

fn from_sliced(sliced: LaxSlicedPacket<'_>) -> Result<Frame<'_>, DecodeError> {
    let vlan = vlan_ids(&sliced);
    let (src, dst, payload) = match &sliced.net {
        Some(LaxNetSlice::Ipv4(v4)) => {
            let header = v4.header();
            (
                IpAddr::V4(Ipv4Addr::from(header.source())),
                IpAddr::V4(Ipv4Addr::from(header.destination())),
                v4.payload(),
            )
        }
        Some(LaxNetSlice::Ipv6(v6)) => {
            let header = v6.header();
            (
                IpAddr::V6(Ipv6Addr::from(header.source())),
                IpAddr::V6(Ipv6Addr::from(header.destination())),
                v6.payload(),
            )
        }
        Some(LaxNetSlice::Arp(_)) => return Ok(Frame::NonIp),
        None => {
            return match sliced.stop_err {
                // The link layer parsed but the ether type announced IP that did not parse.
                Some(_) => Err(DecodeError::IpInvalid),
                None => Ok(Frame::NonIp),
            };
        }
    };
    let proto = payload.ip_number.0;
    let fragment = payload.fragmented;
    let (transport, tcp_flags, app) = match &sliced.transport {
        Some(t) => transport_of(t),
        None if fragment && is_first_fragment(&sliced) => transport_from_bytes(payload)?,
        None if !fragment && has_ports_or_icmp(proto) => {
            return Err(DecodeError::TransportInvalid);
        }
        None if !fragment && proto == proto::SCTP => sctp_ports(payload.payload)?,
        // Protocols without a transport parser (GRE, IP-in-IP…) expose the IP payload, which
        // tunnel decapsulation reads.
        None if !fragment => (Transport::None, 0, payload.payload),
        None => (Transport::None, 0, &[][..]),
    };
    let (tcp_seq, tcp_ack) = match (proto, payload.payload) {
        (proto::TCP, [_, _, _, _, s0, s1, s2, s3, a0, a1, a2, a3, ..]) => (
            u32::from_be_bytes([*s0, *s1, *s2, *s3]),
            u32::from_be_bytes([*a0, *a1, *a2, *a3]),
        ),
        _ => (0, 0),
    };
    Ok(Frame::Ip(Decoded {
        src,
        dst,
        proto,
        transport,
        tcp_flags,
        tcp_seq,
        tcp_ack,
        vlan,
        fragment,
        payload: app,
    }))
}

fn has_ports_or_icmp(proto: u8) -> bool {
    matches!(proto, proto::TCP | proto::UDP | proto::ICMP | proto::ICMPV6)
}

fn vlan_ids(sliced: &LaxSlicedPacket<'_>) -> [u16; 2] {
    let mut ids = [0u16; 2];
    let vlans = sliced.link_exts.iter().filter_map(|ext| match ext {
        etherparse::LaxLinkExtSlice::Vlan(v) => Some(v.vlan_identifier().value()),
        _ => None,
    });
    for (slot, id) in ids.iter_mut().zip(vlans) {
        *slot = id;
    }
    ids
}

/// A first fragment (offset 0) still carries the transport header, which etherparse does not
/// parse for fragmented payloads; later fragments carry none.
fn is_first_fragment(sliced: &LaxSlicedPacket<'_>) -> bool {
    match &sliced.net {
        Some(LaxNetSlice::Ipv4(v4)) => v4.header().fragments_offset().value() == 0,
        Some(LaxNetSlice::Ipv6(v6)) => ipv6_fragment_offset(v6) == Some(0),
        _ => false,
    }
}

fn ipv6_fragment_offset(v6: &etherparse::LaxIpv6Slice<'_>) -> Option<u16> {
    v6.extensions()
        .clone()
        .into_iter()
        .find_map(|ext| match ext {
            etherparse::Ipv6ExtensionSlice::Fragment(frag) => Some(frag.fragment_offset().value()),
            _ => None,
        })
}

fn transport_of<'a>(t: &TransportSlice<'a>) -> (Transport, u8, &'a [u8]) {
    match t {
        TransportSlice::Tcp(tcp) => (
            Transport::Ports {
                src: tcp.source_port(),
                dst: tcp.destination_port(),
            },
            tcp_flag_byte(tcp),
            tcp.payload(),
        ),
        TransportSlice::Udp(udp) => (
            Transport::Ports {
                src: udp.source_port(),
                dst: udp.destination_port(),
            },
            0,
            udp.payload(),
        ),
        TransportSlice::Icmpv4(icmp) => (
            Transport::Icmp {
                icmp_type: icmp.type_u8(),
                code: icmp.code_u8(),
            },
            0,
            icmp.payload(),
        ),
        TransportSlice::Icmpv6(icmp) => (
            Transport::Icmp {
                icmp_type: icmp.type_u8(),
                code: icmp.code_u8(),
            },
            0,
            icmp.payload(),
        ),
        TransportSlice::Igmp(_) => (Transport::None, 0, &[]),
    }
}

fn tcp_flag_byte(tcp: &TcpSlice<'_>) -> u8 {
    // The flags byte is the 14th of the header; TcpSlice guarantees a full 20-byte header.
    tcp.header_slice().get(13).copied().unwrap_or(0)
}

type TransportParts<'a> = (Transport, u8, &'a [u8]);

fn transport_from_bytes<'a>(
    payload: &LaxIpPayloadSlice<'a>,
) -> Result<TransportParts<'a>, DecodeError> {
    let bytes = payload.payload;
    fn bad<E>(_: E) -> DecodeError {
        DecodeError::TransportInvalid
    }
    Ok(match payload.ip_number {
        IpNumber::TCP => {
            let tcp = TcpSlice::from_slice(bytes).map_err(bad)?;
            transport_of(&TransportSlice::Tcp(tcp))
        }
        IpNumber::UDP => {
            let udp = UdpSlice::from_slice_lax(bytes).map_err(bad)?;
            transport_of(&TransportSlice::Udp(udp))
        }
        IpNumber::ICMP => {
            let icmp = Icmpv4Slice::from_slice(bytes).map_err(bad)?;
            transport_of(&TransportSlice::Icmpv4(icmp))
        }
        IpNumber::IPV6_ICMP => {
            let icmp = Icmpv6Slice::from_slice(bytes).map_err(bad)?;
            transport_of(&TransportSlice::Icmpv6(icmp))
        }
        IpNumber(proto::SCTP) => sctp_ports(bytes)?,
        _ => (Transport::None, 0, &[][..]),
    })
}

fn sctp_ports(bytes: &[u8]) -> Result<TransportParts<'_>, DecodeError> {
    // SCTP common header (RFC 9260 §3.1): source port, destination port, tag, checksum.
    match bytes {
        [s0, s1, d0, d1, _, _, _, _, _, _, _, _, rest @ ..] => Ok((
            Transport::Ports {
                src: u16::from_be_bytes([*s0, *s1]),
                dst: u16::from_be_bytes([*d0, *d1]),
            },
            0,
            rest,
        )),
        _ => Err(DecodeError::TransportInvalid),
    }
}

mod tunnel;

#[cfg(test)]
mod tests;

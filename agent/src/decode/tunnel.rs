//! Tunnel decapsulation: GRE (with ERSPAN types I–III and transparent Ethernet bridging), VXLAN,
//! GENEVE, Teredo and IP-in-IP. Monitoring ports often deliver traffic this way (ERSPAN from a
//! remote switch, VXLAN overlays), and the inner flow is the one indicators are about.
//!
//! Every header length is checked before slicing; nesting is capped by [`MAX_DEPTH`].

use super::{Decoded, Frame, LinkType, Transport, decode_link, from_ether_type, from_ip, proto};

/// Nested tunnels followed at most (e.g. ERSPAN carrying VXLAN carrying GRE).
const MAX_DEPTH: u8 = 4;

/// VXLAN's IANA port (RFC 7348).
const VXLAN_PORT: u16 = 4789;
/// GENEVE's IANA port (RFC 8926).
const GENEVE_PORT: u16 = 6081;
/// Teredo's IANA port (RFC 4380).
const TEREDO_PORT: u16 = 3544;

const IPPROTO_GRE: u8 = 47;
const IPPROTO_IPIP: u8 = 4;
const IPPROTO_IPV6: u8 = 41;

const ETHERTYPE_TEB: u16 = 0x6558;
const ETHERTYPE_ERSPAN_II: u16 = 0x88be;
const ETHERTYPE_ERSPAN_III: u16 = 0x22eb;

/// What a tunnel header says follows it.
enum Inner<'a> {
    Ethernet(&'a [u8]),
    EtherType(u16, &'a [u8]),
    Ip(&'a [u8]),
}

/// Follows tunnels from `outer` down to the innermost decodable packet.
pub(super) fn innermost(outer: Decoded<'_>) -> Decoded<'_> {
    let mut packet = outer;
    for _ in 0..MAX_DEPTH {
        let Some(inner) = payload_of(&packet) else {
            break;
        };
        let decoded = match inner {
            Inner::Ethernet(bytes) => decode_link(LinkType::ETHERNET, bytes),
            Inner::EtherType(ether_type, bytes) => from_ether_type(ether_type, bytes),
            Inner::Ip(bytes) => from_ip(bytes),
        };
        match decoded {
            Ok(Frame::Ip(inner)) => packet = inner,
            _ => break,
        }
    }
    packet
}

fn payload_of<'a>(packet: &Decoded<'a>) -> Option<Inner<'a>> {
    if packet.fragment {
        return None;
    }
    match (packet.proto, packet.transport) {
        (IPPROTO_GRE, _) => gre(packet.payload),
        (IPPROTO_IPIP | IPPROTO_IPV6, _) => Some(Inner::Ip(packet.payload)),
        (proto::UDP, Transport::Ports { src, dst }) => {
            let on = |port| src == port || dst == port;
            if on(VXLAN_PORT) {
                vxlan(packet.payload)
            } else if on(GENEVE_PORT) {
                geneve(packet.payload)
            } else if on(TEREDO_PORT) {
                teredo(packet.payload)
            } else {
                None
            }
        }
        _ => None,
    }
}

/// GRE (RFC 2784/2890): flags and version, protocol type, then optional checksum, key and
/// sequence words. Version 1 (PPTP's enhanced GRE) carries PPP and is not followed.
fn gre(bytes: &[u8]) -> Option<Inner<'_>> {
    let [f0, f1, p0, p1, rest @ ..] = bytes else {
        return None;
    };
    if f1 & 0x07 != 0 {
        return None;
    }
    let has_checksum = f0 & 0x80 != 0;
    let has_key = f0 & 0x20 != 0;
    let has_sequence = f0 & 0x10 != 0;
    let options =
        4 * (usize::from(has_checksum) + usize::from(has_key) + usize::from(has_sequence));
    let body = rest.get(options..)?;
    match u16::from_be_bytes([*p0, *p1]) {
        ETHERTYPE_TEB => Some(Inner::Ethernet(body)),
        // ERSPAN type I has no header of its own (and no sequence number); type II an 8-byte one.
        ETHERTYPE_ERSPAN_II if !has_sequence => Some(Inner::Ethernet(body)),
        ETHERTYPE_ERSPAN_II => Some(Inner::Ethernet(body.get(8..)?)),
        ETHERTYPE_ERSPAN_III => {
            // 12-byte header; the O flag (last bit of the 12th byte) adds an 8-byte subheader.
            let header = body.get(..12)?;
            let optional = if header.get(11).is_some_and(|b| b & 0x01 != 0) {
                8
            } else {
                0
            };
            Some(Inner::Ethernet(body.get(12 + optional..)?))
        }
        ether_type => Some(Inner::EtherType(ether_type, body)),
    }
}

/// VXLAN (RFC 7348): 8-byte header with the I flag set, then an Ethernet frame.
fn vxlan(bytes: &[u8]) -> Option<Inner<'_>> {
    let header = bytes.get(..8)?;
    (header.first()? & 0x08 != 0).then(|| Inner::Ethernet(&bytes[8..]))
}

/// GENEVE (RFC 8926): version 0, option length in 4-byte words, protocol type.
fn geneve(bytes: &[u8]) -> Option<Inner<'_>> {
    let [first, _, p0, p1, ..] = bytes else {
        return None;
    };
    if first >> 6 != 0 {
        return None;
    }
    let header_len = 8 + 4 * usize::from(first & 0x3f);
    let body = bytes.get(header_len..)?;
    match u16::from_be_bytes([*p0, *p1]) {
        ETHERTYPE_TEB => Some(Inner::Ethernet(body)),
        ether_type => Some(Inner::EtherType(ether_type, body)),
    }
}

/// Teredo (RFC 4380): an IPv6 packet in UDP, possibly after an authentication indicator
/// (`00 01`, variable) and/or an origin indicator (`00 00`, 8 bytes).
fn teredo(bytes: &[u8]) -> Option<Inner<'_>> {
    let mut rest = bytes;
    if let [0x00, 0x01, id_len, auth_len, ..] = rest {
        let skip = 4 + usize::from(*id_len) + usize::from(*auth_len) + 9;
        rest = rest.get(skip..)?;
    }
    if let [0x00, 0x00, ..] = rest {
        rest = rest.get(8..)?;
    }
    (rest.first()? >> 4 == 6).then_some(Inner::Ip(rest))
}

#[cfg(test)]
mod tests {
    use etherparse::PacketBuilder;

    use super::super::{Frame, LinkType, Transport, decode};

    const MAC: [u8; 6] = [2, 0, 0, 0, 0, 9];

    /// An inner Ethernet/IPv4/TCP frame from 10.9.9.1:1234 to 10.9.9.2:443.
    fn inner_ethernet() -> Vec<u8> {
        let mut out = Vec::new();
        PacketBuilder::ethernet2(MAC, MAC)
            .ipv4([10, 9, 9, 1], [10, 9, 9, 2], 64)
            .tcp(1234, 443, 1, 1024)
            .write(&mut out, b"inner")
            .expect("build");
        out
    }

    fn inner_ip() -> Vec<u8> {
        inner_ethernet()[14..].to_vec()
    }

    fn outer_udp(port: u16, payload: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        PacketBuilder::ethernet2(MAC, MAC)
            .ipv4([192, 0, 2, 1], [192, 0, 2, 2], 64)
            .udp(50000, port)
            .write(&mut out, payload)
            .expect("build");
        out
    }

    fn outer_ip_proto(proto: u8, payload: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        PacketBuilder::ethernet2(MAC, MAC)
            .ipv4([192, 0, 2, 1], [192, 0, 2, 2], 64)
            .write(&mut out, etherparse::IpNumber(proto), payload)
            .expect("build");
        out
    }

    fn cat(parts: &[&[u8]]) -> Vec<u8> {
        parts.concat()
    }

    fn inner_ports(frame: &[u8]) -> Option<(String, Transport)> {
        match decode(LinkType::ETHERNET, frame) {
            Ok(Frame::Ip(p)) => Some((p.src.to_string(), p.transport)),
            _ => None,
        }
    }

    #[test]
    fn tunnels_are_followed_to_the_inner_flow() {
        let eth = inner_ethernet();
        let ip = inner_ip();
        let cases: Vec<(&str, Vec<u8>)> = vec![
            (
                "vxlan",
                outer_udp(4789, &cat(&[&[0x08, 0, 0, 0, 0, 0, 1, 0], &eth])),
            ),
            (
                "geneve ethernet",
                outer_udp(6081, &cat(&[&[0, 0, 0x65, 0x58, 0, 0, 1, 0], &eth])),
            ),
            (
                "geneve with options",
                outer_udp(
                    6081,
                    &cat(&[&[0x01, 0, 0x65, 0x58, 0, 0, 1, 0], &[0; 4], &eth]),
                ),
            ),
            (
                "gre ipv4",
                outer_ip_proto(47, &cat(&[&[0, 0, 0x08, 0x00], &ip])),
            ),
            (
                "gre with key",
                outer_ip_proto(47, &cat(&[&[0x20, 0, 0x08, 0x00], &[0; 4], &ip])),
            ),
            (
                "gre bridged ethernet",
                outer_ip_proto(47, &cat(&[&[0, 0, 0x65, 0x58], &eth])),
            ),
            (
                "erspan type ii",
                outer_ip_proto(
                    47,
                    &cat(&[
                        &[0x10, 0, 0x88, 0xbe],
                        &[0; 4],
                        &[0x10, 0, 0, 1, 0, 0, 0, 0],
                        &eth,
                    ]),
                ),
            ),
            (
                "erspan type i",
                outer_ip_proto(47, &cat(&[&[0, 0, 0x88, 0xbe], &eth])),
            ),
            (
                "erspan type iii",
                outer_ip_proto(47, &cat(&[&[0x10, 0, 0x22, 0xeb], &[0; 4], &[0; 12], &eth])),
            ),
            ("ip in ip", outer_ip_proto(4, &ip)),
        ];
        for (name, frame) in cases {
            let got = inner_ports(&frame);
            assert_eq!(
                got,
                Some((
                    "10.9.9.1".to_string(),
                    Transport::Ports {
                        src: 1234,
                        dst: 443
                    }
                )),
                "{name}"
            );
        }
    }

    #[test]
    fn broken_inner_leaves_the_outer_packet() {
        let cases: Vec<(&str, Vec<u8>)> = vec![
            (
                "vxlan without I flag",
                outer_udp(4789, &cat(&[&[0; 8], &inner_ethernet()])),
            ),
            ("vxlan short", outer_udp(4789, &[0x08, 0, 0])),
            (
                "gre version 1",
                outer_ip_proto(47, &cat(&[&[0x30, 0x01, 0x88, 0x0b], &[0; 8]])),
            ),
            (
                "gre truncated options",
                outer_ip_proto(47, &[0xb0, 0, 0x08, 0x00, 0]),
            ),
            (
                "geneve bad version",
                outer_udp(
                    6081,
                    &cat(&[&[0xc0, 0, 0x65, 0x58, 0, 0, 0, 0], &inner_ethernet()]),
                ),
            ),
            ("teredo garbage", outer_udp(3544, &[0x00, 0x01, 0xff, 0xff])),
        ];
        for (name, frame) in cases {
            let got = inner_ports(&frame).map(|(src, _)| src);
            assert_eq!(got.as_deref(), Some("192.0.2.1"), "{name}");
        }
    }
}

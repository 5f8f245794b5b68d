//! Table-driven decoder tests over frames built with etherparse's `PacketBuilder` plus hand-made
//! link headers for the link types the builder does not write.

use std::net::IpAddr;

use etherparse::{PacketBuilder, VlanId};

use super::*;

const MAC_A: [u8; 6] = [2, 0, 0, 0, 0, 1];
const MAC_B: [u8; 6] = [2, 0, 0, 0, 0, 2];

fn tcp_v4_eth(payload: &[u8]) -> Vec<u8> {
    let builder = PacketBuilder::ethernet2(MAC_A, MAC_B)
        .ipv4([192, 0, 2, 1], [198, 51, 100, 2], 64)
        .tcp(40000, 443, 1, 1024)
        .syn();
    let mut out = Vec::new();
    builder.write(&mut out, payload).expect("write");
    out
}

fn udp_v6_eth() -> Vec<u8> {
    let builder = PacketBuilder::ethernet2(MAC_A, MAC_B)
        .ipv6(
            [0x20, 1, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
            [0x20, 1, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2],
            64,
        )
        .udp(5353, 53);
    let mut out = Vec::new();
    builder.write(&mut out, b"dns").expect("write");
    out
}

fn vlan_udp(double: bool) -> Vec<u8> {
    let step = PacketBuilder::ethernet2(MAC_A, MAC_B);
    let mut out = Vec::new();
    if double {
        step.double_vlan(VlanId::try_new(100).unwrap(), VlanId::try_new(200).unwrap())
            .ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64)
            .udp(1000, 2000)
            .write(&mut out, b"x")
            .expect("write");
    } else {
        step.single_vlan(VlanId::try_new(42).unwrap())
            .ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64)
            .udp(1000, 2000)
            .write(&mut out, b"x")
            .expect("write");
    }
    out
}

fn icmp_echo_v4() -> Vec<u8> {
    let mut out = Vec::new();
    PacketBuilder::ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64)
        .icmpv4_echo_request(7, 1)
        .write(&mut out, b"ping")
        .expect("write");
    out
}

fn icmp_echo_v6() -> Vec<u8> {
    let mut out = Vec::new();
    PacketBuilder::ipv6(
        [0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
        [0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2],
        64,
    )
    .icmpv6_echo_request(7, 1)
    .write(&mut out, b"ping")
    .expect("write");
    out
}

/// The IP part of [`tcp_v4_eth`], for link types that carry bare IP.
fn tcp_v4_ip() -> Vec<u8> {
    tcp_v4_eth(b"hello")[14..].to_vec()
}

fn with_prefix(prefix: &[u8], ip: &[u8]) -> Vec<u8> {
    let mut out = prefix.to_vec();
    out.extend_from_slice(ip);
    out
}

fn sll_header(ether_type: u16) -> Vec<u8> {
    let mut h = vec![0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0];
    h.extend_from_slice(&ether_type.to_be_bytes());
    h
}

fn sll2_header(ether_type: u16) -> Vec<u8> {
    let mut h = ether_type.to_be_bytes().to_vec();
    h.extend_from_slice(&[0, 0, 0, 0, 0, 2, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0]);
    h
}

/// A first and a later IPv4 fragment of a UDP datagram.
fn fragments() -> (Vec<u8>, Vec<u8>) {
    let whole = {
        let mut out = Vec::new();
        PacketBuilder::ipv4([10, 0, 0, 1], [10, 0, 0, 2], 64)
            .udp(1111, 2222)
            .write(&mut out, &[0u8; 32])
            .expect("write");
        out
    };
    let mut first = whole.clone();
    first[6] = 0x20; // MF set, offset 0
    let mut later = whole[..20].to_vec();
    later.extend_from_slice(&[0u8; 16]);
    later[6] = 0x00;
    later[7] = 0x05; // offset 5 * 8 = 40 bytes
    (first, later)
}

struct Expect {
    src: &'static str,
    dst: &'static str,
    proto: u8,
    transport: Transport,
    vlan: [u16; 2],
    fragment: bool,
}

fn check(name: &str, link: LinkType, frame: &[u8], want: Expect) {
    let Ok(Frame::Ip(packet)) = decode(link, frame) else {
        panic!(
            "{name}: expected an IP packet, got {:?}",
            decode(link, frame)
        );
    };
    assert_eq!(
        packet.src,
        want.src.parse::<IpAddr>().unwrap(),
        "{name} src"
    );
    assert_eq!(
        packet.dst,
        want.dst.parse::<IpAddr>().unwrap(),
        "{name} dst"
    );
    assert_eq!(packet.proto, want.proto, "{name} proto");
    assert_eq!(packet.transport, want.transport, "{name} transport");
    assert_eq!(packet.vlan, want.vlan, "{name} vlan");
    assert_eq!(packet.fragment, want.fragment, "{name} fragment");
}

const TCP_PORTS: Transport = Transport::Ports {
    src: 40000,
    dst: 443,
};

#[test]
fn link_types_and_layers() {
    let ip = tcp_v4_ip();
    let tcp = || Expect {
        src: "192.0.2.1",
        dst: "198.51.100.2",
        proto: proto::TCP,
        transport: TCP_PORTS,
        vlan: [0, 0],
        fragment: false,
    };
    let udp_vlan = |vlan| Expect {
        src: "10.0.0.1",
        dst: "10.0.0.2",
        proto: proto::UDP,
        transport: Transport::Ports {
            src: 1000,
            dst: 2000,
        },
        vlan,
        fragment: false,
    };
    let (first_fragment, _) = fragments();
    let cases: Vec<(&str, LinkType, Vec<u8>, Expect)> = vec![
        ("ethernet tcp", LinkType::ETHERNET, tcp_v4_eth(b"x"), tcp()),
        ("raw ip", LinkType::RAW, ip.clone(), tcp()),
        ("raw ipv4 (228)", LinkType::IPV4, ip.clone(), tcp()),
        (
            "bsd loopback little-endian",
            LinkType::NULL,
            with_prefix(&[2, 0, 0, 0], &ip),
            tcp(),
        ),
        (
            "bsd loopback big-endian",
            LinkType::NULL,
            with_prefix(&[0, 0, 0, 2], &ip),
            tcp(),
        ),
        (
            "openbsd loop",
            LinkType::LOOP,
            with_prefix(&[0, 0, 0, 2], &ip),
            tcp(),
        ),
        (
            "linux sll",
            LinkType::LINUX_SLL,
            with_prefix(&sll_header(0x0800), &ip),
            tcp(),
        ),
        (
            "linux sll2",
            LinkType::LINUX_SLL2,
            with_prefix(&sll2_header(0x0800), &ip),
            tcp(),
        ),
        (
            "cisco hdlc",
            LinkType::C_HDLC,
            with_prefix(&[0x0f, 0x00, 0x08, 0x00], &ip),
            tcp(),
        ),
        (
            "ppp hdlc framing",
            LinkType::PPP,
            with_prefix(&[0xff, 0x03, 0x00, 0x21], &ip),
            tcp(),
        ),
        (
            "ppp bare",
            LinkType::PPP,
            with_prefix(&[0x00, 0x21], &ip),
            tcp(),
        ),
        (
            "802.1q",
            LinkType::ETHERNET,
            vlan_udp(false),
            udp_vlan([42, 0]),
        ),
        (
            "qinq",
            LinkType::ETHERNET,
            vlan_udp(true),
            udp_vlan([100, 200]),
        ),
        (
            "ipv6 udp",
            LinkType::ETHERNET,
            udp_v6_eth(),
            Expect {
                src: "2001:db8::1",
                dst: "2001:db8::2",
                proto: proto::UDP,
                transport: Transport::Ports { src: 5353, dst: 53 },
                vlan: [0, 0],
                fragment: false,
            },
        ),
        (
            "icmp echo",
            LinkType::RAW,
            icmp_echo_v4(),
            Expect {
                src: "10.0.0.1",
                dst: "10.0.0.2",
                proto: proto::ICMP,
                transport: Transport::Icmp {
                    icmp_type: 8,
                    code: 0,
                },
                vlan: [0, 0],
                fragment: false,
            },
        ),
        (
            "icmpv6 echo",
            LinkType::IPV6,
            icmp_echo_v6(),
            Expect {
                src: "fe80::1",
                dst: "fe80::2",
                proto: proto::ICMPV6,
                transport: Transport::Icmp {
                    icmp_type: 128,
                    code: 0,
                },
                vlan: [0, 0],
                fragment: false,
            },
        ),
        (
            "first fragment keeps ports",
            LinkType::RAW,
            first_fragment,
            Expect {
                src: "10.0.0.1",
                dst: "10.0.0.2",
                proto: proto::UDP,
                transport: Transport::Ports {
                    src: 1111,
                    dst: 2222,
                },
                vlan: [0, 0],
                fragment: true,
            },
        ),
    ];
    let mut names: Vec<&str> = cases.iter().map(|c| c.0).collect();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), cases.len(), "case names must be unique");
    for (name, link, frame, want) in cases {
        check(name, link, &frame, want);
    }
}

#[test]
fn later_fragment_has_no_transport() {
    let (_, later) = fragments();
    let Ok(Frame::Ip(packet)) = decode(LinkType::RAW, &later) else {
        panic!("expected IP");
    };
    assert!(packet.fragment);
    assert_eq!(packet.transport, Transport::None);
}

#[test]
fn tcp_payload_and_flags() {
    let frame = tcp_v4_eth(b"hello");
    let Ok(Frame::Ip(packet)) = decode(LinkType::ETHERNET, &frame) else {
        panic!("expected IP");
    };
    assert_eq!(packet.payload, b"hello");
    assert_eq!(packet.tcp_flags & tcp_flags::SYN, tcp_flags::SYN);
}

#[test]
fn bad_frames_are_errors_or_non_ip_never_panics() {
    let ip = tcp_v4_ip();
    let mut arp = vec![0xff; 12];
    arp.extend_from_slice(&[0x08, 0x06]);
    arp.extend_from_slice(&[0, 1, 8, 0, 6, 4, 0, 1]);
    arp.extend_from_slice(&[0; 20]);
    type Case = (&'static str, LinkType, Vec<u8>, Result<(), DecodeError>);
    let cases: Vec<Case> = vec![
        (
            "empty ethernet",
            LinkType::ETHERNET,
            vec![],
            Err(DecodeError::LinkTruncated),
        ),
        (
            "short sll",
            LinkType::LINUX_SLL,
            vec![0; 10],
            Err(DecodeError::LinkTruncated),
        ),
        (
            "short sll2",
            LinkType::LINUX_SLL2,
            vec![0; 19],
            Err(DecodeError::LinkTruncated),
        ),
        (
            "short null",
            LinkType::NULL,
            vec![2, 0],
            Err(DecodeError::LinkTruncated),
        ),
        (
            "unknown link",
            LinkType(147),
            ip.clone(),
            Err(DecodeError::UnsupportedLink),
        ),
        (
            "garbage raw ip",
            LinkType::RAW,
            vec![0x45, 0, 0],
            Err(DecodeError::IpInvalid),
        ),
        (
            "version 7",
            LinkType::RAW,
            vec![0x70; 40],
            Err(DecodeError::IpInvalid),
        ),
        (
            "tcp header cut",
            LinkType::RAW,
            ip[..30].to_vec(),
            Err(DecodeError::TransportInvalid),
        ),
        ("arp", LinkType::ETHERNET, arp, Ok(())),
        (
            "null with unknown family",
            LinkType::NULL,
            with_prefix(&[99, 0, 0, 0], &ip),
            Ok(()),
        ),
    ];
    for (name, link, frame, want) in cases {
        let got = decode(link, &frame);
        match want {
            Ok(()) => assert_eq!(got, Ok(Frame::NonIp), "{name}"),
            Err(kind) => assert_eq!(got, Err(kind), "{name}"),
        }
    }
}

#[test]
fn every_prefix_of_a_valid_frame_decodes_without_panic() {
    for frame in [tcp_v4_eth(b"payload"), udp_v6_eth(), vlan_udp(true)] {
        for len in 0..=frame.len() {
            let _ = decode(LinkType::ETHERNET, &frame[..len]);
        }
    }
}

//! Which side of a new flow is the client.
//!
//! The first packet seen usually comes from the originator, but not when the capture starts
//! mid-conversation or a request was lost: a lone DNS response, the middle of a Modbus session.
//! Getting this wrong swaps `conn.src`/`conn.dst` and the EVE `src_ip`, so
//! the first packet is judged by the handshake and the ports: a TCP SYN settles it; a SYN-ACK,
//! or a packet from a service port to a non-service port, is the responder's — unless it is
//! addressed to a multicast or broadcast group, which never originates a conversation. ICMP
//! keeps the first sender: its Community ID and EVE `icmp_type` are defined from that packet.

use crate::decode::{Decoded, Transport, proto, tcp_flags};

/// Ports that identify a server: the well-known range plus the ports of every protocol Kordon
/// parses (e.g. Modbus 502 is well-known, IEC-104 2404 and DNP3 20000 are not).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ServicePorts {
    tcp: Vec<u16>,
    udp: Vec<u16>,
}

impl ServicePorts {
    /// Service ports from explicit lists (in addition to 1–1023).
    pub fn new(tcp: impl IntoIterator<Item = u16>, udp: impl IntoIterator<Item = u16>) -> Self {
        let mut ports = ServicePorts {
            tcp: tcp.into_iter().collect(),
            udp: udp.into_iter().collect(),
        };
        for list in [&mut ports.tcp, &mut ports.udp] {
            list.sort_unstable();
            list.dedup();
        }
        ports
    }

    fn is_service(&self, l4: u8, port: u16) -> bool {
        let list = match l4 {
            proto::TCP => &self.tcp,
            proto::UDP => &self.udp,
            _ => return port < 1024,
        };
        (1..1024).contains(&port) || list.binary_search(&port).is_ok()
    }
}

/// Whether the first packet of a flow was sent by the responder.
pub fn first_packet_from_responder(packet: &Decoded<'_>, services: &ServicePorts) -> bool {
    let Transport::Ports { src, dst } = packet.transport else {
        return false;
    };
    if packet.proto == proto::TCP {
        let syn_ack = tcp_flags::SYN | tcp_flags::ACK;
        match packet.tcp_flags & syn_ack {
            flags if flags == tcp_flags::SYN => return false,
            flags if flags == syn_ack => return true,
            _ => {}
        }
    }
    services.is_service(packet.proto, src)
        && !services.is_service(packet.proto, dst)
        && !is_group(packet.dst)
}

/// Multicast or broadcast destinations (a group never originates the conversation).
fn is_group(addr: std::net::IpAddr) -> bool {
    match addr {
        std::net::IpAddr::V4(v4) => v4.is_multicast() || v4.is_broadcast(),
        std::net::IpAddr::V6(v6) => v6.is_multicast(),
    }
}

#[cfg(test)]
mod tests {
    use std::net::{IpAddr, Ipv4Addr};

    use super::*;

    fn packet(proto: u8, transport: Transport, flags: u8) -> Decoded<'static> {
        Decoded {
            src: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)),
            dst: IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)),
            proto,
            transport,
            tcp_flags: flags,
            tcp_seq: 0,
            tcp_ack: 0,
            vlan: [0, 0],
            fragment: false,
            payload: &[],
        }
    }

    fn multicast(mut packet: Decoded<'static>) -> Decoded<'static> {
        packet.dst = IpAddr::V4(Ipv4Addr::new(224, 0, 0, 251));
        packet
    }

    fn ports(src: u16, dst: u16) -> Transport {
        Transport::Ports { src, dst }
    }

    #[test]
    fn orientation_cases() {
        let services = ServicePorts::new([2404, 20000], [20000]);
        let syn = tcp_flags::SYN;
        let syn_ack = tcp_flags::SYN | tcp_flags::ACK;
        let ack = tcp_flags::ACK;
        let cases = [
            (
                "syn from a service port is still the client",
                packet(6, ports(80, 40000), syn),
                false,
            ),
            (
                "syn-ack is the server",
                packet(6, ports(40000, 80), syn_ack),
                true,
            ),
            (
                "midstream data from 443",
                packet(6, ports(443, 51000), ack),
                true,
            ),
            (
                "midstream data to 443",
                packet(6, ports(51000, 443), ack),
                false,
            ),
            (
                "iec-104 server port",
                packet(6, ports(2404, 40000), ack),
                true,
            ),
            ("dns response first", packet(17, ports(53, 33333), 0), true),
            (
                "both well-known (ntp)",
                packet(17, ports(123, 123), 0),
                false,
            ),
            ("both ephemeral", packet(17, ports(40000, 50000), 0), false),
            (
                "mdns to the group",
                multicast(packet(17, ports(5353, 40000), 0)),
                false,
            ),
            (
                "echo reply keeps its sender",
                packet(
                    1,
                    Transport::Icmp {
                        icmp_type: 0,
                        code: 0,
                    },
                    0,
                ),
                false,
            ),
            (
                "echo request",
                packet(
                    1,
                    Transport::Icmp {
                        icmp_type: 8,
                        code: 0,
                    },
                    0,
                ),
                false,
            ),
            (
                "unreachable (one-way)",
                packet(
                    1,
                    Transport::Icmp {
                        icmp_type: 3,
                        code: 1,
                    },
                    0,
                ),
                false,
            ),
        ];
        for (name, packet, want) in cases {
            assert_eq!(
                first_packet_from_responder(&packet, &services),
                want,
                "{name}"
            );
        }
    }
}

//! The capture generator: many interleaved flows, written as classic pcap.
//!
//! Flows are planned whole when they start (a list of packets with their gaps), then emitted
//! through a min-heap on each flow's next timestamp, so timestamps never go backwards and many
//! flows are open at once. When a flow ends, a new one takes its slot; generation stops at exactly
//! the requested packet count (flows still open at that moment are cut, as in any real capture).
//!
//! Everything comes from one seeded [`Rng`] and a fixed start time: same parameters, same bytes.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, VecDeque};
use std::io::{self, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use etherparse::{
    IpHeaders, Ipv4Header, Ipv6Header, PacketBuilder, PacketBuilderStep, TcpHeader,
    TcpOptionElement, VlanId,
};

use crate::addrs;
use crate::payload;
use crate::pcap_out::PcapWriter;
use crate::rng::Rng;

/// 2025-05-20T08:00:00Z: a fixed origin keeps output independent of the clock.
const START_US: u64 = 1_747_728_000 * 1_000_000;
/// Random bytes reused as opaque payload (TLS records, QUIC, bodies).
const FILLER_LEN: usize = 64 * 1024;
/// Router MAC on the sensor's segment: every external packet crosses it.
const ROUTER_MAC: [u8; 6] = [0x00, 0x1b, 0x21, 0x3c, 0x9d, 0x01];

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Profile {
    /// Large realistic mix for benchmarks.
    Mixed,
    /// A few hundred packets where scripted flows hit the demo indicators.
    Demo,
}

#[derive(Debug, Clone)]
pub struct CaptureParams {
    pub packets: u64,
    pub flows: u64,
    pub seed: u64,
    pub profile: Profile,
}

#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct CaptureSummary {
    pub packets: u64,
    pub bytes: u64,
    pub flows_started: u64,
    pub ipv4_flows: u64,
    pub ipv6_flows: u64,
    pub vlan_flows: u64,
    pub tcp_flows: u64,
    pub udp_flows: u64,
    pub icmp_flows: u64,
    pub first_ts_us: u64,
    pub last_ts_us: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Proto {
    Tcp,
    Udp,
    Icmp,
}

#[derive(Debug, Clone)]
struct Endpoint {
    ip: IpAddr,
    port: u16,
    mac: [u8; 6],
    ttl: u8,
    window: u16,
}

#[derive(Debug, Clone)]
enum Payload {
    None,
    Bytes(Vec<u8>),
    /// `len` opaque bytes; with `tls_record` they are framed as a TLS application-data record.
    Filler {
        len: u16,
        tls_record: bool,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Syn,
    SynAck,
    Ack,
    Data,
    Fin,
    Rst,
    Udp,
    EchoRequest(u16),
    EchoReply(u16),
}

#[derive(Debug, Clone)]
struct Pkt {
    from_client: bool,
    /// Microseconds since the flow's previous packet (since its start for the first).
    gap_us: u64,
    kind: Kind,
    payload: Payload,
}

#[derive(Debug)]
struct Flow {
    proto: Proto,
    client: Endpoint,
    server: Endpoint,
    vlan: Option<VlanId>,
    plan: VecDeque<Pkt>,
    client_seq: u32,
    server_seq: u32,
    client_ip_id: u16,
    server_ip_id: u16,
    icmp_id: u16,
}

/// Flow families, with weights (per flow, not per packet).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    TcpOut,
    TcpIn,
    TcpOt,
    Dns,
    UdpOther,
    Icmp,
}
const FAMILIES: [(Family, u32); 6] = [
    (Family::TcpOut, 50),
    (Family::TcpIn, 8),
    (Family::TcpOt, 4),
    (Family::Dns, 24),
    (Family::UdpOther, 9),
    (Family::Icmp, 5),
];

/// Server ports of outbound TCP flows, with weights.
const TCP_OUT_PORTS: [(u16, u32); 12] = [
    (443, 56),
    (80, 16),
    (8443, 3),
    (8080, 4),
    (22, 4),
    (25, 2),
    (993, 3),
    (445, 2),
    (3389, 2),
    (5222, 1),
    (1883, 1),
    (21, 1),
];
const TCP_IN_PORTS: [u16; 5] = [443, 22, 25, 80, 3389];
/// Modbus, DNP3, IEC-104, S7.
const OT_PORTS: [u16; 4] = [502, 20000, 2404, 102];
const IPV6_PREFIXES: [[u16; 2]; 4] = [
    [0x2a00, 0x1450],
    [0x2606, 0x4700],
    [0x2a02, 0x26f0],
    [0x2620, 0x01ec],
];

struct Ctx {
    rng: Rng,
    profile: Profile,
    pools: Vec<u32>,
    servers: Vec<Ipv4Addr>,
    clients: u32,
    next_port: Vec<u16>,
    /// Mean TCP data packets per TCP flow.
    tcp_data_mean: f64,
    filler: Vec<u8>,
    serial: u64,
}

/// Writes a capture to `out`; returns what was written.
pub fn generate<W: Write>(params: &CaptureParams, out: W) -> io::Result<CaptureSummary> {
    let flows = params.flows.max(1);
    let mut rng = Rng::new(params.seed, 1);
    let mut filler = vec![0u8; FILLER_LEN];
    rng.fill(&mut filler);
    let pools = addrs::pool_networks();
    let server_count = (flows / 6).clamp(32, 100_000);
    let servers = {
        let mut r = Rng::new(params.seed, 2);
        (0..server_count)
            .map(|_| addrs::pool_host(&mut r, &pools))
            .collect()
    };
    let clients = (flows / 16).clamp(16, 4_000) as u32;
    let next_port = {
        let mut r = Rng::new(params.seed, 3);
        (0..clients)
            .map(|_| r.range(32_768, 60_999) as u16)
            .collect()
    };
    // Packets per flow by family: TCP 7 + data, DNS ~2, other UDP ~8, ICMP ~5. Solve the TCP
    // data mean so that `flows` flows make about `packets` packets.
    let per_flow = params.packets as f64 / flows as f64;
    let tcp_share = 0.62;
    let other = 0.24 * 2.0 + 0.09 * 8.0 + 0.05 * 5.0;
    let tcp_data_mean = ((per_flow - other) / tcp_share - 7.0).max(2.0);
    let mut ctx = Ctx {
        rng,
        profile: params.profile,
        pools,
        servers,
        clients,
        next_port,
        tcp_data_mean,
        filler,
        serial: 0,
    };

    let concurrency = match params.profile {
        Profile::Demo => 6,
        Profile::Mixed => (flows / 10).clamp(4, 1024) as usize,
    };
    let mut writer = PcapWriter::new(out)?;
    let mut summary = CaptureSummary::default();
    let mut slots: Vec<Option<Flow>> = Vec::with_capacity(concurrency);
    let mut heap: BinaryHeap<Reverse<(u64, u64, usize)>> = BinaryHeap::new();
    let mut now = START_US;
    for slot in 0..concurrency {
        now += ctx.rng.exp(2_000.0) as u64;
        let (flow, serial) = start_flow(&mut ctx, &mut summary);
        let first = flow.plan.front().map_or(0, |p| p.gap_us);
        slots.push(Some(flow));
        heap.push(Reverse((now + first, serial, slot)));
    }
    let mut frame = Vec::with_capacity(2048);
    let mut emit_rng = Rng::new(params.seed, 4);
    while writer.packets() < params.packets {
        let Some(Reverse((ts, _serial, slot))) = heap.pop() else {
            break;
        };
        let flow = slots[slot]
            .as_mut()
            .expect("every scheduled slot holds a flow");
        let pkt = flow
            .plan
            .pop_front()
            .expect("scheduled flows have a packet left");
        frame.clear();
        build_frame(flow, &pkt, &ctx.filler, &mut emit_rng, &mut frame);
        writer.write_packet(ts, &frame)?;
        if summary.first_ts_us == 0 {
            summary.first_ts_us = ts;
        }
        summary.last_ts_us = ts;
        if let Some(next) = flow.plan.front() {
            let serial = _serial;
            heap.push(Reverse((ts + next.gap_us, serial, slot)));
        } else {
            let start = ts + ctx.rng.exp(400.0) as u64;
            let (flow, serial) = start_flow(&mut ctx, &mut summary);
            let first = flow.plan.front().map_or(0, |p| p.gap_us);
            slots[slot] = Some(flow);
            heap.push(Reverse((start + first, serial, slot)));
        }
    }
    summary.packets = writer.packets();
    summary.bytes = writer.bytes();
    writer.finish()?;
    Ok(summary)
}

fn start_flow(ctx: &mut Ctx, summary: &mut CaptureSummary) -> (Flow, u64) {
    let serial = ctx.serial;
    ctx.serial += 1;
    let flow = match ctx.profile {
        Profile::Demo => demo_flow(ctx, serial).unwrap_or_else(|| random_flow(ctx)),
        Profile::Mixed => random_flow(ctx),
    };
    summary.flows_started += 1;
    match flow.client.ip {
        IpAddr::V4(_) => summary.ipv4_flows += 1,
        IpAddr::V6(_) => summary.ipv6_flows += 1,
    }
    if flow.vlan.is_some() {
        summary.vlan_flows += 1;
    }
    match flow.proto {
        Proto::Tcp => summary.tcp_flows += 1,
        Proto::Udp => summary.udp_flows += 1,
        Proto::Icmp => summary.icmp_flows += 1,
    }
    (flow, serial)
}

fn mac_for(ip: IpAddr) -> [u8; 6] {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            [0x02, 0x00, o[0], o[1], o[2], o[3]]
        }
        IpAddr::V6(v6) => {
            let o = v6.octets();
            [0x02, 0x06, o[12], o[13], o[14], o[15]]
        }
    }
}

fn internal_client(index: u32) -> Ipv4Addr {
    Ipv4Addr::new(10, 20, (1 + index / 250) as u8, (2 + index % 250) as u8)
}

fn internal_client_v6(index: u32) -> Ipv6Addr {
    Ipv6Addr::new(
        0xfd00,
        0x20,
        0,
        (1 + index / 250) as u16,
        0,
        0,
        0,
        (2 + index % 250) as u16,
    )
}

fn external_v6(rng: &mut Rng) -> Ipv6Addr {
    let p = rng.pick(&IPV6_PREFIXES);
    let r = rng.next_u64();
    Ipv6Addr::new(
        p[0],
        p[1],
        rng.below(16) as u16,
        0,
        0,
        0,
        (r >> 16) as u16,
        r as u16 | 1,
    )
}

impl Ctx {
    fn ephemeral_port(&mut self, client: u32) -> u16 {
        let p = &mut self.next_port[client as usize];
        let port = *p;
        *p = if *p >= 60_999 { 32_768 } else { *p + 1 };
        port
    }

    /// A popular-first pick among the external servers (a few servers get most flows).
    fn external_server(&mut self) -> Ipv4Addr {
        let u = self.rng.unit();
        let i = (u * u * u * self.servers.len() as f64) as usize;
        self.servers[i.min(self.servers.len() - 1)]
    }

    fn client_index(&mut self) -> u32 {
        self.rng.below(u64::from(self.clients)) as u32
    }

    fn endpoint(&mut self, ip: IpAddr, port: u16, mac: [u8; 6], ttl: u8) -> Endpoint {
        let window = *self.rng.pick(&[64_240u16, 65_535, 29_200, 8_192, 42_340]);
        Endpoint {
            ip,
            port,
            mac,
            ttl,
            window,
        }
    }

    fn new_flow(
        &mut self,
        proto: Proto,
        client: Endpoint,
        server: Endpoint,
        vlan: Option<u16>,
    ) -> Flow {
        Flow {
            proto,
            client,
            server,
            vlan: vlan.and_then(|v| VlanId::try_new(v).ok()),
            plan: VecDeque::new(),
            client_seq: self.rng.next_u32(),
            server_seq: self.rng.next_u32(),
            client_ip_id: self.rng.next_u64() as u16,
            server_ip_id: self.rng.next_u64() as u16,
            icmp_id: self.rng.range(1, 65_535) as u16,
        }
    }
}

/// VLAN of an internal client: about one client in seven sits on a tagged access VLAN.
fn client_vlan(index: u32) -> Option<u16> {
    (index % 7 == 3).then_some(100 + (index % 50) as u16)
}

fn random_flow(ctx: &mut Ctx) -> Flow {
    let weights: Vec<u32> = FAMILIES.iter().map(|f| f.1).collect();
    let family = FAMILIES[ctx.rng.weighted(&weights)].0;
    let v6 = matches!(
        family,
        Family::TcpOut | Family::Dns | Family::Icmp | Family::UdpOther
    ) && ctx.rng.chance(0.11);
    let ci = ctx.client_index();
    let vlan = client_vlan(ci);
    let client_ip: IpAddr = if v6 {
        internal_client_v6(ci).into()
    } else {
        internal_client(ci).into()
    };
    let client_ttl = *ctx.rng.pick(&[64u8, 128]);
    let far_ttl = ctx.rng.range(40, 60) as u8;
    match family {
        Family::TcpOut => {
            let port_weights: Vec<u32> = TCP_OUT_PORTS.iter().map(|p| p.1).collect();
            let port = TCP_OUT_PORTS[ctx.rng.weighted(&port_weights)].0;
            let server_ip: IpAddr = if v6 {
                external_v6(&mut ctx.rng).into()
            } else {
                ctx.external_server().into()
            };
            let cport = ctx.ephemeral_port(ci);
            let c = ctx.endpoint(client_ip, cport, mac_for(client_ip), client_ttl);
            let s = ctx.endpoint(server_ip, port, ROUTER_MAC, far_ttl);
            let rtt = ctx.rng.range(4_000, 160_000);
            let mut f = ctx.new_flow(Proto::Tcp, c, s, vlan);
            plan_tcp(ctx, &mut f, rtt, None);
            f
        }
        Family::TcpIn => {
            let ext: IpAddr = addrs::pool_host(&mut ctx.rng, &ctx.pools).into();
            let port = *ctx.rng.pick(&TCP_IN_PORTS);
            let server_ip: IpAddr = Ipv4Addr::new(10, 20, 0, ctx.rng.range(10, 19) as u8).into();
            let cport = ctx.rng.range(1_024, 65_535) as u16;
            let c = ctx.endpoint(ext, cport, ROUTER_MAC, far_ttl);
            let s = ctx.endpoint(server_ip, port, mac_for(server_ip), 64);
            let rtt = ctx.rng.range(8_000, 200_000);
            let mut f = ctx.new_flow(Proto::Tcp, c, s, None);
            plan_tcp(ctx, &mut f, rtt, None);
            f
        }
        Family::TcpOt => {
            let port = *ctx.rng.pick(&OT_PORTS);
            let plc: IpAddr = Ipv4Addr::new(10, 30, 0, ctx.rng.range(10, 40) as u8).into();
            let cport = ctx.ephemeral_port(ci);
            let c = ctx.endpoint(client_ip, cport, mac_for(client_ip), client_ttl);
            let s = ctx.endpoint(plc, port, mac_for(plc), 64);
            let rtt = ctx.rng.range(300, 3_000);
            let mut f = ctx.new_flow(Proto::Tcp, c, s, vlan);
            plan_tcp(ctx, &mut f, rtt, None);
            f
        }
        Family::Dns => {
            let internal = ctx.rng.chance(0.7);
            let resolver: IpAddr = match (v6, internal) {
                (false, true) => Ipv4Addr::new(10, 20, 0, 53).into(),
                (false, false) => ctx.servers[ctx.rng.below(4) as usize].into(),
                (true, true) => Ipv6Addr::new(0xfd00, 0x20, 0, 0, 0, 0, 0, 0x53).into(),
                (true, false) => external_v6(&mut ctx.rng).into(),
            };
            let cport = ctx.ephemeral_port(ci);
            let c = ctx.endpoint(client_ip, cport, mac_for(client_ip), client_ttl);
            let smac = if internal {
                mac_for(resolver)
            } else {
                ROUTER_MAC
            };
            let s = ctx.endpoint(resolver, 53, smac, if internal { 64 } else { far_ttl });
            let rtt = if internal {
                ctx.rng.range(200, 30_000)
            } else {
                ctx.rng.range(5_000, 60_000)
            };
            let mut f = ctx.new_flow(Proto::Udp, c, s, vlan);
            let name = payload::dns_name(&mut ctx.rng);
            plan_dns(ctx, &mut f, rtt, &name, None);
            f
        }
        Family::UdpOther => {
            let server_ip: IpAddr = if v6 {
                external_v6(&mut ctx.rng).into()
            } else {
                ctx.external_server().into()
            };
            let which = ctx.rng.weighted(&[30, 40, 15, 15]);
            let port = [123u16, 443, 514, 161][which];
            let cport = if port == 123 {
                123
            } else {
                ctx.ephemeral_port(ci)
            };
            let c = ctx.endpoint(client_ip, cport, mac_for(client_ip), client_ttl);
            let s = ctx.endpoint(server_ip, port, ROUTER_MAC, far_ttl);
            let rtt = ctx.rng.range(4_000, 120_000);
            let mut f = ctx.new_flow(Proto::Udp, c, s, vlan);
            plan_udp_other(ctx, &mut f, rtt);
            f
        }
        Family::Icmp => {
            let server_ip: IpAddr = if v6 {
                external_v6(&mut ctx.rng).into()
            } else {
                ctx.external_server().into()
            };
            let c = ctx.endpoint(client_ip, 0, mac_for(client_ip), client_ttl);
            let s = ctx.endpoint(server_ip, 0, ROUTER_MAC, far_ttl);
            let rtt = ctx.rng.range(4_000, 120_000);
            let mut f = ctx.new_flow(Proto::Icmp, c, s, vlan);
            let n = ctx.rng.range(1, 4) as u16;
            plan_icmp(ctx, &mut f, rtt, n);
            f
        }
    }
}

/// The demo's scripted flows, by serial; other serials are background traffic.
fn demo_flow(ctx: &mut Ctx, serial: u64) -> Option<Flow> {
    let host = internal_client(13);
    let dmz: IpAddr = Ipv4Addr::new(10, 20, 0, 22).into();
    let resolver: IpAddr = Ipv4Addr::new(10, 20, 0, 53).into();
    let f = match serial {
        // DNS lookup of the demo C2 domain, answered with the C2 address.
        1 => {
            let c = ctx.endpoint(host.into(), 41_000, mac_for(host.into()), 64);
            let s = ctx.endpoint(resolver, 53, mac_for(resolver), 64);
            let mut f = ctx.new_flow(Proto::Udp, c, s, None);
            plan_dns(ctx, &mut f, 900, addrs::DEMO_DOMAIN, Some(addrs::DEMO_C2));
            f
        }
        // TLS to the C2 (destination hit, and the SNI names the domain).
        3 => {
            let c = ctx.endpoint(host.into(), 41_001, mac_for(host.into()), 64);
            let s = ctx.endpoint(addrs::DEMO_C2.into(), 443, ROUTER_MAC, 51);
            let mut f = ctx.new_flow(Proto::Tcp, c, s, None);
            plan_tcp(ctx, &mut f, 48_000, Some((addrs::DEMO_DOMAIN, 4)));
            f
        }
        // An inbound SSH attempt from a scanner (source hit).
        5 => {
            let c = ctx.endpoint(addrs::DEMO_SCANNER.into(), 52_114, ROUTER_MAC, 47);
            let s = ctx.endpoint(dmz, 22, mac_for(dmz), 64);
            let mut f = ctx.new_flow(Proto::Tcp, c, s, None);
            plan_tcp(ctx, &mut f, 95_000, Some(("", 3)));
            f
        }
        // The same scanner pings the DMZ host (source hit, ICMP).
        8 => {
            let c = ctx.endpoint(addrs::DEMO_SCANNER.into(), 0, ROUTER_MAC, 47);
            let s = ctx.endpoint(dmz, 0, mac_for(dmz), 64);
            let mut f = ctx.new_flow(Proto::Icmp, c, s, None);
            plan_icmp(ctx, &mut f, 95_000, 2);
            f
        }
        // Plain HTTP to a host inside the listed CIDR, from a VLAN-tagged workstation.
        11 => {
            let ws = internal_client(3);
            let c = ctx.endpoint(ws.into(), 50_210, mac_for(ws.into()), 128);
            let s = ctx.endpoint(addrs::DEMO_CIDR_HOST.into(), 80, ROUTER_MAC, 53);
            let mut f = ctx.new_flow(Proto::Tcp, c, s, client_vlan(3));
            plan_tcp(ctx, &mut f, 61_000, Some(("", 6)));
            f
        }
        _ => return None,
    };
    Some(f)
}

fn push(f: &mut Flow, from_client: bool, gap_us: u64, kind: Kind, payload: Payload) {
    f.plan.push_back(Pkt {
        from_client,
        gap_us,
        kind,
        payload,
    });
}

/// Handshake, request/response exchanges, then FIN teardown (most), RST (some) or nothing
/// (a long-lived flow the capture cuts). `script` = (SNI, data packet budget) for demo flows.
fn plan_tcp(ctx: &mut Ctx, f: &mut Flow, rtt: u64, script: Option<(&str, u64)>) {
    let rng = &mut ctx.rng;
    let port = f.server.port;
    let tls = matches!(port, 443 | 8443 | 993 | 5222);
    let http = matches!(port, 80 | 8080);
    let mss: usize = if f.client.ip.is_ipv6() { 1440 } else { 1460 };
    // Delayed ACKs: some stacks acknowledge every segment, most every second one.
    let ack_every = if rng.chance(0.5) { 1 } else { 2 };
    let mut budget: u64 = match script {
        Some((_, b)) => b,
        None => {
            // Most flows are short, a few are elephants (mean = tcp_data_mean).
            let d = ctx.tcp_data_mean;
            let mean = if rng.chance(0.85) { 0.35 * d } else { 4.68 * d };
            (rng.exp(mean) as u64).max(1)
        }
    };
    push(f, true, 0, Kind::Syn, Payload::None);
    push(f, false, rtt, Kind::SynAck, Payload::None);
    push(f, true, rng.range(30, 400), Kind::Ack, Payload::None);
    let mut first = true;
    while budget > 0 {
        // Client request.
        let think = if first {
            rng.range(50, 2_000)
        } else {
            rng.exp(if http || tls { 80_000.0 } else { 400_000.0 }) as u64 + 100
        };
        let req = if first && tls {
            let sni = match script {
                Some((s, _)) if !s.is_empty() => s.to_string(),
                _ => payload::tls_server_name(rng),
            };
            Payload::Bytes(payload::tls_client_hello(rng, &sni))
        } else if first && port == 22 {
            Payload::Bytes(payload::ssh_banner(rng))
        } else if http {
            let host = match &f.server.ip {
                IpAddr::V4(v4) if script.is_none() => payload::http_host_name(*v4),
                IpAddr::V4(v4) => v4.to_string(),
                IpAddr::V6(v6) => format!("[{v6}]"),
            };
            Payload::Bytes(payload::http_request(rng, &host))
        } else {
            let len = if rng.chance(0.7) {
                rng.range(20, 300)
            } else {
                rng.range(300, 1_200)
            };
            Payload::Filler {
                len: len as u16,
                tls_record: tls,
            }
        };
        push(f, true, think, Kind::Data, req);
        budget -= 1;
        if budget == 0 {
            break;
        }
        // Server response: mostly small, sometimes bulk.
        let (head, total) = if first && tls {
            let hello = payload::tls_server_hello(rng);
            let rest = rng.range(1_200, 4_000) as usize;
            (Some(hello), rest)
        } else if first && port == 22 {
            (Some(payload::ssh_banner(rng)), 0)
        } else if http {
            let body = if rng.chance(0.75) {
                rng.range(200, 3_000)
            } else {
                rng.range(3_000, 120_000)
            } as usize;
            (Some(payload::http_response_head(rng, body)), body)
        } else if rng.chance(0.8) {
            (None, rng.range(40, 600) as usize)
        } else {
            (None, rng.exp(8_000.0) as usize + 1_000)
        };
        let mut segments: Vec<Payload> = Vec::new();
        let mut remaining = total;
        if tls && (1..6).contains(&(remaining % mss)) {
            // Keep every segment big enough for a TLS record header plus a byte.
            remaining += 6;
        }
        if let Some(h) = head {
            // After a TLS ServerHello, the filler sharing its segment is one whole record.
            let record_header = if tls { 5 } else { 0 };
            let room = mss.saturating_sub(h.len() + record_header);
            let take = remaining.min(room);
            let mut bytes = h;
            if tls {
                bytes.extend_from_slice(&[0x17, 0x03, 0x03]);
                bytes.extend_from_slice(&(take as u16).to_be_bytes());
            }
            let off = rng.below((FILLER_LEN - mss) as u64) as usize;
            bytes.extend_from_slice(&ctx.filler[off..off + take]);
            remaining -= take;
            segments.push(Payload::Bytes(bytes));
        }
        while remaining > 0 {
            let take = remaining.min(mss);
            segments.push(Payload::Filler {
                len: take as u16,
                tls_record: tls,
            });
            remaining -= take;
        }
        let mut unacked = 0;
        for (i, seg) in segments.into_iter().enumerate() {
            if budget == 0 {
                break;
            }
            let gap = if i == 0 {
                rtt / 2 + rng.range(100, 3_000)
            } else {
                rng.range(8, 250)
            };
            push(f, false, gap, Kind::Data, seg);
            budget -= 1;
            unacked += 1;
            if unacked == ack_every && budget > 0 {
                push(f, true, rng.range(20, 200), Kind::Ack, Payload::None);
                budget -= 1;
                unacked = 0;
            }
        }
        if unacked > 0 && budget > 0 {
            push(f, true, rng.range(20, 40_000), Kind::Ack, Payload::None);
            budget -= 1;
        }
        first = false;
    }
    let end = if script.is_some() {
        0
    } else {
        rng.weighted(&[85, 10, 5])
    };
    let linger = rng.exp(200_000.0) as u64 + 50;
    match end {
        0 => {
            push(f, true, linger, Kind::Fin, Payload::None);
            push(f, false, rtt / 2 + 50, Kind::Ack, Payload::None);
            push(f, false, rng.range(20, 2_000), Kind::Fin, Payload::None);
            push(f, true, rtt / 2 + 50, Kind::Ack, Payload::None);
        }
        1 => push(f, true, linger, Kind::Rst, Payload::None),
        _ => {}
    }
}

fn plan_dns(ctx: &mut Ctx, f: &mut Flow, rtt: u64, name: &str, answer: Option<Ipv4Addr>) {
    let rng = &mut ctx.rng;
    let id = rng.next_u64() as u16;
    let aaaa = answer.is_none() && rng.chance(0.2);
    push(
        f,
        true,
        0,
        Kind::Udp,
        Payload::Bytes(payload::dns_query(id, name, aaaa)),
    );
    if answer.is_some() || rng.chance(0.97) {
        let count = rng.range(1, 3) as usize;
        let mut answers: Vec<IpAddr> = Vec::with_capacity(count);
        for _ in 0..count {
            answers.push(match answer {
                Some(a) => a.into(),
                None if aaaa => external_v6(rng).into(),
                None => addrs::pool_host(rng, &ctx.pools).into(),
            });
        }
        if answer.is_some() {
            answers.truncate(1);
        }
        let ttl = *rng.pick(&[60u32, 300, 3_600, 86_400]);
        let resp = payload::dns_response(id, name, aaaa, &answers, ttl);
        push(f, false, rtt, Kind::Udp, Payload::Bytes(resp));
    }
}

fn plan_udp_other(ctx: &mut Ctx, f: &mut Flow, rtt: u64) {
    let rng = &mut ctx.rng;
    match f.server.port {
        123 => {
            push(f, true, 0, Kind::Udp, Payload::Bytes(payload::ntp(rng, 3)));
            push(
                f,
                false,
                rtt,
                Kind::Udp,
                Payload::Bytes(payload::ntp(rng, 4)),
            );
        }
        514 => {
            let n = rng.range(1, 12);
            for i in 0..n {
                let gap = if i == 0 {
                    0
                } else {
                    rng.exp(2_000_000.0) as u64
                };
                push(
                    f,
                    true,
                    gap,
                    Kind::Udp,
                    Payload::Bytes(payload::syslog(rng)),
                );
            }
        }
        161 => {
            let len = rng.range(40, 90) as u16;
            push(
                f,
                true,
                0,
                Kind::Udp,
                Payload::Filler {
                    len,
                    tls_record: false,
                },
            );
            let len = rng.range(60, 400) as u16;
            push(
                f,
                false,
                rtt,
                Kind::Udp,
                Payload::Filler {
                    len,
                    tls_record: false,
                },
            );
        }
        _ => {
            // QUIC-like: padded initials, then a burst of mostly full datagrams and small acks.
            push(
                f,
                true,
                0,
                Kind::Udp,
                Payload::Filler {
                    len: 1_250,
                    tls_record: false,
                },
            );
            push(
                f,
                false,
                rtt,
                Kind::Udp,
                Payload::Filler {
                    len: 1_250,
                    tls_record: false,
                },
            );
            let n = rng.range(2, 24);
            for _ in 0..n {
                let from_client = rng.chance(0.35);
                let len = if from_client {
                    rng.range(30, 80)
                } else {
                    rng.range(900, 1_350)
                };
                let gap = rng.range(10, 8_000);
                push(
                    f,
                    from_client,
                    gap,
                    Kind::Udp,
                    Payload::Filler {
                        len: len as u16,
                        tls_record: false,
                    },
                );
            }
        }
    }
}

fn plan_icmp(ctx: &mut Ctx, f: &mut Flow, rtt: u64, n: u16) {
    for seq in 1..=n {
        let gap = if seq == 1 {
            0
        } else {
            1_000_000 - rtt.min(900_000) + ctx.rng.range(0, 500)
        };
        push(f, true, gap, Kind::EchoRequest(seq), Payload::None);
        push(f, false, rtt, Kind::EchoReply(seq), Payload::None);
    }
}

fn ip_step(
    src_mac: [u8; 6],
    dst_mac: [u8; 6],
    vlan: Option<VlanId>,
    ip: IpHeaders,
) -> PacketBuilderStep<IpHeaders> {
    let eth = PacketBuilder::ethernet2(src_mac, dst_mac);
    match vlan {
        Some(v) => eth.single_vlan(v).ip(ip),
        None => eth.ip(ip),
    }
}

fn build_frame(f: &mut Flow, pkt: &Pkt, filler: &[u8], rng: &mut Rng, out: &mut Vec<u8>) {
    let (src, dst) = if pkt.from_client {
        (&f.client, &f.server)
    } else {
        (&f.server, &f.client)
    };
    let ip_id = if pkt.from_client {
        f.client_ip_id = f.client_ip_id.wrapping_add(1);
        f.client_ip_id
    } else {
        f.server_ip_id = f.server_ip_id.wrapping_add(1);
        f.server_ip_id
    };
    let ip = match (src.ip, dst.ip) {
        (IpAddr::V4(s), IpAddr::V4(d)) => IpHeaders::Ipv4(
            Ipv4Header {
                source: s.octets(),
                destination: d.octets(),
                time_to_live: src.ttl,
                identification: ip_id,
                dont_fragment: f.proto == Proto::Tcp,
                ..Default::default()
            },
            Default::default(),
        ),
        (IpAddr::V6(s), IpAddr::V6(d)) => IpHeaders::Ipv6(
            Ipv6Header {
                source: s.octets(),
                destination: d.octets(),
                hop_limit: src.ttl,
                ..Default::default()
            },
            Default::default(),
        ),
        _ => unreachable!("flows never mix address families"),
    };
    let step = ip_step(src.mac, dst.mac, f.vlan, ip);

    // Payload bytes: either owned, or a window of the filler (optionally framed as TLS).
    let mut tmp: Vec<u8>;
    let payload: &[u8] = match &pkt.payload {
        Payload::None => &[],
        Payload::Bytes(b) => b,
        Payload::Filler { len, tls_record } => {
            let len = usize::from(*len);
            let off = rng.below((filler.len() - len) as u64) as usize;
            if *tls_record && len > 5 {
                tmp = Vec::with_capacity(len);
                tmp.extend_from_slice(&[0x17, 0x03, 0x03]);
                tmp.extend_from_slice(&((len - 5) as u16).to_be_bytes());
                tmp.extend_from_slice(&filler[off..off + len - 5]);
                &tmp
            } else {
                &filler[off..off + len]
            }
        }
    };

    let result = match pkt.kind {
        Kind::Syn | Kind::SynAck | Kind::Ack | Kind::Data | Kind::Fin | Kind::Rst => {
            let (seq, ack) = if pkt.from_client {
                (&mut f.client_seq, f.server_seq)
            } else {
                (&mut f.server_seq, f.client_seq)
            };
            let mut h = TcpHeader::new(src.port, dst.port, *seq, src.window);
            match pkt.kind {
                Kind::Syn => h.syn = true,
                Kind::SynAck => {
                    h.syn = true;
                    h.ack = true;
                }
                Kind::Data => {
                    h.ack = true;
                    h.psh = true;
                }
                Kind::Fin => {
                    h.ack = true;
                    h.fin = true;
                }
                Kind::Rst => {
                    h.ack = true;
                    h.rst = true;
                }
                _ => h.ack = true,
            }
            if h.ack {
                h.acknowledgment_number = ack;
            }
            if h.syn {
                let mss = if src.ip.is_ipv6() { 1440 } else { 1460 };
                h.set_options(&[
                    TcpOptionElement::MaximumSegmentSize(mss),
                    TcpOptionElement::Noop,
                    TcpOptionElement::WindowScale(7),
                    TcpOptionElement::Noop,
                    TcpOptionElement::Noop,
                    TcpOptionElement::SelectiveAcknowledgementPermitted,
                ])
                .expect("12 bytes of options fit");
            }
            *seq = seq
                .wrapping_add(payload.len() as u32)
                .wrapping_add(u32::from(h.syn || h.fin));
            step.tcp_header(h)
                .write(out, payload)
                .map_err(|e| e.to_string())
        }
        Kind::Udp => step
            .udp(src.port, dst.port)
            .write(out, payload)
            .map_err(|e| e.to_string()),
        Kind::EchoRequest(seq) | Kind::EchoReply(seq) => {
            let data = payload::ping_data(seq);
            let request = matches!(pkt.kind, Kind::EchoRequest(_));
            match (src.ip.is_ipv6(), request) {
                (false, true) => step.icmpv4_echo_request(f.icmp_id, seq).write(out, &data),
                (false, false) => step.icmpv4_echo_reply(f.icmp_id, seq).write(out, &data),
                (true, true) => step.icmpv6_echo_request(f.icmp_id, seq).write(out, &data),
                (true, false) => step.icmpv6_echo_reply(f.icmp_id, seq).write(out, &data),
            }
            .map_err(|e| e.to_string())
        }
    };
    // Every input to the builder is produced above within its limits (payloads < MSS, valid
    // headers), so a failure is a bug in this generator.
    if let Err(e) = result {
        panic!("packet builder rejected a generated packet: {e}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use etherparse::{NetSlice, SlicedPacket, TransportSlice};

    fn gen_bytes(
        packets: u64,
        flows: u64,
        seed: u64,
        profile: Profile,
    ) -> (Vec<u8>, CaptureSummary) {
        let mut buf = Vec::new();
        let s = generate(
            &CaptureParams {
                packets,
                flows,
                seed,
                profile,
            },
            &mut buf,
        )
        .unwrap();
        (buf, s)
    }

    #[test]
    fn same_seed_same_bytes_other_seed_other_bytes() {
        let (a, _) = gen_bytes(3_000, 200, 7, Profile::Mixed);
        let (b, _) = gen_bytes(3_000, 200, 7, Profile::Mixed);
        let (c, _) = gen_bytes(3_000, 200, 8, Profile::Mixed);
        assert_eq!(a, b);
        assert_ne!(a, c);
        let (d, _) = gen_bytes(300, 30, 1, Profile::Demo);
        let (e, _) = gen_bytes(300, 30, 1, Profile::Demo);
        assert_eq!(d, e);
    }

    #[test]
    fn reads_back_with_libpcap_and_etherparse() {
        let (bytes, summary) = gen_bytes(5_000, 400, 3, Profile::Mixed);
        assert_eq!(summary.packets, 5_000);
        let dir = std::env::temp_dir().join(format!("kordon-sample-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("t.pcap");
        std::fs::write(&path, &bytes).unwrap();
        let mut cap = pcap::Capture::from_file(&path).unwrap();
        assert_eq!(cap.get_datalink(), pcap::Linktype::ETHERNET);
        let (mut n, mut last, mut v6, mut vlan, mut tcp, mut udp, mut icmp, mut bytes_total) =
            (0u64, 0u64, 0u64, 0u64, 0u64, 0u64, 0u64, 0u64);
        while let Ok(p) = cap.next_packet() {
            n += 1;
            let ts = p.header.ts.tv_sec as u64 * 1_000_000 + p.header.ts.tv_usec as u64;
            assert!(ts >= last, "timestamps must not go backwards");
            last = ts;
            bytes_total += u64::from(p.header.len);
            let s = SlicedPacket::from_ethernet(p.data).expect("every frame parses");
            if s.vlan().is_some() {
                vlan += 1;
            }
            match s.net {
                Some(NetSlice::Ipv6(_)) => v6 += 1,
                Some(NetSlice::Ipv4(_)) => {}
                other => panic!("unexpected network layer {other:?}"),
            }
            match s.transport {
                Some(TransportSlice::Tcp(_)) => tcp += 1,
                Some(TransportSlice::Udp(_)) => udp += 1,
                Some(TransportSlice::Icmpv4(_)) | Some(TransportSlice::Icmpv6(_)) => icmp += 1,
                other => panic!("unexpected transport {other:?}"),
            }
        }
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(n, 5_000);
        assert_eq!(bytes_total, summary.bytes);
        assert!(v6 > 0 && v6 < n / 4, "IPv6 share: {v6}");
        assert!(vlan > 0 && vlan < n / 3, "VLAN share: {vlan}");
        assert!(tcp > n / 2 && udp > 0 && icmp > 0, "{tcp} {udp} {icmp}");
        let avg = summary.bytes / summary.packets;
        assert!((250..700).contains(&avg), "average frame size {avg}");
    }

    #[test]
    fn packet_count_is_exact() {
        for (packets, flows) in [(1, 1), (10, 100), (777, 20)] {
            let (bytes, s) = gen_bytes(packets, flows, 11, Profile::Mixed);
            assert_eq!(s.packets, packets);
            // 24-byte header, then records: walk them.
            let mut off = 24;
            let mut n = 0;
            while off < bytes.len() {
                let incl = u32::from_le_bytes(bytes[off + 8..off + 12].try_into().unwrap());
                off += 16 + incl as usize;
                n += 1;
            }
            assert_eq!(off, bytes.len());
            assert_eq!(n, packets);
        }
    }
}

//! The indicator list generator.
//!
//! Random indicators come from public unicast space outside the capture pools (see [`addrs`]), so
//! they never match a generated capture by chance. Hits are *planted*: with `--hit-from`, the
//! capture is read back, its IPv4 flows listed, and external endpoints of randomly chosen flows
//! are added (as exact addresses, or as /24–/30 CIDRs around them, in proportion to the requested
//! IPv4/CIDR counts) until about `--hit-rate` of the flows match. The exact number of matching
//! flows is then computed and written into the file's header, for benchmarks to check against.

use std::collections::{HashMap, HashSet};
use std::fs::{self, File};
use std::io::{self, BufWriter, Write};
use std::net::Ipv4Addr;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use etherparse::{Icmpv4Type, NetSlice, SlicedPacket, TransportSlice};

use crate::addrs::{self, Exclusions, mask};
use crate::rng::Rng;

/// Prefix-length weights for /8 … /30: mostly /16–/24, few very short or very long prefixes.
const PREFIX_WEIGHTS: [(u8, u32); 23] = [
    (8, 1),
    (9, 1),
    (10, 2),
    (11, 3),
    (12, 5),
    (13, 8),
    (14, 12),
    (15, 20),
    (16, 100),
    (17, 60),
    (18, 80),
    (19, 100),
    (20, 120),
    (21, 110),
    (22, 130),
    (23, 120),
    (24, 250),
    (25, 20),
    (26, 20),
    (27, 20),
    (28, 20),
    (29, 15),
    (30, 15),
];

#[derive(Debug, Clone)]
pub struct IndicatorParams {
    pub ipv4: u64,
    pub cidr: u64,
    pub seed: u64,
    pub hit_from: Option<PathBuf>,
    pub hit_rate: f64,
}

#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize)]
pub struct IndicatorSummary {
    pub ipv4: u64,
    pub cidr: u64,
    pub planted_ipv4: u64,
    pub planted_cidr: u64,
    /// IPv4 flows in the capture (5-tuple, either direction; ICMP echo by identifier).
    pub capture_ipv4_flows: u64,
    /// Capture flows whose source or destination is covered by the set.
    pub matching_flows: u64,
    /// … of which the initiator (source of the first packet) is covered.
    pub matching_as_src: u64,
    /// … of which the responder is covered.
    pub matching_as_dst: u64,
    /// … of which only a CIDR (no exact address) covers an endpoint.
    pub matching_via_cidr_only: u64,
}

/// A generated set: addresses and networks, in output order.
pub struct IndicatorSet {
    pub ipv4: Vec<u32>,
    pub cidrs: Vec<(u32, u8)>,
    pub summary: IndicatorSummary,
}

/// IPv4 flows of a capture: initiator and responder address of each.
pub struct CaptureFlows {
    pub flows: Vec<(u32, u32)>,
}

#[derive(Hash, PartialEq, Eq)]
struct FlowKey {
    proto: u8,
    lo: (u32, u16),
    hi: (u32, u16),
}

/// Reads a pcap/pcapng (Ethernet) and lists its IPv4 flows in order of first appearance.
pub fn read_capture_flows(path: &Path) -> anyhow::Result<CaptureFlows> {
    let mut cap = pcap::Capture::from_file(path)
        .with_context(|| format!("opening capture {}", path.display()))?;
    if cap.get_datalink() != pcap::Linktype::ETHERNET {
        bail!("{}: only Ethernet captures are supported", path.display());
    }
    let mut index: HashMap<FlowKey, ()> = HashMap::new();
    let mut flows = Vec::new();
    loop {
        let packet = match cap.next_packet() {
            Ok(p) => p,
            Err(pcap::Error::NoMorePackets) => break,
            Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
        };
        let Ok(s) = SlicedPacket::from_ethernet(packet.data) else {
            continue;
        };
        let Some(NetSlice::Ipv4(ip)) = &s.net else {
            continue;
        };
        let src = u32::from(ip.header().source_addr());
        let dst = u32::from(ip.header().destination_addr());
        let (proto, sp, dp) = match &s.transport {
            Some(TransportSlice::Tcp(t)) => (6, t.source_port(), t.destination_port()),
            Some(TransportSlice::Udp(u)) => (17, u.source_port(), u.destination_port()),
            Some(TransportSlice::Icmpv4(i)) => match i.icmp_type() {
                Icmpv4Type::EchoRequest(e) | Icmpv4Type::EchoReply(e) => (1, e.id, e.id),
                _ => (1, 0, 0),
            },
            _ => (ip.header().protocol().0, 0, 0),
        };
        let (lo, hi) = if (src, sp) <= (dst, dp) {
            ((src, sp), (dst, dp))
        } else {
            ((dst, dp), (src, sp))
        };
        if index.insert(FlowKey { proto, lo, hi }, ()).is_none() {
            flows.push((src, dst));
        }
    }
    Ok(CaptureFlows { flows })
}

fn is_reserved(ip: u32) -> bool {
    let a = Ipv4Addr::from(ip);
    a.is_private()
        || a.is_loopback()
        || a.is_link_local()
        || a.is_multicast()
        || a.is_broadcast()
        || a.is_documentation()
        || a.is_unspecified()
        || a.octets()[0] >= 240
        || (a.octets()[0] == 100 && (a.octets()[1] & 0xc0) == 64)
}

/// Membership test used both for planting and for the final exact count.
struct Matcher {
    ips: HashSet<u32>,
    nets: HashSet<(u32, u8)>,
    lens: Vec<u8>,
}

impl Matcher {
    fn new(ips: &[u32], cidrs: &[(u32, u8)]) -> Matcher {
        let mut lens: Vec<u8> = cidrs.iter().map(|c| c.1).collect();
        lens.sort_unstable();
        lens.dedup();
        Matcher {
            ips: ips.iter().copied().collect(),
            nets: cidrs.iter().copied().collect(),
            lens,
        }
    }

    fn exact(&self, ip: u32) -> bool {
        self.ips.contains(&ip)
    }

    fn cidr(&self, ip: u32) -> bool {
        self.lens
            .iter()
            .any(|&l| self.nets.contains(&(ip & mask(l), l)))
    }
}

pub fn generate(params: &IndicatorParams) -> anyhow::Result<IndicatorSet> {
    let mut rng = Rng::new(params.seed, 0x1D1C);
    let excl = Exclusions::new();
    let mut ipv4: Vec<u32> = Vec::with_capacity(params.ipv4 as usize);
    let mut cidrs: Vec<(u32, u8)> = Vec::with_capacity(params.cidr as usize);
    let mut ip_set: HashSet<u32> = HashSet::with_capacity(params.ipv4 as usize);
    let mut cidr_set: HashSet<(u32, u8)> = HashSet::with_capacity(params.cidr as usize);
    let mut summary = IndicatorSummary::default();

    let flows = match &params.hit_from {
        Some(p) => read_capture_flows(p)?.flows,
        None => Vec::new(),
    };
    summary.capture_ipv4_flows = flows.len() as u64;

    if !flows.is_empty() && params.hit_rate > 0.0 {
        let target = ((flows.len() as f64 * params.hit_rate).ceil() as u64).max(1);
        let slack = (target / 10).max(5);
        let mut by_addr: HashMap<u32, Vec<u32>> = HashMap::new();
        for (i, &(s, d)) in flows.iter().enumerate() {
            by_addr.entry(s).or_default().push(i as u32);
            if d != s {
                by_addr.entry(d).or_default().push(i as u32);
            }
        }
        let mut addrs_sorted: Vec<u32> = by_addr.keys().copied().collect();
        addrs_sorted.sort_unstable();
        let mut order: Vec<u32> = (0..flows.len() as u32).collect();
        rng.shuffle(&mut order);
        let mut matched = vec![false; flows.len()];
        let mut matched_count = 0u64;
        let total = (params.ipv4 + params.cidr).max(1) as f64;
        let cidr_share = params.cidr as f64 / total;
        for &fi in &order {
            if matched_count >= target {
                break;
            }
            if matched[fi as usize] {
                continue;
            }
            let (s, d) = flows[fi as usize];
            let cands: Vec<u32> = [s, d].into_iter().filter(|&a| !is_reserved(a)).collect();
            if cands.is_empty() {
                continue;
            }
            let addr = *rng.pick(&cands);
            let planted = summary.planted_ipv4 + summary.planted_cidr;
            let as_cidr = (summary.planted_cidr < params.cidr)
                && ((summary.planted_cidr as f64) < (planted + 1) as f64 * cidr_share
                    || summary.planted_ipv4 >= params.ipv4);
            if !as_cidr && summary.planted_ipv4 >= params.ipv4 {
                break;
            }
            let (net, len) = if as_cidr {
                let len = rng.range(24, 30) as u8;
                (addr & mask(len), len)
            } else {
                (addr, 32)
            };
            if ip_set.contains(&addr) || cidr_set.contains(&(net, len)) {
                continue;
            }
            let first = addrs_sorted.partition_point(|&a| a < net);
            let last = addrs_sorted.partition_point(|&a| a <= (net | !mask(len)));
            let affected: Vec<u32> = addrs_sorted[first..last]
                .iter()
                .flat_map(|a| by_addr[a].iter().copied())
                .filter(|&f| !matched[f as usize])
                .collect::<HashSet<u32>>()
                .into_iter()
                .collect();
            if affected.is_empty() || matched_count + affected.len() as u64 > target + slack {
                continue;
            }
            for f in &affected {
                matched[*f as usize] = true;
            }
            matched_count += affected.len() as u64;
            if as_cidr {
                cidr_set.insert((net, len));
                cidrs.push((net, len));
                summary.planted_cidr += 1;
            } else {
                ip_set.insert(addr);
                ipv4.push(addr);
                summary.planted_ipv4 += 1;
            }
        }
    }

    // Random fill, outside reserved space and the capture pools.
    while (ipv4.len() as u64) < params.ipv4 {
        let a = rng.next_u32();
        if excl.overlaps(a, 32) || !ip_set.insert(a) {
            continue;
        }
        ipv4.push(a);
    }
    let weights: Vec<u32> = PREFIX_WEIGHTS.iter().map(|w| w.1).collect();
    while (cidrs.len() as u64) < params.cidr {
        let len = PREFIX_WEIGHTS[rng.weighted(&weights)].0;
        let net = rng.next_u32() & mask(len);
        if excl.overlaps(net, len) || !cidr_set.insert((net, len)) {
            continue;
        }
        cidrs.push((net, len));
    }
    rng.shuffle(&mut ipv4);
    rng.shuffle(&mut cidrs);

    // Exact expectation.
    let m = Matcher::new(&ipv4, &cidrs);
    for &(s, d) in &flows {
        let (se, de) = (m.exact(s), m.exact(d));
        let (sc, dc) = (m.cidr(s), m.cidr(d));
        if se || de || sc || dc {
            summary.matching_flows += 1;
            if se || sc {
                summary.matching_as_src += 1;
            }
            if de || dc {
                summary.matching_as_dst += 1;
            }
            if !se && !de {
                summary.matching_via_cidr_only += 1;
            }
        }
    }
    summary.ipv4 = ipv4.len() as u64;
    summary.cidr = cidrs.len() as u64;
    Ok(IndicatorSet {
        ipv4,
        cidrs,
        summary,
    })
}

fn fmt_cidr(net: u32, len: u8) -> String {
    format!("{}/{}", Ipv4Addr::from(net), len)
}

/// Writes `path` through a temporary file, so an interrupted run never leaves a partial list.
pub fn write_atomically(
    path: &Path,
    f: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> anyhow::Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    }
    let tmp = path.with_extension("partial");
    {
        let file = File::create(&tmp).with_context(|| format!("creating {}", tmp.display()))?;
        let mut w = BufWriter::with_capacity(1 << 20, file);
        f(&mut w).with_context(|| format!("writing {}", tmp.display()))?;
        w.flush()?;
    }
    fs::rename(&tmp, path).with_context(|| format!("renaming to {}", path.display()))?;
    Ok(())
}

/// The plain list: `#` header, then one address or CIDR per line; then the values of
/// `extra` lists follow (domains, JA4: kinds the agent infers from a plain list).
pub fn write_plain(
    path: &Path,
    set: &IndicatorSet,
    header: &[String],
    extra: &[&[String]],
) -> anyhow::Result<()> {
    write_atomically(path, |w| {
        for line in header {
            writeln!(w, "# {line}")?;
        }
        for &a in &set.ipv4 {
            writeln!(w, "{}", Ipv4Addr::from(a))?;
        }
        for &(n, l) in &set.cidrs {
            writeln!(w, "{}", fmt_cidr(n, l))?;
        }
        for list in extra {
            for v in *list {
                writeln!(w, "{v}")?;
            }
        }
        Ok(())
    })
}

/// Suricata's formats of the same set: a `type ipv4` dataset file and an iprep category + list.
pub fn write_suricata(dir: &Path, set: &IndicatorSet) -> anyhow::Result<()> {
    write_atomically(&dir.join("ipv4.lst"), |w| {
        for &a in &set.ipv4 {
            writeln!(w, "{}", Ipv4Addr::from(a))?;
        }
        Ok(())
    })?;
    write_atomically(&dir.join("iprep").join("categories.txt"), |w| {
        writeln!(w, "1,kordon,Kordon bench")
    })?;
    write_atomically(&dir.join("iprep").join("cidr.list"), |w| {
        for &(n, l) in &set.cidrs {
            writeln!(w, "{},1,100", fmt_cidr(n, l))?;
        }
        Ok(())
    })
}

/// The demo list: a handful of commented hits plus unrelated decoys.
pub fn write_demo(path: &Path, seed: u64, suricata_dir: Option<&Path>) -> anyhow::Result<()> {
    let decoys = generate(&IndicatorParams {
        ipv4: 8,
        cidr: 4,
        seed,
        hit_from: None,
        hit_rate: 0.0,
    })?;
    write_atomically(path, |w| {
        writeln!(
            w,
            "# Kordon demo indicators (synthetic), written by `kordon-sample indicators --profile demo --seed {seed}`."
        )?;
        writeln!(
            w,
            "# One value per line; '#' starts a comment. Each value's type is inferred: IPv4, CIDR, domain."
        )?;
        writeln!(
            w,
            "# Against `kordon-sample capture --profile demo` these hit 4 IPv4 flows plus DNS/TLS names."
        )?;
        writeln!(w, "#")?;
        writeln!(
            w,
            "# C2 server: 10.20.1.15 connects to it over TLS on 443 (hit as destination)."
        )?;
        writeln!(w, "{}", addrs::DEMO_C2)?;
        writeln!(
            w,
            "# Scanner: probes the DMZ host 10.20.0.22 over SSH and ICMP (hit as source, two flows)."
        )?;
        writeln!(w, "{}", addrs::DEMO_SCANNER)?;
        writeln!(
            w,
            "# Payload hosting range: 10.20.1.5 (VLAN-tagged) fetches over HTTP from {} (hit via CIDR).",
            addrs::DEMO_CIDR_HOST
        )?;
        writeln!(
            w,
            "{}",
            fmt_cidr(u32::from(addrs::DEMO_CIDR.0), addrs::DEMO_CIDR.1)
        )?;
        writeln!(
            w,
            "# C2 domain: looked up over DNS by 10.20.1.15, then named in the TLS SNI."
        )?;
        writeln!(w, "{}", addrs::DEMO_DOMAIN)?;
        writeln!(w, "#")?;
        writeln!(w, "# Decoys: must not match anything in the demo capture.")?;
        for &a in &decoys.ipv4 {
            writeln!(w, "{}", Ipv4Addr::from(a))?;
        }
        for &(n, l) in &decoys.cidrs {
            writeln!(w, "{}", fmt_cidr(n, l))?;
        }
        Ok(())
    })?;
    if let Some(dir) = suricata_dir {
        let mut ipv4 = vec![u32::from(addrs::DEMO_C2), u32::from(addrs::DEMO_SCANNER)];
        ipv4.extend(&decoys.ipv4);
        let mut cidrs = vec![(u32::from(addrs::DEMO_CIDR.0), addrs::DEMO_CIDR.1)];
        cidrs.extend(&decoys.cidrs);
        write_suricata(
            dir,
            &IndicatorSet {
                ipv4,
                cidrs,
                summary: IndicatorSummary::default(),
            },
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::{self, CaptureParams, Profile};

    fn temp_dir(tag: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("kordon-sample-{tag}-{}", std::process::id()));
        fs::create_dir_all(&d).unwrap();
        d
    }

    #[test]
    fn random_sets_are_deterministic_sized_and_well_formed() {
        let p = IndicatorParams {
            ipv4: 2_000,
            cidr: 500,
            seed: 5,
            hit_from: None,
            hit_rate: 0.0,
        };
        let a = generate(&p).unwrap();
        let b = generate(&p).unwrap();
        assert_eq!(a.ipv4, b.ipv4);
        assert_eq!(a.cidrs, b.cidrs);
        assert_eq!(a.ipv4.len(), 2_000);
        assert_eq!(a.cidrs.len(), 500);
        let ex = Exclusions::new();
        for &(n, l) in &a.cidrs {
            assert!((8..=30).contains(&l));
            assert_eq!(n & !mask(l), 0, "host bits must be zero");
            assert!(!ex.overlaps(n, l));
        }
        let mid = a.cidrs.iter().filter(|c| (16..=24).contains(&c.1)).count();
        assert!(mid > a.cidrs.len() * 3 / 4, "mostly /16–/24: {mid}");
    }

    #[test]
    fn planted_hits_match_the_capture_exactly() {
        let dir = temp_dir("hits");
        let pcap_path = dir.join("c.pcap");
        let file = File::create(&pcap_path).unwrap();
        capture::generate(
            &CaptureParams {
                packets: 20_000,
                flows: 1_000,
                seed: 9,
                profile: Profile::Mixed,
            },
            BufWriter::new(file),
        )
        .unwrap();
        let set = generate(&IndicatorParams {
            ipv4: 5_000,
            cidr: 1_000,
            seed: 9,
            hit_from: Some(pcap_path.clone()),
            hit_rate: 0.05,
        })
        .unwrap();
        let s = &set.summary;
        assert!(s.capture_ipv4_flows > 500);
        assert!(s.planted_ipv4 > 0 && s.planted_cidr > 0, "{s:?}");
        let target = (s.capture_ipv4_flows as f64 * 0.05).ceil() as u64;
        assert!(s.matching_flows >= target / 2, "{s:?}");
        assert!(s.matching_flows <= target + (target / 10).max(5), "{s:?}");
        assert!(s.matching_as_src > 0 && s.matching_as_dst > 0, "{s:?}");
        assert!(s.matching_via_cidr_only > 0, "{s:?}");
        assert_eq!(set.ipv4.len(), 5_000);
        assert_eq!(set.cidrs.len(), 1_000);
        // Without planting, nothing in the capture matches.
        let none = generate(&IndicatorParams {
            ipv4: 5_000,
            cidr: 1_000,
            seed: 9,
            hit_from: Some(pcap_path),
            hit_rate: 0.0,
        })
        .unwrap();
        assert_eq!(none.summary.matching_flows, 0);
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn demo_capture_hits_the_demo_list() {
        let dir = temp_dir("demo");
        let pcap_path = dir.join("demo.pcap");
        capture::generate(
            &CaptureParams {
                packets: 400,
                flows: 40,
                seed: 1,
                profile: Profile::Demo,
            },
            BufWriter::new(File::create(&pcap_path).unwrap()),
        )
        .unwrap();
        let flows = read_capture_flows(&pcap_path).unwrap().flows;
        let c2 = u32::from(addrs::DEMO_C2);
        let scanner = u32::from(addrs::DEMO_SCANNER);
        let cidr_host = u32::from(addrs::DEMO_CIDR_HOST);
        assert_eq!(flows.iter().filter(|f| f.1 == c2).count(), 1);
        assert_eq!(flows.iter().filter(|f| f.0 == scanner).count(), 2);
        assert_eq!(flows.iter().filter(|f| f.1 == cidr_host).count(), 1);
        let list = dir.join("demo.txt");
        write_demo(&list, 1, Some(&dir.join("suricata"))).unwrap();
        let text = fs::read_to_string(&list).unwrap();
        assert!(text.contains(addrs::DEMO_DOMAIN));
        assert!(
            fs::read_to_string(dir.join("suricata/iprep/cidr.list"))
                .unwrap()
                .starts_with("91.243.44.0/24,1,100\n")
        );
        fs::remove_dir_all(&dir).unwrap();
    }
}

//! App-layer indicators: domains (matched on `dns.query`, `tls.sni`, `http.host`), JA3 and JA4.
//!
//! Random domains are plausible syllable names under common TLDs, unique, and never one of the
//! capture's names. Random fingerprints are well-formed (32 hex digits; `t13d…_…_…` JA4) and never
//! one of the capture's. Hits are planted like the IPv4 ones: with `--hit-from`, the capture is
//! read back, and for each flow its DNS query names, TLS SNI, HTTP `Host` values and the JA3/JA4
//! of its ClientHello are collected. JA3/JA4 are computed with the agent's own library code
//! (`kordon_agent::applayer::tls::{ja3, ja4}`), so the fingerprints are exactly the agent's.
//! Values of randomly chosen flows are then added until about `--hit-rate` of the flows carrying
//! that kind of value match, and the exact counts are computed afterwards.

use std::collections::{HashMap, HashSet};
use std::net::IpAddr;
use std::path::Path;

use anyhow::{Context, bail};
use base64::Engine;
use etherparse::{NetSlice, SlicedPacket, TransportSlice};
use kordon_agent::applayer::tls::ja3::{Md5Hex, ja3_string};
use kordon_agent::applayer::tls::ja4::ja4;
use kordon_agent::applayer::tls::parser::{
    ContentType, ExtensionType, HandshakeType, parse_client_hello, parse_handshake,
    parse_tls_record, server_name,
};

use crate::indicators::write_atomically;
use crate::payload;
use crate::rng::Rng;

/// App-layer values of one capture flow (IPv4 or IPv6, TCP or UDP).
#[derive(Debug, Default, Clone)]
pub struct AppFlow {
    pub dns_queries: Vec<String>,
    pub sni: Vec<String>,
    pub http_hosts: Vec<String>,
    pub ja3: Option<String>,
    pub ja4: Option<String>,
}

impl AppFlow {
    fn has_name(&self) -> bool {
        !(self.dns_queries.is_empty() && self.sni.is_empty() && self.http_hosts.is_empty())
    }

    fn names(&self) -> impl Iterator<Item = &String> {
        self.dns_queries
            .iter()
            .chain(&self.sni)
            .chain(&self.http_hosts)
    }
}

#[derive(Hash, PartialEq, Eq)]
struct FlowKey {
    proto: u8,
    lo: (IpAddr, u16),
    hi: (IpAddr, u16),
}

fn push_unique(v: &mut Vec<String>, s: String) {
    if !v.contains(&s) {
        v.push(s);
    }
}

/// The question name of a DNS query message (not a response), lower-cased.
pub fn dns_query_name(msg: &[u8]) -> Option<String> {
    if msg.len() < 12 || msg[2] & 0x80 != 0 || u16::from_be_bytes([msg[4], msg[5]]) == 0 {
        return None;
    }
    let mut i = 12;
    let mut name = String::new();
    loop {
        let len = usize::from(*msg.get(i)?);
        if len == 0 {
            break;
        }
        if len & 0xc0 != 0 {
            return None;
        }
        let label = msg.get(i + 1..i + 1 + len)?;
        if !name.is_empty() {
            name.push('.');
        }
        name.push_str(&String::from_utf8_lossy(label).to_ascii_lowercase());
        i += 1 + len;
    }
    (!name.is_empty()).then_some(name)
}

/// SNI, JA3 hash and JA4 of a segment that starts with a complete ClientHello record.
pub fn client_hello_values(data: &[u8]) -> Option<(Option<String>, String, String)> {
    let (_, rec) = parse_tls_record(data).ok()?;
    if rec.content_type != ContentType::HANDSHAKE {
        return None;
    }
    let (_, hs) = parse_handshake(rec.fragment).ok()?;
    if hs.msg_type != HandshakeType::CLIENT_HELLO {
        return None;
    }
    let hello = parse_client_hello(hs.body).ok()?;
    let sni = hello
        .extensions
        .find(ExtensionType::SERVER_NAME)
        .and_then(server_name)
        .map(|n| String::from_utf8_lossy(n).to_ascii_lowercase());
    let mut s = String::new();
    ja3_string(&hello, &mut s);
    let ja3 = Md5Hex::of(&s).as_str().to_string();
    let ja4 = ja4(&hello, &mut Vec::new()).as_str().to_string();
    Some((sni, ja3, ja4))
}

/// The `Host` header of a segment that starts an HTTP/1.x request (port stripped, lower-cased).
pub fn http_host(data: &[u8]) -> Option<String> {
    const METHODS: [&[u8]; 6] = [
        b"GET ",
        b"POST ",
        b"HEAD ",
        b"PUT ",
        b"DELETE ",
        b"OPTIONS ",
    ];
    if !METHODS.iter().any(|m| data.starts_with(m)) {
        return None;
    }
    let head_end = data
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or(data.len());
    let head = std::str::from_utf8(&data[..head_end]).ok()?;
    let value = head.split("\r\n").skip(1).find_map(|l| {
        let (k, v) = l.split_once(':')?;
        k.eq_ignore_ascii_case("host").then(|| v.trim())
    })?;
    let host = match value.rsplit_once(':') {
        Some((h, p)) if !h.contains(':') && p.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => value,
    };
    // IP literals (`10.0.0.1`, `[2001:db8::1]`) are addresses, not domain indicators.
    let literal = host.starts_with('[') || host.parse::<IpAddr>().is_ok();
    (!host.is_empty() && !literal).then(|| host.to_ascii_lowercase())
}

/// Reads a pcap (Ethernet) and lists the app-layer values of its flows, in order of first
/// appearance; flows without any value are left out. `flows_total` counts every flow.
pub fn read_capture_app(path: &Path) -> anyhow::Result<(Vec<AppFlow>, u64)> {
    let mut cap = pcap::Capture::from_file(path)
        .with_context(|| format!("opening capture {}", path.display()))?;
    if cap.get_datalink() != pcap::Linktype::ETHERNET {
        bail!("{}: only Ethernet captures are supported", path.display());
    }
    let mut index: HashMap<FlowKey, usize> = HashMap::new();
    let mut flows: Vec<AppFlow> = Vec::new();
    loop {
        let packet = match cap.next_packet() {
            Ok(p) => p,
            Err(pcap::Error::NoMorePackets) => break,
            Err(e) => return Err(e).with_context(|| format!("reading {}", path.display())),
        };
        let Ok(s) = SlicedPacket::from_ethernet(packet.data) else {
            continue;
        };
        let (src, dst): (IpAddr, IpAddr) = match &s.net {
            Some(NetSlice::Ipv4(ip)) => (
                ip.header().source_addr().into(),
                ip.header().destination_addr().into(),
            ),
            Some(NetSlice::Ipv6(ip)) => (
                ip.header().source_addr().into(),
                ip.header().destination_addr().into(),
            ),
            _ => continue,
        };
        let (proto, sp, dp, data) = match &s.transport {
            Some(TransportSlice::Tcp(t)) => (6, t.source_port(), t.destination_port(), t.payload()),
            Some(TransportSlice::Udp(u)) => {
                (17, u.source_port(), u.destination_port(), u.payload())
            }
            _ => continue,
        };
        let (lo, hi) = if (src, sp) <= (dst, dp) {
            ((src, sp), (dst, dp))
        } else {
            ((dst, dp), (src, sp))
        };
        let next = flows.len();
        let fi = *index.entry(FlowKey { proto, lo, hi }).or_insert(next);
        if fi == next {
            flows.push(AppFlow::default());
        }
        if data.is_empty() {
            continue;
        }
        let f = &mut flows[fi];
        if proto == 17 && dp == 53 {
            if let Some(n) = dns_query_name(data) {
                push_unique(&mut f.dns_queries, n);
            }
        } else if proto == 6 && data[0] == 0x16 && f.ja3.is_none() {
            if let Some((sni, ja3, ja4)) = client_hello_values(data) {
                if let Some(n) = sni {
                    push_unique(&mut f.sni, n);
                }
                f.ja3 = Some(ja3);
                f.ja4 = Some(ja4);
            }
        } else if proto == 6
            && let Some(h) = http_host(data)
        {
            push_unique(&mut f.http_hosts, h);
        }
    }
    let total = flows.len() as u64;
    flows.retain(|f| f.has_name() || f.ja3.is_some());
    Ok((flows, total))
}

#[derive(Debug, Clone)]
pub struct AppParams {
    pub domains: u64,
    pub ja3: u64,
    pub ja4: u64,
    pub seed: u64,
    pub hit_rate: f64,
}

#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AppSummary {
    pub domains: u64,
    pub ja3: u64,
    pub ja4: u64,
    pub planted_domains: u64,
    pub planted_ja3: u64,
    pub planted_ja4: u64,
    /// Capture flows (IPv4 and IPv6, TCP and UDP) with at least one name or a ClientHello.
    pub capture_app_flows: u64,
    pub capture_name_flows: u64,
    pub capture_tls_flows: u64,
    /// Flows matching any app-layer indicator (domain on any location, JA3 or JA4).
    pub matching_app_flows: u64,
    pub matching_dns_query: u64,
    pub matching_tls_sni: u64,
    pub matching_http_host: u64,
    pub matching_domain: u64,
    pub matching_ja3: u64,
    pub matching_ja4: u64,
}

pub struct AppSet {
    pub domains: Vec<String>,
    pub ja3: Vec<String>,
    pub ja4: Vec<String>,
    pub summary: AppSummary,
}

const SYLLABLES: [&str; 64] = [
    "ab", "ac", "al", "am", "an", "ar", "as", "at", "ba", "be", "bi", "bo", "ca", "ce", "co", "cu",
    "da", "de", "di", "do", "el", "en", "er", "es", "fa", "fi", "fo", "ga", "go", "ha", "he", "in",
    "ka", "ki", "la", "le", "li", "lo", "lu", "ma", "me", "mi", "mo", "na", "ne", "ni", "no", "or",
    "pa", "pe", "po", "ra", "re", "ri", "ro", "sa", "se", "si", "ta", "te", "ti", "to", "va", "ze",
];
const TLDS: [(&str, u32); 12] = [
    ("com", 40),
    ("net", 12),
    ("org", 8),
    ("info", 5),
    ("io", 5),
    ("ru", 5),
    ("xyz", 6),
    ("top", 6),
    ("biz", 3),
    ("online", 4),
    ("site", 3),
    ("de", 3),
];
const SUBS: [&str; 8] = [
    "www", "api", "cdn", "mail", "login", "update", "static", "m",
];

fn random_domain(rng: &mut Rng, tld_weights: &[u32], out: &mut String) {
    out.clear();
    if rng.chance(0.3) {
        out.push_str(rng.pick::<&str>(&SUBS));
        out.push('.');
    }
    for _ in 0..rng.range(2, 4) {
        out.push_str(rng.pick::<&str>(&SYLLABLES));
    }
    if rng.chance(0.25) {
        let n = rng.range(1, 999);
        out.push_str(&n.to_string());
    }
    out.push('.');
    out.push_str(TLDS[rng.weighted(tld_weights)].0);
}

fn hex(rng: &mut Rng, n: usize, out: &mut String) {
    const H: &[u8; 16] = b"0123456789abcdef";
    for _ in 0..n {
        out.push(H[rng.below(16) as usize] as char);
    }
}

fn random_ja3(rng: &mut Rng) -> String {
    let mut s = String::with_capacity(32);
    hex(rng, 32, &mut s);
    s
}

fn random_ja4(rng: &mut Rng) -> String {
    let mut s = String::with_capacity(36);
    s.push(if rng.chance(0.9) { 't' } else { 'q' });
    s.push_str(rng.pick::<&str>(&["13", "12", "11"]));
    s.push(if rng.chance(0.8) { 'd' } else { 'i' });
    s.push_str(&format!("{:02}{:02}", rng.range(2, 40), rng.range(1, 25)));
    s.push_str(rng.pick::<&str>(&["h2", "h1", "00", "h3"]));
    s.push('_');
    hex(rng, 12, &mut s);
    s.push('_');
    hex(rng, 12, &mut s);
    s
}

/// Greedy planting of one kind: values of randomly ordered flows are added while the number of
/// flows they make match stays within `target + slack`. Returns the planted values.
fn plant(
    rng: &mut Rng,
    flows: &[AppFlow],
    values_of: impl Fn(&AppFlow) -> Vec<&String>,
    max: u64,
    hit_rate: f64,
) -> Vec<String> {
    let carrying: Vec<usize> = (0..flows.len())
        .filter(|&i| !values_of(&flows[i]).is_empty())
        .collect();
    if carrying.is_empty() || hit_rate <= 0.0 || max == 0 {
        return Vec::new();
    }
    let target = ((carrying.len() as f64 * hit_rate).ceil() as u64).max(1);
    let slack = (target / 10).max(5);
    let mut by_value: HashMap<&String, Vec<usize>> = HashMap::new();
    for &i in &carrying {
        for v in values_of(&flows[i]) {
            by_value.entry(v).or_default().push(i);
        }
    }
    let mut order = carrying.clone();
    rng.shuffle(&mut order);
    let mut matched = vec![false; flows.len()];
    let mut count = 0u64;
    let mut planted: Vec<String> = Vec::new();
    let mut chosen: HashSet<&String> = HashSet::new();
    for fi in order {
        if count >= target || planted.len() as u64 >= max {
            break;
        }
        if matched[fi] {
            continue;
        }
        let vals = values_of(&flows[fi]);
        let v = *rng.pick(&vals);
        if chosen.contains(v) {
            continue;
        }
        let affected: Vec<usize> = by_value[v]
            .iter()
            .copied()
            .filter(|&f| !matched[f])
            .collect();
        if affected.is_empty() || count + affected.len() as u64 > target + slack {
            continue;
        }
        for f in affected {
            matched[f] = true;
            count += 1;
        }
        chosen.insert(v);
        planted.push(v.clone());
    }
    planted
}

/// Fills `out` with `n` values from `make`, unique and outside `exclude`.
fn fill(
    n: u64,
    out: &mut Vec<String>,
    exclude: &HashSet<String>,
    mut make: impl FnMut() -> String,
) {
    let mut seen: HashSet<String> = out.iter().cloned().collect();
    seen.reserve(n as usize);
    out.reserve(n as usize);
    while (out.len() as u64) < n {
        let v = make();
        if exclude.contains(&v) || seen.contains(&v) {
            continue;
        }
        seen.insert(v.clone());
        out.push(v);
    }
}

pub fn generate(params: &AppParams, flows: &[AppFlow]) -> AppSet {
    let mut rng = Rng::new(params.seed, 0xA99);
    let mut summary = AppSummary {
        capture_app_flows: flows.len() as u64,
        capture_name_flows: flows.iter().filter(|f| f.has_name()).count() as u64,
        capture_tls_flows: flows.iter().filter(|f| f.ja3.is_some()).count() as u64,
        ..AppSummary::default()
    };
    let mut domains = plant(
        &mut rng,
        flows,
        |f| f.names().collect(),
        params.domains,
        params.hit_rate,
    );
    let mut ja3 = plant(
        &mut rng,
        flows,
        |f| f.ja3.iter().collect(),
        params.ja3,
        params.hit_rate,
    );
    let mut ja4 = plant(
        &mut rng,
        flows,
        |f| f.ja4.iter().collect(),
        params.ja4,
        params.hit_rate,
    );
    summary.planted_domains = domains.len() as u64;
    summary.planted_ja3 = ja3.len() as u64;
    summary.planted_ja4 = ja4.len() as u64;

    // Random fill: never a value of the capture (nor a name the capture generator can emit).
    let mut exclude: HashSet<String> = flows
        .iter()
        .flat_map(|f| f.names().chain(&f.ja3).chain(&f.ja4).cloned())
        .collect();
    exclude.extend(payload::DNS_NAMES.iter().map(|s| s.to_string()));
    exclude.extend(payload::TLS_NAMES.iter().map(|s| s.to_string()));
    let tld_weights: Vec<u32> = TLDS.iter().map(|t| t.1).collect();
    let mut name = String::with_capacity(48);
    fill(params.domains, &mut domains, &exclude, || {
        random_domain(&mut rng, &tld_weights, &mut name);
        name.clone()
    });
    let mut frng = Rng::new(params.seed, 0xF1A);
    fill(params.ja3, &mut ja3, &exclude, || random_ja3(&mut frng));
    fill(params.ja4, &mut ja4, &exclude, || random_ja4(&mut frng));
    rng.shuffle(&mut domains);
    rng.shuffle(&mut ja3);
    rng.shuffle(&mut ja4);

    // Exact expectation.
    let ds: HashSet<&str> = domains.iter().map(String::as_str).collect();
    let j3: HashSet<&str> = ja3.iter().map(String::as_str).collect();
    let j4: HashSet<&str> = ja4.iter().map(String::as_str).collect();
    let any = |v: &[String]| v.iter().any(|n| ds.contains(n.as_str()));
    for f in flows {
        let (q, s, h) = (any(&f.dns_queries), any(&f.sni), any(&f.http_hosts));
        let a = f.ja3.as_deref().is_some_and(|v| j3.contains(v));
        let b = f.ja4.as_deref().is_some_and(|v| j4.contains(v));
        summary.matching_dns_query += u64::from(q);
        summary.matching_tls_sni += u64::from(s);
        summary.matching_http_host += u64::from(h);
        summary.matching_domain += u64::from(q || s || h);
        summary.matching_ja3 += u64::from(a);
        summary.matching_ja4 += u64::from(b);
        summary.matching_app_flows += u64::from(q || s || h || a || b);
    }
    summary.domains = domains.len() as u64;
    summary.ja3 = ja3.len() as u64;
    summary.ja4 = ja4.len() as u64;
    AppSet {
        domains,
        ja3,
        ja4,
        summary,
    }
}

/// Writes the JA3 list (one hash per line, `#` header) for `--indicators plain:ja3=PATH`.
pub fn write_ja3(path: &Path, set: &AppSet, header: &[String]) -> anyhow::Result<()> {
    write_atomically(path, |w| {
        for line in header {
            writeln!(w, "# {line}")?;
        }
        for v in &set.ja3 {
            writeln!(w, "{v}")?;
        }
        Ok(())
    })
}

/// Suricata dataset files of the same set: `domains.lst`, `ja4.lst` and `ja3-string.lst` (type
/// string, base64 per line), `ja3.lst` (type md5, hex per line). Empty kinds are not written.
pub fn write_suricata(dir: &Path, set: &AppSet) -> anyhow::Result<()> {
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut buf = String::new();
    // Suricata 7's `ja3.hash` buffer is the 32-character hex text, while a `type md5` dataset
    // holds 16-byte digests (it only matches a buffer of 16 bytes, e.g. after `to_md5`), so a
    // `ja3.hash` rule needs the `type string` file `ja3-string.lst`; `ja3.lst` is the md5 form.
    for (file, values) in [
        ("domains.lst", &set.domains),
        ("ja4.lst", &set.ja4),
        ("ja3-string.lst", &set.ja3),
    ] {
        if values.is_empty() {
            continue;
        }
        write_atomically(&dir.join(file), |w| {
            for v in values {
                buf.clear();
                b64.encode_string(v, &mut buf);
                writeln!(w, "{buf}")?;
            }
            Ok(())
        })?;
    }
    if !set.ja3.is_empty() {
        write_atomically(&dir.join("ja3.lst"), |w| {
            for v in &set.ja3 {
                writeln!(w, "{v}")?;
            }
            Ok(())
        })?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::capture::{self, CaptureParams, Profile};
    use std::fs::{self, File};
    use std::io::BufWriter;

    fn capture(tag: &str, packets: u64, flows: u64) -> (std::path::PathBuf, std::path::PathBuf) {
        let d =
            std::env::temp_dir().join(format!("kordon-sample-app-{tag}-{}", std::process::id()));
        fs::create_dir_all(&d).unwrap();
        let p = d.join("c.pcap");
        capture::generate(
            &CaptureParams {
                packets,
                flows,
                seed: 3,
                profile: Profile::Mixed,
            },
            BufWriter::new(File::create(&p).unwrap()),
        )
        .unwrap();
        (d, p)
    }

    #[test]
    fn capture_carries_names_and_varied_fingerprints() {
        let (dir, p) = capture("read", 30_000, 1_500);
        let (flows, total) = read_capture_app(&p).unwrap();
        assert!(total >= flows.len() as u64);
        let dns = flows.iter().filter(|f| !f.dns_queries.is_empty()).count();
        let tls = flows.iter().filter(|f| f.ja3.is_some()).count();
        let http = flows.iter().filter(|f| !f.http_hosts.is_empty()).count();
        assert!(dns > 50 && tls > 50 && http > 10, "{dns} {tls} {http}");
        assert!(flows.iter().all(|f| f.ja3.is_some() == f.ja4.is_some()));
        assert!(
            flows
                .iter()
                .filter(|f| f.ja3.is_some())
                .all(|f| !f.sni.is_empty())
        );
        let ja3: HashSet<_> = flows.iter().filter_map(|f| f.ja3.clone()).collect();
        let ja4: HashSet<_> = flows.iter().filter_map(|f| f.ja4.clone()).collect();
        assert!(
            ja3.len() > 20 && ja4.len() > 20,
            "{} {}",
            ja3.len(),
            ja4.len()
        );
        for j in &ja4 {
            assert_eq!(j.len(), 36, "{j}");
            assert!(j.starts_with("t13d"), "{j}");
        }
        assert!(
            flows
                .iter()
                .flat_map(|f| &f.http_hosts)
                .all(|h| h.parse::<IpAddr>().is_err())
        );
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn planted_sets_are_deterministic_unique_and_counted_exactly() {
        let (dir, p) = capture("plant", 30_000, 1_500);
        let (flows, _) = read_capture_app(&p).unwrap();
        let params = AppParams {
            domains: 20_000,
            ja3: 500,
            ja4: 500,
            seed: 4,
            hit_rate: 0.05,
        };
        let a = generate(&params, &flows);
        let b = generate(&params, &flows);
        assert_eq!(a.domains, b.domains);
        assert_eq!(a.ja3, b.ja3);
        assert_eq!(a.ja4, b.ja4);
        assert_eq!(a.summary, b.summary);
        assert_eq!(a.domains.len(), 20_000);
        assert_eq!(a.ja3.len(), 500);
        assert_eq!(a.ja4.len(), 500);
        let uniq: HashSet<_> = a.domains.iter().collect();
        assert_eq!(uniq.len(), a.domains.len());
        for d in &a.domains {
            assert!(
                d.contains('.') && !d.starts_with('.') && d.len() < 64,
                "{d}"
            );
        }
        for j in &a.ja3 {
            assert!(j.len() == 32 && j.bytes().all(|c| c.is_ascii_hexdigit()));
        }
        let s = &a.summary;
        assert!(
            s.planted_domains > 0 && s.planted_ja3 > 0 && s.planted_ja4 > 0,
            "{s:?}"
        );
        let target = (s.capture_name_flows as f64 * 0.05).ceil() as u64;
        assert!(s.matching_domain >= target / 2, "{s:?}");
        assert!(s.matching_domain <= target + (target / 10).max(5), "{s:?}");
        assert!(s.matching_dns_query > 0 && s.matching_tls_sni > 0, "{s:?}");
        assert!(s.matching_ja3 > 0 && s.matching_ja4 > 0, "{s:?}");
        // Recount independently.
        let ds: HashSet<&String> = a.domains.iter().collect();
        let n = flows
            .iter()
            .filter(|f| {
                f.names().any(|x| ds.contains(x))
                    || f.ja3.as_ref().is_some_and(|j| a.ja3.contains(j))
                    || f.ja4.as_ref().is_some_and(|j| a.ja4.contains(j))
            })
            .count() as u64;
        assert_eq!(n, s.matching_app_flows);
        // Without planting, nothing matches.
        let none = generate(
            &AppParams {
                hit_rate: 0.0,
                ..params
            },
            &flows,
        );
        assert_eq!(none.summary.matching_app_flows, 0);
        // Suricata files: base64 strings decode to the list.
        write_suricata(&dir.join("s"), &a).unwrap();
        let text = fs::read_to_string(dir.join("s/domains.lst")).unwrap();
        let first = text.lines().next().unwrap();
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(first)
            .unwrap();
        assert_eq!(String::from_utf8(decoded).unwrap(), a.domains[0]);
        assert_eq!(
            fs::read_to_string(dir.join("s/ja3.lst"))
                .unwrap()
                .lines()
                .count(),
            500
        );
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn field_parsers() {
        let q = payload::dns_query(7, "Api.Example.com", false);
        assert_eq!(dns_query_name(&q).as_deref(), Some("api.example.com"));
        let r = payload::dns_response(7, "a.b", false, &[], 60);
        assert_eq!(dns_query_name(&r), None);
        let mut rng = Rng::new(1, 1);
        let h = payload::http_request(&mut rng, "Host.Example:8080");
        assert_eq!(http_host(&h).as_deref(), Some("host.example"));
        assert_eq!(http_host(b"HTTP/1.1 200 OK\r\n\r\n"), None);
        assert_eq!(
            http_host(b"GET / HTTP/1.1\r\nHost: [2001:db8::1]\r\n\r\n"),
            None
        );
        assert_eq!(
            http_host(b"GET / HTTP/1.1\r\nHost: 192.0.2.1:80\r\n\r\n"),
            None
        );
        let hello = payload::tls_client_hello(&mut rng, "x.example.org");
        let (sni, ja3, ja4) = client_hello_values(&hello).unwrap();
        assert_eq!(sni.as_deref(), Some("x.example.org"));
        assert_eq!(ja3.len(), 32);
        assert!(ja4.starts_with("t13d"), "{ja4}");
    }
}

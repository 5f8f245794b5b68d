//! The load-time allowlist: values that must never become live indicators.
//!
//! Why at load time: a feed that lists `127.0.0.1`, `192.0.2.1`, `10.0.0.0/8` or `example.com`
//! (test entries, sloppy exports, sinkholes, "the attacker used a private address") would fire on
//! every flow of every sensor. Such entries are kept out of the compiled set and counted in the
//! load report as `suppressed`, each with the reason, so the operator sees what the feed tried to
//! load. This is different from allowlist *entries* in the set ([`crate::IndicatorMeta::allowlist`]),
//! which suppress matches of other indicators at match time.
//!
//! The built-in list ([`Allowlist::builtin`]):
//!
//! * IPv4: `0.0.0.0/8` (this network, includes the unspecified address), `127.0.0.0/8` (loopback),
//!   `169.254.0.0/16` (link-local), `192.0.2.0/24`, `198.51.100.0/24`, `203.0.113.0/24`
//!   (documentation, RFC 5737), `224.0.0.0/4` (multicast), `255.255.255.255/32` (broadcast);
//! * IPv6: `::/128` (unspecified), `::1/128` (loopback), `fe80::/10` (link-local), `2001:db8::/32`
//!   and `3fff::/20` (documentation, RFC 3849 and RFC 9637), `ff00::/8` (multicast);
//! * private ranges `10.0.0.0/8`, `172.16.0.0/12`, `192.168.0.0/16` (RFC 1918) and `fc00::/7`
//!   (unique local, RFC 4193), unless [`Allowlist::with_private_indicators`] opts in (a sensor
//!   watching an OT network may well want alerts on a known-bad internal host);
//! * names: `example.com`, `example.net`, `example.org` (RFC 2606) and the special-use TLDs
//!   `example`, `test`, `invalid`, `localhost` (RFC 2606, RFC 6761), `local` (mDNS, RFC 6762) and
//!   `home.arpa` (RFC 8375), each with every subdomain.
//!
//! Configured own ranges and domains ([`Allowlist::add_range`], [`Allowlist::add_domain`]) are
//! added to that.
//!
//! Rules: an address is suppressed when a listed range contains it (IPv4-mapped IPv6 addresses
//! are checked as IPv4); a network when it *overlaps* a listed range — inside it, or covering
//! it, since `0.0.0.0/0` from a feed would fire on loopback traffic just the same; a name when it
//! is a listed name or a subdomain of one, and a `*.` name also when it covers a listed name
//! (`*.com` covers `example.com`); a URL by its host, as an address or a name. Other kinds
//! (fingerprints, hashes, user agents) are never suppressed. Allowlist entries themselves
//! (Zeek `meta.whitelist`) are never suppressed: they only ever reduce alerts.

// Untrusted input: no panics on any path (STYLE §2.6).
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic
    )
)]

use std::fmt;
use std::net::IpAddr;

use ipnet::{IpNet, Ipv4Net};

use crate::model::{Indicator, IndicatorKind, IndicatorValue};
use crate::normalize::{self, NormalizeError};

/// Why a range or name is on the list.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Why {
    Builtin(&'static str),
    Private,
    Own,
}

impl fmt::Display for Why {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Why::Builtin(what) => f.write_str(what),
            Why::Private => f.write_str("private range; opt in to load private indicators"),
            Why::Own => f.write_str("configured own range or domain"),
        }
    }
}

/// The set of ranges and names that never become live indicators (see the module doc).
///
/// Small by design (tens of entries), so checks are linear scans: it runs once per loaded
/// indicator, never per packet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Allowlist {
    nets: Vec<(IpNet, Why)>,
    names: Vec<(String, Why)>,
    private_indicators: bool,
}

/// The built-in ranges: (network, reason).
const BUILTIN_NETS: &[(&str, &str)] = &[
    ("0.0.0.0/8", "\"this network\" / unspecified (RFC 1122)"),
    ("127.0.0.0/8", "loopback"),
    ("169.254.0.0/16", "link-local"),
    ("192.0.2.0/24", "documentation range (RFC 5737)"),
    ("198.51.100.0/24", "documentation range (RFC 5737)"),
    ("203.0.113.0/24", "documentation range (RFC 5737)"),
    ("224.0.0.0/4", "multicast"),
    ("255.255.255.255/32", "broadcast"),
    ("::/128", "unspecified"),
    ("::1/128", "loopback"),
    ("fe80::/10", "link-local"),
    ("2001:db8::/32", "documentation range (RFC 3849)"),
    ("3fff::/20", "documentation range (RFC 9637)"),
    ("ff00::/8", "multicast"),
];

/// Private ranges, allowlisted unless opted in.
const PRIVATE_NETS: &[&str] = &["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"];

/// Reserved names (each with all subdomains).
const BUILTIN_NAMES: &[(&str, &str)] = &[
    ("example.com", "documentation domain (RFC 2606)"),
    ("example.net", "documentation domain (RFC 2606)"),
    ("example.org", "documentation domain (RFC 2606)"),
    ("example", "reserved TLD (RFC 2606)"),
    ("test", "reserved TLD (RFC 2606)"),
    ("invalid", "reserved TLD (RFC 2606)"),
    ("localhost", "reserved TLD (RFC 6761)"),
    ("local", "mDNS TLD (RFC 6762)"),
    ("home.arpa", "home network domain (RFC 8375)"),
];

impl Default for Allowlist {
    fn default() -> Self {
        Allowlist::builtin()
    }
}

impl Allowlist {
    /// The built-in list, private ranges included (see the module doc).
    pub fn builtin() -> Self {
        let mut nets: Vec<(IpNet, Why)> = BUILTIN_NETS
            .iter()
            .filter_map(|(net, why)| net.parse().ok().map(|n| (n, Why::Builtin(why))))
            .collect();
        nets.extend(
            PRIVATE_NETS
                .iter()
                .filter_map(|net| net.parse().ok().map(|n| (n, Why::Private))),
        );
        let names = BUILTIN_NAMES
            .iter()
            .map(|(name, why)| ((*name).to_owned(), Why::Builtin(why)))
            .collect();
        Allowlist {
            nets,
            names,
            private_indicators: false,
        }
    }

    /// An empty list (nothing suppressed), to which own ranges and names can be added.
    pub fn empty() -> Self {
        Allowlist {
            nets: Vec::new(),
            names: Vec::new(),
            private_indicators: false,
        }
    }

    /// Opts in (`true`) to indicators in the private ranges, or back out.
    pub fn with_private_indicators(mut self, allow: bool) -> Self {
        self.private_indicators = allow;
        self
    }

    /// Adds an own range (the organisation's address space, resolvers, scanners…).
    pub fn add_range(&mut self, net: IpNet) {
        self.nets.push((net.trunc(), Why::Own));
    }

    /// Adds an own domain and all its subdomains; a leading `*.` is accepted and ignored.
    pub fn add_domain(&mut self, name: &str) -> Result<(), NormalizeError> {
        let (name, _) = normalize::domain(name)?;
        self.names.push((name, Why::Own));
        Ok(())
    }

    /// Why `indicator` must not become a live indicator, or `None` when it may.
    pub fn check(&self, indicator: &Indicator) -> Option<String> {
        if indicator.meta.allowlist {
            return None;
        }
        match (&indicator.value, indicator.kind) {
            (IndicatorValue::Ip(ip), _) => self.check_ip(*ip),
            (IndicatorValue::Cidr(net), _) => self.check_net(*net),
            (IndicatorValue::Domain { name, subdomains }, _) => self.check_name(name, *subdomains),
            (IndicatorValue::Text(url), IndicatorKind::Url) => self.check_url(url),
            (IndicatorValue::Text(_), _) => None,
        }
    }

    /// Why an address must not be an indicator, if it must not.
    pub fn check_ip(&self, ip: IpAddr) -> Option<String> {
        let ip = canonical(ip);
        self.active()
            .find(|(net, _)| net.contains(&ip))
            .map(|(net, why)| format!("{ip} is in {net} ({why})"))
    }

    /// Why a network must not be an indicator (it overlaps a listed range), if it must not.
    pub fn check_net(&self, net: IpNet) -> Option<String> {
        let net = canonical_net(net);
        self.active()
            .find(|(listed, _)| listed.contains(&net) || net.contains(listed))
            .map(|(listed, why)| {
                if listed.contains(&net) {
                    format!("{net} is in {listed} ({why})")
                } else {
                    format!("{net} covers {listed} ({why})")
                }
            })
    }

    /// Why a (normalised, lower-case) name must not be an indicator, if it must not.
    pub fn check_name(&self, name: &str, subdomains: bool) -> Option<String> {
        let name = name.trim_end_matches('.');
        self.names.iter().find_map(|(listed, why)| {
            if is_same_or_sub(name, listed) {
                Some(format!("{name} is under {listed} ({why})"))
            } else if subdomains && is_same_or_sub(listed, name) {
                Some(format!("*.{name} covers {listed} ({why})"))
            } else {
                None
            }
        })
    }

    /// Checks a normalised URL (`host[:port]/path`) by its host.
    fn check_url(&self, url: &str) -> Option<String> {
        let host = url_host(url);
        if let Ok(ip) = host.parse::<IpAddr>() {
            return self.check_ip(ip).map(|r| format!("URL host {r}"));
        }
        if host.is_empty() {
            return None;
        }
        self.check_name(&host.to_ascii_lowercase(), false)
            .map(|r| format!("URL host {r}"))
    }

    fn active(&self) -> impl Iterator<Item = &(IpNet, Why)> {
        self.nets
            .iter()
            .filter(|(_, why)| !(self.private_indicators && *why == Why::Private))
    }
}

/// `name` equals `parent` or is a subdomain of it (label-wise).
fn is_same_or_sub(name: &str, parent: &str) -> bool {
    name == parent
        || name
            .strip_suffix(parent)
            .is_some_and(|head| head.ends_with('.'))
}

/// The host of a normalised URL: up to the first `/`, without a port; `[v6]` unbracketed.
fn url_host(url: &str) -> &str {
    let authority = url.split(['/', '?', '#']).next().unwrap_or("");
    let authority = authority.rsplit('@').next().unwrap_or(authority);
    if let Some(rest) = authority.strip_prefix('[') {
        return rest.split(']').next().unwrap_or("");
    }
    authority.split(':').next().unwrap_or("")
}

/// IPv4-mapped IPv6 addresses are the IPv4 host they map.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => IpAddr::V6(v6),
        },
        v4 => v4,
    }
}

/// Networks inside `::ffff:0:0/96` are the IPv4 networks they map.
fn canonical_net(net: IpNet) -> IpNet {
    if let IpNet::V6(v6) = net
        && v6.prefix_len() >= 96
        && let Some(v4) = v6.network().to_ipv4_mapped()
        && let Ok(n) = Ipv4Net::new(v4, v6.prefix_len() - 96)
    {
        return IpNet::V4(n);
    }
    net
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::model::IndicatorMeta;

    fn ind(kind: IndicatorKind, value: IndicatorValue) -> Indicator {
        Indicator {
            id: None,
            kind,
            value,
            score: None,
            meta: Arc::new(IndicatorMeta::default()),
        }
    }

    fn ip(s: &str) -> Indicator {
        let ip: IpAddr = s.parse().unwrap();
        let kind = if ip.is_ipv4() {
            IndicatorKind::Ipv4
        } else {
            IndicatorKind::Ipv6
        };
        ind(kind, IndicatorValue::Ip(ip))
    }

    fn net(s: &str) -> Indicator {
        ind(
            IndicatorKind::Cidr,
            IndicatorValue::Cidr(s.parse().unwrap()),
        )
    }

    fn name(s: &str, subdomains: bool) -> Indicator {
        ind(
            IndicatorKind::Domain,
            IndicatorValue::Domain {
                name: s.to_owned(),
                subdomains,
            },
        )
    }

    fn url(s: &str) -> Indicator {
        ind(IndicatorKind::Url, IndicatorValue::Text(s.to_owned()))
    }

    /// (name, indicator, suppressed by the builtin list, reason substring)
    #[test]
    fn builtin_cases() {
        let cases: Vec<(&str, Indicator, Option<&str>)> = vec![
            ("loopback", ip("127.0.0.1"), Some("loopback")),
            ("loopback_v6", ip("::1"), Some("loopback")),
            ("unspecified", ip("0.0.0.0"), Some("unspecified")),
            ("unspecified_v6", ip("::"), Some("unspecified")),
            ("doc1", ip("192.0.2.77"), Some("RFC 5737")),
            ("doc2", ip("198.51.100.1"), Some("RFC 5737")),
            ("doc3", ip("203.0.113.254"), Some("RFC 5737")),
            ("doc_v6", ip("2001:db8::5"), Some("RFC 3849")),
            ("link_local", ip("169.254.1.1"), Some("link-local")),
            ("link_local_v6", ip("fe80::1"), Some("link-local")),
            ("multicast", ip("239.1.2.3"), Some("multicast")),
            ("multicast_v6", ip("ff02::1"), Some("multicast")),
            ("broadcast", ip("255.255.255.255"), Some("broadcast")),
            ("private10", ip("10.1.2.3"), Some("private")),
            ("private172", ip("172.31.255.1"), Some("private")),
            ("not_private172", ip("172.32.0.1"), None),
            ("private192", ip("192.168.1.1"), Some("private")),
            ("ula", ip("fd00::1"), Some("private")),
            ("mapped_v4", ip("::ffff:127.0.0.1"), Some("loopback")),
            ("public", ip("8.8.8.8"), None),
            ("public_v6", ip("2606:4700::1111"), None),
            ("net_inside", net("10.20.0.0/16"), Some("is in 10.0.0.0/8")),
            ("net_covers", net("0.0.0.0/0"), Some("covers")),
            (
                "net_covers_doc",
                net("192.0.0.0/16"),
                Some("covers 192.0.2.0/24"),
            ),
            ("net_public", net("223.166.0.0/15"), None),
            ("example", name("example.com", false), Some("RFC 2606")),
            (
                "example_sub",
                name("www.example.org", false),
                Some("RFC 2606"),
            ),
            ("not_example", name("notexample.com", false), None),
            ("local", name("printer.local", false), Some("mDNS")),
            ("test_tld", name("evil.test", false), Some("RFC 2606")),
            ("localhost", name("localhost", false), Some("RFC 6761")),
            ("wild_covers", name("com", true), Some("covers example.com")),
            ("wild_public", name("evil.com", true), None),
            ("real_domain", name("hugesoft.org", false), None),
            ("url_doc_ip", url("192.0.2.1:8080/x"), Some("URL host")),
            ("url_example", url("www.example.com/a"), Some("URL host")),
            ("url_v6", url("[::1]/a"), Some("loopback")),
            ("url_public", url("evil.org/gate.php"), None),
            (
                "ja3_never",
                ind(
                    IndicatorKind::Ja3,
                    IndicatorValue::Text("e7d705a3286e19ea42f587b344ee6865".into()),
                ),
                None,
            ),
        ];
        let list = Allowlist::builtin();
        let mut names = std::collections::HashSet::new();
        for (case, indicator, want) in cases {
            assert!(names.insert(case), "duplicate case name {case}");
            let got = list.check(&indicator);
            match (want, &got) {
                (None, None) => {}
                (Some(sub), Some(reason)) => {
                    assert!(reason.contains(sub), "{case}: {reason:?} lacks {sub:?}")
                }
                _ => panic!("{case}: expected {want:?}, got {got:?}"),
            }
        }
    }

    #[test]
    fn private_opt_in_and_own_entries() {
        let mut list = Allowlist::builtin().with_private_indicators(true);
        assert_eq!(list.check(&ip("10.1.2.3")), None);
        assert!(list.check(&ip("127.0.0.1")).is_some());
        list.add_range("100.64.0.0/10".parse().unwrap());
        list.add_domain("*.Corp.Example.NET.").unwrap();
        list.add_domain("kordon.internal").unwrap();
        assert!(list.check(&ip("100.100.1.1")).unwrap().contains("own"));
        assert!(
            list.check(&name("mail.kordon.internal", false))
                .unwrap()
                .contains("own")
        );
        assert_eq!(list.check(&name("kordon.internal.evil.org", false)), None);
        assert!(list.add_domain("bad name with spaces").is_err());
    }

    /// The Zeek CPS feeds with the default allowlist on: every data line is accounted for, and
    /// the counts equal an independent count from the TSV (distinct addresses and lower-cased
    /// names per type; reserved values counted with plain octet and suffix checks).
    #[test]
    fn corpus_zeek_cps_with_default_allowlist() {
        let dir = match std::env::var_os("KORDON_CORPUS") {
            Some(dir) => std::path::PathBuf::from(dir),
            None => {
                std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/corpus")
            }
        }
        .join("intel-zeek-cps");
        if !dir.is_dir() {
            eprintln!(
                "skipping: corpus not found at {} (set KORDON_CORPUS)",
                dir.display()
            );
            return;
        }
        let reserved_v4 = |ip: std::net::Ipv4Addr| {
            let o = ip.octets();
            matches!(o[0], 0 | 10 | 127 | 224..=239)
                || (o[0] == 169 && o[1] == 254)
                || (o[0] == 172 && (16..32).contains(&o[1]))
                || (o[0] == 192 && o[1] == 168)
                || (o[..3] == [192, 0, 2] || o[..3] == [198, 51, 100] || o[..3] == [203, 0, 113])
                || o == [255; 4]
        };
        let reserved_name = |n: &str| {
            [
                "example.com",
                "example.net",
                "example.org",
                "example",
                "test",
                "invalid",
                "localhost",
                "local",
                "home.arpa",
            ]
            .iter()
            .any(|r| n == *r || n.ends_with(&format!(".{r}")))
        };
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "intel"))
            .collect();
        files.sort();
        for file in files {
            let text = std::fs::read_to_string(&file).unwrap();
            let (mut lines, mut reserved, mut unsupported) = (0, 0, 0);
            let mut ips = std::collections::BTreeSet::new();
            let mut names = std::collections::BTreeSet::new();
            for line in text
                .lines()
                .filter(|l| !l.trim().is_empty() && !l.starts_with('#'))
            {
                lines += 1;
                let mut cols = line.split('\t');
                let (value, itype) = (cols.next().unwrap(), cols.next().unwrap());
                match itype {
                    "Intel::ADDR" => {
                        let ip: IpAddr = value.parse().unwrap();
                        match ip {
                            IpAddr::V4(v4) if reserved_v4(v4) => reserved += 1,
                            _ => {
                                ips.insert(ip);
                            }
                        }
                    }
                    "Intel::DOMAIN" => {
                        let n = value.to_ascii_lowercase();
                        if reserved_name(&n) {
                            reserved += 1;
                        } else {
                            names.insert(n);
                        }
                    }
                    "Intel::FILE_HASH" => unsupported += 1,
                    _ => {}
                }
            }
            let opts = crate::formats::LoadOptions {
                now: 1_700_000_000,
                ..crate::formats::LoadOptions::new(Arc::new(IndicatorMeta::default()))
            };
            let mut builder = crate::IndicatorSetBuilder::new();
            let report = crate::formats::load_zeek(
                std::io::BufReader::new(std::fs::File::open(&file).unwrap()),
                &opts,
                &mut builder,
            )
            .unwrap();
            eprintln!("{}: {report}", file.display());
            assert_eq!(report.lines_accounted(), lines, "{}", file.display());
            assert_eq!(report.suppressed_total, reserved, "{}", file.display());
            assert_eq!(report.unsupported_total, unsupported, "{}", file.display());
            assert_eq!(report.rejected_total, 0, "{report}");
            let kind = |k| report.per_kind.get(&k).copied().unwrap_or(0);
            assert_eq!(
                kind(IndicatorKind::Ipv4) + kind(IndicatorKind::Ipv6),
                ips.len()
            );
            assert_eq!(kind(IndicatorKind::Domain), names.len());
        }
    }

    #[test]
    fn allowlist_entries_are_never_suppressed() {
        let mut indicator = ip("127.0.0.1");
        indicator.meta = Arc::new(IndicatorMeta {
            allowlist: true,
            ..Default::default()
        });
        assert_eq!(Allowlist::builtin().check(&indicator), None);
        assert_eq!(Allowlist::empty().check(&ip("127.0.0.1")), None);
    }
}

//! The address plan shared by the capture and indicator generators.
//!
//! Captures draw public IPv4 addresses from fixed "pool" /16s (64 of them, inside 16 public-looking
//! /8s) and internal hosts from 10.20.0.0/16 and 10.30.0.0/16. Random indicators are drawn from the
//! public unicast space *outside* those pools, so that a capture's matches come only from the
//! indicators deliberately planted from it: the expected number of matching flows is then exact.
//! The plan does not depend on the seed, so any capture made by this tool fits any indicator list.

use std::net::Ipv4Addr;

use crate::rng::Rng;

/// First octets of the pool /16s (public-looking, not reserved, not used by the demo hits).
const POOL_FIRST_OCTETS: [u8; 16] = [
    23, 31, 37, 46, 52, 62, 77, 85, 94, 104, 141, 151, 176, 193, 212, 217,
];
const POOLS_PER_OCTET: usize = 4;

/// Ranges no random indicator may overlap (IANA special-purpose, RFC 6890 and friends).
const RESERVED: [(u32, u8); 14] = [
    (0x0000_0000, 8),  // 0.0.0.0/8 "this network"
    (0x0A00_0000, 8),  // 10.0.0.0/8 private
    (0x6440_0000, 10), // 100.64.0.0/10 CGN
    (0x7F00_0000, 8),  // 127.0.0.0/8 loopback
    (0xA9FE_0000, 16), // 169.254.0.0/16 link local
    (0xAC10_0000, 12), // 172.16.0.0/12 private
    (0xC000_0000, 24), // 192.0.0.0/24 IETF protocol assignments
    (0xC000_0200, 24), // 192.0.2.0/24 TEST-NET-1
    (0xC058_6300, 24), // 192.88.99.0/24 6to4 relay anycast
    (0xC0A8_0000, 16), // 192.168.0.0/16 private
    (0xC612_0000, 15), // 198.18.0.0/15 benchmarking
    (0xC633_6400, 24), // 198.51.100.0/24 TEST-NET-2
    (0xCB00_7100, 24), // 203.0.113.0/24 TEST-NET-3
    (0xE000_0000, 3),  // 224.0.0.0/3 multicast and class E
];

/// Synthetic demo indicators (see `--profile demo`): outside every pool.
pub const DEMO_C2: Ipv4Addr = Ipv4Addr::new(185, 244, 25, 17);
pub const DEMO_SCANNER: Ipv4Addr = Ipv4Addr::new(45, 95, 147, 210);
pub const DEMO_CIDR: (Ipv4Addr, u8) = (Ipv4Addr::new(91, 243, 44, 0), 24);
pub const DEMO_CIDR_HOST: Ipv4Addr = Ipv4Addr::new(91, 243, 44, 17);
pub const DEMO_DOMAIN: &str = "update.kordon-demo-c2.net";

pub fn mask(len: u8) -> u32 {
    if len == 0 {
        0
    } else {
        u32::MAX << (32 - u32::from(len))
    }
}

/// The pool /16s as network addresses.
pub fn pool_networks() -> Vec<u32> {
    let mut rng = Rng::new(0x4B4F_5244_4F4E, 0x9001);
    let mut out = Vec::with_capacity(POOL_FIRST_OCTETS.len() * POOLS_PER_OCTET);
    for &a in &POOL_FIRST_OCTETS {
        let mut seconds: Vec<u8> = Vec::new();
        while seconds.len() < POOLS_PER_OCTET {
            let b = rng.below(256) as u8;
            if !seconds.contains(&b) {
                seconds.push(b);
            }
        }
        out.extend(
            seconds
                .iter()
                .map(|&b| (u32::from(a) << 24) | (u32::from(b) << 16)),
        );
    }
    out
}

/// Decides whether a random indicator (network `net`/`len`) is acceptable: not reserved, not in a pool.
pub struct Exclusions {
    ranges: Vec<(u32, u8)>,
}

impl Exclusions {
    pub fn new() -> Exclusions {
        let mut ranges: Vec<(u32, u8)> = RESERVED.to_vec();
        ranges.extend(pool_networks().into_iter().map(|n| (n, 16)));
        Exclusions { ranges }
    }

    /// True if `net/len` overlaps a reserved range or a capture pool.
    pub fn overlaps(&self, net: u32, len: u8) -> bool {
        self.ranges.iter().any(|&(rn, rl)| {
            let m = mask(len.min(rl));
            net & m == rn & m
        })
    }
}

/// A random public host address inside the pools (last octet 1..=254).
pub fn pool_host(rng: &mut Rng, pools: &[u32]) -> Ipv4Addr {
    let net = *rng.pick(pools);
    let hi = rng.below(256) as u32;
    let lo = rng.range(1, 254) as u32;
    Ipv4Addr::from(net | (hi << 8) | lo)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pools_are_excluded_and_demo_hits_are_not() {
        let ex = Exclusions::new();
        for n in pool_networks() {
            assert!(ex.overlaps(n | 0x1234, 32));
        }
        assert!(ex.overlaps(u32::from(Ipv4Addr::new(10, 1, 2, 3)), 32));
        assert!(ex.overlaps(u32::from(Ipv4Addr::new(23, 0, 0, 0)), 8));
        for ip in [DEMO_C2, DEMO_SCANNER, DEMO_CIDR_HOST] {
            assert!(!ex.overlaps(u32::from(ip), 32), "{ip}");
        }
        assert!(!ex.overlaps(u32::from(DEMO_CIDR.0), DEMO_CIDR.1));
        assert_eq!(pool_networks().len(), 64);
    }
}

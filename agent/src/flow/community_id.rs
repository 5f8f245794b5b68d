//! Community ID v1 (<https://github.com/corelight/community-id-spec>): a flow identifier that
//! Zeek, Suricata, Arkime and SIEMs compute identically, so an analyst can pivot from a Kordon
//! alert to every other tool's record of the same flow with one string comparison.

use std::net::IpAddr;

use base64::Engine;
use sha1::{Digest, Sha1};

use super::key::Endpoint;

/// How Community IDs are rendered; the defaults match every peer tool.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct CommunityIdConfig {
    /// The 16-bit seed mixed into the hash (0 unless every tool of a deployment agrees on another).
    pub seed: u16,
    /// Base64 (the standard) or hex digest (the spec's `--no-base64` troubleshooting form).
    pub base64: bool,
}

impl Default for CommunityIdConfig {
    fn default() -> Self {
        CommunityIdConfig {
            seed: 0,
            base64: true,
        }
    }
}

/// Computes the Community ID of a flow from its originator `src` to its responder `dst`.
///
/// `one_way` is true for ICMP messages without a counterpart type: their endpoints keep the
/// packet's direction instead of being put in order.
pub fn community_id(
    config: CommunityIdConfig,
    src: Endpoint,
    dst: Endpoint,
    proto: u8,
    one_way: bool,
) -> String {
    let (a, b) = if one_way || (src.addr, src.port) <= (dst.addr, dst.port) {
        (src, dst)
    } else {
        (dst, src)
    };
    let has_ports = matches!(proto, 1 | 6 | 17 | 58 | 132);
    let mut hasher = Sha1::new();
    hasher.update(config.seed.to_be_bytes());
    update_addr(&mut hasher, a.addr);
    update_addr(&mut hasher, b.addr);
    hasher.update([proto, 0]);
    if has_ports {
        hasher.update(a.port.to_be_bytes());
        hasher.update(b.port.to_be_bytes());
    }
    let digest = hasher.finalize();
    let mut out = String::with_capacity(2 + 40);
    out.push_str("1:");
    if config.base64 {
        base64::engine::general_purpose::STANDARD.encode_string(digest, &mut out);
    } else {
        for byte in digest {
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 0x0f)]));
        }
    }
    out
}

const HEX: &[u8; 16] = b"0123456789abcdef";

fn update_addr(hasher: &mut Sha1, addr: IpAddr) {
    match addr {
        IpAddr::V4(v4) => hasher.update(v4.octets()),
        IpAddr::V6(v6) => hasher.update(v6.octets()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ep(addr: &str, port: u16) -> Endpoint {
        Endpoint {
            addr: addr.parse().unwrap(),
            port,
        }
    }

    /// The example from the specification's README: both directions give one id.
    #[test]
    fn spec_example_is_direction_free() {
        let forward = community_id(
            CommunityIdConfig::default(),
            ep("10.0.0.1", 1234),
            ep("127.0.0.1", 80),
            6,
            false,
        );
        let backward = community_id(
            CommunityIdConfig::default(),
            ep("127.0.0.1", 80),
            ep("10.0.0.1", 1234),
            6,
            false,
        );
        assert_eq!(forward, backward);
        assert!(forward.starts_with("1:"));
        assert_eq!(forward.len(), 2 + 28);
    }

    #[test]
    fn hex_form_is_forty_digits() {
        let config = CommunityIdConfig {
            seed: 0,
            base64: false,
        };
        let id = community_id(config, ep("10.0.0.1", 1), ep("10.0.0.2", 2), 17, false);
        assert_eq!(id.len(), 42);
        assert!(id[2..].bytes().all(|b| b.is_ascii_hexdigit()));
    }

    #[test]
    fn one_way_keeps_direction() {
        let config = CommunityIdConfig::default();
        let a = community_id(config, ep("10.0.0.2", 3), ep("10.0.0.1", 1), 1, true);
        let b = community_id(config, ep("10.0.0.1", 1), ep("10.0.0.2", 3), 1, true);
        assert_ne!(a, b);
    }
}

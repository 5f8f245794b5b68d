//! The JA4 TLS client fingerprint (FoxIO, BSD-3; `technical_details/JA4.md` in
//! <https://github.com/FoxIO-LLC/ja4>). Only JA4 is implemented: the other JA4+ fingerprints
//! (JA4S, JA4H, JA4X, …) are under FoxIO's non-commercial licence.
//!
//! `t13d1516h2_8daaf6152771_e5627efa2ab1` is, in order: `t` (TLS over TCP; QUIC and DTLS are
//! out of scope), the version (highest non-GREASE `supported_versions` entry, else the hello's
//! `legacy_version`: `13`, `12`, `11`, `10`, `s3`, `s2`, `d1`–`d3`, else `00`), `d` when the
//! server_name extension is present else `i`, the non-GREASE cipher and extension counts (two
//! digits, capped at 99), and the first and last characters of the first ALPN value (`00` without
//! one); then the first 12 hex digits of the SHA-256 of the sorted cipher list, and of the sorted
//! extension list without server_name and ALPN followed by `_` and the signature algorithms in
//! wire order.
//!
//! Edge cases pinned by the reference outputs in the corpus:
//! * an empty list hashes to `000000000000` (not the SHA-256 of nothing) — for the extension
//!   part that is when both the extension list and the signature algorithms are empty;
//! * an ALPN character that is not ASCII alphanumeric prints as `9`, so a non-alphanumeric first
//!   ALPN value prints `99` (FoxIO's reference implementation; the prose spec has since moved to
//!   a hex rendering); a one-character value uses that character twice, as the spec says;
//! * without signature algorithms the extension string has no trailing underscore.
//!
//! Nothing here allocates: lists are sorted in a caller-owned scratch `Vec` that keeps its
//! capacity, hashed incrementally, and the fingerprint is a fixed 36-byte stack value.

#![forbid(unsafe_code)]
#![deny(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use sha2::{Digest as _, Sha256};

use super::ja3::hex_into;
use super::parser::{
    ClientHello, ExtensionType, ProtocolVersion, alpn_protocols, is_grease, u16_list,
};

/// Length of a JA4 fingerprint.
pub const JA4_LEN: usize = 36;

/// A JA4 fingerprint, on the stack.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Ja4([u8; JA4_LEN]);

impl Ja4 {
    /// The fingerprint text.
    pub fn as_str(&self) -> &str {
        // Only ASCII is ever written into the buffer.
        std::str::from_utf8(&self.0).unwrap_or("")
    }
}

impl std::fmt::Debug for Ja4 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The two version characters.
fn version_code(version: ProtocolVersion) -> [u8; 2] {
    match version {
        ProtocolVersion::TLS_1_3 => *b"13",
        ProtocolVersion::TLS_1_2 => *b"12",
        ProtocolVersion::TLS_1_1 => *b"11",
        ProtocolVersion::TLS_1_0 => *b"10",
        ProtocolVersion::SSL_3_0 => *b"s3",
        ProtocolVersion::SSL_2_0 => *b"s2",
        ProtocolVersion::DTLS_1_0 => *b"d1",
        ProtocolVersion::DTLS_1_2 => *b"d2",
        ProtocolVersion::DTLS_1_3 => *b"d3",
        _ => *b"00",
    }
}

/// The two ALPN characters of the first ALPN value (module doc).
fn alpn_code(first: Option<&[u8]>) -> [u8; 2] {
    let printable = |b: u8| if b.is_ascii_alphanumeric() { b } else { b'9' };
    match first {
        Some([only]) => [printable(*only), printable(*only)],
        Some([first, .., last]) => [printable(*first), printable(*last)],
        _ => *b"00",
    }
}

/// Two decimal digits of `n`, capped at 99.
fn count_code(n: usize) -> [u8; 2] {
    let n = n.min(99) as u8;
    [b'0' + n / 10, b'0' + n % 10]
}

/// Feeds `values` as comma-separated 4-digit lower-case hex into `hasher`; returns how many.
fn feed_hex_list(hasher: &mut Sha256, values: impl Iterator<Item = u16>) -> usize {
    let mut count = 0;
    for value in values {
        let mut item = [b','; 5];
        if let Some(digits) = item.get_mut(1..) {
            hex_into(&value.to_be_bytes(), digits);
        }
        let bytes = if count == 0 {
            item.get(1..).unwrap_or_default()
        } else {
            item.as_slice()
        };
        hasher.update(bytes);
        count += 1;
    }
    count
}

/// Writes the first 12 hex digits of `hasher`'s digest, or `000000000000` when nothing was fed.
fn hash12(hasher: Sha256, fed: bool, out: &mut [u8]) {
    if fed {
        let digest = hasher.finalize();
        hex_into(digest.get(..6).unwrap_or_default(), out);
    } else {
        out.fill(b'0');
    }
}

/// Computes the JA4 of `hello` over TCP. `scratch` is reused for sorting.
pub fn ja4(hello: &ClientHello<'_>, scratch: &mut Vec<u16>) -> Ja4 {
    let exts = &hello.extensions;
    let version = hello.max_version();
    let sni = if exts.find(ExtensionType::SERVER_NAME).is_some() {
        b'd'
    } else {
        b'i'
    };
    let first_alpn = exts
        .find(ExtensionType::ALPN)
        .and_then(|d| alpn_protocols(d).next());

    // Ciphers, sorted.
    scratch.clear();
    scratch.extend(hello.cipher_suites.iter().filter(|v| !is_grease(*v)));
    let cipher_count = scratch.len();
    scratch.sort_unstable();
    let mut cipher_hasher = Sha256::new();
    let ciphers_fed = feed_hex_list(&mut cipher_hasher, scratch.iter().copied()) > 0;

    // Extensions (count includes SNI and ALPN; the hash does not), sorted, then signature
    // algorithms in wire order.
    scratch.clear();
    scratch.extend(exts.iter().map(|e| e.ext_type.0).filter(|v| !is_grease(*v)));
    let ext_count = scratch.len();
    scratch.retain(|&v| v != ExtensionType::SERVER_NAME.0 && v != ExtensionType::ALPN.0);
    scratch.sort_unstable();
    let mut ext_hasher = Sha256::new();
    let mut exts_fed = feed_hex_list(&mut ext_hasher, scratch.iter().copied()) > 0;
    let sigs = exts
        .find(ExtensionType::SIGNATURE_ALGORITHMS)
        .map(u16_list)
        .unwrap_or_default();
    if sigs.iter().any(|v| !is_grease(v)) {
        ext_hasher.update(b"_");
        feed_hex_list(&mut ext_hasher, sigs.iter().filter(|v| !is_grease(*v)));
        exts_fed = true;
    }

    let mut out = [b'_'; JA4_LEN];
    let [v0, v1] = version_code(version);
    let [c0, c1] = count_code(cipher_count);
    let [e0, e1] = count_code(ext_count);
    let [a0, a1] = alpn_code(first_alpn);
    if let Some(head) = out.get_mut(..10) {
        head.copy_from_slice(&[b't', v0, v1, sni, c0, c1, e0, e1, a0, a1]);
    }
    if let Some(part) = out.get_mut(11..23) {
        hash12(cipher_hasher, ciphers_fed, part);
    }
    if let Some(part) = out.get_mut(24..36) {
        hash12(ext_hasher, exts_fed, part);
    }
    Ja4(out)
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // tests fail by panicking
mod tests {
    use super::*;

    #[test]
    fn alpn_codes() {
        type Case<'a> = (&'a str, Option<&'a [u8]>, &'a [u8; 2]);
        let cases: [Case<'_>; 6] = [
            ("none", None, b"00"),
            ("empty value", Some(b""), b"00"),
            ("h2", Some(b"h2"), b"h2"),
            ("http/1.1", Some(b"http/1.1"), b"h1"),
            ("single character", Some(b"h"), b"hh"),
            ("non-alphanumeric", Some(b"\xab\xcd"), b"99"),
        ];
        for (name, value, want) in cases {
            assert_eq!(&alpn_code(value), want, "{name}");
        }
    }

    #[test]
    fn counts_and_versions() {
        assert_eq!(&count_code(0), b"00");
        assert_eq!(&count_code(7), b"07");
        assert_eq!(&count_code(150), b"99");
        assert_eq!(&version_code(ProtocolVersion(0x0304)), b"13");
        assert_eq!(&version_code(ProtocolVersion(0x7f17)), b"00");
    }
}

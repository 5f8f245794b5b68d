//! JA3 and JA3S fingerprints (Salesforce, <https://github.com/salesforce/ja3>).
//!
//! JA3 is `version,ciphers,extensions,groups,point_formats` with decimal values joined by `-`,
//! taken from the ClientHello in wire order with GREASE values (RFC 8701) removed from the cipher,
//! extension and group lists; the fingerprint is the MD5 of that string in lower-case hex.
//! JA3S is `version,cipher,extensions` from the ServerHello. `version` is the hello's
//! `legacy_version`, as Suricata and the reference implementation use it.
//!
//! The strings are written into a caller-owned `String` that keeps its capacity, and the digest
//! into a stack buffer, so fingerprinting allocates nothing in steady state.

#![forbid(unsafe_code)]
#![deny(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use std::fmt::Write as _;

use md5::{Digest as _, Md5};

use super::parser::{
    ClientHello, ExtensionType, ServerHello, ec_point_formats, is_grease, u16_list,
};

/// A 128-bit digest as 32 lower-case hex digits, on the stack.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Md5Hex([u8; 32]);

impl Md5Hex {
    /// The MD5 of `text`.
    pub fn of(text: &str) -> Md5Hex {
        let digest = Md5::digest(text.as_bytes());
        let mut out = [b'0'; 32];
        hex_into(&digest, &mut out);
        Md5Hex(out)
    }

    /// The hex digits.
    pub fn as_str(&self) -> &str {
        // Only ASCII hex digits are ever written into the buffer.
        std::str::from_utf8(&self.0).unwrap_or("")
    }
}

impl std::fmt::Debug for Md5Hex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Writes `bytes` as lower-case hex into `out` (as many bytes as fit).
pub(crate) fn hex_into(bytes: &[u8], out: &mut [u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for (byte, pair) in bytes.iter().zip(out.chunks_exact_mut(2)) {
        for (slot, nibble) in pair.iter_mut().zip([byte >> 4, byte & 0x0f]) {
            *slot = HEX.get(usize::from(nibble)).copied().unwrap_or(b'0');
        }
    }
}

/// Appends `values` joined by `-` (GREASE removed when `skip_grease`).
fn join_u16(out: &mut String, values: impl Iterator<Item = u16>, skip_grease: bool) {
    let mut first = true;
    for value in values.filter(|v| !(skip_grease && is_grease(*v))) {
        if !first {
            out.push('-');
        }
        first = false;
        // Writing into a String cannot fail.
        let _ = write!(out, "{value}");
    }
}

/// Writes the JA3 string of `hello` into `out` (cleared first).
pub fn ja3_string(hello: &ClientHello<'_>, out: &mut String) {
    out.clear();
    let _ = write!(out, "{},", hello.version.0);
    join_u16(out, hello.cipher_suites.iter(), true);
    out.push(',');
    join_u16(out, hello.extensions.iter().map(|e| e.ext_type.0), true);
    out.push(',');
    let groups = hello
        .extensions
        .find(ExtensionType::SUPPORTED_GROUPS)
        .map(u16_list)
        .unwrap_or_default();
    join_u16(out, groups.iter(), true);
    out.push(',');
    let formats = hello
        .extensions
        .find(ExtensionType::EC_POINT_FORMATS)
        .map(ec_point_formats)
        .unwrap_or_default();
    join_u16(out, formats.iter().map(|&f| u16::from(f)), false);
}

/// Writes the JA3S string of `hello` into `out` (cleared first).
pub fn ja3s_string(hello: &ServerHello<'_>, out: &mut String) {
    out.clear();
    let _ = write!(out, "{},{},", hello.version.0, hello.cipher_suite.0);
    join_u16(out, hello.extensions.iter().map(|e| e.ext_type.0), true);
}

#[cfg(test)]
#[allow(clippy::indexing_slicing)] // tests fail by panicking
mod tests {
    use super::*;

    #[test]
    fn md5_hex_of_known_strings() {
        assert_eq!(Md5Hex::of("").as_str(), "d41d8cd98f00b204e9800998ecf8427e");
        // suricata-verify tls/tls13-draft22: this JA3 string has this hash.
        assert_eq!(
            Md5Hex::of("771,4865-4867,0-43-13-10-40,23,").as_str(),
            "786468211b4d23f9b725987b0de9d090"
        );
    }
}

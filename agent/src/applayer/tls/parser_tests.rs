//! Parser and fingerprint tests on hellos assembled here from their parts (the corpus captures
//! are checked in place by the conformance tests, never copied).

use super::*;
use crate::applayer::tls::ja3::{Md5Hex, ja3_string, ja3s_string};
use crate::applayer::tls::ja4::ja4;

/// Building blocks of a hello.
pub(crate) fn ext(t: u16, data: &[u8]) -> Vec<u8> {
    let mut out = t.to_be_bytes().to_vec();
    out.extend_from_slice(&(data.len() as u16).to_be_bytes());
    out.extend_from_slice(data);
    out
}

fn vec16(items: &[u16]) -> Vec<u8> {
    let mut out = ((items.len() * 2) as u16).to_be_bytes().to_vec();
    for item in items {
        out.extend_from_slice(&item.to_be_bytes());
    }
    out
}

pub(crate) fn sni_ext(name: &str) -> Vec<u8> {
    let mut entry = vec![0u8];
    entry.extend_from_slice(&(name.len() as u16).to_be_bytes());
    entry.extend_from_slice(name.as_bytes());
    let mut data = (entry.len() as u16).to_be_bytes().to_vec();
    data.extend_from_slice(&entry);
    ext(0, &data)
}

pub(crate) fn alpn_ext(names: &[&[u8]]) -> Vec<u8> {
    let mut list = Vec::new();
    for name in names {
        list.push(name.len() as u8);
        list.extend_from_slice(name);
    }
    let mut data = (list.len() as u16).to_be_bytes().to_vec();
    data.extend_from_slice(&list);
    ext(16, &data)
}

/// The body of a ClientHello.
pub(crate) fn client_hello_body(version: u16, ciphers: &[u16], extensions: &[Vec<u8>]) -> Vec<u8> {
    let mut body = version.to_be_bytes().to_vec();
    body.extend_from_slice(&[0x11; 32]);
    body.push(0);
    body.extend_from_slice(&vec16(ciphers));
    body.extend_from_slice(&[1, 0]);
    let exts: Vec<u8> = extensions.concat();
    if !extensions.is_empty() {
        body.extend_from_slice(&(exts.len() as u16).to_be_bytes());
        body.extend_from_slice(&exts);
    }
    body
}

/// The body of a ServerHello.
pub(crate) fn server_hello_body(
    version: u16,
    random: [u8; 32],
    cipher: u16,
    extensions: &[Vec<u8>],
) -> Vec<u8> {
    let mut body = version.to_be_bytes().to_vec();
    body.extend_from_slice(&random);
    body.push(0);
    body.extend_from_slice(&cipher.to_be_bytes());
    body.push(0);
    let exts: Vec<u8> = extensions.concat();
    body.extend_from_slice(&(exts.len() as u16).to_be_bytes());
    body.extend_from_slice(&exts);
    body
}

/// A handshake message in one record.
pub(crate) fn record(msg_type: u8, body: &[u8]) -> Vec<u8> {
    let mut hs = vec![msg_type];
    hs.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    hs.extend_from_slice(body);
    let mut out = vec![22, 3, 1];
    out.extend_from_slice(&(hs.len() as u16).to_be_bytes());
    out.extend_from_slice(&hs);
    out
}

/// The ClientHello of FoxIO's JA4 example (a Chrome hello), with GREASE values added in the
/// cipher, extension, group, version and signature lists.
pub(crate) fn chrome_like_body(server: &str) -> Vec<u8> {
    let ciphers = [
        0x3a3a, 0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9, 0xcca8, 0xc013,
        0xc014, 0x009c, 0x009d, 0x002f, 0x0035,
    ];
    let extensions = vec![
        ext(0x2a2a, b""),
        ext(0x001b, b"\x02\x00\x02"),
        sni_ext(server),
        ext(0x0033, b"\x00\x00"),
        alpn_ext(&[b"h2", b"http/1.1"]),
        ext(0x4469, b"\x00\x03\x02h2"),
        ext(0x0017, b""),
        ext(0x002d, b"\x01\x01"),
        ext(
            0x000d,
            &vec16(&[
                0x0403, 0x0804, 0x0401, 0x0503, 0x0805, 0x0501, 0x0806, 0x0601,
            ]),
        ),
        ext(0x0005, b"\x01\x00\x00\x00\x00"),
        ext(0x0023, b""),
        ext(0x0012, b""),
        ext(0x002b, b"\x06\xfa\xfa\x03\x04\x03\x03"),
        ext(0xff01, b"\x00"),
        ext(0x000b, b"\x01\x00"),
        ext(0x000a, &vec16(&[0x4a4a, 0x001d, 0x0017, 0x0018])),
        ext(0x0015, &[0; 8]),
        ext(0x1a1a, b"\x00"),
    ];
    client_hello_body(0x0303, &ciphers, &extensions)
}

#[test]
fn record_and_handshake_framing() {
    let body = chrome_like_body("example.com");
    let bytes = record(1, &body);
    let (rest, rec) = parse_tls_record(&bytes).unwrap();
    assert!(rest.is_empty());
    assert_eq!(rec.content_type, ContentType::HANDSHAKE);
    assert_eq!(rec.version, ProtocolVersion::TLS_1_0);
    let (rest, hs) = parse_handshake(rec.fragment).unwrap();
    assert!(rest.is_empty());
    assert_eq!(hs.msg_type, HandshakeType::CLIENT_HELLO);
    assert_eq!(hs.body, &body[..]);
    // Every prefix is incomplete, never invalid, and says how much is missing at least.
    for cut in 0..bytes.len() {
        match parse_tls_record(&bytes[..cut]) {
            Err(ParseError::Incomplete { needed }) => {
                assert!(needed >= 1 && cut + needed <= bytes.len())
            }
            other => panic!("prefix {cut}: {other:?}"),
        }
    }
    assert_eq!(
        parse_tls_record(b"\x17\x02\x00\x00\x01x"),
        Err(ParseError::Invalid(ErrorKind::BadRecordVersion))
    );
    assert_eq!(
        parse_tls_record(b"GET / HTTP/1.1"),
        Err(ParseError::Invalid(ErrorKind::BadContentType))
    );
    assert_eq!(
        parse_tls_record(b"\x16\x03\x01\xff\xff"),
        Err(ParseError::Invalid(ErrorKind::RecordTooLong))
    );
}

#[test]
fn client_hello_fields() {
    let body = chrome_like_body("Example.COM");
    let hello = parse_client_hello(&body).unwrap();
    assert_eq!(hello.version, ProtocolVersion::TLS_1_2);
    assert_eq!(hello.cipher_suites.len(), 16);
    assert_eq!(hello.cipher_suites.iter().nth(1), Some(0x1301));
    let types: Vec<u16> = hello.extensions.iter().map(|e| e.ext_type.0).collect();
    assert_eq!(types.len(), 18);
    assert_eq!(types[0], 0x2a2a);
    let sni = hello
        .extensions
        .find(ExtensionType::SERVER_NAME)
        .and_then(server_name);
    assert_eq!(sni, Some(&b"Example.COM"[..]));
    let alpn: Vec<&[u8]> =
        alpn_protocols(hello.extensions.find(ExtensionType::ALPN).unwrap()).collect();
    assert_eq!(alpn, [&b"h2"[..], b"http/1.1"]);
    let versions: Vec<u16> = client_supported_versions(
        hello
            .extensions
            .find(ExtensionType::SUPPORTED_VERSIONS)
            .unwrap(),
    )
    .iter()
    .collect();
    assert_eq!(versions, [0xfafa, 0x0304, 0x0303]);
    assert_eq!(ec_point_formats(b"\x01\x00"), b"\x00");
    // Truncations anywhere inside the body are invalid, never a panic.
    for cut in 0..body.len() {
        let _ = parse_client_hello(&body[..cut]);
    }
}

#[test]
fn ja4_of_the_spec_example() {
    // FoxIO's JA4.md example: t13d1516h2_8daaf6152771_e5627efa2ab1 (GREASE ignored).
    let body = chrome_like_body("example.com");
    let hello = parse_client_hello(&body).unwrap();
    let mut scratch = Vec::new();
    assert_eq!(
        ja4(&hello, &mut scratch).as_str(),
        "t13d1516h2_8daaf6152771_e5627efa2ab1"
    );
}

#[test]
fn ja4_edge_cases() {
    let mut scratch = Vec::new();
    let mut fingerprint = |body: &[u8]| ja4(&parse_client_hello(body).unwrap(), &mut scratch);
    // No extensions at all: both hashes of empty lists are zeros, no ALPN, no SNI.
    let bare = client_hello_body(0x0301, &[0x002f, 0x0035], &[]);
    let want = format!("t10i020000_{}_000000000000", sha2_12("002f,0035"));
    assert_eq!(fingerprint(&bare).as_str(), want);
    // No ciphers.
    let no_ciphers = client_hello_body(0x0303, &[], &[ext(0x0017, b"")]);
    assert!(
        fingerprint(&no_ciphers).as_str().starts_with("t12i0001"),
        "{:?}",
        fingerprint(&no_ciphers)
    );
    assert_eq!(&fingerprint(&no_ciphers).as_str()[11..23], "000000000000");
    // Only SNI and ALPN: the extension list hashed is empty → zeros.
    let only_sni_alpn = client_hello_body(
        0x0303,
        &[0x1301],
        &[sni_ext("a.example"), alpn_ext(&[b"\xab\xcd"])],
    );
    let f = fingerprint(&only_sni_alpn);
    assert_eq!(&f.as_str()[..11], "t12d010299_");
    assert_eq!(&f.as_str()[24..], "000000000000");
    // Without signature algorithms there is no trailing underscore in the hashed string.
    let no_sigs = client_hello_body(
        0x0303,
        &[0x1301],
        &[ext(0x0017, b""), ext(0x000a, &vec16(&[0x1d]))],
    );
    assert_eq!(&fingerprint(&no_sigs).as_str()[24..], &sha2_12("000a,0017"));
    // Signature algorithms but no other extension: the string starts with the underscore.
    let sigs_only = client_hello_body(0x0303, &[0x1301], &[ext(0x000d, &vec16(&[0x0403]))]);
    assert_eq!(
        &fingerprint(&sigs_only).as_str()[24..],
        &sha2_12("000d_0403")
    );
}

fn sha2_12(text: &str) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(text.as_bytes());
    digest.iter().take(6).map(|b| format!("{b:02x}")).collect()
}

#[test]
fn ja3_and_ja3s_strings() {
    let body = chrome_like_body("example.com");
    let hello = parse_client_hello(&body).unwrap();
    let mut out = String::new();
    ja3_string(&hello, &mut out);
    assert_eq!(
        out,
        "771,4865-4866-4867-49195-49199-49196-49200-52393-52392-49171-49172-156-157-47-53,\
         27-0-51-16-17513-23-45-13-5-35-18-43-65281-11-10-21,29-23-24,0"
    );
    assert_eq!(Md5Hex::of(&out).as_str().len(), 32);
    let server = server_hello_body(
        0x0303,
        [7; 32],
        0xc02f,
        &[ext(0xff01, b"\x00"), ext(0, b""), ext(11, b"\x01\x00")],
    );
    let hello = parse_server_hello(&server).unwrap();
    assert!(!hello.is_hello_retry_request());
    assert_eq!(hello.negotiated_version(), ProtocolVersion::TLS_1_2);
    ja3s_string(&hello, &mut out);
    assert_eq!(out, "771,49199,65281-0-11");
}

#[test]
fn hello_retry_request_and_negotiated_version() {
    let body = server_hello_body(
        0x0303,
        HELLO_RETRY_REQUEST_RANDOM,
        0x1301,
        &[ext(43, b"\x03\x04"), ext(51, b"\x00\x1d")],
    );
    let hello = parse_server_hello(&body).unwrap();
    assert!(hello.is_hello_retry_request());
    assert_eq!(hello.negotiated_version(), ProtocolVersion::TLS_1_3);
}

#[test]
fn grease_values() {
    let grease: Vec<u16> = (0..=0xffffu16).filter(|v| is_grease(*v)).collect();
    assert_eq!(grease.len(), 16);
    assert_eq!(grease[0], 0x0a0a);
    assert_eq!(grease[15], 0xfafa);
}

#[test]
fn malformed_extension_blocks() {
    // Extension length overruns the block.
    let mut body = client_hello_body(0x0303, &[0x1301], &[]);
    body.extend_from_slice(&[0, 4, 0, 0, 0, 9]);
    assert_eq!(
        parse_client_hello(&body),
        Err(ParseError::Invalid(ErrorKind::BadExtensions))
    );
    // Odd cipher list.
    let mut odd = 0x0303u16.to_be_bytes().to_vec();
    odd.extend_from_slice(&[0; 32]);
    odd.extend_from_slice(&[0, 0, 3, 0, 1, 2, 1, 0]);
    assert_eq!(
        parse_client_hello(&odd),
        Err(ParseError::Invalid(ErrorKind::BadList))
    );
    // Malformed inner lists read as empty.
    assert!(u16_list(b"\x00\x05\x00").is_empty());
    assert_eq!(server_name(b"\x00\x09\x00\x00"), None);
    assert_eq!(alpn_protocols(b"\x00\x03\x05h2").count(), 0);
}

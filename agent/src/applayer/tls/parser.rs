//! Pure, zero-copy parsing of TLS records and hello messages (RFC 5246, RFC 8446).
//!
//! Every function borrows its input and returns views into it; nothing allocates. Lists inside a
//! hello (cipher suites, extensions, groups, ALPN names…) are validated once when the hello is
//! parsed and then read through iterators over the borrowed bytes, so a fingerprint can walk
//! them as often as it needs without copying. Wire codes are integer newtypes with named
//! constants, never closed enums: an unknown cipher or extension is data, not a parse error.
//!
//! Why not the `tls-parser` crate: it meets the no-panic bar, but its hello parsers collect
//! cipher suites, compression methods and extensions into `Vec`s on every ClientHello, which
//! breaks the agent's "no per-packet allocation" rule; this module is the few hundred lines of
//! the subset Kordon needs (record envelope, handshake header, ClientHello, ServerHello,
//! HelloRetryRequest, and the extensions that feed JA3/JA4), written in the same style.

#![forbid(unsafe_code)]
#![deny(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

/// Length of the record header: type (1), version (2), length (2).
pub const RECORD_HEADER_LEN: usize = 5;

/// Largest record fragment accepted: RFC 5246 §6.2.3 allows a TLSCiphertext of 2^14 + 2048
/// bytes (RFC 8446 §5.2 lowers it to 2^14 + 256); plaintext handshake records are at most 2^14.
pub const MAX_RECORD_LEN: usize = (1 << 14) + 2048;

/// Length of a handshake message header: type (1), length (3).
pub const HANDSHAKE_HEADER_LEN: usize = 4;

/// Largest hello message accepted. The length field allows 2^24 - 1, but a real ClientHello is
/// a few hundred bytes to ~2 KiB (post-quantum key shares, padding) and may legally span
/// records; four full records (64 KiB) is far beyond anything seen and bounds what the parser
/// state buffers for one message.
pub const MAX_HELLO_LEN: usize = 4 * (1 << 14);

/// Why parsing stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParseError {
    /// The input ends early; at least `needed` more bytes are required.
    Incomplete {
        /// Bytes missing (a lower bound).
        needed: usize,
    },
    /// The bytes are not valid for this structure.
    Invalid(ErrorKind),
}

/// What was wrong with invalid input; the names double as anomaly names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorKind {
    /// A record header whose content type is not a TLS one.
    BadContentType,
    /// A record version whose major byte is not 3.
    BadRecordVersion,
    /// A record longer than [`MAX_RECORD_LEN`].
    RecordTooLong,
    /// A hello longer than [`MAX_HELLO_LEN`].
    HelloTooLong,
    /// A hello whose fields do not fit its length.
    TruncatedHello,
    /// A length-prefixed list with an odd length where 16-bit entries are expected, or entries
    /// that overrun the list.
    BadList,
    /// The extensions block does not split into whole extensions.
    BadExtensions,
}

impl ErrorKind {
    /// Stable snake_case name, used as the anomaly name.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::BadContentType => "bad_content_type",
            ErrorKind::BadRecordVersion => "bad_record_version",
            ErrorKind::RecordTooLong => "record_too_long",
            ErrorKind::HelloTooLong => "hello_too_long",
            ErrorKind::TruncatedHello => "truncated_hello",
            ErrorKind::BadList => "bad_list",
            ErrorKind::BadExtensions => "bad_extensions",
        }
    }
}

/// Record content type (RFC 8446 §5.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ContentType(pub u8);

impl ContentType {
    /// change_cipher_spec.
    pub const CHANGE_CIPHER_SPEC: ContentType = ContentType(20);
    /// alert.
    pub const ALERT: ContentType = ContentType(21);
    /// handshake.
    pub const HANDSHAKE: ContentType = ContentType(22);
    /// application_data.
    pub const APPLICATION_DATA: ContentType = ContentType(23);
    /// heartbeat (RFC 6520).
    pub const HEARTBEAT: ContentType = ContentType(24);

    /// Whether this is one of the content types above.
    pub fn is_known(self) -> bool {
        (20..=24).contains(&self.0)
    }
}

/// Protocol version as on the wire (`0x0303` = TLS 1.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProtocolVersion(pub u16);

impl ProtocolVersion {
    /// SSL 2.0 (as JA4 writes it).
    pub const SSL_2_0: ProtocolVersion = ProtocolVersion(0x0002);
    /// SSL 3.0.
    pub const SSL_3_0: ProtocolVersion = ProtocolVersion(0x0300);
    /// TLS 1.0.
    pub const TLS_1_0: ProtocolVersion = ProtocolVersion(0x0301);
    /// TLS 1.1.
    pub const TLS_1_1: ProtocolVersion = ProtocolVersion(0x0302);
    /// TLS 1.2.
    pub const TLS_1_2: ProtocolVersion = ProtocolVersion(0x0303);
    /// TLS 1.3.
    pub const TLS_1_3: ProtocolVersion = ProtocolVersion(0x0304);
    /// DTLS 1.0.
    pub const DTLS_1_0: ProtocolVersion = ProtocolVersion(0xfeff);
    /// DTLS 1.2.
    pub const DTLS_1_2: ProtocolVersion = ProtocolVersion(0xfefd);
    /// DTLS 1.3.
    pub const DTLS_1_3: ProtocolVersion = ProtocolVersion(0xfefc);
}

/// Handshake message type (RFC 8446 §4).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct HandshakeType(pub u8);

impl HandshakeType {
    /// hello_request (TLS 1.2).
    pub const HELLO_REQUEST: HandshakeType = HandshakeType(0);
    /// client_hello.
    pub const CLIENT_HELLO: HandshakeType = HandshakeType(1);
    /// server_hello (and HelloRetryRequest, which is a ServerHello with a special random).
    pub const SERVER_HELLO: HandshakeType = HandshakeType(2);
    /// certificate.
    pub const CERTIFICATE: HandshakeType = HandshakeType(11);
}

/// Cipher suite code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CipherSuite(pub u16);

impl CipherSuite {
    /// TLS_EMPTY_RENEGOTIATION_INFO_SCSV (RFC 5746).
    pub const EMPTY_RENEGOTIATION_INFO_SCSV: CipherSuite = CipherSuite(0x00ff);
    /// TLS_FALLBACK_SCSV (RFC 7507).
    pub const FALLBACK_SCSV: CipherSuite = CipherSuite(0x5600);
    /// TLS_AES_128_GCM_SHA256 (TLS 1.3).
    pub const TLS_AES_128_GCM_SHA256: CipherSuite = CipherSuite(0x1301);
}

/// Extension type (IANA "TLS ExtensionType Values").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ExtensionType(pub u16);

impl ExtensionType {
    /// server_name (RFC 6066).
    pub const SERVER_NAME: ExtensionType = ExtensionType(0);
    /// supported_groups, formerly elliptic_curves (RFC 8422).
    pub const SUPPORTED_GROUPS: ExtensionType = ExtensionType(10);
    /// ec_point_formats (RFC 8422).
    pub const EC_POINT_FORMATS: ExtensionType = ExtensionType(11);
    /// signature_algorithms (RFC 8446).
    pub const SIGNATURE_ALGORITHMS: ExtensionType = ExtensionType(13);
    /// application_layer_protocol_negotiation (RFC 7301).
    pub const ALPN: ExtensionType = ExtensionType(16);
    /// padding (RFC 7685).
    pub const PADDING: ExtensionType = ExtensionType(21);
    /// supported_versions (RFC 8446).
    pub const SUPPORTED_VERSIONS: ExtensionType = ExtensionType(43);
    /// key_share (RFC 8446).
    pub const KEY_SHARE: ExtensionType = ExtensionType(51);
    /// quic_transport_parameters (RFC 9001).
    pub const QUIC_TRANSPORT_PARAMETERS: ExtensionType = ExtensionType(57);
    /// renegotiation_info (RFC 5746).
    pub const RENEGOTIATION_INFO: ExtensionType = ExtensionType(0xff01);
}

/// Named group (formerly "elliptic curve").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct NamedGroup(pub u16);

impl NamedGroup {
    /// secp256r1.
    pub const SECP256R1: NamedGroup = NamedGroup(23);
    /// x25519.
    pub const X25519: NamedGroup = NamedGroup(29);
}

/// Signature scheme (RFC 8446 §4.2.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SignatureScheme(pub u16);

impl SignatureScheme {
    /// ecdsa_secp256r1_sha256.
    pub const ECDSA_SECP256R1_SHA256: SignatureScheme = SignatureScheme(0x0403);
    /// rsa_pss_rsae_sha256.
    pub const RSA_PSS_RSAE_SHA256: SignatureScheme = SignatureScheme(0x0804);
}

/// Whether a 16-bit value is a GREASE value (RFC 8701: `0x?a?a` with equal bytes).
pub fn is_grease(value: u16) -> bool {
    value & 0x0f0f == 0x0a0a && value >> 8 == value & 0xff
}

/// The random of a HelloRetryRequest: SHA-256("HelloRetryRequest") (RFC 8446 §4.1.3).
pub const HELLO_RETRY_REQUEST_RANDOM: [u8; 32] = [
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
];

/// A cursor over borrowed bytes; every read is checked.
struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Reader { rest: bytes }
    }

    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let (head, tail) = self.rest.split_at_checked(n)?;
        self.rest = tail;
        Some(head)
    }

    fn u8(&mut self) -> Option<u8> {
        let (&byte, tail) = self.rest.split_first()?;
        self.rest = tail;
        Some(byte)
    }

    fn u16(&mut self) -> Option<u16> {
        let b = self.take(2)?;
        Some(u16::from_be_bytes([*b.first()?, *b.get(1)?]))
    }

    fn u24(&mut self) -> Option<usize> {
        let b = self.take(3)?;
        Some(
            usize::from(*b.first()?) << 16 | usize::from(*b.get(1)?) << 8 | usize::from(*b.get(2)?),
        )
    }

    /// A block prefixed by a 1-byte length.
    fn vec8(&mut self) -> Option<&'a [u8]> {
        let n = self.u8()?;
        self.take(usize::from(n))
    }

    /// A block prefixed by a 2-byte length.
    fn vec16(&mut self) -> Option<&'a [u8]> {
        let n = self.u16()?;
        self.take(usize::from(n))
    }
}

/// One TLS record, borrowed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Record<'a> {
    /// Content type.
    pub content_type: ContentType,
    /// Record-layer version (legacy; not the negotiated version).
    pub version: ProtocolVersion,
    /// The record's payload.
    pub fragment: &'a [u8],
}

/// Parses one record: the 5-byte header, then its fragment. Returns the bytes after it.
pub fn parse_tls_record(i: &[u8]) -> Result<(&[u8], Record<'_>), ParseError> {
    let mut r = Reader::new(i);
    let (Some(content_type), Some(version), Some(length)) = (r.u8(), r.u16(), r.u16()) else {
        return Err(ParseError::Incomplete {
            needed: RECORD_HEADER_LEN.saturating_sub(i.len()),
        });
    };
    let content_type = ContentType(content_type);
    if !content_type.is_known() {
        return Err(ParseError::Invalid(ErrorKind::BadContentType));
    }
    if version >> 8 != 3 {
        return Err(ParseError::Invalid(ErrorKind::BadRecordVersion));
    }
    let length = usize::from(length);
    if length > MAX_RECORD_LEN {
        return Err(ParseError::Invalid(ErrorKind::RecordTooLong));
    }
    let available = r.rest.len();
    let Some(fragment) = r.take(length) else {
        return Err(ParseError::Incomplete {
            needed: length - available,
        });
    };
    Ok((
        r.rest,
        Record {
            content_type,
            version: ProtocolVersion(version),
            fragment,
        },
    ))
}

/// One handshake message, borrowed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Handshake<'a> {
    /// Message type.
    pub msg_type: HandshakeType,
    /// The message body (after the 4-byte header).
    pub body: &'a [u8],
}

/// Parses one handshake message from handshake-layer bytes (the concatenated fragments of
/// handshake records). Hello messages longer than [`MAX_HELLO_LEN`] are invalid; other messages
/// (certificates can be large) are only bounded by the 24-bit length.
pub fn parse_handshake(i: &[u8]) -> Result<(&[u8], Handshake<'_>), ParseError> {
    let mut r = Reader::new(i);
    let (Some(msg_type), Some(length)) = (r.u8(), r.u24()) else {
        return Err(ParseError::Incomplete {
            needed: HANDSHAKE_HEADER_LEN.saturating_sub(i.len()),
        });
    };
    let msg_type = HandshakeType(msg_type);
    let hello = matches!(
        msg_type,
        HandshakeType::CLIENT_HELLO | HandshakeType::SERVER_HELLO
    );
    if hello && length > MAX_HELLO_LEN {
        return Err(ParseError::Invalid(ErrorKind::HelloTooLong));
    }
    let available = r.rest.len();
    let Some(body) = r.take(length) else {
        return Err(ParseError::Incomplete {
            needed: length - available,
        });
    };
    Ok((r.rest, Handshake { msg_type, body }))
}

/// A list of big-endian 16-bit values, borrowed (even length, checked when parsed).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct U16List<'a>(&'a [u8]);

impl<'a> U16List<'a> {
    /// Wraps `bytes` if its length is even.
    fn new(bytes: &'a [u8]) -> Option<Self> {
        bytes.len().is_multiple_of(2).then_some(U16List(bytes))
    }

    /// The values in wire order.
    pub fn iter(&self) -> impl Iterator<Item = u16> + 'a {
        self.0
            .chunks_exact(2)
            .map(|c| <[u8; 2]>::try_from(c).map_or(0, u16::from_be_bytes))
    }

    /// Number of values.
    pub fn len(&self) -> usize {
        self.0.len() / 2
    }

    /// Whether the list is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// One extension, borrowed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Extension<'a> {
    /// Type.
    pub ext_type: ExtensionType,
    /// Its data (after type and length).
    pub data: &'a [u8],
}

/// An extensions block whose framing was validated when the hello was parsed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Extensions<'a>(&'a [u8]);

impl<'a> Extensions<'a> {
    /// Checks that `bytes` splits exactly into extensions.
    fn new(bytes: &'a [u8]) -> Option<Self> {
        let mut r = Reader::new(bytes);
        while !r.rest.is_empty() {
            r.u16()?;
            r.vec16()?;
        }
        Some(Extensions(bytes))
    }

    /// The extensions in wire order.
    pub fn iter(&self) -> impl Iterator<Item = Extension<'a>> + 'a {
        let mut r = Reader::new(self.0);
        std::iter::from_fn(move || {
            let ext_type = ExtensionType(r.u16()?);
            let data = r.vec16()?;
            Some(Extension { ext_type, data })
        })
    }

    /// The data of the first extension of type `t`.
    pub fn find(&self, t: ExtensionType) -> Option<&'a [u8]> {
        self.iter().find(|e| e.ext_type == t).map(|e| e.data)
    }

    /// Whether the block holds no extension.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// A ClientHello (RFC 8446 §4.1.2), borrowed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientHello<'a> {
    /// `legacy_version` (the highest version for TLS ≤ 1.2; 0x0303 for TLS 1.3 clients).
    pub version: ProtocolVersion,
    /// 32 random bytes.
    pub random: &'a [u8],
    /// Legacy session id.
    pub session_id: &'a [u8],
    /// Cipher suites, in the client's order.
    pub cipher_suites: U16List<'a>,
    /// Compression methods.
    pub compression_methods: &'a [u8],
    /// Extensions, in the client's order (empty when the hello has none, as SSL 3.0 allows).
    pub extensions: Extensions<'a>,
}

fn truncated() -> ParseError {
    ParseError::Invalid(ErrorKind::TruncatedHello)
}

/// Parses a ClientHello body (the handshake message body, complete).
pub fn parse_client_hello(body: &[u8]) -> Result<ClientHello<'_>, ParseError> {
    let mut r = Reader::new(body);
    let version = ProtocolVersion(r.u16().ok_or_else(truncated)?);
    let random = r.take(32).ok_or_else(truncated)?;
    let session_id = r.vec8().ok_or_else(truncated)?;
    let ciphers = r.vec16().ok_or_else(truncated)?;
    let cipher_suites = U16List::new(ciphers).ok_or(ParseError::Invalid(ErrorKind::BadList))?;
    let compression_methods = r.vec8().ok_or_else(truncated)?;
    let extensions = parse_extensions_block(&mut r)?;
    Ok(ClientHello {
        version,
        random,
        session_id,
        cipher_suites,
        compression_methods,
        extensions,
    })
}

/// The optional extensions block at the end of a hello: absent, or a 2-byte length and exactly
/// that many bytes of extensions. Trailing bytes after it are tolerated (seen in the wild).
fn parse_extensions_block<'a>(r: &mut Reader<'a>) -> Result<Extensions<'a>, ParseError> {
    if r.rest.is_empty() {
        return Ok(Extensions::default());
    }
    let block = r.vec16().ok_or_else(truncated)?;
    Extensions::new(block).ok_or(ParseError::Invalid(ErrorKind::BadExtensions))
}

impl ClientHello<'_> {
    /// The highest version offered: the largest non-GREASE `supported_versions` entry when the
    /// extension is there (TLS 1.3 clients), else `legacy_version`.
    pub fn max_version(&self) -> ProtocolVersion {
        self.extensions
            .find(ExtensionType::SUPPORTED_VERSIONS)
            .and_then(|d| {
                client_supported_versions(d)
                    .iter()
                    .filter(|v| !is_grease(*v))
                    .max()
            })
            .map_or(self.version, ProtocolVersion)
    }
}

/// A ServerHello (or HelloRetryRequest), borrowed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServerHello<'a> {
    /// `legacy_version`.
    pub version: ProtocolVersion,
    /// 32 random bytes ([`HELLO_RETRY_REQUEST_RANDOM`] in a HelloRetryRequest).
    pub random: &'a [u8],
    /// Legacy session id echo.
    pub session_id: &'a [u8],
    /// The chosen cipher suite.
    pub cipher_suite: CipherSuite,
    /// The chosen compression method.
    pub compression_method: u8,
    /// Extensions, in the server's order.
    pub extensions: Extensions<'a>,
}

impl ServerHello<'_> {
    /// Whether this is a HelloRetryRequest (RFC 8446 §4.1.3).
    pub fn is_hello_retry_request(&self) -> bool {
        self.random == HELLO_RETRY_REQUEST_RANDOM
    }

    /// The negotiated version: `supported_versions` when the server sent it (TLS 1.3), else
    /// `legacy_version`.
    pub fn negotiated_version(&self) -> ProtocolVersion {
        self.extensions
            .find(ExtensionType::SUPPORTED_VERSIONS)
            .and_then(|d| Reader::new(d).u16())
            .map_or(self.version, ProtocolVersion)
    }
}

/// Whether a ServerHello `legacy_version` is that of a TLS 1.3 draft before draft 22, whose
/// ServerHello has neither session id nor compression method (`0x7f00 | draft`, or `0x0304`
/// as implementations of drafts up to 15 wrote it).
pub fn is_early_tls13_draft(version: ProtocolVersion) -> bool {
    version == ProtocolVersion::TLS_1_3 || (0x7f00..=0x7f15).contains(&version.0)
}

/// Parses a ServerHello body (complete), including the shorter layout of early TLS 1.3 drafts.
pub fn parse_server_hello(body: &[u8]) -> Result<ServerHello<'_>, ParseError> {
    let mut r = Reader::new(body);
    let version = ProtocolVersion(r.u16().ok_or_else(truncated)?);
    let random = r.take(32).ok_or_else(truncated)?;
    let early_draft = is_early_tls13_draft(version);
    let session_id = if early_draft {
        &[][..]
    } else {
        r.vec8().ok_or_else(truncated)?
    };
    let cipher_suite = CipherSuite(r.u16().ok_or_else(truncated)?);
    let compression_method = if early_draft {
        0
    } else {
        r.u8().ok_or_else(truncated)?
    };
    let extensions = parse_extensions_block(&mut r)?;
    Ok(ServerHello {
        version,
        random,
        session_id,
        cipher_suite,
        compression_method,
        extensions,
    })
}

/// The first `host_name` of a server_name extension (RFC 6066 §3), raw bytes.
pub fn server_name(data: &[u8]) -> Option<&[u8]> {
    let mut list = Reader::new(Reader::new(data).vec16()?);
    while !list.rest.is_empty() {
        let name_type = list.u8()?;
        let name = list.vec16()?;
        if name_type == 0 {
            return Some(name);
        }
    }
    None
}

/// The protocol names of an ALPN extension (RFC 7301 §3.1), in order; stops at malformed data.
pub fn alpn_protocols(data: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut list = Reader::new(Reader::new(data).vec16().unwrap_or_default());
    std::iter::from_fn(move || list.vec8())
}

/// A 16-bit list behind a 2-byte length (supported_groups, signature_algorithms); empty when
/// malformed.
pub fn u16_list(data: &[u8]) -> U16List<'_> {
    Reader::new(data)
        .vec16()
        .and_then(U16List::new)
        .unwrap_or_default()
}

/// The versions of a ClientHello's supported_versions extension (1-byte length, 16-bit
/// entries); empty when malformed.
pub fn client_supported_versions(data: &[u8]) -> U16List<'_> {
    Reader::new(data)
        .vec8()
        .and_then(U16List::new)
        .unwrap_or_default()
}

/// The formats of an ec_point_formats extension (1-byte length, 8-bit entries); empty when
/// malformed.
pub fn ec_point_formats(data: &[u8]) -> &[u8] {
    Reader::new(data).vec8().unwrap_or_default()
}

#[cfg(test)]
#[path = "parser_tests.rs"]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)] // tests fail by panicking
pub(crate) mod tests;

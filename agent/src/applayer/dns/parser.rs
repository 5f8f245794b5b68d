//! DNS wire format (RFC 1035, RFC 3596 AAAA, RFC 2782 SRV): pure functions over a message.
//!
//! Everything except names is read in place. Names are compressed on the wire (pointers to
//! earlier bytes), so they are decompressed into the caller's reusable [`Message`] buffer, in
//! presentation form (labels joined by `.`, case kept, bytes outside printable ASCII escaped as
//! `\DDD`, RFC 4343), bounded by [`MAX_NAME_WIRE_LEN`], [`MAX_POINTER_JUMPS`] and
//! [`MAX_NAMES_BYTES`]. Problems that leave the rest of the message readable (a pointer loop, an
//! over-long name, an rdata length that disagrees with its content) are recorded in
//! [`Anomalies`] and parsing goes on, as Suricata does; only a message that cannot be walked
//! (truncated header or question, a reserved label type) is an error.

#![forbid(unsafe_code)]
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::fmt::Write as _;
use std::net::{Ipv4Addr, Ipv6Addr};

/// Bytes of the fixed header (RFC 1035 §4.1.1).
pub const HEADER_LEN: usize = 12;
/// Longest name on the wire: labels plus their length octets plus the root (RFC 1035 §2.3.4).
pub const MAX_NAME_WIRE_LEN: usize = 255;
/// Longest label (RFC 1035 §2.3.4; the length octet's top two bits mark pointers).
pub const MAX_LABEL_LEN: usize = 63;
/// Pointer jumps followed while reading one name. A valid name has at most 127 labels (255
/// octets, at least 2 per label) and each label needs at most one pointer to reach it, so more
/// jumps than this can only be a loop.
pub const MAX_POINTER_JUMPS: usize = 127;
/// Records (questions included) kept per message. A 64 KiB message could declare thousands of
/// minimal records; real responses carry tens. The rest is skipped with
/// [`Anomalies::RECORD_LIMIT`].
pub const MAX_RECORDS: usize = 256;
/// Bytes of decompressed names kept per message. Compression lets every 2-byte pointer expand to
/// a 255-byte name, so without a cap a 64 KiB message could expand to megabytes; 64 KiB holds
/// [`MAX_RECORDS`] names of ordinary length several times over.
pub const MAX_NAMES_BYTES: usize = 64 * 1024;

/// Why a message could not be parsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParseError {
    /// More bytes are needed (only for the fixed header; a datagram is always whole).
    Incomplete {
        /// How many more bytes at least.
        needed: usize,
    },
    /// The bytes are not a walkable DNS message.
    Invalid(InvalidKind),
}

/// What made a message invalid.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InvalidKind {
    /// A record or name runs past the end of the message before any record was read.
    Truncated,
    /// A label length octet with the reserved `01`/`10` top bits (RFC 1035 §4.1.4, RFC 6891
    /// §5: extended label types are deprecated).
    BadLabelType,
}

impl InvalidKind {
    /// Stable snake_case name used for anomaly counters.
    pub fn as_str(self) -> &'static str {
        match self {
            InvalidKind::Truncated => "truncated",
            InvalidKind::BadLabelType => "bad_label_type",
        }
    }
}

/// Resource record type (RFC 1035 §3.2.2 and later RFCs). A newtype so unknown types still
/// parse (STYLE: wire codes are newtypes).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RrType(pub u16);

impl RrType {
    /// IPv4 address.
    pub const A: RrType = RrType(1);
    /// Authoritative name server.
    pub const NS: RrType = RrType(2);
    /// Canonical name.
    pub const CNAME: RrType = RrType(5);
    /// Start of authority.
    pub const SOA: RrType = RrType(6);
    /// Null record (RFC 1035 §3.3.10; anything, used by DNS tunnels).
    pub const NULL: RrType = RrType(10);
    /// Domain name pointer.
    pub const PTR: RrType = RrType(12);
    /// Host information.
    pub const HINFO: RrType = RrType(13);
    /// Mail exchange.
    pub const MX: RrType = RrType(15);
    /// Text strings.
    pub const TXT: RrType = RrType(16);
    /// IPv6 address (RFC 3596).
    pub const AAAA: RrType = RrType(28);
    /// Service locator (RFC 2782).
    pub const SRV: RrType = RrType(33);
    /// Naming authority pointer.
    pub const NAPTR: RrType = RrType(35);
    /// Delegation name.
    pub const DNAME: RrType = RrType(39);
    /// EDNS(0) pseudo-record (RFC 6891).
    pub const OPT: RrType = RrType(41);
    /// Delegation signer.
    pub const DS: RrType = RrType(43);
    /// SSH key fingerprint.
    pub const SSHFP: RrType = RrType(44);
    /// DNSSEC signature.
    pub const RRSIG: RrType = RrType(46);
    /// Next secure.
    pub const NSEC: RrType = RrType(47);
    /// DNS public key.
    pub const DNSKEY: RrType = RrType(48);
    /// NSEC3.
    pub const NSEC3: RrType = RrType(50);
    /// TLSA certificate association.
    pub const TLSA: RrType = RrType(52);
    /// Service binding (RFC 9460).
    pub const SVCB: RrType = RrType(64);
    /// HTTPS service binding (RFC 9460).
    pub const HTTPS: RrType = RrType(65);
    /// Zone transfer.
    pub const AXFR: RrType = RrType(252);
    /// Any type.
    pub const ANY: RrType = RrType(255);
    /// Certification authority authorisation.
    pub const CAA: RrType = RrType(257);

    /// The mnemonic, or `None` for a type without one here (logged as its number).
    pub fn name(self) -> Option<&'static str> {
        Some(match self {
            RrType::A => "A",
            RrType::NS => "NS",
            RrType::CNAME => "CNAME",
            RrType::SOA => "SOA",
            RrType::NULL => "NULL",
            RrType::PTR => "PTR",
            RrType::HINFO => "HINFO",
            RrType::MX => "MX",
            RrType::TXT => "TXT",
            RrType::AAAA => "AAAA",
            RrType::SRV => "SRV",
            RrType::NAPTR => "NAPTR",
            RrType::DNAME => "DNAME",
            RrType::OPT => "OPT",
            RrType::DS => "DS",
            RrType::SSHFP => "SSHFP",
            RrType::RRSIG => "RRSIG",
            RrType::NSEC => "NSEC",
            RrType::DNSKEY => "DNSKEY",
            RrType::NSEC3 => "NSEC3",
            RrType::TLSA => "TLSA",
            RrType::SVCB => "SVCB",
            RrType::HTTPS => "HTTPS",
            RrType::AXFR => "AXFR",
            RrType::ANY => "ANY",
            RrType::CAA => "CAA",
            _ => return None,
        })
    }
}

/// Response code: the header's 4 bits (RFC 1035 §4.1.1, RFC 2136 §2.2, RFC 6895).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rcode(pub u8);

impl Rcode {
    /// No error.
    pub const NOERROR: Rcode = Rcode(0);
    /// Format error.
    pub const FORMERR: Rcode = Rcode(1);
    /// Server failure.
    pub const SERVFAIL: Rcode = Rcode(2);
    /// Name does not exist.
    pub const NXDOMAIN: Rcode = Rcode(3);
    /// Not implemented.
    pub const NOTIMP: Rcode = Rcode(4);
    /// Refused.
    pub const REFUSED: Rcode = Rcode(5);
    /// Name exists when it should not.
    pub const YXDOMAIN: Rcode = Rcode(6);
    /// RR set exists when it should not.
    pub const YXRRSET: Rcode = Rcode(7);
    /// RR set that should exist does not.
    pub const NXRRSET: Rcode = Rcode(8);
    /// Not authoritative.
    pub const NOTAUTH: Rcode = Rcode(9);
    /// Name not in zone.
    pub const NOTZONE: Rcode = Rcode(10);

    /// Suricata's name for the code, or `None` (logged as its number).
    pub fn name(self) -> Option<&'static str> {
        Some(match self {
            Rcode::NOERROR => "NOERROR",
            Rcode::FORMERR => "FORMERR",
            Rcode::SERVFAIL => "SERVFAIL",
            Rcode::NXDOMAIN => "NXDOMAIN",
            Rcode::NOTIMP => "NOTIMP",
            Rcode::REFUSED => "REFUSED",
            Rcode::YXDOMAIN => "YXDOMAIN",
            Rcode::YXRRSET => "YXRRSET",
            Rcode::NXRRSET => "NXRRSET",
            Rcode::NOTAUTH => "NOTAUTH",
            Rcode::NOTZONE => "NOTZONE",
            _ => return None,
        })
    }
}

/// The header's flags word (RFC 1035 §4.1.1, RFC 4035 §3.2 for AD/CD).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Flags(pub u16);

impl Flags {
    /// A response (QR).
    pub fn qr(self) -> bool {
        self.0 & 0x8000 != 0
    }
    /// Operation code (0 = query).
    pub fn opcode(self) -> u8 {
        ((self.0 >> 11) & 0x0f) as u8
    }
    /// Authoritative answer.
    pub fn aa(self) -> bool {
        self.0 & 0x0400 != 0
    }
    /// Truncated (TC).
    pub fn tc(self) -> bool {
        self.0 & 0x0200 != 0
    }
    /// Recursion desired.
    pub fn rd(self) -> bool {
        self.0 & 0x0100 != 0
    }
    /// Recursion available.
    pub fn ra(self) -> bool {
        self.0 & 0x0080 != 0
    }
    /// The reserved Z bit.
    pub fn z(self) -> bool {
        self.0 & 0x0040 != 0
    }
    /// Authenticated data.
    pub fn ad(self) -> bool {
        self.0 & 0x0020 != 0
    }
    /// Checking disabled.
    pub fn cd(self) -> bool {
        self.0 & 0x0010 != 0
    }
    /// Response code.
    pub fn rcode(self) -> Rcode {
        Rcode((self.0 & 0x000f) as u8)
    }
}

/// The fixed header.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Header {
    /// Transaction id.
    pub id: u16,
    /// Flags word.
    pub flags: Flags,
    /// Questions declared.
    pub qdcount: u16,
    /// Answers declared.
    pub ancount: u16,
    /// Authority records declared.
    pub nscount: u16,
    /// Additional records declared.
    pub arcount: u16,
}

/// Reads the fixed header; returns the bytes after it.
pub fn parse_dns_header(i: &[u8]) -> Result<(&[u8], Header), ParseError> {
    let Some((head, rest)) = i.split_first_chunk::<HEADER_LEN>() else {
        return Err(ParseError::Incomplete {
            needed: HEADER_LEN - i.len(),
        });
    };
    let word = |n: usize| {
        let hi = head.get(2 * n).copied().unwrap_or(0);
        let lo = head.get(2 * n + 1).copied().unwrap_or(0);
        u16::from_be_bytes([hi, lo])
    };
    Ok((
        rest,
        Header {
            id: word(0),
            flags: Flags(word(1)),
            qdcount: word(2),
            ancount: word(3),
            nscount: word(4),
            arcount: word(5),
        },
    ))
}

/// Message sections.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Section {
    /// Question section.
    Question,
    /// Answer section.
    Answer,
    /// Authority section.
    Authority,
    /// Additional section.
    Additional,
}

/// A decompressed name: a span of [`Message`]'s name buffer (empty for the root).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct NameRef {
    start: u32,
    end: u32,
    /// The name was cut: longer than [`MAX_NAME_WIRE_LEN`], or the buffer was full.
    pub truncated: bool,
}

/// A record's data, decoded for the types Kordon reports on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Rdata {
    /// Questions carry none.
    None,
    /// An IPv4 address.
    A(Ipv4Addr),
    /// An IPv6 address.
    Aaaa(Ipv6Addr),
    /// A single name: CNAME, NS, PTR, DNAME.
    Name(NameRef),
    /// MX.
    Mx {
        /// Preference.
        preference: u16,
        /// Mail exchange host.
        exchange: NameRef,
    },
    /// SRV.
    Srv {
        /// Priority.
        priority: u16,
        /// Weight.
        weight: u16,
        /// Port.
        port: u16,
        /// Target host.
        target: NameRef,
    },
    /// SOA.
    Soa {
        /// Primary name server.
        mname: NameRef,
        /// Responsible mailbox.
        rname: NameRef,
        /// Serial.
        serial: u32,
        /// Refresh interval.
        refresh: u32,
        /// Retry interval.
        retry: u32,
        /// Expiry.
        expire: u32,
        /// Negative-caching TTL.
        minimum: u32,
    },
    /// TXT: the rdata's character-strings, as a span of the message.
    Txt {
        /// Offset of the rdata in the message.
        offset: u32,
        /// Rdata length.
        len: u16,
    },
    /// SSHFP (RFC 4255).
    Sshfp {
        /// Key algorithm.
        algo: u8,
        /// Fingerprint type.
        fp_type: u8,
        /// Offset of the fingerprint in the message.
        offset: u32,
        /// Fingerprint length.
        len: u16,
    },
    /// Any other type (or a known type whose rdata did not fit it), as a span of the message.
    Other {
        /// Offset of the rdata in the message.
        offset: u32,
        /// Rdata length.
        len: u16,
    },
}

/// One question or resource record.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Record {
    /// Which section it came from.
    pub section: Section,
    /// Owner name (the question name for questions).
    pub name: NameRef,
    /// Type.
    pub rrtype: RrType,
    /// Class (1 = IN; for OPT the UDP payload size).
    pub class: u16,
    /// TTL (0 for questions).
    pub ttl: u32,
    /// Decoded data.
    pub data: Rdata,
}

crate::anomaly_bits! {
    /// Problems that did not stop the parse (bit set).
    Anomalies {
        /// A name's pointers loop (or jump more than [`MAX_POINTER_JUMPS`] times).
        POINTER_LOOP = 0 => "pointer_loop",
        /// A name longer than [`MAX_NAME_WIRE_LEN`] (kept truncated) or a label over
        /// [`MAX_LABEL_LEN`].
        NAME_TOO_LONG = 1 => "name_too_long",
        /// More than [`MAX_RECORDS`] records.
        RECORD_LIMIT = 2 => "too_many_records",
        /// More than [`MAX_NAMES_BYTES`] of names (later names are cut).
        NAMES_BUFFER_FULL = 3 => "names_too_long",
        /// An rdata length that disagrees with the type's content.
        RDATA_LENGTH = 4 => "rdata_length_mismatch",
        /// Bytes after the last declared record.
        TRAILING_BYTES = 5 => "trailing_bytes",
        /// The message ends before its declared records do (the records before are kept).
        TRUNCATED = 6 => "truncated",
        /// A record in the answer section of a query, or a query with no question.
        UNEXPECTED_SECTIONS = 7 => "unexpected_sections",
    }
}

/// A parsed message: reusable buffers, filled by [`parse_dns_message`]. Keeps its capacity, so
/// parsing does not allocate once it has grown to the traffic's size.
#[derive(Debug, Default)]
pub struct Message {
    /// The header.
    pub header: Header,
    /// Questions then answer, authority and additional records, in wire order.
    pub records: Vec<Record>,
    /// Problems found.
    pub anomalies: Anomalies,
    names: String,
}

impl Message {
    /// The text of a name (`""` for the root).
    pub fn name(&self, name: NameRef) -> &str {
        self.names
            .get(name.start as usize..name.end as usize)
            .unwrap_or("")
    }

    /// The records of one section.
    pub fn section(&self, section: Section) -> impl Iterator<Item = &Record> {
        self.records.iter().filter(move |r| r.section == section)
    }

    fn clear(&mut self) {
        self.header = Header::default();
        self.records.clear();
        self.anomalies = Anomalies::default();
        self.names.clear();
    }
}

/// The character-strings of a TXT rdata (each length-prefixed; a length running past the end
/// yields what is there).
pub fn txt_strings(rdata: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = rdata;
    std::iter::from_fn(move || {
        let (&len, tail) = rest.split_first()?;
        let len = usize::from(len).min(tail.len());
        let (s, after) = tail.split_at(len);
        rest = after;
        Some(s)
    })
}

/// Parses a whole message into `out` (cleared first).
///
/// `Err` only when nothing usable was read: a short header, or the first question cannot be
/// walked. A message that ends early after at least one record keeps those records and sets
/// [`Anomalies::TRUNCATED`].
pub fn parse_dns_message(msg: &[u8], out: &mut Message) -> Result<(), ParseError> {
    out.clear();
    let (_, header) = parse_dns_header(msg)?;
    out.header = header;
    let sections = [
        (Section::Question, header.qdcount),
        (Section::Answer, header.ancount),
        (Section::Authority, header.nscount),
        (Section::Additional, header.arcount),
    ];
    let mut pos = HEADER_LEN;
    'sections: for (section, count) in sections {
        for _ in 0..count {
            if out.records.len() >= MAX_RECORDS {
                out.anomalies.insert(Anomalies::RECORD_LIMIT);
                break 'sections;
            }
            match parse_record(msg, pos, section, out) {
                Ok((next, record)) => {
                    out.records.push(record);
                    pos = next;
                }
                Err(error) if out.records.is_empty() => return Err(error),
                Err(_) => {
                    out.anomalies.insert(Anomalies::TRUNCATED);
                    break 'sections;
                }
            }
        }
    }
    if !out.anomalies.contains(Anomalies::TRUNCATED)
        && !out.anomalies.contains(Anomalies::RECORD_LIMIT)
        && pos < msg.len()
    {
        out.anomalies.insert(Anomalies::TRAILING_BYTES);
    }
    if !header.flags.qr() && (header.qdcount == 0 || header.ancount > 0) {
        out.anomalies.insert(Anomalies::UNEXPECTED_SECTIONS);
    }
    Ok(())
}

fn truncated() -> ParseError {
    ParseError::Invalid(InvalidKind::Truncated)
}

fn be_u16(msg: &[u8], at: usize) -> Result<u16, ParseError> {
    let bytes = msg.get(at..).and_then(|b| b.first_chunk::<2>());
    bytes.map(|b| u16::from_be_bytes(*b)).ok_or_else(truncated)
}

fn be_u32(msg: &[u8], at: usize) -> Result<u32, ParseError> {
    let bytes = msg.get(at..).and_then(|b| b.first_chunk::<4>());
    bytes.map(|b| u32::from_be_bytes(*b)).ok_or_else(truncated)
}

/// One question (`section == Question`) or resource record starting at `pos`; returns the
/// position after it.
fn parse_record(
    msg: &[u8],
    pos: usize,
    section: Section,
    out: &mut Message,
) -> Result<(usize, Record), ParseError> {
    let (pos, name) = read_name(msg, pos, out)?;
    let rrtype = RrType(be_u16(msg, pos)?);
    let class = be_u16(msg, pos + 2)?;
    if section == Section::Question {
        let record = Record {
            section,
            name,
            rrtype,
            class,
            ttl: 0,
            data: Rdata::None,
        };
        return Ok((pos + 4, record));
    }
    let ttl = be_u32(msg, pos + 4)?;
    let rdlen = be_u16(msg, pos + 8)?;
    let start = pos + 10;
    let end = start + usize::from(rdlen);
    if end > msg.len() {
        return Err(truncated());
    }
    let data = parse_rdata(msg, rrtype, start, end, out)?;
    let record = Record {
        section,
        name,
        rrtype,
        class,
        ttl,
        data,
    };
    Ok((end, record))
}

/// Decodes the rdata at `msg[start..end]` (already checked to be in bounds).
fn parse_rdata(
    msg: &[u8],
    rrtype: RrType,
    start: usize,
    end: usize,
    out: &mut Message,
) -> Result<Rdata, ParseError> {
    let len = (end - start) as u16;
    let rdata = msg.get(start..end).ok_or_else(truncated)?;
    // Names in rdata may point anywhere before them, so they are read from the whole message,
    // then checked to end inside the rdata.
    let name_at = |at: usize, out: &mut Message| -> Result<(usize, NameRef), ParseError> {
        if at >= end {
            return Err(truncated());
        }
        read_name(msg, at, out)
    };
    let decoded = match rrtype {
        RrType::A => <[u8; 4]>::try_from(rdata).ok().map(|b| Rdata::A(b.into())),
        RrType::AAAA => <[u8; 16]>::try_from(rdata)
            .ok()
            .map(|b| Rdata::Aaaa(b.into())),
        RrType::CNAME | RrType::NS | RrType::PTR | RrType::DNAME => {
            let (next, name) = name_at(start, out)?;
            (next <= end).then_some(Rdata::Name(name))
        }
        RrType::MX => {
            let preference = be_u16(msg, start)?;
            let (next, exchange) = name_at(start + 2, out)?;
            (next <= end).then_some(Rdata::Mx {
                preference,
                exchange,
            })
        }
        RrType::SRV => {
            let priority = be_u16(msg, start)?;
            let weight = be_u16(msg, start + 2)?;
            let port = be_u16(msg, start + 4)?;
            let (next, target) = name_at(start + 6, out)?;
            (next <= end).then_some(Rdata::Srv {
                priority,
                weight,
                port,
                target,
            })
        }
        RrType::SOA => {
            let (next, mname) = name_at(start, out)?;
            let (next, rname) = name_at(next, out)?;
            let numbers = msg.get(next..next + 20).filter(|_| next + 20 <= end);
            numbers.and_then(|n| {
                let word = |i: usize| be_u32(n, 4 * i).ok();
                Some(Rdata::Soa {
                    mname,
                    rname,
                    serial: word(0)?,
                    refresh: word(1)?,
                    retry: word(2)?,
                    expire: word(3)?,
                    minimum: word(4)?,
                })
            })
        }
        RrType::TXT => Some(Rdata::Txt {
            offset: start as u32,
            len,
        }),
        RrType::SSHFP => match rdata {
            [algo, fp_type, fingerprint @ ..] => Some(Rdata::Sshfp {
                algo: *algo,
                fp_type: *fp_type,
                offset: (start + 2) as u32,
                len: fingerprint.len() as u16,
            }),
            _ => None,
        },
        _ => Some(Rdata::Other {
            offset: start as u32,
            len,
        }),
    };
    Ok(decoded.unwrap_or_else(|| {
        out.anomalies.insert(Anomalies::RDATA_LENGTH);
        Rdata::Other {
            offset: start as u32,
            len,
        }
    }))
}

/// Reads the (possibly compressed) name at `start` into `out`'s name buffer; returns the
/// position after the name's bytes at `start` and the name.
fn read_name(msg: &[u8], start: usize, out: &mut Message) -> Result<(usize, NameRef), ParseError> {
    let first = out.names.len();
    let mut pos = start;
    // Where parsing continues: after the first pointer if there is one, else after the root.
    let mut next = None;
    let mut jumps = 0;
    let mut wire_len = 1;
    let mut keep = true;
    let mut cut = false;
    loop {
        let len = *msg.get(pos).ok_or_else(truncated)?;
        match len & 0xc0 {
            0x00 if len == 0 => {
                pos += 1;
                break;
            }
            0x00 => {
                let len = usize::from(len);
                let label = msg.get(pos + 1..pos + 1 + len).ok_or_else(truncated)?;
                wire_len += len + 1;
                if wire_len > MAX_NAME_WIRE_LEN || len > MAX_LABEL_LEN {
                    out.anomalies.insert(Anomalies::NAME_TOO_LONG);
                    keep = false;
                    cut = true;
                }
                if keep && out.names.len() + 1 + 4 * len > MAX_NAMES_BYTES {
                    out.anomalies.insert(Anomalies::NAMES_BUFFER_FULL);
                    keep = false;
                    cut = true;
                }
                if keep {
                    if out.names.len() > first {
                        out.names.push('.');
                    }
                    push_label(&mut out.names, label);
                }
                pos += 1 + len;
            }
            0xc0 => {
                let low = *msg.get(pos + 1).ok_or_else(truncated)?;
                next.get_or_insert(pos + 2);
                jumps += 1;
                if jumps > MAX_POINTER_JUMPS {
                    out.anomalies.insert(Anomalies::POINTER_LOOP);
                    break;
                }
                pos = usize::from(len & 0x3f) << 8 | usize::from(low);
            }
            _ => return Err(ParseError::Invalid(InvalidKind::BadLabelType)),
        }
    }
    let name = NameRef {
        start: first as u32,
        end: out.names.len() as u32,
        truncated: cut,
    };
    Ok((next.unwrap_or(pos), name))
}

/// Appends a label in presentation form: printable ASCII as is, `.` and `\` escaped with a
/// backslash, every other byte as `\DDD` (RFC 4343 §2.1).
fn push_label(names: &mut String, label: &[u8]) {
    for &byte in label {
        match byte {
            b'.' | b'\\' => {
                names.push('\\');
                names.push(char::from(byte));
            }
            0x21..=0x7e => names.push(char::from(byte)),
            _ => {
                // Writing to a String cannot fail.
                let _ = write!(names, "\\{byte:03}");
            }
        }
    }
}

#[cfg(test)]
mod tests;

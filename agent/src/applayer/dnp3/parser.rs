//! DNP3 (IEEE 1815-2012): link frames with their CRCs, the transport header, the application
//! header and object headers, zero-copy.
//!
//! References: IEEE 1815-2012 §9.2 (link frame: start 0x05 0x64, length, control, destination
//! and source, a CRC after the 8-octet header and after every 16 octets of user data), §8.2
//! (transport header: FIN, FIR, 6-bit sequence), §4.2.2 (application header: control, function
//! code, and in responses the two internal-indication octets), §4.2.2.7 (object header: group,
//! variation, qualifier, range; qualifier codes in Table 4-5). Every multi-octet field is
//! little-endian (§4.2.2.7.3 and §9.2.4: "the least significant octet is sent first"): the
//! link addresses, the CRC (low octet first) and the object ranges.
#![forbid(unsafe_code)]
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

pub use crate::applayer::ot::{Invalid, ParseError};
use crate::applayer::ot::{le_u16, need};

/// The two start octets of every link frame (§9.2.4.1.1).
pub const START: [u8; 2] = [0x05, 0x64];
/// Link header on the wire: start (2), length, control, destination (2), source (2), CRC (2).
pub const LINK_HEADER_LEN: usize = 10;
/// Octets of the header counted by the length field: control, destination, source.
pub const LENGTH_HEADER_OCTETS: usize = 5;
/// User data octets between two CRCs (§9.2.4.2).
pub const BLOCK_LEN: usize = 16;
/// CRC octets.
pub const CRC_LEN: usize = 2;
/// Largest user data of one frame: the length field is one octet and counts 5 header octets,
/// so 255 − 5 = 250 (§9.2.4.1.2).
pub const MAX_USER_DATA: usize = 255 - LENGTH_HEADER_OCTETS;
/// Largest frame on the wire: header + 250 user octets + 16 block CRCs = 292 (§9.2.4.1.2:
/// "a maximum of 292 octets").
pub const MAX_FRAME_LEN: usize = LINK_HEADER_LEN + MAX_USER_DATA + 16 * CRC_LEN;
/// Application header: control and function code.
pub const APP_HEADER_LEN: usize = 2;
/// Internal indications in responses.
pub const IIN_LEN: usize = 2;
/// Object header without its range: group, variation, qualifier.
pub const OBJECT_HEADER_LEN: usize = 3;

/// DNP3's CRC-16 (§9.2.4.1.5 and Annex E): polynomial x^16+x^13+x^12+x^11+x^10+x^8+x^6+x^5+x^2+1
/// (0x3D65), reflected (0xA6BC), initial value 0, result complemented, sent low octet first.
const CRC_TABLE: [u16; 256] = crc_table();

// `i` runs below 256, the table's length.
#[allow(clippy::indexing_slicing)]
const fn crc_table() -> [u16; 256] {
    let mut table = [0u16; 256];
    let mut i = 0;
    while i < 256 {
        let mut crc = i as u16;
        let mut bit = 0;
        while bit < 8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xA6BC
            } else {
                crc >> 1
            };
            bit += 1;
        }
        table[i] = crc;
        i += 1;
    }
    table
}

/// The DNP3 CRC of `data`.
pub fn crc(data: &[u8]) -> u16 {
    let mut crc: u16 = 0;
    for &b in data {
        let index = usize::from((crc ^ u16::from(b)) as u8);
        // The index is a u8, and the table has 256 entries.
        crc = (crc >> 8) ^ CRC_TABLE.get(index).copied().unwrap_or(0);
    }
    !crc
}

/// Whether `block` ends with the correct little-endian CRC of the octets before it.
pub fn crc_ok(block: &[u8]) -> bool {
    let Some(split) = block.len().checked_sub(CRC_LEN) else {
        return false;
    };
    let (data, sum) = block.split_at(split);
    le_u16(sum, 0) == Some(crc(data))
}

/// The link control octet (§9.2.4.1.3): DIR, PRM, FCB, FCV (DFC when secondary), function.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LinkControl(pub u8);

impl LinkControl {
    /// DIR: set on frames from the master.
    pub fn dir(self) -> bool {
        self.0 & 0x80 != 0
    }
    /// PRM: set on frames from the primary (initiating) station.
    pub fn prm(self) -> bool {
        self.0 & 0x40 != 0
    }
    /// FCB: frame count bit.
    pub fn fcb(self) -> bool {
        self.0 & 0x20 != 0
    }
    /// FCV: frame count valid (DFC on secondary frames).
    pub fn fcv(self) -> bool {
        self.0 & 0x10 != 0
    }
    /// The link function code.
    pub fn function(self) -> u8 {
        self.0 & 0x0f
    }
    /// Whether the frame carries user data: primary CONFIRMED_USER_DATA (3) or
    /// UNCONFIRMED_USER_DATA (4) (§9.2.4.1.3.6, Table 9-1).
    pub fn is_user_data(self) -> bool {
        self.prm() && matches!(self.function(), 3 | 4)
    }
}

/// A link frame's header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LinkHeader {
    /// The length field: octets after it (control, addresses, user data), CRCs excluded.
    pub length: u8,
    /// Control.
    pub control: LinkControl,
    /// Destination address.
    pub destination: u16,
    /// Source address.
    pub source: u16,
}

/// One link frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Frame<'a> {
    /// Header.
    pub header: LinkHeader,
    /// User data with its block CRCs, as on the wire.
    pub blocks: &'a [u8],
}

impl<'a> Frame<'a> {
    /// The user data blocks, each with its trailing CRC.
    pub fn crc_blocks(&self) -> impl Iterator<Item = &'a [u8]> + Clone + 'a {
        self.blocks.chunks(BLOCK_LEN + CRC_LEN)
    }

    /// Whether every block's CRC is correct.
    pub fn blocks_ok(&self) -> bool {
        self.crc_blocks().all(crc_ok)
    }

    /// The user data octets, block by block, CRCs removed.
    pub fn user_data(&self) -> impl Iterator<Item = &'a [u8]> + Clone + 'a {
        self.crc_blocks()
            .map(|b| b.get(..b.len().saturating_sub(CRC_LEN)).unwrap_or_default())
    }
}

/// Wire length of a frame whose length field is `length` (CRCs included), or `None` when the
/// field is below the 5 header octets it must count.
pub fn frame_len(length: u8) -> Option<usize> {
    let user = usize::from(length).checked_sub(LENGTH_HEADER_OCTETS)?;
    let blocks = user.div_ceil(BLOCK_LEN);
    Some(LINK_HEADER_LEN + user + blocks * CRC_LEN)
}

/// Whether the 10 header octets at the start of `i` are a link header with a correct CRC.
pub fn is_link_header(i: &[u8]) -> bool {
    matches!(i.get(..LINK_HEADER_LEN), Some(h) if h.starts_with(&START) && crc_ok(h))
}

/// Parses one link frame, returning the bytes after it.
///
/// `Invalid("bad_start")` unless the frame starts 0x05 0x64; `Invalid("bad_link_crc")` when the
/// header CRC is wrong; `Invalid("len_too_small")` for a length field below 5 (Suricata's event
/// names). User data CRCs are not checked here ([`Frame::blocks_ok`]).
pub fn parse_dnp3_frame(i: &[u8]) -> Result<(&[u8], Frame<'_>), ParseError> {
    need(i, 2)?;
    if !i.starts_with(&START) {
        return Err(ParseError::Invalid(Invalid("bad_start")));
    }
    need(i, LINK_HEADER_LEN)?;
    let (Some(&length), Some(&control), Some(destination), Some(source)) =
        (i.get(2), i.get(3), le_u16(i, 4), le_u16(i, 6))
    else {
        return Err(ParseError::Incomplete { needed: 1 });
    };
    if !is_link_header(i) {
        return Err(ParseError::Invalid(Invalid("bad_link_crc")));
    }
    let Some(total) = frame_len(length) else {
        return Err(ParseError::Invalid(Invalid("len_too_small")));
    };
    // `total` is at most MAX_FRAME_LEN: the length field is one octet.
    need(i, total)?;
    let (Some(blocks), Some(rest)) = (i.get(LINK_HEADER_LEN..total), i.get(total..)) else {
        return Err(ParseError::Incomplete { needed: 1 });
    };
    Ok((
        rest,
        Frame {
            header: LinkHeader {
                length,
                control: LinkControl(control),
                destination,
                source,
            },
            blocks,
        },
    ))
}

/// The transport header (§8.2.1): FIN, FIR and a 6-bit sequence number.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TransportHeader(pub u8);

impl TransportHeader {
    /// Last segment of the message.
    pub fn fin(self) -> bool {
        self.0 & 0x80 != 0
    }
    /// First segment of the message.
    pub fn fir(self) -> bool {
        self.0 & 0x40 != 0
    }
    /// Sequence number (0–63).
    pub fn seq(self) -> u8 {
        self.0 & 0x3f
    }
}

/// The application control octet (§4.2.2.4): FIR, FIN, CON, UNS and a 4-bit sequence.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AppControl(pub u8);

impl AppControl {
    /// First fragment.
    pub fn fir(self) -> bool {
        self.0 & 0x80 != 0
    }
    /// Final fragment.
    pub fn fin(self) -> bool {
        self.0 & 0x40 != 0
    }
    /// Confirmation requested.
    pub fn con(self) -> bool {
        self.0 & 0x20 != 0
    }
    /// Unsolicited.
    pub fn uns(self) -> bool {
        self.0 & 0x10 != 0
    }
    /// Sequence number (0–15).
    pub fn seq(self) -> u8 {
        self.0 & 0x0f
    }
}

/// An application function code (§4.2.2.5, Table 4-2 and 4-3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FunctionCode(pub u8);

/// (code, name) of every function IEEE 1815-2012 defines.
const FUNCTIONS: &[(u8, &str)] = &[
    (0, "CONFIRM"),
    (1, "READ"),
    (2, "WRITE"),
    (3, "SELECT"),
    (4, "OPERATE"),
    (5, "DIRECT_OPERATE"),
    (6, "DIRECT_OPERATE_NR"),
    (7, "IMMED_FREEZE"),
    (8, "IMMED_FREEZE_NR"),
    (9, "FREEZE_CLEAR"),
    (10, "FREEZE_CLEAR_NR"),
    (11, "FREEZE_AT_TIME"),
    (12, "FREEZE_AT_TIME_NR"),
    (13, "COLD_RESTART"),
    (14, "WARM_RESTART"),
    (15, "INITIALIZE_DATA"),
    (16, "INITIALIZE_APPL"),
    (17, "START_APPL"),
    (18, "STOP_APPL"),
    (19, "SAVE_CONFIG"),
    (20, "ENABLE_UNSOLICITED"),
    (21, "DISABLE_UNSOLICITED"),
    (22, "ASSIGN_CLASS"),
    (23, "DELAY_MEASURE"),
    (24, "RECORD_CURRENT_TIME"),
    (25, "OPEN_FILE"),
    (26, "CLOSE_FILE"),
    (27, "DELETE_FILE"),
    (28, "GET_FILE_INFO"),
    (29, "AUTHENTICATE_FILE"),
    (30, "ABORT_FILE"),
    (31, "ACTIVATE_CONFIG"),
    (32, "AUTHENTICATE_REQ"),
    (33, "AUTH_REQ_NO_ACK"),
    (129, "RESPONSE"),
    (130, "UNSOLICITED_RESPONSE"),
    (131, "AUTHENTICATE_RESP"),
];

impl FunctionCode {
    /// Confirm.
    pub const CONFIRM: FunctionCode = FunctionCode(0);
    /// Read.
    pub const READ: FunctionCode = FunctionCode(1);
    /// Write.
    pub const WRITE: FunctionCode = FunctionCode(2);
    /// Select (select-before-operate).
    pub const SELECT: FunctionCode = FunctionCode(3);
    /// Operate (after select).
    pub const OPERATE: FunctionCode = FunctionCode(4);
    /// Direct operate.
    pub const DIRECT_OPERATE: FunctionCode = FunctionCode(5);
    /// Direct operate, no response.
    pub const DIRECT_OPERATE_NR: FunctionCode = FunctionCode(6);
    /// Cold restart.
    pub const COLD_RESTART: FunctionCode = FunctionCode(13);
    /// Warm restart.
    pub const WARM_RESTART: FunctionCode = FunctionCode(14);
    /// Stop application.
    pub const STOP_APPL: FunctionCode = FunctionCode(18);
    /// Open file.
    pub const OPEN_FILE: FunctionCode = FunctionCode(25);
    /// Solicited response.
    pub const RESPONSE: FunctionCode = FunctionCode(129);
    /// Unsolicited response.
    pub const UNSOLICITED_RESPONSE: FunctionCode = FunctionCode(130);
    /// Authentication response.
    pub const AUTHENTICATE_RESP: FunctionCode = FunctionCode(131);

    /// The standard's name, if the code is defined.
    pub fn name(self) -> Option<&'static str> {
        FUNCTIONS
            .iter()
            .find(|(c, _)| *c == self.0)
            .map(|(_, n)| *n)
    }

    /// Whether this is a response function (129–131): responses carry internal indications.
    pub fn is_response(self) -> bool {
        self.0 >= 0x81
    }

    /// Whether requests with this function carry only object headers, no object data
    /// (§4.4: READ, freeze requests, ENABLE/DISABLE_UNSOLICITED, ASSIGN_CLASS carry headers
    /// naming the points; their values are not sent).
    pub fn request_headers_only(self) -> bool {
        matches!(self.0, 1 | 7..=10 | 20..=22)
    }
}

/// Internal indications (§4.2.2.6): IIN1 in the high octet, IIN2 in the low, as Suricata
/// numbers them (`dnp3.ind:0x8000` is device restart).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Iin(pub u16);

impl Iin {
    /// Suricata's names (`DNP3IndicatorsMap`), in the order it prints them.
    pub const NAMES: [(u16, &'static str); 16] = [
        (0x8000, "device_restart"),
        (0x4000, "device_trouble"),
        (0x2000, "local_control"),
        (0x1000, "need_time"),
        (0x0800, "class_3_events"),
        (0x0400, "class_2_events"),
        (0x0200, "class_1_events"),
        (0x0100, "all_stations"),
        (0x0080, "reserved_1"),
        (0x0040, "reserved_2"),
        (0x0020, "config_corrupt"),
        (0x0010, "already_executing"),
        (0x0008, "event_buffer_overflow"),
        (0x0004, "parameter_error"),
        (0x0002, "object_unknown"),
        (0x0001, "no_func_code_support"),
    ];

    /// The names of the bits that are set.
    pub fn indicators(self) -> impl Iterator<Item = &'static str> {
        Self::NAMES
            .iter()
            .filter(move |(bit, _)| self.0 & bit != 0)
            .map(|(_, name)| *name)
    }
}

/// An application message (all fragments' transport payloads joined).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Application<'a> {
    /// Control.
    pub control: AppControl,
    /// Function.
    pub function: FunctionCode,
    /// Internal indications (responses only).
    pub iin: Option<Iin>,
    /// The object headers and data after the header.
    pub objects: &'a [u8],
}

/// Parses the application header of a message; response functions (129–131) carry IIN.
pub fn parse_dnp3_application(i: &[u8]) -> Result<Application<'_>, ParseError> {
    need(i, APP_HEADER_LEN)?;
    let (Some(&control), Some(&function)) = (i.first(), i.get(1)) else {
        return Err(ParseError::Incomplete { needed: 1 });
    };
    let function = FunctionCode(function);
    let (iin, objects) = if function.is_response() {
        need(i, APP_HEADER_LEN + IIN_LEN)?;
        let (Some(&iin1), Some(&iin2)) = (i.get(2), i.get(3)) else {
            return Err(ParseError::Incomplete { needed: 1 });
        };
        (
            Some(Iin(u16::from_be_bytes([iin1, iin2]))),
            i.get(APP_HEADER_LEN + IIN_LEN..).unwrap_or_default(),
        )
    } else {
        (None, i.get(APP_HEADER_LEN..).unwrap_or_default())
    };
    Ok(Application {
        control: AppControl(control),
        function,
        iin,
        objects,
    })
}

/// One object header (§4.2.2.7) with its range decoded as Suricata logs it: `start`/`stop`
/// for index and address ranges (count = stop − start + 1), `count` alone for count ranges,
/// all zero for "all objects" (range code 6).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ObjectHeader {
    /// Object group.
    pub group: u8,
    /// Variation (0: any).
    pub variation: u8,
    /// Qualifier octet.
    pub qualifier: u8,
    /// First index or address.
    pub start: u32,
    /// Last index or address.
    pub stop: u32,
    /// Objects that follow.
    pub count: u32,
}

impl ObjectHeader {
    /// Object prefix code (qualifier bits 4–6, Table 4-4).
    pub fn prefix_code(self) -> u8 {
        (self.qualifier >> 4) & 0x07
    }
    /// Range specifier code (qualifier bits 0–3, Table 4-5).
    pub fn range_code(self) -> u8 {
        self.qualifier & 0x0f
    }
}

/// Why object decoding stopped before the end of the message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ObjectsEnd {
    /// Every object was walked.
    Complete,
    /// The message ends inside an object header or its data.
    Truncated,
    /// An object whose size Kordon does not know: the rest cannot be walked (Suricata's
    /// `unknown_object`).
    UnknownObject,
    /// A reserved range code, or a range whose stop is below its start.
    BadRange,
}

/// Size of one object of a fixed-size group/variation, in bits (packed objects) or octets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Size {
    Bits(u32),
    Octets(u32),
    /// Each object is preceded by its size (free-format objects, qualifier prefix 4–6).
    Prefixed,
}

/// Object sizes from the DNP3 object library (IEEE 1815-2012 Annex A). Only what is needed to
/// step over object data; values are not decoded.
fn object_size(group: u8, variation: u8) -> Option<Size> {
    use Size::{Bits, Octets};
    Some(match (group, variation) {
        // Binary inputs, double-bit inputs, binary outputs: packed or flags.
        (1, 1) | (10, 1) | (12, 3) | (80, 1) => Bits(1),
        (3, 1) => Bits(2),
        (1, 2) | (3, 2) | (10, 2) => Octets(1),
        // Events: flags, flags + 48-bit time, flags + 16-bit relative time.
        (2 | 4 | 11 | 13, 1) => Octets(1),
        (2 | 4 | 11 | 13, 2) => Octets(7),
        (2 | 4, 3) => Octets(3),
        // Control relay output block, pattern control block.
        (12, 1 | 2) => Octets(11),
        // Counters and frozen counters.
        (20, 1 | 3) | (21, 1 | 3) | (22, 1 | 3) | (23, 1 | 3) => Octets(5),
        (20, 2 | 4) | (21, 2 | 4) | (22, 2 | 4) | (23, 2 | 4) => Octets(3),
        (20, 5 | 7) | (21, 9 | 11) => Octets(4),
        (20, 6 | 8) | (21, 10 | 12) => Octets(2),
        (21, 5 | 7) | (22, 5 | 7) | (23, 5 | 7) => Octets(11),
        (21, 6 | 8) | (22, 6 | 8) | (23, 6 | 8) => Octets(9),
        // Analog inputs, frozen analog inputs and their events.
        (30, 1 | 5) | (31, 1 | 7) | (32, 1 | 5) | (33, 1 | 5) => Octets(5),
        (30, 2) | (31, 2) | (32, 2) | (33, 2) => Octets(3),
        (30, 3) | (31, 5) => Octets(4),
        (30, 4) | (31, 6) => Octets(2),
        (30, 6) | (31, 8) | (32, 6) | (33, 6) => Octets(9),
        (31, 3) | (32, 3 | 7) | (33, 3 | 7) => Octets(11),
        (31, 4) | (32, 4) | (33, 4) => Octets(9),
        (32, 8) | (33, 8) => Octets(15),
        // Analog input deadbands.
        (34, 1) => Octets(2),
        (34, 2 | 3) => Octets(4),
        // Analog output status, blocks, events.
        (40, 1 | 3) | (41, 1 | 3) | (42, 1 | 5) | (43, 1 | 5) => Octets(5),
        (40, 2) | (41, 2) | (42, 2) | (43, 2) => Octets(3),
        (40, 4) | (41, 4) | (42, 6) | (43, 6) => Octets(9),
        (42, 3 | 7) | (43, 3 | 7) => Octets(11),
        (42, 4) | (43, 4) => Octets(9),
        (42, 8) | (43, 8) => Octets(15),
        // Time and date, common time of occurrence, time delays.
        (50, 1 | 3) | (51, 1 | 2) => Octets(6),
        (50, 2) => Octets(10),
        (50, 4) => Octets(11),
        (52, 1 | 2) => Octets(2),
        // Octet strings, virtual terminal: the variation is the length.
        (110..=113, v) => Octets(u32::from(v)),
        // File control, authentication, device attributes: free-format, size-prefixed.
        (70, _) | (120, _) | (0, _) => Size::Prefixed,
        _ => return None,
    })
}

/// Walks the object headers of a message body, stepping over each object's data.
///
/// Iteration stops at the first object it cannot step over; [`Objects::end`] says why. Each
/// step consumes at least the 3-octet header, so a message of `n` octets yields at most `n/3`
/// headers.
#[derive(Clone, Debug)]
pub struct Objects<'a> {
    rest: &'a [u8],
    headers_only: bool,
    end: Option<ObjectsEnd>,
}

/// Walks the objects of `body`; `headers_only` for requests whose function sends no object
/// data ([`FunctionCode::request_headers_only`]).
pub fn parse_dnp3_objects(body: &[u8], headers_only: bool) -> Objects<'_> {
    Objects {
        rest: body,
        headers_only,
        end: None,
    }
}

impl Objects<'_> {
    /// Why iteration stopped (`None` while it has not).
    pub fn end(&self) -> Option<ObjectsEnd> {
        self.end
    }

    fn stop(&mut self, why: ObjectsEnd) -> Option<ObjectHeader> {
        self.end = Some(why);
        self.rest = &[];
        None
    }
}

/// Little-endian unsigned value of `n` (1, 2 or 4) octets at `at`.
fn le_uint(i: &[u8], at: usize, n: usize) -> Option<u32> {
    let bytes = i.get(at..at.checked_add(n)?)?;
    Some(
        bytes
            .iter()
            .rev()
            .fold(0u32, |acc, &b| (acc << 8) | u32::from(b)),
    )
}

impl Iterator for Objects<'_> {
    type Item = ObjectHeader;

    fn next(&mut self) -> Option<ObjectHeader> {
        if self.end.is_some() {
            return None;
        }
        if self.rest.is_empty() {
            return self.stop(ObjectsEnd::Complete);
        }
        let i = self.rest;
        let (Some(&group), Some(&variation), Some(&qualifier)) = (i.first(), i.get(1), i.get(2))
        else {
            return self.stop(ObjectsEnd::Truncated);
        };
        let mut header = ObjectHeader {
            group,
            variation,
            qualifier,
            start: 0,
            stop: 0,
            count: 0,
        };
        // Range field (Table 4-5): 0/3 one-octet start-stop, 1/4 two-octet, 2/5 four-octet,
        // 6 none (all objects), 7/8/9 one/two/four-octet count, 0xB one-octet count of
        // variable-format objects.
        let (range_len, is_start_stop) = match header.range_code() {
            0 | 3 => (1, true),
            1 | 4 => (2, true),
            2 | 5 => (4, true),
            6 => (0, false),
            7 | 0xB => (1, false),
            8 => (2, false),
            9 => (4, false),
            _ => return self.stop(ObjectsEnd::BadRange),
        };
        let at = OBJECT_HEADER_LEN;
        if is_start_stop {
            let (Some(start), Some(stop)) = (
                le_uint(i, at, range_len),
                le_uint(i, at + range_len, range_len),
            ) else {
                return self.stop(ObjectsEnd::Truncated);
            };
            let Some(span) = stop.checked_sub(start) else {
                return self.stop(ObjectsEnd::BadRange);
            };
            header.start = start;
            header.stop = stop;
            header.count = span.saturating_add(1);
        } else if range_len > 0 {
            let Some(count) = le_uint(i, at, range_len) else {
                return self.stop(ObjectsEnd::Truncated);
            };
            header.count = count;
        }
        let header_len = at
            + if is_start_stop {
                2 * range_len
            } else {
                range_len
            };
        let data = i.get(header_len..).unwrap_or_default();
        if self.headers_only || header.variation == 0 || header.count == 0 {
            self.rest = data;
            return Some(header);
        }
        match data_len(&header, data) {
            Ok(len) => {
                self.rest = data.get(len..).unwrap_or_default();
                Some(header)
            }
            Err(why) => {
                // The header itself was read: report it, then stop.
                self.end = Some(why);
                self.rest = &[];
                Some(header)
            }
        }
    }
}

/// Octets of object data after `header` (prefixes included), checked against `data`.
fn data_len(header: &ObjectHeader, data: &[u8]) -> Result<usize, ObjectsEnd> {
    let Some(size) = object_size(header.group, header.variation) else {
        return Err(ObjectsEnd::UnknownObject);
    };
    // Prefix (Table 4-4): 0 none, 1/2/3 one/two/four-octet index, 4/5/6 one/two/four-octet
    // object size.
    let prefix_len: u64 = match header.prefix_code() {
        0 => 0,
        1 | 4 => 1,
        2 | 5 => 2,
        3 | 6 => 4,
        _ => return Err(ObjectsEnd::BadRange),
    };
    let count = u64::from(header.count);
    let total: u64 = match (size, header.prefix_code()) {
        (_, 4..=6) | (Size::Prefixed, _) => {
            if !(4..=6).contains(&header.prefix_code()) {
                return Err(ObjectsEnd::UnknownObject);
            }
            // Walk each size-prefixed object; `count` is bounded by the data present, as
            // every step consumes at least the prefix.
            let mut offset: usize = 0;
            let n = prefix_len as usize;
            for _ in 0..count {
                let Some(len) = le_uint(data, offset, n) else {
                    return Err(ObjectsEnd::Truncated);
                };
                offset = offset
                    .checked_add(n)
                    .and_then(|o| o.checked_add(len as usize))
                    .ok_or(ObjectsEnd::Truncated)?;
                if offset > data.len() {
                    return Err(ObjectsEnd::Truncated);
                }
            }
            offset as u64
        }
        (Size::Bits(bits), 0) => (count * u64::from(bits)).div_ceil(8),
        (Size::Bits(_), _) => count * (prefix_len + 1),
        (Size::Octets(octets), _) => count * (prefix_len + u64::from(octets)),
    };
    if total > data.len() as u64 {
        return Err(ObjectsEnd::Truncated);
    }
    Ok(total as usize)
}

#[cfg(test)]
// A failed `expect` or an out-of-range index in a test is the test failing, which is what it
// is for.
#[allow(clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    /// The first request of suricata-verify `dnp3-eve/input.pcap` (127.0.0.1:59602 → :20000):
    /// DISABLE_UNSOLICITED for class 1–3 events, master 1 → outstation 10.
    const DISABLE_UNSOLICITED: &[u8] = &[
        0x05, 0x64, 0x11, 0xc4, 0x0a, 0x00, 0x01, 0x00, 0x06, 0x15, 0xc0, 0xc0, 0x15, 0x3c, 0x02,
        0x06, 0x3c, 0x03, 0x06, 0x3c, 0x04, 0x06, 0x1a, 0x55,
    ];

    /// The outstation's unsolicited null response with IIN device restart (pcap packet 6).
    const UNSOLICITED: &[u8] = &[
        0x05, 0x64, 0x0a, 0x44, 0x01, 0x00, 0x0a, 0x00, 0x6e, 0x25, 0xc0, 0xf0, 0x82, 0x80, 0x00,
        0x6b, 0x7d,
    ];

    #[test]
    fn crc_of_a_real_header() {
        assert!(is_link_header(DISABLE_UNSOLICITED));
        assert_eq!(crc(&DISABLE_UNSOLICITED[..8]), 0x1506);
    }

    #[test]
    fn request_frame() {
        let (rest, frame) = parse_dnp3_frame(DISABLE_UNSOLICITED).expect("parses");
        assert!(rest.is_empty());
        assert_eq!(
            frame.header,
            LinkHeader {
                length: 0x11,
                control: LinkControl(0xc4),
                destination: 10,
                source: 1,
            }
        );
        assert!(frame.header.control.dir() && frame.header.control.prm());
        assert!(frame.header.control.is_user_data());
        assert!(frame.blocks_ok());
        let user: Vec<u8> = frame.user_data().flatten().copied().collect();
        let transport = TransportHeader(user[0]);
        assert!(transport.fir() && transport.fin());
        assert_eq!(transport.seq(), 0);
        let app = parse_dnp3_application(&user[1..]).expect("app");
        assert_eq!(app.function, FunctionCode(21));
        assert_eq!(app.function.name(), Some("DISABLE_UNSOLICITED"));
        assert!(app.control.fir() && app.control.fin() && !app.control.uns());
        let mut objects = parse_dnp3_objects(app.objects, true);
        let headers: Vec<ObjectHeader> = objects.by_ref().collect();
        assert_eq!(objects.end(), Some(ObjectsEnd::Complete));
        assert_eq!(
            headers,
            (2..=4)
                .map(|v| ObjectHeader {
                    group: 60,
                    variation: v,
                    qualifier: 6,
                    start: 0,
                    stop: 0,
                    count: 0
                })
                .collect::<Vec<_>>()
        );
    }

    #[test]
    fn unsolicited_response_iin() {
        let (_, frame) = parse_dnp3_frame(UNSOLICITED).expect("parses");
        assert!(!frame.header.control.dir());
        let user: Vec<u8> = frame.user_data().flatten().copied().collect();
        let app = parse_dnp3_application(&user[1..]).expect("app");
        assert_eq!(app.function, FunctionCode::UNSOLICITED_RESPONSE);
        assert!(app.control.uns() && app.control.con());
        let iin = app.iin.expect("iin");
        assert_eq!(iin.indicators().collect::<Vec<_>>(), vec!["device_restart"]);
    }

    #[test]
    fn bad_input() {
        assert_eq!(
            parse_dnp3_frame(&[0, 0, 0]),
            Err(ParseError::Invalid(Invalid("bad_start")))
        );
        let mut bad = DISABLE_UNSOLICITED.to_vec();
        bad[8] ^= 1;
        assert_eq!(
            parse_dnp3_frame(&bad),
            Err(ParseError::Invalid(Invalid("bad_link_crc")))
        );
        let mut block = DISABLE_UNSOLICITED.to_vec();
        block[12] ^= 1;
        let (_, frame) = parse_dnp3_frame(&block).expect("header fine");
        assert!(!frame.blocks_ok());
        assert!(matches!(
            parse_dnp3_frame(&DISABLE_UNSOLICITED[..15]),
            Err(ParseError::Incomplete { .. })
        ));
        assert_eq!(frame_len(4), None);
        assert_eq!(frame_len(255), Some(MAX_FRAME_LEN));
    }

    #[test]
    fn objects_with_data_and_unknowns() {
        // CROB (g12v1) with a 2-octet index prefix and count (qualifier 0x28), then g60v1.
        let mut body = vec![12, 1, 0x28, 1, 0, 3, 0];
        body.extend_from_slice(&[0x03, 1, 0x64, 0, 0, 0, 0, 0, 0, 0, 0]);
        body.extend_from_slice(&[60, 1, 6]);
        let mut objects = parse_dnp3_objects(&body, false);
        let got: Vec<(u8, u8, u32)> = objects
            .by_ref()
            .map(|o| (o.group, o.variation, o.count))
            .collect();
        assert_eq!(got, vec![(12, 1, 1), (60, 1, 0)]);
        assert_eq!(objects.end(), Some(ObjectsEnd::Complete));
        // An unknown group stops the walk after its header.
        let unknown = [99, 1, 0x00, 0, 3, 1, 2, 3, 4];
        let mut objects = parse_dnp3_objects(&unknown, false);
        assert_eq!(objects.by_ref().count(), 1);
        assert_eq!(objects.end(), Some(ObjectsEnd::UnknownObject));
        // Stop below start, reserved range code, truncation.
        let mut objects = parse_dnp3_objects(&[1, 2, 0x00, 5, 3], false);
        assert_eq!(objects.by_ref().count(), 0);
        assert_eq!(objects.end(), Some(ObjectsEnd::BadRange));
        let mut objects = parse_dnp3_objects(&[1, 2, 0x0a], false);
        assert_eq!(objects.by_ref().count(), 0);
        assert_eq!(objects.end(), Some(ObjectsEnd::BadRange));
        let mut objects = parse_dnp3_objects(&[30, 1, 0x00, 0, 9, 1, 2], false);
        assert_eq!(objects.by_ref().count(), 1);
        assert_eq!(objects.end(), Some(ObjectsEnd::Truncated));
        // Packed bits: 16 binary inputs in two octets.
        let mut objects = parse_dnp3_objects(&[1, 1, 0x00, 0, 15, 0xff, 0xff], false);
        assert_eq!(objects.by_ref().count(), 1);
        assert_eq!(objects.end(), Some(ObjectsEnd::Complete));
    }
}

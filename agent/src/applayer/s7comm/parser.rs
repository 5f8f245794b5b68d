//! S7comm over ISO-on-TCP: TPKT, COTP and the S7comm header with its function and
//! subfunction, zero-copy. S7comm-plus (protocol id 0x72) is recognised, not decoded.
//!
//! References: RFC 1006 §6 (TPKT: version 3, reserved, 16-bit length including the header),
//! ISO 8073 / X.224 §13 (COTP TPDUs: length indicator, TPDU code in the high nibble, CR/CC
//! parameters, DT's EOT bit; TPDU size code 0x0D = 8192 octets is the largest, §13.3.4 b).
//! S7comm has no public specification: the layout follows Wireshark's `packet-s7comm.c` and
//! CISA's ICSNPP-S7comm analyzer (header of 10 octets, 12 for ACK/ACK-Data with error class
//! and code; userdata parameter head 00 01 12). Every multi-octet field is big-endian.
#![forbid(unsafe_code)]
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

pub use crate::applayer::ot::{Invalid, ParseError};
use crate::applayer::ot::{be_u16, need};

/// TPKT version (RFC 1006 §6).
pub const TPKT_VERSION: u8 = 3;
/// TPKT header length.
pub const TPKT_LEN: usize = 4;
/// Largest TPDU: ISO 8073 §13.3.4 b, TPDU size code 0x0D = 8192 octets.
pub const MAX_TPDU_LEN: usize = 8192;
/// Largest TPKT packet Kordon accepts: header + the largest TPDU.
pub const MAX_TPKT_LEN: usize = TPKT_LEN + MAX_TPDU_LEN;
/// Largest S7 PDU reassembled from DT fragments: the largest PDU size S7 CPUs negotiate in
/// Setup Communication is 960 (S7-300/400) to 8192 octets; beyond that is not S7.
pub const MAX_S7_PDU_LEN: usize = 8192;
/// S7comm protocol id.
pub const S7COMM_ID: u8 = 0x32;
/// S7comm-plus protocol id.
pub const S7COMM_PLUS_ID: u8 = 0x72;

/// One TPKT packet.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Tpkt<'a> {
    /// Length field (whole packet).
    pub length: u16,
    /// The TPDU (COTP).
    pub tpdu: &'a [u8],
}

/// Parses one TPKT packet, returning the bytes after it. `Invalid("bad_tpkt_version")` unless
/// version 3; `Invalid("bad_tpkt_length")` for a length below 7 (header + the smallest TPDU)
/// or above [`MAX_TPKT_LEN`].
pub fn parse_s7_tpkt(i: &[u8]) -> Result<(&[u8], Tpkt<'_>), ParseError> {
    need(i, TPKT_LEN)?;
    if i.first() != Some(&TPKT_VERSION) {
        return Err(ParseError::Invalid(Invalid("bad_tpkt_version")));
    }
    let Some(length) = be_u16(i, 2) else {
        return Err(ParseError::Incomplete { needed: 1 });
    };
    let len = usize::from(length);
    if !(TPKT_LEN + 3..=MAX_TPKT_LEN).contains(&len) {
        return Err(ParseError::Invalid(Invalid("bad_tpkt_length")));
    }
    need(i, len)?;
    let (Some(tpdu), Some(rest)) = (i.get(TPKT_LEN..len), i.get(len..)) else {
        return Err(ParseError::Incomplete { needed: 1 });
    };
    Ok((rest, Tpkt { length, tpdu }))
}

/// A COTP TPDU code (the high nibble of the second octet; ISO 8073 §13.2.2.2), as ICSNPP
/// logs it (`0x0f` for DT).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CotpType(pub u8);

impl CotpType {
    /// Expedited data.
    pub const ED: CotpType = CotpType(0x01);
    /// Expedited data acknowledgement.
    pub const EA: CotpType = CotpType(0x02);
    /// Reject.
    pub const RJ: CotpType = CotpType(0x05);
    /// Data acknowledgement.
    pub const AK: CotpType = CotpType(0x06);
    /// TPDU error.
    pub const ER: CotpType = CotpType(0x07);
    /// Disconnect request.
    pub const DR: CotpType = CotpType(0x08);
    /// Disconnect confirm.
    pub const DC: CotpType = CotpType(0x0c);
    /// Connection confirm.
    pub const CC: CotpType = CotpType(0x0d);
    /// Connection request.
    pub const CR: CotpType = CotpType(0x0e);
    /// Data.
    pub const DT: CotpType = CotpType(0x0f);

    /// ICSNPP's name (`DT Data`, `CR Connection Request`…).
    pub fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            0x01 => "ED Expedited Data",
            0x02 => "EA Expedited Data Acknowledgement",
            0x04 => "UD CLTP UD",
            0x05 => "RJ Reject",
            0x06 => "AK Data Acknowledgement",
            0x07 => "ER TPDU Error",
            0x08 => "DR Disconnect Request",
            0x0c => "DC Disconnect Confirm",
            0x0d => "CC Connection Confirm",
            0x0e => "CR Connection Request",
            0x0f => "DT Data",
            _ => return None,
        })
    }
}

/// Connection parameters of a CR or CC TPDU (ISO 8073 §13.3.4).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CotpConnection<'a> {
    /// Destination reference.
    pub destination_ref: u16,
    /// Source reference.
    pub source_ref: u16,
    /// Class and options octet.
    pub class: u8,
    /// TPDU size code (0xC0): 2^code octets.
    pub tpdu_size: Option<u8>,
    /// Calling (source) TSAP (0xC1).
    pub src_tsap: Option<&'a [u8]>,
    /// Called (destination) TSAP (0xC2).
    pub dst_tsap: Option<&'a [u8]>,
}

/// One COTP TPDU.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cotp<'a> {
    /// TPDU code.
    pub pdu_type: CotpType,
    /// DT: the last fragment of a user message (EOT). True for other types.
    pub eot: bool,
    /// CR/CC parameters.
    pub connection: Option<CotpConnection<'a>>,
    /// User data after the header (DT, ED, CR/CC user data).
    pub payload: &'a [u8],
}

/// Parses a COTP TPDU (a TPKT's content). `Invalid("bad_cotp_length")` when the length
/// indicator is 0 or runs past the TPDU.
pub fn parse_s7_cotp(i: &[u8]) -> Result<Cotp<'_>, ParseError> {
    need(i, 2)?;
    let (Some(&li), Some(&code)) = (i.first(), i.get(1)) else {
        return Err(ParseError::Incomplete { needed: 1 });
    };
    let header_end = 1 + usize::from(li);
    if li == 0 || header_end > i.len() {
        return Err(ParseError::Invalid(Invalid("bad_cotp_length")));
    }
    let header = i.get(2..header_end).unwrap_or_default();
    let payload = i.get(header_end..).unwrap_or_default();
    let pdu_type = CotpType(code >> 4);
    let mut cotp = Cotp {
        pdu_type,
        eot: true,
        connection: None,
        payload,
    };
    match pdu_type {
        CotpType::DT => {
            cotp.eot = header.first().is_none_or(|&b| b & 0x80 != 0);
        }
        CotpType::CR | CotpType::CC => {
            let (Some(destination_ref), Some(source_ref), Some(&class)) =
                (be_u16(header, 0), be_u16(header, 2), header.get(4))
            else {
                return Err(ParseError::Invalid(Invalid("bad_cotp_length")));
            };
            let mut c = CotpConnection {
                destination_ref,
                source_ref,
                class,
                ..CotpConnection::default()
            };
            // Parameters: code, length, value; each step consumes at least two octets.
            let mut params = header.get(5..).unwrap_or_default();
            while let (Some(&code), Some(&len)) = (params.first(), params.get(1)) {
                let Some(value) = params.get(2..2 + usize::from(len)) else {
                    break;
                };
                match code {
                    0xc0 => c.tpdu_size = value.first().copied(),
                    0xc1 => c.src_tsap = Some(value),
                    0xc2 => c.dst_tsap = Some(value),
                    _ => {}
                }
                params = params.get(2 + usize::from(len)..).unwrap_or_default();
            }
            cotp.connection = Some(c);
        }
        _ => {}
    }
    Ok(cotp)
}

/// ROSCTR, the S7 PDU type.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Rosctr(pub u8);

impl Rosctr {
    /// Job request.
    pub const JOB: Rosctr = Rosctr(1);
    /// Acknowledgement without data.
    pub const ACK: Rosctr = Rosctr(2);
    /// Acknowledgement with data.
    pub const ACK_DATA: Rosctr = Rosctr(3);
    /// Userdata (programming, SZL, clock, block functions).
    pub const USERDATA: Rosctr = Rosctr(7);

    /// ICSNPP's name.
    pub fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            1 => "Job-Request",
            2 => "Acknowledgement",
            3 => "ACK-Data",
            7 => "User-Data",
            _ => return None,
        })
    }

    /// Whether the header carries error class and code (ACK, ACK-Data).
    pub fn has_error(self) -> bool {
        matches!(self.0, 2 | 3)
    }
}

/// A Job/ACK-Data function code.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Function(pub u8);

impl Function {
    /// CPU services.
    pub const CPU_SERVICES: Function = Function(0x00);
    /// Read variable.
    pub const READ_VAR: Function = Function(0x04);
    /// Write variable.
    pub const WRITE_VAR: Function = Function(0x05);
    /// Request download.
    pub const REQUEST_DOWNLOAD: Function = Function(0x1a);
    /// Download block.
    pub const DOWNLOAD_BLOCK: Function = Function(0x1b);
    /// Download ended.
    pub const DOWNLOAD_ENDED: Function = Function(0x1c);
    /// Start upload.
    pub const START_UPLOAD: Function = Function(0x1d);
    /// Upload.
    pub const UPLOAD: Function = Function(0x1e);
    /// End upload.
    pub const END_UPLOAD: Function = Function(0x1f);
    /// PLC control (PI service).
    pub const PLC_CONTROL: Function = Function(0x28);
    /// PLC stop.
    pub const PLC_STOP: Function = Function(0x29);
    /// Setup communication.
    pub const SETUP_COMMUNICATION: Function = Function(0xf0);

    /// ICSNPP's name.
    pub fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            0x00 => "CPU services",
            0x04 => "Read Variable",
            0x05 => "Write Variable",
            0x1a => "Request Download",
            0x1b => "Download Block",
            0x1c => "Download Ended",
            0x1d => "Start Upload",
            0x1e => "Upload",
            0x1f => "End Upload",
            0x28 => "PLC Control",
            0x29 => "PLC Stop",
            0xf0 => "Setup Communication",
            _ => return None,
        })
    }
}

/// The userdata parameter (Wireshark `s7comm_decode_param_userdata`): method, type and
/// function group, subfunction, sequence number, and in responses an error code.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Userdata {
    /// Method (0x11 request, 0x12 response).
    pub method: u8,
    /// Type (high nibble: 4 request, 8 response, 0 push) and function group (low nibble),
    /// the octet ICSNPP logs as `function_code`.
    pub type_group: u8,
    /// Subfunction within the group.
    pub subfunction: u8,
    /// Sequence number.
    pub sequence: u8,
    /// Data unit reference and "last data unit" flag (8-octet parameter only: a userdata
    /// exchange split over several PDUs, such as a long SZL read; 0 means last).
    pub data_unit: Option<(u8, u8)>,
    /// Error code (8-octet parameter only).
    pub error_code: Option<u16>,
}

impl Userdata {
    /// Whether this PDU continues a split exchange rather than starting one: a follow-up
    /// request (method 0x12 with request type) or a response with more data units to come.
    /// ICSNPP logs a split exchange once, as its first request and last response.
    pub fn is_continuation(self) -> bool {
        (self.kind() == 0x4 && self.method == 0x12)
            || (self.kind() == 0x8 && self.data_unit.is_some_and(|(_, last)| last != 0))
    }

    /// The function group (low nibble).
    pub fn group(self) -> u8 {
        self.type_group & 0x0f
    }
    /// The type (high nibble).
    pub fn kind(self) -> u8 {
        self.type_group >> 4
    }

    /// ICSNPP-style function name (`Request: CPU Functions`).
    pub fn function_name(self) -> (&'static str, Option<&'static str>) {
        let kind = match self.kind() {
            0x0 => "Push",
            0x4 => "Request",
            0x8 => "Response",
            _ => "Unknown",
        };
        let group = match self.group() {
            0x0 => Some("Mode-transition"),
            0x1 => Some("Programmer Commands"),
            0x2 => Some("Cyclic Data"),
            0x3 => Some("Block Functions"),
            0x4 => Some("CPU Functions"),
            0x5 => Some("Security"),
            0x6 => Some("PBC BSEND/BRECV"),
            0x7 => Some("Time Functions"),
            0xf => Some("NC Programming"),
            _ => None,
        };
        (kind, group)
    }

    /// The subfunction's name, for the groups Kordon names.
    pub fn subfunction_name(self) -> Option<&'static str> {
        Some(match (self.group(), self.subfunction) {
            (0x1, 0x01) => "Request Diag Data (Type 1)",
            (0x1, 0x02) => "VarTab",
            (0x1, 0x0e) => "Read Diag Data",
            (0x1, 0x0f) => "Remove Diag Data",
            (0x1, 0x10) => "Erase",
            (0x1, 0x11) => "Forces",
            (0x1, 0x13) => "Request Diag Data (Type 2)",
            (0x2, 0x01) => "Memory",
            (0x2, 0x04) => "Unsubscribe",
            (0x3, 0x01) => "List Blocks",
            (0x3, 0x02) => "List Blocks of Type",
            (0x3, 0x03) => "Get Block Info",
            (0x4, 0x01) => "Read SZL",
            (0x4, 0x02) => "Message Service",
            (0x4, 0x03) => "Diagnostic Message",
            (0x4, 0x05) => "ALARM_8 Indication",
            (0x4, 0x06) => "NOTIFY Indication",
            (0x4, 0x0b) => "ALARM ACK",
            (0x4, 0x0c) => "ALARM_S Indication",
            (0x4, 0x13) => "ALARM Query",
            (0x5, 0x01) => "PLC Password",
            (0x5, 0x02) => "Clean Session",
            (0x7, 0x01) => "Read Clock",
            (0x7, 0x02) => "Set Clock",
            (0x7, 0x03) => "Read Clock (following)",
            (0x7, 0x04) => "Set Clock 2",
            _ => return None,
        })
    }
}

/// What the parameter block says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Param<'a> {
    /// No parameter block.
    None,
    /// Job or ACK-Data: the function, and for a PLC Control job its PI service name.
    Function {
        /// Function code.
        function: Function,
        /// PI service name of a PLC Control (0x28) job (`P_PROGRAM`, `_INSE`…).
        pi_service: Option<&'a [u8]>,
    },
    /// Userdata.
    Userdata(Userdata),
    /// A userdata parameter that does not have the 00 01 12 head.
    Unparsed(&'a [u8]),
}

/// An S7comm PDU.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct S7Pdu<'a> {
    /// PDU type.
    pub rosctr: Rosctr,
    /// PDU reference (pairs an ACK-Data with its job).
    pub pdu_reference: u16,
    /// Error class (ACK, ACK-Data).
    pub error_class: Option<u8>,
    /// Error code (ACK, ACK-Data).
    pub error_code: Option<u8>,
    /// The parameter block, decoded.
    pub param: Param<'a>,
    /// The raw parameter block.
    pub param_bytes: &'a [u8],
    /// The data block.
    pub data: &'a [u8],
}

/// Parses an S7comm PDU (a COTP DT payload starting with 0x32). `Invalid("not_s7comm")` for
/// another protocol id; `Invalid("bad_s7_length")` when parameter and data lengths run past
/// the PDU.
pub fn parse_s7_pdu(i: &[u8]) -> Result<S7Pdu<'_>, ParseError> {
    need(i, 10)?;
    if i.first() != Some(&S7COMM_ID) {
        return Err(ParseError::Invalid(Invalid("not_s7comm")));
    }
    let (Some(&rosctr), Some(pdu_reference), Some(param_len), Some(data_len)) =
        (i.get(1), be_u16(i, 4), be_u16(i, 6), be_u16(i, 8))
    else {
        return Err(ParseError::Incomplete { needed: 1 });
    };
    let rosctr = Rosctr(rosctr);
    let (header_len, error_class, error_code) = if rosctr.has_error() {
        need(i, 12)?;
        (12, i.get(10).copied(), i.get(11).copied())
    } else {
        (10, None, None)
    };
    let param_end = header_len + usize::from(param_len);
    let data_end = param_end + usize::from(data_len);
    let (Some(param_bytes), Some(data)) =
        (i.get(header_len..param_end), i.get(param_end..data_end))
    else {
        return Err(ParseError::Invalid(Invalid("bad_s7_length")));
    };
    let param = if param_bytes.is_empty() {
        Param::None
    } else if rosctr == Rosctr::USERDATA {
        parse_userdata_param(param_bytes)
    } else {
        let function = Function(param_bytes.first().copied().unwrap_or(0));
        let pi_service = if function == Function::PLC_CONTROL && rosctr == Rosctr::JOB {
            pi_service_name(param_bytes)
        } else {
            None
        };
        Param::Function {
            function,
            pi_service,
        }
    };
    Ok(S7Pdu {
        rosctr,
        pdu_reference,
        error_class,
        error_code,
        param,
        param_bytes,
        data,
    })
}

fn parse_userdata_param(p: &[u8]) -> Param<'_> {
    let (
        Some(head),
        Some(&len),
        Some(&method),
        Some(&type_group),
        Some(&subfunction),
        Some(&sequence),
    ) = (p.get(..3), p.get(3), p.get(4), p.get(5), p.get(6), p.get(7))
    else {
        return Param::Unparsed(p);
    };
    if head != [0x00, 0x01, 0x12] {
        return Param::Unparsed(p);
    }
    let (data_unit, error_code) = if len >= 8 {
        (p.get(8).copied().zip(p.get(9).copied()), be_u16(p, 10))
    } else {
        (None, None)
    };
    Param::Userdata(Userdata {
        method,
        type_group,
        subfunction,
        sequence,
        data_unit,
        error_code,
    })
}

/// The PI service name of a PLC Control parameter: function, 7 unknown octets, a 2-octet
/// parameter block length, the block, a 1-octet name length, the name (Wireshark
/// `s7comm_decode_plc_controls_param_hex28`).
fn pi_service_name(p: &[u8]) -> Option<&[u8]> {
    let block_len = usize::from(be_u16(p, 8)?);
    let at = 10 + block_len;
    let name_len = usize::from(*p.get(at)?);
    p.get(at + 1..at + 1 + name_len)
}

/// The name of a PI service (ICSNPP's `subfunction_name` for PLC Control).
pub fn pi_service_label(name: &[u8]) -> Option<&'static str> {
    Some(match name {
        b"_INSE" => "Activate a PLC module",
        b"_DELE" => "Remove module from the PLC's passive file system",
        b"P_PROGRAM" => "PLC Start / Stop",
        b"_MODU" => "PLC Copy Ram to Rom",
        b"_GARB" => "Compress PLC memory",
        b"_N_LOGIN_" => "Login",
        b"_N_LOGOUT" => "Logout",
        b"_N_CANCEL" => "Cancels NC alarm",
        b"_N_DASAVE" => "PI-Service for copying data from SRAM to FLASH",
        b"_N_DIGIOF" => "Turns off digitizing",
        b"_N_DIGION" => "Turns on digitizing",
        b"_N_DZERO_" => "Set all D nos. invalid for function \"unique D no.\"",
        b"_N_ENDEXT" => "Complete external program",
        b"_N_F_OPER" => "Opens a file read-only",
        b"_N_OST_OF" => "Overstore OFF",
        b"_N_OST_ON" => "Overstore ON",
        b"_N_SCALE_" => "Unit of measurement setting (metric<->INCH)",
        b"_N_SETUFR" => "Activates user frame",
        b"_N_STRTLK" => "The global start disable is set",
        b"_N_STRTUL" => "The global start disable is reset",
        b"_N_TMRASS" => "Resets the Active status on deletion of tools",
        _ => return None,
    })
}

#[cfg(test)]
// A failed `expect` or an out-of-range index in a test is the test failing, which is what it
// is for.
#[allow(clippy::expect_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    /// Setup Communication job from ICSNPP's `snap7.pcap` (TPKT, COTP DT, S7 header, 8-octet
    /// parameter: max AmQ calling/called 1, PDU length 480).
    const SETUP: &[u8] = &[
        0x03, 0x00, 0x00, 0x19, 0x02, 0xf0, 0x80, 0x32, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x08,
        0x00, 0x00, 0xf0, 0x00, 0x00, 0x01, 0x00, 0x01, 0x01, 0xe0,
    ];

    #[test]
    fn setup_communication() {
        let (rest, tpkt) = parse_s7_tpkt(SETUP).expect("tpkt");
        assert!(rest.is_empty());
        let cotp = parse_s7_cotp(tpkt.tpdu).expect("cotp");
        assert_eq!(cotp.pdu_type, CotpType::DT);
        assert!(cotp.eot);
        let pdu = parse_s7_pdu(cotp.payload).expect("s7");
        assert_eq!(
            pdu,
            S7Pdu {
                rosctr: Rosctr::JOB,
                pdu_reference: 0,
                error_class: None,
                error_code: None,
                param: Param::Function {
                    function: Function::SETUP_COMMUNICATION,
                    pi_service: None
                },
                param_bytes: &[0xf0, 0x00, 0x00, 0x01, 0x00, 0x01, 0x01, 0xe0],
                data: &[],
            }
        );
    }

    #[test]
    fn connection_request_and_userdata() {
        // CR with TPDU size 1024, TSAPs 0x0100 and 0x0102.
        let cr = [
            0x11, 0xe0, 0x00, 0x00, 0x00, 0x01, 0x00, 0xc0, 0x01, 0x0a, 0xc1, 0x02, 0x01, 0x00,
            0xc2, 0x02, 0x01, 0x02,
        ];
        let cotp = parse_s7_cotp(&cr).expect("cr");
        assert_eq!(cotp.pdu_type, CotpType::CR);
        let c = cotp.connection.expect("params");
        assert_eq!(c.tpdu_size, Some(0x0a));
        assert_eq!(c.src_tsap, Some(&[0x01, 0x00][..]));
        assert_eq!(c.dst_tsap, Some(&[0x01, 0x02][..]));
        // Userdata response: Get Block Info with error 0xd209.
        let ud = [
            0x32, 0x07, 0x00, 0x00, 0x00, 0x0b, 0x00, 0x0c, 0x00, 0x04, 0x00, 0x01, 0x12, 0x08,
            0x12, 0x83, 0x03, 0x01, 0x00, 0x00, 0xd2, 0x09, 0x0a, 0x00, 0x00, 0x00,
        ];
        let pdu = parse_s7_pdu(&ud).expect("userdata");
        let Param::Userdata(u) = pdu.param else {
            unreachable!("userdata param")
        };
        assert_eq!(u.type_group, 0x83);
        assert_eq!(u.subfunction, 3);
        assert_eq!(u.error_code, Some(0xd209));
        assert_eq!(u.subfunction_name(), Some("Get Block Info"));
    }

    #[test]
    fn plc_control_pi_service() {
        let mut param = vec![0x28, 0, 0, 0, 0, 0, 0, 0xfd, 0x00, 0x00, 0x09];
        param.extend_from_slice(b"P_PROGRAM");
        let mut pdu = vec![0x32, 0x01, 0, 0, 0, 31, 0, param.len() as u8, 0, 0];
        pdu.extend_from_slice(&param);
        let pdu = parse_s7_pdu(&pdu).expect("job");
        assert_eq!(
            pdu.param,
            Param::Function {
                function: Function::PLC_CONTROL,
                pi_service: Some(b"P_PROGRAM")
            }
        );
    }

    #[test]
    fn bad_input() {
        assert_eq!(
            parse_s7_tpkt(&[4, 0, 0, 7]),
            Err(ParseError::Invalid(Invalid("bad_tpkt_version")))
        );
        assert_eq!(
            parse_s7_tpkt(&[3, 0, 0, 5]),
            Err(ParseError::Invalid(Invalid("bad_tpkt_length")))
        );
        assert_eq!(
            parse_s7_cotp(&[9, 0xf0, 0x80]),
            Err(ParseError::Invalid(Invalid("bad_cotp_length")))
        );
        assert_eq!(
            parse_s7_pdu(&[0x32, 1, 0, 0, 0, 0, 0, 9, 0, 0]),
            Err(ParseError::Invalid(Invalid("bad_s7_length")))
        );
        assert_eq!(
            parse_s7_pdu(&[0x72, 1, 0, 0, 0, 0, 0, 9, 0, 0]),
            Err(ParseError::Invalid(Invalid("not_s7comm")))
        );
    }
}

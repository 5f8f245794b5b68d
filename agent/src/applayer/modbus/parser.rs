//! Modbus/TCP: MBAP header and PDU, zero-copy.
//!
//! References: *MODBUS Messaging on TCP/IP Implementation Guide V1.0b* §3.1.3 (MBAP header) and
//! *MODBUS Application Protocol Specification V1.1b3* §4.1 (PDU ≤ 253 bytes), §6 (functions),
//! §7 (exceptions). Every multi-byte field is big-endian ("MODBUS uses a 'big-Endian'
//! representation", Application Protocol §4.2).
#![forbid(unsafe_code)]
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

pub use crate::applayer::ot::{Invalid, ParseError};
use crate::applayer::ot::{be_u16, need};

/// MBAP header length: transaction id, protocol id, length (2 bytes each), unit id.
pub const MBAP_LEN: usize = 7;
/// Largest PDU (function code + data): Application Protocol V1.1b3 §4.1, "253 bytes".
pub const MAX_PDU_LEN: usize = 253;
/// Largest ADU on TCP: MBAP + PDU = 260 bytes (Messaging on TCP/IP §3.1.3).
pub const MAX_ADU_LEN: usize = MBAP_LEN + MAX_PDU_LEN;

/// A Modbus function code (the high bit marks an exception response).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct FunctionCode(pub u8);

impl FunctionCode {
    /// Read Coils (§6.1).
    pub const READ_COILS: FunctionCode = FunctionCode(0x01);
    /// Read Discrete Inputs (§6.2).
    pub const READ_DISCRETE_INPUTS: FunctionCode = FunctionCode(0x02);
    /// Read Holding Registers (§6.3).
    pub const READ_HOLDING_REGISTERS: FunctionCode = FunctionCode(0x03);
    /// Read Input Registers (§6.4).
    pub const READ_INPUT_REGISTERS: FunctionCode = FunctionCode(0x04);
    /// Write Single Coil (§6.5).
    pub const WRITE_SINGLE_COIL: FunctionCode = FunctionCode(0x05);
    /// Write Single Register (§6.6).
    pub const WRITE_SINGLE_REGISTER: FunctionCode = FunctionCode(0x06);
    /// Read Exception Status, serial line only (§6.7).
    pub const READ_EXCEPTION_STATUS: FunctionCode = FunctionCode(0x07);
    /// Diagnostics, serial line only (§6.8).
    pub const DIAGNOSTICS: FunctionCode = FunctionCode(0x08);
    /// Modicon 484 program (vendor).
    pub const PROGRAM_484: FunctionCode = FunctionCode(0x09);
    /// Get Comm Event Counter (§6.9).
    pub const GET_COMM_EVENT_COUNTER: FunctionCode = FunctionCode(0x0B);
    /// Get Comm Event Log (§6.10).
    pub const GET_COMM_EVENT_LOG: FunctionCode = FunctionCode(0x0C);
    /// Modicon 584/984 program (vendor).
    pub const PROGRAM_584_984: FunctionCode = FunctionCode(0x0D);
    /// Write Multiple Coils (§6.11).
    pub const WRITE_MULTIPLE_COILS: FunctionCode = FunctionCode(0x0F);
    /// Write Multiple Registers (§6.12).
    pub const WRITE_MULTIPLE_REGISTERS: FunctionCode = FunctionCode(0x10);
    /// Report Server ID (§6.13).
    pub const REPORT_SERVER_ID: FunctionCode = FunctionCode(0x11);
    /// Modicon 884/U84 program (vendor).
    pub const PROGRAM_884_U84: FunctionCode = FunctionCode(0x12);
    /// Reset comm link 884/U84 (vendor).
    pub const RESET_COMM_LINK: FunctionCode = FunctionCode(0x13);
    /// Read File Record (§6.14).
    pub const READ_FILE_RECORD: FunctionCode = FunctionCode(0x14);
    /// Write File Record (§6.15).
    pub const WRITE_FILE_RECORD: FunctionCode = FunctionCode(0x15);
    /// Mask Write Register (§6.16).
    pub const MASK_WRITE_REGISTER: FunctionCode = FunctionCode(0x16);
    /// Read/Write Multiple Registers (§6.17).
    pub const READ_WRITE_MULTIPLE_REGISTERS: FunctionCode = FunctionCode(0x17);
    /// Read FIFO Queue (§6.18).
    pub const READ_FIFO_QUEUE: FunctionCode = FunctionCode(0x18);
    /// Schneider Concept program (vendor).
    pub const PROGRAM_CONCEPT: FunctionCode = FunctionCode(0x28);
    /// Encapsulated Interface Transport / MEI (§6.19–6.21).
    pub const ENCAPSULATED_INTERFACE: FunctionCode = FunctionCode(0x2B);
    /// Schneider UMAS (Unity) programming (vendor): start/stop, download, upload.
    pub const UMAS: FunctionCode = FunctionCode(0x5A);
    /// Firmware replacement (vendor).
    pub const FIRMWARE_REPLACEMENT: FunctionCode = FunctionCode(0x7D);
    /// Modicon 584/984 program, second form (vendor).
    pub const PROGRAM_584_984_2: FunctionCode = FunctionCode(0x7E);

    /// Whether the high bit marks an exception response.
    pub fn is_exception(self) -> bool {
        self.0 & 0x80 != 0
    }

    /// The function without the exception bit.
    pub fn base(self) -> FunctionCode {
        FunctionCode(self.0 & 0x7f)
    }

    /// Suricata's name for the (base) function (`RdCoils`…), `Unknown` otherwise.
    pub fn suricata_name(self) -> &'static str {
        match self.base().0 {
            0x01 => "RdCoils",
            0x02 => "RdDiscreteInputs",
            0x03 => "RdHoldRegs",
            0x04 => "RdInputRegs",
            0x05 => "WrSingleCoil",
            0x06 => "WrSingleReg",
            0x07 => "RdExcStatus",
            0x08 => "Diagnostic",
            0x09 => "Program484",
            0x0A => "Poll484",
            0x0B => "GetCommEventCtr",
            0x0C => "GetCommEventLog",
            0x0D => "Program584_984",
            0x0E => "Poll584_984",
            0x0F => "WrMultCoils",
            0x10 => "WrMultRegs",
            0x11 => "ReportServerID",
            0x12 => "Program884_u84",
            0x13 => "ResetCommLink",
            0x14 => "RdFileRec",
            0x15 => "WrFileRec",
            0x16 => "MaskWrReg",
            0x17 => "RdWrMultRegs",
            0x18 => "RdFIFOQueue",
            0x2B => "MEI",
            _ => "Unknown",
        }
    }

    /// Whether the function is public and assigned (§5.1 "public function codes").
    pub fn is_public_assigned(self) -> bool {
        matches!(self.base().0, 0x01..=0x08 | 0x0B | 0x0C | 0x0F..=0x11 | 0x14..=0x18 | 0x2B)
    }
}

/// A Modbus exception code (§7).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ExceptionCode(pub u8);

impl ExceptionCode {
    /// Illegal function.
    pub const ILLEGAL_FUNCTION: ExceptionCode = ExceptionCode(0x01);
    /// Illegal data address.
    pub const ILLEGAL_DATA_ADDRESS: ExceptionCode = ExceptionCode(0x02);
    /// Illegal data value.
    pub const ILLEGAL_DATA_VALUE: ExceptionCode = ExceptionCode(0x03);
    /// Server device failure.
    pub const SERVER_DEVICE_FAILURE: ExceptionCode = ExceptionCode(0x04);

    /// Zeek's name (`ILLEGAL_FUNCTION`…, `unknown-<n>` otherwise).
    pub fn name(self) -> Option<&'static str> {
        Some(match self.0 {
            0x01 => "ILLEGAL_FUNCTION",
            0x02 => "ILLEGAL_DATA_ADDRESS",
            0x03 => "ILLEGAL_DATA_VALUE",
            0x04 => "SLAVE_DEVICE_FAILURE",
            0x05 => "ACKNOWLEDGE",
            0x06 => "SLAVE_DEVICE_BUSY",
            0x08 => "MEMORY_PARITY_ERROR",
            0x0A => "GATEWAY_PATH_UNAVAILABLE",
            0x0B => "GATEWAY_TARGET_DEVICE_FAILED_TO_RESPOND",
            _ => return None,
        })
    }
}

/// The MBAP header (Messaging on TCP/IP §3.1.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Mbap {
    /// Transaction identifier (pairs a response with its request).
    pub transaction_id: u16,
    /// Protocol identifier; 0 for Modbus.
    pub protocol_id: u16,
    /// Bytes after this field: unit id + PDU.
    pub length: u16,
    /// Unit identifier (the serial-line server behind a gateway; 0xFF when unused).
    pub unit_id: u8,
}

/// One ADU: header, function code and the PDU data after it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Adu<'a> {
    /// Header.
    pub mbap: Mbap,
    /// Function code.
    pub function: FunctionCode,
    /// PDU data after the function code.
    pub data: &'a [u8],
}

/// Parses the MBAP header and PDU of one ADU, returning the bytes after it.
///
/// `Invalid("bad_length")` when the length field is below 2 (unit id and function code) or
/// above 254 (unit id + [`MAX_PDU_LEN`]); `Invalid("protocol_id_not_zero")` for any protocol
/// id but 0 (Messaging on TCP/IP §3.1.3: "0 = MODBUS protocol"; Zeek enforces it too).
pub fn parse_modbus_adu(i: &[u8]) -> Result<(&[u8], Adu<'_>), ParseError> {
    need(i, MBAP_LEN + 1)?;
    let (Some(transaction_id), Some(protocol_id), Some(length), Some(&unit_id)) =
        (be_u16(i, 0), be_u16(i, 2), be_u16(i, 4), i.get(6))
    else {
        return Err(ParseError::Incomplete { needed: 1 });
    };
    if protocol_id != 0 {
        return Err(ParseError::Invalid(Invalid("protocol_id_not_zero")));
    }
    let pdu_len = usize::from(length).saturating_sub(1);
    if length < 2 || pdu_len > MAX_PDU_LEN {
        return Err(ParseError::Invalid(Invalid("bad_length")));
    }
    need(i, MBAP_LEN + pdu_len)?;
    let (Some(&function), Some(data), Some(rest)) = (
        i.get(MBAP_LEN),
        i.get(MBAP_LEN + 1..MBAP_LEN + pdu_len),
        i.get(MBAP_LEN + pdu_len..),
    ) else {
        return Err(ParseError::Incomplete { needed: 1 });
    };
    Ok((
        rest,
        Adu {
            mbap: Mbap {
                transaction_id,
                protocol_id,
                length,
                unit_id,
            },
            function: FunctionCode(function),
            data,
        },
    ))
}

/// What a request asks for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Request<'a> {
    /// A read of `quantity` items from `address` (functions 1–4).
    Read {
        /// Starting address.
        address: u16,
        /// Items.
        quantity: u16,
    },
    /// Write Single Coil / Register (5, 6).
    WriteSingle {
        /// Address.
        address: u16,
        /// Value.
        value: u16,
    },
    /// Write Multiple Coils / Registers (15, 16).
    WriteMultiple {
        /// Starting address.
        address: u16,
        /// Items.
        quantity: u16,
        /// The values' bytes.
        values: &'a [u8],
    },
    /// Mask Write Register (22).
    MaskWrite {
        /// Address.
        address: u16,
        /// AND mask.
        and_mask: u16,
        /// OR mask.
        or_mask: u16,
    },
    /// Read/Write Multiple Registers (23).
    ReadWrite {
        /// Read start.
        read_address: u16,
        /// Read count.
        read_quantity: u16,
        /// Write start.
        write_address: u16,
        /// Write count.
        write_quantity: u16,
        /// Written values.
        values: &'a [u8],
    },
    /// Diagnostics (8) with its sub-function.
    Diagnostic {
        /// Sub-function (§6.8.1).
        subfunction: u16,
        /// Data.
        data: &'a [u8],
    },
    /// Encapsulated Interface Transport (43) with its MEI type.
    Mei {
        /// MEI type (13 CANopen, 14 Read Device Identification).
        mei_type: u8,
        /// Data.
        data: &'a [u8],
    },
    /// Any other function, or a body too short for its function (kept, not failed).
    Unparsed(&'a [u8]),
}

/// Decodes a request body for `function`.
pub fn parse_modbus_request(function: FunctionCode, d: &[u8]) -> Request<'_> {
    let u = |at| be_u16(d, at);
    let parsed = match function.0 {
        0x01..=0x04 => u(0)
            .zip(u(2))
            .map(|(address, quantity)| Request::Read { address, quantity }),
        0x05 | 0x06 => u(0)
            .zip(u(2))
            .map(|(address, value)| Request::WriteSingle { address, value }),
        0x0F | 0x10 => u(0)
            .zip(u(2))
            .map(|(address, quantity)| Request::WriteMultiple {
                address,
                quantity,
                values: d.get(5..).unwrap_or_default(),
            }),
        0x16 => u(0)
            .zip(u(2))
            .zip(u(4))
            .map(|((address, and_mask), or_mask)| Request::MaskWrite {
                address,
                and_mask,
                or_mask,
            }),
        0x17 => u(0).zip(u(2)).zip(u(4)).zip(u(6)).map(
            |(((read_address, read_quantity), write_address), write_quantity)| Request::ReadWrite {
                read_address,
                read_quantity,
                write_address,
                write_quantity,
                values: d.get(9..).unwrap_or_default(),
            },
        ),
        0x08 => u(0).map(|subfunction| Request::Diagnostic {
            subfunction,
            data: d.get(2..).unwrap_or_default(),
        }),
        0x2B => d.first().map(|&mei_type| Request::Mei {
            mei_type,
            data: d.get(1..).unwrap_or_default(),
        }),
        _ => None,
    };
    parsed.unwrap_or(Request::Unparsed(d))
}

/// What a response says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Response<'a> {
    /// An exception response (function code with the high bit set).
    Exception(ExceptionCode),
    /// Read data (functions 1–4, 23): the byte count and the bytes.
    ReadData(&'a [u8]),
    /// Echo of a write (5, 6, 15, 16): address and value or quantity.
    WriteEcho {
        /// Address.
        address: u16,
        /// Value (5, 6) or quantity (15, 16).
        value: u16,
    },
    /// Anything else.
    Unparsed(&'a [u8]),
}

/// Decodes a response body for `function`.
pub fn parse_modbus_response(function: FunctionCode, d: &[u8]) -> Response<'_> {
    if function.is_exception() {
        return match d.first() {
            Some(&code) => Response::Exception(ExceptionCode(code)),
            None => Response::Unparsed(d),
        };
    }
    match function.0 {
        0x01..=0x04 | 0x17 => match d.split_first() {
            Some((&count, rest)) => {
                Response::ReadData(rest.get(..usize::from(count)).unwrap_or(rest))
            }
            None => Response::Unparsed(d),
        },
        0x05 | 0x06 | 0x0F | 0x10 => match be_u16(d, 0).zip(be_u16(d, 2)) {
            Some((address, value)) => Response::WriteEcho { address, value },
            None => Response::Unparsed(d),
        },
        _ => Response::Unparsed(d),
    }
}

#[cfg(test)]
// A failed `expect` in a test is the test failing, which is what it is for.
#[allow(clippy::expect_used)]
mod tests {
    use super::*;

    /// The first request of Zeek's `modbus-and-non-modbus-p502.pcap` (10.0.0.9 → 10.0.0.3:502):
    /// transaction 1, unit 10, Read Coils from 0, 1 coil… (bytes cut from the capture).
    const READ_COILS: &[u8] = &[
        0x00, 0x01, 0x00, 0x00, 0x00, 0x06, 0x0a, 0x01, 0x00, 0x00, 0x00, 0x01,
    ];

    #[test]
    fn read_coils_request() {
        let (rest, adu) = parse_modbus_adu(READ_COILS).expect("parses");
        assert!(rest.is_empty());
        assert_eq!(
            adu,
            Adu {
                mbap: Mbap {
                    transaction_id: 1,
                    protocol_id: 0,
                    length: 6,
                    unit_id: 10
                },
                function: FunctionCode::READ_COILS,
                data: &[0, 0, 0, 1],
            }
        );
        assert_eq!(
            parse_modbus_request(adu.function, adu.data),
            Request::Read {
                address: 0,
                quantity: 1
            }
        );
    }

    #[test]
    fn exception_and_errors() {
        let exc = [0, 0, 0, 0, 0, 3, 1, 0x9c, 1];
        let (_, adu) = parse_modbus_adu(&exc).expect("parses");
        assert_eq!(
            parse_modbus_response(adu.function, adu.data),
            Response::Exception(ExceptionCode::ILLEGAL_FUNCTION)
        );
        assert_eq!(
            parse_modbus_adu(&exc[..8]),
            Err(ParseError::Incomplete { needed: 1 })
        );
        let bad = [0, 0, 0, 0, 0x01, 0x00, 1, 3];
        assert_eq!(
            parse_modbus_adu(&bad),
            Err(ParseError::Invalid(Invalid("bad_length")))
        );
        assert_eq!(
            parse_modbus_request(FunctionCode::WRITE_SINGLE_COIL, &[0]),
            Request::Unparsed(&[0])
        );
    }
}

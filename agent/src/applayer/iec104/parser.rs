//! IEC 60870-5-104: APCI (start byte, length, I/S/U control field) and ASDU, zero-copy.
//!
//! References: IEC 60870-5-104:2006 §5 (APCI: start 0x68, APDU length ≤ 253, control field
//! formats) and IEC 60870-5-101:2003 §7 (ASDU: type identification, variable structure
//! qualifier, cause of transmission, common address; information element sizes per type). The
//! 104 profile fixes the field sizes: COT 2 octets (cause + originator), common address 2
//! octets, information object address 3 octets. Multi-byte fields are little-endian
//! (IEC 60870-5-4 §6: "the least significant octet is transmitted first").
#![forbid(unsafe_code)]
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

pub use crate::applayer::ot::{Invalid, ParseError};
use crate::applayer::ot::{le_u16, le_u24, need};

/// The APDU start byte.
pub const START: u8 = 0x68;
/// Largest APDU length field (104 §5.1: "maximum length of APDU is 253").
pub const MAX_APDU_LEN: usize = 253;
/// Smallest APDU length field: the 4-octet control field.
pub const MIN_APDU_LEN: usize = 4;
/// Largest whole frame: start + length + 253.
pub const MAX_FRAME_LEN: usize = 2 + MAX_APDU_LEN;
/// Data unit identifier length in the 104 profile: type, VSQ, COT (2), common address (2).
pub const ASDU_HEADER_LEN: usize = 6;
/// Information object address length in the 104 profile.
pub const IOA_LEN: usize = 3;

/// ASDU type identification (101 §7.2.1.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TypeId(pub u8);

/// (code, name, information element size in octets) of every standard type; `None` size for
/// variable-length elements.
const TYPES: &[(u8, &str, Option<u8>)] = &[
    (1, "M_SP_NA_1", Some(1)),
    (2, "M_SP_TA_1", Some(4)),
    (3, "M_DP_NA_1", Some(1)),
    (4, "M_DP_TA_1", Some(4)),
    (5, "M_ST_NA_1", Some(2)),
    (6, "M_ST_TA_1", Some(5)),
    (7, "M_BO_NA_1", Some(5)),
    (8, "M_BO_TA_1", Some(8)),
    (9, "M_ME_NA_1", Some(3)),
    (10, "M_ME_TA_1", Some(6)),
    (11, "M_ME_NB_1", Some(3)),
    (12, "M_ME_TB_1", Some(6)),
    (13, "M_ME_NC_1", Some(5)),
    (14, "M_ME_TC_1", Some(8)),
    (15, "M_IT_NA_1", Some(5)),
    (16, "M_IT_TA_1", Some(8)),
    (17, "M_EP_TA_1", Some(6)),
    (18, "M_EP_TB_1", Some(7)),
    (19, "M_EP_TC_1", Some(7)),
    (20, "M_PS_NA_1", Some(5)),
    (21, "M_ME_ND_1", Some(2)),
    (30, "M_SP_TB_1", Some(8)),
    (31, "M_DP_TB_1", Some(8)),
    (32, "M_ST_TB_1", Some(9)),
    (33, "M_BO_TB_1", Some(12)),
    (34, "M_ME_TD_1", Some(10)),
    (35, "M_ME_TE_1", Some(10)),
    (36, "M_ME_TF_1", Some(12)),
    (37, "M_IT_TB_1", Some(12)),
    (38, "M_EP_TD_1", Some(10)),
    (39, "M_EP_TE_1", Some(11)),
    (40, "M_EP_TF_1", Some(11)),
    (45, "C_SC_NA_1", Some(1)),
    (46, "C_DC_NA_1", Some(1)),
    (47, "C_RC_NA_1", Some(1)),
    (48, "C_SE_NA_1", Some(3)),
    (49, "C_SE_NB_1", Some(3)),
    (50, "C_SE_NC_1", Some(5)),
    (51, "C_BO_NA_1", Some(4)),
    (58, "C_SC_TA_1", Some(8)),
    (59, "C_DC_TA_1", Some(8)),
    (60, "C_RC_TA_1", Some(8)),
    (61, "C_SE_TA_1", Some(10)),
    (62, "C_SE_TB_1", Some(10)),
    (63, "C_SE_TC_1", Some(12)),
    (64, "C_BO_TA_1", Some(11)),
    (70, "M_EI_NA_1", Some(1)),
    (100, "C_IC_NA_1", Some(1)),
    (101, "C_CI_NA_1", Some(1)),
    (102, "C_RD_NA_1", Some(0)),
    (103, "C_CS_NA_1", Some(7)),
    (104, "C_TS_NA_1", Some(2)),
    (105, "C_RP_NA_1", Some(1)),
    (106, "C_CD_NA_1", Some(2)),
    (107, "C_TS_TA_1", Some(9)),
    (110, "P_ME_NA_1", Some(3)),
    (111, "P_ME_NB_1", Some(3)),
    (112, "P_ME_NC_1", Some(5)),
    (113, "P_AC_NA_1", Some(1)),
    (120, "F_FR_NA_1", Some(6)),
    (121, "F_SR_NA_1", Some(7)),
    (122, "F_SC_NA_1", Some(4)),
    (123, "F_LS_NA_1", Some(5)),
    (124, "F_AF_NA_1", Some(4)),
    (125, "F_SG_NA_1", None),
    (126, "F_DR_TA_1", Some(13)),
    (127, "F_SC_NB_1", Some(16)),
];

impl TypeId {
    /// Single command.
    pub const C_SC_NA_1: TypeId = TypeId(45);
    /// Reset process command.
    pub const C_RP_NA_1: TypeId = TypeId(105);
    /// Read command.
    pub const C_RD_NA_1: TypeId = TypeId(102);

    fn entry(self) -> Option<&'static (u8, &'static str, Option<u8>)> {
        TYPES.iter().find(|(code, _, _)| *code == self.0)
    }

    /// The standard mnemonic (`C_SC_NA_1`…), if the type is a standard one.
    pub fn name(self) -> Option<&'static str> {
        self.entry().map(|(_, name, _)| *name)
    }

    /// Size of one information element, when the type is known and fixed-size.
    pub fn element_size(self) -> Option<usize> {
        self.entry().and_then(|(_, _, size)| size.map(usize::from))
    }
}

/// Cause of transmission (101 §7.2.3): six bits of cause plus the P/N and test bits.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Cot(pub u8);

impl Cot {
    /// Activation.
    pub const ACT: u8 = 6;
    /// Deactivation.
    pub const DEACT: u8 = 8;
    /// Request.
    pub const REQ: u8 = 5;

    /// The cause (0–63).
    pub fn cause(self) -> u8 {
        self.0 & 0x3f
    }

    /// The P/N bit (negative confirmation).
    pub fn negative(self) -> bool {
        self.0 & 0x40 != 0
    }

    /// The test bit.
    pub fn test(self) -> bool {
        self.0 & 0x80 != 0
    }

    /// Name of the cause as the zeek-iec104 analyzer spells it (`Act`, `ActCon`, `Spont`…).
    pub fn name(self) -> Option<&'static str> {
        Some(match self.cause() {
            1 => "Per_Cyc",
            2 => "Back",
            3 => "Spont",
            4 => "Init",
            5 => "Req",
            6 => "Act",
            7 => "ActCon",
            8 => "Deact",
            9 => "DeactCon",
            10 => "ActTerm",
            11 => "Retrem",
            12 => "Retloc",
            13 => "File",
            20 => "Inrogen",
            21..=36 => "Inro",
            37 => "Reqcogen",
            38..=41 => "Reqco",
            44 => "UnkType",
            45 => "UnkCause",
            46 => "UnkAsduAddr",
            47 => "UnkObjAddr",
            _ => return None,
        })
    }
}

/// A U-format function (104 §5.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct UFunction(pub u8);

impl UFunction {
    /// Name (`STARTDT_ACT`…) of a control byte with exactly one function bit set.
    pub fn name(self) -> Option<&'static str> {
        Some(match self.0 & 0xfc {
            0x04 => "STARTDT_ACT",
            0x08 => "STARTDT_CON",
            0x10 => "STOPDT_ACT",
            0x20 => "STOPDT_CON",
            0x40 => "TESTFR_ACT",
            0x80 => "TESTFR_CON",
            _ => return None,
        })
    }
}

/// The control field.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Apci {
    /// Information transfer: send and receive sequence numbers (15 bits each).
    I {
        /// N(S).
        ssn: u16,
        /// N(R).
        rsn: u16,
    },
    /// Supervisory: receive sequence number.
    S {
        /// N(R).
        rsn: u16,
    },
    /// Unnumbered control function.
    U(UFunction),
}

impl Apci {
    /// The `tag` the zeek-iec104 analyzer prints: 0 (I), 1 (S), 3 (U).
    pub fn tag(self) -> u8 {
        match self {
            Apci::I { .. } => 0,
            Apci::S { .. } => 1,
            Apci::U(_) => 3,
        }
    }
}

/// The ASDU of an I-format APDU.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Asdu<'a> {
    /// Type identification.
    pub type_id: TypeId,
    /// Structure qualifier: objects are a sequence from one base address.
    pub sq: bool,
    /// Number of objects or elements (0–127).
    pub nobj: u8,
    /// Cause of transmission.
    pub cot: Cot,
    /// Originator address.
    pub originator: u8,
    /// Common address of ASDU (station).
    pub common_address: u16,
    /// The information objects' bytes.
    pub objects: &'a [u8],
}

/// One APDU.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Apdu<'a> {
    /// The length field.
    pub length: u8,
    /// Control field.
    pub apci: Apci,
    /// The ASDU (I-format with a well-formed data unit identifier only).
    pub asdu: Option<Asdu<'a>>,
}

/// Parses one APDU (start byte, length and its bytes), returning the bytes after it.
pub fn parse_iec104_apdu(i: &[u8]) -> Result<(&[u8], Apdu<'_>), ParseError> {
    need(i, 2)?;
    let (Some(&start), Some(&length)) = (i.first(), i.get(1)) else {
        return Err(ParseError::Incomplete { needed: 2 });
    };
    if start != START {
        return Err(ParseError::Invalid(Invalid("bad_start")));
    }
    let len = usize::from(length);
    if !(MIN_APDU_LEN..=MAX_APDU_LEN).contains(&len) {
        return Err(ParseError::Invalid(Invalid("bad_length")));
    }
    need(i, 2 + len)?;
    let (Some(body), Some(rest)) = (i.get(2..2 + len), i.get(2 + len..)) else {
        return Err(ParseError::Incomplete { needed: 1 });
    };
    let (apci, asdu) = parse_iec104_body(body)?;
    Ok((rest, Apdu { length, apci, asdu }))
}

/// Parses an APDU's body (control field and ASDU) whatever the length field said: used by
/// [`parse_iec104_apdu`] and for captures whose length field disagrees with the bytes.
pub fn parse_iec104_body(body: &[u8]) -> Result<(Apci, Option<Asdu<'_>>), ParseError> {
    need(body, 4)?;
    let (Some(&c0), Some(c01), Some(c23)) = (body.first(), le_u16(body, 0), le_u16(body, 2)) else {
        return Err(ParseError::Incomplete { needed: 4 });
    };
    let apci = if c0 & 0x01 == 0 {
        Apci::I {
            ssn: c01 >> 1,
            rsn: c23 >> 1,
        }
    } else if c0 & 0x03 == 0x01 {
        Apci::S { rsn: c23 >> 1 }
    } else {
        Apci::U(UFunction(c0))
    };
    let asdu = match apci {
        Apci::I { .. } => body.get(4..).and_then(parse_asdu),
        _ => None,
    };
    Ok((apci, asdu))
}

fn parse_asdu(d: &[u8]) -> Option<Asdu<'_>> {
    let (&type_id, &vsq, &cot, &originator) = (d.first()?, d.get(1)?, d.get(2)?, d.get(3)?);
    Some(Asdu {
        type_id: TypeId(type_id),
        sq: vsq & 0x80 != 0,
        nobj: vsq & 0x7f,
        cot: Cot(cot),
        originator,
        common_address: le_u16(d, 4)?,
        objects: d.get(ASDU_HEADER_LEN..)?,
    })
}

/// One information object: its address and element bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InformationObject<'a> {
    /// Information object address (for SQ=1, the base address plus the element's index).
    pub ioa: u32,
    /// The element's bytes.
    pub element: &'a [u8],
}

impl<'a> Asdu<'a> {
    /// The information objects, when the type's element size is known (otherwise only the
    /// first address is known: see [`Asdu::first_ioa`]). Stops at the first object that does not
    /// fit.
    pub fn objects(&self) -> impl Iterator<Item = InformationObject<'a>> + 'a {
        let size = self.type_id.element_size();
        let (sq, nobj, bytes) = (self.sq, usize::from(self.nobj), self.objects);
        let base = le_u24(bytes, 0);
        (0..nobj).map_while(move |k| {
            let size = size?;
            if sq {
                let at = IOA_LEN + k * size;
                Some(InformationObject {
                    ioa: base?.checked_add(u32::try_from(k).ok()?)?,
                    element: bytes.get(at..at + size)?,
                })
            } else {
                let at = k * (IOA_LEN + size);
                Some(InformationObject {
                    ioa: le_u24(bytes, at)?,
                    element: bytes.get(at + IOA_LEN..at + IOA_LEN + size)?,
                })
            }
        })
    }

    /// The first (or base) information object address.
    pub fn first_ioa(&self) -> Option<u32> {
        le_u24(self.objects, 0)
    }

    /// Bytes after the declared objects (the zeek-iec104 analyzer's `raw_data`); all bytes
    /// after the first address when the element size is unknown.
    pub fn trailing(&self) -> &'a [u8] {
        let nobj = usize::from(self.nobj);
        let used = match self.type_id.element_size() {
            Some(size) if self.sq => IOA_LEN + nobj * size,
            Some(size) => nobj * (IOA_LEN + size),
            None => IOA_LEN,
        };
        self.objects.get(used..).unwrap_or_default()
    }

    /// Whether the declared objects need more bytes than there are.
    pub fn is_truncated(&self) -> bool {
        self.type_id.element_size().is_some() && self.objects().count() < usize::from(self.nobj)
    }
}

#[cfg(test)]
// A failed `expect` in a test is the test failing, which is what it is for.
#[allow(clippy::expect_used)]
mod tests {
    use super::*;

    /// `c_rc_na_1.test` of zeek-iec104 (cut from `iec104.pcap`): a regulating step command.
    const C_RC_NA_1: &[u8] = &[
        0x68, 0x0e, 0x0c, 0x00, 0x5a, 0x00, 0x2f, 0x01, 0x06, 0x00, 0x0a, 0x00, 0x01, 0x00, 0x00,
        0x02,
    ];

    #[test]
    fn regulating_step_command() {
        let (rest, apdu) = parse_iec104_apdu(C_RC_NA_1).expect("parses");
        assert!(rest.is_empty());
        let asdu = Asdu {
            type_id: TypeId(47),
            sq: false,
            nobj: 1,
            cot: Cot(6),
            originator: 0,
            common_address: 10,
            objects: &[0x01, 0x00, 0x00, 0x02],
        };
        assert_eq!(
            apdu,
            Apdu {
                length: 14,
                apci: Apci::I { ssn: 6, rsn: 45 },
                asdu: Some(asdu),
            }
        );
        assert_eq!(
            asdu.objects().collect::<Vec<_>>(),
            [InformationObject {
                ioa: 1,
                element: &[2]
            }]
        );
        assert!(asdu.trailing().is_empty());
    }

    #[test]
    fn s_and_u_frames_and_errors() {
        let (_, s) = parse_iec104_apdu(&[0x68, 4, 0x01, 0x00, 0x7e, 0x14]).expect("S");
        assert_eq!(s.apci, Apci::S { rsn: 2623 });
        let (_, u) = parse_iec104_apdu(&[0x68, 4, 0x07, 0, 0, 0]).expect("U");
        assert_eq!(u.apci, Apci::U(UFunction(0x07)));
        assert_eq!(UFunction(0x07).name(), Some("STARTDT_ACT"));
        assert_eq!(
            parse_iec104_apdu(&[0x69, 4]),
            Err(ParseError::Invalid(Invalid("bad_start")))
        );
        assert_eq!(
            parse_iec104_apdu(&[0x68, 2, 0, 0]),
            Err(ParseError::Invalid(Invalid("bad_length")))
        );
        assert_eq!(
            parse_iec104_apdu(&[0x68, 4, 1]),
            Err(ParseError::Incomplete { needed: 3 })
        );
    }
}

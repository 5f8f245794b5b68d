//! The IEC-104 flow state: frames each direction into APDUs and reports each I-format ASDU
//! and each U-format function as a transaction. IEC-104 has no request identifiers: commands
//! and their confirmations are related by type, address and cause, so transactions are not
//! paired; the confirmation is its own event.

use kordon_intel::ot::{OtClass, OtProtocol};

use super::log;
use super::parser::{Apci, Apdu, Cot, MAX_FRAME_LEN, TypeId, parse_iec104_apdu};
use crate::applayer::ot::FrameBuffer;
use crate::applayer::{AppParser, AppRecord, AppSink, Direction, ParseOutcome, Transaction};
use crate::observe::{Observation, OtRequest};

/// EVE `app_proto`.
pub const APP_PROTO: &str = "iec104";

/// The OT function class of a control-direction ASDU (type identifications of IEC 60870-5-101
/// §7.2.1.1, table 8 "process information in control direction" onward).
///
/// | type ids | class |
/// | --- | --- |
/// | 45–47, 58–60 single/double/regulating-step commands | operate |
/// | 48–51, 61–64 set-point and bitstring commands | write |
/// | 100 interrogation, 101 counter interrogation, 102 read, 104/107 test, 106 delay acquisition | read |
/// | 103 clock synchronisation | write |
/// | 105 reset process | restart |
/// | 110–113 parameters | write |
/// | 120–127 file transfer | file |
///
/// Monitor-direction types (1–40, 70) are not requests and have no class. Only causes that ask
/// for something (activation, deactivation, request) count: confirmations and terminations
/// repeat the command.
pub fn class_of(type_id: TypeId, cot: Cot) -> Option<OtClass> {
    if !matches!(cot.cause(), Cot::ACT | Cot::DEACT | Cot::REQ) {
        return None;
    }
    Some(match type_id.0 {
        45..=47 | 58..=60 => OtClass::Operate,
        48..=51 | 61..=64 | 103 | 110..=113 => OtClass::Write,
        100..=102 | 104 | 106 | 107 => OtClass::Read,
        105 => OtClass::Restart,
        120..=127 => OtClass::File,
        _ => return None,
    })
}

/// One reported APDU.
#[derive(Clone, Copy, Debug)]
pub struct Iec104Tx<'a> {
    /// The APDU.
    pub apdu: Apdu<'a>,
    /// Sent by the flow's originator (normally the controlling station).
    pub from_client: bool,
}

impl Iec104Tx<'_> {
    /// The OT class of the ASDU, if it is a request.
    pub fn class(&self) -> Option<OtClass> {
        self.apdu.asdu.and_then(|a| class_of(a.type_id, a.cot))
    }
}

impl Transaction for Iec104Tx<'_> {
    fn observations(&self, emit: &mut dyn FnMut(Observation<'_>)) {
        let Some(asdu) = self.apdu.asdu else {
            return;
        };
        let base = OtRequest {
            protocol: OtProtocol::Iec104,
            class: None,
            from_client: self.from_client,
            address: Some(u32::from(asdu.common_address)),
            hosts: None,
        };
        emit(base.observation());
        if let Some(class) = self.class() {
            emit(
                OtRequest {
                    class: Some(class),
                    ..base
                }
                .observation(),
            );
        }
    }

    fn record(&self) -> AppRecord {
        log::record(self)
    }
}

/// The IEC-104 parser of one flow.
#[derive(Default)]
pub struct Iec104Parser {
    buffers: [FrameBuffer; 2],
}

impl AppParser for Iec104Parser {
    fn app_proto(&self) -> &'static str {
        APP_PROTO
    }

    fn parse(&mut self, dir: Direction, data: &[u8], sink: &mut dyn AppSink) -> ParseOutcome {
        let mut buffer = std::mem::take(&mut self.buffers[dir.index()]);
        let outcome = buffer.feed(
            data,
            MAX_FRAME_LEN,
            |b| parse_iec104_apdu(b).map(|(rest, _)| b.len() - rest.len()),
            |frame| {
                let Ok((_, apdu)) = parse_iec104_apdu(frame) else {
                    return;
                };
                if let Some(asdu) = apdu.asdu {
                    if asdu.type_id.name().is_none() {
                        sink.anomaly(APP_PROTO, "unknown_type_id");
                    } else if asdu.is_truncated() {
                        sink.anomaly(APP_PROTO, "objects_truncated");
                    } else if !asdu.trailing().is_empty() {
                        sink.anomaly(APP_PROTO, "trailing_bytes");
                    }
                } else if matches!(apdu.apci, Apci::I { .. }) {
                    sink.anomaly(APP_PROTO, "asdu_truncated");
                }
                sink.transaction(&Iec104Tx {
                    apdu,
                    from_client: dir == Direction::ToServer,
                });
            },
        );
        self.buffers[dir.index()] = buffer;
        outcome.outcome(APP_PROTO, sink)
    }

    fn gap(&mut self, dir: Direction) -> ParseOutcome {
        self.buffers[dir.index()].clear();
        ParseOutcome::DoneDirection
    }
}

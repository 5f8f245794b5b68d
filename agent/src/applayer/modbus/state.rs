//! The Modbus/TCP flow state: frames each direction into ADUs, pairs responses with requests by
//! (transaction id, unit id), and reports one transaction per request (at once, so a policy
//! violation alerts even if the response never comes) and one per response (with the request
//! it answers).

use kordon_intel::ot::{OtClass, OtProtocol};

use super::log;
use super::parser::{
    Adu, FunctionCode, MAX_ADU_LEN, Mbap, Request, Response, parse_modbus_adu,
    parse_modbus_request, parse_modbus_response,
};
use crate::applayer::ot::{FrameBuffer, Pending, Push};
use crate::applayer::{AppParser, AppRecord, AppSink, Direction, ParseOutcome, Transaction};
use crate::observe::{Observation, OtRequest};

/// EVE `app_proto`.
pub const APP_PROTO: &str = "modbus";

/// Open requests per flow before the flow is flooded (Suricata's Modbus default,
/// `request-flood: 500`).
pub const MAX_OPEN_REQUESTS: usize = 500;

/// The OT function class of a Modbus request (Application Protocol V1.1b3 §6; vendor codes
/// from Zeek's `consts.zeek` and Schneider's UMAS documentation).
///
/// | codes | class |
/// | --- | --- |
/// | 1–4 read coils/inputs/registers, 7 exception status, 11/12 comm event counter/log, 17 report server id, 24 FIFO, 43 MEI | read |
/// | 5, 6, 15, 16 writes; 22 mask write; 23 read/write | write |
/// | 8 diagnostics: sub-function 1 "restart communications option" | restart |
/// | 8 diagnostics: sub-function 4 "force listen only mode" | stop |
/// | 8 diagnostics: sub-function 10 "clear counters", 20 "clear overrun counter" | write |
/// | 8 diagnostics: any other sub-function | read |
/// | 19 reset comm link (884/U84) | restart |
/// | 20/21 read/write file record | file |
/// | 9, 13, 18, 40, 90 (UMAS), 125 (firmware), 126 program functions | program |
pub fn class_of(function: FunctionCode, request: &Request<'_>) -> Option<OtClass> {
    Some(match function.0 {
        0x01..=0x04 | 0x07 | 0x0B | 0x0C | 0x11 | 0x18 | 0x2B => OtClass::Read,
        0x05 | 0x06 | 0x0F | 0x10 | 0x16 | 0x17 => OtClass::Write,
        0x08 => match request {
            Request::Diagnostic { subfunction: 1, .. } => OtClass::Restart,
            Request::Diagnostic { subfunction: 4, .. } => OtClass::Stop,
            Request::Diagnostic {
                subfunction: 10 | 20,
                ..
            } => OtClass::Write,
            _ => OtClass::Read,
        },
        0x13 => OtClass::Restart,
        0x14 | 0x15 => OtClass::File,
        0x09 | 0x0D | 0x12 | 0x28 | 0x5A | 0x7D | 0x7E => OtClass::Program,
        _ => return None,
    })
}

/// What the EVE record keeps of a request (owned, `Copy`: it waits in the pending queue).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RequestInfo {
    /// Header.
    pub mbap: Mbap,
    /// Function.
    pub function: FunctionCode,
    /// Class.
    pub class: Option<OtClass>,
    /// Read range (address, quantity).
    pub read: Option<(u16, u16)>,
    /// Write range (address, quantity or value).
    pub write: Option<(u16, u16)>,
    /// Diagnostics sub-function.
    pub subfunction: Option<u16>,
    /// MEI type.
    pub mei_type: Option<u8>,
}

impl RequestInfo {
    fn of(adu: &Adu<'_>) -> RequestInfo {
        let request = parse_modbus_request(adu.function, adu.data);
        let mut info = RequestInfo {
            mbap: adu.mbap,
            function: adu.function,
            class: class_of(adu.function, &request),
            read: None,
            write: None,
            subfunction: None,
            mei_type: None,
        };
        match request {
            Request::Read { address, quantity } => info.read = Some((address, quantity)),
            Request::WriteSingle { address, value } => info.write = Some((address, value)),
            Request::WriteMultiple {
                address, quantity, ..
            } => info.write = Some((address, quantity)),
            Request::MaskWrite { address, .. } => info.write = Some((address, 1)),
            Request::ReadWrite {
                read_address,
                read_quantity,
                write_address,
                write_quantity,
                ..
            } => {
                info.read = Some((read_address, read_quantity));
                info.write = Some((write_address, write_quantity));
            }
            Request::Diagnostic { subfunction, .. } => info.subfunction = Some(subfunction),
            Request::Mei { mei_type, .. } => info.mei_type = Some(mei_type),
            Request::Unparsed(_) => {}
        }
        info
    }
}

/// What the EVE record keeps of a response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ResponseInfo<'a> {
    /// Header.
    pub mbap: Mbap,
    /// Function (with the exception bit when it is one).
    pub function: FunctionCode,
    /// Decoded body.
    pub body: Response<'a>,
}

/// One reported Modbus transaction.
#[derive(Clone, Copy, Debug)]
pub struct ModbusTx<'a> {
    /// Per-flow transaction number, from 1 (EVE `modbus.id`); a response carries its request's.
    pub id: u64,
    /// The request (absent for a response nobody asked for).
    pub request: Option<RequestInfo>,
    /// The response (absent when the request is reported).
    pub response: Option<ResponseInfo<'a>>,
}

impl Transaction for ModbusTx<'_> {
    fn observations(&self, emit: &mut dyn FnMut(Observation<'_>)) {
        // Only requests are policy events; a response repeats what was already judged.
        if self.response.is_some() {
            return;
        }
        if let Some(request) = &self.request {
            let base = OtRequest {
                protocol: OtProtocol::Modbus,
                class: None,
                from_client: true,
                address: Some(u32::from(request.mbap.unit_id)),
                hosts: None,
            };
            emit(base.observation());
            if let Some(class) = request.class {
                emit(
                    OtRequest {
                        class: Some(class),
                        ..base
                    }
                    .observation(),
                );
            }
        }
    }

    fn record(&self) -> AppRecord {
        log::record(self)
    }
}

/// The Modbus parser of one flow.
pub struct ModbusParser {
    buffers: [FrameBuffer; 2],
    pending: Pending<(u64, RequestInfo)>,
    next_id: u64,
}

impl Default for ModbusParser {
    fn default() -> Self {
        ModbusParser {
            buffers: [FrameBuffer::default(), FrameBuffer::default()],
            pending: Pending::new(MAX_OPEN_REQUESTS),
            next_id: 0,
        }
    }
}

impl ModbusParser {
    fn adu(&mut self, dir: Direction, bytes: &[u8], sink: &mut dyn AppSink) {
        let Ok((_, adu)) = parse_modbus_adu(bytes) else {
            return;
        };
        match dir {
            Direction::ToServer => {
                let info = RequestInfo::of(&adu);
                if info.class.is_none() {
                    sink.anomaly(APP_PROTO, "unknown_function");
                }
                self.next_id += 1;
                let id = self.next_id;
                match self.pending.push((id, info)) {
                    Push::Queued | Push::Dropped => {}
                    Push::Flooded => sink.anomaly(APP_PROTO, "flooded"),
                }
                sink.transaction(&ModbusTx {
                    id,
                    request: Some(info),
                    response: None,
                });
            }
            Direction::ToClient => {
                let response = ResponseInfo {
                    mbap: adu.mbap,
                    function: adu.function,
                    body: parse_modbus_response(adu.function, adu.data),
                };
                let (tid, unit) = (adu.mbap.transaction_id, adu.mbap.unit_id);
                let paired = self
                    .pending
                    .take(|(_, r)| r.mbap.transaction_id == tid && r.mbap.unit_id == unit);
                let (id, request) = match paired {
                    Some((id, request)) => {
                        if request.function.0 != adu.function.base().0 {
                            sink.anomaly(APP_PROTO, "function_mismatch");
                        }
                        (id, Some(request))
                    }
                    None => {
                        sink.anomaly(APP_PROTO, "unsolicited_response");
                        self.next_id += 1;
                        (self.next_id, None)
                    }
                };
                sink.transaction(&ModbusTx {
                    id,
                    request,
                    response: Some(response),
                });
            }
        }
    }
}

impl AppParser for ModbusParser {
    fn app_proto(&self) -> &'static str {
        APP_PROTO
    }

    fn parse(&mut self, dir: Direction, data: &[u8], sink: &mut dyn AppSink) -> ParseOutcome {
        let mut buffer = std::mem::take(&mut self.buffers[dir.index()]);
        let outcome = buffer.feed(
            data,
            MAX_ADU_LEN,
            |b| parse_modbus_adu(b).map(|(rest, _)| b.len() - rest.len()),
            |frame| self.adu(dir, frame, sink),
        );
        self.buffers[dir.index()] = buffer;
        outcome.outcome(APP_PROTO, sink)
    }

    fn gap(&mut self, dir: Direction) -> ParseOutcome {
        // ADUs carry no sync marker: after lost bytes the stream cannot be re-framed.
        self.buffers[dir.index()].clear();
        ParseOutcome::DoneDirection
    }
}

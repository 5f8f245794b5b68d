//! The S7comm flow state: frames each direction into TPKT packets, reports every COTP TPDU
//! (a `cotp` record, as ICSNPP's cotp.log), reassembles DT fragments into S7 PDUs, and reports
//! every S7 PDU (a `s7comm` record, as ICSNPP's s7comm.log). Jobs and userdata requests are
//! paired with their acknowledgements by PDU reference. S7comm-plus (protocol id 0x72) is
//! counted (`s7comm_plus` anomaly) and logged as a marker, not decoded.

use kordon_intel::ot::{OtClass, OtProtocol};

use super::log;
use super::parser::{
    Cotp, CotpType, Function, MAX_S7_PDU_LEN, MAX_TPKT_LEN, Param, ParseError, Rosctr,
    S7COMM_PLUS_ID, S7Pdu, parse_s7_cotp, parse_s7_pdu, parse_s7_tpkt,
};
use crate::applayer::ot::{FrameBuffer, Pending, Push};
use crate::applayer::{AppParser, AppRecord, AppSink, Direction, ParseOutcome, Transaction};
use crate::observe::{Observation, OtRequest};

/// EVE `app_proto`.
pub const APP_PROTO: &str = "s7comm";

/// Open jobs per flow before the flow is flooded. S7 CPUs negotiate at most a few parallel
/// jobs ("max AmQ calling", typically 1–8, in Setup Communication); 256 unanswered jobs is far
/// beyond any real client (Suricata's template default `max-tx`).
pub const MAX_OPEN_REQUESTS: usize = 256;

/// The OT function class of an S7 request (function codes and userdata groups as in
/// Wireshark's `packet-s7comm.c` and ICSNPP-S7comm's `consts.zeek`).
///
/// | request | class |
/// | --- | --- |
/// | job 0x04 Read Variable | read |
/// | job 0x05 Write Variable | write |
/// | job 0x1a Request Download, 0x1b Download Block, 0x1c Download Ended | program |
/// | job 0x1d Start Upload, 0x1e Upload, 0x1f End Upload (reading a block out of the PLC) | file |
/// | job 0x28 PLC Control: PI `P_PROGRAM` (start) | restart |
/// | job 0x28 PLC Control: PI `_INSE`, `_DELE`, `_MODU`, `_GARB` (block and memory management) | program |
/// | job 0x28 PLC Control: any other PI service | operate |
/// | job 0x29 PLC Stop | stop |
/// | userdata group 1 programmer commands: VarTab (0x02), Erase (0x10), Forces (0x11) | write |
/// | userdata groups 1 (other), 2 cyclic data, 3 block functions, 4 CPU functions (SZL, alarms) | read |
/// | userdata group 5 security (password), 6 PBC BSEND/BRECV | write |
/// | userdata group 7 time: Read Clock (0x01, 0x03) | read |
/// | userdata group 7 time: Set Clock (0x02, 0x04) | write |
/// | userdata group 0xf NC programming | program |
///
/// Setup Communication (0xf0) and CPU services (0x00) are session housekeeping: no class.
pub fn class_of(pdu: &S7Pdu<'_>) -> Option<OtClass> {
    match (pdu.rosctr, pdu.param) {
        (
            Rosctr::JOB,
            Param::Function {
                function,
                pi_service,
            },
        ) => Some(match function.0 {
            0x04 => OtClass::Read,
            0x05 => OtClass::Write,
            0x1a..=0x1c => OtClass::Program,
            0x1d..=0x1f => OtClass::File,
            0x28 => match pi_service {
                Some(b"P_PROGRAM") => OtClass::Restart,
                Some(b"_INSE" | b"_DELE" | b"_MODU" | b"_GARB") => OtClass::Program,
                _ => OtClass::Operate,
            },
            0x29 => OtClass::Stop,
            _ => return None,
        }),
        (Rosctr::USERDATA, Param::Userdata(u)) if u.kind() == 0x4 => {
            Some(match (u.group(), u.subfunction) {
                (0x1, 0x02 | 0x10 | 0x11) => OtClass::Write,
                (0x1..=0x4, _) => OtClass::Read,
                (0x5 | 0x6, _) => OtClass::Write,
                (0x7, 0x01 | 0x03) => OtClass::Read,
                (0x7, _) => OtClass::Write,
                (0xf, _) => OtClass::Program,
                _ => return None,
            })
        }
        _ => None,
    }
}

/// Whether an S7 PDU asks for something (a job, or a userdata request).
fn is_request(pdu: &S7Pdu<'_>) -> bool {
    match (pdu.rosctr, pdu.param) {
        (Rosctr::JOB, _) => true,
        (Rosctr::USERDATA, Param::Userdata(u)) => u.kind() == 0x4,
        _ => false,
    }
}

/// What a transaction reports.
#[derive(Clone, Copy, Debug)]
pub enum S7Message<'a> {
    /// A COTP TPDU (one `cotp` record per TPDU).
    Cotp(Cotp<'a>),
    /// An S7comm PDU.
    Pdu {
        /// Per-flow number; an acknowledgement carries its job's.
        id: u64,
        /// The PDU.
        pdu: S7Pdu<'a>,
    },
    /// An S7comm-plus PDU, not decoded.
    Plus {
        /// Its length.
        len: usize,
    },
}

/// One reported COTP TPDU or S7 PDU.
#[derive(Clone, Copy, Debug)]
pub struct S7Tx<'a> {
    /// What.
    pub message: S7Message<'a>,
    /// Sent by the flow's originator.
    pub from_client: bool,
}

impl S7Tx<'_> {
    /// Whether the PDU continues a split userdata exchange ([`super::parser::Userdata::is_continuation`]):
    /// matched, but not logged as its own event.
    pub fn is_continuation(&self) -> bool {
        matches!(
            self.message,
            S7Message::Pdu {
                pdu: S7Pdu {
                    param: Param::Userdata(u),
                    ..
                },
                ..
            } if u.is_continuation()
        )
    }

    /// The OT class of a request.
    pub fn class(&self) -> Option<OtClass> {
        match &self.message {
            S7Message::Pdu { pdu, .. } => class_of(pdu),
            _ => None,
        }
    }
}

impl Transaction for S7Tx<'_> {
    fn observations(&self, emit: &mut dyn FnMut(Observation<'_>)) {
        let S7Message::Pdu { pdu, .. } = &self.message else {
            return;
        };
        if !is_request(pdu) {
            return;
        }
        // S7 addresses a PLC by rack and slot in the COTP TSAP, not per request: no address.
        let base = OtRequest {
            protocol: OtProtocol::S7comm,
            class: None,
            from_client: self.from_client,
            address: None,
            hosts: None,
        };
        emit(base.observation());
        if let Some(class) = class_of(pdu) {
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

    fn logged(&self) -> bool {
        !self.is_continuation()
    }
}

/// The S7comm parser of one flow.
pub struct S7Parser {
    buffers: [FrameBuffer; 2],
    fragments: [Vec<u8>; 2],
    pending: Pending<(u64, u16)>,
    next_id: u64,
}

impl Default for S7Parser {
    fn default() -> Self {
        S7Parser {
            buffers: [FrameBuffer::default(), FrameBuffer::default()],
            fragments: [Vec::new(), Vec::new()],
            pending: Pending::new(MAX_OPEN_REQUESTS),
            next_id: 0,
        }
    }
}

impl S7Parser {
    fn tpkt(&mut self, dir: Direction, bytes: &[u8], sink: &mut dyn AppSink) {
        let Ok((_, tpkt)) = parse_s7_tpkt(bytes) else {
            return;
        };
        let cotp = match parse_s7_cotp(tpkt.tpdu) {
            Ok(cotp) => cotp,
            Err(ParseError::Invalid(why)) => return sink.anomaly(APP_PROTO, why.0),
            Err(ParseError::Incomplete { .. }) => {
                return sink.anomaly(APP_PROTO, "bad_cotp_length");
            }
        };
        if cotp.pdu_type.name().is_none() {
            sink.anomaly(APP_PROTO, "unknown_cotp_type");
        }
        let from_client = dir == Direction::ToServer;
        sink.transaction(&S7Tx {
            message: S7Message::Cotp(cotp),
            from_client,
        });
        if cotp.pdu_type != CotpType::DT {
            return;
        }
        let fragments = &mut self.fragments[dir.index()];
        if !cotp.eot {
            if fragments.len() + cotp.payload.len() > MAX_S7_PDU_LEN {
                sink.anomaly(APP_PROTO, "pdu_too_long");
                *fragments = Vec::new();
            } else {
                fragments.extend_from_slice(cotp.payload);
            }
            return;
        }
        if fragments.is_empty() {
            self.payload(dir, cotp.payload, sink);
        } else {
            let mut whole = std::mem::take(fragments);
            if whole.len() + cotp.payload.len() > MAX_S7_PDU_LEN {
                sink.anomaly(APP_PROTO, "pdu_too_long");
                return;
            }
            whole.extend_from_slice(cotp.payload);
            self.payload(dir, &whole, sink);
            whole.clear();
            self.fragments[dir.index()] = whole;
        }
    }

    fn payload(&mut self, dir: Direction, bytes: &[u8], sink: &mut dyn AppSink) {
        let from_client = dir == Direction::ToServer;
        if bytes.first() == Some(&S7COMM_PLUS_ID) {
            sink.anomaly(APP_PROTO, "s7comm_plus");
            sink.transaction(&S7Tx {
                message: S7Message::Plus { len: bytes.len() },
                from_client,
            });
            return;
        }
        if bytes.is_empty() {
            return;
        }
        let pdu = match parse_s7_pdu(bytes) {
            Ok(pdu) => pdu,
            Err(ParseError::Invalid(why)) => return sink.anomaly(APP_PROTO, why.0),
            Err(ParseError::Incomplete { .. }) => return sink.anomaly(APP_PROTO, "bad_s7_length"),
        };
        if pdu.rosctr.name().is_none() {
            sink.anomaly(APP_PROTO, "unknown_rosctr");
        }
        if let Param::Function { function, .. } = pdu.param
            && function.name().is_none()
        {
            sink.anomaly(APP_PROTO, "unknown_function");
        }
        let reference = pdu.pdu_reference;
        let id = if is_request(&pdu) {
            self.next_id += 1;
            match self.pending.push((self.next_id, reference)) {
                Push::Queued | Push::Dropped => {}
                Push::Flooded => sink.anomaly(APP_PROTO, "flooded"),
            }
            self.next_id
        } else {
            match self.pending.take(|&(_, r)| r == reference) {
                Some((id, _)) => id,
                None => {
                    self.next_id += 1;
                    self.next_id
                }
            }
        };
        if matches!(
            pdu.param,
            Param::Function {
                function: Function::PLC_STOP,
                ..
            }
        ) && pdu.rosctr == Rosctr::JOB
        {
            sink.anomaly(APP_PROTO, "plc_stop");
        }
        sink.transaction(&S7Tx {
            message: S7Message::Pdu { id, pdu },
            from_client,
        });
    }
}

impl AppParser for S7Parser {
    fn app_proto(&self) -> &'static str {
        APP_PROTO
    }

    fn parse(&mut self, dir: Direction, data: &[u8], sink: &mut dyn AppSink) -> ParseOutcome {
        let mut buffer = std::mem::take(&mut self.buffers[dir.index()]);
        let outcome = buffer.feed(
            data,
            MAX_TPKT_LEN,
            |b| parse_s7_tpkt(b).map(|(rest, _)| b.len() - rest.len()),
            |frame| self.tpkt(dir, frame, sink),
        );
        self.buffers[dir.index()] = buffer;
        outcome.outcome(APP_PROTO, sink)
    }

    fn gap(&mut self, dir: Direction) -> ParseOutcome {
        // TPKT's 0x03 0x00 is too weak a marker to resynchronise on.
        self.buffers[dir.index()].clear();
        self.fragments[dir.index()].clear();
        ParseOutcome::DoneDirection
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default)]
    struct Recorder {
        records: Vec<AppRecord>,
        anomalies: Vec<&'static str>,
        requests: usize,
    }

    impl AppSink for Recorder {
        fn transaction(&mut self, tx: &dyn Transaction) {
            let mut n = 0;
            tx.observations(&mut |_| n += 1);
            self.records.push(tx.record());
            self.requests += usize::from(n > 0);
        }
        fn anomaly(&mut self, _: &'static str, kind: &'static str) {
            self.anomalies.push(kind);
        }
    }

    fn dt(payload: &[u8], eot: bool) -> Vec<u8> {
        let len = (payload.len() + 7) as u16;
        let mut v = vec![3, 0];
        v.extend_from_slice(&len.to_be_bytes());
        v.extend_from_slice(&[2, 0xf0, if eot { 0x80 } else { 0 }]);
        v.extend_from_slice(payload);
        v
    }

    #[test]
    fn stop_job_fragmented_and_acked() {
        let mut p = S7Parser::default();
        let mut sink = Recorder::default();
        // PLC Stop job (pdu ref 7) in two DT fragments, the TPKT split across chunks.
        let job = [
            0x32, 0x01, 0, 0, 0, 7, 0, 16, 0, 0, 0x29, 0, 0, 0, 0, 0, 9, b'P', b'_', b'P', b'R',
            b'O', b'G', b'R', b'A', b'M',
        ];
        let mut stream = dt(&job[..6], false);
        stream.extend(dt(&job[6..], true));
        let (a, b) = stream.split_at(5);
        p.parse(Direction::ToServer, a, &mut sink);
        p.parse(Direction::ToServer, b, &mut sink);
        let ack = [0x32, 0x03, 0, 0, 0, 7, 0, 1, 0, 0, 0, 0, 0x29];
        p.parse(Direction::ToClient, &dt(&ack, true), &mut sink);
        let s7: Vec<&serde_json::Value> = sink
            .records
            .iter()
            .filter(|r| r.app_proto == "s7comm")
            .map(|r| &r.fields)
            .collect();
        let cotp = sink
            .records
            .iter()
            .filter(|r| r.app_proto == "cotp")
            .count();
        assert_eq!(cotp, 3);
        assert_eq!(s7.len(), 2);
        assert_eq!(s7[0]["function_code"], "0x29");
        assert_eq!(s7[0]["function_name"], "PLC Stop");
        assert_eq!(s7[0]["class"], "stop");
        assert_eq!(s7[1]["rosctr_name"], "ACK-Data");
        assert_eq!(s7[1]["error_code"], "0x00");
        assert_eq!(s7[1]["id"], s7[0]["id"]);
        assert_eq!(sink.anomalies, vec!["plc_stop"]);
        assert_eq!(sink.requests, 1);
    }

    #[test]
    fn s7comm_plus_is_counted() {
        let mut p = S7Parser::default();
        let mut sink = Recorder::default();
        p.parse(
            Direction::ToServer,
            &dt(&[0x72, 0x01, 0x00, 0x10, 0x31], true),
            &mut sink,
        );
        assert_eq!(sink.anomalies, vec!["s7comm_plus"]);
        assert_eq!(sink.records[1].fields["s7comm_plus"], true);
        assert_eq!(
            p.parse(Direction::ToServer, &[4, 0, 0, 9], &mut sink),
            ParseOutcome::DoneDirection
        );
    }
}

//! The DNP3 flow state: frames each direction into link frames (resynchronising on the start
//! octets after junk or a gap), checks the CRCs, reassembles transport segments into
//! application messages, pairs responses with requests, and reports one transaction per
//! request (at once, so a policy violation alerts even if no response comes) and one per
//! response or unsolicited response.
//!
//! Request or response is decided by the application function code (responses are 129–131
//! and carry IIN), not by the TCP direction: DNP3 outstations often open the connection
//! themselves, so the master is not always the TCP client.

use kordon_intel::ot::{OtClass, OtProtocol};

use super::log;
use super::parser::{
    Application, FunctionCode, LinkHeader, MAX_FRAME_LEN, ObjectsEnd, ParseError, START,
    TransportHeader, parse_dnp3_application, parse_dnp3_frame, parse_dnp3_objects,
};
use crate::applayer::ot::{FrameBuffer, Pending, Push};
use crate::applayer::{AppParser, AppRecord, AppSink, Direction, ParseOutcome, Transaction};
use crate::observe::{Observation, OtRequest};

/// EVE `app_proto`.
pub const APP_PROTO: &str = "dnp3";

/// Open requests per flow before the flow is flooded: Suricata's `app-layer.protocols.dnp3
/// .max-tx` default of 32 (since 7.0.14; suricata-verify `dnp3-flood` expects the flood event
/// at the 33rd unanswered request).
pub const MAX_OPEN_REQUESTS: usize = 32;

/// Transport payload octets per segment: 250 user octets minus the transport header.
pub const MAX_SEGMENT_PAYLOAD: usize = 249;

/// Largest reassembled application message: 64 maximum-size segments. The transport sequence
/// number has 6 bits (IEEE 1815-2012 §8.2.1.3), so a longer message cannot be told apart from
/// a wrapped sequence; Suricata raises `too_long_reassembly` at the same order of magnitude
/// (63 × 255 octets).
pub const MAX_MESSAGE_LEN: usize = 64 * MAX_SEGMENT_PAYLOAD;

/// The OT function class of a DNP3 request (IEEE 1815-2012 §4.2.2.5, Table 4-2 "request
/// function codes").
///
/// | codes | class |
/// | --- | --- |
/// | 1 READ, 23 DELAY_MEASURE, 24 RECORD_CURRENT_TIME, 28 GET_FILE_INFO¹ | read |
/// | 2 WRITE, 7–12 freeze (and clear) counters, 15 INITIALIZE_DATA, 20/21 ENABLE/DISABLE_UNSOLICITED, 22 ASSIGN_CLASS | write |
/// | 3 SELECT, 4 OPERATE, 5 DIRECT_OPERATE, 6 DIRECT_OPERATE_NR (§4.4.3–4.4.6 control) | operate |
/// | 13 COLD_RESTART, 14 WARM_RESTART, 16 INITIALIZE_APPL, 17 START_APPL | restart |
/// | 18 STOP_APPL | stop |
/// | 19 SAVE_CONFIG, 31 ACTIVATE_CONFIG | program |
/// | 25 OPEN_FILE, 26 CLOSE_FILE, 27 DELETE_FILE, 29 AUTHENTICATE_FILE, 30 ABORT_FILE (§4.4.13 file transfer) | file |
///
/// ¹ GET_FILE_INFO is file management, so it is `file` too. CONFIRM (0) and the secure
/// authentication functions (32, 33) are protocol housekeeping, not requests with a class;
/// responses (129–131) are never requests.
pub fn class_of(function: FunctionCode) -> Option<OtClass> {
    Some(match function.0 {
        1 | 23 | 24 => OtClass::Read,
        2 | 7..=12 | 15 | 20..=22 => OtClass::Write,
        3..=6 => OtClass::Operate,
        13 | 14 | 16 | 17 => OtClass::Restart,
        18 => OtClass::Stop,
        19 | 31 => OtClass::Program,
        25..=30 => OtClass::File,
        _ => return None,
    })
}

/// Request functions that expect no response (§4.2.2.5: the `_NR` functions and
/// AUTH_REQ_NO_ACK): they are not queued for pairing.
fn expects_response(function: FunctionCode) -> bool {
    !matches!(function.0, 0 | 6 | 8 | 10 | 12 | 33)
}

/// What kind of message a transaction is, by Suricata's `dnp3.type`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MessageKind {
    /// A request (function below 129).
    Request,
    /// A solicited response (129, 131).
    Response,
    /// An unsolicited response (130).
    UnsolicitedResponse,
}

impl MessageKind {
    /// Suricata's name.
    pub fn as_str(self) -> &'static str {
        match self {
            MessageKind::Request => "request",
            MessageKind::Response => "response",
            MessageKind::UnsolicitedResponse => "unsolicited_response",
        }
    }
}

/// One reported application message.
#[derive(Clone, Copy, Debug)]
pub struct Dnp3Tx<'a> {
    /// Per-flow transaction number from 1; a response carries its request's.
    pub id: u64,
    /// Request, response or unsolicited response.
    pub kind: MessageKind,
    /// The link header of the message's first frame.
    pub link: LinkHeader,
    /// The application message.
    pub app: Application<'a>,
    /// Whether every object header was walked (Suricata's `complete`).
    pub complete: bool,
    /// Sent by the flow's originator.
    pub from_client: bool,
}

impl Dnp3Tx<'_> {
    /// The OT class of a request.
    pub fn class(&self) -> Option<OtClass> {
        match self.kind {
            MessageKind::Request => class_of(self.app.function),
            _ => None,
        }
    }
}

impl Transaction for Dnp3Tx<'_> {
    fn observations(&self, emit: &mut dyn FnMut(Observation<'_>)) {
        // Only requests are policy events; responses repeat what was judged, and unsolicited
        // responses report data, they ask for nothing.
        if self.kind != MessageKind::Request {
            return;
        }
        let base = OtRequest {
            protocol: OtProtocol::Dnp3,
            class: None,
            from_client: self.from_client,
            address: Some(u32::from(self.link.destination)),
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

/// An open request awaiting its response.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct OpenRequest {
    id: u64,
    source: u16,
    destination: u16,
    seq: u8,
}

/// One direction's transport reassembly.
#[derive(Debug, Default)]
struct Reassembly {
    active: bool,
    link: Option<LinkHeader>,
    next_seq: u8,
    buffer: Vec<u8>,
}

/// The DNP3 parser of one flow (TCP or UDP).
pub struct Dnp3Parser {
    udp: bool,
    buffers: [FrameBuffer; 2],
    reassembly: [Reassembly; 2],
    pending: Pending<OpenRequest>,
    next_id: u64,
}

impl Dnp3Parser {
    /// A parser for a TCP stream (`udp == false`) or UDP datagrams.
    pub fn new(udp: bool) -> Self {
        Dnp3Parser {
            udp,
            buffers: [FrameBuffer::default(), FrameBuffer::default()],
            reassembly: [Reassembly::default(), Reassembly::default()],
            pending: Pending::new(MAX_OPEN_REQUESTS),
            next_id: 0,
        }
    }
}

/// Octets of junk before the next possible frame start (at least 1): up to the next 0x05 0x64,
/// keeping a trailing 0x05 that may start a frame in the next chunk.
fn junk_len(b: &[u8]) -> usize {
    let next = b.windows(2).skip(1).position(|w| w == START).map(|p| p + 1);
    match next {
        Some(p) => p,
        None if b.len() > 1 && b.last() == Some(&0x05) => b.len() - 1,
        None => b.len(),
    }
    .max(1)
}

/// Frame length for [`FrameBuffer`]: a whole frame, or a run of junk to skip (reported when
/// the callback fails to parse it as a frame).
fn frame_or_junk(b: &[u8]) -> Result<usize, ParseError> {
    match parse_dnp3_frame(b) {
        Ok((rest, _)) => Ok(b.len() - rest.len()),
        Err(ParseError::Incomplete { needed }) => Err(ParseError::Incomplete { needed }),
        Err(ParseError::Invalid(_)) => Ok(junk_len(b)),
    }
}

impl Dnp3Parser {
    fn frame(&mut self, dir: Direction, bytes: &[u8], sink: &mut dyn AppSink) {
        let frame = match parse_dnp3_frame(bytes) {
            Ok((_, frame)) => frame,
            Err(ParseError::Invalid(why)) => {
                // Junk before a frame (a banner, bytes after a gap) or a corrupt header:
                // skipped up to the next start octets.
                let kind = if why.0 == "bad_start" {
                    "junk_bytes"
                } else {
                    why.0
                };
                sink.anomaly(APP_PROTO, kind);
                return;
            }
            Err(ParseError::Incomplete { .. }) => return,
        };
        let header = frame.header;
        if !header.control.is_user_data() {
            // Link-layer service frames (reset, link status, ACK/NACK) carry no message.
            return;
        }
        if usize::from(header.length) < super::parser::LENGTH_HEADER_OCTETS + 1 {
            sink.anomaly(APP_PROTO, "len_too_small");
            return;
        }
        if !frame.blocks_ok() {
            // The receiving station discards such a frame (§9.2.5.2): so do we, and say so.
            sink.anomaly(APP_PROTO, "bad_transport_crc");
            return;
        }
        let mut user = frame.user_data();
        let first = user.next().unwrap_or_default();
        let Some((&th, first)) = first.split_first() else {
            sink.anomaly(APP_PROTO, "len_too_small");
            return;
        };
        let th = TransportHeader(th);
        let r = &mut self.reassembly[dir.index()];
        if th.fir() {
            if r.active {
                sink.anomaly(APP_PROTO, "message_interrupted");
            }
            r.active = true;
            r.link = Some(header);
            r.buffer.clear();
        } else {
            let same_link = r
                .link
                .is_some_and(|l| l.source == header.source && l.destination == header.destination);
            if !r.active || !same_link || th.seq() != r.next_seq {
                sink.anomaly(APP_PROTO, "unexpected_segment");
                r.active = false;
                r.buffer.clear();
                return;
            }
        }
        r.next_seq = (th.seq() + 1) % 64;
        let payload_len = first.len() + user.clone().map(<[u8]>::len).sum::<usize>();
        if r.buffer.len() + payload_len > MAX_MESSAGE_LEN {
            sink.anomaly(APP_PROTO, "too_long_reassembly");
            r.active = false;
            r.buffer = Vec::new();
            return;
        }
        r.buffer.extend_from_slice(first);
        for block in user {
            r.buffer.extend_from_slice(block);
        }
        if !th.fin() {
            return;
        }
        r.active = false;
        let message = std::mem::take(&mut r.buffer);
        if let Some(link) = r.link {
            self.message(dir, link, &message, sink);
        }
        let r = &mut self.reassembly[dir.index()];
        r.buffer = message;
        r.buffer.clear();
    }

    fn message(&mut self, dir: Direction, link: LinkHeader, bytes: &[u8], sink: &mut dyn AppSink) {
        let Ok(app) = parse_dnp3_application(bytes) else {
            sink.anomaly(APP_PROTO, "len_too_small");
            return;
        };
        if app.function == FunctionCode::CONFIRM {
            // Confirmations acknowledge a fragment; Suricata makes no transaction of them.
            return;
        }
        let headers_only = !app.function.is_response() && app.function.request_headers_only();
        let mut objects = parse_dnp3_objects(app.objects, headers_only);
        objects.by_ref().for_each(drop);
        let complete = objects.end() == Some(ObjectsEnd::Complete);
        match objects.end() {
            Some(ObjectsEnd::UnknownObject) => sink.anomaly(APP_PROTO, "unknown_object"),
            Some(ObjectsEnd::Truncated) => sink.anomaly(APP_PROTO, "objects_truncated"),
            Some(ObjectsEnd::BadRange) => sink.anomaly(APP_PROTO, "malformed"),
            Some(ObjectsEnd::Complete) | None => {}
        }
        let from_client = dir == Direction::ToServer;
        let (id, kind) = if !app.function.is_response() {
            if app.function.name().is_none() {
                sink.anomaly(APP_PROTO, "unknown_function");
            }
            self.next_id += 1;
            let id = self.next_id;
            if expects_response(app.function) {
                let open = OpenRequest {
                    id,
                    source: link.source,
                    destination: link.destination,
                    seq: app.control.seq(),
                };
                match self.pending.push(open) {
                    Push::Queued | Push::Dropped => {}
                    Push::Flooded => sink.anomaly(APP_PROTO, "flooded"),
                }
            }
            (id, MessageKind::Request)
        } else if app.function == FunctionCode::UNSOLICITED_RESPONSE {
            self.next_id += 1;
            (self.next_id, MessageKind::UnsolicitedResponse)
        } else {
            let seq = app.control.seq();
            let paired = self.pending.take(|r| {
                r.source == link.destination && r.destination == link.source && r.seq == seq
            });
            let id = match paired {
                Some(request) => request.id,
                None => {
                    sink.anomaly(APP_PROTO, "unmatched_response");
                    self.next_id += 1;
                    self.next_id
                }
            };
            (id, MessageKind::Response)
        };
        sink.transaction(&Dnp3Tx {
            id,
            kind,
            link,
            app,
            complete,
            from_client,
        });
    }
}

impl AppParser for Dnp3Parser {
    fn app_proto(&self) -> &'static str {
        APP_PROTO
    }

    fn parse(&mut self, dir: Direction, data: &[u8], sink: &mut dyn AppSink) -> ParseOutcome {
        if self.udp {
            // A datagram holds whole frames; nothing carries over to the next one.
            let mut rest = data;
            while !rest.is_empty() {
                match frame_or_junk(rest) {
                    Ok(len) => {
                        let (frame, next) = rest.split_at(len.clamp(1, rest.len()));
                        self.frame(dir, frame, sink);
                        rest = next;
                    }
                    Err(_) => {
                        sink.anomaly(APP_PROTO, "truncated_frame");
                        break;
                    }
                }
            }
            return ParseOutcome::Continue;
        }
        let mut buffer = std::mem::take(&mut self.buffers[dir.index()]);
        let outcome = buffer.feed(data, MAX_FRAME_LEN, frame_or_junk, |frame| {
            self.frame(dir, frame, sink)
        });
        self.buffers[dir.index()] = buffer;
        outcome.outcome(APP_PROTO, sink)
    }

    fn gap(&mut self, dir: Direction) -> ParseOutcome {
        // Frames start with 0x05 0x64 and a header CRC: resynchronise on the next one. The
        // message being reassembled lost a segment and is dropped.
        self.buffers[dir.index()].clear();
        let r = &mut self.reassembly[dir.index()];
        r.active = false;
        r.buffer.clear();
        ParseOutcome::Continue
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::applayer::dnp3::parser::crc;

    #[derive(Default)]
    struct Recorder {
        txs: Vec<serde_json::Value>,
        anomalies: Vec<&'static str>,
        observations: Vec<String>,
    }

    impl AppSink for Recorder {
        fn transaction(&mut self, tx: &dyn Transaction) {
            tx.observations(&mut |o| self.observations.push(format!("{:?}", o.location)));
            self.txs.push(tx.record().fields);
        }
        fn anomaly(&mut self, _: &'static str, kind: &'static str) {
            self.anomalies.push(kind);
        }
    }

    /// A frame from `src` to `dst` carrying `user` (transport header + application bytes),
    /// CRCs computed.
    fn frame(control: u8, dst: u16, src: u16, user: &[u8]) -> Vec<u8> {
        let mut f = vec![0x05, 0x64, (user.len() + 5) as u8, control];
        f.extend_from_slice(&dst.to_le_bytes());
        f.extend_from_slice(&src.to_le_bytes());
        let c = crc(&f);
        f.extend_from_slice(&c.to_le_bytes());
        for block in user.chunks(16) {
            f.extend_from_slice(block);
            f.extend_from_slice(&crc(block).to_le_bytes());
        }
        f
    }

    #[test]
    fn request_response_pairing_and_policy_observations() {
        let mut p = Dnp3Parser::new(false);
        let mut sink = Recorder::default();
        // Junk first, then DIRECT_OPERATE g12v1 (CROB) split over two chunks.
        let mut request = vec![0, 0, 0];
        let mut app = vec![0xc0, 0xc3, 0x05, 12, 1, 0x28, 1, 0, 3, 0];
        app.extend_from_slice(&[0x03, 1, 0x64, 0, 0, 0, 0, 0, 0, 0, 0]);
        request.extend(frame(0xc4, 10, 1, &app));
        let (a, b) = request.split_at(9);
        assert_eq!(
            p.parse(Direction::ToServer, a, &mut sink),
            ParseOutcome::Continue
        );
        p.parse(Direction::ToServer, b, &mut sink);
        let response = frame(0x44, 1, 10, &[0xc0, 0xc3, 0x81, 0x80, 0x00]);
        p.parse(Direction::ToClient, &response, &mut sink);
        assert_eq!(sink.anomalies, vec!["junk_bytes"]);
        assert_eq!(sink.txs.len(), 2);
        let req = &sink.txs[0];
        assert_eq!(req["type"], "request");
        assert_eq!(req["src"], 1);
        assert_eq!(req["dst"], 10);
        assert_eq!(req["application"]["function_code"], 5);
        assert_eq!(req["application"]["objects"][0]["group"], 12);
        assert_eq!(req["application"]["complete"], true);
        assert_eq!(req["control"]["dir"], true);
        let resp = &sink.txs[1];
        assert_eq!(resp["type"], "response");
        assert_eq!(resp["id"], req["id"]);
        assert_eq!(resp["iin"]["indicators"][0], "device_restart");
        assert_eq!(sink.observations.len(), 2);
        assert!(sink.observations[1].contains("Operate"));
    }

    #[test]
    fn multi_segment_message_and_bad_crc() {
        let mut p = Dnp3Parser::new(true);
        let mut sink = Recorder::default();
        // WRITE g50v1 time split over two transport segments (FIR then FIN).
        let app = [0xc1, 0x02, 50, 1, 0x07, 1, 1, 2, 3, 4, 5, 6];
        let (a, b) = app.split_at(5);
        let mut s1 = vec![0x40];
        s1.extend_from_slice(a);
        let mut s2 = vec![0x81];
        s2.extend_from_slice(b);
        let mut datagram = frame(0xc4, 10, 1, &s1);
        datagram.extend(frame(0xc4, 10, 1, &s2));
        p.parse(Direction::ToServer, &datagram, &mut sink);
        assert_eq!(sink.txs.len(), 1, "{:?}", sink.anomalies);
        assert_eq!(sink.txs[0]["application"]["objects"][0]["count"], 1);
        assert_eq!(sink.txs[0]["application"]["complete"], true);
        // A corrupted block CRC: reported, frame dropped, the parser carries on.
        let mut bad = frame(0xc4, 10, 1, &[0xc0, 0xc2, 0x01, 60, 1, 6]);
        let last = bad.len() - 1;
        bad[last] ^= 0xff;
        p.parse(Direction::ToServer, &bad, &mut sink);
        assert_eq!(sink.anomalies, vec!["bad_transport_crc"]);
        // A segment out of sequence.
        p.parse(
            Direction::ToServer,
            &frame(0xc4, 10, 1, &[0x85, 0x01]),
            &mut sink,
        );
        assert_eq!(sink.anomalies.last(), Some(&"unexpected_segment"));
    }

    #[test]
    fn flood_and_too_long() {
        let mut p = Dnp3Parser::new(false);
        let mut sink = Recorder::default();
        for seq in 0..=MAX_OPEN_REQUESTS as u8 {
            let read = frame(0xc4, 10, 1, &[0xc0, 0xc0 | (seq & 0x0f), 0x01, 60, 1, 6]);
            p.parse(Direction::ToServer, &read, &mut sink);
        }
        assert_eq!(sink.anomalies, vec!["flooded"]);
        assert_eq!(sink.txs.len(), MAX_OPEN_REQUESTS + 1);
        let mut segment = vec![0u8; MAX_SEGMENT_PAYLOAD + 1];
        for seq in 0..65u8 {
            segment[0] = (seq % 64) | if seq == 0 { 0x40 } else { 0 };
            p.parse(
                Direction::ToClient,
                &frame(0x44, 1, 10, &segment),
                &mut sink,
            );
        }
        assert_eq!(sink.anomalies.last(), Some(&"too_long_reassembly"));
    }

    #[test]
    fn classes() {
        assert_eq!(class_of(FunctionCode::READ), Some(OtClass::Read));
        assert_eq!(class_of(FunctionCode::SELECT), Some(OtClass::Operate));
        assert_eq!(class_of(FunctionCode::COLD_RESTART), Some(OtClass::Restart));
        assert_eq!(class_of(FunctionCode::STOP_APPL), Some(OtClass::Stop));
        assert_eq!(class_of(FunctionCode::OPEN_FILE), Some(OtClass::File));
        assert_eq!(class_of(FunctionCode(19)), Some(OtClass::Program));
        assert_eq!(class_of(FunctionCode::CONFIRM), None);
        assert_eq!(class_of(FunctionCode::RESPONSE), None);
    }
}

//! The SOCKS [`AppParser`]: follows the handshake of SOCKS4/4a or SOCKS5 (with or without
//! username/password authentication) and, once the proxy has granted a CONNECT, hands the rest
//! of the stream back to detection ([`ParseOutcome::Upgrade`]) so the tunnelled protocol (TLS,
//! HTTP…) is parsed as if the preamble were not there. Anything else (BIND, UDP ASSOCIATE,
//! refusals, GSSAPI) ends the parser.
//!
//! Each direction's handshake bytes are buffered (at most [`MAX_SOCKS_MESSAGE`] × 2) until the
//! state machine expects them, so a client that sends its request before the method selection
//! arrives is still followed. Known limit: client bytes sent before the proxy's final reply
//! (optimistic data) are dropped at the upgrade and counted as the `socks_data_before_reply`
//! anomaly.

#![forbid(unsafe_code)]
#![deny(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use super::parser::{
    AuthMethod, Command, MAX_SOCKS_MESSAGE, ParseError, parse_socks4_reply, parse_socks4_request,
    parse_socks5_greeting, parse_socks5_message, parse_socks5_method, parse_socks5_userpass,
    parse_socks5_userpass_reply,
};
use crate::applayer::detect::{L4, Probe};
use crate::applayer::{AppParser, AppSink, Direction, ParseOutcome};

const PROTO: &str = "socks";

/// Bytes buffered per direction: two handshake messages.
const MAX_BUFFER: usize = 2 * MAX_SOCKS_MESSAGE;

/// Probes the client's first bytes: a complete SOCKS4/4a request, or a SOCKS5 greeting with
/// plausible methods that is the whole of what was sent so far (or followed by a SOCKS5
/// request).
pub fn probe(_l4: L4, dir: Direction, data: &[u8]) -> Probe {
    if dir != Direction::ToServer {
        return Probe::NotForUs;
    }
    match data {
        [] => Probe::Unsure,
        [4, rest @ ..] => {
            if let [command, ..] = rest
                && !matches!(*command, 1 | 2)
            {
                return Probe::NotForUs;
            }
            match parse_socks4_request(data) {
                Ok((_, request)) => {
                    let printable = |s: &[u8]| s.iter().all(|b| (0x20..0x7f).contains(b));
                    let name_ok = match request.address {
                        super::parser::Address::Name(name) => !name.is_empty() && printable(name),
                        _ => true,
                    };
                    if printable(request.user_id) && name_ok {
                        Probe::Certain
                    } else {
                        Probe::NotForUs
                    }
                }
                Err(ParseError::Incomplete) => Probe::Unsure,
                Err(ParseError::Invalid(_)) => Probe::NotForUs,
            }
        }
        [5, rest @ ..] => {
            if let [n, ..] = rest
                && !(1..=16).contains(n)
            {
                return Probe::NotForUs;
            }
            match parse_socks5_greeting(data) {
                Ok((after, methods)) => {
                    let plausible = methods
                        .iter()
                        .all(|&m| m <= 0x09 || (0x80..0xff).contains(&m));
                    let alone = after.is_empty() || after.first() == Some(&5);
                    if plausible && alone {
                        Probe::Certain
                    } else {
                        Probe::NotForUs
                    }
                }
                Err(ParseError::Incomplete) => Probe::Unsure,
                Err(ParseError::Invalid(_)) => Probe::NotForUs,
            }
        }
        _ => Probe::NotForUs,
    }
}

/// A fresh parser.
pub fn new_parser(_l4: L4) -> Box<dyn AppParser> {
    Box::new(SocksParser::default())
}

/// Where the handshake is: which message is expected next.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Stage {
    /// The client's first message (SOCKS4 request or SOCKS5 greeting).
    #[default]
    First,
    /// SOCKS4 reply.
    Socks4Reply,
    /// SOCKS5 method selection.
    Method,
    /// SOCKS5 username/password request.
    UserPass,
    /// SOCKS5 username/password reply.
    UserPassReply,
    /// SOCKS5 request.
    Request,
    /// SOCKS5 reply.
    Reply,
}

impl Stage {
    /// Who sends the expected message.
    fn sender(self) -> Direction {
        match self {
            Stage::First | Stage::UserPass | Stage::Request => Direction::ToServer,
            _ => Direction::ToClient,
        }
    }
}

/// What one step of the state machine decided.
enum Step {
    /// Advanced; try the next message.
    Next,
    /// Need more bytes.
    Wait,
    /// The proxy granted the CONNECT; the tunnel starts after the reply.
    Tunnel,
    /// Stop parsing this flow.
    Stop,
}

/// SOCKS handshake state of one flow.
#[derive(Default)]
pub struct SocksParser {
    stage: Stage,
    buffers: [Vec<u8>; 2],
    connect: bool,
}

impl SocksParser {
    /// Tries to parse the expected message from its sender's buffer.
    fn step(&mut self, sink: &mut dyn AppSink) -> Step {
        let SocksParser {
            stage: current,
            buffers,
            connect,
        } = self;
        let stage = *current;
        let Some(buffer) = buffers.get_mut(stage.sender().index()) else {
            return Step::Stop;
        };
        let input = buffer.as_slice();
        let parsed: Result<(usize, Stage), ParseError> = match stage {
            Stage::First => match input.first() {
                Some(4) => parse_socks4_request(input).map(|(rest, request)| {
                    *connect = request.command == Command::CONNECT;
                    (rest.len(), Stage::Socks4Reply)
                }),
                Some(_) => {
                    parse_socks5_greeting(input).map(|(rest, _)| (rest.len(), Stage::Method))
                }
                None => Err(ParseError::Incomplete),
            },
            Stage::Socks4Reply => parse_socks4_reply(input).and_then(|(rest, status)| {
                if status == 0x5a && *connect {
                    Ok((rest.len(), Stage::Socks4Reply))
                } else {
                    Err(ParseError::Invalid("socks_not_connected"))
                }
            }),
            Stage::Method => parse_socks5_method(input).and_then(|(rest, method)| match method {
                AuthMethod::NONE => Ok((rest.len(), Stage::Request)),
                AuthMethod::USERNAME_PASSWORD => Ok((rest.len(), Stage::UserPass)),
                _ => Err(ParseError::Invalid("socks_not_connected")),
            }),
            Stage::UserPass => {
                parse_socks5_userpass(input).map(|(rest, _)| (rest.len(), Stage::UserPassReply))
            }
            Stage::UserPassReply => {
                parse_socks5_userpass_reply(input).and_then(|(rest, status)| {
                    if status == 0 {
                        Ok((rest.len(), Stage::Request))
                    } else {
                        Err(ParseError::Invalid("socks_not_connected"))
                    }
                })
            }
            Stage::Request => parse_socks5_message(input).map(|(rest, request)| {
                *connect = request.code == Command::CONNECT.0;
                (rest.len(), Stage::Reply)
            }),
            Stage::Reply => parse_socks5_message(input).and_then(|(rest, reply)| {
                if reply.code == 0 && *connect {
                    Ok((rest.len(), Stage::Reply))
                } else {
                    Err(ParseError::Invalid("socks_not_connected"))
                }
            }),
        };
        match parsed {
            Ok((left, next)) => {
                let used = buffer.len().saturating_sub(left);
                buffer.drain(..used);
                if matches!(stage, Stage::Socks4Reply | Stage::Reply) {
                    return Step::Tunnel;
                }
                *current = next;
                Step::Next
            }
            Err(ParseError::Incomplete) => Step::Wait,
            Err(ParseError::Invalid(kind)) => {
                // A refusal or a command we do not follow is not an anomaly of the protocol.
                if kind != "socks_not_connected" {
                    sink.anomaly(PROTO, kind);
                }
                Step::Stop
            }
        }
    }
}

impl AppParser for SocksParser {
    fn app_proto(&self) -> &'static str {
        PROTO
    }

    fn parse(&mut self, dir: Direction, data: &[u8], sink: &mut dyn AppSink) -> ParseOutcome {
        let Some(buffer) = self.buffers.get_mut(dir.index()) else {
            return ParseOutcome::Done;
        };
        if buffer.len() + data.len() > MAX_BUFFER {
            // Only the final reply may be followed by tunnelled bytes; keep what a handshake
            // message can need and look at the rest after the upgrade.
            let room = MAX_BUFFER.saturating_sub(buffer.len());
            buffer.extend_from_slice(data.get(..room).unwrap_or(data));
        } else {
            buffer.extend_from_slice(data);
        }
        loop {
            match self.step(sink) {
                Step::Next => {}
                Step::Wait => {
                    let full = self.buffers.iter().any(|b| b.len() >= MAX_BUFFER);
                    if full {
                        sink.anomaly(PROTO, "socks_handshake_too_long");
                        return ParseOutcome::Done;
                    }
                    return ParseOutcome::Continue;
                }
                Step::Stop => return ParseOutcome::Done,
                Step::Tunnel => {
                    let client_left = self
                        .buffers
                        .get(Direction::ToServer.index())
                        .is_some_and(|b| !b.is_empty());
                    if dir != Direction::ToClient || client_left {
                        sink.anomaly(PROTO, "socks_data_before_reply");
                    }
                    // The tunnel starts after the reply: bytes of this call's data that were not
                    // part of the handshake are re-detected.
                    let left = self
                        .buffers
                        .get(dir.index())
                        .map_or(0, |b| b.len())
                        .min(data.len());
                    return ParseOutcome::Upgrade {
                        consumed: data.len() - left,
                    };
                }
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)] // tests fail by panicking
mod tests {
    use super::*;
    use crate::applayer::Transaction;

    #[derive(Default)]
    struct Anomalies(Vec<&'static str>);
    impl AppSink for Anomalies {
        fn transaction(&mut self, _: &dyn Transaction) {}
        fn anomaly(&mut self, _: &'static str, kind: &'static str) {
            self.0.push(kind);
        }
    }

    #[test]
    fn socks5_with_auth_upgrades_after_the_reply() {
        let mut parser = SocksParser::default();
        let mut sink = Anomalies::default();
        let c = Direction::ToServer;
        let s = Direction::ToClient;
        assert_eq!(
            parser.parse(c, b"\x05\x01\x02", &mut sink),
            ParseOutcome::Continue
        );
        assert_eq!(
            parser.parse(s, b"\x05\x02", &mut sink),
            ParseOutcome::Continue
        );
        // Credentials and the request pipelined in one segment.
        assert_eq!(
            parser.parse(
                c,
                b"\x01\x01u\x01p\x05\x01\x00\x01\x0a\x00\x00\x01\x01\xbb",
                &mut sink
            ),
            ParseOutcome::Continue
        );
        assert_eq!(
            parser.parse(s, b"\x01\x00", &mut sink),
            ParseOutcome::Continue
        );
        assert_eq!(
            parser.parse(
                s,
                b"\x05\x00\x00\x01\x0a\x00\x00\x01\x01\xbb\x16\x03",
                &mut sink
            ),
            ParseOutcome::Upgrade { consumed: 10 }
        );
        assert!(sink.0.is_empty(), "{:?}", sink.0);
    }

    #[test]
    fn socks4_refusal_ends_the_parser() {
        let mut parser = SocksParser::default();
        let mut sink = Anomalies::default();
        let request = b"\x04\x01\x01\xbb\x0a\x00\x00\x01\x00";
        assert_eq!(probe(L4::Tcp, Direction::ToServer, request), Probe::Certain);
        assert_eq!(
            parser.parse(Direction::ToServer, request, &mut sink),
            ParseOutcome::Continue
        );
        assert_eq!(
            parser.parse(
                Direction::ToClient,
                b"\x00\x5b\x00\x00\x00\x00\x00\x00",
                &mut sink
            ),
            ParseOutcome::Done
        );
    }

    #[test]
    fn probe_cases() {
        let cases: [(&str, &[u8], Probe); 7] = [
            ("socks5 greeting", b"\x05\x01\x00", Probe::Certain),
            ("socks5 partial", b"\x05\x02\x00", Probe::Unsure),
            ("socks5 too many methods", b"\x05\x40", Probe::NotForUs),
            (
                "socks5 followed by junk",
                b"\x05\x01\x00GET /",
                Probe::NotForUs,
            ),
            (
                "socks4 partial",
                b"\x04\x01\x00\x50\x01\x02\x03\x04us",
                Probe::Unsure,
            ),
            ("socks4 bad command", b"\x04\x07", Probe::NotForUs),
            ("tls", b"\x16\x03\x01", Probe::NotForUs),
        ];
        for (name, data, want) in cases {
            assert_eq!(probe(L4::Tcp, Direction::ToServer, data), want, "{name}");
        }
    }
}

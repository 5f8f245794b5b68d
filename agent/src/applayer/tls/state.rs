//! The TLS [`AppParser`]: records and handshake messages per direction, the hellos turned into
//! transactions.
//!
//! What is reported, and when:
//! * each ClientHello at once, as an unlogged transaction whose observations are `tls.sni`,
//!   `tls.ja3` and `tls.ja4` — so alerts never wait for the server;
//! * each handshake once, as a logged transaction carrying the ClientHello's and the
//!   ServerHello's fields together (one EVE `tls` event per flow, as Suricata writes it), with
//!   `tls.ja3s` as its observation. It is reported when the ServerHello arrives; a ClientHello
//!   that is never answered is reported without server fields when the server sends something
//!   else (an alert, garbage) or when the parser ends ([`AppParser::finish`]: flow end, gap).
//!
//! After a HelloRetryRequest (reported unlogged, for its `tls.ja3s`) the client's second hello
//! is parsed too (FoxIO's `JA4.2`): it is reported at once like the first, and logged with the
//! handshake under `retry` (the event's `sni`, `ja3` and `ja4` stay those of the first hello, as
//! Suricata logs them). After the ServerHello the flow is done (the rest is encrypted). A
//! client that does not offer TLS 1.3 never sends a second hello, so its direction is done
//! after the first.
//!
//! Buffers: a record split across TCP chunks is completed in `pending` (at most one record,
//! [`MAX_RECORD_LEN`] plus its header); a hello split across records is completed in `hs`
//! (at most [`MAX_HELLO_LEN`] plus its header); the last ClientHello's bytes are kept until its
//! handshake is logged. All three keep their capacity, so a flow allocates them once at most.

#![forbid(unsafe_code)]
#![deny(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic
)]

use kordon_intel::IndicatorKind;

use super::ja3::{Md5Hex, ja3_string};
use super::ja4::{Ja4, ja4};
use super::log::tls_record;
use super::parser::{
    ClientHello, ContentType, ExtensionType, HANDSHAKE_HEADER_LEN, HandshakeType, MAX_HELLO_LEN,
    MAX_RECORD_LEN, ParseError, ProtocolVersion, RECORD_HEADER_LEN, ServerHello,
    client_supported_versions, is_grease, parse_client_hello, parse_handshake, parse_server_hello,
    parse_tls_record, server_name,
};
use crate::applayer::detect::{L4, Probe};
use crate::applayer::{AppParser, AppRecord, AppSink, Direction, ParseOutcome, Transaction};
use crate::observe::{Location, Observation, ObservedValue};

/// EVE `app_proto` and anomaly namespace.
const PROTO: &str = "tls";

/// ClientHellos parsed per flow: the first and, after a HelloRetryRequest, the second.
const MAX_CLIENT_HELLOS: u8 = 2;

/// Probes the first bytes of a direction: a handshake record (type 22, version 3.x) whose first
/// message is a ClientHello (to the server) or a ServerHello (to the client, for flows picked up
/// mid-handshake).
pub fn probe(_l4: L4, dir: Direction, data: &[u8]) -> Probe {
    let want = match dir {
        Direction::ToServer => HandshakeType::CLIENT_HELLO.0,
        Direction::ToClient => HandshakeType::SERVER_HELLO.0,
    };
    match data {
        [] | [0x16] | [0x16, 0x03] => Probe::Unsure,
        [0x16, 0x03, minor, rest @ ..] if *minor <= 4 => match rest {
            [] | [_] | [_, _] => Probe::Unsure,
            [hi, lo, tail @ ..] => {
                let length = usize::from(*hi) << 8 | usize::from(*lo);
                if !(HANDSHAKE_HEADER_LEN..=MAX_RECORD_LEN).contains(&length) {
                    Probe::NotForUs
                } else {
                    match tail.first() {
                        None => Probe::Unsure,
                        Some(&t) if t == want => Probe::Certain,
                        Some(_) => Probe::NotForUs,
                    }
                }
            }
        },
        _ => Probe::NotForUs,
    }
}

/// A fresh parser.
pub fn new_parser(_l4: L4) -> Box<dyn AppParser> {
    Box::new(TlsParser::default())
}

#[derive(Default)]
struct DirState {
    /// A record split across chunks (header validated once complete).
    pending: Vec<u8>,
    /// A hello split across records.
    hs: Vec<u8>,
    /// Bytes of a non-hello handshake message still to skip in later records.
    skip: usize,
}

/// TLS parser state of one flow.
#[derive(Default)]
pub struct TlsParser {
    dirs: [DirState; 2],
    /// The first ClientHello's body, while its handshake is not logged yet.
    client_hello: Vec<u8>,
    /// The second ClientHello's body (after a HelloRetryRequest), if any.
    retry_hello: Vec<u8>,
    client_pending: bool,
    client_hellos: u8,
    /// Reused for sorting JA4 lists.
    scratch: Vec<u16>,
    /// Reused for the JA3 string.
    ja3: String,
}

/// A ClientHello, reported at once (unlogged; its fields are logged with the handshake).
struct ClientHelloTx<'a> {
    hello: &'a ClientHello<'a>,
    sni: Option<&'a str>,
    ja3: &'a str,
    ja4: &'a str,
}

impl Transaction for ClientHelloTx<'_> {
    fn observations(&self, emit: &mut dyn FnMut(Observation<'_>)) {
        if let Some(sni) = self.sni {
            emit(Observation {
                location: Location::TlsSni,
                value: ObservedValue::Domain(sni),
            });
        }
        emit(Observation {
            location: Location::TlsJa3,
            value: ObservedValue::Text(IndicatorKind::Ja3, self.ja3),
        });
        emit(Observation {
            location: Location::TlsJa4,
            value: ObservedValue::Text(IndicatorKind::Ja4, self.ja4),
        });
    }

    fn record(&self) -> AppRecord {
        tls_record(Some(self.hello), None, None)
    }

    fn logged(&self) -> bool {
        false
    }
}

/// A whole handshake (or what was seen of it), logged.
struct HandshakeTx<'a> {
    client: Option<&'a ClientHello<'a>>,
    retry: Option<&'a ClientHello<'a>>,
    server: Option<&'a ServerHello<'a>>,
    ja3s: Option<&'a str>,
    /// False for a HelloRetryRequest (the handshake is logged when it completes).
    logged: bool,
}

impl Transaction for HandshakeTx<'_> {
    fn observations(&self, emit: &mut dyn FnMut(Observation<'_>)) {
        if let Some(ja3s) = self.ja3s {
            emit(Observation {
                location: Location::TlsJa3s,
                value: ObservedValue::Text(IndicatorKind::Ja3s, ja3s),
            });
        }
    }

    fn record(&self) -> AppRecord {
        tls_record(self.client, self.retry, self.server)
    }

    fn logged(&self) -> bool {
        self.logged
    }
}

/// Whether a ClientHello offers TLS 1.3 (and so may send a second hello after a
/// HelloRetryRequest).
fn offers_tls13(hello: &ClientHello<'_>) -> bool {
    hello
        .extensions
        .find(ExtensionType::SUPPORTED_VERSIONS)
        .is_some_and(|d| {
            client_supported_versions(d)
                .iter()
                .any(|v| !is_grease(v) && ProtocolVersion(v) >= ProtocolVersion::TLS_1_3)
        })
}

impl TlsParser {
    /// Records of one chunk: first completes a buffered record, then parses whole records
    /// straight from `data`, buffering a partial last one.
    fn records(
        &mut self,
        dir: Direction,
        pending: &mut Vec<u8>,
        mut data: &[u8],
        sink: &mut dyn AppSink,
    ) -> ParseOutcome {
        while !pending.is_empty() {
            match parse_tls_record(pending) {
                Ok((_, record)) => {
                    let outcome = self.record(dir, record.content_type, record.fragment, sink);
                    pending.clear();
                    if outcome != ParseOutcome::Continue {
                        return outcome;
                    }
                }
                Err(ParseError::Incomplete { needed }) => {
                    if data.is_empty() {
                        return ParseOutcome::Continue;
                    }
                    let (head, tail) = data
                        .split_at_checked(needed.min(data.len()))
                        .unwrap_or((data, &[]));
                    pending.extend_from_slice(head);
                    data = tail;
                }
                Err(ParseError::Invalid(kind)) => {
                    pending.clear();
                    sink.anomaly(PROTO, kind.as_str());
                    return self.give_up(sink);
                }
            }
        }
        while !data.is_empty() {
            match parse_tls_record(data) {
                Ok((rest, record)) => {
                    let outcome = self.record(dir, record.content_type, record.fragment, sink);
                    if outcome != ParseOutcome::Continue {
                        return outcome;
                    }
                    data = rest;
                }
                Err(ParseError::Incomplete { .. }) => {
                    // At most one record: its header was validated (length ≤ MAX_RECORD_LEN),
                    // or fewer than RECORD_HEADER_LEN bytes.
                    debug_assert!(data.len() < RECORD_HEADER_LEN + MAX_RECORD_LEN);
                    pending.extend_from_slice(data);
                    return ParseOutcome::Continue;
                }
                Err(ParseError::Invalid(kind)) => {
                    sink.anomaly(PROTO, kind.as_str());
                    return self.give_up(sink);
                }
            }
        }
        ParseOutcome::Continue
    }

    /// One complete record.
    fn record(
        &mut self,
        dir: Direction,
        content_type: ContentType,
        fragment: &[u8],
        sink: &mut dyn AppSink,
    ) -> ParseOutcome {
        match content_type {
            ContentType::HANDSHAKE => self.handshake_fragment(dir, fragment, sink),
            ContentType::ALERT if dir == Direction::ToClient => {
                // The server refused the handshake.
                self.flush_client(sink);
                ParseOutcome::Done
            }
            _ => ParseOutcome::Continue,
        }
    }

    /// The fragment of a handshake record: whole messages are parsed in place; a partial hello
    /// is buffered, a partial other message skipped.
    fn handshake_fragment(
        &mut self,
        dir: Direction,
        mut fragment: &[u8],
        sink: &mut dyn AppSink,
    ) -> ParseOutcome {
        let i = dir.index();
        let Some(state) = self.dirs.get_mut(i) else {
            return ParseOutcome::Done;
        };
        if state.skip > 0 {
            let n = state.skip.min(fragment.len());
            state.skip -= n;
            fragment = fragment.get(n..).unwrap_or_default();
        }
        let mut hs = std::mem::take(&mut state.hs);
        let outcome = if hs.is_empty() {
            self.messages(dir, fragment, &mut hs, sink)
        } else if hs.len() + fragment.len() > HANDSHAKE_HEADER_LEN + MAX_HELLO_LEN {
            hs.clear();
            sink.anomaly(PROTO, "hello_too_long");
            self.give_up(sink)
        } else {
            hs.extend_from_slice(fragment);
            let joined = std::mem::take(&mut hs);
            let outcome = self.messages(dir, &joined, &mut hs, sink);
            if hs.is_empty() {
                // Keep the larger buffer's capacity for the next split hello.
                hs = joined;
                hs.clear();
            }
            outcome
        };
        if let Some(state) = self.dirs.get_mut(i) {
            state.hs = hs;
        }
        outcome
    }

    /// Handshake messages in `bytes`; a trailing partial hello goes into `leftover`.
    fn messages(
        &mut self,
        dir: Direction,
        bytes: &[u8],
        leftover: &mut Vec<u8>,
        sink: &mut dyn AppSink,
    ) -> ParseOutcome {
        let mut rest = bytes;
        while !rest.is_empty() {
            match parse_handshake(rest) {
                Ok((tail, message)) => {
                    let outcome = match message.msg_type {
                        HandshakeType::CLIENT_HELLO => {
                            if dir != Direction::ToServer {
                                sink.anomaly(PROTO, "client_hello_to_client");
                            }
                            self.client_hello(message.body, sink)
                        }
                        HandshakeType::SERVER_HELLO => {
                            if dir != Direction::ToClient {
                                sink.anomaly(PROTO, "server_hello_to_server");
                            }
                            self.server_hello(message.body, sink)
                        }
                        _ => ParseOutcome::Continue,
                    };
                    if outcome != ParseOutcome::Continue {
                        return outcome;
                    }
                    rest = tail;
                }
                Err(ParseError::Incomplete { needed }) => {
                    let hello = matches!(
                        rest.first().copied().map(HandshakeType),
                        Some(HandshakeType::CLIENT_HELLO | HandshakeType::SERVER_HELLO)
                    );
                    if hello || rest.len() < HANDSHAKE_HEADER_LEN {
                        leftover.extend_from_slice(rest);
                    } else if let Some(state) = self.dirs.get_mut(dir.index()) {
                        state.skip = needed;
                    }
                    return ParseOutcome::Continue;
                }
                Err(ParseError::Invalid(kind)) => {
                    sink.anomaly(PROTO, kind.as_str());
                    return self.give_up(sink);
                }
            }
        }
        ParseOutcome::Continue
    }

    fn client_hello(&mut self, body: &[u8], sink: &mut dyn AppSink) -> ParseOutcome {
        let hello = match parse_client_hello(body) {
            Ok(hello) => hello,
            Err(ParseError::Invalid(kind)) => {
                sink.anomaly(PROTO, kind.as_str());
                return ParseOutcome::Continue;
            }
            Err(ParseError::Incomplete { .. }) => {
                sink.anomaly(PROTO, "truncated_hello");
                return ParseOutcome::Continue;
            }
        };
        self.client_hellos = self.client_hellos.saturating_add(1);

        ja3_string(&hello, &mut self.ja3);
        let ja3 = Md5Hex::of(&self.ja3);
        let ja4: Ja4 = ja4(&hello, &mut self.scratch);
        let sni = hello
            .extensions
            .find(ExtensionType::SERVER_NAME)
            .and_then(server_name)
            .filter(|name| !name.is_empty());
        let sni_text = sni.and_then(|name| std::str::from_utf8(name).ok());
        if sni.is_some() && sni_text.is_none() {
            sink.anomaly(PROTO, "sni_not_utf8");
        }
        sink.transaction(&ClientHelloTx {
            hello: &hello,
            sni: sni_text,
            ja3: ja3.as_str(),
            ja4: ja4.as_str(),
        });
        let more = offers_tls13(&hello) && self.client_hellos < MAX_CLIENT_HELLOS;
        if self.client_pending {
            // The second hello of a handshake (after a HelloRetryRequest, seen or not).
            self.retry_hello.clear();
            self.retry_hello.extend_from_slice(body);
        } else {
            self.client_hello.clear();
            self.client_hello.extend_from_slice(body);
            self.retry_hello.clear();
            self.client_pending = true;
        }
        if more {
            ParseOutcome::Continue
        } else {
            ParseOutcome::DoneDirection
        }
    }

    fn server_hello(&mut self, body: &[u8], sink: &mut dyn AppSink) -> ParseOutcome {
        let hello = match parse_server_hello(body) {
            Ok(hello) => hello,
            Err(ParseError::Invalid(kind)) => {
                sink.anomaly(PROTO, kind.as_str());
                return self.give_up(sink);
            }
            Err(ParseError::Incomplete { .. }) => {
                sink.anomaly(PROTO, "truncated_hello");
                return self.give_up(sink);
            }
        };
        let mut ja3s = std::mem::take(&mut self.ja3);
        super::ja3::ja3s_string(&hello, &mut ja3s);
        let ja3s_hash = Md5Hex::of(&ja3s);
        self.ja3 = ja3s;
        let retry_request = hello.is_hello_retry_request();
        let (client, retry) = if self.client_pending {
            (
                parse_client_hello(&self.client_hello).ok(),
                parse_client_hello(&self.retry_hello).ok(),
            )
        } else {
            (None, None)
        };
        sink.transaction(&HandshakeTx {
            client: client.as_ref(),
            retry: retry.as_ref(),
            server: Some(&hello),
            ja3s: Some(ja3s_hash.as_str()),
            logged: !retry_request,
        });
        if retry_request {
            ParseOutcome::Continue
        } else {
            self.client_pending = false;
            ParseOutcome::Done
        }
    }

    /// Logs a ClientHello that got no ServerHello.
    fn flush_client(&mut self, sink: &mut dyn AppSink) {
        if !self.client_pending {
            return;
        }
        self.client_pending = false;
        if let Ok(hello) = parse_client_hello(&self.client_hello) {
            let retry = parse_client_hello(&self.retry_hello).ok();
            sink.transaction(&HandshakeTx {
                client: Some(&hello),
                retry: retry.as_ref(),
                server: None,
                ja3s: None,
                logged: true,
            });
        }
    }

    /// The stream is not (or no longer) TLS we can follow.
    fn give_up(&mut self, sink: &mut dyn AppSink) -> ParseOutcome {
        self.flush_client(sink);
        ParseOutcome::Done
    }
}

impl AppParser for TlsParser {
    fn app_proto(&self) -> &'static str {
        PROTO
    }

    fn parse(&mut self, dir: Direction, data: &[u8], sink: &mut dyn AppSink) -> ParseOutcome {
        let i = dir.index();
        let mut pending = self
            .dirs
            .get_mut(i)
            .map(|s| std::mem::take(&mut s.pending))
            .unwrap_or_default();
        let outcome = self.records(dir, &mut pending, data, sink);
        if let Some(state) = self.dirs.get_mut(i) {
            state.pending = pending;
        }
        outcome
    }

    fn gap(&mut self, dir: Direction) -> ParseOutcome {
        // Records cannot be resynchronised after a hole; a pending ClientHello is still logged
        // when the flow ends.
        if let Some(state) = self.dirs.get_mut(dir.index()) {
            *state = DirState::default();
        }
        ParseOutcome::DoneDirection
    }

    fn finish(&mut self, sink: &mut dyn AppSink) {
        self.flush_client(sink);
    }
}

#[cfg(test)]
#[path = "state_tests.rs"]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)] // tests fail by panicking
mod tests;

//! The DNS [`AppParser`]: one message per UDP datagram, length-prefixed messages over TCP.

#![forbid(unsafe_code)]
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use super::log::dns_record;
use super::parser::{
    HEADER_LEN, Message, ParseError, Rdata, Section, parse_dns_header, parse_dns_message,
};
use crate::applayer::detect::L4;
use crate::applayer::{AppParser, AppRecord, AppSink, Direction, ParseOutcome, Transaction};
use crate::observe::{Location, Observation, ObservedValue};

/// Largest DNS-over-TCP message: its length prefix is 16 bits (RFC 1035 §4.2.2), so a partial
/// message buffer never exceeds this plus the prefix.
pub const MAX_TCP_MESSAGE: usize = u16::MAX as usize;

const APP: &str = "dns";

/// One direction of a DNS-over-TCP stream.
#[derive(Debug, Default)]
struct TcpDir {
    /// A partial message, length prefix included (bounded by `2 + MAX_TCP_MESSAGE`).
    partial: Vec<u8>,
    /// After a gap: the next message is checked before it is trusted as a boundary.
    resync: bool,
}

/// Per-flow DNS state.
#[derive(Debug)]
pub struct DnsParser {
    l4: L4,
    /// Reused for every message of the flow.
    message: Message,
    tcp: [TcpDir; 2],
}

impl DnsParser {
    /// A parser for a flow over `l4`.
    pub fn new(l4: L4) -> Self {
        DnsParser {
            l4,
            message: Message::default(),
            tcp: [TcpDir::default(), TcpDir::default()],
        }
    }
}

/// Parses one whole message and reports it; returns whether it parsed.
fn message(scratch: &mut Message, bytes: &[u8], sink: &mut dyn AppSink) -> bool {
    match parse_dns_message(bytes, scratch) {
        Ok(()) => {
            for name in scratch.anomalies.names() {
                sink.anomaly(APP, name);
            }
            sink.transaction(&DnsTx {
                message: scratch,
                bytes,
            });
            true
        }
        Err(ParseError::Incomplete { .. }) => {
            sink.anomaly(APP, "truncated");
            false
        }
        Err(ParseError::Invalid(kind)) => {
            sink.anomaly(APP, kind.as_str());
            false
        }
    }
}

/// Whether a header could start a message of `len` bytes: an assigned opcode, few questions,
/// and declared records that fit (a question takes at least 5 bytes, a record 11).
fn plausible_header(bytes: &[u8], len: usize) -> bool {
    let Ok((_, h)) = parse_dns_header(bytes) else {
        return false;
    };
    let minimum = 5 * usize::from(h.qdcount)
        + 11 * (usize::from(h.ancount) + usize::from(h.nscount) + usize::from(h.arcount));
    h.flags.opcode() <= 6 && h.qdcount <= 16 && HEADER_LEN + minimum <= len
}

/// Whether `bytes` look like a whole message after a gap: a plausible header and a message
/// that parses.
fn plausible(scratch: &mut Message, bytes: &[u8]) -> bool {
    plausible_header(bytes, bytes.len()) && parse_dns_message(bytes, scratch).is_ok()
}

impl DnsParser {
    fn tcp(&mut self, dir: Direction, mut data: &[u8], sink: &mut dyn AppSink) -> ParseOutcome {
        let DnsParser {
            message: scratch,
            tcp,
            ..
        } = self;
        let Some(state) = tcp.get_mut(dir.index()) else {
            return ParseOutcome::Done;
        };
        // Finish a message left partial by an earlier chunk.
        if !state.partial.is_empty() {
            if state.partial.len() < 2 {
                let take = data.len().min(2 - state.partial.len());
                let (head, rest) = data.split_at(take);
                state.partial.extend_from_slice(head);
                data = rest;
            }
            let Some(&[hi, lo]) = state.partial.first_chunk::<2>() else {
                return ParseOutcome::Continue;
            };
            let total = 2 + usize::from(u16::from_be_bytes([hi, lo]));
            let take = data.len().min(total - state.partial.len());
            let (head, rest) = data.split_at(take);
            state.partial.extend_from_slice(head);
            data = rest;
            if state.partial.len() < total {
                return ParseOutcome::Continue;
            }
            let body = state.partial.get(2..).unwrap_or_default();
            if state.resync && !plausible(scratch, body) {
                sink.anomaly(APP, "tcp_resync_failed");
                return ParseOutcome::DoneDirection;
            }
            state.resync = false;
            message(scratch, body, sink);
            state.partial.clear();
        }
        // Whole messages straight from the chunk; only a trailing partial one is copied.
        while !data.is_empty() {
            let Some((&[hi, lo], rest)) = data.split_first_chunk::<2>() else {
                state.partial.extend_from_slice(data);
                break;
            };
            let len = usize::from(u16::from_be_bytes([hi, lo]));
            if state.resync && rest.len() >= HEADER_LEN && !plausible_header(rest, len) {
                sink.anomaly(APP, "tcp_resync_failed");
                return ParseOutcome::DoneDirection;
            }
            if len < HEADER_LEN {
                sink.anomaly(APP, "tcp_message_too_short");
                if state.resync {
                    return ParseOutcome::DoneDirection;
                }
            }
            let Some((body, after)) = rest.split_at_checked(len) else {
                state.partial.extend_from_slice(data);
                break;
            };
            if state.resync && !plausible(scratch, body) {
                sink.anomaly(APP, "tcp_resync_failed");
                return ParseOutcome::DoneDirection;
            }
            state.resync = false;
            if len >= HEADER_LEN {
                message(scratch, body, sink);
            }
            data = after;
        }
        ParseOutcome::Continue
    }
}

impl AppParser for DnsParser {
    fn app_proto(&self) -> &'static str {
        APP
    }

    fn parse(&mut self, dir: Direction, data: &[u8], sink: &mut dyn AppSink) -> ParseOutcome {
        match self.l4 {
            L4::Udp => {
                message(&mut self.message, data, sink);
                ParseOutcome::Continue
            }
            L4::Tcp => self.tcp(dir, data, sink),
        }
    }

    /// Bytes were lost: drop the partial message and take the next chunk as a message boundary
    /// if it looks like one (segments usually carry whole messages), else stop the direction.
    fn gap(&mut self, dir: Direction) -> ParseOutcome {
        match self.tcp.get_mut(dir.index()) {
            Some(state) if self.l4 == L4::Tcp => {
                state.partial.clear();
                state.resync = true;
                ParseOutcome::Continue
            }
            _ => ParseOutcome::DoneDirection,
        }
    }
}

/// One message, borrowed from the parser for the sink call.
struct DnsTx<'a> {
    message: &'a Message,
    bytes: &'a [u8],
}

impl Transaction for DnsTx<'_> {
    /// Requests: each question name at `dns.query`. Responses: at `dns.answer`, the owner names
    /// of the answer section, every name in CNAME/NS/PTR/DNAME/MX/SRV data and every A/AAAA
    /// address of any section (repeats of the previous name are skipped: an answer's records
    /// usually share their owner).
    fn observations(&self, emit: &mut dyn FnMut(Observation<'_>)) {
        let m = self.message;
        if !m.header.flags.qr() {
            for question in m.section(Section::Question) {
                let name = m.name(question.name);
                if !name.is_empty() {
                    emit(Observation {
                        location: Location::DnsQuery,
                        value: ObservedValue::Domain(name),
                    });
                }
            }
            return;
        }
        let mut previous = "";
        for record in m.records.iter().filter(|r| r.section != Section::Question) {
            let mut names = [None, None];
            if record.section == Section::Answer {
                names[0] = Some(record.name);
            }
            let mut address = None;
            match record.data {
                Rdata::A(addr) => address = Some(addr.into()),
                Rdata::Aaaa(addr) => address = Some(addr.into()),
                Rdata::Name(target)
                | Rdata::Mx {
                    exchange: target, ..
                }
                | Rdata::Srv { target, .. } => names[1] = Some(target),
                _ => {}
            }
            for name in names.into_iter().flatten() {
                let name = m.name(name);
                if !name.is_empty() && !name.eq_ignore_ascii_case(previous) {
                    previous = name;
                    emit(Observation {
                        location: Location::DnsAnswer,
                        value: ObservedValue::Domain(name),
                    });
                }
            }
            if let Some(addr) = address {
                emit(Observation {
                    location: Location::DnsAnswer,
                    value: ObservedValue::Ip(addr),
                });
            }
        }
    }

    fn record(&self) -> AppRecord {
        dns_record(self.message, self.bytes)
    }
}

#[cfg(test)]
mod tests;

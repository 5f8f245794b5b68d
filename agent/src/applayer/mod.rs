//! Application-layer analysis: which protocol a flow speaks, its parser, and what the parser
//! reports.
//!
//! The pieces, and why they are separate:
//! * [`stream`] turns TCP segments into in-order bytes per direction (bounded depth), so parsers
//!   see a ClientHello or request whole even when it spans segments, arrives out of order or is
//!   retransmitted.
//! * [`detect`] binds a flow to a protocol: port hints first, then each protocol's `probe` on the
//!   first bytes; only a `Certain` answer binds (STYLE: probe is separate from parse).
//! * Each protocol lives in its own module (`dns/`, `tls/`, `http/`…) with `parser.rs` (pure,
//!   zero-copy functions), `state.rs` (the [`AppParser`] implementation) and `log.rs` (the owned
//!   EVE record). It reports [`Transaction`]s to an [`AppSink`]; it never matches indicators or
//!   writes output itself, so every protocol gets matching, dedup and alerting for free.
//!
//! Parsers run on the worker threads and must not allocate per packet in steady state: state that
//! needs memory (reassembly, name decompression) keeps reusable buffers bounded by `MAX_*`
//! constants, and owned records are built only through [`Transaction::record`], which the sink
//! calls only when something is reported.

pub mod anomalies;
pub mod detect;
pub mod dnp3;
pub mod dns;
pub mod http;
pub mod iec104;
pub mod modbus;
pub mod ot;
pub mod s7comm;
pub mod session;
pub mod socks;
pub mod stream;
pub mod tls;

pub use session::{AppConfig, Session};

use crate::observe::Observation;

/// Direction of bytes relative to the flow: client→server or server→client.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Direction {
    /// From the originator to the responder.
    ToServer,
    /// From the responder to the originator.
    ToClient,
}

impl Direction {
    /// 0 for to-server, 1 for to-client (index into per-direction arrays).
    pub fn index(self) -> usize {
        match self {
            Direction::ToServer => 0,
            Direction::ToClient => 1,
        }
    }

    /// The other direction.
    pub fn reverse(self) -> Direction {
        match self {
            Direction::ToServer => Direction::ToClient,
            Direction::ToClient => Direction::ToServer,
        }
    }
}

/// An owned application-layer record, as it appears in EVE under `app_proto`'s key
/// (`"dns": {…}`, `"tls": {…}`, `"http": {…}`), both as its own event and inside alerts.
#[derive(Clone, Debug, PartialEq)]
pub struct AppRecord {
    /// EVE `app_proto` and the record's key (`dns`, `tls`, `http`…).
    pub app_proto: &'static str,
    /// The record's fields.
    pub fields: serde_json::Value,
}

/// One parsed transaction (a DNS message, a TLS hello, an HTTP request…), borrowed from the
/// parser's buffers for the duration of the [`AppSink::transaction`] call.
pub trait Transaction {
    /// Every value an indicator could match, with its location.
    fn observations(&self, emit: &mut dyn FnMut(Observation<'_>));
    /// The owned EVE record; only called when the transaction is reported (an alert, or
    /// `--metadata`), so parsing itself stays allocation-free.
    fn record(&self) -> AppRecord;
    /// Whether the transaction is logged as its own event under `--metadata` (the default). A
    /// protocol that logs one event per exchange reports the exchange's first half unlogged, so
    /// its observations are matched at once, and the whole exchange logged when it completes
    /// (TLS: one `tls` event per handshake, as Suricata writes it).
    fn logged(&self) -> bool {
        true
    }
}

/// Where parsers report.
pub trait AppSink {
    /// A complete transaction.
    fn transaction(&mut self, tx: &dyn Transaction);
    /// A protocol anomaly (malformed or suspicious input) by a stable snake_case name, counted
    /// per protocol; anomalies are data, not errors.
    fn anomaly(&mut self, app_proto: &'static str, kind: &'static str);
}

/// What a parser wants after a call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParseOutcome {
    /// Keep sending data.
    Continue,
    /// This direction is done (e.g. the handshake was seen); stop sending it.
    DoneDirection,
    /// The flow is done for this parser; stop sending data entirely.
    Done,
    /// The bytes after `consumed` in this direction belong to another protocol (TLS after a
    /// SOCKS handshake or an HTTP CONNECT): detection starts again from there, both directions.
    Upgrade {
        /// Bytes of this call's `data` that belonged to the old protocol.
        consumed: usize,
    },
}

/// A protocol parser bound to one flow.
pub trait AppParser: Send {
    /// EVE `app_proto` name.
    fn app_proto(&self) -> &'static str;
    /// In-order bytes of one direction: for TCP, the next contiguous chunk of the reassembled
    /// stream (a chunk boundary is not a message boundary; buffer partial messages, bounded);
    /// for UDP, one whole datagram.
    fn parse(&mut self, dir: Direction, data: &[u8], sink: &mut dyn AppSink) -> ParseOutcome;
    /// TCP bytes were lost in `dir` (a hole the reassembler gave up on); resynchronise or stop.
    fn gap(&mut self, dir: Direction) -> ParseOutcome {
        let _ = dir;
        ParseOutcome::DoneDirection
    }
    /// The parser is about to be dropped (it returned `Done`, both directions are done, the flow
    /// upgraded to another protocol, or the flow ended): report what is still held back, such
    /// as a TLS ClientHello that never got a ServerHello. At flow end the sink logs what is
    /// reported here but does not match it, so observations belong in earlier transactions.
    fn finish(&mut self, sink: &mut dyn AppSink) {
        let _ = sink;
    }
}

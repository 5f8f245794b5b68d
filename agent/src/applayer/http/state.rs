//! The HTTP/1.x [`AppParser`]: pipelined requests on the client side, response heads on the
//! server side (to pair them with requests and to follow a `CONNECT` into its tunnel).
//!
//! A transaction is reported when its request head is complete, so indicators on the host, URL
//! and user agent alert at once and also for requests that never get an answer (one-sided
//! captures, a dead server). The cost is that the record cannot carry the response's status:
//! that would need the framework to tell parsers when a flow ends (to report requests whose
//! response never came); see the module doc of [`super`].

#![forbid(unsafe_code)]
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::collections::VecDeque;
use std::net::IpAddr;

use kordon_intel::IndicatorKind;

use super::log::http_record;
use super::parser::{
    BadChunk, ChunkState, Headers, MAX_HEAD_BYTES, ParseError, RequestHead, StatusCode,
    parse_http_request_head, parse_http_response_head, skip_chunked,
};
use crate::applayer::{AppParser, AppRecord, AppSink, Direction, ParseOutcome, Transaction};
use crate::observe::{Location, Observation, ObservedValue};

const APP: &str = "http";

/// Requests awaiting their response. Pipelining clients send a handful; beyond this the
/// responses can no longer be paired and the server side stops being parsed.
pub const MAX_PENDING: usize = 64;

/// How the bytes after a head are framed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Body {
    /// No body: the next byte starts the next head.
    #[default]
    None,
    /// This many body bytes left.
    Length(u64),
    /// A chunked body in progress.
    Chunked {
        state: ChunkState,
        size: u64,
        line: usize,
    },
}

#[derive(Debug, Default)]
struct DirState {
    /// A head split over chunks (bounded by `MAX_HEAD_BYTES`).
    partial: Vec<u8>,
    body: Body,
}

/// What a pending request needs its response to know.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Pending {
    connect: bool,
    head: bool,
}

/// Per-flow HTTP state.
#[derive(Debug, Default)]
pub struct HttpParser {
    dirs: [DirState; 2],
    pending: VecDeque<Pending>,
    /// A CONNECT was sent and its response is not known yet: further client bytes are tunnel.
    tunnel_requested: bool,
    /// Reused buffers for the observed values of the current request.
    host: String,
    url_input: String,
    user_agent: String,
}

impl HttpParser {
    /// A parser for a new flow.
    pub fn new() -> Self {
        Self::default()
    }
}

/// What handling one head decided.
enum Next {
    /// Parse on.
    Continue,
    /// Stop with this outcome; `consumed` counts the head's bytes of this call's data.
    Stop(ParseOutcome),
}

impl AppParser for HttpParser {
    fn app_proto(&self) -> &'static str {
        APP
    }

    fn parse(&mut self, dir: Direction, data: &[u8], sink: &mut dyn AppSink) -> ParseOutcome {
        let mut offset = 0;
        loop {
            let rest = data.get(offset..).unwrap_or_default();
            let Some(state) = self.dirs.get_mut(dir.index()) else {
                return ParseOutcome::Done;
            };
            // The body of the previous message.
            match skip_body(&mut state.body, rest) {
                Ok(n) => offset += n,
                Err(BadChunk) => {
                    sink.anomaly(APP, "bad_chunked_body");
                    return ParseOutcome::DoneDirection;
                }
            }
            let rest = data.get(offset..).unwrap_or_default();
            if rest.is_empty() || state.body != Body::None {
                return ParseOutcome::Continue;
            }
            if dir == Direction::ToServer && self.tunnel_requested {
                // A client sends nothing but tunnel bytes after CONNECT (optimistic data, e.g. a
                // ClientHello before the proxy answered): detection starts again from here.
                return ParseOutcome::Upgrade { consumed: offset };
            }
            let mut partial = std::mem::take(&mut state.partial);
            let buffered = partial.len();
            let input: &[u8] = if buffered == 0 {
                rest
            } else {
                let take = rest.len().min(MAX_HEAD_BYTES.saturating_sub(buffered));
                partial.extend_from_slice(rest.get(..take).unwrap_or_default());
                &partial
            };
            let result = match dir {
                Direction::ToServer => self.request(input, sink),
                Direction::ToClient => self.response(input, sink),
            };
            let outcome = match result {
                Ok((used, next)) => {
                    // Bytes of `rest` that belonged to the head.
                    let used_from_rest = used.saturating_sub(buffered);
                    offset += used_from_rest;
                    partial.clear();
                    match next {
                        Next::Continue => None,
                        Next::Stop(ParseOutcome::Upgrade { .. }) => {
                            Some(ParseOutcome::Upgrade { consumed: offset })
                        }
                        Next::Stop(outcome) => Some(outcome),
                    }
                }
                Err(ParseError::Incomplete { .. }) => {
                    if buffered == 0 {
                        partial.extend_from_slice(rest);
                    }
                    if partial.len() >= MAX_HEAD_BYTES {
                        sink.anomaly(APP, "head_too_long");
                        Some(ParseOutcome::DoneDirection)
                    } else {
                        Some(ParseOutcome::Continue)
                    }
                }
                Err(ParseError::Invalid(kind)) => {
                    sink.anomaly(APP, kind.as_str());
                    Some(ParseOutcome::DoneDirection)
                }
            };
            if let Some(state) = self.dirs.get_mut(dir.index()) {
                state.partial = partial;
            }
            if let Some(outcome) = outcome {
                return outcome;
            }
        }
    }

    /// Bytes were lost: the position of heads and bodies is unknown, so the direction stops.
    fn gap(&mut self, dir: Direction) -> ParseOutcome {
        let _ = dir;
        ParseOutcome::DoneDirection
    }
}

/// Skips body bytes at the start of `i`; returns how many.
fn skip_body(body: &mut Body, i: &[u8]) -> Result<usize, BadChunk> {
    match body {
        Body::None => Ok(0),
        Body::Length(left) => {
            let take = (*left).min(i.len() as u64);
            *left -= take;
            if *left == 0 {
                *body = Body::None;
            }
            Ok(take as usize)
        }
        Body::Chunked { state, size, line } => {
            let n = skip_chunked(state, size, line, i)?;
            if *state == ChunkState::Done {
                *body = Body::None;
            }
            Ok(n)
        }
    }
}

fn body_of(headers: &Headers<'_>) -> Body {
    if headers.chunked {
        Body::Chunked {
            state: ChunkState::Size,
            size: 0,
            line: 0,
        }
    } else {
        match headers.content_length {
            Some(n) if n > 0 => Body::Length(n),
            _ => Body::None,
        }
    }
}

impl HttpParser {
    /// Parses one request head from `input`; returns the bytes it used.
    fn request(
        &mut self,
        input: &[u8],
        sink: &mut dyn AppSink,
    ) -> Result<(usize, Next), ParseError> {
        let (after, head) = parse_http_request_head(input)?;
        let used = input.len() - after.len();
        for name in head.anomalies.names() {
            sink.anomaly(APP, name);
        }
        let connect = head.method == b"CONNECT";
        self.report(&head, sink);
        if self.pending.len() >= MAX_PENDING {
            sink.anomaly(APP, "too_many_pending_requests");
            self.pending.pop_front();
        }
        self.pending.push_back(Pending {
            connect,
            head: head.method == b"HEAD",
        });
        if connect {
            self.tunnel_requested = true;
        } else if let Some(state) = self.dirs.get_mut(Direction::ToServer.index()) {
            state.body = body_of(&head.headers);
        }
        Ok((used, Next::Continue))
    }

    /// Parses one response head from `input`; returns the bytes it used.
    fn response(
        &mut self,
        input: &[u8],
        sink: &mut dyn AppSink,
    ) -> Result<(usize, Next), ParseError> {
        let (after, head) = parse_http_response_head(input)?;
        let used = input.len() - after.len();
        for name in head.anomalies.names() {
            sink.anomaly(APP, name);
        }
        let status = head.status;
        if status.is_informational() && status != StatusCode::SWITCHING_PROTOCOLS {
            // 100 Continue and friends precede the real response.
            return Ok((used, Next::Continue));
        }
        let Some(request) = self.pending.pop_front() else {
            sink.anomaly(APP, "response_without_request");
            return Ok((used, Next::Stop(ParseOutcome::DoneDirection)));
        };
        if status == StatusCode::SWITCHING_PROTOCOLS {
            // WebSocket, h2c…: nothing Kordon parses follows.
            return Ok((used, Next::Stop(ParseOutcome::Done)));
        }
        if request.connect {
            self.tunnel_requested = false;
            if status.is_success() {
                return Ok((used, Next::Stop(ParseOutcome::Upgrade { consumed: used })));
            }
        }
        let body = if request.head
            || status == StatusCode::NO_CONTENT
            || status == StatusCode::NOT_MODIFIED
        {
            Body::None
        } else if head.headers.chunked || head.headers.content_length.is_some() {
            body_of(&head.headers)
        } else {
            // Delimited by the connection's close: nothing after it can be found.
            return Ok((used, Next::Stop(ParseOutcome::DoneDirection)));
        };
        if let Some(state) = self.dirs.get_mut(Direction::ToClient.index()) {
            state.body = body;
        }
        Ok((used, Next::Continue))
    }

    /// Fills the reusable buffers for `head`'s observations and reports the transaction.
    fn report(&mut self, head: &RequestHead<'_>, sink: &mut dyn AppSink) {
        let HttpParser {
            host,
            url_input,
            user_agent,
            ..
        } = self;
        // The host: the Host header, else the authority of an absolute or CONNECT target.
        let authority = head.headers.host.or_else(|| target_authority(head));
        let mut host_ip = None;
        let mut port = None;
        host.clear();
        if let Some(raw) = authority {
            let (name, p) = split_host_port(raw);
            port = p.and_then(|p| std::str::from_utf8(p).ok()?.parse::<u16>().ok());
            push_lossy(host, name);
            host.make_ascii_lowercase();
            let bare = host.trim_start_matches('[').trim_end_matches(']');
            host_ip = bare.parse::<IpAddr>().ok();
        }
        // The URL: `host[:port]` + an origin-form target, or an absolute target as sent.
        url_input.clear();
        let target = head.target;
        let url = if target.windows(3).any(|w| w == b"://") && head.method != b"CONNECT" {
            push_lossy(url_input, target);
            kordon_intel::normalize::url(url_input).ok()
        } else if let (Some(raw), [b'/', ..]) = (head.headers.host, target) {
            push_lossy(url_input, raw);
            push_lossy(url_input, target);
            // One allocation per request: the normaliser returns a new String.
            kordon_intel::normalize::url(url_input).ok()
        } else {
            None
        };
        user_agent.clear();
        if let Some(ua) = head.headers.user_agent {
            push_collapsed(user_agent, ua);
        }
        let tx = HttpTx {
            head,
            host: (!host.is_empty()).then_some(host.as_str()),
            host_ip,
            port,
            url: url.as_deref(),
            user_agent: head.headers.user_agent.map(|_| user_agent.as_str()),
        };
        sink.transaction(&tx);
    }
}

/// The authority of an absolute-form (`http://host:port/…`) or authority-form (CONNECT
/// `host:port`) target.
fn target_authority<'a>(head: &RequestHead<'a>) -> Option<&'a [u8]> {
    let target = head.target;
    if head.method == b"CONNECT" {
        return Some(target);
    }
    let at = target.windows(3).position(|w| w == b"://")?;
    let rest = target.get(at + 3..)?;
    let end = rest
        .iter()
        .position(|&b| matches!(b, b'/' | b'?' | b'#'))
        .unwrap_or(rest.len());
    let authority = rest.get(..end)?;
    // Userinfo is not part of the host.
    Some(match authority.iter().rposition(|&b| b == b'@') {
        Some(i) => authority.get(i + 1..)?,
        None => authority,
    })
}

/// Splits `host[:port]`, keeping an IPv6 literal's brackets (`[::1]:8000` → `[::1]`, `8000`).
fn split_host_port(raw: &[u8]) -> (&[u8], Option<&[u8]>) {
    if let [b'[', ..] = raw
        && let Some(close) = raw.iter().position(|&b| b == b']')
    {
        let (host, after) = raw.split_at(close + 1);
        return (host, after.strip_prefix(b":"));
    }
    match raw.iter().filter(|&&b| b == b':').count() {
        1 => match raw.iter().position(|&b| b == b':') {
            Some(i) => (raw.get(..i).unwrap_or_default(), raw.get(i + 1..)),
            None => (raw, None),
        },
        // None, or a bare IPv6 address.
        _ => (raw, None),
    }
}

/// Appends `bytes` as text (invalid UTF-8 replaced, which only then allocates).
fn push_lossy(out: &mut String, bytes: &[u8]) {
    out.push_str(&String::from_utf8_lossy(bytes));
}

/// Appends a header value with every run of CR, LF, tab and space (obs-fold) as one space.
fn push_collapsed(out: &mut String, bytes: &[u8]) {
    if !bytes.iter().any(|b| matches!(b, b'\r' | b'\n' | b'\t')) {
        return push_lossy(out, bytes);
    }
    let text = String::from_utf8_lossy(bytes);
    let mut space = false;
    for c in text.chars() {
        if matches!(c, '\r' | '\n' | '\t' | ' ') {
            space = true;
        } else {
            if space && !out.is_empty() {
                out.push(' ');
            }
            space = false;
            out.push(c);
        }
    }
}

/// One request, borrowed from the parser for the sink call.
pub(super) struct HttpTx<'a> {
    pub(super) head: &'a RequestHead<'a>,
    /// Lower-case host without port (IPv6 literals keep their brackets).
    pub(super) host: Option<&'a str>,
    pub(super) host_ip: Option<IpAddr>,
    pub(super) port: Option<u16>,
    pub(super) url: Option<&'a str>,
    pub(super) user_agent: Option<&'a str>,
}

impl Transaction for HttpTx<'_> {
    /// `http.host` (an address for IP literals, else a name), `http.url` (normalised, when the
    /// request has a host and an origin-form or absolute target) and `http.user_agent`.
    fn observations(&self, emit: &mut dyn FnMut(Observation<'_>)) {
        if let Some(host) = self.host {
            let value = match self.host_ip {
                Some(ip) => ObservedValue::Ip(ip),
                None => ObservedValue::Domain(host),
            };
            emit(Observation {
                location: Location::HttpHost,
                value,
            });
        }
        if let Some(url) = self.url {
            emit(Observation {
                location: Location::HttpUrl,
                value: ObservedValue::Text(IndicatorKind::Url, url),
            });
        }
        if let Some(ua) = self.user_agent {
            emit(Observation {
                location: Location::HttpUserAgent,
                value: ObservedValue::Text(IndicatorKind::UserAgent, ua),
            });
        }
    }

    fn record(&self) -> AppRecord {
        http_record(self)
    }
}

#[cfg(test)]
mod tests;

//! HTTP/1.x: request heads (pipelined too) as `http.host`, `http.url` and `http.user_agent`
//! observations and EVE `http` records; response heads to pair them with requests and to follow
//! a successful `CONNECT` into its tunnel (the session then detects what the tunnel carries,
//! e.g. TLS).
//!
//! Hand-written rather than `httparse`. `httparse` does meet the allocation bar (it parses into
//! a caller-provided header array and borrows everything), but an IDS must read what servers
//! accept, and `httparse` rejects whole requests over things real traffic does: obs-fold lines in
//! requests, more headers than the caller's array (`TooManyHeaders`), bytes outside its token and
//! URI tables in the target. Kordon also needs only three headers, so no header array at all:
//! [`parser::parse_http_request_head`] walks the lines once and keeps slices of the few it uses,
//! flagging oddities as anomalies instead of failing.
//!
//! Allocation: heads split over TCP chunks are copied into a per-direction buffer bounded by
//! [`parser::MAX_HEAD_BYTES`]; host and user agent are prepared in reused `String`s; the URL
//! goes through `kordon_intel::normalize::url`, which returns a new `String`, so each request
//! with a URL costs one allocation (the feed side must use the same normaliser, and it has no
//! in-place form yet).
//!
//! Limitations: transactions are reported when the request head is complete (see [`state`]),
//! so EVE records carry no `status`; a request that never completes its head (a capture cut
//! after `GET /`) is not reported, since parsers are not told when the flow ends.

pub mod log;
pub mod parser;
pub mod state;

use super::detect::{L4, MAX_PROBE_BYTES, Probe, ProtocolDef, StreamDepth};
use super::{AppParser, Direction};

pub use state::HttpParser;

/// Registration for [`super::detect::PROTOCOLS`].
pub static DEF: ProtocolDef = ProtocolDef {
    name: "http",
    tcp_ports: &[80, 8080, 3128, 8000, 8008, 8888],
    udp_ports: &[],
    ports_only: false,
    probe,
    stream_depth: StreamDepth::Configured,
    new_parser,
};

/// To server: `method SP target SP HTTP/1.` on the first line (or, for a line too long to see
/// whole within the probe budget, an upper-case method and a target that starts like one). To
/// client: a status line's `HTTP/1.`.
fn probe(l4: L4, dir: Direction, data: &[u8]) -> Probe {
    if l4 != L4::Tcp {
        return Probe::NotForUs;
    }
    match dir {
        Direction::ToServer => probe_request(data),
        Direction::ToClient => {
            let want = b"HTTP/1.";
            let n = data.len().min(want.len());
            match (data.get(..n), want.get(..n)) {
                (Some(a), Some(b)) if a == b && n == want.len() => Probe::Certain,
                (Some(a), Some(b)) if a == b => Probe::Unsure,
                _ => Probe::NotForUs,
            }
        }
    }
}

fn probe_request(data: &[u8]) -> Probe {
    let method_len = data
        .iter()
        .take_while(|&&b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
        .count();
    match data.get(method_len) {
        None if method_len <= parser::MAX_METHOD_LEN => return Probe::Unsure,
        Some(b' ') if method_len > 0 && method_len <= parser::MAX_METHOD_LEN => {}
        _ => return Probe::NotForUs,
    }
    let line_end = data.iter().position(|&b| b == b'\n');
    let line = data
        .get(..line_end.unwrap_or(data.len()))
        .unwrap_or_default();
    if line.windows(8).any(|w| w == b" HTTP/1.") {
        return Probe::Certain;
    }
    if line_end.is_some() {
        return Probe::NotForUs;
    }
    // The line goes on; a long target could outgrow the probe budget before its version shows.
    let upper = data
        .get(..method_len)
        .is_some_and(|m| m.iter().all(u8::is_ascii_uppercase));
    let target_start = data.get(method_len + 1).copied();
    let target_like = matches!(target_start, Some(b'/' | b'*' | b'h' | b'H'));
    if upper && target_like && data.len() >= MAX_PROBE_BYTES / 2 {
        Probe::Certain
    } else {
        Probe::Unsure
    }
}

fn new_parser(_l4: L4) -> Box<dyn AppParser> {
    Box::new(HttpParser::new())
}

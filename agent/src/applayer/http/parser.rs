//! HTTP/1.x message heads (RFC 9112): pure, zero-copy functions.
//!
//! Lenient where real clients and servers are (an IDS must read what the peer accepted): bare
//! LF line ends, blank lines before a request line (RFC 9112 §2.2), obs-fold continuation lines
//! (kept inside the value's slice and flagged), header lines without a colon or with space
//! before it (skipped or accepted, and flagged). Strict where leniency would let garbage in:
//! the request line must be `token SP target SP HTTP/d.d`, and a head longer than
//! [`MAX_HEAD_BYTES`] is rejected rather than buffered without end.

#![forbid(unsafe_code)]
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

/// Longest request or response head (start line plus headers) kept while waiting for its end:
/// the default TCP reassembly depth, and twice Apache's 8 KiB `LimitRequestFieldSize`.
pub const MAX_HEAD_BYTES: usize = 16 * 1024;
/// Header lines examined per head; Apache's `LimitRequestFields` default. Later lines are
/// skipped with [`Anomalies::TOO_MANY_HEADERS`].
pub const MAX_HEADERS: usize = 100;
/// Longest method token accepted (the longest registered method, `UPDATEREDIRECTREF`, has 17).
pub const MAX_METHOD_LEN: usize = 24;
/// Longest chunk-size line (hex digits plus extensions) of a chunked body.
pub const MAX_CHUNK_LINE: usize = 1024;

/// Why a head could not be parsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParseError {
    /// The head is not complete yet.
    Incomplete {
        /// At least this many more bytes.
        needed: usize,
    },
    /// Not an HTTP/1.x head.
    Invalid(InvalidKind),
}

/// What made a head invalid.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InvalidKind {
    /// No end of head within [`MAX_HEAD_BYTES`].
    HeadTooLong,
    /// The request line is not `method SP target SP HTTP/x.y`.
    BadRequestLine,
    /// The status line is not `HTTP/x.y SP code ...`.
    BadStatusLine,
}

impl InvalidKind {
    /// Stable snake_case name used for anomaly counters.
    pub fn as_str(self) -> &'static str {
        match self {
            InvalidKind::HeadTooLong => "head_too_long",
            InvalidKind::BadRequestLine => "bad_request_line",
            InvalidKind::BadStatusLine => "bad_status_line",
        }
    }
}

crate::anomaly_bits! {
    /// Problems that did not stop the parse (bit set).
    Anomalies {
        /// A line ended with LF alone.
        BARE_LF = 0 => "bare_lf",
        /// An obs-fold continuation line (RFC 9112 §5.2).
        OBS_FOLD = 1 => "obs_fold",
        /// More than [`MAX_HEADERS`] header lines.
        TOO_MANY_HEADERS = 2 => "too_many_headers",
        /// A header line without a colon, an empty or non-token name, or space before the colon.
        BAD_HEADER = 3 => "bad_header_line",
        /// More than one Host header.
        DUPLICATE_HOST = 4 => "duplicate_host",
        /// A Content-Length that is not a number (or several that disagree).
        BAD_CONTENT_LENGTH = 5 => "bad_content_length",
        /// Blank lines before the start line.
        LEADING_BLANK_LINES = 6 => "leading_blank_lines",
    }
}

/// A response status code (RFC 9110 §15): a newtype, so any three digits parse.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct StatusCode(pub u16);

impl StatusCode {
    /// 100 Continue.
    pub const CONTINUE: StatusCode = StatusCode(100);
    /// 101 Switching Protocols.
    pub const SWITCHING_PROTOCOLS: StatusCode = StatusCode(101);
    /// 200 OK.
    pub const OK: StatusCode = StatusCode(200);
    /// 204 No Content.
    pub const NO_CONTENT: StatusCode = StatusCode(204);
    /// 304 Not Modified.
    pub const NOT_MODIFIED: StatusCode = StatusCode(304);
    /// 407 Proxy Authentication Required.
    pub const PROXY_AUTH_REQUIRED: StatusCode = StatusCode(407);

    /// 1xx.
    pub fn is_informational(self) -> bool {
        (100..200).contains(&self.0)
    }

    /// 2xx.
    pub fn is_success(self) -> bool {
        (200..300).contains(&self.0)
    }
}

/// Headers Kordon uses, common to requests and responses.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Headers<'a> {
    /// The first `Host` value (trimmed; obs-fold lines included as sent).
    pub host: Option<&'a [u8]>,
    /// The first `User-Agent` value.
    pub user_agent: Option<&'a [u8]>,
    /// `Content-Length`, when valid.
    pub content_length: Option<u64>,
    /// `Transfer-Encoding` names `chunked`.
    pub chunked: bool,
    /// Header lines seen (up to [`MAX_HEADERS`]).
    pub count: usize,
}

/// A request head, borrowed from the input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RequestHead<'a> {
    /// The method token.
    pub method: &'a [u8],
    /// The request target as sent.
    pub target: &'a [u8],
    /// The protocol (`HTTP/1.1`).
    pub version: &'a [u8],
    /// Headers of interest.
    pub headers: Headers<'a>,
    /// Problems found.
    pub anomalies: Anomalies,
}

/// A response head, borrowed from the input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ResponseHead<'a> {
    /// The protocol (`HTTP/1.1`).
    pub version: &'a [u8],
    /// The status code.
    pub status: StatusCode,
    /// The reason phrase.
    pub reason: &'a [u8],
    /// Headers of interest.
    pub headers: Headers<'a>,
    /// Problems found.
    pub anomalies: Anomalies,
}

/// RFC 9110 §5.6.2 `tchar`.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// Whether `v` is `HTTP/` digit `.` digit.
fn is_version(v: &[u8]) -> bool {
    matches!(v, [b'H', b'T', b'T', b'P', b'/', major, b'.', minor]
        if major.is_ascii_digit() && minor.is_ascii_digit())
}

/// Splits the head off `i`: returns (leading blank bytes, head length including its final empty
/// line). The head ends at the first empty line (`\n\n` or `\n\r\n`).
fn head_extent(i: &[u8]) -> Result<(usize, usize), ParseError> {
    let skip = i.iter().take_while(|&&b| b == b'\r' || b == b'\n').count();
    let body = i.get(skip..).unwrap_or_default();
    let mut at = 0;
    while let Some(nl) = body
        .get(at..)
        .and_then(|r| r.iter().position(|&b| b == b'\n'))
    {
        let line_end = at + nl + 1;
        match body.get(line_end..) {
            Some([b'\n', ..]) => return Ok((skip, line_end + 1)),
            Some([b'\r', b'\n', ..]) => return Ok((skip, line_end + 2)),
            _ => {}
        }
        at = line_end;
    }
    if i.len() >= MAX_HEAD_BYTES {
        Err(ParseError::Invalid(InvalidKind::HeadTooLong))
    } else {
        Err(ParseError::Incomplete { needed: 1 })
    }
}

/// Splits `head` (which ends with an empty line) into its start line and the rest.
fn split_line(i: &[u8]) -> Option<(&[u8], &[u8], bool)> {
    let nl = i.iter().position(|&b| b == b'\n')?;
    let (line, rest) = (i.get(..nl)?, i.get(nl + 1..)?);
    match line.strip_suffix(b"\r") {
        Some(line) => Some((line, rest, false)),
        None => Some((line, rest, true)),
    }
}

/// Reads the header lines in `head` (after the start line, up to and including the empty line).
fn parse_headers<'a>(head: &'a [u8], anomalies: &mut Anomalies) -> Headers<'a> {
    let mut headers = Headers::default();
    // Values as offsets into `head`, so an obs-fold line can extend the value it continues.
    let mut host: Option<(usize, usize)> = None;
    let mut user_agent: Option<(usize, usize)> = None;
    // The header a continuation line belongs to: 0 none/other, 1 Host, 2 User-Agent.
    let mut current = 0u8;
    let mut pos = 0;
    while let Some((line, _, bare)) = head.get(pos..).and_then(split_line) {
        let line_start = pos;
        let line_end = line_start + line.len();
        pos += line.len() + if bare { 1 } else { 2 };
        if bare {
            anomalies.insert(Anomalies::BARE_LF);
        }
        if line.is_empty() {
            break;
        }
        if let [b' ' | b'\t', ..] = line {
            anomalies.insert(Anomalies::OBS_FOLD);
            let slot = match current {
                1 => host.as_mut(),
                2 => user_agent.as_mut(),
                _ => None,
            };
            if let Some((_, end)) = slot {
                let trailing = line.len() - line.trim_ascii_end().len();
                *end = line_end - trailing;
            }
            continue;
        }
        current = 0;
        if headers.count >= MAX_HEADERS {
            anomalies.insert(Anomalies::TOO_MANY_HEADERS);
            continue;
        }
        headers.count += 1;
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            anomalies.insert(Anomalies::BAD_HEADER);
            continue;
        };
        let (name, raw_value) = line.split_at(colon);
        let raw_value = raw_value.get(1..).unwrap_or_default();
        let lead = raw_value.len() - raw_value.trim_ascii_start().len();
        let value = raw_value.trim_ascii();
        let value_start = line_start + colon + 1 + lead;
        let span = (value_start, value_start + value.len());
        let bare_name = name.trim_ascii_end();
        if bare_name.len() != name.len()
            || bare_name.is_empty()
            || !bare_name.iter().all(|&b| is_tchar(b))
        {
            anomalies.insert(Anomalies::BAD_HEADER);
        }
        if bare_name.eq_ignore_ascii_case(b"host") {
            if host.is_some() {
                anomalies.insert(Anomalies::DUPLICATE_HOST);
            } else {
                host = Some(span);
                current = 1;
            }
        } else if bare_name.eq_ignore_ascii_case(b"user-agent") {
            if user_agent.is_none() {
                user_agent = Some(span);
                current = 2;
            }
        } else if bare_name.eq_ignore_ascii_case(b"content-length") {
            let n = std::str::from_utf8(value)
                .ok()
                .filter(|v| !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()))
                .and_then(|v| v.parse::<u64>().ok());
            match (n, headers.content_length) {
                (Some(n), None) => headers.content_length = Some(n),
                (Some(n), Some(old)) if n == old => {}
                _ => anomalies.insert(Anomalies::BAD_CONTENT_LENGTH),
            }
        } else if bare_name.eq_ignore_ascii_case(b"transfer-encoding") {
            headers.chunked = value
                .split(|&b| b == b',')
                .any(|coding| coding.trim_ascii().eq_ignore_ascii_case(b"chunked"));
        }
    }
    headers.host = host.and_then(|(a, b)| head.get(a..b));
    headers.user_agent = user_agent.and_then(|(a, b)| head.get(a..b));
    headers
}

/// Parses a request head; returns the bytes after it (the body, or the next request).
pub fn parse_http_request_head(i: &[u8]) -> Result<(&[u8], RequestHead<'_>), ParseError> {
    let (skip, len) = head_extent(i)?;
    let head = i.get(skip..skip + len).unwrap_or_default();
    let rest = i.get(skip + len..).unwrap_or_default();
    let mut anomalies = Anomalies::default();
    if skip > 0 {
        anomalies.insert(Anomalies::LEADING_BLANK_LINES);
    }
    let bad = ParseError::Invalid(InvalidKind::BadRequestLine);
    let (line, after, bare) = split_line(head).ok_or(bad)?;
    if bare {
        anomalies.insert(Anomalies::BARE_LF);
    }
    let (method, target_version) = line.split_at(line.iter().position(|&b| b == b' ').ok_or(bad)?);
    let target_version = target_version.trim_ascii_start();
    let last = target_version.iter().rposition(|&b| b == b' ').ok_or(bad)?;
    let (target, version) = target_version.split_at(last);
    let (target, version) = (target.trim_ascii_end(), version.trim_ascii_start());
    if method.is_empty()
        || method.len() > MAX_METHOD_LEN
        || !method.iter().all(|&b| is_tchar(b))
        || target.is_empty()
        || !is_version(version)
    {
        return Err(bad);
    }
    let headers = parse_headers(after, &mut anomalies);
    Ok((
        rest,
        RequestHead {
            method,
            target,
            version,
            headers,
            anomalies,
        },
    ))
}

/// Parses a response head; returns the bytes after it.
pub fn parse_http_response_head(i: &[u8]) -> Result<(&[u8], ResponseHead<'_>), ParseError> {
    let (skip, len) = head_extent(i)?;
    let head = i.get(skip..skip + len).unwrap_or_default();
    let rest = i.get(skip + len..).unwrap_or_default();
    let mut anomalies = Anomalies::default();
    if skip > 0 {
        anomalies.insert(Anomalies::LEADING_BLANK_LINES);
    }
    let bad = ParseError::Invalid(InvalidKind::BadStatusLine);
    let (line, after, bare) = split_line(head).ok_or(bad)?;
    if bare {
        anomalies.insert(Anomalies::BARE_LF);
    }
    let (version, rest_line) = line.split_at(line.iter().position(|&b| b == b' ').ok_or(bad)?);
    let rest_line = rest_line.trim_ascii_start();
    let (code, reason) = match rest_line.iter().position(|&b| b == b' ') {
        Some(sp) => rest_line.split_at(sp),
        None => (rest_line, &b""[..]),
    };
    let status = match code {
        [a, b, c] if a.is_ascii_digit() && b.is_ascii_digit() && c.is_ascii_digit() => {
            StatusCode(u16::from(a - b'0') * 100 + u16::from(b - b'0') * 10 + u16::from(c - b'0'))
        }
        _ => return Err(bad),
    };
    if !is_version(version) {
        return Err(bad);
    }
    let headers = parse_headers(after, &mut anomalies);
    Ok((
        rest,
        ResponseHead {
            version,
            status,
            reason: reason.trim_ascii(),
            headers,
            anomalies,
        },
    ))
}

/// A chunked body that cannot be followed (a size over 2^60 or a size line over
/// [`MAX_CHUNK_LINE`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BadChunk;

/// Progress through a chunked body (RFC 9112 §7.1), kept between calls.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum ChunkState {
    /// Reading a chunk-size line; `size` so far, `digits` seen, `line` bytes seen.
    #[default]
    Size,
    /// Inside the size line after the digits (extensions), or its CR.
    SizeRest,
    /// Chunk data left.
    Data(u64),
    /// The CRLF after chunk data.
    DataEnd,
    /// Trailer lines after the last chunk; `true` when the current line is empty so far.
    Trailer(bool),
    /// The body ended.
    Done,
}

/// Walks a chunked body: returns how many bytes of `i` belong to it and updates `state`
/// (which is [`ChunkState::Done`] once the body ended). `size` and `line` carry the size being
/// read and the length of the current size line.
pub fn skip_chunked(
    state: &mut ChunkState,
    size: &mut u64,
    line: &mut usize,
    i: &[u8],
) -> Result<usize, BadChunk> {
    let mut pos = 0;
    while pos < i.len() {
        let Some(&b) = i.get(pos) else { break };
        match *state {
            ChunkState::Size | ChunkState::SizeRest => {
                *line += 1;
                if *line > MAX_CHUNK_LINE {
                    return Err(BadChunk);
                }
                pos += 1;
                match (b, *state) {
                    (b'\n', _) => {
                        *line = 0;
                        *state = if *size == 0 {
                            ChunkState::Trailer(true)
                        } else {
                            ChunkState::Data(*size)
                        };
                        *size = 0;
                    }
                    (b'0'..=b'9' | b'a'..=b'f' | b'A'..=b'F', ChunkState::Size) => {
                        let digit = u64::from(char::from(b).to_digit(16).unwrap_or(0));
                        if *size >= 1 << 60 {
                            return Err(BadChunk);
                        }
                        *size = *size * 16 + digit;
                    }
                    _ => *state = ChunkState::SizeRest,
                }
            }
            ChunkState::Data(left) => {
                let take = left.min((i.len() - pos) as u64);
                pos += take as usize;
                *state = if take == left {
                    ChunkState::DataEnd
                } else {
                    ChunkState::Data(left - take)
                };
            }
            ChunkState::DataEnd => {
                pos += 1;
                if b == b'\n' {
                    *state = ChunkState::Size;
                }
            }
            ChunkState::Trailer(empty) => {
                pos += 1;
                *state = match b {
                    b'\n' if empty => ChunkState::Done,
                    b'\n' => ChunkState::Trailer(true),
                    b'\r' => ChunkState::Trailer(empty),
                    _ => ChunkState::Trailer(false),
                };
            }
            ChunkState::Done => break,
        }
    }
    Ok(pos)
}

#[cfg(test)]
mod tests;

//! A bounded line reader shared by every loader.
//!
//! Why not `BufRead::lines`: it allocates a `String` per line, fails the whole read on invalid
//! UTF-8, and buffers a line of any length. Feeds are untrusted input, so here a bad line is a
//! per-line outcome and an overlong line is skipped without holding more than
//! [`MAX_LINE_BYTES`] of it.

use std::io::{self, BufRead};

/// Longest accepted line, in bytes, excluding the line ending. Real indicator lines are far
/// shorter (the longest legitimate values, URLs, stay under 8 KiB in practice); 64 KiB leaves
/// room for long Zeek metadata columns while bounding memory per line.
pub const MAX_LINE_BYTES: usize = 64 * 1024;

/// One physical line.
#[derive(Debug)]
pub(crate) enum Line<'a> {
    /// The line without its line ending (and without a leading BOM on line 1).
    Text(&'a str),
    /// The line exceeded [`MAX_LINE_BYTES`]; its content was discarded.
    TooLong,
    /// The line is not valid UTF-8.
    BadUtf8,
}

impl Line<'_> {
    /// The reason recorded for a line that could not be read as text, if any.
    pub(crate) fn problem(&self) -> Option<String> {
        match self {
            Line::Text(_) => None,
            Line::TooLong => Some(format!("line longer than {MAX_LINE_BYTES} bytes")),
            Line::BadUtf8 => Some("line is not valid UTF-8".to_owned()),
        }
    }
}

/// The trimmed text of a data line; `None` for blank and `#` comment lines, and for lines that
/// are not text, which are rejected into `report` with the reason.
pub(crate) fn data_text<'a>(
    report: &mut crate::report::LoadReport,
    number: usize,
    line: Line<'a>,
) -> Option<&'a str> {
    match line {
        Line::Text(text) => {
            let text = text.trim();
            (!text.is_empty() && !text.starts_with('#')).then_some(text)
        }
        other => {
            report.reject(number, other.problem().unwrap_or_default());
            None
        }
    }
}

/// Reads lines from a `BufRead` into one reused buffer.
pub(crate) struct Lines<R> {
    reader: R,
    buf: Vec<u8>,
    number: usize,
}

impl<R: BufRead> Lines<R> {
    pub(crate) fn new(reader: R) -> Self {
        Lines {
            reader,
            buf: Vec::new(),
            number: 0,
        }
    }

    /// The next line and its 1-based number, or `None` at the end of input.
    pub(crate) fn next_line(&mut self) -> io::Result<Option<(usize, Line<'_>)>> {
        self.buf.clear();
        let mut too_long = false;
        let mut any = false;
        loop {
            let available = match self.reader.fill_buf() {
                Ok(bytes) => bytes,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if available.is_empty() {
                break;
            }
            any = true;
            let newline = available.iter().position(|&b| b == b'\n');
            let chunk = match newline {
                Some(i) => available.get(..i).unwrap_or(available),
                None => available,
            };
            // +1: a CR before the LF is stripped below and does not count.
            if !too_long && self.buf.len() + chunk.len() > MAX_LINE_BYTES + 1 {
                too_long = true;
                self.buf.clear();
            }
            if !too_long {
                self.buf.extend_from_slice(chunk);
            }
            let used = chunk.len() + usize::from(newline.is_some());
            self.reader.consume(used);
            if newline.is_some() {
                break;
            }
        }
        if !any {
            return Ok(None);
        }
        self.number += 1;
        if too_long {
            return Ok(Some((self.number, Line::TooLong)));
        }
        let mut bytes = self.buf.as_slice();
        if let Some(rest) = bytes.strip_suffix(b"\r") {
            bytes = rest;
        }
        if bytes.len() > MAX_LINE_BYTES {
            return Ok(Some((self.number, Line::TooLong)));
        }
        if self.number == 1
            && let Some(rest) = bytes.strip_prefix(b"\xef\xbb\xbf")
        {
            bytes = rest;
        }
        Ok(Some((
            self.number,
            match std::str::from_utf8(bytes) {
                Ok(text) => Line::Text(text),
                Err(_) => Line::BadUtf8,
            },
        )))
    }
}

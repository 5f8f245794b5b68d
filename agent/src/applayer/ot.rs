//! What the OT decoders (`modbus/`, `dnp3/`, `iec104/`, `s7comm/`) share: the parse error type,
//! bounded framing of a TCP byte stream into protocol frames, and the bounded queue of open
//! requests that pairs responses with their requests.
//!
//! OT conversations are long-lived request/response streams of small frames (Modbus ADUs are at
//! most 260 bytes, DNP3 link frames 292, IEC-104 APDUs 255, TPKT packets of S7 a few hundred).
//! Frames are parsed straight from the reassembled chunk when they are whole; only the partial
//! frame at the end of a chunk is copied, into a per-direction buffer bounded by the protocol's
//! maximum frame length.
#![forbid(unsafe_code)]
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

use std::collections::VecDeque;

/// Why a `parse_*` function returned no frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ParseError {
    /// The input ends inside the frame; `needed` more bytes would complete it (at least).
    Incomplete {
        /// Bytes missing.
        needed: usize,
    },
    /// The input cannot be this protocol; the name is a stable snake_case anomaly kind.
    Invalid(Invalid),
}

/// An invalid-input kind (`bad_length`, `bad_start`…), reported as the anomaly name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Invalid(pub &'static str);

/// `Incomplete` unless `i` has `n` bytes.
pub fn need(i: &[u8], n: usize) -> Result<(), ParseError> {
    if i.len() < n {
        Err(ParseError::Incomplete {
            needed: n - i.len(),
        })
    } else {
        Ok(())
    }
}

/// Big-endian u16 at `at` (Modbus, S7comm, TPKT are big-endian on the wire).
pub fn be_u16(i: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*i.get(at)?, *i.get(at + 1)?]))
}

/// Little-endian u16 at `at` (DNP3 and IEC-104 are little-endian on the wire).
pub fn le_u16(i: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_le_bytes([*i.get(at)?, *i.get(at + 1)?]))
}

/// Big-endian u32 at `at`.
pub fn be_u32(i: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes([
        *i.get(at)?,
        *i.get(at + 1)?,
        *i.get(at + 2)?,
        *i.get(at + 3)?,
    ]))
}

/// Little-endian 24-bit value at `at` (IEC-104 information object addresses).
pub fn le_u24(i: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes([
        *i.get(at)?,
        *i.get(at + 1)?,
        *i.get(at + 2)?,
        0,
    ]))
}

/// Outcome of framing one direction's chunk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Framing {
    /// Every whole frame was handed over; a partial one may be buffered.
    Ok,
    /// A frame was invalid (the name says why); the stream cannot be resynchronised.
    Invalid(Invalid),
}

impl Framing {
    /// What the session should do next: keep going, or — after an invalid frame, which these
    /// protocols cannot resynchronise past — report the anomaly and stop the direction.
    pub fn outcome(
        self,
        app_proto: &'static str,
        sink: &mut dyn super::AppSink,
    ) -> super::ParseOutcome {
        match self {
            Framing::Ok => super::ParseOutcome::Continue,
            Framing::Invalid(why) => {
                sink.anomaly(app_proto, why.0);
                super::ParseOutcome::DoneDirection
            }
        }
    }
}

/// One direction's partial-frame buffer.
#[derive(Debug, Default)]
pub struct FrameBuffer {
    partial: Vec<u8>,
}

impl FrameBuffer {
    /// Splits `data` (the next in-order bytes) into frames with `parse`, which returns the
    /// frame's length or an error, and hands each whole frame to `frame`. A trailing partial
    /// frame is kept (at most `max_frame` bytes) for the next call.
    pub fn feed(
        &mut self,
        data: &[u8],
        max_frame: usize,
        mut parse: impl FnMut(&[u8]) -> Result<usize, ParseError>,
        mut frame: impl FnMut(&[u8]),
    ) -> Framing {
        if self.partial.is_empty() {
            return Self::frames(data, max_frame, &mut parse, &mut frame, &mut self.partial);
        }
        // Complete the buffered frame with as few bytes as possible, then go zero-copy again.
        let mut data = data;
        loop {
            match parse(&self.partial) {
                Ok(len) => {
                    let whole = std::mem::take(&mut self.partial);
                    if let Some(bytes) = whole.get(..len) {
                        frame(bytes);
                    }
                    let tail = whole.get(len..).unwrap_or_default();
                    if !tail.is_empty() {
                        // Cannot happen: we add only what the frame needs. Handle it anyway.
                        self.partial.extend_from_slice(tail);
                        continue;
                    }
                    self.partial = whole;
                    self.partial.clear();
                    return Self::frames(
                        data,
                        max_frame,
                        &mut parse,
                        &mut frame,
                        &mut self.partial,
                    );
                }
                Err(ParseError::Invalid(why)) => {
                    self.partial.clear();
                    return Framing::Invalid(why);
                }
                Err(ParseError::Incomplete { needed }) => {
                    if data.is_empty() {
                        return Framing::Ok;
                    }
                    let take = needed.max(1).min(data.len());
                    let (head, rest) = data.split_at(take);
                    if self.partial.len() + head.len() > max_frame {
                        self.partial.clear();
                        return Framing::Invalid(Invalid("frame_too_long"));
                    }
                    self.partial.extend_from_slice(head);
                    data = rest;
                }
            }
        }
    }

    fn frames(
        mut data: &[u8],
        max_frame: usize,
        parse: &mut impl FnMut(&[u8]) -> Result<usize, ParseError>,
        frame: &mut impl FnMut(&[u8]),
        partial: &mut Vec<u8>,
    ) -> Framing {
        while !data.is_empty() {
            match parse(data) {
                Ok(len) => {
                    let len = len.clamp(1, data.len());
                    let (whole, rest) = data.split_at(len);
                    frame(whole);
                    data = rest;
                }
                Err(ParseError::Incomplete { .. }) => {
                    if data.len() > max_frame {
                        return Framing::Invalid(Invalid("frame_too_long"));
                    }
                    partial.extend_from_slice(data);
                    return Framing::Ok;
                }
                Err(ParseError::Invalid(why)) => return Framing::Invalid(why),
            }
        }
        Framing::Ok
    }

    /// Drops any buffered bytes (after a gap).
    pub fn clear(&mut self) {
        self.partial.clear();
    }
}

/// A bounded queue of open requests awaiting their responses, oldest first.
///
/// At `cap` open requests the queue is *flooded*: [`Pending::push`] refuses new entries (the
/// caller reports a `flooded` anomaly once) until responses drain it below the cap, as
/// Suricata's Modbus parser does at 500 open transactions.
#[derive(Debug)]
pub struct Pending<T> {
    queue: VecDeque<T>,
    cap: usize,
    flooded: bool,
}

/// What [`Pending::push`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Push {
    /// Queued.
    Queued,
    /// The queue just became full: report `flooded`.
    Flooded,
    /// Still full; dropped silently (already reported).
    Dropped,
}

impl<T> Pending<T> {
    /// An empty queue holding at most `cap` requests.
    pub fn new(cap: usize) -> Self {
        Pending {
            queue: VecDeque::new(),
            cap,
            flooded: false,
        }
    }

    /// Queues a request unless the queue is full.
    pub fn push(&mut self, item: T) -> Push {
        if self.queue.len() >= self.cap {
            if self.flooded {
                return Push::Dropped;
            }
            self.flooded = true;
            return Push::Flooded;
        }
        self.queue.push_back(item);
        Push::Queued
    }

    /// Removes and returns the oldest request `matches` accepts.
    pub fn take(&mut self, matches: impl Fn(&T) -> bool) -> Option<T> {
        let index = self.queue.iter().position(matches)?;
        let item = self.queue.remove(index);
        if self.queue.len() < self.cap {
            self.flooded = false;
        }
        item
    }

    /// Open requests.
    pub fn len(&self) -> usize {
        self.queue.len()
    }

    /// Whether no request is open.
    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Frames of `[len, payload…]`.
    fn parse(i: &[u8]) -> Result<usize, ParseError> {
        let len = usize::from(*i.first().ok_or(ParseError::Incomplete { needed: 1 })?);
        if len == 0 {
            return Err(ParseError::Invalid(Invalid("zero")));
        }
        need(i, len + 1)?;
        Ok(len + 1)
    }

    #[test]
    fn frames_across_chunks() {
        let mut buffer = FrameBuffer::default();
        let mut frames: Vec<Vec<u8>> = Vec::new();
        let stream = [2u8, b'a', b'b', 1, b'c', 3, b'd', b'e', b'f'];
        for chunk in stream.chunks(2) {
            let out = buffer.feed(chunk, 8, parse, |f| frames.push(f.to_vec()));
            assert_eq!(out, Framing::Ok);
        }
        assert_eq!(
            frames,
            vec![
                vec![2, b'a', b'b'],
                vec![1, b'c'],
                vec![3, b'd', b'e', b'f']
            ]
        );
        assert_eq!(
            buffer.feed(&[0], 8, parse, |_| {}),
            Framing::Invalid(Invalid("zero"))
        );
    }

    #[test]
    fn pending_floods_and_drains() {
        let mut pending = Pending::new(2);
        assert_eq!(pending.push(1), Push::Queued);
        assert_eq!(pending.push(2), Push::Queued);
        assert_eq!(pending.push(3), Push::Flooded);
        assert_eq!(pending.push(4), Push::Dropped);
        assert_eq!(pending.take(|&x| x == 2), Some(2));
        assert_eq!(pending.push(5), Push::Queued);
        assert_eq!(pending.len(), 2);
    }
}

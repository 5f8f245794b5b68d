//! TCP stream reassembly of the first bytes of each direction.
//!
//! Indicators live in the opening bytes of a conversation (ClientHello, HTTP request line and
//! headers, a DNS-over-TCP query), so each direction is reassembled only up to a configured
//! depth (default 16 KiB) and then dropped: memory per flow is bounded by the depth of the
//! out-of-order buffer, never by the flow's length.
//!
//! In-order segments are handed to the parser straight from the packet (no copy). A segment that
//! arrives ahead of a hole is copied into a small sorted buffer (bounded by
//! `max_out_of_order_bytes`) until the hole fills. Retransmissions and overlaps are trimmed to
//! the bytes not yet delivered (first copy wins, as Suricata's default policy). Sequence numbers
//! compare with wrapping arithmetic. A SYN sets the initial sequence number, so data on the SYN
//! (TCP Fast Open) is delivered; without a SYN (capture started mid-flow) the first segment seen
//! starts the stream. A hole is declared a gap (the parser is told, and the stream continues
//! from the buffered data) when the out-of-order buffer is full, or when the other side
//! acknowledges past it — the receiver got bytes the capture never saw.

/// Reassembly limits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StreamConfig {
    /// Bytes delivered per direction before the stream stops being reassembled.
    pub depth: u32,
    /// Bytes held per direction while waiting for a hole to fill.
    pub max_out_of_order_bytes: u32,
}

impl Default for StreamConfig {
    fn default() -> Self {
        StreamConfig {
            depth: 16 * 1024,
            max_out_of_order_bytes: 16 * 1024,
        }
    }
}

/// Segments further ahead than this are not buffered: they are garbage, or the hole is so large
/// that nothing useful would be reassembled.
const MAX_AHEAD: u32 = 1 << 20;

/// A piece of reassembly output.
#[derive(Debug, PartialEq, Eq)]
pub enum Chunk<'a> {
    /// The next in-order bytes.
    Data(&'a [u8]),
    /// Bytes were lost before the next data.
    Gap,
}

/// One direction's reassembly state.
#[derive(Debug, Default)]
pub struct StreamDir {
    started: bool,
    next_seq: u32,
    delivered: u32,
    done: bool,
    pending: Vec<(u32, Vec<u8>)>,
    pending_bytes: u32,
}

impl StreamDir {
    /// Whether the depth was reached (nothing more will be delivered).
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// Bytes currently buffered out of order.
    pub fn buffered_bytes(&self) -> u32 {
        self.pending_bytes
    }

    /// Stops reassembling this direction and frees its buffer.
    pub fn finish(&mut self) {
        self.done = true;
        self.pending = Vec::new();
        self.pending_bytes = 0;
    }

    /// Feeds one segment; `deliver` receives in-order chunks and gaps, in order, and returns
    /// `false` to stop the direction.
    pub fn segment(
        &mut self,
        config: &StreamConfig,
        seq: u32,
        syn: bool,
        payload: &[u8],
        deliver: &mut dyn FnMut(Chunk<'_>) -> bool,
    ) {
        if self.done {
            return;
        }
        let data_seq = if syn {
            if !self.started {
                self.started = true;
                self.next_seq = seq.wrapping_add(1);
            }
            seq.wrapping_add(1)
        } else {
            if !self.started {
                self.started = true;
                self.next_seq = seq;
            }
            seq
        };
        if payload.is_empty() {
            return;
        }
        let ahead = data_seq.wrapping_sub(self.next_seq) as i32;
        if ahead <= 0 {
            let skip = ahead.unsigned_abs() as usize;
            if skip < payload.len() {
                self.deliver(config, &payload[skip..], deliver);
                self.drain(config, deliver);
            }
            return;
        }
        let ahead = ahead as u32;
        if ahead > MAX_AHEAD {
            return;
        }
        if self.pending_bytes as usize + payload.len() > config.max_out_of_order_bytes as usize {
            // The hole will not fill within our budget: declare it lost and move on.
            if !deliver(Chunk::Gap) {
                self.finish();
                return;
            }
            self.next_seq = self
                .pending
                .first()
                .map_or(data_seq, |(first, _)| *first)
                .min_wrapping(data_seq);
            self.insert(data_seq, payload);
            self.drain(config, deliver);
            return;
        }
        self.insert(data_seq, payload);
    }

    /// The peer acknowledged up to `ack` (exclusive). If that is past a hole we are still waiting
    /// for, the receiver got bytes the capture missed: the hole is declared a gap and the stream
    /// continues from the buffered data.
    pub fn acked(
        &mut self,
        config: &StreamConfig,
        ack: u32,
        deliver: &mut dyn FnMut(Chunk<'_>) -> bool,
    ) {
        if self.done || !self.started {
            return;
        }
        let Some(&(first, _)) = self.pending.first() else {
            return;
        };
        let acked_past_hole = (ack.wrapping_sub(self.next_seq) as i32) > 0;
        let hole = (first.wrapping_sub(self.next_seq) as i32) > 0;
        if !(acked_past_hole && hole) {
            return;
        }
        if !deliver(Chunk::Gap) {
            self.finish();
            return;
        }
        self.next_seq = first;
        self.drain(config, deliver);
    }

    fn insert(&mut self, seq: u32, payload: &[u8]) {
        let base = self.next_seq;
        let position = self
            .pending
            .iter()
            .position(|(s, _)| s.wrapping_sub(base) > seq.wrapping_sub(base))
            .unwrap_or(self.pending.len());
        self.pending_bytes += payload.len() as u32;
        self.pending.insert(position, (seq, payload.to_vec()));
    }

    fn drain(&mut self, config: &StreamConfig, deliver: &mut dyn FnMut(Chunk<'_>) -> bool) {
        while !self.done {
            let Some((seq, _)) = self.pending.first() else {
                return;
            };
            let ahead = seq.wrapping_sub(self.next_seq) as i32;
            if ahead > 0 {
                return;
            }
            let (_, data) = self.pending.remove(0);
            self.pending_bytes -= data.len() as u32;
            let skip = ahead.unsigned_abs() as usize;
            if skip < data.len() {
                self.deliver(config, &data[skip..], deliver);
            }
        }
    }

    fn deliver(
        &mut self,
        config: &StreamConfig,
        data: &[u8],
        deliver: &mut dyn FnMut(Chunk<'_>) -> bool,
    ) {
        let room = config.depth.saturating_sub(self.delivered) as usize;
        let take = data.len().min(room);
        self.next_seq = self.next_seq.wrapping_add(data.len() as u32);
        self.delivered = self.delivered.saturating_add(take as u32);
        let keep_going = take == 0 || deliver(Chunk::Data(&data[..take]));
        if !keep_going || self.delivered >= config.depth {
            self.finish();
        }
    }
}

trait MinWrapping {
    fn min_wrapping(self, other: u32) -> u32;
}

impl MinWrapping for u32 {
    /// The earlier of two sequence numbers (wrapping comparison).
    fn min_wrapping(self, other: u32) -> u32 {
        if (other.wrapping_sub(self) as i32) < 0 {
            other
        } else {
            self
        }
    }
}

#[cfg(test)]
mod tests;

//! Batches of captured packets: the unit that crosses from the capture thread to a worker.
//!
//! Packets are copied back to back into one reusable byte buffer with a small descriptor each,
//! and the whole batch travels through the channel and comes back through a return channel to
//! be refilled. After warm-up no packet causes a heap allocation, and channel operations are
//! amortised over many packets.

use crate::decode::LinkType;

/// Packets per batch: large enough to amortise channel synchronisation, small enough that a
/// batch of live traffic is not held back long.
pub const BATCH_PACKETS: usize = 256;

/// Initial byte capacity of a batch buffer (grows once if jumbo frames need it).
pub const BATCH_BYTES: usize = 256 * 1024;

/// Where one packet sits in [`Batch::data`], and what libpcap said about it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PacketMeta {
    /// Capture time, microseconds since the Unix epoch.
    pub ts_us: i64,
    /// Offset of the first byte in the batch buffer.
    pub offset: u32,
    /// Captured length (bytes present).
    pub caplen: u32,
    /// Original length on the wire.
    pub wirelen: u32,
    /// Link type of the capture the packet came from.
    pub link: LinkType,
}

/// A reusable batch of packets.
#[derive(Debug)]
pub struct Batch {
    data: Vec<u8>,
    packets: Vec<PacketMeta>,
    /// The capture clock when the batch was sent (microseconds); lets workers expire flows on an
    /// idle link, when a batch may carry no packets at all.
    pub now_us: i64,
}

impl Default for Batch {
    fn default() -> Self {
        Batch {
            data: Vec::with_capacity(BATCH_BYTES),
            packets: Vec::with_capacity(BATCH_PACKETS),
            now_us: 0,
        }
    }
}

impl Batch {
    /// A placeholder without buffers (allocates nothing); never filled.
    pub fn unallocated() -> Self {
        Batch {
            data: Vec::new(),
            packets: Vec::new(),
            now_us: 0,
        }
    }

    /// Empties the batch, keeping its buffers.
    pub fn clear(&mut self) {
        self.data.clear();
        self.packets.clear();
        self.now_us = 0;
    }

    /// Number of packets.
    pub fn len(&self) -> usize {
        self.packets.len()
    }

    /// Whether the batch holds no packet.
    pub fn is_empty(&self) -> bool {
        self.packets.is_empty()
    }

    /// Whether another packet of `len` bytes should go into a fresh batch instead.
    pub fn is_full_for(&self, len: usize) -> bool {
        self.packets.len() >= BATCH_PACKETS
            || (!self.packets.is_empty() && self.data.len() + len > self.data.capacity())
    }

    /// Appends a packet.
    pub fn push(&mut self, ts_us: i64, wirelen: u32, link: LinkType, bytes: &[u8]) {
        let offset = self.data.len() as u32;
        self.data.extend_from_slice(bytes);
        self.packets.push(PacketMeta {
            ts_us,
            offset,
            caplen: bytes.len() as u32,
            wirelen,
            link,
        });
        self.now_us = self.now_us.max(ts_us);
    }

    /// Total wire bytes of the packets.
    pub fn wire_bytes(&self) -> u64 {
        self.packets.iter().map(|p| u64::from(p.wirelen)).sum()
    }

    /// The packets with their bytes.
    pub fn iter(&self) -> impl Iterator<Item = (&PacketMeta, &[u8])> {
        self.packets.iter().map(|meta| {
            let start = meta.offset as usize;
            let end = start + meta.caplen as usize;
            (meta, self.data.get(start..end).unwrap_or(&[]))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn packets_round_trip_and_buffers_are_kept() {
        let mut batch = Batch::default();
        batch.push(10, 60, LinkType::ETHERNET, &[1, 2, 3]);
        batch.push(20, 4, LinkType::RAW, &[4, 5]);
        let seen: Vec<_> = batch.iter().map(|(m, b)| (m.ts_us, b.to_vec())).collect();
        assert_eq!(seen, vec![(10, vec![1, 2, 3]), (20, vec![4, 5])]);
        assert_eq!(batch.now_us, 20);
        assert_eq!(batch.wire_bytes(), 64);
        let capacity = batch.data.capacity();
        batch.clear();
        assert!(batch.is_empty());
        assert_eq!(batch.data.capacity(), capacity);
    }

    #[test]
    fn full_by_count_or_bytes() {
        let mut batch = Batch::default();
        assert!(
            !batch.is_full_for(BATCH_BYTES * 2),
            "an empty batch takes any packet"
        );
        batch.push(0, 1, LinkType::RAW, &[0]);
        assert!(batch.is_full_for(BATCH_BYTES));
        for _ in 1..BATCH_PACKETS {
            batch.push(0, 1, LinkType::RAW, &[0]);
        }
        assert!(batch.is_full_for(1));
    }
}

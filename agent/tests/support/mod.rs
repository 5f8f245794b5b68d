//! Helpers shared by the integration tests: a tiny pcap writer for captures built in the test.

#![allow(dead_code)] // each test binary uses a different subset

use etherparse::PacketBuilder;

const MAC_A: [u8; 6] = [2, 0, 0, 0, 0, 1];
const MAC_B: [u8; 6] = [2, 0, 0, 0, 0, 2];

/// A classic pcap file (microsecond timestamps, Ethernet) written packet by packet.
pub struct PcapWriter {
    pub bytes: Vec<u8>,
    ts_us: i64,
}

impl PcapWriter {
    pub fn new() -> Self {
        let mut bytes = Vec::new();
        bytes.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
        bytes.extend_from_slice(&2u16.to_le_bytes());
        bytes.extend_from_slice(&4u16.to_le_bytes());
        bytes.extend_from_slice(&0i32.to_le_bytes());
        bytes.extend_from_slice(&0u32.to_le_bytes());
        bytes.extend_from_slice(&65535u32.to_le_bytes());
        bytes.extend_from_slice(&1u32.to_le_bytes());
        PcapWriter {
            bytes,
            ts_us: 1_700_000_000_000_000,
        }
    }

    pub fn frame(&mut self, frame: &[u8]) {
        self.ts_us += 1000;
        let secs = (self.ts_us / 1_000_000) as u32;
        let micros = (self.ts_us % 1_000_000) as u32;
        for word in [secs, micros, frame.len() as u32, frame.len() as u32] {
            self.bytes.extend_from_slice(&word.to_le_bytes());
        }
        self.bytes.extend_from_slice(frame);
    }

    pub fn tcp(
        &mut self,
        src: [u8; 4],
        dst: [u8; 4],
        sport: u16,
        dport: u16,
        flags: &str,
        payload: &[u8],
    ) {
        let mut builder = PacketBuilder::ethernet2(MAC_A, MAC_B)
            .ipv4(src, dst, 64)
            .tcp(sport, dport, 1000, 65535);
        if flags.contains('S') {
            builder = builder.syn();
        }
        if flags.contains('A') {
            builder = builder.ack(1);
        }
        let mut out = Vec::new();
        builder.write(&mut out, payload).expect("build tcp");
        self.frame(&out);
    }

    pub fn udp(&mut self, src: [u8; 4], dst: [u8; 4], sport: u16, dport: u16) {
        let mut out = Vec::new();
        PacketBuilder::ethernet2(MAC_A, MAC_B)
            .ipv4(src, dst, 64)
            .udp(sport, dport)
            .write(&mut out, b"query")
            .expect("build udp");
        self.frame(&out);
    }
}

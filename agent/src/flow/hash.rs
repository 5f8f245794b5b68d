//! A small, fast, non-cryptographic hasher for flow keys.
//!
//! Flow-table lookups happen once per packet, so SipHash's DoS resistance is paid for on every
//! packet; instead the hasher is keyed with a per-process random seed, which keeps an attacker who
//! crafts colliding tuples from predicting bucket placement without SipHash's cost.

use std::hash::{BuildHasher, Hasher};

/// Multiply-rotate hasher over 64-bit words (the FxHash construction, seeded).
#[derive(Clone, Copy, Debug)]
pub struct FlowHasher {
    state: u64,
}

const MULTIPLIER: u64 = 0x517c_c1b7_2722_0a95;

impl FlowHasher {
    #[inline]
    fn add(&mut self, word: u64) {
        self.state = (self.state.rotate_left(5) ^ word).wrapping_mul(MULTIPLIER);
    }
}

impl Hasher for FlowHasher {
    #[inline]
    fn finish(&self) -> u64 {
        // Final avalanche so that the low bits used for bucket and worker selection depend on
        // every input bit.
        mix64(self.state)
    }

    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        let mut tail = [0u8; 8];
        let rest = chunks.remainder();
        tail[..rest.len()].copy_from_slice(rest);
        self.add(u64::from_le_bytes(tail) ^ ((rest.len() as u64) << 56));
    }

    #[inline]
    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }
    #[inline]
    fn write_u16(&mut self, i: u16) {
        self.add(u64::from(i));
    }
    #[inline]
    fn write_u32(&mut self, i: u32) {
        self.add(u64::from(i));
    }
    #[inline]
    fn write_u64(&mut self, i: u64) {
        self.add(i);
    }
    #[inline]
    fn write_u128(&mut self, i: u128) {
        self.add(i as u64);
        self.add((i >> 64) as u64);
    }
    #[inline]
    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }
}

/// Builds [`FlowHasher`]s sharing one seed.
#[derive(Clone, Copy, Debug)]
pub struct FlowHashBuilder {
    seed: u64,
}

impl FlowHashBuilder {
    /// A builder with a seed drawn from the process's randomized std hasher state.
    pub fn random() -> Self {
        let seed = std::collections::hash_map::RandomState::new().hash_one(0x6b6f_7264_6f6e_u64);
        FlowHashBuilder { seed }
    }

    /// A builder with a fixed seed (tests, and sharding where all threads must agree).
    pub fn with_seed(seed: u64) -> Self {
        FlowHashBuilder { seed }
    }
}

impl BuildHasher for FlowHashBuilder {
    type Hasher = FlowHasher;
    #[inline]
    fn build_hasher(&self) -> FlowHasher {
        FlowHasher { state: self.seed }
    }
}

/// SplitMix64's finaliser: a cheap bijective avalanche.
#[inline]
pub fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

//! Open-addressing hash tables over compiled entry indices, and the hash functions they use.
//!
//! Why a hand-written table instead of `std::collections::HashMap`: a slot here is 8 bytes (a
//! 32-bit tag and a 32-bit entry index) and the load factor is fixed at build time, which is what
//! keeps a million IPv4 indicators far below the 100-byte budget; `HashMap<u32, u32>` would spend
//! a control byte plus growth slack and SipHash on every lookup. The same key may occupy several
//! slots (an address listed in several iprep categories), so a lookup walks the whole probe run
//! and reports every slot whose tag matches; callers verify the real key where the tag is only a
//! hash fragment.
//!
//! Hash flooding: keys come from operator-chosen feeds, not from traffic, so an attacker on the
//! wire cannot lengthen probe runs; lookups of traffic values only read. The mixers below are
//! therefore fixed, fast, non-keyed functions.

/// Sentinel entry index of an empty slot.
const EMPTY: u32 = u32::MAX;

/// One slot: a tag (the full key for IPv4 tables, otherwise the high half of the hash) and the
/// index of the compiled entry.
#[derive(Clone, Copy, Debug)]
struct Slot {
    tag: u32,
    entry: u32,
}

const EMPTY_SLOT: Slot = Slot {
    tag: 0,
    entry: EMPTY,
};

/// A linear-probing table with a fixed capacity chosen for the number of entries it will hold.
///
/// Capacity is `n * 5 / 3 + 1` (load factor at most 0.6), which keeps an unsuccessful lookup —
/// the common case on the packet path — to about 3.6 probes, all in adjacent memory.
#[derive(Debug, Default)]
pub(crate) struct Table {
    slots: Vec<Slot>,
    len: usize,
}

impl Table {
    /// A table able to hold `n` entries without growing.
    pub(crate) fn with_entries(n: usize) -> Table {
        if n == 0 {
            return Table::default();
        }
        Table {
            slots: vec![EMPTY_SLOT; capacity_for(n)],
            len: 0,
        }
    }

    /// Grows the table so `additional` more entries fit without further growth (one rehash now
    /// instead of one per doubling while a large feed loads).
    pub(crate) fn reserve(&mut self, additional: usize, rehash: impl Fn(u32) -> (u64, u32)) {
        let want = capacity_for(self.len + additional);
        if want <= self.slots.len() {
            return;
        }
        let old = std::mem::replace(&mut self.slots, vec![EMPTY_SLOT; want]);
        self.len = 0;
        for slot in old.into_iter().filter(|s| s.entry != EMPTY) {
            let (h, t) = rehash(slot.entry);
            self.place(h, t, slot.entry);
        }
    }

    /// Number of entries stored.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Heap bytes owned.
    pub(crate) fn memory_usage(&self) -> usize {
        self.slots.capacity() * std::mem::size_of::<Slot>()
    }

    /// Maps a 64-bit hash onto `0..slots.len()` with a multiply-high ("fast range"), so the
    /// capacity need not be a power of two and the load factor stays where it was planned.
    #[inline]
    fn home(&self, hash: u64) -> usize {
        ((u128::from(hash) * self.slots.len() as u128) >> 64) as usize
    }

    /// Inserts without checking for an equal key (the builder deduplicates beforehand).
    ///
    /// When the load factor would pass 0.6 the table doubles, recomputing each stored entry's
    /// hash and tag with `rehash` (slots keep only a 32-bit tag, not the full hash). Tables
    /// sized with [`Table::with_entries`] for their final count never grow.
    pub(crate) fn insert(
        &mut self,
        hash: u64,
        tag: u32,
        entry: u32,
        rehash: impl Fn(u32) -> (u64, u32),
    ) {
        if self.slots.is_empty() || (self.len + 1) * 5 > self.slots.len() * 3 {
            let want = capacity_for((self.len + 1).max(8) * 2);
            let old = std::mem::replace(&mut self.slots, vec![EMPTY_SLOT; want]);
            self.len = 0;
            for slot in old.into_iter().filter(|s| s.entry != EMPTY) {
                let (h, t) = rehash(slot.entry);
                self.place(h, t, slot.entry);
            }
        }
        self.place(hash, tag, entry);
    }

    /// Writes into the first free slot of the probe run; the caller guarantees a free slot.
    fn place(&mut self, hash: u64, tag: u32, entry: u32) {
        let len = self.slots.len();
        let mut i = self.home(hash);
        // Terminates: callers keep the load factor at most 0.6, so a free slot exists.
        loop {
            if let Some(slot) = self.slots.get_mut(i)
                && slot.entry == EMPTY
            {
                *slot = Slot { tag, entry };
                self.len += 1;
                return;
            }
            i += 1;
            if i >= len {
                i = 0;
            }
        }
    }

    /// Calls `found` with every entry whose slot tag equals `tag` in the probe run of `hash`;
    /// stops early when `found` returns `true`.
    #[inline]
    pub(crate) fn probe(&self, hash: u64, tag: u32, mut found: impl FnMut(u32) -> bool) {
        if self.len == 0 {
            return;
        }
        let len = self.slots.len();
        let mut i = self.home(hash);
        loop {
            let Some(slot) = self.slots.get(i) else {
                return;
            };
            if slot.entry == EMPTY {
                return;
            }
            if slot.tag == tag && found(slot.entry) {
                return;
            }
            i += 1;
            if i >= len {
                i = 0;
            }
        }
    }
}

fn capacity_for(n: usize) -> usize {
    n.saturating_mul(5) / 3 + 1
}

/// The murmur3 64-bit finaliser: spreads every input bit over the whole output.
#[inline]
pub(crate) fn mix64(mut x: u64) -> u64 {
    x ^= x >> 33;
    x = x.wrapping_mul(0xff51_afd7_ed55_8ccd);
    x ^= x >> 33;
    x = x.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    x ^ (x >> 33)
}

/// Hash of an IPv4 key.
#[inline]
pub(crate) fn hash_u32(key: u32) -> u64 {
    mix64(u64::from(key) ^ 0x9e37_79b9_7f4a_7c15)
}

/// Hash of an IPv6 key.
#[inline]
pub(crate) fn hash_u128(key: u128) -> u64 {
    mix64((key as u64) ^ mix64((key >> 64) as u64))
}

/// FNV-1a offset basis.
pub(crate) const FNV_START: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// One FNV-1a step.
#[inline]
pub(crate) fn fnv_step(h: u64, byte: u8) -> u64 {
    (h ^ u64::from(byte)).wrapping_mul(FNV_PRIME)
}

/// Hash of a byte string, optionally folding ASCII case, walking forward.
#[inline]
pub(crate) fn hash_bytes(bytes: &[u8], fold_case: bool) -> u64 {
    let mut h = FNV_START;
    for &b in bytes {
        h = fnv_step(h, if fold_case { b.to_ascii_lowercase() } else { b });
    }
    h
}

/// Hash of a domain name: lower-cased bytes walked from the *end*, so that the hash of every
/// suffix is available during one right-to-left pass over an observed name (see
/// `IndicatorSet::match_domain`).
#[inline]
pub(crate) fn hash_domain(name: &[u8]) -> u64 {
    let mut h = FNV_START;
    for &b in name.iter().rev() {
        h = fnv_step(h, b.to_ascii_lowercase());
    }
    h
}

/// Table index hash and tag from a string hash.
#[inline]
pub(crate) fn finish(h: u64) -> (u64, u32) {
    let m = mix64(h);
    (m, (m >> 32) as u32)
}

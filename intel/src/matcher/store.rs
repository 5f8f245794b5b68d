//! Flat storage shared by the builder and the compiled set: one 24-byte [`Entry`] per indicator
//! plus arenas for the values that do not fit in it.
//!
//! Why this shape: the memory bar is under 100 bytes per IPv4 indicator and 200 per domain at a
//! million entries, so nothing per entry may own a heap allocation. An IPv4 address lives inside
//! its entry; IPv6 addresses and networks live in dense vectors; names and texts are spans of
//! one byte arena; feed ids, which most plain feeds lack, are spans of a second arena and cost
//! nothing when absent; metadata is interned by `Arc` pointer and referenced by a `u32` index.

use std::net::IpAddr;
use std::sync::Arc;

use ipnet::IpNet;

use super::table::{finish, hash_bytes, hash_u32, hash_u128, mix64};
use crate::model::{IndicatorKind, IndicatorMeta, IndicatorValue};

/// Marker for "no feed id".
pub(crate) const NO_ID: u32 = u32::MAX;

/// `Entry::flags` bit: `score` is meaningful.
pub(crate) const HAS_SCORE: u8 = 1;
/// `Entry::flags` bit: a domain that also matches every subdomain.
pub(crate) const SUBDOMAINS: u8 = 2;

/// How an entry's value is stored, i.e. what `Entry::a`/`Entry::b` mean.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u8)]
pub(crate) enum Repr {
    /// `a` is the IPv4 address itself.
    V4,
    /// `a` indexes `Store::v6`.
    V6,
    /// `a` indexes `Store::nets`.
    Net,
    /// `a..a+b` is a lower-case name in `Store::text`.
    Domain,
    /// `a..a+b` is text in `Store::text` (lower-cased for case-folding kinds).
    Text,
}

/// One compiled indicator (24 bytes).
#[derive(Clone, Copy, Debug)]
pub(crate) struct Entry {
    pub(crate) a: u32,
    pub(crate) b: u32,
    pub(crate) meta: u32,
    pub(crate) id: u32,
    pub(crate) score: i32,
    pub(crate) kind: IndicatorKind,
    pub(crate) repr: Repr,
    pub(crate) flags: u8,
    /// Dedup discriminator (iprep category); 0 for ordinary entries.
    pub(crate) class: u8,
}

/// A borrowed, normalised view of a value: what dedup hashes and compares.
#[derive(Clone, Copy, Debug)]
pub(crate) enum Key<'a> {
    V4(u32),
    V6(u128),
    Net(IpNet),
    /// Name (case is folded when hashing/comparing) and the subdomain flag.
    Domain(&'a [u8], bool),
    /// Text and whether its kind folds case.
    Text(&'a [u8], bool),
}

/// Whether values of `kind` compare case-insensitively: hex digests and fingerprints, whose
/// case carries no meaning, and DNS names. URLs, user agents, JA4 and strings compare exactly.
pub(crate) fn folds_case(kind: IndicatorKind) -> bool {
    matches!(
        kind,
        IndicatorKind::Domain
            | IndicatorKind::Ja3
            | IndicatorKind::Ja3s
            | IndicatorKind::X509Sha1
            | IndicatorKind::X509Sha256
            | IndicatorKind::Md5
            | IndicatorKind::Sha256
    )
}

/// Network bits of a (truncated) network as a u128, with the family folded in.
pub(crate) fn net_bits(net: &IpNet) -> u128 {
    match net {
        IpNet::V4(n) => u128::from(u32::from(n.network())),
        IpNet::V6(n) => u128::from(n.network()),
    }
}

/// The backing storage.
#[derive(Debug, Default)]
pub(crate) struct Store {
    pub(crate) entries: Vec<Entry>,
    pub(crate) v6: Vec<u128>,
    pub(crate) nets: Vec<IpNet>,
    pub(crate) text: Vec<u8>,
    pub(crate) ids: Vec<u8>,
    pub(crate) id_spans: Vec<(u32, u32)>,
    pub(crate) metas: Vec<Arc<IndicatorMeta>>,
}

impl Store {
    /// Bytes of `text` at a span; empty if the span is out of range (never for valid entries).
    #[inline]
    pub(crate) fn text_at(&self, a: u32, b: u32) -> &[u8] {
        let start = a as usize;
        self.text.get(start..start + b as usize).unwrap_or(&[])
    }

    /// The dedup key of a stored entry.
    pub(crate) fn key_of(&self, e: &Entry) -> Key<'_> {
        match e.repr {
            Repr::V4 => Key::V4(e.a),
            Repr::V6 => Key::V6(self.v6.get(e.a as usize).copied().unwrap_or(0)),
            Repr::Net => Key::Net(
                self.nets
                    .get(e.a as usize)
                    .copied()
                    .unwrap_or(IpNet::V4(Default::default())),
            ),
            Repr::Domain => Key::Domain(self.text_at(e.a, e.b), e.flags & SUBDOMAINS != 0),
            Repr::Text => Key::Text(self.text_at(e.a, e.b), folds_case(e.kind)),
        }
    }

    /// Reconstructs the value of an entry.
    pub(crate) fn value_of(&self, e: &Entry) -> IndicatorValue {
        match self.key_of(e) {
            Key::V4(a) => IndicatorValue::Ip(IpAddr::V4(a.into())),
            Key::V6(a) => IndicatorValue::Ip(IpAddr::V6(a.into())),
            Key::Net(n) => IndicatorValue::Cidr(n),
            Key::Domain(name, subdomains) => IndicatorValue::Domain {
                name: String::from_utf8_lossy(name).into_owned(),
                subdomains,
            },
            Key::Text(t, _) => IndicatorValue::Text(String::from_utf8_lossy(t).into_owned()),
        }
    }

    /// Heap bytes owned, counting each distinct metadata record once.
    pub(crate) fn memory_usage(&self) -> usize {
        use std::mem::size_of;
        let metas: usize = self
            .metas
            .iter()
            .map(|m| {
                size_of::<IndicatorMeta>()
                    + m.source.len()
                    + m.set.len()
                    + m.tags
                        .iter()
                        .map(|t| size_of::<Arc<str>>() + t.len())
                        .sum::<usize>()
            })
            .sum();
        self.entries.capacity() * size_of::<Entry>()
            + self.v6.capacity() * size_of::<u128>()
            + self.nets.capacity() * size_of::<IpNet>()
            + self.text.capacity()
            + self.ids.capacity()
            + self.id_spans.capacity() * size_of::<(u32, u32)>()
            + self.metas.capacity() * size_of::<Arc<IndicatorMeta>>()
            + metas
    }
}

/// Dedup hash and tag of a key within a kind and class.
pub(crate) fn key_hash(kind: IndicatorKind, class: u8, key: &Key<'_>) -> (u64, u32) {
    let base = match *key {
        Key::V4(k) => hash_u32(k),
        Key::V6(k) => hash_u128(k) ^ 0x5555,
        Key::Net(n) => {
            hash_u128(net_bits(&n))
                ^ (u64::from(n.prefix_len()) << 8)
                ^ u64::from(matches!(n, IpNet::V6(_)))
        }
        Key::Domain(b, wild) => hash_bytes(b, true) ^ u64::from(wild),
        Key::Text(b, fold) => hash_bytes(b, fold),
    };
    finish(mix64(
        base ^ ((kind as u64) << 56) ^ (u64::from(class) << 48),
    ))
}

/// Whether a stored entry has this kind, class and key.
pub(crate) fn key_eq(
    store: &Store,
    e: &Entry,
    kind: IndicatorKind,
    class: u8,
    key: &Key<'_>,
) -> bool {
    if e.kind != kind || e.class != class {
        return false;
    }
    match (store.key_of(e), key) {
        (Key::V4(a), Key::V4(b)) => a == *b,
        (Key::V6(a), Key::V6(b)) => a == *b,
        (Key::Net(a), Key::Net(b)) => a == *b,
        (Key::Domain(a, wa), Key::Domain(b, wb)) => wa == *wb && a.eq_ignore_ascii_case(b),
        (Key::Text(a, fold), Key::Text(b, _)) => {
            if fold {
                a.eq_ignore_ascii_case(b)
            } else {
                a == *b
            }
        }
        _ => false,
    }
}

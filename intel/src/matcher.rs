//! The compiled, immutable indicator matcher.
//!
//! # Structure
//!
//! An [`IndicatorSetBuilder`] collects indicators into flat storage (see `store.rs`: one 24-byte
//! entry per indicator, arenas for names and texts, interned metadata) and deduplicates them on
//! (kind, value[, category]). [`IndicatorSetBuilder::build`] then creates the lookup tables
//! (`table.rs`: 8-byte slots, load factor ≤ 0.6) twice over — once for alerting entries and once
//! for allowlist entries — so an observation first asks "is this allowlisted?" (skipped entirely
//! when the set has no allowlist entries of that family) and then "what matches?".
//!
//! * Exact IPv4 and IPv6: one table each, keyed by the address (`u32` directly; `u128` hashed).
//!   IPv4-mapped IPv6 indicators (`::ffff:a.b.c.d`) are filed under their IPv4 address, and
//!   observations are canonicalised the same way, so a dual-stack socket's mapped address and
//!   the plain address are the same host (Suricata's `ip` datasets behave likewise).
//! * Networks: one table per prefix length present, keyed by the masked address, probed from the
//!   longest length down. Chosen over a trie or interval array because a lookup costs one probe
//!   per *distinct* prefix length (real feeds use a handful), memory is the same 8 bytes per slot
//!   as exact addresses, and building is a single pass. IPv6 networks inside `::ffff:0:0/96`
//!   become IPv4 networks for the same reason as above.
//! * Domains: two tables (exact names, `*.` names) keyed by a hash of the lower-cased name
//!   computed right to left, so one right-to-left pass over an observed name yields the hash of
//!   each parent suffix without allocating.
//! * Textual kinds: one table per kind over the text arena.
//!
//! # Matching rules
//!
//! * Nothing allocates; results are [`MatchId`]s pushed to the caller's vector.
//! * Entries outside their validity window at `now` are skipped, so expiry needs no reload.
//! * If any valid allowlist entry matches the observation (exact, any containing network, the
//!   name or any parent for `*.` entries), nothing is reported for that observation.
//! * `match_ip` reports every exact entry for the address, then the entries of the *longest*
//!   containing network that has a valid entry — only that one length, because the most specific
//!   network is the one an analyst wants named and a /8 behind a /24 adds noise, not signal.

mod store;
mod table;
#[cfg(test)]
mod tests;

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::net::IpAddr;
use std::sync::{Arc, LazyLock};

use ipnet::IpNet;
use sha2::{Digest, Sha256};

use crate::model::{Indicator, IndicatorKind, IndicatorMeta, IndicatorValue};
use store::{Entry, HAS_SCORE, Key, NO_ID, Repr, SUBDOMAINS, Store, folds_case, key_eq, key_hash};
use table::{FNV_START, Table, finish, fnv_step, hash_bytes, hash_domain, hash_u32, hash_u128};

/// Index of one compiled indicator inside an [`IndicatorSet`]; only meaningful for that set.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MatchId(u32);

impl MatchId {
    /// The position of the indicator in insertion order (stable for the life of the set), for
    /// callers that keep per-indicator counters in a side array.
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// Why a set could not be compiled (only configuration-level limits; never the traffic).
#[derive(Debug, thiserror::Error)]
#[error("cannot build indicator set: {0}")]
pub struct BuildError(String);

/// Whether [`IndicatorSetBuilder::add`] kept the indicator.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AddOutcome {
    /// A new (kind, value) pair.
    Added,
    /// Already present; the first occurrence wins.
    Duplicate,
}

/// Why [`IndicatorSetBuilder::try_add`] refused an indicator.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AddError {
    /// The value's shape does not fit the kind (e.g. kind `ipv4` with a text value).
    #[error("{kind} indicator cannot hold value {value:?}")]
    KindMismatch {
        /// The declared kind.
        kind: IndicatorKind,
        /// The value as displayed.
        value: String,
    },
}

/// The most entries (and arena bytes) a set can hold: indices are `u32` to keep entries small,
/// and `u32::MAX` is the empty-slot marker.
const MAX_ENTRIES: usize = u32::MAX as usize - 1;

/// Collects indicators and compiles them.
///
/// Frugal on purpose (it holds a whole feed before `build`): each added indicator costs one
/// 24-byte entry, its value bytes in an arena, and one 8-byte dedup slot; the `Indicator` itself
/// is dropped after `add`.
#[derive(Debug, Default)]
pub struct IndicatorSetBuilder {
    store: Store,
    dedup: Table,
    meta_index: HashMap<usize, u32>,
    last_meta: Option<(usize, u32)>,
    overflow: Option<String>,
    ot_policies: Vec<crate::ot::OtPolicy>,
}

impl IndicatorSetBuilder {
    /// An empty builder.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one indicator; dedup key is (kind, value), kept separately for allowlist entries
    /// (an allowlist entry never deduplicates against an alerting one, or loading order would
    /// decide whether the allowlist works). The first occurrence wins.
    ///
    /// Lenient about kind/value mismatches so no feed entry is lost: an address, network or
    /// domain value decides its own kind (`Ip` → ipv4/ipv6, `Cidr` → cidr, `Domain` → domain);
    /// a text value under an address/network/domain kind is parsed, and when it does not parse
    /// it is still kept (counted, listed by [`IndicatorSet::iter`]) as text of that kind, which
    /// no observation of that kind can match. Use [`IndicatorSetBuilder::try_add`] to refuse
    /// mismatches instead; the loaders in [`crate::formats`] never produce them.
    pub fn add(&mut self, indicator: Indicator) -> AddOutcome {
        self.add_in_category(indicator, 0)
    }

    /// Makes room for about `additional` more indicators, so a large feed does not rehash the
    /// dedup table at every doubling. An estimate is fine: too low only means later growth.
    pub fn reserve(&mut self, additional: usize) {
        self.store.entries.reserve(additional);
        let store = &self.store;
        self.dedup.reserve(additional, |e| {
            store
                .entries
                .get(e as usize)
                .map(|entry| key_hash(entry.kind, entry.class, &store.key_of(entry)))
                .unwrap_or((0, 0))
        });
    }

    /// Like [`IndicatorSetBuilder::add`], but refuses an indicator whose value does not have the
    /// shape its kind requires.
    pub fn try_add(&mut self, indicator: Indicator) -> Result<AddOutcome, AddError> {
        let fits = match (&indicator.value, indicator.kind) {
            (IndicatorValue::Ip(IpAddr::V4(_)), IndicatorKind::Ipv4)
            | (IndicatorValue::Ip(IpAddr::V6(_)), IndicatorKind::Ipv6)
            | (IndicatorValue::Cidr(_), IndicatorKind::Cidr)
            | (IndicatorValue::Domain { .. }, IndicatorKind::Domain) => true,
            (IndicatorValue::Text(_), kind) => !matches!(
                kind,
                IndicatorKind::Ipv4
                    | IndicatorKind::Ipv6
                    | IndicatorKind::Cidr
                    | IndicatorKind::Domain
            ),
            _ => false,
        };
        if !fits {
            return Err(AddError::KindMismatch {
                kind: indicator.kind,
                value: indicator.value.to_string(),
            });
        }
        Ok(self.add(indicator))
    }

    /// Adds one indicator with a dedup *category* (0–127; higher bits are ignored): the dedup
    /// key becomes (kind, value, allowlist flag, category), so the same value may be kept once
    /// per category. [`IndicatorSetBuilder::add`] uses category 0. The iprep loader passes the iprep category id, because Suricata keeps one
    /// score per (address, category) and a feed listing an address under two categories means
    /// two facts, not a duplicate.
    pub fn add_in_category(&mut self, indicator: Indicator, category: u8) -> AddOutcome {
        let Indicator {
            id,
            kind,
            value,
            score,
            meta,
        } = indicator;
        // Allowlist entries dedup apart from alerting ones: an operator allowlisting a value a
        // feed also lists must suppress it whichever was loaded first.
        let category = (category & 0x7f) | if meta.allowlist { 0x80 } else { 0 };
        let mut scratch = String::new();
        let (kind, key) = coerce(kind, &value, &mut scratch);
        let (hash, tag) = key_hash(kind, category, &key);

        let mut duplicate = false;
        let store = &self.store;
        self.dedup.probe(hash, tag, |e| {
            duplicate = store
                .entries
                .get(e as usize)
                .is_some_and(|entry| key_eq(store, entry, kind, category, &key));
            duplicate
        });
        if duplicate {
            return AddOutcome::Duplicate;
        }
        if self.store.entries.len() >= MAX_ENTRIES {
            self.overflow = Some(format!("more than {MAX_ENTRIES} indicators"));
            return AddOutcome::Added;
        }

        let mut entry = Entry {
            a: 0,
            b: 0,
            meta: 0,
            id: NO_ID,
            score: score.unwrap_or(0),
            kind,
            repr: Repr::V4,
            flags: if score.is_some() { HAS_SCORE } else { 0 },
            class: category,
        };
        match key {
            Key::V4(a) => entry.a = a,
            Key::V6(a) => {
                entry.repr = Repr::V6;
                entry.a = self.store.v6.len() as u32;
                self.store.v6.push(a);
            }
            Key::Net(n) => {
                entry.repr = Repr::Net;
                entry.a = self.store.nets.len() as u32;
                self.store.nets.push(n);
            }
            Key::Domain(name, wild) => {
                entry.repr = Repr::Domain;
                if wild {
                    entry.flags |= SUBDOMAINS;
                }
                let Some((a, b)) = push_arena(&mut self.store.text, name, true) else {
                    self.overflow = Some("indicator text exceeds 4 GiB".to_owned());
                    return AddOutcome::Added;
                };
                (entry.a, entry.b) = (a, b);
            }
            Key::Text(text, fold) => {
                entry.repr = Repr::Text;
                let Some((a, b)) = push_arena(&mut self.store.text, text, fold) else {
                    self.overflow = Some("indicator text exceeds 4 GiB".to_owned());
                    return AddOutcome::Added;
                };
                (entry.a, entry.b) = (a, b);
            }
        }
        if let Some(id) = id {
            match push_arena(&mut self.store.ids, id.as_bytes(), false) {
                Some(span) => {
                    entry.id = self.store.id_spans.len() as u32;
                    self.store.id_spans.push(span);
                }
                None => self.overflow = Some("indicator ids exceed 4 GiB".to_owned()),
            }
        }
        entry.meta = self.intern_meta(meta);

        let index = self.store.entries.len() as u32;
        self.store.entries.push(entry);
        let store = &self.store;
        self.dedup.insert(hash, tag, index, |e| {
            store
                .entries
                .get(e as usize)
                .map(|entry| key_hash(entry.kind, entry.class, &store.key_of(entry)))
                .unwrap_or((0, 0))
        });
        AddOutcome::Added
    }

    /// Interns metadata by `Arc` pointer: loaders share one `Arc` per feed (or per distinct
    /// per-line metadata), so a million entries usually reference one record. The last pointer
    /// is cached because consecutive entries almost always share it.
    fn intern_meta(&mut self, meta: Arc<IndicatorMeta>) -> u32 {
        let ptr = Arc::as_ptr(&meta) as usize;
        if let Some((last, index)) = self.last_meta
            && last == ptr
        {
            return index;
        }
        let index = match self.meta_index.get(&ptr) {
            Some(&index) => index,
            None => {
                let index = self.store.metas.len() as u32;
                // The Arc kept in `metas` pins the allocation, so the pointer cannot be reused
                // by another record while this builder lives.
                self.store.metas.push(meta);
                self.meta_index.insert(ptr, index);
                index
            }
        };
        self.last_meta = Some((ptr, index));
        index
    }

    /// Adds the rules of an OT policy. Its violation indicators (kind
    /// [`IndicatorKind::OtPolicy`], values from [`crate::ot::violation_value`]) are added
    /// separately, as [`crate::ot::load_ot_policy`] does, so they are deduplicated, expired and
    /// reported like any other entry; a monitored class whose indicator is absent (e.g. expired
    /// at load time) is simply not monitored.
    pub fn add_ot_policy(&mut self, policy: crate::ot::OtPolicy) {
        self.ot_policies.push(policy);
    }

    /// Number of distinct indicators added.
    pub fn len(&self) -> usize {
        self.store.entries.len()
    }

    /// Whether nothing was added.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Heap bytes currently held by the builder (entries, arenas, dedup table).
    pub fn memory_usage(&self) -> usize {
        self.store.memory_usage()
            + self.dedup.memory_usage()
            + self.meta_index.capacity() * 2 * std::mem::size_of::<usize>()
    }

    /// Compiles the immutable set.
    pub fn build(self) -> Result<IndicatorSet, BuildError> {
        let IndicatorSetBuilder {
            mut store,
            dedup,
            meta_index,
            overflow,
            ot_policies,
            ..
        } = self;
        if let Some(reason) = overflow {
            return Err(BuildError(reason));
        }
        drop(dedup);
        drop(meta_index);
        store.entries.shrink_to_fit();
        store.v6.shrink_to_fit();
        store.nets.shrink_to_fit();
        store.text.shrink_to_fit();
        store.ids.shrink_to_fit();
        store.id_spans.shrink_to_fit();
        store.metas.shrink_to_fit();

        let windows: Vec<Window> = store
            .metas
            .iter()
            .map(|m| Window {
                from: m.valid_from.unwrap_or(i64::MIN),
                until: m.valid_until.unwrap_or(i64::MAX),
                allow: m.allowlist,
            })
            .collect();
        let is_allow = |e: &Entry| windows.get(e.meta as usize).is_some_and(|w| w.allow);
        let deny = Index::build(&store, |e| !is_allow(e));
        let allow = Index::build(&store, is_allow);
        let mut kind_counts = [0; IndicatorKind::ALL.len()];
        for entry in &store.entries {
            if let Some(count) = kind_counts.get_mut(entry.kind as usize) {
                *count += 1;
            }
        }
        let mut ot = crate::ot::CompiledOt::default();
        if !ot_policies.is_empty() {
            let ot_entries: HashMap<Vec<u8>, u32> = store
                .entries
                .iter()
                .enumerate()
                .filter(|(_, e)| e.kind == IndicatorKind::OtPolicy && !is_allow(e))
                .filter_map(|(i, e)| match store.key_of(e) {
                    Key::Text(text, _) => Some((text.to_vec(), i as u32)),
                    _ => None,
                })
                .collect();
            for policy in &ot_policies {
                ot.add(policy, |value| ot_entries.get(value.as_bytes()).copied());
            }
        }
        Ok(IndicatorSet {
            store,
            windows,
            deny,
            allow,
            kind_counts,
            ot,
            ot_policies,
        })
    }
}

/// Copies `bytes` into an arena (lower-casing ASCII when `fold`), returning its span.
fn push_arena(arena: &mut Vec<u8>, bytes: &[u8], fold: bool) -> Option<(u32, u32)> {
    let start = u32::try_from(arena.len()).ok()?;
    let len = u32::try_from(bytes.len()).ok()?;
    start.checked_add(len)?;
    if fold {
        arena.extend(bytes.iter().map(u8::to_ascii_lowercase));
    } else {
        arena.extend_from_slice(bytes);
    }
    Some((start, len))
}

/// Decides the stored kind and key of a value (see [`IndicatorSetBuilder::add`] for the rules).
fn coerce<'a>(
    kind: IndicatorKind,
    value: &'a IndicatorValue,
    scratch: &'a mut String,
) -> (IndicatorKind, Key<'a>) {
    match value {
        IndicatorValue::Ip(IpAddr::V4(a)) => (IndicatorKind::Ipv4, Key::V4(u32::from(*a))),
        IndicatorValue::Ip(IpAddr::V6(a)) => (IndicatorKind::Ipv6, Key::V6(u128::from(*a))),
        IndicatorValue::Cidr(n) => (IndicatorKind::Cidr, Key::Net(n.trunc())),
        IndicatorValue::Domain { name, subdomains } => {
            let (name, wild) = domain_key(name, *subdomains);
            (IndicatorKind::Domain, Key::Domain(name, wild))
        }
        IndicatorValue::Text(text) => match kind {
            IndicatorKind::Ipv4 | IndicatorKind::Ipv6 | IndicatorKind::Cidr => {
                let t = text.trim();
                if let Ok(ip) = t.parse::<IpAddr>() {
                    return match ip {
                        IpAddr::V4(a) => (IndicatorKind::Ipv4, Key::V4(u32::from(a))),
                        IpAddr::V6(a) => (IndicatorKind::Ipv6, Key::V6(u128::from(a))),
                    };
                }
                if let Ok(net) = t.parse::<IpNet>() {
                    return (IndicatorKind::Cidr, Key::Net(net.trunc()));
                }
                (kind, Key::Text(text.as_bytes(), false))
            }
            IndicatorKind::Domain => match crate::normalize::domain(text) {
                Ok((name, wild)) => {
                    *scratch = name;
                    (IndicatorKind::Domain, Key::Domain(scratch.as_bytes(), wild))
                }
                Err(_) => (kind, Key::Text(text.as_bytes(), true)),
            },
            _ => (kind, Key::Text(text.as_bytes(), folds_case(kind))),
        },
    }
}

/// The stored form of a domain name: one trailing dot dropped, a leading `*.` turned into the
/// subdomain flag (so `Domain { name: "*.x", .. }` and `Domain { name: "x", subdomains: true }`
/// are the same indicator).
fn domain_key(name: &str, subdomains: bool) -> (&[u8], bool) {
    let name = name.strip_suffix('.').unwrap_or(name);
    match name.strip_prefix("*.") {
        Some(rest) => (rest.as_bytes(), true),
        None => (name.as_bytes(), subdomains),
    }
}

/// Validity window and allowlist flag of one interned metadata record, copied out of the `Arc`
/// so the hot path reads 17 contiguous bytes instead of chasing a pointer.
#[derive(Clone, Copy, Debug)]
struct Window {
    from: i64,
    until: i64,
    allow: bool,
}

/// The lookup tables for one side (alerting or allowlist).
#[derive(Debug, Default)]
struct Index {
    v4: Table,
    v6: Table,
    /// (prefix length, table), longest first.
    v4_nets: Vec<(u8, Table)>,
    /// One bit per /16 for each entry of `v4_nets` (same order): whether any network of that
    /// length lies in that /16. A lookup probes a length's table only when its bit is set, so an
    /// address outside every listed network costs a few L2-resident bit tests instead of one
    /// hash-table cache miss per prefix length present (typically 20+).
    v4_net_filters: Vec<Box<[u64]>>,
    /// (prefix length, table), longest first.
    v6_nets: Vec<(u8, Table)>,
    domain_exact: Table,
    domain_wild: Table,
    /// One per [`IndicatorKind`], indexed by `kind as usize`.
    text: Vec<Table>,
}

/// Where an entry is filed in an [`Index`].
enum Place {
    V4(u32),
    V6(u128),
    V4Net(u8, u32),
    V6Net(u8, u128),
    DomainExact(u64),
    DomainWild(u64),
    Text(usize, u64),
}

/// The IPv4 address inside an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`).
fn mapped_v4(a: u128) -> Option<u32> {
    (a >> 32 == 0xffff).then_some(a as u32)
}

/// 65536 bits: one per /16.
const V4_FILTER_WORDS: usize = 65536 / 64;

fn set_v4_filter(filter: &mut [u64], network: u32) {
    let bucket = (network >> 16) as usize;
    if let Some(word) = filter.get_mut(bucket / 64) {
        *word |= 1 << (bucket % 64);
    }
}

fn mask_v4(a: u32, len: u8) -> u32 {
    if len == 0 {
        0
    } else {
        a & (u32::MAX << (32 - u32::from(len.min(32))))
    }
}

fn mask_v6(a: u128, len: u8) -> u128 {
    if len == 0 {
        0
    } else {
        a & (u128::MAX << (128 - u32::from(len.min(128))))
    }
}

fn place_of(store: &Store, e: &Entry) -> Place {
    match store.key_of(e) {
        Key::V4(a) => Place::V4(a),
        Key::V6(a) => match mapped_v4(a) {
            Some(v4) => Place::V4(v4),
            None => Place::V6(a),
        },
        Key::Net(IpNet::V4(n)) => Place::V4Net(n.prefix_len(), u32::from(n.network())),
        Key::Net(IpNet::V6(n)) => {
            let bits = u128::from(n.network());
            match (n.prefix_len() >= 96).then(|| mapped_v4(bits)).flatten() {
                Some(v4) => Place::V4Net(n.prefix_len() - 96, v4),
                None => Place::V6Net(n.prefix_len(), bits),
            }
        }
        Key::Domain(name, false) => Place::DomainExact(hash_domain(name)),
        Key::Domain(name, true) => Place::DomainWild(hash_domain(name)),
        Key::Text(text, fold) => Place::Text(e.kind as usize, hash_bytes(text, fold)),
    }
}

/// The table hash and tag of a placed entry (the same formulas the lookups use).
fn slot_hash(place: &Place) -> (u64, u32) {
    match *place {
        Place::V4(a) | Place::V4Net(_, a) => (hash_u32(a), a),
        Place::V6(a) | Place::V6Net(_, a) => finish(hash_u128(a)),
        Place::DomainExact(h) | Place::DomainWild(h) | Place::Text(_, h) => finish(h),
    }
}

impl Index {
    fn build(store: &Store, include: impl Fn(&Entry) -> bool) -> Index {
        // Pass 1: count, so every table is allocated once at its final size.
        let mut v4 = 0usize;
        let mut v6 = 0usize;
        let mut v4_nets = [0usize; 33];
        let mut v6_nets = [0usize; 129];
        let mut exact = 0usize;
        let mut wild = 0usize;
        let mut text = [0usize; IndicatorKind::ALL.len()];
        let bump = |slot: Option<&mut usize>| {
            if let Some(n) = slot {
                *n += 1;
            }
        };
        for e in store.entries.iter().filter(|e| include(e)) {
            match place_of(store, e) {
                Place::V4(_) => v4 += 1,
                Place::V6(_) => v6 += 1,
                Place::V4Net(len, _) => bump(v4_nets.get_mut(usize::from(len))),
                Place::V6Net(len, _) => bump(v6_nets.get_mut(usize::from(len))),
                Place::DomainExact(_) => exact += 1,
                Place::DomainWild(_) => wild += 1,
                Place::Text(k, _) => bump(text.get_mut(k)),
            }
        }
        let mut index = Index {
            v4: Table::with_entries(v4),
            v6: Table::with_entries(v6),
            v4_nets: (0..=32u8)
                .rev()
                .filter_map(|l| {
                    let n = v4_nets.get(usize::from(l)).copied().unwrap_or(0);
                    (n > 0).then(|| (l, Table::with_entries(n)))
                })
                .collect(),
            v6_nets: (0..=128u8)
                .rev()
                .filter_map(|l| {
                    let n = v6_nets.get(usize::from(l)).copied().unwrap_or(0);
                    (n > 0).then(|| (l, Table::with_entries(n)))
                })
                .collect(),
            v4_net_filters: Vec::new(),
            domain_exact: Table::with_entries(exact),
            domain_wild: Table::with_entries(wild),
            text: text.iter().map(|&n| Table::with_entries(n)).collect(),
        };
        // Pass 2: insert. Tables are sized for their final count, so `insert` never rehashes;
        // the rehash function is still the real one, so a sizing slip costs time, not matches.
        let no_rehash = |e: u32| {
            store
                .entries
                .get(e as usize)
                .map_or((0, 0), |entry| slot_hash(&place_of(store, entry)))
        };
        for (i, e) in store.entries.iter().enumerate() {
            if !include(e) {
                continue;
            }
            let i = i as u32;
            match place_of(store, e) {
                Place::V4(a) => index.v4.insert(hash_u32(a), a, i, no_rehash),
                Place::V6(a) => {
                    let (h, t) = finish(hash_u128(a));
                    index.v6.insert(h, t, i, no_rehash);
                }
                Place::V4Net(len, a) => {
                    if let Some(at) = index.v4_nets.iter().position(|(l, _)| *l == len) {
                        if index.v4_net_filters.len() != index.v4_nets.len() {
                            index.v4_net_filters = index
                                .v4_nets
                                .iter()
                                .map(|_| vec![0u64; V4_FILTER_WORDS].into_boxed_slice())
                                .collect();
                        }
                        if let Some((_, t)) = index.v4_nets.get_mut(at) {
                            t.insert(hash_u32(a), a, i, no_rehash);
                        }
                        if let Some(filter) = index.v4_net_filters.get_mut(at) {
                            set_v4_filter(filter, a);
                        }
                    }
                }
                Place::V6Net(len, a) => {
                    if let Some((_, t)) = index.v6_nets.iter_mut().find(|(l, _)| *l == len) {
                        let (h, tag) = finish(hash_u128(a));
                        t.insert(h, tag, i, no_rehash);
                    }
                }
                Place::DomainExact(h) => {
                    let (h, t) = finish(h);
                    index.domain_exact.insert(h, t, i, no_rehash);
                }
                Place::DomainWild(h) => {
                    let (h, t) = finish(h);
                    index.domain_wild.insert(h, t, i, no_rehash);
                }
                Place::Text(k, h) => {
                    if let Some(t) = index.text.get_mut(k) {
                        let (h, tag) = finish(h);
                        t.insert(h, tag, i, no_rehash);
                    }
                }
            }
        }
        index
    }

    /// Whether the `at`-th IPv4 network table can hold `masked` (see `v4_net_filters`).
    #[inline]
    fn v4_net_may_hold(&self, at: usize, masked: u32) -> bool {
        let bucket = (masked >> 16) as usize;
        self.v4_net_filters
            .get(at)
            .and_then(|filter| filter.get(bucket / 64))
            .is_none_or(|word| word & (1 << (bucket % 64)) != 0)
    }

    fn has_ip(&self) -> bool {
        self.v4.len() + self.v6.len() > 0 || !self.v4_nets.is_empty() || !self.v6_nets.is_empty()
    }

    fn has_domain(&self) -> bool {
        self.domain_exact.len() + self.domain_wild.len() > 0
    }

    fn memory_usage(&self) -> usize {
        self.v4.memory_usage()
            + self.v6.memory_usage()
            + self
                .v4_nets
                .iter()
                .chain(self.v6_nets.iter())
                .map(|(_, t)| t.memory_usage() + std::mem::size_of::<(u8, Table)>())
                .sum::<usize>()
            + self.v4_net_filters.len() * V4_FILTER_WORDS * 8
            + self.domain_exact.memory_usage()
            + self.domain_wild.memory_usage()
            + self
                .text
                .iter()
                .map(|t| t.memory_usage() + std::mem::size_of::<Table>())
                .sum::<usize>()
    }
}

/// The immutable compiled set. Cheap to share behind an `Arc`; `Send + Sync`; no interior
/// mutability, so lookups from many worker threads need no locks.
#[derive(Default)]
pub struct IndicatorSet {
    store: Store,
    windows: Vec<Window>,
    deny: Index,
    allow: Index,
    /// Entries per kind (index: `IndicatorKind as usize`), so [`IndicatorSet::count_of`] is
    /// O(1): the agent asks it per observation before computing dataset digests.
    kind_counts: [usize; IndicatorKind::ALL.len()],
    /// Compiled OT policies (see [`crate::ot`]).
    ot: crate::ot::CompiledOt,
    /// The OT policies as added, for [`crate::bundle::Bundle::from_set`] and merges.
    ot_policies: Vec<crate::ot::OtPolicy>,
}

impl fmt::Debug for IndicatorSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Not derived: a derived Debug would print a million entries.
        f.debug_struct("IndicatorSet")
            .field("len", &self.len())
            .field("memory_usage", &self.memory_usage())
            .finish_non_exhaustive()
    }
}

/// A borrowed view of one compiled indicator, for alert output.
#[derive(Clone, Copy, Debug)]
pub struct IndicatorRef<'a> {
    set: &'a IndicatorSet,
    entry: &'a Entry,
}

/// Stands in for metadata of an entry whose index is out of range (impossible for entries of a
/// built set; kept so accessors never panic).
static NO_META: LazyLock<IndicatorMeta> = LazyLock::new(IndicatorMeta::default);

impl<'a> IndicatorRef<'a> {
    /// Feed id, or a stable id derived from kind and value.
    ///
    /// The derived id is `"<kind>:<hex>"` where `<hex>` is the first 8 bytes of
    /// `sha256("<kind>:<value>")` in lower-case hex, `<kind>` is [`IndicatorKind::as_str`] and
    /// `<value>` the value's `Display` form (so `*.evil.example` for a subdomain entry). It only
    /// depends on content, so the same indicator keeps its id across reloads and agents.
    pub fn id(&self) -> Cow<'a, str> {
        if self.entry.id != NO_ID {
            let store = &self.set.store;
            if let Some(&(a, b)) = store.id_spans.get(self.entry.id as usize) {
                let start = a as usize;
                if let Some(Ok(s)) = store
                    .ids
                    .get(start..start + b as usize)
                    .map(std::str::from_utf8)
                {
                    return Cow::Borrowed(s);
                }
            }
        }
        Cow::Owned(content_id(self.kind(), &self.value()))
    }

    /// Kind.
    pub fn kind(&self) -> IndicatorKind {
        self.entry.kind
    }

    /// Value (reconstructed; allocates for names and texts).
    pub fn value(&self) -> IndicatorValue {
        self.set.store.value_of(self.entry)
    }

    /// Score given by the feed (datarep/iprep), if any.
    pub fn score(&self) -> Option<i32> {
        (self.entry.flags & HAS_SCORE != 0).then_some(self.entry.score)
    }

    /// Metadata.
    pub fn meta(&self) -> &'a IndicatorMeta {
        match self.set.store.metas.get(self.entry.meta as usize) {
            Some(meta) => meta,
            None => &NO_META,
        }
    }

    /// The shared metadata record itself, so an alert can keep it without copying it.
    pub fn meta_arc(&self) -> Arc<IndicatorMeta> {
        match self.set.store.metas.get(self.entry.meta as usize) {
            Some(meta) => Arc::clone(meta),
            None => Arc::new(IndicatorMeta::default()),
        }
    }

    /// The dedup category the entry was added under (0–127, see
    /// [`IndicatorSetBuilder::add_in_category`]), so a set can be re-encoded (signed bundles)
    /// without merging entries that differ only by category.
    pub fn category(&self) -> u8 {
        self.entry.class & 0x7f
    }

    /// The match id of this indicator.
    pub fn match_id(&self) -> MatchId {
        let base = self.set.store.entries.as_ptr() as usize;
        let offset = (self.entry as *const Entry as usize).saturating_sub(base);
        MatchId((offset / std::mem::size_of::<Entry>()) as u32)
    }
}

/// The content-derived id documented on [`IndicatorRef::id`].
pub fn content_id(kind: IndicatorKind, value: &IndicatorValue) -> String {
    let digest = Sha256::digest(format!("{kind}:{value}").as_bytes());
    let mut id = String::with_capacity(kind.as_str().len() + 17);
    id.push_str(kind.as_str());
    id.push(':');
    for byte in digest.iter().take(8) {
        id.push_str(&format!("{byte:02x}"));
    }
    id
}

impl IndicatorSet {
    /// Empty set.
    pub fn empty() -> Self {
        Self::default()
    }

    /// Number of indicators (allowlist entries included).
    pub fn len(&self) -> usize {
        self.store.entries.len()
    }

    /// Whether empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Number of indicators of one kind (allowlist entries included); O(1), counted at build.
    pub fn count_of(&self, kind: IndicatorKind) -> usize {
        self.kind_counts.get(kind as usize).copied().unwrap_or(0)
    }

    /// Heap bytes owned by the set (each distinct metadata record counted once, in full, even
    /// though its `Arc` may be shared with the loader).
    pub fn memory_usage(&self) -> usize {
        self.store.memory_usage()
            + self.windows.capacity() * std::mem::size_of::<Window>()
            + self.deny.memory_usage()
            + self.allow.memory_usage()
            + self.ot.memory_usage()
    }

    #[inline]
    fn valid(&self, e: u32, now: i64) -> bool {
        self.store
            .entries
            .get(e as usize)
            .and_then(|entry| self.windows.get(entry.meta as usize))
            .is_some_and(|w| w.from <= now && now < w.until)
    }

    #[inline]
    fn entry(&self, e: u32) -> Option<&Entry> {
        self.store.entries.get(e as usize)
    }

    /// Walks the IP tables of `index`, calling `emit` for each valid hit until it returns true.
    /// Networks: every length when `every_prefix`, else only the longest with a valid hit.
    fn walk_ip(
        &self,
        index: &Index,
        ip: IpAddr,
        now: i64,
        every_prefix: bool,
        mut emit: impl FnMut(u32) -> bool,
    ) {
        let mut stop = false;
        match ip.to_canonical() {
            IpAddr::V4(a) => {
                let key = u32::from(a);
                index.v4.probe(hash_u32(key), key, |e| {
                    stop = self.valid(e, now) && emit(e);
                    stop
                });
                for (at, (len, table)) in index.v4_nets.iter().enumerate() {
                    if stop {
                        return;
                    }
                    let masked = mask_v4(key, *len);
                    if !index.v4_net_may_hold(at, masked) {
                        continue;
                    }
                    let mut hit = false;
                    table.probe(hash_u32(masked), masked, |e| {
                        if self.valid(e, now) {
                            hit = true;
                            stop = emit(e);
                        }
                        stop
                    });
                    if hit && !every_prefix {
                        return;
                    }
                }
            }
            IpAddr::V6(a) => {
                let key = u128::from(a);
                let (h, tag) = finish(hash_u128(key));
                index.v6.probe(h, tag, |e| {
                    let same = self.entry(e).is_some_and(|entry| {
                        entry.repr == Repr::V6 && self.store.v6.get(entry.a as usize) == Some(&key)
                    });
                    stop = same && self.valid(e, now) && emit(e);
                    stop
                });
                for (len, table) in &index.v6_nets {
                    if stop {
                        return;
                    }
                    let masked = mask_v6(key, *len);
                    let (h, tag) = finish(hash_u128(masked));
                    let mut hit = false;
                    table.probe(h, tag, |e| {
                        let same = self.entry(e).is_some_and(|entry| {
                            entry.repr == Repr::Net
                                && self.store.nets.get(entry.a as usize).is_some_and(|n| {
                                    n.prefix_len() == *len && store::net_bits(n) == masked
                                })
                        });
                        if same && self.valid(e, now) {
                            hit = true;
                            stop = emit(e);
                        }
                        stop
                    });
                    if hit && !every_prefix {
                        return;
                    }
                }
            }
        }
    }

    /// Exact address and longest-prefix network matches for `ip`, appended to `out`.
    ///
    /// Order: every valid exact entry for the address, then every valid entry of the longest
    /// containing network (only that length; see the module doc). IPv4-mapped IPv6 addresses
    /// are looked up as IPv4. Nothing is appended when a valid allowlist entry matches.
    pub fn match_ip(&self, ip: IpAddr, now: i64, out: &mut Vec<MatchId>) {
        if self.allow.has_ip() {
            let mut allowed = false;
            self.walk_ip(&self.allow, ip, now, true, |_| {
                allowed = true;
                true
            });
            if allowed {
                return;
            }
        }
        if self.deny.has_ip() {
            self.walk_ip(&self.deny, ip, now, false, |e| {
                out.push(MatchId(e));
                false
            });
        }
    }

    /// Walks the domain tables of `index` for `name` (already stripped of one trailing dot),
    /// parents first (from the top-level label down), then the name itself.
    fn walk_domain(&self, index: &Index, name: &[u8], now: i64, mut emit: impl FnMut(u32) -> bool) {
        let matches_at =
            |table: &Table, suffix: &[u8], h: u64, emit: &mut dyn FnMut(u32) -> bool| {
                let (h, tag) = finish(h);
                let mut stop = false;
                table.probe(h, tag, |e| {
                    let same = self.entry(e).is_some_and(|entry| {
                        entry.repr == Repr::Domain
                            && self
                                .store
                                .text_at(entry.a, entry.b)
                                .eq_ignore_ascii_case(suffix)
                    });
                    stop = same && self.valid(e, now) && emit(e);
                    stop
                });
                stop
            };
        let mut h = FNV_START;
        if index.domain_wild.len() > 0 {
            for (i, &b) in name.iter().enumerate().rev() {
                if b == b'.'
                    && let Some(suffix) = name.get(i + 1..)
                    && !suffix.is_empty()
                    && matches_at(&index.domain_wild, suffix, h, &mut emit)
                {
                    return;
                }
                h = fnv_step(h, b.to_ascii_lowercase());
            }
        } else {
            h = hash_domain(name);
        }
        if name.is_empty() {
            return;
        }
        if matches_at(&index.domain_wild, name, h, &mut emit) {
            return;
        }
        matches_at(&index.domain_exact, name, h, &mut emit);
    }

    /// Domain matches (exact, then every parent flagged for subdomains).
    ///
    /// Case-insensitive and tolerant of one trailing dot, without allocating: hashes are computed
    /// over lower-cased bytes and candidates compared with `eq_ignore_ascii_case`, so callers may
    /// pass names as seen on the wire. Order: exact entries for the name, then `*.` entries for
    /// the name, then `*.` entries of parents from the closest to the top-level label — most
    /// specific first. Nothing is appended when a valid allowlist entry matches the name or a parent.
    pub fn match_domain(&self, name: &str, now: i64, out: &mut Vec<MatchId>) {
        let name = name.strip_suffix('.').unwrap_or(name).as_bytes();
        if self.allow.has_domain() {
            let mut allowed = false;
            self.walk_domain(&self.allow, name, now, |_| {
                allowed = true;
                true
            });
            if allowed {
                return;
            }
        }
        if self.deny.has_domain() {
            let start = out.len();
            self.walk_domain(&self.deny, name, now, |e| {
                out.push(MatchId(e));
                false
            });
            if let Some(found) = out.get_mut(start..) {
                found.reverse();
            }
        }
    }

    fn walk_text(
        &self,
        index: &Index,
        kind: IndicatorKind,
        value: &[u8],
        now: i64,
        mut emit: impl FnMut(u32) -> bool,
    ) {
        let Some(table) = index.text.get(kind as usize) else {
            return;
        };
        if table.len() == 0 {
            return;
        }
        let fold = folds_case(kind);
        let (h, tag) = finish(hash_bytes(value, fold));
        table.probe(h, tag, |e| {
            let same = self.entry(e).is_some_and(|entry| {
                let stored = self.store.text_at(entry.a, entry.b);
                entry.repr == Repr::Text
                    && entry.kind == kind
                    && if fold {
                        stored.eq_ignore_ascii_case(value)
                    } else {
                        stored == value
                    }
            });
            same && self.valid(e, now) && emit(e)
        });
    }

    /// Matches of a textual kind.
    ///
    /// Hex kinds (JA3, JA3S, X.509 fingerprints, MD5, SHA-256) compare case-insensitively; URLs
    /// (pass them through [`crate::normalize::url`] first), user agents, JA4 and strings compare
    /// byte for byte. For convenience `Domain` delegates to [`IndicatorSet::match_domain`] and the
    /// address kinds parse `value` and delegate to [`IndicatorSet::match_ip`].
    pub fn match_text(&self, kind: IndicatorKind, value: &str, now: i64, out: &mut Vec<MatchId>) {
        match kind {
            IndicatorKind::Domain => return self.match_domain(value, now, out),
            IndicatorKind::Ipv4 | IndicatorKind::Ipv6 | IndicatorKind::Cidr => {
                if let Ok(ip) = value.parse::<IpAddr>() {
                    return self.match_ip(ip, now, out);
                }
            }
            _ => {}
        }
        let mut allowed = false;
        self.walk_text(&self.allow, kind, value.as_bytes(), now, |_| {
            allowed = true;
            true
        });
        if allowed {
            return;
        }
        self.walk_text(&self.deny, kind, value.as_bytes(), now, |e| {
            out.push(MatchId(e));
            false
        });
    }

    /// The OT policies compiled into the set, as they were added (their violation indicators
    /// are ordinary entries, see [`IndicatorSet::iter`]). A set rebuilt from this set's entries
    /// needs them passed to [`IndicatorSetBuilder::add_ot_policy`] again.
    pub fn ot_policies(&self) -> &[crate::ot::OtPolicy] {
        &self.ot_policies
    }

    /// Whether the set holds OT policy rules.
    pub fn has_ot_policy(&self) -> bool {
        !self.ot.is_empty()
    }

    /// Appends the OT policy entries `access` violates (see [`crate::ot`]): for a classed access,
    /// each policy rule of its protocol that monitors the class and has no grant covering the
    /// requester, responder and address; for a class-less access, each known-peers list of its
    /// protocol that does not contain the pair. Entries outside their validity window at `now`
    /// are skipped. Does not allocate beyond `out`'s growth.
    pub fn match_ot(&self, access: &crate::ot::OtAccess, now: i64, out: &mut Vec<MatchId>) {
        if self.ot.is_empty() {
            return;
        }
        self.ot.violations(access, |e| {
            if self.valid(e, now) && !out.contains(&MatchId(e)) {
                out.push(MatchId(e));
            }
        });
    }

    /// Looks up a match.
    ///
    /// # Panics
    ///
    /// If `id` did not come from this set (a caller bug: ids are only meaningful for the set
    /// that produced them). Use [`IndicatorSet::try_get`] where that cannot be ruled out.
    pub fn get(&self, id: MatchId) -> IndicatorRef<'_> {
        match self.try_get(id) {
            Some(r) => r,
            None => panic!(
                "MatchId {} is not from this IndicatorSet ({} entries)",
                id.0,
                self.len()
            ),
        }
    }

    /// Looks up a match; `None` if `id` is out of range for this set.
    pub fn try_get(&self, id: MatchId) -> Option<IndicatorRef<'_>> {
        self.store
            .entries
            .get(id.0 as usize)
            .map(|entry| IndicatorRef { set: self, entry })
    }

    /// Every indicator, in insertion order (for exports and tests).
    pub fn iter(&self) -> impl Iterator<Item = IndicatorRef<'_>> + '_ {
        self.store
            .entries
            .iter()
            .map(move |entry| IndicatorRef { set: self, entry })
    }
}

/// `IndicatorSet` is published to every worker thread; this fails to compile if a field ever
/// makes it `!Send` or `!Sync`.
const _: () = {
    const fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<IndicatorSet>();
    assert_send_sync::<IndicatorSetBuilder>();
};

//! Signed indicator bundles: the canonical, versioned, Ed25519-signed form in which a named set
//! travels from the collector to the agents, and deltas between two versions of it.
//!
//! # Why this shape
//!
//! * **Canonical bytes.** The same set content always encodes to the same bytes (entries sorted,
//!   metadata deduplicated and numbered by first use), so the content hash identifies a set and
//!   the collector can tell "nothing changed" without comparing sets.
//! * **Signature over the bytes, not over a parse.** Agents check the signature before decoding
//!   a single field, with a pinned public key: a tampered or forged bundle costs one hash.
//! * **Monotonic versions** make rollbacks detectable: [`verify`] refuses any version not newer
//!   than the one the agent runs, so an old (validly signed) bundle cannot be replayed to remove
//!   indicators.
//! * **Bounded decoding.** Every count is checked against [`MAX_ENTRIES`], [`MAX_METAS`],
//!   [`MAX_TAGS`] and the bytes left before anything is allocated; every value is validated; the
//!   decoder never panics (fuzzed: `intel/fuzz`, target `bundle_decode`).
//!
//! # Format (versions 1 and 2; all integers little-endian)
//!
//! ```text
//! snapshot body:
//!   magic         8 bytes  "KRDNSET\0"
//!   format        u16      1
//!   set name      str16    1–255 bytes of UTF-8
//!   version       u64      ≥ 1, monotonic per set
//!   content hash  32 bytes SHA-256 of the content section
//!   content       section
//! content section:
//!   meta count    u32, then per metadata record:
//!     source str16, set str16, severity u8 (0 low … 3 critical), confidence u8 (0–100),
//!     tlp u8 (0 clear, 1 green, 2 amber, 3 amber+strict, 4 red),
//!     flags u8 (bit 0 allowlist, bit 1 valid_from present, bit 2 valid_until present),
//!     [valid_from i64], [valid_until i64], tag count u16, tags str16 × count
//!   entry count   u32, then per entry, in strictly ascending order of its key bytes:
//!     key:  kind u8 (index in IndicatorKind::ALL), category u8 (0–127), allowlist u8 (0/1),
//!           value: tag u8 then 0 ipv4 [4] | 1 ipv6 [16] | 2 ipv4 net [4, len u8] |
//!           3 ipv6 net [16, len u8] | 4 exact domain str32 | 5 domain with subdomains str32 |
//!           6 text str32
//!     flags u8 (bit 0 score present, bit 1 id present), [score i32], [id str16], meta u32
//! str16 = u16 length + UTF-8 bytes; str32 = u32 length (≤ 1 MiB) + UTF-8 bytes.
//! delta body:
//!   magic "KRDNDLT\0", format u16 1, set name str16, from version u64, from content hash 32,
//!   to version u64, to content hash 32, remove count u32 + entry keys, then a content section
//!   with the added entries.
//! signed bundle or delta = body ‖ 64-byte Ed25519 signature over the body.
//!
//! format 2 (written only when the set holds OT policies, so a set without any encodes to
//! exactly the version-1 bytes and older agents keep reading it):
//!   snapshot: format u16 2, and the content section ends with an OT policy section;
//!   delta: format u16 2, and the body ends with an OT policy section that *replaces* the
//!   base's policies (the full policy list of the target version: a delta is written in format
//!   2 whenever the target's policies differ from the base's, in format 1 when they are equal).
//! OT policy section (see crate::ot):
//!   policy count u32 (1–MAX_OT_POLICIES in a snapshot, 0–… in a delta), then the policies in
//!   strictly ascending order of their encoded bytes:
//!     name str16, rule count u32, per rule: protocol u8, monitor count u32 + class u8 × n,
//!       grant count u32, per grant: hosts net-list, servers net-list,
//!       classes count u32 + class u8 × n, address count u32 + (low u32, high u32) × n;
//!     peers u8 (0 none, 1 present), if present: protocols count u32 + protocol u8 × n,
//!       known count u32, per known pair: client net, server net, protocols count u32 + u8 × n
//!   net = 4 [ipv4 4 bytes, prefix u8] | 6 [ipv6 16 bytes, prefix u8]; net-list = count u32 + nets;
//!   protocol and class codes are their indices in OtProtocol::ALL and OtClass::ALL.
//! ```
//!
//! The entry key is (kind, category, allowlist, value): exactly the matcher's dedup key, so a
//! bundle holds at most one entry per key and compiles to a set of the same size. A changed
//! entry (same key, other metadata) appears in a delta as a removal plus an addition.

// Untrusted input: no panics on any path (STYLE §2.6).
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::indexing_slicing,
        clippy::panic
    )
)]

use std::collections::{BTreeMap, HashMap};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::Path;
use std::sync::Arc;

use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey};
use ed25519_dalek::{Signature, Signer};
pub use ed25519_dalek::{SigningKey, VerifyingKey};
use ipnet::{IpNet, Ipv4Net, Ipv6Net};
use sha2::{Digest, Sha256};

use crate::matcher::{BuildError, IndicatorSet, IndicatorSetBuilder};
use crate::model::{Indicator, IndicatorKind, IndicatorMeta, IndicatorValue, Severity, Tlp};
use crate::ot::{KnownPeer, OtClass, OtGrant, OtPeers, OtPolicy, OtProtocol, OtRule};

/// Snapshot magic.
const SNAPSHOT_MAGIC: &[u8; 8] = b"KRDNSET\0";
/// Delta magic.
const DELTA_MAGIC: &[u8; 8] = b"KRDNDLT\0";
/// The newest encoding version this code writes and reads (it also reads and, for sets without
/// OT policies, writes [`FORMAT_V1`]).
pub const FORMAT_VERSION: u16 = 2;
/// The first format: entries only, no OT policies.
pub const FORMAT_V1: u16 = 1;
/// Ed25519 signature length.
const SIGNATURE_LEN: usize = 64;

/// Most entries in one bundle or delta. Sixteen million is 16× the design's largest set (1M),
/// and bounds what a decoder allocates for a hostile count.
pub const MAX_ENTRIES: usize = 16 * 1024 * 1024;
/// Most distinct metadata records (feeds share records; a million is already pathological).
pub const MAX_METAS: usize = 1024 * 1024;
/// Most tags per metadata record.
pub const MAX_TAGS: usize = 1024;
/// Longest value (domain, URL, text) in bytes; feed loaders cap values at 64 KiB already.
pub const MAX_VALUE_BYTES: usize = 1024 * 1024;
/// Longest set name in bytes.
pub const MAX_NAME_BYTES: usize = 255;
/// Most OT policies in one bundle or delta (policies are hand-written, tens per site).
pub const MAX_OT_POLICIES: usize = 4096;

/// Why a bundle or delta was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BundleError {
    /// The bytes end before a field does.
    #[error("bundle truncated: {0}")]
    Truncated(&'static str),
    /// A field holds a value the format does not allow.
    #[error("malformed bundle: {0}")]
    Malformed(String),
    /// A count or size is beyond the decoder's bounds.
    #[error("bundle exceeds a limit: {0}")]
    TooLarge(String),
    /// The signature does not verify against the pinned key.
    #[error("bundle signature does not verify against the pinned key")]
    BadSignature,
    /// The content does not hash to the recorded content hash.
    #[error("bundle content hash mismatch")]
    HashMismatch,
    /// The version is not newer than the one already applied.
    #[error("refusing bundle version {got} for set {set:?}: version {have} is already applied")]
    Rollback {
        /// The set.
        set: String,
        /// The version already applied.
        have: u64,
        /// The version offered.
        got: u64,
    },
    /// A delta does not apply to this base (other set, version or content).
    #[error("delta does not apply: {0}")]
    DeltaMismatch(String),
    /// A key could not be read, parsed or generated.
    #[error("key error: {0}")]
    Key(String),
    /// Compiling the verified entries failed.
    #[error(transparent)]
    Build(#[from] BuildError),
}

fn malformed(reason: impl Into<String>) -> BundleError {
    BundleError::Malformed(reason.into())
}

/// One entry of a bundle: everything the matcher keeps about an indicator.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BundleEntry {
    /// Kind.
    pub kind: IndicatorKind,
    /// Dedup category (0–127; see [`IndicatorSetBuilder::add_in_category`]).
    pub category: u8,
    /// Normalised value.
    pub value: IndicatorValue,
    /// Feed score.
    pub score: Option<i32>,
    /// Feed id, if the feed gave one.
    pub id: Option<String>,
    /// Metadata (shared).
    pub meta: Arc<IndicatorMeta>,
}

impl BundleEntry {
    /// The entry's key bytes (kind, category, allowlist, value): its identity and sort key.
    fn key(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(24);
        self.write_key(&mut out);
        out
    }

    fn write_key(&self, out: &mut Vec<u8>) {
        out.push(kind_code(self.kind));
        out.push(self.category & 0x7f);
        out.push(u8::from(self.meta.allowlist));
        write_value(out, &self.value);
    }

    /// The entry as an [`Indicator`] for a builder.
    pub fn to_indicator(&self) -> Indicator {
        Indicator {
            id: self.id.clone(),
            kind: self.kind,
            value: self.value.clone(),
            score: self.score,
            meta: Arc::clone(&self.meta),
        }
    }
}

/// A decoded (or freshly built) bundle: a named, versioned set in canonical order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Bundle {
    name: String,
    version: u64,
    entries: Vec<BundleEntry>,
    /// OT policies, in canonical order (ascending encoded bytes, no duplicates).
    ot_policies: Vec<OtPolicy>,
    content_hash: [u8; 32],
}

/// A bundle whose signature verified against the pinned key and whose version is newer than
/// the one applied; only [`verify`] and [`verify_delta`] make one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedBundle(Bundle);

impl std::ops::Deref for VerifiedBundle {
    type Target = Bundle;
    fn deref(&self) -> &Bundle {
        &self.0
    }
}

impl VerifiedBundle {
    /// The bundle, for callers that keep it as the base of the next delta.
    pub fn into_inner(self) -> Bundle {
        self.0
    }
}

impl Bundle {
    /// A bundle of every indicator of a compiled set (allowlist entries included), in canonical
    /// order. `version` must be ≥ 1.
    pub fn from_set(name: &str, version: u64, set: &IndicatorSet) -> Result<Self, BundleError> {
        let entries = set
            .iter()
            .map(|r| {
                let id = r.id();
                BundleEntry {
                    kind: r.kind(),
                    category: r.category(),
                    value: r.value(),
                    score: r.score(),
                    // A derived id is computed from content and need not travel.
                    id: matches!(id, std::borrow::Cow::Borrowed(_)).then(|| id.into_owned()),
                    meta: r.meta_arc(),
                }
            })
            .collect();
        Bundle::from_parts(name, version, entries, set.ot_policies().to_vec())
    }

    /// A bundle of the given entries: sorted into canonical order; of entries with the same key
    /// the first is kept (as the matcher does).
    pub fn from_entries(
        name: &str,
        version: u64,
        entries: Vec<BundleEntry>,
    ) -> Result<Self, BundleError> {
        Bundle::from_parts(name, version, entries, Vec::new())
    }

    /// A bundle of the given entries and OT policies (see [`crate::ot`]): entries as in
    /// [`Bundle::from_entries`]; policies sorted into canonical order, exact duplicates dropped.
    /// The policies' violation indicators are ordinary entries and must be among `entries`.
    pub fn from_parts(
        name: &str,
        version: u64,
        entries: Vec<BundleEntry>,
        ot_policies: Vec<OtPolicy>,
    ) -> Result<Self, BundleError> {
        check_name(name)?;
        if version == 0 {
            return Err(malformed("versions start at 1"));
        }
        if entries.len() > MAX_ENTRIES {
            return Err(BundleError::TooLarge(format!(
                "{} entries, more than {MAX_ENTRIES}",
                entries.len()
            )));
        }
        let entries = canonical(entries)?;
        let ot_policies = canonical_policies(ot_policies)?;
        let content_hash = Sha256::digest(encode_content(&entries, &ot_policies)?).into();
        Ok(Bundle {
            name: name.to_owned(),
            version,
            entries,
            ot_policies,
            content_hash,
        })
    }

    /// The set name.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The version.
    pub fn version(&self) -> u64 {
        self.version
    }

    /// SHA-256 of the content section (entries, metadata and OT policies; not name or version).
    pub fn content_hash(&self) -> [u8; 32] {
        self.content_hash
    }

    /// The entries in canonical order.
    pub fn entries(&self) -> &[BundleEntry] {
        &self.entries
    }

    /// The OT policies in canonical order.
    pub fn ot_policies(&self) -> &[OtPolicy] {
        &self.ot_policies
    }

    /// The canonical body bytes (see the module doc).
    pub fn canonical_bytes(&self) -> Result<Vec<u8>, BundleError> {
        let content = encode_content(&self.entries, &self.ot_policies)?;
        let mut out = Vec::with_capacity(content.len() + 64 + self.name.len());
        out.extend_from_slice(SNAPSHOT_MAGIC);
        let format = if self.ot_policies.is_empty() {
            FORMAT_V1
        } else {
            FORMAT_VERSION
        };
        out.extend_from_slice(&format.to_le_bytes());
        write_str16(&mut out, &self.name)?;
        out.extend_from_slice(&self.version.to_le_bytes());
        out.extend_from_slice(&self.content_hash);
        out.extend_from_slice(&content);
        Ok(out)
    }

    /// The signed bundle: canonical bytes followed by their Ed25519 signature.
    pub fn sign(&self, key: &SigningKey) -> Result<Vec<u8>, BundleError> {
        let mut body = self.canonical_bytes()?;
        let signature = key.sign(&body);
        body.extend_from_slice(&signature.to_bytes());
        Ok(body)
    }

    /// Compiles the entries into a matcher set.
    pub fn compile(&self) -> Result<IndicatorSet, BundleError> {
        let mut builder = IndicatorSetBuilder::new();
        for entry in &self.entries {
            builder.add_in_category(entry.to_indicator(), entry.category);
        }
        for policy in &self.ot_policies {
            builder.add_ot_policy(policy.clone());
        }
        Ok(builder.build()?)
    }

    /// Like [`Bundle::compile`], consuming the bundle so values are moved, not copied.
    pub fn into_set(self) -> Result<IndicatorSet, BundleError> {
        let mut builder = IndicatorSetBuilder::new();
        for e in self.entries {
            let category = e.category;
            builder.add_in_category(
                Indicator {
                    id: e.id,
                    kind: e.kind,
                    value: e.value,
                    score: e.score,
                    meta: e.meta,
                },
                category,
            );
        }
        for policy in self.ot_policies {
            builder.add_ot_policy(policy);
        }
        Ok(builder.build()?)
    }

    /// The delta that turns `self` into `newer` (same set, newer version).
    pub fn delta_to(&self, newer: &Bundle) -> Result<Delta, BundleError> {
        if self.name != newer.name {
            return Err(BundleError::DeltaMismatch(format!(
                "sets differ: {:?} and {:?}",
                self.name, newer.name
            )));
        }
        if newer.version <= self.version {
            return Err(BundleError::DeltaMismatch(format!(
                "version {} is not newer than {}",
                newer.version, self.version
            )));
        }
        let old: HashMap<Vec<u8>, &BundleEntry> =
            self.entries.iter().map(|e| (e.key(), e)).collect();
        let new: HashMap<Vec<u8>, &BundleEntry> =
            newer.entries.iter().map(|e| (e.key(), e)).collect();
        let mut removes: Vec<Vec<u8>> = old
            .iter()
            .filter(|(k, e)| new.get(*k).is_none_or(|n| !same_entry(n, e)))
            .map(|(k, _)| k.clone())
            .collect();
        removes.sort();
        let adds: Vec<BundleEntry> = newer
            .entries
            .iter()
            .filter(|e| old.get(&e.key()).is_none_or(|o| !same_entry(o, e)))
            .cloned()
            .collect();
        let ot_policies =
            (self.ot_policies != newer.ot_policies).then(|| newer.ot_policies.clone());
        Ok(Delta {
            name: self.name.clone(),
            from_version: self.version,
            from_hash: self.content_hash,
            to_version: newer.version,
            to_hash: newer.content_hash,
            removes,
            adds,
            ot_policies,
        })
    }

    /// Applies a delta: removes, then adds, then checks that the result hashes to the delta's
    /// target hash, so a delta yields exactly the new set or nothing.
    pub fn apply(&self, delta: &Delta) -> Result<Bundle, BundleError> {
        if delta.name != self.name
            || delta.from_version != self.version
            || delta.from_hash != self.content_hash
        {
            return Err(BundleError::DeltaMismatch(format!(
                "delta is from {:?} version {}, base is {:?} version {}",
                delta.name, delta.from_version, self.name, self.version
            )));
        }
        let removes: std::collections::HashSet<&[u8]> =
            delta.removes.iter().map(Vec::as_slice).collect();
        let mut entries: Vec<BundleEntry> = self
            .entries
            .iter()
            .filter(|e| !removes.contains(e.key().as_slice()))
            .cloned()
            .collect();
        entries.extend(delta.adds.iter().cloned());
        let policies = delta
            .ot_policies
            .clone()
            .unwrap_or_else(|| self.ot_policies.clone());
        let bundle = Bundle::from_parts(&self.name, delta.to_version, entries, policies)?;
        if bundle.content_hash != delta.to_hash {
            return Err(BundleError::HashMismatch);
        }
        Ok(bundle)
    }
}

/// Whether two entries with the same key are the same in every field.
fn same_entry(a: &BundleEntry, b: &BundleEntry) -> bool {
    a.score == b.score && a.id == b.id && (Arc::ptr_eq(&a.meta, &b.meta) || a.meta == b.meta)
}

/// Adds and removes between two versions of a set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delta {
    name: String,
    from_version: u64,
    from_hash: [u8; 32],
    to_version: u64,
    to_hash: [u8; 32],
    /// Keys of removed entries, sorted.
    removes: Vec<Vec<u8>>,
    adds: Vec<BundleEntry>,
    /// The target's full OT policy list when it differs from the base's; `None`: unchanged.
    ot_policies: Option<Vec<OtPolicy>>,
}

impl Delta {
    /// The set name.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// The base version.
    pub fn from_version(&self) -> u64 {
        self.from_version
    }
    /// The resulting version.
    pub fn to_version(&self) -> u64 {
        self.to_version
    }
    /// Number of removed entries.
    pub fn removed(&self) -> usize {
        self.removes.len()
    }
    /// The added entries, in canonical order.
    pub fn added(&self) -> &[BundleEntry] {
        &self.adds
    }
    /// The target version's OT policies when they differ from the base's (`None`: unchanged).
    pub fn ot_policies(&self) -> Option<&[OtPolicy]> {
        self.ot_policies.as_deref()
    }

    /// The canonical body bytes (see the module doc).
    pub fn canonical_bytes(&self) -> Result<Vec<u8>, BundleError> {
        let adds = canonical(self.adds.clone())?;
        let content = encode_content(&adds, &[])?;
        let mut out = Vec::with_capacity(content.len() + 128);
        out.extend_from_slice(DELTA_MAGIC);
        let format = if self.ot_policies.is_some() {
            FORMAT_VERSION
        } else {
            FORMAT_V1
        };
        out.extend_from_slice(&format.to_le_bytes());
        write_str16(&mut out, &self.name)?;
        out.extend_from_slice(&self.from_version.to_le_bytes());
        out.extend_from_slice(&self.from_hash);
        out.extend_from_slice(&self.to_version.to_le_bytes());
        out.extend_from_slice(&self.to_hash);
        write_count(&mut out, self.removes.len())?;
        for key in &self.removes {
            out.extend_from_slice(key);
        }
        out.extend_from_slice(&content);
        if let Some(policies) = &self.ot_policies {
            let policies = canonical_policies(policies.clone())?;
            encode_policies(&mut out, &policies)?;
        }
        Ok(out)
    }

    /// The signed delta: canonical bytes followed by their Ed25519 signature.
    pub fn sign(&self, key: &SigningKey) -> Result<Vec<u8>, BundleError> {
        let mut body = self.canonical_bytes()?;
        let signature = key.sign(&body);
        body.extend_from_slice(&signature.to_bytes());
        Ok(body)
    }
}

/// Verifies a signed bundle against the pinned key, decodes it, and refuses versions not newer
/// than `have_version` (pass 0 when no bundle of the set is applied yet; versions start at 1).
pub fn verify(
    signed: &[u8],
    pinned: &VerifyingKey,
    have_version: u64,
) -> Result<VerifiedBundle, BundleError> {
    let body = check_signature(signed, pinned)?;
    let bundle = decode_bundle(body)?;
    if bundle.version <= have_version {
        return Err(BundleError::Rollback {
            set: bundle.name,
            have: have_version,
            got: bundle.version,
        });
    }
    Ok(VerifiedBundle(bundle))
}

/// Verifies a signed delta against the pinned key and applies it to `base` (the bundle the
/// agent runs), giving the new verified bundle. Refuses deltas whose target version is not newer
/// than `base` and deltas that do not start from exactly `base`.
pub fn verify_delta(
    signed: &[u8],
    pinned: &VerifyingKey,
    base: &Bundle,
) -> Result<VerifiedBundle, BundleError> {
    let body = check_signature(signed, pinned)?;
    let delta = decode_delta(body)?;
    if delta.to_version <= base.version {
        return Err(BundleError::Rollback {
            set: delta.name,
            have: base.version,
            got: delta.to_version,
        });
    }
    Ok(VerifiedBundle(base.apply(&delta)?))
}

/// Splits off and checks the signature; returns the body.
fn check_signature<'a>(signed: &'a [u8], pinned: &VerifyingKey) -> Result<&'a [u8], BundleError> {
    let split = signed
        .len()
        .checked_sub(SIGNATURE_LEN)
        .ok_or(BundleError::Truncated("no signature"))?;
    let (body, sig) = signed.split_at(split);
    let sig: [u8; SIGNATURE_LEN] = sig
        .try_into()
        .map_err(|_| BundleError::Truncated("signature"))?;
    pinned
        .verify_strict(body, &Signature::from_bytes(&sig))
        .map_err(|_| BundleError::BadSignature)?;
    Ok(body)
}

/// Decodes an (unsigned) snapshot body. Public for tools and the fuzz target; agents use
/// [`verify`], which checks the signature first.
pub fn decode_bundle(body: &[u8]) -> Result<Bundle, BundleError> {
    let mut r = Reader { b: body };
    if r.take(8, "magic")? != SNAPSHOT_MAGIC {
        return Err(malformed("not a Kordon bundle (bad magic)"));
    }
    let format = check_format(r.u16("format")?)?;
    let name = r.name()?;
    let version = r.u64("version")?;
    if version == 0 {
        return Err(malformed("version 0"));
    }
    let hash: [u8; 32] = r
        .take(32, "content hash")?
        .try_into()
        .map_err(|_| BundleError::Truncated("content hash"))?;
    let content = r.b;
    if <[u8; 32]>::from(Sha256::digest(content)) != hash {
        return Err(BundleError::HashMismatch);
    }
    let entries = r.content()?;
    let ot_policies = if format >= 2 {
        let policies = r.policies()?;
        if policies.is_empty() {
            // A set without policies is written in format 1.
            return Err(malformed("format 2 bundle without OT policies"));
        }
        policies
    } else {
        Vec::new()
    };
    if !r.b.is_empty() {
        return Err(malformed(format!("{} bytes after the entries", r.b.len())));
    }
    Ok(Bundle {
        name,
        version,
        entries,
        ot_policies,
        content_hash: hash,
    })
}

/// Decodes an (unsigned) delta body.
pub fn decode_delta(body: &[u8]) -> Result<Delta, BundleError> {
    let mut r = Reader { b: body };
    if r.take(8, "magic")? != DELTA_MAGIC {
        return Err(malformed("not a Kordon delta (bad magic)"));
    }
    let format = check_format(r.u16("format")?)?;
    let name = r.name()?;
    let from_version = r.u64("from version")?;
    let from_hash = r.hash()?;
    let to_version = r.u64("to version")?;
    let to_hash = r.hash()?;
    let count = r.count(MAX_ENTRIES, 4, "removals")?;
    let mut removes = Vec::with_capacity(count);
    for _ in 0..count {
        let start = r.b;
        r.key()?;
        let used = start.len() - r.b.len();
        removes.push(start.get(..used).unwrap_or_default().to_vec());
    }
    let adds = r.content()?;
    let ot_policies = if format >= 2 {
        Some(r.policies()?)
    } else {
        None
    };
    if !r.b.is_empty() {
        return Err(malformed("bytes after the delta"));
    }
    Ok(Delta {
        name,
        from_version,
        from_hash,
        to_version,
        to_hash,
        removes,
        adds,
        ot_policies,
    })
}

fn check_format(format: u16) -> Result<u16, BundleError> {
    if (FORMAT_V1..=FORMAT_VERSION).contains(&format) {
        Ok(format)
    } else {
        Err(malformed(format!(
            "format version {format}, this code reads {FORMAT_V1}-{FORMAT_VERSION}"
        )))
    }
}

fn check_name(name: &str) -> Result<(), BundleError> {
    if name.is_empty() || name.len() > MAX_NAME_BYTES {
        return Err(malformed(format!(
            "set name must be 1-{MAX_NAME_BYTES} bytes"
        )));
    }
    Ok(())
}

/// Sorts by key and drops later entries with a key already seen.
fn canonical(entries: Vec<BundleEntry>) -> Result<Vec<BundleEntry>, BundleError> {
    let mut keyed: Vec<(Vec<u8>, usize, BundleEntry)> = entries
        .into_iter()
        .enumerate()
        .map(|(i, e)| (e.key(), i, e))
        .collect();
    keyed.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)));
    keyed.dedup_by(|later, first| later.0 == first.0);
    Ok(keyed.into_iter().map(|(_, _, e)| e).collect())
}

// ---- encoding ----

fn kind_code(kind: IndicatorKind) -> u8 {
    IndicatorKind::ALL
        .iter()
        .position(|k| *k == kind)
        .and_then(|i| u8::try_from(i).ok())
        .unwrap_or(u8::MAX)
}

fn severity_code(s: Severity) -> u8 {
    match s {
        Severity::Low => 0,
        Severity::Medium => 1,
        Severity::High => 2,
        Severity::Critical => 3,
    }
}

fn tlp_code(t: Tlp) -> u8 {
    match t {
        Tlp::Clear => 0,
        Tlp::Green => 1,
        Tlp::Amber => 2,
        Tlp::AmberStrict => 3,
        Tlp::Red => 4,
    }
}

fn write_value(out: &mut Vec<u8>, value: &IndicatorValue) {
    // Values come from normalised indicators (≤ 64 KiB) or from a decoded bundle (≤ 1 MiB):
    // the length always fits the u32; `encode_content` checks it anyway.
    let text = |out: &mut Vec<u8>, tag: u8, s: &str| {
        out.push(tag);
        out.extend_from_slice(&u32::try_from(s.len()).unwrap_or(u32::MAX).to_le_bytes());
        out.extend_from_slice(s.as_bytes());
    };
    match value {
        IndicatorValue::Ip(IpAddr::V4(a)) => {
            out.push(0);
            out.extend_from_slice(&a.octets());
        }
        IndicatorValue::Ip(IpAddr::V6(a)) => {
            out.push(1);
            out.extend_from_slice(&a.octets());
        }
        IndicatorValue::Cidr(IpNet::V4(n)) => {
            out.push(2);
            out.extend_from_slice(&n.network().octets());
            out.push(n.prefix_len());
        }
        IndicatorValue::Cidr(IpNet::V6(n)) => {
            out.push(3);
            out.extend_from_slice(&n.network().octets());
            out.push(n.prefix_len());
        }
        IndicatorValue::Domain {
            name,
            subdomains: false,
        } => text(out, 4, name),
        IndicatorValue::Domain {
            name,
            subdomains: true,
        } => text(out, 5, name),
        IndicatorValue::Text(s) => text(out, 6, s),
    }
}

fn write_str16(out: &mut Vec<u8>, s: &str) -> Result<(), BundleError> {
    let len = u16::try_from(s.len())
        .map_err(|_| BundleError::TooLarge(format!("string of {} bytes", s.len())))?;
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(s.as_bytes());
    Ok(())
}

fn write_count(out: &mut Vec<u8>, n: usize) -> Result<(), BundleError> {
    let n = u32::try_from(n).map_err(|_| BundleError::TooLarge(format!("count {n}")))?;
    out.extend_from_slice(&n.to_le_bytes());
    Ok(())
}

/// Identity of a metadata record for dedup while encoding.
fn meta_key(meta: &Arc<IndicatorMeta>) -> usize {
    Arc::as_ptr(meta) as usize
}

/// Sorts policies by their encoded bytes and drops exact duplicates.
fn canonical_policies(policies: Vec<OtPolicy>) -> Result<Vec<OtPolicy>, BundleError> {
    if policies.len() > MAX_OT_POLICIES {
        return Err(BundleError::TooLarge(format!(
            "{} OT policies, more than {MAX_OT_POLICIES}",
            policies.len()
        )));
    }
    let mut keyed = Vec::with_capacity(policies.len());
    for policy in policies {
        let mut bytes = Vec::new();
        encode_policy(&mut bytes, &policy)?;
        keyed.push((bytes, policy));
    }
    keyed.sort_by(|a, b| a.0.cmp(&b.0));
    keyed.dedup_by(|later, first| later.0 == first.0);
    Ok(keyed.into_iter().map(|(_, p)| p).collect())
}

fn protocol_code(p: OtProtocol) -> u8 {
    p as u8
}

fn class_code(c: OtClass) -> u8 {
    c as u8
}

fn write_net(out: &mut Vec<u8>, net: &IpNet) {
    match net {
        IpNet::V4(n) => {
            out.push(4);
            out.extend_from_slice(&n.addr().octets());
            out.push(n.prefix_len());
        }
        IpNet::V6(n) => {
            out.push(6);
            out.extend_from_slice(&n.addr().octets());
            out.push(n.prefix_len());
        }
    }
}

fn write_nets(out: &mut Vec<u8>, nets: &[IpNet]) -> Result<(), BundleError> {
    write_count(out, nets.len())?;
    for n in nets {
        write_net(out, n);
    }
    Ok(())
}

fn write_codes(
    out: &mut Vec<u8>,
    codes: impl ExactSizeIterator<Item = u8>,
) -> Result<(), BundleError> {
    write_count(out, codes.len())?;
    out.extend(codes);
    Ok(())
}

/// Encodes one policy (see the module doc).
fn encode_policy(out: &mut Vec<u8>, policy: &OtPolicy) -> Result<(), BundleError> {
    write_str16(out, &policy.name)?;
    write_count(out, policy.rules.len())?;
    for rule in &policy.rules {
        out.push(protocol_code(rule.protocol));
        write_codes(out, rule.monitor.iter().map(|c| class_code(*c)))?;
        write_count(out, rule.allow.len())?;
        for grant in &rule.allow {
            write_nets(out, &grant.hosts)?;
            write_nets(out, &grant.servers)?;
            write_codes(out, grant.classes.iter().map(|c| class_code(*c)))?;
            write_count(out, grant.addresses.len())?;
            for (lo, hi) in &grant.addresses {
                out.extend_from_slice(&lo.to_le_bytes());
                out.extend_from_slice(&hi.to_le_bytes());
            }
        }
    }
    match &policy.peers {
        None => out.push(0),
        Some(peers) => {
            out.push(1);
            write_codes(out, peers.protocols.iter().map(|p| protocol_code(*p)))?;
            write_count(out, peers.known.len())?;
            for k in &peers.known {
                write_net(out, &k.client);
                write_net(out, &k.server);
                write_codes(out, k.protocols.iter().map(|p| protocol_code(*p)))?;
            }
        }
    }
    Ok(())
}

/// Encodes an OT policy section of already canonical policies.
fn encode_policies(out: &mut Vec<u8>, policies: &[OtPolicy]) -> Result<(), BundleError> {
    write_count(out, policies.len())?;
    for policy in policies {
        encode_policy(out, policy)?;
    }
    Ok(())
}

/// Encodes the content section of already canonical entries and policies (the policy section
/// only when there are policies: format 2).
fn encode_content(entries: &[BundleEntry], policies: &[OtPolicy]) -> Result<Vec<u8>, BundleError> {
    let mut out = encode_entries(entries)?;
    if !policies.is_empty() {
        encode_policies(&mut out, policies)?;
    }
    Ok(out)
}

/// Encodes the metadata and entries of a content section.
fn encode_entries(entries: &[BundleEntry]) -> Result<Vec<u8>, BundleError> {
    // Metadata numbered by first use, deduplicated by pointer and then by content.
    let mut by_ptr: HashMap<usize, u32> = HashMap::new();
    let mut by_content: HashMap<&IndicatorMeta, u32> = HashMap::new();
    let mut metas: Vec<&IndicatorMeta> = Vec::new();
    let mut refs: Vec<u32> = Vec::with_capacity(entries.len());
    for e in entries {
        let index = match by_ptr.get(&meta_key(&e.meta)) {
            Some(&i) => i,
            None => {
                let i = match by_content.get(e.meta.as_ref()) {
                    Some(&i) => i,
                    None => {
                        let i = u32::try_from(metas.len())
                            .map_err(|_| BundleError::TooLarge("metadata records".into()))?;
                        metas.push(&e.meta);
                        by_content.insert(&e.meta, i);
                        i
                    }
                };
                by_ptr.insert(meta_key(&e.meta), i);
                i
            }
        };
        refs.push(index);
    }
    if metas.len() > MAX_METAS {
        return Err(BundleError::TooLarge(format!(
            "{} metadata records, more than {MAX_METAS}",
            metas.len()
        )));
    }
    let mut out = Vec::with_capacity(entries.len() * 16 + metas.len() * 64 + 8);
    write_count(&mut out, metas.len())?;
    for m in metas {
        write_str16(&mut out, &m.source)?;
        write_str16(&mut out, &m.set)?;
        out.push(severity_code(m.severity));
        out.push(m.confidence.min(100));
        out.push(tlp_code(m.tlp));
        let flags = u8::from(m.allowlist)
            | (u8::from(m.valid_from.is_some()) << 1)
            | (u8::from(m.valid_until.is_some()) << 2);
        out.push(flags);
        if let Some(t) = m.valid_from {
            out.extend_from_slice(&t.to_le_bytes());
        }
        if let Some(t) = m.valid_until {
            out.extend_from_slice(&t.to_le_bytes());
        }
        if m.tags.len() > MAX_TAGS {
            return Err(BundleError::TooLarge(format!(
                "{} tags, more than {MAX_TAGS}",
                m.tags.len()
            )));
        }
        out.extend_from_slice(&(m.tags.len() as u16).to_le_bytes());
        for tag in m.tags.iter() {
            write_str16(&mut out, tag)?;
        }
    }
    write_count(&mut out, entries.len())?;
    for (e, meta) in entries.iter().zip(refs) {
        if let IndicatorValue::Domain { name: s, .. } | IndicatorValue::Text(s) = &e.value
            && s.len() > MAX_VALUE_BYTES
        {
            return Err(BundleError::TooLarge(format!(
                "value of {} bytes, more than {MAX_VALUE_BYTES}",
                s.len()
            )));
        }
        e.write_key(&mut out);
        let flags = u8::from(e.score.is_some()) | (u8::from(e.id.is_some()) << 1);
        out.push(flags);
        if let Some(score) = e.score {
            out.extend_from_slice(&score.to_le_bytes());
        }
        if let Some(id) = &e.id {
            write_str16(&mut out, id)?;
        }
        out.extend_from_slice(&meta.to_le_bytes());
    }
    Ok(out)
}

// ---- decoding ----

/// A cursor over untrusted bytes; every read is bounds-checked.
struct Reader<'a> {
    b: &'a [u8],
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], BundleError> {
        if self.b.len() < n {
            return Err(BundleError::Truncated(what));
        }
        let (head, tail) = self.b.split_at(n);
        self.b = tail;
        Ok(head)
    }

    fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], BundleError> {
        self.take(N, what)?
            .try_into()
            .map_err(|_| BundleError::Truncated(what))
    }

    fn u8(&mut self, what: &'static str) -> Result<u8, BundleError> {
        Ok(self.array::<1>(what)?[0])
    }

    fn u16(&mut self, what: &'static str) -> Result<u16, BundleError> {
        Ok(u16::from_le_bytes(self.array(what)?))
    }

    fn u32(&mut self, what: &'static str) -> Result<u32, BundleError> {
        Ok(u32::from_le_bytes(self.array(what)?))
    }

    fn u64(&mut self, what: &'static str) -> Result<u64, BundleError> {
        Ok(u64::from_le_bytes(self.array(what)?))
    }

    fn i64(&mut self, what: &'static str) -> Result<i64, BundleError> {
        Ok(i64::from_le_bytes(self.array(what)?))
    }

    fn hash(&mut self) -> Result<[u8; 32], BundleError> {
        self.array("hash")
    }

    /// A count, checked against `max` and against the bytes left (each item needs at least
    /// `min_item` bytes), so a hostile count cannot make the caller allocate.
    fn count(
        &mut self,
        max: usize,
        min_item: usize,
        what: &'static str,
    ) -> Result<usize, BundleError> {
        let n = self.u32(what)? as usize;
        if n > max {
            return Err(BundleError::TooLarge(format!(
                "{n} {what}, more than {max}"
            )));
        }
        if n.saturating_mul(min_item) > self.b.len() {
            return Err(BundleError::Truncated(what));
        }
        Ok(n)
    }

    fn str16(&mut self, what: &'static str) -> Result<&'a str, BundleError> {
        let len = self.u16(what)? as usize;
        std::str::from_utf8(self.take(len, what)?)
            .map_err(|_| malformed(format!("{what} is not UTF-8")))
    }

    fn str32(&mut self, what: &'static str) -> Result<&'a str, BundleError> {
        let len = self.u32(what)? as usize;
        if len > MAX_VALUE_BYTES {
            return Err(BundleError::TooLarge(format!(
                "{what} of {len} bytes, more than {MAX_VALUE_BYTES}"
            )));
        }
        std::str::from_utf8(self.take(len, what)?)
            .map_err(|_| malformed(format!("{what} is not UTF-8")))
    }

    fn name(&mut self) -> Result<String, BundleError> {
        let name = self.str16("set name")?;
        check_name(name)?;
        Ok(name.to_owned())
    }

    /// An entry key: (kind, category, allowlist, value).
    fn key(&mut self) -> Result<(IndicatorKind, u8, bool, IndicatorValue), BundleError> {
        let kind = *IndicatorKind::ALL
            .get(self.u8("kind")? as usize)
            .ok_or_else(|| malformed("unknown indicator kind"))?;
        let category = self.u8("category")?;
        if category > 0x7f {
            return Err(malformed("category above 127"));
        }
        let allowlist = match self.u8("allowlist")? {
            0 => false,
            1 => true,
            _ => return Err(malformed("allowlist flag is not 0 or 1")),
        };
        let value = match self.u8("value tag")? {
            0 => IndicatorValue::Ip(IpAddr::V4(Ipv4Addr::from(self.array::<4>("ipv4")?))),
            1 => IndicatorValue::Ip(IpAddr::V6(Ipv6Addr::from(self.array::<16>("ipv6")?))),
            2 => {
                let addr = Ipv4Addr::from(self.array::<4>("ipv4 network")?);
                let len = self.u8("prefix")?;
                let net = Ipv4Net::new(addr, len).map_err(|_| malformed("bad IPv4 prefix"))?;
                if net.network() != addr {
                    return Err(malformed("network has host bits set"));
                }
                IndicatorValue::Cidr(IpNet::V4(net))
            }
            3 => {
                let addr = Ipv6Addr::from(self.array::<16>("ipv6 network")?);
                let len = self.u8("prefix")?;
                let net = Ipv6Net::new(addr, len).map_err(|_| malformed("bad IPv6 prefix"))?;
                if net.network() != addr {
                    return Err(malformed("network has host bits set"));
                }
                IndicatorValue::Cidr(IpNet::V6(net))
            }
            tag @ (4 | 5) => IndicatorValue::Domain {
                name: self.str32("domain")?.to_owned(),
                subdomains: tag == 5,
            },
            6 => IndicatorValue::Text(self.str32("text")?.to_owned()),
            other => return Err(malformed(format!("unknown value tag {other}"))),
        };
        Ok((kind, category, allowlist, value))
    }

    fn meta(&mut self) -> Result<IndicatorMeta, BundleError> {
        let source: Arc<str> = Arc::from(self.str16("source")?);
        let set: Arc<str> = Arc::from(self.str16("set")?);
        let severity = match self.u8("severity")? {
            0 => Severity::Low,
            1 => Severity::Medium,
            2 => Severity::High,
            3 => Severity::Critical,
            _ => return Err(malformed("unknown severity")),
        };
        let confidence = self.u8("confidence")?;
        if confidence > 100 {
            return Err(malformed("confidence above 100"));
        }
        let tlp = match self.u8("tlp")? {
            0 => Tlp::Clear,
            1 => Tlp::Green,
            2 => Tlp::Amber,
            3 => Tlp::AmberStrict,
            4 => Tlp::Red,
            _ => return Err(malformed("unknown TLP")),
        };
        let flags = self.u8("meta flags")?;
        if flags & !0b111 != 0 {
            return Err(malformed("unknown metadata flags"));
        }
        let valid_from = if flags & 2 != 0 {
            Some(self.i64("valid_from")?)
        } else {
            None
        };
        let valid_until = if flags & 4 != 0 {
            Some(self.i64("valid_until")?)
        } else {
            None
        };
        let n = self.u16("tag count")? as usize;
        if n > MAX_TAGS {
            return Err(BundleError::TooLarge(format!(
                "{n} tags, more than {MAX_TAGS}"
            )));
        }
        if n.saturating_mul(2) > self.b.len() {
            return Err(BundleError::Truncated("tags"));
        }
        let mut tags: Vec<Arc<str>> = Vec::with_capacity(n);
        for _ in 0..n {
            tags.push(Arc::from(self.str16("tag")?));
        }
        Ok(IndicatorMeta {
            source,
            set,
            severity,
            confidence,
            tlp,
            tags: tags.into(),
            valid_from,
            valid_until,
            allowlist: flags & 1 != 0,
        })
    }

    fn net(&mut self) -> Result<IpNet, BundleError> {
        match self.u8("network tag")? {
            4 => {
                let addr = Ipv4Addr::from(self.array::<4>("ipv4 network")?);
                let len = self.u8("prefix")?;
                Ok(IpNet::V4(
                    Ipv4Net::new(addr, len).map_err(|_| malformed("bad IPv4 prefix"))?,
                ))
            }
            6 => {
                let addr = Ipv6Addr::from(self.array::<16>("ipv6 network")?);
                let len = self.u8("prefix")?;
                Ok(IpNet::V6(
                    Ipv6Net::new(addr, len).map_err(|_| malformed("bad IPv6 prefix"))?,
                ))
            }
            other => Err(malformed(format!("unknown network tag {other}"))),
        }
    }

    fn nets(&mut self, what: &'static str) -> Result<Vec<IpNet>, BundleError> {
        let n = self.count(MAX_ENTRIES, 6, what)?;
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            out.push(self.net()?);
        }
        Ok(out)
    }

    fn classes(&mut self, what: &'static str) -> Result<Vec<OtClass>, BundleError> {
        let n = self.count(MAX_ENTRIES, 1, what)?;
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            out.push(
                *OtClass::ALL
                    .get(self.u8("OT class")? as usize)
                    .ok_or_else(|| malformed("unknown OT class"))?,
            );
        }
        Ok(out)
    }

    fn protocol(&mut self) -> Result<OtProtocol, BundleError> {
        OtProtocol::ALL
            .get(self.u8("OT protocol")? as usize)
            .copied()
            .ok_or_else(|| malformed("unknown OT protocol"))
    }

    fn protocols(&mut self, what: &'static str) -> Result<Vec<OtProtocol>, BundleError> {
        let n = self.count(MAX_ENTRIES, 1, what)?;
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            out.push(self.protocol()?);
        }
        Ok(out)
    }

    fn policy(&mut self) -> Result<OtPolicy, BundleError> {
        let name = self.str16("policy name")?.to_owned();
        // Smallest rule: protocol, three empty counts.
        let n_rules = self.count(MAX_ENTRIES, 9, "OT rules")?;
        let mut rules = Vec::with_capacity(n_rules);
        for _ in 0..n_rules {
            let protocol = self.protocol()?;
            let monitor = self.classes("monitored classes")?;
            // Smallest grant: four empty counts.
            let n_grants = self.count(MAX_ENTRIES, 16, "OT grants")?;
            let mut allow = Vec::with_capacity(n_grants);
            for _ in 0..n_grants {
                let hosts = self.nets("grant hosts")?;
                let servers = self.nets("grant servers")?;
                let classes = self.classes("grant classes")?;
                let n = self.count(MAX_ENTRIES, 8, "grant addresses")?;
                let mut addresses = Vec::with_capacity(n);
                for _ in 0..n {
                    addresses.push((self.u32("address")?, self.u32("address")?));
                }
                allow.push(OtGrant {
                    hosts,
                    servers,
                    classes,
                    addresses,
                });
            }
            rules.push(OtRule {
                protocol,
                monitor,
                allow,
            });
        }
        let peers = match self.u8("peers flag")? {
            0 => None,
            1 => {
                let protocols = self.protocols("peer protocols")?;
                // Smallest known pair: two IPv4 nets and an empty count.
                let n = self.count(MAX_ENTRIES, 16, "known peers")?;
                let mut known = Vec::with_capacity(n);
                for _ in 0..n {
                    let client = self.net()?;
                    let server = self.net()?;
                    let protocols = self.protocols("known peer protocols")?;
                    known.push(KnownPeer {
                        client,
                        server,
                        protocols,
                    });
                }
                Some(OtPeers { protocols, known })
            }
            _ => return Err(malformed("peers flag is not 0 or 1")),
        };
        Ok(OtPolicy { name, rules, peers })
    }

    /// An OT policy section: policies in strictly ascending order of their encoded bytes.
    fn policies(&mut self) -> Result<Vec<OtPolicy>, BundleError> {
        // Smallest policy: empty name, empty rule count, peers flag.
        let n = self.count(MAX_OT_POLICIES, 7, "OT policies")?;
        let mut out = Vec::with_capacity(n);
        let mut previous: &[u8] = &[];
        for _ in 0..n {
            let start = self.b;
            let policy = self.policy()?;
            let bytes = start.get(..start.len() - self.b.len()).unwrap_or_default();
            if bytes <= previous {
                return Err(malformed("OT policies are not in strictly ascending order"));
            }
            previous = bytes;
            out.push(policy);
        }
        Ok(out)
    }

    /// A content section: metadata records, then entries in strictly ascending key order.
    fn content(&mut self) -> Result<Vec<BundleEntry>, BundleError> {
        // Smallest metadata record: two empty strings, 4 bytes, tag count.
        let n_meta = self.count(MAX_METAS, 10, "metadata records")?;
        let mut metas: Vec<Arc<IndicatorMeta>> = Vec::with_capacity(n_meta);
        let mut distinct: std::collections::HashSet<Arc<IndicatorMeta>> =
            std::collections::HashSet::with_capacity(n_meta);
        for _ in 0..n_meta {
            let meta = Arc::new(self.meta()?);
            // The encoder deduplicates records; a repeated one is not canonical.
            if !distinct.insert(Arc::clone(&meta)) {
                return Err(malformed("repeated metadata record"));
            }
            metas.push(meta);
        }
        // Records are numbered by first use: the next unseen index an entry may name.
        let mut next_new: usize = 0;
        // Smallest entry: 3 key bytes, tag, 4-byte value, flags, meta index.
        let n = self.count(MAX_ENTRIES, 13, "entries")?;
        let mut entries = Vec::with_capacity(n);
        let mut previous: &[u8] = &[];
        for _ in 0..n {
            let start = self.b;
            let (kind, category, allowlist, value) = self.key()?;
            let key = start.get(..start.len() - self.b.len()).unwrap_or_default();
            if key <= previous {
                return Err(malformed("entries are not in strictly ascending key order"));
            }
            previous = key;
            let flags = self.u8("entry flags")?;
            if flags & !0b11 != 0 {
                return Err(malformed("unknown entry flags"));
            }
            let score = if flags & 1 != 0 {
                Some(i32::from_le_bytes(self.array("score")?))
            } else {
                None
            };
            let id = if flags & 2 != 0 {
                Some(self.str16("id")?.to_owned())
            } else {
                None
            };
            let index = self.u32("meta index")? as usize;
            let meta = metas
                .get(index)
                .ok_or_else(|| malformed("metadata index out of range"))?;
            if index > next_new {
                return Err(malformed("metadata records are not numbered by first use"));
            }
            if index == next_new {
                next_new += 1;
            }
            if meta.allowlist != allowlist {
                return Err(malformed("entry allowlist flag differs from its metadata"));
            }
            entries.push(BundleEntry {
                kind,
                category,
                value,
                score,
                id,
                meta: Arc::clone(meta),
            });
        }
        if next_new != metas.len() {
            return Err(malformed("unused metadata record"));
        }
        Ok(entries)
    }
}

// ---- keys ----

/// A new random signing key (from the operating system's generator).
pub fn generate_signing_key() -> Result<SigningKey, BundleError> {
    let mut secret = [0u8; 32];
    getrandom::getrandom(&mut secret).map_err(|e| BundleError::Key(e.to_string()))?;
    let key = SigningKey::from_bytes(&secret);
    secret.fill(0);
    Ok(key)
}

/// Reads a signing key: PKCS#8 PEM (`-----BEGIN PRIVATE KEY-----`, as `openssl genpkey
/// -algorithm ed25519` writes) or exactly 32 raw bytes.
pub fn signing_key_from_bytes(bytes: &[u8]) -> Result<SigningKey, BundleError> {
    if let Ok(raw) = <[u8; 32]>::try_from(bytes) {
        return Ok(SigningKey::from_bytes(&raw));
    }
    let text = std::str::from_utf8(bytes)
        .map_err(|_| BundleError::Key("neither 32 raw bytes nor PEM".into()))?;
    SigningKey::from_pkcs8_pem(text.trim()).map_err(|e| BundleError::Key(e.to_string()))
}

/// Reads a public key: SPKI PEM (`-----BEGIN PUBLIC KEY-----`) or exactly 32 raw bytes.
pub fn verifying_key_from_bytes(bytes: &[u8]) -> Result<VerifyingKey, BundleError> {
    if let Ok(raw) = <[u8; 32]>::try_from(bytes) {
        return VerifyingKey::from_bytes(&raw).map_err(|e| BundleError::Key(e.to_string()));
    }
    let text = std::str::from_utf8(bytes)
        .map_err(|_| BundleError::Key("neither 32 raw bytes nor PEM".into()))?;
    VerifyingKey::from_public_key_pem(text.trim()).map_err(|e| BundleError::Key(e.to_string()))
}

/// Reads a signing key file (see [`signing_key_from_bytes`]).
pub fn load_signing_key(path: &Path) -> Result<SigningKey, BundleError> {
    let bytes =
        std::fs::read(path).map_err(|e| BundleError::Key(format!("{}: {e}", path.display())))?;
    signing_key_from_bytes(&bytes)
}

/// Reads a pinned public key file (see [`verifying_key_from_bytes`]).
pub fn load_verifying_key(path: &Path) -> Result<VerifyingKey, BundleError> {
    let bytes =
        std::fs::read(path).map_err(|e| BundleError::Key(format!("{}: {e}", path.display())))?;
    verifying_key_from_bytes(&bytes)
}

/// The signing key as PKCS#8 PEM (secret: write it with restrictive permissions).
pub fn signing_key_pem(key: &SigningKey) -> Result<String, BundleError> {
    key.to_pkcs8_pem(LineEnding::LF)
        .map(|pem| pem.to_string())
        .map_err(|e| BundleError::Key(e.to_string()))
}

/// The public key as SPKI PEM.
pub fn verifying_key_pem(key: &VerifyingKey) -> Result<String, BundleError> {
    key.to_public_key_pem(LineEnding::LF)
        .map_err(|e| BundleError::Key(e.to_string()))
}

/// Counts of entries per kind, for logs ("bundle v7: 812 ipv4, 90 domain").
pub fn kind_counts(bundle: &Bundle) -> BTreeMap<IndicatorKind, usize> {
    let mut out = BTreeMap::new();
    for e in &bundle.entries {
        *out.entry(e.kind).or_insert(0) += 1;
    }
    out
}

#[cfg(test)]
mod tests;

//! Bundle tests: canonical bytes, round trips, signatures, rollback, deltas, keys, tampering.

use std::sync::Arc;

use super::*;
use crate::formats::{LoadOptions, load_plain};

fn meta(source: &str, allowlist: bool) -> Arc<IndicatorMeta> {
    Arc::new(IndicatorMeta {
        source: source.into(),
        set: "default".into(),
        severity: Severity::High,
        confidence: 80,
        tlp: Tlp::Green,
        tags: vec![Arc::from("a"), Arc::from("b=c")].into(),
        valid_from: Some(1_600_000_000),
        valid_until: None,
        allowlist,
    })
}

fn entry(kind: IndicatorKind, value: IndicatorValue, m: &Arc<IndicatorMeta>) -> BundleEntry {
    BundleEntry {
        kind,
        category: 0,
        value,
        score: None,
        id: None,
        meta: Arc::clone(m),
    }
}

fn sample() -> Vec<BundleEntry> {
    let m = meta("feed", false);
    let allow = meta("own", true);
    let mut e = vec![
        entry(
            IndicatorKind::Domain,
            IndicatorValue::Domain {
                name: "evil.org".into(),
                subdomains: true,
            },
            &m,
        ),
        entry(
            IndicatorKind::Ipv4,
            IndicatorValue::Ip("5.6.7.8".parse().unwrap()),
            &m,
        ),
        entry(
            IndicatorKind::Ipv6,
            IndicatorValue::Ip("2a00::1".parse().unwrap()),
            &m,
        ),
        entry(
            IndicatorKind::Cidr,
            IndicatorValue::Cidr("5.6.0.0/16".parse().unwrap()),
            &m,
        ),
        entry(
            IndicatorKind::Cidr,
            IndicatorValue::Cidr("2a00::/16".parse().unwrap()),
            &m,
        ),
        entry(
            IndicatorKind::Url,
            IndicatorValue::Text("evil.org/gate.php".into()),
            &m,
        ),
        entry(
            IndicatorKind::Ipv4,
            IndicatorValue::Ip("5.6.7.8".parse().unwrap()),
            &allow,
        ),
    ];
    e[1].id = Some("indicator--1".into());
    e[1].score = Some(-5);
    e[2].category = 3;
    e
}

fn key() -> SigningKey {
    SigningKey::from_bytes(&[7u8; 32])
}

#[test]
fn canonical_bytes_do_not_depend_on_input_order() {
    let a = Bundle::from_entries("default", 1, sample()).unwrap();
    let mut reversed = sample();
    reversed.reverse();
    let b = Bundle::from_entries("default", 1, reversed).unwrap();
    assert_eq!(a.canonical_bytes().unwrap(), b.canonical_bytes().unwrap());
    assert_eq!(a.content_hash(), b.content_hash());
    // The content hash ignores name and version; the bytes do not.
    let c = Bundle::from_entries("other", 9, sample()).unwrap();
    assert_eq!(a.content_hash(), c.content_hash());
    assert_ne!(a.canonical_bytes().unwrap(), c.canonical_bytes().unwrap());
    // Duplicates by key: the first wins.
    let mut dup = sample();
    let mut again = dup[1].clone();
    again.score = Some(99);
    dup.push(again);
    let d = Bundle::from_entries("default", 1, dup).unwrap();
    assert_eq!(d.entries().len(), 7);
    assert_eq!(d.content_hash(), a.content_hash());
    assert!(Bundle::from_entries("", 1, sample()).is_err());
    assert!(Bundle::from_entries("x", 0, sample()).is_err());
}

#[test]
fn sign_verify_round_trip_and_compile() {
    let bundle = Bundle::from_entries("default", 3, sample()).unwrap();
    let signed = bundle.sign(&key()).unwrap();
    let verified = verify(&signed, &key().verifying_key(), 2).unwrap();
    assert_eq!(*verified, bundle);
    assert_eq!(verified.name(), "default");
    let set = verified.compile().unwrap();
    assert_eq!(set.len(), 7);
    let mut out = Vec::new();
    set.match_ip("5.6.7.8".parse().unwrap(), 1_700_000_000, &mut out);
    assert!(
        out.is_empty(),
        "the allowlist entry suppresses the alerting one"
    );
    out.clear();
    set.match_domain("a.evil.org", 1_700_000_000, &mut out);
    assert_eq!(out.len(), 1);
    // Re-encoding the compiled set gives the same bundle (ids, scores, categories kept).
    let again = Bundle::from_set("default", 3, &set).unwrap();
    assert_eq!(
        again.canonical_bytes().unwrap(),
        bundle.canonical_bytes().unwrap()
    );
    let moved = verified.into_inner().into_set().unwrap();
    assert_eq!(moved.len(), 7);
}

#[test]
fn rollback_tamper_and_wrong_key_are_refused() {
    let bundle = Bundle::from_entries("default", 5, sample()).unwrap();
    let signed = bundle.sign(&key()).unwrap();
    let pinned = key().verifying_key();
    for have in [5, 6, u64::MAX] {
        assert!(matches!(
            verify(&signed, &pinned, have),
            Err(BundleError::Rollback { have: h, got: 5, .. }) if h == have
        ));
    }
    let other = SigningKey::from_bytes(&[8u8; 32]).verifying_key();
    assert!(matches!(
        verify(&signed, &other, 0),
        Err(BundleError::BadSignature)
    ));
    for i in [0, 9, signed.len() / 2, signed.len() - 1] {
        let mut t = signed.clone();
        t[i] ^= 1;
        assert!(
            matches!(verify(&t, &pinned, 0), Err(BundleError::BadSignature)),
            "byte {i}"
        );
    }
    assert!(verify(&signed[..10], &pinned, 0).is_err());
    assert!(verify(&[], &pinned, 0).is_err());
}

#[test]
fn deltas_apply_exactly() {
    let v1 = Bundle::from_entries("default", 1, sample()).unwrap();
    let mut entries = sample();
    entries.remove(0); // removed
    entries[0].score = Some(7); // changed (5.6.7.8)
    let m = meta("feed2", false);
    entries.push(entry(
        IndicatorKind::Ja3,
        IndicatorValue::Text("e7d705a3286e19ea42f587b344ee6865".into()),
        &m,
    ));
    let v2 = Bundle::from_entries("default", 2, entries).unwrap();
    let delta = v1.delta_to(&v2).unwrap();
    assert_eq!((delta.removed(), delta.added().len()), (2, 2));
    let signed = delta.sign(&key()).unwrap();
    let applied = verify_delta(&signed, &key().verifying_key(), &v1).unwrap();
    assert_eq!(*applied, v2);
    assert_eq!(
        applied.canonical_bytes().unwrap(),
        v2.canonical_bytes().unwrap()
    );
    // Decoding the delta body gives the same delta.
    let body = &signed[..signed.len() - 64];
    assert_eq!(decode_delta(body).unwrap().canonical_bytes().unwrap(), body);
    // The delta does not apply to another base, nor backwards, nor as a rollback.
    assert!(matches!(
        v2.apply(&delta),
        Err(BundleError::DeltaMismatch(_))
    ));
    assert!(v2.delta_to(&v1).is_err());
    let v2b = Bundle::from_entries("default", 2, sample()).unwrap();
    assert!(verify_delta(&signed, &key().verifying_key(), &v2b).is_err());
    // Empty delta: same content, new version.
    let v3 = Bundle::from_entries("default", 3, v2.entries().to_vec()).unwrap();
    let d = v2.delta_to(&v3).unwrap();
    assert_eq!((d.removed(), d.added().len()), (0, 0));
    assert_eq!(v2.apply(&d).unwrap(), v3);
}

#[test]
fn decoder_rejects_malformed_bodies() {
    let bundle = Bundle::from_entries("default", 1, sample()).unwrap();
    let body = bundle.canonical_bytes().unwrap();
    assert_eq!(decode_bundle(&body).unwrap(), bundle);
    // Every truncation fails cleanly.
    for n in 0..body.len() {
        assert!(decode_bundle(&body[..n]).is_err(), "prefix {n}");
    }
    // Trailing bytes, bad magic, bad format.
    let mut t = body.clone();
    t.push(0);
    assert!(decode_bundle(&t).is_err());
    let mut t = body.clone();
    t[0] = b'X';
    assert!(decode_bundle(&t).is_err());
    let mut t = body.clone();
    t[8] = 2;
    assert!(decode_bundle(&t).is_err());
    // Every single-byte change in the content is caught by the hash.
    let content_start = 8 + 2 + 2 + "default".len() + 8 + 32;
    for i in content_start..body.len() {
        let mut t = body.clone();
        t[i] = t[i].wrapping_add(1);
        assert!(
            matches!(decode_bundle(&t), Err(BundleError::HashMismatch)),
            "byte {i}"
        );
    }
    // A hostile count with a matching hash is bounded, not allocated.
    let mut content = Vec::new();
    content.extend_from_slice(&0u32.to_le_bytes());
    content.extend_from_slice(&u32::MAX.to_le_bytes());
    let mut hostile = body[..content_start - 32].to_vec();
    hostile.extend_from_slice(&Sha256::digest(&content));
    hostile.extend_from_slice(&content);
    assert!(matches!(
        decode_bundle(&hostile),
        Err(BundleError::TooLarge(_))
    ));
}

#[test]
fn keys_pem_raw_and_generated() {
    let k = generate_signing_key().unwrap();
    let pem = signing_key_pem(&k).unwrap();
    assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"));
    assert_eq!(
        signing_key_from_bytes(pem.as_bytes()).unwrap().to_bytes(),
        k.to_bytes()
    );
    assert_eq!(
        signing_key_from_bytes(&k.to_bytes()).unwrap().to_bytes(),
        k.to_bytes()
    );
    let pub_pem = verifying_key_pem(&k.verifying_key()).unwrap();
    assert!(pub_pem.starts_with("-----BEGIN PUBLIC KEY-----"));
    assert_eq!(
        verifying_key_from_bytes(pub_pem.as_bytes()).unwrap(),
        k.verifying_key()
    );
    assert_eq!(
        verifying_key_from_bytes(k.verifying_key().as_bytes()).unwrap(),
        k.verifying_key()
    );
    assert!(signing_key_from_bytes(b"short").is_err());
    assert!(
        verifying_key_from_bytes(b"-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----")
            .is_err()
    );
    assert_ne!(generate_signing_key().unwrap().to_bytes(), k.to_bytes());
    // The RFC 8410 example private key (openssl genpkey -algorithm ed25519 output shape).
    let rfc8410 = "-----BEGIN PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEINTuctv5E1hK1bbY8fdp+K06/nwoy/HU++CXqI9EdVhC\n-----END PRIVATE KEY-----\n";
    assert!(signing_key_from_bytes(rfc8410.as_bytes()).is_ok());
    let dir = std::env::temp_dir().join(format!("kordon-bundle-keys-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("k.pem"), &pem).unwrap();
    std::fs::write(dir.join("k.pub"), k.verifying_key().as_bytes()).unwrap();
    assert_eq!(
        load_signing_key(&dir.join("k.pem")).unwrap().to_bytes(),
        k.to_bytes()
    );
    assert_eq!(
        load_verifying_key(&dir.join("k.pub")).unwrap(),
        k.verifying_key()
    );
    assert!(load_verifying_key(&dir.join("missing")).is_err());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn from_loaded_feed() {
    let opts = LoadOptions {
        allowlist: None,
        ..LoadOptions::default()
    };
    let mut builder = IndicatorSetBuilder::new();
    load_plain(
        &b"1.2.3.4\n*.evil.org\nhttps://x.org/a\n10.0.0.0/8\n"[..],
        &opts,
        &mut builder,
    )
    .unwrap();
    let set = builder.build().unwrap();
    let bundle = Bundle::from_set("default", 1, &set).unwrap();
    assert_eq!(bundle.entries().len(), 4);
    assert!(
        bundle.entries().iter().all(|e| e.id.is_none()),
        "derived ids do not travel"
    );
    let counts = kind_counts(&bundle);
    assert_eq!(counts[&IndicatorKind::Cidr], 1);
    let compiled = bundle.compile().unwrap();
    let ids: Vec<String> = compiled.iter().map(|r| r.id().into_owned()).collect();
    let mut want: Vec<String> = set.iter().map(|r| r.id().into_owned()).collect();
    let mut got = ids.clone();
    want.sort();
    got.sort();
    assert_eq!(got, want, "derived ids are recomputed identically");
}

// ---- OT policies ----

const OT_POLICY: &str = r#"
name = "plant"

[[rule]]
protocol = "modbus"

  [[rule.allow]]
  hosts = ["10.0.0.5", "10.0.1.0/24"]
  classes = ["write", "read"]
  addresses = [1, "10-20"]

  [[rule.allow]]
  hosts = ["10.0.0.6"]
  classes = ["restart"]
  servers = ["10.0.2.0/24", "2001:db8::/32"]

[[rule]]
protocol = "s7comm"
monitor = ["stop", "program"]

[peers]
protocols = ["modbus"]
  [[peers.known]]
  client = "10.0.0.5"
  server = "10.0.2.10"
  protocols = ["modbus", "dnp3"]
"#;

/// A set holding `policy` (TOML) and the plain indicators of `sample`-like feeds.
fn set_with_policy(policy: &str) -> IndicatorSet {
    let mut builder = IndicatorSetBuilder::new();
    let mut opts = LoadOptions::new(meta("ot", false));
    opts.now = 0;
    crate::ot::load_ot_policy(policy.as_bytes(), &opts, &mut builder).unwrap();
    load_plain(&b"192.0.2.1\nevil.example\n"[..], &opts, &mut builder).unwrap();
    builder.build().unwrap()
}

fn ot_accesses() -> Vec<crate::ot::OtAccess> {
    use crate::ot::{OtAccess, OtClass as C, OtProtocol as P};
    let a = |protocol, class, requester: &str, responder: &str, address| OtAccess {
        protocol,
        class,
        requester: requester.parse().unwrap(),
        responder: responder.parse().unwrap(),
        address,
    };
    vec![
        a(P::Modbus, Some(C::Write), "10.0.0.5", "10.0.2.10", Some(1)),
        a(P::Modbus, Some(C::Write), "10.0.0.5", "10.0.2.10", Some(5)),
        a(P::Modbus, Some(C::Write), "10.0.9.9", "10.0.2.10", Some(1)),
        a(P::Modbus, Some(C::Restart), "10.0.0.6", "10.0.2.3", None),
        a(P::Modbus, Some(C::Restart), "10.0.0.6", "10.0.3.3", None),
        a(P::S7comm, Some(C::Stop), "10.0.0.5", "10.0.2.10", None),
        a(P::S7comm, Some(C::Read), "10.0.0.5", "10.0.2.10", None),
        a(P::Modbus, None, "10.0.0.5", "10.0.2.10", None),
        a(P::Modbus, None, "10.0.0.7", "10.0.2.10", None),
    ]
}

/// The violated indicator values per access (ids differ between sets; values do not).
fn ot_verdicts(set: &IndicatorSet) -> Vec<Vec<String>> {
    ot_accesses()
        .iter()
        .map(|access| {
            let mut out = Vec::new();
            set.match_ot(access, 2_000_000_000, &mut out);
            let mut values: Vec<String> = out
                .into_iter()
                .map(|id| set.get(id).value().to_string())
                .collect();
            values.sort();
            values
        })
        .collect()
}

#[test]
fn ot_policies_round_trip_through_a_signed_snapshot() {
    let set = set_with_policy(OT_POLICY);
    assert_eq!(set.ot_policies().len(), 1);
    let expected = ot_verdicts(&set);
    assert!(
        expected.iter().filter(|v| !v.is_empty()).count() >= 4,
        "{expected:?}"
    );

    let bundle = Bundle::from_set("default", 1, &set).unwrap();
    assert_eq!(bundle.ot_policies(), set.ot_policies());
    let signed = bundle.sign(&key()).unwrap();
    assert_eq!(u16::from_le_bytes([signed[8], signed[9]]), FORMAT_VERSION);
    let verified = verify(&signed, &key().verifying_key(), 0).unwrap();
    assert_eq!(*verified, bundle);
    // Canonical: decode and re-encode give the same bytes.
    let body = &signed[..signed.len() - 64];
    assert_eq!(
        decode_bundle(body).unwrap().canonical_bytes().unwrap(),
        body
    );
    let compiled = verified.compile().unwrap();
    assert!(compiled.has_ot_policy());
    assert_eq!(ot_verdicts(&compiled), expected);
    let moved = verified.into_inner().into_set().unwrap();
    assert_eq!(ot_verdicts(&moved), expected);
    assert_eq!(moved.len(), set.len());

    // Policy order does not change the bytes; duplicates collapse.
    let mut two = set.ot_policies().to_vec();
    let mut other = two[0].clone();
    other.name = "aaa".into();
    two.push(other.clone());
    let a = Bundle::from_parts("default", 1, bundle.entries().to_vec(), two.clone()).unwrap();
    two.reverse();
    two.push(other);
    let b = Bundle::from_parts("default", 1, bundle.entries().to_vec(), two).unwrap();
    assert_eq!(a.canonical_bytes().unwrap(), b.canonical_bytes().unwrap());
    assert_eq!(a.ot_policies().len(), 2);
    assert_eq!(a.ot_policies()[0].name, "aaa");
}

#[test]
fn a_set_without_policies_keeps_the_version_1_bytes() {
    let bundle = Bundle::from_entries("default", 1, sample()).unwrap();
    let body = bundle.canonical_bytes().unwrap();
    assert_eq!(u16::from_le_bytes([body[8], body[9]]), FORMAT_V1);
    assert_eq!(decode_bundle(&body).unwrap().ot_policies(), &[]);
    // Format 2 with an empty policy section is not canonical.
    let content_start = 8 + 2 + 2 + "default".len() + 8 + 32;
    let mut content = body[content_start..].to_vec();
    content.extend_from_slice(&0u32.to_le_bytes());
    let mut t = body[..content_start - 32].to_vec();
    t[8] = 2;
    t.extend_from_slice(&Sha256::digest(&content));
    t.extend_from_slice(&content);
    assert!(matches!(decode_bundle(&t), Err(BundleError::Malformed(_))));
    // Unknown format versions are refused.
    let mut t = body.clone();
    t[8] = 3;
    assert!(decode_bundle(&t).is_err());
}

#[test]
fn deltas_carry_changed_policies() {
    let set1 = set_with_policy(OT_POLICY);
    let v1 = Bundle::from_set("default", 1, &set1).unwrap();
    // v2: the same entries, the second modbus grant now also covers 10.0.3.0/24.
    let mut policy = set1.ot_policies()[0].clone();
    policy.rules[0].allow[1]
        .servers
        .push("10.0.3.0/24".parse().unwrap());
    let v2 = Bundle::from_parts("default", 2, v1.entries().to_vec(), vec![policy]).unwrap();
    assert_ne!(v1.content_hash(), v2.content_hash());
    let delta = v1.delta_to(&v2).unwrap();
    assert_eq!((delta.removed(), delta.added().len()), (0, 0));
    assert_eq!(delta.ot_policies(), Some(v2.ot_policies()));
    let signed = delta.sign(&key()).unwrap();
    assert_eq!(u16::from_le_bytes([signed[8], signed[9]]), FORMAT_VERSION);
    let body = &signed[..signed.len() - 64];
    assert_eq!(decode_delta(body).unwrap().canonical_bytes().unwrap(), body);
    let applied = verify_delta(&signed, &key().verifying_key(), &v1).unwrap();
    assert_eq!(*applied, v2);
    let before = ot_verdicts(&v1.compile().unwrap());
    let after = ot_verdicts(&applied.compile().unwrap());
    // Restart from 10.0.0.6 to 10.0.3.3 was a violation and is now granted.
    assert!(!before[4].is_empty());
    assert!(after[4].is_empty());

    // Unchanged policies: a format-1 delta, and applying it keeps the base's policies.
    let v3 = Bundle::from_parts(
        "default",
        3,
        v2.entries()[1..].to_vec(),
        v2.ot_policies().to_vec(),
    )
    .unwrap();
    let d = v2.delta_to(&v3).unwrap();
    assert_eq!(d.ot_policies(), None);
    let signed = d.sign(&key()).unwrap();
    assert_eq!(u16::from_le_bytes([signed[8], signed[9]]), FORMAT_V1);
    let applied = verify_delta(&signed, &key().verifying_key(), &v2).unwrap();
    assert_eq!(*applied, v3);
    assert_eq!(applied.ot_policies(), v2.ot_policies());

    // Policies removed: a format-2 delta with an empty list.
    let v4 = Bundle::from_entries("default", 4, v3.entries().to_vec()).unwrap();
    let d = v3.delta_to(&v4).unwrap();
    assert_eq!(d.ot_policies(), Some(&[][..]));
    let signed = d.sign(&key()).unwrap();
    let applied = verify_delta(&signed, &key().verifying_key(), &v3).unwrap();
    assert!(applied.ot_policies().is_empty());
    assert!(!applied.compile().unwrap().has_ot_policy());
}

#[test]
fn tampered_policy_bytes_are_refused() {
    let set = set_with_policy(OT_POLICY);
    let bundle = Bundle::from_set("default", 1, &set).unwrap();
    let body = bundle.canonical_bytes().unwrap();
    let signed = bundle.sign(&key()).unwrap();
    let pinned = key().verifying_key();
    let no_policy = Bundle::from_entries("default", 1, bundle.entries().to_vec()).unwrap();
    let policy_start = no_policy.canonical_bytes().unwrap().len();
    assert!(policy_start < body.len());
    for i in policy_start..body.len() {
        // Signed: the signature catches it.
        let mut t = signed.clone();
        t[i] ^= 0x10;
        assert!(
            matches!(verify(&t, &pinned, 0), Err(BundleError::BadSignature)),
            "byte {i}"
        );
        // Unsigned: the content hash catches it.
        let mut t = body.clone();
        t[i] ^= 0x10;
        assert!(
            matches!(decode_bundle(&t), Err(BundleError::HashMismatch)),
            "byte {i}"
        );
    }
    // With a recomputed hash (as a fuzzer would), every truncation and every byte change of
    // the policy section is refused or decodes to something that re-encodes canonically.
    let content_start = 8 + 2 + 2 + "default".len() + 8 + 32;
    let rehash = |content: &[u8]| {
        let mut t = body[..content_start - 32].to_vec();
        t.extend_from_slice(&Sha256::digest(content));
        t.extend_from_slice(content);
        t
    };
    let content = &body[content_start..];
    for n in (policy_start - content_start)..content.len() {
        assert!(decode_bundle(&rehash(&content[..n])).is_err(), "prefix {n}");
    }
    for i in (policy_start - content_start)..content.len() {
        for delta in [1u8, 0x80, 0xff] {
            let mut c = content.to_vec();
            c[i] = c[i].wrapping_add(delta);
            let t = rehash(&c);
            if let Ok(b) = decode_bundle(&t) {
                assert_eq!(b.canonical_bytes().unwrap(), t, "byte {i}");
                b.compile().unwrap();
            }
        }
    }
    // A hostile policy count is bounded.
    let mut c = content[..policy_start - content_start].to_vec();
    c.extend_from_slice(&u32::MAX.to_le_bytes());
    assert!(matches!(
        decode_bundle(&rehash(&c)),
        Err(BundleError::TooLarge(_))
    ));
}

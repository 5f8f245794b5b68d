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

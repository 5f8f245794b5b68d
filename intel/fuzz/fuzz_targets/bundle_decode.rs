//! Fuzzes `kordon_intel::bundle::decode_bundle`, `decode_delta` and `verify` with arbitrary
//! bytes: never a panic, never an allocation driven by a hostile count; whatever decodes
//! re-encodes to exactly the same bytes (canonical form) and compiles.
//!
//! Random bytes almost never carry a correct content hash, so the input is also wrapped as the
//! content section of a snapshot with the right hash: that drives the content decoder itself.
#![no_main]

use kordon_intel::bundle::{Bundle, SigningKey, decode_bundle, decode_delta, verify};
use libfuzzer_sys::fuzz_target;
use sha2::{Digest, Sha256};

fn check(body: &[u8]) {
    if let Ok(bundle) = decode_bundle(body) {
        let bytes = bundle
            .canonical_bytes()
            .expect("a decoded bundle re-encodes");
        assert_eq!(bytes, body, "decoding accepted a non-canonical encoding");
        let set = bundle.compile().expect("a decoded bundle compiles");
        assert_eq!(set.len(), bundle.entries().len());
        let again = Bundle::from_parts(
            bundle.name(),
            bundle.version(),
            bundle.entries().to_vec(),
            bundle.ot_policies().to_vec(),
        )
        .expect("entries and policies of a decoded bundle make a bundle");
        assert_eq!(again.content_hash(), bundle.content_hash());
    }
}

fuzz_target!(|data: &[u8]| {
    check(data);
    let mut wrapped = b"KRDNSET\0".to_vec();
    wrapped.extend_from_slice(&1u16.to_le_bytes());
    wrapped.extend_from_slice(&1u16.to_le_bytes());
    wrapped.push(b'f');
    wrapped.extend_from_slice(&1u64.to_le_bytes());
    wrapped.extend_from_slice(&Sha256::digest(data));
    wrapped.extend_from_slice(data);
    check(&wrapped);
    // The same content as format 2, so the OT policy section decoder is driven too.
    wrapped[8] = 2;
    check(&wrapped);
    if let Ok(delta) = decode_delta(data) {
        let _ = delta.canonical_bytes();
    }
    let key = SigningKey::from_bytes(&[1u8; 32]).verifying_key();
    let _ = verify(data, &key, 0);
});

//! Fuzzes `kordon_intel::normalize::{domain, url}`.
#![no_main]

use kordon_intel::normalize;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok((name, _)) = normalize::domain(text) {
        assert_eq!(normalize::domain(&name).map(|(n, _)| n), Ok(name.clone()));
    }
    if let Ok(once) = normalize::url(text) {
        // Idempotent except a non-default port equal to http's default (see the unit test).
        if let Ok(twice) = normalize::url(&once) {
            assert!(twice == once || once.contains(":80/") || once.contains(":80?"), "{once} → {twice}");
        }
    }
});

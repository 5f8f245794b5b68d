//! Fuzzes `kordon_intel::formats::load_misp` with arbitrary bytes.
#![no_main]

mod common;

use kordon_intel::formats::{LoadOptions, load_misp};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // The first byte picks the options that change the walk: non-IDS attributes, last_seen
    // expiry, allowlist on or off.
    let Some((&selector, input)) = data.split_first() else {
        return;
    };
    let mut opts = LoadOptions::default();
    opts.now = 0;
    opts.misp_include_non_ids = selector & 1 != 0;
    opts.misp_last_seen_expires = selector & 2 != 0;
    if selector & 4 != 0 {
        opts.allowlist = None;
    }
    let mut builder = kordon_intel::IndicatorSetBuilder::new();
    if let Ok(report) = load_misp(input, &opts, &mut builder) {
        common::check(report, builder);
    }
});

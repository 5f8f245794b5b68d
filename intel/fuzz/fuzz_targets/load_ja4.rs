//! Fuzzes `kordon_intel::formats::load_ja4` with arbitrary bytes.
#![no_main]

mod common;

use kordon_intel::formats::{LoadOptions, load_ja4};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut opts = LoadOptions::default();
    opts.now = 0;
    let mut builder = kordon_intel::IndicatorSetBuilder::new();
    if let Ok(report) = load_ja4(data, &opts, &mut builder) {
        common::check(report, builder);
    }
});

//! Fuzzes `kordon_intel::formats::load_stix` with arbitrary bytes.
#![no_main]

mod common;

use kordon_intel::formats::{LoadOptions, load_stix};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, input)) = data.split_first() else {
        return;
    };
    let mut opts = LoadOptions::default();
    opts.now = 0;
    if selector & 1 != 0 {
        opts.allowlist = None;
    }
    let mut builder = kordon_intel::IndicatorSetBuilder::new();
    if let Ok(report) = load_stix(input, &opts, &mut builder) {
        common::check(report, builder);
    }
});

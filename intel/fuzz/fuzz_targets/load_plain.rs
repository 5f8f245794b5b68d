//! Fuzzes `kordon_intel::formats::load_plain` with arbitrary bytes.
#![no_main]

mod common;

use kordon_intel::IndicatorKind;
use kordon_intel::formats::{LoadOptions, load_plain};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, input)) = data.split_first() else {
        return;
    };
    let mut opts = LoadOptions::default();
    opts.now = 0;
    opts.plain_kind = IndicatorKind::ALL.get(usize::from(selector)).copied();
    let mut builder = kordon_intel::IndicatorSetBuilder::new();
    if let Ok(report) = load_plain(input, &opts, &mut builder) {
        common::check(report, builder);
    }
});

//! Fuzzes `kordon_intel::formats::load_iprep`: the input up to the first NUL is the categories
//! file, the rest the reputation file.
#![no_main]

mod common;

use std::sync::Arc;

use kordon_intel::IprepCategories;
use kordon_intel::formats::{LoadOptions, load_iprep};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (cats, reps) = match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (&b"1,bad,Bad\n2,tor,Tor\n"[..], data),
    };
    let Ok((categories, _)) = IprepCategories::load(cats, "fuzz") else {
        return;
    };
    let mut opts = LoadOptions::default();
    opts.now = 0;
    opts.iprep_categories = Some(Arc::new(categories));
    let mut builder = kordon_intel::IndicatorSetBuilder::new();
    if let Ok(report) = load_iprep(reps, &opts, &mut builder) {
        common::check(report, builder);
    }
});

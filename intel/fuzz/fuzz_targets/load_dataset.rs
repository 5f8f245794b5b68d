//! Fuzzes `kordon_intel::formats::load_dataset`: the first byte picks the dataset type.
#![no_main]

mod common;

use kordon_intel::DatasetType;
use kordon_intel::formats::{LoadOptions, load_dataset};
use libfuzzer_sys::fuzz_target;

const TYPES: [DatasetType; 6] = [
    DatasetType::String,
    DatasetType::Md5,
    DatasetType::Sha256,
    DatasetType::Ip,
    DatasetType::Ipv4,
    DatasetType::Ipv6,
];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, input)) = data.split_first() else {
        return;
    };
    let mut opts = LoadOptions::default();
    opts.now = 0;
    opts.dataset_type = Some(TYPES[usize::from(selector) % TYPES.len()]);
    let mut builder = kordon_intel::IndicatorSetBuilder::new();
    if let Ok(report) = load_dataset(input, &opts, &mut builder) {
        common::check(report, builder);
    }
});

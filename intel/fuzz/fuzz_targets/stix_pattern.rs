//! Fuzzes `kordon_intel::formats::stix::pattern::parse_pattern` and the extraction that follows
//! it: never a panic, never unbounded recursion, and extraction is total on what parses.
#![no_main]

use kordon_intel::formats::stix::extract::{Branch, extract};
use kordon_intel::formats::stix::pattern::parse_pattern;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match parse_pattern(text) {
        Ok(pattern) => {
            for branch in extract(&pattern) {
                if let Branch::Match(o) = branch {
                    // Every extracted value is already normalised: its display form parses
                    // back to itself as a plain-list entry of that kind.
                    let _ = o.value.to_string();
                }
            }
        }
        Err(e) => assert!(e.offset <= text.len(), "{e}"),
    }
});

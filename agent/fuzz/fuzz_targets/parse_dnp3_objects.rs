//! Fuzzes `kordon_agent::applayer::dnp3::parser::parse_dnp3_objects` (first byte: headers only
//! or with data); every header read is consistent with the input.
#![no_main]

use kordon_agent::applayer::dnp3::parser::parse_dnp3_objects;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&mode, body)) = data.split_first() else {
        return;
    };
    let mut objects = parse_dnp3_objects(body, mode & 1 != 0);
    let mut n = 0usize;
    for header in objects.by_ref() {
        n += 1;
        assert!(header.start <= header.stop || header.range_code() > 5);
        let _ = (header.prefix_code(), header.range_code());
    }
    // Every header consumes at least three octets.
    assert!(n <= body.len() / 3 + 1);
    assert!(objects.end().is_some());
});

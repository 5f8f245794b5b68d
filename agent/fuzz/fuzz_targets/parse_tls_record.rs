//! Fuzzes `kordon_agent::applayer::tls::parser::parse_tls_record` on arbitrary bytes, walking
//! every record of the input as the TLS parser does.
#![no_main]

use kordon_agent::applayer::tls::parser::{MAX_RECORD_LEN, parse_tls_record};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut rest = data;
    while let Ok((tail, record)) = parse_tls_record(rest) {
        assert!(record.fragment.len() <= MAX_RECORD_LEN);
        assert!(tail.len() < rest.len());
        rest = tail;
    }
});

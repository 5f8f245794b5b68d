//! Fuzzes `kordon_agent::applayer::tls::parser::parse_handshake` on arbitrary handshake-layer
//! bytes.
#![no_main]

use kordon_agent::applayer::tls::parser::parse_handshake;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut rest = data;
    while let Ok((tail, message)) = parse_handshake(rest) {
        assert!(message.body.len() < rest.len());
        rest = tail;
    }
});

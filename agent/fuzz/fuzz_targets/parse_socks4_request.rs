//! Fuzzes `kordon_agent::applayer::socks::parser::parse_socks4_request`: parses every message in the input.
#![no_main]

use kordon_agent::applayer::socks::parser::parse_socks4_request;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut rest = data;
    while let Ok((tail, _)) = parse_socks4_request(rest) {
        if tail.len() >= rest.len() {
            break;
        }
        rest = tail;
    }
});

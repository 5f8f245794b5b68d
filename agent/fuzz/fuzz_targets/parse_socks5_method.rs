//! Fuzzes `kordon_agent::applayer::socks::parser::parse_socks5_method`: parses every message in the input.
#![no_main]

use kordon_agent::applayer::socks::parser::parse_socks5_method;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut rest = data;
    while let Ok((tail, _)) = parse_socks5_method(rest) {
        if tail.len() >= rest.len() {
            break;
        }
        rest = tail;
    }
});

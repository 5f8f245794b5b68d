//! Fuzzes `kordon_agent::applayer::dns::parser::parse_dns_header`.
#![no_main]

use kordon_agent::applayer::dns::parser::parse_dns_header;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok((rest, header)) = parse_dns_header(data) {
        assert_eq!(rest.len() + 12, data.len());
        let _ = (header.flags.rcode().name(), header.flags.opcode());
    }
});

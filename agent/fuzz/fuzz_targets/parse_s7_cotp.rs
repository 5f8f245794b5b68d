//! Fuzzes `kordon_agent::applayer::s7comm::parser::parse_s7_cotp` on one TPDU.
#![no_main]

use kordon_agent::applayer::s7comm::parser::parse_s7_cotp;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(cotp) = parse_s7_cotp(data) {
        let _ = cotp.pdu_type.name();
        assert!(cotp.payload.len() < data.len());
    }
});

//! Fuzzes `kordon_agent::applayer::modbus::parser::parse_modbus_adu` over a stream of ADUs,
//! decoding each ADU's body as request and response too.
#![no_main]

use kordon_agent::applayer::modbus::parser::{
    parse_modbus_adu, parse_modbus_request, parse_modbus_response,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut rest = data;
    while let Ok((next, adu)) = parse_modbus_adu(rest) {
        assert!(next.len() < rest.len());
        let _ = parse_modbus_request(adu.function, adu.data);
        let _ = parse_modbus_response(adu.function, adu.data);
        rest = next;
    }
});

//! Fuzzes `kordon_agent::applayer::modbus::parser::parse_modbus_response`: the first byte is the
//! function code, the rest the body.
#![no_main]

use kordon_agent::applayer::modbus::parser::{FunctionCode, parse_modbus_response};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Some((&function, body)) = data.split_first() {
        let _ = parse_modbus_response(FunctionCode(function), body);
    }
});

//! Fuzzes `kordon_agent::applayer::iec104::parser::parse_iec104_body` (an APDU body whatever
//! its length field said), walking the ASDU's objects.
#![no_main]

use kordon_agent::applayer::iec104::parser::parse_iec104_body;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok((_, Some(asdu))) = parse_iec104_body(data) {
        let _ = asdu.objects().count();
        let _ = asdu.trailing();
    }
});

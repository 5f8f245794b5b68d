//! Fuzzes `kordon_agent::applayer::iec104::parser::parse_iec104_apdu` over a stream of APDUs,
//! walking each ASDU's information objects and trailing bytes.
#![no_main]

use kordon_agent::applayer::iec104::parser::parse_iec104_apdu;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut rest = data;
    while let Ok((next, apdu)) = parse_iec104_apdu(rest) {
        assert!(next.len() < rest.len());
        if let Some(asdu) = apdu.asdu {
            for object in asdu.objects() {
                let _ = object.ioa;
            }
            let _ = asdu.trailing();
            let _ = asdu.is_truncated();
        }
        rest = next;
    }
});

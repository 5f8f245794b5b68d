//! Fuzzes `kordon_agent::applayer::dnp3::parser::parse_dnp3_application` on a reassembled
//! application message (the first byte picks request or response handling of the objects).
#![no_main]

use kordon_agent::applayer::dnp3::parser::{parse_dnp3_application, parse_dnp3_objects};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(app) = parse_dnp3_application(data) {
        let _ = app.function.name();
        if let Some(iin) = app.iin {
            let _ = iin.indicators().count();
        }
        let headers_only = !app.function.is_response() && app.function.request_headers_only();
        let _ = parse_dnp3_objects(app.objects, headers_only).count();
    }
});

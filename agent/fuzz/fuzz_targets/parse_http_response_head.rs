//! Fuzzes `kordon_agent::applayer::http::parser::parse_http_response_head`.
#![no_main]

use kordon_agent::applayer::http::parser::parse_http_response_head;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok((rest, head)) = parse_http_response_head(data) {
        assert!(rest.len() < data.len());
        let _ = (head.status.is_success(), head.headers.content_length);
    }
});

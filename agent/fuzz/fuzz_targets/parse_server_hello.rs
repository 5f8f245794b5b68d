//! Fuzzes `kordon_agent::applayer::tls::parser::parse_server_hello`, then JA3S and the EVE
//! record.
#![no_main]

use kordon_agent::applayer::tls::ja3::ja3s_string;
use kordon_agent::applayer::tls::log::tls_record;
use kordon_agent::applayer::tls::parser::parse_server_hello;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(hello) = parse_server_hello(data) else {
        return;
    };
    let _ = hello.is_hello_retry_request();
    let _ = hello.negotiated_version();
    let mut text = String::new();
    ja3s_string(&hello, &mut text);
    let _ = tls_record(None, None, Some(&hello));
});

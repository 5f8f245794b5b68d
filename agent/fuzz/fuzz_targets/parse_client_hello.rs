//! Fuzzes `kordon_agent::applayer::tls::parser::parse_client_hello`, then everything computed
//! from a ClientHello: the extension accessors, JA3, JA4 and the EVE record.
#![no_main]

use kordon_agent::applayer::tls::ja3::{Md5Hex, ja3_string};
use kordon_agent::applayer::tls::ja4::{JA4_LEN, ja4};
use kordon_agent::applayer::tls::log::tls_record;
use kordon_agent::applayer::tls::parser::{
    ExtensionType, alpn_protocols, client_supported_versions, ec_point_formats, parse_client_hello,
    server_name, u16_list,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(hello) = parse_client_hello(data) else {
        return;
    };
    for ext in hello.extensions.iter() {
        let _ = server_name(ext.data);
        let _ = alpn_protocols(ext.data).count();
        let _ = u16_list(ext.data).iter().count();
        let _ = client_supported_versions(ext.data).iter().count();
        let _ = ec_point_formats(ext.data);
    }
    let _ = hello.extensions.find(ExtensionType::SERVER_NAME);
    let mut text = String::new();
    ja3_string(&hello, &mut text);
    assert_eq!(Md5Hex::of(&text).as_str().len(), 32);
    let mut scratch = Vec::new();
    assert_eq!(ja4(&hello, &mut scratch).as_str().len(), JA4_LEN);
    let _ = tls_record(Some(&hello), Some(&hello), None);
});

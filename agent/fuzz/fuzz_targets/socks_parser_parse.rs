//! Fuzzes `SocksParser::parse` (the SOCKS `AppParser`) with chunks in both directions, as
//! `tls_parser_parse` does; an upgrade's `consumed` must lie within the chunk.
#![no_main]

mod app_parser;

use kordon_agent::applayer::socks::state::new_parser;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    app_parser::drive(new_parser, data);
});

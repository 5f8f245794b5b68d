//! Fuzzes `TlsParser::parse` (the TLS `AppParser`): the input is split into chunks, each
//! chunk's first byte picking its direction and length, so records and hellos arrive split the
//! way TCP delivers them; then `finish`. Every transaction's observations and record are built.
#![no_main]

mod app_parser;

use kordon_agent::applayer::tls::state::new_parser;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    app_parser::drive(new_parser, data);
});

//! Fuzzes `kordon_agent::applayer::http::parser::skip_chunked`: the body is fed in two pieces
//! (split at the first byte's position) and must never consume more than it is given.
#![no_main]

use kordon_agent::applayer::http::parser::{ChunkState, skip_chunked};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let split = data.first().map_or(0, |&b| usize::from(b)).min(data.len());
    let (a, b) = data.split_at(split);
    let (mut state, mut size, mut line) = (ChunkState::Size, 0, 0);
    for piece in [a, b] {
        match skip_chunked(&mut state, &mut size, &mut line, piece) {
            Ok(n) => assert!(n <= piece.len()),
            Err(_) => return,
        }
    }
});

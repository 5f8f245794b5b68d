//! Fuzzes `kordon_agent::applayer::http::parser::parse_http_request_head` over a stream of
//! pipelined heads, then the HTTP parser state over the same bytes split in two, with a
//! response direction (so CONNECT upgrades and body skipping run too).
#![no_main]

use kordon_agent::applayer::http::HttpParser;
use kordon_agent::applayer::http::parser::parse_http_request_head;
use kordon_agent::applayer::{AppParser, AppSink, Direction, ParseOutcome, Transaction};
use libfuzzer_sys::fuzz_target;

struct Sink;

impl AppSink for Sink {
    fn transaction(&mut self, tx: &dyn Transaction) {
        tx.observations(&mut |o| {
            let _ = o;
        });
        let _ = tx.record();
    }
    fn anomaly(&mut self, _: &'static str, _: &'static str) {}
}

fuzz_target!(|data: &[u8]| {
    let mut rest = data;
    while let Ok((after, head)) = parse_http_request_head(rest) {
        assert!(after.len() < rest.len());
        let _ = (head.method, head.target, head.headers.host);
        rest = after;
    }
    let split = data.first().map_or(0, |&b| usize::from(b)).min(data.len());
    let (a, b) = data.split_at(split);
    let mut parser = HttpParser::new();
    for (dir, chunk) in [
        (Direction::ToServer, a),
        (Direction::ToClient, b),
        (Direction::ToServer, b),
    ] {
        if let ParseOutcome::Upgrade { consumed } = parser.parse(dir, chunk, &mut Sink) {
            assert!(consumed <= chunk.len());
            break;
        }
    }
});

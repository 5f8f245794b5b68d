//! Shared by the `AppParser` targets: feeds a parser chunk by chunk and checks its outcomes.

use kordon_agent::applayer::detect::L4;
use kordon_agent::applayer::{AppParser, AppSink, Direction, ParseOutcome, Transaction};

struct Sink;

impl AppSink for Sink {
    fn transaction(&mut self, tx: &dyn Transaction) {
        tx.observations(&mut |o| {
            let _ = o.location.as_str();
        });
        let _ = tx.logged();
        let _ = tx.record();
    }
    fn anomaly(&mut self, _: &'static str, _: &'static str) {}
}

/// Each chunk: a header byte (bit 7 = to-client, bits 0–6 = length) and that many bytes.
pub fn drive(new_parser: fn(L4) -> Box<dyn AppParser>, data: &[u8]) {
    let mut parser = new_parser(L4::Tcp);
    let mut sink = Sink;
    let mut rest = data;
    while let Some((&header, tail)) = rest.split_first() {
        let dir = if header & 0x80 != 0 {
            Direction::ToClient
        } else {
            Direction::ToServer
        };
        let len = usize::from(header & 0x7f).min(tail.len());
        let (chunk, after) = tail.split_at(len);
        rest = after;
        match parser.parse(dir, chunk, &mut sink) {
            ParseOutcome::Continue | ParseOutcome::DoneDirection => {}
            ParseOutcome::Done => break,
            ParseOutcome::Upgrade { consumed } => {
                assert!(consumed <= chunk.len());
                break;
            }
        }
    }
    parser.finish(&mut sink);
}

//! Fuzzes `kordon_agent::applayer::s7comm::parser::parse_s7_tpkt` over a stream of TPKT
//! packets, each TPDU through `parse_s7_cotp` and each DT payload through `parse_s7_pdu`;
//! then the whole input through the S7 parser state in two chunks, both directions,
//! rendering every transaction.
#![no_main]

use kordon_agent::applayer::s7comm::parser::{parse_s7_cotp, parse_s7_pdu, parse_s7_tpkt};
use kordon_agent::applayer::s7comm::state::S7Parser;
use kordon_agent::applayer::{AppParser, AppSink, Direction, Transaction};
use libfuzzer_sys::fuzz_target;

struct Render;
impl AppSink for Render {
    fn transaction(&mut self, tx: &dyn Transaction) {
        tx.observations(&mut |_| {});
        let _ = (tx.record(), tx.logged());
    }
    fn anomaly(&mut self, _: &'static str, _: &'static str) {}
}

fuzz_target!(|data: &[u8]| {
    let mut rest = data;
    while let Ok((next, tpkt)) = parse_s7_tpkt(rest) {
        assert!(next.len() < rest.len());
        if let Ok(cotp) = parse_s7_cotp(tpkt.tpdu) {
            let _ = parse_s7_pdu(cotp.payload);
        }
        rest = next;
    }
    let mut parser = S7Parser::default();
    let (a, b) = data.split_at(data.len() / 2);
    parser.parse(Direction::ToServer, a, &mut Render);
    parser.parse(Direction::ToServer, b, &mut Render);
    parser.parse(Direction::ToClient, data, &mut Render);
});

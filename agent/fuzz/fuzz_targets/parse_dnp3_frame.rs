//! Fuzzes `kordon_agent::applayer::dnp3::parser::parse_dnp3_frame` over a stream of link
//! frames (CRCs checked, user data joined, application header and objects walked); then the
//! whole input through the DNP3 parser state as a TCP stream in two chunks with a gap, and as
//! a UDP datagram, rendering every transaction.
#![no_main]

use kordon_agent::applayer::dnp3::parser::{
    parse_dnp3_application, parse_dnp3_frame, parse_dnp3_objects,
};
use kordon_agent::applayer::dnp3::state::Dnp3Parser;
use kordon_agent::applayer::{AppParser, AppSink, Direction, Transaction};
use libfuzzer_sys::fuzz_target;

struct Render;
impl AppSink for Render {
    fn transaction(&mut self, tx: &dyn Transaction) {
        tx.observations(&mut |_| {});
        let _ = tx.record();
    }
    fn anomaly(&mut self, _: &'static str, _: &'static str) {}
}

fuzz_target!(|data: &[u8]| {
    let mut rest = data;
    while let Ok((next, frame)) = parse_dnp3_frame(rest) {
        assert!(next.len() < rest.len());
        let _ = frame.blocks_ok();
        let user: Vec<u8> = frame.user_data().flatten().copied().collect();
        if let Some(app) = user.get(1..).and_then(|a| parse_dnp3_application(a).ok()) {
            let mut objects = parse_dnp3_objects(app.objects, false);
            objects.by_ref().for_each(drop);
            assert!(objects.end().is_some());
        }
        rest = next;
    }
    let mut tcp = Dnp3Parser::new(false);
    let (a, b) = data.split_at(data.len() / 2);
    tcp.parse(Direction::ToServer, a, &mut Render);
    tcp.gap(Direction::ToServer);
    tcp.parse(Direction::ToServer, b, &mut Render);
    tcp.parse(Direction::ToClient, data, &mut Render);
    Dnp3Parser::new(true).parse(Direction::ToClient, data, &mut Render);
});

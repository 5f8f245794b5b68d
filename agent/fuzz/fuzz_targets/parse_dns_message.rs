//! Fuzzes `kordon_agent::applayer::dns::parser::parse_dns_message` with one reused `Message`
//! (as a flow does), then renders the EVE record and walks the names, so decompression limits,
//! spans and logging are all exercised. The same bytes are then fed to the DNS parser state as
//! a TCP stream split at the first byte's position, and as a datagram.
#![no_main]

use kordon_agent::applayer::detect::L4;
use kordon_agent::applayer::dns::DnsParser;
use kordon_agent::applayer::dns::log::dns_record;
use kordon_agent::applayer::dns::parser::{MAX_NAME_WIRE_LEN, Message, parse_dns_message};
use kordon_agent::applayer::{AppParser, AppSink, Direction, Transaction};
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
    let mut message = Message::default();
    if parse_dns_message(data, &mut message).is_ok() {
        for record in &message.records {
            // Presentation form: at most 4 characters per wire byte.
            assert!(message.name(record.name).len() <= 4 * MAX_NAME_WIRE_LEN);
        }
        let _ = dns_record(&message, data);
    }
    let split = data.first().map_or(0, |&b| usize::from(b)).min(data.len());
    let (a, b) = data.split_at(split);
    let mut tcp = DnsParser::new(L4::Tcp);
    tcp.parse(Direction::ToServer, a, &mut Sink);
    let _ = tcp.gap(Direction::ToClient);
    tcp.parse(Direction::ToServer, b, &mut Sink);
    let mut udp = DnsParser::new(L4::Udp);
    udp.parse(Direction::ToClient, data, &mut Sink);
});

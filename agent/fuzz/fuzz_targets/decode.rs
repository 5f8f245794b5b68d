//! Fuzzes `kordon_agent::decode::decode`: the first byte picks the link type, the rest is the
//! frame. Then the flow key is derived, as the pipeline does, so its arithmetic is fuzzed too.
#![no_main]

use kordon_agent::decode::{self, Frame, LinkType};
use kordon_agent::flow::FlowKey;
use libfuzzer_sys::fuzz_target;

const LINKS: [LinkType; 10] = [
    LinkType::NULL,
    LinkType::ETHERNET,
    LinkType::PPP,
    LinkType::RAW,
    LinkType::C_HDLC,
    LinkType::LOOP,
    LinkType::LINUX_SLL,
    LinkType::IPV4,
    LinkType::IPV6,
    LinkType::LINUX_SLL2,
];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, frame)) = data.split_first() else {
        return;
    };
    let link = LINKS[usize::from(selector) % LINKS.len()];
    if let Ok(Frame::Ip(packet)) = decode::decode(link, frame) {
        let _ = FlowKey::of(&packet);
    }
});

//! Flow table behaviour: lookup, LRU expiry order, eviction at capacity.

use std::net::{IpAddr, Ipv4Addr};

use super::*;
use crate::decode::{Decoded, Transport};
use crate::flow::hash::FlowHashBuilder;

fn key(n: u8) -> FlowKey {
    let packet = Decoded {
        src: IpAddr::V4(Ipv4Addr::new(10, 0, 0, n)),
        dst: IpAddr::V4(Ipv4Addr::new(10, 0, 1, 1)),
        proto: 6,
        transport: Transport::Ports { src: 1000, dst: 80 },
        tcp_flags: 0,
        tcp_seq: 0,
        tcp_ack: 0,
        vlan: [0, 0],
        fragment: false,
        payload: &[],
    };
    FlowKey::of(&packet)
}

fn endpoint(n: u8) -> Endpoint {
    Endpoint {
        addr: IpAddr::V4(Ipv4Addr::new(10, 0, 0, n)),
        port: 1000,
    }
}

fn insert(table: &mut FlowTable<u8>, n: u8, ts: i64) -> Insert<u8> {
    let k = key(n);
    table.get_or_insert(k, || {
        Flow::new(k, endpoint(n), endpoint(0), false, u64::from(n), ts, n)
    })
}

fn touch(table: &mut FlowTable<u8>, n: u8, ts: i64) {
    if let Insert::Existing(slot) | Insert::New(slot) = insert(table, n, ts) {
        table.get_mut(slot).expect("slot").last_us = ts;
    }
}

#[test]
fn lookup_finds_the_same_flow() {
    let mut table = FlowTable::new(8, FlowHashBuilder::with_seed(1));
    let Insert::New(first) = insert(&mut table, 1, 0) else {
        panic!("new");
    };
    let Insert::Existing(again) = insert(&mut table, 1, 5) else {
        panic!("existing");
    };
    assert_eq!(first, again);
    assert_eq!(table.len(), 1);
}

#[test]
fn expiry_follows_last_activity() {
    let mut table = FlowTable::new(8, FlowHashBuilder::with_seed(1));
    touch(&mut table, 1, 0);
    touch(&mut table, 2, 10);
    touch(&mut table, 1, 20); // flow 1 is now the most recent
    assert!(table.pop_expired(25, 30).is_none(), "nothing idle > 30");
    let expired = table.pop_expired(45, 30).expect("flow 2 idle for 35");
    assert_eq!(expired.state, 2);
    assert!(
        table.pop_expired(45, 30).is_none(),
        "flow 1 idle for 25 only"
    );
    assert_eq!(table.pop_expired(100, 30).map(|f| f.state), Some(1));
    assert!(table.is_empty());
}

#[test]
fn full_table_evicts_least_recent_and_reuses_slots() {
    let mut table = FlowTable::new(2, FlowHashBuilder::with_seed(1));
    touch(&mut table, 1, 0);
    touch(&mut table, 2, 1);
    touch(&mut table, 1, 2);
    match insert(&mut table, 3, 3) {
        Insert::NewEvicting(_, evicted) => assert_eq!(evicted.state, 2),
        other => panic!("expected eviction, got {other:?}"),
    }
    assert_eq!(table.len(), 2);
    let mut left = Vec::new();
    while let Some(flow) = table.pop_any() {
        left.push(flow.state);
    }
    left.sort_unstable();
    assert_eq!(left, vec![1, 3]);
}

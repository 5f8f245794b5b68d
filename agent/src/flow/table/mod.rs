//! The per-worker flow table: bounded, preallocated, and expired in time order.
//!
//! Each worker owns one table, so nothing here is shared or locked. Flows live in a slab (a `Vec`
//! indexed by `u32`) threaded on an intrusive least-recently-used list: touching a flow moves it
//! to the head in O(1), and expiry pops from the tail while the tail has been idle longer than the
//! timeout, so expiry costs nothing per packet beyond the list splice and never scans the table.
//! When the table is full the least recently used flow is evicted (and reported), so memory stays
//! bounded whatever the traffic does.

use std::collections::HashMap;

use super::hash::FlowHashBuilder;
use super::key::{Endpoint, FlowKey};

const NIL: u32 = u32::MAX;
/// Flows the index is sized for at start; see [`FlowTable::new`].
const INITIAL_INDEX_CAPACITY: usize = 4096;

/// Why a flow ended; reported in `flow` events as Suricata's `flow.reason`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EndReason {
    /// Idle for longer than the timeout.
    Timeout,
    /// Evicted to make room when the table was full.
    Evicted,
    /// The capture ended (end of files, or shutdown).
    Shutdown,
}

impl EndReason {
    /// Suricata's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            EndReason::Timeout => "timeout",
            EndReason::Evicted => "forced",
            EndReason::Shutdown => "shutdown",
        }
    }
}

/// Per-direction counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DirCounters {
    /// Packets.
    pub packets: u64,
    /// Bytes on the wire (original length, not the captured length).
    pub bytes: u64,
}

/// One tracked conversation. `S` is the per-flow state the pipeline attaches (matches, dedup).
#[derive(Debug)]
pub struct Flow<S> {
    /// Direction-free identity.
    pub key: FlowKey,
    /// The originator: the source of the first packet seen (or the SYN sender).
    pub client: Endpoint,
    /// The responder.
    pub server: Endpoint,
    /// Whether the Community ID keeps direction (one-way ICMP).
    pub one_way: bool,
    /// A stable numeric id for EVE `flow_id`.
    pub flow_id: u64,
    /// First packet time, microseconds since the Unix epoch.
    pub start_us: i64,
    /// Last packet time, microseconds since the Unix epoch.
    pub last_us: i64,
    /// Client → server counters.
    pub to_server: DirCounters,
    /// Server → client counters.
    pub to_client: DirCounters,
    /// The pipeline's state for this flow.
    pub state: S,
    prev: u32,
    next: u32,
}

/// The outcome of [`FlowTable::get_or_insert`].
#[derive(Debug)]
pub enum Insert<S> {
    /// The flow existed.
    Existing(u32),
    /// A new flow was created.
    New(u32),
    /// A new flow was created after evicting this one, which the caller must finish.
    NewEvicting(u32, Box<Flow<S>>),
}

/// A bounded flow table with LRU expiry.
pub struct FlowTable<S> {
    index: HashMap<FlowKey, u32, FlowHashBuilder>,
    slots: Vec<Option<Flow<S>>>,
    free: Vec<u32>,
    head: u32,
    tail: u32,
    capacity: u32,
}

impl<S> FlowTable<S> {
    /// A table holding at most `capacity` flows.
    ///
    /// The index starts small and grows with the number of concurrent flows instead of being
    /// sized for `capacity` up front: a hash table's entries land on random pages, so a
    /// preallocated million-flow index gets most of its pages touched by a few tens of thousands
    /// of flows (≈100 MB of RSS for nothing) and loses cache locality. Growth stops at the
    /// capacity, so memory stays bounded; each doubling is a one-off rehash.
    pub fn new(capacity: u32, hasher: FlowHashBuilder) -> Self {
        let capacity = capacity.max(1);
        FlowTable {
            index: HashMap::with_capacity_and_hasher(
                (capacity as usize).min(INITIAL_INDEX_CAPACITY),
                hasher,
            ),
            slots: Vec::new(),
            free: Vec::new(),
            head: NIL,
            tail: NIL,
            capacity,
        }
    }

    /// Flows currently tracked.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// Whether no flow is tracked.
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// Finds the flow of `key`, or creates it with `make` (evicting the least recently used flow
    /// when full). The flow becomes the most recently used.
    pub fn get_or_insert(&mut self, key: FlowKey, make: impl FnOnce() -> Flow<S>) -> Insert<S> {
        if let Some(&slot) = self.index.get(&key) {
            self.touch(slot);
            return Insert::Existing(slot);
        }
        let evicted = if self.index.len() as u32 >= self.capacity {
            self.pop_tail().map(Box::new)
        } else {
            None
        };
        let mut flow = make();
        flow.key = key;
        flow.prev = NIL;
        flow.next = NIL;
        let slot = match self.free.pop() {
            Some(slot) => {
                self.slots[slot as usize] = Some(flow);
                slot
            }
            None => {
                self.slots.push(Some(flow));
                (self.slots.len() - 1) as u32
            }
        };
        self.index.insert(key, slot);
        self.link_head(slot);
        match evicted {
            Some(old) => Insert::NewEvicting(slot, old),
            None => Insert::New(slot),
        }
    }

    /// The flow in `slot`. Slots come from [`FlowTable::get_or_insert`] for the current packet.
    pub fn get_mut(&mut self, slot: u32) -> Option<&mut Flow<S>> {
        self.slots.get_mut(slot as usize).and_then(Option::as_mut)
    }

    /// Removes and returns the least recently used flow if it has been idle for more than
    /// `timeout_us` at time `now_us`. Call repeatedly until it returns `None`.
    pub fn pop_expired(&mut self, now_us: i64, timeout_us: i64) -> Option<Flow<S>> {
        let tail = self.slots.get(self.tail as usize)?.as_ref()?;
        if now_us.saturating_sub(tail.last_us) > timeout_us {
            self.pop_tail()
        } else {
            None
        }
    }

    /// Removes and returns any flow (used to drain the table at shutdown).
    pub fn pop_any(&mut self) -> Option<Flow<S>> {
        self.pop_tail()
    }

    fn pop_tail(&mut self) -> Option<Flow<S>> {
        let slot = self.tail;
        if slot == NIL {
            return None;
        }
        self.unlink(slot);
        let flow = self.slots.get_mut(slot as usize)?.take()?;
        self.index.remove(&flow.key);
        self.free.push(slot);
        Some(flow)
    }

    fn touch(&mut self, slot: u32) {
        if self.head != slot {
            self.unlink(slot);
            self.link_head(slot);
        }
    }

    fn links(&mut self, slot: u32) -> Option<&mut Flow<S>> {
        self.slots.get_mut(slot as usize).and_then(Option::as_mut)
    }

    fn unlink(&mut self, slot: u32) {
        let Some(flow) = self.links(slot) else { return };
        let (prev, next) = (flow.prev, flow.next);
        flow.prev = NIL;
        flow.next = NIL;
        match self.links(prev) {
            Some(p) => p.next = next,
            None => self.head = next,
        }
        match self.links(next) {
            Some(n) => n.prev = prev,
            None => self.tail = prev,
        }
    }

    fn link_head(&mut self, slot: u32) {
        let old_head = self.head;
        if let Some(flow) = self.links(slot) {
            flow.prev = NIL;
            flow.next = old_head;
        }
        match self.links(old_head) {
            Some(h) => h.prev = slot,
            None => self.tail = slot,
        }
        self.head = slot;
    }
}

impl<S> Flow<S> {
    /// A new flow; the table fills in its key and list links.
    pub fn new(
        key: FlowKey,
        client: Endpoint,
        server: Endpoint,
        one_way: bool,
        flow_id: u64,
        ts_us: i64,
        state: S,
    ) -> Self {
        Flow {
            key,
            client,
            server,
            one_way,
            flow_id,
            start_us: ts_us,
            last_us: ts_us,
            to_server: DirCounters::default(),
            to_client: DirCounters::default(),
            state,
            prev: NIL,
            next: NIL,
        }
    }
}

#[cfg(test)]
mod tests;

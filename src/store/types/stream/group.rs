//! Consumer groups: the last delivered ID, the logical read counter, the pending entries list
//! (PEL: entry ID -> owner, last delivery time, delivery count) and the consumers, each with
//! the IDs it owns. Group and consumer maps are ordered by name bytes and PELs by ID, the order
//! Redis's radix trees give, so every listing comes out in Redis's order.
//!
//! Invariant (checked in debug builds where it changes): an ID is in a consumer's PEL exactly
//! when the group PEL holds it with that consumer as owner. Times are the caller's (`now_ms`
//! of the command); nothing here reads a clock.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use super::StreamId;

/// Redis's `SCG_INVALID_ENTRIES_READ`: the group's read counter is unknown.
pub const INVALID_ENTRIES_READ: i64 = -1;

/// One pending entry of a group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PendingEntry {
    /// The consumer that owns it (shared with the consumer map's key).
    pub consumer: Arc<[u8]>,
    pub delivery_time_ms: i64,
    pub delivery_count: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Consumer {
    /// Last time the consumer was seen by a command that names it.
    pub seen_time_ms: i64,
    pel: BTreeSet<StreamId>,
}

impl Consumer {
    /// The IDs this consumer owns in the group PEL.
    pub fn pending(&self) -> &BTreeSet<StreamId> {
        &self.pel
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsumerGroup {
    pub last_id: StreamId,
    /// Logical read counter; `INVALID_ENTRIES_READ` when unknown.
    pub entries_read: i64,
    pel: BTreeMap<StreamId, PendingEntry>,
    consumers: BTreeMap<Arc<[u8]>, Consumer>,
}

/// How a claim sets the delivery count (XCLAIM's RETRYCOUNT and JUSTID).
#[derive(Clone, Copy, Debug)]
pub enum CountUpdate {
    Set(u64),
    Increment,
    Keep,
}

impl ConsumerGroup {
    pub fn new(last_id: StreamId, entries_read: i64) -> ConsumerGroup {
        ConsumerGroup { last_id, entries_read, pel: BTreeMap::new(), consumers: BTreeMap::new() }
    }

    pub fn pel(&self) -> &BTreeMap<StreamId, PendingEntry> {
        &self.pel
    }
    pub fn consumers(&self) -> &BTreeMap<Arc<[u8]>, Consumer> {
        &self.consumers
    }
    pub fn consumer(&self, name: &[u8]) -> Option<&Consumer> {
        self.consumers.get(name)
    }

    /// Creates consumer `name` seen at `now_ms`; false when it exists already.
    pub fn create_consumer(&mut self, name: &[u8], now_ms: i64) -> bool {
        if self.consumers.contains_key(name) {
            return false;
        }
        self.consumers.insert(Arc::from(name), Consumer { seen_time_ms: now_ms, pel: BTreeSet::new() });
        true
    }

    /// Looks consumer `name` up and marks it seen at `now_ms` (Redis's `streamLookupConsumer`
    /// without SLC_NO_REFRESH); false when there is none.
    pub fn touch_consumer(&mut self, name: &[u8], now_ms: i64) -> bool {
        match self.consumers.get_mut(name) {
            Some(c) => {
                c.seen_time_ms = now_ms;
                true
            }
            None => false,
        }
    }

    /// Deletes a consumer and its pending entries; returns how many it had, None when there is
    /// no such consumer.
    pub fn delete_consumer(&mut self, name: &[u8]) -> Option<usize> {
        let c = self.consumers.remove(name)?;
        for id in &c.pel {
            self.pel.remove(id);
        }
        Some(c.pel.len())
    }

    fn owner_arc(&self, name: &[u8]) -> Option<Arc<[u8]>> {
        self.consumers.get_key_value(name).map(|(k, _)| k.clone())
    }

    /// Records that entry `id` was delivered as new to `consumer` (XREADGROUP with `>`): a new
    /// pending entry with one delivery, or, when the ID is pending already (after XGROUP
    /// SETID moved the group back), the entry moves to this consumer with its count reset.
    pub fn deliver(&mut self, id: StreamId, consumer: &[u8], now_ms: i64) {
        let Some(owner) = self.owner_arc(consumer) else {
            debug_assert!(false, "delivery to an unknown consumer");
            return;
        };
        let old = self.pel.insert(id, PendingEntry { consumer: owner, delivery_time_ms: now_ms, delivery_count: 1 });
        if let Some(old) = old {
            if let Some(c) = self.consumers.get_mut(&old.consumer) {
                c.pel.remove(&id);
            }
        }
        if let Some(c) = self.consumers.get_mut(consumer) {
            c.pel.insert(id);
        }
    }

    /// A consumer re-reads its own pending entry `id` (XREADGROUP with a history ID).
    pub fn redeliver(&mut self, id: StreamId, now_ms: i64) {
        if let Some(p) = self.pel.get_mut(&id) {
            p.delivery_time_ms = now_ms;
            p.delivery_count = p.delivery_count.wrapping_add(1);
        }
    }

    /// Acknowledges `id`; false when it was not pending.
    pub fn ack(&mut self, id: StreamId) -> bool {
        match self.pel.remove(&id) {
            Some(p) => {
                if let Some(c) = self.consumers.get_mut(&p.consumer) {
                    c.pel.remove(&id);
                }
                true
            }
            None => false,
        }
    }

    /// Gives pending entry `id` to `consumer` (which must exist), with a new delivery time and
    /// count; an ID that is not pending is created first with one delivery (XCLAIM FORCE).
    pub fn claim(&mut self, id: StreamId, consumer: &[u8], delivery_time_ms: i64, count: CountUpdate) {
        let Some(owner) = self.owner_arc(consumer) else {
            debug_assert!(false, "claim by an unknown consumer");
            return;
        };
        let entry = self.pel.entry(id).or_insert_with(|| PendingEntry {
            consumer: owner.clone(),
            delivery_time_ms,
            delivery_count: 1,
        });
        let previous = std::mem::replace(&mut entry.consumer, owner);
        entry.delivery_time_ms = delivery_time_ms;
        match count {
            CountUpdate::Set(n) => entry.delivery_count = n,
            CountUpdate::Increment => entry.delivery_count = entry.delivery_count.wrapping_add(1),
            CountUpdate::Keep => {}
        }
        if *previous != *consumer {
            if let Some(c) = self.consumers.get_mut(&previous) {
                c.pel.remove(&id);
            }
        }
        if let Some(c) = self.consumers.get_mut(consumer) {
            c.pel.insert(id);
        }
    }

    /// Adds pending entries and consumers loaded from outside (an RDB file): `pel` holds
    /// (ID, delivery time, delivery count); each consumer lists the IDs it owns, which must
    /// be in `pel` and owned by nobody else, and every pending entry must have an owner.
    pub fn load(
        &mut self,
        pel: Vec<(StreamId, i64, u64)>,
        consumers: Vec<(Vec<u8>, i64, Vec<StreamId>)>,
    ) -> Result<(), &'static str> {
        const BAD: &str = "invalid stream consumer group";
        let mut times: BTreeMap<StreamId, (i64, u64)> = BTreeMap::new();
        for (id, t, n) in pel {
            if times.insert(id, (t, n)).is_some() {
                return Err(BAD);
            }
        }
        for (name, seen, ids) in consumers {
            let owner: Arc<[u8]> = Arc::from(name.as_slice());
            if self.consumers.contains_key(&owner) {
                return Err(BAD);
            }
            let mut own = BTreeSet::new();
            for id in ids {
                let (t, n) = times.remove(&id).ok_or(BAD)?;
                self.pel.insert(id, PendingEntry { consumer: owner.clone(), delivery_time_ms: t, delivery_count: n });
                own.insert(id);
            }
            self.consumers.insert(owner, Consumer { seen_time_ms: seen, pel: own });
        }
        if times.is_empty() {
            Ok(())
        } else {
            Err(BAD)
        }
    }

    /// Drops `id` from the PEL (its entry is gone from the stream); false when not pending.
    pub fn forget(&mut self, id: StreamId) -> bool {
        self.ack(id)
    }

    /// Heap bytes held, roughly: map nodes, names, per-entry records.
    pub fn heap_size_bytes(&self) -> usize {
        const PEL_ENTRY: usize = 16 + std::mem::size_of::<PendingEntry>() + 16;
        const ID_ENTRY: usize = 16 + 8;
        let consumers: usize = self
            .consumers
            .iter()
            .map(|(name, c)| name.len() + 16 + std::mem::size_of::<Consumer>() + 32 + c.pel.len() * ID_ENTRY)
            .sum();
        self.pel.len() * PEL_ENTRY + consumers
    }

    #[cfg(test)]
    pub fn check(&self) {
        for (name, c) in &self.consumers {
            for id in &c.pel {
                let p = self.pel.get(id).expect("consumer PEL entry missing from group PEL");
                assert_eq!(p.consumer, *name, "owner mismatch");
            }
        }
        for (id, p) in &self.pel {
            let c = self.consumers.get(&p.consumer).expect("pending entry without consumer");
            assert!(c.pel.contains(id), "group PEL entry missing from consumer PEL");
        }
    }
}

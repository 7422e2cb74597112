//! `SlotDir`: where one db keeps its slot tables, by slot number.
//!
//! A shard only holds the slots it owns, `slot % shards == id` (ARCHITECTURE §1), so those sit
//! in a vector of `16,384 / shards` entries, allocated on the first insert: the fixed cost of a
//! db holding keys is 128 KiB per node whatever the shard count, not 128 KiB per shard. The
//! slots a shard does not own (a cross-shard transaction's scratch store, an AOF written with
//! another shard count while it is replayed) go to an ordered map.
//!
//! Which slots a thread owns is set once per shard thread (`set_thread_layout`); elsewhere (the
//! main thread, tests) every slot is "owned" and the vector has all 16,384 entries.

use std::cell::Cell;
use std::collections::BTreeMap;

use super::slot_table::SlotTable;
use crate::limits::SLOT_COUNT;

thread_local! {
    /// (shards, this shard's id) of the calling thread: the stride and phase of owned slots.
    static LAYOUT: Cell<(u16, u16)> = const { Cell::new((1, 0)) };
}

/// Declares the calling thread shard `id` of `shards`: dbs created on it from now on keep the
/// slots that shard owns in their dense vector.
pub fn set_thread_layout(id: usize, shards: usize) {
    let shards = u16::try_from(shards.clamp(1, SLOT_COUNT)).unwrap_or(1);
    let id = u16::try_from(id).unwrap_or(0) % shards;
    LAYOUT.with(|l| l.set((shards, id)));
}

pub struct SlotDir {
    stride: u16,
    phase: u16,
    owned: Vec<Option<Box<SlotTable>>>,
    other: BTreeMap<u16, Box<SlotTable>>,
}

impl Default for SlotDir {
    fn default() -> Self {
        Self::new()
    }
}

impl SlotDir {
    /// An empty directory with the calling thread's layout.
    pub fn new() -> Self {
        let (stride, phase) = LAYOUT.with(|l| l.get());
        SlotDir { stride, phase, owned: Vec::new(), other: BTreeMap::new() }
    }

    /// An empty directory that keeps every slot in the ordered map: for a cross-shard
    /// transaction's scratch store, which holds a few keys of any slots for a moment and
    /// should not allocate (and page in) a slot vector each time.
    pub fn sparse() -> Self {
        SlotDir { stride: 0, phase: 0, owned: Vec::new(), other: BTreeMap::new() }
    }

    /// An empty directory with the same layout as `self`.
    pub fn empty_like(&self) -> Self {
        SlotDir { stride: self.stride, phase: self.phase, owned: Vec::new(), other: BTreeMap::new() }
    }

    /// The position of `slot` in `owned`, when this db's shard owns it.
    #[inline(always)]
    fn owned_index(&self, slot: u16) -> Option<usize> {
        if self.stride == 0 {
            return None;
        }
        if self.stride == 1 {
            return Some(slot as usize);
        }
        (slot % self.stride == self.phase).then_some((slot / self.stride) as usize)
    }

    #[inline]
    pub fn get(&self, slot: u16) -> Option<&SlotTable> {
        match self.owned_index(slot) {
            Some(i) => self.owned.get(i).and_then(|t| t.as_deref()),
            None => self.other.get(&slot).map(|t| &**t),
        }
    }

    #[inline]
    pub fn get_mut(&mut self, slot: u16) -> Option<&mut SlotTable> {
        match self.owned_index(slot) {
            Some(i) => self.owned.get_mut(i).and_then(|t| t.as_deref_mut()),
            None => self.other.get_mut(&slot).map(|t| &mut **t),
        }
    }

    /// The table of `slot`, created empty if it has none.
    pub fn get_or_create(&mut self, slot: u16) -> &mut SlotTable {
        match self.owned_index(slot) {
            Some(i) => {
                if self.owned.is_empty() {
                    let n = SLOT_COUNT.div_ceil(self.stride as usize);
                    self.owned = (0..n).map(|_| None).collect();
                }
                // The vector covers every owned slot, but a failed index must not panic.
                if i >= self.owned.len() {
                    self.owned.resize_with(i + 1, || None);
                }
                self.owned[i].get_or_insert_with(Default::default)
            }
            None => self.other.entry(slot).or_default(),
        }
    }

    /// Removes and returns the table of `slot`.
    pub fn take(&mut self, slot: u16) -> Option<Box<SlotTable>> {
        match self.owned_index(slot) {
            Some(i) => self.owned.get_mut(i).and_then(Option::take),
            None => self.other.remove(&slot),
        }
    }

    /// The slots that have a table, in ascending order.
    pub fn slots(&self) -> Vec<u16> {
        let mut v: Vec<u16> = self
            .owned
            .iter()
            .enumerate()
            .filter(|(_, t)| t.is_some())
            .map(|(i, _)| (i * self.stride as usize + self.phase as usize) as u16)
            .collect();
        if !self.other.is_empty() {
            v.extend(self.other.keys().copied());
            v.sort_unstable();
        }
        v
    }

    /// Every table, in no particular order.
    pub fn tables(&self) -> impl Iterator<Item = &SlotTable> + '_ {
        self.owned.iter().flatten().map(|t| &**t).chain(self.other.values().map(|t| &**t))
    }

    /// Takes every table out, with its slot.
    pub fn drain(&mut self) -> Vec<(u16, Box<SlotTable>)> {
        let (stride, phase) = (self.stride as usize, self.phase as usize);
        let mut v: Vec<(u16, Box<SlotTable>)> = std::mem::take(&mut self.owned)
            .into_iter()
            .enumerate()
            .filter_map(|(i, t)| t.map(|t| ((i * stride + phase) as u16, t)))
            .collect();
        v.extend(std::mem::take(&mut self.other));
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::bytes::CompactBytes;
    use crate::store::{Entry, StrValue, Value};

    fn with_layout(id: usize, shards: usize) -> SlotDir {
        set_thread_layout(id, shards);
        let d = SlotDir::new();
        set_thread_layout(0, 1);
        d
    }

    #[test]
    fn owned_and_other_slots_keep_their_tables() {
        for (id, shards) in [(0, 1), (1, 2), (2, 3), (0, 7)] {
            let mut d = with_layout(id, shards);
            let slots: Vec<u16> = vec![0, 1, 2, 5, 100, 8191, 16383];
            for &s in &slots {
                let e = Entry::new(Value::Str(StrValue::from_bytes(b"v")));
                d.get_or_create(s).insert(CompactBytes::new(format!("k{s}").as_bytes()), e);
            }
            assert_eq!(d.slots(), slots, "layout {id}/{shards}");
            for &s in &slots {
                assert!(d.get(s).is_some_and(|t| t.get(format!("k{s}").as_bytes()).is_some()));
                assert!(d.get_mut(s).is_some());
            }
            assert!(d.get(3).is_none());
            assert_eq!(d.tables().count(), slots.len());
            assert!(d.take(100).is_some() && d.get(100).is_none());
            let drained: Vec<u16> = {
                let mut v: Vec<u16> = d.drain().into_iter().map(|(s, _)| s).collect();
                v.sort_unstable();
                v
            };
            assert_eq!(drained, vec![0, 1, 2, 5, 8191, 16383]);
            assert!(d.slots().is_empty());
        }
    }

    #[test]
    fn a_shard_allocates_only_its_share_of_slots() {
        let mut d = with_layout(1, 2);
        d.get_or_create(1);
        assert_eq!(d.owned.len(), SLOT_COUNT / 2);
        assert!(d.other.is_empty());
        d.get_or_create(2);
        assert_eq!(d.other.len(), 1);
    }
}

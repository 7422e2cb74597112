//! Reading through a consumer group (XREADGROUP): new entries advance the group's last
//! delivered ID and read counter and enter the pending entries list; history reads replay a
//! consumer's own pending entries. Entries are handed to a callback while the group changes,
//! which is why these live on the stream (they borrow its nodes and its groups separately).

use super::{range_in, ConsumerGroup, EntryRef, StreamId, StreamValue, INVALID_ENTRIES_READ};

/// Moves a group past entry `id` (Redis's `streamReplyWithRange` with a group): the read
/// counter goes up by one while it is valid and no tombstone lies ahead, otherwise it is
/// estimated afresh.
fn advance(g: &mut ConsumerGroup, id: StreamId, tombstones_ahead: bool, estimate: Option<i64>, entries_added: u64) {
    if id <= g.last_id {
        return;
    }
    if g.entries_read != INVALID_ENTRIES_READ && !tombstones_ahead {
        g.entries_read = g.entries_read.wrapping_add(1);
    } else if entries_added != 0 {
        g.entries_read = estimate.unwrap_or(INVALID_ENTRIES_READ);
    }
    g.last_id = id;
}

impl StreamValue {
    /// Moves group `name` past entry `id` as a delivery would.
    pub fn advance_group(&mut self, name: &[u8], id: StreamId) {
        let tombstones = self.range_has_tombstones(id, StreamId::MAX);
        let estimate = self.estimate_distance(id);
        let added = self.entries_added;
        if let Some(g) = self.groups.get_mut(name) {
            advance(g, id, tombstones, estimate, added);
        }
    }

    /// XREADGROUP with `>`: delivers to `consumer` (which must exist) up to `count` entries
    /// (0 = all) after the group's last delivered ID, calling `emit` on each; unless `noack`,
    /// each becomes pending for the consumer, delivered at `now_ms`. Returns how many.
    pub fn read_group_new(
        &mut self,
        group: &[u8],
        consumer: &[u8],
        count: usize,
        noack: bool,
        now_ms: i64,
        mut emit: impl FnMut(&EntryRef),
    ) -> usize {
        let Some(start) = self.groups.get(group).and_then(|g| g.last_id.incr()) else {
            return 0;
        };
        let mut n = 0;
        for e in range_in(&self.nodes, start, StreamId::MAX, false) {
            let tombstones = self.range_has_tombstones(e.id, StreamId::MAX);
            let estimate = self.estimate_distance(e.id);
            let Some(g) = self.groups.get_mut(group) else { break };
            advance(g, e.id, tombstones, estimate, self.entries_added);
            emit(&e);
            if !noack {
                g.deliver(e.id, consumer, now_ms);
            }
            n += 1;
            if n == count {
                break;
            }
        }
        n
    }

    /// XREADGROUP with an ID: replays `consumer`'s pending entries from `start`, up to `count`
    /// (0 = all), calling `emit` with each ID and its entry (None when the entry was deleted
    /// since); each replayed entry counts as delivered again at `now_ms`. Returns how many.
    pub fn read_group_history(
        &mut self,
        group: &[u8],
        consumer: &[u8],
        start: StreamId,
        count: usize,
        now_ms: i64,
        mut emit: impl FnMut(StreamId, Option<&EntryRef>),
    ) -> usize {
        let limit = if count == 0 { usize::MAX } else { count };
        let ids: Vec<StreamId> = match self.groups.get(group).and_then(|g| g.consumer(consumer)) {
            Some(c) => c.pending().range(start..).take(limit).copied().collect(),
            None => return 0,
        };
        for &id in &ids {
            let e = range_in(&self.nodes, id, id, false).next();
            emit(id, e.as_ref());
            if e.is_some() {
                if let Some(g) = self.groups.get_mut(group) {
                    g.redeliver(id, now_ms);
                }
            }
        }
        ids.len()
    }
}

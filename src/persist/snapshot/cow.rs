//! Slot-granular copy-on-write of one database for a snapshot in progress.
//!
//! When a snapshot starts, each database of the shard gets a `SlotCow` naming the slots that
//! held keys then ("pending"). A pending slot is written out exactly once, by whichever comes
//! first: the job's background walk (`save_next`), or the first change to the slot
//! (`Db::before_write` calls `before_write` here before any slot table is touched). Either way
//! the slot is serialised before its first change, so the output is the dataset as of the
//! start. FLUSHDB/FLUSHALL hand their pending tables over whole (`detach`), which costs no
//! copy; the walk serialises them later.
//!
//! Large hashes, sets, sorted sets, lists and (in RDB) streams are not serialised with their
//! slot: the tracker takes a share or a copy of them (`big::Deferred`) and the walk writes them
//! out a slice at a time, so neither a write nor a walk step stalls the shard for the whole
//! value.
//!
//! Keys whose TTL had passed at the start are left out, judged against the start time, so a
//! key that expires while the job runs is saved whether the walk or a write gets to it first.
//!
//! The tracker knows the database number it was attached to at the start and labels its
//! output with it: SWAPDB swaps whole `Db`s, tracker included, so the labels stay right.

use std::time::Instant;

use super::big::Deferred;
use crate::limits::SLOT_COUNT;
use crate::persist::rdb::write::{put_entry, WriteOpts};
use crate::store::keyspace::{Entry, SlotTable, SlotTables, NO_EXPIRE};

const WORDS: usize = SLOT_COUNT / 64;

/// How a snapshot writes each key: as RDB key records, or as the RESP commands that rebuild
/// it (an AOF base without the RDB preamble).
#[derive(Clone, Copy, Debug)]
pub enum KeyFormat {
    Rdb(WriteOpts),
    Resp,
}

impl KeyFormat {
    /// Appends one key in this format.
    #[inline]
    pub fn put(&self, out: &mut Vec<u8>, key: &[u8], e: &Entry) {
        match self {
            KeyFormat::Rdb(opts) => put_entry(out, key, e, opts),
            KeyFormat::Resp => crate::persist::aof::resp_base::put_entry(out, key, e),
        }
    }
}

pub struct SlotCow {
    /// The database number at the start of the snapshot.
    pub db: usize,
    /// One bit per slot still to write out.
    pending: Box<[u64; WORDS]>,
    pending_count: usize,
    /// The walk's position: no pending slot lies below it.
    cursor: u16,
    /// Tables taken out of the database by a flush while still pending.
    detached: Vec<SlotTable>,
    /// Large values whose slots are out, still to write (the last one is being written).
    deferred: Vec<Deferred>,
    /// Expiry is judged against this (unix ms at the start).
    start_ms: u64,
    format: KeyFormat,
    /// Serialised keys not yet handed to the job's sink.
    pub out: Vec<u8>,
    /// Complete records of large values not yet handed to the sink, each in pieces
    /// (`big`), handed over as one.
    pub ready: Vec<Vec<Vec<u8>>>,
    /// Keys written into `out` since the start, and how many of them have a TTL.
    pub keys: u64,
    pub expires: u64,
}

impl SlotCow {
    /// A tracker for database `db` whose non-empty slots are `slots`.
    pub fn new(db: usize, slots: impl Iterator<Item = u16>, start_ms: u64, format: KeyFormat) -> SlotCow {
        let mut pending = Box::new([0u64; WORDS]);
        let mut pending_count = 0;
        for s in slots {
            let (w, b) = (s as usize / 64, s as usize % 64);
            if let Some(word) = pending.get_mut(w) {
                if *word & (1 << b) == 0 {
                    *word |= 1 << b;
                    pending_count += 1;
                }
            }
        }
        SlotCow {
            db,
            pending,
            pending_count,
            cursor: 0,
            detached: Vec::new(),
            deferred: Vec::new(),
            start_ms,
            format,
            out: Vec::new(),
            ready: Vec::new(),
            keys: 0,
            expires: 0,
        }
    }

    #[inline]
    pub fn is_pending(&self, slot: u16) -> bool {
        let (w, b) = (slot as usize / 64, slot as usize % 64);
        self.pending.get(w).is_some_and(|word| word & (1 << b) != 0)
    }

    fn clear_pending(&mut self, slot: u16) {
        let (w, b) = (slot as usize / 64, slot as usize % 64);
        if let Some(word) = self.pending.get_mut(w) {
            debug_assert!(*word & (1 << b) != 0, "slot {slot} cleared twice");
            *word &= !(1 << b);
            self.pending_count -= 1;
        }
    }

    /// Nothing is left to serialise (the output may still wait in `out`).
    pub fn is_walked(&self) -> bool {
        self.pending_count == 0 && self.detached.is_empty() && self.deferred.is_empty() && self.ready.is_empty()
    }

    /// Called before slot `slot` (currently `table`) changes: writes it out if still pending.
    #[inline]
    pub fn before_write(&mut self, slot: u16, table: Option<&SlotTable>) {
        if self.is_pending(slot) {
            self.save_now(slot, table);
        }
    }

    #[cold]
    #[inline(never)]
    fn save_now(&mut self, slot: u16, table: Option<&SlotTable>) {
        self.clear_pending(slot);
        if let Some(t) = table {
            self.serialize(t);
        }
    }

    /// Takes over the table of `slot` as a flush removes it; a table already written out (or
    /// created after the start) is simply dropped.
    pub fn detach(&mut self, slot: u16, table: SlotTable) {
        if self.is_pending(slot) {
            self.clear_pending(slot);
            self.detached.push(table);
        }
    }

    fn serialize(&mut self, t: &SlotTable) {
        for (k, e) in t.iter() {
            if e.is_expired(self.start_ms) {
                continue;
            }
            match Deferred::of(k, e, &self.format) {
                Some(d) => self.deferred.push(d),
                None => self.format.put(&mut self.out, k, e),
            }
            self.keys += 1;
            if e.expire_at_ms != NO_EXPIRE {
                self.expires += 1;
            }
        }
    }

    /// The background walk: writes out deferred large values, then detached tables, then
    /// pending slots in slot order, until `out` holds `budget_bytes` or `deadline` passes.
    /// Returns whether anything is left to walk.
    pub fn save_next(&mut self, tables: &SlotTables<'_>, budget_bytes: usize, deadline: Instant) -> bool {
        let mut checks = 0u32;
        while self.out.len() < budget_bytes {
            // A clock read costs more than a small slot: look at it every few slots.
            checks += 1;
            if checks.is_multiple_of(8) && Instant::now() >= deadline {
                break;
            }
            if let Some(d) = self.deferred.last_mut() {
                // A record reaches `out` only whole (see `big`).
                if !d.write_some(&self.format, budget_bytes.saturating_sub(self.out.len()), deadline) {
                    break;
                }
                if let Some(d) = self.deferred.pop() {
                    self.ready.push(d.into_pieces());
                }
                // The walk step ends here: the record counts against its budget.
                break;
            }
            if let Some(t) = self.detached.pop() {
                self.serialize(&t);
                continue;
            }
            let Some(slot) = self.next_pending() else { break };
            self.cursor = slot;
            self.clear_pending(slot);
            if let Some(t) = tables.get(slot) {
                self.serialize(t);
            }
        }
        !self.is_walked()
    }

    /// The lowest pending slot at or above the cursor.
    fn next_pending(&self) -> Option<u16> {
        if self.pending_count == 0 {
            return None;
        }
        let mut w = self.cursor as usize / 64;
        let mut word = self.pending.get(w)? & (!0u64 << (self.cursor as usize % 64));
        loop {
            if word != 0 {
                return Some((w * 64 + word.trailing_zeros() as usize) as u16);
            }
            w += 1;
            word = *self.pending.get(w)?;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::slot::key_slot;
    use crate::persist::rdb::opcode;
    use crate::store::keyspace::{Db, Entry};
    use crate::store::value::{StrValue, Value};

    fn s(v: &[u8]) -> Entry {
        Entry::new(Value::Str(StrValue::from_bytes(v)))
    }

    fn start(db: &mut Db, n: usize) {
        let slots: Vec<u16> = db.nonempty_slots().collect();
        db.set_cow(Some(Box::new(SlotCow::new(n, slots.into_iter(), 1_000, KeyFormat::Rdb(WriteOpts::default())))));
    }

    fn find(hay: &[u8], needle: &[u8]) -> bool {
        hay.windows(needle.len()).any(|w| w == needle)
    }

    /// Runs the walk to the end and returns everything the tracker wrote.
    fn drain(db: &mut Db) -> (Vec<u8>, u64) {
        let far = Instant::now() + std::time::Duration::from_secs(60);
        while let Some((c, t)) = db.cow_with_tables() {
            if !c.save_next(&t, usize::MAX, far) {
                break;
            }
        }
        let c = db.set_cow(None).expect("tracker attached");
        assert!(c.is_walked());
        (c.out, c.keys)
    }

    #[test]
    fn write_to_pending_slot_saves_old_value_first() {
        let mut db = Db::new();
        db.insert(b"k1", s(b"old-value-1"));
        db.insert(b"k2", s(b"old-value-2"));
        start(&mut db, 0);
        let c = db.cow_with_tables().expect("tracker").0;
        assert!(c.is_pending(key_slot(b"k1")) && c.out.is_empty());
        db.insert(b"k1", s(b"new-value-1"));
        let c = db.cow_with_tables().expect("tracker").0;
        assert!(!c.is_pending(key_slot(b"k1")), "a written slot is no longer pending");
        assert!(find(&c.out, b"old-value-1") && !find(&c.out, b"new-value-1"));
        // A second write to the same slot adds nothing: the slot is out already.
        let before = c.out.len();
        db.remove(b"k1");
        assert_eq!(db.cow_with_tables().expect("tracker").0.out.len(), before);
        // Keys written only after the start never show up.
        db.insert(b"fresh", s(b"fresh-value"));
        db.get(b"k2", 0).expect("k2").value = Value::Str(StrValue::from_bytes(b"new-value-2"));
        let (out, keys) = drain(&mut db);
        assert_eq!(keys, 2);
        assert!(find(&out, b"old-value-1") && find(&out, b"old-value-2"));
        assert!(!find(&out, b"new-value") && !find(&out, b"fresh-value"));
    }

    #[test]
    fn flush_expiry_and_ttl_changes_keep_the_start_dataset() {
        let mut db = Db::new();
        for i in 0..200 {
            db.insert(format!("key:{i}").as_bytes(), s(format!("v0-{i}").as_bytes()));
        }
        let mut gone = s(b"expired-before-start");
        gone.expire_at_ms = 500;
        db.insert(b"gone", gone);
        let mut later = s(b"expires-after-start");
        later.expire_at_ms = 2_000;
        db.insert(b"later", later);
        start(&mut db, 3);
        // Expiry after the start removes `later`; it must still be saved, with its TTL.
        assert_eq!(db.expire_due(5_000, 10), (2, false));
        assert!(db.set_expire(b"key:7", 9_999));
        db.clear();
        db.insert(b"key:1", s(b"after-flush"));
        let (out, keys) = drain(&mut db);
        assert_eq!(keys, 201, "200 keys plus the one expiring after the start");
        assert!(find(&out, b"expires-after-start") && !find(&out, b"expired-before-start"));
        assert!(!find(&out, b"after-flush"));
        // `later` keeps its deadline: the EXPIRETIME_MS opcode and 2000 as 8 LE bytes.
        let mut ttl = vec![opcode::EXPIRETIME_MS];
        ttl.extend_from_slice(&2_000u64.to_le_bytes());
        assert!(find(&out, &ttl));
    }

    #[test]
    fn walk_respects_the_byte_budget() {
        let mut db = Db::new();
        for i in 0..2_000 {
            db.insert(format!("key:{i}").as_bytes(), s(&[b'x'; 100]));
        }
        start(&mut db, 0);
        let far = Instant::now() + std::time::Duration::from_secs(60);
        let (c, t) = db.cow_with_tables().expect("tracker");
        assert!(c.save_next(&t, 4096, far), "more is left after one budget");
        // One slot may overshoot the budget, never by more than a slot's worth.
        assert!(c.out.len() >= 4096 && c.out.len() < 4096 + 4096, "{}", c.out.len());
        let (_, keys) = drain(&mut db);
        assert_eq!(keys, 2_000);
    }
}

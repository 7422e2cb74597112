//! The keyspace of one shard: per database, one hash table per owned slot, plus an ordered
//! index of keys with a TTL.
//!
//! One table per slot makes `CLUSTER COUNTKEYSINSLOT` O(1), lets `GETKEYSINSLOT`, migration
//! and snapshots go slot by slot, and gives SCAN a cursor (the slot) that stays valid however
//! the tables grow. The TTL index is ordered by deadline, so the active expiry cycle removes
//! exactly the keys that are due instead of sampling.

use super::bytes::CompactBytes;
use super::value::Value;
use crate::cluster::slot::key_slot;
use crate::persist::snapshot::cow::SlotCow;
use std::collections::BTreeSet;

/// No expiry.
pub const NO_EXPIRE: u64 = 0;

#[derive(Clone, Debug)]
pub struct Entry {
    pub value: Value,
    /// Absolute deadline in unix ms, or `NO_EXPIRE`.
    pub expire_at_ms: u64,
    /// Last access, unix seconds (OBJECT IDLETIME, LRU eviction; under an LFU policy also the
    /// last decrement time of `lfu`, as Redis keeps both in one field).
    pub access_s: u32,
    /// Logarithmic access counter of the LFU policies (OBJECT FREQ); sits in the entry's
    /// padding, so it costs no memory.
    pub lfu: u8,
}

/// The counter of a new key (Redis's `LFU_INIT_VAL`), so new keys are not evicted at once.
pub const LFU_INIT_VAL: u8 = 5;

/// The LFU settings an access needs, taken from the config when an LFU policy is selected.
#[derive(Clone, Copy, Debug)]
pub struct Lfu {
    pub log_factor: u32,
    pub decay_time_min: u32,
}

impl Lfu {
    /// Some when `maxmemory-policy` is an LFU policy.
    pub fn of(cfg: &crate::config::Config) -> Option<Lfu> {
        use crate::config::MaxmemoryPolicy as P;
        matches!(cfg.maxmemory_policy, P::VolatileLfu | P::AllkeysLfu)
            .then_some(Lfu { log_factor: cfg.lfu_log_factor, decay_time_min: cfg.lfu_decay_time_min })
    }
}

thread_local! {
    static LFU_RNG: std::cell::Cell<u64> = const { std::cell::Cell::new(0x9e37_79b9_7f4a_7c15) };
}

/// A uniform draw in [0, 1) for the counter's logarithmic increment (xorshift; one per shard
/// thread, like Redis's `rand()`).
fn lfu_draw() -> f64 {
    LFU_RNG.with(|c| {
        let mut x = c.get();
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        c.set(x);
        (x >> 11) as f64 / (1u64 << 53) as f64
    })
}

impl Entry {
    /// A new entry, stamped as accessed now (OBJECT IDLETIME starts at 0).
    pub fn new(value: Value) -> Self {
        Entry { value, expire_at_ms: NO_EXPIRE, access_s: access_clock_now_s(), lfu: LFU_INIT_VAL }
    }
    /// An entry with a deadline, accessed at `access_s`.
    pub fn with(value: Value, expire_at_ms: u64, access_s: u32) -> Self {
        Entry { value, expire_at_ms, access_s, lfu: LFU_INIT_VAL }
    }
    /// Records an access at `now_ms` (Redis's `updateLFU` under an LFU policy, the LRU clock
    /// otherwise).
    #[inline]
    pub fn touch(&mut self, now_ms: u64, lfu: Option<Lfu>) {
        if let Some(l) = lfu {
            let mut counter = self.lfu_freq(now_ms, l);
            if counter < 255 {
                let base = counter.saturating_sub(LFU_INIT_VAL) as f64;
                if lfu_draw() < 1.0 / (base * l.log_factor as f64 + 1.0) {
                    counter += 1;
                }
            }
            self.lfu = counter;
        }
        self.access_s = (now_ms / 1000) as u32;
    }
    /// The counter decayed by one per `lfu-decay-time` minutes since the last access (Redis's
    /// `LFUDecrAndReturn`, what OBJECT FREQ answers).
    pub fn lfu_freq(&self, now_ms: u64, l: Lfu) -> u8 {
        if l.decay_time_min == 0 {
            return self.lfu;
        }
        let idle_min = ((now_ms / 1000) as u32).saturating_sub(self.access_s) / 60;
        let periods = idle_min / l.decay_time_min;
        self.lfu.saturating_sub(u8::try_from(periods).unwrap_or(u8::MAX))
    }
    #[inline]
    pub fn is_expired(&self, now_ms: u64) -> bool {
        self.expire_at_ms != NO_EXPIRE && self.expire_at_ms <= now_ms
    }
}

/// The access clock of `Entry::access_s`: unix seconds, which fit a u32 until 2106.
pub fn access_clock_now_s() -> u32 {
    let s = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    s.min(u32::MAX as u64) as u32
}

use super::slot_dir::SlotDir;
pub use super::slot_table::SlotTable;

/// Read access to a Db's slot tables by slot number (for the snapshot tracker).
pub struct SlotTables<'a>(&'a SlotDir);

impl SlotTables<'_> {
    pub fn get(&self, slot: u16) -> Option<&SlotTable> {
        self.0.get(slot)
    }
}

pub struct Db {
    slots: SlotDir,
    keys: usize,
    /// (deadline, key) of every key with a TTL; kept in step with `Entry::expire_at_ms`.
    expires: BTreeSet<(u64, CompactBytes)>,
    /// Keys removed because their TTL passed (INFO `expired_keys`).
    pub expired_keys: u64,
    /// Whether expired keys are logged in `expired_log`: set while `expired` keyspace events
    /// are wanted or the AOF logs expirations (`Store::sync_notify`, `Store::sync_aof`); the
    /// store hands the log to both (`Store::route_expired`).
    pub log_expired: bool,
    pub expired_log: Vec<Vec<u8>>,
    /// The copy-on-write tracker of a snapshot in progress, None otherwise: every change to a
    /// slot table first hands the slot's old contents to it (`before_write`), so the snapshot
    /// stays the dataset as of its start. A Box keeps the idle cost one pointer and one branch.
    cow: Option<Box<SlotCow>>,
}

impl Default for Db {
    fn default() -> Self {
        Self::new()
    }
}

impl Db {
    /// An empty db whose slots all live in an ordered map (`SlotDir::sparse`).
    pub fn new_sparse() -> Self {
        Db { slots: SlotDir::sparse(), ..Db::new() }
    }

    pub fn new() -> Self {
        Db {
            // Allocated on the first insert (see `SlotDir`): a db that stays empty (most of a
            // shard's 16, and every db of a cross-shard transaction's scratch store) costs
            // nothing.
            slots: SlotDir::new(),
            keys: 0,
            expires: BTreeSet::new(),
            expired_keys: 0,
            log_expired: false,
            expired_log: Vec::new(),
            cow: None,
        }
    }

    /// Hands slot `slot` to the snapshot in progress before it changes (no-op when none runs
    /// or the slot is already written out).
    #[inline(always)]
    fn before_write(&mut self, slot: u16) {
        if let Some(c) = self.cow.as_deref_mut() {
            c.before_write(slot, self.slots.get(slot));
        }
    }

    /// Attaches a snapshot's tracker (see `persist::snapshot::cow`); replaces any old one.
    pub fn set_cow(&mut self, cow: Option<Box<SlotCow>>) -> Option<Box<SlotCow>> {
        std::mem::replace(&mut self.cow, cow)
    }

    pub fn has_cow(&self) -> bool {
        self.cow.is_some()
    }

    /// The tracker with read access to the slot tables it saves from, for the snapshot job's
    /// background walk.
    pub fn cow_with_tables(&mut self) -> Option<(&mut SlotCow, SlotTables<'_>)> {
        let c = self.cow.as_deref_mut()?;
        Some((c, SlotTables(&self.slots)))
    }

    pub fn len(&self) -> usize {
        self.keys
    }
    pub fn is_empty(&self) -> bool {
        self.keys == 0
    }
    pub fn expires_len(&self) -> usize {
        self.expires.len()
    }

    fn table_mut(&mut self, slot: u16) -> &mut SlotTable {
        self.slots.get_or_create(slot)
    }

    pub fn slot_table(&self, slot: u16) -> Option<&SlotTable> {
        self.slots.get(slot)
    }

    pub fn slot_len(&self, slot: u16) -> usize {
        self.slot_table(slot).map_or(0, |t| t.len())
    }

    /// The entry for `key` without checking its TTL (callers that must see expired keys).
    pub fn peek(&self, key: &[u8]) -> Option<&Entry> {
        self.slot_table(key_slot(key))?.get(key)
    }

    /// The live entry for `key`: an expired one is deleted first (lazy expiry). The caller
    /// may change the entry, so for a snapshot this counts as a write.
    pub fn get(&mut self, key: &[u8], now_ms: u64) -> Option<&mut Entry> {
        let slot = key_slot(key);
        let expired = match self.slots.get(slot) {
            None => return None,
            Some(t) => t.get(key)?.is_expired(now_ms),
        };
        self.before_write(slot);
        if expired {
            self.remove_in_slot(slot, key);
            self.expired_keys += 1;
            if self.log_expired {
                self.expired_log.push(key.to_vec());
            }
            return None;
        }
        self.slots.get_mut(slot)?.get_mut(key)
    }

    pub fn contains(&mut self, key: &[u8], now_ms: u64) -> bool {
        self.get(key, now_ms).is_some()
    }

    /// Stores `entry` under `key`, replacing any old value and keeping the TTL index in step.
    /// Returns the old entry.
    pub fn insert(&mut self, key: &[u8], entry: Entry) -> Option<Entry> {
        let slot = key_slot(key);
        self.before_write(slot);
        let deadline = entry.expire_at_ms;
        let old = self.table_mut(slot).insert(CompactBytes::new(key), entry);
        match &old {
            Some(o) => {
                if o.expire_at_ms != NO_EXPIRE {
                    self.expires.remove(&(o.expire_at_ms, CompactBytes::new(key)));
                }
            }
            None => self.keys += 1,
        }
        if deadline != NO_EXPIRE {
            self.expires.insert((deadline, CompactBytes::new(key)));
        }
        old
    }

    pub fn remove(&mut self, key: &[u8]) -> Option<Entry> {
        self.remove_in_slot(key_slot(key), key)
    }

    fn remove_in_slot(&mut self, slot: u16, key: &[u8]) -> Option<Entry> {
        self.before_write(slot);
        let table = self.slots.get_mut(slot)?;
        let old = table.remove(key)?;
        if table.is_empty() {
            // Give the memory of an emptied slot back; it is re-created on the next write.
            self.slots.take(slot);
        }
        self.keys -= 1;
        if old.expire_at_ms != NO_EXPIRE {
            let removed = self.expires.remove(&(old.expire_at_ms, CompactBytes::new(key)));
            debug_assert!(removed, "TTL index out of step for a removed key");
        }
        Some(old)
    }

    /// Sets or clears (`NO_EXPIRE`) the deadline of an existing key. Returns false when the
    /// key does not exist.
    pub fn set_expire(&mut self, key: &[u8], deadline_ms: u64) -> bool {
        let slot = key_slot(key);
        self.before_write(slot);
        let Some(entry) = self.slots.get_mut(slot).and_then(|t| t.get_mut(key)) else {
            return false;
        };
        let old = std::mem::replace(&mut entry.expire_at_ms, deadline_ms);
        if old != NO_EXPIRE {
            self.expires.remove(&(old, CompactBytes::new(key)));
        }
        if deadline_ms != NO_EXPIRE {
            self.expires.insert((deadline_ms, CompactBytes::new(key)));
        }
        true
    }

    /// Removes up to `max` keys whose deadline has passed; returns how many were removed and
    /// whether more are due.
    pub fn expire_due(&mut self, now_ms: u64, max: usize) -> (usize, bool) {
        let mut n = 0;
        while n < max {
            let Some((deadline, key)) = self.expires.first().cloned() else {
                return (n, false);
            };
            if deadline > now_ms {
                return (n, false);
            }
            let removed = self.remove(&key);
            debug_assert!(removed.is_some(), "TTL index names a missing key");
            self.expired_keys += 1;
            if self.log_expired {
                self.expired_log.push(key.as_slice().to_vec());
            }
            n += 1;
        }
        (n, self.expires.first().is_some_and(|(d, _)| *d <= now_ms))
    }

    /// Slots with at least one key, in slot order.
    pub fn nonempty_slots(&self) -> impl Iterator<Item = u16> + '_ {
        self.slots.slots().into_iter()
    }

    pub fn clear(&mut self) {
        let mut cow = self.cow.take();
        if let Some(c) = cow.as_deref_mut() {
            // The snapshot keeps the old tables instead of copying them: no stall, and no
            // memory beyond what the dataset already held.
            for (slot, t) in self.slots.drain() {
                c.detach(slot, *t);
            }
        }
        *self = Db {
            expired_keys: self.expired_keys,
            log_expired: self.log_expired,
            expired_log: std::mem::take(&mut self.expired_log),
            cow,
            slots: self.slots.empty_like(),
            ..Db::new()
        };
    }

    pub fn clear_slot(&mut self, slot: u16) -> usize {
        self.before_write(slot);
        let Some(table) = self.slots.take(slot) else { return 0 };
        for (k, e) in table.iter() {
            if e.expire_at_ms != NO_EXPIRE {
                self.expires.remove(&(e.expire_at_ms, k.clone()));
            }
        }
        self.keys -= table.len();
        table.len()
    }

    /// The key with the soonest deadline (volatile-ttl eviction).
    pub fn soonest_deadline(&self) -> Option<(u64, &[u8])> {
        self.expires.first().map(|(d, k)| (*d, k.as_slice()))
    }

    /// A random key with a TTL, for sampling: a random point between the soonest and the
    /// latest deadline, then the next key from there (biased towards keys after gaps; fine
    /// for eviction sampling, and O(log n)).
    pub fn random_volatile(&self, rng: &mut impl rand::Rng) -> Option<(u64, &[u8])> {
        let lo = self.expires.first()?.0;
        let hi = self.expires.last()?.0;
        let at = if hi > lo { rng.gen_range(lo..=hi) } else { lo };
        self.expires
            .range((at, CompactBytes::new(b""))..)
            .next()
            .or_else(|| self.expires.first())
            .map(|(d, k)| (*d, k.as_slice()))
    }

    /// A uniformly random key among live and not-yet-collected keys, or None when empty.
    pub fn random_key(&self, rng: &mut impl rand::Rng) -> Option<&[u8]> {
        if self.keys == 0 {
            return None;
        }
        let mut i = rng.gen_range(0..self.keys);
        for t in self.slots.tables() {
            if i < t.len() {
                return t.keys().nth(i).map(|k| k.as_slice());
            }
            i -= t.len();
        }
        None
    }
}

/// All databases of one shard and the shard's own counters.
pub struct Store {
    pub dbs: Vec<Db>,
    /// Writes since the last save (INFO `rdb_changes_since_last_save`, save points).
    pub dirty: u64,
    pub keyspace_hits: u64,
    pub keyspace_misses: u64,
    /// Keyspace events recorded by commands, drained and published by the shard.
    pub events: Vec<super::events::KeyEvent>,
    /// The `notify-keyspace-events` mask the dbs' expiry logging was set up for.
    notify_flags: u32,
    /// Whether keys removed by expiry are kept in `expired_dels` for the AOF.
    aof_expired: bool,
    /// (db, key) of keys removed by expiry and not yet logged as DEL in the AOF.
    expired_dels: Vec<(usize, Vec<u8>)>,
}

impl Store {
    /// A store for a cross-shard transaction's keys on its coordinator: a few keys of any
    /// slots, dropped once written back (`Db::new_sparse`).
    pub fn scratch(databases: usize) -> Self {
        Store { dbs: (0..databases.max(1)).map(|_| Db::new_sparse()).collect(), ..Store::new(1) }
    }

    pub fn new(databases: usize) -> Self {
        Store {
            dbs: (0..databases.max(1)).map(|_| Db::new()).collect(),
            dirty: 0,
            keyspace_hits: 0,
            keyspace_misses: 0,
            events: Vec::new(),
            notify_flags: 0,
            aof_expired: false,
            expired_dels: Vec::new(),
        }
    }
    /// Follows `notify-keyspace-events`: expired keys are logged only while `expired` events
    /// are wanted (or the AOF wants them). Cheap when nothing changed.
    #[inline]
    pub fn sync_notify(&mut self, flags: u32) {
        if flags != self.notify_flags {
            self.notify_flags = flags;
            self.set_db_logging();
        }
    }
    /// Follows whether an AOF is open: while one is, keys removed by expiry are kept for it
    /// (`take_expired_dels`). Cheap when nothing changed.
    #[inline]
    pub fn sync_aof(&mut self, on: bool) {
        if on != self.aof_expired {
            self.aof_expired = on;
            if !on {
                self.expired_dels = Vec::new();
            }
            self.set_db_logging();
        }
    }
    fn set_db_logging(&mut self) {
        let log = self.aof_expired || super::events::wanted(self.notify_flags, super::events::class::EXPIRED);
        for d in &mut self.dbs {
            d.log_expired = log;
        }
    }
    /// Hands every db's logged expirations to their consumers: `expired` events when wanted,
    /// the AOF's pending DELs when it wants them. Both must see every key exactly once,
    /// whichever of them drains first.
    fn route_expired(&mut self) {
        let events = super::events::wanted(self.notify_flags, super::events::class::EXPIRED);
        for (i, d) in self.dbs.iter_mut().enumerate() {
            for key in d.expired_log.drain(..) {
                match (events, self.aof_expired) {
                    (true, true) => {
                        self.expired_dels.push((i, key.clone()));
                        self.events.push(expired_event(i, key));
                    }
                    (true, false) => self.events.push(expired_event(i, key)),
                    (false, true) => self.expired_dels.push((i, key)),
                    (false, false) => {}
                }
            }
        }
    }
    /// Moves logged expirations into `events` as `expired` events; true when any event waits.
    pub fn collect_events(&mut self) -> bool {
        if self.notify_flags == 0 {
            if self.aof_expired {
                self.route_expired();
            }
            return false;
        }
        self.route_expired();
        !self.events.is_empty()
    }
    /// Whether keys removed by expiry wait for the AOF (always false unless `sync_aof(true)`).
    #[inline]
    pub fn has_expired_pending(&self) -> bool {
        self.aof_expired && (!self.expired_dels.is_empty() || self.dbs.iter().any(|d| !d.expired_log.is_empty()))
    }
    /// The (db, key) of keys removed by expiry since the last call, for the AOF's DELs (empty
    /// unless `sync_aof(true)`).
    pub fn take_expired_dels(&mut self) -> Vec<(usize, Vec<u8>)> {
        if !self.aof_expired {
            return Vec::new();
        }
        if self.dbs.iter().any(|d| !d.expired_log.is_empty()) {
            self.route_expired();
        }
        std::mem::take(&mut self.expired_dels)
    }
    pub fn expired_keys(&self) -> u64 {
        self.dbs.iter().map(|d| d.expired_keys).sum()
    }
}

fn expired_event(db: usize, key: Vec<u8>) -> super::events::KeyEvent {
    super::events::KeyEvent { class: super::events::class::EXPIRED, event: "expired", db: db as u32, key }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::value::StrValue;

    fn s(v: &[u8]) -> Entry {
        Entry::new(Value::Str(StrValue::from_bytes(v)))
    }

    #[test]
    fn lazy_and_active_expiry() {
        let mut db = Db::new();
        db.insert(b"a", s(b"1"));
        db.insert(b"b", s(b"2"));
        assert!(db.set_expire(b"a", 100));
        assert_eq!(db.expires_len(), 1);
        assert!(db.get(b"a", 99).is_some());
        assert!(db.get(b"a", 100).is_none());
        assert_eq!((db.len(), db.expires_len()), (1, 0));
        db.set_expire(b"b", 50);
        assert_eq!(db.expire_due(60, 10), (1, false));
        assert!(db.is_empty());
        assert_eq!(db.expired_keys, 2);
    }

    #[test]
    fn expirations_reach_both_the_events_and_the_aof() {
        let expired_flags = crate::config::notify::parse("Ex").unwrap_or(0);
        let mut st = Store::new(2);
        let mut e = s(b"v");
        e.expire_at_ms = 10;
        st.dbs[1].insert(b"lazy", e.clone());
        st.dbs[0].insert(b"active", e.clone());
        // Nobody listening: nothing is kept.
        assert!(st.dbs[1].get(b"lazy", 20).is_none());
        assert!(!st.has_expired_pending());
        assert!(st.take_expired_dels().is_empty());
        st.dbs[1].insert(b"lazy", e);
        st.sync_aof(true);
        st.sync_notify(expired_flags);
        assert!(st.dbs[1].get(b"lazy", 20).is_none());
        assert!(st.has_expired_pending());
        // A command's notify drains the log into events first; the AOF still gets the key.
        assert!(st.collect_events());
        assert_eq!(st.events.len(), 1);
        assert_eq!(st.dbs[0].expire_due(20, 10), (1, false));
        assert_eq!(st.take_expired_dels(), vec![(1, b"lazy".to_vec()), (0, b"active".to_vec())]);
        assert!(!st.has_expired_pending());
        assert!(st.collect_events());
        assert_eq!(st.events.len(), 2, "the active expiry's event too");
        // The AOF turned off: pending keys are dropped and no longer kept.
        st.sync_notify(0);
        st.dbs[0].insert(b"k", s(b"x"));
        st.dbs[0].set_expire(b"k", 5);
        st.sync_aof(false);
        assert!(st.dbs[0].get(b"k", 20).is_none());
        assert!(st.take_expired_dels().is_empty());
        assert!(st.dbs[0].expired_log.is_empty());
    }

    #[test]
    fn overwrite_keeps_index_in_step() {
        let mut db = Db::new();
        let mut e = s(b"x");
        e.expire_at_ms = 10;
        db.insert(b"k", e);
        db.insert(b"k", s(b"y"));
        assert_eq!(db.expires_len(), 0);
        assert_eq!(db.len(), 1);
    }
}

//! One file per command family, each exporting its `COMMANDS` table.

pub mod bitmap;
pub mod blocking;
pub mod cluster;
pub mod connection;
pub mod geo;
pub mod hash;
pub mod hyperloglog;
pub mod keys;
pub mod list;
pub mod memory;
pub mod persist;
pub mod pubsub;
pub mod server;
pub mod set;
pub mod sort;
pub mod stream;
pub mod string;
pub mod transaction;
pub mod zset;

use crate::command::spec::DataCtx;
use crate::store::events::{class, wanted, KeyEvent};
use crate::store::{Entry, Value};

/// Stores `entry` under `key` in the selected db, as Redis's `dbAdd` / `setKey` do, and raises
/// the `new` keyspace event (class `n`) when no live key was there: Redis fires it from
/// `dbAdd`, so every command that creates a key goes through here. An expired entry it
/// replaces counts as absent (Redis would have expired it on the lookup before adding).
/// Returns the replaced entry, live or expired.
pub(crate) fn insert_key(ctx: &mut DataCtx, key: &[u8], entry: Entry) -> Option<Entry> {
    let dbi = ctx.dbi;
    insert_key_in(ctx, dbi, key, entry)
}

/// `insert_key` into database `dbi` (COPY ... DB, MOVE). None without storing when `dbi` is not
/// a database of this store (callers check the index first).
pub(crate) fn insert_key_in(ctx: &mut DataCtx, dbi: usize, key: &[u8], entry: Entry) -> Option<Entry> {
    let now_ms = ctx.now_ms;
    let db = ctx.store.dbs.get_mut(dbi)?;
    let old = db.insert(key, entry);
    if old.as_ref().is_none_or(|o| o.is_expired(now_ms)) {
        notify_in(ctx, dbi, class::NEW, "new", key);
    }
    old
}

/// Raises Redis's `keymiss` event (class `m`) for a read lookup that found no key. Called
/// where the miss is counted (Redis's `lookupKeyRead`), so it takes the store's event list
/// rather than the whole context, which the caller holds borrowed.
pub(crate) fn keymiss(events: &mut Vec<KeyEvent>, flags: u32, dbi: usize, key: &[u8]) {
    if wanted(flags, class::KEY_MISS) {
        events.push(KeyEvent { class: class::KEY_MISS, event: "keymiss", db: dbi as u32, key: key.to_vec() });
    }
}

/// `DataCtx::notify` for an event in database `dbi` rather than the selected one (COPY's and
/// MOVE's destination).
pub(crate) fn notify_in(ctx: &mut DataCtx, dbi: usize, class: u32, event: &'static str, key: &[u8]) {
    if wanted(ctx.cfg.notify_keyspace_events, class) {
        // Expirations of this command's earlier lookups come first, as in Redis.
        ctx.store.collect_events();
        ctx.store.events.push(KeyEvent { class, event, db: dbi as u32, key: key.to_vec() });
    }
}

/// Looks `key` up for reading as Redis's `lookupKeyRead`: expires it lazily, counts a keyspace
/// hit or miss (raising `keymiss` on a miss), refreshes its access clock, and picks the type
/// with `pick`. Err is WRONGTYPE.
pub(crate) fn lookup_read_as<'a, T: ?Sized>(
    ctx: &'a mut DataCtx,
    key: &[u8],
    pick: fn(&mut Value) -> Option<&mut T>,
) -> Result<Option<&'a mut T>, &'static str> {
    let now_ms = ctx.now_ms;
    let lfu = crate::store::keyspace::Lfu::of(ctx.cfg);
    let store = &mut *ctx.store;
    let Some(db) = store.dbs.get_mut(ctx.dbi) else {
        return Ok(None);
    };
    match db.get(key, now_ms) {
        None => {
            store.keyspace_misses += 1;
            keymiss(&mut store.events, ctx.cfg.notify_keyspace_events, ctx.dbi, key);
            Ok(None)
        }
        Some(e) => {
            store.keyspace_hits += 1;
            e.touch(now_ms, lfu);
            pick(&mut e.value).map(Some).ok_or(crate::error::WRONGTYPE)
        }
    }
}

/// Looks `key` up for writing as Redis's `lookupKeyWrite`: lazy expiry and the access clock,
/// no hit or miss counted. Err is WRONGTYPE.
pub(crate) fn lookup_write_as<'a, T: ?Sized>(
    ctx: &'a mut DataCtx,
    key: &[u8],
    pick: fn(&mut Value) -> Option<&mut T>,
) -> Result<Option<&'a mut T>, &'static str> {
    let now_ms = ctx.now_ms;
    let lfu = crate::store::keyspace::Lfu::of(ctx.cfg);
    match ctx.db().get(key, now_ms) {
        None => Ok(None),
        Some(e) => {
            e.touch(now_ms, lfu);
            pick(&mut e.value).map(Some).ok_or(crate::error::WRONGTYPE)
        }
    }
}

/// Unit-test support for keyspace events: a harness with every class on, and a runner that
/// answers the events one command recorded.
#[cfg(test)]
pub(crate) mod events_test {
    use crate::store::events::class;
    use crate::testing::harness::Harness;

    /// A harness publishing every class of write events, `n` (new) included.
    pub fn harness() -> Harness {
        harness_with("KEAn")
    }

    /// A harness publishing the classes `classes` (as `notify-keyspace-events` spells them).
    pub fn harness_with(classes: &str) -> Harness {
        let mut h = Harness::new();
        h.cfg.notify_keyspace_events = crate::config::notify::parse(classes).unwrap_or(0);
        assert_ne!(h.cfg.notify_keyspace_events, 0, "bad classes {classes}");
        h.store.sync_notify(h.cfg.notify_keyspace_events);
        h
    }

    /// The class Redis 7.0 gives each event name, to check every recorded event against.
    fn class_of(event: &str) -> u32 {
        match event {
            "new" => class::NEW,
            "keymiss" => class::KEY_MISS,
            "expired" => class::EXPIRED,
            "del" | "expire" | "persist" | "rename_from" | "rename_to" | "copy_to" | "move_from" | "move_to"
            | "restore" => class::GENERIC,
            "set" | "setrange" | "append" | "incrby" | "incrbyfloat" | "setbit" | "pfadd" => class::STRING,
            e if e.starts_with('h') => class::HASH,
            e if e.starts_with('l') || e.starts_with('r') => class::LIST,
            e if e.starts_with('s') => class::SET,
            e if e.starts_with('z') || e.starts_with("geo") => class::ZSET,
            other => panic!("no class known for event {other}"),
        }
    }

    /// Runs `line` and answers its events as `event:key` words (`event@db:key` outside db 0),
    /// checking each event's class.
    pub fn ev(h: &mut Harness, line: &str) -> String {
        h.run(line);
        h.store.collect_events();
        let events = std::mem::take(&mut h.store.events);
        let mut words = Vec::new();
        for e in events {
            assert_eq!(e.class, class_of(e.event), "class of {} after {line}", e.event);
            let key = String::from_utf8_lossy(&e.key);
            if e.db == h.dbi as u32 {
                words.push(format!("{}:{key}", e.event));
            } else {
                words.push(format!("{}@{}:{key}", e.event, e.db));
            }
        }
        words.join(" ")
    }

    /// Runs each `(command, events)` step in turn, asserting the events of each.
    pub fn steps(h: &mut Harness, steps: &[(&str, &str)]) {
        for (line, want) in steps {
            assert_eq!(ev(h, line), *want, "events of `{line}`");
        }
    }
}

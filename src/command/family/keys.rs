//! The generic keys family (Redis's "generic" group plus DBSIZE, FLUSHDB, FLUSHALL, SWAPDB):
//! the command table and the commands that work on named keys of one shard (DEL, EXISTS,
//! TYPE, RENAME, COPY, MOVE, OBJECT...). Expiry commands live in `keys/expire.rs`; the commands
//! that must see every shard (DBSIZE, KEYS, SCAN, RANDOMKEY, FLUSHDB, FLUSHALL, SWAPDB) in
//! `keys/space.rs`.
//!
//! Data commands here run on the shard owning their keys (or on the coordinator's scratch
//! store for cross-shard RENAME/COPY) and never touch sockets or other shards.

mod expire;
mod scan;
pub mod space;
#[cfg(test)]
mod tests_events;

use crate::command::args::eq_ic;
use crate::command::spec::{flag, spec, CommandSpec, DataCtx, Exec, Split};
use crate::config::MaxmemoryPolicy as Policy;
use crate::error;
use crate::resp::Out;
use crate::store::events::class;
use crate::store::{Entry, StrValue, Value};

const W: u32 = flag::WRITE;
const R: u32 = flag::READONLY;
const F: u32 = flag::FAST;

const ACL_WRITE_SLOW: &[&str] = &["@keyspace", "@write", "@slow"];
const ACL_WRITE_FAST: &[&str] = &["@keyspace", "@write", "@fast"];
const ACL_READ_FAST: &[&str] = &["@keyspace", "@read", "@fast"];
const ACL_READ_SLOW: &[&str] = &["@keyspace", "@read", "@slow"];

/// Builds a spec with its `COMMAND DOCS` complexity text.
#[allow(clippy::too_many_arguments)]
const fn cmd(
    name: &'static str,
    arity: i32,
    flags: u32,
    keys: (i32, i32, i32),
    acl: &'static [&'static str],
    group: &'static str,
    since: &'static str,
    summary: &'static str,
    complexity: &'static str,
    exec: Exec,
    split: Split,
) -> CommandSpec {
    CommandSpec { complexity, ..spec(name, arity, flags, keys, acl, group, since, summary, exec, split) }
}

const O1: &str = "O(1)";
const ONE: (i32, i32, i32) = (1, 1, 1);
const ALL: (i32, i32, i32) = (1, -1, 1);
const TWO: (i32, i32, i32) = (1, 2, 1);
const NONE: (i32, i32, i32) = (0, 0, 0);
const OBJ_KEY: (i32, i32, i32) = (2, 2, 1);

// One entry per line group, aligned as a table: formatting it as code would hide the shape.
#[rustfmt::skip]
pub static COMMANDS: &[CommandSpec] = &[
    cmd("del", -2, W, ALL, ACL_WRITE_SLOW, "generic", "1.0.0", "Delete a key",
        "O(N) where N is the number of keys that will be removed. When a key to remove holds a value other than a string, the individual complexity for this key is O(M) where M is the number of elements in the list, set, sorted set or hash. Removing a single key that holds a string value is O(1).",
        Exec::Data(del), Split::SumInts),
    cmd("unlink", -2, W | F, ALL, ACL_WRITE_FAST, "generic", "4.0.0",
        "Delete a key asynchronously in another thread. Otherwise it is just as DEL, but non blocking.",
        "O(1) for each key removed regardless of its size. Then the command does O(N) work in a different thread in order to reclaim memory, where N is the number of allocations the deleted objects where composed of.",
        Exec::Data(del), Split::SumInts),
    cmd("exists", -2, R | F, ALL, ACL_READ_FAST, "generic", "1.0.0", "Determine if a key exists",
        "O(N) where N is the number of keys to check.", Exec::Data(exists), Split::SumInts),
    cmd("touch", -2, R | F, ALL, ACL_READ_FAST, "generic", "3.2.1",
        "Alters the last access time of a key(s). Returns the number of existing keys specified.",
        "O(N) where N is the number of keys that will be touched.", Exec::Data(touch), Split::SumInts),
    cmd("type", 2, R | F, ONE, ACL_READ_FAST, "generic", "1.0.0", "Determine the type stored at key", O1,
        Exec::Data(type_), Split::None),
    cmd("expire", -3, W | F, ONE, ACL_WRITE_FAST, "generic", "1.0.0", "Set a key's time to live in seconds", O1,
        Exec::Data(expire::expire), Split::None),
    cmd("pexpire", -3, W | F, ONE, ACL_WRITE_FAST, "generic", "2.6.0", "Set a key's time to live in milliseconds",
        O1, Exec::Data(expire::pexpire), Split::None),
    cmd("expireat", -3, W | F, ONE, ACL_WRITE_FAST, "generic", "1.2.0",
        "Set the expiration for a key as a UNIX timestamp", O1, Exec::Data(expire::expireat), Split::None),
    cmd("pexpireat", -3, W | F, ONE, ACL_WRITE_FAST, "generic", "2.6.0",
        "Set the expiration for a key as a UNIX timestamp specified in milliseconds", O1,
        Exec::Data(expire::pexpireat), Split::None),
    cmd("ttl", 2, R | F, ONE, ACL_READ_FAST, "generic", "1.0.0", "Get the time to live for a key in seconds", O1,
        Exec::Data(expire::ttl), Split::None),
    cmd("pttl", 2, R | F, ONE, ACL_READ_FAST, "generic", "2.6.0", "Get the time to live for a key in milliseconds",
        O1, Exec::Data(expire::pttl), Split::None),
    cmd("expiretime", 2, R | F, ONE, ACL_READ_FAST, "generic", "7.0.0", "Get the expiration Unix timestamp for a key",
        O1, Exec::Data(expire::expiretime), Split::None),
    cmd("pexpiretime", 2, R | F, ONE, ACL_READ_FAST, "generic", "7.0.0",
        "Get the expiration Unix timestamp for a key in milliseconds", O1, Exec::Data(expire::pexpiretime),
        Split::None),
    cmd("persist", 2, W | F, ONE, ACL_WRITE_FAST, "generic", "2.2.0", "Remove the expiration from a key", O1,
        Exec::Data(expire::persist), Split::None),
    cmd("rename", 3, W, TWO, ACL_WRITE_SLOW, "generic", "1.0.0", "Rename a key", O1, Exec::Data(rename),
        Split::Atomic),
    cmd("renamenx", 3, W | F, TWO, ACL_WRITE_FAST, "generic", "1.0.0",
        "Rename a key, only if the new key does not exist", O1, Exec::Data(renamenx), Split::Atomic),
    cmd("copy", -3, W | flag::DENYOOM, TWO, ACL_WRITE_SLOW, "generic", "6.2.0", "Copy a key",
        "O(N) worst case for collections, where N is the number of nested items. O(1) for string values.",
        Exec::Data(copy), Split::Atomic),
    cmd("move", 3, W | F, ONE, ACL_WRITE_FAST, "generic", "1.0.0", "Move a key to another database", O1,
        Exec::Data(move_), Split::None),
    CommandSpec {
        subcommands: OBJECT_SUBCOMMANDS,
        ..cmd("object", -2, 0, NONE, &["@slow"], "generic", "2.2.3", "A container for object introspection commands",
            "Depends on subcommand.", Exec::Container, Split::None)
    },
    cmd("randomkey", 1, R, NONE, ACL_READ_SLOW, "generic", "1.0.0", "Return a random key from the keyspace", O1,
        Exec::Conn(space::randomkey), Split::None),
    cmd("dbsize", 1, R | F, NONE, ACL_READ_FAST, "server", "1.0.0",
        "Return the number of keys in the selected database", O1, Exec::Conn(space::dbsize), Split::None),
    cmd("keys", 2, R, NONE, &["@keyspace", "@read", "@slow", "@dangerous"], "generic", "1.0.0",
        "Find all keys matching the given pattern",
        "O(N) with N being the number of keys in the database, under the assumption that the key names in the database and the given pattern have limited length.",
        Exec::Conn(space::keys), Split::None),
    cmd("scan", -2, R, NONE, ACL_READ_SLOW, "generic", "2.8.0", "Incrementally iterate the keys space",
        "O(1) for every call. O(N) for a complete iteration, including enough command calls for the cursor to return back to 0. N is the number of elements inside the collection.",
        Exec::Conn(scan::scan), Split::None),
    cmd("flushdb", -1, W, NONE, &["@keyspace", "@write", "@slow", "@dangerous"], "server", "1.0.0",
        "Remove all keys from the current database", "O(N) where N is the number of keys in the selected database",
        Exec::Conn(space::flushdb), Split::None),
    cmd("flushall", -1, W, NONE, &["@keyspace", "@write", "@slow", "@dangerous"], "server", "1.0.0",
        "Remove all keys from all databases", "O(N) where N is the total number of keys in all databases",
        Exec::Conn(space::flushall), Split::None),
    cmd("swapdb", 3, W | F, NONE, &["@keyspace", "@write", "@fast", "@dangerous"], "server", "4.0.0",
        "Swaps two Redis databases",
        "O(N) where N is the count of clients watching or blocking on keys from both databases.",
        Exec::Conn(space::swapdb), Split::None),
];

#[rustfmt::skip]
static OBJECT_SUBCOMMANDS: &[CommandSpec] = &[
    cmd("object|encoding", 3, R, OBJ_KEY, ACL_READ_SLOW, "generic", "2.2.3",
        "Inspect the internal encoding of a Redis object", O1, Exec::Data(object_encoding), Split::None),
    cmd("object|freq", 3, R, OBJ_KEY, ACL_READ_SLOW, "generic", "4.0.0",
        "Get the logarithmic access frequency counter of a Redis object", O1, Exec::Data(object_freq), Split::None),
    cmd("object|idletime", 3, R, OBJ_KEY, ACL_READ_SLOW, "generic", "2.2.3",
        "Get the time since a Redis object was last accessed", O1, Exec::Data(object_idletime), Split::None),
    cmd("object|refcount", 3, R, OBJ_KEY, ACL_READ_SLOW, "generic", "2.2.3",
        "Get the number of references to the value of the key", O1, Exec::Data(object_refcount), Split::None),
    cmd("object|help", 2, flag::LOADING | flag::STALE, NONE, &["@keyspace", "@slow"], "generic", "6.2.0",
        "Show helpful text about the different subcommands", O1, Exec::Data(object_help), Split::None),
];

/// `ERR source and destination objects are the same` (Redis's `shared.sameobjecterr`).
const SAME_OBJECT: &str = "ERR source and destination objects are the same";

/// Redis's `lookupKeyRead`: lazily expires the key and counts a keyspace hit or miss (INFO
/// `keyspace_hits`/`keyspace_misses`), a miss raising `keymiss`. Write lookups use `Db::get`
/// directly: Redis does not count them.
pub(crate) fn lookup_read<'a>(ctx: &'a mut DataCtx, key: &[u8]) -> Option<&'a mut Entry> {
    lookup_read_counted(ctx, key, true)
}

/// `lookup_read` for OBJECT: Redis counts the miss but raises no `keymiss` there.
fn lookup_object<'a>(ctx: &'a mut DataCtx, key: &[u8]) -> Option<&'a mut Entry> {
    lookup_read_counted(ctx, key, false)
}

fn lookup_read_counted<'a>(ctx: &'a mut DataCtx, key: &[u8], notify_miss: bool) -> Option<&'a mut Entry> {
    let store = &mut *ctx.store;
    match store.dbs[ctx.dbi].get(key, ctx.now_ms) {
        Some(e) => {
            store.keyspace_hits += 1;
            Some(e)
        }
        None => {
            store.keyspace_misses += 1;
            if notify_miss {
                super::keymiss(&mut store.events, ctx.cfg.notify_keyspace_events, ctx.dbi, key);
            }
            None
        }
    }
}

/// The access clock of `Entry::access_s` (OBJECT IDLETIME, LRU eviction): unix seconds, which
/// fit a u32 until 2106.
pub(crate) fn access_clock_s(now_ms: u64) -> u32 {
    (now_ms / 1000).min(u32::MAX as u64) as u32
}

/// A database index argument as Redis's `getIntFromObjectOrReply` + `selectDb` take it.
fn parse_db_index(arg: &[u8], databases: usize) -> Result<usize, &'static str> {
    let n = crate::command::args::parse_i64(arg)?;
    if n < i32::MIN as i64 || n > i32::MAX as i64 {
        return Err(error::NOT_INTEGER);
    }
    if n < 0 || n as usize >= databases {
        return Err(error::DB_INDEX_OUT_OF_RANGE);
    }
    Ok(n as usize)
}

/// DEL and UNLINK (UNLINK's freeing in the background makes no difference to the reply; both
/// raise `del` events).
fn del(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    let now = ctx.now_ms;
    let mut deleted = 0u64;
    for k in &args[1..] {
        let db = ctx.db();
        match db.remove(k) {
            // A key past its deadline was already gone for clients: it counts as expired,
            // and raises the `expired` event Redis's lazy expiry would.
            Some(e) if e.is_expired(now) => {
                db.expired_keys += 1;
                if db.log_expired {
                    db.expired_log.push(k.to_vec());
                }
            }
            Some(_) => {
                deleted += 1;
                ctx.notify(class::GENERIC, "del", k);
            }
            None => {}
        }
    }
    ctx.dirty(deleted);
    out.int(deleted as i64);
}

/// EXISTS: a key named twice counts twice, as in Redis.
fn exists(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    let n = args[1..].iter().filter(|k| lookup_read(ctx, k).is_some()).count();
    out.int(n as i64);
}

fn touch(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    let (now_ms, lfu) = (ctx.now_ms, crate::store::keyspace::Lfu::of(ctx.cfg));
    let mut n = 0;
    for k in &args[1..] {
        if let Some(e) = lookup_read(ctx, k) {
            e.touch(now_ms, lfu);
            n += 1;
        }
    }
    out.int(n);
}

fn type_(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    match lookup_read(ctx, args[1]) {
        Some(e) => out.simple(e.value.type_name()),
        None => out.simple("none"),
    }
}

fn rename(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    rename_generic(ctx, args, out, false)
}

fn renamenx(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    rename_generic(ctx, args, out, true)
}

fn rename_generic(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out, nx: bool) {
    let (src, dst) = (args[1], args[2]);
    let now = ctx.now_ms;
    let db = ctx.db();
    if db.get(src, now).is_none() {
        out.error(error::NO_SUCH_KEY);
        return;
    }
    // Same name: nothing to do, but a missing key was still an error above.
    if src == dst {
        if nx {
            out.int(0)
        } else {
            out.ok()
        }
        return;
    }
    if nx && db.get(dst, now).is_some() {
        out.int(0);
        return;
    }
    let Some(entry) = db.remove(src) else {
        debug_assert!(false, "a key found live was not there to remove");
        out.error(error::NO_SUCH_KEY);
        return;
    };
    // `insert` replaces a live or expired destination and moves the TTL with the entry.
    db.insert(dst, entry);
    // Redis deletes any destination before adding the key under its new name, so the
    // destination is always `new`.
    ctx.notify(class::NEW, "new", dst);
    ctx.notify(class::GENERIC, "rename_from", src);
    ctx.notify(class::GENERIC, "rename_to", dst);
    ctx.dirty(1);
    if nx {
        out.int(1)
    } else {
        out.ok()
    }
}

/// COPY source destination [DB destination-db] [REPLACE]
fn copy(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    // Cluster mode may keep only db 0 in the store, yet Redis checks the index against
    // `databases` first and only then refuses another db with the cluster error.
    let databases = ctx.cfg.databases.max(ctx.store.dbs.len());
    let mut dst_db = ctx.dbi;
    let mut replace = false;
    let mut i = 3;
    while i < args.len() {
        if eq_ic(args[i], "replace") {
            replace = true;
        } else if eq_ic(args[i], "db") && i + 1 < args.len() {
            match parse_db_index(args[i + 1], databases) {
                Ok(d) => dst_db = d,
                Err(e) => {
                    out.error(e);
                    return;
                }
            }
            i += 1;
        } else {
            out.error(error::SYNTAX);
            return;
        }
        i += 1;
    }
    if ctx.cfg.cluster_enabled && (ctx.dbi != 0 || dst_db != 0) {
        out.error("ERR Copying to another database is not allowed in cluster mode");
        return;
    }
    let (src, dst) = (args[1], args[2]);
    if dst_db == ctx.dbi && src == dst {
        out.error(SAME_OBJECT);
        return;
    }
    let clock = access_clock_s(ctx.now_ms);
    let Some(e) = lookup_read(ctx, src) else {
        out.int(0);
        return;
    };
    // A copy is a new object: its access time starts now (Redis duplicates the value).
    let copy = Entry {
        value: e.value.clone(),
        expire_at_ms: e.expire_at_ms,
        access_s: clock,
        lfu: crate::store::keyspace::LFU_INIT_VAL,
    };
    let now = ctx.now_ms;
    let Some(target) = ctx.store.dbs.get_mut(dst_db) else {
        out.error(error::DB_INDEX_OUT_OF_RANGE);
        return;
    };
    if !replace && target.get(dst, now).is_some() {
        out.int(0);
        return;
    }
    target.insert(dst, copy);
    // As for RENAME, a replaced destination is deleted first: the copy is always `new`.
    super::notify_in(ctx, dst_db, class::NEW, "new", dst);
    super::notify_in(ctx, dst_db, class::GENERIC, "copy_to", dst);
    ctx.dirty(1);
    out.int(1);
}

/// MOVE key db
fn move_(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    if ctx.cfg.cluster_enabled {
        out.error("ERR MOVE is not allowed in cluster mode");
        return;
    }
    let dst_db = match parse_db_index(args[2], ctx.store.dbs.len()) {
        Ok(d) => d,
        Err(e) => {
            out.error(e);
            return;
        }
    };
    if dst_db == ctx.dbi {
        out.error(SAME_OBJECT);
        return;
    }
    let (key, now) = (args[1], ctx.now_ms);
    if ctx.db().get(key, now).is_none() || ctx.store.dbs[dst_db].get(key, now).is_some() {
        out.int(0);
        return;
    }
    let Some(entry) = ctx.db().remove(key) else {
        out.int(0);
        return;
    };
    super::insert_key_in(ctx, dst_db, key, entry);
    ctx.notify(class::GENERIC, "move_from", key);
    super::notify_in(ctx, dst_db, class::GENERIC, "move_to", key);
    ctx.dirty(1);
    out.int(1);
}

fn object_encoding(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    match lookup_object(ctx, args[2]) {
        Some(e) => out.bulk_str(e.value.encoding()),
        None => out.null(),
    }
}

/// Redis's LFU policies keep a logarithmic access counter; LRU ones an access time.
fn lfu_policy(ctx: &DataCtx) -> bool {
    matches!(ctx.cfg.maxmemory_policy, Policy::VolatileLfu | Policy::AllkeysLfu)
}

/// OBJECT FREQ: the key's LFU counter, decayed for the time since its last access (Redis's
/// `LFUDecrAndReturn`); the lookup itself does not count as an access.
fn object_freq(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    let lfu = crate::store::keyspace::Lfu::of(ctx.cfg);
    let now_ms = ctx.now_ms;
    let Some(e) = lookup_object(ctx, args[2]) else {
        out.null();
        return;
    };
    match lfu {
        Some(l) => out.int(e.lfu_freq(now_ms, l) as i64),
        None => out.error("ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."),
    }
}

fn object_idletime(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    let lfu = lfu_policy(ctx);
    let now_s = access_clock_s(ctx.now_ms);
    let Some(e) = lookup_object(ctx, args[2]) else {
        out.null();
        return;
    };
    if lfu {
        out.error("ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.");
        return;
    }
    out.int(now_s.saturating_sub(e.access_s) as i64);
}

/// Redis shares the objects of the integers 0..9999 (refcount INT_MAX) unless an LRU/LFU
/// maxmemory policy needs per-object access data; every other value has one reference.
fn object_refcount(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    let lru = matches!(ctx.cfg.maxmemory_policy, Policy::VolatileLru | Policy::AllkeysLru);
    let no_shared = ctx.cfg.maxmemory_bytes != 0 && (lru || lfu_policy(ctx));
    let Some(e) = lookup_object(ctx, args[2]) else {
        out.null();
        return;
    };
    let shared = matches!(e.value, Value::Str(StrValue::Int(n)) if (0..10_000).contains(&n));
    out.int(if shared && !no_shared { i32::MAX as i64 } else { 1 });
}

const OBJECT_HELP: &[&str] = &[
    "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "ENCODING <key>",
    "    Return the kind of internal representation used in order to store the value",
    "    associated with a <key>.",
    "FREQ <key>",
    "    Return the access frequency index of the <key>. The returned integer is",
    "    proportional to the logarithm of the recent access frequency of the key.",
    "IDLETIME <key>",
    "    Return the idle time of the <key>, that is the approximated number of",
    "    seconds elapsed since the last access to the key.",
    "REFCOUNT <key>",
    "    Return the number of references of the value associated with the specified",
    "    <key>.",
    "HELP",
    "    Prints this help.",
];

fn object_help(_ctx: &mut DataCtx, _args: &[&[u8]], out: &mut Out) {
    out.array(OBJECT_HELP.len());
    for line in OBJECT_HELP {
        out.simple(line);
    }
}

#[cfg(test)]
pub(crate) mod test_util {
    use crate::command::spec::DataCtx;
    use crate::config::Config;
    use crate::resp::Out;
    use crate::store::{Entry, Store, StrValue, Value};

    /// A store, a config and a clock to run data commands on, as the shard would.
    pub struct Fixture {
        pub store: Store,
        pub cfg: Config,
        pub rng: rand::rngs::SmallRng,
        pub now_ms: u64,
        pub dbi: usize,
    }

    impl Fixture {
        pub fn new() -> Self {
            Fixture {
                store: Store::new(16),
                cfg: Config::default(),
                rng: <rand::rngs::SmallRng as rand::SeedableRng>::seed_from_u64(7),
                now_ms: 1_700_000_000_000,
                dbi: 0,
            }
        }
        /// Runs `args` (command name first) through the command table and returns the reply.
        pub fn run(&mut self, args: &[&str]) -> String {
            let argv: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
            let mut buf = Vec::new();
            let mut out = Out::new(&mut buf, false);
            match crate::command::table::resolve(&argv) {
                Ok(spec) => match spec.exec {
                    crate::command::spec::Exec::Data(f) => {
                        let mut ctx = DataCtx {
                            store: &mut self.store,
                            dbi: self.dbi,
                            now_ms: self.now_ms,
                            cfg: &self.cfg,
                            rng: &mut self.rng,
                        };
                        f(&mut ctx, &argv, &mut out)
                    }
                    _ => panic!("{} is not a data command", args[0]),
                },
                Err(e) => out.error(&e),
            }
            String::from_utf8_lossy(&buf).into_owned()
        }
        pub fn set(&mut self, key: &str, val: &str) {
            self.store.dbs[self.dbi]
                .insert(key.as_bytes(), Entry::new(Value::Str(StrValue::from_bytes(val.as_bytes()))));
        }
        pub fn set_px(&mut self, key: &str, val: &str, deadline_ms: u64) {
            let mut e = Entry::new(Value::Str(StrValue::from_bytes(val.as_bytes())));
            e.expire_at_ms = deadline_ms;
            self.store.dbs[self.dbi].insert(key.as_bytes(), e);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::test_util::Fixture;
    use super::Policy;

    #[test]
    fn del_exists_touch_type() {
        let mut f = Fixture::new();
        f.set("a", "1");
        f.set("b", "hello");
        f.set_px("gone", "x", f.now_ms - 1);
        assert_eq!(f.run(&["EXISTS", "a", "a", "b", "c", "gone"]), ":3\r\n");
        assert_eq!(f.store.keyspace_hits, 3);
        assert_eq!(f.store.keyspace_misses, 2);
        assert_eq!(f.store.dbs[0].expired_keys, 1);
        assert_eq!(f.run(&["TYPE", "a"]), "+string\r\n");
        assert_eq!(f.run(&["TYPE", "zz"]), "+none\r\n");
        assert_eq!(f.run(&["TOUCH", "a", "zz"]), ":1\r\n");
        assert_eq!(f.store.dbs[0].peek(b"a").map(|e| e.access_s), Some(super::access_clock_s(f.now_ms)));
        f.set_px("gone2", "x", f.now_ms - 1);
        let dirty = f.store.dirty;
        assert_eq!(f.run(&["DEL", "a", "a", "gone2", "nope"]), ":1\r\n");
        assert_eq!(f.store.dirty - dirty, 1);
        assert_eq!(f.store.dbs[0].expired_keys, 2);
        assert_eq!(f.run(&["UNLINK", "b"]), ":1\r\n");
        assert!(f.store.dbs[0].is_empty());
        assert_eq!(f.run(&["DEL"]), "-ERR wrong number of arguments for 'del' command\r\n");
    }

    #[test]
    fn rename_and_renamenx() {
        let mut f = Fixture::new();
        assert_eq!(f.run(&["RENAME", "a", "b"]), "-ERR no such key\r\n");
        assert_eq!(f.run(&["RENAMENX", "a", "b"]), "-ERR no such key\r\n");
        assert_eq!(f.run(&["RENAME", "a", "a"]), "-ERR no such key\r\n");
        f.set_px("a", "1", f.now_ms + 5000);
        assert_eq!(f.run(&["RENAME", "a", "a"]), "+OK\r\n");
        assert_eq!(f.run(&["RENAMENX", "a", "a"]), ":0\r\n");
        let dirty = f.store.dirty;
        assert_eq!(f.run(&["RENAME", "a", "b"]), "+OK\r\n");
        assert_eq!(f.store.dirty - dirty, 1);
        assert_eq!(f.store.dbs[0].peek(b"b").map(|e| e.expire_at_ms), Some(f.now_ms + 5000));
        assert_eq!(f.store.dbs[0].expires_len(), 1);
        assert!(f.store.dbs[0].peek(b"a").is_none());
        f.set("c", "x");
        assert_eq!(f.run(&["RENAMENX", "b", "c"]), ":0\r\n");
        assert_eq!(f.run(&["RENAME", "b", "c"]), "+OK\r\n");
        assert_eq!(f.store.dbs[0].len(), 1);
        assert_eq!(f.store.dbs[0].expires_len(), 1);
        // An expired destination does not block RENAMENX.
        f.set_px("old", "x", f.now_ms - 1);
        assert_eq!(f.run(&["RENAMENX", "c", "old"]), ":1\r\n");
        assert_eq!(f.store.dbs[0].len(), 1);
    }

    #[test]
    fn copy_rules() {
        let mut f = Fixture::new();
        assert_eq!(f.run(&["COPY", "a", "a"]), "-ERR source and destination objects are the same\r\n");
        assert_eq!(f.run(&["COPY", "a", "b"]), ":0\r\n");
        assert_eq!(f.run(&["COPY", "a", "b", "DB", "16"]), "-ERR DB index is out of range\r\n");
        assert_eq!(f.run(&["COPY", "a", "b", "DB", "x"]), "-ERR value is not an integer or out of range\r\n");
        assert_eq!(f.run(&["COPY", "a", "b", "DB", "4294967296"]), "-ERR value is not an integer or out of range\r\n");
        assert_eq!(f.run(&["COPY", "a", "b", "DB"]), "-ERR syntax error\r\n");
        assert_eq!(f.run(&["COPY", "a", "b", "foo"]), "-ERR syntax error\r\n");
        f.set_px("a", "v", f.now_ms + 1000);
        assert_eq!(f.run(&["COPY", "a", "b"]), ":1\r\n");
        assert_eq!(f.store.dbs[0].peek(b"b").map(|e| e.expire_at_ms), Some(f.now_ms + 1000));
        assert_eq!(f.run(&["COPY", "a", "b"]), ":0\r\n");
        assert_eq!(f.run(&["COPY", "a", "b", "REPLACE"]), ":1\r\n");
        assert_eq!(f.run(&["COPY", "a", "a", "db", "3", "replace"]), ":1\r\n");
        assert_eq!(f.store.dbs[3].len(), 1);
        assert_eq!(f.store.dbs[3].expires_len(), 1);
        assert_eq!(f.store.dbs[0].len(), 2);
        f.cfg.cluster_enabled = true;
        assert_eq!(
            f.run(&["COPY", "a", "c", "DB", "1"]),
            "-ERR Copying to another database is not allowed in cluster mode\r\n"
        );
        assert_eq!(f.run(&["COPY", "a", "c", "DB", "0"]), ":1\r\n");
        // A cluster-mode store holding only db 0 still answers with the cluster error.
        f.store.dbs.truncate(1);
        assert_eq!(
            f.run(&["COPY", "a", "d", "DB", "5"]),
            "-ERR Copying to another database is not allowed in cluster mode\r\n"
        );
        assert_eq!(f.run(&["COPY", "a", "d", "DB", "16"]), "-ERR DB index is out of range\r\n");
    }

    #[test]
    fn move_rules() {
        let mut f = Fixture::new();
        assert_eq!(f.run(&["MOVE", "a", "0"]), "-ERR source and destination objects are the same\r\n");
        assert_eq!(f.run(&["MOVE", "a", "99"]), "-ERR DB index is out of range\r\n");
        assert_eq!(f.run(&["MOVE", "a", "-1"]), "-ERR DB index is out of range\r\n");
        assert_eq!(f.run(&["MOVE", "a", "x"]), "-ERR value is not an integer or out of range\r\n");
        assert_eq!(f.run(&["MOVE", "a", "1"]), ":0\r\n");
        f.set_px("a", "v", f.now_ms + 1000);
        assert_eq!(f.run(&["MOVE", "a", "1"]), ":1\r\n");
        assert!(f.store.dbs[0].is_empty());
        assert_eq!(f.store.dbs[0].expires_len(), 0);
        assert_eq!(f.store.dbs[1].expires_len(), 1);
        f.set("a", "w");
        assert_eq!(f.run(&["MOVE", "a", "1"]), ":0\r\n");
        f.cfg.cluster_enabled = true;
        assert_eq!(f.run(&["MOVE", "a", "1"]), "-ERR MOVE is not allowed in cluster mode\r\n");
    }

    #[test]
    fn object_subcommands() {
        let mut f = Fixture::new();
        f.set("i", "5");
        f.set("big", "10000");
        f.set("s", "hello");
        f.set("long", &"x".repeat(45));
        assert_eq!(f.run(&["OBJECT", "ENCODING", "i"]), "$3\r\nint\r\n");
        assert_eq!(f.run(&["object", "encoding", "s"]), "$6\r\nembstr\r\n");
        assert_eq!(f.run(&["OBJECT", "ENCODING", "long"]), "$3\r\nraw\r\n");
        assert_eq!(f.run(&["OBJECT", "ENCODING", "nokey"]), "$-1\r\n");
        assert_eq!(f.run(&["OBJECT", "REFCOUNT", "i"]), ":2147483647\r\n");
        assert_eq!(f.run(&["OBJECT", "REFCOUNT", "big"]), ":1\r\n");
        assert_eq!(f.run(&["OBJECT", "REFCOUNT", "s"]), ":1\r\n");
        assert!(f.run(&["OBJECT", "FREQ", "s"]).starts_with("-ERR An LFU maxmemory policy is not selected"));
        assert_eq!(f.run(&["OBJECT", "FREQ", "nokey"]), "$-1\r\n");
        f.run(&["TOUCH", "s"]);
        f.now_ms += 3_000;
        assert_eq!(f.run(&["OBJECT", "IDLETIME", "s"]), ":3\r\n");
        assert_eq!(f.run(&["OBJECT", "ENCODING"]), "-ERR wrong number of arguments for 'object|encoding' command\r\n");
        assert_eq!(f.run(&["OBJECT", "foo"]), "-ERR unknown subcommand 'foo'. Try OBJECT HELP.\r\n");
        f.cfg.maxmemory_policy = Policy::AllkeysLfu;
        assert!(f.run(&["OBJECT", "IDLETIME", "s"]).starts_with("-ERR An LFU maxmemory policy is selected"));
        assert_eq!(f.run(&["OBJECT", "FREQ", "s"]), ":5\r\n");
        f.now_ms += 180_000;
        assert_eq!(f.run(&["OBJECT", "FREQ", "s"]), ":2\r\n");
        assert_eq!(f.run(&["OBJECT", "REFCOUNT", "i"]), ":2147483647\r\n");
        f.cfg.maxmemory_bytes = 1 << 20;
        assert_eq!(f.run(&["OBJECT", "REFCOUNT", "i"]), ":1\r\n");
        let help = f.run(&["OBJECT", "HELP"]);
        assert!(help.starts_with("*15\r\n+OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:\r\n"));
    }
}

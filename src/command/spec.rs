//! Command metadata: the single source of truth for arity, flags, key positions, ACL
//! categories and docs. Routing, `COMMAND INFO|DOCS|GETKEYS` and (later) ACL all read it.

use crate::resp::Out;
use crate::shard::ShardState;
use crate::store::Store;

pub mod flag {
    pub const WRITE: u32 = 1;
    pub const READONLY: u32 = 1 << 1;
    pub const DENYOOM: u32 = 1 << 2;
    pub const ADMIN: u32 = 1 << 3;
    pub const PUBSUB: u32 = 1 << 4;
    pub const NOSCRIPT: u32 = 1 << 5;
    pub const BLOCKING: u32 = 1 << 6;
    pub const LOADING: u32 = 1 << 7;
    pub const STALE: u32 = 1 << 8;
    pub const SKIP_MONITOR: u32 = 1 << 9;
    pub const SKIP_SLOWLOG: u32 = 1 << 10;
    pub const FAST: u32 = 1 << 11;
    pub const NO_AUTH: u32 = 1 << 12;
    pub const MAY_REPLICATE: u32 = 1 << 13;
    pub const NO_MULTI: u32 = 1 << 14;
    pub const MOVABLEKEYS: u32 = 1 << 15;
    pub const ALLOW_BUSY: u32 = 1 << 16;
    pub const SENTINEL: u32 = 1 << 17;
    pub const NO_MANDATORY_KEYS: u32 = 1 << 18;
    pub const PROTECTED: u32 = 1 << 19;
    pub const NO_ASYNC_LOADING: u32 = 1 << 20;
    pub const ASKING: u32 = 1 << 21;

    /// Names as `COMMAND INFO` prints them, in Redis's order.
    pub const NAMES: &[(u32, &str)] = &[
        (WRITE, "write"),
        (READONLY, "readonly"),
        (DENYOOM, "denyoom"),
        (ADMIN, "admin"),
        (PUBSUB, "pubsub"),
        (NOSCRIPT, "noscript"),
        (BLOCKING, "blocking"),
        (LOADING, "loading"),
        (STALE, "stale"),
        (SKIP_MONITOR, "skip_monitor"),
        (SKIP_SLOWLOG, "skip_slowlog"),
        (ASKING, "asking"),
        (FAST, "fast"),
        (NO_AUTH, "no_auth"),
        (MAY_REPLICATE, "may_replicate"),
        (SENTINEL, "sentinel"),
        (NO_MANDATORY_KEYS, "no_mandatory_keys"),
        (PROTECTED, "protected"),
        (NO_ASYNC_LOADING, "no_async_loading"),
        (NO_MULTI, "no_multi"),
        (MOVABLEKEYS, "movablekeys"),
        (ALLOW_BUSY, "allow_busy"),
    ];
}

/// Everything a data command may touch: the store of the shard that owns its keys (or a
/// scratch store holding copies of keys from several shards, for cross-shard atomic commands).
pub struct DataCtx<'a> {
    pub store: &'a mut Store,
    pub dbi: usize,
    pub now_ms: u64,
    pub cfg: &'a crate::config::Config,
    pub rng: &'a mut rand::rngs::SmallRng,
}

impl DataCtx<'_> {
    #[inline]
    pub fn db(&mut self) -> &mut crate::store::Db {
        &mut self.store.dbs[self.dbi]
    }
    /// Counts one change for save points (INFO `rdb_changes_since_last_save`).
    #[inline]
    pub fn dirty(&mut self, n: u64) {
        self.store.dirty += n;
    }
    /// Records a keyspace event (Redis's `notifyKeyspaceEvent`): `class` is one of
    /// `store::events::class::*`, `event` Redis's event name (`set`, `lpush`, `del`...). Call it
    /// where Redis does, after the change, once per key changed.
    #[inline]
    pub fn notify(&mut self, class: u32, event: &'static str, key: &[u8]) {
        if crate::store::events::wanted(self.cfg.notify_keyspace_events, class) {
            // Keys this command's lookups expired come first, as Redis raises `expired` at
            // the lookup, before the command's own events.
            self.store.collect_events();
            self.store.events.push(crate::store::events::KeyEvent {
                class,
                event,
                db: self.dbi as u32,
                key: key.to_vec(),
            });
        }
    }
}

/// Key positions of a movable-keys command, from its arguments.
pub type GetKeysFn = fn(&[&[u8]]) -> Vec<usize>;

/// A data command: runs on the shard owning its keys, from any entry point (a local client,
/// a forwarded batch, a cross-shard transaction, AOF replay later).
pub type DataFn = fn(&mut DataCtx, &[&[u8]], &mut Out);

/// What a connection command returns: its reply was written, or will be produced later by a
/// future (fan-out to shards), during which the connection reads no further commands.
pub enum ConnResult {
    Done,
    Later(futures::future::LocalBoxFuture<'static, Vec<u8>>),
    /// The reply is written; close the connection after sending it (QUIT, protocol errors).
    Close,
}

/// A connection command: runs on the shard holding the client's connection.
pub type ConnFn = fn(&mut ShardState, usize, &[&[u8]], &mut Out) -> ConnResult;

#[derive(Clone, Copy)]
pub enum Exec {
    Data(DataFn),
    Conn(ConnFn),
    /// A command with subcommands; the subcommand's spec says how it runs.
    Container,
}

/// How a multi-key data command whose keys live on several shards runs in standalone mode.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Split {
    /// Never spans shards (single key, or keyless).
    None,
    /// Each shard runs the command on its keys; integer replies are added (DEL, EXISTS...).
    SumInts,
    /// Each shard answers for its keys; the array is reassembled in request order (MGET).
    Mget,
    /// Run atomically: the shards involved are frozen, the keys copied to the coordinator,
    /// the command run there, and the changed keys written back (MSET, RENAME, COPY...).
    Atomic,
}

pub struct CommandSpec {
    pub name: &'static str,
    pub arity: i32,
    pub flags: u32,
    pub first_key: i32,
    pub last_key: i32,
    pub step: i32,
    pub acl: &'static [&'static str],
    pub group: &'static str,
    pub since: &'static str,
    pub summary: &'static str,
    pub complexity: &'static str,
    pub exec: Exec,
    pub split: Split,
    pub subcommands: &'static [CommandSpec],
    /// Key positions of commands whose keys move (`numkeys` arguments...), for routing and
    /// COMMAND GETKEYS; returns argument indexes, empty when the arguments are malformed (the
    /// command itself then reports the error). Such commands carry the MOVABLEKEYS flag.
    pub getkeys: Option<GetKeysFn>,
    /// Keys a command reads besides its declared keys, found only by reading them (SORT's BY
    /// and GET patterns). In standalone mode with several shards such a call runs on the
    /// coordinator with every shard frozen, so the keys are fetched wherever they live.
    pub pattern_keys: Option<PatternKeys>,
}

/// See `CommandSpec::pattern_keys`: whether a call reads pattern keys at all (from its
/// arguments), and which keys it reads (from the data, on the shard of its first key).
#[derive(Clone, Copy)]
pub struct PatternKeys {
    pub uses: fn(&[&[u8]]) -> bool,
    pub read: ReadKeysFn,
}

/// The keys a call reads through patterns, computed from the data.
pub type ReadKeysFn = fn(&mut DataCtx, &[&[u8]]) -> Vec<Vec<u8>>;

impl CommandSpec {
    pub const fn has(&self, f: u32) -> bool {
        self.flags & f != 0
    }
    pub fn arity_ok(&self, argc: usize) -> bool {
        if self.arity >= 0 {
            argc == self.arity as usize
        } else {
            argc >= (-self.arity) as usize
        }
    }
    /// Argument indexes of the keys of this call (first/last/step as Redis's legacy specs).
    pub fn key_indexes_of(&self, args: &[&[u8]], out: &mut smallvec::SmallVec<[usize; 8]>) {
        match self.getkeys {
            Some(f) => out.extend(f(args).into_iter().filter(|&i| i < args.len())),
            None => self.key_indexes(args.len(), out),
        }
    }

    /// Key indexes from first/last/step alone (the legacy triple of COMMAND INFO).
    pub fn key_indexes(&self, argc: usize, out: &mut smallvec::SmallVec<[usize; 8]>) {
        if self.first_key <= 0 {
            return;
        }
        let first = self.first_key as usize;
        let last = if self.last_key < 0 { argc as i64 + self.last_key as i64 } else { self.last_key as i64 };
        let step = self.step.max(1) as usize;
        let mut i = first;
        while (i as i64) <= last && i < argc {
            out.push(i);
            i += step;
        }
    }
}

/// Shorthand constructor used by the family tables.
#[allow(clippy::too_many_arguments)]
pub const fn spec(
    name: &'static str,
    arity: i32,
    flags: u32,
    keys: (i32, i32, i32),
    acl: &'static [&'static str],
    group: &'static str,
    since: &'static str,
    summary: &'static str,
    exec: Exec,
    split: Split,
) -> CommandSpec {
    CommandSpec {
        name,
        arity,
        flags,
        first_key: keys.0,
        last_key: keys.1,
        step: keys.2,
        acl,
        group,
        since,
        summary,
        complexity: "",
        exec,
        split,
        subcommands: &[],
        getkeys: None,
        pattern_keys: None,
    }
}

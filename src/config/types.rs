//! The typed values of settings that are not plain numbers, flags or strings: enumerations with
//! their Redis spellings, `save` points, client output buffer limits, keyspace event classes.
//!
//! Owns how each of these is spelled and parsed. It must never know about the settings table
//! or the config file format; `table` and `special` build on it.

/// Enumerations whose Redis spellings are listed once, in the order Redis lists them in its
/// "must be one of the following" error.
pub trait RedisEnum: Copy + Sized + 'static {
    /// Redis spellings, indexed by [`RedisEnum::index`].
    const NAMES: &'static [&'static str];
    fn index(self) -> usize;
    fn from_index(index: usize) -> Option<Self>;

    fn as_str(self) -> &'static str {
        Self::NAMES.get(self.index()).copied().unwrap_or("")
    }
}

macro_rules! redis_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vmeta])* $variant),+
        }

        impl RedisEnum for $name {
            const NAMES: &'static [&'static str] = &[$($text),+];

            fn index(self) -> usize {
                self as usize
            }

            fn from_index(index: usize) -> Option<Self> {
                const ALL: &[$name] = &[$($name::$variant),+];
                ALL.get(index).copied()
            }
        }
    };
}

redis_enum! {
    /// `loglevel`.
    LogLevel { Debug = "debug", Verbose = "verbose", Notice = "notice", Warning = "warning" }
}

redis_enum! {
    /// `maxmemory-policy`.
    MaxmemoryPolicy {
        VolatileLru = "volatile-lru",
        VolatileLfu = "volatile-lfu",
        VolatileRandom = "volatile-random",
        VolatileTtl = "volatile-ttl",
        AllkeysLru = "allkeys-lru",
        AllkeysLfu = "allkeys-lfu",
        AllkeysRandom = "allkeys-random",
        Noeviction = "noeviction",
    }
}

redis_enum! {
    /// `appendfsync`.
    AppendFsync { Always = "always", Everysec = "everysec", No = "no" }
}

redis_enum! {
    /// `enable-debug-command`, `enable-protected-configs`, `enable-module-command`: who may
    /// use the guarded feature.
    EnableFlag {
        No = "no",
        Yes = "yes",
        /// Only clients connected over loopback or a unix socket.
        Local = "local",
    }
}

redis_enum! {
    /// `cluster-preferred-endpoint-type`: what MOVED/ASK and CLUSTER SLOTS name a node by.
    PreferredEndpointType { Ip = "ip", Hostname = "hostname", UnknownEndpoint = "unknown-endpoint" }
}

redis_enum! {
    /// `repl-diskless-load`.
    ReplDisklessLoad { Disabled = "disabled", OnEmptyDb = "on-empty-db", Swapdb = "swapdb" }
}

/// One `save <seconds> <changes>` point: snapshot when at least `changes` writes happened in
/// the last `seconds`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SavePoint {
    pub seconds: u64,
    pub changes: u64,
}

/// `replicaof <host> <port>`: the master this node replicates from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ReplicaOf {
    pub host: String,
    pub port: u16,
}

/// The client classes of `client-output-buffer-limit`, in Redis's output order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientClass {
    Normal,
    Replica,
    Pubsub,
}

impl ClientClass {
    pub const ALL: [ClientClass; 3] = [ClientClass::Normal, ClientClass::Replica, ClientClass::Pubsub];

    /// The name Redis 7.0 prints (it still says `slave`).
    pub fn as_str(self) -> &'static str {
        match self {
            ClientClass::Normal => "normal",
            ClientClass::Replica => "slave",
            ClientClass::Pubsub => "pubsub",
        }
    }
}

/// One class of `client-output-buffer-limit`: disconnect at `hard_bytes`, or after the reply
/// queue stayed above `soft_bytes` for `soft_s` seconds. Zero disables a limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OutputBufferLimit {
    pub hard_bytes: u64,
    pub soft_bytes: u64,
    pub soft_s: u64,
}

/// `client-output-buffer-limit` for all classes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OutputBufferLimits {
    pub normal: OutputBufferLimit,
    pub replica: OutputBufferLimit,
    pub pubsub: OutputBufferLimit,
}

impl OutputBufferLimits {
    pub fn get(&self, class: ClientClass) -> OutputBufferLimit {
        match class {
            ClientClass::Normal => self.normal,
            ClientClass::Replica => self.replica,
            ClientClass::Pubsub => self.pubsub,
        }
    }

    pub fn set(&mut self, class: ClientClass, limit: OutputBufferLimit) {
        match class {
            ClientClass::Normal => self.normal = limit,
            ClientClass::Replica => self.replica = limit,
            ClientClass::Pubsub => self.pubsub = limit,
        }
    }
}

/// Keyspace event classes of `notify-keyspace-events`, with Redis's bit values so a mask can
/// be compared with Redis's `NOTIFY_*` constants when reading its code.
pub mod notify {
    pub const KEYSPACE: u32 = 1 << 0;
    pub const KEYEVENT: u32 = 1 << 1;
    pub const GENERIC: u32 = 1 << 2;
    pub const STRING: u32 = 1 << 3;
    pub const LIST: u32 = 1 << 4;
    pub const SET: u32 = 1 << 5;
    pub const HASH: u32 = 1 << 6;
    pub const ZSET: u32 = 1 << 7;
    pub const EXPIRED: u32 = 1 << 8;
    pub const EVICTED: u32 = 1 << 9;
    pub const STREAM: u32 = 1 << 10;
    pub const KEY_MISS: u32 = 1 << 11;
    pub const MODULE: u32 = 1 << 13;
    pub const NEW: u32 = 1 << 14;
    /// What the `A` class stands for: every type class, but not `m` (misses) or `n` (new).
    pub const ALL: u32 = GENERIC | STRING | LIST | SET | HASH | ZSET | EXPIRED | EVICTED | STREAM | MODULE;

    /// Class characters in the order Redis prints them when not covered by `A`.
    const TYPE_CLASSES: [(u32, char); 11] = [
        (GENERIC, 'g'),
        (STRING, '$'),
        (LIST, 'l'),
        (SET, 's'),
        (HASH, 'h'),
        (ZSET, 'z'),
        (EXPIRED, 'x'),
        (EVICTED, 'e'),
        (STREAM, 't'),
        (MODULE, 'd'),
        (NEW, 'n'),
    ];

    /// Parse a class string such as `KEA` or `Kx`; `None` on an unknown character.
    pub fn parse(classes: &str) -> Option<u32> {
        let mut flags = 0;
        for c in classes.chars() {
            flags |= match c {
                'A' => ALL,
                'K' => KEYSPACE,
                'E' => KEYEVENT,
                'm' => KEY_MISS,
                other => TYPE_CLASSES.iter().find(|(_, ch)| *ch == other)?.0,
            };
        }
        Some(flags)
    }

    /// Format a mask the way Redis 7.0 does: `A` replaces all type classes (and, as in Redis,
    /// hides `n`), then `K`, `E`, `m`.
    pub fn format(flags: u32) -> String {
        let mut out = String::new();
        if flags & ALL == ALL {
            out.push('A');
        } else {
            for (bit, ch) in TYPE_CLASSES {
                if flags & bit != 0 {
                    out.push(ch);
                }
            }
        }
        for (bit, ch) in [(KEYSPACE, 'K'), (KEYEVENT, 'E'), (KEY_MISS, 'm')] {
            if flags & bit != 0 {
                out.push(ch);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn enum_names_round_trip() {
        for (i, name) in MaxmemoryPolicy::NAMES.iter().enumerate() {
            let policy = MaxmemoryPolicy::from_index(i).map(RedisEnum::as_str);
            assert_eq!(policy, Some(*name));
        }
        assert_eq!(MaxmemoryPolicy::from_index(MaxmemoryPolicy::NAMES.len()), None);
        assert_eq!(LogLevel::Warning.as_str(), "warning");
    }

    #[test]
    fn notify_classes_format_like_redis() {
        assert_eq!(notify::parse("KEA").map(notify::format).as_deref(), Some("AKE"));
        assert_eq!(notify::parse("Kmn").map(notify::format).as_deref(), Some("nKm"));
        assert_eq!(notify::parse("An").map(notify::format).as_deref(), Some("A"));
        assert_eq!(notify::parse("g$lshzxetd").map(notify::format).as_deref(), Some("A"));
        assert_eq!(notify::parse("Ex").map(notify::format).as_deref(), Some("xE"));
        assert_eq!(notify::parse("").map(notify::format).as_deref(), Some(""));
        assert_eq!(notify::parse("Q"), None);
    }
}

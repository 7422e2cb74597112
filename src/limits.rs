//! Every hard limit of the server in one place, units last in the name.
//!
//! Defaults match Redis 7.0 where Redis has the same limit; the runtime values that users may
//! change live in `config` and start from these.

/// Largest bulk string a client may send (`proto-max-bulk-len`).
pub const PROTO_MAX_BULK_LEN_BYTES: usize = 512 * 1024 * 1024;
/// Largest multibulk count a client may send (Redis: 1024 * 1024 * 1024 when authenticated).
pub const PROTO_MAX_MULTIBULK_LEN: usize = 1024 * 1024 * 1024;
/// Largest inline command line (Redis: PROTO_INLINE_MAX_SIZE).
pub const PROTO_INLINE_MAX_SIZE_BYTES: usize = 64 * 1024;
/// Query buffer limit per client (`client-query-buffer-limit`).
pub const CLIENT_QUERY_BUFFER_LIMIT_BYTES: usize = 1024 * 1024 * 1024;
/// Number of hash slots in the cluster key space.
pub const SLOT_COUNT: usize = 16_384;
/// Provided buffers per shard for multishot recv, and the size of each.
pub const RECV_BUFFER_COUNT: u16 = 512;
pub const RECV_BUFFER_SIZE_BYTES: usize = 16 * 1024;
/// io_uring submission queue entries per shard.
pub const RING_ENTRIES: u32 = 2048;
/// Most shards a node may run.
pub const MAX_SHARDS: usize = 256;
/// Commands parsed from one connection per loop iteration before others get a turn.
pub const MAX_COMMANDS_PER_READ_BATCH: usize = 4096;
/// Longest a reply buffer may grow before the connection's reads are paused.
pub const REPLY_SOFT_LIMIT_BYTES: usize = 64 * 1024 * 1024;
/// Periodic cron tick of each shard (Redis `hz` 10 by default).
pub const DEFAULT_HZ: u32 = 10;
/// Active expire: keys sampled per db per round and the CPU budget of one cycle.
pub const ACTIVE_EXPIRE_KEYS_PER_LOOP: usize = 20;
pub const ACTIVE_EXPIRE_CYCLE_BUDGET_US: u64 = 25_000;
/// Largest integer-encoded string value (Redis keeps 64-bit signed integers).
pub const LONG_STR_SIZE_BYTES: usize = 21;
/// Values at or below this many bytes use the `embstr` encoding in OBJECT ENCODING.
pub const EMBSTR_SIZE_LIMIT_BYTES: usize = 44;
/// Biggest string value SETRANGE/APPEND may produce (Redis: proto-max-bulk-len).
pub const STRING_MAX_SIZE_BYTES: usize = 512 * 1024 * 1024;

/// At most this many atomic cross-shard commands run in one batch under one freeze
/// (`shard::coord`): bounds how long the batch holds its shards.
pub const ATOMIC_BATCH_MAX_COMMANDS: usize = 128;

/// At most this many cross-shard transactions (EXEC) run in one batch under one freeze
/// (`shard::txn`): bounds how long the batch holds its shards.
pub const EXEC_BATCH_MAX_TRANSACTIONS: usize = 64;

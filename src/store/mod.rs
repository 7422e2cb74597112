//! Per-shard storage: keyspace (one table per slot), values and their encodings, expiry and
//! memory accounting. Nothing here knows about sockets or other shards.

pub mod bytes;
pub mod cow_vec;
pub mod events;
pub mod evict;
pub mod keyspace;
pub mod listpack;
pub mod memory;
pub mod slot_dir;
pub mod slot_table;
pub mod types;
pub mod value;

pub use bytes::CompactBytes;
pub use keyspace::{Db, Entry, Store};
pub use value::{StrValue, Value};

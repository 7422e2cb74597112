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
use crate::store::Value;

/// Looks `key` up for reading as Redis's `lookupKeyRead`: expires it lazily, counts a keyspace
/// hit or miss, refreshes its access clock, and picks the type with `pick`. Err is WRONGTYPE.
pub(crate) fn lookup_read_as<'a, T: ?Sized>(
    ctx: &'a mut DataCtx,
    key: &[u8],
    pick: fn(&mut Value) -> Option<&mut T>,
) -> Result<Option<&'a mut T>, &'static str> {
    let now_ms = ctx.now_ms;
    let store = &mut *ctx.store;
    let Some(db) = store.dbs.get_mut(ctx.dbi) else {
        return Ok(None);
    };
    match db.get(key, now_ms) {
        None => {
            store.keyspace_misses += 1;
            Ok(None)
        }
        Some(e) => {
            store.keyspace_hits += 1;
            e.access_s = keys::access_clock_s(now_ms);
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
    match ctx.db().get(key, now_ms) {
        None => Ok(None),
        Some(e) => {
            e.access_s = keys::access_clock_s(now_ms);
            pick(&mut e.value).map(Some).ok_or(crate::error::WRONGTYPE)
        }
    }
}

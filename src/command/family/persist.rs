//! Serialized values: DUMP, RESTORE and RESTORE-ASKING, with Redis 7.0's payload format (the
//! value in RDB encoding, the RDB version, a CRC64; see `persist::rdb::dump`) so payloads move
//! between Tessera and redis-server in both directions.
//!
//! These are data commands: they run on the shard owning the key and touch nothing else.
//! Replies and error texts are Redis 7.0's, checked in the same order Redis checks them.

#[cfg(test)]
mod tests;

use crate::command::args::eq_ic;
use crate::command::spec::{flag, spec, CommandSpec, DataCtx, Exec, Split};
use crate::error;
use crate::persist::rdb::dump::{decode_dump_payload, encode_dump_payload, verify_dump_payload};
use crate::persist::rdb::read::LoadLimits;
use crate::persist::rdb::write::WriteOpts;
use crate::resp::Out;
use crate::store::events::class;
use crate::store::keyspace::{Entry, NO_EXPIRE};

const ONE: (i32, i32, i32) = (1, 1, 1);
const ACL_RESTORE: &[&str] = &["@keyspace", "@write", "@slow", "@dangerous"];
const CX_RESTORE: &str = "O(1) to create the new key and additional O(N*M) to reconstruct the serialized value, \
where N is the number of Redis objects composing the value and M their average size. For small string values the \
time complexity is thus O(1)+O(1*M) where M is small, so simply O(1). However for sorted set values the complexity \
is O(N*M*log(N)) because inserting values into sorted sets is O(log(N)).";

pub static COMMANDS: &[CommandSpec] = &[
    CommandSpec {
        complexity: "O(1) to access the key and additional O(N*M) to serialize it, where N is the number of \
Redis objects composing the value and M their average size. For small string values the time complexity is thus \
O(1)+O(1*M) where M is small, so simply O(1).",
        ..spec(
            "dump",
            2,
            flag::READONLY,
            ONE,
            &["@keyspace", "@read", "@slow"],
            "generic",
            "2.6.0",
            "Return a serialized version of the value stored at the specified key.",
            Exec::Data(dump),
            Split::None,
        )
    },
    CommandSpec {
        complexity: CX_RESTORE,
        ..spec(
            "restore",
            -4,
            flag::WRITE | flag::DENYOOM,
            ONE,
            ACL_RESTORE,
            "generic",
            "2.6.0",
            "Create a key using the provided serialized value, previously obtained using DUMP.",
            Exec::Data(restore),
            Split::None,
        )
    },
    CommandSpec {
        complexity: CX_RESTORE,
        ..spec(
            "restore-asking",
            -4,
            flag::WRITE | flag::DENYOOM | flag::ASKING,
            ONE,
            ACL_RESTORE,
            "server",
            "3.0.0",
            "An internal command for migrating keys in a cluster",
            Exec::Data(restore),
            Split::None,
        )
    },
];

/// DUMP key: the payload, or a null reply when the key does not exist.
fn dump(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    let opts = WriteOpts::from_config(ctx.cfg);
    let Some(e) = super::keys::lookup_read(ctx, args[1]) else {
        out.null();
        return;
    };
    out.bulk(&encode_dump_payload(&e.value, &opts));
}

/// RESTORE's options.
struct RestoreOpts {
    replace: bool,
    absttl: bool,
    idle_s: Option<i64>,
    freq: Option<i64>,
}

/// Parses the options after the payload, as Redis does: IDLETIME and FREQ exclude each other
/// (the second one is a syntax error).
fn parse_restore_opts(args: &[&[u8]]) -> Result<RestoreOpts, &'static str> {
    let mut o = RestoreOpts { replace: false, absttl: false, idle_s: None, freq: None };
    let mut j = 4;
    while j < args.len() {
        let a = args[j];
        let more = j + 1 < args.len();
        if eq_ic(a, "replace") {
            o.replace = true;
        } else if eq_ic(a, "absttl") {
            o.absttl = true;
        } else if eq_ic(a, "idletime") && more && o.freq.is_none() {
            let v = crate::command::args::parse_i64(args[j + 1])?;
            if v < 0 {
                return Err("ERR Invalid IDLETIME value, must be >= 0");
            }
            o.idle_s = Some(v);
            j += 1;
        } else if eq_ic(a, "freq") && more && o.idle_s.is_none() {
            let v = crate::command::args::parse_i64(args[j + 1])?;
            if !(0..=255).contains(&v) {
                return Err("ERR Invalid FREQ value, must be >= 0 and <= 255");
            }
            o.freq = Some(v);
            j += 1;
        } else {
            return Err(error::SYNTAX);
        }
        j += 1;
    }
    Ok(o)
}

/// RESTORE key ttl payload [REPLACE] [ABSTTL] [IDLETIME seconds] [FREQ frequency] (and
/// RESTORE-ASKING, the same on a slot being imported).
fn restore(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    let o = match parse_restore_opts(args) {
        Ok(o) => o,
        Err(e) => return out.error(e),
    };
    let key = args[1];
    let now_ms = ctx.now_ms;
    if !o.replace && ctx.db().contains(key, now_ms) {
        return out.error("BUSYKEY Target key name already exists.");
    }
    let ttl = match crate::command::args::parse_i64(args[2]) {
        Ok(t) if t < 0 => return out.error("ERR Invalid TTL value, must be >= 0"),
        Ok(t) => t,
        Err(e) => return out.error(e),
    };
    let payload = args[3];
    if !verify_dump_payload(payload) {
        return out.error("ERR DUMP payload version or checksum are wrong");
    }
    let value = match decode_dump_payload(payload, &LoadLimits::from_config(ctx.cfg)) {
        Ok(Some(v)) => v,
        _ => return out.error("ERR Bad data format"),
    };
    let deleted = o.replace && ctx.db().remove(key).is_some();
    let deadline_ms = if ttl != 0 && !o.absttl { ttl.saturating_add(now_ms as i64) } else { ttl };
    if deadline_ms != 0 && deadline_ms <= now_ms as i64 {
        // Already expired: nothing is created, and a replaced key is simply deleted.
        if deleted {
            ctx.notify(class::GENERIC, "del", key);
            ctx.dirty(1);
        }
        return out.ok();
    }
    let mut e = Entry::new(value);
    e.expire_at_ms = if deadline_ms == 0 { NO_EXPIRE } else { deadline_ms as u64 };
    let now_s = super::keys::access_clock_s(now_ms);
    // As Redis's objectSetLRUOrLFU: under an LFU policy FREQ sets the counter and IDLETIME is
    // ignored (the access time is where the counter's decay starts); otherwise IDLETIME sets
    // the access time and FREQ is ignored.
    let lfu = crate::store::keyspace::Lfu::of(ctx.cfg).is_some();
    e.access_s = match o.idle_s {
        Some(idle) if !lfu => now_s.saturating_sub(u32::try_from(idle).unwrap_or(u32::MAX)),
        _ => now_s,
    };
    if let (Some(f), true) = (o.freq, lfu) {
        e.lfu = u8::try_from(f).unwrap_or(u8::MAX);
    }
    ctx.db().insert(key, e);
    ctx.notify(class::GENERIC, "restore", key);
    out.ok();
    ctx.dirty(1);
}

//! Single-set reads and writes: SADD SREM SISMEMBER SMISMEMBER SCARD, and SMOVE (two keys,
//! one member). Replies and the order of checks are those of Redis 7.0's `t_set.c`.

use super::{max_intset_entries, new_entry, peek_set, read_set, write_set};
use crate::command::family::insert_key;
use crate::command::spec::DataCtx;
use crate::error;
use crate::resp::Out;
use crate::store::events::class;
use crate::store::types::set::SetValue;

pub(super) fn sadd(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    let key = args[1];
    let max = max_intset_entries(ctx);
    let added = match write_set(ctx, key) {
        Err(e) => return out.error(e),
        Ok(Some(set)) => args[2..].iter().filter(|m| set.add(m, max)).count(),
        Ok(None) => {
            // Built whole before it is stored: one keyspace insert for a new key.
            let mut set = SetValue::new_for(args[2]);
            let added = args[2..].iter().filter(|m| set.add(m, max)).count();
            let entry = new_entry(ctx, set);
            insert_key(ctx, key, entry);
            added
        }
    };
    if added > 0 {
        ctx.notify(class::SET, "sadd", key);
    }
    ctx.dirty(added as u64);
    out.int(added as i64);
}

pub(super) fn srem(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    let key = args[1];
    let (deleted, emptied) = match write_set(ctx, key) {
        Err(e) => return out.error(e),
        Ok(None) => return out.int(0),
        Ok(Some(set)) => {
            let mut deleted = 0;
            for m in &args[2..] {
                if set.remove(m) {
                    deleted += 1;
                    if set.is_empty() {
                        break;
                    }
                }
            }
            (deleted, set.is_empty())
        }
    };
    if deleted > 0 {
        ctx.notify(class::SET, "srem", key);
    }
    if emptied {
        ctx.db().remove(key);
        ctx.notify(class::GENERIC, "del", key);
    }
    ctx.dirty(deleted);
    out.int(deleted as i64);
}

pub(super) fn sismember(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    match read_set(ctx, args[1]) {
        Err(e) => out.error(e),
        Ok(None) => out.int(0),
        Ok(Some(s)) => out.int(s.contains(args[2]) as i64),
    }
}

pub(super) fn smismember(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    let set = match read_set(ctx, args[1]) {
        Err(e) => return out.error(e),
        Ok(s) => s,
    };
    out.array(args.len() - 2);
    for m in &args[2..] {
        out.int(set.as_ref().is_some_and(|s| s.contains(m)) as i64);
    }
}

pub(super) fn scard(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    match read_set(ctx, args[1]) {
        Err(e) => out.error(e),
        Ok(None) => out.int(0),
        Ok(Some(s)) => out.int(s.len() as i64),
    }
}

/// SMOVE: both keys are looked up (and lazily expired) before any check, as Redis does; a
/// missing source answers 0 even when the destination has the wrong type.
pub(super) fn smove(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    let (src, dst, member) = (args[1], args[2], args[3]);
    let src_is_set = match write_set(ctx, src) {
        Ok(found) => Some(found.is_some()),
        Err(_) => None,
    };
    let dst_is_set = match write_set(ctx, dst) {
        Ok(found) => Some(found.is_some()),
        Err(_) => None,
    };
    match (src_is_set, dst_is_set) {
        (Some(false), _) => return out.int(0),
        (None, _) | (_, None) => return out.error(error::WRONGTYPE),
        _ => {}
    }
    let dst_exists = dst_is_set == Some(true);
    if src == dst {
        let has = peek_set(ctx.db(), src).is_some_and(|s| s.contains(member));
        return out.int(has as i64);
    }
    let (removed, emptied) = match write_set(ctx, src) {
        Ok(Some(set)) => (set.remove(member), set.is_empty()),
        _ => (false, false),
    };
    if !removed {
        return out.int(0);
    }
    ctx.notify(class::SET, "srem", src);
    if emptied {
        ctx.db().remove(src);
        ctx.notify(class::GENERIC, "del", src);
    }
    ctx.dirty(1);
    let max = max_intset_entries(ctx);
    let added = if dst_exists {
        write_set(ctx, dst).ok().flatten().is_some_and(|set| set.add(member, max))
    } else {
        let mut set = SetValue::new_for(member);
        set.add(member, max);
        let entry = new_entry(ctx, set);
        insert_key(ctx, dst, entry);
        true
    };
    if added {
        ctx.notify(class::SET, "sadd", dst);
        ctx.dirty(1);
    }
    out.int(1);
}

//! Consumer groups: XGROUP CREATE|SETID|DESTROY|CREATECONSUMER|DELCONSUMER, XACK, XPENDING,
//! XCLAIM, XAUTOCLAIM. Argument checks run in Redis's order, so the same malformed call gets
//! the same error; consumers are created exactly when Redis creates them (XCLAIM and
//! XAUTOCLAIM only once they claim something).

use super::{
    create_stream, cstr, nogroup_for_key, nogroup_key_or_group, now_ms, parse_id, parse_range_end, parse_range_start,
    parse_strict_id, read_stream, subcommand_syntax_error, word_is, write_entry, write_id, write_stream,
};
use crate::command::args::parse_i64;
use crate::command::spec::DataCtx;
use crate::error;
use crate::resp::Out;
use crate::store::events::class;
use crate::store::types::stream::{CountUpdate, StreamId, StreamValue, INVALID_ENTRIES_READ};

const ERR_ENTRIESREAD: &str = "ERR value for ENTRIESREAD must be positive or -1";
const ERR_KEY_REQUIRED: &str = "ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want to use the MKSTREAM option to create an empty stream automatically.";

/// An ENTRIESREAD value: an integer, not negative unless -1 (unknown).
fn parse_entries_read(a: &[u8]) -> Result<i64, &'static str> {
    match parse_i64(a)? {
        n if n < 0 && n != INVALID_ENTRIES_READ => Err(ERR_ENTRIESREAD),
        n => Ok(n),
    }
}

/// XGROUP CREATE|SETID|DESTROY|CREATECONSUMER|DELCONSUMER key group ... (Redis's
/// `xgroupCommand`: options, then the key, then the group, then the subcommand's own checks).
pub(super) fn xgroup(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    let sub = args[1];
    let (key, name) = (args[2], args[3]);
    let create = word_is(sub, "create");
    let setid = word_is(sub, "setid");
    let mut mkstream = false;
    let mut entries_read = INVALID_ENTRIES_READ;
    if create || setid {
        let mut i = 5;
        while i < args.len() {
            if create && word_is(args[i], "mkstream") {
                mkstream = true;
                i += 1;
            } else if word_is(args[i], "entriesread") && i + 1 < args.len() {
                match parse_entries_read(args[i + 1]) {
                    Ok(n) => entries_read = n,
                    Err(e) => return out.error(e),
                }
                i += 2;
            } else {
                return out.error(&subcommand_syntax_error(args));
            }
        }
    }
    let exists = match write_stream(ctx, key) {
        Err(e) => return out.error(e),
        Ok(s) => s.map(|s| s.group(name).is_some()),
    };
    let group_exists = match exists {
        None if create && mkstream => false,
        None => return out.error(ERR_KEY_REQUIRED),
        Some(g) => g,
    };
    if !group_exists && !create && !word_is(sub, "destroy") {
        return out.error(&nogroup_for_key(key, name));
    }
    if create {
        if args.len() > 8 {
            return out.error(&subcommand_syntax_error(args));
        }
        xgroup_create(ctx, key, name, args[4], entries_read, out);
    } else if setid {
        if args.len() != 5 && args.len() != 7 {
            return out.error(&subcommand_syntax_error(args));
        }
        let Ok(Some(s)) = write_stream(ctx, key) else { return out.error(ERR_KEY_REQUIRED) };
        let id = if cstr(args[4]) == b"$" {
            s.last_id()
        } else {
            match parse_id(args[4], 0) {
                Ok(id) => id,
                Err(e) => return out.error(e),
            }
        };
        if let Some(g) = s.group_mut(name) {
            g.last_id = id;
            g.entries_read = entries_read;
        }
        out.ok();
        ctx.dirty(1);
        ctx.notify(class::STREAM, "xgroup-setid", key);
    } else if word_is(sub, "destroy") {
        let destroyed = stream_of(ctx, key).is_some_and(|s| s.destroy_group(name));
        out.int(destroyed as i64);
        if destroyed {
            ctx.dirty(1);
            ctx.notify(class::STREAM, "xgroup-destroy", key);
        }
    } else if word_is(sub, "createconsumer") {
        let now = now_ms(ctx);
        let created = match write_stream(ctx, key) {
            Ok(Some(s)) => s.group_mut(name).is_some_and(|g| g.create_consumer(args[4], now)),
            _ => false,
        };
        out.int(created as i64);
        if created {
            ctx.dirty(1);
            ctx.notify(class::STREAM, "xgroup-createconsumer", key);
        }
    } else {
        // DELCONSUMER: the reply is how many entries the consumer still had pending.
        let pending = match write_stream(ctx, key) {
            Ok(Some(s)) => s.group_mut(name).and_then(|g| g.delete_consumer(args[4])),
            _ => None,
        };
        out.int(pending.unwrap_or(0) as i64);
        if pending.is_some() {
            ctx.dirty(1);
            ctx.notify(class::STREAM, "xgroup-delconsumer", key);
        }
    }
}

fn xgroup_create(ctx: &mut DataCtx, key: &[u8], name: &[u8], id_arg: &[u8], entries_read: i64, out: &mut Out) {
    let last = match write_stream(ctx, key) {
        Ok(Some(s)) => Some(s.last_id()),
        _ => None,
    };
    let id = if cstr(id_arg) == b"$" {
        last.unwrap_or(StreamId::MIN)
    } else {
        match parse_strict_id(id_arg, 0) {
            Ok(id) => id,
            Err(e) => return out.error(e),
        }
    };
    if last.is_none() {
        // MKSTREAM: the command can no longer fail.
        create_stream(ctx, key);
    }
    let created = stream_of(ctx, key).is_some_and(|s| s.create_group(name, id, entries_read));
    if created {
        out.ok();
        ctx.dirty(1);
        ctx.notify(class::STREAM, "xgroup-create", key);
    } else {
        out.error("BUSYGROUP Consumer Group name already exists");
    }
}

/// XACK key group id [id ...]
pub(super) fn xack(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    let (key, name) = (args[1], args[2]);
    match read_stream(ctx, key) {
        Err(e) => return out.error(e),
        Ok(Some(s)) if s.group(name).is_some() => {}
        // No key or no group: nothing to acknowledge, whatever the IDs.
        Ok(_) => return out.int(0),
    }
    let mut ids = Vec::with_capacity(args.len() - 3);
    for a in &args[3..] {
        match parse_strict_id(a, 0) {
            Ok(id) => ids.push(id),
            Err(e) => return out.error(e),
        }
    }
    let acked = match write_stream(ctx, key) {
        Ok(Some(s)) => s.group_mut(name).map_or(0, |g| ids.iter().filter(|&&id| g.ack(id)).count()),
        _ => 0,
    };
    ctx.dirty(acked as u64);
    out.int(acked as i64);
}

/// XPENDING key group [[IDLE min-idle-time] start end count [consumer]]
pub(super) fn xpending(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    let argc = args.len();
    if argc != 3 && !(6..=9).contains(&argc) {
        return out.error(error::SYNTAX);
    }
    let mut range = None;
    let mut min_idle: i64 = 0;
    if argc >= 6 {
        let mut at = 3;
        if word_is(args[3], "idle") {
            match parse_i64(args[4]) {
                Ok(n) => min_idle = n,
                Err(e) => return out.error(e),
            }
            if argc < 8 {
                return out.error(error::SYNTAX);
            }
            at += 2;
        }
        let count = match parse_i64(args[at + 2]) {
            Ok(n) => n.max(0) as usize,
            Err(e) => return out.error(e),
        };
        let start = match parse_range_start(args[at]) {
            Ok(id) => id,
            Err(e) => return out.error(e),
        };
        let end = match parse_range_end(args[at + 1]) {
            Ok(id) => id,
            Err(e) => return out.error(e),
        };
        range = Some((start, end, count, args.get(at + 3).copied()));
    }
    let (key, name) = (args[1], args[2]);
    let now = now_ms(ctx);
    let s = match read_stream(ctx, key) {
        Err(e) => return out.error(e),
        Ok(s) => s,
    };
    let Some(g) = s.and_then(|s| s.group(name)) else {
        return out.error(&nogroup_key_or_group(key, name, ""));
    };
    let Some((start, end, count, consumer)) = range else {
        // The summary: how many, the smallest and largest IDs, and per consumer how many.
        out.array(4);
        out.int(g.pel().len() as i64);
        match (g.pel().keys().next(), g.pel().keys().next_back()) {
            (Some(&lo), Some(&hi)) => {
                write_id(out, lo);
                write_id(out, hi);
                let owners: Vec<_> = g.consumers().iter().filter(|(_, c)| !c.pending().is_empty()).collect();
                out.array(owners.len());
                for (name, c) in owners {
                    out.array(2);
                    out.bulk(name);
                    out.bulk_int(c.pending().len() as i64);
                }
            }
            _ => {
                out.null();
                out.null();
                out.null_array();
            }
        }
        return;
    };
    let ids: Vec<StreamId> = match consumer {
        Some(c) => match g.consumer(c) {
            Some(c) => c.pending().range(start..).take_while(|&&id| id <= end).copied().collect(),
            None => return out.array(0),
        },
        None => g.pel().range(start..).take_while(|(&id, _)| id <= end).map(|(&id, _)| id).collect(),
    };
    let mut rows = Vec::new();
    for id in ids {
        if rows.len() == count {
            break;
        }
        let Some(p) = g.pel().get(&id) else { continue };
        let idle = now.wrapping_sub(p.delivery_time_ms);
        if min_idle != 0 && idle < min_idle {
            continue;
        }
        rows.push((id, p));
    }
    out.array(rows.len());
    for (id, p) in rows {
        out.array(4);
        write_id(out, id);
        out.bulk(&p.consumer);
        out.int(now.wrapping_sub(p.delivery_time_ms).max(0));
        out.int(p.delivery_count as i64);
    }
}

/// The stream and group of XCLAIM/XAUTOCLAIM, or the error reply: WRONGTYPE, or NOGROUP when
/// the key or the group is missing.
fn claim_target(ctx: &mut DataCtx, key: &[u8], name: &[u8]) -> Result<(), String> {
    match read_stream(ctx, key)? {
        Some(s) if s.group(name).is_some() => Ok(()),
        _ => Err(nogroup_key_or_group(key, name, "")),
    }
}

fn stream_of<'a>(ctx: &'a mut DataCtx, key: &[u8]) -> Option<&'a mut StreamValue> {
    write_stream(ctx, key).ok().flatten()
}

/// Gives `consumer` ownership of pending `id`, creating the consumer on first use (with its
/// keyspace event) and refreshing its seen time once per command.
fn ensure_consumer(ctx: &mut DataCtx, key: &[u8], name: &[u8], consumer: &[u8], looked_up: &mut bool) {
    if *looked_up {
        return;
    }
    *looked_up = true;
    let now = now_ms(ctx);
    let created = stream_of(ctx, key)
        .and_then(|s| s.group_mut(name))
        .is_some_and(|g| !g.touch_consumer(consumer, now) && g.create_consumer(consumer, now));
    if created {
        ctx.dirty(1);
        ctx.notify(class::STREAM, "xgroup-createconsumer", key);
    }
}

/// XCLAIM key group consumer min-idle-time id [id ...] [IDLE ms] [TIME unix-time-ms]
/// [RETRYCOUNT count] [FORCE] [JUSTID] [LASTID lastid]
pub(super) fn xclaim(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    let (key, name, consumer) = (args[1], args[2], args[3]);
    if let Err(e) = claim_target(ctx, key, name) {
        return out.error(&e);
    }
    let min_idle = match parse_i64(args[4]) {
        Ok(n) => n.max(0),
        Err(_) => return out.error("ERR Invalid min-idle-time argument for XCLAIM"),
    };
    // IDs come first; the first argument that is not one starts the options.
    let mut ids = Vec::new();
    let mut j = 5;
    while let Some(id) = args.get(j).and_then(|a| parse_strict_id(a, 0).ok()) {
        ids.push(id);
        j += 1;
    }
    let now = now_ms(ctx);
    let (mut force, mut justid) = (false, false);
    let mut delivery: Option<i64> = None;
    let mut retry: i64 = -1;
    let mut last_id = StreamId::MIN;
    while j < args.len() {
        let more = args.len() - 1 - j;
        let opt = args[j];
        let num =
            |a: &[u8], what: &str| parse_i64(a).map_err(|_| format!("ERR Invalid {what} option argument for XCLAIM"));
        let r = if word_is(opt, "force") {
            force = true;
            Ok(())
        } else if word_is(opt, "justid") {
            justid = true;
            Ok(())
        } else if word_is(opt, "idle") && more > 0 {
            j += 1;
            num(args[j], "IDLE").map(|idle| delivery = Some(now.wrapping_sub(idle)))
        } else if word_is(opt, "time") && more > 0 {
            j += 1;
            num(args[j], "TIME").map(|t| delivery = Some(t))
        } else if word_is(opt, "retrycount") && more > 0 {
            j += 1;
            num(args[j], "RETRYCOUNT").map(|n| retry = n)
        } else if word_is(opt, "lastid") && more > 0 {
            j += 1;
            parse_strict_id(args[j], 0).map(|id| last_id = id).map_err(String::from)
        } else {
            Err(format!("ERR Unrecognized XCLAIM option '{}'", String::from_utf8_lossy(cstr(opt))))
        };
        if let Err(e) = r {
            return out.error(&e);
        }
        j += 1;
    }
    let mut lastid_moved = false;
    if let Some(g) = stream_of(ctx, key).and_then(|s| s.group_mut(name)) {
        if last_id > g.last_id {
            g.last_id = last_id;
            lastid_moved = true;
        }
    }
    // A bogus delivery time (negative, or in the future) means now.
    let delivery = delivery.filter(|&t| (0..=now).contains(&t)).unwrap_or(now);
    let count = match retry {
        n if n >= 0 => CountUpdate::Set(n as u64),
        _ if justid => CountUpdate::Keep,
        _ => CountUpdate::Increment,
    };
    let mut body = Vec::new();
    let mut b = Out::new(&mut body, out.resp3);
    let mut claimed = 0;
    let mut changes = 0;
    let mut looked_up = false;
    for id in ids {
        let Some(s) = stream_of(ctx, key) else { break };
        let exists = s.get(id).is_some();
        let Some(g) = s.group_mut(name) else { break };
        let pending = g.pel().get(&id).map(|p| p.delivery_time_ms);
        if !exists {
            // The entry is gone from the stream: drop it from the PEL instead.
            if g.forget(id) {
                changes += 1;
            }
            continue;
        }
        match pending {
            None if !force => continue,
            Some(t) if min_idle != 0 && now.wrapping_sub(t) < min_idle => continue,
            _ => {}
        }
        ensure_consumer(ctx, key, name, consumer, &mut looked_up);
        let Some(s) = stream_of(ctx, key) else { break };
        if let Some(g) = s.group_mut(name) {
            g.claim(id, consumer, delivery, count);
        }
        if justid {
            write_id(&mut b, id);
        } else {
            match s.get(id) {
                Some(e) => write_entry(&mut b, &e),
                None => b.null(),
            }
        }
        claimed += 1;
        changes += 1;
    }
    if changes == 0 && lastid_moved {
        changes = 1;
    }
    ctx.dirty(changes);
    out.array(claimed);
    out.raw(&body);
}

/// XAUTOCLAIM key group consumer min-idle-time start [COUNT count] [JUSTID]
pub(super) fn xautoclaim(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    let (key, name, consumer) = (args[1], args[2], args[3]);
    let min_idle = match parse_i64(args[4]) {
        Ok(n) => n.max(0),
        Err(_) => return out.error("ERR Invalid min-idle-time argument for XAUTOCLAIM"),
    };
    let start = match parse_range_start(args[5]) {
        Ok(id) => id,
        Err(e) => return out.error(e),
    };
    // Redis caps COUNT so that its scratch arrays can be sized from it.
    const MAX_COUNT: i64 = i64::MAX / 16;
    let mut count: i64 = 100;
    let mut justid = false;
    let mut j = 6;
    while j < args.len() {
        let more = args.len() - 1 - j;
        if word_is(args[j], "count") && more > 0 {
            match parse_i64(args[j + 1]) {
                Ok(n) if (1..=MAX_COUNT).contains(&n) => count = n,
                _ => return out.error("ERR COUNT must be > 0"),
            }
            j += 1;
        } else if word_is(args[j], "justid") {
            justid = true;
        } else {
            return out.error(error::SYNTAX);
        }
        j += 1;
    }
    if let Err(e) = claim_target(ctx, key, name) {
        return out.error(&e);
    }
    // Redis allocates count IDs' worth of memory up front and fails when the allocator
    // refuses; with a 48-bit address space that happens past about 2^47 bytes.
    if count > (1i64 << 43) - (1 << 38) {
        return out.error("ERR Insufficient memory, failed allocating transient memory, COUNT too high.");
    }
    let now = now_ms(ctx);
    let mut attempts = count.saturating_mul(10);
    let mut left = count;
    let mut cursor = Some(start);
    let mut deleted_ids = Vec::new();
    let mut body = Vec::new();
    let mut b = Out::new(&mut body, out.resp3);
    let mut claimed = 0;
    let mut changes = 0;
    let mut looked_up = false;
    while attempts > 0 && left > 0 {
        attempts -= 1;
        let Some(from) = cursor else { break };
        let Some(s) = stream_of(ctx, key) else { break };
        let Some(id) = s.group(name).and_then(|g| g.pel().range(from..).next().map(|(&id, _)| id)) else {
            cursor = None;
            break;
        };
        cursor = id.incr();
        let exists = s.get(id).is_some();
        let Some(g) = s.group_mut(name) else { break };
        if !exists {
            g.forget(id);
            deleted_ids.push(id);
            changes += 1;
            left -= 1;
            continue;
        }
        let idle_ok =
            g.pel().get(&id).is_some_and(|p| min_idle == 0 || now.wrapping_sub(p.delivery_time_ms) >= min_idle);
        if !idle_ok {
            continue;
        }
        ensure_consumer(ctx, key, name, consumer, &mut looked_up);
        let Some(s) = stream_of(ctx, key) else { break };
        if let Some(g) = s.group_mut(name) {
            g.claim(id, consumer, now, if justid { CountUpdate::Keep } else { CountUpdate::Increment });
        }
        if justid {
            write_id(&mut b, id);
        } else if let Some(e) = s.get(id) {
            write_entry(&mut b, &e);
        }
        claimed += 1;
        changes += 1;
        left -= 1;
    }
    // The cursor for the next call: the next pending ID after the last one examined.
    let next = cursor.and_then(|from| {
        stream_of(ctx, key).and_then(|s| s.group(name)).and_then(|g| g.pel().range(from..).next().map(|(&id, _)| id))
    });
    ctx.dirty(changes);
    out.array(3);
    write_id(out, next.unwrap_or(StreamId::MIN));
    out.array(claimed);
    out.raw(&body);
    out.array(deleted_ids.len());
    for id in deleted_ids {
        write_id(out, id);
    }
}

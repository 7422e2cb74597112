//! Whole-value string commands: GET SET SETNX SETEX PSETEX GETSET GETDEL GETEX MGET MSET
//! MSETNX. Each follows its Redis 7.0 counterpart in `t_string.c` step by step, including the
//! order of checks (which error wins when several apply).

use super::{expire_deadline_ms, lookup_read, lookup_write, new_entry, opt, parse_ext_opts, Found};
use crate::command::family::insert_key;
use crate::command::spec::DataCtx;
use crate::error;
use crate::resp::Out;
use crate::store::events::class;
use crate::store::keyspace::NO_EXPIRE;
use crate::store::{Entry, StrValue, Value};

/// Replies to a read of `key` as Redis's `getGenericCommand`: the value, null when missing.
/// Returns false (after replying WRONGTYPE) when the key holds another type.
fn reply_get(ctx: &mut DataCtx, key: &[u8], out: &mut Out) -> bool {
    match lookup_read(ctx, key) {
        Found::Missing => out.null(),
        Found::WrongType => {
            out.error(error::WRONGTYPE);
            return false;
        }
        Found::Str(s) => {
            let mut tmp = [0u8; 24];
            out.bulk(s.as_bytes(&mut tmp));
        }
    }
    true
}

fn string_entry(ctx: &DataCtx, val: &[u8], expire_at_ms: u64) -> Entry {
    new_entry(ctx, Value::Str(StrValue::from_bytes(val)), expire_at_ms)
}

/// What SET-like commands reply when they set, and when NX/XX made them skip.
#[derive(Clone, Copy)]
enum SetReplies {
    /// `+OK` / null (SET, SETEX, PSETEX).
    OkNull,
    /// `:1` / `:0` (SETNX).
    OneZero,
}

/// What SET does once it has looked at the old key.
enum SetStep {
    /// NX or XX said no.
    Skip,
    /// Overwritten in place (same deadline, so the TTL index is unchanged).
    Done,
    /// Store a new entry with this deadline.
    Insert(u64),
}

/// Redis's `setGenericCommand`. `deadline_ms` is already validated; `flags` are `opt::*`.
fn set_generic(
    ctx: &mut DataCtx,
    flags: u16,
    key: &[u8],
    val: &[u8],
    deadline_ms: Option<u64>,
    replies: SetReplies,
    out: &mut Out,
) {
    let with_get = flags & opt::GET != 0;
    if with_get && !reply_get(ctx, key, out) {
        return;
    }
    let outcome = match lookup_write(ctx, key) {
        Some(_) if flags & opt::NX != 0 => SetStep::Skip,
        None if flags & opt::XX != 0 => SetStep::Skip,
        None => SetStep::Insert(deadline_ms.unwrap_or(NO_EXPIRE)),
        Some(e) => {
            let keep = if flags & opt::KEEPTTL != 0 { e.expire_at_ms } else { NO_EXPIRE };
            let deadline_ms = deadline_ms.unwrap_or(keep);
            if e.expire_at_ms == deadline_ms {
                // Same deadline: overwrite in place, the TTL index stays as it is.
                e.value = Value::Str(StrValue::from_bytes(val));
                SetStep::Done
            } else {
                SetStep::Insert(deadline_ms)
            }
        }
    };
    match outcome {
        SetStep::Skip => {
            if !with_get {
                match replies {
                    SetReplies::OkNull => out.null(),
                    SetReplies::OneZero => out.int(0),
                }
            }
            return;
        }
        SetStep::Done => {}
        SetStep::Insert(deadline_ms) => {
            let e = string_entry(ctx, val, deadline_ms);
            insert_key(ctx, key, e);
        }
    }
    ctx.notify(class::STRING, "set", key);
    if deadline_ms.is_some() {
        ctx.notify(class::GENERIC, "expire", key);
    }
    ctx.dirty(1);
    if !with_get {
        match replies {
            SetReplies::OkNull => out.ok(),
            SetReplies::OneZero => out.int(1),
        }
    }
}

pub fn get(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    reply_get(ctx, args[1], out);
}

/// SET key value [NX|XX] [GET] [EX s|PX ms|EXAT ts|PXAT ms-ts|KEEPTTL]
pub fn set(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    let opts = match parse_ext_opts(&args[3..], true) {
        Ok(o) => o,
        Err(e) => return out.error(e),
    };
    let deadline_ms = match opts.expire {
        None => None,
        Some(raw) => match expire_deadline_ms(raw, opts.flags, ctx.now_ms, "set") {
            Ok(d) => Some(d),
            Err(e) => return out.error(&e),
        },
    };
    set_generic(ctx, opts.flags, args[1], args[2], deadline_ms, SetReplies::OkNull, out);
}

pub fn setnx(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    set_generic(ctx, opt::NX, args[1], args[2], None, SetReplies::OneZero, out);
}

/// SETEX and PSETEX: SET with a mandatory relative expiry.
fn set_with_ttl(ctx: &mut DataCtx, args: &[&[u8]], kind: u16, cmd: &str, out: &mut Out) {
    match expire_deadline_ms(args[2], kind, ctx.now_ms, cmd) {
        Ok(d) => set_generic(ctx, kind, args[1], args[3], Some(d), SetReplies::OkNull, out),
        Err(e) => out.error(&e),
    }
}

pub fn setex(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    set_with_ttl(ctx, args, opt::EX, "setex", out);
}

pub fn psetex(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    set_with_ttl(ctx, args, opt::PX, "psetex", out);
}

pub fn getset(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    if !reply_get(ctx, args[1], out) {
        return;
    }
    // Like SET: the new value drops any TTL.
    let e = string_entry(ctx, args[2], NO_EXPIRE);
    insert_key(ctx, args[1], e);
    ctx.notify(class::STRING, "set", args[1]);
    ctx.dirty(1);
}

pub fn getdel(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    if !reply_get(ctx, args[1], out) {
        return;
    }
    if ctx.db().remove(args[1]).is_some() {
        ctx.notify(class::GENERIC, "del", args[1]);
        ctx.dirty(1);
    }
}

/// GETEX key [EX s|PX ms|EXAT ts|PXAT ms-ts|PERSIST]. Redis validates the expire value only
/// once it knows the key exists and is a string, so `GETEX missing EX junk` is a null.
pub fn getex(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    let key = args[1];
    let opts = match parse_ext_opts(&args[2..], false) {
        Ok(o) => o,
        Err(e) => return out.error(e),
    };
    let had_ttl = match lookup_read(ctx, key) {
        Found::Missing => return out.null(),
        Found::WrongType => return out.error(error::WRONGTYPE),
        Found::Str(_) => ctx.db().peek(key).is_some_and(|e| e.expire_at_ms != NO_EXPIRE),
    };
    let deadline_ms = match opts.expire {
        None => None,
        Some(raw) => match expire_deadline_ms(raw, opts.flags, ctx.now_ms, "getex") {
            Ok(d) => Some(d),
            Err(e) => return out.error(&e),
        },
    };
    // Reply before the key may be deleted below.
    if let Found::Str(s) = lookup_read_uncounted(ctx, key) {
        let mut tmp = [0u8; 24];
        out.bulk(s.as_bytes(&mut tmp));
    }
    let absolute = opts.flags & (opt::EXAT | opt::PXAT) != 0;
    match deadline_ms {
        Some(d) if absolute && d <= ctx.now_ms => {
            // A timestamp already in the past deletes the key, as Redis does.
            ctx.db().remove(key);
            ctx.notify(class::GENERIC, "del", key);
            ctx.dirty(1);
        }
        Some(d) => {
            ctx.db().set_expire(key, d);
            ctx.notify(class::GENERIC, "expire", key);
            ctx.dirty(1);
        }
        None if opts.flags & opt::PERSIST != 0 && had_ttl => {
            ctx.db().set_expire(key, NO_EXPIRE);
            ctx.notify(class::GENERIC, "persist", key);
            ctx.dirty(1);
        }
        None => {}
    }
}

/// The string at `key` for a second look within one command (no hit counted twice).
fn lookup_read_uncounted<'a>(ctx: &'a mut DataCtx, key: &[u8]) -> Found<'a> {
    match ctx.db().peek(key).map(|e| super::str_of(&e.value)) {
        None => Found::Missing,
        Some(None) => Found::WrongType,
        Some(Some(s)) => Found::Str(s),
    }
}

/// MGET: a key that is missing or of another type is a null, never an error.
pub fn mget(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    out.array(args.len() - 1);
    for key in &args[1..] {
        match lookup_read(ctx, key) {
            Found::Str(s) => {
                let mut tmp = [0u8; 24];
                out.bulk(s.as_bytes(&mut tmp));
            }
            Found::Missing | Found::WrongType => out.null(),
        }
    }
}

fn mset_generic(ctx: &mut DataCtx, args: &[&[u8]], nx: bool, out: &mut Out) {
    if args.len().is_multiple_of(2) {
        return out.error(&error::wrong_arity(if nx { b"msetnx" } else { b"mset" }));
    }
    if nx && args[1..].chunks_exact(2).any(|kv| lookup_write(ctx, kv[0]).is_some()) {
        return out.int(0);
    }
    for kv in args[1..].chunks_exact(2) {
        let e = string_entry(ctx, kv[1], NO_EXPIRE);
        insert_key(ctx, kv[0], e);
        ctx.notify(class::STRING, "set", kv[0]);
    }
    ctx.dirty(((args.len() - 1) / 2) as u64);
    if nx {
        out.int(1)
    } else {
        out.ok()
    }
}

pub fn mset(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    mset_generic(ctx, args, false, out);
}

pub fn msetnx(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    mset_generic(ctx, args, true, out);
}

//! XADD XTRIM XDEL XSETID: the commands that add, remove and renumber entries. XADD and XTRIM
//! share their option parser (`parse_add_trim`), which checks options in Redis's order.

use super::{create_stream, cstr, parse_strict_id, parse_xadd_id, word_is, write_id, write_stream, ERR_NO_SUCH_KEY};
use crate::command::args::parse_i64;
use crate::command::spec::DataCtx;
use crate::error;
use crate::resp::Out;
use crate::store::events::class;
use crate::store::types::stream::{AppendError, IdRequest, NodeLimits, StreamId, Trim};

const ERR_MAXLEN_MINID: &str = "ERR syntax error, MAXLEN and MINID options at the same time are not compatible";
const ERR_MAXLEN_NEGATIVE: &str = "ERR The MAXLEN argument must be >= 0.";
const ERR_LIMIT_NEGATIVE: &str = "ERR The LIMIT argument must be >= 0.";
const ERR_LIMIT_NO_STRATEGY: &str = "ERR syntax error, LIMIT cannot be used without specifying a trimming strategy";
const ERR_XTRIM_NO_STRATEGY: &str = "ERR syntax error, XTRIM must be called with a trimming strategy";
const ERR_LIMIT_NO_TILDE: &str = "ERR syntax error, LIMIT cannot be used without the special ~ option";
const ERR_ID_ZERO: &str = "ERR The ID specified in XADD must be greater than 0-0";
const ERR_ID_SMALL: &str = "ERR The ID specified in XADD is equal or smaller than the target stream top item";
const ERR_EXHAUSTED: &str = "ERR The stream has exhausted the last possible ID, unable to add more items";
const ERR_TOO_LARGE: &str = "ERR Elements are too large to be stored";

/// The options of XADD and XTRIM.
struct AddTrimArgs {
    trim: Option<Trim>,
    approx: bool,
    /// Entries that whole-node trimming may remove at most (0 = no limit).
    limit: u64,
    /// XADD: the ID argument (None for `*`) and NOMKSTREAM.
    id: Option<super::ParsedId>,
    no_mkstream: bool,
    /// XADD: where the ID argument is.
    id_at: usize,
}

/// Redis's `streamParseAddOrTrimArgsOrReply`.
fn parse_add_trim(args: &[&[u8]], xadd: bool, max_entries: u64) -> Result<AddTrimArgs, &'static str> {
    let mut a = AddTrimArgs { trim: None, approx: false, limit: 0, id: None, no_mkstream: false, id_at: 0 };
    let mut limit: i64 = 0;
    let mut limit_given = false;
    let mut i = 2;
    while i < args.len() {
        let more = args.len() - 1 - i;
        let opt = args[i];
        if xadd && cstr(opt) == b"*" {
            break;
        } else if (word_is(opt, "maxlen") || word_is(opt, "minid")) && more > 0 {
            if a.trim.is_some() {
                return Err(ERR_MAXLEN_MINID);
            }
            a.approx = false;
            let next = cstr(args[i + 1]);
            if more >= 2 && next == b"~" {
                a.approx = true;
                i += 1;
            } else if more >= 2 && next == b"=" {
                i += 1;
            }
            let value = args.get(i + 1).copied().unwrap_or(b"");
            a.trim = Some(if word_is(opt, "maxlen") {
                let n = parse_i64(value)?;
                Trim::MaxLen(u64::try_from(n).map_err(|_| ERR_MAXLEN_NEGATIVE)?)
            } else {
                Trim::MinId(parse_strict_id(value, 0)?)
            });
            i += 1;
        } else if word_is(opt, "limit") && more > 0 {
            limit = parse_i64(args[i + 1])?;
            if limit < 0 {
                return Err(ERR_LIMIT_NEGATIVE);
            }
            limit_given = true;
            i += 1;
        } else if xadd && word_is(opt, "nomkstream") {
            a.no_mkstream = true;
        } else if xadd {
            a.id = Some(parse_xadd_id(opt)?);
            break;
        } else {
            return Err(error::SYNTAX);
        }
        i += 1;
    }
    a.id_at = i;
    if limit != 0 && a.trim.is_none() {
        return Err(ERR_LIMIT_NO_STRATEGY);
    }
    if !xadd && a.trim.is_none() {
        return Err(ERR_XTRIM_NO_STRATEGY);
    }
    if limit_given {
        if !a.approx {
            return Err(ERR_LIMIT_NO_TILDE);
        }
        a.limit = limit as u64;
    } else if a.approx {
        // Without LIMIT, `~` trims at most 100 nodes' worth of entries per call.
        a.limit = match max_entries.checked_mul(100) {
            Some(n) if n > 0 && n <= 10_000 => n,
            _ => 10_000,
        };
    }
    Ok(a)
}

/// XADD key [NOMKSTREAM] [MAXLEN|MINID [=|~] threshold [LIMIT count]] *|id field value ...
pub(super) fn xadd(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    let limits = NodeLimits::from_config(ctx.cfg);
    let a = match parse_add_trim(args, true, limits.max_entries) {
        Ok(a) => a,
        Err(e) => return out.error(e),
    };
    let fields_at = a.id_at + 1;
    if args.len() < fields_at + 2 || (args.len() - fields_at) % 2 == 1 {
        return out.error(&error::wrong_arity(b"xadd"));
    }
    if let Some(p) = a.id {
        if p.seq_given && p.id.is_zero() {
            return out.error(ERR_ID_ZERO);
        }
    }
    let key = args[1];
    match write_stream(ctx, key) {
        Err(e) => return out.error(e),
        Ok(None) if a.no_mkstream => return out.null(),
        Ok(None) => create_stream(ctx, key),
        Ok(Some(_)) => {}
    }
    let now_ms = ctx.now_ms;
    let Ok(Some(s)) = write_stream(ctx, key) else {
        debug_assert!(false, "stream vanished after creation");
        return out.null();
    };
    if s.last_id() == StreamId::MAX {
        return out.error(ERR_EXHAUSTED);
    }
    let req = match a.id {
        None => IdRequest::Auto,
        Some(p) if p.seq_given => IdRequest::Exact(p.id),
        Some(p) => IdRequest::AutoSeq(p.id.ms),
    };
    let id = match s.append(&args[fields_at..], req, now_ms, limits) {
        Ok(id) => id,
        Err(AppendError::NotGreater) => return out.error(ERR_ID_SMALL),
        Err(AppendError::TooLarge) => return out.error(ERR_TOO_LARGE),
    };
    let trimmed = a.trim.map_or(0, |t| s.trim(t, a.approx, a.limit));
    write_id(out, id);
    ctx.notify(class::STREAM, "xadd", key);
    ctx.dirty(1);
    if trimmed > 0 {
        ctx.notify(class::STREAM, "xtrim", key);
    }
}

/// XTRIM key MAXLEN|MINID [=|~] threshold [LIMIT count]
pub(super) fn xtrim(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    let a = match parse_add_trim(args, false, ctx.cfg.stream_node_max_entries) {
        Ok(a) => a,
        Err(e) => return out.error(e),
    };
    let key = args[1];
    let deleted = match write_stream(ctx, key) {
        Err(e) => return out.error(e),
        Ok(None) => 0,
        Ok(Some(s)) => a.trim.map_or(0, |t| s.trim(t, a.approx, a.limit)),
    };
    if deleted > 0 {
        ctx.notify(class::STREAM, "xtrim", key);
        ctx.dirty(deleted);
    }
    out.int(deleted as i64);
}

/// XDEL key id [id ...]
pub(super) fn xdel(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    let key = args[1];
    match write_stream(ctx, key) {
        Err(e) => return out.error(e),
        Ok(None) => return out.int(0),
        Ok(Some(_)) => {}
    }
    // Every ID is checked before anything is deleted: the command is all or nothing.
    let mut ids = Vec::with_capacity(args.len() - 2);
    for a in &args[2..] {
        match parse_strict_id(a, 0) {
            Ok(id) => ids.push(id),
            Err(e) => return out.error(e),
        }
    }
    let deleted = match write_stream(ctx, key) {
        Ok(Some(s)) => s.delete_ids(&ids),
        _ => 0,
    };
    if deleted > 0 {
        ctx.notify(class::STREAM, "xdel", key);
        ctx.dirty(deleted);
    }
    out.int(deleted as i64);
}

/// XSETID key last-id [ENTRIESADDED entries-added] [MAXDELETEDID max-deleted-id]
pub(super) fn xsetid(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    let id = match parse_strict_id(args[2], 0) {
        Ok(id) => id,
        Err(e) => return out.error(e),
    };
    let mut entries_added: Option<u64> = None;
    let mut max_deleted = StreamId::MIN;
    let mut i = 3;
    while i < args.len() {
        let more = args.len() - 1 - i;
        if word_is(args[i], "entriesadded") && more > 0 {
            match parse_i64(args[i + 1]) {
                Err(e) => return out.error(e),
                Ok(n) if n < 0 => return out.error("ERR entries_added must be positive"),
                Ok(n) => entries_added = Some(n as u64),
            }
        } else if word_is(args[i], "maxdeletedid") && more > 0 {
            match parse_strict_id(args[i + 1], 0) {
                Err(e) => return out.error(e),
                Ok(m) if id < m => {
                    return out
                        .error("ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id")
                }
                Ok(m) => max_deleted = m,
            }
        } else {
            return out.error(error::SYNTAX);
        }
        i += 2;
    }
    let key = args[1];
    let s = match write_stream(ctx, key) {
        Err(e) => return out.error(e),
        Ok(None) => return out.error(ERR_NO_SUCH_KEY),
        Ok(Some(s)) => s,
    };
    if !s.is_empty() {
        if s.last_live_id().is_some_and(|top| id < top) {
            return out.error("ERR The ID specified in XSETID is smaller than the target stream top item");
        }
        if entries_added.is_some_and(|n| (s.len() as u64) > n) {
            return out.error("ERR The entries_added specified in XSETID is smaller than the target stream length");
        }
    }
    s.set_last_id(id);
    if let Some(n) = entries_added {
        s.set_entries_added(n);
    }
    if !max_deleted.is_zero() {
        s.set_max_deleted_entry_id(max_deleted);
    }
    out.ok();
    ctx.dirty(1);
    ctx.notify(class::STREAM, "xsetid", key);
}

//! Editing lists in place: LSET LINSERT LREM LTRIM. Each deletes the key when it leaves the
//! list empty and counts changes for save points as Redis does.

use super::{check_element_sizes, clamp_range, delete_if_empty, list_write, resolve_index, word_is};
use crate::command::args::parse_i64;
use crate::command::spec::DataCtx;
use crate::error;
use crate::resp::Out;
use crate::store::events::class;

/// LSET: the key is looked up (`ERR no such key`) before the index is parsed.
pub fn lset(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    if let Err(e) = check_element_sizes(&args[3..]) {
        return out.error(e);
    }
    let list = match list_write(ctx, args[1]) {
        Err(e) => return out.error(e),
        Ok(None) => return out.error(error::NO_SUCH_KEY),
        Ok(Some(l)) => l,
    };
    let index = match parse_i64(args[2]) {
        Ok(i) => i,
        Err(e) => return out.error(e),
    };
    match resolve_index(index, list.len()) {
        Some(i) if list.set(i, args[3]) => {
            ctx.notify(class::LIST, "lset", args[1]);
            ctx.dirty(1);
            out.ok()
        }
        _ => out.error("ERR index out of range"),
    }
}

/// LINSERT key BEFORE|AFTER pivot element: the direction word is checked first, then the
/// first element equal to `pivot` (from the head) is looked for.
pub fn linsert(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    if let Err(e) = check_element_sizes(&args[4..]) {
        return out.error(e);
    }
    let after = if word_is(args[2], "after") {
        true
    } else if word_is(args[2], "before") {
        false
    } else {
        return out.error(error::SYNTAX);
    };
    let list = match list_write(ctx, args[1]) {
        Err(e) => return out.error(e),
        Ok(None) => return out.int(0),
        Ok(Some(l)) => l,
    };
    let Some(at) = list.iter().position(|v| v == args[3]) else {
        return out.int(-1);
    };
    list.insert(at + after as usize, args[4]);
    let len = list.len();
    ctx.notify(class::LIST, "linsert", args[1]);
    ctx.dirty(1);
    out.int(len as i64);
}

/// LREM key count element: count > 0 removes the first `count` matches from the head, < 0
/// from the tail, 0 all of them.
pub fn lrem(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    let count = match parse_i64(args[2]) {
        Ok(c) => c,
        Err(e) => return out.error(e),
    };
    let key = args[1];
    let list = match list_write(ctx, key) {
        Err(e) => return out.error(e),
        Ok(None) => return out.int(0),
        Ok(Some(l)) => l,
    };
    let ele = args[3];
    // i64::MIN has no positive counterpart; as in Redis it removes without limit.
    let limit = if count == 0 { usize::MAX } else { usize::try_from(count.unsigned_abs()).unwrap_or(usize::MAX) };
    let len = list.len();
    let mut idx: Vec<usize> = if count >= 0 {
        list.iter().enumerate().filter(|(_, v)| *v == ele).map(|(i, _)| i).take(limit).collect()
    } else {
        list.iter_rev_from(len.saturating_sub(1))
            .enumerate()
            .filter(|(_, v)| *v == ele)
            .map(|(i, _)| len - 1 - i)
            .take(limit)
            .collect()
    };
    if count < 0 {
        idx.reverse();
    }
    if !idx.is_empty() {
        list.remove_sorted(&idx);
    }
    let empty = list.is_empty();
    if !idx.is_empty() {
        ctx.notify(class::LIST, "lrem", key);
    }
    delete_if_empty(ctx, key, empty);
    ctx.dirty(idx.len() as u64);
    out.int(idx.len() as i64);
}

/// LTRIM key start stop: keeps `[start, stop]`; an empty range deletes the key.
pub fn ltrim(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    let (start, end) = match (parse_i64(args[2]), parse_i64(args[3])) {
        (Ok(s), Ok(e)) => (s, e),
        (Err(e), _) | (_, Err(e)) => return out.error(e),
    };
    let key = args[1];
    let list = match list_write(ctx, key) {
        Err(e) => return out.error(e),
        Ok(None) => return out.ok(),
        Ok(Some(l)) => l,
    };
    let len = list.len();
    let (front, back) = match clamp_range(start, end, len) {
        None => (len, 0),
        Some((a, b)) => (a, len - b - 1),
    };
    list.trim(front, back);
    let empty = list.is_empty();
    // Raised even when nothing was trimmed, as Redis does.
    ctx.notify(class::LIST, "ltrim", key);
    delete_if_empty(ctx, key, empty);
    ctx.dirty((front + back) as u64);
    out.ok();
}

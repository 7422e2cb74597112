//! Both ends of a list: LPUSH RPUSH LPUSHX RPUSHX LPOP RPOP LMOVE RPOPLPUSH LMPOP, and the
//! non-blocking cores (`pop_from`, `pop_first_nonempty`, `move_element`) that BLPOP, BRPOP,
//! BLMOVE and BLMPOP call once they find data. Nothing here blocks or knows about clients.

use super::{
    check_element_sizes, delete_if_empty, insert_new, list_write, new_list, parse_at_least, parse_end, pop_event,
    push_event, End,
};
use crate::command::spec::DataCtx;
use crate::error;
use crate::resp::Out;
use crate::store::events::class;

pub fn lpush(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    push(ctx, args, out, End::Left, false)
}
pub fn rpush(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    push(ctx, args, out, End::Right, false)
}
pub fn lpushx(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    push(ctx, args, out, End::Left, true)
}
pub fn rpushx(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    push(ctx, args, out, End::Right, true)
}

/// Redis's `pushGenericCommand`: `only_existing` is the X variants (no list, no push).
fn push(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out, end: End, only_existing: bool) {
    let key = args[1];
    let elems = &args[2..];
    if let Err(e) = check_element_sizes(elems) {
        return out.error(e);
    }
    let len = match list_write(ctx, key) {
        Err(e) => return out.error(e),
        Ok(Some(list)) => {
            for v in elems {
                list.push(end, v);
            }
            list.len()
        }
        Ok(None) if only_existing => return out.int(0),
        Ok(None) => {
            let mut list = new_list(ctx);
            for v in elems {
                list.push(end, v);
            }
            let len = list.len();
            insert_new(ctx, key, list);
            len
        }
    };
    // LPUSHX and RPUSHX raise the same events as LPUSH and RPUSH.
    ctx.notify(class::LIST, push_event(end), key);
    ctx.dirty(elems.len() as u64);
    out.int(len as i64);
}

pub fn lpop(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    pop(ctx, args, out, End::Left)
}
pub fn rpop(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    pop(ctx, args, out, End::Right)
}

const POSITIVE: &str = "ERR value is out of range, must be positive";

/// Redis's `popGenericCommand`. Without a count the reply is one bulk (null when there is no
/// list); with one it is an array (a null array when there is no list, even for count 0).
fn pop(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out, end: End) {
    if args.len() > 3 {
        return out.error(&error::wrong_arity(args[0]));
    }
    let count = match args.get(2) {
        None => None,
        Some(a) => match parse_at_least(a, 0, POSITIVE) {
            Ok(n) => Some(n as u64),
            Err(e) => return out.error(e),
        },
    };
    let key = args[1];
    let list = match list_write(ctx, key) {
        Err(e) => return out.error(e),
        Ok(None) if count.is_some() => return out.null_array(),
        Ok(None) => return out.null(),
        Ok(Some(list)) => list,
    };
    let popped = match count {
        Some(0) => return out.array(0),
        None => {
            // Reply straight from the node, then drop the element: no copy.
            if let Some(v) = list.peek(end) {
                out.bulk(v);
            }
            list.discard(end);
            1
        }
        Some(n) => {
            let n = n.min(list.len() as u64) as usize;
            out.array(n);
            for _ in 0..n {
                if let Some(v) = list.peek(end) {
                    out.bulk(v);
                }
                list.discard(end);
            }
            n
        }
    };
    let empty = list.is_empty();
    ctx.notify(class::LIST, pop_event(end), key);
    delete_if_empty(ctx, key, empty);
    ctx.dirty(popped as u64);
}

/// Pops up to `count` (>= 1) elements from `end` of the list at `key`, in pop order. Ok(None)
/// when there is no list; Err is the WRONGTYPE reply. Deletes the key when emptied and counts
/// the changes, as Redis's `listElementsRemoved`.
pub fn pop_from(ctx: &mut DataCtx, key: &[u8], end: End, count: usize) -> Result<Option<Vec<Vec<u8>>>, &'static str> {
    let Some(list) = list_write(ctx, key)? else {
        return Ok(None);
    };
    let n = count.min(list.len());
    let mut popped = Vec::with_capacity(n);
    for _ in 0..n {
        match list.pop(end) {
            Some(v) => popped.push(v),
            None => break,
        }
    }
    let empty = list.is_empty();
    if !popped.is_empty() {
        ctx.notify(class::LIST, pop_event(end), key);
    }
    delete_if_empty(ctx, key, empty);
    ctx.dirty(popped.len() as u64);
    Ok(Some(popped))
}

/// What `pop_first_nonempty` popped: the position of the key among those given, and the
/// elements in pop order.
pub type Popped = (usize, Vec<Vec<u8>>);

/// The LMPOP / BLMPOP / BLPOP core (Redis's `mpopGenericCommand`): pops up to `count` elements
/// from the first of `keys` holding a list, returning that key's position in `keys` and the
/// elements. Missing keys are skipped; a key of another type stops the walk with WRONGTYPE,
/// even when a later key holds a list. Ok(None) when no key holds a list.
pub fn pop_first_nonempty(
    ctx: &mut DataCtx,
    keys: &[&[u8]],
    end: End,
    count: usize,
) -> Result<Option<Popped>, &'static str> {
    for (i, key) in keys.iter().enumerate() {
        if let Some(popped) = pop_from(ctx, key, end, count)? {
            if !popped.is_empty() {
                return Ok(Some((i, popped)));
            }
        }
    }
    Ok(None)
}

/// LMPOP's reply: `[key, [elements...]]` (an array in RESP3 too).
pub fn write_mpop_reply(out: &mut Out, key: &[u8], popped: &[Vec<u8>]) {
    out.array(2);
    out.bulk(key);
    out.array(popped.len());
    for v in popped {
        out.bulk(v);
    }
}

/// The LMOVE / RPOPLPUSH / BLMOVE core (Redis's `lmoveGenericCommand`): pops from `from` of
/// `src` and pushes onto `to` of `dst`, creating it. Ok(None) when `src` holds no list. The
/// destination's type is checked before anything moves, so WRONGTYPE changes nothing. With
/// `src == dst` the list rotates and is never deleted.
pub fn move_element(
    ctx: &mut DataCtx,
    src: &[u8],
    dst: &[u8],
    from: End,
    to: End,
) -> Result<Option<Vec<u8>>, &'static str> {
    if list_write(ctx, src)?.is_none() {
        return Ok(None);
    }
    let dst_exists = list_write(ctx, dst)?.is_some();
    let Some(list) = list_write(ctx, src)? else {
        return Ok(None);
    };
    let Some(v) = list.pop(from) else {
        return Ok(None);
    };
    let mut src_emptied = false;
    if src == dst {
        list.push(to, &v);
    } else {
        src_emptied = list.is_empty();
        match list_write(ctx, dst)? {
            Some(d) if dst_exists => d.push(to, &v),
            _ => {
                let mut d = new_list(ctx);
                d.push(to, &v);
                insert_new(ctx, dst, d);
            }
        }
    }
    // Redis's order: the push onto the destination (created first if new), then the pop from
    // the source and its deletion when emptied.
    ctx.notify(class::LIST, push_event(to), dst);
    ctx.notify(class::LIST, pop_event(from), src);
    delete_if_empty(ctx, src, src_emptied);
    ctx.dirty(1);
    Ok(Some(v))
}

pub fn lmove(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    let ends = parse_end(args[3]).and_then(|from| Ok((from, parse_end(args[4])?)));
    match ends {
        Ok((from, to)) => reply_move(ctx, args[1], args[2], from, to, out),
        Err(e) => out.error(e),
    }
}

pub fn rpoplpush(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    reply_move(ctx, args[1], args[2], End::Right, End::Left, out)
}

fn reply_move(ctx: &mut DataCtx, src: &[u8], dst: &[u8], from: End, to: End, out: &mut Out) {
    match move_element(ctx, src, dst, from, to) {
        Ok(v) => out.bulk_or_null(v.as_deref()),
        Err(e) => out.error(e),
    }
}

/// Parsed `numkeys key... LEFT|RIGHT [COUNT n]` of LMPOP (and BLMPOP after its timeout).
pub struct MpopArgs<'a> {
    pub keys: &'a [&'a [u8]],
    pub end: End,
    pub count: usize,
}

/// Redis's `lmpopGenericCommand` argument parsing; `rest` starts at `numkeys`.
pub fn parse_mpop_args<'a>(rest: &'a [&'a [u8]]) -> Result<MpopArgs<'a>, &'static str> {
    let numkeys = parse_at_least(rest.first().copied().unwrap_or(b""), 1, "ERR numkeys should be greater than 0")?;
    // `numkeys` keys, then the direction: a count past the arguments is a syntax error.
    if numkeys as u64 >= rest.len() as u64 - 1 {
        return Err(error::SYNTAX);
    }
    let numkeys = numkeys as usize;
    let keys = &rest[1..1 + numkeys];
    let end = parse_end(rest[1 + numkeys])?;
    let mut count = None;
    let mut j = 2 + numkeys;
    while j < rest.len() {
        match rest.get(j + 1) {
            Some(n) if count.is_none() && super::word_is(rest[j], "count") => {
                count = Some(parse_at_least(n, 1, "ERR count should be greater than 0")?);
                j += 2;
            }
            _ => return Err(error::SYNTAX),
        }
    }
    Ok(MpopArgs { keys, end, count: count.map_or(1, |c| usize::try_from(c).unwrap_or(usize::MAX)) })
}

pub fn lmpop(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    let parsed = match parse_mpop_args(&args[1..]) {
        Ok(p) => p,
        Err(e) => return out.error(e),
    };
    match pop_first_nonempty(ctx, parsed.keys, parsed.end, parsed.count) {
        Err(e) => out.error(e),
        Ok(None) => out.null_array(),
        Ok(Some((i, popped))) => write_mpop_reply(out, parsed.keys[i], &popped),
    }
}

//! The SORT pipeline: load the elements (only the LIMIT window when nothing is sorted and the
//! source keeps an order), weigh them (the element itself or a BY pattern; a number or, with
//! ALPHA, bytes), sort, then reply or STORE, fetching GET patterns per element.
//!
//! Redis's choices that show in replies, kept on purpose:
//! - a sorted set is converted to its skiplist encoding by any SORT or SORT_RO that gets past
//!   option parsing, even one that then fails on a score;
//! - `BY nosort` keeps list and sorted-set order (DESC walks it backwards) and a set's own
//!   iteration order, except that a set sorted into STORE is sorted ALPHA;
//! - numbers are read with C `strtod` rules (leading spaces, hex, `inf`; overflow, underflow
//!   and NaN are errors); equal scores are ordered by the element's bytes;
//! - ALPHA compares like `strcmp` (up to a NUL byte, the C/C.UTF-8 collation) when replying,
//!   and whole byte strings when storing; ties keep their input order (a stable sort, as
//!   glibc's `qsort`), except that BY + LIMIT uses the partial quicksort in `pqsort`.

use std::cmp::Ordering;

use super::{lookup_by_pattern, parse_options, pqsort};
use crate::command::family::keys::access_clock_s;
use crate::command::spec::DataCtx;
use crate::error;
use crate::resp::Out;
use crate::store::events::class;
use crate::store::keyspace::NO_EXPIRE;
use crate::store::types::list::ListValue;
use crate::store::{Entry, Value};

const ERR_SCORES: &str = "ERR One or more scores can't be converted into double";

/// One element being sorted.
struct Item {
    elem: Vec<u8>,
    score: f64,
    /// The BY value, for ALPHA sorts by pattern (None: the pattern found nothing).
    by: Option<Vec<u8>>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Source {
    List,
    Set,
    ZSet,
}

/// How two items compare, as Redis's `sortCompare` decides from the sort's settings.
#[derive(Clone, Copy)]
struct Order {
    desc: bool,
    alpha: bool,
    by_pattern: bool,
    store: bool,
}

impl Order {
    fn compare(&self, a: &Item, b: &Item) -> Ordering {
        let ord = if !self.alpha {
            match a.score.partial_cmp(&b.score) {
                Some(Ordering::Less) => Ordering::Less,
                Some(Ordering::Greater) => Ordering::Greater,
                // Equal (or NaN, which only a failing sort sees): the elements decide.
                _ => a.elem.cmp(&b.elem),
            }
        } else if self.by_pattern {
            match (&a.by, &b.by) {
                (None, None) => Ordering::Equal,
                (None, Some(_)) => Ordering::Less,
                (Some(_), None) => Ordering::Greater,
                (Some(x), Some(y)) => self.text_cmp(x, y),
            }
        } else {
            self.text_cmp(&a.elem, &b.elem)
        };
        if self.desc {
            ord.reverse()
        } else {
            ord
        }
    }

    /// Whole bytes when storing (`compareStringObjects`), C-string collation when replying.
    fn text_cmp(&self, x: &[u8], y: &[u8]) -> Ordering {
        if self.store {
            x.cmp(y)
        } else {
            super::cstr(x).cmp(super::cstr(y))
        }
    }
}

pub(super) fn sort_generic(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out, read_only: bool) {
    let o = match parse_options(args, read_only, ctx.cfg.cluster_enabled) {
        Ok(o) => o,
        Err(e) => return out.error(e),
    };
    let key = args[1];
    let (source, len) = match super::super::lookup_read_as(ctx, key, super::any_value) {
        // A missing key sorts as an empty list.
        Ok(None) | Err(_) => (Source::List, 0),
        Ok(Some(Value::List(l))) => (Source::List, l.len()),
        Ok(Some(Value::Set(s))) => (Source::Set, s.len()),
        Ok(Some(Value::ZSet(z))) => {
            z.convert_to_skiplist();
            (Source::ZSet, z.len())
        }
        Ok(Some(_)) => return out.error(error::WRONGTYPE),
    };
    let mut dont_sort = o.dont_sort;
    let mut alpha = o.alpha;
    let mut by = o.by;
    if dont_sort && source == Source::Set && o.store.is_some() {
        // A set has no order of its own to store: sort it by its bytes instead.
        dont_sort = false;
        alpha = true;
        by = None;
    }
    let len = len as i64;
    let (mut start, mut end) = limit_window(o.limit_start, o.limit_count, len);
    let mut items = if dont_sort && source != Source::Set {
        let window = start != 0 || end != len - 1;
        let take = if window { (end - start + 1).max(0) } else { len };
        let items = load_window(ctx, key, source, start, take, o.desc);
        // The window is loaded: output runs over all of it. (An empty list window is left
        // as it is, which also outputs nothing.)
        if source == Source::ZSet || end >= start {
            end -= start;
            start = 0;
        }
        items
    } else {
        load_all(ctx, key)
    };
    let mut conversion_error = false;
    if !dont_sort {
        conversion_error = weigh(ctx, &mut items, by, alpha);
        let order = Order { desc: o.desc, alpha, by_pattern: by.is_some(), store: o.store.is_some() };
        let cmp = |a: &Item, b: &Item| order.compare(a, b);
        if by.is_some() && (start != 0 || end != items.len() as i64 - 1) {
            pqsort::partial_sort(&mut items, start, end, cmp);
        } else {
            items.sort_by(cmp);
        }
    }
    if conversion_error {
        return out.error(ERR_SCORES);
    }
    let count = (end - start + 1).max(0) as usize;
    let from = start.max(0) as usize;
    let window = items.get(from..).unwrap_or_default();
    let window = window.get(..count.min(window.len())).unwrap_or_default();
    let output_len = if o.gets.is_empty() { count } else { o.gets.len() * count };
    match o.store {
        None => reply(ctx, out, window, &o.gets, output_len),
        Some(dest) => store(ctx, out, dest, window, &o.gets, output_len),
    }
}

/// Redis's LIMIT arithmetic: (start, end) indexes, inclusive, clamped into `[0, len)` (an
/// empty window is `end < start`).
fn limit_window(limit_start: i64, limit_count: i64, len: i64) -> (i64, i64) {
    let mut start = limit_start.max(0);
    let mut end = if limit_count < 0 { len - 1 } else { start.saturating_add(limit_count) - 1 };
    if start >= len {
        start = len - 1;
        end = len - 2;
    }
    if end >= len {
        end = len - 1;
    }
    (start, end)
}

fn item(elem: &[u8]) -> Item {
    Item { elem: elem.to_vec(), score: 0.0, by: None }
}

/// `take` elements of a list or sorted set in their own order from index `start`, walking
/// from the other end when `desc`.
fn load_window(ctx: &mut DataCtx, key: &[u8], source: Source, start: i64, take: i64, desc: bool) -> Vec<Item> {
    let (Ok(start), Ok(take)) = (usize::try_from(start), usize::try_from(take)) else { return Vec::new() };
    if take == 0 {
        return Vec::new();
    }
    match (source, ctx.db().peek(key).map(|e| &e.value)) {
        (Source::List, Some(Value::List(l))) => {
            let Some(first) = (if desc { l.len().checked_sub(start + 1) } else { Some(start) }) else {
                return Vec::new();
            };
            if desc {
                l.iter_rev_from(first).take(take).map(item).collect()
            } else {
                l.iter_from(first).take(take).map(item).collect()
            }
        }
        (Source::ZSet, Some(Value::ZSet(z))) => {
            let Some(first) = (if desc { z.len().checked_sub(start + 1) } else { Some(start) }) else {
                return Vec::new();
            };
            z.iter_from(first, desc).take(take).map(|(m, _)| item(m)).collect()
        }
        _ => Vec::new(),
    }
}

/// Every element of the sorted key (none when missing).
fn load_all(ctx: &mut DataCtx, key: &[u8]) -> Vec<Item> {
    match ctx.db().peek(key) {
        Some(e) => elements_of(&e.value).into_iter().map(|elem| Item { elem, score: 0.0, by: None }).collect(),
        None => Vec::new(),
    }
}

/// The elements of a list (in order), set (in its iteration order) or sorted set (by
/// score); nothing for other types.
pub(crate) fn elements_of(v: &Value) -> Vec<Vec<u8>> {
    match v {
        Value::List(l) => l.iter().map(<[u8]>::to_vec).collect(),
        Value::Set(s) => {
            let mut tmp = [0u8; 24];
            s.iter().map(|m| m.as_bytes(&mut tmp).to_vec()).collect()
        }
        Value::ZSet(z) => z.iter().map(|(m, _)| m.to_vec()).collect(),
        _ => Vec::new(),
    }
}

/// Loads what each item sorts by. Returns whether some numeric weight failed to convert.
fn weigh(ctx: &mut DataCtx, items: &mut [Item], by: Option<&[u8]>, alpha: bool) -> bool {
    let mut failed = false;
    for it in items.iter_mut() {
        let looked_up;
        let weight: &[u8] = match by {
            Some(pattern) => match lookup_by_pattern(ctx, pattern, &it.elem) {
                Some(v) => {
                    looked_up = v;
                    &looked_up
                }
                // Nothing found: score 0, or the lowest place in an ALPHA sort.
                None => continue,
            },
            None => &it.elem,
        };
        if alpha {
            if by.is_some() {
                it.by = Some(weight.to_vec());
            }
        } else {
            match c_strtod(weight) {
                Some(s) => it.score = s,
                None => failed = true,
            }
        }
    }
    failed
}

/// A number as SORT reads it: C `strtod` over the bytes up to the first NUL (leading spaces
/// allowed), which must be used up, without NaN or an ERANGE over- or underflow.
fn c_strtod(b: &[u8]) -> Option<f64> {
    let text = super::cstr(b);
    let mut s = Vec::with_capacity(text.len() + 1);
    s.extend_from_slice(text);
    s.push(0);
    let mut end: *mut libc::c_char = std::ptr::null_mut();
    // SAFETY: `s` is NUL-terminated and outlives the call; strtod leaves `end` pointing into
    // `s` (at most at its terminator), so the offset is within the same allocation.
    #[allow(unsafe_code)]
    let (v, used, erange) = unsafe {
        *libc::__errno_location() = 0;
        let v = libc::strtod(s.as_ptr() as *const libc::c_char, &mut end);
        let used = end.offset_from(s.as_ptr() as *const libc::c_char) as usize;
        (v, used, *libc::__errno_location() == libc::ERANGE)
    };
    (used == text.len() && !erange && !v.is_nan()).then_some(v)
}

fn reply(ctx: &mut DataCtx, out: &mut Out, window: &[Item], gets: &[&[u8]], output_len: usize) {
    out.array(output_len);
    for it in window {
        if gets.is_empty() {
            out.bulk(&it.elem);
        }
        for p in gets {
            match lookup_by_pattern(ctx, p, &it.elem) {
                Some(v) => out.bulk(&v),
                None => out.null(),
            }
        }
    }
}

/// STORE: the result replaces `dest` as a list (any old value and TTL go); an empty result
/// deletes it. Replies the number of elements stored.
fn store(ctx: &mut DataCtx, out: &mut Out, dest: &[u8], window: &[Item], gets: &[&[u8]], output_len: usize) {
    let mut list = ListValue::new(ctx.cfg.list_max_listpack_size);
    for it in window {
        if gets.is_empty() {
            list.push_back(&it.elem);
        }
        for p in gets {
            let v = lookup_by_pattern(ctx, p, &it.elem).unwrap_or_default();
            list.push_back(&v);
        }
    }
    debug_assert_eq!(list.len(), output_len, "SORT STORE: stored length differs from the reply");
    if output_len > 0 {
        let entry = Entry::with(Value::List(Box::new(list)), NO_EXPIRE, access_clock_s(ctx.now_ms));
        // Redis's setKey: a `new` event when the destination did not exist.
        crate::command::family::insert_key(ctx, dest, entry);
        ctx.notify(class::LIST, "sortstore", dest);
        ctx.dirty(output_len as u64);
    } else if ctx.db().remove(dest).is_some() {
        ctx.notify(class::GENERIC, "del", dest);
        ctx.dirty(1);
    }
    out.int(output_len as i64);
}

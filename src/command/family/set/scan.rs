//! SSCAN key cursor [MATCH pattern] [COUNT count].
//!
//! An intset answers whole in one call with cursor 0, as Redis does. A hashtable is walked by
//! position, from the end towards 0 (see `store::types::set::MemberTable`): the cursor is the
//! number of positions still to walk, so a member present for the whole scan is returned at
//! least once however the set grows or shrinks meanwhile (Redis's guarantee); cursor values
//! themselves differ from Redis's, as they may between any two servers.

use super::{read_set, word_is};
use crate::command::args::parse_i64;
use crate::command::spec::DataCtx;
use crate::error;
use crate::glob::glob_match;
use crate::resp::write::fmt_i64;
use crate::resp::Out;
use crate::store::types::set::SetValue;

const INVALID_CURSOR: &str = "ERR invalid cursor";

use crate::command::args::parse_scan_cursor as parse_cursor;

struct ScanOpts<'a> {
    count: usize,
    /// None for no MATCH or `*`.
    pattern: Option<&'a [u8]>,
}

/// `scanGenericCommand`'s option loop (the last MATCH and COUNT win; TYPE is SCAN's only).
fn parse_opts<'a>(args: &[&'a [u8]]) -> Result<ScanOpts<'a>, &'static str> {
    let mut o = ScanOpts { count: 10, pattern: None };
    let mut i = 0;
    while i < args.len() {
        let value = args.get(i + 1).copied();
        match value {
            Some(v) if word_is(args[i], "count") => {
                let n = parse_i64(v)?;
                if n < 1 {
                    return Err(error::SYNTAX);
                }
                o.count = usize::try_from(n).unwrap_or(usize::MAX);
            }
            Some(v) if word_is(args[i], "match") => o.pattern = if v == b"*" { None } else { Some(v) },
            _ => return Err(error::SYNTAX),
        }
        i += 2;
    }
    Ok(o)
}

pub(super) fn sscan(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    let Some(cursor) = parse_cursor(args[2]) else { return out.error(INVALID_CURSOR) };
    let set = match read_set(ctx, args[1]) {
        Err(e) => return out.error(e),
        Ok(None) => {
            out.array(2);
            out.bulk(b"0");
            return out.array(0);
        }
        Ok(Some(s)) => s,
    };
    let opts = match parse_opts(&args[3..]) {
        Ok(o) => o,
        Err(e) => return out.error(e),
    };
    let (positions, next) = scan_window(set, cursor, opts.count);
    let mut tmp = [0u8; 24];
    let found: Vec<usize> = positions
        .filter(|&i| {
            let Some(m) = set.get(i) else { return false };
            opts.pattern.is_none_or(|p| glob_match(p, m.as_bytes(&mut tmp), false))
        })
        .collect();
    out.array(2);
    out.bulk(fmt_i64(&mut tmp, next as i64));
    out.array(found.len());
    for i in found {
        if let Some(m) = set.get(i) {
            super::reply_member(out, m);
        }
    }
}

/// The positions to visit for `cursor`, in reply order, and the cursor to answer (0 when
/// done). An intset is listed whole and ascending, as Redis lists it; a table is walked
/// downwards from the cursor.
fn scan_window(set: &SetValue, cursor: u64, count: usize) -> (Box<dyn Iterator<Item = usize>>, u64) {
    let len = set.len();
    match set {
        SetValue::Intset(_) => (Box::new(0..len), 0),
        SetValue::Table(_) => {
            let start = if cursor == 0 { len } else { usize::try_from(cursor).unwrap_or(usize::MAX).min(len) };
            let from = start.saturating_sub(count);
            (Box::new((from..start).rev()), from as u64)
        }
    }
}

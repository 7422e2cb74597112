//! Reading lists: LLEN LRANGE LINDEX LPOS. These never change a list; they count keyspace
//! hits and misses as Redis's `lookupKeyRead` does.

use super::{clamp_range, list_read, resolve_index, word_is};
use crate::command::args::parse_i64;
use crate::command::spec::DataCtx;
use crate::error;
use crate::resp::Out;

pub fn llen(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    match list_read(ctx, args[1]) {
        Err(e) => out.error(e),
        Ok(l) => out.int(l.map_or(0, |l| l.len()) as i64),
    }
}

/// LRANGE: the indexes are parsed before the key is looked up, as Redis does.
pub fn lrange(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    let (start, end) = match (parse_i64(args[2]), parse_i64(args[3])) {
        (Ok(s), Ok(e)) => (s, e),
        (Err(e), _) | (_, Err(e)) => return out.error(e),
    };
    let list = match list_read(ctx, args[1]) {
        Err(e) => return out.error(e),
        Ok(None) => return out.array(0),
        Ok(Some(l)) => l,
    };
    match clamp_range(start, end, list.len()) {
        None => out.array(0),
        Some((a, b)) => {
            out.array(b - a + 1);
            for v in list.iter_from(a).take(b - a + 1) {
                out.bulk(v);
            }
        }
    }
}

/// LINDEX: unlike LRANGE, the key is looked up before the index is parsed.
pub fn lindex(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    let list = match list_read(ctx, args[1]) {
        Err(e) => return out.error(e),
        Ok(None) => return out.null(),
        Ok(Some(l)) => l,
    };
    match parse_i64(args[2]) {
        Err(e) => out.error(e),
        Ok(i) => out.bulk_or_null(resolve_index(i, list.len()).and_then(|i| list.get(i))),
    }
}

const RANK_ZERO: &str = "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list";

/// LPOS options: `rank` as given (negative searches from the tail), `count` None when COUNT
/// was not given, `maxlen` 0 for no limit.
struct LposOpts {
    rank: i64,
    count: Option<i64>,
    maxlen: i64,
}

fn parse_lpos_opts(opts: &[&[u8]]) -> Result<LposOpts, &'static str> {
    let mut o = LposOpts { rank: 1, count: None, maxlen: 0 };
    let mut j = 0;
    while j < opts.len() {
        let (name, Some(v)) = (opts[j], opts.get(j + 1)) else {
            return Err(error::SYNTAX);
        };
        let non_negative = |msg| crate::resp::parse::parse_i64_strict(v).filter(|n| *n >= 0).ok_or(msg);
        if word_is(name, "rank") {
            o.rank = parse_i64(v)?;
            if o.rank == 0 {
                return Err(RANK_ZERO);
            }
        } else if word_is(name, "count") {
            o.count = Some(non_negative("ERR COUNT can't be negative")?);
        } else if word_is(name, "maxlen") {
            o.maxlen = non_negative("ERR MAXLEN can't be negative")?;
        } else {
            return Err(error::SYNTAX);
        }
        j += 2;
    }
    Ok(o)
}

/// LPOS, as Redis's `lposCommand` including its arithmetic: RANK -9223372036854775808 negates
/// to itself in C, which makes every match qualify (and COUNT never stop the scan); the
/// wrapping operations below reproduce that.
pub fn lpos(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    let o = match parse_lpos_opts(&args[3..]) {
        Ok(o) => o,
        Err(e) => return out.error(e),
    };
    let list = match list_read(ctx, args[1]) {
        Err(e) => return out.error(e),
        Ok(None) if o.count.is_some() => return out.array(0),
        Ok(None) => return out.null(),
        Ok(Some(l)) => l,
    };
    let ele = args[2];
    let len = list.len();
    let from_tail = o.rank < 0;
    let rank = if from_tail { o.rank.wrapping_neg() } else { o.rank };
    let mut matches: i64 = 0;
    let mut found = Vec::new();
    let mut single = None;
    let mut scan = |index: usize, v: &[u8]| -> bool {
        if o.maxlen != 0 && index as i64 >= o.maxlen {
            return false;
        }
        if v == ele {
            matches += 1;
            let at = if from_tail { len - index - 1 } else { index } as i64;
            if matches >= rank {
                match o.count {
                    Some(c) => {
                        found.push(at);
                        if c != 0 && matches.wrapping_sub(rank).wrapping_add(1) >= c {
                            return false;
                        }
                    }
                    None => {
                        single = Some(at);
                        return false;
                    }
                }
            }
        }
        true
    };
    if from_tail {
        let _ = list.iter_rev_from(len.saturating_sub(1)).enumerate().all(|(i, v)| scan(i, v));
    } else {
        let _ = list.iter().enumerate().all(|(i, v)| scan(i, v));
    }
    if o.count.is_some() {
        out.array(found.len());
        for at in found {
            out.int(at);
        }
    } else {
        match single {
            Some(at) => out.int(at),
            None => out.null(),
        }
    }
}

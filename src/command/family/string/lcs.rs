//! LCS key1 key2 [LEN] [IDX] [MINMATCHLEN n] [WITHMATCHLEN]: the longest common subsequence
//! of two strings, by the same dynamic-programming table and the same backward walk as Redis
//! 7.0, so the string and the match ranges (which are not unique) come out identical.
//!
//! The table costs 4 bytes per (len1+1)*(len2+1) cell; like Redis it refuses tables larger
//! than `proto-max-bulk-len` instead of trying to allocate them.

use super::{lookup_read, word_is, Found};
use crate::command::args::parse_i64;
use crate::command::spec::DataCtx;
use crate::error;
use crate::resp::Out;

fn value_of(ctx: &mut DataCtx, key: &[u8]) -> Result<Vec<u8>, ()> {
    match lookup_read(ctx, key) {
        Found::Missing => Ok(Vec::new()),
        Found::WrongType => Err(()),
        Found::Str(s) => Ok(s.to_vec()),
    }
}

struct LcsOpts {
    len: bool,
    idx: bool,
    with_match_len: bool,
    min_match_len: u64,
}

fn parse_opts(opts: &[&[u8]]) -> Result<LcsOpts, &'static str> {
    let mut o = LcsOpts { len: false, idx: false, with_match_len: false, min_match_len: 0 };
    let mut j = 0;
    while j < opts.len() {
        let a = opts[j];
        if word_is(a, "idx") {
            o.idx = true;
        } else if word_is(a, "len") {
            o.len = true;
        } else if word_is(a, "withmatchlen") {
            o.with_match_len = true;
        } else if word_is(a, "minmatchlen") && j + 1 < opts.len() {
            o.min_match_len = parse_i64(opts[j + 1])?.max(0) as u64;
            j += 1;
        } else {
            return Err(error::SYNTAX);
        }
        j += 1;
    }
    if o.len && o.idx {
        return Err("ERR If you want both the length and indexes, please just use IDX.");
    }
    Ok(o)
}

/// A match range in both strings, as Redis reports it.
struct Range {
    a: (u32, u32),
    b: (u32, u32),
}

pub fn lcs(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    // Redis checks both types before it reads the options.
    let (a, b) = match (value_of(ctx, args[1]), value_of(ctx, args[2])) {
        (Ok(a), Ok(b)) => (a, b),
        _ => return out.error("ERR The specified keys must contain string values"),
    };
    let o = match parse_opts(&args[3..]) {
        Ok(o) => o,
        Err(e) => return out.error(e),
    };
    if a.len() as u64 >= u32::MAX as u64 - 1 || b.len() as u64 >= u32::MAX as u64 - 1 {
        return out.error("ERR String too long for LCS");
    }
    let (alen, blen) = (a.len(), b.len());
    let cells = (alen as u64 + 1) * (blen as u64 + 1);
    if cells.saturating_mul(4) > ctx.cfg.proto_max_bulk_len_bytes {
        return out.error("ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len");
    }
    let mut table: Vec<u32> = Vec::new();
    if table.try_reserve_exact(cells as usize).is_err() {
        return out.error("ERR Insufficient memory, failed allocating transient memory for LCS");
    }
    table.resize(cells as usize, 0);
    let w = blen + 1;
    // table[i*w + j] = LCS length of a[..i] and b[..j]; row and column 0 stay 0.
    for i in 1..=alen {
        for j in 1..=blen {
            table[i * w + j] = if a[i - 1] == b[j - 1] {
                table[(i - 1) * w + j - 1] + 1
            } else {
                table[(i - 1) * w + j].max(table[i * w + j - 1])
            };
        }
    }
    let total = table[alen * w + blen];
    if o.len && !o.idx {
        return out.int(total as i64);
    }

    // Walk back from the end, building the LCS string backwards and collecting the
    // contiguous match ranges in the order Redis emits them (last ones first).
    let mut result = vec![0u8; total as usize];
    let mut ranges: Vec<Range> = Vec::new();
    let mut k = total as usize;
    let (mut i, mut j) = (alen, blen);
    let mut cur: Option<Range> = None;
    while i > 0 && j > 0 {
        let mut emit = false;
        if a[i - 1] == b[j - 1] {
            result[k - 1] = a[i - 1];
            let (ai, bj) = ((i - 1) as u32, (j - 1) as u32);
            match &mut cur {
                None => cur = Some(Range { a: (ai, ai), b: (bj, bj) }),
                // Contiguous with the current range: extend it backwards.
                Some(r) if r.a.0 == i as u32 && r.b.0 == j as u32 => {
                    r.a.0 -= 1;
                    r.b.0 -= 1;
                }
                Some(_) => emit = true,
            }
            // The range touches the start of one string: the walk ends next turn.
            if cur.as_ref().is_some_and(|r| r.a.0 == 0 || r.b.0 == 0) {
                emit = true;
            }
            k -= 1;
            i -= 1;
            j -= 1;
        } else {
            if table[(i - 1) * w + j] > table[i * w + j - 1] {
                i -= 1;
            } else {
                j -= 1;
            }
            if cur.is_some() {
                emit = true;
            }
        }
        if emit {
            if let Some(r) = cur.take() {
                let match_len = (r.a.1 - r.a.0 + 1) as u64;
                if o.min_match_len == 0 || match_len >= o.min_match_len {
                    ranges.push(r);
                }
            }
        }
    }
    if !o.idx {
        return out.bulk(&result);
    }
    out.map(2);
    out.bulk(b"matches");
    out.array(ranges.len());
    for r in &ranges {
        out.array(if o.with_match_len { 3 } else { 2 });
        out.array(2);
        out.int(r.a.0 as i64);
        out.int(r.a.1 as i64);
        out.array(2);
        out.int(r.b.0 as i64);
        out.int(r.b.1 as i64);
        if o.with_match_len {
            out.int((r.a.1 - r.a.0 + 1) as i64);
        }
    }
    out.bulk(b"len");
    out.int(total as i64);
}

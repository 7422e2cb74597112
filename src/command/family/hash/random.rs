//! HRANDFIELD: one random field, or `count` of them (distinct for a positive count, with
//! repetitions for a negative one), optionally WITHVALUES (pairs as 2-element arrays in RESP3,
//! flat in RESP2), as Redis 7.0's `hrandfieldCommand`. Randomness comes from `ctx.rng`.
//!
//! Picks are uniform by index (both encodings are dense vectors). Distinct picks from a
//! listpack come back in listpack order, as Redis's `lpRandomPairsUnique` gives them; from a
//! table, in random order. Must never build a reply without bound: see
//! [`MAX_RANDOM_REPLY_ELEMENTS`].

use super::{read_hash, word_is};
use crate::command::args::parse_i64;
use crate::command::spec::DataCtx;
use crate::error;
use crate::resp::Out;
use crate::store::types::hash::HashValue;
use rand::Rng;

/// Most fields a negative count may ask for. Redis has no bound and builds the reply until
/// memory runs out (`HRANDFIELD h -9223372036854775807` never finishes); past this many a
/// shard would stall for seconds and take gigabytes, so it answers an error instead.
pub const MAX_RANDOM_REPLY_ELEMENTS: u64 = 1 << 24;

pub fn hrandfield(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    if args.len() >= 3 {
        let count = match parse_i64(args[2]) {
            Ok(n) => n,
            Err(e) => return out.error(e),
        };
        // getRangeLongFromObjectOrReply(-LONG_MAX, LONG_MAX).
        if count == i64::MIN {
            return out
                .error("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807");
        }
        if args.len() > 4 || (args.len() == 4 && !word_is(args[3], "withvalues")) {
            return out.error(error::SYNTAX);
        }
        let withvalues = args.len() == 4;
        // The reply has two entries per field: Redis refuses counts whose double overflows.
        if withvalues && !(-(i64::MAX / 2)..=i64::MAX / 2).contains(&count) {
            return out.error("ERR value is out of range");
        }
        return with_count(ctx, args[1], count, withvalues, out);
    }
    let size = match read_hash(ctx, args[1]) {
        Err(_) => return out.error(error::WRONGTYPE),
        Ok(None) => return out.null(),
        Ok(Some(h)) => h.len(),
    };
    // A stored hash is never empty; `max(1)` only keeps the range valid.
    let i = ctx.rng.gen_range(0..size.max(1));
    let field = read_hash_again(ctx, args[1]).and_then(|h| h.pair_at(i)).map(|(f, _)| f);
    out.bulk_or_null(field);
}

/// The hash again after a first read (which borrowed the context): no second hit is counted.
fn read_hash_again<'a>(ctx: &'a mut DataCtx, key: &[u8]) -> Option<&'a HashValue> {
    let now_ms = ctx.now_ms;
    match ctx.db().get(key, now_ms).map(|e| &e.value) {
        Some(crate::store::Value::Hash(h)) => Some(h),
        _ => None,
    }
}

/// One field (and its value) of a reply, shaped by protocol.
fn write_pick(out: &mut Out, pair: Option<(&[u8], &[u8])>, withvalues: bool) {
    let (f, v) = pair.unwrap_or((b"", b""));
    if withvalues && out.resp3 {
        out.array(2);
    }
    out.bulk(f);
    if withvalues {
        out.bulk(v);
    }
}

/// The reply's array header for `n` picks.
fn write_header(out: &mut Out, n: usize, withvalues: bool) {
    if withvalues && !out.resp3 {
        out.array(n * 2);
    } else {
        out.array(n);
    }
}

/// Redis's `hrandfieldWithCountCommand`.
fn with_count(ctx: &mut DataCtx, key: &[u8], count: i64, withvalues: bool, out: &mut Out) {
    let size = match read_hash(ctx, key) {
        Err(_) => return out.error(error::WRONGTYPE),
        Ok(None) => return out.array(0),
        Ok(Some(h)) => h.len(),
    };
    let uniq = count >= 0;
    let n = count.unsigned_abs();
    if n == 0 || size == 0 {
        return out.array(0);
    }
    // Picks are made first (they need the rng), then the hash is read again to reply.
    let picks: Vec<usize> = if !uniq || n == 1 {
        // CASE 1: n independent picks, repetitions allowed.
        if n > MAX_RANDOM_REPLY_ELEMENTS {
            return out.error("ERR value is out of range");
        }
        (0..n).map(|_| ctx.rng.gen_range(0..size)).collect()
    } else if n >= size as u64 {
        // CASE 2: the whole hash, in its order.
        (0..size).collect()
    } else {
        let n = n as usize;
        let listpack = matches!(read_hash_again(ctx, key), Some(HashValue::Listpack(_)));
        if listpack {
            sorted_sample(ctx.rng, size, n)
        } else {
            rand::seq::index::sample(ctx.rng, size, n).into_vec()
        }
    };
    let Some(h) = read_hash_again(ctx, key) else { return out.array(0) };
    write_header(out, picks.len(), withvalues);
    if let HashValue::Listpack(p) = h {
        // A listpack finds a pair by walking from the front: walk once, pick by index.
        let pairs: Vec<(&[u8], &[u8])> = p.iter().collect();
        for i in picks {
            write_pick(out, pairs.get(i).copied(), withvalues);
        }
        return;
    }
    for i in picks {
        write_pick(out, h.pair_at(i), withvalues);
    }
}

/// `n` distinct indexes below `size`, in increasing order, each subset equally likely
/// (Knuth's selection sampling, one pass).
fn sorted_sample(rng: &mut impl Rng, size: usize, n: usize) -> Vec<usize> {
    let mut picks = Vec::with_capacity(n);
    for i in 0..size {
        let left = size - i;
        let need = n - picks.len();
        if need == 0 {
            break;
        }
        if rng.gen_range(0..left) < need {
            picks.push(i);
        }
    }
    picks
}

#[cfg(test)]
mod tests {
    use super::sorted_sample;
    use rand::SeedableRng;

    #[test]
    fn sorted_sample_is_sorted_distinct_and_complete() {
        let mut rng = rand::rngs::SmallRng::seed_from_u64(3);
        for (size, n) in [(10, 3), (5, 5), (100, 99), (1, 1)] {
            let s = sorted_sample(&mut rng, size, n);
            assert_eq!(s.len(), n);
            assert!(s.windows(2).all(|w| w[0] < w[1]));
            assert!(s.iter().all(|&i| i < size));
        }
    }
}

//! HSCAN: Redis 7.0's `hscanCommand` + `scanGenericCommand` for hashes. The cursor is checked
//! first, then the key (missing: the empty scan, before any option is read), then COUNT and
//! MATCH (TYPE is SCAN's alone). A listpack answers everything with cursor 0, as Redis does;
//! a table walks the cursor of `FieldTable::scan`. MATCH filters fields after COUNT pairs were
//! looked at, and a pair's value goes with its field.
//!
//! Must never write: it only counts a keyspace hit or miss.

use super::{read_hash, word_is};
use crate::command::args::parse_i64;
use crate::command::spec::DataCtx;
use crate::error;
use crate::glob::glob_match;
use crate::resp::Out;

pub use crate::command::args::parse_scan_cursor as parse_cursor;

/// COUNT and MATCH after the cursor (`args[3..]`).
fn parse_options<'a>(opts: &[&'a [u8]]) -> Result<(usize, Option<&'a [u8]>), &'static str> {
    let (mut count, mut pattern) = (10usize, None);
    let mut i = 0;
    while i < opts.len() {
        let value = opts.get(i + 1).copied();
        match value {
            Some(v) if word_is(opts[i], "count") => {
                let n = parse_i64(v)?;
                if n < 1 {
                    return Err(error::SYNTAX);
                }
                count = usize::try_from(n).unwrap_or(usize::MAX);
            }
            Some(v) if word_is(opts[i], "match") => {
                pattern = if v == b"*" { None } else { Some(v) };
            }
            _ => return Err(error::SYNTAX),
        }
        i += 2;
    }
    Ok((count, pattern))
}

pub fn hscan(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    let Some(cursor) = parse_cursor(args[2]) else {
        return out.error("ERR invalid cursor");
    };
    let h = match read_hash(ctx, args[1]) {
        Err(_) => return out.error(error::WRONGTYPE),
        Ok(None) => {
            out.array(2);
            out.bulk(b"0");
            return out.array(0);
        }
        Ok(Some(h)) => h,
    };
    let (count, pattern) = match parse_options(args.get(3..).unwrap_or_default()) {
        Ok(o) => o,
        Err(e) => return out.error(e),
    };
    let (mut pairs, next) = h.scan(cursor, count);
    if let Some(p) = pattern {
        pairs.retain(|(f, _)| glob_match(p, f, false));
    }
    out.array(2);
    out.bulk(next.to_string().as_bytes());
    out.array(pairs.len() * 2);
    for (f, v) in pairs {
        out.bulk(f);
        out.bulk(v);
    }
}

#[cfg(test)]
mod tests {
    use super::parse_cursor;

    #[test]
    fn cursors_as_strtoul() {
        assert_eq!(parse_cursor(b"0"), Some(0));
        assert_eq!(parse_cursor(b""), Some(0));
        assert_eq!(parse_cursor(b"-1"), Some(u64::MAX));
        assert_eq!(parse_cursor(b"+7"), Some(7));
        assert_eq!(parse_cursor(b"18446744073709551615"), Some(u64::MAX));
        assert_eq!(parse_cursor(b"18446744073709551616"), None);
        assert_eq!(parse_cursor(b"-"), None);
        assert_eq!(parse_cursor(b" 1"), None);
        assert_eq!(parse_cursor(b"1x"), None);
        assert_eq!(parse_cursor(b"5\0x"), Some(5));
    }
}

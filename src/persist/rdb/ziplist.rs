//! Redis's ziplist byte format, read only: RDB files written before Redis 7.0 carry small
//! hashes, sorted sets and lists (and quicklist nodes) as ziplists, and Redis 7.0 still loads
//! them by converting to listpacks. We convert them to our own encodings instead.
//!
//! Layout: `zlbytes u32 LE | zltail u32 LE | zllen u16 LE (65535 = unknown) | entries | 0xFF`.
//! Each entry is `prevlen | encoding | data`: prevlen is 1 byte (< 254) or 0xFE + u32 LE;
//! encodings are `00llllll` (string <= 63), `01llllll llllllll` (14-bit length, big-endian),
//! `10000000 + u32 BE` (string), `0xC0` int16, `0xD0` int32, `0xE0` int64, `0xF0` int24,
//! `0xFE` int8, `0xF1..=0xFD` the immediates 0..=12 (all integers little-endian).
//!
//! Everything is validated; nothing here panics on bad input.

use crate::store::listpack::LpValue;

const HEADER_BYTES: usize = 10;
const END: u8 = 0xFF;

fn read_le(b: &[u8]) -> u64 {
    b.iter().rev().fold(0u64, |acc, &x| (acc << 8) | x as u64)
}

/// Decodes and validates a whole ziplist, calling `f` on every element in order.
pub fn for_each<'a>(zl: &'a [u8], mut f: impl FnMut(LpValue<'a>) -> Result<(), String>) -> Result<usize, String> {
    let bad = |what: &str| Err(format!("corrupt ziplist: {what}"));
    let Some(header) = zl.get(..HEADER_BYTES) else { return bad("shorter than its header") };
    if read_le(&header[..4]) as usize != zl.len() {
        return bad("total size does not match its length");
    }
    let tail = read_le(&header[4..8]) as usize;
    let count = read_le(&header[8..10]) as u16;
    let mut pos = HEADER_BYTES;
    let mut prev_len = 0usize;
    let mut last_start = HEADER_BYTES;
    let mut seen = 0usize;
    loop {
        let Some(&first) = zl.get(pos) else { return bad("missing terminator") };
        if first == END {
            break;
        }
        let start = pos;
        let (prevlen, p) = if first < 0xFE {
            (first as usize, pos + 1)
        } else if first == 0xFE {
            let Some(b) = zl.get(pos + 1..pos + 5) else { return bad("prevlen past the end") };
            (read_le(b) as usize, pos + 5)
        } else {
            return bad("invalid prevlen");
        };
        if prevlen != prev_len {
            return bad("prevlen does not match the previous entry");
        }
        let Some(&enc) = zl.get(p) else { return bad("encoding past the end") };
        let take = |from: usize, n: usize| zl.get(from..from.checked_add(n)?);
        let (item, next) = match enc >> 6 {
            0 => {
                let n = (enc & 0x3f) as usize;
                let Some(s) = take(p + 1, n) else { return bad("string past the end") };
                (LpValue::Str(s), p + 1 + n)
            }
            1 => {
                let Some(&lo) = zl.get(p + 1) else { return bad("length past the end") };
                let n = (((enc & 0x3f) as usize) << 8) | lo as usize;
                let Some(s) = take(p + 2, n) else { return bad("string past the end") };
                (LpValue::Str(s), p + 2 + n)
            }
            2 => {
                if enc != 0x80 {
                    return bad("unknown string encoding");
                }
                let Some(l) = take(p + 1, 4) else { return bad("length past the end") };
                let n = u32::from_be_bytes([l[0], l[1], l[2], l[3]]) as usize;
                let Some(s) = take(p + 5, n) else { return bad("string past the end") };
                (LpValue::Str(s), p + 5 + n)
            }
            _ => {
                let width = match enc {
                    0xC0 => 2,
                    0xD0 => 4,
                    0xE0 => 8,
                    0xF0 => 3,
                    0xFE => 1,
                    0xF1..=0xFD => 0,
                    _ => return bad("unknown integer encoding"),
                };
                let v = if width == 0 {
                    (enc & 0x0f) as i64 - 1
                } else {
                    let Some(d) = take(p + 1, width) else { return bad("integer past the end") };
                    let shift = 64 - 8 * width as u32;
                    ((read_le(d) << shift) as i64) >> shift
                };
                (LpValue::Int(v), p + 1 + width)
            }
        };
        f(item)?;
        seen += 1;
        prev_len = next - start;
        last_start = start;
        pos = next;
    }
    if pos + 1 != zl.len() {
        return bad("data after the terminator");
    }
    if seen > 0 && tail != last_start || seen == 0 && tail != HEADER_BYTES {
        return bad("tail offset does not match");
    }
    if count != u16::MAX && count as usize != seen {
        return bad("element count does not match");
    }
    Ok(seen)
}

/// Builds a ziplist (tests and fixtures only: nothing writes ziplists any more).
#[cfg(test)]
pub fn build(items: &[&[u8]]) -> Vec<u8> {
    let mut body = Vec::new();
    let mut prev = 0usize;
    let mut tail = HEADER_BYTES;
    for s in items {
        let start = body.len();
        tail = HEADER_BYTES + start;
        if prev < 254 {
            body.push(prev as u8);
        } else {
            body.push(0xFE);
            body.extend_from_slice(&(prev as u32).to_le_bytes());
        }
        match crate::store::listpack::as_int(s) {
            Some(v @ 0..=12) => body.push(0xF1 + v as u8),
            Some(v) if i8::try_from(v).is_ok() => {
                body.push(0xFE);
                body.push(v as u8);
            }
            Some(v) if i16::try_from(v).is_ok() => {
                body.push(0xC0);
                body.extend_from_slice(&(v as i16).to_le_bytes());
            }
            Some(v) if (-(1 << 23)..(1 << 23)).contains(&v) => {
                body.push(0xF0);
                body.extend_from_slice(&(v as i32).to_le_bytes()[..3]);
            }
            Some(v) if i32::try_from(v).is_ok() => {
                body.push(0xD0);
                body.extend_from_slice(&(v as i32).to_le_bytes());
            }
            Some(v) => {
                body.push(0xE0);
                body.extend_from_slice(&v.to_le_bytes());
            }
            None if s.len() <= 63 => {
                body.push(s.len() as u8);
                body.extend_from_slice(s);
            }
            None if s.len() <= 16383 => {
                body.push(0x40 | (s.len() >> 8) as u8);
                body.push(s.len() as u8);
                body.extend_from_slice(s);
            }
            None => {
                body.push(0x80);
                body.extend_from_slice(&(s.len() as u32).to_be_bytes());
                body.extend_from_slice(s);
            }
        }
        prev = body.len() - start;
    }
    let total = HEADER_BYTES + body.len() + 1;
    let mut zl = Vec::with_capacity(total);
    zl.extend_from_slice(&(total as u32).to_le_bytes());
    zl.extend_from_slice(&(tail as u32).to_le_bytes());
    zl.extend_from_slice(&(items.len().min(65535) as u16).to_le_bytes());
    zl.extend_from_slice(&body);
    zl.push(END);
    zl
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn round_trip_every_encoding() {
        let long: Vec<u8> = vec![b'z'; 300];
        let huge: Vec<u8> = vec![b'q'; 17000];
        let items: Vec<&[u8]> = vec![
            b"",
            b"abc",
            b"0",
            b"12",
            b"13",
            b"-1",
            b"127",
            b"-300",
            b"40000",
            b"-8000000",
            b"2000000000",
            b"9000000000",
            &long,
            &huge,
        ];
        let zl = build(&items);
        let mut got = Vec::new();
        for_each(&zl, |it| {
            got.push(it.to_vec());
            Ok(())
        })
        .unwrap();
        assert_eq!(got, items.iter().map(|s| s.to_vec()).collect::<Vec<_>>());
    }

    proptest! {
        #[test]
        fn decoding_never_panics(data in proptest::collection::vec(any::<u8>(), 0..100)) {
            let _ = for_each(&data, |_| Ok(()));
        }

        #[test]
        fn flipped_bytes_never_panic(pos in 0usize..40, byte in any::<u8>()) {
            let mut zl = build(&[b"hello", b"12", b"-7000", b"world!"]);
            if let Some(x) = zl.get_mut(pos) {
                *x = byte;
            }
            let _ = for_each(&zl, |_| Ok(()));
        }
    }
}

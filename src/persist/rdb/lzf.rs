//! LZF, the compression Redis applies to strings longer than 20 bytes in RDB files and DUMP
//! payloads (`rdbcompression yes`).
//!
//! The stream is a sequence of runs, each introduced by a control byte:
//! - `000LLLLL`: `L + 1` literal bytes follow (1..=32);
//! - `LLLooooo oooooooo`: copy `L + 2` bytes (L in 1..=6) starting `o + 1` bytes back;
//! - `111ooooo EEEEEEEE oooooooo`: the same with length `E + 9` (up to 264).
//!
//! The compressor hashes every 3-byte sequence into a 64 Ki-entry table of positions and takes
//! the most recent candidate, as Redis's bundled LZF does (with its "very fast" re-hashing after
//! a match), so our output is usually byte for byte what Redis writes. The decompressor trusts
//! nothing: every length and back-reference is checked against both buffers.

const HASH_LOG: u32 = 16;
const HASH_SIZE: usize = 1 << HASH_LOG;
const MAX_LITERAL: usize = 32;
const MAX_OFFSET: usize = 1 << 13;
const MAX_MATCH: usize = (1 << 8) + (1 << 3);

/// The hash of the three bytes in the low 24 bits of `h` (older bytes above are kept, as the
/// reference implementation keeps them, because they change which slot is picked).
#[inline]
fn slot_of(h: u32) -> usize {
    ((h >> (3 * 8 - HASH_LOG)).wrapping_sub(h.wrapping_mul(5)) as usize) & (HASH_SIZE - 1)
}

/// The hash table of positions, reused by every call on a thread: each entry carries the call
/// it was written by in its high half, so a new call sees an empty table without clearing
/// 512 KiB first (a snapshot compresses millions of short strings).
struct Table {
    slots: Vec<u64>,
    call: u32,
}

impl Table {
    /// Starts a new call; returns its tag.
    fn begin(&mut self) -> u64 {
        if self.slots.is_empty() {
            self.slots = vec![0; HASH_SIZE];
        }
        self.call = self.call.wrapping_add(1);
        if self.call == 0 {
            // Tags wrapped: old entries could look current, so clear once every 2^32 calls.
            self.slots.fill(0);
            self.call = 1;
        }
        (self.call as u64) << 32
    }
}

thread_local! {
    static TABLE: std::cell::RefCell<Table> = const { std::cell::RefCell::new(Table { slots: Vec::new(), call: 0 }) };
}

/// Compresses `input`; None when the result would not fit in `max_out` bytes (Redis asks for at
/// least 4 bytes of saving and stores the string uncompressed otherwise).
pub fn compress(input: &[u8], max_out: usize) -> Option<Vec<u8>> {
    if input.len() < 3 || input.len() > u32::MAX as usize {
        return None;
    }
    TABLE.with(|t| {
        let mut t = t.borrow_mut();
        let tag = t.begin();
        compress_with(input, max_out, &mut t.slots, tag)
    })
}

fn compress_with(input: &[u8], max_out: usize, table: &mut [u64], tag: u64) -> Option<Vec<u8>> {
    let n = input.len();
    let byte = |i: usize| -> u32 { input.get(i).copied().unwrap_or(0) as u32 };
    // A slot is a position of this call when its tag matches; position 0 doubles as "empty":
    // a match must start after the first byte, as in Redis.
    let read = |table: &[u64], slot: usize| -> usize {
        let v = table[slot];
        if v & !0xffff_ffff == tag {
            (v & 0xffff_ffff) as usize
        } else {
            0
        }
    };
    let mut out: Vec<u8> = Vec::with_capacity(max_out.min(n) + 1);
    let mut lit = 0usize;
    out.push(0); // length byte of the first literal run
    let mut ip = 0usize;
    let mut h: u32 = (byte(0) << 8) | byte(1);
    while ip + 2 < n {
        h = (h << 8) | byte(ip + 2);
        let slot = slot_of(h);
        let cand = read(table, slot);
        table[slot] = tag | ip as u64;
        let off = ip.wrapping_sub(cand).wrapping_sub(1);
        if cand > 0 && cand < ip && off < MAX_OFFSET && input.get(cand..cand + 3) == input.get(ip..ip + 3) {
            let mut len = 2usize;
            let max_len = (n - ip - len).min(MAX_MATCH);
            if out.len() - usize::from(lit == 0) + 3 + 1 >= max_out {
                return None;
            }
            // Close the literal run (or drop its unused length byte).
            let run_at = out.len() - lit - 1;
            if lit == 0 {
                out.pop();
            } else {
                out[run_at] = (lit - 1) as u8;
            }
            loop {
                len += 1;
                if len >= max_len || input.get(cand + len) != input.get(ip + len) {
                    break;
                }
            }
            len -= 2;
            ip += 1;
            if len < 7 {
                out.push(((off >> 8) + (len << 5)) as u8);
            } else {
                out.push(((off >> 8) + (7 << 5)) as u8);
                out.push((len - 7) as u8);
            }
            out.push(off as u8);
            out.push(0);
            lit = 0;
            ip += len + 1;
            if ip + 2 >= n {
                break;
            }
            // Enter the two positions just before the new one into the table.
            ip -= 2;
            h = (byte(ip) << 8) | byte(ip + 1);
            h = (h << 8) | byte(ip + 2);
            table[slot_of(h)] = tag | ip as u64;
            ip += 1;
            h = (h << 8) | byte(ip + 2);
            table[slot_of(h)] = tag | ip as u64;
            ip += 1;
        } else {
            if out.len() >= max_out {
                return None;
            }
            push_literal(&mut out, &mut lit, input[ip]);
            ip += 1;
        }
    }
    // At most two bytes are left; like the reference, refuse unless three more fit.
    if out.len() + 3 > max_out {
        return None;
    }
    while ip < n {
        push_literal(&mut out, &mut lit, input[ip]);
        ip += 1;
    }
    let run_at = out.len() - lit - 1;
    if lit == 0 {
        out.pop();
    } else {
        out[run_at] = (lit - 1) as u8;
    }
    (out.len() <= max_out).then_some(out)
}

fn push_literal(out: &mut Vec<u8>, lit: &mut usize, b: u8) {
    *lit += 1;
    out.push(b);
    if *lit == MAX_LITERAL {
        let run_at = out.len() - MAX_LITERAL - 1;
        out[run_at] = (MAX_LITERAL - 1) as u8;
        *lit = 0;
        out.push(0);
    }
}

/// Decompresses `input`, which must expand to exactly `expected_len` bytes.
pub fn decompress(input: &[u8], expected_len: usize) -> Result<Vec<u8>, &'static str> {
    // The longest expansion is a 264-byte copy from 3 input bytes: refuse lengths no input of
    // this size could produce before allocating for them.
    if expected_len / 88 > input.len() {
        return Err("LZF length larger than the compressed data can hold");
    }
    let mut out: Vec<u8> = Vec::with_capacity(expected_len);
    let mut ip = 0usize;
    while ip < input.len() {
        let ctrl = input[ip] as usize;
        ip += 1;
        if ctrl < 32 {
            let run = ctrl + 1;
            let src = input.get(ip..ip + run).ok_or("LZF literal run past the end of the input")?;
            if out.len() + run > expected_len {
                return Err("LZF data longer than announced");
            }
            out.extend_from_slice(src);
            ip += run;
        } else {
            let mut len = ctrl >> 5;
            if len == 7 {
                len += *input.get(ip).ok_or("LZF match past the end of the input")? as usize;
                ip += 1;
            }
            let low = *input.get(ip).ok_or("LZF match past the end of the input")? as usize;
            ip += 1;
            let back = ((ctrl & 0x1f) << 8) + low + 1;
            len += 2;
            if out.len() + len > expected_len {
                return Err("LZF data longer than announced");
            }
            let from = out.len().checked_sub(back).ok_or("LZF back-reference before the start")?;
            for i in from..from + len {
                let b = out[i];
                out.push(b);
            }
        }
    }
    if out.len() != expected_len {
        return Err("LZF data shorter than announced");
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn same_bytes_as_redis() {
        // `SET big <50 x 'a'>` saved by redis-server 7.0.15.
        let c = compress(&[b'a'; 50], 46).expect("compressible");
        assert_eq!(c, [0x01, 0x61, 0x61, 0xe0, 0x25, 0x00, 0x01, 0x61, 0x61]);
        assert_eq!(decompress(&c, 50).as_deref(), Ok(&[b'a'; 50][..]));
    }

    #[test]
    fn output_does_not_depend_on_earlier_calls() {
        let a: Vec<u8> = b"abcabcabcabcXYZabcabcabcabcabc".repeat(3);
        let first = compress(&a, a.len()).unwrap();
        let _ = compress(&b"abcabcabcXYZ-other-input-abcabcabc".repeat(5), 1000);
        assert_eq!(compress(&a, a.len()).unwrap(), first);
    }

    #[test]
    fn fails_where_redis_fails() {
        // A stream node redis-server 7.0.15 stored uncompressed: compressing it just reaches
        // the 4-byte saving, which Redis's tail check refuses.
        let lp = [
            0x3e, 0, 0, 0, 0x19, 0, 2, 1, 1, 1, 2, 1, 0x81, 0x61, 2, 0x81, 0x62, 2, 0, 1, 2, 1, 0, 1, 0, 1, 1, 1, 2, 1,
            5, 1, 3, 1, 1, 1, 0xdf, 0xff, 2, 3, 1, 4, 1, 5, 1, 0, 1, 2, 1, 0xdf, 0xff, 2, 1, 1, 0x81, 0x63, 2, 5, 1, 6,
            1, 0xff,
        ];
        assert_eq!(lp.len(), 62);
        assert_eq!(compress(&lp, lp.len() - 4), None);
    }

    #[test]
    fn incompressible_fails() {
        let data: Vec<u8> = (0..100u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 7) as u8).collect();
        assert_eq!(compress(&data, data.len() - 4), None);
    }

    #[test]
    fn corrupt_input_is_an_error() {
        assert!(decompress(&[0x20, 0x00], 3).is_err()); // back-reference before the start
        assert!(decompress(&[0x05, b'a'], 6).is_err()); // literal run past the end
        assert!(decompress(&[0x00, b'a'], 2).is_err()); // too short
        assert!(decompress(&[0x00], 1_000_000).is_err()); // implausible length
    }

    proptest! {
        #[test]
        fn round_trip(data in proptest::collection::vec(prop_oneof![Just(b'x'), Just(b'y'), any::<u8>()], 0..3000)) {
            if let Some(c) = compress(&data, data.len()) {
                prop_assert!(c.len() <= data.len());
                prop_assert_eq!(decompress(&c, data.len()).unwrap(), data);
            }
        }

        #[test]
        fn decompress_never_panics(data in proptest::collection::vec(any::<u8>(), 0..200), n in 0usize..5000) {
            let _ = decompress(&data, n);
        }
    }
}

//! Counters: INCR DECR INCRBY DECRBY on 64-bit integers, and INCRBYFLOAT, whose arithmetic
//! runs in C `long double` (`src/native/longdouble.c`) because that is what Redis computes
//! in and `f64` prints different digits. All of them keep the key's TTL, as Redis does.

use super::{lookup_write, new_entry, str_of, str_of_mut};
use crate::command::args::parse_i64;
use crate::command::family::insert_key;
use crate::command::spec::DataCtx;
use crate::error;
use crate::resp::parse::parse_i64_strict;
use crate::resp::Out;
use crate::store::events::class;
use crate::store::keyspace::NO_EXPIRE;
use crate::store::{CompactBytes, StrValue, Value};

/// Redis's `incrDecrCommand`: adds `by` to the integer at `key` (0 when missing), with one
/// lookup on the hot path (an existing counter is updated in place).
fn incr_decr(ctx: &mut DataCtx, key: &[u8], by: i64, out: &mut Out) {
    let new = match lookup_write(ctx, key) {
        Some(e) => {
            let Some(s) = str_of_mut(&mut e.value) else {
                return out.error(error::WRONGTYPE);
            };
            let old = match s {
                StrValue::Int(n) => *n,
                StrValue::Bytes { data, .. } => match parse_i64_strict(data) {
                    Some(n) => n,
                    None => return out.error(error::NOT_INTEGER),
                },
            };
            let Some(new) = old.checked_add(by) else {
                return out.error(error::OVERFLOW);
            };
            *s = StrValue::Int(new);
            new
        }
        None => {
            let e = new_entry(ctx, Value::Str(StrValue::Int(by)), NO_EXPIRE);
            insert_key(ctx, key, e);
            by
        }
    };
    // INCR, DECR and DECRBY all report Redis's one event name for the family.
    ctx.notify(class::STRING, "incrby", key);
    ctx.dirty(1);
    out.int(new);
}

pub fn incr(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    incr_decr(ctx, args[1], 1, out);
}

pub fn decr(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    incr_decr(ctx, args[1], -1, out);
}

pub fn incrby(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    match parse_i64(args[2]) {
        Ok(by) => incr_decr(ctx, args[1], by, out),
        Err(e) => out.error(e),
    }
}

pub fn decrby(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    match parse_i64(args[2]) {
        // Negating i64::MIN overflows; Redis says so with its own text before any lookup.
        Ok(i64::MIN) => out.error("ERR decrement would overflow"),
        Ok(by) => incr_decr(ctx, args[1], -by, out),
        Err(e) => out.error(e),
    }
}

/// Longest text `ld2string` can produce, and longest input `string2ld` accepts (Redis's
/// MAX_LONG_DOUBLE_CHARS).
const MAX_LONG_DOUBLE_CHARS: usize = 5 * 1024;

extern "C" {
    /// `src/native/longdouble.c`: parses `cur` and `incr` as Redis's `string2ld`, adds them
    /// in `long double`, and writes the sum formatted as `ld2string(LD_STR_HUMAN)` into
    /// `out`. Returns its length, or -1 (bad current value), -2 (bad increment), -3 (NaN or
    /// infinity), -4 (no room).
    fn tessera_incrbyfloat(
        cur: *const libc::c_char,
        curlen: usize,
        incr: *const libc::c_char,
        incrlen: usize,
        out: *mut libc::c_char,
        outcap: usize,
    ) -> libc::c_long;
}

/// Why a `long double` addition failed.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum LdError {
    BadCurrent,
    BadIncrement,
    /// The sum (or an operand) is NaN or infinite.
    Nan,
}

/// Redis's INCRBYFLOAT arithmetic: `cur + incr` in `long double`, as the text Redis stores.
pub(super) fn add_long_double(cur: &[u8], incr: &[u8]) -> Result<Vec<u8>, &'static str> {
    long_double_add(cur, incr).map_err(|e| match e {
        LdError::BadCurrent | LdError::BadIncrement => error::NOT_FLOAT,
        LdError::Nan => "ERR increment would produce NaN or Infinity",
    })
}

/// `cur + incr` computed in C `long double` (INCRBYFLOAT, HINCRBYFLOAT), with the reason
/// when it fails so each command can word its own error.
pub(crate) fn long_double_add(cur: &[u8], incr: &[u8]) -> Result<Vec<u8>, LdError> {
    let mut buf = [0u8; MAX_LONG_DOUBLE_CHARS];
    // SAFETY: both inputs are valid for their lengths (the C side reads exactly that many
    // bytes and copies them into its own NUL-terminated buffer); `buf` is writable for
    // `buf.len()` bytes and the C side writes at most `outcap` bytes. Nothing is retained.
    #[allow(unsafe_code)]
    let n = unsafe {
        tessera_incrbyfloat(
            cur.as_ptr().cast(),
            cur.len(),
            incr.as_ptr().cast(),
            incr.len(),
            buf.as_mut_ptr().cast(),
            buf.len(),
        )
    };
    match n {
        -1 => Err(LdError::BadCurrent),
        -2 => Err(LdError::BadIncrement),
        n if n >= 0 => Ok(buf.get(..n as usize).unwrap_or_default().to_vec()),
        // -3, and -4 which cannot happen with a buffer of MAX_LONG_DOUBLE_CHARS.
        _ => Err(LdError::Nan),
    }
}

pub fn incrbyfloat(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    let key = args[1];
    let now_ms = ctx.now_ms;
    let sum = match lookup_write(ctx, key) {
        None => add_long_double(b"0", args[2]),
        Some(e) => match str_of(&e.value) {
            None => return out.error(error::WRONGTYPE),
            Some(s) => {
                let mut tmp = [0u8; 24];
                add_long_double(s.as_bytes(&mut tmp), args[2])
            }
        },
    };
    let sum = match sum {
        Ok(s) => s,
        Err(e) => return out.error(e),
    };
    // Redis stores the printed sum as a plain string (`createStringObject`), never as an
    // int, even when it looks like one: OBJECT ENCODING says embstr for "3".
    let value = Value::Str(StrValue::Bytes { data: CompactBytes::new(&sum), raw: false });
    match ctx.db().get(key, now_ms) {
        Some(e) => e.value = value,
        None => {
            let e = new_entry(ctx, value, NO_EXPIRE);
            insert_key(ctx, key, e);
        }
    }
    ctx.notify(class::STRING, "incrbyfloat", key);
    ctx.dirty(1);
    out.bulk(&sum);
}

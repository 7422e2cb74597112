//! BITFIELD and BITFIELD_RO: integers of 1 to 64 bits (signed) or 1 to 63 bits (unsigned) at
//! any bit offset, read with GET, written with SET and INCRBY under the OVERFLOW mode in force
//! (WRAP, SAT or FAIL).
//!
//! All operations are parsed before any runs, so a malformed one anywhere rejects the whole
//! call. A call with a write grows the string once, to its farthest written bit, then runs
//! the operations in order. Overflow detection follows Redis's arithmetic exactly, including
//! its wrapping intermediate values (so `OVERFLOW SAT SET i8 0 -9223372036854775808` stores
//! 127, as Redis does).

use super::{parse_bit_offset, read_str, string_for_write, word_is};
use crate::command::args::parse_i64;
use crate::command::spec::DataCtx;
use crate::error;
use crate::resp::Out;
use crate::store::events::class;

const ERR_TYPE: &str =
    "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.";
const ERR_OVERFLOW_TYPE: &str = "ERR Invalid OVERFLOW type specified";
const ERR_RO: &str = "ERR BITFIELD_RO only supports the GET subcommand";

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Overflow {
    Wrap,
    Sat,
    Fail,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Kind {
    Get,
    Set,
    Incr,
}

/// One parsed operation.
#[derive(Clone, Copy, Debug)]
struct Op {
    kind: Kind,
    signed: bool,
    bits: u32,
    offset: u64,
    value: i64,
    overflow: Overflow,
}

pub fn bitfield(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    run(ctx, args, out, false);
}

pub fn bitfield_ro(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out) {
    run(ctx, args, out, true);
}

/// A field type `i<bits>` or `u<bits>` (lower case; the width read as a C string).
fn parse_type(arg: &[u8]) -> Result<(bool, u32), &'static str> {
    let signed = match arg.first() {
        Some(b'i') => true,
        Some(b'u') => false,
        _ => return Err(ERR_TYPE),
    };
    let width = super::cstr(&arg[1..]);
    match crate::resp::parse::parse_i64_strict(width) {
        Some(b) if b >= 1 && b <= if signed { 64 } else { 63 } => Ok((signed, b as u32)),
        _ => Err(ERR_TYPE),
    }
}

/// Parses every operation; returns them with the farthest bit any write reaches.
fn parse_ops(args: &[&[u8]], max_bulk_bytes: u64) -> Result<(Vec<Op>, Option<u64>), &'static str> {
    let mut ops = Vec::new();
    let mut overflow = Overflow::Wrap;
    let mut highest_write: Option<u64> = None;
    let mut j = 2;
    while let Some(&sub) = args.get(j) {
        let left = args.len() - j - 1;
        let kind = if word_is(sub, "get") && left >= 2 {
            Kind::Get
        } else if word_is(sub, "set") && left >= 3 {
            Kind::Set
        } else if word_is(sub, "incrby") && left >= 3 {
            Kind::Incr
        } else if word_is(sub, "overflow") && left >= 1 {
            let mode = args[j + 1];
            overflow = if word_is(mode, "wrap") {
                Overflow::Wrap
            } else if word_is(mode, "sat") {
                Overflow::Sat
            } else if word_is(mode, "fail") {
                Overflow::Fail
            } else {
                return Err(ERR_OVERFLOW_TYPE);
            };
            j += 2;
            continue;
        } else {
            return Err(error::SYNTAX);
        };
        let (signed, bits) = parse_type(args[j + 1])?;
        let offset = parse_bit_offset(args[j + 2], Some(bits), max_bulk_bytes)?;
        let mut value = 0;
        if kind != Kind::Get {
            let last_bit = offset + u64::from(bits) - 1;
            highest_write = Some(highest_write.map_or(last_bit, |h| h.max(last_bit)));
            value = parse_i64(args[j + 3])?;
        }
        ops.push(Op { kind, signed, bits, offset, value, overflow });
        j += if kind == Kind::Get { 3 } else { 4 };
    }
    Ok((ops, highest_write))
}

fn run(ctx: &mut DataCtx, args: &[&[u8]], out: &mut Out, read_only: bool) {
    let (ops, highest_write) = match parse_ops(args, ctx.cfg.proto_max_bulk_len_bytes) {
        Ok(parsed) => parsed,
        Err(e) => return out.error(e),
    };
    let Some(highest_write) = highest_write else {
        // Only GETs: a read lookup; a missing key reads as zeros.
        let s = match read_str(ctx, args[1]) {
            Ok(s) => s,
            Err(e) => return out.error(e),
        };
        let mut tmp = [0u8; 24];
        let bytes = s.map_or(&[][..], |s| s.as_bytes(&mut tmp));
        out.array(ops.len());
        for op in &ops {
            out.int(get_field(bytes, op.offset, op.bits, op.signed));
        }
        return;
    };
    if read_only {
        return out.error(ERR_RO);
    }
    // The farthest bit is below proto-max-bulk-len * 8 + 64, so its byte fits usize.
    let min_len = (highest_write >> 3) as usize + 1;
    let bytes = match string_for_write(ctx, args[1], min_len) {
        Ok((bytes, _)) => bytes,
        Err(e) => return out.error(e),
    };
    out.array(ops.len());
    let mut changes = 0u64;
    for op in &ops {
        if op.kind == Kind::Get {
            out.int(get_field(bytes, op.offset, op.bits, op.signed));
            continue;
        }
        changes += 1;
        match apply(bytes, op) {
            Some(reply) => out.int(reply),
            None => out.null(),
        }
    }
    if changes > 0 {
        ctx.notify(class::STRING, "setbit", args[1]);
        ctx.dirty(changes);
    }
}

/// Runs one SET or INCRBY on `bytes`: the reply (SET: the old value, INCRBY: the new one), or
/// None when OVERFLOW FAIL refused it (nothing written).
fn apply(bytes: &mut [u8], op: &Op) -> Option<i64> {
    let raw_old = read_bits(bytes, op.offset, op.bits);
    let (reply, new) = if op.signed {
        let old = sign_extend(raw_old, op.bits);
        let (value, incr) = if op.kind == Kind::Incr { (old, op.value) } else { (op.value, 0) };
        let (overflowed, limited) = signed_overflow(value, incr, op.bits, op.overflow);
        if overflowed && op.overflow == Overflow::Fail {
            return None;
        }
        let new = if overflowed { limited } else { value.wrapping_add(incr) };
        (if op.kind == Kind::Incr { new } else { old }, new as u64)
    } else {
        let (value, incr) = if op.kind == Kind::Incr { (raw_old, op.value) } else { (op.value as u64, 0) };
        let (overflowed, limited) = unsigned_overflow(value, incr, op.bits, op.overflow);
        if overflowed && op.overflow == Overflow::Fail {
            return None;
        }
        let new = if overflowed { limited } else { value.wrapping_add(incr as u64) };
        (if op.kind == Kind::Incr { new as i64 } else { raw_old as i64 }, new)
    };
    write_bits(bytes, op.offset, op.bits, new);
    Some(reply)
}

/// GET of one field: bits past the end read as zeros.
pub(crate) fn get_field(bytes: &[u8], offset: u64, bits: u32, signed: bool) -> i64 {
    let v = read_bits(bytes, offset, bits);
    if signed {
        sign_extend(v, bits)
    } else {
        v as i64
    }
}

/// `bits` bits from bit `offset`, most significant first; past the end reads as zeros.
fn read_bits(bytes: &[u8], offset: u64, bits: u32) -> u64 {
    let mut v: u64 = 0;
    for i in 0..u64::from(bits) {
        let at = offset + i;
        let byte = usize::try_from(at >> 3).ok().and_then(|b| bytes.get(b)).copied().unwrap_or(0);
        v = (v << 1) | u64::from((byte >> (7 - (at & 7))) & 1);
    }
    v
}

/// Writes the low `bits` bits of `v` at bit `offset`, most significant first. The caller has
/// grown the string to cover them.
pub(crate) fn write_bits(bytes: &mut [u8], offset: u64, bits: u32, v: u64) {
    for i in 0..u64::from(bits) {
        let at = offset + i;
        let bit = (v >> (u64::from(bits) - 1 - i)) & 1;
        let Some(byte) = usize::try_from(at >> 3).ok().and_then(|b| bytes.get_mut(b)) else {
            debug_assert!(false, "BITFIELD write past the grown string");
            return;
        };
        let mask = 0x80u8 >> (at & 7);
        if bit == 1 {
            *byte |= mask;
        } else {
            *byte &= !mask;
        }
    }
}

fn sign_extend(v: u64, bits: u32) -> i64 {
    if bits < 64 && v & (1u64 << (bits - 1)) != 0 {
        (v | (u64::MAX << bits)) as i64
    } else {
        v as i64
    }
}

/// Whether `value + incr` leaves the range of a signed `bits`-bit field, and the value the
/// overflow mode gives then (WRAP: the sum truncated and sign-extended; SAT: the nearest
/// limit). The comparisons use Redis's wrapping intermediates on purpose, see the file header.
pub(crate) fn signed_overflow(value: i64, incr: i64, bits: u32, mode: Overflow) -> (bool, i64) {
    let max: i64 = if bits == 64 { i64::MAX } else { (1i64 << (bits - 1)) - 1 };
    let min = -max - 1;
    let max_incr = (max as u64).wrapping_sub(value as u64) as i64;
    let min_incr = min.wrapping_sub(value);
    let wide = bits != 64;
    let over = value > max || (wide && incr > max_incr) || (value >= 0 && incr > 0 && incr > max_incr);
    let under = value < min || (wide && incr < min_incr) || (value < 0 && incr < 0 && incr < min_incr);
    if !over && !under {
        return (false, 0);
    }
    let limited = match mode {
        Overflow::Sat if over => max,
        Overflow::Sat => min,
        _ => {
            let mut c = (value as u64).wrapping_add(incr as u64);
            if bits < 64 {
                let high = u64::MAX << bits;
                if c & (1u64 << (bits - 1)) != 0 {
                    c |= high;
                } else {
                    c &= !high;
                }
            }
            c as i64
        }
    };
    (true, limited)
}

/// The unsigned counterpart of `signed_overflow` (fields of at most 63 bits).
pub(crate) fn unsigned_overflow(value: u64, incr: i64, bits: u32, mode: Overflow) -> (bool, u64) {
    let max: u64 = if bits >= 64 { u64::MAX } else { (1u64 << bits) - 1 };
    let max_incr = max.wrapping_sub(value) as i64;
    let min_incr = (value as i64).wrapping_neg();
    let over = value > max || (incr > 0 && incr > max_incr);
    let under = !over && incr < 0 && incr < min_incr;
    if !over && !under {
        return (false, 0);
    }
    let limited = match mode {
        Overflow::Sat if over => max,
        Overflow::Sat => 0,
        _ => value.wrapping_add(incr as u64) & max,
    };
    (true, limited)
}

//! The sparse encoding: after the header, a sequence of run-length opcodes covering the 16384
//! registers in order.
//! - ZERO  `00xxxxxx`: 1..=64 registers at 0;
//! - XZERO `01xxxxxx yyyyyyyy`: 1..=16384 registers at 0 (14-bit length);
//! - VAL   `1vvvvvxx`: 1..=4 registers at value 1..=32.
//!
//! Updates split and merge opcodes exactly as Redis does (the resulting bytes are visible to
//! GET and DUMP). Input may be any client bytes: every read is bounds-checked. An XZERO whose
//! second byte lies past the end reads that byte as 0, as Redis does (it reads the string's NUL
//! terminator there); counts use u64/usize so long malformed runs cannot wrap.

use super::{dense, invalidate_cache, Corrupt, DENSE_SIZE_BYTES, ENCODING_AT, HDR_SIZE_BYTES, REGISTERS};

const ZERO_MAX_LEN: usize = 64;
const XZERO_MAX_LEN: usize = 16384;
const VAL_MAX_VALUE: u8 = 32;
const VAL_MAX_LEN: usize = 4;

/// One decoded opcode.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Op {
    Zero(usize),
    XZero(usize),
    /// (value, run length)
    Val(u8, usize),
}

impl Op {
    fn span(self) -> usize {
        match self {
            Op::Zero(n) | Op::XZero(n) | Op::Val(_, n) => n,
        }
    }
    /// Bytes the opcode takes in a well-formed sequence.
    fn width(self) -> usize {
        match self {
            Op::XZero(_) => 2,
            _ => 1,
        }
    }
}

/// The opcode at `p` of `ops` (p < ops.len()).
fn op_at(ops: &[u8], p: usize) -> Op {
    let b = ops.get(p).copied().unwrap_or(0);
    if b & 0x80 != 0 {
        Op::Val(((b >> 2) & 0x1f) + 1, usize::from(b & 0x3) + 1)
    } else if b & 0x40 != 0 {
        let lo = ops.get(p + 1).copied().unwrap_or(0);
        Op::XZero(((usize::from(b & 0x3f) << 8) | usize::from(lo)) + 1)
    } else {
        Op::Zero(usize::from(b & 0x3f) + 1)
    }
}

fn val_byte(value: u8, len: usize) -> u8 {
    debug_assert!((1..=VAL_MAX_VALUE).contains(&value) && (1..=VAL_MAX_LEN).contains(&len), "VAL out of range");
    0x80 | ((value - 1) << 2) | (len - 1) as u8
}

/// Appends a zero run of `len` registers as one opcode (ZERO when it fits, else XZERO).
fn push_zeros(seq: &mut Vec<u8>, len: usize) {
    if len > ZERO_MAX_LEN {
        push_xzero(seq, len);
    } else {
        seq.push((len - 1) as u8);
    }
}

/// Appends one XZERO opcode of `len` (1..=16384) registers.
pub(super) fn push_xzero(seq: &mut Vec<u8>, len: usize) {
    debug_assert!((1..=XZERO_MAX_LEN).contains(&len), "XZERO length out of range");
    let l = len - 1;
    seq.push(0x40 | ((l >> 8) as u8 & 0x3f));
    seq.push((l & 0xff) as u8);
}

/// Raises register `index` to `count` in the sparse value `hll` (Redis's `hllSparseSet`).
/// Ok(true) when changed (the cache is then marked stale). Promotes to dense when `count`
/// needs more than 5 bits or the value would grow past `max_bytes`.
pub(super) fn set(hll: &mut Vec<u8>, index: usize, count: u8, max_bytes: usize) -> Result<bool, Corrupt> {
    if count > VAL_MAX_VALUE {
        return promote(hll, index, count);
    }

    // Step 1: find the opcode covering `index`.
    let end = hll.len();
    let mut p = HDR_SIZE_BYTES;
    let mut first = 0usize;
    let mut prev = None;
    let mut found = None;
    while p < end {
        let op = op_at(hll, p);
        if index < first + op.span() {
            found = Some(op);
            break;
        }
        prev = Some(p);
        p += op.width();
        first += op.span();
    }
    let Some(op) = found else {
        return Err(Corrupt);
    };

    // Step 2: the cases that rewrite one byte in place.
    match op {
        Op::Val(old, _) if old >= count => return Ok(false),
        Op::Val(_, 1) | Op::Zero(1) => {
            if let Some(b) = hll.get_mut(p) {
                *b = val_byte(count, 1);
            }
            merge_adjacent_vals(hll, prev.unwrap_or(HDR_SIZE_BYTES));
            invalidate_cache(hll);
            return Ok(true);
        }
        _ => {}
    }

    // The general case: split the run into (before, our register, after).
    let last = first + op.span() - 1;
    let mut seq: Vec<u8> = Vec::with_capacity(5);
    match op {
        Op::Val(value, _) => {
            if index != first {
                seq.push(val_byte(value, index - first));
            }
            seq.push(val_byte(count, 1));
            if index != last {
                seq.push(val_byte(value, last - index));
            }
        }
        Op::Zero(_) | Op::XZero(_) => {
            if index != first {
                push_zeros(&mut seq, index - first);
            }
            seq.push(val_byte(count, 1));
            if index != last {
                push_zeros(&mut seq, last - index);
            }
        }
    }

    // Step 3: replace the old opcode with the new sequence, or promote when it would grow
    // past the limit.
    let grow = seq.len() as isize - op.width() as isize;
    if grow > 0 && end + grow as usize > max_bytes {
        return promote(hll, index, count);
    }
    let new_len = (end as isize + grow) as usize;
    let next = p + op.width();
    // An XZERO cut short by the end of the value is replaced whole; the tail is trimmed to
    // the length Redis records.
    hll.splice(p..next.min(end), seq);
    hll.truncate(new_len);

    // Step 4: merge the new VAL opcode with equal neighbours.
    merge_adjacent_vals(hll, prev.unwrap_or(HDR_SIZE_BYTES));
    invalidate_cache(hll);
    Ok(true)
}

/// Merges adjacent VAL opcodes of equal value whose lengths fit one opcode, scanning up to 5
/// opcodes from `p` (Redis's step 4 of `hllSparseSet`).
fn merge_adjacent_vals(hll: &mut Vec<u8>, mut p: usize) {
    let mut scans = 5;
    while p < hll.len() && scans > 0 {
        scans -= 1;
        match op_at(hll, p) {
            Op::XZero(_) => p += 2,
            Op::Zero(_) => p += 1,
            Op::Val(v1, len1) => {
                if p + 1 < hll.len() {
                    if let Op::Val(v2, len2) = op_at(hll, p + 1) {
                        if v1 == v2 && len1 + len2 <= VAL_MAX_LEN {
                            if let Some(b) = hll.get_mut(p + 1) {
                                *b = val_byte(v1, len1 + len2);
                            }
                            hll.remove(p);
                            // Stay on the merged opcode: it may merge with the next one too.
                            continue;
                        }
                    }
                }
                p += 1;
            }
        }
    }
}

/// Converts to dense, then raises the register there (the promotion of `hllSparseSet`).
fn promote(hll: &mut Vec<u8>, index: usize, count: u8) -> Result<bool, Corrupt> {
    let mut dense_value = to_dense(hll)?;
    let regs = dense_value.get_mut(HDR_SIZE_BYTES..).unwrap_or_default();
    // A promotion only happens for a register that must grow, so this always changes it.
    let changed = count > dense::dense_get(regs, index);
    if changed {
        dense::dense_set(regs, index, count);
    }
    *hll = dense_value;
    Ok(changed)
}

/// The dense form of the sparse value `hll` (`hllSparseToDense`): the header copied whole
/// except the encoding byte. Corrupt unless the runs cover exactly 16384 registers.
pub(super) fn to_dense(hll: &[u8]) -> Result<Vec<u8>, Corrupt> {
    let mut out = vec![0u8; DENSE_SIZE_BYTES];
    let header = hll.get(..HDR_SIZE_BYTES).ok_or(Corrupt)?;
    out[..HDR_SIZE_BYTES].copy_from_slice(header);
    out[ENCODING_AT] = 0;
    let regs = &mut out[HDR_SIZE_BYTES..];
    let ops = hll.get(HDR_SIZE_BYTES..).unwrap_or_default();
    let mut idx = 0usize;
    let mut p = 0;
    while p < ops.len() {
        let op = op_at(ops, p);
        if let Op::Val(value, len) = op {
            if idx + len > REGISTERS {
                break;
            }
            for i in idx..idx + len {
                dense::dense_set(regs, i, value);
            }
        }
        idx += op.span();
        p += op.width();
    }
    if idx == REGISTERS {
        Ok(out)
    } else {
        Err(Corrupt)
    }
}

/// Counts the registers of each value (`hllSparseRegHisto`); Corrupt unless the runs cover
/// exactly 16384 registers.
pub(super) fn histogram(ops: &[u8], histogram: &mut [u32; 64]) -> Result<(), Corrupt> {
    let mut idx = 0usize;
    let mut p = 0;
    while p < ops.len() {
        let op = op_at(ops, p);
        let span = op.span();
        let value = match op {
            Op::Val(v, _) => usize::from(v),
            _ => 0,
        };
        idx += span;
        // Long malformed runs are rejected below; saturate rather than wrap meanwhile.
        histogram[value] = histogram[value].saturating_add(span as u32);
        p += op.width();
    }
    if idx == REGISTERS {
        Ok(())
    } else {
        Err(Corrupt)
    }
}

/// Folds the sparse registers `ops` into `max` (the sparse half of `hllMerge`).
pub(super) fn merge_into(max: &mut [u8; REGISTERS], ops: &[u8]) -> Result<(), Corrupt> {
    let mut idx = 0usize;
    let mut p = 0;
    while p < ops.len() {
        let op = op_at(ops, p);
        if let Op::Val(value, len) = op {
            let Some(regs) = max.get_mut(idx..idx + len) else {
                break;
            };
            for m in regs {
                *m = (*m).max(value);
            }
        }
        idx += op.span();
        p += op.width();
    }
    if idx == REGISTERS {
        Ok(())
    } else {
        Err(Corrupt)
    }
}

/// PFDEBUG DECODE's text for the sparse registers of `hll`: `z:<len>`, `Z:<len>` and
/// `v:<value>,<len>` separated by spaces.
pub fn decode_sparse(hll: &[u8]) -> String {
    let ops = hll.get(HDR_SIZE_BYTES..).unwrap_or_default();
    let mut parts = Vec::new();
    let mut p = 0;
    while p < ops.len() {
        let op = op_at(ops, p);
        parts.push(match op {
            Op::Zero(n) => format!("z:{n}"),
            Op::XZero(n) => format!("Z:{n}"),
            Op::Val(v, n) => format!("v:{v},{n}"),
        });
        p += op.width();
    }
    parts.join(" ")
}

//! Dense registers: 16384 values of 6 bits packed least significant bit first, so register
//! `i` starts at bit `6 * i` of the register area and may straddle two bytes.
//!
//! Reads and writes never index past the slice: the last register's second byte lies past the
//! end of a dense value (Redis reads the string's NUL terminator there), and reads as 0.

use super::{REGISTERS, REGISTER_BITS, REGISTER_MAX};

/// Register `index` of the packed area `regs` (0 where the area is too short).
pub fn dense_get(regs: &[u8], index: usize) -> u8 {
    let bit = index * REGISTER_BITS;
    let (byte, shift) = (bit / 8, bit % 8);
    let b0 = u16::from(regs.get(byte).copied().unwrap_or(0));
    let b1 = u16::from(regs.get(byte + 1).copied().unwrap_or(0));
    (((b0 | (b1 << 8)) >> shift) as u8) & REGISTER_MAX
}

/// Sets register `index` of the packed area `regs` to `value` (only its low 6 bits count).
pub fn dense_set(regs: &mut [u8], index: usize, value: u8) {
    let bit = index * REGISTER_BITS;
    let (byte, shift) = (bit / 8, bit % 8);
    let field = u16::from(REGISTER_MAX) << shift;
    let v = u16::from(value & REGISTER_MAX) << shift;
    if let Some(b) = regs.get_mut(byte) {
        *b = (*b & !(field as u8)) | v as u8;
    }
    if let Some(b) = regs.get_mut(byte + 1) {
        *b = (*b & !((field >> 8) as u8)) | (v >> 8) as u8;
    }
}

/// Counts the registers of each value (`hllDenseRegHisto`).
pub fn histogram(regs: &[u8], histogram: &mut [u32; 64]) {
    for i in 0..REGISTERS {
        histogram[usize::from(dense_get(regs, i))] += 1;
    }
}

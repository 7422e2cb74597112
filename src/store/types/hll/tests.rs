//! Unit tests of the HyperLogLog byte layout and estimator. Register positions and values
//! were read from redis-server 7.0.15 (PFDEBUG DECODE) for the same elements.

use super::*;

#[test]
fn new_value_is_one_xzero() {
    let v = new_sparse();
    assert_eq!(v.len(), 18);
    assert_eq!(&v[..5], b"HYLL\x01");
    assert_eq!(&v[16..], &[0x7f, 0xff]);
    assert_eq!(check(&v), Some(Encoding::Sparse));
    assert_eq!(cached_card(&v), Some(0));
    assert_eq!(count(&v), Ok(0));
}

/// Redis decodes `PFADD k a b c` as `Z:8436 v:1,1 Z:4274 v:2,1 Z:3068 v:1,1 Z:603`.
#[test]
fn hash_and_pattern_match_redis() {
    let mut got: Vec<(usize, u8)> = [&b"a"[..], b"b", b"c"].iter().map(|e| pattern_of(e)).collect();
    got.sort_unstable();
    assert_eq!(got, vec![(8436, 1), (12711, 2), (15780, 1)]);
    let mut v = new_sparse();
    for e in [&b"a"[..], b"b", b"c"] {
        assert_eq!(add(&mut v, e, 3000), Ok(true));
    }
    assert_eq!(decode_sparse(&v), "Z:8436 v:1,1 Z:4274 v:2,1 Z:3068 v:1,1 Z:603");
    assert_eq!(add(&mut v, b"a", 3000), Ok(false));
}

#[test]
fn estimator_constant_is_redis_literal() {
    assert_eq!(estimate::ALPHA_INF, "0.721347520444481703680".parse::<f64>().unwrap_or(0.0));
}

#[test]
fn dense_registers_pack_lsb_first_without_touching_neighbours() {
    let mut regs = vec![0u8; DENSE_SIZE_BYTES - HDR_SIZE_BYTES];
    for i in (0..REGISTERS).step_by(7) {
        dense_set(&mut regs, i, (i % 64) as u8);
    }
    for i in 0..REGISTERS {
        let want = if i % 7 == 0 { (i % 64) as u8 } else { 0 };
        assert_eq!(dense_get(&regs, i), want, "register {i}");
    }
    // Register 1 lives in bits 6..12: the top two bits of byte 0 and the low four of byte 1.
    let mut regs = vec![0u8; 4];
    dense_set(&mut regs, 1, 0x3f);
    assert_eq!(regs, vec![0xc0, 0x0f, 0, 0]);
    // The last register's second byte lies past the end: written and read as nothing.
    let mut regs = vec![0u8; DENSE_SIZE_BYTES - HDR_SIZE_BYTES];
    dense_set(&mut regs, REGISTERS - 1, 63);
    assert_eq!(dense_get(&regs, REGISTERS - 1), 63);
    assert_eq!(regs.last(), Some(&0xfc));
}

#[test]
fn values_over_32_turn_a_sparse_value_dense() {
    let mut v = new_sparse();
    assert_eq!(set_register(&mut v, 5, 40, 3000), Ok(true));
    assert_eq!(check(&v), Some(Encoding::Dense));
    assert_eq!(v.len(), DENSE_SIZE_BYTES);
    assert_eq!(dense_registers(&v)[5], 40);
    assert_eq!(set_register(&mut v, 5, 39, 3000), Ok(false));
}

#[test]
fn sparse_runs_must_cover_every_register() {
    let mut v = new_sparse();
    v.truncate(HDR_SIZE_BYTES);
    v.extend_from_slice(&[0x7f, 0xfe]); // XZERO of 16383: one register short
    assert_eq!(count(&v), Err(Corrupt));
    assert_eq!(to_dense(&mut v), Err(Corrupt));
    let mut max = [0u8; REGISTERS];
    assert_eq!(merge_into(&mut max, &v), Err(Corrupt));
    // Register 16383 is covered by no opcode.
    assert_eq!(set_register(&mut v, REGISTERS - 1, 1, 3000), Err(Corrupt));
    // Adding ZERO(1) fixes the total.
    v.push(0x00);
    assert_eq!(count(&v), Ok(0));
    assert_eq!(set_register(&mut v, REGISTERS - 1, 3, 3000), Ok(true));
    assert_eq!(decode_sparse(&v), "Z:16383 v:3,1");
}

/// An XZERO whose second byte is missing reads it as 0 (Redis reads the NUL terminator).
#[test]
fn truncated_xzero_reads_a_zero_byte() {
    let mut v = new_sparse();
    v.truncate(HDR_SIZE_BYTES);
    v.extend_from_slice(&[0x7f, 0xfe, 0x40]); // XZERO 16383, then XZERO (0 << 8 | 0) + 1 = 1
    assert_eq!(decode_sparse(&v), "Z:16383 Z:1");
    assert_eq!(count(&v), Ok(0));
}

#[test]
fn header_checks() {
    let mut dense = new_sparse();
    assert_eq!(to_dense(&mut dense), Ok(true));
    assert_eq!(check(&dense), Some(Encoding::Dense));
    assert_eq!(check(&dense[..DENSE_SIZE_BYTES - 1]), None);
    assert_eq!(check(b"HYLL\x02\0\0\0\0\0\0\0\0\0\0\0"), None);
    assert_eq!(check(b"HYLX\x01\0\0\0\0\0\0\0\0\0\0\0"), None);
    assert_eq!(check(b"HYLL\x01\0\0\0\0\0\0\0\0\0\0"), None);
    assert_eq!(check(b"HYLL\x01\0\0\0\0\0\0\0\0\0\0\0"), Some(Encoding::Sparse));
    let mut v = new_sparse();
    set_cached_card(&mut v, 1234);
    assert_eq!(cached_card(&v), Some(1234));
    invalidate_cache(&mut v);
    assert_eq!(cached_card(&v), None);
    assert_eq!(&v[8..16], &[0xd2, 0x04, 0, 0, 0, 0, 0, 0x80]);
}

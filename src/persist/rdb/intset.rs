//! Redis's intset byte format (RDB type 11): `encoding u32 LE (2, 4 or 8) | length u32 LE |
//! values`, little-endian, sorted ascending without duplicates. Reading validates all of it.

use crate::store::types::set::IntSet;

const HEADER_BYTES: usize = 8;

/// The intset blob of `set`, at the set's own width.
pub fn encode(set: &IntSet) -> Vec<u8> {
    let width = set.width_bytes();
    let mut out = Vec::with_capacity(HEADER_BYTES + width * set.len());
    out.extend_from_slice(&(width as u32).to_le_bytes());
    out.extend_from_slice(&(set.len() as u32).to_le_bytes());
    for v in set.iter() {
        out.extend_from_slice(&v.to_le_bytes()[..width]);
    }
    out
}

/// The values of an intset blob, checked: known width, exact size, strictly ascending.
pub fn decode(blob: &[u8]) -> Result<Vec<i64>, String> {
    let bad = |what: &str| Err(format!("corrupt intset: {what}"));
    let Some(header) = blob.get(..HEADER_BYTES) else { return bad("shorter than its header") };
    let width = u32::from_le_bytes([header[0], header[1], header[2], header[3]]) as usize;
    let len = u32::from_le_bytes([header[4], header[5], header[6], header[7]]) as usize;
    if !matches!(width, 2 | 4 | 8) {
        return bad("unknown encoding");
    }
    if (blob.len() - HEADER_BYTES) != len.saturating_mul(width) {
        return bad("size does not match its length");
    }
    let mut out = Vec::with_capacity(len);
    for chunk in blob[HEADER_BYTES..].chunks_exact(width) {
        let raw = chunk.iter().rev().fold(0u64, |acc, &x| (acc << 8) | x as u64);
        let shift = 64 - 8 * width as u32;
        let v = ((raw << shift) as i64) >> shift;
        if out.last().is_some_and(|&last| last >= v) {
            return bad("values out of order or repeated");
        }
        out.push(v);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_widths() {
        for vals in [vec![1i64, 2, 3], vec![-40000, 5, 70000], vec![i64::MIN, 0, i64::MAX]] {
            let mut s = IntSet::new();
            for v in &vals {
                s.insert(*v);
            }
            let blob = encode(&s);
            assert_eq!(decode(&blob).unwrap(), vals);
        }
        // `SADD s 1 2 3` as redis-server 7.0.15 dumps it.
        let redis = [2, 0, 0, 0, 3, 0, 0, 0, 1, 0, 2, 0, 3, 0];
        assert_eq!(decode(&redis).unwrap(), vec![1, 2, 3]);
    }

    #[test]
    fn rejects_bad_blobs() {
        assert!(decode(&[2, 0, 0, 0, 2, 0, 0, 0, 2, 0, 1, 0]).is_err()); // descending
        assert!(decode(&[3, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0]).is_err()); // width 3
        assert!(decode(&[2, 0, 0, 0, 9, 0, 0, 0, 2, 0]).is_err()); // short
        assert!(decode(&[2, 0, 0]).is_err());
    }
}

//! HyperLogLog in Redis's byte layout, kept in a string value so GET, DUMP and RDB carry it
//! unchanged and a value written by Redis works here (and back).
//!
//! Layout (all of it is the string's bytes):
//! - a 16-byte header: `HYLL`, the encoding (0 dense, 1 sparse), 3 unused bytes, and the
//!   cached cardinality as 8 little-endian bytes whose last byte's top bit marks it stale;
//! - dense: 16384 registers of 6 bits, packed least significant bit first (12288 bytes);
//! - sparse: run-length opcodes (`sparse.rs`).
//!
//! Everything here is a pure function over bytes. Values come from clients (SET can store any
//! bytes under a key that PFADD later reads), so nothing here may panic or index out of range
//! on malformed input: a malformed value is reported as `Corrupt`. Byte-level results must be
//! Redis 7.0's exactly, including how sparse runs split and merge, so the same commands leave
//! the same bytes under a key on both servers.

mod dense;
mod estimate;
mod sparse;
#[cfg(test)]
mod tests;

pub use dense::{dense_get, dense_set};
pub use sparse::decode_sparse;

/// Index bits of the hash (Redis's `HLL_P`): 2^14 registers.
pub const P: u32 = 14;
/// Hash bits left for the run of zeroes (`HLL_Q`).
pub const Q: u32 = 64 - P;
pub const REGISTERS: usize = 1 << P;
/// Bits per dense register.
pub const REGISTER_BITS: usize = 6;
pub const REGISTER_MAX: u8 = (1 << REGISTER_BITS) - 1;
pub const HDR_SIZE_BYTES: usize = 16;
/// Total length of a dense value (header + packed registers).
pub const DENSE_SIZE_BYTES: usize = HDR_SIZE_BYTES + (REGISTERS * REGISTER_BITS).div_ceil(8);
/// Redis's seed for MurmurHash64A over the elements.
pub const HASH_SEED: u32 = 0xadc8_3b19;

const MAGIC: &[u8; 4] = b"HYLL";
const ENCODING_AT: usize = 4;
const CARD_AT: usize = 8;
/// The top bit of the cached cardinality's last byte: set when the cache is stale.
const CARD_STALE_BIT: u8 = 1 << 7;

/// Sentinel for values whose registers do not add up (Redis's `INVALIDOBJ` case).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Corrupt;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    Dense,
    Sparse,
}

impl Encoding {
    /// The name PFDEBUG ENCODING prints.
    pub fn name(self) -> &'static str {
        match self {
            Encoding::Dense => "dense",
            Encoding::Sparse => "sparse",
        }
    }
}

/// A new empty HyperLogLog as Redis creates it: sparse, one XZERO opcode covering every
/// register, cached cardinality 0 (valid).
pub fn new_sparse() -> Vec<u8> {
    let mut v = Vec::with_capacity(HDR_SIZE_BYTES + 2);
    v.extend_from_slice(MAGIC);
    v.push(1);
    v.resize(HDR_SIZE_BYTES, 0);
    sparse::push_xzero(&mut v, REGISTERS);
    v
}

/// The encoding of a string Redis accepts as a HyperLogLog (`isHLLObjectOrReply`): long
/// enough for the header, the magic, a known encoding, and a dense value of the exact size.
/// None means "not a valid HyperLogLog string value".
pub fn check(bytes: &[u8]) -> Option<Encoding> {
    if bytes.len() < HDR_SIZE_BYTES || !bytes.starts_with(MAGIC) {
        return None;
    }
    match bytes.get(ENCODING_AT) {
        Some(0) if bytes.len() == DENSE_SIZE_BYTES => Some(Encoding::Dense),
        Some(1) => Some(Encoding::Sparse),
        _ => None,
    }
}

/// The cached cardinality, when the cache is valid.
pub fn cached_card(bytes: &[u8]) -> Option<u64> {
    let card: [u8; 8] = bytes.get(CARD_AT..CARD_AT + 8)?.try_into().ok()?;
    (card[7] & CARD_STALE_BIT == 0).then(|| u64::from_le_bytes(card))
}

pub fn set_cached_card(bytes: &mut [u8], card: u64) {
    if let Some(c) = bytes.get_mut(CARD_AT..CARD_AT + 8) {
        c.copy_from_slice(&card.to_le_bytes());
    }
}

/// Marks the cached cardinality stale; the other cache bytes keep their old value, as in Redis.
pub fn invalidate_cache(bytes: &mut [u8]) {
    if let Some(b) = bytes.get_mut(CARD_AT + 7) {
        *b |= CARD_STALE_BIT;
    }
}

/// Redis's MurmurHash64A (64-bit, little-endian reads) with a 32-bit seed.
pub fn murmur64a(data: &[u8], seed: u32) -> u64 {
    const M: u64 = 0xc6a4_a793_5bd1_e995;
    const R: u32 = 47;
    let mut h = u64::from(seed) ^ (data.len() as u64).wrapping_mul(M);
    let mut chunks = data.chunks_exact(8);
    for c in &mut chunks {
        let mut k = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h ^= k;
        h = h.wrapping_mul(M);
    }
    let tail = chunks.remainder();
    if !tail.is_empty() {
        for (i, &b) in tail.iter().enumerate() {
            h ^= u64::from(b) << (8 * i);
        }
        h = h.wrapping_mul(M);
    }
    h ^= h >> R;
    h = h.wrapping_mul(M);
    h ^= h >> R;
    h
}

/// The register an element falls in and the length of its "000..1" pattern (1..=Q+1).
pub fn pattern_of(element: &[u8]) -> (usize, u8) {
    let hash = murmur64a(element, HASH_SEED);
    let index = (hash & (REGISTERS as u64 - 1)) as usize;
    // The forced bit bounds the count at Q+1 even when every remaining hash bit is 0.
    let rest = (hash >> P) | (1u64 << Q);
    (index, rest.trailing_zeros() as u8 + 1)
}

/// Adds one element (Redis's `hllAdd`): Ok(true) when a register grew. A sparse value is
/// promoted to dense when it would outgrow `sparse_max_bytes` or needs a value over 32.
/// A register already changed stays changed when a later step reports `Corrupt`, as in Redis.
pub fn add(hll: &mut Vec<u8>, element: &[u8], sparse_max_bytes: usize) -> Result<bool, Corrupt> {
    let (index, count) = pattern_of(element);
    set_register(hll, index, count, sparse_max_bytes)
}

/// Raises register `index` to `count` if it is lower, in either encoding.
pub fn set_register(hll: &mut Vec<u8>, index: usize, count: u8, sparse_max_bytes: usize) -> Result<bool, Corrupt> {
    match check(hll) {
        Some(Encoding::Dense) => Ok(dense_raise(hll, index, count)),
        Some(Encoding::Sparse) => sparse::set(hll, index, count, sparse_max_bytes),
        None => Err(Corrupt),
    }
}

/// `hllDenseSet`: raises a dense register; true when it changed.
fn dense_raise(hll: &mut [u8], index: usize, count: u8) -> bool {
    let regs = hll.get_mut(HDR_SIZE_BYTES..).unwrap_or_default();
    if count > dense_get(regs, index) {
        dense_set(regs, index, count);
        true
    } else {
        false
    }
}

/// Converts a sparse value to dense in place (`hllSparseToDense`): Ok(true) when converted,
/// Ok(false) when already dense. The whole header is carried over (magic, unused bytes,
/// cached cardinality with its stale bit), only the encoding byte changes.
pub fn to_dense(hll: &mut Vec<u8>) -> Result<bool, Corrupt> {
    match check(hll) {
        Some(Encoding::Dense) => Ok(false),
        Some(Encoding::Sparse) => {
            let dense = sparse::to_dense(hll)?;
            *hll = dense;
            Ok(true)
        }
        None => Err(Corrupt),
    }
}

/// The estimated cardinality (`hllCount`), computed from the registers (the cache is not
/// read). Corrupt when a sparse value's runs do not cover exactly 16384 registers.
pub fn count(hll: &[u8]) -> Result<u64, Corrupt> {
    let mut histogram = [0u32; 64];
    match check(hll) {
        Some(Encoding::Dense) => dense::histogram(hll.get(HDR_SIZE_BYTES..).unwrap_or_default(), &mut histogram),
        Some(Encoding::Sparse) => sparse::histogram(hll.get(HDR_SIZE_BYTES..).unwrap_or_default(), &mut histogram)?,
        None => return Err(Corrupt),
    }
    Ok(estimate::from_histogram(&histogram))
}

/// The estimated cardinality of unpacked registers (one byte each), as PFCOUNT over several
/// keys computes it from the merged maxima.
pub fn count_registers(registers: &[u8; REGISTERS]) -> u64 {
    let mut histogram = [0u32; 64];
    for &r in registers {
        histogram[usize::from(r & 63)] += 1;
    }
    estimate::from_histogram(&histogram)
}

/// Folds a value into `max` (`hllMerge`): max[i] = MAX(max[i], register i). Corrupt when a
/// sparse value's runs do not cover exactly 16384 registers (`max` may be partly updated).
pub fn merge_into(max: &mut [u8; REGISTERS], hll: &[u8]) -> Result<(), Corrupt> {
    match check(hll) {
        Some(Encoding::Dense) => {
            let regs = hll.get(HDR_SIZE_BYTES..).unwrap_or_default();
            for (i, m) in max.iter_mut().enumerate() {
                *m = (*m).max(dense_get(regs, i));
            }
            Ok(())
        }
        Some(Encoding::Sparse) => sparse::merge_into(max, hll.get(HDR_SIZE_BYTES..).unwrap_or_default()),
        None => Err(Corrupt),
    }
}

/// All registers of a dense value, unpacked (PFDEBUG GETREG after conversion).
pub fn dense_registers(hll: &[u8]) -> Vec<u8> {
    let regs = hll.get(HDR_SIZE_BYTES..).unwrap_or_default();
    (0..REGISTERS).map(|i| dense_get(regs, i)).collect()
}

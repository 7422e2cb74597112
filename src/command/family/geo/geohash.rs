//! The 52-bit geohash Redis stores as a sorted-set score: longitude and latitude each cut into
//! 2^26 cells, their cell numbers interleaved bit by bit (latitude in the even bits, longitude
//! in the odd ones). Encoding, decoding to a cell and to its centre, the eight neighbouring
//! cells at a coarser step, and the score range a cell covers.
//!
//! The arithmetic (operation order, `u32` truncation of the cell offsets, `u32` wrap of
//! `cell + 1`) follows Redis 7.0 exactly, because the scores and the coordinates GEOPOS prints
//! must be the same bits. Must never panic on any score, however it got into the set.

/// The finest step Redis uses: 26 bits per coordinate, 52 bits in all.
pub const STEP_MAX: u8 = 26;

/// The latitude limits of Web Mercator, which Redis uses instead of ±90.
pub const LAT_MIN: f64 = -85.05112878;
pub const LAT_MAX: f64 = 85.05112878;
pub const LON_MIN: f64 = -180.0;
pub const LON_MAX: f64 = 180.0;

#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Range {
    pub min: f64,
    pub max: f64,
}

/// The ranges of stored scores.
pub const LON_RANGE: Range = Range { min: LON_MIN, max: LON_MAX };
pub const LAT_RANGE: Range = Range { min: LAT_MIN, max: LAT_MAX };
/// The latitude range of the standard geohash strings GEOHASH prints.
pub const STD_LAT_RANGE: Range = Range { min: -90.0, max: 90.0 };

/// A cell: `step` bits per coordinate, interleaved into `bits`. Step 0 marks "no cell" (a
/// neighbour dropped from a search).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct HashBits {
    pub bits: u64,
    pub step: u8,
}

impl HashBits {
    pub const NONE: HashBits = HashBits { bits: 0, step: 0 };

    pub fn is_none(&self) -> bool {
        self.bits == 0 && self.step == 0
    }

    /// The cell as a 52-bit score prefix: its bits shifted to the top of 52.
    pub fn align52(&self) -> u64 {
        let shift = 52u32.saturating_sub(u32::from(self.step) * 2);
        self.bits.checked_shl(shift).unwrap_or(0)
    }
}

/// A decoded cell: its longitude and latitude bounds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Area {
    pub lon: Range,
    pub lat: Range,
}

/// Moves the low 32 bits of `v` to the even bit positions of the result.
fn spread(v: u32) -> u64 {
    let mut x = u64::from(v);
    x = (x | (x << 16)) & 0x0000_FFFF_0000_FFFF;
    x = (x | (x << 8)) & 0x00FF_00FF_00FF_00FF;
    x = (x | (x << 4)) & 0x0F0F_0F0F_0F0F_0F0F;
    x = (x | (x << 2)) & 0x3333_3333_3333_3333;
    (x | (x << 1)) & 0x5555_5555_5555_5555
}

/// The inverse of `spread`: the even bits of `v`, packed.
fn squash(v: u64) -> u32 {
    let mut x = v & 0x5555_5555_5555_5555;
    x = (x | (x >> 1)) & 0x3333_3333_3333_3333;
    x = (x | (x >> 2)) & 0x0F0F_0F0F_0F0F_0F0F;
    x = (x | (x >> 4)) & 0x00FF_00FF_00FF_00FF;
    x = (x | (x >> 8)) & 0x0000_FFFF_0000_FFFF;
    ((x | (x >> 16)) & 0x0000_0000_FFFF_FFFF) as u32
}

/// Latitude cell in the even bits, longitude cell in the odd bits.
fn interleave(lat_cell: u32, lon_cell: u32) -> u64 {
    spread(lat_cell) | (spread(lon_cell) << 1)
}

/// A double converted to `uint32_t` as C does for the in-range values the encoder produces
/// (truncation); out-of-range values cannot occur once the coordinate passed the range checks.
fn to_cell(offset: f64) -> u32 {
    offset as u32
}

/// The cell of `step` bits holding the point, or None for a point outside the ranges (or
/// outside the Mercator limits, whatever the ranges).
pub fn encode(lon_r: Range, lat_r: Range, lon: f64, lat: f64, step: u8) -> Option<HashBits> {
    if step == 0 || step > 32 || lat_r.min == lat_r.max || lon_r.min == lon_r.max {
        return None;
    }
    // Written as negated comparisons so that NaN is refused too.
    if !(LON_MIN..=LON_MAX).contains(&lon) || !(LAT_MIN..=LAT_MAX).contains(&lat) {
        return None;
    }
    if lat < lat_r.min || lat > lat_r.max || lon < lon_r.min || lon > lon_r.max {
        return None;
    }
    let cells = (1u64 << step) as f64;
    let lat_offset = (lat - lat_r.min) / (lat_r.max - lat_r.min) * cells;
    let lon_offset = (lon - lon_r.min) / (lon_r.max - lon_r.min) * cells;
    Some(HashBits { bits: interleave(to_cell(lat_offset), to_cell(lon_offset)), step })
}

/// The cell of a stored point at full precision.
pub fn encode_wgs84(lon: f64, lat: f64) -> Option<HashBits> {
    encode(LON_RANGE, LAT_RANGE, lon, lat, STEP_MAX)
}

/// The bounds of a cell. None for the "no cell" value.
pub fn decode(lon_r: Range, lat_r: Range, hash: HashBits) -> Option<Area> {
    if hash.is_none() || lat_r.min == lat_r.max || lon_r.min == lon_r.max {
        return None;
    }
    let lat_cell = squash(hash.bits);
    let lon_cell = squash(hash.bits >> 1);
    let cells = 1u64.checked_shl(u32::from(hash.step)).unwrap_or(0) as f64;
    let lat_scale = lat_r.max - lat_r.min;
    let lon_scale = lon_r.max - lon_r.min;
    // `cell + 1` wraps in 32 bits, as the unsigned arithmetic Redis uses does.
    let lat = Range {
        min: lat_r.min + (f64::from(lat_cell) / cells) * lat_scale,
        max: lat_r.min + (f64::from(lat_cell.wrapping_add(1)) / cells) * lat_scale,
    };
    let lon = Range {
        min: lon_r.min + (f64::from(lon_cell) / cells) * lon_scale,
        max: lon_r.min + (f64::from(lon_cell.wrapping_add(1)) / cells) * lon_scale,
    };
    Some(Area { lon, lat })
}

/// The centre of a cell, clamped to the Mercator limits.
pub fn area_centre(area: &Area) -> (f64, f64) {
    let lon = ((area.lon.min + area.lon.max) / 2.0).clamp(LON_MIN, LON_MAX);
    let lat = ((area.lat.min + area.lat.max) / 2.0).clamp(LAT_MIN, LAT_MAX);
    (lon, lat)
}

/// A sorted-set score read as a geohash: converted to `uint64_t` as x86-64 code compiled by
/// GCC converts it (truncation; negative values wrap through `int64_t`; values past the
/// integer range give the "integer indefinite" pattern), so that any score decodes as Redis
/// decodes it.
pub fn score_bits(score: f64) -> u64 {
    const TWO_63: f64 = 9_223_372_036_854_775_808.0;
    if score < TWO_63 {
        // Through int64_t: truncation, and below its range 0x8000_0000_0000_0000, which is
        // also what Rust's saturating cast gives.
        (score as i64) as u64
    } else {
        // The upper half: 2^63 subtracted, converted, the top bit flipped back; past 2^64 the
        // conversion yields 0x8000_0000_0000_0000 and the flip makes it 0.
        let low = score - TWO_63;
        let v = if low < TWO_63 { (low as i64) as u64 } else { 1u64 << 63 };
        v ^ (1u64 << 63)
    }
}

/// The longitude and latitude Redis reports for a stored score: the centre of its cell.
pub fn decode_score(score: f64) -> (f64, f64) {
    let hash = HashBits { bits: score_bits(score), step: STEP_MAX };
    // A step-26 cell is never the "no cell" value, so decoding cannot fail.
    match decode(LON_RANGE, LAT_RANGE, hash) {
        Some(area) => area_centre(&area),
        None => (0.0, 0.0),
    }
}

/// The eight cells around a cell, in the order Redis lists them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Neighbours {
    pub north: HashBits,
    pub south: HashBits,
    pub east: HashBits,
    pub west: HashBits,
    pub north_east: HashBits,
    pub north_west: HashBits,
    pub south_east: HashBits,
    pub south_west: HashBits,
}

/// Steps the longitude cell (odd bits) by `d` (-1, 0, 1), wrapping around the globe.
fn move_lon(hash: HashBits, d: i8) -> HashBits {
    if d == 0 {
        return hash;
    }
    let width = 64 - u32::from(hash.step) * 2;
    let x = hash.bits & 0xAAAA_AAAA_AAAA_AAAA;
    let y = hash.bits & 0x5555_5555_5555_5555;
    let zz = 0x5555_5555_5555_5555u64.checked_shr(width).unwrap_or(0);
    let x = if d > 0 { x.wrapping_add(zz + 1) } else { (x | zz).wrapping_sub(zz + 1) };
    let x = x & 0xAAAA_AAAA_AAAA_AAAAu64.checked_shr(width).unwrap_or(0);
    HashBits { bits: x | y, step: hash.step }
}

/// Steps the latitude cell (even bits) by `d`, wrapping from one pole to the other.
fn move_lat(hash: HashBits, d: i8) -> HashBits {
    if d == 0 {
        return hash;
    }
    let width = 64 - u32::from(hash.step) * 2;
    let x = hash.bits & 0xAAAA_AAAA_AAAA_AAAA;
    let y = hash.bits & 0x5555_5555_5555_5555;
    let zz = 0xAAAA_AAAA_AAAA_AAAAu64.checked_shr(width).unwrap_or(0);
    let y = if d > 0 { y.wrapping_add(zz + 1) } else { (y | zz).wrapping_sub(zz + 1) };
    let y = y & 0x5555_5555_5555_5555u64.checked_shr(width).unwrap_or(0);
    HashBits { bits: x | y, step: hash.step }
}

fn moved(hash: HashBits, dlon: i8, dlat: i8) -> HashBits {
    move_lat(move_lon(hash, dlon), dlat)
}

pub fn neighbours(hash: HashBits) -> Neighbours {
    Neighbours {
        east: moved(hash, 1, 0),
        west: moved(hash, -1, 0),
        south: moved(hash, 0, -1),
        north: moved(hash, 0, 1),
        north_west: moved(hash, -1, 1),
        south_west: moved(hash, -1, -1),
        north_east: moved(hash, 1, 1),
        south_east: moved(hash, 1, -1),
    }
}

/// The scores a cell covers: `min <= score < max`.
pub fn score_range(hash: HashBits) -> (f64, f64) {
    let min = hash.align52();
    let max = HashBits { bits: hash.bits.wrapping_add(1), step: hash.step }.align52();
    (min as f64, max as f64)
}

/// The 11-character standard geohash string of a stored score (re-encoded over ±90 latitude;
/// the 11th character stands for bits the score does not have, so it is always `0`).
pub fn geohash_string(score: f64) -> [u8; 11] {
    const ALPHABET: &[u8; 32] = b"0123456789bcdefghjkmnpqrstuvwxyz";
    let (lon, lat) = decode_score(score);
    let bits = encode(LON_RANGE, STD_LAT_RANGE, lon, lat, STEP_MAX).map_or(0, |h| h.bits);
    let mut s = [b'0'; 11];
    for (i, c) in s.iter_mut().take(10).enumerate() {
        let idx = (bits >> (52 - (i + 1) * 5)) & 0x1f;
        *c = ALPHABET[idx as usize];
    }
    s
}

//! The cardinality estimator of Redis 7.0: Otmar Ertl's improved raw estimator ("New
//! cardinality estimation algorithms for HyperLogLog sketches", arXiv:1702.01284), computed
//! from the histogram of register values.
//!
//! The arithmetic follows Redis's order of operations exactly (same f64 operations in the
//! same order, rounding half away from zero) so PFCOUNT answers the same number.

use super::{Q, REGISTERS};

/// 0.5 / ln(2), the estimator's constant for an unbounded number of registers.
pub(super) const ALPHA_INF: f64 = 0.721_347_520_444_481_7;

/// The cardinality estimated from `histogram[v]` = number of registers holding `v`.
/// Register values above Q+1 cannot come from a hash and are ignored, as in Redis.
pub fn from_histogram(histogram: &[u32; 64]) -> u64 {
    let m = REGISTERS as f64;
    let q = Q as usize;
    let mut z = m * tau((m - f64::from(histogram[q + 1])) / m);
    for j in (1..=q).rev() {
        z += f64::from(histogram[j]);
        z *= 0.5;
    }
    z += m * sigma(f64::from(histogram[0]) / m);
    // z is +inf when every register is 0: the estimate is then 0.
    let e = (ALPHA_INF * m * m / z).round();
    // Redis converts through a signed long long then an unsigned cast; estimates are far
    // below either limit, and `as` saturates rather than wrapping for the impossible rest.
    e as i64 as u64
}

fn tau(mut x: f64) -> f64 {
    if x == 0.0 || x == 1.0 {
        return 0.0;
    }
    let mut y = 1.0;
    let mut z = 1.0 - x;
    loop {
        x = x.sqrt();
        let z_prev = z;
        y *= 0.5;
        let d = 1.0 - x;
        z -= d * d * y;
        if z == z_prev {
            return z / 3.0;
        }
    }
}

fn sigma(mut x: f64) -> f64 {
    if x == 1.0 {
        return f64::INFINITY;
    }
    let mut y = 1.0;
    let mut z = x;
    loop {
        x *= x;
        let z_prev = z;
        z += x * y;
        y += y;
        if z == z_prev {
            return z;
        }
    }
}

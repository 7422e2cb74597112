//! The key space: how key numbers are drawn (uniform, zipfian, sequential) and how a key
//! number becomes key bytes (`prefix` + optional `{hash tag}` + decimal number).
//!
//! Drawing and formatting never allocate; the zipf constants are computed once per run and
//! shared read-only between threads.

use rand::Rng;

use crate::cluster_map;
use crate::resp;

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Distribution {
    Uniform,
    /// YCSB-style zipfian with skew `theta` in (0, 1): item 0 is the hottest.
    Zipf(f64),
    /// Each thread walks its own share of the key space in order, wrapping around.
    Sequential,
}

impl std::str::FromStr for Distribution {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "uniform" => Ok(Distribution::Uniform),
            "sequential" => Ok(Distribution::Sequential),
            _ => {
                let theta = s
                    .strip_prefix("zipf:")
                    .ok_or_else(|| format!("unknown distribution {s:?}: use uniform, zipf:THETA or sequential"))?
                    .parse::<f64>()
                    .map_err(|e| format!("bad zipf theta in {s:?}: {e}"))?;
                if !(theta > 0.0 && theta < 1.0) {
                    return Err(format!("zipf theta must be in (0, 1), got {theta}"));
                }
                Ok(Distribution::Zipf(theta))
            }
        }
    }
}

/// Precomputed constants of the Gray et al. zipfian generator used by YCSB.
#[derive(Debug, Clone)]
pub struct Zipf {
    items: u64,
    theta: f64,
    alpha: f64,
    zeta_n: f64,
    eta: f64,
    half_pow_theta: f64,
}

impl Zipf {
    /// O(items) setup: a million keys take a few milliseconds.
    pub fn new(items: u64, theta: f64) -> Zipf {
        assert!(items >= 1, "zipf needs at least one item");
        assert!(theta > 0.0 && theta < 1.0, "zipf theta out of range");
        let zeta = |n: u64| (1..=n).map(|i| 1.0 / (i as f64).powf(theta)).sum::<f64>();
        let zeta_n = zeta(items);
        let zeta_2 = zeta(2.min(items));
        let eta =
            if items <= 2 { 0.0 } else { (1.0 - (2.0 / items as f64).powf(1.0 - theta)) / (1.0 - zeta_2 / zeta_n) };
        Zipf { items, theta, alpha: 1.0 / (1.0 - theta), zeta_n, eta, half_pow_theta: 0.5f64.powf(theta) }
    }

    pub fn sample(&self, rng: &mut impl Rng) -> u64 {
        let u: f64 = rng.gen();
        let uz = u * self.zeta_n;
        if uz < 1.0 || self.items == 1 {
            return 0;
        }
        if uz < 1.0 + self.half_pow_theta {
            return 1;
        }
        let v = (self.items as f64 * (self.eta * u - self.eta + 1.0).powf(self.alpha)) as u64;
        v.min(self.items - 1)
    }

    pub fn theta(&self) -> f64 {
        self.theta
    }
}

/// Draws key numbers for one thread.
///
/// With `partition` the thread only ever draws keys `k` with `k % threads == thread`, which
/// `--verify` needs (one writer per key) and `sequential` uses so threads do not repeat each
/// other.
#[derive(Debug, Clone)]
pub struct KeyPicker {
    keys: u64,
    distribution: Distribution,
    zipf: Option<std::sync::Arc<Zipf>>,
    partition: Option<(u64, u64)>,
    cursor: u64,
}

impl KeyPicker {
    pub fn new(
        keys: u64,
        distribution: Distribution,
        zipf: Option<std::sync::Arc<Zipf>>,
        partition: Option<(u64, u64)>,
    ) -> KeyPicker {
        assert!(keys >= 1, "key space must not be empty");
        if let Some((thread, threads)) = partition {
            assert!(thread < threads, "thread index out of range");
        }
        KeyPicker { keys, distribution, zipf, partition, cursor: 0 }
    }

    /// Number of keys this picker can return (its share when partitioned).
    pub fn local_keys(&self) -> u64 {
        match self.partition {
            None => self.keys,
            Some((thread, threads)) => (self.keys - thread).div_ceil(threads),
        }
    }

    /// A local index in `0..local_keys()` drawn from the distribution.
    pub fn next_local(&mut self, rng: &mut impl Rng) -> u64 {
        let local = self.local_keys();
        match self.distribution {
            Distribution::Uniform => rng.gen_range(0..local),
            Distribution::Zipf(_) => match &self.zipf {
                // The shared table was built for the whole key space; fold it onto our share.
                Some(z) => z.sample(rng) % local,
                None => rng.gen_range(0..local),
            },
            Distribution::Sequential => {
                let i = self.cursor;
                self.cursor = if i + 1 >= local { 0 } else { i + 1 };
                i
            }
        }
    }

    /// The global key number of a local index.
    pub fn key_of_local(&self, local: u64) -> u64 {
        match self.partition {
            None => local,
            Some((thread, threads)) => local * threads + thread,
        }
    }

    /// The local index of a global key number this picker owns.
    pub fn local_of_key(&self, key: u64) -> u64 {
        match self.partition {
            None => key,
            Some((_, threads)) => key / threads,
        }
    }
}

/// Formats key numbers into key bytes.
#[derive(Debug, Clone)]
pub struct KeyFormat {
    /// `prefix` plus `{tag}` if a hash tag is set: everything before the number.
    head: Vec<u8>,
    /// Fixed slot when a hash tag pins every key to one slot.
    fixed_slot: Option<u16>,
}

impl KeyFormat {
    pub fn new(prefix: &str, hash_tag: Option<&str>) -> KeyFormat {
        let mut head = prefix.as_bytes().to_vec();
        let mut fixed_slot = None;
        if let Some(tag) = hash_tag {
            head.push(b'{');
            head.extend_from_slice(tag.as_bytes());
            head.push(b'}');
            fixed_slot = Some(cluster_map::key_slot(&head));
        }
        KeyFormat { head, fixed_slot }
    }

    pub fn len(&self, key: u64) -> usize {
        self.head.len() + resp::decimal_len(key)
    }

    pub fn write(&self, out: &mut Vec<u8>, key: u64) {
        out.extend_from_slice(&self.head);
        resp::write_decimal(out, key);
    }

    /// Cluster slot of key `key`; `scratch` is reused to avoid an allocation.
    pub fn slot(&self, key: u64, scratch: &mut Vec<u8>) -> u16 {
        if let Some(slot) = self.fixed_slot {
            return slot;
        }
        scratch.clear();
        self.write(scratch, key);
        cluster_map::key_slot(scratch)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::rngs::SmallRng;
    use rand::SeedableRng;

    #[test]
    fn parses_distributions() {
        assert_eq!("uniform".parse(), Ok(Distribution::Uniform));
        assert_eq!("zipf:0.99".parse(), Ok(Distribution::Zipf(0.99)));
        assert!("zipf:1.5".parse::<Distribution>().is_err());
        assert!("zipf:x".parse::<Distribution>().is_err());
        assert!("gauss".parse::<Distribution>().is_err());
    }

    #[test]
    fn zipf_stays_in_range_and_is_skewed() {
        let zipf = Zipf::new(1000, 0.99);
        let mut rng = SmallRng::seed_from_u64(7);
        let mut hits = vec![0u32; 1000];
        for _ in 0..100_000 {
            let k = zipf.sample(&mut rng);
            hits[k as usize] += 1;
        }
        assert!(hits[0] > hits[10] && hits[10] > hits[500]);
        assert!(hits[0] > 10_000, "item 0 should be very hot: {}", hits[0]);
    }

    #[test]
    fn partitions_cover_the_key_space_once() {
        let threads = 3;
        let mut seen = vec![0u8; 10];
        for t in 0..threads {
            let mut p = KeyPicker::new(10, Distribution::Sequential, None, Some((t, threads)));
            let mut rng = SmallRng::seed_from_u64(1);
            for _ in 0..p.local_keys() {
                let local = p.next_local(&mut rng);
                let key = p.key_of_local(local);
                assert_eq!(key % threads, t);
                assert_eq!(p.local_of_key(key), local);
                seen[key as usize] += 1;
            }
        }
        assert!(seen.iter().all(|&n| n == 1), "{seen:?}");
    }

    #[test]
    fn formats_keys_and_slots() {
        let plain = KeyFormat::new("key:", None);
        let mut out = Vec::new();
        plain.write(&mut out, 42);
        assert_eq!(out, b"key:42");
        assert_eq!(plain.len(42), 6);
        let mut scratch = Vec::new();
        assert_eq!(plain.slot(42, &mut scratch), cluster_map::key_slot(b"key:42"));
        let tagged = KeyFormat::new("k:", Some("t"));
        out.clear();
        tagged.write(&mut out, 7);
        assert_eq!(out, b"k:{t}7");
        assert_eq!(tagged.slot(7, &mut scratch), cluster_map::key_slot(b"t"));
        assert_eq!(tagged.slot(8, &mut scratch), cluster_map::key_slot(b"t"));
    }
}

//! `maxmemory` eviction, per shard (ARCHITECTURE §3): each shard keeps its own allocations
//! under `maxmemory / shards` by removing keys chosen as Redis's policies choose them, by
//! sampling: `allkeys-lru|lfu|random`, `volatile-lru|lfu|random|ttl`, or `noeviction`.
//!
//! LRU and LFU keep a pool of the best candidates seen across rounds (Redis's eviction pool),
//! refilled with `maxmemory-samples` random keys per round, so the approximation improves as
//! eviction goes on. Sampling picks a random slot table and a random key in it: O(keys in a
//! slot), not O(keys in the shard).
//!
//! The caller logs what was evicted (keyspace `evicted` events, `DEL` in the AOF) and counts it.

use rand::Rng;

use crate::config::{Config, MaxmemoryPolicy as P};
use crate::limits::SLOT_COUNT;
use crate::store::keyspace::{Db, Lfu, NO_EXPIRE};
use crate::store::Store;

/// Candidates kept between rounds (Redis's `EVPOOL_SIZE`).
const POOL_SIZE: usize = 16;

/// Best-first eviction candidates: (score, db, key), a higher score evicts first.
#[derive(Default)]
pub struct Pool {
    entries: Vec<(u64, usize, Vec<u8>)>,
}

impl Pool {
    fn offer(&mut self, score: u64, db: usize, key: &[u8]) {
        if self.entries.iter().any(|(_, d, k)| *d == db && k == key) {
            return;
        }
        if self.entries.len() == POOL_SIZE {
            match self.entries.iter().enumerate().min_by_key(|(_, e)| e.0) {
                Some((i, e)) if e.0 < score => {
                    self.entries.swap_remove(i);
                }
                _ => return,
            }
        }
        self.entries.push((score, db, key.to_vec()));
    }

    fn take_best(&mut self) -> Option<(usize, Vec<u8>)> {
        let (i, _) = self.entries.iter().enumerate().max_by_key(|(_, e)| e.0)?;
        let (_, db, key) = self.entries.swap_remove(i);
        Some((db, key))
    }
}

/// A random key of `db`: a random slot, the next non-empty slot table from there, a random
/// key in it. Slightly favours keys in slots that follow empty ones; fine for sampling.
pub fn sample_key<'a>(db: &'a Db, rng: &mut impl Rng) -> Option<&'a [u8]> {
    if db.is_empty() {
        return None;
    }
    let start = rng.gen_range(0..SLOT_COUNT);
    for i in 0..SLOT_COUNT {
        let slot = ((start + i) % SLOT_COUNT) as u16;
        if let Some(t) = db.slot_table(slot).filter(|t| !t.is_empty()) {
            let n = rng.gen_range(0..t.len());
            return t.keys().nth(n).map(|k| k.as_slice());
        }
    }
    None
}

fn idle_score(db: &Db, key: &[u8], now_ms: u64, lfu: Option<Lfu>) -> Option<u64> {
    let e = db.peek(key)?;
    Some(match lfu {
        // Lower frequency evicts first.
        Some(l) => 255 - e.lfu_freq(now_ms, l) as u64,
        // Longer idle evicts first.
        None => ((now_ms / 1000) as u32).saturating_sub(e.access_s) as u64,
    })
}

/// Chooses the next key to evict under `cfg`'s policy, or None when none may go.
pub fn choose(
    store: &Store,
    cfg: &Config,
    pool: &mut Pool,
    rng: &mut impl Rng,
    now_ms: u64,
) -> Option<(usize, Vec<u8>)> {
    let volatile = matches!(cfg.maxmemory_policy, P::VolatileLru | P::VolatileLfu | P::VolatileRandom | P::VolatileTtl);
    let candidates: Vec<usize> = (0..store.dbs.len())
        .filter(|&i| if volatile { store.dbs[i].expires_len() > 0 } else { !store.dbs[i].is_empty() })
        .collect();
    if candidates.is_empty() {
        return None;
    }
    match cfg.maxmemory_policy {
        P::Noeviction => None,
        P::AllkeysRandom => {
            let db = candidates[rng.gen_range(0..candidates.len())];
            sample_key(&store.dbs[db], rng).map(|k| (db, k.to_vec()))
        }
        P::VolatileRandom => {
            let db = candidates[rng.gen_range(0..candidates.len())];
            store.dbs[db].random_volatile(rng).map(|(_, k)| (db, k.to_vec()))
        }
        P::VolatileTtl => candidates
            .iter()
            .filter_map(|&db| store.dbs[db].soonest_deadline().map(|(d, k)| (d, db, k)))
            .min_by_key(|x| x.0)
            .map(|(_, db, k)| (db, k.to_vec())),
        policy => {
            let lfu = Lfu::of(cfg).or_else(|| {
                matches!(policy, P::AllkeysLfu | P::VolatileLfu)
                    .then_some(Lfu { log_factor: cfg.lfu_log_factor, decay_time_min: cfg.lfu_decay_time_min })
            });
            let samples = cfg.maxmemory_samples.max(1) as usize;
            for &db in &candidates {
                let d = &store.dbs[db];
                for _ in 0..samples {
                    let key = if volatile { d.random_volatile(rng).map(|(_, k)| k) } else { sample_key(d, rng) };
                    if let Some(k) = key {
                        if let Some(score) = idle_score(d, k, now_ms, lfu) {
                            pool.offer(score, db, k);
                        }
                    }
                }
            }
            // Pool entries may have been deleted or lost their TTL since they were offered.
            while let Some((db, key)) = pool.take_best() {
                let live = store.dbs.get(db).and_then(|d| d.peek(&key));
                if live.is_some_and(|e| !volatile || e.expire_at_ms != NO_EXPIRE) {
                    return Some((db, key));
                }
            }
            None
        }
    }
}

/// Evicts until `used()` is at most `limit_bytes`, nothing more may go, or the time budget
/// is spent. Returns the evicted keys, and whether memory is over the limit with nothing left
/// to evict (writes are then refused with -OOM).
pub fn evict(
    store: &mut Store,
    cfg: &Config,
    pool: &mut Pool,
    rng: &mut impl Rng,
    now_ms: u64,
    limit_bytes: u64,
    used: impl Fn() -> i64,
) -> (Vec<(usize, Vec<u8>)>, bool) {
    let mut out = Vec::new();
    // Bounded per call, as Redis's eviction tenacity bounds a cycle; the rest waits for the
    // next command or cron tick. Running out of time is not a failure: Redis lets the command
    // run when its eviction stops on the time limit (EVICT_RUNNING) and refuses it only when
    // nothing could be evicted (EVICT_FAIL).
    let budget = std::time::Instant::now();
    while used() > limit_bytes as i64 {
        if budget.elapsed().as_micros() > 2_000 {
            return (out, false);
        }
        let Some((db, key)) = choose(store, cfg, pool, rng, now_ms) else { return (out, true) };
        store.dbs[db].remove(&key);
        store.dirty += 1;
        out.push((db, key));
    }
    (out, false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::{Entry, StrValue, Value};
    use rand::SeedableRng;

    const NOW: u64 = 1_700_000_000_000;

    fn store(n: usize, ttl_every: usize) -> Store {
        let mut s = Store::new(2);
        for i in 0..n {
            let mut e = Entry::new(Value::Str(StrValue::from_bytes(b"v")));
            e.access_s = (NOW / 1000) as u32 - (n - i) as u32; // key i idle n - i seconds
            let key = format!("k{i}");
            s.dbs[0].insert(key.as_bytes(), e);
            if ttl_every > 0 && i % ttl_every == 0 {
                s.dbs[0].set_expire(key.as_bytes(), NOW + 1000 + i as u64);
            }
        }
        s
    }

    fn cfg(p: P) -> Config {
        Config { maxmemory_policy: p, maxmemory_samples: 5, ..Config::default() }
    }

    #[test]
    fn lru_evicts_mostly_old_keys() {
        let mut s = store(2000, 0);
        let (mut pool, mut rng) = (Pool::default(), rand::rngs::SmallRng::seed_from_u64(1));
        let c = cfg(P::AllkeysLru);
        let mut idx = Vec::new();
        for _ in 0..200 {
            let (db, k) = choose(&s, &c, &mut pool, &mut rng, NOW).expect("a victim");
            s.dbs[db].remove(&k);
            idx.push(String::from_utf8(k).unwrap()[1..].parse::<usize>().unwrap());
        }
        let mean = idx.iter().sum::<usize>() / idx.len();
        assert!(mean < 700, "LRU victims should be old keys (low indexes), mean {mean}");
    }

    #[test]
    fn volatile_policies_touch_only_keys_with_a_ttl() {
        for p in [P::VolatileLru, P::VolatileLfu, P::VolatileRandom, P::VolatileTtl] {
            let mut s = store(500, 10);
            let (mut pool, mut rng) = (Pool::default(), rand::rngs::SmallRng::seed_from_u64(2));
            let mut n = 0;
            while let Some((db, k)) = choose(&s, &cfg(p), &mut pool, &mut rng, NOW) {
                assert!(s.dbs[db].peek(&k).is_some_and(|e| e.expire_at_ms != NO_EXPIRE), "{p:?}");
                s.dbs[db].remove(&k);
                n += 1;
            }
            assert_eq!(n, 50, "{p:?}: every volatile key, then nothing");
            assert_eq!(s.dbs[0].len(), 450);
        }
    }

    #[test]
    fn volatile_ttl_takes_the_soonest_deadline() {
        let s = store(100, 10);
        let (mut pool, mut rng) = (Pool::default(), rand::rngs::SmallRng::seed_from_u64(3));
        assert_eq!(choose(&s, &cfg(P::VolatileTtl), &mut pool, &mut rng, NOW), Some((0, b"k0".to_vec())));
    }

    #[test]
    fn noeviction_and_evict_stop_when_under_the_limit() {
        let mut s = store(100, 0);
        let (mut pool, mut rng) = (Pool::default(), rand::rngs::SmallRng::seed_from_u64(4));
        assert!(choose(&s, &cfg(P::Noeviction), &mut pool, &mut rng, NOW).is_none());
        let c = cfg(P::AllkeysRandom);
        let len = std::cell::Cell::new(100i64);
        // The fake counter never moves: every key goes (over as many calls as the time budget
        // takes), then with nothing left to evict the answer is "over".
        let mut gone_n = 0;
        let over = loop {
            let (gone, over) = evict(&mut s, &c, &mut pool, &mut rng, NOW, 60, || len.get());
            gone_n += gone.len();
            if over || gone.is_empty() {
                break over;
            }
        };
        assert!(over);
        assert_eq!((gone_n, s.dbs[0].len()), (100, 0));
        len.set(10);
        let (gone, over) = evict(&mut s, &c, &mut pool, &mut rng, NOW, 60, || len.get());
        assert!(!over && gone.is_empty());
    }
}

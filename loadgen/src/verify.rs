//! `--verify`: values derived from key and sequence number, the per-thread record of the last
//! acknowledged write of every key, and the comparison of reads against it.
//!
//! Correctness rests on one writer per key: each thread owns a disjoint share of the keys
//! (`KeyPicker` partition) and never has two operations on one key in flight, so the last
//! acknowledged write is exactly what a read must return. A write whose outcome is unknown
//! (connection lost, final error) makes the key unknown until the next successful write.

use rand::rngs::SmallRng;
use rand::Rng;

use crate::keyspace::KeyPicker;
use crate::resp;
use crate::workload::{Ratio, ValueSize};

/// `seqs` entry of a key this run has not written.
const NEVER_WRITTEN: u32 = 0;
/// `seqs` entry of a key whose last write may or may not have happened.
const UNKNOWN: u32 = u32::MAX;

/// Draws tried before giving up on finding a key with nothing in flight.
const MAX_KEY_DRAWS: usize = 8;

/// Mismatches printed in detail; the rest are only counted.
const MAX_REPORTED_MISMATCHES: u64 = 10;

const FILLER_PERIOD: usize = 26;
const FILLER_CHUNK: usize = FILLER_PERIOD * 39;
static FILLER: [u8; FILLER_CHUNK + FILLER_PERIOD] = filler();

const fn filler() -> [u8; FILLER_CHUNK + FILLER_PERIOD] {
    let mut out = [0u8; FILLER_CHUNK + FILLER_PERIOD];
    let mut i = 0;
    while i < out.len() {
        out[i] = b'a' + (i % FILLER_PERIOD) as u8;
        i += 1;
    }
    out
}

/// Counters reported at the end of a run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct VerifyCounts {
    /// Reads compared during the load phase.
    pub checked: u64,
    pub mismatches: u64,
    /// Reads compared in the final read-back pass over every written key.
    pub readback_checked: u64,
    pub readback_mismatches: u64,
    /// Keys left in an unknown state (a write whose outcome was not seen); not compared.
    pub unknown_keys: u64,
}

impl VerifyCounts {
    pub fn add(&mut self, other: &VerifyCounts) {
        self.checked += other.checked;
        self.mismatches += other.mismatches;
        self.readback_checked += other.readback_checked;
        self.readback_mismatches += other.readback_mismatches;
        self.unknown_keys += other.unknown_keys;
    }

    pub fn total_mismatches(&self) -> u64 {
        self.mismatches + self.readback_mismatches
    }
}

pub struct VerifyState {
    seqs: Vec<u32>,
    busy: Vec<bool>,
    last_seq: u32,
    pub counts: VerifyCounts,
    expected: Vec<u8>,
}

impl VerifyState {
    pub fn new(local_keys: u64) -> VerifyState {
        let n = usize::try_from(local_keys).expect("key space fits in memory");
        VerifyState {
            seqs: vec![NEVER_WRITTEN; n],
            busy: vec![false; n],
            last_seq: NEVER_WRITTEN,
            counts: VerifyCounts::default(),
            expected: Vec::new(),
        }
    }

    /// Picks a key with nothing in flight and decides whether to write or read it.
    /// Returns `(local index, is_write, sequence number)` and marks the key busy.
    pub fn choose(&mut self, rng: &mut SmallRng, picker: &mut KeyPicker, ratio: Ratio) -> Option<(u64, bool, u32)> {
        for _ in 0..MAX_KEY_DRAWS {
            let local = picker.next_local(rng);
            let i = local as usize;
            if self.busy[i] {
                continue;
            }
            let current = self.seqs[i];
            let unreadable = current == NEVER_WRITTEN || current == UNKNOWN;
            let write =
                unreadable || ratio.get == 0 || (ratio.set > 0 && rng.gen_range(0..ratio.set + ratio.get) < ratio.set);
            let seq = if write { self.fresh_seq() } else { current };
            self.busy[i] = true;
            return Some((local, write, seq));
        }
        None
    }

    fn fresh_seq(&mut self) -> u32 {
        self.last_seq = self.last_seq.wrapping_add(1);
        if self.last_seq == UNKNOWN || self.last_seq == NEVER_WRITTEN {
            self.last_seq = 1;
        }
        self.last_seq
    }

    /// The next key of the read-back pass, marked busy.
    pub fn next_readback(&mut self, cursor: &mut u64) -> Option<(u64, u32)> {
        while (*cursor as usize) < self.seqs.len() {
            let i = *cursor as usize;
            *cursor += 1;
            let seq = self.seqs[i];
            if seq != NEVER_WRITTEN && seq != UNKNOWN && !self.busy[i] {
                self.busy[i] = true;
                return Some((i as u64, seq));
            }
        }
        None
    }

    /// A write finished; `acknowledged` is false when we cannot know whether it happened.
    pub fn on_write_done(&mut self, local: u64, seq: u32, acknowledged: bool) {
        let i = local as usize;
        debug_assert!(self.busy[i], "write completion for a key not in flight");
        self.busy[i] = false;
        self.seqs[i] = if acknowledged { seq } else { UNKNOWN };
    }

    /// A read finished with `payload` (`None` for a nil reply). Returns whether it matched.
    pub fn on_read_done(
        &mut self,
        local: u64,
        key: u64,
        seq: u32,
        payload: Option<&[u8]>,
        readback: bool,
        size: ValueSize,
    ) -> bool {
        let i = local as usize;
        debug_assert!(self.busy[i], "read completion for a key not in flight");
        debug_assert_eq!(self.seqs[i], seq, "key written while a read was in flight");
        self.busy[i] = false;
        self.expected.clear();
        write_value(&mut self.expected, key, seq, value_len(key, seq, size));
        let matched = payload == Some(self.expected.as_slice());
        let (checked, mismatches) = if readback {
            (&mut self.counts.readback_checked, &mut self.counts.readback_mismatches)
        } else {
            (&mut self.counts.checked, &mut self.counts.mismatches)
        };
        *checked += 1;
        if !matched {
            *mismatches += 1;
            if self.counts.mismatches + self.counts.readback_mismatches <= MAX_REPORTED_MISMATCHES {
                let got = payload
                    .map_or("(nil)".to_string(), |p| String::from_utf8_lossy(&p[..p.len().min(64)]).into_owned());
                let want = String::from_utf8_lossy(&self.expected[..self.expected.len().min(64)]);
                eprintln!("verify mismatch: key #{key}: expected {want:?}, got {got:?}");
            }
        }
        matched
    }

    /// A read ended without a value to compare (error or lost connection).
    pub fn on_read_failed(&mut self, local: u64) {
        self.busy[local as usize] = false;
    }

    /// Final tally of keys whose content we could not vouch for.
    pub fn finish(&mut self) {
        self.counts.unknown_keys = self.seqs.iter().filter(|&&s| s == UNKNOWN).count() as u64;
    }
}

fn header_len(key: u64, seq: u32) -> usize {
    // "v" key ":" seq ":"
    3 + resp::decimal_len(key) + resp::decimal_len(u64::from(seq))
}

/// Length of the value for write `seq` of `key`: drawn from `size` by a hash, so a reader
/// can recompute it, and never shorter than the header that names key and sequence.
pub fn value_len(key: u64, seq: u32, size: ValueSize) -> usize {
    let span = (size.max_bytes - size.min_bytes) as u64 + 1;
    let mix = key.wrapping_mul(0x9e37_79b9_7f4a_7c15).wrapping_add(u64::from(seq).wrapping_mul(0xbf58_476d_1ce4_e5b9));
    let chosen = size.min_bytes + ((mix >> 17) % span) as usize;
    chosen.max(header_len(key, seq))
}

/// Appends the value of write `seq` of `key`, exactly `len` bytes (`len` from `value_len`).
pub fn write_value(out: &mut Vec<u8>, key: u64, seq: u32, len: usize) {
    let start = out.len();
    out.push(b'v');
    resp::write_decimal(out, key);
    out.push(b':');
    resp::write_decimal(out, u64::from(seq));
    out.push(b':');
    let mut remaining = len.checked_sub(out.len() - start).expect("value length below header length");
    let mut offset = ((key ^ u64::from(seq)) % FILLER_PERIOD as u64) as usize;
    while remaining > 0 {
        let n = remaining.min(FILLER_CHUNK);
        out.extend_from_slice(&FILLER[offset..offset + n]);
        remaining -= n;
        offset = (offset + n) % FILLER_PERIOD;
    }
    debug_assert_eq!(out.len() - start, len, "verify value has the wrong length");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keyspace::Distribution;
    use rand::SeedableRng;

    #[test]
    fn values_are_deterministic_and_sized() {
        let size = ValueSize { min_bytes: 1, max_bytes: 3000 };
        for (key, seq) in [(0u64, 1u32), (12345, 7), (u64::MAX, u32::MAX - 1)] {
            let len = value_len(key, seq, size);
            let mut a = Vec::new();
            let mut b = Vec::new();
            write_value(&mut a, key, seq, len);
            write_value(&mut b, key, seq, len);
            assert_eq!(a, b);
            assert_eq!(a.len(), len);
            assert!(a.starts_with(format!("v{key}:{seq}:").as_bytes()));
        }
    }

    #[test]
    fn one_operation_per_key_and_reads_follow_writes() {
        let mut picker = KeyPicker::new(4, Distribution::Sequential, None, None);
        let mut rng = SmallRng::seed_from_u64(1);
        let size = ValueSize { min_bytes: 8, max_bytes: 8 };
        let mut state = VerifyState::new(4);
        let ratio = Ratio { set: 0, get: 1 };
        let mut ops = Vec::new();
        for _ in 0..4 {
            ops.push(state.choose(&mut rng, &mut picker, ratio).unwrap());
        }
        assert!(ops.iter().all(|&(_, write, _)| write), "first touch must write");
        assert_eq!(state.choose(&mut rng, &mut picker, ratio), None, "all keys busy");
        for &(local, _, seq) in &ops {
            state.on_write_done(local, seq, true);
        }
        let (local, write, seq) = state.choose(&mut rng, &mut picker, ratio).unwrap();
        assert!(!write);
        let mut good = Vec::new();
        write_value(&mut good, local, seq, value_len(local, seq, size));
        assert!(state.on_read_done(local, local, seq, Some(&good), false, size));
        let (local, _, seq) = state.choose(&mut rng, &mut picker, ratio).unwrap();
        assert!(!state.on_read_done(local, local, seq, None, false, size));
        assert_eq!(state.counts.checked, 2);
        assert_eq!(state.counts.mismatches, 1);
        let mut cursor = 0;
        let mut readback = 0;
        while let Some((local, seq)) = state.next_readback(&mut cursor) {
            state.on_read_failed(local);
            assert_ne!(seq, NEVER_WRITTEN);
            readback += 1;
        }
        assert_eq!(readback, 4);
    }
}

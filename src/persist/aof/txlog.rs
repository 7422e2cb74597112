//! Cross-shard transactions in per-shard AOFs: each shard logs its own part, so a crash can
//! leave a transaction's part durable on one shard and missing on another. This module
//! makes a load see every such transaction whole or not at all.
//!
//! While a shard is frozen by a cross-shard transaction (EXEC, an atomic multi-key command,
//! FLUSHALL...), its writes go between `MULTI` and `EXEC`. When two or more shards wrote, the
//! coordinator takes a commit number (node-wide, increasing) and every writer ends its part
//! with `TESSERA.TXPART <commit> <writers>` before the `EXEC`; in `appendfsync always` the
//! shards are released only after every part is fsynced, so nothing that follows the
//! transaction on any shard is acknowledged before the whole transaction is durable.
//!
//! At startup, before any shard loads, `plan_cuts` reads every shard's incremental files,
//! and finds the parts whose transaction is not complete: some writer has neither its part
//! in its own files nor a base that already holds it (`TESSERA.TXHORIZON <n>` opens each
//! incremental file of a multi-shard layout: every transaction with a commit number up to
//! `n` is in the base before it). Such a shard's log is cut at that part, since what follows
//! may depend on it, and cutting one shard may make another's transaction incomplete: the
//! cuts move back until nothing changes. A cut is reported and made only with
//! `aof-load-truncated yes`, as Redis does for a MULTI left open at the end of its AOF.
//!
//! Both records are commands no load applies; a one-shard layout never holds them, so Redis
//! still loads its files.
//!
//! Must never: cut a log that is complete; let a load apply one part of a transaction whose
//! other part is lost.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};

use super::replay::{read_command, Read};

/// Ends a shard's part of a transaction that several shards wrote.
pub const PART: &[u8] = b"TESSERA.TXPART";
/// Opens an incremental file: transactions up to this commit number are in the base.
pub const HORIZON: &[u8] = b"TESSERA.TXHORIZON";

/// The last commit number given out on this node (raised past every one on disk at startup).
static LAST_COMMIT: AtomicU64 = AtomicU64::new(0);

/// A new commit number, above every one given out or found on disk before.
pub fn next_commit() -> u64 {
    LAST_COMMIT.fetch_add(1, Ordering::SeqCst) + 1
}

/// The last commit number given out: the horizon of an incremental file opened now.
pub fn last_commit() -> u64 {
    LAST_COMMIT.load(Ordering::SeqCst)
}

fn raise_last_commit(n: u64) {
    LAST_COMMIT.fetch_max(n, Ordering::SeqCst);
}

/// A set of shards, carried to each writer inline (no heap memory crosses shards).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ShardSet([u64; 4]);

const _: () = assert!(crate::limits::MAX_SHARDS <= 256, "ShardSet holds 256 shards");

impl ShardSet {
    pub fn insert(&mut self, s: usize) {
        self.0[s / 64] |= 1 << (s % 64);
    }
    pub fn contains(&self, s: usize) -> bool {
        s < 256 && self.0[s / 64] & (1 << (s % 64)) != 0
    }
    pub fn list(&self) -> Vec<usize> {
        (0..256).filter(|&s| self.0[s / 64] & (1 << (s % 64)) != 0).collect()
    }
    pub fn len(&self) -> usize {
        self.0.iter().map(|w| w.count_ones() as usize).sum()
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Whether a command is one of this module's records (never applied by a load).
pub fn is_record(name: &[u8]) -> bool {
    name.eq_ignore_ascii_case(PART) || name.eq_ignore_ascii_case(HORIZON)
}

/// The `TESSERA.TXPART` arguments for `commit` and its writer shards.
pub fn part_args(commit: u64, writers: &[usize]) -> [Vec<u8>; 3] {
    let list: Vec<String> = writers.iter().map(|w| w.to_string()).collect();
    [PART.to_vec(), commit.to_string().into_bytes(), list.join(",").into_bytes()]
}

fn parse_writers(b: &[u8]) -> Option<Vec<usize>> {
    std::str::from_utf8(b).ok()?.split(',').map(|s| s.parse().ok()).collect()
}

fn parse_u64(b: &[u8]) -> Option<u64> {
    std::str::from_utf8(b).ok()?.parse().ok()
}

/// A commit record's number and writer shards.
type Sealed = (u64, Vec<usize>);

/// One sealed part found in a shard's incremental files.
#[derive(Debug, Clone, PartialEq)]
pub struct Part {
    pub commit: u64,
    pub writers: Vec<usize>,
    /// Index of the incremental file (in manifest order) and offset of its `MULTI`.
    pub file: usize,
    pub offset: u64,
}

/// What one shard's incremental files say about cross-shard transactions.
#[derive(Debug, Default, Clone)]
pub struct ShardLog {
    /// From the first incremental file: commits up to here are in the base.
    pub horizon: u64,
    /// Sealed parts (`MULTI ... TXPART ... EXEC` all present), in log order.
    pub parts: Vec<Part>,
}

impl ShardLog {
    /// Adds what incremental file number `file` holds. Stops quietly at anything that is not
    /// a well-formed command: the load reports it.
    pub fn scan_file(&mut self, bytes: &[u8], file: usize, max_bulk: usize) {
        if memchr::memmem::find(bytes, b"TESSERA.TX").is_none() {
            return;
        }
        let mut pos = 0;
        // The open MULTI's offset, and its commit record once read.
        let mut open: Option<(usize, Option<Sealed>)> = None;
        while let Read::Command { args, end } = read_command(bytes, pos, max_bulk) {
            let arg = |i: usize| args.get(i).map(|&(s, e)| &bytes[s..e]);
            let name = arg(0).unwrap_or_default();
            if name.eq_ignore_ascii_case(b"multi") {
                open = Some((pos, None));
            } else if name.eq_ignore_ascii_case(b"exec") {
                if let Some((at, Some((commit, writers)))) = open.take() {
                    self.parts.push(Part { commit, writers, file, offset: at as u64 });
                }
            } else if name.eq_ignore_ascii_case(PART) {
                let sealed = arg(1).and_then(parse_u64).zip(arg(2).and_then(parse_writers));
                if let (Some(o), Some(s)) = (open.as_mut(), sealed) {
                    o.1 = Some(s);
                }
            } else if name.eq_ignore_ascii_case(HORIZON) && file == 0 {
                self.horizon = self.horizon.max(arg(1).and_then(parse_u64).unwrap_or(0));
            }
            pos = end;
        }
    }

    /// The highest commit number this log mentions.
    pub fn max_commit(&self) -> u64 {
        self.parts.iter().map(|p| p.commit).max().unwrap_or(0).max(self.horizon)
    }
}

/// Where a shard's log must end: the part that starts the cut, and the writers that lack it.
#[derive(Debug, Clone, PartialEq)]
pub struct Cut {
    pub file: usize,
    pub offset: u64,
    pub commit: u64,
    pub missing: Vec<usize>,
}

/// For each shard's log, where it must end so that every transaction left is whole (None:
/// it stays as it is). Also raises the node's commit counter past every number found.
pub fn plan_cuts(logs: &[ShardLog]) -> Vec<Option<Cut>> {
    raise_last_commit(logs.iter().map(ShardLog::max_commit).max().unwrap_or(0));
    let index: Vec<HashMap<u64, usize>> =
        logs.iter().map(|l| l.parts.iter().enumerate().map(|(i, p)| (p.commit, i)).collect()).collect();
    // Parts kept per shard: those before `keep[s]`.
    let mut keep: Vec<usize> = logs.iter().map(|l| l.parts.len()).collect();
    let holds = |keep: &[usize], w: usize, commit: u64| -> bool {
        let Some(l) = logs.get(w) else { return false };
        commit <= l.horizon || index[w].get(&commit).is_some_and(|&i| i < keep[w])
    };
    let mut missing: Vec<Vec<usize>> = vec![Vec::new(); logs.len()];
    loop {
        let mut changed = false;
        for s in 0..logs.len() {
            for i in 0..keep[s] {
                let p = &logs[s].parts[i];
                let lacking: Vec<usize> =
                    p.writers.iter().copied().filter(|&w| w != s && !holds(&keep, w, p.commit)).collect();
                if !lacking.is_empty() {
                    keep[s] = i;
                    missing[s] = lacking;
                    changed = true;
                    break;
                }
            }
        }
        if !changed {
            break;
        }
    }
    (0..logs.len())
        .map(|s| {
            logs[s].parts.get(keep[s]).map(|p| Cut {
                file: p.file,
                offset: p.offset,
                commit: p.commit,
                missing: std::mem::take(&mut missing[s]),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::super::replay::tests::resp;
    use super::*;

    fn part(commit: u64, writers: &[usize], offset: u64) -> Part {
        Part { commit, writers: writers.to_vec(), file: 0, offset }
    }

    #[test]
    fn scan_finds_sealed_parts_and_the_horizon() {
        let b = resp(&[
            &["TESSERA.TXHORIZON", "7"],
            &["SET", "a", "1"],
            &["MULTI"],
            &["SET", "b", "1"],
            &["TESSERA.TXPART", "8", "0,1"],
            &["EXEC"],
            &["MULTI"],
            &["SET", "c", "1"],
            &["EXEC"],
            &["MULTI"],
            &["SET", "d", "1"],
            &["TESSERA.TXPART", "9", "0,1"],
        ]);
        let mut l = ShardLog::default();
        l.scan_file(&b, 0, 1 << 20);
        assert_eq!(l.horizon, 7);
        let multi_at = resp(&[&["TESSERA.TXHORIZON", "7"], &["SET", "a", "1"]]).len() as u64;
        // The last part has no EXEC: it is not sealed (the load drops it as a torn tail).
        assert_eq!(l.parts, vec![part(8, &[0, 1], multi_at)]);
        assert_eq!(l.max_commit(), 8);
        // A horizon in a later file says nothing about the base.
        let mut l2 = ShardLog::default();
        l2.scan_file(&b, 1, 1 << 20);
        assert_eq!(l2.horizon, 0);
    }

    #[test]
    fn complete_logs_are_not_cut() {
        let a = ShardLog { horizon: 0, parts: vec![part(1, &[0, 1], 10), part(2, &[0, 1], 20)] };
        let b = ShardLog { horizon: 0, parts: vec![part(1, &[0, 1], 5), part(2, &[0, 1], 9)] };
        assert_eq!(plan_cuts(&[a, b]), vec![None, None]);
    }

    #[test]
    fn a_part_held_by_the_other_shards_base_is_complete() {
        // Shard 1 rewrote after commit 2: its base holds it.
        let a = ShardLog { horizon: 0, parts: vec![part(1, &[0, 1], 10), part(2, &[0, 1], 20)] };
        let b = ShardLog { horizon: 2, parts: vec![] };
        assert_eq!(plan_cuts(&[a, b]), vec![None, None]);
        assert!(last_commit() >= 2);
    }

    #[test]
    fn a_lost_part_cuts_the_other_shard_there() {
        let a = ShardLog { horizon: 0, parts: vec![part(1, &[0, 1], 10), part(2, &[0, 1], 20), part(3, &[0, 1], 30)] };
        let b = ShardLog { horizon: 0, parts: vec![part(1, &[0, 1], 5)] };
        let cuts = plan_cuts(&[a, b]);
        assert_eq!(cuts[0], Some(Cut { file: 0, offset: 20, commit: 2, missing: vec![1] }));
        assert_eq!(cuts[1], None);
    }

    #[test]
    fn cuts_move_back_until_every_kept_transaction_is_whole() {
        // 3 shards. Commit 5 (shards 0,1) lost on 1: shard 0 is cut at 5, which drops its part
        // of 6 (shards 0,2): shard 2 is cut at 6, which drops its part of 7 (shards 1,2):
        // shard 1 is cut at 7.
        let s0 = ShardLog { horizon: 0, parts: vec![part(5, &[0, 1], 100), part(6, &[0, 2], 200)] };
        let s1 = ShardLog { horizon: 0, parts: vec![part(4, &[1, 2], 10), part(7, &[1, 2], 50)] };
        let s2 = ShardLog { horizon: 0, parts: vec![part(4, &[1, 2], 1), part(6, &[0, 2], 2), part(7, &[1, 2], 3)] };
        let cuts = plan_cuts(&[s0, s1, s2]);
        assert_eq!(cuts[0].as_ref().map(|c| c.commit), Some(5));
        assert_eq!(cuts[2].as_ref().map(|c| (c.commit, c.missing.clone())), Some((6, vec![0])));
        assert_eq!(cuts[1].as_ref().map(|c| (c.commit, c.offset)), Some((7, 50)));
    }

    #[test]
    fn a_writer_outside_the_layout_is_missing() {
        let a = ShardLog { horizon: 0, parts: vec![part(1, &[0, 9], 10)] };
        assert_eq!(plan_cuts(&[a]).pop().flatten().map(|c| c.missing), Some(vec![9]));
    }

    proptest::proptest! {
        #[test]
        fn damaged_files_never_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300)) {
            let mut v = b"TESSERA.TX".to_vec();
            v.extend_from_slice(&bytes);
            let mut l = ShardLog::default();
            l.scan_file(&v, 0, 1 << 20);
            l.scan_file(&bytes, 0, 1 << 20);
        }
    }
}

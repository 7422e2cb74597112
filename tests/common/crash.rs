//! Crash fixtures shared by the persistence tests: writers that record which writes were
//! acknowledged, the check that none of them is missing after a restart, and `redis-check-aof`
//! over every manifest of a directory.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use super::{redis_tool, run_tool, RawConn, Reply};

/// The manifests in `dir`'s appendonlydir, sorted.
pub fn manifests(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir.join("appendonlydir"))
        .expect("appendonlydir")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "manifest"))
        .collect();
    v.sort();
    v
}

/// `redis-check-aof` accepts every manifest in `dir`'s appendonlydir.
pub fn assert_check_aof(dir: &Path) {
    let ms = manifests(dir);
    assert!(!ms.is_empty(), "no manifest in {}", dir.display());
    for m in ms {
        let mut c = Command::new(redis_tool("redis-check-aof"));
        c.arg(&m);
        let (status, out, err) = run_tool(&mut c, Duration::from_secs(60));
        assert!(
            status.is_some_and(|s| s.success()) && out.contains("is valid"),
            "redis-check-aof {}: {out}{err}",
            m.display()
        );
    }
}

/// Writers each SET `w{t}:{n}` for n = 1, 2, ... and INCR `cnt{t}`, recording the last n
/// acknowledged. Returns the acknowledged counts when `stop` is set or the server dies.
pub fn start_writers(port: u16, start: &[u64], stop: Arc<AtomicBool>) -> Vec<std::thread::JoinHandle<u64>> {
    start
        .iter()
        .enumerate()
        .map(|(t, &from)| {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let Ok(mut c) = RawConn::connect(port) else { return from };
                let mut acked = from;
                while !stop.load(Ordering::Relaxed) {
                    let n = acked + 1;
                    let key = format!("w{t}:{n}");
                    match c.call(&[b"SET", key.as_bytes(), n.to_string().as_bytes()]) {
                        Ok((raw, _)) if raw == b"+OK\r\n" => {}
                        _ => break,
                    }
                    match c.call(&[b"INCR", format!("cnt{t}").as_bytes()]) {
                        Ok((_, Reply::Int(v))) if v as u64 == n => acked = n,
                        _ => break,
                    }
                }
                acked
            })
        })
        .collect()
}

/// Keys and counters acknowledged before the crash that the restarted server lacks.
pub fn lost_writes(c: &mut RawConn, acked: &[u64]) -> u64 {
    let mut lost = 0;
    for (t, &n) in acked.iter().enumerate() {
        let have =
            c.cmd(&["GET", &format!("cnt{t}")]).bytes().and_then(|b| std::str::from_utf8(b).ok()?.parse::<u64>().ok());
        let have = have.unwrap_or(0);
        // The write in flight at the crash may or may not have landed.
        assert!(have <= n + 1, "counter {t}: {have} > acknowledged {n} + 1");
        lost += n.saturating_sub(have);
        for k in (1..=n).rev().take(50) {
            if c.cmd(&["EXISTS", &format!("w{t}:{k}")]).int() != Some(1) {
                lost += 1;
            }
        }
    }
    lost
}

/// How a pair writer changes its two keys, one on each shard of two, in one atomic step.
#[derive(Clone, Copy, Debug)]
pub enum PairStep {
    /// MULTI, INCR a, INCR b, EXEC.
    Exec,
    /// MSET a n b n (an atomic cross-shard command).
    Mset,
}

/// Writer `t`'s two keys for `step`: one on shard 0 and one on shard 1 (of 2).
pub fn pair_keys(step: PairStep, t: usize) -> (String, String) {
    let p = match step {
        PairStep::Exec => "x",
        PairStep::Mset => "m",
    };
    let a = super::keys_on_shard(&format!("{p}a{t}:"), 0, 2, 1).remove(0);
    let b = super::keys_on_shard(&format!("{p}b{t}:"), 1, 2, 1).remove(0);
    (a, b)
}

/// Writer `t` sets its pair (`pair_keys`) to `from + 1`, `from + 2`, ... one atomic step at
/// a time, until `stop` is set or the server fails; returns the last value acknowledged.
pub fn start_pair_writer(
    port: u16,
    step: PairStep,
    t: usize,
    from: i64,
    stop: Arc<AtomicBool>,
) -> std::thread::JoinHandle<i64> {
    std::thread::spawn(move || {
        let (a, b) = pair_keys(step, t);
        let Ok(mut c) = RawConn::connect(port) else { return from };
        let mut acked = from;
        while !stop.load(Ordering::Relaxed) {
            let n = acked + 1;
            let ok = match step {
                PairStep::Exec => {
                    let queued = c.call(&[b"MULTI"]).is_ok()
                        && c.call(&[b"INCR", a.as_bytes()]).is_ok()
                        && c.call(&[b"INCR", b.as_bytes()]).is_ok();
                    let want = [Reply::Int(n), Reply::Int(n)];
                    queued && matches!(c.call(&[b"EXEC"]), Ok((_, Reply::Array(r))) if r == want)
                }
                PairStep::Mset => {
                    let v = n.to_string();
                    let args: [&[u8]; 5] = [b"MSET", a.as_bytes(), v.as_bytes(), b.as_bytes(), v.as_bytes()];
                    matches!(c.call(&args), Ok((raw, _)) if raw == b"+OK\r\n")
                }
            };
            if !ok {
                break;
            }
            acked = n;
        }
        acked
    })
}

/// Writer `t`'s pair as the server holds it, checked whole (both keys equal).
pub fn pair_value(c: &mut RawConn, step: PairStep, t: usize, when: &str) -> i64 {
    let (a, b) = pair_keys(step, t);
    let get = |c: &mut RawConn, k: &str| {
        c.cmd(&["GET", k]).bytes().and_then(|v| std::str::from_utf8(v).ok()?.parse::<i64>().ok()).unwrap_or(0)
    };
    let (va, vb) = (get(c, &a), get(c, &b));
    assert_eq!(va, vb, "{when}, {step:?} writer {t}: a cross-shard step was torn");
    va
}

/// After a restart: writer `t`'s pair is whole and holds `acked` or, for the step in flight
/// at the crash, `acked + 1`. Returns the value it holds.
pub fn check_pair(c: &mut RawConn, step: PairStep, t: usize, acked: i64, when: &str) -> i64 {
    let v = pair_value(c, step, t, when);
    assert!(v == acked || v == acked + 1, "{when}, {step:?} writer {t}: {v} after {acked} acknowledged");
    v
}

//! Cross-shard transactions in the per-shard AOF: a transaction whose part reached one
//! shard's file and not another's (a crash between the two writes) loads whole or not at all,
//! and the shard that has its part loses everything logged after it (none of it was
//! acknowledged under `appendfsync always`). Complete transactions are never cut, also when
//! one shard has rewritten its AOF since.

mod common;

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Duration;

use common::crash::{assert_check_aof, check_pair, start_pair_writer, PairStep};
use common::dataset::*;
use common::{keys_on_shard, RawConn, Reply, Server, Spec, TempDir};

fn spec(extra: &[&str]) -> Spec {
    Spec::tessera(2).args(&DEBUG).args(&["--appendonly", "yes", "--appendfsync", "always", "--save", ""]).args(extra)
}

fn aof_dir(dir: &Path) -> PathBuf {
    dir.join("appendonlydir")
}

/// The incremental files named by shard `shard`'s manifest, in order.
fn incr_files(dir: &Path, shard: usize) -> Vec<PathBuf> {
    let m = aof_dir(dir).join(format!("appendonly.aof.shard{shard}of2.manifest"));
    let text = std::fs::read_to_string(&m).expect("manifest");
    text.lines()
        .filter(|l| l.ends_with("type i"))
        .filter_map(|l| l.split_whitespace().nth(1))
        .map(|n| aof_dir(dir).join(n))
        .collect()
}

fn base_files(dir: &Path, shard: usize) -> Vec<String> {
    let m = aof_dir(dir).join(format!("appendonly.aof.shard{shard}of2.manifest"));
    let text = std::fs::read_to_string(&m).expect("manifest");
    text.lines()
        .filter(|l| l.ends_with("type b"))
        .filter_map(|l| l.split_whitespace().nth(1).map(String::from))
        .collect()
}

/// Offsets of every `MULTI` in a file.
fn multi_offsets(bytes: &[u8]) -> Vec<usize> {
    let pat = b"*1\r\n$5\r\nMULTI\r\n";
    (0..bytes.len().saturating_sub(pat.len() - 1)).filter(|&i| &bytes[i..i + pat.len()] == pat).collect()
}

fn int(c: &mut RawConn, args: &[&str]) -> i64 {
    match c.cmd(args) {
        Reply::Int(n) => n,
        Reply::Bulk(b) => std::str::from_utf8(&b).ok().and_then(|s| s.parse().ok()).unwrap_or(-1),
        Reply::NilBulk => 0,
        other => panic!("{args:?}: {other:?}"),
    }
}

/// Keys: `a` and `la` on shard 0, `b` on shard 1.
struct Keys {
    a: String,
    la: String,
    b: String,
    log0: String,
}

fn keys() -> Keys {
    let s0 = keys_on_shard("k0:", 0, 2, 3);
    let s1 = keys_on_shard("k1:", 1, 2, 1);
    Keys { a: s0[0].clone(), la: s0[1].clone(), log0: s0[2].clone(), b: s1[0].clone() }
}

/// Runs `n` transactions numbered from `from`: EXEC (INCR a, INCR b, RPUSH la i) and an
/// atomic cross-shard MSET, each followed by an acknowledged single-shard RPUSH on shard 0.
fn run_transactions(c: &mut RawConn, k: &Keys, from: usize, n: usize) {
    for i in from..from + n {
        let v = i.to_string();
        ok(c.cmd(&["MULTI"]));
        for cmd in [vec!["INCR", &k.a], vec!["INCR", &k.b], vec!["RPUSH", &k.la, &v]] {
            assert_eq!(c.cmd(&cmd), Reply::Simple(b"QUEUED".to_vec()));
        }
        let Reply::Array(r) = c.cmd(&["EXEC"]) else { panic!("EXEC") };
        assert_eq!(r.len(), 3);
        ok(c.cmd(&["MSET", &format!("{}:m", k.a), &v, &format!("{}:m", k.b), &v]));
        int(c, &["RPUSH", &k.log0, &v]);
    }
}

#[test]
fn a_transaction_torn_by_a_crash_loads_whole_or_not_at_all() {
    let dir = TempDir::new("aof-tx-torn");
    let k = keys();
    let mut s = Server::start_in(&spec(&[]), dir.path()).expect("start");
    let mut c = s.raw();
    run_transactions(&mut c, &k, 1, 40);
    s.signal_and_wait(libc::SIGKILL, Duration::from_secs(10));

    // The crash lost shard 1's last 10 transaction parts (EXEC's and MSET's: 20 MULTIs);
    // shard 0's file has them all, and the RPUSHes acknowledged after them.
    let f1 = incr_files(dir.path(), 1).pop().expect("shard 1 incr");
    let bytes = std::fs::read(&f1).unwrap();
    let multis = multi_offsets(&bytes);
    assert_eq!(multis.len(), 80, "two parts per transaction on shard 1");
    std::fs::write(&f1, &bytes[..multis[60]]).unwrap();
    assert!(String::from_utf8_lossy(&bytes).contains("TESSERA.TXPART"));

    // Without aof-load-truncated the load refuses and names the transaction and the shard.
    let refused = common::TempDir::new("aof-tx-torn-copy");
    std::fs::create_dir_all(aof_dir(refused.path())).unwrap();
    for e in std::fs::read_dir(aof_dir(dir.path())).unwrap().flatten() {
        std::fs::copy(e.path(), aof_dir(refused.path()).join(e.file_name())).unwrap();
    }
    let err = Server::start_in(&spec(&["--aof-load-truncated", "no"]), refused.path()).err().expect("refuses to start");
    assert!(err.contains("Incomplete cross-shard transaction") && err.contains("shard(s) [1]"), "{err}");

    let s = Server::start_in(&spec(&[]), dir.path()).expect("restart");
    assert!(s.log().contains("Incomplete cross-shard transaction"), "{}", s.log());
    let mut c = s.raw();
    // Transactions 1..=30 are whole on both shards; 31..=40 are gone from both, and so is
    // every shard-0 write after transaction 31's part.
    assert_eq!(int(&mut c, &["GET", &k.a]), 30);
    assert_eq!(int(&mut c, &["GET", &k.b]), 30);
    assert_eq!(int(&mut c, &["LLEN", &k.la]), 30);
    assert_eq!(int(&mut c, &["GET", &format!("{}:m", k.a)]), 30);
    assert_eq!(int(&mut c, &["GET", &format!("{}:m", k.b)]), 30);
    assert_eq!(int(&mut c, &["LLEN", &k.log0]), 30);
    // The files were cut where the load stopped: they check, and a second load agrees.
    run_transactions(&mut c, &k, 31, 5);
    drop(c);
    drop(s);
    assert_check_aof(dir.path());
    let s = Server::start_in(&spec(&[]), dir.path()).expect("second restart");
    assert!(!s.log().contains("Incomplete cross-shard transaction"), "{}", s.log());
    let mut c = s.raw();
    assert_eq!(int(&mut c, &["GET", &k.a]), 35);
    assert_eq!(int(&mut c, &["GET", &k.b]), 35);
    assert_eq!(int(&mut c, &["LLEN", &k.log0]), 35);
}

#[test]
fn a_rewrite_on_one_shard_keeps_complete_transactions() {
    let dir = TempDir::new("aof-tx-rewrite");
    let k = keys();
    let extra = ["--auto-aof-rewrite-percentage", "100", "--auto-aof-rewrite-min-size", "262144"];
    let mut s = Server::start_in(&spec(&extra), dir.path()).expect("start");
    let mut c = s.raw();
    run_transactions(&mut c, &k, 1, 20);
    // Enough on shard 0 alone for its automatic rewrite; shard 1 stays below the size.
    let big = "x".repeat(4096);
    for key in keys_on_shard("fill:", 0, 2, 100) {
        ok(c.cmd(&["SET", &key, &big]));
    }
    let t0 = std::time::Instant::now();
    while base_files(dir.path(), 0).iter().all(|b| b.contains(".1.base")) {
        assert!(t0.elapsed() < Duration::from_secs(30), "shard 0 never rewrote");
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(base_files(dir.path(), 1).iter().all(|b| b.contains(".1.base")), "shard 1 rewrote too");
    // Shard 0's parts of transactions 1..=20 are in its new base now; shard 1's are still in
    // its incremental file. Both must count as logged.
    let rewritten = std::fs::read(incr_files(dir.path(), 0).pop().unwrap()).unwrap();
    assert!(rewritten.starts_with(b"*2\r\n$17\r\nTESSERA.TXHORIZON\r\n"), "horizon opens the new file");
    run_transactions(&mut c, &k, 21, 5);
    s.signal_and_wait(libc::SIGKILL, Duration::from_secs(10));
    let s = Server::start_in(&spec(&extra), dir.path()).expect("restart");
    assert!(!s.log().contains("Incomplete cross-shard transaction"), "{}", s.log());
    let mut c = s.raw();
    assert_eq!(int(&mut c, &["GET", &k.a]), 25);
    assert_eq!(int(&mut c, &["GET", &k.b]), 25);
    assert_eq!(int(&mut c, &["LLEN", &k.log0]), 25);
    drop(c);
    drop(s);
    assert_check_aof(dir.path());
}

#[test]
fn kill_9_under_cross_shard_transactions_loses_no_acknowledged_one_and_tears_none() {
    let dir = TempDir::new("aof-tx-crash");
    let writers = 4;
    let mut acked = vec![0i64; writers];
    let mut total = 0;
    for cycle in 0..=5 {
        let mut s = Server::start_in(&spec(&[]), dir.path()).expect("start");
        let mut c = s.raw();
        for (t, n) in acked.iter_mut().enumerate() {
            *n = check_pair(&mut c, PairStep::Exec, t, *n, &format!("cycle {cycle}"));
        }
        if cycle == 5 {
            break;
        }
        // Never set: the writers run until the server dies.
        let stop = Arc::new(AtomicBool::new(false));
        let ws: Vec<_> =
            (0..writers).map(|t| start_pair_writer(s.port, PairStep::Exec, t, acked[t], stop.clone())).collect();
        std::thread::sleep(Duration::from_millis(200 + 50 * cycle as u64));
        s.signal_and_wait(libc::SIGKILL, Duration::from_secs(10));
        for (t, w) in ws.into_iter().enumerate() {
            let n = w.join().unwrap();
            total += n - acked[t];
            acked[t] = n;
        }
    }
    assert!(total > 100, "the writers made progress: {total}");
    eprintln!("{total} cross-shard EXECs acknowledged over 5 kill -9 cycles: none lost, none torn");
}

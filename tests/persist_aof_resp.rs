//! AOF bases without the RDB preamble (`aof-use-rdb-preamble no`), against real Redis 7.0:
//! - after `CONFIG SET aof-use-rdb-preamble no`, BGREWRITEAOF under concurrent writers writes
//!   `.base.aof` bases of RESP commands (manifest `type b`) that `redis-check-aof` accepts;
//! - the directory reloads into Tessera (1 and 2 shards) with every key, value, stream group,
//!   pending entry and TTL of the server that wrote it, and, with one shard, into
//!   redis-server with the same content;
//! - a layout conversion at startup writes RESP bases too, and turning the preamble back on
//!   makes the next rewrite an RDB base again.
//!
//! Redis's rewrite restores pending entries with XCLAIM, which drops a pending entry whose
//! message was deleted (XDEL) meanwhile; Tessera writes the same commands, so before the
//! comparison those entries are acknowledged on the server that wrote the files.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::dataset::*;
use common::{redis_tool, run_tool, RawConn, Reply, Server, Spec, TempDir};

fn aof_spec(shards: usize) -> Spec {
    Spec::tessera(shards).args(&DEBUG).args(&["--appendonly", "yes", "--appendfsync", "always", "--save", ""])
}

fn aof_dir(dir: &Path) -> PathBuf {
    dir.join("appendonlydir")
}

fn file_names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(aof_dir(dir))
        .expect("appendonlydir")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// Every manifest names one base, a RESP one (`.base.aof`) when `resp`, and
/// `redis-check-aof` accepts it. Returns the base file paths.
fn check_manifests(dir: &Path, shards: usize, resp: bool) -> Vec<PathBuf> {
    let names = file_names(dir);
    let manifests: Vec<&String> = names.iter().filter(|n| n.ends_with(".manifest")).collect();
    assert_eq!(manifests.len(), shards, "{names:?}");
    let ext = if resp { ".base.aof" } else { ".base.rdb" };
    let mut bases = Vec::new();
    for m in manifests {
        let path = aof_dir(dir).join(m);
        let text = std::fs::read_to_string(&path).expect("manifest");
        let base = text
            .lines()
            .find(|l| l.ends_with("type b"))
            .and_then(|l| l.split_whitespace().nth(1))
            .unwrap_or_else(|| panic!("{m} names no base: {text}"));
        assert!(base.ends_with(ext), "{m}: base {base} is not a {ext}");
        bases.push(aof_dir(dir).join(base));
        let mut c = Command::new(redis_tool("redis-check-aof"));
        c.arg(&path);
        let (status, out, err) = run_tool(&mut c, Duration::from_secs(60));
        assert!(status.is_some_and(|s| s.success()) && out.contains("is valid"), "redis-check-aof {m}: {out}{err}");
    }
    assert_eq!(names.iter().filter(|n| n.contains(".base.")).count(), shards, "old bases deleted: {names:?}");
    bases
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
}

fn wait_rewrite_done(c: &mut RawConn) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while info_field(c, "aof_rewrite_in_progress") != "0" {
        assert!(Instant::now() < deadline, "BGREWRITEAOF did not finish");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(info_field(c, "aof_last_bgrewrite_status"), "ok");
}

/// Keys beyond the shared dataset: an empty stream that never had a deletion, a group on it,
/// collections just over one rebuilding command (64 items), and large ones.
fn extra_keys(c: &mut RawConn) {
    let mut cmds = vec![
        cmd(&["XADD", "0:trimmed", "MAXLEN", "0", "9-9", "a", "b"]),
        cmd(&["XGROUP", "CREATE", "0:trimmed", "g", "$"]),
        cmd(&["XGROUP", "CREATECONSUMER", "0:trimmed", "g", "nobody"]),
    ];
    let mut l = vec!["RPUSH".to_string(), "0:list-65".into()];
    l.extend((0..65).map(|i| i.to_string()));
    cmds.push(l.iter().map(|s| s.as_bytes().to_vec()).collect());
    let mut z = vec!["ZADD".to_string(), "0:zset-65".into()];
    z.extend((0..65).flat_map(|i| [format!("{}", 1.0 / (i as f64 + 1.0)), format!("m{i}")]));
    cmds.push(z.iter().map(|s| s.as_bytes().to_vec()).collect());
    // Collections large enough that the rewrite writes them a slice at a time (over 4096
    // elements), one with a TTL.
    for base in (0..10_000).step_by(500) {
        let mut h = vec!["HSET".to_string(), "0:bigh".into()];
        let mut st = vec!["SADD".to_string(), "0:bigs".into()];
        let mut z = vec!["ZADD".to_string(), "0:bigz".into()];
        let mut l = vec!["RPUSH".to_string(), "0:bigl".into()];
        for i in base..base + 500 {
            h.extend([format!("f{i}"), format!("v{i}")]);
            st.push(format!("m{i}"));
            z.extend([format!("{}", (i % 613) as f64 / 7.0), format!("m{i}")]);
            l.push(format!("e{i}"));
        }
        for c in [h, st, z, l] {
            cmds.push(c.iter().map(|s| s.as_bytes().to_vec()).collect());
        }
    }
    cmds.push(cmd(&["PEXPIREAT", "0:bigz", "4102444800000"]));
    // A large stream, with a deleted entry, a group and pending entries.
    for i in 1..=6_000 {
        cmds.push(cmd(&["XADD", "0:bigx", &format!("{i}-1"), "f", &format!("v{i}")]));
    }
    cmds.push(cmd(&["XDEL", "0:bigx", "77-1"]));
    cmds.push(cmd(&["XGROUP", "CREATE", "0:bigx", "g", "0"]));
    cmds.push(cmd(&["XREADGROUP", "GROUP", "g", "alice", "COUNT", "5", "STREAMS", "0:bigx", ">"]));
    // Enough keys that the rewrite takes many loop iterations, so the writers' changes
    // land while it runs.
    for i in 0..3_000 {
        cmds.push(cmd(&["SET", &format!("0:pre:{i}"), &format!("{i:04}").repeat(500)]));
    }
    pipeline(c, &cmds);
}

/// Writers that keep changing keys of the dataset (so the rewrite's copy-on-write saves the
/// old values first) and adding new ones, until `stop`.
fn start_writers(port: u16, n: usize, stop: Arc<AtomicBool>) -> Vec<std::thread::JoinHandle<u64>> {
    (0..n)
        .map(|t| {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let mut c = RawConn::connect(port).expect("connect");
                let mut done = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let i = done;
                    let cmds = [
                        cmd(&["SET", &format!("w{t}:{i}"), &i.to_string()]),
                        cmd(&["SET", &format!("0:k{}", (i * 7 + t as u64) % 200), &format!("new-{t}-{i}")]),
                        cmd(&["HSET", "0:hash-big", &format!("field{}", i % 600), &i.to_string()]),
                        cmd(&["RPUSH", "0:list-big", &format!("w{t}-{i}")]),
                        cmd(&["ZINCRBY", "0:zset-big", "1", &format!("m{}", i % 500)]),
                        cmd(&["XADD", "0:stream-small", "*", "w", &i.to_string()]),
                        cmd(&["PEXPIRE", &format!("0:ttl{}", i % 6), "200000000"]),
                    ];
                    pipeline(&mut c, &cmds);
                    done += 1;
                }
                done
            })
        })
        .collect()
}

/// Acknowledges, on the server that wrote the files, the pending entries whose messages the
/// dataset deleted: a reload through XCLAIM drops them, in Redis as here.
fn ack_deleted_pending(c: &mut RawConn) {
    for db in DBS {
        c.cmd(&["SELECT", &db.to_string()]);
        let r = c.cmd(&["XACK", &format!("{db}:stream-big"), "g1", "5-1"]);
        assert_eq!(r, Reply::Int(1), "db {db}: the deleted message was pending");
    }
    c.cmd(&["SELECT", "0"]);
}

fn resp_base_round_trip(shards: usize) {
    let dir = TempDir::new("aof-resp");
    let mut s = Server::start_in(&aof_spec(shards), dir.path()).expect("start");
    let mut c = s.raw();
    load_dataset(&mut c);
    extra_keys(&mut c);
    ok(c.cmd(&["CONFIG", "SET", "aof-use-rdb-preamble", "no"]));
    let stop = Arc::new(AtomicBool::new(false));
    let ws = start_writers(s.port, 3, stop.clone());
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(c.cmd(&["BGREWRITEAOF"]), Reply::Simple(b"Background append only file rewriting started".to_vec()));
    wait_rewrite_done(&mut c);
    std::thread::sleep(Duration::from_millis(100));
    stop.store(true, Ordering::Relaxed);
    let written: Vec<u64> = ws.into_iter().map(|w| w.join().expect("writer")).collect();
    assert!(written.iter().all(|&n| n > 0), "{written:?}");
    assert_eq!(info_field(&mut c, "aof_rewrites"), shards.to_string());
    let bases = check_manifests(dir.path(), shards, true);
    for b in &bases {
        let bytes = std::fs::read(b).expect("base");
        assert!(bytes.starts_with(b"*2\r\n$6\r\nSELECT\r\n"), "{}: not RESP from its start", b.display());
    }
    ack_deleted_pending(&mut c);

    // Every acknowledged write is on disk (appendfsync always): a copy reloads to the same data.
    let copy = TempDir::new("aof-resp-copy");
    copy_dir(&aof_dir(dir.path()), &aof_dir(copy.path()));
    let reloaded = Server::start_in(&aof_spec(shards), copy.path()).expect("reload the RESP bases");
    let mut rc = reloaded.raw();
    assert_same_data_by(&mut c, &mut rc, &format!("{shards} shard(s) reloaded"), describe_aof);
    assert!(reloaded.log().contains("DB loaded from append only file"), "{}", reloaded.log());

    if shards == 1 {
        let rdir = TempDir::new("aof-resp-redis");
        copy_dir(&aof_dir(dir.path()), &aof_dir(rdir.path()));
        let redis = Server::start_in(&Spec::redis().args(&DEBUG).args(&["--appendonly", "yes"]), rdir.path())
            .expect("redis-server loads the RESP base");
        assert_same_data_by(&mut c, &mut redis.raw(), "loaded by redis-server", describe_aof);
    } else {
        // Another shard count at startup: a new layout, its bases written as RESP at once.
        let conv = TempDir::new("aof-resp-convert");
        copy_dir(&aof_dir(dir.path()), &aof_dir(conv.path()));
        let spec = aof_spec(1).args(&["--aof-use-rdb-preamble", "no"]);
        let one = Server::start_in(&spec, conv.path()).expect("load into one shard");
        assert_same_data_by(&mut c, &mut one.raw(), "converted to one shard", describe_aof);
        check_manifests(conv.path(), 1, true);
    }

    // Restarted on its own files, the writer holds the same data too.
    s.signal_and_wait(libc::SIGTERM, Duration::from_secs(30));
    let s = Server::start_in(&aof_spec(shards), dir.path()).expect("restart");
    let mut c = s.raw();
    assert_same_data_by(&mut c, &mut rc, "restarted", describe_aof);

    // The setting is read per rewrite: back on, the next base is an RDB file again.
    ok(c.cmd(&["CONFIG", "SET", "aof-use-rdb-preamble", "yes"]));
    c.cmd(&["BGREWRITEAOF"]);
    wait_rewrite_done(&mut c);
    let bases = check_manifests(dir.path(), shards, false);
    assert!(std::fs::read(&bases[0]).expect("base").starts_with(b"REDIS"));
}

#[test]
fn resp_base_one_shard() {
    resp_base_round_trip(1);
}

#[test]
fn resp_base_two_shards() {
    resp_base_round_trip(2);
}

//! The per-shard AOF against real Redis 7.0 and real crashes:
//! - every type round-trips through the AOF (after SIGKILL, onto other shard counts, through
//!   BGREWRITEAOF, and through a rewrite while clients keep writing);
//! - commands that are random or time-relative are logged as their effects, so the reload
//!   equals what clients saw;
//! - a one-shard Tessera `appendonlydir` loads into redis-server, and Redis's loads into
//!   Tessera; `redis-check-aof` accepts every manifest Tessera writes;
//! - `appendfsync always` loses no acknowledged write over 10 `kill -9` cycles under load;
//!   `everysec`'s loss is measured and printed;
//! - a truncated AOF loads with `aof-load-truncated yes` and refuses without it (and
//!   `redis-check-aof --fix` repairs it); a corrupt byte in the middle stops startup with the
//!   file, the offset and the fix command.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::crash::{assert_check_aof, lost_writes, manifests, start_writers};
use common::dataset::*;
use common::{redis_tool, run_tool, RawConn, Reply, Server, Spec, TempDir};

fn aof_spec(shards: usize, fsync: &str) -> Spec {
    Spec::tessera(shards).args(&DEBUG).args(&["--appendonly", "yes", "--appendfsync", fsync, "--save", ""])
}

fn aof_dir(dir: &Path) -> PathBuf {
    dir.join("appendonlydir")
}

/// Commands whose logged form must differ from what the client sent.
fn effect_commands(c: &mut RawConn) {
    let cmds = vec![
        cmd(&["SADD", "spop-set", "a", "b", "c", "d", "e", "f"]),
        cmd(&["SPOP", "spop-set", "2"]),
        cmd(&["SPOP", "spop-set"]),
        cmd(&["SET", "float", "10.5"]),
        cmd(&["INCRBYFLOAT", "float", "0.1"]),
        cmd(&["HSET", "hf", "f", "1"]),
        cmd(&["HINCRBYFLOAT", "hf", "f", "2.25"]),
        cmd(&["SET", "rel", "v", "EX", "1000"]),
        cmd(&["SETEX", "rel2", "2000", "v"]),
        cmd(&["SET", "rel3", "v"]),
        cmd(&["EXPIRE", "rel3", "3000"]),
        cmd(&["SET", "gone", "v"]),
        cmd(&["EXPIRE", "gone", "-1"]),
        cmd(&["XADD", "auto", "*", "f", "v"]),
        cmd(&["XADD", "auto", "MAXLEN", "~", "5", "*", "f", "w"]),
        cmd(&["RPUSH", "bl", "x", "y"]),
        cmd(&["BLPOP", "bl", "0"]),
        cmd(&["ZADD", "bz", "1", "a", "2", "b"]),
        cmd(&["BZPOPMIN", "bz", "0"]),
        // Cross-shard and transactional writes.
        cmd(&["MSET", "m1", "1", "m2", "2", "m3", "3"]),
        cmd(&["RENAME", "m1", "m1-renamed"]),
        cmd(&["SADD", "u1", "a", "b"]),
        cmd(&["SADD", "u2", "c"]),
        cmd(&["SUNIONSTORE", "u3", "u1", "u2"]),
        cmd(&["MULTI"]),
        cmd(&["INCR", "tx-a"]),
        cmd(&["INCR", "tx-b"]),
        cmd(&["EXEC"]),
        cmd(&["SELECT", "9"]),
        cmd(&["SET", "flushed", "1"]),
        cmd(&["FLUSHDB"]),
        cmd(&["SET", "kept-in-9", "1"]),
        cmd(&["SELECT", "0"]),
    ];
    for c1 in &cmds {
        let args: Vec<&[u8]> = c1.iter().map(|a| a.as_slice()).collect();
        let (raw, r) = c.call(&args).unwrap_or_else(|e| panic!("{}: {e}", common::resp::show_cmd(c1)));
        assert!(!r.is_error(), "{}: {}", common::resp::show_cmd(c1), common::resp::escape(&raw));
    }
}

/// Everything the dataset and the effect commands left, per database.
fn snapshot(c: &mut RawConn) -> Vec<Vec<KeyFacts>> {
    [0, 5, 9].iter().map(|&db| describe_aof(c, db)).collect()
}

fn assert_same_snapshot(a: &[Vec<KeyFacts>], b: &[Vec<KeyFacts>], what: &str) {
    for (da, db) in a.iter().zip(b) {
        assert_eq!(da.len(), db.len(), "{what}: key count");
        for (x, y) in da.iter().zip(db) {
            let key = String::from_utf8_lossy(&x.key);
            assert_eq!(x.content(), y.content(), "{what}: {key}");
            assert!(ttl_close(x.pttl_ms, y.pttl_ms, 10_000), "{what}: PTTL of {key}: {} vs {}", x.pttl_ms, y.pttl_ms);
        }
    }
}

fn wait_rewrite_done(c: &mut RawConn) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let in_progress = info_field(c, "aof_rewrite_in_progress");
        if in_progress == "0" {
            break;
        }
        assert!(Instant::now() < deadline, "BGREWRITEAOF did not finish");
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn every_type_round_trips_through_the_aof() {
    let dir = TempDir::new("aof-roundtrip");
    let mut s = Server::start_in(&aof_spec(2, "always"), dir.path()).expect("start");
    let mut c = s.raw();
    load_dataset(&mut c);
    effect_commands(&mut c);
    let before = snapshot(&mut c);
    assert!(before[2].len() == 1, "FLUSHDB then one key in db 9: {:?}", before[2].len());
    // kill -9: with appendfsync always every acknowledged write is on disk.
    s.signal_and_wait(libc::SIGKILL, Duration::from_secs(10));
    assert_check_aof(dir.path());
    for shards in [2, 1, 3, 2] {
        let mut s = Server::start_in(&aof_spec(shards, "always"), dir.path()).expect("restart");
        let mut c = s.raw();
        assert_same_snapshot(&before, &snapshot(&mut c), &format!("reload into {shards} shard(s)"));
        s.signal_and_wait(libc::SIGTERM, Duration::from_secs(30));
        assert_check_aof(dir.path());
        assert_eq!(manifests(dir.path()).len(), shards, "one manifest per shard, old layouts removed");
    }
    // Through a rewrite: the new base holds everything, later writes go to the new file.
    let mut s = Server::start_in(&aof_spec(2, "everysec"), dir.path()).expect("restart");
    let mut c = s.raw();
    assert_eq!(c.cmd(&["BGREWRITEAOF"]), Reply::Simple(b"Background append only file rewriting started".to_vec()));
    wait_rewrite_done(&mut c);
    assert_eq!(info_field(&mut c, "aof_last_bgrewrite_status"), "ok");
    c.cmd(&["SET", "after-rewrite", "1"]);
    let before = snapshot(&mut c);
    s.signal_and_wait(libc::SIGTERM, Duration::from_secs(30));
    assert_check_aof(dir.path());
    let names: Vec<String> = std::fs::read_dir(aof_dir(dir.path()))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.iter().filter(|n| n.ends_with(".base.rdb")).count(), 2, "old bases deleted: {names:?}");
    let s = Server::start_in(&aof_spec(2, "everysec"), dir.path()).expect("restart after rewrite");
    let mut c = s.raw();
    assert_same_snapshot(&before, &snapshot(&mut c), "reload after BGREWRITEAOF");
}

#[test]
fn aof_directories_interchange_with_redis() {
    // Tessera (one shard) writes; redis-server loads its appendonlydir as it is.
    let tdir = TempDir::new("aof-to-redis");
    let mut t = Server::start_in(&aof_spec(1, "everysec"), tdir.path()).expect("start");
    let mut tc = t.raw();
    load_dataset(&mut tc);
    let expect = t.raw();
    drop(expect);
    let rdir = TempDir::new("aof-redis-loads");
    t.signal_and_wait(libc::SIGTERM, Duration::from_secs(30));
    assert_check_aof(tdir.path());
    copy_dir(&aof_dir(tdir.path()), &aof_dir(rdir.path()));
    let redis = Server::start_in(&Spec::redis().args(&DEBUG).args(&["--appendonly", "yes"]), rdir.path())
        .expect("redis-server loads tessera's AOF");
    let t2 = Server::start_in(&aof_spec(1, "everysec"), tdir.path()).expect("restart");
    assert_same_data_by(&mut t2.raw(), &mut redis.raw(), "tessera AOF loaded by redis-server", describe_aof);

    // redis-server writes; tessera with two shards loads Redis's appendonlydir, and holds what
    // redis-server itself reloads from it (a reload drops a group's read counter in both).
    let r2dir = TempDir::new("aof-from-redis");
    let redis_aof = Spec::redis().args(&DEBUG).args(&["--appendonly", "yes"]);
    let mut r2 = Server::start_in(&redis_aof, r2dir.path()).expect("redis");
    let mut rc = r2.raw();
    load_dataset(&mut rc);
    effect_commands(&mut rc);
    r2.signal_and_wait(libc::SIGTERM, Duration::from_secs(30));
    let t3dir = TempDir::new("aof-tessera-loads");
    copy_dir(&aof_dir(r2dir.path()), &aof_dir(t3dir.path()));
    let r3 = Server::start_in(&redis_aof, r2dir.path()).expect("redis reloads its AOF");
    let t3 = Server::start_in(&aof_spec(2, "everysec"), t3dir.path()).expect("tessera loads redis's AOF");
    assert_same_data_by(&mut r3.raw(), &mut t3.raw(), "redis AOF loaded by tessera", describe_aof);
    assert!(t3.log().contains("DB loaded from append only file"), "{}", t3.log());
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
    }
}

#[test]
fn appendfsync_always_loses_no_acknowledged_write_across_crashes() {
    let dir = TempDir::new("aof-crash");
    let spec = aof_spec(2, "always");
    let mut total_acked = 0;
    for cycle in 0..10 {
        let mut s = Server::start_in(&spec, dir.path()).expect("start");
        let mut c = s.raw();
        // Every write acknowledged in earlier cycles is still here.
        let base: Vec<u64> = (0..16)
            .map(|t| {
                c.cmd(&["GET", &format!("cnt{t}")])
                    .bytes()
                    .and_then(|b| std::str::from_utf8(b).ok()?.parse().ok())
                    .unwrap_or(0)
            })
            .collect();
        let stop = Arc::new(AtomicBool::new(false));
        let ws = start_writers(s.port, &base, stop.clone());
        std::thread::sleep(Duration::from_millis(250 + 40 * cycle as u64));
        s.signal_and_wait(libc::SIGKILL, Duration::from_secs(10));
        stop.store(true, Ordering::Relaxed);
        let acked: Vec<u64> = ws.into_iter().map(|w| w.join().unwrap()).collect();
        total_acked += acked.iter().zip(&base).map(|(a, b)| a - b).sum::<u64>();
        let s = Server::start_in(&spec, dir.path()).expect("restart after kill -9");
        let lost = lost_writes(&mut s.raw(), &acked);
        assert_eq!(lost, 0, "cycle {cycle}: acknowledged writes lost");
        drop(s);
    }
    assert!(total_acked > 500, "the writers made progress: {total_acked}");
    eprintln!("appendfsync always: {total_acked} acknowledged writes over 10 kill -9 cycles, none lost");
}

#[test]
fn appendfsync_everysec_loss_window_is_measured() {
    let dir = TempDir::new("aof-crash-everysec");
    let spec = aof_spec(2, "everysec");
    let mut s = Server::start_in(&spec, dir.path()).expect("start");
    let stop = Arc::new(AtomicBool::new(false));
    let ws = start_writers(s.port, &[0; 8], stop.clone());
    std::thread::sleep(Duration::from_millis(600));
    s.signal_and_wait(libc::SIGKILL, Duration::from_secs(10));
    stop.store(true, Ordering::Relaxed);
    let acked: Vec<u64> = ws.into_iter().map(|w| w.join().unwrap()).collect();
    let s = Server::start_in(&spec, dir.path()).expect("restart");
    let lost = lost_writes(&mut s.raw(), &acked);
    // A process crash keeps what reached the page cache; only the last iteration's bytes
    // can be lost (a machine crash could lose up to a second).
    eprintln!("appendfsync everysec: {} acknowledged, {lost} lost on kill -9", acked.iter().sum::<u64>());
    assert!(lost <= 8 * 2, "lost {lost}");
}

fn start_fails(spec: &Spec, dir: &Path) -> String {
    let port = common::free_port();
    let mut cmd = Command::new(common::tessera_bin());
    cmd.args(spec.argv(port, dir));
    let (status, out, err) = run_tool(&mut cmd, Duration::from_secs(60));
    let status = status.expect("tessera exits by itself");
    assert!(!status.success(), "tessera started: {out}{err}");
    format!("{out}{err}")
}

#[test]
fn truncated_and_corrupt_aofs() {
    let dir = TempDir::new("aof-bad");
    let mut s = Server::start_in(&aof_spec(1, "always"), dir.path()).expect("start");
    let mut c = s.raw();
    for i in 0..100 {
        c.cmd(&["SET", &format!("k{i}"), &format!("value-{i}")]);
    }
    s.signal_and_wait(libc::SIGTERM, Duration::from_secs(30));
    let incr = aof_dir(dir.path()).join("appendonly.aof.1.incr.aof");
    let good = std::fs::read(&incr).unwrap();

    // A cut last command: refused without aof-load-truncated, loaded (minus it) with it.
    std::fs::write(&incr, &good[..good.len() - 7]).unwrap();
    let no = aof_spec(1, "always").args(&["--aof-load-truncated", "no"]);
    let text = start_fails(&no, dir.path());
    assert!(text.contains("Unexpected end of file") && text.contains("redis-check-aof --fix"), "{text}");
    let s = Server::start_in(&aof_spec(1, "always").args(&["--aof-load-truncated", "yes"]), dir.path()).expect("loads");
    let mut c = s.raw();
    assert_eq!(c.cmd(&["DBSIZE"]).int(), Some(99));
    assert!(s.log().contains("Truncating the AOF"), "{}", s.log());
    c.cmd(&["SET", "k99", "again"]);
    drop(s);
    let s = Server::start_in(&no, dir.path()).expect("the cut file was repaired on load");
    assert_eq!(s.raw().cmd(&["DBSIZE"]).int(), Some(100));
    drop(s);

    // redis-check-aof --fix repairs a cut file too.
    let good = std::fs::read(&incr).unwrap();
    std::fs::write(&incr, &good[..good.len() - 3]).unwrap();
    let manifest = aof_dir(dir.path()).join("appendonly.aof.manifest");
    // --fix asks for confirmation on stdin.
    let mut fix = Command::new("sh");
    fix.arg("-c").arg(format!("echo y | {} --fix {}", redis_tool("redis-check-aof").display(), manifest.display()));
    let (status, out, err) = run_tool(&mut fix, Duration::from_secs(60));
    assert!(status.is_some_and(|s| s.success()), "redis-check-aof --fix: {out}{err}");
    let s = Server::start_in(&no, dir.path()).expect("starts after --fix");
    assert_eq!(s.raw().cmd(&["DBSIZE"]).int(), Some(99));
    drop(s);

    // A corrupt byte in the middle: the file, the offset, and the fix command.
    let mut bad = std::fs::read(&incr).unwrap();
    let mid = bad.len() / 2;
    let at = mid + bad[mid..].iter().position(|&b| b == b'*').unwrap();
    bad[at] = b'#';
    std::fs::write(&incr, &bad).unwrap();
    let text = start_fails(&aof_spec(1, "always").args(&["--aof-load-truncated", "yes"]), dir.path());
    assert!(
        text.contains("appendonly.aof.1.incr.aof")
            && text.contains(&format!("offset {at}"))
            && text.contains("redis-check-aof"),
        "{text}"
    );
}

#[test]
fn rewrite_while_clients_write() {
    let dir = TempDir::new("aof-rewrite-load");
    let spec = aof_spec(2, "everysec");
    let mut s = Server::start_in(&spec, dir.path()).expect("start");
    let mut c = s.raw();
    let mut cmds = Vec::new();
    for i in 0..50_000 {
        cmds.push(cmd(&["SET", &format!("pre:{i}"), &format!("{i}")]));
    }
    pipeline(&mut c, &cmds);
    let stop = Arc::new(AtomicBool::new(false));
    let ws = start_writers(s.port, &[0; 8], stop.clone());
    for _ in 0..3 {
        std::thread::sleep(Duration::from_millis(150));
        assert_eq!(c.cmd(&["BGREWRITEAOF"]), Reply::Simple(b"Background append only file rewriting started".to_vec()));
        wait_rewrite_done(&mut c);
    }
    // A BGSAVE holds each shard's snapshot job: a rewrite asked meanwhile is scheduled and
    // runs after it, and a BGSAVE asked during a rewrite is refused with Redis's words.
    assert_eq!(c.cmd(&["BGSAVE"]), Reply::Simple(b"Background saving started".to_vec()));
    let r = c.cmd(&["BGREWRITEAOF"]);
    assert!(
        r == Reply::Simple(b"Background append only file rewriting scheduled".to_vec())
            || r == Reply::Simple(b"Background append only file rewriting started".to_vec()),
        "{r:?}"
    );
    if info_field(&mut c, "aof_rewrite_in_progress") == "1" {
        let r = c.cmd(&["BGSAVE"]);
        assert!(r.is_error() || r == Reply::Simple(b"Background saving started".to_vec()), "{r:?}");
    }
    wait_rewrite_done(&mut c);
    let deadline = Instant::now() + Duration::from_secs(60);
    while info_field(&mut c, "rdb_bgsave_in_progress") != "0" {
        assert!(Instant::now() < deadline, "BGSAVE did not finish");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(info_field(&mut c, "rdb_last_bgsave_status"), "ok");
    std::thread::sleep(Duration::from_millis(150));
    stop.store(true, Ordering::Relaxed);
    let acked: Vec<u64> = ws.into_iter().map(|w| w.join().unwrap()).collect();
    assert!(acked.iter().all(|&n| n > 0), "{acked:?}");
    assert_eq!(info_field(&mut c, "aof_rewrites"), "8", "four rewrites on each of two shards");
    assert_eq!(info_field(&mut c, "aof_last_bgrewrite_status"), "ok", "{}", s.log());
    let digest = c.cmd(&["DEBUG", "DIGEST"]);
    s.signal_and_wait(libc::SIGTERM, Duration::from_secs(30));
    assert_check_aof(dir.path());
    // Every shard's last rewrite completed: its manifest names the new base and only the
    // incremental file started with it.
    for m in manifests(dir.path()) {
        let text = std::fs::read_to_string(&m).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2, "{}: {text}", m.display());
        let seq = |l: &str| l.split_whitespace().nth(3).map(str::to_owned);
        assert!(lines[0].ends_with("type b") && seq(lines[0]) == seq(lines[1]), "{}: {text}", m.display());
    }
    let s = Server::start_in(&spec, dir.path()).expect("restart");
    let mut c = s.raw();
    assert_eq!(c.cmd(&["DEBUG", "DIGEST"]), digest, "the reload equals the data at shutdown");
    assert_eq!(lost_writes(&mut c, &acked), 0);
}

#[test]
fn appendonly_turned_on_at_run_time() {
    let dir = TempDir::new("aof-config-set");
    let plain = Spec::tessera(2).args(&DEBUG).args(&["--save", ""]);
    let mut s = Server::start_in(&plain, dir.path()).expect("start");
    let mut c = s.raw();
    load_dataset(&mut c);
    assert_eq!(info_field(&mut c, "aof_enabled"), "0");
    assert_eq!(c.cmd(&["CONFIG", "SET", "appendonly", "yes"]), Reply::Simple(b"OK".to_vec()));
    let deadline = Instant::now() + Duration::from_secs(10);
    while info_field(&mut c, "aof_enabled") != "1" {
        assert!(Instant::now() < deadline, "the AOF did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    c.cmd(&["CONFIG", "SET", "appendfsync", "always"]);
    std::thread::sleep(Duration::from_millis(300));
    effect_commands(&mut c);
    let before = snapshot(&mut c);
    s.signal_and_wait(libc::SIGKILL, Duration::from_secs(10));
    assert_check_aof(dir.path());
    let s = Server::start_in(&aof_spec(2, "always"), dir.path()).expect("restart from the AOF");
    assert_same_snapshot(&before, &snapshot(&mut s.raw()), "AOF started by CONFIG SET");
}

#[test]
fn switching_to_always_answers_reads_of_bytes_written_under_everysec() {
    // Bytes written under everysec and not yet synced hold every later reply once the policy
    // is `always`; the shard must sync them even when no new write comes to carry them.
    let dir = TempDir::new("aof-switch-always");
    let s = Server::start_in(&aof_spec(1, "everysec"), dir.path()).expect("start");
    let mut c = s.raw();
    for round in 0..5 {
        ok(c.cmd(&["CONFIG", "SET", "appendfsync", "everysec"]));
        ok(c.cmd(&["SET", "k", &round.to_string()]));
        ok(c.cmd(&["CONFIG", "SET", "appendfsync", "always"]));
        // The shard takes the new policy at its next cron tick.
        std::thread::sleep(Duration::from_millis(250));
        let t = Instant::now();
        assert_eq!(c.cmd(&["GET", "k"]), Reply::Bulk(round.to_string().into_bytes()));
        assert!(t.elapsed() < Duration::from_secs(2), "GET held {:?}", t.elapsed());
    }
}

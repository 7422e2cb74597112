//! RDB snapshots and DUMP/RESTORE against real Redis 7.0: a `dump.rdb` written by redis-server
//! loads into `tessera-server --shards 2` with identical content, a Tessera `dump.rdb` passes
//! `redis-check-rdb` and loads into redis-server with identical content, DUMP payloads restore
//! both ways, SAVE + restart keeps everything (also onto another shard count), a bad file stops
//! startup with a message naming the file and offset, BGSAVE runs while clients write, a failed
//! BGSAVE leaves the old file alone and reports `err`, and save points, SHUTDOWN and SIGTERM
//! save (following save points changed at run time); under an LFU policy the keys' counters
//! (OBJECT FREQ) and under an LRU policy their idle times (OBJECT IDLETIME) survive a restart,
//! an AOF rewrite's RDB base, and loading a file into the other server, both ways.
//!
//! "Identical" means: the same keys per database, the same `DEBUG DIGEST-VALUE` for every key
//! (Redis's own content digest, which Tessera computes the same way), the same TYPE and OBJECT
//! ENCODING, and TTLs within a few seconds of each other; plus the same `DEBUG DIGEST`.

mod common;

use std::path::Path;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::dataset::*;
use common::{run_tool, RawConn, Reply, Server, Spec, TempDir};

#[test]
fn redis_dump_loads_into_tessera_and_back() {
    // (a) redis-server writes, tessera --shards 2 loads.
    let redis = Server::start(redis_spec());
    let mut rc = redis.raw();
    load_dataset(&mut rc);
    ok(rc.cmd(&["SAVE"]));
    let tdir = TempDir::new("rdb-from-redis");
    std::fs::copy(redis.dir().join("dump.rdb"), tdir.path().join("dump.rdb")).expect("copy dump");
    let tessera = Server::start_in(&tessera_spec(2), tdir.path()).expect("tessera starts with redis's dump");
    let mut tc = tessera.raw();
    assert_same_data(&mut rc, &mut tc, "redis dump loaded into tessera");
    assert!(tessera.log().contains("Done loading RDB"), "{}", tessera.log());
    let loaded: u64 = info_field(&mut tc, "rdb_last_load_keys_loaded").parse().unwrap();
    assert!(loaded > 400, "rdb_last_load_keys_loaded {loaded}");

    // (b) tessera writes, redis-check-rdb accepts, redis-server loads.
    std::fs::remove_file(tdir.path().join("dump.rdb")).unwrap();
    ok(tc.cmd(&["SAVE"]));
    let file = tdir.path().join("dump.rdb");
    assert_check_rdb(&file);
    let rdir = TempDir::new("rdb-from-tessera");
    std::fs::copy(&file, rdir.path().join("dump.rdb")).unwrap();
    let redis2 = Server::start_in(&redis_spec(), rdir.path()).expect("redis-server loads tessera's dump");
    let mut r2 = redis2.raw();
    assert_same_data(&mut tc, &mut r2, "tessera dump loaded into redis");

    // The same without compression.
    tc.cmd(&["CONFIG", "SET", "rdbcompression", "no"]);
    ok(tc.cmd(&["SAVE"]));
    assert_check_rdb(&file);
}

/// DUMPs every key of `db` on `src` and RESTOREs it on `dst` (with its TTL), checking that the
/// copy has the same digest and encoding.
fn copy_by_dump(src: &mut RawConn, dst: &mut RawConn, db: usize, what: &str) {
    src.cmd(&["SELECT", &db.to_string()]);
    dst.cmd(&["SELECT", &db.to_string()]);
    let keys = match src.cmd(&["KEYS", "*"]) {
        Reply::Array(v) => v.iter().map(bulk).collect::<Vec<_>>(),
        r => panic!("{r:?}"),
    };
    assert!(keys.len() > 100, "{what}: only {} keys", keys.len());
    for k in &keys {
        let name = String::from_utf8_lossy(k).into_owned();
        let payload = bulk(&src.call(&[b"DUMP", k]).expect("DUMP").1);
        let pttl = src.call(&[b"PTTL", k]).expect("PTTL").1.int().unwrap().max(0).to_string();
        let (raw, _) = dst.call(&[b"RESTORE", k, pttl.as_bytes(), &payload, b"REPLACE"]).expect("RESTORE");
        assert_eq!(raw, b"+OK\r\n", "{what}: RESTORE {name}");
        for probe in [&b"DIGEST-VALUE"[..], b"ENCODING"] {
            let ask: Vec<&[u8]> =
                if probe == b"ENCODING" { vec![b"OBJECT", probe, k] } else { vec![b"DEBUG", probe, k] };
            let a = bulk(&src.call(&ask).unwrap().1);
            let b = bulk(&dst.call(&ask).unwrap().1);
            assert_eq!(a, b, "{what}: {} of {name}", String::from_utf8_lossy(probe));
        }
    }
    src.cmd(&["SELECT", "0"]);
    dst.cmd(&["SELECT", "0"]);
}

#[test]
fn dump_restore_both_ways() {
    // (c) every key DUMPed from redis restores into tessera, and the reverse.
    let redis = Server::start(redis_spec());
    let tessera = Server::start(tessera_spec(2));
    let (mut rc, mut tc) = (redis.raw(), tessera.raw());
    load_dataset(&mut rc);
    copy_by_dump(&mut rc, &mut tc, DBS[0], "redis -> tessera");
    ok(tc.cmd(&["FLUSHALL"]));
    load_dataset(&mut tc);
    copy_by_dump(&mut tc, &mut rc, DBS[1], "tessera -> redis");
    // Identical payloads for the deterministic encodings.
    for k in [
        "0:str",
        "0:int",
        "0:long",
        "0:list-small",
        "0:list-big",
        "0:hash-small",
        "0:set-int",
        "0:zset-small",
        "0:stream-small",
    ] {
        let a = bulk(&rc.cmd(&["DUMP", k]));
        let b = bulk(&tc.cmd(&["DUMP", k]));
        assert_eq!(a, b, "DUMP {k}");
    }
    // Errors as Redis words them.
    for (args, want) in [
        (vec!["RESTORE", "0:str", "0", "x"], "-BUSYKEY Target key name already exists.\r\n"),
        (vec!["RESTORE", "new", "0", "garbage-payload"], "-ERR DUMP payload version or checksum are wrong\r\n"),
        (vec!["RESTORE", "new", "-5", "x"], "-ERR Invalid TTL value, must be >= 0\r\n"),
    ] {
        let a: Vec<&[u8]> = args.iter().map(|s| s.as_bytes()).collect();
        assert_eq!(rc.call(&a).unwrap().0, want.as_bytes());
        assert_eq!(tc.call(&a).unwrap().0, want.as_bytes());
    }
}

#[test]
fn save_and_restart_round_trip() {
    // (d) SAVE, restart (same and another shard count), compare with the data before.
    let dir = TempDir::new("rdb-restart");
    let mut first = Server::start_in(&tessera_spec(2), dir.path()).expect("start");
    let mut c = first.raw();
    load_dataset(&mut c);
    let before: Vec<_> = DBS.iter().map(|&db| describe(&mut c, db)).collect();
    let digest = bulk(&c.cmd(&["DEBUG", "DIGEST"]));
    ok(c.cmd(&["SAVE"]));
    assert_eq!(info_field(&mut c, "rdb_changes_since_last_save"), "0");
    first.signal_and_wait(libc::SIGTERM, Duration::from_secs(30));
    for shards in [2, 3] {
        let s = Server::start_in(&tessera_spec(shards), dir.path()).expect("restart");
        let mut c = s.raw();
        for (i, &db) in DBS.iter().enumerate() {
            let after = describe(&mut c, db);
            assert_eq!(after.len(), before[i].len(), "--shards {shards}: keys of db {db}");
            for (x, y) in before[i].iter().zip(&after) {
                assert_eq!(x.content(), y.content(), "--shards {shards}");
                assert!(ttl_close(x.pttl_ms, y.pttl_ms, 30_000), "--shards {shards}: ttl");
            }
        }
        assert_eq!(bulk(&c.cmd(&["DEBUG", "DIGEST"])), digest, "--shards {shards}");
    }
}

#[test]
fn bad_dump_file_stops_startup() {
    // (e) a corrupt or truncated file: non-zero exit, a message naming the file and offset.
    let dir = TempDir::new("rdb-good");
    let s = Server::start_in(&tessera_spec(2), dir.path()).expect("start");
    let mut c = s.raw();
    load_dataset(&mut c);
    ok(c.cmd(&["SAVE"]));
    drop(s);
    let good = std::fs::read(dir.path().join("dump.rdb")).unwrap();
    let mut flipped = good.clone();
    let mid = flipped.len() / 2;
    flipped[mid] ^= 0x5a;
    let mut no_checksum = good.clone();
    let n = no_checksum.len();
    no_checksum[n - 8..].fill(0);
    // With no checksum to catch it, an unknown type byte after SELECTDB 0 and a RESIZEDB is
    // found by the parser itself.
    let at = no_checksum.windows(2).position(|w| w == [0xfe, 0x00]).expect("SELECTDB 0") + 2;
    no_checksum[at..at + 4].copy_from_slice(&[0xfb, 0x01, 0x01, 0x42]);
    for (what, bytes) in
        [("flipped byte", flipped), ("truncated", good[..good.len() * 2 / 3].to_vec()), ("bad type", no_checksum)]
    {
        let bad = TempDir::new("rdb-bad");
        std::fs::write(bad.path().join("dump.rdb"), &bytes).unwrap();
        let port = common::free_port();
        let mut cmd = Command::new(common::tessera_bin());
        cmd.args(tessera_spec(2).argv(port, bad.path()));
        let (status, out, err) = run_tool(&mut cmd, Duration::from_secs(60));
        let status = status.expect("tessera exits by itself");
        let text = format!("{out}{err}");
        assert!(!status.success(), "{what}: tessera started with a bad dump: {text}");
        assert!(text.contains("dump.rdb") && text.contains("offset"), "{what}: message {text}");
    }
}

#[test]
fn bgsave_while_clients_write() {
    // (f) BGSAVE with writers running: it answers at once, LASTSAVE moves, the file is valid.
    let dir = TempDir::new("rdb-bgsave");
    let s = Server::start_in(&tessera_spec(2), dir.path()).expect("start");
    let mut c = s.raw();
    let mut cmds = Vec::new();
    for i in 0..20_000 {
        cmds.push(cmd(&["SET", &format!("key:{i}"), &format!("{i}").repeat(5)]));
    }
    pipeline(&mut c, &cmds);
    let before = c.cmd(&["LASTSAVE"]).int().unwrap();
    std::thread::sleep(Duration::from_millis(1100));
    let stop = Arc::new(AtomicBool::new(false));
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let stop = stop.clone();
            let port = s.port;
            std::thread::spawn(move || {
                let mut c = RawConn::connect(port).unwrap();
                let mut n = 0u64;
                let mut worst = Duration::ZERO;
                while !stop.load(Ordering::Relaxed) {
                    let t = Instant::now();
                    let r = c.cmd(&["INCR", &format!("counter:{w}:{}", n % 100)]);
                    worst = worst.max(t.elapsed());
                    assert!(r.int().is_some(), "{r:?}");
                    n += 1;
                }
                (n, worst)
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(c.cmd(&["BGSAVE"]), Reply::Simple(b"Background saving started".to_vec()));
    let deadline = Instant::now() + Duration::from_secs(60);
    while info_field(&mut c, "rdb_bgsave_in_progress") != "0" {
        assert!(Instant::now() < deadline, "BGSAVE did not finish");
        std::thread::sleep(Duration::from_millis(20));
    }
    std::thread::sleep(Duration::from_millis(200));
    stop.store(true, Ordering::Relaxed);
    for w in writers {
        let (n, worst) = w.join().unwrap();
        assert!(n > 0);
        eprintln!("writer: {n} INCRs, slowest {worst:?}");
    }
    assert_eq!(info_field(&mut c, "rdb_last_bgsave_status"), "ok");
    assert!(c.cmd(&["LASTSAVE"]).int().unwrap() > before, "LASTSAVE did not move");
    assert_check_rdb(&dir.path().join("dump.rdb"));
    // A second BGSAVE while one runs is refused the way Redis refuses it, or both succeed.
    let r = c.cmd(&["BGSAVE", "SCHEDULE"]);
    assert!(
        r == Reply::Simple(b"Background saving started".to_vec())
            || r == Reply::Error(b"ERR Background save already in progress".to_vec()),
        "{r:?}"
    );
    assert_eq!(c.cmd(&["BGSAVE", "NOW"]), Reply::Error(b"ERR syntax error".to_vec()));
}

#[test]
fn save_points_shutdown_and_sigterm_save() {
    let dir = TempDir::new("rdb-points");
    let file = dir.path().join("dump.rdb");
    // A save point of one change per second.
    let spec = tessera_spec(2).args(&["--save", "1 1"]);
    let mut s = Server::start_in(&spec, dir.path()).expect("start");
    let mut c = s.raw();
    c.cmd(&["SET", "a", "1"]);
    let deadline = Instant::now() + Duration::from_secs(20);
    while !file.exists() || info_field(&mut c, "rdb_changes_since_last_save") != "0" {
        assert!(Instant::now() < deadline, "the save point never saved: {}", s.log());
        std::thread::sleep(Duration::from_millis(50));
    }
    assert_check_rdb(&file);
    // SIGTERM with save points set saves the latest data.
    c.cmd(&["SET", "b", "2"]);
    let status = s.signal_and_wait(libc::SIGTERM, Duration::from_secs(30));
    assert!(status.is_some_and(|st| st.success()), "exit after SIGTERM: {status:?}");
    let mut s = Server::start_in(&spec, dir.path()).expect("restart");
    let mut c = s.raw();
    assert_eq!(bulk(&c.cmd(&["GET", "b"])), b"2");
    // SHUTDOWN NOSAVE does not save, even with save points set.
    c.cmd(&["SET", "c", "3"]);
    c.send(&[b"SHUTDOWN", b"NOSAVE"]).unwrap();
    assert!(c.read_until_close(Duration::from_secs(30)).1);
    s.signal_and_wait(0, Duration::from_secs(30));
    let mut s = Server::start_in(&spec, dir.path()).expect("restart");
    let mut c = s.raw();
    assert!(c.cmd(&["GET", "c"]).is_nil(), "SHUTDOWN NOSAVE saved");
    // Plain SHUTDOWN with save points set saves.
    c.cmd(&["SET", "d", "4"]);
    c.send(&[b"SHUTDOWN"]).unwrap();
    assert!(c.read_until_close(Duration::from_secs(30)).1);
    s.signal_and_wait(0, Duration::from_secs(30));
    // SHUTDOWN SAVE saves without save points.
    let mut s = Server::start_in(&tessera_spec(2), dir.path()).expect("restart");
    let mut c = s.raw();
    assert_eq!(bulk(&c.cmd(&["GET", "d"])), b"4");
    c.cmd(&["SET", "e", "5"]);
    c.send(&[b"SHUTDOWN", b"SAVE"]).unwrap();
    assert!(c.read_until_close(Duration::from_secs(30)).1);
    s.signal_and_wait(0, Duration::from_secs(30));
    // SIGTERM follows save points set or cleared at run time.
    let mut s = Server::start_in(&tessera_spec(2), dir.path()).expect("restart");
    let mut c = s.raw();
    assert_eq!(bulk(&c.cmd(&["GET", "e"])), b"5");
    ok(c.cmd(&["CONFIG", "SET", "save", "3600 1"]));
    c.cmd(&["SET", "f", "6"]);
    assert!(s.signal_and_wait(libc::SIGTERM, Duration::from_secs(30)).is_some_and(|st| st.success()));
    let mut s = Server::start_in(&spec, dir.path()).expect("restart");
    let mut c = s.raw();
    assert_eq!(bulk(&c.cmd(&["GET", "f"])), b"6");
    ok(c.cmd(&["CONFIG", "SET", "save", ""]));
    c.cmd(&["SET", "g", "7"]);
    assert!(s.signal_and_wait(libc::SIGTERM, Duration::from_secs(30)).is_some_and(|st| st.success()));
    let s = Server::start_in(&tessera_spec(2), dir.path()).expect("restart");
    assert!(s.raw().cmd(&["GET", "g"]).is_nil(), "saved on SIGTERM without save points");
}

#[test]
fn failed_bgsave_keeps_the_old_file_and_reports_it() {
    let dir = TempDir::new("rdb-fail");
    let s = Server::start_in(&tessera_spec(2).args(&["--save", "3600 1"]), dir.path()).expect("start");
    let mut c = s.raw();
    c.cmd(&["SET", "old", "1"]);
    ok(c.cmd(&["SAVE"]));
    let file = dir.path().join("dump.rdb");
    let before = std::fs::read(&file).unwrap();
    // The next save's temp file name is taken by a directory, so creating it fails.
    std::fs::create_dir(dir.path().join(format!("temp-{}-1.rdb", s.pid()))).unwrap();
    c.cmd(&["SET", "new", "2"]);
    assert_eq!(c.cmd(&["BGSAVE"]), Reply::Simple(b"Background saving started".to_vec()));
    let deadline = Instant::now() + Duration::from_secs(30);
    while info_field(&mut c, "rdb_bgsave_in_progress") != "0" {
        assert!(Instant::now() < deadline, "BGSAVE did not finish");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(info_field(&mut c, "rdb_last_bgsave_status"), "err");
    assert_eq!(std::fs::read(&file).unwrap(), before, "the old dump.rdb changed");
    assert!(s.log().contains("Background saving error"), "{}", s.log());
    assert_eq!(info_field(&mut c, "rdb_changes_since_last_save"), "1");
    // A good save clears the error.
    ok(c.cmd(&["SAVE"]));
    assert_eq!(info_field(&mut c, "rdb_last_bgsave_status"), "ok");
    assert_check_rdb(&file);
}

/// LFU settings that make counters exact: every access adds one (log factor 0) and nothing
/// decays (Redis decays by the wall-clock minute, which a test may straddle).
const LFU: [&str; 6] = ["--maxmemory-policy", "allkeys-lfu", "--lfu-log-factor", "0", "--lfu-decay-time", "0"];
const LRU: [&str; 2] = ["--maxmemory-policy", "allkeys-lru"];
/// Keys spread over both shards.
const HINT_KEYS: usize = 24;

fn hint_key(i: usize) -> String {
    format!("hint:{i}")
}

/// `OBJECT FREQ` or `OBJECT IDLETIME` of every hint key.
fn hints(c: &mut RawConn, what: &str) -> Vec<i64> {
    (0..HINT_KEYS)
        .map(|i| c.cmd(&["OBJECT", what, &hint_key(i)]).int().unwrap_or_else(|| panic!("OBJECT {what} {i}")))
        .collect()
}

/// Reads key `i` `i * step` times: its LFU counter (log factor 0) goes up by as much.
fn access(c: &mut RawConn, step: usize) {
    let reads: Vec<Vec<Vec<u8>>> =
        (0..HINT_KEYS).flat_map(|i| std::iter::repeat_n(cmd(&["GET", &hint_key(i)]), i * step)).collect();
    pipeline(c, &reads);
}

/// Gives key `i` an idle time of `i * step_s` seconds (RESTORE IDLETIME).
fn make_idle(c: &mut RawConn, step_s: usize) {
    for i in 0..HINT_KEYS {
        let k = hint_key(i);
        let payload = bulk(&c.cmd(&["DUMP", &k]));
        let idle = (i * step_s).to_string();
        let r = c.call(&[b"RESTORE", k.as_bytes(), b"0", &payload, b"REPLACE", b"IDLETIME", idle.as_bytes()]);
        assert_eq!(r.expect("RESTORE").0, b"+OK\r\n");
    }
}

/// Starts a server of `spec` on a copy of `from`'s dump.rdb.
fn start_on_copy(spec: &Spec, from: &Path, name: &str) -> (Server, TempDir) {
    let dir = TempDir::new(name);
    std::fs::copy(from.join("dump.rdb"), dir.path().join("dump.rdb")).expect("copy dump");
    let s = Server::start_in(spec, dir.path()).expect("starts on the copied dump");
    (s, dir)
}

fn assert_idle_close(want: &[i64], got: &[i64], what: &str) {
    for (i, (w, g)) in want.iter().zip(got).enumerate() {
        assert!((w - g).abs() <= 3, "{what}: OBJECT IDLETIME of {} is {g}, expected about {w}", hint_key(i));
    }
}

#[test]
fn lfu_counters_survive_save_restart_and_cross_loading() {
    let dir = TempDir::new("rdb-lfu");
    let first = Server::start_in(&tessera_spec(2).args(&LFU).args(&["--appendonly", "yes"]), dir.path()).unwrap();
    let mut c = first.raw();
    let sets: Vec<_> = (0..HINT_KEYS).map(|i| cmd(&["SET", &hint_key(i), "v"])).collect();
    pipeline(&mut c, &sets);
    access(&mut c, 9);
    let before = hints(&mut c, "FREQ");
    // Fails when counters are not tracked at all: key 0 is never read, key 23 207 times.
    assert_eq!((before[0], before[HINT_KEYS - 1]), (5, 212), "{before:?}");
    ok(c.cmd(&["SAVE"]));
    // The AOF's RDB base carries the counters too.
    c.cmd(&["BGREWRITEAOF"]);
    let deadline = Instant::now() + Duration::from_secs(30);
    while info_field(&mut c, "aof_rewrite_in_progress") != "0" {
        assert!(Instant::now() < deadline, "BGREWRITEAOF did not finish");
        std::thread::sleep(Duration::from_millis(20));
    }
    drop(first);
    let from_aof = Server::start_in(&tessera_spec(2).args(&LFU).args(&["--appendonly", "yes"]), dir.path()).unwrap();
    assert_eq!(hints(&mut from_aof.raw(), "FREQ"), before, "reloaded from the AOF");
    drop(from_aof);
    let again = Server::start_in(&tessera_spec(2).args(&LFU), dir.path()).unwrap();
    assert_eq!(hints(&mut again.raw(), "FREQ"), before, "after restart");
    drop(again);

    // Tessera's file into redis-server, which then reads some more and saves.
    let (redis, _rdir) = start_on_copy(&redis_spec().args(&LFU), dir.path(), "rdb-lfu-redis");
    let mut r = redis.raw();
    assert_eq!(hints(&mut r, "FREQ"), before, "tessera's dump loaded into redis");
    access(&mut r, 1);
    let redis_freqs = hints(&mut r, "FREQ");
    assert_ne!(redis_freqs, before);
    ok(r.cmd(&["SAVE"]));
    let (back, _tdir) = start_on_copy(&tessera_spec(2).args(&LFU), redis.dir(), "rdb-lfu-back");
    assert_eq!(hints(&mut back.raw(), "FREQ"), redis_freqs, "redis's dump loaded into tessera");
}

#[test]
fn lru_idle_times_survive_save_restart_and_cross_loading() {
    let dir = TempDir::new("rdb-lru");
    let first = Server::start_in(&tessera_spec(2).args(&LRU), dir.path()).unwrap();
    let mut c = first.raw();
    let sets: Vec<_> = (0..HINT_KEYS).map(|i| cmd(&["SET", &hint_key(i), "v"])).collect();
    pipeline(&mut c, &sets);
    make_idle(&mut c, 100);
    let before = hints(&mut c, "IDLETIME");
    assert!(before[HINT_KEYS - 1] >= 2300, "{before:?}");
    ok(c.cmd(&["SAVE"]));
    drop(first);
    let again = Server::start_in(&tessera_spec(2).args(&LRU), dir.path()).unwrap();
    assert_idle_close(&before, &hints(&mut again.raw(), "IDLETIME"), "after restart");
    drop(again);

    let (redis, _rdir) = start_on_copy(&redis_spec().args(&LRU), dir.path(), "rdb-lru-redis");
    let mut r = redis.raw();
    assert_idle_close(&before, &hints(&mut r, "IDLETIME"), "tessera's dump loaded into redis");
    make_idle(&mut r, 7);
    let redis_idle = hints(&mut r, "IDLETIME");
    ok(r.cmd(&["SAVE"]));
    let (back, _tdir) = start_on_copy(&tessera_spec(2).args(&LRU), redis.dir(), "rdb-lru-back");
    assert_idle_close(&redis_idle, &hints(&mut back.raw(), "IDLETIME"), "redis's dump loaded into tessera");
}

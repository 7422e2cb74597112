//! RDB snapshots and DUMP/RESTORE against real Redis 7.0: a `dump.rdb` written by redis-server
//! loads into `tessera-server --shards 2` with identical content, a Tessera `dump.rdb` passes
//! `redis-check-rdb` and loads into redis-server with identical content, DUMP payloads restore
//! both ways, SAVE + restart keeps everything (also onto another shard count), a bad file stops
//! startup with a message naming the file and offset, BGSAVE runs while clients write, a failed
//! BGSAVE leaves the old file alone and reports `err`, and save points, SHUTDOWN and SIGTERM
//! save (following save points changed at run time).
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

use common::{redis_tool, run_tool, RawConn, Reply, Server, Spec, TempDir};

/// Databases the dataset uses.
const DBS: [usize; 2] = [0, 5];
const DEBUG: [&str; 2] = ["--enable-debug-command", "yes"];

fn tessera_spec(shards: usize) -> Spec {
    Spec::tessera(shards).args(&DEBUG)
}

fn redis_spec() -> Spec {
    Spec::redis().args(&DEBUG)
}

/// Sends `cmds` as one pipeline and checks that none failed.
fn pipeline(c: &mut RawConn, cmds: &[Vec<Vec<u8>>]) {
    let mut out = Vec::new();
    for cmd in cmds {
        let args: Vec<&[u8]> = cmd.iter().map(|a| a.as_slice()).collect();
        out.extend_from_slice(&common::resp::encode(&args));
    }
    c.send_raw(&out).expect("write pipeline");
    for cmd in cmds {
        let (raw, reply) = c.read_reply().expect("reply");
        assert!(!reply.is_error(), "{}: {}", common::resp::show_cmd(cmd), common::resp::escape(&raw));
    }
}

fn cmd(args: &[&str]) -> Vec<Vec<u8>> {
    args.iter().map(|a| a.as_bytes().to_vec()).collect()
}

/// Every type in every encoding, small and large, some with TTLs, in two databases.
fn load_dataset(c: &mut RawConn) {
    for db in DBS {
        let p = |k: &str| format!("{db}:{k}");
        let mut cmds = vec![cmd(&["SELECT", &db.to_string()])];
        cmds.push(cmd(&["SET", &p("str"), "hello"]));
        cmds.push(cmd(&["SET", &p("int"), "-12345"]));
        cmds.push(cmd(&["SET", &p("bigint"), "1099511627776"]));
        cmds.push(cmd(&["SET", &p("empty"), ""]));
        cmds.push(cmd(&["SET", &p("long"), &"abcdefghij".repeat(40)]));
        let binary: Vec<u8> = (0..3000u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 11) as u8).collect();
        cmds.push(vec![b"SET".to_vec(), p("binary").into_bytes(), binary]);
        cmds.push(cmd(&["RPUSH", &p("list-small"), "a", "1", "-7", "b"]));
        let mut big = vec!["RPUSH".to_string(), p("list-big")];
        big.extend((0..3000).map(|i| if i % 3 == 0 { i.to_string() } else { format!("element-{i}") }));
        big.push("y".repeat(10_000));
        cmds.push(big.iter().map(|s| s.as_bytes().to_vec()).collect());
        cmds.push(cmd(&["HSET", &p("hash-small"), "f1", "v1", "f2", "2", "f3", "-3"]));
        let mut hb = vec!["HSET".to_string(), p("hash-big")];
        hb.extend((0..600).flat_map(|i| [format!("field{i}"), format!("value{i}")]));
        cmds.push(hb.iter().map(|s| s.as_bytes().to_vec()).collect());
        cmds.push(cmd(&["HSET", &p("hash-longval"), "f", &"z".repeat(100)]));
        cmds.push(cmd(&["SADD", &p("set-int"), "1", "-2", "300", "70000", "5000000000"]));
        let mut sb = vec!["SADD".to_string(), p("set-int-big")];
        sb.extend((0..1000).map(|i| (i * 7).to_string()));
        cmds.push(sb.iter().map(|s| s.as_bytes().to_vec()).collect());
        let mut ss = vec!["SADD".to_string(), p("set-str")];
        ss.extend((0..50).map(|i| format!("member{i}")));
        cmds.push(ss.iter().map(|s| s.as_bytes().to_vec()).collect());
        cmds.push(cmd(&["ZADD", &p("zset-small"), "1", "a", "2.5", "b", "-3", "c", "inf", "top", "-inf", "bottom"]));
        let mut zb = vec!["ZADD".to_string(), p("zset-big")];
        zb.extend((0..500).flat_map(|i| [format!("{}", i as f64 / 3.0), format!("m{i}")]));
        cmds.push(zb.iter().map(|s| s.as_bytes().to_vec()).collect());
        cmds.push(cmd(&["ZADD", &p("zset-longmember"), "1", &"q".repeat(80)]));
        for (id, f) in [("1-1", ["a", "1", "b", "2"]), ("2-0", ["a", "3", "b", "4"]), ("3-0", ["c", "5", "d", ""])] {
            let mut c = vec!["XADD".to_string(), p("stream-small"), id.to_string()];
            c.extend(f.iter().map(|s| s.to_string()));
            cmds.push(c.iter().map(|s| s.as_bytes().to_vec()).collect());
        }
        for i in 1..=500 {
            let v = if i % 7 == 0 { "w".repeat(40) } else { i.to_string() };
            cmds.push(cmd(&["XADD", &p("stream-big"), &format!("{i}-{}", i % 4), "field", &v, "n", &i.to_string()]));
        }
        let sb = p("stream-big");
        cmds.push(cmd(&["XGROUP", "CREATE", &sb, "g1", "0"]));
        cmds.push(cmd(&["XREADGROUP", "GROUP", "g1", "alice", "COUNT", "10", "STREAMS", &sb, ">"]));
        cmds.push(cmd(&["XREADGROUP", "GROUP", "g1", "bob", "COUNT", "3", "STREAMS", &sb, ">"]));
        cmds.push(cmd(&["XACK", &sb, "g1", "2-2"]));
        cmds.push(cmd(&["XGROUP", "CREATECONSUMER", &sb, "g1", "carol"]));
        cmds.push(cmd(&["XGROUP", "CREATE", &sb, "g2", "$"]));
        cmds.push(cmd(&["XDEL", &sb, "5-1", "300-0"]));
        cmds.push(cmd(&["XADD", &p("stream-empty"), "1-1", "a", "1"]));
        cmds.push(cmd(&["XDEL", &p("stream-empty"), "1-1"]));
        for i in 0..6 {
            let k = p(&format!("ttl{i}"));
            cmds.push(cmd(&["SET", &k, &format!("v{i}")]));
            cmds.push(cmd(&["PEXPIRE", &k, &(100_000_000 + i * 1000).to_string()]));
        }
        cmds.push(cmd(&["RPUSH", &p("list-ttl"), "x"]));
        cmds.push(cmd(&["EXPIRE", &p("list-ttl"), "500000"]));
        for i in 0..200 {
            cmds.push(cmd(&["SET", &p(&format!("k{i}")), &format!("value-{i}")]));
        }
        pipeline(c, &cmds);
    }
    pipeline(c, &[cmd(&["SELECT", "0"])]);
}

fn bulk(r: &Reply) -> Vec<u8> {
    match r {
        Reply::Array(v) if v.len() == 1 => bulk(&v[0]),
        _ => r.bytes().map(|b| b.to_vec()).unwrap_or_else(|| format!("{r:?}").into_bytes()),
    }
}

/// What is compared of one key.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct KeyFacts {
    key: Vec<u8>,
    digest: Vec<u8>,
    kind: Vec<u8>,
    encoding: Vec<u8>,
    pttl_ms: i64,
}

impl KeyFacts {
    /// Everything but the TTL, which moves with the clock.
    fn content(&self) -> (&[u8], &[u8], &[u8], &[u8]) {
        (&self.key, &self.digest, &self.kind, &self.encoding)
    }
}

/// The facts of every key of `db`, sorted by key.
fn describe(c: &mut RawConn, db: usize) -> Vec<KeyFacts> {
    c.cmd(&["SELECT", &db.to_string()]);
    let keys = match c.cmd(&["KEYS", "*"]) {
        Reply::Array(v) => v.iter().map(bulk).collect::<Vec<_>>(),
        r => panic!("KEYS: {r:?}"),
    };
    let mut out = Vec::new();
    for k in keys {
        let ks = String::from_utf8_lossy(&k).into_owned();
        let mut digest = bulk(&c.cmd(&["DEBUG", "DIGEST-VALUE", &ks]));
        let ty = bulk(&c.cmd(&["TYPE", &ks]));
        if ty == b"stream" {
            // The digest covers entries only: compare groups, PELs and metadata too.
            let (raw, _) = c.call(&[b"XINFO", b"STREAM", &k, b"FULL"]).expect("XINFO");
            digest.extend_from_slice(&raw);
        }
        let enc = bulk(&c.cmd(&["OBJECT", "ENCODING", &ks]));
        let pttl = c.cmd(&["PTTL", &ks]).int().expect("PTTL");
        out.push(KeyFacts { key: k, digest, kind: ty, encoding: enc, pttl_ms: pttl });
    }
    out.sort();
    c.cmd(&["SELECT", "0"]);
    out
}

/// Asserts that two servers hold the same data (see the file header).
fn assert_same_data(a: &mut RawConn, b: &mut RawConn, what: &str) {
    for db in DBS {
        let da = describe(a, db);
        let dbb = describe(b, db);
        assert!(da.len() > 100, "{what}: db {db} holds only {} keys", da.len());
        assert_eq!(da.len(), dbb.len(), "{what}: key count of db {db}");
        for (x, y) in da.iter().zip(&dbb) {
            let key = String::from_utf8_lossy(&x.key);
            assert_eq!(x.content(), y.content(), "{what}: key, digest, type, encoding of {key} in db {db}");
            assert!(ttl_close(x.pttl_ms, y.pttl_ms, 10_000), "{what}: PTTL of {key}: {} vs {}", x.pttl_ms, y.pttl_ms);
        }
    }
    assert_eq!(bulk(&a.cmd(&["DEBUG", "DIGEST"])), bulk(&b.cmd(&["DEBUG", "DIGEST"])), "{what}: DEBUG DIGEST");
}

/// Both without a TTL, or both with one, `slack_ms` apart at most.
fn ttl_close(a: i64, b: i64, slack_ms: i64) -> bool {
    (a < 0 && a == b) || (a >= 0 && b >= 0 && (a - b).abs() < slack_ms)
}

fn ok(r: Reply) {
    assert_eq!(r, Reply::Simple(b"OK".to_vec()), "expected +OK");
}

/// `redis-check-rdb` accepts `path`.
fn assert_check_rdb(path: &Path) {
    let mut c = Command::new(redis_tool("redis-check-rdb"));
    c.arg(path);
    let (status, out, err) = run_tool(&mut c, Duration::from_secs(60));
    assert!(
        status.is_some_and(|s| s.success()) && out.contains("RDB looks OK"),
        "redis-check-rdb {}: {out}{err}",
        path.display()
    );
}

fn info_field(c: &mut RawConn, name: &str) -> String {
    let text = bulk(&c.cmd(&["INFO", "persistence"]));
    let text = String::from_utf8_lossy(&text).into_owned();
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}:")).map(|v| v.trim().to_string()))
        .unwrap_or_else(|| panic!("INFO has no {name}: {text}"))
}

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

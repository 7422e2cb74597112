//! Persistence side effects of other commands, against real Redis 7.0:
//! - FLUSHALL with save points saves the empty dataset at once (a `kill -9` right after does
//!   not bring the keys back) and cancels a running BGSAVE; INFO persistence and LASTSAVE
//!   afterwards move as redis-server's do; without save points a cancelled BGSAVE writes no
//!   file and is not a failed save;
//! - DEBUG RELOAD saves, empties and loads back every type with its TTL (also with AOF on),
//!   and its options and errors answer as Redis's;
//! - SAVE, FLUSHALL's save and DEBUG RELOAD while a BGREWRITEAOF writes its base: both
//!   complete (as beside Redis's rewrite child), and a restart from the AOF and from the RDB
//!   each brings the whole dataset back;
//! - DEBUG RELOAD while another client writes to every shard loses no acknowledged write;
//! - keys removed by expiry, lazily or by the active cycle, are logged as DEL (UNLINK under
//!   `lazyfree-lazy-expire`) in the AOF where Redis logs them, a write that expired its key
//!   wrapped with the DEL in MULTI/EXEC; the keys stay gone after `kill -9` and a restart.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use common::dataset::*;
use common::{RawConn, Reply, Server, TempDir};

fn int(r: Reply) -> i64 {
    r.int().unwrap_or_else(|| panic!("expected an integer, got {r:?}"))
}

fn wait_for(what: &str, timeout: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn write_keys(c: &mut RawConn, prefix: &str, n: usize) {
    let cmds: Vec<_> = (0..n).map(|i| cmd(&["SET", &format!("{prefix}{i}"), &format!("value-{i}")])).collect();
    pipeline(c, &cmds);
}

/// BGSAVE and FLUSHALL in one write, so the save is still running when FLUSHALL arrives on
/// either server; returns both replies.
fn bgsave_then_flushall(c: &mut RawConn) -> (Reply, Reply) {
    let mut req = Vec::new();
    req.extend_from_slice(&common::resp::encode(&[b"BGSAVE"]));
    req.extend_from_slice(&common::resp::encode(&[b"FLUSHALL"]));
    c.send_raw(&req).expect("write");
    let a = c.read_reply().expect("BGSAVE reply").1;
    let b = c.read_reply().expect("FLUSHALL reply").1;
    (a, b)
}

/// What FLUSHALL did to the persistence state, in terms both servers share.
#[derive(Debug, PartialEq, Eq)]
struct FlushOutcome {
    replies: (Reply, Reply),
    changes_since_save: String,
    last_bgsave_status: String,
    saves_added: i64,
    lastsave_moved: bool,
    write_after: Reply,
    dbsize: i64,
}

/// Writes keys, BGSAVEs (to its end), writes more, then BGSAVE + FLUSHALL pipelined.
/// `redis`: slow redis-server's child down (`rdb-key-save-delay`) so FLUSHALL finds it running.
fn flushall_outcome(c: &mut RawConn, redis: bool) -> FlushOutcome {
    write_keys(c, "a", 3000);
    assert_eq!(c.cmd(&["BGSAVE"]), Reply::Simple(b"Background saving started".to_vec()));
    wait_for("the first BGSAVE", Duration::from_secs(10), || info_field(c, "rdb_bgsave_in_progress") == "0");
    assert_eq!(info_field(c, "rdb_last_bgsave_status"), "ok");
    write_keys(c, "b", 3000);
    // Redis's child writes slowly enough to still run when FLUSHALL kills it; Tessera's job
    // is cancelled by the same pipelined FLUSHALL whatever its speed.
    if redis {
        ok(c.cmd(&["CONFIG", "SET", "rdb-key-save-delay", "100"]));
    }
    let saves = info_field(c, "rdb_saves").parse::<i64>().expect("rdb_saves");
    let lastsave = int(c.cmd(&["LASTSAVE"]));
    std::thread::sleep(Duration::from_millis(1100));
    let replies = bgsave_then_flushall(c);
    wait_for("the cancelled BGSAVE to end", Duration::from_secs(10), || info_field(c, "rdb_bgsave_in_progress") == "0");
    FlushOutcome {
        replies,
        changes_since_save: info_field(c, "rdb_changes_since_last_save"),
        last_bgsave_status: info_field(c, "rdb_last_bgsave_status"),
        saves_added: info_field(c, "rdb_saves").parse::<i64>().expect("rdb_saves") - saves,
        lastsave_moved: int(c.cmd(&["LASTSAVE"])) > lastsave,
        // A cancelled save must not turn writes away (MISCONF) while save points are set.
        write_after: c.cmd(&["SET", "after", "1"]),
        dbsize: int(c.cmd(&["DBSIZE"])),
    }
}

#[test]
fn flushall_with_save_points_saves_and_cancels_bgsave() {
    let save = ["--save", "3600 1"];
    let redis = Server::start(redis_spec().args(&save));
    let expected = flushall_outcome(&mut redis.raw(), true);
    assert_eq!(expected.changes_since_save, "0", "redis: {expected:?}");
    assert!(expected.lastsave_moved, "redis saved: {expected:?}");

    let dir = TempDir::new("flushall-save");
    let spec = tessera_spec(2).args(&save);
    let mut t = Server::start_in(&spec, dir.path()).expect("start");
    let got = flushall_outcome(&mut t.raw(), false);
    assert_eq!(got, expected, "FLUSHALL's persistence effects differ from redis-server's");
    assert!(t.log().contains("DB saved on disk"), "{}", t.log());
    assert_check_rdb(&dir.path().join("dump.rdb"));
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .expect("dir")
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("temp"))
        .collect();
    assert!(leftovers.is_empty(), "temp files left: {leftovers:?}");

    // The file holds the dataset after FLUSHALL: a crash now brings nothing back.
    t.signal_and_wait(libc::SIGKILL, Duration::from_secs(10));
    let t = Server::start_in(&spec, dir.path()).expect("restart");
    assert_eq!(int(t.raw().cmd(&["DBSIZE"])), 0, "flushed keys came back after kill -9");
}

#[test]
fn flushall_without_save_points_cancels_bgsave_and_writes_nothing() {
    let dir = TempDir::new("flushall-nosave");
    let spec = tessera_spec(2);
    let mut t = Server::start_in(&spec, dir.path()).expect("start");
    let mut c = t.raw();
    write_keys(&mut c, "k", 20_000);
    let (a, b) = bgsave_then_flushall(&mut c);
    assert_eq!(a, Reply::Simple(b"Background saving started".to_vec()));
    ok(b);
    wait_for("the cancelled BGSAVE to end", Duration::from_secs(10), || {
        info_field(&mut c, "rdb_bgsave_in_progress") == "0"
    });
    assert_eq!(info_field(&mut c, "rdb_last_bgsave_status"), "ok");
    // The SETs, then FLUSHALL's removed keys, as Redis counts them.
    assert_eq!(info_field(&mut c, "rdb_changes_since_last_save"), "40000");
    assert!(!dir.path().join("dump.rdb").exists(), "the cancelled BGSAVE wrote its file");
    // A BGSAVE after it runs normally.
    assert_eq!(c.cmd(&["BGSAVE"]), Reply::Simple(b"Background saving started".to_vec()));
    wait_for("the next BGSAVE", Duration::from_secs(10), || info_field(&mut c, "rdb_bgsave_in_progress") == "0");
    assert_eq!(info_field(&mut c, "rdb_last_bgsave_status"), "ok");
    t.signal_and_wait(libc::SIGKILL, Duration::from_secs(10));
    let t = Server::start_in(&spec, dir.path()).expect("restart");
    assert_eq!(int(t.raw().cmd(&["DBSIZE"])), 0);
}

fn reload_replies(c: &mut RawConn) -> Vec<Reply> {
    let mut v = Vec::new();
    for args in [
        &["DEBUG", "RELOAD", "foo"][..],
        &["DEBUG", "RELOAD", "MERGE", "x"],
        &["SET", "kept", "1"],
        &["DEBUG", "RELOAD"],
        &["SET", "new", "1"],
        &["DEBUG", "RELOAD", "NOSAVE"],
        &["EXISTS", "new", "kept"],
        &["SET", "new", "2"],
        &["SET", "kept", "changed"],
        &["DEBUG", "RELOAD", "NOSAVE", "NOFLUSH", "MERGE"],
        &["MGET", "new", "kept"],
        &["INFO", "persistence"],
    ] {
        let r = c.cmd(args);
        if args[0] == "INFO" {
            let text = String::from_utf8_lossy(&bulk(&r)).into_owned();
            for f in ["rdb_changes_since_last_save", "rdb_saves", "rdb_last_bgsave_status"] {
                let line = text.lines().find(|l| l.starts_with(f)).unwrap_or("").to_string();
                v.push(Reply::Simple(line.into_bytes()));
            }
        } else {
            v.push(r);
        }
    }
    // A missing file: the dataset is emptied first, then the load fails, as in Redis.
    let rdb = c.cmd(&["CONFIG", "GET", "dir"]);
    let Reply::Array(kv) = rdb else { panic!("CONFIG GET dir: {rdb:?}") };
    let dir = String::from_utf8_lossy(&bulk(&kv[1])).into_owned();
    std::fs::remove_file(Path::new(&dir).join("dump.rdb")).expect("remove dump.rdb");
    v.push(c.cmd(&["DEBUG", "RELOAD", "NOSAVE"]));
    v.push(c.cmd(&["DBSIZE"]));
    v
}

#[test]
fn debug_reload_replies_as_redis() {
    let redis = Server::start(redis_spec());
    let expected = reload_replies(&mut redis.raw());
    let t = Server::start(tessera_spec(2));
    assert_eq!(reload_replies(&mut t.raw()), expected);
}

fn reload_keeps_everything(extra: &[&str]) {
    let dir = TempDir::new("reload");
    let t = Server::start_in(&tessera_spec(2).args(extra), dir.path()).expect("start");
    let mut c = t.raw();
    load_dataset(&mut c);
    let before: Vec<_> = DBS.iter().map(|&db| describe(&mut c, db)).collect();
    let digest = c.cmd(&["DEBUG", "DIGEST"]);
    assert!(!before[0].is_empty());
    ok(c.cmd(&["DEBUG", "RELOAD"]));
    assert!(dir.path().join("dump.rdb").exists(), "DEBUG RELOAD wrote no dump.rdb");
    assert_check_rdb(&dir.path().join("dump.rdb"));
    assert_eq!(c.cmd(&["DEBUG", "DIGEST"]), digest);
    for (i, &db) in DBS.iter().enumerate() {
        let after = describe(&mut c, db);
        assert_eq!(after.len(), before[i].len(), "db {db}: key count");
        for (a, b) in after.iter().zip(&before[i]) {
            assert_eq!(a.content(), b.content(), "db {db}");
            assert!(
                ttl_close(a.pttl_ms, b.pttl_ms, 5_000),
                "db {db} {:?}: TTL {} then {}",
                a.key,
                b.pttl_ms,
                a.pttl_ms
            );
        }
    }
    assert!(t.log().contains("DB reloaded by DEBUG RELOAD"));
    assert_eq!(info_field(&mut c, "rdb_changes_since_last_save"), "0");
}

#[test]
fn debug_reload_keeps_every_type_and_ttl() {
    reload_keeps_everything(&[]);
}

#[test]
fn debug_reload_with_aof_reloads_the_rdb() {
    reload_keeps_everything(&["--appendonly", "yes"]);
}

/// The commands of every `*.incr.aof` file in `dir/appendonlydir`, as units: a MULTI ... EXEC
/// block is one unit. Names are uppercased, SELECTs dropped, absolute times masked.
fn aof_units(dir: &Path) -> Vec<Vec<String>> {
    let mut units = Vec::new();
    let mut files: Vec<_> = std::fs::read_dir(dir.join("appendonlydir"))
        .expect("appendonlydir")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.to_string_lossy().ends_with(".incr.aof"))
        .collect();
    files.sort();
    for f in files {
        let bytes = std::fs::read(&f).expect("read incr");
        let mut block: Option<Vec<String>> = None;
        for argv in parse_commands(&bytes) {
            let mut words: Vec<String> = argv.iter().map(|a| String::from_utf8_lossy(a).into_owned()).collect();
            words[0] = words[0].to_uppercase();
            for i in 2..words.len() {
                if words[i - 1].eq_ignore_ascii_case("PXAT") || (words[0] == "PEXPIREAT" && i == 2) {
                    words[i] = "<t>".into();
                }
            }
            let line = words.join(" ");
            match words[0].as_str() {
                "SELECT" => {}
                "MULTI" => block = Some(vec![line]),
                "EXEC" => {
                    let mut b = block.take().unwrap_or_default();
                    b.push(line);
                    units.push(b);
                }
                _ => match block.as_mut() {
                    Some(b) => b.push(line),
                    None => units.push(vec![line]),
                },
            }
        }
    }
    units
}

/// The commands (arrays of bulk strings) one after another in `bytes`.
fn parse_commands(mut bytes: &[u8]) -> Vec<Vec<Vec<u8>>> {
    let mut v = Vec::new();
    while !bytes.is_empty() {
        match common::resp::parse(bytes) {
            Ok(common::resp::Parsed::Done(Reply::Array(args), n)) => {
                v.push(args.iter().map(bulk).collect());
                bytes = &bytes[n..];
            }
            _ => panic!("not a logged command at {:?}", common::resp::escape(&bytes[..bytes.len().min(60)])),
        }
    }
    v
}

/// For each key, the units that name it, in log order.
fn by_key(units: &[Vec<String>], keys: &[&str]) -> BTreeMap<String, Vec<String>> {
    keys.iter()
        .map(|k| {
            let named: Vec<String> = units
                .iter()
                .filter(|u| u.iter().any(|l| l.split(' ').nth(1) == Some(k)))
                .map(|u| u.join(" | "))
                .collect();
            (k.to_string(), named)
        })
        .collect()
}

const EXPIRY_KEYS: [&str; 11] = [
    "{t}lazy1",
    "{t}lazy2",
    "{t}over",
    "{t}multi",
    "{t}x",
    "{t}del",
    "{u}act1",
    "{u}act2",
    "{u}act3",
    "live",
    "{t}unlink",
];

/// Keys expire lazily (GET, EXISTS, a SET over one, a read in MULTI, DEL) and actively, then
/// one under `lazyfree-lazy-expire yes`.
fn expiry_script(c: &mut RawConn) {
    ok(c.cmd(&["DEBUG", "SET-ACTIVE-EXPIRE", "0"]));
    for k in ["{t}lazy1", "{t}lazy2", "{t}over", "{t}multi", "{t}del", "{u}act1"] {
        ok(c.cmd(&["SET", k, "v", "PX", "50"]));
    }
    ok(c.cmd(&["SET", "{u}act2", "v"]));
    assert_eq!(int(c.cmd(&["PEXPIRE", "{u}act2", "50"])), 1);
    assert_eq!(int(c.cmd(&["HSET", "{u}act3", "f", "v"])), 1);
    assert_eq!(int(c.cmd(&["PEXPIRE", "{u}act3", "50"])), 1);
    ok(c.cmd(&["SET", "live", "v"]));
    std::thread::sleep(Duration::from_millis(150));
    assert_eq!(c.cmd(&["GET", "{t}lazy1"]), Reply::NilBulk);
    assert_eq!(int(c.cmd(&["EXISTS", "{t}lazy2"])), 0);
    ok(c.cmd(&["SET", "{t}over", "new"]));
    ok(c.cmd(&["MULTI"]));
    c.cmd(&["GET", "{t}multi"]);
    c.cmd(&["SET", "{t}x", "1"]);
    assert!(matches!(c.cmd(&["EXEC"]), Reply::Array(_)));
    assert_eq!(int(c.cmd(&["DEL", "{t}del"])), 0);
    ok(c.cmd(&["DEBUG", "SET-ACTIVE-EXPIRE", "1"]));
    wait_for("active expiry", Duration::from_secs(10), || int(c.cmd(&["DBSIZE"])) == 3);
    ok(c.cmd(&["DEBUG", "SET-ACTIVE-EXPIRE", "0"]));
    ok(c.cmd(&["CONFIG", "SET", "lazyfree-lazy-expire", "yes"]));
    ok(c.cmd(&["SET", "{t}unlink", "v", "PX", "50"]));
    std::thread::sleep(Duration::from_millis(150));
    assert_eq!(c.cmd(&["GET", "{t}unlink"]), Reply::NilBulk);
    ok(c.cmd(&["DEBUG", "SET-ACTIVE-EXPIRE", "1"]));
}

#[test]
fn expired_keys_are_logged_as_del_in_the_aof() {
    let aof = ["--appendonly", "yes", "--appendfsync", "always"];
    let redis = Server::start(redis_spec().args(&aof));
    expiry_script(&mut redis.raw());
    let expected = by_key(&aof_units(redis.dir()), &EXPIRY_KEYS);
    // Redis's own log, as this test expects it (the comparison below then checks Tessera's).
    assert_eq!(expected["{t}lazy1"], ["SET {t}lazy1 v PXAT <t>", "DEL {t}lazy1"]);
    assert_eq!(expected["{t}over"][1], "MULTI | DEL {t}over | SET {t}over new | EXEC");
    assert_eq!(expected["{u}act2"], ["SET {u}act2 v", "PEXPIREAT {u}act2 <t>", "DEL {u}act2"]);
    assert_eq!(expected["{t}unlink"][1], "UNLINK {t}unlink");

    let dir = TempDir::new("expired-aof");
    let spec = tessera_spec(2).args(&aof);
    let mut t = Server::start_in(&spec, dir.path()).expect("start");
    expiry_script(&mut t.raw());
    let got = by_key(&aof_units(dir.path()), &EXPIRY_KEYS);
    assert_eq!(got, expected, "the AOF differs from redis-server's (per key, MULTI blocks as one line)");

    t.signal_and_wait(libc::SIGKILL, Duration::from_secs(10));
    let t = Server::start_in(&spec, dir.path()).expect("restart");
    let mut c = t.raw();
    assert_eq!(int(c.cmd(&["DBSIZE"])), 3, "only the live keys come back");
    let Reply::Array(v) = c.cmd(&["MGET", "{t}over", "{t}x", "live"]) else { panic!("MGET") };
    assert_eq!(v.iter().map(bulk).collect::<Vec<_>>(), [b"new".to_vec(), b"1".to_vec(), b"v".to_vec()]);
}

/// Keys of about `value_bytes` each, enough for a rewrite's base to take a while to write.
fn write_big_keys(c: &mut RawConn, n: usize, value_bytes: usize) {
    let cmds: Vec<_> = (0..n)
        .map(|i| {
            let v = format!("{i:>width$}", width = value_bytes);
            cmd(&["SET", &format!("big:{i}"), &v])
        })
        .collect();
    pipeline(c, &cmds);
}

/// `first` and `second` in one write, so `second` arrives while the rewrite `first` started is
/// still writing its base; returns both replies.
fn pipelined(c: &mut RawConn, first: &[&str], second: &[&str]) -> (Reply, Reply) {
    let enc = |a: &[&str]| common::resp::encode(&a.iter().map(|x| x.as_bytes()).collect::<Vec<_>>());
    let mut req = enc(first);
    req.extend_from_slice(&enc(second));
    c.send_raw(&req).expect("write");
    let a = c.read_reply().expect("first reply").1;
    let b = c.read_reply().expect("second reply").1;
    (a, b)
}

/// Waits for every shard's rewrite to end and checks that all ended well.
fn wait_rewrites_ok(c: &mut RawConn, rewrites: i64) {
    wait_for("the AOF rewrites", Duration::from_secs(15), || {
        info_field(c, "aof_rewrite_in_progress") == "0"
            && info_field(c, "aof_rewrites").parse::<i64>().expect("aof_rewrites") >= rewrites
    });
    assert_eq!(info_field(c, "aof_last_bgrewrite_status"), "ok");
}

/// How many times a foreground save found a rewrite's base being written and completed it.
fn completed_bases(t: &Server) -> usize {
    t.log().matches("Completing the AOF rewrite's base before saving").count()
}

const BIG_KEYS: usize = 40_000;
const BIG_VALUE_BYTES: usize = 1_000;

/// The dataset's digest after a restart of `spec` in `dir`. The server is then killed, so a
/// shutdown save cannot change the files a later restart reads.
fn digest_after_restart(spec: &common::Spec, dir: &Path) -> Reply {
    let mut t = Server::start_in(spec, dir).expect("restart");
    let digest = t.raw().cmd(&["DEBUG", "DIGEST"]);
    t.signal_and_wait(libc::SIGKILL, Duration::from_secs(10));
    digest
}

#[test]
fn save_during_aof_rewrite_completes_both() {
    let dir = TempDir::new("save-rewrite");
    let aof = tessera_spec(2).args(&["--appendonly", "yes"]);
    let mut t = Server::start_in(&aof, dir.path()).expect("start");
    let mut c = t.raw();
    write_big_keys(&mut c, BIG_KEYS, BIG_VALUE_BYTES);
    let (a, b) = pipelined(&mut c, &["BGREWRITEAOF"], &["SAVE"]);
    assert_eq!(a, Reply::Simple(b"Background append only file rewriting started".to_vec()));
    ok(b);
    // Written after the rewrite started: in the new incremental files only.
    write_keys(&mut c, "after", 100);
    wait_rewrites_ok(&mut c, 2);
    assert!(completed_bases(&t) > 0, "SAVE found no rewrite running: {}", t.log());
    assert!(t.log().contains("Background AOF rewrite finished successfully"), "{}", t.log());
    assert_check_rdb(&dir.path().join("dump.rdb"));
    let digest = c.cmd(&["DEBUG", "DIGEST"]);
    assert_eq!(int(c.cmd(&["DBSIZE"])), (BIG_KEYS + 100) as i64);
    t.signal_and_wait(libc::SIGKILL, Duration::from_secs(10));

    // The rewrite dropped the files holding the first keys: the new bases must hold them.
    assert_eq!(digest_after_restart(&aof, dir.path()), digest, "restart from the AOF");
    // SAVE ran before the last keys were written: the dump holds the first ones.
    let rdb = tessera_spec(2).args(&["--appendonly", "no"]);
    let t = Server::start_in(&rdb, dir.path()).expect("restart from the RDB");
    let mut c = t.raw();
    assert_eq!(int(c.cmd(&["DBSIZE"])), BIG_KEYS as i64, "restart from the RDB");
    assert_eq!(c.cmd(&["GET", "big:39999"]), Reply::Bulk(format!("{:>1000}", 39_999).into_bytes()));
}

#[test]
fn debug_reload_and_flushall_during_aof_rewrite_complete_both() {
    let dir = TempDir::new("reload-rewrite");
    let aof = tessera_spec(2).args(&["--appendonly", "yes", "--save", "3600 1"]);
    let mut t = Server::start_in(&aof, dir.path()).expect("start");
    let mut c = t.raw();
    write_big_keys(&mut c, BIG_KEYS, BIG_VALUE_BYTES);
    let digest = c.cmd(&["DEBUG", "DIGEST"]);
    let (a, b) = pipelined(&mut c, &["BGREWRITEAOF"], &["DEBUG", "RELOAD"]);
    assert_eq!(a, Reply::Simple(b"Background append only file rewriting started".to_vec()));
    ok(b);
    assert_eq!(c.cmd(&["DEBUG", "DIGEST"]), digest, "DEBUG RELOAD");
    wait_rewrites_ok(&mut c, 2);
    let completed = completed_bases(&t);
    assert!(completed > 0, "DEBUG RELOAD found no rewrite running: {}", t.log());

    // FLUSHALL's save waits for the rewrite's base, then saves the empty dataset.
    let (a, b) = pipelined(&mut c, &["BGREWRITEAOF"], &["FLUSHALL"]);
    assert_eq!(a, Reply::Simple(b"Background append only file rewriting started".to_vec()));
    ok(b);
    write_keys(&mut c, "after", 10);
    wait_rewrites_ok(&mut c, 4);
    assert!(completed_bases(&t) > completed, "FLUSHALL found no rewrite running: {}", t.log());
    assert_check_rdb(&dir.path().join("dump.rdb"));
    let digest = c.cmd(&["DEBUG", "DIGEST"]);
    t.signal_and_wait(libc::SIGKILL, Duration::from_secs(10));
    assert_eq!(digest_after_restart(&aof, dir.path()), digest, "restart from the AOF");
    let rdb = tessera_spec(2).args(&["--appendonly", "no"]);
    let t = Server::start_in(&rdb, dir.path()).expect("restart from the RDB");
    assert_eq!(int(t.raw().cmd(&["DBSIZE"])), 0, "the dump FLUSHALL saved is empty");
}

#[test]
fn debug_reload_loses_no_acknowledged_write() {
    let t = Server::start(tessera_spec(2));
    let mut c = t.raw();
    write_big_keys(&mut c, 20_000, 100);
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let mut w = t.raw();
        let stop = stop.clone();
        // Returns how many writes were acknowledged: keys w:0 .. w:n-1, each holding its number.
        std::thread::spawn(move || {
            let mut n = 0u64;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let (k, v) = (format!("w:{n}"), n.to_string());
                let (_, r) = w.call(&[b"SET", k.as_bytes(), v.as_bytes()]).expect("SET");
                assert_eq!(r, Reply::Simple(b"OK".to_vec()), "SET {k}");
                n += 1;
            }
            n
        })
    };
    std::thread::sleep(Duration::from_millis(100));
    for _ in 0..10 {
        ok(c.cmd(&["DEBUG", "RELOAD"]));
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let n = writer.join().expect("writer");
    assert!(n > 100, "too few writes to test anything: {n}");
    let mut lost = Vec::new();
    for start in (0..n).step_by(1000) {
        let keys: Vec<String> = (start..n.min(start + 1000)).map(|i| format!("w:{i}")).collect();
        let mut args = vec!["MGET"];
        args.extend(keys.iter().map(String::as_str));
        let Reply::Array(vals) = c.cmd(&args) else { panic!("MGET") };
        for (i, v) in (start..).zip(vals) {
            if v != Reply::Bulk(i.to_string().into_bytes()) {
                lost.push(i);
            }
        }
    }
    let shards: std::collections::BTreeSet<usize> =
        (0..n).map(|i| common::shard_of(format!("w:{i}").as_bytes(), 2)).collect();
    assert_eq!(shards.len(), 2, "the writes reached one shard only");
    assert!(lost.is_empty(), "{} of {n} acknowledged writes lost, first {:?}", lost.len(), &lost[..lost.len().min(10)]);
}

//! BGSAVE is a point-in-time snapshot while writes continue: a dataset of every kind of value
//! (some with TTLs, in two databases) is saved with BGSAVE, and right after the reply every key
//! is rewritten, some deleted, new ones added, TTLs changed, and the second database swapped
//! away and flushed. The dump must hold exactly the dataset as of the BGSAVE: Tessera
//! restarted on it and redis-server started on it both answer the same `DEBUG DIGEST` and
//! key counts as a redis-server that only ever saw that dataset, and `redis-check-rdb`
//! accepts the file. Large hashes, sets, sorted sets, lists and streams (written out a slice at a time) are among them,
//! changed, deleted and flushed right after the reply too.

mod common;

use std::time::{Duration, Instant};

use common::dataset::{cmd, pipeline};
use common::{redis_tool, run_tool, RawConn, Reply, Server, Spec, TempDir};

const DEBUG: [&str; 2] = ["--enable-debug-command", "yes"];
/// Keys in db 0, streamed straight into the file by the writer.
const KEYS_DB0: usize = 200_000;
/// Keys in db 3, which goes through the writer's scratch file.
const KEYS_DB3: usize = 5_000;
/// The version-0 dataset of `db`: strings, hashes, lists, sets and sorted sets, every seventh
/// key with an absolute deadline an hour or more away (so the digest, which covers deadlines,
/// is the same on every server).
fn version0(db: usize, n: usize, deadline_ms: u64) -> Vec<Vec<Vec<u8>>> {
    let mut cmds = vec![cmd(&["SELECT", &db.to_string()])];
    for i in 0..n {
        let k = format!("{db}:k:{i}");
        let v = format!("v0-{i}");
        cmds.push(match i % 5 {
            0 => cmd(&["SET", &k, &v]),
            1 => cmd(&["HSET", &k, "a", &v, "b", "0"]),
            2 => cmd(&["RPUSH", &k, &v, "x", "y"]),
            3 => cmd(&["SADD", &k, &v, "m"]),
            _ => cmd(&["ZADD", &k, "1", &v, "2", "z"]),
        });
        if i.is_multiple_of(7) {
            cmds.push(cmd(&["PEXPIREAT", &k, &(deadline_ms + i as u64).to_string()]));
        }
    }
    cmds
}

/// Elements per large hash or set: above the size that snapshots write out a slice at a time.
const BIG_ELEMENTS: usize = 20_000;

/// Large hashes, sets, sorted sets and lists in `db` (`{db}:bigh:{j}`, `{db}:bigs:{j}`,
/// `{db}:bigz:{j}`, `{db}:bigl:{j}`), the odd ones with a TTL.
fn big_keys0(db: usize, count: usize, deadline_ms: u64) -> Vec<Vec<Vec<u8>>> {
    let mut cmds = vec![cmd(&["SELECT", &db.to_string()])];
    for j in 0..count {
        for base in (0..BIG_ELEMENTS).step_by(500) {
            let mut h = vec!["HSET".to_string(), format!("{db}:bigh:{j}")];
            let mut s = vec!["SADD".to_string(), format!("{db}:bigs:{j}")];
            let mut z = vec!["ZADD".to_string(), format!("{db}:bigz:{j}")];
            let mut l = vec!["RPUSH".to_string(), format!("{db}:bigl:{j}")];
            for i in base..base + 500 {
                h.push(format!("field:{i}"));
                h.push(format!("value:{j}:{i}"));
                s.push(format!("member:{j}:{i}"));
                z.push(format!("{}", (i * 37) % 1000));
                z.push(format!("member:{j}:{i}"));
                l.push(format!("element:{j}:{i}"));
            }
            for c in [h, s, z, l] {
                cmds.push(cmd(&c.iter().map(String::as_str).collect::<Vec<_>>()));
            }
        }
        if j < 2 {
            // A stream over the deferral size too (its nodes hold 100 entries each).
            for i in 0..6_000 {
                cmds.push(cmd(&["XADD", &format!("{db}:bigx:{j}"), &format!("1-{}", i + 1), "f", &format!("v{i}")]));
            }
        }
        if j % 2 == 1 {
            for k in
                [format!("{db}:bigh:{j}"), format!("{db}:bigs:{j}"), format!("{db}:bigz:{j}"), format!("{db}:bigl:{j}")]
            {
                cmds.push(cmd(&["PEXPIREAT", &k, &deadline_ms.to_string()]));
            }
        }
    }
    cmds
}

/// Changes to the large keys right after the snapshot started: fields and members changed,
/// removed and added all over each value (so writes copy chunks the snapshot still reads),
/// one of each deleted, TTLs dropped.
fn big_keys1(db: usize, count: usize) -> Vec<Vec<Vec<u8>>> {
    let mut cmds = vec![cmd(&["SELECT", &db.to_string()])];
    for j in 0..count {
        let (h, st, z) = (format!("{db}:bigh:{j}"), format!("{db}:bigs:{j}"), format!("{db}:bigz:{j}"));
        let l = format!("{db}:bigl:{j}");
        let x = format!("{db}:bigx:{j}");
        if j == 0 {
            cmds.push(cmd(&["DEL", &h, &st, &z, &l, &x]));
            continue;
        }
        if j == 1 {
            cmds.push(cmd(&["XADD", &x, "2-1", "f", "after"]));
            cmds.push(cmd(&["XDEL", &x, "1-7", "1-3000"]));
            cmds.push(cmd(&["XGROUP", "CREATE", &x, "g", "0"]));
            cmds.push(cmd(&["XTRIM", &x, "MAXLEN", "5000"]));
        }
        cmds.push(cmd(&["LPUSH", &l, "new-head"]));
        cmds.push(cmd(&["RPOP", &l]));
        cmds.push(cmd(&["LSET", &l, "5000", "changed"]));
        for i in (0..BIG_ELEMENTS).step_by(997) {
            cmds.push(cmd(&["HSET", &h, &format!("field:{i}"), "changed", &format!("new:{i}"), "x"]));
            cmds.push(cmd(&["HDEL", &h, &format!("field:{}", i + 1)]));
            cmds.push(cmd(&["SREM", &st, &format!("member:{j}:{i}")]));
            cmds.push(cmd(&["SADD", &st, &format!("new:{i}")]));
            cmds.push(cmd(&["ZADD", &z, "5000", &format!("member:{j}:{i}"), "-1", &format!("new:{i}")]));
            cmds.push(cmd(&["ZREM", &z, &format!("member:{j}:{}", i + 1)]));
        }
        for k in [&h, &st, &z, &l] {
            cmds.push(cmd(&["PERSIST", k]));
        }
    }
    cmds
}

/// Changes the keys of `db` numbered `part` modulo `parts` after the snapshot started: a new
/// version of every value (SET also drops the TTL), TTLs added, some keys deleted, new keys.
fn version1(db: usize, n: usize, part: usize, parts: usize) -> Vec<Vec<Vec<u8>>> {
    let mut cmds = vec![cmd(&["SELECT", &db.to_string()])];
    for j in (part..n).step_by(parts) {
        // Walk the keys in another order than they were written, so writes hit slots all over.
        let i = (j * 7919) % n;
        let k = format!("{db}:k:{i}");
        let v = format!("v1-{i}");
        cmds.push(match i % 5 {
            0 => cmd(&["SET", &k, &v]),
            1 => cmd(&["HSET", &k, "a", &v, "c", "1"]),
            2 => cmd(&["LPUSH", &k, &v]),
            3 => cmd(&["SADD", &k, &v]),
            _ => cmd(&["ZADD", &k, "9", &v]),
        });
        if i.is_multiple_of(11) {
            cmds.push(cmd(&["DEL", &k]));
        } else if i.is_multiple_of(13) {
            cmds.push(cmd(&["EXPIRE", &k, "100000"]));
        }
        if i.is_multiple_of(3) {
            cmds.push(cmd(&["SET", &format!("{db}:new:{i}"), "v1"]));
        }
    }
    cmds
}

fn bulk(r: &Reply) -> Vec<u8> {
    r.bytes().map(|b| b.to_vec()).unwrap_or_else(|| format!("{r:?}").into_bytes())
}

/// DEBUG DIGEST and the key count of db 0, 3 and 4.
fn fingerprint(c: &mut RawConn) -> (String, Vec<i64>) {
    let mut sizes = Vec::new();
    for db in [0, 3, 4] {
        c.cmd(&["SELECT", &db.to_string()]);
        sizes.push(c.cmd(&["DBSIZE"]).int().expect("DBSIZE"));
    }
    c.cmd(&["SELECT", "0"]);
    (String::from_utf8_lossy(&bulk(&c.cmd(&["DEBUG", "DIGEST"]))).into_owned(), sizes)
}

fn info_field(c: &mut RawConn, name: &str) -> String {
    let text = bulk(&c.cmd(&["INFO", "persistence"]));
    let text = String::from_utf8_lossy(&text).into_owned();
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}:")).map(|v| v.trim().to_string()))
        .unwrap_or_else(|| panic!("INFO has no {name}: {text}"))
}

#[test]
fn bgsave_is_the_dataset_as_of_its_start() {
    let deadline_ms = common::unix_now_s() * 1000 + 3_600_000;
    let mut load = version0(0, KEYS_DB0, deadline_ms);
    load.extend(version0(3, KEYS_DB3, deadline_ms));
    load.extend(big_keys0(0, 6, deadline_ms));
    load.extend(big_keys0(3, 2, deadline_ms));

    // What the snapshot must hold, from a server that only ever saw version 0.
    let reference = Server::start(Spec::redis().args(&DEBUG));
    let mut rc = reference.raw();
    pipeline(&mut rc, &load);
    let expected = fingerprint(&mut rc);
    assert_eq!(expected.1[0] as usize, KEYS_DB0 + 26);

    let dir = TempDir::new("bgsave-cow");
    let t = Server::start_in(&Spec::tessera(2).args(&DEBUG), dir.path()).expect("start tessera");
    let mut tc = t.raw();
    pipeline(&mut tc, &load);
    assert_eq!(fingerprint(&mut tc), expected, "tessera holds the same version 0 as redis");

    // Writers are connected before the save so that they start the moment it is acknowledged.
    let mut writers: Vec<RawConn> = (0..3).map(|_| t.raw()).collect();
    assert_eq!(tc.cmd(&["BGSAVE"]), Reply::Simple(b"Background saving started".to_vec()));
    let started = Instant::now();
    std::thread::scope(|scope| {
        for (w, c) in writers.iter_mut().enumerate() {
            scope.spawn(move || pipeline(c, &version1(0, KEYS_DB0, w, 3)));
        }
        // Meanwhile the large keys change, db 3 changes, moves to db 4 and is flushed there;
        // db 3 gets new keys.
        let mut moves = big_keys1(0, 6);
        moves.extend(big_keys1(3, 2));
        moves.extend(version1(3, KEYS_DB3, 0, 1));
        moves.push(cmd(&["SWAPDB", "3", "4"]));
        moves.push(cmd(&["SELECT", "4"]));
        moves.push(cmd(&["FLUSHDB"]));
        moves.push(cmd(&["SELECT", "3"]));
        moves.push(cmd(&["SET", "3:after-swap", "x"]));
        pipeline(&mut tc, &moves);
    });
    let wrote_s = started.elapsed().as_secs_f64();
    let limit = Instant::now() + Duration::from_secs(120);
    while info_field(&mut tc, "rdb_bgsave_in_progress") != "0" {
        assert!(Instant::now() < limit, "BGSAVE did not finish");
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(info_field(&mut tc, "rdb_last_bgsave_status"), "ok", "{}", t.log());
    eprintln!(
        "writes after BGSAVE took {wrote_s:.2} s; save took {} s",
        info_field(&mut tc, "rdb_last_bgsave_time_sec")
    );
    assert_ne!(fingerprint(&mut tc).0, expected.0, "the writes changed the live dataset");

    let file = dir.path().join("dump.rdb");
    let mut check = std::process::Command::new(redis_tool("redis-check-rdb"));
    check.arg(&file);
    let (status, out, err) = run_tool(&mut check, Duration::from_secs(120));
    assert!(status.is_some_and(|s| s.success()) && out.contains("RDB looks OK"), "redis-check-rdb: {out}{err}");
    // No scratch or temp file is left behind.
    let names: Vec<String> =
        std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert!(!names.iter().any(|n| n.starts_with("temp-")), "left over: {names:?}");

    // Tessera restarted on the dump (onto another shard count too) and redis-server on it.
    for shards in [2, 3] {
        let rdir = TempDir::new("bgsave-cow-reload");
        std::fs::copy(&file, rdir.path().join("dump.rdb")).unwrap();
        let t2 = Server::start_in(&Spec::tessera(shards).args(&DEBUG), rdir.path()).expect("tessera loads the dump");
        assert_eq!(fingerprint(&mut t2.raw()), expected, "tessera --shards {shards} on the BGSAVE dump");
    }
    let rdir = TempDir::new("bgsave-cow-redis");
    std::fs::copy(&file, rdir.path().join("dump.rdb")).unwrap();
    let r2 = Server::start_in(&Spec::redis().args(&DEBUG), rdir.path()).expect("redis-server loads the dump");
    assert_eq!(fingerprint(&mut r2.raw()), expected, "redis-server on the BGSAVE dump");
}

#[test]
fn a_failed_save_ends_every_shard_job() {
    let dir = TempDir::new("bgsave-fail");
    let t = Server::start_in(&Spec::tessera(2).args(&DEBUG), dir.path()).expect("start tessera");
    let mut c = t.raw();
    pipeline(&mut c, &version0(0, 100_000, common::unix_now_s() * 1000 + 3_600_000));
    let expected = fingerprint(&mut c);
    // The save's temp file name is taken by a directory: the writer fails as soon as every
    // shard has started, while the shards' jobs still have most of their slots to go.
    let blocker = dir.path().join(format!("temp-{}-0.rdb", t.pid()));
    std::fs::create_dir(&blocker).unwrap();
    let wait_done = |c: &mut RawConn| {
        let limit = Instant::now() + Duration::from_secs(60);
        while info_field(c, "rdb_bgsave_in_progress") != "0" {
            assert!(Instant::now() < limit, "BGSAVE did not finish");
            std::thread::sleep(Duration::from_millis(10));
        }
    };
    assert_eq!(c.cmd(&["BGSAVE"]), Reply::Simple(b"Background saving started".to_vec()));
    wait_done(&mut c);
    assert_eq!(info_field(&mut c, "rdb_last_bgsave_status"), "err");
    // The jobs end with the writer: the next save starts fresh ones on both shards.
    std::fs::remove_dir(&blocker).unwrap();
    assert_eq!(c.cmd(&["BGSAVE"]), Reply::Simple(b"Background saving started".to_vec()));
    wait_done(&mut c);
    assert_eq!(info_field(&mut c, "rdb_last_bgsave_status"), "ok", "{}", t.log());
    let rdir = TempDir::new("bgsave-fail-reload");
    std::fs::copy(dir.path().join("dump.rdb"), rdir.path().join("dump.rdb")).unwrap();
    let t2 = Server::start_in(&Spec::tessera(2).args(&DEBUG), rdir.path()).expect("tessera loads the dump");
    assert_eq!(fingerprint(&mut t2.raw()), expected);
}

/// MEMORY STATS `total.allocated`: the bytes the shards' threads account for.
fn shard_allocated_bytes(c: &mut RawConn) -> i64 {
    let r = c.cmd(&["MEMORY", "STATS"]);
    let items = r.items().expect("MEMORY STATS is an array in RESP2");
    let at = items.iter().position(|i| i.bytes() == Some(b"total.allocated")).expect("total.allocated");
    items[at + 1].int().expect("an integer")
}

#[test]
fn saves_leave_the_shards_memory_count_alone() {
    // The chunks a shard serialises are freed by the writer thread; the shard's own count
    // (its share of maxmemory) must not keep them.
    let t = Server::start(Spec::tessera(2).args(&DEBUG));
    let mut c = t.raw();
    pipeline(&mut c, &version0(0, 100_000, common::unix_now_s() * 1000 + 3_600_000));
    let before = shard_allocated_bytes(&mut c);
    for _ in 0..3 {
        assert_eq!(c.cmd(&["BGSAVE"]), Reply::Simple(b"Background saving started".to_vec()));
        let limit = Instant::now() + Duration::from_secs(60);
        while info_field(&mut c, "rdb_bgsave_in_progress") != "0" {
            assert!(Instant::now() < limit, "BGSAVE did not finish");
            std::thread::sleep(Duration::from_millis(10));
        }
        assert_eq!(info_field(&mut c, "rdb_last_bgsave_status"), "ok");
    }
    let after = shard_allocated_bytes(&mut c);
    let dump_bytes = std::fs::metadata(t.dir().join("dump.rdb")).unwrap().len() as i64;
    assert!(dump_bytes > 1_000_000, "dump of {dump_bytes} bytes");
    // Three saves of a dump this size would add three times its size if the count kept them.
    assert!(
        (after - before).abs() < dump_bytes / 2,
        "shard count {before} -> {after} after 3 saves of {dump_bytes} bytes"
    );
}

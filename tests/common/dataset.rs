//! A dataset of every type in every encoding (small and large, with TTLs, in two databases)
//! and the comparison of two servers' data: the same keys per database, the same `DEBUG
//! DIGEST-VALUE` for every key (plus `XINFO STREAM FULL` for streams), the same TYPE and
//! OBJECT ENCODING, TTLs within a few seconds, and the same `DEBUG DIGEST`. Used by the RDB
//! and AOF tests.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use super::{redis_tool, run_tool, RawConn, Reply, Spec};

/// Databases the dataset uses.
pub const DBS: [usize; 2] = [0, 5];
pub const DEBUG: [&str; 2] = ["--enable-debug-command", "yes"];

pub fn tessera_spec(shards: usize) -> Spec {
    Spec::tessera(shards).args(&DEBUG)
}

pub fn redis_spec() -> Spec {
    Spec::redis().args(&DEBUG)
}

/// Commands per pipelined batch: large loads go in batches so neither side's buffers grow
/// with the whole load.
const PIPELINE_BATCH: usize = 5_000;

/// Sends `cmds` in pipelined batches and checks that none failed.
pub fn pipeline(c: &mut RawConn, cmds: &[Vec<Vec<u8>>]) {
    for part in cmds.chunks(PIPELINE_BATCH) {
        let mut out = Vec::new();
        for cmd in part {
            let args: Vec<&[u8]> = cmd.iter().map(|a| a.as_slice()).collect();
            out.extend_from_slice(&super::resp::encode(&args));
        }
        c.send_raw(&out).expect("write pipeline");
        for cmd in part {
            let (raw, reply) = c.read_reply().expect("reply");
            assert!(!reply.is_error(), "{}: {}", super::resp::show_cmd(cmd), super::resp::escape(&raw));
        }
    }
}

pub fn cmd(args: &[&str]) -> Vec<Vec<u8>> {
    args.iter().map(|a| a.as_bytes().to_vec()).collect()
}

/// Every type in every encoding, small and large, some with TTLs, in two databases.
pub fn load_dataset(c: &mut RawConn) {
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

pub fn bulk(r: &Reply) -> Vec<u8> {
    match r {
        Reply::Array(v) if v.len() == 1 => bulk(&v[0]),
        _ => r.bytes().map(|b| b.to_vec()).unwrap_or_else(|| format!("{r:?}").into_bytes()),
    }
}

/// What is compared of one key.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct KeyFacts {
    pub key: Vec<u8>,
    pub digest: Vec<u8>,
    pub kind: Vec<u8>,
    pub encoding: Vec<u8>,
    pub pttl_ms: i64,
}

impl KeyFacts {
    /// Everything but the TTL, which moves with the clock.
    pub fn content(&self) -> (&[u8], &[u8], &[u8], &[u8]) {
        (&self.key, &self.digest, &self.kind, &self.encoding)
    }
}

/// The facts of every key of `db`, sorted by key.
pub fn describe(c: &mut RawConn, db: usize) -> Vec<KeyFacts> {
    describe_opts(c, db, false)
}

/// `describe` for data reloaded from an AOF: a consumer's seen-time is when the reload ran
/// (Redis's reload sets it the same way), so it is masked.
pub fn describe_aof(c: &mut RawConn, db: usize) -> Vec<KeyFacts> {
    describe_opts(c, db, true)
}

/// Replaces the value after every `seen-time` in an XINFO STREAM FULL reply.
fn mask_seen_time(raw: &[u8]) -> Vec<u8> {
    let tag = b"seen-time\r\n:";
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        if raw[i..].starts_with(tag) {
            out.extend_from_slice(tag);
            i += tag.len();
            while i < raw.len() && raw[i] != b'\r' {
                i += 1;
            }
            out.push(b'X');
        } else {
            out.push(raw[i]);
            i += 1;
        }
    }
    out
}

fn describe_opts(c: &mut RawConn, db: usize, mask_seen: bool) -> Vec<KeyFacts> {
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
            digest.extend_from_slice(&if mask_seen { mask_seen_time(&raw) } else { raw });
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
pub fn assert_same_data(a: &mut RawConn, b: &mut RawConn, what: &str) {
    assert_same_data_by(a, b, what, describe)
}

/// `assert_same_data` with the per-database description given.
pub fn assert_same_data_by(
    a: &mut RawConn,
    b: &mut RawConn,
    what: &str,
    describe: fn(&mut RawConn, usize) -> Vec<KeyFacts>,
) {
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
pub fn ttl_close(a: i64, b: i64, slack_ms: i64) -> bool {
    (a < 0 && a == b) || (a >= 0 && b >= 0 && (a - b).abs() < slack_ms)
}

pub fn ok(r: Reply) {
    assert_eq!(r, Reply::Simple(b"OK".to_vec()), "expected +OK");
}

/// `redis-check-rdb` accepts `path`.
pub fn assert_check_rdb(path: &Path) {
    let mut c = Command::new(redis_tool("redis-check-rdb"));
    c.arg(path);
    let (status, out, err) = run_tool(&mut c, Duration::from_secs(60));
    assert!(
        status.is_some_and(|s| s.success()) && out.contains("RDB looks OK"),
        "redis-check-rdb {}: {out}{err}",
        path.display()
    );
}

pub fn info_field(c: &mut RawConn, name: &str) -> String {
    let text = bulk(&c.cmd(&["INFO", "persistence"]));
    let text = String::from_utf8_lossy(&text).into_owned();
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{name}:")).map(|v| v.trim().to_string()))
        .unwrap_or_else(|| panic!("INFO has no {name}: {text}"))
}

//! Cluster mode on one node (`--cluster-enabled yes`): the same script goes to tessera and to a
//! real redis-server cluster node; deterministic replies (CLUSTERDOWN, CROSSSLOT, KEYSLOT, slot
//! errors, data commands) must match byte for byte, the topology replies (NODES, SLOTS, SHARDS,
//! INFO) must have Redis's shape. Then `redis-cli -c` works against it, and the node id and slots
//! survive a restart through `cluster-config-file`.
//!
//! MOVED cannot be produced by a single node that owns every slot (Redis needs a second node to
//! redirect to), so it is not exercised here. State changes that Redis applies on its cluster
//! cron are awaited by polling CLUSTER INFO, never by sleeping a fixed time.

mod common;

use std::time::{Duration, Instant};

use common::resp::{escape, show_cmd};
use common::{key_slot, redis_cli, RawConn, Reply, Server, Spec, TempDir};

/// Both servers, and the differences found so far.
struct Both {
    redis: RawConn,
    tessera: RawConn,
    diffs: Vec<String>,
}

impl Both {
    fn call(c: &mut RawConn, args: &[&str]) -> (Vec<u8>, Reply) {
        let bytes: Vec<&[u8]> = args.iter().map(|a| a.as_bytes()).collect();
        c.call(&bytes).unwrap_or_else(|e| panic!("{}: {e}", args.join(" ")))
    }

    /// Byte-for-byte comparison; returns redis's parsed reply.
    fn same(&mut self, args: &[&str]) -> Reply {
        let (ra, pa) = Self::call(&mut self.redis, args);
        let (rb, _) = Self::call(&mut self.tessera, args);
        if ra != rb {
            self.diffs.push(format!(
                "{}\n  redis:   {}\n  tessera: {}",
                show_cmd(&args.iter().map(|a| a.as_bytes().to_vec()).collect::<Vec<_>>()),
                escape(&ra),
                escape(&rb)
            ));
        }
        pa
    }

    /// Compares the elements of array replies in any order.
    fn same_set(&mut self, args: &[&str]) {
        let (ra, pa) = Self::call(&mut self.redis, args);
        let (rb, pb) = Self::call(&mut self.tessera, args);
        let sorted = |r: &Reply| {
            let mut v = r.items().map(|i| i.to_vec()).unwrap_or_default();
            v.sort();
            v
        };
        if ra.first() != rb.first() || sorted(&pa) != sorted(&pb) {
            self.diffs.push(format!(
                "{} (as sets)\n  redis:   {}\n  tessera: {}",
                args.join(" "),
                escape(&ra),
                escape(&rb)
            ));
        }
    }
}

fn cluster_info_field(c: &mut RawConn, field: &str) -> String {
    let r = c.cmd(&["CLUSTER", "INFO"]);
    let text = String::from_utf8_lossy(r.bytes().unwrap_or_default()).to_string();
    text.lines()
        .find_map(|l| l.strip_prefix(&format!("{field}:")).map(|v| v.trim().to_string()))
        .unwrap_or_else(|| panic!("CLUSTER INFO has no {field}: {text:?}"))
}

fn wait_state(c: &mut RawConn, who: &str, want: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let state = cluster_info_field(c, "cluster_state");
        if state == want {
            return;
        }
        assert!(Instant::now() < deadline, "{who}: cluster_state stayed {state}, expected {want}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn add_all_slots(port: u16) {
    let out = redis_cli(port, &["cluster", "addslotsrange", "0", "16383"]);
    assert_eq!(out.trim(), "OK", "redis-cli cluster addslotsrange 0 16383");
}

#[test]
fn cluster_replies_match_redis() {
    let redis = Server::start(Spec::redis().cluster());
    let tessera = Server::start(Spec::tessera(2).cluster());
    let mut b = Both { redis: redis.raw(), tessera: tessera.raw(), diffs: Vec::new() };

    // No slot assigned yet.
    b.same(&["SET", "foo", "bar"]);
    b.same(&["GET", "foo"]);
    b.same(&["MGET", "foo", "bar"]);
    for key in ["foo", "{user1000}.following", "", "{}", "{{a}}", "a{}b", "{a", "user1000"] {
        let reply = b.same(&["CLUSTER", "KEYSLOT", key]);
        assert_eq!(reply, Reply::Int(i64::from(key_slot(key.as_bytes()))), "KEYSLOT {key:?}");
    }
    b.same(&["CLUSTER", "COUNTKEYSINSLOT", "12182"]);
    b.same(&["CLUSTER", "COUNTKEYSINSLOT", "16384"]);
    b.same(&["CLUSTER", "COUNTKEYSINSLOT", "-1"]);
    b.same(&["CLUSTER", "GETKEYSINSLOT", "0", "-1"]);
    b.same(&["CLUSTER", "ADDSLOTS", "99999"]);
    b.same(&["CLUSTER", "ADDSLOTS", "abc"]);
    b.same(&["CLUSTER", "ADDSLOTSRANGE", "10", "5"]);

    // Half the slots: those keys are served only once the state is ok, the others never.
    b.same(&["CLUSTER", "ADDSLOTSRANGE", "0", "8191"]);
    b.same(&["CLUSTER", "ADDSLOTS", "5"]);
    b.same(&["SET", "foo", "x"]); // slot 12182: not served
    assert_eq!(cluster_info_field(&mut b.tessera, "cluster_slots_assigned"), "8192");

    // All the slots.
    b.same(&["CLUSTER", "ADDSLOTSRANGE", "8192", "16383"]);
    wait_state(&mut b.redis, "redis", "ok");
    wait_state(&mut b.tessera, "tessera", "ok");
    for field in ["cluster_slots_assigned", "cluster_slots_ok", "cluster_known_nodes", "cluster_size"] {
        let (r, t) = (cluster_info_field(&mut b.redis, field), cluster_info_field(&mut b.tessera, field));
        assert_eq!(t, r, "CLUSTER INFO {field}");
    }
    b.same(&["SET", "foo", "bar"]);
    b.same(&["GET", "foo"]);
    b.same(&["MSET", "a", "1", "b", "2"]);
    b.same(&["MSET", "{a}x", "1", "{a}y", "2"]);
    b.same(&["MGET", "{a}x", "{a}y", "{a}z"]);
    b.same(&["MGET", "a", "b"]);
    b.same(&["DEL", "foo", "bar"]);
    b.same(&["EXISTS", "{a}x", "{a}y"]);
    b.same(&["RENAME", "{a}x", "b"]);
    b.same(&["RENAME", "{a}x", "{a}w"]);
    b.same(&["COPY", "{a}w", "{a}v"]);
    b.same(&["COPY", "{a}w", "zz"]);
    b.same(&["MSETNX", "{a}1", "1", "{b}1", "2"]);
    b.same(&["LCS", "{a}w", "b"]);
    b.same(&["SELECT", "1"]);
    b.same(&["SELECT", "0"]);
    b.same(&["CLUSTER", "COUNTKEYSINSLOT", &key_slot(b"{a}").to_string()]);
    b.same_set(&["CLUSTER", "GETKEYSINSLOT", &key_slot(b"{a}").to_string(), "10"]);
    b.same(&["CLUSTER", "GETKEYSINSLOT", &key_slot(b"{a}").to_string(), "0"]);
    b.same(&["CLUSTER", "FLUSHSLOTS"]);
    b.same(&["DBSIZE"]);

    // An unassigned slot is never served, whatever the overall state.
    b.same(&["CLUSTER", "DELSLOTS", "12182"]);
    b.same(&["GET", "foo"]);
    b.same(&["CLUSTER", "DELSLOTSRANGE", "12182", "12182"]);
    b.same(&["CLUSTER", "DELSLOTSRANGE", "100", "99"]);
    b.same(&["CLUSTER", "ADDSLOTS", "12182"]);
    wait_state(&mut b.redis, "redis", "ok");
    wait_state(&mut b.tessera, "tessera", "ok");
    b.same(&["GET", "foo"]);

    let info = b.tessera.cmd(&["INFO", "cluster"]);
    let info = String::from_utf8_lossy(info.bytes().unwrap_or_default()).to_string();
    assert!(info.contains("cluster_enabled:1"), "INFO cluster: {info:?}");
    assert!(b.diffs.is_empty(), "{} replies differ from redis-server:\n{}", b.diffs.len(), b.diffs.join("\n"));
}

#[test]
fn topology_replies_have_redis_shape() {
    let tessera = Server::start(Spec::tessera(2).cluster());
    add_all_slots(tessera.port);
    let mut c = tessera.raw();
    wait_state(&mut c, "tessera", "ok");
    let myid = c.cmd(&["CLUSTER", "MYID"]);
    let myid = String::from_utf8(myid.bytes().expect("MYID is a string").to_vec()).expect("utf8");
    assert_eq!(myid.len(), 40, "node id {myid:?}");
    assert!(myid.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()), "node id {myid:?}");

    // <id> <ip>:<port>@<cport> myself,master - 0 0 <epoch> connected 0-16383
    let nodes = c.cmd(&["CLUSTER", "NODES"]);
    let nodes = String::from_utf8_lossy(nodes.bytes().expect("NODES is a string")).to_string();
    let line = nodes.lines().next().unwrap_or_default();
    let f: Vec<&str> = line.split(' ').collect();
    assert_eq!(f.len(), 9, "CLUSTER NODES line {line:?}");
    assert_eq!(f[0], myid);
    let (ip, rest) = f[1].split_once(':').unwrap_or_else(|| panic!("address field {:?}", f[1]));
    assert!(ip.is_empty() || ip == "127.0.0.1", "ip {ip:?}");
    let port = rest.split(['@', ',']).next().unwrap_or_default();
    assert_eq!(port, tessera.port.to_string(), "address field {:?}", f[1]);
    assert_eq!(&f[2..5], &["myself,master", "-", "0"], "{line:?}");
    assert!(f[5].parse::<u64>().is_ok() && f[6].parse::<u64>().is_ok(), "{line:?}");
    assert_eq!(&f[7..], &["connected", "0-16383"], "{line:?}");
    assert!(nodes.ends_with('\n'), "CLUSTER NODES ends with a newline");

    // [[0, 16383, [ip, port, id, ...]]]
    let slots = c.cmd(&["CLUSTER", "SLOTS"]);
    let ranges = slots.items().unwrap_or_else(|| panic!("SLOTS {slots:?}"));
    assert_eq!(ranges.len(), 1, "SLOTS {slots:?}");
    let range = ranges[0].items().unwrap_or_else(|| panic!("SLOTS {slots:?}"));
    assert_eq!(&range[..2], &[Reply::Int(0), Reply::Int(16383)]);
    let node = range[2].items().unwrap_or_else(|| panic!("SLOTS {slots:?}"));
    assert_eq!(node[1], Reply::Int(i64::from(tessera.port)));
    assert_eq!(node[2], Reply::Bulk(myid.clone().into_bytes()));

    let shards = c.cmd(&["CLUSTER", "SHARDS"]);
    let shard = shards.items().and_then(|s| s.first()).cloned().unwrap_or_else(|| panic!("SHARDS {shards:?}"));
    let fields = shard.items().unwrap_or_else(|| panic!("SHARDS entry {shard:?}"));
    assert_eq!(fields.first(), Some(&Reply::Bulk(b"slots".to_vec())), "SHARDS entry {shard:?}");
    assert_eq!(fields.get(1), Some(&Reply::Array(vec![Reply::Int(0), Reply::Int(16383)])));
    assert_eq!(fields.get(2), Some(&Reply::Bulk(b"nodes".to_vec())));
}

#[test]
fn redis_cli_cluster_mode_set_get() {
    let tessera = Server::start(Spec::tessera(2).cluster());
    let out = redis_cli(tessera.port, &["-c", "set", "foo", "bar"]);
    assert_eq!(out.trim(), "CLUSTERDOWN Hash slot not served", "redis-cli -c before any slot is assigned");
    add_all_slots(tessera.port);
    wait_state(&mut tessera.raw(), "tessera", "ok");
    for i in 0..30 {
        let (key, value) = (format!("user:{i}"), format!("value {i}"));
        assert_eq!(redis_cli(tessera.port, &["-c", "set", &key, &value]).trim(), "OK", "redis-cli -c set {key}");
        assert_eq!(redis_cli(tessera.port, &["-c", "get", &key]).trim(), value, "redis-cli -c get {key}");
    }
    let out = redis_cli(tessera.port, &["-c", "mset", "a", "1", "b", "2"]);
    assert_eq!(out.trim(), "CROSSSLOT Keys in request don't hash to the same slot");
    let out = redis_cli(tessera.port, &["-c", "mset", "{t}a", "1", "{t}b", "2"]);
    assert_eq!(out.trim(), "OK");
    let out = redis_cli(tessera.port, &["-c", "cluster", "countkeysinslot", &key_slot(b"t").to_string()]);
    assert_eq!(out.trim(), "2");
    let out = redis_cli(tessera.port, &["-c", "dbsize"]);
    assert_eq!(out.trim(), "32");
}

#[test]
fn node_id_and_slots_survive_restart() {
    let dir = TempDir::new("cluster-restart");
    let spec = Spec::tessera(2).cluster();
    let first_id = {
        let server = Server::start_in(&spec, dir.path()).unwrap_or_else(|e| panic!("{e}"));
        add_all_slots(server.port);
        let mut c = server.raw();
        wait_state(&mut c, "tessera", "ok");
        let id = c.cmd(&["CLUSTER", "MYID"]);
        assert!(dir.path().join("nodes.conf").exists(), "cluster-config-file was not written");
        id
    };
    let server = Server::start_in(&spec, dir.path()).unwrap_or_else(|e| panic!("{e}"));
    let mut c = server.raw();
    assert_eq!(c.cmd(&["CLUSTER", "MYID"]), first_id, "node id after restart");
    wait_state(&mut c, "tessera", "ok");
    assert_eq!(cluster_info_field(&mut c, "cluster_slots_assigned"), "16384");
}

//! tessera-loadgen against a real 3-master Redis Cluster while a slot holding its keys is
//! migrated to another master mid-run: the run must follow `-ASK` / `-MOVED`, lose no
//! acknowledged write (`--verify`), and report the redirects it followed.

mod common;

use std::process::Command;
use std::thread::sleep;
use std::time::{Duration, Instant};

use common::*;
use tessera_loadgen::cluster_map::{key_slot, ClusterMap};
use tessera_loadgen::resp::Value;

const CLUSTER_READY_TIMEOUT: Duration = Duration::from_secs(30);

/// Three masters; the servers are dropped (killed) before the directory is removed.
struct Cluster {
    nodes: Vec<Redis>,
    _dir: tempfile::TempDir,
}

impl Cluster {
    fn start() -> Cluster {
        let dir = tempfile::tempdir().expect("tempdir");
        let conf = format!("{}/nodes-{{port}}.conf", dir.path().display());
        let nodes: Vec<Redis> = (0..3)
            .map(|_| Redis::start(dir.path(), &["--cluster-enabled", "yes", "--cluster-config-file", &conf]))
            .collect();
        let mut create = Command::new(REDIS_CLI);
        create.arg("--cluster").arg("create");
        for n in &nodes {
            create.arg(n.addr());
        }
        let out =
            create.args(["--cluster-replicas", "0", "--cluster-yes"]).output().expect("run redis-cli --cluster create");
        assert!(out.status.success(), "cluster create: {}", describe(&out));
        let cluster = Cluster { nodes, _dir: dir };
        cluster.wait_until_ok();
        cluster
    }

    fn wait_until_ok(&self) {
        let deadline = Instant::now() + CLUSTER_READY_TIMEOUT;
        loop {
            let ready = self.nodes.iter().all(|n| {
                let info = text(&cmd(&mut n.client(), &["CLUSTER", "INFO"]));
                info.contains("cluster_state:ok") && info.contains("cluster_slots_ok:16384")
            });
            if ready {
                return;
            }
            assert!(Instant::now() < deadline, "cluster never became ok");
            sleep(Duration::from_millis(100));
        }
    }

    fn id(&self, node: usize) -> String {
        text(&cmd(&mut self.nodes[node].client(), &["CLUSTER", "MYID"]))
    }

    /// Index into `nodes` of the master owning `slot`.
    fn owner(&self, slot: u16) -> usize {
        let slots = cmd(&mut self.nodes[0].client(), &["CLUSTER", "SLOTS"]);
        let map = ClusterMap::from_cluster_slots(&slots, "127.0.0.1").expect("parse slots");
        let addr = &map.nodes()[usize::from(map.owner(slot))];
        self.nodes.iter().position(|n| &n.addr() == addr).expect("owner is one of our nodes")
    }

    fn keys_in_slot(&self, node: usize, slot: u16) -> i64 {
        match cmd(&mut self.nodes[node].client(), &["CLUSTER", "COUNTKEYSINSLOT", &slot.to_string()]) {
            Value::Integer(n) => n,
            other => panic!("COUNTKEYSINSLOT: {other:?}"),
        }
    }

    /// Moves `slot` from `source` to `target` the way `redis-cli --cluster reshard` does,
    /// one key at a time with pauses so requests hit the slot while it is half moved.
    fn migrate_slot(&self, slot: u16, source: usize, target: usize) {
        let slot_s = slot.to_string();
        let (source_id, target_id) = (self.id(source), self.id(target));
        let mut src = self.nodes[source].client();
        let mut dst = self.nodes[target].client();
        let ok = |v: Value| assert_eq!(text(&v), "OK");
        ok(cmd(&mut dst, &["CLUSTER", "SETSLOT", &slot_s, "IMPORTING", &source_id]));
        ok(cmd(&mut src, &["CLUSTER", "SETSLOT", &slot_s, "MIGRATING", &target_id]));
        let target_port = self.nodes[target].port.to_string();
        loop {
            let keys = match cmd(&mut src, &["CLUSTER", "GETKEYSINSLOT", &slot_s, "1"]) {
                Value::Array(keys) => keys,
                other => panic!("GETKEYSINSLOT: {other:?}"),
            };
            let Some(key) = keys.first().map(text) else {
                break;
            };
            let reply = cmd(&mut src, &["MIGRATE", "127.0.0.1", &target_port, &key, "0", "5000"]);
            // NOKEY: the key moved or expired between GETKEYSINSLOT and MIGRATE.
            assert!(matches!(text(&reply).as_str(), "OK" | "NOKEY"), "MIGRATE: {reply:?}");
            sleep(Duration::from_millis(50));
        }
        // Leave the slot half-moved for a while: requests for it are answered with -ASK.
        sleep(Duration::from_millis(400));
        for node in [target, source] {
            ok(cmd(&mut self.nodes[node].client(), &["CLUSTER", "SETSLOT", &slot_s, "NODE", &target_id]));
        }
        let other = 3 - source - target;
        ok(cmd(&mut self.nodes[other].client(), &["CLUSTER", "SETSLOT", &slot_s, "NODE", &target_id]));
    }
}

#[test]
fn follows_redirects_while_a_slot_moves_and_loses_nothing() {
    let cluster = Cluster::start();
    let slot = key_slot(b"key:7");
    let source = cluster.owner(slot);
    let target = (source + 1) % 3;
    let json = json_path(cluster._dir.path(), "cluster");
    let child = spawn_loadgen(&[
        "--cluster",
        "--port",
        &cluster.nodes[0].port.to_string(),
        "-w",
        "mixed",
        "--verify",
        "-d",
        "6",
        "--keys",
        "600",
        "-c",
        "2",
        "-P",
        "4",
        "-q",
        "--json",
        json.to_str().expect("utf-8 path"),
    ]);
    let guard = ChildGuard(Some(child));

    let deadline = Instant::now() + Duration::from_secs(5);
    while cluster.keys_in_slot(source, slot) == 0 {
        assert!(Instant::now() < deadline, "loadgen never wrote key:7");
        sleep(Duration::from_millis(50));
    }
    cluster.migrate_slot(slot, source, target);
    assert_eq!(cluster.owner(slot), target);

    let out = guard.wait();
    assert!(out.status.success(), "{}", describe(&out));
    let report = read_json(&json);
    let moved = u64_at(&report, "/redirects/moved");
    let ask = u64_at(&report, "/redirects/ask");
    assert!(moved + ask > 0, "no redirect was followed: {report}");
    assert_eq!(u64_at(&report, "/verify/mismatches"), 0, "{report}");
    assert_eq!(u64_at(&report, "/verify/readback_mismatches"), 0, "{report}");
    assert!(u64_at(&report, "/verify/readback_checked") > 500, "{report}");
    assert_eq!(u64_at(&report, "/totals/errors"), 0, "{report}");
    assert!(cluster.keys_in_slot(target, slot) > 0, "key:7 did not reach the target");
    eprintln!("redirects followed: MOVED={moved} ASK={ask}");
}

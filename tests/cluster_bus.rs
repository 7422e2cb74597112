//! Tessera nodes (three, six, and mixed with redis-server nodes) forming a Redis Cluster over
//! the cluster bus, driven by the tools users have:
//! `redis-cli --cluster create` and `--cluster check`, every node's CLUSTER NODES agreeing, the
//! `redis` crate's cluster client writing and reading across nodes, PUBLISH crossing nodes, and
//! a node killed with SIGKILL seen as PFAIL then FAIL by the others (`cluster_state:fail`), then
//! rejoining with its id and slots after a restart.

mod common;

use std::time::{Duration, Instant};

use common::{redis_cli, redis_tool, run_tool, Server, Spec, TempDir};

const NODE_TIMEOUT_MS: &str = "2000";

fn spec() -> Spec {
    Spec::tessera(2).cluster().args(&["--cluster-node-timeout", NODE_TIMEOUT_MS])
}

fn wait_until(what: &str, limit: Duration, mut ok: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !ok() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// CLUSTER NODES lines without the per-node fields (myself flag, ping/pong times, link state):
/// id, address, role, config epoch and slots, which every node must agree on.
fn topology(port: u16) -> Vec<String> {
    let mut v: Vec<String> = redis_cli(port, &["CLUSTER", "NODES"])
        .lines()
        .filter(|l| !l.is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split(' ').collect();
            let flags = f.get(2).map_or(String::new(), |x| x.replace("myself,", ""));
            let mut keep = vec![f[0].to_string(), f[1].to_string(), flags, f.get(6).unwrap_or(&"").to_string()];
            keep.extend(f.iter().skip(8).map(|s| s.to_string()));
            keep.join(" ")
        })
        .collect();
    v.sort();
    v
}

fn flags_of(port: u16, node_port: u16) -> String {
    redis_cli(port, &["CLUSTER", "NODES"])
        .lines()
        .find(|l| l.split(' ').nth(1).is_some_and(|a| a.starts_with(&format!("127.0.0.1:{node_port}@"))))
        .and_then(|l| l.split(' ').nth(2).map(|s| s.to_string()))
        .unwrap_or_default()
}

fn state_of(port: u16) -> String {
    redis_cli(port, &["CLUSTER", "INFO"])
        .lines()
        .find_map(|l| l.strip_prefix("cluster_state:").map(|s| s.trim().to_string()))
        .unwrap_or_default()
}

/// A cluster of fresh nodes (one per spec) made by `redis-cli --cluster create`, waited on
/// until every node is ok and all agree on the topology.
struct Formed {
    dirs: Vec<TempDir>,
    nodes: Vec<Server>,
    ports: Vec<u16>,
    addrs: Vec<String>,
}

fn form(specs: &[Spec]) -> Formed {
    let dirs: Vec<TempDir> = specs.iter().map(|_| TempDir::new("cluster-bus")).collect();
    let nodes: Vec<Server> =
        specs.iter().zip(&dirs).map(|(s, d)| Server::start_in(s, d.path()).unwrap_or_else(|e| panic!("{e}"))).collect();
    let ports: Vec<u16> = nodes.iter().map(|n| n.port).collect();
    let addrs: Vec<String> = ports.iter().map(|p| format!("127.0.0.1:{p}")).collect();
    let mut create = std::process::Command::new(redis_tool("redis-cli"));
    create.arg("--cluster").arg("create").args(&addrs).args(["--cluster-replicas", "0", "--cluster-yes"]);
    let (status, out, err) = run_tool(&mut create, Duration::from_secs(120));
    assert!(status.is_some_and(|s| s.success()), "create failed: {out}\n{err}");
    assert!(out.contains("[OK] All 16384 slots covered."), "{out}");
    wait_until("every node to agree and be ok", Duration::from_secs(40), || {
        let t0 = topology(ports[0]);
        t0.len() == ports.len() && ports.iter().all(|&p| topology(p) == t0 && state_of(p) == "ok")
    });
    Formed { dirs, nodes, ports, addrs }
}

/// `redis-cli --cluster check` through `addr` reports a clean cluster.
fn check_clean(addr: &str) {
    let mut check = std::process::Command::new(redis_tool("redis-cli"));
    check.args(["--cluster", "check", addr]);
    let (status, out, err) = run_tool(&mut check, Duration::from_secs(60));
    assert!(status.is_some_and(|s| s.success()), "check via {addr} failed: {out}\n{err}");
    assert!(out.contains("[OK] All nodes agree about slots configuration."), "{out}");
    assert!(out.contains("[OK] All 16384 slots covered."), "{out}");
}

/// The `redis` crate's cluster client over `addrs`, following MOVED between nodes.
fn cluster_connection(addrs: &[String]) -> redis::cluster::ClusterConnection {
    let client = redis::cluster::ClusterClient::new(addrs.iter().map(|a| format!("redis://{a}/")).collect::<Vec<_>>())
        .expect("cluster client");
    client.get_connection().expect("cluster connection")
}

/// Writes `n` keys `prefix:i` = i through the cluster client; returns the keys per node.
fn write_keys(con: &mut redis::cluster::ClusterConnection, ports: &[u16], prefix: &str, n: i64) -> Vec<i64> {
    for i in 0..n {
        let _: () = redis::cmd("SET").arg(format!("{prefix}:{i}")).arg(i).query(con).expect("set");
    }
    let per_node: Vec<i64> = ports.iter().map(|&p| redis_cli(p, &["DBSIZE"]).trim().parse().unwrap_or(0)).collect();
    assert_eq!(per_node.iter().sum::<i64>(), n);
    assert!(per_node.iter().all(|&k| k > 0), "keys on every node: {per_node:?}");
    per_node
}

#[test]
fn three_nodes_form_a_cluster_and_detect_failure() {
    let Formed { dirs, mut nodes, ports, addrs } = form(&[spec(), spec(), spec()]);
    check_clean(&addrs[1]);
    let mut con = cluster_connection(&addrs);
    write_keys(&mut con, &ports, "key", 50_000);
    for i in (0..50_000).step_by(7) {
        let v: i64 = redis::cmd("GET").arg(format!("key:{i}")).query(&mut con).expect("get");
        assert_eq!(v, i);
    }

    // PUBLISH on one node reaches a subscriber on another.
    let mut sub = nodes[1].raw();
    sub.cmd(&["SUBSCRIBE", "news"]);
    let mut publisher = nodes[0].raw();
    publisher.cmd(&["PUBLISH", "news", "hello"]);
    let (raw, _) = sub.read_reply().expect("message from another node");
    assert_eq!(raw, b"*3\r\n$7\r\nmessage\r\n$4\r\nnews\r\n$5\r\nhello\r\n");

    // SIGKILL one node: the others see PFAIL, then FAIL, and the cluster goes down.
    let dead_port = ports[2];
    let before = topology(ports[0]);
    nodes[2].signal_and_wait(9, Duration::from_secs(5));
    let started = Instant::now();
    wait_until("FAIL on both survivors", Duration::from_secs(20), || {
        ports[..2].iter().all(|&p| flags_of(p, dead_port).contains("fail") && !flags_of(p, dead_port).contains("fail?"))
    });
    let took = started.elapsed();
    wait_until("cluster_state:fail", Duration::from_secs(10), || ports[..2].iter().all(|&p| state_of(p) == "fail"));
    println!("cluster_bus: FAIL on all survivors {took:?} after SIGKILL (node timeout {NODE_TIMEOUT_MS} ms)");

    // Restart it where the others expect it: same id, same slots, everybody ok again.
    nodes[2] = Server::start_at(&spec(), dirs[2].path(), dead_port).unwrap_or_else(|e| panic!("{e}"));
    wait_until("the restarted node to rejoin", Duration::from_secs(30), || {
        ports.iter().all(|&p| state_of(p) == "ok" && !flags_of(p, dead_port).contains("fail"))
    });
    assert_eq!(topology(ports[0]), before);
    assert_eq!(topology(dead_port), before);
    let v: i64 = redis::cmd("GET").arg("key:49999").query(&mut con).unwrap_or(-1);
    assert!(v == 49999 || v == -1, "value after restart: {v}");
}

/// Redis and Tessera nodes in one cluster: `redis-cli --cluster create` over three of each,
/// every node agreeing on the slot map, `--cluster check` clean, and a cluster client reading
/// and writing keys owned by both kinds of node.
#[test]
fn redis_and_tessera_nodes_share_a_cluster() {
    let redis_spec = Spec::redis().cluster().args(&["--cluster-node-timeout", NODE_TIMEOUT_MS]);
    let specs: Vec<Spec> = (0..6).map(|i| if i % 2 == 0 { redis_spec.clone() } else { spec() }).collect();
    let Formed { nodes: _nodes, ports, addrs, .. } = form(&specs);
    check_clean(&addrs[0]);
    check_clean(&addrs[1]);
    let mut con = cluster_connection(&addrs);
    write_keys(&mut con, &ports, "m", 3_000);
    for i in 0..3_000 {
        let v: i64 = redis::cmd("GET").arg(format!("m:{i}")).query(&mut con).expect("get");
        assert_eq!(v, i);
    }
    // redis-cli -c follows MOVED from a Redis node to a Tessera node and back.
    let tessera_key = (0..3_000).find(|i| {
        let k = format!("m:{i}");
        redis_cli(ports[1], &["GET", &k]).trim() == i.to_string()
    });
    if let Some(i) = tessera_key {
        let got = redis_cli(ports[0], &["-c", "GET", &format!("m:{i}")]);
        assert_eq!(got.trim(), i.to_string());
    }
}

/// Six Tessera masters: created, checked clean, agreeing everywhere, serving a cluster client.
#[test]
fn six_tessera_nodes_agree() {
    let specs: Vec<Spec> = (0..6).map(|_| spec()).collect();
    let Formed { nodes: _nodes, ports, addrs, .. } = form(&specs);
    check_clean(&addrs[5]);
    let mut con = cluster_connection(&addrs);
    write_keys(&mut con, &ports, "six", 6_000);
}

//! tessera-loadgen against one real `redis-server`: plain runs, JSON accuracy, `--verify`
//! (including that it catches lost writes), open-loop pacing, every built-in workload, the
//! workload file and AUTH.

mod common;

use std::thread::sleep;
use std::time::Duration;

use common::*;

#[test]
fn set_then_get_counts_match_the_server() {
    let dir = tempfile::tempdir().expect("tempdir");
    let redis = Redis::start(dir.path(), &[]);
    let port = redis.port.to_string();
    let json = json_path(dir.path(), "set");
    let out = loadgen(&[
        "--port",
        &port,
        "-w",
        "set",
        "-n",
        "20000",
        "-t",
        "2",
        "-c",
        "8",
        "-P",
        "4",
        "-q",
        "--json",
        json.to_str().expect("utf-8 path"),
    ]);
    assert!(out.status.success(), "{}", describe(&out));
    let report = read_json(&json);
    assert_eq!(u64_at(&report, "/totals/ops"), 20_000);
    assert_eq!(u64_at(&report, "/commands/0/ops"), 20_000);
    assert_eq!(u64_at(&report, "/totals/errors"), 0);
    assert!(u64_at(&report, "/commands/0/latency_us/p99") > 0);
    assert!(u64_at(&report, "/commands/0/bytes_out") > 20_000 * 20);
    // The server saw exactly the requests the report counts.
    assert_eq!(redis.command_calls("set"), 20_000);

    let out = loadgen(&["--port", &port, "-w", "get", "-n", "5000", "-c", "4", "-q"]);
    assert!(out.status.success(), "{}", describe(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("GET"));
    assert_eq!(redis.command_calls("get"), 5_000);
}

#[test]
fn verify_finds_no_mismatches() {
    let dir = tempfile::tempdir().expect("tempdir");
    let redis = Redis::start(dir.path(), &[]);
    let json = json_path(dir.path(), "verify");
    let out = loadgen(&[
        "--port",
        &redis.port.to_string(),
        "-w",
        "mixed",
        "--ratio",
        "1:2",
        "--verify",
        "-n",
        "30000",
        "--keys",
        "3000",
        "-t",
        "2",
        "-c",
        "4",
        "-P",
        "8",
        "--value-size",
        "1-300",
        "-q",
        "--json",
        json.to_str().expect("utf-8 path"),
    ]);
    assert!(out.status.success(), "{}", describe(&out));
    let report = read_json(&json);
    assert_eq!(u64_at(&report, "/totals/ops"), 30_000);
    assert_eq!(u64_at(&report, "/verify/mismatches"), 0);
    assert_eq!(u64_at(&report, "/verify/readback_mismatches"), 0);
    assert!(u64_at(&report, "/verify/checked") > 1_000);
    assert!(u64_at(&report, "/verify/readback_checked") > 2_000);
}

#[test]
fn verify_catches_lost_writes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let redis = Redis::start(dir.path(), &[]);
    let json = json_path(dir.path(), "lost");
    let child = spawn_loadgen(&[
        "--port",
        &redis.port.to_string(),
        "-w",
        "mixed",
        "--verify",
        "-d",
        "3",
        "--keys",
        "500",
        "-c",
        "4",
        "-q",
        "--json",
        json.to_str().expect("utf-8 path"),
    ]);
    let guard = ChildGuard(Some(child));
    sleep(Duration::from_millis(1500));
    let mut client = redis.client();
    assert_eq!(text(&cmd(&mut client, &["FLUSHALL"])), "OK");
    let out = guard.wait();
    assert_eq!(out.status.code(), Some(1), "{}", describe(&out));
    let report = read_json(&json);
    let mismatches = u64_at(&report, "/verify/mismatches") + u64_at(&report, "/verify/readback_mismatches");
    assert!(mismatches > 0, "{report}");
}

#[test]
fn open_loop_holds_the_rate() {
    let dir = tempfile::tempdir().expect("tempdir");
    let redis = Redis::start(dir.path(), &[]);
    let json = json_path(dir.path(), "rate");
    let out = loadgen(&[
        "--port",
        &redis.port.to_string(),
        "-w",
        "get",
        "--rate",
        "2000",
        "-d",
        "2",
        "-c",
        "4",
        "-q",
        "--json",
        json.to_str().expect("utf-8 path"),
    ]);
    assert!(out.status.success(), "{}", describe(&out));
    let ops = u64_at(&read_json(&json), "/totals/ops");
    assert!((3_600..=4_400).contains(&ops), "expected about 4000 ops, got {ops}");
}

#[test]
fn every_builtin_workload_runs() {
    let dir = tempfile::tempdir().expect("tempdir");
    let redis = Redis::start(dir.path(), &[]);
    let port = redis.port.to_string();
    for workload in ["incr", "hset", "hget", "lpush", "lpop", "zadd", "zrangebyscore", "mixed"] {
        let out = loadgen(&[
            "--port",
            &port,
            "-w",
            workload,
            "-n",
            "2000",
            "-c",
            "2",
            "-P",
            "4",
            "--key-prefix",
            &format!("{workload}:"),
            "--distribution",
            "zipf:0.9",
            "-q",
        ]);
        assert!(out.status.success(), "{workload}: {}", describe(&out));
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(stdout.contains("2000"), "{workload}: {stdout}");
    }
    let json = json_path(dir.path(), "pubsub");
    let out = loadgen(&[
        "--port",
        &port,
        "-w",
        "pubsub",
        "-d",
        "1",
        "-c",
        "2",
        "--keys",
        "10",
        "--value-size",
        "32",
        "-q",
        "--json",
        json.to_str().expect("utf-8 path"),
    ]);
    assert!(out.status.success(), "pubsub: {}", describe(&out));
    let report = read_json(&json);
    assert!(u64_at(&report, "/messages/ops") > 0, "{report}");
    assert_eq!(u64_at(&report, "/totals/errors"), 0);
}

#[test]
fn workload_file_templates() {
    let dir = tempfile::tempdir().expect("tempdir");
    let redis = Redis::start(dir.path(), &[]);
    let file = dir.path().join("workload.toml");
    std::fs::write(
        &file,
        r#"
        [[command]]
        template = "INCRBY ctr:__key__ __int__"
        weight = 3
        int_max = 10
        [[command]]
        name = "set-tagged"
        template = ["SET", "{t}__key__", "__value__"]
        "#,
    )
    .expect("write workload file");
    let json = json_path(dir.path(), "file");
    let out = loadgen(&[
        "--port",
        &redis.port.to_string(),
        "--workload-file",
        file.to_str().expect("utf-8"),
        "-n",
        "4000",
        "-c",
        "4",
        "--keys",
        "50",
        "-q",
        "--json",
        json.to_str().expect("utf-8 path"),
    ]);
    assert!(out.status.success(), "{}", describe(&out));
    let report = read_json(&json);
    assert_eq!(u64_at(&report, "/totals/ops"), 4_000);
    assert_eq!(report.pointer("/commands/1/name").and_then(|v| v.as_str()), Some("set-tagged"));
    let incrby = redis.command_calls("incrby");
    let set = redis.command_calls("set");
    assert_eq!(incrby + set, 4_000);
    assert!(incrby > 2 * set, "weights ignored: {incrby} INCRBY vs {set} SET");
}

#[test]
fn auth_is_sent_and_required() {
    let dir = tempfile::tempdir().expect("tempdir");
    let redis = Redis::start(dir.path(), &["--requirepass", "s3cret"]);
    let port = redis.port.to_string();
    let out = loadgen(&["--port", &port, "--pass", "s3cret", "-n", "1000", "-c", "2", "-q"]);
    assert!(out.status.success(), "{}", describe(&out));
    let out = loadgen(&["--port", &port, "--user", "default", "--pass", "s3cret", "-n", "10", "-q"]);
    assert!(out.status.success(), "{}", describe(&out));
    let out = loadgen(&["--port", &port, "--pass", "wrong", "-n", "10", "-q"]);
    assert_eq!(out.status.code(), Some(2), "{}", describe(&out));
}
